/* modelfile.c — parsing, building, loading and saving thaw model files; the
 * format is described in modelfile.h. Every number from the JSON is checked
 * here, before a constructor sees it, so an error can name the field. */
#include "modelfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "json.h"
#include "safetensors.h"

typedef struct mf_parser {
    json_ctx c;
    int nodes;     /* parsed so far, against MF_LAYERS_MAX */
} mf_parser;

/* ---- one entry per layer type ----------------------------------------- */

#define MF_COMMON_KEYS "name", "type"

static int mf_int(const cJSON *v, const char *at, const char *key, long long lo, long long hi,
                  int flags, int *out, const mf_parser *p)
{
    long long x = *out;
    int rc = json_int(v, at, key, lo, hi, flags, &x, &p->c);
    *out = (int)x;
    return rc;
}

static int mf_parse_sequential(mf_node *n, const cJSON *v, const char *at, mf_parser *p);

static int mf_parse_residual(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    n->stride = 1;
    int rc;
    if ((rc = mf_int(v, at, "in_channels", 1, MF_WIDTH_MAX, JSON_REQUIRED, &n->in, p)) ||
        (rc = mf_int(v, at, "out_channels", 1, MF_WIDTH_MAX, JSON_REQUIRED, &n->out, p)) ||
        (rc = mf_int(v, at, "stride", 1, MF_KERNEL_MAX, 0, &n->stride, p)))
        return rc;
    int needed = n->stride != 1 || n->in != n->out;
    n->flag = needed;
    if ((rc = json_bool(v, at, "projection", 0, &n->flag, &p->c)))
        return rc;
    if (needed && !n->flag) {
        char sub[JSON_PATH_MAX];
        return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: false, but going from %d to %d channels "
                         "with stride %d needs a projection; expected true", p->c.file,
                         json_at(sub, at, "projection"), n->in, n->out, n->stride);
    }
    return THAW_OK;
}

static int mf_parse_conv2d(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    n->stride = 1, n->pad = 0, n->flag = 1;
    int rc;
    if ((rc = mf_int(v, at, "in_channels", 1, MF_WIDTH_MAX, JSON_REQUIRED, &n->in, p)) ||
        (rc = mf_int(v, at, "out_channels", 1, MF_WIDTH_MAX, JSON_REQUIRED, &n->out, p)) ||
        (rc = mf_int(v, at, "kernel_size", 1, MF_KERNEL_MAX, JSON_REQUIRED, &n->kernel, p)) ||
        (rc = mf_int(v, at, "stride", 1, MF_KERNEL_MAX, 0, &n->stride, p)) ||
        (rc = mf_int(v, at, "padding", 0, MF_KERNEL_MAX, 0, &n->pad, p)))
        return rc;
    return json_bool(v, at, "bias", 0, &n->flag, &p->c);
}

static int mf_parse_batchnorm2d(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    n->eps = 1e-5, n->momentum = 0.1;
    int rc;
    if ((rc = mf_int(v, at, "num_features", 1, MF_WIDTH_MAX, JSON_REQUIRED, &n->out, p)) ||
        (rc = json_num(v, at, "eps", 1e-12, 1.0, 0, &n->eps, &p->c)))
        return rc;
    n->in = n->out;
    return json_num(v, at, "momentum", 0.0, 1.0, 0, &n->momentum, &p->c);
}

static int mf_parse_maxpool2d(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    int rc;
    if ((rc = mf_int(v, at, "kernel_size", 1, MF_KERNEL_MAX, JSON_REQUIRED, &n->kernel, p)))
        return rc;
    n->stride = n->kernel, n->pad = 0;
    if ((rc = mf_int(v, at, "stride", 1, MF_KERNEL_MAX, 0, &n->stride, p)))
        return rc;
    /* PyTorch's rule: padding at most half the window. */
    return mf_int(v, at, "padding", 0, n->kernel / 2, 0, &n->pad, p);
}

static int mf_parse_linear(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    n->flag = 1;
    int rc;
    if ((rc = mf_int(v, at, "in_features", 1, MF_FEATURES_MAX, JSON_REQUIRED, &n->in, p)) ||
        (rc = mf_int(v, at, "out_features", 1, MF_FEATURES_MAX, JSON_REQUIRED, &n->out, p)))
        return rc;
    return json_bool(v, at, "bias", 0, &n->flag, &p->c);
}

static int mf_parse_dropout(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    n->p = 0.5;
    return json_num(v, at, "p", 0.0, 1.0, JSON_HI_OPEN, &n->p, &p->c);
}

static int mf_parse_nothing(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    (void)n, (void)v, (void)at, (void)p;
    return THAW_OK;
}

/* Hyper-parameters into a JSON object, for saving. */
static int mf_put(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL;
}

static int mf_put_bool(cJSON *o, const char *key, int v)
{
    return cJSON_AddBoolToObject(o, key, v) != NULL;
}

