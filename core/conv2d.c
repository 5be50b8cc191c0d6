/* conv2d.c — 2-D convolution, forward and backward, as GEMMs over BLIS.
 *
 * Dimensions: B batch, C input channels, H×W input, O output channels,
 * R×S kernel, P×Q output. Per image b:
 *   col(C·R·S, P·Q)  = im2col(x_b)                 (skipped for a 1×1 stride-1 kernel)
 *   y_b(O, P·Q)      = W(O, C·R·S) · col + bias
 *   dW              += dy_b · colᵀ                  (only when the weight trains)
 *   dcol             = Wᵀ · dy_b;  dx_b = col2im(dcol)   (only when upstream trains)
 * The GEMMs run over chunks of images side by side (columns (b, p, q)), so
 * that even a 7×7 output gives BLIS wide enough matrices; a chunk's col
 * stays within the last-level cache. A 1×1 stride-1 convolution multiplies
 * the input in place, image by image, without im2col. A 3×3 stride-1
 * padding-1 convolution (most of a ResNet) runs as Winograd F(2×2, 3×3),
 * which needs 4 multiplications per output where im2col needs 9 (see
 * winograd.h).
 */
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "model.h"
#include "winograd.h"

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

/* 3×3, stride 1, padding 1: output and input planes match, Winograd applies.
 * With few channels the transformed-domain GEMMs are too thin to pay for
 * the transforms (a first layer on grey images has one). */
static int conv2d_winograd(const conv2d *c)
{
    return c->k == 3 && c->stride == 1 && c->pad == 1 && c->cin >= 8 && c->cout >= 8 &&
           c->base.in.h <= WINO_MAX_SIDE && c->base.in.w <= WINO_MAX_SIDE;
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

/* The range of output columns q whose input column q·stride - pad + ks lies
 * inside [0, W): [*q0, *q1). */
static void valid_cols(int *q0, int *q1, int W, int Q, int ks, int stride, int pad)
{
    int lo = pad - ks, hi = W + pad - ks;   /* q·stride must lie in [lo, hi) */
    *q0 = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    *q1 = hi <= 0 ? 0 : (hi + stride - 1) / stride;
    if (*q1 > Q)
        *q1 = Q;
    if (*q0 > *q1)
        *q0 = *q1;
}

/* col(C·R·S, P·Q), rows ld floats apart, from x(C, H, W); padding reads as zero. */
static void im2col(float *col, size_t ld, const float *x, int C, int H, int W, int R,
                   int stride, int pad, int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                float *row = col + (size_t)((ch * R + kr) * R + ks) * ld;
                const float *xc = x + (size_t)ch * H * W;
                int q0, q1;
                valid_cols(&q0, &q1, W, Q, ks, stride, pad);
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pad + kr;
                    float *out = row + p * Q;
                    if (h < 0 || h >= H || q0 == q1) {
                        memset(out, 0, Q * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + (size_t)h * W + ks - pad;
                    for (int q = 0; q < q0; q++)
                        out[q] = 0.0f;
                    if (stride == 1)
                        memcpy(out + q0, xr + q0, (size_t)(q1 - q0) * sizeof(float));
                    else
                        for (int q = q0; q < q1; q++)
                            out[q] = xr[q * stride];
                    for (int q = q1; q < Q; q++)
                        out[q] = 0.0f;
                }
            }
}

/* dx(C, H, W) += col2im(dcol(C·R·S, P·Q)), rows of dcol ld floats apart. */
static void col2im(float *dx, const float *dcol, size_t ld, int C, int H, int W, int R,
                   int stride, int pad, int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                const float *row = dcol + (size_t)((ch * R + kr) * R + ks) * ld;
                float *dxc = dx + (size_t)ch * H * W;
                int q0, q1;
                valid_cols(&q0, &q1, W, Q, ks, stride, pad);
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pad + kr;
                    if (h < 0 || h >= H)
                        continue;
                    float *restrict dxr = dxc + (size_t)h * W + ks - pad;
                    const float *restrict in = row + p * Q;
                    if (stride == 1)
                        for (int q = q0; q < q1; q++)
                            dxr[q] += in[q];
                    else
                        for (int q = q0; q < q1; q++)
                            dxr[q * stride] += in[q];
                }
            }
}

/* Images per GEMM: enough columns (images × P·Q) for BLIS to run at full
 * rate, few enough that the chunk's col stays in the last-level cache. */
