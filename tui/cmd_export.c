/* cmd_export.c — `thaw export pytorch RUN_OR_MODEL DIR`: the hand-off to
 * PyTorch when a laptop is not enough.
 *
 *     thaw export pytorch runs/20261204-101500-finetune out/
 *     thaw export pytorch models/shapes-resnet.json out/ --data shapes:classes=0-4,shots=10 \
 *                         --strategy feature-extraction --epochs 5
 *
 * From a run folder, the run's config.thaw is replayed (its model replaced
 * by the run's last.json, else best.json, when it saved one); from a model
 * file, the options say the plan as they do for `thaw train` (--data is
 * needed; the settings' defaults otherwise). Options given with a run
 * folder change its plan after the replay.
 *
 * DIR (new) receives, through a temporary folder renamed into place:
 *   model.json, model.safetensors   the model as thaw saves it: the tensors
 *                                   carry PyTorch's state_dict names
 *   model.py     the layer tree as plain PyTorch (build())
 *   train.py     thaw's plan in PyTorch, for torchrun and DDP
 *   plan.json    what train.py reads: per parameter frozen and rate, the
 *                optimizer, schedule, warm-up, epochs, batch, seed,
 *                augmentation, metrics.csv's columns, and thaw's loss on the
 *                first batch (train.py --check-first-step compares)
 *   data.safetensors  the task's images after thaw's preprocessing (F32
 *                (n, c, h, w), normalised) and labels (I64), train, val, test
 *   metrics.csv-metadata.json  metrics.csv's columns and units (runlog.h),
 *                which train.py puts beside the metrics.csv it writes
 *
 * `thaw export onnx MODEL.json OUT.onnx` writes the model's inference graph
 * (models/onnx.h), atomically.
 *
 * `thaw export TARGET` picks the target from export_targets at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "app_impl.h"
#include "cli.h"
#include "commands.h"
#include "export_pytorch.h"
#include "fileio.h"
#include "loss.h"
#include "metrics.h"
#include "numtext.h"
#include "runlog.h"
#include "svg.h"
#include "onnx.h"
#include "safetensors.h"
#include "strategy.h"

enum { EXPORT_SETS_MAX = 64, EXPORT_PATH_MAX = 4096 };

/* The layer types model.py can express: each is a function of the same
 * name in export_model_py, called with the type's hyper-parameters as
 * keywords and its children under the type's child keys (layer_ops). The
 * text layers are not here: their sequence lengths travel beside the
 * tensors in thaw, which plain modules do not carry. */
static const char *const export_types[] = {
    "sequential", "residual", "gate", "concat", "conv2d", "batchnorm2d", "maxpool2d", "linear",
    "dropout", "avgpool", "flatten", "relu", "relu6", "silu", "sigmoid", "hardswish", "hardsigmoid",
};

static int exportable(const layer *l)
{
    for (size_t i = 0; i < sizeof export_types / sizeof export_types[0]; i++)
        if (!strcmp(l->ops->type, export_types[i]))
            return 1;
    return 0;
}

/* The first layer of the tree model.py cannot express, or NULL. */
static const layer *first_unexportable(const layer *l)
{
    if (!exportable(l))
        return l;
    for (int i = 0; i < l->nchild; i++) {
        const layer *bad = first_unexportable(l->child[i]);
        if (bad)
            return bad;
    }
    return NULL;
}

static void py_indent(FILE *f, int depth)
{
    fprintf(f, "%*s", 4 * depth, "");
}

/* The Python call that builds l: TYPE(hp=..., ..., CHILDREN=[("name", ...), ...],
 * SIDE=("name", ...)). */
