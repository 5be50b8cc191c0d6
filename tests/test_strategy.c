/* test_strategy.c — freeze strategies on the reference network: the exact
 * frozen flag of every slice and the rate of every group for each preset,
 * BatchNorm under train_bn, the gradual plan; the text form and its errors;
 * layer patterns. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "modelfile.h"
#include "strategy.h"
#include "test.h"

#define ST_BASE 0.01f

enum { ST_CLASSES = 4, ST_GROUPS = 5 };

static const char *const st_groups[ST_GROUPS] = { "stem", "stage1", "stage2", "stage3", "head" };

static int st_build(model *m, int train_bn)
{
    thaw_err err = {0};
    if (model_build(m, mf_reference_net(1, ST_CLASSES, &err), (shape3){ 1, 8, 8 }, 5, &err)) {
        test_failed(__FILE__, __LINE__, "%s", err.msg);
        return 0;
    }
    m->train_bn = train_bn;
    return 1;
}

static int same_strategy(const strategy *a, const strategy *b)
{
    return a->kind == b->kind && a->every == b->every && a->factor == b->factor &&
           a->lo == b->lo && a->decay == b->decay;
}

static int st_parse(strategy *s, const char *text)
{
    thaw_err err = {0};
    if (strategy_parse(s, text, &err) == THAW_OK)
        return 1;
    test_failed(__FILE__, __LINE__, "'%s': %s", text, err.msg);
    return 0;
}

/* Parses text and applies it to m at ST_BASE. */
static int st_apply(model *m, const char *text, thaw_plan *plan)
{
    strategy s;
    thaw_err err = {0};
    if (!st_parse(&s, text))
        return 0;
    if (strategy_apply(&s, m, ST_BASE, plan, &err) == THAW_OK)
        return 1;
    test_failed(__FILE__, __LINE__, "'%s': %s", text, err.msg);
    return 0;
}

/* Leaves every slice in a state no strategy produces, so that a test sees
 * strategy_apply set each one. */
static void st_scramble(model *m)
{
    for (int i = 0; i < m->nslice; i++) {
        m->slice[i].frozen = i % 2;
        m->slice[i].lr = 0.5f + (float)i;
    }
    model_refresh(m);
}

/* The group a slice belongs to, as an index into st_groups. */
static int st_group_of(const param_slice *s)
{
    for (int g = 0; g < ST_GROUPS; g++) {
        size_t n = strlen(st_groups[g]);
        if (!strncmp(s->name, st_groups[g], n) && s->name[n] == '.')
            return g;
    }
    return -1;
}

static int st_near(float got, double want)
{
    return fabs((double)got - want) <= 1e-6 * want;
}

/* Every slice of group g has rate want[g]. */
static void st_expect_rates(const model *m, const double *want)
{
    for (int i = 0; i < m->nslice; i++) {
        const param_slice *s = &m->slice[i];
        int g = st_group_of(s);
        CHECKF(g >= 0, "%s is in no group", s->name);
        CHECKF(st_near(s->lr, want[g]), "%s: rate %.9g, expected %.9g", s->name, (double)s->lr, want[g]);
    }
}

static void st_expect_all_trainable(const model *m)
{
    for (int i = 0; i < m->nslice; i++)
        CHECKF(!m->slice[i].frozen, "%s is frozen", m->slice[i].name);
    CHECK(model_count(m, 1) == model_count(m, 0));
}

/* Every slice of the reference net and whether feature-extraction freezes
 * it, without and with train_bn. */
