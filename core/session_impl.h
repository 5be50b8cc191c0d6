/* session_impl.h — the inside of a training session, shared by its files and
 * by nothing else (the public side is session.h):
 *
 *   session.c          lifecycle, the trainer and baseline threads, the
 *                      control queue, the event queue, state changes
 *   session_control.c  what each queued command does when the trainer applies it
 *   session_train.c    one training step, batches (shuffle and gather), the
 *                      feature cache, the end of a train command
 *   session_eval.c     evaluation, the forgetting monitor, per-layer
 *                      diagnostics and the confusion matrix
 *   session_lrfind.c   the learning-rate finder
 *   session_adapt.c    self-training rounds over the unlabelled pool, the
 *                      source images in training (weights, alignment)
 *
 * Threads. Fields above "Trainer-only" in struct session are shared and
 * guarded as their comments say; everything below is touched by the trainer
 * thread alone (and by the baseline's worker inside sess_run_pair, on the
 * baseline's replica only). Every function declared here runs on the
 * trainer thread unless it says otherwise.
 */
#ifndef THAW_SESSION_IMPL_H
#define THAW_SESSION_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "adapt_dann.h"
#include "adapt_mmd.h"
#include "session.h"

enum {
    SESS_CTL_MAX = 256,          /* queued commands */
    SESS_DEFER_MAX = 256,        /* commands waiting for their step (sess_ctl.at_step) */
    SESS_EVENT_MAX = 4096,       /* queued events */
    SESS_STEP_EVENT_MS = 20,     /* at most one queued SEV_STEP per this many ms */
    SESS_DIAG_MS = 100,          /* per-layer diagnostics at most this often */
    SESS_CHUNK = 256,            /* images a fill or an evaluation runs between looks at the queue */
};

/* One model in training: the transferred one or the baseline. */
typedef struct replica {
    model *m;                /* &store, or NULL for no baseline */
    model store;
    optim opt;
    int *live;               /* slices a step may change (see sess_live_slices) */
    int nlive;
    float *good;             /* the live slices before the current step */
    float *best;             /* the block at the best evaluation (early stopping) */
    double loss_sum;         /* since the last evaluation */
    long correct, seen;
    float loss;              /* the last step's */
    char bad[LAYER_PATH_MAX + 32];   /* what went non-finite */
} replica;

/* What the trainer does next, set by commands. */
typedef struct run_state {
    int end_epoch;           /* train until this many epochs are complete */
    long start_step, total;  /* the current train command's steps, for the schedule */
    int pos;                 /* next sample of the epoch */
    rng aug;                 /* the epoch's stream after its shuffle */
    int batch_index;         /* batches done in the epoch */
    int step_once;           /* one step, then pause */
    int since_best;          /* evaluations without improvement */
    double best_acc, best_loss;
    double t_eval;           /* training seconds at the last evaluation */
    long seen_eval;          /* images at the last evaluation */
} run_state;

struct session {
    sess_data d;
    sess_config c;
    sess_hooks h;
    replica r[2];            /* transferred, scratch (r[1].m NULL without one) */
    model source_store;
    model *source;           /* &source_store or NULL */
    float *w0;               /* the transferred model's block at the start */
    int head_layer_slice0;   /* the head's first slice (kept in the source model) */
    int backbone_live;       /* a step can move something below the head */
    int source_stale;        /* the backbone moved since source_last */
    double source_last;

    pthread_t thread;
    pthread_mutex_t mu;      /* the control queue, state changes, configuration */
    pthread_cond_t wake;     /* the trainer: a command arrived */
    pthread_cond_t settled;  /* sess_wait: the trainer went idle or paused */
    sess_ctl *ctl;
    int ctl_head, ctl_n, applying, quit;
    _Atomic int state, epoch;

    sess_event *evq;         /* single producer, single consumer */
    _Atomic size_t ev_head, ev_tail;
    _Atomic long dropped;
    int pipe[2];

    /* Trainer-only from here on. */
    run_state run;
    long step;
    sess_ctl *deferred;      /* (SESS_DEFER_MAX) commands held until their at_step, in order */
    int ndeferred;
    int change_tag;          /* the tag of the command being applied, for its SEV_CHANGE */
    int per_epoch;
    int *order;              /* (train n) this epoch's order */
    float *bx;               /* (batch, c, h, w) a batch of images */
    int *by;                 /* (batch) its labels */
    thaw_plan plan;
    double t_train;          /* seconds spent training */
    double t_evaluating;     /* seconds spent in evaluations */
    size_t mem_need;         /* bytes the session holds without the feature cache */
    double last_step_event, last_diag;
    long seen_total;

