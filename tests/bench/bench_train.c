/* bench_train.c — `make bench`: how fast thaw trains the reference model.
 *
 * Prints, from one run: BLIS's own sgemm rate on this machine; thaw's
 * training rate (images/s) with everything trainable and with the backbone
 * frozen; the share of BLIS's rate the full training step achieves; and,
 * when PyTorch is installed, PyTorch's rates for the same model and the
 * ratios, as the median of three alternating thaw/PyTorch pairs. Then
 * MobileNet's 3×3 depthwise convolutions on their own (batch 32, forward,
 * and backward to both the input and the weight), in ms and GFLOP/s, thaw
 * and PyTorch. The last line is one JSON object with every figure.
 *
 * The training figures are measured at 1 and at 2 threads (or at --threads
 * alone), with evaluation (a forward pass in evaluation mode) beside them,
 * and MobileNet v1 0.25 at 224×224, imported from the shared pretrained
 * weights, when they are there (THAW_PRETRAINED). Memory: the activations
 * and scratch of a training step per image, and PyTorch's resident growth.
 *
 * usage: thaw-bench [--peer tests/bench/torch_peer.py] [--batch N]
 *                   [--threads N] [--seconds S] [--profile] [--profile-mobilenet]
 *                   [--depthwise]
 * --profile times every layer's forward and backward and prints where a
 * full training step spends its time (--profile-mobilenet: MobileNet's,
 * batch 32); --depthwise times only the depthwise convolutions.
 */
#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gemm.h"
#include "par.h"
#include "loss.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "session.h"
#include "tfjs.h"

/* ---- BLIS alone -------------------------------------------------------- */

static double sgemm_gflops(double seconds)
{
    int n = 1024;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0.0;
    }
    for (int i = 0; i < n * n; i++)
        a[i] = b[i] = 1.0f / (float)(1 + i % 7);
    gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    int reps = 0;
    double t0 = thaw_now_s();
    do {
        gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        reps++;
    } while (thaw_now_s() - t0 < seconds);
    double dt = thaw_now_s() - t0;
    free(a), free(b), free(c);
    return 2.0 * n * n * (double)n * reps / dt / 1e9;
}

/* ---- the work one training step does ------------------------------------ */

/* Multiply-adds of the convolutions and linear layers for one image: forward,
 * and the backward GEMMs a step actually runs (weight gradient where the
 * weight trains, input gradient where upstream trains). */
static void count_macs(const model *m, const layer *l, double *fwd, double *bwd)
{
    for (int i = 0; i < l->nchild; i++)
        count_macs(m, l->child[i], fwd, bwd);
    const char *t = l->ops->type;
    if (strcmp(t, "conv2d") && strcmp(t, "linear"))
        return;
    const param_slice *w = &m->slice[l->slice0];
    double macs = (double)w->len * l->out.h * l->out.w;
    *fwd += macs;
    *bwd += (w->frozen ? 0.0 : macs) + (l->need_dx ? macs : 0.0);
}

/* ---- per-layer profile ---------------------------------------------------- */

#define PROFILE_MAX 128
static struct {
    const layer *l;
    const layer_ops *real;
    layer_ops proxy;
    double fwd, bwd;
} prof[PROFILE_MAX];
static int nprof;

static int prof_find(const layer *l)
{
    for (int i = 0; i < nprof; i++)
        if (prof[i].l == l)
            return i;
    return -1;
}

static void prof_forward(layer *l, model *m, const float *x, int batch, int train)
{
    int i = prof_find(l);
    double t = thaw_now_s();
    prof[i].real->forward(l, m, x, batch, train);
    prof[i].fwd += thaw_now_s() - t;
}

static void prof_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    int i = prof_find(l);
    double t = thaw_now_s();
    prof[i].real->backward(l, m, x, dx, acc, batch);
    prof[i].bwd += thaw_now_s() - t;
}

/* Puts a timing proxy in front of every leaf (containers time nothing of
 * their own but the residual sum, which lands in "other"). */
static void prof_attach(layer *l)
{
    for (int i = 0; i < l->nchild; i++)
        prof_attach(l->child[i]);
    if ((l->ops->flags & LAYER_CONTAINER) || nprof == PROFILE_MAX)
        return;
    prof[nprof].l = l;
    prof[nprof].real = l->ops;
    prof[nprof].proxy = *l->ops;
    prof[nprof].proxy.forward = prof_forward;
    prof[nprof].proxy.backward = prof_backward;
    l->ops = &prof[nprof].proxy;
    nprof++;
}

static void prof_detach(void)
{
    for (int i = 0; i < nprof; i++)
        ((layer *)prof[i].l)->ops = prof[i].real;
    nprof = 0;
}

/* ---- time per kind of work -------------------------------------------------
 * The benchmark is linked with -Wl,--wrap for these functions, so every call
 * the engine makes comes here first and is timed; the engine itself carries
 * no instrumentation. */

