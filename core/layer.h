/* layer.h — the layers a thaw model is built from, as a tree.
 *
 * A model is a tree: containers (sequential, residual, gate) hold named children,
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
 * const layer_ops table that declares everything about the type (its name in
 * model files, hyper-parameters, flags, PyTorch names); its forward and
 * backward kernels sit side by side in one file (core/conv2d.c, ...), and
 * core/registry.h lists every type once. Kernels take outputs
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

/* A hyper-parameter of a layer type, as the model file spells it (PyTorch's
 * argument name). Every value travels as a double; integers and booleans are
 * checked integral. A bound or default may be another hyper-parameter's value
 * (a max pool's stride defaults to its kernel size; its padding is at most
 * half the kernel). */
enum layer_hp_kind {
    LAYER_HP_INT,
    LAYER_HP_BOOL,
    LAYER_HP_NUM,
    LAYER_HP_CHOICE,    /* one of `choices`, held as its index */
};

enum layer_hp_flags {
    LAYER_HP_REQUIRED = 1,
    LAYER_HP_LO_OPEN = 2,      /* lo itself is out of range */
    LAYER_HP_HI_OPEN = 4,      /* hi itself is out of range */
    LAYER_HP_QUIET = 8,        /* written to model files only when not at its
                                  default, so that files from before it existed
                                  save unchanged */
};

#define LAYER_HP_MAX 12

typedef struct layer_hparam {
    const char *key;           /* "kernel_size" */
    int kind;                  /* enum layer_hp_kind */
    int flags;                 /* enum layer_hp_flags */
    double lo, hi;
    double def;                /* when absent and not required */
    const char *def_from;      /* the default is this hyper-parameter's value */
    const char *hi_from;       /* the upper bound is this one's value / 2 */
    const char *const *choices;   /* LAYER_HP_CHOICE: NULL-terminated */
} layer_hparam;

/* Limits of the hyper-parameters, so a file cannot ask for absurd sizes. */
#define LAYER_WIDTH_MAX    65536        /* channels */
#define LAYER_FEATURES_MAX (1 << 24)    /* a linear layer's features */
#define LAYER_KERNEL_MAX   64           /* kernel sizes, strides, paddings */

enum layer_flags {
    LAYER_CONTAINER = 1,       /* holds children */
    LAYER_STATS = 2,           /* keeps running statistics (updated in training) */
    LAYER_STOCHASTIC = 4,      /* training output is random: never cached */
    LAYER_SEQ = 8,             /* reads the sequence lengths the model's
                                  embedding records (embedding_seq_len) */
};

/* A layer type, declared once in its own file (core/NAME.c) and listed once
 * in core/registry.h. */
