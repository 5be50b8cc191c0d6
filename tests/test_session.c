/* test_session.c — the training session: control at step boundaries,
 * Δtransfer from a real baseline, the feature cache, non-finite values,
 * early stopping, the learning-rate finder, and a stress of random commands
 * while training (run it under ThreadSanitizer: make tsan). Small 1×8×8
 * images whose class is the bright quadrant. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "modelfile.h"
#include "session.h"
#include "test.h"

enum { SX_CLASSES = 4, SX_SIDE = 8, SX_PIXELS = SX_SIDE * SX_SIDE, SX_TRAIN = 48, SX_VAL = 24,
       SX_TEST = 24 };

typedef struct fixture {
    float *x[3];
    int *y[3];
    sess_data d;
    sess_config c;
    session *s;
} fixture;

static void quadrants(float *x, int *y, int n, unsigned long long seed)
{
    rng r = rng_seeded(seed);
    for (int i = 0; i < n; i++) {
        int k = i % SX_CLASSES;
        y[i] = k;
        for (int p = 0; p < SX_PIXELS; p++) {
            int row = p / SX_SIDE, col = p % SX_SIDE;
            int q = (row >= SX_SIDE / 2) * 2 + (col >= SX_SIDE / 2);
            x[(size_t)i * SX_PIXELS + p] = (q == k ? 1.0f : -0.5f) + 0.3f * rng_normal(&r);
        }
    }
}

static int net(model *m, unsigned long long seed)
{
    thaw_err err = {0};
    if (model_build(m, mf_reference_net(1, SX_CLASSES, &err), (shape3){ 1, SX_SIDE, SX_SIDE }, seed,
                    &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

static void fixture_free(fixture *f)
{
    sess_free(f->s);
    for (int k = 0; k < 3; k++) {
        free(f->x[k]);
        free(f->y[k]);
    }
    memset(f, 0, sizeof *f);
}

/* The quadrant data of every split into f->d, without a session yet. */
static int fixture_data(fixture *f)
{
    static const int n[3] = { SX_TRAIN, SX_VAL, SX_TEST };
    memset(f, 0, sizeof *f);
    for (int k = 0; k < 3; k++) {
        f->x[k] = malloc((size_t)n[k] * SX_PIXELS * sizeof(float));
        f->y[k] = malloc((size_t)n[k] * sizeof(int));
        if (!f->x[k] || !f->y[k])
            return 0;
        quadrants(f->x[k], f->y[k], n[k], 100 + (unsigned)k);
        f->d.split[k] = (sess_split){ f->x[k], f->y[k], n[k] };
    }
    f->d.in = (shape3){ 1, SX_SIDE, SX_SIDE };
    f->d.classes = SX_CLASSES;
    return 1;
}

