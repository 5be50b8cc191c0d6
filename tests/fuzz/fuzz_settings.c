/* fuzz_settings.c — libFuzzer target for the three small text forms `set`
 * and `strategy` take: schedules (schedule.h), freeze strategies
 * (strategy.h) and augmentations (augment.h). Each input is tried as all
 * three. What parses must format to a text that parses back to the same
 * values (parse(format(parse(x))) == parse(x)) and formats to the same text
 * again; what does not parse must leave an error message (and, for schedules
 * and strategies, the value untouched). A parsed schedule's factor must stay
 * in [0, 1]; a parsed augmentation is applied to a small image. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "schedule.h"
#include "strategy.h"

#ifndef FUZZ_FAIL   /* tests/test_fuzz_regress.c counts failures instead */
#define FUZZ_FAIL(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), abort())
#endif

#define SETTINGS_BYTES_MAX 512   /* augment_parse's limit is 256 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: the structs have padding. == on doubles, so 0 and -0 are
 * the same value (the text form need not keep the sign of a zero). */
static int settings_same_schedule(const schedule *a, const schedule *b)
{
    return a->kind == b->kind && a->warmup == b->warmup && a->every == b->every &&
           a->gamma == b->gamma && a->div == b->div && a->div_final == b->div_final &&
           a->pct == b->pct;
}

static int settings_same_strategy(const strategy *a, const strategy *b)
{
    return a->kind == b->kind && a->every == b->every && a->factor == b->factor &&
           a->lo == b->lo && a->decay == b->decay;
}

static int settings_same_augment(const augment *a, const augment *b)
{
    return a->shift == b->shift && a->flip == b->flip && a->noise == b->noise;
}

/* A failed parse: THAW_EINVAL with a message. */
static int settings_clean_error(int rc, const thaw_err *err)
{
    return rc == THAW_EINVAL && err->code == rc && err->msg[0];
}

static void settings_schedule(const char *text)
{
    schedule s, back, again, untouched;
    memset(&s, 0x5a, sizeof s);
    untouched = s;
    thaw_err err = { 0 };
    int rc = schedule_parse(&s, text, &err);
    if (rc != THAW_OK) {
        if (!settings_clean_error(rc, &err) || memcmp(&s, &untouched, sizeof s))
            FUZZ_FAIL("schedule '%s': a failed parse (%d, '%s') is unclean or changed the value",
                      text, rc, err.msg);
        return;
    }
    char buf[SCHEDULE_TEXT_MAX], buf2[SCHEDULE_TEXT_MAX];
    schedule_format(&s, buf, sizeof buf);
    if (strlen(buf) + 1 >= sizeof buf)
        FUZZ_FAIL("schedule '%s': its text '%s' fills SCHEDULE_TEXT_MAX", text, buf);
    rc = schedule_parse(&back, buf, &err);
    if (rc != THAW_OK || !settings_same_schedule(&s, &back))
        FUZZ_FAIL("schedule '%s' formats as '%s', which reads back %s", text, buf,
                  rc ? err.msg : "to different values");
    schedule_format(&back, buf2, sizeof buf2);
    if (strcmp(buf, buf2))
        FUZZ_FAIL("schedule '%s' formats as '%s', then as '%s'", text, buf, buf2);
    if (schedule_parse(&again, buf2, &err) != THAW_OK || !settings_same_schedule(&s, &again))
        FUZZ_FAIL("schedule '%s': '%s' does not read back", text, buf2);
    static const long totals[][2] = { { 1000, 1 }, { 1000, 7 }, { 1000, 1000 }, { 3, 10 } };
    for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
        long total = totals[i][0], per = totals[i][1];
        const long steps[] = { 0, 1, total / 4, total / 2, total - 1, total };
        for (size_t j = 0; j < sizeof steps / sizeof steps[0]; j++) {
            double f = schedule_factor(&s, steps[j], total, per);
            if (!(f >= 0.0 && f <= 1.0 + 1e-12))
                FUZZ_FAIL("schedule '%s': factor %.17g at step %ld of %ld (%ld per epoch)", text,
                          f, steps[j], total, per);
        }
    }
}

