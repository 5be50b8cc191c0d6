/* imgdir.c — image folders and single-image decoding; see imgdir.h. */
#include "imgdir.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

/* What the first bytes say: 'P' (PNG), 'J' (JPEG) or 0, with the declared
 * size when the header holds it (else -1). stb_image's own answer to an
 * oversized or unknown file is "unknown image type" whatever the cause, so
 * thaw reads the PNG IHDR and the JPEG frame header itself. */
static int sniff(const uint8_t *b, size_t len, long *w, long *h, const char **other)
{
    *w = *h = -1;
    *other = NULL;
    if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) {
        if (len >= 24 && !memcmp(b + 12, "IHDR", 4)) {
            *w = (long)((uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19]);
            *h = (long)((uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23]);
        }
        return 'P';
    }
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
        size_t p = 2;
        while (p + 4 <= len && b[p] == 0xFF) {
            int m = b[p + 1];
            if (m == 0xFF) {                          /* fill byte */
                p++;
                continue;
            }
            if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
                p += 2;
                continue;
            }
            size_t seg = (size_t)b[p + 2] << 8 | b[p + 3];
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (p + 9 <= len) {
                    *h = (long)b[p + 5] << 8 | b[p + 6];
                    *w = (long)b[p + 7] << 8 | b[p + 8];
                }
                break;
            }
            if (m == 0xDA || seg < 2)                 /* scan data before a frame: give up */
                break;
            p += 2 + seg;
        }
        return 'J';
    }
    static const struct {
        const char *magic, *name;
    } others[] = {
        { "GIF8", "a GIF" }, { "BM", "a BMP" }, { "8BPS", "a PSD" }, { "#?RADIANCE", "an HDR" },
        { "\x53\x80\xF6\x34", "a PIC" }, { "P5", "a PGM" }, { "P6", "a PPM" },
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (len >= strlen(others[i].magic) && !memcmp(b, others[i].magic, strlen(others[i].magic)))
            *other = others[i].name;
    return 0;
}

/* Byte i of b, or 0 past its end, which is what stb reads there. */
static unsigned at(const uint8_t *b, size_t len, size_t i)
{
    return i < len ? b[i] : 0;
}

/* Debian's stb_image (v2.27) trusts a JPEG's Huffman tables in two ways that
 * upstream fixed in v2.28, and that thaw's fuzzer found: it builds a table
 * without checking that its 16 code counts add up to at most 256, writing
 * past the table when they do; and it decodes a scan with a table no DHT
 * segment defined, reading memory it never set (and, through it, far out of
 * bounds). So every DHT segment and every scan's table choice — before the
 * first scan and between scans — is checked here first. Returns NULL when
 * all is well, else what is wrong. */
static const char *jpeg_tables_bad(const uint8_t *b, size_t len)
{
    int defined[2][4] = { { 0 } }, progressive = 0;
    size_t p = 2;
    while (p + 1 < len) {
        if (b[p] != 0xFF) {                         /* entropy-coded data */
            p++;
            continue;
        }
        unsigned m = b[p + 1];
        if (m == 0xFF) {                            /* fill byte */
            p++;
            continue;
        }
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {   /* stuffing, TEM, RSTn */
            p += 2;
            continue;
        }
        if (m == 0xD9)                              /* EOI */
            break;
        size_t seg = at(b, len, p + 2) << 8 | at(b, len, p + 3), end = p + 2 + seg;
        end = end > len ? len : end;
        if (m == 0xC2)
            progressive = 1;
        if (m == 0xC4)
            for (size_t q = p + 4; q < end;) {
                unsigned tc = at(b, len, q) >> 4, th = at(b, len, q) & 15;
                size_t n = 0;
                for (size_t i = 1; i <= 16; i++)
                    n += at(b, len, q + i);
                if (n > 256)
                    return "a Huffman table declares more than 256 codes";
                if (tc < 2 && th < 4)
                    defined[tc][th] = 1;
                q += 17 + n;
            }
        if (m == 0xDA) {
            unsigned ns = at(b, len, p + 4);
            unsigned ss = at(b, len, p + 5 + 2 * ns), ah = at(b, len, p + 7 + 2 * ns) >> 4;
            for (unsigned i = 0; i < ns; i++) {
                unsigned t = at(b, len, p + 6 + 2 * i), td = t >> 4, ta = t & 15;
                int dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss != 0;
                if ((dc && (td > 3 || !defined[0][td])) || (ac && (ta > 3 || !defined[1][ta])))
                    return "a scan uses a Huffman table that was never defined";
            }
        }
        p += 2 + seg;
    }
    return NULL;
}

