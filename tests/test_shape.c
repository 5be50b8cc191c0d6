/* test_shape.c — models whose shapes do not chain, and the other ways of
 * building one wrongly: each fails with its code and a message that names
 * what is at fault. */
#include <string.h>

#include "model.h"
#include "registry.h"
#include "test.h"

/* Builds root on `in`; returns model_build's code, the message in err. */
static int try_build(layer *root, shape3 in, thaw_err *err)
{
    model m;
    memset(err, 0, sizeof *err);
    int rc = model_build(&m, root, in, 1, err);
    if (rc == THAW_OK)
        model_free(&m);
    return rc;
}

/* root = sequential "net" of the given children, NULL if one failed. */
static layer *chain(layer *a, layer *b, layer *c, layer *d)
{
    thaw_err err = {0};
    layer *root = sequential_new("net");
    layer *child[4] = { a, b, c, d };
    for (int i = 0; i < 4; i++) {
        if (!child[i])
            continue;
        if (!root) {
            layer_free(child[i]);
            continue;
        }
        if (layer_add(root, child[i], &err) != THAW_OK) {
            layer_free(root);
            root = NULL;
        }
    }
    return root;
}

static layer *seq2(const char *name, layer *a, layer *b)
{
    thaw_err err = {0};
    layer *s = sequential_new(name);
    if (!s) {
        layer_free(a);
        layer_free(b);
        return NULL;
    }
    if (layer_add(s, a, &err) || layer_add(s, b, &err)) {
        layer_free(s);
        return NULL;
    }
    return s;
}

/* A conv expecting 16 channels after one giving 32: both dotted paths. */
void test_shape_conv_channels(void)
{
    thaw_err err;
    layer *root = chain(seq2("features", conv2d_new("conv1", 3, 32, 3, 1, 1, 0),
                             conv2d_new("conv2", 16, 16, 3, 1, 1, 0)),
                        avgpool_new("pool"), linear_new("head", 16, 10, 1), NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 3, 8, 8 }, &err) == THAW_ESHAPE);
    CHECK(err.code == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "features.conv2") && strstr(err.msg, "features.conv1"), "%s", err.msg);
    CHECKF(strstr(err.msg, "16") && strstr(err.msg, "32"), "%s", err.msg);
}

/* Groups must divide both channel counts; the message names the layer. A
 * kernel that does not fit its uneven padding says the padding per side. */
void test_shape_conv_groups(void)
{
    thaw_err err = { 0 };
    const layer_ops *conv = layer_type_find("conv2d");
    double hp[LAYER_HP_MAX] = { 8, 12, 3, 1, 1, 1, 3, 1, 1, 1, 1 };
    CHECK(conv && layer_create(conv, "dw", hp, &err) == NULL && err.code == THAW_EINVAL);
    CHECKF(strstr(err.msg, "layer 'dw'") && strstr(err.msg, "groups = 3") &&
           strstr(err.msg, "in_channels (8)") && strstr(err.msg, "out_channels (12)"), "%s", err.msg);
    int bad = -1;
    CHECK(layer_hp_check(conv, hp, &bad, NULL) == THAW_EINVAL && bad == layer_hp_index(conv, "groups"));
    hp[6] = 4;
    layer *ok = layer_create(conv, "dw", hp, &err);
    CHECK(ok);
    layer_free(ok);
    CHECK(conv2d_grouped_new("dw", 6, 6, 3, 1, 4, (const int[4]){ 1, 1, 1, 1 }, 0) == NULL);
    CHECK(conv2d_grouped_new("dw", 6, 6, 3, 1, 6, (const int[4]){ 0, -1, 0, 1 }, 0) == NULL);
    layer *root = chain(conv2d_grouped_new("dw", 2, 2, 5, 1, 2, (const int[4]){ 0, 1, 2, 0 }, 0),
                        avgpool_new("pool"), linear_new("head", 2, 2, 1), NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 2, 3, 3 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "dw") && strstr(err.msg, "padding top 0, bottom 1, left 2, right 0"), "%s",
           err.msg);
}

