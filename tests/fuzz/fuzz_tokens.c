/* fuzz_tokens.c — libFuzzer target for the tokeniser: any bytes; every
 * token is non-empty, holds no space or malformed UTF-8 when short, and
 * encoding against a vocabulary of the text's own tokens finds each one
 * (but those too long for any vocabulary). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "utf8.h"

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int tokens_check(void *ctx, const char *tok, size_t len)
{
    txt_vocab *v = ctx;
    if (len == 0)
        FUZZ_FAIL("an empty token");
    if (len > TXT_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < len;) {
        size_t l = utf8_len((const unsigned char *)tok + i, len - i);
        if (l == 0 || tok[i] == ' ' || tok[i] == '\n' || tok[i] == '\t')
            FUZZ_FAIL("token '%.*s' holds a space or malformed UTF-8 at %zu", (int)len, tok, i);
        i += l;
    }
    thaw_err err = { 0 };
    txt_vocab_add(v, tok, len, NULL, &err);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 16))
        return 0;
    thaw_err err = { 0 };
    txt_vocab v;
    if (txt_vocab_init(&v, &err) != THAW_OK)
        return 0;
    size_t n = txt_tokenize((const char *)data, size, tokens_check, &v);
    float *ids = malloc(sizeof(float) * (n + 1));
    if (ids) {
        size_t again = txt_encode(&v, (const char *)data, size, ids, (int)n + 1);
        if (again != n)
            FUZZ_FAIL("%zu tokens, then %zu", n, again);
        if (ids[n] != TXT_PAD)
            FUZZ_FAIL("no padding after the last token");
        free(ids);
    }
    txt_vocab_free(&v);
    return 0;
}
