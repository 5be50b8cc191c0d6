/* test_app.c — the command language every front end shares: each malformed
 * command gets a clear error, edits before training change the plan, a run
 * leaves a complete folder, its config.thaw replays to the same numbers, and
 * a saved fine-tuned model is the source of the next transfer. On the
 * shipped shapes-resnet and the built-in shapes data, so it runs anywhere. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "clock.h"
#include "fileio.h"
#include "metrics.h"
#include "paths.h"
#include "runlog.h"
#include "test.h"

#define SHAPES_MODEL "models/shapes-resnet.json"
#define SHAPES_DATA  "shapes:classes=0-3,shots=6,val=5,n=20,test=10"

static void quiet(void *ctx, app_say_kind kind, const char *text)
{
    (void)ctx;
    (void)kind;
    (void)text;
}

static void open_app(app *a)
{
    app_init(a, &(app_out){ .say = quiet }, 1);
}

static int temp_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/thaw-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) != NULL;
}

/* Runs lines until one fails; returns its status, err holding the message. */
static int run_lines(app *a, const char *const *lines, thaw_err *err)
{
    for (int i = 0; lines[i]; i++) {
        int rc = app_exec(a, lines[i], err);
        if (rc)
            return rc;
    }
    return THAW_OK;
}

static int loaded(app *a)
{
    thaw_err err = {0};
    static const char *const lines[] = { "set epochs 2 batch 8", "load model " SHAPES_MODEL,
                                         "load data " SHAPES_DATA, NULL };
    if (run_lines(a, lines, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    return 1;
}

/* loaded(), with the run folder in a new temporary folder dir. */
static int loaded_with_run(app *a, char *dir, size_t cap)
{
    if (!temp_dir(dir, cap)) {
        test_failed(__FILE__, __LINE__, "cannot make a temporary folder");
        return 0;
    }
    snprintf(a->run_dir, sizeof a->run_dir, "%s/run", dir);
    return loaded(a);
}

/* One malformed command: the status and a word the message must contain. */
static void refused(const char *line, int code, const char *says)
{
    app a;
    thaw_err err = {0};
    open_app(&a);
    EXPECT(loaded(&a));
    int rc = app_exec(&a, line, &err);
    EXPECTF(rc == code, "%s: status %d (%s)", line, rc, err.msg);
    EXPECTF(strstr(err.msg, says), "%s: message '%s' lacks '%s'", line, err.msg, says);
done:
    app_free(&a);
}

void test_app_unknown_command(void) { refused("frobnicate now", THAW_EINVAL, "frobnicate"); }
void test_app_set_unknown_key(void) { refused("set colour blue", THAW_EINVAL, "batch"); }
void test_app_set_out_of_range(void) { refused("set batch 0", THAW_EINVAL, "batch 0"); }
void test_app_set_not_a_number(void) { refused("set lr fast", THAW_EINVAL, "lr fast"); }
void test_app_set_odd_words(void) { refused("set epochs", THAW_EINVAL, "KEY VALUE"); }
void test_app_set_bad_optimizer(void) { refused("set optimizer adam", THAW_EINVAL, "sgd or adamw"); }
void test_app_set_bad_schedule(void) { refused("set schedule wobbly", THAW_EINVAL, "cosine"); }
void test_app_set_bad_onoff(void) { refused("set baseline maybe", THAW_EINVAL, "on or off"); }
void test_app_unclosed_quote(void) { refused("load data \"shapes", THAW_EINVAL, "quote"); }
void test_app_carriage_return_inside(void) { refused("freeze stem\rthaw head", THAW_EINVAL, "carriage return"); }
void test_app_line_break_inside(void) { refused("freeze stem\nthaw head", THAW_EINVAL, "line break"); }
void test_app_quote_in_path(void) { refused("load model my\"model.json", THAW_EINVAL, "double quote"); }

typedef struct warned {
    int warnings;
    char last[512];
} warned;

static void keep_warnings(void *ctx, app_say_kind kind, const char *text)
{
    warned *s = ctx;
    if (kind != APP_WARN)
        return;
    s->warnings++;
    snprintf(s->last, sizeof s->last, "%s", text);
}

/* Images light where the model's were dark get a warning naming the fix;
 * images like the model's get none. */
void test_app_polarity_warning(void)
{
    static const char *const specs[] = { SHAPES_DATA, SHAPES_DATA ",shift=invert" };
    for (int k = 0; k < 2; k++) {
        warned s = { 0 };
        app a;
        thaw_err err = {0};
        app_init(&a, &(app_out){ .say = keep_warnings, .ctx = &s }, 1);
        char line[256];
        snprintf(line, sizeof line, "load data %s", specs[k]);
        EXPECTF(app_exec(&a, "load model " SHAPES_MODEL, &err) == THAW_OK && app_exec(&a, line, &err) == THAW_OK,
                "%s", err.msg);
        if (k == 0)
            EXPECTF(s.warnings == 0, "%s: warned '%s'", specs[k], s.last);
        else
            EXPECTF(s.warnings == 1 && strstr(s.last, "shift=invert") && strstr(s.last, "0.78"),
                    "%s: %d warnings, the last '%s'", specs[k], s.warnings, s.last);
    done:
        app_free(&a);
        if (test_has_failed())
            return;
    }
}

/* A line from a file written on Windows (\r\n) runs as the line. */
void test_app_crlf_line_runs(void)
{
    app a;
    thaw_err err = {0};
    open_app(&a);
    EXPECT(loaded(&a));
    EXPECTF(app_exec(&a, "set epochs 7\r\n", &err) == THAW_OK, "%s", err.msg);
    EXPECT(a.set.epochs == 7);
done:
    app_free(&a);
}
void test_app_freeze_unknown_layer(void) { refused("freeze stage9", THAW_ENOTFOUND, "stage9"); }
void test_app_lr_bad_rate(void) { refused("lr head -1", THAW_EINVAL, "RATE"); }
void test_app_lr_zero_rate(void)
{
    refused("lr head 0", THAW_EINVAL, "freeze head");
    refused("lr head 1e-50", THAW_EINVAL, "a float holds");
}
void test_app_strategy_unknown(void) { refused("strategy magic", THAW_EINVAL, "magic"); }
void test_app_train_bad_epochs(void) { refused("train 0", THAW_EINVAL, "EPOCHS"); }
void test_app_train_too_many_epochs(void) { refused("train 1000000", THAW_EINVAL, "1 to 100000"); }
void test_app_expect_before_evaluation(void)
{
    refused("expect step > 0", THAW_EINVAL, "step has not been measured yet");
}
void test_app_load_missing_model(void) { refused("load model no/such.json", THAW_EIO, "no/such.json"); }
void test_app_load_bad_spec(void) { refused("load data shapes:colour=red", THAW_EINVAL, "colour"); }
void test_app_export_before_training(void) { refused("export plots x.svg", THAW_EINVAL, "trained"); }
void test_app_lr_find_bad_steps(void)
{
    refused("lr-find steps=x", THAW_EINVAL, "steps='x' is not a number: expected an integer in [2, 100000]");
}
void test_app_lr_find_unknown_key(void) { refused("lr-find stop=3", THAW_EINVAL, "no key 'stop': expected start, end, steps"); }
void test_app_lr_find_key_twice(void) { refused("lr-find steps=5 steps=6", THAW_EINVAL, "steps is given twice"); }
void test_app_lr_find_apply_before_sweep(void) { refused("lr-find apply", THAW_EINVAL, "run lr-find first"); }
void test_app_lr_find_apply_extra(void) { refused("lr-find apply now", THAW_EINVAL, "nothing after it"); }

/* lr-find keeps its curve and writes it into the run folder; lr-find apply
 * sets the head's rate to the suggestion and records that set, so a replay
 * does not depend on sweeping again. */
void test_app_lr_find_apply(void)
{
    app a;
    thaw_err err = {0};
    char dir[256], path[400], *text = NULL;
    size_t len;
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECTF(app_exec(&a, "lr-find steps=20", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(a.lrf_done && a.lrf_n >= 3 && a.lrf_n <= 20, "%d points", a.lrf_n);
    EXPECT(isfinite(a.lr_suggestion));
    for (int i = 1; i < a.lrf_n; i++)
        EXPECT(a.lrf_rate[i] > a.lrf_rate[i - 1]);
    snprintf(path, sizeof path, "%s/run/lrfind.svg", dir);
    EXPECTF(access(path, R_OK) == 0, "%s is missing", path);
    EXPECTF(app_exec(&a, "lr-find apply", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(fabs(a.set.lr - a.lr_suggestion) <= 0.01 * a.lr_suggestion, "lr %g, suggested %g", a.set.lr,
            a.lr_suggestion);
    snprintf(path, sizeof path, "%s/run/session.thaw", dir);
    EXPECT(fio_read(path, 1 << 20, &text, &len, &err) == THAW_OK);
    EXPECTF(strstr(text, "\nset lr ") && !strstr(text, "lr-find apply"), "[%s]", text);
done:
    free(text);
    app_free(&a);
}
void test_app_unfreeze_at_zero(void) { refused("unfreeze all at=0", THAW_EINVAL, "at=0 is out of range: expected an integer in [1, 100000]"); }
void test_app_pause_when_idle(void) { refused("pause", THAW_EINVAL, "nothing is training"); }

void test_app_needs_model_first(void)
{
    app a;
    thaw_err err = {0};
    open_app(&a);
    EXPECT(app_exec(&a, "freeze all", &err) == THAW_EINVAL && strstr(err.msg, "load a model"));
    EXPECT(app_exec(&a, "train", &err) == THAW_EINVAL);
    EXPECT(app_exec(&a, "   # only a comment", &err) == THAW_OK);
done:
    app_free(&a);
}

/* Before training, commands edit the plan in place. */
void test_app_plan_edits(void)
{
    app a;
    thaw_err err = {0};
    open_app(&a);
    EXPECT(loaded(&a));
    static const char *const lines[] = { "freeze all", "unfreeze head stage3", "lr stage* 0.002",
                                         "lr head 0.03", NULL };
    EXPECTF(run_lines(&a, lines, &err) == THAW_OK, "%s", err.msg);
    for (int i = 0; i < a.plan.nslice; i++) {
        const param_slice *p = &a.plan.slice[i];
        int open = !strncmp(p->name, "head.", 5) || !strncmp(p->name, "stage3.", 7);
        if (p->kind != PARAM_STAT)
            EXPECTF(p->frozen == !open, "%s frozen %d", p->name, p->frozen);
        float want = !strncmp(p->name, "head.", 5) ? 0.03f : !strncmp(p->name, "stage", 5) ? 0.002f
                                                                                            : 0.01f;
        EXPECTF(p->lr == want, "%s lr %g", p->name, (double)p->lr);
    }
    EXPECT(app_count(&a, 1) < app_count(&a, 0));
    EXPECT(app_exec(&a, "strategy discriminative factor=10", &err) == THAW_OK);
    EXPECTF(fabsf(model_slice(&a.plan, "stem.0.weight")->lr - 0.001f) < 1e-9f &&
            model_slice(&a.plan, "head.weight")->lr == 0.01f, "stem %g head %g",
            (double)model_slice(&a.plan, "stem.0.weight")->lr,
            (double)model_slice(&a.plan, "head.weight")->lr);
done:
    app_free(&a);
}

static long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

static int exists(const char *dir, const char *name)
{
    char path[1200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* A short run: every file of the run folder, parseable metrics, a final
 * evaluation with test figures, and the commands typed after the start. */
void test_app_run_folder(void)
{
    app a, b;
    thaw_err err = {0};
    char dir[512], run[600], path[700];
    FILE *f = NULL;
    char line[4096];
    open_app(&a);
    memset(&b, 0, sizeof b);
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(run, sizeof run, "%s/run", dir);
    EXPECT(loaded(&a));
    snprintf(a.run_dir, sizeof a.run_dir, "%s", run);
    EXPECT(app_exec(&a, "strategy gradual every=1", &err) == THAW_OK);
    EXPECTF(app_exec(&a, "train 2", &err) == THAW_OK, "%s", err.msg);
    EXPECT(app_exec(&a, "lr head 0.005", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 1", &err) == THAW_OK);
    EXPECT(a.nhistory == 3 && a.final.final && a.final.epoch == 3);
    EXPECT(app_exec(&a, "show confusion", &err) == THAW_OK);
    EXPECT(app_exec(&a, "show layers", &err) == THAW_OK);
    EXPECT(!isnan(a.final.test_acc) && !isnan(a.final.scratch_test_acc));
    EXPECT(fabs(a.final.test_delta - (a.final.test_acc - a.final.scratch_test_acc)) < 1e-12);
    static const char *const files[] = { "config.thaw", "metrics.csv", "metrics.csv-metadata.json", "metrics.jsonl",
                                         "events.log", "session.thaw", "best.json", "last.json",
                                         "loss.svg", "accuracy.svg", "delta.svg" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        EXPECTF(exists(run, files[i]), "%s/%s is missing", run, files[i]);
    /* Each checkpoint loads with the weights its JSON names (saves
     * alternate between NAME.safetensors and NAME.1.safetensors). */
    static const char *const checkpoints[] = { "best.json", "last.json" };
    for (size_t i = 0; i < 2; i++) {
        mf_meta meta;
        model m;
        snprintf(path, sizeof path, "%s/%s", run, checkpoints[i]);
        EXPECTF(mf_load(&meta, &m, path, NULL, &err) == THAW_OK, "%s", err.msg);
        mf_meta_free(&meta);
        model_free(&m);
    }
    snprintf(path, sizeof path, "%s/metrics.csv", run);
    EXPECT(count_lines(path) == 4);
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    f = fopen(path, "r");
    EXPECT(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        EXPECTF(j && cJSON_GetObjectItem(j, "delta"), "line %d: %s", rows + 1, line);
        cJSON_Delete(j);
        rows++;
    }
    EXPECT(rows == 3);
    fclose(f);
    f = NULL;
    snprintf(path, sizeof path, "%s/events.log", run);
    f = fopen(path, "r");
    EXPECT(f);
    int thawed = 0, rate = 0;
    while (fgets(line, sizeof line, f)) {
        thawed |= strstr(line, "unfreeze stage3") != NULL;
        rate |= strstr(line, "lr head 0.005") != NULL;
    }
    EXPECT(thawed && rate);
    fclose(f);
    f = NULL;
    /* session.thaw replays the whole session to the same numbers. */
    snprintf(path, sizeof path, "%s/session.thaw", run);
    f = fopen(path, "r");
    EXPECT(f);
    open_app(&b);
    snprintf(b.run_dir, sizeof b.run_dir, "%s/replay", dir);
    int commands = 0;
    while (fgets(line, sizeof line, f)) {
        EXPECTF(app_exec(&b, line, &err) == THAW_OK, "%s: %s", line, err.msg);
        commands++;
    }
    EXPECT(commands > 3 && !strcmp(line, "train 1\n"));
    EXPECTF(b.final.test_acc == a.final.test_acc && b.final.val_loss == a.final.val_loss,
            "replay %.9g/%.9g vs %.9g/%.9g", b.final.test_acc, b.final.val_loss, a.final.test_acc,
            a.final.val_loss);
done:
    if (f)
        fclose(f);
    app_free(&a);
    app_free(&b);
}

/* config.thaw holds enough to replay the run: the same numbers again. */
void test_app_config_replays(void)
{
    app a, b;
    thaw_err err = {0};
    char dir[512];
    char *config = NULL;
    open_app(&a);
    open_app(&b);
    EXPECT(temp_dir(dir, sizeof dir));
    EXPECT(loaded(&a));
    EXPECT(app_exec(&a, "strategy feature-extraction", &err) == THAW_OK);
    EXPECT(app_exec(&a, "unfreeze stage3.conv2", &err) == THAW_OK);
    EXPECT(app_exec(&a, "lr stage3 0.02", &err) == THAW_OK);
    config = app_config_text(&a);
    EXPECT(config);
    snprintf(a.run_dir, sizeof a.run_dir, "%s/a", dir);
    EXPECT(app_exec(&a, "train 2", &err) == THAW_OK);
    for (char *save, *l = strtok_r(config, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        EXPECTF(app_exec(&b, l, &err) == THAW_OK, "%s: %s", l, err.msg);
    snprintf(b.run_dir, sizeof b.run_dir, "%s/b", dir);
    EXPECT(app_exec(&b, "train 2", &err) == THAW_OK);
    EXPECTF(a.final.val_loss == b.final.val_loss && a.final.test_acc == b.final.test_acc &&
            a.final.scratch_test_acc == b.final.scratch_test_acc,
            "%.9g/%.9g vs %.9g/%.9g", a.final.val_loss, a.final.test_acc, b.final.val_loss,
            b.final.test_acc);
done:
    free(config);
    app_free(&a);
    app_free(&b);
}

/* Intermediate-task transfer: a saved fine-tuned model names its parent,
 * how long it trained and its test accuracy, and is the source of the next
 * transfer. */
void test_app_saved_model_is_a_source(void)
{
    app a, b;
    thaw_err err = {0};
    char dir[512], file[600], line[700];
    open_app(&a);
    open_app(&b);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 2", &err) == THAW_OK && a.final.final);
    snprintf(file, sizeof file, "%s/tuned.json", dir);
    snprintf(line, sizeof line, "save %s", file);
    EXPECTF(app_exec(&a, line, &err) == THAW_OK, "%s", err.msg);
    snprintf(line, sizeof line, "load model %s", file);
    EXPECTF(app_exec(&b, line, &err) == THAW_OK, "%s", err.msg);
    EXPECT(!strcmp(b.source_meta.prov.finetuned_from, "shapes-resnet"));
    EXPECTF(b.source_meta.prov.epochs == 2, "epochs %d", b.source_meta.prov.epochs);
    EXPECTF(fabs(b.source_meta.prov.test_accuracy - a.final.test_acc) < 1e-6, "test accuracy %g, trained %g",
            b.source_meta.prov.test_accuracy, a.final.test_acc);
    EXPECT(b.source_meta.nclass == 4 && !strcmp(b.source_meta.class_name[0], a.task.name[0]));
    EXPECT(app_exec(&b, "load data shapes:classes=4-7,shots=4,val=4,n=20,test=8", &err) == THAW_OK);
    EXPECT(app_exec(&b, "set baseline off", &err) == THAW_OK);
    snprintf(b.run_dir, sizeof b.run_dir, "%s/next", dir);
    EXPECT(app_exec(&b, "train 1", &err) == THAW_OK && b.final.final);
done:
    app_free(&a);
    app_free(&b);
}

/* A relative path missing here is looked for under $THAW_HOME, then beside
 * the binary (the tests' binary sits in build/ beside libthaw.a). */
void test_app_paths_find(void)
{
    char dir[512], file[600], where[PATHS_MAX];
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(file, sizeof file, "%s/only-here.txt", dir);
    FILE *f = fopen(file, "w");
    EXPECT(f && fclose(f) == 0);
    setenv("THAW_HOME", dir, 1);
    const char *got = paths_find("only-here.txt", where, sizeof where);
    unsetenv("THAW_HOME");
    EXPECTF(!strcmp(got, file), "found %s", got);
    EXPECT(!strcmp(paths_find("only-here.txt", where, sizeof where), "only-here.txt"));
    EXPECT(!strcmp(paths_find(file, where, sizeof where), file));
    EXPECT(!strcmp(paths_find("Makefile", where, sizeof where), "Makefile"));   /* here first */
    got = paths_find("libthaw.a", where, sizeof where);
    EXPECTF(strstr(got, "/libthaw.a") && got == where, "found %s", got);
    remove(file);
    rmdir(dir);
done:;
}

/* Loading data again, after a run, replaces the task (the first one freed:
 * make asan checks for leaks) and starts a new plan for the new classes. */
void test_app_load_data_again(void)
{
    app a;
    thaw_err err = {0};
    char dir[512];
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 1", &err) == THAW_OK && a.sess);
    EXPECTF(app_exec(&a, "load data shapes:classes=2-7,shots=4,val=4,n=20,test=8", &err) == THAW_OK, "%s",
            err.msg);
    EXPECT(!a.sess && a.have_plan && a.have_data && a.task.nclass == 6);
    EXPECT(app_exec(&a, "load data shapes:classes=0-1,shots=4,val=4,n=20,test=8", &err) == THAW_OK);
    EXPECT(a.task.nclass == 2);
done:
    app_free(&a);
}

/* 1 when the slice named name holds the same floats in a and b. */
static int same_slice(model *a, model *b, const char *name)
{
    param_slice *x = model_slice(a, name), *y = model_slice(b, name);
    return x && y && x->len == y->len &&
           !memcmp(model_param(a, (int)(x - a->slice)), model_param(b, (int)(y - b->slice)),
                   x->len * sizeof(float));
}

/* The target's classes decide the head: the source's own classes, by name
 * and in order, keep its trained head; other classes get a fresh seeded one
 * even when their count is the source's (here eight shapes in another
 * order), while the body keeps the source's weights. */
void test_app_fresh_head_for_new_classes(void)
{
    app a;
    thaw_err err = {0};
    mf_meta meta;
    model file = {0};
    float *first = NULL;
    open_app(&a);
    EXPECTF(mf_load(&meta, &file, SHAPES_MODEL, NULL, &err) == THAW_OK, "%s", err.msg);
    EXPECT(app_exec(&a, "load model " SHAPES_MODEL, &err) == THAW_OK);
    EXPECTF(app_exec(&a, "load data shapes:classes=0-7,shots=4,val=4,n=20,test=8", &err) == THAW_OK, "%s",
            err.msg);
    EXPECT(same_slice(&a.plan, &file, "head.weight") && same_slice(&a.plan, &file, "head.bias"));
    EXPECT(app_exec(&a, "load data shapes:classes=1,0,2-7,shots=4,val=4,n=20,test=8", &err) == THAW_OK);
    EXPECT(a.task.nclass == 8 && !strcmp(a.meta.class_name[0], "triangle"));
    EXPECT(!same_slice(&a.plan, &file, "head.weight") && !same_slice(&a.plan, &file, "head.bias"));
    EXPECT(same_slice(&a.plan, &file, "stage3.conv2.weight") && same_slice(&a.plan, &file, "stem.0.weight"));
    param_slice *hw = model_slice(&a.plan, "head.weight");
    EXPECT(hw && (first = malloc(hw->len * sizeof(float))));
    memcpy(first, model_param(&a.plan, (int)(hw - a.plan.slice)), hw->len * sizeof(float));
    EXPECT(app_exec(&a, "load data shapes:classes=1,0,2-7,shots=4,val=4,n=20,test=8", &err) == THAW_OK);
    hw = model_slice(&a.plan, "head.weight");   /* the seed decides the fresh head */
    EXPECT(hw && !memcmp(first, model_param(&a.plan, (int)(hw - a.plan.slice)), hw->len * sizeof(float)));
done:
    free(first);
    if (file.root) {
        model_free(&file);
        mf_meta_free(&meta);
    }
    app_free(&a);
}

/* THAW_RUNS names the folder run folders go under (made when missing). */
void test_app_runs_folder_from_environment(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], root[600];
    open_app(&a);
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(root, sizeof root, "%s/class/runs", dir);
    setenv("THAW_RUNS", root, 1);
    EXPECT(loaded(&a));
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
    int rc = app_exec(&a, "eval", &err);
    unsetenv("THAW_RUNS");
    EXPECTF(rc == THAW_OK, "%s", err.msg);
    EXPECTF(!strncmp(runlog_dir(a.run), root, strlen(root)), "the run went to %s", runlog_dir(a.run));
done:
    app_free(&a);
}

/* Settings that shape the run itself are refused once it started. */
void test_app_set_after_start(void)
{
    app a;
    thaw_err err = {0};
    char dir[512];
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "eval", &err) == THAW_OK);
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_EINVAL && strstr(err.msg, "reset"));
    EXPECT(app_exec(&a, "set batch 4 momentum 0.5", &err) == THAW_OK);
    EXPECT(app_exec(&a, "reset", &err) == THAW_OK && !a.sess && a.have_plan);
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
done:
    app_free(&a);
}

/* thaw train --json's last line: one object with every figure. */
void test_app_json_summary(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], path[600], text[4096];
    FILE *f = NULL;
    cJSON *j = NULL;
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "train 2", &err) == THAW_OK);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    f = fopen(path, "w+");
    EXPECT(f);
    cli_print_json(f, &a);
    rewind(f);
    EXPECT(fgets(text, sizeof text, f));
    j = cJSON_Parse(text);
    EXPECT(j);
    static const char *const keys[] = { "transfer_val_acc_pct", "transfer_test_acc_pct", "scratch_val_acc_pct",
                                        "scratch_test_acc_pct", "delta_transfer_pts", "epochs",
                                        "epochs_to_95_transfer", "epochs_to_95_scratch", "img_s",
                                        "run" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        EXPECTF(cJSON_GetObjectItem(j, keys[i]), "no %s in %s", keys[i], text);
    EXPECT(cJSON_GetObjectItem(j, "epochs")->valuedouble == 2);
    EXPECT(fabs(cJSON_GetObjectItem(j, "delta_transfer_pts")->valuedouble - 100 * a.final.test_delta) < 1e-3);
    EXPECT(fabs(cJSON_GetObjectItem(j, "transfer_test_acc_pct")->valuedouble - 100 * a.final.test_acc) < 1e-3);
    EXPECT(cJSON_IsNull(cJSON_GetObjectItem(j, "source_acc_pct")) ||
           cJSON_IsNumber(cJSON_GetObjectItem(j, "source_acc_pct")));
done:
    cJSON_Delete(j);
    if (f)
        fclose(f);
    app_free(&a);
}

/* Lessons: narration, checks that say plainly when a run misbehaves,
 * quick mode, and instructor locks that bind the audience only. */
static void said(void *ctx, app_say_kind kind, const char *text)
{
    if (kind == APP_SAY)
        snprintf(ctx, 256, "%s", text);
}

/* show settings says the whole configuration in one piece, however long:
 * its last line is the head's rate. */
static void said_all(void *ctx, app_say_kind kind, const char *text)
{
    if (kind == APP_INFO)
        snprintf(ctx, 8192, "%s", text);
}

void test_app_show_settings_whole(void)
{
    app a;
    thaw_err err = {0};
    static char heard[8192];
    app_init(&a, &(app_out){ .ctx = heard, .say = said_all }, 1);
    EXPECT(loaded(&a));
    EXPECT(app_exec(&a, "show settings", &err) == THAW_OK);
    EXPECTF(strlen(heard) > 1024, "%zu bytes", strlen(heard));
    size_t n = strlen(heard);
    while (n > 0 && heard[n - 1] == '\n')
        heard[--n] = '\0';
    const char *last = strrchr(heard, '\n');
    EXPECTF(last && !strncmp(last + 1, "lr head ", 8), "ends with '%s'", last ? last + 1 : heard);
done:
    app_free(&a);
}

/* One evaluation's Δ below zero after a good run does not make the
 * smoothed Δ negative (seen: +30 at epoch 16, -21 at epoch 30); a run that
 * stays below zero does. */
void test_app_delta_smoothed(void)
{
    app a;
    memset(&a, 0, sizeof a);
    sess_eval h[3];
    memset(h, 0, sizeof h);
    h[0].delta = 0.30, h[1].delta = 0.28, h[2].delta = -0.21;
    a.history = h;
    a.nhistory = 0;
    EXPECT(isnan(cli_delta_smoothed(&a)));
    a.nhistory = 3;
    double s = cli_delta_smoothed(&a);
    EXPECTF(s > 0 && fabs(s - (0.6 * (0.6 * 0.30 + 0.4 * 0.28) + 0.4 * -0.21)) < 1e-12, "%g", s);
    h[0].delta = h[1].delta = -0.05;
    EXPECT(cli_delta_smoothed(&a) < 0);
done:
    return;
}

void test_app_lesson_commands(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], heard[256] = "";
    app_init(&a, &(app_out){ .ctx = heard, .say = said }, 1);
    EXPECT(temp_dir(dir, sizeof dir));
    EXPECT(app_exec(&a, "say Watch the \"head\" learn", &err) == THAW_OK);
    EXPECT(!strcmp(heard, "Watch the head learn"));
    /* A long unquoted narration (100 words) is one text; past the word limit
     * the message says to quote it. */
    char line[2048] = "say";
    for (int i = 0; i < 100; i++)
        strcat(line, " w");
    EXPECTF(app_exec(&a, line, &err) == THAW_OK, "%s", err.msg);
    EXPECT(strlen(heard) == 199 && !strncmp(heard, "w w w", 5));
    for (int i = 100; i < 300; i++)
        strcat(line, " w");
    EXPECT(app_exec(&a, line, &err) == THAW_EINVAL && strstr(err.msg, "quotes"));
    EXPECT(app_exec(&a, "pause-for-key", &err) == THAW_OK && !a.wait_key);   /* batch: no wait */
    EXPECT(loaded(&a));
    EXPECT(app_exec(&a, "expect val_acc > 0.5", &err) == THAW_EINVAL && strstr(err.msg, "not been measured"));
    snprintf(a.run_dir, sizeof a.run_dir, "%s/run", dir);
    EXPECT(app_exec(&a, "train 1", &err) == THAW_OK);
    EXPECT(app_exec(&a, "expect val_acc >= 0", &err) == THAW_OK);
    EXPECT(app_exec(&a, "expect test_acc > 1.5", &err) == THAW_EINVAL &&
           strstr(err.msg, "did not behave as the lesson expects") && strstr(err.msg, "test_acc"));
    EXPECT(app_exec(&a, "expect wisdom > 1", &err) == THAW_EINVAL && strstr(err.msg, "wisdom"));
    EXPECT(app_exec(&a, "expect val_acc ~ 1", &err) == THAW_EINVAL && strstr(err.msg, "operator"));
    setenv("THAW_QUICK", "0", 1);
    EXPECT(app_exec(&a, "if-quick set epochs 3", &err) == THAW_OK && a.set.epochs == 2);
    setenv("THAW_QUICK", "1", 1);
    EXPECT(app_exec(&a, "if-quick set epochs 3", &err) == THAW_OK && a.set.epochs == 3);
    unsetenv("THAW_QUICK");
done:
    app_free(&a);
}

void test_app_instructor_mode(void)
{
    app a;
    thaw_err err = {0};
    open_app(&a);
    EXPECT(loaded(&a));
    EXPECT(app_exec(&a, "lock freeze lr", &err) == THAW_OK && app_locked(&a, "freeze"));
    EXPECT(app_exec(&a, "freeze stem", &err) == THAW_EINVAL && strstr(err.msg, "locked"));
    EXPECT(app_exec_lesson(&a, "freeze stem", &err) == THAW_OK);     /* the lesson itself may */
    EXPECT(app_exec(&a, "unfreeze stem", &err) == THAW_OK);          /* not locked */
    EXPECT(app_exec(&a, "lock quit", &err) == THAW_EINVAL);
    EXPECT(app_exec(&a, "lock nonsense", &err) == THAW_EINVAL && strstr(err.msg, "nonsense"));
    EXPECT(app_exec(&a, "unlock all", &err) == THAW_OK && !app_locked(&a, "lr"));
    EXPECT(app_exec(&a, "hide delta lr-bar", &err) == THAW_OK);
    EXPECT(app_hidden(&a, APP_PART_DELTA) && app_hidden(&a, APP_PART_LRBAR) &&
           !app_hidden(&a, APP_PART_LOSS));
    EXPECT(app_exec(&a, "hide sidebar", &err) == THAW_EINVAL && strstr(err.msg, "sidebar"));
    EXPECT(app_exec(&a, "unhide all", &err) == THAW_OK && a.hidden == 0);
done:
    app_free(&a);
}

/* A rate of 1e9 diverges on the first step: caught there with finite
 * weights; in batch mode the train fails saying so (thaw train and thaw run
 * exit 1) and the run is stopped, its checkpoints finite, and every
 * metrics.jsonl line is JSON. */
void test_app_divergence(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], path[700], line[4096];
    FILE *f = NULL;
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "lr all 1e9", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 3", &err) == THAW_ENONFINITE);
    EXPECTF(strstr(err.msg, "diverged") && strstr(err.msg, "not finite"), "%s", err.msg);
    EXPECT(sess_state_now(a.sess) == SESS_IDLE && a.final.final);
    const model *m = app_model(&a);
    for (size_t i = 0; i < m->nfloat; i++)
        EXPECTF(isfinite(m->param[i]), "weight %zu is %g", i, (double)m->param[i]);
    static const char *const ckpt[] = { "last.json", "best.json" };
    for (int i = 0; i < 2; i++) {
        mf_meta meta;
        model back;
        snprintf(path, sizeof path, "%s/run/%s", dir, ckpt[i]);
        EXPECTF(mf_load(&meta, &back, path, NULL, &err) == THAW_OK, "%s", err.msg);
        mf_meta_free(&meta);
        model_free(&back);
    }
    snprintf(path, sizeof path, "%s/run/metrics.jsonl", dir);
    f = fopen(path, "r");
    EXPECT(f);
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        cJSON *j = cJSON_Parse(line);
        EXPECTF(j != NULL, "line %d: %s", rows + 1, line);
        cJSON_Delete(j);
        rows++;
    }
    EXPECT(rows >= 1);
done:
    if (f)
        fclose(f);
    app_free(&a);
}

/* thaw.1 documents every setting: each has a line of the manual that starts
 * with its name in bold (".B train\-bn on|off", ".BI epochs " N""). */
void test_app_manual_names_settings(void)
{
    FILE *f = fopen("thaw.1", "r");
    char line[1024];
    static char found[64];
    EXPECT(f != NULL);
    memset(found, 0, sizeof found);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, ".B", 2))
            continue;
        char word[128];
        size_t n = 0;
        const char *p = line + strcspn(line, " ");
        while (*p == ' ')
            p++;
        for (; *p && *p != ' ' && *p != '\n' && n < sizeof word - 1; p++)
            if (!(p[0] == '\\' && p[1] == '-'))
                word[n++] = *p;
        word[n] = '\0';
        for (int i = 0; app_setting_names[i] && i < 64; i++)
            if (!strcmp(word, app_setting_names[i]))
                found[i] = 1;
    }
    for (int i = 0; app_setting_names[i] && i < 64; i++)
        CHECKF(found[i], "thaw.1 does not name the setting %s", app_setting_names[i]);
done:
    if (f)
        fclose(f);
}

/* `expect` takes every column of metrics.csv, as the run log writes it. */
void test_app_expect_every_column(void)
{
    char dir[512], path[700], header[2048] = "";
    runlog *r = NULL;
    FILE *f = NULL;
    thaw_err err = {0};
    app a;
    open_app(&a);
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/run", dir);
    EXPECT(runlog_open(&r, path, NULL, NULL, NULL, &err) == THAW_OK);
    snprintf(path, sizeof path, "%s/run/metrics.csv", dir);
    EXPECT((f = fopen(path, "r")) != NULL && fgets(header, sizeof header, f));
    header[strcspn(header, "\n")] = '\0';
    int columns = 0;
    for (char *save, *col = strtok_r(header, ",", &save); col; col = strtok_r(NULL, ",", &save)) {
        char line[256];
        snprintf(line, sizeof line, "expect %s >= -1e30", col);
        int rc = app_exec(&a, line, &err);
        CHECKF(rc == THAW_OK || strstr(err.msg, "not been measured"), "%s: %s", line, err.msg);
        columns++;
    }
    EXPECT(columns == METRIC_COUNT);
    EXPECT(app_exec(&a, "expect wisdom > 1", &err) == THAW_EINVAL && strstr(err.msg, "test_delta"));
done:
    if (f)
        fclose(f);
    runlog_close(r);
    app_free(&a);
}

/* The settings as flags: --KEY VALUE, and --KEY / --no-KEY for on/off. */
void test_app_setting_flags(void)
{
    char *argv[] = { "train", "--epochs", "3", "--no-baseline", "--parallel", "--no-epochs", "--model",
                     "--early-stop", "4", "--lr" };
    int argc = (int)(sizeof argv / sizeof argv[0]), i = 1;
    const char *key = NULL, *value = NULL;
    app_settings s;
    thaw_err err = {0};
    app_settings_default(&s);
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 1 && i == 2 && !strcmp(key, "epochs") &&
           !strcmp(value, "3") && app_settings_set(&s, key, value, &err) == THAW_OK && s.epochs == 3);
    i = 3;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 1 && i == 3 && !strcmp(key, "baseline") &&
           !strcmp(value, "off") && app_settings_set(&s, key, value, &err) == THAW_OK && !s.sess.baseline);
    i = 4;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 1 && !strcmp(value, "on"));
    i = 5;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 0);      /* epochs is no on/off */
    i = 6;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 0);      /* not a setting */
    i = 7;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == 1 && i == 8 && !strcmp(key, "early-stop") &&
           app_settings_set(&s, key, value, &err) == THAW_OK && s.sess.patience == 4);
    i = 9;
    EXPECT(app_setting_flag(argc, argv, &i, &key, &value) == -1);     /* --lr without a value */
    EXPECT(app_settings_set(&s, "colour", "blue", &err) == THAW_EINVAL && strstr(err.msg, "cache-mb"));
    char usage[2048];
    app_setting_flags_usage(usage, sizeof usage, "  ", 60);
    for (int k = 0; app_setting_names[k]; k++)
        CHECKF(strstr(usage, app_setting_names[k]) != NULL, "usage leaves out %s", app_setting_names[k]);
    EXPECT(strstr(usage, "[--[no-]baseline]") && strstr(usage, "[--epochs N]"));
