/* safetensors.c — a strict safetensors reader and a writer, see
 * safetensors.h. Numbers from the file are checked before any allocation
 * or offset is computed from them; data is copied byte by byte, so an
 * unaligned data section is fine. */
#include "safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "json.h"

static const struct {
    const char *name;
    int bits;
} st_dtypes[] = {
#define ST_DTYPE_ENTRY(name, bits) { #name, bits },
    ST_DTYPES(ST_DTYPE_ENTRY)
#undef ST_DTYPE_ENTRY
};

_Static_assert(sizeof st_dtypes / sizeof st_dtypes[0] == ST_DTYPE_COUNT,
               "every dtype has a name and a width");

#define ST_METADATA_MAX 1024   /* entries in __metadata__ */
#define ST_HEADER_DEPTH 4      /* a valid header nests 3 deep */

const char *st_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < ST_DTYPE_COUNT ? st_dtypes[dtype].name : "?";
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A tensor name: 1 to ST_NAME_MAX-1 bytes of UTF-8 (checked by the JSON
 * prescan) with no control characters. */
static int st_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= ST_NAME_MAX)
        return 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++)
        if (u[i] < 0x20 || u[i] == 0x7f || (u[i] == 0xC2 && i + 1 < n && u[i + 1] < 0xA0))
            return 0;
    return 1;
}

static int st_metadata(const cJSON *v, const json_ctx *c)
{
    char got[64];
    if (!cJSON_IsObject(v))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: __metadata__: expected an object of strings, "
                         "got %s", c->file, json_describe(v, got, sizeof got));
    int n = 0;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (++n > ST_METADATA_MAX)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: __metadata__: more than %d entries",
                             c->file, ST_METADATA_MAX);
        if (!cJSON_IsString(e))
            return thaw_fail(c->err, THAW_EFORMAT, "%s: __metadata__: every value must be a "
                             "string; entry %d is %s", c->file, n, json_describe(e, got, sizeof got));
    }
    return THAW_OK;
}

static int st_entry(st_tensor *t, const cJSON *v, const json_ctx *c)
{
    static const char *const keys[] = { "dtype", "shape", "data_offsets", NULL };
    char at[JSON_PATH_MAX], sub[JSON_PATH_MAX];
    snprintf(at, sizeof at, "'%.120s'", t->name);
    int rc = json_keys(v, at, keys, c);
    if (rc)
        return rc;

    const cJSON *dt = json_get(v, "dtype");
    if (!dt)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s.dtype: missing; expected a dtype such "
                         "as \"F32\"", c->file, at);
    t->dtype = -1;
    for (int d = 0; d < ST_DTYPE_COUNT && cJSON_IsString(dt); d++)
        if (!strcmp(dt->valuestring, st_dtypes[d].name))
            t->dtype = d;
    if (t->dtype < 0) {
        char list[256] = "";
        size_t used = 0;
        for (int d = 0; d < ST_DTYPE_COUNT && used < sizeof list; d++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", d ? " " : "",
                                     st_dtypes[d].name);
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s.dtype: unknown dtype%s; expected one of: %s",
                         c->file, at, cJSON_IsString(dt) ? "" : " (not a string)", list);
    }

    const cJSON *shape = json_get(v, "shape");
    json_at(sub, at, "shape");
    if ((rc = json_array_value(shape, sub, 0, ST_RANK_MAX, JSON_REQUIRED, &t->ndim, c)))
        return rc;
    uint64_t count = 1;
    int overflow = 0, i = 0;
    for (const cJSON *e = shape->child; e; e = e->next, i++) {
        char el[JSON_PATH_MAX];
        long long d;
        if ((rc = json_int_value(e, json_at_index(el, sub, i), 0, (long long)ST_DIM_MAX,
                                 JSON_REQUIRED, &d, c)))
            return rc;
        t->dim[i] = (uint64_t)d;
        overflow |= __builtin_mul_overflow(count, t->dim[i], &count);
    }

    const cJSON *off = json_get(v, "data_offsets");
    json_at(sub, at, "data_offsets");
    int noff;
    if ((rc = json_array_value(off, sub, 2, 2, JSON_REQUIRED, &noff, c)))
        return rc;
    long long begin, end;
    char el[JSON_PATH_MAX];
    if ((rc = json_int_value(off->child, json_at_index(el, sub, 0), 0, (long long)ST_DIM_MAX,
                             JSON_REQUIRED, &begin, c)) ||
        (rc = json_int_value(off->child->next, json_at_index(el, sub, 1), 0, (long long)ST_DIM_MAX,
                             JSON_REQUIRED, &end, c)))
        return rc;
    if (end < begin)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: data_offsets [%lld, %lld] end before "
                         "they begin", c->file, at, begin, end);
    t->begin = (uint64_t)begin;
    t->end = (uint64_t)end;

    uint64_t bits;
    if (overflow || __builtin_mul_overflow(count, (uint64_t)st_dtypes[t->dtype].bits, &bits))
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: the shape's size overflows 64 bits",
                         c->file, at);
    if (bits % 8)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: %llu elements of %s do not fill whole "
                         "bytes", c->file, at, (unsigned long long)count, st_dtypes[t->dtype].name);
    if (t->end - t->begin != bits / 8)
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: %llu elements of %s take %llu bytes, but "
                         "data_offsets [%lld, %lld] hold %llu", c->file, at,
                         (unsigned long long)count, st_dtypes[t->dtype].name,
                         (unsigned long long)(bits / 8), begin, end,
                         (unsigned long long)(t->end - t->begin));
    t->count = count;
    return THAW_OK;
}

