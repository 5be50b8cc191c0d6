/* test_datasets_idx.c — IDX files, good and bad: one test per case of the
 * reliability checklist §8 "IDX / gzip" (D1..D18), each on a tiny file. */
#include <stdlib.h>

#include "idx.h"
#include "test_datasets.h"

#define IDXDIR DSDATA "idx/"

/* Loads a file that must fail with THAW_EFORMAT, its message naming the
 * file and containing `what`. */
#define CHECK_IDX_BAD(file, what)                                             \
    do {                                                                      \
        thaw_err e_ = { 0 };                                                  \
        idx_array a_;                                                         \
        CHECK_FAILS(idx_load(&a_, IDXDIR file, &e_), e_, THAW_EFORMAT, file, what); \
        CHECK(a_.data == NULL);                                               \
    } while (0)

static int pair(ds_raw *raw, const char *images, const char *labels, int nclass, thaw_err *err)
{
    idx_array im, lb;
    int rc = idx_load(&im, images, err);
    if (rc)
        return rc;
    rc = idx_load(&lb, labels, err);
    if (!rc) {
        rc = idx_to_raw(raw, &im, &lb, &(idx_opts){ .nclass = nclass }, images, labels, err);
        idx_free(&lb);
    }
    idx_free(&im);
    return rc;
}

void test_idx_good_raw_and_gz(void)
{
    thaw_err err = { 0 };
    ds_raw a, b;
    CHECKF(pair(&a, IDXDIR "good-images-idx3-ubyte", IDXDIR "good-labels-idx1-ubyte", 3, &err) == 0,
           "%s", err.msg);
    CHECKF(pair(&b, IDXDIR "good-images-idx3-ubyte.gz", IDXDIR "good-labels-idx1-ubyte.gz", 3,
                &err) == 0, "%s", err.msg);
    CHECK(a.n == 12 && a.shape.c == 1 && a.shape.h == 6 && a.shape.w == 5);
    CHECK(b.n == 12 && b.shape.h == 6 && b.shape.w == 5);
    CHECK(memcmp(a.pixels, b.pixels, 12 * 30) == 0);
    for (int i = 0; i < 12; i++) {
        CHECK(a.labels[i] == i % 3 && b.labels[i] == i % 3);
        CHECK(a.pixels[i * 30] == i);                          /* pixel 0: the index */
        CHECK(a.pixels[i * 30 + 29] == 10 + 20 * (i % 3));     /* the rest: the label */
    }
    ds_raw_free(&a);
    ds_raw_free(&b);
}

void test_idx_d1_not_idx(void)
{
    CHECK_IDX_BAD("short.idx", "not an IDX file");
    CHECK_IDX_BAD("badmagic.idx", "not an IDX file");
    thaw_err err = { 0 };
    idx_array a;
    CHECK_FAILS(idx_parse(&a, (const uint8_t *)"", 0, "nothing", &err), err, THAW_EFORMAT,
                "nothing", "not an IDX file");
}

void test_idx_d2_unsupported_type(void)
{
    CHECK_IDX_BAD("type0a.idx", "unsupported IDX type 0x0A");
    CHECK_IDX_BAD("type07.idx", "unsupported IDX type 0x07");
    CHECK_IDX_BAD("typeff.idx", "unsupported IDX type 0xFF");
}

void test_idx_d3_dimension_count(void)
{
    CHECK_IDX_BAD("dims0.idx", "0 dimensions");
    CHECK_IDX_BAD("dims5.idx", "5 dimensions");
    CHECK_IDX_BAD("dims255.idx", "255 dimensions");
}

void test_idx_d4_little_endian(void)
{
    CHECK_IDX_BAD("littleendian.idx", "little-endian");
}

void test_idx_d5_dimensions_overflow(void)
{
    CHECK_IDX_BAD("dims_huge.idx", "4294967295x4294967295x4294967295");
}

void test_idx_d6_truncated(void)
{
    CHECK_IDX_BAD("truncated.idx", "truncated: the header declares 360 bytes of data, the file holds 100");
}

void test_idx_d7_trailing_data(void)
{
    CHECK_IDX_BAD("trailing.idx", "7 bytes of trailing data");
}

void test_idx_d8_empty(void)
{
    CHECK_IDX_BAD("empty.idx", "empty data set");
}

void test_idx_d9_count_mismatch(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(pair(&r, IDXDIR "good-images-idx3-ubyte", IDXDIR "labels11-idx1-ubyte", 3, &err),
                err, THAW_EFORMAT, "12 images", "labels11-idx1-ubyte holds 11 labels");
    CHECK(r.pixels == NULL && r.labels == NULL);
}

