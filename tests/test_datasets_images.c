/* test_datasets_images.c — PNG and JPEG decoding and image folders: one test
 * per case of the reliability checklist §8 "Image folders / stb_image"
 * (I1..I11), on tiny files under tests/data/datasets/images/ or, for what
 * git cannot hold (FIFOs, symbolic-link loops, hostile names, a 65 MB file),
 * in a temporary folder made by the test. */
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imgdir.h"
#include "test_datasets.h"

#define IMGDIR DSDATA "images/"

static int decode_file(uint8_t *out, shape3 to, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    int rc = ds_read_file(path, IMG_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = imgdir_decode(out, to, buf, len, path, err);
    free(buf);
    return rc;
}

/* Every value of out (n bytes) within tol of want. */
static int all_near(const uint8_t *out, size_t n, int want, int tol)
{
    for (size_t i = 0; i < n; i++)
        if (abs(out[i] - want) > tol)
            return 0;
    return 1;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* A fresh temporary folder, removed with rm_tree. */
static int make_tmp(char *dir, size_t cap)
{
    snprintf(dir, cap, "%s/thaw-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) != NULL;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int copy_file(const char *from, const char *to)
{
    uint8_t *buf;
    size_t len;
    if (ds_read_file(from, IMG_MAX_FILE_BYTES, &buf, &len, NULL))
        return 0;
    FILE *f = fopen(to, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    free(buf);
    return ok;
}

void test_image_i3_png_and_jpeg_layouts(void)
{
    thaw_err err = { 0 };
    uint8_t out[3 * 8 * 8];
    const shape3 rgb = { 3, 4, 4 }, grey = { 1, 8, 8 };
    CHECKF(decode_file(out, grey, IMGDIR "good/a_png/grey8.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 64, 200, 0));
    CHECKF(decode_file(out, rgb, IMGDIR "good/a_png/grey8.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 48, 200, 0));                         /* grey repeated in R, G, B */
    CHECKF(decode_file(out, rgb, IMGDIR "good/a_png/red12x10.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 16, 255, 0) && all_near(out + 16, 32, 0, 0));
    CHECKF(decode_file(out, grey, IMGDIR "good/a_png/red12x10.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 64, 76, 1));                          /* stb's luma of pure red */
    CHECKF(decode_file(out, rgb, IMGDIR "good/c_misc/grey16.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 48, 255, 0));                         /* 16-bit white */
    /* a 16-bit grey 4x2 ramp: each value narrowed to its high byte, as stb does */
    static const uint8_t high[8] = { 0x00, 0x00, 0x01, 0x12, 0x7F, 0x80, 0xFF, 0xFF };
    CHECKF(decode_file(out, (shape3){ 1, 2, 4 }, IMGDIR "png16/ramp16.png", &err) == 0, "%s",
           err.msg);
    CHECK(!memcmp(out, high, 8));
    CHECKF(decode_file(out, (shape3){ 3, 2, 4 }, IMGDIR "png16/ramp16.png", &err) == 0, "%s",
           err.msg);
    CHECK(!memcmp(out, high, 8) && !memcmp(out + 8, high, 8) && !memcmp(out + 16, high, 8));
    CHECKF(decode_file(out, rgb, IMGDIR "good/c_misc/palette.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 16, 0, 0) && all_near(out + 16, 16, 255, 0) && all_near(out + 32, 16, 0, 0));
    CHECKF(decode_file(out, rgb, IMGDIR "good/c_misc/rgba.png", &err) == 0, "%s", err.msg);
    CHECK(all_near(out + 16, 16, 255, 0) && all_near(out + 32, 16, 0, 0));
    CHECKF(decode_file(out, rgb, IMGDIR "good/b_jpeg/blue.jpg", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 32, 0, 8) && all_near(out + 32, 16, 255, 8));
    CHECKF(decode_file(out, grey, IMGDIR "good/b_jpeg/grey.JPEG", &err) == 0, "%s", err.msg);
    CHECK(all_near(out, 64, 128, 3));
}

void test_image_resampling(void)
{
    /* A horizontal ramp 0..7 over 8 columns, halved: each output averages
     * its neighbourhood, so the ramp stays a ramp of the same mean; doubled:
     * the ends hold and the middle interpolates. A constant stays constant. */
    float ramp[2 * 8], half[2 * 4], dbl[2 * 16], tmp[64];
    for (int i = 0; i < 16; i++)
        ramp[i] = (float)(i % 8);
    ds_resample *rs = ds_resample_new(2, 8, 2, 4);
    CHECK(rs && ds_resample_tmp(rs) <= 64);
    ds_resample_plane(rs, half, ramp, tmp);
    ds_resample_free(rs);
    float mean = 0.0f;
    for (int x = 0; x < 4; x++) {
        CHECK(x == 0 || half[x] > half[x - 1]);
        CHECK(fabsf(half[x] - half[4 + x]) < 1e-6f);
        mean += half[x] / 4.0f;
    }
    CHECKF(fabsf(mean - 3.5f) < 0.2f, "mean %f", (double)mean);
    rs = ds_resample_new(2, 8, 2, 16);
    CHECK(rs);
    ds_resample_plane(rs, dbl, ramp, tmp);
    ds_resample_free(rs);
    CHECK(fabsf(dbl[0]) < 1e-6f && fabsf(dbl[15] - 7.0f) < 1e-6f);
    CHECK(fabsf(dbl[7] - 3.25f) < 1e-5f && fabsf(dbl[8] - 3.75f) < 1e-5f);
    uint8_t out[3 * 5 * 7];
    thaw_err err = { 0 };
    CHECKF(decode_file(out, (shape3){ 3, 5, 7 }, IMGDIR "good/a_png/red12x10.png", &err) == 0,
           "%s", err.msg);
    CHECK(all_near(out, 35, 255, 0) && all_near(out + 35, 70, 0, 0));
}

void test_image_i1_bomb(void)
{
    thaw_err err = { 0 };
    uint8_t out[28 * 28];
    ds_raw r;
    CHECK_FAILS(decode_file(out, (shape3){ 1, 28, 28 }, IMGDIR "bad/bomb_side.png", &err), err,
                THAW_EFORMAT, "bomb_side.png: declares a 16384x16384 PNG image", "image bomb");
    CHECK_FAILS(decode_file(out, (shape3){ 1, 28, 28 }, IMGDIR "bad/bomb_pixels.png", &err), err,
                THAW_EFORMAT, "bomb_pixels.png: declares a 8192x4096 PNG image", "image bomb");
    CHECK_FAILS(imgdir_load(&r, IMGDIR "bomb", (shape3){ 1, 28, 28 }, NULL, &err), err,
                THAW_EFORMAT, "bomb/cls/bomb.png", "image bomb");
    CHECK(r.pixels == NULL && r.name == NULL);
}

void test_image_i2_corrupt_png(void)
{
    thaw_err err = { 0 };
    uint8_t out[3 * 8 * 8];
    const shape3 to = { 1, 8, 8 };
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/empty.png", &err), err, THAW_EFORMAT,
                "empty.png", "empty file");
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/zero.png", &err), err, THAW_EFORMAT,
                "zero.png: declares a 0x0 PNG image", NULL);
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/truncated_idat.png", &err), err, THAW_EFORMAT,
                "truncated_idat.png", "corrupt or truncated PNG");
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/bad_deflate.png", &err), err, THAW_EFORMAT,
                "bad_deflate.png", "corrupt or truncated PNG");
    /* found by fuzz_image: a 100-byte file whose IDAT declares 1 GB, which
     * stb 2.27 would allocate before reading */
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/fuzz-idat-length.png", &err), err, THAW_EFORMAT,
                "fuzz-idat-length.png", "chunk 'IDAT' at byte 59 declares 1140850702 bytes");
    /* stb_image does not check CRCs: a bad one changes nothing. */
    CHECKF(decode_file(out, to, IMGDIR "bad/bad_crc.png", &err) == 0, "%s", err.msg);
    CHECK(out[1] == 3 && out[63] == 189);
}

void test_image_i4_jpeg_variants(void)
{
    thaw_err err = { 0 };
    uint8_t out[3 * 16 * 16];
    CHECK_FAILS(decode_file(out, (shape3){ 3, 16, 16 }, IMGDIR "bad/truncated.jpg", &err), err,
                THAW_EFORMAT, "truncated.jpg", "corrupt or truncated JPEG");
    CHECKF(decode_file(out, (shape3){ 3, 16, 16 }, IMGDIR "bad/junk_after_eoi.jpg", &err) == 0,
           "junk after the end marker is ignored: %s", err.msg);
    /* found by fuzz_image: scans that use a Huffman table no DHT defined,
     * on which stb 2.27 reads memory it never set (an assert, then far out
     * of bounds) */
    CHECK_FAILS(decode_file(out, (shape3){ 3, 16, 16 }, IMGDIR "bad/fuzz-huffman-assert.jpg", &err),
                err, THAW_EFORMAT, "fuzz-huffman-assert.jpg", "a Huffman table that was never defined");
    CHECK_FAILS(decode_file(out, (shape3){ 3, 16, 16 }, IMGDIR "bad/fuzz-undefined-table.jpg", &err),
                err, THAW_EFORMAT, "fuzz-undefined-table.jpg", "a Huffman table that was never defined");
    /* a progressive JPEG (libjpeg-turbo's cjpeg -progressive): refinement
     * scans name tables they do not use, and must still decode */
    CHECKF(decode_file(out, (shape3){ 3, 16, 16 }, IMGDIR "jpeg/progressive.jpg", &err) == 0,
           "%s", err.msg);
    CHECK(abs(out[15] - 240) <= 16 && abs(out[256 + 15 * 16] - 240) <= 16 && abs(out[512] - 128) <= 16);
    CHECK(out[0] <= 16 && abs(out[256 + 8 * 16 + 8] - 128) <= 8);   /* chroma is subsampled: loose */
}

void test_image_i5_formats_compiled_out(void)
{
    thaw_err err = { 0 };
    uint8_t out[28 * 28];
    const shape3 to = { 1, 28, 28 };
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/gif.png", &err), err, THAW_EFORMAT,
                "gif.png: a GIF file", "PNG and JPEG images only");
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/bmp.png", &err), err, THAW_EFORMAT,
                "bmp.png: a BMP file", NULL);
    CHECK_FAILS(decode_file(out, to, IMGDIR "bad/psd.png", &err), err, THAW_EFORMAT,
                "psd.png: a PSD file", NULL);
}

void test_image_i6_size_and_access(void)
{
    char dir[256], path[512];
    CHECK(make_tmp(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/a", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/a/big.png", dir);
    FILE *f = fopen(path, "wb");
    int made = f && ftruncate(fileno(f), (off_t)IMG_MAX_FILE_BYTES + 1) == 0;  /* sparse */
    if (f)
        fclose(f);
    thaw_err err = { 0 };
    ds_raw r;
    int rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int big_ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT, "big.png",
                                "more than the limit");
    unlink(path);
    snprintf(path, sizeof path, "%s/a/locked.png", dir);
    int copied = copy_file(IMGDIR "good/a_png/grey8.png", path) && chmod(path, 0) == 0;
    rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int locked_ok = geteuid() == 0 ? rc == 0 : ds_failed_with(__FILE__, __LINE__, rc, &err,
                                                               THAW_EIO, "locked.png", "cannot open");
    if (rc == 0)
        ds_raw_free(&r);
    rm_tree(dir);
    CHECK(made && copied);
    CHECK(big_ok && locked_ok);
}

void test_image_i7_fifo_and_link_loops(void)
{
    char dir[256], path[512];
    CHECK(make_tmp(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/a", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/a/fifo.png", dir);
    int made = mkfifo(path, 0644) == 0;
    thaw_err err = { 0 };
    ds_raw r;
    int rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);   /* must not block */
    int fifo_ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EIO, "fifo.png",
                                 "not a regular file");
    unlink(path);
    snprintf(path, sizeof path, "%s/a/loop.png", dir);
    made = made && symlink("loop.png", path) == 0;
    rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int loop_ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EIO, "loop.png", "cannot open");
    unlink(path);
    /* a class folder that links back to the top: read one level deep, it
     * holds only folders, so it is a class without images — no endless walk */
    snprintf(path, sizeof path, "%s/a/ok.png", dir);
    made = made && copy_file(IMGDIR "good/a_png/grey8.png", path);
    snprintf(path, sizeof path, "%s/b", dir);
    made = made && symlink(".", path) == 0;
    rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int dir_ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT, "class 'b'",
                                "no PNG or JPEG images");
    rm_tree(dir);
    CHECK(made);
    CHECK(fifo_ok && loop_ok && dir_ok);
}

void test_image_i8_class_without_images(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(imgdir_load(&r, IMGDIR "noimages", (shape3){ 1, 8, 8 }, NULL, &err), err,
                THAW_EFORMAT, "noimages/b: class 'b' has no PNG or JPEG images",
                "1 other entry ignored");
    CHECK_FAILS(imgdir_load(&r, IMGDIR "good/c_misc", (shape3){ 1, 8, 8 }, NULL, &err), err,
                THAW_EFORMAT, "no class folders", NULL);
}

void test_image_i9_hostile_names(void)
{
    char dir[256], path[512];
    CHECK(make_tmp(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/cls", dir);
    int made = mkdir(path, 0755) == 0;
    snprintf(path, sizeof path, "%s/cls/x\nname\x1b[2J\xff.png", dir);
    FILE *f = made ? fopen(path, "wb") : NULL;
    made = f && fputs("text, not an image", f) >= 0;
    if (f)
        fclose(f);
    thaw_err err = { 0 };
    ds_raw r;
    int rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT,
                            "cls/x\\x0aname\\x1b[2J\\xff.png", "not a PNG or JPEG image");
    rm_tree(dir);
    CHECK(made && ok);
    for (const char *p = err.msg; *p; p++)
        CHECKF((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7F && (unsigned char)*p < 0x80,
               "raw byte 0x%02x in the message", (unsigned char)*p);
}

/* A class folder whose name a model file could not hold (a control
 * character, more than 127 bytes, not UTF-8) is refused when the data
 * loads, the name escaped in the message: every class name thaw accepts
 * saves and loads back. */
void test_image_i12_class_names_follow_the_rule(void)
{
    static const char *const bad[] = { "osc\x1b]0;owned\x07", "tab\there", "latin1\xe9", NULL };
    char dir[256], path[512], longname[160];
    memset(longname, 'n', 150);
    longname[150] = '\0';
    for (int i = 0; i < 4; i++) {
        const char *name = bad[i] ? bad[i] : longname;
        CHECK(make_tmp(dir, sizeof dir));
        snprintf(path, sizeof path, "%s/%s", dir, name);
        int made = mkdir(path, 0755) == 0;
        snprintf(path, sizeof path, "%s/%s/a.png", dir, name);
        made = made && copy_file(IMGDIR "good/a_png/grey8.png", path);
        thaw_err err = { 0 };
        ds_raw r;
        int rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
        int ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT, "class '",
                                "1 to 127 bytes of printable UTF-8");
        rm_tree(dir);
        CHECKF(made && ok, "class folder %d", i);
        for (const char *p = err.msg; *p; p++)
            CHECKF((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7F && (unsigned char)*p < 0x80,
                   "raw byte 0x%02x in the message", (unsigned char)*p);
    }
}

void test_image_i10_file_vanishes(void)
{
    /* A file listed by the scan and gone when it is read (here: a link to
     * nothing) is an error naming it, not a crash. */
    char dir[256], path[512];
    CHECK(make_tmp(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/a", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/a/gone.png", dir);
    int made = symlink("does-not-exist.png", path) == 0;
    thaw_err err = { 0 };
    ds_raw r;
    int rc = imgdir_load(&r, dir, (shape3){ 1, 8, 8 }, NULL, &err);
    int ok = ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_ENOTFOUND, "gone.png",
                            "No such file");
    rm_tree(dir);
    CHECK(made && ok);
}

void test_image_i11_malformed_files(void)
{
    /* Every bad fixture and the good ones: decoded or refused with the file
     * named, at two geometries. (stb's published crash inputs are not
     * available offline; `make fuzz` explores this configuration instead.) */
    const char *dirs[] = { IMGDIR "bad", IMGDIR "good/c_misc" };
    int files = 0;
    for (int d = 0; d < 2; d++) {
        DIR *dp = opendir(dirs[d]);
        CHECKF(dp, "cannot open %s", dirs[d]);
        struct dirent *e;
        while ((e = readdir(dp))) {
            char path[512];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            for (int g = 0; g < 2; g++) {
                uint8_t out[3 * 32 * 32];
                thaw_err err = { 0 };
                int rc = decode_file(out, g ? (shape3){ 3, 32, 32 } : (shape3){ 1, 5, 3 }, path, &err);
                if (rc != 0 && !strstr(err.msg, e->d_name)) {
                    closedir(dp);
                    CHECKF(0, "%s: message does not name the file: %s", path, err.msg);
                }
            }
            files++;
        }
        closedir(dp);
    }
    CHECK(files >= 15);
}

void test_image_not_an_image(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(imgdir_load(&r, IMGDIR "notimage", (shape3){ 1, 8, 8 }, NULL, &err), err,
                THAW_EFORMAT, "notimage/a/readme.png", "not a PNG or JPEG image");
}

void test_imgdir_good_folder(void)
{
    thaw_err err = { 0 };
    ds_raw r, t;
    CHECKF(imgdir_load(&r, IMGDIR "good", (shape3){ 3, 6, 6 }, NULL, &err) == 0, "%s", err.msg);
    CHECK(r.nclass == 3 && r.n == 7);
    CHECK(!strcmp(r.name[0], "a_png") && !strcmp(r.name[1], "b_jpeg") && !strcmp(r.name[2], "c_misc"));
    static const int want[7] = { 0, 0, 1, 1, 2, 2, 2 };
    for (int i = 0; i < 7; i++)
        CHECK(r.labels[i] == want[i]);
    CHECK(all_near(r.pixels, 108, 200, 0));                     /* a_png/grey8.png */
    CHECK(all_near(r.pixels + 108, 36, 255, 0));                /* a_png/red12x10.png, red */
    CHECK(all_near(r.pixels + 5 * 108 + 36, 36, 255, 0));       /* c_misc/palette.png, green */
    CHECKF(imgdir_load(&t, IMGDIR "testdir", (shape3){ 3, 6, 6 }, &r, &err) == 0, "%s", err.msg);
    CHECK(t.n == 1 && t.nclass == 3 && t.labels[0] == 0 && !strcmp(t.name[2], "c_misc"));
    ds_raw_free(&t);
    CHECK_FAILS(imgdir_load(&t, IMGDIR "badtest", (shape3){ 3, 6, 6 }, &r, &err), err,
                THAW_EFORMAT, "class folder 'zzz'", "not one of the training classes");
    ds_raw_free(&r);
    CHECK_FAILS(imgdir_load(&r, IMGDIR "nowhere", (shape3){ 3, 6, 6 }, NULL, &err), err,
                THAW_ENOTFOUND, "nowhere", "cannot open folder");
}

void test_image_jpeg_huffman_overflow(void)
{
    /* Found by fuzz_image: DHT segments whose code counts add up to more than
     * 256 — one whole, one cut off by the end of the file, where stb reads
     * zeros. Debian's stb_image 2.27 writes past its table on them; thaw
     * refuses them before stb sees them, in imgdir_info as in imgdir_decode. */
    static const char *const files[] = { "fuzz-dht-overflow.jpg", "fuzz-dht-truncated.jpg" };
    for (int f = 0; f < 2; f++) {
        char path[256];
        thaw_err err = { 0 };
        uint8_t *buf, out[3 * 16 * 16];
        size_t len;
        int w, h;
        snprintf(path, sizeof path, IMGDIR "bad/%s", files[f]);
        CHECK_OK(ds_read_file(path, IMG_MAX_FILE_BYTES, &buf, &len, &err));
        int rc = imgdir_info(buf, len, files[f], &w, &h, &err);
        int rc2 = imgdir_decode(out, (shape3){ 3, 16, 16 }, buf, len, files[f], &err);
        free(buf);
        CHECK(rc == THAW_EFORMAT);
        CHECK_FAILS(rc2, err, THAW_EFORMAT, files[f], "Huffman table declares more than 256 codes");
    }
}
