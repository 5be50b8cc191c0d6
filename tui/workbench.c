/* workbench.c — the curses workbench's loop. The UI thread owns curses
 * (screen.c), readline (panel_cmdline.c, through prompt.c) and every byte
 * printed; training runs on the session's threads, and this loop only ever
 * polls (stdin and the session's event pipe), posts what arrives to the
 * panels (panel.h) and draws them. The keys table and the help drawn from
 * it live here, with the lesson stepper. */
#include "workbench.h"

#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "layout.h"
#include "numtext.h"
#include "panel.h"
#include "paths.h"
#include "runlog.h"
#include "screen.h"


typedef struct wb {
    ui u;
    int quit_asked;
    /* a lesson: its lines, the next one, and what it waits for */
    app_lesson lesson;
    int lesson_waits_key;
    double last_sample;
    /* THAW_FRAME_STATS=FILE: what a frame costs, for the UI benchmark */
    long frames;
    double frame_sum, frame_max, key_max, key_sum, first_frame, t0;
    long keys_timed;
    layout lay;
} wb;

/* ---- what the panels share (panel.h) ---------------------------------------- */

static void walk(const layer *l, int depth, int parent, ui_node *out, int *n, int cap)
{
    for (int i = 0; i < l->nchild && *n < cap; i++) {
        const layer *c = l->child[i];
        int me = (*n)++;
        out[me] = (ui_node){ .l = c, .depth = depth, .parent = parent };
        walk(c, depth + 1, me, out, n, cap);
    }
}

int ui_walk(const ui *u, ui_node *out, int cap)
{
    const model *m = app_model(&u->a);
    int n = 0;
    if (m)
        walk(m->root, 0, -1, out, &n, cap);
    return n;
}

void ui_post(ui *u, const ui_event *ev)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        if (u->panel[i].ops && u->panel[i].ops->update)
            u->panel[i].ops->update(&u->panel[i], ev);
}

void ui_message(ui *u, int warn, const char *fmt, ...)
{
    char text[sizeof u->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    utf8_quote(u->msg, sizeof u->msg, text);     /* typed, or named by a file: never raw */
    u->msg_warn = warn;
    u->msg_seq++;
}

/* A new model (load, reset): a new tree, empty plots. */
static void model_changed(ui *u)
{
    u->generation = u->a.generation;
    u->nlayers = 0;
    ui_post(u, &(ui_event){ .kind = UI_EV_MODEL });
}

/* Keeps a line the running command said; the first line stays in front
 * of the buffer as the message. */
static void keep_said(ui *u, const char *text)
{
    size_t n = strlen(text);
    if (u->nsaid + n + 2 > u->said_cap) {
        size_t cap = (u->nsaid + n + 2) * 2;
        char *more = realloc(u->said, cap);
        if (!more)
            return;
        u->said = more;
        u->said_cap = cap;
    }
    memcpy(u->said + u->nsaid, text, n);
    u->nsaid += n;
    u->said[u->nsaid++] = '\n';
    u->said[u->nsaid] = '\0';
    u->said_lines++;
    for (size_t i = 0; i < n; i++)
        u->said_lines += text[i] == '\n';
}

void ui_run(ui *u, const char *line)
{
    thaw_err err = {0};
    u->nsaid = 0;
    u->said_lines = 0;
    u->said_warn = 0;
    u->capturing = 1;
    int rc = app_exec(&u->a, line, &err);
    u->capturing = 0;
    if (u->said_lines > 1) {
        ui_post(u, &(ui_event){ .kind = UI_EV_PAGE, .title = line, .text = u->said });
        ui_message(u, 0, "%s", line);
    } else if (u->said_lines == 1) {
        u->said[u->nsaid - 1] = '\0';
        ui_message(u, u->said_warn, "%s", u->said);
    }
    if (rc)
        ui_message(u, 1, "%s", err.msg);
    else if (u->said_lines == 0)
        ui_message(u, 0, "%s", line);
    if (u->generation != u->a.generation)
        model_changed(u);
    u->nlayers = app_layers(&u->a, u->layers, UI_LAYERS);
}

static ui_panel *panel_of(ui *u, const ui_panel_ops *ops)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        if (u->panel[i].ops == ops)
            return &u->panel[i];
    return NULL;
}

static int panel_key(ui *u, const ui_panel_ops *ops, int ch)
{
    ui_panel *p = panel_of(u, ops);
    return p && p->ops->key ? p->ops->key(p, ch) : UI_PASS;
}

/* ---- the app's output ---------------------------------------------------------- */