static int mf_write_residual(const mf_node *n, cJSON *o)
{
    return mf_put(o, "in_channels", n->in) && mf_put(o, "out_channels", n->out) &&
           mf_put(o, "stride", n->stride) && mf_put_bool(o, "projection", n->flag);
}

static int mf_write_conv2d(const mf_node *n, cJSON *o)
{
    return mf_put(o, "in_channels", n->in) && mf_put(o, "out_channels", n->out) &&
           mf_put(o, "kernel_size", n->kernel) && mf_put(o, "stride", n->stride) &&
           mf_put(o, "padding", n->pad) && mf_put_bool(o, "bias", n->flag);
}

static int mf_write_batchnorm2d(const mf_node *n, cJSON *o)
{
    return mf_put(o, "num_features", n->out) && mf_put(o, "eps", n->eps) &&
           mf_put(o, "momentum", n->momentum);
}

static int mf_write_maxpool2d(const mf_node *n, cJSON *o)
{
    return mf_put(o, "kernel_size", n->kernel) && mf_put(o, "stride", n->stride) &&
           mf_put(o, "padding", n->pad);
}

static int mf_write_linear(const mf_node *n, cJSON *o)
{
    return mf_put(o, "in_features", n->in) && mf_put(o, "out_features", n->out) &&
           mf_put_bool(o, "bias", n->flag);
}

static int mf_write_dropout(const mf_node *n, cJSON *o)
{
    return mf_put(o, "p", n->p);
}

static int mf_write_nothing(const mf_node *n, cJSON *o)
{
    (void)n, (void)o;
    return 1;
}

static layer *mf_build_residual(const mf_node *n, thaw_err *err)
{
    return residual_new(n->name, n->in, n->out, n->stride, n->flag, err);
}

static layer *mf_build_conv2d(const mf_node *n, thaw_err *err)
{
    (void)err;
    return conv2d_new(n->name, n->in, n->out, n->kernel, n->stride, n->pad, n->flag);
}

static layer *mf_build_batchnorm2d(const mf_node *n, thaw_err *err)
{
    (void)err;
    return batchnorm2d_new(n->name, n->out, (float)n->eps, (float)n->momentum);
}

static layer *mf_build_relu(const mf_node *n, thaw_err *err)
{
    (void)err;
    return relu_new(n->name);
}

static layer *mf_build_maxpool2d(const mf_node *n, thaw_err *err)
{
    (void)err;
    return maxpool2d_new(n->name, n->kernel, n->stride, n->pad);
}

static layer *mf_build_avgpool(const mf_node *n, thaw_err *err)
{
    (void)err;
    return avgpool_new(n->name);
}

static layer *mf_build_linear(const mf_node *n, thaw_err *err)
{
    (void)err;
    return linear_new(n->name, n->in, n->out, n->flag);
}

static layer *mf_build_dropout(const mf_node *n, thaw_err *err)
{
    (void)err;
    return dropout_new(n->name, (float)n->p);
}

static layer *mf_build_flatten(const mf_node *n, thaw_err *err)
{
    (void)err;
    return flatten_new(n->name);
}

static layer *mf_build_sequential(const mf_node *n, thaw_err *err);

typedef struct mf_type_desc {
    const char *name;
    const char *const *keys;            /* NULL-terminated, common keys included */
    int (*parse)(mf_node *n, const cJSON *v, const char *at, mf_parser *p);
    int (*write)(const mf_node *n, cJSON *o);
    layer *(*build)(const mf_node *n, thaw_err *err);
} mf_type_desc;

#define MF_KEYS(...) (const char *const[]){ MF_COMMON_KEYS, __VA_ARGS__, NULL }

static const mf_type_desc mf_types[] = {
    [MF_SEQUENTIAL] = { "sequential", MF_KEYS("layers"), mf_parse_sequential, mf_write_nothing,
                        mf_build_sequential },
    [MF_RESIDUAL] = { "residual", MF_KEYS("in_channels", "out_channels", "stride", "projection"),
                      mf_parse_residual, mf_write_residual, mf_build_residual },
    [MF_CONV2D] = { "conv2d", MF_KEYS("in_channels", "out_channels", "kernel_size", "stride",
                                      "padding", "bias"),
                    mf_parse_conv2d, mf_write_conv2d, mf_build_conv2d },
    [MF_BATCHNORM2D] = { "batchnorm2d", MF_KEYS("num_features", "eps", "momentum"),
                         mf_parse_batchnorm2d, mf_write_batchnorm2d, mf_build_batchnorm2d },
    [MF_RELU] = { "relu", MF_KEYS(NULL), mf_parse_nothing, mf_write_nothing, mf_build_relu },
    [MF_MAXPOOL2D] = { "maxpool2d", MF_KEYS("kernel_size", "stride", "padding"),
                       mf_parse_maxpool2d, mf_write_maxpool2d, mf_build_maxpool2d },
    [MF_AVGPOOL] = { "avgpool", MF_KEYS(NULL), mf_parse_nothing, mf_write_nothing,
                     mf_build_avgpool },
    [MF_LINEAR] = { "linear", MF_KEYS("in_features", "out_features", "bias"), mf_parse_linear,
                    mf_write_linear, mf_build_linear },
    [MF_DROPOUT] = { "dropout", MF_KEYS("p"), mf_parse_dropout, mf_write_dropout,
                     mf_build_dropout },
    [MF_FLATTEN] = { "flatten", MF_KEYS(NULL), mf_parse_nothing, mf_write_nothing,
                     mf_build_flatten },
};

