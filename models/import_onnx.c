/* import_onnx.c — ONNX models into thaw (see onnx.h).
 *
 * protobuf-c unpacks the file with the code protoc-c generated from
 * ONNX's schema. Every value of the graph is then looked up by name: the
 * graph's input, a node's output, or a tensor (an initializer or a Constant
 * node's value). Each node becomes one layer of the table import_keras.c
 * builds the tree from, with its weights converted to the layouts that
 * table's binder expects (Keras': a convolution's kernel k x k x C/g x O, a
 * dense layer's I x O); two patterns fold into one layer first:
 * x·sigmoid(x) is SiLU, and MatMul followed by the Add of a bias is a dense
 * layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "import_impl.h"
#include "mf_impl.h"
#include "onnx.h"
#include "onnx.pb-c.h"

/* What a value of the graph is. */
enum { VAL_INPUT, VAL_NODE, VAL_TENSOR };

typedef struct onnx_val {
    const char *name;
    int kind;
    int node;                       /* VAL_NODE: the producing node */
    const Onnx__TensorProto *t;     /* VAL_TENSOR */
    int uses;                       /* nodes taking it */
} onnx_val;

/* A weight to convert once the shapes are known. */
enum { W_PLAIN, W_CONV, W_GEMM_T, W_GEMM };

typedef struct onnx_pending {
    int layer;
    char var[24];
    const Onnx__TensorProto *t;
    int how;
} onnx_pending;

typedef struct onnx_ctx {
    imp_graph g;
    const Onnx__GraphProto *gp;
    onnx_val *v;
    int nv;
    int *node_layer;                /* per node: its layer, or -1 */
    int *fold;                      /* per node: 1 folded into another */
    onnx_pending *w;
    int nw, wcap;
    uint64_t max_floats, floats;
    int thaw_made;                  /* written by thaw export onnx: nodes named PATH_N */
} onnx_ctx;

static int val_cmp(const void *a, const void *b)
{
    return strcmp(((const onnx_val *)a)->name, ((const onnx_val *)b)->name);
}

static onnx_val *val_find(onnx_ctx *x, const char *name)
{
    onnx_val key = { .name = name };
    return name ? bsearch(&key, x->v, (size_t)x->nv, sizeof *x->v, val_cmp) : NULL;
}

static const char *node_label(const Onnx__NodeProto *n)
{
    return n->name && n->name[0] ? n->name : n->n_output && n->output[0] ? n->output[0] : "";
}

/* "FILE: node 'NAME' (OP) WHAT" */
static int nfail(onnx_ctx *x, const Onnx__NodeProto *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int nfail(onnx_ctx *x, const Onnx__NodeProto *n, int code, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return thaw_fail(x->g.c.err, code, "%s: node '%.100s' (%.40s) %s", x->g.c.file, node_label(n),
                     n->op_type ? n->op_type : "", what);
}

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

static int64_t attr_int(const Onnx__NodeProto *n, const char *name, int64_t def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_i ? a->i : def;
}

static double attr_float(const Onnx__NodeProto *n, const char *name, double def)
{
    const Onnx__AttributeProto *a = attr(n, name);
    return a && a->has_f ? a->f : def;
}

/* An INTS attribute of want values (0: any up to cap) into out; *got how many. */
static int attr_ints(onnx_ctx *x, const Onnx__NodeProto *n, const char *name, int64_t *out,
                     int cap, int *got)
{
    const Onnx__AttributeProto *a = attr(n, name);
    *got = 0;
    if (!a)
        return THAW_OK;
    if (a->n_ints > (size_t)cap)
        return nfail(x, n, THAW_EFORMAT, "has %zu values in '%s'; expected at most %d", a->n_ints,
                     name, cap);
    for (size_t i = 0; i < a->n_ints; i++)
        out[i] = a->ints[i];
    *got = (int)a->n_ints;
    return THAW_OK;
}

/* ---- tensors ---------------------------------------------------------------- */

/* Checks tensor t holds float32 (or int64 when ints) values for its dims;
 * *count their number. */
static int tensor_dims(onnx_ctx *x, const Onnx__TensorProto *t, const char *what, uint64_t *count)
{
    uint64_t c = 1;
    const char *name = t->name ? t->name : "";
    if (t->n_dims > TFJS_RANK_MAX)
        return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: %s '%.100s' has %zu dimensions; expected at "
                         "most %d", x->g.c.file, what, name, t->n_dims, TFJS_RANK_MAX);
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (uint64_t)t->dims[i] > x->max_floats || (c *= (uint64_t)t->dims[i]) >
            x->max_floats)
            return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: %s '%.100s': dimension %zu is %lld; "
                             "expected sizes of at most %llu values in all", x->g.c.file, what, name,
                             i, (long long)t->dims[i], (unsigned long long)x->max_floats);
    }
    *count = c;
    return THAW_OK;
}

static int tensor_check(onnx_ctx *x, const Onnx__TensorProto *t, const char *what, int ints,
                        uint64_t *count)
{
    uint64_t c = 0;
    const char *name = t->name ? t->name : "";
    int rc = tensor_dims(x, t, what, &c);
    if (rc)
        return rc;
    if (t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: %s '%.100s' keeps its data in another file; "
                         "thaw reads models whose weights are inside the .onnx file", x->g.c.file,
                         what, name);
    int want = ints ? ONNX__TENSOR_PROTO__DATA_TYPE__INT64 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (t->data_type != want)
        return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: %s '%.100s' has data type %d; expected %s",
                         x->g.c.file, what, name, t->data_type, ints ? "int64 (7)" : "float32 (1)");
    size_t elem = ints ? 8 : 4;
    size_t bytes = t->has_raw_data ? t->raw_data.len : (ints ? t->n_int64_data : t->n_float_data) * elem;
    if (bytes != c * elem)
        return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: %s '%.100s': its dimensions declare %llu "
                         "values; the file holds %zu bytes of them", x->g.c.file, what, name,
                         (unsigned long long)c, bytes);
    *count = c;
    return THAW_OK;
}

static float tensor_f(const Onnx__TensorProto *t, uint64_t i)
{
    if (!t->has_raw_data)
        return t->float_data[i];
    float f;
    memcpy(&f, t->raw_data.data + 4 * i, 4);
    return f;
}

