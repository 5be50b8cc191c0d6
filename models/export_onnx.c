/* export_onnx.c — a thaw model as an ONNX inference graph (onnx.h): the tree
 * walked depth first, each layer type one entry of `emitters`, written with
 * protobuf-c. Every message is allocated here and freed once the model is
 * packed; the weights are not copied (float_data points into m->param). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "fileio.h"
#include "numtext.h"
#include "onnx.h"
#include "onnx.pb-c.h"

enum { ONNX_EXPORT_OPSET = 14, ONNX_EXPORT_IR = 7 };

typedef struct ox {
    const model *m;
    void **mem;                      /* everything allocated, freed together */
    size_t nmem, capmem;
    Onnx__NodeProto **node;
    size_t nnode, capnode;
    Onnx__TensorProto **init;
    size_t ninit, capinit;
    int nval;                        /* values named so far */
    int failed;                      /* out of memory: every later call fails too */
    thaw_err *err;
    int rc;                          /* the first refusal's status */
    const char *seq_len;             /* a text model: each sample's length (N, 1), floats */
} ox;

static int grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 1;
    size_t c = *cap ? 2 * *cap : 64;
    void *p = realloc(*(void **)arr, c * size);
    if (!p)
        return 0;
    *(void **)arr = p;
    *cap = c;
    return 1;
}

static void *ox_alloc(ox *o, size_t size)
{
    void *p = o->failed ? NULL : calloc(1, size);
    if (!p || !grow(&o->mem, &o->capmem, o->nmem, sizeof *o->mem)) {
        free(p);
        o->failed = 1;
        return NULL;
    }
    return o->mem[o->nmem++] = p;
}

