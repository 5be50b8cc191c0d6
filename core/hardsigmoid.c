/* hardsigmoid.c — y = relu6(x + 3)/6 (MobileNet v3's gate);
 * dx = dy/6 for -3 < x < 3, else 0 (at the kinks too, as PyTorch). */
#include "model.h"

static void hardsigmoid_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = clip6(x[i] + 3.0f) / 6.0f;
}

static void hardsigmoid_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++) {
        float g = x[i] > -3.0f && x[i] < 3.0f ? dy[i] / 6.0f : 0.0f;
        dx[i] = acc ? dx[i] + g : g;
    }
}

const layer_ops hardsigmoid_ops = {
    .type = "hardsigmoid", .torch = "nn.Hardsigmoid",
    .plan = layer_plan_same,
    LAYER_PASSES(hardsigmoid),
};
