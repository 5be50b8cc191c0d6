/* test_utf8.c — the UTF-8 check the loaders, charts and SVG writer share:
 * well-formed sequences have their length, every malformed kind is 0. */
#include <stdint.h>

#include "test.h"
#include "utf8.h"

#define LEN(bytes, n) utf8_len((const unsigned char *)(bytes), (n))

void test_utf8_len(void)
{
    CHECK(LEN("a", SIZE_MAX) == 1 && LEN("", SIZE_MAX) == 1);
    CHECK(LEN("\xc3\xa9", SIZE_MAX) == 2);              /* é */
    CHECK(LEN("\xe2\x86\x92", SIZE_MAX) == 3);          /* → */
    CHECK(LEN("\xf0\x9f\x99\x82", SIZE_MAX) == 4);      /* U+1F642 */
    CHECK(LEN("\x80", SIZE_MAX) == 0);                  /* stray continuation */
    CHECK(LEN("\xc3", SIZE_MAX) == 0);                  /* truncated by the NUL */
    CHECK(LEN("\xe2\x86\x92", 2) == 0);                 /* truncated by n */
    CHECK(LEN("\xc0\x80", SIZE_MAX) == 0);              /* overlong NUL */
    CHECK(LEN("\xe0\x80\xaf", SIZE_MAX) == 0);          /* overlong '/' */
    CHECK(LEN("\xed\xa0\x80", SIZE_MAX) == 0);          /* surrogate U+D800 */
    CHECK(LEN("\xf4\x90\x80\x80", SIZE_MAX) == 0);      /* past U+10FFFF */
    CHECK(LEN("\xf8\x88\x80\x80\x80", SIZE_MAX) == 0);  /* five-byte form */
}
