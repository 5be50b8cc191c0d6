/* svg.c — line plots as SVG text, axis ticks, C-locale numbers; see svg.h.
 *
 * A panel's geometry, in SVG user units from the panel's top-left corner:
 *
 *     y
 *     20   title
 *     40        top scale labels (epochs)     the top scale's name
 *     46   ┌──────── plot area ────────┐     legend
 *          │                           │
 *     254  └───────────────────────────┘
 *     270       x tick labels
 *     290       x axis label
 *     300  (SVG_PLOT_HEIGHT)
 *     x:   64 (PLOT_LEFT)      560 (PLOT_RIGHT)    576 (LEGEND_X)    720 (SVG_WIDTH)
 */
#include "svg.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

enum {
    PLOT_LEFT = 64, PLOT_RIGHT = 560, PLOT_TOP = 46, PLOT_BOTTOM = 254,
    LEGEND_X = 576, LEGEND_STEP = 16,
    X_TICKS_MAX = 8, Y_TICKS_MAX = 6, TICKS_CAP = 16,
    MARKER_CHARS = 24,           /* of a marker's label drawn on the plot */
    MARKER_GAP = 13,             /* pixels between labelled markers */
    TOP_GAP = 28,                /* pixels between labelled top-scale ticks */
};

/* One locale object for the process, made once: formatting under it never
 * touches the global locale, so other threads may call setlocale freely. */
static pthread_once_t plot_once = PTHREAD_ONCE_INIT;
static locale_t plot_c_locale;

static void plot_c_init(void)
{
    plot_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int plot_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
    pthread_once(&plot_once, plot_c_init);
    if (plot_c_locale == (locale_t)0)
        return -1;
    locale_t old = uselocale(plot_c_locale);
    int n = vsnprintf(buf, cap, fmt, ap);
    uselocale(old);
    return n;
}

int plot_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = plot_vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

int plot_shortest(char *buf, size_t cap, double v)
{
    pthread_once(&plot_once, plot_c_init);
    if (plot_c_locale == (locale_t)0)
        return -1;
    /* strtod reads under the same locale as snprintf writes. */
    locale_t old = uselocale(plot_c_locale);
    int n = -1, digits = 1;
    for (; digits <= 17; digits++) {
        n = snprintf(buf, cap, "%.*g", digits, v);
        if (n < 0 || (size_t)n >= cap || !isfinite(v) || strtod(buf, NULL) == v)
            break;
    }
    /* 1600, not 1.6e+03: up to 17 integer digits without an exponent. */
    int exp10 = v != 0 && isfinite(v) ? (int)floor(log10(fabs(v))) : 0;
    if (n >= 0 && (size_t)n < cap && exp10 >= digits && exp10 < 17)
        n = snprintf(buf, cap, "%.*g", exp10 + 1, v);
    uselocale(old);
    return n;
}

/* Room for extra more bytes and a NUL. */
static int plot_reserve(plot_buf *b, size_t extra)
{
    if (b->failed)
        return THAW_ENOMEM;
    if (b->cap - b->len > extra)
        return THAW_OK;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len <= extra) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return THAW_ENOMEM;
        }
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = 1;
        return THAW_ENOMEM;
    }
    b->s = s;
    b->cap = cap;
    return THAW_OK;
}

int plot_printf(plot_buf *b, const char *fmt, ...)
{
    if (plot_reserve(b, 64))
        return THAW_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    int n = plot_vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= b->cap - b->len) {
        if (plot_reserve(b, (size_t)n))
            return THAW_ENOMEM;
        va_start(ap, fmt);
        n = plot_vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    if (n < 0) {
        b->failed = 1;
        return THAW_ENOMEM;
    }
    b->len += (size_t)n;
    return THAW_OK;
}

/* Appends len bytes and keeps the text NUL-terminated. */
static int plot_put(plot_buf *b, const char *bytes, size_t len)
{
    if (plot_reserve(b, len))
        return THAW_ENOMEM;
    memcpy(b->s + b->len, bytes, len);
    b->len += len;
    b->s[b->len] = '\0';
    return THAW_OK;
}

int plot_xml(plot_buf *b, const char *text)
{
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    while (*s) {
        int n = 1;
        const char *rep = NULL;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (*s < 0x20 || *s == 0x7F)
                rep = "?";
            else if (!(n = (int)utf8_len(s, SIZE_MAX))) {
                rep = "?";
                n = 1;
            }
        }
        if (plot_put(b, rep ? rep : (const char *)s, rep ? strlen(rep) : (size_t)n))
            return THAW_ENOMEM;
        s += n;
    }
    return plot_put(b, "", 0);
}