_Static_assert(sizeof mf_types / sizeof mf_types[0] == MF_TYPE_COUNT,
               "every layer type has a parser, a writer and a builder");

const char *mf_type_name(int type)
{
    return type >= 0 && type < MF_TYPE_COUNT ? mf_types[type].name : "?";
}

/* ---- parsing ---------------------------------------------------------- */

static void mf_node_free(mf_node *n)
{
    for (int i = 0; i < n->nchild; i++)
        mf_node_free(&n->child[i]);
    free(n->child);
    n->child = NULL;
    n->nchild = 0;
}

static int mf_name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
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
    const cJSON *type = json_get(v, "type");
    char tname[32] = "";
    int rc = json_text_value(type, json_at(sub, at, "type"), tname, sizeof tname, JSON_REQUIRED,
                             &p->c);
    n->type = -1;
    for (int t = 0; t < MF_TYPE_COUNT && rc == THAW_OK; t++)
        if (!strcmp(tname, mf_types[t].name))
            n->type = t;
    if (rc == THAW_OK && n->type < 0) {
        char list[160] = "";
        size_t used = 0;
        for (int t = 0; t < MF_TYPE_COUNT && used < sizeof list; t++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", t ? ", " : "",
                                     mf_types[t].name);
        rc = thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: unknown layer type; expected one of: %s",
                       p->c.file, sub, list);
    }
    if (rc)
        return rc;
    if ((rc = json_keys(v, at, mf_types[n->type].keys, &p->c)))
        return rc;
    if (root) {
        if (n->type != MF_SEQUENTIAL)
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
    return mf_types[n->type].parse(n, v, at, p);
}

static int mf_parse_sequential(mf_node *n, const cJSON *v, const char *at, mf_parser *p)
{
    char sub[JSON_PATH_MAX];
    const cJSON *layers = json_get(v, "layers");
    json_at(sub, at, "layers");
    int count, rc;
    if ((rc = json_array_value(layers, sub, 1, MF_LAYERS_MAX, JSON_REQUIRED, &count, &p->c)))
        return rc;
    n->child = calloc((size_t)count, sizeof *n->child);
    if (!n->child)
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    const cJSON *e = layers->child;
    for (int i = 0; i < count; i++, e = e->next) {
        char el[JSON_PATH_MAX];
        json_at_index(el, sub, i);
        n->nchild = i + 1;
        if ((rc = mf_parse_node(&n->child[i], e, el, 0, p)))
            return rc;
        for (int j = 0; j < i; j++)
            if (!strcmp(n->child[j].name, n->child[i].name))
                return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s.name: '%s' is already the name "
                                 "of %s[%d]; expected names unique among siblings", p->c.file, el,
                                 n->child[i].name, sub, j);
    }
    return THAW_OK;
}

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
    return THAW_OK;
}

static int mf_parse_classes(mf_meta *meta, const cJSON *v, const mf_parser *p)
{
    int n, rc;
    if ((rc = json_array_value(v, "classes", 1, MF_CLASSES_MAX, JSON_REQUIRED, &n, &p->c)))
        return rc;
    meta->class_name = calloc((size_t)n, sizeof *meta->class_name);
    if (!meta->class_name)
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    meta->nclass = n;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        if ((rc = json_text_value(e, json_at_index(el, "classes", i), meta->class_name[i],
                                  MF_TEXT_MAX, JSON_REQUIRED, &p->c)))
            return rc;
        for (int j = 0; j < i; j++)
            if (!strcmp(meta->class_name[j], meta->class_name[i]))
                return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: the same name as classes[%d]; "
                                 "expected unique class names", p->c.file, el, j);
    }
    return THAW_OK;
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
    int n, rc;
    if ((rc = json_array_value(v, "frozen", 0, MF_LAYERS_MAX, 0, &n, &p->c)) || n == 0)
        return rc;
    meta->frozen = calloc((size_t)n, sizeof *meta->frozen);
    if (!meta->frozen)
        return thaw_fail(p->c.err, THAW_ENOMEM, "%s: out of memory", p->c.file);
    meta->nfrozen = n;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        if ((rc = json_text_value(e, json_at_index(el, "frozen", i), meta->frozen[i],
                                  LAYER_PATH_MAX, JSON_REQUIRED, &p->c)))
            return rc;
        if (!mf_path_ok(meta->frozen[i]))
            return thaw_fail(p->c.err, THAW_EFORMAT, "%s: %s: expected a dotted layer path "
                             "(\"stage2.conv1\")", p->c.file, el);
    }
    return THAW_OK;
}