/* A session over the quadrant data; strategy NULL leaves everything trainable. */
static int fixture_open(fixture *f, const sess_config *c, const char *strategy_text)
{
    thaw_err err = {0};
    if (!fixture_data(f))
        return 0;
    if (c) {
        f->c = *c;
    } else {
        sess_config_default(&f->c);
        f->c.batch = 16;
    }
    model t, b;
    if (!net(&t, 5))
        return 0;
    if (!net(&b, 6)) {
        model_free(&t);
        return 0;
    }
    if (sess_new(&f->s, &t, &b, NULL, &f->d, &f->c, NULL, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    if (strategy_text) {
        sess_ctl ctl = { .op = SESS_STRATEGY, .value = 0.05 };
        if (strategy_parse(&ctl.strat, strategy_text, &err) || sess_control(f->s, &ctl, &err)) {
            test_failed(__FILE__, __LINE__, "%s", err.msg);
            return 0;
        }
    }
    return 1;
}

static int control(session *s, sess_ctl c)
{
    thaw_err err = {0};
    if (sess_control(s, &c, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

/* Trains `epochs` and collects the evaluations (up to cap) and the count of
 * events of each kind. */
typedef struct seen {
    sess_eval eval[64];
    int nevals;
    int kinds[16];
    char change[8][192];
    int testing[8], ntesting;       /* SEV_TESTING's counts, in order */
    double testing_of;
    int nchange;
    double suggestion;
} seen;

static void drain(session *s, seen *o)
{
    sess_event ev;
    while (sess_poll(s, &ev, 0)) {
        o->kinds[ev.kind]++;
        if (ev.kind == SEV_EVAL && o->nevals < 64)
            o->eval[o->nevals++] = ev.eval;
        if (ev.kind == SEV_CHANGE && o->nchange < 8)
            memcpy(o->change[o->nchange++], ev.text, sizeof ev.text);
        if (ev.kind == SEV_LRFIND && ev.count < 0)
            o->suggestion = ev.value;
        if (ev.kind == SEV_TESTING && o->ntesting < 8) {
            o->testing[o->ntesting++] = ev.count;
            o->testing_of = ev.value;
        }
    }
}

static int train(fixture *f, int epochs, seen *o)
{
    if (!control(f->s, (sess_ctl){ .op = SESS_TRAIN, .count = epochs }))
        return 0;
    sess_wait(f->s);
    memset(o, 0, sizeof *o);
    drain(f->s, o);
    return 1;
}

void test_session_reports_delta(void)
{
    fixture f;
    seen o;
    EXPECT(fixture_open(&f, NULL, "feature-extraction"));
    EXPECT(train(&f, 3, &o));
    EXPECTF(o.nevals == 3, "%d evaluations", o.nevals);
    for (int i = 0; i < o.nevals; i++) {
        const sess_eval *e = &o.eval[i];
        EXPECT(e->epoch == i + 1 && e->step == (long)(i + 1) * 3);
        EXPECT(e->val_acc >= 0 && e->val_acc <= 1 && e->scratch_val_acc >= 0);
        EXPECT(fabs(e->delta - (e->val_acc - e->scratch_val_acc)) < 1e-12);
        /* wall counts the evaluations too, train_s the steps alone */
        EXPECTF(e->train_s > 0 && e->wall > e->train_s, "wall %g, train_s %g", e->wall, e->train_s);
        EXPECT(isnan(e->source_acc));
        EXPECT(e->final == (i == 2));
    }
    const sess_eval *last = &o.eval[2];
    EXPECT(!isnan(last->test_acc) && !isnan(last->scratch_test_acc));
    EXPECT(fabs(last->test_delta - (last->test_acc - last->scratch_test_acc)) < 1e-12);
    EXPECT(isnan(o.eval[0].test_acc));
    /* the final pass over the test images said how far it was, chunk by chunk */
    EXPECTF(o.ntesting == 2 && o.testing[0] == 0 && o.testing[1] == 16 && o.testing_of == SX_TEST,
            "%d testing events (%d, %d of %g)", o.ntesting, o.testing[0], o.testing[1], o.testing_of);
    EXPECT(o.kinds[SEV_CHANGE] == 1 && strstr(o.change[0], "strategy feature-extraction"));
    EXPECT(sess_state_now(f.s) == SESS_IDLE && sess_epoch(f.s) == 3);
done:
    fixture_free(&f);
}

/* Feature extraction: the backbone and its statistics do not move, the head
 * does, and the per-layer view says so. */
void test_session_frozen_backbone_still(void)
{
    fixture f;
    seen o;
    sess_layer ls[64];
    EXPECT(fixture_open(&f, NULL, "feature-extraction"));
    EXPECT(train(&f, 2, &o));
    int n = sess_layers(f.s, ls, 64);
    EXPECT(n == 19);
    for (int i = 0; i < n; i++) {
        int head = !strcmp(ls[i].l->path, "head");
        EXPECTF(ls[i].frozen == !head, "%s frozen %d", ls[i].l->path, ls[i].frozen);
        if (head) {
            EXPECT(ls[i].drift > 0 && ls[i].grad_norm > 0 && ls[i].update_ratio > 0);
        } else {
            EXPECTF(ls[i].drift == 0 && ls[i].stat_drift == 0 && ls[i].grad_norm == 0,
                    "%s drift %g stat %g grad %g", ls[i].l->path, ls[i].drift, ls[i].stat_drift,
                    ls[i].grad_norm);
        }
    }
done:
    fixture_free(&f);
}

/* The cache changes where features come from, not what training computes. */
void test_session_cache_same_result(void)
{
    fixture a, b;
    seen oa, ob;
    sess_config c;
    sess_config_default(&c);
    c.batch = 16;
    memset(&b, 0, sizeof b);
    EXPECT(fixture_open(&a, &c, "feature-extraction"));
    c.cache_bytes = 0;
    EXPECT(fixture_open(&b, &c, "feature-extraction"));
    EXPECT(train(&a, 3, &oa));
    EXPECT(train(&b, 3, &ob));
    for (int i = 0; i < 3; i++)
        EXPECTF(fabs(oa.eval[i].val_loss - ob.eval[i].val_loss) < 1e-5 &&
                oa.eval[i].val_acc == ob.eval[i].val_acc,
                "epoch %d: %.9g vs %.9g", i + 1, oa.eval[i].val_loss, ob.eval[i].val_loss);
done:
    fixture_free(&a);
    fixture_free(&b);
}

void test_session_deterministic(void)
{
    fixture a, b;
    seen oa, ob;
    memset(&b, 0, sizeof b);
    EXPECT(fixture_open(&a, NULL, "finetune"));
    EXPECT(fixture_open(&b, NULL, "finetune"));
    EXPECT(train(&a, 2, &oa));
    EXPECT(train(&b, 2, &ob));
    for (int i = 0; i < 2; i++)
        EXPECT(oa.eval[i].val_loss == ob.eval[i].val_loss &&
               oa.eval[i].scratch_val_loss == ob.eval[i].scratch_val_loss);
done:
    fixture_free(&a);
    fixture_free(&b);
}

void test_session_nonfinite_pauses(void)
{
    fixture f;
    seen o;
    EXPECT(fixture_open(&f, NULL, NULL));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_LR, .path = "", .value = 999.0 }));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 50 }));
    sess_wait(f.s);
    memset(&o, 0, sizeof o);
    drain(f.s, &o);
    EXPECT(o.kinds[SEV_NONFINITE] == 1);
    EXPECT(sess_state_now(f.s) == SESS_PAUSED);
    const model *m = sess_model(f.s, 0);
    for (size_t i = 0; i < m->nfloat; i++)
        EXPECTF(isfinite(m->param[i]), "parameter %zu is %g", i, (double)m->param[i]);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_STOP }));
    sess_wait(f.s);
    EXPECT(sess_state_now(f.s) == SESS_IDLE);
done:
    fixture_free(&f);
}

void test_session_gradual_unfreezing(void)
{
    fixture f;
    seen o;
    sess_layer ls[64];
    EXPECT(fixture_open(&f, NULL, "gradual every=1"));
    EXPECT(train(&f, 3, &o));
    /* strategy, then stage3 at epoch 2 and stage2 at epoch 3 */
    EXPECTF(o.nchange == 3, "%d changes", o.nchange);
    EXPECT(strstr(o.change[1], "unfreeze stage3") && strstr(o.change[2], "unfreeze stage2"));
    int n = sess_layers(f.s, ls, 64);
    for (int i = 0; i < n; i++) {
        const char *p = ls[i].l->path;
        int open = !strncmp(p, "stage3", 6) || !strncmp(p, "stage2", 6) || !strcmp(p, "head");
        EXPECTF(ls[i].frozen == !open, "%s frozen %d", p, ls[i].frozen);
    }
done:
    fixture_free(&f);
}

void test_session_early_stopping(void)
{
    fixture f;
    seen o;
    sess_config c;
    sess_config_default(&c);
    c.batch = 16;
    c.patience = 1;
    EXPECT(fixture_open(&f, &c, NULL));
    /* A rate this small never improves on the first evaluation's accuracy. */
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_LR, .path = "", .value = 1e-9 }));
    EXPECT(train(&f, 20, &o));
    EXPECTF(o.nevals < 20, "%d evaluations", o.nevals);
    EXPECT(o.eval[o.nevals - 1].final);
    EXPECT(o.kinds[SEV_STATE] >= 2);
done:
    fixture_free(&f);
}

void test_session_lrfind_restores(void)
{
    fixture f;
    seen o;
    float *before = NULL;
    EXPECT(fixture_open(&f, NULL, "feature-extraction"));
    sess_wait(f.s);
    const model *m = sess_model(f.s, 0);
    before = malloc(m->nfloat * sizeof(float));
    EXPECT(before);
    memcpy(before, m->param, m->nfloat * sizeof(float));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_LRFIND, .value = 1e-5, .value2 = 10.0, .count = 60 }));
    sess_wait(f.s);
    memset(&o, 0, sizeof o);
    drain(f.s, &o);
    EXPECT(o.kinds[SEV_LRFIND] >= 4);
    EXPECTF(o.suggestion > 1e-5 && o.suggestion < 10.0, "suggested %g", o.suggestion);
    EXPECT(!memcmp(before, m->param, m->nfloat * sizeof(float)));
done:
    free(before);
    fixture_free(&f);
}

