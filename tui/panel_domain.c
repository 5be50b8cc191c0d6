/* panel_domain.c — the domain-adaptation view: what the session adapts
 * with (the technique, the source's labelled images, the target's pool),
 * the domain gap at every evaluation (the proxy A-distance 2(1 − 2ε): 0 when
 * the features cannot tell source from target, 2 when they separate them),
 * the alignment term mmd and dann add to the loss, and the target's
 * validation accuracy — against an earlier run drawn with `overlay DIR`
 * (a source-only run: Δ adapted − source-only, drawn like Δtransfer). The
 * last reweighting and self-training reports (the weights' histogram, the
 * pseudo-labels' count and accuracy) are the bottom lines. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "panel.h"
#include "screen.h"

enum { POINTS = 4096, NOTES = 2 };

enum { D_X, D_GAP, D_ALIGN, D_VAL, D_PSEUDO, D_DELTA, D_COUNT };

typedef struct domain {
    double v[D_COUNT][POINTS];       /* by evaluation; D_DELTA is filled as it is drawn */
    int n;
    char note[NOTES][224];           /* the last reweighting and self-training reports */
    int nnote;
    chart_cells cells[LAYOUT_CHART_COUNT];
} domain;

static void domain_fini(ui_panel *p)
{
    domain *d = p->state;
    for (int i = 0; i < LAYOUT_CHART_COUNT; i++)
        chart_cells_free(&d->cells[i]);
}

static void push(domain *d, const double *row)
{
    if (d->n == POINTS) {            /* keep every other point */
        for (int k = 0; k < D_COUNT; k++)
            for (int i = 0; i < POINTS / 2; i++)
                d->v[k][i] = d->v[k][2 * i];
        d->n = POINTS / 2;
    }
    for (int k = 0; k < D_COUNT; k++)
        d->v[k][d->n] = row[k];
    d->n++;
}

static int adaptation_note(const char *text)
{
    return !strncmp(text, "reweight", 8) || !strncmp(text, "self-train", 10) || !strncmp(text, "oracle", 6);
}

static void domain_update(ui_panel *p, const ui_event *ev)
{
    domain *d = p->state;
    if (ev->kind == UI_EV_MODEL) {
        d->n = d->nnote = 0;
        return;
    }
    if (ev->kind != UI_EV_SESSION)
        return;
    const sess_event *e = ev->sess;
    if (e->kind == SEV_EVAL) {
        double row[D_COUNT] = { (double)e->eval.step / app_steps_per_epoch(&p->ui->a), e->eval.domain_gap,
                                e->eval.align_loss, e->eval.val_acc, e->eval.pseudo_acc, NAN };
        push(d, row);
    } else if ((e->kind == SEV_NOTE || e->kind == SEV_ERROR) && adaptation_note(e->text)) {
        if (d->nnote == NOTES) {
            memmove(d->note[0], d->note[1], sizeof d->note[0] * (NOTES - 1));
            d->nnote--;
        }
        snprintf(d->note[d->nnote++], sizeof d->note[0], "epoch %d: %s", e->epoch + 1, e->text);
    }
}

/* The overlay's accuracy at x: its last evaluation at or before x (NaN
 * before its first). */
static double overlay_at(const run_curve *o, double x)
{
    double v = NAN;
    for (int i = 0; i < o->n && o->x[i] <= x + 1e-9; i++)
        v = o->val_acc[i];
    return v;
}

