/* panel_results.c — the space under the layer tree: once a run has ended,
 * its results (test accuracy of both models, Δtransfer on test and at the
 * best validation epoch, the epochs each model took to reach 95% of its
 * final accuracy, the source task's accuracy when forgetting is measured);
 * then, where rows are left, the run's settings and its last events. The
 * tree panel says how many rows it used (ui.tree_rows). While a run
 * trains, its results are not shown: they come with its final evaluation. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "panel.h"
#include "screen.h"

enum { EVENTS = 6 };

typedef struct results {
    char event[EVENTS][224];      /* the last changes and state changes, newest last */
    int nevent;
} results;

static void remember(results *s, long step, const char *text)
{
    if (s->nevent == EVENTS) {
        memmove(s->event[0], s->event[1], sizeof s->event[0] * (EVENTS - 1));
        s->nevent--;
    }
    snprintf(s->event[s->nevent++], sizeof s->event[0], "step %ld: %s", step, text);
}

static void results_update(ui_panel *p, const ui_event *ev)
{
    results *s = p->state;
    if (ev->kind == UI_EV_MODEL)
        s->nevent = 0;
    if (ev->kind != UI_EV_SESSION)
        return;
    const sess_event *e = ev->sess;
    if (e->kind == SEV_CHANGE)
        remember(s, e->step, e->text);
    else if ((e->kind == SEV_STATE || e->kind == SEV_NONFINITE || e->kind == SEV_ERROR) && e->text[0])
        remember(s, e->step, e->text);
}

/* A heading across the panel: "─ results on test ─────". */
static void heading(int y, layout_rect r, const char *text)
{
    const char *h = screen_glyph("─", "-");
    attron(A_BOLD);
    for (int x = 0; x < r.w; x++)
        screen_put(y, r.x + x, 1, h);
    char t[96];
    snprintf(t, sizeof t, " %s ", text);
    screen_put(y, r.x + 1, r.w - 2, t);
    attroff(A_BOLD);
}

static void pct(char *out, size_t cap, double v)
{
    if (isnan(v))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.1f%%", 100 * v);
}

static void points(char *out, size_t cap, double v)
{
    if (isnan(v))
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%+.1f", 100 * v);
}

/* The evaluation with the best validation accuracy, or NULL. */
static const sess_eval *best_eval(const app *a)
{
    const sess_eval *best = NULL;
    for (int i = 0; i < a->nhistory; i++)
        if (!isnan(a->history[i].val_acc) && (!best || a->history[i].val_acc > best->val_acc))
            best = &a->history[i];
    return best;
}

/* The results' lines into line[]; how many. None unless the run's last
 * evaluation is a final one: while a run trains (again, or after reset or
 * load data) the previous run's final figures are not this run's. */
static int result_lines(const app *a, char line[][128], int cap)
{
    const sess_eval *f = &a->final;
    if (a->nhistory == 0 || !a->history[a->nhistory - 1].final ||
        (isnan(f->test_acc) && isnan(f->val_acc)))
        return 0;
    int n = 0;
    char t[16], s[16], d[16];
    int test = !isnan(f->test_acc);
    pct(t, sizeof t, test ? f->test_acc : f->val_acc);
    pct(s, sizeof s, test ? f->scratch_test_acc : f->scratch_val_acc);
    points(d, sizeof d, test ? f->test_delta : f->delta);
    if (n < cap)
        snprintf(line[n++], 128, "transfer %s  scratch %s  %s %s points", t, s,
                 screen_glyph("Δ", "delta"), d);
    const sess_eval *b = best_eval(a);
    if (b && n < cap) {
        points(d, sizeof d, b->delta);
        snprintf(line[n++], 128, "at the best val epoch (%d): %s %s points on val", b->epoch,
                 screen_glyph("Δ", "delta"), d);
    }
    double et = cli_epochs_to_95(a, 0), es = cli_epochs_to_95(a, 1);
    if (!isnan(et) && n < cap) {
        if (isnan(es))
            snprintf(line[n++], 128, "95%% of final accuracy: epoch %.0f", et);
        else
            snprintf(line[n++], 128, "95%% of final accuracy: transfer epoch %.0f, scratch %.0f", et, es);
    }
    if (!isnan(f->source_acc) && n < cap) {
        pct(t, sizeof t, f->source_acc);
        pct(s, sizeof s, a->source_meta.prov.test_accuracy >= 0 ? a->source_meta.prov.test_accuracy : NAN);
        snprintf(line[n++], 128, "source task now %s (was %s)", t, s);
    }
    return n;
}

/* The `set` lines of the configuration, without "set". */
static int setting_lines(const app *a, char line[][128], int cap)
{
    char *text = app_config_text(a);
    if (!text)
        return 0;
    int n = 0;
    for (char *l = strtok(text, "\n"); l && n < cap; l = strtok(NULL, "\n"))
        if (!strncmp(l, "set ", 4))
            snprintf(line[n++], 128, "%s", l + 4);
    free(text);
    return n;
}

static void results_draw(ui_panel *p, layout_rect r)
{
    const results *s = p->state;
    const app *a = &p->ui->a;
    int y = r.y + p->ui->tree_rows + 1, end = r.y + r.h;
    char line[8][128];
    int n = result_lines(a, line, 8);
    const char *split = !isnan(a->final.test_acc) ? "results on test" : "results on val";
    if (n > 0 && y + 1 + n <= end) {
        heading(y++, r, split);
        for (int i = 0; i < n; i++)
            screen_put(y++, r.x + 1, r.w - 1, line[i]);
        y++;
    }
    n = setting_lines(a, line, 8);
    if (n > 0 && y + 1 + n <= end) {
        heading(y++, r, "settings");
        for (int i = 0; i < n; i++)
            screen_put(y++, r.x + 1, r.w - 1, line[i]);
        y++;
    }
    if (s->nevent > 0 && y + 2 <= end) {
        heading(y++, r, "events");
        int room = end - y < s->nevent ? end - y : s->nevent;
        for (int i = s->nevent - room; i < s->nevent; i++)
            screen_put(y++, r.x + 1, r.w - 1, s->event[i]);
    }
}

const ui_panel_ops ui_results_panel = {
    .name = "results",
    .place = UI_AT_TREE,
    .size = sizeof(results),
    .update = results_update,
    .draw = results_draw,
};
