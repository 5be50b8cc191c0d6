/* app_verbs.c — the verbs that load the model and data, edit the plan
 * (freezing, rates, strategies), drive the session and save what it made. */
#include "app_impl.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "kvtext.h"
#include "paths.h"
#include "predict.h"
#include "runlog.h"
#include "svg.h"

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


int app_cmd_load(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc != 3 || (strcmp(argv[1], "model") && strcmp(argv[1], "data")))
        return thaw_fail(err, THAW_EINVAL, "usage: load model FILE.json | load data SPEC");
    int rc = app_need_idle(a, !strcmp(argv[1], "model") ? "load model" : "load data", err);
    if (rc)
        return rc;
    /* config.thaw records the value in double quotes, which cannot hold one. */
    if (strchr(argv[2], '"'))
        return thaw_fail(err, THAW_EINVAL, "load %s %s: a double quote cannot be recorded in the run's "
                         "config.thaw (rename the file or folder)", argv[1], argv[2]);
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
        txt_vocab words = { 0 };
        if (meta.vocab && txt_vocab_parse(&words, meta.vocab, meta.vocab_len, meta.vocab_name, err)) {
            mf_meta_free(&meta);
            return err->code;
        }
        mf_meta_free(&a->source_meta);
        txt_vocab_free(&a->vocab);
        a->source_meta = meta;
        a->vocab = words;
        snprintf(a->model_path, sizeof a->model_path, "%s", file);
        a->have_model = 1;
        const mf_provenance *p = &meta.prov;
        if (p->test_accuracy >= 0)
            app_say(a, APP_INFO, "model %s: %d classes, trained on %s (%.1f%% test accuracy)", file,
                meta.nclass, p->dataset[0] ? p->dataset : "unknown data", 100.0 * p->test_accuracy);
        else
            app_say(a, APP_INFO, "model %s: %d classes", file, meta.nclass);
    } else {
        task_spec sp;
        char spec[TASK_SPEC_MAX];
        if (task_spec_parse(&sp, argv[2], err))
            return err->code;
        if (!find_spec_dirs(argv[2], spec, sizeof spec))
            return thaw_fail(err, THAW_EINVAL, "data spec longer than %d bytes", TASK_SPEC_MAX - 1);
        snprintf(a->data_spec, sizeof a->data_spec, "%s", spec);
        if (!a->have_model) {
            app_say(a, APP_INFO, "data %s: loads once a model is loaded", spec);
            return THAW_OK;
        }
    }
    if (!a->data_spec[0])
        return THAW_OK;
    return app_build_plan(a, err);
}

static int match(app *a, const char *pattern, layer **out, int cap, thaw_err *err)
{
    return model_match(app_current_model(a), pattern, out, cap, err);
}

