/* fuzz_tfjs.c — libFuzzer target for the TF.js importer: the input is a
 * model.json, optionally followed by a NUL byte and the bytes every shard
 * it names reads as. Whatever imports must build, so it is printed and
 * parsed back as a thaw model file (thaw reads what an import writes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tfjs.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

#define FUZZ_FLOATS_MAX (1u << 16)   /* weight values: keeps the fuzzer's memory small */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_shards {
    const uint8_t *bytes;
    size_t len;
} fuzz_shards;

static int fuzz_read(void *ctx, const char *name, size_t max, uint8_t **buf, size_t *len,
                     thaw_err *err)
{
    const fuzz_shards *s = ctx;
    (void)name;
    if (s->len > max)
        return thaw_fail(err, THAW_EFORMAT, "%zu bytes; expected at most %zu", s->len, max);
    if (!(*buf = malloc(s->len + 1)))
        return thaw_fail(err, THAW_ENOMEM, "out of memory");
    if (s->len)
        memcpy(*buf, s->bytes, s->len);
    *len = s->len;
    return THAW_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t json = nul ? (size_t)(nul - data) : size;
    fuzz_shards s = { nul ? nul + 1 : NULL, nul ? size - json - 1 : 0 };
    tfjs_opts o = { .max_floats = FUZZ_FLOATS_MAX };
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    if (tfjs_import_mem(&meta, &m, NULL, (const char *)data, json, "fuzz.json", fuzz_read, &s, NULL,
                        0, NULL, &o, &err) != THAW_OK)
        return 0;
    char *text;
    size_t len;
    if (mf_print(&meta, &m, "fuzz.safetensors", &text, &len, &err) == THAW_OK) {
        mf_meta back;
        if (mf_parse(&back, text, len, "printed.json", &err) != THAW_OK)
            FUZZ_FAIL("an imported model prints as a file thaw cannot read: %s", err.msg);
        else
            mf_meta_free(&back);
        free(text);
    }
    mf_meta_free(&meta);
    model_free(&m);
    return 0;
}
