/* shift.c — computed domain shifts; see shift.h. */
#include "shift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "utf8.h"

#define SHIFT_CHOICES "invert, rotate=DEG, noise=SIGMA, contrast=C, joined by '+'"

/* A number in [lo, hi] (lo itself excluded when lo_open); 0 when it is not. */
static int shift_num(const char *s, double lo, double hi, int lo_open, float *out)
{
    char *end;
    if (!*s)
        return 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v > hi || v < lo || (lo_open && v == lo))
        return 0;
    *out = (float)v;
    return 1;
}

int ds_shift_parse(ds_shift *s, const char *text, thaw_err *err)
{
    char buf[DS_SHIFT_TEXT_MAX], q[96];
    memset(s, 0, sizeof *s);
    if (strlen(text) >= sizeof buf)
        return thaw_fail(err, THAW_EINVAL, "shift: longer than %d bytes: expected "
                         SHIFT_CHOICES, DS_SHIFT_TEXT_MAX - 1);
    memcpy(buf, text, strlen(text) + 1);
    if (!strcmp(buf, "none"))
        return THAW_OK;
    int seen = 0;
    for (char *item = buf, *next; item; item = next) {
        char *plus = strchr(item, '+');
        next = plus ? plus + 1 : NULL;
        if (plus)
            *plus = '\0';
        char *eq = strchr(item, '=');
        const char *val = eq ? eq + 1 : NULL;
        if (eq)
            *eq = '\0';
        static const char *const names[] = { "invert", "rotate", "noise", "contrast" };
        int k = 0;
        while (k < 4 && strcmp(item, names[k]))
            k++;
        if (k == 4)
            return thaw_fail(err, THAW_EINVAL, "shift: unknown item '%s': expected "
                             SHIFT_CHOICES, utf8_quote(q, sizeof q, item));
        if (seen & 1 << k)
            return thaw_fail(err, THAW_EINVAL, "shift: '%s' given twice", names[k]);
        seen |= 1 << k;
        if (k == 0) {
            if (val)
                return thaw_fail(err, THAW_EINVAL, "shift: invert takes no value (got "
                                 "invert=%s)", utf8_quote(q, sizeof q, val));
            s->invert = 1;
            continue;
        }
        int ok = val && (k == 1 ? shift_num(val, -180.0, 180.0, 0, &s->rotate)
                         : k == 2 ? shift_num(val, 0.0, 1.0, 1, &s->noise)
                                  : shift_num(val, 0.0, 4.0, 1, &s->contrast));
        if (!ok)
            return thaw_fail(err, THAW_EINVAL, "shift: %s=%s: expected %s", names[k],
                             val ? utf8_quote(q, sizeof q, val) : "(nothing)",
                             k == 1 ? "degrees from -180 to 180"
                             : k == 2 ? "a std above 0 and at most 1 (the 0..1 pixel scale)"
                                      : "a factor above 0 and at most 4");
    }
    return THAW_OK;
}

int ds_shift_on(const ds_shift *s)
{
    return s->invert || s->rotate != 0.0f || s->noise > 0.0f || s->contrast > 0.0f;
}

void ds_shift_format(const ds_shift *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
#define SHIFT_PUT(...) \
    (o += (size_t)snprintf(buf + o, o < cap ? cap - o : 0, __VA_ARGS__), o = o < cap ? o : cap)
    if (s->rotate != 0.0f)
        SHIFT_PUT("%srotate=%g", o ? "+" : "", (double)s->rotate);
    if (s->contrast > 0.0f)
        SHIFT_PUT("%scontrast=%g", o ? "+" : "", (double)s->contrast);
    if (s->invert)
        SHIFT_PUT("%sinvert", o ? "+" : "");
    if (s->noise > 0.0f)
        SHIFT_PUT("%snoise=%g", o ? "+" : "", (double)s->noise);
    if (!o)
        SHIFT_PUT("none");
#undef SHIFT_PUT
}

static uint8_t clamp8(float v)
{
    return (uint8_t)(v <= 0.0f ? 0 : v >= 255.0f ? 255 : lrintf(v));
}

/* dst = src (h, w) rotated by cos/sin about its centre, bilinear, 0 outside:
 * each output pixel samples the input at the inverse rotation. */
