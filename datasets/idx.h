/* idx.h — IDX files (MNIST, Fashion-MNIST, EMNIST), gzipped or raw.
 *
 * An IDX file is a 4-byte magic 00 00 TT DD (TT the element type, DD the
 * number of dimensions), DD big-endian 32-bit sizes, then the elements in C
 * order. thaw reads unsigned-byte files (TT = 0x08), the type every MNIST-like
 * set uses: images are (count, rows, cols), labels (count).
 *
 *     idx_array im, lb;
 *     ds_raw raw;
 *     if (idx_load("train-images-idx3-ubyte.gz", &im, &err) ||
 *         idx_load("train-labels-idx1-ubyte.gz", &lb, &err) ||
 *         idx_to_raw(&raw, &im, &lb, &(idx_opts){ .nclass = 10 },
 *                    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", &err))
 *         ... report err.msg: it names the file and what is wrong ...
 *     idx_free(&im), idx_free(&lb);
 *     ...
 *     ds_raw_free(&raw);
 *
 * Strictness (reliability checklist §8, IDX / gzip). A file is gzip when it
 * starts with the gzip magic 1f 8b, whatever its name; anything else is read
 * as a raw IDX file. The header is checked first and the payload it declares
 * is bounded (DS_MAX_FILE_BYTES, and for gzip by what a deflate stream of the
 * file's size can possibly expand to) before anything is allocated. The data
 * must then be exactly what the header declares: a short file or stream is
 * "truncated", extra bytes after the payload — inside the decompressed data
 * or after the gzip member (a second concatenated member included) — are
 * "trailing data", and a gzip stream that fails its CRC or length check or
 * ends early is "corrupt or truncated". Gzip is inflated by libdeflate,
 * which checks the whole member in one call and is 2.5x faster than zlib
 * here; zlib inflates the first bytes only, to read the header.
 */
#ifndef THAW_IDX_H
#define THAW_IDX_H

#include "ds.h"

enum { IDX_MAX_DIMS = 4 };

typedef struct idx_array {
    int ndim;
    uint32_t dim[IDX_MAX_DIMS];
    size_t count;                 /* product of the dims */
    uint8_t *data;                /* (count), owned */
} idx_array;

/* Parses an IDX file held in memory (gzipped or raw); `name` is what error
 * messages call it. Errors: THAW_EFORMAT for anything malformed (not IDX,
 * unsupported type, bad dimensions, truncated, trailing data, corrupt gzip),
 * THAW_ENOMEM. On failure *out is zeroed. */
int idx_parse(idx_array *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err);

/* idx_parse on a file: the errors of ds_read_file and idx_parse. */
int idx_load(idx_array *out, const char *path, thaw_err *err);

void idx_free(idx_array *a);

/* How a pair of files becomes a raw set. */
typedef struct idx_opts {
    int nclass;                   /* labels must be < label_base + nclass */
    int label_base;               /* the first label (1 for EMNIST letters) */
    int transposed;               /* images are stored column-major (EMNIST) */
} idx_opts;

/* Makes a raw set of (count, 1, rows, cols) images from an images array and a
 * labels array, taking images->data (left NULL); the names are the two files'
 * for error messages. Errors, THAW_EFORMAT: images not 3-D or labels not 1-D
 * (with a hint when the two look swapped), rows or cols above DS_MAX_SIDE,
 * more than DS_MAX_IMAGES images, counts that disagree, a label out of range
 * (naming the item and the label). THAW_ENOMEM. Class names are left to the
 * caller (ds_raw_set_names). */
int idx_to_raw(ds_raw *out, idx_array *images, const idx_array *labels, const idx_opts *opt,
               const char *images_name, const char *labels_name, thaw_err *err);

#endif
