/* residual.c — a ResNet basic block, as torchvision and the reference model
 * define it:
 *
 *   x ─ conv1(3×3, stride) ─ bn1 ─ relu ─ conv2(3×3) ─ bn2 ─┐
 *   └──────────── x, or proj = conv(1×1, stride) ─ bn ──────(+) ─ relu ─ y
 *
 * Children, named as PyTorch names them: conv1, bn1, conv2, bn2 and, with a
 * projection, proj (a sequential of "0" conv and "1" BatchNorm). The ReLU
 * after bn1 is fused into bn1; the block owns the sum and the final ReLU.
 * Backward: dsum = dy·[y > 0] goes to bn2 and to the shortcut, which share
 * the buffer; the input gradient is the sum of both paths.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"

typedef struct residual {
    layer base;
    int cin, cout, stride;
    layer *conv1, *bn1, *conv2, *bn2, *proj;   /* children, proj may be NULL */
    float *dsum;                                /* (B, cout, P, Q) */
} residual;

static int residual_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    residual *r = (residual *)l;
    int rc;
    if ((rc = layer_plan(r->conv1, m, in, prev, err)) ||
        (rc = layer_plan(r->bn1, m, r->conv1->out, r->conv1, err)) ||
        (rc = layer_plan(r->conv2, m, r->bn1->out, r->bn1, err)) ||
        (rc = layer_plan(r->bn2, m, r->conv2->out, r->conv2, err)))
        return rc;
    if (r->proj && (rc = layer_plan(r->proj, m, in, prev, err)))
        return rc;
    shape3 main = r->bn2->out, side = r->proj ? r->proj->out : in;
    if (main.c != side.c || main.h != side.h || main.w != side.w)
        return thaw_fail(err, THAW_ESHAPE, "block %s: the main path gives %dx%dx%d but the shortcut "
                         "gives %dx%dx%d", l->path, main.c, main.h, main.w, side.c, side.h, side.w);
    l->out = main;
    return THAW_OK;
}

static void residual_alloc(layer *l, arena *a, int batch)
{
    residual *r = (residual *)l;
    for (int i = 0; i < l->nchild; i++)
        l->child[i]->ops->alloc(l->child[i], a, batch);
    layer_alloc_io(l, a, batch);
    r->dsum = arena_alloc(a, (size_t)batch * shape3_count(l->out) * sizeof(float));
    layer_set_dy(r->bn2, r->dsum);
    if (r->proj)
        layer_set_dy(r->proj, r->dsum);
}

static void residual_forward(layer *l, model *m, const float *x, int batch, int train)
{
    residual *r = (residual *)l;
    r->conv1->ops->forward(r->conv1, m, x, batch, train);
    r->bn1->ops->forward(r->bn1, m, r->conv1->y, batch, train);
    r->conv2->ops->forward(r->conv2, m, r->bn1->y, batch, train);
    r->bn2->ops->forward(r->bn2, m, r->conv2->y, batch, train);
    const float *side = x;
    if (r->proj) {
        r->proj->ops->forward(r->proj, m, x, batch, train);
        side = r->proj->y;
    }
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *main = r->bn2->y;
    float *restrict y = l->y;
    for (size_t i = 0; i < n; i++) {
        float v = main[i] + side[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

static void residual_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    residual *r = (residual *)l;
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict dsum = r->dsum;
    const float *restrict y = l->y, *restrict dy = l->dy;
    for (size_t i = 0; i < n; i++)
        dsum[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    /* Main path, top down; each child overwrites its input's gradient. */
    layer *path[] = { r->bn2, r->conv2, r->bn1, r->conv1 };
    const float *in[] = { r->conv2->y, r->bn1->y, r->conv1->y, x };
    float *din[] = { r->conv2->dy, r->bn1->dy, r->conv1->dy, dx };
    for (int i = 0; i < 4; i++) {
        layer *c = path[i];
        if (!c->trainable && !c->need_dx)
            break;
        c->ops->backward(c, m, in[i], c->need_dx ? din[i] : NULL, i == 3 ? acc : 0, batch);
    }
    /* The shortcut adds its gradient to what the main path left in dx. */
    int add = acc || (dx && r->conv1->need_dx);
    if (r->proj) {
        if (r->proj->trainable || r->proj->need_dx)
            r->proj->ops->backward(r->proj, m, x, dx, add, batch);
    } else if (dx && add) {
        for (size_t i = 0; i < n; i++)
            dx[i] += dsum[i];
    } else if (dx) {
        memcpy(dx, r->dsum, n * sizeof(float));
    }
}

static int residual_grad_plan(layer *l, model *m, int upstream)
{
    residual *r = (residual *)l;
    l->need_dx = upstream;
    int main = upstream;
    layer *path[] = { r->conv1, r->bn1, r->conv2, r->bn2 };
    for (int i = 0; i < 4; i++)
        main = layer_grad_plan(path[i], m, main);
    int side = r->proj ? layer_grad_plan(r->proj, m, upstream) : upstream;
    l->trainable = 0;
    for (int i = 0; i < l->nchild; i++)
        l->trainable |= l->child[i]->trainable;
    return main || side;
}

static const layer_ops residual_ops = {
    .type = "residual",
    .container = 1,
    .plan = residual_plan,
    .alloc = residual_alloc,
    .forward = residual_forward,
    .backward = residual_backward,
    .grad_plan = residual_grad_plan,
};

layer *residual_new(const char *name, int cin, int cout, int stride, int proj, thaw_err *err)
{
    if (cin < 1 || cout < 1 || stride < 1) {
        thaw_fail(err, THAW_EINVAL, "block %s: channels and stride must be at least 1", name);
        return NULL;
    }
    if (!proj && (stride != 1 || cin != cout)) {
        thaw_fail(err, THAW_EINVAL, "block %s: going from %d to %d channels with stride %d needs "
                  "a projection shortcut", name, cin, cout, stride);
        return NULL;
    }
    residual *r = calloc(1, sizeof *r);
    if (!r || layer_init_base(&r->base, &residual_ops, name) != THAW_OK) {
        free(r);
        thaw_fail(err, THAW_EINVAL, "block %s: cannot create it (name too long or out of memory)", name);
        return NULL;
    }
    layer *l = &r->base;
    r->cin = cin;
    r->cout = cout;
    r->stride = stride;
    int rc = layer_adopt(l, r->conv1 = conv2d_new("conv1", cin, cout, 3, stride, 1, 0));
    rc = rc ? rc : layer_adopt(l, r->bn1 = batchnorm2d_new("bn1", cout, 1e-5f, 0.1f));
    rc = rc ? rc : layer_adopt(l, r->conv2 = conv2d_new("conv2", cout, cout, 3, 1, 1, 0));
    rc = rc ? rc : layer_adopt(l, r->bn2 = batchnorm2d_new("bn2", cout, 1e-5f, 0.1f));
    if (!rc && proj) {
        rc = layer_adopt(l, r->proj = sequential_new("proj"));
        rc = rc ? rc : layer_adopt(r->proj, conv2d_new("0", cin, cout, 1, stride, 0, 0));
        rc = rc ? rc : layer_adopt(r->proj, batchnorm2d_new("1", cout, 1e-5f, 0.1f));
    }
    if (rc) {
        layer_free(l);
        thaw_fail(err, THAW_ENOMEM, "out of memory building block %s", name);
        return NULL;
    }
    batchnorm2d_fuse_relu(r->bn1);
    return l;
}
