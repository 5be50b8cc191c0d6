/* test_freeze.c — freezing: frozen parameters and BatchNorm statistics stay
 * bit-for-bit, train_bn keeps BatchNorm learning, and backward stops below
 * the lowest layer that trains. All on the reference network over small
 * 1×8×8 images. */
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "test.h"

enum { FZ_BATCH = 8, FZ_CLASSES = 4, FZ_PIXELS = 64 };

typedef struct bench {
    model m;
    optim o;
    float x[FZ_BATCH * FZ_PIXELS];
    int labels[FZ_BATCH];
    float *before;     /* the parameter block before training */
} bench;

static int bench_open(bench *b, int train_bn)
{
    thaw_err err = {0};
    memset(b, 0, sizeof *b);
    if (model_build(&b->m, mf_reference_net(1, FZ_CLASSES, &err), (shape3){ 1, 8, 8 }, 5, &err) ||
        model_prepare(&b->m, FZ_BATCH, &err) || optim_init(&b->o, &b->m, OPTIM_SGD, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        model_free(&b->m);
        return 0;
    }
    b->m.train_bn = train_bn;
    b->o.momentum = 0.9f;
    b->o.weight_decay = 1e-3f;
    rng r = rng_seeded(8);
    for (int i = 0; i < FZ_BATCH * FZ_PIXELS; i++)
        b->x[i] = rng_normal(&r);
    for (int i = 0; i < FZ_BATCH; i++)
        b->labels[i] = i % FZ_CLASSES;
    return 1;
}

static void bench_close(bench *b)
{
    free(b->before);
    optim_free(&b->o);
    model_free(&b->m);
}

static void bench_snapshot(bench *b)
{
    free(b->before);
    b->before = malloc(b->m.nfloat * sizeof(float));
    memcpy(b->before, b->m.param, b->m.nfloat * sizeof(float));
}

/* One forward and backward; the gradient is left in m.grad. */
static void bench_grad(bench *b, int train)
{
    model_zero_grad(&b->m);
    model_forward(&b->m, b->x, FZ_BATCH, train);
    loss_softmax_xent(b->m.root->dy, b->m.root->y, b->labels, FZ_BATCH, FZ_CLASSES);
    model_backward(&b->m, b->x, FZ_BATCH);
}

static void bench_train(bench *b, int steps)
{
    for (int i = 0; i < steps; i++) {
        bench_grad(b, 1);
        optim_step(&b->o, &b->m, 1.0f);
    }
}

static int slice_moved(const bench *b, const param_slice *s)
{
    return memcmp(b->before + s->off, b->m.param + s->off, s->len * sizeof(float)) != 0;
}

static int slice_has_grad(const bench *b, const param_slice *s)
{
    for (size_t i = 0; i < s->len; i++)
        if (b->m.grad[s->off + i] != 0.0f)
            return 1;
    return 0;
}

static int under(const param_slice *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return !strncmp(s->name, prefix, n) && s->name[n] == '.';
}

void test_freeze_keeps_parameters_and_statistics(void)
{
    bench b;
    float *train_y = NULL;
    if (!bench_open(&b, 0))
        return;
    EXPECT(b.m.train_bn == 0);
    model_freeze(&b.m, model_find(&b.m, "stem"), 1);
    model_freeze(&b.m, model_find(&b.m, "stage1"), 1);
    bench_snapshot(&b);
    bench_train(&b, 4);
    for (int i = 0; i < b.m.nslice; i++) {
        const param_slice *s = &b.m.slice[i];
        int frozen = under(s, "stem") || under(s, "stage1");
        if (frozen) {
            EXPECTF(s->frozen, "%s is not marked frozen", s->name);
            EXPECTF(!slice_moved(&b, s), "frozen %s changed", s->name);
            EXPECTF(!slice_has_grad(&b, s), "frozen %s has a gradient", s->name);
        } else {
            EXPECTF(!s->frozen, "%s is marked frozen", s->name);
            EXPECTF(slice_moved(&b, s), "trainable %s did not change", s->name);
        }
    }
    EXPECT(model_slice(&b.m, "stem.1.running_mean")->frozen);
    EXPECT(model_slice(&b.m, "stage1.bn2.running_var")->frozen);

    /* A frozen BatchNorm normalises with its running statistics in training
     * as in evaluation, so the frozen stem computes exactly the same. */
    layer *stem = model_find(&b.m, "stem"), *stage1 = model_find(&b.m, "stage1");
    size_t n = (size_t)FZ_BATCH * shape3_count(stage1->out);
    EXPECT(stem->trainable == 0 && stage1->trainable == 0);
    train_y = malloc(n * sizeof(float));
    model_forward(&b.m, b.x, FZ_BATCH, 1);
    memcpy(train_y, stage1->y, n * sizeof(float));
    model_forward(&b.m, b.x, FZ_BATCH, 0);
    EXPECTF(!memcmp(train_y, stage1->y, n * sizeof(float)),
            "frozen layers compute differently in training and evaluation");
done:
    free(train_y);
    bench_close(&b);
}

/* Frozen layers between trainable ones pass gradients through without
 * computing their own: stage2 and the head frozen, the rest training. */
void test_freeze_middle_passes_gradients(void)
{
    bench b;
    if (!bench_open(&b, 0))
        return;
    model_freeze(&b.m, model_find(&b.m, "stage2"), 1);
    model_freeze(&b.m, model_find(&b.m, "head"), 1);
    layer *s2 = model_find(&b.m, "stage2"), *head = model_find(&b.m, "head");
    EXPECT(!s2->trainable && s2->need_dx && !head->trainable && head->need_dx);
    EXPECT(model_find(&b.m, "stage2.conv1")->need_dx && model_find(&b.m, "stage2.proj.0")->need_dx);
    bench_snapshot(&b);
    bench_train(&b, 3);
    for (int i = 0; i < b.m.nslice; i++) {
        const param_slice *s = &b.m.slice[i];
        int frozen = under(s, "stage2") || under(s, "head");
        EXPECTF(slice_has_grad(&b, s) == (!frozen && s->kind != PARAM_STAT), "%s: gradient %s",
                s->name, frozen ? "present" : "missing");
        EXPECTF(slice_moved(&b, s) == !frozen, "%s %s", s->name, frozen ? "changed" : "did not change");
    }
done:
    bench_close(&b);
}

/* Slices frozen by hand, one by one: training only the biases (BitFit)
 * gives every bias a gradient, BatchNorm shifts included, and moves nothing
 * else. */
void test_freeze_by_hand_biases_only(void)
{
    bench b;
    if (!bench_open(&b, 0))
        return;
    model_freeze(&b.m, b.m.root, 1);
    for (int i = 0; i < b.m.nslice; i++) {
        size_t n = strlen(b.m.slice[i].name);
        if (n > 5 && !strcmp(b.m.slice[i].name + n - 5, ".bias"))
            b.m.slice[i].frozen = 0;
    }
    model_refresh(&b.m);
    EXPECT(model_find(&b.m, "stem")->trainable && model_find(&b.m, "stem.1")->trainable);
    EXPECT(!model_find(&b.m, "stem.0")->trainable && !model_find(&b.m, "stem.0")->need_dx);
    bench_snapshot(&b);
    bench_train(&b, 2);
    for (int i = 0; i < b.m.nslice; i++) {
        const param_slice *s = &b.m.slice[i];
        EXPECTF(slice_has_grad(&b, s) == !s->frozen, "%s: gradient %s", s->name,
                s->frozen ? "present" : "missing");
        EXPECTF(slice_moved(&b, s) == !s->frozen, "%s %s", s->name, s->frozen ? "changed" : "did not change");
    }
done:
    bench_close(&b);
}

/* train_bn: freezing stage1 leaves its BatchNorm layers learning, their
 * running statistics moving; freezing a BatchNorm itself still freezes it. */
void test_freeze_train_bn(void)
{
    bench b;
    if (!bench_open(&b, 1))
        return;
    model_freeze(&b.m, model_find(&b.m, "stage1"), 1);
    model_freeze(&b.m, model_find(&b.m, "stem.1"), 1);
    bench_snapshot(&b);
    bench_train(&b, 4);
    static const struct { const char *name; int frozen; } want[] = {
        { "stage1.conv1.weight", 1 },
        { "stage1.conv2.weight", 1 },
        { "stage1.bn1.weight", 0 },
        { "stage1.bn1.bias", 0 },
        { "stage1.bn1.running_mean", 0 },
        { "stage1.bn1.running_var", 0 },
        { "stage1.bn2.weight", 0 },
        { "stage1.bn2.running_mean", 0 },
        { "stem.1.weight", 1 },
        { "stem.1.running_mean", 1 },
        { "stem.1.running_var", 1 },
        { "stem.0.weight", 0 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const param_slice *s = model_slice(&b.m, want[i].name);
        EXPECTF(s, "no slice %s", want[i].name);
        EXPECTF(s->frozen == want[i].frozen, "%s: frozen is %d", s->name, s->frozen);
        EXPECTF(slice_moved(&b, s) == !want[i].frozen, "%s %s", s->name,
                want[i].frozen ? "changed" : "did not change");
    }
    EXPECT(model_find(&b.m, "stage1")->trainable);

    /* Thawing undoes it all. */
    model_freeze(&b.m, model_find(&b.m, "stage1"), 0);
    model_freeze(&b.m, model_find(&b.m, "stem.1"), 0);
    EXPECT(model_count(&b.m, 1) == model_count(&b.m, 0));
done:
    bench_close(&b);
}

/* Whether path lies in the subtree at t or on the way to it. */
static int related(const char *path, const char *t)
{
    size_t np = strlen(path), nt = strlen(t);
    if (np >= nt)
        return !strncmp(path, t, nt) && (path[nt] == '\0' || path[nt] == '.');
    return np == 0 || (!strncmp(t, path, np) && t[np] == '.');
}

/* Every node with parameters is trainable exactly when it holds or lies
 * inside one of the subtrees listed in `training`; a leaf without (a ReLU)
 * never is. */
static void expect_flags(const layer *l, const char *const *training, int n, int *errors)
{
    int trains = 0;
    for (int i = 0; i < n && (l->nslice || l->nchild); i++)
        trains |= related(l->path, training[i]);
    if (l->trainable != trains) {
        test_failed(__FILE__, __LINE__, "%s: trainable is %d", l->path[0] ? l->path : "model",
                    l->trainable);
        (*errors)++;
    }
    for (int i = 0; i < l->nchild; i++)
        expect_flags(l->child[i], training, n, errors);
}

/* Fills every output gradient buffer in l's subtree other than keep with a
 * sentinel (counting the floats), or counts the floats that lost it. */
static size_t sentinel(layer *l, const float *keep, int batch, int fill)
{
    size_t n = 0;
    if (l->dy && l->dy != keep) {
        size_t len = (size_t)batch * shape3_count(l->out);
        for (size_t i = 0; i < len; i++) {
            if (fill)
                l->dy[i] = 1234.5f;
            n += fill || l->dy[i] != 1234.5f;
        }
    }
    for (int i = 0; i < l->nchild; i++)
        n += sentinel(l->child[i], keep, batch, fill);
    return n;
}

/* Everything frozen but the head: the head computes its weight gradient and
 * nothing else runs; no input gradient is written anywhere. */
void test_freeze_backward_stops_at_head(void)
{
    bench b;
    float *frozen_grad = NULL;
    if (!bench_open(&b, 0))
        return;
    model_freeze(&b.m, b.m.root, 1);
    model_freeze(&b.m, model_find(&b.m, "head"), 0);
    static const char *const training[] = { "head" };
    int errors = 0;
    expect_flags(b.m.root, training, 1, &errors);
    EXPECT(errors == 0);
    layer *head = model_find(&b.m, "head");
    EXPECT(head->trainable && !head->need_dx);
    EXPECT(!model_find(&b.m, "pool")->need_dx && !model_find(&b.m, "stage3")->need_dx);
    EXPECT(!model_find(&b.m, "stage3.conv1")->need_dx && !model_find(&b.m, "stem.0")->need_dx);

    model_zero_grad(&b.m);
    model_forward(&b.m, b.x, FZ_BATCH, 0);
    loss_softmax_xent(head->dy, head->y, b.labels, FZ_BATCH, FZ_CLASSES);
    EXPECT(sentinel(b.m.root, head->dy, FZ_BATCH, 1) > 0);
    model_backward(&b.m, b.x, FZ_BATCH);
    size_t touched = sentinel(b.m.root, head->dy, FZ_BATCH, 0);
    EXPECTF(touched == 0, "backward wrote %zu floats below the head", touched);
    for (int i = 0; i < b.m.nslice; i++) {
        const param_slice *s = &b.m.slice[i];
        EXPECTF(slice_has_grad(&b, s) == under(s, "head"), "%s: gradient %s", s->name,
                under(s, "head") ? "missing" : "present");
    }
    frozen_grad = malloc(b.m.nfloat * sizeof(float));
    memcpy(frozen_grad, b.m.grad, b.m.nfloat * sizeof(float));

    /* With everything thawed the head's gradient is the same: stopping early
     * changes no number above the stop. Evaluation mode, so that BatchNorm
     * computes the same in both. */
    model_freeze(&b.m, b.m.root, 0);
    bench_grad(&b, 0);
    const param_slice *w = model_slice(&b.m, "head.weight"), *bias = model_slice(&b.m, "head.bias");
    EXPECTF(!memcmp(frozen_grad + w->off, b.m.grad + w->off, w->len * sizeof(float)) &&
            !memcmp(frozen_grad + bias->off, b.m.grad + bias->off, bias->len * sizeof(float)),
            "the head's gradient depends on what is frozen below it");
    EXPECT(model_find(&b.m, "stage3")->need_dx && model_find(&b.m, "stem.1")->need_dx);
    EXPECT(!model_find(&b.m, "stem.0")->need_dx);
done:
    free(frozen_grad);
    bench_close(&b);
}

/* Frozen up to stage2: stage3 trains but needs no input gradient, so
 * nothing is written into stage2's output gradient; inside stage3 the layers
 * after conv1 pass gradients back to it. */
void test_freeze_backward_stops_in_block(void)
{
    bench b;
    if (!bench_open(&b, 0))
        return;
    model_freeze(&b.m, model_find(&b.m, "stem"), 1);
    model_freeze(&b.m, model_find(&b.m, "stage1"), 1);
    model_freeze(&b.m, model_find(&b.m, "stage2"), 1);
    static const char *const training[] = { "stage3", "head" };   /* pool has no parameters */
    int errors = 0;
    expect_flags(b.m.root, training, 2, &errors);
    EXPECT(errors == 0);
    layer *s3 = model_find(&b.m, "stage3");
    EXPECT(s3->trainable && !s3->need_dx);
    EXPECT(!model_find(&b.m, "stage3.conv1")->need_dx);
    EXPECT(!model_find(&b.m, "stage3.proj")->need_dx && !model_find(&b.m, "stage3.proj.0")->need_dx);
    EXPECT(model_find(&b.m, "stage3.bn1")->need_dx && model_find(&b.m, "stage3.conv2")->need_dx);
    EXPECT(model_find(&b.m, "stage3.proj.1")->need_dx);
    EXPECT(model_find(&b.m, "pool")->need_dx && model_find(&b.m, "head")->need_dx);

    layer *s2 = model_find(&b.m, "stage2");
    for (int i = 0; i < 2; i++) {
        model_zero_grad(&b.m);
        model_forward(&b.m, b.x, FZ_BATCH, 1);
        loss_softmax_xent(b.m.root->dy, b.m.root->y, b.labels, FZ_BATCH, FZ_CLASSES);
        EXPECT(sentinel(s2, NULL, FZ_BATCH, 1) > 0);
        model_backward(&b.m, b.x, FZ_BATCH);
        EXPECTF(sentinel(s2, NULL, FZ_BATCH, 0) == 0, "backward wrote into stage2");
        for (int k = 0; k < b.m.nslice; k++) {
            const param_slice *s = &b.m.slice[k];
            int trains = s->kind != PARAM_STAT && !under(s, "stem") && !under(s, "stage1") &&
                         !under(s, "stage2");
            EXPECTF(slice_has_grad(&b, s) == trains, "%s: gradient %s", s->name,
                    trains ? "missing" : "present");
        }
        optim_step(&b.o, &b.m, 1.0f);
    }
done:
    bench_close(&b);
}

/* Nothing trains: backward does nothing at all. */
void test_freeze_all_no_backward(void)
{
    bench b;
    if (!bench_open(&b, 0))
        return;
    model_freeze(&b.m, b.m.root, 1);
    EXPECT(!b.m.root->trainable);
    EXPECT(model_count(&b.m, 1) == 0);
    model_zero_grad(&b.m);
    model_forward(&b.m, b.x, FZ_BATCH, 1);
    loss_softmax_xent(b.m.root->dy, b.m.root->y, b.labels, FZ_BATCH, FZ_CLASSES);
    EXPECT(sentinel(b.m.root, b.m.root->dy, FZ_BATCH, 1) > 0);
    bench_snapshot(&b);
    model_backward(&b.m, b.x, FZ_BATCH);
    optim_step(&b.o, &b.m, 1.0f);
    size_t touched = sentinel(b.m.root, b.m.root->dy, FZ_BATCH, 0);
    int moved = memcmp(b.before, b.m.param, b.m.nfloat * sizeof(float)) != 0;
    int grad = 0;
    for (size_t i = 0; i < b.m.nfloat; i++)
        grad |= b.m.grad[i] != 0.0f;
    EXPECTF(touched == 0, "backward wrote %zu floats", touched);
    EXPECT(!moved && !grad);
done:
    bench_close(&b);
}
