/* shuffle.h — the seeded per-epoch order the session's training batches
 * draw from.
 *
 *     rng r = shuffle_stream(seed, epoch);
 *     shuffle_order(order, n, &r);     // order: a permutation of 0..n-1
 *     ... then draw the epoch's augmentations from r ...
 *
 * Epoch e's stream depends on (seed, e) alone, so an epoch repeats exactly
 * for a seed whatever ran before it, and differs from every other epoch.
 * Epoch -1 is a valid stream of its own (the learning-rate finder's).
 */
#ifndef THAW_SHUFFLE_H
#define THAW_SHUFFLE_H

#include "rng.h"

/* The stream of epoch `epoch` under `seed`. */
rng shuffle_stream(unsigned long long seed, long epoch);

/* Fills order (n) with 0..n-1, then shuffles it (Fisher-Yates) from r;
 * r NULL keeps 0..n-1. */
void shuffle_order(int *order, int n, rng *r);

#endif
