/* mf_parse.c — reading a model's JSON into its description (mf_meta),
 * versions 1 and 2, and counting what the description declares. Every
 * number is checked here, against the ranges each layer type declares
 * (core/registry.h), so an error can name the field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mf_impl.h"
#include "registry.h"
#include "utf8.h"

typedef struct mf_parser {
    json_ctx c;
    int nodes;     /* parsed so far, against MF_LAYERS_MAX */
    int version;   /* of the file */
} mf_parser;

/* ---- layer nodes ------------------------------------------------------ */

static int mf_name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

/* One hyper-parameter of n's type from v, or its default. */
static int mf_parse_hp(mf_node *n, int i, const cJSON *v, const char *at, mf_parser *p)
{
    const layer_ops *t = n->type;
    const layer_hparam *h = &t->hp[i];
    int flags = (h->flags & LAYER_HP_REQUIRED ? JSON_REQUIRED : 0) |
                (h->flags & LAYER_HP_LO_OPEN ? JSON_LO_OPEN : 0) |
                (h->flags & LAYER_HP_HI_OPEN ? JSON_HI_OPEN : 0);
    double def = layer_hp_default(t, i, n->hp), hi = layer_hp_hi(t, i, n->hp);
    int rc;
    if (h->kind == LAYER_HP_INT) {
        long long x = (long long)def;
        rc = json_int(v, at, h->key, (long long)h->lo, (long long)hi, flags, &x, &p->c);
        n->hp[i] = (double)x;
    } else if (h->kind == LAYER_HP_BOOL) {
        int x = (int)def;
        rc = json_bool(v, at, h->key, flags, &x, &p->c);
        n->hp[i] = x;
    } else if (h->kind == LAYER_HP_NUM) {
        n->hp[i] = def;
        rc = json_num(v, at, h->key, h->lo, hi, flags, &n->hp[i], &p->c);
    } else {
        char text[32] = "", sub[JSON_PATH_MAX], list[160] = "";
        n->hp[i] = def;
        rc = json_text(v, at, h->key, text, sizeof text, flags, &p->c);
        if (rc || !json_get(v, h->key))
            return rc;
        size_t used = 0;
        for (int c = 0; h->choices[c]; c++) {
            if (!strcmp(text, h->choices[c])) {
                n->hp[i] = c;
                return THAW_OK;
            }
            if (used < sizeof list)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "",
                                         h->choices[c]);
        }
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: \"%s\"; expected one of: %s", p->c.file,
                         json_at(sub, at, h->key), text, list);
    }
    return rc;
}

static int mf_parse_node(mf_node *n, const cJSON *v, const char *at, int root, mf_parser *p);

/* The list of nodes under key into *out, *count; names unique. */
static int mf_parse_list(mf_node **out, int *count, const cJSON *v, const char *at, const char *key,
                         mf_parser *p)
{
    char sub[JSON_PATH_MAX];
    const cJSON *list = json_get(v, key);
    json_at(sub, at, key);
    int n, rc;
    if ((rc = json_array_value(list, sub, 1, MF_LAYERS_MAX, JSON_REQUIRED, &n, &p->c)))
        return rc;
    *out = calloc((size_t)n, sizeof **out);
    if (!*out)
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    const cJSON *e = list->child;
    for (int i = 0; i < n; i++, e = e->next) {
        char el[JSON_PATH_MAX];
        json_at_index(el, sub, i);
        *count = i + 1;
        if ((rc = mf_parse_node(&(*out)[i], e, el, 0, p)))
            return rc;
        for (int j = 0; j < i; j++)
            if (!strcmp((*out)[j].name, (*out)[i].name))
                return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.name: '%s' is already the name "
                                 "of %s[%d]; expected names unique among siblings", p->c.file, el,
                                 (*out)[i].name, sub, j);
    }
    return THAW_OK;
}

