/* session.c — the trainer thread, its control queue, the event queue, and
 * everything a step, an evaluation and the learning-rate finder do. */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loss.h"

enum {
    CTL_MAX = 256,           /* queued commands */
    EVENT_MAX = 4096,        /* queued events */
    STEP_EVENT_MS = 20,      /* at most one SEV_STEP per this many ms */
    DIAG_MS = 100,           /* per-layer diagnostics at most this often */
};

/* One model in training: the transferred one or the baseline. */
typedef struct replica {
    model *m;                /* &store, or NULL for no baseline */
    model store;
    optim opt;
    int *live;               /* slices a step may change (see live_slices) */
    int nlive;
    float *good;             /* the live slices before the current step */
    float *best;             /* the block at the best evaluation (early stopping) */
    double loss_sum;         /* since the last evaluation */
    long correct, seen;
    float loss;              /* the last step's */
    char bad[LAYER_PATH_MAX + 32];   /* what went non-finite */
} replica;

/* What the trainer does next, set by commands. */
typedef struct run_state {
    int end_epoch;           /* train until this many epochs are complete */
    long start_step, total;  /* the current train command's steps, for the schedule */
    int pos;                 /* next sample of the epoch */
    rng aug;                 /* the epoch's stream after its shuffle */
    int batch_index;         /* batches done in the epoch */
    int step_once;           /* one step, then pause */
    int since_best;          /* evaluations without improvement */
    double best_acc, best_loss;
    double t_eval;           /* training seconds at the last evaluation */
    long seen_eval;          /* images at the last evaluation */
} run_state;

struct session {
    sess_data d;
    sess_config c;
    sess_hooks h;
    replica r[2];            /* transferred, scratch (r[1].m NULL without one) */
    model source_store;
    model *source;           /* &source_store or NULL */
    float *w0;               /* the transferred model's block at the start */
    int head_layer_slice0;   /* the head's first slice (kept in the source model) */
    int backbone_live;       /* a step can move something below the head */
    int source_stale;        /* the backbone moved since source_last */
    double source_last;

    pthread_t thread;
    pthread_mutex_t mu;      /* the control queue, state changes, configuration */
    pthread_cond_t wake;     /* the trainer: a command arrived */
    pthread_cond_t settled;  /* sess_wait: the trainer went idle or paused */
    sess_ctl *ctl;
    int ctl_head, ctl_n, applying, quit;
    _Atomic int state, epoch;

    sess_event *evq;         /* single producer, single consumer */
    _Atomic size_t ev_head, ev_tail;
    _Atomic long dropped;
    int pipe[2];

    /* Trainer-only from here on. */
    run_state run;
    long step;
    int per_epoch;
    int *order;              /* (train n) this epoch's order */
    float *bx, *tmp;         /* a batch of images; one image before augmentation */
    int *by;
    thaw_plan plan;
    double t_train;          /* seconds spent training */
    double last_step_event, last_diag;
    long seen_total;

    int cache_first;         /* root children the cache skips; 0 = no cache */
    int cache_stale;
    size_t feat;             /* floats per cached sample */
    float *cache[2];         /* train and validation features */
    float *fx;               /* a batch of features */

    pthread_t worker;        /* the baseline's thread when c.parallel */
    int has_worker;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    void (*job)(session *s, void *arg);
    void *job_arg;
    int job_gen, done_gen, wquit;

