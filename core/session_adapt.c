/* session_adapt.c — the adaptation techniques inside a session (adapt.h):
 * self-training rounds (the transferred model labels the unlabelled pool, a
 * class-balanced selection of its confident labels joins the training
 * images), the source images' weights, the alignment term of a step, and
 * the domain gap of an evaluation. */
#include "session_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_reweight.h"
#include "adapt_selftrain.h"
#include "numtext.h"
#include "shuffle.h"

enum { REWEIGHT_TARGET_MAX = 4000, REWEIGHT_BINS = 8 };

int sess_labelled_n(const sess_data *d, const adapt *a)
{
    return (adapt_uses_target(a->kind) ? d->split[SESS_TRAIN_SPLIT].n : 0) +
           (adapt_uses_source(a->kind) ? d->split[SESS_DOMAIN_SPLIT].n : 0);
}

/* The order's indices: the target's labelled images (unless source-only),
 * then the pseudo-labelled pool, then the source's (see sess_gather). */
int sess_ntrain(const session *s)
{
    return sess_labelled_n(&s->d, &s->c.adapt) + s->npseudo;
}

int sess_adapt_ready(const sess_data *d, const model *m, const adapt *a, int *cut, thaw_err *err)
{
    const char *name = adapt_names[a->kind];
    const layer *root = m->root;
    *cut = -1;
    if (adapt_uses_source(a->kind) && d->split[SESS_DOMAIN_SPLIT].n < 1)
        return thaw_fail(err, THAW_EINVAL, "adapt %s trains on labelled source images, and the "
                         "session has none: set source to a data spec of the same classes in the "
                         "source domain before training", name);
    if (adapt_aligns(a->kind) && (d->pool_n < 1 || !d->pool_image))
        return thaw_fail(err, THAW_EINVAL, "adapt %s aligns the source with the target's "
                         "unlabelled pool, and the task has none (a spec with shots= leaves one)",
                         name);
    if (!adapt_aligns(a->kind) && a->kind != ADAPT_REWEIGHT)
        return THAW_OK;
    if (root->ops != &sequential_ops || root->nchild < 2)
        return thaw_fail(err, THAW_EINVAL, "adapt %s reads the features below the head, and this "
                         "model's root is not a chain of two or more layers", name);
    if (!a->layer[0]) {
        *cut = root->nchild - 2;
        return THAW_OK;
    }
    for (int i = 0; i < root->nchild - 1; i++)
        if (!strcmp(root->child[i]->name, a->layer)) {
            *cut = i;
            return THAW_OK;
        }
    char names[256];
    num_text t = { names, sizeof names, 0 };
    names[0] = '\0';
    for (int i = 0; i < root->nchild - 1; i++)
        num_text_add(&t, "%s%s", i ? ", " : "", root->child[i]->name);
    return thaw_fail(err, THAW_EINVAL, "adapt %s: layer=%s is not one of the model's top-level "
                     "layers below the head (%s)", name, a->layer, names);
}

int sess_weights(session *s, float *out, int cap)
{
    pthread_mutex_lock(&s->board_mu);
    int n = s->sw ? s->d.split[SESS_DOMAIN_SPLIT].n : 0;
    if (n > 0 && out)
        memcpy(out, s->sw, sizeof(float) * (size_t)(n < cap ? n : cap));
    pthread_mutex_unlock(&s->board_mu);
    return n;
}

/* Puts w in as the source's weights (NULL: none), under the board's lock. */
static void set_weights(session *s, float *w)
{
    pthread_mutex_lock(&s->board_mu);
    float *old = s->sw;
    s->sw = w;
    pthread_mutex_unlock(&s->board_mu);
    free(old);
}

void sess_adapt_reset(session *s)
{
    set_weights(s, NULL);
    free(s->af);
    s->af = NULL;
    s->naf = 0;
    adapt_dann_free(&s->dann);
    adapt_mmd_free(&s->mmd);
    s->align_sum = 0.0;
    s->align_n = 0;
}

