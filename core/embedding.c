/* embedding.c — word vectors looked up by token id: x (B, 1, 1, L) ids ->
 * y (B, D, 1, L), y[b, :, 0, t] = W[x[b, t]], W (V, D) as PyTorch's
 * nn.Embedding stores it. The output is channels first, the layout of
 * PyTorch's Conv1d input (an nn.Embedding's (B, L, D) transposed), so that a
 * conv1d or a pool over time reads it directly.
 *
 * Ids travel as floats (every integer up to 2^24 is exact in a float, and
 * the vocabulary is at most that); the nearest integer is the id, so a
 * float's rounding never changes a lookup. The padding id (padding_idx,
 * PyTorch's, 0 by default; -1 for none) and any id outside [0, V) look up
 * the zero vector and get no gradient, so the padding row is never updated.
 *
 * A sequence is its ids up to the last one that is not padding: the
 * embedding records each sample's length for the pools over time (seqmean,
 * seqmax), which read it through embedding_seq_len.
 *
 *   dW[x[b, t]] += dy[b, :, 0, t]   (rows the batch used only: W is a
 *   row-sparse slice, see model.h, so the optimizer moves those rows alone)
 *   ids have no gradient: dx is zero. */
#include <math.h>
#include <string.h>

#include "model.h"

typedef struct embedding {
    layer base;
    int vocab, dim, pad;
    int *len;                 /* (B) each sample's length */
} embedding;

/* x's id, or -1 for padding and ids outside the vocabulary. */
static int embedding_id(const embedding *e, float x)
{
    if (!(x > -0.5f && x < (float)e->vocab - 0.5f))
        return -1;
    int id = (int)lrintf(x);
    return id == e->pad ? -1 : id;
}

static int embedding_plan(layer *l, model *m, shape3 in, const layer *prev, thaw_err *err)
{
    embedding *e = (embedding *)l;
    if (prev)
        return thaw_fail(err, THAW_ESHAPE, "reads the model's input (token ids); it must come first");
    if (m->seq)
        return thaw_fail(err, THAW_ESHAPE, "is a second embedding (%s is the first); a model reads "
                         "one sequence of ids", m->seq->path);
    if (in.c != 1 || in.h != 1)
        return thaw_fail(err, THAW_ESHAPE, "expects token ids 1x1xL, gets %dx%dx%d", in.c, in.h, in.w);
    l->out = (shape3){ e->dim, 1, in.w };
    m->seq = l;
    if (model_declare_rows(m, l, "weight", PARAM_WEIGHT, e->vocab, e->dim, err) < 0)
        return THAW_ENOMEM;
    return THAW_OK;
}

static void embedding_alloc(layer *l, arena *a, int batch)
{
    layer_alloc_io(l, a, batch);
    ((embedding *)l)->len = arena_alloc(a, (size_t)batch * sizeof(int));
}

/* PyTorch's: N(0, 1), the padding row zero. */
static void embedding_init(layer *l, model *m, rng *r)
{
    embedding *e = (embedding *)l;
    float *w = model_param(m, l->slice0);
    for (size_t i = 0; i < (size_t)e->vocab * e->dim; i++)
        w[i] = rng_normal(r);
    if (e->pad >= 0)
        memset(w + (size_t)e->pad * e->dim, 0, (size_t)e->dim * sizeof(float));
}

static void embedding_forward(layer *l, model *m, const float *x, int batch, int train)
{
    (void)train;
    embedding *e = (embedding *)l;
    const float *w = model_param(m, l->slice0);   /* (V, D) */
    size_t L = (size_t)l->in.w, D = (size_t)e->dim;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + b * L;                 /* (L) */
        float *yb = l->y + b * D * L;                /* (D, L) */
        e->len[b] = 0;
        for (size_t t = 0; t < L; t++) {
            int id = embedding_id(e, xb[t]);
            if (id < 0) {
                for (size_t d = 0; d < D; d++)
                    yb[d * L + t] = 0.0f;
                continue;
            }
            const float *row = w + (size_t)id * D;
            for (size_t d = 0; d < D; d++)
                yb[d * L + t] = row[d];
            e->len[b] = (int)t + 1;
        }
    }
}

static void embedding_backward(layer *l, model *m, const float *x, float *dx, int acc, int batch)
{
    embedding *e = (embedding *)l;
    size_t L = (size_t)l->in.w, D = (size_t)e->dim;
    if (dx && !acc)
        memset(dx, 0, (size_t)batch * L * sizeof(float));
    if (m->slice[l->slice0].frozen)
        return;
    float *dw = model_grad(m, l->slice0);
    for (int b = 0; b < batch; b++) {
        const float *xb = x + b * L, *dyb = l->dy + b * D * L;
        for (size_t t = 0; t < L; t++) {
            int id = embedding_id(e, xb[t]);
            if (id < 0)
                continue;
            model_touch_row(m, l->slice0, id);
            float *drow = dw + (size_t)id * D;
            for (size_t d = 0; d < D; d++)
                drow[d] += dyb[d * L + t];
        }
    }
}

int embedding_seq_len(const model *m, int b, int steps)
{
    const layer *l = m->seq;
    if (!l)
        return steps;
    int n = ((const embedding *)l)->len[b];
    if (n == 0)
        return 0;
    n += steps - l->out.w;
    return n < 1 ? 1 : n > steps ? steps : n;
}

static int embedding_relate(const double *hp, int *bad, thaw_err *err)
{
    if (hp[2] < hp[0])
        return THAW_OK;
    *bad = 2;
    return thaw_fail(err, THAW_EINVAL, "padding_idx = %g: expected -1 (none) or an id below "
                     "num_embeddings = %g", hp[2], hp[0]);
}

static const layer_hparam embedding_hp[] = {
    { "num_embeddings", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, EMBEDDING_VOCAB_MAX, .def = 0 },
    { "embedding_dim", LAYER_HP_INT, LAYER_HP_REQUIRED, 1, LAYER_WIDTH_MAX, .def = 0 },
    { "padding_idx", LAYER_HP_INT, 0, -1, EMBEDDING_VOCAB_MAX - 1, .def = 0 },
};

static void embedding_setup(layer *l, const double *hp)
{
    embedding *e = (embedding *)l;
    e->vocab = (int)hp[0], e->dim = (int)hp[1], e->pad = (int)hp[2];
}

static void embedding_hparams(const layer *l, double *hp)
{
    const embedding *e = (const embedding *)l;
    hp[0] = e->vocab, hp[1] = e->dim, hp[2] = e->pad;
}

static double embedding_count(const double *hp)
{
    return hp[0] * hp[1];
}

const layer_ops embedding_ops = {
    .type = "embedding", .torch = "nn.Embedding",
    .tensors = (const char *const[]){ "weight", NULL },
    .size = sizeof(embedding),
    LAYER_HPARAMS(embedding),
    .count = embedding_count,
    .relate = embedding_relate,
    .plan = embedding_plan,
    .alloc = embedding_alloc,
    .init = embedding_init,
    LAYER_PASSES(embedding),
};

layer *embedding_new(const char *name, int vocab, int dim, int pad)
{
    return layer_create(&embedding_ops, name, (const double[]){ vocab, dim, pad }, NULL);
}
