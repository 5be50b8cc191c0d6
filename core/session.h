/* session.h — a training session: the transferred model and its scratch
 * baseline training on their own thread, controlled from outside, streaming
 * what happens.
 *
 *     sess_config c;
 *     sess_config_default(&c);
 *     c.epochs = 30;
 *     session *s;
 *     if (sess_new(&s, &transfer, &scratch, NULL, &data, &c, &err)) ... err.msg ...
 *     sess_control(s, &(sess_ctl){ .op = SESS_TRAIN, .count = 30 }, &err);
 *     for (sess_event ev; sess_state(s) != SESS_IDLE || sess_poll(s, &ev, 0);)
 *         if (sess_poll(s, &ev, 100)) ... ev.kind == SEV_EVAL: ev.eval.delta ...
 *     sess_free(s);
 *
 * Ownership. sess_new moves the models into the session (also on failure),
 * leaving the caller's structs empty, and starts the trainer thread, which
 * from then on is the only code that touches them; it
 * sits idle until told to train. The data arrays are only read and must
 * outlive the session. The layer tree's structure (names, paths, shapes,
 * slice names and sizes) never changes and may be read from any thread;
 * frozen flags, rates and weights may not — read them from sess_layers.
 *
 * Control. sess_control queues a command; the trainer applies it at the next
 * step boundary (at once when idle or paused), and every applied change to
 * freezing or rates comes back as an SEV_CHANGE event carrying the step, so
 * plots can mark it. Paths are checked when queued. No loop on the trainer
 * makes a command wait long: a queued command ends an lr-find sweep at its
 * next step and interrupts a feature-cache fill within 256 images
 * (the fill goes on after it), and a queued stop (or sess_free) cuts an
 * evaluation short as quickly.
 *
 * Events. The trainer pushes events into a bounded single-producer,
 * single-consumer queue and never waits: when the queue is full the event is
 * dropped and counted (sess_dropped). One thread reads them with sess_poll;
 * sess_fd is readable whenever events may be waiting, for poll(2) loops.
 * Hooks (sess_hooks) run on the trainer thread for every evaluation and
 * change, and for every step when asked, lossless, for writers that must
 * see every row (the run folder, thaw pretrain's progress line).
 *
 * Δtransfer. The baseline is the same architecture with a fresh seeded
 * initialisation, everything trainable at its own base rate, trained on the
 * same batches (same order, same augmentation) under the same schedule; on a
 * second thread when c.parallel is set. Every evaluation reports both models'
 * validation accuracy and delta = Acc(transfer) − Acc(scratch); the
 * evaluation at the end of each train command adds the test split.
 * Without a baseline (scratch NULL or c.baseline 0) the session simply
 * trains one model — how `thaw pretrain` trains from scratch — and the
 * baseline's fields of every evaluation are NaN.
 *
 * Non-finite values. Before each step the trainer keeps a copy of the
 * parameter block; a loss, gradient or updated weight that is NaN or Inf
 * puts the copy back (the last good weights), pauses the session and sends
 * SEV_NONFINITE naming the layer.
 *
 * Early stopping (c.patience > 0) watches the transferred model's validation
 * accuracy (ties go to the lower validation loss): after `patience`
 * evaluations without improvement training stops, and both models get back
 * the weights of their best evaluation.
 *
 * Feature caching. When augmentation is off and a prefix of the root's
 * children is entirely frozen (BatchNorm included, no dropout), the
 * transferred model's training and evaluation images are run through that
 * prefix once and kept (within c.cache_bytes); training then starts from the
 * cached features. Thawing a cached layer drops the cache.
 */
#ifndef THAW_SESSION_H
#define THAW_SESSION_H

#include <stddef.h>

#include "adapt.h"
#include "model.h"
#include "optim.h"
#include "schedule.h"
#include "strategy.h"

enum { SESS_TRAIN_SPLIT, SESS_VAL_SPLIT, SESS_TEST_SPLIT, SESS_SOURCE_SPLIT, SESS_DOMAIN_SPLIT,
       SESS_SPLITS };
enum { SESS_GAP_IMAGES = 400 };

/* Images (n, in.c, in.h, in.w), normalised, and labels. */
typedef struct sess_split {
    const float *x;
    const int *y;
    int n;
} sess_split;

