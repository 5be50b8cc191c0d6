/* numtext.h — numbers as the shortest text that reads back exactly, for
 * files and commands a user reads and thaw replays ("0.05", not
 * "0.0500000007"). The caller's LC_NUMERIC must be "C" (thaw's always is
 * where it writes numbers). */
#ifndef THAW_NUMTEXT_H
#define THAW_NUMTEXT_H

#include <stddef.h>

/* v with the fewest significant digits (up to 9) whose text, read back as a
 * float, is v again. Returns what snprintf returns. */
int num_shortest_float(char *buf, size_t cap, float v);

/* v as the shortest text that reads back as exactly v, whole numbers in
 * full ("20", not %g's "2e+01"). */
void num_shortest(char *out, size_t cap, double v);

/* A bounded string being built: num_text_add appends printf-style and
 * truncates (always terminated) once cap is reached. */
typedef struct num_text {
    char *buf;
    size_t cap, len;
} num_text;

__attribute__((format(printf, 2, 3)))
void num_text_add(num_text *t, const char *fmt, ...);

#endif
