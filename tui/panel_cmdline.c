/* panel_cmdline.c — the `:` command line: readline (prompt.h) fed one key
 * at a time from the curses loop, so the plots keep moving while the user
 * types; the last message when nobody types. Tab completes as in `thaw
 * repl` (prompt.h). */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <readline/history.h>

#include "panel.h"
#include "prompt.h"
#include "screen.h"

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

static void close_line(ui *u)
{
    u->focus = NULL;
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
                                 .input_available = line_input_avail, .redisplay = line_redisplay });
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

static void cmdline_draw(ui_panel *p, layout_rect r)
{
    ui *u = p->ui;
    screen_fill(r.y, r.x, r.w);
    if (u->focus == p) {
        char line[1024];
        snprintf(line, sizeof line, ":%s", rl_line_buffer ? rl_line_buffer : "");
        screen_put(r.y, r.x, r.w, line);
        u->cursor_y = r.y;
        u->cursor_x = r.x + 1 + rl_point;
        return;
    }
    if (u->msg_warn)
        attron(screen_color(SCREEN_WARN) | A_BOLD);
    screen_put(r.y, r.x, r.w, u->msg);
    if (u->msg_warn)
        attroff(screen_color(SCREEN_WARN) | A_BOLD);
}

/* While the line is open it has every key but a resize. */
static int cmdline_key(ui_panel *p, int key)
{
    if (p->ui->focus != p || key == KEY_RESIZE)
        return UI_PASS;
    if (key == 27 && rl_end == 0) {          /* Escape on an empty line closes it */
        close_line(p->ui);
        return UI_HANDLED;
    }
    rl_input = key;
    rl_input_avail = 1;
    rl_callback_read_char();
    return UI_HANDLED;
}

const ui_panel_ops ui_cmdline_panel = {
    .name = "cmdline",
    .place = UI_AT_CMDLINE,
    .init = cmdline_init,
    .fini = cmdline_fini,
    .update = cmdline_update,
    .draw = cmdline_draw,
    .key = cmdline_key,
};
