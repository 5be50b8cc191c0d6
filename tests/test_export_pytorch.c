/* test_export_pytorch.c — `thaw export pytorch`: the exported train.py under
 * torchrun with two processes (gloo) keeps frozen parameters bit for bit,
 * moves the others, and starts from thaw's loss; bad input is refused.
 * The torchrun test needs /usr/bin/python3 with torch and skips without. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "fileio.h"
#include "loss.h"
#include "modelfile.h"
#include "safetensors.h"
#include "test.h"

#define SHAPES_SPEC "shapes:classes=0-4,shots=10,val=10,test=20"

static int run_export(const char *src, const char *dir, const char *data)
{
    char *argv[] = { "export", "pytorch", (char *)src, (char *)dir, "--data", (char *)data,
                     "--strategy", "feature-extraction", "--epochs", "1", NULL };
    return cmd_export(data ? 10 : 4, argv);
}

static void temp_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/thaw-export-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(buf))
        buf[0] = '\0';
}

static void remove_tree(const char *dir)
{
    char cmd[1024];
    if (dir[0] && !strchr(dir, '\'') && snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) < (int)sizeof cmd &&
        system(cmd))
        fprintf(stderr, "could not remove %s\n", dir);
}

/* The command that starts torchrun, or NULL when there is none. */
static const char *torchrun(void)
{
    if (!access("/usr/bin/torchrun", X_OK))
        return "/usr/bin/torchrun";
    return "/usr/bin/python3 -m torch.distributed.run";
}

/* thaw's training-mode loss on the first n images of data.safetensors'
 * train split, through the library, from the exported model.json. */
