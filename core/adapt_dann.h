/* adapt_dann.h — the domain classifier of adversarial adaptation (DANN,
 * Ganin and Lempitsky 2015): a small network on a batch's features that
 * learns to tell source rows from target rows. The session trains it on
 * every step and sends the gradient of its loss with respect to the
 * features back into the model reversed (and scaled), so the features
 * learn to make the two domains look alike while the classifier keeps
 * trying to tell them apart.
 *
 * The network: dim → hidden (ReLU) → 1 logit, the logistic loss averaged
 * over the rows (domain 0 source, 1 target), SGD with momentum 0.9.
 *
 *     adapt_dann d;
 *     if (adapt_dann_init(&d, dim, 32, seed, &err)) ... err.msg ...
 *     float acc, loss = adapt_dann_step(&d, dfeat, feat, domain, n, 0.01f, &acc);
 *     // dfeat (n, dim): d loss / d feat, before the step's update
 *     adapt_dann_free(&d);
 */
#ifndef THAW_ADAPT_DANN_H
#define THAW_ADAPT_DANN_H

#include "status.h"

enum { ADAPT_DANN_HIDDEN = 32, ADAPT_DANN_ROWS_MAX = 1 << 16 };

typedef struct adapt_dann {
    int dim, hidden;
    float *w1, *b1, *w2, *b2;   /* one block: (hidden, dim), (hidden), (hidden), (1) */
    float *v;                /* momentum, the same layout */
    float *h;                /* (rows, hidden) the hidden layer of the last step */
    int rows;                /* h's capacity */
} adapt_dann;

/* Seeded weights (uniform in ±1/sqrt(fan-in)). THAW_EINVAL for dim or
 * hidden < 1 (or absurd), THAW_ENOMEM. */
int adapt_dann_init(adapt_dann *d, int dim, int hidden, unsigned long long seed, thaw_err *err);
void adapt_dann_free(adapt_dann *d);

/* One step on n rows of feat (n, dim) with their domains (0 or 1): the mean
 * logistic loss, returned; d loss / d feat into dfeat (n, dim) when not
 * NULL; the share of rows classified right into *acc when not NULL; then
 * the classifier's own update at rate lr (none when lr is 0). n must be at
 * most ADAPT_DANN_ROWS_MAX; NaN when memory runs out. */
float adapt_dann_step(adapt_dann *d, float *dfeat, const float *feat, const int *domain, int n,
                      float lr, float *acc);

/* Ganin and Lempitsky's ramp of the reversed gradient, 2/(1+e^{-10p}) − 1
 * for the share p of training done (0 at the start, near 1 at the end). */
double adapt_dann_ramp(double p);

#endif
