/* panel_cmdline.c — the `:` command line: readline (prompt.h) fed one key
 * at a time from the curses loop, so the plots keep moving while the user
 * types; the last message when nobody types.
 *
 * Curses hands over its own codes for the editing keys; they reach
 * readline as the control keys its emacs map binds to the same commands
 * (Left as Ctrl-B, Home as Ctrl-A, Up as Ctrl-P, Backspace as Rubout, ...),
 * so Ctrl-A/E/K/U/W and Ctrl-R work as in any readline prompt. Escape
 * closes the line, Ctrl-L redraws the screen. Tab completes as in `thaw
 * repl`; the choices show in a menu just above the line, drawn by this
 * panel, never printed by readline. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>

#include "panel.h"
#include "prompt.h"
#include "screen.h"

enum { MENU_ROWS = 8 };

typedef struct cmdline {
    char **choices;              /* the last Tab's choices, shown until the next key */
    int nchoices;
} cmdline;

static ui_panel *the_line;           /* readline's callbacks take no context */
static int rl_input;
static int rl_input_avail;

static int line_getc(FILE *f)
{
    (void)f;
    rl_input_avail = 0;
    return rl_input;
}

static int line_input_avail(void) { return rl_input_avail; }
static void line_redisplay(void) { }

static void forget_choices(cmdline *c)
{
    for (int i = 0; i < c->nchoices; i++)
        free(c->choices[i]);
    free(c->choices);
    c->choices = NULL;
    c->nchoices = 0;
}

/* Readline's list of matches: [0] is the common prefix, then n choices. */
static void show_choices(char **matches, int n, int longest)
{
    (void)longest;
    cmdline *c = the_line->state;
    forget_choices(c);
    c->choices = calloc((size_t)n, sizeof *c->choices);
    if (!c->choices)
        return;
    for (int i = 0; i < n; i++)
        if ((c->choices[c->nchoices] = strdup(matches[i + 1])))
            c->nchoices++;
}

static void close_line(ui *u)
{
    u->focus = NULL;
    forget_choices(the_line->state);
    prompt_stop();
}

static void on_line(char *line)
{
    ui *u = the_line->ui;
    close_line(u);
    if (!line)
        return;
    if (*line) {
        add_history(line);
        ui_run(u, line);
    }
    free(line);
}

static int cmdline_init(ui_panel *p)
{
    the_line = p;
    prompt_begin(&(prompt_opts){ .app = &p->ui->a, .getc = line_getc,
                                 .input_available = line_input_avail, .redisplay = line_redisplay,
                                 .show_choices = show_choices });
    return 0;
}

static void cmdline_fini(ui_panel *p)
{
    if (p->ui->focus == p)
        close_line(p->ui);
    prompt_end();
    the_line = NULL;
}

static void cmdline_update(ui_panel *p, const ui_event *ev)
{
    if (ev->kind != UI_EV_EDIT)
        return;
    p->ui->focus = p;
    prompt_start("", ev->text, on_line);
}

/* The choices in columns on the rows above the line, as many rows as
 * MENU_ROWS allows; the last cell says how many did not fit. */
static void draw_choices(const cmdline *c, layout_rect r)
{
    int wide = 0;
    for (int i = 0; i < c->nchoices; i++) {
        int w = screen_columns(c->choices[i]);
        wide = w > wide ? w : wide;
    }
    int colw = wide + 2 < r.w ? wide + 2 : r.w;
    int ncols = colw > 0 ? r.w / colw : 1;
    ncols = ncols < 1 ? 1 : ncols;
    int nrows = (c->nchoices + ncols - 1) / ncols;
    nrows = nrows > MENU_ROWS ? MENU_ROWS : nrows;
    nrows = nrows > r.y ? r.y : nrows;
    int shown = nrows * ncols < c->nchoices ? nrows * ncols - 1 : c->nchoices;
    attron(A_REVERSE);
    for (int row = 0; row < nrows; row++)
        screen_fill(r.y - nrows + row, r.x, r.w);
    for (int i = 0; i < shown; i++)
        screen_put(r.y - nrows + i / ncols, r.x + (i % ncols) * colw + 1, colw - 1, c->choices[i]);
    if (shown < c->nchoices) {
        char more[32];
        snprintf(more, sizeof more, "+%d more", c->nchoices - shown);
        screen_put(r.y - 1, r.x + (ncols - 1) * colw + 1, colw - 1, more);
    }
    attroff(A_REVERSE);
}

