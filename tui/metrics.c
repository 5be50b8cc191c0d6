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
