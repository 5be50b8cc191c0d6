/* test_models_bad.c — every rule the model-file loaders enforce, each with a
 * tiny file that breaks it (tests/data/models/, written by make_fixtures.py):
 * the load fails with a one-line message naming the file and the fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "modelfile.h"
#include "safetensors.h"
#include "test.h"

#define DATA "tests/data/models/"

/* The load failed, and its message starts with the file, holds `want` and
 * is one line. */
static int bad_message(int rc, const thaw_err *err, const char *file, const char *want)
{
    if (rc == THAW_OK) {
        test_failed(__FILE__, __LINE__, "%s loaded; expected an error with \"%s\"", file, want);
        return 0;
    }
    if (strncmp(err->msg, file, strlen(file)) || !strstr(err->msg, want) || strchr(err->msg, '\n')) {
        test_failed(__FILE__, __LINE__, "%s: got \"%s\"; expected \"%s\"", file, err->msg, want);
        return 0;
    }
    return 1;
}

static void st_bad(const char *name, const char *want)
{
    char path[256];
    snprintf(path, sizeof path, DATA "%s.safetensors", name);
    thaw_err err = { 0 };
    st_file f;
    int rc = st_read(&f, path, &err);
    if (rc == THAW_OK)
        st_free(&f);
    bad_message(rc, &err, path, want);
}

static void mf_bad(const char *name, const char *want, const char *culprit)
{
    char path[256];
    snprintf(path, sizeof path, DATA "%s.json", name);
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    int rc = mf_load(&meta, &m, path, NULL, &err);
    if (rc == THAW_OK) {
        mf_meta_free(&meta);
        model_free(&m);
    }
    if (culprit)   /* a weights case: the message names the weights file */
        snprintf(path, sizeof path, DATA "%s", culprit);
    bad_message(rc, &err, path, want);
}

#define ST_BAD(name, want) \
    void test_##name(void) { st_bad(#name, want); }
#define MF_BAD(name, want) \
    void test_mf_##name(void) { mf_bad(#name, want, NULL); }
#define MF_BAD_WEIGHTS(name, want) \
    void test_mf_##name(void) { mf_bad(#name, want, #name ".safetensors"); }

/* safetensors container (reliability checklist §1.4) */
ST_BAD(st_too_small, "too small")
ST_BAD(st_header_too_large, "header length 9223372036854775808; expected at most")
ST_BAD(st_header_huge, "header length 18446744073709551615; expected at most")
ST_BAD(st_header_overruns, "runs past the end of the file")
ST_BAD(st_not_utf8, "not valid UTF-8")
ST_BAD(st_overlong_utf8, "not valid UTF-8")
ST_BAD(st_bom, "byte order mark")
ST_BAD(st_not_json, "byte 1: unexpected end of JSON")
ST_BAD(st_header_array, "expected a JSON object")
ST_BAD(st_header_number, "expected a JSON object")
ST_BAD(st_trailing_garbage, "text after the JSON object")
ST_BAD(st_deep_nesting, "nested more than 4 deep")
ST_BAD(st_unknown_dtype, "'a'.dtype: unknown dtype; expected one of: BOOL")
ST_BAD(st_lowercase_dtype, "unknown dtype")
ST_BAD(st_dtype_number, "unknown dtype (not a string)")
ST_BAD(st_shape_negative, "'a'.shape[0]: expected an integer from 0 to 281474976710655, got -1")
ST_BAD(st_shape_fraction, "got 2.5")
ST_BAD(st_shape_string, "got a string")
ST_BAD(st_shape_null, "got null")
ST_BAD(st_shape_too_big, "got 281474976710656")
ST_BAD(st_shape_overflow, "overflows 64 bits")
ST_BAD(st_rank_too_high, "'a'.shape: expected 0 to 8 elements")
ST_BAD(st_offsets_one, "data_offsets: expected 2 to 2 elements, got 1")
ST_BAD(st_offsets_three, "data_offsets: expected 2 to 2 elements, got more than 2")
ST_BAD(st_offsets_negative, "data_offsets[0]: expected an integer from 0")
ST_BAD(st_offsets_fraction, "data_offsets[1]: expected an integer from 0")
ST_BAD(st_offsets_reversed, "end before they begin")
ST_BAD(st_gap, "'b': data_offsets begin at 8, leaving bytes 4 to 8 unused")
ST_BAD(st_overlap, "'b': data_offsets begin at 4, inside the previous tensor")
ST_BAD(st_not_from_zero, "'a': data_offsets begin at 4, leaving bytes 0 to 4 unused")
ST_BAD(st_wrong_length, "4 elements of I32 take 16 bytes, but data_offsets [0, 4] hold 4")
ST_BAD(st_sub_byte, "3 elements of F4 do not fill whole bytes")
ST_BAD(st_trailing_bytes, "expected no trailing bytes")
ST_BAD(st_truncated, "expected the file to hold all of them")
ST_BAD(st_no_tensors_with_data, "lists no tensors")
ST_BAD(st_duplicate_name, "duplicate key 'a'")
ST_BAD(st_nul_name, "\\u0000 in a string")
ST_BAD(st_metadata_not_string, "__metadata__: every value must be a string")
ST_BAD(st_metadata_not_object, "__metadata__: expected an object of strings")
ST_BAD(st_extra_key, "unknown key 'foo'; expected one of: dtype, shape, data_offsets")
ST_BAD(st_missing_dtype, "'a'.dtype: missing")
ST_BAD(st_entry_not_object, "'a': expected an object, got an array")
ST_BAD(st_control_name, "holds control characters")
ST_BAD(st_empty_name, "its name is empty")