void test_idx_d10_label_out_of_range(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(pair(&r, IDXDIR "good-images-idx3-ubyte", IDXDIR "labels_range-idx1-ubyte", 10,
                     &err), err, THAW_EFORMAT, "labels_range-idx1-ubyte: label 10 of item 10",
                "0 to 9");
}

void test_idx_d11_files_swapped(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(pair(&r, IDXDIR "good-labels-idx1-ubyte", IDXDIR "good-images-idx3-ubyte", 3, &err),
                err, THAW_EFORMAT, "good-labels-idx1-ubyte: 1 dimension", "is it a labels file?");
}

void test_idx_d12_image_sides(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(pair(&r, IDXDIR "bigside-idx3-ubyte.gz", IDXDIR "onepixel-labels-idx1-ubyte", 10,
                     &err), err, THAW_EFORMAT, "bigside-idx3-ubyte.gz", "2048x2048 pixels");
    /* 1x1 is small but legal: it is stretched to the model's input. */
    CHECKF(pair(&r, IDXDIR "onepixel-idx3-ubyte", IDXDIR "onepixel-labels-idx1-ubyte", 10, &err) == 0,
           "%s", err.msg);
    CHECK(r.n == 1 && r.shape.h == 1 && r.shape.w == 1 && r.pixels[0] == 200);
    ds_geom g = ds_geom_default();
    ds_conv cv;
    float x[28 * 28];
    CHECK_OK(ds_conv_init(&cv, r.shape, &g, NULL));
    ds_conv_image(&cv, x, r.pixels);
    ds_conv_free(&cv);
    float want = (200.0f / 255.0f - 0.286f) / 0.353f;
    for (int i = 0; i < 28 * 28; i++)
        CHECKF(fabsf(x[i] - want) < 1e-4f, "pixel %d: %f, want %f", i, (double)x[i], (double)want);
    ds_raw_free(&r);
}

void test_idx_d13_truncated_gz(void)
{
    CHECK_IDX_BAD("truncated.gz", "truncated");
}

void test_idx_d14_trailing_gz(void)
{
    CHECK_IDX_BAD("trailing.gz", "8 bytes of trailing data after the gzip stream");
}

void test_idx_d15_gzip_bomb(void)
{
    CHECK_IDX_BAD("bomb.gz", "decompresses to more than the 360 bytes");
}

void test_idx_d16_gz_short_payload(void)
{
    CHECK_IDX_BAD("short-payload.gz", "more than a");
    CHECK_IDX_BAD("short-payload-small.gz", "the header declares 360 bytes of data, the gzip stream holds 100");
}

void test_idx_d17_float_type(void)
{
    CHECK_IDX_BAD("float.idx", "0x0D (32-bit float)");
}

void test_idx_d18_raw_named_gz(void)
{
    thaw_err err = { 0 };
    idx_array a;
    CHECKF(idx_load(&a, IDXDIR "notgzip.gz", &err) == 0, "%s", err.msg);
    CHECK(a.ndim == 3 && a.count == 360 && a.data[0] == 0 && a.data[359] == 10 + 20 * 2);
    idx_free(&a);
}

void test_idx_missing_file(void)
{
    thaw_err err = { 0 };
    idx_array a;
    CHECK_FAILS(idx_load(&a, IDXDIR "no-such-file", &err), err, THAW_ENOTFOUND, "no-such-file",
                "cannot open");
    CHECK_FAILS(idx_load(&a, IDXDIR, &err), err, THAW_EIO, "idx/", "not a regular file");
}

void test_idx_transposed(void)
{
    /* One 2x3 image stored column-major, as EMNIST stores them, labels
     * starting at 1, as EMNIST letters' do. */
    static const uint8_t im_bytes[] = { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                                        1, 2, 3, 4, 5, 6 };
    static const uint8_t lb_bytes[] = { 0, 0, 8, 1, 0, 0, 0, 1, 26 };
    thaw_err err = { 0 };
    idx_array im, lb;
    ds_raw r;
    CHECK_OK(idx_parse(&im, im_bytes, sizeof im_bytes, "im", &err));
    CHECK_OK(idx_parse(&lb, lb_bytes, sizeof lb_bytes, "lb", &err));
    int rc = idx_to_raw(&r, &im, &lb, &(idx_opts){ .nclass = 26, .label_base = 1, .transposed = 1 },
                        "im", "lb", &err);
    idx_free(&im);
    idx_free(&lb);
    CHECKF(rc == 0, "%s", err.msg);
    CHECK(r.shape.h == 3 && r.shape.w == 2 && r.labels[0] == 25);
    static const uint8_t want[] = { 1, 4, 2, 5, 3, 6 };
    CHECK(memcmp(r.pixels, want, 6) == 0);
    ds_raw_free(&r);
}