    pthread_mutex_t board_mu;   /* the per-layer view and confusion matrix */
    sess_layer *layers, *layers_next;
    int nlayers;
    long *confusion, *confusion_next;
    int conf_split, conf_pending, layers_pending;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sess_config_default(sess_config *c)
{
    memset(c, 0, sizeof *c);
    c->batch = 32;
    c->optimizer = OPTIM_SGD;
    c->momentum = 0.9f;
    c->weight_decay = 5e-4f;
    c->scratch_lr = 0.01f;
    schedule_default(&c->sched, SCHED_CONSTANT);
    c->baseline = 1;
    c->parallel = 0;
    c->evals_per_epoch = 1;
    c->seed = 1;
    c->cache_bytes = (size_t)512 << 20;
}

/* ---- events ------------------------------------------------------------ */

static int hooked(sess_event_kind k)
{
    return k == SEV_CHANGE || k == SEV_STATE || k == SEV_NONFINITE || k == SEV_ERROR;
}

static void emit(session *s, sess_event *ev)
{
    ev->epoch = atomic_load(&s->epoch);
    ev->step = s->step;
    if (ev->kind != SEV_STATE)          /* a state event carries the state it announces */
        ev->state = (sess_state)atomic_load(&s->state);
    if (s->h.event && (hooked(ev->kind) || (ev->kind == SEV_LRFIND && ev->count < 0)))
        s->h.event(s->h.ctx, ev);
    size_t tail = atomic_load_explicit(&s->ev_tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&s->ev_head, memory_order_acquire);
    if (tail - head >= EVENT_MAX) {
        atomic_fetch_add(&s->dropped, 1);
        return;
    }
    s->evq[tail % EVENT_MAX] = *ev;
    atomic_store_explicit(&s->ev_tail, tail + 1, memory_order_release);
    ssize_t w = write(s->pipe[1], "", 1);   /* a full pipe already wakes the reader */
    (void)w;
}

static void emit_text(session *s, sess_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit_text(session *s, sess_event_kind kind, const char *fmt, ...)
{
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.text, sizeof ev.text, fmt, ap);
    va_end(ap);
    emit(s, &ev);
}

int sess_poll(session *s, sess_event *ev, int timeout_ms)
{
    for (;;) {
        char sink[256];
        while (read(s->pipe[0], sink, sizeof sink) > 0)
            ;
        size_t head = atomic_load_explicit(&s->ev_head, memory_order_relaxed);
        size_t tail = atomic_load_explicit(&s->ev_tail, memory_order_acquire);
        if (head != tail) {
            *ev = s->evq[head % EVENT_MAX];
            atomic_store_explicit(&s->ev_head, head + 1, memory_order_release);
            return 1;
        }
        if (timeout_ms == 0)
            return 0;
        struct pollfd p = { .fd = s->pipe[0], .events = POLLIN };
        int rc = poll(&p, 1, timeout_ms);
        if (rc == 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return 0;
    }
}

int sess_fd(const session *s) { return s->pipe[0]; }
long sess_dropped(const session *s) { return atomic_load(&((session *)s)->dropped); }
sess_state sess_state_now(const session *s) { return (sess_state)atomic_load(&((session *)s)->state); }
int sess_epoch(const session *s) { return atomic_load(&((session *)s)->epoch); }

/* The event goes out first, so whoever sess_wait releases finds it queued. */
static void set_state(session *s, sess_state st, const char *why)
{
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SEV_STATE;
    ev.state = st;
    snprintf(ev.text, sizeof ev.text, "%s", why);
    emit(s, &ev);
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->state, st);
    if (st != SESS_RUNNING)
        pthread_cond_broadcast(&s->settled);
    pthread_mutex_unlock(&s->mu);
}

/* ---- slices a step touches --------------------------------------------- */

/* Trainable slices, and the running statistics of BatchNorm layers that
 * train (they move in a training forward pass). */
static int slice_live(const model *m, int i)
{
    const param_slice *p = &m->slice[i];
    return p->kind == PARAM_STAT ? p->owner->trainable : !p->frozen;
}

static void live_slices(replica *r)
{
    r->nlive = 0;
    for (int i = 0; i < r->m->nslice; i++)
        if (slice_live(r->m, i))
            r->live[r->nlive++] = i;
}

static void live_copy(replica *r, float *dst, const float *src)
{
    for (int k = 0; k < r->nlive; k++) {
        const param_slice *p = &r->m->slice[r->live[k]];
        memcpy(dst + p->off, src + p->off, p->len * sizeof(float));
    }
}

static int all_finite(const float *v, size_t n)
{
    float acc = 0.0f;
    for (size_t i = 0; i < n; i++)
        acc += v[i] * 0.0f;               /* NaN for any NaN or Inf */
    return acc == 0.0f;
}

/* The first live slice (trainable only when grads) holding a non-finite value. */
static const param_slice *nonfinite_slice(const replica *r, const float *block, int grads)
{
    for (int k = 0; k < r->nlive; k++) {
        const param_slice *p = &r->m->slice[r->live[k]];
        if (grads && p->kind == PARAM_STAT)
            continue;
        if (!all_finite(block + p->off, p->len))
            return p;
    }
    return NULL;
}

/* ---- one step ---------------------------------------------------------- */

typedef struct step_job {
    replica *r;
    const float *x;
    const int *y;
    int n, first;
    float factor;
    int ok;
} step_job;

static void replica_step(session *s, void *arg)
{
    (void)s;
    step_job *j = arg;
    replica *r = j->r;
    model *m = r->m;
    j->ok = 0;
    live_copy(r, r->good, m->param);
    for (int k = 0; k < r->nlive; k++) {
        const param_slice *p = &m->slice[r->live[k]];
        memset(m->grad + p->off, 0, p->len * sizeof(float));
    }
    model_forward_from(m, j->first, j->x, j->n, 1);
    r->loss = loss_softmax_xent(m->root->dy, m->root->y, j->y, j->n, m->classes);
    const param_slice *bad = NULL;
    if (!isfinite(r->loss)) {
        snprintf(r->bad, sizeof r->bad, "the loss is %g", (double)r->loss);
        live_copy(r, m->param, r->good);   /* the forward pass moved running statistics */
        return;
    }
    long correct = loss_correct(m->root->y, j->y, j->n, m->classes);
    model_backward_from(m, j->first, j->x, j->n);
    if ((bad = nonfinite_slice(r, m->grad, 1))) {
        snprintf(r->bad, sizeof r->bad, "the gradient of %s", bad->name);
        live_copy(r, m->param, r->good);
        return;
    }
    optim_step(&r->opt, m, j->factor);
    if ((bad = nonfinite_slice(r, m->param, 0))) {
        snprintf(r->bad, sizeof r->bad, "the update of %s", bad->name);
        live_copy(r, m->param, r->good);
        return;
    }
    r->loss_sum += (double)r->loss * j->n;
    r->correct += correct;
    r->seen += j->n;
    j->ok = 1;
}

/* ---- the baseline's thread --------------------------------------------- */

static void *worker_main(void *arg)
{
    session *s = arg;
    pthread_mutex_lock(&s->wmu);
    for (;;) {
        while (s->job_gen == s->done_gen && !s->wquit)
            pthread_cond_wait(&s->wcv, &s->wmu);
        if (s->wquit)
            break;
        void (*job)(session *, void *) = s->job;
        void *jarg = s->job_arg;
        pthread_mutex_unlock(&s->wmu);
        job(s, jarg);
        pthread_mutex_lock(&s->wmu);
        s->done_gen = s->job_gen;
        pthread_cond_broadcast(&s->wcv);
    }
    pthread_mutex_unlock(&s->wmu);
    return NULL;
}

/* Runs job(a) here and job(b) on the worker (or here, after a, without one). */
static void run_pair(session *s, void (*job)(session *, void *), void *a, void *b)
{
    if (!b) {
        job(s, a);
        return;
    }
    if (!s->has_worker) {
        job(s, a);
        job(s, b);
        return;
    }
    pthread_mutex_lock(&s->wmu);
    s->job = job;
    s->job_arg = b;
    s->job_gen++;
    pthread_cond_broadcast(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    job(s, a);
    pthread_mutex_lock(&s->wmu);
    while (s->done_gen != s->job_gen)
        pthread_cond_wait(&s->wcv, &s->wmu);
    pthread_mutex_unlock(&s->wmu);
}

/* ---- the feature cache ------------------------------------------------- */

static void cache_drop(session *s)
{
    free(s->cache[0]);
    free(s->cache[1]);
    free(s->fx);
    s->cache[0] = s->cache[1] = s->fx = NULL;
    s->cache_first = 0;
}

/* Runs one split through the frozen prefix into dst. */
static void cache_fill(session *s, float *dst, const sess_split *sp)
{
    model *m = s->r[0].m;
    const layer *cut = m->root->child[s->cache_first - 1];
    size_t img = shape3_count(s->d.in);
    for (int i = 0; i < sp->n; i += m->batch) {
        int n = sp->n - i < m->batch ? sp->n - i : m->batch;
        model_forward(m, sp->x + (size_t)i * img, n, 0);
        memcpy(dst + (size_t)i * s->feat, cut->y, (size_t)n * s->feat * sizeof(float));
    }
}

/* Makes the cache match the current freezing: rebuilt when the frozen
 * prefix moved, dropped when it is gone, the budget is too small or
 * augmentation is on. */
static void cache_update(session *s)
{
    s->cache_stale = 0;
    model *m = s->r[0].m;
    int first = s->d.augment || !s->c.cache_bytes ? 0 : model_frozen_prefix(m);
    if (first == s->cache_first)
        return;
    cache_drop(s);
    if (first == 0)
        return;
    size_t feat = shape3_count(m->root->child[first - 1]->out);
    size_t n = (size_t)s->d.split[SESS_TRAIN_SPLIT].n + (size_t)s->d.split[SESS_VAL_SPLIT].n;
    if (feat * n > s->c.cache_bytes / sizeof(float))
        return;
    s->feat = feat;
    s->cache[0] = malloc(feat * (size_t)s->d.split[SESS_TRAIN_SPLIT].n * sizeof(float) + 1);
    s->cache[1] = malloc(feat * (size_t)s->d.split[SESS_VAL_SPLIT].n * sizeof(float) + 1);
    s->fx = malloc(feat * (size_t)s->c.batch * sizeof(float));
    if (!s->cache[0] || !s->cache[1] || !s->fx) {
        cache_drop(s);               /* training goes on without a cache */
        return;
    }
    s->cache_first = first;
    cache_fill(s, s->cache[0], &s->d.split[SESS_TRAIN_SPLIT]);
    cache_fill(s, s->cache[1], &s->d.split[SESS_VAL_SPLIT]);
}

/* ---- evaluation -------------------------------------------------------- */

typedef struct eval_job {
    replica *r;
    const sess_split *sp;
    const float *feat;        /* cached features of sp, or NULL */
    int first;
    long *confusion;          /* (classes, classes) or NULL */
    double loss, acc;
} eval_job;

static void replica_eval(session *s, void *arg)
{
    eval_job *j = arg;
    model *m = j->r->m;
    size_t img = j->feat ? s->feat : shape3_count(s->d.in);
    const float *x = j->feat ? j->feat : j->sp->x;
    double loss = 0.0;
    long correct = 0;
    for (int i = 0; i < j->sp->n; i += m->batch) {
        int n = j->sp->n - i < m->batch ? j->sp->n - i : m->batch;
        const int *y = j->sp->y + i;
        model_forward_from(m, j->feat ? j->first : 0, x + (size_t)i * img, n, 0);
        loss += (double)loss_softmax_xent(NULL, m->root->y, y, n, m->classes) * n;
        for (int b = 0; b < n; b++) {
            const float *z = m->root->y + (size_t)b * m->classes;
            int best = 0;
            for (int k = 1; k < m->classes; k++)
                if (z[k] > z[best])
                    best = k;
            correct += best == y[b];
            if (j->confusion)
                j->confusion[(size_t)y[b] * m->classes + best]++;
        }
    }
    j->loss = j->sp->n ? loss / j->sp->n : NAN;
    j->acc = j->sp->n ? (double)correct / j->sp->n : NAN;
}

/* Evaluates both models on one split (transfer's confusion into conf). */
static void eval_split(session *s, int split, long *conf, double out[2][2])
{
    const sess_split *sp = &s->d.split[split];
    eval_job j[2] = {
        { .r = &s->r[0], .sp = sp, .confusion = conf, .first = s->cache_first,
          .feat = split == SESS_VAL_SPLIT && s->cache_first ? s->cache[1] : NULL },
        { .r = &s->r[1], .sp = sp },
    };
    run_pair(s, replica_eval, &j[0], s->r[1].m ? &j[1] : NULL);
    for (int k = 0; k < 2; k++) {
        out[k][0] = s->r[k].m ? j[k].loss : NAN;
        out[k][1] = s->r[k].m ? j[k].acc : NAN;
    }
}

/* The backbone as it is now, with the source model's own head, on the
 * source's test images. */
static double source_accuracy(session *s)
{
    const sess_split *sp = &s->d.split[SESS_SOURCE_SPLIT];
    if (!s->source || sp->n == 0)
        return NAN;
    if (!s->source_stale)
        return s->source_last;
    s->source_stale = 0;
    model *t = s->r[0].m, *src = s->source;
    for (int i = 0; i < s->head_layer_slice0; i++) {
        param_slice *p = model_slice(src, t->slice[i].name);
        if (p && p->len == t->slice[i].len)
            memcpy(src->param + p->off, t->param + t->slice[i].off, p->len * sizeof(float));
    }
    replica tmp = { .m = src };
    eval_job j = { .r = &tmp, .sp = sp };
    replica_eval(s, &j);
    return s->source_last = j.acc;
}

static float head_lr(const model *m)
{
    for (int i = m->nslice - 1; i >= 0; i--)
        if (m->slice[i].kind != PARAM_STAT)
            return m->slice[i].lr;
    return 0.0f;
}

static double current_factor(const session *s)
{
    return schedule_factor(&s->c.sched, s->step - s->run.start_step, s->run.total, s->per_epoch);
}

static void publish_confusion(session *s)
{
    if (pthread_mutex_trylock(&s->board_mu) != 0) {
        s->conf_pending = 1;
        return;
    }
    size_t n = (size_t)s->d.classes * (size_t)s->d.classes;
    memcpy(s->confusion, s->confusion_next, n * sizeof(long));
    s->conf_pending = 0;
    pthread_mutex_unlock(&s->board_mu);
}

static void diagnostics(session *s);

static void evaluate(session *s, int final, int with_test)
{
    sess_eval e;
    double v[2][2], t[2][2];
    memset(&e, 0, sizeof e);
    size_t cn = (size_t)s->d.classes * (size_t)s->d.classes;
    memset(s->confusion_next, 0, cn * sizeof(long));
    int test = with_test && s->d.split[SESS_TEST_SPLIT].n > 0;
    eval_split(s, SESS_VAL_SPLIT, test ? NULL : s->confusion_next, v);
    if (test)
        eval_split(s, SESS_TEST_SPLIT, s->confusion_next, t);
    else
        t[0][1] = t[1][1] = NAN;
    s->conf_split = test ? SESS_TEST_SPLIT : SESS_VAL_SPLIT;
    publish_confusion(s);

    e.epoch = atomic_load(&s->epoch);
    e.step = s->step;
    e.wall = s->t_train;
    double dt = s->t_train - s->run.t_eval;
    e.img_s = dt > 0 ? (double)(s->seen_total - s->run.seen_eval) / dt : NAN;
    s->run.t_eval = s->t_train;
    s->run.seen_eval = s->seen_total;
    double f = current_factor(s);
    e.lr = head_lr(s->r[0].m) * f;
    e.scratch_lr = s->r[1].m ? s->c.scratch_lr * f : NAN;
    replica *r = &s->r[0], *b = &s->r[1];
    e.train_loss = r->seen ? r->loss_sum / r->seen : NAN;
    e.train_acc = r->seen ? (double)r->correct / r->seen : NAN;
    e.scratch_train_loss = b->m && b->seen ? b->loss_sum / b->seen : NAN;
    e.scratch_train_acc = b->m && b->seen ? (double)b->correct / b->seen : NAN;
    for (int k = 0; k < 2; k++) {
        s->r[k].loss_sum = 0.0;
        s->r[k].correct = s->r[k].seen = 0;
    }
    e.val_loss = v[0][0];
    e.val_acc = v[0][1];
    e.scratch_val_loss = v[1][0];
    e.scratch_val_acc = v[1][1];
    e.delta = e.val_acc - e.scratch_val_acc;
    e.test_acc = t[0][1];
    e.scratch_test_acc = t[1][1];
    e.test_delta = e.test_acc - e.scratch_test_acc;
    e.source_acc = source_accuracy(s);
    e.final = final;

    /* Best: the highest validation accuracy, ties to the lower loss. */
    if (e.val_acc > s->run.best_acc ||
        (e.val_acc == s->run.best_acc && e.val_loss < s->run.best_loss)) {
        s->run.best_acc = e.val_acc;
        s->run.best_loss = e.val_loss;
        s->run.since_best = 0;
        e.best = 1;
        for (int k = 0; k < 2; k++)
            if (s->r[k].best)
                memcpy(s->r[k].best, s->r[k].m->param, s->r[k].m->nfloat * sizeof(float));
    } else {
        s->run.since_best++;
    }
    diagnostics(s);
    if (s->h.eval)
        s->h.eval(s->h.ctx, &e, s->r[0].m, s->r[1].m);
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SEV_EVAL;
    ev.eval = e;
    emit(s, &ev);
}

/* ---- per-layer diagnostics --------------------------------------------- */

static void sums(const float *a, const float *b, size_t n, double *aa, double *bb, double *dd)
{
    double x = 0, y = 0, z = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        x += (double)a[i] * a[i];
        y += (double)b[i] * b[i];
        z += d * d;
    }
    *aa += x;
    *bb += y;
    *dd += z;
}

static int layer_frozen_state(const model *m, const layer *l)
{
    int frozen = 0, open = 0;
    for (int i = l->slice0; i < l->slice0 + l->nslice; i++) {
        if (m->slice[i].kind == PARAM_STAT)
            continue;
        if (m->slice[i].frozen)
            frozen++;
        else
            open++;
    }
    return open == 0 ? 1 : frozen == 0 ? 0 : 2;
}

static void diagnostics(session *s)
{
    replica *r = &s->r[0];
    model *m = r->m;
    for (int k = 0; k < s->nlayers; k++) {
        sess_layer *d = &s->layers_next[k];
        const layer *l = d->l;
        memset(d, 0, sizeof *d);
        d->l = l;
        d->frozen = layer_frozen_state(m, l);
        d->lr = NAN;
        for (int i = l->slice0; i < l->slice0 + l->nslice; i++) {
            const param_slice *p = &m->slice[i];
            const float *w = m->param + p->off, *w0 = s->w0 + p->off;
            if (p->kind == PARAM_STAT) {
                double unused = 0;
                sums(w0, w, p->len, &d->s02, &unused, &d->s2);
                continue;
            }
            if (isnan(d->lr) && (!p->frozen || d->frozen == 1))
                d->lr = p->lr;
            double unused = 0;
            sums(w, w0, p->len, &d->w2, &d->w02, &d->d2);
            if (!p->frozen) {
                sums(w, r->good + p->off, p->len, &unused, &unused, &d->u2);
                for (size_t q = 0; q < p->len; q++)
                    d->g2 += (double)m->grad[p->off + q] * m->grad[p->off + q];
            }
        }
        d->grad_norm = sqrt(d->g2);
        d->drift = d->w02 > 0 ? sqrt(d->d2 / d->w02) : 0.0;
        d->update_ratio = d->w2 > 0 ? sqrt(d->u2 / d->w2) : 0.0;
        d->stat_drift = d->s02 > 0 ? sqrt(d->s2 / d->s02) : 0.0;
    }
    if (pthread_mutex_trylock(&s->board_mu) != 0) {
        s->layers_pending = 1;
        return;
    }
    memcpy(s->layers, s->layers_next, (size_t)s->nlayers * sizeof *s->layers);
    s->layers_pending = 0;
    pthread_mutex_unlock(&s->board_mu);
}

int sess_layers(session *s, sess_layer *out, int cap)
{
    pthread_mutex_lock(&s->board_mu);
    int n = s->nlayers < cap ? s->nlayers : cap;
    memcpy(out, s->layers, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&s->board_mu);
    return n;
}

int sess_confusion_get(session *s, sess_confusion *out)
{
    pthread_mutex_lock(&s->board_mu);
    out->classes = s->d.classes;
    out->split = s->conf_split;
    memcpy(out->count, s->confusion, (size_t)s->d.classes * s->d.classes * sizeof(long));
    pthread_mutex_unlock(&s->board_mu);
    return s->d.classes;
}

/* ---- batches ----------------------------------------------------------- */

static rng epoch_stream(const session *s, long e)
{
    return rng_seeded(s->c.seed * 0x9E3779B97F4A7C15ull ^ ((unsigned long long)e + 1) * 0xD1B54A32D192ED03ull);
}

static void shuffle(session *s, rng *r)
{
    int n = s->d.split[SESS_TRAIN_SPLIT].n;
    for (int i = 0; i < n; i++)
        s->order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(r) % (uint64_t)(i + 1));
        int t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
}