    float *px;               /* (pool n, c, h, w) the pseudo-labelled pool images in training */
    int *py;                 /* (pool n) their pseudo-labels */
    int npseudo, pseudo_right;   /* how many, and how many are right (-1: unknown) */
    int pseudo_round;        /* 1 + the epoch of the last round (0: none yet) */

    int cut;                 /* reweight, mmd, dann: the root child whose output they read */
    float *sw;               /* (domain n) reweight: each source image's weight; NULL: none yet */
    float *bw;               /* (batch) the batch's weights (1 but reweighted source images) */
    int *bd;                 /* (2 batch) each row's domain: 0 source, 1 target */
    adapt_mmd_ws mmd;        /* mmd: scratch for a batch's rows */
    adapt_dann dann;         /* dann: the domain classifier (w1 NULL until the first step) */
    float *af;               /* alignment scratch: a batch's features and their gradients */
    size_t naf;              /* its floats */
    double align_sum;        /* the alignment term's sum since the last evaluation */
    long align_n;            /* and its steps */
    long pool_draws;         /* pool batches drawn (mmd, dann): the stream's position */

    int cache_first;         /* root children the cache skips; 0 = no cache (or not filled yet) */
    int cache_stale;
    int cache_plan;          /* the prefix the buffers are for (filled up to cache_pos) */
    int cache_pos[2];        /* train and validation images filled so far */
    size_t feat;             /* floats per cached sample */
    float *cache[2];         /* train and validation features */
    float *fx;               /* (batch, feat) a batch of features */

    pthread_t worker;        /* the baseline's thread when c.parallel */
    int has_worker;
    pthread_mutex_t wmu;
    pthread_cond_t wcv;
    void (*job)(session *s, void *arg);
    void *job_arg;
    int job_gen, done_gen, wquit;

    pthread_mutex_t board_mu;   /* the per-layer view and confusion matrix */
    sess_layer *layers, *layers_next;
    int nlayers;
    long *confusion, *confusion_next;
    int conf_split, conf_pending, layers_pending;
};

/* ---- session.c --------------------------------------------------------- */

/* Sets ev's epoch and step to the trainer's, and its state (but a state
 * event's, which carries the state it announces). */
void sess_stamp(session *s, sess_event *ev);
/* Stamps ev, hands it to the hooks that take its kind and queues it
 * (dropped and counted when the queue is full). */
