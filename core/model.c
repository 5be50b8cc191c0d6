/* model.c — parameters in one block, freezing, and the passes over the tree. */
#include "model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_DEFAULT_LR 0.01f

int model_declare(model *m, layer *l, const char *name, int kind, int ndim,
                  const int *dim, thaw_err *err)
{
    if (m->nslice == m->slicecap) {
        int cap = m->slicecap ? m->slicecap * 2 : 32;
        param_slice *grown = realloc(m->slice, (size_t)cap * sizeof *grown);
        if (!grown) {
            thaw_fail(err, THAW_ENOMEM, "out of memory declaring %s.%s", l->path, name);
            return -1;
        }
        m->slice = grown;
        m->slicecap = cap;
    }
    param_slice *s = &m->slice[m->nslice];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s%s%s", l->path, l->path[0] ? "." : "", name);
    s->owner = l;
    s->kind = kind;
    s->ndim = ndim;
    s->len = 1;
    for (int i = 0; i < ndim; i++) {
        s->dim[i] = dim[i];
        s->len *= (size_t)dim[i];
    }
    s->off = m->nfloat;
    s->lr = MODEL_DEFAULT_LR;
    m->nfloat += (s->len + 15) & ~(size_t)15;   /* every slice starts on a cache line */
    if (l->nslice == 0)
        l->slice0 = m->nslice;
    l->nslice++;
    return m->nslice++;
}

int model_declare_rows(model *m, layer *l, const char *name, int kind, int rows, int width,
                       thaw_err *err)
{
    int s = model_declare(m, l, name, kind, 2, (const int[]){ rows, width }, err);
    if (s >= 0)
        m->slice[s].nrow = -1;   /* model_build gives it its row set */
    return s;
}

/* The row sets of row-sparse slices, once the slices stop moving. */
static int model_alloc_rows(model *m, thaw_err *err)
{
    for (int i = 0; i < m->nslice; i++) {
        param_slice *p = &m->slice[i];
        if (p->nrow != -1)
            continue;
        p->nrow = 0;
        p->row = malloc((size_t)p->dim[0] * sizeof *p->row);
        p->seen = calloc((size_t)p->dim[0], 1);
        if (!p->row || !p->seen)
            return thaw_fail(err, THAW_ENOMEM, "out of memory for the row set of %s", p->name);
    }
    return THAW_OK;
}

static void model_init_params(layer *l, model *m, rng *r)
{
    for (int i = 0; i < l->nchild; i++)
        model_init_params(l->child[i], m, r);
    if (l->ops->init)
        l->ops->init(l, m, r);
}

int model_build(model *m, layer *root, shape3 in, unsigned long long seed, thaw_err *err)
{
    memset(m, 0, sizeof *m);
    if (!root)
        return thaw_fail(err, THAW_ENOMEM, "out of memory building the model");
    m->root = root;
    m->in = in;
    m->rng = rng_seeded(seed);
    int rc = layer_plan(root, m, in, NULL, err);
    if (rc != THAW_OK)
        goto fail;
    if (root->out.h != 1 || root->out.w != 1) {
        rc = thaw_fail(err, THAW_ESHAPE, "the model's output is %dx%dx%d; expected one score per class "
                       "(end with a pool and a linear layer)", root->out.c, root->out.h, root->out.w);
        goto fail;
    }
    m->classes = root->out.c;
    size_t bytes = m->nfloat * sizeof(float);
    m->param = aligned_alloc(ARENA_ALIGN, bytes ? bytes : ARENA_ALIGN);
    m->grad = aligned_alloc(ARENA_ALIGN, bytes ? bytes : ARENA_ALIGN);
    if (!m->param || !m->grad) {
        rc = thaw_fail(err, THAW_ENOMEM, "out of memory for %zu parameters", m->nfloat);
        goto fail;
    }
    memset(m->param, 0, bytes);
    memset(m->grad, 0, bytes);
    if ((rc = model_alloc_rows(m, err)) != THAW_OK)
        goto fail;
    rng r = rng_seeded(seed ^ 0x7468617771ull);
    model_init_params(root, m, &r);
    model_refresh(m);
    return THAW_OK;
fail:
    model_free(m);
    return rc;
}