/* Softmax of the logits z (classes) into p. */
static void softmax(float *p, const float *z, int classes)
{
    float zmax = z[0];
    for (int k = 1; k < classes; k++)
        zmax = fmaxf(zmax, z[k]);
    double sum = 0.0;
    for (int k = 0; k < classes; k++)
        sum += exp((double)z[k] - zmax);
    for (int k = 0; k < classes; k++)
        p[k] = (float)(exp((double)z[k] - zmax) / sum);
}

/* oracle: the whole pool with its own labels, once. */
static void oracle_pool(session *s)
{
    int n = s->d.pool_n;
    size_t img = shape3_count(s->d.in);
    s->pseudo_round = 1;
    if (!s->d.pool_y) {
        sess_emit_text(s, SEV_ERROR, "oracle: the pool's labels are not known; training on the "
                       "labelled images alone");
        return;
    }
    if (!s->px)
        s->px = malloc(sizeof(float) * (size_t)n * img);
    if (!s->py)
        s->py = malloc(sizeof(int) * (size_t)n);
    if (!s->px || !s->py) {
        sess_emit_text(s, SEV_ERROR, "oracle: out of memory for the %d pool images; training on "
                       "the labelled images alone", n);
        return;
    }
    for (int i = 0; i < n; i++) {
        s->d.pool_image(s->d.pool_ctx, i, s->px + (size_t)i * img);
        s->py[i] = s->d.pool_y[i];
    }
    s->npseudo = s->pseudo_right = n;
    int ntrain = s->d.split[SESS_TRAIN_SPLIT].n, batch = s->c.batch < ntrain ? s->c.batch : ntrain;
    s->per_epoch = (sess_ntrain(s) + batch - 1) / batch;
    s->cache_stale = 1;
    sess_emit_text(s, SEV_NOTE, "oracle: the %d pool images train with their true labels", n);
}

int sess_self_train(session *s, int epoch)
{
    if (s->d.pool_n < 1 || !s->d.pool_image)
        return 0;
    if (s->c.adapt.kind == ADAPT_ORACLE) {
        if (!s->pseudo_round)
            oracle_pool(s);
        return 0;
    }
    if (!adapt_round_due(&s->c.adapt, epoch) || s->pseudo_round == epoch + 1)
        return 0;
    model *m = s->r[0].m;
    int n = s->d.pool_n, classes = m->classes, chunk = m->batch;
    size_t img = shape3_count(s->d.in);
    float *prob = malloc(sizeof(float) * (size_t)n * (size_t)classes);
    int *idx = malloc(sizeof(int) * (size_t)n), *lab = malloc(sizeof(int) * (size_t)n);
    if (!s->px)
        s->px = malloc(sizeof(float) * (size_t)n * img);
    if (!s->py)
        s->py = malloc(sizeof(int) * (size_t)n);
    if (!prob || !idx || !lab || !s->px || !s->py) {
        free(prob);
        free(idx);
        free(lab);
        s->pseudo_round = epoch + 1;
        sess_emit_text(s, SEV_ERROR, "self-train: out of memory for the %d pool images; "
                       "training goes on without pseudo-labels", n);
        return 0;
    }
    /* the batch buffer is free between steps: it carries the pool a chunk at a time */
    for (int i = 0; i < n; i += chunk) {
        if (sess_pending(s, SESS_PENDING_ANY)) {
            free(prob);
            free(idx);
            free(lab);
            return 1;
        }
        int c = n - i < chunk ? n - i : chunk;
        for (int b = 0; b < c; b++)
            s->d.pool_image(s->d.pool_ctx, i + b, s->bx + (size_t)b * img);
        model_forward(m, s->bx, c, 0);
        for (int b = 0; b < c; b++)
            softmax(prob + (size_t)(i + b) * classes, m->root->y + (size_t)b * classes, classes);
    }
    int kept = adapt_pseudo_select(idx, lab, prob, n, classes, (float)s->c.adapt.threshold, 0);
    if (kept < 0)
        kept = 0;
    for (int k = 0; k < kept; k++) {
        s->d.pool_image(s->d.pool_ctx, idx[k], s->px + (size_t)k * img);
        s->py[k] = lab[k];
    }
    s->pseudo_right = s->d.pool_y ? adapt_pseudo_correct(idx, lab, kept, s->d.pool_y) : -1;
    s->npseudo = kept;
    s->pseudo_round = epoch + 1;
    int ntrain = s->d.split[SESS_TRAIN_SPLIT].n, batch = s->c.batch < ntrain ? s->c.batch : ntrain;
    s->per_epoch = (sess_ntrain(s) + batch - 1) / batch;
    s->cache_stale = 1;                   /* the cache cannot hold pool images: off while they train */
    if (kept == 0)
        sess_emit_text(s, SEV_NOTE, "self-train, epoch %d: no pseudo-labels (a class has no pool "
                       "image at confidence %g or more)", epoch + 1, s->c.adapt.threshold);
    else if (s->pseudo_right >= 0)
        sess_emit_text(s, SEV_NOTE, "self-train, epoch %d: %d pseudo-labels of %d pool images "
                       "(%d a class), %.1f%% right", epoch + 1, kept, n, kept / classes,
                       100.0 * s->pseudo_right / kept);
    else
        sess_emit_text(s, SEV_NOTE, "self-train, epoch %d: %d pseudo-labels of %d pool images "
                       "(%d a class)", epoch + 1, kept, n, kept / classes);
    free(prob);
    free(idx);
    free(lab);
    return 0;
}

