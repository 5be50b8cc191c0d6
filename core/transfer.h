/* transfer.h — transfer policy on a model: a fresh head for a new class set.
 *
 * A pretrained model's head (its last layer with parameters) scores the
 * source's classes. A target with other classes needs a fresh head of its
 * own size, drawn from a seed, while every other weight, running statistic,
 * frozen mark and learning rate stays the source's:
 *
 *     model target;
 *     if (transfer_new_head(&target, &source, 5, seed, &err)) ... err.msg ...
 *     model_free(&source);
 */
#ifndef THAW_TRANSFER_H
#define THAW_TRANSFER_H

#include "model.h"

/* The head: the last leaf with parameters, depth first; NULL if none. */
layer *transfer_head(const model *m);

/* Builds into m a copy of `from` whose head has `classes` outputs and fresh
 * parameters initialised from seed (as model_build draws them), trainable;
 * from is unchanged. THAW_EINVAL when the head's type cannot be a head (it
 * names the type and the ones that can), THAW_ENOMEM; m is empty on failure. */
int transfer_new_head(model *m, const model *from, int classes, unsigned long long seed,
                      thaw_err *err);

#endif
