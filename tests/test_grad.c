/* test_grad.c — every layer's backward, and the loss's, against central
 * differences.
 *
 * A layer is checked inside a model whose root is sequential(layer, flatten),
 * so that the model's output is (C,1,1) whatever the layer gives. The scalar
 * L = Σ y·r for a fixed random r (B, out) is accumulated in double; its
 * gradient with respect to the output is then r itself. Every layer is told
 * to pass an input gradient back (layer_grad_plan with upstream set), the
 * root's backward writes dx into our own buffer, and the analytic dx and
 * parameter gradients are compared, coordinate by coordinate, with
 * (L(v + ε) - L(v - ε)) / 2ε.
 *
 * ReLU and max-pool kinks: inputs are drawn away from zero and from ties.
 * Where a kink cannot be avoided (the ReLUs inside a residual block), the
 * probe watches the layers whose outputs the ReLUs clip: a coordinate whose
 * perturbed forward passes change which of those outputs are positive
 * straddles a kink, and is skipped and counted; at most a quarter of a
 * tensor's coordinates may be. The skip depends on the forward pass alone, so
 * it cannot hide a wrong backward.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "test.h"

#define GRAD_EPS 1e-3f
#define GRAD_TOL 1e-2
#define DROPOUT_SEED 99

typedef struct probe {
    char name[96];        /* says which case failed */
    model m;
    int batch, train;
    double floor;         /* errors below floor·max|g| count against that */
    int reseed;           /* dropout: the same mask on every forward */
    layer *gate[2];       /* outputs clipped by a ReLU: their sign pattern must hold */
    int ngate;
    unsigned char *pattern;   /* the gates' y > 0 at the unperturbed point */
    size_t limit;         /* check at most this many coordinates per tensor; 0: all */
    float *x, *dx, *r;    /* (B, in) input and its gradient; (B, out) projection */
    size_t nx, ny;
} probe;

/* Values of magnitude in [0.1, 1] with a random sign: never near a ReLU's kink. */
static void fill_signed(float *x, size_t n, rng *r)
{
    for (size_t i = 0; i < n; i++) {
        float v = 0.1f + 0.9f * rng_uniform(r);
        x[i] = rng_uniform(r) < 0.5f ? -v : v;
    }
}

/* Distinct values in [-1, 1] at least 1.8/n apart, shuffled, none within 0.1
 * of zero: no two inputs of a max-pool window come within ε of a tie. */
