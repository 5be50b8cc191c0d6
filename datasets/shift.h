/* shift.h — a domain shift thaw computes on a data set's images: the same
 * classes, another distribution of pixels (P_s(X) != P_t(X)), with no file
 * to download. `fashion:shift=invert` is Fashion-MNIST in inverted polarity,
 * the built-in target domain of a domain-adaptation pair.
 *
 *     ds_shift s;
 *     if (ds_shift_parse(&s, "rotate=30+noise=0.1", &err)) ... err.msg lists the choices ...
 *     ds_shift_apply(&s, &raw, DS_SHIFT_TRAIN);      // every image of raw, in place
 *
 * The text form is a spec's shift= value: items joined by '+', each at most
 * once, in any order:
 *   invert        p -> 255 - p (dark on light instead of light on dark)
 *   rotate=DEG    a rotation by DEG degrees (-180..180, counter-clockwise)
 *                 about the image's centre, bilinear, filling with 0
 *   noise=SIGMA   Gaussian noise of std SIGMA on the 0..1 scale (0 < SIGMA <= 1)
 *   contrast=C    p -> m + C (p - m), m the image's own mean (0 < C <= 4; below
 *                 1 flattens, above 1 sharpens)
 * then clamped to 0..255. They apply in a fixed order whatever the written
 * one: rotate, contrast, invert, noise (geometry first, noise last, so the
 * noise is not rotated or inverted).
 *
 * Determinism. The noise of image i of a split comes from a seed made of
 * (split, i) alone: a shifted domain is the same set of images in every run
 * and for every run seed, as the unshifted one is.
 */
#ifndef THAW_SHIFT_H
#define THAW_SHIFT_H

#include <stddef.h>

#include "ds.h"

enum { DS_SHIFT_TRAIN, DS_SHIFT_TEST };
enum { DS_SHIFT_TEXT_MAX = 96 };

typedef struct ds_shift {
    int invert;          /* 1: invert polarity */
    float rotate;        /* degrees; 0 = off */
    float noise;         /* sigma on the 0..1 scale; 0 = off */
    float contrast;      /* factor; 0 = off (1 would change nothing) */
} ds_shift;

/* Parses the text form into *s. THAW_EINVAL naming the bad item and listing
 * the choices: an unknown name, one given twice, a value out of its range or
 * missing (rotate, noise, contrast need one; invert takes none), an empty
 * item. */
int ds_shift_parse(ds_shift *s, const char *text, thaw_err *err);

/* The canonical text form ("rotate=30+invert", or "none" when nothing is on)
 * into buf. */
void ds_shift_format(const ds_shift *s, char *buf, size_t cap);

/* 1 when any part of the shift is on. */
int ds_shift_on(const ds_shift *s);

/* Applies s to every image of r in place or, for a source read on demand
 * (r->pixels NULL: an image folder), to each image as it is read (r's read
 * is wrapped; ds_raw_free frees the wrapper). `split` (DS_SHIFT_TRAIN or
 * DS_SHIFT_TEST) and the image's index seed the noise. THAW_ENOMEM. */
int ds_shift_apply(const ds_shift *s, ds_raw *r, int split, thaw_err *err);

#endif
