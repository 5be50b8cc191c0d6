/* session.c — a session's lifecycle: sess_new and sess_free, the trainer and
 * baseline threads, the control queue, the event queue and state changes.
 * What the trainer does with a command, a step or an evaluation lives in the
 * other session_*.c files (see session_impl.h). */
#include "session_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

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
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    c->memory_bytes = pages > 0 && page > 0 ? (size_t)pages / 2 * (size_t)page : 0;
}

/* ---- events ------------------------------------------------------------ */

static int hooked(sess_event_kind k)
{
    return k == SEV_CHANGE || k == SEV_STATE || k == SEV_NONFINITE || k == SEV_ERROR ||
           k == SEV_NOTE;
}

void sess_stamp(session *s, sess_event *ev)
{
    ev->epoch = atomic_load(&s->epoch);
    ev->step = s->step;
    if (ev->kind != SEV_STATE)          /* a state event carries the state it announces */
        ev->state = (sess_state)atomic_load(&s->state);
}

void sess_emit(session *s, sess_event *ev)
{
    sess_stamp(s, ev);
    if (s->h.event && (hooked(ev->kind) || (ev->kind == SEV_LRFIND && ev->count < 0)))
        s->h.event(s->h.ctx, ev);
    size_t tail = atomic_load_explicit(&s->ev_tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&s->ev_head, memory_order_acquire);
    if (tail - head >= SESS_EVENT_MAX) {
        atomic_fetch_add(&s->dropped, 1);
        return;
    }
    s->evq[tail % SESS_EVENT_MAX] = *ev;
    atomic_store_explicit(&s->ev_tail, tail + 1, memory_order_release);
    ssize_t w = write(s->pipe[1], "", 1);   /* a full pipe already wakes the reader */
    (void)w;
}

static void textv(sess_event *ev, const char *fmt, va_list ap)
{
    vsnprintf(ev->text, sizeof ev->text, fmt, ap);
}

void sess_textf(sess_event *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    textv(ev, fmt, ap);
    va_end(ap);
}

void sess_emit_text(session *s, sess_event_kind kind, const char *fmt, ...)
{
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    va_list ap;
    va_start(ap, fmt);
    textv(&ev, fmt, ap);
    va_end(ap);
    if (kind == SEV_CHANGE)
        ev.count = s->change_tag;
    sess_emit(s, &ev);
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
            *ev = s->evq[head % SESS_EVENT_MAX];
            atomic_store_explicit(&s->ev_head, head + 1, memory_order_release);
            return 1;
        }
        if (timeout_ms == 0)
            return 0;
        struct pollfd p = { .fd = s->pipe[0], .events = POLLIN };
        int rc = poll(&p, 1, timeout_ms);
        if (rc <= 0)
            return 0;                    /* a timeout, or a signal the caller may want to see */
    }
}

int sess_fd(const session *s) { return s->pipe[0]; }
long sess_dropped(const session *s) { return atomic_load(&((session *)s)->dropped); }
sess_state sess_state_now(const session *s) { return (sess_state)atomic_load(&((session *)s)->state); }
int sess_epoch(const session *s) { return atomic_load(&((session *)s)->epoch); }

void sess_set_state(session *s, sess_state st, const char *why)
{
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SEV_STATE;
    ev.state = st;
    snprintf(ev.text, sizeof ev.text, "%s", why);
    sess_emit(s, &ev);
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->state, st);
    if (st != SESS_RUNNING)
        pthread_cond_broadcast(&s->settled);
    pthread_mutex_unlock(&s->mu);
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
void sess_run_pair(session *s, void (*job)(session *, void *), void *a, void *b)
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

int sess_pending(session *s, int which)
{
    pthread_mutex_lock(&s->mu);
    int hit = s->quit || (which == SESS_PENDING_ANY && s->ctl_n > 0);
    for (int i = 0; !hit && i < s->ctl_n; i++)
        hit = s->ctl[(s->ctl_head + i) % SESS_CTL_MAX].op == SESS_STOP;
    pthread_mutex_unlock(&s->mu);
    return hit;
}

/* Holds a command until its step (trainer only). */
static void defer(session *s, const sess_ctl *c)
{
    if (s->ndeferred == SESS_DEFER_MAX) {
        sess_emit_text(s, SEV_ERROR, "more than %d commands wait for their step; one for step %ld "
                       "is dropped", SESS_DEFER_MAX, c->at_step);
        return;
    }
    s->deferred[s->ndeferred++] = *c;
}

/* Applies, in the order they came, the held commands whose step has come. */
static void apply_due(session *s)
{
    int kept = 0;
    for (int i = 0; i < s->ndeferred; i++) {
        sess_ctl c = s->deferred[i];
        if (c.at_step <= s->step)
            sess_apply(s, &c);
        else
            s->deferred[kept++] = c;
    }
    s->ndeferred = kept;
}