void test_st_not_regular_file(void)
{
    thaw_err err = { 0 };
    st_file f;
    CHECK(st_read(&f, DATA, &err) == THAW_EIO && strstr(err.msg, "not a regular file"));
    CHECK(st_read(&f, "/dev/null", &err) == THAW_EIO && strstr(err.msg, "not a regular file"));
    char fifo[256];
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(fifo, sizeof fifo, "%s/thaw-fifo-%d", tmp, (int)getpid());
    CHECK(mkfifo(fifo, 0600) == 0);
    int rc = st_read(&f, fifo, &err);   /* must not wait for a writer */
    unlink(fifo);
    CHECK(rc == THAW_EIO && strstr(err.msg, "not a regular file"));
    CHECK(st_read(&f, DATA "absent.safetensors", &err) == THAW_EIO && strstr(err.msg, "cannot open"));
}

/* A header of 65,537 one-byte tensors: over ST_TENSORS_MAX, built in memory. */
void test_st_too_many_tensors(void)
{
    int n = ST_TENSORS_MAX + 1;
    size_t cap = (size_t)n * 96 + 16;
    char *h = malloc(cap);
    CHECK(h);
    size_t len = 0;
    h[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(h + len, cap - len, "%s\"t%d\":{\"dtype\":\"U8\",\"shape\":[1],"
                                "\"data_offsets\":[%d,%d]}", i ? "," : "", i, i, i + 1);
    h[len++] = '}';
    uint8_t *file = malloc(8 + len + (size_t)n);
    CHECK(file);
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)((uint64_t)len >> (8 * i));
    memcpy(file + 8, h, len);
    memset(file + 8 + len, 7, (size_t)n);
    thaw_err err = { 0 };
    st_file f;
    int rc = st_parse(&f, file, 8 + len + (size_t)n, "many", &err);
    free(h);
    free(file);
    CHECK(rc == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "65537 tensors; expected at most 65536"), "%s", err.msg);
}

void test_st_accepts_whitespace_around_header(void)
{
    thaw_err err = { 0 };
    st_file f;
    CHECKF(st_read(&f, DATA "st_ok_whitespace.safetensors", &err) == THAW_OK, "%s", err.msg);
    const st_tensor *t = st_find(&f, "a");
    float v = 0;
    int ok = t && t->dtype == ST_F32 && t->count == 1;
    if (ok)
        st_get_f32(&f, t, &v);
    st_free(&f);
    CHECK(ok && v == 1.0f);
}

/* Zero-size and scalar tensors, string metadata, an unaligned data section. */
void test_st_accepts_edge_cases(void)
{
    thaw_err err = { 0 };
    st_file f;
    CHECKF(st_read(&f, DATA "st_ok_edge.safetensors", &err) == THAW_OK, "%s", err.msg);
    const st_tensor *e = st_find(&f, "e"), *s = st_find(&f, "s"), *u = st_find(&f, "u");
    int64_t sv = 0;
    float uv[2] = { 0 };
    int ok = f.ntensor == 3 && !st_find(&f, "missing") && e && e->count == 0 && e->ndim == 2 && s && s->ndim == 0 &&
             s->count == 1 && s->dtype == ST_I64 && u && u->count == 2;
    if (ok) {
        st_get_i64(&f, s, &sv);
        st_get_f32(&f, u, uv);
    }
    st_free(&f);
    CHECK(ok && sv == -3 && uv[0] == 1.5f && uv[1] == -2.0f);
}

