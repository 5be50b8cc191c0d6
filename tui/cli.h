/* cli.h — what the line-mode front ends share: printing an app's output
 * (a progress line that rewrites itself on a terminal, plain lines when
 * piped), the JSON summary of a run, and opening an app on a model and data.
 */
#ifndef THAW_CLI_H
#define THAW_CLI_H

#include <stdio.h>

#include "app.h"

typedef struct cli_out {
    FILE *out;          /* lines */
    int tty;            /* progress goes to stderr, rewritten in place */
    int quiet;          /* only warnings */
    int progress_shown;
} cli_out;

/* Every line thaw's front ends print passes through here: printf-style,
 * with every byte that could drive a terminal (escape sequences in a file
 * name, a class name, a typed command) written as \xNN by utf8_quote_text;
 * line breaks are kept. */
void cli_print(FILE *to, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s as a JSON string, quotes included: '"', '\\' and control characters
 * escaped, so the line stays one valid JSON value. */
void cli_json_string(FILE *to, const char *s);

/* An app_out printing through c. */
void cli_out_init(cli_out *c, FILE *out, int quiet);
app_out cli_app_out(cli_out *c);

/* cli_out_init(c, out, quiet), then a in batch mode printing through c;
 * app_free(a) when done. */
void cli_open(app *a, cli_out *c, FILE *out, int quiet);

/* Batch mode's signals: the first SIGINT, SIGTERM or SIGHUP sets a's stop
 * flag (the run stops and saves its last checkpoint); a second SIGINT exits
 * at once. */
void cli_signals(app *a);

/* After a stop signal ended a batch run (a->stopped): says so on stderr,
 * and where the run's last checkpoint is. */
void cli_stopped(const app *a);

/* Runs one command, printing "thaw: MESSAGE" on failure; returns the status. */
int cli_exec(app *a, cli_out *c, const char *line);

/* Runs the command file at path ("-": standard input) in batch mode as a
 * lesson, after the lines of first (NULL-terminated; NULL for none); prints
 * FILE:LINE: why at the first failing line. The exit status. */
int cli_run_file(const char *path, const char *const *first);

/* The workbench's opening: model (NULL: models/fashion-resnet.json) and
 * data (NULL: classes 5-9 of Fashion-MNIST, 20 shots); when neither was
 * asked for and Fashion-MNIST is not installed, shapes-resnet on the
 * synthetic shapes, with *fallback set to 1 (the caller says so). The
 * first failing load's status, err saying why. */
int cli_load_default(app *a, const char *model_file, const char *data, int *fallback, thaw_err *err);
#define CLI_FALLBACK_NOTE "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): " \
                          "showing shapes-resnet on the synthetic shapes"

/* v with its thousands grouped, 1234567 as "1,234,567", into buf. */
const char *cli_grouped(char *buf, size_t cap, unsigned long long v);

/* Epochs until the accuracy series first reached 95% of its final value
 * (scratch selects the baseline's); NaN without a final evaluation. */
double cli_epochs_to_95(const app *a, int scratch);

/* Δtransfer on validation as the plots draw it smoothed: the exponential
 * moving average (weight CLI_DELTA_SMOOTH) of every evaluation's Δ; NaN
 * before one. "Negative transfer" is claimed only when this is below 0, so
 * one noisy evaluation of the baseline cannot flip the lesson. */
#define CLI_DELTA_SMOOTH 0.6
double cli_delta_smoothed(const app *a);

/* When writes into a's run folder failed (runlog_failures), says which
 * files it lacks on stderr and returns 1; else 0. */
int cli_run_incomplete(const app *a);

/* The run's summary as one JSON object on one line (NaN as null);
 * "not_written" lists the run folder's files whose writes failed. */
void cli_print_json(FILE *to, const app *a);

#endif
