/* panel_heatmap.c — a view: each layer's gradient norm over time, sampled
 * twice a second while training runs, shaded against the largest seen. */
#include <curses.h>
#include <string.h>

#include "panel.h"
#include "screen.h"

enum { HEAT_COLS = 256 };

typedef struct heatmap {
    float heat[HEAT_COLS * UI_LAYERS];   /* (HEAT_COLS, UI_LAYERS): heat[col * UI_LAYERS + layer] */
    int n;                               /* columns sampled */
} heatmap;

static void heatmap_update(ui_panel *p, const ui_event *ev)
{
    heatmap *h = p->state;
    const ui *u = p->ui;
    if (ev->kind == UI_EV_MODEL) {
        h->n = 0;
        return;
    }
    if (ev->kind != UI_EV_SAMPLE)
        return;
    if (h->n == HEAT_COLS) {
        memmove(h->heat, h->heat + UI_LAYERS, (size_t)(HEAT_COLS - 1) * UI_LAYERS * sizeof(float));
        h->n--;
    }
    for (int i = 0; i < u->nlayers; i++)
        h->heat[(size_t)h->n * UI_LAYERS + i] = (float)u->layers[i].grad_norm;
    h->n++;
}

static void heatmap_draw(ui_panel *p, layout_rect r)
{
    static const char *const shade_utf8[] = { " ", "░", "▒", "▓", "█" };
    static const char *const shade_ascii[] = { " ", ".", ":", "*", "#" };
    const heatmap *h = p->state;
    const ui *u = p->ui;
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, "gradient norm by layer over time (frozen layers stay blank)");
    attroff(A_BOLD);
    double top = 0;
    for (int c = 0; c < h->n; c++)
        for (int i = 0; i < u->nlayers; i++)
            if (h->heat[(size_t)c * UI_LAYERS + i] > top)
                top = h->heat[(size_t)c * UI_LAYERS + i];
    int label = 16, cols = r.w - label - 1;
    for (int i = 0; i < u->nlayers && i < r.h - 1; i++) {
        screen_put(r.y + 1 + i, r.x, label, u->layers[i].l->path);
        for (int c = 0; c < cols; c++) {
            int src = h->n - cols + c;
            double v = src >= 0 && top > 0 ? h->heat[(size_t)src * UI_LAYERS + i] / top : 0;
            int k = v <= 0 ? 0 : v < 0.05 ? 1 : v < 0.2 ? 2 : v < 0.5 ? 3 : 4;
            mvaddstr(r.y + 1 + i, r.x + label + 1 + c, screen_glyph(shade_utf8[k], shade_ascii[k]));
        }
    }
}

const ui_panel_ops ui_heatmap_panel = {
    .name = "heatmap",
    .place = UI_AT_VIEW,
    .size = sizeof(heatmap),
    .update = heatmap_update,
    .draw = heatmap_draw,
};
