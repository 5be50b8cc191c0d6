/* conv2d.c — 2-D convolution, forward and backward, as GEMMs over BLIS.
 *
 * Dimensions: B batch, C input channels, H×W input, O output channels,
 * R×S kernel, P×Q output. Per image b:
 *   col(C·R·S, P·Q)  = im2col(x_b)                 (skipped for a 1×1 stride-1 kernel)
 *   y_b(O, P·Q)      = W(O, C·R·S) · col + bias
 *   dW              += dy_b · colᵀ                  (only when the weight trains)
 *   dcol             = Wᵀ · dy_b;  dx_b = col2im(dcol)   (only when upstream trains)
 * One image at a time keeps col within the cache.
 */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "model.h"

typedef struct conv2d {
    layer base;
    int cin, cout, k, stride, pad, bias;
} conv2d;

static int conv2d_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)prev;
    conv2d *c = (conv2d *)l;
    if (in.c != c->cin)
        return thaw_fail(err, THAW_ESHAPE, "expects %d input channels, gets %dx%dx%d",
                         c->cin, in.c, in.h, in.w);
    int p = (in.h + 2 * c->pad - c->k) / c->stride + 1;
    int q = (in.w + 2 * c->pad - c->k) / c->stride + 1;
    if (in.h + 2 * c->pad < c->k || in.w + 2 * c->pad < c->k || p < 1 || q < 1)
        return thaw_fail(err, THAW_ESHAPE, "a %dx%d kernel does not fit a %dx%d input with padding %d",
                         c->k, c->k, in.h, in.w, c->pad);
    l->out = (shape3){ c->cout, p, q };
    int wdim[4] = { c->cout, c->cin, c->k, c->k };
    if (model_declare(m, l, "weight", PARAM_WEIGHT, 4, wdim, err) < 0)
        return THAW_ENOMEM;
    if (c->bias && model_declare(m, l, "bias", PARAM_BIAS, 1, &c->cout, err) < 0)
        return THAW_ENOMEM;
    return THAW_OK;
}

static int conv2d_direct(const conv2d *c)
{
    return c->k == 1 && c->stride == 1 && c->pad == 0;
}

static size_t conv2d_scratch(const layer *l, int batch)
{
    (void)batch;
    const conv2d *c = (const conv2d *)l;
    if (conv2d_direct(c))
        return 0;
    return 2 * (size_t)c->cin * c->k * c->k * l->out.h * l->out.w;   /* col and dcol */
}

static void conv2d_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
}

static void conv2d_init(layer *l, model *m, rng *r)
{
    /* PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
    conv2d *c = (conv2d *)l;
    float bound = 1.0f / sqrtf((float)(c->cin * c->k * c->k));
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++) {
        float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            p[i] = (2.0f * rng_uniform(r) - 1.0f) * bound;
    }
}

/* col(C·R·S, P·Q) from x(C, H, W); padding reads as zero. */
static void im2col(float *col, const float *x, int C, int H, int W, int R, int stride, int pad,
                   int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                float *row = col + ((size_t)(ch * R + kr) * R + ks) * P * Q;
                const float *xc = x + (size_t)ch * H * W;
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pad + kr;
                    float *out = row + p * Q;
                    if (h < 0 || h >= H) {
                        memset(out, 0, Q * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + (size_t)h * W;
                    for (int q = 0; q < Q; q++) {
                        int w = q * stride - pad + ks;
                        out[q] = (w >= 0 && w < W) ? xr[w] : 0.0f;
                    }
                }
            }
}

/* dx(C, H, W) += col2im(dcol(C·R·S, P·Q)); dx must be cleared first to overwrite. */
static void col2im(float *dx, const float *dcol, int C, int H, int W, int R, int stride, int pad,
                   int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                const float *row = dcol + ((size_t)(ch * R + kr) * R + ks) * P * Q;
                float *dxc = dx + (size_t)ch * H * W;
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pad + kr;
                    if (h < 0 || h >= H)
                        continue;
                    float *dxr = dxc + (size_t)h * W;
                    const float *in = row + p * Q;
                    for (int q = 0; q < Q; q++) {
                        int w = q * stride - pad + ks;
                        if (w >= 0 && w < W)
                            dxr[w] += in[q];
                    }
                }
            }
}

