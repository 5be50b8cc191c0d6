/* test_layers_golden.c — single layers against PyTorch: the activations
 * (on their kinks too, where the gradient is a convention) and grouped,
 * depthwise and unevenly padded convolutions, forward and every gradient,
 * from tests/data/golden/layers.safetensors (written by
 * examples/pytorch/thaw_torch.py golden-mobilenet straight from
 * torch.nn.functional). No Python needed here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "registry.h"
#include "safetensors.h"
#include "test.h"

#define LAYERS_FILE "tests/data/golden/layers.safetensors"

/* Tensor `name` as n floats into a fresh buffer, or NULL when it is missing
 * or of another size. */
static float *golden_floats(const st_file *f, const char *name, size_t n)
{
    const st_tensor *t = st_find(f, name);
    float *v = t && t->dtype == ST_F32 && t->count == n ? malloc(n * sizeof *v) : NULL;
    if (v)
        st_get_f32(f, t, v);
    return v;
}

/* max |got - want| / max |want| over n values (want never all zero here). */
static double golden_rel(const float *got, const float *want, size_t n)
{
    double diff = 0, scale = 1e-12;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)got[i] - want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    return diff / scale;
}

/* sequential(l, flatten) on `in` for `batch` samples; every layer passes an
 * input gradient back. Reports and returns 0 on failure. */