static void wb_say(void *ctx, app_say_kind kind, const char *text)
{
    wb *w = ctx;
    if (kind == APP_PROGRESS || kind == APP_EVAL)
        return;                      /* the plots and the status line show these */
    if (kind == APP_SAY) {
        char safe[2048];
        ui_post(&w->u, &(ui_event){ .kind = UI_EV_SAY, .text = utf8_quote(safe, sizeof safe, text) });
        return;
    }
    if (w->u.capturing) {
        keep_said(&w->u, text);
        w->u.said_warn |= kind == APP_WARN;
        return;
    }
    ui_message(&w->u, kind == APP_WARN, "%s", text);
}

static void wb_event(void *ctx, const sess_event *ev)
{
    wb *w = ctx;
    ui_post(&w->u, &(ui_event){ .kind = UI_EV_SESSION, .sess = ev });
}

/* ---- lessons ------------------------------------------------------------------------- */

static int lesson_load(wb *w, const char *path)
{
    thaw_err err = {0};
    if (app_lesson_open(&w->lesson, path, &err)) {
        cli_print(stderr, "thaw: the lesson: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* Lines of the lesson not run yet (none after a failed line). */
static int lesson_ahead(const wb *w)
{
    return !w->lesson.over && w->lesson.next < w->lesson.nline;
}

/* Runs the lesson's lines until one waits: for the presenter's key
 * (pause-for-key), or for training to finish before the next line. */
static void lesson_tick(wb *w)
{
    unsigned seq = w->u.msg_seq;
    while (!w->lesson_waits_key) {
        thaw_err err = {0};
        app_lesson_state st = app_lesson_step(&w->lesson, &w->u.a, &err);
        if (st == APP_LESSON_DONE || st == APP_LESSON_BUSY)
            return;
        if (st == APP_LESSON_FAILED) {
            ui_message(&w->u, 1, "%s:%d: %s (the lesson stops here)", w->lesson.path, w->lesson.next,
                       err.msg);
            return;
        }
        if (w->u.generation != w->u.a.generation)
            model_changed(&w->u);
        if (st == APP_LESSON_KEY) {
            w->lesson_waits_key = 1;
            if (w->u.msg_seq != seq) {   /* a line said something (expect's verdict): keep it */
                char said[sizeof w->u.msg];
                snprintf(said, sizeof said, "%s", w->u.msg);
                ui_message(&w->u, w->u.msg_warn, "%s; > goes on (line %d of %d)", said, w->lesson.next,
                           w->lesson.nline);
            } else {
                ui_message(&w->u, 0, "lesson: press > to go on (line %d of %d)", w->lesson.next,
                           w->lesson.nline);
            }
        }
    }
}

/* ---- keys: one table for dispatch and for help ------------------------------------ */

typedef void (*key_fn)(wb *w, int ch);

static void to_tree(wb *w, int ch) { panel_key(&w->u, &ui_tree_panel, ch); }
static void to_plots(wb *w, int ch) { panel_key(&w->u, &ui_plots_panel, ch); }

static void key_command(wb *w, int ch)
{
    (void)ch;
    ui_post(&w->u, &(ui_event){ .kind = UI_EV_EDIT, .text = "" });
}

static void key_train(wb *w, int ch)
{
    (void)ch;
    if (w->u.a.sess && sess_state_now(w->u.a.sess) == SESS_PAUSED)
        ui_run(&w->u, "resume");
    else
        ui_run(&w->u, "train");
}

static void key_pause(wb *w, int ch)
{
    (void)ch;
    if (!w->u.a.sess || sess_state_now(w->u.a.sess) == SESS_IDLE)
        ui_message(&w->u, 1, "nothing is training (t trains)");
    else
        ui_run(&w->u, sess_state_now(w->u.a.sess) == SESS_PAUSED ? "resume" : "pause");
}

static void key_save(wb *w, int ch)
{
    (void)ch;
    if (!w->u.a.run) {
        ui_message(&w->u, 1, "nothing to save yet: train first, or type :save FILE.json");
        return;
    }
    char line[TASK_PATH_MAX + 32];
    snprintf(line, sizeof line, "save %s/model.json", runlog_dir(w->u.a.run));
    ui_run(&w->u, line);
}

static int view_count(const ui *u)
{
    int n = 0;
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        n += u->panel[i].ops && u->panel[i].ops->place == UI_AT_VIEW;
    return n;
}

void ui_show(ui *u, const ui_panel *p)
{
    for (int i = 0, view = 0; i < UI_PANEL_COUNT; i++) {
        if (&u->panel[i] == p)
            u->view = view;
        view += u->panel[i].ops && u->panel[i].ops->place == UI_AT_VIEW;
    }
}

static void key_apply(wb *w, int ch)
{
    (void)ch;
    ui_run(&w->u, "lr-find apply");
}

static void key_view(wb *w, int ch)
{
    (void)ch;
    w->u.view = (w->u.view + 1) % view_count(&w->u);
}

static void key_help(wb *w, int ch);

static void key_quit(wb *w, int ch)
{
    (void)ch;
    if (w->u.a.sess && sess_state_now(w->u.a.sess) != SESS_IDLE && !w->quit_asked) {
        ui_message(&w->u, 1,
                   "training is in progress; q again stops it, saves its last checkpoint and quits");
        w->quit_asked = 1;
        return;
    }
    w->u.a.quit = 1;
}

static void key_lesson(wb *w, int ch)
{
    (void)ch;
    if (!lesson_ahead(w)) {
        ui_message(&w->u, 1, w->lesson.nline ? "the lesson is over" : "no lesson (thaw --lesson FILE)");
        return;
    }
    w->lesson_waits_key = 0;
}

/* The number keys: the strategies, as the command line writes them. */
static void key_strategy(wb *w, int ch)
{
    static const char *const line[] = {
        "strategy feature-extraction", "strategy finetune", "strategy gradual every=2",
        "strategy discriminative factor=10", "strategy layer-decay decay=0.5",
    };
    ui_run(&w->u, line[ch - '1']);
}

static void key_step(wb *w, int ch)
{
    (void)ch;
    ui_run(&w->u, "step");
}

/* The layer tree's and the plots' keys go to those panels. */
static const struct key {
    int code;
    const char *name, *help;
    key_fn fn;
} keys[] = {
    { KEY_DOWN, "Down j", "next layer", to_tree },
    { 'j', NULL, NULL, to_tree },
    { KEY_UP, "Up k", "previous layer", to_tree },
    { 'k', NULL, NULL, to_tree },
    { KEY_RIGHT, "Right l", "expand", to_tree },
    { 'l', NULL, NULL, to_tree },
    { '\n', NULL, NULL, to_tree },
    { '\r', NULL, NULL, to_tree },
    { KEY_ENTER, NULL, NULL, to_tree },
    { KEY_LEFT, "Left h", "collapse, or go to the parent", to_tree },
    { 'h', NULL, NULL, to_tree },
    { ' ', "space", "freeze or thaw the selected layer (and everything under it)", to_tree },
    { ']', "]", "double the selected layer's learning rate", to_tree },
    { '[', "[", "halve the selected layer's learning rate", to_tree },
    { 'e', "e", "type an exact learning rate for the selected layer", to_tree },
    { '1', "1", "strategy: feature extraction (only the head trains)", key_strategy },
    { '2', "2", "strategy: fine-tune everything", key_strategy },
    { '3', "3", "strategy: gradual unfreezing, a group every 2 epochs", key_strategy },
    { '4', "4", "strategy: discriminative rates (body at a tenth)", key_strategy },
    { '5', "5", "strategy: layer-wise decay 0.5", key_strategy },
    { 't', "t", "train (set epochs), or resume", key_train },
    { 'p', "p", "pause or resume", key_pause },
    { 'n', "n", "one step, then pause", key_step },
    { 's', "s", "save the transferred model into the run folder", key_save },
    { 'v', "v", "switch view: plots, gradient heatmap, confusion matrix, lr-find curve, domain adaptation", key_view },
    { 'a', "a", "take lr-find's suggested rate (:lr-find apply)", key_apply },
    { 'm', "m", "smooth the loss curve, or show it raw", to_plots },
    { ':', ":", "command line (tab completes; help lists the commands)", key_command },
    { '>', ">", "the lesson's next step (thaw --lesson FILE)", key_lesson },
    { '?', "? F1", "this help", key_help },
    { KEY_F(1), NULL, NULL, key_help },
    { 'q', "q", "quit", key_quit },
};

/* The help: the keys table, then the command verbs, in the pager. */
static void key_help(wb *w, int ch)
{
    (void)ch;
    int verbs;
    const app_verb *v = app_verbs(&verbs);
    static char buf[32768];
    num_text t = { buf, sizeof buf, 0 };
    num_text_add(&t, "keys\n");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].name)
            num_text_add(&t, "  %-9s %s\n", keys[i].name, keys[i].help);
    num_text_add(&t, "\ncommands at the : line (also thaw repl and lesson files)\n");
    for (int i = 0; i < verbs; i++)
        num_text_add(&t, "  %-9s %-30s %s\n", v[i].name, v[i].args, v[i].help);
    ui_post(&w->u, &(ui_event){ .kind = UI_EV_PAGE, .title = "help (? or q closes)", .text = buf });
}

static void handle_key(wb *w, int ch)
{
    ui *u = &w->u;
    if (u->focus) {
        u->focus->ops->key(u->focus, ch);
        return;
    }
    if (ch == KEY_MOUSE) {               /* the panels from the top down: the tree takes clicks */
        for (int i = UI_PANEL_COUNT - 1; i >= 0; i--)
            if (u->panel[i].ops && u->panel[i].ops->key && u->panel[i].ops->key(&u->panel[i], ch))
                return;
        return;
    }
    if (panel_key(u, &ui_say_panel, ch) == UI_HANDLED)
        return;                          /* any key closes the narration; > also goes on */
    if (ch != 'q')
        w->quit_asked = 0;
    if (panel_key(u, &ui_pager_panel, ch) == UI_HANDLED)
        return;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].code == ch) {
            keys[i].fn(w, ch);
            return;
        }
}

