/* batchnorm2d.c — batch normalisation over (B, H, W) per channel.
 *
 * Dimensions: B batch, C channels, N = H·W per image. Slices: weight (γ),
 * bias (β), running_mean, running_var, as PyTorch names them.
 *
 * Training with trainable parameters: batch statistics, and the running
 * statistics move by `momentum` (PyTorch's convention: new = (1-m)·old +
 * m·batch, the variance unbiased). Evaluation, or parameters frozen (see
 * model.h): the running statistics, left untouched.
 */
#include <math.h>
#include <stdlib.h>

#include "model.h"

typedef struct batchnorm2d {
    layer base;
    int channels;
    float eps, momentum;
    int batch_stats;   /* the last forward used batch statistics */
    long long tracked; /* batches whose statistics moved the running ones (num_batches_tracked) */
    float *mean;       /* (C) statistics the last forward used */
    float *invstd;     /* (C) 1/sqrt(var + eps) */
} batchnorm2d;

enum { BN_WEIGHT, BN_BIAS, BN_MEAN, BN_VAR };

static int bn_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)prev;
    batchnorm2d *bn = (batchnorm2d *)l;
    if (in.c != bn->channels)
        return thaw_fail(err, THAW_ESHAPE, "expects %d channels, gets %dx%dx%d",
                         bn->channels, in.c, in.h, in.w);
    l->out = in;
    static const struct { const char *name; int kind; } slices[] = {
        [BN_WEIGHT] = { "weight", PARAM_BN },
        [BN_BIAS] = { "bias", PARAM_BN },
        [BN_MEAN] = { "running_mean", PARAM_STAT },
        [BN_VAR] = { "running_var", PARAM_STAT },
    };
    for (int i = 0; i < 4; i++)
        if (model_declare(m, l, slices[i].name, slices[i].kind, 1, &bn->channels, err) < 0)
            return THAW_ENOMEM;
    return THAW_OK;
}

static void bn_alloc(layer *l, arena *a, int batch)
{
    batchnorm2d *bn = (batchnorm2d *)l;
    layer_alloc_io(l, a, batch);
    bn->mean = arena_alloc(a, (size_t)bn->channels * sizeof(float));
    bn->invstd = arena_alloc(a, (size_t)bn->channels * sizeof(float));
}

static void bn_init(layer *l, model *m, rng *r)
{
    (void)r;
    batchnorm2d *bn = (batchnorm2d *)l;
    float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    float *var = model_param(m, l->slice0 + BN_VAR);
    for (int c = 0; c < bn->channels; c++)
        gamma[c] = var[c] = 1.0f;
}

/* Σ(x - shift) and Σ(x - shift)² over one plane, in eight float lanes (so
 * the compiler can vectorise; a plane is at most a few thousand values)
 * added into doubles. Shifting by a value of the channel keeps the variance
 * accurate when the mean is large. */
static void plane_moments(const float *x, size_t n, float shift, double *s1, double *s2)
{
    float a[8] = { 0 }, b[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            float d = x[i + j] - shift;
            a[j] += d;
            b[j] += d * d;
        }
    for (; i < n; i++) {
        float d = x[i] - shift;
        a[0] += d;
        b[0] += d * d;
    }
    for (int j = 0; j < 8; j++) {
        *s1 += a[j];
        *s2 += b[j];
    }
}

/* Σ dy and Σ dy·x̂ over one plane, x̂ = (x - mean)·invstd. */
static void plane_grad_sums(const float *restrict x, const float *restrict dy, size_t n,
                            float mean, float invstd, double *sdy, double *sdyx)
{
    float a[8] = { 0 }, b[8] = { 0 };
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) {
            a[j] += dy[i + j];
            b[j] += dy[i + j] * (x[i + j] - mean) * invstd;
        }
    for (; i < n; i++) {
        a[0] += dy[i];
        b[0] += dy[i] * (x[i] - mean) * invstd;
    }
    for (int j = 0; j < 8; j++) {
        *sdy += a[j];
        *sdyx += b[j];
    }
}

