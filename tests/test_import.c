/* test_import.c — importing TF.js layers models (models/tfjs.h).
 *
 * The fixtures in tests/data/import/ (make_fixtures.py) are tiny models
 * whose expected logits come from tests/tfjs_reference.py, a numpy forward
 * pass that shares nothing with the importer: each imported model must give
 * them within GOLDEN_TOLERANCE. Every malformed case is the convnet fixture
 * (or another) with one change, and must fail with a message naming the
 * fault. The real MobileNet v1 0.25 (../shared/pretrained or
 * $THAW_PRETRAINED) is imported when it is there, and skipped with a
 * message when not. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "predict.h"
#include "registry.h"
#include "test.h"
#include "tfjs.h"

#define DATA "tests/data/import/"
#define TOLERANCE 1e-4        /* max |thaw - reference| / max |reference| */

/* ---- helpers ------------------------------------------------------------------ */

/* Shards from a fixture's folder, one of them possibly replaced. */
typedef struct shard_src {
    const char *dir;              /* "tests/data/import/convnet/" */
    const char *name;             /* a shard served from bytes instead, or NULL */
    const uint8_t *bytes;
    size_t len;
} shard_src;

static int read_shard(void *ctx, const char *name, size_t max, uint8_t **buf, size_t *len,
                      thaw_err *err)
{
    const shard_src *s = ctx;
    if (s->name && !strcmp(name, s->name)) {
        if (s->len > max)
            return thaw_fail(err, THAW_EFORMAT, "%zu bytes; expected at most %zu", s->len, max);
        *buf = malloc(s->len + 1);
        if (!*buf)
            return thaw_fail(err, THAW_ENOMEM, "out of memory");
        memcpy(*buf, s->bytes, s->len);
        *len = s->len;
        return THAW_OK;
    }
    char path[512], *b;
    snprintf(path, sizeof path, "%s%s", s->dir, name);
    int rc = fio_read(path, max, &b, len, err);
    *buf = (uint8_t *)b;
    return rc;
}

/* text (len bytes, freed) with the first `from` replaced by `to`; NULL
 * when `from` is not in it. */
static char *replaced(char *text, size_t *len, const char *from, const char *to)
{
    char *at = strstr(text, from);
    if (!at) {
        free(text);
        return NULL;
    }
    size_t nf = strlen(from), nt = strlen(to), head = (size_t)(at - text);
    char *out = malloc(*len - nf + nt + 1);
    if (out) {
        memcpy(out, text, head);
        memcpy(out + head, to, nt);
        memcpy(out + head + nt, at + nf, *len - head - nf + 1);
        *len = *len - nf + nt;
    }
    free(text);
    return out;
}

/* A fixture's model.json with up to two changes (from NULL: none); NULL
 * when a change does not apply. The caller frees it. */
static char *fixture_json(const char *fixture, const char *from, const char *to,
                          const char *from2, const char *to2, size_t *len)
{
    char path[256], *text;
    thaw_err err = { 0 };
    snprintf(path, sizeof path, DATA "%s/model.json", fixture);
    if (fio_read(path, TFJS_JSON_MAX, &text, len, &err))
        return NULL;
    if (text && from)
        text = replaced(text, len, from, to);
    if (text && from2)
        text = replaced(text, len, from2, to2);
    return text;
}

typedef struct import_case {
    const char *fixture;
    const char *from, *to;        /* changes to model.json */
    const char *from2, *to2;
    const char *shard;            /* a shard replaced by bytes */
    const uint8_t *bytes;
    size_t len;
    const char *labels;           /* JSON of class names */
    tfjs_opts opt;
} import_case;

/* Imports the case: THAW_OK with meta and m filled, or the error; -1 when
 * the change does not apply. */
static int import_run(const import_case *c, mf_meta *meta, model *m, tfjs_report *rep,
                      thaw_err *err)
{
    char dir[256], file[256];
    size_t len;
    snprintf(dir, sizeof dir, DATA "%s/", c->fixture);
    snprintf(file, sizeof file, DATA "%s/model.json", c->fixture);
    char *json = fixture_json(c->fixture, c->from, c->to, c->from2, c->to2, &len);
    if (!json)
        return -1;
    shard_src src = { dir, c->shard, c->bytes, c->len };
    int rc = tfjs_import_mem(meta, m, rep, json, len, file, read_shard, &src, c->labels,
                             c->labels ? strlen(c->labels) : 0, "labels.json", &c->opt, err);
    free(json);
    return rc;
}

/* The case fails with `code` and a one-line message holding `want`. */
static void import_bad(const import_case *c, int code, const char *want)
{
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    int rc = import_run(c, &meta, &m, NULL, &err);
    if (rc == -1) {
        test_failed(__FILE__, __LINE__, "%s: the change '%s' does not apply", c->fixture, c->from);
        return;
    }
    if (rc == THAW_OK) {
        mf_meta_free(&meta);
        model_free(&m);
        test_failed(__FILE__, __LINE__, "%s imported; expected an error with \"%s\"", c->fixture,
                    want);
        return;
    }
    if (rc != code || !strstr(err.msg, want) || strchr(err.msg, '\n'))
        test_failed(__FILE__, __LINE__, "%s: got %d \"%s\"; expected %d with \"%s\"", c->fixture,
                    rc, err.msg, code, want);
}

/* The convnet fixture with from -> to fails with code and want. */
static void convnet_bad(const char *from, const char *to, int code, const char *want)
{
    import_case c = { .fixture = "convnet", .from = from, .to = to };
    import_bad(&c, code, want);
}