typedef struct sess_data {
    shape3 in;
    int classes;
    /* train, val, test; source: the source task's test images labelled in
     * the source model's classes (n = 0 when not at hand); domain: labelled
     * source-domain images in the target's classes, which the adaptation
     * techniques that use a source train on (adapt.h; n = 0: none). */
    sess_split split[SESS_SPLITS];
    /* One augmented copy of a training image (NULL: no augmentation). */
    void (*augment)(void *ctx, float *dst, const float *src, rng *r);
    void *augment_ctx;
    /* The target's unlabelled pool, for self-training: pool_n images, image
     * i written normalised into dst (in.c, in.h, in.w) by pool_image; pool_y
     * their labels, to measure pseudo-labels only (NULL: not known). */
    int pool_n;
    const int *pool_y;
    void (*pool_image)(void *ctx, int i, float *dst);
    void *pool_ctx;
} sess_data;

typedef struct sess_config {
    int batch;                 /* 32 */
    optim_kind optimizer;      /* SGD */
    float momentum;            /* 0.9 (SGD) */
    float weight_decay;        /* 5e-4 */
    float scratch_lr;          /* the baseline's rate for every slice: 0.01 */
    schedule sched;            /* constant */
    int baseline;              /* 1: train the scratch baseline */
    int parallel;              /* 1: the baseline on a second thread */
    int patience;              /* early stopping; 0 = off */
    int evals_per_epoch;       /* 1 */
    unsigned long long seed;   /* data order and augmentation: 1 */
    size_t cache_bytes;        /* feature cache budget: 512 MiB; 0 = off */
    size_t memory_bytes;       /* everything the session holds (see sess_new): half the
                                  physical memory; 0 = no limit */
    adapt adapt;               /* domain adaptation (adapt.h): none */
} sess_config;

void sess_config_default(sess_config *c);

typedef enum sess_state {
    SESS_IDLE,        /* not training; commands apply at once */
    SESS_RUNNING,
    SESS_PAUSED,
} sess_state;

typedef enum sess_op {
    SESS_TRAIN,       /* train `count` more epochs (continues the epoch count) */
    SESS_PAUSE,
    SESS_RESUME,
    SESS_STOP,        /* ends the current train command after the step (count 1: quickly,
                         its final evaluation without passes over the data: a stop
                         signal's); stops a running evaluation or lr-find early */
    SESS_STEP,        /* one step, then pause (starts a train of 1 epoch when idle) */
    SESS_FREEZE,      /* path */
    SESS_UNFREEZE,    /* path */
    SESS_LR,          /* path, value: the rate of every slice under path */
    SESS_STRATEGY,    /* strat, value: base rate */
    SESS_THAW_AT,     /* path, count: thaw path at the start of epoch count */
    SESS_EVAL,        /* evaluate now (val and test) */
    SESS_LRFIND,      /* value: start rate, value2: end rate, count: steps */
    SESS_CONFIGURE,   /* config: replaces the configuration (idle only) */
    SESS_CALL,        /* call(call_ctx, transfer, scratch, report) on the trainer thread
                         at the next step boundary: how a front end saves while training.
                         A text the call leaves in report goes out as an event of the
                         kind it sets (SEV_NOTE or SEV_ERROR); a call sess_free discards
                         is made with NULL models, so its context can be released */
    SESS_OPS
} sess_op;

struct sess_event;

typedef struct sess_ctl {
    sess_op op;
    char path[LAYER_PATH_MAX];   /* "" is the whole model */
    double value, value2;
    int count;
    strategy strat;
    sess_config config;
    void (*call)(void *ctx, const model *transfer, const model *scratch, struct sess_event *report);
    void *call_ctx;
    /* When the command applies: at the first step boundary once at_step
     * steps have been taken (0: at once). A replay applies a mid-run change
     * where the run it replays did. */
    long at_step;
    /* The caller's number for the command, echoed in the count of the
     * SEV_CHANGE events it makes (0: none). */
    int tag;
} sess_ctl;

