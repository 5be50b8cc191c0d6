/* conv2d_impl.h — what conv2d.c and conv2d_depthwise.c share: the layer's
 * struct and how a pass splits its batch into tasks for the workers.
 *
 * A pass runs as tasks over consecutive chunks of images (par.h). The chunk
 * size depends on the batch alone — never on the thread count — and a task
 * writes only its own images' outputs and its own partial weight gradient
 * (in m->shared), which are added in task order afterwards; so a pass
 * computes the same bits on any number of threads.
 */
#ifndef THAW_CONV2D_IMPL_H
#define THAW_CONV2D_IMPL_H

#include "model.h"

typedef struct conv2d {
    layer base;
    int cin, cout, k, stride, pad, bias;
    int groups;
    int pt, pb, pl, pr;          /* padding per side: top, bottom, left, right */
} conv2d;

/* Every pass splits a batch into at least this many tasks (when it has as
 * many images), so that a few cores have work even where one chunk of
 * images would fill the GEMMs. */
#define CONV_MIN_TASKS 4

/* Images per task: at most `pref` (what the pass's GEMMs want), and few
 * enough for CONV_MIN_TASKS tasks. */
static inline int conv_chunk_images(int batch, int pref)
{
    int most = (batch + CONV_MIN_TASKS - 1) / CONV_MIN_TASKS;
    int nb = pref < most ? pref : most;
    return nb < 1 ? 1 : nb;
}

static inline int conv_tasks(int batch, int nb)
{
    return (batch + nb - 1) / nb;
}

/* The most tasks any batch of up to `batch` images makes with chunks of
 * conv_chunk_images(·, pref): what the partial sums need room for. */
static inline int conv_tasks_max(int batch, int pref)
{
    int n = conv_tasks(batch, pref);
    if (n < CONV_MIN_TASKS)
        n = CONV_MIN_TASKS;
    return n < batch ? n : batch;
}

/* One pass's inputs, shared by its tasks. */
typedef struct conv_job {
    conv2d *c;
    model *m;
    const float *x;
    const float *w, *bias;       /* forward: the weights (bias NULL: none) */
    float *y;                    /* forward: the output */
    float *dx;                   /* NULL: no input gradient */
    int acc;                     /* add into dx */
    int want_dw, want_db;        /* the weight (bias) trains: partial sums */
    int batch, nb;               /* images, images per task */
} conv_job;

/* Depthwise (G = C): conv2d_depthwise.c. Partial sums of task t go to
 * m->shared + t·O·R·R (weights) and after all tasks' weights (biases). */
int conv2d_depthwise(const conv2d *c);
int dw_chunk_images(int batch);
size_t dw_scratch_floats(const conv2d *c);
size_t dw_shared_floats(const conv2d *c, int batch);
void conv2d_forward_depthwise(conv2d *c, model *m, const float *x, const float *w,
                              const float *bias, float *y, int batch);
void conv2d_backward_depthwise(conv2d *c, model *m, const float *x, float *dx, int acc,
                               float *dw, float *db, int batch);

#endif
