/* cmd_pretrain.c — `thaw pretrain`: trains the reference architecture from
 * scratch on a data spec and saves it as a model file, with provenance.
 * This is how the models thaw ships are made (`make pretrain`); the same run
 * repeats exactly for a seed and thread count.
 *
 *     thaw pretrain --data fashion:classes=0-4 --out models/fashion-resnet.json
 *
 * The training is a session's (session.h) without a baseline, configured by
 * the settings of `set` (app.h) given as flags, with pretraining's defaults:
 * SGD with momentum and weight decay, batch 64, a cosine schedule, no
 * augmentation. After every epoch the model is evaluated on the
 * spec's test split (its validation split when it has no test split), and
 * the last epoch's accuracy goes into the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "app.h"
#include "augment.h"
#include "clock.h"
#include "commands.h"
#include "modelfile.h"
#include "session.h"
#include "task.h"

typedef struct pretrain_opts {
    const char *data, *out, *name;
    app_settings set;               /* the settings of `set`, with pretraining's defaults */
} pretrain_opts;

/* Settings that mean nothing when one model trains from scratch on the
 * scored split: refused rather than ignored. */
static const char *const unused_settings[] = {
    "scratch-lr", "baseline", "parallel", "train-bn", "early-stop", "cache-mb", NULL,
};

static int usage(void)
{
    char flags[1024];
    app_setting_flags_usage(flags, sizeof flags, "                     ", 92);
    cli_print(stderr,
              "usage: thaw pretrain --data SPEC --out MODEL.json [--name TEXT] and the settings of\n"
              "                     `set` that shape one model's training:\n"
              "                     %s\n"
              "defaults: 3 epochs, lr 0.05, momentum 0.9, wd 5e-4, batch 64, seed 1, schedule\n"
              "cosine, no augmentation; --name is the data set's name in the provenance; not\n"
              "for pretraining: --scratch-lr, --baseline, --parallel, --train-bn, --early-stop,\n"
              "--cache-mb\n", flags);
    return 2;
}

static void pretrain_defaults(app_settings *s)
{
    app_settings_default(s);
    s->epochs = 3;
    s->lr = 0.05f;
    s->sess.batch = 64;
    s->sess.momentum = 0.9f;
    s->sess.weight_decay = 5e-4f;
    s->sess.baseline = 0;
    s->sess.parallel = 0;
    s->seed = 1;
    schedule_default(&s->sess.sched, SCHED_COSINE);
}

static int parse_args(pretrain_opts *o, int argc, char **argv)
{
    *o = (pretrain_opts){ 0 };
    pretrain_defaults(&o->set);
    thaw_err err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *key, *value;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(), -1;
        int setting = app_setting_flag(argc, argv, &i, &key, &value);
        if (setting > 0) {
            for (const char *const *u = unused_settings; *u; u++)
                if (!strcmp(key, *u)) {
                    cli_print(stderr, "thaw pretrain: %s: not a setting of pretraining, where one "
                                    "model trains from scratch\n", a);
                    return 2;
                }
            if (app_settings_set(&o->set, key, value, &err)) {
                cli_print(stderr, "thaw pretrain: %s %s: %s\n", a, value, err.msg);
                return 2;
            }
            continue;
        }
        const char **slot = !strcmp(a, "--data") ? &o->data : !strcmp(a, "--out") ? &o->out
                          : !strcmp(a, "--name") ? &o->name : NULL;
        if (setting < 0 || (slot && i + 1 >= argc)) {
            cli_print(stderr, "thaw pretrain: %s needs a value\n", a);
            return usage();
        }
        if (!slot) {
            cli_print(stderr, "thaw pretrain: unknown option %s\n", a);
            return usage();
        }
        *slot = argv[++i];
    }
    if (!o->data || !o->out)
        return usage();
    o->set.sess.seed = o->set.seed;
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
    augment_sample(&run->o->set.aug, run->geom, dst, src, r);
}

