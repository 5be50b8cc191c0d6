/* main.c — runs every test in tests/list.h, or those whose name contains
 * one of the arguments, and ends with "N passed, N failed". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "par.h"
#include "test.h"

static int failed_now, skipped_now;
static char skip_why[512];

void test_failed(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("    %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failed_now = 1;
}

int test_has_failed(void)
{
    return failed_now;
}

void test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(skip_why, sizeof skip_why, fmt, ap);
    va_end(ap);
    skipped_now = 1;
}

static const struct {
    const char *name;
    void (*run)(void);
} tests[] = {
#define TEST(name) { #name, test_##name },
#include "list.h"
#undef TEST
};

static int wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strstr(name, argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* One thread unless THAW_THREADS says otherwise: results are the same
     * on any count (test_par.c), and the suite shares the machine. */
    const char *env = getenv("THAW_THREADS");
    if (thaw_threads_set(env && *env ? 0 : 1) < 0) {
        fprintf(stderr, "thaw-tests: THAW_THREADS must be a count from 1 to %d\n", PAR_THREADS_MAX);
        return 2;
    }
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!wanted(tests[i].name, argc, argv))
            continue;
        failed_now = skipped_now = 0;
        tests[i].run();
        if (skipped_now && !failed_now) {
            printf("skip %s: %s\n", tests[i].name, skip_why);
            skipped++;
            continue;
        }
        printf("%s %s\n", failed_now ? "FAIL" : "ok  ", tests[i].name);
        failed_now ? failed++ : passed++;
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
