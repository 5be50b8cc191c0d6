/* idx.c — IDX files, raw or gzipped; see idx.h for the rules. */
#include "idx.h"

#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Deflate cannot expand data more than 1032 times (a 258-byte match in a
 * bit or two): a bound on what a gzip file of a given size can declare. */
enum { IDX_DEFLATE_RATIO = 1032 };

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t bswap32(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xFF00u) | (v << 8 & 0xFF0000u) | v << 24;
}

static const char *type_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "32-bit float";
    case 0x0E: return "64-bit float";
    default:   return NULL;
    }
}

/* Checks the first 4 header bytes; returns the number of dimensions or -1. */
static int check_magic(const uint8_t *h, const char *q, thaw_err *err)
{
    if (h[0] != 0 || h[1] != 0) {
        thaw_fail(err, THAW_EFORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x, "
                  "expected 00 00 08 NN)", q, h[0], h[1], h[2], h[3]);
        return -1;
    }
    if (h[2] != 0x08) {
        const char *t = type_name(h[2]);
        if (t)
            thaw_fail(err, THAW_EFORMAT, "%s: unsupported IDX type 0x%02X (%s): thaw reads "
                      "unsigned-byte IDX files (type 0x08)", q, h[2], t);
        else
            thaw_fail(err, THAW_EFORMAT, "%s: unsupported IDX type 0x%02X: not a type IDX "
                      "defines (thaw reads type 0x08, unsigned byte)", q, h[2]);
        return -1;
    }
    if (h[3] < 1 || h[3] > IDX_MAX_DIMS) {
        thaw_fail(err, THAW_EFORMAT, "%s: %d dimensions, expected 1 to %d", q, h[3], IDX_MAX_DIMS);
        return -1;
    }
    return h[3];
}

/* Fills out's dims and count from a complete header of 4 + 4 * ndim bytes;
 * THAW_EFORMAT when a dimension is 0 or the payload exceeds the limit. */
static int read_dims(idx_array *out, const uint8_t *h, int ndim, const char *q, thaw_err *err)
{
    size_t count = 1;
    int swapped_fits = 1;
    size_t swapped = 1;
    out->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        out->dim[d] = be32(h + 4 + 4 * d);
        if (out->dim[d] == 0)
            return thaw_fail(err, THAW_EFORMAT, "%s: dimension %d is 0: the file holds no "
                             "data (empty data set)", q, d + 1);
        count = count ? ds_mul(count, out->dim[d], DS_MAX_FILE_BYTES) : 0;
        swapped = swapped ? ds_mul(swapped, bswap32(out->dim[d]), DS_MAX_FILE_BYTES) : 0;
        swapped_fits &= bswap32(out->dim[d]) != 0;
    }
    if (!count) {
        char dims[64];
        int o = 0;
        for (int d = 0; d < ndim; d++)
            o += snprintf(dims + o, sizeof dims - (size_t)o, "%s%u", d ? "x" : "", out->dim[d]);
        return thaw_fail(err, THAW_EFORMAT, "%s: dimensions %s make more than the limit of "
                         "%zu bytes%s", q, dims, DS_MAX_FILE_BYTES,
                         swapped && swapped_fits ? " (is the file little-endian?)" : "");
    }
    out->count = count;
    return THAW_OK;
}

/* Raw IDX: the header and exactly the data it declares. */
static int parse_raw(idx_array *out, const uint8_t *buf, size_t len, const char *q, thaw_err *err)
{
    if (len < 4)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes: not an IDX file (too short for "
                         "the 4-byte magic)", q, len);
    int ndim = check_magic(buf, q, err);
    if (ndim < 0)
        return THAW_EFORMAT;
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return thaw_fail(err, THAW_EFORMAT, "%s: truncated header: %zu bytes, %d dimensions "
                         "need %zu", q, len, ndim, hdr);
    int rc = read_dims(out, buf, ndim, q, err);
    if (rc)
        return rc;
    if (len - hdr < out->count)
        return thaw_fail(err, THAW_EFORMAT, "%s: truncated: the header declares %zu bytes of "
                         "data, the file holds %zu", q, out->count, len - hdr);
    if (len - hdr > out->count)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes of trailing data after the %zu the "
                         "header declares", q, len - hdr - out->count, out->count);
    out->data = ds_alloc(out->count);
    if (!out->data)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu bytes", q, out->count);
    memcpy(out->data, buf + hdr, out->count);
    return THAW_OK;
}

