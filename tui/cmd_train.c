/* cmd_train.c — `thaw train` and `thaw lr-find`: one run of the session from
 * the command line, through the same commands the workbench types.
 *
 *     thaw train --model models/fashion-resnet.json \
 *                --data fashion:classes=5-9,shots=20,val=50 \
 *                --strategy finetune --epochs 30 --json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "fileio.h"
#include "par.h"
#include "svg.h"

enum { SETS_MAX = 64 };

typedef struct train_opts {
    const char *model, *data, *strategy, *out, *threads;
    const char *lo, *hi, *steps;
    const char *strategies, *seeds, *csv, *adapts;
    const char *set[SETS_MAX][2];       /* the settings' flags as `set KEY VALUE`, in order */
    int nset, json;
} train_opts;

/* Flags with a value that are not settings, and where it goes. */
static const char **slot(train_opts *o, const char *flag)
{
    static const struct { const char *flag; size_t off; } table[] = {
        { "--model", offsetof(train_opts, model) }, { "--data", offsetof(train_opts, data) },
        { "--strategy", offsetof(train_opts, strategy) }, { "--out", offsetof(train_opts, out) },
        { "--threads", offsetof(train_opts, threads) },
        { "--start", offsetof(train_opts, lo) }, { "--end", offsetof(train_opts, hi) },
        { "--steps", offsetof(train_opts, steps) },
        { "--strategies", offsetof(train_opts, strategies) },
        { "--seeds", offsetof(train_opts, seeds) }, { "--csv", offsetof(train_opts, csv) },
        { "--adapts", offsetof(train_opts, adapts) },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(flag, table[i].flag))
            return (const char **)((char *)o + table[i].off);
    return NULL;
}

static int usage(const char *cmd)
{
    char flags[2048];
    app_setting_flags_usage(flags, sizeof flags, "                  ", 92);
    if (!strcmp(cmd, "compare"))
        cli_print(stderr, "usage: thaw compare --model FILE --data SPEC --strategies A,B,... [--seeds N]\n"
                          "                    [--adapts \"A;B;...\"] [--csv FILE] and any option of thaw train\n"
                          "runs every strategy (with each adaptation technique of --adapts, when given)\n"
                          "with seeds 1..N (default 3); the scratch baseline is trained once per seed\n"
                          "and shared by the rows; with source-only among the techniques, each row's\n"
                          "change against its strategy's source-only row is a column of its own\n");
    else if (!strcmp(cmd, "lr-find"))
        cli_print(stderr, "usage: thaw lr-find --model FILE --data SPEC [--strategy NAME] [--lr X]\n"
                          "                    [--start X] [--end X] [--steps N] [--batch N] [--seed N]\n");
    else
        cli_print(stderr,
                  "usage: thaw train --model FILE --data SPEC [--strategy NAME] [--threads N]\n"
                  "                  [--out DIR] [--json] and any setting of `set`:\n"
                  "                  %s\n"
                  "strategies: feature-extraction, finetune, \"gradual every=N\",\n"
                  "            \"discriminative factor=F\", \"layer-decay decay=D\", \"freeze-bottom groups=N\"\n", flags);
    return 2;
}

static int parse(train_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char **v = slot(o, argv[i]);
        const char *flag = argv[i];
        int setting = app_setting_flag(argc, argv, &i, &o->set[o->nset][0], &o->set[o->nset][1]);
        if (setting > 0 && o->nset < SETS_MAX - 3)   /* room for compare's own three */
            o->nset++;
        else if (setting > 0) {
            cli_print(stderr, "thaw %s: at most %d settings\n", argv[0], SETS_MAX - 3);
            return 2;
        } else if (!strcmp(flag, "--json"))
            o->json = 1;
        else if (!strcmp(flag, "--help") || !strcmp(flag, "-h"))
            return usage(argv[0]), -1;
        else if (v && i + 1 < argc)
            *v = argv[++i];
        else {
            cli_print(stderr, "thaw %s: %s %s\n", argv[0], flag,
                      v || setting < 0 ? "needs a value" : "is not an option");
            return usage(argv[0]);
        }
    }
    if (!o->model || !o->data) {
        cli_print(stderr, "thaw %s: --model and --data are needed\n", argv[0]);
        return usage(argv[0]);
    }
    return 0;
}

