/* prompt.c — readline set up once for thaw's prompts; see prompt.h. */
#include "prompt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>

static const app *completing;         /* the app whose words complete */
static int word_start;                /* where the word being completed starts */
static char history[4096];           /* "" when there is no folder to keep it in */
static FILE *quiet;                  /* readline's output inside curses */

/* $XDG_STATE_HOME/thaw (or ~/.local/state/thaw) and its parents made as
 * needed; the history file in it. */
static void history_path(char *out, size_t cap)
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

static char *next_word(const char *text, int state)
{
    static int iter;
    if (!state)
        iter = 0;
    const char *c = app_complete(completing, rl_line_buffer, word_start, text, &iter);
    return c ? strdup(c) : NULL;
}

/* File names where a command takes one (readline's own completion), the
 * app's words elsewhere. */
static char **complete(const char *text, int start, int end)
{
    (void)end;
    word_start = start;
    rl_attempted_completion_over = !app_complete_file(rl_line_buffer, start);
    return rl_attempted_completion_over ? rl_completion_matches(text, next_word) : NULL;
}

void prompt_begin(const prompt_opts *o)
{
    if (o->getc) {
        rl_catch_signals = 0;
        rl_catch_sigwinch = 0;
        rl_deprep_term_function = NULL;
        rl_prep_term_function = NULL;
        rl_change_environment = 0;
        rl_getc_function = o->getc;
        rl_input_available_hook = o->input_available;
        rl_redisplay_function = o->redisplay;
        rl_completion_display_matches_hook = o->show_choices;
        /* Whatever readline would still print (a bell) must not reach the
         * curses screen. */
        if ((quiet = fopen("/dev/null", "w")))
            rl_outstream = quiet;
    }
    if (o->name)
        rl_readline_name = o->name;
    completing = o->app;
    rl_attempted_completion_function = complete;
    history_path(history, sizeof history);
    if (history[0])
        read_history(history);
}

void prompt_end(void)
{
    if (history[0])
        write_history(history);
    if (quiet) {
        rl_outstream = NULL;
        fclose(quiet);
        quiet = NULL;
    }
}

void prompt_start(const char *prompt, const char *text, rl_vcpfunc_t *done)
{
    rl_callback_handler_install(prompt, done);
    if (text) {
        rl_replace_line(text, 0);
        rl_point = rl_end;
    }
}

void prompt_stop(void)
{
    rl_callback_handler_remove();
}
