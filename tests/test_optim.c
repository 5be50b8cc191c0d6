/* test_optim.c — the optimizers against PyTorch's update rules, worked out
 * here in double, and per-slice learning rates applied exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "modelfile.h"
#include "optim.h"
#include "test.h"

/* sequential(linear 3->2 with bias): slices fc.weight (6) and fc.bias (2). */
static int small_model(model *m)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    if (!root || layer_add(root, linear_new("fc", 3, 2, 1), &err) ||
        model_build(m, root, (shape3){ 3, 1, 1 }, 1, &err)) {
        if (!root)
            test_failed(__FILE__, __LINE__, "out of memory");
        else
            test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

enum { OPT_N = 8, OPT_STEPS = 5 };

/* Starting weights away from zero, so that relative errors mean something,
 * and per-step gradients that change sign and size. */
static const float opt_w0[OPT_N] = { 0.8f, -1.3f, 1.9f, -0.6f, 1.1f, -1.7f, 0.9f, -0.7f };
static const float opt_g[OPT_N] = { 0.3f, -0.8f, 0.05f, 1.0f, -0.4f, 0.6f, -0.2f, 0.9f };
static const float opt_scale[OPT_STEPS] = { 1.0f, 0.5f, 1.0f, 0.25f, 1.0f };

static float opt_grad(int i, int t)
{
    return opt_g[i] * (1.0f + 0.25f * (float)t) * (t % 3 == 2 ? -1.0f : 1.0f);
}

/* Copies opt_w0 into the model's slices (weight, then bias) and gives the
 * two slices different learning rates. Returns each float's slice lr. */
static void opt_setup(model *m, float lr_weight, float lr_bias, float *lr)
{
    m->slice[0].lr = lr_weight;
    m->slice[1].lr = lr_bias;
    for (int i = 0; i < OPT_N; i++) {
        int s = i < 6 ? 0 : 1;
        model_param(m, s)[i < 6 ? i : i - 6] = opt_w0[i];
        lr[i] = m->slice[s].lr;
    }
}

static float *opt_at(model *m, int i, int grad)
{
    int s = i < 6 ? 0 : 1;
    return (grad ? model_grad(m, s) : model_param(m, s)) + (i < 6 ? i : i - 6);
}

static int close_rel(double got, double want)
{
    return fabs(got - want) <= 1e-6 * fabs(want);
}

typedef struct sgd_case {
    float momentum, weight_decay;
    int nesterov;
} sgd_case;

/* torch.optim.SGD, dampening 0: d = g + wd·w; buf = μ·buf + d (buf = d at
 * the first step); d = d + μ·buf with Nesterov, else buf; w -= lr·d. */
static void sgd_case_run(sgd_case c)
{
    model m;
    optim o;
    thaw_err err = {0};
    if (!small_model(&m))
        return;
    if (optim_init(&o, &m, OPTIM_SGD, &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        model_free(&m);
        return;
    }
    o.momentum = c.momentum;
    o.weight_decay = c.weight_decay;
    o.nesterov = c.nesterov;
    float lr[OPT_N];
    opt_setup(&m, 0.01f, 0.02f, lr);
    double w[OPT_N], buf[OPT_N] = { 0 };
    for (int i = 0; i < OPT_N; i++)
        w[i] = opt_w0[i];
    double mu = c.momentum, wd = c.weight_decay;
    int bad = -1;
    for (int t = 0; t < OPT_STEPS && bad < 0; t++) {
        for (int i = 0; i < OPT_N; i++)
            *opt_at(&m, i, 1) = opt_grad(i, t);
        optim_step(&o, &m, opt_scale[t]);
        for (int i = 0; i < OPT_N; i++) {
            double d = opt_grad(i, t) + wd * w[i];
            if (mu != 0.0) {
                buf[i] = t == 0 ? d : mu * buf[i] + d;
                d = c.nesterov ? d + mu * buf[i] : buf[i];
            }
            w[i] -= (double)lr[i] * opt_scale[t] * d;
            if (bad < 0 && !close_rel(*opt_at(&m, i, 0), w[i])) {
                bad = i;
                test_failed(__FILE__, __LINE__, "SGD momentum %g nesterov %d wd %g, step %d: "
                            "w[%d] is %.9g, PyTorch's rule gives %.9g", mu, c.nesterov, wd,
                            t + 1, i, *opt_at(&m, i, 0), w[i]);
            }
        }
    }
    optim_free(&o);
    model_free(&m);
}

void test_optim_sgd_matches_pytorch(void)
{
    sgd_case_run((sgd_case){ 0.0f, 0.0f, 0 });
    sgd_case_run((sgd_case){ 0.0f, 0.05f, 0 });
    sgd_case_run((sgd_case){ 0.9f, 0.0f, 0 });
    sgd_case_run((sgd_case){ 0.9f, 0.01f, 1 });
    sgd_case_run((sgd_case){ 0.5f, 0.1f, 0 });
}

/* torch.optim.AdamW: w *= 1 - lr·wd; m = β1·m + (1-β1)·g;
 * v = β2·v + (1-β2)·g²; w -= lr·(m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + eps),
 * t counting the updates this parameter has taken. The bias (slice 1) is
 * frozen before step `thaw` (1-based): PyTorch skips a parameter without a
 * gradient, and its t starts when it first moves. */
static void adamw_case_run(float beta1, float beta2, float wd, int thaw)
{
    model m;
    optim o;
    thaw_err err = {0};
    if (!small_model(&m))
        return;
    if (optim_init(&o, &m, OPTIM_ADAMW, &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        model_free(&m);
        return;
    }
    o.beta1 = beta1;
    o.beta2 = beta2;
    o.weight_decay = wd;
    float lr[OPT_N];
    opt_setup(&m, 0.01f, 0.03f, lr);
    double w[OPT_N], m1[OPT_N] = { 0 }, m2[OPT_N] = { 0 };
    int taken[OPT_N] = { 0 };
    for (int i = 0; i < OPT_N; i++)
        w[i] = opt_w0[i];
    double b1 = beta1, b2 = beta2, eps = o.eps;
    int bad = -1;
    for (int t = 0; t < OPT_STEPS && bad < 0; t++) {
        m.slice[1].frozen = t + 1 < thaw;
        for (int i = 0; i < OPT_N; i++)
            *opt_at(&m, i, 1) = opt_grad(i, t);
        optim_step(&o, &m, opt_scale[t]);
        for (int i = 0; i < OPT_N; i++) {
            if (i >= 6 && m.slice[1].frozen)
                continue;
            int k = ++taken[i];
            double g = opt_grad(i, t), step_lr = (double)lr[i] * opt_scale[t];
            w[i] *= 1.0 - step_lr * wd;
            m1[i] = b1 * m1[i] + (1.0 - b1) * g;
            m2[i] = b2 * m2[i] + (1.0 - b2) * g * g;
            double mhat = m1[i] / (1.0 - pow(b1, k)), vhat = m2[i] / (1.0 - pow(b2, k));
            w[i] -= step_lr * mhat / (sqrt(vhat) + eps);
        }
        for (int i = 0; i < OPT_N && bad < 0; i++)
            if (!close_rel(*opt_at(&m, i, 0), w[i])) {
                bad = i;
                test_failed(__FILE__, __LINE__, "AdamW betas %g %g wd %g, bias thawed at step %d, "
                            "step %d: w[%d] is %.9g, PyTorch's rule gives %.9g", b1, b2, (double)wd,
                            thaw, t + 1, i, *opt_at(&m, i, 0), w[i]);
            }
    }
    optim_free(&o);
    model_free(&m);
}

void test_optim_adamw_matches_pytorch(void)
{
    adamw_case_run(0.9f, 0.999f, 0.01f, 0);
    adamw_case_run(0.8f, 0.99f, 0.0f, 0);
    adamw_case_run(0.5f, 0.9f, 0.1f, 0);
}

/* Gradual unfreezing: a slice thawed after some steps starts its own bias
 * correction, as a PyTorch parameter that gets its first gradient does. */
void test_optim_adamw_thawed_slice(void)
{
    adamw_case_run(0.9f, 0.999f, 0.01f, 4);
}

void test_optim_defaults(void)
{
    model m;
    optim o = { 0 };
    thaw_err err = {0};
    if (!small_model(&m))
        return;
    EXPECT(optim_init(&o, &m, OPTIM_SGD, &err) == THAW_OK);
    EXPECT(o.kind == OPTIM_SGD && o.momentum == 0.0f && !o.nesterov && o.weight_decay == 0.0f &&
           o.steps == 0 && o.n == m.nfloat);
    optim_free(&o);
    EXPECT(optim_init(&o, &m, OPTIM_ADAMW, &err) == THAW_OK);
    EXPECT(o.kind == OPTIM_ADAMW && o.beta1 == 0.9f && o.beta2 == 0.999f && o.eps == 1e-8f &&
           o.weight_decay == 0.01f && o.steps == 0);
    EXPECT(m.slice[0].lr == 0.01f && m.slice[1].lr == 0.01f);
done:
    optim_free(&o);
    model_free(&m);
}

/* One plain SGD step moves every slice by exactly -lr·g at its own rate. */
void test_optim_per_slice_lr(void)
{
    enum { B = 4, CLASSES = 3 };
    thaw_err err = {0};
    model m;
    optim o = { 0 };
    float *w = NULL, *g = NULL;
    CHECKF(model_build(&m, mf_reference_net(1, CLASSES, &err), (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK,
           "%s", err.msg);
    EXPECTF(model_prepare(&m, B, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(optim_init(&o, &m, OPTIM_SGD, &err) == THAW_OK, "%s", err.msg);
    static const struct { const char *node; float lr; } rates[] = {
        { "stem", 0.1f },
        { "stage1", 0.03f },
        { "stage2", 0.007f },
        { "stage2.bn2", 0.3f },
        { "stage3", 0.0f },
        { "head", 0.013f },
    };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        model_set_lr(&m, model_find(&m, rates[i].node), rates[i].lr);
    EXPECT(model_slice(&m, "stage2.bn2.weight")->lr == 0.3f);
    EXPECT(model_slice(&m, "stage2.conv2.weight")->lr == 0.007f);
    EXPECT(model_slice(&m, "stage2.proj.0.weight")->lr == 0.007f);
    model_freeze(&m, model_find(&m, "stage1.conv2"), 1);
    model_set_lr(&m, model_find(&m, "stage1.conv2"), 0.5f);

    float x[B * 64];
    int labels[B] = { 0, 1, 2, 1 };
    rng r = rng_seeded(4);
    for (int i = 0; i < B * 64; i++)
        x[i] = rng_normal(&r);
    w = malloc(m.nfloat * sizeof(float));
    g = malloc(m.nfloat * sizeof(float));
    static const float scale[2] = { 1.0f, 0.5f };
    for (int step = 0; step < 2; step++) {
        model_zero_grad(&m);
        model_forward(&m, x, B, 1);
        loss_softmax_xent(m.root->dy, m.root->y, labels, B, CLASSES);
        model_backward(&m, x, B);
        memcpy(w, m.param, m.nfloat * sizeof(float));
        memcpy(g, m.grad, m.nfloat * sizeof(float));
        optim_step(&o, &m, scale[step]);
        for (int s = 0; s < m.nslice; s++) {
            const param_slice *p = &m.slice[s];
            int still = p->frozen || p->kind == PARAM_STAT || p->lr == 0.0f;
            float lr = p->lr * scale[step];
            for (size_t i = p->off; i < p->off + p->len; i++) {
                /* Two statements, so that no compiler fuses them. */
                float step_size = lr * g[i];
                float want = still ? w[i] : w[i] - step_size;
                EXPECTF(!memcmp(&m.param[i], &want, sizeof want), "step %d, %s[%zu]: %.9g, expected %.9g",
                        step + 1, p->name, i - p->off, m.param[i], want);
            }
            EXPECTF(still || memcmp(w + p->off, m.param + p->off, p->len * sizeof(float)),
                    "%s did not move", p->name);
        }
    }
done:
    free(w);
    free(g);
    optim_free(&o);
    model_free(&m);
}

/* Running statistics and frozen slices never move, even with weight decay
 * and a gradient in their place. */
void test_optim_skips_statistics_and_frozen(void)
{
    thaw_err err = {0};
    for (int kind = 0; kind < 2; kind++) {
        model m;
        optim o = { 0 };
        layer *root = sequential_new("net");
        CHECK(root);
        if (layer_add(root, conv2d_new("conv", 1, 2, 3, 1, 1, 1), &err) ||
            layer_add(root, batchnorm2d_new("bn", 2, 1e-5f, 0.1f), &err) ||
            layer_add(root, avgpool_new("pool"), &err) ||
            layer_add(root, linear_new("fc", 2, 2, 1), &err)) {
            layer_free(root);
            CHECKF(0, "%s", err.msg);
        }
        CHECKF(model_build(&m, root, (shape3){ 1, 4, 4 }, 2, &err) == THAW_OK, "%s", err.msg);
        model_freeze(&m, model_find(&m, "conv"), 1);
        EXPECT(optim_init(&o, &m, kind ? OPTIM_ADAMW : OPTIM_SGD, &err) == THAW_OK);
        o.weight_decay = 0.1f;
        o.momentum = 0.9f;
        for (size_t i = 0; i < m.nfloat; i++) {
            m.param[i] = 0.5f;
            m.grad[i] = 0.25f;
        }
        optim_step(&o, &m, 1.0f);
        optim_step(&o, &m, 1.0f);
        EXPECT(model_slice(&m, "bn.running_mean")->kind == PARAM_STAT);
        for (int s = 0; s < m.nslice; s++) {
            const param_slice *p = &m.slice[s];
            int still = p->frozen || p->kind == PARAM_STAT;
            for (size_t i = p->off; i < p->off + p->len; i++)
                EXPECTF((m.param[i] == 0.5f) == still, "%s: %s[%zu] is %g", kind ? "AdamW" : "SGD",
                        p->name, i - p->off, m.param[i]);
        }
    done:
        optim_free(&o);
        model_free(&m);
        if (test_has_failed())
            return;
    }
}

/* sequential(embedding 40x3, seqmean, linear 3->2) on 4 ids. */
static int text_model(model *m)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    if (!root || layer_add(root, embedding_new("emb", 40, 3, 0), &err) ||
        layer_add(root, seqmean_new("mean"), &err) || layer_add(root, linear_new("fc", 3, 2, 1), &err) ||
        model_build(m, root, (shape3){ 1, 1, 4 }, 1, &err) || model_prepare(m, 2, &err)) {
        test_failed(__FILE__, __LINE__, "%s", root ? err.msg : "out of memory");
        return 0;
    }
    return 1;
}

/* One training step on ids x (2 samples of 4). */
static void text_step(model *m, optim *o, const float *x)
{
    static const int labels[2] = { 0, 1 };
    model_zero_grad(m);
    model_forward(m, x, 2, 1);
    loss_softmax_xent(m->root->dy, m->root->y, labels, 2, 2);
    model_backward(m, x, 2);
    optim_step(o, m, 1.0f);
}

/* An embedding's weight moves on the rows its batch used and nowhere else,
 * with momentum, weight decay and AdamW too (the lazy update), and a used
 * row moves by the dense rule: after one SGD step, w - lr·(g + wd·w). */
void test_optim_embedding_rows_only(void)
{
    static const float x1[8] = { 3, 7, 7, 0,   12, 3, 0, 0 };   /* rows 3, 7, 12 */
    static const float x2[8] = { 20, 0, 0, 0,   21, 22, 0, 0 };  /* rows 20, 21, 22 */
    for (int kind = 0; kind < 2; kind++) {
        model m;
        optim o;
        thaw_err err = {0};
        if (!text_model(&m))
            return;
        CHECKF(optim_init(&o, &m, kind ? OPTIM_ADAMW : OPTIM_SGD, &err) == THAW_OK, "%s", err.msg);
        o.momentum = 0.9f;
        o.weight_decay = 0.01f;
        const param_slice *e = model_slice(&m, "emb.weight");
        float *w = m.param + e->off, *g = m.grad + e->off;
        float *w0 = malloc(e->len * sizeof *w0), *w1 = malloc(e->len * sizeof *w1);
        EXPECT(w0 && w1);
        memcpy(w0, w, e->len * sizeof *w0);
        text_step(&m, &o, x1);
        int used[40] = { 0 };
        used[3] = used[7] = used[12] = 1;
        for (int r = 0; r < 40; r++)
            for (int d = 0; d < 3; d++) {
                float was = w0[r * 3 + d], now = w[r * 3 + d];
                if (!used[r])
                    EXPECTF(now == was, "%s: unused row %d moved", kind ? "AdamW" : "SGD", r);
                else if (!kind) {
                    float want = was - 0.01f * (g[r * 3 + d] + 0.01f * was);
                    EXPECTF(fabsf(now - want) <= 1e-6f, "SGD: row %d is %g, expected %g", r, now, want);
                } else
                    EXPECTF(now != was, "AdamW: used row %d did not move", r);
            }
        /* Rows 3, 7 and 12 carry momentum, but a step that does not use them
         * leaves them where they are. */
        memcpy(w1, w, e->len * sizeof *w1);
        text_step(&m, &o, x2);
        for (int r = 0; r < 20; r++)
            EXPECTF(!memcmp(w + r * 3, w1 + r * 3, 3 * sizeof(float)),
                    "%s: row %d moved on a step that did not use it", kind ? "AdamW" : "SGD", r);
        EXPECTF(e->nrow == 3, "%d rows marked after the second step, expected 3", e->nrow);
    done:
        free(w0);
        free(w1);
        optim_free(&o);
        model_free(&m);
        if (test_has_failed())
            return;
    }
}

/* A frozen embedding stays out of the feature cache while the pool that
 * reads its sequence lengths runs after a layer that trains: the cut never
 * separates them. Kim's front: embedding, conv1d, seqmax, linear. */
void test_frozen_prefix_keeps_embedding_with_pool(void)
{
    thaw_err err = {0};
    model m;
    layer *root = sequential_new("net");
    if (!root || layer_add(root, embedding_new("emb", 40, 3, 0), &err) ||
        layer_add(root, conv1d_new("conv", 3, 2, 2, 0, 1), &err) ||
        layer_add(root, seqmax_new("max"), &err) || layer_add(root, linear_new("fc", 2, 2, 1), &err) ||
        model_build(&m, root, (shape3){ 1, 1, 4 }, 1, &err)) {
        test_failed(__FILE__, __LINE__, "%s", root ? err.msg : "out of memory");
        return;
    }
    model_freeze(&m, model_find(&m, "emb"), 1);
    int emb_only = model_frozen_prefix(&m);
    model_freeze(&m, model_find(&m, "conv"), 1);
    int with_conv = model_frozen_prefix(&m);
    model_free(&m);
    CHECKF(emb_only == 0, "embedding frozen alone: prefix %d, expected 0", emb_only);
    CHECKF(with_conv == 3, "embedding and conv1d frozen: prefix %d, expected 3", with_conv);
}
