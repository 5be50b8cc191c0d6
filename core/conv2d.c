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
 * loops over rows (conv2d_depthwise.c). Every pass runs as tasks over
 * chunks of images on the model's workers (conv2d_impl.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv2d_impl.h"
#include "gemm.h"
#include "winograd.h"

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

static int im2col_images(const conv2d *c, const layer *l)
{
    size_t K = (size_t)c->cin / c->groups * c->k * c->k, PQ = (size_t)l->out.h * l->out.w;
    size_t nb = (CONV_TARGET_COLS + PQ - 1) / PQ;
    if (nb * PQ * K > CONV_COL_FLOATS)
        nb = CONV_COL_FLOATS / (PQ * K);
    return nb < 1 ? 1 : nb > INT32_MAX ? INT32_MAX : (int)nb;
}

/* Images per chunk of Winograd tiles: about WINO_TARGET_TILES tiles, the
 * width of the 16 transformed-domain GEMMs. */
#define WINO_TARGET_TILES 2048

static int wino_images(const layer *l, int batch)
{
    int tiles = wino_tiles(l->out.h, l->out.w);
    int nb = conv_chunk_images(batch, (WINO_TARGET_TILES + tiles - 1) / tiles);
    /* Rows a multiple of 128 floats apart fall into the same cache sets and
     * BLIS's packing slows several-fold; one image fewer breaks the pattern. */
    if (nb > 1 && (nb * tiles) % 128 == 0)
        nb--;
    return nb;
}

/* Images per task of this layer's passes over a batch. */
static int pass_images(const conv2d *c, int batch)
{
    const layer *l = &c->base;
    if (conv2d_depthwise(c))
        return dw_chunk_images(batch);
    if (conv2d_direct(c))
        return conv_chunk_images(batch, batch);
    if (conv2d_winograd(c))
        return wino_images(l, batch);
    return conv_chunk_images(batch, im2col_images(c, l));
}

/* The most images per task, and the most tasks, of any batch up to `batch`
 * (what scratch and partial sums need room for). */
static void pass_most(const conv2d *c, int batch, int *images, int *tasks)
{
    *images = *tasks = 1;
    for (int b = 1; b <= batch; b++) {
        int nb = pass_images(c, b), n = conv_tasks(b, nb);
        if (nb > *images)
            *images = nb;
        if (n > *tasks)
            *tasks = n;
    }
}

/* The images of task t: [*b0, *b0 + return). */
static int task_images(const conv_job *j, int task, int *b0)
{
    *b0 = task * j->nb;
    return j->batch - *b0 < j->nb ? j->batch - *b0 : j->nb;
}

static void add_bias(const conv_job *j, int b0, int n)
{
    const conv2d *c = j->c;
    const layer *l = &c->base;
    const float *bias = j->bias;
    if (!bias)
        return;
    size_t PQ = (size_t)l->out.h * l->out.w;
    for (int b = b0; b < b0 + n; b++)
        for (int o = 0; o < c->cout; o++) {
            float *yo = j->y + ((size_t)b * c->cout + o) * PQ;
            for (size_t i = 0; i < PQ; i++)
                yo[i] += bias[o];
        }
}

/* The floats of a pass's partial weight gradient: the whole weight. */
static size_t weight_floats(const conv2d *c)
{
    return (size_t)c->cout * (c->cin / c->groups) * c->k * c->k;
}

/* ---- direct 1×1 stride 1: the input already is the GEMM operand ---------- */

static void direct_forward_task(void *ctx, int task, int worker)
{
    (void)worker;
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, O = c->cout, PQ = l->out.h * l->out.w, b0, n = task_images(j, task, &b0);
    for (int b = b0; b < b0 + n; b++)
        gemm(0, 0, O, PQ, C, 1.0f, j->w, C, j->x + (size_t)b * C * PQ, PQ, 0.0f,
             j->y + (size_t)b * O * PQ, PQ);
    add_bias(j, b0, n);
}

