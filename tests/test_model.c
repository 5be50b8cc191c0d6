/* test_model.c — building, shapes, freezing and training the whole model. */
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "test.h"

void test_reference_net_trains(void)
{
    thaw_err err = {0};
    model m;
    int B = 16;
    CHECKF(model_build(&m, mf_reference_net(1, 10, &err), (shape3){ 1, 28, 28 }, 1, &err) == THAW_OK, "%s", err.msg);
    CHECKF(model_prepare(&m, B, &err) == THAW_OK, "%s", err.msg);
    optim o;
    CHECK(optim_init(&o, &m, OPTIM_SGD, &err) == THAW_OK);
    o.momentum = 0.9f;
    float *x = malloc(sizeof(float) * B * 784);
    int labels[16];
    rng r = rng_seeded(3);
    for (int i = 0; i < B * 784; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        labels[i] = i % 10;
    float first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
        model_zero_grad(&m);
        model_forward(&m, x, B, 1);
        float loss = loss_softmax_xent(m.root->dy, m.root->y, labels, B, 10);
        model_backward(&m, x, B);
        optim_step(&o, &m, 1.0f);
        if (step == 0)
            first = loss;
        last = loss;
    }
    free(x);
    optim_free(&o);
    model_free(&m);
    CHECKF(last < first * 0.5f, "loss went from %g to %g", first, last);
}

/* conv-bn-relu-maxpool-flatten-linear on 1x8x8 images, four classes. */
static int overfit_model(model *m, int with_dropout, unsigned long long seed, int batch)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    if (!root || layer_add(root, conv2d_new("conv", 1, 8, 3, 1, 1, 0), &err) ||
        layer_add(root, batchnorm2d_new("bn", 8, 1e-5f, 0.1f), &err) ||
        layer_add(root, relu_new("relu"), &err) ||
        layer_add(root, maxpool2d_new("pool", 2, 2, 0), &err) ||
        layer_add(root, flatten_new("flat"), &err) ||
        (with_dropout && layer_add(root, dropout_new("drop", 0.25f), &err)) ||
        layer_add(root, linear_new("head", 128, 4, 1), &err) ||
        model_build(m, root, (shape3){ 1, 8, 8 }, seed, &err) || model_prepare(m, batch, &err)) {
        test_failed(__FILE__, __LINE__, "%s", root ? err.msg : "out of memory");
        return 0;
    }
    return 1;
}

/* 32 random images with random labels: nothing to learn but the samples
 * themselves, so reaching every one checks the whole gradient path. */
