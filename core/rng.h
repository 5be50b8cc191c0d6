/* rng.h — a small seeded generator (splitmix64), so every random choice in
 * thaw — initial weights, dropout masks, shuffles — repeats for a given seed. */
#ifndef THAW_RNG_H
#define THAW_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct rng {
    uint64_t state;
} rng;

static inline rng rng_seeded(uint64_t seed)
{
    rng r = { seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull };
    return r;
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1), 24 bits of precision. */
static inline float rng_uniform(rng *r)
{
    return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Standard normal by Box-Muller. */
static inline float rng_normal(rng *r)
{
    float u = rng_uniform(r), v = rng_uniform(r);
    return sqrtf(-2.0f * logf(1.0f - u)) * cosf(6.28318530718f * v);
}

#endif