/* ---- the frame -------------------------------------------------------------------- */

static layout_rect place_rect(const layout *l, ui_place place)
{
    switch (place) {
    case UI_AT_TITLE: return l->title;
    case UI_AT_TREE: return l->tree;
    case UI_AT_LRBAR: return l->lrbar;
    case UI_AT_VIEW: return l->plots;
    case UI_AT_STATUS: return l->status;
    case UI_AT_CMDLINE: return l->cmdline;
    case UI_AT_FOOTER: return l->footer;
    case UI_AT_SCREEN: break;
    }
    return (layout_rect){ 0, 0, l->cols, l->rows };
}

static void draw(wb *w)
{
    ui *u = &w->u;
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    erase();
    layout_compute(&w->lay, cols, rows);
    for (int i = 0; i < UI_PANEL_COUNT; i++)
        u->panel[i].at = (layout_rect){ 0, 0, 0, 0 };
    if (w->lay.too_small) {
        layout_msg m;
        layout_too_small_msg(&m, cols, rows, screen_utf8());
        for (int i = 0; i < m.n; i++)
            screen_put(m.line[i].y, m.line[i].x, cols - m.line[i].x, m.line[i].text);
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    u->nlayers = app_layers(&u->a, u->layers, UI_LAYERS);
    u->lesson_ahead = lesson_ahead(w);
    for (int i = 0, view = 0; i < UI_PANEL_COUNT; i++) {
        ui_panel *p = &u->panel[i];
        if (p->ops->place == UI_AT_VIEW && view++ != u->view)
            continue;
        p->at = place_rect(&w->lay, p->ops->place);
        p->ops->draw(p, p->at);
    }
    if (u->focus) {
        curs_set(1);
        move(u->cursor_y, u->cursor_x);
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
            thaw_now_s() - w->t0, w->first_frame);
    fclose(f);
}

/* ---- start and end ----------------------------------------------------------------- */

static int load_default(wb *w, const wb_opts *o)
{
    thaw_err err = {0};
    int fallback;
    if (cli_load_default(&w->u.a, o->model, o->data, &fallback, &err)) {
        cli_print(stderr, "thaw: %s\n", err.msg);
        return 1;
    }
    if (fallback)
        ui_message(&w->u, 1, "%s", CLI_FALLBACK_NOTE);
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
        cli_print(stderr, "thaw: no terminal to draw on: running the lesson %s in batch mode, as thaw run does\n",
                  o->lesson);
        return cli_run_file(o->lesson, first);
    }
    char *argv[4] = { "repl", NULL, NULL, NULL };
    int argc = 1;
    if (o->model)
        argv[argc++] = (char *)o->model;
    if (o->data) {
        argv[argc++] = "--data";
        argv[argc++] = (char *)o->data;
    }
    return cmd_repl(argc, argv);
}