/* Gathers samples order[pos .. pos+n) into bx/by (and their cached
 * features into fx), augmenting from r. */
static void gather(session *s, int pos, int n, rng *r)
{
    const sess_split *sp = &s->d.split[SESS_TRAIN_SPLIT];
    size_t img = shape3_count(s->d.in);
    for (int b = 0; b < n; b++) {
        int i = s->order[pos + b];
        s->by[b] = sp->y[i];
        if (s->cache_first)
            memcpy(s->fx + (size_t)b * s->feat, s->cache[0] + (size_t)i * s->feat,
                   s->feat * sizeof(float));
        if (s->d.augment)
            s->d.augment(s->d.augment_ctx, s->bx + (size_t)b * img, sp->x + (size_t)i * img, r);
        else if (!s->cache_first || s->r[1].m)
            memcpy(s->bx + (size_t)b * img, sp->x + (size_t)i * img, img * sizeof(float));
    }
}

/* ---- training ---------------------------------------------------------- */

static void refresh_live(session *s)
{
    for (int k = 0; k < 2; k++)
        if (s->r[k].m)
            live_slices(&s->r[k]);
    s->backbone_live = s->r[0].nlive > 0 && s->r[0].live[0] < s->head_layer_slice0;
    s->cache_stale = 1;
}