void test_session_bad_commands(void)
{
    fixture f;
    thaw_err err = {0};
    EXPECT(fixture_open(&f, NULL, NULL));
    EXPECT(sess_control(f.s, &(sess_ctl){ .op = SESS_FREEZE, .path = "stage9" }, &err) == THAW_ENOTFOUND);
    EXPECT(strstr(err.msg, "stage9"));
    EXPECT(sess_control(f.s, &(sess_ctl){ .op = SESS_LR, .path = "head", .value = NAN }, &err) == THAW_EINVAL);
    EXPECT(sess_control(f.s, &(sess_ctl){ .op = SESS_TRAIN, .count = 0 }, &err) == THAW_EINVAL);
    EXPECT(sess_control(f.s, &(sess_ctl){ .op = SESS_LRFIND, .value = 1, .value2 = 0.1, .count = 9 },
                        &err) == THAW_EINVAL);
    EXPECT(sess_control(f.s, &(sess_ctl){ .op = (sess_op)99 }, &err) == THAW_EINVAL);
done:
    fixture_free(&f);
}

/* Nobody reads the events: the trainer drops and counts, and finishes. */
void test_session_never_waits_for_reader(void)
{
    fixture f;
    sess_config c;
    sess_config_default(&c);
    c.batch = 1;
    c.baseline = 0;
    c.evals_per_epoch = 48;
    EXPECT(fixture_open(&f, &c, "feature-extraction"));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 100 }));
    sess_wait(f.s);
    EXPECT(sess_state_now(f.s) == SESS_IDLE && sess_epoch(f.s) == 100);
    EXPECTF(sess_dropped(f.s) > 0, "dropped %ld", sess_dropped(f.s));
done:
    fixture_free(&f);
}

/* Thousands of random commands while training, from this thread, with a
 * reader draining events: no deadlock, no lost state, clean under TSan. */
void test_session_control_stress(void)
{
    static const char *const paths[] = { "", "stem", "stage1", "stage2.conv1", "stage3", "head" };
    fixture f;
    sess_config c;
    sess_config_default(&c);
    c.batch = 8;
    c.parallel = 1;
    EXPECT(fixture_open(&f, &c, NULL));
    rng r = rng_seeded(77);
    sess_event ev;
    for (int i = 0; i < 3000; i++) {
        sess_ctl ctl = { .op = (sess_op)(rng_next(&r) % SESS_EVAL) };
        snprintf(ctl.path, sizeof ctl.path, "%s", paths[rng_next(&r) % 6]);
        ctl.count = 1 + (int)(rng_next(&r) % 2);
        ctl.value = 0.001 * (1 + (int)(rng_next(&r) % 10));
        strategy_default(&ctl.strat, (strat_kind)(rng_next(&r) % STRAT_KIND_COUNT));
        thaw_err err = {0};
        int rc;
        while ((rc = sess_control(f.s, &ctl, &err)) == THAW_ENOMEM)
            sess_poll(f.s, &ev, 1);          /* the queue is full: let the trainer catch up */
        EXPECTF(rc == THAW_OK, "command %d: %s", (int)ctl.op, err.msg);
        while (sess_poll(f.s, &ev, i % 16 == 0))
            ;
        if (i % 500 == 0) {
            sess_layer ls[64];
            EXPECT(sess_layers(f.s, ls, 64) == 19);
        }
    }
    thaw_err err = {0};
    while (sess_control(f.s, &(sess_ctl){ .op = SESS_STOP }, &err) == THAW_ENOMEM)
        sess_poll(f.s, &ev, 1);
    sess_wait(f.s);
    while (sess_poll(f.s, &ev, 0))
        ;
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_STOP }));
    sess_wait(f.s);
    EXPECT(sess_state_now(f.s) == SESS_IDLE);
done:
    fixture_free(&f);
}

/* What the hooks of a pretraining session saw, on the trainer thread. */
typedef struct pretrain_seen {
    long steps, images, last_step;
    int in_order;                /* every step numbered one after the last */
    double lr[32];               /* (steps) the rate of each step */
    int nevals, baseline_nan;
    sess_eval last;
    int nonfinite;
    double nonfinite_loss;
    char nonfinite_text[192];
} pretrain_seen;

static void pretrain_step(void *ctx, const sess_event *ev)
{
    pretrain_seen *p = ctx;
    p->in_order &= ev->kind == SEV_STEP && ev->step == p->last_step + 1;
    p->last_step = ev->step;
    if (p->steps < 32)
        p->lr[p->steps] = ev->value2;
    p->steps++;
    p->images += ev->count;
}

static void pretrain_eval(void *ctx, const sess_eval *e, const model *m, const model *scratch)
{
    pretrain_seen *p = ctx;
    p->nevals++;
    p->baseline_nan += !scratch && isnan(e->scratch_val_acc) && isnan(e->delta) && m != NULL;
    p->last = *e;
}

static void pretrain_event(void *ctx, const sess_event *ev)
{
    pretrain_seen *p = ctx;
    if (ev->kind != SEV_NONFINITE)
        return;
    p->nonfinite++;
    p->nonfinite_loss = ev->value;
    memcpy(p->nonfinite_text, ev->text, sizeof ev->text);
}

/* A session over the quadrant data that trains one fresh model at `lr`
 * without a baseline under a cosine schedule, as thaw pretrain does. */
static int pretrain_open(fixture *f, pretrain_seen *p, float lr)
{
    thaw_err err = {0};
    model m;
    memset(p, 0, sizeof *p);
    p->in_order = 1;
    if (!fixture_data(f) || !net(&m, 9))
        return 0;
    model_set_lr(&m, m.root, lr);
    sess_config_default(&f->c);
    f->c.batch = 16;
    f->c.baseline = 0;
    schedule_default(&f->c.sched, SCHED_COSINE);
    sess_hooks h = { .ctx = p, .eval = pretrain_eval, .event = pretrain_event,
                     .step = pretrain_step };
    if (sess_new(&f->s, &m, NULL, NULL, &f->d, &f->c, &h, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

/* Every step reaches the step hook, in order, at the cosine's rate over the
 * whole run; the model learns the task alone and the baseline stays NaN. */
void test_session_pretrains_without_baseline(void)
{
    enum { EPOCHS = 8, PER_EPOCH = SX_TRAIN / 16, STEPS = EPOCHS * PER_EPOCH };
    fixture f;
    pretrain_seen p;
    memset(&f, 0, sizeof f);
    EXPECT(pretrain_open(&f, &p, 0.05f));
    EXPECT(sess_model(f.s, 1) == NULL);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = EPOCHS }));
    sess_wait(f.s);
    EXPECTF(p.steps == STEPS && p.in_order && p.images == (long)EPOCHS * SX_TRAIN,
            "%ld steps (in order %d), %ld images", p.steps, p.in_order, p.images);
    for (int t = 0; t < STEPS; t++) {
        double want = 0.05 * 0.5 * (1.0 + cos(M_PI * t / STEPS));
        EXPECTF(fabs(p.lr[t] - want) < 1e-6, "step %d: rate %g, expected %g", t, p.lr[t], want);
    }
    EXPECTF(p.nevals == EPOCHS && p.baseline_nan == EPOCHS, "%d evaluations, %d without a baseline",
            p.nevals, p.baseline_nan);
    EXPECT(p.last.final && p.last.epoch == EPOCHS && isnan(p.last.scratch_train_loss));
    EXPECTF(p.last.val_acc >= 0.9 && p.last.train_acc > 0.5, "val %.3f, train %.3f",
            p.last.val_acc, p.last.train_acc);
    EXPECT(p.nonfinite == 0);
done:
    fixture_free(&f);
}

