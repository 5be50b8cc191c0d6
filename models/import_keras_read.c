/* import_keras_read.c — the first pass of import_keras.c: every layer of
 * a Keras topology (and of the models nested in it) into one table, with
 * what its config says, checked; the references between layers resolved.
 * See import_keras.c for the passes after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_impl.h"
#include "mf_impl.h"
#include "registry.h"

void imp_note(tfjs_report *r, const char *fmt, ...)
{
    if (!r || r->nnotes >= TFJS_NOTES_MAX)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->nnotes++], sizeof r->notes[0], fmt, ap);
    va_end(ap);
}

int imp_lfail(const imp_graph *g, const imp_layer *L, int code, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return thaw_fail(g->c.err, code, "%s: layer '%s' (%s) %s", g->c.file, L->name, L->cls, what);
}

int imp_nomem(const imp_graph *g)
{
    return thaw_fail(g->c.err, THAW_ENOMEM, "%s: out of memory", g->c.file);
}

/* ---- reading configs ------------------------------------------------------ */

/* cfg[key], NULL when missing or null (Keras writes null for "default"). */
static const cJSON *cfg_get(const cJSON *cfg, const char *key)
{
    const cJSON *v = json_get(cfg, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* A whole number in [lo, hi]; def when missing, and required when def < lo. */
static int cfg_int(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                   long long lo, long long hi, long long def, int *out)
{
    const cJSON *v = cfg_get(cfg, key);
    char sub[JSON_PATH_MAX];
    long long x = def;
    int rc = json_int_value(v, json_at(sub, at, key), lo, hi, def < lo ? JSON_REQUIRED : 0, &x,
                            &g->c);
    *out = (int)x;
    return rc;
}

/* An int, or a list of two ([3, 3]), into v[0] and v[1]. */
static int cfg_pair(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                    long long lo, long long hi, long long def, int v[2])
{
    const cJSON *x = cfg_get(cfg, key);
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    json_at(sub, at, key);
    long long a = def, b = def;
    int rc, n;
    if (!x && def < lo)
        return json_int_value(NULL, sub, lo, hi, JSON_REQUIRED, &a, &g->c);
    if (x && cJSON_IsArray(x)) {
        if ((rc = json_array_value(x, sub, 2, 2, JSON_REQUIRED, &n, &g->c)) ||
            (rc = json_int_value(x->child, json_at_index(el, sub, 0), lo, hi, JSON_REQUIRED, &a,
                                 &g->c)) ||
            (rc = json_int_value(x->child->next, json_at_index(el, sub, 1), lo, hi, JSON_REQUIRED,
                                 &b, &g->c)))
            return rc;
    } else if (x) {
        if ((rc = json_int_value(x, sub, lo, hi, JSON_REQUIRED, &a, &g->c)))
            return rc;
        b = a;
    }
    v[0] = (int)a, v[1] = (int)b;
    return THAW_OK;
}

static int cfg_text(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                    const char *def, char *out, size_t cap)
{
    const cJSON *v = cfg_get(cfg, key);
    char sub[JSON_PATH_MAX];
    snprintf(out, cap, "%s", def);
    return v ? json_text_value(v, json_at(sub, at, key), out, cap, JSON_REQUIRED, &g->c) : THAW_OK;
}

static int cfg_bool(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                    int def, int *out)
{
    *out = def;
    return cfg_get(cfg, key) ? json_bool(cfg, at, key, JSON_REQUIRED, out, &g->c) : THAW_OK;
}

static int cfg_num(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                   double lo, double hi, int flags, double def, double *out)
{
    *out = def;
    return cfg_get(cfg, key) ? json_num(cfg, at, key, lo, hi, flags | JSON_REQUIRED, out, &g->c)
                             : THAW_OK;
}

static const struct {
    const char *keras;
    int act;
} imp_acts[] = {
    { "linear", IMP_ACT_NONE }, { "relu", IMP_ACT_RELU }, { "relu6", IMP_ACT_RELU6 },
    { "sigmoid", IMP_ACT_SIGMOID }, { "hard_sigmoid", IMP_ACT_HARDSIGMOID_02 },
    { "swish", IMP_ACT_SILU }, { "silu", IMP_ACT_SILU }, { "hard_swish", IMP_ACT_HARDSWISH },
    { "hard_silu", IMP_ACT_HARDSWISH }, { "softmax", IMP_ACT_SOFTMAX },
};

/* An activation named at cfg[key] ("relu"; Keras 3 may wrap it as
 * {"class_name": "function", "config": "relu"}); linear when missing. */
static int cfg_act(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at,
                   const char *key, int *act)
{
    const cJSON *v = cfg_get(cfg, key);
    char sub[JSON_PATH_MAX], name[32] = "linear";
    json_at(sub, at, key);
    if (v && cJSON_IsObject(v))
        v = cfg_get(v, "config");
    int rc = v ? json_text_value(v, sub, name, sizeof name, JSON_REQUIRED, &g->c) : THAW_OK;
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof imp_acts / sizeof imp_acts[0]; i++)
        if (!strcmp(name, imp_acts[i].keras)) {
            *act = imp_acts[i].act;
            if (*act == IMP_ACT_HARDSIGMOID_02 && g->keras3)
                *act = IMP_ACT_HARDSIGMOID;
            return THAW_OK;
        }
    return imp_lfail(g, L, THAW_EINVAL, "uses the activation '%s', which is not supported (thaw has "
                 "linear, relu, relu6, sigmoid, hard_sigmoid, swish, hard_swish, and softmax at "
                 "the end)", name);
}

static int cfg_channels_last(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at)
{
    char fmt[32];
    int rc = cfg_text(g, cfg, at, "data_format", "channels_last", fmt, sizeof fmt);
    if (rc == THAW_OK && strcmp(fmt, "channels_last"))
        return imp_lfail(g, L, THAW_EINVAL, "has data_format '%s'; thaw reads channels_last models",
                     fmt);
    return rc;
}

/* "valid" or "same" into L->same. */
static int cfg_padding(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at)
{
    char pad[32];
    int rc = cfg_text(g, cfg, at, "padding", "valid", pad, sizeof pad);
    if (rc)
        return rc;
    if (strcmp(pad, "valid") && strcmp(pad, "same"))
        return imp_lfail(g, L, THAW_EINVAL, "has padding '%s'; expected \"valid\" or \"same\"", pad);
    L->same = !strcmp(pad, "same");
    return THAW_OK;
}

/* kernel_size (or pool_size), strides and dilation_rate of a convolution
 * or pool: square, undilated. */
static int cfg_window(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at,
                      const char *size_key, int size_def, int conv)
{
    int k[2], s[2], d[2] = { 1, 1 }, rc;
    if ((rc = cfg_pair(g, cfg, at, size_key, 1, LAYER_KERNEL_MAX, size_def, k)))
        return rc;
    if (k[0] != k[1])
        return imp_lfail(g, L, THAW_EINVAL, "has a %dx%d window; thaw's convolutions and pools are "
                     "square", k[0], k[1]);
    if ((rc = cfg_pair(g, cfg, at, "strides", 1, LAYER_KERNEL_MAX, conv ? 1 : k[0], s)))
        return rc;
    if (s[0] != s[1])
        return imp_lfail(g, L, THAW_EINVAL, "has strides %dx%d; thaw's strides are the same both ways",
                     s[0], s[1]);
    if (conv && (rc = cfg_pair(g, cfg, at, "dilation_rate", 1, LAYER_KERNEL_MAX, 1, d)))
        return rc;
    if (d[0] != 1 || d[1] != 1)
        return imp_lfail(g, L, THAW_EINVAL, "has dilation_rate %dx%d; thaw's convolutions are not "
                     "dilated", d[0], d[1]);
    L->k = k[0], L->stride = s[0];
    return cfg_padding(g, L, cfg, at);
}

/* A batch shape ([null, H, W, C] or [null, F]; null sizes unknown). */
static int cfg_batch_shape(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at)
{
    const char *key = cfg_get(cfg, "batch_input_shape") ? "batch_input_shape" : "batch_shape";
    const cJSON *v = cfg_get(cfg, key);
    if (!v)
        return THAW_OK;
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    int n, rc;
    json_at(sub, at, key);
    if ((rc = json_array_value(v, sub, 2, 4, JSON_REQUIRED, &n, &g->c)))
        return rc;
    if (n == 3)
        return imp_lfail(g, L, THAW_EINVAL, "takes inputs of rank 2; thaw reads images (H, W, C) and "
                     "vectors");
    int i = 0;
    for (const cJSON *e = v->child->next; e; e = e->next, i++) {
        long long d = -1;
        if (!cJSON_IsNull(e) && (rc = json_int_value(e, json_at_index(el, sub, i + 1), 1,
                                                     MF_SIDE_MAX, JSON_REQUIRED, &d, &g->c)))
            return rc;
        L->in_shape[i] = (int)d;
    }
    L->in_rank = n - 1;
    return THAW_OK;
}

static int cfg_zero_padding(const imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at)
{
    const cJSON *v = cfg_get(cfg, "padding");
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX], el2[JSON_PATH_MAX];
    json_at(sub, at, "padding");
    long long p[4] = { 1, 1, 1, 1 };
    int rc, n;
    if (v && cJSON_IsArray(v)) {
        if ((rc = json_array_value(v, sub, 2, 2, JSON_REQUIRED, &n, &g->c)))
            return rc;
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++) {
            json_at_index(el, sub, i);
            if (cJSON_IsArray(e)) {
                if ((rc = json_array_value(e, el, 2, 2, JSON_REQUIRED, &n, &g->c)) ||
                    (rc = json_int_value(e->child, json_at_index(el2, el, 0), 0, LAYER_KERNEL_MAX,
                                         JSON_REQUIRED, &p[2 * i], &g->c)) ||
                    (rc = json_int_value(e->child->next, json_at_index(el2, el, 1), 0,
                                         LAYER_KERNEL_MAX, JSON_REQUIRED, &p[2 * i + 1], &g->c)))
                    return rc;
            } else {
                if ((rc = json_int_value(e, el, 0, LAYER_KERNEL_MAX, JSON_REQUIRED, &p[2 * i],
                                         &g->c)))
                    return rc;
                p[2 * i + 1] = p[2 * i];
            }
        }
    } else if (v) {
        if ((rc = json_int_value(v, sub, 0, LAYER_KERNEL_MAX, JSON_REQUIRED, &p[0], &g->c)))
            return rc;
        p[1] = p[2] = p[3] = p[0];
    }
    for (int i = 0; i < 4; i++)
        L->zpad[i] = (int)p[i];
    return cfg_channels_last(g, L, cfg, at);
}