static void cmdline_draw(ui_panel *p, layout_rect r)
{
    ui *u = p->ui;
    screen_fill(r.y, r.x, r.w);
    if (u->focus == p) {
        /* Readline's prompt is empty but while Ctrl-R searches. A line wider
         * than the screen scrolls so the cursor stays on it. */
        const char *prompt = rl_display_prompt && *rl_display_prompt ? rl_display_prompt : ":";
        char line[1024];
        int n = snprintf(line, sizeof line, "%s%s", prompt, rl_line_buffer ? rl_line_buffer : "");
        int at = (int)strlen(prompt) + rl_point;
        at = at < n ? at : n < (int)sizeof line ? n : (int)sizeof line - 1;
        int from = at >= r.w ? at - r.w + 1 : 0;
        while (from < at && (line[from] & 0xC0) == 0x80)
            from++;
        char c = line[at];
        line[at] = '\0';
        int col = screen_columns(line + from);
        line[at] = c;
        screen_put(r.y, r.x, r.w, line + from);
        u->cursor_y = r.y;
        u->cursor_x = r.x + (col < r.w ? col : r.w - 1);
        draw_choices(p->state, r);
        return;
    }
    if (u->msg_warn)
        attron(screen_color(SCREEN_WARN) | A_BOLD);
    screen_put(r.y, r.x, r.w, u->msg);
    if (u->msg_warn)
        attroff(screen_color(SCREEN_WARN) | A_BOLD);
}

/* A curses key as the byte readline's emacs map binds to the same command;
 * -1 for one it has no use for. */
static int readline_byte(int key)
{
    switch (key) {
    case KEY_LEFT: return 2;             /* Ctrl-B backward-char */
    case KEY_RIGHT: return 6;            /* Ctrl-F forward-char */
    case KEY_HOME: return 1;             /* Ctrl-A */
    case KEY_END: return 5;              /* Ctrl-E */
    case KEY_UP: return 16;              /* Ctrl-P previous-history */
    case KEY_DOWN: return 14;            /* Ctrl-N next-history */
    case KEY_BACKSPACE: case 8: return 127;   /* backward-delete-char */
    case KEY_DC: return rl_point < rl_end ? 4 : -1;   /* Ctrl-D, which at the end would be EOF */
    case KEY_ENTER: return '\r';
    }
    return key >= 0 && key < 256 ? key : -1;
}

/* While the line is open it has every key but a resize. */
static int cmdline_key(ui_panel *p, int key)
{
    if (p->ui->focus != p || key == KEY_RESIZE)
        return UI_PASS;
    forget_choices(p->state);
    if (key == 27) {                     /* Escape (screen_key tells it from the sequences) */
        close_line(p->ui);
        return UI_HANDLED;
    }
    if (key & SCREEN_ALT) {              /* Alt-B and friends: readline's Meta prefix */
        rl_input = 27;
        rl_input_avail = 1;
        rl_callback_read_char();
        key &= ~SCREEN_ALT;
    }
    if (key == 12) {                     /* Ctrl-L: readline would clear the terminal itself */
        clearok(curscr, TRUE);
        return UI_HANDLED;
    }
    int byte = readline_byte(key);
    if (byte < 0)
        return UI_HANDLED;
    rl_input = byte;
    rl_input_avail = 1;
    rl_callback_read_char();
    return UI_HANDLED;
}

const ui_panel_ops ui_cmdline_panel = {
    .name = "cmdline",
    .place = UI_AT_CMDLINE,
    .size = sizeof(cmdline),
    .init = cmdline_init,
    .fini = cmdline_fini,
    .update = cmdline_update,
    .draw = cmdline_draw,
    .key = cmdline_key,
};