static int golden_model(model *m, layer *l, shape3 in, int batch)
{
    thaw_err err = { 0 };
    layer *root = sequential_new("net");
    if (!root || layer_add(root, l, &err) || layer_add(root, flatten_new("flat"), &err)) {
        if (!root)
            layer_free(l);
        layer_free(root);
        test_failed(__FILE__, __LINE__, "could not build the model: %s", err.msg);
        return 0;
    }
    if (model_build(m, root, in, 1, &err) || model_prepare(m, batch, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    layer_grad_plan(m->root, m, 1);
    model_zero_grad(m);
    return 1;
}

/* Forward on x, then backward from dy into dx. */
static void golden_pass(model *m, const float *x, const float *dy, float *dx, int batch)
{
    model_forward(m, x, batch, 1);
    memcpy(m->root->dy, dy, (size_t)batch * shape3_count(m->root->out) * sizeof(float));
    m->root->ops->backward(m->root, m, x, dx, 0, batch);
}

void test_golden_activations_match_pytorch(void)
{
    static const char *const names[] = { "relu6", "hardswish", "hardsigmoid", "sigmoid" };
    enum { B = 2, N = 3 * 2 * 4 * B };
    st_file f;
    thaw_err err = { 0 };
    CHECKF(st_read(&f, LAYERS_FILE, &err) == THAW_OK, "%s", err.msg);
    for (size_t a = 0; a < sizeof names / sizeof names[0]; a++) {
        char key[4][64];
        const char *part[4] = { "x", "dy", "y", "dx" };
        float *v[4];
        for (int i = 0; i < 4; i++) {
            snprintf(key[i], sizeof key[i], "act.%s.%s", names[a], part[i]);
            v[i] = golden_floats(&f, key[i], N);
        }
        model m;
        float dx[N];
        int ok = v[0] && v[1] && v[2] && v[3] &&
                 golden_model(&m, layer_create(layer_type_find(names[a]), "act", NULL, NULL),
                              (shape3){ 3, 2, 4 }, B);
        double ey = 1, edx = 1;
        if (ok) {
            golden_pass(&m, v[0], v[1], dx, B);
            ey = golden_rel(m.root->child[0]->y, v[2], N);
            edx = golden_rel(dx, v[3], N);
            model_free(&m);
        }
        for (int i = 0; i < 4; i++)
            free(v[i]);
        if (!(ok && ey <= 1e-6 && edx <= 1e-6)) {
            test_failed(__FILE__, __LINE__, "%s: relative error %g in y, %g in dx%s", names[a], ey,
                        edx, ok ? "" : " (fixture or model missing)");
            break;
        }
    }
    st_free(&f);
}

/* One convolution of the fixture: hyper-parameters conv.I.hp (in, out,
 * kernel, stride, groups, top, bottom, left, right, bias, height, width). */
static void golden_conv(const st_file *f, int i)
{
    char at[32], key[64];
    snprintf(at, sizeof at, "conv.%d.", i);
    snprintf(key, sizeof key, "%shp", at);
    const st_tensor *t = st_find(f, key);
    int64_t h[12];
    if (!t || t->dtype != ST_I64 || t->count != 12) {
        test_failed(__FILE__, __LINE__, "%s: missing", key);
        return;
    }
    st_get_i64(f, t, h);
    enum { B = 2 };
    int cin = (int)h[0], cout = (int)h[1], k = (int)h[2], groups = (int)h[4], bias = (int)h[9];
    const int pad[4] = { (int)h[5], (int)h[6], (int)h[7], (int)h[8] };
    model m;
    if (!golden_model(&m, conv2d_grouped_new("conv", cin, cout, k, (int)h[3], groups, pad, bias),
                      (shape3){ cin, (int)h[10], (int)h[11] }, B))
        return;
    layer *l = m.root->child[0];
    size_t nx = (size_t)B * shape3_count(l->in), ny = (size_t)B * shape3_count(l->out);
    size_t nw = (size_t)cout * (cin / groups) * k * k;
    const char *part[] = { "x", "weight", "bias", "dy", "y", "dx", "dweight", "dbias" };
    size_t len[] = { nx, nw, (size_t)cout, ny, ny, nx, nw, (size_t)cout };
    float *v[8];
    int ok = 1;
    for (int j = 0; j < 8; j++) {
        snprintf(key, sizeof key, "%s%s", at, part[j]);
        v[j] = bias || (j != 2 && j != 7) ? golden_floats(f, key, len[j]) : NULL;
        ok &= v[j] != NULL || (!bias && (j == 2 || j == 7));
    }
    float *dx = malloc(nx * sizeof *dx);
    double e[4] = { 1, 1, 1, 0 };
    if (ok && dx) {
        memcpy(model_param(&m, l->slice0), v[1], nw * sizeof(float));
        if (bias)
            memcpy(model_param(&m, l->slice0 + 1), v[2], (size_t)cout * sizeof(float));
        golden_pass(&m, v[0], v[3], dx, B);
        e[0] = golden_rel(l->y, v[4], ny);
        e[1] = golden_rel(dx, v[5], nx);
        e[2] = golden_rel(model_grad(&m, l->slice0), v[6], nw);
        if (bias)
            e[3] = golden_rel(model_grad(&m, l->slice0 + 1), v[7], (size_t)cout);
    }
    for (int j = 0; j < 8; j++)
        free(v[j]);
    free(dx);
    model_free(&m);
    CHECKF(ok && e[0] <= 1e-5 && e[1] <= 1e-5 && e[2] <= 1e-5 && e[3] <= 1e-5,
           "conv %d (%d->%d %dx%d stride %d groups %d pad %d,%d,%d,%d): relative error %g in y, "
           "%g in dx, %g in dweight, %g in dbias%s", i, cin, cout, k, k, (int)h[3], groups, pad[0],
           pad[1], pad[2], pad[3], e[0], e[1], e[2], e[3], ok ? "" : " (fixture incomplete)");
}

void test_golden_convs_match_pytorch(void)
{
    st_file f;
    thaw_err err = { 0 };
    CHECKF(st_read(&f, LAYERS_FILE, &err) == THAW_OK, "%s", err.msg);
    int n = 0;
    char key[32];
    for (;; n++) {
        snprintf(key, sizeof key, "conv.%d.hp", n);
        if (!st_find(&f, key))
            break;
        golden_conv(&f, n);
        if (test_has_failed())
            break;
    }
    st_free(&f);
    CHECKF(n >= 5, "%s holds %d convolutions; expected 5", LAYERS_FILE, n);
}

/* ---- text ---------------------------------------------------------------- */

#include "modelfile.h"

#define TEXT_FILE "tests/data/golden/text.safetensors"

/* One text model of the fixture (examples/pytorch/thaw_torch.py golden-text:
 * nn.Embedding, nn.Conv1d and the masked pools over time in PyTorch, in
 * float64): its logits and every parameter gradient. */
static void golden_text_case(const st_file *f, const char *name, const char *arch)
{
    char json[4096], key[256];
    snprintf(json, sizeof json,
             "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"t.safetensors\","
             " \"input\": {\"channels\": 1, \"height\": 1, \"width\": 7, \"mean\": [0], \"std\": [1]},"
             " \"classes\": [\"a\", \"b\"], \"architecture\": {\"type\": \"sequential\", \"layers\": [%s]}}",
             arch);
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    if (mf_parse(&meta, json, strlen(json), name, &err) || mf_build(&m, &meta, 1, &err)) {
        test_failed(__FILE__, __LINE__, "%s: %s", name, err.msg);
        return;
    }
    mf_meta_free(&meta);
    enum { B = 4 };
    float *ids = golden_floats(f, "text.ids", B * 7), *y = NULL, *dy = NULL;
    snprintf(key, sizeof key, "text.%s.y", name);
    y = golden_floats(f, key, B * 2);
    snprintf(key, sizeof key, "text.%s.dy", name);
    dy = golden_floats(f, key, B * 2);
    int ok = ids && y && dy && model_prepare(&m, B, &err) == THAW_OK;
    for (int s = 0; ok && s < m.nslice; s++) {
        snprintf(key, sizeof key, "text.%s.%s", name, m.slice[s].name);
        float *v = golden_floats(f, key, m.slice[s].len);
        if (!(ok = v != NULL))
            test_failed(__FILE__, __LINE__, "%s: the fixture has no %s", name, key);
        else
            memcpy(model_param(&m, s), v, m.slice[s].len * sizeof(float));
        free(v);
    }
    if (ok) {
        model_freeze(&m, m.root, 0);
        model_zero_grad(&m);
        model_forward(&m, ids, B, 1);
        double ey = golden_rel(m.root->y, y, B * 2);
        if (ey > 1e-5) {
            test_failed(__FILE__, __LINE__, "%s: logits off by %g (relative)", name, ey);
            ok = 0;
        }
        memcpy(m.root->dy, dy, B * 2 * sizeof(float));
        model_backward(&m, ids, B);
    }
    for (int s = 0; ok && s < m.nslice; s++) {
        snprintf(key, sizeof key, "text.%s.d%s", name, m.slice[s].name);
        float *g = golden_floats(f, key, m.slice[s].len);
        double e = g ? golden_rel(model_grad(&m, s), g, m.slice[s].len) : 1;
        if (e > 1e-5) {
            test_failed(__FILE__, __LINE__, "%s: the gradient of %s off by %g (relative)", name,
                        m.slice[s].name, e);
            ok = 0;
        }
        free(g);
    }
    free(ids);
    free(y);
    free(dy);
    model_free(&m);
}

void test_golden_text_layers_match_pytorch(void)
{
    st_file f;
    thaw_err err = { 0 };
    CHECKF(st_read(&f, TEXT_FILE, &err) == THAW_OK, "%s", err.msg);
    golden_text_case(&f, "cnn",
                     "{\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 9, \"embedding_dim\": 4},"
                     "{\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 4, \"out_channels\": 3,"
                     " \"kernel_size\": 3, \"padding\": 1},"
                     "{\"name\": \"relu\", \"type\": \"relu\"}, {\"name\": \"pool\", \"type\": \"seqmax\"},"
                     "{\"name\": \"head\", \"type\": \"linear\", \"in_features\": 3, \"out_features\": 2}");
    char kim[2048];
    size_t o = (size_t)snprintf(kim, sizeof kim, "{\"name\": \"embed\", \"type\": \"embedding\", "
                                "\"num_embeddings\": 9, \"embedding_dim\": 4},"
                                "{\"name\": \"widths\", \"type\": \"concat\", \"branches\": [");
    for (int k = 3; k <= 5; k++)
        o += (size_t)snprintf(kim + o, sizeof kim - o,
                              "%s{\"name\": \"w%d\", \"type\": \"sequential\", \"layers\": ["
                              "{\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 4,"
                              " \"out_channels\": 2, \"kernel_size\": %d, \"padding\": %d},"
                              "{\"name\": \"relu\", \"type\": \"relu\"},"
                              "{\"name\": \"pool\", \"type\": \"seqmax\"}]}", k > 3 ? ", " : "", k, k, k / 2);
    snprintf(kim + o, sizeof kim - o, "]}, {\"name\": \"head\", \"type\": \"linear\", "
             "\"in_features\": 6, \"out_features\": 2}");
    golden_text_case(&f, "kim", kim);
    golden_text_case(&f, "boe",
                     "{\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 9, \"embedding_dim\": 4},"
                     "{\"name\": \"pool\", \"type\": \"seqmean\"},"
                     "{\"name\": \"head\", \"type\": \"linear\", \"in_features\": 4, \"out_features\": 2}");
    st_free(&f);
}
