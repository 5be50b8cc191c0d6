/* test_layout.c — the screen's rectangles at a few sizes, exactly; no
 * overlap and nothing outside the screen at every size up to 250 × 80; the
 * message for a screen too small; the charts stacked in a plots area; the
 * tree's columns at a few widths. */
#include <stdio.h>
#include <string.h>

#include "layout.h"
#include "test.h"

static int rect_is(layout_rect r, int x, int y, int w, int h)
{
    return r.x == x && r.y == y && r.w == w && r.h == h;
}

#define CHECK_RECT(r, X, Y, W, H)                                                                          \
    CHECKF(rect_is(r, X, Y, W, H), "%s is %d,%d %dx%d, not %d,%d %dx%d", #r, (r).x, (r).y, (r).w, (r).h, X, Y, W, \
           H)

/* What a size must give; title, status, command line and hints always
 * take a whole row each, at the top and the bottom. */
typedef struct want {
    int cols, rows;
    layout_rect tree, lrbar, sep, plots;
    int ncharts;
    layout_rect chart[LAYOUT_CHART_COUNT];
} want;

static void check_layout(const want *w)
{
    layout l;
    layout_compute(&l, w->cols, w->rows);
    CHECK(!l.too_small);
    CHECK_RECT(l.title, 0, 0, w->cols, 1);
    CHECK_RECT(l.tree, w->tree.x, w->tree.y, w->tree.w, w->tree.h);
    CHECK_RECT(l.lrbar, w->lrbar.x, w->lrbar.y, w->lrbar.w, w->lrbar.h);
    CHECK_RECT(l.sep, w->sep.x, w->sep.y, w->sep.w, w->sep.h);
    CHECK_RECT(l.plots, w->plots.x, w->plots.y, w->plots.w, w->plots.h);
    CHECKF(l.ncharts == w->ncharts, "%dx%d: %d charts", w->cols, w->rows, l.ncharts);
    for (int i = 0; i < LAYOUT_CHART_COUNT; i++)
        CHECK_RECT(l.chart[i], w->chart[i].x, w->chart[i].y, w->chart[i].w, w->chart[i].h);
    CHECK_RECT(l.status, 0, w->rows - 3, w->cols, 1);
    CHECK_RECT(l.cmdline, 0, w->rows - 2, w->cols, 1);
    CHECK_RECT(l.footer, 0, w->rows - 1, w->cols, 1);
}

