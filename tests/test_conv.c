/* test_conv.c — every convolution path (Winograd, im2col, direct 1×1,
 * grouped, depthwise) against a plain six-loop convolution and its
 * hand-written gradients. */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "test.h"

typedef struct conv_case {
    int C, O, H, W, k, stride, pad, bias, batch;
    int groups;
    int pt, pb, pl, pr;       /* padding per side; all 0: `pad` on every side */
} conv_case;

static conv_case conv_normal(conv_case t)
{
    if (!(t.pt || t.pb || t.pl || t.pr))
        t.pt = t.pb = t.pl = t.pr = t.pad;
    return t;
}

/* Input channel c of group g = o / (O/G) feeds output o through weight
 * w[o][c - g·C/G]; inside returns whether input row h, column v lie in the image. */
static int inside(conv_case t, int h, int v)
{
    return h >= 0 && h < t.H && v >= 0 && v < t.W;
}

/* y(B,O,P,Q) = Σ x·w + b, straight from the definition, in double. */
static void naive_forward(double *y, const float *x, const float *w, const float *b,
                          conv_case t, int P, int Q)
{
    int Cg = t.C / t.groups, Og = t.O / t.groups;
    for (int n = 0; n < t.batch; n++)
        for (int o = 0; o < t.O; o++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    double s = b ? b[o] : 0.0;
                    for (int j = 0; j < Cg; j++)
                        for (int r = 0; r < t.k; r++)
                            for (int u = 0; u < t.k; u++) {
                                int c = o / Og * Cg + j;
                                int h = p * t.stride - t.pt + r, v = q * t.stride - t.pl + u;
                                if (inside(t, h, v))
                                    s += (double)x[((n * t.C + c) * t.H + h) * t.W + v] *
                                         w[((o * Cg + j) * t.k + r) * t.k + u];
                            }
                    y[((n * t.O + o) * P + p) * Q + q] = s;
                }
}

/* dx and dw of L = Σ y·g, from the definition. */
static void naive_backward(double *dx, double *dw, const float *x, const float *w,
                           const float *g, conv_case t, int P, int Q)
{
    int Cg = t.C / t.groups, Og = t.O / t.groups;
    for (int n = 0; n < t.batch; n++)
        for (int o = 0; o < t.O; o++)
            for (int p = 0; p < P; p++)
                for (int q = 0; q < Q; q++) {
                    double gy = g[((n * t.O + o) * P + p) * Q + q];
                    for (int j = 0; j < Cg; j++)
                        for (int r = 0; r < t.k; r++)
                            for (int u = 0; u < t.k; u++) {
                                int c = o / Og * Cg + j;
                                int h = p * t.stride - t.pt + r, v = q * t.stride - t.pl + u;
                                if (!inside(t, h, v))
                                    continue;
                                size_t xi = ((size_t)(n * t.C + c) * t.H + h) * t.W + v;
                                size_t wi = ((size_t)(o * Cg + j) * t.k + r) * t.k + u;
                                dx[xi] += gy * w[wi];
                                dw[wi] += gy * x[xi];
                            }
                }
}

static double max_rel_err(const float *got, const double *want, size_t n)
{
    double scale = 1e-3, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(want[i]) > scale)
            scale = fabs(want[i]);
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / scale;
        if (e > worst)
            worst = e;
    }
    return worst;
}

/* Builds sequential(conv, flatten), runs forward and a full backward with
 * every gradient requested, and compares against the naive loops. Returns
 * the worst relative error over y, dx, dw. */
static double conv_case_error(conv_case t, const char **what)
{
    thaw_err err = {0};
    model m;
    t = conv_normal(t);
    layer *root = sequential_new("net");
    layer_add(root, conv2d_grouped_new("conv", t.C, t.O, t.k, t.stride, t.groups,
                                       (const int[4]){ t.pt, t.pb, t.pl, t.pr }, t.bias), &err);
    layer_add(root, flatten_new("flat"), &err);
    if (model_build(&m, root, (shape3){ t.C, t.H, t.W }, 5, &err) || model_prepare(&m, t.batch, &err)) {
        static char msg[sizeof err.msg];
        memcpy(msg, err.msg, sizeof msg);
        *what = msg;
        return 1e9;
    }
    layer *conv = model_find(&m, "conv");
    int P = conv->out.h, Q = conv->out.w;
    size_t nx = (size_t)t.batch * t.C * t.H * t.W, ny = (size_t)t.batch * t.O * P * Q;
    size_t nw = (size_t)t.O * (t.C / t.groups) * t.k * t.k;
    float *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx);
    double *y = calloc(ny, sizeof *y), *ndx = calloc(nx, sizeof *ndx), *ndw = calloc(nw, sizeof *ndw);
    rng r = rng_seeded(11);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_normal(&r);
    for (size_t i = 0; i < nx; i++)
        dx[i] = 100.0f;   /* must be overwritten, not added to */
    const float *w = model_param(&m, conv->slice0);
    const float *b = t.bias ? model_param(&m, conv->slice0 + 1) : NULL;
    model_forward(&m, x, t.batch, 1);
    naive_forward(y, x, w, b, t, P, Q);
    double worst = max_rel_err(conv->y, y, ny);
    *what = "forward";
    for (size_t i = 0; i < ny; i++)
        m.root->dy[i] = rng_normal(&r);
    layer_grad_plan(m.root, &m, 1);
    model_zero_grad(&m);
    m.root->ops->backward(m.root, &m, x, dx, 0, t.batch);
    naive_backward(ndx, ndw, x, w, m.root->dy, t, P, Q);
    double e = max_rel_err(dx, ndx, nx);
    if (e > worst)
        worst = e, *what = "input gradient";
    e = max_rel_err(model_grad(&m, conv->slice0), ndw, nw);
    if (e > worst)
        worst = e, *what = "weight gradient";
    free(x), free(dx), free(y), free(ndx), free(ndw);
    model_free(&m);
    return worst;
}