static void direct_backward_task(void *ctx, int task, int worker)
{
    (void)worker;
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, O = c->cout, PQ = l->out.h * l->out.w, b0, n = task_images(j, task, &b0);
    const float *w = model_param(j->m, l->slice0);
    float *dw = j->m->shared + (size_t)task * O * C;
    for (int b = b0; b < b0 + n; b++) {
        const float *xb = j->x + (size_t)b * C * PQ, *dyb = l->dy + (size_t)b * O * PQ;
        if (j->want_dw)
            gemm(0, 1, O, C, PQ, 1.0f, dyb, PQ, xb, PQ, b > b0 ? 1.0f : 0.0f, dw, C);
        if (j->dx)
            gemm(1, 0, C, PQ, O, 1.0f, w, C, dyb, PQ, j->acc ? 1.0f : 0.0f,
                 j->dx + (size_t)b * C * PQ, PQ);
    }
}

/* ---- Winograd: U (or the turned kernels) shared in m->shared ------------- */

static void wino_forward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, O = c->cout, H = l->out.h, W = l->out.w, tiles = wino_tiles(H, W);
    int b0, n = task_images(j, task, &b0), T = n * tiles;
    size_t uplane = (size_t)O * C, vplane = wino_plane(C, T), mplane = wino_plane(O, T);
    const float *U = j->m->shared;                      /* (16, O, C) */
    float *V = model_scratch(j->m, worker);             /* (16, C, T) */
    float *M = V + 16 * vplane;                         /* (16, O, T) */
    wino_rows *rows = (wino_rows *)(M + 16 * mplane);
    wino_input(V, rows, j->x + (size_t)b0 * C * H * W, n, C, H, W);
    for (int e = 0; e < 16; e++)
        gemm(0, 0, O, T, C, 1.0f, U + e * uplane, C, V + e * vplane, T, 0.0f, M + e * mplane, T);
    wino_output(j->y + (size_t)b0 * O * H * W, M, n, O, H, W, 0);
    add_bias(j, b0, n);
}

/* Weight gradient in the transformed domain (task t's partial D at
 * m->shared + (1 + t)·16·O·C), data gradient as a forward pass of dy
 * through the turned kernels (at m->shared). */
static void wino_backward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, O = c->cout, H = l->out.h, W = l->out.w, tiles = wino_tiles(H, W);
    int b0, n = task_images(j, task, &b0), T = n * tiles;
    size_t uplane = (size_t)O * C, cplane = wino_plane(C, T), oplane = wino_plane(O, T);
    const float *Uf = j->m->shared;                     /* (16, C, O) turned kernels */
    float *D = j->m->shared + (size_t)(1 + task) * 16 * uplane;
    float *A1 = model_scratch(j->m, worker);            /* (16, C, T) */
    float *A2 = A1 + 16 * cplane;                       /* (16, O, T) */
    wino_rows *rows = (wino_rows *)(A2 + 16 * oplane);
    const float *dyb = l->dy + (size_t)b0 * O * H * W;
    if (j->want_dw) {
        wino_input(A1, rows, j->x + (size_t)b0 * C * H * W, n, C, H, W);
        wino_grad_output(A2, rows, dyb, n, O, H, W);
        for (int e = 0; e < 16; e++)
            gemm(0, 1, O, C, T, 1.0f, A2 + e * oplane, T, A1 + e * cplane, T, 0.0f,
                 D + e * uplane, C);
    }
    if (j->dx) {
        wino_input(A2, rows, dyb, n, O, H, W);
        for (int e = 0; e < 16; e++)
            gemm(0, 0, C, T, O, 1.0f, Uf + e * uplane, O, A2 + e * oplane, T, 0.0f,
                 A1 + e * cplane, T);
        wino_output(j->dx + (size_t)b0 * C * H * W, A1, n, C, H, W, j->acc);
    }
}

/* ---- im2col: a group's col and the chunk's y (or dy) per worker ---------- */

