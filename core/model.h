/* model.h — a layer tree with its parameters, ready to train.
 *
 * All parameters and running statistics live in one contiguous block
 * (m->param); their gradients mirror it (m->grad) and so does any optimizer
 * state. Each named tensor in the block is a slice that records its dotted
 * name, owner layer, shape, kind, `frozen` flag and learning rate.
 *
 *     thaw_err err = {0};
 *     model m;
 *     if (model_build(&m, root, (shape3){1, 28, 28}, 42, &err) ||
 *         model_prepare(&m, 64, &err))
 *         ... report err.msg ...
 *     model_freeze(&m, model_find(&m, "stem"), 1);
 *     model_zero_grad(&m);
 *     model_forward(&m, x, 64, 1);                         // logits in m.root->y
 *     float loss = loss_softmax_xent(m.root->dy, m.root->y, labels, 64, 10);
 *     model_backward(&m, x, 64);
 *     optim_step(&opt, &m, 1.0f);
 *     model_free(&m);
 *
 * Freezing. A frozen slice is never updated, and a layer whose slices are all
 * frozen does no weight-gradient work; backward stops below the lowest layer
 * that still trains (nothing under it needs an input gradient).
 *
 * BatchNorm and freezing. By default (train_bn == 0) freezing a subtree also
 * freezes its BatchNorm layers, and a BatchNorm whose parameters are frozen
 * normalises with its running statistics and leaves them untouched, in
 * training as in evaluation — Keras' behaviour. That is the default because a
 * frozen part of a transferred model should compute exactly what it computed
 * on the source task: a few dozen target images per class make noisy batch
 * statistics, and letting them overwrite the pretrained ones silently changes
 * features the user asked to keep. With train_bn == 1 (fast.ai's train_bn)
 * freezing leaves BatchNorm layers trainable: their scale and shift keep
 * learning and their statistics keep updating, which often helps when the
 * target's images look different from the source's.
 */
#ifndef THAW_MODEL_H
#define THAW_MODEL_H

#include "layer.h"
#include "par.h"

enum param_kind {
    PARAM_WEIGHT,     /* convolution and linear weights */
    PARAM_BIAS,
    PARAM_BN,         /* BatchNorm scale (weight) and shift (bias) */
    PARAM_STAT,       /* BatchNorm running statistics: saved, never optimised */
};

#define PARAM_MAX_DIMS 4

typedef struct param_slice {
    char name[LAYER_PATH_MAX + 16];   /* "stage2.conv1.weight" */
    layer *owner;
    size_t off, len;                  /* floats into m->param / m->grad */
    int ndim, dim[PARAM_MAX_DIMS];    /* PyTorch's shape */
    int kind;                         /* enum param_kind */
    int frozen;
    float lr;                         /* this slice's learning rate */
    /* Row-sparse slices (an embedding's weight, declared with
     * model_declare_rows): a batch's gradient is nonzero only on the rows it
     * touched, listed once each in row[0..nrow) (seen marks them, dim[0]
     * bytes). model_zero_grad clears those rows alone, and the optimizer
     * updates those rows alone. NULL for a dense slice. */
    int *row;
    int nrow;
    unsigned char *seen;
} param_slice;

struct model {
    layer *root;
    shape3 in;                        /* one input sample */
    int classes;                      /* root->out.c */

    param_slice *slice;
    int nslice, slicecap;
    float *param;                     /* every slice, contiguous */
    float *grad;                      /* same layout */
    size_t nfloat;

    int train_bn;                     /* see the header comment */
    layer *seq;                       /* the embedding whose ids give the batch's
                                         sequence lengths (embedding_seq_len),
                                         or NULL: no text input */
    rng rng;                          /* dropout masks */

    int batch;                        /* largest batch prepared for */
    arena act;                        /* activations, saved statistics */
    float *scratch;                   /* nscratch floats per worker */
    size_t nscratch;
    float *shared;                    /* nshared floats the workers share */
    size_t nshared;

    int threads;                      /* for the passes; 0: thaw_threads() */
    int predicting;                   /* inside model_predict */
    par_pool *pool;                   /* made by model_prepare */
};

/* Takes ownership of root (freed on failure too), checks that the shapes chain
 * from `in` (THAW_ESHAPE naming both layers otherwise), lays out and
 * initialises every parameter from `seed`. Every slice starts trainable with
 * learning rate 0.01. */
