/* overlay.h — an earlier run's curves, read back from its metrics.csv, to
 * draw beside the current one (TensorBoard's run overlay).
 *
 *     run_curve c;
 *     if (run_curve_load(&c, "runs/20250301-142233-finetune", &err)) ... err.msg ...
 *     ... c.x[i] (epochs), c.val_acc[i], c.delta[i], i < c.n; c.name ...
 *     run_curve_free(&c);
 *
 * The file is the one runlog writes (its header names the columns; they may
 * come in any order, and unknown ones are skipped). x is the epoch of each
 * evaluation, fractional when it fell inside one: the step over the run's
 * steps per epoch, found from its rows. Accuracy stays a fraction; an empty
 * field is NaN. Errors name the file, the line and the field: THAW_EIO
 * (missing, unreadable), THAW_EINVAL (no header, a needed column absent, a
 * field not a number, a row of the wrong width), THAW_ENOMEM. Nothing here
 * prints. */
#ifndef THAW_OVERLAY_H
#define THAW_OVERLAY_H

#include "status.h"

enum { RUN_CURVE_ROWS_MAX = 1 << 20, RUN_CURVE_NAME_MAX = 64 };

typedef struct run_curve {
    char name[RUN_CURVE_NAME_MAX];   /* the run folder's last part */
    double *x, *val_acc, *delta;
    int n;
} run_curve;

int run_curve_load(run_curve *c, const char *dir, thaw_err *err);
void run_curve_free(run_curve *c);

#endif
