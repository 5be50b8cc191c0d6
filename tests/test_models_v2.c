/* test_models_v2.c — model format version 2: the shipped version 1 models
 * save as version 2 and come back bit for bit, a tree of every layer type
 * round-trips, and the general containers' bad inputs are refused by name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "modelfile.h"
#include "registry.h"
#include "safetensors.h"
#include "test.h"

static int v2_temp_dir(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, cap, "%s/thaw-v2-XXXXXX", tmp);
    return mkdtemp(dir) != NULL;
}

static void v2_remove(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
    unlink(path);
    rmdir(dir);
}

/* The same parameters, statistics and BatchNorm counts, bit for bit. */
static int v2_same_weights(const model *a, const model *b)
{
    if (a->nslice != b->nslice || a->nfloat != b->nfloat)
        return 0;
    for (int s = 0; s < a->nslice; s++)
        if (strcmp(a->slice[s].name, b->slice[s].name) || a->slice[s].frozen != b->slice[s].frozen ||
            memcmp(model_param(a, s), model_param(b, s), a->slice[s].len * sizeof(float)))
            return 0;
    for (int s = 0; s < a->nslice; s++) {
        const layer *la = a->slice[s].owner, *lb = b->slice[s].owner;
        if (layer_is_batchnorm(la) && batchnorm2d_tracked(la) != batchnorm2d_tracked(lb))
            return 0;
    }
    return 1;
}

/* Both models' logits on the same seeded batch, evaluation and training
 * mode, equal bit for bit. */
static int v2_same_outputs(model *a, model *b)
{
    enum { B = 3 };
    thaw_err err = { 0 };
    size_t n = (size_t)B * shape3_count(a->in);
    float *x = malloc(n * sizeof *x);
    int same = x && model_prepare(a, B, &err) == THAW_OK && model_prepare(b, B, &err) == THAW_OK;
    rng r = rng_seeded(11);
    for (size_t i = 0; same && i < n; i++)   /* token ids 0..4 for a text model */
        x[i] = a->seq ? (float)(rng_next(&r) % 5) : 2.0f * rng_uniform(&r) - 1.0f;
    b->rng = a->rng;   /* the same dropout masks */
    for (int train = 0; same && train < 2; train++) {
        model_forward(a, x, B, train);
        model_forward(b, x, B, train);
        same = !memcmp(a->root->y, b->root->y, (size_t)B * a->classes * sizeof(float));
    }
    free(x);
    return same;
}

/* Loads path, saves it in a fresh folder (as version 2), loads that back. */
static void v2_round_trip(const char *path)
{
    thaw_err err = { 0 };
    mf_meta meta, back;
    model m, m2;
    char dir[256], out[512];
    CHECKF(mf_load(&meta, &m, path, NULL, &err) == THAW_OK, "%s", err.msg);
    CHECK(v2_temp_dir(dir, sizeof dir));
    snprintf(out, sizeof out, "%s/again.json", dir);
    int rc = mf_save(out, &meta, &m, &err);
    char *text = NULL;
    size_t len = 0;
    int v2 = rc == THAW_OK && fio_read(out, MF_JSON_MAX, &text, &len, &err) == THAW_OK &&
             (strstr(text, "\"version\": 2") || strstr(text, "\"version\":\t2")) && strstr(text, "\"body\":") &&
             strstr(text, "\"shortcut\":") && !strstr(text, "\"projection\"");
    free(text);
    int loaded = rc == THAW_OK && mf_load(&back, &m2, out, NULL, &err) == THAW_OK;
    int same = loaded && v2_same_weights(&m, &m2) && v2_same_outputs(&m, &m2);
    /* The weights file holds exactly the version 1 file's tensors. */
    st_file f1, f2;
    char w1[512], w2[512];
    snprintf(w1, sizeof w1, "%.*s.safetensors", (int)(strlen(path) - 5), path);
    snprintf(w2, sizeof w2, "%s/again.safetensors", dir);
    int names = st_read(&f1, w1, &err) == THAW_OK;
    if (names && st_read(&f2, w2, &err) == THAW_OK) {
        names = f1.ntensor == f2.ntensor;
        for (int i = 0; names && i < f1.ntensor; i++)
            names = st_find(&f2, f1.tensor[i].name) != NULL;
        st_free(&f2);
    } else {
        names = 0;
    }
    st_free(&f1);
    if (loaded) {
        mf_meta_free(&back);
        model_free(&m2);
    }
    mf_meta_free(&meta);
    model_free(&m);
    v2_remove(dir, "again");
    CHECKF(rc == THAW_OK && loaded, "%s: %s", path, err.msg);
    CHECKF(v2, "%s: the save is not a version 2 file with general residual blocks", path);
    CHECKF(names, "%s: the version 2 weights do not hold the version 1 tensors", path);
    CHECKF(same, "%s: version 2 does not reproduce version 1's numbers bit for bit", path);
}