static void fill_distinct(float *x, size_t n, rng *r)
{
    for (size_t i = 0; i < n; i++) {
        float v = 0.1f + 0.9f * ((float)(i / 2) + 0.5f) / (float)((n + 1) / 2);
        x[i] = i % 2 ? -v : v;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rng_next(r) % (i + 1);
        float t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

static void fill_uniform(float *x, size_t n, float lo, float hi, rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rng_uniform(r);
}

/* Builds sequential(l, flatten) on `in` for `batch` samples; the input is
 * left for the caller to fill. Reports and returns 0 on failure. */
static int probe_open(probe *p, const char *name, layer *l, shape3 in, int batch, int train)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->batch = batch;
    p->train = train;
    p->floor = 0.05;
    thaw_err err = {0};
    layer *root = sequential_new("net");
    if (!root) {
        layer_free(l);
        test_failed(__FILE__, __LINE__, "%s: out of memory", name);
        return 0;
    }
    if (layer_add(root, l, &err) || layer_add(root, flatten_new("flat"), &err)) {
        layer_free(root);
        test_failed(__FILE__, __LINE__, "%s: %s", name, err.msg);
        return 0;
    }
    /* model_build frees root when it fails, and leaves m empty. */
    if (model_build(&p->m, root, in, 7, &err) || model_prepare(&p->m, batch, &err)) {
        model_free(&p->m);
        test_failed(__FILE__, __LINE__, "%s: %s", name, err.msg);
        return 0;
    }
    p->nx = (size_t)batch * shape3_count(in);
    p->ny = (size_t)batch * shape3_count(p->m.root->out);
    p->x = malloc(p->nx * sizeof(float));
    p->dx = malloc(p->nx * sizeof(float));
    p->r = malloc(p->ny * sizeof(float));
    rng r = rng_seeded(11);
    for (size_t i = 0; i < p->ny; i++)
        p->r[i] = rng_normal(&r);
    return 1;
}

static void probe_close(probe *p)
{
    free(p->x);
    free(p->dx);
    free(p->r);
    free(p->pattern);
    model_free(&p->m);
}

static layer *probe_layer(const probe *p)
{
    return p->m.root->child[0];
}

static float *probe_slice(const probe *p, const char *suffix)
{
    char name[LAYER_PATH_MAX + 16];
    snprintf(name, sizeof name, "%s.%s", probe_layer(p)->path, suffix);
    param_slice *s = model_slice((model *)&p->m, name);
    return s ? p->m.param + s->off : NULL;
}

/* L = Σ y·r, in double. */
static double probe_loss(probe *p)
{
    if (p->reseed)
        p->m.rng = rng_seeded(DROPOUT_SEED);
    model_forward(&p->m, p->x, p->batch, p->train);
    const float *y = p->m.root->y;
    double sum = 0.0;
    for (size_t i = 0; i < p->ny; i++)
        sum += (double)y[i] * p->r[i];
    return sum;
}

/* Forward, then the root's backward from dy = r into dx (overwriting when
 * acc == 0, adding when acc == 1). */
static void probe_backward(probe *p, float *dx, int acc)
{
    layer *root = p->m.root;
    probe_loss(p);
    memcpy(root->dy, p->r, p->ny * sizeof(float));
    root->ops->backward(root, &p->m, p->x, dx, acc, p->batch);
}

static size_t gate_count(const probe *p, int i)
{
    return (size_t)p->batch * shape3_count(p->gate[i]->out);
}

/* Records (save == 1) or compares with the record (save == 0) which gated
 * outputs are positive; returns whether they match. */
static int gate_pattern(probe *p, int save)
{
    unsigned char *bit = p->pattern;
    int same = 1;
    for (int g = 0; g < p->ngate; g++) {
        const float *y = p->gate[g]->y;
        for (size_t i = 0, n = gate_count(p, g); i < n; i++, bit++) {
            if (save)
                *bit = y[i] > 0.0f;
            else if (*bit != (y[i] > 0.0f))
                same = 0;
        }
    }
    return same;
}

/* One forward pass on the probe's input; its output against want (B, out),
 * within tol relative to max(1, |want|). */
static int forward_matches(probe *p, const double *want, double tol)
{
    probe_loss(p);
    const float *y = p->m.root->y;
    for (size_t i = 0; i < p->ny; i++)
        if (!(fabs(y[i] - want[i]) <= tol * fmax(1.0, fabs(want[i])))) {
            test_failed(__FILE__, __LINE__, "%s: y[%zu] is %.7g, expected %.7g", p->name, i, y[i],
                        want[i]);
            return 0;
        }
    return 1;
}

/* Compares g, the analytic gradient of L with respect to v[0..n), with
 * central differences. */
static int agree(probe *p, const char *what, float *v, const float *g, size_t n)
{
    double gmax = 0.0;
    for (size_t i = 0; i < n; i++)
        gmax = fmax(gmax, fabs(g[i]));
    /* Below a fraction of the largest component, errors count against that
     * floor: a component near zero carries the float noise of the whole sum. */
    double floor = fmax(p->floor * gmax, 1e-5);
    size_t count = p->limit && n > p->limit ? p->limit : n, kinks = 0;
    rng pick = rng_seeded(n);
    for (size_t j = 0; j < count; j++) {
        size_t i = count == n ? j : j == 0 ? n - 1 : (size_t)(rng_next(&pick) % n);
        float v0 = v[i], vp = v0 + GRAD_EPS, vm = v0 - GRAD_EPS;
        v[i] = vp;
        double fp = probe_loss(p);
        int smooth = gate_pattern(p, 0);
        v[i] = vm;
        double fm = probe_loss(p);
        smooth &= gate_pattern(p, 0);
        v[i] = v0;
        if (!smooth) {
            kinks++;
            continue;
        }
        double num = (fp - fm) / ((double)vp - vm), a = g[i];
        if (!(fabs(a - num) <= GRAD_TOL * fmax(fmax(fabs(a), fabs(num)), floor))) {
            test_failed(__FILE__, __LINE__, "%s: d%s[%zu] is %.7g, central differences give %.7g",
                        p->name, what, i, a, num);
            return 0;
        }
    }
    if (kinks * 4 > count) {
        test_failed(__FILE__, __LINE__, "%s: %zu of %zu coordinates of %s straddle a kink",
                    p->name, kinks, count, what);
        return 0;
    }
    return 1;
}

/* Checks dx and every parameter gradient of the probe's layer, and the
 * backward contract's acc flag. Frozen slices and running statistics must
 * get exactly zero gradient. Reports and returns 0 on the first mismatch. */
static int probe_check(probe *p)
{
    model *m = &p->m;
    layer_grad_plan(m->root, m, 1);
    model_zero_grad(m);
    probe_backward(p, p->dx, 0);
    float *g = malloc(m->nfloat * sizeof *g);
    float *dx2 = malloc(p->nx * sizeof *dx2);
    memcpy(g, m->grad, m->nfloat * sizeof *g);
    size_t bits = 0;
    for (int i = 0; i < p->ngate; i++)
        bits += gate_count(p, i);
    p->pattern = malloc(bits ? bits : 1);
    gate_pattern(p, 1);

    /* acc == 1 adds to what the buffer holds. */
    for (size_t i = 0; i < p->nx; i++)
        dx2[i] = 0.25f * (float)(i % 9) - 1.0f;
    probe_backward(p, dx2, 1);
    int ok = 1;
    for (size_t i = 0; i < p->nx && ok; i++) {
        float want = 0.25f * (float)(i % 9) - 1.0f + p->dx[i];
        if (!(fabsf(dx2[i] - want) <= 1e-5f * (1.0f + fabsf(want)))) {
            test_failed(__FILE__, __LINE__, "%s: with acc set, dx[%zu] is %.7g, expected %.7g",
                        p->name, i, dx2[i], want);
            ok = 0;
        }
    }

    ok = ok && agree(p, "x", p->x, p->dx, p->nx);
    for (int s = 0; s < m->nslice && ok; s++) {
        const param_slice *ps = &m->slice[s];
        if (ps->kind == PARAM_STAT || ps->frozen) {
            for (size_t i = 0; i < ps->len && ok; i++)
                if (g[ps->off + i] != 0.0f) {
                    test_failed(__FILE__, __LINE__, "%s: %s %s has gradient %g at %zu", p->name,
                                ps->frozen ? "frozen" : "statistic", ps->name, g[ps->off + i], i);
                    ok = 0;
                }
            continue;
        }
        ok = agree(p, ps->name, m->param + ps->off, g + ps->off, ps->len);
    }
    free(g);
    free(dx2);
    return ok;
}

/* ---- convolution ------------------------------------------------------- */

static void conv_case(int cin, int cout, int k, int stride, int pad, int bias,
                      int h, int w, int batch, size_t limit)
{
    char name[96];
    snprintf(name, sizeof name, "conv2d %d->%d %dx%d stride %d pad %d%s on %dx%d, batch %d",
             cin, cout, k, k, stride, pad, bias ? " bias" : "", h, w, batch);
    probe p;
    if (!probe_open(&p, name, conv2d_new("conv", cin, cout, k, stride, pad, bias),
                    (shape3){ cin, h, w }, batch, 1))
        return;
    rng r = rng_seeded(5);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    p.limit = limit;
    probe_check(&p);
    probe_close(&p);
}

void test_grad_conv2d_3x3(void)
{
    conv_case(3, 4, 3, 1, 1, 1, 7, 9, 2, 0);
    conv_case(2, 3, 3, 1, 1, 0, 5, 5, 3, 0);
    conv_case(2, 3, 3, 1, 0, 1, 6, 7, 2, 0);
}

void test_grad_conv2d_3x3_stride2(void)
{
    conv_case(3, 4, 3, 2, 1, 0, 7, 9, 2, 0);
    conv_case(2, 3, 3, 2, 1, 1, 8, 8, 2, 0);
}

void test_grad_conv2d_1x1(void)
{
    conv_case(3, 5, 1, 1, 0, 1, 7, 9, 2, 0);
    conv_case(4, 2, 1, 1, 0, 0, 3, 5, 3, 0);
    conv_case(2, 3, 1, 1, 1, 1, 3, 4, 2, 0);
}

void test_grad_conv2d_1x1_stride2(void)
{
    conv_case(3, 4, 1, 2, 0, 0, 7, 9, 2, 0);
    conv_case(2, 3, 1, 2, 0, 1, 6, 6, 2, 0);
}

void test_grad_conv2d_5x5(void)
{
    conv_case(2, 3, 5, 1, 2, 1, 7, 9, 2, 0);
    conv_case(2, 3, 5, 1, 0, 0, 7, 9, 2, 0);
    conv_case(1, 2, 5, 2, 2, 1, 9, 7, 2, 0);
}

/* Large images, so that every path splits the batch into several chunks;
 * only a sample of the coordinates, the last one included, is checked. */
void test_grad_conv2d_chunks(void)
{
    conv_case(2, 3, 3, 1, 1, 1, 40, 40, 4, 120);
    conv_case(2, 3, 5, 1, 2, 0, 40, 40, 3, 120);
    conv_case(3, 2, 1, 1, 0, 1, 60, 60, 3, 120);
}

/* A convolution in groups, padded per side (top, bottom, left, right). */
static void grouped_case(int cin, int cout, int k, int stride, int groups, const int pad[4],
                         int bias, int h, int w, int batch, size_t limit)
{
    char name[96];
    snprintf(name, sizeof name, "conv2d %d->%d %dx%d stride %d groups %d pad %d,%d,%d,%d on %dx%d",
             cin, cout, k, k, stride, groups, pad[0], pad[1], pad[2], pad[3], h, w);
    probe p;
    if (!probe_open(&p, name, conv2d_grouped_new("conv", cin, cout, k, stride, groups, pad, bias),
                    (shape3){ cin, h, w }, batch, 1))
        return;
    rng r = rng_seeded(5);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    p.limit = limit;
    probe_check(&p);
    probe_close(&p);
}

/* Depthwise (groups = in_channels): the direct kernels. */
void test_grad_conv2d_depthwise(void)
{
    grouped_case(4, 4, 3, 1, 4, (const int[4]){ 1, 1, 1, 1 }, 1, 7, 9, 2, 0);
    grouped_case(3, 3, 3, 2, 3, (const int[4]){ 0, 1, 0, 1 }, 0, 8, 7, 2, 0);   /* TF "same" */
    grouped_case(3, 6, 3, 2, 3, (const int[4]){ 1, 1, 1, 1 }, 1, 7, 7, 2, 0);   /* 2 per channel */
    grouped_case(2, 2, 5, 1, 2, (const int[4]){ 2, 2, 2, 2 }, 1, 6, 8, 2, 0);
    grouped_case(3, 3, 3, 1, 3, (const int[4]){ 2, 0, 0, 3 }, 1, 5, 6, 2, 0);
    grouped_case(4, 4, 3, 2, 4, (const int[4]){ 0, 1, 0, 1 }, 1, 40, 40, 3, 120);
}

/* Groups over the GEMM path, and uneven padding without groups. */
void test_grad_conv2d_grouped(void)
{
    grouped_case(4, 6, 3, 1, 2, (const int[4]){ 1, 1, 1, 1 }, 1, 6, 7, 2, 0);
    grouped_case(6, 3, 1, 1, 3, (const int[4]){ 0, 0, 0, 0 }, 0, 5, 5, 2, 0);
    grouped_case(4, 4, 3, 2, 2, (const int[4]){ 0, 1, 0, 1 }, 1, 8, 8, 2, 0);
    grouped_case(3, 4, 3, 2, 1, (const int[4]){ 0, 1, 0, 1 }, 1, 8, 7, 2, 0);
    grouped_case(8, 8, 3, 1, 1, (const int[4]){ 1, 2, 0, 1 }, 0, 6, 6, 2, 0);
}

/* ---- batch normalisation ----------------------------------------------- */

/* A BatchNorm probe with random scale, shift and running statistics. */
static int bn_open(probe *p, const char *name, int C, int h, int w, int batch, int train)
{
    layer *l = batchnorm2d_new("bn", C, 1e-5f, 0.1f);
    if (!probe_open(p, name, l, (shape3){ C, h, w }, batch, train))
        return 0;
    rng r = rng_seeded(17);
    fill_signed(probe_slice(p, "weight"), C, &r);
    fill_uniform(probe_slice(p, "bias"), C, -0.5f, 0.5f, &r);
    fill_uniform(probe_slice(p, "running_mean"), C, -0.3f, 0.3f, &r);
    fill_uniform(probe_slice(p, "running_var"), C, 0.5f, 2.0f, &r);
    fill_uniform(p->x, p->nx, -1.0f, 1.5f, &r);
    return 1;
}

/* y = γ·(x - mean)/sqrt(var + eps) + β per channel, with the batch's
 * statistics (train) or the running ones, in double. With batch statistics
 * the running ones move: new = 0.9·old + 0.1·batch, the variance unbiased. */
static int bn_forward_matches(probe *p, int C, int N)
{
    const float *gamma = probe_slice(p, "weight"), *beta = probe_slice(p, "bias");
    float *rmean = probe_slice(p, "running_mean"), *rvar = probe_slice(p, "running_var");
    double mean[8], var[8], old_mean[8], old_var[8];
    if (C > 8) {
        test_failed(__FILE__, __LINE__, "%s: at most 8 channels here", p->name);
        return 0;
    }
    double *want = malloc(p->nx * sizeof *want);
    size_t count = (size_t)p->batch * N;
    for (int c = 0; c < C; c++) {
        double s1 = 0.0, s2 = 0.0;
        for (int b = 0; b < p->batch; b++)
            for (int i = 0; i < N; i++)
                s1 += p->x[((size_t)b * C + c) * N + i];
        double bm = s1 / (double)count;
        for (int b = 0; b < p->batch; b++)
            for (int i = 0; i < N; i++) {
                double d = p->x[((size_t)b * C + c) * N + i] - bm;
                s2 += d * d;
            }
        old_mean[c] = rmean[c];
        old_var[c] = rvar[c];
        mean[c] = p->train ? bm : rmean[c];
        var[c] = p->train ? s2 / (double)count : rvar[c];
        for (int b = 0; b < p->batch; b++)
            for (int i = 0; i < N; i++) {
                size_t k = ((size_t)b * C + c) * N + i;
                want[k] = gamma[c] * (p->x[k] - mean[c]) / sqrt(var[c] + 1e-5) + beta[c];
            }
    }
    int ok = forward_matches(p, want, 1e-4);
    for (int c = 0; c < C && ok; c++) {
        double m = old_mean[c], v = old_var[c];
        if (p->train) {
            m = 0.9 * m + 0.1 * mean[c];
            v = 0.9 * v + 0.1 * var[c] * (double)count / (double)(count - 1);
        }
        if (!(fabs(rmean[c] - m) <= 1e-5 * fmax(1.0, fabs(m)) && fabs(rvar[c] - v) <= 1e-5 * v)) {
            test_failed(__FILE__, __LINE__, "%s: channel %d running statistics %.7g %.7g, "
                        "expected %.7g %.7g", p->name, c, rmean[c], rvar[c], m, v);
            ok = 0;
        }
    }
    free(want);
    return ok;
}

void test_grad_batchnorm2d_train(void)
{
    probe p;
    if (!bn_open(&p, "batchnorm2d, batch statistics", 3, 5, 4, 3, 1))
        return;
    if (bn_forward_matches(&p, 3, 20))
        probe_check(&p);
    probe_close(&p);
    if (!bn_open(&p, "batchnorm2d, batch statistics, 1x1 planes", 4, 1, 1, 5, 1))
        return;
    if (bn_forward_matches(&p, 4, 1))
        probe_check(&p);
    probe_close(&p);
    /* A large mean over a small spread. */
    if (!bn_open(&p, "batchnorm2d, batch statistics, offset input", 2, 6, 6, 2, 1))
        return;
    for (size_t i = 0; i < p.nx; i++)
        p.x[i] = 20.0f + 0.5f * p.x[i];
    bn_forward_matches(&p, 2, 36);
    probe_close(&p);
}

void test_grad_batchnorm2d_eval(void)
{
    probe p;
    if (!bn_open(&p, "batchnorm2d, evaluation", 3, 5, 4, 2, 0))
        return;
    if (bn_forward_matches(&p, 3, 20))
        probe_check(&p);
    probe_close(&p);
}

/* Frozen (train_bn == 0): running statistics in training too, left
 * untouched, and no gradient for the frozen scale and shift. */
void test_grad_batchnorm2d_frozen(void)
{
    probe p;
    if (!bn_open(&p, "batchnorm2d, frozen", 3, 5, 4, 2, 1))
        return;
    model_freeze(&p.m, probe_layer(&p), 1);
    const float *mean = probe_slice(&p, "running_mean"), *var = probe_slice(&p, "running_var");
    float before[6];
    memcpy(before, mean, 3 * sizeof(float));
    memcpy(before + 3, var, 3 * sizeof(float));
    probe_check(&p);
    int same = !memcmp(before, mean, 3 * sizeof(float)) && !memcmp(before + 3, var, 3 * sizeof(float));
    probe_close(&p);
    CHECK(same);
}

/* ---- element-wise, pooling and shape layers ---------------------------- */

void test_grad_relu(void)
{
    probe p;
    if (!probe_open(&p, "relu", relu_new("relu"), (shape3){ 3, 5, 7 }, 2, 1))
        return;
    rng r = rng_seeded(29);
    fill_signed(p.x, p.nx, &r);
    double *want = malloc(p.nx * sizeof *want);
    for (size_t i = 0; i < p.nx; i++)
        want[i] = p.x[i] > 0.0f ? p.x[i] : 0.0;
    if (forward_matches(&p, want, 0.0))
        probe_check(&p);
    free(want);
    int zeros = 0;
    for (size_t i = 0; i < p.nx; i++)
        zeros += p.dx[i] == 0.0f;
    probe_close(&p);
    CHECKF(zeros > 0, "no input fell below zero");
}

/* Max pooling from the definition: each window's largest input, padding
 * left out. x (B·C, H, W), y (B·C, P, Q). */
static void maxpool_reference(double *y, const float *x, int planes, int H, int W, int k,
                              int stride, int pad, int P, int Q)
{
    for (int c = 0; c < planes; c++)
        for (int oh = 0; oh < P; oh++)
            for (int ow = 0; ow < Q; ow++) {
                double best = -INFINITY;
                for (int i = oh * stride - pad; i < oh * stride - pad + k; i++)
                    for (int j = ow * stride - pad; j < ow * stride - pad + k; j++)
                        if (i >= 0 && i < H && j >= 0 && j < W)
                            best = fmax(best, x[((size_t)c * H + i) * W + j]);
                y[((size_t)c * P + oh) * Q + ow] = best;
            }
}

static void maxpool_case(int k, int stride, int pad, int h, int w)
{
    char name[96];
    snprintf(name, sizeof name, "maxpool2d %dx%d stride %d pad %d on %dx%d", k, k, stride, pad, h, w);
    probe p;
    if (!probe_open(&p, name, maxpool2d_new("pool", k, stride, pad), (shape3){ 3, h, w }, 2, 1))
        return;
    rng r = rng_seeded(31);
    fill_distinct(p.x, p.nx, &r);
    shape3 out = probe_layer(&p)->out;
    int P = (h + 2 * pad - k) / stride + 1, Q = (w + 2 * pad - k) / stride + 1;
    double *want = malloc(p.ny * sizeof *want);
    maxpool_reference(want, p.x, 6, h, w, k, stride, pad, P, Q);
    if (out.c != 3 || out.h != P || out.w != Q)
        test_failed(__FILE__, __LINE__, "%s: output %dx%dx%d, expected 3x%dx%d", name, out.c, out.h,
                    out.w, P, Q);
    else if (forward_matches(&p, want, 0.0))
        probe_check(&p);
    free(want);
    probe_close(&p);
}

void test_grad_maxpool2d(void)
{
    maxpool_case(2, 2, 0, 6, 8);
    maxpool_case(2, 2, 0, 7, 9);
    maxpool_case(3, 2, 1, 7, 9);
    maxpool_case(3, 1, 1, 5, 6);
    maxpool_case(2, 1, 0, 7, 9);
    maxpool_case(3, 3, 1, 7, 9);
}

/* Padding never wins: a window over negative inputs and padding takes the
 * largest input, not zero. */
void test_maxpool2d_padding_never_wins(void)
{
    probe p;
    if (!probe_open(&p, "maxpool2d 3x3 stride 2 pad 1, negative input", maxpool2d_new("pool", 3, 2, 1),
                    (shape3){ 1, 5, 5 }, 1, 1))
        return;
    for (int i = 0; i < 25; i++)
        p.x[i] = -1.0f - (float)((i * 7) % 25);
    double want[9];
    maxpool_reference(want, p.x, 1, 5, 5, 3, 2, 1, 3, 3);
    forward_matches(&p, want, 0.0);
    probe_close(&p);
}

void test_grad_avgpool(void)
{
    probe p;
    if (!probe_open(&p, "avgpool", avgpool_new("pool"), (shape3){ 3, 7, 9 }, 2, 1))
        return;
    rng r = rng_seeded(37);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    double want[6] = { 0 };
    for (size_t i = 0; i < p.nx; i++)
        want[i / 63] += p.x[i] / 63.0;
    if (forward_matches(&p, want, 1e-6))
        probe_check(&p);
    probe_close(&p);
}

/* y = W·x + b from the definition, W (out, in). */
static int linear_forward_matches(probe *p, int in, int out, int bias)
{
    const float *w = probe_slice(p, "weight"), *b = bias ? probe_slice(p, "bias") : NULL;
    double *want = malloc(p->ny * sizeof *want);
    for (int n = 0; n < p->batch; n++)
        for (int o = 0; o < out; o++) {
            double sum = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++)
                sum += (double)w[o * in + i] * p->x[n * in + i];
            want[n * out + o] = sum;
        }
    int ok = forward_matches(p, want, 1e-5);
    free(want);
    return ok;
}

