/* test.h — the test runner's few macros.
 *
 * A test is `void test_NAME(void)` listed once in tests/list.h. CHECK stops
 * the test at the first failed condition and says where and why; the runner
 * ends with one line, "N passed, N failed" (and ", N skipped" when a test
 * found what it needs absent and said so with test_skip).
 */
#ifndef THAW_TEST_H
#define THAW_TEST_H

#include <math.h>

void test_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_has_failed(void);
/* Marks the running test skipped, saying why (data it needs are absent);
 * the test then returns. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            test_failed(__FILE__, __LINE__, "%s", #cond);           \
            return;                                                  \
        }                                                            \
    } while (0)

#define CHECKF(cond, ...)                                            \
    do {                                                             \
        if (!(cond)) {                                               \
            test_failed(__FILE__, __LINE__, __VA_ARGS__);           \
            return;                                                  \
        }                                                            \
    } while (0)

/* CHECK and CHECKF for tests that hold resources: a failure jumps to the
 * test's `done:` label, which releases them, so that a failing test leaks
 * nothing under the sanitizers. */
#define EXPECT(cond)                                                 \
    do {                                                             \
        if (!(cond)) {                                               \
            test_failed(__FILE__, __LINE__, "%s", #cond);           \
            goto done;                                               \
        }                                                            \
    } while (0)

#define EXPECTF(cond, ...)                                           \
    do {                                                             \
        if (!(cond)) {                                               \
            test_failed(__FILE__, __LINE__, __VA_ARGS__);           \
            goto done;                                               \
        }                                                            \
    } while (0)

#define CHECK_OK(call)                                               \
    do {                                                             \
        thaw_err check_err_ = {0};                                   \
        int check_rc_ = (call);                                      \
        (void)check_err_;                                            \
        if (check_rc_ != 0) {                                        \
            test_failed(__FILE__, __LINE__, "%s returned %d", #call, check_rc_); \
            return;                                                  \
        }                                                            \
    } while (0)

#define TEST(name) void test_##name(void);
#include "list.h"
#undef TEST

#endif
