/* registry.c — the table behind registry.h. */
#include "registry.h"

#include <stdio.h>
#include <string.h>

#define LAYER_TYPE_DECL(name) extern const layer_ops name##_ops;
LAYER_TYPES(LAYER_TYPE_DECL)
#undef LAYER_TYPE_DECL

static const layer_ops *const layer_types[] = {
#define LAYER_TYPE_ENTRY(name) &name##_ops,
    LAYER_TYPES(LAYER_TYPE_ENTRY)
#undef LAYER_TYPE_ENTRY
};

_Static_assert(sizeof layer_types / sizeof layer_types[0] == LAYER_TYPE_COUNT,
               "one entry per listed layer type");

const layer_ops *layer_type_find(const char *name)
{
    for (int i = 0; i < LAYER_TYPE_COUNT; i++)
        if (!strcmp(layer_types[i]->type, name))
            return layer_types[i];
    return NULL;
}

const layer_ops *layer_type_at(int i)
{
    return i >= 0 && i < LAYER_TYPE_COUNT ? layer_types[i] : NULL;
}

void layer_type_names(char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < LAYER_TYPE_COUNT && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", layer_types[i]->type);
}