static int64_t tensor_i(const Onnx__TensorProto *t, uint64_t i)
{
    if (!t->has_raw_data)
        return t->int64_data[i];
    int64_t v;
    memcpy(&v, t->raw_data.data + 8 * i, 8);
    return v;
}

/* Input k of node n as a weight tensor; NULL with *rc set (or, optional
 * and absent, *rc THAW_OK). */
static const Onnx__TensorProto *weight_in(onnx_ctx *x, const Onnx__NodeProto *n, size_t k,
                                          int optional, int *rc)
{
    *rc = THAW_OK;
    if (k >= n->n_input || !n->input[k][0]) {
        if (!optional)
            *rc = nfail(x, n, THAW_EFORMAT, "has no input %zu; expected a weight there", k);
        return NULL;
    }
    onnx_val *v = val_find(x, n->input[k]);
    if (!v)
        *rc = nfail(x, n, THAW_EFORMAT, "takes '%.100s', which no initializer, node or input "
                    "gives", n->input[k]);
    else if (v->kind != VAL_TENSOR)
        *rc = nfail(x, n, THAW_EINVAL, "takes '%.100s' as input %zu, computed by the graph; thaw "
                    "needs a constant weight there", n->input[k], k);
    uint64_t count;
    if (*rc == THAW_OK)
        *rc = tensor_dims(x, v->t, "weight", &count);
    return *rc ? NULL : v->t;
}

static int dims_are(const Onnx__TensorProto *t, int nd, const int64_t *d)
{
    if ((int)t->n_dims != nd)
        return 0;
    for (int i = 0; i < nd; i++)
        if (d[i] >= 0 && t->dims[i] != d[i])
            return 0;
    return 1;
}

static int pend(onnx_ctx *x, const Onnx__NodeProto *n, int li, const char *var,
                const Onnx__TensorProto *t, int how)
{
    uint64_t count = 0;
    int rc = tensor_check(x, t, "weight", 0, &count);
    if (rc)
        return rc;
    if ((x->floats += count) > x->max_floats)
        return nfail(x, n, THAW_EFORMAT, "brings the weights past %llu values",
                     (unsigned long long)x->max_floats);
    if (x->nw == x->wcap) {
        int cap = x->wcap ? 2 * x->wcap : 64;
        onnx_pending *p = realloc(x->w, (size_t)cap * sizeof *p);
        if (!p)
            return imp_nomem(&x->g);
        x->w = p, x->wcap = cap;
    }
    onnx_pending *p = &x->w[x->nw++];
    p->layer = li, p->t = t, p->how = how;
    snprintf(p->var, sizeof p->var, "%s", var);
    return THAW_OK;
}

/* ---- the nodes -------------------------------------------------------------- */

/* The layer computing input k of node n (the graph's input is layer 0). */
static int data_in(onnx_ctx *x, const Onnx__NodeProto *n, size_t k, int *from)
{
    onnx_val *v = k < n->n_input ? val_find(x, n->input[k]) : NULL;
    if (k >= n->n_input)
        return nfail(x, n, THAW_EFORMAT, "has no input %zu", k);
    if (!v)
        return nfail(x, n, THAW_EFORMAT, "takes '%.100s', which no initializer, node or input "
                     "gives", n->input[k]);
    if (v->kind == VAL_TENSOR)
        return nfail(x, n, THAW_EINVAL, "takes the constant '%.100s' as input %zu; thaw's layers "
                     "take computed values there", n->input[k], k);
    *from = v->kind == VAL_INPUT ? 0 : x->node_layer[v->node];
    if (*from < 0)
        return nfail(x, n, THAW_EINVAL, "takes '%.100s', which thaw folded into another layer",
                     n->input[k]);
    return THAW_OK;
}

/* A square window, equal strides, dilation 1 and explicit padding into L. */
static int window(onnx_ctx *x, const Onnx__NodeProto *n, imp_layer *L, int k_from_weight)
{
    int64_t ks[4], st[4] = { 1, 1 }, pads[8] = { 0 }, dil[4] = { 1, 1 };
    int nk, ns, np, nd, rc;
    const Onnx__AttributeProto *ap = attr(n, "auto_pad");
    if (ap && ap->has_s && !(ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
        return nfail(x, n, THAW_EINVAL, "pads with auto_pad '%.*s'; thaw reads explicit pads",
                     (int)(ap->s.len > 20 ? 20 : ap->s.len), (const char *)ap->s.data);
    if ((rc = attr_ints(x, n, "kernel_shape", ks, 2, &nk)) ||
        (rc = attr_ints(x, n, "strides", st, 2, &ns)) ||
        (rc = attr_ints(x, n, "pads", pads, 4, &np)) ||
        (rc = attr_ints(x, n, "dilations", dil, 2, &nd)))
        return rc;
    if (nk == 0 && k_from_weight > 0)
        ks[0] = ks[1] = k_from_weight, nk = 2;
    if (nk != 2 || ks[0] != ks[1] || ks[0] < 1 || ks[0] > 64)
        return nfail(x, n, THAW_EINVAL, "has a window that is not square (2 sizes, equal, 1 to 64)");
    if ((ns && ns != 2) || st[0] != st[1] || st[0] < 1 || st[0] > 64)
        return nfail(x, n, THAW_EINVAL, "has strides %lld and %lld; thaw's strides are equal, 1 to 64",
                     (long long)st[0], (long long)st[ns > 1]);
    if ((nd && nd != 2) || dil[0] != 1 || dil[nd > 1] != 1)
        return nfail(x, n, THAW_EINVAL, "is dilated; thaw's windows have dilation 1");
    if (np && np != 4)
        return nfail(x, n, THAW_EFORMAT, "has %d pads; expected 4", np);
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] > 64)
            return nfail(x, n, THAW_EINVAL, "pads by %lld; expected 0 to 64", (long long)pads[i]);
    L->k = (int)ks[0], L->stride = (int)st[0];
    /* ONNX: begin H, begin W, end H, end W; the table: top, bottom, left, right. */
    L->pad[0] = (int)pads[0], L->pad[1] = (int)pads[2], L->pad[2] = (int)pads[1], L->pad[3] = (int)pads[3];
    return THAW_OK;
}

