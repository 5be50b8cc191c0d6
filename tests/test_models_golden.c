/* test_models_golden.c — thaw against PyTorch on small models: one with
 * residual blocks and BatchNorm (golden.json), and one of MobileNet v1, v2
 * and v3 parts (mobilenet.json: depthwise convolutions padded as
 * TensorFlow's "same", BatchNorm with eps 1e-3, relu6, hardswish, an
 * inverted residual with squeeze-and-excite). For each: logits (evaluation
 * and training mode), loss, every parameter gradient and the updated
 * running statistics, from tests/data/golden/ (written by
 * examples/pytorch/thaw_torch.py golden and golden-mobilenet, PyTorch
 * computing in float64). No Python needed here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "modelfile.h"
#include "safetensors.h"
#include "test.h"

#define GOLDEN_TOLERANCE 1e-4   /* max |thaw - torch| / max |torch|, per tensor */

/* The relative error of n values against the expected tensor `name`, or
 * INFINITY when it is missing or of another size. */
static double golden_error(const st_file *f, const char *name, const float *got, size_t n)
{
    const st_tensor *t = st_find(f, name);
    if (!t || t->dtype != ST_F32 || t->count != n)
        return INFINITY;
    float *want = malloc((n ? n : 1) * sizeof *want);
    if (!want)
        return INFINITY;
    st_get_f32(f, t, want);
    double diff = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)got[i] - want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    free(want);
    return diff / scale;
}

/* The worst relative error so far and where it was. */
typedef struct golden_worst {
    double e;
    char where[sizeof ((thaw_err *)0)->msg];
} golden_worst;

static void golden_note(golden_worst *w, double e, const char *name)
{
    if (!(e <= w->e)) {
        w->e = e;
        snprintf(w->where, sizeof w->where, "%s", name);
    }
}

/* Runs the golden model on the golden batch and compares; the model is
 * loaded and prepared for the batch. */
static void golden_compare(model *m, const st_file *f, golden_worst *w)
{
    const st_tensor *xt = st_find(f, "input"), *yt = st_find(f, "labels");
    int B = xt && xt->ndim == 4 ? (int)xt->dim[0] : 0;
    if (B < 1 || B > 16 || !yt || yt->dtype != ST_I64 || yt->count != (uint64_t)B ||
        xt->count != (uint64_t)B * shape3_count(m->in)) {
        golden_note(w, INFINITY, "input or labels");
        return;
    }
    thaw_err err = { 0 };
    float *x = malloc(xt->count * sizeof *x);
    if (!x || model_prepare(m, B, &err) != THAW_OK) {
        free(x);
        golden_note(w, INFINITY, "model_prepare");
        return;
    }
    int64_t y64[16];
    int labels[16];
    st_get_f32(f, xt, x);
    st_get_i64(f, yt, y64);
    for (int i = 0; i < B; i++)
        labels[i] = (int)y64[i];
    size_t nlogits = (size_t)B * (size_t)m->classes;

    model_forward(m, x, B, 0);
    golden_note(w, golden_error(f, "logits_eval", m->root->y, nlogits), "logits_eval");
    model_zero_grad(m);
    model_forward(m, x, B, 1);
    golden_note(w, golden_error(f, "logits", m->root->y, nlogits), "logits");
    float loss = loss_softmax_xent(m->root->dy, m->root->y, labels, B, m->classes);
    golden_note(w, golden_error(f, "loss", &loss, 1), "loss");
    model_backward(m, x, B);
    free(x);

    /* Gradients of the parameters; running statistics after the step. */
    for (int s = 0; s < m->nslice; s++) {
        const param_slice *p = &m->slice[s];
        int stat = p->kind == PARAM_STAT;
        char name[ST_NAME_MAX];
        snprintf(name, sizeof name, "%s%s", stat ? "after." : "grad.", p->name);
        golden_note(w, golden_error(f, name, stat ? model_param(m, s) : model_grad(m, s), p->len),
                    name);
    }
    /* Each BatchNorm counted one more training batch. */
    for (int s = 0; s < m->nslice; s++) {
        const layer *l = m->slice[s].owner;
        if (!layer_is_batchnorm(l) || s != l->slice0)
            continue;
        char name[ST_NAME_MAX];
        snprintf(name, sizeof name, "after.%s.num_batches_tracked", l->path);
        const st_tensor *tr = st_find(f, name);
        int64_t tracked = -1;
        if (tr && tr->dtype == ST_I64 && tr->count == 1)
            st_get_i64(f, tr, &tracked);
        if (tracked != batchnorm2d_tracked(l))
            golden_note(w, INFINITY, name);
    }
}

/* Loads tests/data/golden/NAME.json and compares it with EXPECT. */
static void golden_case(const char *name, const char *expect)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    st_file f;
    char path[256];
    snprintf(path, sizeof path, "tests/data/golden/%s.json", name);
    CHECKF(mf_load(&meta, &m, path, NULL, &err) == THAW_OK, "%s", err.msg);
    golden_worst w = { 0, "" };
    snprintf(path, sizeof path, "tests/data/golden/%s", expect);
    if (st_read(&f, path, &err) == THAW_OK) {
        golden_compare(&m, &f, &w);
        st_free(&f);
    } else {
        golden_note(&w, INFINITY, err.msg);
    }
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(w.e <= GOLDEN_TOLERANCE, "%s: relative error %g at %s; expected at most %g", name, w.e,
           w.where, GOLDEN_TOLERANCE);
}

void test_golden_matches_pytorch(void)
{
    golden_case("golden", "expect.safetensors");
}

void test_golden_mobilenet_matches_pytorch(void)
{
    golden_case("mobilenet", "mobilenet_expect.safetensors");
}