void test_grad_linear(void)
{
    probe p;
    if (!probe_open(&p, "linear 12->5 bias", linear_new("fc", 12, 5, 1), (shape3){ 12, 1, 1 }, 3, 1))
        return;
    rng r = rng_seeded(41);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    if (linear_forward_matches(&p, 12, 5, 1))
        probe_check(&p);
    probe_close(&p);
    if (!probe_open(&p, "linear 3x2x2->4, no bias", linear_new("fc", 12, 4, 0), (shape3){ 3, 2, 2 }, 2, 1))
        return;
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    if (linear_forward_matches(&p, 12, 4, 0))
        probe_check(&p);
    probe_close(&p);
}

void test_grad_dropout(void)
{
    probe p;
    if (!probe_open(&p, "dropout 0.5", dropout_new("drop", 0.5f), (shape3){ 3, 4, 5 }, 2, 1))
        return;
    rng r = rng_seeded(43);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    p.reseed = 1;
    probe_check(&p);
    /* Inverted dropout: each value is dropped or scaled by 1/(1-p) = 2. */
    probe_loss(&p);
    int dropped = 0, kept = 0, other = 0;
    for (size_t i = 0; i < p.nx; i++) {
        float y = p.m.root->y[i];
        if (p.dx[i] == 0.0f && y == 0.0f)
            dropped++;
        else if (p.dx[i] == 2.0f * p.r[i] && y == 2.0f * p.x[i])
            kept++;
        else
            other++;
    }
    /* Evaluation passes x through unchanged. */
    model_forward(&p.m, p.x, 2, 0);
    int same = !memcmp(p.m.root->y, p.x, p.nx * sizeof(float));
    probe_close(&p);
    CHECKF(dropped > 0 && kept > 0 && other == 0, "dropped %d, kept %d, other %d", dropped, kept, other);
    CHECK(same);
}

