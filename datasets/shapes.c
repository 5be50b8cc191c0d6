/* shapes.c — the synthetic shapes; see shapes.h.
 *
 * Each shape is an outline in a unit frame (radius 1, centred at 0). A pixel
 * centre is taken into that frame (translate, rotate, scale), its distance to
 * the outline measured and turned back into pixels, and the stroke covers it
 * by how far inside half the stroke width it lies (one pixel of antialias). */
#include "shapes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

const char *const shapes_class_names[SHAPES_CLASSES] = {
    "circle", "triangle", "square", "star", "cross", "line", "chevron", "ring",
};

enum { SHAPE_MAX_POINTS = 11 };

typedef struct outline {
    int npoint, closed, round;       /* round: circles of radius 1 (and 0.5 if round == 2) */
    float x[SHAPE_MAX_POINTS], y[SHAPE_MAX_POINTS];
    int pairs;                       /* points are separate segments (a, b), (c, d), ... */
} outline;

static void regular(outline *o, int n, float r_alt)
{
    o->npoint = r_alt > 0.0f ? 2 * n : n;
    o->closed = 1;
    for (int i = 0; i < o->npoint; i++) {
        float a = 1.5707963f + 6.2831853f * (float)i / (float)o->npoint;
        float r = r_alt > 0.0f && i % 2 ? r_alt : 1.0f;
        o->x[i] = r * cosf(a), o->y[i] = -r * sinf(a);
    }
}

static outline outline_of(int cls)
{
    outline o;
    memset(&o, 0, sizeof o);
    switch (cls) {
    case 0: o.round = 1; break;
    case 1: regular(&o, 3, 0.0f); break;
    case 2: regular(&o, 4, 0.0f); break;
    case 3: regular(&o, 5, 0.45f); break;
    case 4:
        o.npoint = 4, o.pairs = 1;
        o.x[0] = -1, o.x[1] = 1, o.y[2] = -1, o.y[3] = 1;
        break;
    case 5:
        o.npoint = 2, o.pairs = 1;
        o.x[0] = -1, o.x[1] = 1;
        break;
    case 6:
        o.npoint = 3;
        o.x[0] = -0.8f, o.y[0] = -0.6f, o.y[1] = 0.5f, o.x[2] = 0.8f, o.y[2] = -0.6f;
        break;
    default: o.round = 2; break;
    }
    return o;
}

static float seg_dist(float px, float py, float ax, float ay, float bx, float by)
{
    float dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    float t = len2 > 0.0f ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0.0f;
    t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
    float ex = px - ax - t * dx, ey = py - ay - t * dy;
    return sqrtf(ex * ex + ey * ey);
}

static float outline_dist(const outline *o, float x, float y)
{
    if (o->round) {
        float r = sqrtf(x * x + y * y), d = fabsf(r - 1.0f);
        return o->round == 2 && fabsf(r - 0.5f) < d ? fabsf(r - 0.5f) : d;
    }
    float d = 1e30f;
    int step = o->pairs ? 2 : 1, nseg = o->pairs ? o->npoint : o->npoint - 1 + o->closed;
    for (int i = 0; i < nseg; i += step) {
        int j = (i + 1) % o->npoint;
        float s = seg_dist(x, y, o->x[i], o->y[i], o->x[j], o->y[j]);
        d = s < d ? s : d;
    }
    return d;
}

