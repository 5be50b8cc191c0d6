/* adapt_selftrain.c — class-balanced pseudo-label selection; see
 * adapt_selftrain.h. */
#include "adapt_selftrain.h"

#include <stddef.h>
#include <stdlib.h>

/* argmax of one row and its probability. */
static int top(const float *p, int classes, float *conf)
{
    int best = 0;
    for (int k = 1; k < classes; k++)
        if (p[k] > p[best])
            best = k;
    *conf = p[best];
    return best;
}

typedef struct pick_ctx {
    const float *probs;
    int classes;
} pick_ctx;

/* Class ascending, then confidence descending, then index ascending. */
static int by_class_conf(const void *a, const void *b, void *arg)
{
    const pick_ctx *c = arg;
    int i = *(const int *)a, j = *(const int *)b;
    float ci, cj;
    int ki = top(c->probs + (size_t)i * c->classes, c->classes, &ci);
    int kj = top(c->probs + (size_t)j * c->classes, c->classes, &cj);
    if (ki != kj)
        return ki < kj ? -1 : 1;
    if (ci != cj)
        return ci > cj ? -1 : 1;
    return i < j ? -1 : i > j;
}

int adapt_pseudo_select(int *idx, int *lab, const float *probs, int n, int classes, float tau,
                        int cap_per_class)
{
    if (n < 0 || classes < 1 || classes > ADAPT_PSEUDO_CLASSES_MAX)
        return -1;
    int count[ADAPT_PSEUDO_CLASSES_MAX] = { 0 }, cand = 0;
    float conf;
    for (int i = 0; i < n; i++) {
        int k = top(probs + (size_t)i * classes, classes, &conf);
        if (conf >= tau)
            count[k]++, idx[cand++] = i;
    }
    int per = cand;
    for (int k = 0; k < classes; k++)
        per = count[k] < per ? count[k] : per;
    if (cap_per_class > 0 && cap_per_class < per)
        per = cap_per_class;
    if (per == 0)
        return 0;
    pick_ctx c = { probs, classes };
    qsort_r(idx, (size_t)cand, sizeof *idx, by_class_conf, &c);
    /* each class's group now starts with its most confident: keep `per` of each */
    int kept = 0, at = 0;
    for (int k = 0; k < classes; k++) {
        for (int r = 0; r < per; r++) {
            lab[kept] = k;
            idx[kept++] = idx[at + r];
        }
        at += count[k];
    }
    return kept;
}

int adapt_pseudo_correct(const int *idx, const int *lab, int kept, const int *truth)
{
    int right = 0;
    for (int i = 0; i < kept; i++)
        right += truth[idx[i]] == lab[i];
    return right;
}
