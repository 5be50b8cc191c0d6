/* import_keras.c — a Keras topology, as TF.js stores it, into thaw's tree.
 *
 * Three passes. Reading: every layer of the model and of the models inside
 * it goes into one table (a nested model's input becomes a pass-through
 * from its outer input, references to the model its output), each with
 * what its config says, checked. Shapes: in topological order from the
 * output back to the input, each layer's output shape in thaw's (C, H, W),
 * the padding TensorFlow's "same" gives it, and the dominator tree (the
 * last layer every path from the input to a layer passes through). The
 * tree: from the output back to the input a chain follows single inputs;
 * a merge (Add, Multiply) jumps to its dominator, the fork, and its two
 * branches are the chains from the fork to its inputs — a residual or a
 * gate. A layer reached twice means the graph does not nest that way, and
 * is refused. Last, the root's chain is grouped into blocks by Keras'
 * block names. The first pass is in import_keras_read.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_impl.h"
#include "mf_impl.h"
#include "registry.h"

#define IMP_NEST_MAX 16      /* residuals and gates inside one another */

/* ---- shapes and dominators ------------------------------------------------- */

/* TensorFlow's "same": the output is ceil(in / stride); the padding that
 * needs goes half before, the odd pixel after. */
static void same_pads(int in, int k, int s, int *before, int *after)
{
    int out = (in + s - 1) / s, total = (out - 1) * s + k - in;
    total = total > 0 ? total : 0;
    *before = total / 2;
    *after = total - *before;
}

static int shape_text(char *out, size_t cap, shape3 s)
{
    return snprintf(out, cap, "%dx%dx%d (HxWxC %dx%dx%d)", s.c, s.h, s.w, s.h, s.w, s.c);
}

/* A convolution's or pool's output, its padding resolved. */
static int shape_window(imp_graph *g, imp_layer *L, shape3 in, int c)
{
    if (L->same) {
        same_pads(in.h, L->k, L->stride, &L->pad[0], &L->pad[1]);
        same_pads(in.w, L->k, L->stride, &L->pad[2], &L->pad[3]);
    }
    int h = in.h + L->pad[0] + L->pad[1], w = in.w + L->pad[2] + L->pad[3];
    if (h < L->k || w < L->k) {
        char t[64];
        shape_text(t, sizeof t, in);
        return imp_lfail(g, L, THAW_ESHAPE, "has a %dx%d window larger than its input %s", L->k, L->k, t);
    }
    L->out = (shape3){ c, (h - L->k) / L->stride + 1, (w - L->k) / L->stride + 1 };
    return THAW_OK;
}