/* Runs `line` with text in quotes after it; the status. */
static int exec_quoted(app *a, cli_out *c, const char *line, const char *text)
{
    char cmd[8192];
    if (strpbrk(text, "\"\r\n")) {
        cli_print(stderr, "thaw: %s %s: a double quote or line break cannot be passed on (rename the "
                  "file or folder)\n", line, text);
        return 1;
    }
    if (snprintf(cmd, sizeof cmd, "%s \"%s\"", line, text) >= (int)sizeof cmd) {
        cli_print(stderr, "thaw: %s: the value is too long\n", line);
        return 1;
    }
    return cli_exec(a, c, cmd);
}

/* The flags as the commands of a script; the first failing one ends it. */
static int setup(app *a, cli_out *c, const train_opts *o)
{
    char line[256];
    for (int i = 0; i < o->nset; i++) {
        snprintf(line, sizeof line, "set %s", o->set[i][0]);
        if (exec_quoted(a, c, line, o->set[i][1]))
            return 1;
    }
    if (exec_quoted(a, c, "load model", o->model) || exec_quoted(a, c, "load data", o->data))
        return 1;
    char plan[8192];
    if (o->strategy) {
        snprintf(plan, sizeof plan, "strategy %s", o->strategy);
        if (cli_exec(a, c, plan))
            return 1;
    }
    if (o->out)
        snprintf(a->run_dir, sizeof a->run_dir, "%s", o->out);
    return 0;
}

/* The options, --threads applied: 0 to go on, else the exit status. */
static int start(train_opts *o, int argc, char **argv)
{
    int rc = parse(o, argc, argv);
    if (rc)
        return rc < 0 ? -1 : rc;
    if (!o->threads)
        return 0;
    char *end;
    long n = strtol(o->threads, &end, 10);
    if (*end || n < 1 || n > PAR_THREADS_MAX) {
        cli_print(stderr, "thaw: --threads %s: expected 1 to %d\n", o->threads, PAR_THREADS_MAX);
        return 2;
    }
    thaw_threads_set((int)n);
    return 0;
}

/* thaw train, or thaw lr-find (the rate sweep without the baseline). */
static int run_one(int argc, char **argv, int lr_find)
{
    train_opts o;
    int rc = start(&o, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    int json = o.json && !lr_find;
    cli_out c;
    app a;
    cli_open(&a, &c, json ? stderr : stdout, 0);
    char line[512] = "train";
    if (lr_find) {
        a.verbose_lrfind = 1;
        snprintf(line, sizeof line, "lr-find start=%s end=%s steps=%s", o.lo ? o.lo : "1e-7",
                 o.hi ? o.hi : "10", o.steps ? o.steps : "100");
    }
    cli_signals(&a);
    rc = setup(&a, &c, &o) || (lr_find && cli_exec(&a, &c, "set baseline off")) ||
         cli_exec(&a, &c, line) ? 1 : 0;
    if (a.stopped) {
        cli_stopped(&a);
        rc = 1;
    }
    if (cli_run_incomplete(&a))
        rc = 1;
    if (json && a.run)
        cli_print_json(stdout, &a);
    app_free(&a);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    return run_one(argc, argv, 0);
}

int cmd_lr_find(int argc, char **argv)
{
    return run_one(argc, argv, 1);
}

/* ---- thaw compare ---------------------------------------------------------- */

enum { COMPARE_MAX = 32, SEEDS_MAX = 100, LABEL_MAX = 128 };

typedef struct outcome {
    double test, delta, delta_source, epochs95, wall, scratch_test, scratch95;
    size_t trainable, total;
    /* The validation curve: each evaluation's epoch (fractional), the
     * transferred model's accuracy and the baseline's (NaN without one). */
    double *x, *val, *scratch_val;
    int n;
} outcome;

static void outcome_free(outcome *o)
{
    free(o->x);
    free(o->val);
    free(o->scratch_val);
    o->x = o->val = o->scratch_val = NULL;
    o->n = 0;
}

static void free_curves(outcome (*r)[SEEDS_MAX], int n, int seeds)
{
    for (int i = 0; i < n; i++)
        for (int s = 0; s < seeds; s++)
            outcome_free(&r[i][s]);
}

/* Keeps a's evaluations as o's curve; 1 when out of memory. */
static int outcome_curve(outcome *o, const app *a)
{
    int n = a->nhistory;
    double per = app_steps_per_epoch(a);
    o->x = malloc((size_t)(n ? n : 1) * sizeof *o->x);
    o->val = malloc((size_t)(n ? n : 1) * sizeof *o->val);
    o->scratch_val = malloc((size_t)(n ? n : 1) * sizeof *o->scratch_val);
    if (!o->x || !o->val || !o->scratch_val) {
        outcome_free(o);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        o->x[i] = (double)a->history[i].step / (per > 0 ? per : 1);
        o->val[i] = a->history[i].val_acc;
        o->scratch_val[i] = a->history[i].scratch_val_acc;
    }
    o->n = n;
    return 0;
}

static void mean_std(const double *v, int n, double *mean, double *sd)
{
    double s = 0, q = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) {
            s += v[i];
            k++;
        }
    *mean = k ? s / k : NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            q += (v[i] - *mean) * (v[i] - *mean);
    *sd = k > 1 ? sqrt(q / (k - 1)) : 0.0;     /* the sample standard deviation */
}

