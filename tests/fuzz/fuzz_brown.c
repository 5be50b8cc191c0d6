/* fuzz_brown.c — libFuzzer target for reading a Brown corpus file (word/TAG
 * tokens): the words come back separated by single spaces, as many as said,
 * none empty. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textsrc.h"

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    thaw_err err = { 0 };
    char *out;
    size_t n;
    int words;
    if (txt_brown_words((const char *)data, size, &out, &n, &words, &err) != THAW_OK)
        return 0;
    int spaces = 0;
    for (size_t i = 0; i < n; i++) {
        spaces += out[i] == ' ';
        if (out[i] == ' ' && (i == 0 || i + 1 == n || out[i + 1] == ' '))
            FUZZ_FAIL("an empty word at %zu", i);
    }
    if (out[n] != '\0' || (words ? spaces + 1 : 0) != words || (n == 0) != (words == 0))
        FUZZ_FAIL("%d words but %d spaces in %zu bytes", words, spaces, n);
    free(out);
    return 0;
}