static void im2col_forward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    int G = c->groups, Cg = C / G, Og = O / G, b0, n = task_images(j, task, &b0);
    size_t K = (size_t)Cg * c->k * c->k, PQ = (size_t)P * Q, HW = (size_t)H * W, CHW = C * HW;
    size_t N = (size_t)n * PQ;
    const float *w = j->w;
    float *col = model_scratch(j->m, worker);       /* (K, N): one group's */
    float *ycn = col + K * N;                       /* (O, N): images side by side */
    for (int g = 0; g < G; g++) {
        for (int i = 0; i < n; i++)
            im2col(col + i * PQ, N, j->x + (b0 + i) * CHW + g * Cg * HW, Cg, H, W, c->k,
                   c->stride, c->pt, c->pl, P, Q);
        gemm(0, 0, Og, (int)N, (int)K, 1.0f, w + g * Og * K, (int)K, col, (int)N, 0.0f,
             ycn + g * Og * N, (int)N);
    }
    for (int i = 0; i < n; i++)
        for (int o = 0; o < O; o++)
            memcpy(j->y + ((size_t)(b0 + i) * O + o) * PQ, ycn + o * N + i * PQ,
                   PQ * sizeof(float));
    add_bias(j, b0, n);
}

static void im2col_backward_task(void *ctx, int task, int worker)
{
    const conv_job *j = ctx;
    const conv2d *c = j->c;
    const layer *l = &c->base;
    int C = c->cin, H = l->in.h, W = l->in.w, O = c->cout, P = l->out.h, Q = l->out.w;
    int G = c->groups, Cg = C / G, Og = O / G, b0, n = task_images(j, task, &b0);
    size_t K = (size_t)Cg * c->k * c->k, PQ = (size_t)P * Q, HW = (size_t)H * W, CHW = C * HW;
    size_t N = (size_t)n * PQ;
    const float *w = model_param(j->m, l->slice0);
    float *dw = j->m->shared + (size_t)task * weight_floats(c);
    float *col = model_scratch(j->m, worker);       /* (K, N): a group's col, then its dcol */
    float *dycn = col + K * N;                      /* (O, N) */
    for (int i = 0; i < n; i++)
        for (int o = 0; o < O; o++)
            memcpy(dycn + o * N + i * PQ, l->dy + ((size_t)(b0 + i) * O + o) * PQ,
                   PQ * sizeof(float));
    for (int g = 0; g < G; g++) {
        const float *dyg = dycn + g * Og * N;
        if (j->want_dw) {
            for (int i = 0; i < n; i++)
                im2col(col + i * PQ, N, j->x + (b0 + i) * CHW + g * Cg * HW, Cg, H, W, c->k,
                       c->stride, c->pt, c->pl, P, Q);
            gemm(0, 1, Og, (int)K, (int)N, 1.0f, dyg, (int)N, col, (int)N, 0.0f, dw + g * Og * K,
                 (int)K);
        }
        if (!j->dx)
            continue;
        gemm(1, 0, (int)K, (int)N, Og, 1.0f, w + g * Og * K, (int)K, dyg, (int)N, 0.0f, col,
             (int)N);
        for (int i = 0; i < n; i++) {
            float *dxg = j->dx + (b0 + i) * CHW + g * Cg * HW;
            if (!j->acc)
                memset(dxg, 0, Cg * HW * sizeof(float));
            col2im(dxg, col + i * PQ, N, Cg, H, W, c->k, c->stride, c->pt, c->pl, P, Q);
        }
    }
}

static size_t conv2d_scratch(const layer *l, int batch)
{
    const conv2d *c = (const conv2d *)l;
    int images, tasks;
    pass_most(c, batch, &images, &tasks);
    if (conv2d_depthwise(c))
        return dw_scratch_floats(c);
    if (conv2d_direct(c))
        return 0;
    if (conv2d_winograd(c)) {
        int T = images * wino_tiles(l->out.h, l->out.w);
        return 16 * (wino_plane(c->cin, T) + wino_plane(c->cout, T)) + wino_rows_floats();
    }
    size_t K = (size_t)c->cin / c->groups * c->k * c->k;
    size_t N = (size_t)images * l->out.h * l->out.w;
    return (K + (size_t)c->cout) * N;     /* a group's col (reused for dcol), and y or dy as (O, N) */
}