void sess_emit(session *s, sess_event *ev);
void sess_emit_text(session *s, sess_event_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ev->text from fmt, cut to fit. */
void sess_textf(sess_event *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Announces st (the event goes out first, so whoever sess_wait releases
 * finds it queued), then sets it. */
void sess_set_state(session *s, sess_state st, const char *why);
/* Runs job(a) here and job(b) on the baseline's worker (or here, after a,
 * without one); b NULL runs a alone. */
void sess_run_pair(session *s, void (*job)(session *, void *), void *a, void *b);
/* What the long loops (the sweep, the cache fill, evaluations) look at
 * between chunks: 1 when the session is being freed, or when a command is
 * queued (SESS_PENDING_ANY) or a stop is (SESS_PENDING_STOP). Any thread. */
enum { SESS_PENDING_ANY, SESS_PENDING_STOP };
int sess_pending(session *s, int which);

/* ---- session_control.c ------------------------------------------------- */

/* Applies one queued command. */
void sess_apply(session *s, const sess_ctl *c);
/* Batch buffers and every model prepared for `batch`; on failure nothing
 * changes. THAW_ENOMEM, or model_prepare's error. Also from sess_new. */
int sess_prepare_buffers(session *s, int batch, thaw_err *err);
/* (Re)makes each replica's optimizer from the configuration. Also from sess_new. */
int sess_optim_setup(session *s, thaw_err *err);

/* ---- session_train.c --------------------------------------------------- */

/* r->live: the trainable slices, and the running statistics of BatchNorm
 * layers that train (they move in a training forward pass). */
void sess_live_slices(replica *r);
/* After freezing changed: both replicas' live slices; the cache is checked
 * before the next step. */
void sess_refresh_live(session *s);

/* One step of one replica; fills r->bad and keeps the last good weights when
 * a value goes non-finite (ok stays 0). For sess_run_pair. */
typedef struct step_job {
    replica *r;
    const float *x;          /* (n + nu, ...) images, or features from root child `first` */
    const int *y;            /* (n) */
    const float *w;          /* (n) each row's weight in the loss; NULL: all 1 */
    int n, first;
    int nu;                  /* unlabelled pool rows after the n (mmd, dann) */
    int align;               /* mmd, dann: the alignment term joins this replica's loss */
    float factor;            /* the schedule's factor on every rate */
    int ok;
} step_job;
void sess_replica_step(session *s, void *arg);

/* Epoch e's stream (shuffle.h, under the session's seed); -1 is the
 * learning-rate finder's. */
rng sess_stream(const session *s, long e);
/* A fresh shuffle of the training split into s->order, drawn from r. */
void sess_shuffle(session *s, rng *r);
/* Samples order[pos .. pos+n) into bx/by (and their cached features into
 * fx), augmenting from r. */
void sess_gather(session *s, int pos, int n, rng *r);
/* Makes the feature cache match the current freezing (see session.h),
 * SESS_CHUNK images at a time; 1 when a queued command interrupted the fill
 * (it goes on from there next time, the cache still stale), else 0. */
int sess_cache_update(session *s);
void sess_cache_drop(session *s);

/* One step of the running train command, with what follows it:
 * evaluations, the end of an epoch or of the command. */
void sess_train_step(session *s);
/* Ends the train command: best weights back under early stopping, the
 * final evaluation with the test split (without passes over the data when
 * quick), idle. */
void sess_finish(session *s, const char *why, int quick);
/* The schedule's factor at the current step. */
double sess_factor(const session *s);

/* ---- session_eval.c ---------------------------------------------------- */

/* One evaluation of both models (final: the end of a train command; with
 * the test split when with_test; measure 0 skips the passes over the data,
 * leaving their figures NaN), to the eval hook and the event queue. A
 * queued stop cuts the passes short: a final evaluation then reports what
 * it measured, any other is dropped. */
void sess_evaluate(session *s, int final, int with_test, int measure);
/* Recomputes the per-layer view and publishes it when the board is free. */
void sess_diagnostics(session *s);
/* Publishes the pending confusion matrix when the board is free. */
void sess_publish_confusion(session *s);
/* The head's base rate: the last weight slice's. */
float sess_head_lr(const model *m);

/* ---- session_adapt.c --------------------------------------------------- */

/* Training images this epoch: the labelled ones, then the pseudo-labelled. */
int sess_ntrain(const session *s);
/* oracle: the pool with its true labels joins the training images before
 * the first step. Self-training: a round when one is due at the start of
 * epoch `epoch`:
 * labels the pool with the transferred model, keeps a class-balanced
 * selection (adapt_selftrain.h) as training images, reports the count and
 * accuracy (SEV_NOTE). 1 when the round was cut short by a queued command
 * (it runs again from the start next time), else 0. */
int sess_self_train(session *s, int epoch);
/* The domain gap of an evaluation (session.h's domain_gap), NaN when the
 * source's images are not at hand or memory runs out. */
double sess_domain_gap(session *s);
/* The labelled images a technique trains on (the target's, the source's). */
int sess_labelled_n(const sess_data *d, const adapt *a);
/* Whether the data and the model allow technique a: THAW_EINVAL naming what
 * is missing (source images, a pool, the layer); *cut gets the root child
 * it reads. Any thread (it reads what a session never changes). */
int sess_adapt_ready(const sess_data *d, const model *m, const adapt *a, int *cut, thaw_err *err);
/* reweight: fits the domain classifier and the source images' weights
 * (before a train command's first step), reported as an SEV_NOTE with
 * their histogram; the weights stay 1 when it cannot. */
void sess_reweight(session *s);
/* The pool rows of an aligning step: nu images drawn from the pool into
 * dst, from the session's stream. */
void sess_pool_rows(session *s, float *dst, int nu);
/* Backward of an aligning step (the loss's gradient already in the root's
 * dy, rows n labelled then nu pool): the head's part, then the alignment
 * term's gradient joins at the cut, then the rest. Returns the term. */
float sess_align_backward(session *s, model *m, const float *x, int n, int nu);
/* Frees what a technique built (weights, classifier, scratch), after the
 * technique changed. */
void sess_adapt_reset(session *s);

/* ---- session_lrfind.c -------------------------------------------------- */

/* Sweeps the transferred model's rates from lo to hi over `steps` steps,
 * streaming SEV_LRFIND, then puts weights, optimizer state and order back.
 * Any queued command ends the sweep early (it is applied next). */
void sess_lr_find(session *s, double lo, double hi, int steps);

#endif
