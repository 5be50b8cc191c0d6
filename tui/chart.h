/* chart.h — line charts drawn as text: braille dots in a grid of terminal
 * cells, with axes, labels, a legend, a reference line and event markers.
 * Pure functions, no curses: the screen code copies the cells out row by
 * row and maps each cell's colour index to a colour pair.
 *
 *     double step[] = { 0, 100, 200, 300 }, loss[] = { 2.3, 1.1, NAN, 0.6 };
 *     double thawed[] = { 150 };
 *     chart_series s[] = { { .name = "train", .x = step, .y = loss, .n = 4,
 *                            .color = CHART_COLOR_SERIES } };
 *     chart ch = { .title = "loss", .series = s, .nseries = 1,
 *                  .events = thawed, .nevents = 1, .smooth = 0.6 };
 *     chart_cells cells = { 0 };
 *     if (chart_cells_init(&cells, 40, 10) != THAW_OK) ... out of memory ...
 *     int flags = chart_render(&ch, &cells, 1);        // 1: UTF-8 terminal
 *     char row[CHART_ROW_BYTES(40)];
 *     for (int r = 0; r < cells.h; r++) {
 *         chart_row(&cells, r, row, sizeof row);       // or cell by cell:
 *         ... cells.text[r * cells.w + c], cells.color[r * cells.w + c] ...
 *     }
 *     chart_cells_free(&cells);
 *
 * A chart of w × h cells looks like this (30 × 8: Δtransfer with its
 * reference line at 0, labels × 100, the last value below the line):
 *
 *     Δtransfer  -12.0 pts              the title, then each named series
 *       10┤⠒⠦⢄⣀                         y labels right-aligned, the y axis
 *         │    ⠉⠑⠒⠤⣄⣀
 *        0┤⠄ ⠄ ⠄ ⠄ ⠄ ⠍⠒⠦⠤⣄ ⠄ ⠄ ⠄ ⠄ ⠄    the reference line, dotted
 *         │               ⠉⠙⠒⠤⢄⣀        (below it the axis is CHART_COLOR_BELOW)
 *     ▼-10┤                     ⠉⠑⠲⠤    ▼: series 0 ends below the line
 *         └┬───────┬───────┬───────┬    the x axis, a tick over each label
 *          0      200     400    600    x labels (steps or epochs)
 *
 * Geometry. Row 0 holds the title and the legend. With room for axes
 * (h >= CHART_AXES_MIN_H and the plot at least CHART_PLOT_MIN_W cells wide
 * beside the labels) the plot takes rows 1 .. h-3, the x axis row h-2 and
 * its labels row h-1; the label column is as wide as the widest y label,
 * plus one cell for the below-reference marker when the chart has a
 * reference line; the y axis is the next column and the plot the rest.
 * With less room the plot fills rows 1 .. h-1 at full width, bare (no axes,
 * no labels); with h == 1 only the title shows; with w or h 0 nothing.
 * chart_cells.frame says which of these was drawn and where.
 *
 * Dots. Each cell holds 2 × 4 dots, U+2800 plus a mask whose bits are, by
 * Unicode's dot numbering, top to bottom: left column 0, 1, 2, 6; right
 * column 3, 4, 5, 7. Dot column 0 is the plot's left edge (the lowest x),
 * dot row 0 its top edge (the highest y); a value maps to the nearest dot.
 * A cell without dots is a space. Points (x, y) follow each other along a
 * series and neighbours are joined by Bresenham lines in dot space; a NaN or
 * infinite x or y breaks the line, and a point with no finite neighbour
 * shows as one dot. Values outside a fixed y range are drawn at the edge.
 *
 * ASCII (utf8 == 0). Each cell's dots become one character by the dot rows
 * they occupy, columns ignored: none ' ', only the top two rows '\'', only
 * the bottom two '.', both halves with three or four rows '|', both halves
 * with two rows ':'. Axes become '|', '-', '+' (ticks and corner), the
 * marker 'v', and any non-ASCII character of the title or a series name '?'.
 *
 * Colour. Each cell has a colour index; the last thing that set a dot in
 * the cell decides it: events first, then the reference line, then the
 * series in order, so a series wins over the lines behind it. Legend names
 * take their series' colour; axes, labels and the title CHART_COLOR_DEFAULT.
 *
 * Scales. y is autoscaled over every finite point of every series (as
 * drawn, i.e. smoothed) and the reference value, padded by 5% of the range
 * on each side (plot_autoscale), unless fixed_y gives [ymin, ymax]. x spans
 * every finite x of a point with a finite y, and the events, without
 * padding; a single x spans [x, x + 1]. With no finite point at all the
 * plot reads "no data" and chart_render says CHART_NO_DATA. The y labels
 * are plot_ticks over the range multiplied by label_scale (×100 shows 0..1
 * as 0..100), written by plot_tick_label and followed by label_suffix
 * ("%"); numbers are always in C-locale notation. x ticks are whole numbers
 * (x counts steps or epochs), as many as fit with a space between labels;
 * with x_pow10 they are powers of ten, labelled "1e-5" … "0.01" … "10".
 *
 * Smoothing. With smooth in (0, 1) each series is drawn as its exponential
 * moving average, s(0) = y(0), s(i) = smooth·s(i−1) + (1 − smooth)·y(i)
 * (TensorBoard's convention: larger is smoother). Non-finite points are
 * skipped by the average and still break the line.
 *
 * The reference line (has_ref; Δtransfer's zero) is dotted: one dot in
 * every other cell's left dot column, in CHART_COLOR_REF, when ref lies in
 * the y range. The axis cells of the rows below the row holding ref take
 * CHART_COLOR_BELOW, and when series below_series's (0's unless set) last
 * drawn value lies below ref,
 * chart_render returns CHART_BELOW_REF (whatever the size, so a caller can
 * say "negative transfer" even where the chart does not fit) and, with
 * axes, puts '▼' in CHART_COLOR_BELOW in the label column's first cell on
 * that value's row.
 *
 * Events (freezing or a rate changed during training) are dotted vertical
 * lines: dots on every other dot row of the event's dot column, in
 * CHART_COLOR_EVENT.
 *
 * Cost. chart_render allocates nothing and touches each point a few times
 * (a scale pass and a drawing pass) and each cell once or twice; timing it
 * over chart_cells made once is the benchmark. Each cell is assumed one
 * terminal column wide. Not thread-safe on one chart_cells; distinct cells
 * may be rendered on distinct threads.
 */