void plot_buf_free(plot_buf *b)
{
    free(b->s);
    *b = (plot_buf){ 0 };
}

int plot_ticks(double lo, double hi, int max_ticks, double *out, int cap, double *step)
{
    static const int mantissa[] = { 1, 2, 5 };
    if (step)
        *step = 0;
    if (!isfinite(lo) || !isfinite(hi) || max_ticks < 1 || cap < 1)
        return 0;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (lo == hi) {
        out[0] = lo;
        return 1;
    }
    double span = hi - lo;
    if (!isfinite(span))
        return 0;
    /* Start a decade below the step that would fit exactly and widen until
     * the ticks fit; a few decades always suffice. */
    int k = (int)floor(log10(span / max_ticks)) - 1;
    for (int t = 0; t < 30; t++) {
        int m = mantissa[t % 3], e = k + t / 3;
        /* Tick i is i·m·10^e; a negative e divides by 10^-e, so 0.3 comes out
         * as the double nearest 0.3, not 3 × 0.1. */
        double p = pow(10, abs(e)), s = e >= 0 ? m * p : m / p;
        if (!(s > 0) || !isfinite(s))
            continue;
        double a = lo / s, z = hi / s;
        double first = ceil(a - 1e-9 * fmax(1, fabs(a))), last = floor(z + 1e-9 * fmax(1, fabs(z)));
        if (!(last - first + 1 <= max_ticks))
            continue;
        int n = 0;
        for (double i = first; i <= last && n < cap; i++, n++) {
            double v = e >= 0 ? i * m * p : i * m / p;
            out[n] = v == 0 ? 0 : v;   /* never -0 */
        }
        if (step)
            *step = s;
        return n;
    }
    return 0;
}

int plot_tick_label(char *buf, size_t cap, double v, double step)
{
    step = fabs(step);
    if (step > 0 && fabs(v) < step * 1e-6)
        v = 0;
    if (v == 0)
        return plot_snprintf(buf, cap, "0");
    if (!(step > 0) || !isfinite(v))
        return plot_snprintf(buf, cap, "%g", v);
    double mag = fabs(v);
    if (mag >= 1e6 || step < 1e-4) {
        int p = (int)floor(log10(mag)) - (int)floor(log10(step) + 1e-9);
        p = p < 0 ? 0 : p > 15 ? 15 : p;
        return plot_snprintf(buf, cap, "%.*e", p, v);
    }
    int d = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    return plot_snprintf(buf, cap, "%.*f", d, v);
}

int plot_pow10_label(char *buf, size_t cap, int k)
{
    if (k >= -2 && k <= 2)
        return plot_snprintf(buf, cap, "%g", pow(10.0, k));
    return plot_snprintf(buf, cap, "1e%+d", k);
}

void plot_autoscale(double *lo, double *hi, double pad)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
        return;
    }
    if (*lo > *hi) {
        double t = *lo;
        *lo = *hi;
        *hi = t;
    }
    double w = *hi - *lo;
    if (w == 0) {
        w = fabs(*lo) * 0.1;
        w = w > 0 ? w : 1;
        *lo -= w;
        *hi += w;
        return;
    }
    *lo -= pad * w;
    *hi += pad * w;
}

/* Colour (Okabe–Ito, safe for colour-blind readers) and dash pattern
 * together, so series differ in colour and in grey. */
static const struct {
    const char *colour, *dash;
} svg_style[SVG_STYLES] = {
    { "#0072b2", NULL },
    { "#d55e00", "7 3" },
    { "#009e73", "2 2" },
    { "#cc79a7", "8 3 2 3" },
    { "#e69f00", "12 3" },
    { "#56b4e9", "3 2 3 2 9 2" },
};

/* Marker shapes for point series, as polygons around the point (circle:
 * no vertices). */
static const struct {
    int n;
    double v[6][2];
} svg_shape[SVG_STYLES] = {
    { 0, { { 0 } } },
    { 4, { { -3, -3 }, { 3, -3 }, { 3, 3 }, { -3, 3 } } },
    { 3, { { 0, -4 }, { 3.5, 2.5 }, { -3.5, 2.5 } } },
    { 4, { { 0, -4 }, { 4, 0 }, { 0, 4 }, { -4, 0 } } },
    { 3, { { 0, 4 }, { 3.5, -2.5 }, { -3.5, -2.5 } } },
    { 6, { { -2, -3.5 }, { 2, -3.5 }, { 4, 0 }, { 2, 3.5 }, { -2, 3.5 }, { -4, 0 } } },
};