#include "winograd.h"

enum { KIND_GEMM, KIND_WINO_DATA, KIND_WINO_KERNEL, KIND_COUNT };
static const char *const kind_name[KIND_COUNT] = {
    [KIND_GEMM] = "BLIS sgemm",
    [KIND_WINO_DATA] = "Winograd data transforms",
    [KIND_WINO_KERNEL] = "Winograd kernel transforms",
};
static _Thread_local double kind_time[KIND_COUNT];   /* the calling thread's */

void __real_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void __wrap_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void __wrap_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc)
{
    double t = thaw_now_s();
    __real_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    kind_time[KIND_GEMM] += thaw_now_s() - t;
}

#define TIMED(kind, ret, name, params, args)  \
    ret __real_##name params;                 \
    ret __wrap_##name params;                 \
    ret __wrap_##name params                  \
    {                                         \
        double t = thaw_now_s();                     \
        __real_##name args;                   \
        kind_time[kind] += thaw_now_s() - t;         \
    }

TIMED(KIND_WINO_DATA, void, wino_input,
      (float *V, wino_rows *r, const float *x, int n, int C, int H, int W), (V, r, x, n, C, H, W))
TIMED(KIND_WINO_DATA, void, wino_output,
      (float *y, const float *M, int n, int O, int H, int W, int acc), (y, M, n, O, H, W, acc))
TIMED(KIND_WINO_DATA, void, wino_grad_output,
      (float *Z, wino_rows *r, const float *dy, int n, int O, int H, int W), (Z, r, dy, n, O, H, W))
TIMED(KIND_WINO_KERNEL, void, wino_kernels,
      (float *U, const float *w, int O, int C, int flip), (U, w, O, C, flip))
TIMED(KIND_WINO_KERNEL, void, wino_kernel_grad,
      (float *dw, const float *D, int O, int C), (dw, D, O, C))

/* ---- thaw --------------------------------------------------------------- */

typedef struct run {
    model m;
    optim o;
    float *x;
    int *labels;
    int batch;
} run;

/* Takes the built model m; random input and labels for batches of `batch`. */
static int run_setup(run *r, int batch, int frozen, thaw_err *err)
{
    r->batch = batch;
    if (model_prepare(&r->m, batch, err))
        return err->code;
    if (frozen) {
        model_freeze(&r->m, r->m.root, 1);
        model_freeze(&r->m, r->m.root->child[r->m.root->nchild - 1], 0);
    }
    if (optim_init(&r->o, &r->m, OPTIM_SGD, err))
        return err->code;
    r->o.momentum = 0.9f;
    size_t img = shape3_count(r->m.in);
    r->x = malloc(sizeof(float) * batch * img);
    r->labels = malloc(sizeof(int) * batch);
    if (!r->x || !r->labels)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for the benchmark's batch");
    rng g = rng_seeded(7);
    for (size_t i = 0; i < batch * img; i++)
        r->x[i] = rng_normal(&g);
    for (int i = 0; i < batch; i++)
        r->labels[i] = (int)(rng_next(&g) % (unsigned)r->m.classes);
    return THAW_OK;
}

static int run_init(run *r, int batch, int frozen, thaw_err *err)
{
    memset(r, 0, sizeof *r);
    if (model_build(&r->m, mf_reference_net(1, 10, err), (shape3){ 1, 28, 28 }, 0, err))
        return err->code;
    return run_setup(r, batch, frozen, err);
}

/* The passes on `threads` threads from now on. */
static int run_threads(run *r, int threads, thaw_err *err)
{
    r->m.threads = threads;
    return model_prepare(&r->m, r->batch, err);
}

static void run_step(run *r)
{
    model *m = &r->m;
    model_zero_grad(m);
    model_forward(m, r->x, r->batch, 1);
    loss_softmax_xent(m->root->dy, m->root->y, r->labels, r->batch, m->classes);
    model_backward(m, r->x, r->batch);
    optim_step(&r->o, m, 1.0f);
}

/* A forward pass for the logits alone, as the end-of-run test pass makes. */
static void run_eval(run *r)
{
    model_predict(&r->m, r->x, r->batch);
}

/* Images per second of `step` over about `seconds`, after a warm-up. */
static double run_rate_of(run *r, void (*step)(run *), double seconds)
{
    for (int i = 0; i < 3; i++)
        step(r);
    int steps = 0;
    double t0 = thaw_now_s();
    do {
        step(r);
        steps++;
    } while (thaw_now_s() - t0 < seconds);
    return steps * (double)r->batch / (thaw_now_s() - t0);
}

static double run_rate(run *r, double seconds)
{
    return run_rate_of(r, run_step, seconds);
}

