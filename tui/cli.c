/* cli.c — printing for the line-mode front ends. */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runlog.h"

void cli_print(FILE *to, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t cap = 4 * (size_t)n + 8;
    char *text = malloc((size_t)n + 1), *safe = malloc(cap);
    if (text && safe) {
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
        fputs(utf8_quote_text(safe, cap, text), to);
    }
    free(text);
    free(safe);
}

void cli_json_string(FILE *to, const char *s)
{
    fputc('"', to);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(to, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7F)
            fprintf(to, "\\u%04x", *p);
        else
            fputc(*p, to);
    }
    fputc('"', to);
}

static void cli_say(void *ctx, app_say_kind kind, const char *text)
{
    cli_out *c = ctx;
    if (kind == APP_PROGRESS) {
        if (c->tty && !c->quiet) {
            char safe[1024];
            fprintf(stderr, "\r%s\033[K", utf8_quote(safe, sizeof safe, text));
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
        cli_print(stderr, "thaw: %s\n", text);
    else if (kind == APP_SAY)
        cli_print(c->out, "\n  %s\n\n", text);
    else if (!c->quiet)
        cli_print(c->out, "%s\n", text);
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

void cli_stopped(const app *a)
{
    if (a->run)
        cli_print(stderr, "thaw: stopped by a signal; the run folder %s holds what was saved\n",
                  runlog_dir(a->run));
    else
        cli_print(stderr, "thaw: stopped by a signal before training began\n");
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
#define DEFAULT_DATA "fashion:classes=5-9,shots=5,val=50"
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

const char *cli_grouped(char *buf, size_t cap, unsigned long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", v), o = 0;
    for (int i = 0; i < n && o + 2 < (int)cap; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
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

double cli_delta_smoothed(const app *a)
{
    double s = NAN;
    for (int i = 0; i < a->nhistory; i++) {
        double d = a->history[i].delta;
        if (isfinite(d))
            s = isnan(s) ? d : CLI_DELTA_SMOOTH * s + (1 - CLI_DELTA_SMOOTH) * d;
    }
    return s;
}

static void field(FILE *to, const char *name, double v, int last)
{
    if (isnan(v) || isinf(v))
        cli_print(to, "\"%s\":null%s", name, last ? "" : ",");
    else
        cli_print(to, "\"%s\":%.6g%s", name, v, last ? "" : ",");
}

void cli_print_json(FILE *to, const app *a)
{
    const sess_eval *f = &a->final;
    double images = (double)app_labelled_images(a) * f->epoch;
    fputc('{', to);
    /* accuracy in %, Δ in points, as on screen and in thaw compare */
    field(to, "transfer_val_acc_pct", 100 * f->val_acc, 0);
    field(to, "transfer_test_acc_pct", 100 * f->test_acc, 0);
    field(to, "scratch_val_acc_pct", 100 * f->scratch_val_acc, 0);
    field(to, "scratch_test_acc_pct", 100 * f->scratch_test_acc, 0);
    field(to, "delta_transfer_pts", 100 * f->test_delta, 0);
    field(to, "delta_transfer_val_pts", 100 * f->delta, 0);
    field(to, "source_acc_pct", 100 * f->source_acc, 0);
    field(to, "epochs", f->epoch, 0);
    field(to, "epochs_to_95_transfer", cli_epochs_to_95(a, 0), 0);
    field(to, "epochs_to_95_scratch", cli_epochs_to_95(a, 1), 0);
    field(to, "img_s", f->train_s > 0 ? images / f->train_s : NAN, 0);
    field(to, "wall_s", f->wall, 0);     /* steps and evaluations */
    field(to, "train_s", f->train_s, 0); /* steps alone */
    field(to, "trainable_params", (double)app_count(a, 1), 0);
    cli_print(to, "\"strategy\":");
    cli_json_string(to, a->strategy_text[0] ? a->strategy_text : "plan");
    cli_print(to, ",\"run\":");
    cli_json_string(to, a->run ? runlog_dir(a->run) : "");
    cli_print(to, ",\"not_written\":[");
    char files[256];
    if (a->run)
        runlog_failures(a->run, files, sizeof files, NULL, 0);
    else
        files[0] = '\0';
    const char *sep = "";
    /* the run's own file names: nothing to escape */
    for (char *save, *name = strtok_r(files, " ", &save); name;
         name = strtok_r(NULL, " ", &save), sep = ",")
        cli_print(to, "%s\"%s\"", sep, name);
    cli_print(to, "]}\n");
}

int cli_run_incomplete(const app *a)
{
    char files[256];
    if (!a->run || !runlog_failures(a->run, files, sizeof files, NULL, 0) || !files[0])
        return 0;
    cli_print(stderr, "thaw: the run folder %s is incomplete; not written: %s\n", runlog_dir(a->run), files);
    return 1;
}
