/* layer.c — what every node shares, and the sequential container. */
#include "layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int layer_init_base(layer *l, const layer_ops *ops, const char *name)
{
    memset(l, 0, sizeof *l);
    l->ops = ops;
    size_t n = strlen(name);
    if (n == 0 || n >= LAYER_NAME_MAX || strchr(name, '.'))
        return THAW_EINVAL;
    memcpy(l->name, name, n + 1);
    return THAW_OK;
}

void layer_alloc_io(layer *l, arena *a, int batch)
{
    size_t bytes = (size_t)batch * shape3_count(l->out) * sizeof(float);
    l->y = arena_alloc(a, bytes);
    l->dy = arena_alloc(a, bytes);
}

void layer_set_dy(layer *l, float *dy)
{
    l->dy = dy;
    if (l->ops->container && l->nchild > 0 && !strcmp(l->ops->type, "sequential"))
        layer_set_dy(l->child[l->nchild - 1], dy);
}

void layer_free(layer *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nchild; i++)
        layer_free(l->child[i]);
    free(l->child);
    if (l->ops->destroy)
        l->ops->destroy(l);
    free(l);
}

/* Appends without the container check, for containers that build their own
 * fixed children (the residual block). */
static int layer_attach(layer *parent, layer *child)
{
    for (int i = 0; i < parent->nchild; i++)
        if (!strcmp(parent->child[i]->name, child->name))
            return THAW_EINVAL;
    if (parent->nchild == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 4;
        layer **grown = realloc(parent->child, (size_t)cap * sizeof *grown);
        if (!grown)
            return THAW_ENOMEM;
        parent->child = grown;
        parent->cap = cap;
    }
    parent->child[parent->nchild++] = child;
    child->parent = parent;
    return THAW_OK;
}

int layer_add(layer *parent, layer *child, thaw_err *err)
{
    if (!child)
        return thaw_fail(err, THAW_ENOMEM, "out of memory building the model");
    int rc;
    if (!parent || strcmp(parent->ops->type, "sequential")) {
        rc = thaw_fail(err, THAW_EINVAL, "layer '%s' can only be added to a sequential container",
                       child->name);
    } else if ((rc = layer_attach(parent, child)) != THAW_OK) {
        rc = rc == THAW_ENOMEM
           ? thaw_fail(err, rc, "out of memory building the model")
           : thaw_fail(err, rc, "'%s' already has a child named '%s'", parent->name, child->name);
    }
    if (rc != THAW_OK)
        layer_free(child);
    return rc;
}

int layer_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    const layer *p = l->parent;
    if (p) {
        int n = p->path[0] ? snprintf(l->path, sizeof l->path, "%s.%s", p->path, l->name)
                           : snprintf(l->path, sizeof l->path, "%s", l->name);
        if (n < 0 || (size_t)n >= sizeof l->path)
            return thaw_fail(err, THAW_EINVAL, "layer %s.%s: the model nests too deeply (paths "
                             "are limited to %d characters)", p->path, l->name, LAYER_PATH_MAX - 1);
    }
    l->in = in;
    thaw_err detail = {0};
    int rc = l->ops->plan(l, m, in, prev, &detail);
    if (rc == THAW_ESHAPE && !l->ops->container) {
        if (prev)
            return thaw_fail(err, rc, "layer %s (%s) cannot follow layer %s (%s): %s", l->path,
                             l->ops->type, prev->path[0] ? prev->path : "model", prev->ops->type,
                             detail.msg);
        return thaw_fail(err, rc, "layer %s (%s) cannot take the model input: %s", l->path,
                         l->ops->type, detail.msg);
    }
    if (rc != THAW_OK && err) {
        err->code = rc;
        memcpy(err->msg, detail.msg, sizeof err->msg);
    }
    return rc;
}

int layer_grad_plan(layer *l, model *m, int upstream)
{
    if (l->ops->grad_plan)
        return l->ops->grad_plan(l, m, upstream);
    l->need_dx = upstream;
    l->trainable = 0;
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
        if (m->slice[s].kind != PARAM_STAT && !m->slice[s].frozen)
            l->trainable = 1;
    return upstream || l->trainable;
}

int layer_adopt(layer *parent, layer *child)
{
    if (!child)
        return THAW_ENOMEM;
    int rc = layer_attach(parent, child);
    if (rc != THAW_OK)
        layer_free(child);
    return rc;
}

/* ---- sequential ------------------------------------------------------- */

static int sequential_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    if (l->nchild == 0)
        return thaw_fail(err, THAW_ESHAPE, "container '%s' has no layers", l->path[0] ? l->path : "model");
    shape3 s = in;
    for (int i = 0; i < l->nchild; i++) {
        int rc = layer_plan(l->child[i], m, s, i ? l->child[i - 1] : prev, err);
        if (rc != THAW_OK)
            return rc;
        s = l->child[i]->out;
    }
    l->out = s;
    return THAW_OK;
}

static void sequential_alloc(layer *l, arena *a, int batch)
{
    for (int i = 0; i < l->nchild; i++)
        l->child[i]->ops->alloc(l->child[i], a, batch);
    l->y = l->child[l->nchild - 1]->y;
    l->dy = l->child[l->nchild - 1]->dy;
}

void sequential_forward_from(layer *l, model *m, int first, const float *x, int batch, int train)
{
    for (int i = first; i < l->nchild; i++) {
        layer *c = l->child[i];
        c->ops->forward(c, m, x, batch, train);
        x = c->y;
    }
}

void sequential_backward_from(layer *l, model *m, int first, const float *x, float *dx, int acc,
                              int batch)
{
    for (int i = l->nchild - 1; i >= first; i--) {
        layer *c = l->child[i];
        if (!c->trainable && !c->need_dx)
            break;                    /* nothing below here trains */
        const float *cx = i > first ? l->child[i - 1]->y : x;
        float *cdx = c->need_dx ? (i > first ? l->child[i - 1]->dy : dx) : NULL;
        c->ops->backward(c, m, cx, cdx, i > first ? 0 : acc, batch);
    }
}

static void sequential_forward(layer *l, model *m, const float *x, int batch, int train)
{
    sequential_forward_from(l, m, 0, x, batch, train);
}

static void sequential_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    sequential_backward_from(l, m, 0, x, dx, acc, batch);
}

static int sequential_grad_plan(layer *l, model *m, int upstream)
{
    l->need_dx = upstream;
    l->trainable = 0;
    for (int i = 0; i < l->nchild; i++) {
        upstream = layer_grad_plan(l->child[i], m, upstream);
        l->trainable |= l->child[i]->trainable;
    }
    return upstream;
}

static const layer_ops sequential_ops = {
    .type = "sequential",
    .container = 1,
    .plan = sequential_plan,
    .alloc = sequential_alloc,
    .forward = sequential_forward,
    .backward = sequential_backward,
    .grad_plan = sequential_grad_plan,
};

layer *sequential_new(const char *name)
{
    layer *l = malloc(sizeof *l);
    if (!l)
        return NULL;
    if (layer_init_base(l, &sequential_ops, name) != THAW_OK) {
        free(l);
        return NULL;
    }
    return l;
}
