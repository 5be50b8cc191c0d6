/* panel_pager.c — a bordered box over the screen for answers longer than
 * the command line (help, show confusion, show settings, show layers,
 * lr-find's curve): every row of the box is drawn, so nothing of the plots
 * shows through, and it scrolls to its last line at any height. Up/Down
 * (j/k) move a line, PgUp/PgDn (b/Space) a page, Home/End (g/G) to either
 * end; q, Escape or Enter close it, and any other key closes it and then
 * does what it does. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"
#include "screen.h"

typedef struct pager {
    char title[128];
    char *text;                  /* the lines, '\n' turned to '\0'; NULL when closed */
    char **line;
    int nline;
    int top;                     /* the first line shown */
    int page;                    /* lines the box showed last */
} pager;

static void pager_close(pager *g)
{
    free(g->text);
    free(g->line);
    *g = (pager){ 0 };
}

static void pager_open(pager *g, const char *title, const char *text)
{
    pager_close(g);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    int lines = 1;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    g->text = malloc(n + 1);
    g->line = malloc((size_t)lines * sizeof *g->line);
    if (!g->text || !g->line) {
        pager_close(g);
        return;
    }
    memcpy(g->text, text, n);
    g->text[n] = '\0';
    g->line[g->nline++] = g->text;
    for (size_t i = 0; i < n; i++)
        if (g->text[i] == '\n') {
            g->text[i] = '\0';
            g->line[g->nline++] = g->text + i + 1;
        }
    snprintf(g->title, sizeof g->title, "%s", title);
}

static void pager_update(ui_panel *p, const ui_event *ev)
{
    pager *g = p->state;
    if (ev->kind == UI_EV_PAGE)
        pager_open(g, ev->title ? ev->title : "", ev->text);
    else if (ev->kind == UI_EV_MODEL && g->text && !strcmp(g->title, "show layers"))
        pager_close(g);           /* a new model's layers are not these */
}

/* An edge of the box: the corners, the horizontal line, and label on it. */
static void edge(int y, int x, int w, const char *left, const char *right, const char *label)
{
    const char *h = screen_glyph("─", "-");
    screen_put(y, x, 1, left);
    for (int i = 1; i < w - 1; i++)
        screen_put(y, x + i, 1, h);
    screen_put(y, x + w - 1, 1, right);
    if (label && *label) {
        char text[256];
        snprintf(text, sizeof text, " %s ", label);
        screen_put(y, x + 2, w - 4, text);
    }
}

static void pager_draw(ui_panel *p, layout_rect r)
{
    pager *g = p->state;
    if (!g->text)
        return;
    int wide = screen_columns(g->title) + 8;
    for (int i = 0; i < g->nline; i++) {
        int c = screen_columns(g->line[i]);
        wide = c > wide ? c : wide;
    }
    int bw = wide + 4 < r.w - 2 ? wide + 4 : r.w - 2;
    bw = bw < 24 && r.w >= 24 ? 24 : bw;
    int bh = g->nline + 2 < r.h - 2 ? g->nline + 2 : r.h - 2;
    if (bw < 8 || bh < 3)
        return;
    g->page = bh - 2;
    int most = g->nline - g->page > 0 ? g->nline - g->page : 0;
    g->top = g->top > most ? most : g->top < 0 ? 0 : g->top;
    int x0 = r.x + (r.w - bw) / 2, y0 = r.y + (r.h - bh) / 2;
    /* A blank column each side of the box, so no fragment of the plots or
     * the tree touches its border (the rows above and below are the title
     * and the footer). */
    for (int y = y0; y < y0 + bh; y++) {
        if (x0 > r.x)
            screen_fill(y, x0 - 1, 1);
        if (x0 + bw < r.x + r.w)
            screen_fill(y, x0 + bw, 1);
    }
    const char *v = screen_glyph("│", "|");
    for (int i = 0; i < g->page; i++) {
        int y = y0 + 1 + i;
        screen_fill(y, x0, bw);
        screen_put(y, x0, 1, v);
        screen_put(y, x0 + 2, bw - 4, g->line[g->top + i]);
        screen_put(y, x0 + bw - 1, 1, v);
    }
    attron(A_BOLD);
    edge(y0, x0, bw, screen_glyph("┌", "+"), screen_glyph("┐", "+"), g->title);
    attroff(A_BOLD);
    char where[128];
    if (most > 0)
        snprintf(where, sizeof where, "%d-%d of %d  %s PgUp PgDn  q closes", g->top + 1,
                 g->top + g->page, g->nline, screen_glyph("↑↓", "Up Down"));
    else
        snprintf(where, sizeof where, "q closes");
    edge(y0 + bh - 1, x0, bw, screen_glyph("└", "+"), screen_glyph("┘", "+"), where);
}

static int pager_key(ui_panel *p, int key)
{
    pager *g = p->state;
    if (!g->text || key == KEY_RESIZE || key == KEY_MOUSE)
        return UI_PASS;
    int page = g->page > 1 ? g->page : 1;
    switch (key) {
    case KEY_UP: case 'k': g->top--; return UI_HANDLED;
    case KEY_DOWN: case 'j': g->top++; return UI_HANDLED;
    case KEY_PPAGE: case 'b': g->top -= page; return UI_HANDLED;
    case KEY_NPAGE: case ' ': g->top += page; return UI_HANDLED;
    case KEY_HOME: case 'g': g->top = 0; return UI_HANDLED;
    case KEY_END: case 'G': g->top = g->nline; return UI_HANDLED;   /* draw clamps it */
    case 'q': case 27: case '\r': case '\n': case KEY_ENTER: case '?': case KEY_F(1):
        pager_close(g);
        return UI_HANDLED;
    }
    pager_close(g);
    return UI_PASS;
}

static void pager_fini(ui_panel *p)
{
    pager_close(p->state);
}

const ui_panel_ops ui_pager_panel = {
    .name = "pager",
    .place = UI_AT_SCREEN,
    .size = sizeof(pager),
    .fini = pager_fini,
    .update = pager_update,
    .draw = pager_draw,
    .key = pager_key,
};