#define CONV_TARGET_COLS 784
#define CONV_COL_FLOATS (2u << 20)

static int conv2d_chunk(const conv2d *c, const layer *l, int batch)
{
    size_t K = (size_t)c->cin * c->k * c->k, PQ = (size_t)l->out.h * l->out.w;
    size_t nb = (CONV_TARGET_COLS + PQ - 1) / PQ;
    if (nb * PQ * K > CONV_COL_FLOATS)
        nb = CONV_COL_FLOATS / (PQ * K);
    if (nb < 1)
        nb = 1;
    return nb < (size_t)batch ? (int)nb : batch;
}

/* Images per chunk of Winograd tiles: about WINO_TARGET_TILES tiles, the
 * width of the 16 transformed-domain GEMMs. */
#define WINO_TARGET_TILES 2048

static int wino_chunk(const layer *l, int batch)
{
    int tiles = wino_tiles(l->out.h, l->out.w);
    int nb = (WINO_TARGET_TILES + tiles - 1) / tiles;
    /* Rows a multiple of 128 floats apart fall into the same cache sets and
     * BLIS's packing slows several-fold; one image fewer breaks the pattern. */
    if (nb > 1 && (nb * tiles) % 128 == 0)
        nb--;
    return nb < batch ? nb : batch;
}

static size_t conv2d_scratch(const layer *l, int batch)
{
    const conv2d *c = (const conv2d *)l;
    if (conv2d_direct(c))
        return 0;
    if (conv2d_winograd(c)) {
        int T = wino_chunk(l, batch) * wino_tiles(l->out.h, l->out.w);
        return 16 * (2 * (size_t)c->cout * c->cin + wino_plane(c->cin, T) + wino_plane(c->cout, T)) +
               wino_rows_floats();
    }
    size_t K = (size_t)c->cin * c->k * c->k, N = (size_t)conv2d_chunk(c, l, batch) * l->out.h * l->out.w;
    return (K + (size_t)c->cout) * N;     /* col (reused for dcol), and y or dy as (O, N) */
}

/* Direct 1×1 stride-1 convolution: the input already is the GEMM operand. */
static void conv2d_forward_direct(conv2d *c, model *m, const float *x, int batch)
{
    layer *l = &c->base;
    int C = c->cin, O = c->cout, PQ = l->out.h * l->out.w;
    const float *w = model_param(m, l->slice0);
    for (int b = 0; b < batch; b++)
        gemm(0, 0, O, PQ, C, 1.0f, w, C, x + (size_t)b * C * PQ, PQ, 0.0f,
             l->y + (size_t)b * O * PQ, PQ);
}

static void conv2d_forward_winograd(conv2d *c, model *m, const float *x, int batch)
{
    layer *l = &c->base;
    int C = c->cin, O = c->cout, H = l->out.h, W = l->out.w;
    int nb = wino_chunk(l, batch), tiles = wino_tiles(H, W);
    size_t uplane = (size_t)O * C;
    float *U = m->scratch;                              /* (16, O, C) */
    float *V = U + 16 * uplane;                         /* (16, C, T) */
    float *M = V + 16 * wino_plane(C, nb * tiles);      /* (16, O, T) */
    wino_rows *rows = (wino_rows *)(M + 16 * wino_plane(O, nb * tiles));
    wino_kernels(U, model_param(m, l->slice0), O, C, 0);
    for (int b0 = 0; b0 < batch; b0 += nb) {
        int n = batch - b0 < nb ? batch - b0 : nb, T = n * tiles;
        size_t vplane = wino_plane(C, T), mplane = wino_plane(O, T);
        wino_input(V, rows, x + (size_t)b0 * C * H * W, n, C, H, W);
        for (int e = 0; e < 16; e++)
            gemm(0, 0, O, T, C, 1.0f, U + e * uplane, C, V + e * vplane, T, 0.0f, M + e * mplane, T);
        wino_output(l->y + (size_t)b0 * O * H * W, M, n, O, H, W, 0);
    }
}

/* Winograd backward: weight gradient in the transformed domain, data
 * gradient as a forward pass of dy through the turned kernels. */
