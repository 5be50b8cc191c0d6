/* panel.h — the workbench's panels behind one interface. A panel keeps its
 * own state, takes events (update), draws into the rectangle of its place
 * (draw, kept apart from update) and may take keys (key). The workbench
 * (workbench.c) owns the loop: it posts events to every panel and draws
 * them in the order of UI_PANELS. Keys go first to the panel holding the
 * focus, then to the overlays (narration, help), a click to the panels from
 * the top down; the workbench's keys table hands a panel the keys it
 * lists for it (the tree's, the plots'), so the help cannot drift from
 * what the keys do.
 *
 * A new panel is a file that defines
 *
 *     const ui_panel_ops ui_NAME_panel = {
 *         .name = "NAME", .place = UI_AT_VIEW, .size = sizeof(NAME_state),
 *         .update = NAME_update, .draw = NAME_draw,
 *     };
 *
 * and one X(NAME) in UI_PANELS below: a panel at UI_AT_VIEW becomes one
 * more view that `v` switches to. Panels draw with screen.h's helpers. */
#ifndef THAW_PANEL_H
#define THAW_PANEL_H

#include <stddef.h>

#include "app.h"
#include "chart.h"
#include "layout.h"

/* Drawing order, bottom to top; views in the order `v` goes through them. */
#define UI_PANELS(X) \
    X(title)         \
    X(tree)          \
    X(results)       \
    X(lrbar)         \
    X(plots)         \
    X(heatmap)       \
    X(confusion)     \
    X(lrfind)        \
    X(domain)        \
    X(status)        \
    X(cmdline)       \
    X(footer)        \
    X(pager)         \
    X(say)

enum { UI_LAYERS = 512, UI_NODES = 1024 };

/* What a key handler returns. */
enum { UI_PASS = 0, UI_HANDLED = 1 };

/* Where a panel draws: a rectangle of the layout (layout.h); the views
 * share the plots area, one at a time; UI_AT_SCREEN is an overlay. */
typedef enum ui_place {
    UI_AT_TITLE, UI_AT_TREE, UI_AT_LRBAR, UI_AT_VIEW, UI_AT_STATUS, UI_AT_CMDLINE, UI_AT_FOOTER,
    UI_AT_SCREEN
} ui_place;

typedef enum ui_event_kind {
    UI_EV_SESSION,               /* a training event, in sess */
    UI_EV_MODEL,                 /* a new model (load, reset): start afresh */
    UI_EV_SAMPLE,                /* twice a second while training runs; ui.layers is fresh */
    UI_EV_SAY,                   /* a lesson's narration, in text */
    UI_EV_EDIT,                  /* open the command line holding text */
    UI_EV_PAGE,                  /* show text (several lines) in the pager, under title */
} ui_event_kind;

typedef struct ui_event {
    ui_event_kind kind;
    const sess_event *sess;
    const char *text;
    const char *title;
} ui_event;

typedef struct ui ui;
typedef struct ui_panel ui_panel;

typedef struct ui_panel_ops {
    const char *name;
    ui_place place;
    size_t size;                                      /* the bytes of p->state, zeroed */
    int (*init)(ui_panel *p);                         /* optional; 1: out of memory */
    void (*fini)(ui_panel *p);                        /* optional */
    void (*update)(ui_panel *p, const ui_event *ev);  /* optional */
    void (*draw)(ui_panel *p, layout_rect r);
    int (*key)(ui_panel *p, int key);                 /* optional; UI_HANDLED or UI_PASS */
} ui_panel_ops;

struct ui_panel {
    const ui_panel_ops *ops;
    ui *ui;
    void *state;
    layout_rect at;              /* where it was drawn last; empty when it was not */
};

#define UI_PANEL_DECLARE(name) extern const ui_panel_ops ui_##name##_panel;
UI_PANELS(UI_PANEL_DECLARE)
#undef UI_PANEL_DECLARE
#define UI_PANEL_COUNT_ONE(name) +1
enum { UI_PANEL_COUNT = 0 UI_PANELS(UI_PANEL_COUNT_ONE) };
#undef UI_PANEL_COUNT_ONE

/* What the panels share. */
struct ui {
    app a;
    ui_panel panel[UI_PANEL_COUNT];
    sess_layer layers[UI_LAYERS];   /* the model's layers, fetched each frame and each sample */
    int nlayers;
    unsigned generation;         /* the app's model generation the panels were told of */
    int view;                    /* which view panel the plots area shows, 0 the first */
    int lesson_ahead;            /* a lesson has lines left to run */
    ui_panel *focus;             /* takes every key while set: the command line */
    int cursor_y, cursor_x;      /* where the focus wants the cursor */
    char msg[512];               /* the command line's message */
    /* What the command ui_run is running says, a line each, so one line
     * becomes the message and several open the pager. */
    char *said;
    size_t nsaid, said_cap;
    int said_lines, said_warn, capturing;
    unsigned msg_seq;            /* counts messages, so a lesson's prompt keeps the last one */
    int msg_warn;
    /* The tree's rows on screen, top down: each one's learning rate (NaN:
     * none to show), for the rate bars beside them. */
    double row_lr[UI_NODES];
    int nrow_lr;
    int tree_rows;               /* rows the tree drew, its header included */
};

/* One layer of the model's tree, walked depth first. */
typedef struct ui_node {
    const layer *l;
    int depth, parent;           /* parent: its index in the walk, -1 at the top */
} ui_node;

/* The current model's layers below the root, depth first, at most cap;
 * how many. None without a model. */
int ui_walk(const ui *u, ui_node *out, int cap);

/* Renders ch into c (made anew when r's size changed) and draws it at r,
 * the chart's colour indices mapped to the screen's colours. */
void ui_chart(chart_cells *c, layout_rect r, const chart *ch);

/* Brings the view panel p to the front of the plots area. */
void ui_show(ui *u, const ui_panel *p);

/* Events to every panel, in UI_PANELS order. */
void ui_post(ui *u, const ui_event *ev);

/* A message on the command line (warn: in the warning colour). */
void ui_message(ui *u, int warn, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs a command of app.h's language as the `:` line does: an error, what
 * the command said (several lines in the pager) or the command itself on
 * the command line, a new model to every panel. */
void ui_run(ui *u, const char *line);

#endif
