/* transfer.c — a fresh head for a new class set (transfer.h). */
#include "transfer.h"

#include <stdio.h>
#include <string.h>

#include "registry.h"

layer *transfer_head(const model *m)
{
    layer *head = NULL;
    for (int s = 0; s < m->nslice; s++)
        if (m->slice[s].kind != PARAM_STAT)
            head = m->slice[s].owner;
    return head;
}

/* A copy of the tree under l (no parameters), with `head` given `classes`
 * outputs. */
static layer *transfer_clone(const layer *l, const layer *head, int classes, thaw_err *err)
{
    double hp[LAYER_HP_MAX] = { 0 };
    if (l->ops->hparams)
        l->ops->hparams(l, hp);
    if (l == head)
        hp[layer_hp_index(l->ops, l->ops->head)] = classes;
    layer *c = layer_create(l->ops, l->name, hp, err);
    for (int i = 0; c && i < l->nchild; i++) {
        layer *child = transfer_clone(l->child[i], head, classes, err);
        int rc = !child ? THAW_ENOMEM
               : l->child[i]->side ? layer_add_side(c, child, err) : layer_add(c, child, err);
        if (rc != THAW_OK) {
            layer_free(c);
            return NULL;
        }
    }
    return c;
}

static void transfer_copy_tracked(layer *dst, const layer *src)
{
    if (layer_is_batchnorm(src))
        batchnorm2d_set_tracked(dst, batchnorm2d_tracked(src));
    for (int i = 0; i < src->nchild; i++)
        transfer_copy_tracked(dst->child[i], src->child[i]);
}

int transfer_new_head(model *m, const model *from, int classes, unsigned long long seed,
                      thaw_err *err)
{
    memset(m, 0, sizeof *m);
    const layer *head = transfer_head(from);
    if (!head || !head->ops->head) {
        char can[256] = "";
        size_t used = 0;
        for (int i = 0; i < LAYER_TYPE_COUNT; i++)
            if (layer_type_at(i)->head && used < sizeof can)
                used += (size_t)snprintf(can + used, sizeof can - used, "%s%s", used ? " or " : "",
                                         layer_type_at(i)->type);
        return thaw_fail(err, THAW_EINVAL, "cannot give the model a new head: its last layer with "
                         "parameters is %s, expected a %s layer", head ? head->ops->type : "missing",
                         can);
    }
    int rc = model_build(m, transfer_clone(from->root, head, classes, err), from->in, seed, err);
    if (rc)
        return rc;
    const layer *new_head = transfer_head(m);
    for (int s = 0; s < m->nslice; s++) {
        param_slice *d = &m->slice[s];
        const param_slice *f = &from->slice[s];
        if (d->owner == new_head)
            continue;
        memcpy(model_param(m, s), model_param(from, s), d->len * sizeof(float));
        d->frozen = f->frozen;
        d->lr = f->lr;
    }
    m->train_bn = from->train_bn;
    transfer_copy_tracked(m->root, from->root);
    model_refresh(m);
    return THAW_OK;
}
