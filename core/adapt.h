/* adapt.h — the domain-adaptation technique a session trains with, and its
 * text form (`set adapt ...`, --adapt).
 *
 *   name                 keys        valid          default
 *   none (target-only)   -                                   the target's labels alone
 *   source-only          -                                   the labelled source images
 *                                                            alone: the row every Δ is against
 *   reweight             clip        [1, 1000]      10       the source images weighted by
 *                        layer       a root child   (1)      p(target|x)/p(source|x), with
 *                                                            the target's labels
 *   mmd                  weight      [0, 1000]      1        + weight × MMD² between the
 *                        layer       a root child   (1)      source's and the target's features
 *   dann                 weight      [0, 1000]      0.1      + a domain classifier on the
 *                        layer       a root child   (1)      features, its gradient reversed
 *   self-train           threshold   (0, 1]         0.9      pseudo-labels on the
 *                        every       1 .. 1000      1        unlabelled target pool
 *   oracle               -                                   the pool with its true
 *                                                            labels: the reference
 *                                                            row no technique can beat
 *   (1) the layer whose output the head reads (the root's last child but one).
 *
 * The techniques that use the source (source-only, reweight, mmd, dann)
 * train on the session's labelled source-domain images (session.h,
 * SESS_DOMAIN_SPLIT): the same classes as the target, drawn from the other
 * distribution. reweight, mmd and dann train on them and on the target's
 * few labels together; mmd and dann also see a batch of the unlabelled
 * target pool beside every training batch.
 *
 * reweight: before a train command's first step, a logistic domain
 * classifier (adapt_reweight.h) learns source from target (the labelled
 * target images and the pool) on the features at `layer`; each source
 * image's loss is weighted by its estimated p(target|x)/p(source|x),
 * clipped to [1/clip, clip] and normalised to mean 1.
 *
 * mmd: the loss gains weight × the multi-kernel MMD² (adapt_mmd.h) between
 * the batch's source rows and its target rows (labelled and pool) at
 * `layer`, backpropagated into everything below it that trains.
 *
 * dann: a small domain classifier (adapt_dann.h) reads the features at
 * `layer`, learning to tell source from target; what it learns flows back
 * into the layers below reversed and scaled by weight × (2/(1+e^{-10p})−1),
 * p the share of the train command done (Ganin and Lempitsky's ramp), so
 * the features are pushed to make the domains look alike.
 *
 * self-train: at the start of every `every`-th epoch (epoch E, 2E, ...) the
 * transferred model labels the task's unlabelled pool; the images whose top
 * class has probability >= threshold are candidates, and a class-balanced
 * selection of them (adapt_selftrain.h) joins the labelled training images
 * until the next round replaces it. The count, and how many of the
 * pseudo-labels are right (the pool keeps its labels for measuring, never
 * for training), are in every evaluation (pseudo_n, pseudo_acc).
 *
 * oracle: from the first step the whole pool trains with the labels the
 * data set has for it (pseudo_n counts those images, pseudo_acc is 1): what
 * labelling every target image would give, the ceiling of the table.
 *
 *     adapt a;
 *     if (adapt_parse(&a, "mmd weight=0.5 layer=stage3", &err)) ... err.msg ...
 *     char text[ADAPT_TEXT_MAX];
 *     adapt_format(&a, text, sizeof text);     // "mmd weight=0.5 layer=stage3"
 */
#ifndef THAW_ADAPT_H
#define THAW_ADAPT_H

#include <stddef.h>

#include "status.h"

/* Every technique, once: X(KIND, name, alias or NULL). */
#define ADAPT_KINDS(X)                                                                            \
    X(NONE, "none", "target-only")                                                                \
    X(SOURCE_ONLY, "source-only", NULL)                                                           \
    X(REWEIGHT, "reweight", NULL)                                                                 \
    X(MMD, "mmd", NULL)                                                                           \
    X(DANN, "dann", NULL)                                                                         \
    X(SELF_TRAIN, "self-train", NULL)                                                             \
    X(ORACLE, "oracle", NULL)

typedef enum adapt_kind {
#define ADAPT_ENUM(kind, name, alias) ADAPT_##kind,
    ADAPT_KINDS(ADAPT_ENUM)
#undef ADAPT_ENUM
    ADAPT_KIND_COUNT
} adapt_kind;

enum { ADAPT_TEXT_MAX = 160, ADAPT_EVERY_MAX = 1000, ADAPT_LAYER_MAX = 64 };

typedef struct adapt {
    adapt_kind kind;
    double threshold;        /* self-train: confidence τ */
    int every;               /* self-train: a round every E epochs */
    double weight;           /* mmd, dann: the alignment term's weight */
    double clip;             /* reweight: weights within [1/clip, clip] */
    char layer[ADAPT_LAYER_MAX];   /* reweight, mmd, dann: a child of the root; "": the
                                      one the head reads */
} adapt;

extern const char *const adapt_names[ADAPT_KIND_COUNT + 1];

/* kind with its defaults. */
void adapt_default(adapt *a, adapt_kind kind);

/* THAW_EINVAL naming the bad name or key and what is valid. */
int adapt_parse(adapt *a, const char *text, thaw_err *err);

/* THAW_EINVAL naming the first key out of its range, for an adapt set other
 * than by adapt_parse. */
int adapt_check(const adapt *a, thaw_err *err);

/* The text form, keys only where they differ from the defaults. */
void adapt_format(const adapt *a, char *buf, size_t cap);

/* 1 when a self-training round starts at the beginning of epoch `epoch`
 * (0-based; never at 0: the model has not trained on the target yet). */
int adapt_round_due(const adapt *a, int epoch);

/* What a technique trains on: the labelled source images; the target's own
 * labels; a batch of the unlabelled pool beside each step (mmd, dann). */
int adapt_uses_source(adapt_kind k);
int adapt_uses_target(adapt_kind k);
int adapt_aligns(adapt_kind k);

#endif
