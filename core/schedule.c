/* schedule.c — learning-rate schedule factors and their text form. */
#include "schedule.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"

static const char *const sched_names[] = {
    [SCHED_CONSTANT] = "constant",
    [SCHED_STEP] = "step",
    [SCHED_COSINE] = "cosine",
    [SCHED_ONECYCLE] = "one-cycle",
};

_Static_assert(sizeof sched_names / sizeof sched_names[0] == SCHED_KIND_COUNT,
               "every schedule kind has a name");

#define SCHED_ALL ((1u << SCHED_KIND_COUNT) - 1)
#define SCHED_BIT(k) (1u << (k))

/* One key of the text form: the field it sets, the kinds that take it and
 * its valid range [lo, hi], each end open or closed. */
typedef struct sched_key {
    const char *name;
    size_t off;
    unsigned kinds;
    double lo, hi;
    int lo_open, hi_open;
} sched_key;

/* In the order schedule_format writes them. */
static const sched_key sched_keys[] = {
    { "every", offsetof(schedule, every), SCHED_BIT(SCHED_STEP), 0, INFINITY, 1, 1 },
    { "gamma", offsetof(schedule, gamma), SCHED_BIT(SCHED_STEP), 0, 1, 1, 0 },
    { "div", offsetof(schedule, div), SCHED_BIT(SCHED_ONECYCLE), 1, INFINITY, 0, 1 },
    { "div_final", offsetof(schedule, div_final), SCHED_BIT(SCHED_ONECYCLE), 1, INFINITY, 0, 1 },
    { "pct", offsetof(schedule, pct), SCHED_BIT(SCHED_ONECYCLE), 0, 1, 1, 1 },
    { "warmup", offsetof(schedule, warmup), SCHED_ALL, 0, INFINITY, 0, 1 },
};

enum { SCHED_NKEYS = sizeof sched_keys / sizeof sched_keys[0] };

/* An item of the text form: n characters at s. */
typedef struct sched_item {
    const char *s;
    int n;
} sched_item;


const char *sched_name(sched_kind k)
{
    if ((unsigned)k >= SCHED_KIND_COUNT)
        return "unknown";
    return sched_names[k];
}

void schedule_default(schedule *s, sched_kind kind)
{
    *s = (schedule){ .kind = kind, .warmup = 0, .every = 10, .gamma = 0.1,
                     .div = 25, .div_final = 1e5, .pct = 0.25 };
}

static double *sched_field(schedule *s, const sched_key *k)
{
    return (double *)((char *)s + k->off);
}

static double sched_value(const schedule *s, const sched_key *k)
{
    return *(const double *)((const char *)s + k->off);
}

/* "every, gamma, warmup": the keys kind takes. */
static void keys_text(char *out, size_t cap, sched_kind kind)
{
    num_text t = { out, cap, 0 };
    out[0] = '\0';
    for (int i = 0; i < SCHED_NKEYS; i++)
        if (sched_keys[i].kinds & SCHED_BIT(kind))
            num_text_add(&t, "%s%s", t.len ? ", " : "", sched_keys[i].name);
}

static void range_text(char *out, size_t cap, const sched_key *k)
{
    char lo[32], hi[32];
    num_shortest(lo, sizeof lo, k->lo);
    num_shortest(hi, sizeof hi, k->hi);
    if (isinf(k->hi))
        snprintf(out, cap, "a number %s %s", k->lo_open ? ">" : ">=", lo);
    else
        snprintf(out, cap, "a number in %c%s, %s%c", k->lo_open ? '(' : '[', lo, hi,
                 k->hi_open ? ')' : ']');
}

static int in_range(const sched_key *k, double v)
{
    return (k->lo_open ? v > k->lo : v >= k->lo) && (k->hi_open ? v < k->hi : v <= k->hi);
}

static int is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t';
}

/* The next item at *p, or 0 at the end of the text. */
static int next_item(const char **p, sched_item *it)
{
    const char *s = *p;
    while (is_separator(*s))
        s++;
    const char *e = s;
    while (*e && !is_separator(*e))
        e++;
    *p = e;
    *it = (sched_item){ s, (int)(e - s) };
    return it->n > 0;
}

static int item_is(sched_item it, const char *word)
{
    return (size_t)it.n == strlen(word) && !memcmp(it.s, word, (size_t)it.n);
}

/* The kind named by it, or -1. */
static int find_kind(sched_item it)
{
    for (int k = 0; k < SCHED_KIND_COUNT; k++)
        if (item_is(it, sched_names[k]))
            return k;
    return -1;
}

static const sched_key *find_key(sched_item name, sched_kind kind)
{
    for (int i = 0; i < SCHED_NKEYS; i++)
        if ((sched_keys[i].kinds & SCHED_BIT(kind)) && item_is(name, sched_keys[i].name))
            return &sched_keys[i];
    return NULL;
}

/* Reads a finite number that fills the whole item. */
static int parse_number(sched_item it, double *v)
{
    char buf[64];
    if (it.n == 0 || (size_t)it.n >= sizeof buf)
        return 0;
    memcpy(buf, it.s, (size_t)it.n);
    buf[it.n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v);
}

