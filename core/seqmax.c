/* seqmax.c — max over time of a sequence's real positions: (C, 1, L) ->
 * (C, 1, 1), Kim (2014)'s max-over-time pooling. A sample of n real
 * positions (embedding_seq_len, as seqmean) gives y_c = max_{t<n} x_{c,t}
 * (the first of equal maxima); a sample with no real token gives 0. Without
 * an embedding in the model every position is real.
 *   dx_{c,t} = dy_c where t is the maximum's position, 0 elsewhere. */
#include <stdint.h>

#include "model.h"

typedef struct seqmax {
    layer base;
    int32_t *arg;     /* (B, C) the maximum's position, -1 for none */
} seqmax;

static int seqmax_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev;
    if (in.h != 1)
        return thaw_fail(err, THAW_ESHAPE, "expects a sequence Cx1xL, gets %dx%dx%d", in.c, in.h, in.w);
    l->out = (shape3){ in.c, 1, 1 };
    return THAW_OK;
}

static void seqmax_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
    ((seqmax *)l)->arg = arena_alloc(a, (size_t)batch * shape3_count(l->out) * sizeof(int32_t));
}

static void seqmax_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    seqmax *p = (seqmax *)l;
    size_t C = (size_t)l->in.c, L = (size_t)l->in.w;
    for (int b = 0; b < batch; b++) {
        size_t n = (size_t)embedding_seq_len(m, b, (int)L);
        for (size_t c = 0; c < C; c++) {
            const float *xc = x + ((size_t)b * C + c) * L;   /* (L) */
            size_t bc = (size_t)b * C + c;
            int32_t best = n ? 0 : -1;
            for (size_t t = 1; t < n; t++)
                if (xc[t] > xc[best])
                    best = (int32_t)t;
            p->arg[bc] = best;
            l->y[bc] = best < 0 ? 0.0f : xc[best];
        }
    }
}

static void seqmax_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)m, (void)x;
    if (!dx)
        return;
    const seqmax *p = (const seqmax *)l;
    size_t C = (size_t)l->in.c, L = (size_t)l->in.w;
    for (size_t bc = 0; bc < (size_t)batch * C; bc++) {
        float *dxc = dx + bc * L;
        if (!acc)
            for (size_t t = 0; t < L; t++)
                dxc[t] = 0.0f;
        if (p->arg[bc] >= 0)
            dxc[p->arg[bc]] += l->dy[bc];
    }
}

const layer_ops seqmax_ops = {
    .type = "seqmax",
    .flags = LAYER_SEQ,
    .size = sizeof(seqmax),
    .plan = seqmax_plan,
    .alloc = seqmax_alloc,
    LAYER_PASSES(seqmax),
};
