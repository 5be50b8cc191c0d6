/* seqmean.c — mean over time of a sequence's real positions: (C, 1, L) ->
 * (C, 1, 1). A sample of n real positions (embedding_seq_len: its ids up to
 * the last non-padding one, shifted by what the layers between changed in
 * the length) gives y_c = (1/n) Σ_{t<n} x_{c,t}; padding never dilutes the
 * mean, and a sample with no real token gives 0. Without an embedding in the
 * model every position is real.
 *   dx_{c,t} = dy_c / n for t < n, 0 after. */
#include "model.h"

static int seqmean_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev;
    if (in.h != 1)
        return thaw_fail(err, THAW_ESHAPE, "expects a sequence Cx1xL, gets %dx%dx%d", in.c, in.h, in.w);
    l->out = (shape3){ in.c, 1, 1 };
    return THAW_OK;
}

static void seqmean_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    size_t C = (size_t)l->in.c, L = (size_t)l->in.w;
    for (int b = 0; b < batch; b++) {
        size_t n = (size_t)embedding_seq_len(m, b, (int)L);
        for (size_t c = 0; c < C; c++) {
            const float *xc = x + ((size_t)b * C + c) * L;   /* (L) */
            float s = 0.0f;
            for (size_t t = 0; t < n; t++)
                s += xc[t];
            l->y[(size_t)b * C + c] = n ? s / (float)n : 0.0f;
        }
    }
}

static void seqmean_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    (void)x;
    if (!dx)
        return;
    size_t C = (size_t)l->in.c, L = (size_t)l->in.w;
    for (int b = 0; b < batch; b++) {
        size_t n = (size_t)embedding_seq_len(m, b, (int)L);
        for (size_t c = 0; c < C; c++) {
            float g = n ? l->dy[(size_t)b * C + c] / (float)n : 0.0f;
            float *dxc = dx + ((size_t)b * C + c) * L;
            for (size_t t = 0; t < L; t++) {
                float v = t < n ? g : 0.0f;
                dxc[t] = acc ? dxc[t] + v : v;
            }
        }
    }
}

const layer_ops seqmean_ops = {
    .type = "seqmean",
    .flags = LAYER_SEQ,
    .plan = seqmean_plan,
    LAYER_PASSES(seqmean),
};