void test_grad_flatten(void)
{
    probe p;
    if (!probe_open(&p, "flatten", flatten_new("inner"), (shape3){ 3, 4, 5 }, 2, 1))
        return;
    rng r = rng_seeded(47);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    double *want = malloc(p.nx * sizeof *want);
    for (size_t i = 0; i < p.nx; i++)
        want[i] = p.x[i];
    if (forward_matches(&p, want, 0.0))
        probe_check(&p);
    free(want);
    probe_close(&p);
}

/* ---- residual block ---------------------------------------------------- */

static void residual_case(const char *name, int cin, int cout, int stride, int proj, int h, int w,
                          int train)
{
    thaw_err err = {0};
    layer *l = residual_new("block", cin, cout, stride, proj, &err);
    CHECKF(l, "%s: %s", name, err.msg);
    probe p;
    if (!probe_open(&p, name, l, (shape3){ cin, h, w }, 2, train))
        return;
    rng r = rng_seeded(53);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    for (int s = 0; s < p.m.nslice; s++) {
        const param_slice *ps = &p.m.slice[s];
        float *v = p.m.param + ps->off;
        if (strstr(ps->name, "running_var"))
            fill_uniform(v, ps->len, 0.5f, 2.0f, &r);
        else if (strstr(ps->name, "running_mean"))
            fill_uniform(v, ps->len, -0.2f, 0.2f, &r);
        else if (ps->kind == PARAM_BN && strstr(ps->name, "weight"))
            fill_uniform(v, ps->len, 0.5f, 1.5f, &r);
        else if (ps->kind == PARAM_BN)
            fill_uniform(v, ps->len, -0.3f, 0.3f, &r);
    }
    p.gate[0] = model_find(&p.m, "block.bn1");
    p.gate[1] = probe_layer(&p);
    p.ngate = 2;
    /* Batch statistics over a chain of five layers amplify the forward's
     * rounding: the floor is twice the usual. */
    p.floor = 0.1;
    probe_check(&p);
    probe_close(&p);
}

