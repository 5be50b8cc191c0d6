/* modelfile.h — thaw's model files: NAME.json + NAME.safetensors.
 *
 *     mf_meta meta;
 *     model m;
 *     mf_load_opts opt = { .classes = 5, .seed = 1 };   // new 5-class head
 *     if (mf_load(&meta, &m, "models/fashion-resnet.json", &opt, &err)) ... err.msg ...
 *     ... train ...
 *     if (mf_save("runs/mine/model.json", &meta, &m, &err)) ...
 *     mf_meta_free(&meta);
 *     model_free(&m);
 *
 * NAME.json, format "thaw-model" version 2 (every key listed is known; any
 * other key, a repeated key or a value of the wrong type is an error):
 *
 *   {
 *     "format": "thaw-model",
 *     "version": 2,
 *     "weights": "fashion-resnet.safetensors",     a file beside this one
 *     "input": { "channels": 1, "height": 28, "width": 28,
 *                "mean": [0.286], "std": [0.353] },      one per channel
 *     "classes": ["T-shirt/top", "Trouser", ...],        one per output
 *     "provenance": {                                    optional, as are its keys
 *       "dataset": "fashion-mnist",                      the source data set
 *       "dataset_classes": [0, 1, 2, 3, 4],              its classes used, in output order
 *       "epochs": 8, "seed": 1,
 *       "test_accuracy": 0.896,                          on the source's test split
 *       "finetuned_from": "shapes-resnet"                or null
 *     },
 *     "frozen": ["stem", "stage2.conv1"],                optional: layers to freeze
 *     "vocabulary": "glove-boe.vocab",                   optional: a text model's words
 *     "architecture": { "type": "sequential", "layers": [ NODE, ... ] }
 *   }
 *
 * A NODE is {"name": N, "type": T, ...hyper-parameters..., ...children...};
 * names are letters, digits and '_' (PyTorch's attribute names: "stem",
 * "0", "head") and unique among siblings. The types, their hyper-parameters
 * (PyTorch's names, ranges and defaults) and their child keys are the layer
 * types' own declarations (core/registry.h):
 *
 *   sequential   layers: [NODE, ...]
 *   residual     body: [NODE, ...], shortcut: NODE (optional; the identity
 *                when absent), activation: "relu" or "none" (after the sum)
 *   gate         branch: [NODE, ...]   (input × branch(input))
 *   concat       branches: [NODE, ...]   (each reads the input; their
 *                outputs stacked along the channels: Kim's CNN widths)
 *   conv2d       in_channels, out_channels, kernel_size, stride (1),
 *                padding (0), bias (true), groups (1: dividing both channel
 *                counts; depthwise when in_channels), pad_top, pad_bottom,
 *                pad_left, pad_right (each `padding`; TensorFlow's "same"
 *                at stride 2 is 0, 1, 0, 1); weight (out_channels,
 *                in_channels / groups, kernel_size, kernel_size). groups
 *                and the pad_ keys are written only when not at their
 *                defaults
 *   batchnorm2d  num_features, eps (1e-5), momentum (0.1)
 *   maxpool2d    kernel_size, stride (kernel_size), padding (0)
 *   linear       in_features, out_features, bias (true)
 *   dropout      p (0.5)
 *   relu, silu, relu6, hardswish, hardsigmoid, sigmoid (as PyTorch
 *   defines them: relu6 = min(max(x, 0), 6), hardsigmoid = relu6(x + 3)/6,
 *   hardswish = x·hardsigmoid(x)), avgpool (global average), flatten
 *   embedding    num_embeddings, embedding_dim, padding_idx (0; -1 for
 *                none); weight (num_embeddings, embedding_dim). Must come
 *                first: it reads the input, token ids 1x1xL (channels 1,
 *                height 1, width L), and gives (embedding_dim, 1, L)
 *   conv1d       in_channels, out_channels, kernel_size, padding (0), bias
 *                (true); weight (out_channels, in_channels, kernel_size),
 *                stride 1, on sequences (C, 1, L)
 *   seqmean, seqmax   the mean and the max over a sequence's real
 *                positions (padding masked): (C, 1, L) -> (C, 1, 1)
 *
 * A text model's vocabulary file (UTF-8, LF line ends) holds one word a
 * line, 1 to MF_WORD_MAX bytes of printable UTF-8; line i is
 * the word of token id i, and the first two lines are "<pad>" (id 0, the
 * embedding's padding) and "<unk>" (id 1, every word not listed); at most
 * the embedding's num_embeddings lines. A save writes it beside the JSON as
 * NAME.vocab, with the pair.
 *
 * Version 1 files load too: version 1 wrote a ResNet basic block as
 * {"type": "residual", in_channels, out_channels, stride (1), projection
 * (when needed)}, which reads as the residual whose body is conv1 bn1 relu
 * conv2 bn2, whose shortcut is "proj" (conv "0", BatchNorm "1") when it has a
 * projection, and whose activation is relu — the same tensors under the same
 * names. A save always writes version 2.
 *
 * "frozen" lists dotted layer paths (any depth, a residual block's children
 * included) whose subtrees are frozen on load (model_freeze); a save lists
 * the highest layers whose parameters are all frozen. The architecture's
 * output count must equal the class count.
 *
 * NAME.safetensors holds every parameter and running statistic under its
 * PyTorch name ("stage2.bn1.running_mean"), F32, in PyTorch's shape; a
 * BatchNorm's "num_batches_tracked" (I64, a scalar) is optional on load and
 * always written. Exactly these tensors: a missing, extra, mistyped or
 * misshapen one, or a NaN/Inf value, is an error naming the tensor. So a
 * PyTorch state_dict of the same architecture saved as safetensors loads
 * unchanged, and a thaw file loads into PyTorch with load_state_dict
 * (examples/pytorch/thaw_torch.py converts both ways).
 */
