/* numtext.c — shortest round-tripping number text. */
#include "numtext.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int num_shortest_float(char *buf, size_t cap, float v)
{
    int n = 0;
    for (int digits = 1; digits <= 9; digits++) {
        n = snprintf(buf, cap, "%.*g", digits, (double)v);
        if (n > 0 && (size_t)n < cap && strtof(buf, NULL) == v)
            break;
    }
    return n;
}

void num_shortest(char *out, size_t cap, double v)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

void num_text_add(num_text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < t->cap ? t->len + (size_t)n : t->cap - 1;
}