static int st_by_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int st_by_offset(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Sorted by offset, the ranges must run from 0 to the end of the data with
 * no gap and no overlap: no byte of the file is unaccounted for. */
static int st_tiling(const st_file *f, const json_ctx *c)
{
    if (f->ntensor == 0) {
        if (f->ndata != 0)
            return thaw_fail(c->err, THAW_EFORMAT, "%s: %llu bytes after a header that lists no "
                             "tensors; expected none", c->file, (unsigned long long)f->ndata);
        return THAW_OK;
    }
    const st_tensor **order = malloc((size_t)f->ntensor * sizeof *order);
    if (!order)
        return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory", c->file);
    for (int i = 0; i < f->ntensor; i++)
        order[i] = &f->tensor[i];
    qsort(order, (size_t)f->ntensor, sizeof *order, st_by_offset);
    uint64_t at = 0;
    int rc = THAW_OK;
    for (int i = 0; i < f->ntensor && rc == THAW_OK; i++) {
        const st_tensor *t = order[i];
        if (t->begin > at)
            rc = thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': data_offsets begin at %llu, leaving "
                           "bytes %llu to %llu unused; expected the tensors to cover the data "
                           "without gaps", c->file, t->name, (unsigned long long)t->begin,
                           (unsigned long long)at, (unsigned long long)t->begin);
        else if (t->begin < at)
            rc = thaw_fail(c->err, THAW_EFORMAT, "%s: '%s': data_offsets begin at %llu, inside "
                           "the previous tensor (which ends at %llu); expected no overlaps",
                           c->file, t->name, (unsigned long long)t->begin, (unsigned long long)at);
        at = t->end;
    }
    if (rc == THAW_OK && at != f->ndata)
        rc = thaw_fail(c->err, THAW_EFORMAT, "%s: the tensors end at byte %llu of the data but "
                       "the file holds %llu; expected %s", c->file, (unsigned long long)at,
                       (unsigned long long)f->ndata,
                       at < f->ndata ? "no trailing bytes" : "the file to hold all of them");
    free(order);
    return rc;
}

int st_parse(st_file *f, const uint8_t *buf, size_t len, const char *file, thaw_err *err)
{
    memset(f, 0, sizeof *f);
    if (len < 8)
        return thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes; too small for a safetensors file "
                         "(expected at least 8)", file, len);
    uint64_t n = le64(buf);
    if (n > ST_HEADER_MAX)
        return thaw_fail(err, THAW_EFORMAT, "%s: header length %llu; expected at most %u",
                         file, (unsigned long long)n, ST_HEADER_MAX);
    if (n > len - 8)
        return thaw_fail(err, THAW_EFORMAT, "%s: header length %llu runs past the end of the "
                         "file (%zu bytes)", file, (unsigned long long)n, len);
    /* Byte offsets in JSON errors count from the header's first byte. */
    char label[300];
    snprintf(label, sizeof label, "%s: header", file);
    json_ctx hc = { label, err }, c = { file, err };
    cJSON *root;
    int rc = json_parse((const char *)buf + 8, (size_t)n, ST_HEADER_DEPTH, &root, &hc);
    if (rc)
        return rc;
    int count = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        count += strcmp(e->string, "__metadata__") != 0;
    if (count > ST_TENSORS_MAX) {
        cJSON_Delete(root);
        return thaw_fail(err, THAW_EFORMAT, "%s: %d tensors; expected at most %d", file, count,
                         ST_TENSORS_MAX);
    }
    f->tensor = calloc(count ? (size_t)count : 1, sizeof *f->tensor);
    if (!f->tensor) {
        cJSON_Delete(root);
        return thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d tensors", file, count);
    }
    f->data = buf + 8 + n;
    f->ndata = len - 8 - n;
    for (const cJSON *e = root->child; e && rc == THAW_OK; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            rc = st_metadata(e, &c);
            continue;
        }
        st_tensor *t = &f->tensor[f->ntensor++];
        if (!st_name_ok(e->string)) {
            rc = thaw_fail(err, THAW_EFORMAT, "%s: tensor %d: its name is empty, longer than %d "
                           "bytes or holds control characters", file, f->ntensor, ST_NAME_MAX - 1);
            break;
        }
        memcpy(t->name, e->string, strlen(e->string) + 1);
        rc = st_entry(t, e, &c);
    }
    cJSON_Delete(root);
    if (rc == THAW_OK)
        rc = st_tiling(f, &c);
    if (rc != THAW_OK) {
        st_free(f);
        return rc;
    }
    qsort(f->tensor, (size_t)f->ntensor, sizeof *f->tensor, st_by_name);
    return THAW_OK;
}

