/* panel_lrbar.c — beside each row of the layer tree, its learning rate as a
 * bar on a log scale from 1e-6 to 1: how the rates fall with depth. */
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
    for (int i = 0; i < u->nrow_lr; i++) {
        double lr = u->row_lr[i];
        if (isnan(lr) || lr <= 0)
            continue;
        double f = (log10(lr) + 6.0) / 6.0;
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        int n = (int)lround(f * r.w);
        attron(screen_color(SCREEN_S2));
        for (int k = 0; k < n; k++)
            mvaddstr(r.y + 1 + i, r.x + k, screen_glyph("▬", "="));
        attroff(screen_color(SCREEN_S2));
    }
}

const ui_panel_ops ui_lrbar_panel = {
    .name = "lrbar",
    .place = UI_AT_LRBAR,
    .draw = lrbar_draw,
};