static void restore_best(session *s)
{
    for (int k = 0; k < 2; k++)
        if (s->r[k].best)
            memcpy(s->r[k].m->param, s->r[k].best, s->r[k].m->nfloat * sizeof(float));
}

/* The end of a train command: the final evaluation with the test split. */
static void finish(session *s, const char *why)
{
    if (s->c.patience > 0 && s->run.best_acc >= 0)
        restore_best(s);
    evaluate(s, 1, 1);
    s->run.step_once = 0;
    set_state(s, SESS_IDLE, why);
}

static void apply_plan(session *s, int epoch)
{
    for (int i = 0; i < s->plan.n; i++) {
        if (s->plan.ev[i].epoch != epoch)
            continue;
        layer *l = model_find(s->r[0].m, s->plan.ev[i].path);
        if (!l)
            continue;
        model_freeze(s->r[0].m, l, 0);
        refresh_live(s);
        emit_text(s, SEV_CHANGE, "unfreeze %s (gradual, epoch %d)",
                  s->plan.ev[i].path[0] ? s->plan.ev[i].path : "all", epoch + 1);
    }
}

static void train_step(session *s)
{
    int ntrain = s->d.split[SESS_TRAIN_SPLIT].n;
    int epoch = atomic_load(&s->epoch);
    if (s->run.pos == 0) {
        apply_plan(s, epoch);
        s->run.aug = epoch_stream(s, epoch);
        shuffle(s, &s->run.aug);
    }
    if (s->cache_stale)
        cache_update(s);
    double t0 = now_s();
    int n = ntrain - s->run.pos < s->c.batch ? ntrain - s->run.pos : s->c.batch;
    gather(s, s->run.pos, n, &s->run.aug);
    float factor = (float)current_factor(s);
    step_job j[2] = {
        { .r = &s->r[0], .x = s->cache_first ? s->fx : s->bx, .y = s->by, .n = n,
          .first = s->cache_first, .factor = factor },
        { .r = &s->r[1], .x = s->bx, .y = s->by, .n = n, .factor = factor },
    };
    run_pair(s, replica_step, &j[0], s->r[1].m ? &j[1] : NULL);
    double t1 = now_s();
    s->t_train += t1 - t0;
    for (int k = 0; k < 2; k++) {
        if (!s->r[k].m || j[k].ok)
            continue;
        s->run.step_once = 0;
        emit_text(s, SEV_NONFINITE, "%s model, step %ld: %s is not finite; the last good "
                  "weights are kept", k ? "scratch" : "transferred", s->step + 1, s->r[k].bad);
        set_state(s, SESS_PAUSED, "paused: a value became non-finite");
        return;
    }
    s->step++;
    s->seen_total += n;
    s->source_stale |= s->backbone_live;
    s->run.pos += n;
    s->run.batch_index++;
    if ((t1 - s->last_step_event) * 1000.0 >= STEP_EVENT_MS) {
        s->last_step_event = t1;
        sess_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = SEV_STEP;
        ev.value = s->r[0].loss;
        ev.value2 = head_lr(s->r[0].m) * factor;
        emit(s, &ev);
    }
    if ((t1 - s->last_diag) * 1000.0 >= DIAG_MS || s->layers_pending) {
        s->last_diag = t1;
        diagnostics(s);
    } else if (s->conf_pending) {
        publish_confusion(s);
    }
    int per = s->per_epoch, k = s->c.evals_per_epoch;
    int end_of_epoch = s->run.pos >= ntrain;
    int mid_eval = !end_of_epoch && k > 1 &&
                   (long)s->run.batch_index * k / per != (long)(s->run.batch_index - 1) * k / per;
    if (end_of_epoch) {
        s->run.pos = 0;
        s->run.batch_index = 0;
        atomic_store(&s->epoch, epoch + 1);
    }
    int last = end_of_epoch && epoch + 1 >= s->run.end_epoch;
    if (last) {
        finish(s, "finished");
        return;
    }
    if (end_of_epoch || mid_eval) {
        evaluate(s, 0, 0);
        if (s->c.patience > 0 && s->run.since_best >= s->c.patience) {
            finish(s, "early stop");
            return;
        }
    }
    if (s->run.step_once) {
        s->run.step_once = 0;
        set_state(s, SESS_PAUSED, "paused after one step");
    }
}