/* n floats of a little-endian float32 file; NULL when it is not n of them. */
static float *read_f32(const char *path, size_t n)
{
    char *b;
    size_t len;
    thaw_err err = { 0 };
    if (fio_read(path, 1 << 24, &b, &len, &err))
        return NULL;
    if (len != n * sizeof(float)) {
        free(b);
        return NULL;
    }
    return (float *)(void *)b;
}

/* max |got - want| / max |want| */
static double rel_error(const float *got, const float *want, int n)
{
    double d = 0, top = 0;
    for (int i = 0; i < n; i++) {
        double e = got[i] - want[i];
        d = e < 0 ? (-e > d ? -e : d) : (e > d ? e : d);
        top = want[i] < 0 ? (-want[i] > top ? -want[i] : top) : (want[i] > top ? want[i] : top);
    }
    return top > 0 ? d / top : d;
}

/* The model's logits for the fixture's input.f32 match its logits.f32. */
static int matches_reference(const char *fixture, model *m)
{
    char path[256];
    snprintf(path, sizeof path, DATA "%s/input.f32", fixture);
    float *x = read_f32(path, shape3_count(m->in));
    snprintf(path, sizeof path, DATA "%s/logits.f32", fixture);
    float *want = read_f32(path, (size_t)m->classes);
    thaw_err err = { 0 };
    int ok = x && want && model_prepare(m, 1, &err) == THAW_OK;
    if (ok) {
        model_forward(m, x, 1, 0);
        double e = rel_error(m->root->y, want, m->classes);
        ok = e <= TOLERANCE;
        if (!ok)
            test_failed(__FILE__, __LINE__, "%s: relative error %g; expected at most %g", fixture,
                        e, TOLERANCE);
    } else {
        test_failed(__FILE__, __LINE__, "%s: no input.f32 and logits.f32 of the model's sizes",
                    fixture);
    }
    free(x);
    free(want);
    return ok;
}

/* Imports the fixture as it is and checks its logits. */
static void fixture_matches(const char *fixture)
{
    import_case c = { .fixture = fixture };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    int rc = import_run(&c, &meta, &m, NULL, &err);
    CHECKF(rc == THAW_OK, "%s: %s", fixture, err.msg);
    matches_reference(fixture, &m);
    mf_meta_free(&meta);
    model_free(&m);
}

/* The MobileNet layer types (merged from the layers work): conv2d's groups
 * and per-side padding, relu6, hardsigmoid, sigmoid. */
static int have_mobilenet_layers(void)
{
    const layer_ops *conv = layer_type_find("conv2d");
    return layer_type_find("relu6") && layer_type_find("hardsigmoid") &&
           layer_type_find("sigmoid") && layer_type_find("hardswish") &&
           layer_hp_index(conv, "groups") >= 0 && layer_hp_index(conv, "pad_top") >= 0;
}

#define NEED_MOBILENET_LAYERS()                                                             \
    do {                                                                                    \
        if (!have_mobilenet_layers()) {                                                     \
            test_skip("this thaw lacks relu6, hardsigmoid, sigmoid, hardswish or conv2d's " \
                      "groups and pad_* (core/registry.h)");                                \
            return;                                                                         \
        }                                                                                   \
    } while (0)

/* ---- the fixtures, against the reference ------------------------------------- */

void test_tfjs_convnet_matches_reference(void)
{
    fixture_matches("convnet");
}

void test_tfjs_quantised_weights_match_reference(void)
{
    import_case c = { .fixture = "quant" };
    mf_meta meta;
    model m;
    tfjs_report rep;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, &rep, &err) == THAW_OK, "%s", err.msg);
    int ok = rep.by_dtype[TFJS_U8] > 0 && rep.by_dtype[TFJS_U16] > 0 && rep.by_dtype[TFJS_F16] > 0;
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(ok);
    fixture_matches("quant");
}