static int clip_bound(onnx_ctx *x, const Onnx__NodeProto *n, size_t k, const char *name,
                      double def, double *out)
{
    *out = attr_float(n, name, def);
    int rc;
    if (k >= n->n_input || !n->input[k][0])
        return THAW_OK;
    const Onnx__TensorProto *t = weight_in(x, n, k, 0, &rc);
    uint64_t count;
    if (!t || (rc = tensor_check(x, t, "Clip's bound", 0, &count)))
        return rc;
    if (count != 1)
        return nfail(x, n, THAW_EINVAL, "clips to %llu values; expected one",
                     (unsigned long long)count);
    *out = tensor_f(t, 0);
    return THAW_OK;
}

static int is_op(const Onnx__NodeProto *n, const char *op)
{
    return n->op_type && !strcmp(n->op_type, op);
}

/* Node n into layer L (index li). */
static int node_layer(onnx_ctx *x, const Onnx__NodeProto *n, int li)
{
    imp_layer *L = &x->g.l[li];
    const Onnx__TensorProto *t;
    int rc = THAW_OK;
    L->op = -1;
    L->nin = 1;
    if (is_op(n, "Mul") || is_op(n, "Add")) {
        int b;
        L->op = is_op(n, "Mul") ? IMP_MUL : IMP_ADD;
        if (n->n_input != 2)
            return nfail(x, n, THAW_EFORMAT, "has %zu inputs; expected 2", n->n_input);
        onnx_val *v0 = val_find(x, n->input[0]), *v1 = val_find(x, n->input[1]);
        if (v0 && v1 && v1->kind == VAL_NODE && x->fold[v1->node] && L->op == IMP_MUL) {
            L->op = IMP_ACT, L->act = IMP_ACT_SILU;
            return data_in(x, n, 0, &L->in[0]);
        }
        if (v0 && v1 && v0->kind == VAL_NODE && x->fold[v0->node] && L->op == IMP_MUL) {
            L->op = IMP_ACT, L->act = IMP_ACT_SILU;
            return data_in(x, n, 1, &L->in[0]);
        }
        if ((rc = data_in(x, n, 0, &L->in[0])) || (rc = data_in(x, n, 1, &b)))
            return rc;
        L->in[1] = b, L->nin = 2;
        return THAW_OK;
    }
    if ((rc = data_in(x, n, 0, &L->in[0])))
        return rc;
    if (is_op(n, "Conv")) {
        L->op = IMP_CONV;
        if (!(t = weight_in(x, n, 1, 0, &rc)))
            return rc;
        int64_t g = attr_int(n, "group", 1);
        if (t->n_dims != 4 || t->dims[2] != t->dims[3] || t->dims[0] < 1 || g < 1 || g > t->dims[0])
            return nfail(x, n, THAW_ESHAPE, "has a weight of %zu dimensions; expected (O, C/groups, "
                         "k, k) with groups %lld", t->n_dims, (long long)g);
        if ((rc = window(x, n, L, (int)t->dims[2])))
            return rc;
        if (L->k != t->dims[2])
            return nfail(x, n, THAW_ESHAPE, "has kernel_shape %d but a %lldx%lld weight", L->k,
                         (long long)t->dims[2], (long long)t->dims[3]);
        L->units = (int)t->dims[0], L->groups = (int)g;
        if ((rc = pend(x, n, li, "kernel", t, W_CONV)))
            return rc;
        const Onnx__TensorProto *b = weight_in(x, n, 2, 1, &rc);
        if (rc)
            return rc;
        L->bias = b != NULL;
        if (b && !dims_are(b, 1, (int64_t[]){ t->dims[0] }))
            return nfail(x, n, THAW_ESHAPE, "has a bias that is not one value per filter (%lld)",
                         (long long)t->dims[0]);
        return b ? pend(x, n, li, "bias", b, W_PLAIN) : THAW_OK;
    }
    if (is_op(n, "BatchNormalization")) {
        static const char *const var[4] = { "gamma", "beta", "moving_mean", "moving_variance" };
        L->op = IMP_BN, L->axis = -1, L->center = L->scale = 1;
        L->eps = attr_float(n, "epsilon", 1e-5);
        L->momentum = attr_float(n, "momentum", 0.9);
        for (int k = 0; k < 4; k++) {
            if (!(t = weight_in(x, n, (size_t)k + 1, 0, &rc)))
                return rc;
            if (t->n_dims != 1)
                return nfail(x, n, THAW_ESHAPE, "has a %s of %zu dimensions; expected one value "
                             "per channel", var[k], t->n_dims);
            if ((rc = pend(x, n, li, var[k], t, W_PLAIN)))
                return rc;
        }
        return THAW_OK;
    }
    if (is_op(n, "Relu") || is_op(n, "Sigmoid") || is_op(n, "HardSwish") || is_op(n, "Softmax")) {
        L->op = IMP_ACT;
        L->act = is_op(n, "Relu") ? IMP_ACT_RELU : is_op(n, "Sigmoid") ? IMP_ACT_SIGMOID
               : is_op(n, "HardSwish") ? IMP_ACT_HARDSWISH : IMP_ACT_SOFTMAX;
        return THAW_OK;
    }
    if (is_op(n, "HardSigmoid")) {
        double a = attr_float(n, "alpha", 0.2), b = attr_float(n, "beta", 0.5);
        L->op = IMP_ACT;
        if (fabs(a - 1.0 / 6) < 1e-6 && fabs(b - 0.5) < 1e-6)
            L->act = IMP_ACT_HARDSIGMOID;
        else if (fabs(a - 0.2) < 1e-6 && fabs(b - 0.5) < 1e-6)
            L->act = IMP_ACT_HARDSIGMOID_02;
        else
            return nfail(x, n, THAW_EINVAL, "has alpha %g and beta %g; thaw's hard sigmoids have "
                         "1/6 or 0.2, and 0.5", a, b);
        return THAW_OK;
    }
    if (is_op(n, "Clip")) {
        double lo, hi;
        if ((rc = clip_bound(x, n, 1, "min", -INFINITY, &lo)) ||
            (rc = clip_bound(x, n, 2, "max", INFINITY, &hi)))
            return rc;
        L->op = IMP_ACT;
        if (lo == 0 && hi == 6)
            L->act = IMP_ACT_RELU6;
        else if (lo == 0 && isinf(hi))
            L->act = IMP_ACT_RELU;
        else
            return nfail(x, n, THAW_EINVAL, "clips to [%g, %g]; thaw has ReLU6 (0 to 6) and ReLU "
                         "(0 up)", lo, hi);
        return THAW_OK;
    }
    if (is_op(n, "GlobalAveragePool")) {
        L->op = IMP_GAP;
        return THAW_OK;
    }
    if (is_op(n, "ReduceMean")) {
        int64_t axes[4];
        int na;
        if ((rc = attr_ints(x, n, "axes", axes, 4, &na)))
            return rc;
        if (na == 0 && n->n_input > 1) {
            uint64_t count;
            if (!(t = weight_in(x, n, 1, 0, &rc)) || (rc = tensor_check(x, t, "axes", 1, &count)))
                return rc;
            for (uint64_t i = 0; i < count && i < 4; i++)
                axes[na++] = tensor_i(t, i);
        }
        int hw = na == 2 && ((axes[0] == 2 && axes[1] == 3) || (axes[0] == -2 && axes[1] == -1));
        if (!hw)
            return nfail(x, n, THAW_EINVAL, "averages over axes other than H and W (2, 3); thaw "
                         "averages only a whole map");
        L->op = IMP_GAP;
        return THAW_OK;
    }
    if (is_op(n, "AveragePool")) {
        if ((rc = window(x, n, L, 0)))
            return rc;
        L->op = IMP_GAP;   /* checked to cover the whole map once shapes are known */
        L->units = -L->k;
        return THAW_OK;
    }
    if (is_op(n, "Flatten")) {
        if (attr_int(n, "axis", 1) != 1)
            return nfail(x, n, THAW_EINVAL, "flattens from axis %lld; thaw flattens all but the "
                         "batch (axis 1)", (long long)attr_int(n, "axis", 1));
        L->op = IMP_FLATTEN;
        return THAW_OK;
    }
    if (is_op(n, "Reshape")) {
        uint64_t count;
        if (!(t = weight_in(x, n, 1, 0, &rc)) || (rc = tensor_check(x, t, "shape", 1, &count)))
            return rc;
        if (count != 2)
            return nfail(x, n, THAW_EINVAL, "reshapes to %llu dimensions; thaw reshapes a map only "
                         "to (N, C)", (unsigned long long)count);
        L->op = IMP_FLATTEN;
        return THAW_OK;
    }
    if (is_op(n, "Gemm")) {
        if (attr_int(n, "transA", 0) || attr_float(n, "alpha", 1) != 1 || attr_float(n, "beta", 1) != 1)
            return nfail(x, n, THAW_EINVAL, "transposes its input or scales (transA, alpha, beta); "
                         "thaw's linear layer computes x·Wᵀ + b");
        int tb = attr_int(n, "transB", 0) != 0;
        if (!(t = weight_in(x, n, 1, 0, &rc)))
            return rc;
        if (t->n_dims != 2 || t->dims[0] < 1 || t->dims[1] < 1)
            return nfail(x, n, THAW_ESHAPE, "has a weight of %zu dimensions; expected 2", t->n_dims);
        L->op = IMP_DENSE, L->units = (int)t->dims[tb ? 0 : 1];
        if ((rc = pend(x, n, li, "kernel", t, tb ? W_GEMM_T : W_GEMM)))
            return rc;
        const Onnx__TensorProto *b = weight_in(x, n, 2, 1, &rc);
        if (rc)
            return rc;
        L->bias = b != NULL;
        if (b && !dims_are(b, 1, (int64_t[]){ L->units }))
            return nfail(x, n, THAW_ESHAPE, "has a bias that is not one value per output (%d)",
                         L->units);
        return b ? pend(x, n, li, "bias", b, W_PLAIN) : THAW_OK;
    }
    if (is_op(n, "MatMul")) {
        if (!(t = weight_in(x, n, 1, 0, &rc)))
            return rc;
        if (t->n_dims != 2 || t->dims[0] < 1 || t->dims[1] < 1)
            return nfail(x, n, THAW_ESHAPE, "has a weight of %zu dimensions; expected 2", t->n_dims);
        L->op = IMP_DENSE, L->units = (int)t->dims[1];
        return pend(x, n, li, "kernel", t, W_GEMM);
    }
    if (is_op(n, "MaxPool")) {
        if (attr_int(n, "ceil_mode", 0))
            return nfail(x, n, THAW_EINVAL, "rounds its output size up (ceil_mode); thaw rounds "
                         "down");
        if (n->n_output > 1 && n->output[1][0])
            return nfail(x, n, THAW_EINVAL, "gives its indices too; thaw's pool gives values only");
        L->op = IMP_MAXPOOL;
        return window(x, n, L, 0);
    }
    if (is_op(n, "Dropout") || is_op(n, "Identity")) {
        for (size_t k = 1; k < n->n_output; k++)
            if (n->output[k][0])
                return nfail(x, n, THAW_EINVAL, "gives a mask too; thaw's dropout gives values only");
        L->op = IMP_PASS;
        return THAW_OK;
    }
    return nfail(x, n, THAW_EINVAL, "is not an operator thaw maps (it maps Conv, "
                 "BatchNormalization, Relu, Clip, HardSwish, HardSigmoid, Sigmoid, Mul, Add, "
                 "GlobalAveragePool, ReduceMean, AveragePool over the whole map, Flatten, Reshape, "
                 "Gemm, MatMul, MaxPool, Dropout, Identity, Softmax, Constant)");
}

