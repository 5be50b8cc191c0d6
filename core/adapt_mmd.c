/* adapt_mmd.c — multi-kernel Gaussian MMD and its gradient; see adapt_mmd.h.
 *
 * Dimensions: ns source rows, nt target rows, dim features each; the rows
 * of both are indexed together, 0 .. ns-1 source, ns .. ns+nt-1 target. */
#include "adapt_mmd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int adapt_mmd_init(adapt_mmd_ws *ws, int rows, thaw_err *err)
{
    memset(ws, 0, sizeof *ws);
    if (rows < 2)
        return thaw_fail(err, THAW_EINVAL, "mmd: needs at least 2 rows, got %d", rows);
    ws->d2 = malloc(sizeof(double) * (size_t)rows * (size_t)rows);
    if (!ws->d2)
        return thaw_fail(err, THAW_ENOMEM, "mmd: out of memory for %d rows", rows);
    ws->cap = rows;
    return THAW_OK;
}

void adapt_mmd_free(adapt_mmd_ws *ws)
{
    free(ws->d2);
    memset(ws, 0, sizeof *ws);
}

static const float *row(const float *xs, int ns, const float *xt, int i, int dim)
{
    return i < ns ? xs + (size_t)i * dim : xt + (size_t)(i - ns) * dim;
}

/* Fills ws->d2 with every pair's squared distance; returns their mean over
 * distinct pairs (1 when every row is the same: any width then gives 0). */
static double distances(const float *xs, int ns, const float *xt, int nt, int dim,
                        adapt_mmd_ws *ws)
{
    int n = ns + nt;
    double *d2 = ws->d2, sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *a = row(xs, ns, xt, i, dim);
        d2[(size_t)i * n + i] = 0.0;
        for (int j = i + 1; j < n; j++) {
            const float *b = row(xs, ns, xt, j, dim);
            double s = 0.0;
            for (int k = 0; k < dim; k++)
                s += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
            d2[(size_t)i * n + j] = d2[(size_t)j * n + i] = s;
            sum += 2.0 * s;
        }
    }
    double base = sum / ((double)n * (n - 1));
    return base > 1e-12 ? base : 1.0;
}

float adapt_mmd_bandwidth(const float *xs, int ns, const float *xt, int nt, int dim,
                          adapt_mmd_ws *ws)
{
    return (float)distances(xs, ns, xt, nt, dim, ws);
}

float adapt_mmd(float *dxs, float *dxt, const float *xs, int ns, const float *xt, int nt,
                int dim, int kernels, float mult, float base, adapt_mmd_ws *ws)
{
    int n = ns + nt;
    double *d2 = ws->d2, b0 = distances(xs, ns, xt, nt, dim, ws);
    if (base > 0.0f)
        b0 = base;
    double h[ADAPT_MMD_KERNELS_MAX];
    for (int k = 0; k < kernels; k++)
        h[k] = b0 * pow(mult, k - kernels / 2);
    /* pair weights: +1/ns² within the source, +1/nt² within the target, -2/(ns nt) across */
    double mmd = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            int si = i < ns, sj = j < ns;
            double c = si && sj ? 1.0 / ((double)ns * ns)
                       : !si && !sj ? 1.0 / ((double)nt * nt) : -1.0 / ((double)ns * nt);
            double kv = 0.0, dk = 0.0;    /* Σ_k exp(-d²/h_k) and its derivative in d² */
            for (int k = 0; k < kernels; k++) {
                double e = exp(-d2[(size_t)i * n + j] / h[k]);
                kv += e, dk -= e / h[k];
            }
            mmd += c * kv;
            if (!dxs || i == j)
                continue;
            const float *a = row(xs, ns, xt, i, dim), *b = row(xs, ns, xt, j, dim);
            float *da = i < ns ? dxs + (size_t)i * dim : dxt + (size_t)(i - ns) * dim;
            double g = 4.0 * c * dk;     /* 2 from d|a-b|²/da, 2 from the pair (j, i) */
            for (int k = 0; k < dim; k++)
                da[k] += (float)(g * ((double)a[k] - b[k]));
        }
    return (float)mmd;
}
