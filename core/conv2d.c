/* conv2d.c — 2-D convolution, forward and backward, as GEMMs over BLIS, and
 * depthwise convolution as direct loops.
 *
 * Dimensions: B batch, C input channels, H×W input, O output channels,
 * R×S kernel, P×Q output, G groups (each of C/G input and O/G output
 * channels); padding per side, top and left shifting the kernel's window.
 * Per image b and group g:
 *   col(C/G·R·S, P·Q)  = im2col(x_b, group g)       (skipped for a 1×1 stride-1 kernel)
 *   y_b(O/G, P·Q)      = W_g(O/G, C/G·R·S) · col + bias
 *   dW_g              += dy_b · colᵀ                (only when the weight trains)
 *   dcol               = W_gᵀ · dy_b;  dx_b = col2im(dcol)   (only when upstream trains)
 * The GEMMs run over chunks of images side by side (columns (b, p, q)), so
 * that even a 7×7 output gives BLIS wide enough matrices; a chunk's col
 * stays within the last-level cache. A 1×1 stride-1 convolution multiplies
 * the input in place, image by image, without im2col. A 3×3 stride-1
 * padding-1 convolution (most of a ResNet) runs as Winograd F(2×2, 3×3),
 * which needs 4 multiplications per output where im2col needs 9 (see
 * winograd.h). A depthwise convolution (G = C: MobileNet's) has too little
 * work per weight for a GEMM to pay for its copies, and runs as direct
 * loops over rows (see "depthwise" below).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "model.h"
#include "winograd.h"

typedef struct conv2d {
    layer base;
    int cin, cout, k, stride, pad, bias;
    int groups;
    int pt, pb, pl, pr;          /* padding per side: top, bottom, left, right */
} conv2d;

/* The padding as a model file's reader would say it: "1", or per side. */
static const char *pad_text(char *out, size_t cap, const conv2d *c)
{
    if (c->pt == c->pb && c->pt == c->pl && c->pt == c->pr)
        snprintf(out, cap, "%d", c->pt);
    else
        snprintf(out, cap, "top %d, bottom %d, left %d, right %d", c->pt, c->pb, c->pl, c->pr);
    return out;
}

static int conv2d_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)prev;
    conv2d *c = (conv2d *)l;
    if (in.c != c->cin)
        return thaw_fail(err, THAW_ESHAPE, "expects %d input channels, gets %dx%dx%d",
                         c->cin, in.c, in.h, in.w);
    int hp = in.h + c->pt + c->pb, wp = in.w + c->pl + c->pr;
    if (hp < c->k || wp < c->k) {
        char pad[64];
        return thaw_fail(err, THAW_ESHAPE, "a %dx%d kernel does not fit a %dx%d input with padding %s",
                         c->k, c->k, in.h, in.w, pad_text(pad, sizeof pad, c));
    }
    l->out = (shape3){ c->cout, (hp - c->k) / c->stride + 1, (wp - c->k) / c->stride + 1 };
    int wdim[4] = { c->cout, c->cin / c->groups, c->k, c->k };
    if (model_declare(m, l, "weight", PARAM_WEIGHT, 4, wdim, err) < 0)
        return THAW_ENOMEM;
    if (c->bias && model_declare(m, l, "bias", PARAM_BIAS, 1, &c->cout, err) < 0)
        return THAW_ENOMEM;
    return THAW_OK;
}

static int conv2d_pads(const conv2d *c, int pad)
{
    return c->pt == pad && c->pb == pad && c->pl == pad && c->pr == pad;
}

static int conv2d_direct(const conv2d *c)
{
    return c->groups == 1 && c->k == 1 && c->stride == 1 && conv2d_pads(c, 0);
}

/* One group per input channel, each with its own O/C filters. */
static int conv2d_depthwise(const conv2d *c)
{
    return c->groups > 1 && c->groups == c->cin;
}

/* 3×3, stride 1, padding 1: output and input planes match, Winograd applies.
 * With few channels the transformed-domain GEMMs are too thin to pay for
 * the transforms (a first layer on grey images has one). */
static int conv2d_winograd(const conv2d *c)
{
    return c->groups == 1 && c->k == 3 && c->stride == 1 && conv2d_pads(c, 1) && c->cin >= 8 &&
           c->cout >= 8 && c->base.in.h <= WINO_MAX_SIDE && c->base.in.w <= WINO_MAX_SIDE;
}

static void conv2d_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
}

