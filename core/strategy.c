/* strategy.c — freeze strategies over parameter groups, their text form, and
 * layer patterns. */
#include "strategy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"

const char *const strategy_names[STRAT_KIND_COUNT + 1] = {
#define STRAT_NAME(kind, name, alias) [STRAT_##kind] = name,
    STRAT_KINDS(STRAT_NAME)
#undef STRAT_NAME
};

/* The other names strategy_parse accepts, NULL where a kind has none. */
static const char *const strat_aliases[STRAT_KIND_COUNT] = {
#define STRAT_ALIAS(kind, name, alias) [STRAT_##kind] = alias,
    STRAT_KINDS(STRAT_ALIAS)
#undef STRAT_ALIAS
};

/* The largest `every`: keeps every thaw event's epoch (up to 63 * every)
 * within an int. */
#define STRAT_EVERY_MAX 1000000

/* One key of the text form: the field it sets (an int or a double), the
 * kind that takes it, its valid range [lo, hi] with each end open or closed,
 * and whether a bare number stands for it. */
typedef struct strat_key {
    const char *name;
    size_t off;
    int integer;
    strat_kind kind;
    double lo, hi;
    int lo_open, hi_open;
    int bare;
} strat_key;

/* In the order strategy_format writes them. */
static const strat_key strat_keys[] = {
    { "every", offsetof(strategy, every), 1, STRAT_GRADUAL, 1, STRAT_EVERY_MAX, 0, 0, 0 },
    { "factor", offsetof(strategy, factor), 0, STRAT_DISCRIMINATIVE, 0, INFINITY, 1, 1, 0 },
    { "lo", offsetof(strategy, lo), 0, STRAT_DISCRIMINATIVE, 0, INFINITY, 0, 1, 0 },
    { "decay", offsetof(strategy, decay), 0, STRAT_LAYER_DECAY, 0, 1, 1, 0, 1 },
};

enum { STRAT_NKEYS = sizeof strat_keys / sizeof strat_keys[0] };

/* An item of the text form: n characters at s. */
typedef struct strat_item {
    const char *s;
    int n;
} strat_item;


const char *strategy_name(strat_kind k)
{
    if ((unsigned)k >= STRAT_KIND_COUNT)
        return "unknown";
    return strategy_names[k];
}

void strategy_default(strategy *s, strat_kind kind)
{
    *s = (strategy){ .kind = kind, .every = 1, .factor = 10, .lo = 0, .decay = 1 / 2.6 };
}

static double strat_value(const strategy *s, const strat_key *k)
{
    const char *field = (const char *)s + k->off;
    return k->integer ? *(const int *)field : *(const double *)field;
}

static void strat_set(strategy *s, const strat_key *k, double v)
{
    char *field = (char *)s + k->off;
    if (k->integer)
        *(int *)field = (int)v;
    else
        *(double *)field = v;
}

/* "factor, lo": the keys kind takes; "none" when it takes none. */
static void keys_text(char *out, size_t cap, strat_kind kind)
{
    num_text t = { out, cap, 0 };
    out[0] = '\0';
    for (int i = 0; i < STRAT_NKEYS; i++)
        if (strat_keys[i].kind == kind)
            num_text_add(&t, "%s%s", t.len ? ", " : "", strat_keys[i].name);
    if (t.len == 0)
        num_text_add(&t, "none");
}

static void range_text(char *out, size_t cap, const strat_key *k)
{
    char lo[32], hi[32];
    num_shortest(lo, sizeof lo, k->lo);
    num_shortest(hi, sizeof hi, k->hi);
    if (k->integer)
        snprintf(out, cap, "an integer in [%s, %s]", lo, hi);
    else if (isinf(k->hi))
        snprintf(out, cap, "a number %s %s", k->lo_open ? ">" : ">=", lo);
    else
        snprintf(out, cap, "a number in %c%s, %s%c", k->lo_open ? '(' : '[', lo, hi,
                 k->hi_open ? ')' : ']');
}

static int in_range(const strat_key *k, double v)
{
    return (k->lo_open ? v > k->lo : v >= k->lo) && (k->hi_open ? v < k->hi : v <= k->hi) &&
           (!k->integer || v == floor(v));
}

static int is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t';
}