enum { GZ_CORRUPT = -1, GZ_NOMEM = -2 };

/* Inflates the first `want` bytes of a gzip member into h with zlib; returns
 * how many it got (fewer when the stream ends), GZ_CORRUPT when the stream is
 * corrupt or GZ_NOMEM when zlib ran out of memory. */
static long gz_peek(uint8_t *h, size_t want, const uint8_t *buf, size_t len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    int rc = inflateInit2(&z, 16 + MAX_WBITS);
    if (rc != Z_OK)
        return rc == Z_MEM_ERROR ? GZ_NOMEM : GZ_CORRUPT;
    z.next_in = (Bytef *)buf;
    z.avail_in = len > 0x7FFFFFFF ? 0x7FFFFFFF : (uInt)len;
    z.next_out = h;
    z.avail_out = (uInt)want;
    while (z.avail_out > 0 && rc == Z_OK)
        rc = inflate(&z, Z_NO_FLUSH);
    long got = (long)(want - z.avail_out);
    inflateEnd(&z);
    if (rc == Z_MEM_ERROR)
        return GZ_NOMEM;
    return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? got : GZ_CORRUPT;
}

static int parse_gz(idx_array *out, const uint8_t *buf, size_t len, const char *q, thaw_err *err)
{
    uint8_t h[4 + 4 * IDX_MAX_DIMS];
    long got = gz_peek(h, 4, buf, len);
    if (got == GZ_NOMEM)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory decompressing the gzip header", q);
    if (got < 0)
        return thaw_fail(err, THAW_EFORMAT, "%s: gzip data is corrupt", q);
    if (got < 4)
        return thaw_fail(err, THAW_EFORMAT, "%s: gzip stream truncated or too short: it "
                         "decompresses to %ld bytes, not even an IDX magic", q, got);
    int ndim = check_magic(h, q, err);
    if (ndim < 0)
        return THAW_EFORMAT;
    size_t hdr = 4 + 4 * (size_t)ndim;
    got = gz_peek(h, hdr, buf, len);
    if (got == GZ_NOMEM)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory decompressing the gzip header", q);
    if (got < (long)hdr)
        return thaw_fail(err, THAW_EFORMAT, "%s: truncated header: the gzip stream ends "
                         "inside the %zu-byte IDX header", q, hdr);
    int rc = read_dims(out, h, ndim, q, err);
    if (rc)
        return rc;
    size_t total = hdr + out->count;
    if (total / IDX_DEFLATE_RATIO > len)
        return thaw_fail(err, THAW_EFORMAT, "%s: the header declares %zu bytes, more than a "
                         "%zu-byte gzip file can hold: truncated or corrupt", q, total, len);
    uint8_t *block = ds_alloc(total);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    if (!block || !d) {
        free(block);
        libdeflate_free_decompressor(d);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %zu bytes", q, total);
    }
    size_t in_used = 0, produced = 0;
    enum libdeflate_result r = libdeflate_gzip_decompress_ex(d, buf, len, block, total,
                                                             &in_used, &produced);
    libdeflate_free_decompressor(d);
    if (r == LIBDEFLATE_SUCCESS && produced == total && in_used == len) {
        memmove(block, block + hdr, out->count);
        out->data = block;
        return THAW_OK;
    }
    free(block);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE)
        return thaw_fail(err, THAW_EFORMAT, "%s: trailing data: the gzip stream decompresses "
                         "to more than the %zu bytes of data the header declares", q, out->count);
    if (r != LIBDEFLATE_SUCCESS)
        return thaw_fail(err, THAW_EFORMAT, "%s: gzip data is corrupt or truncated "
                         "(the stream or its CRC/length trailer is damaged or cut short)", q);
    if (produced < total)
        return thaw_fail(err, THAW_EFORMAT, "%s: truncated: the header declares %zu bytes of "
                         "data, the gzip stream holds %zu", q, out->count, produced - hdr);
    return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes of trailing data after the gzip stream "
                     "(thaw reads one gzip member)", q, len - in_used);
}

