/* chart.c — braille line charts rendered to cells; see chart.h.
 *
 * A render is: clear the cells; find the ranges (a scale pass over every
 * point); lay out the title, label column, axis and plot; set dots (events,
 * the reference line, then the series); turn each plot cell's dots into a
 * character; write the texts that sit on top ("no data", the ▼ marker).
 * Dot coordinates: dx in 0 .. W-1 left to right, dy in 0 .. H-1 top to
 * bottom, W = 2 × plot width, H = 4 × plot height.
 */
#include "chart.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "svg.h"
#include "utf8.h"

enum {
    TICKS_CAP = 16,
    LABEL_CAP = 40,
    Y_PAD_PERCENT = 5,
};

/* The bit of dot (column, row) of a cell, by Unicode's dot numbering. */
static const unsigned char chart_dot_bit[4][2] = {
    { 0x01, 0x08 },
    { 0x02, 0x10 },
    { 0x04, 0x20 },
    { 0x40, 0x80 },
};

/* The axis glyphs, UTF-8 and ASCII. */
typedef struct chart_glyphs {
    const char *vert, *ytick, *horiz, *xtick, *corner, *below;
} chart_glyphs;

static const chart_glyphs chart_utf8_glyphs = {
    .vert = "│", .ytick = "┤", .horiz = "─", .xtick = "┬", .corner = "└", .below = "▼",
};
static const chart_glyphs chart_ascii_glyphs = {
    .vert = "|", .ytick = "+", .horiz = "-", .xtick = "+", .corner = "+", .below = "v",
};

/* The ranges and the plot area of one render. */
typedef struct chart_plot {
    chart_cells *c;
    int px, py, pw, ph;          /* plot area in cells */
    int W, H;                    /* plot area in dots */
    double x0, x1, y0, y1;
    double kx, ky;               /* dots per unit of x and of y */
} chart_plot;

/* ---- cells ---- */

int chart_cells_init(chart_cells *c, int w, int h)
{
    *c = (chart_cells){ 0 };
    if (w < 0 || h < 0 || w > CHART_MAX_SIDE || h > CHART_MAX_SIDE)
        return THAW_EINVAL;
    size_t n = (size_t)w * (size_t)h;
    if (n == 0) {
        c->w = w;
        c->h = h;
        return THAW_OK;
    }
    c->text = malloc(n * sizeof *c->text);
    c->color = calloc(n, 1);
    c->dots = calloc(n, 1);
    if (!c->text || !c->color || !c->dots) {
        chart_cells_free(c);
        return THAW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        strcpy(c->text[i], " ");
    c->w = w;
    c->h = h;
    return THAW_OK;
}

void chart_cells_free(chart_cells *c)
{
    free(c->text);
    free(c->color);
    free(c->dots);
    *c = (chart_cells){ 0 };
}

size_t chart_row(const chart_cells *c, int row, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return 0;
    if (row >= 0 && row < c->h) {
        for (int col = 0; col < c->w; col++) {
            const char *t = c->text[(size_t)row * c->w + col];
            size_t n = strlen(t);
            if (len + n >= cap)
                break;
            memcpy(buf + len, t, n);
            len += n;
        }
    }
    buf[len] = '\0';
    return len;
}

static void chart_set_text(chart_cells *c, int col, int row, const char *s, size_t n, int color)
{
    char *t = c->text[(size_t)row * c->w + col];
    memcpy(t, s, n);
    t[n] = '\0';
    c->color[(size_t)row * c->w + col] = (unsigned char)color;
}

/* The number of characters in s (invalid bytes count one each). */
static int chart_text_width(const char *s)
{
    int chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; chars++) {
        int n = (int)utf8_len(p, SIZE_MAX);
        p += n ? n : 1;
    }
    return chars;
}

/* Writes s one character per cell from (col, row) up to column end
 * (excluded); control bytes and invalid UTF-8 become '?', and so does any
 * non-ASCII character when utf8 is 0. Returns the column after the last. */
static int chart_put(chart_cells *c, int col, int row, int end, const char *s, int color, int utf8)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p && col < end; col++) {
        int n = (int)utf8_len(p, SIZE_MAX);
        if (n == 0 || *p < 0x20 || *p == 0x7F || (!utf8 && *p >= 0x80))
            chart_set_text(c, col, row, "?", 1, color);
        else
            chart_set_text(c, col, row, (const char *)p, (size_t)n, color);
        p += n ? n : 1;
    }
    return col;
}

