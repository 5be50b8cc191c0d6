/* overlay.c — an earlier run's curves from its metrics.csv (overlay.h). */
#include "overlay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

enum { COL_EPOCH, COL_STEP, COL_VAL_ACC, COL_DELTA, COLS };
static const char *const col_name[COLS] = { "epoch", "step", "val_acc", "delta" };

void run_curve_free(run_curve *c)
{
    free(c->x);
    free(c->val_acc);
    free(c->delta);
    *c = (run_curve){ 0 };
}

/* The next line of text at *p, cut in place; NULL at the end. */
static char *next_line(char **p)
{
    if (!*p || !**p)
        return NULL;
    char *line = *p, *end = strchr(line, '\n');
    if (end) {
        *end = '\0';
        *p = end + 1;
    } else {
        *p = line + strlen(line);
    }
    size_t n = strlen(line);
    if (n && line[n - 1] == '\r')
        line[n - 1] = '\0';
    return line;
}

int run_curve_load(run_curve *c, const char *dir, thaw_err *err)
{
    *c = (run_curve){ 0 };
    char path[4096];
    if (snprintf(path, sizeof path, "%s/metrics.csv", dir) >= (int)sizeof path)
        return thaw_fail(err, THAW_EINVAL, "%s: the folder's name is too long", dir);
    char *text = NULL;
    size_t len = 0;
    int rc = fio_read(path, (size_t)256 << 20, &text, &len, err);
    if (rc)
        return rc;
    char name[4096];
    snprintf(name, sizeof name, "%s", dir);
    for (size_t n = strlen(name); n > 1 && name[n - 1] == '/'; n--)
        name[n - 1] = '\0';
    const char *base = strrchr(name, '/');
    snprintf(c->name, sizeof c->name, "%s", base && base[1] ? base + 1 : name);

    char *p = text, *line = next_line(&p);
    int where[COLS], ncol = 0;
    for (int k = 0; k < COLS; k++)
        where[k] = -1;
    for (char *save, *f = line ? strtok_r(line, ",", &save) : NULL; f; f = strtok_r(NULL, ",", &save), ncol++)
        for (int k = 0; k < COLS; k++)
            if (!strcmp(f, col_name[k]))
                where[k] = ncol;
    for (int k = 0; !rc && k < COLS; k++)
        if (where[k] < 0)
            rc = thaw_fail(err, THAW_EINVAL, "%s: line 1: no column '%s' (expected the header thaw's run "
                           "folders write)", path, col_name[k]);
    int cap = 0, lineno = 1;
    double *step = NULL, *epoch = NULL;
    while (!rc && (line = next_line(&p))) {
        lineno++;
        if (!*line)
            continue;
        if (c->n == RUN_CURVE_ROWS_MAX) {
            rc = thaw_fail(err, THAW_EINVAL, "%s: more than %d rows", path, RUN_CURVE_ROWS_MAX);
            break;
        }
        if (c->n == cap) {
            cap = cap ? 2 * cap : 64;
            double *arr[5] = { c->x, c->val_acc, c->delta, step, epoch };
            for (int k = 0; k < 5; k++) {
                double *grown = realloc(arr[k], (size_t)cap * sizeof *grown);
                if (!grown) {
                    rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d rows", path, cap);
                    break;
                }
                arr[k] = grown;
            }
            c->x = arr[0], c->val_acc = arr[1], c->delta = arr[2], step = arr[3], epoch = arr[4];
            if (rc)
                break;
        }
        double v[COLS] = { NAN, NAN, NAN, NAN };
        int field = 0;
        for (char *f = line;; field++) {
            char *comma = strchr(f, ',');
            if (comma)
                *comma = '\0';
            for (int k = 0; k < COLS; k++) {
                if (where[k] != field || !*f)
                    continue;
                char *end;
                errno = 0;
                v[k] = strtod(f, &end);
                if (*end || errno == ERANGE)
                    rc = thaw_fail(err, THAW_EINVAL, "%s: line %d: %s '%.32s' is not a number", path, lineno,
                                   col_name[k], f);
            }
            if (!comma)
                break;
            f = comma + 1;
        }
        if (!rc && field + 1 != ncol)
            rc = thaw_fail(err, THAW_EINVAL, "%s: line %d: %d fields, expected %d as in the header", path,
                           lineno, field + 1, ncol);
        if (rc)
            break;
        step[c->n] = v[COL_STEP];
        epoch[c->n] = v[COL_EPOCH];
        c->val_acc[c->n] = v[COL_VAL_ACC];
        c->delta[c->n] = v[COL_DELTA];
        c->n++;
    }
    /* Steps per epoch: the first row with a whole epoch behind it. */
    double per = 0;
    for (int i = 0; !rc && i < c->n && per == 0; i++)
        if (epoch[i] >= 1 && step[i] > 0)
            per = step[i] / epoch[i];
    for (int i = 0; !rc && i < c->n; i++)
        c->x[i] = per > 0 ? step[i] / per : epoch[i];
    free(step);
    free(epoch);
    free(text);
    if (!rc && c->n == 0)
        rc = thaw_fail(err, THAW_EINVAL, "%s: no evaluations yet", path);
    if (rc)
        run_curve_free(c);
    return rc;
}
