/* ONNX import (models/onnx.h): torchvision networks exported by PyTorch
 * (tests/onnx_reference.py, run at test time; skipped without torch and
 * torchvision) give PyTorch's logits; malformed graphs, built here with
 * protobuf-c, are refused naming what is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loss.h"
#include "onnx.h"
#include "onnx.pb-c.h"
#include "rng.h"
#include "test.h"
#include "text.h"
#include "textsrc.h"

/* ---- against PyTorch -------------------------------------------------------- */

static int have_torch(void)
{
    return !access("/usr/bin/python3", X_OK) &&
           !system("/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null");
}

/* n values of size bytes from the raw file at path, or NULL. */
static void *read_raw(const char *path, size_t n, size_t size)
{
    FILE *f = fopen(path, "rb");
    void *v = malloc(size * n);
    size_t got = f && v ? fread(v, size, n, f) : 0;
    if (f)
        fclose(f);
    if (got != n) {
        free(v);
        return NULL;
    }
    return v;
}

static float *read_f32(const char *path, size_t n) { return read_raw(path, n, sizeof(float)); }
static double *read_f64(const char *path, size_t n) { return read_raw(path, n, sizeof(double)); }

#define REF_BATCH 4
#define REF_CLASSES 10

/* One training step on the fixed batch: each parameter's gradient against
 * PyTorch's in float64 (tmp/grads.f64, in named_parameters order, which is
 * the order of thaw's tree for these networks), in the L2 norm, to 1e-4
 * relative, or as close as PyTorch's own float32 gradient is for a tensor
 * whose true gradient is zero (a BatchNorm's bias when another BatchNorm
 * follows the projection it feeds). */
static int grads_match(model *m, const float *x, const char *tmp, const char *arch)
{
    char path[300], name[160];
    int labels[REF_BATCH], ok = 1, k = 0;
    snprintf(path, sizeof path, "%s/labels.i32", tmp);
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(labels, sizeof(int), REF_BATCH, f) : 0;
    if (f)
        fclose(f);
    size_t total = 0;
    for (int s = 0; s < m->nslice; s++)
        total += m->slice[s].kind == PARAM_STAT ? 0 : m->slice[s].len;
    snprintf(path, sizeof path, "%s/grads.f64", tmp);
    double *want = got == REF_BATCH ? read_f64(path, total) : NULL;
    snprintf(path, sizeof path, "%s/grads.txt", tmp);
    FILE *names = fopen(path, "r");
    if (!want || !names) {
        test_failed(__FILE__, __LINE__, "%s: PyTorch's gradients are missing or not %zu values",
                    arch, total);
        free(want);
        if (names)
            fclose(names);
        return 0;
    }
    model_zero_grad(m);
    model_forward(m, x, REF_BATCH, 1);
    loss_softmax_xent(m->root->dy, m->root->y, labels, REF_BATCH, m->classes);
    model_backward(m, x, REF_BATCH);
    size_t off = 0;
    for (int s = 0; s < m->nslice && ok; s++) {
        const param_slice *p = &m->slice[s];
        size_t len;
        double err32;
        if (p->kind == PARAM_STAT)
            continue;
        if (fscanf(names, "%159s %zu %lf", name, &len, &err32) != 3 || len != p->len) {
            test_failed(__FILE__, __LINE__, "%s: thaw's parameter %d '%s' (%zu values) has no "
                        "PyTorch counterpart of that size", arch, k, p->name, p->len);
            ok = 0;
            break;
        }
        const float *g = model_grad(m, s);
        double top = 0, diff = 0;
        for (size_t i = 0; i < len; i++) {
            double d = (double)g[i] - want[off + i];
            top += (double)want[off + i] * want[off + i];
            diff += d * d;
        }
        if (sqrt(diff) > fmax(1e-4 * sqrt(top), 2 * err32) + 1e-12) {
            test_failed(__FILE__, __LINE__, "%s: the gradient of '%s' (PyTorch's '%s') differs by "
                        "%g in norm (its norm %g; PyTorch's float32 is off by %g)", arch, p->name,
                        name, sqrt(diff), sqrt(top), err32);
            ok = 0;
        }
        off += len;
        k++;
    }
    free(want);
    fclose(names);
    return ok;
}

/* Exports ARCH with PyTorch, imports it and compares the logits of the
 * fixed batch in evaluation mode to 1e-4 of their largest magnitude, and
 * with grads a training step's gradients (grads_match). */
/* The names of m's top-level layers, comma-separated, into out. */
static void root_names(const model *m, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < m->root->nchild && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", m->root->child[i]->name);
}

