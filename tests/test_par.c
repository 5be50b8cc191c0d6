/* test_par.c — the workers of the passes: every task runs once, sums add in
 * task order, and a model computes the same bits on any number of threads. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "test.h"

#define PAR_TASKS 1000

typedef struct count_job {
    atomic_int runs[PAR_TASKS];
    atomic_int bad_worker;
    int threads;
} count_job;

static void count_task(void *ctx, int task, int worker)
{
    count_job *j = ctx;
    atomic_fetch_add(&j->runs[task], 1);
    if (worker < 0 || worker >= j->threads)
        atomic_store(&j->bad_worker, 1);
}

void test_par_runs_every_task_once(void)
{
    for (int threads = 1; threads <= 4; threads++) {
        thaw_err err = {0};
        par_pool *p;
        CHECKF(par_new(&p, threads, &err) == THAW_OK, "%s", err.msg);
        CHECK(par_threads(p) == threads);
        count_job *j = calloc(1, sizeof *j);
        EXPECT(j);
        j->threads = threads;
        /* many jobs in a row: a worker must not miss or repeat one */
        for (int rep = 0; rep < 50; rep++)
            par_run(p, rep % 7 == 0 ? 1 : PAR_TASKS, count_task, j);
        for (int t = 0; t < PAR_TASKS; t++) {
            int want = t == 0 ? 50 : 50 - 8;   /* 8 of the 50 jobs had one task */
            EXPECTF(atomic_load(&j->runs[t]) == want, "%d threads: task %d ran %d times, not %d",
                    threads, t, atomic_load(&j->runs[t]), want);
        }
        EXPECT(!atomic_load(&j->bad_worker));
    done:
        free(j);
        par_free(p);
        if (test_has_failed())
            return;
    }
}

void test_par_sum_adds_in_task_order(void)
{
    /* 1e8 + 1 - 1e8 is 0 in floats added left to right, 1 otherwise. */
    enum { N = 10000, K = 3 };
    float *parts = malloc(sizeof(float) * N * K), *dst = malloc(sizeof(float) * N);
    par_pool *p = NULL;
    EXPECT(parts && dst);
    EXPECT(par_new(&p, 3, NULL) == THAW_OK);
    for (int i = 0; i < N; i++) {
        dst[i] = 1e8f;
        parts[i] = 1.0f;
        parts[N + i] = -1e8f;
        parts[2 * N + i] = (float)i;
    }
    par_sum(p, dst, parts, N, K);
    for (int i = 0; i < N; i++)
        EXPECTF(dst[i] == (float)i, "dst[%d] = %g, expected %d", i, dst[i], i);
done:
    par_free(p);
    free(parts), free(dst);
}

/* A network with every convolution path: im2col (the stem on one channel,
 * stride 2), Winograd, direct 1×1, depthwise, grouped. */
static layer *all_paths_net(void)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    if (!root || layer_add(root, conv2d_new("stem", 1, 8, 3, 2, 1, 1), &err) ||
        layer_add(root, relu_new("r1"), &err) ||
        layer_add(root, conv2d_new("wino", 8, 8, 3, 1, 1, 0), &err) ||
        layer_add(root, conv2d_new("point", 8, 16, 1, 1, 0, 1), &err) ||
        layer_add(root, conv2d_grouped_new("dw", 16, 16, 3, 1, 16, (const int[4]){ 1, 1, 1, 1 }, 1),
                  &err) ||
        layer_add(root, conv2d_grouped_new("grp", 16, 8, 3, 2, 4, (const int[4]){ 1, 1, 1, 1 }, 0),
                  &err) ||
        layer_add(root, avgpool_new("pool"), &err) || layer_add(root, flatten_new("flat"), &err) ||
        layer_add(root, linear_new("head", 8, 5, 1), &err)) {
        layer_free(root);
        return NULL;
    }
    return root;
}

/* Trains `steps` steps of batch B at `threads` threads; the weights after. */
static float *train_at(layer *(*net)(void), shape3 in, int threads, int B, int steps, size_t *n)
{
    thaw_err err = {0};
    model m;
    optim o = {0};
    float *x = NULL, *out = NULL;
    if (model_build(&m, net(), in, 7, &err))
        return NULL;
    m.threads = threads;
    size_t nx = (size_t)B * in.c * in.h * in.w;
    int *labels = malloc(sizeof(int) * B);
    x = malloc(sizeof(float) * nx);
    if (!labels || !x || model_prepare(&m, B, &err) || optim_init(&o, &m, OPTIM_SGD, &err))
        goto done;
    o.momentum = 0.9f;
    rng r = rng_seeded(3);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        labels[i] = i % m.classes;
    for (int step = 0; step < steps; step++) {
        /* the last step's batch is smaller: its chunks differ */
        int b = step == steps - 1 ? B - 3 : B;
        model_zero_grad(&m);
        model_forward(&m, x, b, 1);
        loss_softmax_xent(m.root->dy, m.root->y, labels, b, m.classes);
        model_backward(&m, x, b);
        optim_step(&o, &m, 1.0f);
    }
    out = malloc(m.nfloat * sizeof *out);
    if (out) {
        memcpy(out, m.param, m.nfloat * sizeof *out);
        *n = m.nfloat;
    }
done:
    optim_free(&o);
    model_free(&m);
    free(x), free(labels);
    return out;
}