/* The most floats any layer of the tree asks of size (ops->scratch or
 * ops->shared). */
static size_t model_need(const layer *l, int batch, int shared)
{
    size_t (*size)(const layer *, int) = shared ? l->ops->shared : l->ops->scratch;
    size_t need = size ? size(l, batch) : 0;
    for (int i = 0; i < l->nchild; i++) {
        size_t c = model_need(l->child[i], batch, shared);
        if (c > need)
            need = c;
    }
    return need;
}

static int model_threads_wanted(const model *m)
{
    return m->threads > 0 ? m->threads : thaw_threads();
}

/* Points the layers (and the scratch) into a for `batch` and `threads`
 * workers: a measuring arena only counts. */
static void model_bind(model *m, arena *a, int batch, int threads)
{
    m->nscratch = model_need(m->root, batch, 0);
    m->nshared = model_need(m->root, batch, 1);
    m->scratch = arena_alloc(a, m->nscratch * (size_t)threads * sizeof(float));
    m->shared = arena_alloc(a, m->nshared * sizeof(float));
    layer_alloc(m->root, a, batch);
}

static size_t model_bytes(model *m, int batch, int threads)
{
    size_t nscratch = m->nscratch, nshared = m->nshared;
    arena measure = {0};
    model_bind(m, &measure, batch, threads);
    /* The measuring pass pointed every layer at nothing: back into the
     * buffers the model has. */
    if (m->act.base) {
        m->act.used = 0;
        model_bind(m, &m->act, m->batch, par_threads(m->pool));
    }
    m->nscratch = nscratch, m->nshared = nshared;
    return measure.used;
}

size_t model_prepare_bytes(model *m, int batch)
{
    return model_bytes(m, batch, model_threads_wanted(m));
}

int model_prepare(model *m, int batch, thaw_err *err)
{
    if (batch < 1)
        return thaw_fail(err, THAW_EINVAL, "batch size %d: expected at least 1", batch);
    int threads = model_threads_wanted(m);
    size_t need = model_bytes(m, batch, threads);
    /* Reserve beside the old buffers and switch only on success: the layers
     * keep pointing into the old arena, still valid, when memory runs out. */
    arena fresh = {0};
    if (arena_reserve(&fresh, need) != THAW_OK)
        return thaw_fail(err, THAW_ENOMEM, "out of memory: a batch of %d needs %zu MiB of activations",
                         batch, need >> 20);
    if (threads != par_threads(m->pool)) {
        par_pool *p;
        int rc = par_new(&p, threads, err);
        if (rc != THAW_OK) {
            arena_free(&fresh);
            return rc;
        }
        par_free(m->pool);
        m->pool = p;
    }
    arena_free(&m->act);
    m->act = fresh;
    model_bind(m, &m->act, batch, threads);
    m->batch = batch;
    return THAW_OK;
}

void model_free(model *m)
{
    par_free(m->pool);
    layer_free(m->root);
    for (int i = 0; i < m->nslice; i++) {
        free(m->slice[i].row);
        free(m->slice[i].seen);
    }
    free(m->slice);
    free(m->param);
    free(m->grad);
    arena_free(&m->act);
    memset(m, 0, sizeof *m);
}

void model_forward(model *m, const float *x, int batch, int train)
{
    model_forward_from(m, 0, x, batch, train);
}

void model_predict(model *m, const float *x, int batch)
{
    model_predict_from(m, 0, x, batch);
}

void model_predict_from(model *m, int first, const float *x, int batch)
{
    m->predicting = 1;
    model_forward_from(m, first, x, batch, 0);
    m->predicting = 0;
}

void model_backward(model *m, const float *x, int batch)
{
    model_backward_from(m, 0, x, batch);
}

static int layer_fixed(const layer *l)
{
    if (l->trainable || (l->ops->flags & LAYER_STOCHASTIC))
        return 0;
    for (int i = 0; i < l->nchild; i++)
        if (!layer_fixed(l->child[i]))
            return 0;
    return 1;
}

static int layer_contains(const layer *tree, const layer *l)
{
    for (; l; l = l->parent)
        if (l == tree)
            return 1;
    return 0;
}