static void py_layer(FILE *f, const layer *l, int depth)
{
    const layer_ops *ops = l->ops;
    double hp[LAYER_HP_MAX];
    if (ops->hparams)
        ops->hparams(l, hp);
    fprintf(f, "%s(", ops->type);
    const char *sep = "";
    for (int i = 0; i < ops->nhp; i++) {
        const layer_hparam *h = &ops->hp[i];
        char num[48];
        fprintf(f, "%s%s=", sep, h->key);
        if (h->kind == LAYER_HP_BOOL)
            fputs(hp[i] != 0 ? "True" : "False", f);
        else if (h->kind == LAYER_HP_CHOICE)
            fprintf(f, "\"%s\"", h->choices[(int)hp[i]]);
        else {
            if (h->kind == LAYER_HP_NUM)    /* the layers keep floats */
                num_shortest_float(num, sizeof num, (float)hp[i]);
            else
                num_shortest(num, sizeof num, hp[i]);
            fputs(num, f);
        }
        sep = ", ";
    }
    int main_children = 0;
    for (int i = 0; i < l->nchild; i++)
        main_children += !l->child[i]->side;
    if (ops->children) {
        fprintf(f, "%s%s=[", sep, ops->children);
        sep = ", ";
        for (int i = 0, k = 0; i < l->nchild; i++) {
            if (l->child[i]->side)
                continue;
            fputc('\n', f);
            py_indent(f, depth + 1);
            fprintf(f, "(\"%s\", ", l->child[i]->name);
            py_layer(f, l->child[i], depth + 1);
            fputs(++k < main_children ? ")," : ")", f);
        }
        fputs("]", f);
    }
    for (int i = 0; i < l->nchild; i++)
        if (l->child[i]->side && ops->side) {
            fprintf(f, ",\n");
            py_indent(f, depth + 1);
            fprintf(f, "%s=(\"%s\", ", ops->side, l->child[i]->name);
            py_layer(f, l->child[i], depth + 1);
            fputs(")", f);
        }
    fputs(")", f);
}

static void js_num(FILE *f, double v)
{
    char num[48];
    num_shortest(num, sizeof num, v);
    fputs(num, f);
}

/* A float setting as the shortest text that reads back to it. */
static void js_float(FILE *f, float v)
{
    char num[48];
    num_shortest_float(num, sizeof num, v);
    fputs(num, f);
}

