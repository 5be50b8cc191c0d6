/* runlog.c — a run's folder: configuration, logs, checkpoints and plots;
 * see runlog.h. */
#include "runlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "metrics.h"
#include "numtext.h"
#include "svg.h"

#define RL_CONFIG  "config.thaw"
#define RL_SESSION "session.thaw"
#define RL_CSV     "metrics.csv"
#define RL_JSONL   "metrics.jsonl"
#define RL_CSVMETA RUNLOG_CSV_METADATA
#define RL_EVENTS  "events.log"
#define RL_LABEL_MAX 48
#define RL_NAME_TRIES 1000        /* -2 ... -999 after the bare name */
#define RL_FILES_MAX 16           /* files a run writes, for the record of failed writes */

/* An SEV_CHANGE event, kept for the plots. */
typedef struct rl_mark {
    long step;
    char text[sizeof ((sess_event *)0)->text];
} rl_mark;

/* A file of the run whose last write failed (a log that ever failed). */
typedef struct rl_failure {
    char file[RL_LABEL_MAX + 16];
    int failed;
} rl_failure;

struct runlog {
    pthread_mutex_t lock;
    char dir[PATH_MAX];
    rl_failure fail[RL_FILES_MAX];
    int nfile;                   /* files with an entry in fail */
    unsigned fail_seq;           /* counts failed writes */
    char last_why[sizeof ((thaw_err *)0)->msg];
    FILE *session, *csv, *jsonl, *events;
    sess_eval *row;              /* nrow evaluations, in order */
    size_t nrow, caprow;
    rl_mark *mark;
    size_t nmark, capmark;
};

/* The handle's lock; the exports take a const handle but still wait for
 * writers (the lock is the only part they change). */
static void rl_lock(const runlog *r)
{
    pthread_mutex_lock((pthread_mutex_t *)&r->lock);
}

static void rl_unlock(const runlog *r)
{
    pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
}

/* Records the outcome of writing DIR/file: rc != THAW_OK marks it failed
 * with err's message; success clears the mark unless sticky (a log that lost
 * a line stays incomplete). Returns rc. Takes the lock. */
static int rl_outcome(runlog *r, const char *file, int rc, const thaw_err *err, int sticky)
{
    rl_lock(r);
    int i = 0;
    while (i < r->nfile && strcmp(r->fail[i].file, file))
        i++;
    if (i == r->nfile && rc != THAW_OK && r->nfile < RL_FILES_MAX) {
        snprintf(r->fail[i].file, sizeof r->fail[i].file, "%s", file);
        r->nfile++;
    }
    if (rc != THAW_OK) {
        snprintf(r->last_why, sizeof r->last_why, "%s", err && err->msg[0] ? err->msg : "cannot write");
        r->fail_seq++;
    }
    if (i < r->nfile) {
        if (rc != THAW_OK)
            r->fail[i].failed = 1;
        else if (!sticky)
            r->fail[i].failed = 0;
    }
    rl_unlock(r);
    return rc;
}

/* DIR/NAME into path; THAW_EINVAL when it does not fit. */
static int rl_path(const runlog *r, const char *name, char *path, size_t cap, thaw_err *err)
{
    int n = snprintf(path, cap, "%s/%s", r->dir, name);
    if (n < 0 || (size_t)n >= cap)
        return thaw_fail(err, THAW_EINVAL, "%s/%s: the path is too long", r->dir, name);
    return THAW_OK;
}

/* Creates path and any missing parents; an existing folder is fine. */
static int rl_mkdirs(const char *path, thaw_err *err)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof p)
        return thaw_fail(err, THAW_EINVAL, "'%s': expected a folder name of 1 to %d bytes", path,
                         PATH_MAX - 1);
    memcpy(p, path, n + 1);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return thaw_fail(err, THAW_EIO, "%s: cannot create the folder %s: %s", path, p, strerror(errno));
        *s = c;
        if (!c)
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return thaw_fail(err, THAW_EIO, "%s: exists and is not a folder", path);
    return THAW_OK;
}

