/* ds.c — geometry checks, bounded file reading, raw sets and conversion. */
#include "ds.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "utf8.h"

ds_geom ds_geom_default(void)
{
    ds_geom g = { .in = { 1, 28, 28 } };
    for (int c = 0; c < DS_MAX_CHANNELS; c++)
        g.mean[c] = 0.286f, g.std[c] = 0.353f;
    return g;
}

int ds_geom_check(const ds_geom *g, thaw_err *err)
{
    if (g->in.c != 1 && g->in.c != 3)
        return thaw_fail(err, THAW_EINVAL, "model input has %d channels; data sets are "
                         "converted to 1 (grey) or 3 (RGB)", g->in.c);
    if (g->in.h < 1 || g->in.h > DS_MAX_SIDE || g->in.w < 1 || g->in.w > DS_MAX_SIDE)
        return thaw_fail(err, THAW_EINVAL, "model input is %dx%d; height and width must be "
                         "1 to %d", g->in.h, g->in.w, DS_MAX_SIDE);
    for (int c = 0; c < g->in.c; c++) {
        if (!isfinite(g->mean[c]) || !isfinite(g->std[c]) || !(g->std[c] > 0.0f))
            return thaw_fail(err, THAW_EINVAL, "channel %d normalisation mean %g std %g: "
                             "the mean must be finite and the std finite and positive",
                             c, (double)g->mean[c], (double)g->std[c]);
        /* As ds_conv computes them: every normalised pixel must be finite. */
        const float scale = 1.0f / (255.0f * g->std[c]), shift = g->mean[c] / g->std[c];
        if (!isfinite(scale) || !isfinite(shift) || !isfinite(255.0f * scale - shift))
            return thaw_fail(err, THAW_EINVAL, "channel %d normalisation mean %g std %g: the "
                             "normalised pixels (x - mean) / std are not finite; expected a std "
                             "well above 0 (like 0.3)", c, (double)g->mean[c], (double)g->std[c]);
    }
    return THAW_OK;
}

const uint8_t *ds_raw_image(const ds_raw *r, int i, uint8_t *buf, thaw_err *err)
{
    if (r->pixels)
        return r->pixels + (size_t)i * shape3_count(r->shape);
    return r->read(r->src, i, buf, err) == THAW_OK ? buf : NULL;
}

void ds_raw_free(ds_raw *r)
{
    if (r->src_free)
        r->src_free(r->src);
    free(r->pixels);
    free(r->labels);
    if (r->name)
        for (int i = 0; i < r->nclass; i++)
            free(r->name[i]);
    free(r->name);
    memset(r, 0, sizeof *r);
}

int ds_raw_set_names(ds_raw *r, const char *const *names, int nclass, thaw_err *err)
{
    r->name = calloc((size_t)nclass, sizeof *r->name);
    if (!r->name)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d class names", nclass);
    r->nclass = nclass;
    for (int i = 0; i < nclass; i++) {
        if (!utf8_name_ok(names[i], THAW_NAME_MAX)) {
            char q[192];
            return thaw_fail(err, THAW_EFORMAT, "class '%s': a class name is 1 to %d bytes of "
                             "printable UTF-8 (it is saved in model files); rename it",
                             utf8_quote(q, sizeof q, names[i]), THAW_NAME_MAX);
        }
        if (!(r->name[i] = strdup(names[i])))
            return thaw_fail(err, THAW_ENOMEM, "out of memory for class names");
    }
    return THAW_OK;
}

static int holdout_alloc(ds_raw *d, const ds_raw *all, int n, thaw_err *err)
{
    size_t per = shape3_count(all->shape);
    d->shape = all->shape;
    d->pixels = ds_alloc((size_t)(n ? n : 1) * per);
    d->labels = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!d->pixels || !d->labels)
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %d images", n);
    return ds_raw_set_names(d, (const char *const *)all->name, all->nclass, err);
}