static int mf_parse_side(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    const char *key = n->type->side;
    const cJSON *s = json_get(v, key);
    if (!s)
        return THAW_OK;
    char sub[JSON_PATH_MAX];
    json_at(sub, at, key);
    if (!(n->side = calloc(1, sizeof *n->side)))
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    int rc = mf_parse_node(n->side, s, sub, 0, p);
    for (int j = 0; j < n->nchild && rc == THAW_OK; j++)
        if (!strcmp(n->child[j].name, n->side->name))
            rc = thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.name: '%s' is already the name of "
                           "%s.%s[%d]; expected names unique among siblings", p->c.file, sub,
                           n->side->name, at, n->type->children, j);
    return rc;
}

static int mf_parse_node(mf_node *n, const cJSON *v, const char *at, int root, mf_parser *p)
{
    char got[64], sub[JSON_PATH_MAX];
    memset(n, 0, sizeof *n);
    if (++p->nodes > MF_LAYERS_MAX)
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: more than %d layers", p->c.file, at,
                         MF_LAYERS_MAX);
    if (!cJSON_IsObject(v))
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: expected a layer object, got %s",
                         p->c.file, at, json_describe(v, got, sizeof got));
    char tname[32] = "";
    int rc = json_text_value(json_get(v, "type"), json_at(sub, at, "type"), tname, sizeof tname,
                             JSON_REQUIRED, &p->c);
    if (rc)
        return rc;
    if (!(n->type = layer_type_find(tname))) {
        char list[256];
        layer_type_names(list, sizeof list);
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: unknown layer type; expected one of: %s",
                         p->c.file, sub, list);
    }
    const char *keys[LAYER_HP_MAX + 5] = { "name", "type" };
    int nk = 2;
    for (int i = 0; i < n->type->nhp; i++)
        keys[nk++] = n->type->hp[i].key;
    if (n->type->children)
        keys[nk++] = n->type->children;
    if (n->type->side)
        keys[nk++] = n->type->side;
    int v1 = p->version == 1 && n->type == &residual_ops;
    if (!v1 && (rc = json_keys(v, at, keys, &p->c)))
        return rc;
    if (root) {
        if (n->type != &sequential_ops)
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.type: expected \"sequential\" at "
                             "the root", p->c.file, at);
        if (json_get(v, "name"))
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.name: the root is the model and has "
                             "no name; expected no \"name\" here", p->c.file, at);
    } else {
        if ((rc = json_text(v, at, "name", n->name, sizeof n->name, JSON_REQUIRED, &p->c)))
            return rc;
        if (!mf_name_ok(n->name))
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.name: expected letters, digits and "
                             "'_' only", p->c.file, at);
    }
    if (v1)
        return mf_v1_residual(n, v, at, &p->c);
    for (int i = 0; i < n->type->nhp && rc == THAW_OK; i++)
        rc = mf_parse_hp(n, i, v, at, p);
    thaw_err why = { 0 };
    int bad = 0;
    if (rc == THAW_OK && n->type->relate && n->type->relate(n->hp, &bad, &why) != THAW_OK)
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: layer '%s' (%s): %s", p->c.file,
                         json_at(sub, at, n->type->hp[bad].key), n->name, n->type->type, why.msg);
    if (rc == THAW_OK && n->type->children)
        rc = mf_parse_list(&n->child, &n->nchild, v, at, n->type->children, p);
    if (rc == THAW_OK && n->type->side)
        rc = mf_parse_side(n, v, at, p);
    return rc;
}

void mf_node_free(mf_node *n)
{
    for (int i = 0; i < n->nchild; i++)
        mf_node_free(&n->child[i]);
    free(n->child);
    if (n->side) {
        mf_node_free(n->side);
        free(n->side);
    }
    n->child = n->side = NULL;
    n->nchild = 0;
}

/* ---- the rest of the description -------------------------------------- */

