/* linear.c — fully connected: y(B, O) = x(B, I) · Wᵀ + b, W (O, I) as PyTorch
 * stores it. Any input shape is read as I = C·H·W features.
 *   dW += dyᵀ · x;  db += Σ_b dy;  dx = dy · W */
#include <math.h>
#include <stdlib.h>

#include "gemm.h"
#include "model.h"

typedef struct linear {
    layer base;
    int in, out, bias;
} linear;

static int linear_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)prev;
    linear *f = (linear *)l;
    if ((long)shape3_count(in) != f->in)
        return thaw_fail(err, THAW_ESHAPE, "expects %d input features, gets %dx%dx%d = %zu",
                         f->in, in.c, in.h, in.w, shape3_count(in));
    l->out = (shape3){ f->out, 1, 1 };
    int wdim[2] = { f->out, f->in };
    if (model_declare(m, l, "weight", PARAM_WEIGHT, 2, wdim, err) < 0)
        return THAW_ENOMEM;
    if (f->bias && model_declare(m, l, "bias", PARAM_BIAS, 1, &f->out, err) < 0)
        return THAW_ENOMEM;
    return THAW_OK;
}

static void linear_init(layer *l, model *m, rng *r)
{
    linear *f = (linear *)l;
    float bound = 1.0f / sqrtf((float)f->in);
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++) {
        float *p = model_param(m, s);
        for (size_t i = 0; i < m->slice[s].len; i++)
            p[i] = (2.0f * rng_uniform(r) - 1.0f) * bound;
    }
}

static void linear_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    linear *f = (linear *)l;
    const float *w = model_param(m, l->slice0);
    gemm(0, 1, batch, f->out, f->in, 1.0f, x, f->in, w, f->in, 0.0f, l->y, f->out);
    if (f->bias) {
        const float *b = model_param(m, l->slice0 + 1);
        for (int i = 0; i < batch; i++)
            for (int o = 0; o < f->out; o++)
                l->y[(size_t)i * f->out + o] += b[o];
    }
}

static void linear_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    linear *f = (linear *)l;
    if (!m->slice[l->slice0].frozen)
        gemm(1, 0, f->out, f->in, batch, 1.0f, l->dy, f->out, x, f->in, 1.0f,
             model_grad(m, l->slice0), f->in);
    if (f->bias && !m->slice[l->slice0 + 1].frozen) {
        float *db = model_grad(m, l->slice0 + 1);
        for (int i = 0; i < batch; i++)
            for (int o = 0; o < f->out; o++)
                db[o] += l->dy[(size_t)i * f->out + o];
    }
    if (dx)
        gemm(0, 0, batch, f->in, f->out, 1.0f, l->dy, f->out, model_param(m, l->slice0), f->in,
             acc ? 1.0f : 0.0f, dx, f->in);
}

static const layer_hparam linear_hp[] = {
    { "in_features", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_FEATURES_MAX, .def = 0 },
    { "out_features", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_FEATURES_MAX, .def = 0 },
    { "bias", LAYER_HP_BOOL, 0, 0, 1, .def = 1 },
};

static void linear_setup(layer *l, const double *hp)
{
    linear *f = (linear *)l;
    f->in = (int)hp[0], f->out = (int)hp[1], f->bias = (int)hp[2];
}

static void linear_hparams(const layer *l, double *hp)
{
    const linear *f = (const linear *)l;
    hp[0] = f->in, hp[1] = f->out, hp[2] = f->bias;
}

static double linear_count(const double *hp)
{
    return hp[1] * hp[0] + (hp[2] ? hp[1] : 0);
}

const layer_ops linear_ops = {
    .type = "linear", .torch = "nn.Linear",
    .tensors = (const char *const[]){ "weight", "bias", NULL },
    .head = "out_features",
    .size = sizeof(linear),
    LAYER_HPARAMS(linear),
    .count = linear_count,
    .plan = linear_plan,
    .init = linear_init,
    LAYER_PASSES(linear),
};

layer *linear_new(const char *name, int in, int out, int bias)
{
    return layer_create(&linear_ops, name, (const double[]){ in, out, bias != 0 }, NULL);
}
