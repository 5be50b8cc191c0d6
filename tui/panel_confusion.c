/* panel_confusion.c — a view: the confusion matrix of the last evaluation,
 * rows the true class, with each class's accuracy at the right. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>

#include "panel.h"
#include "screen.h"

typedef struct confusion {
    int evals;                   /* evaluations since the model was loaded */
} confusion;

static void confusion_update(ui_panel *p, const ui_event *ev)
{
    confusion *c = p->state;
    if (ev->kind == UI_EV_MODEL)
        c->evals = 0;
    else if (ev->kind == UI_EV_SESSION && ev->sess->kind == SEV_EVAL)
        c->evals++;
}

static void confusion_draw(ui_panel *p, layout_rect r)
{
    const confusion *state = p->state;
    ui *u = p->ui;
    int k = u->a.task.nclass;
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, "confusion matrix of the last evaluation (rows: true class)");
    attroff(A_BOLD);
    if (!u->a.sess || state->evals == 0 || k < 1) {
        screen_put(r.y + 2, r.x, r.w, "no evaluation yet: train (t), or type :eval");
        return;
    }
    long *count = calloc((size_t)k * k, sizeof(long));
    if (!count)
        return;
    sess_confusion c = { .count = count };
    sess_confusion_get(u->a.sess, &c);
    char cell[64];
    for (int i = 0; i < k && i + 2 < r.h; i++) {
        long all = 0;
        snprintf(cell, sizeof cell, "%-12.12s", u->a.task.name[i]);
        screen_put(r.y + 2 + i, r.x, r.w, cell);
        for (int j = 0; j < k; j++) {
            long n = count[(size_t)i * k + j];
            all += n;
            if (13 + 6 * j + 6 > r.w - 8)
                continue;
            snprintf(cell, sizeof cell, "%5ld", n);
            if (i == j)
                attron(A_BOLD);
            screen_put(r.y + 2 + i, r.x + 13 + 6 * j, 6, cell);
            if (i == j)
                attroff(A_BOLD);
        }
        snprintf(cell, sizeof cell, "%5.1f%%", all ? 100.0 * count[(size_t)i * k + i] / all : 0.0);
        screen_put(r.y + 2 + i, r.x + r.w - 7, 7, cell);
    }
    free(count);
}

const ui_panel_ops ui_confusion_panel = {
    .name = "confusion",
    .place = UI_AT_VIEW,
    .size = sizeof(confusion),
    .update = confusion_update,
    .draw = confusion_draw,
};
