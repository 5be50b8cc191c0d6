/* app.c — the command language and the workbench state it drives. */
#include "app.h"

#include <errno.h>
#include <locale.h>
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "numtext.h"
#include "paths.h"
#include "runlog.h"

enum { APP_ARGS_MAX = 256, SOURCE_EVAL_MAX = 250, LAYERS_MAX = 4096 };

/* ---- numbers in C notation whatever the locale -------------------------- */

static locale_t the_c_locale;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { the_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

/* Switches this thread to the C locale; returns what to switch back to. */
static locale_t enter_c(void)
{
    pthread_once(&c_once, c_locale_init);
    return the_c_locale ? uselocale(the_c_locale) : (locale_t)0;
}

static void leave_c(locale_t old)
{
    if (old)
        uselocale(old);
}

static void say(app *a, app_say_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(app *a, app_say_kind kind, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (a->out.say)
        a->out.say(a->out.ctx, kind, text);
}

/* Appends one command to the run's session.thaw, without its line break. */
static void log_command(app *a, const char *line)
{
    char one[TASK_SPEC_MAX + 256];
    size_t n = strcspn(line, "\r\n");
    if (n >= sizeof one)
        return;
    memcpy(one, line, n);
    one[n] = '\0';
    runlog_command(a->run, one, NULL);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* Splits a line into words: blanks separate, "double quotes" group, '#'
 * at the start of a word begins a comment. Returns the count or -1. */
static int split(char *line, char **argv, int cap, thaw_err *err)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == cap)
            return thaw_fail(err, THAW_EINVAL, "a command takes at most %d words (put long text in quotes: say \"...\")", cap), -1;
        if (*p == '"') {
            argv[n++] = ++p;
            while (*p && *p != '"')
                p++;
            if (!*p)
                return thaw_fail(err, THAW_EINVAL, "a quote is not closed"), -1;
        } else {
            argv[n++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                p++;
            if (!*p)
                return n;
        }
        *p++ = '\0';
    }
}

/* ---- settings ----------------------------------------------------------- */

const char *const app_setting_names[] = {
    "epochs", "batch", "lr", "scratch-lr", "optimizer", "momentum", "wd", "schedule", "warmup",
    "early-stop", "augment", "seed", "baseline", "parallel", "train-bn", "evals", "cache-mb",
    NULL,
};

static void settings_default(app_settings *s)
{
    memset(s, 0, sizeof *s);
    sess_config_default(&s->sess);
    s->epochs = 10;
    s->lr = 0.01f;
    s->seed = 1;
    s->sess.parallel = sysconf(_SC_NPROCESSORS_ONLN) >= 2;   /* the baseline on the second core */
}

static int on_off(const char *v, int *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "1") || !strcmp(v, "yes"))
        return *out = 1, 1;
    if (!strcmp(v, "off") || !strcmp(v, "0") || !strcmp(v, "no"))
        return *out = 0, 1;
    return 0;
}

/* Applies one `set KEY VALUE` to s. */
static int setting(app_settings *s, const char *key, const char *v, thaw_err *err)
{
    double d;
    long n;
    int b;
    if (!strcmp(key, "epochs")) {
        if (!parse_int(v, 1, 100000, &n))
            goto range;
        s->epochs = (int)n;
    } else if (!strcmp(key, "batch")) {
        if (!parse_int(v, 1, 4096, &n))
            goto range;
        s->sess.batch = (int)n;
    } else if (!strcmp(key, "lr")) {
        if (!parse_double(v, 1e-12, 100.0, &d))
            goto range;
        s->lr = (float)d;
    } else if (!strcmp(key, "scratch-lr")) {
        if (!parse_double(v, 1e-12, 100.0, &d))
            goto range;
        s->sess.scratch_lr = (float)d;
    } else if (!strcmp(key, "optimizer")) {
        if (strcmp(v, "sgd") && strcmp(v, "adamw"))
            return thaw_fail(err, THAW_EINVAL, "set optimizer %s: expected sgd or adamw", v);
        s->sess.optimizer = strcmp(v, "sgd") ? OPTIM_ADAMW : OPTIM_SGD;
        if (s->sess.optimizer == OPTIM_ADAMW && s->sess.weight_decay == 5e-4f)
            s->sess.weight_decay = 0.01f;       /* AdamW's own default */
    } else if (!strcmp(key, "momentum")) {
        if (!parse_double(v, 0.0, 0.999, &d))
            goto range;
        s->sess.momentum = (float)d;
    } else if (!strcmp(key, "wd")) {
        if (!parse_double(v, 0.0, 1.0, &d))
            goto range;
        s->sess.weight_decay = (float)d;
    } else if (!strcmp(key, "schedule")) {
        double warm = s->sess.sched.warmup;
        if (schedule_parse(&s->sess.sched, v, err))
            return err->code;
        if (!strstr(v, "warmup"))
            s->sess.sched.warmup = warm;
    } else if (!strcmp(key, "warmup")) {
        if (!parse_double(v, 0.0, 1000.0, &d))
            goto range;
        s->sess.sched.warmup = d;
    } else if (!strcmp(key, "early-stop")) {
        if (!parse_int(v, 0, 100000, &n))
            goto range;
        s->sess.patience = (int)n;
    } else if (!strcmp(key, "augment")) {
        if (augment_parse(&s->aug, v, err))
            return err->code;
    } else if (!strcmp(key, "seed")) {
        if (!parse_int(v, 0, 2147483647L, &n))
            goto range;
        s->seed = (unsigned long long)n;
        s->sess.seed = (unsigned long long)n;
    } else if (!strcmp(key, "baseline")) {
        if (!on_off(v, &b))
            goto onoff;
        s->sess.baseline = b;
    } else if (!strcmp(key, "parallel")) {
        if (!on_off(v, &b))
            goto onoff;
        s->sess.parallel = b;
    } else if (!strcmp(key, "train-bn")) {
        if (!on_off(v, &b))
            goto onoff;
        s->train_bn = b;
    } else if (!strcmp(key, "evals")) {
        if (!parse_int(v, 1, 1000, &n))
            goto range;
        s->sess.evals_per_epoch = (int)n;
    } else if (!strcmp(key, "cache-mb")) {
        if (!parse_int(v, 0, 1 << 20, &n))
            goto range;
        s->sess.cache_bytes = (size_t)n << 20;
    } else {
        char names[512] = "";
        for (int i = 0; app_setting_names[i]; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     app_setting_names[i]);
        return thaw_fail(err, THAW_EINVAL, "set: unknown setting '%s'; the settings are %s", key, names);
    }
    return THAW_OK;
range:
    return thaw_fail(err, THAW_EINVAL, "set %s %s: not a number in range (see `help set`)", key, v);
onoff:
    return thaw_fail(err, THAW_EINVAL, "set %s %s: expected on or off", key, v);
}

/* Settings a running session cannot take: they shape the session itself. */
static int session_bound(const char *key)
{
    return !strcmp(key, "baseline") || !strcmp(key, "parallel") || !strcmp(key, "augment") ||
           !strcmp(key, "seed") || !strcmp(key, "train-bn");
}

/* ---- the model and data ------------------------------------------------- */

static const model *current_model(const app *a)
{
    return a->sess ? sess_model(a->sess, 0) : a->have_plan ? &a->plan : NULL;
}

size_t app_count(const app *a, int trainable_only)
{
    const model *m = current_model(a);
    return m ? model_count(m, trainable_only) : 0;
}

