/* utf8.h — the one check of UTF-8 that the loaders, the charts and the SVG
 * writer share.
 *
 *     size_t n = utf8_len(p, end - p);   // 1 for ASCII, 2..4, 0: malformed
 */
#ifndef THAW_UTF8_H
#define THAW_UTF8_H

#include <stddef.h>

/* The length of the UTF-8 sequence at s, which has at most n bytes (or is
 * NUL-terminated: pass SIZE_MAX): 1 for an ASCII byte, 2 to 4, or 0 when it
 * is malformed — a stray continuation byte, a truncated sequence, an
 * overlong form, a UTF-16 surrogate or a code point past U+10FFFF. */
size_t utf8_len(const unsigned char *s, size_t n);

#endif
