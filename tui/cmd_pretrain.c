/* cmd_pretrain.c — `thaw pretrain`: trains the reference architecture from
 * scratch on a data spec and saves it as a model file, with provenance.
 * This is how the models thaw ships are made (`make pretrain`); the same run
 * repeats exactly for a seed and thread count.
 *
 *     thaw pretrain --data fashion:classes=0-4 --out models/fashion-resnet.json
 *
 * SGD with momentum and weight decay, batch 64, a cosine or constant
 * learning rate, optional augmentation; after every epoch the model is
 * evaluated on the spec's test split (its validation split when it has no
 * test split), and the last epoch's accuracy goes into the file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "commands.h"
#include "loss.h"
#include "modelfile.h"
#include "optim.h"
#include "task.h"

typedef struct pretrain_opts {
    const char *data, *out, *name;
    int epochs, batch, cosine;
    float lr, momentum, wd;
    unsigned long long seed;
    augment aug;
} pretrain_opts;

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

/* Accuracy of m over a split, in batches of the prepared size. */
static double evaluate(model *m, const ds_split *s, const ds_geom *g, thaw_err *err)
{
    batch_iter b;
    if (batch_init(&b, s, g, m->batch, 0, NULL, 0, err))
        return -1.0;
    long correct = 0;
    for (int n; (n = batch_next(&b)) > 0;) {
        model_forward(m, b.x, n, 0);
        correct += loss_correct(m->root->y, b.y, n, m->classes);
    }
    batch_free(&b);
    return (double)correct / s->n;
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
    optim opt;
    batch_iter train;
    int rc = 1;
    memset(&meta, 0, sizeof meta);
    memset(&m, 0, sizeof m);
    memset(&opt, 0, sizeof opt);
    memset(&train, 0, sizeof train);
    double t0 = seconds_now();
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
        mf_build(&m, &meta, o->seed, &err) || model_prepare(&m, o->batch, &err) ||
        optim_init(&opt, &m, OPTIM_SGD, &err) ||
        batch_init(&train, &t.split[TASK_TRAIN], &t.geom, o->batch, 1, &o->aug, o->seed, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    opt.momentum = o->momentum;
    opt.weight_decay = o->wd;
    model_set_lr(&m, m.root, o->lr);
    fprintf(stderr, "pretraining on %s: %d images of %d classes, %d test images; %d epochs of %d "
            "batches (loaded in %.2f s)\n", t.source, t.split[TASK_TRAIN].n, t.nclass,
            t.split[eval_split].n, o->epochs, batch_count(&train), seconds_now() - t0);
    long steps = (long)o->epochs * batch_count(&train), step = 0;
    double accuracy = 0.0;
    for (int epoch = 0; epoch < o->epochs; epoch++) {
        double start = seconds_now(), loss_sum = 0.0;
        long seen = 0, correct = 0;
        batch_epoch(&train, epoch);
        for (int n; (n = batch_next(&train)) > 0; step++) {
            float scale = o->cosine ? 0.5f * (1.0f + cosf((float)M_PI * (float)step / (float)steps)) : 1.0f;
            model_zero_grad(&m);
            model_forward(&m, train.x, n, 1);
            float loss = loss_softmax_xent(m.root->dy, m.root->y, train.y, n, m.classes);
            correct += loss_correct(m.root->y, train.y, n, m.classes);
            if (!isfinite(loss)) {
                fprintf(stderr, "\nthaw pretrain: the loss became %g at epoch %d; try a smaller "
                        "--lr\n", (double)loss, epoch + 1);
                goto done;
            }
            model_backward(&m, train.x, n);
            optim_step(&opt, &m, scale);
            loss_sum += (double)loss * n;
            seen += n;
            if (step % 20 == 0)
                fprintf(stderr, "\repoch %d/%d  %5.1f%%  loss %.4f  %.0f img/s   ", epoch + 1,
                        o->epochs, 100.0 * (double)seen / t.split[TASK_TRAIN].n, loss_sum / seen,
                        seen / (seconds_now() - start));
        }
        accuracy = evaluate(&m, &t.split[eval_split], &t.geom, &err);
        if (accuracy < 0) {
            fprintf(stderr, "\nthaw pretrain: %s\n", err.msg);
            goto done;
        }
        fprintf(stderr, "\repoch %d/%d  loss %.4f  train %.2f%%  %s %.2f%%  %.0f s            \n",
                epoch + 1, o->epochs, loss_sum / seen, 100.0 * correct / seen,
                task_split_names[eval_split], 100.0 * accuracy, seconds_now() - start);
    }
    describe(&meta, &t, o, accuracy);
    if (mf_save(o->out, &meta, &m, &err)) {
        fprintf(stderr, "thaw pretrain: %s\n", err.msg);
        goto done;
    }
    printf("%s: %s accuracy %.2f%% after %d epochs\n", o->out, task_split_names[eval_split],
           100.0 * accuracy, o->epochs);
    rc = 0;
done:
    batch_free(&train);
    optim_free(&opt);
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
