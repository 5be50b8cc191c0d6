/* cvdigits.h — OpenCV's handwritten digits: one PNG, a grid of 20x20 cells.
 *
 * Debian's opencv-doc ships it as examples/data/digits.png: 2000x1000 grey,
 * 100 cells across and 50 down, 5,000 digits, light on dark like MNIST. The
 * rows come in ten equal bands, one per digit: rows 0-4 are 0s, rows 5-9
 * 1s, and so on, 500 of each.
 *
 *     ds_raw all;
 *     if (cvdigits_load(&all, "digits.png", &err)) ... err.msg names the file ...
 *     // all.n == 5000, all.shape == 1x20x20, all.labels[i] == i / 500
 *
 * Strictness. The file must be a PNG or JPEG that imgdir_info accepts (its
 * size is checked before a pixel is decoded); its width must be a whole
 * number of cells and its height a whole number of cells in each of the ten
 * bands (a multiple of 200 pixels), else THAW_EFORMAT saying what the size
 * should be. Colour images are read as their luma. The cells are kept in
 * reading order (left to right, then down), so each class's images are its
 * band's, row by row.
 */
#ifndef THAW_CVDIGITS_H
#define THAW_CVDIGITS_H

#include "ds.h"

enum { CVDIGITS_CELL = 20, CVDIGITS_CLASSES = 10 };

/* Parses the image held in memory; `name` is what errors call it. Errors:
 * those of imgdir_info and imgdir_decode_full, THAW_EFORMAT for a size that is
 * not the grid, THAW_ENOMEM. On failure *out is zeroed. */
int cvdigits_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err);

/* cvdigits_parse on a file: also the errors of ds_read_file. */
int cvdigits_load(ds_raw *out, const char *path, thaw_err *err);

#endif
