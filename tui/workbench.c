/* workbench.c — the curses workbench. The UI thread owns curses, readline
 * and every byte printed; training runs on the session's threads, and this
 * loop only ever polls (stdin and the session's event pipe) and draws. */
#include "workbench.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "app.h"
#include "chart.h"
#include "cli.h"
#include "commands.h"
#include "layout.h"
#include "paths.h"
#include "runlog.h"

enum { NODES_MAX = 1024, SERIES_MAX = 20000, MARKS_MAX = 512, HEAT_COLS = 256, LAYERS = 512 };
enum { VIEW_PLOTS, VIEW_HEATMAP, VIEW_CONFUSION, VIEW_COUNT };
enum { C_TITLE = 1, C_FROZEN, C_TRAIN, C_PARTLY, C_SEL, C_WARN, C_S1, C_S2, C_S3, C_S4, C_EVENT,
       C_DIM };

#define DEFAULT_MODEL "models/fashion-resnet.json"
#define DEFAULT_DATA "fashion:classes=5-9,shots=20,val=50"
#define FALLBACK_MODEL "models/shapes-resnet.json"
#define FALLBACK_DATA "shapes:classes=0-4,shots=20,val=50"

typedef struct node {
    const layer *l;
    int depth, parent, open, leaf;
} node;

typedef struct series {
    double *x, *y;
    int n;
} series;

typedef struct wb {
    app a;
    int utf8, color, contrast;
    node node[NODES_MAX];
    int nnode;
    int row[NODES_MAX];              /* visible nodes */
    int nrow, sel, top;
    sess_layer layers[LAYERS];
    int nlayers;
    int view, help, cmd_active, quit_asked;
    double smooth;                   /* the loss curve's EMA weight; 0 = raw */
    unsigned generation;             /* the app's model generation the tree was built for */
    /* a lesson: its lines, the next one, and what it waits for */
    char **lesson;
    int nlesson, next_line, lesson_waits_key;
    const char *lesson_file;
    char say[1024];                  /* the narration box, until a key */
    char msg[512];
    unsigned msg_seq;                /* counts messages, so a lesson's prompt keeps the last one */
    int msg_warn;
    /* plots */
    series step_loss;                /* x = step */
    series ev_x;                     /* per evaluation: step */
    series train_loss, val_loss, scratch_loss, val_acc, scratch_acc, delta;
    double marks[MARKS_MAX];
    int nmarks;
    long step;
    int epoch;
    double loss, img_s;
    /* per-layer gradient norms over time (heat[col * LAYERS + layer]) */
    float heat[HEAT_COLS * LAYERS];
    int heat_n;
    double last_heat;
    chart_cells cells[3];            /* one per plot panel, kept while its size holds */
    /* THAW_FRAME_STATS=FILE: what a frame costs, for the UI benchmark */
    long frames;
    double frame_sum, frame_max, key_max, key_sum, first_frame, t0;
    long keys_timed;
    layout lay;
} wb;

static wb *the_wb;                   /* readline's and the signal handlers' way back */
static volatile sig_atomic_t got_sigint, got_term;
static int curses_on;