/* Takes the folder for this run by creating an empty config.thaw in it,
 * O_EXCL: of two runs started on one folder at once, one fails. */
static int rl_claim(runlog *r, thaw_err *err)
{
    char path[PATH_MAX];
    int rc = rl_path(r, RL_CONFIG, path, sizeof path, err);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return thaw_fail(err, THAW_EINVAL, "%s: holds a previous run (%s); runs are never overwritten, "
                         "choose another folder", r->dir, RL_CONFIG);
    if (fd < 0)
        return thaw_fail(err, THAW_EIO, "%s: cannot create: %s", path, strerror(errno));
    close(fd);
    return THAW_OK;
}

/* dir without trailing slashes into r->dir. */
static int rl_set_dir(runlog *r, const char *dir, thaw_err *err)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n == 0 || n >= sizeof r->dir)
        return thaw_fail(err, THAW_EINVAL, "'%s': expected a folder name of 1 to %zu bytes", dir,
                         sizeof r->dir - 1);
    memcpy(r->dir, dir, n);
    r->dir[n] = '\0';
    return THAW_OK;
}

/* label as a file-name part: letters, digits, '-', '_', '.'; others '_'. */
static void rl_label(char *out, const char *label)
{
    if (!label || !*label)
        label = "run";
    size_t i = 0;
    for (; label[i] && i < RL_LABEL_MAX; i++) {
        char c = label[i];
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        out[i] = keep ? c : '_';
    }
    out[i] = '\0';
}

/* ROOT/YYYYMMDD-HHMMSS-LABEL[-K]: mkdir of the last part is the atomic
 * test for "taken". */
static int rl_make_named(runlog *r, const char *root, const char *label, thaw_err *err)
{
    /* r->dir holds the root (without trailing slashes) until the run's
     * folder is made. */
    int rc = rl_set_dir(r, root, err);
    if (rc || (rc = rl_mkdirs(r->dir, err)))
        return rc;
    char lab[RL_LABEL_MAX + 1];
    rl_label(lab, label);
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return thaw_fail(err, THAW_EIO, "%s: cannot read the local time for the run's name", r->dir);
    char base[PATH_MAX];
    int n = snprintf(base, sizeof base, "%s/%04d%02d%02d-%02d%02d%02d-%s", r->dir, tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, lab);
    if (n < 0 || (size_t)n + 8 >= sizeof base)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long for a run folder", r->dir);
    for (int k = 1; k <= RL_NAME_TRIES; k++) {
        char name[PATH_MAX + 16];   /* base is shorter by 8: the suffix fits */
        if (k == 1)
            snprintf(name, sizeof name, "%s", base);
        else
            snprintf(name, sizeof name, "%s-%d", base, k);
        if (mkdir(name, 0755) == 0)
            return rl_set_dir(r, name, err);
        if (errno != EEXIST)
            return thaw_fail(err, THAW_EIO, "%s: cannot create the folder: %s", name, strerror(errno));
    }
    return thaw_fail(err, THAW_EIO, "%s: %d runs of that name already exist", base, RL_NAME_TRIES);
}

/* Creates DIR/name for appending; it must not exist yet. */
static int rl_create(runlog *r, const char *name, FILE **f, thaw_err *err)
{
    char path[PATH_MAX];
    int rc = rl_path(r, name, path, sizeof path, err);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return thaw_fail(err, THAW_EINVAL, "%s: already exists; a run's files are never appended to", path);
    if (fd < 0)
        return thaw_fail(err, THAW_EIO, "%s: cannot create: %s", path, strerror(errno));
    *f = fdopen(fd, "a");
    if (!*f) {
        int e = errno;
        close(fd);
        return thaw_fail(err, THAW_EIO, "%s: cannot open: %s", path, strerror(e));
    }
    return THAW_OK;
}

/* Writes text to the log DIR/name and flushes it. Called with the lock
 * held. */