static void rotate_plane(uint8_t *dst, const uint8_t *src, int h, int w, float c, float s)
{
    float cy = 0.5f * (float)(h - 1), cx = 0.5f * (float)(w - 1);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float dx = (float)x - cx, dy = (float)y - cy;
            /* image rows grow downwards: a counter-clockwise turn on screen */
            float sx = cx + c * dx - s * dy, sy = cy + s * dx + c * dy;
            int x0 = (int)floorf(sx), y0 = (int)floorf(sy);
            float fx = sx - (float)x0, fy = sy - (float)y0, v = 0.0f;
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) {
                    int xx = x0 + i, yy = y0 + j;
                    if (xx >= 0 && xx < w && yy >= 0 && yy < h)
                        v += (i ? fx : 1.0f - fx) * (j ? fy : 1.0f - fy) * src[yy * w + xx];
                }
            dst[y * w + x] = clamp8(v);
        }
}

/* s on one image (c, h, w) of shape sh, the i-th of its split; tmp holds a
 * plane when s rotates. */
static void shift_image(const ds_shift *s, uint8_t *img, shape3 sh, int split, int i, uint8_t *tmp)
{
    size_t plane = (size_t)sh.h * (size_t)sh.w, per = plane * (size_t)sh.c;
    const float rad = s->rotate * (float)(M_PI / 180.0);
    const float c = cosf(rad), sn = sinf(rad);
    for (int ch = 0; s->rotate != 0.0f && ch < sh.c; ch++) {
        memcpy(tmp, img + (size_t)ch * plane, plane);
        rotate_plane(img + (size_t)ch * plane, tmp, sh.h, sh.w, c, sn);
    }
    if (s->contrast > 0.0f) {
        double sum = 0.0;
        for (size_t k = 0; k < per; k++)
            sum += img[k];
        float m = (float)(sum / (double)per);
        for (size_t k = 0; k < per; k++)
            img[k] = clamp8(m + s->contrast * ((float)img[k] - m));
    }
    if (s->invert)
        for (size_t k = 0; k < per; k++)
            img[k] = (uint8_t)(255 - img[k]);
    if (s->noise > 0.0f) {
        rng g = rng_seeded(((uint64_t)split << 32 | (uint64_t)i) ^ 0x73686966745F6E7Aull);
        for (size_t k = 0; k < per; k++)
            img[k] = clamp8((float)img[k] + 255.0f * s->noise * rng_normal(&g));
    }
}

/* An image source read on demand, shifted as each image is read. */
typedef struct shifted {
    ds_shift shift;
    int split;
    shape3 shape;
    int (*read)(void *src, int i, uint8_t *out, thaw_err *err);
    void *src;
    void (*src_free)(void *src);
} shifted;

static int shifted_read(void *src, int i, uint8_t *out, thaw_err *err)
{
    shifted *w = src;
    uint8_t *tmp = NULL;
    if (w->shift.rotate != 0.0f && !(tmp = malloc((size_t)w->shape.h * (size_t)w->shape.w)))
        return thaw_fail(err, THAW_ENOMEM, "shift: out of memory for a %dx%d image", w->shape.h,
                         w->shape.w);
    int rc = w->read(w->src, i, out, err);
    if (!rc)
        shift_image(&w->shift, out, w->shape, w->split, i, tmp);
    free(tmp);
    return rc;
}

static void shifted_free(void *src)
{
    shifted *w = src;
    if (w->src_free)
        w->src_free(w->src);
    free(w);
}

int ds_shift_apply(const ds_shift *s, ds_raw *r, int split, thaw_err *err)
{
    if (!ds_shift_on(s) || r->n == 0)
        return THAW_OK;
    if (!r->pixels) {
        shifted *w = malloc(sizeof *w);
        if (!w)
            return thaw_fail(err, THAW_ENOMEM, "shift: out of memory");
        *w = (shifted){ *s, split, r->shape, r->read, r->src, r->src_free };
        r->read = shifted_read;
        r->src = w;
        r->src_free = shifted_free;
        return THAW_OK;
    }
    size_t plane = (size_t)r->shape.h * (size_t)r->shape.w, per = plane * (size_t)r->shape.c;
    uint8_t *tmp = NULL;
    if (s->rotate != 0.0f && !(tmp = malloc(plane)))
        return thaw_fail(err, THAW_ENOMEM, "shift: out of memory for a %dx%d image",
                         r->shape.h, r->shape.w);
    for (int i = 0; i < r->n; i++)
        shift_image(s, r->pixels + (size_t)i * per, r->shape, split, i, tmp);
    free(tmp);
    return THAW_OK;
}
