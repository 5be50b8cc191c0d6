/* adapt.c — the adaptation technique's text form; see adapt.h. */
#include "adapt.h"


#include "kvtext.h"

const char *const adapt_names[ADAPT_KIND_COUNT + 1] = {
#define ADAPT_NAME(kind, name, alias) [ADAPT_##kind] = name,
    ADAPT_KINDS(ADAPT_NAME)
#undef ADAPT_NAME
};

static const char *const adapt_aliases[ADAPT_KIND_COUNT] = {
#define ADAPT_ALIAS(kind, name, alias) [ADAPT_##kind] = alias,
    ADAPT_KINDS(ADAPT_ALIAS)
#undef ADAPT_ALIAS
};

static const kv_key adapt_keys[] = {
    { "threshold", offsetof(adapt, threshold), 0, KV_BIT(ADAPT_SELF_TRAIN), 0, 1, 1, 0, 0 },
    { "every", offsetof(adapt, every), 1, KV_BIT(ADAPT_SELF_TRAIN), 1, ADAPT_EVERY_MAX, 0, 0, 0 },
};

static const kv_form adapt_form = { "adapt", adapt_names, adapt_aliases, ADAPT_KIND_COUNT,
                                    adapt_keys, sizeof adapt_keys / sizeof adapt_keys[0] };

void adapt_default(adapt *a, adapt_kind kind)
{
    *a = (adapt){ .kind = kind, .threshold = 0.9, .every = 1 };
}

int adapt_parse(adapt *a, const char *text, thaw_err *err)
{
    int kind, rc;
    const char *rest;
    if ((rc = kv_parse_kind(&adapt_form, text, &kind, &rest, err)))
        return rc;
    adapt out;
    adapt_default(&out, (adapt_kind)kind);
    if ((rc = kv_parse_keys(&adapt_form, kind, &out, rest, err)))
        return rc;
    *a = out;
    return THAW_OK;
}

void adapt_format(const adapt *a, char *buf, size_t cap)
{
    num_text t = { buf, cap, 0 };
    adapt def;
    adapt_default(&def, a->kind);
    if (cap > 0)
        buf[0] = '\0';
    num_text_add(&t, "%s", (unsigned)a->kind < ADAPT_KIND_COUNT ? adapt_names[a->kind] : "unknown");
    kv_format_keys(&adapt_form, a->kind, a, &def, &t);
}

int adapt_round_due(const adapt *a, int epoch)
{
    return a->kind == ADAPT_SELF_TRAIN && epoch > 0 && a->every > 0 && epoch % a->every == 0;
}