typedef struct layer_ops {
    const char *type;          /* "conv2d", as in the model file */
    int flags;                 /* enum layer_flags */
    const layer_hparam *hp;    /* nhp hyper-parameters, in the order setup reads them */
    int nhp;
    /* Containers: the model-file key of the child list ("layers", "body",
     * "branch") and of an optional side child ("shortcut"), or NULL. */
    const char *children, *side;
    /* PyTorch: the module ("nn.Conv2d") and the names of the tensors the
     * layer declares, in order (NULL-terminated; NULL for none). */
    const char *torch;
    const char *const *tensors;
    /* The key of the hyper-parameter that counts outputs, which a new head
     * for another class count changes; NULL when the type cannot be a head. */
    const char *head;
    size_t size;               /* bytes of the type's struct (first member
                                  `layer`); 0: a plain layer */

    /* Copies checked hyper-parameters into the type's struct; hparams reads
     * them back. NULL when the type has none. */
    void (*setup)(layer *l, const double *hp);
    void (*hparams)(const layer *l, double *hp);

    /* Floats of parameters and statistics a leaf with these hyper-parameters
     * declares (at most about 2^50, so no overflow). NULL for none. */
    double (*count)(const double *hp);

    /* Relations between hyper-parameters that ranges cannot state (a
     * convolution's groups divide both its channel counts), checked after
     * the ranges: THAW_EINVAL with what is wrong in err (without the type's
     * name) and *bad the index of the hyper-parameter to blame. NULL when
     * the type has none. */
    int (*relate)(const double *hp, int *bad, thaw_err *err);

    /* Checks that the layer accepts one-sample input `in`, sets l->out and
     * declares its parameters with model_declare. Containers plan their
     * children with layer_plan; prev is the layer whose output feeds this one
     * (NULL for the model input). THAW_ESHAPE when the input does not fit. */
    int (*plan)(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err);

    /* Takes the layer's buffers for `batch` samples from the arena (l->y,
     * l->dy and whatever it saves between forward and backward). Runs twice:
     * once measuring, once for real (see arena.h). NULL: layer_alloc_io.
     * Call through layer_alloc. */
    void (*alloc)(layer *l, arena *a, int batch);

    /* Floats of scratch one worker needs during forward or backward
     * (model_scratch), and floats the workers share for the pass (m->shared:
     * per-task partial sums, transformed weights). NULL for none. */
    size_t (*scratch)(const layer *l, int batch);
    size_t (*shared)(const layer *l, int batch);

    /* Draws initial parameters (PyTorch's defaults). */
    void (*init)(layer *l, model *m, rng *r);

    /* y = f(x) for `batch` samples into l->y. train selects training
     * behaviour (batch statistics, dropout). */
    void (*forward)(layer *l, model *m, const float *x, int batch, int train);

    /* See the backward contract above. */
    void (*backward)(layer *l, model *m, const float *x, float *dx, int acc, int batch);

    /* Evaluation only, when nothing reads l->y (model_predict): computes
     * next's output from x as next->forward would after l, skipping l->y,
     * and returns 1; 0 (nothing done) when it cannot fold next. NULL: never. */
    int (*fold)(layer *l, model *m, const float *x, int batch, layer *next);

    /* Containers: decides which children need an input gradient given whether
     * anything upstream trains (see model.c); returns whether anything up to
     * and including this node trains. NULL for leaves. */
    int (*grad_plan)(layer *l, model *m, int upstream);

    /* 1 for containers whose output is their last child's buffer
     * (sequential), so an output gradient set on them goes to that child. */
    int passes_last;
} layer_ops;

struct layer {
    const layer_ops *ops;
    char name[LAYER_NAME_MAX];   /* local name: "conv1" */
    char path[LAYER_PATH_MAX];   /* dotted path from the root: "stage2.conv1" */
    layer *parent;
    int side;                    /* the parent's side child (a residual's shortcut) */
    layer **child;
    int nchild, cap;

    shape3 in, out;              /* one sample, set by plan */
    int slice0, nslice;          /* the model's parameter slices this leaf declared */

    float *y;                    /* (B, out.c, out.h, out.w) */
    float *dy;                   /* same shape: gradient of the loss w.r.t. y */

    int trainable;               /* some slice in this subtree is trainable */
    int need_dx;                 /* something upstream trains: pass gradients back */
};

/* A type's passes and its hyper-parameter table, by their names' common
 * prefix: PREFIX_forward and PREFIX_backward; PREFIX_hp (the table, whose
 * length gives nhp), PREFIX_setup and PREFIX_hparams. */
#define LAYER_PASSES(prefix) .forward = prefix##_forward, .backward = prefix##_backward
#define LAYER_HPARAMS(prefix)                                               \
    .hp = prefix##_hp, .nhp = (int)(sizeof prefix##_hp / sizeof prefix##_hp[0]), \
    .setup = prefix##_setup, .hparams = prefix##_hparams

/* Builds a layer of type ops from hyper-parameters in the type's order
 * (ops->hp); they are checked first (layer_hp_check). NULL with err set
 * (when given, naming the layer) on a bad name or value, or when memory
 * runs out. */
layer *layer_create(const layer_ops *ops, const char *name, const double *hp, thaw_err *err);

/* Checks hp against the type's ranges and relations (ops->relate):
 * THAW_EINVAL naming the first hyper-parameter out of range or at odds with
 * the others, and *bad its index (bad may be NULL). */
int layer_hp_check(const layer_ops *ops, const double *hp, int *bad, thaw_err *err);

/* The index of hyper-parameter key in ops->hp, or -1. */
int layer_hp_index(const layer_ops *ops, const char *key);

/* The default of hyper-parameter i given the others read so far. */
double layer_hp_default(const layer_ops *ops, int i, const double *hp);

/* The upper bound of hyper-parameter i given the others. */
double layer_hp_hi(const layer_ops *ops, int i, const double *hp);

/* The layer types (core/registry.h). */
extern const layer_ops sequential_ops, residual_ops, gate_ops, concat_ops;