static void conv2d_backward_winograd(conv2d *c, model *m, const float *x, float *dx, int acc,
                                     float *dw, int batch)
{
    layer *l = &c->base;
    int C = c->cin, O = c->cout, H = l->out.h, W = l->out.w;
    int nb = wino_chunk(l, batch), tiles = wino_tiles(H, W);
    size_t uplane = (size_t)O * C;
    float *D = m->scratch;                              /* (16, O, C) weight gradient */
    float *Uf = D + 16 * uplane;                        /* (16, C, O) turned kernels */
    float *A1 = Uf + 16 * uplane;                       /* (16, C, T) */
    float *A2 = A1 + 16 * wino_plane(C, nb * tiles);    /* (16, O, T) */
    wino_rows *rows = (wino_rows *)(A2 + 16 * wino_plane(O, nb * tiles));
    if (dw)
        memset(D, 0, 16 * uplane * sizeof(float));
    if (dx)
        wino_kernels(Uf, model_param(m, l->slice0), O, C, 1);
    for (int b0 = 0; b0 < batch; b0 += nb) {
        int n = batch - b0 < nb ? batch - b0 : nb, T = n * tiles;
        size_t cplane = wino_plane(C, T), oplane = wino_plane(O, T);
        const float *dyb = l->dy + (size_t)b0 * O * H * W;
        if (dw) {
            wino_input(A1, rows, x + (size_t)b0 * C * H * W, n, C, H, W);
            wino_grad_output(A2, rows, dyb, n, O, H, W);
            for (int e = 0; e < 16; e++)
                gemm(0, 1, O, C, T, 1.0f, A2 + e * oplane, T, A1 + e * cplane, T, 1.0f,
                     D + e * uplane, C);
        }
        if (dx) {
            wino_input(A2, rows, dyb, n, O, H, W);
            for (int e = 0; e < 16; e++)
                gemm(0, 0, C, T, O, 1.0f, Uf + e * uplane, O, A2 + e * oplane, T, 0.0f,
                     A1 + e * cplane, T);
            wino_output(dx + (size_t)b0 * C * H * W, A1, n, C, H, W, acc);
        }
    }
    if (dw)
        wino_kernel_grad(dw, D, O, C);
}

static void conv2d_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    conv2d *c = (conv2d *)l;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    size_t K = (size_t)C * c->k * c->k, PQ = (size_t)P * Q, CHW = (size_t)C * H * W;
    const float *w = model_param(m, l->slice0);
    const float *bias = c->bias ? model_param(m, l->slice0 + 1) : NULL;
    if (conv2d_direct(c)) {
        conv2d_forward_direct(c, m, x, batch);
    } else if (conv2d_winograd(c)) {
        conv2d_forward_winograd(c, m, x, batch);
    } else {
        int nb = conv2d_chunk(c, l, batch);
        float *col = m->scratch;                   /* (K, N) */
        float *ycn = m->scratch + K * nb * PQ;     /* (O, N): images side by side */
        for (int b0 = 0; b0 < batch; b0 += nb) {
            int n = batch - b0 < nb ? batch - b0 : nb;
            size_t N = (size_t)n * PQ;
            for (int i = 0; i < n; i++)
                im2col(col + i * PQ, N, x + (b0 + i) * CHW, C, H, W, c->k, c->stride, c->pad, P, Q);
            gemm(0, 0, O, (int)N, (int)K, 1.0f, w, (int)K, col, (int)N, 0.0f, ycn, (int)N);
            for (int i = 0; i < n; i++)
                for (int o = 0; o < O; o++)
                    memcpy(l->y + ((size_t)(b0 + i) * O + o) * PQ, ycn + o * N + i * PQ,
                           PQ * sizeof(float));
        }
    }
    if (bias)
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < O; o++) {
                float *yo = l->y + ((size_t)b * O + o) * PQ;
                for (size_t i = 0; i < PQ; i++)
                    yo[i] += bias[o];
            }
}