/* A conv that does not fit what a residual block gives; and a block that
 * does not fit the layer before it. */
void test_shape_across_containers(void)
{
    thaw_err err, berr = {0};
    layer *root = chain(residual_new("stage1", 8, 8, 1, 0, &berr), conv2d_new("conv", 4, 4, 3, 1, 1, 0),
                        avgpool_new("pool"), linear_new("head", 4, 2, 1));
    CHECK(root);
    CHECK(try_build(root, (shape3){ 8, 6, 6 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "conv") && strstr(err.msg, "stage1"), "%s", err.msg);

    root = chain(conv2d_new("stem", 3, 8, 3, 1, 1, 0), residual_new("stage1", 16, 16, 1, 0, &berr),
                 avgpool_new("pool"), linear_new("head", 16, 2, 1));
    CHECK(root);
    CHECK(try_build(root, (shape3){ 3, 6, 6 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "stage1.conv1") && strstr(err.msg, "stem"), "%s", err.msg);
}

void test_shape_linear_in_features(void)
{
    thaw_err err;
    layer *root = chain(conv2d_new("conv", 1, 4, 3, 1, 1, 0), flatten_new("flat"),
                        linear_new("head", 100, 10, 1), NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 1, 4, 4 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "head") && strstr(err.msg, "flat"), "%s", err.msg);
    CHECKF(strstr(err.msg, "100") && strstr(err.msg, "64"), "%s", err.msg);

    root = chain(linear_new("fc1", 10, 6, 1), linear_new("fc2", 5, 2, 1), NULL, NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 10, 1, 1 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "fc2") && strstr(err.msg, "fc1"), "%s", err.msg);
}

void test_shape_kernel_too_big(void)
{
    thaw_err err;
    layer *root = chain(conv2d_new("conv", 1, 4, 5, 1, 0, 0), avgpool_new("pool"),
                        linear_new("head", 4, 2, 1), NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 1, 3, 3 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "conv") && strstr(err.msg, "5x5") && strstr(err.msg, "3x3"), "%s", err.msg);

    /* Not as the first layer: the message names the layer before too. */
    root = chain(conv2d_new("down", 1, 4, 3, 2, 0, 0), conv2d_new("conv", 4, 4, 3, 1, 0, 0),
                 avgpool_new("pool"), linear_new("head", 4, 2, 1));
    CHECK(root);
    CHECK(try_build(root, (shape3){ 1, 5, 6 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "conv") && strstr(err.msg, "down"), "%s", err.msg);

    root = chain(maxpool2d_new("pool", 4, 1, 0), flatten_new("flat"), NULL, NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 1, 3, 8 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "pool"), "%s", err.msg);

    /* Padding may make a big kernel fit: 5x5 with padding 1 on 3x3 gives 1x1. */
    root = chain(conv2d_new("conv", 1, 4, 5, 1, 1, 0), flatten_new("flat"), NULL, NULL);
    CHECK(root);
    CHECKF(try_build(root, (shape3){ 1, 3, 3 }, &err) == THAW_OK, "%s", err.msg);
}

/* The output must be one score per class. */
void test_shape_output_not_flat(void)
{
    thaw_err err;
    layer *root = chain(conv2d_new("conv", 1, 4, 3, 1, 1, 0), NULL, NULL, NULL);
    CHECK(root);
    CHECK(try_build(root, (shape3){ 1, 5, 5 }, &err) == THAW_ESHAPE);
    CHECKF(strstr(err.msg, "4x5x5"), "%s", err.msg);
}

