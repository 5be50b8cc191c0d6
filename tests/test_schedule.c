/* test_schedule.c — learning-rate schedule factors at known points, warm-up,
 * the text form's round trip, and a named test per parse error. */
#include <math.h>
#include <string.h>

#include "schedule.h"
#include "test.h"

/* Equal to within a few units in the last place of a double. */
static int same(double a, double b)
{
    return fabs(a - b) <= 1e-14 * fmax(1.0, fabs(b));
}

/* Field by field: the struct has padding. */
static int same_schedule(const schedule *a, const schedule *b)
{
    return a->kind == b->kind && a->warmup == b->warmup && a->every == b->every &&
           a->gamma == b->gamma && a->div == b->div && a->div_final == b->div_final &&
           a->pct == b->pct;
}

static int parsed(schedule *s, const char *text)
{
    thaw_err err = {0};
    if (schedule_parse(s, text, &err) == THAW_OK)
        return 1;
    test_failed(__FILE__, __LINE__, "'%s': %s", text, err.msg);
    return 0;
}

void test_schedule_constant(void)
{
    schedule s;
    CHECK(parsed(&s, "constant"));
    CHECK(s.kind == SCHED_CONSTANT && s.warmup == 0);
    for (long t = 0; t <= 100; t += 25)
        CHECKF(schedule_factor(&s, t, 100, 10) == 1.0, "step %ld", t);
}

/* 0.5 (1 + cos(pi t)) with t = step / total. */
void test_schedule_cosine_points(void)
{
    schedule s;
    CHECK(parsed(&s, "cosine"));
    CHECK(schedule_factor(&s, 0, 100, 10) == 1.0);
    CHECK(same(schedule_factor(&s, 25, 100, 10), 0.5 + 0.25 * sqrt(2.0)));
    CHECK(same(schedule_factor(&s, 50, 100, 10), 0.5));
    CHECK(same(schedule_factor(&s, 99, 100, 10), 0.5 * (1.0 + cos(M_PI * 0.99))));
    CHECK(fabs(schedule_factor(&s, 100, 100, 10)) < 1e-15);
    CHECK(fabs(schedule_factor(&s, 250, 100, 10)) < 1e-15);   /* clamped to the end */
}

void test_schedule_step_drops(void)
{
    schedule s;
    CHECK(parsed(&s, "step"));
    CHECK(s.every == 10 && s.gamma == 0.1);
    /* 5 steps per epoch: a drop every 50 steps. */
    CHECK(schedule_factor(&s, 0, 200, 5) == 1.0);
    CHECK(schedule_factor(&s, 49, 200, 5) == 1.0);
    CHECK(same(schedule_factor(&s, 50, 200, 5), 0.1));
    CHECK(same(schedule_factor(&s, 99, 200, 5), 0.1));
    CHECK(same(schedule_factor(&s, 100, 200, 5), 0.01));
    CHECK(parsed(&s, "step every=2 gamma=0.5"));
    CHECK(same(schedule_factor(&s, 59, 200, 10), 0.25));
    CHECK(same(schedule_factor(&s, 60, 200, 10), 0.125));
}

/* A drop lands on its step even when `every` has no exact binary form:
 * 0.3 epochs over 0.1 is 2.9999999999999996 in doubles. */
void test_schedule_step_fractional_every(void)
{
    schedule s;
    CHECK(parsed(&s, "step every=0.1 gamma=0.5"));
    CHECK(same(schedule_factor(&s, 2, 100, 10), 0.25));
    CHECK(same(schedule_factor(&s, 3, 100, 10), 0.125));
    CHECK(same(schedule_factor(&s, 7, 100, 10), 0.0078125));
}

/* fast.ai's fit_one_cycle: 1/div at the start, exactly 1 at pct, 1/div_final
 * at the end, cosines in between. */