static const struct {
    const char *name;
    int frozen, frozen_train_bn;
} st_feature_flags[] = {
    { "stem.0.weight", 1, 1 },
    { "stem.1.weight", 1, 0 },
    { "stem.1.bias", 1, 0 },
    { "stem.1.running_mean", 1, 0 },
    { "stem.1.running_var", 1, 0 },
    { "stage1.conv1.weight", 1, 1 },
    { "stage1.bn1.weight", 1, 0 },
    { "stage1.bn1.bias", 1, 0 },
    { "stage1.bn1.running_mean", 1, 0 },
    { "stage1.bn1.running_var", 1, 0 },
    { "stage1.conv2.weight", 1, 1 },
    { "stage1.bn2.weight", 1, 0 },
    { "stage1.bn2.bias", 1, 0 },
    { "stage1.bn2.running_mean", 1, 0 },
    { "stage1.bn2.running_var", 1, 0 },
    { "stage2.conv1.weight", 1, 1 },
    { "stage2.bn1.weight", 1, 0 },
    { "stage2.bn1.bias", 1, 0 },
    { "stage2.bn1.running_mean", 1, 0 },
    { "stage2.bn1.running_var", 1, 0 },
    { "stage2.conv2.weight", 1, 1 },
    { "stage2.bn2.weight", 1, 0 },
    { "stage2.bn2.bias", 1, 0 },
    { "stage2.bn2.running_mean", 1, 0 },
    { "stage2.bn2.running_var", 1, 0 },
    { "stage2.proj.0.weight", 1, 1 },
    { "stage2.proj.1.weight", 1, 0 },
    { "stage2.proj.1.bias", 1, 0 },
    { "stage2.proj.1.running_mean", 1, 0 },
    { "stage2.proj.1.running_var", 1, 0 },
    { "stage3.conv1.weight", 1, 1 },
    { "stage3.bn1.weight", 1, 0 },
    { "stage3.bn1.bias", 1, 0 },
    { "stage3.bn1.running_mean", 1, 0 },
    { "stage3.bn1.running_var", 1, 0 },
    { "stage3.conv2.weight", 1, 1 },
    { "stage3.bn2.weight", 1, 0 },
    { "stage3.bn2.bias", 1, 0 },
    { "stage3.bn2.running_mean", 1, 0 },
    { "stage3.bn2.running_var", 1, 0 },
    { "stage3.proj.0.weight", 1, 1 },
    { "stage3.proj.1.weight", 1, 0 },
    { "stage3.proj.1.bias", 1, 0 },
    { "stage3.proj.1.running_mean", 1, 0 },
    { "stage3.proj.1.running_var", 1, 0 },
    { "head.weight", 0, 0 },
    { "head.bias", 0, 0 },
};

enum { ST_NSLICE = sizeof st_feature_flags / sizeof st_feature_flags[0] };

/* The slices are exactly those in st_feature_flags, with its flags. */
static void st_expect_feature_flags(const model *m)
{
    CHECKF(m->nslice == ST_NSLICE, "%d slices, expected %d", m->nslice, ST_NSLICE);
    for (int i = 0; i < ST_NSLICE; i++) {
        const param_slice *s = &m->slice[i];
        int want = m->train_bn ? st_feature_flags[i].frozen_train_bn : st_feature_flags[i].frozen;
        CHECKF(!strcmp(s->name, st_feature_flags[i].name), "slice %d is %s, expected %s", i,
               s->name, st_feature_flags[i].name);
        CHECKF(s->frozen == want, "%s: frozen %d, expected %d (train_bn %d)", s->name, s->frozen,
               want, m->train_bn);
    }
    CHECK(model_find(m, "head")->trainable);
    CHECK(model_find(m, "stage3.conv1")->trainable == 0);
    CHECK(model_find(m, "stem")->trainable == m->train_bn);
}

static const double st_base_rates[ST_GROUPS] = { 0.01, 0.01, 0.01, 0.01, 0.01 };

void test_strategy_groups_reference(void)
{
    model m;
    layer *g[8];
    if (!st_build(&m, 0))
        return;
    int n = model_groups(&m, g, 8);
    EXPECTF(n == ST_GROUPS, "%d groups", n);
    for (int i = 0; i < ST_GROUPS; i++)
        EXPECTF(!strcmp(g[i]->path, st_groups[i]), "group %d is %s", i, g[i]->path);
    EXPECT(model_groups(&m, g, 3) == 3 && g[2] == model_find(&m, "stage2"));
done:
    model_free(&m);
}

