/* cmd_pretrain.c — `thaw pretrain`: trains the reference architecture from
 * scratch on a data spec and saves it as a model file, with provenance.
 * This is how the models thaw ships are made (`make pretrain`); the same run
 * repeats exactly for a seed and thread count.
 *
 *     thaw pretrain --data fashion:classes=0-4 --out models/fashion-resnet.json
 *
 * The training is a session's (session.h) without a baseline: SGD with
 * momentum and weight decay, batch 64, a cosine or constant learning rate,
 * optional augmentation. After every epoch the model is evaluated on the
 * spec's test split (its validation split when it has no test split), and
 * the last epoch's accuracy goes into the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "clock.h"
#include "commands.h"
#include "modelfile.h"
#include "session.h"
#include "task.h"

typedef struct pretrain_opts {
    const char *data, *out, *name;
    int epochs, batch, cosine;
    float lr, momentum, wd;
    unsigned long long seed;
    augment aug;
} pretrain_opts;

static int usage(void)
{
    fprintf(stderr,
            "usage: thaw pretrain --data SPEC --out MODEL.json [--epochs N] [--lr X]\n"
            "                     [--momentum X] [--wd X] [--batch N] [--seed N]\n"
            "                     [--schedule cosine|constant] [--augment LIST] [--name TEXT]\n"
            "defaults: 3 epochs, lr 0.05, momentum 0.9, wd 5e-4, batch 64, seed 1, cosine,\n"
            "no augmentation; --name is the data set's name in the provenance\n");
    return 2;
}

static int parse_args(pretrain_opts *o, int argc, char **argv)
{
    *o = (pretrain_opts){ .epochs = 3, .batch = 64, .cosine = 1, .lr = 0.05f,
                          .momentum = 0.9f, .wd = 5e-4f, .seed = 1 };
    thaw_err err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(), -1;
        if (!v) {
            fprintf(stderr, "thaw pretrain: %s needs a value\n", a);
            return usage();
        }
        i++;
        if (!strcmp(a, "--data"))
            o->data = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--name"))
            o->name = v;
        else if (!strcmp(a, "--epochs"))
            o->epochs = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--batch"))
            o->batch = (int)strtol(v, &end, 10);
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, &end, 10);
        else if (!strcmp(a, "--lr"))
            o->lr = strtof(v, &end);
        else if (!strcmp(a, "--momentum"))
            o->momentum = strtof(v, &end);
        else if (!strcmp(a, "--wd"))
            o->wd = strtof(v, &end);
        else if (!strcmp(a, "--schedule")) {
            if (strcmp(v, "cosine") && strcmp(v, "constant")) {
                fprintf(stderr, "thaw pretrain: --schedule %s: expected cosine or constant\n", v);
                return 2;
            }
            o->cosine = !strcmp(v, "cosine");
        } else if (!strcmp(a, "--augment")) {
            if (augment_parse(&o->aug, v, &err)) {
                fprintf(stderr, "thaw pretrain: --augment: %s\n", err.msg);
                return 2;
            }
        } else {
            fprintf(stderr, "thaw pretrain: unknown option %s\n", a);
            return usage();
        }
        if (end && *end) {
            fprintf(stderr, "thaw pretrain: %s %s: expected a number\n", a, v);
            return 2;
        }
    }
    if (!o->data || !o->out)
        return usage();
    if (o->epochs < 1 || o->epochs > 1000 || o->batch < 1 || o->batch > 4096 ||
        !(o->lr > 0.0f && o->lr < 10.0f) || !(o->momentum >= 0.0f && o->momentum < 1.0f) ||
        !(o->wd >= 0.0f && o->wd < 1.0f)) {
        fprintf(stderr, "thaw pretrain: expected 1-1000 epochs, batch 1-4096, lr in (0, 10), "
                        "momentum in [0, 1), wd in [0, 1)\n");
        return 2;
    }
    return 0;
}

/* One pretraining run as the session's hooks see it, on its trainer thread;
 * the main thread reads it back after sess_wait. */
typedef struct pretrain_run {
    const pretrain_opts *o;
    const ds_geom *geom;
    int ntrain;
    const char *scored;            /* the evaluated split's name */
    double start;                  /* the epoch's start */
    double loss_sum;               /* the epoch's so far, for the progress line */
    long seen;
    double accuracy;               /* the last evaluation's */
    int failed;
} pretrain_run;

static void augment_one(void *ctx, float *dst, const float *src, rng *r)
{
    const pretrain_run *run = ctx;
    augment_sample(&run->o->aug, run->geom, dst, src, r);
}

static void on_step(void *ctx, const sess_event *ev)
{
    pretrain_run *run = ctx;
    run->loss_sum += ev->value * ev->count;
    run->seen += ev->count;
    if ((ev->step - 1) % 20 == 0)
        fprintf(stderr, "\repoch %d/%d  %5.1f%%  loss %.4f  %.0f img/s   ", ev->epoch + 1,
                run->o->epochs, 100.0 * (double)run->seen / run->ntrain, run->loss_sum / run->seen,
                run->seen / (thaw_now_s() - run->start));
}