/* ---- points as drawn ---- */

/* Walks a series' points as drawn: smoothed when asked, NaN where the line
 * breaks. */
typedef struct chart_walk {
    const chart_series *s;
    double keep;                 /* EMA weight of the past; 0: no smoothing */
    double ema;
    int have, i;
} chart_walk;

static chart_walk chart_walk_start(const chart_series *s, double smooth)
{
    return (chart_walk){ .s = s, .keep = smooth > 0 && smooth < 1 ? smooth : 0 };
}

static int chart_walk_next(chart_walk *w, double *x, double *y)
{
    const chart_series *s = w->s;
    if (!s->x || !s->y || w->i >= s->n)
        return 0;
    *x = s->x[w->i];
    double v = s->y[w->i++];
    if (!isfinite(v) || !isfinite(*x)) {
        *y = NAN;
        return 1;
    }
    w->ema = w->have ? w->keep * w->ema + (1 - w->keep) * v : v;
    w->have = 1;
    *y = w->ema;
    return 1;
}

/* ---- dots ---- */

static void chart_scales(chart_plot *p)
{
    p->kx = (p->W - 1) / (p->x1 - p->x0);
    p->ky = (p->H - 1) / (p->y1 - p->y0);
}

static int chart_dot_x(const chart_plot *p, double x)
{
    double f = (x - p->x0) * p->kx;
    f = f >= -2 ? f : -2;        /* NaN too, from ranges too wide for a double */
    f = f <= p->W + 1 ? f : p->W + 1;
    return (int)(f + 2.5) - 2;   /* nearest; f + 2.5 > 0, so truncation is floor */
}

static int chart_dot_y(const chart_plot *p, double y)
{
    double f = (p->y1 - y) * p->ky;
    f = f >= -2 ? f : -2;
    f = f <= p->H + 1 ? f : p->H + 1;
    return (int)(f + 2.5) - 2;
}

static void chart_dot(chart_plot *p, int dx, int dy, int color)
{
    if (dx < 0 || dy < 0 || dx >= p->W || dy >= p->H)
        return;
    size_t i = (size_t)(p->py + dy / 4) * p->c->w + p->px + dx / 2;
    p->c->dots[i] |= chart_dot_bit[dy % 4][dx % 2];
    p->c->color[i] = (unsigned char)color;
}

/* Bresenham from (ax, ay) to (bx, by), both ends included. */
static void chart_line(chart_plot *p, int ax, int ay, int bx, int by, int color)
{
    int dx = abs(bx - ax), sx = ax < bx ? 1 : -1;
    int dy = -abs(by - ay), sy = ay < by ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        chart_dot(p, ax, ay, color);
        if (ax == bx && ay == by)
            return;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            ax += sx;
        }
        if (e2 <= dx) {
            e += dx;
            ay += sy;
        }
    }
}

/* Dots from dy = top to bot in column dx. */
static void chart_span(chart_plot *p, int dx, int top, int bot, int color)
{
    for (int dy = top; dy <= bot; dy++)
        chart_dot(p, dx, dy, color);
}

/* A series as lines between its points. Points that share a dot column
 * (more points than columns: every long run) are drawn as that column's
 * span from their lowest to highest dot, which is exactly what the lines
 * between them would set, at a cost per column instead of per point. */
static void chart_draw_series(chart_plot *p, const chart_series *s, double smooth)
{
    chart_walk w = chart_walk_start(s, smooth);
    double x, y;
    int have = 0, col = 0, top = 0, bot = 0, last = 0;
    while (chart_walk_next(&w, &x, &y)) {
        if (isnan(y)) {
            if (have)
                chart_span(p, col, top, bot, s->color);
            have = 0;
            continue;
        }
        int dx = chart_dot_x(p, x), dy = chart_dot_y(p, y);
        if (have && dx == col) {
            top = dy < top ? dy : top;
            bot = dy > bot ? dy : bot;
            last = dy;
            continue;
        }
        if (have) {
            chart_span(p, col, top, bot, s->color);
            chart_line(p, col, last, dx, dy, s->color);
        }
        have = 1;
        col = dx;
        top = bot = last = dy;
    }
    if (have)
        chart_span(p, col, top, bot, s->color);
}

