/* registry.h — every layer type thaw knows, listed once.
 *
 * A type is declared in its own file (core/NAME.c) as `const layer_ops
 * NAME_ops` (see layer.h: its name in model files, hyper-parameters, flags
 * and PyTorch names); this list is the only other place it appears. Model
 * files, the PyTorch bridge and the describers find types here:
 *
 *     const layer_ops *t = layer_type_find("conv2d");
 *     for (int i = 0; i < LAYER_TYPE_COUNT; i++) ... layer_type_at(i)->type ...
 */
#ifndef THAW_REGISTRY_H
#define THAW_REGISTRY_H

#include "layer.h"

#define LAYER_TYPES(X) \
    X(sequential) X(residual) X(conv2d) X(batchnorm2d) X(relu) X(maxpool2d) X(avgpool) \
    X(linear) X(dropout) X(flatten) X(gate) X(silu) X(relu6) X(hardswish) X(hardsigmoid) \
    X(sigmoid) X(embedding) X(conv1d) X(seqmean) X(seqmax) X(concat)

enum {
#define LAYER_TYPE_ENUM(name) LAYER_TYPE_##name,
    LAYER_TYPES(LAYER_TYPE_ENUM)
#undef LAYER_TYPE_ENUM
    LAYER_TYPE_COUNT
};

/* The type named `name` ("conv2d"), or NULL. */
const layer_ops *layer_type_find(const char *name);

/* The i-th type, 0 <= i < LAYER_TYPE_COUNT, in the list's order. */
const layer_ops *layer_type_at(int i);

/* The type names, ", "-separated, into out (for "expected one of: ..."). */
void layer_type_names(char *out, size_t cap);

#endif
