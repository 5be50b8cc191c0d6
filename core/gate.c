/* gate.c — the gate container: y = x · branch(x), for squeeze-and-excite.
 *
 * Dimensions: B batch, x (C, H, W); the branch (a chain of children, e.g.
 * avgpool, 1×1 conv, relu, 1×1 conv, sigmoid) gives g (C, 1, 1), broadcast
 * over H×W, or (C, H, W). Children are named as PyTorch names them
 * (torchvision's SqueezeExcitation: "fc1", "fc2").
 *   y  = x·g
 *   dg = Σ_hw dy·x   (per channel when g is (C, 1, 1))
 *   dx = dy·g + the branch's input gradient
 */
#include "model.h"

typedef struct gate {
    layer base;
    float *dg;        /* (B, C, 1, 1) or (B, C, H, W): gradient of the branch's output */
} gate;

/* Values of g per channel plane: 1 when broadcast, H·W otherwise. */
static size_t gate_plane(const layer *l)
{
    const layer *g = l->child[l->nchild - 1];
    return g->out.h == 1 && g->out.w == 1 ? 1 : (size_t)l->out.h * l->out.w;
}

static int gate_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    if (l->nchild == 0)
        return thaw_fail(err, THAW_ESHAPE, "gate %s has an empty branch", l->path);
    int rc = layer_chain_plan(l->child, l->nchild, m, in, prev, err);
    if (rc)
        return rc;
    shape3 g = l->child[l->nchild - 1]->out;
    if (g.c != in.c || !((g.h == 1 && g.w == 1) || (g.h == in.h && g.w == in.w)))
        return thaw_fail(err, THAW_ESHAPE, "gate %s: the branch gives %dx%dx%d; expected %dx1x1 or "
                         "%dx%dx%d", l->path, g.c, g.h, g.w, in.c, in.c, in.h, in.w);
    l->out = in;
    return THAW_OK;
}

static void gate_alloc(layer *l, arena *a, int batch)
{
    gate *gt = (gate *)l;
    layer_alloc_children(l, a, batch);
    layer_alloc_io(l, a, batch);
    layer *g = l->child[l->nchild - 1];
    gt->dg = arena_alloc(a, (size_t)batch * shape3_count(g->out) * sizeof(float));
    layer_set_dy(g, gt->dg);
}

static void gate_forward(layer *l, model *m, const float *x, int batch, int train)
{
    layer_chain_forward(l->child, l->nchild, m, 0, x, batch, train);
    const float *g = l->child[l->nchild - 1]->y;
    size_t G = gate_plane(l), N = (size_t)l->out.h * l->out.w;
    size_t planes = (size_t)batch * l->out.c;
    for (size_t p = 0; p < planes; p++)
        for (size_t i = 0; i < N; i++)
            l->y[p * N + i] = x[p * N + i] * g[p * G + (G == 1 ? 0 : i)];
}

static void gate_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    gate *gt = (gate *)l;
    const float *g = l->child[l->nchild - 1]->y, *dy = l->dy;
    size_t G = gate_plane(l), N = (size_t)l->out.h * l->out.w;
    size_t planes = (size_t)batch * l->out.c;
    for (size_t p = 0; p < planes; p++) {
        if (G == 1) {
            double s = 0.0;
            for (size_t i = 0; i < N; i++)
                s += (double)dy[p * N + i] * x[p * N + i];
            gt->dg[p] = (float)s;
        } else {
            for (size_t i = 0; i < N; i++)
                gt->dg[p * N + i] = dy[p * N + i] * x[p * N + i];
        }
        if (!dx)
            continue;
        for (size_t i = 0; i < N; i++) {
            float d = dy[p * N + i] * g[p * G + (G == 1 ? 0 : i)];
            dx[p * N + i] = acc ? dx[p * N + i] + d : d;
        }
    }
    /* The branch adds its input gradient to the direct path's. */
    layer_chain_backward(l->child, l->nchild, m, 0, x, dx, 1, batch);
}

const layer_ops gate_ops = {
    .type = "gate",
    .flags = LAYER_CONTAINER,
    .children = "branch",
    .size = sizeof(gate),
    .plan = gate_plan,
    .alloc = gate_alloc,
    LAYER_PASSES(gate),
    .grad_plan = layer_children_grad_plan,
};
