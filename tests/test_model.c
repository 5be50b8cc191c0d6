/* test_model.c — building, shapes, freezing and training the whole model. */
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "model.h"
#include "optim.h"
#include "test.h"

void test_reference_net_trains(void)
{
    thaw_err err = {0};
    model m;
    int B = 16;
    CHECKF(model_build(&m, reference_net(1, 10, &err), (shape3){ 1, 28, 28 }, 1, &err) == THAW_OK, "%s", err.msg);
    CHECKF(model_prepare(&m, B, &err) == THAW_OK, "%s", err.msg);
    optim o;
    CHECK(optim_init(&o, &m, OPTIM_SGD, &err) == THAW_OK);
    o.momentum = 0.9f;
    float *x = malloc(sizeof(float) * B * 784);
    int labels[16];
    rng r = rng_seeded(3);
    for (int i = 0; i < B * 784; i++)
        x[i] = rng_normal(&r);
    for (int i = 0; i < B; i++)
        labels[i] = i % 10;
    float first = 0, last = 0;
    for (int step = 0; step < 30; step++) {
        model_zero_grad(&m);
        model_forward(&m, x, B, 1);
        float loss = loss_softmax_xent(m.root->dy, m.root->y, labels, B, 10);
        model_backward(&m, x, B);
        optim_step(&o, &m, 1.0f);
        if (step == 0)
            first = loss;
        last = loss;
    }
    free(x);
    optim_free(&o);
    model_free(&m);
    CHECKF(last < first * 0.5f, "loss went from %g to %g", first, last);
}