int app_cmd_freeze(app *a, int argc, char **argv, thaw_err *err)
{
    int rc, frozen = !strcmp(argv[0], "freeze");
    double at = -1;
    if ((rc = app_need_plan(a, argv[0], err)))
        return rc;
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: %s PATTERN... (all, stage2, stage*, stage3.*)",
                         argv[0]);
    if (!frozen && !strncmp(argv[argc - 1], "at=", 3)) {
        static const kv_key key = { "at", 0, 1, KV_ALL, 1, 100000, 0, 0, 0 };
        static const kv_form form = { "unfreeze", NULL, NULL, 0, &key, 1 };
        int epoch;
        if ((rc = kv_parse_keys(&form, 0, &epoch, argv[argc - 1], err)))
            return rc;
        at = epoch;
        if (--argc < 2)
            return thaw_fail(err, THAW_EINVAL, "usage: unfreeze PATTERN... at=EPOCH");
    }
    static layer *hit[APP_LAYERS_MAX];
    for (int i = 1; i < argc; i++) {
        int n = match(a, argv[i], hit, APP_LAYERS_MAX, err);
        if (n < 0)
            return err->code;
        for (int k = 0; k < n; k++) {
            if (at >= 0) {
                sess_ctl c = { .op = SESS_THAW_AT, .count = (int)at - 1 };
                snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
                if (a->sess) {
                    if ((rc = app_control(a, c, err)))
                        return rc;
                    continue;
                }
                return thaw_fail(err, THAW_EINVAL, "unfreeze ... at=EPOCH schedules a thaw in a "
                                 "run; use it after the first train, or use strategy gradual");
            }
            if (a->sess) {
                sess_ctl c = { .op = frozen ? SESS_FREEZE : SESS_UNFREEZE };
                snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
                if ((rc = app_control(a, c, err)))
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

int app_cmd_lr(app *a, int argc, char **argv, thaw_err *err)
{
    int rc;
    double v;
    if ((rc = app_need_plan(a, "lr", err)))
        return rc;
    if (argc != 3 || !app_parse_double(argv[2], 0.0, 1e12, &v))
        return thaw_fail(err, THAW_EINVAL, "usage: lr PATTERN RATE (a number above 0, at most 1e12; "
                         "a diverging rate is caught and paused on its step)");
    if (!((float)v > 0.0f))          /* 0, or too small for a float: no update at all */
        return thaw_fail(err, THAW_EINVAL, "lr %s %s: a RATE of 0 trains nothing (freeze %s stops "
                         "a layer training); expected a number above 0 that a float holds, at "
                         "most 1e12", argv[1], argv[2], argv[1]);
    static layer *hit[APP_LAYERS_MAX];
    int n = match(a, argv[1], hit, APP_LAYERS_MAX, err);
    if (n < 0)
        return err->code;
    for (int k = 0; k < n; k++) {
        if (a->sess) {
            sess_ctl c = { .op = SESS_LR, .value = v };
            snprintf(c.path, sizeof c.path, "%s", hit[k]->path);
            if ((rc = app_control(a, c, err)))
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
    if ((rc = app_need_plan(a, "strategy", err)) || (rc = strategy_parse(&st, text, err)))
        return rc;
    if (a->sess) {
        if ((rc = app_control(a, (sess_ctl){ .op = SESS_STRATEGY, .strat = st, .value = a->set.lr }, err)))
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

int app_cmd_strategy(app *a, int argc, char **argv, thaw_err *err)
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

int app_cmd_lr_decay(app *a, int argc, char **argv, thaw_err *err)
{
    double d;
    if (argc != 2 || !app_parse_double(argv[1], 1e-6, 1.0, &d))
        return thaw_fail(err, THAW_EINVAL, "usage: lr-decay FACTOR (in (0, 1]: each group down "
                         "from the head gets FACTOR times the rate above it)");
    char text[64];
    snprintf(text, sizeof text, "layer-decay decay=%.17g", d);
    return apply_strategy(a, text, err);
}

int app_cmd_train(app *a, int argc, char **argv, thaw_err *err)
{
    long n = a->set.epochs;
    int rc;
    if (argc > 2 || (argc == 2 && !app_parse_int(argv[1], 1, 100000, &n)))
        return thaw_fail(err, THAW_EINVAL, "usage: train [EPOCHS] (1 to 100000; default: set epochs)");
    if ((rc = app_start_session(a, err)))
        return rc;
    if (a->strategy_text[0] && sess_epoch(a->sess) == 0 && sess_state_now(a->sess) == SESS_IDLE &&
        a->nhistory == 0) {
        strategy st;
        if (strategy_parse(&st, a->strategy_text, err) == THAW_OK && st.kind == STRAT_GRADUAL &&
            (rc = app_control(a, (sess_ctl){ .op = SESS_STRATEGY, .strat = st, .value = a->set.lr }, err)))
            return rc;
    }
    if ((rc = app_flush_at(a, err)))
        return rc;
    int idle = sess_state_now(a->sess) == SESS_IDLE && !sess_busy(a->sess);
    if ((rc = app_control(a, (sess_ctl){ .op = SESS_TRAIN, .count = (int)n }, err)))
        return rc;
    a->target_epoch = idle ? sess_epoch(a->sess) + (int)n : a->target_epoch + (int)n;
    return app_settle(a, err);
}

int app_cmd_simple(app *a, int argc, char **argv, thaw_err *err)
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
    if ((rc = app_start_session(a, err)) || (rc = app_control(a, (sess_ctl){ .op = op }, err)))
        return rc;
    if (op == SESS_STEP || op == SESS_EVAL)
        return app_settle(a, err);
    return THAW_OK;
}

int app_cmd_lr_find(app *a, int argc, char **argv, thaw_err *err)
{
    struct sweep { double start, end; int steps; } sw = { 1e-7, 10.0, 100 };
    static const kv_key keys[] = {
        { "start", offsetof(struct sweep, start), 0, KV_ALL, 1e-12, 1e3, 0, 0, 0 },
        { "end", offsetof(struct sweep, end), 0, KV_ALL, 1e-12, 1e4, 0, 0, 0 },
        { "steps", offsetof(struct sweep, steps), 1, KV_ALL, 2, 100000, 0, 0, 0 },
    };
    static const kv_form form = { "lr-find", NULL, NULL, 0, keys, 3 };
    char words[TASK_SPEC_MAX + 256];
    int rc;
    if (argc >= 2 && !strcmp(argv[1], "apply")) {
        if (argc > 2)
            return thaw_fail(err, THAW_EINVAL, "lr-find apply: takes nothing after it");
        if (!isfinite(a->lr_suggestion))
            return thaw_fail(err, THAW_EINVAL, "lr-find apply: no suggestion to apply yet (run lr-find "
                             "first; a sweep that diverged at once suggests nothing)");
        char line[64];
        plot_snprintf(line, sizeof line, "set lr %.3g", a->lr_suggestion);
        if ((rc = app_exec(a, line, err)))
            return rc;
        a->logged = 1;          /* the set is what session.thaw replays */
        app_say(a, APP_INFO, "lr-find apply: %s (the head's rate; the strategy spreads it over the "
                "groups)", line);
        return THAW_OK;
    }
    if (!app_joined(argc, argv, 1, words, sizeof words))
        return thaw_fail(err, THAW_EINVAL, "lr-find: the arguments are too long");
    if ((rc = kv_parse_keys(&form, 0, &sw, words, err)))
        return rc;
    if ((rc = app_start_session(a, err)))
        return rc;
    a->lr_suggestion = NAN;
    a->lrf_n = a->lrf_done = 0;
    if ((rc = app_control(a, (sess_ctl){ .op = SESS_LRFIND, .value = sw.start, .value2 = sw.end, .count = sw.steps }, err)))
        return rc;
    return app_settle(a, err);
}

/* Work that must run on the trainer thread once a session exists. The UI
 * waits for it a while (APP_CALL_WAIT_MS outside batch mode); when the
 * trainer is busy longer (an evaluation of many images), it lets go and the
 * job, then the trainer's, reports its result as a session event. */
typedef struct call_job {
    app *a;
    int kind;                 /* 0 save, 1 metrics, 2 plots, 3 copy the weights into `copy` */
    model *copy;              /* the job's until on_trainer hands it back */
    char path[TASK_PATH_MAX];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done, rc, let_go;
    thaw_err err;
} call_job;

static void call_free(call_job *j)
{
    if (j->copy) {
        model_free(j->copy);
        free(j->copy);
    }
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static void call_run(void *ctx, const model *transfer, const model *scratch, sess_event *report)
{
    (void)scratch;
    call_job *j = ctx;
    int rc = THAW_EINVAL;
    if (!transfer) {                  /* the session ended before it ran */
        call_free(j);
        return;
    }
    locale_t old = app_enter_c();
    if (j->kind == 0) {
        mf_meta m = j->a->meta;
        m.prov.epochs = j->a->trained_epochs;
        m.prov.test_accuracy = j->a->trained_test_acc;
        rc = mf_save(j->path, &m, transfer, &j->err);
    } else if (j->kind == 3) {
        rc = j->copy->nfloat == transfer->nfloat ? THAW_OK
             : thaw_fail(&j->err, THAW_EINVAL, "predict: the session's model is not the plan's");
        if (rc == THAW_OK)
            memcpy(j->copy->param, transfer->param, transfer->nfloat * sizeof(float));
    } else if (j->kind == 1)
        rc = runlog_export_metrics(j->a->run, j->path, &j->err);
    else
        rc = runlog_export_plots(j->a->run, j->path, &j->err);
    app_leave_c(old);
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->done = 1;
    int alone = j->let_go;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (!alone)
        return;
    report->kind = rc ? SEV_ERROR : SEV_NOTE;
    if (rc)
        snprintf(report->text, sizeof report->text, "%.*s", (int)sizeof report->text - 1, j->err.msg);
    else if (j->kind == 3)
        snprintf(report->text, sizeof report->text, "predict: the trainer was busy evaluating; "
                 "ask again");
    else
        snprintf(report->text, sizeof report->text, "%s %.*s", j->kind ? "wrote" : "saved",
                 (int)sizeof report->text - 8, j->path);
    call_free(j);
}

/* Runs the job on the trainer; *later is 1 when the UI let go of it (its
 * result comes as an event). A copy (kind 3) is the job's while it runs:
 * *copy comes back NULL when the UI let go. */
static int on_trainer(app *a, int kind, const char *path, model **copy, int *later, thaw_err *err)
{
    *later = 0;
    call_job *j = calloc(1, sizeof *j);
    if (!j)
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    j->a = a;
    j->kind = kind;
    j->copy = copy ? *copy : NULL;
    if (copy)
        *copy = NULL;
    snprintf(j->path, sizeof j->path, "%s", path);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    int rc = app_control(a, (sess_ctl){ .op = SESS_CALL, .call = call_run, .call_ctx = j }, err);
    if (rc) {
        if (copy)
            *copy = j->copy, j->copy = NULL;
        call_free(j);
        return rc;
    }
    struct timespec until = thaw_deadline(APP_CALL_WAIT_MS);
    int timed_out = 0;
    pthread_mutex_lock(&j->mu);
    while (!j->done && !timed_out) {
        if (a->batch)                 /* nothing else to do, and the trainer is idle or paused */
            pthread_cond_wait(&j->cv, &j->mu);
        else
            timed_out = pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT;
    }
    if (!j->done) {
        j->let_go = 1;                /* the trainer frees it */
        pthread_mutex_unlock(&j->mu);
        *later = 1;
        return THAW_OK;
    }
    pthread_mutex_unlock(&j->mu);
    rc = j->rc;
    if (rc && err)
        *err = j->err;
    if (copy)
        *copy = j->copy, j->copy = NULL;
    call_free(j);
    return rc;
}

int app_cmd_save(app *a, int argc, char **argv, thaw_err *err)
{
    int rc;
    if (argc != 2)
        return thaw_fail(err, THAW_EINVAL, "usage: save FILE.json (the weights go beside it)");
    if ((rc = app_need_plan(a, "save", err)))
        return rc;
    int later = 0;
    if (a->sess)
        rc = on_trainer(a, 0, argv[1], NULL, &later, err);
    else
        rc = (app_provenance(a), mf_save(argv[1], &a->meta, &a->plan, err));
    if (rc == THAW_OK)
        app_say(a, APP_INFO, later ? "saving %s once the trainer is free (it is evaluating)"
                                   : "saved %s", argv[1]);
    return rc;
}

int app_cmd_overlay(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc != 2)
        return thaw_fail(err, THAW_EINVAL, "usage: overlay RUN_FOLDER | overlay clear");
    if (!strcmp(argv[1], "clear")) {
        for (int i = 0; i < a->noverlay; i++)
            run_curve_free(&a->overlay[i]);
        a->noverlay = 0;
        app_say(a, APP_INFO, "overlay: cleared");
        return THAW_OK;
    }
    run_curve c;
    int rc = run_curve_load(&c, argv[1], err);
    if (rc)
        return rc;
    if (a->noverlay == APP_OVERLAYS) {       /* the oldest gives way */
        run_curve_free(&a->overlay[0]);
        memmove(a->overlay, a->overlay + 1, (APP_OVERLAYS - 1) * sizeof a->overlay[0]);
        a->noverlay--;
    }
    a->overlay[a->noverlay++] = c;
    app_say(a, APP_INFO, "overlay: %s, %d evaluations up to epoch %.3g, drawn dim beside this run", c.name,
            c.n, c.x[c.n - 1]);
    return THAW_OK;
}

int app_cmd_export(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc != 3 || (strcmp(argv[1], "metrics") && strcmp(argv[1], "plots")))
        return thaw_fail(err, THAW_EINVAL, "usage: export metrics FILE.csv | export plots FILE.svg");
    if (!a->sess || !a->run)
        return thaw_fail(err, THAW_EINVAL, "export: nothing has been trained yet");
    int later = 0;
    int rc = on_trainer(a, strcmp(argv[1], "metrics") ? 2 : 1, argv[2], NULL, &later, err);
    if (rc == THAW_OK)
        app_say(a, APP_INFO, later ? "writing %s once the trainer is free (it is evaluating)"
                                   : "wrote %s", argv[2]);
    return rc;
}

/* predict [source] IMAGE...: the top 5 of the model as it stands (the
 * transferred model, trained so far), or of the model file with its own
 * head and classes. The model is a copy: the session's keeps training. */
int app_cmd_predict(app *a, int argc, char **argv, thaw_err *err)
{
    int source = argc > 1 && !strcmp(argv[1], "source"), first = 1 + source, rc, later = 0;
    if (argc <= first)
        return thaw_fail(err, THAW_EINVAL, "usage: predict [source] IMAGE|FOLDER... (the top 5 of the "
                         "current model; source: of the model file, with its own classes)");
    if (!a->have_model)
        return thaw_fail(err, THAW_EINVAL, "predict: load a model first (load model FILE)");
    int current = !source && (a->sess || a->have_plan);
    mf_meta own;
    const mf_meta *meta = current ? &a->meta : &own;
    model *m = calloc(1, sizeof *m);
    if (!m)
        return thaw_fail(err, THAW_ENOMEM, "predict: out of memory");
    if (!current)
        rc = mf_load(&own, m, a->model_path, NULL, err);
    else if ((rc = mf_build(m, &a->meta, 1, err)) == THAW_OK && a->sess)
        rc = on_trainer(a, 3, "", &m, &later, err);
    else if (rc == THAW_OK && m->nfloat == a->plan.nfloat)
        memcpy(m->param, a->plan.param, m->nfloat * sizeof(float));
    else if (rc == THAW_OK)
        rc = thaw_fail(err, THAW_EINVAL, "predict: the plan's model is not its description's");
    if (rc || later) {
        free(m);
        if (later)
            app_say(a, APP_INFO, "predict: the trainer is evaluating; ask again in a moment");
        return rc;
    }
    float *x = malloc(sizeof(float) * shape3_count(meta->input));
    float *p = malloc(sizeof(float) * (size_t)m->classes);
    if (!x || !p)
        rc = thaw_fail(err, THAW_ENOMEM, "predict: out of memory");
    if (rc == THAW_OK && m->seq) {
        /* A text model: the words are the document. */
        const txt_vocab *v = current && a->have_data && a->task.text ? task_words(&a->task)
                           : a->vocab.n ? &a->vocab : NULL;
        char text[APP_LINE_MAX];
        size_t o = 0;
        for (int i = first; i < argc; i++)
            o += (size_t)snprintf(text + o, o < sizeof text ? sizeof text - o : 0, "%s%s",
                                  i > first ? " " : "", argv[i]);
        if (!v)
            rc = thaw_fail(err, THAW_EINVAL, "predict: this text model has no vocabulary of its own; "
                           "load data first (its vocabulary comes from the training split)");
        else if (o >= sizeof text)
            rc = thaw_fail(err, THAW_EINVAL, "predict: the text is longer than %zu bytes", sizeof text - 1);
        size_t tokens = rc ? 0 : txt_encode(v, text, o, x, meta->input.w);
        predict_hit top[5];
        if (rc == THAW_OK && (rc = predict_run(m, x, p, err)) == THAW_OK) {
            int n = predict_top(p, m->classes, top, 5), unknown = 0;
            for (int k = 0; k < meta->input.w; k++)
                unknown += x[k] == TXT_UNK;
            app_say(a, APP_INFO, "\"%s\" (%zu tokens%s, %d unknown), by the %s (%d classes):", text,
                    tokens, tokens > (size_t)meta->input.w ? ", cut" : "", unknown,
                    current ? "transferred model as it stands" : "model file", m->classes);
            for (int k = 0; k < n; k++)
                app_say(a, APP_INFO, "  %6.2f%%  %s", 100.0 * top[k].p, meta->class_name[top[k].cls]);
        }
        first = argc;
    }
    for (int i = first; i < argc && rc == THAW_OK; i++) {
        char where[PATHS_MAX], **f;
        int nf;
        if ((rc = predict_files(paths_find(argv[i], where, sizeof where), &f, &nf, err)))
            break;
        for (int j = 0; j < nf && rc == THAW_OK; j++) {
            predict_hit top[5];
            if ((rc = predict_load(x, meta, f[j], err)) || (rc = predict_run(m, x, p, err)))
                break;
            int n = predict_top(p, m->classes, top, 5);
            app_say(a, APP_INFO, "%s, by the %s (%d classes):", nf > 1 ? f[j] : argv[i],
                    current ? "transferred model as it stands" : "model file", m->classes);
            for (int k = 0; k < n; k++)
                app_say(a, APP_INFO, "  %6.2f%%  %s", 100.0 * top[k].p, meta->class_name[top[k].cls]);
        }
        predict_files_free(f, nf);
    }
    free(x);
    free(p);
    model_free(m);
    free(m);
    if (!current)
        mf_meta_free(&own);
    return rc;
}

/* neighbours WORD...: the words nearest each by cosine in the embedding of
 * the model as it stands. */
int app_cmd_neighbours(app *a, int argc, char **argv, thaw_err *err)
{
    if (argc < 2)
        return thaw_fail(err, THAW_EINVAL, "usage: neighbours WORD... (the nearest words by cosine "
                         "in the text model's embedding)");
    const model *m = app_current_model(a);
    const txt_vocab *v = a->have_data && a->task.text ? task_words(&a->task) : a->vocab.n ? &a->vocab : NULL;
    mf_meta own;
    model file;
    int loaded = 0;
    if (!m && a->have_model) {
        /* No data yet: the model file's embedding. */
        if (mf_load(&own, &file, a->model_path, NULL, err))
            return err->code;
        m = &file, loaded = 1;
    }
    int rc = !m || !m->seq ? thaw_fail(err, THAW_EINVAL, "neighbours: load a text model first (one "
                                       "with an embedding)")
           : !v ? thaw_fail(err, THAW_EINVAL, "neighbours: the model has no vocabulary; load data first")
                : THAW_OK;
    if (rc) {
        if (loaded) {
            mf_meta_free(&own);
            model_free(&file);
        }
        return rc;
    }
    const param_slice *e = &m->slice[m->seq->slice0];
    const float *w = model_param(m, m->seq->slice0);
    int dim = e->dim[1], n = v->n < e->dim[0] ? v->n : e->dim[0];
    for (int k = 1; k < argc; k++) {
        enum { TOP = 8 };
        int id = txt_vocab_find(v, argv[k], strlen(argv[k])), best[TOP], have = 0;
        double cos[TOP], na = 0;
        char q[96];
        for (int d = 0; id != TXT_UNK && id < n && d < dim; d++)
            na += (double)w[(size_t)id * dim + d] * w[(size_t)id * dim + d];
        if (id == TXT_UNK || id >= n || na == 0) {
            app_say(a, APP_INFO, "%s: not in the vocabulary", utf8_quote(q, sizeof q, argv[k]));
            continue;
        }
        for (int j = TXT_SPECIAL; j < n; j++) {
            double dot = 0, nb = 0;
            for (int d = 0; d < dim && j != id; d++) {
                double b = w[(size_t)j * dim + d];
                dot += (double)w[(size_t)id * dim + d] * b, nb += b * b;
            }
            if (j == id || nb == 0)
                continue;
            double c = dot / sqrt(na * nb);
            if (have < TOP || c > cos[have - 1]) {
                int at = have < TOP ? have++ : have - 1;
                for (; at > 0 && cos[at - 1] < c; at--)
                    cos[at] = cos[at - 1], best[at] = best[at - 1];
                cos[at] = c, best[at] = j;
            }
        }
        char line[1024];
        size_t o = (size_t)snprintf(line, sizeof line, "%s:", utf8_quote(q, sizeof q, argv[k]));
        for (int i = 0; i < have && o < sizeof line; i++)
            o += (size_t)snprintf(line + o, sizeof line - o, " %s (%.2f)",
                                  utf8_quote(q, sizeof q, v->word[best[i]]), cos[i]);
        app_say(a, APP_INFO, "%s", line);
    }
    if (loaded) {
        mf_meta_free(&own);
        model_free(&file);
    }
    return THAW_OK;
}

const model *app_model(const app *a)
{
    return app_current_model(a);
}

int app_layers(app *a, sess_layer *out, int cap)
{
    if (a->sess)
        return sess_layers(a->sess, out, cap);
    const model *m = app_current_model(a);
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
    const model *m = app_current_model(a);
    static sess_layer ls[APP_LAYERS_MAX];
    int n = app_layers(a, ls, APP_LAYERS_MAX);
    app_say(a, APP_INFO, "%-22s %-12s %10s  %-6s %9s %8s %9s", "layer", "type", "params", "train",
        "lr", "drift", "|grad|");
    for (int i = 0; i < n; i++) {
        const layer *l = ls[i].l;
        size_t count = 0;
        for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
            if (m->slice[s].kind != PARAM_STAT)
                count += m->slice[s].len;
        app_say(a, APP_INFO, "%-22s %-12s %10zu  %-6s %9.3g %8.4f %9.3g", l->path, l->ops->type, count,
            ls[i].frozen == 1 ? "frozen" : ls[i].frozen == 2 ? "partly" : "yes", (double)ls[i].lr,
            ls[i].drift, ls[i].grad_norm);
    }
    app_say(a, APP_INFO, "trainable parameters: %zu of %zu", model_count(m, 1), model_count(m, 0));
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
    app_say(a, APP_INFO, "%s  accuracy", line);
    for (int i = 0; i < k; i++) {
        long row = 0;
        n = (size_t)snprintf(line, sizeof line, "%2d %-13.13s", i, a->task.name[i]);
        for (int j = 0; j < k; j++) {
            row += c.count[(size_t)i * k + j];
            if (n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, " %6ld", c.count[(size_t)i * k + j]);
        }
        app_say(a, APP_INFO, "%s  %5.1f%%", line, row ? 100.0 * c.count[(size_t)i * k + i] / row : 0.0);
    }
    free(c.count);
    return THAW_OK;
}

int app_cmd_show(app *a, int argc, char **argv, thaw_err *err)
{
    const char *what = argc > 1 ? argv[1] : "layers";
    if (!strcmp(what, "confusion"))
        return show_confusion(a, err);
    if (!strcmp(what, "settings")) {
        char *text = app_config_text(a);
        if (!text)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        app_say(a, APP_INFO, "%s", text);
        free(text);
        return THAW_OK;
    }
    if (!strcmp(what, "layers")) {
        int rc = app_need_plan(a, "show layers", err);
        if (rc)
            return rc;
        show_layers(a);
        return THAW_OK;
    }
    return thaw_fail(err, THAW_EINVAL, "show %s: expected show layers, settings or confusion", what);
}

int app_cmd_reset(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argv;
    if (argc != 1)
        return thaw_fail(err, THAW_EINVAL, "usage: reset");
    int rc = app_need_idle(a, "reset", err);
    if (rc)
        return rc;
    if (!a->have_model || !a->data_spec[0]) {
        app_drop_plan(a);
        return THAW_OK;
    }
    return app_build_plan(a, err);
}

int app_cmd_quit(app *a, int argc, char **argv, thaw_err *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    a->quit = 1;
    return THAW_OK;
}

