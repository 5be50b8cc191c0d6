/* fault.h — fault injection for build/thaw-faults: the engine is linked with
 * -Wl,--wrap for its allocators and for the system calls models/fileio.c
 * saves with, so every such call made while injection is on is counted per
 * kind, and one of them (the at-th of a kind) can be made to fail.
 *
 *     fault_start(FAULT_NONE, 0, 0);          // count only
 *     ... the operation ...
 *     fault_stop();
 *     long n = fault_calls(FAULT_ALLOC);
 *     for (long k = 1; k <= n; k++) {
 *         fault_start(FAULT_ALLOC, k, ENOMEM);
 *         ... the operation, which must fail cleanly ...
 *         fault_stop();
 *         if (fault_live() != 0) ... it leaked ...
 *     }
 *
 * Allocations counted (kind FAULT_ALLOC): malloc, calloc, realloc,
 * aligned_alloc and strdup called from the engine's objects; cJSON's
 * through models/json.c's own hooks (which call malloc), libdeflate's
 * through its allocator hook (installed by fault_init) and zlib's through
 * the z_stream's zalloc (set by the wrapper of inflateInit2_). Allocations made by the C library itself (opendir's) and by
 * BLIS are not seen. Every block allocated while injection is on is tracked
 * until freed: fault_live() counts those still allocated, which after an
 * operation that freed its results is a leak.
 *
 * Errors injected: an errno value (the call returns -1 or NULL with errno
 * set, or ENOMEM for an allocation), FAULT_SHORT (write only: the call
 * writes half of what was asked and returns that count) or FAULT_KILL (the
 * process sends itself SIGKILL instead of making the call: a crash at that
 * point). Only the at-th call fails; the calls after it succeed, so a
 * caller that retries EINTR gets through. */
#ifndef THAW_FAULT_H
#define THAW_FAULT_H

#include <stddef.h>

#define FAULT_KINDS(X)                                 \
    X(ALLOC, "allocation")                             \
    X(MKOSTEMP, "mkostemp") X(FCHMOD, "fchmod")        \
    X(WRITE, "write") X(FSYNC, "fsync")                \
    X(CLOSE, "close") X(RENAME, "rename")              \
    X(OPEN, "open")

enum fault_kind {
    FAULT_NONE = -1,
#define FAULT_KIND_ENUM(upper, text) FAULT_##upper,
    FAULT_KINDS(FAULT_KIND_ENUM)
#undef FAULT_KIND_ENUM
    FAULT_KIND_COUNT
};

enum { FAULT_SHORT = -1, FAULT_KILL = -2 };

/* Routes libdeflate's allocations through the counting allocator; call
 * once before anything else. */
void fault_init(void);

/* Zeroes the counts and turns counting on; the at-th call of `kind` (from 1;
 * FAULT_NONE: none) then fails with `error`. */
void fault_start(int kind, long at, int error);
void fault_stop(void);

/* Calls of a kind since fault_start. */
long fault_calls(int kind);

/* 1 when the armed fault was injected. */
int fault_fired(void);

/* Blocks allocated since fault_start and not yet freed; the earliest of
 * them, by its allocation number, and its size into *seq and *size. */
long fault_live(long *seq, size_t *size);

/* "write", "allocation", ... */
const char *fault_kind_name(int kind);

/* "EIO", "ENOSPC", "EINTR", "ENOMEM", "short", "SIGKILL". */
const char *fault_error_name(int error);

#endif
