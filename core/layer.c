/* layer.c — what every node shares: creation from hyper-parameters, paths,
 * planning, chains of children, and the sequential container. */
#include "layer.h"

#include <math.h>
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

/* ---- hyper-parameters ------------------------------------------------- */

int layer_hp_index(const layer_ops *ops, const char *key)
{
    for (int i = 0; i < ops->nhp; i++)
        if (!strcmp(ops->hp[i].key, key))
            return i;
    return -1;
}

double layer_hp_default(const layer_ops *ops, int i, const double *hp)
{
    const layer_hparam *h = &ops->hp[i];
    int from = h->def_from ? layer_hp_index(ops, h->def_from) : -1;
    return from >= 0 ? hp[from] : h->def;
}

double layer_hp_hi(const layer_ops *ops, int i, const double *hp)
{
    const layer_hparam *h = &ops->hp[i];
    int from = h->hi_from ? layer_hp_index(ops, h->hi_from) : -1;
    return from >= 0 ? floor(hp[from] / 2) : h->hi;
}

static int hp_count_choices(const layer_hparam *h)
{
    int n = 0;
    while (h->choices && h->choices[n])
        n++;
    return n;
}

int layer_hp_check(const layer_ops *ops, const double *hp, int *bad, thaw_err *err)
{
    for (int i = 0; i < ops->nhp; i++) {
        const layer_hparam *h = &ops->hp[i];
        double v = hp[i], lo = h->lo, hi = layer_hp_hi(ops, i, hp);
        if (h->kind == LAYER_HP_BOOL)
            lo = 0, hi = 1;
        if (h->kind == LAYER_HP_CHOICE)
            lo = 0, hi = hp_count_choices(h) - 1;
        int whole = h->kind != LAYER_HP_NUM;
        int ok = isfinite(v) && (!whole || v == floor(v)) &&
                 ((h->flags & LAYER_HP_LO_OPEN) ? v > lo : v >= lo) &&
                 ((h->flags & LAYER_HP_HI_OPEN) ? v < hi : v <= hi);
        if (!ok) {
            if (bad)
                *bad = i;
            return thaw_fail(err, THAW_EINVAL, "%s %s = %g: expected %s%g to %g%s", ops->type,
                             h->key, v, whole ? "an integer from " : "a number from ", lo, hi,
                             (h->flags & LAYER_HP_HI_OPEN) ? " (excluded)" : "");
        }
    }
    thaw_err why = { 0 };
    if (ops->relate && ops->relate(hp, bad, &why) != THAW_OK)
        return thaw_fail(err, THAW_EINVAL, "%s %s", ops->type, why.msg);
    return THAW_OK;
}

layer *layer_create(const layer_ops *ops, const char *name, const double *hp, thaw_err *err)
{
    thaw_err why = { 0 };
    if (layer_hp_check(ops, hp, NULL, &why) != THAW_OK) {
        thaw_fail(err, why.code, "layer '%s': %s", name, why.msg);
        return NULL;
    }
    layer *l = calloc(1, ops->size ? ops->size : sizeof(layer));
    if (!l) {
        thaw_fail(err, THAW_ENOMEM, "out of memory building layer %s", name);
        return NULL;
    }
    if (layer_init_base(l, ops, name) != THAW_OK) {
        free(l);
        thaw_fail(err, THAW_EINVAL, "layer name '%s': expected 1 to %d characters and no '.'",
                  name, LAYER_NAME_MAX - 1);
        return NULL;
    }
    if (ops->setup)
        ops->setup(l, hp);
    return l;
}

/* ---- buffers ---------------------------------------------------------- */

void layer_alloc_io(layer *l, arena *a, int batch)
{
    size_t bytes = (size_t)batch * shape3_count(l->out) * sizeof(float);
    l->y = arena_alloc(a, bytes);
    l->dy = arena_alloc(a, bytes);
}

void layer_alloc(layer *l, arena *a, int batch)
{
    if (l->ops->alloc)
        l->ops->alloc(l, a, batch);
    else
        layer_alloc_io(l, a, batch);
}

void layer_alloc_children(layer *l, arena *a, int batch)
{
    for (int i = 0; i < l->nchild; i++)
        layer_alloc(l->child[i], a, batch);
}

void layer_set_dy(layer *l, float *dy)
{
    l->dy = dy;
    if (l->ops->passes_last && l->nchild > 0)
        layer_set_dy(l->child[l->nchild - 1], dy);
}

int layer_plan_same(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    (void)m, (void)prev, (void)err;
    l->out = in;
    return THAW_OK;
}

void layer_free(layer *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->nchild; i++)
        layer_free(l->child[i]);
    free(l->child);
    free(l);
}

/* ---- children --------------------------------------------------------- */

static int layer_attach(layer *parent, layer *child, thaw_err *err)
{
    for (int i = 0; i < parent->nchild; i++)
        if (!strcmp(parent->child[i]->name, child->name))
            return thaw_fail(err, THAW_EINVAL, "'%s' already has a child named '%s'",
                             parent->name, child->name);
    if (parent->nchild == parent->cap) {
        int cap = parent->cap ? parent->cap * 2 : 4;
        layer **grown = realloc(parent->child, (size_t)cap * sizeof *grown);
        if (!grown)
            return thaw_fail(err, THAW_ENOMEM, "out of memory building the model");
        parent->child = grown;
        parent->cap = cap;
    }
    parent->child[parent->nchild++] = child;
    child->parent = parent;
    return THAW_OK;
}

