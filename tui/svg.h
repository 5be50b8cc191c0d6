/* svg.h — line plots as SVG text, and the pieces any plot needs: "nice"
 * axis ticks with their labels, autoscaled ranges, and a growable text
 * buffer whose numbers are always written in C-locale notation.
 *
 *     double x[] = { 100, 200, 300 }, y[] = { 0.9, NAN, 0.4 };
 *     plot_series s[] = { { .name = "val", .x = x, .y = y, .n = 3, .style = 1 } };
 *     plot_marker mk[] = { { 150, "unfreeze stage3" } };
 *     plot_spec p = { .title = "Loss", .xlabel = "step", .ylabel = "loss",
 *                     .series = s, .nseries = 1, .marker = mk, .nmarker = 1,
 *                     .x_integer = 1 };
 *     plot_buf svg = { 0 };
 *     if (svg_render(&svg, &p, 1, &err)) ... err.msg ...
 *     ... svg.s holds svg.len bytes ...
 *     plot_buf_free(&svg);
 *
 * Plots. Each plot_spec becomes one panel, SVG_WIDTH × SVG_PLOT_HEIGHT,
 * stacked top to bottom in one document. The axes are autoscaled with a
 * little padding: x over every finite x and the markers (so panels over the
 * same rows line up even where a value was never measured), y over the
 * finite points and the reference line; a constant series or a single
 * point still gets a range around it, a panel with no point says so. A NaN
 * or infinite value breaks a series' line; a point with no finite
 * neighbour is drawn as its style's marker. Each style index has its own
 * colour, its own dash pattern and its own marker shape, so a plot printed
 * in grey still tells its series apart. Series without a finite point are
 * left out, legend included. Text is escaped for XML and invalid
 * UTF-8 or control bytes become '?', so any label makes a well-formed file.
 *
 * Numbers. plot_printf formats under a "C" locale object of its own
 * (uselocale), whatever setlocale says: "0.5", never "0,5". It is safe on
 * any thread.
 */
#ifndef THAW_SVG_H
#define THAW_SVG_H

#include <stddef.h>

#include "status.h"

#define SVG_WIDTH       720
#define SVG_PLOT_HEIGHT 300
#define SVG_STYLES      6     /* distinct colour + dash pairs; style indices wrap */

/* Text built piece by piece. Start from { 0 }; s is NUL-terminated once
 * anything was added (NULL before). After a failed allocation every further
 * call fails too, so a caller may check only the last one. */
typedef struct plot_buf {
    char *s;
    size_t len, cap;
    int failed;
} plot_buf;

/* Appends printf-style text, numbers in C-locale notation. THAW_ENOMEM. */
int plot_printf(plot_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends text escaped for XML (& < > " '), see the header comment. THAW_ENOMEM. */
int plot_xml(plot_buf *b, const char *text);
void plot_buf_free(plot_buf *b);

/* snprintf in C-locale notation; returns what snprintf returns (-1 when
 * the C locale object cannot be had). */
int plot_snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* v in the fewest significant digits (%g, C-locale) that read back as
 * exactly v, whole numbers below 1e17 without an exponent: "0.1", "1600",
 * "1e-05", "0.30000001192092896". NaN and infinities as
 * "nan", "inf", "-inf" (callers that need otherwise check isfinite first).
 * Returns what snprintf returns. */
int plot_shortest(char *buf, size_t cap, double v);

/* Ticks for an axis from lo to hi: multiples of 1, 2 or 5 × 10^k, the
 * densest such step that puts at most max_ticks ticks inside [lo, hi]
 * (bounds included; lo and hi may come in either order). A zero-width range
 * gets the single tick lo. Writes at most cap values into out, ascending,
 * and returns how many; 0 for a non-finite bound or max_ticks < 1. The step
 * goes into *step when step is not NULL (0 for a zero-width range). */
int plot_ticks(double lo, double hi, int max_ticks, double *out, int cap, double *step);

/* A tick's label: as many decimals as the step needs ("0.25" is never a
 * step, "0.2" and "0.02" are), exponent notation for very large or small
 * values, "0" rather than "-0". C-locale. Returns what snprintf returns. */
int plot_tick_label(char *buf, size_t cap, double v, double step);

/* The label of the power of ten 10^k on a log axis: "1", "10", "100",
 * "0.1", "0.01" for |k| <= 2, else "1e-5", "1e+3". C-locale. */
int plot_pow10_label(char *buf, size_t cap, int k);

/* Widens [*lo, *hi] by pad × its width on each side; a zero-width range
 * becomes ±10% of its value (±1 around 0), a non-finite one 0..1. */
void plot_autoscale(double *lo, double *hi, double pad);

typedef struct plot_series {
    const char *name;            /* in the legend */
    const double *x, *y;         /* n points */
    int n;
    int style;                   /* colour, dash and marker shape: 0 .. SVG_STYLES-1, wraps */
    int points;                  /* 1: markers only, no line (test-set points) */
} plot_series;

/* A vertical line at x with a short label (an event such as a thaw). */
typedef struct plot_marker {
    double x;
    const char *label;           /* drawn cut to a few words; whole in a tooltip */
} plot_marker;

typedef struct plot_spec {
    const char *title, *xlabel, *ylabel;
    const plot_series *series;
    int nseries;
    const plot_marker *marker;
    int nmarker;
    const char *marker_label;    /* the markers' legend entry; NULL: "plan changed" */
    int x_integer;               /* 1: x counts something (steps): no fractional ticks */
    int x_pow10;                 /* 1: x holds log10 of the value (a log axis): ticks at
                                    whole powers, labelled as the value ("1e-4", "0.01") */

    /* A second scale along the top edge: labelled ticks at given x values
     * (epochs at the step they ended), thinned where they would crowd. */
    const plot_marker *top;
    int ntop;
    const char *toplabel;

    /* A horizontal reference line at ref (always inside the y range), drawn
     * darker than the grid, named ref_label in the legend; with below_label
     * the area under it is hatched and named so ("negative transfer"). */
    int has_ref;
    double ref;
    const char *ref_label, *below_label;
} plot_spec;

/* One SVG document holding the n plots, stacked, into out (appended).
 * THAW_EINVAL for n < 1 or a series with n < 0 or NULL arrays, THAW_ENOMEM. */
int svg_render(plot_buf *out, const plot_spec *plots, int n, thaw_err *err);

#endif