done:;
}

/* The lesson stepper: one line a step, a pause for the presenter, the
 * failing line's number, and nothing after it. */
void test_app_lesson_stepper(void)
{
    char dir[512], path[700];
    app a;
    app_lesson l = { 0 };
    thaw_err err = {0};
    FILE *f = NULL;
    app_init(&a, &(app_out){ .say = quiet }, 0);
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/lesson.thaw", dir);
    EXPECT((f = fopen(path, "w")) != NULL);
    fputs("set epochs 2\npause-for-key\n# a comment\nset batch 4\r\nbogus\nset epochs 5\n", f);
    fclose(f);
    f = NULL;
    EXPECT(app_lesson_open(&l, path, &err) == THAW_OK && l.nline == 6);
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_RAN && a.set.epochs == 2);
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_KEY && !a.wait_key);
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_RAN);
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_RAN && a.set.sess.batch == 4);
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_FAILED && l.next == 5 && strstr(err.msg, "bogus"));
    EXPECT(app_lesson_step(&l, &a, &err) == APP_LESSON_DONE && a.set.epochs == 2);
    app_lesson_close(&l);
    snprintf(path, sizeof path, "%s/missing.thaw", dir);
    EXPECT(app_lesson_open(&l, path, &err) == THAW_EIO && strstr(err.msg, "missing.thaw"));