static int layer_add_to(layer *parent, layer *child, int side, thaw_err *err)
{
    if (!child)
        return thaw_fail(err, THAW_ENOMEM, "out of memory building the model");
    int rc = THAW_OK;
    int allowed = parent && (side ? parent->ops->side != NULL : parent->ops->children != NULL);
    int has_side = parent && parent->nchild > 0 && parent->child[parent->nchild - 1]->side;
    if (!allowed)
        rc = thaw_fail(err, THAW_EINVAL, "layer '%s' cannot be added to %s", child->name,
                       parent ? parent->ops->type : "nothing");
    else if (has_side)
        rc = thaw_fail(err, THAW_EINVAL, "layer '%s': %s already has its %s; it comes last",
                       child->name, parent->name, parent->ops->side);
    else
        rc = layer_attach(parent, child, err);
    if (rc != THAW_OK) {
        layer_free(child);
        return rc;
    }
    child->side = side;
    return THAW_OK;
}

int layer_add(layer *parent, layer *child, thaw_err *err)
{
    return layer_add_to(parent, child, 0, err);
}

int layer_add_side(layer *parent, layer *child, thaw_err *err)
{
    return layer_add_to(parent, child, 1, err);
}

/* ---- planning --------------------------------------------------------- */

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
    if (rc == THAW_ESHAPE && !(l->ops->flags & LAYER_CONTAINER)) {
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

/* ---- chains ----------------------------------------------------------- */

int layer_chain_plan(layer **c, int n, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    shape3 s = in;
    for (int i = 0; i < n; i++) {
        int rc = layer_plan(c[i], m, s, i ? c[i - 1] : prev, err);
        if (rc != THAW_OK)
            return rc;
        s = c[i]->out;
    }
    return THAW_OK;
}

void layer_chain_forward(layer **c, int n, model *m, int first, const float *x, int batch, int train)
{
    for (int i = first; i < n; i++) {
        /* In model_predict a layer may compute its successor's output too. */
        if (m->predicting && i + 1 < n && c[i]->ops->fold && c[i]->ops->fold(c[i], m, x, batch, c[i + 1]))
            i++;
        else
            c[i]->ops->forward(c[i], m, x, batch, train);
        x = c[i]->y;
    }
}

void layer_chain_backward(layer **c, int n, model *m, int first, const float *x, float *dx, int acc,
                          int batch)
{
    for (int i = n - 1; i >= first; i--) {
        layer *l = c[i];
        if (!l->trainable && !l->need_dx)
            break;                    /* nothing below here trains */
        const float *cx = i > first ? c[i - 1]->y : x;
        float *cdx = l->need_dx ? (i > first ? c[i - 1]->dy : dx) : NULL;
        l->ops->backward(l, m, cx, cdx, i > first ? 0 : acc, batch);
    }
}

int layer_chain_grad_plan(layer **c, int n, model *m, int upstream, int *trainable)
{
    for (int i = 0; i < n; i++) {
        upstream = layer_grad_plan(c[i], m, upstream);
        *trainable |= c[i]->trainable;
    }
    return upstream;
}

/* ---- sequential ------------------------------------------------------- */

static int sequential_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    if (l->nchild == 0)
        return thaw_fail(err, THAW_ESHAPE, "container '%s' has no layers", l->path[0] ? l->path : "model");
    int rc = layer_chain_plan(l->child, l->nchild, m, in, prev, err);
    if (rc == THAW_OK)
        l->out = l->child[l->nchild - 1]->out;
    return rc;
}

static void sequential_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_children(l, a, batch);
    l->y = l->child[l->nchild - 1]->y;
    l->dy = l->child[l->nchild - 1]->dy;
}

void sequential_forward_from(layer *l, model *m, int first, const float *x, int batch, int train)
{
    layer_chain_forward(l->child, l->nchild, m, first, x, batch, train);
}

void sequential_backward_from(layer *l, model *m, int first, const float *x, float *dx, int acc,
                              int batch)
{
    layer_chain_backward(l->child, l->nchild, m, first, x, dx, acc, batch);
}

static void sequential_forward(layer *l, model *m, const float *x, int batch, int train)
{
    sequential_forward_from(l, m, 0, x, batch, train);
}

static void sequential_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    sequential_backward_from(l, m, 0, x, dx, acc, batch);
}

int layer_children_grad_plan(layer *l, model *m, int upstream)
{
    l->need_dx = upstream;
    l->trainable = 0;
    return layer_chain_grad_plan(l->child, l->nchild, m, upstream, &l->trainable);
}

const layer_ops sequential_ops = {
    .type = "sequential",
    .flags = LAYER_CONTAINER,
    .children = "layers",
    .torch = "nn.Sequential",
    .passes_last = 1,
    .plan = sequential_plan,
    .alloc = sequential_alloc,
    LAYER_PASSES(sequential),
    .grad_plan = layer_children_grad_plan,
};
