/* silu.c — SiLU (swish): y = x·σ(x), σ(x) = 1/(1 + e^-x);
 * dx = dy·σ(x)·(1 + x·(1 - σ(x))). */
#include <math.h>

#include "model.h"

static float sigmoid(float x)
{
    return 1.0f / (1.0f + expf(-x));
}

static void silu_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * sigmoid(x[i]);
}

static void silu_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++) {
        float s = sigmoid(x[i]);
        float g = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        dx[i] = acc ? dx[i] + g : g;
    }
}

const layer_ops silu_ops = {
    .type = "silu", .torch = "nn.SiLU",
    .plan = layer_plan_same,
    LAYER_PASSES(silu),
};
