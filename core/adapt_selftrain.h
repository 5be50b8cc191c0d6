/* adapt_selftrain.h — self-training's selection rule: which unlabelled
 * target images get a pseudo-label, and which.
 *
 * An image is a candidate for class k when the model's most probable class
 * is k with probability at least τ (threshold). Selection is class-balanced:
 * every class gets the same number, at most as many as the rarest class has
 * candidates (a class with none stops the round: pseudo-labels that all
 * come from the easy classes make the model worse at the others), and
 * within a class the most confident go first (ties: the lower index).
 *
 *     int idx[n], lab[n];
 *     int kept = adapt_pseudo_select(idx, lab, probs, n, classes, 0.9f, 0);
 *     // idx[0 .. kept): pool images; lab: their pseudo-labels, class by class
 */
#ifndef THAW_ADAPT_SELFTRAIN_H
#define THAW_ADAPT_SELFTRAIN_H

/* probs (n, classes): each row a distribution. Writes at most n pairs into
 * idx and lab, grouped by class in class order, each group by falling
 * confidence; returns how many. cap_per_class > 0 also bounds each class's
 * number (0: no bound). Uses no memory of its own beyond the stack for up
 * to ADAPT_PSEUDO_CLASSES_MAX classes (idx doubles as the candidates' list,
 * sorted in place); returns -1 for more classes, or for n < 0. */
#define ADAPT_PSEUDO_CLASSES_MAX 1000
int adapt_pseudo_select(int *idx, int *lab, const float *probs, int n, int classes, float tau,
                        int cap_per_class);

/* How many of the `kept` pseudo-labels are right, against the pool's own
 * labels (kept for measuring, never for training). */
int adapt_pseudo_correct(const int *idx, const int *lab, int kept, const int *truth);

#endif
