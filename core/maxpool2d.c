/* maxpool2d.c — max pooling, kernel K, stride S, padding (padding never wins).
 * Dimensions: B batch, C channels, H×W input, P×Q output. Forward keeps the
 * index of each window's maximum; backward routes dy there. */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct maxpool2d {
    layer base;
    int k, stride, pad;
    int32_t *arg;     /* (B, C, P, Q): index into the image's channel plane */
} maxpool2d;

static int maxpool_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev;
    maxpool2d *p = (maxpool2d *)l;
    if (2 * p->pad > p->k)
        return thaw_fail(err, THAW_ESHAPE, "padding %d is more than half the %dx%d window",
                         p->pad, p->k, p->k);
    if (in.h + 2 * p->pad < p->k || in.w + 2 * p->pad < p->k)
        return thaw_fail(err, THAW_ESHAPE, "a %dx%d window does not fit a %dx%d input",
                         p->k, p->k, in.h, in.w);
    l->out = (shape3){ in.c, (in.h + 2 * p->pad - p->k) / p->stride + 1,
                       (in.w + 2 * p->pad - p->k) / p->stride + 1 };
    return THAW_OK;
}

static void maxpool_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
    ((maxpool2d *)l)->arg = arena_alloc(a, (size_t)batch * shape3_count(l->out) * sizeof(int32_t));
}

static void maxpool_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    maxpool2d *mp = (maxpool2d *)l;
    int H = l->in.h, W = l->in.w, P = l->out.h, Q = l->out.w;
    for (size_t bc = 0; bc < (size_t)batch * l->in.c; bc++) {
        const float *xc = x + bc * H * W;
        float *yc = l->y + bc * P * Q;
        int32_t *ac = mp->arg + bc * P * Q;
        for (int p = 0; p < P; p++)
            for (int q = 0; q < Q; q++) {
                float best = -FLT_MAX;
                int32_t at = -1;
                for (int i = 0; i < mp->k; i++) {
                    int h = p * mp->stride - mp->pad + i;
                    if (h < 0 || h >= H)
                        continue;
                    for (int j = 0; j < mp->k; j++) {
                        int w = q * mp->stride - mp->pad + j;
                        if (w >= 0 && w < W && (at < 0 || xc[h * W + w] > best)) {
                            best = xc[h * W + w];
                            at = h * W + w;
                        }
                    }
                }
                yc[p * Q + q] = best;
                ac[p * Q + q] = at;
            }
    }
}

static void maxpool_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    maxpool2d *mp = (maxpool2d *)l;
    size_t HW = (size_t)l->in.h * l->in.w, PQ = (size_t)l->out.h * l->out.w;
    if (!acc)
        memset(dx, 0, (size_t)batch * l->in.c * HW * sizeof(float));
    for (size_t bc = 0; bc < (size_t)batch * l->in.c; bc++)
        for (size_t i = 0; i < PQ; i++)
            dx[bc * HW + mp->arg[bc * PQ + i]] += l->dy[bc * PQ + i];
}

static const layer_hparam maxpool_hp[] = {
    { "kernel_size", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_KERNEL_MAX, .def = 0 },
    { "stride", LAYER_HP_INT, 0, 1, LAYER_KERNEL_MAX, .def_from = "kernel_size" },
    /* PyTorch's rule: padding at most half the window. */
    { "padding", LAYER_HP_INT, 0, 0, LAYER_KERNEL_MAX, .def = 0, .hi_from = "kernel_size" },
};

static void maxpool_setup(layer *l, const double *hp)
{
    maxpool2d *p = (maxpool2d *)l;
    p->k = (int)hp[0], p->stride = (int)hp[1], p->pad = (int)hp[2];
}

static void maxpool_hparams(const layer *l, double *hp)
{
    const maxpool2d *p = (const maxpool2d *)l;
    hp[0] = p->k, hp[1] = p->stride, hp[2] = p->pad;
}

const layer_ops maxpool2d_ops = {
    .type = "maxpool2d", .torch = "nn.MaxPool2d",
    .size = sizeof(maxpool2d),
    LAYER_HPARAMS(maxpool),
    .plan = maxpool_plan,
    .alloc = maxpool_alloc,
    LAYER_PASSES(maxpool),
};

layer *maxpool2d_new(const char *name, int kernel, int stride, int pad)
{
    return layer_create(&maxpool2d_ops, name, (const double[]){ kernel, stride, pad }, NULL);
}