void test_strategy_feature_extraction(void)
{
    model m;
    if (!st_build(&m, 0))
        return;
    st_scramble(&m);
    if (st_apply(&m, "feature-extraction", NULL)) {
        st_expect_feature_flags(&m);
        st_expect_rates(&m, st_base_rates);
    }
    EXPECT(model_count(&m, 1) == 128 * ST_CLASSES + ST_CLASSES);
done:
    model_free(&m);
}

/* train_bn: BatchNorm layers of frozen groups keep training. */
void test_strategy_feature_extraction_train_bn(void)
{
    model m;
    if (!st_build(&m, 1))
        return;
    st_scramble(&m);
    if (st_apply(&m, "feature", NULL))
        st_expect_feature_flags(&m);
    model_free(&m);
}

void test_strategy_finetune(void)
{
    model m;
    thaw_plan plan = { .n = 3 };
    if (!st_build(&m, 1))
        return;
    st_scramble(&m);
    if (st_apply(&m, "finetune", &plan)) {
        st_expect_all_trainable(&m);
        st_expect_rates(&m, st_base_rates);
    }
    EXPECTF(plan.n == 0, "plan has %d events", plan.n);
done:
    model_free(&m);
}

/* ULMFiT: frozen but the head now; stage3 thaws at `every`, stage2 at
 * 2 * every, ... all at the base rate. */
void test_strategy_gradual_plan(void)
{
    static const struct { int epoch; const char *path; } want[] = {
        { 2, "stage3" }, { 4, "stage2" }, { 6, "stage1" }, { 8, "stem" },
    };
    model m;
    thaw_plan plan;
    memset(&plan, 0xff, sizeof plan);
    if (!st_build(&m, 0))
        return;
    st_scramble(&m);
    if (st_apply(&m, "gradual every=2", &plan)) {
        st_expect_feature_flags(&m);
        st_expect_rates(&m, st_base_rates);
    }
    EXPECTF(plan.n == 4, "%d events", plan.n);
    for (int i = 0; i < 4; i++)
        EXPECTF(plan.ev[i].epoch == want[i].epoch && !strcmp(plan.ev[i].path, want[i].path),
                "event %d: %s at epoch %d, expected %s at %d", i, plan.ev[i].path, plan.ev[i].epoch,
                want[i].path, want[i].epoch);
    EXPECT(st_apply(&m, "gradual", &plan) && plan.ev[0].epoch == 1 && plan.ev[3].epoch == 4);
done:
    model_free(&m);
}

void test_strategy_gradual_train_bn(void)
{
    model m;
    thaw_plan plan;
    if (!st_build(&m, 1))
        return;
    st_scramble(&m);
    if (st_apply(&m, "gradual", &plan))
        st_expect_feature_flags(&m);
    model_free(&m);
}

/* fast.ai's slice(hi): the body at hi/10, the head at hi. */
void test_strategy_discriminative_factor(void)
{
    static const double want[ST_GROUPS] = { 0.001, 0.001, 0.001, 0.001, 0.01 };
    static const double want5[ST_GROUPS] = { 0.002, 0.002, 0.002, 0.002, 0.01 };
    model m;
    if (!st_build(&m, 0))
        return;
    st_scramble(&m);
    if (st_apply(&m, "discriminative", NULL)) {
        st_expect_all_trainable(&m);
        st_expect_rates(&m, want);
    }
    if (st_apply(&m, "discriminative factor=5", NULL))
        st_expect_rates(&m, want5);
    model_free(&m);
}