done:
    app_lesson_close(&l);
    app_free(&a);
}

/* Every candidate app_complete gives for the word at the end of line,
 * joined by spaces. */
static void completions(const app *a, const char *line, char *out, size_t cap)
{
    int start = (int)strlen(line), iter = 0;
    while (start > 0 && line[start - 1] != ' ')
        start--;
    out[0] = '\0';
    for (const char *c; (c = app_complete(a, line, start, line + start, &iter));)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "", c);
}

void test_app_complete_partial_words(void)
{
    app a;
    char got[2048];
    open_app(&a);
    EXPECT(loaded(&a));
    static const char *const cases[][2] = {
        { "fre", "freeze" },
        { "  unf", "unfreeze" },
        { "strategy fe", "feature-extraction" },
        { "strategy ", "feature-extraction finetune gradual discriminative layer-decay freeze-bottom" },
        { "set epo", "epochs" },
        { "set epochs 3 ba", "batch baseline" },
        { "set epochs ", "" },
        { "load m", "model" },
        { "show c", "confusion" },
        { "lr-find a", "apply" },
        { "help lr", "lr lr-decay lr-find" },
        { "hide lr", "lr lr-bar" },
        { "expect test_", "test_acc test_delta" },
        { "freeze stage2.c", "stage2.conv1 stage2.conv2" },
        { "lr a", "all" },
        { "lr head 0.1 ", "" },
        { "frobnicate x", "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        completions(&a, cases[i][0], got, sizeof got);
        EXPECTF(!strcmp(got, cases[i][1]), "'%s' completes to '%s', expected '%s'", cases[i][0],
                got, cases[i][1]);
    }
    EXPECT(app_complete_file("save ", 5));
    EXPECT(app_complete_file("load model mo", 11));
    EXPECT(!app_complete_file("load data sh", 10));
    EXPECT(app_complete_file("export plots x", 13));
    EXPECT(!app_complete_file("freeze ", 7));
done:
    app_free(&a);
}

/* Outside batch mode the UI never waits long for the trainer: a save while
 * the trainer evaluates thousands of images returns within a second, saying
 * it will happen; a stop cuts the evaluation short, the save runs, and its
 * result arrives as a line like any other. */
static void keep_said(void *ctx, app_say_kind kind, const char *text)
{
    (void)kind;
    char *all = ctx;
    size_t n = strlen(all);
    snprintf(all + n, 4096 - n, "%s\n", text);
}

void test_app_save_does_not_wait_for_trainer(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], line[700], file[600];
    static char heard[4096];
    heard[0] = '\0';
    app_init(&a, &(app_out){ .ctx = heard, .say = keep_said }, 0);
    EXPECT(temp_dir(dir, sizeof dir));
    snprintf(a.run_dir, sizeof a.run_dir, "%s/run", dir);
    EXPECT(app_exec(&a, "load model " SHAPES_MODEL, &err) == THAW_OK);
    EXPECTF(app_exec(&a, "load data shapes:classes=0-3,shots=4,val=2000,n=2004,test=4", &err) == THAW_OK,
            "%s", err.msg);
    EXPECT(app_exec(&a, "eval", &err) == THAW_OK);
    snprintf(file, sizeof file, "%s/mid.json", dir);
    snprintf(line, sizeof line, "save %s", file);
    double t0 = thaw_now_s();
    EXPECTF(app_exec(&a, line, &err) == THAW_OK, "%s", err.msg);
    double took = thaw_now_s() - t0;
    EXPECTF(took < 1.0, "save waited %.2f s for the trainer", took);
    EXPECTF(strstr(heard, "once the trainer is free"), "%s", heard);
    EXPECT(app_exec(&a, "stop", &err) == THAW_OK);
    for (int i = 0; i < 100 && !strstr(heard, "saved "); i++)
        app_pump(&a, 100);
    EXPECTF(strstr(heard, "saved "), "%s", heard);
    mf_meta meta;
    model back;
    EXPECTF(mf_load(&meta, &back, file, NULL, &err) == THAW_OK, "%s", err.msg);
    mf_meta_free(&meta);
    model_free(&back);
done:
    app_free(&a);
}