/* A diverging rate: the event says what went non-finite and carries the loss. */
void test_session_nonfinite_carries_loss(void)
{
    fixture f;
    pretrain_seen p;
    memset(&f, 0, sizeof f);
    EXPECT(pretrain_open(&f, &p, 1e9f));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 5 }));
    sess_wait(f.s);
    EXPECT(p.nonfinite == 1 && sess_state_now(f.s) == SESS_PAUSED);
    EXPECTF(strstr(p.nonfinite_text, "the loss is") ? !isfinite(p.nonfinite_loss)
                                                    : isfinite(p.nonfinite_loss),
            "%s; loss %g", p.nonfinite_text, p.nonfinite_loss);
done:
    fixture_free(&f);
}

/* ---- nothing on the trainer waits long for a stop ---------------------- */

/* Seconds from now until the trainer settles, up to limit (more: it did
 * not); the text of an SEV_LRFIND "done" event read meanwhile into lrfind
 * (a sweep sends an event a step: they are read as they come, so the queue
 * never drops the last). */
static double settle_time_reading(session *s, double limit, char *lrfind, size_t cap)
{
    double t0 = thaw_now_s();
    sess_event ev;
    if (lrfind)
        lrfind[0] = '\0';
    for (int settled = 0; !settled && thaw_now_s() - t0 < limit;) {
        settled = sess_wait_ms(s, 20);
        while (sess_poll(s, &ev, 0))
            if (lrfind && ev.kind == SEV_LRFIND && ev.count < 0)
                snprintf(lrfind, cap, "%s", ev.text);
    }
    return thaw_now_s() - t0;
}

/* Seconds from now until the trainer settles, up to limit (more: it did not). */
static double settle_time(session *s, double limit)
{
    double t0 = thaw_now_s();
    while (!sess_wait_ms(s, 20) && thaw_now_s() - t0 < limit)
        ;
    return thaw_now_s() - t0;
}

/* A sweep of 100,000 steps stops at the next step for a stop, with the
 * weights put back, and for any other command (here a save), which then
 * runs. */
static void saw_call(void *ctx, const model *t, const model *b, sess_event *report)
{
    (void)b;
    (void)report;
    *(int *)ctx = t ? 1 : -1;
}

void test_session_lrfind_stops(void)
{
    fixture f;
    float *before = NULL;
    char text[192];
    int called = 0;
    EXPECT(fixture_open(&f, NULL, "feature-extraction"));
    sess_wait(f.s);
    const model *m = sess_model(f.s, 0);
    before = malloc(m->nfloat * sizeof(float));
    EXPECT(before);
    memcpy(before, m->param, m->nfloat * sizeof(float));
    for (int round = 0; round < 2; round++) {
        EXPECT(control(f.s, (sess_ctl){ .op = SESS_LRFIND, .value = 1e-7, .value2 = 1e-6,
                                        .count = 100000 }));
        sess_event ev;
        for (double t = thaw_now_s(); thaw_now_s() - t < 0.05;)
            sess_poll(f.s, &ev, 5);       /* 50 ms of the sweep, its events read */
        EXPECT(round == 0 ? control(f.s, (sess_ctl){ .op = SESS_STOP })
                          : control(f.s, (sess_ctl){ .op = SESS_CALL, .call = saw_call,
                                                     .call_ctx = &called }));
        double took = settle_time_reading(f.s, 5.0, text, sizeof text);
        EXPECTF(took < 1.0, "round %d: the sweep went on for %.2f s after the command", round, took);
        EXPECTF(strstr(text, "stopped"), "round %d: %s", round, text);
        EXPECT(!memcmp(before, m->param, m->nfloat * sizeof(float)));
    }
    EXPECT(called == 1);
done:
    free(before);
    fixture_free(&f);
}

/* Freeing the session mid-sweep ends it at once. */
void test_session_lrfind_quits(void)
{
    fixture f;
    EXPECT(fixture_open(&f, NULL, "feature-extraction"));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_LRFIND, .value = 1e-7, .value2 = 1e-6, .count = 100000 }));
    struct timespec nap = { 0, 50 * 1000000L };
    nanosleep(&nap, NULL);
    double t0 = thaw_now_s();
    sess_free(f.s);
    f.s = NULL;
    double took = thaw_now_s() - t0;
    EXPECTF(took < 1.0, "sess_free took %.2f s", took);
done:
    fixture_free(&f);
}

/* A session whose split `split` has n quadrant images, so that a pass over
 * it takes seconds. */
static int fixture_big(fixture *f, int split, int n, const char *strategy_text,
                       const sess_hooks *h)
{
    if (!fixture_open(f, NULL, strategy_text))
        return 0;
    sess_free(f->s);
    f->s = NULL;
    float *x = malloc((size_t)n * SX_PIXELS * sizeof(float));
    int *y = malloc((size_t)n * sizeof(int));
    if (!x || !y) {
        free(x);
        free(y);
        return 0;
    }
    quadrants(x, y, n, 300);
    free(f->x[split]);
    free(f->y[split]);
    f->x[split] = x;
    f->y[split] = y;
    f->d.split[split] = (sess_split){ x, y, n };
    thaw_err err = {0};
    model t, b;
    if (!net(&t, 5))
        return 0;
    if (!net(&b, 6)) {
        model_free(&t);
        return 0;
    }
    sess_ctl ctl = { .op = SESS_STRATEGY, .value = 0.05 };
    if (sess_new(&f->s, &t, &b, NULL, &f->d, &f->c, h, &err) ||
        strategy_parse(&ctl.strat, strategy_text, &err) || sess_control(f->s, &ctl, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

/* A stop while the feature cache fills (about 6 s here) ends the train
 * command within a second, with its final evaluation; training again goes
 * on with the fill where it stopped. */
void test_session_cache_fill_stops(void)
{
    fixture f;
    seen o;
    memset(&f, 0, sizeof f);
    EXPECT(fixture_big(&f, SESS_TRAIN_SPLIT, 200000, "feature-extraction", NULL));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 1 }));
    struct timespec nap = { 0, 100 * 1000000L };
    nanosleep(&nap, NULL);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_STOP, .count = 1 }));
    double took = settle_time(f.s, 30.0);
    EXPECTF(took < 1.0, "the fill went on for %.2f s after the stop", took);
    memset(&o, 0, sizeof o);
    drain(f.s, &o);
    EXPECTF(o.nevals == 1 && o.eval[0].final && isnan(o.eval[0].val_acc), "%d evaluations", o.nevals);
    EXPECT(sess_state_now(f.s) == SESS_IDLE);
