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

#endif