/* A number or one per channel (Rescaling's scale and offset). */
static int cfg_values(const imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                      double def, double *out, int *n)
{
    const cJSON *v = cfg_get(cfg, key);
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    json_at(sub, at, key);
    int rc, count = 1;
    out[0] = def;
    if (v && cJSON_IsArray(v)) {
        if ((rc = json_array_value(v, sub, 1, MF_CHANNELS_MAX, JSON_REQUIRED, &count, &g->c)))
            return rc;
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++)
            if ((rc = json_num_value(e, json_at_index(el, sub, i), -1e6, 1e6, JSON_REQUIRED,
                                     &out[i], &g->c)))
                return rc;
    } else if (v && (rc = json_num_value(v, sub, -1e6, 1e6, JSON_REQUIRED, &out[0], &g->c))) {
        return rc;
    }
    *n = *n > count ? *n : count;
    return THAW_OK;
}

static const char imp_supported[] =
    "InputLayer, Conv2D, DepthwiseConv2D, Dense, BatchNormalization, Activation, ReLU, Softmax, "
    "ZeroPadding2D, GlobalAveragePooling2D, MaxPooling2D, Flatten, Reshape, Dropout, Add, "
    "Multiply, Rescaling and nested Model, Functional and Sequential";

/* What L's class and config say, checked. */
static int parse_layer(imp_graph *g, imp_layer *L, const cJSON *cfg, const char *at)
{
    const char *c = L->cls;
    int rc = cfg_batch_shape(g, L, cfg, at);
    if (rc)
        return rc;
    if (!strcmp(c, "InputLayer")) {
        L->op = IMP_INPUT;
        if (!L->in_rank)
            return imp_lfail(g, L, THAW_EFORMAT, "has no batch_input_shape; expected the input's shape");
    } else if (!strcmp(c, "Conv2D")) {
        L->op = IMP_CONV;
        if ((rc = cfg_int(g, cfg, at, "filters", 1, LAYER_WIDTH_MAX, 0, &L->units)) ||
            (rc = cfg_window(g, L, cfg, at, "kernel_size", 0, 1)) ||
            (rc = cfg_int(g, cfg, at, "groups", 1, LAYER_WIDTH_MAX, 1, &L->groups)) ||
            (rc = cfg_bool(g, cfg, at, "use_bias", 1, &L->bias)) ||
            (rc = cfg_act(g, L, cfg, at, "activation", &L->act)))
            return rc;
        return cfg_channels_last(g, L, cfg, at);
    } else if (!strcmp(c, "DepthwiseConv2D")) {
        L->op = IMP_DWCONV;
        if ((rc = cfg_window(g, L, cfg, at, "kernel_size", 0, 1)) ||
            (rc = cfg_int(g, cfg, at, "depth_multiplier", 1, LAYER_WIDTH_MAX, 1, &L->mult)) ||
            (rc = cfg_bool(g, cfg, at, "use_bias", 1, &L->bias)) ||
            (rc = cfg_act(g, L, cfg, at, "activation", &L->act)))
            return rc;
        return cfg_channels_last(g, L, cfg, at);
    } else if (!strcmp(c, "Dense")) {
        L->op = IMP_DENSE;
        if ((rc = cfg_int(g, cfg, at, "units", 1, LAYER_FEATURES_MAX, 0, &L->units)) ||
            (rc = cfg_bool(g, cfg, at, "use_bias", 1, &L->bias)) ||
            (rc = cfg_act(g, L, cfg, at, "activation", &L->act)))
            return rc;
    } else if (!strcmp(c, "BatchNormalization")) {
        L->op = IMP_BN;
        const cJSON *axis = cfg_get(cfg, "axis");
        char sub[JSON_PATH_MAX];
        int n;
        if (axis && cJSON_IsArray(axis)) {
            if ((rc = json_array_value(axis, json_at(sub, at, "axis"), 1, 1, JSON_REQUIRED, &n,
                                       &g->c)))
                return rc;
            axis = axis->child;
        }
        long long a = -1;
        if (axis && (rc = json_int_value(axis, json_at(sub, at, "axis"), -4, 3, JSON_REQUIRED, &a,
                                         &g->c)))
            return rc;
        L->axis = (int)a;
        if ((rc = cfg_num(g, cfg, at, "epsilon", 0, 1, JSON_LO_OPEN, 1e-3, &L->eps)) ||
            (rc = cfg_num(g, cfg, at, "momentum", 0, 1, 0, 0.99, &L->momentum)) ||
            (rc = cfg_bool(g, cfg, at, "center", 1, &L->center)) ||
            (rc = cfg_bool(g, cfg, at, "scale", 1, &L->scale)))
            return rc;
    } else if (!strcmp(c, "Activation")) {
        L->op = IMP_ACT;
        if (!cfg_get(cfg, "activation"))
            return imp_lfail(g, L, THAW_EFORMAT, "names no activation");
        return cfg_act(g, L, cfg, at, "activation", &L->act);
    } else if (!strcmp(c, "ReLU")) {
        double max = -1, slope = 0, threshold = 0;
        L->op = IMP_ACT;
        if ((rc = cfg_num(g, cfg, at, "max_value", 0, 1e30, 0, -1, &max)) ||
            (rc = cfg_num(g, cfg, at, "negative_slope", -1e30, 1e30, 0, 0, &slope)) ||
            (rc = cfg_num(g, cfg, at, "threshold", -1e30, 1e30, 0, 0, &threshold)))
            return rc;
        if (slope != 0 || threshold != 0 || (max >= 0 && max != 6))
            return imp_lfail(g, L, THAW_EINVAL, "is ReLU(max_value=%g, negative_slope=%g, threshold=%g); "
                         "thaw has relu and relu6", max, slope, threshold);
        L->act = max == 6 ? IMP_ACT_RELU6 : IMP_ACT_RELU;
    } else if (!strcmp(c, "Softmax")) {
        int axis;
        L->op = IMP_ACT;
        L->act = IMP_ACT_SOFTMAX;
        if ((rc = cfg_int(g, cfg, at, "axis", -1, -1, -1, &axis)))
            return rc;
    } else if (!strcmp(c, "ZeroPadding2D")) {
        L->op = IMP_PAD;
        return cfg_zero_padding(g, L, cfg, at);
    } else if (!strcmp(c, "GlobalAveragePooling2D")) {
        L->op = IMP_GAP;
        return cfg_channels_last(g, L, cfg, at);
    } else if (!strcmp(c, "MaxPooling2D")) {
        L->op = IMP_MAXPOOL;
        if ((rc = cfg_window(g, L, cfg, at, "pool_size", 2, 0)))
            return rc;
        return cfg_channels_last(g, L, cfg, at);
    } else if (!strcmp(c, "Flatten")) {
        L->op = IMP_FLATTEN;
        return cfg_channels_last(g, L, cfg, at);
    } else if (!strcmp(c, "Reshape")) {
        const cJSON *t = cfg_get(cfg, "target_shape");
        char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
        L->op = IMP_RESHAPE;
        json_at(sub, at, "target_shape");
        if ((rc = json_array_value(t, sub, 1, 3, JSON_REQUIRED, &L->ntarget, &g->c)))
            return rc;
        int i = 0;
        for (const cJSON *e = t->child; e; e = e->next, i++) {
            long long d;
            if ((rc = json_int_value(e, json_at_index(el, sub, i), -1, LAYER_FEATURES_MAX,
                                     JSON_REQUIRED, &d, &g->c)))
                return rc;
            if (d == 0)
                return imp_lfail(g, L, THAW_EFORMAT, "reshapes to a size 0");
            L->target[i] = (int)d;
        }
    } else if (!strcmp(c, "Dropout")) {
        L->op = IMP_DROPOUT;
        if (cfg_get(cfg, "noise_shape"))
            return imp_lfail(g, L, THAW_EINVAL, "has a noise_shape; thaw's dropout drops single values");
        return cfg_num(g, cfg, at, "rate", 0, 1, JSON_HI_OPEN, 0.5, &L->rate);
    } else if (!strcmp(c, "Add")) {
        L->op = IMP_ADD;
    } else if (!strcmp(c, "Multiply")) {
        L->op = IMP_MUL;
    } else if (!strcmp(c, "Rescaling")) {
        L->op = IMP_RESCALE;
        if ((rc = cfg_values(g, cfg, at, "scale", 1, L->rs_scale, &L->rs_n)) ||
            (rc = cfg_values(g, cfg, at, "offset", 0, L->rs_offset, &L->rs_n)))
            return rc;
    } else {
        return imp_lfail(g, L, THAW_EINVAL, "is not supported (thaw imports %s)", imp_supported);
    }
    return THAW_OK;
}