void test_grad_residual_identity(void)
{
    residual_case("residual 4->4, identity shortcut", 4, 4, 1, 0, 5, 7, 1);
    residual_case("residual 4->4, identity shortcut, evaluation", 4, 4, 1, 0, 7, 6, 0);
}

void test_grad_residual_projection(void)
{
    residual_case("residual 3->4 stride 2, projection", 3, 4, 2, 1, 7, 9, 1);
    residual_case("residual 3->4 stride 1, projection", 3, 4, 1, 1, 5, 9, 1);
}

/* y = x·σ(x) from the definition, in double. */
void test_grad_silu(void)
{
    probe p;
    if (!probe_open(&p, "silu", silu_new("act"), (shape3){ 3, 4, 5 }, 2, 1))
        return;
    rng r = rng_seeded(31);
    fill_uniform(p.x, p.nx, -3.0f, 3.0f, &r);
    double *want = malloc(p.nx * sizeof *want);
    for (size_t i = 0; i < p.nx; i++)
        want[i] = p.x[i] / (1.0 + exp(-(double)p.x[i]));
    if (forward_matches(&p, want, 1e-6))
        probe_check(&p);
    free(want);
    probe_close(&p);
}

/* Uniform values in [lo, hi] none of which lies within 0.05 of a kink. */
static void fill_away(float *x, size_t n, float lo, float hi, const float *kink, int nkink, rng *r)
{
    for (size_t i = 0; i < n; i++) {
        int near;
        do {
            x[i] = lo + (hi - lo) * rng_uniform(r);
            near = 0;
            for (int k = 0; k < nkink; k++)
                near |= fabsf(x[i] - kink[k]) < 0.05f;
        } while (near);
    }
}

/* An activation's forward against its definition (in double) and its
 * backward against central differences, away from its kinks; then at the
 * kinks themselves, where the gradient is PyTorch's choice. */
typedef struct act_case {
    const char *name;
    layer *(*make)(const char *name);
    double (*f)(double x);
    float kink[2];
    int nkink;
    float at[4], dx_at[4];      /* inputs at the kinks and PyTorch's gradient there */
} act_case;

static double ref_relu6(double x)
{
    return fmin(fmax(x, 0.0), 6.0);
}
static double ref_hardsigmoid(double x)
{
    return fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0;
}
static double ref_hardswish(double x)
{
    return x * ref_hardsigmoid(x);
}
static double ref_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void act_check(const act_case *c)
{
    probe p;
    if (!probe_open(&p, c->name, c->make("act"), (shape3){ 3, 4, 5 }, 2, 1))
        return;
    rng r = rng_seeded(61);
    fill_away(p.x, p.nx, -8.0f, 8.0f, c->kink, c->nkink, &r);
    double *want = malloc(p.nx * sizeof *want);
    for (size_t i = 0; i < p.nx; i++)
        want[i] = c->f(p.x[i]);
    int ok = forward_matches(&p, want, 1e-6) && probe_check(&p);
    free(want);
    /* dy = 1 at the kinks, 0 elsewhere: dx there is the gradient itself. */
    for (size_t i = 0; ok && c->nkink && i < p.nx; i++)
        p.x[i] = i < 4 ? c->at[i] : 1.0f;
    layer *l = probe_layer(&p);
    for (int i = 0; ok && c->nkink && i < 4; i++) {
        model_forward(&p.m, p.x, p.batch, 1);
        memset(l->dy, 0, p.nx * sizeof(float));
        l->dy[i] = 1.0f;
        l->ops->backward(l, &p.m, p.x, p.dx, 0, p.batch);
        if (p.dx[i] != c->dx_at[i]) {
            test_failed(__FILE__, __LINE__, "%s: at x = %g the gradient is %g; PyTorch's is %g",
                        c->name, c->at[i], p.dx[i], c->dx_at[i]);
            ok = 0;
        }
    }
    probe_close(&p);
}

void test_grad_relu6(void)
{
    act_check(&(act_case){ "relu6", relu6_new, ref_relu6, { 0.0f, 6.0f }, 2,
                           { 0.0f, 6.0f, 3.0f, -1.0f }, { 0.0f, 0.0f, 1.0f, 0.0f } });
}