static int mf_parse_input(mf_meta *meta, const cJSON *v, const mf_parser *p)
{
    static const char *const keys[] = { "channels", "height", "width", "mean", "std", NULL };
    const char *at = "input";
    int rc;
    long long c, h, w;
    if ((rc = json_keys(v, at, keys, &p->c)) ||
        (rc = json_int(v, at, "channels", 1, MF_CHANNELS_MAX, JSON_REQUIRED, &c, &p->c)) ||
        (rc = json_int(v, at, "height", 1, MF_SIDE_MAX, JSON_REQUIRED, &h, &p->c)) ||
        (rc = json_int(v, at, "width", 1, MF_SIDE_MAX, JSON_REQUIRED, &w, &p->c)))
        return rc;
    meta->input = (shape3){ (int)c, (int)h, (int)w };
    static const struct { const char *key; double lo; int flags; } stats[] = {
        { "mean", -1e6, 0 },
        { "std", 0.0, JSON_LO_OPEN },
    };
    for (int s = 0; s < 2; s++) {
        char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
        const cJSON *arr = json_get(v, stats[s].key);
        json_at(sub, at, stats[s].key);
        int n;
        if ((rc = json_array_value(arr, sub, (int)c, (int)c, JSON_REQUIRED, &n, &p->c)))
            return rc;
        double *dst = s ? meta->std : meta->mean;
        int i = 0;
        for (const cJSON *e = arr->child; e; e = e->next, i++)
            if ((rc = json_num_value(e, json_at_index(el, sub, i), stats[s].lo, 1e6,
                                     stats[s].flags | JSON_REQUIRED, &dst[i], &p->c)))
                return rc;
    }
    /* Images in [0, 1] normalised in single precision must stay finite. */
    for (int i = 0; i < (int)c; i++) {
        float mean = (float)meta->mean[i], std = (float)meta->std[i];
        if (!(std > 0.0f) || !isfinite((0.0f - mean) / std) || !isfinite((1.0f - mean) / std) ||
            !isfinite(1.0f / (255.0f * std)))
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: input.std[%d] = %g with input.mean[%d] = "
                             "%g: the normalised pixels (x - mean) / std are not finite; expected "
                             "a std well above 0 (like 0.3)", p->c.file, i, meta->std[i], i,
                             meta->mean[i]);
    }
    return THAW_OK;
}

/* An array of lo to hi strings at `key` (at the top level), each shorter
 * than cap, into a fresh block of *n * cap bytes (*out; NULL when empty). */
static int mf_parse_texts(const cJSON *v, const char *key, int lo, int hi, int flags, size_t cap,
                          char **out, int *n, const mf_parser *p)
{
    int rc;
    if ((rc = json_array_value(v, key, lo, hi, flags, n, &p->c)) || *n == 0)
        return rc;
    if (!(*out = calloc((size_t)*n, cap)))
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    int i = 0;
    for (const cJSON *e = v->child; e && rc == THAW_OK; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        rc = json_text_value(e, json_at_index(el, key, i), *out + (size_t)i * cap, cap,
                             JSON_REQUIRED, &p->c);
    }
    return rc;
}

static int mf_parse_classes(mf_meta *meta, const cJSON *v, const mf_parser *p)
{
    int rc = mf_parse_texts(v, "classes", 1, MF_CLASSES_MAX, JSON_REQUIRED, MF_TEXT_MAX,
                            (char **)&meta->class_name, &meta->nclass, p);
    for (int i = 0; i < meta->nclass && rc == THAW_OK; i++)
        for (int j = 0; j < i; j++)
            if (!strcmp(meta->class_name[j], meta->class_name[i]))
                return thaw_fail(p->c.err, THAW_EFORMAT, "%s: classes[%d]: the same name as "
                                 "classes[%d]; expected unique class names", p->c.file, i, j);
    return rc;
}

