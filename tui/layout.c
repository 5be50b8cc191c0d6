/* layout.c — rectangles for the screen and the tree's columns; see layout.h. */
#include "layout.h"

#include <stdio.h>
#include <string.h>

const layout_col_info layout_tree_column_info[LAYOUT_COL_COUNT] = {
#define LAYOUT_COL_INFO(id, hdr, wd, prio, align) \
    [LAYOUT_COL_##id] = { .header = hdr, .width = wd, .priority = prio, .right = align },
    LAYOUT_TREE_COLUMNS(LAYOUT_COL_INFO)
#undef LAYOUT_COL_INFO
};

static layout_rect layout_rect_of(int x, int y, int w, int h)
{
    return (layout_rect){ x, y, w, h };
}

void layout_compute(layout *l, int cols, int rows)
{
    cols = cols > 0 ? cols : 0;
    rows = rows > 0 ? rows : 0;
    *l = (layout){ .cols = cols, .rows = rows };
    if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
        l->too_small = 1;
        return;
    }

    int tree = (cols * LAYOUT_TREE_PERCENT + 50) / 100;
    int lr_cost = 1 + LAYOUT_LRBAR_W;   /* the gutter, then the bars */
    int use_lr = cols - tree - lr_cost - 1 >= LAYOUT_PLOTS_W;
    int rest = cols - (use_lr ? lr_cost : 0) - 1;   /* for tree and plots, the rule aside */
    int grown = rest - LAYOUT_PLOTS_W < layout_tree_full_width() ? rest - LAYOUT_PLOTS_W
                                                                 : layout_tree_full_width();
    tree = grown > tree ? grown : tree;
    int plots = rest - tree;

    int body_y = 1, body_h = rows - LAYOUT_CHROME_ROWS;
    l->title = layout_rect_of(0, 0, cols, 1);
    l->tree = layout_rect_of(0, body_y, tree, body_h);
    if (use_lr)
        l->lrbar = layout_rect_of(tree + 1, body_y, LAYOUT_LRBAR_W, body_h);
    l->sep = layout_rect_of(cols - plots - 1, body_y, 1, body_h);
    l->plots = layout_rect_of(cols - plots, body_y, plots, body_h);
    l->status = layout_rect_of(0, rows - 3, cols, 1);
    l->cmdline = layout_rect_of(0, rows - 2, cols, 1);
    l->footer = layout_rect_of(0, rows - 1, cols, 1);

    l->ncharts = layout_charts(l->plots, l->chart);
}

int layout_charts(layout_rect plots, layout_rect chart[LAYOUT_CHART_COUNT])
{
    int n = plots.h > 0 ? plots.h / LAYOUT_CHART_MIN_H : 0;
    n = n < LAYOUT_CHART_COUNT ? n : LAYOUT_CHART_COUNT;
    for (int i = 0; i < LAYOUT_CHART_COUNT; i++)
        chart[i] = layout_rect_of(0, 0, 0, 0);
    for (int i = 0, y = plots.y; i < n; i++) {
        int h = plots.h / n + (i < plots.h % n);
        chart[i] = layout_rect_of(plots.x, y, plots.w, h);
        y += h;
    }
    return n;
}

/* The first `chars` characters of s (UTF-8) into out, never a character
 * split. */
static void layout_cut(char *out, size_t cap, const char *s, int chars)
{
    size_t i = 0;
    int seen = 0;
    while (s[i] && i + 1 < cap) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && seen++ == chars)
            break;
        i++;
    }
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    memcpy(out, s, i);
    out[i] = '\0';
}

static int layout_chars(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

void layout_too_small_msg(layout_msg *m, int cols, int rows, int utf8)
{
    const char *times = utf8 ? "×" : "x";
    char text[LAYOUT_MSG_LINES][LAYOUT_MSG_BYTES];
    snprintf(text[0], sizeof text[0], "enlarge the terminal");
    snprintf(text[1], sizeof text[1], "to %d%s%d (now %d%s%d)", LAYOUT_MIN_COLS, times, LAYOUT_MIN_ROWS, cols,
             times, rows);
    *m = (layout_msg){ 0 };
    if (cols <= 0 || rows <= 0)
        return;
    m->n = rows < LAYOUT_MSG_LINES ? rows : LAYOUT_MSG_LINES;
    for (int i = 0; i < m->n; i++) {
        layout_cut(m->line[i].text, sizeof m->line[i].text, text[i], cols);
        m->line[i].x = (cols - layout_chars(m->line[i].text)) / 2;
        m->line[i].y = (rows - m->n) / 2 + i;
    }
}

int layout_tree_full_width(void)
{
    int w = LAYOUT_NAME_W;
    for (int i = 0; i < LAYOUT_COL_COUNT; i++)
        if (i != LAYOUT_COL_NAME)
            w += LAYOUT_COL_GAP + layout_tree_column_info[i].width;
    return w;
}

void layout_tree_columns(layout_tree_plan *plan, int width)
{
    *plan = (layout_tree_plan){ 0 };
    if (width <= 0)
        return;

    /* Take columns in priority order while they fit beside the name's
     * minimum; the first that does not fit ends the list. */
    int keep[LAYOUT_COL_COUNT] = { 0 };
    int used = layout_tree_column_info[LAYOUT_COL_NAME].width;
    keep[LAYOUT_COL_NAME] = 1;
    for (int p = 1, full = 0; p < LAYOUT_COL_COUNT && !full; p++)
        for (int id = 0; id < LAYOUT_COL_COUNT && !full; id++) {
            if (layout_tree_column_info[id].priority != p)
                continue;
            int need = LAYOUT_COL_GAP + layout_tree_column_info[id].width;
            full = used + need > width;
            keep[id] = !full;
            used += full ? 0 : need;
        }

    /* Below its minimum the name has all there is. */
    int name_w = width - used + layout_tree_column_info[LAYOUT_COL_NAME].width;
    for (int id = 0, x = 0; id < LAYOUT_COL_COUNT; id++) {
        if (!keep[id])
            continue;
        int w = id == LAYOUT_COL_NAME ? name_w : layout_tree_column_info[id].width;
        plan->col[plan->n].id = id;
        plan->col[plan->n].x = x;
        plan->col[plan->n].w = w;
        plan->n++;
        x += w + LAYOUT_COL_GAP;
    }
}