/* stb_image 2.27 grows its buffer to an IDAT chunk's declared length before
 * reading it (fuzz_image made it ask for 2 GB with a 100-byte file), so every
 * chunk's length is checked against what is left of the file first. Returns
 * the offset of the first chunk that overruns, or 0. */
static size_t png_chunk_overrun(const uint8_t *b, size_t len, uint32_t *declared)
{
    for (size_t p = 8; p + 8 <= len;) {
        uint32_t n = (uint32_t)b[p] << 24 | (uint32_t)b[p + 1] << 16 | (uint32_t)b[p + 2] << 8 | b[p + 3];
        if (n > len - p - 8 || len - p - 8 - n < 4) {    /* data and the 4-byte CRC */
            *declared = n;
            return p;
        }
        if (!memcmp(b + p + 4, "IEND", 4))
            break;
        p += 12 + (size_t)n;
    }
    return 0;
}

int imgdir_info(const uint8_t *buf, size_t len, const char *name, int *w, int *h, thaw_err *err)
{
    char q[256];
    utf8_quote(q, sizeof q, name);
    *w = *h = 0;
    if (len == 0)
        return thaw_fail(err, THAW_EFORMAT, "%s: empty file, not an image", q);
    if (len > IMG_MAX_FILE_BYTES)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes, more than the limit of %zu for an "
                         "image", q, len, IMG_MAX_FILE_BYTES);
    long sw, sh;
    const char *other;
    int fmt = sniff(buf, len, &sw, &sh, &other);
    const char *fname = fmt == 'P' ? "PNG" : "JPEG";
    if (!fmt && other)
        return thaw_fail(err, THAW_EFORMAT, "%s: %s file: thaw reads PNG and JPEG images only",
                         q, other);
    if (!fmt)
        return thaw_fail(err, THAW_EFORMAT, "%s: not a PNG or JPEG image", q);
    if (sw == 0 || sh == 0)
        return thaw_fail(err, THAW_EFORMAT, "%s: declares a %ldx%ld %s image: no pixels", q,
                         sw, sh, fname);
    if (sw > IMG_MAX_SIDE || sh > IMG_MAX_SIDE || (sw > 0 && sh > 0 && sw * sh > IMG_MAX_PIXELS))
        return thaw_fail(err, THAW_EFORMAT, "%s: declares a %ldx%ld %s image, more than the "
                         "limit of %d pixels a side and %d in all: refused (an image bomb?)", q,
                         sw, sh, fname, IMG_MAX_SIDE, IMG_MAX_PIXELS);
    uint32_t declared;
    size_t at = fmt == 'P' ? png_chunk_overrun(buf, len, &declared) : 0;
    if (at) {
        char type[5] = { 0 }, qt[24];
        memcpy(type, buf + at + 4, 4);
        return thaw_fail(err, THAW_EFORMAT, "%s: corrupt or truncated PNG: chunk '%s' at byte "
                         "%zu declares %u bytes, more than the file holds", q,
                         utf8_quote(qt, sizeof qt, type), at, declared);
    }
    const char *bad = fmt == 'J' ? jpeg_tables_bad(buf, len) : NULL;
    if (bad)
        return thaw_fail(err, THAW_EFORMAT, "%s: corrupt JPEG: %s", q, bad);
    int comp;
    imgdir_stb_ran_out();
    if (!stbi_info_from_memory(buf, (int)len, w, h, &comp)) {
        if (imgdir_stb_ran_out())
            return thaw_fail(err, THAW_ENOMEM, "%s: out of memory reading the %s header", q,
                             fname);
        return thaw_fail(err, THAW_EFORMAT, "%s: corrupt %s header", q, fname);
    }
    if (*w < 1 || *h < 1 || *w > IMG_MAX_SIDE || *h > IMG_MAX_SIDE ||
        (size_t)*w * (size_t)*h > IMG_MAX_PIXELS)
        return thaw_fail(err, THAW_EFORMAT, "%s: declares a %dx%d image, over the limits: "
                         "refused", q, *w, *h);
    return THAW_OK;
}

