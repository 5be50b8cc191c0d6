/* loss.h — softmax cross-entropy and accuracy over a batch of logits.
 *
 *     float loss = loss_softmax_xent(m.root->dy, m.root->y, labels, batch, classes);
 *
 * Labels must lie in [0, classes); callers check them when they load data. */
#ifndef THAW_LOSS_H
#define THAW_LOSS_H

/* Mean cross-entropy of softmax(logits) against labels, computed stably
 * (log-sum-exp after subtracting each row's maximum). When dlogits is not
 * NULL it receives the gradient of the mean, (softmax - onehot) / batch.
 * logits, dlogits: (batch, classes). */
float loss_softmax_xent(float *dlogits, const float *logits, const int *labels,
                        int batch, int classes);

/* The same with a weight per example (instance reweighting): the mean of
 * weights[b] times example b's cross-entropy, and its gradient;
 * weights NULL is every weight 1. */
float loss_softmax_xent_weighted(float *dlogits, const float *logits, const int *labels,
                                 const float *weights, int batch, int classes);

/* How many rows' largest logit is at the label (ties: the first). */
int loss_correct(const float *logits, const int *labels, int batch, int classes);

#endif