/* ---- the learning-rate finder ------------------------------------------ */

/* fast.ai's "valley": the middle of the longest run of decreasing loss. */
static int valley(const double *loss, int n, int *lds)
{
    int max_start = 0, max_end = 0;
    for (int i = 0; i < n; i++) {
        lds[i] = 1;
        for (int j = 0; j < i; j++)
            if (loss[i] < loss[j] && lds[i] < lds[j] + 1)
                lds[i] = lds[j] + 1;
        if (lds[max_end] < lds[i]) {
            max_end = i;
            max_start = max_end - lds[max_end];
        }
    }
    double sections = (double)(max_end - max_start) / 3.0;
    int idx = max_start + (int)sections + (int)(sections / 2.0);
    return idx < n ? idx : n - 1;
}

static void lr_find(session *s, double lo, double hi, int steps)
{
    replica *r = &s->r[0];
    model *m = r->m;
    double ref = head_lr(m);
    int nt = s->d.split[SESS_TRAIN_SPLIT].n;
    double *lr = malloc((size_t)steps * sizeof *lr), *sm = malloc((size_t)steps * sizeof *sm);
    int *lds = malloc((size_t)steps * sizeof *lds);
    float *keep = malloc(m->nfloat * sizeof(float));
    long steps0 = r->opt.steps;
    int *order = malloc((size_t)nt * sizeof(int));
    float *st1 = malloc(r->opt.n * sizeof(float) + 1), *st2 = malloc(r->opt.n * sizeof(float) + 1);
    long *ss = malloc((size_t)m->nslice * sizeof(long));
    if (!lr || !sm || !lds || !keep || !st1 || !st2 || !ss || !order || ref <= 0) {
        emit_text(s, SEV_ERROR, ref <= 0 ? "lr-find: the head's learning rate is 0"
                                         : "lr-find: out of memory");
        goto done;
    }
    memcpy(keep, m->param, m->nfloat * sizeof(float));
    if (r->opt.state1)
        memcpy(st1, r->opt.state1, r->opt.n * sizeof(float));
    if (r->opt.state2)
        memcpy(st2, r->opt.state2, r->opt.n * sizeof(float));
    memcpy(ss, r->opt.slice_steps, (size_t)m->nslice * sizeof(long));
    memcpy(order, s->order, (size_t)nt * sizeof(int));
    if (s->cache_stale)
        cache_update(s);
    double avg = 0.0, best = INFINITY;
    int n = 0, pos = nt;
    rng stream = epoch_stream(s, -1);
    for (int i = 0; i < steps; i++) {
        if (pos >= nt) {
            shuffle(s, &stream);
            pos = 0;
        }
        int b = nt - pos < s->c.batch ? nt - pos : s->c.batch;
        gather(s, pos, b, &stream);
        pos += b;
        double rate = lo * pow(hi / lo, steps > 1 ? (double)i / (steps - 1) : 0.0);
        step_job j = { .r = r, .x = s->cache_first ? s->fx : s->bx, .y = s->by, .n = b,
                       .first = s->cache_first, .factor = (float)(rate / ref) };
        replica_step(s, &j);
        if (!j.ok)
            break;
        avg = 0.98 * avg + 0.02 * r->loss;
        double smooth = avg / (1.0 - pow(0.98, i + 1));
        lr[n] = rate;
        sm[n++] = smooth;
        sess_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = SEV_LRFIND;
        ev.value = rate;
        ev.value2 = smooth;
        ev.count = i;
        emit(s, &ev);
        if (smooth < best)
            best = smooth;
        if (smooth > 4.0 * best)
            break;
    }
    r->loss_sum = 0.0;
    r->correct = r->seen = 0;
    memcpy(m->param, keep, m->nfloat * sizeof(float));
    if (r->opt.state1)
        memcpy(r->opt.state1, st1, r->opt.n * sizeof(float));
    if (r->opt.state2)
        memcpy(r->opt.state2, st2, r->opt.n * sizeof(float));
    memcpy(r->opt.slice_steps, ss, (size_t)m->nslice * sizeof(long));
    r->opt.steps = steps0;
    memcpy(s->order, order, (size_t)nt * sizeof(int));
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SEV_LRFIND;
    ev.count = -1;
    ev.value = n >= 3 ? lr[valley(sm, n, lds)] : NAN;
    ev.value2 = ref;
    snprintf(ev.text, sizeof ev.text, n >= 3 ? "lr-find: %d steps from %.3g to %.3g; suggested head rate %.3g"
                                             : "lr-find: only %d steps before the loss diverged (from %.3g to %.3g)",
             n, lo, n ? lr[n - 1] : lo, ev.value);
    emit(s, &ev);
done:
    free(lr);
    free(sm);
    free(lds);
    free(keep);
    free(st1);
    free(st2);
    free(ss);
    free(order);
}

