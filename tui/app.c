/* app.c — the workbench state the command language drives: the model and
 * data, the session and its run folder, and the verb table app_exec
 * dispatches on. The verbs live in app_verbs.c, app_settings.c and
 * app_lesson.c, the event pump in app_pump.c (see app_impl.h). */
#include "app_impl.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "paths.h"
#include "runlog.h"

enum { APP_ARGS_MAX = 256 };

/* ---- numbers in C notation whatever the locale -------------------------- */

static locale_t the_c_locale;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) { the_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

locale_t app_enter_c(void)
{
    pthread_once(&c_once, c_locale_init);
    return the_c_locale ? uselocale(the_c_locale) : (locale_t)0;
}

void app_leave_c(locale_t old)
{
    if (old)
        uselocale(old);
}

void app_say(app *a, app_say_kind kind, const char *fmt, ...)
{
    char small[1024], *text = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small && (text = malloc((size_t)n + 1))) {   /* show settings' many lines */
        va_start(ap, fmt);
        vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (a->out.say)
        a->out.say(a->out.ctx, kind, text ? text : small);
    if (text != small)
        free(text);
}

void app_log_command(app *a, const char *line)
{
    char one[TASK_SPEC_MAX + 256];
    size_t n = strcspn(line, "\r\n");
    if (n >= sizeof one)
        return;
    memcpy(one, line, n);
    one[n] = '\0';
    runlog_command(a->run, one, NULL);
}

int app_parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !(v >= lo && v <= hi))
        return 0;
    *out = v;
    return 1;
}

int app_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int app_joined(int argc, char **argv, int from, char *out, size_t cap)
{
    out[0] = '\0';
    for (int i = from; i < argc; i++) {
        size_t n = strlen(out);
        if (snprintf(out + n, cap - n, "%s%s", i > from ? " " : "", argv[i]) >= (int)(cap - n))
            return 0;
    }
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

/* ---- the model and data ------------------------------------------------- */

const model *app_current_model(const app *a)
{
    return a->sess ? sess_model(a->sess, 0) : a->have_plan ? &a->plan : NULL;
}

size_t app_count(const app *a, int trainable_only)
{
    const model *m = app_current_model(a);
    return m ? model_count(m, trainable_only) : 0;
}

static void drop_session(app *a)
{
    sess_free(a->sess);
    a->sess = NULL;
    runlog_close(a->run);
    a->run = NULL;
    a->nhistory = 0;
    a->failures_seen = 0;
}

void app_drop_plan(app *a)
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
    free(a->domain_x);
    free(a->domain_y);
    a->domain_x = NULL;
    a->domain_y = NULL;
    a->domain_n = 0;
}

static ds_geom model_geom(const app *a)
{
    const mf_meta *m = &a->source_meta;
    ds_geom g;
    memset(&g, 0, sizeof g);
    g.vocab = a->vocab.n ? &a->vocab : NULL;
    g.in = m->input;
    for (int c = 0; c < DS_MAX_CHANNELS && c < m->input.c; c++) {
        g.mean[c] = (float)m->mean[c];
        g.std[c] = (float)m->std[c];
    }
    return g;
}

/* The spec of the source task's test images (train: of its training
 * images, APP_DOMAIN_SHOTS a class), from the model's provenance, when thaw
 * knows the data set; "" otherwise. */
static void source_spec(const mf_meta *m, int train, char *out, size_t cap)
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
        if (train && n < cap)
            snprintf(out + n, cap - n, ",shots=%d,val=0,pool=1,test=1", APP_DOMAIN_SHOTS);
        else if (!strcmp(known[i].source, "shapes") && n < cap)
            snprintf(out + n, cap - n, ",n=1,test=%d", APP_SOURCE_EVAL_MAX / p->ndataset_classes);
        return;
    }
}

/* The source task's test images (up to APP_SOURCE_EVAL_MAX), for the forgetting
 * monitor; quietly nothing when they are not at hand. */