static void drop_session(app *a)
{
    sess_free(a->sess);
    a->sess = NULL;
    runlog_close(a->run);
    a->run = NULL;
    a->nhistory = 0;
}

static void drop_plan(app *a)
{
    a->generation++;                /* every layer pointer a front end holds is stale */
    drop_session(a);
    if (a->have_plan)
        model_free(&a->plan);
    a->have_plan = 0;
    mf_meta_free(&a->meta);
    free(a->source_x);
    free(a->source_y);
    a->source_x = NULL;
    a->source_y = NULL;
    a->source_n = 0;
}

static ds_geom model_geom(const mf_meta *m)
{
    ds_geom g;
    memset(&g, 0, sizeof g);
    g.in = m->input;
    for (int c = 0; c < DS_MAX_CHANNELS && c < m->input.c; c++) {
        g.mean[c] = (float)m->mean[c];
        g.std[c] = (float)m->std[c];
    }
    return g;
}

/* The spec of the source task's test images, from the model's provenance,
 * when thaw knows the data set; "" otherwise. */
static void source_spec(const mf_meta *m, char *out, size_t cap)
{
    static const struct { const char *name, *source; } known[] = {
        { "fashion-mnist", "fashion" }, { "Fashion-MNIST", "fashion" }, { "shapes", "shapes" },
        { "mnist", "mnist" }, { "MNIST", "mnist" },
    };
    out[0] = '\0';
    const mf_provenance *p = &m->prov;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(p->dataset, known[i].name) || p->ndataset_classes < 1)
            continue;
        size_t n = (size_t)snprintf(out, cap, "%s:classes=", known[i].source);
        for (int k = 0; k < p->ndataset_classes && n < cap; k++)
            n += (size_t)snprintf(out + n, cap - n, "%s%d", k ? "," : "", p->dataset_classes[k]);
        if (!strcmp(known[i].source, "shapes") && n < cap)
            snprintf(out + n, cap - n, ",n=1,test=%d", SOURCE_EVAL_MAX / p->ndataset_classes);
        return;
    }
}

/* The source task's test images (up to SOURCE_EVAL_MAX), for the forgetting
 * monitor; quietly nothing when they are not at hand. */
static void load_source_images(app *a)
{
    char spec[TASK_SPEC_MAX];
    source_spec(&a->source_meta, spec, sizeof spec);
    if (!spec[0])
        return;
    task t;
    ds_geom g = model_geom(&a->source_meta);
    thaw_err err = {0};
    if (task_load(&t, spec, &g, a->set.seed, &err))
        return;
    const ds_split *s = &t.split[TASK_TEST];
    int n = s->n < SOURCE_EVAL_MAX ? s->n : SOURCE_EVAL_MAX;
    size_t img = shape3_count(g.in);
    /* Every n/SOURCE_EVAL_MAX-th image, so every class is represented. */
    a->source_x = malloc((size_t)n * img * sizeof(float) + 1);
    a->source_y = malloc((size_t)n * sizeof(int) + 1);
    if (a->source_x && a->source_y && s->n > 0) {
        for (int i = 0; i < n; i++) {
            int j = (int)((long)i * s->n / n);
            ds_split_image(s, &g, j, a->source_x + (size_t)i * img);
            a->source_y[i] = s->y[j];
        }
        a->source_n = n;
    }
    task_free(&t);
}

void app_preload(app *a)
{
    if (a->have_plan && !a->source_x)
        load_source_images(a);
}

/* 1 when the task's classes are the source model's, by name and in order:
 * then its trained head already scores them. */
static int same_classes(const mf_meta *source, const task *t)
{
    if (source->nclass != t->nclass)
        return 0;
    for (int k = 0; k < t->nclass; k++)
        if (strcmp(source->class_name[k], t->name[k]))
            return 0;
    return 1;
}

/* With a model and a data spec: loads the task in the model's geometry and
 * the transferred model with a fresh head for its classes; the model's own
 * head when they are the classes it was trained on. */
static int build_plan(app *a, thaw_err *err)
{
    drop_plan(a);
    if (a->have_data)
        task_free(&a->task);
    a->have_data = 0;
    ds_geom g = model_geom(&a->source_meta);
    if (task_load(&a->task, a->data_spec, &g, a->set.seed, err))
        return err->code;
    a->have_data = 1;
    if (a->task.split[TASK_VAL].n == 0)
        return thaw_fail(err, THAW_EINVAL, "data %s has no validation images; add val=N (for "
                         "example val=50)", a->data_spec);
    int keep_head = same_classes(&a->source_meta, &a->task);
    mf_load_opts o = { .classes = a->task.nclass, .fresh_head = !keep_head, .seed = a->set.seed };
    if (mf_load(&a->meta, &a->plan, a->model_path, &o, err))
        return err->code;
    a->have_plan = 1;
    for (int k = 0; k < a->task.nclass && k < a->meta.nclass; k++)
        snprintf(a->meta.class_name[k], MF_TEXT_MAX, "%s", a->task.name[k]);
    a->plan.train_bn = a->set.train_bn;
    model_set_lr(&a->plan, a->plan.root, a->set.lr);
    a->strategy_text[0] = '\0';
    say(a, APP_INFO, "target: %s, %d classes; %d training, %d validation, %d test images%s",
        a->task.source, a->task.nclass, a->task.split[TASK_TRAIN].n, a->task.split[TASK_VAL].n,
        a->task.split[TASK_TEST].n, keep_head ? "; the model's classes, so it keeps its head" : "");
    return THAW_OK;
}

/* spec with its dir= and testdir= folders found as paths_find finds them;
 * 0 when the result does not fit in cap. */
static int find_spec_dirs(const char *spec, char *out, size_t cap)
{
    char buf[TASK_SPEC_MAX], where[PATHS_MAX];
    snprintf(buf, sizeof buf, "%s", spec);
    char *items = strchr(buf, ':');
    if (!items)
        return snprintf(out, cap, "%s", spec) < (int)cap;
    *items++ = '\0';
    size_t n = (size_t)snprintf(out, cap, "%s:", buf);
    const char *sep = "";
    for (char *save, *it = strtok_r(items, ",", &save); it && n < cap; it = strtok_r(NULL, ",", &save)) {
        if (!strncmp(it, "dir=", 4) || !strncmp(it, "testdir=", 8)) {
            char *val = strchr(it, '=') + 1;
            val[-1] = '\0';
            n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", sep, it, paths_find(val, where, sizeof where));
        } else {
            n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, it);
        }
        sep = ",";
    }
    return n < cap;
}