/* ---- the graph -------------------------------------------------------------- */

static int add_val(onnx_ctx *x, const char *name, int kind, int node, const Onnx__TensorProto *t)
{
    if (!name || !name[0])
        return THAW_OK;
    x->v[x->nv++] = (onnx_val){ name, kind, node, t, 0 };
    return THAW_OK;
}

/* The value table: the graph's input, node outputs, initializers and
 * Constant nodes' values; sorted, each name once. *input the input's name. */
static int values(onnx_ctx *x, const char **input)
{
    const Onnx__GraphProto *gp = x->gp;
    size_t cap = gp->n_input + gp->n_initializer;
    for (size_t i = 0; i < gp->n_node; i++)
        cap += gp->node[i]->n_output;
    if (!(x->v = calloc(cap + 1, sizeof *x->v)))
        return imp_nomem(&x->g);
    for (size_t i = 0; i < gp->n_initializer; i++)
        add_val(x, gp->initializer[i]->name, VAL_TENSOR, -1, gp->initializer[i]);
    *input = NULL;
    for (size_t i = 0; i < gp->n_input; i++) {
        const char *name = gp->input[i]->name;
        int init = 0;
        for (size_t k = 0; k < gp->n_initializer && !init; k++)
            init = name && gp->initializer[k]->name && !strcmp(name, gp->initializer[k]->name);
        if (init)
            continue;
        if (*input)
            return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: the graph has inputs '%.100s' and "
                             "'%.100s'; thaw's models take one", x->g.c.file, *input, name);
        *input = name;
        add_val(x, name, VAL_INPUT, -1, NULL);
    }
    if (!*input || !(*input)[0])
        return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: the graph has no input", x->g.c.file);
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        if (is_op(n, "Constant")) {
            const Onnx__AttributeProto *a = attr(n, "value");
            if (!a || !a->t || n->n_output != 1)
                return nfail(x, n, THAW_EINVAL, "is a Constant without a tensor 'value' and one "
                             "output; thaw reads constants of tensors");
            add_val(x, n->output[0], VAL_TENSOR, (int)i, a->t);
        } else {
            for (size_t k = 0; k < n->n_output; k++)
                add_val(x, n->output[k], VAL_NODE, (int)i, NULL);
        }
    }
    qsort(x->v, (size_t)x->nv, sizeof *x->v, val_cmp);
    for (int i = 1; i < x->nv; i++)
        if (!strcmp(x->v[i - 1].name, x->v[i].name))
            return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: the value '%.100s' is given twice (by "
                             "two nodes, initializers or inputs)", x->g.c.file, x->v[i].name);
    /* An Identity of a constant (exporters share initializers that way) is
     * that constant; so is a chain of them. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < gp->n_node; i++) {
            const Onnx__NodeProto *n = gp->node[i];
            if (!is_op(n, "Identity") || n->n_input != 1 || n->n_output != 1 || x->fold[i])
                continue;
            onnx_val *in = val_find(x, n->input[0]), *out = val_find(x, n->output[0]);
            if (in && out && in->kind == VAL_TENSOR) {
                out->kind = VAL_TENSOR, out->t = in->t;
                x->fold[i] = 1, changed = 1;
            }
        }
    }
    for (size_t i = 0; i < gp->n_node; i++)
        for (size_t k = 0; k < gp->node[i]->n_input; k++) {
            onnx_val *v = val_find(x, gp->node[i]->input[k]);
            if (v)
                v->uses++;
        }
    return THAW_OK;
}

/* Marks the Sigmoid of x·sigmoid(x) (fold 1) and the Add of a MatMul's
 * bias (fold 2 + the MatMul's node) as folded. */
