/* stb_image_impl.c — the one translation unit that compiles stb_image, from
 * Debian's libstb-dev header, configured for untrusted files (reliability
 * checklist §2.1): PNG and JPEG only, no HDR or float paths, no stdio (thaw
 * reads files itself, with a size cap), and at most 8192 pixels a side.
 * Debian's prebuilt libstb, which has every format enabled, is not linked.
 * imgdir.c includes the header with the same settings from imgdir.h, and
 * checks each file's header before stb decodes it (imgdir_info). stb's
 * allocator is defined here too: calloc and realloc that note a failure for
 * imgdir_stb_ran_out.
 *
 * Sanitizers. Under clang, UBSan's pointer-overflow, nonnull-attribute and
 * shift checks are off for stb's functions, and only here: on a PNG whose
 * first IDAT chunk is empty, stb 2.27 adds 0 to a NULL pointer and copies 0
 * bytes to it, and on a corrupt JPEG entropy stream its bit reader's count
 * goes below zero and it shifts a 32-bit word by more than 31 (both harmless
 * to memory: the bits it makes are garbage pixels of a broken file), which
 * would otherwise stop every fuzzing run that finds them.
 * AddressSanitizer and UBSan's other checks — array bounds included, which
 * is how fuzz_image caught stb's JPEG Huffman overflow — still apply. */
#include "imgdir.h"

#include <stdlib.h>

static _Thread_local int stb_ran_out;

void *imgdir_stb_malloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        stb_ran_out = 1;
    return p;
}

void *imgdir_stb_realloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q && n)
        stb_ran_out = 1;
    return q;
}

int imgdir_stb_ran_out(void)
{
    int r = stb_ran_out;
    stb_ran_out = 0;
    return r;
}

#ifdef __clang__
#pragma clang attribute push(__attribute__((no_sanitize("pointer-overflow", "nonnull-attribute", "shift"))), apply_to = function)
#endif

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

#ifdef __clang__
#pragma clang attribute pop
#endif