/* The panels of UI_PANELS, each with its state; 1 when memory runs out. */
static int panels_init(ui *u)
{
#define UI_PANEL_OPS(name) &ui_##name##_panel,
    static const ui_panel_ops *const list[UI_PANEL_COUNT] = { UI_PANELS(UI_PANEL_OPS) };
#undef UI_PANEL_OPS
    for (int i = 0; i < UI_PANEL_COUNT; i++) {
        ui_panel *p = &u->panel[i];
        *p = (ui_panel){ .ui = u };
        if (list[i]->size && !(p->state = calloc(1, list[i]->size)))
            return 1;
        p->ops = list[i];            /* from here on fini undoes what init did */
        if (list[i]->init && list[i]->init(p))
            return 1;
    }
    return 0;
}

static void panels_fini(ui *u)
{
    for (int i = 0; i < UI_PANEL_COUNT; i++) {
        ui_panel *p = &u->panel[i];
        if (p->ops && p->ops->fini)
            p->ops->fini(p);
        free(p->state);
    }
}

/* The loop: draw when something changed (at least every 0.1 s), poll stdin
 * and the session's pipe, take keys, pump the app, step the lesson, sample
 * the layers. Returns 1 for a second Ctrl-C (quit at once). */
static int run(wb *w)
{
    ui *u = &w->u;
    double last_draw = 0, key_at = 0;
    int dirty = 1, sigint_armed = 0, preload = 0;
    while (!u->a.quit && !screen_terminated()) {
        if (screen_interrupted()) {
            if (sigint_armed)
                return 1;
            sigint_armed = 1;
            if (u->a.sess && sess_state_now(u->a.sess) == SESS_RUNNING)
                ui_run(u, "pause");
            ui_message(u, 1, "%sCtrl-C again quits", u->a.sess && sess_state_now(u->a.sess) == SESS_PAUSED ?
                       "paused; " : "");
            dirty = 1;
        }
        double t = thaw_now_s();
        if (dirty || t - last_draw > 0.1) {
            draw(w);
            double t1 = thaw_now_s();
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
                               { .fd = u->a.sess ? sess_fd(u->a.sess) : -1, .events = POLLIN } };
        if (poll(p, 2, 100) < 0 && errno != EINTR)
            break;
        for (int ch; (ch = screen_key()) != ERR;) {
            if (key_at == 0)
                key_at = thaw_now_s();
            handle_key(w, ch);
            sigint_armed = 0;
            dirty = 1;
        }
        if (preload) {
            /* After the first frame, so start-up stays fast and `t` does not wait. */
            preload = 0;
            app_preload(&u->a);
        }
        if (app_pump(&u->a, 0))
            dirty = 1;
        if (lesson_ahead(w) && !w->lesson_waits_key) {
            lesson_tick(w);
            dirty = 1;
        }
        if (u->a.sess && t - w->last_sample > 0.5) {
            w->last_sample = t;
            u->nlayers = app_layers(&u->a, u->layers, UI_LAYERS);
            if (sess_state_now(u->a.sess) == SESS_RUNNING)
                ui_post(u, &(ui_event){ .kind = UI_EV_SAMPLE });
        }
    }
    return 0;
}