/* stbi_load_from_memory for a 16-bit PNG, which stb 2.27 leaks when it cannot
 * allocate the 8-bit copy (stbi__convert_16_to_8): the 16-bit pixels are
 * loaded and narrowed in place to their high bytes, as stb narrows them. */
static uint8_t *load_png16(const uint8_t *buf, size_t len, int *w, int *h, int c)
{
    int comp;
    uint16_t *wide = stbi_load_16_from_memory(buf, (int)len, w, h, &comp, c);
    if (!wide)
        return NULL;
    uint8_t *px = (uint8_t *)wide;
    size_t n = (size_t)*w * (size_t)*h * (size_t)c;
    for (size_t i = 0; i < n; i++)   /* byte i lies before the values not yet read */
        px[i] = (uint8_t)(wide[i] >> 8);
    return px;
}

/* Decodes buf at its own size into *px (interleaved, `channels` per pixel;
 * the caller frees it with stbi_image_free). */
static int decode_px(uint8_t **px, int *w, int *h, int channels, const uint8_t *buf, size_t len,
                     const char *name, thaw_err *err)
{
    char q[256];
    utf8_quote(q, sizeof q, name);
    int rc = imgdir_info(buf, len, name, w, h, err);
    if (rc)
        return rc;
    const char *fname = buf[0] == 0xFF ? "JPEG" : "PNG";
    int dw, dh, dcomp;
    imgdir_stb_ran_out();
    *px = stbi_is_16_bit_from_memory(buf, (int)len)
              ? load_png16(buf, len, &dw, &dh, channels)
              : stbi_load_from_memory(buf, (int)len, &dw, &dh, &dcomp, channels);
    if (!*px && imgdir_stb_ran_out())
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory decoding a %dx%d %s image", q, *w,
                         *h, fname);
    if (!*px)   /* stb's reason is not given: after a failed decode it can name the wrong format */
        return thaw_fail(err, THAW_EFORMAT, "%s: corrupt or truncated %s image data", q, fname);
    if (dw != *w || dh != *h) {
        stbi_image_free(*px);
        *px = NULL;
        return thaw_fail(err, THAW_EFORMAT, "%s: decoded as %dx%d after declaring %dx%d", q,
                         dw, dh, *w, *h);
    }
    return THAW_OK;
}

int imgdir_decode_full(uint8_t **px, int *w, int *h, int channels, const uint8_t *buf,
                       size_t len, const char *name, thaw_err *err)
{
    *px = NULL;
    if (channels != 1 && channels != 3) {
        char q[256];
        return thaw_fail(err, THAW_EINVAL, "%s: cannot decode to %d channels",
                         utf8_quote(q, sizeof q, name), channels);
    }
    return decode_px(px, w, h, channels, buf, len, name, err);
}