static void run_free(run *r)
{
    model_free(&r->m);
    optim_free(&r->o);
    free(r->x);
    free(r->labels);
}

/* ---- depthwise convolution ------------------------------------------------
 * 3×3, padding 1, no bias (a BatchNorm follows), on MobileNet's channel
 * counts and sides, at stride 1 and 2. */

typedef struct dw_shape {
    int c, side, stride;
} dw_shape;

static const dw_shape dw_shapes[] = {
    { 32, 112, 1 }, { 64, 56, 1 }, { 128, 28, 1 }, { 256, 14, 1 },
    { 32, 112, 2 }, { 64, 56, 2 }, { 128, 28, 2 }, { 256, 14, 2 },
};
enum { DW_SHAPES = sizeof dw_shapes / sizeof dw_shapes[0], DW_BATCH = 32 };

/* Multiply-adds of one forward pass over the batch. */
static double dw_macs(dw_shape s)
{
    double out = (s.side - 1) / s.stride + 1;
    return 9.0 * s.c * out * out * DW_BATCH;
}

/* thaw's forward and backward (dx and dW) of one shape, ms per batch: the
 * median of 5 runs of at least `seconds`/10 each. Negative on failure. */
static void dw_time(dw_shape s, double seconds, double *fwd_ms, double *bwd_ms)
{
    thaw_err err = { 0 };
    model m;
    *fwd_ms = *bwd_ms = -1;
    layer *root = sequential_new("net");
    if (!root || layer_add(root, conv2d_grouped_new("dw", s.c, s.c, 3, s.stride, s.c,
                                                    (const int[4]){ 1, 1, 1, 1 }, 0), &err) ||
        layer_add(root, avgpool_new("pool"), &err)) {
        layer_free(root);
        fprintf(stderr, "thaw-bench: depthwise %dx%d: out of memory\n", s.c, s.side);
        return;
    }
    if (model_build(&m, root, (shape3){ s.c, s.side, s.side }, 1, &err) ||
        model_prepare(&m, DW_BATCH, &err)) {
        fprintf(stderr, "thaw-bench: depthwise %dx%d: %s\n", s.c, s.side, err.msg);
        model_free(&m);
        return;
    }
    layer *l = m.root->child[0];
    size_t nx = (size_t)DW_BATCH * shape3_count(l->in), ny = (size_t)DW_BATCH * shape3_count(l->out);
    float *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx);
    if (!x || !dx) {
        free(x), free(dx);
        model_free(&m);
        return;
    }
    rng g = rng_seeded(5);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_normal(&g);
    for (size_t i = 0; i < ny; i++)
        l->dy[i] = rng_normal(&g);
    layer_grad_plan(m.root, &m, 1);
    double t[2][5];
    for (int pass = 0; pass < 2; pass++)
        for (int r = 0; r < 5; r++) {
            int n = 0;
            double t0 = thaw_now_s();
            do {
                if (pass == 0)
                    l->ops->forward(l, &m, x, DW_BATCH, 1);
                else
                    l->ops->backward(l, &m, x, dx, 0, DW_BATCH);
                n++;
            } while (thaw_now_s() - t0 < seconds / 10);
            t[pass][r] = 1e3 * (thaw_now_s() - t0) / n;
        }
    for (int pass = 0; pass < 2; pass++) {
        double *v = t[pass];
        for (int i = 1; i < 5; i++)
            for (int j = i; j > 0 && v[j] < v[j - 1]; j--) {
                double tmp = v[j];
                v[j] = v[j - 1];
                v[j - 1] = tmp;
            }
    }
    *fwd_ms = t[0][2];
    *bwd_ms = t[1][2];
    free(x);
    free(dx);
    model_free(&m);
}

/* ---- PyTorch -------------------------------------------------------------- */

/* Debian's python3-torch installs for Debian's python3; a python3 earlier on
 * PATH may lack it. THAW_PYTHON names the interpreter explicitly. */
static const char *peer_python(void)
{
    static const char *found;
    static int looked;
    if (looked)
        return found;
    looked = 1;
    const char *env = getenv("THAW_PYTHON");
    const char *cand[] = { env, "python3", "/usr/bin/python3" };
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        if (!cand[i] || !*cand[i])
            continue;
        char cmd[512];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1", cand[i]);
        if (system(cmd) == 0)
            return found = cand[i];
    }
    return NULL;
}

/* PyTorch's rates for a comma-separated list of torch_peer.py's modes, in
 * one process (one line each: "mode=M img/s=R", and for training modes
 * "mb_per_image=X"); -1 where it gave none. */
