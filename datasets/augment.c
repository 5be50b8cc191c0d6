/* augment.c — shift, flip and noise; see augment.h. */
#include "augment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"

static const char augment_choices[] = "shift[=PIXELS], flip, noise[=SIGMA] or none";

int augment_parse(augment *a, const char *text, thaw_err *err)
{
    char buf[256], q[96];
    memset(a, 0, sizeof *a);
    if (strlen(text) >= sizeof buf)
        return thaw_fail(err, THAW_EINVAL, "augment: too long; expected %s", augment_choices);
    if (!strcmp(text, "none"))
        return THAW_OK;
    memcpy(buf, text, strlen(text) + 1);
    int seen_shift = 0, seen_noise = 0;
    for (char *item = buf, *next; item; item = next) {
        next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *val = strchr(item, '=');
        if (val)
            *val++ = '\0';
        char *end = NULL;
        if (!strcmp(item, "shift") && !seen_shift) {
            long v = val ? strtol(val, &end, 10) : 4;
            if ((val && (end == val || *end)) || v < 1 || v > AUGMENT_MAX_SHIFT)
                return thaw_fail(err, THAW_EINVAL, "augment: shift=%s: expected 1 to %d pixels",
                                 utf8_quote(q, sizeof q, val ? val : ""), AUGMENT_MAX_SHIFT);
            a->shift = (int)v;
            seen_shift = 1;
        } else if (!strcmp(item, "flip") && !val && !a->flip) {
            a->flip = 1;
        } else if (!strcmp(item, "noise") && !seen_noise) {
            float v = val ? strtof(val, &end) : 0.05f;
            if ((val && (end == val || *end)) || !(v > 0.0f && v <= 1.0f))
                return thaw_fail(err, THAW_EINVAL, "augment: noise=%s: expected a sigma above 0 "
                                 "and at most 1", utf8_quote(q, sizeof q, val ? val : ""));
            a->noise = v;
            seen_noise = 1;
        } else {
            return thaw_fail(err, THAW_EINVAL, "augment: '%s' is unknown or repeated; expected %s",
                             utf8_quote(q, sizeof q, item), augment_choices);
        }
    }
    return THAW_OK;
}

void augment_format(const augment *a, char *buf, size_t cap)
{
    int o = 0;
    buf[0] = '\0';
    if (a->shift)
        o += snprintf(buf + o, cap - (size_t)o, "shift=%d", a->shift);
    if (a->flip && (size_t)o < cap)
        o += snprintf(buf + o, cap - (size_t)o, "%sflip", o ? "," : "");
    if (a->noise > 0.0f && (size_t)o < cap) {
        char noise[32];
        num_shortest_float(noise, sizeof noise, a->noise);
        o += snprintf(buf + o, cap - (size_t)o, "%snoise=%s", o ? "," : "", noise);
    }
    if (o == 0)
        snprintf(buf, cap, "none");
}

int augment_check(const augment *a, const ds_geom *g, thaw_err *err)
{
    if (a->shift >= g->in.h || a->shift >= g->in.w)
        return thaw_fail(err, THAW_EINVAL, "augment: a shift of %d pixels is too large for "
                         "%dx%d images", a->shift, g->in.h, g->in.w);
    return THAW_OK;
}

void augment_sample(const augment *a, const ds_geom *g, float *dst, const float *src, rng *r)
{
    const int h = g->in.h, w = g->in.w;
    const size_t plane = (size_t)h * (size_t)w;
    int dy = 0, dx = 0, flip = 0;
    if (a->shift) {
        dy = (int)(rng_next(r) % (uint64_t)(2 * a->shift + 1)) - a->shift;
        dx = (int)(rng_next(r) % (uint64_t)(2 * a->shift + 1)) - a->shift;
    }
    if (a->flip)
        flip = (int)(rng_next(r) >> 63);
    for (int c = 0; c < g->in.c; c++) {
        const float black = -g->mean[c] / g->std[c];
        const float *s = src + (size_t)c * plane;
        float *d = dst + (size_t)c * plane;
        /* output (y, x) shows input (y - dy, x' - dx), x' mirrored when flipped */
        for (int y = 0; y < h; y++) {
            int sy = y - dy;
            for (int x = 0; x < w; x++) {
                int sx = (flip ? w - 1 - x : x) - dx;
                d[(size_t)y * (size_t)w + (size_t)x] =
                    sy >= 0 && sy < h && sx >= 0 && sx < w ? s[(size_t)sy * (size_t)w + (size_t)sx] : black;
            }
        }
        if (a->noise > 0.0f) {
            const float sigma = a->noise / g->std[c];
            for (size_t i = 0; i < plane; i++)
                d[i] += sigma * rng_normal(r);
        }
    }
}