done:
    fixture_free(&f);
}

/* The end of a run's pass over many test images looks at the queue: a stop
 * that arrives during it (here queued from the last step's hook) cuts it
 * short, and the final evaluation still comes, its test figures NaN. */
static void stop_on_last_step(void *ctx, const sess_event *ev)
{
    fixture *f = ctx;
    if (ev->step == SX_TRAIN / 16)
        sess_control(f->s, &(sess_ctl){ .op = SESS_STOP }, NULL);
}

void test_session_test_pass_stops(void)
{
    fixture f;
    seen o;
    memset(&f, 0, sizeof f);
    sess_hooks h = { .ctx = &f, .step = stop_on_last_step };
    EXPECT(fixture_big(&f, SESS_TEST_SPLIT, 200000, "finetune", &h));
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 1 }));
    double took = settle_time(f.s, 30.0);
    EXPECTF(took < 1.0, "the run took %.2f s to end", took);
    memset(&o, 0, sizeof o);
    drain(f.s, &o);
    EXPECTF(o.nevals == 1 && o.eval[0].final && isnan(o.eval[0].test_acc), "%d evaluations",
            o.nevals);
done:
    fixture_free(&f);
}

/* Freeing the session during a long evaluation ends it at once; a call
 * still queued behind it is made with NULL models so its owner can let go. */
void test_session_free_discards_calls(void)
{
    fixture f;
    int called = 0;
    memset(&f, 0, sizeof f);
    EXPECT(fixture_big(&f, SESS_VAL_SPLIT, 200000, "feature-extraction", NULL));
    sess_wait(f.s);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_EVAL }));
    struct timespec nap = { 0, 50 * 1000000L };
    nanosleep(&nap, NULL);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_CALL, .call = saw_call, .call_ctx = &called }));
    double t0 = thaw_now_s();
    sess_free(f.s);
    f.s = NULL;
    double took = thaw_now_s() - t0;
    EXPECTF(took < 1.0, "sess_free took %.2f s", took);
    EXPECTF(called == -1, "the queued call was made with %d", called);
done:
    fixture_free(&f);
}

/* The memory a session would hold is checked against its budget before
 * anything large is allocated (the message gives both figures), and a
 * batch larger than the training split is prepared at the split's size. */
void test_session_memory_budget(void)
{
    fixture f;
    sess_config c;
    thaw_err err = {0};
    model t, b;
    memset(&f, 0, sizeof f);
    EXPECT(fixture_data(&f));
    sess_config_default(&c);
    EXPECT(c.memory_bytes > 0);
    c.batch = 16;
    c.memory_bytes = 64 << 10;
    EXPECT(net(&t, 5));
    EXPECT(net(&b, 6));
    EXPECT(sess_new(&f.s, &t, &b, NULL, &f.d, &c, NULL, &err) == THAW_EINVAL);
    EXPECTF(strstr(err.msg, "a batch of 16 needs") && strstr(err.msg, "the memory limit is 1 MiB") &&
            strstr(err.msg, "set memory-mb"), "%s", err.msg);
    c.memory_bytes = (size_t)1 << 30;
    c.batch = 4096;
    EXPECT(net(&t, 5));
    EXPECT(net(&b, 6));
    EXPECTF(sess_new(&f.s, &t, &b, NULL, &f.d, &c, NULL, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(sess_model(f.s, 0)->batch == SX_TRAIN && sess_model(f.s, 1)->batch == SX_TRAIN,
            "prepared for %d", sess_model(f.s, 0)->batch);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_TRAIN, .count = 2 }));
    sess_wait(f.s);
    EXPECT(sess_epoch(f.s) == 2);
done:
    fixture_free(&f);
}

/* Self-training: the pool of a second draw of the quadrants. */
enum { SX_POOL = 40 };
static float pool_x[SX_POOL * SX_PIXELS];
static int pool_y[SX_POOL];

static void pool_copy(void *ctx, int i, float *dst)
{
    (void)ctx;
    memcpy(dst, pool_x + (size_t)i * SX_PIXELS, sizeof(float) * SX_PIXELS);
}

/* A round at the start of every fourth epoch (once the model has learnt
 * enough to be confident about every class): class-balanced pseudo-labels
 * join the training images (more steps an epoch) and are counted and
 * scored in the evaluations. */
void test_session_self_train_rounds(void)
{
    fixture f;
    seen o;
    thaw_err err = { 0 };
    model t, b;
    int have_t = 0, have_b = 0;
    EXPECT(fixture_data(&f));
    quadrants(pool_x, pool_y, SX_POOL, 300);
    f.d.pool_n = SX_POOL;
    f.d.pool_y = pool_y;
    f.d.pool_image = pool_copy;
    sess_config_default(&f.c);
    f.c.batch = 16;
    EXPECTF(adapt_parse(&f.c.adapt, "self-train threshold=0.4 every=4", &err) == 0, "%s", err.msg);
    EXPECT((have_t = net(&t, 5)) && (have_b = net(&b, 6)));
    have_t = have_b = 0;                  /* the session owns them from here, even on failure */
    EXPECTF(sess_new(&f.s, &t, &b, NULL, &f.d, &f.c, NULL, &err) == 0, "%s", err.msg);
    sess_ctl ctl = { .op = SESS_STRATEGY, .value = 0.05 };
    EXPECT(strategy_parse(&ctl.strat, "finetune", &err) == 0 && control(f.s, ctl));
    EXPECT(train(&f, 9, &o));
    EXPECTF(o.nevals == 9 && o.kinds[SEV_NOTE] == 2, "%d evaluations, %d notes", o.nevals,
            o.kinds[SEV_NOTE]);
    EXPECT(o.eval[3].pseudo_n == 0 && isnan(o.eval[3].pseudo_acc));
    for (int i = 4; i < 9; i++) {
        const sess_eval *e = &o.eval[i];
        EXPECTF(e->pseudo_n > 0 && e->pseudo_n % SX_CLASSES == 0 && e->pseudo_n <= SX_POOL,
                "epoch %d: %d pseudo-labels", e->epoch, e->pseudo_n);
        EXPECTF(e->pseudo_acc > 0.5 && e->pseudo_acc <= 1.0, "pseudo_acc %g", e->pseudo_acc);
        /* 48 labelled images are 3 steps of 16; the pseudo-labelled add steps */
        long steps = e->step - o.eval[i - 1].step;
        EXPECTF(steps == (SX_TRAIN + e->pseudo_n + 15) / 16, "%ld steps with %d pseudo-labels",
                steps, e->pseudo_n);
    }
    /* none: no round, nothing added */
    EXPECT(adapt_parse(&f.c.adapt, "none", &err) == 0);
    EXPECT(control(f.s, (sess_ctl){ .op = SESS_CONFIGURE, .config = f.c }));
    EXPECT(adapt_round_due(&f.c.adapt, 3) == 0);
done:
    if (have_t)
        model_free(&t);
    if (have_b)
        model_free(&b);
    fixture_free(&f);
}

