/* test_runlog.c — the run folder (names, refusing to overwrite, metrics
 * files, event log, command script, checkpoints, plots) and the SVG plot
 * writer (ticks, C-locale numbers, NaN gaps, markers, the zero line, a
 * golden file). Set THAW_UPDATE_GOLDEN=1 to rewrite the golden SVG after an
 * intended change, then look at it before committing it. */
#include <cJSON.h>
#include <ftw.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "overlay.h"
#include "metrics.h"
#include "modelfile.h"
#include "runlog.h"
#include "svg.h"
#include "test.h"

#define GOLDEN_PLOTS "tests/data/golden/plots_small.svg"

static const char *const columns[] = {
    "epoch", "step", "wall", "img_s", "train_s", "lr", "scratch_lr", "train_loss", "train_acc", "val_loss",
    "val_acc", "test_acc", "scratch_train_loss", "scratch_train_acc", "scratch_val_loss",
    "scratch_val_acc", "scratch_test_acc", "delta", "test_delta", "source_acc", "final", "best",
    "pseudo_n", "pseudo_acc", "align_loss", "domain_gap",
};
enum { NCOLUMNS = sizeof columns / sizeof columns[0] };

static int temp_dir(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, cap, "%s/thaw-runlog-XXXXXX", tmp);
    return mkdtemp(dir) != NULL;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The file DIR/NAME as a fresh string, or NULL. */
static char *slurp(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
    char *buf;
    size_t len;
    thaw_err err = { 0 };
    return fio_read(path, 1 << 24, &buf, &len, &err) == THAW_OK ? buf : NULL;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* An evaluation with every value measured (NaN where the caller says). */
static sess_eval row(int epoch, long step, double loss, double acc, double scratch_acc)
{
    return (sess_eval){
        .epoch = epoch, .step = step, .wall = step * 0.01, .img_s = 1600, .train_s = step * 0.0075,
        .lr = 0.01, .scratch_lr = 0.01,
        .train_loss = loss, .train_acc = acc - 0.02, .val_loss = loss + 0.1, .val_acc = acc,
        .test_acc = NAN, .scratch_train_loss = loss + 0.5, .scratch_train_acc = scratch_acc - 0.02,
        .scratch_val_loss = loss + 0.6, .scratch_val_acc = scratch_acc, .scratch_test_acc = NAN,
        .delta = acc - scratch_acc, .test_delta = NAN, .source_acc = NAN,
    };
}

static int is_digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

void test_runlog_named_folders(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *a = NULL, *b = NULL, *c = NULL;
    thaw_err err = { 0 };
    char *config = NULL, *header = NULL, *script = NULL, *jsonl = NULL, *events = NULL;
    /* Three runs in one second; retried, under a folder of its own (so no
     * name is taken by an earlier try), if the clock ticks in between. */
    int same = 0;
    char under[320];
    for (int attempt = 0; attempt < 5 && !same; attempt++) {
        runlog_close(a);
        runlog_close(b);
        runlog_close(c);
        a = b = c = NULL;
        snprintf(under, sizeof under, "%s/try%d", root, attempt);
        EXPECTF(runlog_open(&a, NULL, under, "my run/1", "set epochs 3\n", &err) == THAW_OK, "%s", err.msg);
        EXPECTF(runlog_open(&b, NULL, under, "my run/1", "", &err) == THAW_OK, "%s", err.msg);
        EXPECTF(runlog_open(&c, NULL, under, "my run/1", NULL, &err) == THAW_OK, "%s", err.msg);
        same = !strncmp(runlog_dir(a), runlog_dir(c), strlen(runlog_dir(a)));
    }
    EXPECT(same);
    const char *name = runlog_dir(a) + strlen(under);
    /* /YYYYMMDD-HHMMSS-my_run_1 */
    EXPECTF(strlen(name) == 25 && name[0] == '/' && is_digits(name + 1, 8) && name[9] == '-' &&
            is_digits(name + 10, 6) && !strcmp(name + 16, "-my_run_1"), "%s", runlog_dir(a));
    char want[512];
    snprintf(want, sizeof want, "%s-2", runlog_dir(a));
    EXPECTF(!strcmp(runlog_dir(b), want), "%s", runlog_dir(b));
    snprintf(want, sizeof want, "%s-3", runlog_dir(a));
    EXPECTF(!strcmp(runlog_dir(c), want), "%s", runlog_dir(c));

    config = slurp(runlog_dir(a), "config.thaw");
    header = slurp(runlog_dir(a), "metrics.csv");
    script = slurp(runlog_dir(a), "session.thaw");
    jsonl = slurp(runlog_dir(a), "metrics.jsonl");
    events = slurp(runlog_dir(a), "events.log");
    EXPECT(config && !strcmp(config, "set epochs 3\n"));
    EXPECT(header && !strncmp(header, "epoch,step,", 11));
    EXPECT(script && !*script && jsonl && !*jsonl && events && !*events);
    free(config);
    config = slurp(runlog_dir(c), "config.thaw");
    EXPECT(config && !*config);
done:
    free(config);
    free(header);
    free(script);
    free(jsonl);
    free(events);
    runlog_close(a);
    runlog_close(b);
    runlog_close(c);
    remove_tree(root);
}

/* metrics.csv says its units beside it, in W3C CSV on the Web metadata:
 * every column in the header's order, accuracies and delta fractions of 1. */
void test_runlog_csv_metadata(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *meta = NULL, *header = NULL;
    cJSON *doc = NULL;
    for (int i = 0; i < METRIC_COUNT; i++)
        EXPECTF(metric_unit(i) && *metric_unit(i), "%s has no unit in metrics.c", metric_fields[i].name);
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    meta = slurp(root, "metrics.csv-metadata.json");
    header = slurp(root, "metrics.csv");
    EXPECTF(meta && (doc = cJSON_Parse(meta)), "metrics.csv-metadata.json is\n%s", meta ? meta : "(none)");
    EXPECT(header);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(doc, "url");
    EXPECT(cJSON_IsString(url) && !strcmp(url->valuestring, "metrics.csv"));
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "tableSchema"),
                                                         "columns");
    EXPECT(cJSON_IsArray(cols));
    int n = 0;
    const char *at = header;
    const cJSON *col;
    cJSON_ArrayForEach(col, cols) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(col, "name");
        const cJSON *says = cJSON_GetObjectItemCaseSensitive(col, "dc:description");
        EXPECTF(cJSON_IsString(name) && cJSON_IsString(says) && *says->valuestring, "column %d", n);
        size_t len = strlen(name->valuestring);
        EXPECTF(!strncmp(at, name->valuestring, len) && (at[len] == ',' || at[len] == '\n'),
                "column %d is %s, the header has %s", n, name->valuestring, at);
        at += len + 1;
        const char *want = !strcmp(name->valuestring, "val_acc") || !strcmp(name->valuestring, "source_acc")
                               ? "a fraction of 1"
                           : !strcmp(name->valuestring, "delta") ? "+13.8 points"
                           : !strcmp(name->valuestring, "wall")  ? "seconds"
                                                                 : "";
        EXPECTF(strstr(says->valuestring, want), "%s: %s", name->valuestring, says->valuestring);
        n++;
    }
    EXPECTF(!*at, "the header has more columns than the metadata: %s", at);
    EXPECT(n > 20);