/* The strategies' validation curves, each the mean over the seeds at each
 * evaluation (as far as every seed went), accuracy in % and Δ in points
 * against the same seed's baseline, as one SVG document of two plots. */
static int compare_svg(const char *path, const char *const *name, int n, int seeds, outcome (*r)[SEEDS_MAX],
                       thaw_err *err)
{
    enum { PLOT_ACC, PLOT_DELTA };
    int len = INT_MAX;
    for (int i = 0; i < n; i++)
        for (int s = 0; s < seeds; s++)
            len = r[i][s].n < len ? r[i][s].n : len;
    len = len == INT_MAX ? 0 : len;
    size_t cells = (size_t)(len ? len : 1) * (size_t)(2 * n + 1);
    double *y = malloc(cells * sizeof *y);
    plot_series *acc = malloc((size_t)(n + 1) * sizeof *acc), *delta = malloc((size_t)n * sizeof *delta);
    plot_buf svg = { 0 };
    int rc = THAW_OK;
    if (!y || !acc || !delta) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the curves", path);
        goto done;
    }
    /* rows: the baseline's accuracy, then each strategy's accuracy and Δ */
    for (int k = 0; k < len; k++) {
        double base = 0;
        for (int s = 0; s < seeds; s++)
            base += r[0][s].scratch_val[k] / seeds;
        y[k] = 100 * base;
        for (int i = 0; i < n; i++) {
            double a = 0, d = 0;
            for (int s = 0; s < seeds; s++) {
                a += r[i][s].val[k] / seeds;
                d += (r[i][s].val[k] - r[0][s].scratch_val[k]) / seeds;
            }
            y[(size_t)(1 + i) * len + k] = 100 * a;
            y[(size_t)(1 + n + i) * len + k] = 100 * d;
        }
    }
    const double *x = len ? r[0][0].x : y;
    acc[0] = (plot_series){ .name = "scratch (baseline)", .x = x, .y = y, .n = len, .style = 0 };
    for (int i = 0; i < n; i++) {
        acc[1 + i] = (plot_series){ .name = name[i], .x = x, .y = y + (size_t)(1 + i) * len, .n = len,
                                    .style = 1 + i };
        delta[i] = (plot_series){ .name = name[i], .x = x, .y = y + (size_t)(1 + n + i) * len, .n = len,
                                  .style = 1 + i };
    }
    char acc_title[96], delta_title[128];
    snprintf(acc_title, sizeof acc_title, "Validation accuracy, mean of %d seed%s", seeds, seeds > 1 ? "s" : "");
    snprintf(delta_title, sizeof delta_title, "Δtransfer on validation, mean of %d seed%s", seeds,
             seeds > 1 ? "s" : "");
    plot_spec spec[2] = {
        [PLOT_ACC] = { .title = acc_title, .xlabel = "epoch", .ylabel = "accuracy (%)", .series = acc,
                       .nseries = n + 1 },
        [PLOT_DELTA] = { .title = delta_title, .xlabel = "epoch", .ylabel = "Δ accuracy (points)",
                         .series = delta, .nseries = n, .has_ref = 1, .ref = 0, .ref_label = "no difference",
                         .below_label = "negative transfer" },
    };
    if (!(rc = svg_render(&svg, spec, 2, err))) {
        if (svg.failed) {
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for the curves", path);
        } else {
            const void *buf = svg.s;
            size_t bytes = svg.len;
            rc = fio_save(&path, &buf, &bytes, 1, err);
        }
    }