static void conv2d_init(layer *l, model *m, rng *r)
{
    /* PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias. */
    conv2d *c = (conv2d *)l;
    float bound = 1.0f / sqrtf((float)(c->cin / c->groups * c->k * c->k));
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

/* col(C·R·S, P·Q), rows ld floats apart, from x(C, H, W) padded by pt rows
 * on top and pl columns on the left; padding reads as zero. */
static void im2col(float *col, size_t ld, const float *x, int C, int H, int W, int R,
                   int stride, int pt, int pl, int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                float *row = col + (size_t)((ch * R + kr) * R + ks) * ld;
                const float *xc = x + (size_t)ch * H * W;
                int q0, q1;
                valid_cols(&q0, &q1, W, Q, ks, stride, pl);
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pt + kr;
                    float *out = row + p * Q;
                    if (h < 0 || h >= H || q0 == q1) {
                        memset(out, 0, Q * sizeof(float));
                        continue;
                    }
                    const float *xr = xc + (size_t)h * W + ks - pl;
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
                   int stride, int pt, int pl, int P, int Q)
{
    for (int ch = 0; ch < C; ch++)
        for (int kr = 0; kr < R; kr++)
            for (int ks = 0; ks < R; ks++) {
                const float *row = dcol + (size_t)((ch * R + kr) * R + ks) * ld;
                float *dxc = dx + (size_t)ch * H * W;
                int q0, q1;
                valid_cols(&q0, &q1, W, Q, ks, stride, pl);
                for (int p = 0; p < P; p++) {
                    int h = p * stride - pt + kr;
                    if (h < 0 || h >= H)
                        continue;
                    float *restrict dxr = dxc + (size_t)h * W + ks - pl;
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
    size_t K = (size_t)c->cin / c->groups * c->k * c->k, PQ = (size_t)l->out.h * l->out.w;
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
    if (conv2d_depthwise(c))
        return ((size_t)c->k * c->k + 1) * l->out.w;   /* the weight gradient's rows */
    size_t K = (size_t)c->cin / c->groups * c->k * c->k;
    size_t N = (size_t)conv2d_chunk(c, l, batch) * l->out.h * l->out.w;
    return (K + (size_t)c->cout) * N;     /* a group's col (reused for dcol), and y or dy as (O, N) */
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

/* ---- depthwise ----------------------------------------------------------
 * G = C: output channel o reads input channel o / M alone (M = O / C, the
 * depth multiplier) through its own R×R kernel. Each pass works a row at a
 * time: for output row p and kernel tap (kr, ks), the output columns
 * [q0, q1) whose input column q·stride - pl + ks lies inside the image
 * (valid_cols) take one multiply-add each, in a loop over q that the
 * compiler vectorises (unit stride at stride 1). */

/* y(P, Q) = w(R, R) ⋆ x(H, W) + bias for one plane. */
static void dw_forward_plane(float *restrict y, const float *restrict x, const float *restrict w,
                             float bias, int H, int W, int P, int Q, int R, int stride, int pt,
                             int pl)
{
    for (int p = 0; p < P; p++) {
        float *restrict yr = y + (size_t)p * Q;
        for (int q = 0; q < Q; q++)
            yr[q] = bias;
        for (int kr = 0; kr < R; kr++) {
            int h = p * stride - pt + kr;
            if (h < 0 || h >= H)
                continue;
            const float *restrict xr = x + (size_t)h * W;
            for (int ks = 0; ks < R; ks++) {
                int q0, q1, off = ks - pl;
                float wv = w[kr * R + ks];
                valid_cols(&q0, &q1, W, Q, ks, stride, pl);
                if (stride == 1)
                    for (int q = q0; q < q1; q++)
                        yr[q] += wv * xr[q + off];
                else
                    for (int q = q0; q < q1; q++)
                        yr[q] += wv * xr[q * stride + off];
            }
        }
    }
}

/* dx(H, W) += the input gradient of one plane's dy(P, Q) through w(R, R). */
static void dw_dx_plane(float *restrict dx, const float *restrict dy, const float *restrict w,
                        int H, int W, int P, int Q, int R, int stride, int pt, int pl)
{
    for (int p = 0; p < P; p++) {
        const float *restrict dyr = dy + (size_t)p * Q;
        for (int kr = 0; kr < R; kr++) {
            int h = p * stride - pt + kr;
            if (h < 0 || h >= H)
                continue;
            float *restrict dxr = dx + (size_t)h * W;
            for (int ks = 0; ks < R; ks++) {
                int q0, q1, off = ks - pl;
                float wv = w[kr * R + ks];
                valid_cols(&q0, &q1, W, Q, ks, stride, pl);
                if (stride == 1)
                    for (int q = q0; q < q1; q++)
                        dxr[q + off] += wv * dyr[q];
                else
                    for (int q = q0; q < q1; q++)
                        dxr[q * stride + off] += wv * dyr[q];
            }
        }
    }
}

/* acc(R·R + 1, Q) += one plane's products dy·x per kernel tap, column by
 * column, and in the last row dy itself (the bias's gradient): sums over
 * rows and images stay elementwise, which vectorises where one running
 * sum per tap would not; dw_reduce adds each row up at the end. */
static void dw_dw_plane(float *restrict acc, const float *restrict dy, const float *restrict x,
                        int H, int W, int P, int Q, int R, int stride, int pt, int pl)
{
    float *restrict accb = acc + (size_t)R * R * Q;
    for (int p = 0; p < P; p++) {
        const float *restrict dyr = dy + (size_t)p * Q;
        for (int q = 0; q < Q; q++)
            accb[q] += dyr[q];
        for (int kr = 0; kr < R; kr++) {
            int h = p * stride - pt + kr;
            if (h < 0 || h >= H)
                continue;
            const float *restrict xr = x + (size_t)h * W;
            for (int ks = 0; ks < R; ks++) {
                int q0, q1, off = ks - pl;
                float *restrict a = acc + (size_t)(kr * R + ks) * Q;
                valid_cols(&q0, &q1, W, Q, ks, stride, pl);
                if (stride == 1)
                    for (int q = q0; q < q1; q++)
                        a[q] += dyr[q] * xr[q + off];
                else
                    for (int q = q0; q < q1; q++)
                        a[q] += dyr[q] * xr[q * stride + off];
            }
        }
    }
}

static float dw_reduce(const float *a, int Q)
{
    float s = 0.0f;
    for (int q = 0; q < Q; q++)
        s += a[q];
    return s;
}

static void conv2d_forward_depthwise(conv2d *c, model *m, const float *x, int batch)
{
    layer *l = &c->base;
    int C = c->cin, O = c->cout, M = O / C, H = l->in.h, W = l->in.w, P = l->out.h, Q = l->out.w;
    int R = c->k;
    const float *w = model_param(m, l->slice0);                       /* (O, 1, R, R) */
    const float *bias = c->bias ? model_param(m, l->slice0 + 1) : NULL;
    for (int b = 0; b < batch; b++)
        for (int o = 0; o < O; o++)
            dw_forward_plane(l->y + ((size_t)b * O + o) * P * Q,
                             x + ((size_t)b * C + o / M) * H * W, w + (size_t)o * R * R,
                             bias ? bias[o] : 0.0f, H, W, P, Q, R, c->stride, c->pt, c->pl);
}

static void conv2d_backward_depthwise(conv2d *c, model *m, const float *x, float *dx, int acc,
                                      float *dw, float *db, int batch)
{
    layer *l = &c->base;
    int C = c->cin, O = c->cout, M = O / C, H = l->in.h, W = l->in.w, P = l->out.h, Q = l->out.w;
    int R = c->k;
    size_t HW = (size_t)H * W, PQ = (size_t)P * Q;
    const float *w = model_param(m, l->slice0);
    if (dw || db) {
        float *rows = m->scratch;                                     /* (R·R + 1, Q) */
        for (int o = 0; o < O; o++) {
            memset(rows, 0, ((size_t)R * R + 1) * Q * sizeof(float));
            for (int b = 0; b < batch; b++)
                dw_dw_plane(rows, l->dy + ((size_t)b * O + o) * PQ, x + ((size_t)b * C + o / M) * HW,
                            H, W, P, Q, R, c->stride, c->pt, c->pl);
            for (int t = 0; dw && t < R * R; t++)
                dw[(size_t)o * R * R + t] += dw_reduce(rows + (size_t)t * Q, Q);
            if (db)
                db[o] += dw_reduce(rows + (size_t)R * R * Q, Q);
        }
    }
    if (!dx)
        return;
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < C; ch++) {
            float *dxc = dx + ((size_t)b * C + ch) * HW;
            if (!acc)
                memset(dxc, 0, HW * sizeof(float));
            for (int o = ch * M; o < (ch + 1) * M; o++)
                dw_dx_plane(dxc, l->dy + ((size_t)b * O + o) * PQ, w + (size_t)o * R * R, H, W, P,
                            Q, R, c->stride, c->pt, c->pl);
        }
}

/* ---- the passes ---------------------------------------------------------- */

static void conv2d_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    conv2d *c = (conv2d *)l;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    int G = c->groups, Cg = C / G, Og = O / G;
    size_t K = (size_t)Cg * c->k * c->k, PQ = (size_t)P * Q, HW = (size_t)H * W, CHW = C * HW;
    const float *w = model_param(m, l->slice0);
    const float *bias = c->bias ? model_param(m, l->slice0 + 1) : NULL;
    if (conv2d_depthwise(c)) {
        conv2d_forward_depthwise(c, m, x, batch);
        return;                                /* the bias is in */
    }
    if (conv2d_direct(c)) {
        conv2d_forward_direct(c, m, x, batch);
    } else if (conv2d_winograd(c)) {
        conv2d_forward_winograd(c, m, x, batch);
    } else {
        int nb = conv2d_chunk(c, l, batch);
        float *col = m->scratch;                   /* (K, N): one group's */
        float *ycn = m->scratch + K * nb * PQ;     /* (O, N): images side by side */
        for (int b0 = 0; b0 < batch; b0 += nb) {
            int n = batch - b0 < nb ? batch - b0 : nb;
            size_t N = (size_t)n * PQ;
            for (int g = 0; g < G; g++) {
                for (int i = 0; i < n; i++)
                    im2col(col + i * PQ, N, x + (b0 + i) * CHW + g * Cg * HW, Cg, H, W, c->k,
                           c->stride, c->pt, c->pl, P, Q);
                gemm(0, 0, Og, (int)N, (int)K, 1.0f, w + g * Og * K, (int)K, col, (int)N, 0.0f,
                     ycn + g * Og * N, (int)N);
            }
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
    int G = c->groups, Cg = C / G, Og = O / G;
    size_t K = (size_t)Cg * c->k * c->k, PQ = (size_t)P * Q, HW = (size_t)H * W, CHW = C * HW;
    const float *w = model_param(m, l->slice0);
    float *dw = m->slice[l->slice0].frozen ? NULL : model_grad(m, l->slice0);
    float *db = c->bias && !m->slice[l->slice0 + 1].frozen ? model_grad(m, l->slice0 + 1) : NULL;
    if (conv2d_depthwise(c)) {
        conv2d_backward_depthwise(c, m, x, dx, acc, dw, db, batch);
        return;
    }
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
    float *col = m->scratch;                   /* (K, N): a group's col, then its dcol */
    float *dycn = m->scratch + K * nb * PQ;    /* (O, N) */
    for (int b0 = 0; b0 < batch; b0 += nb) {
        int n = batch - b0 < nb ? batch - b0 : nb;
        size_t N = (size_t)n * PQ;
        for (int i = 0; i < n; i++)
            for (int o = 0; o < O; o++)
                memcpy(dycn + o * N + i * PQ, l->dy + ((size_t)(b0 + i) * O + o) * PQ,
                       PQ * sizeof(float));
        for (int g = 0; g < G; g++) {
            const float *dyg = dycn + g * Og * N;
            if (dw) {
                for (int i = 0; i < n; i++)
                    im2col(col + i * PQ, N, x + (b0 + i) * CHW + g * Cg * HW, Cg, H, W, c->k,
                           c->stride, c->pt, c->pl, P, Q);
                gemm(0, 1, Og, (int)K, (int)N, 1.0f, dyg, (int)N, col, (int)N, 1.0f, dw + g * Og * K,
                     (int)K);
            }
            if (!dx)
                continue;
            gemm(1, 0, (int)K, (int)N, Og, 1.0f, w + g * Og * K, (int)K, dyg, (int)N, 0.0f, col,
                 (int)N);
            for (int i = 0; i < n; i++) {
                float *dxg = dx + (b0 + i) * CHW + g * Cg * HW;
                if (!acc)
                    memset(dxg, 0, Cg * HW * sizeof(float));
                col2im(dxg, col + i * PQ, N, Cg, H, W, c->k, c->stride, c->pt, c->pl, P, Q);
            }
        }
    }
}

/* groups must divide both channel counts; the padding per side defaults to
 * `padding` and is written only where it differs, so files from before it
 * existed save unchanged. */
static const layer_hparam conv2d_hp[] = {
    { "in_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "out_channels", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "kernel_size", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_KERNEL_MAX, .def = 0 },
    { "stride", LAYER_HP_INT, 0, 1, LAYER_KERNEL_MAX, .def = 1 },
    { "padding", LAYER_HP_INT, 0, 0, LAYER_KERNEL_MAX, .def = 0 },
    { "bias", LAYER_HP_BOOL, 0, 0, 1, .def = 1 },
    { "groups", LAYER_HP_INT, LAYER_HP_QUIET, 1, LAYER_WIDTH_MAX, .def = 1 },
    { "pad_top", LAYER_HP_INT, LAYER_HP_QUIET, 0, LAYER_KERNEL_MAX, .def_from = "padding" },
    { "pad_bottom", LAYER_HP_INT, LAYER_HP_QUIET, 0, LAYER_KERNEL_MAX, .def_from = "padding" },
    { "pad_left", LAYER_HP_INT, LAYER_HP_QUIET, 0, LAYER_KERNEL_MAX, .def_from = "padding" },
    { "pad_right", LAYER_HP_INT, LAYER_HP_QUIET, 0, LAYER_KERNEL_MAX, .def_from = "padding" },
};
enum { CONV_IN, CONV_OUT, CONV_K, CONV_STRIDE, CONV_PAD, CONV_BIAS, CONV_GROUPS, CONV_PAD_TOP };

static void conv2d_setup(layer *l, const double *hp)
{
    conv2d *c = (conv2d *)l;
    c->cin = (int)hp[CONV_IN], c->cout = (int)hp[CONV_OUT], c->k = (int)hp[CONV_K];
    c->stride = (int)hp[CONV_STRIDE], c->pad = (int)hp[CONV_PAD], c->bias = (int)hp[CONV_BIAS];
    c->groups = (int)hp[CONV_GROUPS];
    c->pt = (int)hp[CONV_PAD_TOP], c->pb = (int)hp[CONV_PAD_TOP + 1];
    c->pl = (int)hp[CONV_PAD_TOP + 2], c->pr = (int)hp[CONV_PAD_TOP + 3];
}

static void conv2d_hparams(const layer *l, double *hp)
{
    const conv2d *c = (const conv2d *)l;
    hp[CONV_IN] = c->cin, hp[CONV_OUT] = c->cout, hp[CONV_K] = c->k;
    hp[CONV_STRIDE] = c->stride, hp[CONV_PAD] = c->pad, hp[CONV_BIAS] = c->bias;
    hp[CONV_GROUPS] = c->groups;
    hp[CONV_PAD_TOP] = c->pt, hp[CONV_PAD_TOP + 1] = c->pb;
    hp[CONV_PAD_TOP + 2] = c->pl, hp[CONV_PAD_TOP + 3] = c->pr;
}

static int conv2d_relate(const double *hp, int *bad, thaw_err *err)
{
    double g = hp[CONV_GROUPS];
    if (fmod(hp[CONV_IN], g) == 0 && fmod(hp[CONV_OUT], g) == 0)
        return THAW_OK;
    if (bad)
        *bad = CONV_GROUPS;
    return thaw_fail(err, THAW_EINVAL, "groups = %g: expected a divisor of both in_channels (%g) "
                     "and out_channels (%g)", g, hp[CONV_IN], hp[CONV_OUT]);
}

static double conv2d_count(const double *hp)
{
    return hp[CONV_OUT] * (hp[CONV_IN] / hp[CONV_GROUPS]) * hp[CONV_K] * hp[CONV_K] +
           (hp[CONV_BIAS] ? hp[CONV_OUT] : 0);
}

const layer_ops conv2d_ops = {
    .type = "conv2d", .torch = "nn.Conv2d",
    .tensors = (const char *const[]){ "weight", "bias", NULL },
    .size = sizeof(conv2d),
    LAYER_HPARAMS(conv2d),
    .count = conv2d_count,
    .relate = conv2d_relate,
    .plan = conv2d_plan,
    .alloc = conv2d_alloc,
    .scratch = conv2d_scratch,
    .init = conv2d_init,
    LAYER_PASSES(conv2d),
};

layer *conv2d_new(const char *name, int cin, int cout, int kernel, int stride, int pad, int bias)
{
    return conv2d_grouped_new(name, cin, cout, kernel, stride, 1, (const int[4]){ pad, pad, pad, pad },
                              bias);
}

layer *conv2d_grouped_new(const char *name, int cin, int cout, int kernel, int stride, int groups,
                          const int pad[4], int bias)
{
    int even = pad[0] == pad[1] && pad[0] == pad[2] && pad[0] == pad[3];
    return layer_create(&conv2d_ops, name,
                        (const double[]){ cin, cout, kernel, stride, even ? pad[0] : 0, bias != 0,
                                          groups, pad[0], pad[1], pad[2], pad[3] },
                        NULL);
}