done:
    cJSON_Delete(doc);
    free(meta);
    free(header);
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_default_label(void)
{
    char root[256], sub[300];
    CHECK(temp_dir(root, sizeof root));
    snprintf(sub, sizeof sub, "%s/deeper/runs/", root);
    runlog *r = NULL;
    thaw_err err = { 0 };
    EXPECTF(runlog_open(&r, NULL, sub, NULL, "", &err) == THAW_OK, "%s", err.msg);
    const char *dir = runlog_dir(r);
    EXPECTF(!strncmp(dir, sub, strlen(sub)) && strlen(dir) == strlen(sub) + 19 &&
            !strcmp(dir + strlen(dir) - 4, "-run"), "%s", dir);
done:
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_refuses_previous_run(void)
{
    char root[256], dir[300], file[300];
    CHECK(temp_dir(root, sizeof root));
    snprintf(dir, sizeof dir, "%s/a/b/mine", root);
    snprintf(file, sizeof file, "%s/plain", root);
    runlog *r = NULL;
    thaw_err err = { 0 }, again = { 0 }, onfile = { 0 };
    char *config = NULL;
    EXPECTF(runlog_open(&r, dir, NULL, NULL, "first\n", &err) == THAW_OK, "%s", err.msg);
    EXPECT(!strcmp(runlog_dir(r), dir));
    runlog_close(r);
    r = NULL;
    EXPECT(runlog_open(&r, dir, NULL, NULL, "second\n", &again) == THAW_EINVAL && r == NULL);
    EXPECTF(strstr(again.msg, dir) && strstr(again.msg, "config.thaw"), "%s", again.msg);
    config = slurp(dir, "config.thaw");
    EXPECT(config && !strcmp(config, "first\n"));
    FILE *f = fopen(file, "w");
    EXPECT(f);
    fclose(f);
    EXPECT(runlog_open(&r, file, NULL, NULL, "", &onfile) != THAW_OK && r == NULL);
    EXPECTF(strstr(onfile.msg, file), "%s", onfile.msg);
done:
    free(config);
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_metrics_files(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *csv = NULL, *jsonl = NULL, *expected = NULL;
    cJSON *obj = NULL;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    sess_eval e = row(1, 40, 0.5, 0.75, 0.5);
    e.final = 1;
    e.test_acc = 0.1;
    EXPECTF(runlog_eval(r, &e, &err) == THAW_OK, "%s", err.msg);
    sess_eval gap = row(2, 80, NAN, 0.8, NAN);
    gap.img_s = INFINITY;
    gap.best = 1;
    EXPECTF(runlog_eval(r, &gap, &err) == THAW_OK, "%s", err.msg);

    csv = slurp(root, "metrics.csv");
    EXPECT(csv);
    const char *want =
        "epoch,step,wall,img_s,train_s,lr,scratch_lr,train_loss,train_acc,val_loss,val_acc,test_acc,"
        "scratch_train_loss,scratch_train_acc,scratch_val_loss,scratch_val_acc,scratch_test_acc,"
        "delta,test_delta,source_acc,final,best,pseudo_n,pseudo_acc,align_loss,domain_gap\n"
        "1,40,0.4,1600,0.3,0.01,0.01,0.5,0.73,0.6,0.75,0.1,1,0.48,1.1,0.5,,0.25,,,1,0,0,0,0,0\n"
        "2,80,0.8,,0.6,0.01,0.01,,0.78,,0.8,,,,,,,,,,0,1,0,0,0,0\n";
    EXPECTF(!strcmp(csv, want), "metrics.csv is\n%s", csv);

    jsonl = slurp(root, "metrics.jsonl");
    EXPECT(jsonl);
    int lines = 0;
    for (char *line = jsonl, *end; *line; line = end + 1, lines++) {
        end = strchr(line, '\n');
        EXPECT(end);
        *end = '\0';
        obj = cJSON_Parse(line);
        EXPECTF(cJSON_IsObject(obj), "line %d does not parse: %s", lines + 1, line);
        EXPECT(cJSON_GetArraySize(obj) == NCOLUMNS);
        for (int k = 0; k < NCOLUMNS; k++) {
            cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, columns[k]);
            EXPECTF(cJSON_IsNumber(v) || cJSON_IsNull(v), "line %d: %s", lines + 1, columns[k]);
        }
        const sess_eval *src = lines == 0 ? &e : &gap;
        EXPECT(cJSON_GetObjectItemCaseSensitive(obj, "step")->valuedouble == (double)src->step);
        EXPECT(cJSON_GetObjectItemCaseSensitive(obj, "val_acc")->valuedouble == src->val_acc);
        EXPECT(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "source_acc")));
        EXPECT(lines == 0 || (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "train_loss")) &&
                              cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, "img_s"))));
        cJSON_Delete(obj);
        obj = NULL;
    }
    EXPECT(lines == 2);

    /* The export holds the same text as the live file. */
    char path[300];
    snprintf(path, sizeof path, "%s/export.csv", root);
    EXPECTF(runlog_export_metrics(r, path, &err) == THAW_OK, "%s", err.msg);
    expected = slurp(path, NULL);
    EXPECT(expected && !strcmp(expected, want));
