#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int optim_init(optim *o, const model *m, optim_kind kind, thaw_err *err)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = kind == OPTIM_ADAMW ? 0.01f : 0.0f;
    o->n = m->nfloat;
    o->state1 = calloc(o->n ? o->n : 1, sizeof(float));
    o->state2 = kind == OPTIM_ADAMW ? calloc(o->n ? o->n : 1, sizeof(float)) : NULL;
    o->nslice = m->nslice;
    o->slice_steps = calloc(m->nslice ? (size_t)m->nslice : 1, sizeof *o->slice_steps);
    if (!o->state1 || (kind == OPTIM_ADAMW && !o->state2) || !o->slice_steps) {
        optim_free(o);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for the optimizer's state");
    }
    return THAW_OK;
}

static void sgd_slice(const optim *o, float *w, const float *g, float *buf, size_t n, float lr)
{
    float mu = o->momentum, wd = o->weight_decay;
    for (size_t i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        if (mu != 0.0f) {
            buf[i] = mu * buf[i] + d;
            d = o->nesterov ? d + mu * buf[i] : buf[i];
        }
        /* Two statements: clang contracts w - lr·d into one fused
         * multiply-add by default, which rounds differently from gcc's
         * build and from w - lr·g computed step by step. */
        float step = lr * d;
        w[i] -= step;
    }
}

static void adamw_slice(const optim *o, float *w, const float *g, float *m1, float *m2,
                        size_t n, float lr, long t)
{
    float b1 = o->beta1, b2 = o->beta2;
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
    float decay = 1.0f - lr * o->weight_decay;
    for (size_t i = 0; i < n; i++) {
        m1[i] = b1 * m1[i] + (1.0f - b1) * g[i];
        m2[i] = b2 * m2[i] + (1.0f - b2) * g[i] * g[i];
        float denom = sqrtf(m2[i] / c2) + o->eps;
        w[i] = w[i] * decay - lr * (m1[i] / c1) / denom;
    }
}

void optim_step(optim *o, model *m, float lr_scale)
{
    o->steps++;
    for (int s = 0; s < m->nslice; s++) {
        const param_slice *p = &m->slice[s];
        if (p->frozen || p->kind == PARAM_STAT)
            continue;
        float lr = p->lr * lr_scale;
        long t = ++o->slice_steps[s];
        /* A row-sparse slice moves on the rows its gradient touched, and
         * only there: each row is a slice of its own. */
        size_t width = p->row ? (size_t)p->dim[1] : p->len;
        for (int i = 0; i < (p->row ? p->nrow : 1); i++) {
            size_t off = p->off + (p->row ? (size_t)p->row[i] * width : 0);
            if (o->kind == OPTIM_SGD)
                sgd_slice(o, m->param + off, m->grad + off, o->state1 + off, width, lr);
            else
                adamw_slice(o, m->param + off, m->grad + off, o->state1 + off, o->state2 + off,
                            width, lr, t);
        }
    }
}

void optim_free(optim *o)
{
    free(o->state1);
    free(o->state2);
    free(o->slice_steps);
    memset(o, 0, sizeof *o);
}