int ds_raw_holdout(ds_raw *all, ds_raw *train, ds_raw *test, thaw_err *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    int *count = calloc((size_t)all->nclass, sizeof *count);
    int *seen = calloc((size_t)all->nclass, sizeof *seen);
    int rc = count && seen ? THAW_OK : thaw_fail(err, THAW_ENOMEM, "out of memory");
    int ntest = 0;
    for (int i = 0; !rc && i < all->n; i++)
        count[all->labels[i]]++;
    for (int c = 0; !rc && c < all->nclass; c++)
        ntest += count[c] / DS_HOLDOUT_DIV;
    if (!rc)
        rc = holdout_alloc(train, all, all->n - ntest, err);
    if (!rc)
        rc = holdout_alloc(test, all, ntest, err);
    size_t per = shape3_count(all->shape);
    for (int i = 0; !rc && i < all->n; i++) {
        int y = all->labels[i];
        ds_raw *d = seen[y]++ >= count[y] - count[y] / DS_HOLDOUT_DIV ? test : train;
        memcpy(d->pixels + (size_t)d->n * per, all->pixels + (size_t)i * per, per);
        d->labels[d->n++] = y;
    }
    free(count);
    free(seen);
    ds_raw_free(all);
    if (rc) {
        ds_raw_free(train);
        ds_raw_free(test);
    }
    return rc;
}

