/* session_control.c — what each queued command does when the trainer
 * applies it (at a step boundary, or at once when idle or paused), and the
 * buffers and optimizers a configuration calls for. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *shown(const char *path) { return path[0] ? path : "all"; }

/* What one model costs besides its activations: weights and gradients,
 * the optimizer's state, the last good and the best copies. */
static size_t model_bytes(const model *m, int training)
{
    return m->nfloat * sizeof(float) * (training ? 6 : 2);
}

static size_t mib(size_t bytes) { return (bytes + (1 << 20) - 1) >> 20; }

int sess_memory_check(model *transfer, model *scratch, model *source, const sess_data *d,
                      const sess_config *c, size_t *need, thaw_err *err)
{
    int labelled = sess_labelled_n(d, &c->adapt);
    int batch = c->batch < labelled ? c->batch : labelled;
    if (batch < 1)
        batch = 1;
    int rows = adapt_aligns(c->adapt.kind) ? 2 * batch : batch;   /* the pool's rows beside */
    size_t img = shape3_count(d->in), data = 0, weights = 0, act = 0;
    for (int k = 0; k < SESS_SPLITS; k++)
        data += (size_t)d->split[k].n * (img * sizeof(float) + sizeof(int));
    if (c->adapt.kind == ADAPT_SELF_TRAIN || c->adapt.kind == ADAPT_ORACLE)
        data += (size_t)d->pool_n * (img * sizeof(float) + sizeof(int));   /* as they join training */
    model *m[3] = { transfer, scratch, source };
    for (int k = 0; k < 3; k++)
        if (m[k]) {
            weights += model_bytes(m[k], k < 2);
            act += model_prepare_bytes(m[k], k == 0 ? rows : batch);
        }
    size_t buffers = (size_t)rows * (img * sizeof(float) + sizeof(int) + sizeof(float)) +
                     transfer->nfloat * sizeof(float);
    *need = data + weights + act + buffers;
    if (c->memory_bytes && *need > c->memory_bytes)
        return thaw_fail(err, THAW_EINVAL, "a batch of %d needs %zu MiB (activations %zu, weights "
                         "and optimizer %zu, images %zu, buffers %zu); the memory limit is %zu MiB: "
                         "use a smaller batch (set batch) or raise the limit (set memory-mb)",
                         batch, mib(*need), mib(act), mib(weights), mib(data), mib(buffers),
                         mib(c->memory_bytes));
    return THAW_OK;
}

int sess_prepare_buffers(session *s, int batch, thaw_err *err)
{
    int ntrain = sess_labelled_n(&s->d, &s->c.adapt);
    if (batch > ntrain)
        batch = ntrain;                   /* no step is larger than the training split */
    int rows = adapt_aligns(s->c.adapt.kind) ? 2 * batch : batch;
    size_t need;
    sess_config c = s->c;
    c.batch = batch;
    /* With the baseline on a thread of its own, the two models share the
     * threads; the source model is evaluated between steps, with all. */
    int threads = thaw_threads();
    for (int k = 0; k < 2; k++)
        if (s->r[k].m)
            s->r[k].m->threads = c.parallel && s->r[1].m && threads > 1 ? threads / 2 : threads;
    int rc = sess_memory_check(s->r[0].m, s->r[1].m, s->source, &s->d, &c, &need, err);
    if (rc)
        return rc;
    size_t img = shape3_count(s->d.in);
    float *bx = malloc((size_t)rows * img * sizeof(float)), *bw = malloc((size_t)rows * sizeof(float));
    int *by = malloc((size_t)batch * sizeof(int)), *bd = malloc((size_t)rows * sizeof(int));
    rc = !bx || !by || !bw || !bd ? thaw_fail(err, THAW_ENOMEM, "out of memory for a batch of %d", batch)
                                  : THAW_OK;
    for (int k = 0; k < 2 && !rc; k++)
        if (s->r[k].m && model_prepare(s->r[k].m, k == 0 ? rows : batch, err))
            rc = err ? err->code : THAW_ENOMEM;
    if (!rc && s->source && model_prepare(s->source, batch, err))
        rc = err ? err->code : THAW_ENOMEM;
    if (rc) {
        free(bx);
        free(by);
        free(bw);
        free(bd);
        return rc;
    }
    free(s->bx);
    free(s->by);
    free(s->bw);
    free(s->bd);
    s->bx = bx;
    s->by = by;
    s->bw = bw;
    s->bd = bd;
    s->mem_need = need;
    s->per_epoch = (sess_ntrain(s) + batch - 1) / batch;
    return THAW_OK;
}