void test_grad_hardsigmoid(void)
{
    act_check(&(act_case){ "hardsigmoid", hardsigmoid_new, ref_hardsigmoid, { -3.0f, 3.0f }, 2,
                           { -3.0f, 3.0f, 0.0f, 4.0f }, { 0.0f, 0.0f, 1.0f / 6.0f, 0.0f } });
}

void test_grad_hardswish(void)
{
    act_check(&(act_case){ "hardswish", hardswish_new, ref_hardswish, { -3.0f, 3.0f }, 2,
                           { -3.0f, 3.0f, 0.0f, 6.0f }, { -0.5f, 1.5f, 0.5f, 1.0f } });
}

void test_grad_sigmoid(void)
{
    act_check(&(act_case){ "sigmoid", sigmoid_new, ref_sigmoid, { 0.0f, 0.0f }, 0,
                           { 0.0f, 0.0f, 0.0f, 0.0f }, { 0.0f, 0.0f, 0.0f, 0.0f } });
}

/* A chain of smooth layers under a container: no kinks to step around. */
static layer *smooth_conv(const char *name, int cin, int cout, int k)
{
    return conv2d_new(name, cin, cout, k, 1, k / 2, 1);
}

static void container_case(const char *name, layer *l, shape3 in)
{
    CHECKF(l, "%s: could not build it", name);
    probe p;
    if (!probe_open(&p, name, l, in, 2, 1))
        return;
    /* Inputs of one sign and weights of order one keep every gradient well
     * above the float noise of the loss (a pooled branch averages it away). */
    rng r = rng_seeded(37);
    fill_uniform(p.x, p.nx, 0.2f, 1.5f, &r);
    for (int s = 0; s < p.m.nslice; s++)
        fill_uniform(p.m.param + p.m.slice[s].off, p.m.slice[s].len, -1.0f, 1.0f, &r);
    probe_check(&p);
    probe_close(&p);
}

/* Squeeze-and-excite: the branch gives (C,1,1), broadcast over H×W; and a
 * branch of the input's own shape. */
void test_grad_gate(void)
{
    thaw_err err = { 0 };
    layer *g = gate_new("se");
    int rc = layer_add(g, avgpool_new("avgpool"), &err) ||
             layer_add(g, smooth_conv("fc1", 4, 2, 1), &err) ||
             layer_add(g, silu_new("activation"), &err) ||
             layer_add(g, smooth_conv("fc2", 2, 4, 1), &err);
    container_case("gate, squeeze-and-excite", rc ? NULL : g, (shape3){ 4, 5, 3 });
    g = gate_new("spatial");
    rc = layer_add(g, smooth_conv("conv", 3, 3, 3), &err);
    container_case("gate, full-shape branch", rc ? NULL : g, (shape3){ 3, 4, 4 });
}

/* The general residual: an identity shortcut and no activation (MobileNet's
 * inverted residual), and a 1×1 shortcut. */
void test_grad_residual_general(void)
{
    thaw_err err = { 0 };
    layer *b = residual_general_new("block", RESIDUAL_ACT_NONE);
    int rc = layer_add(b, smooth_conv("expand", 3, 6, 1), &err) ||
             layer_add(b, silu_new("act"), &err) ||
             layer_add(b, smooth_conv("project", 6, 3, 3), &err);
    container_case("residual, identity shortcut, no activation", rc ? NULL : b, (shape3){ 3, 5, 4 });
    b = residual_general_new("block", RESIDUAL_ACT_NONE);
    rc = layer_add(b, smooth_conv("conv", 2, 4, 3), &err) ||
         layer_add_side(b, smooth_conv("shortcut", 2, 4, 1), &err);
    container_case("residual, 1x1 shortcut", rc ? NULL : b, (shape3){ 2, 4, 5 });
}

/* ---- text: embedding, conv1d, pools over time -------------------------- */

/* Ids in the probe's input, as floats: one row of L per sample. */
static void fill_ids(probe *p, const int *ids)
{
    for (size_t i = 0; i < p->nx; i++)
        p->x[i] = (float)ids[i];
}

/* The embedding's output from its definition: W's row for each id, zero for
 * the padding id 0. Perturbing an id by ε changes no lookup, so its central
 * difference is zero, as its gradient must be. */
void test_grad_embedding(void)
{
    enum { V = 7, D = 3, L = 6, B = 3 };
    static const int ids[B * L] = { 3, 1, 4, 1, 5, 0,   2, 0, 6, 0, 0, 0,   0, 0, 0, 0, 0, 0 };
    probe p;
    if (!probe_open(&p, "embedding 7x3", embedding_new("emb", V, D, 0), (shape3){ 1, 1, L }, B, 1))
        return;
    fill_ids(&p, ids);
    const float *w = probe_slice(&p, "weight");
    int pad_zero = 1;
    for (int d = 0; d < D; d++)
        pad_zero &= w[d] == 0.0f;
    double want[B * D * L];
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++)
            for (int t = 0; t < L; t++) {
                int id = ids[b * L + t];
                want[(b * D + d) * L + t] = id ? w[id * D + d] : 0.0;
            }
    if (forward_matches(&p, want, 0.0) && probe_check(&p)) {
        /* The rows the batch used, each once, in the order first used; the
         * padding row never. */
        const param_slice *ps = &p.m.slice[probe_layer(&p)->slice0];
        static const int rows[] = { 3, 1, 4, 5, 2, 6 };
        EXPECTF(ps->nrow == 6, "%d rows touched, expected 6", ps->nrow);
        for (int i = 0; i < 6; i++)
            EXPECTF(ps->row[i] == rows[i], "row %d is %d, expected %d", i, ps->row[i], rows[i]);
        model_zero_grad(&p.m);
        int clean = ps->nrow == 0;
        for (size_t i = 0; i < ps->len; i++)
            clean &= p.m.grad[ps->off + i] == 0.0f && !ps->seen[i / D];
        EXPECTF(clean, "model_zero_grad left a gradient or a mark in the row set");
    }
done:
    probe_close(&p);
    CHECKF(pad_zero, "the padding row starts non-zero");
}

/* The sequence lengths the embedding records: up to the last non-padding
 * id, shifted by a change of length, at least 1, 0 for an empty sample. */
void test_embedding_seq_len(void)
{
    static const int ids[3 * 6] = { 3, 1, 4, 1, 5, 0,   2, 0, 6, 0, 0, 0,   0, 0, 0, 0, 0, 0 };
    probe p;
    if (!probe_open(&p, "embedding lengths", embedding_new("emb", 7, 3, 0), (shape3){ 1, 1, 6 }, 3, 0))
        return;
    fill_ids(&p, ids);
    probe_loss(&p);
    int got[9] = { embedding_seq_len(&p.m, 0, 6), embedding_seq_len(&p.m, 1, 6),
                   embedding_seq_len(&p.m, 2, 6), embedding_seq_len(&p.m, 0, 4),
                   embedding_seq_len(&p.m, 1, 4), embedding_seq_len(&p.m, 2, 4),
                   embedding_seq_len(&p.m, 1, 1), embedding_seq_len(&p.m, 0, 8),
                   embedding_seq_len(&p.m, 1, 8) };
    static const int want[9] = { 5, 3, 0, 3, 1, 0, 1, 7, 5 };
    probe_close(&p);
    for (int i = 0; i < 9; i++)
        CHECKF(got[i] == want[i], "case %d: length %d, expected %d", i, got[i], want[i]);
}

