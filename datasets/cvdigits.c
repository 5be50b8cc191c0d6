/* cvdigits.c — OpenCV's digits.png; see cvdigits.h. */
#include "cvdigits.h"

#include <stdlib.h>
#include <string.h>

#include "imgdir.h"
#include "utf8.h"

static const char *const cv_names[CVDIGITS_CLASSES] = { "0", "1", "2", "3", "4",
                                                        "5", "6", "7", "8", "9" };

int cvdigits_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err)
{
    char q[256];
    memset(out, 0, sizeof *out);
    int w, h;
    int rc = imgdir_info(buf, len, name, &w, &h, err);
    if (rc)
        return rc;
    const int band = CVDIGITS_CELL * CVDIGITS_CLASSES;
    if (w % CVDIGITS_CELL || h % band)
        return thaw_fail(err, THAW_EFORMAT, "%s: %dx%d pixels is not a grid of %dx%d digit "
                         "cells in %d bands of rows: expected a width that is a multiple of %d "
                         "and a height that is a multiple of %d (OpenCV's digits.png is "
                         "2000x1000)", utf8_quote(q, sizeof q, name), w, h, CVDIGITS_CELL,
                         CVDIGITS_CELL, CVDIGITS_CLASSES, CVDIGITS_CELL, band);
    uint8_t *img;
    rc = imgdir_decode_full(&img, &w, &h, 1, buf, len, name, err);
    if (rc)
        return rc;
    int cols = w / CVDIGITS_CELL, rows = h / CVDIGITS_CELL, per_band = rows / CVDIGITS_CLASSES;
    out->n = cols * rows;
    out->shape = (shape3){ 1, CVDIGITS_CELL, CVDIGITS_CELL };
    out->pixels = ds_alloc((size_t)out->n * CVDIGITS_CELL * CVDIGITS_CELL);
    out->labels = malloc(sizeof(int) * (size_t)out->n);
    if (!out->pixels || !out->labels)
        rc = thaw_fail(err, THAW_ENOMEM, "%s: out of memory for %d digits",
                       utf8_quote(q, sizeof q, name), out->n);
    for (int r = 0; !rc && r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int i = r * cols + c;
            uint8_t *cell = out->pixels + (size_t)i * CVDIGITS_CELL * CVDIGITS_CELL;
            for (int y = 0; y < CVDIGITS_CELL; y++)
                memcpy(cell + y * CVDIGITS_CELL,
                       img + ((size_t)r * CVDIGITS_CELL + (size_t)y) * (size_t)w +
                           (size_t)c * CVDIGITS_CELL, CVDIGITS_CELL);
            out->labels[i] = r / per_band;
        }
    free(img);
    if (!rc)
        rc = ds_raw_set_names(out, cv_names, CVDIGITS_CLASSES, err);
    if (rc)
        ds_raw_free(out);
    return rc;
}

int cvdigits_load(ds_raw *out, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = ds_read_file(path, IMG_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = cvdigits_parse(out, buf, len, path, err);
    free(buf);
    return rc;
}
