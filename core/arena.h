/* arena.h — a bump allocator for per-batch activations and scratch.
 *
 * A model reserves everything a training step needs once, when it is prepared
 * for a batch size, so the step loop itself never calls malloc. Sizing is done
 * by running the same allocation pass twice: first over a measuring arena
 * (base == NULL: nothing is returned, only the bytes are counted), then over an
 * arena reserved with exactly that many bytes.
 *
 *     arena a = {0};                       // measuring
 *     plan_buffers(&a);                    // arena_alloc returns NULL, counts
 *     if (arena_reserve(&a, a.used) != THAW_OK) ...
 *     plan_buffers(&a);                    // now the pointers are real
 *     arena_free(&a);
 */
#ifndef THAW_ARENA_H
#define THAW_ARENA_H

#include <stddef.h>

#define ARENA_ALIGN 64   /* a cache line, and enough for any SIMD load */

typedef struct arena {
    char  *base;   /* NULL while measuring */
    size_t size;   /* bytes reserved */
    size_t used;   /* bytes handed out (or counted) */
} arena;

/* Hands out `bytes` aligned to ARENA_ALIGN, or NULL while measuring. Running
 * past a reserved arena is a programming error (asserted): a real pass hands
 * out exactly what the measuring pass counted. */
void *arena_alloc(arena *a, size_t bytes);

/* Reserves `bytes` zeroed bytes and rewinds. THAW_ENOMEM when the memory
 * cannot be had; the arena is then left empty. */
int arena_reserve(arena *a, size_t bytes);

void arena_free(arena *a);

#endif
