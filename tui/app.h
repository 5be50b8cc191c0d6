/* app.h — the workbench behind every front end: a model, a target task, a
 * plan (freezing, rates, strategy, settings), a training session and its run
 * folder, all driven by one command language. `thaw run`, `thaw repl`,
 * `thaw train` and the curses screen all feed app_exec.
 *
 *     app a;
 *     app_init(&a, &(app_out){ .ctx = NULL, .say = print_line }, 1);   // batch mode
 *     if (app_exec(&a, "load model models/fashion-resnet.json", &err) ||
 *         app_exec(&a, "load data fashion:classes=5-9,shots=20,val=50", &err) ||
 *         app_exec(&a, "strategy feature-extraction", &err) ||
 *         app_exec(&a, "train 30", &err))        // batch mode: returns when done
 *         ... err.msg ...
 *     a.final.test_delta ...
 *     app_free(&a);
 *
 * The command language (one line each; '#' starts a comment; the table in
 * app.c is also the help text, and the settings' table in app_settings.c
 * feeds `set`, `help set`, completion, config.thaw and the command-line
 * flags):
 *
 *     load model FILE            load data SPEC
 *     freeze PATTERN...          unfreeze PATTERN... [at=EPOCH]
 *     lr PATTERN RATE            lr-decay FACTOR
 *     strategy NAME [KEY=VALUE...]
 *     set KEY VALUE [KEY VALUE...]
 *     train [EPOCHS]  step  pause  resume  stop  eval
 *     lr-find [start=R] [end=R] [steps=N]
 *     save FILE.json             export metrics FILE.csv | export plots FILE.svg
 *     show [layers|settings|confusion]  help [COMMAND]       reset       quit
 *     say TEXT      pause-for-key      expect METRIC OP VALUE      if-quick COMMAND
 *     lock COMMAND...   unlock COMMAND...|all   hide PART...   unhide PART...|all
 *
 * The last two lines are for lessons (examples/lessons/): say narrates,
 * pause-for-key lets the presenter set the pace (a no-op in batch mode),
 * expect checks a result of the last evaluation — METRIC is a field of
 * metrics.csv (val_acc, test_delta, ...), OP one of < <= > >= — and fails
 * the lesson, saying so plainly, when it does not hold; if-quick runs its
 * command only when THAW_QUICK=1 (lessons scale down for CI). lock and hide
 * are instructor mode: locked commands (and their keys) are refused for the
 * audience, hidden parts leave the screen.
 *
 * PATTERN is "all", a dotted layer path or a glob ("stage*", "stage3.*").
 * Until the first train (or step, eval, lr-find) the plan is edited in place;
 * that command starts the session and the run folder, and from then on
 * changes go to the session and take effect at the next step. In batch mode
 * train, step, eval and lr-find wait for the session to finish; otherwise
 * they return at once and app_pump reports progress. Numbers are read and
 * written in C-locale notation whatever the locale.
 */
#ifndef THAW_APP_H
#define THAW_APP_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

#include "augment.h"
#include "modelfile.h"
#include "session.h"
#include "overlay.h"
#include "task.h"

struct runlog;

typedef enum app_say_kind {
    APP_INFO,        /* a line of output */
    APP_WARN,        /* something the user should know, not an error */
    APP_PROGRESS,    /* the progress line: may overwrite the previous one */
    APP_EVAL,        /* one evaluation, as a line */
    APP_SAY,         /* a lesson's narration (say): printed, or a box on screen */
} app_say_kind;

typedef struct app_out {
    void *ctx;
    void (*say)(void *ctx, app_say_kind kind, const char *text);
    /* Every session event app_pump handles, before it reports it (may be NULL). */
    void (*event)(void *ctx, const sess_event *ev);
} app_out;

/* Settings a `set` changes, with the session's configuration. */
typedef struct app_settings {
    sess_config sess;
    int epochs;                 /* train's default */
    float lr;                   /* the head's base rate (strategies use it) */
    augment aug;
    int train_bn;
    int threads;                /* BLIS threads; 0 = THAW_THREADS */
    unsigned long long seed;    /* head and baseline initialisation, data cut */
    char source[TASK_SPEC_MAX]; /* the labelled source-domain images adaptation trains on
                                   (a data spec); "": the model's own data set */
} app_settings;

