/* adapt_reweight.h — instance reweighting: a domain classifier that tells
 * source from target, and the importance weights it gives each source
 * example, w(x) = p(target | x) / p(source | x) with the two domains
 * weighed equally in the fit, which estimates the density ratio
 * P_t(x) / P_s(x) (covariate shift: the labelling is the same in both
 * domains, the inputs are not). Training the source loss
 * weighted by w(x) trains, in expectation, on the target's distribution.
 *
 * The classifier is L2-regularised logistic regression on standardised
 * features (frozen network features, or pixels), fitted by full-batch
 * gradient descent with a step its curvature bound makes safe on the convex
 * loss: small, deterministic, and enough for the dimensions it meets (a
 * pooled feature vector). Its held-out error ε gives the proxy A-distance 2(1 - 2ε)
 * (Ben-David et al.): 0 when the domains cannot be told apart, 2 when they
 * are separable.
 *
 *     adapt_domain dc;
 *     if (adapt_domain_fit(&dc, xs, ns, xt, nt, dim, 1e-3f, 200, &err)) ... err.msg ...
 *     float w[ns];
 *     adapt_importance(&dc, w, xs, ns, 0.1f, 10.0f);   // clipped, mean 1
 *     float err_rate = adapt_domain_error(&dc, xs, ns, xt, nt);
 *     float pad = adapt_proxy_a_distance(err_rate);
 *     adapt_domain_free(&dc);
 */
#ifndef THAW_ADAPT_REWEIGHT_H
#define THAW_ADAPT_REWEIGHT_H

#include "status.h"

typedef struct adapt_domain {
    int dim;
    float *mean, *inv_std;   /* (dim) the standardisation, from both domains */
    float *w;                /* (dim) weights on standardised features */
    float b;                 /* bias: the log prior ratio is folded in */
} adapt_domain;

/* Fits p(target | x) on source rows xs (ns, dim) labelled 0 and target rows
 * xt (nt, dim) labelled 1, with L2 penalty l2 on w and `iters` full-batch
 * steps. THAW_EINVAL for ns or nt < 1, dim < 1, iters < 1, l2 < 0 or a
 * non-finite input; THAW_ENOMEM. */
int adapt_domain_fit(adapt_domain *dc, const float *xs, int ns, const float *xt, int nt, int dim,
                     float l2, int iters, thaw_err *err);
void adapt_domain_free(adapt_domain *dc);

/* p(target | x) for one row. */
float adapt_domain_prob(const adapt_domain *dc, const float *x);

/* The importance weight of each source row, p(t|x) / p(s|x), clipped to [lo, hi] (0 < lo <= 1 <= hi), then scaled so the weights have
 * mean 1, and clipped once more to [lo, hi] (so the loss keeps its scale
 * and no example dominates). w (ns). */
void adapt_importance(const adapt_domain *dc, float *w, const float *xs, int ns, float lo, float hi);

/* The classifier's error on the rows given (balanced: the mean of the two
 * domains' error rates, so the sizes do not matter). */
float adapt_domain_error(const adapt_domain *dc, const float *xs, int ns, const float *xt, int nt);

/* 2 (1 - 2 ε), clamped to [0, 2]. */
float adapt_proxy_a_distance(float error);

#endif