static int layer_shape(imp_graph *g, int idx)
{
    imp_layer *L = &g->l[idx];
    char t[64], u[64];
    if (L->op == IMP_INPUT) {
        int h = L->in_rank == 3 ? L->in_shape[0] : 1, w = L->in_rank == 3 ? L->in_shape[1] : 1;
        int c = L->in_shape[L->in_rank - 1];
        if (g->input_size.c > 0) {
            if (c > 0 && c != g->input_size.c)
                return imp_lfail(g, L, THAW_EINVAL, "takes %d channels, not %d", c, g->input_size.c);
            c = g->input_size.c, h = g->input_size.h, w = g->input_size.w;
        }
        if (c < 1 || h < 1 || w < 1)
            return imp_lfail(g, L, THAW_EINVAL, "takes inputs of unknown size; give one (thaw import "
                         "--input CxHxW)");
        if (c > MF_CHANNELS_MAX)
            return imp_lfail(g, L, THAW_EINVAL, "takes %d channels; thaw's inputs have at most %d", c,
                         MF_CHANNELS_MAX);
        L->out = (shape3){ c, h, w };
        return THAW_OK;
    }
    const imp_layer *I = &g->l[L->in[0]];
    shape3 in = I->out;
    int map = in.h * in.w > 1;
    if (L->nin > 1 && L->op != IMP_ADD && L->op != IMP_MUL)
        return imp_lfail(g, L, THAW_EINVAL, "takes %d inputs; expected one", L->nin);
    if (I->flat_from.c && L->op != IMP_DENSE && L->op != IMP_ACT && L->op != IMP_DROPOUT &&
        L->op != IMP_PASS && L->op != IMP_FLATTEN && L->op != IMP_RESHAPE)
        return imp_lfail(g, L, THAW_EINVAL, "takes the flattened output of '%s'; thaw's layers read "
                     "channels first, and only a dense layer can be given Keras' order", I->name);
    switch (L->op) {
    case IMP_PASS:
    case IMP_ACT:
    case IMP_DROPOUT:
    case IMP_RESCALE:
        L->out = in;
        L->flat_from = I->flat_from;
        if (L->op == IMP_RESCALE && L->rs_n > 1 && L->rs_n != in.c)
            return imp_lfail(g, L, THAW_EINVAL, "has %d scales for %d channels", L->rs_n, in.c);
        return THAW_OK;
    case IMP_CONV:
        if (in.c % L->groups || L->units % L->groups)
            return imp_lfail(g, L, THAW_EINVAL, "has %d groups, which do not divide its %d inputs and "
                         "%d filters", L->groups, in.c, L->units);
        return shape_window(g, L, in, L->units);
    case IMP_DWCONV:
        if ((long long)in.c * L->mult > LAYER_WIDTH_MAX)
            return imp_lfail(g, L, THAW_EINVAL, "gives more than %d channels", LAYER_WIDTH_MAX);
        return shape_window(g, L, in, in.c * L->mult);
    case IMP_MAXPOOL:
        return shape_window(g, L, in, in.c);
    case IMP_DENSE:
        if (map && !I->flat_from.c) {
            shape_text(t, sizeof t, in);
            return imp_lfail(g, L, THAW_EINVAL, "takes a %s map; thaw's dense layers take vectors "
                         "(flatten or pool first)", t);
        }
        L->out = (shape3){ L->units, 1, 1 };
        return THAW_OK;
    case IMP_BN: {
        int axis = L->axis;
        if (axis != -1 && !(axis == 3 && map) && !(axis == 1 && !map))
            return imp_lfail(g, L, THAW_EINVAL, "normalises axis %d; thaw normalises channels (axis -1)",
                         axis);
        L->out = in;
        return THAW_OK;
    }
    case IMP_PAD:
        L->out = (shape3){ in.c, in.h + L->zpad[0] + L->zpad[1], in.w + L->zpad[2] + L->zpad[3] };
        return THAW_OK;
    case IMP_GAP:
        L->out = (shape3){ in.c, 1, 1 };
        return THAW_OK;
    case IMP_FLATTEN:
    case IMP_RESHAPE: {
        size_t count = shape3_count(in);
        int to[3] = { (int)count, 1, 1 }, rank = L->op == IMP_FLATTEN ? 1 : L->ntarget, infer = -1;
        double known = 1;
        for (int i = 0; L->op == IMP_RESHAPE && i < rank; i++) {
            if (L->target[i] < 0) {
                if (infer >= 0)
                    return imp_lfail(g, L, THAW_EFORMAT, "infers two sizes (-1)");
                infer = i;
            } else {
                known *= L->target[i];
            }
            to[i] = L->target[i];
        }
        if (infer >= 0 && known <= (double)count && count % (size_t)known == 0)
            to[infer] = (int)(count / (size_t)known);
        double got = (double)to[0] * to[1] * to[2];
        if (count > LAYER_FEATURES_MAX || got != (double)count)
            return imp_lfail(g, L, THAW_ESHAPE, "reshapes %zu values to %.0f", count, got);
        if (rank == 1) {
            L->out = (shape3){ (int)count, 1, 1 };
            L->flat_from = map ? in : I->flat_from;
        } else if (rank == 3 && to[0] == 1 && to[1] == 1 && !map) {
            L->out = in;
            L->flat_from = I->flat_from;
        } else if (rank == 3 && to[0] == in.h && to[1] == in.w && to[2] == in.c) {
            L->out = in;
        } else {
            shape_text(t, sizeof t, in);
            snprintf(u, sizeof u, rank == 2 ? "%dx%d (rank 2)" : "HxWxC %dx%dx%d", to[0], to[1],
                     to[2]);
            return imp_lfail(g, L, THAW_EINVAL, "reshapes %s to %s; thaw reshapes only between a "
                         "vector and a 1x1 map", t, u);
        }
        return THAW_OK;
    }
    case IMP_ADD:
    case IMP_MUL: {
        if (L->nin != 2)
            return imp_lfail(g, L, THAW_EINVAL, "takes %d inputs; thaw's residual and gate take two",
                         L->nin);
        shape3 a = in, b = g->l[L->in[1]].out;
        int same = a.c == b.c && a.h == b.h && a.w == b.w;
        int bcast = L->op == IMP_MUL && a.c == b.c && (a.h * a.w == 1 || b.h * b.w == 1);
        if (!same && !bcast) {
            shape_text(t, sizeof t, a);
            shape_text(u, sizeof u, b);
            return imp_lfail(g, L, THAW_ESHAPE, "combines %s and %s", t, u);
        }
        L->out = a.h * a.w >= b.h * b.w ? a : b;
        if (I->flat_from.c || g->l[L->in[1]].flat_from.c)
            return imp_lfail(g, L, THAW_EINVAL, "combines flattened maps");
        return THAW_OK;
    }
    }
    return imp_lfail(g, L, THAW_EINVAL, "has no shape rule");
}

/* The nearest common dominator of a and b. */
static int nca(const imp_graph *g, int a, int b)
{
    while (a >= 0 && b >= 0 && a != b) {
        if (g->l[a].depth >= g->l[b].depth)
            a = g->l[a].idom;
        else
            b = g->l[b].idom;
    }
    return a == b ? a : -1;
}

/* Orders the layers the output depends on (inputs first), checks for
 * cycles and for layers that lead nowhere, and computes shapes, uses and
 * dominators in that order. */