/* n images of sp, evenly spaced (or of the pool when sp is NULL), through
 * m; their features at `cut` into f. */
static void features(session *s, float *f, const sess_split *sp, int n, const layer *cut)
{
    model *m = s->r[0].m;
    size_t img = shape3_count(s->d.in), feat = shape3_count(cut->out);
    int total = sp ? sp->n : s->d.pool_n;
    for (int i = 0; i < n; i += m->batch) {
        int c = n - i < m->batch ? n - i : m->batch;
        for (int b = 0; b < c; b++) {
            long at = (long)(i + b) * total / n;
            if (sp)
                memcpy(s->bx + (size_t)b * img, sp->x + (size_t)at * img, img * sizeof(float));
            else
                s->d.pool_image(s->d.pool_ctx, (int)at, s->bx + (size_t)b * img);
        }
        model_forward(m, s->bx, c, 0);
        memcpy(f + (size_t)i * feat, cut->y, (size_t)c * feat * sizeof(float));
    }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The weights' histogram on a log scale from 1/clip to clip, as a line of
 * block characters, with the median and the effective sample size. */
static void weights_note(session *s, const float *w, int n, float train_err)
{
    double clip = s->c.adapt.clip, lo = log(1.0 / clip), span = 2.0 * log(clip);
    int bins[REWEIGHT_BINS] = { 0 }, top = 1;
    double sum = 0.0, sq = 0.0, wmin = INFINITY, wmax = 0.0;
    float *sorted = malloc(sizeof(float) * (size_t)n);
    for (int i = 0; i < n; i++) {
        int b = (int)((log(w[i]) - lo) / span * REWEIGHT_BINS);
        b = b < 0 ? 0 : b >= REWEIGHT_BINS ? REWEIGHT_BINS - 1 : b;
        top = ++bins[b] > top ? bins[b] : top;
        sum += w[i];
        sq += (double)w[i] * w[i];
        wmin = w[i] < wmin ? w[i] : wmin;
        wmax = w[i] > wmax ? w[i] : wmax;
        if (sorted)
            sorted[i] = w[i];
    }
    static const char *const bar[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    char hist[REWEIGHT_BINS * 4 + 1];
    num_text t = { hist, sizeof hist, 0 };
    hist[0] = '\0';
    for (int b = 0; b < REWEIGHT_BINS; b++)
        num_text_add(&t, "%s", bar[bins[b] ? 1 + (bins[b] * 7 + top - 1) / top : 0]);
    float median = 1.0f;
    if (sorted) {
        qsort(sorted, (size_t)n, sizeof(float), cmp_float);
        median = sorted[n / 2];
        free(sorted);
    }
    const layer *cut = s->r[0].m->root->child[s->cut];
    sess_emit_text(s, SEV_NOTE, "reweight: %d source images at %s, the domains told apart %.0f%% "
                   "of the time; weights %.2g to %.3g, median %.2f, effective sample %.0f%%; "
                   "histogram %.3g▕%s▏%.3g", n, cut->name, 100.0 * (1.0 - train_err),
                   wmin, wmax, (double)median,
                   100.0 * sum * sum / (sq * n), 1.0 / clip, hist, clip);
}

void sess_reweight(session *s)
{
    if (s->c.adapt.kind != ADAPT_REWEIGHT || s->cut < 0)
        return;
    model *m = s->r[0].m;
    const layer *cut = m->root->child[s->cut];
    const sess_split *src = &s->d.split[SESS_DOMAIN_SPLIT], *lab = &s->d.split[SESS_TRAIN_SPLIT];
    int ns = src->n, pool = s->d.pool_image ? s->d.pool_n : 0;
    int nl = lab->n < REWEIGHT_TARGET_MAX ? lab->n : REWEIGHT_TARGET_MAX;
    int np = pool < REWEIGHT_TARGET_MAX - nl ? pool : REWEIGHT_TARGET_MAX - nl, nt = nl + np;
    size_t feat = shape3_count(cut->out);
    float *fs = malloc(sizeof(float) * (size_t)ns * feat), *ft = malloc(sizeof(float) * (size_t)nt * feat);
    float *w = malloc(sizeof(float) * (size_t)ns + 1);
    thaw_err err = { 0 };
    adapt_domain dc;
    int rc = !fs || !ft || !w ? thaw_fail(&err, THAW_ENOMEM, "out of memory for the features of "
                                          "%d source and %d target images", ns, nt) : THAW_OK;
    if (!rc) {
        features(s, fs, src, ns, cut);
        features(s, ft, lab, nl, cut);
        if (np > 0)
            features(s, ft + (size_t)nl * feat, NULL, np, cut);
        rc = adapt_domain_fit(&dc, fs, ns, ft, nt, (int)feat, 1e-2f, 300, &err);
    }
    if (!rc) {
        float clip = (float)s->c.adapt.clip;
        adapt_importance(&dc, w, fs, ns, 1.0f / clip, clip);
        float train_err = adapt_domain_error(&dc, fs, ns, ft, nt);
        adapt_domain_free(&dc);
        set_weights(s, w);
        weights_note(s, w, ns, train_err);
    } else {
        free(w);
        sess_emit_text(s, SEV_ERROR, "reweight: %s; the source images keep weight 1", err.msg);
    }
    free(fs);
    free(ft);
}

void sess_pool_rows(session *s, float *dst, int nu)
{
    rng r = shuffle_stream(s->c.seed * 0x9E3779B97F4A7C15ull ^ 0x5DEECE66Dull, s->pool_draws++);
    size_t img = shape3_count(s->d.in);
    for (int b = 0; b < nu; b++) {
        int i = (int)(rng_next(&r) % (uint64_t)s->d.pool_n);
        s->d.pool_image(s->d.pool_ctx, i, dst + (size_t)b * img);
    }
}

/* Room for `floats` in the alignment scratch; 0 when memory runs out. */
static int af_reserve(session *s, size_t floats)
{
    if (floats <= s->naf)
        return 1;
    float *p = realloc(s->af, floats * sizeof(float));
    if (!p)
        return 0;
    s->af = p;
    s->naf = floats;
    return 1;
}

/* mmd: MMD² of the rows' features (source rows, bd 0, against target
 * rows), weight × its gradient into g (rows, dim), the scratch's first
 * 2 rows dim floats holding the rows sorted by domain. NaN when it cannot. */
static float mmd_term(session *s, float *g, const float *f, int rows, size_t dim)
{
    const int *bd = s->bd;
    int ns = 0;
    for (int i = 0; i < rows; i++)
        ns += bd[i] == 0;
    int nt = rows - ns;
    if (ns < 1 || nt < 1)
        return NAN;
    if (s->mmd.cap < rows) {
        adapt_mmd_free(&s->mmd);
        if (adapt_mmd_init(&s->mmd, rows, NULL))
            return NAN;
    }
    float *xs = s->af, *xt = xs + (size_t)ns * dim, *dxs = s->af + (size_t)rows * dim;
    float *dxt = dxs + (size_t)ns * dim;
    for (int i = 0, a = 0, b = 0; i < rows; i++)
        memcpy(bd[i] ? xt + (size_t)b++ * dim : xs + (size_t)a++ * dim, f + (size_t)i * dim,
               dim * sizeof(float));
    memset(dxs, 0, (size_t)rows * dim * sizeof(float));
    float mmd2 = adapt_mmd(dxs, dxt, xs, ns, xt, nt, (int)dim, 5, 2.0f, 0.0f, &s->mmd);
    float wgt = (float)s->c.adapt.weight;
    for (int i = 0, a = 0, b = 0; i < rows; i++) {
        const float *d = bd[i] ? dxt + (size_t)b++ * dim : dxs + (size_t)a++ * dim;
        for (size_t k = 0; k < dim; k++)
            g[(size_t)i * dim + k] = wgt * d[k];
    }
    return mmd2;
}

/* dann: one step of the domain classifier on the rows' features; the
 * gradient of its loss into g reversed and scaled by the weight and the
 * ramp. NaN when it cannot. */
static float dann_term(session *s, float *g, const float *f, int rows, size_t dim)
{
    if (!s->dann.w1 && adapt_dann_init(&s->dann, (int)dim, ADAPT_DANN_HIDDEN, s->c.seed + 104729, NULL))
        return NAN;
    float loss = adapt_dann_step(&s->dann, g, f, s->bd, rows, 0.01f, NULL);
    double p = s->run.total > 0 ? (double)(s->step - s->run.start_step) / (double)s->run.total : 1.0;
    float scale = -(float)(s->c.adapt.weight * adapt_dann_ramp(p));
    for (size_t i = 0; i < (size_t)rows * dim; i++)
        g[i] *= scale;
    return loss;
}

float sess_align_backward(session *s, model *m, const float *x, int n, int nu)
{
    layer *root = m->root, **c = root->child, *cl = c[s->cut];
    int nc = root->nchild, rows = n + nu;
    size_t dim = shape3_count(cl->out);
    if (!af_reserve(s, 3 * (size_t)rows * dim)) {
        model_backward(m, x, rows);
        return NAN;
    }
    float *g = s->af + 2 * (size_t)rows * dim;
    float term = s->c.adapt.kind == ADAPT_MMD ? mmd_term(s, g, cl->y, rows, dim)
                                              : dann_term(s, g, cl->y, rows, dim);
    if (!root->trainable)
        return term;
    layer_chain_backward(c, nc, m, s->cut + 1, cl->y, cl->dy, 0, rows);
    if (!c[s->cut + 1]->need_dx)
        return term;                      /* nothing below the cut trains */
    if (!isnan(term))
        for (size_t i = 0; i < (size_t)rows * dim; i++)
            cl->dy[i] += g[i];
    layer_chain_backward(c, s->cut + 1, m, 0, x, NULL, 0, rows);
    return term;
}

double sess_domain_gap(session *s)
{
    const sess_split *src = &s->d.split[SESS_DOMAIN_SPLIT], *tgt = &s->d.split[SESS_VAL_SPLIT];
    if (src->n < 4)
        src = &s->d.split[SESS_SOURCE_SPLIT];
    model *m = s->r[0].m;
    if (src->n < 4 || tgt->n < 4 || m->root->nchild < 2)
        return NAN;
    int n = src->n < tgt->n ? src->n : tgt->n;
    n = n < SESS_GAP_IMAGES ? n : SESS_GAP_IMAGES;
    const layer *cut = m->root->child[m->root->nchild - 2];   /* what the head reads */
    size_t feat = shape3_count(cut->out);
    float *fs = malloc(sizeof(float) * (size_t)n * feat), *ft = malloc(sizeof(float) * (size_t)n * feat);
    double gap = NAN;
    adapt_domain dc;
    if (fs && ft) {
        features(s, fs, src, n, cut);
        features(s, ft, tgt, n, cut);
        int half = n / 2;
        if (adapt_domain_fit(&dc, fs, half, ft, half, (int)feat, 1e-2f, 300, NULL) == THAW_OK) {
            float err = adapt_domain_error(&dc, fs + (size_t)half * feat, n - half,
                                           ft + (size_t)half * feat, n - half);
            gap = adapt_proxy_a_distance(err);
            adapt_domain_free(&dc);
        }
    }
    free(fs);
    free(ft);
    return gap;
}