static int cmd_load(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc != 3 || (strcmp(argv[1], "model") && strcmp(argv[1], "data")))
        return thaw_fail(err, THAW_EINVAL, "usage: load model FILE.json | load data SPEC");
    if (!strcmp(argv[1], "model")) {
        mf_meta meta;
        model m;
        char where[PATHS_MAX];
        const char *file = paths_find(argv[2], where, sizeof where);
        if (strlen(file) >= sizeof a->model_path)
            return thaw_fail(err, THAW_EINVAL, "load model: the path is longer than %zu bytes",
                             sizeof a->model_path - 1);
        if (mf_load(&meta, &m, file, NULL, err))
            return err->code;
        model_free(&m);
        mf_meta_free(&a->source_meta);
        a->source_meta = meta;
        snprintf(a->model_path, sizeof a->model_path, "%s", file);
        a->have_model = 1;
        const mf_provenance *p = &meta.prov;
        if (p->test_accuracy >= 0)
            say(a, APP_INFO, "model %s: %d classes, trained on %s (%.1f%% test accuracy)", file,
                meta.nclass, p->dataset[0] ? p->dataset : "unknown data", 100.0 * p->test_accuracy);
        else
            say(a, APP_INFO, "model %s: %d classes", file, meta.nclass);
    } else {
        task_spec sp;
        char spec[TASK_SPEC_MAX];
        if (task_spec_parse(&sp, argv[2], err))
            return err->code;
        if (!find_spec_dirs(argv[2], spec, sizeof spec))
            return thaw_fail(err, THAW_EINVAL, "data spec longer than %d bytes", TASK_SPEC_MAX - 1);
        snprintf(a->data_spec, sizeof a->data_spec, "%s", spec);
        if (!a->have_model) {
            say(a, APP_INFO, "data %s: loads once a model is loaded", spec);
            return THAW_OK;
        }
    }
    if (!a->data_spec[0])
        return THAW_OK;
    return build_plan(a, err);
}

static int need_plan(app *a, const char *cmd, thaw_err *err)
{
    if (a->have_plan || a->sess)
        return THAW_OK;
    return thaw_fail(err, THAW_EINVAL, "%s: load a model and data first (load model FILE, "
                     "load data SPEC)", cmd);
}

/* ---- the session --------------------------------------------------------- */

static void augment_one(void *ctx, float *dst, const float *src, rng *r)
{
    app *a = ctx;
    augment_sample(&a->set.aug, &a->task.geom, dst, src, r);
}

/* Trainer thread: every evaluation into the run folder, with checkpoints. */
static void hook_eval(void *ctx, const sess_eval *e, const model *transfer, const model *scratch)
{
    (void)scratch;
    app *a = ctx;
    thaw_err err = {0};
    locale_t old = enter_c();
    a->trained_epochs = e->epoch;
    a->trained_test_acc = !isnan(e->test_acc) ? e->test_acc : -1.0;
    mf_meta m = a->meta;
    m.prov.epochs = a->trained_epochs;
    m.prov.test_accuracy = a->trained_test_acc;
    if (runlog_eval(a->run, e, &err) ||
        (e->best && runlog_checkpoint(a->run, "best", &m, transfer, &err)) ||
        (e->final && runlog_checkpoint(a->run, "last", &m, transfer, &err)) ||
        (e->final && runlog_plots(a->run, &err))) {
        sess_event ev = { .kind = SEV_ERROR, .step = e->step, .epoch = e->epoch };
        snprintf(ev.text, sizeof ev.text, "%.*s", (int)sizeof ev.text - 1, err.msg);
        runlog_event(a->run, &ev, NULL);
    }
    leave_c(old);
}

static void hook_event(void *ctx, const sess_event *ev)
{
    app *a = ctx;
    locale_t old = enter_c();
    runlog_event(a->run, ev, NULL);
    leave_c(old);
}

static void provenance(app *a)
{
    mf_provenance *p = &a->meta.prov;
    const char *base = strrchr(a->model_path, '/');
    base = base ? base + 1 : a->model_path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json"))
        n -= 5;
    snprintf(p->finetuned_from, sizeof p->finetuned_from, "%.*s", (int)n, base);
    snprintf(p->dataset, sizeof p->dataset, "%s", a->task.source);
    p->ndataset_classes = a->task.nclass;
    for (int k = 0; k < a->task.nclass; k++)
        p->dataset_classes[k] = a->task.orig[k];
    p->seed = (long long)a->set.seed;
    p->epochs = 0;
    p->test_accuracy = -1.0;
}