#define APP_TAGGED_MAX 64
#define APP_OVERLAYS 4

typedef struct app {
    app_out out;
    int batch;                  /* batch mode: long commands wait */
    app_settings set;
    char model_path[TASK_PATH_MAX];
    char data_spec[TASK_SPEC_MAX];
    char run_dir[TASK_PATH_MAX];        /* "": runs/DATE-TIME-STRATEGY */
    char strategy_text[STRATEGY_TEXT_MAX];

    mf_meta source_meta;        /* the model file as loaded */
    txt_vocab vocab;            /* a text model's vocabulary (n 0: none) */
    int have_model, have_data;
    task task;
    mf_meta meta;               /* the transferred model's description */
    model plan;                 /* the transferred model before the session */
    int have_plan;
    session *sess;
    struct runlog *run;
    float *source_x;            /* the source task's test images, for the forgetting monitor */
    int *source_y;
    int source_n;
    float *domain_x;            /* labelled source-domain images in the target's classes, */
    int *domain_y;              /* for the adaptation techniques that train on a source */
    int domain_n;
    /* Trainer thread only: how far the transferred model has trained, for
     * the provenance of a save while a session exists. */
    int trained_epochs;
    double trained_test_acc;    /* of the latest evaluation if it was final, else -1 */

    sess_eval last;             /* the last evaluation */
    sess_eval final;            /* the last final evaluation (NaN fields before one) */
    sess_eval *history;         /* every evaluation */
    int nhistory, caphistory;
    double lr_suggestion;       /* the last lr-find's, NaN before one */
    double *lrf_rate, *lrf_loss;    /* the last lr-find's curve: rate, smoothed loss */
    int lrf_n, lrf_cap;
    int lrf_done;               /* the curve is whole (the sweep ended) */
    int logged;                 /* the verb being run wrote its own line to session.thaw */
    run_curve overlay[APP_OVERLAYS];   /* earlier runs drawn beside this one (overlay DIR) */
    int noverlay;
    int testing_done, testing_total;   /* the final test pass, while it runs (total 0: none) */
    int target_epoch;           /* where the current train command ends */
    unsigned generation;        /* changes whenever the model is replaced (load, reset) */
    int verbose_lrfind;         /* report every point of the lr-find curve as a line */
    int quit;                   /* quit was given, or a stop signal ended a batch run */
    /* Batch mode: when *stop becomes non-zero (a signal handler sets it),
     * the running command stops (training saves its last checkpoint, without
     * a final pass over the data), the app quits and stopped is set. */
    volatile sig_atomic_t *stop;
    int stopped;
    unsigned failures_seen;     /* the run log's failed writes reported so far */
    int diverged;               /* a value went non-finite during the last batch command */
    char diverged_text[192];
    /* Lessons. */
    int lesson;                 /* > 0 while app_exec runs a lesson's line: locks do not apply */
    /* Replays that replay: a change typed while a run trains is written to
     * session.thaw as `at STEP LINE` once the session says at which step it
     * took effect (its SEV_CHANGE carries the tag); `at` lines read before
     * the session exists wait in at_lines for the next train. */
    long at_step;               /* the step the command being run applies at (0: now) */
    int tag_seq, cur_tag;
    int no_log;                 /* > 0: app_exec does not write to session.thaw */
    char *tagged[APP_TAGGED_MAX];   /* the lines waiting for their step, by tag % APP_TAGGED_MAX */
    int tagged_tag[APP_TAGGED_MAX];
    char **at_lines;
    int nat_lines;
    int wait_key;               /* pause-for-key ran: a front end waits for the presenter */
    unsigned long long locked;  /* bit i: verb i of app_verbs is locked for the audience */
    unsigned long long hidden;  /* bit i: part i of app_parts is hidden */
} app;

void app_init(app *a, const app_out *out, int batch_mode);
void app_free(app *a);