static char *ox_str(ox *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ox_str(ox *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? ox_alloc(o, (size_t)n + 1) : NULL;
    if (s) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return s;
}

/* A refusal naming the layer; the walk stops at the first. */
static const char *ox_refuse(ox *o, const layer *l, const char *why)
{
    if (!o->rc)
        o->rc = thaw_fail(o->err, THAW_EINVAL, "ONNX export: layer '%s' (%s) %s", l->path, l->ops->type, why);
    return NULL;
}

static Onnx__AttributeProto *attr_new(ox *o, const char *name, Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = ox_alloc(o, sizeof *a);
    if (a) {
        *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
        a->name = (char *)name;
        a->has_type = 1, a->type = type;
    }
    return a;
}

static Onnx__AttributeProto *attr_i(ox *o, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = attr_new(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a)
        a->has_i = 1, a->i = v;
    return a;
}

static Onnx__AttributeProto *attr_f(ox *o, const char *name, double v)
{
    Onnx__AttributeProto *a = attr_new(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a)
        a->has_f = 1, a->f = (float)v;
    return a;
}

static Onnx__AttributeProto *attr_is(ox *o, const char *name, const int64_t *v, size_t n)
{
    Onnx__AttributeProto *a = attr_new(o, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    int64_t *copy = ox_alloc(o, n * sizeof *copy);
    if (!a || !copy)
        return NULL;
    memcpy(copy, v, n * sizeof *copy);
    a->n_ints = n, a->ints = copy;
    return a;
}

/* A node op(inputs) -> a new value, whose name it returns. */
static const char *ox_node(ox *o, const char *op, const char *name, const char *const *in, size_t nin,
                           Onnx__AttributeProto *const *attr, size_t nattr)
{
    Onnx__NodeProto *n = ox_alloc(o, sizeof *n);
    char **ins = ox_alloc(o, (nin ? nin : 1) * sizeof *ins), **outs = ox_alloc(o, sizeof *outs);
    Onnx__AttributeProto **as = ox_alloc(o, (nattr ? nattr : 1) * sizeof *as);
    char *out = ox_str(o, "v%d", ++o->nval);
    if (!n || !ins || !outs || !as || !out || !grow(&o->node, &o->capnode, o->nnode, sizeof *o->node)) {
        o->failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < nattr; i++)
        if (!attr[i]) {
            o->failed = 1;
            return NULL;
        }
    *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    n->op_type = (char *)op;
    n->name = ox_str(o, "%s_%d", name, o->nval);
    for (size_t i = 0; i < nin; i++)
        ins[i] = (char *)in[i];
    if (nattr)
        memcpy(as, attr, nattr * sizeof *as);
    outs[0] = out;
    n->n_input = nin, n->input = ins;
    n->n_output = 1, n->output = outs;
    n->n_attribute = nattr, n->attribute = as;
    o->node[o->nnode++] = n;
    return out;
}

/* An initializer of n floats (not copied) with PyTorch's dims; its name. */
static const char *ox_tensor(ox *o, const char *name, const int64_t *dims, int ndim, const float *v, size_t n)
{
    Onnx__TensorProto *t = ox_alloc(o, sizeof *t);
    int64_t *d = ox_alloc(o, (ndim ? (size_t)ndim : 1) * sizeof *d);
    if (!t || !d || !grow(&o->init, &o->capinit, o->ninit, sizeof *o->init)) {
        o->failed = 1;
        return NULL;
    }
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    if (ndim)
        memcpy(d, dims, (size_t)ndim * sizeof *d);
    t->name = (char *)name;
    t->n_dims = (size_t)ndim, t->dims = d;
    t->has_data_type = 1, t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->n_float_data = n, t->float_data = (float *)v;
    o->init[o->ninit++] = t;
    return name;
}

/* An initializer of n int64 values (copied), dims (n) or a scalar; its name. */
static const char *ox_ints(ox *o, const char *name, const int64_t *v, size_t n, int scalar)
{
    int64_t *copy = ox_alloc(o, n * sizeof *copy);
    Onnx__TensorProto *t = ox_alloc(o, sizeof *t);
    int64_t *d = ox_alloc(o, sizeof *d);
    if (!copy || !t || !d || !name || !grow(&o->init, &o->capinit, o->ninit, sizeof *o->init)) {
        o->failed = 1;
        return NULL;
    }
    memcpy(copy, v, n * sizeof *copy);
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    d[0] = (int64_t)n;
    t->name = (char *)name;
    t->n_dims = scalar ? 0 : 1, t->dims = d;
    t->has_data_type = 1, t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_int64_data = n, t->int64_data = copy;
    o->init[o->ninit++] = t;
    return name;
}

/* A float scalar initializer (copied) named PATH.what. */
static const char *ox_scalar(ox *o, const layer *l, const char *what, float v)
{
    float *copy = ox_alloc(o, sizeof *copy);
    const char *name = ox_str(o, "%s.%s", l->path, what);
    if (!copy || !name)
        return NULL;
    *copy = v;
    return ox_tensor(o, name, NULL, 0, copy, 1);
}

/* The layer's k-th slice as an initializer named as PyTorch names it. */
static const char *ox_slice(ox *o, const layer *l, int k)
{
    if (k >= l->nslice)
        return NULL;
    const param_slice *s = &o->m->slice[l->slice0 + k];
    int64_t dims[PARAM_MAX_DIMS];
    for (int i = 0; i < s->ndim; i++)
        dims[i] = s->dim[i];
    return ox_tensor(o, s->name, dims, s->ndim, o->m->param + s->off, s->len);
}

static double hp(const layer *l, const char *key, double def)
{
    double v[32];
    if (!l->ops->hparams || l->ops->nhp > 32)
        return def;
    l->ops->hparams(l, v);
    for (int i = 0; i < l->ops->nhp; i++)
        if (!strcmp(l->ops->hp[i].key, key))
            return v[i];
    return def;
}

/* ---- the layers ---------------------------------------------------------------- */

typedef const char *(*emit_fn)(ox *o, const layer *l, const char *x, int *flat);
static const char *emit(ox *o, const layer *l, const char *x, int *flat);

static const char *emit_chain(ox *o, const layer *l, const char *x, int *flat, int with_side)
{
    for (int i = 0; x && i < l->nchild; i++)
        if (with_side || !l->child[i]->side)
            x = emit(o, l->child[i], x, flat);
    return x;
}

static const char *emit_sequential(ox *o, const layer *l, const char *x, int *flat)
{
    return emit_chain(o, l, x, flat, 1);
}

static const char *emit_residual(ox *o, const layer *l, const char *x, int *flat)
{
    int fb = *flat, fs = *flat;
    const char *body = emit_chain(o, l, x, &fb, 0), *side = x;
    for (int i = 0; i < l->nchild; i++)
        if (l->child[i]->side)
            side = emit(o, l->child[i], x, &fs);
    if (!body || !side)
        return NULL;
    const char *sum = ox_node(o, "Add", l->path, (const char *[]){ body, side }, 2, NULL, 0);
    *flat = fb;
    if (hp(l, "activation", 0) != 0)
        sum = ox_node(o, "Relu", l->path, &sum, 1, NULL, 0);
    return sum;
}

static const char *emit_gate(ox *o, const layer *l, const char *x, int *flat)
{
    int fg = *flat;
    const char *g = emit_chain(o, l, x, &fg, 1);
    return g ? ox_node(o, "Mul", l->path, (const char *[]){ x, g }, 2, NULL, 0) : NULL;
}

static const char *emit_concat(ox *o, const layer *l, const char *x, int *flat)
{
    const char **b = ox_alloc(o, (size_t)(l->nchild ? l->nchild : 1) * sizeof *b);
    if (!b)
        return NULL;
    int fb = *flat;
    for (int i = 0; i < l->nchild; i++) {
        fb = *flat;
        if (!(b[i] = emit(o, l->child[i], x, &fb)))
            return NULL;
    }
    *flat = fb;
    Onnx__AttributeProto *a[] = { attr_i(o, "axis", 1) };
    return ox_node(o, "Concat", l->path, b, (size_t)l->nchild, a, 1);
}

/* ---- text: ids (N, 1, 1, L) -> vectors (N, D, L), the pools over time ---------- */

/* A sequence travels as (N, C, L), *flat 2: thaw's (C, 1, L) without the 1,
 * the layout of ONNX's 1-D Conv. */
enum { FLAT_MAP, FLAT_VEC, FLAT_SEQ };

static const char *ox_cast(ox *o, const layer *l, const char *x, int to)
{
    Onnx__AttributeProto *a[] = { attr_i(o, "to", to) };
    return ox_node(o, "Cast", l->path, &x, 1, a, 1);
}

static const char *ox_unsqueeze(ox *o, const layer *l, const char *x, int64_t axis)
{
    const char *axes = ox_ints(o, ox_str(o, "%s.axis%lld", l->path, (long long)axis), &axis, 1, 0);
    return axes ? ox_node(o, "Unsqueeze", l->path, (const char *[]){ x, axes }, 2, NULL, 0) : NULL;
}

/* embedding.c's lookup: an id is the float rounded to the nearest integer
 * (Round, half to even as lrintf); ids outside (-0.5, V - 0.5) and the
 * padding id look up zeros. The length of a sample is one past its last
 * real id: the largest of (t + 1)·real_t. */
static const char *emit_embedding(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat != FLAT_MAP || o->seq_len)
        return ox_refuse(o, l, "does not read the model's input; thaw exports an embedding that comes first");
    int vocab = (int)hp(l, "num_embeddings", 0), pad = (int)hp(l, "padding_idx", 0), L = l->in.w;
    Onnx__AttributeProto *fa[] = { attr_i(o, "axis", 1) };
    const char *ids = ox_node(o, "Flatten", l->path, &x, 1, fa, 1);            /* (N, L) */
    const char *r = ox_node(o, "Round", l->path, &ids, 1, NULL, 0);
    const char *lo = ox_scalar(o, l, "low", -0.5f), *hi = ox_scalar(o, l, "high", (float)vocab - 0.5f);
    const char *gt = ox_node(o, "Greater", l->path, (const char *[]){ ids, lo }, 2, NULL, 0);
    const char *lt = ox_node(o, "Less", l->path, (const char *[]){ ids, hi }, 2, NULL, 0);
    const char *ok = ox_node(o, "And", l->path, (const char *[]){ gt, lt }, 2, NULL, 0);
    if (pad >= 0) {
        const char *p = ox_scalar(o, l, "padding_idx", (float)pad);
        const char *eq = ox_node(o, "Equal", l->path, (const char *[]){ r, p }, 2, NULL, 0);
        const char *ne = ox_node(o, "Not", l->path, &eq, 1, NULL, 0);
        ok = ox_node(o, "And", l->path, (const char *[]){ ok, ne }, 2, NULL, 0);
    }
    const char *zero = ox_scalar(o, l, "zero", 0.0f);
    const char *safe = ox_node(o, "Where", l->path, (const char *[]){ ok, r, zero }, 3, NULL, 0);
    const char *idx = ox_cast(o, l, safe, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    const char *w = ox_slice(o, l, 0);
    const char *g = ox_node(o, "Gather", l->path, (const char *[]){ w, idx }, 2,
                            (Onnx__AttributeProto *const[]){ attr_i(o, "axis", 0) }, 1);   /* (N, L, D) */
    const char *okf = ox_cast(o, l, ok, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    const char *v = ox_node(o, "Mul", l->path, (const char *[]){ g, ox_unsqueeze(o, l, okf, 2) }, 2, NULL, 0);
    const char *y = ox_node(o, "Transpose", l->path, &v, 1,
                            (Onnx__AttributeProto *const[]){ attr_is(o, "perm", (int64_t[]){ 0, 2, 1 }, 3) }, 1);
    float *pos = ox_alloc(o, (size_t)L * sizeof *pos);
    const char *pn = ox_str(o, "%s.positions", l->path);
    if (!pos || !pn)
        return NULL;
    for (int t = 0; t < L; t++)
        pos[t] = (float)(t + 1);
    const char *at = ox_node(o, "Mul", l->path, (const char *[]){ okf, ox_tensor(o, pn, (int64_t[]){ L }, 1, pos,
                                                                                  (size_t)L) }, 2, NULL, 0);
    Onnx__AttributeProto *ra[] = { attr_is(o, "axes", (int64_t[]){ 1 }, 1), attr_i(o, "keepdims", 1) };
    o->seq_len = ox_node(o, "ReduceMax", l->path, &at, 1, ra, 2);              /* (N, 1) */
    *flat = FLAT_SEQ;
    return o->seq_len ? y : NULL;
}

/* embedding_seq_len at a pool over S steps: n = clip(len + S - L, 1, S), 0
 * for a sample with no real id (len 0: min(len, 1) is 0 or 1). Its mask
 * t < n as (N, 1, S) booleans. */
static const char *seq_mask(ox *o, const layer *l, const char **n)
{
    int S = l->in.w, L = o->m->seq->out.w;
    const char *one = ox_scalar(o, l, "one", 1.0f);
    const char *shifted = ox_node(o, "Add", l->path, (const char *[]){ o->seq_len, ox_scalar(o, l, "shift",
                                                                        (float)(S - L)) }, 2, NULL, 0);
    const char *clip = ox_node(o, "Clip", l->path, (const char *[]){ shifted, one, ox_scalar(o, l, "steps",
                                                                     (float)S) }, 3, NULL, 0);
    const char *any = ox_node(o, "Min", l->path, (const char *[]){ o->seq_len, one }, 2, NULL, 0);
    *n = ox_node(o, "Mul", l->path, (const char *[]){ clip, any }, 2, NULL, 0);   /* (N, 1) */
    float *t = ox_alloc(o, (size_t)S * sizeof *t);
    const char *tn = ox_str(o, "%s.positions", l->path);
    if (!t || !tn)
        return NULL;
    for (int i = 0; i < S; i++)
        t[i] = (float)i;
    const char *lt = ox_node(o, "Less", l->path, (const char *[]){ ox_tensor(o, tn, (int64_t[]){ S }, 1, t,
                                                                   (size_t)S), *n }, 2, NULL, 0);   /* (N, S) */
    return ox_unsqueeze(o, l, lt, 1);
}

static const char *emit_seqmean(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat != FLAT_SEQ)
        return ox_refuse(o, l, "does not follow a sequence; thaw exports pools over an embedding's time");
    const char *n, *mask = seq_mask(o, l, &n);
    const char *mf = mask ? ox_cast(o, l, mask, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) : NULL;
    const char *xm = ox_node(o, "Mul", l->path, (const char *[]){ x, mf }, 2, NULL, 0);
    const char *axes = ox_ints(o, ox_str(o, "%s.axes", l->path), (int64_t[]){ 2 }, 1, 0);
    const char *s = ox_node(o, "ReduceSum", l->path, (const char *[]){ xm, axes }, 2,
                            (Onnx__AttributeProto *const[]){ attr_i(o, "keepdims", 0) }, 1);   /* (N, C) */
    const char *d = ox_node(o, "Max", l->path, (const char *[]){ n, ox_scalar(o, l, "floor", 1.0f) }, 2, NULL, 0);
    *flat = FLAT_VEC;
    return ox_node(o, "Div", l->path, (const char *[]){ s, d }, 2, NULL, 0);
}

static const char *emit_seqmax(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat != FLAT_SEQ)
        return ox_refuse(o, l, "does not follow a sequence; thaw exports pools over an embedding's time");
    const char *n, *mask = seq_mask(o, l, &n);
    const char *xm = ox_node(o, "Where", l->path, (const char *[]){ mask, x, ox_scalar(o, l, "lowest", -FLT_MAX) },
                             3, NULL, 0);
    Onnx__AttributeProto *ra[] = { attr_is(o, "axes", (int64_t[]){ 2 }, 1), attr_i(o, "keepdims", 0) };
    const char *mx = ox_node(o, "ReduceMax", l->path, &xm, 1, ra, 2);            /* (N, C) */
    const char *zero = ox_scalar(o, l, "zero", 0.0f);
    const char *any = ox_node(o, "Greater", l->path, (const char *[]){ n, zero }, 2, NULL, 0);
    *flat = FLAT_VEC;
    return ox_node(o, "Where", l->path, (const char *[]){ any, mx, zero }, 3, NULL, 0);
}

static const char *emit_conv1d(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat != FLAT_SEQ)
        return ox_refuse(o, l, "does not follow a sequence; thaw exports 1-D convolutions over an embedding's time");
    int64_t k = (int64_t)hp(l, "kernel_size", 1), p = (int64_t)hp(l, "padding", 0);
    const char *w = ox_slice(o, l, 0), *b = hp(l, "bias", 0) != 0 ? ox_slice(o, l, 1) : NULL;
    Onnx__AttributeProto *a[] = {
        attr_is(o, "kernel_shape", &k, 1), attr_is(o, "strides", (int64_t[]){ 1 }, 1),
        attr_is(o, "pads", (int64_t[]){ p, p }, 2), attr_is(o, "dilations", (int64_t[]){ 1 }, 1),
        attr_i(o, "group", 1),
    };
    if (!w)
        return NULL;
    return ox_node(o, "Conv", l->path, (const char *[]){ x, w, b }, b ? 3 : 2, a, 5);
}