void test_schedule_onecycle_points(void)
{
    schedule s;
    CHECK(parsed(&s, "one-cycle"));
    CHECK(s.div == 25 && s.div_final == 1e5 && s.pct == 0.25);
    CHECK(same(schedule_factor(&s, 0, 200, 10), 1.0 / 25));
    CHECK(same(schedule_factor(&s, 25, 200, 10), (1.0 / 25 + 1.0) / 2));
    CHECK(schedule_factor(&s, 50, 200, 10) == 1.0);
    CHECK(same(schedule_factor(&s, 125, 200, 10), (1.0 + 1e-5) / 2));
    CHECK(same(schedule_factor(&s, 200, 200, 10), 1e-5));
    double prev = 0;
    for (long t = 0; t <= 50; t++) {
        double f = schedule_factor(&s, t, 200, 10);
        CHECKF(f > prev, "not rising at step %ld", t);
        prev = f;
    }
    for (long t = 51; t <= 200; t++) {
        double f = schedule_factor(&s, t, 200, 10);
        CHECKF(f < prev, "not falling at step %ld", t);
        prev = f;
    }
    CHECK(parsed(&s, "one-cycle pct=0.3 div=10"));
    CHECK(same(schedule_factor(&s, 0, 100, 10), 0.1));
    CHECK(schedule_factor(&s, 30, 100, 10) == 1.0);
}

/* min(1, (step + 1) / (warmup * per_epoch)) on top of the schedule. */
void test_schedule_warmup_ramp(void)
{
    schedule s;
    CHECK(parsed(&s, "constant warmup=2"));
    CHECK(same(schedule_factor(&s, 0, 100, 10), 0.05));
    CHECK(same(schedule_factor(&s, 9, 100, 10), 0.5));
    CHECK(same(schedule_factor(&s, 18, 100, 10), 0.95));
    CHECK(schedule_factor(&s, 19, 100, 10) == 1.0);
    CHECK(schedule_factor(&s, 60, 100, 10) == 1.0);
    CHECK(parsed(&s, "cosine warmup=0.5"));
    CHECK(same(schedule_factor(&s, 1, 100, 10), 0.4 * 0.5 * (1.0 + cos(M_PI * 0.01))));
    CHECK(same(schedule_factor(&s, 50, 100, 10), 0.5));
}

/* No steps or no steps per epoch: no division by zero, the factor is 1. */
void test_schedule_degenerate_sizes(void)
{
    static const char *const texts[] = { "constant", "step warmup=1", "cosine warmup=1",
                                         "one-cycle warmup=1" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        schedule s;
        CHECK(parsed(&s, texts[i]));
        CHECKF(schedule_factor(&s, 0, 0, 10) == 1.0, "%s, total 0", texts[i]);
        CHECKF(schedule_factor(&s, 3, -5, 10) == 1.0, "%s, total -5", texts[i]);
        CHECKF(schedule_factor(&s, 3, 100, 0) == 1.0, "%s, per_epoch 0", texts[i]);
    }
}

void test_schedule_names(void)
{
    CHECK(!strcmp(sched_name(SCHED_CONSTANT), "constant"));
    CHECK(!strcmp(sched_name(SCHED_STEP), "step"));
    CHECK(!strcmp(sched_name(SCHED_COSINE), "cosine"));
    CHECK(!strcmp(sched_name(SCHED_ONECYCLE), "one-cycle"));
    CHECK(!strcmp(sched_name(SCHED_KIND_COUNT), "unknown"));
}

