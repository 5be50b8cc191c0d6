/* metrics.c — sess_eval's fields by name; see metrics.h. */
#include "metrics.h"

#include <math.h>
#include <string.h>

const metric_field metric_fields[METRIC_COUNT] = {
#define METRIC_ENTRY(id, type, field)                                                             \
    [METRIC_##id] = { #field,                                                                     \
                      _Generic((type)0, int: METRIC_INT, long: METRIC_LONG,                  \
                               double: METRIC_DOUBLE),                                            \
                      offsetof(sess_eval, field) },
    SESS_EVAL_FIELDS(METRIC_ENTRY)
#undef METRIC_ENTRY
};

#define FRACTION "a fraction of 1 (0.9 is 90%)"
#define POINTS "a difference of fractions of 1 (0.138 is +13.8 points)"
#define LOSS "mean cross-entropy per image, in nats"

static const char *const metric_units[METRIC_COUNT] = {
    [METRIC_EPOCH] = "epochs completed",
    [METRIC_STEP] = "optimizer steps taken",
    [METRIC_WALL] = "seconds since training began, evaluations included, pauses not",
    [METRIC_IMG_S] = "training images per second since the last evaluation",
    [METRIC_TRAIN_S] = "seconds of training steps alone",
    [METRIC_LR] = "the transferred model's head rate (learning rate, per step)",
    [METRIC_SCRATCH_LR] = "the scratch baseline's rate (learning rate, per step)",
    [METRIC_TRAIN_LOSS] = "training loss of the transferred model since the last evaluation, " LOSS,
    [METRIC_TRAIN_ACC] = "training accuracy of the transferred model since the last evaluation, " FRACTION,
    [METRIC_VAL_LOSS] = "validation loss of the transferred model, " LOSS,
    [METRIC_VAL_ACC] = "validation accuracy of the transferred model, " FRACTION,
    [METRIC_TEST_ACC] = "test accuracy of the transferred model, " FRACTION,
    [METRIC_SCRATCH_TRAIN_LOSS] = "training loss of the scratch baseline since the last evaluation, " LOSS,
    [METRIC_SCRATCH_TRAIN_ACC] = "training accuracy of the scratch baseline since the last evaluation, " FRACTION,
    [METRIC_SCRATCH_VAL_LOSS] = "validation loss of the scratch baseline, " LOSS,
    [METRIC_SCRATCH_VAL_ACC] = "validation accuracy of the scratch baseline, " FRACTION,
    [METRIC_SCRATCH_TEST_ACC] = "test accuracy of the scratch baseline, " FRACTION,
    [METRIC_DELTA] = "transfer on validation, val_acc minus scratch_val_acc, " POINTS,
    [METRIC_TEST_DELTA] = "transfer on test, test_acc minus scratch_test_acc, " POINTS,
    [METRIC_SOURCE_ACC] = "accuracy of the backbone with the source head on the source's test images, " FRACTION,
    [METRIC_FINAL] = "1 for the evaluation at the end of a train command, else 0",
    [METRIC_BEST] = "1 for the best evaluation so far, else 0",
    [METRIC_PSEUDO_N] = "self-training: pseudo-labelled pool images in training (0: none)",
    [METRIC_PSEUDO_ACC] = "self-training: the share of pseudo-labels that are right, " FRACTION,
    [METRIC_ALIGN_LOSS] = "mmd: the MMD squared between source and target features at the adapted layer; "
                          "dann: the domain classifier's loss in nats (0.69: it cannot tell the domains apart)",
    [METRIC_DOMAIN_GAP] = "proxy A-distance between source and target features, from 0 (alike) to 2 (apart)",
};

const char *metric_unit(int i)
{
    return metric_units[i];
}

int metric_find(const char *name)
{
    for (int i = 0; i < METRIC_COUNT; i++)
        if (!strcmp(name, metric_fields[i].name))
            return i;
    return -1;
}

double metric_value(const sess_eval *e, int i)
{
    const char *p = (const char *)e + metric_fields[i].off;
    switch (metric_fields[i].kind) {
    case METRIC_INT: {
        int v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case METRIC_LONG: {
        long v;
        memcpy(&v, p, sizeof v);
        return (double)v;
    }
    case METRIC_DOUBLE:
        break;
    }
    double v;
    memcpy(&v, p, sizeof v);
    return v;
}

void metric_none(sess_eval *e)
{
    static const double none = NAN;
    memset(e, 0, sizeof *e);
    for (int i = 0; i < METRIC_COUNT; i++)
        if (metric_fields[i].kind == METRIC_DOUBLE)
            memcpy((char *)e + metric_fields[i].off, &none, sizeof none);
}