int workbench_main(const wb_opts *o)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C");
    if (!screen_usable())
        return line_mode(o);
    wb *w = calloc(1, sizeof *w);
    if (!w) {
        cli_print(stderr, "thaw: out of memory\n");
        return 1;
    }
    w->t0 = thaw_now_s();
    int contrast = o->contrast || (getenv("THAW_THEME") && !strcmp(getenv("THAW_THEME"), "contrast"));
    app_init(&w->u.a, &(app_out){ .ctx = w, .say = wb_say, .event = wb_event }, 0);
    int rc = 0;
    if (load_default(w, o)) {
        rc = 1;
        goto done;
    }
    if (screen_open(contrast)) {
        app_free(&w->u.a);
        free(w);
        return line_mode(o);
    }
    if (o->lesson && lesson_load(w, o->lesson)) {
        screen_close();
        rc = 1;
        goto done;
    }
    if (panels_init(&w->u)) {
        screen_close();
        cli_print(stderr, "thaw: out of memory\n");
        rc = 1;
        goto done;
    }
    model_changed(&w->u);
    if (!w->u.msg[0]) {
        ui_node walk_all[UI_NODES];
        ui_message(&w->u, 0, "%d layers; ? for help, t to train, : for a command",
                   ui_walk(&w->u, walk_all, UI_NODES));
    }
    int hard_quit = run(w);
    screen_close();
    write_stats(w);
    if (!hard_quit && w->u.a.sess && sess_state_now(w->u.a.sess) != SESS_IDLE && w->u.a.run) {
        /* q, SIGTERM or SIGHUP mid-run: finish it the normal way, so the run
         * keeps its final evaluation and last checkpoint. */
        cli_print(stderr, "thaw: stopping the training; saving its last checkpoint in %s\n",
                  runlog_dir(w->u.a.run));
        thaw_err err = {0};
        if (sess_control(w->u.a.sess, &(sess_ctl){ .op = SESS_STOP, .count = 1 }, &err) == THAW_OK)
            sess_wait(w->u.a.sess);
    }
    if (w->u.a.run)
        cli_run_incomplete(&w->u.a);
done:
    panels_fini(&w->u);
    free(w->u.said);
    app_lesson_close(&w->lesson);
    app_free(&w->u.a);
    free(w);
    return rc;
}