/* Text, its canonical form, and the text read back gives the same values. */
void test_schedule_round_trip(void)
{
    static const struct { const char *text, *canon; } cases[] = {
        { "constant", "constant" },
        { "constant warmup=1", "constant warmup=1" },
        { "cosine", "cosine" },
        { "  cosine,warmup=0.25 ", "cosine warmup=0.25" },
        { "step", "step" },
        { "step every=10 gamma=0.1", "step" },
        { "step every=5 gamma=0.5", "step every=5 gamma=0.5" },
        { "step, gamma=0.3, every=2.5, warmup=1", "step every=2.5 gamma=0.3 warmup=1" },
        { "one-cycle", "one-cycle" },
        { "one-cycle pct=0.3 div=10", "one-cycle div=10 pct=0.3" },
        { "one-cycle div_final=1e4 warmup=0.1", "one-cycle div_final=10000 warmup=0.1" },
        { "step every=20", "step every=20" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        schedule s, back;
        char text[SCHEDULE_TEXT_MAX];
        CHECK(parsed(&s, cases[i].text));
        schedule_format(&s, text, sizeof text);
        CHECKF(!strcmp(text, cases[i].canon), "'%s' formats as '%s', expected '%s'",
               cases[i].text, text, cases[i].canon);
        CHECK(parsed(&back, text));
        CHECKF(same_schedule(&s, &back), "'%s' does not read back the same", text);
    }
}

/* Values with no short decimal form still read back exactly. */
void test_schedule_format_exact(void)
{
    schedule s, back;
    char text[SCHEDULE_TEXT_MAX];
    schedule_default(&s, SCHED_ONECYCLE);
    s.pct = 1.0 / 3;
    s.warmup = 0.1 + 0.2;
    schedule_format(&s, text, sizeof text);
    CHECKF(!strcmp(text, "one-cycle pct=0.3333333333333333 warmup=0.30000000000000004"), "%s", text);
    CHECK(parsed(&back, text));
    CHECK(back.pct == s.pct && back.warmup == s.warmup);
    schedule_format(&s, text, 10);
    CHECK(!strcmp(text, "one-cycle"));
}

/* Parses `text`, which must fail with THAW_EINVAL and a message holding
 * `want`, leaving the schedule as it was. */
static int refused(const char *text, const char *want)
{
    schedule s, before;
    thaw_err err = {0};
    schedule_default(&s, SCHED_COSINE);
    s.warmup = 3;
    before = s;
    int rc = schedule_parse(&s, text, &err);
    if (rc != THAW_EINVAL || !strstr(err.msg, want) || !same_schedule(&s, &before)) {
        test_failed(__FILE__, __LINE__, "'%s': code %d, message '%s', expected one holding '%s'",
                    text, rc, err.msg, want);
        return 0;
    }
    return 1;
}

void test_schedule_bad_unknown(void)
{
    CHECK(refused("linear", "unknown schedule 'linear': expected constant, step, cosine or one-cycle"));
    CHECK(refused("onecycle", "'onecycle'"));
    CHECK(refused("", "empty schedule"));
    CHECK(refused(" , ", "empty schedule"));
    CHECK(refused(NULL, "empty schedule"));
}

void test_schedule_bad_key(void)
{
    CHECK(refused("step evry=5", "schedule step has no key 'evry': expected every, gamma, warmup"));
    CHECK(refused("cosine gamma=0.5", "schedule cosine has no key 'gamma': expected warmup"));
    CHECK(refused("one-cycle every=2", "expected div, div_final, pct, warmup"));
    CHECK(refused("step every", "'every' is not key=value (keys: every, gamma, warmup)"));
    CHECK(refused("step every=2 every=3", "every is given twice"));
}

void test_schedule_bad_number(void)
{
    CHECK(refused("step every=abc", "every='abc' is not a number: expected a number > 0"));
    CHECK(refused("step every=", "every='' is not a number"));
    CHECK(refused("step every=5x", "every='5x' is not a number"));
    CHECK(refused("constant warmup=nan", "warmup='nan' is not a number: expected a number >= 0"));
    CHECK(refused("constant warmup=inf", "warmup='inf' is not a number"));
}

void test_schedule_bad_negative_every(void)
{
    CHECK(refused("step every=-1", "schedule step: every=-1 is out of range: expected a number > 0"));
    CHECK(refused("step every=0", "every=0 is out of range"));
}

void test_schedule_bad_gamma(void)
{
    schedule s;
    CHECK(refused("step gamma=0", "gamma=0 is out of range: expected a number in (0, 1]"));
    CHECK(refused("step gamma=1.5", "gamma=1.5 is out of range: expected a number in (0, 1]"));
    CHECK(refused("step gamma=-0.1", "gamma=-0.1 is out of range"));
    CHECK(parsed(&s, "step gamma=1"));
    CHECK(s.gamma == 1.0);
}

void test_schedule_bad_pct(void)
{
    CHECK(refused("one-cycle pct=0", "pct=0 is out of range: expected a number in (0, 1)"));
    CHECK(refused("one-cycle pct=1", "pct=1 is out of range: expected a number in (0, 1)"));
    CHECK(refused("one-cycle pct=1.2", "pct=1.2 is out of range"));
}

void test_schedule_bad_div(void)
{
    CHECK(refused("one-cycle div=0.5", "div=0.5 is out of range: expected a number >= 1"));
    CHECK(refused("one-cycle div_final=0", "div_final=0 is out of range: expected a number >= 1"));
    CHECK(refused("cosine warmup=-1", "warmup=-1 is out of range: expected a number >= 0"));
}
