/* residual.c — the residual container: y = act(body(x) + shortcut(x)).
 *
 *   x ─ body (a chain of children) ──────────────┐
 *   └── shortcut (a side child), or x itself ───(+) ─ act ─ y
 *
 * The ResNet basic block is body conv1 bn1 relu conv2 bn2, shortcut "proj"
 * (1×1 conv and BatchNorm) or none, act relu; MobileNet's inverted residual
 * is a body and no shortcut or activation. Children are named as PyTorch
 * names the block's attributes, so their tensors are "stage2.conv1.weight",
 * "stage2.proj.0.weight". Dimensions: B batch, the output (C, P, Q).
 * Backward: dsum = dy·act'(y) goes to the body's last child and to the
 * shortcut, which share the buffer; the input gradient is the sum of both
 * paths.
 */
#include <string.h>

#include "model.h"

typedef struct residual {
    layer base;
    int act;          /* enum residual_act */
    float *dsum;      /* (B, C, P, Q) gradient of the sum */
} residual;

/* The body's children come first; a shortcut is the last child. */
static layer *residual_shortcut(const layer *l)
{
    return l->nchild > 0 && l->child[l->nchild - 1]->side ? l->child[l->nchild - 1] : NULL;
}

static int residual_nbody(const layer *l)
{
    return l->nchild - (residual_shortcut(l) != NULL);
}

static int residual_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    int nbody = residual_nbody(l);
    layer *sc = residual_shortcut(l);
    if (nbody == 0)
        return thaw_fail(err, THAW_ESHAPE, "block %s has an empty body", l->path);
    int rc = layer_chain_plan(l->child, nbody, m, in, prev, err);
    if (rc == THAW_OK && sc)
        rc = layer_plan(sc, m, in, prev, err);
    if (rc)
        return rc;
    shape3 main = l->child[nbody - 1]->out, side = sc ? sc->out : in;
    if (main.c != side.c || main.h != side.h || main.w != side.w)
        return thaw_fail(err, THAW_ESHAPE, "block %s: the main path gives %dx%dx%d but the shortcut "
                         "gives %dx%dx%d", l->path, main.c, main.h, main.w, side.c, side.h, side.w);
    l->out = main;
    return THAW_OK;
}

static void residual_alloc(layer *l, arena *a, int batch)
{
    residual *r = (residual *)l;
    layer_alloc_children(l, a, batch);
    layer_alloc_io(l, a, batch);
    r->dsum = arena_alloc(a, (size_t)batch * shape3_count(l->out) * sizeof(float));
    for (int i = 0; i < l->nchild; i++)
        if (i == residual_nbody(l) - 1 || l->child[i]->side)
            layer_set_dy(l->child[i], r->dsum);
}

static void residual_forward(layer *l, model *m, const float *x, int batch, int train)
{
    residual *r = (residual *)l;
    int nbody = residual_nbody(l);
    layer *sc = residual_shortcut(l);
    layer_chain_forward(l->child, nbody, m, 0, x, batch, train);
    const float *side = x;
    if (sc) {
        sc->ops->forward(sc, m, x, batch, train);
        side = sc->y;
    }
    size_t n = (size_t)batch * shape3_count(l->out);
    const float *main = l->child[nbody - 1]->y;
    float *restrict y = l->y;
    if (r->act == RESIDUAL_ACT_RELU)
        for (size_t i = 0; i < n; i++) {
            float v = main[i] + side[i];
            y[i] = v > 0.0f ? v : 0.0f;
        }
    else
        for (size_t i = 0; i < n; i++)
            y[i] = main[i] + side[i];
}

static void residual_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    residual *r = (residual *)l;
    int nbody = residual_nbody(l);
    layer *sc = residual_shortcut(l);
    size_t n = (size_t)batch * shape3_count(l->out);
    float *restrict dsum = r->dsum;
    const float *restrict y = l->y, *restrict dy = l->dy;
    if (r->act == RESIDUAL_ACT_RELU)
        for (size_t i = 0; i < n; i++)
            dsum[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    else
        memcpy(dsum, dy, n * sizeof(float));
    /* The body, top down; it overwrites dx (or adds to it with acc). */
    layer_chain_backward(l->child, nbody, m, 0, x, dx, acc, batch);
    /* The shortcut adds its gradient to what the body left in dx. */
    int add = acc || (dx && l->child[0]->need_dx);
    if (sc) {
        if (sc->trainable || sc->need_dx)
            sc->ops->backward(sc, m, x, dx, add, batch);
    } else if (dx && add) {
        for (size_t i = 0; i < n; i++)
            dx[i] += dsum[i];
    } else if (dx) {
        memcpy(dx, dsum, n * sizeof(float));
    }
}

static int residual_grad_plan(layer *l, model *m, int upstream)
{
    layer *sc = residual_shortcut(l);
    l->need_dx = upstream;
    l->trainable = 0;
    int main = layer_chain_grad_plan(l->child, residual_nbody(l), m, upstream, &l->trainable);
    int side = sc ? layer_grad_plan(sc, m, upstream) : upstream;
    l->trainable |= sc && sc->trainable;
    return main || side;
}

static const layer_hparam residual_hp[] = {
    { "activation", LAYER_HP_CHOICE, 0, .def = RESIDUAL_ACT_NONE,
      .choices = (const char *const[]){ "none", "relu", NULL } },
};

static void residual_setup(layer *l, const double *hp)
{
    ((residual *)l)->act = (int)hp[0];
}

static void residual_hparams(const layer *l, double *hp)
{
    hp[0] = ((const residual *)l)->act;
}

const layer_ops residual_ops = {
    .type = "residual",
    .flags = LAYER_CONTAINER,
    .children = "body",
    .side = "shortcut",
    .size = sizeof(residual),
    LAYER_HPARAMS(residual),
    .plan = residual_plan,
    .alloc = residual_alloc,
    LAYER_PASSES(residual),
    .grad_plan = residual_grad_plan,
};

layer *residual_general_new(const char *name, int act)
{
    return layer_create(&residual_ops, name, (const double[]){ act }, NULL);
}

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
    layer *l = residual_general_new(name, RESIDUAL_ACT_RELU), *sc = NULL;
    if (!l) {
        thaw_fail(err, THAW_EINVAL, "block %s: cannot create it (name too long or out of memory)", name);
        return NULL;
    }
    thaw_err e = { 0 };
    int rc = layer_add(l, conv2d_new("conv1", cin, cout, 3, stride, 1, 0), &e);
    rc = rc ? rc : layer_add(l, batchnorm2d_new("bn1", cout, 1e-5f, 0.1f), &e);
    rc = rc ? rc : layer_add(l, relu_new("relu"), &e);
    rc = rc ? rc : layer_add(l, conv2d_new("conv2", cout, cout, 3, 1, 1, 0), &e);
    rc = rc ? rc : layer_add(l, batchnorm2d_new("bn2", cout, 1e-5f, 0.1f), &e);
    if (!rc && proj) {
        rc = layer_add_side(l, sc = sequential_new("proj"), &e);
        rc = rc ? rc : layer_add(sc, conv2d_new("0", cin, cout, 1, stride, 0, 0), &e);
        rc = rc ? rc : layer_add(sc, batchnorm2d_new("1", cout, 1e-5f, 0.1f), &e);
    }
    if (rc) {
        layer_free(l);
        thaw_fail(err, THAW_ENOMEM, "out of memory building block %s", name);
        return NULL;
    }
    return l;
}