static int rl_write(const runlog *r, FILE *f, const char *name, const plot_buf *b, thaw_err *err)
{
    if (b->failed)
        return thaw_fail(err, THAW_ENOMEM, "%s/%s: out of memory for a line", r->dir, name);
    if (fwrite(b->s, 1, b->len, f) != b->len || fflush(f) != 0) {
        int e = errno;
        clearerr(f);
        return thaw_fail(err, THAW_EIO, "%s/%s: cannot write: %s", r->dir, name, strerror(e));
    }
    return THAW_OK;
}

static void rl_csv_header(plot_buf *b)
{
    for (int i = 0; i < METRIC_COUNT; i++)
        plot_printf(b, "%s%s", i ? "," : "", metric_fields[i].name);
    plot_printf(b, "\n");
}

/* The descriptions are metrics.c's constants, with nothing in them to
 * escape. */
void runlog_csv_metadata(plot_buf *b)
{
    static const char *const type[] = { [METRIC_INT] = "integer", [METRIC_LONG] = "integer",
                                        [METRIC_DOUBLE] = "double" };
    plot_printf(b, "{\n  \"@context\": \"http://www.w3.org/ns/csvw\",\n  \"url\": \"" RL_CSV "\",\n"
                   "  \"dc:description\": \"one row per evaluation; accuracies and delta are fractions of 1, "
                   "times in seconds; an empty field was not measured\",\n"
                   "  \"tableSchema\": {\n    \"columns\": [\n");
    for (int i = 0; i < METRIC_COUNT; i++)
        plot_printf(b, "      { \"name\": \"%s\", \"titles\": \"%s\", \"datatype\": \"%s\", \"null\": \"\", "
                       "\"dc:description\": \"%s\" }%s\n", metric_fields[i].name, metric_fields[i].name,
                    type[metric_fields[i].kind], metric_unit(i), i + 1 < METRIC_COUNT ? "," : "");
    plot_printf(b, "    ]\n  }\n}\n");
}

/* One field's value as text; "" for a double that is not finite. */
static void rl_value(char *out, size_t cap, const sess_eval *e, int i)
{
    double v = metric_value(e, i);
    if (metric_fields[i].kind != METRIC_DOUBLE)
        snprintf(out, cap, "%.0f", v);
    else if (isfinite(v) && fabs(v) < 3e38 && v != floor(v) && v == (double)(float)v)
        num_shortest_float(out, cap, (float)v);   /* a float's value: 0.01, not 0.0099999997764 */
    else if (isfinite(v))
        plot_shortest(out, cap, v);
    else
        out[0] = '\0';
}

static void rl_csv_row(plot_buf *b, const sess_eval *e)
{
    for (int i = 0; i < METRIC_COUNT; i++) {
        char v[40];
        rl_value(v, sizeof v, e, i);
        plot_printf(b, "%s%s", i ? "," : "", v);
    }
    plot_printf(b, "\n");
}

static void rl_json_row(plot_buf *b, const sess_eval *e)
{
    for (int i = 0; i < METRIC_COUNT; i++) {
        char v[40];
        rl_value(v, sizeof v, e, i);
        plot_printf(b, "%s\"%s\":%s", i ? "," : "{", metric_fields[i].name, v[0] ? v : "null");
    }
    plot_printf(b, "}\n");
}

/* config.thaw and metrics.csv's metadata, then the logs (metrics.csv with
 * its header). */