void test_adapt_parse_and_format(void)
{
    adapt a;
    thaw_err err = { 0 };
    char text[ADAPT_TEXT_MAX];
    CHECK_OK(adapt_parse(&a, "self-train threshold=0.95 every=2", &err));
    CHECK(a.kind == ADAPT_SELF_TRAIN && a.threshold == 0.95 && a.every == 2);
    adapt_format(&a, text, sizeof text);
    CHECK(!strcmp(text, "self-train threshold=0.95 every=2"));
    CHECK_OK(adapt_parse(&a, "self-train", &err));
    adapt_format(&a, text, sizeof text);
    CHECK(!strcmp(text, "self-train") && a.threshold == 0.9 && a.every == 1);
    CHECK_OK(adapt_parse(&a, "target-only", &err));
    CHECK(a.kind == ADAPT_NONE);
    CHECK(adapt_round_due(&(adapt){ .kind = ADAPT_SELF_TRAIN, .threshold = 0.9, .every = 2 }, 4) &&
          !adapt_round_due(&(adapt){ .kind = ADAPT_SELF_TRAIN, .threshold = 0.9, .every = 2 }, 3) &&
          !adapt_round_due(&(adapt){ .kind = ADAPT_SELF_TRAIN, .threshold = 0.9, .every = 2 }, 0));
    CHECK(adapt_parse(&a, "mmdx", &err) == THAW_EINVAL && strstr(err.msg, "self-train") &&
          strstr(err.msg, "dann"));
    CHECK_OK(adapt_parse(&a, "mmd weight=0.5 layer=stage3", &err));
    CHECK(a.kind == ADAPT_MMD && a.weight == 0.5 && !strcmp(a.layer, "stage3"));
    adapt_format(&a, text, sizeof text);
    CHECKF(!strcmp(text, "mmd weight=0.5 layer=stage3"), "%s", text);
    CHECK_OK(adapt_parse(&a, "dann", &err));
    CHECK(a.kind == ADAPT_DANN && a.weight == 0.1 && !a.layer[0]);
    CHECK_OK(adapt_parse(&a, "reweight clip=5", &err));
    adapt_format(&a, text, sizeof text);
    CHECK(a.kind == ADAPT_REWEIGHT && a.clip == 5 && !strcmp(text, "reweight clip=5"));
    CHECK_OK(adapt_parse(&a, "source-only", &err));
    CHECK(adapt_uses_source(a.kind) && !adapt_uses_target(a.kind) && !adapt_aligns(a.kind));
    CHECK(adapt_parse(&a, "source-only layer=stem", &err) == THAW_EINVAL && strstr(err.msg, "layer"));
    CHECK(adapt_parse(&a, "mmd layer=a layer=b", &err) == THAW_EINVAL && strstr(err.msg, "twice"));
    CHECK(adapt_parse(&a, "dann layer=a/b", &err) == THAW_EINVAL && strstr(err.msg, "a/b"));
    CHECK(adapt_parse(&a, "reweight clip=0.5", &err) == THAW_EINVAL && strstr(err.msg, "clip"));
    CHECK(adapt_parse(&a, "mmd weight=-1", &err) == THAW_EINVAL && strstr(err.msg, "weight"));
    CHECK(adapt_parse(&a, "none weight=1", &err) == THAW_EINVAL);
    CHECK(adapt_parse(&a, "self-train threshold=0", &err) == THAW_EINVAL && strstr(err.msg, "threshold"));
    CHECK(adapt_parse(&a, "self-train every=0", &err) == THAW_EINVAL && strstr(err.msg, "every"));
    CHECK(adapt_parse(&a, "none every=2", &err) == THAW_EINVAL);
}

/* oracle: the whole pool, with its own labels, trains from the first step,
 * and the schedule counts its steps. */
void test_session_oracle_pool(void)
{
    fixture f;
    seen o;
    thaw_err err = { 0 };
    model t, b;
    EXPECT(fixture_data(&f));
    quadrants(pool_x, pool_y, SX_POOL, 300);
    f.d.pool_n = SX_POOL;
    f.d.pool_y = pool_y;
    f.d.pool_image = pool_copy;
    sess_config_default(&f.c);
    f.c.batch = 16;
    EXPECT(adapt_parse(&f.c.adapt, "oracle", &err) == 0);
    EXPECT(net(&t, 5) && net(&b, 6));
    EXPECTF(sess_new(&f.s, &t, &b, NULL, &f.d, &f.c, NULL, &err) == 0, "%s", err.msg);
    EXPECT(train(&f, 2, &o));
    EXPECTF(o.nevals == 2 && o.kinds[SEV_NOTE] == 1, "%d evaluations, %d notes", o.nevals,
            o.kinds[SEV_NOTE]);
    for (int i = 0; i < 2; i++)
        EXPECTF(o.eval[i].pseudo_n == SX_POOL && o.eval[i].pseudo_acc == 1.0 &&
                o.eval[i].step == (long)(i + 1) * ((SX_TRAIN + SX_POOL + 15) / 16),
                "epoch %d: %d pool images, step %ld", i + 1, o.eval[i].pseudo_n, o.eval[i].step);
done:
    fixture_free(&f);
}

/* The domain gap: small between two draws of one distribution, large when
 * the source is the same images inverted, NaN without source images. */
