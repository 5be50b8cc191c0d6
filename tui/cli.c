/* cli.c — printing for the line-mode front ends. */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "runlog.h"

static void cli_say(void *ctx, app_say_kind kind, const char *text)
{
    cli_out *c = ctx;
    if (kind == APP_PROGRESS) {
        if (c->tty && !c->quiet) {
            fprintf(stderr, "\r%s\033[K", text);
            fflush(stderr);
            c->progress_shown = 1;
        }
        return;
    }
    if (c->progress_shown) {
        fprintf(stderr, "\r\033[K");
        c->progress_shown = 0;
    }
    if (kind == APP_WARN)
        fprintf(stderr, "thaw: %s\n", text);
    else if (kind == APP_SAY)
        fprintf(c->out, "\n  %s\n\n", text);
    else if (!c->quiet)
        fprintf(c->out, "%s\n", text);
    fflush(c->out);
}

void cli_out_init(cli_out *c, FILE *out, int quiet)
{
    memset(c, 0, sizeof *c);
    c->out = out;
    c->quiet = quiet;
    c->tty = isatty(STDERR_FILENO);
}

app_out cli_app_out(cli_out *c)
{
    return (app_out){ .ctx = c, .say = cli_say };
}

void cli_open(app *a, cli_out *c, FILE *out, int quiet)
{
    cli_out_init(c, out, quiet);
    app_out ao = cli_app_out(c);
    app_init(a, &ao, 1);
}

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    if (sig == SIGINT && stop_requested)
        _exit(130);
    stop_requested = 1;
}

void cli_signals(app *a)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    a->stop = &stop_requested;
}

int cli_exec(app *a, cli_out *c, const char *line)
{
    thaw_err err = {0};
    int rc = app_exec(a, line, &err);
    if (rc)
        cli_say(c, APP_WARN, err.msg);
    return rc;
}

#define DEFAULT_MODEL "models/fashion-resnet.json"
#define DEFAULT_DATA "fashion:classes=5-9,shots=20,val=50"
#define FALLBACK_MODEL "models/shapes-resnet.json"
#define FALLBACK_DATA "shapes:classes=0-4,shots=20,val=50"

int cli_load_default(app *a, const char *model_file, const char *data, int *fallback, thaw_err *err)
{
    char line[8192];
    *fallback = 0;
    snprintf(line, sizeof line, "load model \"%s\"", model_file ? model_file : DEFAULT_MODEL);
    if (app_exec(a, line, err))
        return err->code;
    snprintf(line, sizeof line, "load data \"%s\"", data ? data : DEFAULT_DATA);
    if (app_exec(a, line, err) == THAW_OK)
        return THAW_OK;
    if (model_file || data || err->code != THAW_ENOTFOUND)
        return err->code;
    thaw_err why = *err;
    if (app_exec(a, "load model \"" FALLBACK_MODEL "\"", err) ||
        app_exec(a, "load data \"" FALLBACK_DATA "\"", err))
        return thaw_fail(err, err->code, "%s; %s", why.msg, err->msg);
    *fallback = 1;
    return THAW_OK;
}

double cli_epochs_to_95(const app *a, int scratch)
{
    double final = scratch ? a->final.scratch_val_acc : a->final.val_acc;
    if (isnan(final))
        return NAN;
    for (int i = 0; i < a->nhistory; i++) {
        const sess_eval *e = &a->history[i];
        double acc = scratch ? e->scratch_val_acc : e->val_acc;
        if (acc >= 0.95 * final)
            return e->epoch;
    }
    return NAN;
}

static void field(FILE *to, const char *name, double v, int last)
{
    if (isnan(v) || isinf(v))
        fprintf(to, "\"%s\":null%s", name, last ? "" : ",");
    else
        fprintf(to, "\"%s\":%.6g%s", name, v, last ? "" : ",");
}

void cli_print_json(FILE *to, const app *a)
{
    const sess_eval *f = &a->final;
    double images = (double)a->task.split[TASK_TRAIN].n * f->epoch;
    fputc('{', to);
    field(to, "transfer_val_acc", f->val_acc, 0);
    field(to, "transfer_test_acc", f->test_acc, 0);
    field(to, "scratch_val_acc", f->scratch_val_acc, 0);
    field(to, "scratch_test_acc", f->scratch_test_acc, 0);
    field(to, "delta_transfer", f->test_delta, 0);
    field(to, "delta_transfer_val", f->delta, 0);
    field(to, "source_acc", f->source_acc, 0);
    field(to, "epochs", f->epoch, 0);
    field(to, "epochs_to_95_transfer", cli_epochs_to_95(a, 0), 0);
    field(to, "epochs_to_95_scratch", cli_epochs_to_95(a, 1), 0);
    field(to, "img_s", f->wall > 0 ? images / f->wall : NAN, 0);
    field(to, "wall_s", f->wall, 0);
    field(to, "trainable_params", (double)app_count(a, 1), 0);
    fprintf(to, "\"strategy\":\"%s\",", a->strategy_text[0] ? a->strategy_text : "plan");
    fprintf(to, "\"run\":\"");
    for (const char *p = a->run ? runlog_dir(a->run) : ""; *p; p++)
        fprintf(to, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    fprintf(to, "\"}\n");
}