static int thaw_first_loss(const char *dir, int n, double *loss, thaw_err *err)
{
    char path[600];
    mf_meta meta;
    model m;
    st_file st = { 0 };
    snprintf(path, sizeof path, "%s/model.json", dir);
    int rc = mf_load(&meta, &m, path, NULL, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/data.safetensors", dir);
    rc = st_read(&st, path, err);
    const st_tensor *tx = rc ? NULL : st_find(&st, "train.x"), *ty = rc ? NULL : st_find(&st, "train.y");
    float *x = NULL, *dl = NULL;
    int64_t *y64 = NULL;
    int *y = NULL;
    if (!rc && (!tx || !ty || (int)ty->count < n))
        rc = thaw_fail(err, THAW_EFORMAT, "%s: no train.x / train.y of %d images", path, n);
    if (!rc && !(rc = model_prepare(&m, n, err))) {
        int classes = m.root->out.c;
        x = malloc(tx->count * sizeof(float));
        y64 = malloc(ty->count * sizeof(int64_t));
        y = malloc((size_t)n * sizeof(int));
        dl = malloc((size_t)n * (size_t)classes * sizeof(float));
        if (!x || !y64 || !y || !dl)
            rc = thaw_fail(err, THAW_ENOMEM, "out of memory");
        else {
            st_get_f32(&st, tx, x);
            st_get_i64(&st, ty, y64);
            for (int i = 0; i < n; i++)
                y[i] = (int)y64[i];
            model_forward(&m, x, n, 1);
            *loss = loss_softmax_xent(dl, m.root->y, y, n, classes);
        }
    }
    free(x);
    free(y64);
    free(y);
    free(dl);
    st_free(&st);
    mf_meta_free(&meta);
    model_free(&m);
    return rc;
}

void test_export_pytorch_trains_under_torchrun(void)
{
    if (access("/usr/bin/python3", X_OK) ||
        system("/usr/bin/python3 -c 'import torch.distributed' 2>/dev/null")) {
        test_skip("no /usr/bin/python3 with torch (apt-get install python3-torch)");
        return;
    }
    char tmp[256] = "", dir[300], path[400], cmd[2048], line[1024] = "";
    mf_meta m0, m1;
    model a = { 0 }, b = { 0 };
    int have_a = 0, have_b = 0;
    thaw_err err = { 0 };
    FILE *f = NULL;
    temp_dir(tmp, sizeof tmp);
    EXPECT(tmp[0] && !strchr(tmp, '\''));
    snprintf(dir, sizeof dir, "%s/out", tmp);
    EXPECT(run_export("models/shapes-resnet.json", dir, SHAPES_SPEC) == 0);

    /* The first step's loss: train.py's against thaw's, computed here. */
    double thaw_loss = NAN, torch_loss = NAN, planned = NAN;
    EXPECTF(thaw_first_loss(dir, 32, &thaw_loss, &err) == THAW_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 train.py --check-first-step 2>&1", dir);
    FILE *py = popen(cmd, "r");
    EXPECT(py != NULL);
    if (!fgets(line, sizeof line, py))
        line[0] = '\0';
    int prc = pclose(py);
    EXPECTF(prc == 0, "train.py --check-first-step: %s", line);
    EXPECTF(sscanf(line, "first-step loss %lf thaw %lf", &torch_loss, &planned) == 2, "%s", line);
    EXPECTF(fabs(torch_loss - thaw_loss) < 1e-4, "PyTorch's first loss %.9g, thaw's %.9g", torch_loss,
            thaw_loss);
    EXPECTF(fabs(planned - thaw_loss) < 1e-6, "plan.json's loss %.9g, thaw's %.9g", planned, thaw_loss);

    snprintf(cmd, sizeof cmd, "cd '%s' && /usr/bin/python3 train.py --help 2>&1", dir);
    int help_epochs = 0, help_batch = 0;
    EXPECT((py = popen(cmd, "r")) != NULL);
    while (fgets(line, sizeof line, py)) {
        help_epochs |= strstr(line, "--epochs") != NULL;
        help_batch |= strstr(line, "--batch") != NULL;
    }
    prc = pclose(py);
    EXPECTF(prc == 0 && help_epochs && help_batch, "train.py --help: status %d, --epochs %d, --batch %d",
            prc, help_epochs, help_batch);

    /* One epoch on two processes, the plan's batch of 32 overridden: 50
     * training images make 5 steps of 10. */
    snprintf(cmd, sizeof cmd, "cd '%s' && OMP_NUM_THREADS=1 %s --nproc_per_node=2 --redirects 1 --tee 1 "
             "--master_port %d train.py --epochs 1 --batch 10 > train.log 2>&1", dir, torchrun(),
             29500 + (int)(getpid() % 2000));
    int rc = system(cmd);
    EXPECTF(rc == 0, "torchrun failed (%d): see %s/train.log", rc, dir);
    snprintf(path, sizeof path, "%s/model.json", dir);
    EXPECTF(mf_load(&m0, &a, path, NULL, &err) == THAW_OK, "%s", err.msg);
    have_a = 1;
    snprintf(path, sizeof path, "%s/trained/model.json", dir);
    EXPECTF(mf_load(&m1, &b, path, NULL, &err) == THAW_OK, "%s", err.msg);
    have_b = 1;
    EXPECT(a.nslice == b.nslice);
    int frozen = 0, moved = 0, trainable = 0;
    for (int i = 0; i < a.nslice; i++) {
        const param_slice *p = &a.slice[i];
        int same = !memcmp(model_param(&a, i), model_param(&b, i), p->len * sizeof(float));
        /* A frozen layer's statistics stay too (its BatchNorm in eval mode). */
        int still = p->kind == PARAM_STAT ? a.slice[p->owner->slice0].frozen : p->frozen;
        if (still) {
            EXPECTF(same, "%s moved though frozen", p->name);
            frozen++;
        } else if (p->kind != PARAM_STAT) {
            trainable++;
            moved += !same;
        }
    }
    EXPECTF(frozen > 0 && trainable > 0, "%d frozen, %d trainable slices", frozen, trainable);
    EXPECTF(moved == trainable, "%d of %d trainable slices moved", moved, trainable);
    snprintf(path, sizeof path, "%s/trained/metrics.csv", dir);
    EXPECT((f = fopen(path, "r")) != NULL);
    EXPECT(fgets(line, sizeof line, f) && !strncmp(line, "epoch,step,", 11));
    EXPECT(fgets(line, sizeof line, f));
    EXPECTF(!strncmp(line, "1,5,", 4), "metrics.csv's first row: %s", line);
    /* Its units beside it, as thaw's run folders have them. */
    fclose(f);
    snprintf(path, sizeof path, "%s/trained/metrics.csv-metadata.json", dir);
    EXPECTF((f = fopen(path, "r")) != NULL, "%s is missing", path);
done:
    if (f)
        fclose(f);
    if (have_a) {
        mf_meta_free(&m0);
        model_free(&a);
    }
    if (have_b) {
        mf_meta_free(&m1);
        model_free(&b);
    }
    remove_tree(tmp);
}

void test_export_pytorch_bad_missing_run(void)
{
    char tmp[256], dir[300];
    temp_dir(tmp, sizeof tmp);
    CHECK(tmp[0]);
    snprintf(dir, sizeof dir, "%s/out", tmp);
    int rc = run_export("runs/no-such-run", dir, NULL);
    struct stat st;
    int made = !stat(dir, &st);
    remove_tree(tmp);
    CHECKF(rc == 1, "rc %d", rc);
    CHECK(!made);
}

void test_export_pytorch_bad_dir_is_file(void)
{
    char tmp[256], file[300];
    temp_dir(tmp, sizeof tmp);
    CHECK(tmp[0]);
    snprintf(file, sizeof file, "%s/taken", tmp);
    FILE *f = fopen(file, "w");
    int wrote = f && fputs("mine\n", f) >= 0;
    if (f)
        fclose(f);
    int rc = run_export("models/shapes-resnet.json", file, SHAPES_SPEC);
    char back[16] = "";
    f = fopen(file, "r");
    if (f) {
        if (!fgets(back, sizeof back, f))
            back[0] = '\0';
        fclose(f);
    }
    remove_tree(tmp);
    CHECK(wrote);
    CHECKF(rc == 1, "rc %d", rc);
    CHECKF(!strcmp(back, "mine\n"), "the file now holds '%s'", back);
}

void test_export_pytorch_bad_text_layer(void)
{
    /* A text model's embedding has no plain PyTorch module here: refused,
     * and nothing is left behind. */
    char tmp[256], dir[300], cmd[700];
    temp_dir(tmp, sizeof tmp);
    CHECK(tmp[0]);
    snprintf(dir, sizeof dir, "%s/out", tmp);
    int rc = run_export("models/glove-topics.json", dir, "topics");
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", tmp);
    int empty = system(cmd) == 0;
    remove_tree(tmp);
    CHECKF(rc == 1, "rc %d", rc);
    CHECKF(empty, "%s holds files after a refused export", tmp);
}

void test_export_pytorch_bad_model_without_data(void)
{
    char tmp[256], dir[300];
    temp_dir(tmp, sizeof tmp);
    CHECK(tmp[0]);
    snprintf(dir, sizeof dir, "%s/out", tmp);
    int rc = run_export("models/shapes-resnet.json", dir, NULL);
    struct stat st;
    int made = !stat(dir, &st);
    remove_tree(tmp);
    CHECKF(rc == 2, "rc %d", rc);
    CHECK(!made);
}

void test_export_pytorch_from_run_folder(void)
{
    /* A run folder: its config.thaw is the plan, its last.json the model. */
    char tmp[256] = "", run[300], out[300], path[400];
    mf_meta meta;
    model m;
    int have = 0;
    thaw_err err = { 0 };
    char *plan = NULL;
    size_t len = 0;
    st_file st = { 0 };
    FILE *f = NULL;
    temp_dir(tmp, sizeof tmp);
    EXPECT(tmp[0]);
    snprintf(run, sizeof run, "%s/run", tmp);
    snprintf(out, sizeof out, "%s/out", tmp);
    EXPECT(mkdir(run, 0777) == 0);
    snprintf(path, sizeof path, "%s/config.thaw", run);
    EXPECT((f = fopen(path, "w")) != NULL);
    EXPECT(fputs("load model \"models/shapes-resnet.json\"\n"
                 "set epochs 3 batch 16 lr 0.05\n"
                 "set schedule \"cosine warmup=1\" augment shift=2,flip\n"
                 "load data \"" SHAPES_SPEC "\"\n"
                 "strategy finetune\n"
                 "freeze stem.0\n", f) >= 0);
    int closed = fclose(f);
    f = NULL;
    EXPECT(closed == 0);
    mf_load_opts opt = { .classes = 5, .seed = 1 };
    EXPECTF(mf_load(&meta, &m, "models/shapes-resnet.json", &opt, &err) == THAW_OK, "%s", err.msg);
    have = 1;
    /* The run's model scores the task's classes, by name: its head stays. */
    static const char *const names[] = { "circle", "triangle", "square", "star", "cross" };
    EXPECT(meta.nclass == 5);
    for (int k = 0; k < 5; k++)
        snprintf(meta.class_name[k], sizeof meta.class_name[k], "%s", names[k]);
    param_slice *bias = model_slice(&m, "head.bias");
    EXPECT(bias != NULL);
    for (size_t i = 0; i < bias->len; i++)
        m.param[bias->off + i] = 0.25f;
    snprintf(path, sizeof path, "%s/last.json", run);
    EXPECTF(mf_save(path, &meta, &m, &err) == THAW_OK, "%s", err.msg);

    strcat(out, "/");    /* a trailing slash names the same new folder */
    char *argv[] = { "export", "pytorch", run, out, NULL };
    EXPECT(cmd_export(4, argv) == 0);
    snprintf(path, sizeof path, "%s/plan.json", out);
    EXPECTF(fio_read(path, 1 << 20, &plan, &len, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(strstr(plan, "\"epochs\": 3,") && strstr(plan, "\"batch\": 16,") &&
            strstr(plan, "\"base_lr\": 0.05,"), "%s", plan);
    EXPECTF(strstr(plan, "\"kind\": \"cosine\", \"warmup\": 1,") &&
            strstr(plan, "\"augment\": {\"shift\": 2, \"flip\": 1,"), "%s", plan);
    EXPECTF(strstr(plan, "\"stem.0.weight\": {\"frozen\": true") &&
            strstr(plan, "\"stage1.conv1.weight\": {\"frozen\": false"), "%s", plan);
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    EXPECTF(st_read(&st, path, &err) == THAW_OK, "%s", err.msg);
    const st_tensor *t = st_find(&st, "head.bias");
    EXPECT(t && t->dtype == ST_F32 && t->count == 5);
    float back[5];
    st_get_f32(&st, t, back);
    for (int i = 0; i < 5; i++)
        EXPECTF(back[i] == 0.25f, "head.bias[%d] is %g, not the run's 0.25", i, back[i]);
done:
    if (f)
        fclose(f);
    if (have) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    free(plan);
    st_free(&st);
    remove_tree(tmp);
}

void test_export_bad_unknown_target(void)
{
    char *argv[] = { "export", "no-such-target", "models/shapes-resnet.json", "out", NULL };
    CHECK(cmd_export(4, argv) == 2);
    char *none[] = { "export", NULL };
    CHECK(cmd_export(1, none) == 2);
}