done:
    plot_buf_free(&svg);
    free(y);
    free(acc);
    free(delta);
    return rc;
}

/* A row of the table: a strategy, with an adaptation technique or not. */
typedef struct compare_row {
    const char *plan, *how;       /* how NULL: the user's own adapt setting */
    char label[LABEL_MAX];
} compare_row;

/* One row with one seed; the baseline only when scratch_too. */
static int compare_one(const train_opts *base, const compare_row *row, long seed, int scratch_too,
                       int side_by_side, const char *dir, outcome *out)
{
    train_opts o = *base;
    char seed_text[32], folder[sizeof ((app *)0)->run_dir];
    snprintf(seed_text, sizeof seed_text, "%ld", seed);
    o.strategy = row->plan;
    /* After the user's settings: the row's technique, this seed, and the
     * baseline only once. Trainings side by side have a core each: the
     * baseline shares it. */
    const char *last[][2] = { { "adapt", row->how }, { "seed", seed_text },
                              { "baseline", scratch_too ? "on" : "off" }, { "parallel", "off" } };
    for (size_t i = !row->how; i < sizeof last / sizeof last[0] - !side_by_side; i++, o.nset++) {
        o.set[o.nset][0] = last[i][0];
        o.set[o.nset][1] = last[i][1];
    }
    cli_out c;
    app a;
    cli_open(&a, &c, stderr, 1);
    int rc = setup(&a, &c, &o);
    if (!rc) {
        snprintf(folder, sizeof folder, "%.900s/%.100s-seed%ld", dir, row->label, seed);
        for (char *p = folder + strlen(dir) + 1; *p; p++)
            if (*p == ' ' || *p == '=' || *p == '/' || *p == ',')
                *p = '_';
        snprintf(a.run_dir, sizeof a.run_dir, "%s", folder);
        rc = cli_exec(&a, &c, "train");
    }
    if (!rc) {
        out->test = a.final.test_acc;
        out->scratch_test = a.final.scratch_test_acc;
        out->epochs95 = cli_epochs_to_95(&a, 0);
        out->scratch95 = cli_epochs_to_95(&a, 1);
        out->wall = a.final.wall;
        out->trainable = app_count(&a, 1);
        out->total = app_count(&a, 0);
        if (outcome_curve(out, &a)) {
            cli_print(stderr, "thaw compare: out of memory for the curves\n");
            rc = 1;
        }
    }
    app_free(&a);
    return rc;
}

/* The (strategy, seed) trainings of a compare, each on a
 * core of its own when there are threads to spare: thaw_threads() runs
 * side by side, one thread each (a run computes the same numbers on any
 * thread count, so the table does not depend on how many ran at once). */
typedef struct compare_jobs {
    const train_opts *o;
    const compare_row *row;
    int n, seeds;
    const char *dir;
    outcome (*r)[SEEDS_MAX];
    int progress;                 /* a progress line on stderr (a terminal) */
    int width;                    /* trainings at once */
    pthread_mutex_t mu;
    int next, done, failed;
} compare_jobs;

