/* relu.c — y = max(0, x); dx = dy·[y > 0]. */
#include <stdlib.h>

#include "model.h"

static void relu_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void relu_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict y = l->y, *restrict dy = l->dy;
    if (acc)
        for (size_t i = 0; i < n; i++)
            dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    else
        for (size_t i = 0; i < n; i++)
            dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

const layer_ops relu_ops = {
    .type = "relu", .torch = "nn.ReLU",
    .plan = layer_plan_same,
    LAYER_PASSES(relu),
};