#ifndef THAW_MODELFILE_H
#define THAW_MODELFILE_H

#include <stdint.h>

#include "model.h"
#include "utf8.h"

#define MF_FORMAT       "thaw-model"
#define MF_VERSION      2             /* written; 1 and 2 are read */
#define MF_JSON_MAX     (1u << 20)    /* bytes of a model's JSON */
#define MF_DEPTH_MAX    32            /* JSON nesting */
#define MF_LAYERS_MAX   4096          /* nodes in an architecture */
#define MF_CLASSES_MAX  1000
#define MF_CHANNELS_MAX 64            /* input channels */
#define MF_SIDE_MAX     4096          /* input height and width */
#define MF_PARAMS_MAX   (1ull << 27)  /* floats of parameters and statistics */
#define MF_TEXT_MAX     (THAW_NAME_MAX + 1)   /* bytes of a name or label, with the NUL */

/* One node of an architecture: its type and the hyper-parameters and
 * children it is built from. */
typedef struct mf_node {
    char name[LAYER_NAME_MAX];   /* "" for the root */
    const layer_ops *type;
    double hp[LAYER_HP_MAX];     /* in the type's order (type->hp) */
    struct mf_node *child;       /* the type's children (layers, body, branch) */
    int nchild;
    struct mf_node *side;        /* the type's side child (a shortcut), or NULL */
} mf_node;

typedef struct mf_provenance {
    char dataset[MF_TEXT_MAX];          /* "" when unknown */
    int dataset_classes[MF_CLASSES_MAX];
    int ndataset_classes;
    int epochs;                         /* -1 when unknown */
    long long seed;                     /* -1 when unknown */
    double test_accuracy;               /* a fraction; -1 when unknown */
    char finetuned_from[MF_TEXT_MAX];   /* "" when trained from scratch */
} mf_provenance;

/* What a model file says besides the weights. */
#define MF_WORD_MAX 64                      /* bytes of a vocabulary word */
#define MF_VOCAB_BYTES_MAX ((size_t)256 << 20)

/* Checks a vocabulary file's bytes (file names it in errors) by the rules
 * above and counts its words: THAW_EFORMAT naming the line. */
int mf_vocab_check(const char *text, size_t len, const char *file, int *words, thaw_err *err);