void test_mf_v2_shipped_round_trip(void)
{
    v2_round_trip("models/fashion-resnet.json");
    v2_round_trip("models/shapes-resnet.json");
}

/* A version 2 tree holding every layer type: MobileNet-style inverted
 * residual (a depthwise convolution padded as TensorFlow's "same"),
 * squeeze-and-excite gate, a basic block with a shortcut. */
static const char v2_every_type[] =
    "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"every.safetensors\","
    " \"input\": {\"channels\": 2, \"height\": 8, \"width\": 8, \"mean\": [0, 0], \"std\": [1, 1]},"
    " \"classes\": [\"a\", \"b\", \"c\"],"
    " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
    "  {\"name\": \"stem\", \"type\": \"conv2d\", \"in_channels\": 2, \"out_channels\": 4,"
    "   \"kernel_size\": 3, \"padding\": 1},"
    "  {\"name\": \"inv\", \"type\": \"residual\", \"body\": ["
    "    {\"name\": \"conv\", \"type\": \"sequential\", \"layers\": ["
    "      {\"name\": \"0\", \"type\": \"conv2d\", \"in_channels\": 4, \"out_channels\": 8, \"kernel_size\": 1},"
    "      {\"name\": \"1\", \"type\": \"batchnorm2d\", \"num_features\": 8},"
    "      {\"name\": \"2\", \"type\": \"silu\"},"
    "      {\"name\": \"dw\", \"type\": \"conv2d\", \"in_channels\": 8, \"out_channels\": 8,"
    "       \"kernel_size\": 3, \"groups\": 8, \"pad_top\": 1, \"pad_bottom\": 1, \"pad_left\": 0,"
    "       \"pad_right\": 2, \"bias\": false},"
    "      {\"name\": \"act\", \"type\": \"hardswish\"},"
    "      {\"name\": \"clip\", \"type\": \"relu6\"},"
    "      {\"name\": \"se\", \"type\": \"gate\", \"branch\": ["
    "        {\"name\": \"avgpool\", \"type\": \"avgpool\"},"
    "        {\"name\": \"fc1\", \"type\": \"conv2d\", \"in_channels\": 8, \"out_channels\": 2, \"kernel_size\": 1},"
    "        {\"name\": \"relu\", \"type\": \"relu\"},"
    "        {\"name\": \"fc2\", \"type\": \"conv2d\", \"in_channels\": 2, \"out_channels\": 8, \"kernel_size\": 1},"
    "        {\"name\": \"gate\", \"type\": \"hardsigmoid\"}]},"
    "      {\"name\": \"se2\", \"type\": \"gate\", \"branch\": ["
    "        {\"name\": \"avgpool\", \"type\": \"avgpool\"},"
    "        {\"name\": \"sig\", \"type\": \"sigmoid\"}]},"
    "      {\"name\": \"3\", \"type\": \"conv2d\", \"in_channels\": 8, \"out_channels\": 4, \"kernel_size\": 1}]}]},"
    "  {\"name\": \"block\", \"type\": \"residual\", \"activation\": \"relu\", \"body\": ["
    "    {\"name\": \"conv1\", \"type\": \"conv2d\", \"in_channels\": 4, \"out_channels\": 6,"
    "     \"kernel_size\": 3, \"stride\": 2, \"padding\": 1, \"bias\": false}],"
    "   \"shortcut\": {\"name\": \"downsample\", \"type\": \"conv2d\", \"in_channels\": 4,"
    "     \"out_channels\": 6, \"kernel_size\": 1, \"stride\": 2}},"
    "  {\"name\": \"pool1\", \"type\": \"maxpool2d\", \"kernel_size\": 2},"
    "  {\"name\": \"flat\", \"type\": \"flatten\"},"
    "  {\"name\": \"drop\", \"type\": \"dropout\", \"p\": 0.2},"
    "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 24, \"out_features\": 3}]}}";

