/* shapes.h — the built-in synthetic data set: shapes drawn procedurally.
 *
 * Eight classes of outline shapes (circle, triangle, square, star, cross,
 * line, chevron, ring), each drawn with a random position, size, rotation,
 * stroke width, grey levels (or colours, for 3 channels) and Gaussian
 * noise, antialiased, directly at the model's input size. It needs no files:
 * tests and the offline fallback use it.
 *
 *     ds_raw train;
 *     if (shapes_make(&train, (shape3){ 1, 28, 28 }, 300, SHAPES_TRAIN, SHAPES_ALL, &err))
 *         ... out of memory ...
 *     ds_raw_free(&train);
 *
 * Determinism. Image i of class k in a split is drawn from a seed made of
 * (split, k, i) alone, so the set is the same in every run and for every
 * run seed, and a smaller set is a prefix of a larger one. The training and
 * test splits use different seeds and never share an image. Images are
 * stored with the classes interleaved: item j is class j % 8.
 */
#ifndef THAW_SHAPES_H
#define THAW_SHAPES_H

#include "ds.h"

enum { SHAPES_CLASSES = 8, SHAPES_MAX_PER_CLASS = 100000 };
enum { SHAPES_TRAIN, SHAPES_TEST };

extern const char *const shapes_class_names[SHAPES_CLASSES];

/* Draws one image of class cls (0..7) at shape s (c 1 or 3, h and w >= 1)
 * into out, (c, h, w) 8-bit, entirely from seed. */
void shapes_draw(uint8_t *out, shape3 s, int cls, uint64_t seed);

/* per_class images of each class of one split (SHAPES_TRAIN or
 * SHAPES_TEST) whose bit is set in keep (SHAPES_ALL: every class) at shape
 * s, with all the class names; an image is the same whichever other
 * classes are drawn. Errors: THAW_EINVAL (a shape that is not 1 or 3
 * channels and 1..DS_MAX_SIDE a side, per_class not
 * 1..SHAPES_MAX_PER_CLASS, a bad split, no class kept), THAW_ENOMEM. On
 * failure *out is zeroed. */
#define SHAPES_ALL ((1u << SHAPES_CLASSES) - 1)
int shapes_make(ds_raw *out, shape3 s, int per_class, int split, unsigned keep, thaw_err *err);

#endif
