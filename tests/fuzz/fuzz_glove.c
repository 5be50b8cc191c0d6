/* fuzz_glove.c — libFuzzer target for the GloVe reader (wink-embeddings'
 * JSON layout): what parses has "<pad>" and "<unk>" first, each kept word
 * findable at its id, and finite vectors with the padding rows zero. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glove.h"

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    thaw_err err = { 0 };
    txt_vocab v;
    float *vec;
    glove_info info;
    if (glove_parse((const char *)data, size, "fuzz", 16, &v, &vec, &info, &err) != THAW_OK)
        return 0;
    if (v.n < TXT_SPECIAL || v.n > 16 + TXT_SPECIAL || strcmp(v.word[0], "<pad>"))
        FUZZ_FAIL("a vocabulary of %d words", v.n);
    for (int i = 0; i < v.n; i++)
        if (txt_vocab_find(&v, v.word[i], strlen(v.word[i])) != (i == TXT_UNK ? TXT_UNK : i) &&
            i >= TXT_SPECIAL)
            FUZZ_FAIL("word %d is not found at its id", i);
    for (size_t i = 0; i < (size_t)v.n * (size_t)info.dim; i++)
        if (!isfinite(vec[i]) || (i < (size_t)TXT_SPECIAL * info.dim && vec[i] != 0))
            FUZZ_FAIL("vector component %zu is %g", i, vec[i]);
    free(vec);
    txt_vocab_free(&v);
    return 0;
}
