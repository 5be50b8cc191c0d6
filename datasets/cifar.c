/* cifar.c — CIFAR-10 binary batches; see cifar.h. */
#include "cifar.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cifar_class_names[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

enum { CIFAR_PIXELS = CIFAR_RECORD - 1 };

/* Appends n records from buf to out, which has room for them. */
static void append_records(ds_raw *out, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const uint8_t *rec = buf + i * CIFAR_RECORD;
        out->labels[out->n] = rec[0];
        memcpy(out->pixels + (size_t)out->n * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
        out->n++;
    }
}

/* Checks one file's bytes; returns its record count or 0 with err set. */
static size_t check_records(const uint8_t *buf, size_t len, const char *q, thaw_err *err)
{
    if (len == 0) {
        thaw_fail(err, THAW_EFORMAT, "%s: empty file: no CIFAR-10 records", q);
        return 0;
    }
    if (len % CIFAR_RECORD != 0) {
        if (len % (CIFAR_RECORD + 1) == 0)
            thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes, a multiple of 3074: this looks like "
                      "CIFAR-100 (two label bytes per record); thaw reads CIFAR-10", q, len);
        else
            thaw_fail(err, THAW_EFORMAT, "%s: %zu bytes, not a multiple of the 3073-byte "
                      "record: truncated record or trailing data (%zu bytes over)", q, len,
                      len % CIFAR_RECORD);
        return 0;
    }
    size_t n = len / CIFAR_RECORD;
    if (n > DS_MAX_IMAGES) {
        thaw_fail(err, THAW_EFORMAT, "%s: %zu records, more than the limit of %d", q, n,
                  DS_MAX_IMAGES);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (buf[i * CIFAR_RECORD] >= CIFAR_CLASSES) {
            thaw_fail(err, THAW_EFORMAT, "%s: record %zu has label %d; CIFAR-10 labels are "
                      "0 to 9", q, i, buf[i * CIFAR_RECORD]);
            return 0;
        }
    return n;
}

static int raw_alloc(ds_raw *out, size_t n, thaw_err *err)
{
    memset(out, 0, sizeof *out);
    out->shape = (shape3){ 3, CIFAR_SIDE, CIFAR_SIDE };
    out->pixels = ds_alloc(n * CIFAR_PIXELS);
    out->labels = malloc(sizeof(int) * n);
    if (!out->pixels || !out->labels) {
        ds_raw_free(out);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for %zu CIFAR-10 images", n);
    }
    int rc = ds_raw_set_names(out, cifar_class_names, CIFAR_CLASSES, err);
    if (rc)
        ds_raw_free(out);
    return rc;
}

int cifar_parse(ds_raw *out, const uint8_t *buf, size_t len, const char *name, thaw_err *err)
{
    char q[256];
    memset(out, 0, sizeof *out);
    size_t n = check_records(buf, len, utf8_quote(q, sizeof q, name), err);
    if (!n)
        return THAW_EFORMAT;
    int rc = raw_alloc(out, n, err);
    if (rc)
        return rc;
    append_records(out, buf, n);
    return THAW_OK;
}

int cifar_load(ds_raw *out, const char *path, thaw_err *err)
{
    uint8_t *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    int rc = ds_read_file(path, DS_MAX_FILE_BYTES, &buf, &len, err);
    if (rc)
        return rc;
    rc = cifar_parse(out, buf, len, path, err);
    free(buf);
    return rc;
}

enum { CIFAR_TRAIN_FILES = 5 };

int cifar_load_dir(ds_raw *train, ds_raw *test, const char *dir, thaw_err *err)
{
    char path[CIFAR_TRAIN_FILES + 1][PATH_MAX], q[256];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char missing[300] = "";
    int nmissing = 0;
    for (int f = 0; f <= CIFAR_TRAIN_FILES; f++) {
        char file[32];
        if (f < CIFAR_TRAIN_FILES)
            snprintf(file, sizeof file, "data_batch_%d.bin", f + 1);
        else
            snprintf(file, sizeof file, "test_batch.bin");
        if (snprintf(path[f], PATH_MAX, "%s/%s", dir, file) >= PATH_MAX)
            return thaw_fail(err, THAW_EINVAL, "%s: path too long", utf8_quote(q, sizeof q, dir));
        if (access(path[f], F_OK) != 0) {
            size_t o = strlen(missing);
            snprintf(missing + o, sizeof missing - o, "%s%s", nmissing ? ", " : "", file);
            nmissing++;
        }
    }
    if (nmissing)
        return thaw_fail(err, THAW_ENOTFOUND, "%s: missing %s (a CIFAR-10 folder holds "
                         "data_batch_1.bin to data_batch_5.bin and test_batch.bin)",
                         utf8_quote(q, sizeof q, dir), missing);

    uint8_t *buf[CIFAR_TRAIN_FILES + 1] = { 0 };
    size_t len[CIFAR_TRAIN_FILES + 1], n[CIFAR_TRAIN_FILES + 1], ntrain = 0;
    int rc = THAW_OK;
    for (int f = 0; f <= CIFAR_TRAIN_FILES && !rc; f++) {
        rc = ds_read_file(path[f], DS_MAX_FILE_BYTES, &buf[f], &len[f], err);
        if (!rc && !(n[f] = check_records(buf[f], len[f], utf8_quote(q, sizeof q, path[f]), err)))
            rc = THAW_EFORMAT;
        if (!rc && f < CIFAR_TRAIN_FILES && (ntrain += n[f]) > DS_MAX_IMAGES)
            rc = thaw_fail(err, THAW_EFORMAT, "%s: more than %d training images in all",
                           utf8_quote(q, sizeof q, dir), DS_MAX_IMAGES);
    }
    if (!rc)
        rc = raw_alloc(train, ntrain, err);
    if (!rc)
        rc = raw_alloc(test, n[CIFAR_TRAIN_FILES], err);
    if (!rc) {
        for (int f = 0; f < CIFAR_TRAIN_FILES; f++)
            append_records(train, buf[f], n[f]);
        append_records(test, buf[CIFAR_TRAIN_FILES], n[CIFAR_TRAIN_FILES]);
    }
    for (int f = 0; f <= CIFAR_TRAIN_FILES; f++)
        free(buf[f]);
    if (rc) {
        ds_raw_free(train);
        ds_raw_free(test);
    }
    return rc;
}
