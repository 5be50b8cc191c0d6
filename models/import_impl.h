/* import_impl.h — what the importer's files share (import_keras.c reads a
 * Keras topology into thaw's tree, import_tfjs.c reads the TF.js manifest
 * and shards and binds the weights); not for callers. */
#ifndef THAW_IMPORT_IMPL_H
#define THAW_IMPORT_IMPL_H

#include <stdarg.h>

#include "json.h"
#include "tfjs.h"

/* What a Keras layer becomes. */
enum imp_op {
    IMP_INPUT,      /* the model's input */
    IMP_PASS,       /* the input of a nested model: its outer input */
    IMP_CONV, IMP_DWCONV, IMP_DENSE, IMP_BN, IMP_ACT, IMP_PAD, IMP_GAP, IMP_MAXPOOL,
    IMP_FLATTEN, IMP_RESHAPE, IMP_DROPOUT, IMP_ADD, IMP_MUL, IMP_RESCALE,
};

enum imp_act {
    IMP_ACT_NONE, IMP_ACT_RELU, IMP_ACT_RELU6, IMP_ACT_SIGMOID,
    IMP_ACT_HARDSIGMOID,       /* relu6(x + 3) / 6: Keras 3's hard_sigmoid */
    IMP_ACT_HARDSIGMOID_02,    /* clip(0.2·x + 0.5, 0, 1): Keras 2's and TF.js' */
    IMP_ACT_SILU, IMP_ACT_HARDSWISH, IMP_ACT_SOFTMAX,
};

#define IMP_IN_MAX 8

typedef struct imp_layer {
    char name[TFJS_NAME_MAX];     /* as Keras names it */
    char cls[48];                 /* its class_name */
    char block[LAYER_NAME_MAX];   /* with PyTorch's names: its block (torch_blocks) */
    char scope[TFJS_NAME_MAX];    /* the models around it, "outer/inner/" */
    int in[IMP_IN_MAX], nin;      /* the layers whose outputs it takes */
    int op;                       /* enum imp_op */

    /* From its config. */
    int units;                    /* filters, units */
    int k, stride, same;          /* kernel or pool size; "same" padding */
    int mult, groups, bias;       /* depth multiplier, groups, use_bias */
    int act;                      /* enum imp_act: an Activation's, or fused */
    int zpad[4];                  /* ZeroPadding2D: top, bottom, left, right */
    double eps, momentum, rate;   /* BatchNormalization, Dropout */
    int axis;                     /* BatchNormalization */
    int center, scale;            /* BatchNormalization */
    int target[3], ntarget;       /* Reshape (-1: inferred) */
    double rs_scale[MF_CHANNELS_MAX], rs_offset[MF_CHANNELS_MAX];   /* Rescaling */
    int rs_n;                     /* values given (1: all channels) */
    int in_shape[3], in_rank;     /* InputLayer: H, W, C (-1: unknown) */

    /* From the shapes. */
    shape3 out;                   /* thaw's (C, H, W); a vector is (F, 1, 1) */
    shape3 flat_from;             /* c > 0: out is a vector holding this map in Keras'
                                     (H, W, C) order */
    int pad[4];                   /* a convolution's own padding, top bottom left right */
    int nuse;                     /* layers taking its output */
    int idom, depth;              /* the dominator tree from the input */
    int placed;                   /* emitted into the tree */
    int visit;                    /* depth-first state */
} imp_layer;

/* How a thaw leaf's tensors come from its Keras layer's weights. */
enum imp_bind_kind {
    IMP_BIND_CONV,          /* kernel (k, k, C/g, O) -> weight (O, C/g, k, k); bias */
    IMP_BIND_DW,            /* depthwise_kernel (k, k, C, m) -> weight (C·m, 1, k, k); bias */
    IMP_BIND_CONV_LINEAR,   /* kernel (1, 1, C, O) -> weight (O, C); bias */
    IMP_BIND_DENSE,         /* kernel (I, O) -> weight (O, I), rows in thaw's order; bias */
    IMP_BIND_BN,            /* gamma, beta, moving_mean, moving_variance */
};

