#include "loss.h"

#include <math.h>
#include <stddef.h>

float loss_softmax_xent(float *dlogits, const float *logits, const int *labels,
                        int batch, int classes)
{
    return loss_softmax_xent_weighted(dlogits, logits, labels, NULL, batch, classes);
}

float loss_softmax_xent_weighted(float *dlogits, const float *logits, const int *labels,
                                 const float *weights, int batch, int classes)
{
    double total = 0.0;
    for (int b = 0; b < batch; b++) {
        const float *z = logits + (size_t)b * classes;
        float zmax = z[0];
        for (int k = 1; k < classes; k++)
            zmax = fmaxf(zmax, z[k]);
        /* Everything relative to the maximum, in double: adding zmax back
         * (lse = log Σ + zmax) would lose log Σ against a logit of 1e30. */
        double sum = 0.0;
        for (int k = 0; k < classes; k++)
            sum += exp((double)z[k] - zmax);
        double wb = weights ? weights[b] : 1.0;
        total += wb * (log(sum) - ((double)z[labels[b]] - zmax));
        if (dlogits) {
            float *dz = dlogits + (size_t)b * classes;
            for (int k = 0; k < classes; k++)
                dz[k] = (float)(wb * (exp((double)z[k] - zmax) / sum - (k == labels[b])) / batch);
        }
    }
    return (float)(total / batch);
}

int loss_correct(const float *logits, const int *labels, int batch, int classes)
{
    int correct = 0;
    for (int b = 0; b < batch; b++) {
        const float *z = logits + (size_t)b * classes;
        int best = 0;
        for (int k = 1; k < classes; k++)
            if (z[k] > z[best])
                best = k;
        correct += best == labels[b];
    }
    return correct;
}