/* One cell's dots as a character. */
static void chart_glyph(char out[CHART_CELL_BYTES], unsigned m, int utf8)
{
    if (m == 0) {
        strcpy(out, " ");
    } else if (utf8) {
        unsigned cp = 0x2800 + m;
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        out[3] = '\0';
    } else {
        int rows[4], used = 0;
        for (int r = 0; r < 4; r++) {
            rows[r] = (m & (chart_dot_bit[r][0] | chart_dot_bit[r][1])) != 0;
            used += rows[r];
        }
        int top = rows[0] || rows[1], bottom = rows[2] || rows[3];
        out[0] = !bottom ? '\'' : !top ? '.' : used >= 3 ? '|' : ':';
        out[1] = '\0';
    }
}

/* ---- ranges and labels ---- */

typedef struct chart_scan {
    double x0, x1, y0, y1;
    int points;
    double last0;                /* series below_series's last drawn value, NaN if none */
} chart_scan;

static chart_scan chart_scan_points(const chart *ch)
{
    chart_scan s = { INFINITY, -INFINITY, INFINITY, -INFINITY, 0, NAN };
    for (int k = 0; k < ch->nseries; k++) {
        chart_walk w = chart_walk_start(&ch->series[k], ch->smooth);
        double x, y;
        while (chart_walk_next(&w, &x, &y)) {
            if (isnan(y))
                continue;
            s.x0 = x < s.x0 ? x : s.x0;
            s.x1 = x > s.x1 ? x : s.x1;
            s.y0 = y < s.y0 ? y : s.y0;
            s.y1 = y > s.y1 ? y : s.y1;
            s.points++;
            if (k == ch->below_series)
                s.last0 = y;
        }
    }
    return s;
}

/* Fills the plot's ranges from the scan, the events, ref and fixed_y. */
static void chart_ranges(chart_plot *p, const chart *ch, const chart_scan *s)
{
    double x0 = s->x0, x1 = s->x1, y0 = s->y0, y1 = s->y1;
    for (int i = 0; i < ch->nevents && ch->events; i++)
        if (isfinite(ch->events[i])) {
            x0 = fmin(x0, ch->events[i]);
            x1 = fmax(x1, ch->events[i]);
        }
    if (!(x0 <= x1)) {
        x0 = 0;
        x1 = 1;
    } else if (x0 == x1) {
        x1 = x0 + 1;
    }
    if (ch->fixed_y && isfinite(ch->ymin) && isfinite(ch->ymax) && ch->ymin < ch->ymax) {
        y0 = ch->ymin;
        y1 = ch->ymax;
    } else {
        if (ch->has_ref && isfinite(ch->ref)) {
            y0 = fmin(y0, ch->ref);
            y1 = fmax(y1, ch->ref);
        }
        if (!(y0 <= y1)) {
            y0 = NAN;
            y1 = NAN;
        }
        plot_autoscale(&y0, &y1, Y_PAD_PERCENT / 100.0);
    }
    p->x0 = x0;
    p->x1 = x1;
    p->y0 = y0;
    p->y1 = y1;
}

/* The y ticks for ph plot rows: values in data units and their labels. */
typedef struct chart_yticks {
    int n;
    double v[TICKS_CAP];
    char label[TICKS_CAP][LABEL_CAP];
    int width;                   /* of the widest label */
} chart_yticks;

static void chart_y_ticks(chart_yticks *t, const chart *ch, const chart_plot *p, int ph)
{
    double scale = ch->label_scale != 0 && isfinite(ch->label_scale) ? ch->label_scale : 1;
    const char *suffix = ch->label_suffix ? ch->label_suffix : "";
    double step, v[TICKS_CAP];
    t->n = plot_ticks(p->y0 * scale, p->y1 * scale, ph / 2 + 1, v, TICKS_CAP, &step);
    t->width = 0;
    for (int i = 0; i < t->n; i++) {
        t->v[i] = v[i] / scale;
        char num[LABEL_CAP];
        plot_tick_label(num, sizeof num, v[i], step);
        plot_snprintf(t->label[i], LABEL_CAP, "%s%s", num, suffix);
        int wd = chart_text_width(t->label[i]);
        t->width = wd > t->width ? wd : t->width;
    }
}

/* ---- the parts of a chart ---- */

static void chart_title(chart_cells *c, const chart *ch, int utf8)
{
    int col = chart_put(c, 0, 0, c->w, ch->title ? ch->title : "", CHART_COLOR_DEFAULT, utf8);
    for (int k = 0; k < ch->nseries; k++) {
        const chart_series *s = &ch->series[k];
        if (!s->name || !*s->name)
            continue;
        int gap = col > 0 ? 2 : 0;
        if (col + gap + chart_text_width(s->name) > c->w)
            return;
        col = chart_put(c, col + gap, 0, c->w, s->name, s->color, utf8);
    }
}