static int rl_start(runlog *r, const char *config_text, thaw_err *err)
{
    char path[PATH_MAX], meta_path[PATH_MAX];
    int rc = rl_claim(r, err);
    if (!rc)
        rc = rl_path(r, RL_CONFIG, path, sizeof path, err);
    if (!rc)
        rc = rl_path(r, RL_CSVMETA, meta_path, sizeof meta_path, err);
    if (rc)
        return rc;
    plot_buf meta = { 0 };
    runlog_csv_metadata(&meta);
    if (meta.failed) {
        plot_buf_free(&meta);
        return thaw_fail(err, THAW_ENOMEM, "%s/%s: out of memory", r->dir, RL_CSVMETA);
    }
    const char *paths[] = { path, meta_path };
    const void *bufs[] = { config_text ? config_text : "", meta.s };
    size_t lens[] = { config_text ? strlen(config_text) : 0, meta.len };
    rc = fio_save(paths, bufs, lens, 2, err);
    plot_buf_free(&meta);
    if (rc || (rc = rl_create(r, RL_SESSION, &r->session, err)) ||
        (rc = rl_create(r, RL_CSV, &r->csv, err)) || (rc = rl_create(r, RL_JSONL, &r->jsonl, err)) ||
        (rc = rl_create(r, RL_EVENTS, &r->events, err)))
        return rc;
    plot_buf b = { 0 };
    rl_csv_header(&b);
    rc = rl_write(r, r->csv, RL_CSV, &b, err);
    plot_buf_free(&b);
    return rc;
}

int runlog_open(runlog **out, const char *dir, const char *root, const char *label, const char *config_text,
                thaw_err *err)
{
    *out = NULL;
    runlog *r = calloc(1, sizeof *r);
    if (!r)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a run log");
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return thaw_fail(err, THAW_ENOMEM, "cannot make a lock for a run log");
    }
    int rc;
    if (dir)
        rc = rl_set_dir(r, dir, err);
    else
        rc = rl_make_named(r, root ? root : "runs", label, err);
    if (!rc && dir)
        rc = rl_mkdirs(r->dir, err);
    if (!rc)
        rc = rl_start(r, config_text, err);
    if (rc) {
        runlog_close(r);
        return rc;
    }
    *out = r;
    return THAW_OK;
}

const char *runlog_dir(const runlog *r)
{
    return r->dir;
}

/* Room for one more element in a growing array. */
static int rl_grow(void **a, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return THAW_OK;
    size_t c = *cap ? *cap * 2 : 64;
    if (c > ((size_t)-1) / size)
        return THAW_ENOMEM;
    void *p = realloc(*a, c * size);
    if (!p)
        return THAW_ENOMEM;
    *a = p;
    *cap = c;
    return THAW_OK;
}

int runlog_eval(runlog *r, const sess_eval *e, thaw_err *err)
{
    plot_buf csv = { 0 }, json = { 0 };
    rl_csv_row(&csv, e);
    rl_json_row(&json, e);
    thaw_err e1 = { 0 }, e2 = { 0 };
    rl_lock(r);
    int grown = rl_grow((void **)&r->row, &r->caprow, r->nrow, sizeof *r->row) == THAW_OK;
    if (grown)
        r->row[r->nrow++] = *e;
    /* Each file gets its line whatever happened to the other. */
    int rc1 = rl_write(r, r->csv, RL_CSV, &csv, &e1);
    int rc2 = rl_write(r, r->jsonl, RL_JSONL, &json, &e2);
    rl_unlock(r);
    plot_buf_free(&csv);
    plot_buf_free(&json);
    rl_outcome(r, RL_CSV, rc1, &e1, 1);
    rl_outcome(r, RL_JSONL, rc2, &e2, 1);
    if (!grown)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu evaluations (not plotted)",
                         r->dir, r->nrow + 1);
    if (rc1 || rc2) {
        if (err)
            *err = rc1 ? e1 : e2;
        return rc1 ? rc1 : rc2;
    }
    return THAW_OK;
}

static const char *rl_state_name(sess_state s)
{
    switch (s) {
    case SESS_IDLE: return "idle";
    case SESS_RUNNING: return "running";
    case SESS_PAUSED: return "paused";
    }
    return "unknown";
}