static void *compare_worker(void *arg)
{
    compare_jobs *j = arg;
    int total = j->n * j->seeds;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        int k = j->failed ? total : j->next++;
        pthread_mutex_unlock(&j->mu);
        if (k >= total)
            return NULL;
        int i = k % j->n, s = k / j->n;
        int rc = compare_one(j->o, &j->row[i], s + 1, i == 0, j->width > 1, j->dir, &j->r[i][s]);
        pthread_mutex_lock(&j->mu);
        j->failed |= rc != 0;
        j->done++;
        if (j->progress) {
            char q[96];
            fprintf(stderr, "\rcompare: %d of %d trainings done (last: %s, seed %d)\033[K", j->done,
                    total, utf8_quote(q, sizeof q, j->row[i].label), s + 1);
            fflush(stderr);
        }
        pthread_mutex_unlock(&j->mu);
    }
}

static int compare_all(compare_jobs *j)
{
    int total = j->n * j->seeds, width = thaw_threads();
    if (width > total)
        width = total;
    j->width = width;
    pthread_t tid[PAR_THREADS_MAX];
    int started = 0;
    pthread_mutex_init(&j->mu, NULL);
    if (width > 1)
        thaw_threads_set(1);
    for (; started < width - 1; started++)
        if (pthread_create(&tid[started], NULL, compare_worker, j))
            break;
    compare_worker(j);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&j->mu);
    if (width > 1)
        thaw_threads_set(width);
    if (j->progress)
        fprintf(stderr, "\r\033[K");
    return j->failed;
}

/* A row of the table (csv: of the CSV file). dsrc NULL: no Δ-against-
 * source-only column; width: the label column's. */
static void row_text(char *buf, size_t cap, const char *name, const double *acc, const double *delta,
                     const double *dsrc, const double *e95, const double *wall, int n, size_t trainable,
                     int csv, int width)
{
    double am, as, dm, ds, sm = NAN, ss = 0, em, es, wm, ws;
    mean_std(acc, n, &am, &as);
    mean_std(delta, n, &dm, &ds);
    if (dsrc)
        mean_std(dsrc, n, &sm, &ss);
    mean_std(e95, n, &em, &es);
    mean_std(wall, n, &wm, &ws);
    char acc_text[48], delta_text[48], src_text[48] = "", wall_text[32];
    snprintf(acc_text, sizeof acc_text, "%6.1f ± %-5.1f", 100 * am, 100 * as);
    if (isnan(dm))
        snprintf(delta_text, sizeof delta_text, "%15s", "–");
    else
        snprintf(delta_text, sizeof delta_text, "%+7.1f ± %-5.1f", 100 * dm, 100 * ds);
    if (dsrc && isnan(sm))
        snprintf(src_text, sizeof src_text, " %15s", "–");
    else if (dsrc)
        snprintf(src_text, sizeof src_text, " %+7.1f ± %-5.1f", 100 * sm, 100 * ss);
    /* The baseline's time is inside the first strategy's. */
    if (isnan(wm))
        snprintf(wall_text, sizeof wall_text, "%8s", "–");
    else
        snprintf(wall_text, sizeof wall_text, "%8.1f", wm);
    if (csv) {
        /* no value (the baseline's Δ and time): an empty field */
        char dcsv[48] = "", scsv[48] = "", wcsv[32] = "";
        if (!isnan(dm))
            snprintf(dcsv, sizeof dcsv, "%.2f,%.2f", 100 * dm, 100 * ds);
        else
            snprintf(dcsv, sizeof dcsv, ",");
        if (dsrc && !isnan(sm))
            snprintf(scsv, sizeof scsv, "%.2f,%.2f,", 100 * sm, 100 * ss);
        else if (dsrc)
            snprintf(scsv, sizeof scsv, ",,");
        if (!isnan(wm))
            snprintf(wcsv, sizeof wcsv, "%.1f", wm);
        snprintf(buf, cap, "\"%s\",%d,%.2f,%.2f,%s,%s%.2f,%zu,%s\n", name, n, 100 * am, 100 * as, dcsv,
                 scsv, em, trainable, wcsv);
    }
    else
        snprintf(buf, cap, "%-*s %s %s%s %8.1f %11zu %s\n", width, name, acc_text, delta_text, src_text,
                 em, trainable, wall_text);
}

