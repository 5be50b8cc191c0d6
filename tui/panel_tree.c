/* panel_tree.c — the layer tree: one row per layer with its type, output
 * shape, parameters, whether it trains, its rate, drift and gradient norm
 * (added up over the leaves under a container); keys move, expand and
 * collapse, freeze and change rates; a click in the train column freezes. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "screen.h"

typedef struct node {
    ui_node n;
    int open, leaf;
} node;

typedef struct tree {
    node node[UI_NODES];
    int nnode;
    int row[UI_NODES];           /* visible nodes */
    int nrow, sel, top;
} tree;

static void visible_rows(tree *t)
{
    t->nrow = 0;
    for (int i = 0; i < t->nnode; i++) {
        int shown = 1;
        for (int p = t->node[i].n.parent; p >= 0 && shown; p = t->node[p].n.parent)
            shown = t->node[p].open;
        if (shown)
            t->row[t->nrow++] = i;
    }
    if (t->sel >= t->nrow)
        t->sel = t->nrow ? t->nrow - 1 : 0;
}

/* A new model: a new tree, closed. */
static void tree_update(ui_panel *p, const ui_event *ev)
{
    tree *t = p->state;
    if (ev->kind != UI_EV_MODEL)
        return;
    ui_node walk[UI_NODES];
    t->nnode = ui_walk(p->ui, walk, UI_NODES);
    for (int i = 0; i < t->nnode; i++)
        t->node[i] = (node){ .n = walk[i], .leaf = walk[i].l->nchild == 0 };
    if (app_model(&p->ui->a))
        t->sel = t->top = 0;
    visible_rows(t);
}

static int inside(const layer *l, const layer *top)
{
    for (; l; l = l->parent)
        if (l == top)
            return 1;
    return 0;
}

/* A node's figures, added up over the leaves under it. */
typedef struct node_view {
    size_t params;
    int frozen;                      /* 0 trainable, 1 frozen, 2 partly, -1 no parameters */
    double lr;                       /* NaN when the leaves differ */
    double drift, grad;
} node_view;

static node_view view_of(const ui *u, const layer *l)
{
    node_view v = { .frozen = -1, .lr = NAN };
    double w02 = 0, d2 = 0, g2 = 0;
    int open = 0, shut = 0, first = 1, mixed = 0;
    const model *m = app_model(&u->a);
    for (int i = 0; i < u->nlayers; i++) {
        const sess_layer *s = &u->layers[i];
        if (!inside(s->l, l))
            continue;
        for (int k = s->l->slice0; k < s->l->slice0 + s->l->nslice; k++)
            if (m->slice[k].kind != PARAM_STAT)
                v.params += m->slice[k].len;
        open += s->frozen != 1;
        shut += s->frozen != 0;
        if (first)
            v.lr = s->lr;
        else if (s->lr != v.lr)
            mixed = 1;
        first = 0;
        w02 += s->w02;
        d2 += s->d2;
        g2 += s->g2;
    }
    if (open + shut > 0)
        v.frozen = shut == 0 ? 0 : open == 0 ? 1 : 2;
    if (mixed)
        v.lr = NAN;
    v.drift = w02 > 0 ? sqrt(d2 / w02) : 0;
    v.grad = sqrt(g2);
    return v;
}

static void human(char *buf, size_t cap, double n)
{
    if (n >= 1e6)
        snprintf(buf, cap, "%.1fM", n / 1e6);
    else if (n >= 1e4)
        snprintf(buf, cap, "%.0fk", n / 1e3);
    else if (n >= 1e3)
        snprintf(buf, cap, "%.1fk", n / 1e3);
    else
        snprintf(buf, cap, "%.0f", n);
}

