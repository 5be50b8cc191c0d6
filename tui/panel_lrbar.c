/* panel_lrbar.c — beside each row of the layer tree, its learning rate as a
 * bar on a log scale: how the rates fall with depth. The scale runs from
 * the highest rate shown (a full bar) down two decades below it, or to the
 * lowest rate shown when that is further, and bars end in eighths of a
 * cell under UTF-8, so a layer decay of 0.5 per group is a visible slope. */
#include <curses.h>
#include <math.h>

#include "panel.h"
#include "screen.h"

static void lrbar_draw(ui_panel *p, layout_rect r)
{
    const ui *u = p->ui;
    if (r.w <= 0 || app_hidden(&u->a, APP_PART_LRBAR))
        return;
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, "lr/depth");
    attroff(A_BOLD);
    if (r.w < 2)
        return;
    double hi = 0, lo = INFINITY;
    for (int i = 0; i < u->nrow_lr; i++) {
        double lr = u->row_lr[i];
        if (!isnan(lr) && lr > 0) {
            hi = lr > hi ? lr : hi;
            lo = lr < lo ? lr : lo;
        }
    }
    if (hi <= 0)
        return;
    lo = lo < hi / 100 ? lo : hi / 100;
    double span = log10(hi) - log10(lo);
    static const char *const eighth[8] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
    int steps = screen_utf8() ? 8 : 1;
    attron(screen_color(SCREEN_S2));
    for (int i = 0; i < u->nrow_lr; i++) {
        double lr = u->row_lr[i];
        if (isnan(lr) || lr <= 0)
            continue;
        double f = (log10(lr) - log10(lo)) / span;
        int n = (int)lround((f < 0 ? 0 : f > 1 ? 1 : f) * (r.w - 1) * steps);   /* a blank column before the plots */
        n = n < 1 ? 1 : n;
        for (int k = 0; k < n / steps; k++)
            mvaddstr(r.y + 1 + i, r.x + k, screen_glyph("█", "="));
        if (n % steps)
            mvaddstr(r.y + 1 + i, r.x + n / steps, eighth[n % steps]);
    }
    attroff(screen_color(SCREEN_S2));
}

const ui_panel_ops ui_lrbar_panel = {
    .name = "lrbar",
    .place = UI_AT_LRBAR,
    .draw = lrbar_draw,
};
