/* adapt.c — the adaptation technique's text form; see adapt.h. */
#include "adapt.h"

#include <ctype.h>
#include <string.h>

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

#define ALIGNING (KV_BIT(ADAPT_MMD) | KV_BIT(ADAPT_DANN))
#define AT_LAYER (ALIGNING | KV_BIT(ADAPT_REWEIGHT))

static const kv_key adapt_keys[] = {
    { "threshold", offsetof(adapt, threshold), 0, KV_BIT(ADAPT_SELF_TRAIN), 0, 1, 1, 0, 0 },
    { "every", offsetof(adapt, every), 1, KV_BIT(ADAPT_SELF_TRAIN), 1, ADAPT_EVERY_MAX, 0, 0, 0 },
    { "weight", offsetof(adapt, weight), 0, ALIGNING, 0, 1000, 0, 0, 0 },
    { "clip", offsetof(adapt, clip), 0, KV_BIT(ADAPT_REWEIGHT), 1, 1000, 0, 0, 0 },
};

static const kv_form adapt_form = { "adapt", adapt_names, adapt_aliases, ADAPT_KIND_COUNT,
                                    adapt_keys, sizeof adapt_keys / sizeof adapt_keys[0] };

void adapt_default(adapt *a, adapt_kind kind)
{
    *a = (adapt){ .kind = kind, .threshold = 0.9, .every = 1,
                  .weight = kind == ADAPT_DANN ? 0.1 : 1.0, .clip = 10.0 };
}

static int item_sep(char c) { return c == ' ' || c == '\t' || c == ','; }

static int layer_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Takes a `layer=NAME` item out of rest (into *a) and copies the other
 * items into keys. */
static int take_layer(adapt *a, const char *rest, char *keys, size_t cap, thaw_err *err)
{
    size_t n = 0;
    keys[0] = '\0';
    for (const char *p = rest; *p;) {
        while (item_sep(*p))
            p++;
        const char *start = p;
        while (*p && !item_sep(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (len == 0)
            break;
        if (len > 6 && !strncmp(start, "layer=", 6)) {
            if (!(KV_BIT(a->kind) & AT_LAYER))
                return thaw_fail(err, THAW_EINVAL, "adapt %s: takes no layer= (reweight, mmd and "
                                 "dann do)", adapt_names[a->kind]);
            if (a->layer[0])
                return thaw_fail(err, THAW_EINVAL, "adapt: layer= given twice");
            if (len - 6 >= ADAPT_LAYER_MAX)
                return thaw_fail(err, THAW_EINVAL, "adapt: layer name of %zu characters: expected "
                                 "at most %d", len - 6, ADAPT_LAYER_MAX - 1);
            for (size_t i = 6; i < len; i++)
                if (!layer_char(start[i]))
                    return thaw_fail(err, THAW_EINVAL, "adapt: layer=%.*s: expected a layer's "
                                     "name (letters, digits, _ . -)", (int)(len - 6), start + 6);
            memcpy(a->layer, start + 6, len - 6);
            a->layer[len - 6] = '\0';
            continue;
        }
        if (n + len + 2 > cap)
            return thaw_fail(err, THAW_EINVAL, "adapt: the text is too long");
        memcpy(keys + n, start, len);
        n += len;
        keys[n++] = ' ';
        keys[n] = '\0';
    }
    return THAW_OK;
}

int adapt_parse(adapt *a, const char *text, thaw_err *err)
{
    int kind, rc;
    const char *rest;
    if ((rc = kv_parse_kind(&adapt_form, text, &kind, &rest, err)))
        return rc;
    adapt out;
    adapt_default(&out, (adapt_kind)kind);
    char keys[ADAPT_TEXT_MAX * 2];
    if ((rc = take_layer(&out, rest, keys, sizeof keys, err)) ||
        (rc = kv_parse_keys(&adapt_form, kind, &out, keys, err)))
        return rc;
    *a = out;
    return THAW_OK;
}

int adapt_check(const adapt *a, thaw_err *err)
{
    if ((unsigned)a->kind >= ADAPT_KIND_COUNT)
        return thaw_fail(err, THAW_EINVAL, "adapt: unknown technique %d", (int)a->kind);
    if (memchr(a->layer, '\0', sizeof a->layer) == NULL)
        return thaw_fail(err, THAW_EINVAL, "adapt: the layer name is not terminated");
    return kv_check_keys(&adapt_form, a->kind, a, err);
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
    if (a->layer[0])
        num_text_add(&t, " layer=%s", a->layer);
}

int adapt_round_due(const adapt *a, int epoch)
{
    return a->kind == ADAPT_SELF_TRAIN && epoch > 0 && a->every > 0 && epoch % a->every == 0;
}

int adapt_uses_source(adapt_kind k)
{
    return k == ADAPT_SOURCE_ONLY || k == ADAPT_REWEIGHT || k == ADAPT_MMD || k == ADAPT_DANN;
}

int adapt_uses_target(adapt_kind k) { return k != ADAPT_SOURCE_ONLY; }

int adapt_aligns(adapt_kind k) { return k == ADAPT_MMD || k == ADAPT_DANN; }