/* A 2-D layer after a vector or a sequence: refused naming which. */
static const char *refuse_not_map(ox *o, const layer *l, int flat, const char *what)
{
    const char *why = ox_str(o, "follows a %s; thaw exports %s of image maps",
                             flat == FLAT_SEQ ? "sequence (an embedding's)" : "flattened tensor", what);
    return why ? ox_refuse(o, l, why) : NULL;
}

static const char *emit_conv2d(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat)
        return refuse_not_map(o, l, *flat, "convolutions");
    int64_t k = (int64_t)hp(l, "kernel_size", 1), s = (int64_t)hp(l, "stride", 1);
    int64_t pads[4] = { (int64_t)hp(l, "pad_top", 0), (int64_t)hp(l, "pad_left", 0),
                        (int64_t)hp(l, "pad_bottom", 0), (int64_t)hp(l, "pad_right", 0) };
    const char *w = ox_slice(o, l, 0), *b = hp(l, "bias", 0) != 0 ? ox_slice(o, l, 1) : NULL;
    Onnx__AttributeProto *a[] = {
        attr_is(o, "kernel_shape", (int64_t[]){ k, k }, 2), attr_is(o, "strides", (int64_t[]){ s, s }, 2),
        attr_is(o, "pads", pads, 4), attr_is(o, "dilations", (int64_t[]){ 1, 1 }, 2),
        attr_i(o, "group", (int64_t)hp(l, "groups", 1)),
    };
    if (!w)
        return NULL;
    return ox_node(o, "Conv", l->path, (const char *[]){ x, w, b }, b ? 3 : 2, a, 5);
}