/* One cell of a row; the train column is drawn in its own colour. */
static void cell_text(char *cell, size_t cap, const ui *u, const node *n, const node_view *v, int id)
{
    const layer *l = n->n.l;
    const char *none = screen_glyph("–", "-");
    switch (id) {
    case LAYOUT_COL_NAME:
        snprintf(cell, cap, "%*s%s %s", 2 * n->n.depth, "",
                 n->leaf ? " " : n->open ? screen_glyph("▾", "v") : screen_glyph("▸", ">"), l->name);
        break;
    case LAYOUT_COL_TYPE:
        snprintf(cell, cap, "%s", l->ops->type);
        break;
    case LAYOUT_COL_OUT:
        if (l->out.h == 1 && l->out.w == 1)
            snprintf(cell, cap, "%d", l->out.c);
        else
            snprintf(cell, cap, "%d%s%d%s%d", l->out.c, screen_glyph("×", "x"), l->out.h,
                     screen_glyph("×", "x"), l->out.w);
        break;
    case LAYOUT_COL_PARAMS:
        human(cell, cap, (double)v->params);
        break;
    case LAYOUT_COL_TRAIN:
        snprintf(cell, cap, "%s", v->frozen < 0 ? none : v->frozen == 1 ? screen_glyph("❄", "*") :
                 v->frozen == 2 ? screen_glyph("◐", "~") : screen_glyph("✓", "+"));
        break;
    case LAYOUT_COL_LR:   /* a frozen layer's rate does nothing until it thaws */
        if (v->frozen < 0 || v->frozen == 1)
            snprintf(cell, cap, "%s", none);
        else if (isnan(v->lr))
            snprintf(cell, cap, "mixed");
        else
            snprintf(cell, cap, "%.3g", v->lr);
        break;
    case LAYOUT_COL_DRIFT:
        if (v->frozen < 0 || !u->a.sess)
            snprintf(cell, cap, "%s", none);
        else
            snprintf(cell, cap, "%.3f", v->drift);
        break;
    case LAYOUT_COL_GRAD:
        if (v->frozen < 0 || !u->a.sess || v->frozen == 1)
            snprintf(cell, cap, "%s", none);
        else
            snprintf(cell, cap, "%.3g", v->grad);
        break;
    default:
        cell[0] = '\0';
    }
}

static void tree_draw(ui_panel *p, layout_rect r)
{
    tree *t = p->state;
    ui *u = p->ui;
    layout_tree_plan plan;
    layout_tree_columns(&plan, r.w);
    /* Instructor mode: hidden columns leave their place blank. */
    static const int part_of[LAYOUT_COL_COUNT] = {
        [LAYOUT_COL_NAME] = -1, [LAYOUT_COL_TYPE] = APP_PART_TYPE, [LAYOUT_COL_OUT] = APP_PART_OUT,
        [LAYOUT_COL_PARAMS] = APP_PART_PARAMS, [LAYOUT_COL_TRAIN] = -1, [LAYOUT_COL_LR] = APP_PART_LR,
        [LAYOUT_COL_DRIFT] = APP_PART_DRIFT, [LAYOUT_COL_GRAD] = APP_PART_GRAD,
    };
    int kept = 0;
    for (int c = 0; c < plan.n; c++)
        if (part_of[plan.col[c].id] < 0 || !app_hidden(&u->a, (enum app_part)part_of[plan.col[c].id]))
            plan.col[kept++] = plan.col[c];
    plan.n = kept;
    attron(A_BOLD);
    for (int c = 0; c < plan.n; c++)
        screen_put(r.y, r.x + plan.col[c].x, plan.col[c].w, layout_tree_column_info[plan.col[c].id].header);
    attroff(A_BOLD);
    int body = r.h - 1;
    if (t->sel < t->top)
        t->top = t->sel;
    if (t->sel >= t->top + body)
        t->top = t->sel - body + 1;
    u->nrow_lr = 0;
    u->tree_rows = 1;
    for (int i = 0; i < body && t->top + i < t->nrow; i++, u->tree_rows++) {
        const node *n = &t->node[t->row[t->top + i]];
        node_view v = view_of(u, n->n.l);
        int y = r.y + 1 + i, selected = t->top + i == t->sel;
        if (selected)
            attron(screen_color(SCREEN_SEL) | A_REVERSE);
        screen_fill(y, r.x, r.w);
        char cell[96];
        for (int c = 0; c < plan.n; c++) {
            int x = r.x + plan.col[c].x, cw = plan.col[c].w, id = plan.col[c].id;
            cell_text(cell, sizeof cell, u, n, &v, id);
            if (id == LAYOUT_COL_TRAIN) {
                int pair = screen_color(v.frozen == 1 ? SCREEN_FROZEN : v.frozen == 2 ? SCREEN_PARTLY
                                                                                       : SCREEN_TRAIN);
                if (!selected)
                    attron(pair);
                screen_put(y, x, cw, cell);
                if (!selected)
                    attroff(pair);
                continue;
            }
            int len = screen_columns(cell);
            screen_put(y, layout_tree_column_info[id].right && len < cw ? x + cw - len : x, cw, cell);
        }
        if (selected)
            attroff(screen_color(SCREEN_SEL) | A_REVERSE);
        u->row_lr[u->nrow_lr++] = v.frozen == 1 ? NAN : v.lr;
    }
}