/* Runs one command line. THAW_EINVAL for a malformed command, with a message
 * naming the command and what it expects; the errors of what it runs. */
int app_exec(app *a, const char *line, thaw_err *err);

/* A warning into out when the task's training images are far from the
 * model's pixel mean (t->geom) and their inversion would be close: dark
 * ink on white for a model that learned white on black. 0: none. */
#define APP_POLARITY_GAP 0.3
int app_polarity_text(const task *t, char *out, size_t cap);

/* Handles the session's events for up to timeout_ms (0: what is waiting),
 * reporting through a->out; returns how many were handled. */
int app_pump(app *a, int timeout_ms);

/* Reports, as a warning, a write into the run folder (a log line, a
 * checkpoint, the plots) that failed since the last report; app_pump calls
 * it. runlog_failures(a->run, ...) lists what is not written. */
void app_report_failures(app *a);

/* Loads what the first train needs beyond the plan (the source task's
 * images for the forgetting monitor), so a front end can do it while idle
 * instead of when training starts. */
void app_preload(app *a);

/* The labelled images an epoch trains on: the target's and the source's,
 * as the adaptation technique takes them (self-training's pseudo-labels not
 * counted). */
long app_labelled_images(const app *a);
/* Training steps in an epoch (at least 1): app_labelled_images over the
 * batch. The plots' x axis is steps over it. */
double app_steps_per_epoch(const app *a);

/* The command table, for help and completion. */
typedef struct app_verb {
    const char *name, *args, *help;
} app_verb;
const app_verb *app_verbs(int *n);

/* Completion for the prompts (tui/prompt.h): the candidates for the word
 * that starts at line[start] and begins with prefix, one per call, from the
 * word's place on the line — commands first, setting names after `set`,
 * strategies, keywords, metrics, the parts `hide` knows, and the current
 * model's layer paths (and `all`) after freeze, unfreeze and lr. Start with
 * *iter = 0; NULL when there are no more. The text lives as long as the
 * model or the program. */
const char *app_complete(const app *a, const char *line, int start, const char *prefix, int *iter);

/* 1 when the word that starts at line[start] is a file name (save FILE,
 * load model FILE, export metrics FILE). */
int app_complete_file(const char *line, int start);

/* Runs one line of a lesson: as app_exec, but the lesson's own commands
 * are never locked. */
int app_exec_lesson(app *a, const char *line, thaw_err *err);

/* What `hide` can hide: tree columns, the lr bar, plots. X(PART, its name). */
#define APP_PARTS(X)                                                                              \
    X(TYPE, "type") X(OUT, "out") X(PARAMS, "params") X(LR, "lr") X(DRIFT, "drift")              \
    X(GRAD, "grad") X(LRBAR, "lr-bar") X(LOSS, "loss") X(ACCURACY, "accuracy") X(DELTA, "delta")

enum app_part {
#define APP_PART_ENUM(part, name) APP_PART_##part,
    APP_PARTS(APP_PART_ENUM)
#undef APP_PART_ENUM
    APP_PART_COUNT
};
/* The parts' names in order, NULL-terminated. */
extern const char *const app_parts[APP_PART_COUNT + 1];
static inline int app_hidden(const app *a, enum app_part p) { return (a->hidden >> p) & 1; }
/* 1 when verb `name` is locked by a lesson. */
int app_locked(const app *a, const char *name);

/* The setting names `set` knows, NULL-terminated, in the order `help set`
 * lists them. */
extern const char *const app_setting_names[];

/* The defaults of a fresh app. */
void app_settings_default(app_settings *s);

/* Applies one `set KEY VALUE` to s (no session involved). THAW_EINVAL for an
 * unknown key (the message lists the settings) or a value out of range. */
int app_settings_set(app_settings *s, const char *key, const char *value, thaw_err *err);