/* ---- reading the models --------------------------------------------------- */

static int add_layer(imp_graph *g, int *idx)
{
    if (g->n >= TFJS_LAYERS_MAX)
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: more than %d layers; expected at most that "
                         "many", g->c.file, TFJS_LAYERS_MAX);
    if (g->n == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        imp_layer *l = realloc(g->l, (size_t)cap * sizeof *l);
        if (!l)
            return imp_nomem(g);
        g->l = l, g->cap = cap;
    }
    imp_layer *L = &g->l[g->n];
    memset(L, 0, sizeof *L);
    L->idom = -1;
    L->mult = L->groups = L->bias = L->stride = 1;
    *idx = g->n++;
    return THAW_OK;
}

static int is_model_class(const char *c)
{
    return !strcmp(c, "Model") || !strcmp(c, "Functional") || !strcmp(c, "Sequential");
}

/* One entry of a model's layer list: a layer, or a model inside this one
 * (*is_model). *in_node is the table entry its input connects to,
 * *out_node the one giving its output. */
static int read_entry(imp_graph *g, const cJSON *e, const char *at, const char *scope, int top,
                      int *in_node, int *out_node, int *is_model)
{
    char got[64], sub[JSON_PATH_MAX], cls[48], name[TFJS_NAME_MAX] = "";
    if (!cJSON_IsObject(e))
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: expected a layer object, got %s",
                         g->c.file, at, json_describe(e, got, sizeof got));
    int rc = json_text(e, at, "class_name", cls, sizeof cls, JSON_REQUIRED, &g->c);
    if (rc)
        return rc;
    *is_model = is_model_class(cls);
    if (*is_model)
        return imp_read_model(g, e, at, scope, 0, in_node, out_node);
    const cJSON *cfg = json_get(e, "config");
    json_at(sub, at, "config");
    if (!cJSON_IsObject(cfg))
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: expected the layer's config object, got %s",
                         g->c.file, sub, json_describe(cfg, got, sizeof got));
    if ((rc = json_text(cfg, sub, "name", name, sizeof name, JSON_REQUIRED, &g->c)))
        return rc;
    if (json_get(e, "name")) {
        char outer[TFJS_NAME_MAX];
        if ((rc = json_text(e, at, "name", outer, sizeof outer, JSON_REQUIRED, &g->c)))
            return rc;
        if (strcmp(outer, name))
            return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: named '%s' and, in its config, '%s'",
                             g->c.file, at, outer, name);
    }
    int idx;
    if ((rc = add_layer(g, &idx)))
        return rc;
    imp_layer *L = &g->l[idx];
    snprintf(L->name, sizeof L->name, "%s", name);
    snprintf(L->cls, sizeof L->cls, "%s", cls);
    snprintf(L->scope, sizeof L->scope, "%s", scope);
    if ((rc = parse_layer(g, L, cfg, sub)))
        return rc;
    if (L->op == IMP_INPUT && !top)
        L->op = IMP_PASS;
    *in_node = *out_node = idx;
    return THAW_OK;
}

