#include "arena.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

void *arena_alloc(arena *a, size_t bytes)
{
    size_t start = (a->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    a->used = start + bytes;
    if (!a->base)
        return NULL;
    assert(a->used <= a->size);
    return a->base + start;
}

int arena_reserve(arena *a, size_t bytes)
{
    arena_free(a);
    size_t size = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    char *base = aligned_alloc(ARENA_ALIGN, size);
    if (!base)
        return THAW_ENOMEM;
    memset(base, 0, size);
    a->base = base;
    a->size = size;
    a->used = 0;
    return THAW_OK;
}

void arena_free(arena *a)
{
    free(a->base);
    a->base = NULL;
    a->size = 0;
    a->used = 0;
}
