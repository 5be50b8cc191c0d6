/* batch.c — seeded per-epoch batches; see batch.h. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "shuffle.h"

int batch_init(batch_iter *b, const ds_split *s, const ds_geom *g, int size, int shuffle,
               const augment *aug, unsigned long long seed, thaw_err *err)
{
    memset(b, 0, sizeof *b);
    if (size < 1)
        return thaw_fail(err, THAW_EINVAL, "batch size %d: expected at least 1", size);
    if (s->n < 1)
        return thaw_fail(err, THAW_EINVAL, "no images to make batches of");
    int rc = ds_geom_check(g, err);
    if (!rc && aug && shuffle)
        rc = augment_check(aug, g, err);
    if (rc)
        return rc;
    size_t per = shape3_count(g->in);
    b->split = s;
    b->geom = *g;
    if (aug && shuffle)
        b->aug = *aug;
    b->size = size < s->n ? size : s->n;
    b->shuffle = shuffle;
    b->seed = seed;
    b->order = malloc(sizeof(int) * (size_t)s->n);
    b->x = malloc(sizeof(float) * per * (size_t)b->size);
    b->y = malloc(sizeof(int) * (size_t)b->size);
    b->tmp = malloc(sizeof(float) * per);
    if (!b->order || !b->x || !b->y || !b->tmp) {
        batch_free(b);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for batches of %d", size);
    }
    batch_epoch(b, 0);
    return THAW_OK;
}

void batch_epoch(batch_iter *b, int e)
{
    b->epoch = e;
    b->pos = 0;
    b->rng = shuffle_stream(b->seed, e);
    shuffle_order(b->order, b->split->n, b->shuffle ? &b->rng : NULL);
}

int batch_next(batch_iter *b)
{
    if (b->pos >= b->split->n) {
        batch_epoch(b, b->epoch + 1);
        return 0;
    }
    int n = b->split->n - b->pos < b->size ? b->split->n - b->pos : b->size;
    int augmenting = b->aug.shift || b->aug.flip || b->aug.noise > 0.0f;
    size_t per = shape3_count(b->geom.in);
    for (int k = 0; k < n; k++) {
        int i = b->order[b->pos + k];
        float *dst = b->x + (size_t)k * per;
        if (augmenting) {
            ds_split_image(b->split, &b->geom, i, b->tmp);
            augment_sample(&b->aug, &b->geom, dst, b->tmp, &b->rng);
        } else {
            ds_split_image(b->split, &b->geom, i, dst);
        }
        b->y[k] = b->split->y[i];
    }
    b->pos += n;
    return n;
}

int batch_count(const batch_iter *b)
{
    return (b->split->n + b->size - 1) / b->size;
}

void batch_free(batch_iter *b)
{
    free(b->order);
    free(b->x);
    free(b->y);
    free(b->tmp);
    memset(b, 0, sizeof *b);
}
