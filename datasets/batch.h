/* batch.h — mini-batches over a split, shuffled per epoch from a seed.
 *
 *     batch_iter b;
 *     if (batch_init(&b, &t.split[TASK_TRAIN], &t.geom, 32, 1, &aug, seed, &err))
 *         ... report err.msg ...
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         batch_epoch(&b, epoch);
 *         for (int n; (n = batch_next(&b)) > 0;)
 *             train_step(b.x, b.y, n);              // x (n, c, h, w), y (n)
 *     }
 *     batch_free(&b);
 *
 * Epoch e's order (a Fisher-Yates shuffle) and its augmentations come from
 * one stream seeded by (seed, e) alone (shuffle.h): an epoch repeats exactly
 * for a seed, whatever ran before it, and differs from every other epoch. Without
 * shuffling (evaluation) the split's order is kept and nothing is drawn.
 * The last batch of an epoch holds what is left (it may be smaller). The
 * iterator copies each sample into its own buffer, so it reads 8-bit splits
 * (the pool) as well as float ones, and the step loop never allocates.
 */
#ifndef THAW_BATCH_H
#define THAW_BATCH_H

#include "augment.h"
#include "ds.h"
#include "rng.h"

typedef struct batch_iter {
    const ds_split *split;         /* not owned; must outlive the iterator */
    ds_geom geom;
    augment aug;
    int size, shuffle;
    unsigned long long seed;
    int epoch, pos;
    int *order;                    /* (split->n) */
    rng rng;                       /* this epoch's stream */
    float *x;                      /* (size, c, h, w): the current batch */
    int *y;                        /* (size) */
    float *tmp;                    /* (c, h, w): one sample before augmentation */
} batch_iter;

/* Prepares batches of up to `size` samples of split s under geometry g and
 * starts epoch 0. aug NULL means no augmentation (nor is any applied when
 * shuffle is 0). Errors: THAW_EINVAL (size < 1, an empty split, a shift too
 * large for g), THAW_ENOMEM. On failure *b is zeroed. */
int batch_init(batch_iter *b, const ds_split *s, const ds_geom *g, int size, int shuffle,
               const augment *aug, unsigned long long seed, thaw_err *err);

/* Starts epoch e (>= 0) from its first batch. */
void batch_epoch(batch_iter *b, int e);

/* Fills b->x and b->y with the next batch of the epoch and returns how many
 * samples it holds; 0 when the epoch is over (the next call then starts the
 * following epoch). */
int batch_next(batch_iter *b);

/* Batches per epoch. */
int batch_count(const batch_iter *b);

void batch_free(batch_iter *b);

#endif
