/* relu6.c — y = min(max(x, 0), 6) (MobileNet's clipped ReLU);
 * dx = dy·[0 < x < 6]: no gradient at either kink, as PyTorch (hardtanh). */
#include "model.h"

static void relu6_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++)
        y[i] = clip6(x[i]);
}

static void relu6_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++) {
        float g = x[i] > 0.0f && x[i] < 6.0f ? dy[i] : 0.0f;
        dx[i] = acc ? dx[i] + g : g;
    }
}

const layer_ops relu6_ops = {
    .type = "relu6", .torch = "nn.ReLU6",
    .plan = layer_plan_same,
    LAYER_PASSES(relu6),
};