static size_t conv2d_shared(const layer *l, int batch)
{
    const conv2d *c = (const conv2d *)l;
    int images, tasks;
    pass_most(c, batch, &images, &tasks);
    size_t fold = weight_floats(c) + 3 * (size_t)c->cout;   /* conv2d_fold's */
    if (conv2d_depthwise(c))
        return (size_t)tasks * (weight_floats(c) + (size_t)c->cout) + fold;
    if (conv2d_winograd(c))
        return (size_t)(1 + tasks) * 16 * c->cout * c->cin + fold;
    return (size_t)tasks * weight_floats(c) + fold;
}

/* ---- the passes ---------------------------------------------------------- */

/* The forward pass with weights w and bias (NULL: none) into y; w of the
 * layer's shape, not necessarily the layer's own (conv2d_fold's). */
static void conv2d_forward_with(conv2d *c, model *m, const float *x, const float *w,
                                const float *bias, float *y, int batch)
{
    if (conv2d_depthwise(c)) {
        conv2d_forward_depthwise(c, m, x, w, bias, y, batch);
        return;
    }
    conv_job j = { .c = c, .m = m, .x = x, .w = w, .bias = bias, .y = y, .batch = batch,
                   .nb = pass_images(c, batch) };
    par_fn task = im2col_forward_task;
    if (conv2d_direct(c)) {
        task = direct_forward_task;
    } else if (conv2d_winograd(c)) {
        task = wino_forward_task;
        wino_kernels(m->shared, w, c->cout, c->cin, 0);
    }
    par_run(m->pool, conv_tasks(batch, j.nb), task, &j);
}

static void conv2d_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    conv2d *c = (conv2d *)l;
    conv2d_forward_with(c, m, x, model_param(m, l->slice0),
                        c->bias ? model_param(m, l->slice0 + 1) : NULL, l->y, batch);
}

/* A BatchNorm after the convolution, in evaluation: its scale folded into
 * the weights and its shift into the bias, the output written straight
 * into the BatchNorm's. The folded weights live in m->shared past what the
 * forward pass uses there (Winograd's transformed kernels). */
static int conv2d_fold(layer *l, model *m, const float *x, int batch, layer *next)
{
    conv2d *c = (conv2d *)l;
    size_t nw = weight_floats(c), K = nw / c->cout;
    size_t used = conv2d_winograd(c) ? (size_t)16 * c->cout * c->cin : 0;
    float *w = m->shared + used, *bias = w + nw, *scale = bias + c->cout, *shift = scale + c->cout;
    if (!batchnorm2d_affine(next, m, scale, shift))
        return 0;
    const float *w0 = model_param(m, l->slice0);
    const float *b0 = c->bias ? model_param(m, l->slice0 + 1) : NULL;
    for (int o = 0; o < c->cout; o++) {
        for (size_t k = 0; k < K; k++)
            w[o * K + k] = w0[o * K + k] * scale[o];
        bias[o] = (b0 ? b0[o] * scale[o] : 0.0f) + shift[o];
    }
    conv2d_forward_with(c, m, x, w, bias, next->y, batch);
    return 1;
}

static void conv2d_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    conv2d *c = (conv2d *)l;
    int O = c->cout;
    size_t PQ = (size_t)l->out.h * l->out.w;
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
    if (!dw && !dx)
        return;
    conv_job j = { .c = c, .m = m, .x = x, .dx = dx, .acc = acc, .want_dw = dw != NULL,
                   .batch = batch, .nb = pass_images(c, batch) };
    int tasks = conv_tasks(batch, j.nb);
    if (conv2d_winograd(c)) {
        size_t plane = (size_t)16 * O * c->cin;
        if (dx)
            wino_kernels(m->shared, model_param(m, l->slice0), O, c->cin, 1);
        par_run(m->pool, tasks, wino_backward_task, &j);
        if (dw) {
            par_sum(m->pool, m->shared + plane, m->shared + 2 * plane, plane, tasks - 1);
            wino_kernel_grad(dw, m->shared + plane, O, c->cin);
        }
        return;
    }
    par_run(m->pool, tasks, conv2d_direct(c) ? direct_backward_task : im2col_backward_task, &j);
    if (dw)
        par_sum(m->pool, dw, m->shared, weight_floats(c), tasks);
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
    .shared = conv2d_shared,
    .init = conv2d_init,
    LAYER_PASSES(conv2d),
    .fold = conv2d_fold,
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
