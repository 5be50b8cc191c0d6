/* prompt.c — readline set up once for thaw's prompts; see prompt.h. */
#include "prompt.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>

static rl_compentry_func_t *words;
static char history[4096];           /* "" when there is no folder to keep it in */

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

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    return rl_completion_matches(text, words);
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
    }
    if (o->name)
        rl_readline_name = o->name;
    words = o->words;
    rl_attempted_completion_function = complete;
    history_path(history, sizeof history);
    if (history[0])
        read_history(history);
}

void prompt_end(void)
{
    if (history[0])
        write_history(history);
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