/* A local name and the table entries it stands for, sorted for lookups. */
typedef struct imp_local {
    const char *name;
    int in, out;
    int entry;          /* its index in the layer list */
    int is_model;
} imp_local;

static int local_cmp(const void *a, const void *b)
{
    return strcmp(((const imp_local *)a)->name, ((const imp_local *)b)->name);
}

static const imp_local *local_find(const imp_local *loc, int n, const char *name)
{
    imp_local key = { name, 0, 0, 0, 0 };
    return bsearch(&key, loc, (size_t)n, sizeof *loc, local_cmp);
}

/* A reference [name, node_index, tensor_index(, kwargs)] to a local layer's
 * output, into *out. */
static int read_ref(imp_graph *g, const cJSON *r, const char *at, const imp_local *loc, int n,
                    int *out)
{
    char name[TFJS_NAME_MAX], el[JSON_PATH_MAX];
    int cnt, rc;
    long long node, tensor;
    if ((rc = json_array_value(r, at, 3, 4, JSON_REQUIRED, &cnt, &g->c)) ||
        (rc = json_text_value(r->child, json_at_index(el, at, 0), name, sizeof name,
                              JSON_REQUIRED, &g->c)) ||
        (rc = json_int_value(r->child->next, json_at_index(el, at, 1), 0, 1 << 20, JSON_REQUIRED,
                             &node, &g->c)) ||
        (rc = json_int_value(r->child->next->next, json_at_index(el, at, 2), 0, 1 << 20,
                             JSON_REQUIRED, &tensor, &g->c)))
        return rc;
    const imp_local *hit = local_find(loc, n, name);
    if (!hit)
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: no layer '%s' in this model", g->c.file,
                         at, name);
    if (node != 0 || tensor != 0)
        return thaw_fail(g->c.err, THAW_EINVAL, "%s: %s: output %lld of call %lld of layer '%s'; "
                         "thaw's layers are called once and give one output", g->c.file, at,
                         tensor, node, name);
    *out = hit->out;
    return THAW_OK;
}