/* A plain file name ending in ".safetensors": never a path, so a model file
 * cannot point thaw at a file outside its own folder. */
static int mf_weights_name_ok(const char *s)
{
    size_t n = strlen(s), ext = strlen(".safetensors");
    return n > ext && s[0] != '.' && !strchr(s, '/') && !strchr(s, '\\') &&
           !strcmp(s + n - ext, ".safetensors");
}

int mf_parse(mf_meta *meta, const char *text, size_t len, const char *file, thaw_err *err)
{
    static const char *const keys[] = { "format", "version", "weights", "input", "classes",
                                        "provenance", "architecture", "frozen", NULL };
    memset(meta, 0, sizeof *meta);
    snprintf(meta->file, sizeof meta->file, "%s", file);
    meta->prov.epochs = -1;
    meta->prov.seed = -1;
    meta->prov.test_accuracy = -1;
    mf_parser p = { { file, err }, 0 };
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
    if ((rc = json_int(root, "", "version", MF_VERSION, MF_VERSION, JSON_REQUIRED, &version, &p.c)) ||
        (rc = json_text(root, "", "weights", meta->weights, sizeof meta->weights, JSON_REQUIRED,
                        &p.c)))
        goto done;
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
    memset(meta, 0, sizeof *meta);
}

/* ---- sizes ------------------------------------------------------------ */

static int mf_add(uint64_t *sum, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t t;
    return __builtin_mul_overflow(a, b, &t) || __builtin_mul_overflow(t, c, &t) ||
           __builtin_add_overflow(*sum, t, sum);
}

/* Adds the parameters and statistics under n to *out; 1 when the sum
 * passes MF_PARAMS_MAX or overflows. */
static int mf_count_node(const mf_node *n, uint64_t *out)
{
    uint64_t in = (uint64_t)n->in, o = (uint64_t)n->out, k = (uint64_t)n->kernel;
    int bad = 0;
    switch (n->type) {
    case MF_SEQUENTIAL:
        for (int i = 0; i < n->nchild && !bad; i++)
            bad = mf_count_node(&n->child[i], out);
        break;
    case MF_RESIDUAL:
        bad = mf_add(out, o, in, 9) || mf_add(out, o, o, 9) || mf_add(out, 8, o, 1) ||
              (n->flag && (mf_add(out, o, in, 1) || mf_add(out, 4, o, 1)));
        break;
    case MF_CONV2D:
        bad = mf_add(out, o, in, k * k) || (n->flag && mf_add(out, o, 1, 1));
        break;
    case MF_BATCHNORM2D:
        bad = mf_add(out, 4, o, 1);
        break;
    case MF_LINEAR:
        bad = mf_add(out, o, in, 1) || (n->flag && mf_add(out, o, 1, 1));
        break;
    default:
        break;
    }
    return bad || *out > MF_PARAMS_MAX;
}

int mf_param_count(const mf_node *root, uint64_t *n, thaw_err *err)
{
    *n = 0;
    if (mf_count_node(root, n))
        return thaw_fail(err, THAW_EFORMAT, "more than %llu parameters; expected at most that many",
                         (unsigned long long)MF_PARAMS_MAX);
    return THAW_OK;
}

/* ---- building --------------------------------------------------------- */

static layer *mf_build_node(const mf_node *n, thaw_err *err)
{
    return mf_types[n->type].build(n, err);
}

static layer *mf_build_sequential(const mf_node *n, thaw_err *err)
{
    layer *l = sequential_new(n->name[0] ? n->name : "model");
    if (!l)
        return NULL;
    for (int i = 0; i < n->nchild; i++)
        if (layer_add(l, mf_build_node(&n->child[i], err), err) != THAW_OK) {
            layer_free(l);
            return NULL;
        }
    return l;
}