/* The rows: every strategy, with every technique of the ';'-separated list
 * adapts when there is one; 0, or the exit status after saying why. */
static int compare_rows(compare_row *row, int *n, char *strategies, char *adapts)
{
    char *plan[COMPARE_MAX], *how[COMPARE_MAX];
    int np = 0, nh = 0;
    for (char *save, *t = strtok_r(strategies, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (np == COMPARE_MAX) {
            cli_print(stderr, "thaw compare: at most %d strategies\n", COMPARE_MAX);
            return 2;
        }
        plan[np++] = t;
    }
    if (np == 0) {
        cli_print(stderr, "thaw compare: --strategies names no strategy; expected a comma-separated "
                  "list, like finetune,feature-extraction\n");
        return 2;
    }
    for (char *save, *t = adapts ? strtok_r(adapts, ";", &save) : NULL; t; t = strtok_r(NULL, ";", &save)) {
        while (*t == ' ')
            t++;
        adapt a;
        thaw_err err = { 0 };
        if (!*t)
            continue;
        if (adapt_parse(&a, t, &err)) {
            cli_print(stderr, "thaw compare: --adapts: %s\n", err.msg);
            return 2;
        }
        if (nh == COMPARE_MAX) {
            cli_print(stderr, "thaw compare: at most %d techniques\n", COMPARE_MAX);
            return 2;
        }
        how[nh++] = t;
    }
    if (adapts && nh == 0) {
        cli_print(stderr, "thaw compare: --adapts names no technique; expected a ';'-separated list, "
                  "like \"source-only;none;mmd weight=1\"\n");
        return 2;
    }
    if (np * (nh ? nh : 1) > COMPARE_MAX) {
        cli_print(stderr, "thaw compare: %d strategies with %d techniques make %d rows; at most %d\n",
                  np, nh, np * nh, COMPARE_MAX);
        return 2;
    }
    *n = 0;
    for (int i = 0; i < np; i++)
        for (int k = 0; k < (nh ? nh : 1); k++) {
            compare_row *r = &row[(*n)++];
            r->plan = plan[i];
            r->how = nh ? how[k] : NULL;
            if (nh)
                snprintf(r->label, sizeof r->label, "%.60s, %.60s", plan[i], how[k]);
            else
                snprintf(r->label, sizeof r->label, "%s", plan[i]);
        }
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    train_opts o;
    int rc = start(&o, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    char *end, list[2048];
    long seeds = o.seeds ? strtol(o.seeds, &end, 10) : 3;
    if ((o.seeds && *end) || seeds < 1 || seeds > SEEDS_MAX) {
        cli_print(stderr, "thaw compare: --seeds %s: expected 1 to %d\n", o.seeds, SEEDS_MAX);
        return 2;
    }
    if (!o.strategies) {
        cli_print(stderr, "thaw compare: --strategies is needed\n");
        return usage(argv[0]);
    }
    snprintf(list, sizeof list, "%s", o.strategies);
    char adapts[2048];
    if (o.adapts)
        snprintf(adapts, sizeof adapts, "%s", o.adapts);
    static compare_row row[COMPARE_MAX];
    int n = 0;
    if ((rc = compare_rows(row, &n, list, o.adapts ? adapts : NULL)))
        return rc;
    const char *name[COMPARE_MAX];
    int width = 28;
    for (int i = 0; i < n; i++) {
        name[i] = row[i].label;
        width = (int)strlen(name[i]) > width ? (int)strlen(name[i]) : width;
    }
    char dir[1024];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(dir, sizeof dir, "runs/compare-%Y%m%d-%H%M%S", &tm);
    static outcome r[COMPARE_MAX][SEEDS_MAX];
    static double acc[SEEDS_MAX], delta[SEEDS_MAX], dsrc[SEEDS_MAX], e95[SEEDS_MAX], wall[SEEDS_MAX];
    compare_jobs jobs = { .o = &o, .row = row, .n = n, .seeds = (int)seeds, .dir = dir, .r = r,
                          .progress = isatty(2) };
    if (compare_all(&jobs)) {
        free_curves(r, n, (int)seeds);
        return 1;
    }
    /* each row's source-only row: the same strategy's */
    int src_row[COMPARE_MAX], any_src = 0;
    for (int i = 0; i < n; i++) {
        src_row[i] = -1;
        for (int k = 0; k < n; k++) {
            adapt a;
            if (row[k].how && !strcmp(row[k].plan, row[i].plan) && adapt_parse(&a, row[k].how, NULL) == 0 &&
                a.kind == ADAPT_SOURCE_ONLY)
                src_row[i] = k;
        }
        any_src |= src_row[i] >= 0;
    }
    for (long s = 0; s < seeds; s++)
        for (int i = 0; i < n; i++) {
            r[i][s].delta = r[i][s].test - r[0][s].scratch_test;
            r[i][s].delta_source = src_row[i] >= 0 ? r[i][s].test - r[src_row[i]][s].test : NAN;
        }
    char line[512];
    size_t cap = 4096, len = 0;
    char *csv = malloc(cap);
    if (!csv) {
        free_curves(r, n, (int)seeds);
        return 1;
    }
    len = (size_t)snprintf(csv, cap, "strategy,seeds,test_acc_pct_mean,test_acc_pct_std,delta_pts_mean,"
                           "delta_pts_std,%sepochs_to_95,trainable_params,wall_s\n",
                           any_src ? "delta_source_pts_mean,delta_source_pts_std," : "");
    cli_print(stdout, "%-*s %14s %15s%s %8s %11s %8s\n", width, o.adapts ? "strategy, technique" : "strategy",
              "test acc %", "Δtransfer pts", any_src ? "  Δsource-only" : "", "ep→95%", "trainable",
              "wall s");
    for (int i = -1; i < n; i++) {
        for (long s = 0; s < seeds; s++) {
            acc[s] = i < 0 ? r[0][s].scratch_test : r[i][s].test;
            delta[s] = i < 0 ? NAN : r[i][s].delta;
            e95[s] = i < 0 ? r[0][s].scratch95 : r[i][s].epochs95;
            dsrc[s] = i < 0 ? NAN : r[i][s].delta_source;
            wall[s] = i < 0 ? NAN : r[i][s].wall;
        }
        size_t trainable = i < 0 ? r[0][0].total : r[i][0].trainable;   /* the baseline trains all */
        const char *label = i < 0 ? "scratch (baseline)" : name[i];
        row_text(line, sizeof line, label, acc, delta, any_src ? dsrc : NULL, e95, wall, (int)seeds,
                 trainable, 0, width);
        cli_print(stdout, "%s", line);
        row_text(line, sizeof line, label, acc, delta, any_src ? dsrc : NULL, e95, wall, (int)seeds,
                 trainable, 1, width);
        if (len + strlen(line) + 1 > cap) {
            char *grown = realloc(csv, cap *= 2);
            if (!grown) {
                free(csv);
                free_curves(r, n, (int)seeds);
                return 1;
            }
            csv = grown;
        }
        len += (size_t)snprintf(csv + len, cap - len, "%s", line);
    }
    char path[1100];
    snprintf(path, sizeof path, "%s.csv", dir);
    const char *target = o.csv ? o.csv : path;
    thaw_err err = {0};
    const void *buf = csv;
    rc = fio_save(&target, &buf, &len, 1, &err);
    free(csv);
    if (rc) {
        free_curves(r, n, (int)seeds);
        cli_print(stderr, "thaw compare: %s\n", err.msg);
        return 1;
    }
    char svg_path[1100];
    size_t stem = strlen(target) > 4 && !strcmp(target + strlen(target) - 4, ".csv") ? strlen(target) - 4
                                                                                       : strlen(target);
    snprintf(svg_path, sizeof svg_path, "%.*s.svg", (int)stem, target);
    rc = compare_svg(svg_path, name, n, (int)seeds, r, &err);
    free_curves(r, n, (int)seeds);
    if (rc) {
        cli_print(stderr, "thaw compare: %s\n", err.msg);
        return 1;
    }
    cli_print(stdout, "table written to %s, curves to %s; runs in %s/\n", target, svg_path, dir);
    return 0;
}