/* A run whose best.json and loss.svg cannot be written (folders stand in
 * their place): every other save is still made (last.json loads), each
 * failure is said as a warning, and the summary lists what is missing. */
static void keep_warned(void *ctx, app_say_kind kind, const char *text)
{
    if (kind == APP_WARN)
        keep_said(ctx, kind, text);
}

void test_app_failed_saves_reported(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], path[700], text[4096];
    static char heard[4096];
    FILE *f = NULL;
    cJSON *j = NULL;
    heard[0] = '\0';
    app_init(&a, &(app_out){ .ctx = heard, .say = keep_warned }, 1);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    snprintf(path, sizeof path, "%s/run", dir);
    EXPECT(mkdir(path, 0755) == 0);
    snprintf(path, sizeof path, "%s/run/best.json", dir);
    EXPECT(mkdir(path, 0755) == 0);
    snprintf(path, sizeof path, "%s/run/loss.svg", dir);
    EXPECT(mkdir(path, 0755) == 0);
    EXPECT(app_exec(&a, "train 1", &err) == THAW_OK);
    EXPECTF(strstr(heard, "not saved") && strstr(heard, "best.json") && strstr(heard, "loss.svg"),
            "%s", heard);
    mf_meta meta;
    model back;
    snprintf(path, sizeof path, "%s/run/last.json", dir);
    EXPECTF(mf_load(&meta, &back, path, NULL, &err) == THAW_OK, "%s", err.msg);
    mf_meta_free(&meta);
    model_free(&back);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    f = fopen(path, "w+");
    EXPECT(f);
    cli_print_json(f, &a);
    rewind(f);
    EXPECT(fgets(text, sizeof text, f));
    j = cJSON_Parse(text);
    EXPECTF(j, "%s", text);
    cJSON *missing = cJSON_GetObjectItem(j, "not_written");
    EXPECTF(cJSON_IsArray(missing) && cJSON_GetArraySize(missing) == 2 &&
            !strcmp(cJSON_GetArrayItem(missing, 0)->valuestring, "best.json") &&
            !strcmp(cJSON_GetArrayItem(missing, 1)->valuestring, "plots"), "%s", text);
