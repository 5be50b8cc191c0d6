/* schedule.c — learning-rate schedule factors and their text form. */
#include "schedule.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtext.h"

static const char *const sched_names[] = {
    [SCHED_CONSTANT] = "constant",
    [SCHED_STEP] = "step",
    [SCHED_COSINE] = "cosine",
    [SCHED_ONECYCLE] = "one-cycle",
};

_Static_assert(sizeof sched_names / sizeof sched_names[0] == SCHED_KIND_COUNT,
               "every schedule kind has a name");

/* In the order schedule_format writes them. */
static const kv_key sched_keys[] = {
    { "every", offsetof(schedule, every), 0, KV_BIT(SCHED_STEP), 0, INFINITY, 1, 1, 0 },
    { "gamma", offsetof(schedule, gamma), 0, KV_BIT(SCHED_STEP), 0, 1, 1, 0, 0 },
    { "div", offsetof(schedule, div), 0, KV_BIT(SCHED_ONECYCLE), 1, INFINITY, 0, 1, 0 },
    { "div_final", offsetof(schedule, div_final), 0, KV_BIT(SCHED_ONECYCLE), 1, INFINITY, 0, 1, 0 },
    { "pct", offsetof(schedule, pct), 0, KV_BIT(SCHED_ONECYCLE), 0, 1, 1, 1, 0 },
    { "warmup", offsetof(schedule, warmup), 0, KV_ALL, 0, INFINITY, 0, 1, 0 },
};

static const kv_form sched_form = { "schedule", sched_names, NULL, SCHED_KIND_COUNT, sched_keys,
                                    sizeof sched_keys / sizeof sched_keys[0] };

const char *sched_name(sched_kind k)
{
    if ((unsigned)k >= SCHED_KIND_COUNT)
        return "unknown";
    return sched_names[k];
}

void schedule_default(schedule *s, sched_kind kind)
{
    *s = (schedule){ .kind = kind, .warmup = 0, .every = 10, .gamma = 0.1,
                     .div = 25, .div_final = 1e5, .pct = 0.25 };
}

int schedule_parse(schedule *s, const char *text, thaw_err *err)
{
    int kind, rc;
    const char *rest;
    if ((rc = kv_parse_kind(&sched_form, text, &kind, &rest, err)))
        return rc;
    schedule out;
    schedule_default(&out, (sched_kind)kind);
    if ((rc = kv_parse_keys(&sched_form, kind, &out, rest, err)))
        return rc;
    *s = out;
    return THAW_OK;
}

void schedule_format(const schedule *s, char *buf, size_t cap)
{
    num_text t = { buf, cap, 0 };
    schedule def;
    schedule_default(&def, s->kind);
    if (cap > 0)
        buf[0] = '\0';
    num_text_add(&t, "%s", sched_name(s->kind));
    if ((unsigned)s->kind >= SCHED_KIND_COUNT)
        return;
    kv_format_keys(&sched_form, s->kind, s, &def, &t);
}

/* fast.ai's SchedCos: from start at pos 0 to end at pos 1. */
static double cos_anneal(double start, double end, double pos)
{
    return start + (1.0 + cos(M_PI * (1.0 - pos))) * (end - start) / 2.0;
}

/* fast.ai's combined_cos(pct, 1/div, 1, 1/div_final) at t in [0, 1]. */
static double onecycle(const schedule *s, double t)
{
    if (t < s->pct)
        return cos_anneal(1.0 / s->div, 1.0, t / s->pct);
    return cos_anneal(1.0, 1.0 / s->div_final, (t - s->pct) / (1.0 - s->pct));
}

static double base_factor(const schedule *s, long step, long total, long per_epoch)
{
    double t = (double)step / (double)total;
    double epoch = (double)step / (double)per_epoch;
    switch (s->kind) {
    case SCHED_STEP:
        /* The nudge keeps a drop on its epoch when `every` has no exact
         * binary form: 3 steps at 10 per epoch are 0.3 epochs, and 0.3 / 0.1
         * is 2.9999999999999996 in doubles. */
        return pow(s->gamma, floor(epoch / s->every + 1e-9));
    case SCHED_COSINE:
        return 0.5 * (1.0 + cos(M_PI * t));
    case SCHED_ONECYCLE:
        return onecycle(s, t);
    case SCHED_CONSTANT:
    case SCHED_KIND_COUNT:
        break;
    }
    return 1.0;
}

double schedule_factor(const schedule *s, long step, long total, long per_epoch)
{
    if (total <= 0 || per_epoch <= 0)
        return 1.0;
    step = step < 0 ? 0 : step > total ? total : step;
    double f = base_factor(s, step, total, per_epoch);
    if (s->warmup > 0) {
        double ramp = (double)(step + 1) / (s->warmup * (double)per_epoch);
        if (ramp < 1.0)
            f *= ramp;
    }
    return f;
}