static int svg_style_of(int style)
{
    return ((style % SVG_STYLES) + SVG_STYLES) % SVG_STYLES;
}

/* Data ranges of one panel. */
typedef struct svg_frame {
    double x0, x1, y0, y1;
} svg_frame;

static double svg_px(const svg_frame *f, double x)
{
    return PLOT_LEFT + (x - f->x0) / (f->x1 - f->x0) * (PLOT_RIGHT - PLOT_LEFT);
}

static double svg_py(const svg_frame *f, double y)
{
    return PLOT_BOTTOM - (y - f->y0) / (f->y1 - f->y0) * (PLOT_BOTTOM - PLOT_TOP);
}

static int svg_finite(const plot_series *s, int i)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]);
}

static int svg_drawn(const plot_series *s)
{
    for (int i = 0; i < s->n; i++)
        if (svg_finite(s, i))
            return 1;
    return 0;
}

/* Ranges over everything drawn; returns the number of finite points. x
 * spans every point with a finite x, so panels over the same rows line up
 * even where one of them has nothing to show. */
static long svg_ranges(const plot_spec *p, svg_frame *f)
{
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    long points = 0;
    for (int k = 0; k < p->nseries; k++) {
        const plot_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            if (isfinite(s->x[i])) {
                x0 = fmin(x0, s->x[i]);
                x1 = fmax(x1, s->x[i]);
            }
            if (!svg_finite(s, i))
                continue;
            points++;
            y0 = fmin(y0, s->y[i]);
            y1 = fmax(y1, s->y[i]);
        }
    }
    for (int i = 0; i < p->nmarker; i++)
        if (isfinite(p->marker[i].x)) {
            x0 = fmin(x0, p->marker[i].x);
            x1 = fmax(x1, p->marker[i].x);
        }
    if (p->has_ref && isfinite(p->ref)) {
        y0 = fmin(y0, p->ref);
        y1 = fmax(y1, p->ref);
    }
    plot_autoscale(&x0, &x1, 0.03);
    plot_autoscale(&y0, &y1, 0.06);
    *f = (svg_frame){ x0, x1, y0, y1 };
    return points;
}

/* A label cut to MARKER_CHARS characters, "..." marking the cut. */
static void svg_short(char *out, size_t cap, const char *s)
{
    size_t i = 0;
    int chars = 0;
    while (s[i] && i + 4 < cap) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == MARKER_CHARS)
            break;
        i++;
    }
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    memcpy(out, s, i);
    strcpy(out + i, s[i] ? "..." : "");
}

static void svg_stroke(plot_buf *b, int style, double width)
{
    int st = svg_style_of(style);
    plot_printf(b, "fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"", svg_style[st].colour, width);
    if (svg_style[st].dash)
        plot_printf(b, " stroke-dasharray=\"%s\"", svg_style[st].dash);
    plot_printf(b, " stroke-linejoin=\"round\"");
}

static void svg_point(plot_buf *b, int style, double x, double y, const char *cls)
{
    int st = svg_style_of(style);
    if (svg_shape[st].n == 0) {
        plot_printf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\" "
                    "stroke=\"#000\" stroke-width=\"0.6\"/>\n", cls, x, y, svg_style[st].colour);
        return;
    }
    plot_printf(b, "<polygon class=\"%s\" fill=\"%s\" stroke=\"#000\" stroke-width=\"0.6\" points=\"",
                cls, svg_style[st].colour);
    for (int i = 0; i < svg_shape[st].n; i++)
        plot_printf(b, "%s%.1f,%.1f", i ? " " : "", x + svg_shape[st].v[i][0], y + svg_shape[st].v[i][1]);
    plot_printf(b, "\"/>\n");
}

/* A series: a polyline per run of finite points, a dot for a lone point;
 * markers only for a point series. */
static void svg_series(plot_buf *b, const svg_frame *f, const plot_series *s, int index)
{
    char cls[32];
    snprintf(cls, sizeof cls, "series-%d", index);
    for (int i = 0; i < s->n;) {
        if (!svg_finite(s, i)) {
            i++;
            continue;
        }
        int end = i + 1;
        while (!s->points && end < s->n && svg_finite(s, end))
            end++;
        if (s->points || end - i == 1) {
            svg_point(b, s->style, svg_px(f, s->x[i]), svg_py(f, s->y[i]), cls);
        } else {
            plot_printf(b, "<polyline class=\"%s\" ", cls);
            svg_stroke(b, s->style, 1.8);
            plot_printf(b, " points=\"");
            for (int j = i; j < end; j++)
                plot_printf(b, "%s%.1f,%.1f", j > i ? " " : "", svg_px(f, s->x[j]), svg_py(f, s->y[j]));
            plot_printf(b, "\"/>\n");
        }
        i = end;
    }
}

