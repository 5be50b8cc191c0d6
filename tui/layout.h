/* layout.h — the screen's arithmetic: where each panel goes for a terminal
 * of cols × rows, and which columns the layer tree shows at a width. Pure
 * functions, no curses; the screen code draws into the rectangles.
 *
 *     layout l;
 *     layout_compute(&l, COLS, LINES);
 *     if (l.too_small) {
 *         layout_msg m;
 *         layout_too_small_msg(&m, COLS, LINES, utf8);
 *         for (int i = 0; i < m.n; i++) mvaddstr(m.line[i].y, m.line[i].x, m.line[i].text);
 *     } else {
 *         ... title bar in l.title, tree in l.tree, rate bars in l.lrbar (w 0: none),
 *         ... a vertical rule in l.sep, chart i (LAYOUT_CHART_LOSS ...) in l.chart[i]
 *         ... for i < l.ncharts, then l.status, l.cmdline, l.footer ...
 *         layout_tree_plan plan;
 *         layout_tree_columns(&plan, l.tree.w);
 *         for (int i = 0; i < plan.n; i++)
 *             ... header layout_tree_column_info[plan.col[i].id].header at
 *             ... column l.tree.x + plan.col[i].x, plan.col[i].w wide ...
 *     }
 *
 * The screen, top to bottom (the rate bars show from 115 columns):
 *
 *     row 0           title bar, the whole width
 *     rows 1 .. R-4   tree | gutter | lr bars | rule | charts, stacked
 *     row R-3         status line
 *     row R-2         command line
 *     row R-1         key hints
 *
 * Widths. The tree takes 55% of the columns, rounded, and more when that
 * is less than layout_tree_full_width() (every column, the name at its
 * preferred width) while the plots can keep LAYOUT_PLOTS_W columns. The lr bars
 * (LAYOUT_LRBAR_W wide, after a one-column gutter) show only where the
 * plots keep LAYOUT_PLOTS_W columns beside them; the rule is one column;
 * the plots take the rest (never fewer than LAYOUT_PLOTS_MIN_W).
 *
 * Heights. The body (rows 1 .. R-4) holds as many charts as give each
 * LAYOUT_CHART_MIN_H rows, up to three, in the order loss, accuracy,
 * Δtransfer (two: loss and accuracy; one: loss). The rows are shared out
 * evenly, earlier charts taking the odd ones.
 *
 * Below LAYOUT_MIN_COLS × LAYOUT_MIN_ROWS the layout is too_small, every
 * rectangle empty, and layout_too_small_msg says so, centred.
 *
 * Rectangles never overlap and always lie inside the screen; an empty one
 * has w == 0 or h == 0.
 */
#ifndef THAW_LAYOUT_H
#define THAW_LAYOUT_H

#include <stddef.h>

enum {
    LAYOUT_MIN_COLS = 60,
    LAYOUT_MIN_ROWS = 16,
    LAYOUT_TREE_PERCENT = 55,
    LAYOUT_LRBAR_W = 10,
    LAYOUT_PLOTS_W = 40,         /* the plots' comfortable width */
    LAYOUT_PLOTS_MIN_W = 24,
    LAYOUT_CHART_MIN_H = 6,
    LAYOUT_CHROME_ROWS = 4,      /* title, status, command line, key hints */
};

typedef struct layout_rect {
    int x, y, w, h;
} layout_rect;

/* The charts, in the order they are given up. */
enum layout_chart {
    LAYOUT_CHART_LOSS,
    LAYOUT_CHART_ACCURACY,
    LAYOUT_CHART_DELTA,
    LAYOUT_CHART_COUNT
};

typedef struct layout {
    int cols, rows;
    int too_small;               /* 1: nothing fits; every rectangle is empty */
    layout_rect title, tree, lrbar, sep, plots, status, cmdline, footer;
    int ncharts;                 /* chart[0 .. ncharts-1] are shown, stacked in plots */
    layout_rect chart[LAYOUT_CHART_COUNT];
} layout;

/* Fills l for a cols × rows screen (negative sizes count as 0). */
void layout_compute(layout *l, int cols, int rows);

/* The charts stacked in a plots area, as the Heights paragraph says: how
 * many fit, at most LAYOUT_CHART_COUNT; chart[i] past that is empty. */
int layout_charts(layout_rect plots, layout_rect chart[LAYOUT_CHART_COUNT]);

/* What to show on a screen too small for the layout: two lines, each cut to
 * the width and centred, at most as many lines as there are rows. */
enum { LAYOUT_MSG_LINES = 2, LAYOUT_MSG_BYTES = 64 };
typedef struct layout_msg {
    int n;
    struct {
        int x, y;                /* where the text starts */
        char text[LAYOUT_MSG_BYTES];
    } line[LAYOUT_MSG_LINES];
} layout_msg;

/* "enlarge the terminal" and "to 60×16 (now 40×10)", with "x" for "×"
 * when utf8 is 0. */
void layout_too_small_msg(layout_msg *m, int cols, int rows, int utf8);

/* ---- the layer tree's columns ---- */

/* X(ID, header, width, priority, right-aligned): left to right as shown;
 * the priorities, 0 .. LAYOUT_COL_COUNT-1, say which columns stay as the
 * width shrinks (0 last). The name column's width is its minimum; it takes
 * every column left over. In a workbench for freezing and thawing, the
 * layer, whether it trains and its rate come first; then its size and
 * shape; then the live drift and gradient norm; the type last, since the
 * layer's name usually says it (conv1, bn1). */
#define LAYOUT_TREE_COLUMNS(X)                      \
    X(NAME,   "layer",  14, 0, 0)                   \
    X(TYPE,   "type",   11, 7, 0)                   \
    X(OUT,    "out",     9, 4, 0)                   \
    X(PARAMS, "params",  6, 3, 1)                   \
    X(TRAIN,  "train",   5, 1, 0)                   \
    X(LR,     "lr",      7, 2, 1)                   \
    X(DRIFT,  "drift",   5, 5, 1)                   \
    X(GRAD,   "|grad|",  6, 6, 1)

enum layout_tree_col {
#define LAYOUT_COL_ENUM(id, header, width, priority, right) LAYOUT_COL_##id,
    LAYOUT_TREE_COLUMNS(LAYOUT_COL_ENUM)
#undef LAYOUT_COL_ENUM
    LAYOUT_COL_COUNT
};

typedef struct layout_col_info {
    const char *header;
    int width;                   /* the fixed width; the name's minimum */
    int priority;
    int right;                   /* 1: right-aligned (numbers) */
} layout_col_info;

extern const layout_col_info layout_tree_column_info[LAYOUT_COL_COUNT];

enum {
    LAYOUT_NAME_W = 20,          /* the name's preferred width */
    LAYOUT_COL_GAP = 1,          /* blank columns between two columns */
};

/* The tree at its comfortable width: the name at LAYOUT_NAME_W, every other
 * column, the gaps between them. */
int layout_tree_full_width(void);

typedef struct layout_tree_plan {
    int n;
    struct {
        int id;                  /* enum layout_tree_col */
        int x, w;                /* from the tree's left edge */
    } col[LAYOUT_COL_COUNT];
} layout_tree_plan;

/* The columns that fit in width, left to right: the longest run of
 * columns in priority order whose widths and gaps fit beside the name at
 * its minimum, the name then widened to fill the width exactly. Below the
 * name's minimum the name alone, width wide; width <= 0: none. */
void layout_tree_columns(layout_tree_plan *plan, int width);

#endif