void shapes_draw(uint8_t *out, shape3 s, int cls, uint64_t seed)
{
    rng r = rng_seeded(seed);
    outline o = outline_of(cls);
    float side = (float)(s.h < s.w ? s.h : s.w);
    float radius = side * (0.22f + 0.16f * rng_uniform(&r));
    float stroke = fmaxf(1.0f, side * (0.04f + 0.06f * rng_uniform(&r)));
    float reach = radius + stroke;
    float cx = 0.5f * (float)s.w, cy = 0.5f * (float)s.h;
    if ((float)s.w > 2.0f * reach)
        cx = reach + ((float)s.w - 2.0f * reach) * rng_uniform(&r);
    if ((float)s.h > 2.0f * reach)
        cy = reach + ((float)s.h - 2.0f * reach) * rng_uniform(&r);
    float angle = 6.2831853f * rng_uniform(&r), ca = cosf(angle), sa = sinf(angle);
    float fg[3], bg[3];
    for (int c = 0; c < 3; c++) {
        fg[c] = s.c == 1 ? 0.7f + 0.3f * rng_uniform(&r) : 0.5f + 0.5f * rng_uniform(&r);
        bg[c] = s.c == 1 ? 0.25f * rng_uniform(&r) : 0.35f * rng_uniform(&r);
    }
    float noise = 0.08f * rng_uniform(&r);
    size_t plane = (size_t)s.h * (size_t)s.w;
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++) {
            float dx = (float)x + 0.5f - cx, dy = (float)y + 0.5f - cy, cover = 0.0f;
            if (fabsf(dx) <= reach + 1.0f && fabsf(dy) <= reach + 1.0f) {
                float ux = (ca * dx + sa * dy) / radius, uy = (-sa * dx + ca * dy) / radius;
                float d = outline_dist(&o, ux, uy) * radius;
                cover = 0.5f * stroke + 0.5f - d;
                cover = cover < 0.0f ? 0.0f : cover > 1.0f ? 1.0f : cover;
            }
            for (int c = 0; c < s.c; c++) {
                float v = bg[c] + (fg[c] - bg[c]) * cover + noise * rng_normal(&r);
                v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
                out[(size_t)c * plane + (size_t)y * (size_t)s.w + (size_t)x] = (uint8_t)(v * 255.0f + 0.5f);
            }
        }
}

int shapes_make(ds_raw *out, shape3 s, int per_class, int split, unsigned keep, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    if ((s.c != 1 && s.c != 3) || s.h < 1 || s.h > DS_MAX_SIDE || s.w < 1 || s.w > DS_MAX_SIDE)
        return thaw_fail(err, THAW_EINVAL, "shapes: cannot draw %dx%dx%d images (1 or 3 "
                         "channels, 1 to %d pixels a side)", s.c, s.h, s.w, DS_MAX_SIDE);
    if (per_class < 1 || per_class > SHAPES_MAX_PER_CLASS)
        return thaw_fail(err, THAW_EINVAL, "shapes: %d images per class; expected 1 to %d",
                         per_class, SHAPES_MAX_PER_CLASS);
    if (split != SHAPES_TRAIN && split != SHAPES_TEST)
        return thaw_fail(err, THAW_EINVAL, "shapes: unknown split %d", split);
    keep &= (1u << SHAPES_CLASSES) - 1;
    int kept = __builtin_popcount(keep);
    if (kept == 0)
        return thaw_fail(err, THAW_EINVAL, "shapes: no class to draw (classes 0 to %d)", SHAPES_CLASSES - 1);
    size_t n = (size_t)per_class * (size_t)kept, per = shape3_count(s);
    if (!ds_mul(n, per, DS_MAX_FLOATS))
        return thaw_fail(err, THAW_EINVAL, "shapes: %zu images of %dx%dx%d are more than the "
                         "limit of %zu bytes", n, s.c, s.h, s.w, DS_MAX_FLOATS);
    out->pixels = ds_alloc(n * per);
    out->labels = malloc(sizeof(int) * n);
    if (!out->pixels || !out->labels) {
        ds_raw_free(out);
        return thaw_fail(err, THAW_ENOMEM, "shapes: out of memory for %zu images", n);
    }
    int rc = ds_raw_set_names(out, shapes_class_names, SHAPES_CLASSES, err);
    if (rc) {
        ds_raw_free(out);
        return rc;
    }
    out->n = (int)n;
    out->shape = s;
    /* Image i of class c is drawn from (split, c, i) alone, in the order
     * of every class's i-th image, so leaving classes out changes nothing
     * about the others. */
    size_t j = 0;
    for (int i = 0; i < per_class; i++)
        for (int cls = 0; cls < SHAPES_CLASSES; cls++) {
            if (!(keep >> cls & 1))
                continue;
            uint64_t seed = (uint64_t)split << 56 ^ (uint64_t)cls << 40 ^ (uint64_t)i;
            out->labels[j] = cls;
            shapes_draw(out->pixels + j * per, s, cls, seed);
            j++;
        }
    return THAW_OK;
}
