/* adapt.h — the domain-adaptation technique a session trains with, and its
 * text form (`set adapt ...`, --adapt).
 *
 *   name                      keys        valid          default
 *   none (target-only)        -                                   the target's labels alone
 *   self-train                threshold   (0, 1]         0.9      pseudo-labels on the
 *                             every       1 .. 1000      1        unlabelled target pool
 *   oracle                    -                                   the pool with its true
 *                                                                 labels: the reference
 *                                                                 row no technique can beat
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
 *     if (adapt_parse(&a, "self-train threshold=0.95 every=2", &err)) ... err.msg ...
 *     char text[ADAPT_TEXT_MAX];
 *     adapt_format(&a, text, sizeof text);     // "self-train threshold=0.95 every=2"
 */
#ifndef THAW_ADAPT_H
#define THAW_ADAPT_H

#include <stddef.h>

#include "status.h"

/* Every technique, once: X(KIND, name, alias or NULL). */
#define ADAPT_KINDS(X)                                                                            \
    X(NONE, "none", "target-only")                                                                \
    X(SELF_TRAIN, "self-train", NULL)                                                             \
    X(ORACLE, "oracle", NULL)

typedef enum adapt_kind {
#define ADAPT_ENUM(kind, name, alias) ADAPT_##kind,
    ADAPT_KINDS(ADAPT_ENUM)
#undef ADAPT_ENUM
    ADAPT_KIND_COUNT
} adapt_kind;

enum { ADAPT_TEXT_MAX = 96, ADAPT_EVERY_MAX = 1000 };

typedef struct adapt {
    adapt_kind kind;
    double threshold;        /* self-train: confidence τ */
    int every;               /* self-train: a round every E epochs */
} adapt;

extern const char *const adapt_names[ADAPT_KIND_COUNT + 1];

/* kind with its defaults. */
void adapt_default(adapt *a, adapt_kind kind);

/* THAW_EINVAL naming the bad name or key and what is valid. */
int adapt_parse(adapt *a, const char *text, thaw_err *err);

/* The text form, keys only where they differ from the defaults. */
void adapt_format(const adapt *a, char *buf, size_t cap);

/* 1 when a self-training round starts at the beginning of epoch `epoch`
 * (0-based; never at 0: the model has not trained on the target yet). */
int adapt_round_due(const adapt *a, int epoch);

#endif