static int start_session(app *a, thaw_err *err)
{
    if (a->sess)
        return THAW_OK;
    int rc;
    if ((rc = need_plan(a, "train", err)))
        return rc;
    if (a->set.aug.shift && (rc = augment_check(&a->set.aug, &a->task.geom, err)))
        return rc;
    provenance(a);
    a->trained_epochs = 0;
    a->trained_test_acc = -1.0;
    char *config = app_config_text(a);
    if (!config)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    const char *label = a->strategy_text[0] ? a->strategy_text : "plan";
    char safe[64];
    size_t k = 0;
    for (const char *p = label; *p && k < sizeof safe - 1 && *p != ' '; p++)
        safe[k++] = *p;
    safe[k] = '\0';
    const char *runs = getenv("THAW_RUNS");
    rc = runlog_open(&a->run, a->run_dir[0] ? a->run_dir : NULL, runs && runs[0] ? runs : "runs", safe,
                     config, err);
    if (rc == THAW_OK) {
        /* session.thaw starts from the state the run starts in, so it replays alone. */
        for (char *save, *l = strtok_r(config, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            log_command(a, l);
    }
    free(config);
    if (rc)
        return rc;
    model scratch, source;
    int have_scratch = 0, have_source = 0;
    if (!a->source_x)
        load_source_images(a);      /* here, not at load: start-up stays fast */
    if (a->set.sess.baseline) {
        if ((rc = mf_build(&scratch, &a->meta, a->set.seed + 7919, err)))
            return rc;
        model_freeze(&scratch, scratch.root, 0);
        have_scratch = 1;
    }
    if (a->source_n > 0) {
        mf_meta sm;
        if (mf_load(&sm, &source, a->model_path, NULL, NULL) == THAW_OK) {
            mf_meta_free(&sm);
            have_source = 1;
        }
    }
    sess_data d;
    memset(&d, 0, sizeof d);
    d.in = a->task.geom.in;
    d.classes = a->task.nclass;
    static const int from[3] = { TASK_TRAIN, TASK_VAL, TASK_TEST };
    for (int i = 0; i < 3; i++)
        d.split[i] = (sess_split){ a->task.split[from[i]].x, a->task.split[from[i]].y,
                                   a->task.split[from[i]].n };
    if (have_source)
        d.split[SESS_SOURCE_SPLIT] = (sess_split){ a->source_x, a->source_y, a->source_n };
    if (a->set.aug.shift || a->set.aug.flip || a->set.aug.noise > 0) {
        d.augment = augment_one;
        d.augment_ctx = a;
    }
    sess_hooks h = { .ctx = a, .eval = hook_eval, .event = hook_event };
    a->plan.train_bn = a->set.train_bn;
    rc = sess_new(&a->sess, &a->plan, have_scratch ? &scratch : NULL, have_source ? &source : NULL,
                  &d, &a->set.sess, &h, err);
    a->have_plan = 0;
    if (rc) {
        runlog_close(a->run);
        a->run = NULL;
        return rc;
    }
    say(a, APP_INFO, "run folder %s", runlog_dir(a->run));
    return THAW_OK;
}

static int control(app *a, sess_ctl c, thaw_err *err)
{
    return sess_control(a->sess, &c, err);
}

/* Batch mode: reports progress until the session settles. */
static void settle(app *a)
{
    if (!a->batch || !a->sess)
        return;
    int stopping = 0;
    while (sess_busy(a->sess)) {
        app_pump(a, 100);
        if (a->stop && *a->stop && !stopping) {
            /* SIGINT, SIGTERM or SIGHUP: end the training the normal way, so
             * the final evaluation writes the last checkpoint. */
            stopping = 1;
            say(a, APP_WARN, "stopping: evaluating and saving the last checkpoint");
            control(a, (sess_ctl){ .op = SESS_STOP }, NULL);
        }
    }
    app_pump(a, 0);
    if (stopping)
        a->quit = 1;
}

/* ---- commands ------------------------------------------------------------ */

typedef int (*verb_fn)(app *a, int argc, char **argv, thaw_err *err);

static int match(app *a, const char *pattern, layer **out, int cap, thaw_err *err)
{
    return model_match(current_model(a), pattern, out, cap, err);
}

static int cmd_freeze(app *a, int argc, char **argv, thaw_err *err)
{
    int rc, frozen = !strcmp(argv[0], "freeze");
    long at = -1;
    if ((rc = need_plan(a, argv[0], err)))
        return rc;
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s PATTERN... (all, stage2, stage*, stage3.*)",
                         argv[0]);
    if (!frozen && !strncmp(argv[argc - 1], "at=", 3)) {
        if (!parse_int(argv[argc - 1] + 3, 1, 100000, &at))
            return thaw_fail(err, THAW_EINVAL, "unfreeze ... %s: expected at=EPOCH (1 or more)",
                             argv[argc - 1]);
        if (--argc < 2)
            return thaw_fail(err, THAW_EINVAL, "usage: unfreeze PATTERN... at=EPOCH");
    }
    static layer *hit[LAYERS_MAX];
    for (int i = 1; i < argc; i++) {
        int n = match(a, argv[i], hit, LAYERS_MAX, err);
        if (n < 0)
            return err->code;
        for (int k = 0; k < n; k++) {
            if (at >= 0) {
                sess_ctl c = { .op = SESS_THAW_AT, .count = (int)at - 1 };
                snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
                if (a->sess) {
                    if ((rc = control(a, c, err)))
                        return rc;
                    continue;
                }
                return thaw_fail(err, THAW_EINVAL, "unfreeze ... at=EPOCH schedules a thaw in a "
                                 "run; use it after the first train, or use strategy gradual");
            }
            if (a->sess) {
                sess_ctl c = { .op = frozen ? SESS_FREEZE : SESS_UNFREEZE };
                snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
                if ((rc = control(a, c, err)))
                    return rc;
            } else {
                model_freeze(&a->plan, hit[k], frozen);
            }
        }
    }
    if (a->batch && a->sess)
        sess_wait(a->sess);
    return THAW_OK;
}

static int cmd_lr(app *a, int argc, char **argv, thaw_err *err)
{
    int rc;
    double v;
    if ((rc = need_plan(a, "lr", err)))
        return rc;
    if (argc != 3 || !parse_double(argv[2], 0.0, 1e12, &v))
        return thaw_fail(err, THAW_EINVAL, "usage: lr PATTERN RATE (a number from 0 to 1e12; a "
                         "diverging rate is caught and paused on its step)");
    static layer *hit[LAYERS_MAX];
    int n = match(a, argv[1], hit, LAYERS_MAX, err);
    if (n < 0)
        return err->code;
    for (int k = 0; k < n; k++) {
        if (a->sess) {
            sess_ctl c = { .op = SESS_LR, .value = v };
            snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
            if ((rc = control(a, c, err)))
                return rc;
        } else {
            model_set_lr(&a->plan, hit[k], (float)v);
        }
    }
    if (a->batch && a->sess)
        sess_wait(a->sess);
    return THAW_OK;
}

static int apply_strategy(app *a, const char *text, thaw_err *err)
{
    strategy st;
    int rc;
    if ((rc = need_plan(a, "strategy", err)) || (rc = strategy_parse(&st, text, err)))
        return rc;
    if (a->sess) {
        if ((rc = control(a, (sess_ctl){ .op = SESS_STRATEGY, .strat = st, .value = a->set.lr }, err)))
            return rc;
        if (a->batch)
            sess_wait(a->sess);
    } else {
        thaw_plan plan;
        if ((rc = strategy_apply(&st, &a->plan, a->set.lr, &plan, err)))
            return rc;
        /* The session replays the strategy so its gradual plan counts from
         * the first epoch; the plan shows it already. */
    }
    strategy_format(&st, a->strategy_text, sizeof a->strategy_text);
    return THAW_OK;
}

static int cmd_strategy(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: strategy feature-extraction | finetune | "
                         "gradual [every=N] | discriminative [factor=F | lo=RATE] | layer-decay "
                         "[decay=D]");
    char text[256] = "";
    for (int i = 1; i < argc; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s%s", i > 1 ? " " : "", argv[i]);
    return apply_strategy(a, text, err);
}

static int cmd_lr_decay(app *a, int argc, char **argv, thaw_err *err)
{
    double d;
    if (argc != 2 || !parse_double(argv[1], 1e-6, 1.0, &d))
        return thaw_fail(err, THAW_EINVAL, "usage: lr-decay FACTOR (in (0, 1]: each group down "
                         "from the head gets FACTOR times the rate above it)");
    char text[64];
    snprintf(text, sizeof text, "layer-decay decay=%.17g", d);
    return apply_strategy(a, text, err);
}

static int cmd_set(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc < 3 || argc % 2 == 0)
        return thaw_fail(err, THAW_EINVAL, "usage: set KEY VALUE [KEY VALUE...]");
    app_settings next = a->set;
    for (int i = 1; i < argc; i += 2) {
        if (a->sess && session_bound(argv[i]))
            return thaw_fail(err, THAW_EINVAL, "set %s: this shapes the run itself; give it before "
                             "the first train, or `reset` and start again", argv[i]);
        int rc = setting(&next, argv[i], argv[i + 1], err);
        if (rc)
            return rc;
    }
    if (a->sess && memcmp(&next.sess, &a->set.sess, sizeof next.sess)) {
        int rc = control(a, (sess_ctl){ .op = SESS_CONFIGURE, .config = next.sess }, err);
        if (rc)
            return rc;
        sess_wait(a->sess);
    }
    strategy st;
    if (next.lr != a->set.lr && a->strategy_text[0] &&
        strategy_parse(&st, a->strategy_text, NULL) == THAW_OK && st.kind == STRAT_DISCRIMINATIVE &&
        st.lo > 0 && st.lo > next.lr)
        return thaw_fail(err, THAW_EINVAL, "set lr %g: below the lowest rate of the strategy in "
                         "force (%s); give the strategy again with a smaller lo first",
                         (double)next.lr, a->strategy_text);
    if (!a->sess && a->have_plan && next.lr != a->set.lr && !a->strategy_text[0])
        model_set_lr(&a->plan, a->plan.root, next.lr);
    if (!a->sess && a->have_plan)
        a->plan.train_bn = next.train_bn;
    a->set = next;
    return THAW_OK;
}

static int cmd_train(app *a, int argc, char **argv, thaw_err *err)
{
    long n = a->set.epochs;
    int rc;
    if (argc > 2 || (argc == 2 && !parse_int(argv[1], 1, 100000, &n)))
        return thaw_fail(err, THAW_EINVAL, "usage: train [EPOCHS] (1 or more; default: set epochs)");
    if ((rc = start_session(a, err)))
        return rc;
    if (a->strategy_text[0] && sess_epoch(a->sess) == 0 && sess_state_now(a->sess) == SESS_IDLE &&
        a->nhistory == 0) {
        strategy st;
        if (strategy_parse(&st, a->strategy_text, err) == THAW_OK && st.kind == STRAT_GRADUAL &&
            (rc = control(a, (sess_ctl){ .op = SESS_STRATEGY, .strat = st, .value = a->set.lr }, err)))
            return rc;
    }
    int idle = sess_state_now(a->sess) == SESS_IDLE && !sess_busy(a->sess);
    if ((rc = control(a, (sess_ctl){ .op = SESS_TRAIN, .count = (int)n }, err)))
        return rc;
    a->target_epoch = idle ? sess_epoch(a->sess) + (int)n : a->target_epoch + (int)n;
    settle(a);
    return THAW_OK;
}

