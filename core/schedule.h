/* schedule.h — learning-rate schedules: the factor that multiplies every
 * slice's learning rate at each optimizer step (optim_step's lr_scale).
 *
 * A run has `total` steps, `per_epoch` of them per epoch; step counts from 0.
 *
 *   constant   1
 *   step       gamma^floor(epoch / every), epoch = step / per_epoch (fractional)
 *   cosine     0.5 (1 + cos(pi t)), t = step / total: PyTorch's CosineAnnealingLR
 *              with eta_min 0 and T_max the whole run; 1 at the start, ~0 at the end
 *   one-cycle  fast.ai's fit_one_cycle: a cosine from 1/div up to 1 over the first
 *              pct of the steps (exactly 1 at t = pct), then a cosine down to
 *              1/div_final at t = 1
 *
 * Any kind may add a linear warm-up over `warmup` epochs (fractions allowed):
 * the factor is then multiplied by min(1, (step + 1) / (warmup * per_epoch)).
 *
 * Text form, as typed at thaw's command line: a name, then key=value items,
 * separated by spaces and/or commas:
 *
 *     constant   cosine   step   step every=5 gamma=0.5
 *     one-cycle  one-cycle pct=0.3 div=10   cosine warmup=1
 *
 *   key        kinds       valid             default
 *   warmup     all         >= 0 epochs       0 (none)
 *   every      step        > 0 epochs        10
 *   gamma      step        (0, 1]            0.1
 *   div        one-cycle   >= 1              25
 *   div_final  one-cycle   >= 1              1e5
 *   pct        one-cycle   (0, 1)            0.25
 *
 * Usage:
 *
 *     schedule s;
 *     thaw_err err = {0};
 *     if (schedule_parse(&s, "one-cycle pct=0.3 warmup=1", &err) != THAW_OK)
 *         ... report err.msg ...
 *     for (long t = 0; t < total; t++) {
 *         ... forward, backward ...
 *         optim_step(&o, &m, (float)schedule_factor(&s, t, total, per_epoch));
 *     }
 */
#ifndef THAW_SCHEDULE_H
#define THAW_SCHEDULE_H

#include <stddef.h>

#include "status.h"

typedef enum sched_kind {
    SCHED_CONSTANT,
    SCHED_STEP,
    SCHED_COSINE,
    SCHED_ONECYCLE,
    SCHED_KIND_COUNT
} sched_kind;

typedef struct schedule {
    sched_kind kind;
    double warmup;      /* epochs of linear warm-up, all kinds; 0 = none */
    double every;       /* step: epochs between drops */
    double gamma;       /* step: factor per drop */
    double div;         /* one-cycle: the start is 1/div of the peak */
    double div_final;   /* one-cycle: the end is 1/div_final of the peak */
    double pct;         /* one-cycle: share of the steps spent rising */
} schedule;

/* A buffer this long holds any schedule_format output. */
#define SCHEDULE_TEXT_MAX 192

/* Sets kind and every other field to its default (table above). */
void schedule_default(schedule *s, sched_kind kind);

/* Reads the text form into s. THAW_EINVAL, with s unchanged, for an empty
 * text, an unknown name, a key the kind does not take, a key given twice, an
 * item without '=', a malformed or non-finite number, or a value out of its
 * range; the message names the offending item and lists what is valid. */
int schedule_parse(schedule *s, const char *text, thaw_err *err);

/* Writes the text form of s into buf (always terminated when cap > 0,
 * truncated past cap). Values at their default and keys the kind does not
 * take are left out; schedule_parse reads the text back to the same values. */
void schedule_format(const schedule *s, char *buf, size_t cap);

/* "constant", "step", "cosine", "one-cycle"; "unknown" for anything else. */
const char *sched_name(sched_kind k);

/* The factor at step `step` (clamped to [0, total]) of a run of `total`
 * steps with `per_epoch` steps per epoch. 1 when total or per_epoch is not
 * positive. Expects the values schedule_parse accepts. */
double schedule_factor(const schedule *s, long step, long total, long per_epoch);

#endif