/* fast.ai's slice(lo, hi): even_mults(1e-4, 1e-2, 5), geometric. */
void test_strategy_discriminative_lo(void)
{
    static const double want[ST_GROUPS] = { 1e-4, 3.1622776601683794e-4, 1e-3,
                                            3.1622776601683794e-3, 1e-2 };
    model m;
    if (!st_build(&m, 0))
        return;
    st_scramble(&m);
    if (st_apply(&m, "discriminative lo=1e-4", NULL)) {
        st_expect_all_trainable(&m);
        st_expect_rates(&m, want);
    }
    model_free(&m);
}

/* timm's layer_decay^(max - id): each group down halves the rate. */
void test_strategy_layer_decay(void)
{
    static const double want[ST_GROUPS] = { 0.000625, 0.00125, 0.0025, 0.005, 0.01 };
    static const double ulmfit[ST_GROUPS] = { 0.01 / (2.6 * 2.6 * 2.6 * 2.6), 0.01 / (2.6 * 2.6 * 2.6),
                                              0.01 / (2.6 * 2.6), 0.01 / 2.6, 0.01 };
    model m;
    if (!st_build(&m, 0))
        return;
    st_scramble(&m);
    if (st_apply(&m, "layer-decay decay=0.5", NULL)) {
        st_expect_all_trainable(&m);
        st_expect_rates(&m, want);
    }
    if (st_apply(&m, "layer-decay", NULL))
        st_expect_rates(&m, ulmfit);
    model_free(&m);
}

/* A model with a single group: nothing to split but finetune. */
void test_strategy_needs_two_groups(void)
{
    static const char *const refuse[] = { "feature-extraction", "gradual", "discriminative",
                                          "layer-decay" };
    model m;
    thaw_err err = {0};
    thaw_plan plan;
    layer *root = sequential_new("net");
    if (!root || layer_add(root, linear_new("fc", 3, 2, 1), &err) ||
        model_build(&m, root, (shape3){ 3, 1, 1 }, 1, &err)) {
        test_failed(__FILE__, __LINE__, "%s", root ? err.msg : "out of memory");
        return;
    }
    for (size_t i = 0; i < sizeof refuse / sizeof refuse[0]; i++) {
        strategy s;
        EXPECT(strategy_parse(&s, refuse[i], &err) == THAW_OK);
        EXPECTF(strategy_apply(&s, &m, ST_BASE, &plan, &err) == THAW_EINVAL, "%s applied", refuse[i]);
        EXPECTF(strstr(err.msg, "needs at least 2 parameter groups") && strstr(err.msg, "has 1 (fc)"),
                "%s", err.msg);
    }
    EXPECT(st_apply(&m, "finetune", NULL));
done:
    model_free(&m);
}

/* Applies s at base_lr to the reference net, which must fail with
 * THAW_EINVAL and a message holding `want`, leaving every slice as it was. */
static int st_refused(const strategy *s, float base_lr, thaw_plan *plan, const char *want)
{
    model m;
    thaw_err err = {0};
    int ok = 0;
    if (!st_build(&m, 0))
        return 0;
    st_scramble(&m);
    model_freeze(&m, model_find(&m, "stage2"), 1);
    param_slice before[ST_NSLICE];
    memcpy(before, m.slice, sizeof before);
    int rc = strategy_apply(s, &m, base_lr, plan, &err);
    if (rc == THAW_EINVAL && strstr(err.msg, want) && !memcmp(before, m.slice, sizeof before))
        ok = 1;
    else
        test_failed(__FILE__, __LINE__, "code %d, message '%s', expected one holding '%s'", rc,
                    err.msg, want);
    model_free(&m);
    return ok;
}