static void torch_rates(const char *peer, int threads, int batch, const char *modes,
                        double seconds, double *rate, double *mb_per_image)
{
    int n = 1;
    for (const char *c = modes; *c; c++)
        n += *c == ',';
    for (int i = 0; i < n; i++)
        rate[i] = -1.0;
    if (mb_per_image)
        *mb_per_image = -1.0;
    const char *py = peer_python();
    if (!py || !peer)
        return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %d %d %s %g 2>/dev/null", py, peer, threads, batch, modes, seconds);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    char line[512];
    for (int i = 0; i < n && fgets(line, sizeof line, p);) {
        const char *at = strstr(line, "img/s="), *mb = strstr(line, "mb_per_image=");
        if (!at)
            continue;
        rate[i] = atof(at + 6);
        if (mb && mb_per_image && *mb_per_image < 0)
            *mb_per_image = atof(mb + 13);
        i++;
    }
    pclose(p);
}

/* PyTorch's times for every dw_shapes entry (torch_peer.py's depthwise
 * mode, one line per shape: "dw C SIDE STRIDE fwd_ms=F bwd_ms=B"); -1 where
 * it gave none. */
static void torch_dw_times(const char *peer, int threads, double seconds, double *fwd, double *bwd)
{
    for (int i = 0; i < DW_SHAPES; i++)
        fwd[i] = bwd[i] = -1;
    const char *py = peer ? peer_python() : NULL;
    if (!py)
        return;
    char cmd[1024], line[512];
    snprintf(cmd, sizeof cmd, "%s %s %d %d depthwise %g 2>/dev/null", py, peer, threads, DW_BATCH,
             seconds);
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    while (fgets(line, sizeof line, p)) {
        int c, side, stride;
        double f, b;
        if (sscanf(line, "dw %d %d %d fwd_ms=%lf bwd_ms=%lf", &c, &side, &stride, &f, &b) != 5)
            continue;
        for (int i = 0; i < DW_SHAPES; i++)
            if (dw_shapes[i].c == c && dw_shapes[i].side == side && dw_shapes[i].stride == stride)
                fwd[i] = f, bwd[i] = b;
    }
    pclose(p);
}

/* Times every depthwise shape in thaw and PyTorch and prints the table;
 * the figures go into the JSON line through *json (a printf-ready text). */
static void depthwise_report(const char *peer, int threads, double seconds, char *json, size_t cap)
{
    double tf[DW_SHAPES], tb[DW_SHAPES], pf[DW_SHAPES], pb[DW_SHAPES];
    for (int i = 0; i < DW_SHAPES; i++)
        dw_time(dw_shapes[i], seconds, &tf[i], &tb[i]);
    torch_dw_times(peer, threads, seconds, pf, pb);
    printf("depthwise 3x3 convolution, batch %d, %d thread%s (ms; GFLOP/s; thaw/PyTorch speed)\n",
           DW_BATCH, threads, threads == 1 ? "" : "s");
    printf("  %-16s %22s %22s %14s\n", "shape", "forward thaw  torch", "backward thaw  torch",
           "ratio fwd bwd");
    size_t used = 0;
    used += (size_t)snprintf(json + used, cap - used, "\"depthwise\": [");
    for (int i = 0; i < DW_SHAPES; i++) {
        dw_shape s = dw_shapes[i];
        double gf = 2 * dw_macs(s) / 1e6;              /* MFLOP: GFLOP/s = gf / ms */
        double rf = tf[i] > 0 && pf[i] > 0 ? pf[i] / tf[i] : -1;
        double rb = tb[i] > 0 && pb[i] > 0 ? pb[i] / tb[i] : -1;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%d^2 /%d", s.c, s.side, s.stride);
        printf("  %-16s %7.2f %7.2f (%4.1f %4.1f) %7.2f %7.2f (%4.1f %4.1f) %6.2f %6.2f\n", shape,
               tf[i], pf[i], gf / tf[i], pf[i] > 0 ? gf / pf[i] : 0, tb[i], pb[i], 2 * gf / tb[i],
               pb[i] > 0 ? 2 * gf / pb[i] : 0, rf, rb);
        if (used < cap)
            used += (size_t)snprintf(json + used, cap - used,
                                     "%s{\"c\": %d, \"side\": %d, \"stride\": %d, \"thaw_fwd_ms\": %.3f, "
                                     "\"thaw_bwd_ms\": %.3f, \"torch_fwd_ms\": %.3f, "
                                     "\"torch_bwd_ms\": %.3f}", i ? ", " : "", s.c, s.side, s.stride,
                                     tf[i], tb[i], pf[i], pb[i]);
    }
    if (used < cap)
        snprintf(json + used, cap - used, "], ");
}

static double median3(double a, double b, double c)
{
    if (a > b) { double t = a; a = b; b = t; }
    if (b > c) { double t = b; b = c; c = t; }
    return a > b ? a : b;
}

static void json_num(const char *key, double v, int last)
{
    if (v < 0)
        printf("\"%s\": null%s", key, last ? "" : ", ");
    else
        printf("\"%s\": %.3f%s", key, v, last ? "" : ", ");
}

