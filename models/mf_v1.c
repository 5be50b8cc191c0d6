/* mf_v1.c — version 1's residual block, read into the general form.
 *
 * Version 1 wrote a ResNet basic block as one node with in_channels,
 * out_channels, stride and projection, its children fixed. It becomes the
 * residual version 2 writes: body conv1 bn1 relu conv2 bn2, shortcut "proj"
 * (a sequential of a 1×1 conv "0" and a BatchNorm "1") when there is a
 * projection, ReLU after the sum — the same tensors under the same names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mf_impl.h"
#include "registry.h"

/* A node of a type with its first `given` hyper-parameters hp, in the
 * type's order, and the others (those version 1 did not know) at their
 * defaults. */
static void mf_leaf(mf_node *n, const char *type, const char *name, const double *hp, int given)
{
    memset(n, 0, sizeof *n);
    n->type = layer_type_find(type);
    snprintf(n->name, sizeof n->name, "%s", name);
    for (int i = 0; i < n->type->nhp; i++)
        n->hp[i] = i < given ? hp[i] : layer_hp_default(n->type, i, n->hp);
}

int mf_v1_residual(mf_node *n, const cJSON *v, const char *at, const json_ctx *c)
{
    static const char *const keys[] = { "name", "type", "in_channels", "out_channels", "stride",
                                        "projection", NULL };
    long long cin, cout, stride = 1;
    int rc;
    if ((rc = json_keys(v, at, keys, c)) ||
        (rc = json_int(v, at, "in_channels", 1, LAYER_WIDTH_MAX, JSON_REQUIRED, &cin, c)) ||
        (rc = json_int(v, at, "out_channels", 1, LAYER_WIDTH_MAX, JSON_REQUIRED, &cout, c)) ||
        (rc = json_int(v, at, "stride", 1, LAYER_KERNEL_MAX, 0, &stride, c)))
        return rc;
    int needed = stride != 1 || cin != cout, proj = needed;
    if ((rc = json_bool(v, at, "projection", 0, &proj, c)))
        return rc;
    if (needed && !proj) {
        char sub[JSON_PATH_MAX];
        return thaw_fail(c->err, THAW_EFORMAT, "%s: %s: false, but going from %lld to %lld "
                         "channels with stride %lld needs a projection; expected true", c->file,
                         json_at(sub, at, "projection"), cin, cout, stride);
    }
    double i = (double)cin, o = (double)cout, s = (double)stride;
    n->hp[0] = RESIDUAL_ACT_RELU;
    n->child = calloc(5, sizeof *n->child);
    n->side = proj ? calloc(1, sizeof *n->side) : NULL;
    mf_node *sc = n->side;
    if (!n->child || (proj && (!sc || !(sc->child = calloc(2, sizeof *sc->child)))))
        return thaw_fail(c->err, THAW_ENOMEM, "%s: out of memory", c->file);
    n->nchild = 5;
    mf_leaf(&n->child[0], "conv2d", "conv1", (const double[]){ i, o, 3, s, 1, 0 }, 6);
    mf_leaf(&n->child[1], "batchnorm2d", "bn1", (const double[]){ o, 1e-5, 0.1 }, 3);
    mf_leaf(&n->child[2], "relu", "relu", NULL, 0);
    mf_leaf(&n->child[3], "conv2d", "conv2", (const double[]){ o, o, 3, 1, 1, 0 }, 6);
    mf_leaf(&n->child[4], "batchnorm2d", "bn2", (const double[]){ o, 1e-5, 0.1 }, 3);
    if (proj) {
        mf_node *kids = sc->child;
        mf_leaf(sc, "sequential", "proj", NULL, 0);
        sc->child = kids;
        sc->nchild = 2;
        mf_leaf(&sc->child[0], "conv2d", "0", (const double[]){ i, o, 1, s, 0, 0 }, 6);
        mf_leaf(&sc->child[1], "batchnorm2d", "1", (const double[]){ o, 1e-5, 0.1 }, 3);
    }
    return THAW_OK;
}