/* ---- commands ---------------------------------------------------------- */

static const char *shown(const char *path) { return path[0] ? path : "all"; }

static int prepare_buffers(session *s, int batch, thaw_err *err)
{
    size_t img = shape3_count(s->d.in);
    float *bx = malloc((size_t)batch * img * sizeof(float));
    int *by = malloc((size_t)batch * sizeof(int));
    if (!bx || !by) {
        free(bx);
        free(by);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a batch of %d", batch);
    }
    for (int k = 0; k < 2; k++)
        if (s->r[k].m && model_prepare(s->r[k].m, batch, err)) {
            free(bx);
            free(by);
            return err ? err->code : THAW_ENOMEM;
        }
    if (s->source && model_prepare(s->source, batch, err)) {
        free(bx);
        free(by);
        return err ? err->code : THAW_ENOMEM;
    }
    free(s->bx);
    free(s->by);
    s->bx = bx;
    s->by = by;
    int n = s->d.split[SESS_TRAIN_SPLIT].n;
    s->per_epoch = (n + batch - 1) / batch;
    return THAW_OK;
}

static int optim_setup(session *s, thaw_err *err)
{
    for (int k = 0; k < 2; k++) {
        replica *r = &s->r[k];
        if (!r->m)
            continue;
        optim_free(&r->opt);
        if (optim_init(&r->opt, r->m, s->c.optimizer, err))
            return err ? err->code : THAW_ENOMEM;
        r->opt.momentum = s->c.optimizer == OPTIM_SGD ? s->c.momentum : 0.0f;
        r->opt.weight_decay = s->c.weight_decay;
    }
    return THAW_OK;
}

static void configure(session *s, const sess_config *c)
{
    thaw_err err = {0};
    sess_config old = s->c;
    pthread_mutex_lock(&s->mu);
    s->c = *c;
    pthread_mutex_unlock(&s->mu);
    if (c->batch != old.batch) {
        if (prepare_buffers(s, c->batch, &err)) {
            pthread_mutex_lock(&s->mu);
            s->c = old;
            pthread_mutex_unlock(&s->mu);
            emit_text(s, SEV_ERROR, "%s", err.msg);
            return;
        }
        cache_drop(s);              /* its batch buffer changes size */
        s->cache_stale = 1;
    }
    if (c->optimizer != old.optimizer && optim_setup(s, &err)) {
        emit_text(s, SEV_ERROR, "%s", err.msg);
        return;
    }
    for (int k = 0; k < 2; k++)
        if (s->r[k].m) {
            s->r[k].opt.momentum = c->optimizer == OPTIM_SGD ? c->momentum : 0.0f;
            s->r[k].opt.weight_decay = c->weight_decay;
        }
    if (s->r[1].m && c->scratch_lr != old.scratch_lr)
        model_set_lr(s->r[1].m, s->r[1].m->root, c->scratch_lr);
    if (c->cache_bytes != old.cache_bytes)
        s->cache_stale = 1;
}

static void start_train(session *s, int epochs, int paused)
{
    int e = atomic_load(&s->epoch);
    sess_state st = (sess_state)atomic_load(&s->state);
    if (st == SESS_IDLE) {
        s->run.end_epoch = e + epochs;
        s->run.start_step = s->step;
        s->run.total = (long)epochs * s->per_epoch - s->run.batch_index;
        s->run.since_best = 0;
        s->run.best_acc = -1.0;
        s->run.best_loss = INFINITY;
        set_state(s, paused ? SESS_PAUSED : SESS_RUNNING,
                  paused ? "paused before the first step" : "training");
    } else {
        s->run.end_epoch += epochs;
        s->run.total += (long)epochs * s->per_epoch;
    }
}

static void apply(session *s, const sess_ctl *c)
{
    sess_state st = (sess_state)atomic_load(&s->state);
    model *m = s->r[0].m;
    switch (c->op) {
    case SESS_TRAIN:
        start_train(s, c->count, 0);
        break;
    case SESS_PAUSE:
        if (st == SESS_RUNNING)
            set_state(s, SESS_PAUSED, "paused");
        break;
    case SESS_RESUME:
        if (st == SESS_PAUSED)
            set_state(s, SESS_RUNNING, "training");
        break;
    case SESS_STOP:
        if (st != SESS_IDLE)
            finish(s, "stopped");
        break;
    case SESS_STEP:
        if (st == SESS_IDLE)
            start_train(s, 1, 1);
        if ((sess_state)atomic_load(&s->state) == SESS_PAUSED) {
            s->run.step_once = 1;
            pthread_mutex_lock(&s->mu);
            atomic_store(&s->state, SESS_RUNNING);
            pthread_mutex_unlock(&s->mu);
        }
        break;
    case SESS_FREEZE:
    case SESS_UNFREEZE:
        model_freeze(m, model_find(m, c->path), c->op == SESS_FREEZE);
        refresh_live(s);
        emit_text(s, SEV_CHANGE, "%s %s", c->op == SESS_FREEZE ? "freeze" : "unfreeze", shown(c->path));
        break;
    case SESS_LR:
        model_set_lr(m, model_find(m, c->path), (float)c->value);
        emit_text(s, SEV_CHANGE, "lr %s %.3g", shown(c->path), c->value);
        break;
    case SESS_STRATEGY: {
        thaw_err err = {0};
        char name[96];
        thaw_plan plan = {0};
        if (strategy_apply(&c->strat, m, (float)c->value, &plan, &err)) {
            emit_text(s, SEV_ERROR, "%s", err.msg);
            break;
        }
        s->plan = plan;
        for (int i = 0; i < s->plan.n; i++)
            s->plan.ev[i].epoch += atomic_load(&s->epoch);
        refresh_live(s);
        strategy_format(&c->strat, name, sizeof name);
        emit_text(s, SEV_CHANGE, "strategy %s (head rate %.3g)", name, c->value);
        break;
    }
    case SESS_THAW_AT: {
        int i = 0;
        while (i < s->plan.n && strcmp(s->plan.ev[i].path, c->path))
            i++;
        if (i == s->plan.n && s->plan.n < STRATEGY_GROUPS_MAX)
            s->plan.n++;
        if (i < s->plan.n) {
            s->plan.ev[i].epoch = c->count;
            snprintf(s->plan.ev[i].path, sizeof s->plan.ev[i].path, "%s", c->path);
        }
        emit_text(s, SEV_CHANGE, "unfreeze %s at epoch %d", shown(c->path), c->count + 1);
        break;
    }
    case SESS_EVAL:
        if (s->cache_stale)
            cache_update(s);
        evaluate(s, 0, 1);
        break;
    case SESS_LRFIND:
        lr_find(s, c->value, c->value2, c->count);
        break;
    case SESS_CONFIGURE:
        if (st != SESS_IDLE)
            emit_text(s, SEV_ERROR, "settings change between train commands");
        else
            configure(s, &c->config);
        break;
    case SESS_CALL:
        c->call(c->call_ctx, s->r[0].m, s->r[1].m);
        break;
    case SESS_OPS:
        break;
    }
}

