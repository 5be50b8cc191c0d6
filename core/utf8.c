/* utf8.c — see utf8.h. */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    if (b < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if ((b & 0xE0) == 0xC0)
        len = 2, cp = b & 0x1F, min = 0x80;
    else if ((b & 0xF0) == 0xE0)
        len = 3, cp = b & 0x0F, min = 0x800;
    else if ((b & 0xF8) == 0xF0)
        len = 4, cp = b & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {   /* stops at a NUL: it is no continuation byte */
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* The bytes from s that the name rule refuses: 0 for a printable character
 * (its length in *n), else 1 with *n the byte count to escape. */
static int utf8_control(const unsigned char *s, size_t left, size_t *n)
{
    *n = utf8_len(s, left);
    int c1 = *n == 2 && s[0] == 0xC2 && s[1] < 0xA0;   /* U+0080..U+009F: C1 controls */
    if ((*n > 1 && !c1) || (*n == 1 && *s >= 0x20 && *s != 0x7F))
        return 0;
    *n = 1;
    return 1;
}

size_t utf8_bad_byte(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0, k; i < n; i += k)
        if (utf8_control(p + i, n - i, &k))
            return i;
    return n;
}

int utf8_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n >= 1 && n <= max && utf8_bad_byte(s, n) == n;
}

/* utf8_quote, keeping line breaks when lines is set. */
static const char *quote(char *buf, size_t cap, const char *s, int lines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    if (cap < 4) {
        if (cap)
            buf[0] = '\0';
        return buf;
    }
    while (*p) {                             /* keeps o + 4 <= cap: room for "..." */
        size_t n;
        int printable = !utf8_control(p, SIZE_MAX, &n) || (lines && *p == '\n');
        size_t need = printable ? n : 4;
        if (o + need + 4 > cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (printable) {
            memcpy(buf + o, p, n);
            p += n;
        } else {
            static const char hex[] = "0123456789abcdef";
            buf[o] = '\\', buf[o + 1] = 'x', buf[o + 2] = hex[*p >> 4], buf[o + 3] = hex[*p & 15];
            p++;
        }
        o += need;
    }
    buf[o] = '\0';
    return buf;
}

const char *utf8_quote(char *buf, size_t cap, const char *s)
{
    return quote(buf, cap, s, 0);
}

const char *utf8_quote_text(char *buf, size_t cap, const char *s)
{
    return quote(buf, cap, s, 1);
}