/* Keras 3's call: the keras_history of every tensor in args. */
static int read_args(imp_graph *g, const cJSON *v, const char *at, const imp_local *loc, int n,
                     int *in, int *nin, int depth)
{
    char el[JSON_PATH_MAX], sub[JSON_PATH_MAX];
    int rc;
    if (depth > 4)
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: arguments nested too deep", g->c.file, at);
    if (cJSON_IsArray(v)) {
        int i = 0;
        for (const cJSON *e = v->child; e; e = e->next, i++)
            if ((rc = read_args(g, e, json_at_index(el, at, i), loc, n, in, nin, depth + 1)))
                return rc;
        return THAW_OK;
    }
    const cJSON *cls = json_get(v, "class_name");
    if (!cJSON_IsObject(v) || !cJSON_IsString(cls) || strcmp(cls->valuestring, "__keras_tensor__"))
        return THAW_OK;
    const cJSON *hist = json_get(json_get(v, "config"), "keras_history");
    if (*nin >= IMP_IN_MAX)
        return thaw_fail(g->c.err, THAW_EINVAL, "%s: %s: more than %d inputs", g->c.file, at,
                         IMP_IN_MAX);
    return read_ref(g, hist, json_at(sub, at, "config.keras_history"), loc, n, &in[(*nin)++]);
}

