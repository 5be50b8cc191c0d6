/* fuzz_image.c — libFuzzer target for image decoding in thaw's stb_image
 * configuration (PNG and JPEG only, capped dimensions). The first byte picks
 * the geometry to convert to (channels, height, width); the rest is the
 * file. As in stb's own OSS-Fuzz harness, images declaring over a million
 * pixels are only checked, not decoded, so the fuzzer looks for bugs rather
 * than big but legitimate allocations (thaw's own limit is 16 million). */
#include <stdint.h>

#include "imgdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    int w, h;
    if (size < 1 || imgdir_info(data + 1, size - 1, "fuzz", &w, &h, &err) != THAW_OK ||
        (long)w * (long)h > 1000000)
        return 0;
    shape3 to = { data[0] & 1 ? 3 : 1, 1 + (data[0] >> 1 & 7) * 4, 1 + (data[0] >> 4) * 4 };
    uint8_t out[3 * 61 * 61];
    imgdir_decode(out, to, data + 1, size - 1, "fuzz", &err);
    return 0;
}