int model_build(model *m, layer *root, shape3 in, unsigned long long seed, thaw_err *err);

/* Reserves the activations and scratch for batches of up to `batch` samples
 * and starts the threads of the passes (m->threads, or thaw_threads() when
 * that is 0). Call again to change the size or the thread count; the step
 * loop itself never allocates. On THAW_ENOMEM the model keeps its previous
 * buffers and batch size. The thread count never changes what the passes
 * compute (see par.h). */
int model_prepare(model *m, int batch, thaw_err *err);

/* The bytes of activations and scratch model_prepare(m, batch) would
 * reserve; the model's buffers stay as they are. */
size_t model_prepare_bytes(model *m, int batch);

void model_free(model *m);

/* Forward pass of `batch` (<= prepared) samples x (B, in.c, in.h, in.w);
 * the logits are in m->root->y, (B, classes). */
void model_forward(model *m, const float *x, int batch, int train);

/* model_forward(m, x, batch, 0) when only the logits are wanted: layers may
 * skip outputs nothing reads (a BatchNorm after a convolution is folded
 * into its weights), so other layers' y are not all filled. */
void model_predict(model *m, const float *x, int batch);
void model_predict_from(model *m, int first, const float *x, int batch);

/* Backward pass from m->root->dy, accumulating into m->grad. */
void model_backward(model *m, const float *x, int batch);

/* Zeroes every gradient: a dense slice whole, a row-sparse slice on the rows
 * marked since the last zeroing (model_zero_slice_grad for one slice). */
void model_zero_grad(model *m);
void model_zero_slice_grad(model *m, int s);

/* How many of the root's first children compute a fixed function of their
 * input: no trainable parameter, BatchNorm frozen (so it uses its running
 * statistics), no dropout. Their output can be computed once and cached.
 * 0 when the root is not sequential; at most the child count less one. */
int model_frozen_prefix(const model *m);

/* The passes from root child `first` on, x being the output of child
 * first-1 (model_frozen_prefix's cached features); first 0 is the whole
 * model. */
void model_forward_from(model *m, int first, const float *x, int batch, int train);
void model_backward_from(model *m, int first, const float *x, int batch);

/* The node at a dotted path ("stage2.conv1"); "" is the root. NULL if none. */
layer *model_find(const model *m, const char *path);

/* Freezes (frozen = 1) or thaws every slice in node's subtree, BatchNorm
 * layers included unless m->train_bn and node is not itself a BatchNorm. */
void model_freeze(model *m, layer *node, int frozen);

/* Sets the learning rate of every slice in node's subtree. */
void model_set_lr(model *m, layer *node, float lr);

/* Call after changing slice flags by hand: recomputes which layers train
 * and which need input gradients. model_freeze calls it. */
void model_refresh(model *m);

/* The slice named `name`, or NULL. */
param_slice *model_slice(model *m, const char *name);

/* Worker w's scratch, nscratch floats (a layer's ops->scratch at most). */
static inline float *model_scratch(const model *m, int worker)
{
    return m->scratch + (size_t)worker * m->nscratch;
}

static inline float *model_param(const model *m, int s) { return m->param + m->slice[s].off; }
static inline float *model_grad(const model *m, int s)  { return m->grad + m->slice[s].off; }

/* For layer plan functions: declares a tensor of the given shape owned by l
 * and returns its slice index (or -1 with THAW_ENOMEM in err). */
int model_declare(model *m, layer *l, const char *name, int kind, int ndim,
                  const int *dim, thaw_err *err);

/* The same for a 2-D tensor (rows, width) whose gradient a batch makes
 * nonzero on a few rows only; model_build gives it its row set (see
 * param_slice). Its owner marks each row it adds gradient to with
 * model_touch_row. */
int model_declare_rows(model *m, layer *l, const char *name, int kind, int rows, int width,
                       thaw_err *err);

static inline void model_touch_row(model *m, int s, int row)
{
    param_slice *p = &m->slice[s];
    if (!p->seen[row]) {
        p->seen[row] = 1;
        p->row[p->nrow++] = row;
    }
}

/* Trainable float count, total float count. */
size_t model_count(const model *m, int trainable_only);

#endif
