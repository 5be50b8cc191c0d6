/* fuzz_email.c — libFuzzer target for the email reader: any bytes as an
 * RFC 822 message (MIME parts, transfer encodings, charsets, HTML); the
 * body must come back NUL-terminated, of the length said, within the
 * document limit, and tokenise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "textsrc.h"

#ifndef FUZZ_FAIL
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int email_count(void *ctx, const char *tok, size_t len)
{
    (void)tok;
    if (len == 0)
        FUZZ_FAIL("an empty token");
    ++*(size_t *)ctx;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    thaw_err err = { 0 };
    char *body;
    size_t n, count = 0;
    if (txt_email_body((const char *)data, size, &body, &n, &err) != THAW_OK)
        return 0;
    if (n > TXT_MAX_DOC_BYTES || body[n] != '\0')
        FUZZ_FAIL("a body of %zu bytes, not terminated or over the limit", n);
    if (txt_tokenize(body, n, email_count, &count) != count)
        FUZZ_FAIL("the token count disagrees");
    free(body);
    return 0;
}