static void *trainer_main(void *arg)
{
    session *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->ctl_n > 0) {
            sess_ctl c = s->ctl[s->ctl_head];
            s->ctl_head = (s->ctl_head + 1) % CTL_MAX;
            s->ctl_n--;
            s->applying = 1;
            pthread_mutex_unlock(&s->mu);
            apply(s, &c);
            pthread_mutex_lock(&s->mu);
            s->applying = 0;
        }
        if (s->quit)
            break;
        if (atomic_load(&s->state) == SESS_RUNNING) {
            pthread_mutex_unlock(&s->mu);
            train_step(s);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        pthread_cond_broadcast(&s->settled);
        pthread_cond_wait(&s->wake, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- outside the trainer ----------------------------------------------- */

int sess_control(session *s, const sess_ctl *c, thaw_err *err)
{
    if ((unsigned)c->op >= SESS_OPS)
        return thaw_fail(err, THAW_EINVAL, "unknown session command %d", (int)c->op);
    switch (c->op) {
    case SESS_FREEZE:
    case SESS_UNFREEZE:
    case SESS_LR:
    case SESS_THAW_AT:
        if (!model_find(s->r[0].m, c->path))
            return thaw_fail(err, THAW_ENOTFOUND, "the model has no layer '%s'", c->path);
        /* Any finite rate: a diverging one is caught on its step. */
        if (c->op == SESS_LR && !(c->value >= 0.0 && c->value <= 1e12))
            return thaw_fail(err, THAW_EINVAL, "learning rate %g: expected a number from 0 to 1e12",
                             c->value);
        if (c->op == SESS_THAW_AT && (c->count < 0 || c->count > 1000000))
            return thaw_fail(err, THAW_EINVAL, "epoch %d: expected 0 or more", c->count);
        break;
    case SESS_TRAIN:
        if (c->count < 1 || c->count > 100000)
            return thaw_fail(err, THAW_EINVAL, "%d epochs: expected 1 to 100000", c->count);
        break;
    case SESS_STRATEGY:
        if (!(c->value > 0.0 && c->value < 1e3))
            return thaw_fail(err, THAW_EINVAL, "base rate %g: expected a number above 0", c->value);
        break;
    case SESS_LRFIND:
        if (!(c->value > 0.0 && c->value2 > c->value && c->value2 < 1e6) || c->count < 2 ||
            c->count > 100000)
            return thaw_fail(err, THAW_EINVAL, "lr-find from %g to %g in %d steps: expected "
                             "0 < start < end and 2 or more steps", c->value, c->value2, c->count);
        if (sess_state_now(s) == SESS_RUNNING)
            return thaw_fail(err, THAW_EINVAL, "lr-find needs the training paused or stopped");
        break;
    case SESS_CONFIGURE:
        if (sess_state_now(s) != SESS_IDLE)
            return thaw_fail(err, THAW_EINVAL, "settings change between train commands; stop "
                             "or let the training finish first");
        if (c->config.batch < 1 || c->config.batch > 4096 || c->config.evals_per_epoch < 1 ||
            c->config.evals_per_epoch > 1000 || c->config.patience < 0)
            return thaw_fail(err, THAW_EINVAL, "batch %d, %d evaluations per epoch, patience %d: "
                             "expected 1-4096, 1-1000, 0 or more", c->config.batch,
                             c->config.evals_per_epoch, c->config.patience);
        break;
    case SESS_CALL:
        if (!c->call)
            return thaw_fail(err, THAW_EINVAL, "a call command needs a function");
        break;
    default:
        break;
    }
    pthread_mutex_lock(&s->mu);
    if (s->ctl_n == CTL_MAX) {
        pthread_mutex_unlock(&s->mu);
        return thaw_fail(err, THAW_ENOMEM, "the trainer has %d commands waiting; try again", CTL_MAX);
    }
    s->ctl[(s->ctl_head + s->ctl_n) % CTL_MAX] = *c;
    s->ctl_n++;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return THAW_OK;
}

int sess_busy(session *s)
{
    pthread_mutex_lock(&s->mu);
    int busy = s->ctl_n > 0 || s->applying || atomic_load(&s->state) == SESS_RUNNING;
    pthread_mutex_unlock(&s->mu);
    return busy;
}

void sess_wait(session *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->ctl_n > 0 || s->applying || atomic_load(&s->state) == SESS_RUNNING)
        pthread_cond_wait(&s->settled, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

const model *sess_model(const session *s, int scratch)
{
    return s->r[scratch ? 1 : 0].m;
}

static int check_data(const sess_data *d, const model *m, const char *which, thaw_err *err)
{
    if (m->in.c != d->in.c || m->in.h != d->in.h || m->in.w != d->in.w)
        return thaw_fail(err, THAW_EINVAL, "the %s model takes %dx%dx%d images; the data has "
                         "%dx%dx%d", which, m->in.c, m->in.h, m->in.w, d->in.c, d->in.h, d->in.w);
    if (m->classes != d->classes)
        return thaw_fail(err, THAW_EINVAL, "the %s model has %d classes; the data has %d", which,
                         m->classes, d->classes);
    return THAW_OK;
}

static int replica_init(replica *r, thaw_err *err)
{
    model *m = r->m;
    r->live = malloc((size_t)m->nslice * sizeof(int) + 1);
    r->good = malloc(m->nfloat * sizeof(float) + 1);
    r->best = malloc(m->nfloat * sizeof(float) + 1);
    if (!r->live || !r->good || !r->best)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a training session");
    memcpy(r->good, m->param, m->nfloat * sizeof(float));
    live_slices(r);
    return THAW_OK;
}

static void replica_free(replica *r)
{
    optim_free(&r->opt);
    free(r->live);
    free(r->good);
    free(r->best);
    model_free(&r->store);
    memset(r, 0, sizeof *r);
}

static int count_layers(const layer *l, const layer **out, int n)
{
    if (!(l->ops->flags & LAYER_CONTAINER) && l->nslice > 0) {
        if (out)
            out[n] = l;
        n++;
    }
    for (int i = 0; i < l->nchild; i++)
        n = count_layers(l->child[i], out, n);
    return n;
}

static int board_init(session *s, thaw_err *err)
{
    model *m = s->r[0].m;
    s->nlayers = count_layers(m->root, NULL, 0);
    const layer **ls = malloc((size_t)s->nlayers * sizeof *ls + 1);
    s->layers = calloc((size_t)s->nlayers + 1, sizeof *s->layers);
    s->layers_next = calloc((size_t)s->nlayers + 1, sizeof *s->layers_next);
    size_t cn = (size_t)s->d.classes * (size_t)s->d.classes;
    s->confusion = calloc(cn, sizeof(long));
    s->confusion_next = calloc(cn, sizeof(long));
    if (!ls || !s->layers || !s->layers_next || !s->confusion || !s->confusion_next) {
        free(ls);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a training session");
    }
    count_layers(m->root, ls, 0);
    for (int k = 0; k < s->nlayers; k++)
        s->layers_next[k].l = ls[k];
    free(ls);
    s->conf_split = SESS_VAL_SPLIT;
    return THAW_OK;
}

static void sess_release(session *s)
{
    cache_drop(s);
    for (int k = 0; k < 2; k++)
        replica_free(&s->r[k]);
    model_free(&s->source_store);
    free(s->w0);
    free(s->ctl);
    free(s->evq);
    free(s->order);
    free(s->bx);
    free(s->by);
    free(s->layers);
    free(s->layers_next);
    free(s->confusion);
    free(s->confusion_next);
    for (int k = 0; k < 2; k++)
        if (s->pipe[k] >= 0)
            close(s->pipe[k]);
    free(s);
}

/* Takes *from into *to, leaving *from empty; NULL when from is. */
static model *take(model *to, model *from)
{
    if (!from)
        return NULL;
    *to = *from;
    memset(from, 0, sizeof *from);
    return to;
}

static void worker_stop(session *s)
{
    if (!s->has_worker)
        return;
    pthread_mutex_lock(&s->wmu);
    s->wquit = 1;
    pthread_cond_broadcast(&s->wcv);
    pthread_mutex_unlock(&s->wmu);
    pthread_join(s->worker, NULL);
    s->has_worker = 0;
}

int sess_new(session **out, model *transfer, model *scratch, model *source, const sess_data *d,
             const sess_config *c, const sess_hooks *hooks, thaw_err *err)
{
    *out = NULL;
    session *s = calloc(1, sizeof *s);
    if (!s) {
        for (model *m, **p = (model *[]){ transfer, scratch, source, NULL }; (m = *p); p++)
            model_free(m);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a training session");
    }
    s->pipe[0] = s->pipe[1] = -1;
    s->d = *d;
    s->c = *c;
    if (hooks)
        s->h = *hooks;
    s->r[0].m = take(&s->r[0].store, transfer);
    s->r[1].m = take(&s->r[1].store, scratch);
    s->source = take(&s->source_store, source);
    if (!c->baseline && s->r[1].m) {
        model_free(s->r[1].m);
        s->r[1].m = NULL;
    }
    int rc;
    model *t = s->r[0].m;
    if (!t) {
        rc = thaw_fail(err, THAW_EINVAL, "a session needs a model");
        goto fail;
    }
    if ((rc = check_data(d, t, "transferred", err)) ||
        (s->r[1].m && (rc = check_data(d, s->r[1].m, "scratch", err))))
        goto fail;
    if (d->split[SESS_TRAIN_SPLIT].n < 1 || d->split[SESS_VAL_SPLIT].n < 1) {
        rc = thaw_fail(err, THAW_EINVAL, "a session needs training and validation images "
                       "(it has %d and %d)", d->split[SESS_TRAIN_SPLIT].n, d->split[SESS_VAL_SPLIT].n);
        goto fail;
    }
    if (s->source && (s->source->in.c != d->in.c || s->source->in.h != d->in.h ||
                      s->source->in.w != d->in.w)) {
        rc = thaw_fail(err, THAW_EINVAL, "the source model takes other images than the data");
        goto fail;
    }
    if (s->r[1].m)
        model_set_lr(s->r[1].m, s->r[1].m->root, c->scratch_lr);
    s->head_layer_slice0 = t->nslice ? t->slice[t->nslice - 1].owner->slice0 : 0;
    s->ctl = calloc(CTL_MAX, sizeof *s->ctl);
    s->evq = calloc(EVENT_MAX, sizeof *s->evq);
    s->order = malloc((size_t)d->split[SESS_TRAIN_SPLIT].n * sizeof(int));
    s->w0 = malloc(t->nfloat * sizeof(float) + 1);
    if (!s->ctl || !s->evq || !s->order || !s->w0) {
        rc = thaw_fail(err, THAW_ENOMEM, "out of memory for a training session");
        goto fail;
    }
    memcpy(s->w0, t->param, t->nfloat * sizeof(float));
    if ((rc = replica_init(&s->r[0], err)) || (s->r[1].m && (rc = replica_init(&s->r[1], err))) ||
        (rc = prepare_buffers(s, c->batch, err)) || (rc = optim_setup(s, err)) ||
        (rc = board_init(s, err)))
        goto fail;
    if (pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = thaw_fail(err, THAW_EIO, "cannot make the session's event pipe: %s", strerror(errno));
        goto fail;
    }
    diagnostics(s);
    refresh_live(s);
    s->source_stale = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->board_mu, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->settled, NULL);
    pthread_cond_init(&s->wcv, NULL);
    if (c->parallel && s->r[1].m && pthread_create(&s->worker, NULL, worker_main, s) == 0)
        s->has_worker = 1;
    if (pthread_create(&s->thread, NULL, trainer_main, s) != 0) {
        worker_stop(s);
        rc = thaw_fail(err, THAW_ENOMEM, "cannot start the trainer thread");
        goto fail;
    }
    *out = s;
    return THAW_OK;
fail:
    sess_release(s);
    return rc;
}

void sess_free(session *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->quit = 1;
    s->ctl_n = 0;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    worker_stop(s);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->board_mu);
    pthread_mutex_destroy(&s->wmu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->settled);
    pthread_cond_destroy(&s->wcv);
    sess_release(s);
}