static layer *reference_net(void)
{
    return mf_reference_net(1, 10, NULL);
}

void test_model_same_bits_any_threads(void)
{
    struct {
        layer *(*net)(void);
        shape3 in;
        int batch;
    } nets[] = {
        { all_paths_net, { 1, 16, 16 }, 21 },
        { reference_net, { 1, 28, 28 }, 40 },
    };
    for (size_t k = 0; k < sizeof nets / sizeof nets[0]; k++) {
        size_t n1 = 0, n3 = 0;
        float *w1 = train_at(nets[k].net, nets[k].in, 1, nets[k].batch, 3, &n1);
        float *w3 = train_at(nets[k].net, nets[k].in, 3, nets[k].batch, 3, &n3);
        EXPECTF(w1 && w3 && n1 == n3, "net %zu: training failed", k);
        size_t diff = 0;
        for (size_t i = 0; i < n1; i++)
            diff += memcmp(&w1[i], &w3[i], sizeof(float)) != 0;
        EXPECTF(diff == 0, "net %zu: %zu of %zu weights differ between 1 and 3 threads", k, diff, n1);
    done:
        free(w1), free(w3);
        if (test_has_failed())
            return;
    }
}

/* Every convolution path followed by a BatchNorm with moved statistics. */
static layer *bn_paths_net(void)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    layer *block = sequential_new("block");
    if (!root || !block || layer_add(root, conv2d_new("stem", 1, 8, 3, 2, 1, 1), &err) ||
        layer_add(root, batchnorm2d_new("stem_bn", 8, 1e-3f, 0.1f), &err) ||
        layer_add(block, conv2d_new("wino", 8, 8, 3, 1, 1, 0), &err) ||
        layer_add(block, batchnorm2d_new("wino_bn", 8, 1e-5f, 0.1f), &err) ||
        layer_add(block, relu_new("r"), &err) ||
        layer_add(block, conv2d_new("point", 8, 16, 1, 1, 0, 1), &err) ||
        layer_add(block, batchnorm2d_new("point_bn", 16, 1e-5f, 0.1f), &err) ||
        layer_add(root, block, &err) ||
        layer_add(root, conv2d_grouped_new("dw", 16, 16, 3, 2, 16, (const int[4]){ 0, 1, 0, 1 }, 0),
                  &err) ||
        layer_add(root, batchnorm2d_new("dw_bn", 16, 1e-3f, 0.1f), &err) ||
        layer_add(root, avgpool_new("pool"), &err) || layer_add(root, flatten_new("flat"), &err) ||
        layer_add(root, linear_new("head", 16, 5, 1), &err)) {
        layer_free(root);
        return NULL;
    }
    return root;
}

void test_model_predict_folds_batchnorm(void)
{
    thaw_err err = {0};
    model m;
    enum { B = 9 };
    float *x = malloc(sizeof(float) * B * 16 * 16), *want = malloc(sizeof(float) * B * 5);
    CHECK(x && want);
    CHECKF(model_build(&m, bn_paths_net(), (shape3){ 1, 16, 16 }, 3, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(model_prepare(&m, B, &err) == THAW_OK, "%s", err.msg);
    rng r = rng_seeded(5);
    for (int i = 0; i < B * 256; i++)
        x[i] = rng_normal(&r);
    /* statistics and affine parameters away from 0 and 1 */
    for (int s = 0; s < m.nslice; s++)
        if (m.slice[s].kind == PARAM_BN || m.slice[s].kind == PARAM_STAT)
            for (size_t i = 0; i < m.slice[s].len; i++)
                model_param(&m, s)[i] = 0.5f + rng_uniform(&r);
    model_forward(&m, x, B, 0);
    memcpy(want, m.root->y, sizeof(float) * B * 5);
    memset(m.root->y, 0, sizeof(float) * B * 5);
    /* a mark in each convolution's own output, which the fold leaves */
    const char *convs[] = { "stem", "block.wino", "block.point", "dw" };
    for (int k = 0; k < 4; k++)
        model_find(&m, convs[k])->y[0] = 12345.0f;
    model_predict(&m, x, B);
    for (int k = 0; k < 4; k++)
        EXPECTF(model_find(&m, convs[k])->y[0] == 12345.0f, "%s was not folded into its BatchNorm",
                convs[k]);
    for (int i = 0; i < B * 5; i++)
        EXPECTF(fabsf(m.root->y[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i])),
                "logit %d: folded %g, unfolded %g", i, m.root->y[i], want[i]);
    EXPECT(!m.predicting);
done:
    model_free(&m);
    free(x), free(want);
}
