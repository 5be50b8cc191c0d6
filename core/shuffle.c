/* shuffle.c — see shuffle.h. */
#include "shuffle.h"

rng shuffle_stream(unsigned long long seed, long epoch)
{
    return rng_seeded(seed ^ ((unsigned long long)epoch + 1) * 0xD1B54A32D192ED03ull);
}

void shuffle_order(int *order, int n, rng *r)
{
    for (int i = 0; i < n; i++)
        order[i] = i;
    if (!r)
        return;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(r) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}