static void v2_types_seen(const mf_node *n, int *seen)
{
    for (int t = 0; t < LAYER_TYPE_COUNT; t++)
        seen[t] |= layer_type_at(t) == n->type;
    for (int i = 0; i < n->nchild; i++)
        v2_types_seen(&n->child[i], seen);
    if (n->side)
        v2_types_seen(n->side, seen);
}

/* The text layer types, which read token ids and so cannot share the
 * image tree: a bag of embeddings beside a convolution over words. */
static const char v2_every_text_type[] =
    "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"every.safetensors\","
    " \"input\": {\"channels\": 1, \"height\": 1, \"width\": 6, \"mean\": [0], \"std\": [1]},"
    " \"classes\": [\"a\", \"b\"],"
    " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
    "  {\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 5, \"embedding_dim\": 4},"
    "  {\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 4, \"out_channels\": 3,"
    "   \"kernel_size\": 3, \"padding\": 1},"
    "  {\"name\": \"mean\", \"type\": \"seqmean\"},"
    "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 3, \"out_features\": 2}]}}";

static const char v2_every_text_max[] =
    "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"every.safetensors\","
    " \"input\": {\"channels\": 1, \"height\": 1, \"width\": 6, \"mean\": [0], \"std\": [1]},"
    " \"classes\": [\"a\", \"b\"],"
    " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
    "  {\"name\": \"embed\", \"type\": \"embedding\", \"num_embeddings\": 5, \"embedding_dim\": 4,"
    "   \"padding_idx\": -1},"
    "  {\"name\": \"widths\", \"type\": \"concat\", \"branches\": ["
    "    {\"name\": \"w2\", \"type\": \"sequential\", \"layers\": ["
    "      {\"name\": \"conv\", \"type\": \"conv1d\", \"in_channels\": 4, \"out_channels\": 3,"
    "       \"kernel_size\": 2},"
    "      {\"name\": \"max\", \"type\": \"seqmax\"}]},"
    "    {\"name\": \"max\", \"type\": \"seqmax\"}]},"
    "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 7, \"out_features\": 2}]}}";