/* The next item at *p, or 0 at the end of the text. */
static int next_item(const char **p, strat_item *it)
{
    const char *s = *p;
    while (is_separator(*s))
        s++;
    const char *e = s;
    while (*e && !is_separator(*e))
        e++;
    *p = e;
    *it = (strat_item){ s, (int)(e - s) };
    return it->n > 0;
}

static int item_is(strat_item it, const char *word)
{
    return (size_t)it.n == strlen(word) && !memcmp(it.s, word, (size_t)it.n);
}

/* The kind named by it, or -1. */
static int find_kind(strat_item it)
{
    for (int k = 0; k < STRAT_KIND_COUNT; k++)
        if (item_is(it, strategy_names[k]) || (strat_aliases[k] && item_is(it, strat_aliases[k])))
            return k;
    return -1;
}

/* "feature-extraction (or feature), finetune (or fine-tuning), gradual, ...
 * or layer-decay": the names strategy_parse accepts. */
static void words_text(char *out, size_t cap)
{
    num_text t = { out, cap, 0 };
    out[0] = '\0';
    for (int k = 0; k < STRAT_KIND_COUNT; k++) {
        num_text_add(&t, "%s%s", k == 0 ? "" : k == STRAT_KIND_COUNT - 1 ? " or " : ", ", strategy_names[k]);
        if (strat_aliases[k])
            num_text_add(&t, " (or %s)", strat_aliases[k]);
    }
}

/* The key `name` names for kind; with name empty, the key a bare number
 * stands for. NULL if none. */
static const strat_key *find_key(strat_item name, strat_kind kind)
{
    for (int i = 0; i < STRAT_NKEYS; i++) {
        const strat_key *k = &strat_keys[i];
        if (k->kind == kind && (name.n ? item_is(name, k->name) : k->bare))
            return k;
    }
    return NULL;
}

/* Reads a finite number that fills the whole item. */
static int parse_number(strat_item it, double *v)
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

/* One key=value item, or a bare number, into s; `seen` has a bit per key
 * already given. */
static int parse_key(strategy *s, unsigned *seen, strat_item it, thaw_err *err)
{
    char keys[64], range[96];
    const char *name = strategy_names[s->kind];
    keys_text(keys, sizeof keys, s->kind);
    const char *eq = memchr(it.s, '=', (size_t)it.n);
    strat_item key = { it.s, eq ? (int)(eq - it.s) : 0 };
    strat_item value = eq ? (strat_item){ eq + 1, it.n - key.n - 1 } : it;
    const strat_key *k = find_key(key, s->kind);
    if (!k && !eq)
        return thaw_fail(err, THAW_EINVAL, "strategy %s: '%.*s' is not key=value (keys: %s)",
                         name, it.n, it.s, keys);
    if (!k)
        return thaw_fail(err, THAW_EINVAL, "strategy %s has no key '%.*s': expected %s", name,
                         key.n, key.s, keys);
    unsigned bit = 1u << (k - strat_keys);
    if (*seen & bit)
        return thaw_fail(err, THAW_EINVAL, "strategy %s: %s is given twice", name, k->name);
    *seen |= bit;
    range_text(range, sizeof range, k);
    double v;
    if (!parse_number(value, &v))
        return thaw_fail(err, THAW_EINVAL, "strategy %s: %s='%.*s' is not a number: expected %s",
                         name, k->name, value.n, value.s, range);
    if (!in_range(k, v))
        return thaw_fail(err, THAW_EINVAL, "strategy %s: %s=%.*s is out of range: expected %s",
                         name, k->name, value.n, value.s, range);
    strat_set(s, k, v);
    return THAW_OK;
}

int strategy_parse(strategy *s, const char *text, thaw_err *err)
{
    const char *p = text ? text : "";
    strat_item it;
    char words[160];
    words_text(words, sizeof words);
    if (!next_item(&p, &it))
        return thaw_fail(err, THAW_EINVAL, "empty strategy: expected %s", words);
    int kind = find_kind(it);
    if (kind < 0)
        return thaw_fail(err, THAW_EINVAL, "unknown strategy '%.*s': expected %s", it.n, it.s, words);
    strategy out;
    strategy_default(&out, (strat_kind)kind);
    int rc;
    unsigned seen = 0;
    while (next_item(&p, &it))
        if ((rc = parse_key(&out, &seen, it, err)) != THAW_OK)
            return rc;
    *s = out;
    return THAW_OK;
}

