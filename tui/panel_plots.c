/* panel_plots.c — the live charts: loss (training steps, validation, the
 * scratch baseline), validation accuracy of transfer and scratch, and
 * Δtransfer, with a mark wherever the plan changed. As many as the rows
 * allow (layout_charts), the most telling first. The x axis counts epochs
 * (a step is its fraction of an epoch); the legend names the marks. `m`
 * smooths the loss and Δtransfer (one noisy evaluation of the baseline
 * swings Δ), or shows them raw. */
#include <curses.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "cli.h"
#include "panel.h"
#include "screen.h"

enum { SERIES_MAX = 20000, MARKS_MAX = 512 };

typedef struct series {
    double *x, *y;
    int n;
} series;

enum { S_STEP_LOSS, S_EV_X, S_VAL_LOSS, S_SCRATCH_LOSS, S_VAL_ACC, S_SCRATCH_ACC, S_DELTA,
       S_COUNT };

typedef struct plots {
    series s[S_COUNT];               /* S_STEP_LOSS by step; the rest by evaluation (x: S_EV_X) */
    double marks[MARKS_MAX];         /* steps where the plan changed */
    int nmarks;
    double smooth;                   /* the loss and Δ curves' EMA weight; 0 = raw */
    chart_cells cells[LAYOUT_CHART_COUNT];   /* one per chart shown, kept while its size holds */
} plots;

