/* hardswish.c — y = x·relu6(x + 3)/6 (MobileNet v3's activation);
 * dx = 0 for x < -3, dy·(x/3 + 1/2) for -3 <= x <= 3, dy for x > 3: at the
 * kinks the middle piece's slope (-1/2 and 3/2), as PyTorch's scalar and
 * CUDA kernels (torch 1.13's vectorised CPU kernel gives 1 at x = 3). */
#include "model.h"

static void hardswish_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * clip6(x[i] + 3.0f) / 6.0f;
}

static void hardswish_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++) {
        float g = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i];
        dx[i] = acc ? dx[i] + g : g;
    }
}

const layer_ops hardswish_ops = {
    .type = "hardswish", .torch = "nn.Hardswish",
    .plan = layer_plan_same,
    LAYER_PASSES(hardswish),
};