int mf_build(model *m, const mf_meta *meta, unsigned long long seed, thaw_err *err)
{
    memset(m, 0, sizeof *m);
    uint64_t floats;
    thaw_err detail = { 0 };
    if (mf_param_count(meta->arch, &floats, &detail) != THAW_OK)
        return thaw_fail(err, THAW_EFORMAT, "%s: architecture: %s", meta->file, detail.msg);
    layer *root = mf_build_node(meta->arch, &detail);
    if (!root)
        return thaw_fail(err, detail.code ? detail.code : THAW_ENOMEM, "%s: %s", meta->file,
                         detail.code ? detail.msg : "out of memory building the model");
    int rc = model_build(m, root, meta->input, seed, &detail);
    if (rc)
        return thaw_fail(err, rc, "%s: architecture: %s", meta->file, detail.msg);
    if (m->classes != meta->nclass) {
        rc = thaw_fail(err, THAW_ESHAPE, "%s: classes: %d names, but the architecture ends with "
                       "%d outputs; expected one name per output", meta->file, meta->nclass,
                       m->classes);
        model_free(m);
        return rc;
    }
    for (int i = 0; i < meta->nfrozen; i++) {
        layer *l = model_find(m, meta->frozen[i]);
        if (!l) {
            rc = thaw_fail(err, THAW_EFORMAT, "%s: frozen[%d]: the architecture has no layer '%s'",
                           meta->file, i, meta->frozen[i]);
            model_free(m);
            return rc;
        }
        model_freeze(m, l, 1);
    }
    return THAW_OK;
}

const mf_node *mf_head(const mf_node *root)
{
    const mf_node *last = NULL;
    if (root->type == MF_SEQUENTIAL) {
        for (int i = root->nchild - 1; i >= 0 && !last; i--)
            last = mf_head(&root->child[i]);
        return last;
    }
    int has_params = root->type == MF_CONV2D || root->type == MF_BATCHNORM2D ||
                     root->type == MF_LINEAR || root->type == MF_RESIDUAL;
    return has_params ? root : NULL;
}

/* ---- weights ---------------------------------------------------------- */

static void mf_shape_text(char *out, size_t cap, int ndim, const uint64_t *dim)
{
    size_t used = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dim[i]);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
}

/* Calls fn on every BatchNorm layer under l. */
static int mf_each_bn(layer *l, int (*fn)(layer *bn, void *ctx), void *ctx)
{
    if (layer_is_batchnorm(l))
        return fn(l, ctx);
    for (int i = 0; i < l->nchild; i++) {
        int rc = mf_each_bn(l->child[i], fn, ctx);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

typedef struct mf_tracked_ctx {
    const st_file *f;
    const char *file;
    thaw_err *err;
    int found;        /* tracked tensors present */
    int apply;        /* second pass: set the counts */
} mf_tracked_ctx;

static int mf_tracked(layer *bn, void *ctx)
{
    mf_tracked_ctx *c = ctx;
    char name[ST_NAME_MAX];
    snprintf(name, sizeof name, "%s.num_batches_tracked", bn->path);
    const st_tensor *t = st_find(c->f, name);
    if (!t)
        return THAW_OK;
    c->found++;
    char shape[96];
    mf_shape_text(shape, sizeof shape, t->ndim, t->dim);
    if (t->dtype != ST_I64 || t->ndim != 0)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': %s %s; expected an I64 scalar (shape [])",
                         c->file, name, st_dtype_name(t->dtype), shape);
    int64_t v;
    st_get_i64(c->f, t, &v);
    if (v < 0)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': %lld; expected a count of at least 0",
                         c->file, name, (long long)v);
    if (c->apply)
        batchnorm2d_set_tracked(bn, v);
    return THAW_OK;
}

int mf_set_weights(model *m, const st_file *f, const char *file, thaw_err *err)
{
    size_t longest = 0;
    for (int s = 0; s < m->nslice; s++)
        longest = m->slice[s].len > longest ? m->slice[s].len : longest;
    float *tmp = malloc((longest ? longest : 1) * sizeof *tmp);
    if (!tmp)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory", file);
    int rc = THAW_OK;
    /* Pass 1 checks every tensor; pass 2 copies. */
    for (int pass = 0; pass < 2 && rc == THAW_OK; pass++) {
        for (int s = 0; s < m->nslice && rc == THAW_OK; s++) {
            const param_slice *ps = &m->slice[s];
            const st_tensor *t = st_find(f, ps->name);
            uint64_t want[PARAM_MAX_DIMS];
            for (int d = 0; d < ps->ndim; d++)
                want[d] = (uint64_t)ps->dim[d];
            char wshape[96], gshape[96];
            mf_shape_text(wshape, sizeof wshape, ps->ndim, want);
            if (!t) {
                rc = thaw_fail(err, THAW_EFORMAT, "%s: tensor '%s' is missing; the architecture "
                               "needs it, F32 %s", file, ps->name, wshape);
                break;
            }
            mf_shape_text(gshape, sizeof gshape, t->ndim, t->dim);
            int same = t->ndim == ps->ndim;
            for (int d = 0; d < ps->ndim && same; d++)
                same = t->dim[d] == want[d];
            if (t->dtype != ST_F32 || !same) {
                rc = thaw_fail(err, THAW_EFORMAT, "%s: '%s': %s %s; the architecture expects F32 %s",
                               file, ps->name, st_dtype_name(t->dtype), gshape, wshape);
                break;
            }
            float *dst = pass ? model_param(m, s) : tmp;
            st_get_f32(f, t, dst);
            for (size_t i = 0; i < ps->len && !pass; i++)
                if (!isfinite(dst[i])) {
                    rc = thaw_fail(err, THAW_ENONFINITE, "%s: '%s': element %zu is %s; expected "
                                   "finite values", file, ps->name, i, isnan(dst[i]) ? "NaN" : "Inf");
                    break;
                }
        }
        mf_tracked_ctx tc = { f, file, err, 0, pass };
        if (rc == THAW_OK)
            rc = mf_each_bn(m->root, mf_tracked, &tc);
        if (rc == THAW_OK && !pass && f->ntensor != m->nslice + tc.found) {
            /* Something in the file is neither a slice nor a count. */
            for (int i = 0; i < f->ntensor; i++) {
                const char *name = f->tensor[i].name;
                if (model_slice(m, name))
                    continue;
                const char *suffix = strstr(name, ".num_batches_tracked");
                if (suffix && !suffix[strlen(".num_batches_tracked")]) {
                    char path[ST_NAME_MAX];
                    snprintf(path, sizeof path, "%.*s", (int)(suffix - name), name);
                    layer *l = model_find(m, path);
                    if (l && layer_is_batchnorm(l))
                        continue;
                }
                rc = thaw_fail(err, THAW_EFORMAT, "%s: tensor '%s' is not part of the architecture; "
                               "expected only its parameters and statistics", file, name);
                break;
            }
        }
    }
    free(tmp);
    return rc;
}

