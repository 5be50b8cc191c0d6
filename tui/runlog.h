/* runlog.h — a run is a folder: what was asked for, what happened, and the
 * models it made.
 *
 *     runlog *r;
 *     if (runlog_open(&r, NULL, NULL, "finetune", config_text, &err)) ... err.msg ...
 *     // runs/20250301-142233-finetune/ now holds config.thaw and empty logs
 *     runlog_command(r, "train 20", &err);
 *     ... for each evaluation (sess_hooks.eval):  runlog_eval(r, e, &err);
 *     ... for each event (sess_hooks.event):      runlog_event(r, ev, &err);
 *     runlog_checkpoint(r, "best", &meta, transfer, &err);
 *     runlog_plots(r, &err);
 *     runlog_close(r);
 *
 * The folder holds:
 *
 *   config.thaw      the full configuration as replayable commands
 *   session.thaw     every command line given during the run, in order
 *   metrics.csv      a header, then one row per evaluation
 *   metrics.csv-metadata.json   its columns' types and units (W3C CSV on
 *                    the Web): accuracies and delta are fractions of 1
 *   metrics.jsonl    the same rows, one JSON object per line
 *   events.log       "step N epoch E KIND text", one line per event
 *   best.json/.safetensors, last.json/.safetensors    checkpoints
 *   loss.svg, accuracy.svg, delta.svg                 plots
 *   lrfind.csv, lrfind.svg                            the last lr-find's curve
 *
 * The metric columns, the JSON keys and the fields of sess_eval carry the
 * same names, in the struct's order: metrics.h's list. A value not measured (NaN) or not
 * finite is an empty CSV field and a JSON null. Numbers are written in
 * C-locale notation, as few digits as read back to the same double. Every
 * line is flushed as it is written, so a crash loses at most the line being
 * written, and a reader may follow the files while the run goes on.
 *
 * Runs are never overwritten: a folder that holds a config.thaw is a
 * previous run, and a log file that already exists is not appended to.
 *
 * Threads. Every function may be called from any thread (the session's
 * hooks run on the trainer thread, commands and exports on the UI thread):
 * they serialise on a lock inside the handle that is held only while rows
 * are copied or a line is written, never while plots are drawn or files are
 * saved. runlog_close must not race with the others.
 *
 * Errors: THAW_EINVAL, THAW_EIO naming the file and what went wrong,
 * THAW_ENOMEM; see each function. Nothing here prints or exits.
 */
#ifndef THAW_RUNLOG_H
#define THAW_RUNLOG_H

#include "modelfile.h"
#include "session.h"

typedef struct runlog runlog;

/* Starts a run. With dir set, creates it (and its parents) if need be;
 * THAW_EINVAL naming it when it holds a previous run (a config.thaw). With
 * dir NULL, creates ROOT/YYYYMMDD-HHMMSS-LABEL (local time; root NULL is
 * "runs"; label NULL or "" is "run", any byte but letters, digits, '-', '_'
 * and '.' becomes '_', at most 48 bytes), adding -2, -3, ... when that
 * name is taken. Writes config_text (NULL: empty) as config.thaw
 * and metrics.csv-metadata.json
 * atomically, creates session.thaw, metrics.csv (its header line written),
 * metrics.jsonl and events.log. THAW_EIO naming the path that could not be
 * made or written, THAW_ENOMEM. On failure *r is NULL; files already
 * written stay. */
int runlog_open(runlog **r, const char *dir, const char *root, const char *label, const char *config_text,
                thaw_err *err);

/* metrics.csv-metadata.json's text, appended to b (b->failed: out of
 * memory): metrics.csv's columns in order with their types and units, as
 * W3C CSV on the Web metadata, the file CSVW tools look for beside
 * metrics.csv. metrics.csv itself stays a header and rows, as every CSV
 * reader expects; this file says that accuracies and delta are fractions of
 * 1, times are seconds and an empty field was not measured. */