static void svg_axes(plot_buf *b, const plot_spec *p, const svg_frame *f)
{
    double t[TICKS_CAP], step;
    char label[64];
    int n = plot_ticks(f->y0, f->y1, Y_TICKS_MAX, t, TICKS_CAP, &step);
    for (int i = 0; i < n; i++) {
        double y = svg_py(f, t[i]);
        plot_tick_label(label, sizeof label, t[i], step);
        plot_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e3e3e3\"/>\n"
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                    PLOT_LEFT, y, PLOT_RIGHT, y, PLOT_LEFT - 6, y + 4, label);
    }
    /* Counted x axes: never more ticks than whole numbers in the range. */
    int xmax = X_TICKS_MAX;
    if (p->x_integer || p->x_pow10) {
        double whole = floor(f->x1) - ceil(f->x0) + 1;
        xmax = whole < xmax ? (int)fmax(whole, 0) : xmax;
    }
    n = plot_ticks(f->x0, f->x1, xmax, t, TICKS_CAP, &step);
    for (int i = 0; i < n; i++) {
        double x = svg_px(f, t[i]);
        if (p->x_pow10)
            plot_pow10_label(label, sizeof label, (int)lround(t[i]));
        else
            plot_tick_label(label, sizeof label, t[i], p->x_integer ? fmax(step, 1) : step);
        plot_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e3e3e3\"/>\n"
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                    x, PLOT_TOP, x, PLOT_BOTTOM, x, PLOT_BOTTOM + 16, label);
    }
    if (p->ntop > 0) {
        double last = -INFINITY;
        for (int i = 0; i < p->ntop; i++) {
            double x = svg_px(f, p->top[i].x);
            if (!isfinite(x) || x < PLOT_LEFT || x > PLOT_RIGHT || x - last < TOP_GAP)
                continue;
            last = x;
            plot_printf(b, "<line class=\"top\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>\n"
                        "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x, PLOT_TOP - 4, x, PLOT_TOP,
                        x, PLOT_TOP - 6);
            plot_xml(b, p->top[i].label);
            plot_printf(b, "</text>\n");
        }
        plot_printf(b, "<text x=\"%d\" y=\"%d\" font-style=\"italic\">", PLOT_RIGHT + 8, PLOT_TOP - 6);
        plot_xml(b, p->toplabel);
        plot_printf(b, "</text>\n");
    }
    plot_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (PLOT_LEFT + PLOT_RIGHT) / 2,
                PLOT_BOTTOM + 36);
    plot_xml(b, p->xlabel);
    plot_printf(b, "</text>\n<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">",
                (PLOT_TOP + PLOT_BOTTOM) / 2);
    plot_xml(b, p->ylabel);
    plot_printf(b, "</text>\n");
}

/* Event markers: a dashed line each; labels where they do not crowd. */
static void svg_markers(plot_buf *b, const plot_spec *p, const svg_frame *f)
{
    double last = -INFINITY;
    for (int i = 0; i < p->nmarker; i++) {
        double x = svg_px(f, p->marker[i].x);
        if (!isfinite(x))
            continue;
        const char *text = p->marker[i].label ? p->marker[i].label : "";
        plot_printf(b, "<g class=\"marker\"><title>");
        plot_xml(b, text);
        plot_printf(b, "</title><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\" "
                    "stroke-dasharray=\"3 3\"/>", x, PLOT_TOP, x, PLOT_BOTTOM);
        if (x - last >= MARKER_GAP) {
            char cut[MARKER_CHARS * 4 + 4];
            svg_short(cut, sizeof cut, text);
            plot_printf(b, "<text transform=\"translate(%.1f,%d) rotate(-90)\" text-anchor=\"end\" "
                        "font-size=\"10\" fill=\"#555\">", x + 11, PLOT_TOP + 4);
            plot_xml(b, cut);
            plot_printf(b, "</text>");
            last = x;
        }
        plot_printf(b, "</g>\n");
    }
}