/* ---- loading ---------------------------------------------------------- */

/* The layer built from node `want`, walking the node and layer trees side by side. */
static layer *mf_layer_of(const mf_node *n, layer *l, const mf_node *want)
{
    if (n == want)
        return l;
    layer *found = NULL;
    if (n->type == MF_SEQUENTIAL)
        for (int i = 0; i < n->nchild && !found; i++)
            found = mf_layer_of(&n->child[i], l->child[i], want);
    return found;
}

static void mf_copy_tracked(layer *dst, const layer *src)
{
    if (layer_is_batchnorm(src))
        batchnorm2d_set_tracked(dst, batchnorm2d_tracked(src));
    for (int i = 0; i < src->nchild; i++)
        mf_copy_tracked(dst->child[i], src->child[i]);
}

static int mf_generic_classes(mf_meta *meta, int classes, thaw_err *err)
{
    char (*names)[MF_TEXT_MAX] = calloc((size_t)classes, sizeof *names);
    if (!names)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d class names", classes);
    for (int i = 0; i < classes; i++)
        snprintf(names[i], MF_TEXT_MAX, "%d", i);
    free(meta->class_name);
    meta->class_name = names;
    meta->nclass = classes;
    return THAW_OK;
}

/* Swaps the head of `from` (built from meta) for a fresh one with `classes`
 * outputs, keeping every other weight; the new model goes into m. */
static int mf_replace_head(mf_meta *meta, model *from, model *m, int classes,
                           unsigned long long seed, thaw_err *err)
{
    mf_node *head = (mf_node *)mf_head(meta->arch);
    if (!head || head->type != MF_LINEAR)
        return thaw_fail(err, THAW_EINVAL, "%s: cannot give the model a new head: its last layer "
                         "with parameters is %s, expected a linear layer", meta->file,
                         head ? mf_type_name(head->type) : "missing");
    if (classes > MF_CLASSES_MAX)
        return thaw_fail(err, THAW_EINVAL, "%d classes; expected at most %d", classes,
                         MF_CLASSES_MAX);
    head->out = classes;
    int rc = mf_generic_classes(meta, classes, err);
    if (rc || (rc = mf_build(m, meta, seed, err)))
        return rc;
    layer *new_head = mf_layer_of(meta->arch, m->root, head);
    model_freeze(m, new_head, 0);
    for (int s = 0; s < m->nslice; s++) {
        if (m->slice[s].owner == new_head)
            continue;
        memcpy(model_param(m, s), model_param(from, s), m->slice[s].len * sizeof(float));
    }
    mf_copy_tracked(m->root, from->root);
    return THAW_OK;
}