done:
    cJSON_Delete(j);
    if (f)
        fclose(f);
    app_free(&a);
}

/* A change typed while a run trains is recorded with the step it took
 * effect at (`at STEP freeze stage1`), and a replay of session.thaw applies
 * it at that step: the same final numbers, the same metrics but for time. */
static int metrics_without_time(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        int col = 0;
        for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n"), col++)
            if ((col < 2 || col > 4) && n < cap)   /* wall, img_s, train_s */
                n += (size_t)snprintf(out + n, cap - n, "%s,", tok);
        if (n < cap)
            out[n++] = '\n';
    }
    fclose(f);
    if (n >= cap)
        return 0;
    out[n] = '\0';
    return 1;
}

void test_app_replay_mid_run_changes(void)
{
    app a, b;
    thaw_err err = {0};
    char dir[512], path[700], line[512];
    static char m1[65536], m2[65536];
    memset(&b, 0, sizeof b);
    app_init(&a, &(app_out){ .say = quiet }, 0);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 3", &err) == THAW_OK);
    usleep(20000);
    EXPECT(app_exec(&a, "pause", &err) == THAW_OK && sess_wait_ms(a.sess, 20000));
    EXPECT(app_exec(&a, "freeze stage1", &err) == THAW_OK);
    EXPECT(app_exec(&a, "lr head 0.02", &err) == THAW_OK);
    EXPECT(app_exec(&a, "resume", &err) == THAW_OK);
    EXPECT(sess_wait_ms(a.sess, 20000));
    while (app_pump(&a, 0))
        ;
    snprintf(path, sizeof path, "%s/run/session.thaw", dir);
    FILE *f = fopen(path, "r");
    EXPECT(f);
    int at_freeze = 0, at_lr = 0, bare = 0;
    while (fgets(line, sizeof line, f)) {
        long st;
        at_freeze |= sscanf(line, "at %ld freeze stage1", &st) == 1;
        at_lr |= sscanf(line, "at %ld lr head 0.02", &st) == 1;
        bare |= !strcmp(line, "freeze stage1\n") || !strcmp(line, "lr head 0.02\n");
    }
    fclose(f);
    EXPECTF(at_freeze && at_lr && !bare, "freeze %d lr %d bare %d", at_freeze, at_lr, bare);
    app_lesson l;
    EXPECTF(app_lesson_open(&l, path, &err) == THAW_OK, "%s", err.msg);
    open_app(&b);
    snprintf(b.run_dir, sizeof b.run_dir, "%s/replay", dir);
    app_lesson_state st;
    while ((st = app_lesson_step(&l, &b, &err)) == APP_LESSON_RAN)
        ;
    app_lesson_close(&l);
    EXPECTF(st == APP_LESSON_DONE, "%s", err.msg);
    EXPECTF(b.final.val_loss == a.final.val_loss && b.final.test_acc == a.final.test_acc,
            "replay %.9g/%.9g vs %.9g/%.9g", b.final.val_loss, b.final.test_acc, a.final.val_loss,
            a.final.test_acc);
    snprintf(path, sizeof path, "%s/run/metrics.csv", dir);
    EXPECT(metrics_without_time(path, m1, sizeof m1));
    snprintf(path, sizeof path, "%s/replay/metrics.csv", dir);
    EXPECT(metrics_without_time(path, m2, sizeof m2));
    EXPECT(!strcmp(m1, m2));
done:
    app_free(&a);
    app_free(&b);
}