/* ---- keys ------------------------------------------------------------------------ */

static const node *selected(const tree *t)
{
    return t->nrow ? &t->node[t->row[t->sel]] : NULL;
}

static void open_node(tree *t)
{
    const node *n = selected(t);
    if (n && !n->leaf)
        t->node[t->row[t->sel]].open = 1;
    visible_rows(t);
}

static void close_node(tree *t)
{
    const node *n = selected(t);
    if (!n)
        return;
    if (!n->leaf && n->open)
        t->node[t->row[t->sel]].open = 0;
    else if (n->n.parent >= 0)
        for (int i = 0; i < t->nrow; i++)
            if (t->row[i] == n->n.parent)
                t->sel = i;
    visible_rows(t);
}

static void freeze(ui_panel *p)
{
    const node *n = selected(p->state);
    if (!n)
        return;
    node_view v = view_of(p->ui, n->n.l);
    if (v.frozen < 0) {
        ui_message(p->ui, 1, "%s has no parameters to freeze", n->n.l->path);
        return;
    }
    char line[LAYER_PATH_MAX + 16];
    snprintf(line, sizeof line, "%s %s", v.frozen == 0 ? "freeze" : "unfreeze", n->n.l->path);
    ui_run(p->ui, line);
}

static void lr_step(ui_panel *p, double factor)
{
    const node *n = selected(p->state);
    if (!n)
        return;
    node_view v = view_of(p->ui, n->n.l);
    double lr = isnan(v.lr) ? p->ui->a.set.lr : v.lr;
    if (v.frozen < 0)
        return;
    char line[LAYER_PATH_MAX + 48];
    snprintf(line, sizeof line, "lr %s %.3g", n->n.l->path, lr * factor);
    ui_run(p->ui, line);
}

static void edit_lr(ui_panel *p)
{
    const node *n = selected(p->state);
    if (!n)
        return;
    char text[LAYER_PATH_MAX + 8];
    snprintf(text, sizeof text, "lr %s ", n->n.l->path);
    ui_post(p->ui, &(ui_event){ .kind = UI_EV_EDIT, .text = text });
}

/* A click on a row selects it; on its train cell it also freezes or thaws. */
static void click(ui_panel *p)
{
    tree *t = p->state;
    layout_rect r = p->at;
    MEVENT m;
    if (getmouse(&m) != OK || m.y <= r.y || m.y >= r.y + r.h || m.x < r.x || m.x >= r.x + r.w)
        return;
    int row = t->top + m.y - r.y - 1;
    if (row >= t->nrow)
        return;
    t->sel = row;
    layout_tree_plan plan;
    layout_tree_columns(&plan, r.w);
    int x = m.x - r.x;
    for (int c = 0; c < plan.n; c++)
        if (plan.col[c].id == LAYOUT_COL_TRAIN && x >= plan.col[c].x && x < plan.col[c].x + plan.col[c].w)
            freeze(p);
}

/* The keys the workbench's table passes on, and mouse clicks. */
static int tree_key(ui_panel *p, int key)
{
    tree *t = p->state;
    switch (key) {
    case KEY_MOUSE:
        click(p);
        break;
    case KEY_DOWN: case 'j':
        if (t->sel + 1 < t->nrow)
            t->sel++;
        break;
    case KEY_UP: case 'k':
        if (t->sel > 0)
            t->sel--;
        break;
    case KEY_RIGHT: case 'l': case '\n': case '\r': case KEY_ENTER:
        open_node(t);
        break;
    case KEY_LEFT: case 'h':
        close_node(t);
        break;
    case ' ':
        freeze(p);
        break;
    case ']':
        lr_step(p, 2.0);
        break;
    case '[':
        lr_step(p, 0.5);
        break;
    case 'e':
        edit_lr(p);
        break;
    default:
        return UI_PASS;
    }
    return UI_HANDLED;
}

const ui_panel_ops ui_tree_panel = {
    .name = "tree",
    .place = UI_AT_TREE,
    .size = sizeof(tree),
    .update = tree_update,
    .draw = tree_draw,
    .key = tree_key,
};