int idx_parse(idx_array *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err)
{
    char q[256];
    utf8_quote(q, sizeof q, name);
    memset(out, 0, sizeof *out);
    int rc = len >= 2 && buf[0] == 0x1F && buf[1] == 0x8B ? parse_gz(out, buf, len, q, err)
                                                          : parse_raw(out, buf, len, q, err);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int idx_load(idx_array *out, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = ds_read_file(path, DS_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = idx_parse(out, buf, len, path, err);
    free(buf);
    return rc;
}

void idx_free(idx_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* In place: each (rows, cols) image becomes its transpose, stored as (cols, rows). */
static int transpose_all(uint8_t *px, size_t n, int rows, int cols)
{
    size_t per = (size_t)rows * (size_t)cols;
    uint8_t *t = malloc(per);
    if (!t)
        return THAW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t *img = px + i * per;
        memcpy(t, img, per);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                img[(size_t)c * (size_t)rows + (size_t)r] = t[(size_t)r * (size_t)cols + (size_t)c];
    }
    free(t);
    return THAW_OK;
}

int idx_to_raw(ds_raw *out, idx_array *images, const idx_array *labels, const idx_opts *opt,
               const char *images_name, const char *labels_name, thaw_err *err)
{
    char qi[256], ql[256];
    utf8_quote(qi, sizeof qi, images_name);
    utf8_quote(ql, sizeof ql, labels_name);
    memset(out, 0, sizeof *out);
    if (images->ndim != 3)
        return thaw_fail(err, THAW_EFORMAT, "%s: %d dimension%s, expected 3 (count, rows, "
                         "cols)%s", qi, images->ndim, images->ndim == 1 ? "" : "s",
                         images->ndim == 1 ? ": is it a labels file?" : "");
    if (labels->ndim != 1)
        return thaw_fail(err, THAW_EFORMAT, "%s: %d dimensions, expected 1 (count)%s", ql,
                         labels->ndim, labels->ndim == 3 ? ": is it an images file?" : "");
    uint32_t n = images->dim[0], rows = images->dim[1], cols = images->dim[2];
    if (rows > DS_MAX_SIDE || cols > DS_MAX_SIDE)
        return thaw_fail(err, THAW_EFORMAT, "%s: images of %ux%u pixels; thaw reads at most "
                         "%dx%d", qi, rows, cols, DS_MAX_SIDE, DS_MAX_SIDE);
    if (n > DS_MAX_IMAGES)
        return thaw_fail(err, THAW_EFORMAT, "%s: %u images, more than the limit of %d", qi, n,
                         DS_MAX_IMAGES);
    if (labels->dim[0] != n)
        return thaw_fail(err, THAW_EFORMAT, "%s holds %u images but %s holds %u labels", qi, n,
                         ql, labels->dim[0]);
    int *lab = malloc(sizeof(int) * n);
    if (!lab)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %u labels", ql, n);
    for (uint32_t i = 0; i < n; i++) {
        int l = labels->data[i] - opt->label_base;
        if (l < 0 || l >= opt->nclass) {
            free(lab);
            return thaw_fail(err, THAW_EFORMAT, "%s: label %d of item %u is out of range: "
                             "expected %d to %d", ql, labels->data[i], i, opt->label_base,
                             opt->label_base + opt->nclass - 1);
        }
        lab[i] = l;
    }
    if (opt->transposed && transpose_all(images->data, n, (int)rows, (int)cols)) {
        free(lab);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory", qi);
    }
    out->n = (int)n;
    out->shape = opt->transposed ? (shape3){ 1, (int)cols, (int)rows } : (shape3){ 1, (int)rows, (int)cols };
    out->pixels = images->data;
    out->labels = lab;
    images->data = NULL;
    return THAW_OK;
}