int runlog_event(runlog *r, const sess_event *ev, thaw_err *err)
{
    const char *kind;
    switch (ev->kind) {
    case SEV_CHANGE: kind = "change"; break;
    case SEV_STATE: kind = "state"; break;
    case SEV_NONFINITE: kind = "nonfinite"; break;
    case SEV_ERROR: kind = "error"; break;
    case SEV_NOTE: kind = "note"; break;
    case SEV_LRFIND: kind = ev->count < 0 ? "lrfind" : NULL; break;
    default: kind = NULL;
    }
    if (!kind)
        return THAW_OK;
    plot_buf b = { 0 };
    plot_printf(&b, "step %ld epoch %d %s", ev->step, ev->epoch, kind);
    if (ev->kind == SEV_STATE)
        plot_printf(&b, " %s", rl_state_name(ev->state));
    if (ev->kind == SEV_LRFIND) {
        char v[40];
        plot_shortest(v, sizeof v, ev->value);
        plot_printf(&b, " suggested rate %s", v);
    }
    size_t n = strnlen(ev->text, sizeof ev->text);
    if (n > 0)
        plot_printf(&b, " %.*s", (int)n, ev->text);
    for (size_t i = 0; b.s && i < b.len; i++)
        if (b.s[i] == '\n' || b.s[i] == '\r')
            b.s[i] = ' ';
    plot_printf(&b, "\n");
    rl_lock(r);
    int rc = THAW_OK;
    if (ev->kind == SEV_CHANGE) {
        if (rl_grow((void **)&r->mark, &r->capmark, r->nmark, sizeof *r->mark))
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu events", r->dir, r->nmark + 1);
        else {
            rl_mark *m = &r->mark[r->nmark++];
            m->step = ev->step;
            memcpy(m->text, ev->text, n);
            m->text[n < sizeof m->text ? n : sizeof m->text - 1] = '\0';
        }
    }
    int wrote = 0;
    if (!rc) {
        rc = rl_write(r, r->events, RL_EVENTS, &b, err);
        wrote = 1;
    }
    rl_unlock(r);
    plot_buf_free(&b);
    return wrote ? rl_outcome(r, RL_EVENTS, rc, err, 1) : rc;
}

int runlog_command(runlog *r, const char *line, thaw_err *err)
{
    size_t n = line ? strlen(line) : 0;
    if (n > 0 && line[n - 1] == '\n')
        n--;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (!line || memchr(line, '\n', n) || memchr(line, '\r', n))
        return thaw_fail(err, THAW_EINVAL, "%s/%s: a command is one line; got %s", r->dir, RL_SESSION,
                         line ? "a line break inside one" : "none");
    plot_buf b = { 0 };
    plot_printf(&b, "%.*s\n", (int)n, line);
    rl_lock(r);
    int rc = rl_write(r, r->session, RL_SESSION, &b, err);
    rl_unlock(r);
    plot_buf_free(&b);
    return rl_outcome(r, RL_SESSION, rc, err, 1);
}

int runlog_checkpoint(runlog *r, const char *name, const mf_meta *meta, const model *m, thaw_err *err)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n > 0 && n <= RL_LABEL_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_';
    if (!ok)
        return thaw_fail(err, THAW_EINVAL, "%s: checkpoint name '%s'; expected 1 to %d letters, digits, "
                         "'-' or '_' (\"best\", \"last\")", r->dir, name ? name : "(null)", RL_LABEL_MAX);
    char file[RL_LABEL_MAX + 8], path[PATH_MAX];
    snprintf(file, sizeof file, "%s.json", name);
    int rc = rl_path(r, file, path, sizeof path, err);
    return rl_outcome(r, file, rc ? rc : mf_save(path, meta, m, err), err, 0);
}

/* The plots' series, grouped by plot. */
enum { RL_LOSS, RL_ACCURACY, RL_DELTA, RL_PLOTS };