static void chart_y_axis(chart_plot *p, const chart *ch, const chart_yticks *t, const chart_glyphs *g)
{
    chart_cells *c = p->c;
    int axis = p->px - 1;
    int ref_row = -1;
    if (ch->has_ref && isfinite(ch->ref) && ch->ref >= p->y0 && ch->ref <= p->y1)
        ref_row = p->py + chart_dot_y(p, ch->ref) / 4;
    for (int r = p->py; r < p->py + p->ph; r++)
        chart_put(c, axis, r, axis + 1, g->vert, ref_row >= 0 && r > ref_row ? CHART_COLOR_BELOW
                                                                              : CHART_COLOR_DEFAULT, 1);
    int last = -1;
    for (int i = 0; i < t->n; i++) {
        int r = p->py + chart_dot_y(p, t->v[i]) / 4;
        if (r == last || r < p->py || r >= p->py + p->ph)
            continue;
        last = r;
        chart_put(c, axis, r, axis + 1, g->ytick, c->color[(size_t)r * c->w + axis], 1);
        chart_put(c, axis - chart_text_width(t->label[i]), r, axis, t->label[i], CHART_COLOR_DEFAULT, 1);
    }
}

static void chart_x_label(char *buf, size_t cap, double v, double step, int pow10)
{
    if (pow10)
        plot_pow10_label(buf, cap, (int)lround(v));
    else
        plot_tick_label(buf, cap, v, step);
}

static void chart_x_axis(chart_plot *p, const chart_glyphs *g, int pow10)
{
    chart_cells *c = p->c;
    int row = p->py + p->ph;
    chart_put(c, p->px - 1, row, p->px, g->corner, CHART_COLOR_DEFAULT, 1);
    for (int col = p->px; col < p->px + p->pw; col++)
        chart_put(c, col, row, col + 1, g->horiz, CHART_COLOR_DEFAULT, 1);

    /* Whole-number ticks, as many as fit with a space between labels. */
    char a[LABEL_CAP], b[LABEL_CAP];
    chart_x_label(a, sizeof a, ceil(p->x0), 1, pow10);
    chart_x_label(b, sizeof b, floor(p->x1), 1, pow10);
    int wide = (int)(strlen(a) > strlen(b) ? strlen(a) : strlen(b));
    int max_ticks = p->pw / (wide + 2);
    double whole = floor(p->x1) - ceil(p->x0) + 1;
    if (whole < max_ticks)
        max_ticks = (int)fmax(whole, 0);
    double t[TICKS_CAP], step;
    int n = plot_ticks(p->x0, p->x1, max_ticks, t, TICKS_CAP, &step);
    int end = -2;                /* the column after the last label */
    for (int i = 0; i < n; i++) {
        int col = p->px + chart_dot_x(p, t[i]) / 2;
        char label[LABEL_CAP];
        chart_x_label(label, sizeof label, t[i], fmax(step, 1), pow10);
        int len = (int)strlen(label), start = col - (len - 1) / 2;
        start = start + len > c->w ? c->w - len : start;
        start = start < 0 ? 0 : start;
        if (start <= end || start + len > c->w || col >= p->px + p->pw)
            continue;
        chart_put(c, col, row, col + 1, g->xtick, CHART_COLOR_DEFAULT, 1);
        end = chart_put(c, start, row + 1, c->w, label, CHART_COLOR_DEFAULT, 1);
    }
}

static void chart_events(chart_plot *p, const chart *ch)
{
    for (int i = 0; i < ch->nevents && ch->events; i++) {
        if (!isfinite(ch->events[i]))
            continue;
        int dx = chart_dot_x(p, ch->events[i]);
        for (int dy = 0; dy < p->H; dy += 2)
            chart_dot(p, dx, dy, CHART_COLOR_EVENT);
    }
}

static void chart_ref(chart_plot *p, const chart *ch)
{
    if (!ch->has_ref || !isfinite(ch->ref) || ch->ref < p->y0 || ch->ref > p->y1)
        return;
    int dy = chart_dot_y(p, ch->ref);
    for (int dx = 0; dx < p->W; dx += 4)
        chart_dot(p, dx, dy, CHART_COLOR_REF);
}

/* ---- the whole chart ---- */