/* Containers: sequential (children in a chain); residual (y = act(body(x) +
 * shortcut(x)), the shortcut the identity when absent: the ResNet basic
 * block and MobileNet's inverted residual); gate (y = x * branch(x), the
 * branch's output (C,1,1) broadcast over H×W or the input's shape:
 * squeeze-and-excite). Children are added with layer_add, a residual's
 * shortcut with layer_add_side. */
static inline layer *sequential_new(const char *name)
{
    return layer_create(&sequential_ops, name, NULL, NULL);
}
static inline layer *gate_new(const char *name)
{
    return layer_create(&gate_ops, name, NULL, NULL);
}
/* Branches that each read the input, their outputs stacked along the
 * channels (the widths of a CNN over words); children by layer_add. */
static inline layer *concat_new(const char *name)
{
    return layer_create(&concat_ops, name, NULL, NULL);
}
enum residual_act { RESIDUAL_ACT_NONE, RESIDUAL_ACT_RELU };
layer *residual_general_new(const char *name, int act);

/* A ResNet basic block as a general residual: body conv1 (3x3, stride) bn1
 * relu conv2 (3x3) bn2, shortcut the input or a 1x1 projection
 * (conv(stride)-bn, child "proj") when `proj` is set, ReLU after the sum. A
 * projection is required when stride != 1 or cin != cout; constructing
 * without one then returns NULL with THAW_EINVAL in err. */
layer *residual_new(const char *name, int cin, int cout, int stride, int proj, thaw_err *err);

/* Leaves. They return NULL when an argument is out of range (a count below
 * 1, a negative padding, a probability outside [0, 1)) or memory runs out;
 * loaders check the arguments first, so they can say which. */
layer *conv2d_new(const char *name, int cin, int cout, int kernel, int stride, int pad, int bias);
/* A convolution in `groups` groups (dividing cin and cout; depthwise when
 * groups == cin), its weight (cout, cin/groups, kernel, kernel) as PyTorch's,
 * padded pad[0] rows on top, pad[1] below, pad[2] columns on the left and
 * pad[3] on the right (TensorFlow's "same" at stride 2: 0, 1, 0, 1). */
layer *conv2d_grouped_new(const char *name, int cin, int cout, int kernel, int stride, int groups,
                          const int pad[4], int bias);
layer *batchnorm2d_new(const char *name, int channels, float eps, float momentum);
extern const layer_ops relu_ops, silu_ops, avgpool_ops, flatten_ops;
static inline layer *relu_new(const char *name)
{
    return layer_create(&relu_ops, name, NULL, NULL);
}
/* y = x·sigmoid(x) (SiLU, swish) */
static inline layer *silu_new(const char *name)
{
    return layer_create(&silu_ops, name, NULL, NULL);
}
extern const layer_ops relu6_ops, hardswish_ops, hardsigmoid_ops, sigmoid_ops;
/* y = min(max(x, 0), 6) */
static inline layer *relu6_new(const char *name)
{
    return layer_create(&relu6_ops, name, NULL, NULL);
}
/* y = x·relu6(x + 3)/6 */
static inline layer *hardswish_new(const char *name)
{
    return layer_create(&hardswish_ops, name, NULL, NULL);
}
/* y = relu6(x + 3)/6 */
static inline layer *hardsigmoid_new(const char *name)
{
    return layer_create(&hardsigmoid_ops, name, NULL, NULL);
}
/* y = 1/(1 + e^-x) */
static inline layer *sigmoid_new(const char *name)
{
    return layer_create(&sigmoid_ops, name, NULL, NULL);
}
layer *maxpool2d_new(const char *name, int kernel, int stride, int pad);
/* global average pool: (C,H,W) -> (C,1,1) */
static inline layer *avgpool_new(const char *name)
{
    return layer_create(&avgpool_ops, name, NULL, NULL);
}
layer *linear_new(const char *name, int in, int out, int bias);
layer *dropout_new(const char *name, float p);
/* (C,H,W) -> (C*H*W,1,1) */
static inline layer *flatten_new(const char *name)
{
    return layer_create(&flatten_ops, name, NULL, NULL);
}

/* Text. Token ids (the model input 1x1xL, ids as floats) -> word vectors
 * (D, 1, L), W (vocab, D); the padding id (0 unless given; -1 for none)
 * looks up zeros and is never updated (core/embedding.c). */
#define EMBEDDING_VOCAB_MAX (1 << 24)   /* every id exact in a float */
layer *embedding_new(const char *name, int vocab, int dim, int pad);
/* (C, 1, L) -> (O, 1, L + 2·pad - kernel + 1), W (O, C, kernel): PyTorch's
 * Conv1d at stride 1. */