/* plan.json: what train.py needs of thaw's plan. */
static void plan_json(FILE *f, const app *a, const model *m, int batch, double check_loss)
{
    const app_settings *s = &a->set;
    const schedule *sc = &s->sess.sched;
    fprintf(f, "{\n  \"format\": \"thaw-export-pytorch\",\n  \"version\": 1,\n");
    fprintf(f, "  \"epochs\": %d,\n  \"batch\": %d,\n  \"seed\": %llu,\n  \"base_lr\": ", s->epochs,
            s->sess.batch, (unsigned long long)s->sess.seed);
    js_float(f, s->lr);
    fprintf(f, ",\n  \"optimizer\": {\"kind\": \"%s\", \"momentum\": ",
            s->sess.optimizer == OPTIM_ADAMW ? "adamw" : "sgd");
    js_float(f, s->sess.momentum);
    fputs(", \"weight_decay\": ", f);
    js_float(f, s->sess.weight_decay);
    fputs(", \"beta1\": 0.9, \"beta2\": 0.999, \"eps\": 1e-08},\n", f);
    fprintf(f, "  \"schedule\": {\"kind\": \"%s\", \"warmup\": ", sched_name(sc->kind));
    js_num(f, sc->warmup);
    fputs(", \"every\": ", f);
    js_num(f, sc->every);
    fputs(", \"gamma\": ", f);
    js_num(f, sc->gamma);
    fputs(", \"div\": ", f);
    js_num(f, sc->div);
    fputs(", \"div_final\": ", f);
    js_num(f, sc->div_final);
    fputs(", \"pct\": ", f);
    js_num(f, sc->pct);
    fprintf(f, "},\n  \"augment\": {\"shift\": %d, \"flip\": %d, \"noise\": ", s->aug.shift,
            s->aug.flip);
    js_float(f, s->aug.noise);
    fputs("},\n  \"mean\": [", f);
    const ds_geom *g = &a->task.geom;
    for (int c = 0; c < g->in.c; c++) {
        fputs(c ? ", " : "", f);
        js_float(f, g->mean[c]);
    }
    fputs("],\n  \"std\": [", f);
    for (int c = 0; c < g->in.c; c++) {
        fputs(c ? ", " : "", f);
        js_float(f, g->std[c]);
    }
    fputs("],\n  \"params\": {", f);
    const char *sep = "\n";
    for (int i = 0; i < m->nslice; i++) {
        const param_slice *p = &m->slice[i];
        if (p->kind == PARAM_STAT)
            continue;
        fprintf(f, "%s    \"%s\": {\"frozen\": %s, \"lr\": ", sep, p->name,
                p->frozen ? "true" : "false");
        js_float(f, p->lr);
        fputs("}", f);
        sep = ",\n";
    }
    fputs("\n  },\n  \"thaw_at\": [", f);
    /* Gradual unfreezing's later thaws (strategy.h's order: the group below
     * the head first); the freezing at the start is in params. */
    strategy st;
    thaw_err ignored = { 0 };
    layer *group[STRATEGY_GROUPS_MAX];
    if (a->strategy_text[0] && !strategy_parse(&st, a->strategy_text, &ignored) &&
        st.kind == STRAT_GRADUAL) {
        int n = model_groups(m, group, STRATEGY_GROUPS_MAX);
        for (int k = 1; k < n; k++)
            fprintf(f, "%s{\"epoch\": %d, \"path\": \"%s\"}", k > 1 ? ", " : "", k * st.every,
                    group[n - 1 - k]->path);
    }
    fputs("],\n  \"columns\": [", f);
    for (int i = 0; i < METRIC_COUNT; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", metric_fields[i].name);
    fprintf(f, "],\n  \"check\": {\"batch\": %d, \"loss\": ", batch);
    js_num(f, check_loss);
    fputs("}\n}\n", f);
}

/* The task's splits as data.safetensors. */
static int data_tensors(const task *t, uint8_t **blob, size_t *len, thaw_err *err)
{
    static const int splits[] = { TASK_TRAIN, TASK_VAL, TASK_TEST };
    enum { NS = sizeof splits / sizeof splits[0] };
    st_out out[2 * NS];
    float *x[NS] = { 0 };
    int64_t *y[NS] = { 0 };
    char names[2 * NS][16];
    size_t img = shape3_count(t->geom.in);
    int rc = THAW_OK;
    for (int k = 0; k < NS && !rc; k++) {
        const ds_split *sp = &t->split[splits[k]];
        size_t n = (size_t)sp->n;
        x[k] = malloc((n ? n : 1) * img * sizeof(float));
        y[k] = malloc((n ? n : 1) * sizeof(int64_t));
        if (!x[k] || !y[k]) {
            rc = thaw_fail(err, THAW_ENOMEM, "data.safetensors: out of memory for the %s split",
                           task_split_names[splits[k]]);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            ds_split_image(sp, &t->geom, (int)i, x[k] + i * img);
            y[k][i] = sp->y[i];
        }
        snprintf(names[2 * k], sizeof names[0], "%s.x", task_split_names[splits[k]]);
        snprintf(names[2 * k + 1], sizeof names[0], "%s.y", task_split_names[splits[k]]);
        out[2 * k] = (st_out){ .name = names[2 * k], .dtype = ST_F32, .ndim = 4,
                               .dim = { n, (uint64_t)t->geom.in.c, (uint64_t)t->geom.in.h,
                                        (uint64_t)t->geom.in.w },
                               .data = x[k] };
        out[2 * k + 1] = (st_out){ .name = names[2 * k + 1], .dtype = ST_I64, .ndim = 1,
                                   .dim = { n }, .data = y[k] };
    }
    if (!rc)
        rc = st_serialize(out, 2 * NS, blob, len, err);
    for (int k = 0; k < NS; k++) {
        free(x[k]);
        free(y[k]);
    }
    return rc;
}

/* thaw's training-mode loss on the first `batch` training images, in
 * order and unaugmented: what train.py --check-first-step computes. Runs
 * the plan's model forward (its running statistics move: call after the
 * model is saved). */
static int first_loss(model *m, const task *t, int batch, double *loss, thaw_err *err)
{
    const ds_split *sp = &t->split[TASK_TRAIN];
    size_t img = shape3_count(t->geom.in);
    int classes = m->root->out.c;
    int rc = model_prepare(m, batch, err);
    if (rc)
        return rc;
    float *x = malloc((size_t)batch * img * sizeof(float));
    float *dl = malloc((size_t)batch * (size_t)classes * sizeof(float));
    if (!x || !dl) {
        free(x);
        free(dl);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for the first batch");
    }
    for (int i = 0; i < batch; i++)
        ds_split_image(sp, &t->geom, i, x + (size_t)i * img);
    model_forward(m, x, batch, 1);
    *loss = loss_softmax_xent(dl, m->root->y, sp->y, batch, classes);
    free(x);
    free(dl);
    return THAW_OK;
}

static int write_text(const char *dir, const char *name, const char *text, size_t len,
                      thaw_err *err)
{
    char path[EXPORT_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", dir);
    const char *paths[] = { path };
    const void *bufs[] = { text };
    size_t lens[] = { len };
    return fio_save(paths, bufs, lens, 1, err);
}

/* Everything into the folder tmp. */
static int write_export(app *a, const char *tmp, thaw_err *err)
{
    model *m = &a->plan;
    const layer *bad = first_unexportable(m->root);
    if (bad)
        return thaw_fail(err, THAW_EINVAL, "layer '%s' (%s): PyTorch export cannot express this "
                         "layer type (a text model's layers pass sequence lengths beside the "
                         "tensors); it expresses the image layers",
                         bad->path[0] ? bad->path : bad->name, bad->ops->type);
    char path[EXPORT_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/model.json", tmp) >= (int)sizeof path)
        return thaw_fail(err, THAW_EINVAL, "%s: the path is too long", tmp);
    int rc = mf_save(path, &a->meta, m, err);
    if (rc)
        return rc;

    uint8_t *blob = NULL;
    size_t len = 0;
    rc = data_tensors(&a->task, &blob, &len, err);
    if (!rc)
        rc = write_text(tmp, "data.safetensors", (const char *)blob, len, err);
    free(blob);
    if (rc)
        return rc;

    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return thaw_fail(err, THAW_ENOMEM, "model.py: out of memory");
    fputs(export_model_py, f);
    fputs("\n\ndef build():\n    \"\"\"The network, its layers named as in thaw.\"\"\"\n    return ", f);
    py_layer(f, m->root, 1);
    fputs("\n", f);
    fclose(f);
    rc = text ? write_text(tmp, "model.py", text, len, err)
              : thaw_fail(err, THAW_ENOMEM, "model.py: out of memory");
    free(text);
    if (!rc)
        rc = write_text(tmp, "train.py", export_train_py, strlen(export_train_py), err);
    if (rc)
        return rc;
    plot_buf meta = { 0 };
    runlog_csv_metadata(&meta);
    rc = meta.failed ? thaw_fail(err, THAW_ENOMEM, RUNLOG_CSV_METADATA ": out of memory")
                     : write_text(tmp, RUNLOG_CSV_METADATA, meta.s, meta.len, err);
    plot_buf_free(&meta);
    if (rc)
        return rc;

    int ntrain = a->task.split[TASK_TRAIN].n;
    int batch = a->set.sess.batch < ntrain ? a->set.sess.batch : ntrain;
    if (batch < 1)
        return thaw_fail(err, THAW_EINVAL, "the task has no training images");
    double loss = 0;
    rc = first_loss(m, &a->task, batch, &loss, err);
    if (rc)
        return rc;
    text = NULL;
    f = open_memstream(&text, &len);
    if (!f)
        return thaw_fail(err, THAW_ENOMEM, "plan.json: out of memory");
    locale_t old = app_enter_c();
    plan_json(f, a, m, batch, loss);
    app_leave_c(old);
    fclose(f);
    rc = text ? write_text(tmp, "plan.json", text, len, err)
              : thaw_fail(err, THAW_ENOMEM, "plan.json: out of memory");
    free(text);
    return rc;
}

static int usage(void)
{
    char flags[2048];
    app_setting_flags_usage(flags, sizeof flags, "                                ", 92);
    cli_print(stderr,
              "usage: thaw export pytorch RUN_OR_MODEL DIR [--data SPEC] [--strategy NAME]\n"
              "                                and any setting of `set`:\n"
              "                                %s\n"
              "writes into the new folder DIR: model.json, model.safetensors (PyTorch names),\n"
              "model.py, train.py (torchrun --nproc_per_node=N train.py), plan.json and\n"
              "data.safetensors. RUN_OR_MODEL is a run folder (its config.thaw is replayed, with\n"
              "its last.json or best.json) or a model file (then --data is needed).\n", flags);
    return 2;
}

/* Replays a run folder's config.thaw, its model the run's saved one. */
static int replay_run(app *a, cli_out *c, const char *run)
{
    char path[EXPORT_PATH_MAX], saved[EXPORT_PATH_MAX] = "";
    thaw_err err = { 0 };
    snprintf(path, sizeof path, "%s/config.thaw", run);
    char *text = NULL;
    size_t len = 0;
    if (fio_read(path, 1 << 20, &text, &len, &err)) {
        cli_print(stderr, "thaw export: %s: not a run folder (%s)\n", run, err.msg);
        return 1;
    }
    static const char *const checkpoints[] = { "last.json", "best.json" };
    for (int i = 0; i < 2 && !saved[0]; i++) {
        snprintf(saved, sizeof saved, "%s/%s", run, checkpoints[i]);
        if (access(saved, R_OK))
            saved[0] = '\0';
    }
    int rc = 0;
    for (char *line = strtok(text, "\n"); line && !rc; line = strtok(NULL, "\n")) {
        char cmd[EXPORT_PATH_MAX + 16];
        if (saved[0] && !strncmp(line, "load model ", 11)) {
            if (strpbrk(saved, "\"")) {
                cli_print(stderr, "thaw export: %s: a double quote cannot be passed on\n", saved);
                rc = 1;
                break;
            }
            snprintf(cmd, sizeof cmd, "load model \"%s\"", saved);
            line = cmd;
        }
        rc = cli_exec(a, c, line);
    }
    free(text);
    return rc;
}

/* `thaw export pytorch ...`; argv[1] is "pytorch". */
static int export_pytorch(int argc, char **argv)
{
    if (argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")))
        return usage(), 0;
    if (argc < 4) {
        cli_print(stderr, "thaw export pytorch: RUN_OR_MODEL and DIR are needed\n");
        return usage();
    }
    char dir[EXPORT_PATH_MAX - 32];   /* room for ".tmp-PID" beside it */
    if (snprintf(dir, sizeof dir, "%s", argv[3]) >= (int)sizeof dir) {
        cli_print(stderr, "thaw export: %s: the path is too long\n", argv[3]);
        return 1;
    }
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';                 /* "out/" is the folder out */
    const char *src = argv[2], *data = NULL, *strat = NULL;
    const char *set[EXPORT_SETS_MAX][2];
    int nset = 0;
    for (int i = 4; i < argc; i++) {
        int setting = app_setting_flag(argc, argv, &i, &set[nset][0], &set[nset][1]);
        if (setting > 0 && nset < EXPORT_SETS_MAX)
            nset++;
        else if (setting == 0 && (!strcmp(argv[i], "--data") || !strcmp(argv[i], "--strategy")) &&
                 i + 1 < argc) {
            *(!strcmp(argv[i], "--data") ? &data : &strat) = argv[i + 1];
            i++;
        } else {
            cli_print(stderr, "thaw export: %s %s\n", argv[i],
                      setting < 0 || !strncmp(argv[i], "--", 2) ? "needs a value or is not an option"
                                                                : "is not an option");
            return usage();
        }
    }
    struct stat st;
    if (stat(src, &st)) {
        cli_print(stderr, "thaw export: %s: no such run folder or model file\n", src);
        return 1;
    }
    int run = S_ISDIR(st.st_mode);
    if (!run && !data) {
        cli_print(stderr, "thaw export: %s is a model file: --data SPEC is needed\n", src);
        return 2;
    }
    if (!stat(dir, &st)) {
        cli_print(stderr, "thaw export: %s: already exists (%s); give a new folder\n", dir,
                  S_ISDIR(st.st_mode) ? "a folder" : "a file");
        return 1;
    }

    cli_out c;
    app a;
    cli_open(&a, &c, stderr, 1);
    int rc = run ? replay_run(&a, &c, src) : 0;
    char line[EXPORT_PATH_MAX + 32];
    for (int i = 0; i < nset && !rc; i++) {
        snprintf(line, sizeof line, "set %s %s", set[i][0], set[i][1]);
        rc = cli_exec(&a, &c, line);
    }
    if (!rc && !run) {
        snprintf(line, sizeof line, "load model \"%s\"", src);
        rc = cli_exec(&a, &c, line);
    }
    if (!rc && data) {
        snprintf(line, sizeof line, "load data \"%s\"", data);
        rc = cli_exec(&a, &c, line);
    }
    if (!rc && strat) {
        snprintf(line, sizeof line, "strategy %s", strat);
        rc = cli_exec(&a, &c, line);
    }
    if (!rc && (!a.have_plan || !a.task.nclass)) {
        cli_print(stderr, "thaw export: %s: the plan has no %s\n", src,
                  a.have_plan ? "data (give --data SPEC)" : "model");
        rc = 1;
    }
    if (rc) {
        app_free(&a);
        return 1;
    }

    char tmp[EXPORT_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", dir, (long)getpid());
    thaw_err err = { 0 };
    if (mkdir(tmp, 0777)) {
        cli_print(stderr, "thaw export: %s: cannot create the folder: %s\n", tmp, strerror(errno));
        app_free(&a);
        return 1;
    }
    rc = write_export(&a, tmp, &err);
    if (!rc && rename(tmp, dir))
        rc = thaw_fail(&err, THAW_EIO, "%s: cannot rename %s into place: %s", dir, tmp,
                       strerror(errno));
    if (rc) {
        cli_print(stderr, "thaw export: %s\n", err.msg);
        char cmd[2 * EXPORT_PATH_MAX];
        static const char *const files[] = { "model.json", "model.safetensors", "data.safetensors",
                                             "model.py", "train.py", "plan.json", RUNLOG_CSV_METADATA };
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(cmd, sizeof cmd, "%s/%s", tmp, files[i]);
            unlink(cmd);
        }
        rmdir(tmp);
    } else
        cli_print(stdout, "thaw export: %s: model.py, train.py, plan.json, model.json, "
                  "model.safetensors, data.safetensors, " RUNLOG_CSV_METADATA "\n"
                  "  train there with: torchrun --nproc_per_node=N train.py [--epochs N] [--batch N]\n",
                  dir);
    app_free(&a);
    return rc ? 1 : 0;
}

static int export_onnx(int argc, char **argv)
{
    if (argc != 4 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        cli_print(argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) ? stdout : stderr,
                  "usage: thaw export onnx MODEL.json OUT.onnx\n"
                  "  writes the model's inference graph as ONNX (opset 14; BatchNorm as\n"
                  "  BatchNormalization, dropout left out), its input \"input\" (N, C, H, W) of\n"
                  "  normalised images, its output the class scores, for ONNX Runtime or\n"
                  "  `thaw import OUT.onnx`.\n");
        return argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) ? 0 : 2;
    }
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    if (mf_load(&meta, &m, argv[2], NULL, &err)) {
        cli_print(stderr, "thaw export: %s\n", err.msg);
        return 1;
    }
    int rc = onnx_export(&meta, &m, argv[3], &err);
    if (rc)
        cli_print(stderr, "thaw export: %s\n", err.msg);
    else
        cli_print(stdout, "thaw export: wrote %s (ONNX opset 14, input %dx%dx%d, %d classes)\n", argv[3],
                  m.in.c, m.in.h, m.in.w, meta.nclass);
    model_free(&m);
    mf_meta_free(&meta);
    return rc ? 1 : 0;
}

/* The targets, by the word after `export`. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} export_targets[] = {
    { "pytorch", export_pytorch },
    { "onnx", export_onnx },
};

int cmd_export(int argc, char **argv)
{
    enum { NTARGETS = sizeof export_targets / sizeof export_targets[0] };
    for (int i = 0; argc >= 2 && i < NTARGETS; i++)
        if (!strcmp(argv[1], export_targets[i].name))
            return export_targets[i].run(argc, argv);
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (!help)
        cli_print(stderr, "thaw export: %s; the targets:", argc < 2 ? "a target is needed"
                  : "unknown target");
    else
        cli_print(stderr, "usage: thaw export TARGET ...; the targets:");
    for (int i = 0; i < NTARGETS; i++)
        cli_print(stderr, " %s", export_targets[i].name);
    cli_print(stderr, "\n");
    return help ? 0 : 2;
}