#define RUNLOG_CSV_METADATA "metrics.csv-metadata.json"
struct plot_buf;
void runlog_csv_metadata(struct plot_buf *b);

/* The run's folder, as opened ("runs/20250301-142233-finetune"); lives as
 * long as r. */
const char *runlog_dir(const runlog *r);

/* Appends one evaluation to metrics.csv and metrics.jsonl and keeps it for
 * the plots. THAW_EIO naming the file, THAW_ENOMEM. */
int runlog_eval(runlog *r, const sess_eval *e, thaw_err *err);

/* Appends "step N epoch E KIND text" to events.log for SEV_CHANGE
 * ("change"), SEV_STATE ("state", the state's name before the text),
 * SEV_NONFINITE ("nonfinite"), SEV_ERROR ("error"), SEV_NOTE ("note") and a finished
 * SEV_LRFIND ("lrfind", "suggested rate R" before the text); other events
 * are ignored (THAW_OK). Line breaks in the text become spaces. SEV_CHANGE
 * events are kept as markers for the plots. THAW_EIO, THAW_ENOMEM. */
int runlog_event(runlog *r, const sess_event *ev, thaw_err *err);

/* Appends a command line (one trailing line break dropped) to session.thaw.
 * THAW_EINVAL for a line with a line break inside (it would replay as two),
 * THAW_EIO. */
int runlog_command(runlog *r, const char *line, thaw_err *err);

/* Saves m with meta as DIR/NAME.json and DIR/NAME.safetensors atomically
 * (mf_save). name is letters, digits, '-' and '_' ("best", "last"), else
 * THAW_EINVAL; mf_save's errors otherwise (THAW_ENONFINITE: nothing was
 * written). */
int runlog_checkpoint(runlog *r, const char *name, const mf_meta *meta, const model *m, thaw_err *err);

/* Writes DIR/loss.svg, DIR/accuracy.svg and DIR/delta.svg from the rows so
 * far, each atomically. x is the step; the top edge marks the epochs done;
 * SEV_CHANGE events are vertical markers. loss: train and validation loss of
 * the transferred model and the scratch baseline. accuracy: validation
 * accuracy of both, test accuracy as points, the source task's accuracy
 * (forgetting) when measured. delta: validation Δtransfer, test Δ as
 * points, the zero line, and below it the region of negative transfer.
 * Series never measured are left out. THAW_EIO, THAW_ENOMEM. */
int runlog_plots(runlog *r, thaw_err *err);

/* The rows as CSV (header and rows as in metrics.csv) at path, atomically.
 * THAW_EIO, THAW_ENOMEM. */
int runlog_export_metrics(const runlog *r, const char *path, thaw_err *err);

/* The three plots stacked in one SVG file at path, atomically. THAW_EIO,
 * THAW_ENOMEM. */
int runlog_export_plots(const runlog *r, const char *path, thaw_err *err);

/* Writes DIR/lrfind.csv (rate, smoothed_loss, suggested: 1 on the point
 * nearest the suggestion) and DIR/lrfind.svg (the loss against the rate on a
 * log axis, the suggestion marked) from an lr-find's n points, atomically.
 * suggestion NaN: none (the sweep diverged too soon). THAW_EINVAL, THAW_EIO,
 * THAW_ENOMEM. */
int runlog_lrfind(runlog *r, const double *rate, const double *loss, int n, double suggestion,
                  thaw_err *err);

/* What the run could not write: every function above that writes into the
 * folder records its failures (the message it returned). A checkpoint or the
 * plots count as not written while their last write failed; a log that lost
 * a line stays counted. Writes the names of those files, separated by
 * spaces ("best.json plots metrics.csv"; "" for none), into files and the
 * latest failure's message into why (either cap may be 0), and returns how
 * many writes have failed so far, so a caller can tell that a new one did. */
unsigned runlog_failures(const runlog *r, char *files, size_t cap, char *why, size_t why_cap);

/* Closes the files and frees r (NULL is fine). */
void runlog_close(runlog *r);

#endif