/* Parses, builds, saves and loads back one tree, marking the types it holds. */
static int v2_every_case(const char *json, size_t len, int *seen)
{
    thaw_err err = { 0 };
    mf_meta meta, back;
    model m, m2;
    char dir[256], out[512];
    if (mf_parse(&meta, json, len, "every.json", &err) != THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    v2_types_seen(meta.arch, seen);
    if (mf_build(&m, &meta, 5, &err) != THAW_OK) {
        mf_meta_free(&meta);
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    int ok = v2_temp_dir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/every.json", dir);
    int rc = ok ? mf_save(out, &meta, &m, &err) : THAW_EIO;
    int loaded = rc == THAW_OK && mf_load(&back, &m2, out, NULL, &err) == THAW_OK;
    ok = loaded && v2_same_weights(&m, &m2) && v2_same_outputs(&m, &m2);
    if (loaded) {
        ok = ok && (!m.seq || model_find(&m2, "embed")) &&
             (m.seq || (model_find(&m2, "inv.conv.se.fc2") && model_find(&m2, "block.downsample") &&
                        model_slice(&m2, "block.downsample.bias")));
        mf_meta_free(&back);
        model_free(&m2);
    } else {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
    }
    mf_meta_free(&meta);
    model_free(&m);
    v2_remove(dir, "every");
    return ok;
}

void test_mf_v2_every_type(void)
{
    int seen[LAYER_TYPE_COUNT] = { 0 }, all = 1;
    CHECK(v2_every_case(v2_every_type, sizeof v2_every_type - 1, seen));
    CHECK(v2_every_case(v2_every_text_type, sizeof v2_every_text_type - 1, seen));
    CHECK(v2_every_case(v2_every_text_max, sizeof v2_every_text_max - 1, seen));
    for (int t = 0; t < LAYER_TYPE_COUNT; t++) {
        if (!seen[t])
            test_failed(__FILE__, __LINE__, "no tree holds a %s", layer_type_at(t)->type);
        all &= seen[t];
    }
    CHECK(all);
}

/* An interpreter that has PyTorch (THAW_PYTHON, python3 or Debian's
 * /usr/bin/python3, where python3-torch installs), or NULL. */
static const char *v2_torch_python(void)
{
    const char *cand[] = { getenv("THAW_PYTHON"), "python3", "/usr/bin/python3" };
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        char cmd[512];
        if (!cand[i] || !*cand[i])
            continue;
        snprintf(cmd, sizeof cmd, "%s -c 'import torch' >/dev/null 2>&1", cand[i]);
        if (system(cmd) == 0)
            return cand[i];
    }
    return NULL;
}

/* The PyTorch bridge (examples/pytorch/thaw_torch.py) knows every layer
 * type and computes what thaw computes: the tree of every type, saved,
 * gives PyTorch's logits on the bridge's batch. Skipped, saying so, where
 * PyTorch is not installed. */
void test_bridge_every_type(void)
{
    const char *py = v2_torch_python();
    if (!py) {
        printf("    skipped: no python3 with PyTorch (Debian: python3-torch; or set THAW_PYTHON)\n");
        return;
    }
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    char dir[256] = "", json[512], out[512] = "", cmd[2048];
    st_file f;
    int have_f = 0;
    float *x = NULL;
    CHECKF(mf_parse(&meta, v2_every_type, sizeof v2_every_type - 1, "every.json", &err) == THAW_OK,
           "%s", err.msg);
    int rc = mf_build(&m, &meta, 9, &err);
    if (rc != THAW_OK)
        mf_meta_free(&meta);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    if (!v2_temp_dir(dir, sizeof dir))
        dir[0] = '\0';
    EXPECT(dir[0]);
    snprintf(json, sizeof json, "%s/every.json", dir);
    snprintf(out, sizeof out, "%s/logits.safetensors", dir);
    EXPECTF(mf_save(json, &meta, &m, &err) == THAW_OK, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "%s examples/pytorch/thaw_torch.py logits %s %s", py, json, out);
    EXPECTF(system(cmd) == 0, "%s failed", cmd);
    EXPECTF(st_read(&f, out, &err) == THAW_OK, "%s", err.msg);
    have_f = 1;
    const st_tensor *xt = st_find(&f, "input"), *yt = st_find(&f, "logits_eval");
    int B = xt && xt->ndim == 4 ? (int)xt->dim[0] : 0;
    EXPECT(B > 0 && xt->dtype == ST_F32 && xt->count == (uint64_t)B * shape3_count(m.in) && yt &&
           yt->dtype == ST_F32 && yt->count == (uint64_t)B * m.classes);
    EXPECT((x = malloc((xt->count + yt->count) * sizeof *x)) != NULL);
    float *want = x + xt->count;
    st_get_f32(&f, xt, x);
    st_get_f32(&f, yt, want);
    EXPECTF(model_prepare(&m, B, &err) == THAW_OK, "%s", err.msg);
    model_forward(&m, x, B, 0);
    double diff = 0, scale = 1e-12;
    for (uint64_t i = 0; i < yt->count; i++) {
        diff = fmax(diff, fabs((double)m.root->y[i] - want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    EXPECTF(diff <= 1e-4 * scale, "thaw and PyTorch differ by %g (largest logit %g)", diff, scale);
done:
    free(x);
    if (have_f)
        st_free(&f);
    mf_meta_free(&meta);
    model_free(&m);
    if (dir[0]) {
        unlink(out);
        v2_remove(dir, "every");
    }
}

/* A convolution's groups and padding per side are written only where they
 * differ from their defaults (1; `padding`), so that a file from before
 * they existed saves as it was; they read back as written. */
static const char v2_conv_keys[] =
    "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"c.safetensors\","
    " \"input\": {\"channels\": 2, \"height\": 8, \"width\": 8, \"mean\": [0, 0], \"std\": [1, 1]},"
    " \"classes\": [\"a\", \"b\"],"
    " \"architecture\": {\"type\": \"sequential\", \"layers\": ["
    "  {\"name\": \"plain\", \"type\": \"conv2d\", \"in_channels\": 2, \"out_channels\": 4,"
    "   \"kernel_size\": 3, \"padding\": 1, \"groups\": 1, \"pad_left\": 1},"
    "  {\"name\": \"dw\", \"type\": \"conv2d\", \"in_channels\": 4, \"out_channels\": 4,"
    "   \"kernel_size\": 3, \"stride\": 2, \"padding\": 1, \"pad_bottom\": 2, \"groups\": 4},"
    "  {\"name\": \"pool\", \"type\": \"avgpool\"}, {\"name\": \"flat\", \"type\": \"flatten\"},"
    "  {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 4, \"out_features\": 2}]}}";

void test_mf_v2_conv_keys_only_when_needed(void)
{
    thaw_err err = { 0 };
    mf_meta meta, back;
    char *text = NULL;
    size_t len = 0;
    CHECKF(mf_parse(&meta, v2_conv_keys, sizeof v2_conv_keys - 1, "c.json", &err) == THAW_OK, "%s",
           err.msg);
    int rc = mf_print(&meta, NULL, "c.safetensors", &text, &len, &err);
    const char *dw = rc == THAW_OK ? strstr(text, "\"dw\"") : NULL;
    int reread = dw && mf_parse(&back, text, len, "c.json", &err) == THAW_OK;
    int same = reread;
    for (int i = 0; same && i < 2; i++)
        same = !memcmp(meta.arch->child[i].hp, back.arch->child[i].hp, sizeof meta.arch->child[i].hp);
    if (reread)
        mf_meta_free(&back);
    mf_meta_free(&meta);
    EXPECTF(dw, "%s", err.msg);
    /* The plain convolution says nothing new; the depthwise one says its
     * groups and the side that differs. */
    EXPECTF(strstr(text, "\"groups\"") > dw && strstr(text, "\"pad_bottom\"") > dw &&
            !strstr(text, "\"pad_top\"") && !strstr(text, "\"pad_left\"") &&
            !strstr(text, "\"pad_right\""), "%s", text);
    EXPECTF(same, "%s", err.msg);
done:
    free(text);
}

/* The architecture node `node_json` inside a minimal version 2 file fails
 * to parse or build with a message holding `want`. */
static void v2_refused(const char *node_json, const char *want)
{
    char text[4096];
    int n = snprintf(text, sizeof text,
        "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"bad.safetensors\","
        " \"input\": {\"channels\": 2, \"height\": 4, \"width\": 4, \"mean\": [0, 0], \"std\": [1, 1]},"
        " \"classes\": [\"a\", \"b\"], \"architecture\": {\"type\": \"sequential\", \"layers\": [%s,"
        " {\"name\": \"pool\", \"type\": \"avgpool\"},"
        " {\"name\": \"head\", \"type\": \"linear\", \"in_features\": 2, \"out_features\": 2}]}}", node_json);
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    int rc = mf_parse(&meta, text, (size_t)n, "bad.json", &err);
    if (rc == THAW_OK) {
        rc = mf_build(&m, &meta, 1, &err);
        if (rc == THAW_OK)
            model_free(&m);
        mf_meta_free(&meta);
    }
    CHECKF(rc != THAW_OK && !strncmp(err.msg, "bad.json: ", 10) && strstr(err.msg, want),
           "got \"%s\"; expected \"%s\"", err.msg, want);
}

void test_mf_v2_bad_containers(void)
{
    static const char conv[] = "{\"name\": \"c\", \"type\": \"conv2d\", \"in_channels\": 2, "
                               "\"out_channels\": 2, \"kernel_size\": 3, \"padding\": 1}";
    char node[1024];
    snprintf(node, sizeof node, "{\"name\": \"r\", \"type\": \"residual\", \"activation\": "
             "\"gelu\", \"body\": [%s]}", conv);
    v2_refused(node, "architecture.layers[0].activation: \"gelu\"; expected one of: none, relu");
    v2_refused("{\"name\": \"r\", \"type\": \"residual\", \"in_channels\": 2, \"out_channels\": 2}",
               "architecture.layers[0]: unknown key 'in_channels'; expected one of: name, type, "
               "activation, body, shortcut");
    v2_refused("{\"name\": \"r\", \"type\": \"residual\", \"body\": []}",
               "architecture.layers[0].body: expected 1 to 4096 elements, got 0");
    snprintf(node, sizeof node, "{\"name\": \"r\", \"type\": \"residual\", \"body\": [%s], "
             "\"shortcut\": {\"name\": \"c\", \"type\": \"relu\"}}", conv);
    v2_refused(node, "architecture.layers[0].shortcut.name: 'c' is already the name of "
               "architecture.layers[0].body[0]");
    snprintf(node, sizeof node, "{\"name\": \"r\", \"type\": \"residual\", \"body\": [%s, "
             "{\"name\": \"p\", \"type\": \"maxpool2d\", \"kernel_size\": 2}]}", conv);
    v2_refused(node, "block r: the main path gives 2x2x2 but the shortcut gives 2x4x4");
    v2_refused("{\"name\": \"g\", \"type\": \"gate\", \"branch\": [{\"name\": \"f\", \"type\": "
               "\"conv2d\", \"in_channels\": 2, \"out_channels\": 3, \"kernel_size\": 1}]}",
               "gate g: the branch gives 3x4x4; expected 2x1x1 or 2x4x4");
    v2_refused("{\"name\": \"dw\", \"type\": \"conv2d\", \"in_channels\": 2, \"out_channels\": 3, "
               "\"kernel_size\": 3, \"groups\": 2}",
               "architecture.layers[0].groups: layer 'dw' (conv2d): groups = 2: expected a divisor "
               "of both in_channels (2) and out_channels (3)");
    v2_refused("{\"name\": \"s\", \"type\": \"silu\", \"body\": []}",
               "architecture.layers[0]: unknown key 'body'; expected one of: name, type");
}

/* Every tensor a layer declares is one its type names for PyTorch, in the
 * type's order (so the bridge and importers can rely on the names). */
void test_layer_types_name_their_tensors(void)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    CHECKF(mf_parse(&meta, v2_every_type, sizeof v2_every_type - 1, "every.json", &err) == THAW_OK,
           "%s", err.msg);
    int rc = mf_build(&m, &meta, 5, &err);
    mf_meta_free(&meta);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    int ok = 1;
    for (int s = 0; s < m.nslice && ok; s++) {
        const layer *l = m.slice[s].owner;
        const char *name = m.slice[s].name + strlen(l->path) + 1;
        int j = 0;
        while (l->ops->tensors && l->ops->tensors[j] && strcmp(l->ops->tensors[j], name))
            j++;
        /* The k-th tensor declared is the type's k-th or a later one (a
         * bias may be absent). */
        ok = l->ops->tensors && l->ops->tensors[j] && j >= s - l->slice0;
        CHECKF(ok, "%s: not among the tensors %s declares", m.slice[s].name, l->ops->type);
    }
    model_free(&m);
}

/* rc is THAW_EFORMAT with a and b in the message; else reported. */
static int ds_like_fails(int rc, const thaw_err *err, const char *a, const char *b)
{
    if (rc == THAW_EFORMAT && strstr(err->msg, a) && strstr(err->msg, b))
        return 1;
    test_failed(__FILE__, __LINE__, "expected a format error naming '%s' and '%s', got %d: %s", a, b,
                rc, err->msg);
    return 0;
}

/* A text model's vocabulary: saved beside as NAME.vocab and named in the
 * JSON, loaded and checked; a broken or oversized one is refused naming
 * the file and the line. */
static int v2_write(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

void test_mf_v2_vocabulary(void)
{
    thaw_err err = { 0 };
    mf_meta meta, back;
    model m, m2;
    char dir[256], out[512], vpath[512];
    CHECKF(mf_parse(&meta, v2_every_text_type, sizeof v2_every_text_type - 1, "t.json", &err) == THAW_OK,
           "%s", err.msg);
    int rc = mf_build(&m, &meta, 5, &err);
    if (rc) {
        mf_meta_free(&meta);
        CHECKF(0, "%s", err.msg);
    }
    static const char words[] = "<pad>\n<unk>\nthe\ncat\n";
    meta.vocab = strdup(words);
    meta.vocab_len = sizeof words - 1;
    int ok = meta.vocab && v2_temp_dir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/text.json", dir);
    snprintf(vpath, sizeof vpath, "%s/text.vocab", dir);
    ok = ok && mf_save(out, &meta, &m, &err) == THAW_OK;
    int loaded = ok && mf_load(&back, &m2, out, NULL, &err) == THAW_OK;
    int same = loaded && !strcmp(back.vocab_name, "text.vocab") && back.vocab_words == 4 &&
               back.vocab_len == meta.vocab_len && !memcmp(back.vocab, words, back.vocab_len);
    if (loaded) {
        mf_meta_free(&back);
        model_free(&m2);
    }
    mf_meta_free(&meta);
    model_free(&m);
    EXPECTF(ok && loaded, "%s", err.msg);
    EXPECT(same);
    /* More words than the embedding's 5 rows; a line that is no word; no file. */
    EXPECT(v2_write(dir, "text.vocab", "<pad>\n<unk>\na\nb\nc\nd\n"));
    EXPECT(ds_like_fails(mf_load(&back, &m2, out, NULL, &err), &err, "vocabulary", "6 words"));
    EXPECT(v2_write(dir, "text.vocab", "<pad>\n<unk>\na\n\n"));
    EXPECT(ds_like_fails(mf_load(&back, &m2, out, NULL, &err), &err, "text.vocab", "line 4"));
    EXPECT(v2_write(dir, "text.vocab", "<unk>\n<pad>\n"));
    EXPECT(ds_like_fails(mf_load(&back, &m2, out, NULL, &err), &err, "line 1", "<pad>"));
    unlink(vpath);
    rc = mf_load(&back, &m2, out, NULL, &err);
    EXPECTF(rc != THAW_OK && strstr(err.msg, "text.vocab"), "%d: %s", rc, err.msg);
    static const char bad_name[] =
        "{\"format\": \"thaw-model\", \"version\": 2, \"weights\": \"w.safetensors\","
        " \"vocabulary\": \"../v.vocab\","
        " \"input\": {\"channels\": 1, \"height\": 1, \"width\": 6, \"mean\": [0], \"std\": [1]},"
        " \"classes\": [\"a\"], \"architecture\": {\"type\": \"sequential\", \"layers\": []}}";
    EXPECT(ds_like_fails(mf_parse(&back, bad_name, sizeof bad_name - 1, "b.json", &err), &err,
                         "vocabulary", ".vocab"));
done:
    unlink(vpath);
    v2_remove(dir, "text");
}
