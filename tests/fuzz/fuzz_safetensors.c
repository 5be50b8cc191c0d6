/* fuzz_safetensors.c — libFuzzer target for the safetensors reader: parse,
 * read every F32 and I64 tensor out, and match the file against a small
 * model's parameters (the checks a weights load makes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"
#include "safetensors.h"

#define FUZZ_VALUES_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* conv 1->2, BatchNorm, pool, linear 2->2: names the weights match against. */
static const char fuzz_model[] =
    "{\"format\":\"thaw-model\",\"version\":1,\"weights\":\"w.safetensors\","
    "\"input\":{\"channels\":1,\"height\":2,\"width\":2,\"mean\":[0],\"std\":[1]},"
    "\"classes\":[\"a\",\"b\"],\"architecture\":{\"type\":\"sequential\",\"layers\":["
    "{\"name\":\"c\",\"type\":\"conv2d\",\"in_channels\":1,\"out_channels\":2,\"kernel_size\":1},"
    "{\"name\":\"n\",\"type\":\"batchnorm2d\",\"num_features\":2},"
    "{\"name\":\"p\",\"type\":\"avgpool\"},"
    "{\"name\":\"h\",\"type\":\"linear\",\"in_features\":2,\"out_features\":2}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static model m;
    static int built;
    thaw_err err = { 0 };
    if (!built) {
        mf_meta meta;
        if (mf_parse(&meta, fuzz_model, strlen(fuzz_model), "fuzz model", &err) != THAW_OK ||
            mf_build(&m, &meta, 1, &err) != THAW_OK)
            abort();
        mf_meta_free(&meta);
        built = 1;
    }
    st_file f;
    if (st_parse(&f, data, size, "fuzz.safetensors", &err) != THAW_OK)
        return 0;
    for (int i = 0; i < f.ntensor; i++) {
        const st_tensor *t = &f.tensor[i];
        if (st_find(&f, t->name) != t || t->count > FUZZ_VALUES_MAX)
            continue;
        if (t->dtype == ST_F32) {
            float *v = malloc(t->count * sizeof *v + 1);
            if (v)
                st_get_f32(&f, t, v);
            free(v);
        } else if (t->dtype == ST_I64) {
            int64_t *v = malloc(t->count * sizeof *v + 1);
            if (v)
                st_get_i64(&f, t, v);
            free(v);
        }
    }
    mf_set_weights(&m, &f, "fuzz.safetensors", &err);
    st_free(&f);
    return 0;
}
