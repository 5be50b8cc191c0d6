/* fuzz_cifar.c — libFuzzer target for the CIFAR-10 batch reader: parse,
 * then convert every image to a grey 28x28 input and the first to 3x16x16. */
#include <stdint.h>

#include "cifar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    ds_raw raw;
    if (cifar_parse(&raw, data, size, "fuzz", &err) != THAW_OK)
        return 0;
    ds_geom g = ds_geom_default();
    ds_conv cv;
    float x[3 * 28 * 28];
    if (ds_conv_init(&cv, raw.shape, &g, &err) == THAW_OK) {
        for (int i = 0; i < raw.n; i++)
            ds_conv_image(&cv, x, raw.pixels + (size_t)i * shape3_count(raw.shape));
        ds_conv_free(&cv);
    }
    g.in = (shape3){ 3, 16, 16 };
    if (ds_conv_init(&cv, raw.shape, &g, &err) == THAW_OK) {
        ds_conv_image(&cv, x, raw.pixels);
        ds_conv_free(&cv);
    }
    ds_raw_free(&raw);
    return 0;
}