static int mf_parse_provenance(mf_provenance *pv, const cJSON *v, const mf_parser *p)
{
    static const char *const keys[] = { "dataset", "dataset_classes", "epochs", "seed",
                                        "test_accuracy", "finetuned_from", NULL };
    const char *at = "provenance";
    long long epochs = -1;
    int rc;
    if ((rc = json_keys(v, at, keys, &p->c)) ||
        (rc = json_text(v, at, "dataset", pv->dataset, sizeof pv->dataset, 0, &p->c)) ||
        (rc = json_int(v, at, "epochs", 0, 1000000, 0, &epochs, &p->c)) ||
        (rc = json_int(v, at, "seed", 0, (1ll << 53) - 1, 0, &pv->seed, &p->c)) ||
        (rc = json_num(v, at, "test_accuracy", 0.0, 1.0, 0, &pv->test_accuracy, &p->c)) ||
        (rc = json_text(v, at, "finetuned_from", pv->finetuned_from, sizeof pv->finetuned_from,
                        JSON_NULLABLE, &p->c)))
        return rc;
    pv->epochs = (int)epochs;
    const cJSON *dc = json_get(v, "dataset_classes");
    char sub[JSON_PATH_MAX];
    json_at(sub, at, "dataset_classes");
    if ((rc = json_array_value(dc, sub, 1, MF_CLASSES_MAX, 0, &pv->ndataset_classes, &p->c)))
        return rc;
    int i = 0;
    for (const cJSON *e = dc ? dc->child : NULL; e; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        long long k;
        if ((rc = json_int_value(e, json_at_index(el, sub, i), 0, 65535, JSON_REQUIRED, &k, &p->c)))
            return rc;
        pv->dataset_classes[i] = (int)k;
    }
    return THAW_OK;
}

static int mf_path_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static int mf_parse_frozen(mf_meta *meta, const cJSON *v, const mf_parser *p)
{
    int rc = mf_parse_texts(v, "frozen", 0, MF_LAYERS_MAX, 0, LAYER_PATH_MAX,
                            (char **)&meta->frozen, &meta->nfrozen, p);
    for (int i = 0; i < meta->nfrozen && rc == THAW_OK; i++)
        if (!mf_path_ok(meta->frozen[i]))
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: frozen[%d]: expected a dotted layer path "
                             "(\"stage2.conv1\")", p->c.file, i);
    return rc;
}

int mf_weights_name_ok(const char *s)
{
    size_t n = strlen(s), ext = strlen(".safetensors");
    return n > ext && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\') &&
           !strcmp(s + n - ext, ".safetensors");
}

int mf_parse(mf_meta *meta, const char *text, size_t len, const char *file, thaw_err *err)
{
    static const char *const keys[] = { "format", "version", "weights", "input", "classes",
                                        "provenance", "architecture", "frozen", "vocabulary", NULL };
    memset(meta, 0, sizeof *meta);
    snprintf(meta->file, sizeof meta->file, "%s", file);
    meta->prov.epochs = -1;
    meta->prov.seed = -1;
    meta->prov.test_accuracy = -1;
    mf_parser p = { { file, err }, 0, 0 };
    if (len > MF_JSON_MAX)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes; expected at most %u", file, len,
                         MF_JSON_MAX);
    cJSON *root;
    int rc = json_parse(text, len, MF_DEPTH_MAX, &root, &p.c);
    if (rc)
        return rc;
    char format[32] = "";
    long long version = 0;
    if ((rc = json_keys(root, "", keys, &p.c)) ||
        (rc = json_text(root, "", "format", format, sizeof format, JSON_REQUIRED, &p.c)))
        goto done;
    if (strcmp(format, MF_FORMAT)) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: format: expected \"%s\"", file, MF_FORMAT);
        goto done;
    }
    if ((rc = json_int(root, "", "version", 1, MF_VERSION, JSON_REQUIRED, &version, &p.c)) ||
        (rc = json_text(root, "", "weights", meta->weights, sizeof meta->weights, JSON_REQUIRED,
                        &p.c)))
        goto done;
    if ((rc = json_text(root, "", "vocabulary", meta->vocab_name, sizeof meta->vocab_name, 0, &p.c)))
        goto done;
    size_t vn = strlen(meta->vocab_name);
    if (vn && (vn <= 6 || strcmp(meta->vocab_name + vn - 6, ".vocab") || meta->vocab_name[0] == '.' ||
               strchr(meta->vocab_name, '/') || strchr(meta->vocab_name, '\\'))) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: vocabulary: expected a file name ending in \".vocab\" "
                       "in the same folder (no '/', not starting with '.')", file);
        goto done;
    }
    if (!mf_weights_name_ok(meta->weights)) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: weights: expected a file name ending in "
                       "\".safetensors\" in the same folder (no '/', not starting with '.')", file);
        goto done;
    }
    const cJSON *input = json_get(root, "input"), *prov = json_get(root, "provenance"),
                *arch = json_get(root, "architecture");
    if (!input) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: input: missing; expected an object with channels, "
                       "height, width, mean and std", file);
        goto done;
    }
    if (!arch) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: architecture: missing; expected the root layer, "
                       "{\"type\": \"sequential\", \"layers\": [...]}", file);
        goto done;
    }
    if ((rc = mf_parse_input(meta, input, &p)) ||
        (rc = mf_parse_classes(meta, json_get(root, "classes"), &p)) ||
        (prov && (rc = mf_parse_provenance(&meta->prov, prov, &p))) ||
        (rc = mf_parse_frozen(meta, json_get(root, "frozen"), &p)))
        goto done;
    meta->arch = calloc(1, sizeof *meta->arch);
    if (!meta->arch) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", file);
        goto done;
    }
    p.version = meta->version = (int)version;
    if ((rc = mf_parse_node(meta->arch, arch, "architecture", 1, &p)))
        goto done;
    uint64_t floats;
    thaw_err detail = { 0 };
    if ((rc = mf_param_count(meta->arch, &floats, &detail)))
        thaw_fail(err, rc, "%s: architecture: %s", file, detail.msg);