int mf_load(mf_meta *meta, model *m, const char *path, const mf_load_opts *opt, thaw_err *err)
{
    memset(meta, 0, sizeof *meta);
    memset(m, 0, sizeof *m);
    unsigned long long seed = opt ? opt->seed : 0;
    char *text;
    size_t len;
    int rc = fio_read(path, MF_JSON_MAX, &text, &len, err);
    if (rc)
        return rc;
    rc = mf_parse(meta, text, len, path, err);
    free(text);
    if (rc)
        return rc;
    char wpath[4096];
    const char *slash = strrchr(path, '/');
    int n = slash ? snprintf(wpath, sizeof wpath, "%.*s/%s", (int)(slash - path), path, meta->weights)
                  : snprintf(wpath, sizeof wpath, "%s", meta->weights);
    if (n < 0 || (size_t)n >= sizeof wpath) {
        mf_meta_free(meta);
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    }
    st_file f;
    model a;
    if ((rc = st_read(&f, wpath, err))) {
        mf_meta_free(meta);
        return rc;
    }
    if ((rc = mf_build(&a, meta, seed, err)) == THAW_OK) {
        rc = mf_set_weights(&a, &f, wpath, err);
        if (rc)
            model_free(&a);
    }
    st_free(&f);
    if (rc == THAW_OK && opt && (opt->fresh_head || (opt->classes > 0 && opt->classes != a.classes))) {
        rc = mf_replace_head(meta, &a, m, opt->classes > 0 ? opt->classes : a.classes, seed, err);
        model_free(&a);
    } else if (rc == THAW_OK) {
        *m = a;
    }
    if (rc)
        mf_meta_free(meta);
    return rc;
}

/* ---- saving ----------------------------------------------------------- */

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