void test_strategy_apply_refuses(void)
{
    strategy s;
    thaw_plan plan;
    strategy_default(&s, STRAT_FINETUNE);
    CHECK(st_refused(&s, 0.0f, NULL, "base learning rate 0: expected a number > 0"));
    CHECK(st_refused(&s, NAN, NULL, "base learning rate nan"));
    CHECK(st_refused(&s, -0.1f, NULL, "base learning rate -0.1"));
    strategy_default(&s, STRAT_GRADUAL);
    CHECK(st_refused(&s, ST_BASE, NULL, "no plan"));
    s.every = 0;
    CHECK(st_refused(&s, ST_BASE, &plan, "every=0 is out of range: expected an integer in [1, 1000000]"));
    strategy_default(&s, STRAT_DISCRIMINATIVE);
    s.lo = 0.1;
    CHECK(st_refused(&s, ST_BASE, NULL, "lo=0.1 is above the head's rate 0.01"));
    strategy_default(&s, STRAT_LAYER_DECAY);
    s.decay = 0;
    CHECK(st_refused(&s, ST_BASE, NULL, "decay=0 is out of range: expected a number in (0, 1]"));
    s.kind = STRAT_KIND_COUNT;
    CHECK(st_refused(&s, ST_BASE, NULL, "unknown strategy kind 6"));
    /* freeze-bottom must leave the head training. */
    thaw_err perr = { 0 };
    CHECK(strategy_parse(&s, "freeze-bottom groups=5", &perr) == THAW_OK);
    CHECK(st_refused(&s, ST_BASE, NULL, "the head must train"));
}

/* A factor, lo or decay whose rates are not finite floats above 0 (or over
 * the 1e12 that lr takes) is refused naming the group, so no run trains at
 * inf and no session.thaw holds a rate it cannot replay. */
void test_strategy_rates_stay_finite(void)
{
    strategy s;
    strategy_default(&s, STRAT_DISCRIMINATIVE);
    s.factor = 1e-300;
    CHECK(st_refused(&s, ST_BASE, NULL, "would train at a rate of inf"));
    s.factor = 1e300;
    CHECK(st_refused(&s, ST_BASE, NULL, "would train at a rate of 0"));
    strategy_default(&s, STRAT_LAYER_DECAY);
    s.decay = 1e-30;
    CHECK(st_refused(&s, ST_BASE, NULL, "stem would train at a rate of 0"));
    strategy_default(&s, STRAT_DISCRIMINATIVE);
    s.factor = 1e-6;
    CHECK(st_refused(&s, 1e7f, NULL, "expected every rate above 0 and at most 1e12"));
}

void test_strategy_names(void)
{
    CHECK(!strcmp(strategy_name(STRAT_FEATURE_EXTRACTION), "feature-extraction"));
    CHECK(!strcmp(strategy_name(STRAT_FINETUNE), "finetune"));
    CHECK(!strcmp(strategy_name(STRAT_GRADUAL), "gradual"));
    CHECK(!strcmp(strategy_name(STRAT_DISCRIMINATIVE), "discriminative"));
    CHECK(!strcmp(strategy_name(STRAT_LAYER_DECAY), "layer-decay"));
    CHECK(!strcmp(strategy_name(STRAT_KIND_COUNT), "unknown"));
}

