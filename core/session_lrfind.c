/* session_lrfind.c — the learning-rate finder: a short sweep of the
 * transferred model's rates with the weights put back afterwards. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void sess_lr_find(session *s, double lo, double hi, int steps)
{
    replica *r = &s->r[0];
    model *m = r->m;
    double ref = sess_head_lr(m);
    int nt = s->d.split[SESS_TRAIN_SPLIT].n;
    double *lr = malloc((size_t)steps * sizeof *lr), *sm = malloc((size_t)steps * sizeof *sm);
    int *lds = malloc((size_t)steps * sizeof *lds);
    float *keep = malloc(m->nfloat * sizeof(float));
    long steps0 = r->opt.steps;
    int *order = malloc((size_t)nt * sizeof(int));
    float *st1 = malloc(r->opt.n * sizeof(float) + 1), *st2 = malloc(r->opt.n * sizeof(float) + 1);
    long *ss = malloc((size_t)m->nslice * sizeof(long));
    if (!lr || !sm || !lds || !keep || !st1 || !st2 || !ss || !order || ref <= 0) {
        sess_emit_text(s, SEV_ERROR, ref <= 0 ? "lr-find: the head's learning rate is 0"
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
    int stopped = s->cache_stale && sess_cache_update(s);
    double avg = 0.0, best = INFINITY;
    int n = 0, pos = nt;
    rng stream = sess_stream(s, -1);
    for (int i = 0; i < steps && !stopped; i++) {
        if ((stopped = sess_pending(s, SESS_PENDING_ANY)))
            break;
        if (pos >= nt) {
            sess_shuffle(s, &stream);
            pos = 0;
        }
        int b = nt - pos < s->c.batch ? nt - pos : s->c.batch;
        sess_gather(s, pos, b, &stream);
        pos += b;
        double rate = lo * pow(hi / lo, steps > 1 ? (double)i / (steps - 1) : 0.0);
        step_job j = { .r = r, .x = s->cache_first ? s->fx : s->bx, .y = s->by, .n = b,
                       .first = s->cache_first, .factor = (float)(rate / ref) };
        sess_replica_step(s, &j);
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
        sess_emit(s, &ev);
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
    if (stopped && n < 3)
        snprintf(ev.text, sizeof ev.text, "lr-find: stopped after %d of %d steps, too few to suggest a rate",
                 n, steps);
    else if (n < 3)
        snprintf(ev.text, sizeof ev.text, "lr-find: only %d steps before the loss diverged (from %.3g to %.3g)",
                 n, lo, n ? lr[n - 1] : lo);
    else
        snprintf(ev.text, sizeof ev.text, "lr-find: %s%d steps from %.3g to %.3g; suggested head rate %.3g",
                 stopped ? "stopped early, after " : "", n, lo, lr[n - 1], ev.value);
    sess_emit(s, &ev);
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

