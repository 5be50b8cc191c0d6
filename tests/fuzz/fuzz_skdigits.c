/* fuzz_skdigits.c — libFuzzer target for the scikit-learn digits reader (a CSV of 64 pixels and a label per row, gzipped or not): parse, check what parsed (labels
 * in range, every class's images counted), hold out the test fifth as a task
 * load does, and convert the first image to a model's input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "skdigits.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    ds_raw all, train, test;
    if (skdigits_parse(&all, data, size, "fuzz", &err) != THAW_OK)
        return 0;
    int n = all.n;
    for (int i = 0; i < all.n; i++)
        if (all.labels[i] < 0 || all.labels[i] >= all.nclass) {
            FUZZ_FAIL("image %d has label %d of %d classes", i, all.labels[i], all.nclass);
            break;
        }
    if (ds_raw_holdout(&all, &train, &test, &err) != THAW_OK)
        return 0;
    if (train.n + test.n != n || train.n < test.n)
        FUZZ_FAIL("held out %d + %d of %d images", train.n, test.n, n);
    ds_geom g = ds_geom_default();
    ds_conv cv;
    float x[28 * 28];
    if (train.n && ds_conv_init(&cv, train.shape, &g, &err) == THAW_OK) {
        ds_conv_image(&cv, x, train.pixels);
        ds_conv_free(&cv);
    }
    ds_raw_free(&train);
    ds_raw_free(&test);
    return 0;
}
