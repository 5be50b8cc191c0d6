/* optim.h — SGD (momentum, Nesterov, weight decay) and AdamW over a model's
 * parameter block, with PyTorch's update rules. Each slice moves at its own
 * learning rate times a schedule factor; frozen slices and running
 * statistics are skipped. State (momentum, moments) mirrors the block.
 *
 * Row-sparse slices (an embedding's weight, model.h) are updated on the rows
 * the batch touched and nowhere else, their state with them: with plain SGD
 * that is exactly the dense update (the other rows' gradient is zero); with
 * momentum, weight decay or AdamW it is the lazy update of PyTorch's
 * SparseAdam and TensorFlow's LazyAdam (a row's momentum and decay advance
 * only on steps that use the row), which costs a batch's rows, not the
 * vocabulary.
 *
 *     optim o;
 *     optim_init(&o, &m, OPTIM_SGD, &err);
 *     o.momentum = 0.9f; o.weight_decay = 5e-4f;
 *     ... model_backward ...; optim_step(&o, &m, schedule_factor);
 *     optim_free(&o);
 */
#ifndef THAW_OPTIM_H
#define THAW_OPTIM_H

#include "model.h"

typedef enum optim_kind { OPTIM_SGD, OPTIM_ADAMW } optim_kind;

typedef struct optim {
    optim_kind kind;
    float momentum;        /* SGD; 0 = plain */
    int nesterov;          /* SGD */
    float weight_decay;    /* SGD: L2 added to the gradient; AdamW: decoupled */
    float beta1, beta2, eps;   /* AdamW */
    long steps;            /* optimizer steps taken */
    long *slice_steps;     /* (nslice) updates each slice has had: AdamW's bias
                              correction counts per parameter, as PyTorch does,
                              so a slice thawed late starts afresh */
    int nslice;
    float *state1;         /* SGD momentum buffer / AdamW first moment */
    float *state2;         /* AdamW second moment */
    size_t n;
} optim;

/* Zeroed state for m's block with PyTorch's defaults (momentum 0, AdamW
 * betas 0.9/0.999, eps 1e-8, weight decay 0 for SGD and 0.01 for AdamW). */
int optim_init(optim *o, const model *m, optim_kind kind, thaw_err *err);

/* One update of every trainable slice: lr = slice lr × lr_scale. */
void optim_step(optim *o, model *m, float lr_scale);

void optim_free(optim *o);

#endif