#ifndef THAW_CHART_H
#define THAW_CHART_H

#include <stddef.h>

#include "status.h"

enum {
    CHART_CELL_BYTES = 8,        /* one UTF-8 character and its NUL */
    CHART_AXES_MIN_H = 5,        /* title, two plot rows, x axis, x labels */
    CHART_PLOT_MIN_W = 4,        /* plot cells beside the labels for axes to be drawn */
    CHART_MAX_SIDE = 4096,       /* cells per side chart_cells_init accepts */
};

/* Bytes a row of w cells can take in chart_row, its NUL included. */
#define CHART_ROW_BYTES(w) ((size_t)(w) * (CHART_CELL_BYTES - 1) + 1)

/* Colour indices the chart sets; a caller maps them to colour pairs.
 * Series colours are the caller's choice; CHART_COLOR_SERIES + k keeps them
 * apart from the chart's own. */
enum chart_color {
    CHART_COLOR_DEFAULT = 0,     /* title, axes, labels, "no data" */
    CHART_COLOR_EVENT = 1,       /* event lines */
    CHART_COLOR_REF = 2,         /* the reference line */
    CHART_COLOR_BELOW = 3,       /* the axis below the reference, the ▼ marker */
    CHART_COLOR_SERIES = 4,      /* the first index meant for series */
};

/* What chart_render reports, as bits. */
enum chart_flag {
    CHART_BELOW_REF = 1,         /* series below_series's last drawn value is below ref */
    CHART_NO_DATA = 2,           /* no series has a finite point */
};

typedef struct chart_series {
    const char *name;            /* in the legend on row 0; NULL: not listed */
    const double *x, *y;         /* n points, x ascending (steps or epochs) */
    int n;                       /* n <= 0 or a NULL array: an empty series */
    int color;                   /* colour index, 0 .. 255 */
} chart_series;

typedef struct chart {
    const char *title;           /* NULL: none; cut at the chart's width */
    const chart_series *series;
    int nseries;
    const double *events;        /* x of each event line; non-finite ones are skipped */
    int nevents;
    int has_ref;                 /* 1: draw the reference line at ref */
    double ref;
    int fixed_y;                 /* 1: y spans [ymin, ymax] (when finite and ymin < ymax) */
    double ymin, ymax;
    double label_scale;          /* y labels show y × label_scale; 0: 1 */
    const char *label_suffix;    /* after each y label ("%"); NULL: none */
    double smooth;               /* EMA weight in (0, 1); 0 (or anything else): none */
    int below_series;            /* the series whose last value CHART_BELOW_REF judges (0: the first) */
    int x_pow10;                 /* 1: x holds log10 of the value (a log axis), its ticks
                                    labelled as powers of ten (plot_pow10_label) */
} chart;

/* Where the last chart_render put things, in cells from the chart's
 * top-left corner. w == 0: no plot (h < 2 or w < 1). */
typedef struct chart_frame {
    int x, y, w, h;              /* the plot area */
    int axes;                    /* 1: axes and labels drawn; 0: a bare plot */
    int label_w;                 /* the label column's width (0 when bare) */
    double x0, x1, y0, y1;       /* the data range the plot spans, y before label_scale */
} chart_frame;

/* A chart's cells, row-major. Start from { 0 }. */
typedef struct chart_cells {
    int w, h;
    char (*text)[CHART_CELL_BYTES]; /* (h, w): one character each, NUL-terminated */
    unsigned char *color;           /* (h, w): colour index of each cell */
    unsigned char *dots;            /* (h, w): braille masks, the renderer's scratch */
    chart_frame frame;
} chart_cells;

/* Makes room for w × h cells, all blank, for charts of exactly that size
 * (resize: chart_cells_free, then init again). 0 × 0 is valid and holds
 * nothing. THAW_EINVAL for a negative side or one above CHART_MAX_SIDE,
 * THAW_ENOMEM; on failure c is left empty ({ 0 }). */
int chart_cells_init(chart_cells *c, int w, int h);
/* Frees the cells and leaves c empty; c may be empty already. */
void chart_cells_free(chart_cells *c);

/* Draws ch into every cell of out (see the header comment), braille and
 * box-drawing characters when utf8 is 1, ASCII when 0. Returns the
 * chart_flag bits that hold. Allocates nothing. */
int chart_render(const chart *ch, chart_cells *out, int utf8);

/* The cell (*col, *row) where the point (x, y) is drawn by the last
 * chart_render; 1 when that is inside the plot area, 0 otherwise (and for
 * a non-finite x or y). */
int chart_cell_of(const chart_cells *c, double x, double y, int *col, int *row);

/* Row `row` as one NUL-terminated string, into buf of cap bytes: whole
 * characters only, cut where the next would not fit (CHART_ROW_BYTES(w)
 * always suffices). Returns the bytes written, NUL excluded; a row outside
 * the chart is "". */
size_t chart_row(const chart_cells *c, int row, char *buf, size_t cap);

#endif