static void on_eval(void *ctx, const sess_eval *e, const model *m, const model *scratch)
{
    (void)m;
    (void)scratch;
    pretrain_run *run = ctx;
    run->accuracy = e->val_acc;
    fprintf(stderr, "\repoch %d/%d  loss %.4f  train %.2f%%  %s %.2f%%  %.0f s            \n",
            e->epoch, run->o->epochs, e->train_loss, 100.0 * e->train_acc, run->scored,
            100.0 * e->val_acc, thaw_now_s() - run->start);
    run->start = thaw_now_s();
    run->loss_sum = 0.0;
    run->seen = 0;
}

static void on_event(void *ctx, const sess_event *ev)
{
    pretrain_run *run = ctx;
    if (ev->kind != SEV_NONFINITE)
        return;
    run->failed = 1;
    if (!isfinite(ev->value))
        fprintf(stderr, "\nthaw pretrain: the loss became %g at epoch %d; try a smaller --lr\n",
                ev->value, ev->epoch + 1);
    else
        fprintf(stderr, "\nthaw pretrain: %s (epoch %d); try a smaller --lr\n", ev->text,
                ev->epoch + 1);
}

static sess_split from_task(const ds_split *sp)
{
    return (sess_split){ sp->x, sp->y, sp->n };
}

/* Fills meta's class names, normalisation and provenance from the task. */
static int describe(mf_meta *meta, const task *t, const pretrain_opts *o, double accuracy)
{
    for (int k = 0; k < t->nclass; k++)
        snprintf(meta->class_name[k], MF_TEXT_MAX, "%s", t->name[k]);
    for (int c = 0; c < t->geom.in.c; c++) {
        meta->mean[c] = t->geom.mean[c];
        meta->std[c] = t->geom.std[c];
    }
    mf_provenance *p = &meta->prov;
    snprintf(p->dataset, sizeof p->dataset, "%s", o->name ? o->name : t->source);
    p->ndataset_classes = t->nclass;
    for (int k = 0; k < t->nclass; k++)
        p->dataset_classes[k] = t->orig[k];
    p->epochs = o->epochs;
    p->seed = (long long)o->seed;
    p->test_accuracy = accuracy;
    p->finetuned_from[0] = '\0';
    return 0;
}

static int pretrain(const pretrain_opts *o)
{
    thaw_err err = {0};
    task t;
    mf_meta meta;
    model m;
    session *s = NULL;
    int rc = 1;
    memset(&meta, 0, sizeof meta);
    memset(&m, 0, sizeof m);
    double t0 = thaw_now_s();
    if (task_load(&t, o->data, NULL, o->seed, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        return 1;
    }
    int eval_split = t.split[TASK_TEST].n > 0 ? TASK_TEST : TASK_VAL;
    if (t.split[TASK_TRAIN].n == 0 || t.split[eval_split].n == 0) {
        fprintf(stderr, "thaw pretrain: %s has no training images or nothing to evaluate on\n", o->data);
        goto done;
    }
    if (mf_meta_reference(&meta, t.geom.in, t.nclass, &err) ||
        mf_build(&m, &meta, o->seed, &err) || augment_check(&o->aug, &t.geom, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    model_set_lr(&m, m.root, o->lr);
    sess_config c;
    sess_config_default(&c);
    c.batch = o->batch;
    c.momentum = o->momentum;
    c.weight_decay = o->wd;
    c.baseline = 0;
    c.seed = o->seed;
    schedule_default(&c.sched, o->cosine ? SCHED_COSINE : SCHED_CONSTANT);
    pretrain_run run = { .o = o, .geom = &t.geom, .ntrain = t.split[TASK_TRAIN].n,
                         .scored = task_split_names[eval_split] };
    /* The scored split stands in the validation slot: the session evaluates
     * that one at the end of every epoch. */
    sess_data d = { .in = t.geom.in, .classes = t.nclass };
    d.split[SESS_TRAIN_SPLIT] = from_task(&t.split[TASK_TRAIN]);
    d.split[SESS_VAL_SPLIT] = from_task(&t.split[eval_split]);
    if (o->aug.shift || o->aug.flip || o->aug.noise > 0.0f) {
        d.augment = augment_one;
        d.augment_ctx = &run;
    }
    sess_hooks h = { .ctx = &run, .eval = on_eval, .event = on_event, .step = on_step };
    if (sess_new(&s, &m, NULL, NULL, &d, &c, &h, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    fprintf(stderr, "pretraining on %s: %d images of %d classes, %d test images; %d epochs of %d "
            "batches (loaded in %.2f s)\n", t.source, t.split[TASK_TRAIN].n, t.nclass,
            t.split[eval_split].n, o->epochs, (run.ntrain + o->batch - 1) / o->batch,
            thaw_now_s() - t0);
    run.start = thaw_now_s();
    if (sess_control(s, &(sess_ctl){ .op = SESS_TRAIN, .count = o->epochs }, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    sess_wait(s);
    if (run.failed)
        goto done;
    describe(&meta, &t, o, run.accuracy);
    if (mf_save(o->out, &meta, sess_model(s, 0), &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    printf("%s: %s accuracy %.2f%% after %d epochs\n", o->out, task_split_names[eval_split],
           100.0 * run.accuracy, o->epochs);
    rc = 0;
done:
    sess_free(s);
    model_free(&m);
    mf_meta_free(&meta);
    task_free(&t);
    return rc;
}

int cmd_pretrain(int argc, char **argv)
{
    pretrain_opts o;
    int rc = parse_args(&o, argc, argv);
    return rc < 0 ? 0 : rc ? rc : pretrain(&o);
}