void test_model_overfits_32_samples(void)
{
    enum { N = 32, CLASSES = 4 };
    model m;
    if (!overfit_model(&m, 0, 21, N))
        return;
    optim o;
    thaw_err err = {0};
    if (optim_init(&o, &m, OPTIM_SGD, &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        model_free(&m);
        return;
    }
    o.momentum = 0.9f;
    model_set_lr(&m, m.root, 0.05f);
    float x[N * 64];
    int labels[N];
    rng r = rng_seeded(12);
    for (int i = 0; i < N * 64; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < N; i++)
        labels[i] = (int)(rng_next(&r) % CLASSES);
    int correct = 0, steps = 0;
    float loss = 0.0f;
    while (steps < 300 && correct < N) {
        model_zero_grad(&m);
        model_forward(&m, x, N, 1);
        loss = loss_softmax_xent(m.root->dy, m.root->y, labels, N, CLASSES);
        correct = loss_correct(m.root->y, labels, N, CLASSES);
        model_backward(&m, x, N);
        optim_step(&o, &m, 1.0f);
        steps++;
    }
    /* A few more steps, then the evaluation pass (running statistics) must
     * agree. */
    for (int i = 0; i < 50; i++) {
        model_zero_grad(&m);
        model_forward(&m, x, N, 1);
        loss_softmax_xent(m.root->dy, m.root->y, labels, N, CLASSES);
        model_backward(&m, x, N);
        optim_step(&o, &m, 1.0f);
    }
    model_forward(&m, x, N, 0);
    int eval_correct = loss_correct(m.root->y, labels, N, CLASSES);
    optim_free(&o);
    model_free(&m);
    CHECKF(correct == N, "%d of %d right after %d steps, loss %g", correct, N, steps, loss);
    CHECKF(eval_correct == N, "evaluation: %d of %d right", eval_correct, N);
}

/* Trains `steps` steps (dropout included) and returns the parameter block. */
static float *train_copy(unsigned long long seed, int steps, size_t *n)
{
    enum { B = 8 };
    model m;
    if (!overfit_model(&m, 1, seed, B))
        return NULL;
    optim o;
    thaw_err err = {0};
    if (optim_init(&o, &m, OPTIM_ADAMW, &err) != THAW_OK) {
        model_free(&m);
        return NULL;
    }
    float x[B * 64];
    int labels[B];
    rng r = rng_seeded(77);
    for (int i = 0; i < B * 64; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        labels[i] = i % 4;
    for (int i = 0; i < steps; i++) {
        model_zero_grad(&m);
        model_forward(&m, x, B, 1);
        loss_softmax_xent(m.root->dy, m.root->y, labels, B, 4);
        model_backward(&m, x, B);
        optim_step(&o, &m, 1.0f);
    }
    float *copy = malloc(m.nfloat * sizeof(float));
    memcpy(copy, m.param, m.nfloat * sizeof(float));
    *n = m.nfloat;
    optim_free(&o);
    model_free(&m);
    return copy;
}

void test_model_deterministic(void)
{
    /* At initialisation, then after training with dropout. */
    for (int steps = 0; steps <= 6; steps += 6) {
        size_t na = 0, nb = 0, nc = 0;
        float *a = train_copy(5, steps, &na), *b = train_copy(5, steps, &nb), *c = train_copy(6, steps, &nc);
        int ok = a && b && c && na == nb && na == nc;
        int same = ok && !memcmp(a, b, na * sizeof(float));
        int differ = ok && memcmp(a, c, na * sizeof(float)) != 0;
        free(a);
        free(b);
        free(c);
        CHECK(ok);
        CHECKF(same, "after %d steps the same seed gave different parameters", steps);
        CHECKF(differ, "after %d steps different seeds gave the same parameters", steps);
    }

    /* The dropout masks follow the seed too: the same initial weights with
     * generators seeded apart train apart. */
    model m1, m2;
    if (!overfit_model(&m1, 1, 5, 8))
        return;
    if (!overfit_model(&m2, 1, 5, 8)) {
        model_free(&m1);
        return;
    }
    m2.rng = rng_seeded(1234);
    float x[8 * 64];
    rng r = rng_seeded(1);
    for (int i = 0; i < 8 * 64; i++)
        x[i] = rng_normal(&r);
    model_forward(&m1, x, 8, 1);
    model_forward(&m2, x, 8, 1);
    int masks_differ = memcmp(m1.root->y, m2.root->y, 8 * 4 * sizeof(float)) != 0;
    model_free(&m1);
    model_free(&m2);
    CHECK(masks_differ);
}

/* Dotted paths and PyTorch's parameter names. */
void test_model_names(void)
{
    thaw_err err = {0};
    model m;
    CHECKF(model_build(&m, mf_reference_net(3, 10, &err), (shape3){ 3, 16, 16 }, 1, &err) == THAW_OK,
           "%s", err.msg);
    static const struct { const char *name; int ndim, dim0, kind; } want[] = {
        { "stem.0.weight", 4, 32, PARAM_WEIGHT },
        { "stem.1.weight", 1, 32, PARAM_BN },
        { "stem.1.running_var", 1, 32, PARAM_STAT },
        { "stage1.conv1.weight", 4, 32, PARAM_WEIGHT },
        { "stage2.proj.0.weight", 4, 64, PARAM_WEIGHT },
        { "stage2.proj.1.running_mean", 1, 64, PARAM_STAT },
        { "stage3.bn2.bias", 1, 128, PARAM_BN },
        { "head.weight", 2, 10, PARAM_WEIGHT },
        { "head.bias", 1, 10, PARAM_BIAS },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const param_slice *s = model_slice(&m, want[i].name);
        EXPECTF(s, "no slice %s", want[i].name);
        EXPECTF(s->ndim == want[i].ndim && s->dim[0] == want[i].dim0 && s->kind == want[i].kind &&
                s->lr == 0.01f && !s->frozen, "%s", s->name);
    }
    EXPECT(model_slice(&m, "stage1.proj.0.weight") == NULL);
    EXPECT(model_find(&m, "") == m.root);
    layer *proj = model_find(&m, "stage2.proj.1");
    EXPECT(proj && !strcmp(proj->path, "stage2.proj.1"));
    EXPECT(model_find(&m, "stage2.proj.2") == NULL && model_find(&m, "stage") == NULL);
    EXPECT(m.classes == 10);
    /* 3·32·9 + 32·2 + 2·(32·32·9 + 32·2) + ... as torchvision counts them. */
    size_t want_count = 3 * 32 * 9 + 64 + 2 * (32 * 32 * 9 + 64) +
                        (32 * 64 * 9 + 64 * 64 * 9 + 2 * 128 + 32 * 64 + 128) +
                        (64 * 128 * 9 + 128 * 128 * 9 + 2 * 256 + 64 * 128 + 256) + 128 * 10 + 10;
    EXPECTF(model_count(&m, 1) == want_count, "%zu trainable, expected %zu", model_count(&m, 1),
            want_count);
done:
    model_free(&m);
}
