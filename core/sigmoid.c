/* sigmoid.c — y = σ(x) = 1/(1 + e^-x) (the gate of squeeze-and-excite);
 * dx = dy·y·(1 - y), from the output as PyTorch computes it. */
#include <math.h>

#include "model.h"

static void sigmoid_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void sigmoid_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict y = l->y, *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++) {
        float g = dy[i] * y[i] * (1.0f - y[i]);
        dx[i] = acc ? dx[i] + g : g;
    }
}

const layer_ops sigmoid_ops = {
    .type = "sigmoid", .torch = "nn.Sigmoid",
    .plan = layer_plan_same,
    LAYER_PASSES(sigmoid),
};
