#include "status.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const status_names[] = {
#define THAW_STATUS_NAME(code, text) [code] = text,
    THAW_STATUS_LIST(THAW_STATUS_NAME)
#undef THAW_STATUS_NAME
};

_Static_assert(sizeof status_names / sizeof status_names[0] == THAW_STATUS_COUNT,
               "every status code has a name");

const char *thaw_status_name(int code)
{
    if (code < 0 || code >= THAW_STATUS_COUNT)
        return "unknown status";
    return status_names[code];
}

int thaw_fail(thaw_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}