void test_shape_residual_needs_projection(void)
{
    thaw_err err = {0};
    CHECK(residual_new("down", 8, 8, 2, 0, &err) == NULL);
    CHECK(err.code == THAW_EINVAL);
    CHECKF(strstr(err.msg, "down") && strstr(err.msg, "projection"), "%s", err.msg);

    memset(&err, 0, sizeof err);
    CHECK(residual_new("wider", 8, 16, 1, 0, &err) == NULL);
    CHECKF(err.code == THAW_EINVAL && strstr(err.msg, "wider"), "%s", err.msg);

    memset(&err, 0, sizeof err);
    layer *ok = residual_new("down", 8, 16, 2, 1, &err);
    CHECKF(ok != NULL, "%s", err.msg);
    layer_free(ok);
}

void test_shape_duplicate_names(void)
{
    thaw_err err = {0};
    layer *root = sequential_new("net"), *conv = conv2d_new("conv", 1, 1, 1, 1, 0, 0);
    EXPECT(root && conv);
    EXPECT(layer_add(root, relu_new("act"), &err) == THAW_OK);
    EXPECT(layer_add(root, relu_new("act"), &err) == THAW_EINVAL);
    EXPECTF(strstr(err.msg, "act") && strstr(err.msg, "net"), "%s", err.msg);
    EXPECT(root->nchild == 1);

    /* Only sequential containers take children. */
    memset(&err, 0, sizeof err);
    EXPECT(layer_add(conv, relu_new("act"), &err) == THAW_EINVAL);
    EXPECTF(strstr(err.msg, "act"), "%s", err.msg);
    EXPECT(conv->nchild == 0);

    /* A failed constructor reaches layer_add as NULL. */
    EXPECT(layer_add(root, NULL, &err) == THAW_ENOMEM);
done:
    layer_free(conv);
    layer_free(root);
}

void test_shape_bad_arguments(void)
{
    thaw_err err = {0};
    CHECK(conv2d_new("conv", 0, 4, 3, 1, 1, 0) == NULL);
    CHECK(conv2d_new("conv", 1, 4, 0, 1, 1, 0) == NULL);
    CHECK(conv2d_new("conv", 1, 4, 3, 0, 1, 0) == NULL);
    CHECK(conv2d_new("conv", 1, 4, 3, 1, -1, 0) == NULL);
    CHECK(batchnorm2d_new("bn", 0, 1e-5f, 0.1f) == NULL);
    CHECK(batchnorm2d_new("bn", 4, 0.0f, 0.1f) == NULL);
    CHECK(batchnorm2d_new("bn", 4, 1e-5f, 1.5f) == NULL);
    CHECK(maxpool2d_new("pool", 0, 1, 0) == NULL);
    CHECK(linear_new("fc", 0, 2, 1) == NULL);
    CHECK(dropout_new("drop", 1.0f) == NULL);
    CHECK(dropout_new("drop", -0.1f) == NULL);
    CHECK(relu_new("a.b") == NULL);
    CHECK(relu_new("") == NULL);
    CHECK(residual_new("block", 0, 4, 1, 1, &err) == NULL && err.code == THAW_EINVAL);
}

void test_shape_prepare_batch(void)
{
    thaw_err err = {0};
    model m;
    layer *root = chain(conv2d_new("conv", 1, 2, 3, 1, 1, 0), avgpool_new("pool"),
                        linear_new("head", 2, 3, 1), NULL);
    CHECK(root);
    CHECKF(model_build(&m, root, (shape3){ 1, 5, 5 }, 1, &err) == THAW_OK, "%s", err.msg);
    int zero = model_prepare(&m, 0, &err);
    int zero_code = err.code;
    int has_zero = strstr(err.msg, "0") != NULL;
    int negative = model_prepare(&m, -3, &err);
    int fine = model_prepare(&m, 2, &err);
    int again = model_prepare(&m, 5, &err);
    int batch = m.batch;
    model_free(&m);
    CHECK(zero == THAW_EINVAL && zero_code == THAW_EINVAL && has_zero);
    CHECK(negative == THAW_EINVAL);
    CHECK(fine == THAW_OK && again == THAW_OK && batch == 5);
}
