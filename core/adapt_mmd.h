/* adapt_mmd.h — feature alignment by maximum mean discrepancy: how far apart
 * two batches of features are, as a loss term with its gradient.
 *
 * The squared MMD between source features xs (ns, dim) and target features
 * xt (nt, dim) under a sum of K Gaussian kernels k(a, b) = Σ_k exp(-|a-b|² / h_k)
 * (Long et al.'s multi-kernel MMD, DAN), the biased estimate:
 *
 *     MMD² = mean_ij k(xs_i, xs_j) + mean_ij k(xt_i, xt_j) - 2 mean_ij k(xs_i, xt_j)
 *
 * It is 0 when the batches are the same and grows as their distributions
 * part. The bandwidths are h_k = base * mult^(k - K/2) for K kernels spread
 * around `base`, by default the mean squared distance over all pairs of the
 * two batches together (the usual heuristic, adapt_mmd_bandwidth); the
 * bandwidths are constants of the gradient, as in DAN.
 *
 *     adapt_mmd_ws ws;                      // scratch for ns + nt rows
 *     adapt_mmd_init(&ws, ns + nt);
 *     float mmd2 = adapt_mmd(dxs, dxt, xs, ns, xt, nt, dim, 5, 2.0f, 0.0f, &ws);
 *     // dxs, dxt += d MMD² / d xs, d xt (NULL: value only)
 *     adapt_mmd_free(&ws);
 */
#ifndef THAW_ADAPT_MMD_H
#define THAW_ADAPT_MMD_H

#include "status.h"

enum { ADAPT_MMD_KERNELS_MAX = 8 };

typedef struct adapt_mmd_ws {
    int cap;          /* rows */
    double *d2;       /* (cap, cap) squared distances */
} adapt_mmd_ws;

/* THAW_ENOMEM, THAW_EINVAL for rows < 2. */
int adapt_mmd_init(adapt_mmd_ws *ws, int rows, thaw_err *err);
void adapt_mmd_free(adapt_mmd_ws *ws);

/* The default base bandwidth of two batches: the mean squared distance over
 * their distinct pairs (1 when all rows are the same). */
float adapt_mmd_bandwidth(const float *xs, int ns, const float *xt, int nt, int dim,
                          adapt_mmd_ws *ws);

/* MMD² of xs (ns, dim) against xt (nt, dim) with `kernels` (1 ..
 * ADAPT_MMD_KERNELS_MAX) bandwidths a factor `mult` apart around base (<= 0:
 * adapt_mmd_bandwidth's); ns, nt >= 1 and ns + nt <= ws->cap. When dxs and
 * dxt are not NULL the gradient (bandwidths held) is added to them. */
float adapt_mmd(float *dxs, float *dxt, const float *xs, int ns, const float *xt, int nt,
                int dim, int kernels, float mult, float base, adapt_mmd_ws *ws);

#endif
