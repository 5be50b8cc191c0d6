/* fuzz_idx.c — libFuzzer target for the IDX reader, raw and gzipped: parse,
 * then pair what parsed with generated labels (or images) the way a data set
 * load does, and convert the first image to a model's input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    idx_array a, other = { 0 };
    if (idx_parse(&a, data, size, "fuzz", &err) != THAW_OK)
        return 0;
    /* the other file of the pair: n zero labels, or n 1x1 images */
    uint32_t n = a.dim[0];
    if ((a.ndim == 3 || a.ndim == 1) && n <= 4096) {
        other.ndim = a.ndim == 3 ? 1 : 3;
        other.dim[0] = n, other.dim[1] = other.dim[2] = 1;
        other.count = n;
        other.data = calloc(n, 1);
    }
    ds_raw raw;
    int rc = !other.data ? THAW_ENOMEM
             : a.ndim == 3 ? idx_to_raw(&raw, &a, &other, &(idx_opts){ .nclass = 10 }, "i", "l", &err)
                           : idx_to_raw(&raw, &other, &a, &(idx_opts){ .nclass = 10, .label_base = 1,
                                                                       .transposed = 1 }, "i", "l", &err);
    if (rc == THAW_OK) {
        ds_geom g = ds_geom_default();
        ds_conv cv;
        float x[28 * 28];
        if (ds_conv_init(&cv, raw.shape, &g, &err) == THAW_OK) {
            ds_conv_image(&cv, x, raw.pixels);
            ds_conv_free(&cv);
        }
        ds_raw_free(&raw);
    }
    idx_free(&other);
    idx_free(&a);
    return 0;
}
