/* mf_print.c — a model's description as JSON (version 2), and the
 * description of the reference architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mf_impl.h"
#include "registry.h"

static int mf_put(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL;
}

/* 1 when every trainable kind of parameter under l is frozen (and there is
 * one), 0 when some trains, -1 when l has no parameters. */
static int mf_frozen_state(const model *m, const layer *l)
{
    int state = -1;
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++) {
        if (m->slice[s].kind == PARAM_STAT)
            continue;
        if (!m->slice[s].frozen)
            return 0;
        state = 1;
    }
    for (int i = 0; i < l->nchild; i++) {
        int c = mf_frozen_state(m, l->child[i]);
        if (c == 0)
            return 0;
        if (c == 1)
            state = 1;
    }
    return state;
}

/* The highest layers under l whose parameters are all frozen, by path. */
static int mf_print_frozen(cJSON *list, const model *m, const layer *l)
{
    if (l != m->root && mf_frozen_state(m, l) == 1)
        return cJSON_AddItemToArray(list, cJSON_CreateString(l->path));
    for (int i = 0; i < l->nchild; i++)
        if (!mf_print_frozen(list, m, l->child[i]))
            return 0;
    return 1;
}

/* Adds item under key, or frees it: cJSON keeps an item only when the add
 * succeeds. */
static int mf_add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return 0;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return 0;
    }
    return 1;
}

/* n's hyper-parameters, as its type declares them; a quiet one only when it
 * is not at its default. */
static int mf_print_hp(const mf_node *n, cJSON *o)
{
    int ok = 1;
    for (int i = 0; i < n->type->nhp && ok; i++) {
        const layer_hparam *h = &n->type->hp[i];
        if ((h->flags & LAYER_HP_QUIET) && n->hp[i] == layer_hp_default(n->type, i, n->hp))
            continue;
        if (h->kind == LAYER_HP_BOOL)
            ok = cJSON_AddBoolToObject(o, h->key, n->hp[i] != 0) != NULL;
        else if (h->kind == LAYER_HP_CHOICE)
            ok = cJSON_AddStringToObject(o, h->key, h->choices[(int)n->hp[i]]) != NULL;
        else
            ok = mf_put(o, h->key, n->hp[i]);
    }
    return ok;
}