/* load model, load data and reset while a run trains (or is paused) are
 * refused with "stop first"; after stop the run folder is complete and they
 * work. */
void test_app_load_while_training_refused(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], path[700];
    app_init(&a, &(app_out){ .say = quiet }, 0);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "train 1000", &err) == THAW_OK);
    static const char *const lines[] = { "load data " SHAPES_DATA, "load model " SHAPES_MODEL, "reset" };
    for (int i = 0; i < 3; i++) {
        EXPECTF(app_exec(&a, lines[i], &err) == THAW_EINVAL && strstr(err.msg, "stop first"),
                "%s: %s", lines[i], err.msg);
        if (i == 1)
            EXPECT(app_exec(&a, "pause", &err) == THAW_OK && sess_wait_ms(a.sess, 5000));
    }
    EXPECT(app_exec(&a, "stop", &err) == THAW_OK);
    EXPECT(sess_wait_ms(a.sess, 5000));
    app_pump(&a, 0);
    snprintf(path, sizeof path, "%s/run/last.json", dir);
    EXPECT(access(path, F_OK) == 0);
    EXPECTF(app_exec(&a, "load data " SHAPES_DATA, &err) == THAW_OK, "%s", err.msg);
done:
    app_free(&a);
}

/* set memory-mb bounds a run: train refuses, naming both figures, and
 * nothing is left running; the default is a share of the machine's memory. */
