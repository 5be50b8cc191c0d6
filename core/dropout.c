/* dropout.c — inverted dropout: in training each value survives with
 * probability 1-p and is scaled by 1/(1-p); in evaluation y = x. The mask
 * (the factor applied to each value) is kept for backward. Masks come from
 * the model's seeded generator, so a run repeats. */
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct dropout {
    layer base;
    float p;
    int masked;       /* the last forward applied a mask */
    float *mask;      /* (B, C, H, W): 0 or 1/(1-p) */
} dropout;

static void dropout_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
    ((dropout *)l)->mask = arena_alloc(a, (size_t)batch * shape3_count(l->out) * sizeof(float));
}

static void dropout_forward(layer *l, model *m, const float *x, int batch, int train)
{
    dropout *d = (dropout *)l;
    size_t n = (size_t)batch * shape3_count(l->out);
    d->masked = train && d->p > 0.0f;
    if (!d->masked) {
        memcpy(l->y, x, n * sizeof(float));
        return;
    }
    float keep = 1.0f / (1.0f - d->p);
    for (size_t i = 0; i < n; i++) {
        d->mask[i] = rng_uniform(&m->rng) < d->p ? 0.0f : keep;
        l->y[i] = x[i] * d->mask[i];
    }
}

static void dropout_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    dropout *d = (dropout *)l;
    if (!dx)
        return;
    size_t n = (size_t)batch * shape3_count(l->out);
    for (size_t i = 0; i < n; i++) {
        float g = d->masked ? l->dy[i] * d->mask[i] : l->dy[i];
        dx[i] = acc ? dx[i] + g : g;
    }
}

static const layer_hparam dropout_hp[] = {
    { "p", LAYER_HP_NUM, LAYER_HP_HI_OPEN, 0.0, 1.0, .def = 0.5 },
};

static void dropout_setup(layer *l, const double *hp)
{
    ((dropout *)l)->p = (float)hp[0];
}

static void dropout_hparams(const layer *l, double *hp)
{
    hp[0] = ((const dropout *)l)->p;
}

const layer_ops dropout_ops = {
    .type = "dropout",
    .flags = LAYER_STOCHASTIC,
    .torch = "nn.Dropout",
    .size = sizeof(dropout),
    LAYER_HPARAMS(dropout),
    .plan = layer_plan_same,
    .alloc = dropout_alloc,
    LAYER_PASSES(dropout),
};

layer *dropout_new(const char *name, float p)
{
    return layer_create(&dropout_ops, name, (const double[]){ p }, NULL);
}