static const char *glyph(const wb *w, const char *utf8, const char *ascii)
{
    return w->utf8 ? utf8 : ascii;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- terminal restore on every exit path --------------------------------- */

static void restore_terminal(void)
{
    if (curses_on) {
        curses_on = 0;
        endwin();
    }
}

static void on_crash(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_sigint(int sig)
{
    (void)sig;
    got_sigint++;
}

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    atexit(restore_terminal);
}

/* ---- messages and events --------------------------------------------------- */

static void message(wb *w, int warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void message(wb *w, int warn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->msg, sizeof w->msg, fmt, ap);
    va_end(ap);
    w->msg_warn = warn;
    w->msg_seq++;
}

static void wb_say(void *ctx, app_say_kind kind, const char *text)
{
    wb *w = ctx;
    if (kind == APP_PROGRESS || kind == APP_EVAL)
        return;                      /* the plots and the status line show these */
    if (kind == APP_SAY) {
        snprintf(w->say, sizeof w->say, "%s", text);
        return;
    }
    message(w, kind == APP_WARN, "%s", text);
}

static void push(series *s, double x, double y)
{
    if (s->n == SERIES_MAX) {        /* keep every other point of the oldest half */
        for (int i = 0; i < SERIES_MAX / 2; i++) {
            s->x[i] = s->x[2 * i];
            s->y[i] = s->y[2 * i];
        }
        memmove(s->x + SERIES_MAX / 4, s->x + SERIES_MAX / 2, SERIES_MAX / 2 * sizeof(double));
        memmove(s->y + SERIES_MAX / 4, s->y + SERIES_MAX / 2, SERIES_MAX / 2 * sizeof(double));
        s->n = SERIES_MAX / 4 + SERIES_MAX / 2;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

static void sample_heat(wb *w)
{
    if (w->heat_n == HEAT_COLS) {
        memmove(w->heat, w->heat + LAYERS, (size_t)(HEAT_COLS - 1) * LAYERS * sizeof(float));
        w->heat_n--;
    }
    for (int i = 0; i < w->nlayers; i++)
        w->heat[(size_t)w->heat_n * LAYERS + i] = (float)w->layers[i].grad_norm;
    w->heat_n++;
}

static void wb_event(void *ctx, const sess_event *ev)
{
    wb *w = ctx;
    w->epoch = ev->epoch;
    w->step = ev->step;
    switch (ev->kind) {
    case SEV_STEP:
        w->loss = ev->value;
        push(&w->step_loss, (double)ev->step, ev->value);
        break;
    case SEV_EVAL: {
        const sess_eval *e = &ev->eval;
        double x = (double)e->step;
        push(&w->ev_x, x, x);
        push(&w->train_loss, x, e->train_loss);
        push(&w->val_loss, x, e->val_loss);
        push(&w->scratch_loss, x, e->scratch_val_loss);
        push(&w->val_acc, x, e->val_acc);
        push(&w->scratch_acc, x, e->scratch_val_acc);
        push(&w->delta, x, e->delta);
        if (!isnan(e->img_s))
            w->img_s = e->img_s;
        break;
    }
    case SEV_CHANGE:
        if (w->nmarks < MARKS_MAX)
            w->marks[w->nmarks++] = (double)ev->step;
        break;
    case SEV_NONFINITE:
    case SEV_STATE:
    case SEV_LRFIND:
    case SEV_ERROR:
        break;
    }
}

/* ---- the tree ---------------------------------------------------------------- */

static void add_nodes(wb *w, const layer *l, int depth, int parent)
{
    for (int i = 0; i < l->nchild && w->nnode < NODES_MAX; i++) {
        const layer *c = l->child[i];
        int me = w->nnode++;
        w->node[me] = (node){ .l = c, .depth = depth, .parent = parent, .leaf = c->nchild == 0 };
        add_nodes(w, c, depth + 1, me);
    }
}

static void build_tree(wb *w)
{
    w->nnode = 0;
    const model *m = app_model(&w->a);
    if (m)
        add_nodes(w, m->root, 0, -1);
    w->sel = w->top = 0;
}

static void visible_rows(wb *w);

/* A new model (load, reset): a new tree, empty plots. */
static void model_changed(wb *w)
{
    w->generation = w->a.generation;
    series *all[] = { &w->step_loss, &w->ev_x, &w->train_loss, &w->val_loss, &w->scratch_loss,
                      &w->val_acc, &w->scratch_acc, &w->delta };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        all[i]->n = 0;
    w->nmarks = 0;
    w->heat_n = 0;
    w->epoch = 0;
    w->step = 0;
    w->nnode = 0;
    w->nlayers = 0;
    if (app_model(&w->a))
        build_tree(w);
    visible_rows(w);
}

static void visible_rows(wb *w)
{
    w->nrow = 0;
    for (int i = 0; i < w->nnode; i++) {
        int shown = 1;
        for (int p = w->node[i].parent; p >= 0 && shown; p = w->node[p].parent)
            shown = w->node[p].open;
        if (shown)
            w->row[w->nrow++] = i;
    }
    if (w->sel >= w->nrow)
        w->sel = w->nrow ? w->nrow - 1 : 0;
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

static node_view view_of(const wb *w, const layer *l)
{
    node_view v = { .frozen = -1, .lr = NAN };
    double w02 = 0, d2 = 0, g2 = 0;
    int open = 0, shut = 0, first = 1, mixed = 0;
    const model *m = app_model(&w->a);
    for (int i = 0; i < w->nlayers; i++) {
        const sess_layer *s = &w->layers[i];
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

/* Display columns of a UTF-8 string. */
static int columns(const char *text)
{
    wchar_t wide[256];
    size_t n = mbstowcs(wide, text, sizeof wide / sizeof wide[0] - 1);
    if (n == (size_t)-1)
        return (int)strlen(text);
    wide[n] = L'\0';
    int c = wcswidth(wide, n);
    return c < 0 ? (int)n : c;
}

/* text at (y, x), cut to maxw columns (UTF-8 aware: × and ❄ take one). */
static void put(int y, int x, int maxw, const char *text)
{
    if (maxw <= 0)
        return;
    size_t bytes = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (int cols = 0; text[bytes] && cols < maxw;) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, text + bytes, MB_CUR_MAX, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
            break;
        int cw = wcwidth(wc);
        if (cols + (cw > 0 ? cw : 0) > maxw)
            break;
        cols += cw > 0 ? cw : 0;
        bytes += n;
    }
    mvaddnstr(y, x, text, (int)bytes);
}

static void fill_row(int y, int x, int wdt)
{
    for (int i = 0; i < wdt; i++)
        mvaddch(y, x + i, ' ');
}

static int color(const wb *w, int pair)
{
    return w->color ? COLOR_PAIR(pair) : 0;
}

/* The learning rate on a log scale, 1e-6 .. 1, as a bar of width wdt. */
static void lr_bar(const wb *w, int y, int x, int wdt, double lr)
{
    if (wdt < 2 || isnan(lr) || lr <= 0)
        return;
    double f = (log10(lr) + 6.0) / 6.0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    int n = (int)lround(f * wdt);
    attron(color(w, C_S2));
    for (int i = 0; i < n; i++)
        mvaddstr(y, x + i, glyph(w, "▬", "="));
    attroff(color(w, C_S2));
}

static void draw_tree(wb *w, layout_rect r, layout_rect bar)
{
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
        if (part_of[plan.col[c].id] < 0 || !app_hidden(&w->a, (enum app_part)part_of[plan.col[c].id]))
            plan.col[kept++] = plan.col[c];
    plan.n = kept;
    if (app_hidden(&w->a, APP_PART_LRBAR))
        bar.w = 0;
    attron(A_BOLD);
    for (int c = 0; c < plan.n; c++)
        put(r.y, r.x + plan.col[c].x, plan.col[c].w, layout_tree_column_info[plan.col[c].id].header);
    if (bar.w > 0)
        put(r.y, bar.x, bar.w, "lr/depth");
    attroff(A_BOLD);
    int body = r.h - 1;
    if (w->sel < w->top)
        w->top = w->sel;
    if (w->sel >= w->top + body)
        w->top = w->sel - body + 1;
    for (int i = 0; i < body && w->top + i < w->nrow; i++) {
        const node *n = &w->node[w->row[w->top + i]];
        node_view v = view_of(w, n->l);
        int y = r.y + 1 + i, selected = w->top + i == w->sel;
        if (selected)
            attron(color(w, C_SEL) | A_REVERSE);
        fill_row(y, r.x, r.w);
        char cell[96];
        for (int c = 0; c < plan.n; c++) {
            int x = r.x + plan.col[c].x, cw = plan.col[c].w;
            const layout_col_info *info = &layout_tree_column_info[plan.col[c].id];
            switch (plan.col[c].id) {
            case LAYOUT_COL_NAME:
                snprintf(cell, sizeof cell, "%*s%s %s", 2 * n->depth, "",
                         n->leaf ? " " : n->open ? glyph(w, "▾", "v") : glyph(w, "▸", ">"), n->l->name);
                break;
            case LAYOUT_COL_TYPE:
                snprintf(cell, sizeof cell, "%s", n->l->ops->type);
                break;
            case LAYOUT_COL_OUT:
                if (n->l->out.h == 1 && n->l->out.w == 1)
                    snprintf(cell, sizeof cell, "%d", n->l->out.c);
                else
                    snprintf(cell, sizeof cell, "%d%s%d%s%d", n->l->out.c, glyph(w, "×", "x"),
                             n->l->out.h, glyph(w, "×", "x"), n->l->out.w);
                break;
            case LAYOUT_COL_PARAMS:
                human(cell, sizeof cell, (double)v.params);
                break;
            case LAYOUT_COL_TRAIN:
                snprintf(cell, sizeof cell, "%s", v.frozen < 0 ? glyph(w, "–", "-") :
                         v.frozen == 1 ? glyph(w, "❄", "*") : v.frozen == 2 ? glyph(w, "◐", "~") :
                         glyph(w, "✓", "+"));
                if (!selected)
                    attron(color(w, v.frozen == 1 ? C_FROZEN : v.frozen == 2 ? C_PARTLY : C_TRAIN));
                put(y, x, cw, cell);
                if (!selected)
                    attroff(color(w, v.frozen == 1 ? C_FROZEN : v.frozen == 2 ? C_PARTLY : C_TRAIN));
                continue;
            case LAYOUT_COL_LR:
                if (v.frozen < 0)
                    snprintf(cell, sizeof cell, "%s", glyph(w, "–", "-"));
                else if (isnan(v.lr))
                    snprintf(cell, sizeof cell, "mixed");
                else
                    snprintf(cell, sizeof cell, "%.3g", v.lr);
                break;
            case LAYOUT_COL_DRIFT:
                if (v.frozen < 0 || !w->a.sess)
                    snprintf(cell, sizeof cell, "%s", glyph(w, "–", "-"));
                else
                    snprintf(cell, sizeof cell, "%.3f", v.drift);
                break;
            case LAYOUT_COL_GRAD:
                if (v.frozen < 0 || !w->a.sess || v.frozen == 1)
                    snprintf(cell, sizeof cell, "%s", glyph(w, "–", "-"));
                else
                    snprintf(cell, sizeof cell, "%.3g", v.grad);
                break;
            default:
                cell[0] = '\0';
            }
            int len = columns(cell);
            put(y, info->right && len < cw ? x + cw - len : x, cw, cell);
        }
        if (selected)
            attroff(color(w, C_SEL) | A_REVERSE);
        if (bar.w > 0)
            lr_bar(w, y, bar.x, bar.w, v.frozen == 1 ? NAN : v.lr);
    }
}

/* ---- plots and views ------------------------------------------------------------ */

static void draw_cells(wb *w, const chart_cells *c, layout_rect r)
{
    /* chart colour index -> colour pair */
    static const int pair[] = { 0, C_EVENT, C_DIM, C_WARN, C_S1, C_S2, C_S3, C_S4 };
    for (int y = 0; y < c->h && y < r.h; y++) {
        move(r.y + y, r.x);
        for (int x = 0; x < c->w && x < r.w; x++) {
            int k = c->color[y * c->w + x];
            int p = k > 0 && k < (int)(sizeof pair / sizeof pair[0]) ? pair[k] : 0;
            if (p)
                attron(color(w, p));
            addstr(c->text[y * c->w + x]);
            if (p)
                attroff(color(w, p));
        }
    }
}

static void draw_chart(wb *w, int slot, layout_rect r, const chart *ch)
{
    chart_cells *c = &w->cells[slot];
    if (r.w < 1 || r.h < 1)
        return;
    if (c->w != r.w || c->h != r.h) {
        chart_cells_free(c);
        if (chart_cells_init(c, r.w, r.h))
            return;
    }
    chart_render(ch, c, w->utf8);
    draw_cells(w, c, r);
}

static void draw_plots(wb *w, const layout_rect *plot, int nplot)
{
    enum { TRAIN = CHART_COLOR_SERIES, TRANSFER, SCRATCH, DELTA };
    chart_series loss[] = {
        { "train", w->step_loss.x, w->step_loss.y, w->step_loss.n, TRAIN },
        { "val", w->ev_x.x, w->val_loss.y, w->val_loss.n, TRANSFER },
        { "scratch val", w->ev_x.x, w->scratch_loss.y, w->scratch_loss.n, SCRATCH },
    };
    chart_series acc[] = {
        { "transfer", w->ev_x.x, w->val_acc.y, w->val_acc.n, TRANSFER },
        { "scratch", w->ev_x.x, w->scratch_acc.y, w->scratch_acc.n, SCRATCH },
    };
    chart_series delta[] = { { "val", w->ev_x.x, w->delta.y, w->delta.n, DELTA } };
    chart charts[3];
    memset(charts, 0, sizeof charts);
    charts[0] = (chart){ .title = "loss", .series = loss, .nseries = 3, .smooth = w->smooth };
    charts[1] = (chart){ .title = "val accuracy", .series = acc, .nseries = 2, .fixed_y = 1,
                         .ymin = 0, .ymax = 1, .label_scale = 100, .label_suffix = "%" };
    charts[2] = (chart){ .title = w->utf8 ? "Δtransfer (points)" : "delta-transfer (points)", .series = delta, .nseries = 1, .has_ref = 1,
                         .ref = 0, .label_scale = 100 };
    for (int i = 0; i < 3; i++) {
        charts[i].events = w->marks;
        charts[i].nevents = w->nmarks;
    }
    /* The charts not hidden, most telling first when fewer fit: accuracy,
     * then Δtransfer, then loss; shown in their usual order. */
    static const int rank[3] = { 1, 2, 0 };
    static const enum app_part part[3] = { APP_PART_LOSS, APP_PART_ACCURACY, APP_PART_DELTA };
    int want[3] = { 0, 0, 0 }, n = 0;
    for (int k = 0; k < 3 && n < nplot; k++)
        if (!app_hidden(&w->a, part[rank[k]])) {
            want[rank[k]] = 1;
            n++;
        }
    for (int c = 0, slot = 0; c < 3; c++)
        if (want[c])
            draw_chart(w, slot, plot[slot], &charts[c]), slot++;
}

static void draw_heatmap(wb *w, layout_rect r)
{
    static const char *const shade_utf8[] = { " ", "░", "▒", "▓", "█" };
    static const char *const shade_ascii[] = { " ", ".", ":", "*", "#" };
    attron(A_BOLD);
    put(r.y, r.x, r.w, "gradient norm by layer over time (frozen layers stay blank)");
    attroff(A_BOLD);
    double top = 0;
    for (int c = 0; c < w->heat_n; c++)
        for (int i = 0; i < w->nlayers; i++)
            if (w->heat[(size_t)c * LAYERS + i] > top)
                top = w->heat[(size_t)c * LAYERS + i];
    int label = 16, cols = r.w - label - 1;
    for (int i = 0; i < w->nlayers && i < r.h - 1; i++) {
        put(r.y + 1 + i, r.x, label, w->layers[i].l->path);
        for (int c = 0; c < cols; c++) {
            int src = w->heat_n - cols + c;
            double v = src >= 0 && top > 0 ? w->heat[(size_t)src * LAYERS + i] / top : 0;
            int k = v <= 0 ? 0 : v < 0.05 ? 1 : v < 0.2 ? 2 : v < 0.5 ? 3 : 4;
            mvaddstr(r.y + 1 + i, r.x + label + 1 + c, w->utf8 ? shade_utf8[k] : shade_ascii[k]);
        }
    }
}

static void draw_confusion(wb *w, layout_rect r)
{
    int k = w->a.task.nclass;
    attron(A_BOLD);
    put(r.y, r.x, r.w, "confusion matrix of the last evaluation (rows: true class)");
    attroff(A_BOLD);
    if (!w->a.sess || w->ev_x.n == 0 || k < 1) {
        put(r.y + 2, r.x, r.w, "no evaluation yet: train (t), or type :eval");
        return;
    }
    long *count = calloc((size_t)k * k, sizeof(long));
    if (!count)
        return;
    sess_confusion c = { .count = count };
    sess_confusion_get(w->a.sess, &c);
    char cell[64];
    for (int i = 0; i < k && i + 2 < r.h; i++) {
        long all = 0;
        snprintf(cell, sizeof cell, "%-12.12s", w->a.task.name[i]);
        put(r.y + 2 + i, r.x, r.w, cell);
        for (int j = 0; j < k; j++) {
            long n = count[(size_t)i * k + j];
            all += n;
            if (13 + 6 * j + 6 > r.w - 8)
                continue;
            snprintf(cell, sizeof cell, "%5ld", n);
            if (i == j)
                attron(A_BOLD);
            put(r.y + 2 + i, r.x + 13 + 6 * j, 6, cell);
            if (i == j)
                attroff(A_BOLD);
        }
        snprintf(cell, sizeof cell, "%5.1f%%", all ? 100.0 * count[(size_t)i * k + i] / all : 0.0);
        put(r.y + 2 + i, r.x + r.w - 7, 7, cell);
    }
    free(count);
}

/* ---- status, command line, help ------------------------------------------------- */

static void draw_status(wb *w, layout_rect r)
{
    char text[512], bar[128] = "";
    if (!w->a.sess) {
        snprintf(text, sizeof text, " ready %s %zu of %zu parameters train %s strategy: %s %s t trains "
                 "%d epochs", glyph(w, "·", "-"), app_count(&w->a, 1), app_count(&w->a, 0),
                 glyph(w, "·", "-"), w->a.strategy_text[0] ? w->a.strategy_text : "as loaded",
                 glyph(w, "·", "-"), w->a.set.epochs);
        attron(A_REVERSE);
        fill_row(r.y, r.x, r.w);
        put(r.y, r.x, r.w, text);
        attroff(A_REVERSE);
        return;
    }
    int target = w->a.target_epoch, running = w->a.sess && sess_state_now(w->a.sess) != SESS_IDLE;
    int per = w->a.have_data || w->a.sess ?
              (w->a.task.split[TASK_TRAIN].n + w->a.set.sess.batch - 1) / w->a.set.sess.batch : 1;
    double done = target > 0 ? (w->epoch + (per > 0 ? (double)(w->step % per) / per : 0)) / target : 0;
    if (done > 1)
        done = 1;
    int cells = 12, full = (int)(done * cells);
    size_t n = 0;
    for (int i = 0; i < cells && n + 4 < sizeof bar; i++)
        n += (size_t)snprintf(bar + n, sizeof bar - n, "%s", i < full ? glyph(w, "█", "#") : " ");
    const sess_eval *e = &w->a.last;
    char acc[160] = "";
    if (!isnan(e->val_acc))
        snprintf(acc, sizeof acc, "  val %.1f%%%s", 100 * e->val_acc, "");
    if (!isnan(e->scratch_val_acc)) {
        size_t k = strlen(acc);
        snprintf(acc + k, sizeof acc - k, "  scratch %.1f%%  %s %+.1f", 100 * e->scratch_val_acc,
                 glyph(w, "Δ", "delta"), 100 * e->delta);
    }
    snprintf(text, sizeof text, " %s %d/%d %s%s%s%s  loss %.3f  %.0f img/s  %s  %s",
             running ? (sess_state_now(w->a.sess) == SESS_PAUSED ? "paused" : "epoch") : "epoch",
             w->epoch, target, glyph(w, "▕", "["), bar, glyph(w, "▏", "]"), acc, w->loss, w->img_s,
             w->a.strategy_text[0] ? w->a.strategy_text : "plan",
             w->a.run ? runlog_dir(w->a.run) : "");
    attron(A_REVERSE);
    fill_row(r.y, r.x, r.w);
    put(r.y, r.x, r.w, text);
    attroff(A_REVERSE);
    if (!isnan(e->delta) && e->delta < 0) {
        attron(color(w, C_WARN) | A_BOLD);
        put(r.y, r.x + r.w - 18 > 0 ? r.x + r.w - 18 : r.x, 18, " negative transfer");
        attroff(color(w, C_WARN) | A_BOLD);
    }
}

/* The command line: readline's buffer while typing, the last message otherwise. */
static void draw_command(wb *w, layout_rect r)
{
    fill_row(r.y, r.x, r.w);
    if (w->cmd_active) {
        char line[1024];
        snprintf(line, sizeof line, ":%s", rl_line_buffer ? rl_line_buffer : "");
        put(r.y, r.x, r.w, line);
        return;
    }
    if (w->msg_warn)
        attron(color(w, C_WARN) | A_BOLD);
    put(r.y, r.x, r.w, w->msg);
    if (w->msg_warn)
        attroff(color(w, C_WARN) | A_BOLD);
}

/* ---- lessons ------------------------------------------------------------------------- */

static int lesson_load(wb *w, const char *path)
{
    char where[PATHS_MAX];
    path = paths_find(path, where, sizeof where);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "thaw: cannot open the lesson %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[8192];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (w->nlesson == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(w->lesson, (size_t)cap * sizeof *grown);
            if (!grown)
                break;
            w->lesson = grown;
        }
        if (!(w->lesson[w->nlesson] = strdup(line)))
            break;
        w->nlesson++;
    }
    fclose(f);
    w->lesson_file = path;
    return 0;
}

/* Runs the lesson's lines until one waits: for the presenter's key
 * (pause-for-key), or for training to finish before the next line. */
static void lesson_tick(wb *w)
{
    unsigned seq = w->msg_seq;
    while (w->next_line < w->nlesson && !w->lesson_waits_key) {
        if (w->a.sess && sess_busy(w->a.sess))
            return;
        thaw_err err = {0};
        const char *line = w->lesson[w->next_line++];
        if (app_exec_lesson(&w->a, line, &err)) {
            message(w, 1, "%s:%d: %s (the lesson stops here)", w->lesson_file, w->next_line, err.msg);
            w->next_line = w->nlesson;
            return;
        }
        if (w->generation != w->a.generation)
            model_changed(w);
        if (w->a.wait_key) {
            w->a.wait_key = 0;
            w->lesson_waits_key = 1;
            if (w->msg_seq != seq) {   /* a line said something (expect's verdict): keep it */
                char said[sizeof w->msg];
                snprintf(said, sizeof said, "%s", w->msg);
                message(w, w->msg_warn, "%s; > goes on (line %d of %d)", said, w->next_line, w->nlesson);
            } else {
                message(w, 0, "lesson: press > to go on (line %d of %d)", w->next_line, w->nlesson);
            }
        }
    }
}

static void key_lesson(wb *w)
{
    if (w->next_line >= w->nlesson) {
        message(w, 1, w->nlesson ? "the lesson is over" : "no lesson (thaw --lesson FILE)");
        return;
    }
    w->lesson_waits_key = 0;
}

/* The narration box: the text wrapped at spaces (never inside a UTF-8
 * character), as many lines as the screen allows, and how to go on. */
static void draw_say(wb *w, int rows, int cols)
{
    enum { SAY_LINES = 40 };
    int bw = cols - 8 < 72 ? cols - 8 : 72, most = rows - 6 < SAY_LINES ? rows - 6 : SAY_LINES;
    if (bw < 20 || most < 1)
        return;
    char lines[SAY_LINES][128];
    int n = 0;
    const char *p = w->say;
    while (*p && n < most) {
        int len = (int)strlen(p), take = len < bw - 4 ? len : bw - 4;
        if (take < len) {
            int k = take;
            while (k > 0 && p[k] != ' ')
                k--;
            if (k > 0)
                take = k;
            else
                while (take > 0 && (p[take] & 0xC0) == 0x80)
                    take--;
        }
        snprintf(lines[n++], sizeof lines[0], "%.*s", take, p);
        p += take;
        while (*p == ' ')
            p++;
    }
    if (*p)   /* more than fits: the last line says so */
        snprintf(lines[n - 1], sizeof lines[0], "%s", w->utf8 ? "… (enlarge the terminal for the rest)"
                                                              : "... (enlarge the terminal for the rest)");
    const char *hint = w->next_line < w->nlesson ? "any key closes, > goes on" : "any key closes";
    int bh = n + 5, x0 = (cols - bw) / 2, y0 = (rows - bh) / 2;
    attron(A_REVERSE | A_BOLD);
    for (int y = 0; y < bh; y++)
        fill_row(y0 + y, x0, bw);
    for (int i = 0; i < n; i++)
        put(y0 + 2 + i, x0 + 2, bw - 4, lines[i]);
    attroff(A_BOLD);
    put(y0 + bh - 2, x0 + bw - 2 - (int)strlen(hint), (int)strlen(hint), hint);
    attroff(A_REVERSE);
}

/* ---- keys: one table for dispatch and for help ------------------------------------ */

typedef void (*key_fn)(wb *w);

static const node *selected(const wb *w)
{
    return w->nrow ? &w->node[w->row[w->sel]] : NULL;
}

static void run_command(wb *w, const char *line)
{
    thaw_err err = {0};
    if (app_exec(&w->a, line, &err))
        message(w, 1, "%s", err.msg);
    else if (strncmp(line, "show", 4) && strncmp(line, "help", 4))
        message(w, 0, "%s", line);
    if (w->generation != w->a.generation)
        model_changed(w);
    w->nlayers = app_layers(&w->a, w->layers, LAYERS);
}

static void key_down(wb *w) { if (w->sel + 1 < w->nrow) w->sel++; }
static void key_up(wb *w) { if (w->sel > 0) w->sel--; }
static void key_open(wb *w)
{
    const node *n = selected(w);
    if (n && !n->leaf)
        w->node[w->row[w->sel]].open = 1;
    visible_rows(w);
}
static void key_close(wb *w)
{
    const node *n = selected(w);
    if (!n)
        return;
    if (!n->leaf && n->open)
        w->node[w->row[w->sel]].open = 0;
    else if (n->parent >= 0)
        for (int i = 0; i < w->nrow; i++)
            if (w->row[i] == n->parent)
                w->sel = i;
    visible_rows(w);
}

static void key_freeze(wb *w)
{
    const node *n = selected(w);
    if (!n)
        return;
    node_view v = view_of(w, n->l);
    if (v.frozen < 0) {
        message(w, 1, "%s has no parameters to freeze", n->l->path);
        return;
    }
    char line[LAYER_PATH_MAX + 16];
    snprintf(line, sizeof line, "%s %s", v.frozen == 0 ? "freeze" : "unfreeze", n->l->path);
    run_command(w, line);
}

static void lr_step(wb *w, double factor)
{
    const node *n = selected(w);
    if (!n)
        return;
    node_view v = view_of(w, n->l);
    double lr = isnan(v.lr) ? w->a.set.lr : v.lr;
    if (v.frozen < 0)
        return;
    char line[LAYER_PATH_MAX + 48];
    snprintf(line, sizeof line, "lr %s %.3g", n->l->path, lr * factor);
    run_command(w, line);
}

static void key_lr_up(wb *w) { lr_step(w, 2.0); }
static void key_lr_down(wb *w) { lr_step(w, 0.5); }

static void open_command(wb *w, const char *text);
static void key_command(wb *w) { open_command(w, ""); }
static void key_edit_lr(wb *w)
{
    const node *n = selected(w);
    if (!n)
        return;
    char text[LAYER_PATH_MAX + 8];
    snprintf(text, sizeof text, "lr %s ", n->l->path);
    open_command(w, text);
}

static void key_train(wb *w)
{
    if (w->a.sess && sess_state_now(w->a.sess) == SESS_PAUSED)
        run_command(w, "resume");
    else
        run_command(w, "train");
}

static void key_pause(wb *w)
{
    if (!w->a.sess || sess_state_now(w->a.sess) == SESS_IDLE)
        message(w, 1, "nothing is training (t trains)");
    else
        run_command(w, sess_state_now(w->a.sess) == SESS_PAUSED ? "resume" : "pause");
}

static void key_save(wb *w)
{
    if (!w->a.run) {
        message(w, 1, "nothing to save yet: train first, or type :save FILE.json");
        return;
    }
    char line[TASK_PATH_MAX + 32];
    snprintf(line, sizeof line, "save %s/model.json", runlog_dir(w->a.run));
    run_command(w, line);
}

static void key_step(wb *w) { run_command(w, "step"); }
static void key_view(wb *w) { w->view = (w->view + 1) % VIEW_COUNT; }
static void key_smooth(wb *w) { w->smooth = w->smooth > 0 ? 0.0 : 0.6; }
static void key_help(wb *w) { w->help = !w->help; }
static void key_quit(wb *w)
{
    if (w->a.sess && sess_state_now(w->a.sess) != SESS_IDLE && !w->quit_asked) {
        message(w, 1, "training is in progress; q again stops it, saves its last checkpoint and quits");
        w->quit_asked = 1;
        return;
    }
    w->a.quit = 1;
}
static void key_fe(wb *w) { run_command(w, "strategy feature-extraction"); }
static void key_ft(wb *w) { run_command(w, "strategy finetune"); }
static void key_gradual(wb *w) { run_command(w, "strategy gradual every=2"); }
static void key_disc(wb *w) { run_command(w, "strategy discriminative factor=10"); }
static void key_decay(wb *w) { run_command(w, "strategy layer-decay decay=0.5"); }

static const struct key {
    int code;
    const char *name, *help;
    key_fn fn;
} keys[] = {
    { KEY_DOWN, "Down j", "next layer", key_down },
    { 'j', NULL, NULL, key_down },
    { KEY_UP, "Up k", "previous layer", key_up },
    { 'k', NULL, NULL, key_up },
    { KEY_RIGHT, "Right l", "expand", key_open },
    { 'l', NULL, NULL, key_open },
    { '\n', NULL, NULL, key_open },
    { '\r', NULL, NULL, key_open },
    { KEY_ENTER, NULL, NULL, key_open },
    { KEY_LEFT, "Left h", "collapse, or go to the parent", key_close },
    { 'h', NULL, NULL, key_close },
    { ' ', "space", "freeze or thaw the selected layer (and everything under it)", key_freeze },
    { ']', "]", "double the selected layer's learning rate", key_lr_up },
    { '[', "[", "halve the selected layer's learning rate", key_lr_down },
    { 'e', "e", "type an exact learning rate for the selected layer", key_edit_lr },
    { '1', "1", "strategy: feature extraction (only the head trains)", key_fe },
    { '2', "2", "strategy: fine-tune everything", key_ft },
    { '3', "3", "strategy: gradual unfreezing, a group every 2 epochs", key_gradual },
    { '4', "4", "strategy: discriminative rates (body at a tenth)", key_disc },
    { '5', "5", "strategy: layer-wise decay 0.5", key_decay },
    { 't', "t", "train (set epochs), or resume", key_train },
    { 'p', "p", "pause or resume", key_pause },
    { 'n', "n", "one step, then pause", key_step },
    { 's', "s", "save the transferred model into the run folder", key_save },
    { 'v', "v", "switch view: plots, gradient heatmap, confusion matrix", key_view },
    { 'm', "m", "smooth the loss curve, or show it raw", key_smooth },
    { ':', ":", "command line (tab completes; help lists the commands)", key_command },
    { '>', ">", "the lesson's next step (thaw --lesson FILE)", key_lesson },
    { '?', "? F1", "this help", key_help },
    { KEY_F(1), NULL, NULL, key_help },
    { 'q', "q", "quit", key_quit },
};

static void draw_help(int rows, int cols)
{
    int n = 0, verbs;
    const app_verb *v = app_verbs(&verbs);
    int hw = cols - 4 < 100 ? cols - 4 : 100, hh = rows - 2;
    int x0 = (cols - hw) / 2, y0 = 1;
    for (int y = 0; y < hh; y++)
        fill_row(y0 + y, x0, hw);
    attron(A_BOLD);
    put(y0, x0 + 1, hw - 2, "keys  (? or F1 closes)");
    attroff(A_BOLD);
    char line[512];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && 1 + n < hh; i++) {
        if (!keys[i].name)
            continue;
        snprintf(line, sizeof line, "%-9s %s", keys[i].name, keys[i].help);
        put(y0 + 1 + n++, x0 + 2, hw - 3, line);
    }
    if (2 + n < hh) {
        attron(A_BOLD);
        put(y0 + 2 + n++, x0 + 1, hw - 2, "commands at the : line (also thaw repl and lesson files)");
        attroff(A_BOLD);
    }
    for (int i = 0; i < verbs && 2 + n < hh; i++) {
        snprintf(line, sizeof line, "%-9s %-30s %s", v[i].name, v[i].args, v[i].help);
        put(y0 + 2 + n++, x0 + 2, hw - 3, line);
    }
}

/* ---- readline inside curses -------------------------------------------------------- */

static int rl_input;
static int rl_input_avail;

static int wb_getc(FILE *f)
{
    (void)f;
    rl_input_avail = 0;
    return rl_input;
}

static int wb_input_avail(void) { return rl_input_avail; }
static void wb_redisplay(void) { }

static void on_command(char *line)
{
    wb *w = the_wb;
    w->cmd_active = 0;
    rl_callback_handler_remove();
    if (!line)
        return;
    if (*line) {
        add_history(line);
        run_command(w, line);
    }
    free(line);
}

static void open_command(wb *w, const char *text)
{
    w->cmd_active = 1;
    rl_callback_handler_install("", on_command);
    rl_replace_line(text, 0);
    rl_point = rl_end;
}

static void feed_readline(wb *w, int ch)
{
    if (ch == 27 && rl_end == 0) {          /* Escape on an empty line closes it */
        w->cmd_active = 0;
        rl_callback_handler_remove();
        return;
    }
    rl_input = ch;
    rl_input_avail = 1;
    rl_callback_read_char();
}

static char *complete_word(const char *text, int state)
{
    static int i, n;
    static const app_verb *v;
    wb *w = the_wb;
    size_t len = strlen(text);
    if (!state) {
        i = 0;
        v = app_verbs(&n);
    }
    int first = 1;
    for (int k = 0; k < rl_point; k++)
        if (rl_line_buffer[k] == ' ')
            first = 0;
    while (first && i < n)
        if (!strncmp(v[i++].name, text, len))
            return strdup(v[i - 1].name);
    while (!first && i < w->nnode) {
        const char *p = w->node[i++].l->path;
        if (!strncmp(p, text, len))
            return strdup(p);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, complete_word);
}

static void history_file(char *out, size_t cap)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[3072];
    out[0] = '\0';
    if (state && *state)
        snprintf(dir, sizeof dir, "%s/thaw", state);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/thaw", home);
    else
        return;
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    mkdir(dir, 0700);
    snprintf(out, cap, "%s/history", dir);
}

/* ---- the frame -------------------------------------------------------------------- */

static void draw(wb *w)
{
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    layout_compute(&w->lay, cols, rows);
    if (w->lay.too_small) {
        layout_msg m;
        layout_too_small_msg(&m, cols, rows, w->utf8);
        for (int i = 0; i < m.n; i++)
            put(m.line[i].y, m.line[i].x, cols - m.line[i].x, m.line[i].text);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    char title[1024], source[160] = "";
    const mf_provenance *p = &w->a.source_meta.prov;
    const char *base = strrchr(w->a.model_path, '/');
    base = base ? base + 1 : w->a.model_path;
    if (p->dataset[0] && p->test_accuracy >= 0)
        snprintf(source, sizeof source, " (source: %.60s, %.1f%%)", p->dataset, 100 * p->test_accuracy);
    else if (p->dataset[0])
        snprintf(source, sizeof source, " (source: %.60s)", p->dataset);
    snprintf(title, sizeof title, " thaw %s %.200s%s %s target: %.400s ", glyph(w, "·", "-"), base,
             source, glyph(w, "·", "-"), w->a.data_spec);
    attron(A_REVERSE | color(w, C_TITLE));
    fill_row(w->lay.title.y, w->lay.title.x, w->lay.title.w);
    put(w->lay.title.y, w->lay.title.x, w->lay.title.w, title);
    attroff(A_REVERSE | color(w, C_TITLE));
    w->nlayers = app_layers(&w->a, w->layers, LAYERS);
    draw_tree(w, w->lay.tree, w->lay.lrbar);
    if (w->view == VIEW_PLOTS)
        draw_plots(w, w->lay.chart, w->lay.ncharts);
    else if (w->view == VIEW_HEATMAP)
        draw_heatmap(w, w->lay.plots);
    else
        draw_confusion(w, w->lay.plots);
    draw_status(w, w->lay.status);
    draw_command(w, w->lay.cmdline);
    char hints[256];
    snprintf(hints, sizeof hints, " F1 help  %s freeze  [ ] lr  t train  p pause  s save  v view  : command  q quit",
             glyph(w, "␣", "space"));
    attron(color(w, C_DIM));
    put(w->lay.footer.y, w->lay.footer.x, w->lay.footer.w, hints);
    attroff(color(w, C_DIM));
    if (w->help)
        draw_help(rows, cols);
    if (w->say[0])
        draw_say(w, rows, cols);
    if (w->cmd_active) {
        curs_set(1);
        move(w->lay.cmdline.y, w->lay.cmdline.x + 1 + rl_point);
    } else {
        curs_set(0);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

/* Writes the frame figures THAW_FRAME_STATS asks for: frames drawn, mean
 * and worst draw time, key-to-frame latency, the UI thread's CPU time and
 * the time from start to the first frame. */
static void write_stats(const wb *w)
{
    const char *path = getenv("THAW_FRAME_STATS");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                 (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    fprintf(f, "{\"frames\": %ld, \"frame_ms_mean\": %.4f, \"frame_ms_max\": %.4f, "
               "\"key_ms_mean\": %.4f, \"key_ms_max\": %.4f, \"ui_cpu_s\": %.4f, "
               "\"wall_s\": %.4f, \"first_frame_s\": %.4f}\n",
            w->frames, w->frames ? 1e3 * w->frame_sum / w->frames : 0.0, 1e3 * w->frame_max,
            w->keys_timed ? 1e3 * w->key_sum / w->keys_timed : 0.0, 1e3 * w->key_max, cpu,
            now_s() - w->t0, w->first_frame);
    fclose(f);
}

static void colors(wb *w)
{
    w->color = has_colors() && !getenv("NO_COLOR");
    if (!w->color)
        return;
    start_color();
    use_default_colors();
    int bg = w->contrast ? COLOR_BLACK : -1;
    init_pair(C_TITLE, w->contrast ? COLOR_WHITE : COLOR_CYAN, bg);
    init_pair(C_FROZEN, w->contrast ? COLOR_WHITE : COLOR_CYAN, bg);
    init_pair(C_TRAIN, w->contrast ? COLOR_WHITE : COLOR_GREEN, bg);
    init_pair(C_PARTLY, COLOR_YELLOW, bg);
    init_pair(C_SEL, w->contrast ? COLOR_WHITE : COLOR_BLUE, bg);
    init_pair(C_WARN, COLOR_RED, bg);
    init_pair(C_S1, w->contrast ? COLOR_WHITE : COLOR_BLUE, bg);
    init_pair(C_S2, w->contrast ? COLOR_WHITE : COLOR_GREEN, bg);
    init_pair(C_S3, COLOR_YELLOW, bg);
    init_pair(C_S4, w->contrast ? COLOR_WHITE : COLOR_MAGENTA, bg);
    init_pair(C_EVENT, COLOR_RED, bg);
    init_pair(C_DIM, w->contrast ? COLOR_WHITE : COLOR_BLUE, bg);
}

static void handle_key(wb *w, int ch)
{
    if (w->cmd_active) {
        if (ch == KEY_RESIZE)
            return;
        feed_readline(w, ch);
        return;
    }
    if (ch == KEY_MOUSE) {
        MEVENT m;
        if (getmouse(&m) == OK && m.y > w->lay.tree.y && m.y < w->lay.tree.y + w->lay.tree.h &&
            m.x >= w->lay.tree.x && m.x < w->lay.tree.x + w->lay.tree.w) {
            int row = w->top + m.y - w->lay.tree.y - 1;
            if (row < w->nrow) {
                w->sel = row;
                layout_tree_plan plan;
                layout_tree_columns(&plan, w->lay.tree.w);
                int x = m.x - w->lay.tree.x;
                for (int c = 0; c < plan.n; c++)
                    if (plan.col[c].id == LAYOUT_COL_TRAIN && x >= plan.col[c].x &&
                        x < plan.col[c].x + plan.col[c].w)
                        key_freeze(w);
            }
        }
        return;
    }
    if (w->say[0] && ch != KEY_RESIZE) {
        w->say[0] = '\0';                  /* any key closes the narration; > also goes on */
        if (ch != '>')
            return;
    }
    if (ch != 'q')
        w->quit_asked = 0;
    if (w->help && ch != '?' && ch != KEY_F(1) && ch != 'q') {
        w->help = 0;
        return;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].code == ch) {
            keys[i].fn(w);
            return;
        }
}

static int load_default(wb *w, const wb_opts *o)
{
    char line[8192];
    const char *model_file = o->model ? o->model : DEFAULT_MODEL;
    const char *data = o->data ? o->data : DEFAULT_DATA;
    thaw_err err = {0};
    snprintf(line, sizeof line, "load model \"%s\"", model_file);
    if (app_exec(&w->a, line, &err)) {
        fprintf(stderr, "thaw: %s\n", err.msg);
        return 1;
    }
    snprintf(line, sizeof line, "load data \"%s\"", data);
    if (app_exec(&w->a, line, &err) == THAW_OK)
        return 0;
    if (o->model || o->data || err.code != THAW_ENOTFOUND) {
        fprintf(stderr, "thaw: %s\n", err.msg);
        return 1;
    }
    /* No Fashion-MNIST here: the synthetic shapes, and say so. */
    thaw_err err2 = {0};
    if (app_exec(&w->a, "load model \"" FALLBACK_MODEL "\"", &err2) ||
        app_exec(&w->a, "load data \"" FALLBACK_DATA "\"", &err2)) {
        fprintf(stderr, "thaw: %s\nthaw: %s\n", err.msg, err2.msg);
        return 1;
    }
    message(w, 1, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): "
            "showing shapes-resnet on the synthetic shapes");
    return 0;
}

static int terminal_usable(void)
{
    const char *term = getenv("TERM");
    return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term && strcmp(term, "dumb");
}

static void free_series(wb *w)
{
    series *all[] = { &w->step_loss, &w->ev_x, &w->train_loss, &w->val_loss, &w->scratch_loss,
                      &w->val_acc, &w->scratch_acc, &w->delta };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        free(all[i]->x);
        free(all[i]->y);
    }
}

static int alloc_series(wb *w)
{
    series *all[] = { &w->step_loss, &w->ev_x, &w->train_loss, &w->val_loss, &w->scratch_loss,
                      &w->val_acc, &w->scratch_acc, &w->delta };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        all[i]->x = malloc(SERIES_MAX * sizeof(double));
        all[i]->y = malloc(SERIES_MAX * sizeof(double));
        if (!all[i]->x || !all[i]->y)
            return 1;
    }
    return 0;
}

/* No usable terminal: a lesson runs as `thaw run` runs it, after the model
 * and data given on the command line; otherwise the readline prompt. */
static int line_mode(const wb_opts *o)
{
    if (o->lesson) {
        char load_model[8192], load_data[8192];
        const char *first[3] = { NULL, NULL, NULL };
        int n = 0;
        if (o->model) {
            snprintf(load_model, sizeof load_model, "load model \"%s\"", o->model);
            first[n++] = load_model;
        }
        if (o->data) {
            snprintf(load_data, sizeof load_data, "load data \"%s\"", o->data);
            first[n++] = load_data;
        }
        fprintf(stderr, "thaw: no terminal to draw on: running the lesson %s in batch mode, as thaw run does\n",
                o->lesson);
        return cli_run_file(o->lesson, first);
    }
    char *argv[4] = { "repl", NULL, NULL, NULL };
    int argc = 1;
    argv[argc++] = (char *)(o->model ? o->model : DEFAULT_MODEL);
    if (o->data) {
        argv[argc++] = "--data";
        argv[argc++] = (char *)o->data;
    }
    return cmd_repl(argc, argv);
}

int workbench_main(const wb_opts *o)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    if (!terminal_usable())
        return line_mode(o);
    wb *w = calloc(1, sizeof *w);
    if (!w || alloc_series(w)) {
        fprintf(stderr, "thaw: out of memory\n");
        if (w)
            free_series(w);
        free(w);
        return 1;
    }
    the_wb = w;
    w->t0 = now_s();
    w->contrast = o->contrast || (getenv("THAW_THEME") && !strcmp(getenv("THAW_THEME"), "contrast"));
    w->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
    w->smooth = 0.6;
    app_init(&w->a, &(app_out){ .ctx = w, .say = wb_say, .event = wb_event }, 0);
    int rc = 0;
    if (load_default(w, o)) {
        rc = 1;
        goto done;
    }
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr) {
        app_free(&w->a);
        free_series(w);
        free(w);
        return line_mode(o);
    }
    curses_on = 1;
    install_signals();
    cbreak();
    noecho();
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    colors(w);
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_deprep_term_function = NULL;
    rl_prep_term_function = NULL;
    rl_change_environment = 0;
    rl_getc_function = wb_getc;
    rl_input_available_hook = wb_input_avail;
    rl_redisplay_function = wb_redisplay;
    rl_attempted_completion_function = complete;
    char hist[4096];
    history_file(hist, sizeof hist);
    if (hist[0])
        read_history(hist);
    if (o->lesson && lesson_load(w, o->lesson)) {
        restore_terminal();
        rc = 1;
        goto done;
    }
    model_changed(w);
    if (!w->msg[0])
        message(w, 0, "%d layers; ? for help, t to train, : for a command", w->nnode);
    double last_draw = 0;
    int dirty = 1, sigint_armed = 0, hard_quit = 0, preload = 0;
    double key_at = 0;
    while (!w->a.quit && !got_term) {
        if (got_sigint) {
            got_sigint = 0;
            if (sigint_armed) {
                hard_quit = 1;
                break;
            }
            sigint_armed = 1;
            if (w->a.sess && sess_state_now(w->a.sess) == SESS_RUNNING)
                run_command(w, "pause");
            message(w, 1, "%sCtrl-C again quits", w->a.sess && sess_state_now(w->a.sess) == SESS_PAUSED ?
                    "paused; " : "");
            dirty = 1;
        }
        double t = now_s();
        if (dirty || t - last_draw > 0.1) {
            draw(w);
            double t1 = now_s();
            if (w->frames++ == 0) {
                w->first_frame = t1 - w->t0;
                preload = 1;
            }
            w->frame_sum += t1 - t;
            if (t1 - t > w->frame_max)
                w->frame_max = t1 - t;
            if (key_at > 0) {
                w->key_sum += t1 - key_at;
                w->keys_timed++;
                if (t1 - key_at > w->key_max)
                    w->key_max = t1 - key_at;
                key_at = 0;
            }
            last_draw = t;
            dirty = 0;
        }
        struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                               { .fd = w->a.sess ? sess_fd(w->a.sess) : -1, .events = POLLIN } };
        if (poll(p, 2, 100) < 0 && errno != EINTR)
            break;
        for (int ch; (ch = getch()) != ERR;) {
            if (key_at == 0)
                key_at = now_s();
            handle_key(w, ch);
            sigint_armed = 0;
            dirty = 1;
        }
        if (preload) {
            /* After the first frame, so start-up stays fast and `t` does not wait. */
            preload = 0;
            app_preload(&w->a);
        }
        if (app_pump(&w->a, 0))
            dirty = 1;
        if (w->next_line < w->nlesson && !w->lesson_waits_key) {
            lesson_tick(w);
            dirty = 1;
        }
        if (w->a.sess && t - w->last_heat > 0.5) {
            w->last_heat = t;
            w->nlayers = app_layers(&w->a, w->layers, LAYERS);
            if (sess_state_now(w->a.sess) == SESS_RUNNING)
                sample_heat(w);
        }
    }
    if (w->cmd_active)
        rl_callback_handler_remove();
    if (hist[0])
        write_history(hist);
    restore_terminal();
    write_stats(w);
    delscreen(scr);
    if (!hard_quit && w->a.sess && sess_state_now(w->a.sess) != SESS_IDLE && w->a.run) {
        /* q, SIGTERM or SIGHUP mid-run: finish it the normal way, so the run
         * keeps its final evaluation and last checkpoint. */
        fprintf(stderr, "thaw: stopping the training; saving its last checkpoint in %s\n",
                runlog_dir(w->a.run));
        thaw_err err = {0};
        if (sess_control(w->a.sess, &(sess_ctl){ .op = SESS_STOP }, &err) == THAW_OK)
            sess_wait(w->a.sess);
    }
done:
    for (int i = 0; i < 3; i++)
        chart_cells_free(&w->cells[i]);
    for (int i = 0; i < w->nlesson; i++)
        free(w->lesson[i]);
    free(w->lesson);
    app_free(&w->a);
    free_series(w);
    free(w);
    the_wb = NULL;
    return rc;
}