static int order_and_shape(imp_graph *g)
{
    int *ord = malloc(sizeof(int) * (size_t)g->n), *stack = malloc(sizeof(int) * (size_t)g->n);
    int *next = calloc((size_t)g->n, sizeof(int)), n = 0, sp = 0, rc = THAW_OK;
    if (!ord || !stack || !next) {
        rc = imp_nomem(g);
        goto done;
    }
    for (int i = 0; i < g->n; i++)
        g->l[i].visit = 0;
    stack[sp++] = g->output;
    g->l[g->output].visit = 1;
    while (sp > 0 && rc == THAW_OK) {
        int t = stack[sp - 1];
        imp_layer *L = &g->l[t];
        if (next[t] < L->nin) {
            int u = L->in[next[t]++];
            if (g->l[u].visit == 1)
                rc = imp_lfail(g, L, THAW_EFORMAT, "takes its own output back (a cycle through '%s')",
                           g->l[u].name);
            else if (g->l[u].visit == 0) {
                g->l[u].visit = 1;
                stack[sp++] = u;
            }
        } else {
            L->visit = 2;
            ord[n++] = t;
            sp--;
        }
    }
    for (int i = 0; i < g->n && rc == THAW_OK; i++)
        if (g->l[i].visit == 0)
            rc = imp_lfail(g, &g->l[i], THAW_EINVAL, "does not lead to the model's output");
    for (int i = 0; i < n && rc == THAW_OK; i++) {
        imp_layer *L = &g->l[ord[i]];
        if (L->op == IMP_INPUT && ord[i] != g->input)
            rc = imp_lfail(g, L, THAW_EINVAL, "is a second input; thaw's models have one");
        else if (L->op != IMP_INPUT && L->nin == 0)
            rc = imp_lfail(g, L, THAW_EFORMAT, "takes no input");
        else
            rc = layer_shape(g, ord[i]);
        if (rc)
            break;
        if (L->op == IMP_INPUT) {
            L->idom = -1, L->depth = 0;
            continue;
        }
        int d = L->in[0];
        g->l[d].nuse++;
        for (int k = 1; k < L->nin; k++) {
            g->l[L->in[k]].nuse++;
            d = nca(g, d, L->in[k]);
        }
        if (d < 0) {
            rc = imp_lfail(g, L, THAW_EINVAL, "joins paths that do not start at the input");
            break;
        }
        L->idom = d;
        L->depth = g->l[d].depth + 1;
    }
    if (rc == THAW_OK && g->l[g->input].visit != 2)
        rc = thaw_fail(g->c.err, THAW_EINVAL, "%s: the output does not depend on the input",
                       g->c.file);
done:
    free(ord);
    free(stack);
    free(next);
    return rc;
}

/* ---- the tree --------------------------------------------------------------- */

typedef struct imp_list {
    mf_node *v;
    char (*key)[LAYER_NAME_MAX];
    int n, cap;
} imp_list;

static void list_free(imp_list *li)
{
    for (int i = 0; i < li->n; i++)
        mf_node_free(&li->v[i]);
    free(li->v);
    free(li->key);
    memset(li, 0, sizeof *li);
}

/* Moves *node into li (on failure it is freed). */
static int list_push(imp_graph *g, imp_list *li, mf_node *node, const char *key)
{
    if (li->n == li->cap) {
        int cap = li->cap ? 2 * li->cap : 16;
        mf_node *v = realloc(li->v, (size_t)cap * sizeof *v);
        if (v)
            li->v = v;
        char (*k)[LAYER_NAME_MAX] = v ? realloc(li->key, (size_t)cap * sizeof *k) : NULL;
        if (!k) {
            mf_node_free(node);
            return imp_nomem(g);
        }
        li->key = k, li->cap = cap;
    }
    li->v[li->n] = *node;
    snprintf(li->key[li->n], LAYER_NAME_MAX, "%s", key);
    li->n++;
    return THAW_OK;
}

/* s with every character but letters, digits and '_' made '_', cut to fit. */
static void name_clean(char out[LAYER_NAME_MAX], const char *s)
{
    size_t o = 0;
    for (; *s && o < LAYER_NAME_MAX - 1; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[o++] = ok ? c : '_';
    }
    if (o == 0)
        out[o++] = '_';
    out[o] = '\0';
}

static int name_taken(const mf_node *v, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i].name, name))
            return 1;
    return 0;
}