static void matches_torch(const char *arch, int size, int grads, const char *blocks)
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
             "--classes %d >/dev/null 2>&1", arch, tmp, size, REF_BATCH, REF_CLASSES);
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    float *x = NULL, *want = NULL;
    int imported = 0;
    EXPECTF(system(cmd) == 0, "the PyTorch export failed: %s", cmd);
    snprintf(path, sizeof path, "%s/model.onnx", tmp);
    EXPECTF(onnx_import(&meta, &m, NULL, path, NULL, &err) == THAW_OK, "%s", err.msg);
    imported = 1;
    EXPECT(meta.input.c == 3 && meta.input.h == size && meta.input.w == size &&
           meta.nclass == REF_CLASSES);
    char names[1024];
    root_names(&m, names, sizeof names);
    EXPECTF(!strcmp(names, blocks), "%s: the top-level blocks are %s; expected %s", arch, names, blocks);
    size_t nx = (size_t)REF_BATCH * 3 * size * size;
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
    EXPECT(!grads || grads_match(&m, x, tmp, arch));
done:
    if (imported) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    free(x);
    free(want);
    static const char *const files[] = { "model.onnx", "input.f32", "logits.f32", "labels.i32",
                                         "grads.f64", "grads.txt" };
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        unlink(path);
    }
    rmdir(tmp);
}

/* The networks that reduce by 32 are fed 64x64 images: at 32x32 their last
 * stages are 1x1, each training-mode BatchNorm there normalises a channel
 * over the batch's 4 values, and the step is so ill-conditioned that
 * PyTorch's own float32 gradients are 8e-4 (EfficientNet) to 3e-3 (the
 * MobileNets) from float64; at 64x64 they are within 3e-5 and thaw's too.
 * The top level holds the model's modules (torchvision's features.N, a
 * ResNet's layerN.M) as blocks, its stem in one. */
void test_onnx_resnet18_matches_torch(void)
{
    matches_torch("resnet18", 32, 1, "conv1,layer1_0,layer1_1,layer2_0,layer2_1,layer3_0,layer3_1,"
                  "layer4_0,layer4_1,avgpool,fc");
}

void test_onnx_mobilenet_v2_matches_torch(void)
{
    matches_torch("mobilenet_v2", 64, 1, "features_0,features_1,features_2,features_3,features_4,"
                  "features_5,features_6,features_7,features_8,features_9,features_10,features_11,"
                  "features_12,features_13,features_14,features_15,features_16,features_17,"
                  "features_18,GlobalAveragePool,classifier_1");
}

void test_onnx_mobilenet_v3_small_matches_torch(void)
{
    matches_torch("mobilenet_v3_small", 64, 1, "features_0,features_1,features_2,features_3,"
                  "features_4,features_5,features_6,features_7,features_8,features_9,features_10,"
                  "features_11,features_12,avgpool,classifier_0,classifier_1,classifier_3");
}

/* Grouped convolutions (groups of 8 channels), squeeze-and-excite, residuals.
 * At 64x64 one ReLU input of trunk_output.block4.block4-0 is 0 in float64
 * and positive in float32, so every gradient below it moves by 5e-3 between
 * PyTorch's own float32 and float64; at 48x48 no ReLU input is that close. */
void test_onnx_regnet_y_400mf_matches_torch(void)
{
    matches_torch("regnet_y_400mf", 48, 1, "stem,trunk_output_block1,trunk_output_block2,"
                  "trunk_output_block3,trunk_output_block4,avgpool,fc");
}

void test_onnx_efficientnet_b0_matches_torch(void)
{
    matches_torch("efficientnet_b0", 64, 1, "features_0,features_1,features_2,features_3,"
                  "features_4,features_5,features_6,features_7,features_8,avgpool,classifier_1");
}

/* ---- malformed graphs --------------------------------------------------------- */

/* A small graph built with protobuf-c: x (1, 3, 8, 8) -> Conv 3x3 pad 1
 * (4 filters) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (10) -> y.
 * Tests change a piece, pack it and import it. */
typedef struct mini {
    Onnx__ModelProto mp;
    Onnx__OperatorSetIdProto op, *ops[1];
    Onnx__GraphProto g;
    Onnx__ValueInfoProto in, out, *ins[1], *outs[1];
    Onnx__TypeProto tin;
    Onnx__TypeProto__Tensor tt;
    Onnx__TensorShapeProto sh;
    Onnx__TensorShapeProto__Dimension d[4], *dp[4];
    Onnx__NodeProto node[5], *np[5];
    char *nin[5][3], *nout[5][1];
    Onnx__AttributeProto at[3], *conv_at[2], *gemm_at[1];
    int64_t ks[2], pads[4];
    Onnx__TensorProto init[3], *ip[3];
    int64_t dims[3][4];
    float w1[4 * 3 * 3 * 3], w2[10 * 4], b2[10];
} mini;