static int cmd_simple(app *a, int argc, char **argv, thaw_err *err)
{
    static const struct { const char *name; sess_op op; } ops[] = {
        { "pause", SESS_PAUSE }, { "resume", SESS_RESUME }, { "stop", SESS_STOP },
        { "step", SESS_STEP }, { "eval", SESS_EVAL },
    };
    int rc;
    if (argc != 1)
        return thaw_fail(err, THAW_EINVAL, "usage: %s (no arguments)", argv[0]);
    sess_op op = SESS_PAUSE;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(argv[0], ops[i].name))
            op = ops[i].op;
    if (!a->sess && (op == SESS_PAUSE || op == SESS_RESUME || op == SESS_STOP))
        return thaw_fail(err, THAW_EINVAL, "%s: nothing is training", argv[0]);
    if ((rc = start_session(a, err)) || (rc = control(a, (sess_ctl){ .op = op }, err)))
        return rc;
    if (op == SESS_STEP || op == SESS_EVAL)
        settle(a);
    return THAW_OK;
}

static int cmd_lr_find(app *a, int argc, char **argv, thaw_err *err)
{
    double lo = 1e-7, hi = 10.0;
    long steps = 100;
    int rc;
    for (int i = 1; i < argc; i++) {
        const char *v = strchr(argv[i], '=');
        int ok = v != NULL;
        if (ok && !strncmp(argv[i], "start=", 6))
            ok = parse_double(v + 1, 1e-12, 1e3, &lo);
        else if (ok && !strncmp(argv[i], "end=", 4))
            ok = parse_double(v + 1, 1e-12, 1e4, &hi);
        else if (ok && !strncmp(argv[i], "steps=", 6))
            ok = parse_int(v + 1, 2, 100000, &steps);
        else
            ok = 0;
        if (!ok)
            return thaw_fail(err, THAW_EINVAL, "lr-find %s: expected start=RATE, end=RATE or "
                             "steps=N", argv[i]);
    }
    if ((rc = start_session(a, err)))
        return rc;
    a->lr_suggestion = NAN;
    if ((rc = control(a, (sess_ctl){ .op = SESS_LRFIND, .value = lo, .value2 = hi, .count = (int)steps }, err)))
        return rc;
    settle(a);
    return THAW_OK;
}

