/* fault.c — the counting wrappers behind fault.h. Each __wrap_NAME replaces
 * NAME in the engine's objects (the link's -Wl,--wrap=NAME) and reaches the
 * real function as __real_NAME. */
#include "fault.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
char *__real_strdup(const char *s);
void __real_free(void *p);
int __real_open(const char *path, int flags, ...);
ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_close(int fd);
int __real_rename(const char *from, const char *to);
int __real_fchmod(int fd, mode_t mode);
int __real_mkostemp(char *tmpl, int flags);
int __real_inflateInit2_(z_streamp s, int bits, const char *version, int size);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);
int __wrap_open(const char *path, int flags, ...);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_close(int fd);
int __wrap_rename(const char *from, const char *to);
int __wrap_fchmod(int fd, mode_t mode);
int __wrap_mkostemp(char *tmpl, int flags);
int __wrap_inflateInit2_(z_streamp s, int bits, const char *version, int size);

/* ---- counting and arming ------------------------------------------------ */

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static int fault_on;
static long fault_count[FAULT_KIND_COUNT];
static int armed_kind = FAULT_NONE, armed_error, fired;
static long armed_at;

static const char *const kind_names[] = {
#define FAULT_KIND_NAME(upper, text) [FAULT_##upper] = text,
    FAULT_KINDS(FAULT_KIND_NAME)
#undef FAULT_KIND_NAME
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == FAULT_KIND_COUNT,
               "every fault kind has a name");

/* Counts a call of `kind`; returns the error to inject (0: make the call). */
static int fault_hit(int kind)
{
    pthread_mutex_lock(&fault_lock);
    int error = 0;
    if (fault_on) {
        long n = ++fault_count[kind];
        if (kind == armed_kind && n == armed_at) {
            error = armed_error;
            fired = 1;
        }
    }
    pthread_mutex_unlock(&fault_lock);
    if (error == FAULT_KILL)
        kill(getpid(), SIGKILL);
    return error;
}

/* ---- live blocks: an open-addressing table keyed by address ------------- */

/* Addresses are stored masked, so that LeakSanitizer, which scans globals
 * for pointers, still sees a block this table holds as leaked. */
#define LIVE_MASK ((uintptr_t)0x5bd1e9955bd1e995ull)
enum { LIVE_CAP = 1 << 17 };   /* slots; far more than any operation keeps */

static struct live { uintptr_t key; long seq; size_t size; } live[LIVE_CAP];
static long nlive;

static size_t live_slot(uintptr_t key)
{
    return (size_t)(((key ^ LIVE_MASK) >> 4) * 0x9E3779B97F4A7C15ull) & (LIVE_CAP - 1);
}

/* Tracks p, the block the latest counted allocation returned. */
static void live_add(void *p, size_t size)
{
    pthread_mutex_lock(&fault_lock);
    if (fault_on && p) {
        if (nlive >= LIVE_CAP / 2) {
            fprintf(stderr, "thaw-faults: more than %d live blocks to track\n", LIVE_CAP / 2);
            abort();
        }
        uintptr_t key = (uintptr_t)p ^ LIVE_MASK;
        size_t i = live_slot(key);
        while (live[i].key)
            i = (i + 1) & (LIVE_CAP - 1);
        live[i] = (struct live){ key, fault_count[FAULT_ALLOC], size };
        nlive++;
    }
    pthread_mutex_unlock(&fault_lock);
}

/* Removes p if tracked (a block from before fault_start is not), shifting
 * later entries of its probe run back so lookups need no tombstones. */
static void live_remove(void *p)
{
    pthread_mutex_lock(&fault_lock);
    uintptr_t key = (uintptr_t)p ^ LIVE_MASK;
    size_t i = live_slot(key);
    while (live[i].key && live[i].key != key)
        i = (i + 1) & (LIVE_CAP - 1);
    if (live[i].key) {
        nlive--;
        size_t j = i;
        for (;;) {
            j = (j + 1) & (LIVE_CAP - 1);
            if (!live[j].key)
                break;
            size_t home = live_slot(live[j].key);
            /* j's entry may move to the hole at i unless its home lies in (i, j]. */
            if (((j - home) & (LIVE_CAP - 1)) >= ((j - i) & (LIVE_CAP - 1))) {
                live[i] = live[j];
                i = j;
            }
        }
        live[i].key = 0;
    }
    pthread_mutex_unlock(&fault_lock);
}

/* ---- the public calls ---------------------------------------------------- */

static void *hook_malloc(size_t n)
{
    return __wrap_malloc(n);
}

static void hook_free(void *p)
{
    __wrap_free(p);
}

void fault_init(void)
{
    libdeflate_set_memory_allocator(hook_malloc, hook_free);
}

void fault_start(int kind, long at, int error)
{
    pthread_mutex_lock(&fault_lock);
    memset(fault_count, 0, sizeof fault_count);
    memset(live, 0, sizeof live);
    nlive = 0;
    armed_kind = kind;
    armed_at = at;
    armed_error = error;
    fired = 0;
    fault_on = 1;
    pthread_mutex_unlock(&fault_lock);
}