/* conv1d from its definition, W (O, C, K), zero padding at both ends. */
static void conv1d_case(int cin, int cout, int k, int pad, int bias, int len, int batch)
{
    char name[96];
    snprintf(name, sizeof name, "conv1d %d->%d width %d pad %d%s on %d, batch %d", cin, cout, k,
             pad, bias ? " bias" : "", len, batch);
    probe p;
    if (!probe_open(&p, name, conv1d_new("conv", cin, cout, k, pad, bias), (shape3){ cin, 1, len },
                    batch, 1))
        return;
    rng r = rng_seeded(53);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    const float *w = probe_slice(&p, "weight"), *b = bias ? probe_slice(&p, "bias") : NULL;
    int lo = len + 2 * pad - k + 1;
    double *want = malloc(p.ny * sizeof *want);
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < cout; o++)
            for (int t = 0; t < lo; t++) {
                double sum = b ? b[o] : 0.0;
                for (int c = 0; c < cin; c++)
                    for (int j = 0; j < k; j++) {
                        int s = t + j - pad;
                        if (s >= 0 && s < len)
                            sum += (double)w[(o * cin + c) * k + j] * p.x[(n * cin + c) * len + s];
                    }
                want[(n * cout + o) * lo + t] = sum;
            }
    EXPECTF(p.ny == (size_t)batch * cout * lo, "%s: output of %zu values", name, p.ny);
    if (forward_matches(&p, want, 1e-5))
        probe_check(&p);
done:
    free(want);
    probe_close(&p);
}

void test_grad_conv1d(void)
{
    conv1d_case(3, 4, 3, 1, 1, 7, 2);
    conv1d_case(2, 3, 2, 0, 0, 5, 3);
    conv1d_case(2, 2, 5, 2, 1, 3, 2);    /* a kernel wider than the sequence */
}

/* Without an embedding every position is real: the plain mean and max. */
void test_grad_seqpool_unmasked(void)
{
    enum { C = 4, L = 6, B = 2 };
    probe p;
    double want[B * C];
    if (!probe_open(&p, "seqmean", seqmean_new("pool"), (shape3){ C, 1, L }, B, 1))
        return;
    rng r = rng_seeded(59);
    fill_uniform(p.x, p.nx, -1.0f, 1.0f, &r);
    for (int i = 0; i < B * C; i++) {
        want[i] = 0.0;
        for (int t = 0; t < L; t++)
            want[i] += p.x[i * L + t] / (double)L;
    }
    if (forward_matches(&p, want, 1e-6))
        probe_check(&p);
    probe_close(&p);
    if (!probe_open(&p, "seqmax", seqmax_new("pool"), (shape3){ C, 1, L }, B, 1))
        return;
    fill_distinct(p.x, p.nx, &r);
    for (int i = 0; i < B * C; i++) {
        want[i] = p.x[i * L];
        for (int t = 1; t < L; t++)
            want[i] = fmax(want[i], p.x[i * L + t]);
    }
    if (forward_matches(&p, want, 0.0))
        probe_check(&p);
    probe_close(&p);
}

/* A text model's front, sequential(embedding, [conv1d,] pool) in a probe:
 * word vectors drawn distinct (no ties for the max), the padding row zero. */
static int text_open(probe *p, const char *name, int conv, layer *pool, const int *ids, int L, int B)
{
    thaw_err err = { 0 };
    layer *front = sequential_new("text");
    int rc = !front || !pool || layer_add(front, embedding_new("emb", 9, 4, 0), &err) ||
             (conv && layer_add(front, conv1d_new("conv", 4, 3, 3, 1, 1), &err)) ||
             layer_add(front, pool, &err);
    if (rc) {
        layer_free(front);
        test_failed(__FILE__, __LINE__, "%s: could not build it: %s", name, err.msg);
        return 0;
    }
    if (!probe_open(p, name, front, (shape3){ 1, 1, L }, B, 1))
        return 0;
    fill_ids(p, ids);
    rng r = rng_seeded(61);
    param_slice *w = model_slice(&p->m, "text.emb.weight");
    fill_distinct(p->m.param + w->off, w->len, &r);
    memset(p->m.param + w->off, 0, 4 * sizeof(float));
    return 1;
}

/* The mean over real positions only: padding at the end never dilutes it
 * (a padding id inside the sequence counts as the zero vector); a sample of
 * padding alone pools to zero. */
void test_grad_seqmean_masked(void)
{
    enum { L = 6, B = 3, D = 4 };
    static const int ids[B * L] = { 5, 2, 0, 7, 0, 0,   8, 8, 3, 1, 6, 4,   0, 0, 0, 0, 0, 0 };
    static const int len[B] = { 4, 6, 0 };
    probe p;
    if (!text_open(&p, "embedding, masked seqmean", 0, seqmean_new("pool"), ids, L, B))
        return;
    const float *w = p.m.param + model_slice(&p.m, "text.emb.weight")->off;
    double want[B * D];
    for (int b = 0; b < B; b++)
        for (int d = 0; d < D; d++) {
            double s = 0.0;
            for (int t = 0; t < len[b]; t++)
                s += w[ids[b * L + t] * D + d];
            want[b * D + d] = len[b] ? s / len[b] : 0.0;
        }
    if (forward_matches(&p, want, 1e-6))
        probe_check(&p);
    probe_close(&p);
}

/* Kim (2014)'s front: embedding, a width-3 convolution padded by 1, max over
 * time. A sample of n tokens has n real outputs (n + 2·1 - 3 + 1), so the
 * padding's outputs never win the max; a one-token sample keeps one. */
void test_grad_seqmax_masked(void)
{
    enum { L = 7, B = 3, D = 4, O = 3 };
    static const int ids[B * L] = { 5, 2, 7, 3, 0, 0, 0,   8, 1, 6, 4, 2, 3, 5,   6, 0, 0, 0, 0, 0, 0 };
    static const int len[B] = { 4, 7, 1 };
    probe p;
    if (!text_open(&p, "embedding, conv1d, masked seqmax", 1, seqmax_new("pool"), ids, L, B))
        return;
    const float *w = p.m.param + model_slice(&p.m, "text.emb.weight")->off;
    const float *cw = p.m.param + model_slice(&p.m, "text.conv.weight")->off;
    const float *cb = p.m.param + model_slice(&p.m, "text.conv.bias")->off;
    double want[B * O];
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++) {
            double best = -INFINITY;
            for (int t = 0; t < len[b]; t++) {
                double sum = cb[o];
                for (int c = 0; c < D; c++)
                    for (int j = 0; j < 3; j++) {
                        int s = t + j - 1;
                        if (s >= 0 && s < L)
                            sum += (double)cw[(o * D + c) * 3 + j] * w[ids[b * L + s] * D + c];
                    }
                best = fmax(best, sum);
            }
            want[b * O + o] = best;
        }
    if (forward_matches(&p, want, 1e-5))
        probe_check(&p);
    probe_close(&p);
}