static const char *emit_batchnorm2d(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat)
        return refuse_not_map(o, l, *flat, "BatchNorm");
    const char *in[5] = { x, ox_slice(o, l, 0), ox_slice(o, l, 1), ox_slice(o, l, 2), ox_slice(o, l, 3) };
    Onnx__AttributeProto *a[] = { attr_f(o, "epsilon", hp(l, "eps", 1e-5)),
                                  attr_f(o, "momentum", 1.0 - hp(l, "momentum", 0.1)) };
    for (int i = 1; i < 5; i++)
        if (!in[i])
            return NULL;
    return ox_node(o, "BatchNormalization", l->path, in, 5, a, 2);
}

static const char *emit_linear(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat != FLAT_VEC) {
        Onnx__AttributeProto *a[] = { attr_i(o, "axis", 1) };
        x = ox_node(o, "Flatten", l->path, &x, 1, a, 1);
        *flat = 1;
    }
    const char *w = ox_slice(o, l, 0), *b = hp(l, "bias", 0) != 0 ? ox_slice(o, l, 1) : NULL;
    Onnx__AttributeProto *a[] = { attr_i(o, "transB", 1) };
    if (!x || !w)
        return NULL;
    return ox_node(o, "Gemm", l->path, (const char *[]){ x, w, b }, b ? 3 : 2, a, 1);
}