void test_st_serialize_round_trip(void)
{
    float w[6] = { 1, -2, 3.5f, 0, 1e-30f, -7 };
    int64_t k = 123456789012345ll;
    st_out t[2] = {
        { .name = "layer.weight", .dtype = ST_F32, .ndim = 2, .dim = { 2, 3 }, .data = w },
        { .name = "layer.count", .dtype = ST_I64, .ndim = 0, .data = &k },
    };
    uint8_t *buf;
    size_t len;
    thaw_err err = { 0 };
    CHECK(st_serialize(t, 2, &buf, &len, &err) == THAW_OK);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    st_file f;
    int rc = st_parse(&f, buf, len, "round trip", &err);
    float back[6] = { 0 };
    int64_t kb = 0;
    const st_tensor *a = rc ? NULL : st_find(&f, "layer.weight");
    const st_tensor *b = rc ? NULL : st_find(&f, "layer.count");
    int shapes = a && b && a->dim[0] == 2 && a->dim[1] == 3 && b->ndim == 0;
    if (a && b) {
        st_get_f32(&f, a, back);
        st_get_i64(&f, b, &kb);
    }
    st_free(&f);
    free(buf);
    CHECKF(rc == THAW_OK, "%s", err.msg);
    CHECK(n % 8 == 0);   /* padded: the data starts 8-byte aligned */
    CHECK(shapes);
    CHECK(!memcmp(back, w, sizeof w) && kb == k);
}

/* model JSON */
MF_BAD(bad_empty, "empty; expected a JSON object")
MF_BAD(bad_truncated, "unexpected end of JSON")
MF_BAD(bad_deep_nesting, "nested more than 32 deep")
MF_BAD(bad_duplicate_key, "architecture.layers[3]: duplicate key 'stride'")
MF_BAD(bad_unknown_key, "architecture.layers[3]: unknown key 'Stride'; expected one of: name, type,")
MF_BAD(bad_unknown_top_key, "top level: unknown key 'author'")
MF_BAD(bad_kernel_fraction, "architecture.layers[0].layers[0].kernel_size: expected an integer "
                            "from 1 to 64, got 2.5")
MF_BAD(bad_kernel_infinite, "kernel_size: expected an integer from 1 to 64, got inf")
MF_BAD(bad_kernel_string, "kernel_size: expected an integer from 1 to 64, got a string")
MF_BAD(bad_kernel_zero, "kernel_size: expected an integer from 1 to 64, got 0")
MF_BAD(bad_channels_huge, "out_channels: expected an integer from 1 to 65536, got 3000000000")
MF_BAD(bad_seed_beyond_double, "provenance.seed: expected an integer from 0 to 9007199254740991")
MF_BAD(bad_nul_escape, "\\u0000 in a string")
MF_BAD(bad_invalid_utf8, "not valid UTF-8")
MF_BAD(bad_lone_surrogate, "not valid JSON here")
MF_BAD(bad_control_char, "classes[1]: byte 0 is a control character")
MF_BAD(bad_trailing_garbage, "text after the JSON object")
MF_BAD(bad_bom, "byte order mark")
MF_BAD(bad_root_array, "expected a JSON object starting with '{'")
MF_BAD(bad_unknown_type, "architecture.layers[0].layers[2].type: unknown layer type; expected "
                         "one of: sequential, residual, conv2d")
MF_BAD(bad_missing_field, "architecture.layers[0].layers[0].kernel_size: missing; expected an integer")
MF_BAD(bad_null_architecture, "architecture: expected a layer object, got null")
MF_BAD(bad_no_architecture, "architecture: missing")
MF_BAD(bad_wrong_format, "format: expected \"thaw-model\"")
MF_BAD(bad_wrong_version, "version: expected an integer from 1 to 2, got 3")
MF_BAD(bad_weights_path, "weights: expected a file name ending in \".safetensors\" in the same folder")
MF_BAD(bad_shapes_do_not_chain, "architecture: layer head (linear) cannot follow layer drop "
                                "(dropout): expects 16 input features")
MF_BAD(bad_too_many_params, "architecture: more than 134217728 parameters")
MF_BAD(bad_class_count, "classes: 4 names, but the architecture ends with 3 outputs")
MF_BAD(bad_duplicate_class, "classes[2]: the same name as classes[0]")
MF_BAD(bad_mean_length, "input.mean: expected 2 to 2 elements, got 1")
MF_BAD(bad_std_zero, "input.std[1]: expected a number > 0 and <= 1e+06, got 0")
MF_BAD(bad_std_tiny, "input.std[1] = 1e-45 with input.mean[1] = 0.25: the normalised pixels (x - mean) / std are not finite")
MF_BAD(bad_accuracy_range, "provenance.test_accuracy: expected a number >= 0 and <= 1, got 87.5")
MF_BAD(bad_duplicate_layer_name, "architecture.layers[2].name: 'stage1' is already the name of "
                                 "architecture.layers[1]")
