/* ONNX import (models/onnx.h): torchvision networks exported by PyTorch
 * (tests/onnx_reference.py, run at test time; skipped without torch and
 * torchvision) give PyTorch's logits; malformed graphs, built here with
 * protobuf-c, are refused naming what is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx.h"
#include "onnx.pb-c.h"
#include "test.h"

/* ---- against PyTorch -------------------------------------------------------- */

static int have_torch(void)
{
    return !access("/usr/bin/python3", X_OK) &&
           !system("/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null");
}

static float *read_f32(const char *path, size_t n)
{
    FILE *f = fopen(path, "rb");
    float *v = malloc(sizeof(float) * n);
    size_t got = f && v ? fread(v, sizeof(float), n, f) : 0;
    if (f)
        fclose(f);
    if (got != n) {
        free(v);
        return NULL;
    }
    return v;
}

#define REF_SIZE 32
#define REF_BATCH 2
#define REF_CLASSES 10

/* Exports ARCH with PyTorch, imports it and compares the logits of the
 * fixed batch in evaluation mode to 1e-4 of their largest magnitude. */
static void matches_torch(const char *arch)
{
    if (!have_torch()) {
        test_skip("no /usr/bin/python3 with torch and torchvision (apt-get install "
                  "python3-torchvision) for the PyTorch reference");
        return;
    }
    char tmp[256], path[300], cmd[1024];
    snprintf(tmp, sizeof tmp, "%s/thaw-onnx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(tmp) != NULL);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/onnx_reference.py %s '%s' --size %d --batch %d "
             "--classes %d >/dev/null 2>&1", arch, tmp, REF_SIZE, REF_BATCH, REF_CLASSES);
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    float *x = NULL, *want = NULL;
    int imported = 0;
    EXPECTF(system(cmd) == 0, "the PyTorch export failed: %s", cmd);
    snprintf(path, sizeof path, "%s/model.onnx", tmp);
    EXPECTF(onnx_import(&meta, &m, NULL, path, NULL, &err) == THAW_OK, "%s", err.msg);
    imported = 1;
    EXPECT(meta.input.c == 3 && meta.input.h == REF_SIZE && meta.input.w == REF_SIZE &&
           meta.nclass == REF_CLASSES);
    size_t nx = (size_t)REF_BATCH * 3 * REF_SIZE * REF_SIZE;
    snprintf(path, sizeof path, "%s/input.f32", tmp);
    EXPECT((x = read_f32(path, nx)) != NULL);
    snprintf(path, sizeof path, "%s/logits.f32", tmp);
    EXPECT((want = read_f32(path, REF_BATCH * REF_CLASSES)) != NULL);
    EXPECTF(model_prepare(&m, REF_BATCH, &err) == THAW_OK, "%s", err.msg);
    model_forward(&m, x, REF_BATCH, 0);
    double top = 0, diff = 0;
    for (int i = 0; i < REF_BATCH * REF_CLASSES; i++) {
        top = fmax(top, fabs(want[i]));
        diff = fmax(diff, fabs((double)m.root->y[i] - want[i]));
    }
    EXPECTF(top > 0 && diff <= 1e-4 * top, "%s: logits differ from PyTorch's by %g (largest %g)",
            arch, diff, top);
done:
    if (imported) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    free(x);
    free(want);
    static const char *const files[] = { "model.onnx", "input.f32", "logits.f32" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        unlink(path);
    }
    rmdir(tmp);
}

void test_onnx_resnet18_matches_torch(void) { matches_torch("resnet18"); }
void test_onnx_mobilenet_v2_matches_torch(void) { matches_torch("mobilenet_v2"); }
void test_onnx_mobilenet_v3_small_matches_torch(void) { matches_torch("mobilenet_v3_small"); }
void test_onnx_efficientnet_b0_matches_torch(void) { matches_torch("efficientnet_b0"); }