static void find_folds(onnx_ctx *x)
{
    const Onnx__GraphProto *gp = x->gp;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        if (is_op(n, "Add") && n->n_input == 2) {
            onnx_val *a = val_find(x, n->input[0]), *b = val_find(x, n->input[1]);
            if (a && b && a->kind == VAL_TENSOR) {
                onnx_val *t = a;
                a = b, b = t;
            }
            if (a && b && a->kind == VAL_NODE && b->kind == VAL_TENSOR && a->uses == 1 &&
                is_op(gp->node[a->node], "MatMul"))
                x->fold[i] = 2 + a->node;
            continue;
        }
        if (!is_op(n, "Mul") || n->n_input != 2)
            continue;
        for (int s = 0; s < 2; s++) {
            onnx_val *v = val_find(x, n->input[s]);
            if (!v || v->kind != VAL_NODE || v->uses != 1)
                continue;
            const Onnx__NodeProto *sg = gp->node[v->node];
            if (is_op(sg, "Sigmoid") && sg->n_input == 1 && !strcmp(sg->input[0], n->input[1 - s])) {
                x->fold[v->node] = 1;
                break;
            }
        }
    }
}

/* The weights in the table's layouts, as a manifest of float32 weights
 * named LAYER/VAR. */
static int manifest(onnx_ctx *x, imp_manifest *mf)
{
    mf->w = calloc((size_t)x->nw + 1, sizeof *mf->w);
    mf->by_name = calloc((size_t)x->nw + 1, sizeof *mf->by_name);
    mf->g = calloc(1, sizeof *mf->g);
    if (!mf->w || !mf->by_name || !mf->g || !(mf->g[0].data = malloc(4 * (size_t)x->floats + 4)))
        return imp_nomem(&x->g);
    mf->ng = 1;
    float *out = (float *)(void *)mf->g[0].data;
    uint64_t off = 0;
    for (int i = 0; i < x->nw; i++) {
        const onnx_pending *p = &x->w[i];
        const Onnx__TensorProto *t = p->t;
        const imp_layer *L = &x->g.l[p->layer];
        imp_weight *w = &mf->w[i];
        uint64_t count = 1;
        for (size_t d = 0; d < t->n_dims; d++)
            count *= (uint64_t)t->dims[d];
        snprintf(w->name, sizeof w->name, "%.100s/%.20s", L->name, p->var);
        w->dtype = TFJS_F32, w->count = count, w->offset = off * 4;
        float *dst = out + off;
        if (p->how == W_CONV) {
            int O = (int)t->dims[0], C = (int)t->dims[1], K = (int)t->dims[2];
            w->ndim = 4;
            w->dim[0] = w->dim[1] = (uint64_t)K, w->dim[2] = (uint64_t)C, w->dim[3] = (uint64_t)O;
            for (int o = 0; o < O; o++)
                for (int ch = 0; ch < C; ch++)
                    for (int yx = 0; yx < K * K; yx++)
                        dst[((size_t)yx * C + ch) * O + o] =
                            tensor_f(t, ((uint64_t)o * C + ch) * (uint64_t)(K * K) + (uint64_t)yx);
        } else if (p->how == W_GEMM || p->how == W_GEMM_T) {
            /* ONNX flattens (C, H, W), thaw's order; the binder reads a
             * dense layer after a flatten of a map in Keras' (H, W, C):
             * rows are stored there so that they land in place. */
            int tb = p->how == W_GEMM_T;
            uint64_t I = (uint64_t)t->dims[tb ? 1 : 0], O = (uint64_t)t->dims[tb ? 0 : 1];
            shape3 f = x->g.l[L->in[0]].flat_from;
            w->ndim = 2, w->dim[0] = I, w->dim[1] = O;
            for (uint64_t i2 = 0; i2 < I; i2++) {
                uint64_t k = i2;
                if (f.c) {
                    uint64_t hw = (uint64_t)f.h * (uint64_t)f.w, ch = i2 / hw, yx = i2 % hw;
                    k = yx * (uint64_t)f.c + ch;
                }
                for (uint64_t o = 0; o < O; o++)
                    dst[k * O + o] = tensor_f(t, tb ? o * I + i2 : i2 * O + o);
            }
        } else {
            w->ndim = (int)t->n_dims;
            for (size_t d = 0; d < t->n_dims; d++)
                w->dim[d] = (uint64_t)t->dims[d];
            for (uint64_t e = 0; e < count; e++)
                dst[e] = tensor_f(t, e);
        }
        off += count;
        mf->by_name[i] = i;
        mf->nw++;
    }
    mf->g[0].bytes = off * 4;
    qsort_r(mf->by_name, (size_t)mf->nw, sizeof *mf->by_name, imp_weight_name_cmp, mf->w);
    return THAW_OK;
}

