/* session_train.c — one training step of each model, the batches it trains
 * on (the epoch's shuffle, the gather with augmentation), the feature cache
 * of a frozen prefix, and the end of a train command. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "loss.h"
#include "shuffle.h"

/* ---- slices a step touches --------------------------------------------- */

/* Trainable slices, and the running statistics of BatchNorm layers that
 * train (they move in a training forward pass). */
static int slice_live(const model *m, int i)
{
    const param_slice *p = &m->slice[i];
    return p->kind == PARAM_STAT ? p->owner->trainable : !p->frozen;
}

void sess_live_slices(replica *r)
{
    r->nlive = 0;
    for (int i = 0; i < r->m->nslice; i++)
        if (slice_live(r->m, i))
            r->live[r->nlive++] = i;
}

/* Copies the live slices from src to dst: a row-sparse slice (an
 * embedding's weight) only on the rows this step's gradient touched, the
 * only ones a step can change, so that a step costs a batch's rows and not
 * the vocabulary; with rows_only, the row-sparse slices alone. */
static void live_copy_part(replica *r, float *dst, const float *src, int rows_only)
{
    for (int k = 0; k < r->nlive; k++) {
        const param_slice *p = &r->m->slice[r->live[k]];
        if (!p->row) {
            if (!rows_only)
                memcpy(dst + p->off, src + p->off, p->len * sizeof(float));
            continue;
        }
        size_t width = (size_t)p->dim[1];
        for (int i = 0; i < p->nrow; i++) {
            size_t at = p->off + (size_t)p->row[i] * width;
            memcpy(dst + at, src + at, width * sizeof(float));
        }
    }
}

static void live_copy(replica *r, float *dst, const float *src)
{
    live_copy_part(r, dst, src, 0);
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
        if (p->row) {
            size_t width = (size_t)p->dim[1];
            for (int i = 0; i < p->nrow; i++)
                if (!all_finite(block + p->off + (size_t)p->row[i] * width, width))
                    return p;
            continue;
        }
        if (!all_finite(block + p->off, p->len))
            return p;
    }
    return NULL;
}

/* ---- one step ---------------------------------------------------------- */