static const struct {
    int plot;
    const char *name;
    metric_id field;
    int style, points;
} rl_series[] = {
    { RL_LOSS, "transfer train", METRIC_TRAIN_LOSS, 0, 0 },
    { RL_LOSS, "transfer val", METRIC_VAL_LOSS, 1, 0 },
    { RL_LOSS, "scratch train", METRIC_SCRATCH_TRAIN_LOSS, 2, 0 },
    { RL_LOSS, "scratch val", METRIC_SCRATCH_VAL_LOSS, 3, 0 },
    { RL_ACCURACY, "transfer val", METRIC_VAL_ACC, 1, 0 },
    { RL_ACCURACY, "scratch val", METRIC_SCRATCH_VAL_ACC, 3, 0 },
    { RL_ACCURACY, "transfer test", METRIC_TEST_ACC, 1, 1 },
    { RL_ACCURACY, "scratch test", METRIC_SCRATCH_TEST_ACC, 3, 1 },
    { RL_ACCURACY, "source task", METRIC_SOURCE_ACC, 4, 0 },
    { RL_DELTA, "val Δ", METRIC_DELTA, 1, 0 },
    { RL_DELTA, "test Δ", METRIC_TEST_DELTA, 1, 1 },
};

enum { RL_SERIES = sizeof rl_series / sizeof rl_series[0] };

static const struct {
    const char *file, *title, *ylabel;
    double scale;                /* the metrics' fractions shown as % and points */
} rl_plot[RL_PLOTS] = {
    [RL_LOSS] = { "loss.svg", "Loss", "loss", 1 },
    [RL_ACCURACY] = { "accuracy.svg", "Accuracy", "accuracy (%)", 100 },
    [RL_DELTA] = { "delta.svg", "Δtransfer = Acc(transfer) − Acc(scratch)", "Δ accuracy (points)", 100 },
};

/* What the plots are drawn from: the rows and markers copied out under the
 * lock, then laid out as plot_specs. */
typedef struct rl_view {
    sess_eval *row;
    rl_mark *mark;
    int nrow, nmark;
    double *col;                 /* (1 + RL_SERIES, nrow): the steps, then each series */
    char (*epoch)[16];           /* nrow labels of the top scale */
    plot_marker *marker, *top;
    int ntop;
    plot_series series[RL_SERIES];
    plot_spec spec[RL_PLOTS];
} rl_view;

static void rl_view_free(rl_view *v)
{
    free(v->row);
    free(v->mark);
    free(v->col);
    free(v->epoch);
    free(v->marker);
    free(v->top);
}

static int rl_view_make(rl_view *v, const runlog *r, thaw_err *err)
{
    *v = (rl_view){ 0 };
    rl_lock(r);
    int too_many = r->nrow > INT_MAX / (1 + RL_SERIES) || r->nmark > INT_MAX;
    size_t nrow = too_many ? 0 : r->nrow, nmark = too_many ? 0 : r->nmark;
    v->row = malloc((nrow ? nrow : 1) * sizeof *v->row);
    v->mark = malloc((nmark ? nmark : 1) * sizeof *v->mark);
    if (v->row && nrow)
        memcpy(v->row, r->row, nrow * sizeof *v->row);
    if (v->mark && nmark)
        memcpy(v->mark, r->mark, nmark * sizeof *v->mark);
    rl_unlock(r);
    if (too_many) {
        rl_view_free(v);
        return thaw_fail(err, THAW_EINVAL, "%s: too many rows or events to plot", r->dir);
    }
    v->nrow = (int)nrow;
    v->nmark = (int)nmark;
    size_t rows = nrow ? nrow : 1;
    v->col = malloc((1 + RL_SERIES) * rows * sizeof *v->col);
    v->epoch = malloc(rows * sizeof *v->epoch);
    v->top = malloc(rows * sizeof *v->top);
    v->marker = malloc((nmark ? nmark : 1) * sizeof *v->marker);
    if (!v->row || !v->mark || !v->col || !v->epoch || !v->top || !v->marker) {
        rl_view_free(v);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the plots", r->dir);
    }
    double *x = v->col;
    for (int i = 0; i < v->nrow; i++) {
        const sess_eval *e = &v->row[i];
        x[i] = (double)e->step;
        for (int k = 0; k < RL_SERIES; k++)
            v->col[(1 + k) * rows + i] = metric_value(e, rl_series[k].field) * rl_plot[rl_series[k].plot].scale;
        /* The top scale: the epochs done, where the count changes. */
        if (i == 0 || e->epoch != v->row[i - 1].epoch) {
            snprintf(v->epoch[v->ntop], sizeof v->epoch[0], "%d", e->epoch);
            v->top[v->ntop] = (plot_marker){ x[i], v->epoch[v->ntop] };
            v->ntop++;
        }
    }
    for (int i = 0; i < v->nmark; i++)
        v->marker[i] = (plot_marker){ (double)v->mark[i].step, v->mark[i].text };
    for (int k = 0; k < RL_SERIES; k++)
        v->series[k] = (plot_series){ .name = rl_series[k].name, .x = x, .y = &v->col[(1 + k) * rows],
                                      .n = v->nrow, .style = rl_series[k].style,
                                      .points = rl_series[k].points };
    for (int p = 0; p < RL_PLOTS; p++) {
        int first = 0, n = 0;
        while (first < RL_SERIES && rl_series[first].plot != p)
            first++;
        while (first + n < RL_SERIES && rl_series[first + n].plot == p)
            n++;
        v->spec[p] = (plot_spec){ .title = rl_plot[p].title, .xlabel = "step", .ylabel = rl_plot[p].ylabel,
                                  .series = &v->series[first], .nseries = n, .marker = v->marker,
                                  .nmarker = v->nmark, .x_integer = 1, .top = v->top, .ntop = v->ntop,
                                  .toplabel = "epochs done" };
    }
    v->spec[RL_DELTA].has_ref = 1;
    v->spec[RL_DELTA].ref = 0;
    v->spec[RL_DELTA].ref_label = "no difference";
    v->spec[RL_DELTA].below_label = "negative transfer";
    return THAW_OK;
}

