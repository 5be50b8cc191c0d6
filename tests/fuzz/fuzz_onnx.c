/* fuzz_onnx.c — libFuzzer target for the ONNX importer: the input is the
 * bytes of a .onnx file. Whatever imports must build, so it is printed and
 * parsed back as a thaw model file (thaw reads what an import writes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

#define FUZZ_ONNX_FLOATS_MAX (1u << 16)   /* weight values: keeps the fuzzer's memory small */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tfjs_opts o = { .max_floats = FUZZ_ONNX_FLOATS_MAX };
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    if (onnx_import_mem(&meta, &m, NULL, data, size, "fuzz.onnx", NULL, 0, NULL, &o, &err) != THAW_OK)
        return 0;
    char *text;
    size_t len;
    if (mf_print(&meta, &m, "fuzz.safetensors", &text, &len, &err) == THAW_OK) {
        mf_meta back;
        if (mf_parse(&back, text, len, "printed.json", &err) != THAW_OK)
            FUZZ_FAIL("an imported model prints as a file thaw cannot read: %s", err.msg);
        else
            mf_meta_free(&back);
        free(text);
    }
    mf_meta_free(&meta);
    model_free(&m);
    return 0;
}
