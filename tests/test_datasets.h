/* test_datasets.h — what the data-set tests share: where the fixtures are
 * (tests/data/datasets/, written by make_fixtures.c there; the tests run
 * from the repository's top folder, as `make test` runs them) and a check
 * that a call failed with the expected code and a message that says what
 * is wrong. */
#ifndef THAW_TEST_DATASETS_H
#define THAW_TEST_DATASETS_H

#include <string.h>

#include "status.h"
#include "test.h"

#define DSDATA "tests/data/datasets/"

/* 1 when rc == code and msg contains a and b (either may be NULL); else
 * reports what came instead and returns 0. */
static inline int ds_failed_with(const char *file, int line, int rc, const thaw_err *err,
                                 int code, const char *a, const char *b)
{
    if (rc == code && (!a || strstr(err->msg, a)) && (!b || strstr(err->msg, b)))
        return 1;
    test_failed(file, line, "expected status %d with \"%s\"%s%s%s, got %d: \"%s\"", code,
                a ? a : "", b ? " and \"" : "", b ? b : "", b ? "\"" : "", rc, err->msg);
    return 0;
}

/* The call must fail with `code`, its message naming a and b. */
#define CHECK_FAILS(call, err, code, a, b)                                         \
    do {                                                                           \
        int check_fails_rc_ = (call);                                              \
        if (!ds_failed_with(__FILE__, __LINE__, check_fails_rc_, &(err), code, a, b)) \
            return;                                                                \
    } while (0)

#endif
