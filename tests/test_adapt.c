/* test_adapt.c — the domain-adaptation components: the MMD term's value and
 * its gradient against central differences, the weighted cross-entropy's
 * gradient, importance weights on a constructed shift whose true density
 * ratio is known, the proxy A-distance, and self-training's selection rule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_dann.h"
#include "adapt_mmd.h"
#include "adapt_reweight.h"
#include "adapt_selftrain.h"
#include "loss.h"
#include "rng.h"
#include "test.h"

static void fill_normal(float *x, size_t n, float mean, rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = mean + rng_normal(r);
}

void test_adapt_mmd_value(void)
{
    enum { N = 64, D = 4 };
    float a[N * D], b[N * D], c[N * D];
    rng r = rng_seeded(3);
    fill_normal(a, N * D, 0.0f, &r);
    fill_normal(b, N * D, 0.0f, &r);
    fill_normal(c, N * D, 1.5f, &r);
    adapt_mmd_ws ws;
    thaw_err err = { 0 };
    CHECK_OK(adapt_mmd_init(&ws, 2 * N, &err));
    float same = adapt_mmd(NULL, NULL, a, N, a, N, D, 5, 2.0f, 0.0f, &ws);
    float close = adapt_mmd(NULL, NULL, a, N, b, N, D, 5, 2.0f, 0.0f, &ws);
    float apart = adapt_mmd(NULL, NULL, a, N, c, N, D, 5, 2.0f, 0.0f, &ws);
    adapt_mmd_free(&ws);
    /* the same batch: 0; two draws of one distribution: small; a shifted one: larger */
    CHECKF(fabsf(same) < 1e-5f && close > 0.0f && apart > 5.0f * close, "%g %g %g",
           (double)same, (double)close, (double)apart);
    CHECK(adapt_mmd_init(&ws, 1, &err) == THAW_EINVAL);
}

void test_grad_adapt_mmd(void)
{
    enum { NS = 5, NT = 4, D = 3 };
    float xs[NS * D], xt[NT * D], dxs[NS * D] = { 0 }, dxt[NT * D] = { 0 };
    rng r = rng_seeded(11);
    fill_normal(xs, NS * D, 0.0f, &r);
    fill_normal(xt, NT * D, 0.7f, &r);
    adapt_mmd_ws ws;
    thaw_err err = { 0 };
    CHECK_OK(adapt_mmd_init(&ws, NS + NT, &err));
    /* the bandwidths are constants of the gradient: held at this point's */
    float base = adapt_mmd_bandwidth(xs, NS, xt, NT, D, &ws);
    adapt_mmd(dxs, dxt, xs, NS, xt, NT, D, 3, 2.0f, base, &ws);
    double worst = 0.0;
    const float eps = 1e-3f;
    for (int side = 0; side < 2; side++) {
        float *x = side ? xt : xs, *dx = side ? dxt : dxs;
        int n = (side ? NT : NS) * D;
        for (int i = 0; i < n; i++) {
            float v = x[i];
            x[i] = v + eps;
            double fp = adapt_mmd(NULL, NULL, xs, NS, xt, NT, D, 3, 2.0f, base, &ws);
            x[i] = v - eps;
            double fm = adapt_mmd(NULL, NULL, xs, NS, xt, NT, D, 3, 2.0f, base, &ws);
            x[i] = v;
            double num = (fp - fm) / (2.0 * eps);
            double e = fabs(num - dx[i]) / (fabs(num) + fabs(dx[i]) + 1e-3);
            worst = e > worst ? e : worst;
        }
    }
    adapt_mmd_free(&ws);
    CHECKF(worst < 0.05, "worst relative error %g", worst);
}