static void on_step(void *ctx, const sess_event *ev)
{
    pretrain_run *run = ctx;
    run->loss_sum += ev->value * ev->count;
    run->seen += ev->count;
    if ((ev->step - 1) % 20 == 0)
        fprintf(stderr, "\repoch %d/%d  %5.1f%%  loss %.4f  %.0f img/s   ", ev->epoch + 1,
                run->o->set.epochs, 100.0 * (double)run->seen / run->ntrain, run->loss_sum / run->seen,
                run->seen / (thaw_now_s() - run->start));
}

static void on_eval(void *ctx, const sess_eval *e, const model *m, const model *scratch)
{
    (void)m;
    (void)scratch;
    pretrain_run *run = ctx;
    run->accuracy = e->val_acc;
    fprintf(stderr, "\repoch %d/%d  loss %.4f  train %.2f%%  %s %.2f%%  %.0f s            \n",
            e->epoch, run->o->set.epochs, e->train_loss, 100.0 * e->train_acc, run->scored,
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
        cli_print(stderr, "\nthaw pretrain: the loss became %g at epoch %d; try a smaller --lr\n",
                  ev->value, ev->epoch + 1);
    else
        cli_print(stderr, "\nthaw pretrain: %s (epoch %d); try a smaller --lr\n", ev->text,
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
    p->epochs = o->set.epochs;
    p->seed = (long long)o->set.seed;
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
    if (task_load(&t, o->data, NULL, o->set.seed, &err)) {
        cli_print(stderr, "thaw pretrain: %s\n", err.msg);
        return 1;
    }
    int eval_split = t.split[TASK_TEST].n > 0 ? TASK_TEST : TASK_VAL;
    if (t.split[TASK_TRAIN].n == 0 || t.split[eval_split].n == 0) {
        cli_print(stderr, "thaw pretrain: %s has no training images or nothing to evaluate on\n", o->data);
        goto done;
    }
    if (mf_meta_reference(&meta, t.geom.in, t.nclass, &err) ||
        mf_build(&m, &meta, o->set.seed, &err) || augment_check(&o->set.aug, &t.geom, &err)) {
        cli_print(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    model_set_lr(&m, m.root, o->set.lr);
    pretrain_run run = { .o = o, .geom = &t.geom, .ntrain = t.split[TASK_TRAIN].n,
                         .scored = task_split_names[eval_split] };
    /* The scored split stands in the validation slot: the session evaluates
     * that one at the end of every epoch. */
    sess_data d = { .in = t.geom.in, .classes = t.nclass };
    d.split[SESS_TRAIN_SPLIT] = from_task(&t.split[TASK_TRAIN]);
    d.split[SESS_VAL_SPLIT] = from_task(&t.split[eval_split]);
    if (o->set.aug.shift || o->set.aug.flip || o->set.aug.noise > 0.0f) {
        d.augment = augment_one;
        d.augment_ctx = &run;
    }
    sess_hooks h = { .ctx = &run, .eval = on_eval, .event = on_event, .step = on_step };
    if (sess_new(&s, &m, NULL, NULL, &d, &o->set.sess, &h, &err)) {
        cli_print(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    cli_print(stderr, "pretraining on %s: %d images of %d classes, %d test images; %d epochs of %d "
              "batches (loaded in %.2f s)\n", t.source, t.split[TASK_TRAIN].n, t.nclass,
              t.split[eval_split].n, o->set.epochs, (run.ntrain + o->set.sess.batch - 1) / o->set.sess.batch,
              thaw_now_s() - t0);
    run.start = thaw_now_s();
    if (sess_control(s, &(sess_ctl){ .op = SESS_TRAIN, .count = o->set.epochs }, &err)) {
        cli_print(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    sess_wait(s);
    if (run.failed)
        goto done;
    describe(&meta, &t, o, run.accuracy);
    if (mf_save(o->out, &meta, sess_model(s, 0), &err)) {
        cli_print(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    cli_print(stdout, "%s: %s accuracy %.2f%% after %d epochs\n", o->out, task_split_names[eval_split],
              100.0 * run.accuracy, o->set.epochs);
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
