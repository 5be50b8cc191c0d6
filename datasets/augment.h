/* augment.h — training-time augmentation: random shift, horizontal flip,
 * Gaussian noise, each on or off.
 *
 *     augment a;
 *     if (augment_parse(&a, "shift=2,flip,noise", &err)) ... err.msg lists the choices ...
 *     augment_sample(&a, &geom, dst, src, &r);   // one augmented copy of one image
 *
 * The text form is the TUI's `set augment ...`: a comma-separated list of
 * shift[=PIXELS] (default 4), flip, noise[=SIGMA] (default 0.05, on the 0..1
 * pixel scale), or "none". A shift moves the image by a random whole number
 * of pixels in [-PIXELS, PIXELS] on each axis, filling what comes in with
 * black — a random crop of the image padded by PIXELS, as torchvision's
 * RandomCrop(padding=PIXELS) does. A flip mirrors left and right with
 * probability 1/2. Noise adds N(0, SIGMA) to every value. Every draw comes
 * from the rng passed in; the session gives each epoch its own stream (shuffle.h), so the
 * augmentations are re-drawn every epoch and repeat for a seed.
 */
#ifndef THAW_AUGMENT_H
#define THAW_AUGMENT_H

#include "ds.h"
#include "rng.h"

enum { AUGMENT_MAX_SHIFT = 64 };

typedef struct augment {
    int shift;          /* pixels each way; 0 = off */
    int flip;           /* 1 = random horizontal flips */
    float noise;        /* sigma on the 0..1 scale; 0 = off */
} augment;

/* Parses the text form into *a. THAW_EINVAL naming the bad item and listing
 * the choices: an unknown name, a repeated one, shift outside
 * 1..AUGMENT_MAX_SHIFT, noise outside (0, 1]. */
int augment_parse(augment *a, const char *text, thaw_err *err);

/* Writes the text form of a ("shift=4,flip" or "none") into buf. */
void augment_format(const augment *a, char *buf, size_t cap);

/* THAW_EINVAL when the shift is not smaller than the images' height and
 * width under geometry g. */
int augment_check(const augment *a, const ds_geom *g, thaw_err *err);

/* dst = an augmented copy of the normalised image src, both (c, h, w) under
 * g, not overlapping; draws from r only for the augmentations that are on. */
void augment_sample(const augment *a, const ds_geom *g, float *dst, const float *src, rng *r);

#endif