/* Layer `dst`'s inbound_nodes: exactly one call, its inputs into dst->in;
 * none for an InputLayer. */
static int read_inbound(imp_graph *g, int dst, int is_input, const cJSON *inb, const char *at,
                        const imp_local *loc, int n)
{
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    int calls, rc, in[IMP_IN_MAX], nin = 0;
    json_at(sub, at, "inbound_nodes");
    if ((rc = json_array_value(inb, sub, 0, 1 << 20, JSON_REQUIRED, &calls, &g->c)))
        return rc;
    imp_layer *L = &g->l[dst];
    if (is_input) {
        if (calls)
            return imp_lfail(g, L, THAW_EFORMAT, "is an input and takes inputs");
        return THAW_OK;
    }
    if (calls != 1)
        return imp_lfail(g, L, THAW_EINVAL, "is called %d times; thaw's layers are called once (a "
                     "shared layer has no place in a tree)", calls);
    const cJSON *call = inb->child;
    json_at_index(el, sub, 0);
    if (cJSON_IsObject(call)) {
        if ((rc = read_args(g, json_get(call, "args"), el, loc, n, in, &nin, 0)))
            return rc;
    } else {
        int refs, i = 0;
        if ((rc = json_array_value(call, el, 1, IMP_IN_MAX, JSON_REQUIRED, &refs, &g->c)))
            return rc;
        for (const cJSON *r = call->child; r; r = r->next, i++) {
            char rat[JSON_PATH_MAX];
            if ((rc = read_ref(g, r, json_at_index(rat, el, i), loc, n, &in[nin++])))
                return rc;
        }
    }
    if (nin == 0)
        return imp_lfail(g, L, THAW_EFORMAT, "takes no input");
    L = &g->l[dst];
    memcpy(L->in, in, sizeof(int) * (size_t)nin);
    L->nin = nin;
    return THAW_OK;
}

