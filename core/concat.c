/* concat.c — the concat container: its children are branches that each
 * read the container's input, and their outputs are stacked along the
 * channels, in order: the parallel filter widths of Kim (2014)'s CNN over
 * words (conv1d of 3, 4 and 5 words, each with its max over time).
 *
 * Dimensions: B batch, x any shape; branch k gives (C_k, H, W), every
 * branch the same H and W; y (ΣC_k, H, W).
 *   y[:, C_0 + ... + C_(k-1) + c] = branch_k(x)[:, c]
 *   each branch's output gradient is its block of dy; dx = Σ_k (the
 *   branch's input gradient). */
#include <string.h>

#include "model.h"

static int concat_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    if (l->nchild == 0)
        return thaw_fail(err, THAW_ESHAPE, "concat %s has no branches", l->path);
    shape3 out = { 0, 0, 0 };
    for (int i = 0; i < l->nchild; i++) {
        int rc = layer_plan(l->child[i], m, in, prev, err);
        if (rc)
            return rc;
        shape3 o = l->child[i]->out;
        if (i && (o.h != out.h || o.w != out.w))
            return thaw_fail(err, THAW_ESHAPE, "concat %s: branch %s gives %dx%dx%d, but branch %s "
                             "gives %dx%d planes", l->path, l->child[i]->name, o.c, o.h, o.w,
                             l->child[0]->name, out.h, out.w);
        out.c += o.c, out.h = o.h, out.w = o.w;
    }
    l->out = out;
    return THAW_OK;
}

static void concat_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_children(l, a, batch);
    layer_alloc_io(l, a, batch);
}

static void concat_forward(layer *l, model *m, const float *x, int batch, int train)
{
    size_t plane = (size_t)l->out.h * l->out.w, total = (size_t)l->out.c * plane, at = 0;
    for (int i = 0; i < l->nchild; i++) {
        layer *c = l->child[i];
        c->ops->forward(c, m, x, batch, train);
        size_t n = (size_t)c->out.c * plane;
        for (int b = 0; b < batch; b++)
            memcpy(l->y + (size_t)b * total + at, c->y + (size_t)b * n, n * sizeof(float));
        at += n;
    }
}

static void concat_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    size_t plane = (size_t)l->out.h * l->out.w, total = (size_t)l->out.c * plane, at = 0;
    int first = 1;
    for (int i = 0; i < l->nchild; i++) {
        layer *c = l->child[i];
        size_t n = (size_t)c->out.c * plane;
        if (c->trainable || c->need_dx) {
            for (int b = 0; b < batch; b++)
                memcpy(c->dy + (size_t)b * n, l->dy + (size_t)b * total + at, n * sizeof(float));
            float *cdx = c->need_dx ? dx : NULL;
            c->ops->backward(c, m, x, cdx, cdx && !first ? 1 : acc, batch);
            first &= !cdx;
        }
        at += n;
    }
}

/* Every branch reads the input: each is planned with the same upstream. */
static int concat_grad_plan(layer *l, model *m, int upstream)
{
    l->need_dx = upstream;
    l->trainable = 0;
    int any = upstream;
    for (int i = 0; i < l->nchild; i++) {
        any |= layer_grad_plan(l->child[i], m, upstream);
        l->trainable |= l->child[i]->trainable;
    }
    return any;
}

const layer_ops concat_ops = {
    .type = "concat",
    .flags = LAYER_CONTAINER,
    .children = "branches",
    .plan = concat_plan,
    .alloc = concat_alloc,
    LAYER_PASSES(concat),
    .grad_plan = concat_grad_plan,
};