enum { MOBILENET_BATCH = 32 };

/* The folder of the shared pretrained weights (THAW_PRETRAINED, else
 * ../shared/pretrained), or NULL when MobileNet is not there. */
static const char *pretrained_dir(char *buf, size_t cap)
{
    const char *env = getenv("THAW_PRETRAINED");
    snprintf(buf, cap, "%s", env && env[0] ? env : "../shared/pretrained");
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/mobilenet_v1_0.25_224/model.json", buf);
    FILE *f = fopen(probe, "r");
    if (!f)
        return NULL;
    fclose(f);
    return buf;
}

/* MobileNet v1 0.25 imported from dir into r, for batches of `batch`. */
static int mobilenet_run(run *r, const char *dir, int batch, thaw_err *err)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/mobilenet_v1_0.25_224/model.json", dir);
    mf_meta meta;
    tfjs_report rep;
    memset(r, 0, sizeof *r);
    if (tfjs_import(&meta, &r->m, &rep, path, &(tfjs_opts){ 0 }, err))
        return err->code;
    mf_meta_free(&meta);
    return run_setup(r, batch, 0, err);
}

/* The reference model, or MobileNet from dir when dir is not NULL. */
static void profile(int batch, const char *dir, double seconds)
{
    thaw_err err = {0};
    run r;
    /* One thread: the kinds of work are timed on the calling thread. */
    if ((dir ? mobilenet_run(&r, dir, batch, &err) : run_init(&r, batch, 0, &err)) ||
        run_threads(&r, 1, &err)) {
        fprintf(stderr, "thaw-bench: %s\n", err.msg);
        run_free(&r);
        return;
    }
    prof_attach(r.m.root);
    run_step(&r);
    for (int i = 0; i < nprof; i++)
        prof[i].fwd = prof[i].bwd = 0.0;
    for (int k = 0; k < KIND_COUNT; k++)
        kind_time[k] = 0.0;
    int steps = 0;
    double t0 = thaw_now_s();
    do {
        run_step(&r);
        steps++;
    } while (thaw_now_s() - t0 < seconds);
    double total = (thaw_now_s() - t0) / steps, leaves = 0.0;
    printf("profile: %.1f ms a step of %d images\n", 1e3 * total, batch);
    printf("  %-22s %-12s %9s %9s %7s\n", "layer", "type", "fwd ms", "bwd ms", "share");
    for (int i = 0; i < nprof; i++) {
        double f = prof[i].fwd / steps, b = prof[i].bwd / steps;
        leaves += f + b;
        printf("  %-22s %-12s %9.2f %9.2f %6.1f%%\n", prof[i].l->path, prof[i].real->type,
               1e3 * f, 1e3 * b, 100.0 * (f + b) / total);
    }
    printf("  %-35s %9.2f %16.1f%%\n", "residual sums, loss, optimizer", 1e3 * (total - leaves),
           100.0 * (total - leaves) / total);
    double conv = 0.0, kinds = 0.0;
    for (int i = 0; i < nprof; i++)
        if (!strcmp(prof[i].real->type, "conv2d"))
            conv += (prof[i].fwd + prof[i].bwd) / steps;
    printf("by kind of work:\n");
    for (int k = 0; k < KIND_COUNT; k++) {
        double t = kind_time[k] / steps;
        kinds += t;
        printf("  %-35s %9.2f ms %6.1f%%\n", kind_name[k], 1e3 * t, 100.0 * t / total);
    }
    printf("  %-35s %9.2f ms %6.1f%%\n", "im2col, col2im, copies in conv2d", 1e3 * (conv - kinds),
           100.0 * (conv - kinds) / total);
    printf("  %-35s %9.2f ms %6.1f%%\n", "BatchNorm, ReLU, pooling, sums, optimizer",
           1e3 * (total - conv), 100.0 * (total - conv) / total);
    prof_detach();
    run_free(&r);
}

/* Feature extraction through the training session: the first epoch runs
 * the frozen backbone once to fill the feature cache; every later epoch
 * trains the head from the cache. Returns the cached rate (training images
 * per second of training time) and the first epoch's, wall clock. */