/* The passes run as tasks over ranges of channels: each channel's work is
 * the same whichever thread does it. */
#define BN_TASKS 8

typedef struct bn_job {
    batchnorm2d *bn;
    model *m;
    const float *x;
    float *dx;
    int acc, batch;
} bn_job;

static void bn_channels(const bn_job *j, int task, int *c0, int *c1)
{
    int C = j->bn->channels;
    *c0 = (int)((long)C * task / BN_TASKS);
    *c1 = (int)((long)C * (task + 1) / BN_TASKS);
}

static void bn_forward_task(void *ctx, int task, int worker)
{
    (void)worker;
    const bn_job *j = ctx;
    batchnorm2d *bn = j->bn;
    layer *l = &bn->base;
    model *m = j->m;
    const float *x = j->x;
    int C = bn->channels, batch = j->batch, c0, c1;
    size_t N = (size_t)l->in.h * l->in.w, count = N * (size_t)batch;
    const float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    const float *beta = model_param(m, l->slice0 + BN_BIAS);
    float *rmean = model_param(m, l->slice0 + BN_MEAN);
    float *rvar = model_param(m, l->slice0 + BN_VAR);
    bn_channels(j, task, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        if (bn->batch_stats) {
            float shift = x[(size_t)c * N];
            double s1 = 0.0, s2 = 0.0;
            for (int b = 0; b < batch; b++)
                plane_moments(x + ((size_t)b * C + c) * N, N, shift, &s1, &s2);
            double dmean = s1 / (double)count;
            double var = s2 / (double)count - dmean * dmean;
            if (var < 0.0)
                var = 0.0;
            double mean = shift + dmean;
            bn->mean[c] = (float)mean;
            bn->invstd[c] = (float)(1.0 / sqrt(var + bn->eps));
            double unbiased = count > 1 ? var * (double)count / (double)(count - 1) : var;
            rmean[c] = (float)((1.0 - bn->momentum) * rmean[c] + bn->momentum * mean);
            rvar[c] = (float)((1.0 - bn->momentum) * rvar[c] + bn->momentum * unbiased);
        } else {
            bn->mean[c] = rmean[c];
            bn->invstd[c] = 1.0f / sqrtf(rvar[c] + bn->eps);
        }
        float scale = gamma[c] * bn->invstd[c];
        float shift = beta[c] - bn->mean[c] * scale;
        for (int b = 0; b < batch; b++) {
            const float *xc = x + ((size_t)b * C + c) * N;
            float *yc = l->y + ((size_t)b * C + c) * N;
            for (size_t i = 0; i < N; i++)
                yc[i] = xc[i] * scale + shift;
        }
    }
}

static void bn_forward(layer *l, model *m, const float *x, int batch, int train)
{
    batchnorm2d *bn = (batchnorm2d *)l;
    bn->batch_stats = train && !m->slice[l->slice0 + BN_WEIGHT].frozen;
    bn->tracked += bn->batch_stats;
    bn_job j = { .bn = bn, .m = m, .x = x, .batch = batch };
    par_run(m->pool, BN_TASKS, bn_forward_task, &j);
}