int sess_optim_setup(session *s, thaw_err *err)
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
    int technique = c->adapt.kind != old.adapt.kind || strcmp(c->adapt.layer, old.adapt.layer) ||
                    c->adapt.clip != old.adapt.clip, cut = s->cut;
    if (technique && sess_adapt_ready(&s->d, s->r[0].m, &c->adapt, &cut, &err)) {
        pthread_mutex_lock(&s->mu);
        s->c = old;
        pthread_mutex_unlock(&s->mu);
        sess_emit_text(s, SEV_ERROR, "%s", err.msg);
        return;
    }
    if (technique) {                     /* what the last technique built goes */
        sess_adapt_reset(s);
        s->cut = cut;
        s->npseudo = 0;
        s->pseudo_round = 0;
    }
    if (c->batch != old.batch || technique) {
        if (sess_prepare_buffers(s, c->batch, &err)) {
            pthread_mutex_lock(&s->mu);
            s->c = old;
            pthread_mutex_unlock(&s->mu);
            sess_emit_text(s, SEV_ERROR, "%s", err.msg);
            if (technique)
                sess_adapt_ready(&s->d, s->r[0].m, &old.adapt, &s->cut, NULL);
            return;
        }
        sess_cache_drop(s);              /* its batch buffer changes size */
        s->cache_stale = 1;
    }
    if (c->optimizer != old.optimizer && sess_optim_setup(s, &err)) {
        sess_emit_text(s, SEV_ERROR, "%s", err.msg);
        return;
    }
    for (int k = 0; k < 2; k++)
        if (s->r[k].m) {
            s->r[k].opt.momentum = c->optimizer == OPTIM_SGD ? c->momentum : 0.0f;
            s->r[k].opt.weight_decay = c->weight_decay;
        }
    if (s->r[1].m && c->scratch_lr != old.scratch_lr)
        model_set_lr(s->r[1].m, s->r[1].m->root, c->scratch_lr);
    if (c->cache_bytes != old.cache_bytes || c->memory_bytes != old.memory_bytes) {
        sess_cache_drop(s);
        s->cache_stale = 1;
    }
}

static void start_train(session *s, int epochs, int paused)
{
    int e = atomic_load(&s->epoch);
    sess_state st = (sess_state)atomic_load(&s->state);
    if (st == SESS_IDLE) {
        /* the oracle's pool (or a round due now) first, so the schedule
         * counts the steps its images add; cut short, the first step retries */
        sess_self_train(s, e);
        sess_reweight(s);
        s->run.end_epoch = e + epochs;
        s->run.start_step = s->step;
        s->run.total = (long)epochs * s->per_epoch - s->run.batch_index;
        s->run.since_best = 0;
        s->run.best_acc = -1.0;
        s->run.best_loss = INFINITY;
        sess_set_state(s, paused ? SESS_PAUSED : SESS_RUNNING,
                       paused ? "paused before the first step" : "training");
    } else {
        s->run.end_epoch += epochs;
        s->run.total += (long)epochs * s->per_epoch;
    }
}

void sess_apply(session *s, const sess_ctl *c)
{
    s->change_tag = c->tag;
    sess_state st = (sess_state)atomic_load(&s->state);
    model *m = s->r[0].m;
    switch (c->op) {
    case SESS_TRAIN:
        start_train(s, c->count, 0);
        break;
    case SESS_PAUSE:
        if (st == SESS_RUNNING)
            sess_set_state(s, SESS_PAUSED, "paused");
        break;
    case SESS_RESUME:
        if (st == SESS_PAUSED)
            sess_set_state(s, SESS_RUNNING, "training");
        break;
    case SESS_STOP:
        if (st != SESS_IDLE)
            sess_finish(s, "stopped", c->count == 1);
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
        sess_refresh_live(s);
        sess_emit_text(s, SEV_CHANGE, "%s %s", c->op == SESS_FREEZE ? "freeze" : "unfreeze",
                       shown(c->path));
        break;
    case SESS_LR:
        model_set_lr(m, model_find(m, c->path), (float)c->value);
        sess_emit_text(s, SEV_CHANGE, "lr %s %.3g", shown(c->path), c->value);
        break;
    case SESS_STRATEGY: {
        thaw_err err = {0};
        char name[96];
        thaw_plan plan = {0};
        if (strategy_apply(&c->strat, m, (float)c->value, &plan, &err)) {
            sess_emit_text(s, SEV_ERROR, "%s", err.msg);
            break;
        }
        s->plan = plan;
        for (int i = 0; i < s->plan.n; i++)
            s->plan.ev[i].epoch += atomic_load(&s->epoch);
        sess_refresh_live(s);
        strategy_format(&c->strat, name, sizeof name);
        sess_emit_text(s, SEV_CHANGE, "strategy %s (head rate %.3g)", name, c->value);
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
        sess_emit_text(s, SEV_CHANGE, "unfreeze %s at epoch %d", shown(c->path), c->count + 1);
        break;
    }
    case SESS_EVAL:
        if (s->cache_stale)
            sess_cache_update(s);        /* interrupted: this evaluation goes without it */
        sess_evaluate(s, 0, 1, 1);
        break;
    case SESS_LRFIND:
        sess_lr_find(s, c->value, c->value2, c->count);
        break;
    case SESS_CONFIGURE:
        if (st != SESS_IDLE)
            sess_emit_text(s, SEV_ERROR, "settings change between train commands");
        else
            configure(s, &c->config);
        break;
    case SESS_CALL: {
        sess_event report;
        memset(&report, 0, sizeof report);
        c->call(c->call_ctx, s->r[0].m, s->r[1].m, &report);
        if (report.text[0]) {
            report.kind = report.kind == SEV_ERROR ? SEV_ERROR : SEV_NOTE;
            sess_emit(s, &report);
        }
        break;
    }
    case SESS_OPS:
        break;
    }
}

