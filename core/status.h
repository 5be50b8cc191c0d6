/* status.h — return codes and error messages shared by core/, models/ and datasets/.
 *
 * Library code never prints and never exits. A function that can fail returns an
 * int status (THAW_OK on success) and, when given a thaw_err, leaves a sentence
 * there that names the thing at fault and what was expected:
 *
 *     thaw_err err = {0};
 *     if (model_build(&m, root, in, seed, &err) != THAW_OK)
 *         fprintf(stderr, "thaw: %s\n", err.msg);   // only main and the TUI print
 *
 * The codes and their short names come from one table, THAW_STATUS_LIST.
 */
#ifndef THAW_STATUS_H
#define THAW_STATUS_H

#define THAW_STATUS_LIST(X)                                   \
    X(THAW_OK,        "ok")                                   \
    X(THAW_ENOMEM,    "out of memory")                        \
    X(THAW_EINVAL,    "invalid argument")                     \
    X(THAW_ESHAPE,    "shapes do not chain")                  \
    X(THAW_EIO,       "input/output error")                   \
    X(THAW_EFORMAT,   "malformed file")                       \
    X(THAW_ENONFINITE,"non-finite value")                     \
    X(THAW_ENOTFOUND, "not found")

enum thaw_status {
#define THAW_STATUS_ENUM(code, text) code,
    THAW_STATUS_LIST(THAW_STATUS_ENUM)
#undef THAW_STATUS_ENUM
    THAW_STATUS_COUNT
};

typedef struct thaw_err {
    int  code;
    char msg[512];
} thaw_err;

/* The short name of a status code ("out of memory"); never NULL. */
const char *thaw_status_name(int code);

/* Records code and a printf-style message in err (which may be NULL) and
 * returns code, so callers can write `return thaw_fail(err, THAW_EINVAL, ...)`. */
int thaw_fail(thaw_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
