/* session_adapt.c — self-training rounds: the transferred model labels the
 * unlabelled pool, a class-balanced selection of its confident labels joins
 * the training images (adapt.h, adapt_selftrain.h). */
#include "session_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adapt_reweight.h"
#include "adapt_selftrain.h"

int sess_ntrain(const session *s)
{
    return s->d.split[SESS_TRAIN_SPLIT].n + s->npseudo;
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

/* n images of sp, evenly spaced, through m; their features at `cut` into f. */
static void features(session *s, float *f, const sess_split *sp, int n, const layer *cut)
{
    model *m = s->r[0].m;
    size_t img = shape3_count(s->d.in), feat = shape3_count(cut->out);
    for (int i = 0; i < n; i += m->batch) {
        int c = n - i < m->batch ? n - i : m->batch;
        for (int b = 0; b < c; b++) {
            long at = (long)(i + b) * sp->n / n;
            memcpy(s->bx + (size_t)b * img, sp->x + (size_t)at * img, img * sizeof(float));
        }
        model_forward(m, s->bx, c, 0);
        memcpy(f + (size_t)i * feat, cut->y, (size_t)c * feat * sizeof(float));
    }
}

double sess_domain_gap(session *s)
{
    const sess_split *src = &s->d.split[SESS_SOURCE_SPLIT], *tgt = &s->d.split[SESS_VAL_SPLIT];
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