static void load_source_images(app *a)
{
    char spec[TASK_SPEC_MAX];
    source_spec(&a->source_meta, 0, spec, sizeof spec);
    if (!spec[0])
        return;
    task t;
    ds_geom g = model_geom(a);
    thaw_err err = {0};
    if (task_load(&t, spec, &g, a->set.seed, &err))
        return;
    const ds_split *s = &t.split[TASK_TEST];
    int n = s->n < APP_SOURCE_EVAL_MAX ? s->n : APP_SOURCE_EVAL_MAX;
    size_t img = shape3_count(g.in);
    /* Every n/APP_SOURCE_EVAL_MAX-th image, so every class is represented. */
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

/* "a, b, c", as much as fits. */
static void class_list(const task *t, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < t->nclass && n < cap; k++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", k ? ", " : "", t->name[k]);
}

/* The labelled source-domain images the adaptation techniques train on:
 * the `source` setting's spec, else the model's own data set; their
 * classes must be the target's, by name and in order. Nothing (and no
 * error) when there is no spec: the session then says what is missing. */
static int load_domain_images(app *a, thaw_err *err)
{
    char spec[TASK_SPEC_MAX];
    if (a->set.source[0])
        snprintf(spec, sizeof spec, "%s", a->set.source);
    else
        source_spec(&a->source_meta, 1, spec, sizeof spec);
    if (!spec[0] || a->domain_x)
        return THAW_OK;
    task t;
    ds_geom g = a->task.geom;
    thaw_err why = { 0 };
    if (task_load(&t, spec, &g, a->set.seed, &why))
        return thaw_fail(err, why.code, "source %s: %s", spec, why.msg);
    int rc = THAW_OK;
    const ds_split *s = &t.split[TASK_TRAIN];
    int same = t.nclass == a->task.nclass;
    for (int k = 0; same && k < t.nclass; k++)
        same = !strcmp(t.name[k], a->task.name[k]);
    if (!same) {
        char ours[256], theirs[256];
        class_list(&t, theirs, sizeof theirs);
        class_list(&a->task, ours, sizeof ours);
        rc = thaw_fail(err, THAW_EINVAL, "source %s: its classes (%s) are not the target's (%s); "
                       "adaptation needs the same classes, in the same order, in both domains",
                       spec, theirs, ours);
    } else if (s->n < 1) {
        rc = thaw_fail(err, THAW_EINVAL, "source %s: no training images", spec);
    } else {
        size_t img = shape3_count(g.in);
        a->domain_x = malloc((size_t)s->n * img * sizeof(float));
        a->domain_y = malloc((size_t)s->n * sizeof(int));
        if (!a->domain_x || !a->domain_y) {
            free(a->domain_x);
            free(a->domain_y);
            a->domain_x = NULL;
            a->domain_y = NULL;
            rc = thaw_fail(err, THAW_ENOMEM, "source %s: out of memory for %d images", spec, s->n);
        } else {
            for (int i = 0; i < s->n; i++) {
                ds_split_image(s, &g, i, a->domain_x + (size_t)i * img);
                a->domain_y[i] = s->y[i];
            }
            a->domain_n = s->n;
            app_say(a, APP_INFO, "source domain: %d labelled images from %s", s->n, spec);
        }
    }
    task_free(&t);
    return rc;
}

long app_labelled_images(const app *a)
{
    adapt_kind k = a->set.sess.adapt.kind;
    return (adapt_uses_target(k) ? a->task.split[TASK_TRAIN].n : 0) + (adapt_uses_source(k) ? a->domain_n : 0);
}

double app_steps_per_epoch(const app *a)
{
    int batch = a->set.sess.batch > 0 ? a->set.sess.batch : 1;
    long n = app_labelled_images(a);
    batch = batch < n ? batch : (int)(n > 0 ? n : 1);
    long per = (n + batch - 1) / batch;
    return per > 0 ? (double)per : 1.0;
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

int app_polarity_text(const task *t, char *out, size_t cap)
{
    float mean[DS_MAX_CHANNELS], std[DS_MAX_CHANNELS];
    if (t->split[TASK_TRAIN].n == 0)
        return 0;
    task_pixel_stats(t, TASK_TRAIN, mean, std);
    double m = 0, want = 0;
    for (int c = 0; c < t->geom.in.c; c++) {
        m += mean[c] / t->geom.in.c;
        want += t->geom.mean[c] / t->geom.in.c;
    }
    /* Far from the model's, and the inverted images would be close. */
    double off = fabs(m - want), flipped = fabs((1.0 - m) - want);
    if (off < APP_POLARITY_GAP || flipped > off / 2)
        return 0;
    snprintf(out, cap, "the training images average %.2f on the 0..1 scale where the model's "
             "averaged %.2f: %s where it learned %s? (shift=invert in the data spec inverts them)", m, want,
             m > want ? "dark marks on a light ground" : "light marks on a dark ground",
             m > want ? "light on dark" : "dark on light");
    return 1;
}

/* With a model and a data spec: loads the task in the model's geometry and
 * the transferred model with a fresh head for its classes; the model's own
 * head when they are the classes it was trained on. */
int app_build_plan(app *a, thaw_err *err)
{
    app_drop_plan(a);
    if (a->have_data)
        task_free(&a->task);
    a->have_data = 0;
    ds_geom g = model_geom(a);
    if (task_load(&a->task, a->data_spec, &g, a->set.seed, err))
        return err->code;
    a->have_data = 1;
    if (a->task.split[TASK_VAL].n == 0)
        return thaw_fail(err, THAW_EINVAL, "data %s has no validation images (its classes are too "
                         "small to spare any); add val=N", a->data_spec);
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
    app_say(a, APP_INFO, "target: %s, %d classes; %d training, %d validation, %d test images%s",
        a->task.source, a->task.nclass, a->task.split[TASK_TRAIN].n, a->task.split[TASK_VAL].n,
        a->task.split[TASK_TEST].n, keep_head ? "; the model's classes, so it keeps its head" : "");
    char polarity[256];
    if (app_polarity_text(&a->task, polarity, sizeof polarity))
        app_say(a, APP_WARN, "%s", polarity);
    return THAW_OK;
}

int app_need_idle(app *a, const char *cmd, thaw_err *err)
{
    if (!a->sess)
        return THAW_OK;
    /* Idle but finishing a command (a save's call returns before the
     * trainer is done with it): that settles at once. */
    if (sess_state_now(a->sess) == SESS_IDLE) {
        if (a->batch)
            sess_wait(a->sess);
        else
            sess_wait_ms(a->sess, APP_CALL_WAIT_MS);
    }
    if (sess_state_now(a->sess) == SESS_IDLE && !sess_busy(a->sess))
        return THAW_OK;
    return thaw_fail(err, THAW_EINVAL, "%s: training is in progress (or paused, or an lr-find "
                     "runs); stop first (stop), so the run folder gets its last checkpoint", cmd);
}

int app_need_plan(app *a, const char *cmd, thaw_err *err)
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

/* Trainer thread: pool image i, normalised (self-training reads the pool,
 * which the task keeps as 8-bit levels). */
static void pool_one(void *ctx, int i, float *dst)
{
    app *a = ctx;
    ds_split_image(&a->task.split[TASK_POOL], &a->task.geom, i, dst);
}

/* Trainer thread: every evaluation into the run folder, with checkpoints. */
static void hook_eval(void *ctx, const sess_eval *e, const model *transfer, const model *scratch)
{
    (void)scratch;
    app *a = ctx;
    thaw_err err = {0};
    locale_t old = app_enter_c();
    a->trained_epochs = e->epoch;
    a->trained_test_acc = !isnan(e->test_acc) ? e->test_acc : -1.0;
    mf_meta m = a->meta;
    m.prov.epochs = a->trained_epochs;
    m.prov.test_accuracy = a->trained_test_acc;
    /* Each write is tried whatever became of the others; the run log keeps
     * the failures, which app_pump reports. */
    for (int k = 0; k < 4; k++) {
        int rc = k == 0 ? runlog_eval(a->run, e, &err)
               : k == 1 ? (e->best ? runlog_checkpoint(a->run, "best", &m, transfer, &err) : THAW_OK)
               : k == 2 ? (e->final ? runlog_checkpoint(a->run, "last", &m, transfer, &err) : THAW_OK)
                        : (e->final ? runlog_plots(a->run, &err) : THAW_OK);
        if (rc) {
            sess_event ev = { .kind = SEV_ERROR, .step = e->step, .epoch = e->epoch };
            snprintf(ev.text, sizeof ev.text, "%.*s", (int)sizeof ev.text - 1, err.msg);
            runlog_event(a->run, &ev, NULL);
        }
    }
    app_leave_c(old);
}

static void hook_event(void *ctx, const sess_event *ev)
{
    app *a = ctx;
    locale_t old = app_enter_c();
    runlog_event(a->run, ev, NULL);
    app_leave_c(old);
}

void app_provenance(app *a)
{
    mf_provenance *p = &a->meta.prov;
    const char *base = strrchr(a->model_path, '/');
    base = base ? base + 1 : a->model_path;
    size_t n = strlen(base);
    if (n > 5 && !strcmp(base + n - 5, ".json"))
        n -= 5;
    /* Labels, not names: escaped (and cut) to what a model file holds. */
    char stem[TASK_PATH_MAX];
    snprintf(stem, sizeof stem, "%.*s", (int)n, base);
    utf8_quote(p->finetuned_from, sizeof p->finetuned_from, stem);
    utf8_quote(p->dataset, sizeof p->dataset, a->task.source);
    p->ndataset_classes = a->task.nclass;
    for (int k = 0; k < a->task.nclass; k++)
        p->dataset_classes[k] = a->task.orig[k];
    p->seed = (long long)a->set.seed;
    p->epochs = 0;
    p->test_accuracy = -1.0;
}

/* The run folder, with config.thaw and session.thaw written. */
static int open_run(app *a, thaw_err *err)
{
    app_provenance(a);
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
    int rc = runlog_open(&a->run, a->run_dir[0] ? a->run_dir : NULL, runs && runs[0] ? runs : "runs",
                         safe, config, err);
    if (rc == THAW_OK) {
        /* session.thaw starts from the state the run starts in, so it replays alone. */
        for (char *save, *l = strtok_r(config, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            app_log_command(a, l);
    }
    free(config);
    return rc;
}

int app_start_session(app *a, thaw_err *err)
{
    if (a->sess)
        return THAW_OK;
    int rc;
    if ((rc = app_need_plan(a, "train", err)))
        return rc;
    if (a->set.aug.shift && (rc = augment_check(&a->set.aug, &a->task.geom, err)))
        return rc;
    model scratch, source;
    int have_scratch = 0, have_source = 0;
    if (!a->source_x)
        load_source_images(a);      /* here, not at load: start-up stays fast */
    if ((adapt_uses_source(a->set.sess.adapt.kind) || a->set.source[0]) &&
        (rc = load_domain_images(a, err)))
        return rc;
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
    d.split[SESS_DOMAIN_SPLIT] = (sess_split){ a->domain_x, a->domain_y, a->domain_n };
    if (a->set.aug.shift || a->set.aug.flip || a->set.aug.noise > 0) {
        d.augment = augment_one;
        d.augment_ctx = a;
    }
    const ds_split *pool = &a->task.split[TASK_POOL];
    if (pool->n > 0) {
        d.pool_n = pool->n;
        d.pool_y = pool->y;
        d.pool_image = pool_one;
        d.pool_ctx = a;
    }
    /* Refused for its memory before the run folder exists, the plan kept. */
    size_t need;
    rc = sess_memory_check(&a->plan, have_scratch ? &scratch : NULL, have_source ? &source : NULL,
                           &d, &a->set.sess, &need, err);
    if (!rc)
        rc = open_run(a, err);
    if (rc) {
        if (have_scratch)
            model_free(&scratch);
        if (have_source)
            model_free(&source);
        return rc;
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
    app_say(a, APP_INFO, "run folder %s", runlog_dir(a->run));
    return THAW_OK;
}

int app_control(app *a, sess_ctl c, thaw_err *err)
{
    c.at_step = a->at_step;
    c.tag = a->cur_tag;
    return sess_control(a->sess, &c, err);
}

/* The verbs that change freezing or rates: typed during a run, they are
 * recorded with the step they took effect at; `at` takes only them. */
static int plan_verb(const char *verb)
{
    static const char *const v[] = { "freeze", "unfreeze", "lr", "lr-decay", "strategy" };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!strcmp(verb, v[i]))
            return 1;
    return 0;
}

int app_cmd_at(app *a, int argc, char **argv, thaw_err *err)
{
    long step;
    if (argc < 3 || !app_parse_int(argv[1], 0, 1000000000000L, &step))
        return thaw_fail(err, THAW_EINVAL, "usage: at STEP COMMAND... (STEP 0 to 1e12; COMMAND one "
                         "of freeze, unfreeze, lr, lr-decay, strategy)");
    if (!plan_verb(argv[2]))
        return thaw_fail(err, THAW_EINVAL, "at %ld %s: at takes freeze, unfreeze, lr, lr-decay or "
                         "strategy", step, argv[2]);
    char line[TASK_SPEC_MAX + 256];
    size_t n = 0;
    for (int i = 2; i < argc && n < sizeof line; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s", i > 2 ? " " : "", argv[i]);
    if (n >= sizeof line)
        return thaw_fail(err, THAW_EINVAL, "at: the command is too long");
    if (!a->sess) {                      /* the next train hands it to its session */
        char whole[sizeof line + 32];
        char **more = realloc(a->at_lines, (size_t)(a->nat_lines + 1) * sizeof *more);
        if (!more)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        a->at_lines = more;
        snprintf(whole, sizeof whole, "at %ld %s", step, line);
        if (!(a->at_lines[a->nat_lines] = strdup(whole)))
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        a->nat_lines++;
        return THAW_OK;
    }
    a->at_step = step;
    a->no_log++;
    int rc = app_exec(a, line, err);
    a->no_log--;
    a->at_step = 0;
    return rc;
}

int app_flush_at(app *a, thaw_err *err)
{
    int rc = THAW_OK;
    for (int i = 0; i < a->nat_lines; i++) {
        if (!rc)
            rc = app_exec(a, a->at_lines[i], err);
        free(a->at_lines[i]);
    }
    free(a->at_lines);
    a->at_lines = NULL;
    a->nat_lines = 0;
    return rc;
}

void app_record_change(app *a, int tag, long step)
{
    int k = tag % APP_TAGGED_MAX;
    if (tag <= 0 || a->tagged_tag[k] != tag || !a->tagged[k])
        return;
    char line[TASK_SPEC_MAX + 300];
    snprintf(line, sizeof line, "at %ld %s", step, a->tagged[k]);
    free(a->tagged[k]);
    a->tagged[k] = NULL;
    if (a->run)
        app_log_command(a, line);
}

/* The table every front end and the help screen read. */
#define APP_VERBS(X)                                                                               \
    X("load", app_cmd_load, "model FILE.json | data SPEC", "open a model, or a target data set")   \
    X("freeze", app_cmd_freeze, "PATTERN...", "freeze layers: all, a path, or a glob (stage*, stage3.*)") \
    X("unfreeze", app_cmd_freeze, "PATTERN... [at=EPOCH]", "thaw layers now, or at the start of an epoch") \
    X("lr", app_cmd_lr, "PATTERN RATE", "set the learning rate of layers")                         \
    X("lr-decay", app_cmd_lr_decay, "FACTOR", "layer-wise decay: each group down gets FACTOR x the rate above") \
    X("strategy", app_cmd_strategy, "NAME [KEY=VALUE...]",                                         \
      "feature-extraction, finetune, gradual every=N, discriminative factor=F|lo=R, layer-decay decay=D, freeze-bottom groups=N") \
    X("set", app_cmd_set, "KEY VALUE...", NULL /* the settings' names, from their table */)        \
    X("train", app_cmd_train, "[EPOCHS]", "train (more) epochs with the transferred model and the baseline") \
    X("at", app_cmd_at, "STEP COMMAND...", "a change to freezing or rates applied at a step (session.thaw records them so)") \
    X("step", app_cmd_simple, "", "one training step, then pause")                                 \
    X("pause", app_cmd_simple, "", "pause training")                                               \
    X("resume", app_cmd_simple, "", "resume training")                                             \
    X("stop", app_cmd_simple, "", "end training (evaluates on the test set)")                      \
    X("eval", app_cmd_simple, "", "evaluate now, on validation and test images")                   \
    X("lr-find", app_cmd_lr_find, "[start=R] [end=R] [steps=N] | apply",                           \
      "sweep the rate with the current freezing and draw the curve; apply takes its suggestion")  \
    X("save", app_cmd_save, "FILE.json", "save the transferred model (it can be the next source)") \
    X("predict", app_cmd_predict, "[source] IMAGE|FOLDER...|\"TEXT\"", "the top 5 classes of photos (or a text), by the model as it stands (source: the file's)") \
    X("neighbours", app_cmd_neighbours, "WORD...", "a text model's nearest words to each, by cosine in its embedding") \
    X("overlay", app_cmd_overlay, "RUN_FOLDER | clear", "draw an earlier run's accuracy and delta curves beside this one's") \
    X("export", app_cmd_export, "metrics FILE.csv | plots FILE.svg", "write the metrics or the plots") \
    X("show", app_cmd_show, "[layers|settings|confusion]", "print the layers, the settings or the confusion matrix") \
    X("reset", app_cmd_reset, "", "discard training and reload the model and data")                \
    X("help", app_cmd_help, "[COMMAND]", "list commands, or explain one")                          \
    X("say", app_cmd_say, "TEXT", "lessons: narrate (a box on screen, a line in batch mode)")      \
    X("pause-for-key", app_cmd_pause_for_key, "", "lessons: wait for the presenter's key")         \
    X("expect", app_cmd_expect, "METRIC OP VALUE", "lessons: check a result (expect test_delta > 0)") \
    X("if-quick", app_cmd_if_quick, "COMMAND", "lessons: run COMMAND only when THAW_QUICK=1")      \
    X("lock", app_cmd_lock, "COMMAND...", "instructor mode: refuse commands (and their keys)")     \
    X("unlock", app_cmd_lock, "COMMAND...|all", "instructor mode: allow commands again")           \
    X("hide", app_cmd_hide, "PART...", "instructor mode: hide tree columns, the lr bar or plots")  \
    X("unhide", app_cmd_hide, "PART...|all", "instructor mode: show them again")                   \
    X("quit", app_cmd_quit, "", "leave thaw")

typedef int (*verb_fn)(app *a, int argc, char **argv, thaw_err *err);

static const struct {
    app_verb v;
    verb_fn fn;
} verbs[] = {
#define APP_VERB_ENTRY(name, fn, args, help) { { name, args, help }, fn },
    APP_VERBS(APP_VERB_ENTRY)
#undef APP_VERB_ENTRY
};

int app_verb_index(const char *name)
{
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(name, verbs[i].v.name))
            return (int)i;
    return -1;
}

int app_locked(const app *a, const char *name)
{
    int v = app_verb_index(name);
    return v >= 0 && ((a->locked >> v) & 1);
}

static app_verb verb_table[sizeof verbs / sizeof verbs[0]];
static char set_help[512];
static pthread_once_t verb_once = PTHREAD_ONCE_INIT;

static void verb_table_init(void)
{
    memcpy(set_help, "settings: ", 11);
    app_settings_names(set_help + strlen(set_help), sizeof set_help - strlen(set_help), " ");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        verb_table[i] = verbs[i].v;
        if (!verb_table[i].help)
            verb_table[i].help = set_help;
    }
}

const app_verb *app_verbs(int *n)
{
    pthread_once(&verb_once, verb_table_init);
    *n = (int)(sizeof verbs / sizeof verbs[0]);
    return verb_table;
}

/* ---- completion ------------------------------------------------------------ */

/* The node *k places after l in pre-order (l itself at 0), or NULL. */
static const layer *nth_node(const layer *l, int *k)
{
    if ((*k)-- == 0)
        return l;
    for (int i = 0; i < l->nchild; i++) {
        const layer *hit = nth_node(l->child[i], k);
        if (hit)
            return hit;
    }
    return NULL;
}

/* The first words of the commands whose first argument is a keyword. */
static const struct {
    const char *verb;
    const char *const *words;
} keywords[] = {
    { "load", (const char *const[]){ "model", "data", NULL } },
    { "export", (const char *const[]){ "metrics", "plots", NULL } },
    { "lr-find", (const char *const[]){ "apply", NULL } },
    { "overlay", (const char *const[]){ "clear", NULL } },
    { "show", (const char *const[]){ "layers", "settings", "confusion", NULL } },
    { "strategy", strategy_names },
};

/* The index of the word that starts at `start` (0: the verb), the verb and
 * the word after it. */
static int words_before(const char *line, int start, char verb[32], char second[32])
{
    int word = 0;
    verb[0] = second[0] = '\0';
    for (int k = 0; k < start; k++)
        if (line[k] != ' ' && (k == 0 || line[k - 1] == ' ')) {
            if (word < 2)
                sscanf(line + k, "%31[^ ]", word == 0 ? verb : second);
            word++;
        }
    return word;
}

const char *app_complete(const app *a, const char *line, int start, const char *prefix, int *iter)
{
    char verb[32], second[32];
    int word = words_before(line, start, verb, second), n;
    const app_verb *v = app_verbs(&n);
    enum { NONE, VERBS, LIST, PARTS, METRICS, PATHS } from = NONE;
    const char *const *list = NULL;
    if (word == 0 || (word == 1 && !strcmp(verb, "help")) || !strcmp(verb, "lock") ||
        !strcmp(verb, "unlock"))
        from = VERBS;
    else if (!strcmp(verb, "set"))
        from = word % 2 == 1 ? LIST : NONE, list = app_setting_names;
    else if (!strcmp(verb, "hide") || !strcmp(verb, "unhide"))
        from = PARTS;
    else if (!strcmp(verb, "expect") && word == 1)
        from = METRICS;
    else if (!strcmp(verb, "freeze") || !strcmp(verb, "unfreeze") ||
             (!strcmp(verb, "lr") && word == 1))
        from = app_current_model(a) ? PATHS : NONE;
    else
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
            if (word == 1 && !strcmp(verb, keywords[i].verb))
                from = LIST, list = keywords[i].words;
    size_t len = strlen(prefix);
    for (const char *c = ""; c; ) {
        int i = (*iter)++, k = i;
        switch (from) {
        case NONE: c = NULL; break;
        case VERBS: c = i < n ? v[i].name : NULL; break;
        case PARTS: c = i < APP_PART_COUNT ? app_parts[i] : i == APP_PART_COUNT ? "all" : NULL; break;
        case METRICS: c = i < METRIC_COUNT ? metric_fields[i].name : NULL; break;
        case LIST:
            c = list[0];
            for (int j = 1; c && j <= i; j++)
                c = list[j];
            break;
        case PATHS: {
            const layer *l = i == 0 ? NULL : nth_node(app_current_model(a)->root, &k);
            c = i == 0 ? "all" : l ? l->path : NULL;
            break;
        }
        }
        if (c && !strncmp(c, prefix, len))
            return c;
    }
    return NULL;
}

int app_complete_file(const char *line, int start)
{
    char verb[32], second[32];
    int word = words_before(line, start, verb, second);
    return (word == 1 && !strcmp(verb, "save")) || (word >= 1 && !strcmp(verb, "predict")) ||
           (word == 2 && !strcmp(verb, "load") && !strcmp(second, "model")) ||
           (word == 2 && !strcmp(verb, "export"));
}

int app_cmd_help(app *a, int argc, char **argv, thaw_err *err)
{
    int n, found = 0;
    const app_verb *v = app_verbs(&n);
    for (int i = 0; i < n; i++)
        if (argc == 1 || !strcmp(argv[1], v[i].name)) {
            app_say(a, APP_INFO, "%-9s %-34s %s", v[i].name, v[i].args, v[i].help);
            found = 1;
        }
    if (argc > 1 && !strcmp(argv[1], "set"))
        app_settings_help(a);
    if (!found)
        return thaw_fail(err, THAW_EINVAL, "help: no command '%s'", argv[1]);
    return THAW_OK;
}

int app_exec(app *a, const char *line, thaw_err *err)
{
    char buf[TASK_SPEC_MAX + 256];
    char *argv[APP_ARGS_MAX];
    size_t len = strlen(line);
    if (len >= sizeof buf)
        return thaw_fail(err, THAW_EINVAL, "a command line is limited to %zu characters", sizeof buf - 1);
    /* One line: its end may be \n or \r\n (a file from Windows); a line
     * break or carriage return inside would run as something other than
     * what session.thaw can record. */
    size_t body = len;
    if (body > 0 && line[body - 1] == '\n')
        body--;
    if (body > 0 && line[body - 1] == '\r')
        body--;
    if (memchr(line, '\r', body) || memchr(line, '\n', body))
        return thaw_fail(err, THAW_EINVAL, "a command is one line: this one has a %s inside (at "
                         "character %zu)", memchr(line, '\r', body) ? "carriage return" : "line break",
                         (size_t)(strpbrk(line, "\r\n") - line) + 1);
    strcpy(buf, line);
    int argc = split(buf, argv, APP_ARGS_MAX, err);
    if (argc <= 0)
        return argc < 0 ? err->code : THAW_OK;
    if (a->stop && *a->stop) {          /* a stop signal came: nothing more runs */
        a->quit = a->stopped = 1;
        return THAW_OK;
    }
    locale_t old = app_enter_c();
    int rc = -1;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(argv[0], verbs[i].v.name)) {
            if (!a->lesson && ((a->locked >> i) & 1)) {
                rc = thaw_fail(err, THAW_EINVAL, "%s is locked by the lesson (the presenter "
                               "can unlock it)", argv[0]);
                break;
            }
            /* A change typed while a run trains is recorded once the session
             * says at which step it took effect (app_record_change). */
            int tag = 0;
            if (!a->no_log && a->run && a->sess && plan_verb(argv[0]) &&
                sess_state_now(a->sess) != SESS_IDLE) {
                tag = a->cur_tag = ++a->tag_seq;
                int k = tag % APP_TAGGED_MAX;
                free(a->tagged[k]);
                a->tagged[k] = strdup(line);
                a->tagged_tag[k] = tag;
            }
            a->logged = 0;
            rc = verbs[i].fn(a, argc, argv, err);
            a->cur_tag = 0;
            /* A train that diverged ran too: its replay diverges the same way. */
            if ((rc == THAW_OK || rc == THAW_ENONFINITE) && a->run && !a->no_log && !tag && !a->logged &&
                strcmp(argv[0], "help") && strcmp(argv[0], "show") && strcmp(argv[0], "quit") &&
                strcmp(argv[0], "overlay"))
                app_log_command(a, line);
            break;
        }
    app_leave_c(old);
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

/* ---- life cycle ------------------------------------------------------------ */

void app_init(app *a, const app_out *out, int batch_mode)
{
    memset(a, 0, sizeof *a);
    if (out)
        a->out = *out;
    a->batch = batch_mode;
    app_settings_default(&a->set);
    a->lr_suggestion = NAN;
    metric_none(&a->last);
    metric_none(&a->final);
}

void app_free(app *a)
{
    app_drop_plan(a);
    if (a->have_data)
        task_free(&a->task);
    mf_meta_free(&a->source_meta);
    txt_vocab_free(&a->vocab);
    free(a->history);
    free(a->lrf_rate);
    free(a->lrf_loss);
    for (int i = 0; i < a->noverlay; i++)
        run_curve_free(&a->overlay[i]);
    for (int i = 0; i < APP_TAGGED_MAX; i++)
        free(a->tagged[i]);
    for (int i = 0; i < a->nat_lines; i++)
        free(a->at_lines[i]);
    free(a->at_lines);
    memset(a, 0, sizeof *a);
}