/* input_layers or output_layers: exactly one reference. */
static int read_ends(imp_graph *g, const cJSON *cfg, const char *at, const char *key,
                     const imp_local *loc, int n, int want_in, int *node)
{
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX], name[TFJS_NAME_MAX];
    const cJSON *v = json_get(cfg, key);
    int cnt, rc;
    json_at(sub, at, key);
    if (cJSON_IsArray(v) && cJSON_IsString(v->child)) {      /* Keras 3: one [name, 0, 0] */
        cnt = 1;
        json_at_index(el, sub, 0);
    } else {
        if ((rc = json_array_value(v, sub, 1, 1 << 20, JSON_REQUIRED, &cnt, &g->c)))
            return rc;
        if (cnt != 1)
            return thaw_fail(g->c.err, THAW_EINVAL, "%s: %s: %d %s; thaw's models have one input "
                             "and one output", g->c.file, sub, cnt, want_in ? "inputs" : "outputs");
        v = v->child;
        json_at_index(el, sub, 0);
    }
    if ((rc = json_array_value(v, el, 3, 3, JSON_REQUIRED, &cnt, &g->c)) ||
        (rc = json_text_value(v->child, el, name, sizeof name, JSON_REQUIRED, &g->c)))
        return rc;
    const imp_local *hit = local_find(loc, n, name);
    if (!hit)
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: no layer '%s' in this model", g->c.file,
                         el, name);
    *node = want_in ? hit->in : hit->out;
    return THAW_OK;
}

static int read_functional(imp_graph *g, const cJSON *cfg, const char *at, const char *scope,
                           int top, int *in_node, int *out_node)
{
    char sub[JSON_PATH_MAX], el[JSON_PATH_MAX];
    const cJSON *layers = json_get(cfg, "layers");
    int n, rc;
    json_at(sub, at, "layers");
    if ((rc = json_array_value(layers, sub, 1, TFJS_LAYERS_MAX, JSON_REQUIRED, &n, &g->c)))
        return rc;
    imp_local *loc = calloc((size_t)n, sizeof *loc);
    if (!loc)
        return imp_nomem(g);
    int i = 0;
    for (const cJSON *e = layers->child; e && rc == THAW_OK; e = e->next, i++) {
        const cJSON *c = json_get(e, "config"), *nm = json_get(e, "name");
        if (!cJSON_IsString(nm))
            nm = json_get(c, "name");
        rc = read_entry(g, e, json_at_index(el, sub, i), scope, top, &loc[i].in, &loc[i].out,
                        &loc[i].is_model);
        if (rc == THAW_OK && !cJSON_IsString(nm))
            rc = thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: expected a name", g->c.file, el);
        loc[i].name = rc == THAW_OK ? nm->valuestring : "";
        loc[i].entry = i;
    }
    if (rc == THAW_OK) {
        qsort(loc, (size_t)n, sizeof *loc, local_cmp);
        for (i = 1; i < n && rc == THAW_OK; i++)
            if (!strcmp(loc[i - 1].name, loc[i].name))
                rc = thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: two layers are named '%s'; "
                               "expected unique names", g->c.file, sub, loc[i].name);
    }
    for (i = 0; i < n && rc == THAW_OK; i++) {
        const cJSON *e = layers->child;
        for (int k = 0; k < loc[i].entry; k++)
            e = e->next;
        json_at_index(el, sub, loc[i].entry);
        int op = g->l[loc[i].in].op;
        rc = read_inbound(g, loc[i].in, !loc[i].is_model && (op == IMP_INPUT || op == IMP_PASS),
                          json_get(e, "inbound_nodes"), el, loc, n);
    }
    if (rc == THAW_OK)
        rc = read_ends(g, cfg, at, "input_layers", loc, n, 1, in_node);
    if (rc == THAW_OK)
        rc = read_ends(g, cfg, at, "output_layers", loc, n, 0, out_node);
    free(loc);
    return rc;
}