/* The Add of node n (folded) as the bias of the MatMul's layer L (index li). */
static int fold_bias(onnx_ctx *x, const Onnx__NodeProto *n, int li)
{
    imp_layer *L = &x->g.l[li];
    onnx_val *v0 = val_find(x, n->input[0]);
    int rc;
    const Onnx__TensorProto *b = weight_in(x, n, v0 && v0->kind == VAL_TENSOR ? 0 : 1, 0, &rc);
    if (!b)
        return rc;
    if (!dims_are(b, 1, (int64_t[]){ L->units }) && !dims_are(b, 2, (int64_t[]){ 1, L->units }))
        return nfail(x, n, THAW_ESHAPE, "adds a bias that is not one value per output (%d) of "
                     "'%s'", L->units, L->name);
    L->bias = 1;
    return pend(x, n, li, "bias", b, W_PLAIN);
}

/* Operators that only reshape or pass their input on. */
static int shapes_only(const char *op)
{
    return !strcmp(op, "Flatten") || !strcmp(op, "Reshape") || !strcmp(op, "Dropout") ||
           !strcmp(op, "Identity");
}

/* Layer i (of the first n) takes the name OUT/ITS_OP, leaving OUT to a later
 * node that computes; 0 when that name is too long or taken. */
static int name_yield(onnx_ctx *x, int i, const char *out, int n)
{
    char name[TFJS_NAME_MAX];
    imp_layer *E = &x->g.l[i];
    if (!out[0] || strlen(out) + strlen(E->cls) >= 95)
        return 0;
    snprintf(name, sizeof name, "%.94s/%.32s", out, E->cls);
    for (int j = 1; j < n; j++)
        if (!strcmp(x->g.l[j].name, name))
            return 0;
    snprintf(E->name, sizeof E->name, "%s", name);
    return 1;
}

/* Layer names: the node's, as PyTorch's exporter writes them
 * ("/layer1/layer1.0/conv1/Conv"), without the operator at the end and
 * without a module name repeated by the next ("layer1/layer1.0/conv1" ->
 * "layer1.0/conv1"), or thaw's exporter's ("stage2.conv1_11") without the
 * count at the end; else OP_N. A name an earlier node has gets the
 * operator back, keeping the module ("features.0.2/Mul", the Mul of
 * x·HardSigmoid(x)), then is OP_N; an earlier node that only reshapes
 * gives its name up instead ("head/Flatten" before "head", the Gemm).
 * Unique, and short enough for a weight name LAYER/VAR. */
static void layer_name(onnx_ctx *x, imp_layer *L, const Onnx__NodeProto *n, int idx)
{
    char buf[TFJS_NAME_MAX], out[TFJS_NAME_MAX] = "", *part[TFJS_NAME_MAX / 2], *save;
    int np = 0;
    snprintf(buf, sizeof buf, "%s", n->name ? n->name : "");
    char *count = strrchr(buf, '_');
    if (x->thaw_made && count && count[1] && count[1 + strspn(count + 1, "0123456789")] == '\0')
        *count = '\0';
    for (char *t = strtok_r(buf, "/", &save); t && np < TFJS_NAME_MAX / 2; t = strtok_r(NULL, "/", &save))
        part[np++] = t;
    if (np > 1 && n->op_type && !strcmp(part[np - 1], n->op_type))
        np--;
    for (int i = 0; i < np; i++) {
        size_t len = strlen(part[i]), used = strlen(out);
        if (i + 1 < np && !strncmp(part[i + 1], part[i], len) && part[i + 1][len] == '.')
            continue;
        snprintf(out + used, sizeof out - used, "%s%s", used ? "/" : "", part[i]);
    }
    const char *op = n->op_type ? n->op_type : "node";
    if (out[0] && strlen(out) < 96)
        snprintf(L->name, sizeof L->name, "%s", out);
    else
        snprintf(L->name, sizeof L->name, "%.40s_%d", op, idx);
    for (int i = 1, tries = 0; i < idx; i++)
        if (!strcmp(x->g.l[i].name, L->name)) {
            if (tries == 0 && shapes_only(x->g.l[i].cls) && !shapes_only(op) &&
                name_yield(x, i, out, idx)) {
                i = 0;      /* the Flatten before a Gemm took "head/Flatten": look again */
                continue;
            }
            if (tries++ == 0 && out[0] && strlen(out) + strlen(op) < 95) {
                snprintf(L->name, sizeof L->name, "%.94s/%.32s", out, op);
                i = 0;
            } else {
                snprintf(L->name, sizeof L->name, "%.40s_%d", op, idx);
                break;
            }
        }
    snprintf(L->cls, sizeof L->cls, "%s", n->op_type ? n->op_type : "");
}