static double fe_rate(int batch, double *first_epoch)
{
    enum { FE_TRAIN = 2000, FE_VAL = 100, FE_CLASSES = 5, FE_EPOCHS = 20 };
    size_t img = 28 * 28;
    float *x = malloc((FE_TRAIN + FE_VAL) * img * sizeof(float));
    int *y = malloc((FE_TRAIN + FE_VAL) * sizeof(int));
    thaw_err err = {0};
    model m;
    session *s = NULL;
    double rate = -1;
    *first_epoch = -1;
    if (!x || !y)
        goto done;
    rng r = rng_seeded(3);
    for (size_t i = 0; i < (FE_TRAIN + FE_VAL) * img; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < FE_TRAIN + FE_VAL; i++)
        y[i] = i % FE_CLASSES;
    sess_data d = { .in = { 1, 28, 28 }, .classes = FE_CLASSES };
    d.split[SESS_TRAIN_SPLIT] = (sess_split){ x, y, FE_TRAIN };
    d.split[SESS_VAL_SPLIT] = (sess_split){ x + FE_TRAIN * img, y + FE_TRAIN, FE_VAL };
    sess_config c;
    sess_config_default(&c);
    c.batch = batch;
    c.baseline = 0;
    sess_ctl fe = { .op = SESS_STRATEGY, .value = 0.01 };
    strategy_default(&fe.strat, STRAT_FEATURE_EXTRACTION);
    if (model_build(&m, mf_reference_net(1, FE_CLASSES, &err), d.in, 1, &err) ||
        sess_new(&s, &m, NULL, NULL, &d, &c, NULL, &err) || sess_control(s, &fe, &err)) {
        fprintf(stderr, "thaw-bench: %s\n", err.msg);
        goto done;
    }
    double t0 = thaw_now_s();
    sess_control(s, &(sess_ctl){ .op = SESS_TRAIN, .count = 1 }, &err);
    sess_wait(s);
    *first_epoch = FE_TRAIN / (thaw_now_s() - t0);
    sess_control(s, &(sess_ctl){ .op = SESS_TRAIN, .count = FE_EPOCHS }, &err);
    sess_wait(s);
    double images = 0, seconds = 0;
    for (sess_event ev; sess_poll(s, &ev, 0);)
        if (ev.kind == SEV_EVAL && ev.eval.epoch > 1 && ev.eval.img_s > 0) {
            images += FE_TRAIN;
            seconds += FE_TRAIN / ev.eval.img_s;
        }
    rate = seconds > 0 ? images / seconds : -1;
done:
    sess_free(s);
    free(x);
    free(y);
    return rate;
}

enum { MAX_COUNTS = 2 };

typedef struct figures {
    double full, frozen, eval;            /* thaw, img/s, median of 3 */
    double torch_full, torch_frozen, torch_eval;
    double ratio_full, ratio_frozen, ratio_eval;
    double mobile_train, mobile_eval, torch_mobile_train, torch_mobile_eval;
} figures;

/* The reference model's three rates at `threads`, in 3 alternating pairs. */
static void measure_reference(run *full, run *frozen, const char *peer, int threads, double seconds,
                              figures *f)
{
    double t[3][3], p[3][3], r[3][3];
    thaw_err err = {0};
    if (run_threads(full, threads, &err) || run_threads(frozen, threads, &err)) {
        fprintf(stderr, "thaw-bench: %s\n", err.msg);
        return;
    }
    for (int i = 0; i < 3; i++) {
        t[0][i] = run_rate(full, seconds);
        t[1][i] = run_rate(frozen, seconds);
        t[2][i] = run_rate_of(full, run_eval, seconds);
        double pr[3];
        torch_rates(peer, threads, full->batch, "full,head,eval", seconds, pr, NULL);
        for (int k = 0; k < 3; k++) {
            p[k][i] = pr[k];
            r[k][i] = pr[k] > 0 ? t[k][i] / pr[k] : -1;
        }
        printf("%d thread%s, pair %d: full thaw %.0f torch %.0f   frozen backbone thaw %.0f torch %.0f"
               "   evaluation thaw %.0f torch %.0f img/s\n", threads, threads == 1 ? "" : "s", i + 1,
               t[0][i], p[0][i], t[1][i], p[1][i], t[2][i], p[2][i]);
    }
    double *dst[3][3] = { { &f->full, &f->torch_full, &f->ratio_full },
                          { &f->frozen, &f->torch_frozen, &f->ratio_frozen },
                          { &f->eval, &f->torch_eval, &f->ratio_eval } };
    for (int k = 0; k < 3; k++) {
        *dst[k][0] = median3(t[k][0], t[k][1], t[k][2]);
        *dst[k][1] = median3(p[k][0], p[k][1], p[k][2]);
        *dst[k][2] = median3(r[k][0], r[k][1], r[k][2]);
    }
}

/* MobileNet v1 0.25 at 224×224, imported from the shared weights: training
 * and evaluation at batch 32, one pair per thread count. */
