/* batchnorm2d.c — batch normalisation over (B, H, W) per channel.
 *
 * Dimensions: B batch, C channels, N = H·W per image. Slices: weight (γ),
 * bias (β), running_mean, running_var, as PyTorch names them.
 *
 * Training with trainable parameters: batch statistics, and the running
 * statistics move by `momentum` (PyTorch's convention: new = (1-m)·old +
 * m·batch, the variance unbiased). Evaluation, or parameters frozen (see
 * model.h): the running statistics, left untouched.
 *
 * A residual block fuses the ReLU that follows its first BatchNorm into it
 * (relu = 1): y = max(0, bn(x)), and backward masks dy by y > 0.
 */
#include <math.h>
#include <stdlib.h>

#include "model.h"

typedef struct batchnorm2d {
    layer base;
    int channels;
    float eps, momentum;
    int relu;          /* fused ReLU after the normalisation */
    int batch_stats;   /* the last forward used batch statistics */
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

static void bn_forward(layer *l, model *m, const float *x, int batch, int train)
{
    batchnorm2d *bn = (batchnorm2d *)l;
    int C = bn->channels;
    size_t N = (size_t)l->in.h * l->in.w, count = N * (size_t)batch;
    const float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    const float *beta = model_param(m, l->slice0 + BN_BIAS);
    float *rmean = model_param(m, l->slice0 + BN_MEAN);
    float *rvar = model_param(m, l->slice0 + BN_VAR);
    bn->batch_stats = train && !m->slice[l->slice0 + BN_WEIGHT].frozen;
    for (int c = 0; c < C; c++) {
        if (bn->batch_stats) {
            double sum = 0.0, sq = 0.0;
            for (int b = 0; b < batch; b++) {
                const float *xc = x + ((size_t)b * C + c) * N;
                for (size_t i = 0; i < N; i++)
                    sum += xc[i];
            }
            double mean = sum / (double)count;
            for (int b = 0; b < batch; b++) {
                const float *xc = x + ((size_t)b * C + c) * N;
                for (size_t i = 0; i < N; i++) {
                    double d = xc[i] - mean;
                    sq += d * d;
                }
            }
            double var = sq / (double)count;
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
            if (bn->relu)
                for (size_t i = 0; i < N; i++)
                    yc[i] = fmaxf(xc[i] * scale + shift, 0.0f);
            else
                for (size_t i = 0; i < N; i++)
                    yc[i] = xc[i] * scale + shift;
        }
    }
}

static void bn_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    batchnorm2d *bn = (batchnorm2d *)l;
    int C = bn->channels;
    size_t N = (size_t)l->in.h * l->in.w, count = N * (size_t)batch;
    const float *gamma = model_param(m, l->slice0 + BN_WEIGHT);
    int trains = !m->slice[l->slice0 + BN_WEIGHT].frozen;
    float *dgamma = model_grad(m, l->slice0 + BN_WEIGHT);
    float *dbeta = model_grad(m, l->slice0 + BN_BIAS);
    for (int c = 0; c < C; c++) {
        float mean = bn->mean[c], invstd = bn->invstd[c];
        double sdy = 0.0, sdyx = 0.0;   /* Σ dy, Σ dy·x̂ */
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * C + c) * N;
            const float *xc = x + o, *yc = l->y + o, *dyc = l->dy + o;
            for (size_t i = 0; i < N; i++) {
                float d = bn->relu && yc[i] <= 0.0f ? 0.0f : dyc[i];
                sdy += d;
                sdyx += d * (xc[i] - mean) * invstd;
            }
        }
        if (trains) {
            dgamma[c] += (float)sdyx;
            dbeta[c] += (float)sdy;
        }
        if (!dx)
            continue;
        float k = gamma[c] * invstd;
        float mdy = bn->batch_stats ? (float)(sdy / (double)count) : 0.0f;
        float mdyx = bn->batch_stats ? (float)(sdyx / (double)count) : 0.0f;
        for (int b = 0; b < batch; b++) {
            size_t o = ((size_t)b * C + c) * N;
            const float *xc = x + o, *yc = l->y + o, *dyc = l->dy + o;
            float *dxc = dx + o;
            for (size_t i = 0; i < N; i++) {
                float d = bn->relu && yc[i] <= 0.0f ? 0.0f : dyc[i];
                float g = k * (d - mdy - (xc[i] - mean) * invstd * mdyx);
                dxc[i] = acc ? dxc[i] + g : g;
            }
        }
    }
}

static const layer_ops batchnorm2d_ops = {
    .type = "batchnorm2d",
    .plan = bn_plan,
    .alloc = bn_alloc,
    .init = bn_init,
    .forward = bn_forward,
    .backward = bn_backward,
};

int layer_is_batchnorm(const layer *l)
{
    return l->ops == &batchnorm2d_ops;
}

void batchnorm2d_fuse_relu(layer *l)
{
    ((batchnorm2d *)l)->relu = 1;
}

layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum)
{
    if (channels < 1 || !(eps > 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f))
        return NULL;
    batchnorm2d *bn = calloc(1, sizeof *bn);
    if (!bn)
        return NULL;
    if (layer_init_base(&bn->base, &batchnorm2d_ops, name) != THAW_OK) {
        free(bn);
        return NULL;
    }
    bn->channels = channels;
    bn->eps = eps;
    bn->momentum = momentum;
    return &bn->base;
}
