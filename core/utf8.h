/* utf8.h — the one check of UTF-8 that the loaders, the charts and the SVG
 * writer share; the one rule for the names thaw writes into model files;
 * the one escaping of text from outside (file and class names, anything a
 * user typed) before it is printed or drawn.
 *
 *     size_t n = utf8_len(p, end - p);   // 1 for ASCII, 2..4, 0: malformed
 *     if (!utf8_name_ok(name, THAW_NAME_MAX)) ... refuse it where it enters ...
 *     char q[256];
 *     printf("%s\n", utf8_quote(q, sizeof q, name));   // no byte drives the terminal
 */
#ifndef THAW_UTF8_H
#define THAW_UTF8_H

#include <stddef.h>

/* The length of the UTF-8 sequence at s, which has at most n bytes (or is
 * NUL-terminated: pass SIZE_MAX): 1 for an ASCII byte, 2 to 4, or 0 when it
 * is malformed — a stray continuation byte, a truncated sequence, an
 * overlong form, a UTF-16 surrogate or a code point past U+10FFFF. */
size_t utf8_len(const unsigned char *s, size_t n);

/* Bytes of a name or label in a model file (class names, the weights' file
 * name, provenance), without the NUL. */
#define THAW_NAME_MAX 127

/* The offset of the first byte of s (n bytes) that is not part of a
 * printable UTF-8 character: malformed UTF-8 or a control character (C0,
 * DEL, C1); n when there is none. */
size_t utf8_bad_byte(const char *s, size_t n);

/* The rule for names: 1 to max bytes of printable UTF-8. */
int utf8_name_ok(const char *s, size_t max);

/* Copies s into buf (cap bytes, always terminated) with every byte
 * utf8_bad_byte would stop at written as \xNN, so that outside text can be
 * put in a message or on the screen without driving the terminal. Long
 * text is cut, on a character boundary, with "...". Returns buf. */
const char *utf8_quote(char *buf, size_t cap, const char *s);
/* The same for text of several lines: line breaks are kept. */
const char *utf8_quote_text(char *buf, size_t cap, const char *s);

#endif
