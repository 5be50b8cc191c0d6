/* layer.h — the layers a thaw model is built from, as a tree.
 *
 * A model is a tree: containers (sequential, residual) hold named children,
 * leaves compute. Every node has a local name and a dotted path, and the
 * parameters a leaf declares are named after that path the way PyTorch names
 * them, e.g. "stage2.conv1.weight" or "stage2.proj.1.running_mean".
 *
 *     layer *stem = sequential_new("stem");
 *     layer_add(stem, conv2d_new("0", 1, 32, 3, 1, 1, 0));
 *     layer_add(stem, batchnorm2d_new("1", 32));
 *     layer_add(stem, relu_new("2"));
 *
 * Constructors return NULL only when memory runs out. layer_add takes
 * ownership of the child (also on failure); a tree is freed by layer_free on
 * its root, or by model_free once a model owns it.
 *
 * Each layer type is one small struct whose first member is `layer`, plus one
 * const layer_ops table; its forward and backward kernels sit side by side in
 * one file (core/conv2d.c, core/batchnorm2d.c, ...). Kernels take outputs
 * first, then inputs, weights, saved statistics and dimensions; gradient
 * buffers carry a `d` prefix.
 *
 * Backward contract: a layer reads its output gradient from l->dy and, when
 * dx != NULL, writes the gradient with respect to its input into dx —
 * overwriting it when acc == 0, adding to it when acc == 1 (a tensor read by
 * two consumers, such as a residual block's input). Weight gradients always
 * accumulate into the model's gradient block; model_zero_grad clears it.
 */
#ifndef THAW_LAYER_H
#define THAW_LAYER_H

#include <stddef.h>

#include "arena.h"
#include "rng.h"
#include "status.h"

#define LAYER_NAME_MAX 32
#define LAYER_PATH_MAX 128

typedef struct model model;
typedef struct layer layer;

/* One sample's shape: channels, height, width (NCHW without the N). A flat
 * vector of n features is (n, 1, 1). */
typedef struct shape3 {
    int c, h, w;
} shape3;

static inline size_t shape3_count(shape3 s)
{
    return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

typedef struct layer_ops {
    const char *type;       /* "conv2d", as in the model file */
    int container;          /* holds children */

    /* Checks that the layer accepts one-sample input `in`, sets l->out and
     * declares its parameters with model_declare. Containers plan their
     * children with layer_plan; prev is the layer whose output feeds this one
     * (NULL for the model input). THAW_ESHAPE when the input does not fit. */
    int (*plan)(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err);

    /* Takes the layer's buffers for `batch` samples from the arena (l->y,
     * l->dy and whatever it saves between forward and backward). Runs twice:
     * once measuring, once for real (see arena.h). */
    void (*alloc)(layer *l, arena *a, int batch);

    /* Floats of shared scratch the layer needs during forward or backward. */
    size_t (*scratch)(const layer *l, int batch);

    /* Draws initial parameters (PyTorch's defaults). */
    void (*init)(layer *l, model *m, rng *r);

    /* y = f(x) for `batch` samples into l->y. train selects training
     * behaviour (batch statistics, dropout). */
    void (*forward)(layer *l, model *m, const float *x, int batch, int train);

    /* See the backward contract above. */
    void (*backward)(layer *l, model *m, const float *x, float *dx, int acc, int batch);

    /* Containers: decides which children need an input gradient given whether
     * anything upstream trains (see model.c); returns whether anything up to
     * and including this node trains. NULL for leaves. */
    int (*grad_plan)(layer *l, model *m, int upstream);

    void (*destroy)(layer *l);   /* frees what the type owns beyond `layer` */
} layer_ops;

struct layer {
    const layer_ops *ops;
    char name[LAYER_NAME_MAX];   /* local name: "conv1" */
    char path[LAYER_PATH_MAX];   /* dotted path from the root: "stage2.conv1" */
    layer *parent;
    layer **child;
    int nchild, cap;

    shape3 in, out;              /* one sample, set by plan */
    int slice0, nslice;          /* the model's parameter slices this leaf declared */

    float *y;                    /* (B, out.c, out.h, out.w) */
    float *dy;                   /* same shape: gradient of the loss w.r.t. y */

    int trainable;               /* some slice in this subtree is trainable */
    int need_dx;                 /* something upstream trains: pass gradients back */
};

/* Containers. */
layer *sequential_new(const char *name);
/* A ResNet basic block: conv3x3(stride)-bn-relu-conv3x3-bn, plus the input or
 * a 1x1 projection (conv(stride)-bn, child "proj") when `proj` is set, then
 * relu. A projection is required when stride != 1 or cin != cout; constructing
 * without one then returns NULL with THAW_EINVAL in err. */
layer *residual_new(const char *name, int cin, int cout, int stride, int proj, thaw_err *err);

/* Leaves. They return NULL when an argument is out of range (a count below
 * 1, a negative padding, a probability outside [0, 1)) or memory runs out;
 * loaders check the arguments first, so they can say which. */
layer *conv2d_new(const char *name, int cin, int cout, int kernel, int stride, int pad, int bias);
layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum);
layer *relu_new(const char *name);
layer *maxpool2d_new(const char *name, int kernel, int stride, int pad);
layer *avgpool_new(const char *name);            /* global average pool: (C,H,W) -> (C,1,1) */
layer *linear_new(const char *name, int in, int out, int bias);
layer *dropout_new(const char *name, float p);
layer *flatten_new(const char *name);            /* (C,H,W) -> (C*H*W,1,1) */

/* A sequential container's passes from child `first` on, x being the input
 * of that child (the output of child first-1): the feature cache's entry. */
void sequential_forward_from(layer *l, model *m, int first, const float *x, int batch, int train);
void sequential_backward_from(layer *l, model *m, int first, const float *x, float *dx, int acc,
                              int batch);

/* Appends child to a sequential container; takes ownership. THAW_EINVAL when
 * parent is not a container or a sibling already has that name. */
int layer_add(layer *parent, layer *child, thaw_err *err);

/* Frees a tree that no model owns. */
void layer_free(layer *l);

int layer_is_batchnorm(const layer *l);
/* Makes a BatchNorm apply a ReLU to its output (y = max(0, bn(x))). */
void batchnorm2d_fuse_relu(layer *l);
/* How many training batches have moved a BatchNorm's running statistics
 * (PyTorch's num_batches_tracked); model files carry it. */
long long batchnorm2d_tracked(const layer *l);
void batchnorm2d_set_tracked(layer *l, long long batches);

/* Helpers for layer implementations. */
int  layer_init_base(layer *l, const layer_ops *ops, const char *name);
/* Appends a fixed child to any container; takes ownership. */
int  layer_adopt(layer *parent, layer *child);
/* Sets l's dotted path under its parent and plans it. A shape error comes
 * back naming both l and prev, the layer that feeds it. */
int  layer_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err);
/* Marks what trains in l's subtree and what needs an input gradient, given
 * whether anything upstream trains; returns whether anything up to and
 * including l does. */
int  layer_grad_plan(layer *l, model *m, int upstream);
void layer_alloc_io(layer *l, arena *a, int batch);
/* Points a node's output gradient at dy; for a container also its last child's. */
void layer_set_dy(layer *l, float *dy);

#endif