/* The command-line flags of the settings, for thaw train, compare and
 * pretrain: `--KEY VALUE` for every setting, and for an on/off setting
 * `--KEY` (on) and `--no-KEY` (off) instead. When argv[*i] is one, sets
 * *key to the setting's name and *value to its value ("on"/"off" for the
 * bare forms), moves *i past a value it took and returns 1; 0 when argv[*i]
 * is no setting's flag; -1 when its value is missing. Feed the pair to
 * `set` (app_exec) or app_settings_set.
 *
 *     for (int i = 1; i < argc; i++)
 *         if (app_setting_flag(argc, argv, &i, &key, &value) > 0 &&
 *             app_settings_set(&s, key, value, &err)) ... err.msg ...
 */
int app_setting_flag(int argc, char **argv, int *i, const char **key, const char **value);

/* The settings' flags for a usage text: "[--epochs N] [--batch N] ...",
 * to be printed after indent: lines broken before width columns, each line
 * after the first starting with indent. Always terminated when cap > 0. */
void app_setting_flags_usage(char *out, size_t cap, const char *indent, int width);

/* A lesson (or any command file) being stepped through: its lines are run
 * one by one with app_exec_lesson, pausing where the presenter or the
 * training must catch up. Both `thaw run` and the workbench step lessons
 * this way.
 *
 *     app_lesson l;
 *     if (app_lesson_open(&l, "examples/lessons/01-first-transfer.thaw", &err)) ... err.msg ...
 *     app_lesson_state st;
 *     while ((st = app_lesson_step(&l, &a, &err)) == APP_LESSON_RAN)
 *         ;
 *     if (st == APP_LESSON_FAILED) ... "%s:%d: %s", l.path, l.next, err.msg ...
 *     app_lesson_close(&l);
 */
typedef struct app_lesson {
    char **line;                /* the file's lines, without line breaks; NULL: one that cannot run */
    int nline;
    char why[512];              /* why the first NULL line cannot run */
    int why_line;
    int next;                   /* lines run so far: the number of the last one run */
    int over;                   /* a line failed */
    int ran_ahead;              /* lines before this one ran early (the `at` lines after a train) */
    char path[TASK_PATH_MAX];   /* as found (paths_find) */
} app_lesson;

typedef enum app_lesson_state {
    APP_LESSON_RAN,             /* a line ran; more may follow */
    APP_LESSON_KEY,             /* a line ran pause-for-key: wait for the presenter */
    APP_LESSON_BUSY,            /* training runs: step again once it settles */
    APP_LESSON_DONE,            /* no lines left */
    APP_LESSON_FAILED,          /* line l->next of l->path failed, err says why; the lesson is over */
} app_lesson_state;

/* The longest command line, in bytes without its line break. */
enum { APP_LINE_MAX = 8190 };

/* Reads one whole line of f, however long, into *line (getline's buffer,
 * the caller frees it), without its line break: 1, or 0 at the end of the
 * file, or -1 with err set for a line longer than APP_LINE_MAX, one holding
 * a NUL byte (THAW_EINVAL; the line is consumed) or out of memory. */
int app_read_line(FILE *f, char **line, size_t *cap, thaw_err *err);

/* Reads the file at path ("-": standard input), found as paths_find finds
 * it. THAW_EIO naming the file, THAW_ENOMEM. A line app_read_line refuses
 * fails when the stepper reaches it, saying why. */
int app_lesson_open(app_lesson *l, const char *path, thaw_err *err);

/* Runs the next line unless the session is still busy (outside batch mode)
 * and returns what happened; see app_lesson_state. */
app_lesson_state app_lesson_step(app_lesson *l, app *a, thaw_err *err);

void app_lesson_close(app_lesson *l);

/* The transferred model: the plan before training, the session's after. Its
 * tree's structure may be read at any time; its flags and weights only
 * through app_layers while a session exists. */
const model *app_model(const app *a);

/* Per leaf layer with parameters: frozen state, rate and, once training
 * started, the live diagnostics (sess_layers). Returns the count. */
int app_layers(app *a, sess_layer *out, int cap);

/* Trainable parameters of the plan (or the session's model), and total. */
size_t app_count(const app *a, int trainable_only);

/* The configuration as commands that replay it (a fresh buffer). */
char *app_config_text(const app *a);

#endif