static int read_graph(onnx_ctx *x)
{
    const Onnx__GraphProto *gp = x->gp;
    const char *input = NULL;
    int rc;
    if (gp->n_node > TFJS_LAYERS_MAX)
        return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: %zu nodes; expected at most %d", x->g.c.file,
                         gp->n_node, TFJS_LAYERS_MAX);
    x->node_layer = malloc(sizeof(int) * (gp->n_node + 1));
    x->fold = calloc(gp->n_node + 1, sizeof(int));
    x->g.l = calloc(gp->n_node + 1, sizeof *x->g.l);
    if (!x->node_layer || !x->fold || !x->g.l)
        return imp_nomem(&x->g);
    if ((rc = values(x, &input)))
        return rc;
    find_folds(x);
    /* The input: (N, C, H, W), sizes unknown as -1. */
    imp_layer *I = &x->g.l[0];
    const Onnx__ValueInfoProto *vi = NULL;
    for (size_t i = 0; i < gp->n_input; i++)
        if (gp->input[i]->name == input || (gp->input[i]->name && !strcmp(gp->input[i]->name, input)))
            vi = gp->input[i];
    snprintf(I->name, sizeof I->name, "%.100s", input);
    snprintf(I->cls, sizeof I->cls, "input");
    I->op = IMP_INPUT, I->in_rank = 3;
    I->in_shape[0] = I->in_shape[1] = I->in_shape[2] = -1;
    const Onnx__TypeProto *tp = vi ? vi->type : NULL;
    if (tp && tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && tp->tensor_type->shape) {
        const Onnx__TensorShapeProto *sh = tp->tensor_type->shape;
        if (sh->n_dim != 4)
            return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: input '%.100s' has %zu dimensions; thaw "
                             "takes images (N, C, H, W)", x->g.c.file, input, sh->n_dim);
        static const int to[3] = { 2, 0, 1 };   /* C, H, W into H, W, C */
        for (int d = 1; d < 4; d++) {
            const Onnx__TensorShapeProto__Dimension *dm = sh->dim[d];
            if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
                if (dm->dim_value < 1 || dm->dim_value > MF_SIDE_MAX)
                    return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: input '%.100s': dimension %d is "
                                     "%lld; expected 1 to %d", x->g.c.file, input, d,
                                     (long long)dm->dim_value, MF_SIDE_MAX);
                I->in_shape[to[d - 1]] = (int)dm->dim_value;
            }
        }
    }
    x->g.n = 1;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *n = gp->node[i];
        x->node_layer[i] = is_op(n, "Constant") || x->fold[i] ? -1 : x->g.n++;
    }
    for (size_t i = 0; i < gp->n_node; i++)
        if (x->node_layer[i] >= 0)
            layer_name(x, &x->g.l[x->node_layer[i]], gp->node[i], x->node_layer[i]);
    for (size_t i = 0; i < gp->n_node; i++)
        if (x->fold[i] >= 2)
            x->node_layer[i] = x->node_layer[x->fold[i] - 2];
    for (size_t i = 0; i < gp->n_node; i++)
        if (x->node_layer[i] >= 0 && x->fold[i] < 2 &&
            (rc = node_layer(x, gp->node[i], x->node_layer[i])))
            return rc;
    for (size_t i = 0; i < gp->n_node; i++)
        if (x->fold[i] >= 2 && (rc = fold_bias(x, gp->node[i], x->node_layer[i])))
            return rc;
    if (gp->n_output != 1 || !gp->output[0]->name)
        return thaw_fail(x->g.c.err, THAW_EINVAL, "%s: the graph has %zu outputs; thaw's models "
                         "give one", x->g.c.file, gp->n_output);
    onnx_val *out = val_find(x, gp->output[0]->name);
    if (!out || out->kind != VAL_NODE || x->node_layer[out->node] < 0)
        return thaw_fail(x->g.c.err, THAW_EFORMAT, "%s: the graph's output '%.100s' is computed by "
                         "no node", x->g.c.file, gp->output[0]->name);
    x->g.input = 0;
    x->g.output = x->node_layer[out->node];
    x->g.cap = x->g.n;
    x->g.rescale = -1;
    x->g.torch_names = x->thaw_made ? 2 : 1;
    if (x->g.rep)
        x->g.rep->layers = (int)gp->n_node;
    if ((rc = imp_graph_build(&x->g)))
        return rc;
    for (int i = 1; i < x->g.n; i++) {
        const imp_layer *L = &x->g.l[i];
        shape3 in = x->g.l[L->in[0]].out;
        if (L->op == IMP_GAP && L->units < 0 &&
            (in.h != -L->units || in.w != -L->units || L->pad[0] || L->pad[1] || L->pad[2] || L->pad[3]))
            return imp_lfail(&x->g, L, THAW_EINVAL, "averages %dx%d windows of a %dx%d map; thaw "
                             "averages only the whole map", -L->units, -L->units, in.h, in.w);
    }
    return THAW_OK;
}

static void ctx_free(onnx_ctx *x)
{
    free(x->v);
    free(x->node_layer);
    free(x->fold);
    free(x->w);
    imp_graph_free(&x->g);
}

/* The value of the model's metadata entry key, or NULL. */
static const char *metadata(const Onnx__ModelProto *mp, const char *key)
{
    for (size_t i = 0; i < mp->n_metadata_props; i++)
        if (mp->metadata_props[i]->key && !strcmp(mp->metadata_props[i]->key, key))
            return mp->metadata_props[i]->value ? mp->metadata_props[i]->value : "";
    return NULL;
}

/* n comma-separated numbers of metadata entry key into v. */
static int metadata_values(const Onnx__ModelProto *mp, const char *key, int n, double *v, const char *file,
                           thaw_err *err)
{
    const char *s = metadata(mp, key);
    if (!s)
        return thaw_fail(err, THAW_EFORMAT, "%s: metadata has thaw.mean or thaw.std but no %s", file, key);
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(s, &end);
        if (end == s || !isfinite(v[i]) || (*end != (i + 1 < n ? ',' : '\0')))
            return thaw_fail(err, THAW_EFORMAT, "%s: metadata %s is '%.40s'; expected %d number%s, one per "
                             "input channel, separated by commas", file, key, metadata(mp, key), n,
                             n == 1 ? "" : "s");
        s = end + 1;
    }
    return THAW_OK;
}

