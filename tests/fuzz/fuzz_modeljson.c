/* fuzz_modeljson.c — libFuzzer target for the model JSON loader: parse,
 * and when the architecture is small enough, build it, print it back and
 * parse the print (which must succeed: thaw reads what it writes). */
#include <stdint.h>
#include <stdlib.h>

#include "modelfile.h"

#define FUZZ_PARAMS_MAX (1u << 20)   /* floats: keeps the fuzzer's memory small */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    thaw_err err = { 0 };
    mf_meta meta;
    if (mf_parse(&meta, (const char *)data, size, "fuzz.json", &err) != THAW_OK)
        return 0;
    uint64_t floats;
    model m;
    if (mf_param_count(meta.arch, &floats, &err) == THAW_OK && floats <= FUZZ_PARAMS_MAX &&
        mf_build(&m, &meta, 1, &err) == THAW_OK) {
        char *text;
        size_t len;
        if (mf_print(&meta, &m, "fuzz.safetensors", &text, &len, &err) == THAW_OK) {
            mf_meta back;
            if (mf_parse(&back, text, len, "printed.json", &err) != THAW_OK)
                abort();
            mf_meta_free(&back);
            free(text);
        }
        model_free(&m);
    }
    mf_meta_free(&meta);
    return 0;
}