void test_conv2d_paths_match_definition(void)
{
    static const conv_case cases[] = {
        { 8, 9, 8, 8, 3, 1, 1, 0, 2, 1, 0, 0, 0, 0 },   /* Winograd, whole tiles */
        { 9, 8, 7, 9, 3, 1, 1, 1, 3, 1, 0, 0, 0, 0 },   /* Winograd, partial tiles */
        { 8, 8, 13, 6, 3, 1, 1, 0, 2, 1, 0, 0, 0, 0 },  /* Winograd, partial tiles */
        { 8, 8, 28, 28, 3, 1, 1, 0, 45, 1, 0, 0, 0, 0 }, /* Winograd over several chunks */
        { 4, 3, 8, 8, 3, 1, 1, 0, 2, 1, 0, 0, 0, 0 },   /* too few channels for Winograd: im2col */
        { 3, 5, 9, 7, 3, 2, 1, 0, 2, 1, 0, 0, 0, 0 },   /* im2col, stride 2 */
        { 2, 3, 8, 8, 5, 1, 2, 1, 2, 1, 0, 0, 0, 0 },   /* im2col, 5×5 */
        { 2, 3, 6, 5, 3, 1, 0, 1, 2, 1, 0, 0, 0, 0 },   /* im2col, no padding */
        { 4, 6, 6, 6, 1, 1, 0, 1, 3, 1, 0, 0, 0, 0 },   /* direct 1×1 */
        { 4, 6, 7, 7, 1, 2, 0, 0, 3, 1, 0, 0, 0, 0 },   /* 1×1 stride 2 */
        { 3, 2, 5, 5, 3, 3, 2, 0, 2, 1, 0, 0, 0, 0 },   /* stride 3, wide padding */
        { 4, 6, 7, 8, 3, 1, 1, 1, 2, 2, 0, 0, 0, 0 },   /* two groups */
        { 6, 6, 6, 5, 1, 1, 0, 0, 2, 3, 0, 0, 0, 0 },   /* 1×1 in three groups */
        { 8, 8, 9, 9, 3, 1, 1, 0, 2, 1, 0, 2, 1, 0 },   /* Winograd's shape, uneven padding: im2col */
        { 3, 5, 8, 7, 3, 2, 0, 1, 2, 1, 0, 1, 0, 1 },   /* TensorFlow's "same" at stride 2 */
        { 5, 5, 9, 8, 3, 1, 1, 1, 2, 5, 0, 0, 0, 0 },   /* depthwise */
        { 5, 5, 9, 8, 3, 2, 0, 1, 3, 5, 0, 1, 0, 1 },   /* depthwise, stride 2, "same" */
        { 4, 8, 7, 9, 3, 2, 1, 0, 2, 4, 0, 0, 0, 0 },   /* depthwise, two filters per channel */
        { 3, 3, 8, 8, 5, 1, 2, 1, 2, 3, 0, 0, 0, 0 },   /* depthwise 5×5 */
        { 3, 3, 6, 7, 3, 1, 0, 0, 2, 3, 2, 0, 1, 3 },   /* depthwise, padding beyond the kernel's reach */
        { 2, 4, 5, 5, 1, 2, 0, 1, 2, 2, 0, 0, 0, 0 },   /* depthwise 1×1, stride 2 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *what = "";
        double e = conv_case_error(cases[i], &what);
        CHECKF(e < 1e-5, "case %zu (%dx%d kernel, stride %d, pad %d, groups %d): %s off by %.3g",
               i, cases[i].k, cases[i].k, cases[i].stride, cases[i].pad, cases[i].groups, what, e);
    }
}
