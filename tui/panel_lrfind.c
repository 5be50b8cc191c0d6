/* panel_lrfind.c — a view: the last lr-find's curve, the smoothed training
 * loss against the head's learning rate on a log axis, the suggested rate
 * marked, drawn while the sweep runs. The view comes to the front when a
 * sweep starts; `a` (the workbench's key, or :lr-find apply) takes the
 * suggestion. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "chart.h"
#include "panel.h"
#include "screen.h"
#include "svg.h"

typedef struct lrfind {
    double *x;                   /* log10 of each rate, as drawn */
    int cap;
    chart_cells cells;
} lrfind;

static void lrfind_fini(ui_panel *p)
{
    lrfind *f = p->state;
    free(f->x);
    chart_cells_free(&f->cells);
}

static void lrfind_update(ui_panel *p, const ui_event *ev)
{
    if (ev->kind == UI_EV_SESSION && ev->sess->kind == SEV_LRFIND && ev->sess->count == 0)
        ui_show(p->ui, p);       /* a sweep began: show it */
}

static void lrfind_draw(ui_panel *p, layout_rect r)
{
    lrfind *f = p->state;
    const app *a = &p->ui->a;
    if (r.w < 1 || r.h < 1)
        return;
    if (a->lrf_n == 0) {
        attron(A_BOLD);
        screen_put(r.y, r.x, r.w, "lr-find: the loss against the learning rate");
        attroff(A_BOLD);
        screen_put(r.y + 2, r.x, r.w, "no sweep yet: type :lr-find (it trains a copy for up to 100 steps");
        screen_put(r.y + 3, r.x, r.w, "at a rate growing from 1e-7 to 10, then puts the weights back)");
        return;
    }
    if (a->lrf_n > f->cap) {
        double *x = realloc(f->x, (size_t)a->lrf_n * sizeof *x);
        if (!x)
            return;
        f->x = x;
        f->cap = a->lrf_n;
    }
    for (int i = 0; i < a->lrf_n; i++)
        f->x[i] = a->lrf_rate[i] > 0 ? log10(a->lrf_rate[i]) : NAN;
    char title[160], rate[32];
    double mark = isfinite(a->lr_suggestion) && a->lr_suggestion > 0 ? log10(a->lr_suggestion) : NAN;
    plot_snprintf(rate, sizeof rate, "%.2g", a->lr_suggestion);
    if (!a->lrf_done)
        snprintf(title, sizeof title, "lr-find: %d steps", a->lrf_n);
    else if (isfinite(mark))
        snprintf(title, sizeof title, "lr-find: suggests %s; a applies", rate);
    else
        snprintf(title, sizeof title, "lr-find: no suggestion (it diverged at once)");
    chart_series s[] = {
        { "loss by rate", f->x, a->lrf_loss, a->lrf_n, CHART_COLOR_SERIES },
        { isfinite(mark) ? screen_glyph("│ suggested", "| suggested") : NULL, NULL, NULL, 0,
          CHART_COLOR_EVENT },
    };
    chart ch = { .title = title, .series = s, .nseries = 2, .events = &mark, .nevents = isfinite(mark),
                 .x_pow10 = 1 };
    ui_chart(&f->cells, r, &ch);
}

const ui_panel_ops ui_lrfind_panel = {
    .name = "lrfind",
    .place = UI_AT_VIEW,
    .size = sizeof(lrfind),
    .fini = lrfind_fini,
    .update = lrfind_update,
    .draw = lrfind_draw,
};