static void measure_mobilenet(const char *dir, const char *peer, const int *counts, int ncounts,
                              double seconds, figures *f)
{
    thaw_err err = {0};
    run r;
    if (mobilenet_run(&r, dir, MOBILENET_BATCH, &err)) {
        fprintf(stderr, "thaw-bench: %s\n", err.msg);
        run_free(&r);
        return;
    }
    for (int c = 0; c < ncounts; c++) {
        if (run_threads(&r, counts[c], &err)) {
            fprintf(stderr, "thaw-bench: %s\n", err.msg);
            break;
        }
        figures *g = &f[c];
        g->mobile_train = run_rate(&r, seconds);
        g->mobile_eval = run_rate_of(&r, run_eval, seconds);
        double pr[2];
        torch_rates(peer, counts[c], MOBILENET_BATCH, "mobilenet-full,mobilenet-eval", seconds, pr, NULL);
        g->torch_mobile_train = pr[0], g->torch_mobile_eval = pr[1];
        printf("MobileNet v1 0.25, 224x224, batch %d, %d thread%s: training thaw %.1f torch %.1f"
               "   evaluation thaw %.1f torch %.1f img/s\n", MOBILENET_BATCH, counts[c],
               counts[c] == 1 ? "" : "s", g->mobile_train, pr[0], g->mobile_eval, pr[1]);
    }
    run_free(&r);
}

static double ratio(double a, double b)
{
    return a > 0 && b > 0 ? a / b : -1;
}