int imgdir_decode(uint8_t *out, shape3 to, const uint8_t *buf, size_t len, const char *name,
                  thaw_err *err)
{
    char q[256];
    utf8_quote(q, sizeof q, name);
    if ((to.c != 1 && to.c != 3) || to.h < 1 || to.h > DS_MAX_SIDE || to.w < 1 || to.w > DS_MAX_SIDE)
        return thaw_fail(err, THAW_EINVAL, "%s: cannot convert to %dx%dx%d", q, to.c, to.h, to.w);
    int w, h;
    uint8_t *px;
    int rc = decode_px(&px, &w, &h, to.c, buf, len, name, err);
    if (rc)
        return rc;
    size_t in_px = (size_t)w * (size_t)h, out_px = (size_t)to.h * (size_t)to.w;
    if (w == to.w && h == to.h) {
        for (int c = 0; c < to.c; c++)
            for (size_t i = 0; i < in_px; i++)
                out[(size_t)c * out_px + i] = px[i * (size_t)to.c + (size_t)c];
        stbi_image_free(px);
        return THAW_OK;
    }
    ds_resample *rs = ds_resample_new(h, w, to.h, to.w);
    float *plane = malloc(sizeof(float) * in_px);
    float *res = malloc(sizeof(float) * out_px);
    float *tmp = rs ? malloc(sizeof(float) * ds_resample_tmp(rs)) : NULL;
    if (!rs || !plane || !res || !tmp) {
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory resizing a %dx%d image", q, w, h);
    } else {
        for (int c = 0; c < to.c; c++) {
            for (size_t i = 0; i < in_px; i++)
                plane[i] = px[i * (size_t)to.c + (size_t)c];
            ds_resample_plane(rs, res, plane, tmp);
            for (size_t i = 0; i < out_px; i++) {
                float v = roundf(res[i]);
                out[(size_t)c * out_px + i] = (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
            }
        }
    }
    ds_resample_free(rs);
    free(plane);
    free(res);
    free(tmp);
    stbi_image_free(px);
    return rc;
}

int imgdir_decode_input(float *out, const ds_geom *g, const uint8_t *buf, size_t len,
                        const char *name, thaw_err *err)
{
    int w, h, rc = ds_geom_check(g, err);
    uint8_t *px = NULL;
    if (rc || (rc = decode_px(&px, &w, &h, g->in.c, buf, len, name, err)))
        return rc;
    size_t n = (size_t)w * (size_t)h;
    uint8_t *planes = malloc(n * (size_t)g->in.c);
    ds_conv cv;
    if (!planes) {
        stbi_image_free(px);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a %dx%d image", w, h);
    }
    for (int c = 0; c < g->in.c; c++)
        for (size_t i = 0; i < n; i++)
            planes[(size_t)c * n + i] = px[i * (size_t)g->in.c + (size_t)c];
    stbi_image_free(px);
    if ((rc = ds_conv_init(&cv, (shape3){ g->in.c, h, w }, g, err)) == THAW_OK) {
        ds_conv_image(&cv, out, planes);
        ds_conv_free(&cv);
    }
    free(planes);
    return rc;
}

/* ---- folders ---------------------------------------------------------------- */

typedef struct name_list {
    char **s;
    int n, cap;
} name_list;

static int list_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->s, sizeof *p * (size_t)cap);
        if (!p)
            return THAW_ENOMEM;
        l->s = p, l->cap = cap;
    }
    if (!(l->s[l->n] = strdup(s)))
        return THAW_ENOMEM;
    l->n++;
    return THAW_OK;
}

static void list_free(name_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    memset(l, 0, sizeof *l);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *s)
{
    const char *dot = strrchr(s, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* The entries of dir that are directories (want_dirs) or image files, sorted;
 * *ignored counts the other non-hidden entries. At most `limit` entries. */
static int scan(name_list *out, const char *dir, int want_dirs, int limit, int *ignored,
                thaw_err *err)
{
    char q[256], path[PATH_MAX];
    utf8_quote(q, sizeof q, dir);
    DIR *d = opendir(dir);
    if (!d)
        return thaw_fail(err, errno == ENOENT ? THAW_ENOTFOUND : THAW_EIO, "%s: cannot open "
                         "folder: %s", q, strerror(errno));
    struct dirent *e;
    int rc = THAW_OK;
    *ignored = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) {
            rc = thaw_fail(err, THAW_EIO, "%s: a path inside is too long", q);
            break;
        }
        int keep = want_dirs ? stat(path, &st) == 0 && S_ISDIR(st.st_mode) : is_image_name(e->d_name);
        if (!keep) {
            (*ignored)++;
            continue;
        }
        if (out->n >= limit)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %d %s", q, limit,
                           want_dirs ? "class folders" : "images");
        else if (list_add(out, e->d_name))
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory listing the folder", q);
    }
    closedir(d);
    if (rc) {
        list_free(out);
        return rc;
    }
    if (out->n > 1)
        qsort(out->s, (size_t)out->n, sizeof *out->s, by_name);
    return THAW_OK;
}

/* What an opened folder reads its images from: one path per image. */
typedef struct imgdir_src {
    char **path;
    int n;
    shape3 to;
} imgdir_src;

static void imgdir_src_free(void *p)
{
    imgdir_src *src = p;
    if (!src)
        return;
    for (int i = 0; i < src->n; i++)
        free(src->path[i]);
    free(src->path);
    free(src);
}