static double gap_after_epoch(float sign)
{
    fixture f;
    seen o;
    thaw_err err = { 0 };
    model t, b;
    double gap = -1.0;
    float *src = malloc(sizeof(float) * 200 * SX_PIXELS);
    int *src_y = malloc(sizeof(int) * 200);
    if (!src || !src_y || !fixture_data(&f))
        goto done;
    quadrants(src, src_y, 200, 400);
    for (int i = 0; i < 200 * SX_PIXELS; i++)
        src[i] *= sign;
    f.d.split[SESS_SOURCE_SPLIT] = (sess_split){ src, src_y, sign == 0.0f ? 0 : 200 };
    f.d.split[SESS_VAL_SPLIT] = f.d.split[SESS_TEST_SPLIT];   /* 24 target images */
    sess_config_default(&f.c);
    f.c.batch = 16;
    if (!net(&t, 5) || !net(&b, 6) || sess_new(&f.s, &t, &b, NULL, &f.d, &f.c, NULL, &err) ||
        !train(&f, 1, &o) || o.nevals != 1)
        goto done;
    gap = o.eval[0].domain_gap;
done:
    fixture_free(&f);
    free(src);
    free(src_y);
    return gap;
}

void test_session_domain_gap(void)
{
    double same = gap_after_epoch(1.0f), inverted = gap_after_epoch(-1.0f), none = gap_after_epoch(0.0f);
    CHECKF(same >= 0.0 && same < 0.8 && inverted > 1.5 && inverted <= 2.0 && isnan(none),
           "same %g, inverted %g, none %g", same, inverted, none);
}

/* ---- text ------------------------------------------------------------------ */

#include "task.h"

/* A session on a text task: the shipped GloVe subset fine-tuned on topics
 * (every layer trains, so the embedding's rows go through the step's
 * row-sparse copies and checks). Rows no training document uses never
 * move; the model learns; a diverging rate pauses with every weight
 * finite. */
void test_session_text_embedding_rows(void)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model t;
    txt_vocab v = { 0 };
    task k = { 0 };
    session *s = NULL;
    float *w0 = NULL;
    unsigned char *used = NULL;
    seen o;
    mf_load_opts opt = { .classes = 4, .fresh_head = 1, .seed = 3 };
    CHECKF(mf_load(&meta, &t, "models/glove-topics.json", &opt, &err) == THAW_OK, "%s", err.msg);
    int ok = txt_vocab_parse(&v, meta.vocab, meta.vocab_len, meta.vocab_name, &err) == THAW_OK;
    ds_geom g = { .in = meta.input, .std = { 1 }, .vocab = &v };
    ok = ok && task_load(&k, "topics:shots=20,val=20,test=20", &g, 1, &err) == THAW_OK;
    if (!ok)
        model_free(&t);
    EXPECTF(ok, "%s", err.msg);
    model_freeze(&t, t.root, 0);
    const param_slice *e = &t.slice[t.seq->slice0];
    size_t V = (size_t)e->dim[0], D = (size_t)e->dim[1], L = (size_t)meta.input.w;
    w0 = malloc(e->len * sizeof *w0);
    used = calloc(V, 1);
    EXPECT(w0 && used);
    memcpy(w0, t.param + e->off, e->len * sizeof *w0);
    for (size_t i = 0; i < (size_t)k.split[TASK_TRAIN].n * L; i++)
        used[(size_t)k.split[TASK_TRAIN].x[i]] = 1;
    sess_data d = { .in = meta.input, .classes = 4 };
    for (int sp = 0; sp < 3; sp++)
        d.split[sp] = (sess_split){ k.split[sp].x, k.split[sp].y, k.split[sp].n };
    sess_config c;
    sess_config_default(&c);
    c.batch = 16;
    c.baseline = 0;
    ok = sess_new(&s, &t, NULL, NULL, &d, &c, NULL, &err) == THAW_OK;
    EXPECTF(ok, "%s", err.msg);
    EXPECT(control(s, (sess_ctl){ .op = SESS_LR, .path = "", .value = 0.1 }));
    EXPECT(control(s, (sess_ctl){ .op = SESS_TRAIN, .count = 5 }));
    sess_wait(s);
    memset(&o, 0, sizeof o);
    drain(s, &o);
    const model *m = sess_model(s, 0);
    const float *w = m->param + m->slice[m->seq->slice0].off;
    size_t moved_unused = 0, moved_used = 0;
    for (size_t r = 0; r < V; r++)
        for (size_t c2 = 0; c2 < D; c2++) {
            int moved = w[r * D + c2] != w0[r * D + c2];
            moved_unused += moved && !used[r];
            moved_used += moved && used[r];
        }
    EXPECTF(moved_unused == 0, "%zu components of rows no training document uses moved", moved_unused);
    EXPECT(moved_used > 0);
    EXPECTF(o.nevals > 0 && o.eval[o.nevals - 1].val_acc > 0.8, "val accuracy %g after 5 epochs",
            o.nevals ? o.eval[o.nevals - 1].val_acc : -1.0);
    EXPECT(control(s, (sess_ctl){ .op = SESS_LR, .path = "", .value = 999.0 }));
    EXPECT(control(s, (sess_ctl){ .op = SESS_TRAIN, .count = 5 }));
    sess_wait(s);
    memset(&o, 0, sizeof o);
    drain(s, &o);
    EXPECT(o.kinds[SEV_NONFINITE] == 1 && sess_state_now(s) == SESS_PAUSED);
    m = sess_model(s, 0);
    for (size_t i = 0; i < m->nfloat; i++)
        EXPECTF(isfinite(m->param[i]), "parameter %zu is %g", i, (double)m->param[i]);
    EXPECT(control(s, (sess_ctl){ .op = SESS_STOP }));
    sess_wait(s);
done:
    if (s)
        sess_free(s);
    free(w0);
    free(used);
    task_free(&k);
    txt_vocab_free(&v);
    mf_meta_free(&meta);
}

/* ---- adaptation with a labelled source ------------------------------------- */

enum { SX_SOURCE = 80 };

/* The source domain: quadrant images, the second half of them inverted (a
 * shifted distribution) when `shifted`, else all inverted. */
static void source_domain(float *x, int *y, int half_shifted)
{
    quadrants(x, y, SX_SOURCE, 500);
    for (int i = half_shifted ? SX_SOURCE / 2 : 0; i < SX_SOURCE; i++)
        for (int p = 0; p < SX_PIXELS; p++)
            x[(size_t)i * SX_PIXELS + p] = -x[(size_t)i * SX_PIXELS + p];
}

static float source_x[SX_SOURCE * SX_PIXELS];
static int source_y[SX_SOURCE];

/* A session with the source domain and the pool, technique `how`; 0 and
 * the error in *err when sess_new refuses. */