void test_app_memory_limit(void)
{
    app a;
    thaw_err err = {0};
    char dir[512];
    open_app(&a);
    EXPECT(a.set.sess.memory_bytes >= (size_t)64 << 20);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "set memory-mb 1", &err) == THAW_OK);
    EXPECT(app_exec(&a, "train 1", &err) == THAW_EINVAL);
    EXPECTF(strstr(err.msg, "needs") && strstr(err.msg, "the memory limit is 1 MiB"), "%s", err.msg);
    EXPECT(!a.sess);
    EXPECT(app_exec(&a, "set memory-mb 0 batch 4096", &err) == THAW_OK);
    EXPECTF(app_exec(&a, "train 1", &err) == THAW_OK, "%s", err.msg);
done:
    app_free(&a);
}

/* Command files and piped prompts read whole lines: one longer than the
 * limit is refused whole (its tail never runs as a command), a NUL byte is
 * named as such, and the lines around them read normally. */
void test_app_read_whole_lines(void)
{
    static char text[12000];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof text - n, "help\n#");
    memset(text + n, 'x', 9000);
    n += 9000;
    n += (size_t)snprintf(text + n, sizeof text - n, " save split.json\nsay a");
    text[n++] = '\0';
    n += (size_t)snprintf(text + n, sizeof text - n, "b\nquit\n");
    FILE *f = fmemopen(text, n, "r");
    char *line = NULL;
    size_t cap = 0;
    thaw_err err = {0};
    EXPECT(f);
    EXPECT(app_read_line(f, &line, &cap, &err) == 1 && !strcmp(line, "help"));
    EXPECT(app_read_line(f, &line, &cap, &err) == -1 && strstr(err.msg, "longer than 8190"));
    EXPECT(app_read_line(f, &line, &cap, &err) == -1 && strstr(err.msg, "NUL byte (at character 6)"));
    EXPECT(app_read_line(f, &line, &cap, &err) == 1 && !strcmp(line, "quit"));
    EXPECT(app_read_line(f, &line, &cap, &err) == 0);