static const char *emit_flatten(ox *o, const layer *l, const char *x, int *flat)
{
    *flat = 1;
    Onnx__AttributeProto *a[] = { attr_i(o, "axis", 1) };
    return ox_node(o, "Flatten", l->path, &x, 1, a, 1);
}

static const char *emit_maxpool2d(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat)
        return refuse_not_map(o, l, *flat, "pools");
    int64_t k = (int64_t)hp(l, "kernel_size", 2), s = (int64_t)hp(l, "stride", (double)k),
            p = (int64_t)hp(l, "padding", 0);
    Onnx__AttributeProto *a[] = { attr_is(o, "kernel_shape", (int64_t[]){ k, k }, 2),
                                  attr_is(o, "strides", (int64_t[]){ s, s }, 2),
                                  attr_is(o, "pads", (int64_t[]){ p, p, p, p }, 4) };
    return ox_node(o, "MaxPool", l->path, &x, 1, a, 3);
}

static const char *emit_avgpool(ox *o, const layer *l, const char *x, int *flat)
{
    if (*flat)
        return refuse_not_map(o, l, *flat, "pools");
    return ox_node(o, "GlobalAveragePool", l->path, &x, 1, NULL, 0);
}

static const char *emit_dropout(ox *o, const layer *l, const char *x, int *flat)
{
    (void)o, (void)l, (void)flat;
    return x;                        /* an inference graph: the identity */
}