int onnx_import_mem(mf_meta *meta, model *m, tfjs_report *rep, const uint8_t *buf, size_t len,
                    const char *file, const char *labels, size_t labels_len,
                    const char *labels_file, const tfjs_opts *opt, thaw_err *err)
{
    tfjs_report own;
    rep = rep ? rep : &own;
    imp_start(meta, m, rep, file);
    if (len > ONNX_FILE_MAX)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes; expected at most %zu", file, len,
                         ONNX_FILE_MAX);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    if (!mp)
        return thaw_fail(err, THAW_EFORMAT, "%s: not an ONNX model (protobuf could not read a "
                         "ModelProto)", file);
    onnx_ctx x = { .g = { .c = { file, err }, .rep = rep } };
    x.max_floats = opt && opt->max_floats && opt->max_floats < MF_PARAMS_MAX ? opt->max_floats
                                                                              : MF_PARAMS_MAX;
    imp_manifest mf = { 0 };
    int rc = THAW_OK;
    long long opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++)
        if (!mp->opset_import[i]->domain || !mp->opset_import[i]->domain[0])
            opset = mp->opset_import[i]->version;
    if (!mp->graph) {
        rc = thaw_fail(err, THAW_EFORMAT, "%s: the model has no graph", file);
        goto done;
    }
    if (opset < 7 || opset > 18) {
        rc = thaw_fail(err, THAW_EINVAL, "%s: opset %lld; thaw reads ONNX opsets 7 to 18", file,
                       opset);
        goto done;
    }
    snprintf(rep->model, sizeof rep->model, "ONNX model (opset %lld) from %.30s %.16s", opset,
             mp->producer_name && mp->producer_name[0] ? mp->producer_name : "an unnamed producer",
             mp->producer_version ? mp->producer_version : "");
    x.gp = mp->graph;
    x.thaw_made = mp->producer_name && !strcmp(mp->producer_name, "thaw");
    if (opt && opt->input.c > 0)
        x.g.input_size = opt->input;
    if ((rc = read_graph(&x)) || (rc = manifest(&x, &mf)))
        goto done;
    rep->weights = x.nw;
    rep->values = x.floats;
    rep->bytes = len;
    rep->by_dtype[TFJS_F32] = x.nw;
    meta->input = x.g.l[x.g.input].out;
    meta->arch = x.g.root;
    x.g.root = NULL;
    const imp_layer *out = &x.g.l[x.g.output];
    if (out->out.h * out->out.w != 1) {
        rc = thaw_fail(err, THAW_EINVAL, "%s: the model's output is a %dx%d map of %d channels; "
                       "thaw models end in one score per class", file, out->out.h, out->out.w,
                       out->out.c);
        goto done;
    }
    static const double imagenet_mean[3] = { 0.485, 0.456, 0.406 };
    static const double imagenet_std[3] = { 0.229, 0.224, 0.225 };
    int C = meta->input.c;
    /* A file thaw exported says its normalisation and classes itself. */
    double own_mean[MF_CHANNELS_MAX], own_std[MF_CHANNELS_MAX];
    const char *own_classes = metadata(mp, "thaw.classes");
    int own_norm = metadata(mp, "thaw.mean") || metadata(mp, "thaw.std");
    if (own_norm && (!(opt && opt->norm)) &&
        ((rc = metadata_values(mp, "thaw.mean", C, own_mean, file, err)) ||
         (rc = metadata_values(mp, "thaw.std", C, own_std, file, err))))
        goto done;
    for (int c = 0; c < C; c++) {
        meta->mean[c] = opt && opt->norm ? opt->mean[c] : own_norm ? own_mean[c] : C == 3 ? imagenet_mean[c] : 0;
        meta->std[c] = opt && opt->norm ? opt->std[c] : own_norm ? own_std[c] : C == 3 ? imagenet_std[c] : 1;
        if (!(meta->std[c] > 0) || !(fabs(meta->mean[c]) <= 1e6) || !(meta->std[c] <= 1e6)) {
            rc = thaw_fail(err, THAW_EINVAL, "%s: channel %d: mean %g, std %g; expected a finite "
                           "mean and a positive std", file, c, meta->mean[c], meta->std[c]);
            goto done;
        }
    }
    if (!(opt && opt->norm) && own_norm)
        imp_note(rep, "inputs are normalised as the file's thaw.mean and thaw.std say (thaw wrote it)");
    else if (!(opt && opt->norm))
        imp_note(rep, C == 3 ? "inputs are normalised as torchvision's ImageNet models expect: mean "
                 "0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225 on [0, 1]"
                 : "inputs are taken as they are (mean 0, std 1); give --mean and --std if the "
                 "model expects otherwise");
    if (labels)
        rc = imp_read_labels(meta, labels, labels_len, labels_file ? labels_file : "labels",
                             out->out.c, rep, err);
    else if (own_classes) {
        char where[512];
        snprintf(where, sizeof where, "%.400s: metadata thaw.classes", file);
        rc = imp_read_labels(meta, own_classes, strlen(own_classes), where, out->out.c, rep, err);
    } else
        rc = imp_generic_classes(meta, out->out.c, err);
    if (rc || (rc = mf_build(m, meta, 1, err)))
        goto done;
    if ((rc = imp_bind_weights(&x.g, meta->arch, &mf, m, &x.g.c)))
        model_free(m);
done:
    if (rc)
        mf_meta_free(meta);
    imp_manifest_free(&mf);
    ctx_free(&x);
    onnx__model_proto__free_unpacked(mp, NULL);
    return rc;
}

int onnx_import(mf_meta *meta, model *m, tfjs_report *rep, const char *path,
                const tfjs_opts *opt, thaw_err *err)
{
    char *buf = NULL, *labels = NULL;
    size_t len, llen = 0;
    int rc = fio_read(path, ONNX_FILE_MAX, &buf, &len, err);
    if (rc == THAW_OK && opt && opt->labels)
        rc = fio_read(opt->labels, TFJS_LABELS_MAX, &labels, &llen, err);
    if (rc == THAW_OK)
        rc = onnx_import_mem(meta, m, rep, (const uint8_t *)buf, len, path, labels, llen,
                             opt ? opt->labels : NULL, opt, err);
    free(buf);
    free(labels);
    return rc;
}
