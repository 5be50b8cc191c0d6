/* cmd_run.c — `thaw run FILE` executes a command file (a lesson, a run's
 * session.thaw) in batch mode; `thaw repl` reads commands at a readline
 * prompt (prompt.h) while training runs in the background, with tab
 * completion of commands, settings, strategies and layer names. Both feed the one command table in app.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli.h"
#include "commands.h"
#include "paths.h"
#include "prompt.h"

int cli_run_file(const char *path, const char *const *first)
{
    app_lesson l;
    thaw_err err = {0};
    if (app_lesson_open(&l, path, &err)) {
        cli_print(stderr, "thaw run: %s\n", err.msg);
        return 1;
    }
    cli_out c;
    app a;
    cli_open(&a, &c, stdout, 0);
    cli_signals(&a);
    int rc = 0;
    for (int i = 0; first && first[i] && !rc; i++)
        rc = cli_exec(&a, &c, first[i]) ? 1 : 0;
    app_lesson_state st = rc ? APP_LESSON_DONE : APP_LESSON_RAN;
    while (st == APP_LESSON_RAN)
        st = app_lesson_step(&l, &a, &err);
    if (st == APP_LESSON_FAILED) {
        cli_print(stderr, "%s:%d: %s\n", l.path, l.next, err.msg);
        rc = 1;
    }
    if (a.stopped) {
        cli_stopped(&a);
        rc = 1;
    }
    if (cli_run_incomplete(&a))
        rc = 1;
    app_lesson_close(&l);
    app_free(&a);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc != 2 || help) {
        fprintf(help ? stdout : stderr,
                "usage: thaw run FILE     (FILE - reads standard input)\n"
                "  runs the workbench commands in FILE, one per line, waiting for each train;\n"
                "  stops at the first failing line (FILE:LINE: why). `help` in thaw repl lists\n"
                "  the commands; examples/lessons/ holds lessons to run.\n");
        return help ? 0 : 2;
    }
    return cli_run_file(argv[1], NULL);
}

/* ---- the prompt ------------------------------------------------------------ */

static app *the_app;            /* readline's callbacks take no context */
static cli_out *the_out;


/* Output arriving while the user types: clear the prompt, print, redraw. */
static void repl_say(void *ctx, app_say_kind kind, const char *text)
{
    cli_out *c = ctx;
    if (kind == APP_PROGRESS)
        return;                   /* a prompt has no room for a live line */
    int saved = rl_point;
    char *line = rl_copy_text(0, rl_end);
    rl_save_prompt();
    rl_replace_line("", 0);
    rl_redisplay();
    cli_print(kind == APP_WARN ? stderr : c->out, "%s%s\n", kind == APP_WARN ? "thaw: " : "", text);
    fflush(c->out);
    rl_restore_prompt();
    rl_replace_line(line ? line : "", 0);
    rl_point = saved;
    rl_forced_update_display();
    free(line);
}

static void on_line(char *line)
{
    if (!line) {                  /* end of input */
        the_app->quit = 1;
        cli_print(stdout, "\n");
        return;
    }
    if (*line)
        add_history(line);
    thaw_err err = {0};
    if (app_exec(the_app, line, &err))
        repl_say(the_out, APP_WARN, err.msg);
    free(line);
}

/* Without a terminal: whole lines from stdin, each long command waiting;
 * a line too long or holding a NUL byte is refused, never split. */
static int repl_lines(app *a)
{
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, got;
    for (long n = 1; !a->quit; n++) {
        thaw_err err = {0};
        if ((got = app_read_line(stdin, &line, &cap, &err)) == 0)
            break;
        if (got < 0 || app_exec(a, line, &err)) {
            cli_print(stderr, "thaw: line %ld: %s\n", n, err.msg);
            rc = 1;
        }
    }
    free(line);
    return rc;
}

int cmd_repl(int argc, char **argv)
{
    const char *model_file = NULL, *data = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (argv[i][0] != '-' && !model_file)
            model_file = argv[i];
        else {
            cli_print(stderr, "usage: thaw repl [MODEL.json] [--data SPEC]\n");
            return 2;
        }
    }
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    cli_out c;
    cli_out_init(&c, stdout, 0);
    app a;
    app_out out = tty ? (app_out){ .ctx = &c, .say = repl_say } : cli_app_out(&c);
    app_init(&a, &out, !tty);
    /* The workbench's model and task unless told otherwise. */
    thaw_err err = {0};
    int fallback, failed = 0;
    if (cli_load_default(&a, model_file, data, &fallback, &err)) {
        out.say(out.ctx, APP_WARN, err.msg);
        failed = 1;
    } else if (fallback) {
        out.say(out.ctx, APP_WARN, CLI_FALLBACK_NOTE);
    }
    if (!tty) {
        /* Without a terminal nobody can fix what did not load: the commands
         * still run, and the status says it failed. */
        int rc = repl_lines(&a) || failed;
        app_free(&a);
        return rc;
    }
    the_app = &a;
    the_out = &c;
    prompt_begin(&(prompt_opts){ .name = "thaw", .app = the_app });
    cli_print(stdout, "thaw: type help for the commands, quit to leave\n");
    prompt_start("thaw> ", NULL, on_line);
    while (!a.quit) {
        struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
                               { .fd = a.sess ? sess_fd(a.sess) : -1, .events = POLLIN } };
        if (poll(p, 2, 250) < 0 && errno != EINTR)
            break;
        if (p[0].revents & (POLLIN | POLLHUP))
            rl_callback_read_char();
        app_pump(&a, 0);
    }
    prompt_stop();
    prompt_end();
    app_free(&a);
    return 0;
}