/* Text, its canonical form, and the text read back gives the same values. */
void test_strategy_round_trip(void)
{
    static const struct { const char *text, *canon; } cases[] = {
        { "feature-extraction", "feature-extraction" },
        { "feature", "feature-extraction" },
        { "finetune", "finetune" },
        { "fine-tuning", "finetune" },
        { "gradual", "gradual" },
        { "gradual every=1", "gradual" },
        { "gradual every=2", "gradual every=2" },
        { "discriminative", "discriminative" },
        { "discriminative factor=10", "discriminative" },
        { "discriminative factor=2.6", "discriminative factor=2.6" },
        { "discriminative lo=1e-4", "discriminative lo=0.0001" },
        { "discriminative, lo=0", "discriminative" },
        { "layer-decay", "layer-decay" },
        { "layer-decay decay=0.5", "layer-decay decay=0.5" },
        { "layer-decay 0.5", "layer-decay decay=0.5" },
        { " layer-decay,0.75", "layer-decay decay=0.75" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strategy s, back;
        char text[STRATEGY_TEXT_MAX];
        CHECK(st_parse(&s, cases[i].text));
        strategy_format(&s, text, sizeof text);
        CHECKF(!strcmp(text, cases[i].canon), "'%s' formats as '%s', expected '%s'",
               cases[i].text, text, cases[i].canon);
        CHECK(st_parse(&back, text));
        CHECKF(same_strategy(&s, &back), "'%s' does not read back the same", text);
    }
}

void test_strategy_defaults(void)
{
    strategy s;
    CHECK(st_parse(&s, "gradual"));
    CHECK(s.kind == STRAT_GRADUAL && s.every == 1 && s.factor == 10 && s.lo == 0);
    CHECK(s.decay == 1 / 2.6);
}

/* Parses `text`, which must fail with THAW_EINVAL and a message holding
 * `want`, leaving the strategy as it was. */
static int st_parse_refused(const char *text, const char *want)
{
    strategy s, before;
    thaw_err err = {0};
    strategy_default(&s, STRAT_GRADUAL);
    s.every = 7;
    before = s;
    int rc = strategy_parse(&s, text, &err);
    if (rc != THAW_EINVAL || !strstr(err.msg, want) || !same_strategy(&s, &before)) {
        test_failed(__FILE__, __LINE__, "'%s': code %d, message '%s', expected one holding '%s'",
                    text, rc, err.msg, want);
        return 0;
    }
    return 1;
}

void test_strategy_bad_unknown(void)
{
    CHECK(st_parse_refused("freeze-all", "unknown strategy 'freeze-all': expected feature-extraction "
                           "(or feature), finetune (or fine-tuning), gradual, discriminative, "
                           "layer-decay or freeze-bottom"));
    CHECK(st_parse_refused("", "empty strategy"));
    CHECK(st_parse_refused(NULL, "empty strategy"));
}

void test_strategy_bad_key(void)
{
    CHECK(st_parse_refused("gradual evry=2", "strategy gradual has no key 'evry': expected every"));
    CHECK(st_parse_refused("finetune every=2", "strategy finetune has no key 'every': expected none"));
    CHECK(st_parse_refused("discriminative decay=0.5", "expected factor, lo"));
    CHECK(st_parse_refused("gradual 2", "strategy gradual: '2' is not key=value (keys: every)"));
    CHECK(st_parse_refused("layer-decay 0.5 decay=0.6", "decay is given twice"));
}

void test_strategy_bad_value(void)
{
    CHECK(st_parse_refused("gradual every=0", "every=0 is out of range: expected an integer in [1, 1000000]"));
    CHECK(st_parse_refused("gradual every=1.5", "every=1.5 is out of range"));
    CHECK(st_parse_refused("gradual every=two", "every='two' is not a number"));
    CHECK(st_parse_refused("discriminative factor=0", "factor=0 is out of range: expected a number > 0"));
    CHECK(st_parse_refused("discriminative lo=-1e-4", "lo=-1e-4 is out of range: expected a number >= 0"));
    CHECK(st_parse_refused("layer-decay decay=1.5", "decay=1.5 is out of range: expected a number in (0, 1]"));
    CHECK(st_parse_refused("layer-decay 0", "decay=0 is out of range"));
    CHECK(st_parse_refused("layer-decay inf", "decay='inf' is not a number"));
}

/* model_match on the reference net: the paths it returns, in order. */
static void st_expect_match(const model *m, const char *pattern, const char *const *want, int n)
{
    layer *out[32];
    thaw_err err = {0};
    int got = model_match(m, pattern, out, 32, &err);
    CHECKF(got == n, "'%s': %d matches, expected %d (%s)", pattern, got, n, err.msg);
    for (int i = 0; i < n; i++)
        CHECKF(!strcmp(out[i]->path, want[i]), "'%s': match %d is '%s', expected '%s'", pattern, i,
               out[i]->path, want[i]);
}

void test_strategy_match(void)
{
    static const char *const stages[] = { "stage1", "stage2", "stage3" };
    static const char *const children[] = { "stage3.conv1", "stage3.bn1", "stage3.relu",
                                            "stage3.conv2", "stage3.bn2", "stage3.proj" };
    static const char *const bn1[] = { "stage1.bn1", "stage2.bn1", "stage3.bn1" };
    static const char *const top[] = { "stem", "stage1", "stage2", "stage3", "pool", "head" };
    static const char *const path[] = { "stage2.conv1" };
    static const char *const deep[] = { "stage2.proj.1", "stage3.proj.1" };
    static const char *const convs[] = { "stage1.conv1", "stage1.conv2", "stage2.conv1",
                                         "stage2.conv2", "stage3.conv1", "stage3.conv2" };
    model m;
    layer *out[4];
    thaw_err err = {0};
    if (!st_build(&m, 0))
        return;
    EXPECT(model_match(&m, "all", out, 4, &err) == 1 && out[0] == m.root);
    st_expect_match(&m, "stage*", stages, 3);
    st_expect_match(&m, "stage3.*", children, 6);
    st_expect_match(&m, "*.bn1", bn1, 3);
    st_expect_match(&m, "*", top, 6);
    st_expect_match(&m, "stage2.conv1", path, 1);
    st_expect_match(&m, "*.proj.1", deep, 2);
    st_expect_match(&m, "stage*.conv*", convs, 6);
    EXPECT(model_match(&m, "stage*", out, 2, &err) == 2 && out[1] == model_find(&m, "stage2"));
done:
    model_free(&m);
}

void test_strategy_match_none(void)
{
    static const char *const bad[] = { "stage9", "stage3.conv", "stage3.", ".bn1", "", "All",
                                       "stem.0.weight", "stage[23]", "stage?", "**.bn1.*" };
    model m;
    layer *out[4];
    if (!st_build(&m, 0))
        return;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        thaw_err err = {0};
        char want[64];
        snprintf(want, sizeof want, "no layer matches '%s'", bad[i]);
        EXPECTF(model_match(&m, bad[i], out, 4, &err) == -1, "'%s' matched", bad[i]);
        EXPECTF(err.code == THAW_ENOTFOUND && strstr(err.msg, want) &&
                strstr(err.msg, "over the layers stem, stage1, stage2, stage3, pool, head"),
                "'%s': %s", bad[i], err.msg);
    }
done:
    model_free(&m);
}