void strategy_format(const strategy *s, char *buf, size_t cap)
{
    num_text t = { buf, cap, 0 };
    strategy def;
    strategy_default(&def, s->kind);
    if (cap > 0)
        buf[0] = '\0';
    num_text_add(&t, "%s", strategy_name(s->kind));
    for (int i = 0; i < STRAT_NKEYS; i++) {
        const strat_key *k = &strat_keys[i];
        double v = strat_value(s, k);
        if (k->kind != s->kind || v == strat_value(&def, k))
            continue;
        char num[32];
        num_shortest(num, sizeof num, v);
        num_text_add(&t, " %s=%s", k->name, num);
    }
}

static int layer_within(const layer *l, const layer *node)
{
    for (; l; l = l->parent)
        if (l == node)
            return 1;
    return 0;
}

static int holds_params(const model *m, const layer *node)
{
    for (int s = 0; s < m->nslice; s++)
        if (m->slice[s].kind != PARAM_STAT && layer_within(m->slice[s].owner, node))
            return 1;
    return 0;
}

int model_groups(const model *m, layer **group, int cap)
{
    int n = 0;
    for (int i = 0; i < m->root->nchild && n < cap; i++)
        if (holds_params(m, m->root->child[i]))
            group[n++] = m->root->child[i];
    return n;
}

/* "stem, stage1, head": the local names of n layers. */
static void names_text(char *out, size_t cap, layer *const *l, int n)
{
    num_text t = { out, cap, 0 };
    out[0] = '\0';
    for (int i = 0; i < n; i++)
        num_text_add(&t, "%s%s", i ? ", " : "", l[i]->name);
}

/* Everything strategy_apply refuses, checked before it changes anything. */
static int strat_check(const strategy *s, layer *const *group, int n, float base_lr,
                       const thaw_plan *plan, thaw_err *err)
{
    if ((unsigned)s->kind >= STRAT_KIND_COUNT) {
        char words[160];
        words_text(words, sizeof words);
        return thaw_fail(err, THAW_EINVAL, "unknown strategy kind %d: expected %s", (int)s->kind, words);
    }
    const char *name = strategy_names[s->kind];
    if (!(base_lr > 0) || !isfinite(base_lr))
        return thaw_fail(err, THAW_EINVAL, "strategy %s: base learning rate %g: expected a "
                         "number > 0", name, (double)base_lr);
    for (int i = 0; i < STRAT_NKEYS; i++) {
        const strat_key *k = &strat_keys[i];
        if (k->kind != s->kind || in_range(k, strat_value(s, k)))
            continue;
        char range[96];
        range_text(range, sizeof range, k);
        return thaw_fail(err, THAW_EINVAL, "strategy %s: %s=%g is out of range: expected %s",
                         name, k->name, strat_value(s, k), range);
    }
    if (n > STRATEGY_GROUPS_MAX)
        return thaw_fail(err, THAW_EINVAL, "strategy %s: the model has more than %d parameter "
                         "groups, the most a strategy splits", name, STRATEGY_GROUPS_MAX);
    if (n < 2 && s->kind != STRAT_FINETUNE) {
        char names[256];
        names_text(names, sizeof names, group, n);
        return thaw_fail(err, THAW_EINVAL, "strategy %s needs at least 2 parameter groups (the "
                         "head and something below it); the model has %d%s%s%s: use finetune",
                         name, n, n ? " (" : "", names, n ? ")" : "");
    }
    if (s->kind == STRAT_GRADUAL && !plan)
        return thaw_fail(err, THAW_EINVAL, "strategy gradual: no plan to fill with thaw events");
    if (s->kind == STRAT_DISCRIMINATIVE && s->lo > base_lr)
        return thaw_fail(err, THAW_EINVAL, "strategy discriminative: lo=%g is above the head's "
                         "rate %g: expected lo <= the base rate", s->lo, (double)base_lr);
    return THAW_OK;
}

