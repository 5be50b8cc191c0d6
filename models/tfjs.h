/* tfjs.h — importing TensorFlow.js layers models (Keras models) into thaw.
 *
 *     tfjs_opts o = { .labels = "imagenet_classes.json" };   // or zero: metadata.json, "0", "1", ...
 *     tfjs_report r;
 *     mf_meta meta;
 *     model m;
 *     if (tfjs_import(&meta, &m, &r, "mobilenet/model.json", &o, &err)) ... err.msg ...
 *     ... r.notes ... mf_save("mobilenet.json", &meta, &m, &err) ...
 *     mf_meta_free(&meta);
 *     model_free(&m);
 *
 * What is read. A TF.js layers model is model.json — {"modelTopology": a
 * Keras model, "weightsManifest": [{"paths": [shard, ...], "weights":
 * [{"name", "shape", "dtype", "quantization"?}, ...]}, ...]} — and its
 * shards, files beside it whose concatenation, group by group, holds the
 * weights in the manifest's order: float32, or float16 and the uint8/uint16
 * affine quantisation TF.js writes (value = q·scale + min). The topology is
 * Keras' JSON (as tensorflowjs_converter writes it, {"model_config": ...},
 * or as TF.js saves it): a functional model or a Sequential, which may hold
 * further models as layers (Teachable Machine's image export is a
 * Sequential of a truncated MobileNet and a small classifier).
 *
 * What it becomes. The graph becomes thaw's tree: chains are `sequential`,
 * an Add of a branch and its input a `residual` (an Add of two branches one
 * with a shortcut), a Multiply of the input by a branch a `gate`;
 * Conv2D (HWIO kernels to OIHW), DepthwiseConv2D (a grouped conv2d, one
 * group per channel), ZeroPadding2D (folded into the convolution after it),
 * "same" padding (per side, by TensorFlow's rule: the odd pixel goes bottom
 * and right), BatchNormalization (with its epsilon; Keras' momentum m is
 * PyTorch's 1 − m), the activations (relu, relu6, sigmoid, hard_sigmoid,
 * swish, hard_swish; linear is nothing; a softmax at the very end is
 * dropped, for thaw's loss applies it), ReLU(max_value=6), pooling,
 * Flatten (a Dense after it takes its inputs in thaw's channel-first
 * order), Reshape between a vector and a 1×1 map (nothing), Dropout, Dense
 * (linear), and a 1×1 convolution head on a pooled 1×1 map (linear). The
 * root's children are the model's blocks, named as Keras names them
 * (conv1; conv_dw_N + conv_pw_N as block_N; block_N_...; a layer and its
 * batch norm and activation), so strategies act per block. Anything else is
 * refused by name ("layer 'conv_dw_3' (SeparableConv2D) is not supported"),
 * never approximated; a layer type or hyper-parameter this thaw lacks
 * (core/registry.h) is named too.
 *
 * Input. The model's input size (or opts->input) and normalisation: inputs
 * in [0, 1] with mean 0.5 and std 0.5 per channel — MobileNet's and
 * Teachable Machine's x/127.5 − 1 — unless opts gives mean and std, or the
 * model starts with a Rescaling layer, which then becomes the normalisation.
 *
 * Classes. From opts->labels (a JSON array of names, or an object whose
 * "labels" is one: Teachable Machine's metadata.json), else metadata.json
 * beside model.json when it has labels, else "0", "1", ... A name repeated
 * gets " (2)", " (3)" ... appended (ImageNet has two cranes); notes say so.
 *
 * Hostile files. model.json at most TFJS_JSON_MAX bytes and nested at most
 * TFJS_DEPTH_MAX deep; at most TFJS_LAYERS_MAX layers, TFJS_MODELS_MAX
 * models inside one another, TFJS_WEIGHTS_MAX weights, TFJS_SHARDS_MAX
 * shards; shapes of rank at most TFJS_RANK_MAX with every product checked
 * for overflow and the total against opts->max_floats; each group's shards
 * must hold exactly the bytes its weights need; shard names are plain file
 * names (an optional leading "./"), never a path out of the model's folder;
 * every weight must be used exactly once and be finite.
 */