void test_grad_weighted_xent(void)
{
    enum { B = 4, K = 3 };
    float z[B * K], dz[B * K];
    const int y[B] = { 0, 2, 1, 2 };
    const float w[B] = { 0.5f, 2.0f, 1.0f, 0.25f };
    rng r = rng_seeded(5);
    fill_normal(z, B * K, 0.0f, &r);
    float loss = loss_softmax_xent_weighted(dz, z, y, w, B, K);
    /* the weighted mean of the per-example losses */
    double want = 0.0;
    for (int b = 0; b < B; b++)
        want += w[b] * loss_softmax_xent(NULL, z + b * K, y + b, 1, K) / B;
    CHECKF(fabs(loss - want) < 1e-5, "%g vs %g", (double)loss, want);
    for (int i = 0; i < B * K; i++) {
        float v = z[i];
        z[i] = v + 1e-3f;
        double fp = loss_softmax_xent_weighted(NULL, z, y, w, B, K);
        z[i] = v - 1e-3f;
        double fm = loss_softmax_xent_weighted(NULL, z, y, w, B, K);
        z[i] = v;
        double num = (fp - fm) / 2e-3;
        CHECKF(fabs(num - dz[i]) < 1e-3, "logit %d: %g vs %g", i, num, (double)dz[i]);
    }
}

/* Source N(0, 1), target N(1, 1) in one dimension: the density ratio is
 * exactly exp(x - 1/2), and logistic regression is the right model for it. */
void test_adapt_reweight_known_shift(void)
{
    enum { NS = 4000, NT = 2000 };
    float *xs = malloc(sizeof(float) * NS), *xt = malloc(sizeof(float) * NT);
    float *w = malloc(sizeof(float) * NS);
    adapt_domain dc = { 0 };
    thaw_err err = { 0 };
    EXPECT(xs && xt && w);
    rng r = rng_seeded(7);
    fill_normal(xs, NS, 0.0f, &r);
    fill_normal(xt, NT, 1.0f, &r);
    EXPECTF(adapt_domain_fit(&dc, xs, NS, xt, NT, 1, 0.0f, 500, &err) == 0, "%s", err.msg);
    /* the ratio at a few points, against exp(x - 1/2) */
    for (float x = -1.0f; x <= 2.0f; x += 0.5f) {
        float p = adapt_domain_prob(&dc, &x), ratio = p / (1.0f - p);
        float truth = expf(x - 0.5f);
        EXPECTF(fabsf(logf(ratio / truth)) < 0.15f, "x %g: ratio %g, true %g", (double)x,
                (double)ratio, (double)truth);
    }
    /* clipped and normalised: mean 1, within [lo, hi], increasing in x */
    adapt_importance(&dc, w, xs, NS, 0.1f, 10.0f);
    double mean = 0.0;
    int ordered = 1;
    for (int i = 0; i < NS; i++) {
        mean += w[i] / NS;
        EXPECT(w[i] >= 0.1f && w[i] <= 10.0f);
        for (int j = i + 1; j < i + 2 && j < NS; j++)
            ordered &= (xs[i] < xs[j]) == (w[i] <= w[j]) || w[i] == w[j];
    }
    EXPECTF(fabs(mean - 1.0) < 0.02 && ordered, "mean weight %g", mean);
    /* the weighted source mean moves to the target's (1), the unweighted stays at 0 */
    double wm = 0.0, m = 0.0;
    for (int i = 0; i < NS; i++)
        wm += (double)w[i] * xs[i] / NS, m += xs[i] / (double)NS;
    EXPECTF(fabs(m) < 0.05 && fabs(wm - 1.0) < 0.15, "weighted mean %g, plain %g", wm, m);
    /* the domains overlap: error near Φ(-1/2) = 0.31, proxy A-distance near 0.77 */
    float e = adapt_domain_error(&dc, xs, NS, xt, NT);
    EXPECTF(fabsf(e - 0.31f) < 0.03f, "domain error %g", (double)e);
    EXPECT(fabsf(adapt_proxy_a_distance(e) - 0.77f) < 0.13f);
    EXPECT(adapt_proxy_a_distance(0.5f) == 0.0f && adapt_proxy_a_distance(0.0f) == 2.0f &&
           adapt_proxy_a_distance(0.7f) == 0.0f);
    adapt_domain_free(&dc);
    EXPECT(adapt_domain_fit(&dc, xs, 0, xt, NT, 1, 0.0f, 5, &err) == THAW_EINVAL);
done:
    adapt_domain_free(&dc);
    free(xs);
    free(xt);
    free(w);
}