static void bn_backward_task(void *ctx, int task, int worker)
{
    (void)worker;
    const bn_job *j = ctx;
    batchnorm2d *bn = j->bn;
    layer *l = &bn->base;
    model *m = j->m;
    const float *x = j->x;
    float *dx = j->dx;
    int C = bn->channels, batch = j->batch, c0, c1;
    size_t N = (size_t)l->in.h * l->in.w, count = N * (size_t)batch;
    const float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    float *dgamma = m->slice[l->slice0 + BN_WEIGHT].frozen ? NULL : model_grad(m, l->slice0 + BN_WEIGHT);
    float *dbeta = m->slice[l->slice0 + BN_BIAS].frozen ? NULL : model_grad(m, l->slice0 + BN_BIAS);
    bn_channels(j, task, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        float mean = bn->mean[c], invstd = bn->invstd[c];
        double sdy = 0.0, sdyx = 0.0;
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * C + c) * N;
            plane_grad_sums(x + o, l->dy + o, N, mean, invstd, &sdy, &sdyx);
        }
        if (dgamma)
            dgamma[c] += (float)sdyx;
        if (dbeta)
            dbeta[c] += (float)sdy;
        if (!dx)
            continue;
        /* dx = γ·invstd·(d - mean(d) - x̂·mean(d·x̂)); the means vanish with running statistics. */
        float k = gamma[c] * invstd;
        float mdy = bn->batch_stats ? (float)(sdy / (double)count) : 0.0f;
        float mdyx = bn->batch_stats ? (float)(sdyx / (double)count) : 0.0f;
        float a = k * mdyx * invstd, off = k * (mdyx * invstd * mean - mdy);
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * C + c) * N;
            const float *restrict xc = x + o, *restrict dyc = l->dy + o;
            float *restrict dxc = dx + o;
            if (j->acc)
                for (size_t i = 0; i < N; i++)
                    dxc[i] += k * dyc[i] - a * xc[i] + off;
            else
                for (size_t i = 0; i < N; i++)
                    dxc[i] = k * dyc[i] - a * xc[i] + off;
        }
    }
}

static void bn_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    bn_job j = { .bn = (batchnorm2d *)l, .m = m, .x = x, .dx = dx, .acc = acc, .batch = batch };
    par_run(m->pool, BN_TASKS, bn_backward_task, &j);
}

static const layer_hparam bn_hp[] = {
    { "num_features", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "eps", LAYER_HP_NUM, 0, 1e-12, 1.0, .def = 1e-5 },
    { "momentum", LAYER_HP_NUM, 0, 0.0, 1.0, .def = 0.1 },
};

static void bn_setup(layer *l, const double *hp)
{
    batchnorm2d *bn = (batchnorm2d *)l;
    bn->channels = (int)hp[0];
    bn->eps = (float)hp[1];
    bn->momentum = (float)hp[2];
}

static void bn_hparams(const layer *l, double *hp)
{
    const batchnorm2d *bn = (const batchnorm2d *)l;
    hp[0] = bn->channels, hp[1] = bn->eps, hp[2] = bn->momentum;
}

static double bn_count(const double *hp)
{
    return 4 * hp[0];
}

const layer_ops batchnorm2d_ops = {
    .type = "batchnorm2d",
    .flags = LAYER_STATS,
    .torch = "nn.BatchNorm2d",
    .tensors = (const char *const[]){ "weight", "bias", "running_mean", "running_var", NULL },
    .size = sizeof(batchnorm2d),
    LAYER_HPARAMS(bn),
    .count = bn_count,
    .plan = bn_plan,
    .alloc = bn_alloc,
    .init = bn_init,
    LAYER_PASSES(bn),
};

int layer_is_batchnorm(const layer *l)
{
    return l->ops == &batchnorm2d_ops;
}

long long batchnorm2d_tracked(const layer *l)
{
    return ((const batchnorm2d *)l)->tracked;
}

void batchnorm2d_set_tracked(layer *l, long long batches)
{
    ((batchnorm2d *)l)->tracked = batches;
}

layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum)
{
    return layer_create(&batchnorm2d_ops, name, (const double[]){ channels, eps, momentum }, NULL);
}

int batchnorm2d_affine(const layer *l, const model *m, float *scale, float *shift)
{
    if (l->ops != &batchnorm2d_ops)
        return 0;
    const batchnorm2d *bn = (const batchnorm2d *)l;
    const float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    const float *beta = model_param(m, l->slice0 + BN_BIAS);
    const float *rmean = model_param(m, l->slice0 + BN_MEAN);
    const float *rvar = model_param(m, l->slice0 + BN_VAR);
    for (int c = 0; c < bn->channels; c++) {
        scale[c] = gamma[c] * (1.0f / sqrtf(rvar[c] + bn->eps));
        shift[c] = beta[c] - rmean[c] * scale[c];
    }
    return 1;
}