static int read_sequential(imp_graph *g, const cJSON *layers, const char *at, const char *scope,
                           const char *mname, int top, int *in_node, int *out_node)
{
    char el[JSON_PATH_MAX];
    int n, rc, prev = -1, first = -1;
    if ((rc = json_array_value(layers, at, 1, TFJS_LAYERS_MAX, JSON_REQUIRED, &n, &g->c)))
        return rc;
    int i = 0;
    for (const cJSON *e = layers->child; e; e = e->next, i++) {
        int ein, eout, is_model;
        if ((rc = read_entry(g, e, json_at_index(el, at, i), scope, top, &ein, &eout, &is_model)))
            return rc;
        imp_layer *L = &g->l[ein];
        if (!is_model && (L->op == IMP_INPUT || L->op == IMP_PASS)) {
            if (i)
                return imp_lfail(g, L, THAW_EFORMAT, "is an input in the middle of Sequential '%s'",
                             mname);
            first = ein, prev = eout;
            continue;
        }
        if (i == 0) {
            /* No InputLayer: the first layer's batch shape (or its own
             * input's, for a model) is the input. */
            int in;
            if ((rc = add_layer(g, &in)))
                return rc;
            imp_layer *I = &g->l[in], *F = &g->l[ein];
            snprintf(I->name, sizeof I->name, "%.*s_input", (int)sizeof I->name - 7, mname);
            snprintf(I->cls, sizeof I->cls, "InputLayer");
            snprintf(I->scope, sizeof I->scope, "%s", scope);
            I->op = top ? IMP_INPUT : IMP_PASS;
            memcpy(I->in_shape, F->in_shape, sizeof I->in_shape);
            I->in_rank = F->in_rank;
            if (top && !I->in_rank)
                return imp_lfail(g, F, THAW_EFORMAT, "is the first layer and gives no "
                             "batch_input_shape; expected the input's shape");
            first = prev = in;
        }
        L = &g->l[ein];
        if (L->nin)
            return imp_lfail(g, L, THAW_EFORMAT, "is connected twice");
        L->in[0] = prev, L->nin = 1;
        prev = eout;
    }
    *in_node = first, *out_node = prev;
    return THAW_OK;
}

int imp_read_model(imp_graph *g, const cJSON *e, const char *at, const char *scope, int top,
                   int *in_node, int *out_node)
{
    char cls[48], name[TFJS_NAME_MAX] = "model", sub[JSON_PATH_MAX], inner[TFJS_NAME_MAX], got[64];
    int rc = json_text(e, at, "class_name", cls, sizeof cls, JSON_REQUIRED, &g->c);
    if (rc)
        return rc;
    if (!is_model_class(cls))
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s.class_name: '%s'; expected \"Model\", "
                         "\"Functional\" or \"Sequential\"", g->c.file, at, cls);
    if (++g->models > TFJS_MODELS_MAX) {
        g->models--;
        return thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: models nested more than %d deep",
                         g->c.file, at, TFJS_MODELS_MAX);
    }
    const cJSON *cfg = json_get(e, "config");
    json_at(sub, at, "config");
    if (cJSON_IsObject(cfg) && json_get(cfg, "name"))
        rc = json_text(cfg, sub, "name", name, sizeof name, JSON_REQUIRED, &g->c);
    else if (json_get(e, "name"))
        rc = json_text(e, at, "name", name, sizeof name, JSON_REQUIRED, &g->c);
    /* The root's name is not in its weights' names; a nested model's may be. */
    if (rc == THAW_OK && snprintf(inner, sizeof inner, "%s%s%s", scope, top ? "" : name,
                                  top ? "" : "/") >= (int)sizeof inner)
        rc = thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: the names of the models around it are "
                       "longer than %d bytes", g->c.file, at, TFJS_NAME_MAX - 1);
    if (rc == THAW_OK && top && g->rep)
        snprintf(g->rep->model, sizeof g->rep->model, "%s model '%.40s'",
                 strcmp(cls, "Sequential") ? "functional" : "Sequential", name);
    if (rc == THAW_OK && !strcmp(cls, "Sequential") && cJSON_IsArray(cfg)) {
        rc = read_sequential(g, cfg, sub, inner, name, top, in_node, out_node);
    } else if (rc == THAW_OK && !cJSON_IsObject(cfg)) {
        rc = thaw_fail(g->c.err, THAW_EFORMAT, "%s: %s: expected the model's config object, got %s",
                       g->c.file, sub, json_describe(cfg, got, sizeof got));
    } else if (rc == THAW_OK && !strcmp(cls, "Sequential")) {
        char lat[JSON_PATH_MAX];
        rc = read_sequential(g, json_get(cfg, "layers"), json_at(lat, sub, "layers"), inner, name,
                             top, in_node, out_node);
    } else if (rc == THAW_OK) {
        rc = read_functional(g, cfg, sub, inner, top, in_node, out_node);
    }
    g->models--;
    return rc;
}