int st_read(st_file *f, const char *path, thaw_err *err)
{
    memset(f, 0, sizeof *f);
    char *buf;
    size_t len;
    int rc = fio_read(path, ST_FILE_MAX, &buf, &len, err);
    if (rc)
        return rc;
    if ((rc = st_parse(f, (const uint8_t *)buf, len, path, err)) != THAW_OK) {
        free(buf);
        return rc;
    }
    f->owned = (uint8_t *)buf;
    return THAW_OK;
}

void st_free(st_file *f)
{
    free(f->tensor);
    free(f->owned);
    memset(f, 0, sizeof *f);
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    if (f->ntensor == 0 || strlen(name) >= ST_NAME_MAX)
        return NULL;
    st_tensor key;
    strcpy(key.name, name);
    return bsearch(&key, f->tensor, (size_t)f->ntensor, sizeof key, st_by_name);
}

void st_get_f32(const st_file *f, const st_tensor *t, float *out)
{
    const uint8_t *p = f->data + t->begin;
    for (uint64_t i = 0; i < t->count; i++, p += 4) {
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        memcpy(&out[i], &u, 4);
    }
}

void st_get_i64(const st_file *f, const st_tensor *t, int64_t *out)
{
    const uint8_t *p = f->data + t->begin;
    for (uint64_t i = 0; i < t->count; i++, p += 8) {
        uint64_t u = le64(p);
        memcpy(&out[i], &u, 8);
    }
}

/* cJSON_AddItemToObject, and the item freed when obj does not take it:
 * cJSON leaves it to the caller when copying the key fails. 0 when item is
 * NULL (its creation failed) or was not taken. */
static int st_add(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return 1;
    cJSON_Delete(item);
    return 0;
}

int st_serialize(const st_out *t, int n, uint8_t **out, size_t *len, thaw_err *err)
{
    *out = NULL;
    *len = 0;
    cJSON *root = cJSON_CreateObject();
    uint64_t data = 0;
    int ok = root != NULL;
    for (int i = 0; i < n && ok; i++) {
        if (t[i].dtype != ST_F32 && t[i].dtype != ST_I64) {
            cJSON_Delete(root);
            return thaw_fail(err, THAW_EINVAL, "tensor '%s': writing %s is not supported "
                             "(expected F32 or I64)", t[i].name, st_dtype_name(t[i].dtype));
        }
        uint64_t count = 1;
        double dims[ST_RANK_MAX];
        for (int d = 0; d < t[i].ndim; d++) {
            count *= t[i].dim[d];
            dims[d] = (double)t[i].dim[d];
        }
        uint64_t bytes = count * (uint64_t)(st_dtypes[t[i].dtype].bits / 8);
        double offsets[2] = { (double)data, (double)(data + bytes) };
        data += bytes;
        cJSON *e = cJSON_CreateObject();
        ok = st_add(root, t[i].name, e) &&
             cJSON_AddStringToObject(e, "dtype", st_dtype_name(t[i].dtype)) &&
             st_add(e, "shape", cJSON_CreateDoubleArray(dims, t[i].ndim)) &&
             st_add(e, "data_offsets", cJSON_CreateDoubleArray(offsets, 2));
    }
    char *header = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!header)
        return thaw_fail(err, THAW_ENOMEM, "out of memory writing a safetensors header");
    size_t hn = strlen(header), padded = (hn + 7) & ~(size_t)7;
    size_t total = 8 + padded + (size_t)data;
    uint8_t *b = malloc(total);
    if (!b) {
        free(header);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a %zu-byte safetensors file", total);
    }
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(b + 8, header, hn);
    memset(b + 8 + hn, ' ', padded - hn);
    free(header);
    uint8_t *p = b + 8 + padded;
    for (int i = 0; i < n; i++) {
        uint64_t count = 1;
        for (int d = 0; d < t[i].ndim; d++)
            count *= t[i].dim[d];
        int width = st_dtypes[t[i].dtype].bits / 8;
        const uint8_t *src = t[i].data;
        for (uint64_t k = 0; k < count; k++, src += width) {
            uint64_t u;   /* host order in, little-endian out */
            if (width == 4) {
                uint32_t w;
                memcpy(&w, src, 4);
                u = w;
            } else {
                memcpy(&u, src, 8);
            }
            for (int j = 0; j < width; j++)
                *p++ = (uint8_t)(u >> (8 * j));
        }
    }
    *out = b;
    *len = total;
    return THAW_OK;
}
