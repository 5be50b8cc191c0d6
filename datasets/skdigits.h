/* skdigits.h — scikit-learn's 8x8 handwritten digits, one gzipped CSV file.
 *
 * Debian's python3-sklearn ships it as sklearn/datasets/data/digits.csv.gz:
 * 1,797 rows of 65 whole numbers, the 64 pixels of an 8x8 digit (row by
 * row, 0 to 16: the count of set pixels in a 4x4 block of the 32x32
 * original) then its label 0 to 9. Pixels are scaled to 0..255
 * (round(v * 255 / 16)); the images are light on dark, like MNIST.
 *
 *     ds_raw all;
 *     if (skdigits_load(&all, "digits.csv.gz", &err)) ... err.msg names the file and line ...
 *     // all.n == 1797, all.shape == 1x8x8
 *
 * Strictness. A file starting with the gzip magic (1f 8b) is inflated by
 * zlib, at most SKDIGITS_MAX_TEXT bytes, and must be one complete gzip
 * member with nothing after it; anything else is read as the CSV itself.
 * Every row must have exactly 65 fields, each a whole number in its range
 * (no sign, no spaces, no decimal point); rows end in "\n" (a "\r" before
 * it is allowed) and the last may lack it; an empty row, an empty file or
 * more than DS_MAX_IMAGES rows is an error. Each error is THAW_EFORMAT naming
 * the file, the row and the field.
 */
#ifndef THAW_SKDIGITS_H
#define THAW_SKDIGITS_H

#include "ds.h"

enum { SKDIGITS_SIDE = 8, SKDIGITS_LEVELS = 16, SKDIGITS_CLASSES = 10 };
#define SKDIGITS_MAX_TEXT ((size_t)64 << 20)

/* Parses the file held in memory (gzipped or not); `name` is what errors
 * call it. Errors: THAW_EFORMAT, THAW_ENOMEM. On failure *out is zeroed. */
int skdigits_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err);

/* skdigits_parse on a file: also the errors of ds_read_file. */
int skdigits_load(ds_raw *out, const char *path, thaw_err *err);

#endif