#ifndef THAW_TFJS_H
#define THAW_TFJS_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"

#define TFJS_JSON_MAX    (8u << 20)   /* bytes of model.json */
#define TFJS_LABELS_MAX  (1u << 20)   /* bytes of a labels file */
#define TFJS_DEPTH_MAX   64           /* JSON nesting */
#define TFJS_LAYERS_MAX  4096         /* Keras layers, nested models' included */
#define TFJS_MODELS_MAX  8            /* models nested in one another */
#define TFJS_WEIGHTS_MAX 16384        /* weights in the manifest */
#define TFJS_SHARDS_MAX  4096         /* shard files */
#define TFJS_RANK_MAX    4
#define TFJS_NAME_MAX    128          /* bytes of a Keras or weight name, with the NUL */
#define TFJS_NOTES_MAX   8

typedef struct tfjs_opts {
    const char *labels;       /* a class-name file, or NULL */
    shape3 input;             /* c > 0: this input size instead of the model's */
    int norm;                 /* 1: mean and std below instead of the default */
    double mean[MF_CHANNELS_MAX], std[MF_CHANNELS_MAX];
    uint64_t max_floats;      /* 0: MF_PARAMS_MAX */
} tfjs_opts;

/* Storage types of weights, as the manifest names them. */
enum tfjs_dtype { TFJS_F32, TFJS_F16, TFJS_U8, TFJS_U16, TFJS_DTYPES };

/* What an import read and did, for the front end to tell. */
typedef struct tfjs_report {
    char model[96];           /* "Keras 2.1.4 functional model 'model_1'" */
    int layers;               /* Keras layers read, nested models' included */
    int weights, shards;
    uint64_t values;          /* weight elements */
    uint64_t bytes;           /* of the shards */
    int by_dtype[TFJS_DTYPES];   /* weights stored in each type */
    int blocks;               /* the root's children */
    char notes[TFJS_NOTES_MAX][192];   /* what was adjusted, in plain words */
    int nnotes;
} tfjs_report;

/* Reads shard `name` (already checked to be a plain file name) of at most
 * max bytes into a fresh buffer the caller frees. THAW_EFORMAT when it is
 * larger, THAW_EIO when it cannot be read. */
typedef int (*tfjs_read_fn)(void *ctx, const char *name, size_t max, uint8_t **buf, size_t *len,
                            thaw_err *err);

/* Imports the model.json of len bytes (`file` names it in errors), reading
 * shards through read and class names from labels (labels_len bytes of
 * JSON; NULL for "0", "1", ...; labels_file names it). On success meta and
 * m hold the model (meta->weights is empty until mf_save names it) and rep
 * what was done. Errors: THAW_EFORMAT naming the file, the place in it and
 * what was expected; THAW_EINVAL when the model uses what thaw cannot
 * express, naming the layer; THAW_EIO from read; THAW_ENONFINITE naming a
 * weight; THAW_ENOMEM. On failure meta and m are empty. opt may be NULL. */
int tfjs_import_mem(mf_meta *meta, model *m, tfjs_report *rep, const char *json, size_t len,
                    const char *file, tfjs_read_fn read, void *ctx, const char *labels,
                    size_t labels_len, const char *labels_file, const tfjs_opts *opt,
                    thaw_err *err);

/* tfjs_import_mem on the file at path, its shards beside it, and the
 * labels as described above. Errors as tfjs_import_mem, and THAW_EIO when a
 * file cannot be read. */
int tfjs_import(mf_meta *meta, model *m, tfjs_report *rep, const char *path,
                const tfjs_opts *opt, thaw_err *err);

#endif