MF_BAD(bad_layer_name, "architecture.layers[2].name: expected letters, digits and '_' only")
MF_BAD(bad_root_named, "architecture.name: the root is the model and has no name")
MF_BAD(bad_root_not_sequential, "architecture.type: expected \"sequential\" at the root")
MF_BAD(bad_needs_projection, "architecture.layers[3].projection: false, but going from 4 to 8 "
                             "channels with stride 2 needs a projection")
MF_BAD(bad_maxpool_padding, "architecture.layers[2].padding: expected an integer from 0 to 1, got 2")
MF_BAD(bad_dropout_p, "architecture.layers[6].p: expected a number >= 0 and < 1, got 1")
MF_BAD(bad_eps_zero, "architecture.layers[0].layers[1].eps: expected a number >= 1e-12")
MF_BAD(bad_frozen_unknown, "frozen[1]: the architecture has no layer 'stage9'")
MF_BAD(bad_frozen_path, "frozen[1]: expected a dotted layer path")
MF_BAD(bad_empty_sequential, "architecture.layers[0].layers: expected 1 to 4096 elements, got 0")

void test_mf_bad_weights_missing(void)
{
    mf_bad("bad_weights_missing", "cannot open", "absent.safetensors");
}

/* Weights that do not fit the architecture. */
MF_BAD_WEIGHTS(w_missing, "tensor 'stage1.conv2.weight' is missing; the architecture needs it, "
                          "F32 [4, 4, 3, 3]")
MF_BAD_WEIGHTS(w_extra, "tensor 'stage1.conv3.weight' is not part of the architecture")
MF_BAD_WEIGHTS(w_wrong_shape, "'head.bias': F32 [1, 3]; the architecture expects F32 [3]")
MF_BAD_WEIGHTS(w_wrong_dtype, "'head.bias': F16 [3]; the architecture expects F32 [3]")
MF_BAD_WEIGHTS(w_nan, "'head.bias': element 1 is NaN; expected finite values")
MF_BAD_WEIGHTS(w_inf, "'head.bias': element 2 is Inf")
MF_BAD_WEIGHTS(w_tracked_dtype, "'stem.1.num_batches_tracked': F32 []; expected an I64 scalar")
MF_BAD_WEIGHTS(w_tracked_negative, "'stem.1.num_batches_tracked': -1; expected a count")
MF_BAD_WEIGHTS(w_tracked_stray, "tensor 'stage1.num_batches_tracked' is not part of the architecture")

void test_mf_file_too_large(void)
{
    char path[256];
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/thaw-big-%d.json", tmp, (int)getpid());
    FILE *fp = fopen(path, "w");
    CHECK(fp);
    int sized = ftruncate(fileno(fp), MF_JSON_MAX + 1) == 0;   /* sparse: nothing is written */
    fclose(fp);
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    int rc = mf_load(&meta, &m, path, NULL, &err);
    unlink(path);
    CHECK(sized);
    CHECKF(rc == THAW_EFORMAT && strstr(err.msg, "1048577 bytes; expected at most 1048576"), "%s",
           err.msg);
}

void test_mf_too_many_layers(void)
{
    int n = MF_LAYERS_MAX + 1;
    size_t cap = (size_t)n * 40 + 512;
    char *text = malloc(cap);
    CHECK(text);
    size_t len = (size_t)snprintf(text, cap, "{\"format\":\"thaw-model\",\"version\":1,\"weights\":"
                                  "\"x.safetensors\",\"input\":{\"channels\":1,\"height\":1,"
                                  "\"width\":1,\"mean\":[0],\"std\":[1]},\"classes\":[\"a\"],"
                                  "\"architecture\":{\"type\":\"sequential\",\"layers\":[");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"name\":\"r%d\",\"type\":\"relu\"}",
                                i ? "," : "", i);
    len += (size_t)snprintf(text + len, cap - len, "]}}");
    thaw_err err = { 0 };
    mf_meta meta;
    int rc = mf_parse(&meta, text, len, "many.json", &err);
    free(text);
    CHECK(rc == THAW_EFORMAT);
    CHECKF(strstr(err.msg, "many.json: architecture.layers: expected 1 to 4096 elements, got more "
                  "than 4096"), "%s", err.msg);
}

void test_mf_head_must_be_linear(void)
{
    thaw_err err = { 0 };
    mf_meta meta;
    model m;
    mf_load_opts opt = { .classes = 5, .seed = 1 };
    CHECK(mf_load(&meta, &m, DATA "head_conv.json", NULL, &err) == THAW_OK);
    mf_meta_free(&meta);
    model_free(&m);
    int rc = mf_load(&meta, &m, DATA "head_conv.json", &opt, &err);
    CHECK(rc == THAW_EINVAL);
    CHECKF(strstr(err.msg, "cannot give the model a new head: its last layer with parameters is "
                  "conv2d, expected a linear layer"), "%s", err.msg);
}
