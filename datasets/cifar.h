/* cifar.h — CIFAR-10 binary batches.
 *
 * A batch file is a run of 3073-byte records: one label byte (0..9), then a
 * 32x32 image as 1024 red, 1024 green and 1024 blue bytes, each row-major —
 * already (c, h, w). The standard folder, cifar-10-batches-bin, holds
 * data_batch_1.bin .. data_batch_5.bin (the training set, 10,000 records
 * each) and test_batch.bin.
 *
 *     ds_raw train, test;
 *     if (cifar_load_dir(&train, &test, "cifar-10-batches-bin", &err))
 *         ... report err.msg ...
 *     ...
 *     ds_raw_free(&train), ds_raw_free(&test);
 *
 * Strictness (reliability checklist §8, CIFAR-10): a file's size must be a
 * positive multiple of 3073 (a multiple of 3074 is recognised as CIFAR-100,
 * which has two label bytes, and refused with that hint); every label must
 * be below 10. The class names are CIFAR-10's fixed ten, in label order;
 * batches.meta.txt is not read, so a damaged or hostile copy of it changes
 * nothing.
 */
#ifndef THAW_CIFAR_H
#define THAW_CIFAR_H

#include "ds.h"

enum { CIFAR_SIDE = 32, CIFAR_RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE, CIFAR_CLASSES = 10 };

extern const char *const cifar_class_names[CIFAR_CLASSES];

/* Parses batch records held in memory into a raw set of (n, 3, 32, 32)
 * images with the ten class names; `name` is what errors call the bytes.
 * Errors: THAW_EFORMAT (empty, size not a multiple of 3073, CIFAR-100,
 * more than DS_MAX_IMAGES records, a label above 9 — naming the record),
 * THAW_ENOMEM. On failure *out is zeroed. */
int cifar_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err);

/* cifar_parse on one batch file: the errors of ds_read_file and cifar_parse. */
int cifar_load(ds_raw *out, const char *path, thaw_err *err);

/* Reads a folder's five training batches into train and test_batch.bin into
 * test. THAW_ENOTFOUND names every missing file; otherwise the errors of
 * ds_read_file and cifar_parse. On failure both are zeroed. */
int cifar_load_dir(ds_raw *train, ds_raw *test, const char *dir, thaw_err *err);

#endif
