/* adapt_dann.c — the adversarial domain classifier; see adapt_dann.h. */
#include "adapt_dann.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static size_t nparams(const adapt_dann *d)
{
    return (size_t)d->hidden * (size_t)d->dim + 2 * (size_t)d->hidden + 1;
}

int adapt_dann_init(adapt_dann *d, int dim, int hidden, unsigned long long seed, thaw_err *err)
{
    memset(d, 0, sizeof *d);
    if (dim < 1 || hidden < 1 || dim > (1 << 24) || hidden > 4096)
        return thaw_fail(err, THAW_EINVAL, "domain classifier: %d features, %d hidden units: "
                         "expected 1 to %d and 1 to 4096", dim, hidden, 1 << 24);
    d->dim = dim;
    d->hidden = hidden;
    size_t np = nparams(d);
    d->w1 = malloc(np * sizeof(float));
    d->v = calloc(np, sizeof(float));
    if (!d->w1 || !d->v) {
        adapt_dann_free(d);
        return thaw_fail(err, THAW_ENOMEM, "domain classifier: out of memory for %d features", dim);
    }
    d->b1 = d->w1 + (size_t)hidden * dim;
    d->w2 = d->b1 + hidden;
    d->b2 = d->w2 + hidden;
    rng r = rng_seeded(seed);
    float a1 = 1.0f / sqrtf((float)dim), a2 = 1.0f / sqrtf((float)hidden);
    for (size_t i = 0; i < (size_t)hidden * dim; i++)
        d->w1[i] = a1 * (2.0f * rng_uniform(&r) - 1.0f);
    for (int j = 0; j < hidden; j++) {
        d->b1[j] = 0.0f;
        d->w2[j] = a2 * (2.0f * rng_uniform(&r) - 1.0f);
    }
    *d->b2 = 0.0f;
    return THAW_OK;
}

void adapt_dann_free(adapt_dann *d)
{
    free(d->w1);
    free(d->v);
    free(d->h);
    memset(d, 0, sizeof *d);
}

double adapt_dann_ramp(double p)
{
    p = p < 0 ? 0 : p > 1 ? 1 : p;
    return 2.0 / (1.0 + exp(-10.0 * p)) - 1.0;
}

float adapt_dann_step(adapt_dann *d, float *dfeat, const float *feat, const int *domain, int n,
                      float lr, float *acc)
{
    int dim = d->dim, hid = d->hidden;
    if (n < 1 || n > ADAPT_DANN_ROWS_MAX)
        return NAN;
    if (n > d->rows) {
        float *h = realloc(d->h, (size_t)n * (size_t)hid * sizeof(float));
        if (!h)
            return NAN;
        d->h = h;
        d->rows = n;
    }
    size_t np = nparams(d);
    float *g = calloc(np, sizeof(float));
    if (!g)
        return NAN;
    float *gw1 = g, *gb1 = g + (size_t)hid * dim, *gw2 = gb1 + hid, *gb2 = gw2 + hid;
    double loss = 0.0;
    int right = 0;
    for (int i = 0; i < n; i++) {
        const float *x = feat + (size_t)i * dim;
        float *h = d->h + (size_t)i * hid;
        double z = *d->b2;
        for (int j = 0; j < hid; j++) {
            const float *w = d->w1 + (size_t)j * dim;
            double a = d->b1[j];
            for (int k = 0; k < dim; k++)
                a += (double)w[k] * x[k];
            h[j] = a > 0 ? (float)a : 0.0f;
            z += (double)d->w2[j] * h[j];
        }
        int t = domain[i] != 0;
        /* log(1 + e^{-z}) for the target, log(1 + e^{z}) for the source, stably */
        double m = t ? -z : z;
        loss += m > 0 ? m + log1p(exp(-m)) : log1p(exp(m));
        right += (z > 0) == t;
        double p = 1.0 / (1.0 + exp(-z)), dz = (p - t) / n;
        *gb2 += (float)dz;
        for (int j = 0; j < hid; j++) {
            gw2[j] += (float)(dz * h[j]);
            if (h[j] <= 0.0f)
                continue;
            double dh = dz * d->w2[j];
            gb1[j] += (float)dh;
            float *gw = gw1 + (size_t)j * dim;
            for (int k = 0; k < dim; k++)
                gw[k] += (float)(dh * x[k]);
        }
        if (!dfeat)
            continue;
        float *dx = dfeat + (size_t)i * dim;
        memset(dx, 0, (size_t)dim * sizeof(float));
        for (int j = 0; j < hid; j++) {
            if (h[j] <= 0.0f)
                continue;
            float dh = (float)(dz * d->w2[j]);
            const float *w = d->w1 + (size_t)j * dim;
            for (int k = 0; k < dim; k++)
                dx[k] += dh * w[k];
        }
    }
    if (lr > 0.0f)
        for (size_t i = 0; i < np; i++) {
            d->v[i] = 0.9f * d->v[i] + g[i];
            d->w1[i] -= lr * d->v[i];
        }
    free(g);
    if (acc)
        *acc = (float)right / n;
    return (float)(loss / n);
}