done:
    free(line);
    if (f)
        fclose(f);
}

/* A folder given as a command file is refused, not run as nothing. */
void test_app_lesson_folder_refused(void)
{
    app_lesson l;
    thaw_err err = {0};
    CHECK(app_lesson_open(&l, "tests", &err) == THAW_EIO);
    CHECKF(strstr(err.msg, "is a folder"), "%s", err.msg);
}

/* A save is done when it returns, even while the trainer still finishes
 * the command that made it: loading the saved model at once is not taken
 * for loading during training (lesson 6 does this). */
void test_app_load_right_after_save(void)
{
    app a;
    thaw_err err = {0};
    char dir[512], line[700];
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECT(app_exec(&a, "set baseline off", &err) == THAW_OK);
    for (int i = 0; i < 2; i++) {
        snprintf(a.run_dir, sizeof a.run_dir, "%s/run%d", dir, i);
        EXPECT(app_exec(&a, "train 1", &err) == THAW_OK);
        snprintf(line, sizeof line, "save %s/m%d.json", dir, i);
        EXPECTF(app_exec(&a, line, &err) == THAW_OK, "%s", err.msg);
        EXPECTF(app_exec(&a, "load data " SHAPES_DATA, &err) == THAW_OK, "round %d: %s", i, err.msg);
    }
done:
    app_free(&a);
}

/* The source images adaptation trains on: classes other than the
 * target's are refused naming both, and a spec that does not load is named. */
void test_app_source_domain(void)
{
    static const struct { const char *source, *says; } bad[] = {
        { "shapes:classes=4-7,shots=5,val=0,n=20", "are not the target's" },
        { "nowhere:shots=5", "source nowhere:shots=5" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        app a;
        thaw_err err = {0};
        char dir[512], line[256];
        open_app(&a);
        EXPECT(loaded_with_run(&a, dir, sizeof dir));
        snprintf(line, sizeof line, "set source %s", bad[k].source);
        EXPECTF(app_exec(&a, line, &err) == THAW_OK && app_exec(&a, "set adapt mmd", &err) == THAW_OK,
                "%s", err.msg);
        EXPECTF(app_exec(&a, "train 1", &err) != THAW_OK && strstr(err.msg, bad[k].says), "%s: %s",
                bad[k].source, err.msg);
    done:
        app_free(&a);
        if (test_has_failed())
            return;
    }
}

/* The model's own data set, when its classes are not the target's, is
 * refused as a source; a source of the target's classes trains (the epoch
 * counts its images) and cannot change once the session runs. */
void test_app_source_domain_trains(void)
{
    app a;
    thaw_err err = {0};
    char dir[512];
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    /* shapes-resnet's own data set has eight classes, the target four */
    EXPECTF(app_exec(&a, "set adapt source-only", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(app_exec(&a, "train 1", &err) != THAW_OK && strstr(err.msg, "are not the target's"), "%s",
            err.msg);
    app_free(&a);
    open_app(&a);
    EXPECT(loaded_with_run(&a, dir, sizeof dir));
    EXPECTF(app_exec(&a, "set source shapes:classes=0-3,shots=10,val=0,n=20", &err) == THAW_OK &&
            app_exec(&a, "set adapt source-only", &err) == THAW_OK && app_exec(&a, "train 1", &err) == THAW_OK,
            "%s", err.msg);
    EXPECTF(a.domain_n == 40 && a.final.step == 5, "%d source images, %ld steps", a.domain_n, a.final.step);
    EXPECTF(app_exec(&a, "set source shapes:classes=0-3", &err) == THAW_EINVAL && strstr(err.msg, "first train"),
            "%s", err.msg);
done:
    app_free(&a);
}
