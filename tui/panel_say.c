/* panel_say.c — the narration box a lesson's `say` opens over the screen:
 * the text wrapped at spaces (never inside a UTF-8 character), as many
 * lines as the screen allows, and how to go on. Any key closes it; `>`
 * also goes on to the lesson's next step. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "screen.h"

typedef struct say {
    char text[1024];             /* "" when closed */
} say;

static void say_update(ui_panel *p, const ui_event *ev)
{
    say *s = p->state;
    if (ev->kind == UI_EV_SAY)
        snprintf(s->text, sizeof s->text, "%s", ev->text);
}

static void say_draw(ui_panel *p, layout_rect r)
{
    enum { SAY_LINES = 40 };
    const say *s = p->state;
    int rows = r.h, cols = r.w;
    if (!s->text[0])
        return;
    int bw = cols - 8 < 72 ? cols - 8 : 72, most = rows - 6 < SAY_LINES ? rows - 6 : SAY_LINES;
    if (bw < 20 || most < 1)
        return;
    char lines[SAY_LINES][128];
    int n = 0;
    const char *t = s->text;
    while (*t && n < most) {
        int len = (int)strlen(t), take = len < bw - 4 ? len : bw - 4;
        if (take < len) {
            int k = take;
            while (k > 0 && t[k] != ' ')
                k--;
            if (k > 0)
                take = k;
            else
                while (take > 0 && (t[take] & 0xC0) == 0x80)
                    take--;
        }
        snprintf(lines[n++], sizeof lines[0], "%.*s", take, t);
        t += take;
        while (*t == ' ')
            t++;
    }
    if (*t)   /* more than fits: the last line says so */
        snprintf(lines[n - 1], sizeof lines[0], "%s", screen_glyph("… (enlarge the terminal for the rest)",
                                                                   "... (enlarge the terminal for the rest)"));
    const char *hint = p->ui->lesson_ahead ? "any key closes, > goes on" : "any key closes";
    int bh = n + 5, x0 = r.x + (cols - bw) / 2, y0 = r.y + (rows - bh) / 2;
    attron(A_REVERSE | A_BOLD);
    for (int y = 0; y < bh; y++)
        screen_fill(y0 + y, x0, bw);
    for (int i = 0; i < n; i++)
        screen_put(y0 + 2 + i, x0 + 2, bw - 4, lines[i]);
    attroff(A_BOLD);
    screen_put(y0 + bh - 2, x0 + bw - 2 - (int)strlen(hint), (int)strlen(hint), hint);
    attroff(A_REVERSE);
}

/* An open box closes on any key but a resize; `>` then goes on to the
 * workbench, which runs the lesson's next step. */
static int say_key(ui_panel *p, int key)
{
    say *s = p->state;
    if (!s->text[0] || key == KEY_RESIZE || key == KEY_MOUSE)
        return UI_PASS;
    s->text[0] = '\0';
    return key == '>' ? UI_PASS : UI_HANDLED;
}

const ui_panel_ops ui_say_panel = {
    .name = "say",
    .place = UI_AT_SCREEN,
    .size = sizeof(say),
    .update = say_update,
    .draw = say_draw,
    .key = say_key,
};