/* Chooses the frame: axes when they fit, else a bare plot. Returns 0 when
 * there is no room for a plot. */
static int chart_frame_for(chart_plot *p, chart_yticks *t, const chart *ch)
{
    chart_cells *c = p->c;
    if (c->h >= CHART_AXES_MIN_H) {
        chart_y_ticks(t, ch, p, c->h - 3);
        int label_w = t->width + (ch->has_ref ? 1 : 0);
        if (c->w >= label_w + 1 + CHART_PLOT_MIN_W) {
            c->frame.axes = 1;
            c->frame.label_w = label_w;
            p->px = label_w + 1;
            p->py = 1;
            p->pw = c->w - p->px;
            p->ph = c->h - 3;
            return 1;
        }
    }
    if (c->h < 2 || c->w < 1)
        return 0;
    p->px = 0;
    p->py = 1;
    p->pw = c->w;
    p->ph = c->h - 1;
    return 1;
}

int chart_render(const chart *ch, chart_cells *out, int utf8)
{
    const chart_glyphs *g = utf8 ? &chart_utf8_glyphs : &chart_ascii_glyphs;
    size_t ncells = (size_t)out->w * (size_t)out->h;
    for (size_t i = 0; i < ncells; i++)
        strcpy(out->text[i], " ");
    if (ncells) {
        memset(out->color, 0, ncells);
        memset(out->dots, 0, ncells);
    }

    chart_scan s = chart_scan_points(ch);
    int flags = s.points ? 0 : CHART_NO_DATA;
    if (ch->has_ref && isfinite(ch->ref) && s.last0 < ch->ref)
        flags |= CHART_BELOW_REF;

    chart_plot p = { .c = out };
    chart_ranges(&p, ch, &s);
    out->frame = (chart_frame){ .x0 = p.x0, .x1 = p.x1, .y0 = p.y0, .y1 = p.y1 };
    if (ncells == 0)
        return flags;
    chart_title(out, ch, utf8);

    chart_yticks ticks;
    if (!chart_frame_for(&p, &ticks, ch))
        return flags;
    p.W = 2 * p.pw;
    p.H = 4 * p.ph;
    chart_scales(&p);
    out->frame.x = p.px;
    out->frame.y = p.py;
    out->frame.w = p.pw;
    out->frame.h = p.ph;

    chart_events(&p, ch);
    chart_ref(&p, ch);
    for (int k = 0; k < ch->nseries; k++)
        chart_draw_series(&p, &ch->series[k], ch->smooth);
    for (int r = p.py; r < p.py + p.ph; r++)
        for (int col = p.px; col < p.px + p.pw; col++) {
            size_t i = (size_t)r * out->w + col;
            chart_glyph(out->text[i], out->dots[i], utf8);
        }

    if (out->frame.axes) {
        chart_y_axis(&p, ch, &ticks, g);
        chart_x_axis(&p, g, ch->x_pow10);
        if (flags & CHART_BELOW_REF) {
            int r = p.py + chart_dot_y(&p, s.last0) / 4;
            r = r < p.py ? p.py : r >= p.py + p.ph ? p.py + p.ph - 1 : r;
            chart_put(out, 0, r, 1, g->below, CHART_COLOR_BELOW, 1);
        }
    }
    if (flags & CHART_NO_DATA) {
        static const char none[] = "no data";
        int len = (int)strlen(none);
        if (p.pw >= len)
            chart_put(out, p.px + (p.pw - len) / 2, p.py + (p.ph - 1) / 2, p.px + p.pw, none,
                      CHART_COLOR_DEFAULT, 1);
    }
    return flags;
}

int chart_cell_of(const chart_cells *c, double x, double y, int *col, int *row)
{
    const chart_frame *f = &c->frame;
    if (f->w <= 0 || f->h <= 0 || !isfinite(x) || !isfinite(y))
        return 0;
    chart_plot p = { .px = f->x, .py = f->y, .pw = f->w, .ph = f->h, .W = 2 * f->w, .H = 4 * f->h,
                     .x0 = f->x0, .x1 = f->x1, .y0 = f->y0, .y1 = f->y1 };
    chart_scales(&p);
    int dx = chart_dot_x(&p, x), dy = chart_dot_y(&p, y);
    *col = p.px + (int)floor(dx / 2.0);
    *row = p.py + (int)floor(dy / 4.0);
    return dx >= 0 && dy >= 0 && dx < p.W && dy < p.H;
}
