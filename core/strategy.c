/* strategy.c — freeze strategies over parameter groups, their text form, and
 * layer patterns. */
#include "strategy.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvtext.h"

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

/* In the order strategy_format writes them. */
static const kv_key strat_keys[] = {
    { "every", offsetof(strategy, every), 1, KV_BIT(STRAT_GRADUAL), 1, STRAT_EVERY_MAX, 0, 0, 0 },
    { "factor", offsetof(strategy, factor), 0, KV_BIT(STRAT_DISCRIMINATIVE), 0, INFINITY, 1, 1, 0 },
    { "lo", offsetof(strategy, lo), 0, KV_BIT(STRAT_DISCRIMINATIVE), 0, INFINITY, 0, 1, 0 },
    { "decay", offsetof(strategy, decay), 0, KV_BIT(STRAT_LAYER_DECAY), 0, 1, 1, 0, 1 },
    { "groups", offsetof(strategy, groups), 1, KV_BIT(STRAT_FREEZE_BOTTOM), 1,
      STRATEGY_GROUPS_MAX - 1, 0, 0, 0 },
};

static const kv_form strat_form = { "strategy", strategy_names, strat_aliases, STRAT_KIND_COUNT,
                                    strat_keys, sizeof strat_keys / sizeof strat_keys[0] };

const char *strategy_name(strat_kind k)
{
    if ((unsigned)k >= STRAT_KIND_COUNT)
        return "unknown";
    return strategy_names[k];
}

void strategy_default(strategy *s, strat_kind kind)
{
    *s = (strategy){ .kind = kind, .every = 1, .factor = 10, .lo = 0, .decay = 1 / 2.6, .groups = 1 };
}

int strategy_parse(strategy *s, const char *text, thaw_err *err)
{
    int kind, rc;
    const char *rest;
    if ((rc = kv_parse_kind(&strat_form, text, &kind, &rest, err)))
        return rc;
    strategy out;
    strategy_default(&out, (strat_kind)kind);
    if ((rc = kv_parse_keys(&strat_form, kind, &out, rest, err)))
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
    kv_format_keys(&strat_form, s->kind, s, &def, &t);
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
    case STRAT_FREEZE_BOTTOM:
    case STRAT_KIND_COUNT:
        break;
    }
    return base;
}

/* Everything strategy_apply refuses, checked before it changes anything. */
static int strat_check(const strategy *s, layer *const *group, int n, float base_lr,
                       const thaw_plan *plan, thaw_err *err)
{
    if ((unsigned)s->kind >= STRAT_KIND_COUNT) {
        char words[192];
        kv_kinds_text(&strat_form, words, sizeof words);
        return thaw_fail(err, THAW_EINVAL, "unknown strategy kind %d: expected %s", (int)s->kind, words);
    }
    const char *name = strategy_names[s->kind];
    if (!(base_lr > 0) || !isfinite(base_lr))
        return thaw_fail(err, THAW_EINVAL, "strategy %s: base learning rate %g: expected a "
                         "number > 0", name, (double)base_lr);
    int rc = kv_check_keys(&strat_form, s->kind, s, err);
    if (rc)
        return rc;
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
    if (s->kind == STRAT_FREEZE_BOTTOM && s->groups >= n)
        return thaw_fail(err, THAW_EINVAL, "strategy freeze-bottom groups=%d: the model has %d "
                         "parameter groups, and the head must train: expected groups below %d",
                         s->groups, n, n);
    if (s->kind == STRAT_GRADUAL && !plan)
        return thaw_fail(err, THAW_EINVAL, "strategy gradual: no plan to fill with thaw events");
    if (s->kind == STRAT_DISCRIMINATIVE && s->lo > base_lr)
        return thaw_fail(err, THAW_EINVAL, "strategy discriminative: lo=%g is above the head's "
                         "rate %g: expected lo <= the base rate", s->lo, (double)base_lr);
    /* Every group's rate as it will be stored: a float above 0, at most
     * what `lr` takes, so that training and a replayed session.thaw agree. */
    for (int i = 0; i < n; i++) {
        float r = (float)strat_rate(s, base_lr, i, n);
        if (!(r > 0.0f && r <= 1e12f)) {
            char text[STRATEGY_TEXT_MAX];
            strategy_format(s, text, sizeof text);
            return thaw_fail(err, THAW_EINVAL, "strategy %s: %s would train at a rate of %g; "
                             "expected every rate above 0 and at most 1e12 (a factor or decay "
                             "nearer 1)", text, group[i]->path, (double)r);
        }
    }
    return THAW_OK;
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
    for (int i = 0; s->kind == STRAT_FREEZE_BOTTOM && i < s->groups; i++)
        model_freeze(m, group[i], 1);
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