static int adapt_open(fixture *f, const char *how, int with_source, int with_pool, int half_shifted,
                      thaw_err *err)
{
    model t, b;
    if (!fixture_data(f))
        return 0;
    source_domain(source_x, source_y, half_shifted);
    quadrants(pool_x, pool_y, SX_POOL, 300);
    if (with_source)
        f->d.split[SESS_DOMAIN_SPLIT] = (sess_split){ source_x, source_y, SX_SOURCE };
    if (with_pool) {
        f->d.pool_n = SX_POOL;
        f->d.pool_y = pool_y;
        f->d.pool_image = pool_copy;
    }
    sess_config_default(&f->c);
    f->c.batch = 16;
    if (adapt_parse(&f->c.adapt, how, err) || !net(&t, 5))
        return 0;
    if (!net(&b, 6)) {
        model_free(&t);
        return 0;
    }
    return sess_new(&f->s, &t, &b, NULL, &f->d, &f->c, NULL, err) == THAW_OK;
}

/* What each technique needs is named when it is missing: the source
 * images, the pool, a layer the model has. */
void test_session_adapt_refusals(void)
{
    fixture f;
    thaw_err err = { 0 };
    CHECKF(!adapt_open(&f, "mmd", 0, 1, 0, &err) && strstr(err.msg, "source"), "%s", err.msg);
    fixture_free(&f);
    CHECKF(!adapt_open(&f, "dann", 1, 0, 0, &err) && strstr(err.msg, "pool"), "%s", err.msg);
    fixture_free(&f);
    CHECKF(!adapt_open(&f, "reweight layer=nope", 1, 1, 0, &err) && strstr(err.msg, "nope") &&
           strstr(err.msg, "stem"), "%s", err.msg);
    fixture_free(&f);
    CHECKF(!adapt_open(&f, "source-only", 0, 1, 0, &err) && strstr(err.msg, "source"), "%s", err.msg);
    fixture_free(&f);
    /* a session without source images refuses to switch to a technique that needs them */
    CHECKF(adapt_open(&f, "none", 0, 1, 0, &err), "%s", err.msg);
    sess_ctl c = { .op = SESS_CONFIGURE, .config = f.c };
    CHECK_OK(adapt_parse(&c.config.adapt, "mmd", &err));
    CHECKF(sess_control(f.s, &c, &err) == THAW_EINVAL && strstr(err.msg, "source"), "%s", err.msg);
    fixture_free(&f);
}

/* What an epoch trains on: source-only the source's images alone (and
 * learns the inverted domain: the target's validation falls below chance),
 * the others the target's and the source's; mmd adds no labelled images. */
void test_session_source_in_training(void)
{
    static const struct { const char *how; int images, below_chance; } cases[] = {
        { "source-only", SX_SOURCE, 1 }, { "reweight", SX_TRAIN + SX_SOURCE, 0 },
        { "mmd", SX_TRAIN + SX_SOURCE, 0 }, { "none", SX_TRAIN, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        fixture f;
        seen o;
        thaw_err err = { 0 };
        int steps = (cases[k].images + 15) / 16;
        CHECKF(adapt_open(&f, cases[k].how, 1, 1, 0, &err), "%s: %s", cases[k].how, err.msg);
        if (f.s && train(&f, 1, &o))
            /* on the inverted source alone the model learns the other domain */
            CHECKF(o.nevals == 1 && o.eval[0].step == steps &&
                   (!cases[k].below_chance || o.eval[0].val_acc < 1.0 / SX_CLASSES),
                   "%s: %d evaluations, step %ld (expected %d), val %.2f", cases[k].how, o.nevals,
                   o.nevals ? o.eval[0].step : -1L, steps, o.nevals ? o.eval[0].val_acc : -1.0);
        fixture_free(&f);
    }
}

/* reweight: half the source images look like the target and half are
 * inverted; the ones like the target get the larger weights, the weights
 * have mean 1 within the clip, and a note gives their histogram. */
void test_session_reweight_weights(void)
{
    fixture f;
    seen o;
    thaw_err err = { 0 };
    float w[SX_SOURCE];
    EXPECTF(adapt_open(&f, "reweight clip=20", 1, 1, 1, &err), "%s", err.msg);
    EXPECT(sess_weights(f.s, w, SX_SOURCE) == 0);
    EXPECT(train(&f, 1, &o));
    EXPECT(sess_weights(f.s, w, SX_SOURCE) == SX_SOURCE);
    double like = 0, inverted = 0, sum = 0;
    for (int i = 0; i < SX_SOURCE; i++) {
        if (i < SX_SOURCE / 2)
            like += w[i] / (SX_SOURCE / 2);
        else
            inverted += w[i] / (SX_SOURCE / 2);
        sum += w[i];
        EXPECTF(w[i] >= 1.0f / 20 - 1e-6f && w[i] <= 20 + 1e-6f, "weight %d: %g", i, (double)w[i]);
    }
    CHECKF(like > 4 * inverted && fabs(sum / SX_SOURCE - 1.0) < 0.05,
           "like the target %.3f, inverted %.3f, mean %.3f", like, inverted, sum / SX_SOURCE);
    CHECKF(o.kinds[SEV_NOTE] == 1, "%d notes", o.kinds[SEV_NOTE]);
    CHECK(isnan(o.eval[0].align_loss));
done:
    fixture_free(&f);
}

/* The alignment term at the last of `epochs` evaluations of technique how. */
static double align_loss_after(const char *how, int epochs)
{
    fixture f;
    seen o;
    thaw_err err = { 0 };
    double v = NAN;
    if (adapt_open(&f, how, 1, 1, 0, &err) && train(&f, epochs, &o) && o.nevals == epochs)
        v = o.eval[epochs - 1].align_loss;
    else
        test_failed(__FILE__, __LINE__, "%s: %s", how, err.msg);
    fixture_free(&f);
    return v;
}

/* mmd: the term is measured at every evaluation, and training with it
 * brings the inverted source's features closer to the target's than the
 * same training without it (weight 0). */
void test_session_mmd_aligns(void)
{
    double off = align_loss_after("mmd weight=0", 4), on = align_loss_after("mmd weight=5", 4);
    CHECKF(off > 0 && on >= 0 && on < 0.5 * off, "MMD² without the term %g, with it %g", off, on);
}

/* dann: the domain classifier's loss is reported; with its gradient
 * reversed into the features it ends higher (the domains harder to tell
 * apart) than when it only watches (weight 0). */
void test_session_dann_confuses(void)
{
    double watch = align_loss_after("dann weight=0", 6), reversed = align_loss_after("dann weight=1", 6);
    CHECKF(watch > 0 && reversed > watch, "domain loss watching %g, reversed %g", watch, reversed);
}