static void domain_draw(ui_panel *p, layout_rect r)
{
    domain *d = p->state;
    const app *a = &p->ui->a;
    adapt_kind kind = a->set.sess.adapt.kind;
    char text[ADAPT_TEXT_MAX], line[256], data[128];
    adapt_format(&a->set.sess.adapt, text, sizeof text);
    snprintf(line, sizeof line, "domain adaptation: %s", text);
    if (adapt_uses_source(kind))
        snprintf(data, sizeof data, "source %d labelled images, target pool %d", a->domain_n,
                 a->task.split[TASK_POOL].n);
    else
        snprintf(data, sizeof data, "target pool %d unlabelled images", a->task.split[TASK_POOL].n);
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, line);
    attroff(A_BOLD);
    if (r.h > 1)
        screen_put(r.y + 1, r.x, r.w, data);
    int rows = r.h - 2, notes = d->nnote < rows - LAYOUT_CHART_MIN_H ? d->nnote : 0;
    if (kind == ADAPT_NONE && d->n == 0 && rows > 0) {
        static const char *const hint[] = {
            "before training: set adapt source-only, reweight, mmd,", "dann, self-train or oracle;",
            "set source SPEC names the source's labelled images.",
            "The domain gap shows when the source's images are at hand.",
        };
        for (int i = 0; i < 4 && i < rows; i++)
            screen_put(r.y + 2 + i, r.x, r.w, hint[i]);
        return;
    }
    for (int i = 0; i < notes; i++)
        screen_put(r.y + r.h - notes + i, r.x, r.w, d->note[i]);
    layout_rect area = { r.x, r.y + 2, r.w, rows - notes };
    const double *x = d->v[D_X];
    enum { GAP = CHART_COLOR_SERIES, ALIGN, VAL, PSEUDO };
    chart_series gap[] = { { "gap", x, d->v[D_GAP], d->n, GAP } };
    const char *align_name = kind == ADAPT_MMD ? "MMD²" : "domain classifier's loss";
    chart_series align[] = { { align_name, x, d->v[D_ALIGN], d->n, ALIGN } };
    chart_series acc[APP_OVERLAYS + 2];
    int nacc = 0;
    for (int i = 0; i < a->noverlay; i++)
        acc[nacc++] = (chart_series){ i ? NULL : a->overlay[0].name, a->overlay[i].x, a->overlay[i].val_acc,
                                      a->overlay[i].n, CHART_COLOR_REF };
    acc[nacc++] = (chart_series){ "target val", x, d->v[D_VAL], d->n, VAL };
    if (kind == ADAPT_SELF_TRAIN || kind == ADAPT_ORACLE)
        acc[nacc++] = (chart_series){ "pseudo-labels right", x, d->v[D_PSEUDO], d->n, PSEUDO };
    for (int i = 0; i < d->n; i++)
        d->v[D_DELTA][i] = a->noverlay ? d->v[D_VAL][i] - overlay_at(&a->overlay[0], x[i]) : NAN;
    char delta_title[96];
    snprintf(delta_title, sizeof delta_title, "%s against %s (points)", screen_glyph("Δ", "delta"),
             a->noverlay ? a->overlay[0].name : "an overlaid run");
    chart_series delta[] = { { "val", x, d->v[D_DELTA], d->n, VAL } };
    chart charts[LAYOUT_CHART_COUNT];
    int nchart = 0;
    charts[nchart++] = (chart){ .title = "domain gap (0 alike, 2 apart)",
                                .series = gap, .nseries = 1, .fixed_y = 1, .ymin = 0, .ymax = 2 };
    if (adapt_aligns(kind))
        charts[nchart++] = (chart){ .title = kind == ADAPT_MMD ? "alignment term"
                                                               : "domain classifier (0.69: can't tell)",
                                    .series = align, .nseries = 1 };
    if (a->noverlay && nchart < LAYOUT_CHART_COUNT)
        charts[nchart++] = (chart){ .title = delta_title, .series = delta, .nseries = 1, .has_ref = 1,
                                    .ref = 0, .label_scale = 100 };
    if (nchart < LAYOUT_CHART_COUNT)
        charts[nchart++] = (chart){ .title = "target val accuracy", .series = acc, .nseries = nacc,
                                    .fixed_y = 1, .ymin = 0, .ymax = 1, .label_scale = 100,
                                    .label_suffix = "%" };
    layout_rect slot[LAYOUT_CHART_COUNT];
    int k = layout_charts(area, slot);    /* how many fit; they share the area evenly */
    k = k < nchart ? k : nchart;
    for (int i = 0, y = area.y; i < k; i++) {
        int h = (area.y + area.h - y) / (k - i);
        ui_chart(&d->cells[i], (layout_rect){ area.x, y, area.w, h }, &charts[i]);
        y += h;
    }
}

const ui_panel_ops ui_domain_panel = {
    .name = "domain",
    .place = UI_AT_VIEW,
    .size = sizeof(domain),
    .fini = domain_fini,
    .update = domain_update,
    .draw = domain_draw,
};