/* One key=value item into s; `seen` has a bit per key already given. */
static int parse_key(schedule *s, unsigned *seen, sched_item it, thaw_err *err)
{
    char keys[128], range[96];
    keys_text(keys, sizeof keys, s->kind);
    const char *eq = memchr(it.s, '=', (size_t)it.n);
    if (!eq)
        return thaw_fail(err, THAW_EINVAL, "schedule %s: '%.*s' is not key=value (keys: %s)",
                         sched_names[s->kind], it.n, it.s, keys);
    sched_item name = { it.s, (int)(eq - it.s) };
    sched_item value = { eq + 1, it.n - name.n - 1 };
    const sched_key *k = find_key(name, s->kind);
    if (!k)
        return thaw_fail(err, THAW_EINVAL, "schedule %s has no key '%.*s': expected %s",
                         sched_names[s->kind], name.n, name.s, keys);
    unsigned bit = 1u << (k - sched_keys);
    if (*seen & bit)
        return thaw_fail(err, THAW_EINVAL, "schedule %s: %s is given twice", sched_names[s->kind],
                         k->name);
    *seen |= bit;
    range_text(range, sizeof range, k);
    double v;
    if (!parse_number(value, &v))
        return thaw_fail(err, THAW_EINVAL, "schedule %s: %s='%.*s' is not a number: expected %s",
                         sched_names[s->kind], k->name, value.n, value.s, range);
    if (!in_range(k, v))
        return thaw_fail(err, THAW_EINVAL, "schedule %s: %s=%.*s is out of range: expected %s",
                         sched_names[s->kind], k->name, value.n, value.s, range);
    *sched_field(s, k) = v;
    return THAW_OK;
}

int schedule_parse(schedule *s, const char *text, thaw_err *err)
{
    const char *p = text ? text : "";
    sched_item it;
    if (!next_item(&p, &it))
        return thaw_fail(err, THAW_EINVAL, "empty schedule: expected constant, step, cosine or "
                         "one-cycle, then key=value items");
    int kind = find_kind(it);
    if (kind < 0)
        return thaw_fail(err, THAW_EINVAL, "unknown schedule '%.*s': expected constant, step, "
                         "cosine or one-cycle", it.n, it.s);
    schedule out;
    schedule_default(&out, (sched_kind)kind);
    int rc;
    unsigned seen = 0;
    while (next_item(&p, &it))
        if ((rc = parse_key(&out, &seen, it, err)) != THAW_OK)
            return rc;
    *s = out;
    return THAW_OK;
}

void schedule_format(const schedule *s, char *buf, size_t cap)
{
    num_text t = { buf, cap, 0 };
    schedule def;
    schedule_default(&def, s->kind);
    if (cap > 0)
        buf[0] = '\0';
    num_text_add(&t, "%s", sched_name(s->kind));
    if ((unsigned)s->kind >= SCHED_KIND_COUNT)
        return;
    for (int i = 0; i < SCHED_NKEYS; i++) {
        const sched_key *k = &sched_keys[i];
        double v = sched_value(s, k);
        if (!(k->kinds & SCHED_BIT(s->kind)) || v == sched_value(&def, k))
            continue;
        char num[32];
        num_shortest(num, sizeof num, v);
        num_text_add(&t, " %s=%s", k->name, num);
    }
}

/* fast.ai's SchedCos: from start at pos 0 to end at pos 1. */
static double cos_anneal(double start, double end, double pos)
{
    return start + (1.0 + cos(M_PI * (1.0 - pos))) * (end - start) / 2.0;
}

/* fast.ai's combined_cos(pct, 1/div, 1, 1/div_final) at t in [0, 1]. */
static double onecycle(const schedule *s, double t)
{
    if (t < s->pct)
        return cos_anneal(1.0 / s->div, 1.0, t / s->pct);
    return cos_anneal(1.0, 1.0 / s->div_final, (t - s->pct) / (1.0 - s->pct));
}

static double base_factor(const schedule *s, long step, long total, long per_epoch)
{
    double t = (double)step / (double)total;
    double epoch = (double)step / (double)per_epoch;
    switch (s->kind) {
    case SCHED_STEP:
        /* The nudge keeps a drop on its epoch when `every` has no exact
         * binary form: 3 steps at 10 per epoch are 0.3 epochs, and 0.3 / 0.1
         * is 2.9999999999999996 in doubles. */
        return pow(s->gamma, floor(epoch / s->every + 1e-9));
    case SCHED_COSINE:
        return 0.5 * (1.0 + cos(M_PI * t));
    case SCHED_ONECYCLE:
        return onecycle(s, t);
    case SCHED_CONSTANT:
    case SCHED_KIND_COUNT:
        break;
    }
    return 1.0;
}

double schedule_factor(const schedule *s, long step, long total, long per_epoch)
{
    if (total <= 0 || per_epoch <= 0)
        return 1.0;
    step = step < 0 ? 0 : step > total ? total : step;
    double f = base_factor(s, step, total, per_epoch);
    if (s->warmup > 0) {
        double ramp = (double)(step + 1) / (s->warmup * (double)per_epoch);
        if (ramp < 1.0)
            f *= ramp;
    }
    return f;
}