/* One evaluation: a row of metrics.csv. Values not measured are NaN. Its
 * fields are listed once, X(ID, type, field), and the list makes the struct,
 * the columns of metrics.csv, the keys of metrics.jsonl and the metrics of
 * `expect` (tui/metrics.h):
 *   epoch       epochs completed (fractional evaluations round down)
 *   step        steps taken
 *   wall        seconds since training began: steps and evaluations (pauses
 *               and time waiting for commands not counted)
 *   train_s     seconds of training steps alone (img_s's clock)
 *   img_s       training images per second since the last evaluation
 *   lr          the head's current rate; scratch_lr the baseline's
 *   train_*     since the last evaluation; scratch_* the baseline's
 *   delta       Acc(transfer) − Acc(scratch) on validation; test_delta on test
 *   source_acc  the backbone with the source head, on the source's test images
 *   final       the evaluation at the end of a train command
 *   best        the best so far (see early stopping)
 *   pseudo_n    self-training: pseudo-labelled pool images in training (0: none)
 *   pseudo_acc  the share of them whose pseudo-label is right (NaN: none, or
 *               the pool's labels are not known)
 *   align_loss  mmd: the mean MMD² between source and target features at the
 *               adapted layer since the last evaluation; dann: the domain
 *               classifier's mean loss (log 2 ≈ 0.69 when it cannot tell the
 *               domains apart); NaN for the other techniques
 *   domain_gap  the proxy A-distance 2 (1 - 2 err) between source and target
 *               at the transferred model's features before its head: a
 *               domain classifier (adapt_reweight.h) fitted on half of up to
 *               SESS_GAP_IMAGES source images (the domain split's,
 *               else the source test images) and as many target
 *               validation images, err its error on the other half; 0 when
 *               the domains cannot be told apart, 2 when they are separate
 *               (NaN: no source images at hand) */
#define SESS_EVAL_FIELDS(X)                                                                       \
    X(EPOCH, int, epoch) X(STEP, long, step) X(WALL, double, wall) X(IMG_S, double, img_s)       \
    X(TRAIN_S, double, train_s)                                                                 \
    X(LR, double, lr) X(SCRATCH_LR, double, scratch_lr) X(TRAIN_LOSS, double, train_loss)        \
    X(TRAIN_ACC, double, train_acc) X(VAL_LOSS, double, val_loss) X(VAL_ACC, double, val_acc)    \
    X(TEST_ACC, double, test_acc) X(SCRATCH_TRAIN_LOSS, double, scratch_train_loss)              \
    X(SCRATCH_TRAIN_ACC, double, scratch_train_acc) X(SCRATCH_VAL_LOSS, double, scratch_val_loss) \
    X(SCRATCH_VAL_ACC, double, scratch_val_acc) X(SCRATCH_TEST_ACC, double, scratch_test_acc)    \
    X(DELTA, double, delta) X(TEST_DELTA, double, test_delta) X(SOURCE_ACC, double, source_acc)  \
    X(FINAL, int, final) X(BEST, int, best) X(PSEUDO_N, int, pseudo_n)                            \
    X(PSEUDO_ACC, double, pseudo_acc) X(ALIGN_LOSS, double, align_loss)                          \
    X(DOMAIN_GAP, double, domain_gap)

typedef struct sess_eval {
#define SESS_EVAL_MEMBER(id, type, field) type field;
    SESS_EVAL_FIELDS(SESS_EVAL_MEMBER)
#undef SESS_EVAL_MEMBER
} sess_eval;

typedef enum sess_event_kind {
    SEV_STEP,         /* one step: value = loss, value2 = lr, count = images */
    SEV_EVAL,         /* eval */
    SEV_CHANGE,       /* text: a change to freezing or rates, applied at step; count: its tag */
    SEV_STATE,        /* state: the session changed state; text says why */
    SEV_NONFINITE,    /* text names the layer, value = the loss; the session paused */
    SEV_LRFIND,       /* value = rate, value2 = smoothed loss; count < 0: done, value = suggestion */
    SEV_ERROR,        /* text */
    SEV_NOTE,         /* text: what a SESS_CALL reported */
    SEV_TESTING,      /* the final pass over the test split: count images done of value */
} sess_event_kind;

typedef struct sess_event {
    sess_event_kind kind;
    int epoch;
    long step;
    sess_state state;
    double value, value2;
    int count;
    sess_eval eval;
    char text[192];
} sess_event;

/* Per leaf layer with parameters, in tree order. Norms are over the layer's
 * weights (convolution and linear weights and biases, BatchNorm scale and
 * shift); stat_drift over its running statistics. */