int main(int argc, char **argv)
{
    const char *peer = NULL;
    int batch = 64, threads = 0, want_profile = 0, want_depthwise = 0;
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--peer") && i + 1 < argc)
            peer = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--profile"))
            want_profile = 1;
        else if (!strcmp(argv[i], "--profile-mobilenet"))
            want_profile = 2;
        else if (!strcmp(argv[i], "--depthwise"))
            want_depthwise = 1;
        else {
            fprintf(stderr, "usage: thaw-bench [--peer SCRIPT] [--batch N] [--threads N] "
                            "[--seconds S] [--profile] [--profile-mobilenet] [--depthwise]\n");
            return 2;
        }
    }
    if (batch < 1 || threads < 0 || threads > PAR_THREADS_MAX || !(seconds > 0)) {
        fprintf(stderr, "thaw-bench: batch, threads and seconds must be positive\n");
        return 2;
    }
    /* The training figures at 1 and 2 threads, or at --threads alone. */
    int counts[MAX_COUNTS] = { 1, 2 }, ncounts = 2;
    if (threads)
        counts[0] = threads, ncounts = 1;
    thaw_threads_set(counts[0]);
    char dir[1024];
    int have_mobilenet = pretrained_dir(dir, sizeof dir) != NULL;
    if (want_profile == 2 && !have_mobilenet) {
        fprintf(stderr, "thaw-bench: no MobileNet weights: set THAW_PRETRAINED to the folder that holds "
                        "mobilenet_v1_0.25_224/\n");
        return 1;
    }
    if (want_profile) {
        profile(want_profile == 2 ? MOBILENET_BATCH : batch, want_profile == 2 ? dir : NULL, seconds);
        return 0;
    }
    static char dw_json[4096];
    if (want_depthwise) {
        depthwise_report(peer, counts[0], seconds, dw_json, sizeof dw_json);
        printf("{%s\"threads\": %d, \"batch\": %d}\n", dw_json, counts[0], DW_BATCH);
        return 0;
    }

    double peak = sgemm_gflops(2.0);
    printf("BLIS %s sgemm (1024^3, one thread): %.1f GFLOP/s\n", gemm_kernel_name(), peak);

    thaw_err err = {0};
    run full, frozen;
    if (run_init(&full, batch, 0, &err) || run_init(&frozen, batch, 1, &err)) {
        fprintf(stderr, "thaw-bench: %s\n", err.msg);
        return 1;
    }
    double fwd = 0, bwd = 0;
    count_macs(&full.m, full.m.root, &fwd, &bwd);
    double step_flops = 2.0 * (fwd + bwd);   /* per image */
    /* Activations and scratch of a training step, per image. */
    double mb_image = (double)model_prepare_bytes(&full.m, batch) / batch / (1 << 20);

    if (peer && !peer_python())
        printf("PyTorch: not installed (Debian's python3-torch), so no peer figures\n");
    int have_peer = peer && peer_python();
    figures f[MAX_COUNTS];
    for (int c = 0; c < MAX_COUNTS; c++)
        f[c] = (figures){ -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
    for (int c = 0; c < ncounts; c++)
        measure_reference(&full, &frozen, have_peer ? peer : NULL, counts[c], seconds, &f[c]);
    double torch_mb = -1;
    if (have_peer) {
        double unused;
        torch_rates(peer, 1, batch, "memory", seconds, &unused, &torch_mb);
    }
    if (have_mobilenet)
        measure_mobilenet(dir, have_peer ? peer : NULL, counts, ncounts, seconds, f);
    else
        printf("MobileNet: no weights (set THAW_PRETRAINED to the folder that holds "
               "mobilenet_v1_0.25_224/), so no MobileNet figures\n");
    thaw_threads_set(counts[0]);

    double gflops = f[0].full * step_flops / 1e9;
    for (int c = 0; c < ncounts; c++) {
        printf("thaw at %d thread%s: full training %.0f img/s, frozen backbone %.0f, evaluation %.0f\n",
               counts[c], counts[c] == 1 ? "" : "s", f[c].full, f[c].frozen, f[c].eval);
        if (have_peer)
            printf("  thaw/PyTorch (median of 3 pairs): full %.2f, frozen backbone %.2f, evaluation %.2f\n",
                   f[c].ratio_full, f[c].ratio_frozen, f[c].ratio_eval);
    }
    printf("thaw full training at %d thread%s: %.1f GFLOP/s of GEMM work, %.0f%% of BLIS's one-thread "
           "sgemm rate per thread\n", counts[0], counts[0] == 1 ? "" : "s", gflops,
           100.0 * gflops / (peak * counts[0]));
    double scaling = ncounts > 1 ? ratio(f[1].full, f[0].full) : -1;
    if (ncounts > 1)
        printf("thaw's 2-thread full-training rate over its 1-thread rate: %.2f\n", scaling);
    printf("activations and scratch of a training step: %.2f MiB per image", mb_image);
    if (torch_mb > 0)
        printf(" (PyTorch's resident memory grows by %.2f MiB per image)", torch_mb);
    printf("\n");
    double fe_first, fe_cached = fe_rate(batch, &fe_first);
    double ratio_fe = ratio(fe_cached, f[0].torch_frozen);
    printf("thaw feature extraction (head from cached features): %.0f img/s; the first epoch, "
           "which fills the cache: %.0f img/s\n", fe_cached, fe_first);
    if (have_peer)
        printf("thaw feature extraction / PyTorch frozen backbone: %.0fx\n", ratio_fe);
    depthwise_report(have_peer ? peer : NULL, counts[0], seconds, dw_json, sizeof dw_json);
    int t2 = ncounts > 1;
    printf("{%s", dw_json);
    json_num("thaw_full_img_s", f[0].full, 0);
    json_num("thaw_frozen_img_s", f[0].frozen, 0);
    json_num("thaw_eval_img_s", f[0].eval, 0);
    json_num("torch_full_img_s", f[0].torch_full, 0);
    json_num("torch_frozen_img_s", f[0].torch_frozen, 0);
    json_num("torch_eval_img_s", f[0].torch_eval, 0);
    json_num("ratio_full", f[0].ratio_full, 0);
    json_num("ratio_frozen", f[0].ratio_frozen, 0);
    json_num("ratio_full_t1", counts[0] == 1 ? f[0].ratio_full : -1, 0);
    json_num("ratio_frozen_t1", counts[0] == 1 ? f[0].ratio_frozen : -1, 0);
    json_num("ratio_eval_t1", counts[0] == 1 ? f[0].ratio_eval : -1, 0);
    json_num("thaw_full_t2_img_s", t2 ? f[1].full : -1, 0);
    json_num("thaw_frozen_t2_img_s", t2 ? f[1].frozen : -1, 0);
    json_num("thaw_eval_t2_img_s", t2 ? f[1].eval : -1, 0);
    json_num("ratio_full_t2", t2 ? f[1].ratio_full : -1, 0);
    json_num("ratio_frozen_t2", t2 ? f[1].ratio_frozen : -1, 0);
    json_num("ratio_eval_t2", t2 ? f[1].ratio_eval : -1, 0);
    json_num("scaling_t2", scaling, 0);
    json_num("thaw_mobilenet_t1_img_s", f[0].mobile_train, 0);
    json_num("thaw_mobilenet_eval_t1_img_s", f[0].mobile_eval, 0);
    json_num("ratio_mobilenet_t1", ratio(f[0].mobile_train, f[0].torch_mobile_train), 0);
    json_num("ratio_mobilenet_eval_t1", ratio(f[0].mobile_eval, f[0].torch_mobile_eval), 0);
    json_num("ratio_mobilenet_t2", t2 ? ratio(f[1].mobile_train, f[1].torch_mobile_train) : -1, 0);
    json_num("ratio_mobilenet_eval_t2", t2 ? ratio(f[1].mobile_eval, f[1].torch_mobile_eval) : -1, 0);
    json_num("peak_mb_per_image", mb_image, 0);
    json_num("torch_mb_per_image", torch_mb, 0);
    json_num("thaw_fe_cached_img_s", fe_cached, 0);
    json_num("thaw_fe_first_epoch_img_s", fe_first, 0);
    json_num("ratio_feature_extraction", ratio_fe, 0);
    json_num("sgemm_gflops", peak, 0);
    json_num("gemm_share", gflops / (peak * counts[0]), 0);
    printf("\"threads\": %d, \"batch\": %d}\n", counts[0], batch);
    run_free(&full);
    run_free(&frozen);
    return 0;
}