static cJSON *mf_print_node(const mf_node *n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = (!n->name[0] || cJSON_AddStringToObject(o, "name", n->name)) &&
             cJSON_AddStringToObject(o, "type", n->type->type) && mf_print_hp(n, o);
    if (ok && n->type->children) {
        cJSON *list = cJSON_AddArrayToObject(o, n->type->children);
        ok = list != NULL;
        for (int i = 0; i < n->nchild && ok; i++) {
            cJSON *c = mf_print_node(&n->child[i]);
            ok = c && cJSON_AddItemToArray(list, c);
        }
    }
    if (ok && n->side) {
        ok = mf_add_item(o, n->type->side, mf_print_node(n->side));
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int mf_print(const mf_meta *meta, const model *m, const char *weights, char **out, size_t *len,
             thaw_err *err)
{
    const mf_provenance *pv = &meta->prov;
    cJSON *root = cJSON_CreateObject(), *input = NULL, *prov = NULL;
    int ok = root && cJSON_AddStringToObject(root, "format", MF_FORMAT) &&
             mf_put(root, "version", MF_VERSION) &&
             cJSON_AddStringToObject(root, "weights", weights) &&
             (input = cJSON_AddObjectToObject(root, "input")) &&
             mf_put(input, "channels", meta->input.c) && mf_put(input, "height", meta->input.h) &&
             mf_put(input, "width", meta->input.w) &&
             mf_add_item(input, "mean", cJSON_CreateDoubleArray(meta->mean, meta->input.c)) &&
             mf_add_item(input, "std", cJSON_CreateDoubleArray(meta->std, meta->input.c));
    if (ok && meta->vocab_name[0])
        ok = cJSON_AddStringToObject(root, "vocabulary", meta->vocab_name) != NULL;
    cJSON *classes = ok ? cJSON_AddArrayToObject(root, "classes") : NULL;
    ok = classes != NULL;
    for (int i = 0; i < meta->nclass && ok; i++)
        ok = cJSON_AddItemToArray(classes, cJSON_CreateString(meta->class_name[i]));
    int any = pv->dataset[0] || pv->ndataset_classes || pv->epochs >= 0 || pv->seed >= 0 ||
              pv->test_accuracy >= 0 || pv->finetuned_from[0];
    if (ok && any) {
        ok = (prov = cJSON_AddObjectToObject(root, "provenance")) &&
             (!pv->dataset[0] || cJSON_AddStringToObject(prov, "dataset", pv->dataset)) &&
             (!pv->ndataset_classes ||
              mf_add_item(prov, "dataset_classes",
                     cJSON_CreateIntArray(pv->dataset_classes, pv->ndataset_classes))) &&
             (pv->epochs < 0 || mf_put(prov, "epochs", pv->epochs)) &&
             (pv->seed < 0 || mf_put(prov, "seed", (double)pv->seed)) &&
             (pv->test_accuracy < 0 || mf_put(prov, "test_accuracy", pv->test_accuracy)) &&
             (pv->finetuned_from[0] ? cJSON_AddStringToObject(prov, "finetuned_from", pv->finetuned_from) != NULL
                                    : cJSON_AddNullToObject(prov, "finetuned_from") != NULL);
    }
    cJSON *frozen = ok ? cJSON_CreateArray() : NULL;
    ok = frozen != NULL;
    if (ok && m)
        ok = mf_print_frozen(frozen, m, m->root);
    for (int i = 0; i < meta->nfrozen && ok && !m; i++)
        ok = cJSON_AddItemToArray(frozen, cJSON_CreateString(meta->frozen[i]));
    if (frozen && (!ok || !frozen->child)) {
        cJSON_Delete(frozen);
    } else if (frozen && !cJSON_AddItemToObject(root, "frozen", frozen)) {
        cJSON_Delete(frozen);
        ok = 0;
    }
    cJSON *arch = ok ? mf_print_node(meta->arch) : NULL;
    if (arch && !cJSON_AddItemToObject(root, "architecture", arch)) {
        cJSON_Delete(arch);
        arch = NULL;
    }
    ok = arch != NULL;
    int rc = ok ? json_print(root, out, len, err)
                : thaw_fail(err, THAW_ENOMEM, "out of memory writing a model's JSON");
    cJSON_Delete(root);
    return rc;
}

/* A basic block of the reference architecture as version 2 writes it. */
static size_t mf_reference_block(char *out, size_t cap, const char *name, int cin, int cout,
                                 int stride)
{
    const char *conv = "{\"name\": \"%s\", \"type\": \"conv2d\", \"in_channels\": %d, "
                       "\"out_channels\": %d, \"kernel_size\": %d, \"stride\": %d, "
                       "\"padding\": %d, \"bias\": false}";
    const char *bn = "{\"name\": \"%s\", \"type\": \"batchnorm2d\", \"num_features\": %d}";
    size_t n = (size_t)snprintf(out, cap, "  {\"name\": \"%s\", \"type\": \"residual\", "
                                "\"activation\": \"relu\", \"body\": [\n    ", name);
    n += (size_t)snprintf(out + n, cap - n, conv, "conv1", cin, cout, 3, stride, 1);
    n += (size_t)snprintf(out + n, cap - n, ",\n    ");
    n += (size_t)snprintf(out + n, cap - n, bn, "bn1", cout);
    n += (size_t)snprintf(out + n, cap - n, ",\n    {\"name\": \"relu\", \"type\": \"relu\"},\n    ");
    n += (size_t)snprintf(out + n, cap - n, conv, "conv2", cout, cout, 3, 1, 1);
    n += (size_t)snprintf(out + n, cap - n, ",\n    ");
    n += (size_t)snprintf(out + n, cap - n, bn, "bn2", cout);
    n += (size_t)snprintf(out + n, cap - n, "]");
    if (stride != 1 || cin != cout) {
        n += (size_t)snprintf(out + n, cap - n, ",\n   \"shortcut\": {\"name\": \"proj\", "
                              "\"type\": \"sequential\", \"layers\": [\n    ");
        n += (size_t)snprintf(out + n, cap - n, conv, "0", cin, cout, 1, stride, 0);
        n += (size_t)snprintf(out + n, cap - n, ",\n    ");
        n += (size_t)snprintf(out + n, cap - n, bn, "1", cout);
        n += (size_t)snprintf(out + n, cap - n, "]}");
    }
    return n + (size_t)snprintf(out + n, cap - n, "},\n");
}

int mf_meta_reference(mf_meta *meta, shape3 input, int classes, thaw_err *err)
{
    static const struct { const char *name; int cin, cout, stride; } stage[] = {
        { "stage1", 32, 32, 1 },
        { "stage2", 32, 64, 2 },
        { "stage3", 64, 128, 2 },
    };
    memset(meta, 0, sizeof *meta);
    if (input.c < 1 || input.c > MF_CHANNELS_MAX || classes < 1 || classes > MF_CLASSES_MAX)
        return thaw_fail(err, THAW_EINVAL, "reference model: %d channels, %d classes; expected "
                         "1 to %d and 1 to %d", input.c, classes, MF_CHANNELS_MAX, MF_CLASSES_MAX);
    size_t cap = 8192 + (size_t)classes * 8 + (size_t)input.c * 16;
    char *text = malloc(cap);
    if (!text)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    size_t n = (size_t)snprintf(text, cap,
        "{\"format\": \"%s\", \"version\": %d, \"weights\": \"reference.safetensors\",\n"
        " \"input\": {\"channels\": %d, \"height\": %d, \"width\": %d, \"mean\": [",
        MF_FORMAT, MF_VERSION, input.c, input.h, input.w);
    for (int i = 0; i < input.c; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s0", i ? ", " : "");
    n += (size_t)snprintf(text + n, cap - n, "], \"std\": [");
    for (int i = 0; i < input.c; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s1", i ? ", " : "");
    n += (size_t)snprintf(text + n, cap - n, "]},\n \"classes\": [");
    for (int i = 0; i < classes; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s\"%d\"", i ? ", " : "", i);
    n += (size_t)snprintf(text + n, cap - n,
        "],\n \"architecture\": {\"type\": \"sequential\", \"layers\": [\n"
        "  {\"name\": \"stem\", \"type\": \"sequential\", \"layers\": [\n"
        "    {\"name\": \"0\", \"type\": \"conv2d\", \"in_channels\": %d, \"out_channels\": 32,"
        " \"kernel_size\": 3, \"padding\": 1, \"bias\": false},\n"
        "    {\"name\": \"1\", \"type\": \"batchnorm2d\", \"num_features\": 32},\n"
        "    {\"name\": \"2\", \"type\": \"relu\"}]},\n", input.c);
    for (size_t i = 0; i < sizeof stage / sizeof stage[0]; i++)
        n += mf_reference_block(text + n, cap - n, stage[i].name, stage[i].cin, stage[i].cout,
                                stage[i].stride);
    n += (size_t)snprintf(text + n, cap - n,
        "  {\"name\": \"pool\", \"type\": \"avgpool\"},\n"
        "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 128, \"out_features\": %d}]}}\n",
        classes);
    int rc = mf_parse(meta, text, n, "reference model", err);
    free(text);
    return rc;
}

layer *mf_reference_net(int in_channels, int classes, thaw_err *err)
{
    mf_meta meta;
    if (mf_meta_reference(&meta, (shape3){ in_channels, 1, 1 }, classes, err))
        return NULL;
    layer *root = mf_build_layers(meta.arch, err);
    mf_meta_free(&meta);
    return root;
}
