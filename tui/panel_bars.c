/* panel_bars.c — the one-line bars: the title (model, its source, the
 * target), the status line (progress, accuracy, Δtransfer, the run folder)
 * and the key hints. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "panel.h"
#include "runlog.h"
#include "screen.h"

/* ---- the title ------------------------------------------------------------------ */

static void title_draw(ui_panel *p, layout_rect r)
{
    const app *a = &p->ui->a;
    char title[1024], source[160] = "";
    const mf_provenance *prov = &a->source_meta.prov;
    const char *base = strrchr(a->model_path, '/');
    base = base ? base + 1 : a->model_path;
    if (prov->dataset[0] && prov->test_accuracy >= 0)
        snprintf(source, sizeof source, " (source: %.60s, %.1f%%)", prov->dataset, 100 * prov->test_accuracy);
    else if (prov->dataset[0])
        snprintf(source, sizeof source, " (source: %.60s)", prov->dataset);
    snprintf(title, sizeof title, " thaw %s %.200s%s %s target: %.400s ", screen_glyph("·", "-"), base,
             source, screen_glyph("·", "-"), a->data_spec);
    attron(A_REVERSE | screen_color(SCREEN_TITLE));
    screen_fill(r.y, r.x, r.w);
    screen_put(r.y, r.x, r.w, title);
    attroff(A_REVERSE | screen_color(SCREEN_TITLE));
}

const ui_panel_ops ui_title_panel = {
    .name = "title",
    .place = UI_AT_TITLE,
    .draw = title_draw,
};

/* ---- the status line ------------------------------------------------------------ */

typedef struct status {
    long step;
    int epoch;
    double loss, img_s;
} status;

static void status_update(ui_panel *p, const ui_event *ev)
{
    status *s = p->state;
    if (ev->kind == UI_EV_MODEL) {
        s->epoch = 0;
        s->step = 0;
        return;
    }
    if (ev->kind != UI_EV_SESSION)
        return;
    const sess_event *e = ev->sess;
    s->epoch = e->epoch;
    s->step = e->step;
    if (e->kind == SEV_STEP)
        s->loss = e->value;
    else if (e->kind == SEV_EVAL && !isnan(e->eval.img_s))
        s->img_s = e->eval.img_s;
}

static void bar_text(layout_rect r, const char *text)
{
    attron(A_REVERSE);
    screen_fill(r.y, r.x, r.w);
    screen_put(r.y, r.x, r.w, text);
    attroff(A_REVERSE);
}

static void status_draw(ui_panel *p, layout_rect r)
{
    const status *s = p->state;
    app *a = &p->ui->a;
    const char *dot = screen_glyph("·", "-");
    char text[512], bar[128] = "";
    if (!a->sess) {
        snprintf(text, sizeof text, " ready %s %zu of %zu parameters train %s strategy: %s %s t trains "
                 "%d epochs", dot, app_count(a, 1), app_count(a, 0), dot,
                 a->strategy_text[0] ? a->strategy_text : "as loaded", dot, a->set.epochs);
        bar_text(r, text);
        return;
    }
    int target = a->target_epoch, running = sess_state_now(a->sess) != SESS_IDLE;
    int per = (a->task.split[TASK_TRAIN].n + a->set.sess.batch - 1) / a->set.sess.batch;
    double done = target > 0 ? (s->epoch + (per > 0 ? (double)(s->step % per) / per : 0)) / target : 0;
    if (done > 1)
        done = 1;
    int cells = 12, full = (int)(done * cells);
    size_t n = 0;
    for (int i = 0; i < cells && n + 4 < sizeof bar; i++)
        n += (size_t)snprintf(bar + n, sizeof bar - n, "%s", i < full ? screen_glyph("█", "#") : " ");
    if (a->testing_total > 0) {
        /* the final pass over the test images, both models */
        char done_text[32], total_text[32];
        double part = (double)a->testing_done / a->testing_total;
        int tfull = (int)(part * cells);
        n = 0;
        for (int i = 0; i < cells && n + 4 < sizeof bar; i++)
            n += (size_t)snprintf(bar + n, sizeof bar - n, "%s", i < tfull ? screen_glyph("█", "#") : " ");
        snprintf(text, sizeof text, " testing %s/%s %s%s%s  the final pass over the test images, "
                 "both models  %s", cli_grouped(done_text, sizeof done_text, (unsigned)a->testing_done),
                 cli_grouped(total_text, sizeof total_text, (unsigned)a->testing_total),
                 screen_glyph("▕", "["), bar, screen_glyph("▏", "]"), a->run ? runlog_dir(a->run) : "");
        bar_text(r, text);
        return;
    }
    const sess_eval *e = &a->last;
    char acc[160] = "";
    if (!isnan(e->val_acc))
        snprintf(acc, sizeof acc, "  val %.1f%%", 100 * e->val_acc);
    if (!isnan(e->scratch_val_acc)) {
        size_t k = strlen(acc);
        snprintf(acc + k, sizeof acc - k, "  scratch %.1f%%  %s %+.1f", 100 * e->scratch_val_acc,
                 screen_glyph("Δ", "delta"), 100 * e->delta);
    }
    snprintf(text, sizeof text, " %s %d/%d %s%s%s%s  loss %.3f  %.0f img/s  %s  %s",
             running ? (sess_state_now(a->sess) == SESS_PAUSED ? "paused" : "epoch") : "epoch",
             s->epoch, target, screen_glyph("▕", "["), bar, screen_glyph("▏", "]"), acc, s->loss,
             s->img_s,
             a->strategy_text[0] ? a->strategy_text : "plan", a->run ? runlog_dir(a->run) : "");
    bar_text(r, text);
    double smoothed = cli_delta_smoothed(a);
    if (!isnan(smoothed) && smoothed < 0) {
        attron(screen_color(SCREEN_WARN) | A_BOLD);
        screen_put(r.y, r.x + r.w - 18 > 0 ? r.x + r.w - 18 : r.x, 18, " negative transfer");
        attroff(screen_color(SCREEN_WARN) | A_BOLD);
    }
}

const ui_panel_ops ui_status_panel = {
    .name = "status",
    .place = UI_AT_STATUS,
    .size = sizeof(status),
    .update = status_update,
    .draw = status_draw,
};

/* ---- the key hints -------------------------------------------------------------- */

static void footer_draw(ui_panel *p, layout_rect r)
{
    (void)p;
    char hints[256];
    snprintf(hints, sizeof hints,
             " F1 help  %s freeze  [ ] lr  t train  p pause  s save  v view  : command  q quit",
             screen_glyph("␣", "space"));
    attron(screen_color(SCREEN_DIM));
    screen_put(r.y, r.x, r.w, hints);
    attroff(screen_color(SCREEN_DIM));
}

const ui_panel_ops ui_footer_panel = {
    .name = "footer",
    .place = UI_AT_FOOTER,
    .draw = footer_draw,
};