static void *trainer_main(void *arg)
{
    session *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->ctl_n > 0 && !s->quit) {
            sess_ctl c = s->ctl[s->ctl_head];
            s->ctl_head = (s->ctl_head + 1) % SESS_CTL_MAX;
            s->ctl_n--;
            s->applying = 1;
            pthread_mutex_unlock(&s->mu);
            if (c.at_step > s->step)
                defer(s, &c);
            else
                sess_apply(s, &c);
            pthread_mutex_lock(&s->mu);
            s->applying = 0;
        }
        if (s->quit)
            break;
        if (atomic_load(&s->state) == SESS_RUNNING) {
            pthread_mutex_unlock(&s->mu);
            apply_due(s);
            sess_train_step(s);
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
                             "the training or let it finish first");
        int cut, rc;
        if ((rc = adapt_check(&c->config.adapt, err)) ||
            (rc = sess_adapt_ready(&s->d, s->r[0].m, &c->config.adapt, &cut, err)))
            return rc;
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
    if (s->ctl_n == SESS_CTL_MAX) {
        pthread_mutex_unlock(&s->mu);
        return thaw_fail(err, THAW_ENOMEM, "the trainer has %d commands waiting; try again",
                         SESS_CTL_MAX);
    }
    s->ctl[(s->ctl_head + s->ctl_n) % SESS_CTL_MAX] = *c;
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

int sess_wait_ms(session *s, int timeout_ms)
{
    struct timespec until = thaw_deadline(timeout_ms);
    pthread_mutex_lock(&s->mu);
    int busy;
    while ((busy = s->ctl_n > 0 || s->applying || atomic_load(&s->state) == SESS_RUNNING) &&
           pthread_cond_timedwait(&s->settled, &s->mu, &until) == 0)
        ;
    busy = s->ctl_n > 0 || s->applying || atomic_load(&s->state) == SESS_RUNNING;
    pthread_mutex_unlock(&s->mu);
    return !busy;
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
    sess_live_slices(r);
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
    sess_cache_drop(s);
    for (int k = 0; k < 2; k++)
        replica_free(&s->r[k]);
    model_free(&s->source_store);
    free(s->w0);
    free(s->ctl);
    free(s->deferred);
    free(s->evq);
    free(s->order);
    free(s->px);
    free(s->bw);
    free(s->bd);
    free(s->sw);
    free(s->af);
    adapt_dann_free(&s->dann);
    adapt_mmd_free(&s->mmd);
    free(s->py);
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
    if ((rc = adapt_check(&c->adapt, err)) || (rc = sess_adapt_ready(d, t, &c->adapt, &s->cut, err)))
        goto fail;
    if (s->r[1].m)
        model_set_lr(s->r[1].m, s->r[1].m->root, c->scratch_lr);
    s->head_layer_slice0 = t->nslice ? t->slice[t->nslice - 1].owner->slice0 : 0;
    s->ctl = calloc(SESS_CTL_MAX, sizeof *s->ctl);
    s->deferred = calloc(SESS_DEFER_MAX, sizeof *s->deferred);
    s->evq = calloc(SESS_EVENT_MAX, sizeof *s->evq);
    /* room for the pool too (self-training adds pseudo-labelled images to the
     * order) and the source's images */
    s->order = malloc(((size_t)d->split[SESS_TRAIN_SPLIT].n + (size_t)d->pool_n +
                       (size_t)d->split[SESS_DOMAIN_SPLIT].n) * sizeof(int) + 1);
    s->w0 = malloc(t->nfloat * sizeof(float) + 1);
    if (!s->ctl || !s->deferred || !s->evq || !s->order || !s->w0) {
        rc = thaw_fail(err, THAW_ENOMEM, "out of memory for a training session");
        goto fail;
    }
    memcpy(s->w0, t->param, t->nfloat * sizeof(float));
    if ((rc = replica_init(&s->r[0], err)) || (s->r[1].m && (rc = replica_init(&s->r[1], err))) ||
        (rc = sess_prepare_buffers(s, c->batch, err)) || (rc = sess_optim_setup(s, err)) ||
        (rc = board_init(s, err)))
        goto fail;
    if (pipe2(s->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        rc = thaw_fail(err, THAW_EIO, "cannot make the session's event pipe: %s", strerror(errno));
        goto fail;
    }
    sess_diagnostics(s);
    sess_refresh_live(s);
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
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    /* Commands never applied; a call's owner may hold memory for it. */
    for (; s->ctl_n > 0; s->ctl_n--, s->ctl_head = (s->ctl_head + 1) % SESS_CTL_MAX) {
        sess_ctl *c = &s->ctl[s->ctl_head];
        if (c->op == SESS_CALL) {
            sess_event unused;
            memset(&unused, 0, sizeof unused);
            c->call(c->call_ctx, NULL, NULL, &unused);
        }
    }
    worker_stop(s);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->board_mu);
    pthread_mutex_destroy(&s->wmu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->settled);
    pthread_cond_destroy(&s->wcv);
    sess_release(s);
}
