/* test_datasets_cifar.c — CIFAR-10 batches, good and bad: one test per case
 * of the reliability checklist §8 "CIFAR-10" (C1..C5), each on a tiny file. */
#include "cifar.h"
#include "test_datasets.h"

#define CIFARDIR DSDATA "cifar/"

void test_cifar_good_folder(void)
{
    thaw_err err = { 0 };
    ds_raw train, test;
    CHECKF(cifar_load_dir(&train, &test, CIFARDIR "good", &err) == 0, "%s", err.msg);
    CHECK(train.n == 10 && test.n == 3 && train.nclass == 10);
    CHECK(train.shape.c == 3 && train.shape.h == 32 && train.shape.w == 32);
    for (int i = 0; i < 10; i++) {
        const uint8_t *px = train.pixels + (size_t)i * 3072;
        CHECK(train.labels[i] == i);                    /* batch f holds labels 2f-2, 2f-1 */
        CHECK(px[0] == 25 * i && px[1023] == 25 * i);   /* red plane: the label */
        CHECK(px[1024] == 100 && px[2047] == 100);      /* green */
        CHECK(px[2048 + 5] == 5 && px[3071] == 255);    /* blue: the position */
    }
    CHECK(test.labels[0] == 7 && test.labels[2] == 9);
    ds_raw_free(&train);
    ds_raw_free(&test);
}

void test_cifar_c1_truncated_record(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(cifar_load(&r, CIFARDIR "truncated.bin", &err), err, THAW_EFORMAT,
                "truncated.bin: 6145 bytes", "not a multiple of the 3073-byte record");
    CHECK(r.pixels == NULL);
}

void test_cifar_c2_cifar100(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(cifar_load(&r, CIFARDIR "cifar100.bin", &err), err, THAW_EFORMAT,
                "cifar100.bin", "looks like CIFAR-100");
}

void test_cifar_c3_label_out_of_range(void)
{
    thaw_err err = { 0 };
    ds_raw r;
    CHECK_FAILS(cifar_load(&r, CIFARDIR "badlabel.bin", &err), err, THAW_EFORMAT,
                "badlabel.bin: record 1 has label 10", "0 to 9");
}

void test_cifar_c4_empty_and_missing(void)
{
    thaw_err err = { 0 };
    ds_raw r, t;
    CHECK_FAILS(cifar_load(&r, CIFARDIR "empty.bin", &err), err, THAW_EFORMAT, "empty.bin",
                "no CIFAR-10 records");
    CHECKF(cifar_load(&r, CIFARDIR "good/test_batch.bin", &err) == 0, "%s", err.msg);
    CHECK(r.n == 3 && r.labels[1] == 8);
    ds_raw_free(&r);
    CHECK_FAILS(cifar_load_dir(&r, &t, CIFARDIR "missing", &err), err, THAW_ENOTFOUND,
                "missing data_batch_2.bin, data_batch_4.bin, data_batch_5.bin, test_batch.bin",
                "cifar/missing");
    CHECK(r.pixels == NULL && t.pixels == NULL);
    CHECK_FAILS(cifar_load_dir(&r, &t, CIFARDIR "nowhere", &err), err, THAW_ENOTFOUND,
                "data_batch_1.bin", "nowhere");
}

void test_cifar_c5_meta_file_ignored(void)
{
    /* good/batches.meta.txt has 4 lines, an empty one and a terminal escape;
     * thaw never reads it: the names are CIFAR-10's own. */
    thaw_err err = { 0 };
    ds_raw train, test;
    CHECKF(cifar_load_dir(&train, &test, CIFARDIR "good", &err) == 0, "%s", err.msg);
    CHECK(train.nclass == 10);
    CHECK(!strcmp(train.name[0], "airplane") && !strcmp(train.name[9], "truck"));
    for (int c = 0; c < 10; c++)
        CHECK(strchr(train.name[c], '\x1b') == NULL);
    ds_raw_free(&train);
    ds_raw_free(&test);
}
