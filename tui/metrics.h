/* metrics.h — the fields of an evaluation (sess_eval) by name: the one list
 * behind the columns of metrics.csv and the keys of metrics.jsonl, the
 * metrics `expect` checks, the plots' series and the "not measured yet"
 * record a fresh app starts from.
 *
 *     int i = metric_find("test_delta");           // -1: no such field
 *     if (i >= 0 && !isnan(metric_value(&e, i))) ...
 *     for (int i = 0; i < METRIC_COUNT; i++)       // in sess_eval's order
 *         printf("%s,", metric_fields[i].name);
 *
 * sess_eval is made from SESS_EVAL_FIELDS (session.h), and so is this list:
 * a new field is one line there, and its name becomes a column, a JSON key
 * and a metric of `expect` at once.
 */
#ifndef THAW_METRICS_H
#define THAW_METRICS_H

#include <stddef.h>

#include "session.h"

typedef enum metric_id {
#define METRIC_ID(id, type, field) METRIC_##id,
    SESS_EVAL_FIELDS(METRIC_ID)
#undef METRIC_ID
    METRIC_COUNT
} metric_id;

typedef enum metric_kind { METRIC_INT, METRIC_LONG, METRIC_DOUBLE } metric_kind;

typedef struct metric_field {
    const char *name;           /* the field's name: column, JSON key, expect's METRIC */
    metric_kind kind;
    size_t off;                 /* within sess_eval */
} metric_field;

extern const metric_field metric_fields[METRIC_COUNT];

/* What field i measures and in what unit ("validation accuracy of the
 * transferred model, a fraction of 1 (0.9 is 90%)"): the descriptions
 * metrics.csv-metadata.json gives its columns. Never NULL or empty. */
const char *metric_unit(int i);

/* The field called name, or -1. */
int metric_find(const char *name);

/* Field i of e as a double (NaN: not measured). */
double metric_value(const sess_eval *e, int i);

/* Sets every double field of e to NaN, every other to 0: nothing measured. */
void metric_none(sess_eval *e);

#endif