done:
    cJSON_Delete(obj);
    free(csv);
    free(jsonl);
    free(expected);
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_header_is_the_struct(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *csv = NULL;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    csv = slurp(root, "metrics.csv");
    EXPECT(csv);
    char want[1024] = "";
    for (int k = 0; k < NCOLUMNS; k++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", k ? "," : "", columns[k]);
    strcat(want, "\n");
    EXPECTF(!strcmp(csv, want), "%s", csv);
done:
    free(csv);
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_events_and_commands(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 }, bad = { 0 };
    char *events = NULL, *script = NULL;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    sess_event ev[] = {
        { .kind = SEV_STEP, .step = 1, .value = 2.3 },
        { .kind = SEV_STATE, .step = 0, .epoch = 0, .state = SESS_RUNNING, .text = "train 3" },
        { .kind = SEV_CHANGE, .step = 120, .epoch = 2, .text = "unfreeze stage3" },
        { .kind = SEV_EVAL, .step = 150 },
        { .kind = SEV_LRFIND, .step = 150, .count = 4, .value = 1e-3 },
        { .kind = SEV_LRFIND, .step = 150, .epoch = 3, .count = -1, .value = 0.003 },
        { .kind = SEV_NONFINITE, .step = 151, .epoch = 3, .text = "head.weight\nis NaN" },
        { .kind = SEV_ERROR, .step = 151, .epoch = 3, .text = "disk full" },
        { .kind = SEV_STATE, .step = 151, .epoch = 3, .state = SESS_PAUSED },
    };
    for (size_t i = 0; i < sizeof ev / sizeof ev[0]; i++)
        EXPECTF(runlog_event(r, &ev[i], &err) == THAW_OK, "%s", err.msg);
    events = slurp(root, "events.log");
    const char *want = "step 0 epoch 0 state running train 3\n"
                       "step 120 epoch 2 change unfreeze stage3\n"
                       "step 150 epoch 3 lrfind suggested rate 0.003\n"
                       "step 151 epoch 3 nonfinite head.weight is NaN\n"
                       "step 151 epoch 3 error disk full\n"
                       "step 151 epoch 3 state paused\n";
    EXPECTF(events && !strcmp(events, want), "events.log is\n%s", events ? events : "(missing)");

    EXPECT(runlog_command(r, "load model models/fashion-resnet.json", &err) == THAW_OK);
    EXPECT(runlog_command(r, "freeze all\n", &err) == THAW_OK);
    EXPECT(runlog_command(r, "train 3", &err) == THAW_OK);
    EXPECT(runlog_command(r, "lr head 1e-2\nstop", &bad) == THAW_EINVAL);
    EXPECTF(strstr(bad.msg, "session.thaw"), "%s", bad.msg);
    script = slurp(root, "session.thaw");
    EXPECT(script && !strcmp(script, "load model models/fashion-resnet.json\nfreeze all\ntrain 3\n"));
done:
    free(events);
    free(script);
    runlog_close(r);
    remove_tree(root);
}

void test_runlog_checkpoint_round_trip(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 }, bad = { 0 };
    mf_meta meta = { 0 }, back_meta = { 0 };
    model m = { 0 }, back = { 0 };
    int built = 0, loaded = 0;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(mf_meta_reference(&meta, (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(mf_build(&m, &meta, 7, &err) == THAW_OK, "%s", err.msg);
    built = 1;
    EXPECTF(runlog_checkpoint(r, "best", &meta, &m, &err) == THAW_OK, "%s", err.msg);
    EXPECT(runlog_checkpoint(r, "../escape", &meta, &m, &bad) == THAW_EINVAL);
    char path[300];
    snprintf(path, sizeof path, "%s/best.json", root);
    EXPECTF(mf_load(&back_meta, &back, path, NULL, &err) == THAW_OK, "%s", err.msg);
    loaded = 1;
    snprintf(path, sizeof path, "%s/best.safetensors", root);
    EXPECT(access(path, F_OK) == 0);
    EXPECT(back.nslice == m.nslice && back.nfloat == m.nfloat);
    for (int s = 0; s < m.nslice; s++)
        EXPECTF(!strcmp(back.slice[s].name, m.slice[s].name) &&
                !memcmp(model_param(&back, s), model_param(&m, s), m.slice[s].len * sizeof(float)),
                "%s differs", m.slice[s].name);
done:
    if (loaded) {
        mf_meta_free(&back_meta);
        model_free(&back);
    }
    if (built)
        model_free(&m);
    mf_meta_free(&meta);
    runlog_close(r);
    remove_tree(root);
}

/* A checkpoint or plot write that fails is recorded by file; a later good
 * write of the same file clears it, and each save stands alone (a failed
 * best does not stop last). A folder in place of best.json makes the
 * fault, as root too. */
void test_runlog_records_failures(void)
{
    char root[256], path[300], files[256], why[512];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    mf_meta meta = { 0 };
    model m = { 0 };
    int built = 0;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(mf_meta_reference(&meta, (shape3){ 1, 8, 8 }, 3, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(mf_build(&m, &meta, 7, &err) == THAW_OK, "%s", err.msg);
    built = 1;
    EXPECT(runlog_failures(r, files, sizeof files, why, sizeof why) == 0 && !files[0]);
    snprintf(path, sizeof path, "%s/best.json", root);
    EXPECT(mkdir(path, 0755) == 0);
    EXPECT(runlog_checkpoint(r, "best", &meta, &m, &err) != THAW_OK);
    EXPECT(runlog_checkpoint(r, "last", &meta, &m, &err) == THAW_OK);
    EXPECT(runlog_failures(r, files, sizeof files, why, sizeof why) == 1);
    EXPECTF(!strcmp(files, "best.json") && strstr(why, "best.json"), "%s: %s", files, why);
    EXPECT(rmdir(path) == 0);
    EXPECT(runlog_checkpoint(r, "best", &meta, &m, &err) == THAW_OK);
    EXPECT(runlog_failures(r, files, sizeof files, NULL, 0) == 1 && !files[0]);
done:
    if (built)
        model_free(&m);
    mf_meta_free(&meta);
    runlog_close(r);
    remove_tree(root);
}

/* A small fixed run: five evaluations, a gap in the validation loss, a
 * thaw at step 120, test points at the end, an early negative Δ. */
static int small_run(runlog *r, thaw_err *err)
{
    sess_eval e[] = {
        row(1, 50, 1.20, 0.38, 0.42),
        row(2, 100, 0.90, 0.55, 0.47),
        row(3, 150, 0.70, 0.66, 0.52),
        row(4, 200, 0.55, 0.72, 0.58),
        row(5, 250, 0.48, 0.78, 0.60),
    };
    e[2].val_loss = NAN;
    e[4].final = 1;
    e[4].test_acc = 0.76;
    e[4].scratch_test_acc = 0.57;
    e[4].test_delta = 0.19;
    sess_event ev = { .kind = SEV_CHANGE, .step = 120, .epoch = 2, .text = "unfreeze stage3 & <lr> \"x\" 'y'" };
    int rc = runlog_eval(r, &e[0], err) || runlog_eval(r, &e[1], err) || runlog_event(r, &ev, err);
    for (int i = 2; !rc && i < 5; i++)
        rc = runlog_eval(r, &e[i], err);
    return rc;
}

void test_runlog_plots_golden(void)
{
    char root[256], path[300];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *got = NULL, *golden = NULL, *loss = NULL, *acc = NULL, *delta = NULL;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(small_run(r, &err) == THAW_OK, "%s", err.msg);
    snprintf(path, sizeof path, "%s/all.svg", root);
    EXPECTF(runlog_export_plots(r, path, &err) == THAW_OK, "%s", err.msg);
    got = slurp(path, NULL);
    EXPECT(got);
    const char *update = getenv("THAW_UPDATE_GOLDEN");
    if (update && !strcmp(update, "1")) {
        FILE *f = fopen(GOLDEN_PLOTS, "w");
        EXPECTF(f && fputs(got, f) >= 0 && fclose(f) == 0, "cannot write %s", GOLDEN_PLOTS);
    }
    golden = slurp(GOLDEN_PLOTS, NULL);
    EXPECTF(golden, "%s is missing (THAW_UPDATE_GOLDEN=1 writes it)", GOLDEN_PLOTS);
    EXPECTF(!strcmp(got, golden), "%s differs from %s (THAW_UPDATE_GOLDEN=1 rewrites it)", path,
            GOLDEN_PLOTS);

    /* The folder's own three plots: the marker on each, its label escaped,
     * the zero line and the negative region on delta only, a NaN gap. */
    EXPECTF(runlog_plots(r, &err) == THAW_OK, "%s", err.msg);
    loss = slurp(root, "loss.svg");
    acc = slurp(root, "accuracy.svg");
    delta = slurp(root, "delta.svg");
    EXPECT(loss && acc && delta);
    EXPECT(count(loss, "class=\"marker\"") == 1 && count(acc, "class=\"marker\"") == 1 &&
           count(delta, "class=\"marker\"") == 1);
    EXPECT(strstr(loss, "unfreeze stage3 &amp; &lt;lr&gt; &quot;x&quot; &apos;y&apos;"));
    EXPECT(count(delta, "class=\"ref\"") == 1 && count(loss, "class=\"ref\"") == 0);
    EXPECT(count(delta, "class=\"below\"") == 1 && strstr(delta, "negative transfer"));
    /* transfer val loss (series 1) has a gap at step 150: two lines. */
    EXPECT(count(loss, "<polyline class=\"series-1\"") == 2);
    EXPECT(count(loss, "<polyline class=\"series-0\"") == 1);
    /* Test points: one each, as markers. */
    EXPECT(count(acc, "class=\"series-2\"") == 1 && count(acc, "class=\"series-3\"") == 1);
    EXPECT(!strstr(acc, "source task"));
done:
    free(got);
    free(golden);
    free(loss);
    free(acc);
    free(delta);
    runlog_close(r);
    remove_tree(root);
}

void test_svg_nan_breaks_line(void)
{
    double x[] = { 1, 2, 3, 4, 5, 6, 7 }, y[] = { 1, 2, NAN, 4, 5, NAN, 7 };
    plot_series s = { .name = "a<b", .x = x, .y = y, .n = 7 };
    plot_spec p = { .title = "t", .xlabel = "x", .ylabel = "y", .series = &s, .nseries = 1 };
    plot_buf b = { 0 };
    thaw_err err = { 0 };
    int rc = svg_render(&b, &p, 1, &err);
    int lines = rc ? -1 : count(b.s, "<polyline class=\"series-0\"");
    int dots = rc ? -1 : count(b.s, "<circle class=\"series-0\"");
    int escaped = !rc && strstr(b.s, ">a&lt;b<") != NULL;
    plot_buf_free(&b);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    CHECK(lines == 2 && dots == 1 && escaped);
}

void test_svg_constant_and_empty(void)
{
    double x[] = { 10, 20 }, y[] = { 0.5, 0.5 }, none[] = { NAN, NAN };
    plot_series s[] = { { .name = "flat", .x = x, .y = y, .n = 2 },
                        { .name = "never", .x = x, .y = none, .n = 2, .style = 1 } };
    plot_spec p[] = {
        { .title = "flat", .series = s, .nseries = 2, .x_integer = 1 },
        { .title = "empty", .nseries = 0, .has_ref = 1, .ref = 0, .ref_label = "zero" },
    };
    plot_buf b = { 0 };
    thaw_err err = { 0 };
    int rc = svg_render(&b, p, 2, &err);
    int ok = !rc && strstr(b.s, ">0.5<") && !strstr(b.s, ">never<") && strstr(b.s, "no data") &&
             strstr(b.s, "height=\"600\"") && !strstr(b.s, "nan") && !strstr(b.s, "inf");
    plot_buf_free(&b);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    CHECK(ok);
    plot_series bad = { .name = "bad", .n = 3 };
    plot_spec q = { .series = &bad, .nseries = 1 };
    CHECK(svg_render(&b, &q, 1, &err) == THAW_EINVAL && b.len == 0);
    plot_buf_free(&b);
}

static int ticks_are(double lo, double hi, int max, const double *want, int n)
{
    double t[32];
    int got = plot_ticks(lo, hi, max, t, 32, NULL);
    if (got != n) {
        test_failed(__FILE__, __LINE__, "%g..%g: %d ticks, expected %d", lo, hi, got, n);
        return 0;
    }
    for (int i = 0; i < n; i++)
        if (t[i] != want[i]) {
            test_failed(__FILE__, __LINE__, "%g..%g: tick %d is %.17g, expected %.17g", lo, hi, i, t[i],
                        want[i]);
            return 0;
        }
    return 1;
}

void test_plot_ticks_exact(void)
{
    CHECK(ticks_are(0, 1, 6, (double[]){ 0, 0.2, 0.4, 0.6, 0.8, 1 }, 6));
    CHECK(ticks_are(0, 1, 5, (double[]){ 0, 0.5, 1 }, 3));
    CHECK(ticks_are(0, 1, 11, (double[]){ 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1 }, 11));
    CHECK(ticks_are(0.013, 0.087, 6, (double[]){ 0.02, 0.04, 0.06, 0.08 }, 4));
    CHECK(ticks_are(0.013, 0.087, 8, (double[]){ 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08 }, 7));
    CHECK(ticks_are(-3, 250, 6, (double[]){ 0, 50, 100, 150, 200, 250 }, 6));
    CHECK(ticks_are(250, -3, 3, (double[]){ 0, 100, 200 }, 3));
    CHECK(ticks_are(-0.35, 0.2, 6, (double[]){ -0.3, -0.2, -0.1, 0, 0.1, 0.2 }, 6));
    CHECK(ticks_are(0.5, 0.5, 6, (double[]){ 0.5 }, 1));
    CHECK(ticks_are(7, 9, 1, (double[]){ 8 }, 1));
    double t[4], step;
    CHECK(plot_ticks(0, NAN, 6, t, 4, NULL) == 0 && plot_ticks(0, 1, 0, t, 4, NULL) == 0);
    CHECK(plot_ticks(0, 1, 11, t, 4, &step) == 4 && t[3] == 0.3 && step == 0.1);
    CHECK(plot_ticks(2, 2, 6, t, 4, &step) == 1 && step == 0);
}

void test_plot_tick_labels(void)
{
    char s[64];
    plot_tick_label(s, sizeof s, 0.2, 0.2);
    CHECK(!strcmp(s, "0.2"));
    plot_tick_label(s, sizeof s, 0.04, 0.02);
    CHECK(!strcmp(s, "0.04"));
    plot_tick_label(s, sizeof s, 150, 50);
    CHECK(!strcmp(s, "150"));
    plot_tick_label(s, sizeof s, -1e-17, 0.1);
    CHECK(!strcmp(s, "0"));
    plot_tick_label(s, sizeof s, 3e-5, 1e-5);
    CHECKF(!strcmp(s, "3e-05"), "%s", s);
    plot_tick_label(s, sizeof s, 2.5e6, 5e5);
    CHECKF(!strcmp(s, "2.5e+06"), "%s", s);
    plot_shortest(s, sizeof s, 0.1);
    CHECK(!strcmp(s, "0.1"));
    plot_shortest(s, sizeof s, (double)0.3f);
    CHECKF(!strcmp(s, "0.30000001192092896"), "%s", s);
}

/* An earlier run read back for the overlay: its metrics.csv as the run
 * folder wrote it, x in epochs (50 steps each here). */
void test_run_curve_round_trip(void)
{
    char root[256], sub[300];
    CHECK(temp_dir(root, sizeof root));
    snprintf(sub, sizeof sub, "%s/finetune-seed1", root);
    runlog *r = NULL;
    thaw_err err = { 0 };
    run_curve c = { 0 };
    EXPECTF(runlog_open(&r, sub, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(small_run(r, &err) == THAW_OK, "%s", err.msg);
    runlog_close(r);
    r = NULL;
    snprintf(sub, sizeof sub, "%s/finetune-seed1/", root);          /* a trailing slash too */
    EXPECTF(run_curve_load(&c, sub, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(c.n == 5 && !strcmp(c.name, "finetune-seed1"), "%d rows, name %s", c.n, c.name);
    EXPECT(c.x[0] == 1 && c.x[4] == 5);
    EXPECT(fabs(c.val_acc[2] - 0.66) < 1e-9 && fabs(c.delta[4] - (0.78 - 0.60)) < 1e-6);
done:
    run_curve_free(&c);
    runlog_close(r);
    remove_tree(root);
}

/* A metrics.csv that is not one thaw wrote: each fault named. */
static void curve_refused(const char *text, const char *says)
{
    char root[256], path[300];
    CHECK(temp_dir(root, sizeof root));
    snprintf(path, sizeof path, "%s/metrics.csv", root);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    run_curve c;
    thaw_err err = { 0 };
    int rc = run_curve_load(&c, root, &err);
    EXPECTF(rc == THAW_EINVAL && strstr(err.msg, says) && strstr(err.msg, "metrics.csv"),
            "status %d, '%s' lacks '%s'", rc, err.msg, says);
    EXPECT(c.n == 0 && !c.x);
done:
    remove_tree(root);
}

void test_run_curve_missing_column(void) { curve_refused("epoch,step,val_acc\n1,10,0.5\n", "no column 'delta'"); }
void test_run_curve_not_a_number(void)
{
    curve_refused("epoch,step,val_acc,delta\n1,10,0.5,0.1\n2,20,high,0.1\n", "line 3: val_acc 'high' is not a number");
}
void test_run_curve_short_row(void) { curve_refused("epoch,step,val_acc,delta\n1,10,0.5\n", "line 2: 3 fields, expected 4"); }
void test_run_curve_no_rows(void) { curve_refused("epoch,step,val_acc,delta\n", "no evaluations yet"); }
void test_run_curve_empty_file(void) { curve_refused("", "no column 'epoch'"); }
void test_run_curve_missing_file(void)
{
    run_curve c;
    thaw_err err = { 0 };
    CHECK(run_curve_load(&c, "no/such/run", &err) == THAW_EIO && strstr(err.msg, "no/such/run/metrics.csv"));
}

void test_plot_pow10_labels(void)
{
    static const struct { int k; const char *want; } cases[] = {
        { 0, "1" }, { 1, "10" }, { 2, "100" }, { -1, "0.1" }, { -2, "0.01" }, { -3, "1e-3" },
        { -7, "1e-7" }, { 3, "1e+3" },
    };
    char s[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        plot_pow10_label(s, sizeof s, cases[i].k);
        CHECKF(!strcmp(s, cases[i].want), "10^%d: %s, expected %s", cases[i].k, s, cases[i].want);
    }
}

/* lr-find's curve in the run folder: the CSV's rows with the suggested one
 * flagged, the SVG on a log axis with the suggestion marked and named. */
void test_runlog_lrfind_curve(void)
{
    char root[256];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *csv = NULL, *svg = NULL;
    double rate[] = { 1e-5, 1e-4, 1e-3, 1e-2, 1e-1 }, loss[] = { 2.3, 2.2, 1.5, NAN, 4.0 };
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    EXPECTF(runlog_lrfind(r, rate, loss, 5, 1e-3, &err) == THAW_OK, "%s", err.msg);
    csv = slurp(root, "lrfind.csv");
    svg = slurp(root, "lrfind.svg");
    EXPECT(csv && svg);
    EXPECTF(!strcmp(csv, "rate,smoothed_loss,suggested\n1e-05,2.3,0\n0.0001,2.2,0\n0.001,1.5,1\n"
                         "0.01,,0\n0.1,4,0\n"), "[%s]", csv);
    EXPECT(count(svg, "class=\"marker\"") == 1 && strstr(svg, "suggested 0.001") &&
           strstr(svg, "suggested rate") && strstr(svg, ">1e-4<") && strstr(svg, ">0.01<") &&
           strstr(svg, "learning rate (log scale)"));
    /* No suggestion: the curve, no marker. */
    EXPECTF(runlog_lrfind(r, rate, loss, 2, NAN, &err) == THAW_OK, "%s", err.msg);
    free(svg);
    svg = slurp(root, "lrfind.svg");
    EXPECT(svg && count(svg, "class=\"marker\"") == 0);
    EXPECT(runlog_lrfind(r, NULL, loss, 2, NAN, &err) == THAW_EINVAL);
done:
    free(csv);
    free(svg);
    runlog_close(r);
    remove_tree(root);
}

/* Under a locale whose decimal mark is a comma, every number thaw writes
 * keeps the point. Skipped when no such locale is installed. */
void test_plot_numbers_ignore_locale(void)
{
    static const char *const comma[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8",
                                         "nl_NL.UTF-8", "ru_RU.UTF-8", "de_DE", "fr_FR" };
    const char *found = NULL;
    for (size_t i = 0; i < sizeof comma / sizeof comma[0] && !found; i++)
        if (setlocale(LC_NUMERIC, comma[i]) && !strcmp(localeconv()->decimal_point, ","))
            found = comma[i];
    if (!found) {
        setlocale(LC_NUMERIC, "C");
        return;
    }
    char root[256], label[64], shortest[64], printed[64], check[64];
    char *csv = NULL;
    runlog *r = NULL;
    int have_root = 0;
    thaw_err err = { 0 };
    snprintf(check, sizeof check, "%.1f", 0.5);
    plot_tick_label(label, sizeof label, 0.25, 0.05);
    plot_shortest(shortest, sizeof shortest, 0.125);
    plot_buf b = { 0 };
    plot_printf(&b, "%.2f", 1.5);
    snprintf(printed, sizeof printed, "%s", b.s ? b.s : "");
    plot_buf_free(&b);
    EXPECTF(!strcmp(check, "0,5"), "%s does not write commas: %s", found, check);
    EXPECTF(!strcmp(label, "0.25") && !strcmp(shortest, "0.125") && !strcmp(printed, "1.50"),
            "under %s: %s %s %s", found, label, shortest, printed);
    EXPECT((have_root = temp_dir(root, sizeof root)));
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    sess_eval e = row(1, 40, 0.5, 0.75, 0.5);
    EXPECTF(runlog_eval(r, &e, &err) == THAW_OK, "%s", err.msg);
    csv = slurp(root, "metrics.csv");
    EXPECT(csv && strstr(csv, "\n1,40,0.4,1600,0.01,0.01,0.5,0.73,0.6,0.75,"));
done:
    setlocale(LC_NUMERIC, "C");
    free(csv);
    runlog_close(r);
    if (have_root)
        remove_tree(root);
}

/* The trainer thread writes rows and events (as the session's hooks do)
 * while this thread exports: every row arrives once, the exports see
 * whole rows. Meant for ThreadSanitizer too. */
typedef struct writer_job {
    runlog *r;
    int rows, rc;
    thaw_err err;
} writer_job;

static void *writer(void *p)
{
    writer_job *job = p;
    for (int i = 0; i < job->rows && !job->rc; i++) {
        sess_eval e = row(i / 10, i * 10L, 1.0 / (i + 1), 0.5, 0.4);
        job->rc = runlog_eval(job->r, &e, &job->err);
        sess_event ev = { .kind = SEV_CHANGE, .step = i * 10L, .text = "lr head 0.01" };
        if (!job->rc && i % 50 == 0)
            job->rc = runlog_event(job->r, &ev, &job->err);
    }
    return NULL;
}

void test_runlog_threads(void)
{
    char root[256], path[300];
    CHECK(temp_dir(root, sizeof root));
    runlog *r = NULL;
    thaw_err err = { 0 };
    char *csv = NULL, *exported = NULL;
    writer_job job = { .rows = 300 };
    pthread_t t;
    int started = 0;
    EXPECTF(runlog_open(&r, root, NULL, NULL, "", &err) == THAW_OK, "%s", err.msg);
    job.r = r;
    EXPECT((started = pthread_create(&t, NULL, writer, &job) == 0));
    snprintf(path, sizeof path, "%s/export", root);
    for (int i = 0; i < 20; i++) {
        EXPECTF(runlog_export_plots(r, path, &err) == THAW_OK, "%s", err.msg);
        EXPECTF(runlog_export_metrics(r, path, &err) == THAW_OK, "%s", err.msg);
        EXPECTF(runlog_command(r, "eval", &err) == THAW_OK, "%s", err.msg);
    }
    pthread_join(t, NULL);
    started = 0;
    EXPECTF(job.rc == THAW_OK, "%s", job.err.msg);
    EXPECTF(runlog_export_metrics(r, path, &err) == THAW_OK, "%s", err.msg);
    csv = slurp(root, "metrics.csv");
    exported = slurp(path, NULL);
    EXPECT(csv && exported && !strcmp(csv, exported) && count(csv, "\n") == job.rows + 1);
done:
    if (started)
        pthread_join(t, NULL);
    free(csv);
    free(exported);
    runlog_close(r);
    remove_tree(root);
}