/* Work that must run on the trainer thread once a session exists. */
typedef struct call_job {
    app *a;
    int kind;                 /* 0 save, 1 metrics, 2 plots */
    char path[TASK_PATH_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, rc;
    thaw_err err;
} call_job;

static void call_run(void *ctx, const model *transfer, const model *scratch)
{
    (void)scratch;
    call_job *j = ctx;
    locale_t old = enter_c();
    int rc;
    if (j->kind == 0) {
        mf_meta m = j->a->meta;
        m.prov.epochs = j->a->trained_epochs;
        m.prov.test_accuracy = j->a->trained_test_acc;
        rc = mf_save(j->path, &m, transfer, &j->err);
    } else if (j->kind == 1)
        rc = runlog_export_metrics(j->a->run, j->path, &j->err);
    else
        rc = runlog_export_plots(j->a->run, j->path, &j->err);
    leave_c(old);
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->done = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int on_trainer(app *a, int kind, const char *path, thaw_err *err)
{
    call_job j;
    memset(&j, 0, sizeof j);
    j.a = a;
    j.kind = kind;
    snprintf(j.path, sizeof j.path, "%s", path);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    int rc = control(a, (sess_ctl){ .op = SESS_CALL, .call = call_run, .call_ctx = &j }, err);
    if (rc == THAW_OK) {
        /* At most one step: the trainer runs it at the next boundary. */
        pthread_mutex_lock(&j.mu);
        while (!j.done)
            pthread_cond_wait(&j.cv, &j.mu);
        pthread_mutex_unlock(&j.mu);
        rc = j.rc;
        if (rc && err)
            *err = j.err;
    }
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    return rc;
}

static int cmd_save(app *a, int argc, char **argv, thaw_err *err)
{
    int rc;
    if (argc != 2)
        return thaw_fail(err, THAW_EINVAL, "usage: save FILE.json (the weights go beside it)");
    if ((rc = need_plan(a, "save", err)))
        return rc;
    if (a->sess)
        rc = on_trainer(a, 0, argv[1], err);
    else
        rc = (provenance(a), mf_save(argv[1], &a->meta, &a->plan, err));
    if (rc == THAW_OK)
        say(a, APP_INFO, "saved %s", argv[1]);
    return rc;
}

static int cmd_export(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc != 3 || (strcmp(argv[1], "metrics") && strcmp(argv[1], "plots")))
        return thaw_fail(err, THAW_EINVAL, "usage: export metrics FILE.csv | export plots FILE.svg");
    if (!a->sess || !a->run)
        return thaw_fail(err, THAW_EINVAL, "export: nothing has been trained yet");
    int rc = on_trainer(a, strcmp(argv[1], "metrics") ? 2 : 1, argv[2], err);
    if (rc == THAW_OK)
        say(a, APP_INFO, "wrote %s", argv[2]);
    return rc;
}

const model *app_model(const app *a)
{
    return current_model(a);
}

int app_layers(app *a, sess_layer *out, int cap)
{
    if (a->sess)
        return sess_layers(a->sess, out, cap);
    const model *m = current_model(a);
    int n = 0;
    for (int i = 0; m && i < m->nslice && n < cap; i++) {
        const param_slice *p = &m->slice[i];
        if (p->kind == PARAM_STAT || (n && out[n - 1].l == p->owner))
            continue;
        memset(&out[n], 0, sizeof out[n]);
        out[n].l = p->owner;
        out[n].lr = p->lr;
        int frozen = 0, open = 0;
        const layer *l = p->owner;
        for (int k = l->slice0; k < l->slice0 + l->nslice; k++)
            if (m->slice[k].kind != PARAM_STAT) {
                frozen += m->slice[k].frozen;
                open += !m->slice[k].frozen;
            }
        out[n].frozen = open == 0 ? 1 : frozen == 0 ? 0 : 2;
        n++;
    }
    return n;
}

static void show_layers(app *a)
{
    const model *m = current_model(a);
    static sess_layer ls[LAYERS_MAX];
    int n = app_layers(a, ls, LAYERS_MAX);
    say(a, APP_INFO, "%-22s %-12s %10s  %-6s %9s %8s %9s", "layer", "type", "params", "train",
        "lr", "drift", "|grad|");
    for (int i = 0; i < n; i++) {
        const layer *l = ls[i].l;
        size_t count = 0;
        for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
            if (m->slice[s].kind != PARAM_STAT)
                count += m->slice[s].len;
        say(a, APP_INFO, "%-22s %-12s %10zu  %-6s %9.3g %8.4f %9.3g", l->path, l->ops->type, count,
            ls[i].frozen == 1 ? "frozen" : ls[i].frozen == 2 ? "partly" : "yes", (double)ls[i].lr,
            ls[i].drift, ls[i].grad_norm);
    }
    say(a, APP_INFO, "trainable parameters: %zu of %zu", model_count(m, 1), model_count(m, 0));
}

/* The last evaluation's confusion matrix and per-class accuracy. */
static int show_confusion(app *a, thaw_err *err)
{
    if (!a->sess || a->nhistory == 0)
        return thaw_fail(err, THAW_EINVAL, "show confusion: nothing has been evaluated yet (eval)");
    int k = a->task.nclass;
    sess_confusion c = { .count = calloc((size_t)k * k, sizeof(long)) };
    if (!c.count)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    sess_confusion_get(a->sess, &c);
    char line[1024];
    size_t n = (size_t)snprintf(line, sizeof line, "%-16s", c.split == SESS_TEST_SPLIT ?
                                "test: true \\ predicted" : "val: true \\ predicted");
    for (int j = 0; j < k && n < sizeof line; j++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %6d", j);
    say(a, APP_INFO, "%s  accuracy", line);
    for (int i = 0; i < k; i++) {
        long row = 0;
        n = (size_t)snprintf(line, sizeof line, "%2d %-13.13s", i, a->task.name[i]);
        for (int j = 0; j < k; j++) {
            row += c.count[(size_t)i * k + j];
            if (n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, " %6ld", c.count[(size_t)i * k + j]);
        }
        say(a, APP_INFO, "%s  %5.1f%%", line, row ? 100.0 * c.count[(size_t)i * k + i] / row : 0.0);
    }
    free(c.count);
    return THAW_OK;
}

static int cmd_show(app *a, int argc, char **argv, thaw_err *err)
{
    const char *what = argc > 1 ? argv[1] : "layers";
    if (!strcmp(what, "confusion"))
        return show_confusion(a, err);
    if (!strcmp(what, "settings")) {
        char *text = app_config_text(a);
        if (!text)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        say(a, APP_INFO, "%s", text);
        free(text);
        return THAW_OK;
    }
    if (!strcmp(what, "layers")) {
        int rc = need_plan(a, "show layers", err);
        if (rc)
            return rc;
        show_layers(a);
        return THAW_OK;
    }
    return thaw_fail(err, THAW_EINVAL, "show %s: expected show layers, settings or confusion", what);
}

static int cmd_help(app *a, int argc, char **argv, thaw_err *err);

static int cmd_reset(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argv;
    if (argc != 1)
        return thaw_fail(err, THAW_EINVAL, "usage: reset");
    if (!a->have_model || !a->data_spec[0]) {
        drop_plan(a);
        return THAW_OK;
    }
    return build_plan(a, err);
}

/* ---- lessons ---------------------------------------------------------------- */

const char *const app_parts[] = { "type", "out", "params", "lr", "drift", "grad", "lr-bar",
                                  "loss", "accuracy", "delta", NULL };

static int joined(int argc, char **argv, int from, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = from; i < argc; i++) {
        size_t n = strlen(out);
        if (snprintf(out + n, cap - n, "%s%s", i > from ? " " : "", argv[i]) >= (int)(cap - n))
            return 0;
    }
    return 1;
}

static int cmd_say(app *a, int argc, char **argv, thaw_err *err)
{
    char text[2048];
    if (argc < 2 || !joined(argc, argv, 1, text, sizeof text))
        return thaw_fail(err, THAW_EINVAL, "usage: say TEXT (up to %zu characters)", sizeof text - 1);
    say(a, APP_SAY, "%s", text);
    return THAW_OK;
}

static int cmd_pause_for_key(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argv;
    if (argc != 1)
        return thaw_fail(err, THAW_EINVAL, "usage: pause-for-key");
    a->wait_key = !a->batch;
    return THAW_OK;
}

/* The fields of sess_eval expect can name, with where they live. */
static const struct { const char *name; size_t off; } metrics[] = {
#define METRIC(f) { #f, offsetof(sess_eval, f) }
    METRIC(train_loss), METRIC(train_acc), METRIC(val_loss), METRIC(val_acc), METRIC(test_acc),
    METRIC(scratch_train_loss), METRIC(scratch_train_acc), METRIC(scratch_val_loss),
    METRIC(scratch_val_acc), METRIC(scratch_test_acc), METRIC(delta), METRIC(test_delta),
    METRIC(source_acc), METRIC(img_s), METRIC(wall), METRIC(lr),
#undef METRIC
};

static int cmd_expect(app *a, int argc, char **argv, thaw_err *err)
{
    double want;
    if (argc != 4 || !parse_double(argv[3], -1e30, 1e30, &want))
        return thaw_fail(err, THAW_EINVAL, "usage: expect METRIC OP VALUE (for example: expect "
                         "test_delta > 0.05)");
    const sess_eval *e = &a->last;
    double got = NAN;
    int found = 0;
    if (!strcmp(argv[1], "epoch")) {
        got = e->epoch;
        found = 1;
    }
    for (size_t i = 0; i < sizeof metrics / sizeof metrics[0] && !found; i++)
        if (!strcmp(argv[1], metrics[i].name)) {
            memcpy(&got, (const char *)e + metrics[i].off, sizeof got);
            found = 1;
        }
    if (!found)
        return thaw_fail(err, THAW_EINVAL, "expect: unknown metric '%s'; metrics are epoch, "
                         "val_acc, test_acc, delta, test_delta, scratch_val_acc, ... (the columns "
                         "of metrics.csv)", argv[1]);
    const char *op = argv[2];
    int ok;
    if (!strcmp(op, "<"))
        ok = got < want;
    else if (!strcmp(op, "<="))
        ok = got <= want;
    else if (!strcmp(op, ">"))
        ok = got > want;
    else if (!strcmp(op, ">="))
        ok = got >= want;
    else
        return thaw_fail(err, THAW_EINVAL, "expect: operator '%s'; expected <, <=, > or >=", op);
    if (isnan(got))
        return thaw_fail(err, THAW_EINVAL, "the lesson expected %s %s %g, but %s has not been "
                         "measured yet (train or eval first)", argv[1], op, want, argv[1]);
    if (!ok)
        return thaw_fail(err, THAW_EINVAL, "this run did not behave as the lesson expects: %s is "
                         "%.4g, expected %s %g", argv[1], got, op, want);
    say(a, APP_INFO, "as expected: %s = %.4g (%s %g)", argv[1], got, op, want);
    return THAW_OK;
}

static int cmd_if_quick(app *a, int argc, char **argv, thaw_err *err)
{
    char line[TASK_SPEC_MAX];
    if (argc < 2 || !joined(argc, argv, 1, line, sizeof line))
        return thaw_fail(err, THAW_EINVAL, "usage: if-quick COMMAND (runs when THAW_QUICK=1)");
    const char *q = getenv("THAW_QUICK");
    if (!q || strcmp(q, "1"))
        return THAW_OK;
    return app_exec_lesson(a, line, err);
}

static int verb_index(const char *name);

static int cmd_lock(app *a, int argc, char **argv, thaw_err *err)
{
    int lock = !strcmp(argv[0], "lock");
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s COMMAND...%s", argv[0], lock ? "" : " | all");
    for (int i = 1; i < argc; i++) {
        if (!lock && !strcmp(argv[i], "all")) {
            a->locked = 0;
            continue;
        }
        int v = verb_index(argv[i]);
        if (v < 0)
            return thaw_fail(err, THAW_EINVAL, "%s: no command '%s'", argv[0], argv[i]);
        if (!strcmp(argv[i], "unlock") || !strcmp(argv[i], "quit") || !strcmp(argv[i], "help"))
            return thaw_fail(err, THAW_EINVAL, "%s: '%s' cannot be locked", argv[0], argv[i]);
        if (lock)
            a->locked |= 1ull << v;
        else
            a->locked &= ~(1ull << v);
    }
    return THAW_OK;
}

static int cmd_hide(app *a, int argc, char **argv, thaw_err *err)
{
    int hide = !strcmp(argv[0], "hide");
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s PART... (type out params lr drift grad "
                         "lr-bar loss accuracy delta)%s", argv[0], hide ? "" : " | all");
    for (int i = 1; i < argc; i++) {
        if (!hide && !strcmp(argv[i], "all")) {
            a->hidden = 0;
            continue;
        }
        int p = 0;
        while (app_parts[p] && strcmp(app_parts[p], argv[i]))
            p++;
        if (!app_parts[p])
            return thaw_fail(err, THAW_EINVAL, "%s: no part '%s'; parts are type out params lr "
                             "drift grad lr-bar loss accuracy delta", argv[0], argv[i]);
        if (hide)
            a->hidden |= 1u << p;
        else
            a->hidden &= ~(1u << p);
    }
    return THAW_OK;
}

static int cmd_quit(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    a->quit = 1;
    return THAW_OK;
}

/* The table every front end and the help screen read. */
#define APP_VERBS(X)                                                                              \
    X("load", cmd_load, "model FILE.json | data SPEC", "open a model, or a target data set")      \
    X("freeze", cmd_freeze, "PATTERN...", "freeze layers: all, a path, or a glob (stage*, stage3.*)") \
    X("unfreeze", cmd_freeze, "PATTERN... [at=EPOCH]", "thaw layers now, or at the start of an epoch") \
    X("lr", cmd_lr, "PATTERN RATE", "set the learning rate of layers")                            \
    X("lr-decay", cmd_lr_decay, "FACTOR", "layer-wise decay: each group down gets FACTOR x the rate above") \
    X("strategy", cmd_strategy, "NAME [KEY=VALUE...]",                                            \
      "feature-extraction, finetune, gradual every=N, discriminative factor=F|lo=R, layer-decay decay=D") \
    X("set", cmd_set, "KEY VALUE...", "settings: epochs batch lr scratch-lr optimizer momentum wd "  \
      "schedule warmup early-stop augment seed baseline parallel train-bn evals cache-mb")        \
    X("train", cmd_train, "[EPOCHS]", "train (more) epochs with the transferred model and the baseline") \
    X("step", cmd_simple, "", "one training step, then pause")                                    \
    X("pause", cmd_simple, "", "pause training")                                                  \
    X("resume", cmd_simple, "", "resume training")                                                \
    X("stop", cmd_simple, "", "end training (evaluates on the test set)")                         \
    X("eval", cmd_simple, "", "evaluate now, on validation and test images")                      \
    X("lr-find", cmd_lr_find, "[start=R] [end=R] [steps=N]",                                      \
      "sweep the rate with the current freezing; suggests a head rate")                           \
    X("save", cmd_save, "FILE.json", "save the transferred model (it can be the next source)")    \
    X("export", cmd_export, "metrics FILE.csv | plots FILE.svg", "write the metrics or the plots") \
    X("show", cmd_show, "[layers|settings|confusion]", "print the layers, the settings or the confusion matrix")                  \
    X("reset", cmd_reset, "", "discard training and reload the model and data")                   \
    X("help", cmd_help, "[COMMAND]", "list commands, or explain one")                             \
    X("say", cmd_say, "TEXT", "lessons: narrate (a box on screen, a line in batch mode)")         \
    X("pause-for-key", cmd_pause_for_key, "", "lessons: wait for the presenter's key")            \
    X("expect", cmd_expect, "METRIC OP VALUE", "lessons: check a result (expect test_delta > 0)") \
    X("if-quick", cmd_if_quick, "COMMAND", "lessons: run COMMAND only when THAW_QUICK=1")         \
    X("lock", cmd_lock, "COMMAND...", "instructor mode: refuse commands (and their keys)")        \
    X("unlock", cmd_lock, "COMMAND...|all", "instructor mode: allow commands again")              \
    X("hide", cmd_hide, "PART...", "instructor mode: hide tree columns, the lr bar or plots")     \
    X("unhide", cmd_hide, "PART...|all", "instructor mode: show them again")                      \
    X("quit", cmd_quit, "", "leave thaw")

static const struct {
    app_verb v;
    verb_fn fn;
} verbs[] = {
#define APP_VERB_ENTRY(name, fn, args, help) { { name, args, help }, fn },
    APP_VERBS(APP_VERB_ENTRY)
#undef APP_VERB_ENTRY
};

static int verb_index(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(name, verbs[i].v.name))
            return (int)i;
    return -1;
}