static void settings_strategy(const char *text)
{
    strategy s, back, untouched;
    memset(&s, 0x5a, sizeof s);
    untouched = s;
    thaw_err err = { 0 };
    int rc = strategy_parse(&s, text, &err);
    if (rc != THAW_OK) {
        if (!settings_clean_error(rc, &err) || memcmp(&s, &untouched, sizeof s))
            FUZZ_FAIL("strategy '%s': a failed parse (%d, '%s') is unclean or changed the value",
                      text, rc, err.msg);
        return;
    }
    char buf[STRATEGY_TEXT_MAX], buf2[STRATEGY_TEXT_MAX];
    strategy_format(&s, buf, sizeof buf);
    if (strlen(buf) + 1 >= sizeof buf)
        FUZZ_FAIL("strategy '%s': its text '%s' fills STRATEGY_TEXT_MAX", text, buf);
    rc = strategy_parse(&back, buf, &err);
    if (rc != THAW_OK || !settings_same_strategy(&s, &back))
        FUZZ_FAIL("strategy '%s' formats as '%s', which reads back %s", text, buf,
                  rc ? err.msg : "to different values");
    strategy_format(&back, buf2, sizeof buf2);
    if (strcmp(buf, buf2))
        FUZZ_FAIL("strategy '%s' formats as '%s', then as '%s'", text, buf, buf2);
}

static void settings_augment(const char *text)
{
    augment a, back;
    thaw_err err = { 0 };
    int rc = augment_parse(&a, text, &err);
    if (rc != THAW_OK) {
        if (!settings_clean_error(rc, &err))
            FUZZ_FAIL("augment '%s': a failed parse (%d, '%s') is unclean", text, rc, err.msg);
        return;
    }
    char buf[64], buf2[64];
    augment_format(&a, buf, sizeof buf);
    rc = augment_parse(&back, buf, &err);
    if (rc != THAW_OK || !settings_same_augment(&a, &back))
        FUZZ_FAIL("augment '%s' (noise %.9g) formats as '%s', which reads back %s (noise %.9g)",
                  text, (double)a.noise, buf, rc ? err.msg : "to different values",
                  (double)back.noise);
    augment_format(&back, buf2, sizeof buf2);
    if (strcmp(buf, buf2))
        FUZZ_FAIL("augment '%s' formats as '%s', then as '%s'", text, buf, buf2);
    /* One grey 16x16 and one colour 5x7 image: the second refuses most shifts. */
    ds_geom g[2] = { ds_geom_default(), ds_geom_default() };
    g[0].in = (shape3){ 1, 16, 16 };
    g[1].in = (shape3){ 3, 5, 7 };
    for (int c = 0; c < 3; c++)
        g[1].mean[c] = 0.5f, g[1].std[c] = 0.25f;
    float src[3 * 16 * 16], dst[3 * 16 * 16];
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        src[i] = (float)(i % 17) / 17.0f;
    for (int i = 0; i < 2; i++) {
        rng r = rng_seeded((uint64_t)i + 1);
        if (augment_check(&a, &g[i], &err) != THAW_OK) {
            if (a.shift < g[i].in.h && a.shift < g[i].in.w)
                FUZZ_FAIL("augment '%s': refused for %dx%d images", text, g[i].in.h, g[i].in.w);
            continue;
        }
        augment_sample(&a, &g[i], dst, src, &r);
        for (size_t k = 0; k < shape3_count(g[i].in); k++)
            if (!isfinite(dst[k]))
                FUZZ_FAIL("augment '%s': value %zu is %g", text, k, (double)dst[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > SETTINGS_BYTES_MAX)
        return -1;
    char text[SETTINGS_BYTES_MAX + 1];
    memcpy(text, data, size);
    text[size] = '\0';
    settings_schedule(text);
    settings_strategy(text);
    settings_augment(text);
    return 0;
}