/* name, or name_2, name_3, ... when a sibling has it. */
static void name_unique(const mf_node *v, int n, char name[LAYER_NAME_MAX])
{
    char base[LAYER_NAME_MAX];
    snprintf(base, sizeof base, "%s", name);
    for (int k = 2; name_taken(v, n, name); k++) {
        char suffix[16];
        int len = snprintf(suffix, sizeof suffix, "_%d", k);
        snprintf(name, LAYER_NAME_MAX, "%.*s%s", LAYER_NAME_MAX - 1 - len, base, suffix);
    }
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

/* The block a Keras layer belongs to, by its name: the name without the
 * words for a batch norm, an activation or a sum after it and without the
 * words for a part of a block (conv1_bn, conv1_relu -> conv1;
 * block_3_expand_BN, block_3_add -> block_3; bn_Conv1 -> Conv1);
 * MobileNet v1's conv_dw_N and conv_pw_N make block_N. */
static void block_key(const char *name, char key[LAYER_NAME_MAX])
{
    static const char *const tail[] = { "bn", "BN", "batchnorm", "BatchNorm", "relu", "relu6",
                                        "act", "activation", "add", "out", "conv", NULL };
    static const char *const part[] = { "dw", "pw", "pad", "depthwise", "expand", "project", NULL };
    char buf[TFJS_NAME_MAX], *tok[TFJS_NAME_MAX / 2];
    int nt = 0;
    snprintf(buf, sizeof buf, "%s", name);
    for (char *save, *t = strtok_r(buf, "_/", &save); t; t = strtok_r(NULL, "_/", &save))
        tok[nt++] = t;
    while (nt > 1 && in_list(tail, tok[nt - 1]))
        nt--;
    int first = nt > 1 && !strcmp(tok[0], "bn"), kept = 0, o = 0;
    for (int i = first; i < nt; i++)
        kept += !in_list(part, tok[i]);
    for (int i = first; i < nt; i++)
        if (!kept || !in_list(part, tok[i]))
            tok[o++] = tok[i];
    int dropped = o < nt - first;
    int digits = o == 2 && tok[1][strspn(tok[1], "0123456789")] == '\0';
    char joined[TFJS_NAME_MAX] = "";
    if (dropped && digits && !strcmp(tok[0], "conv"))
        snprintf(joined, sizeof joined, "block_%.20s", tok[1]);
    else
        for (int i = 0; i < o; i++) {
            size_t len = strlen(joined);
            snprintf(joined + len, sizeof joined - len, "%s%s", i ? "_" : "", tok[i]);
        }
    name_clean(key, o ? joined : name);
}

/* A layer name split at '.' and '/' into its first parts (at most 3). */
static int path_parts(const char *name, char buf[TFJS_NAME_MAX], char *part[3])
{
    int n = 0;
    snprintf(buf, TFJS_NAME_MAX, "%s", name);
    for (char *save, *t = strtok_r(buf, "./", &save); t && n < 3; t = strtok_r(NULL, "./", &save))
        part[n++] = t;
    return n;
}

static int block_cmp(const void *a, const void *b, void *ctx)
{
    const imp_layer *l = ctx;
    int d = strcmp(l[*(const int *)a].block, l[*(const int *)b].block);
    return d ? d : *(const int *)a - *(const int *)b;
}

/* Each layer's block by its PyTorch module path, as the ONNX importer names
 * layers ("features.1.0/block.0.0", "layer1.0/conv1", "stem.0", "fc",
 * "trunk_output/block1/block1-0/f.a.0"): a top-level module whose entries
 * hold modules of their own is split into its entries (features.1,
 * layer1.0, trunk_output.block1), another is one block (stem, classifier,
 * fc); the layers before the first split module's (ResNet's conv1, bn1,
 * relu, maxpool) are one, the stem, named after the first's. A model thaw
 * exported keeps its top-level layers (torch_names 2: the first part). */
static int torch_blocks(imp_graph *g)
{
    int *ix = malloc(sizeof(int) * (size_t)g->n), m = 0;
    unsigned char *deep = calloc((size_t)g->n, 1);
    char buf[TFJS_NAME_MAX], *part[3];
    if (!ix || !deep) {
        free(ix);
        free(deep);
        return imp_nomem(g);
    }
    for (int i = 0; i < g->n; i++) {
        if (i == g->input)
            continue;
        int n = path_parts(g->l[i].name, buf, part);
        name_clean(g->l[i].block, n ? part[0] : g->l[i].name);
        deep[i] = n == 3;
        ix[m++] = i;
    }
    qsort_r(ix, (size_t)m, sizeof *ix, block_cmp, g->l);
    for (int a = 0, b; g->torch_names == 1 && a < m; a = b) {
        int split = 0;
        for (b = a; b < m && !strcmp(g->l[ix[b]].block, g->l[ix[a]].block); b++)
            split |= deep[ix[b]];
        for (int k = a; split && k < b; k++) {
            char joined[TFJS_NAME_MAX];
            imp_layer *L = &g->l[ix[k]];
            deep[ix[k]] = 2;
            if (path_parts(L->name, buf, part) >= 2) {
                snprintf(joined, sizeof joined, "%.60s_%.60s", part[0], part[1]);
                name_clean(L->block, joined);
            }
        }
    }
    int first = -1, end = -1;
    for (int i = 0; i < g->n && end < 0; i++)
        if (i != g->input) {
            first = first < 0 ? i : first;
            end = deep[i] == 2 ? i : -1;
        }
    char stem[LAYER_NAME_MAX];
    snprintf(stem, sizeof stem, "%s", first >= 0 ? g->l[first].block : "");
    for (int i = first + 1; end > first && i < end; i++)
        if (i != g->input)
            snprintf(g->l[i].block, sizeof g->l[i].block, "%s", stem);
    free(ix);
    free(deep);
    return THAW_OK;
}

/* The block layer L belongs to: torch_blocks', or by Keras' names. */
static void layer_block(const imp_graph *g, const imp_layer *L, char key[LAYER_NAME_MAX])
{
    if (g->torch_names)
        snprintf(key, LAYER_NAME_MAX, "%s", L->block);
    else
        block_key(L->name, key);
}

/* A node of `type` for Keras layer L, or an error naming what this thaw lacks. */
static int node_make(imp_graph *g, const imp_layer *L, mf_node *n, const char *type,
                     const char *name)
{
    memset(n, 0, sizeof *n);
    if (!(n->type = layer_type_find(type)))
        return imp_lfail(g, L, THAW_EINVAL, "needs thaw's layer type '%s', which this build of thaw "
                     "does not have", type);
    name_clean(n->name, name);
    return THAW_OK;
}

static int node_hp(imp_graph *g, const imp_layer *L, mf_node *n, unsigned *set, const char *key,
                   double v)
{
    int i = layer_hp_index(n->type, key);
    if (i < 0)
        return imp_lfail(g, L, THAW_EINVAL, "needs %s's hyper-parameter '%s', which this build of "
                     "thaw does not have", n->type->type, key);
    n->hp[i] = v;
    *set |= 1u << i;
    return THAW_OK;
}

/* The hyper-parameters not set take their defaults; then all are checked. */
static int node_finish(imp_graph *g, const imp_layer *L, mf_node *n, unsigned set)
{
    for (int i = 0; i < n->type->nhp; i++)
        if (!(set & (1u << i)))
            n->hp[i] = layer_hp_default(n->type, i, n->hp);
    thaw_err why = { 0 };
    if (layer_hp_check(n->type, n->hp, NULL, &why))
        return imp_lfail(g, L, THAW_EINVAL, "cannot be expressed in thaw: %s", why.msg);
    return THAW_OK;
}

static int bind_push(imp_graph *g, int src, int kind)
{
    if (g->nbind == g->bindcap) {
        int cap = g->bindcap ? 2 * g->bindcap : 64;
        imp_bind *b = realloc(g->bind, (size_t)cap * sizeof *b);
        if (!b)
            return imp_nomem(g);
        g->bind = b, g->bindcap = cap;
    }
    g->bind[g->nbind++] = (imp_bind){ src, kind, 1.0f };
    return THAW_OK;
}

/* Finishes n and moves it into li under L's block. */
static int emit(imp_graph *g, imp_list *li, const imp_layer *L, mf_node *n, unsigned set)
{
    char key[LAYER_NAME_MAX];
    int rc = node_finish(g, L, n, set);
    if (rc) {
        mf_node_free(n);
        return rc;
    }
    name_unique(li->v, li->n, n->name);
    layer_block(g, L, key);
    return list_push(g, li, n, key);
}

static const char *act_type(int act)
{
    switch (act) {
    case IMP_ACT_RELU: return "relu";
    case IMP_ACT_RELU6: return "relu6";
    case IMP_ACT_SIGMOID: return "sigmoid";
    case IMP_ACT_HARDSIGMOID:
    case IMP_ACT_HARDSIGMOID_02: return "hardsigmoid";
    case IMP_ACT_SILU: return "silu";
    case IMP_ACT_HARDSWISH: return "hardswish";
    }
    return NULL;
}

/* An activation node for L (standalone: named L; fused: L's name and the
 * type). Keras 2's hard_sigmoid, clip(0.2·x + 0.5), is thaw's
 * relu6(x + 3)/6 of 1.2·x: the 1.2 goes into the layer that feeds it,
 * whose binding is the last one (`fed` is that layer). */
static int emit_act(imp_graph *g, imp_list *li, int idx, int fused, int final)
{
    const imp_layer *L = &g->l[idx];
    char name[TFJS_NAME_MAX + 16];
    if (L->act == IMP_ACT_NONE)
        return THAW_OK;
    if (L->act == IMP_ACT_SOFTMAX) {
        if (!final)
            return imp_lfail(g, L, THAW_EINVAL, "applies softmax before the end of the model; thaw "
                         "applies it only in its loss, after the last layer");
        imp_note(g->rep, "the final softmax ('%s') is dropped: thaw's loss and predict apply it",
                 L->name);
        return THAW_OK;
    }
    if (L->act == IMP_ACT_HARDSIGMOID_02) {
        int fed = fused ? idx : L->in[0];
        if (g->nbind == 0 || g->bind[g->nbind - 1].layer != fed ||
            (!fused && (g->l[fed].nuse != 1 || g->l[fed].act != IMP_ACT_NONE)))
            return imp_lfail(g, L, THAW_EINVAL, "is Keras 2's hard_sigmoid, clip(0.2x + 0.5); thaw's "
                         "hardsigmoid is relu6(x + 3)/6, the same of 1.2x, and the 1.2 can only go "
                         "into a convolution, dense or batch norm layer feeding it alone, with no "
                         "activation of its own");
        g->bind[g->nbind - 1].scale *= 1.2f;
        imp_note(g->rep, "Keras 2's hard_sigmoid ('%s') is thaw's hardsigmoid with '%s' scaled "
                 "by 1.2", L->name, g->l[fed].name);
    }
    snprintf(name, sizeof name, "%s%s%s", L->name, fused ? "_" : "", fused ? act_type(L->act) : "");
    mf_node n;
    int rc = node_make(g, L, &n, act_type(L->act), name);
    return rc ? rc : emit(g, li, L, &n, 0);
}

static int emit_conv(imp_graph *g, imp_list *li, int idx, const int extra[4], int head, int final)
{
    const imp_layer *L = &g->l[idx], *I = &g->l[L->in[0]];
    mf_node n;
    unsigned set = 0;
    int rc, p[4];
    for (int i = 0; i < 4; i++)
        p[i] = L->pad[i] + extra[i];
    if (head) {
        /* A 1x1 convolution on a 1x1 map is a linear layer. */
        if ((rc = node_make(g, L, &n, "linear", L->name)) ||
            (rc = node_hp(g, L, &n, &set, "in_features", I->out.c)) ||
            (rc = node_hp(g, L, &n, &set, "out_features", L->out.c)) ||
            (rc = node_hp(g, L, &n, &set, "bias", L->bias)) ||
            (rc = bind_push(g, idx, IMP_BIND_CONV_LINEAR)))
            goto fail;
        imp_note(g->rep, "the 1x1 convolution head '%s' on a 1x1 map is a linear layer", L->name);
    } else {
        int dw = L->op == IMP_DWCONV, groups = dw ? I->out.c : L->groups;
        int even = p[0] == p[1] && p[0] == p[2] && p[0] == p[3];
        if ((rc = node_make(g, L, &n, "conv2d", L->name)) ||
            (rc = node_hp(g, L, &n, &set, "in_channels", I->out.c)) ||
            (rc = node_hp(g, L, &n, &set, "out_channels", L->out.c)) ||
            (rc = node_hp(g, L, &n, &set, "kernel_size", L->k)) ||
            (rc = node_hp(g, L, &n, &set, "stride", L->stride)) ||
            (rc = node_hp(g, L, &n, &set, "bias", L->bias)) ||
            (groups > 1 && (rc = node_hp(g, L, &n, &set, "groups", groups))) ||
            (rc = node_hp(g, L, &n, &set, "padding", even ? p[0] : 0)))
            goto fail;
        if (!even && layer_hp_index(n.type, "pad_top") < 0) {
            rc = imp_lfail(g, L, THAW_EINVAL, "needs padding top %d, bottom %d, left %d, right %d "
                       "(TensorFlow's \"same\" puts the odd pixel after), and this build of thaw's "
                       "conv2d has no per-side padding (pad_top, pad_bottom, pad_left, pad_right)",
                       p[0], p[1], p[2], p[3]);
            goto fail;
        }
        static const char *const sides[4] = { "pad_top", "pad_bottom", "pad_left", "pad_right" };
        for (int i = 0; i < 4 && layer_hp_index(n.type, "pad_top") >= 0; i++)
            if ((rc = node_hp(g, L, &n, &set, sides[i], p[i])))
                goto fail;
        if ((rc = bind_push(g, idx, dw ? IMP_BIND_DW : IMP_BIND_CONV)))
            goto fail;
    }
    if ((rc = emit(g, li, L, &n, set)))
        return rc;
    return emit_act(g, li, idx, 1, final);
fail:
    mf_node_free(&n);
    return rc;
}

static int emit_dense(imp_graph *g, imp_list *li, int idx, int final)
{
    const imp_layer *L = &g->l[idx];
    mf_node n;
    unsigned set = 0;
    int rc;
    if ((rc = node_make(g, L, &n, "linear", L->name)) ||
        (rc = node_hp(g, L, &n, &set, "in_features", (double)shape3_count(g->l[L->in[0]].out))) ||
        (rc = node_hp(g, L, &n, &set, "out_features", L->units)) ||
        (rc = node_hp(g, L, &n, &set, "bias", L->bias)) ||
        (rc = bind_push(g, idx, IMP_BIND_DENSE))) {
        mf_node_free(&n);
        return rc;
    }
    if ((rc = emit(g, li, L, &n, set)))
        return rc;
    return emit_act(g, li, idx, 1, final);
}

/* The leaf a batch norm, pool, flatten or dropout layer L becomes. */
static int emit_simple(imp_graph *g, imp_list *li, int idx)
{
    const imp_layer *L = &g->l[idx];
    mf_node n;
    unsigned set = 0;
    int rc;
    switch (L->op) {
    case IMP_BN:
        if ((rc = node_make(g, L, &n, "batchnorm2d", L->name)) ||
            (rc = node_hp(g, L, &n, &set, "num_features", L->out.c)) ||
            (rc = node_hp(g, L, &n, &set, "eps", L->eps)) ||
            (rc = node_hp(g, L, &n, &set, "momentum", 1.0 - L->momentum)) ||
            (rc = bind_push(g, idx, IMP_BIND_BN)))
            break;
        return emit(g, li, L, &n, set);
    case IMP_GAP:
        if ((rc = node_make(g, L, &n, "avgpool", L->name)))
            break;
        return emit(g, li, L, &n, set);
    case IMP_FLATTEN:
    case IMP_RESHAPE:
        if ((rc = node_make(g, L, &n, "flatten", L->name)))
            break;
        return emit(g, li, L, &n, set);
    case IMP_DROPOUT:
        if ((rc = node_make(g, L, &n, "dropout", L->name)) ||
            (rc = node_hp(g, L, &n, &set, "p", L->rate)))
            break;
        return emit(g, li, L, &n, set);
    case IMP_MAXPOOL:
        if (L->pad[0] != L->pad[1] || L->pad[0] != L->pad[2] || L->pad[0] != L->pad[3])
            return imp_lfail(g, L, THAW_EINVAL, "needs padding top %d, bottom %d, left %d, right %d; "
                         "thaw's max pool pads evenly", L->pad[0], L->pad[1], L->pad[2], L->pad[3]);
        if ((rc = node_make(g, L, &n, "maxpool2d", L->name)) ||
            (rc = node_hp(g, L, &n, &set, "kernel_size", L->k)) ||
            (rc = node_hp(g, L, &n, &set, "stride", L->stride)) ||
            (rc = node_hp(g, L, &n, &set, "padding", L->pad[0])))
            break;
        return emit(g, li, L, &n, set);
    default:
        return imp_lfail(g, L, THAW_EINVAL, "has no thaw layer");
    }
    mf_node_free(&n);
    return rc;
}

/* Whether L computes nothing in thaw: an input, or a reshape or flatten of
 * what already is a vector. */
static int emits_nothing(const imp_graph *g, const imp_layer *L)
{
    if (L->op == IMP_PASS || L->op == IMP_INPUT)
        return 1;
    if (L->op != IMP_FLATTEN && L->op != IMP_RESHAPE)
        return 0;
    shape3 in = g->l[L->in[0]].out;
    return in.h * in.w == 1 || (in.c == L->out.c && in.h == L->out.h && in.w == L->out.w);
}

static int emit_chain(imp_graph *g, int from, int to, imp_list *out, int depth, int top);

/* A node holding the chain `li` as its children (moved). */
static int node_holding(imp_graph *g, const imp_layer *L, mf_node *n, const char *type,
                        const char *name, imp_list *li)
{
    int rc = node_make(g, L, n, type, name);
    if (rc == THAW_OK && (rc = node_finish(g, L, n, 0)) != THAW_OK)
        mf_node_free(n);
    if (rc)
        return rc;
    n->child = li->v, n->nchild = li->n;
    free(li->key);
    memset(li, 0, sizeof *li);
    return THAW_OK;
}

/* Add: a residual (body the first branch that computes something, the
 * other the shortcut); Multiply: a gate of the input by the branch. */
static int emit_merge(imp_graph *g, imp_list *li, int idx, int depth)
{
    const imp_layer *L = &g->l[idx];
    imp_list a = { 0 }, b = { 0 };
    mf_node n = { 0 };
    int rc, f = L->idom;
    if ((rc = emit_chain(g, f, L->in[0], &a, depth + 1, 0)) ||
        (rc = emit_chain(g, f, L->in[1], &b, depth + 1, 0)))
        goto done;
    L = &g->l[idx];
    if (L->op == IMP_ADD && !a.n && !b.n) {
        rc = imp_lfail(g, L, THAW_EINVAL, "adds a tensor to itself; thaw has no layer for 2x");
        goto done;
    }
    if (L->op == IMP_MUL && (!a.n) == (!b.n)) {
        rc = imp_lfail(g, L, THAW_EINVAL, "multiplies %s; thaw's gate multiplies a block's input by "
                   "one branch", a.n ? "two computed branches" : "a tensor by itself");
        goto done;
    }
    imp_list *body = a.n ? &a : &b, *side = a.n && b.n ? &b : NULL;
    if (L->op == IMP_MUL && g->l[L->in[body == &a ? 0 : 1]].out.c != L->out.c) {
        rc = imp_lfail(g, L, THAW_ESHAPE, "gates with a branch of another width");
        goto done;
    }
    if ((rc = node_holding(g, L, &n, L->op == IMP_ADD ? "residual" : "gate", L->name, body)))
        goto done;
    if (side) {
        mf_node *s = calloc(1, sizeof *s);
        if (!s) {
            rc = imp_nomem(g);
            goto done;
        }
        if (side->n == 1) {
            *s = side->v[0];
            side->n = 0;
        } else if ((rc = node_holding(g, L, s, "sequential", "shortcut", side))) {
            free(s);
            goto done;
        }
        name_unique(n.child, n.nchild, s->name);
        n.side = s;
    }
    char key[LAYER_NAME_MAX];
    layer_block(g, L, key);
    name_unique(li->v, li->n, n.name);
    rc = list_push(g, li, &n, key);
    memset(&n, 0, sizeof n);
done:
    mf_node_free(&n);
    list_free(&a);
    list_free(&b);
    return rc;
}

/* The layers computing `to` from `from` (which dominates it), appended to
 * out in order. At the top, the last layer with weights may be a 1x1
 * convolution head and a softmax may end the chain. */
static int emit_chain(imp_graph *g, int from, int to, imp_list *out, int depth, int top)
{
    if (depth > IMP_NEST_MAX)
        return thaw_fail(g->c.err, THAW_EINVAL, "%s: blocks nested more than %d deep", g->c.file,
                         IMP_NEST_MAX);
    int *items = malloc(sizeof(int) * (size_t)g->n), n = 0, rc = THAW_OK;
    if (!items)
        return imp_nomem(g);
    for (int cur = to; cur != from && rc == THAW_OK;) {
        imp_layer *L = &g->l[cur];
        if (L->placed || n == g->n || L->op == IMP_INPUT) {
            rc = imp_lfail(g, L, THAW_EINVAL, "feeds layers in two blocks; thaw's tree holds each "
                       "layer once (chains, residuals and gates nest, they do not cross)");
            break;
        }
        L->placed = 1;
        items[n++] = cur;
        cur = L->nin == 1 ? L->in[0] : L->idom;
    }
    for (int i = 0; i < n / 2; i++) {
        int t = items[i];
        items[i] = items[n - 1 - i], items[n - 1 - i] = t;
    }
    int head = -1, pad[4] = { 0 }, padder = -1;
    for (int i = 0; top && i < n; i++) {
        const imp_layer *L = &g->l[items[i]];
        if (L->op == IMP_CONV || L->op == IMP_DWCONV || L->op == IMP_DENSE || L->op == IMP_BN)
            head = L->op == IMP_CONV && L->k == 1 && L->groups == 1 &&
                   g->l[L->in[0]].out.h * g->l[L->in[0]].out.w == 1 ? i : -1;
    }
    for (int i = 0; i < n && rc == THAW_OK; i++) {
        int idx = items[i], final = top;
        const imp_layer *L = &g->l[idx];
        for (int j = i + 1; j < n && final; j++)
            final = emits_nothing(g, &g->l[items[j]]);
        if (padder >= 0 && L->op != IMP_CONV && L->op != IMP_DWCONV) {
            rc = imp_lfail(g, &g->l[padder], THAW_EINVAL, "pads zeros before '%s' (%s); thaw pads "
                       "only inside a convolution", L->name, L->cls);
            break;
        }
        switch (L->op) {
        case IMP_PASS:
            break;
        case IMP_RESCALE: {
            int src = L->in[0];
            while (g->l[src].op == IMP_PASS)
                src = g->l[src].in[0];
            if (!top || src != g->input)
                rc = imp_lfail(g, L, THAW_EINVAL, "rescales in the middle of the model; thaw "
                           "normalises only its input");
            g->rescale = idx;
            break;
        }
        case IMP_PAD:
            for (int k = 0; k < 4; k++)
                pad[k] += L->zpad[k];
            padder = idx;
            break;
        case IMP_CONV:
        case IMP_DWCONV:
            rc = emit_conv(g, out, idx, pad, i == head, final);
            memset(pad, 0, sizeof pad);
            padder = -1;
            break;
        case IMP_DENSE:
            rc = emit_dense(g, out, idx, final);
            break;
        case IMP_ACT:
            rc = emit_act(g, out, idx, 0, final);
            break;
        case IMP_ADD:
        case IMP_MUL:
            rc = emit_merge(g, out, idx, depth);
            break;
        case IMP_FLATTEN:
        case IMP_RESHAPE:
            if (!emits_nothing(g, L))
                rc = emit_simple(g, out, idx);
            break;
        default:
            rc = emit_simple(g, out, idx);
            break;
        }
    }
    if (rc == THAW_OK && padder >= 0)
        rc = imp_lfail(g, &g->l[padder], THAW_EINVAL, "pads zeros at the end of a block; thaw pads "
                   "only inside a convolution");
    free(items);
    return rc;
}

/* The root: runs of the top chain in one block become a sequential named
 * after it; a block name met again later is not reused (those layers keep
 * their own names). A container alone takes its block's name. */
static int group_blocks(imp_graph *g, imp_list *top)
{
    imp_list out = { 0 };
    int rc = THAW_OK, i = 0;
    while (i < top->n && rc == THAW_OK) {
        int j = i;
        while (j + 1 < top->n && !strcmp(top->key[j + 1], top->key[i]))
            j++;
        char key[LAYER_NAME_MAX];
        snprintf(key, sizeof key, "%s", top->key[i]);
        int used = name_taken(out.v, out.n, key);
        if (j > i && !used) {
            imp_list run = { 0 };
            mf_node n;
            for (int k = i; k <= j && rc == THAW_OK; k++) {
                rc = list_push(g, &run, &top->v[k], top->key[k]);
                memset(&top->v[k], 0, sizeof top->v[k]);
            }
            if (rc == THAW_OK && (rc = node_holding(g, &g->l[g->output], &n, "sequential", key,
                                                    &run)) == THAW_OK)
                rc = list_push(g, &out, &n, key);
            list_free(&run);
        } else {
            for (int k = i; k <= j && rc == THAW_OK; k++) {
                mf_node n = top->v[k];
                memset(&top->v[k], 0, sizeof top->v[k]);
                if (i == j && !used && n.type->children)
                    snprintf(n.name, sizeof n.name, "%s", key);
                name_unique(out.v, out.n, n.name);
                rc = list_push(g, &out, &n, key);
            }
        }
        i = j + 1;
    }
    if (rc == THAW_OK && out.n == 0)
        rc = thaw_fail(g->c.err, THAW_EINVAL, "%s: the model has no layers thaw would build",
                       g->c.file);
    mf_node *root = rc == THAW_OK ? calloc(1, sizeof *root) : NULL;
    if (rc == THAW_OK && !root)
        rc = imp_nomem(g);
    if (rc == THAW_OK) {
        root->type = &sequential_ops;
        root->child = out.v, root->nchild = out.n;
        free(out.key);
        memset(&out, 0, sizeof out);
        g->root = root;
        if (g->rep)
            g->rep->blocks = root->nchild;
    }
    list_free(&out);
    return rc;
}

static int count_nodes(const mf_node *n)
{
    int c = 1;
    for (int i = 0; i < n->nchild; i++)
        c += count_nodes(&n->child[i]);
    return c + (n->side ? count_nodes(n->side) : 0);
}

int imp_graph_read(imp_graph *g, const cJSON *keras, const char *at)
{
    g->rescale = -1;
    int rc = imp_read_model(g, keras, at, "", 1, &g->input, &g->output);
    if (rc)
        return rc;
    if (g->rep)
        g->rep->layers = g->n;
    if (g->l[g->input].op != IMP_INPUT)
        return imp_lfail(g, &g->l[g->input], THAW_EFORMAT, "is the model's input but not an InputLayer");
    return imp_graph_build(g);
}

int imp_graph_build(imp_graph *g)
{
    int rc;
    if ((rc = order_and_shape(g)))
        return rc;
    if (g->torch_names && (rc = torch_blocks(g)))
        return rc;
    imp_list top = { 0 };
    rc = emit_chain(g, g->input, g->output, &top, 0, 1);
    if (rc == THAW_OK)
        rc = group_blocks(g, &top);
    list_free(&top);
    if (rc == THAW_OK && count_nodes(g->root) > MF_LAYERS_MAX)
        rc = thaw_fail(g->c.err, THAW_EINVAL, "%s: the tree has more than %d nodes", g->c.file,
                       MF_LAYERS_MAX);
    return rc;
}

void imp_graph_free(imp_graph *g)
{
    if (g->root) {
        mf_node_free(g->root);
        free(g->root);
    }
    free(g->l);
    free(g->bind);
    g->root = NULL, g->l = NULL, g->bind = NULL;
    g->n = g->cap = g->nbind = g->bindcap = 0;
}
