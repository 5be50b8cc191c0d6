/* numtext.c — shortest round-tripping number text. */
#include "numtext.h"

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
