/* fuzz_texttable.c — libFuzzer target for the text tables: the first byte
 * picks CSV, TSV or JSONL, the rest is the file. What parses is checked
 * (labels in range, lengths true, class names valid), then tokenised into a
 * vocabulary and encoded, and every id checked to be the vocabulary's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "textsrc.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    thaw_err err = { 0 };
    txt_set s;
    if (txt_parse_table(&s, (const char *)data + 1, size - 1, "fuzz", data[0] % 3, "text", "label",
                        &err) != THAW_OK)
        return 0;
    for (int i = 0; i < s.n; i++)
        if (s.labels[i] < 0 || s.labels[i] >= s.nclass || strlen(s.doc[i]) != s.len[i])
            FUZZ_FAIL("document %d: label %d of %d, length %zu of %zu", i, s.labels[i], s.nclass,
                      s.len[i], strlen(s.doc[i]));
    for (int c = 0; c < s.nclass; c++)
        if (!utf8_name_ok(s.name[c], THAW_NAME_MAX))
            FUZZ_FAIL("class %d has a name a model file cannot hold", c);
    txt_vocab v;
    if (txt_vocab_build(&v, (const char *const *)s.doc, s.len, s.n, 1000, 1, &err) == THAW_OK) {
        float ids[16];
        for (int i = 0; i < s.n; i++) {
            txt_encode(&v, s.doc[i], s.len[i], ids, 16);
            for (int k = 0; k < 16; k++)
                if (!(ids[k] >= 0 && ids[k] < (float)v.n))
                    FUZZ_FAIL("document %d: id %g outside a vocabulary of %d", i, ids[k], v.n);
        }
        txt_vocab_free(&v);
    }
    txt_set_free(&s);
    return 0;
}
