/* prompt.h — the readline prompt of `thaw repl` and of the workbench's `:`
 * line, set up in one place: the history kept in the XDG state folder
 * ($XDG_STATE_HOME/thaw/history, else ~/.local/state/thaw/history), tab
 * completion of the command language's words (app_complete) and of file
 * names where a command takes one, and readline's callback interface
 * so the caller's loop keeps polling while the user types.
 *
 *     prompt_begin(&(prompt_opts){ .name = "thaw", .app = &a });
 *     prompt_start("thaw> ", NULL, on_line);   // on_line(char *line) owns line
 *     while (...) { poll(...); rl_callback_read_char(); ... }
 *     prompt_stop();
 *     prompt_end();
 *
 * Inside curses readline must neither touch the terminal nor catch signals:
 * give getc, input_available and redisplay, and it reads the keys the
 * caller passes in and leaves the drawing to the caller. */
#ifndef THAW_PROMPT_H
#define THAW_PROMPT_H

#include <stdio.h>

#include <readline/readline.h>

#include "app.h"

typedef struct prompt_opts {
    const char *name;                 /* rl_readline_name, for $if in ~/.inputrc; NULL: readline's */
    const app *app;                   /* whose commands, settings and layers complete */
    rl_getc_func_t *getc;             /* NULL on a plain terminal; the three hooks inside curses */
    rl_hook_func_t *input_available;
    rl_voidfunc_t *redisplay;
    /* Inside curses: Tab's choices (readline's matches: [0] the common
     * part, then n choices) go here instead of to the terminal. */
    rl_compdisp_func_t *show_choices;
} prompt_opts;

/* Sets readline up as o says and reads the history (a missing file is a
 * first run, not an error). */
void prompt_begin(const prompt_opts *o);

/* Writes the history back. */
void prompt_end(void);

/* Shows prompt, the line holding text (NULL: empty) with the cursor at its
 * end; readline calls done with each finished line (NULL at end of input). */
void prompt_start(const char *prompt, const char *text, rl_vcpfunc_t *done);

/* Ends the line prompt_start began. */
void prompt_stop(void);

#endif
