/* kvtext.c — the "NAME key=value ..." text form; see kvtext.h. */
#include "kvtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An item of the text: n characters at s. */
typedef struct kv_item {
    const char *s;
    int n;
} kv_item;

static int is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t';
}

/* The next item at *p, or 0 at the end of the text. */
static int next_item(const char **p, kv_item *it)
{
    const char *s = *p;
    while (is_separator(*s))
        s++;
    const char *e = s;
    while (*e && !is_separator(*e))
        e++;
    *p = e;
    *it = (kv_item){ s, (int)(e - s) };
    return it->n > 0;
}

static int item_is(kv_item it, const char *word)
{
    return word && (size_t)it.n == strlen(word) && !memcmp(it.s, word, (size_t)it.n);
}

void kv_kinds_text(const kv_form *f, char *out, size_t cap)
{
    num_text t = { out, cap, 0 };
    if (cap > 0)
        out[0] = '\0';
    for (int k = 0; k < f->nkinds; k++) {
        num_text_add(&t, "%s%s", k == 0 ? "" : k == f->nkinds - 1 ? " or " : ", ", f->names[k]);
        if (f->aliases && f->aliases[k])
            num_text_add(&t, " (or %s)", f->aliases[k]);
    }
}

int kv_parse_kind(const kv_form *f, const char *text, int *kind, const char **rest, thaw_err *err)
{
    const char *p = text ? text : "";
    kv_item it;
    char words[192];
    kv_kinds_text(f, words, sizeof words);
    if (!next_item(&p, &it))
        return thaw_fail(err, THAW_EINVAL, "empty %s: expected %s", f->what, words);
    for (int k = 0; k < f->nkinds; k++)
        if (item_is(it, f->names[k]) || (f->aliases && item_is(it, f->aliases[k]))) {
            *kind = k;
            *rest = p;
            return THAW_OK;
        }
    return thaw_fail(err, THAW_EINVAL, "unknown %s '%.*s': expected %s", f->what, it.n, it.s, words);
}

static int takes(const kv_key *k, int kind)
{
    return (k->kinds & KV_BIT(kind)) != 0;
}

/* "every, gamma, warmup": the keys kind takes; "none" when it takes none. */
static void keys_text(const kv_form *f, int kind, char *out, size_t cap)
{
    num_text t = { out, cap, 0 };
    out[0] = '\0';
    for (int i = 0; i < f->nkeys; i++)
        if (takes(&f->keys[i], kind))
            num_text_add(&t, "%s%s", t.len ? ", " : "", f->keys[i].name);
    if (t.len == 0)
        num_text_add(&t, "none");
}

static void range_text(char *out, size_t cap, const kv_key *k)
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

static int in_range(const kv_key *k, double v)
{
    return (k->lo_open ? v > k->lo : v >= k->lo) && (k->hi_open ? v < k->hi : v <= k->hi) &&
           (!k->integer || v == floor(v));
}

/* Reads a finite number that fills the whole item. */
static int parse_number(kv_item it, double *v)
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

static double get(const kv_key *k, const void *obj)
{
    const char *field = (const char *)obj + k->off;
    int i;
    double d;
    if (k->integer)
        return memcpy(&i, field, sizeof i), i;
    return memcpy(&d, field, sizeof d), d;
}

static void set(const kv_key *k, void *obj, double v)
{
    char *field = (char *)obj + k->off;
    if (k->integer) {
        int i = (int)v;
        memcpy(field, &i, sizeof i);
    } else {
        memcpy(field, &v, sizeof v);
    }
}

static void form_name(const kv_form *f, int kind, char *out, size_t cap)
{
    if (f->nkinds > 0)
        snprintf(out, cap, "%s %s", f->what, f->names[kind]);
    else
        snprintf(out, cap, "%s", f->what);
}

int kv_check_keys(const kv_form *f, int kind, const void *obj, thaw_err *err)
{
    for (int i = 0; i < f->nkeys; i++) {
        const kv_key *k = &f->keys[i];
        if (!takes(k, kind) || in_range(k, get(k, obj)))
            continue;
        char what[96], range[96];
        form_name(f, kind, what, sizeof what);
        range_text(range, sizeof range, k);
        return thaw_fail(err, THAW_EINVAL, "%s: %s=%g is out of range: expected %s", what,
                         k->name, get(k, obj), range);
    }
    return THAW_OK;
}

/* The key `name` names for kind; with name empty, the key a bare number
 * stands for. NULL if none. */
static const kv_key *find_key(const kv_form *f, kv_item name, int kind)
{
    for (int i = 0; i < f->nkeys; i++) {
        const kv_key *k = &f->keys[i];
        if (takes(k, kind) && (name.n ? item_is(name, k->name) : k->bare))
            return k;
    }
    return NULL;
}

/* One key=value item, or a bare number, into obj; `seen` has a bit per key
 * already given. */
static int parse_item(const kv_form *f, int kind, void *obj, unsigned long long *seen, kv_item it,
                      thaw_err *err)
{
    char what[96], keys[128], range[96];
    form_name(f, kind, what, sizeof what);
    keys_text(f, kind, keys, sizeof keys);
    const char *eq = memchr(it.s, '=', (size_t)it.n);
    kv_item name = { it.s, eq ? (int)(eq - it.s) : 0 };
    kv_item value = eq ? (kv_item){ eq + 1, it.n - name.n - 1 } : it;
    const kv_key *k = eq && name.n == 0 ? NULL : find_key(f, name, kind);
    if (!k && !eq)
        return thaw_fail(err, THAW_EINVAL, "%s: '%.*s' is not key=value (keys: %s)", what, it.n,
                         it.s, keys);
    if (!k)
        return thaw_fail(err, THAW_EINVAL, "%s has no key '%.*s': expected %s", what, name.n,
                         name.s, keys);
    unsigned long long bit = 1ull << (k - f->keys);
    if (*seen & bit)
        return thaw_fail(err, THAW_EINVAL, "%s: %s is given twice", what, k->name);
    *seen |= bit;
    range_text(range, sizeof range, k);
    double v;
    if (!parse_number(value, &v))
        return thaw_fail(err, THAW_EINVAL, "%s: %s='%.*s' is not a number: expected %s", what,
                         k->name, value.n, value.s, range);
    if (!in_range(k, v))
        return thaw_fail(err, THAW_EINVAL, "%s: %s=%.*s is out of range: expected %s", what,
                         k->name, value.n, value.s, range);
    set(k, obj, v);
    return THAW_OK;
}

int kv_parse_keys(const kv_form *f, int kind, void *obj, const char *text, thaw_err *err)
{
    const char *p = text ? text : "";
    unsigned long long seen = 0;
    kv_item it;
    int rc;
    while (next_item(&p, &it))
        if ((rc = parse_item(f, kind, obj, &seen, it, err)) != THAW_OK)
            return rc;
    return THAW_OK;
}

void kv_format_keys(const kv_form *f, int kind, const void *obj, const void *def, num_text *t)
{
    for (int i = 0; i < f->nkeys; i++) {
        const kv_key *k = &f->keys[i];
        double v = get(k, obj);
        if (!takes(k, kind) || v == get(k, def))
            continue;
        char num[32];
        num_shortest(num, sizeof num, v);
        num_text_add(t, " %s=%s", k->name, num);
    }
}