void test_adapt_pseudo_select(void)
{
    /* 3 classes; rows: (probabilities), the class they would go to */
    const float p[] = {
        0.95f, 0.03f, 0.02f,   /* 0: class 0, confident */
        0.10f, 0.85f, 0.05f,   /* 1: class 1, below 0.9 */
        0.02f, 0.97f, 0.01f,   /* 2: class 1 */
        0.01f, 0.01f, 0.98f,   /* 3: class 2 */
        0.92f, 0.04f, 0.04f,   /* 4: class 0 */
        0.01f, 0.02f, 0.97f,   /* 5: class 2, as confident as 3 */
        0.99f, 0.00f, 0.01f,   /* 6: class 0, most confident */
    };
    int idx[7], lab[7];
    /* class 1 has one candidate above 0.9: one of each, the most confident */
    int kept = adapt_pseudo_select(idx, lab, p, 7, 3, 0.9f, 0);
    CHECKF(kept == 3, "kept %d", kept);
    CHECK(idx[0] == 6 && lab[0] == 0 && idx[1] == 2 && lab[1] == 1 && idx[2] == 3 && lab[2] == 2);
    /* at 0.8 class 1 has two: two of each; a tie goes to the lower index */
    kept = adapt_pseudo_select(idx, lab, p, 7, 3, 0.8f, 0);
    CHECK(kept == 6 && idx[0] == 6 && idx[1] == 0 && idx[2] == 2 && idx[3] == 1 && idx[4] == 3 &&
          idx[5] == 5 && lab[5] == 2);
    /* the cap bounds every class */
    CHECK(adapt_pseudo_select(idx, lab, p, 7, 3, 0.8f, 1) == 3);
    /* a class with no candidate stops the round */
    CHECK(adapt_pseudo_select(idx, lab, p, 7, 3, 0.975f, 0) == 0);
    const int truth[7] = { 0, 1, 1, 2, 2, 1, 0 };
    kept = adapt_pseudo_select(idx, lab, p, 7, 3, 0.8f, 0);
    CHECK(adapt_pseudo_correct(idx, lab, kept, truth) == 5);   /* row 5 is really a 1 */
    CHECK(adapt_pseudo_select(idx, lab, p, -1, 3, 0.5f, 0) == -1);
}

/* The domain classifier's gradient with respect to its input features,
 * against central differences of its loss (no update: rate 0), and what it
 * learns: two separated blobs told apart. */
void test_grad_adapt_dann(void)
{
    enum { N = 6, D = 4 };
    float x[N * D], dx[N * D];
    int dom[N] = { 0, 0, 0, 1, 1, 1 };
    rng r = rng_seeded(5);
    fill_normal(x, N * D, 0.0f, &r);
    adapt_dann d;
    thaw_err err = { 0 };
    CHECK_OK(adapt_dann_init(&d, D, 8, 3, &err));
    float acc;
    adapt_dann_step(&d, dx, x, dom, N, 0.0f, &acc);
    double worst = 0.0;
    const float eps = 1e-3f;
    for (int i = 0; i < N * D; i++) {
        float v = x[i];
        x[i] = v + eps;
        double fp = adapt_dann_step(&d, NULL, x, dom, N, 0.0f, NULL);
        x[i] = v - eps;
        double fm = adapt_dann_step(&d, NULL, x, dom, N, 0.0f, NULL);
        x[i] = v;
        double num = (fp - fm) / (2.0 * eps);
        double e = fabs(num - dx[i]) / (fabs(num) + fabs(dx[i]) + 1e-3);
        worst = e > worst ? e : worst;
    }
    CHECKF(worst < 0.02, "worst relative error %g", worst);
    enum { M = 64 };
    float blobs[M * D];
    int bd[M];
    for (int i = 0; i < M; i++) {
        bd[i] = i % 2;
        fill_normal(blobs + i * D, D, bd[i] ? 1.5f : -1.5f, &r);
    }
    for (int step = 0; step < 200; step++)
        adapt_dann_step(&d, NULL, blobs, bd, M, 0.05f, &acc);
    CHECKF(acc > 0.95f, "accuracy %g", (double)acc);
    adapt_dann_free(&d);
    CHECK(adapt_dann_init(&d, 0, 8, 1, &err) == THAW_EINVAL);
    CHECK(fabs(adapt_dann_ramp(0.0)) < 1e-12 && adapt_dann_ramp(1.0) > 0.99 &&
          adapt_dann_ramp(0.5) > adapt_dann_ramp(0.1));
}
