/* conv1d.c — 1-D convolution over time, as PyTorch's nn.Conv1d (stride 1,
 * zero padding on both ends), the n-gram detectors of a CNN over words.
 *
 * Dimensions: B batch, C input channels, L input length, O output channels,
 * K kernel width, P padding, L' = L + 2P - K + 1 output length. The input
 * and output are sequences (C, 1, L) and (O, 1, L'); W (O, C, K) as PyTorch
 * stores it. Per sample b:
 *   col(C·K, L')  = im2col(x_b):  col[c·K + k, t] = x_b[c, t + k - P] (0 outside)
 *   y_b(O, L')    = W(O, C·K) · col + bias
 *   dW           += dy_b · colᵀ                 (only when the weight trains)
 *   dcol          = Wᵀ · dy_b;  dx_b = col2im(dcol)   (only when upstream trains)
 * After an embedding (whose padding positions are zero vectors), a sample of
 * n real tokens has n + 2P - K + 1 real outputs, each exactly what the
 * convolution of the unpadded sample gives (embedding_seq_len). */
#include <math.h>
#include <string.h>

#include "gemm.h"
#include "model.h"

typedef struct conv1d {
    layer base;
    int cin, cout, k, pad, bias;
} conv1d;

static int conv1d_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)prev;
    conv1d *c = (conv1d *)l;
    if (in.c != c->cin || in.h != 1)
        return thaw_fail(err, THAW_ESHAPE, "expects a sequence %dx1xL, gets %dx%dx%d", c->cin, in.c,
                         in.h, in.w);
    if (in.w + 2 * c->pad < c->k)
        return thaw_fail(err, THAW_ESHAPE, "a kernel of width %d does not fit a sequence of %d with "
                         "padding %d", c->k, in.w, c->pad);
    l->out = (shape3){ c->cout, 1, in.w + 2 * c->pad - c->k + 1 };
    int wdim[3] = { c->cout, c->cin, c->k };
    if (model_declare(m, l, "weight", PARAM_WEIGHT, 3, wdim, err) < 0)
        return THAW_ENOMEM;
    if (c->bias && model_declare(m, l, "bias", PARAM_BIAS, 1, &c->cout, err) < 0)
        return THAW_ENOMEM;
    return THAW_OK;
}

/* col and dcol, (C·K, L') each. */
static size_t conv1d_scratch(const layer *l, int batch)
{
    (void)batch;
    const conv1d *c = (const conv1d *)l;
    return 2 * (size_t)c->cin * c->k * l->out.w;
}

/* PyTorch's default: W and b uniform in ±1/sqrt(C·K). */
static void conv1d_init(layer *l, model *m, rng *r)
{
    conv1d *c = (conv1d *)l;
    float bound = 1.0f / sqrtf((float)(c->cin * c->k));
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++) {
        float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            p[i] = (2.0f * rng_uniform(r) - 1.0f) * bound;
    }
}

static void conv1d_im2col(const conv1d *c, float *col, const float *x, int L, int Lo)
{
    for (int ch = 0; ch < c->cin; ch++)
        for (int k = 0; k < c->k; k++) {
            float *row = col + ((size_t)ch * c->k + k) * Lo;    /* (L') */
            const float *xc = x + (size_t)ch * L;
            for (int t = 0; t < Lo; t++) {
                int s = t + k - c->pad;
                row[t] = s >= 0 && s < L ? xc[s] : 0.0f;
            }
        }
}

static void conv1d_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    conv1d *c = (conv1d *)l;
    int L = l->in.w, Lo = l->out.w, CK = c->cin * c->k;
    const float *w = model_param(m, l->slice0);
    float *col = m->scratch;                         /* (C·K, L') */
    for (int b = 0; b < batch; b++) {
        float *yb = l->y + (size_t)b * c->cout * Lo;    /* (O, L') */
        conv1d_im2col(c, col, x + (size_t)b * c->cin * L, L, Lo);
        gemm(0, 0, c->cout, Lo, CK, 1.0f, w, CK, col, Lo, 0.0f, yb, Lo);
        if (c->bias) {
            const float *bias = model_param(m, l->slice0 + 1);
            for (int o = 0; o < c->cout; o++)
                for (int t = 0; t < Lo; t++)
                    yb[(size_t)o * Lo + t] += bias[o];
        }
    }
}