int runlog_plots(runlog *r, thaw_err *err)
{
    rl_view v;
    int rc = rl_view_make(&v, r, err);
    if (rc)
        return rc;
    plot_buf svg[RL_PLOTS] = { { 0 } };
    char path[RL_PLOTS][PATH_MAX];
    const char *paths[RL_PLOTS];
    const void *bufs[RL_PLOTS];
    size_t lens[RL_PLOTS];
    for (int p = 0; !rc && p < RL_PLOTS; p++) {
        if (!(rc = rl_path(r, rl_plot[p].file, path[p], sizeof path[p], err)) &&
            !(rc = svg_render(&svg[p], &v.spec[p], 1, err))) {
            paths[p] = path[p];
            bufs[p] = svg[p].s;
            lens[p] = svg[p].len;
        }
    }
    if (!rc)
        rc = fio_save(paths, bufs, lens, RL_PLOTS, err);
    for (int p = 0; p < RL_PLOTS; p++)
        plot_buf_free(&svg[p]);
    rl_view_free(&v);
    return rl_outcome(r, "plots", rc, err, 0);
}

/* Writes b as path, atomically. */
static int rl_save(const char *path, const plot_buf *b, thaw_err *err)
{
    if (b->failed)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the text", path);
    const char *paths[] = { path };
    const void *bufs[] = { b->s ? b->s : "" };
    size_t lens[] = { b->len };
    return fio_save(paths, bufs, lens, 1, err);
}

/* The rows as CSV (plots 0) or the three plots in one SVG (plots 1) at
 * path, atomically. */
static int rl_export(const runlog *r, const char *path, int plots, thaw_err *err)
{
    rl_view v;
    int rc = rl_view_make(&v, r, err);
    if (rc)
        return rc;
    plot_buf b = { 0 };
    if (plots) {
        rc = svg_render(&b, v.spec, RL_PLOTS, err);
    } else {
        rl_csv_header(&b);
        for (int i = 0; i < v.nrow; i++)
            rl_csv_row(&b, &v.row[i]);
    }
    if (!rc)
        rc = rl_save(path, &b, err);
    plot_buf_free(&b);
    rl_view_free(&v);
    return rc;
}

int runlog_export_metrics(const runlog *r, const char *path, thaw_err *err)
{
    return rl_export(r, path, 0, err);
}