static cJSON *mf_print_node(const mf_node *n)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = (!n->name[0] || cJSON_AddStringToObject(o, "name", n->name)) &&
             cJSON_AddStringToObject(o, "type", mf_types[n->type].name) &&
             mf_types[n->type].write(n, o);
    if (ok && n->type == MF_SEQUENTIAL) {
        cJSON *layers = cJSON_AddArrayToObject(o, "layers");
        ok = layers != NULL;
        for (int i = 0; i < n->nchild && ok; i++) {
            cJSON *c = mf_print_node(&n->child[i]);
            ok = c && cJSON_AddItemToArray(layers, c);
        }
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
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

/* meta must describe m exactly, or the saved pair would not load. */
static int mf_check_describes(const mf_meta *meta, const model *m, thaw_err *err)
{
    model check;
    thaw_err detail = { 0 };
    int rc = mf_build(&check, meta, 0, &detail);
    if (rc == THAW_ENOMEM)
        return thaw_fail(err, rc, "out of memory checking the model's description: %s", detail.msg);
    if (rc)
        return thaw_fail(err, THAW_EINVAL, "the model's description does not build: %s", detail.msg);
    int same = check.nslice == m->nslice && check.in.c == m->in.c && check.in.h == m->in.h &&
               check.in.w == m->in.w;
    for (int s = 0; s < m->nslice && same; s++) {
        const param_slice *a = &check.slice[s], *b = &m->slice[s];
        same = !strcmp(a->name, b->name) && a->ndim == b->ndim;
        for (int d = 0; d < a->ndim && same; d++)
            same = a->dim[d] == b->dim[d];
    }
    model_free(&check);
    if (!same)
        return thaw_fail(err, THAW_EINVAL, "the description (%s) does not match the model's "
                         "input or parameters", meta->file[0] ? meta->file : "architecture");
    return THAW_OK;
}

typedef struct mf_tensors {
    st_out *t;
    int n;
    int64_t *tracked;
    int ntracked;
} mf_tensors;

/* The weights file name the model JSON at path refers to now: "" when there
 * is no such JSON or it is not a model file. THAW_ENOMEM, or THAW_EIO when
 * the file exists but cannot be read. */
static int mf_current_weights(const char *path, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    mf_meta meta;
    out[0] = '\0';
    thaw_err e = {0};
    if (fio_read(path, MF_JSON_MAX, &text, &len, &e) != THAW_OK)
        return e.code == THAW_ENOMEM ? THAW_ENOMEM
             : access(path, F_OK) != 0 && errno == ENOENT ? THAW_OK : THAW_EIO;
    int rc = mf_parse(&meta, text, len, path, NULL);
    if (rc == THAW_OK) {
        snprintf(out, cap, "%s", meta.weights);
        mf_meta_free(&meta);
    }
    free(text);
    return rc == THAW_ENOMEM ? THAW_ENOMEM : THAW_OK;
}

int mf_save(const char *path, const mf_meta *meta, const model *m, thaw_err *err)
{
    size_t n = strlen(path), ext = strlen(".json");
    if (n <= ext || strcmp(path + n - ext, ".json"))
        return thaw_fail(err, THAW_EINVAL, "%s: expected a file name ending in \".json\"", path);
    /* The save takes effect when the JSON is renamed into place, so the new
     * weights never overwrite the ones the current JSON names: a save
     * alternates between NAME.safetensors and NAME.1.safetensors and removes
     * the old file afterwards. A crash at any moment leaves the old pair or
     * the new one. */
    char wpath[2][4096], old[MF_TEXT_MAX];
    if (n - ext + strlen(".1.safetensors") >= sizeof wpath[0])
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", path);
    snprintf(wpath[0], sizeof wpath[0], "%.*s.safetensors", (int)(n - ext), path);
    snprintf(wpath[1], sizeof wpath[1], "%.*s.1.safetensors", (int)(n - ext), path);
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *wname[2] = { wpath[0] + dirlen, wpath[1] + dirlen };
    if (!mf_weights_name_ok(wname[0]))
        return thaw_fail(err, THAW_EINVAL, "%s: expected a file name not starting with '.'", path);
    int rc = mf_current_weights(path, old, sizeof old);
    if (rc == THAW_ENOMEM)
        return thaw_fail(err, rc, "%s: out of memory reading the model it replaces", path);
    if (rc)
        return thaw_fail(err, rc, "%s: exists but cannot be read, so it is not replaced", path);
    int next = !strcmp(old, wname[0]);
    rc = mf_check_describes(meta, m, err);
    if (rc)
        return rc;
    for (int s = 0; s < m->nslice; s++) {
        const float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            if (!isfinite(p[i]))
                return thaw_fail(err, THAW_ENONFINITE, "%s: not saved: '%s' element %zu is %s",
                                 path, m->slice[s].name, i, isnan(p[i]) ? "NaN" : "Inf");
    }
    st_out *t = calloc((size_t)m->nslice * 2 + 1, sizeof *t);
    int64_t *tracked = calloc((size_t)m->nslice + 1, sizeof *tracked);
    char (*tname)[ST_NAME_MAX] = calloc((size_t)m->nslice + 1, sizeof *tname);
    uint8_t *weights = NULL;
    char *json = NULL;
    size_t nweights = 0, njson = 0;
    if (!t || !tracked || !tname) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    int nt = 0, nb = 0;
    for (int s = 0; s < m->nslice; s++) {
        const param_slice *ps = &m->slice[s];
        st_out *o = &t[nt++];
        o->name = ps->name;
        o->dtype = ST_F32;
        o->ndim = ps->ndim;
        for (int d = 0; d < ps->ndim; d++)
            o->dim[d] = (uint64_t)ps->dim[d];
        o->data = model_param(m, s);
        const layer *owner = ps->owner;
        if (layer_is_batchnorm(owner) && s == owner->slice0 + owner->nslice - 1) {
            tracked[nb] = batchnorm2d_tracked(owner);
            snprintf(tname[nb], ST_NAME_MAX, "%s.num_batches_tracked", owner->path);
            t[nt++] = (st_out){ .name = tname[nb], .dtype = ST_I64, .ndim = 0, .data = &tracked[nb] };
            nb++;
        }
    }
    if ((rc = st_serialize(t, nt, &weights, &nweights, err)) ||
        (rc = mf_print(meta, m, wname[next], &json, &njson, err)))
        goto done;
    const char *paths[] = { wpath[next], path };
    const void *bufs[] = { weights, json };
    size_t lens[] = { nweights, njson };
    rc = fio_save(paths, bufs, lens, 2, err);
    /* The weights file the JSON now positively does not name goes; when
     * that cannot be told, both stay. */
    char now[MF_TEXT_MAX];
    if (mf_current_weights(path, now, sizeof now) == THAW_OK) {
        if (!strcmp(now, wname[next]) && !strcmp(old, wname[!next]))
            unlink(wpath[!next]);
        else if (!strcmp(now, wname[!next]))
            unlink(wpath[next]);
    }
done:
    free(t);
    free(tracked);
    free(tname);
    free(weights);
    free(json);
    return rc;
}

int mf_meta_reference(mf_meta *meta, shape3 input, int classes, thaw_err *err)
{
    memset(meta, 0, sizeof *meta);
    if (input.c < 1 || input.c > MF_CHANNELS_MAX || classes < 1 || classes > MF_CLASSES_MAX)
        return thaw_fail(err, THAW_EINVAL, "reference model: %d channels, %d classes; expected "
                         "1 to %d and 1 to %d", input.c, classes, MF_CHANNELS_MAX, MF_CLASSES_MAX);
    size_t cap = 4096 + (size_t)classes * 8 + (size_t)input.c * 16;
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
        "    {\"name\": \"2\", \"type\": \"relu\"}]},\n"
        "  {\"name\": \"stage1\", \"type\": \"residual\", \"in_channels\": 32, \"out_channels\": 32},\n"
        "  {\"name\": \"stage2\", \"type\": \"residual\", \"in_channels\": 32, \"out_channels\": 64,"
        " \"stride\": 2},\n"
        "  {\"name\": \"stage3\", \"type\": \"residual\", \"in_channels\": 64, \"out_channels\": 128,"
        " \"stride\": 2},\n"
        "  {\"name\": \"pool\", \"type\": \"avgpool\"},\n"
        "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 128, \"out_features\": %d}]}}\n",
        input.c, classes);
    int rc = mf_parse(meta, text, n, "reference model", err);
    free(text);
    return rc;
}
