/* session_eval.c — evaluation of both models, the forgetting monitor on the
 * source task, per-layer diagnostics and the confusion matrix, and the
 * board that hands the last two to other threads. */
#include "session_impl.h"

#include <math.h>
#include <string.h>

#include "clock.h"
#include "loss.h"

/* ---- evaluation -------------------------------------------------------- */

typedef struct eval_job {
    replica *r;
    const sess_split *sp;
    const float *feat;        /* cached features of sp, or NULL */
    int first;
    long *confusion;          /* (classes, classes) or NULL */
    double loss, acc;
    int cut;                  /* a queued stop ended the pass early: loss and acc are NaN */
} eval_job;

static void replica_eval(session *s, void *arg)
{
    eval_job *j = arg;
    model *m = j->r->m;
    size_t img = j->feat ? s->feat : shape3_count(s->d.in);
    const float *x = j->feat ? j->feat : j->sp->x;
    double loss = 0.0;
    long correct = 0;
    int chunk = m->batch < SESS_CHUNK ? m->batch : SESS_CHUNK;
    /* The transferred model's pass over the test split says how far it is
     * (the baseline's runs beside it, on the worker thread, and stays quiet). */
    int report = j->sp == &s->d.split[SESS_TEST_SPLIT] && j->r == &s->r[0];
    j->cut = 0;
    for (int i = 0; i < j->sp->n; i += chunk) {
        if (report)
            sess_emit(s, &(sess_event){ .kind = SEV_TESTING, .count = i, .value = j->sp->n });
        if (sess_pending(s, SESS_PENDING_STOP)) {
            j->cut = 1;
            break;
        }
        int n = j->sp->n - i < chunk ? j->sp->n - i : chunk;
        const int *y = j->sp->y + i;
        model_predict_from(m, j->feat ? j->first : 0, x + (size_t)i * img, n);
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
    j->loss = j->sp->n && !j->cut ? loss / j->sp->n : NAN;
    j->acc = j->sp->n && !j->cut ? (double)correct / j->sp->n : NAN;
}

/* Evaluates both models on one split (transfer's confusion into conf); 1
 * when a queued stop cut it short. */
static int eval_split(session *s, int split, long *conf, double out[2][2])
{
    const sess_split *sp = &s->d.split[split];
    eval_job j[2] = {
        { .r = &s->r[0], .sp = sp, .confusion = conf, .first = s->cache_first,
          .feat = split == SESS_VAL_SPLIT && s->cache_first ? s->cache[1] : NULL },
        { .r = &s->r[1], .sp = sp },
    };
    sess_run_pair(s, replica_eval, &j[0], s->r[1].m ? &j[1] : NULL);
    for (int k = 0; k < 2; k++) {
        out[k][0] = s->r[k].m ? j[k].loss : NAN;
        out[k][1] = s->r[k].m ? j[k].acc : NAN;
    }
    return j[0].cut || (s->r[1].m && j[1].cut);
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

float sess_head_lr(const model *m)
{
    for (int i = m->nslice - 1; i >= 0; i--)
        if (m->slice[i].kind != PARAM_STAT)
            return m->slice[i].lr;
    return 0.0f;
}

void sess_publish_confusion(session *s)
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


void sess_evaluate(session *s, int final, int with_test, int measure)
{
    double t0 = thaw_now_s();
    sess_eval e;
    double v[2][2] = { { NAN, NAN }, { NAN, NAN } }, t[2][2] = { { NAN, NAN }, { NAN, NAN } };
    memset(&e, 0, sizeof e);
    size_t cn = (size_t)s->d.classes * (size_t)s->d.classes;
    memset(s->confusion_next, 0, cn * sizeof(long));
    int test = with_test && s->d.split[SESS_TEST_SPLIT].n > 0;
    int cut = !measure || eval_split(s, SESS_VAL_SPLIT, test ? NULL : s->confusion_next, v);
    if (test && !cut)
        cut = eval_split(s, SESS_TEST_SPLIT, s->confusion_next, t);
    if (cut && !final)
        return;                          /* a stop is queued: its final evaluation follows */
    if (!cut) {
        s->conf_split = test ? SESS_TEST_SPLIT : SESS_VAL_SPLIT;
        sess_publish_confusion(s);
    }

    e.epoch = atomic_load(&s->epoch);
    e.pseudo_n = s->npseudo;
    e.pseudo_acc = s->npseudo && s->pseudo_right >= 0 ? (double)s->pseudo_right / s->npseudo : NAN;
    e.step = s->step;
    e.train_s = s->t_train;
    double dt = s->t_train - s->run.t_eval;
    e.img_s = dt > 0 ? (double)(s->seen_total - s->run.seen_eval) / dt : NAN;
    s->run.t_eval = s->t_train;
    s->run.seen_eval = s->seen_total;
    double f = sess_factor(s);
    e.lr = sess_head_lr(s->r[0].m) * f;
    e.scratch_lr = s->r[1].m ? s->c.scratch_lr * f : NAN;
    replica *r = &s->r[0], *b = &s->r[1];
    e.train_loss = r->seen ? r->loss_sum / r->seen : NAN;
    e.train_acc = r->seen ? (double)r->correct / r->seen : NAN;
    e.scratch_train_loss = b->m && b->seen ? b->loss_sum / b->seen : NAN;
    e.scratch_train_acc = b->m && b->seen ? (double)b->correct / b->seen : NAN;
    e.align_loss = s->align_n ? s->align_sum / s->align_n : NAN;
    s->align_sum = 0.0;
    s->align_n = 0;
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
    e.source_acc = cut ? NAN : source_accuracy(s);
    e.domain_gap = cut ? NAN : sess_domain_gap(s);
    e.final = final;
    s->t_evaluating += thaw_now_s() - t0;
    e.wall = s->t_train + s->t_evaluating;

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
    sess_diagnostics(s);
    if (s->h.eval)
        s->h.eval(s->h.ctx, &e, s->r[0].m, s->r[1].m);
    sess_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SEV_EVAL;
    ev.eval = e;
    sess_emit(s, &ev);
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

void sess_diagnostics(session *s)
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
            if (!p->frozen && p->row) {
                /* A row-sparse slice: the step moved, and has gradient on, its rows alone. */
                size_t width = (size_t)p->dim[1];
                for (int q = 0; q < p->nrow; q++) {
                    size_t at = p->off + (size_t)p->row[q] * width;
                    sums(m->param + at, r->good + at, width, &unused, &unused, &d->u2);
                    for (size_t c = 0; c < width; c++)
                        d->g2 += (double)m->grad[at + c] * m->grad[at + c];
                }
            } else if (!p->frozen) {
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