int runlog_export_plots(const runlog *r, const char *path, thaw_err *err)
{
    return rl_export(r, path, 1, err);
}

int runlog_lrfind(runlog *r, const double *rate, const double *loss, int n, double suggestion,
                  thaw_err *err)
{
    if (n < 0 || (n > 0 && (!rate || !loss)))
        return thaw_fail(err, THAW_EINVAL, "%s: an lr-find curve of %d points", r->dir, n);
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x);
    if (!x)
        return rl_outcome(r, "lrfind.svg",
                          thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the lr-find curve", r->dir), err, 0);
    plot_buf csv = { 0 }, svg = { 0 };
    char a[40], b[40];
    int best = -1;
    for (int i = 0; i < n; i++) {
        x[i] = rate[i] > 0 ? log10(rate[i]) : NAN;
        if (isfinite(suggestion) && (best < 0 || fabs(rate[i] - suggestion) < fabs(rate[best] - suggestion)))
            best = i;
    }
    plot_printf(&csv, "rate,smoothed_loss,suggested\n");
    for (int i = 0; i < n; i++) {
        plot_shortest(a, sizeof a, rate[i]);
        if (isfinite(loss[i]))
            plot_shortest(b, sizeof b, loss[i]);
        else
            b[0] = '\0';
        plot_printf(&csv, "%s,%s,%d\n", a, b, i == best);
    }
    char label[64] = "";
    if (isfinite(suggestion) && suggestion > 0)
        plot_snprintf(label, sizeof label, "suggested %.2g", suggestion);
    plot_marker mark = { isfinite(suggestion) && suggestion > 0 ? log10(suggestion) : NAN, label };
    plot_series curve = { .name = "smoothed training loss", .x = x, .y = loss, .n = n, .style = 0 };
    plot_spec spec = { .title = "lr-find: the loss as the head's learning rate grows",
                       .xlabel = "learning rate (log scale)", .ylabel = "loss", .series = &curve,
                       .nseries = 1, .marker = &mark, .nmarker = isfinite(mark.x), .marker_label = "suggested rate", .x_pow10 = 1 };
    char cpath[PATH_MAX], spath[PATH_MAX];
    int rc = rl_path(r, "lrfind.csv", cpath, sizeof cpath, err);
    if (!rc)
        rc = rl_path(r, "lrfind.svg", spath, sizeof spath, err);
    if (!rc)
        rc = svg_render(&svg, &spec, 1, err);
    if (!rc && (csv.failed || svg.failed))
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the lr-find curve", r->dir);
    if (!rc) {
        const char *paths[] = { cpath, spath };
        const void *bufs[] = { csv.s, svg.s };
        size_t lens[] = { csv.len, svg.len };
        rc = fio_save(paths, bufs, lens, 2, err);
    }
    plot_buf_free(&csv);
    plot_buf_free(&svg);
    free(x);
    return rl_outcome(r, "lrfind.svg", rc, err, 0);
}

unsigned runlog_failures(const runlog *r, char *files, size_t cap, char *why, size_t why_cap)
{
    rl_lock(r);
    size_t n = 0;
    if (cap)
        files[0] = '\0';
    if (why_cap)
        why[0] = '\0';
    for (int i = 0; i < r->nfile; i++) {
        if (!r->fail[i].failed)
            continue;
        if (cap && n < cap)
            n += (size_t)snprintf(files + n, cap - n, "%s%s", n ? " " : "", r->fail[i].file);
    }
    if (why_cap)
        snprintf(why, why_cap, "%s", r->last_why);
    unsigned seq = r->fail_seq;
    rl_unlock(r);
    return seq;
}

void runlog_close(runlog *r)
{
    if (!r)
        return;
    FILE *f[] = { r->session, r->csv, r->jsonl, r->events };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i])
            fclose(f[i]);
    pthread_mutex_destroy(&r->lock);
    free(r->row);
    free(r->mark);
    free(r);
}