/* The learning rate of group i of n. */
static double strat_rate(const strategy *s, double base, int i, int n)
{
    switch (s->kind) {
    case STRAT_DISCRIMINATIVE:
        if (s->lo > 0)
            return s->lo * pow(base / s->lo, (double)i / (n - 1));
        return i == n - 1 ? base : base / s->factor;
    case STRAT_LAYER_DECAY:
        return base * pow(s->decay, n - 1 - i);
    case STRAT_FEATURE_EXTRACTION:
    case STRAT_FINETUNE:
    case STRAT_GRADUAL:
    case STRAT_KIND_COUNT:
        break;
    }
    return base;
}

/* ULMFiT's order: the group below the head first, group 0 last. */
static void strat_plan(const strategy *s, layer *const *group, int n, thaw_plan *plan)
{
    plan->n = n - 1;
    for (int k = 1; k < n; k++) {
        thaw_event *ev = &plan->ev[k - 1];
        ev->epoch = k * s->every;
        snprintf(ev->path, sizeof ev->path, "%s", group[n - 1 - k]->path);
    }
}

int strategy_apply(const strategy *s, model *m, float base_lr, thaw_plan *plan, thaw_err *err)
{
    layer *group[STRATEGY_GROUPS_MAX + 1];
    int n = model_groups(m, group, STRATEGY_GROUPS_MAX + 1);
    int rc = strat_check(s, group, n, base_lr, plan, err);
    if (rc != THAW_OK)
        return rc;
    model_freeze(m, m->root, 0);
    model_set_lr(m, m->root, base_lr);
    for (int i = 0; i < n; i++)
        model_set_lr(m, group[i], (float)strat_rate(s, base_lr, i, n));
    if (plan)
        plan->n = 0;
    if (s->kind == STRAT_FEATURE_EXTRACTION || s->kind == STRAT_GRADUAL) {
        model_freeze(m, m->root, 1);
        model_freeze(m, group[n - 1], 0);
    }
    if (s->kind == STRAT_GRADUAL)
        strat_plan(s, group, n, plan);
    return THAW_OK;
}

/* Whether name (nn characters) matches the glob pat (np characters), whose
 * '*' matches any run: the usual backtrack to the last star. */
static int glob_name(const char *pat, size_t np, const char *name, size_t nn)
{
    size_t i = 0, j = 0, star = np, mark = 0;
    while (j < nn) {
        if (i < np && pat[i] == '*') {
            star = i++;
            mark = j;
        } else if (i < np && pat[i] == name[j]) {
            i++;
            j++;
        } else if (star < np) {
            i = star + 1;
            j = ++mark;
        } else {
            return 0;
        }
    }
    while (i < np && pat[i] == '*')
        i++;
    return i == np;
}

/* Whether a dotted path matches a pattern name by name: as many names, each
 * matching its glob. */
static int glob_path(const char *pat, const char *path)
{
    for (;;) {
        size_t np = strcspn(pat, "."), nn = strcspn(path, ".");
        if (!glob_name(pat, np, path, nn))
            return 0;
        pat += np;
        path += nn;
        if (!*pat || !*path)
            return !*pat && !*path;
        pat++;
        path++;
    }
}

/* Pre-order over l's descendants; *n counts every match, out holds the
 * first cap. */
static void match_tree(layer *l, const char *pattern, layer **out, int cap, int *n)
{
    for (int i = 0; i < l->nchild; i++) {
        layer *c = l->child[i];
        if (!glob_path(pattern, c->path)) {
            match_tree(c, pattern, out, cap, n);
            continue;
        }
        if (*n < cap)
            out[*n] = c;
        (*n)++;
    }
}

int model_match(const model *m, const char *pattern, layer **out, int cap, thaw_err *err)
{
    int n = 0;
    if (!pattern)
        pattern = "";
    if (!strcmp(pattern, "all")) {
        if (cap > 0)
            out[0] = m->root;
        n = 1;
    } else if (*pattern) {
        match_tree(m->root, pattern, out, cap, &n);
    }
    if (n == 0) {
        char names[256];
        names_text(names, sizeof names, m->root->child, m->root->nchild);
        thaw_fail(err, THAW_ENOTFOUND, "no layer matches '%s': expected all, a dotted path or a "
                  "glob ('*' within one name) over the layers %s", pattern, names);
        return -1;
    }
    return n < cap ? n : cap;
}