int ds_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, thaw_err *err)
{
    char q[256];
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return thaw_fail(err, errno == ENOENT ? THAW_ENOTFOUND : THAW_EIO, "%s: cannot open: %s",
                         utf8_quote(q, sizeof q, path), strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return thaw_fail(err, THAW_EIO, "%s: not a regular file", utf8_quote(q, sizeof q, path));
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return thaw_fail(err, THAW_EFORMAT, "%s: %lld bytes, more than the limit of %zu",
                         utf8_quote(q, sizeof q, path), (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *b = ds_alloc(size + 1);
    if (!b) {
        close(fd);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu bytes",
                         utf8_quote(q, sizeof q, path), size);
    }
    /* Read one byte past the size fstat gave, to notice a file that grows. */
    size_t got = 0;
    while (got < size + 1) {
        ssize_t r = read(fd, b + got, size + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(b);
            return thaw_fail(err, THAW_EIO, "%s: read failed: %s", utf8_quote(q, sizeof q, path),
                             strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(b);
        return thaw_fail(err, THAW_EFORMAT, "%s: changed size while being read",
                         utf8_quote(q, sizeof q, path));
    }
    *buf = b;
    *len = size;
    return THAW_OK;
}

void *ds_alloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes == 0)
        return NULL;
    if (bytes < 2 * huge)
        return malloc(bytes);
    size_t rounded = (bytes + huge - 1) & ~(huge - 1);
    void *p = aligned_alloc(huge, rounded);
    if (p)
        madvise(p, rounded, MADV_HUGEPAGE);   /* a hint: failure changes nothing */
    return p;
}

size_t ds_mul(size_t a, size_t b, size_t limit)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    return a * b > limit ? 0 : a * b;
}


/* ---- resampling ----------------------------------------------------------- */

/* One axis: output o takes taps[o * ntap + k] weights from inputs
 * first[o] + k, k < count[o]. */
typedef struct ds_axis {
    int in, out, ntap;
    int *first, *count;
    float *w;
} ds_axis;

struct ds_resample {
    ds_axis x, y;
};

static int axis_init(ds_axis *a, int in, int out)
{
    double scale = (double)in / out, support = scale > 1.0 ? scale : 1.0;
    a->in = in, a->out = out;
    a->ntap = (int)ceil(2.0 * support) + 1;
    a->first = malloc(sizeof(int) * (size_t)out);
    a->count = malloc(sizeof(int) * (size_t)out);
    a->w = malloc(sizeof(float) * (size_t)out * (size_t)a->ntap);
    if (!a->first || !a->count || !a->w)
        return THAW_ENOMEM;
    for (int o = 0; o < out; o++) {
        double centre = (o + 0.5) * scale - 0.5;
        int lo = (int)floor(centre - support) + 1, hi = (int)ceil(centre + support) - 1;
        lo = lo < 0 ? 0 : lo;
        hi = hi > in - 1 ? in - 1 : hi;
        if (hi < lo)                          /* centre past an edge: nearest pixel */
            lo = hi = centre < 0 ? 0 : in - 1;
        double sum = 0.0;
        float *w = a->w + (size_t)o * (size_t)a->ntap;
        int n = 0;
        for (int i = lo; i <= hi && n < a->ntap; i++, n++) {
            double t = 1.0 - fabs(i - centre) / support;
            w[n] = (float)(t > 0.0 ? t : 0.0);
            sum += w[n];
        }
        if (sum <= 0.0) {
            w[0] = 1.0f, n = 1;
            sum = 1.0;
        }
        for (int k = 0; k < n; k++)
            w[k] = (float)(w[k] / sum);
        a->first[o] = lo;
        a->count[o] = n;
    }
    return THAW_OK;
}

static void axis_free(ds_axis *a)
{
    free(a->first);
    free(a->count);
    free(a->w);
}

ds_resample *ds_resample_new(int ih, int iw, int oh, int ow)
{
    ds_resample *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    if (axis_init(&rs->x, iw, ow) || axis_init(&rs->y, ih, oh)) {
        ds_resample_free(rs);
        return NULL;
    }
    return rs;
}

size_t ds_resample_tmp(const ds_resample *rs)
{
    return (size_t)rs->y.in * (size_t)rs->x.out;
}

void ds_resample_plane(const ds_resample *rs, float *dst, const float *src, float *tmp)
{
    const ds_axis *ax = &rs->x, *ay = &rs->y;
    for (int r = 0; r < ay->in; r++) {                 /* rows: (ih, iw) -> (ih, ow) */
        const float *s = src + (size_t)r * (size_t)ax->in;
        float *t = tmp + (size_t)r * (size_t)ax->out;
        for (int o = 0; o < ax->out; o++) {
            const float *w = ax->w + (size_t)o * (size_t)ax->ntap;
            const float *p = s + ax->first[o];
            float v = 0.0f;
            for (int k = 0; k < ax->count[o]; k++)
                v += w[k] * p[k];
            t[o] = v;
        }
    }
    for (int o = 0; o < ay->out; o++) {                /* columns: (ih, ow) -> (oh, ow) */
        const float *w = ay->w + (size_t)o * (size_t)ay->ntap;
        float *d = dst + (size_t)o * (size_t)ax->out;
        for (int x = 0; x < ax->out; x++)
            d[x] = 0.0f;
        for (int k = 0; k < ay->count[o]; k++) {
            const float *t = tmp + (size_t)(ay->first[o] + k) * (size_t)ax->out;
            for (int x = 0; x < ax->out; x++)
                d[x] += w[k] * t[x];
        }
    }
}

void ds_resample_free(ds_resample *rs)
{
    if (!rs)
        return;
    axis_free(&rs->x);
    axis_free(&rs->y);
    free(rs);
}

/* ---- conversion ------------------------------------------------------------ */

int ds_conv_init(ds_conv *cv, shape3 from, const ds_geom *g, thaw_err *err)
{
    memset(cv, 0, sizeof *cv);
    int rc = ds_geom_check(g, err);
    if (rc)
        return rc;
    if ((from.c != 1 && from.c != 3) || from.h < 1 || from.w < 1)
        return thaw_fail(err, THAW_EINVAL, "images of %dx%dx%d cannot be converted: "
                         "1 or 3 channels expected", from.c, from.h, from.w);
    cv->from = from;
    cv->g = *g;
    for (int c = 0; c < g->in.c; c++) {
        const float scale = 1.0f / (255.0f * g->std[c]), shift = g->mean[c] / g->std[c];
        for (int v = 0; v < 256; v++)                 /* as ds_split_image computes it */
            cv->lut[c][v] = (float)v * scale - shift;
    }
    if (from.h != g->in.h || from.w != g->in.w) {
        cv->rs = ds_resample_new(from.h, from.w, g->in.h, g->in.w);
        if (!cv->rs)
            return thaw_fail(err, THAW_ENOMEM, "out of memory for resampling");
        cv->tmp = malloc(sizeof(float) * ds_resample_tmp(cv->rs));
        cv->out = malloc(sizeof(float) * (size_t)g->in.h * (size_t)g->in.w);
    }
    cv->plane = malloc(sizeof(float) * (size_t)from.h * (size_t)from.w);
    if (!cv->plane || (cv->rs && (!cv->tmp || !cv->out))) {
        ds_conv_free(cv);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for image conversion");
    }
    return THAW_OK;
}

void ds_conv_image(ds_conv *cv, float *dst, const uint8_t *src)
{
    const size_t in_px = (size_t)cv->from.h * (size_t)cv->from.w;
    const size_t out_px = (size_t)cv->g.in.h * (size_t)cv->g.in.w;
    for (int oc = 0; oc < cv->g.in.c; oc++) {
        float *d = dst + (size_t)oc * out_px;
        const uint8_t *s = src + (cv->from.c == 3 && cv->g.in.c == 3 ? (size_t)oc * in_px : 0);
        if (!cv->rs && !(cv->from.c == 3 && cv->g.in.c == 1)) {
            const float *lut = cv->lut[oc];              /* the common case: one lookup */
            for (size_t i = 0; i < out_px; i++)
                d[i] = lut[s[i]];
            continue;
        }
        float *p = cv->plane;                            /* raw levels, 0..255 */
        if (cv->from.c == 3 && cv->g.in.c == 1)
            for (size_t i = 0; i < in_px; i++)
                p[i] = 0.299f * src[i] + 0.587f * src[in_px + i] + 0.114f * src[2 * in_px + i];
        else
            for (size_t i = 0; i < in_px; i++)
                p[i] = s[i];
        if (cv->rs) {
            ds_resample_plane(cv->rs, cv->out, p, cv->tmp);
            p = cv->out;
        }
        const float scale = 1.0f / (255.0f * cv->g.std[oc]), shift = cv->g.mean[oc] / cv->g.std[oc];
        for (size_t i = 0; i < out_px; i++)
            d[i] = p[i] * scale - shift;
    }
}

void ds_conv_image8(ds_conv *cv, uint8_t *dst, const uint8_t *src)
{
    const size_t in_px = (size_t)cv->from.h * (size_t)cv->from.w;
    const size_t out_px = (size_t)cv->g.in.h * (size_t)cv->g.in.w;
    if (!cv->rs && cv->from.c == cv->g.in.c) {
        memcpy(dst, src, out_px * (size_t)cv->g.in.c);
        return;
    }
    for (int oc = 0; oc < cv->g.in.c; oc++) {
        const uint8_t *s = src + (cv->from.c == 3 && cv->g.in.c == 3 ? (size_t)oc * in_px : 0);
        float *p = cv->plane;
        if (cv->from.c == 3 && cv->g.in.c == 1)
            for (size_t i = 0; i < in_px; i++)
                p[i] = 0.299f * src[i] + 0.587f * src[in_px + i] + 0.114f * src[2 * in_px + i];
        else
            for (size_t i = 0; i < in_px; i++)
                p[i] = s[i];
        if (cv->rs) {
            ds_resample_plane(cv->rs, cv->out, p, cv->tmp);
            p = cv->out;
        }
        uint8_t *d = dst + (size_t)oc * out_px;
        for (size_t i = 0; i < out_px; i++) {
            float v = roundf(p[i]);
            d[i] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
        }
    }
}

void ds_split_image(const ds_split *s, const ds_geom *g, int i, float *out)
{
    size_t plane = (size_t)g->in.h * (size_t)g->in.w, per = plane * (size_t)g->in.c;
    if (s->x) {
        memcpy(out, s->x + (size_t)i * per, sizeof(float) * per);
        return;
    }
    const uint8_t *p = s->x8 + (size_t)i * per;
    for (int c = 0; c < g->in.c; c++) {
        const float scale = 1.0f / (255.0f * g->std[c]), shift = g->mean[c] / g->std[c];
        for (size_t k = 0; k < plane; k++)
            out[(size_t)c * plane + k] = (float)p[(size_t)c * plane + k] * scale - shift;
    }
}

void ds_conv_free(ds_conv *cv)
{
    ds_resample_free(cv->rs);
    free(cv->plane);
    free(cv->tmp);
    free(cv->out);
    cv->rs = NULL;
    cv->plane = cv->tmp = cv->out = NULL;
}
