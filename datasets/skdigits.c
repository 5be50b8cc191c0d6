/* skdigits.c — scikit-learn's digits.csv.gz; see skdigits.h. */
#include "skdigits.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "utf8.h"

enum { SK_FIELDS = SKDIGITS_SIDE * SKDIGITS_SIDE + 1 };

static const char *const sk_names[SKDIGITS_CLASSES] = { "0", "1", "2", "3", "4",
                                                        "5", "6", "7", "8", "9" };

/* Inflates one gzip member into *text (caller frees), *n bytes. */
static int sk_gunzip(char **text, size_t *n, const uint8_t *buf, size_t len, const char *q,
                     thaw_err *err)
{
    z_stream z = { 0 };
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for zlib", q);
    size_t cap = 1 << 16, used = 0;
    char *out = malloc(cap);
    int rc = out ? THAW_OK : thaw_fail(err, THAW_ENOMEM, "%s: out of memory", q), zr = Z_OK;
    z.next_in = (Bytef *)buf;
    z.avail_in = len > UINT32_MAX ? UINT32_MAX : (uInt)len;
    while (!rc && zr != Z_STREAM_END) {
        if (used == cap) {
            char *grown = cap >= SKDIGITS_MAX_TEXT ? NULL : realloc(out, cap * 2);
            if (!grown) {
                rc = cap >= SKDIGITS_MAX_TEXT
                         ? thaw_fail(err, THAW_EFORMAT, "%s: inflates to more than %zu bytes: "
                                     "not the digits CSV", q, SKDIGITS_MAX_TEXT)
                         : thaw_fail(err, THAW_ENOMEM, "%s: out of memory inflating", q);
                break;
            }
            out = grown, cap *= 2;
        }
        z.next_out = (Bytef *)out + used;
        z.avail_out = (uInt)(cap - used);
        zr = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
        if (zr == Z_MEM_ERROR)
            rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory inflating", q);
        else if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && used == cap))
            rc = thaw_fail(err, THAW_EFORMAT, "%s: corrupt or truncated gzip data", q);
    }
    if (!rc && z.avail_in)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: %u bytes of trailing data after the gzip "
                       "member", q, z.avail_in);
    inflateEnd(&z);
    if (rc) {
        free(out);
        return rc;
    }
    *text = out, *n = used;
    return THAW_OK;
}

/* Parses the CSV text into out. */
static int sk_rows(ds_raw *out, const char *s, size_t n, const char *q, thaw_err *err)
{
    int rows = 0;
    for (size_t i = 0; i < n; i++)
        rows += s[i] == '\n';
    rows += n && s[n - 1] != '\n';
    if (!rows)
        return thaw_fail(err, THAW_EFORMAT, "%s: empty: expected rows of %d pixels (0 to %d) "
                         "and a label", q, SK_FIELDS - 1, SKDIGITS_LEVELS);
    if (rows > DS_MAX_IMAGES)
        return thaw_fail(err, THAW_EFORMAT, "%s: %d rows, more than the limit of %d", q, rows,
                         DS_MAX_IMAGES);
    out->shape = (shape3){ 1, SKDIGITS_SIDE, SKDIGITS_SIDE };
    out->pixels = ds_alloc((size_t)rows * (SK_FIELDS - 1));
    out->labels = malloc(sizeof(int) * (size_t)rows);
    if (!out->pixels || !out->labels)
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d digits", q, rows);
    size_t at = 0;
    for (int r = 0; r < rows; r++) {
        for (int f = 0; f < SK_FIELDS; f++) {
            int v = 0, digits = 0;
            while (at < n && s[at] >= '0' && s[at] <= '9' && digits < 3)
                v = v * 10 + (s[at++] - '0'), digits++;
            int hi = f < SK_FIELDS - 1 ? SKDIGITS_LEVELS : SKDIGITS_CLASSES - 1;
            if (!digits || v > hi || (at < n && s[at] >= '0' && s[at] <= '9'))
                return thaw_fail(err, THAW_EFORMAT, "%s: row %d field %d: expected %s, a whole "
                                 "number from 0 to %d", q, r + 1, f + 1,
                                 f < SK_FIELDS - 1 ? "a pixel" : "the label", hi);
            char want = f < SK_FIELDS - 1 ? ',' : '\n';
            if (want == '\n' && at < n && s[at] == '\r')
                at++;
            if (at < n ? s[at] != want : f < SK_FIELDS - 1)
                return thaw_fail(err, THAW_EFORMAT, "%s: row %d field %d: expected %s after it",
                                 q, r + 1, f + 1,
                                 f < SK_FIELDS - 1 ? "',' (a row has 65 fields)"
                                                   : "the end of the row (a row has 65 fields)");
            at++;
            if (f < SK_FIELDS - 1)
                out->pixels[(size_t)r * (SK_FIELDS - 1) + (size_t)f] =
                    (uint8_t)((v * 255 + SKDIGITS_LEVELS / 2) / SKDIGITS_LEVELS);
            else
                out->labels[r] = v;
        }
    }
    out->n = rows;
    return ds_raw_set_names(out, sk_names, SKDIGITS_CLASSES, err);
}

int skdigits_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err)
{
    char q[256];
    utf8_quote(q, sizeof q, name);
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t n = len;
    int rc = THAW_OK;
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        rc = sk_gunzip(&text, &n, buf, len, q, err);
    else if (len > SKDIGITS_MAX_TEXT)
        rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %zu bytes: not the digits CSV", q,
                       SKDIGITS_MAX_TEXT);
    if (!rc)
        rc = sk_rows(out, text ? text : (const char *)buf, n, q, err);
    free(text);
    if (rc)
        ds_raw_free(out);
    return rc;
}

int skdigits_load(ds_raw *out, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = ds_read_file(path, SKDIGITS_MAX_TEXT, &buf, &len, err);
    if (rc)
        return rc;
    rc = skdigits_parse(out, buf, len, path, err);
    free(buf);
    return rc;
}