void fault_stop(void)
{
    pthread_mutex_lock(&fault_lock);
    fault_on = 0;
    armed_kind = FAULT_NONE;
    pthread_mutex_unlock(&fault_lock);
}

long fault_calls(int kind)
{
    return fault_count[kind];
}

int fault_fired(void)
{
    return fired;
}

long fault_live(long *seq, size_t *size)
{
    pthread_mutex_lock(&fault_lock);
    *seq = 0;
    *size = 0;
    for (size_t i = 0; i < LIVE_CAP; i++)
        if (live[i].key && (!*seq || live[i].seq < *seq)) {
            *seq = live[i].seq;
            *size = live[i].size;
        }
    long n = nlive;
    pthread_mutex_unlock(&fault_lock);
    return n;
}

const char *fault_kind_name(int kind)
{
    return kind >= 0 && kind < FAULT_KIND_COUNT ? kind_names[kind] : "none";
}

const char *fault_error_name(int error)
{
    switch (error) {
    case EIO:         return "EIO";
    case ENOSPC:      return "ENOSPC";
    case EINTR:       return "EINTR";
    case ENOMEM:      return "ENOMEM";
    case FAULT_SHORT: return "short";
    case FAULT_KILL:  return "SIGKILL";
    default:          return strerror(error);
    }
}

/* ---- allocators ------------------------------------------------------------ */

/* NULL with errno ENOMEM when this allocation is the one to fail. */
#define ALLOC_FAULT()                  \
    do {                               \
        if (fault_hit(FAULT_ALLOC)) {  \
            errno = ENOMEM;            \
            return NULL;               \
        }                              \
    } while (0)

void *__wrap_malloc(size_t n)
{
    ALLOC_FAULT();
    void *p = __real_malloc(n);
    live_add(p, n);
    return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
    ALLOC_FAULT();
    void *p = __real_calloc(k, n);
    live_add(p, k * n);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    ALLOC_FAULT();
    void *q = __real_realloc(p, n);
    if (q || n == 0) {   /* moved, or freed by realloc(p, 0) */
        if (p)
            live_remove(p);
        live_add(q, n);
    }
    return q;
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    ALLOC_FAULT();
    void *p = __real_aligned_alloc(align, n);
    live_add(p, n);
    return p;
}

char *__wrap_strdup(const char *s)
{
    ALLOC_FAULT();
    char *p = __real_strdup(s);
    live_add(p, strlen(s) + 1);
    return p;
}

void __wrap_free(void *p)
{
    if (p)
        live_remove(p);
    __real_free(p);
}

/* zlib allocates through the z_stream's zalloc, which inflateInit2_ fills
 * in with its own default when the caller left it NULL (idx.c does). */
static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return __wrap_calloc(items, size);
}

static void zlib_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    __wrap_free(p);
}

int __wrap_inflateInit2_(z_streamp s, int bits, const char *version, int size)
{
    s->zalloc = zlib_alloc;
    s->zfree = zlib_free;
    s->opaque = Z_NULL;
    return __real_inflateInit2_(s, bits, version, size);
}

/* ---- system calls ------------------------------------------------------------ */

/* -1 with errno set when this call of `kind` is the one to fail. */
#define IO_FAULT(kind)                          \
    do {                                        \
        int e_ = fault_hit(kind);               \
        if (e_ > 0) {                           \
            errno = e_;                         \
            return -1;                          \
        }                                       \
    } while (0)

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, unsigned);
        va_end(ap);
    }
    IO_FAULT(FAULT_OPEN);
    return __real_open(path, flags, mode);
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    int e = fault_hit(FAULT_WRITE);
    if (e == FAULT_SHORT)
        return __real_write(fd, buf, n > 1 ? n / 2 : n);
    if (e > 0) {
        errno = e;
        return -1;
    }
    return __real_write(fd, buf, n);
}

int __wrap_fsync(int fd)
{
    IO_FAULT(FAULT_FSYNC);
    return __real_fsync(fd);
}

/* A failing close still closes: Linux releases the descriptor whatever
 * close reports (close(2)), so retrying it would close another file. */
int __wrap_close(int fd)
{
    int e = fault_hit(FAULT_CLOSE);
    int rc = __real_close(fd);
    if (e > 0) {
        errno = e;
        return -1;
    }
    return rc;
}

int __wrap_rename(const char *from, const char *to)
{
    IO_FAULT(FAULT_RENAME);
    return __real_rename(from, to);
}

int __wrap_fchmod(int fd, mode_t mode)
{
    IO_FAULT(FAULT_FCHMOD);
    return __real_fchmod(fd, mode);
}

int __wrap_mkostemp(char *tmpl, int flags)
{
    IO_FAULT(FAULT_MKOSTEMP);
    return __real_mkostemp(tmpl, flags);
}