typedef struct sess_layer {
    const layer *l;
    int frozen;                  /* 0 trainable, 1 frozen, 2 partly */
    float lr;                    /* the rate of its first trainable slice (of its first slice if none) */
    double grad_norm;            /* of the last step's gradient */
    double drift;                /* ‖W − W₀‖ / ‖W₀‖ against the weights at sess_new */
    double update_ratio;         /* ‖ΔW‖ / ‖W‖ of the last step */
    double stat_drift;           /* ‖S − S₀‖ / ‖S₀‖ of BatchNorm running statistics; 0 otherwise */
    /* The squared sums behind them, for containers to add up: ‖W‖², ‖W₀‖²,
     * ‖W − W₀‖², ‖ΔW‖², ‖g‖², ‖S − S₀‖², ‖S₀‖². */
    double w2, w02, d2, u2, g2, s2, s02;
} sess_layer;

/* The last evaluation's per-class view of the transferred model. */
typedef struct sess_confusion {
    int classes;
    int split;                   /* SESS_VAL_SPLIT or SESS_TEST_SPLIT */
    long *count;                 /* (classes, classes): row = true class, column = predicted */
} sess_confusion;

typedef struct sess_hooks {
    void *ctx;
    /* After each evaluation, with the models at that point (read only). */
    void (*eval)(void *ctx, const sess_eval *e, const model *transfer, const model *scratch);
    /* For every applied change to freezing or rates, and state changes. */
    void (*event)(void *ctx, const sess_event *ev);
    /* After every training step, an SEV_STEP event (the queue gets at most
     * one per 20 ms). NULL: none. */
    void (*step)(void *ctx, const sess_event *ev);
} sess_hooks;

typedef struct session session;

/* Takes transfer, scratch (NULL when there is no baseline) and source (the
 * source model with its own head for the forgetting monitor, or NULL) and
 * starts the idle trainer thread. THAW_EINVAL when a model does not match
 * the data, or when what the session would hold — the models' weights,
 * gradients and optimizer state, their activations for a batch, the batch
 * buffers and the data's images (the pool's too, when c->adapt trains on
 * it) — is more than c->memory_bytes (the message gives both figures),
 * THAW_ENOMEM. The same check refuses a
 * SESS_CONFIGURE with a larger batch (an SEV_ERROR); the feature cache is
 * kept only within what is left. A batch larger than the training split is
 * prepared at the split's size. hooks may be NULL. */
int sess_new(session **s, model *transfer, model *scratch, model *source, const sess_data *d,
             const sess_config *c, const sess_hooks *hooks, thaw_err *err);

/* The check sess_new makes of c->memory_bytes, for a front end to make
 * before it hands its models over: *need gets the bytes; THAW_EINVAL with
 * both figures when that is over the budget. scratch and source may be
 * NULL; the models' buffers stay as they are. */
int sess_memory_check(model *transfer, model *scratch, model *source, const sess_data *d,
                      const sess_config *c, size_t *need, thaw_err *err);

/* Stops training, joins the thread and frees everything, models included. */
void sess_free(session *s);

/* Queues a command. THAW_ENOTFOUND for a path that is not in the model,
 * THAW_EINVAL for a value out of range or a command the state does not allow
 * (lrfind while running), THAW_ENOMEM when the command queue is full. */
int sess_control(session *s, const sess_ctl *c, thaw_err *err);

/* Waits up to timeout_ms (0: not at all, < 0: forever) for an event; 1 when
 * *ev holds one, 0 on timeout or when a signal interrupted the wait. One
 * reader at a time. */
int sess_poll(session *s, sess_event *ev, int timeout_ms);
int sess_fd(const session *s);
long sess_dropped(const session *s);

sess_state sess_state_now(const session *s);
/* 1 while the trainer is running or has commands to apply. */
int sess_busy(session *s);
/* Blocks until the trainer is idle (or paused) with every queued command
 * applied; events stay queued for sess_poll. */
void sess_wait(session *s);
/* As sess_wait for at most timeout_ms; 1 when the trainer settled, 0 on timeout. */
int sess_wait_ms(session *s, int timeout_ms);

/* Copies the newest per-layer view into out (up to cap), returns the count. */
int sess_layers(session *s, sess_layer *out, int cap);
/* Copies the last evaluation's confusion matrix (count must hold classes²). */
int sess_confusion_get(session *s, sess_confusion *out);

/* reweight: the source images' weights from the last fit, as many as fit
 * in cap, in the domain split's order; returns how many there are (0 before
 * a fit, and for the other techniques). Any thread. */
int sess_weights(session *s, float *out, int cap);

/* Epochs completed. */
int sess_epoch(const session *s);

/* Between train commands only (idle): the models, for saving. */
const model *sess_model(const session *s, int scratch);

#endif