layer *conv1d_new(const char *name, int cin, int cout, int kernel, int pad, int bias);
/* (C, 1, L) -> (C, 1, 1): the mean and the max over a sequence's real
 * positions (padding masked). */
extern const layer_ops embedding_ops, conv1d_ops, seqmean_ops, seqmax_ops;
static inline layer *seqmean_new(const char *name)
{
    return layer_create(&seqmean_ops, name, NULL, NULL);
}
static inline layer *seqmax_new(const char *name)
{
    return layer_create(&seqmax_ops, name, NULL, NULL);
}
/* How many of the first `steps` positions of sample b's sequence are real
 * in the batch the model's embedding saw last: the sample's length (its ids
 * up to the last that is not padding), changed by as much as the layers
 * since changed the sequence length (a conv1d of width K with padding P adds
 * 2P - K + 1), kept in [1, steps]; 0 for a sample with no real id; `steps`
 * when the model has no embedding. */
int embedding_seq_len(const model *m, int b, int steps);

/* A chain of n layers (a sequential's children, a residual's body): the
 * passes from child `first` on, x being the input of that child (the output
 * of child first-1). */
int  layer_chain_plan(layer **c, int n, model *m, shape3 in, const layer *prev, thaw_err *err);
void layer_chain_forward(layer **c, int n, model *m, int first, const float *x, int batch, int train);
void layer_chain_backward(layer **c, int n, model *m, int first, const float *x, float *dx, int acc,
                          int batch);
int  layer_chain_grad_plan(layer **c, int n, model *m, int upstream, int *trainable);

/* A sequential container's passes from child `first` on: the feature
 * cache's entry. */
void sequential_forward_from(layer *l, model *m, int first, const float *x, int batch, int train);
void sequential_backward_from(layer *l, model *m, int first, const float *x, float *dx, int acc,
                              int batch);

/* Appends child to a container that takes children (sequential, a
 * residual's body, a gate's branch); layer_add_side sets a residual's
 * shortcut, after its body. Both take ownership (also on failure).
 * THAW_EINVAL when parent takes no such child or a sibling already has that
 * name. */
int layer_add(layer *parent, layer *child, thaw_err *err);
int layer_add_side(layer *parent, layer *child, thaw_err *err);

/* Frees a tree that no model owns. */
void layer_free(layer *l);

int layer_is_batchnorm(const layer *l);
/* How many training batches have moved a BatchNorm's running statistics
 * (PyTorch's num_batches_tracked); model files carry it. */
long long batchnorm2d_tracked(const layer *l);
void batchnorm2d_set_tracked(layer *l, long long batches);

/* Helpers for layer implementations. */
int  layer_init_base(layer *l, const layer_ops *ops, const char *name);
/* Sets l's dotted path under its parent and plans it. A shape error comes
 * back naming both l and prev, the layer that feeds it. */
int  layer_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err);
/* Marks what trains in l's subtree and what needs an input gradient, given
 * whether anything upstream trains; returns whether anything up to and
 * including l does. */
int  layer_grad_plan(layer *l, model *m, int upstream);
void layer_alloc_io(layer *l, arena *a, int batch);
/* l's buffers (its ops' alloc, or layer_alloc_io); layer_alloc_children
 * takes every child's. */
void layer_alloc(layer *l, arena *a, int batch);
void layer_alloc_children(layer *l, arena *a, int batch);
/* A container's gradient plan when its children form one chain
 * (sequential, gate). */
int  layer_children_grad_plan(layer *l, model *m, int upstream);
/* Points a node's output gradient at dy; for a container also its last child's. */
void layer_set_dy(layer *l, float *dy);
/* Shape-preserving leaves' plan: out = in. */
int  layer_plan_same(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err);

/* A BatchNorm in evaluation: y = x·scale[c] + shift[c] with its running
 * statistics; 1 when l is a BatchNorm (scale and shift filled), else 0. */
int batchnorm2d_affine(const layer *l, const model *m, float *scale, float *shift);

/* min(max(v, 0), 6) in comparisons the compiler turns into vector min and
 * max (fminf and fmaxf, with their NaN rules, stay scalar calls); a NaN
 * stays a NaN, so the session's checks still see it. */
static inline float clip6(float v)
{
    v = v < 0.0f ? 0.0f : v;
    return v > 6.0f ? 6.0f : v;
}

#endif
