/* flatten.c — (C, H, W) -> (C·H·W, 1, 1); the data do not move. */
#include <stdlib.h>
#include <string.h>

#include "model.h"

static int flatten_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev, (void)err;
    l->out = (shape3){ (int)shape3_count(in), 1, 1 };
    return THAW_OK;
}

static void flatten_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)m, (void)train;
    memcpy(l->y, x, (size_t)batch * shape3_count(l->out) * sizeof(float));
}

static void flatten_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    if (!acc) {
        memcpy(dx, l->dy, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++)
        dx[i] += l->dy[i];
}

const layer_ops flatten_ops = {
    .type = "flatten", .torch = "nn.Flatten",
    .plan = flatten_plan,
    LAYER_PASSES(flatten),
};