/* freeze-bottom: the first groups frozen, the rest (the head too) train at
 * the base rate; without groups= only group 0. */
void test_strategy_freeze_bottom(void)
{
    model m;
    thaw_err err = { 0 };
    strategy s;
    if (!st_build(&m, 0))
        return;
    static const char *const w[] = { "stem.0.weight", "stage1.conv1.weight", "stage2.conv1.weight",
                                     "stage3.conv1.weight", "head.weight" };
    int ok = strategy_parse(&s, "freeze-bottom groups=2", &err) == THAW_OK &&
             strategy_apply(&s, &m, 0.05f, NULL, &err) == THAW_OK;
    for (int i = 0; ok && i < 5; i++)
        ok = model_slice(&m, w[i])->frozen == (i < 2) && model_slice(&m, w[i])->lr == 0.05f;
    char text[STRATEGY_TEXT_MAX];
    strategy_format(&s, text, sizeof text);
    int one = strategy_parse(&s, "freeze-bottom", &err) == THAW_OK && s.groups == 1 &&
              strategy_apply(&s, &m, 0.05f, NULL, &err) == THAW_OK &&
              model_slice(&m, w[0])->frozen && !model_slice(&m, w[1])->frozen;
    model_free(&m);
    CHECKF(ok, "%s", err.msg);
    CHECKF(!strcmp(text, "freeze-bottom groups=2"), "formats as '%s'", text);
    CHECK(one);
}