static void conv1d_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    conv1d *c = (conv1d *)l;
    int L = l->in.w, Lo = l->out.w, CK = c->cin * c->k;
    int dw = !m->slice[l->slice0].frozen, db = c->bias && !m->slice[l->slice0 + 1].frozen;
    const float *w = model_param(m, l->slice0);
    float *col = m->scratch, *dcol = m->scratch + (size_t)CK * Lo;   /* (C·K, L') each */
    for (int b = 0; b < batch; b++) {
        const float *dyb = l->dy + (size_t)b * c->cout * Lo;    /* (O, L') */
        if (dw) {
            conv1d_im2col(c, col, x + (size_t)b * c->cin * L, L, Lo);
            gemm(0, 1, c->cout, CK, Lo, 1.0f, dyb, Lo, col, Lo, 1.0f, model_grad(m, l->slice0), CK);
        }
        if (db) {
            float *g = model_grad(m, l->slice0 + 1);
            for (int o = 0; o < c->cout; o++)
                for (int t = 0; t < Lo; t++)
                    g[o] += dyb[(size_t)o * Lo + t];
        }
        if (!dx)
            continue;
        gemm(1, 0, CK, Lo, c->cout, 1.0f, w, CK, dyb, Lo, 0.0f, dcol, Lo);
        float *dxb = dx + (size_t)b * c->cin * L;             /* (C, L) */
        if (!acc)
            memset(dxb, 0, (size_t)c->cin * L * sizeof(float));
        for (int ch = 0; ch < c->cin; ch++)
            for (int k = 0; k < c->k; k++) {
                const float *row = dcol + ((size_t)ch * c->k + k) * Lo;
                float *dxc = dxb + (size_t)ch * L;
                for (int t = 0; t < Lo; t++) {
                    int s = t + k - c->pad;
                    if (s >= 0 && s < L)
                        dxc[s] += row[t];
                }
            }
    }
}

static const layer_hparam conv1d_hp[] = {
    { "in_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "out_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "kernel_size", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_KERNEL_MAX, .def = 0 },
    { "padding", LAYER_HP_INT, 0, 0, LAYER_KERNEL_MAX, .def = 0 },
    { "bias", LAYER_HP_BOOL, 0, 0, 1, .def = 1 },
};

static void conv1d_setup(layer *l, const double *hp)
{
    conv1d *c = (conv1d *)l;
    c->cin = (int)hp[0], c->cout = (int)hp[1], c->k = (int)hp[2], c->pad = (int)hp[3];
    c->bias = (int)hp[4];
}

static void conv1d_hparams(const layer *l, double *hp)
{
    const conv1d *c = (const conv1d *)l;
    hp[0] = c->cin, hp[1] = c->cout, hp[2] = c->k, hp[3] = c->pad, hp[4] = c->bias;
}

static double conv1d_count(const double *hp)
{
    return hp[1] * hp[0] * hp[2] + (hp[4] ? hp[1] : 0);
}

const layer_ops conv1d_ops = {
    .type = "conv1d", .torch = "nn.Conv1d",
    .tensors = (const char *const[]){ "weight", "bias", NULL },
    .size = sizeof(conv1d),
    LAYER_HPARAMS(conv1d),
    .count = conv1d_count,
    .plan = conv1d_plan,
    .scratch = conv1d_scratch,
    .init = conv1d_init,
    LAYER_PASSES(conv1d),
};

layer *conv1d_new(const char *name, int cin, int cout, int kernel, int pad, int bias)
{
    return layer_create(&conv1d_ops, name, (const double[]){ cin, cout, kernel, pad, bias != 0 },
                        NULL);
}
