/* adapt_reweight.c — the domain classifier and importance weights; see
 * adapt_reweight.h. Dimensions: ns source rows, nt target rows, dim features. */
#include "adapt_reweight.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const float *pick(const float *xs, int ns, const float *xt, int i, int dim)
{
    return i < ns ? xs + (size_t)i * dim : xt + (size_t)(i - ns) * dim;
}

static float logit(const adapt_domain *dc, const float *x)
{
    double z = dc->b;
    for (int k = 0; k < dc->dim; k++)
        z += (double)dc->w[k] * ((x[k] - dc->mean[k]) * dc->inv_std[k]);
    return (float)z;
}

float adapt_domain_prob(const adapt_domain *dc, const float *x)
{
    return 1.0f / (1.0f + expf(-logit(dc, x)));
}

void adapt_domain_free(adapt_domain *dc)
{
    free(dc->mean);
    free(dc->inv_std);
    free(dc->w);
    memset(dc, 0, sizeof *dc);
}

int adapt_domain_fit(adapt_domain *dc, const float *xs, int ns, const float *xt, int nt, int dim,
                     float l2, int iters, thaw_err *err)
{
    memset(dc, 0, sizeof *dc);
    if (ns < 1 || nt < 1 || dim < 1 || iters < 1 || !(l2 >= 0.0f) || !isfinite(l2))
        return thaw_fail(err, THAW_EINVAL, "domain classifier: needs source and target rows "
                         "(got %d and %d), dim >= 1 (%d), iters >= 1 (%d), l2 >= 0 (%g)", ns, nt,
                         dim, iters, (double)l2);
    int n = ns + nt;
    dc->dim = dim;
    dc->mean = calloc((size_t)dim, sizeof(float));
    dc->inv_std = calloc((size_t)dim, sizeof(float));
    dc->w = calloc((size_t)dim, sizeof(float));
    double *g = calloc((size_t)dim, sizeof(double)), *var = calloc((size_t)dim, sizeof(double));
    if (!dc->mean || !dc->inv_std || !dc->w || !g || !var) {
        free(g);
        free(var);
        adapt_domain_free(dc);
        return thaw_fail(err, THAW_ENOMEM, "domain classifier: out of memory for %d features", dim);
    }
    for (int i = 0; i < n; i++) {
        const float *x = pick(xs, ns, xt, i, dim);
        for (int k = 0; k < dim; k++) {
            if (!isfinite(x[k])) {
                free(g);
                free(var);
                adapt_domain_free(dc);
                return thaw_fail(err, THAW_EINVAL, "domain classifier: %s row %d feature %d is "
                                 "not finite", i < ns ? "source" : "target", i < ns ? i : i - ns, k);
            }
            dc->mean[k] += x[k] / (float)n;
        }
    }
    for (int i = 0; i < n; i++) {
        const float *x = pick(xs, ns, xt, i, dim);
        for (int k = 0; k < dim; k++)
            var[k] += ((double)x[k] - dc->mean[k]) * ((double)x[k] - dc->mean[k]) / n;
    }
    for (int k = 0; k < dim; k++)
        dc->inv_std[k] = var[k] > 1e-12 ? (float)(1.0 / sqrt(var[k])) : 0.0f;
    /* Each domain weighs half of the loss, whatever its size: the classifier
     * estimates p(t|x) under equal priors, so p(t|x) / p(s|x) is the density
     * ratio itself. On standardised features the loss's curvature is at
     * most (dim + 1) / 4 (plus l2), so this step always descends. */
    const double step = 4.0 / (dim + 1.0 + 4.0 * l2);
    for (int it = 0; it < iters; it++) {
        double gb = 0.0;
        memset(g, 0, sizeof(double) * (size_t)dim);
        for (int i = 0; i < n; i++) {
            const float *x = pick(xs, ns, xt, i, dim);
            double p = 1.0 / (1.0 + exp(-(double)logit(dc, x)));
            double r = (p - (i >= ns)) * (i < ns ? 0.5 / ns : 0.5 / nt);
            gb += r;
            for (int k = 0; k < dim; k++)
                g[k] += r * ((x[k] - dc->mean[k]) * dc->inv_std[k]);
        }
        for (int k = 0; k < dim; k++)
            dc->w[k] -= (float)(step * (g[k] + l2 * dc->w[k]));
        dc->b -= (float)(step * gb);
    }
    free(g);
    free(var);
    return THAW_OK;
}

void adapt_importance(const adapt_domain *dc, float *w, const float *xs, int ns, float lo, float hi)
{
    double sum = 0.0;
    for (int i = 0; i < ns; i++) {
        float r = expf(logit(dc, xs + (size_t)i * dc->dim));
        w[i] = r < lo ? lo : r > hi ? hi : r;
        sum += w[i];
    }
    float scale = sum > 0.0 ? (float)(ns / sum) : 1.0f;
    for (int i = 0; i < ns; i++) {
        float v = w[i] * scale;
        w[i] = v < lo ? lo : v > hi ? hi : v;
    }
}

float adapt_domain_error(const adapt_domain *dc, const float *xs, int ns, const float *xt, int nt)
{
    int es = 0, et = 0;
    for (int i = 0; i < ns; i++)
        es += logit(dc, xs + (size_t)i * dc->dim) > 0.0f;
    for (int i = 0; i < nt; i++)
        et += logit(dc, xt + (size_t)i * dc->dim) <= 0.0f;
    return 0.5f * ((float)es / (float)(ns ? ns : 1) + (float)et / (float)(nt ? nt : 1));
}

float adapt_proxy_a_distance(float error)
{
    float d = 2.0f * (1.0f - 2.0f * error);
    return d < 0.0f ? 0.0f : d > 2.0f ? 2.0f : d;
}