typedef struct imp_bind {
    int layer;              /* index into imp_graph.l */
    int kind;               /* enum imp_bind_kind */
    float scale;            /* outputs scaled by this (a hard_sigmoid folded in) */
} imp_bind;

typedef struct imp_graph {
    json_ctx c;
    tfjs_report *rep;
    shape3 input_size;            /* c > 0: overrides the model's */
    int keras3;                   /* Keras 3 semantics (hard_sigmoid) */
    int torch_names;              /* layers named by module paths (ONNX), blocks by module
                                     rather than by Keras' block names: 1 PyTorch's, 2
                                     thaw's own (the block is the first part) */

    imp_layer *l;
    int n, cap;
    int input, output;
    int rescale;                  /* a Rescaling right after the input, or -1 */
    int models;                   /* nesting while reading */

    mf_node *root;                /* the tree, once built */
    imp_bind *bind;               /* one per leaf with parameters, in pre-order */
    int nbind, bindcap;
} imp_graph;

typedef struct imp_weight {
    char name[TFJS_NAME_MAX];
    int ndim;
    uint64_t dim[TFJS_RANK_MAX];
    uint64_t count;
    int dtype;                  /* enum tfjs_dtype: how it is stored */
    double scale, min;          /* uint8 and uint16: value = q·scale + min */
    int group;
    uint64_t offset;            /* bytes into its group's data */
    int optimizer;              /* an optimizer's state: skipped */
    int used;
} imp_weight;

typedef struct imp_group {
    uint8_t *data;
    uint64_t bytes;             /* what the manifest's weights need */
} imp_group;

typedef struct imp_manifest {
    imp_weight *w;
    int nw;
    int *by_name;               /* indices of w sorted by name */
    imp_group *g;
    int ng;
} imp_manifest;

/* Reads the Keras model `keras` ({"class_name", "config"}) found at `at`
 * into g (g->c, g->rep, g->input_size and g->keras3 set by the caller):
 * layers, shapes, and the tree with its bindings. Errors as tfjs_import. */
int imp_graph_read(imp_graph *g, const cJSON *keras, const char *at);
void imp_graph_free(imp_graph *g);

/* The passes after reading, on g's table (g->input, g->output set):
 * order, shapes and dominators, the tree and its bindings. */
int imp_graph_build(imp_graph *g);

/* The manifest's weights bound to the tree built by imp_graph_build, into m
 * (built from the tree); every weight must find its place. */
int imp_bind_weights(const imp_graph *g, const mf_node *root, imp_manifest *mf, model *m,
                     const json_ctx *c);
void imp_manifest_free(imp_manifest *mf);
/* qsort_r's comparison of indices into the imp_weight array ctx, by name. */
int imp_weight_name_cmp(const void *a, const void *b, void *ctx);

/* Class names from a labels file (a JSON list, or an object with "labels")
 * for want outputs; or "0", "1", ... */
int imp_read_labels(mf_meta *meta, const char *text, size_t len, const char *file, int want,
                    tfjs_report *rep, thaw_err *err);
int imp_generic_classes(mf_meta *meta, int n, thaw_err *err);

/* What every import starts from: rep, meta and m emptied, meta naming file,
 * at the current format version, with no provenance measured. */
void imp_start(mf_meta *meta, model *m, tfjs_report *rep, const char *file);

/* The first pass (import_keras_read.c): the model `e` found at `at` (its
 * layer names prefixed by scope; top: the outermost) into g's table;
 * *in_node and *out_node its input and output entries. */
int imp_read_model(imp_graph *g, const cJSON *e, const char *at, const char *scope, int top,
                   int *in_node, int *out_node);

/* "FILE: layer 'NAME' (CLASS) WHAT", as code; and out of memory, naming
 * the file. */
int imp_lfail(const imp_graph *g, const imp_layer *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int imp_nomem(const imp_graph *g);

/* Adds a note to r (silently nothing once TFJS_NOTES_MAX are there). */
void imp_note(tfjs_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