int app_locked(const app *a, const char *name)
{
    int v = verb_index(name);
    return v >= 0 && ((a->locked >> v) & 1);
}

const app_verb *app_verbs(int *n)
{
    static app_verb table[sizeof verbs / sizeof verbs[0]];
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        table[i] = verbs[i].v;
    *n = (int)(sizeof verbs / sizeof verbs[0]);
    return table;
}

static int cmd_help(app *a, int argc, char **argv, thaw_err *err)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (argc == 1 || !strcmp(argv[1], verbs[i].v.name))
            say(a, APP_INFO, "%-9s %-34s %s", verbs[i].v.name, verbs[i].v.args, verbs[i].v.help);
    if (argc > 1 && !strcmp(argv[1], "set"))
        say(a, APP_INFO, "set schedule constant|cosine|step [every=E gamma=G]|one-cycle [pct=P]; "
            "set augment shift[=N],flip,noise[=S]|none; set early-stop PATIENCE (0 = off)");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (argc == 1 || !strcmp(argv[1], verbs[i].v.name))
            return THAW_OK;
    return thaw_fail(err, THAW_EINVAL, "help: no command '%s'", argv[1]);
}

int app_exec(app *a, const char *line, thaw_err *err)
{
    char buf[TASK_SPEC_MAX + 256];
    char *argv[APP_ARGS_MAX];
    if (strlen(line) >= sizeof buf)
        return thaw_fail(err, THAW_EINVAL, "a command line is limited to %zu characters", sizeof buf - 1);
    strcpy(buf, line);
    int argc = split(buf, argv, APP_ARGS_MAX, err);
    if (argc <= 0)
        return argc < 0 ? err->code : THAW_OK;
    locale_t old = enter_c();
    int rc = -1;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[0], verbs[i].v.name)) {
            if (!a->lesson && ((a->locked >> i) & 1)) {
                rc = thaw_fail(err, THAW_EINVAL, "%s is locked by the lesson (the presenter "
                               "can unlock it)", argv[0]);
                break;
            }
            rc = verbs[i].fn(a, argc, argv, err);
            if (rc == THAW_OK && a->run && strcmp(argv[0], "help") && strcmp(argv[0], "show") &&
                strcmp(argv[0], "quit"))
                log_command(a, line);
            break;
        }
    leave_c(old);
    if (rc < 0)
        return thaw_fail(err, THAW_EINVAL, "unknown command '%s' (try help)", argv[0]);
    return rc;
}