static void mini_node(mini *t, int i, const char *op, const char *name, const char *a,
                      const char *b, const char *c, const char *out)
{
    Onnx__NodeProto *n = &t->node[i];
    onnx__node_proto__init(n);
    n->op_type = (char *)op, n->name = (char *)name;
    t->nin[i][0] = (char *)a, t->nin[i][1] = (char *)b, t->nin[i][2] = (char *)c;
    n->n_input = c ? 3 : b ? 2 : 1, n->input = t->nin[i];
    t->nout[i][0] = (char *)out;
    n->n_output = 1, n->output = t->nout[i];
    t->np[i] = n;
}

static void mini_tensor(mini *t, int i, const char *name, int nd, const int64_t *dims, float *v,
                        size_t n)
{
    Onnx__TensorProto *p = &t->init[i];
    onnx__tensor_proto__init(p);
    p->name = (char *)name;
    memcpy(t->dims[i], dims, sizeof(int64_t) * (size_t)nd);
    p->n_dims = (size_t)nd, p->dims = t->dims[i];
    p->has_data_type = 1, p->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    p->n_float_data = n, p->float_data = v;
    t->ip[i] = p;
}

static void mini_make(mini *t)
{
    memset(t, 0, sizeof *t);
    onnx__model_proto__init(&t->mp);
    onnx__operator_set_id_proto__init(&t->op);
    t->op.has_version = 1, t->op.version = 13, t->op.domain = (char *)"";
    t->ops[0] = &t->op;
    t->mp.n_opset_import = 1, t->mp.opset_import = t->ops;
    t->mp.has_ir_version = 1, t->mp.ir_version = 7;
    t->mp.producer_name = (char *)"thaw-tests";
    onnx__graph_proto__init(&t->g);
    t->mp.graph = &t->g;
    static const int64_t shape[4] = { 1, 3, 8, 8 };
    onnx__tensor_shape_proto__init(&t->sh);
    for (int i = 0; i < 4; i++) {
        onnx__tensor_shape_proto__dimension__init(&t->d[i]);
        t->d[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        t->d[i].dim_value = shape[i];
        t->dp[i] = &t->d[i];
    }
    t->sh.n_dim = 4, t->sh.dim = t->dp;
    onnx__type_proto__tensor__init(&t->tt);
    t->tt.has_elem_type = 1, t->tt.elem_type = 1, t->tt.shape = &t->sh;
    onnx__type_proto__init(&t->tin);
    t->tin.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tin.tensor_type = &t->tt;
    onnx__value_info_proto__init(&t->in);
    onnx__value_info_proto__init(&t->out);
    t->in.name = (char *)"x", t->in.type = &t->tin, t->out.name = (char *)"y";
    t->ins[0] = &t->in, t->outs[0] = &t->out;
    t->g.n_input = 1, t->g.input = t->ins, t->g.n_output = 1, t->g.output = t->outs;
    mini_node(t, 0, "Conv", "conv", "x", "w1", NULL, "c");
    mini_node(t, 1, "Relu", "relu", "c", NULL, NULL, "r");
    mini_node(t, 2, "GlobalAveragePool", "pool", "r", NULL, NULL, "p");
    mini_node(t, 3, "Flatten", "flatten", "p", NULL, NULL, "f");
    mini_node(t, 4, "Gemm", "fc", "f", "w2", "b2", "y");
    t->g.n_node = 5, t->g.node = t->np;
    for (int i = 0; i < 3; i++)
        onnx__attribute_proto__init(&t->at[i]);
    t->ks[0] = t->ks[1] = 3;
    t->pads[0] = t->pads[1] = t->pads[2] = t->pads[3] = 1;
    t->at[0].name = (char *)"kernel_shape", t->at[0].has_type = 1;
    t->at[0].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, t->at[0].n_ints = 2, t->at[0].ints = t->ks;
    t->at[1].name = (char *)"pads", t->at[1].has_type = 1;
    t->at[1].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS, t->at[1].n_ints = 4, t->at[1].ints = t->pads;
    t->at[2].name = (char *)"transB", t->at[2].has_type = 1;
    t->at[2].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT, t->at[2].has_i = 1, t->at[2].i = 1;
    t->conv_at[0] = &t->at[0], t->conv_at[1] = &t->at[1], t->gemm_at[0] = &t->at[2];
    t->node[0].n_attribute = 2, t->node[0].attribute = t->conv_at;
    t->node[4].n_attribute = 1, t->node[4].attribute = t->gemm_at;
    for (size_t i = 0; i < sizeof t->w1 / sizeof *t->w1; i++)
        t->w1[i] = (float)((int)(i * 7 % 11) - 5) / 10;
    for (size_t i = 0; i < sizeof t->w2 / sizeof *t->w2; i++)
        t->w2[i] = (float)((int)(i * 5 % 13) - 6) / 10;
    for (int i = 0; i < 10; i++)
        t->b2[i] = (float)i / 10;
    mini_tensor(t, 0, "w1", 4, (const int64_t[]){ 4, 3, 3, 3 }, t->w1, 4 * 3 * 3 * 3);
    mini_tensor(t, 1, "w2", 2, (const int64_t[]){ 10, 4 }, t->w2, 40);
    mini_tensor(t, 2, "b2", 1, (const int64_t[]){ 10 }, t->b2, 10);
    t->g.n_initializer = 3, t->g.initializer = t->ip;
}

/* Packs t and imports it; the error in err. */
static int mini_import(mini *t, thaw_err *err)
{
    size_t n = onnx__model_proto__get_packed_size(&t->mp);
    uint8_t *buf = malloc(n + 1);
    mf_meta meta;
    model m;
    if (!buf)
        return THAW_ENOMEM;
    onnx__model_proto__pack(&t->mp, buf);
    int rc = onnx_import_mem(&meta, &m, NULL, buf, n, "mini.onnx", NULL, 0, NULL, NULL, err);
    if (rc == THAW_OK) {
        if (meta.nclass != 10 || meta.input.c != 3 || meta.input.h != 8)
            rc = THAW_EINVAL, snprintf(err->msg, sizeof err->msg, "imported the wrong shape");
        mf_meta_free(&meta);
        model_free(&m);
    }
    free(buf);
    return rc;
}

void test_onnx_small_graph_imports(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    CHECKF(mini_import(&t, &err) == THAW_OK, "%s", err.msg);
}

/* Nodes named by PyTorch's exporter ("/MODULE/PATH/Op") are grouped into
 * blocks by module path: a top-level module whose entries hold modules of
 * their own is split into its entries (features.0, layer1.0), another is
 * one block (stem); the layers before the first split module's are one
 * (ResNet's stem, named after its first); a leaf alone keeps its name. */
void test_onnx_blocks_by_module(void)
{
    mini t;
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    char names[256];
    static const char *const node_names[3][5] = {
        { "/features/features.0/features.0.0/Conv", "/features/features.0/features.0.1/Relu",
          "/avgpool/GlobalAveragePool", "/Flatten", "/classifier/classifier.1/Gemm" },
        { "/conv1/Conv", "/relu/Relu", "/layer1/layer1.0/pool/GlobalAveragePool", "/Flatten",
          "/fc/Gemm" },
        { "/stem/stem.0/Conv", "/stem/stem.1/Relu", "/trunk_output/block1/block1-0/f/GlobalAveragePool",
          "/Flatten", "/fc/Gemm" },
    };
    static const char *const want[3] = { "features_0,avgpool,classifier_1", "conv1,layer1_0_pool,fc",
                                         "stem,trunk_output_block1_block1_0_f,fc" };
    for (int k = 0; k < 3; k++) {
        mini_make(&t);
        for (int i = 0; i < 5; i++)
            t.node[i].name = (char *)node_names[k][i];
        size_t n = onnx__model_proto__get_packed_size(&t.mp);
        uint8_t *buf = malloc(n);
        CHECK(buf != NULL);
        onnx__model_proto__pack(&t.mp, buf);
        int rc = onnx_import_mem(&meta, &m, NULL, buf, n, "named.onnx", NULL, 0, NULL, NULL, &err);
        free(buf);
        CHECKF(rc == THAW_OK, "%s", err.msg);
        root_names(&m, names, sizeof names);
        int ok = !strcmp(names, want[k]) && m.root->child[0]->nchild == 2;
        mf_meta_free(&meta);
        model_free(&m);
        CHECKF(ok, "the top-level blocks are %s; expected %s, the first of two layers", names, want[k]);
    }
}

void test_onnx_bad_not_protobuf(void)
{
    static const uint8_t junk[] = "this is not a protobuf message \xff\xff\xff\xff";
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECK(onnx_import_mem(&meta, &m, NULL, junk, sizeof junk, "junk.onnx", NULL, 0, NULL, NULL,
                          &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "junk.onnx") && strstr(err.msg, "not an ONNX model"), "%s", err.msg);
}

void test_onnx_bad_unknown_op(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.node[1].op_type = (char *)"Elu";
    CHECK(mini_import(&t, &err) == THAW_EINVAL);
    CHECKF(strstr(err.msg, "node 'relu' (Elu)") && strstr(err.msg, "not an operator thaw maps"),
           "%s", err.msg);
}

void test_onnx_bad_missing_initializer(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.nin[4][1] = (char *)"w_absent";
    CHECK(mini_import(&t, &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "node 'fc' (Gemm)") && strstr(err.msg, "'w_absent'"), "%s", err.msg);
}

void test_onnx_bad_cycle(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.nin[1][0] = (char *)"p";      /* relu takes the pool's output, the pool relu's */
    CHECK(mini_import(&t, &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "cycle"), "%s", err.msg);
}

void test_onnx_bad_shape_mismatch(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.dims[1][1] = 2, t.init[1].n_float_data = 20;   /* fc: 2 inputs, the pool gives 4 */
    CHECK(mini_import(&t, &err) != THAW_OK);
    CHECKF(strstr(err.msg, "fc") && strstr(err.msg, "[4, 10]"), "%s", err.msg);
}

void test_onnx_bad_absurd_dims(void)
{
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.dims[2][0] = -5;
    CHECK(mini_import(&t, &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "'b2'") && strstr(err.msg, "dimension 0 is -5"), "%s", err.msg);
    mini_make(&t);
    t.d[2].dim_value = 1 << 30;
    CHECK(mini_import(&t, &err) == THAW_EINVAL);
    CHECKF(strstr(err.msg, "input 'x'") && strstr(err.msg, "dimension 2"), "%s", err.msg);
}

void test_onnx_bad_2gb_tensor(void)
{
    /* A weight declaring 2 GiB of floats (512 Mi values) in a file of a
     * few hundred bytes: refused before anything that size is allocated. */
    mini t;
    thaw_err err = { 0 };
    mini_make(&t);
    t.dims[2][0] = (int64_t)1 << 29;
    CHECK(mini_import(&t, &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "'b2'"), "%s", err.msg);
    mini_make(&t);
    t.dims[1][0] = 1 << 15, t.dims[1][1] = 1 << 14;
    CHECK(mini_import(&t, &err) == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "'w2'"), "%s", err.msg);
}

