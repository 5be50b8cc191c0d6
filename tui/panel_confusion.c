/* panel_confusion.c — a view: the confusion matrix of the last evaluation
 * on the split it was measured on, rows the true class, columns the
 * predicted one (headed by the classes' numbers, each row naming its
 * number), with each class's accuracy at the right. */
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
    if (!u->a.sess || state->evals == 0 || k < 1) {
        attron(A_BOLD);
        screen_put(r.y, r.x, r.w, "confusion matrix of the last evaluation");
        attroff(A_BOLD);
        screen_put(r.y + 2, r.x, r.w, "no evaluation yet: train (t), or type :eval");
        return;
    }
    long *count = calloc((size_t)k * k, sizeof(long));
    if (!count)
        return;
    sess_confusion c = { .count = count };
    sess_confusion_get(u->a.sess, &c);
    char cell[96];
    snprintf(cell, sizeof cell, "confusion matrix on %s (rows: true class, columns: predicted)",
             c.split == SESS_TEST_SPLIT ? "the test split" : "the validation split");
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, cell);
    screen_put(r.y + 1, r.x, 16, "true \\ predicted");
    int shown = 0;
    for (int j = 0; j < k && 17 + 6 * j + 6 <= r.w - 8; j++, shown++) {
        snprintf(cell, sizeof cell, "%5d", j);
        screen_put(r.y + 1, r.x + 17 + 6 * j, 6, cell);
    }
    screen_put(r.y + 1, r.x + r.w - 7, 7, "    acc");
    attroff(A_BOLD);
    for (int i = 0; i < k && i + 2 < r.h; i++) {
        long all = 0;
        snprintf(cell, sizeof cell, "%3d %-12.12s", i, u->a.task.name[i]);
        screen_put(r.y + 2 + i, r.x, r.w, cell);
        for (int j = 0; j < k; j++) {
            long n = count[(size_t)i * k + j];
            all += n;
            if (j >= shown)
                continue;
            snprintf(cell, sizeof cell, "%5ld", n);
            if (i == j)
                attron(A_BOLD);
            screen_put(r.y + 2 + i, r.x + 17 + 6 * j, 6, cell);
            if (i == j)
                attroff(A_BOLD);
        }
        snprintf(cell, sizeof cell, "%5.1f%%", all ? 100.0 * count[(size_t)i * k + i] / all : 0.0);
        screen_put(r.y + 2 + i, r.x + r.w - 7, 7, cell);
    }
    if (shown < k && k + 2 < r.h) {
        snprintf(cell, sizeof cell, "columns %d-%d do not fit (widen the terminal, or :show confusion)",
                 shown, k - 1);
        screen_put(r.y + 2 + k, r.x, r.w, cell);
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