void test_layout_sizes(void)
{
    static const want sizes[] = {
        { 200, 50, { 0, 1, 110, 46 }, { 111, 1, 10, 46 }, { 121, 1, 1, 46 }, { 122, 1, 78, 46 },
          3, { { 122, 1, 78, 16 }, { 122, 17, 78, 15 }, { 122, 32, 78, 15 } } },
        /* 55% would be 66; the tree grows to 68, where the plots keep 40. */
        { 120, 40, { 0, 1, 68, 36 }, { 69, 1, 10, 36 }, { 79, 1, 1, 36 }, { 80, 1, 40, 36 },
          3, { { 80, 1, 40, 12 }, { 80, 13, 40, 12 }, { 80, 25, 40, 12 } } },
        /* No room for the rate bars; still three charts. */
        { 80, 24, { 0, 1, 44, 20 }, { 0, 0, 0, 0 }, { 44, 1, 1, 20 }, { 45, 1, 35, 20 },
          3, { { 45, 1, 35, 7 }, { 45, 8, 35, 7 }, { 45, 15, 35, 6 } } },
        /* Two charts (loss and accuracy); the Δtransfer chart gives way. */
        { 60, 20, { 0, 1, 33, 16 }, { 0, 0, 0, 0 }, { 33, 1, 1, 16 }, { 34, 1, 26, 16 },
          2, { { 34, 1, 26, 8 }, { 34, 9, 26, 8 }, { 0, 0, 0, 0 } } },
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        check_layout(&sizes[i]);
}

void test_layout_too_small(void)
{
    static const int sizes[][2] = { { 20, 8 }, { 1, 1 }, { 0, 0 }, { -5, 3 }, { 59, 50 }, { 200, 15 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        layout l;
        layout_compute(&l, sizes[i][0], sizes[i][1]);
        CHECKF(l.too_small, "%dx%d", sizes[i][0], sizes[i][1]);
        CHECK(l.ncharts == 0 && l.tree.w == 0 && l.plots.w == 0 && l.title.w == 0 && l.footer.w == 0);
    }
    layout l;
    layout_compute(&l, LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS);
    CHECK(!l.too_small && l.ncharts == 2);
    /* a plots area lower than one chart holds none */
    layout_rect chart[LAYOUT_CHART_COUNT];
    CHECK(layout_charts((layout_rect){ 0, 1, 40, LAYOUT_CHART_MIN_H - 1 }, chart) == 0 && chart[0].h == 0);
    CHECK(layout_charts((layout_rect){ 0, 0, 0, 0 }, chart) == 0);
}

void test_layout_too_small_message(void)
{
    layout_msg m;
    layout_too_small_msg(&m, 20, 8, 1);
    CHECK(m.n == 2);
    CHECKF(!strcmp(m.line[0].text, "enlarge the terminal"), "%s", m.line[0].text);
    CHECKF(!strcmp(m.line[1].text, "to 60×16 (now 20×8)"), "%s", m.line[1].text);
    CHECK(m.line[0].x == 0 && m.line[0].y == 3 && m.line[1].x == 0 && m.line[1].y == 4);

    layout_too_small_msg(&m, 40, 10, 0);
    CHECKF(!strcmp(m.line[1].text, "to 60x16 (now 40x10)"), "%s", m.line[1].text);
    CHECK(m.line[0].x == 10 && m.line[0].y == 4 && m.line[1].x == 10 && m.line[1].y == 5);

    /* Cut to the width, whole characters, as many lines as rows. */
    layout_too_small_msg(&m, 5, 1, 1);
    CHECK(m.n == 1 && !strcmp(m.line[0].text, "enlar") && m.line[0].x == 0 && m.line[0].y == 0);
    layout_too_small_msg(&m, 6, 2, 1);
    CHECKF(m.n == 2 && !strcmp(m.line[1].text, "to 60×"), "%s", m.line[1].text);
    layout_too_small_msg(&m, 1, 1, 1);
    CHECK(m.n == 1 && !strcmp(m.line[0].text, "e"));
    layout_too_small_msg(&m, 0, 0, 1);
    CHECK(m.n == 0);
}

static int rect_inside(layout_rect r, int cols, int rows)
{
    return r.w == 0 || r.h == 0 || (r.x >= 0 && r.y >= 0 && r.w > 0 && r.h > 0 && r.x + r.w <= cols && r.y + r.h <= rows);
}

static int rects_overlap(layout_rect a, layout_rect b)
{
    if (a.w == 0 || a.h == 0 || b.w == 0 || b.h == 0)
        return 0;
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* Every size from 1×1 to 250×80: the panels (the charts standing for the
 * plots area) lie inside the screen and apart; the charts fill the plots
 * area exactly; what must show does. */
void test_layout_every_size(void)
{
    for (int cols = 1; cols <= 250; cols++)
        for (int rows = 1; rows <= 80; rows++) {
            layout l;
            layout_compute(&l, cols, rows);
            CHECKF(l.too_small == (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS), "%dx%d", cols, rows);
            layout_rect r[] = { l.title, l.tree, l.lrbar, l.sep, l.status, l.cmdline, l.footer,
                                l.chart[0], l.chart[1], l.chart[2] };
            int n = (int)(sizeof r / sizeof r[0]);
            for (int i = 0; i < n; i++) {
                CHECKF(rect_inside(r[i], cols, rows), "%dx%d: rect %d", cols, rows, i);
                for (int j = i + 1; j < n; j++)
                    CHECKF(!rects_overlap(r[i], r[j]), "%dx%d: rects %d and %d overlap", cols, rows, i, j);
            }
            CHECK(rect_inside(l.plots, cols, rows));
            if (l.too_small)
                continue;
            CHECKF(l.ncharts >= 1 && l.ncharts <= 3 && l.plots.w >= LAYOUT_PLOTS_MIN_W, "%dx%d", cols, rows);
            CHECK(l.tree.w >= (cols * LAYOUT_TREE_PERCENT + 50) / 100);
            CHECK(l.lrbar.w == 0 || l.plots.w >= LAYOUT_PLOTS_W);
            CHECKF((l.lrbar.w > 0) == (cols >= 115), "%dx%d", cols, rows);
            CHECK(l.title.w == cols && l.footer.y == rows - 1 && l.cmdline.y == rows - 2 && l.status.y == rows - 3);
            CHECK(l.sep.x + 1 == l.plots.x && l.plots.x + l.plots.w == cols);
            int y = l.plots.y;
            for (int i = 0; i < l.ncharts; i++) {
                CHECK(l.chart[i].x == l.plots.x && l.chart[i].w == l.plots.w && l.chart[i].y == y);
                CHECK(l.chart[i].h >= LAYOUT_CHART_MIN_H);
                y += l.chart[i].h;
            }
            CHECK(y == l.plots.y + l.plots.h);
            /* layout_charts alone stacks the same charts in the plots area */
            layout_rect chart[LAYOUT_CHART_COUNT];
            CHECK(layout_charts(l.plots, chart) == l.ncharts);
            for (int i = 0; i < LAYOUT_CHART_COUNT; i++)
                CHECK(rect_is(chart[i], l.chart[i].x, l.chart[i].y, l.chart[i].w, l.chart[i].h));
        }
}

/* The plan as "ID@x+w ..." for comparing. */
static void plan_text(char *buf, size_t cap, int width)
{
    static const char *const ids[] = { "name", "type", "out", "params", "train", "lr", "drift", "grad" };
    layout_tree_plan p;
    layout_tree_columns(&p, width);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < p.n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s@%d+%d", i ? " " : "", ids[p.col[i].id], p.col[i].x,
                                p.col[i].w);
}

void test_layout_tree_columns(void)
{
    char s[256];
    CHECK(layout_tree_full_width() == 76);
    static const struct {
        int width;
        const char *plan;
    } plans[] = {
        { 76, "name@0+20 type@21+11 out@33+9 params@43+6 train@50+5 lr@56+7 drift@64+5 grad@70+6" },
        { 110, "name@0+54 type@55+11 out@67+9 params@77+6 train@84+5 lr@90+7 drift@98+5 grad@104+6" },
        { 68, "name@0+24 out@25+9 params@35+6 train@42+5 lr@48+7 drift@56+5 grad@62+6" },
        { 44, "name@0+23 params@24+6 train@31+5 lr@37+7" },
        { 33, "name@0+19 train@20+5 lr@26+7" },
        { 20, "name@0+14 train@15+5" },
        { 19, "name@0+19" },
        { 5, "name@0+5" },
        { 0, "" },
    };
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
        plan_text(s, sizeof s, plans[i].width);
        CHECKF(!strcmp(s, plans[i].plan), "width %d: %s", plans[i].width, s);
    }
    CHECK(!strcmp(layout_tree_column_info[LAYOUT_COL_GRAD].header, "|grad|"));
    CHECK(layout_tree_column_info[LAYOUT_COL_PARAMS].right && !layout_tree_column_info[LAYOUT_COL_NAME].right);
}

/* Every width: the columns tile the width exactly, in order, and the
 * priorities are 0 .. LAYOUT_COL_COUNT-1 once each. */
void test_layout_tree_columns_every_width(void)
{
    int seen[LAYOUT_COL_COUNT] = { 0 };
    for (int i = 0; i < LAYOUT_COL_COUNT; i++) {
        int p = layout_tree_column_info[i].priority;
        CHECK(p >= 0 && p < LAYOUT_COL_COUNT && !seen[p]++);
    }
    CHECK(layout_tree_column_info[LAYOUT_COL_NAME].priority == 0);
    for (int width = 1; width <= 250; width++) {
        layout_tree_plan p;
        layout_tree_columns(&p, width);
        CHECK(p.n >= 1 && p.col[0].id == LAYOUT_COL_NAME && p.col[0].x == 0);
        for (int i = 1; i < p.n; i++) {
            CHECK(p.col[i].id > p.col[i - 1].id);
            CHECK(p.col[i].x == p.col[i - 1].x + p.col[i - 1].w + LAYOUT_COL_GAP);
        }
        CHECKF(p.col[p.n - 1].x + p.col[p.n - 1].w == width, "width %d", width);
    }
}