static int imgdir_read(void *p, int i, uint8_t *out, thaw_err *err)
{
    imgdir_src *src = p;
    uint8_t *buf;
    size_t len;
    int rc = ds_read_file(src->path[i], IMG_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = imgdir_decode(out, src->to, buf, len, src->path[i], err);
    free(buf);
    return rc;
}

int imgdir_open(ds_raw *out, const char *dir, shape3 to, const ds_raw *classes, thaw_err *err)
{
    char q[256], path[PATH_MAX];
    memset(out, 0, sizeof *out);
    utf8_quote(q, sizeof q, dir);
    name_list cls = { 0 };
    int ignored;
    int rc = scan(&cls, dir, 1, DS_MAX_CLASSES, &ignored, err);
    if (rc)
        return rc;
    if (cls.n == 0) {
        list_free(&cls);
        return thaw_fail(err, THAW_EFORMAT, "%s: no class folders (expected one sub-folder "
                         "per class, holding PNG or JPEG images)", q);
    }
    name_list *files = calloc((size_t)cls.n, sizeof *files);
    int *label = calloc((size_t)cls.n, sizeof *label);
    imgdir_src *src = calloc(1, sizeof *src);
    if (!files || !label || !src)
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", q);
    size_t total = 0;
    for (int c = 0; !rc && c < cls.n; c++) {
        label[c] = c;
        if (classes) {
            label[c] = -1;
            for (int k = 0; k < classes->nclass; k++)
                if (!strcmp(classes->name[k], cls.s[c]))
                    label[c] = k;
            if (label[c] < 0) {
                char qc[128];
                rc = thaw_fail(err, THAW_EFORMAT, "%s: class folder '%s' is not one of the "
                               "training classes", q, utf8_quote(qc, sizeof qc, cls.s[c]));
                break;
            }
        }
        snprintf(path, sizeof path, "%s/%s", dir, cls.s[c]);
        rc = scan(&files[c], path, 0, DS_MAX_IMAGES, &ignored, err);
        if (!rc && files[c].n == 0) {
            char qp[256], qc[128];
            rc = thaw_fail(err, THAW_EFORMAT, "%s: class '%s' has no PNG or JPEG images "
                           "(%d other entr%s ignored)", utf8_quote(qp, sizeof qp, path),
                           utf8_quote(qc, sizeof qc, cls.s[c]), ignored, ignored == 1 ? "y" : "ies");
        }
        if (!rc && (total += (size_t)files[c].n) > DS_MAX_IMAGES)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %d images", q, DS_MAX_IMAGES);
    }
    if (!rc) {
        out->shape = to;
        out->labels = malloc(sizeof(int) * (total ? total : 1));
        src->path = calloc(total ? total : 1, sizeof *src->path);
        src->to = to;
        if (!out->labels || !src->path)
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu images", q, total);
    }
    if (!rc)
        rc = classes ? ds_raw_set_names(out, (const char *const *)classes->name, classes->nclass, err)
                     : ds_raw_set_names(out, (const char *const *)cls.s, cls.n, err);
    for (int c = 0; !rc && c < cls.n; c++)
        for (int i = 0; !rc && i < files[c].n; i++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, cls.s[c], files[c].s[i]);
            if (!(src->path[src->n] = strdup(path)))
                rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory", q);
            else
                out->labels[src->n++] = label[c];
        }
    for (int c = 0; files && c < cls.n; c++)
        list_free(&files[c]);
    free(files);
    free(label);
    list_free(&cls);
    out->n = src ? src->n : 0;
    out->read = imgdir_read;
    out->src = src;
    out->src_free = imgdir_src_free;
    if (rc)
        ds_raw_free(out);
    return rc;
}

int imgdir_load(ds_raw *out, const char *dir, shape3 to, const ds_raw *classes, thaw_err *err)
{
    char q[256];
    int rc = imgdir_open(out, dir, to, classes, err);
    if (rc)
        return rc;
    size_t per = shape3_count(to);
    if (!ds_mul((size_t)out->n, per, DS_MAX_FLOATS))
        rc = thaw_fail(err, THAW_EFORMAT, "%s: %d images of %dx%dx%d are more than thaw's "
                       "limit of %zu bytes", utf8_quote(q, sizeof q, dir), out->n, to.c, to.h, to.w,
                       DS_MAX_FLOATS);
    uint8_t *pixels = rc ? NULL : ds_alloc((size_t)out->n * per);
    if (!rc && !pixels)
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d images", utf8_quote(q, sizeof q, dir),
                       out->n);
    for (int i = 0; !rc && i < out->n; i++)
        rc = imgdir_read(out->src, i, pixels + (size_t)i * per, err);
    if (rc) {
        free(pixels);
        ds_raw_free(out);
        return rc;
    }
    out->src_free(out->src);
    out->src = NULL;
    out->src_free = NULL;
    out->read = NULL;
    out->pixels = pixels;
    return THAW_OK;
}