void sess_replica_step(session *s, void *arg)
{
    step_job *j = arg;
    replica *r = j->r;
    model *m = r->m;
    j->ok = 0;
    live_copy(r, r->good, m->param);
    for (int k = 0; k < r->nlive; k++)
        model_zero_slice_grad(m, r->live[k]);
    int rows = j->n + j->nu;
    model_forward_from(m, j->first, j->x, rows, 1);
    r->loss = j->w ? loss_softmax_xent_weighted(m->root->dy, m->root->y, j->y, j->w, j->n, m->classes)
                   : loss_softmax_xent(m->root->dy, m->root->y, j->y, j->n, m->classes);
    if (j->nu)                            /* the pool's rows have no label: no loss */
        memset(m->root->dy + (size_t)j->n * m->classes, 0, sizeof(float) * (size_t)j->nu * m->classes);
    const param_slice *bad = NULL;
    if (!isfinite(r->loss)) {
        snprintf(r->bad, sizeof r->bad, "the loss is %g", (double)r->loss);
        live_copy(r, m->param, r->good);   /* the forward pass moved running statistics */
        return;
    }
    long correct = loss_correct(m->root->y, j->y, j->n, m->classes);
    if (j->align) {
        float term = sess_align_backward(s, m, j->x, j->n, j->nu);
        if (!isnan(term)) {
            s->align_sum += term;
            s->align_n++;
        }
    } else {
        model_backward_from(m, j->first, j->x, rows);
    }
    live_copy_part(r, r->good, m->param, 1);   /* the rows the update will move */
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

/* ---- the feature cache ------------------------------------------------- */

void sess_cache_drop(session *s)
{
    free(s->cache[0]);
    free(s->cache[1]);
    free(s->fx);
    s->cache[0] = s->cache[1] = s->fx = NULL;
    s->cache_first = s->cache_plan = 0;
    s->cache_pos[0] = s->cache_pos[1] = 0;
}

/* Runs images *pos.. of one split through the frozen prefix into dst, a
 * chunk at a time; 1 when a queued command came first. */
static int cache_fill(session *s, float *dst, const sess_split *sp, int *pos)
{
    model *m = s->r[0].m;
    const layer *cut = m->root->child[s->cache_plan - 1];
    size_t img = shape3_count(s->d.in);
    int chunk = m->batch < SESS_CHUNK ? m->batch : SESS_CHUNK;
    while (*pos < sp->n) {
        if (sess_pending(s, SESS_PENDING_ANY))
            return 1;
        int i = *pos, n = sp->n - i < chunk ? sp->n - i : chunk;
        model_forward(m, sp->x + (size_t)i * img, n, 0);
        memcpy(dst + (size_t)i * s->feat, cut->y, (size_t)n * s->feat * sizeof(float));
        *pos += n;
    }
    return 0;
}

/* Makes the cache match the current freezing: rebuilt when the frozen
 * prefix moved, dropped when it is gone, the budget is too small or
 * augmentation is on. A fill a command interrupts keeps what it did. */
int sess_cache_update(session *s)
{
    model *m = s->r[0].m;
    /* pseudo-labelled and source images are not cached: the cache holds the
     * target's labelled ones */
    int first = s->d.augment || !s->c.cache_bytes || s->npseudo || adapt_uses_source(s->c.adapt.kind)
                ? 0 : model_frozen_prefix(m);
    if (first != s->cache_plan) {
        sess_cache_drop(s);
        s->cache_plan = first;
        size_t feat = first ? shape3_count(m->root->child[first - 1]->out) : 0;
        size_t n = (size_t)s->d.split[SESS_TRAIN_SPLIT].n + (size_t)s->d.split[SESS_VAL_SPLIT].n;
        size_t left = s->c.memory_bytes > s->mem_need ? s->c.memory_bytes - s->mem_need : 0;
        size_t budget = s->c.memory_bytes && left < s->c.cache_bytes ? left : s->c.cache_bytes;
        int batch = s->r[0].m->batch;
        if (first && feat * (n + (size_t)batch) <= budget / sizeof(float)) {
            s->feat = feat;
            s->cache[0] = malloc(feat * (size_t)s->d.split[SESS_TRAIN_SPLIT].n * sizeof(float) + 1);
            s->cache[1] = malloc(feat * (size_t)s->d.split[SESS_VAL_SPLIT].n * sizeof(float) + 1);
            s->fx = malloc(feat * (size_t)batch * sizeof(float));
            if (!s->cache[0] || !s->cache[1] || !s->fx) {
                sess_cache_drop(s);       /* training goes on without a cache */
                s->cache_plan = first;
            }
        }
    }
    if (s->cache_plan && s->cache[0] && !s->cache_first) {
        if (cache_fill(s, s->cache[0], &s->d.split[SESS_TRAIN_SPLIT], &s->cache_pos[0]) ||
            cache_fill(s, s->cache[1], &s->d.split[SESS_VAL_SPLIT], &s->cache_pos[1]))
            return 1;
        s->cache_first = s->cache_plan;
    }
    s->cache_stale = 0;
    return 0;
}

double sess_factor(const session *s)
{
    return schedule_factor(&s->c.sched, s->step - s->run.start_step, s->run.total, s->per_epoch);
}

/* ---- batches ----------------------------------------------------------- */

rng sess_stream(const session *s, long e)
{
    return shuffle_stream(s->c.seed * 0x9E3779B97F4A7C15ull, e);
}

void sess_shuffle(session *s, rng *r)
{
    shuffle_order(s->order, sess_ntrain(s), r);
}

void sess_gather(session *s, int pos, int n, rng *r)
{
    const sess_split *sp = &s->d.split[SESS_TRAIN_SPLIT], *src = &s->d.split[SESS_DOMAIN_SPLIT];
    size_t img = shape3_count(s->d.in);
    int nt = adapt_uses_target(s->c.adapt.kind) ? sp->n : 0;
    for (int b = 0; b < n; b++) {
        int i = s->order[pos + b];
        s->bw[b] = 1.0f;
        s->bd[b] = 1;
        if (i >= nt) {                    /* a pseudo-labelled pool image or a source one (never cached) */
            const float *from;
            int k = i - nt;
            if (k < s->npseudo) {
                from = s->px + (size_t)k * img;
                s->by[b] = s->py[k];
            } else {
                k -= s->npseudo;
                from = src->x + (size_t)k * img;
                s->by[b] = src->y[k];
                s->bd[b] = 0;
                if (s->sw)
                    s->bw[b] = s->sw[k];
            }
            if (s->d.augment)
                s->d.augment(s->d.augment_ctx, s->bx + (size_t)b * img, from, r);
            else
                memcpy(s->bx + (size_t)b * img, from, img * sizeof(float));
            continue;
        }
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

void sess_refresh_live(session *s)
{
    for (int k = 0; k < 2; k++)
        if (s->r[k].m)
            sess_live_slices(&s->r[k]);
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
void sess_finish(session *s, const char *why, int quick)
{
    if (s->c.patience > 0 && s->run.best_acc >= 0)
        restore_best(s);
    sess_evaluate(s, 1, 1, !quick);
    s->run.step_once = 0;
    sess_set_state(s, SESS_IDLE, why);
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
        sess_refresh_live(s);
        sess_emit_text(s, SEV_CHANGE, "unfreeze %s (gradual, epoch %d)",
                       s->plan.ev[i].path[0] ? s->plan.ev[i].path : "all", epoch + 1);
    }
}

void sess_train_step(session *s)
{
    int epoch = atomic_load(&s->epoch);
    if (s->run.pos == 0 && s->run.batch_index == 0 && sess_self_train(s, epoch))
        return;                          /* a command first; the round runs after it */
    int ntrain = sess_ntrain(s);
    if (s->run.pos == 0) {
        apply_plan(s, epoch);
        s->run.aug = sess_stream(s, epoch);
        sess_shuffle(s, &s->run.aug);
    }
    if (s->cache_stale && sess_cache_update(s))
        return;                          /* a command first; the fill goes on after it */
    double t0 = thaw_now_s();
    int n = ntrain - s->run.pos < s->c.batch ? ntrain - s->run.pos : s->c.batch;
    sess_gather(s, s->run.pos, n, &s->run.aug);
    int align = adapt_aligns(s->c.adapt.kind), nu = align ? n : 0;
    if (nu) {                             /* as many unlabelled target rows as labelled ones */
        sess_pool_rows(s, s->bx + (size_t)n * shape3_count(s->d.in), nu);
        for (int b = n; b < n + nu; b++)
            s->bd[b] = 1;
    }
    float factor = (float)sess_factor(s);
    const float *w = s->sw ? s->bw : NULL;
    step_job j[2] = {
        { .r = &s->r[0], .x = s->cache_first ? s->fx : s->bx, .y = s->by, .w = w, .n = n,
          .first = s->cache_first, .nu = nu, .align = align, .factor = factor },
        { .r = &s->r[1], .x = s->bx, .y = s->by, .w = w, .n = n, .factor = factor },
    };
    sess_run_pair(s, sess_replica_step, &j[0], s->r[1].m ? &j[1] : NULL);
    double t1 = thaw_now_s();
    s->t_train += t1 - t0;
    for (int k = 0; k < 2; k++) {
        if (!s->r[k].m || j[k].ok)
            continue;
        s->run.step_once = 0;
        sess_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = SEV_NONFINITE;
        ev.value = s->r[k].loss;
        sess_textf(&ev, "%s model, step %ld: %s is not finite; the last good weights are kept",
                   k ? "scratch" : "transferred", s->step + 1, s->r[k].bad);
        sess_emit(s, &ev);
        sess_set_state(s, SESS_PAUSED, "paused: a value became non-finite");
        return;
    }
    s->step++;
    s->seen_total += n;
    s->source_stale |= s->backbone_live;
    s->run.pos += n;
    s->run.batch_index++;
    int queued = (t1 - s->last_step_event) * 1000.0 >= SESS_STEP_EVENT_MS;
    if (queued || s->h.step) {
        sess_event ev;
        memset(&ev, 0, sizeof ev);
        ev.kind = SEV_STEP;
        ev.value = s->r[0].loss;
        ev.value2 = sess_head_lr(s->r[0].m) * factor;
        ev.count = n;
        sess_stamp(s, &ev);
        if (s->h.step)
            s->h.step(s->h.ctx, &ev);
        if (queued) {
            s->last_step_event = t1;
            sess_emit(s, &ev);
        }
    }
    if ((t1 - s->last_diag) * 1000.0 >= SESS_DIAG_MS || s->layers_pending) {
        s->last_diag = t1;
        sess_diagnostics(s);
    } else if (s->conf_pending) {
        sess_publish_confusion(s);
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
        sess_finish(s, "finished", 0);
        return;
    }
    if (end_of_epoch || mid_eval) {
        sess_evaluate(s, 0, 0, 1);
        if (s->c.patience > 0 && s->run.since_best >= s->c.patience) {
            sess_finish(s, "early stop", 0);
            return;
        }
    }
    if (s->run.step_once) {
        s->run.step_once = 0;
        sess_set_state(s, SESS_PAUSED, "paused after one step");
    }
}