static void conv2d_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    conv2d *c = (conv2d *)l;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    size_t K = (size_t)C * c->k * c->k, PQ = (size_t)P * Q, CHW = (size_t)C * H * W;
    const float *w = model_param(m, l->slice0);
    float *dw = m->slice[l->slice0].frozen ? NULL : model_grad(m, l->slice0);
    float *db = c->bias && !m->slice[l->slice0 + 1].frozen ? model_grad(m, l->slice0 + 1) : NULL;
    if (db)
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < O; o++) {
                const float *dyo = l->dy + ((size_t)b * O + o) * PQ;
                float s = 0.0f;
                for (size_t i = 0; i < PQ; i++)
                    s += dyo[i];
                db[o] += s;
            }
    if (conv2d_direct(c)) {
        for (int b = 0; b < batch; b++) {
            const float *xb = x + (size_t)b * C * PQ, *dyb = l->dy + (size_t)b * O * PQ;
            if (dw)
                gemm(0, 1, O, C, (int)PQ, 1.0f, dyb, (int)PQ, xb, (int)PQ, 1.0f, dw, C);
            if (dx)
                gemm(1, 0, C, (int)PQ, O, 1.0f, w, C, dyb, (int)PQ, acc ? 1.0f : 0.0f,
                     dx + (size_t)b * C * PQ, (int)PQ);
        }
        return;
    }
    if (conv2d_winograd(c)) {
        conv2d_backward_winograd(c, m, x, dx, acc, dw, batch);
        return;
    }
    int nb = conv2d_chunk(c, l, batch);
    float *col = m->scratch;                   /* (K, N): col, then dcol */
    float *dycn = m->scratch + K * nb * PQ;    /* (O, N) */
    for (int b0 = 0; b0 < batch; b0 += nb) {
        int n = batch - b0 < nb ? batch - b0 : nb;
        size_t N = (size_t)n * PQ;
        for (int i = 0; i < n; i++)
            for (int o = 0; o < O; o++)
                memcpy(dycn + o * N + i * PQ, l->dy + ((size_t)(b0 + i) * O + o) * PQ,
                       PQ * sizeof(float));
        if (dw) {
            for (int i = 0; i < n; i++)
                im2col(col + i * PQ, N, x + (b0 + i) * CHW, C, H, W, c->k, c->stride, c->pad, P, Q);
            gemm(0, 1, O, (int)K, (int)N, 1.0f, dycn, (int)N, col, (int)N, 1.0f, dw, (int)K);
        }
        if (!dx)
            continue;
        gemm(1, 0, (int)K, (int)N, O, 1.0f, w, (int)K, dycn, (int)N, 0.0f, col, (int)N);
        for (int i = 0; i < n; i++) {
            float *dxb = dx + (b0 + i) * CHW;
            if (!acc)
                memset(dxb, 0, CHW * sizeof(float));
            col2im(dxb, col + i * PQ, N, C, H, W, c->k, c->stride, c->pad, P, Q);
        }
    }
}

static const layer_hparam conv2d_hp[] = {
    { "in_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "out_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "kernel_size", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_KERNEL_MAX, .def = 0 },
    { "stride", LAYER_HP_INT, 0, 1, LAYER_KERNEL_MAX, .def = 1 },
    { "padding", LAYER_HP_INT, 0, 0, LAYER_KERNEL_MAX, .def = 0 },
    { "bias", LAYER_HP_BOOL, 0, 0, 1, .def = 1 },
};

static void conv2d_setup(layer *l, const double *hp)
{
    conv2d *c = (conv2d *)l;
    c->cin = (int)hp[0], c->cout = (int)hp[1], c->k = (int)hp[2];
    c->stride = (int)hp[3], c->pad = (int)hp[4], c->bias = (int)hp[5];
}

static void conv2d_hparams(const layer *l, double *hp)
{
    const conv2d *c = (const conv2d *)l;
    hp[0] = c->cin, hp[1] = c->cout, hp[2] = c->k, hp[3] = c->stride, hp[4] = c->pad, hp[5] = c->bias;
}

static double conv2d_count(const double *hp)
{
    return hp[1] * hp[0] * hp[2] * hp[2] + (hp[5] ? hp[1] : 0);
}

const layer_ops conv2d_ops = {
    .type = "conv2d", .torch = "nn.Conv2d",
    .tensors = (const char *const[]){ "weight", "bias", NULL },
    .size = sizeof(conv2d),
    LAYER_HPARAMS(conv2d),
    .count = conv2d_count,
    .plan = conv2d_plan,
    .alloc = conv2d_alloc,
    .scratch = conv2d_scratch,
    .init = conv2d_init,
    LAYER_PASSES(conv2d),
};

layer *conv2d_new(const char *name, int cin, int cout, int kernel, int stride, int pad, int bias)
{
    return layer_create(&conv2d_ops, name,
                        (const double[]){ cin, cout, kernel, stride, pad, bias != 0 }, NULL);
}