/* ---- export ----------------------------------------------------------------------- */

/* The model in file exported to ONNX and read back gives the same logits on a seeded
 * batch to 1e-5 of the largest and has the top-level blocks named in blocks; where python3-onnx is installed (the test
 * packages), ONNX's own checker accepts the file. */
static void export_round_trip(const char *file, const char *blocks)
{
    mf_meta meta, back_meta;
    model m, back;
    thaw_err err = { 0 };
    uint8_t *buf = NULL;
    size_t len = 0;
    float *x = NULL, *want = NULL;
    int loaded = 0, imported = 0;
    char tmp[256] = "", path[300], cmd[700];
    enum { B = 3 };
    EXPECTF(mf_load(&meta, &m, file, NULL, &err) == THAW_OK, "%s", err.msg);
    loaded = 1;
    EXPECTF(onnx_export_mem(&meta, &m, &buf, &len, &err) == THAW_OK, "%s: %s", file, err.msg);
    EXPECTF(onnx_import_mem(&back_meta, &back, NULL, buf, len, file, NULL, 0, NULL, NULL, &err) == THAW_OK,
            "%s read back: %s", file, err.msg);
    imported = 1;
    EXPECT(back.in.c == m.in.c && back.in.h == m.in.h && back.in.w == m.in.w && back.classes == m.classes);
    char names[512];
    root_names(&back, names, sizeof names);
    EXPECTF(!strcmp(names, blocks), "%s read back: the top-level blocks are %s; expected %s", file, names,
            blocks);
    /* The classes and the normalisation travel in the file's metadata. */
    EXPECT(back_meta.nclass == meta.nclass);
    for (int k = 0; k < meta.nclass; k++)
        EXPECTF(!strcmp(back_meta.class_name[k], meta.class_name[k]), "class %d: %s, expected %s", k,
                back_meta.class_name[k], meta.class_name[k]);
    for (int c = 0; c < meta.input.c; c++)
        EXPECT(back_meta.mean[c] == meta.mean[c] && back_meta.std[c] == meta.std[c]);
    size_t nx = (size_t)B * shape3_count(m.in), ny = (size_t)B * (size_t)m.classes;
    EXPECT((x = malloc(nx * sizeof *x)) && (want = malloc(ny * sizeof *want)));
    rng r = rng_seeded(7);
    for (size_t i = 0; i < nx; i++)
        x[i] = rng_normal(&r);
    EXPECTF(model_prepare(&m, B, &err) == THAW_OK && model_prepare(&back, B, &err) == THAW_OK, "%s", err.msg);
    model_forward(&m, x, B, 0);
    memcpy(want, m.root->y, ny * sizeof *want);
    model_forward(&back, x, B, 0);
    double top = 0, diff = 0;
    for (size_t i = 0; i < ny; i++) {
        top = fmax(top, fabs(want[i]));
        diff = fmax(diff, fabs((double)back.root->y[i] - want[i]));
    }
    EXPECTF(top > 0 && diff <= 1e-5 * top, "%s: the re-imported logits differ by %g (largest %g)", file, diff,
            top);
    if (system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0) {
        snprintf(tmp, sizeof tmp, "%s/thaw-onnx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        EXPECT(mkdtemp(tmp) != NULL);
        snprintf(path, sizeof path, "%s/model.onnx", tmp);
        EXPECTF(onnx_export(&meta, &m, path, &err) == THAW_OK, "%s", err.msg);
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import onnx; onnx.checker.check_model(onnx.load(\"%s\"), "
                 "full_check=True)'", path);
        EXPECTF(system(cmd) == 0, "ONNX's checker refused %s exported from %s", path, file);
    }
done:
    if (tmp[0]) {
        unlink(path);
        rmdir(tmp);
    }
    if (loaded) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    if (imported) {
        mf_meta_free(&back_meta);
        model_free(&back);
    }
    free(buf);
    free(x);
    free(want);
}

/* A ResNet (residuals with and without projection, BatchNorm, max and
 * average pools, a linear head) and a MobileNet-parts model (depthwise and
 * grouped convolutions, per-side padding, relu6, hardswish, hardsigmoid, a
 * squeeze-and-excite gate, an inverted residual). */
void test_onnx_export_resnet_round_trip(void)
{
    export_round_trip("models/fashion-resnet.json", "stem,stage1,stage2,stage3,pool,head");
}

/* Its flatten (ONNX Flatten after the pool) is no layer in thaw's import. */
void test_onnx_export_mobilenet_round_trip(void)
{
    export_round_trip("tests/data/golden/mobilenet.json", "conv1,conv_dw_1,conv_pw_1,block1,mix,dw2,se2,pool,head");
}

/* ---- text models ------------------------------------------------------------------ */

/* A Kim CNN over the topics vocabulary: widths 3 (no padding: a sample's
 * length shrinks by 2) and 2 (padding 1: it grows by 1) max-pooled over time,
 * beside the embeddings' mean. */
static const char kim_cnn[] =
    "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"kim.safetensors\","
    " \"input\": {\"channels\": 1, \"height\": 1, \"width\": 20, \"mean\": [0], \"std\": [1]},"
    " \"classes\": [\"sport\", \"food\", \"weather\", \"music\"],"
    " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
    "  {\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 2061, \"embedding_dim\": 12},"
    "  {\"name\": \"widths\", \"type\": \"concat\", \"branches\": ["
    "    {\"name\": \"w3\", \"type\": \"sequential\", \"layers\": ["
    "      {\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 12, \"out_channels\": 6,"
    "       \"kernel_size\": 3},"
    "      {\"name\": \"relu\", \"type\": \"relu\"},"
    "      {\"name\": \"max\", \"type\": \"seqmax\"}]},"
    "    {\"name\": \"w2\", \"type\": \"sequential\", \"layers\": ["
    "      {\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 12, \"out_channels\": 5,"
    "       \"kernel_size\": 2, \"padding\": 1},"
    "      {\"name\": \"max\", \"type\": \"seqmax\"}]},"
    "    {\"name\": \"mean\", \"type\": \"seqmean\"}]},"
    "  {\"name\": \"drop\", \"type\": \"dropout\", \"p\": 0.5},"
    "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 23, \"out_features\": 4}]}}";

enum { TEXT_B = 8 };

/* A batch of ids of width L: topics sentences in the vocabulary, then the
 * cases the masks must get right: no real id, one real id (shorter than a
 * kernel), padding inside a sentence, ids outside the vocabulary and
 * halfway between two ids (rounded to the even one, as lrintf). */
static int text_batch(float *x, int L, const mf_meta *vocab_meta, int vocab)
{
    txt_vocab v;
    txt_set train, test;
    thaw_err err = { 0 };
    if (txt_vocab_parse(&v, vocab_meta->vocab, vocab_meta->vocab_len, "glove-topics.vocab", &err))
        return 0;
    if (txt_make_topics(&train, &test, 3, 1, &err)) {
        txt_vocab_free(&v);
        return 0;
    }
    for (int b = 0; b < 4; b++)
        txt_encode(&v, train.doc[b * 3 % train.n], train.len[b * 3 % train.n], x + (size_t)b * L, L);
    float *e = x + (size_t)4 * L;
    memset(e, 0, (size_t)4 * L * sizeof *e);
    e[L + 0] = 7;                                     /* one real id */
    e[2 * L + 0] = 5, e[2 * L + 1] = 0, e[2 * L + 2] = 9, e[2 * L + 5] = 11;
    e[3 * L + 0] = -0.7f, e[3 * L + 1] = 2.5f, e[3 * L + 2] = (float)vocab - 0.4f, e[3 * L + 3] = 1e9f;
    e[3 * L + 4] = 3.5f, e[3 * L + 5] = 0.4f, e[3 * L + 6] = -0.4f, e[3 * L + 7] = 12.49f;
    txt_set_free(&train);
    txt_set_free(&test);
    txt_vocab_free(&v);
    return 1;
}

/* The model exported; where python3-onnx and numpy are installed, ONNX's
 * checker accepts the file and the graph run by tests/onnx_eval.py (each
 * operator as ONNX defines it) gives thaw's logits on the batch to 1e-5 of
 * the largest. */
static void text_matches_onnx(const mf_meta *meta, model *m, const mf_meta *vocab_meta)
{
    if (system("/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1") != 0) {
        test_skip("no /usr/bin/python3 with onnx and numpy (apt-get install python3-onnx) to run the graph");
        return;
    }
    thaw_err err = { 0 };
    int L = m->in.w;
    size_t ny = (size_t)TEXT_B * (size_t)m->classes;
    float *x = malloc((size_t)TEXT_B * L * sizeof *x), *want = malloc(ny * sizeof *want), *got = NULL;
    char tmp[256], path[300], in[300], out[300], cmd[1600];
    snprintf(tmp, sizeof tmp, "%s/thaw-onnx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    EXPECT(x && want && mkdtemp(tmp) != NULL);
    snprintf(path, sizeof path, "%s/model.onnx", tmp);
    snprintf(in, sizeof in, "%s/ids.f32", tmp);
    snprintf(out, sizeof out, "%s/logits.f32", tmp);
    EXPECT(text_batch(x, L, vocab_meta, vocab_meta->vocab_words));
    EXPECTF(model_prepare(m, TEXT_B, &err) == THAW_OK, "%s", err.msg);
    model_forward(m, x, TEXT_B, 0);
    memcpy(want, m->root->y, ny * sizeof *want);
    FILE *f = fopen(in, "wb");
    EXPECT(f && fwrite(x, sizeof *x, (size_t)TEXT_B * L, f) == (size_t)TEXT_B * L);
    fclose(f);
    EXPECTF(onnx_export(meta, m, path, &err) == THAW_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import onnx; onnx.checker.check_model(onnx.load(\"%s\"), "
             "full_check=True)' && /usr/bin/python3 tests/onnx_eval.py %s %s %s", path, path, in, out);
    EXPECTF(system(cmd) == 0, "ONNX's checker or tests/onnx_eval.py refused %s", path);
    EXPECT((got = read_f32(out, ny)) != NULL);
    double top = 0, diff = 0;
    for (size_t i = 0; i < ny; i++) {
        top = fmax(top, fabs(want[i]));
        diff = fmax(diff, fabs((double)got[i] - want[i]));
    }
    EXPECTF(top > 0 && diff <= 1e-5 * top, "the ONNX graph's logits differ from thaw's by %g (largest %g)", diff,
            top);
done:
    unlink(path);
    unlink(in);
    unlink(out);
    rmdir(tmp);
    free(x);
    free(want);
    free(got);
}

/* The shipped bag of embeddings (embedding, seqmean, linear); its
 * vocabulary travels in metadata thaw.vocabulary, byte for byte. */
void test_onnx_export_text_bag(void)
{
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    uint8_t *buf = NULL;
    size_t len = 0;
    Onnx__ModelProto *mp = NULL;
    CHECKF(mf_load(&meta, &m, "models/glove-topics.json", NULL, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(onnx_export_mem(&meta, &m, &buf, &len, &err) == THAW_OK, "%s", err.msg);
    EXPECT((mp = onnx__model_proto__unpack(NULL, len, buf)) != NULL);
    const char *vocab = NULL;
    for (size_t i = 0; i < mp->n_metadata_props; i++)
        if (!strcmp(mp->metadata_props[i]->key, "thaw.vocabulary"))
            vocab = mp->metadata_props[i]->value;
    EXPECT(vocab && meta.vocab && strlen(vocab) == meta.vocab_len && !memcmp(vocab, meta.vocab, meta.vocab_len));
    text_matches_onnx(&meta, &m, &meta);
done:
    if (mp)
        onnx__model_proto__free_unpacked(mp, NULL);
    free(buf);
    mf_meta_free(&meta);
    model_free(&m);
}

/* A Kim CNN: 1-D convolutions, ReLU, max and mean over time, a concat. */
void test_onnx_export_text_kim_cnn(void)
{
    mf_meta meta, vocab_meta;
    model m, vm;
    thaw_err err = { 0 };
    CHECKF(mf_load(&vocab_meta, &vm, "models/glove-topics.json", NULL, &err) == THAW_OK, "%s", err.msg);
    model_free(&vm);
    if (mf_parse(&meta, kim_cnn, sizeof kim_cnn - 1, "kim.json", &err) != THAW_OK) {
        mf_meta_free(&vocab_meta);
        CHECKF(0, "%s", err.msg);
    }
    if (mf_build(&m, &meta, 3, &err) != THAW_OK) {
        mf_meta_free(&vocab_meta);
        mf_meta_free(&meta);
        CHECKF(0, "%s", err.msg);
    }
    text_matches_onnx(&meta, &m, &vocab_meta);
    mf_meta_free(&vocab_meta);
    mf_meta_free(&meta);
    model_free(&m);
}

/* The model json (input 4x1x6 or ids 1x1x6) refused naming the layer and
 * what it follows, nothing allocated for the caller. */
static void export_refuses(const char *input, const char *layers, const char *named, const char *why)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"p.safetensors\", \"input\": %s,"
             " \"classes\": [\"a\", \"b\"], \"architecture\": {\"type\": \"sequential\", \"layers\": [%s]}}",
             input, layers);
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    uint8_t *buf = (uint8_t *)&err;
    size_t len = 1;
    CHECKF(mf_parse(&meta, json, strlen(json), "p.json", &err) == THAW_OK, "%s", err.msg);
    if (mf_build(&m, &meta, 1, &err) != THAW_OK) {
        mf_meta_free(&meta);
        CHECKF(0, "%s", err.msg);
    }
    int rc = onnx_export_mem(&meta, &m, &buf, &len, &err);
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(rc == THAW_EINVAL && strstr(err.msg, named) && strstr(err.msg, why), "%d %s", rc, err.msg);
    CHECK(buf == NULL && len == 0);
}

/* A pool over time with no embedding before it (its input the model's,
 * every position real) has no ONNX form here. */
void test_onnx_export_refuses_pool_without_embedding(void)
{
    export_refuses("{\"channels\": 4, \"height\": 1, \"width\": 6, \"mean\": [0, 0, 0, 0], \"std\": [1, 1, 1, 1]}",
                   "{\"name\": \"mean\", \"type\": \"seqmean\"},"
                   "{\"name\": \"head\", \"type\": \"linear\", \"in_features\": 4, \"out_features\": 2}",
                   "'mean' (seqmean)", "follow a sequence");
}

/* Nor a 2-D convolution over an embedding's sequence (thaw reads it as a
 * 1-pixel-high map). */
void test_onnx_export_refuses_conv2d_after_embedding(void)
{
    export_refuses("{\"channels\": 1, \"height\": 1, \"width\": 6, \"mean\": [0], \"std\": [1]}",
                   "{\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 5, \"embedding_dim\": 4},"
                   "{\"name\": \"conv\", \"type\": \"conv2d\", \"in_channels\": 4, \"out_channels\": 3,"
                   " \"kernel_size\": 1},"
                   "{\"name\": \"pool\", \"type\": \"avgpool\"},"
                   "{\"name\": \"head\", \"type\": \"linear\", \"in_features\": 3, \"out_features\": 2}",
                   "'conv' (conv2d)", "follows a sequence");
}

/* A thaw-written file whose normalisation metadata was edited badly: the
 * entry and what was expected are named. */
void test_onnx_bad_thaw_metadata(void)
{
    mf_meta meta, back_meta;
    model m, back;
    thaw_err err = { 0 };
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0;
    Onnx__ModelProto *mp = NULL;
    int loaded = 0;
    EXPECTF(mf_load(&meta, &m, "models/fashion-resnet.json", NULL, &err) == THAW_OK, "%s", err.msg);
    loaded = 1;
    EXPECTF(onnx_export_mem(&meta, &m, &buf, &len, &err) == THAW_OK, "%s", err.msg);
    EXPECT((mp = onnx__model_proto__unpack(NULL, len, buf)) != NULL);
    static const char *const bad[] = { "0.1,0.2", "", "nan", "0.28x" };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        for (size_t i = 0; i < mp->n_metadata_props; i++)
            if (!strcmp(mp->metadata_props[i]->key, "thaw.mean")) {
                free(mp->metadata_props[i]->value);
                mp->metadata_props[i]->value = strdup(bad[b]);
            }
        size_t n = onnx__model_proto__get_packed_size(mp);
        free(again);
        EXPECT((again = malloc(n)) != NULL);
        onnx__model_proto__pack(mp, again);
        int rc = onnx_import_mem(&back_meta, &back, NULL, again, n, "edited.onnx", NULL, 0, NULL, NULL, &err);
        EXPECTF(rc == THAW_EFORMAT && strstr(err.msg, "edited.onnx: metadata thaw.mean") &&
                strstr(err.msg, "expected 1 number, one per input channel"), "'%s': %d %s", bad[b], rc, err.msg);
        if (rc == THAW_OK) {
            mf_meta_free(&back_meta);
            model_free(&back);
        }
    }
done:
    if (mp)
        onnx__model_proto__free_unpacked(mp, NULL);
    if (loaded) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    free(buf);
    free(again);
}
