/* panel_heatmap.c — a view: each layer's gradient norm over the whole run,
 * sampled twice a second while training runs, shaded against the largest
 * seen, with an x axis in epochs and the scale of the shades. The run is
 * kept whole: when the columns fill up, neighbours merge (the larger norm
 * stays, so a spike never vanishes) and each column covers twice the time. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "screen.h"
#include "svg.h"

enum { HEAT_COLS = 256, HEAT_LABEL = 16 };
_Static_assert(HEAT_COLS % 2 == 0, "columns merge in pairs");

typedef struct heatmap {
    float heat[HEAT_COLS * UI_LAYERS];   /* (HEAT_COLS, UI_LAYERS): heat[col * UI_LAYERS + layer] */
    double x[HEAT_COLS];                 /* the epoch (fractional) of each column's first sample */
    int n;                               /* columns filled */
    int span, filled;                    /* samples per column; samples in the last one */
    double epoch;                        /* where training is, from its steps */
} heatmap;

/* Halves the columns, all full (HEAT_COLS is even): each pair becomes one
 * holding the larger norms, covering twice the samples. */
static void merge_pairs(heatmap *h)
{
    int half = h->n / 2;
    for (int c = 0; c < half; c++) {
        float *to = h->heat + (size_t)c * UI_LAYERS;
        const float *a = h->heat + (size_t)(2 * c) * UI_LAYERS, *b = a + UI_LAYERS;
        for (int i = 0; i < UI_LAYERS; i++)
            to[i] = a[i] > b[i] ? a[i] : b[i];
        h->x[c] = h->x[2 * c];
    }
    h->n = half;
    h->span *= 2;
    h->filled = h->span;
}

static void heatmap_update(ui_panel *p, const ui_event *ev)
{
    heatmap *h = p->state;
    const ui *u = p->ui;
    if (ev->kind == UI_EV_MODEL) {
        h->n = h->filled = 0;
        h->span = 1;
        h->epoch = 0;
        return;
    }
    if (ev->kind == UI_EV_SESSION && ev->sess->kind == SEV_STEP) {
        const app *a = &u->a;
        h->epoch = (double)ev->sess->step / app_steps_per_epoch(a);
        return;
    }
    if (ev->kind != UI_EV_SAMPLE)
        return;
    if (h->span < 1)
        h->span = 1;
    if (h->n == 0 || h->filled >= h->span) {
        if (h->n == HEAT_COLS)
            merge_pairs(h);
        if (h->n == 0 || h->filled >= h->span) {
            memset(h->heat + (size_t)h->n * UI_LAYERS, 0, UI_LAYERS * sizeof(float));
            h->x[h->n++] = h->epoch;
            h->filled = 0;
        }
    }
    float *col = h->heat + (size_t)(h->n - 1) * UI_LAYERS;
    for (int i = 0; i < u->nlayers && i < UI_LAYERS; i++) {
        float g = (float)u->layers[i].grad_norm;
        col[i] = g > col[i] ? g : col[i];
    }
    h->filled++;
}

static int shade_of(double v)
{
    return v <= 0 ? 0 : v < 0.05 ? 1 : v < 0.2 ? 2 : v < 0.5 ? 3 : 4;
}

static void heatmap_draw(ui_panel *p, layout_rect r)
{
    static const char *const shade_utf8[] = { " ", "░", "▒", "▓", "█" };
    static const char *const shade_ascii[] = { " ", ".", ":", "*", "#" };
    const heatmap *h = p->state;
    const ui *u = p->ui;
    attron(A_BOLD);
    screen_put(r.y, r.x, r.w, "gradient norm by layer over the run (frozen layers stay blank)");
    attroff(A_BOLD);
    int cols = r.w - HEAT_LABEL - 1, x0 = r.x + HEAT_LABEL + 1;
    int rows = r.h - 4;                  /* the title, the axis, its labels and the scale */
    if (cols < 1 || rows < 1)
        return;
    if (h->n == 0) {
        screen_put(r.y + 2, r.x, r.w, "no gradients yet: train (t) and they fill in, twice a second");
        return;
    }
    double top = 0;
    for (int c = 0; c < h->n; c++)
        for (int i = 0; i < u->nlayers && i < UI_LAYERS; i++)
            top = fmax(top, h->heat[(size_t)c * UI_LAYERS + i]);
    /* Screen column k shows the stored columns [k·n/shown, (k+1)·n/shown). */
    int shown = h->n < cols ? h->n : cols;
    int nl = u->nlayers < rows ? u->nlayers : rows;
    for (int i = 0; i < nl; i++) {
        screen_put(r.y + 1 + i, r.x, HEAT_LABEL, u->layers[i].l->path);
        for (int k = 0; k < shown; k++) {
            double v = 0;
            for (int c = k * h->n / shown; c < (k + 1) * h->n / shown; c++)
                v = fmax(v, h->heat[(size_t)c * UI_LAYERS + i]);
            int s = shade_of(top > 0 ? v / top : 0);
            mvaddstr(r.y + 1 + i, x0 + k, screen_glyph(shade_utf8[s], shade_ascii[s]));
        }
    }
    /* The x axis: a tick under the first column of each whole epoch. */
    int axis = r.y + 1 + nl;
    screen_put(axis, r.x, HEAT_LABEL, "epoch");
    int end = -1;
    for (int k = 0; k < shown; k++) {
        double here = h->x[k * h->n / shown];
        double before = k ? h->x[(k - 1) * h->n / shown] : -1;
        mvaddstr(axis, x0 + k, screen_glyph("─", "-"));
        if (k > 0 && floor(here) == floor(before))
            continue;
        char label[16];
        snprintf(label, sizeof label, "%d", (int)floor(here));
        mvaddstr(axis, x0 + k, screen_glyph("┬", "+"));
        if (x0 + k > end && x0 + k + (int)strlen(label) <= r.x + r.w) {
            screen_put(axis + 1, x0 + k, (int)strlen(label), label);
            end = x0 + k + (int)strlen(label);
        }
    }
    char scale[160], big[32];
    plot_snprintf(big, sizeof big, "%.2g", top);
    snprintf(scale, sizeof scale, "%s<5%% %s<20%% %s<50%% %s of the largest, %s", screen_glyph("░", "."),
             screen_glyph("▒", ":"), screen_glyph("▓", "*"), screen_glyph("█", "#"), big);
    screen_put(axis + 2, r.x, r.w, scale);
}

const ui_panel_ops ui_heatmap_panel = {
    .name = "heatmap",
    .place = UI_AT_VIEW,
    .size = sizeof(heatmap),
    .update = heatmap_update,
    .draw = heatmap_draw,
};
