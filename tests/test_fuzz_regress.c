/* test_fuzz_regress.c — replays every input kept under
 * tests/fuzz/regress/NAME/ through fuzz target NAME's own entry point, so an
 * input that once made a fuzzer fail is run by every `make test` (and by
 * `make asan` under the same sanitizers as the fuzzer), without libFuzzer.
 *
 * The targets are compiled in here with their entry point renamed. Their
 * checks report through FUZZ_FAIL, which the fuzzer turns into an abort and
 * this file into a failed test naming the input; a directory with no target
 * of its name fails too, so no kept input goes unreplayed. */
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "test.h"

#define REGRESS_DIR "tests/fuzz/regress"
#define REGRESS_BYTES_MAX ((size_t)1 << 24)

static char regress_input[1024];   /* the file being replayed, for messages */

static void regress_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void regress_failed(const char *fmt, ...)
{
    static char msg[16384];   /* a command's message may hold two configurations */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    test_failed(__FILE__, __LINE__, "%s: %s", regress_input, msg);
}

#define FUZZ_FAIL(...) regress_failed(__VA_ARGS__)

#define LLVMFuzzerTestOneInput fuzz_cifar_one
#include "fuzz/fuzz_cifar.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_idx_one
#include "fuzz/fuzz_idx.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_image_one
#include "fuzz/fuzz_image.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_modeljson_one
#include "fuzz/fuzz_modeljson.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_dataspec_one
#include "fuzz/fuzz_dataspec.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_settings_one
#include "fuzz/fuzz_settings.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_command_one
#include "fuzz/fuzz_command.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tfjs_one
#include "fuzz/fuzz_tfjs.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_cvdigits_one
#include "fuzz/fuzz_cvdigits.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_skdigits_one
#include "fuzz/fuzz_skdigits.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_mnistjson_one
#include "fuzz/fuzz_mnistjson.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_texttable_one
#include "fuzz/fuzz_texttable.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_email_one
#include "fuzz/fuzz_email.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tokens_one
#include "fuzz/fuzz_tokens.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_brown_one
#include "fuzz/fuzz_brown.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_glove_one
#include "fuzz/fuzz_glove.c"
#undef LLVMFuzzerTestOneInput

static const struct {
    const char *name;
    int (*one)(const uint8_t *data, size_t size);
} regress_targets[] = {
    { "cifar", fuzz_cifar_one },       { "idx", fuzz_idx_one },
    { "image", fuzz_image_one },       { "modeljson", fuzz_modeljson_one },
    { "safetensors", fuzz_safetensors_one }, { "dataspec", fuzz_dataspec_one },
    { "settings", fuzz_settings_one }, { "command", fuzz_command_one },
    { "tfjs", fuzz_tfjs_one },         { "cvdigits", fuzz_cvdigits_one },
    { "skdigits", fuzz_skdigits_one }, { "mnistjson", fuzz_mnistjson_one },
    { "texttable", fuzz_texttable_one },
    { "email", fuzz_email_one },       { "tokens", fuzz_tokens_one },
    { "brown", fuzz_brown_one },       { "glove", fuzz_glove_one },
};

/* Replays the files of one target's directory; returns how many. */
static int regress_replay_dir(const char *name, int (*one)(const uint8_t *, size_t))
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", REGRESS_DIR, name);
    DIR *d = opendir(dir);
    if (!d) {
        test_failed(__FILE__, __LINE__, "cannot open %s", dir);
        return 0;
    }
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(regress_input, sizeof regress_input, "%s/%s", dir, e->d_name);
        char *data;
        size_t size;
        thaw_err err = { 0 };
        if (fio_read(regress_input, REGRESS_BYTES_MAX, &data, &size, &err) != THAW_OK) {
            test_failed(__FILE__, __LINE__, "%s", err.msg);
            continue;
        }
        one((const uint8_t *)data, size);
        free(data);
        n++;
    }
    closedir(d);
    return n;
}

void test_fuzz_regress_replays(void)
{
    DIR *d = opendir(REGRESS_DIR);
    if (!d)
        return;   /* nothing kept yet */
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        size_t i = 0, n = sizeof regress_targets / sizeof regress_targets[0];
        while (i < n && strcmp(regress_targets[i].name, e->d_name))
            i++;
        if (i == n)
            test_failed(__FILE__, __LINE__, "%s/%s: no fuzz target fuzz_%s to replay it with",
                        REGRESS_DIR, e->d_name, e->d_name);
        else
            regress_replay_dir(e->d_name, regress_targets[i].one);
    }
    closedir(d);
}