static void conv2d_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    conv2d *c = (conv2d *)l;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    int K = C * c->k * c->k, PQ = P * Q;
    const float *w = model_param(m, l->slice0);
    const float *bias = c->bias ? model_param(m, l->slice0 + 1) : NULL;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * C * H * W;
        float *yb = l->y + (size_t)b * O * PQ;
        const float *col = xb;
        if (!conv2d_direct(c)) {
            im2col(m->scratch, xb, C, H, W, c->k, c->stride, c->pad, P, Q);
            col = m->scratch;
        }
        gemm(0, 0, O, PQ, K, 1.0f, w, K, col, PQ, 0.0f, yb, PQ);
        if (bias)
            for (int o = 0; o < O; o++)
                for (int i = 0; i < PQ; i++)
                    yb[(size_t)o * PQ + i] += bias[o];
    }
}

static void conv2d_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    conv2d *c = (conv2d *)l;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    int K = C * c->k * c->k, PQ = P * Q;
    const float *w = model_param(m, l->slice0);
    float *dw = m->slice[l->slice0].frozen ? NULL : model_grad(m, l->slice0);
    float *db = c->bias && !m->slice[l->slice0 + 1].frozen ? model_grad(m, l->slice0 + 1) : NULL;
    float *col = m->scratch, *dcol = m->scratch + (size_t)K * PQ;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * C * H * W;
        const float *dyb = l->dy + (size_t)b * O * PQ;
        float *dxb = dx ? dx + (size_t)b * C * H * W : NULL;
        if (dw) {
            const float *cb = xb;
            if (!conv2d_direct(c)) {
                im2col(col, xb, C, H, W, c->k, c->stride, c->pad, P, Q);
                cb = col;
            }
            gemm(0, 1, O, K, PQ, 1.0f, dyb, PQ, cb, PQ, 1.0f, dw, K);
        }
        if (db)
            for (int o = 0; o < O; o++) {
                float s = 0.0f;
                for (int i = 0; i < PQ; i++)
                    s += dyb[(size_t)o * PQ + i];
                db[o] += s;
            }
        if (!dxb)
            continue;
        if (conv2d_direct(c)) {
            gemm(1, 0, K, PQ, O, 1.0f, w, K, dyb, PQ, acc ? 1.0f : 0.0f, dxb, PQ);
        } else {
            gemm(1, 0, K, PQ, O, 1.0f, w, K, dyb, PQ, 0.0f, dcol, PQ);
            if (!acc)
                memset(dxb, 0, (size_t)C * H * W * sizeof(float));
            col2im(dxb, dcol, C, H, W, c->k, c->stride, c->pad, P, Q);
        }
    }
}

static const layer_ops conv2d_ops = {
    .type = "conv2d",
    .plan = conv2d_plan,
    .alloc = conv2d_alloc,
    .scratch = conv2d_scratch,
    .init = conv2d_init,
    .forward = conv2d_forward,
    .backward = conv2d_backward,
};

layer *conv2d_new(const char *name, int cin, int cout, int kernel, int stride, int pad, int bias)
{
    if (cin < 1 || cout < 1 || kernel < 1 || stride < 1 || pad < 0)
        return NULL;
    conv2d *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    if (layer_init_base(&c->base, &conv2d_ops, name) != THAW_OK) {
        free(c);
        return NULL;
    }
    c->cin = cin;
    c->cout = cout;
    c->k = kernel;
    c->stride = stride;
    c->pad = pad;
    c->bias = bias;
    return &c->base;
}