done:
    cJSON_Delete(root);
    if (rc)
        mf_meta_free(meta);
    return rc;
}

void mf_meta_free(mf_meta *meta)
{
    if (meta->arch) {
        mf_node_free(meta->arch);
        free(meta->arch);
    }
    free(meta->class_name);
    free(meta->frozen);
    free(meta->vocab);
    memset(meta, 0, sizeof *meta);
}

int mf_vocab_check(const char *text, size_t len, const char *file, int *words, thaw_err *err)
{
    int n = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len, wl = end - i;
        n++;
        if (wl == 0 || wl > MF_WORD_MAX || utf8_bad_byte(text + i, wl) != wl)
            return thaw_fail(err, THAW_EFORMAT, "%s: line %d: expected a word of 1 to %d bytes of "
                             "printable UTF-8", file, n, MF_WORD_MAX);
        if ((n == 1 && (wl != 5 || memcmp(text + i, "<pad>", 5))) ||
            (n == 2 && (wl != 5 || memcmp(text + i, "<unk>", 5))))
            return thaw_fail(err, THAW_EFORMAT, "%s: line %d: expected \"%s\" (the %s)", file, n,
                             n == 1 ? "<pad>" : "<unk>", n == 1 ? "padding id 0" : "unknown word, id 1");
        if (n > (1 << 24))
            return thaw_fail(err, THAW_EFORMAT, "%s: more than %d words", file, 1 << 24);
        i = end + 1;
    }
    if (n < 2)
        return thaw_fail(err, THAW_EFORMAT, "%s: %d lines; expected \"<pad>\", \"<unk>\" and the "
                         "words", file, n);
    *words = n;
    return THAW_OK;
}

/* ---- sizes ------------------------------------------------------------ */

/* Adds the parameters and statistics under n to *out; 1 when the sum
 * passes MF_PARAMS_MAX. */
static int mf_count_node(const mf_node *n, double *out)
{
    if (n->type->count)
        *out += n->type->count(n->hp);
    for (int i = 0; i < n->nchild && *out <= MF_PARAMS_MAX; i++)
        mf_count_node(&n->child[i], out);
    if (n->side && *out <= MF_PARAMS_MAX)
        mf_count_node(n->side, out);
    return *out > MF_PARAMS_MAX;
}

int mf_param_count(const mf_node *root, uint64_t *n, thaw_err *err)
{
    double sum = 0;
    *n = 0;
    if (mf_count_node(root, &sum))
        return thaw_fail(err, THAW_EFORMAT, "more than %llu parameters; expected at most that many",
                         (unsigned long long)MF_PARAMS_MAX);
    *n = (uint64_t)sum;
    return THAW_OK;
}