static void push(series *s, double x, double y)
{
    if (s->n == SERIES_MAX) {        /* keep every other point of the oldest half */
        for (int i = 0; i < SERIES_MAX / 2; i++) {
            s->x[i] = s->x[2 * i];
            s->y[i] = s->y[2 * i];
        }
        memmove(s->x + SERIES_MAX / 4, s->x + SERIES_MAX / 2, SERIES_MAX / 2 * sizeof(double));
        memmove(s->y + SERIES_MAX / 4, s->y + SERIES_MAX / 2, SERIES_MAX / 2 * sizeof(double));
        s->n = SERIES_MAX / 4 + SERIES_MAX / 2;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

static int plots_init(ui_panel *p)
{
    plots *q = p->state;
    q->smooth = CLI_DELTA_SMOOTH;
    for (int i = 0; i < S_COUNT; i++) {
        q->s[i].x = malloc(SERIES_MAX * sizeof(double));
        q->s[i].y = malloc(SERIES_MAX * sizeof(double));
        if (!q->s[i].x || !q->s[i].y)
            return 1;
    }
    return 0;
}

static void plots_fini(ui_panel *p)
{
    plots *q = p->state;
    for (int i = 0; i < S_COUNT; i++) {
        free(q->s[i].x);
        free(q->s[i].y);
    }
    for (int i = 0; i < LAYOUT_CHART_COUNT; i++)
        chart_cells_free(&q->cells[i]);
}

static void plots_update(ui_panel *p, const ui_event *ev)
{
    plots *q = p->state;
    if (ev->kind == UI_EV_MODEL) {
        for (int i = 0; i < S_COUNT; i++)
            q->s[i].n = 0;
        q->nmarks = 0;
        return;
    }
    if (ev->kind != UI_EV_SESSION)
        return;
    const sess_event *e = ev->sess;
    const app *a = &p->ui->a;
    double per = app_steps_per_epoch(a);      /* x in epochs */
    if (e->kind == SEV_STEP) {
        push(&q->s[S_STEP_LOSS], (double)e->step / per, e->value);
    } else if (e->kind == SEV_EVAL) {
        double x = (double)e->eval.step / per;
        push(&q->s[S_EV_X], x, x);
        push(&q->s[S_VAL_LOSS], x, e->eval.val_loss);
        push(&q->s[S_SCRATCH_LOSS], x, e->eval.scratch_val_loss);
        push(&q->s[S_VAL_ACC], x, e->eval.val_acc);
        push(&q->s[S_SCRATCH_ACC], x, e->eval.scratch_val_acc);
        push(&q->s[S_DELTA], x, e->eval.delta);
    } else if (e->kind == SEV_CHANGE && q->nmarks < MARKS_MAX) {
        q->marks[q->nmarks++] = (double)e->step / per;
    }
}

static void draw_cells(const chart_cells *c, layout_rect r)
{
    /* chart colour index -> colour pair */
    static const int pair[] = { 0, SCREEN_EVENT, SCREEN_DIM, SCREEN_WARN, SCREEN_S1, SCREEN_S2, SCREEN_S3,
                                SCREEN_S4 };
    for (int y = 0; y < c->h && y < r.h; y++) {
        move(r.y + y, r.x);
        for (int x = 0; x < c->w && x < r.w; x++) {
            int k = c->color[y * c->w + x];
            int p = k > 0 && k < (int)(sizeof pair / sizeof pair[0]) ? pair[k] : 0;
            if (p)
                attron(screen_color(p));
            addstr(c->text[y * c->w + x]);
            if (p)
                attroff(screen_color(p));
        }
    }
}

void ui_chart(chart_cells *c, layout_rect r, const chart *ch)
{
    if (r.w < 1 || r.h < 1)
        return;
    if (c->w != r.w || c->h != r.h) {
        chart_cells_free(c);
        if (chart_cells_init(c, r.w, r.h))
            return;
    }
    chart_render(ch, c, screen_utf8());
    draw_cells(c, r);
}

static void plots_draw(ui_panel *p, layout_rect r)
{
    plots *q = p->state;
    const series *s = q->s, *x = &q->s[S_EV_X];
    enum { TRAIN = CHART_COLOR_SERIES, TRANSFER, SCRATCH, DELTA };
    chart_series loss[] = {
        { "train", s[S_STEP_LOSS].x, s[S_STEP_LOSS].y, s[S_STEP_LOSS].n, TRAIN },
        { "val", x->x, s[S_VAL_LOSS].y, s[S_VAL_LOSS].n, TRANSFER },
        { "scratch val", x->x, s[S_SCRATCH_LOSS].y, s[S_SCRATCH_LOSS].n, SCRATCH },
        { NULL, NULL, NULL, 0, 0 },
    };
    /* Earlier runs (overlay DIR) first, dim, so this run's curves draw over them. */
    const app *a = &p->ui->a;
    chart_series acc[APP_OVERLAYS + 3], delta[APP_OVERLAYS + 3];
    int nacc = 0, ndelta = 0;
    for (int i = 0; i < a->noverlay; i++) {
        const run_curve *o = &a->overlay[i];
        acc[nacc++] = (chart_series){ i ? NULL : "earlier runs", o->x, o->val_acc, o->n, CHART_COLOR_REF };
        delta[ndelta++] = (chart_series){ i ? NULL : "earlier runs", o->x, o->delta, o->n, CHART_COLOR_REF };
    }
    acc[nacc++] = (chart_series){ "transfer", x->x, s[S_VAL_ACC].y, s[S_VAL_ACC].n, TRANSFER };
    acc[nacc++] = (chart_series){ "scratch", x->x, s[S_SCRATCH_ACC].y, s[S_SCRATCH_ACC].n, SCRATCH };
    delta[ndelta++] = (chart_series){ q->smooth > 0 ? "val, smoothed" : "val", x->x, s[S_DELTA].y, s[S_DELTA].n,
                                      DELTA };
    delta[ndelta++] = (chart_series){ screen_glyph("▼ ends below 0", "v ends below 0"), NULL, NULL, 0,
                                      CHART_COLOR_BELOW };
    /* The marks' entry in each legend: an empty series in their colour. */
    const char *mark = q->nmarks ? screen_glyph("│ plan changed", "| plan changed") : NULL;
    loss[3] = acc[nacc++] = delta[ndelta++] = (chart_series){ mark, NULL, NULL, 0, CHART_COLOR_EVENT };
    chart charts[LAYOUT_CHART_COUNT];
    memset(charts, 0, sizeof charts);
    charts[0] = (chart){ .title = "loss by epoch", .series = loss, .nseries = 4, .smooth = q->smooth };
    charts[1] = (chart){ .title = "val accuracy by epoch", .series = acc, .nseries = nacc, .fixed_y = 1,
                         .ymin = 0, .ymax = 1, .label_scale = 100, .label_suffix = "%" };
    charts[2] = (chart){ .title = screen_utf8() ? "Δtransfer (points)" : "delta-transfer (points)",
                         .series = delta, .nseries = ndelta, .has_ref = 1, .ref = 0, .label_scale = 100,
                         .smooth = q->smooth, .below_series = a->noverlay };
    for (int i = 0; i < LAYOUT_CHART_COUNT; i++) {
        charts[i].events = q->marks;
        charts[i].nevents = q->nmarks;
    }
    layout_rect slot[LAYOUT_CHART_COUNT];
    int nslot = layout_charts(r, slot);
    /* The charts not hidden, most telling first when fewer fit: accuracy,
     * then Δtransfer, then loss; shown in their usual order. */
    static const int rank[LAYOUT_CHART_COUNT] = { 1, 2, 0 };
    static const enum app_part part[LAYOUT_CHART_COUNT] = { APP_PART_LOSS, APP_PART_ACCURACY,
                                                            APP_PART_DELTA };
    int want[LAYOUT_CHART_COUNT] = { 0 }, n = 0;
    for (int k = 0; k < LAYOUT_CHART_COUNT && n < nslot; k++)
        if (!app_hidden(&p->ui->a, part[rank[k]])) {
            want[rank[k]] = 1;
            n++;
        }
    for (int c = 0, i = 0; c < LAYOUT_CHART_COUNT; c++)
        if (want[c]) {
            ui_chart(&q->cells[i], slot[i], &charts[c]);
            i++;
        }
}

static int plots_key(ui_panel *p, int key)
{
    plots *q = p->state;
    if (key != 'm')
        return UI_PASS;
    q->smooth = q->smooth > 0 ? 0.0 : CLI_DELTA_SMOOTH;
    return UI_HANDLED;
}

const ui_panel_ops ui_plots_panel = {
    .name = "plots",
    .place = UI_AT_VIEW,
    .size = sizeof(plots),
    .init = plots_init,
    .fini = plots_fini,
    .update = plots_update,
    .draw = plots_draw,
    .key = plots_key,
};