static int layer_reads_seq(const layer *l)
{
    if (l->ops->flags & LAYER_SEQ)
        return 1;
    for (int i = 0; i < l->nchild; i++)
        if (layer_reads_seq(l->child[i]))
            return 1;
    return 0;
}

int model_frozen_prefix(const model *m)
{
    const layer *r = m->root;
    if (r->ops != &sequential_ops)
        return 0;
    int k = 0;
    while (k < r->nchild - 1 && layer_fixed(r->child[k]))
        k++;
    /* A pool over time reads the lengths the embedding records as it runs:
     * the cut may not leave the embedding in the cache and the pool out. */
    if (m->seq) {
        int e = 0;
        while (e < r->nchild && !layer_contains(r->child[e], m->seq))
            e++;
        for (int i = k; i < r->nchild && e < k; i++)
            if (layer_reads_seq(r->child[i]))
                k = e;
    }
    return k;
}

void model_forward_from(model *m, int first, const float *x, int batch, int train)
{
    assert(batch >= 1 && batch <= m->batch);
    if (first == 0)
        m->root->ops->forward(m->root, m, x, batch, train);
    else
        sequential_forward_from(m->root, m, first, x, batch, train);
}

void model_backward_from(model *m, int first, const float *x, int batch)
{
    assert(batch >= 1 && batch <= m->batch);
    if (!m->root->trainable)
        return;
    if (first == 0)
        m->root->ops->backward(m->root, m, x, NULL, 0, batch);
    else
        sequential_backward_from(m->root, m, first, x, NULL, 0, batch);
}

void model_zero_slice_grad(model *m, int s)
{
    param_slice *p = &m->slice[s];
    if (!p->row) {
        memset(m->grad + p->off, 0, p->len * sizeof(float));
        return;
    }
    size_t width = (size_t)p->dim[1];
    for (int i = 0; i < p->nrow; i++) {
        memset(m->grad + p->off + (size_t)p->row[i] * width, 0, width * sizeof(float));
        p->seen[p->row[i]] = 0;
    }
    p->nrow = 0;
}

void model_zero_grad(model *m)
{
    for (int s = 0; s < m->nslice; s++)
        model_zero_slice_grad(m, s);
}

layer *model_find(const model *m, const char *path)
{
    layer *l = m->root;
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        layer *next = NULL;
        for (int i = 0; i < l->nchild && !next; i++)
            if (strlen(l->child[i]->name) == n && !memcmp(l->child[i]->name, path, n))
                next = l->child[i];
        if (!next)
            return NULL;
        l = next;
        path += n + (dot != NULL);
    }
    return l;
}

static void model_freeze_tree(model *m, layer *l, int frozen, int keep_bn)
{
    for (int i = 0; i < l->nchild; i++)
        model_freeze_tree(m, l->child[i], frozen, keep_bn);
    if (keep_bn && layer_is_batchnorm(l))
        return;
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
        m->slice[s].frozen = frozen;
}

void model_freeze(model *m, layer *node, int frozen)
{
    if (!node)
        return;
    model_freeze_tree(m, node, frozen, m->train_bn && frozen && !layer_is_batchnorm(node));
    model_refresh(m);
}

static void model_lr_tree(model *m, layer *l, float lr)
{
    for (int i = 0; i < l->nchild; i++)
        model_lr_tree(m, l->child[i], lr);
    for (int s = l->slice0; s < l->slice0 + l->nslice; s++)
        m->slice[s].lr = lr;
}

void model_set_lr(model *m, layer *node, float lr)
{
    if (node)
        model_lr_tree(m, node, lr);
}

void model_refresh(model *m)
{
    layer_grad_plan(m->root, m, 0);
}

param_slice *model_slice(model *m, const char *name)
{
    for (int s = 0; s < m->nslice; s++)
        if (!strcmp(m->slice[s].name, name))
            return &m->slice[s];
    return NULL;
}

size_t model_count(const model *m, int trainable_only)
{
    size_t n = 0;
    for (int s = 0; s < m->nslice; s++) {
        const param_slice *p = &m->slice[s];
        if (p->kind == PARAM_STAT || (trainable_only && p->frozen))
            continue;
        n += p->len;
    }
    return n;
}