void test_tfjs_mobilenet_block_matches_reference(void)
{
    NEED_MOBILENET_LAYERS();
    import_case c = { .fixture = "mobile" };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    static const char *const blocks[] = { "conv1", "block_1", "global_average_pooling2d_1",
                                          "dropout", "conv_preds" };
    const layer *r = m.root, *dw = model_find(&m, "block_1.conv_dw_1");
    const layer *c1 = model_find(&m, "conv1.conv1");
    EXPECT(r->nchild == 5);
    for (int i = 0; i < 5; i++)
        EXPECTF(!strcmp(r->child[i]->name, blocks[i]), "root child %d is %s, not %s", i,
                r->child[i]->name, blocks[i]);
    EXPECT(dw && c1 && !strcmp(model_find(&m, "conv_preds")->ops->type, "linear"));
    /* Stride 2 on 8: TensorFlow pads 0 before and 1 after; the ZeroPadding2D
     * ((0, 1), (0, 1)) went into the depthwise convolution. */
    double hp[LAYER_HP_MAX];
    c1->ops->hparams(c1, hp);
    int top = layer_hp_index(c1->ops, "pad_top"), bottom = layer_hp_index(c1->ops, "pad_bottom");
    int groups = layer_hp_index(c1->ops, "groups");
    EXPECTF(hp[top] == 0 && hp[bottom] == 1, "conv1 pads %g and %g", hp[top], hp[bottom]);
    dw->ops->hparams(dw, hp);
    EXPECTF(hp[top] == 0 && hp[bottom] == 1 && hp[groups] == 8, "conv_dw_1: pads %g %g, groups %g",
            hp[top], hp[bottom], hp[groups]);
    EXPECT(meta.input.c == 3 && meta.input.h == 8 && meta.mean[2] == 0.5 && meta.std[0] == 0.5);
    matches_reference("mobile", &m);
done:
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_residual_gate_matches_reference(void)
{
    NEED_MOBILENET_LAYERS();
    import_case c = { .fixture = "residual" };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    const layer *b1 = model_find(&m, "b1"), *b2 = model_find(&m, "b2");
    const layer *se = model_find(&m, "se_mul");
    EXPECT(b1 && !strcmp(b1->ops->type, "residual") && b1->nchild == 3);
    EXPECT(b2 && !strcmp(b2->ops->type, "residual") && model_find(&m, "b2.b2_short"));
    EXPECT(se && !strcmp(se->ops->type, "gate"));
    EXPECT(model_find(&m, "stem.stem_silu") && model_find(&m, "se_mul.se_conv_hardsigmoid"));
    matches_reference("residual", &m);
done:
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_teachable_machine_export(void)
{
    NEED_MOBILENET_LAYERS();
    mf_meta meta;
    model m;
    tfjs_report rep;
    thaw_err err = { 0 };
    /* Through the file reader: shards "./weights.bin", metadata.json's labels. */
    CHECKF(tfjs_import(&meta, &m, &rep, DATA "teachable/model.json", NULL, &err) == THAW_OK, "%s",
           err.msg);
    EXPECT(meta.nclass == 3 && !strcmp(meta.class_name[0], "cat") &&
           !strcmp(meta.class_name[1], "dog") && !strcmp(meta.class_name[2], "cat (2)"));
    EXPECT(model_find(&m, "dense_Dense1.dense_Dense1_relu") && model_find(&m, "dense_Dense2"));
    EXPECT(strstr(rep.model, "Sequential") && rep.layers >= 7);
    matches_reference("teachable", &m);
done:
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_labels_and_options(void)
{
    import_case c = { .fixture = "convnet", .labels = "{\"labels\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}" };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    int ok = meta.nclass == 5 && !strcmp(meta.class_name[4], "e");
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(ok);
    import_case d = { .fixture = "convnet", .labels = " [\"t\", \"u\", \"v\", \"w\", \"x\"]",
                      .opt = { .norm = 1, .mean = { 0.4, 0.5, 0.6 }, .std = { 0.2, 0.3, 0.4 } } };
    CHECKF(import_run(&d, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    ok = !strcmp(meta.class_name[0], "t") && meta.mean[2] == 0.6 && meta.std[1] == 0.3;
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(ok);
}

void test_tfjs_rescaling_is_the_normalisation(void)
{
    /* x/255 before the convolution: inputs in [0, 1] as they are, and no layer for it. */
    import_case c = {
        .fixture = "convnet", .from = "{\"class_name\": \"Conv2D\"",
        .to = "{\"class_name\": \"Rescaling\", \"config\": {\"scale\": 0.00392156862745098, "
              "\"offset\": 0.0, \"name\": \"rescale\"}, \"name\": \"rescale\", "
              "\"inbound_nodes\": [[[\"input_1\", 0, 0, {}]]]}, {\"class_name\": \"Conv2D\"",
        .from2 = "\"name\": \"conv\", \"inbound_nodes\": [[[\"input_1\"",
        .to2 = "\"name\": \"conv\", \"inbound_nodes\": [[[\"rescale\"",
    };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(fabs(meta.mean[0]) < 1e-12 && fabs(meta.std[2] - 1) < 1e-12, "mean %g, std %g",
            meta.mean[0], meta.std[2]);
    EXPECT(m.root->nchild == 5);
    matches_reference("convnet", &m);
    c.opt.norm = 1, c.opt.mean[0] = c.opt.std[0] = 0.5;
    mf_meta_free(&meta);
    model_free(&m);
    CHECK(import_run(&c, &meta, &m, NULL, &err) == THAW_EINVAL && strstr(err.msg, "'rescale'"));
    return;
done:
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_input_size_option(void)
{
    NEED_MOBILENET_LAYERS();
    import_case c = { .fixture = "mobile", .opt = { .input = { 3, 16, 12 } } };
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    const layer *dw = model_find(&m, "block_1.conv_dw_1");
    EXPECT(meta.input.h == 16 && meta.input.w == 12 && dw->out.h == 4 && dw->out.w == 3);
done:
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_saved_model_reloads(void)
{
    import_case c = { .fixture = "convnet" };
    mf_meta meta, back;
    model m, n;
    thaw_err err = { 0 };
    char dir[256], path[300];
    snprintf(dir, sizeof dir, "%s/thaw-import-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/convnet.json", dir);
    CHECKF(import_run(&c, &meta, &m, NULL, &err) == THAW_OK, "%s", err.msg);
    int saved = mf_save(path, &meta, &m, &err) == THAW_OK;
    mf_meta_free(&meta);
    model_free(&m);
    CHECKF(saved, "%s", err.msg);
    CHECKF(mf_load(&back, &n, path, NULL, &err) == THAW_OK, "%s", err.msg);
    matches_reference("convnet", &n);
    mf_meta_free(&back);
    model_free(&n);
    snprintf(path, sizeof path, "%s/convnet.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/convnet.safetensors", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- malformed and unsupported models ------------------------------------------ */

void test_tfjs_bad_not_json(void)
{
    convnet_bad("{\"format\"", "{{\"format\"", THAW_EFORMAT, "model.json");
}

void test_tfjs_bad_graph_model(void)
{
    convnet_bad("\"layers-model\"", "\"graph-model\"", THAW_EINVAL, "not graph models");
}

void test_tfjs_bad_no_topology(void)
{
    convnet_bad("\"modelTopology\"", "\"topology\"", THAW_EFORMAT, "modelTopology: missing");
}

void test_tfjs_bad_no_manifest(void)
{
    convnet_bad("\"weightsManifest\"", "\"weights\"", THAW_EFORMAT, "weightsManifest: missing");
}

void test_tfjs_bad_duplicate_key(void)
{
    convnet_bad("\"format\": \"layers-model\"", "\"format\": \"layers-model\", \"format\": \"x\"",
                THAW_EFORMAT, "format");
}

void test_tfjs_bad_separable_conv(void)
{
    convnet_bad("\"class_name\": \"Conv2D\"", "\"class_name\": \"SeparableConv2D\"", THAW_EINVAL,
                "layer 'conv' (SeparableConv2D) is not supported");
}

void test_tfjs_bad_concatenate(void)
{
    import_case c = { .fixture = "residual", .from = "\"class_name\": \"Add\", \"config\": "
                      "{\"name\": \"b2_add\"", .to = "\"class_name\": \"Concatenate\", "
                      "\"config\": {\"name\": \"b2_add\"" };
    import_bad(&c, THAW_EINVAL, "layer 'b2_add' (Concatenate) is not supported");
}

void test_tfjs_bad_activation(void)
{
    convnet_bad("\"activation\": \"relu\"", "\"activation\": \"tanh\"", THAW_EINVAL,
                "layer 'conv' (Conv2D) uses the activation 'tanh'");
}

void test_tfjs_bad_dilation(void)
{
    convnet_bad("\"dilation_rate\": [1, 1]", "\"dilation_rate\": [2, 2]", THAW_EINVAL,
                "dilation_rate 2x2");
}

void test_tfjs_bad_kernel_not_square(void)
{
    convnet_bad("\"kernel_size\": [3, 3]", "\"kernel_size\": [3, 1]", THAW_EINVAL, "3x1 window");
}

void test_tfjs_bad_channels_first(void)
{
    convnet_bad("\"channels_last\"", "\"channels_first\"", THAW_EINVAL, "channels_first");
}

void test_tfjs_bad_batchnorm_axis(void)
{
    convnet_bad("\"axis\": -1", "\"axis\": 1", THAW_EINVAL, "normalises axis 1");
}

void test_tfjs_bad_reshape(void)
{
    convnet_bad("\"class_name\": \"Flatten\", \"config\": {\"name\": \"flatten\"}",
                "\"class_name\": \"Reshape\", \"config\": {\"target_shape\": [2, 2, 16], "
                "\"name\": \"flatten\"}", THAW_EINVAL, "reshapes only between a vector");
}

void test_tfjs_bad_shared_layer(void)
{
    convnet_bad("[[[\"conv\", 0, 0, {}]]]", "[[[\"conv\", 0, 0, {}]], [[\"conv\", 0, 0, {}]]]",
                THAW_EINVAL, "layer 'conv_bn' (BatchNormalization) is called 2 times");
}

void test_tfjs_bad_unknown_inbound(void)
{
    convnet_bad("[[[\"conv_bn\", 0, 0, {}]]]", "[[[\"nothing\", 0, 0, {}]]]", THAW_EFORMAT,
                "no layer 'nothing'");
}

void test_tfjs_bad_cycle(void)
{
    convnet_bad("[[[\"input_1\", 0, 0, {}]]]", "[[[\"dense\", 0, 0, {}]]]", THAW_EFORMAT,
                "cycle");
}

void test_tfjs_bad_two_outputs(void)
{
    convnet_bad("\"output_layers\": [[\"dense\", 0, 0]]",
                "\"output_layers\": [[\"dense\", 0, 0], [\"pool\", 0, 0]]", THAW_EINVAL,
                "2 outputs");
}

void test_tfjs_bad_dead_layer(void)
{
    convnet_bad("\"output_layers\": [[\"dense\", 0, 0]]", "\"output_layers\": [[\"dropout\", 0, 0]]",
                THAW_EINVAL, "layer 'dense' (Dense) does not lead to the model's output");
}

void test_tfjs_bad_softmax_in_the_middle(void)
{
    convnet_bad("\"activation\": \"relu\"", "\"activation\": \"softmax\"", THAW_EINVAL,
                "applies softmax before the end");
}

void test_tfjs_bad_input_size_unknown(void)
{
    convnet_bad("[null, 8, 8, 3]", "[null, null, null, 3]", THAW_EINVAL, "--input");
}

void test_tfjs_bad_branches_cross(void)
{
    import_case c = { .fixture = "residual", .from = "\"name\": \"b2_short\", \"inbound_nodes\": "
                      "[[[\"b1_add\"", .to = "\"name\": \"b2_short\", \"inbound_nodes\": "
                      "[[[\"b1_relu\"" };
    import_bad(&c, THAW_EINVAL, "feeds layers in two blocks");
}

void test_tfjs_bad_multiply_two_branches(void)
{
    import_case c = { .fixture = "residual", .from = "\"class_name\": \"Add\", \"config\": "
                      "{\"name\": \"b2_add\"", .to = "\"class_name\": \"Multiply\", \"config\": "
                      "{\"name\": \"b2_add\"" };
    import_bad(&c, THAW_EINVAL, "multiplies two computed branches");
}

void test_tfjs_bad_hard_sigmoid_unfoldable(void)
{
    NEED_MOBILENET_LAYERS();
    import_case c = { .fixture = "residual", .from = "\"activation\": \"sigmoid\"",
                      .to = "\"activation\": \"hard_sigmoid\"" };
    import_bad(&c, THAW_EINVAL, "layer 'act' (Activation) is Keras 2's hard_sigmoid");
}

void test_tfjs_bad_hard_sigmoid_after_activation(void)
{
    /* relu6(1.2x) is not 1.2 relu6(x): a layer with an activation of its own cannot take the 1.2. */
    convnet_bad("\"class_name\": \"BatchNormalization\", \"config\": {\"axis\": -1, \"epsilon\": "
                "0.001, \"momentum\": 0.99, \"name\": \"conv_bn\"}",
                "\"class_name\": \"Activation\", \"config\": {\"activation\": \"hard_sigmoid\", "
                "\"name\": \"conv_bn\"}", THAW_EINVAL,
                "layer 'conv_bn' (Activation) is Keras 2's hard_sigmoid");
}

void test_tfjs_bad_rescaling_in_a_branch(void)
{
    /* thaw normalises the whole input: a Rescaling that only a branch sees has no place. */
    import_case c = {
        .fixture = "residual",
        .from = "{\"class_name\": \"Conv2D\", \"config\": {\"filters\": 4, \"kernel_size\": 1, "
                "\"name\": \"b1_expand\"}",
        .to = "{\"class_name\": \"Rescaling\", \"config\": {\"scale\": 2.0, \"name\": \"rs\"}, "
              "\"name\": \"rs\", \"inbound_nodes\": [[[\"stem\", 0, 0, {}]]]}, {\"class_name\": "
              "\"Conv2D\", \"config\": {\"filters\": 4, \"kernel_size\": 1, \"name\": \"b1_expand\"}",
        .from2 = "\"name\": \"b1_expand\", \"inbound_nodes\": [[[\"stem\"",
        .to2 = "\"name\": \"b1_expand\", \"inbound_nodes\": [[[\"rs\"",
    };
    import_bad(&c, THAW_EINVAL, "layer 'rs' (Rescaling) rescales in the middle of the model");
}

void test_tfjs_bad_padding_before_pool(void)
{
    NEED_MOBILENET_LAYERS();
    import_case c = { .fixture = "mobile", .from = "\"class_name\": \"DepthwiseConv2D\"",
                      .to = "\"class_name\": \"MaxPooling2D\"" };
    import_bad(&c, THAW_EINVAL, "pads zeros before 'conv_dw_1' (MaxPooling2D)");
}

void test_tfjs_bad_shard_traversal(void)
{
    convnet_bad("\"group2-shard1of1\"", "\"../group2-shard1of1\"", THAW_EFORMAT,
                "expected a file name beside model.json");
}

void test_tfjs_bad_shard_absolute(void)
{
    convnet_bad("\"group2-shard1of1\"", "\"/shards/group2-shard1of1\"", THAW_EFORMAT,
                "'/shards/group2-shard1of1'");
}

void test_tfjs_bad_shard_in_folder(void)
{
    convnet_bad("\"group2-shard1of1\"", "\"sub/group2-shard1of1\"", THAW_EFORMAT, "no folders");
}

void test_tfjs_bad_shard_hidden(void)
{
    convnet_bad("\"group2-shard1of1\"", "\"./.group2\"", THAW_EFORMAT, "not starting with '.'");
}

void test_tfjs_bad_shard_missing(void)
{
    convnet_bad("\"group2-shard1of1\"", "\"group9-shard1of1\"", THAW_EIO, "cannot open");
}

void test_tfjs_bad_shard_short(void)
{
    static uint8_t bytes[1296];
    import_case c = { .fixture = "convnet", .shard = "group2-shard1of1", .bytes = bytes,
                      .len = sizeof bytes };
    import_bad(&c, THAW_EFORMAT, "its shards hold 1296 bytes; its weights need 1300");
}

void test_tfjs_bad_shard_long(void)
{
    static uint8_t bytes[1304];
    import_case c = { .fixture = "convnet", .shard = "group2-shard1of1", .bytes = bytes,
                      .len = sizeof bytes };
    import_bad(&c, THAW_EFORMAT, "holds more than the 1300 bytes");
}

void test_tfjs_bad_weight_nan(void)
{
    static uint8_t bytes[1300];
    memset(bytes, 0, sizeof bytes);
    bytes[8] = 0x00, bytes[9] = 0x00, bytes[10] = 0xC0, bytes[11] = 0x7F;   /* element 2: NaN */
    import_case c = { .fixture = "convnet", .shard = "group2-shard1of1", .bytes = bytes,
                      .len = sizeof bytes };
    import_bad(&c, THAW_ENONFINITE, "weight 'dense/kernel': element 2 is NaN");
}

void test_tfjs_bad_weight_dtype(void)
{
    convnet_bad("\"name\": \"dense/kernel\", \"shape\": [64, 5], \"dtype\": \"float32\"",
                "\"name\": \"dense/kernel\", \"shape\": [64, 5], \"dtype\": \"int32\"", THAW_EINVAL,
                "weight 'dense/kernel' is int32");
}

void test_tfjs_bad_quantisation_dtype(void)
{
    convnet_bad("\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\"",
                "\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\", \"quantization\": "
                "{\"dtype\": \"uint32\", \"scale\": 1, \"min\": 0}", THAW_EINVAL, "'uint32'");
}

void test_tfjs_bad_quantisation_no_scale(void)
{
    convnet_bad("\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\"",
                "\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\", \"quantization\": "
                "{\"dtype\": \"uint8\", \"min\": 0}", THAW_EFORMAT, "quantization.scale: missing");
}

void test_tfjs_bad_quantisation_unknown_key(void)
{
    convnet_bad("\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\"",
                "\"name\": \"dense/bias\", \"shape\": [5], \"dtype\": \"float32\", \"quantization\": "
                "{\"dtype\": \"uint8\", \"scale\": 1, \"min\": 0, \"zero\": 3}", THAW_EFORMAT,
                "unknown key 'zero'");
}

void test_tfjs_bad_shape_negative(void)
{
    convnet_bad("\"shape\": [64, 5]", "\"shape\": [64, -5]", THAW_EFORMAT, "shape[1]");
}

void test_tfjs_bad_shape_overflow(void)
{
    convnet_bad("\"shape\": [64, 5]", "\"shape\": [65536, 65536, 65536, 65536]", THAW_EFORMAT,
                "more than 134217728 elements");
}

void test_tfjs_bad_rank(void)
{
    convnet_bad("\"shape\": [64, 5]", "\"shape\": [1, 1, 1, 64, 5]", THAW_EFORMAT,
                "expected 0 to 4 elements");
}

void test_tfjs_bad_weight_missing(void)
{
    convnet_bad("\"dense/bias\"", "\"dense/offset\"", THAW_EFORMAT,
                "the manifest has no weight 'dense/bias'");
}

void test_tfjs_bad_weight_extra(void)
{
    convnet_bad("\"activation\": \"softmax\", \"use_bias\": true",
                "\"activation\": \"softmax\", \"use_bias\": false", THAW_EFORMAT,
                "weight 'dense/bias' belongs to no layer");
}

void test_tfjs_bad_weight_shape(void)
{
    convnet_bad("\"shape\": [64, 5]", "\"shape\": [32, 10]", THAW_EFORMAT,
                "weight 'dense/kernel' is [32, 10]; layer 'dense' (Dense) needs [64, 5]");
}

void test_tfjs_bad_weight_twice(void)
{
    convnet_bad("\"conv/bias\"", "\"conv/kernel\"", THAW_EFORMAT,
                "two weights are named 'conv/kernel'");
}

void test_tfjs_bad_labels_count(void)
{
    import_case c = { .fixture = "convnet", .labels = "[\"a\", \"b\"]" };
    import_bad(&c, THAW_EINVAL, "2 class names; the model has 5 outputs");
}

void test_tfjs_bad_labels_not_text(void)
{
    import_case c = { .fixture = "convnet", .labels = "[1, 2, 3, 4, 5]" };
    import_bad(&c, THAW_EFORMAT, "labels[0]");
}

void test_tfjs_bad_file_too_large(void)
{
    size_t len = TFJS_JSON_MAX + 1;
    char *big = malloc(len);
    CHECK(big != NULL);
    memset(big, ' ', len);
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    int rc = tfjs_import_mem(&meta, &m, NULL, big, len, "big.json", read_shard, NULL, NULL, 0, NULL,
                             NULL, &err);
    free(big);
    CHECKF(rc == THAW_EFORMAT && strstr(err.msg, "expected at most"), "%s", err.msg);
}

/* Writes into out a model.json whose text repeats `unit` n times between
 * head and tail. */
static char *repeated(const char *head, const char *unit, const char *sep, int n, const char *tail,
                      size_t *len)
{
    size_t cap = strlen(head) + (size_t)n * (strlen(unit) + strlen(sep)) + strlen(tail) + 1;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    size_t o = (size_t)snprintf(s, cap, "%s", head);
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, cap - o, "%s%s", i ? sep : "", unit);
    o += (size_t)snprintf(s + o, cap - o, "%s", tail);
    *len = o;
    return s;
}

static void text_bad(char *json, size_t len, int code, const char *want)
{
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECK(json != NULL);
    shard_src src = { DATA "convnet/", NULL, NULL, 0 };
    int rc = tfjs_import_mem(&meta, &m, NULL, json, len, "made.json", read_shard, &src, NULL, 0,
                             NULL, NULL, &err);
    free(json);
    if (rc == THAW_OK) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    CHECKF(rc == code && strstr(err.msg, want), "got %d \"%s\"; expected %d with \"%s\"", rc,
           err.msg, code, want);
}

void test_tfjs_bad_deep_json(void)
{
    size_t len = 0;
    char *json = repeated("{\"modelTopology\": ", "[", "", 100, "", &len);
    text_bad(json, len, THAW_EFORMAT, "nested more than 64 deep");
}

void test_tfjs_bad_models_too_deep(void)
{
    /* Ten Sequentials, one inside the next, around a dropout. */
    size_t len = 0, cap = 4096;
    char *json = malloc(cap);
    CHECK(json != NULL);
    len += (size_t)snprintf(json + len, cap - len, "{\"weightsManifest\": [], \"modelTopology\": ");
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(json + len, cap - len, "{\"class_name\": \"Sequential\", "
                                "\"config\": {\"name\": \"s%d\", \"layers\": [", i);
    len += (size_t)snprintf(json + len, cap - len, "{\"class_name\": \"Dropout\", \"config\": "
                            "{\"name\": \"d\", \"batch_input_shape\": [null, 4]}}");
    for (int i = 0; i < 10; i++)
        len += (size_t)snprintf(json + len, cap - len, "]}}");
    len += (size_t)snprintf(json + len, cap - len, "}");
    text_bad(json, len, THAW_EFORMAT, "models nested more than 8 deep");
}

void test_tfjs_bad_too_many_layers(void)
{
    size_t len = 0;
    char *json = repeated("{\"weightsManifest\": [], \"modelTopology\": {\"class_name\": "
                          "\"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [{\"class_name\": "
                          "\"InputLayer\", \"config\": {\"name\": \"in\", \"batch_input_shape\": "
                          "[null, 4]}}, ",
                          "{\"class_name\": \"Dropout\", \"config\": {\"name\": \"d\"}}", ", ",
                          TFJS_LAYERS_MAX + 1, "]}}}", &len);
    text_bad(json, len, THAW_EFORMAT, "more than 4096");
}

/* ---- the real MobileNet v1 0.25 --------------------------------------------------- */

/* The folder of the shared pretrained weights, or NULL. */
static const char *pretrained(char *buf, size_t cap)
{
    const char *env = getenv("THAW_PRETRAINED");
    snprintf(buf, cap, "%s", env && env[0] ? env : "../shared/pretrained");
    char probe[600];
    snprintf(probe, sizeof probe, "%s/mobilenet_v1_0.25_224/model.json", buf);
    return access(probe, R_OK) == 0 ? buf : NULL;
}

#define NEED_PRETRAINED(dir)                                                                  \
    do {                                                                                      \
        NEED_MOBILENET_LAYERS();                                                              \
        if (!pretrained(dir, sizeof dir)) {                                                   \
            test_skip("no MobileNet v1 0.25 weights: set THAW_PRETRAINED to the folder that " \
                      "holds mobilenet_v1_0.25_224/ (see README, importing)");                \
            return;                                                                           \
        }                                                                                     \
    } while (0)

static int import_mobilenet(const char *dir, mf_meta *meta, model *m, thaw_err *err)
{
    char path[600], labels[600];
    snprintf(path, sizeof path, "%s/mobilenet_v1_0.25_224/model.json", dir);
    snprintf(labels, sizeof labels, "%s/imagenet_classes.json", dir);
    tfjs_opts o = { .labels = labels };
    return tfjs_import(meta, m, NULL, path, &o, err);
}

/* Class of the photo's top prediction and its probability. */
static int photo_top(const char *dir, const char *photo, const mf_meta *meta, model *m,
                     predict_hit *top, float *x, float *p, thaw_err *err)
{
    char path[600];
    snprintf(path, sizeof path, "%s/photos/%s", dir, photo);
    int rc = predict_load(x, meta, path, err);
    if (rc == THAW_OK && (rc = predict_run(m, x, p, err)) == THAW_OK)
        predict_top(p, m->classes, top, 1);
    return rc;
}

void test_tfjs_mobilenet_v1_real(void)
{
    char dir[512];
    NEED_PRETRAINED(dir);
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_mobilenet(dir, &meta, &m, &err) == THAW_OK, "%s", err.msg);
    float *x = malloc(sizeof(float) * 3 * 224 * 224), *p = malloc(sizeof(float) * 1000);
    size_t all = 0;
    for (int i = 0; i < m.nslice; i++)
        all += m.slice[i].len;
    EXPECTF(all == 475544 && model_count(&m, 0) == 470072, "%zu values, %zu parameters", all,
            model_count(&m, 0));
    EXPECT(m.root->nchild == 17 && !strcmp(m.root->child[0]->name, "conv1") &&
           !strcmp(m.root->child[13]->name, "block_13") &&
           !strcmp(m.root->child[16]->name, "conv_preds") && meta.nclass == 1000);
    EXPECT(model_find(&m, "block_7.conv_dw_7") && model_find(&m, "block_7.conv_pw_7_bn"));
    /* The README's reference resizes in 8 bits (PIL): 0.355 and 0.93; in
     * floats, as thaw resizes, PIL gives 0.367 and 0.930. */
    predict_hit top;
    EXPECTF(photo_top(dir, "chelsea.png", &meta, &m, &top, x, p, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(!strcmp(meta.class_name[top.cls], "Egyptian cat") && top.p > 0.33f && top.p < 0.40f,
            "chelsea.png: %s %.3f", meta.class_name[top.cls], (double)top.p);
    EXPECTF(photo_top(dir, "coffee.png", &meta, &m, &top, x, p, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(!strcmp(meta.class_name[top.cls], "espresso") && top.p > 0.90f && top.p < 0.96f,
            "coffee.png: %s %.3f", meta.class_name[top.cls], (double)top.p);
done:
    free(x);
    free(p);
    mf_meta_free(&meta);
    model_free(&m);
}

void test_tfjs_mobilenet_v1_matches_numpy(void)
{
    char dir[512];
    NEED_PRETRAINED(dir);
    if (access("/usr/bin/python3", X_OK) || system("/usr/bin/python3 -c 'import numpy' 2>/dev/null")) {
        test_skip("no /usr/bin/python3 with numpy for the reference pass (apt-get install "
                  "python3-numpy)");
        return;
    }
    if (strchr(dir, '\'')) {
        test_skip("THAW_PRETRAINED holds a quote");
        return;
    }
    mf_meta meta;
    model m;
    thaw_err err = { 0 };
    CHECKF(import_mobilenet(dir, &meta, &m, &err) == THAW_OK, "%s", err.msg);
    char tmp[256], in[300], out[300], cmd[2048], line[256] = "";
    snprintf(tmp, sizeof tmp, "%s/thaw-mobilenet-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    float *x = malloc(sizeof(float) * 3 * 224 * 224), *p = malloc(sizeof(float) * 1000);
    predict_hit top;
    FILE *f = NULL;
    int rc = -1;
    EXPECT(x && p && mkdtemp(tmp));
    snprintf(in, sizeof in, "%s/input.f32", tmp);
    snprintf(out, sizeof out, "%s/logits.f32", tmp);
    EXPECTF(photo_top(dir, "chelsea.png", &meta, &m, &top, x, p, &err) == THAW_OK, "%s", err.msg);
    EXPECT((f = fopen(in, "wb")) && fwrite(x, sizeof(float), 3 * 224 * 224, f) == 3 * 224 * 224);
    fclose(f);
    EXPECT((f = fopen(out, "wb")) && fwrite(m.root->y, sizeof(float), 1000, f) == 1000);
    fclose(f);
    f = NULL;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/tfjs_reference.py "
             "'%s/mobilenet_v1_0.25_224/model.json' --input '%s' --compare '%s' --tol %g 2>&1",
             dir, in, out, TOLERANCE);
    EXPECT((f = popen(cmd, "r")) != NULL);
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    rc = pclose(f);
    f = NULL;
    EXPECTF(rc == 0, "the numpy reference disagrees: %s", line);
done:
    if (f)
        fclose(f);
    unlink(in);
    unlink(out);
    rmdir(tmp);
    free(x);
    free(p);
    mf_meta_free(&meta);
    model_free(&m);
}

/* ---- predict ------------------------------------------------------------------------ */

void test_predict_grey_photo_feeds_rgb(void)
{
    /* An 8x8 grey PNG for a 3x16x12 model: the three channels are the same
     * plane, enlarged, each normalised by its own mean and std. */
    mf_meta meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.file, sizeof meta.file, "rgb.json");
    meta.input = (shape3){ 3, 16, 12 };
    for (int c = 0; c < 3; c++)
        meta.mean[c] = 0.5, meta.std[c] = 0.25 * (c + 1);
    float x[3 * 16 * 12];
    thaw_err err = { 0 };
    CHECKF(predict_load(x, &meta, "tests/data/datasets/images/good/a_png/grey8.png", &err) ==
           THAW_OK, "%s", err.msg);
    for (int i = 0; i < 16 * 12; i++) {
        double p = x[i] * 0.25 + 0.5;                    /* back to [0, 1] */
        CHECK(p >= -1e-6 && p <= 1 + 1e-6);
        CHECK(fabs(x[16 * 12 + i] * 0.5 + 0.5 - p) < 1e-5);
        CHECK(fabs(x[2 * 16 * 12 + i] * 0.75 + 0.5 - p) < 1e-5);
    }
    meta.input.c = 2;
    CHECK(predict_load(x, &meta, "tests/data/datasets/images/good/a_png/grey8.png", &err) ==
          THAW_EINVAL);
    meta.input.c = 3;
    CHECK(predict_load(x, &meta, "tests/data/datasets/images/absent.png", &err) != THAW_OK &&
          strstr(err.msg, "absent.png"));
}

void test_predict_top_orders_classes(void)
{
    const float p[6] = { 0.1f, 0.3f, 0.05f, 0.3f, 0.2f, 0.05f };
    predict_hit top[4];
    CHECK(predict_top(p, 6, top, 4) == 4);
    CHECK(top[0].cls == 1 && top[1].cls == 3 && top[2].cls == 4 && top[3].cls == 0);
    CHECK(predict_top(p, 2, top, 4) == 2 && top[0].cls == 1 && top[1].cls == 0);
}

/* A folder is its images, and its sub-folders' one level deep, by path:
 * hidden files and other files left out, any case of .png/.jpg/.jpeg. */
void test_predict_files_of_a_folder(void)
{
    static const char *const want[] = {
        "tests/data/datasets/images/good/a_png/grey8.png", "tests/data/datasets/images/good/a_png/red12x10.png",
        "tests/data/datasets/images/good/b_jpeg/blue.jpg", "tests/data/datasets/images/good/b_jpeg/grey.JPEG",
        "tests/data/datasets/images/good/c_misc/grey16.png", "tests/data/datasets/images/good/c_misc/palette.png",
        "tests/data/datasets/images/good/c_misc/rgba.png",
    };
    enum { N = sizeof want / sizeof want[0] };
    char **f = NULL;
    int n = 0;
    thaw_err err = { 0 };
    EXPECTF(predict_files("tests/data/datasets/images/good/", &f, &n, &err) == THAW_OK, "%s", err.msg);
    EXPECTF(n == N, "%d files", n);
    for (int i = 0; i < N; i++)
        EXPECTF(!strcmp(f[i], want[i]), "file %d is %s, expected %s", i, f[i], want[i]);
    predict_files_free(f, n);
    /* A file, or a name that is not there, stays as given for predict_load. */
    EXPECTF(predict_files("tests/data/datasets/images/absent.png", &f, &n, &err) == THAW_OK, "%s", err.msg);
    EXPECT(n == 1 && !strcmp(f[0], "tests/data/datasets/images/absent.png"));
done:
    predict_files_free(f, n);
}

void test_predict_files_bad_folder_without_images(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/thaw-predict-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir));
    char **f = (char **)1;
    int n = -1;
    thaw_err err = { 0 };
    int rc = predict_files(dir, &f, &n, &err);
    rmdir(dir);
    CHECKF(rc == THAW_EINVAL && strstr(err.msg, dir) && strstr(err.msg, "no PNG or JPEG"), "%s", err.msg);
    CHECK(f == NULL && n == 0);
}