static const char *emit_relu6(ox *o, const layer *l, const char *x, int *flat)
{
    (void)flat;
    static const float lo = 0.0f, hi = 6.0f;
    const char *a = ox_tensor(o, ox_str(o, "%s.min", l->path), NULL, 0, &lo, 1);
    const char *b = ox_tensor(o, ox_str(o, "%s.max", l->path), NULL, 0, &hi, 1);
    return a && b ? ox_node(o, "Clip", l->path, (const char *[]){ x, a, b }, 3, NULL, 0) : NULL;
}

static const char *emit_hardsigmoid(ox *o, const layer *l, const char *x, int *flat)
{
    (void)flat;
    Onnx__AttributeProto *a[] = { attr_f(o, "alpha", 1.0 / 6), attr_f(o, "beta", 0.5) };
    return ox_node(o, "HardSigmoid", l->path, &x, 1, a, 2);
}

static const char *emit_silu(ox *o, const layer *l, const char *x, int *flat)
{
    (void)flat;
    const char *s = ox_node(o, "Sigmoid", l->path, &x, 1, NULL, 0);
    return s ? ox_node(o, "Mul", l->path, (const char *[]){ x, s }, 2, NULL, 0) : NULL;
}

#define EMIT_ACT(name, op) \
    static const char *emit_##name(ox *o, const layer *l, const char *x, int *flat) \
    {                                                                                 \
        (void)flat;                                                                   \
        return ox_node(o, op, l->path, &x, 1, NULL, 0);                               \
    }
EMIT_ACT(relu, "Relu")
EMIT_ACT(sigmoid, "Sigmoid")
EMIT_ACT(hardswish, "HardSwish")
#undef EMIT_ACT

static const struct {
    const char *type;
    emit_fn emit;
} emitters[] = {
    { "sequential", emit_sequential }, { "residual", emit_residual }, { "gate", emit_gate },
    { "concat", emit_concat }, { "conv2d", emit_conv2d }, { "batchnorm2d", emit_batchnorm2d },
    { "linear", emit_linear }, { "flatten", emit_flatten }, { "maxpool2d", emit_maxpool2d },
    { "avgpool", emit_avgpool }, { "dropout", emit_dropout }, { "relu", emit_relu },
    { "relu6", emit_relu6 }, { "sigmoid", emit_sigmoid }, { "hardswish", emit_hardswish },
    { "hardsigmoid", emit_hardsigmoid }, { "silu", emit_silu }, { "embedding", emit_embedding },
    { "conv1d", emit_conv1d }, { "seqmean", emit_seqmean }, { "seqmax", emit_seqmax },
};