/* Kim's widths side by side: embedding, then a concat of (conv1d of 3 words
 * padded by 1, max over time) and (conv1d of 4 words padded by 2, max over
 * time), each branch masked by its own output length; the branches' outputs
 * stacked. */
void test_grad_concat(void)
{
    enum { L = 6, B = 3 };
    static const int ids[B * L] = { 5, 2, 7, 3, 0, 0,   8, 1, 6, 4, 2, 3,   6, 0, 0, 0, 0, 0 };
    thaw_err err = { 0 };
    layer *front = sequential_new("text"), *widths = concat_new("widths");
    layer *w3 = sequential_new("w3"), *w4 = sequential_new("w4");
    int rc = !front || !widths || !w3 || !w4 ||
             layer_add(w3, conv1d_new("conv", 4, 3, 3, 1, 1), &err) ||
             layer_add(w3, seqmax_new("max"), &err) ||
             layer_add(w4, conv1d_new("conv", 4, 2, 4, 2, 1), &err) ||
             layer_add(w4, seqmax_new("max"), &err) || layer_add(widths, w3, &err) ||
             layer_add(widths, w4, &err) || layer_add(front, embedding_new("emb", 9, 4, 0), &err) ||
             layer_add(front, widths, &err);
    if (rc) {
        layer_free(front);
        CHECKF(0, "could not build it: %s", err.msg);
    }
    probe p;
    if (!probe_open(&p, "embedding, concat of conv1d widths 3 and 4", front, (shape3){ 1, 1, L }, B, 1))
        return;
    fill_ids(&p, ids);
    rng r = rng_seeded(67);
    for (int s = 0; s < p.m.nslice; s++)
        fill_distinct(p.m.param + p.m.slice[s].off, p.m.slice[s].len, &r);
    memset(p.m.param + model_slice(&p.m, "text.emb.weight")->off, 0, 4 * sizeof(float));
    int shaped = p.m.root->out.c == 5 && model_find(&p.m, "text.widths.w4.conv")->out.w == L + 1;
    if (shaped)
        probe_check(&p);
    probe_close(&p);
    CHECK(shaped);
}

/* ---- loss --------------------------------------------------------------- */

void test_grad_softmax_xent(void)
{
    enum { B = 4, K = 5 };
    float z[B * K], dz[B * K];
    int labels[B] = { 0, 3, 4, 3 };
    rng r = rng_seeded(59);
    for (int i = 0; i < B * K; i++)
        z[i] = 2.0f * rng_normal(&r);
    float loss = loss_softmax_xent(dz, z, labels, B, K);

    double want = 0.0;
    for (int b = 0; b < B; b++) {
        double sum = 0.0;
        for (int k = 0; k < K; k++)
            sum += exp((double)z[b * K + k]);
        want += log(sum) - z[b * K + labels[b]];
    }
    want /= B;
    CHECKF(fabs(loss - want) <= 1e-6 * want, "loss %.9g, expected %.9g", loss, want);

    /* The loss is a float, so a wider step keeps its rounding out. */
    const float eps = 1e-2f;
    for (int i = 0; i < B * K; i++) {
        float z0 = z[i];
        z[i] = z0 + eps;
        double fp = loss_softmax_xent(NULL, z, labels, B, K);
        z[i] = z0 - eps;
        double fm = loss_softmax_xent(NULL, z, labels, B, K);
        z[i] = z0;
        double num = (fp - fm) / ((double)(z0 + eps) - (double)(z0 - eps));
        CHECKF(fabs(dz[i] - num) <= GRAD_TOL * fmax(fabs(num), 0.01),
               "dlogits[%d] is %.7g, central differences give %.7g", i, dz[i], num);
    }
    for (int b = 0; b < B; b++) {
        double row = 0.0;
        for (int k = 0; k < K; k++)
            row += dz[b * K + k];
        CHECKF(fabs(row) < 1e-7, "row %d of dlogits sums to %g", b, row);
    }
}

void test_loss_huge_logits(void)
{
    enum { B = 3, K = 3 };
    const float z[B * K] = {
        1e30f, -1e30f, 0.0f,     /* label at the maximum: loss 0 */
        1e30f, -1e30f, 0.0f,     /* label at the minimum: loss 2e30 */
        1e30f, 1e30f, -1e30f,    /* a tie at the top: loss log 2 */
    };
    const int labels[B] = { 0, 1, 0 };
    float dz[B * K];
    float loss = loss_softmax_xent(dz, z, labels, B, K);
    CHECKF(isfinite(loss), "loss %g", loss);
    CHECKF(fabs(loss - (2e30 + log(2.0)) / 3.0) <= 1e-6 * 2e30 / 3.0, "loss %g", loss);
    const float want[B * K] = {
        0.0f, 0.0f, 0.0f,
        1.0f / 3, -1.0f / 3, 0.0f,
        -0.5f / 3, 0.5f / 3, 0.0f,
    };
    for (int i = 0; i < B * K; i++)
        CHECKF(isfinite(dz[i]) && fabsf(dz[i] - want[i]) <= 1e-6f, "dlogits[%d] is %g, expected %g",
               i, dz[i], want[i]);

    const int top[1] = { 0 };
    const float tie[2] = { 1e30f, 1e30f };
    float dtie[2];
    loss = loss_softmax_xent(dtie, tie, top, 1, 2);
    CHECKF(fabsf(loss - logf(2.0f)) <= 1e-6f && fabsf(dtie[0] + 0.5f) <= 1e-6f &&
           fabsf(dtie[1] - 0.5f) <= 1e-6f, "tie: loss %g, dlogits %g %g", loss, dtie[0], dtie[1]);
}

void test_loss_correct_counts(void)
{
    enum { B = 6, K = 4 };
    const float z[B * K] = {
        0.1f, 0.9f, 0.2f, 0.3f,    /* label 1: right */
        0.1f, 0.9f, 0.2f, 0.3f,    /* label 3: wrong */
        -5.0f, -4.0f, -3.0f, -2.0f,/* label 3: right, every logit negative */
        0.5f, 0.5f, 0.1f, 0.0f,    /* tie between 0 and 1, label 0: the first wins */
        0.5f, 0.5f, 0.1f, 0.0f,    /* the same tie, label 1: wrong */
        2.0f, 1.0f, 1.0f, 1.0f,    /* label 0: right */
    };
    const int labels[B] = { 1, 3, 3, 0, 1, 0 };
    const int right[B] = { 1, 0, 1, 1, 0, 1 };
    for (int b = 0; b < B; b++)
        CHECKF(loss_correct(z + b * K, labels + b, 1, K) == right[b], "row %d", b);
    CHECK(loss_correct(z, labels, B, K) == 4);
    CHECK(loss_correct(z, labels, 0, K) == 0);
}