static void svg_legend(plot_buf *b, const plot_spec *p)
{
    int y = PLOT_TOP + 6;
    for (int k = 0; k < p->nseries; k++) {
        const plot_series *s = &p->series[k];
        if (!svg_drawn(s))
            continue;
        char cls[32];
        snprintf(cls, sizeof cls, "legend-%d", k);
        if (s->points) {
            svg_point(b, s->style, LEGEND_X + 12, y, cls);
        } else {
            plot_printf(b, "<line class=\"%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" ", cls, LEGEND_X, y,
                        LEGEND_X + 24, y);
            svg_stroke(b, s->style, 1.8);
            plot_printf(b, "/>\n");
        }
        plot_printf(b, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 30, y + 4);
        plot_xml(b, s->name);
        plot_printf(b, "</text>\n");
        y += LEGEND_STEP;
    }
    if (p->has_ref && p->ref_label) {
        plot_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-width=\"1.4\"/>\n"
                    "<text x=\"%d\" y=\"%d\">", LEGEND_X, y, LEGEND_X + 24, y, LEGEND_X + 30, y + 4);
        plot_xml(b, p->ref_label);
        plot_printf(b, "</text>\n");
        y += LEGEND_STEP;
    }
    if (p->has_ref && p->below_label) {
        plot_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"10\" fill=\"url(#thaw-negative)\" "
                    "stroke=\"#b0b0b0\"/>\n<text x=\"%d\" y=\"%d\">", LEGEND_X, y - 5, LEGEND_X + 30, y + 4);
        plot_xml(b, p->below_label);
        plot_printf(b, "</text>\n");
        y += LEGEND_STEP;
    }
    if (p->nmarker > 0) {
        plot_printf(b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\" stroke-dasharray=\"3 3\"/>\n"
                    "<text x=\"%d\" y=\"%d\">", LEGEND_X + 12, y - 6, LEGEND_X + 12, y + 6,
                    LEGEND_X + 30, y + 4);
        plot_xml(b, p->marker_label ? p->marker_label : "plan changed");
        plot_printf(b, "</text>\n");
    }
}

static void svg_panel(plot_buf *b, const plot_spec *p, int offset)
{
    svg_frame f;
    long points = svg_ranges(p, &f);
    plot_printf(b, "<g class=\"plot\" transform=\"translate(0,%d)\">\n"
                "<text class=\"title\" x=\"%d\" y=\"20\" font-size=\"14\" font-weight=\"bold\">",
                offset, PLOT_LEFT);
    plot_xml(b, p->title);
    plot_printf(b, "</text>\n");
    if (p->has_ref && isfinite(p->ref) && p->below_label) {
        double y = svg_py(&f, p->ref);
        plot_printf(b, "<rect class=\"below\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                    "fill=\"url(#thaw-negative)\"/>\n", PLOT_LEFT, y, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - y);
    }
    svg_axes(b, p, &f);
    if (p->has_ref && isfinite(p->ref)) {
        double y = svg_py(&f, p->ref);
        plot_printf(b, "<line class=\"ref\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#000\" "
                    "stroke-width=\"1.4\"/>\n", PLOT_LEFT, y, PLOT_RIGHT, y);
    }
    svg_markers(b, p, &f);
    for (int k = 0; k < p->nseries; k++)
        svg_series(b, &f, &p->series[k], k);
    if (!points)
        plot_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#777\">no data</text>\n",
                    (PLOT_LEFT + PLOT_RIGHT) / 2, PLOT_TOP + 24);
    plot_printf(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                "stroke=\"#444\"/>\n", PLOT_LEFT, PLOT_TOP, PLOT_RIGHT - PLOT_LEFT, PLOT_BOTTOM - PLOT_TOP);
    svg_legend(b, p);
    plot_printf(b, "</g>\n");
}

int svg_render(plot_buf *out, const plot_spec *plots, int n, thaw_err *err)
{
    if (n < 1 || !plots)
        return thaw_fail(err, THAW_EINVAL, "svg: %d plots; expected at least 1", n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < plots[i].nseries; k++) {
            const plot_series *s = &plots[i].series[k];
            if (s->n < 0 || (s->n > 0 && (!s->x || !s->y)))
                return thaw_fail(err, THAW_EINVAL, "svg: plot %d, series %d has %d points%s", i, k, s->n,
                                 s->n < 0 ? "" : " but no arrays");
        }
    int height = n * SVG_PLOT_HEIGHT;
    plot_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\" fill=\"#222\">\n"
                "<defs><pattern id=\"thaw-negative\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
                "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fbe6e6\"/>"
                "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#c99\" stroke-width=\"2\"/></pattern></defs>\n"
                "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
                SVG_WIDTH, height, SVG_WIDTH, height, SVG_WIDTH, height);
    for (int i = 0; i < n; i++)
        svg_panel(out, &plots[i], i * SVG_PLOT_HEIGHT);
    if (plot_printf(out, "</svg>\n"))
        return thaw_fail(err, THAW_ENOMEM, "svg: out of memory for the plot text");
    return THAW_OK;
}