static const char *emit(ox *o, const layer *l, const char *x, int *flat)
{
    if (!x || o->rc || o->failed)
        return NULL;
    for (size_t i = 0; i < sizeof emitters / sizeof emitters[0]; i++)
        if (!strcmp(l->ops->type, emitters[i].type))
            return emitters[i].emit(o, l, x, flat);
    return ox_refuse(o, l, "has no ONNX form here: thaw exports convolutions, BatchNorm, pools, linear "
                     "layers, their activations, residuals, gates and concats, and embeddings, 1-D "
                     "convolutions and pools over time");
}

/* ---- the model ------------------------------------------------------------------ */

static Onnx__ValueInfoProto *value_info(ox *o, const char *name, const int64_t *dims, int n)
{
    Onnx__ValueInfoProto *v = ox_alloc(o, sizeof *v);
    Onnx__TypeProto *t = ox_alloc(o, sizeof *t);
    Onnx__TypeProto__Tensor *tt = ox_alloc(o, sizeof *tt);
    Onnx__TensorShapeProto *sh = ox_alloc(o, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **d = ox_alloc(o, (size_t)n * sizeof *d);
    if (!v || !t || !tt || !sh || !d)
        return NULL;
    for (int i = 0; i < n; i++) {
        if (!(d[i] = ox_alloc(o, sizeof *d[i])))
            return NULL;
        *d[i] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        if (dims[i] < 0) {           /* the batch: any size */
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d[i]->dim_param = "N";
        } else {
            d[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d[i]->dim_value = dims[i];
        }
    }
    *sh = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    sh->n_dim = (size_t)n, sh->dim = d;
    *tt = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    tt->has_elem_type = 1, tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, tt->shape = sh;
    *t = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tensor_type = tt;
    *v = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    v->name = (char *)name, v->type = t;
    return v;
}

static Onnx__StringStringEntryProto *ox_prop(ox *o, const char *key, const char *value)
{
    Onnx__StringStringEntryProto *p = ox_alloc(o, sizeof *p);
    char *v = value ? ox_str(o, "%s", value) : NULL;
    if (!p || !v)
        return NULL;
    *p = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    p->key = (char *)key, p->value = v;
    return p;
}

/* "0.286,0.5,...": n values, each the shortest text that reads back. */
static char *ox_values(ox *o, const double *v, int n)
{
    char *s = ox_alloc(o, (size_t)n * 40 + 1), one[40];
    for (int i = 0; s && i < n; i++) {
        num_shortest(one, sizeof one, v[i]);
        strcat(strcat(s, i ? "," : ""), one);
    }
    return s;
}

/* The file's metadata: what thaw import reads back (class names, the inputs'
 * normalisation) and a reader may show. */
static int ox_metadata(ox *o, const mf_meta *meta, Onnx__StringStringEntryProto ***props, size_t *n)
{
    *n = 0;
    if (!meta)
        return THAW_OK;
    cJSON *names = cJSON_CreateArray();
    for (int k = 0; names && k < meta->nclass; k++)
        if (!cJSON_AddItemToArray(names, cJSON_CreateString(meta->class_name[k]))) {
            cJSON_Delete(names);
            names = NULL;
        }
    char *text = names ? cJSON_PrintUnformatted(names) : NULL;
    cJSON_Delete(names);
    Onnx__StringStringEntryProto **p = ox_alloc(o, 4 * sizeof *p);
    char *vocab = meta->vocab ? ox_alloc(o, meta->vocab_len + 1) : NULL;
    if (vocab)
        memcpy(vocab, meta->vocab, meta->vocab_len);
    if (p) {
        p[0] = ox_prop(o, "thaw.classes", text);
        p[1] = ox_prop(o, "thaw.mean", ox_values(o, meta->mean, meta->input.c));
        p[2] = ox_prop(o, "thaw.std", ox_values(o, meta->std, meta->input.c));
    }
    if (text)
        cJSON_free(text);
    if (p && vocab)
        p[3] = ox_prop(o, "thaw.vocabulary", vocab);
    if (!p || !p[0] || !p[1] || !p[2] || (meta->vocab && !p[3])) {
        o->failed = 1;
        return THAW_ENOMEM;
    }
    *props = p;
    *n = meta->vocab ? 4 : 3;
    return THAW_OK;
}

int onnx_export_mem(const mf_meta *meta, const model *m, uint8_t **buf, size_t *len, thaw_err *err)
{
    *buf = NULL;
    *len = 0;
    ox o = { .m = m, .err = err };
    int flat = 0;
    const char *y = emit(&o, m->root, "input", &flat);
    if (y && !strcmp(y, "input"))
        y = ox_node(&o, "Identity", "output", &y, 1, NULL, 0);
    shape3 out = m->root->out;
    int64_t in_dims[4] = { -1, m->in.c, m->in.h, m->in.w };
    int64_t out_dims[4] = { -1, out.c, out.h, out.w };
    Onnx__ValueInfoProto *vin = value_info(&o, "input", in_dims, 4);
    if (flat == FLAT_SEQ)
        out_dims[2] = out.w;
    Onnx__ValueInfoProto *vout = y ? value_info(&o, y, out_dims, flat == FLAT_VEC ? 2 : flat == FLAT_SEQ ? 3 : 4)
                                   : NULL;
    Onnx__GraphProto *g = ox_alloc(&o, sizeof *g);
    Onnx__OperatorSetIdProto *ops = ox_alloc(&o, sizeof *ops);
    Onnx__OperatorSetIdProto **opsp = ox_alloc(&o, sizeof *opsp);
    Onnx__ValueInfoProto **ins = ox_alloc(&o, sizeof *ins), **outs = ox_alloc(&o, sizeof *outs);
    char *doc = meta && m->seq ? ox_str(&o, "thaw model, %d classes; inputs are token ids (floats, one a "
                                        "position) of the words in metadata thaw.vocabulary", meta->nclass)
              : meta ? ox_str(&o, "thaw model, %d classes; inputs are images on [0, 1] normalised by mean %g "
                              "and std %g (first channel)", meta->nclass, meta->mean[0],
                              meta->std[0]) : NULL;
    Onnx__StringStringEntryProto **props = NULL;
    size_t nprops = 0;
    ox_metadata(&o, meta, &props, &nprops);
    int rc = o.rc;
    if (!rc && (o.failed || !y || !vin || !vout || !g || !ops || !opsp || !ins || !outs || (meta && !doc)))
        rc = thaw_fail(err, THAW_ENOMEM, "ONNX export: out of memory");
    if (!rc) {
        *g = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
        g->name = "thaw";
        g->n_node = o.nnode, g->node = o.node;
        g->n_initializer = o.ninit, g->initializer = o.init;
        ins[0] = vin, outs[0] = vout;
        g->n_input = 1, g->input = ins;
        g->n_output = 1, g->output = outs;
        *ops = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
        ops->domain = "";
        ops->has_version = 1, ops->version = ONNX_EXPORT_OPSET;
        opsp[0] = ops;
        Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
        mp.has_ir_version = 1, mp.ir_version = ONNX_EXPORT_IR;
        mp.n_opset_import = 1, mp.opset_import = opsp;
        mp.producer_name = "thaw";
        mp.doc_string = doc;
        mp.n_metadata_props = nprops, mp.metadata_props = props;
        mp.graph = g;
        size_t size = onnx__model_proto__get_packed_size(&mp);
        if (!(*buf = malloc(size ? size : 1)))
            rc = thaw_fail(err, THAW_ENOMEM, "ONNX export: out of memory for %zu bytes", size);
        else
            *len = onnx__model_proto__pack(&mp, *buf);
    }
    for (size_t i = 0; i < o.nmem; i++)
        free(o.mem[i]);
    free(o.mem);
    free(o.node);
    free(o.init);
    return rc;
}

int onnx_export(const mf_meta *meta, const model *m, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    int rc = onnx_export_mem(meta, m, &buf, &len, err);
    if (rc)
        return rc;
    const char *paths[] = { path };
    const void *bufs[] = { buf };
    rc = fio_save(paths, bufs, &len, 1, err);
    free(buf);
    return rc;
}