typedef struct mf_meta {
    char file[256];                     /* the JSON's path, for messages */
    int version;                        /* the file's format version (1 or 2) */
    char weights[MF_TEXT_MAX];          /* the weights' file name, beside the JSON */
    shape3 input;
    double mean[MF_CHANNELS_MAX], std[MF_CHANNELS_MAX];
    int nclass;
    char (*class_name)[MF_TEXT_MAX];    /* nclass names */
    mf_provenance prov;
    char (*frozen)[LAYER_PATH_MAX];     /* nfrozen dotted paths of frozen layers */
    int nfrozen;
    mf_node *arch;                      /* the root, a sequential */
    /* A text model's vocabulary: the file named (NAME.vocab beside the
     * JSON, "" for none) and, once mf_load has read it, its bytes: one word
     * a line, line i the word of token id i, "<pad>" and "<unk>" first. */
    char vocab_name[MF_TEXT_MAX];
    char *vocab;
    size_t vocab_len;
    int vocab_words;
} mf_meta;

typedef struct mf_load_opts {
    int classes;                 /* > 0 and not the file's: a fresh head with this many */
    int fresh_head;              /* 1: a fresh head even when the count is the file's */
    unsigned long long seed;     /* initialises a fresh head; seeds dropout */
} mf_load_opts;

/* Parses a model JSON of len bytes (file names it in errors) into meta.
 * THAW_EFORMAT naming the file, the path inside it and what was expected;
 * THAW_ENOMEM. meta is empty on failure. */
int mf_parse(mf_meta *meta, const char *text, size_t len, const char *file, thaw_err *err);

/* Floats of parameters and statistics the architecture declares, into *n;
 * THAW_EFORMAT when over MF_PARAMS_MAX (checked without overflow). */
int mf_param_count(const mf_node *root, uint64_t *n, thaw_err *err);

/* The layer tree a description's node builds (parameters not yet laid
 * out: model_build takes it). NULL with err set. */
layer *mf_build_layers(const mf_node *n, thaw_err *err);

/* Builds meta's architecture (parameters initialised from seed), checks it
 * ends in one score per class, and applies its "frozen" marks. THAW_ESHAPE
 * naming the layers whose shapes do not chain. */
int mf_build(model *m, const mf_meta *meta, unsigned long long seed, thaw_err *err);

/* Copies the weights of a parsed safetensors file (file names it) into m:
 * checked in full before anything is copied, so on failure m is unchanged. */
struct st_file;
int mf_set_weights(model *m, const struct st_file *f, const char *file, thaw_err *err);

/* Reads, validates and builds a model from path and its weights. With
 * opt->classes set to another count than the file's, or opt->fresh_head
 * set, the head is replaced by a fresh one (transfer_new_head: opt->classes
 * outputs, or the file's count when that is 0) initialised from
 * opt->seed, everything else keeps the file's
 * weights, and the class names become "0", "1", ... (opt may be NULL). On
 * failure meta and m are empty. */
int mf_load(mf_meta *meta, model *m, const char *path, const mf_load_opts *opt, thaw_err *err);

/* Writes m with meta's description as path (which must end in ".json") and
 * its weights beside it, atomically as a pair: the weights go to whichever
 * of NAME.safetensors and NAME.1.safetensors the current JSON does not name,
 * the JSON is renamed into place last, then the old weights are removed —
 * a crash at any moment leaves the old model or the new one, never a mix.
 * Frozen marks come from m. THAW_EINVAL when meta does not describe m,
 * THAW_ENONFINITE (nothing written) when a weight is NaN or Inf, THAW_EIO,
 * THAW_ENOMEM. */
int mf_save(const char *path, const mf_meta *meta, const model *m, thaw_err *err);

/* meta as JSON text (a fresh buffer the caller frees), the frozen list
 * from m (or meta's own when m is NULL); weights names the weights file. */
int mf_print(const mf_meta *meta, const model *m, const char *weights, char **out, size_t *len,
             thaw_err *err);

/* meta for the reference architecture (fashion-resnet: stem conv3x3 ->32
 * BN ReLU; stage1 basic block 32->32; stage2 32->64 stride 2 with
 * projection; stage3 64->128 stride 2 with projection; global average pool
 * and linear 128->classes) on the given input, normalisation 0/1, class
 * names "0", "1", ..., no provenance. This is the one description of it:
 * make pretrain trains the shipped models from it. */
int mf_meta_reference(mf_meta *meta, shape3 input, int classes, thaw_err *err);

/* The reference architecture's layers for in_channels and classes (for
 * model_build). NULL with err set. */
layer *mf_reference_net(int in_channels, int classes, thaw_err *err);

void mf_meta_free(mf_meta *meta);

#endif
