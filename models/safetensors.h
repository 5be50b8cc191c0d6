/* safetensors.h — reading and writing the safetensors format.
 *
 * A file is: 8 bytes N (little-endian u64), N bytes of UTF-8 JSON mapping
 * each tensor's name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (plus an optional "__metadata__" object of strings), then the raw data,
 * little-endian and C-ordered, offsets counted from the data's first byte.
 *
 *     st_file f;
 *     if (st_read(&f, "m.safetensors", &err)) ... report err.msg ...
 *     const st_tensor *t = st_find(&f, "stem.0.weight");
 *     if (t && t->dtype == ST_F32) st_get_f32(&f, t, dst);   // t->count floats
 *     st_free(&f);
 *
 * Parsing validates everything before trusting a number from the file (the
 * rules of the reference implementation, tightened): the header is at most
 * ST_HEADER_MAX bytes and fits the file; it is valid UTF-8 without "\u0000",
 * nested at most 4 deep, one JSON object with only whitespace around it and
 * no key twice; each entry has exactly dtype, shape and data_offsets; the
 * dtype is one the format defines; shapes have at most ST_RANK_MAX
 * integral dimensions below 2^48; elements × bits is computed with overflow
 * checks and equals the byte range; the ranges, sorted, tile the data from 0
 * to its very end with no gap, overlap or trailing byte; names are 1 to
 * ST_NAME_MAX-1 bytes without control characters; at most ST_TENSORS_MAX
 * tensors. thaw itself reads F32 and I64 tensors; other dtypes parse and are
 * reported as unsupported by whoever asks for them.
 */
#ifndef THAW_SAFETENSORS_H
#define THAW_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define ST_HEADER_MAX  (16u << 20)          /* bytes of JSON header */
#define ST_FILE_MAX    (1ull << 31)         /* bytes of a whole file */
#define ST_TENSORS_MAX 65536
#define ST_RANK_MAX    8
#define ST_NAME_MAX    256
#define ST_DIM_MAX     ((1ull << 48) - 1)

/* The dtypes the format defines, with their width in bits. */
#define ST_DTYPES(X)                                                         \
    X(BOOL, 8) X(U8, 8) X(I8, 8) X(F8_E5M2, 8) X(F8_E4M3, 8) X(F8_E8M0, 8)    \
    X(I16, 16) X(U16, 16) X(F16, 16) X(BF16, 16) X(I32, 32) X(U32, 32)        \
    X(F32, 32) X(F64, 64) X(I64, 64) X(U64, 64) X(C64, 64)                    \
    X(F4, 4) X(F6_E2M3, 6) X(F6_E3M2, 6)

enum st_dtype {
#define ST_DTYPE_ENUM(name, bits) ST_##name,
    ST_DTYPES(ST_DTYPE_ENUM)
#undef ST_DTYPE_ENUM
    ST_DTYPE_COUNT
};

typedef struct st_tensor {
    char name[ST_NAME_MAX];
    int dtype;                    /* enum st_dtype */
    int ndim;
    uint64_t dim[ST_RANK_MAX];
    uint64_t count;               /* elements: the product of dim (1 for a scalar) */
    uint64_t begin, end;          /* byte range in the data section */
} st_tensor;

typedef struct st_file {
    st_tensor *tensor;            /* sorted by name */
    int ntensor;
    const uint8_t *data;          /* the data section (inside the parsed buffer) */
    uint64_t ndata;
    uint8_t *owned;               /* the whole file, when st_read loaded it */
} st_file;

/* "F32" for ST_F32. */
const char *st_dtype_name(int dtype);

/* Parses a safetensors image of len bytes; `file` names it in errors. f
 * points into buf, which must outlive it. THAW_EFORMAT naming the rule
 * broken and the tensor, THAW_ENOMEM; f is left empty on failure. */
int st_parse(st_file *f, const uint8_t *buf, size_t len, const char *file, thaw_err *err);

/* Reads (at most ST_FILE_MAX bytes, a regular file only) and parses path. */
int st_read(st_file *f, const char *path, thaw_err *err);

void st_free(st_file *f);

/* The tensor named name, or NULL. */
const st_tensor *st_find(const st_file *f, const char *name);

/* Copies an F32 / I64 tensor's t->count values out, whatever the data's
 * alignment; the caller has checked the dtype. */
void st_get_f32(const st_file *f, const st_tensor *t, float *out);
void st_get_i64(const st_file *f, const st_tensor *t, int64_t *out);

/* One tensor to write: F32 data from floats, I64 from int64_t. */
typedef struct st_out {
    const char *name;
    int dtype;                    /* ST_F32 or ST_I64 */
    int ndim;
    uint64_t dim[ST_RANK_MAX];
    const void *data;
} st_out;

/* Serialises n tensors, in the order given, into a fresh buffer the caller
 * frees: the header is padded with spaces so the data starts 8-byte aligned,
 * as the reference writer does. Names must be valid (see st_parse). */
int st_serialize(const st_out *t, int n, uint8_t **out, size_t *len, thaw_err *err);

#endif