int app_exec_lesson(app *a, const char *line, thaw_err *err)
{
    a->lesson++;
    int rc = app_exec(a, line, err);
    a->lesson--;
    return rc;
}

/* ---- events -------------------------------------------------------------- */

static void remember(app *a, const sess_eval *e)
{
    if (a->nhistory == a->caphistory) {
        int cap = a->caphistory ? 2 * a->caphistory : 64;
        sess_eval *grown = realloc(a->history, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        a->history = grown;
        a->caphistory = cap;
    }
    a->history[a->nhistory++] = *e;
}

static void report_eval(app *a, const sess_eval *e)
{
    char scratch[96] = "", test[128] = "", source[48] = "";
    if (!isnan(e->scratch_val_acc))
        snprintf(scratch, sizeof scratch, "  scratch %5.1f%%  delta %+5.1f", 100 * e->scratch_val_acc,
                 100 * e->delta);
    if (!isnan(e->test_acc))
        snprintf(test, sizeof test, isnan(e->scratch_test_acc) ? "  test %.1f%%" :
                 "  test %.1f%% (scratch %.1f%%, delta %+.1f)", 100 * e->test_acc,
                 100 * e->scratch_test_acc, 100 * e->test_delta);
    if (!isnan(e->source_acc))
        snprintf(source, sizeof source, "  source %.1f%%", 100 * e->source_acc);
    say(a, APP_EVAL, "epoch %3d  loss %.4f  val %5.1f%%%s%s%s  %.0f img/s", e->epoch, e->train_loss,
        100 * e->val_acc, scratch, test, source, e->img_s);
}

int app_pump(app *a, int timeout_ms)
{
    if (!a->sess)
        return 0;
    int handled = 0;
    sess_event ev;
    locale_t old = enter_c();
    while (sess_poll(a->sess, &ev, handled ? 0 : timeout_ms)) {
        handled++;
        if (a->out.event)
            a->out.event(a->out.ctx, &ev);
        switch (ev.kind) {
        case SEV_STEP: {
            int per = (a->task.split[TASK_TRAIN].n + a->set.sess.batch - 1) / a->set.sess.batch;
            say(a, APP_PROGRESS, "epoch %d  step %ld (%d per epoch)  loss %.4f  lr %.3g", ev.epoch + 1,
                ev.step, per, ev.value, ev.value2);
            break;
        }
        case SEV_EVAL:
            a->last = ev.eval;
            if (ev.eval.final)
                a->final = ev.eval;
            remember(a, &ev.eval);
            report_eval(a, &ev.eval);
            break;
        case SEV_LRFIND:
            if (ev.count < 0) {
                a->lr_suggestion = ev.value;
                say(a, APP_INFO, "%s", ev.text);
            } else {
                say(a, a->verbose_lrfind ? APP_INFO : APP_PROGRESS, "lr-find  rate %.4g  loss %.4f",
                    ev.value, ev.value2);
            }
            break;
        case SEV_NONFINITE:
        case SEV_ERROR:
            say(a, APP_WARN, "%s", ev.text);
            break;
        case SEV_CHANGE:
            say(a, APP_INFO, "step %ld: %s", ev.step, ev.text);
            break;
        case SEV_STATE:
            break;
        }
    }
    leave_c(old);
    return handled;
}

/* ---- the configuration as commands ---------------------------------------- */

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    if (!*buf)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (*len + (size_t)n + 1 > *cap) {
        size_t grown = 2 * (*cap + (size_t)n + 1);
        char *p = realloc(*buf, grown);
        if (!p) {
            free(*buf);
            *buf = NULL;
            return;
        }
        *buf = p;
        *cap = grown;
    }
    va_start(ap, fmt);
    vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    *len += (size_t)n;
}

char *app_config_text(const app *a)
{
    size_t len = 0, cap = 1024;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    b[0] = '\0';
    locale_t old = enter_c();
    const sess_config *c = &a->set.sess;
    char sched[SCHEDULE_TEXT_MAX], aug[64];
    schedule_format(&c->sched, sched, sizeof sched);
    augment_format(&a->set.aug, aug, sizeof aug);
    if (a->model_path[0])
        append(&b, &len, &cap, "load model \"%s\"\n", a->model_path);
    /* Every float in the shortest text that reads back as itself, so the
     * run replays exactly. */
    char lr[32], scratch_lr[32], momentum[32], wd[32];
    num_shortest_float(lr, sizeof lr, a->set.lr);
    num_shortest_float(scratch_lr, sizeof scratch_lr, c->scratch_lr);
    num_shortest_float(momentum, sizeof momentum, c->momentum);
    num_shortest_float(wd, sizeof wd, c->weight_decay);
    append(&b, &len, &cap, "set seed %llu epochs %d batch %d lr %s scratch-lr %s\n", a->set.seed,
           a->set.epochs, c->batch, lr, scratch_lr);
    append(&b, &len, &cap, "set optimizer %s momentum %s wd %s\n",
           c->optimizer == OPTIM_SGD ? "sgd" : "adamw", momentum, wd);
    append(&b, &len, &cap, "set schedule \"%s\" early-stop %d augment %s\n", sched, c->patience, aug);
    append(&b, &len, &cap, "set baseline %s parallel %s train-bn %s evals %d cache-mb %zu\n",
           c->baseline ? "on" : "off", c->parallel ? "on" : "off", a->set.train_bn ? "on" : "off",
           c->evals_per_epoch, c->cache_bytes >> 20);
    if (a->data_spec[0])
        append(&b, &len, &cap, "load data \"%s\"\n", a->data_spec);
    if (a->strategy_text[0])
        append(&b, &len, &cap, "strategy %s\n", a->strategy_text);
    const model *m = current_model(a);
    if (m && !a->sess) {
        /* Every layer's state, so hand edits after the strategy replay too. */
        const layer *prev = NULL;
        for (int i = 0; i < m->nslice; i++) {
            const param_slice *p = &m->slice[i];
            if (p->kind == PARAM_STAT || p->owner == prev)
                continue;
            prev = p->owner;
            num_shortest_float(lr, sizeof lr, p->lr);
            append(&b, &len, &cap, "%s %s\nlr %s %s\n", p->frozen ? "freeze" : "unfreeze",
                   p->owner->path, p->owner->path, lr);
        }
    }
    leave_c(old);
    return b;
}

/* ---- life cycle ------------------------------------------------------------ */

void app_init(app *a, const app_out *out, int batch_mode)
{
    memset(a, 0, sizeof *a);
    if (out)
        a->out = *out;
    a->batch = batch_mode;
    settings_default(&a->set);
    a->lr_suggestion = NAN;
    sess_eval none;
    memset(&none, 0, sizeof none);
    double *f[] = { &none.wall, &none.img_s, &none.lr, &none.scratch_lr, &none.train_loss,
                    &none.train_acc, &none.val_loss, &none.val_acc, &none.test_acc,
                    &none.scratch_train_loss, &none.scratch_train_acc, &none.scratch_val_loss,
                    &none.scratch_val_acc, &none.scratch_test_acc, &none.delta, &none.test_delta,
                    &none.source_acc };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        *f[i] = NAN;
    a->last = a->final = none;
}

void app_free(app *a)
{
    drop_plan(a);
    if (a->have_data)
        task_free(&a->task);
    mf_meta_free(&a->source_meta);
    free(a->history);
    memset(a, 0, sizeof *a);
}
