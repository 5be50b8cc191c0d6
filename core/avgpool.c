/* avgpool.c — global average pool: (C, H, W) -> (C, 1, 1).
 * y_c = mean over H·W of x_c; dx = dy_c / (H·W) everywhere in channel c. */
#include <stdlib.h>

#include "model.h"

static int avgpool_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev, (void)err;
    l->out = (shape3){ in.c, 1, 1 };
    return THAW_OK;
}

static void avgpool_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t N = (size_t)l->in.h * l->in.w, C = (size_t)l->in.c;
    for (size_t bc = 0; bc < (size_t)batch * C; bc++) {
        const float *xc = x + bc * N;
        float s = 0.0f;
        for (size_t i = 0; i < N; i++)
            s += xc[i];
        l->y[bc] = s / (float)N;
    }
}

static void avgpool_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    size_t N = (size_t)l->in.h * l->in.w, C = (size_t)l->in.c;
    for (size_t bc = 0; bc < (size_t)batch * C; bc++) {
        float g = l->dy[bc] / (float)N;
        float *dxc = dx + bc * N;
        for (size_t i = 0; i < N; i++)
            dxc[i] = acc ? dxc[i] + g : g;
    }
}

const layer_ops avgpool_ops = {
    .type = "avgpool", .torch = "nn.AdaptiveAvgPool2d(1)",
    .plan = avgpool_plan,
    LAYER_PASSES(avgpool),
};
