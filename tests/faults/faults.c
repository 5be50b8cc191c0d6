/* faults.c — build/thaw-faults: the engine under injected faults (fault.h).
 *
 * 1. Allocation failures. Each operation — loading a model, loading each
 *    data format, importing a TF.js model, saving a checkpoint over a
 *    previous one — runs once to
 *    count its allocations; then, for every N, runs with the N-th failing.
 *    It must fail with THAW_ENOMEM and a message, leave its outputs empty,
 *    and leak no block and no descriptor; a save must also leave the
 *    previous checkpoint byte-identical and loadable, and no temporary file.
 * 2. I/O failures on save. Each system call models/fileio.c saves with
 *    (mkostemp, fchmod, write, fsync, close, rename, open), every call of a
 *    successful save in turn, fails with EIO, ENOSPC and EINTR (and write
 *    also comes back short). The save must then either succeed, the files
 *    equal to those of an undisturbed save and loading to the saved weights,
 *    or fail with a message, the previous checkpoint byte-identical and no
 *    temporary file left. One failure is allowed to leave the new checkpoint
 *    in place: fileio's documented "written, but the fsync of its folder
 *    failed", after both renames.
 * 3. Crash points. A child process saving kills itself (SIGKILL) just
 *    before each of those calls in turn; the checkpoint must then load and
 *    be byte-identical to the previous one or the new one. The temporary
 *    files the crash leaves are counted, and the next save must remove them
 *    (fileio's fio_clean_stale).
 *
 * Library bugs these checks find are listed in fx_known_bugs below: each is
 * reported as a known failure (with how often it was hit) and does not fail
 * the run; anything else does. On a crash, the case being run is printed.
 *
 *     build/thaw-faults [-v] [alloc] [io] [kill]    (no section: all three)
 *
 * Run from the repository's top folder, as `make test` does.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fault.h"
#include "modelfile.h"
#include "task.h"
#include "tfjs.h"
#include "util.h"

#define FX_MODEL "models/shapes-resnet.json"
#define FX_DATA  "tests/data/datasets/"

static int verbose;

/* ---- problems, and the library bugs known to cause some ----------------- */

#define FX_PROBLEMS(X)                                                           \
    X(NO_MESSAGE,   "failed without a message")                                 \
    X(WRONG_CODE,   "failed with the wrong status")                             \
    X(NOT_EMPTY,    "left its outputs filled after failing")                    \
    X(WRONG_RESULT, "succeeded with a different result")                        \
    X(LEAK,         "leaked memory")                                            \
    X(FD_LEAK,      "leaked file descriptors")                                  \
    X(TEMP_LEFT,    "left a temporary file")                                    \
    X(PREV_LOST,    "failed, and the previous checkpoint is not intact")        \
    X(SAVED_WRONG,  "succeeded, but the files differ from an undisturbed save") \
    X(NOT_REACHED,  "never made the call to fail (the calls differ from run to run)")

enum fx_problem {
#define FX_PROBLEM_ENUM(upper, text) FX_##upper,
    FX_PROBLEMS(FX_PROBLEM_ENUM)
#undef FX_PROBLEM_ENUM
    FX_PROBLEM_COUNT
};

static const char *const fx_problem_text[] = {
#define FX_PROBLEM_TEXT(upper, text) [FX_##upper] = text,
    FX_PROBLEMS(FX_PROBLEM_TEXT)
#undef FX_PROBLEM_TEXT
};
_Static_assert(sizeof fx_problem_text / sizeof fx_problem_text[0] == FX_PROBLEM_COUNT,
               "every problem has a text");

/* A library bug: the cases whose description contains `where` and whose
 * detail contains `detail` (NULL: any) show `problem` because of it. */
typedef struct fx_known {
    const char *where;
    int problem;
    const char *detail;
    const char *bug;
} fx_known;

/* Every bug these checks found so far is fixed; a new one goes here, with
 * the end mark kept last. */
static const fx_known fx_known_bugs[] = {
    { NULL, 0, NULL, NULL },
};
enum { FX_NKNOWN = sizeof fx_known_bugs / sizeof fx_known_bugs[0] - 1 };

static long known_hits[FX_NKNOWN + 1];
static long unexpected, known;   /* problems reported, by whether a known bug explains them */
static long shown, hidden;       /* unexpected problems printed and not, since fx_line_end */

/* Records a problem with the case `where`: a known bug's hit (printed the
 * first time), or an unexpected failure (printed, up to a few per line of
 * the summary). */
static void fx_report(const char *where, int problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fx_report(const char *where, int problem, const char *fmt, ...)
{
    enum { SHOWN_MAX = 5 };
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    for (int i = 0; i < FX_NKNOWN; i++) {
        const fx_known *k = &fx_known_bugs[i];
        if (k->problem == problem && strstr(where, k->where) &&
            (!k->detail || strstr(detail, k->detail))) {
            if (verbose || !known_hits[i])
                printf("    known bug %d: %s %s: %s\n", i + 1, where, fx_problem_text[problem],
                       detail);
            known_hits[i]++;
            known++;
            return;
        }
    }
    unexpected++;
    if (verbose || shown < SHOWN_MAX) {
        printf("    FAIL %s %s: %s\n", where, fx_problem_text[problem], detail);
        shown++;
    } else {
        hidden++;
    }
}

/* How the cases of one summary line went: each counts once, as survived
 * (no problem), known (known bugs only) or unexpected. */
typedef struct fx_tally {
    long survived, known, unexpected;
    long unexpected0, known0;   /* the counters when the case began */
} fx_tally;

static void fx_case_begin(fx_tally *t)
{
    t->unexpected0 = unexpected;
    t->known0 = known;
}

static void fx_case_end(fx_tally *t)
{
    if (unexpected > t->unexpected0)
        t->unexpected++;
    else if (known > t->known0)
        t->known++;
    else
        t->survived++;
}

/* The end of a summary line: the tally, and what was not shown. */
static void fx_line_end(const fx_tally *t)
{
    printf("; %ld survived, %ld hit known bugs, %ld unexpected failures%s\n", t->survived,
           t->known, t->unexpected, t->unexpected ? " FAIL" : "");
    if (hidden)
        printf("    (%ld more unexpected failures not shown; -v shows every case)\n", hidden);
    shown = hidden = 0;
}

/* ---- the case being run, named if it crashes ---------------------------- */

static char fx_case[512];
static struct sigaction fx_old_action[NSIG];

static void fx_on_crash(int sig)
{
    static const char head[] = "thaw-faults: crashed while running ";
    /* The raw system call: write is wrapped, and its lock may be held. */
    if (fx_case[0]) {
        syscall(SYS_write, 2, head, sizeof head - 1);
        syscall(SYS_write, 2, fx_case, strlen(fx_case));
        syscall(SYS_write, 2, "\n", 1);
    }
    /* The previous handler (the sanitizer's, or the default) takes over
     * when the fault repeats or abort raises again. */
    sigaction(sig, &fx_old_action[sig], NULL);
}

static void fx_catch_crashes(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    struct sigaction sa = { .sa_handler = fx_on_crash };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, &fx_old_action[sigs[i]]);
}

/* ---- the checkpoints a save switches between ----------------------------- */

/* `prev` (shapes-resnet as shipped) is in G.ckpt before every save; the
 * saves write `next` (the same architecture, seed-2 weights, provenance
 * seed changed so the JSON differs too). */
static struct {
    char dir[FX_PATH_MAX], ckpt[FX_PATH_MAX + 16];
    mf_meta meta;
    model prev, next;
    long long prev_seed, next_seed;
    fx_ckpt prev_bytes, next_bytes;
} G;

static int fx_save(long long seed, const model *m, thaw_err *err)
{
    G.meta.prov.seed = seed;
    return mf_save(G.ckpt, &G.meta, m, err);
}

/* Puts prev back in place after a case that changed it. */
static int fx_restore(void)
{
    fx_ckpt now;
    fx_ckpt_read(&now, G.ckpt);
    int same = fx_ckpt_same(&now, &G.prev_bytes);
    fx_ckpt_free(&now);
    thaw_err err = { 0 };
    if (!same && fx_save(G.prev_seed, &G.prev, &err)) {
        fprintf(stderr, "thaw-faults: cannot restore the previous checkpoint: %s\n", err.msg);
        return -1;
    }
    fx_temps(G.dir, 1);
    return 0;
}

/* "prev", "new", "missing" or "other": what a file of the checkpoint holds. */
static const char *fx_which(const char *b, size_t n, const char *prev, size_t nprev,
                            const char *next, size_t nnext)
{
    if (!b)
        return "missing";
    if (n == nprev && !memcmp(b, prev, n))
        return "prev";
    if (n == nnext && !memcmp(b, next, n))
        return "new";
    return "other";
}

/* 0 when the checkpoint in place loads and holds m's weights and `seed`. */
static int fx_loads_as(const model *m, long long seed)
{
    mf_meta meta;
    model got;
    thaw_err err = { 0 };
    if (mf_load(&meta, &got, G.ckpt, NULL, &err)) {
        fprintf(stderr, "thaw-faults: %s does not load: %s\n", G.ckpt, err.msg);
        return -1;
    }
    int ok = fx_same_params(&got, m) && meta.prov.seed == seed;
    if (!ok)
        fprintf(stderr, "thaw-faults: %s does not load as saved\n", G.ckpt);
    mf_meta_free(&meta);
    model_free(&got);
    return ok ? 0 : -1;
}

enum fx_outcome { FX_SAVED, FX_FAILED, FX_COMMITTED, FX_BAD };

/* After a save of next that returned rc: what is on disk must be one of
 * the allowed states. With crashed set the save was killed, rc means
 * nothing and either checkpoint is allowed; temporary files are then
 * counted into *stale, and must be gone after the next save. */
static int fx_check_save(const char *where, int rc, const thaw_err *err, int crashed, int *stale)
{
    int temps = fx_temps(G.dir, 0);
    if (crashed)
        *stale += temps;
    else if (temps)
        fx_report(where, FX_TEMP_LEFT, "%d in %s", temps, G.dir);
    fx_ckpt now;
    fx_ckpt_read(&now, G.ckpt);
    int is_prev = fx_ckpt_same(&now, &G.prev_bytes), is_next = fx_ckpt_same(&now, &G.next_bytes);
    const char *json = fx_which(now.json, now.njson, G.prev_bytes.json, G.prev_bytes.njson,
                                G.next_bytes.json, G.next_bytes.njson);
    const char *weights = fx_which(now.weights, now.nweights, G.prev_bytes.weights,
                                   G.prev_bytes.nweights, G.next_bytes.weights,
                                   G.next_bytes.nweights);
    fx_ckpt_free(&now);
    /* Byte-identical to a pair fx_setup loaded is as good as loading it. */
    int outcome = FX_BAD;
    if (!crashed && rc == THAW_OK) {
        if (is_next)
            outcome = FX_SAVED;
        else
            fx_report(where, FX_SAVED_WRONG, "the JSON is %s, the weights are %s", json, weights);
    } else if (is_prev) {
        outcome = FX_FAILED;
    } else if (is_next && (crashed || strstr(err->msg, "written, but"))) {
        outcome = FX_COMMITTED;
    } else {
        fx_report(where, FX_PREV_LOST, "the JSON is %s, the weights are %s%s%s", json, weights,
                  crashed ? "" : "; the error: ", crashed ? "" : err->msg);
    }
    if (crashed) {
        /* fileio removes what a killed save left when NAME is next saved. */
        thaw_err e2 = { 0 };
        if (fx_save(G.prev_seed, &G.prev, &e2)) {
            fprintf(stderr, "thaw-faults: saving after a crash: %s\n", e2.msg);
            exit(2);
        }
        int left = fx_temps(G.dir, 0);
        if (left)
            fx_report(where, FX_TEMP_LEFT, "%d of the %d the crash left survived the next save",
                      left, temps);
    }
    if (fx_restore())
        exit(2);
    return outcome;
}

static int fx_setup(void)
{
    thaw_err err = { 0 };
    if (fx_tmpdir(G.dir, sizeof G.dir)) {
        fprintf(stderr, "thaw-faults: cannot make a scratch folder\n");
        return -1;
    }
    snprintf(G.ckpt, sizeof G.ckpt, "%s/ckpt.json", G.dir);
    if (mf_load(&G.meta, &G.prev, FX_MODEL, NULL, &err) ||
        mf_build(&G.next, &G.meta, 2, &err)) {
        fprintf(stderr, "thaw-faults: %s\n", err.msg);
        return -1;
    }
    G.prev_seed = G.meta.prov.seed;
    G.next_seed = G.prev_seed + 1;
    if (fx_save(G.next_seed, &G.next, &err)) {
        fprintf(stderr, "thaw-faults: saving %s: %s\n", G.ckpt, err.msg);
        return -1;
    }
    fx_ckpt_read(&G.next_bytes, G.ckpt);
    if (fx_loads_as(&G.next, G.next_seed))
        return -1;
    if (fx_save(G.prev_seed, &G.prev, &err)) {
        fprintf(stderr, "thaw-faults: saving %s: %s\n", G.ckpt, err.msg);
        return -1;
    }
    fx_ckpt_read(&G.prev_bytes, G.ckpt);
    if (fx_loads_as(&G.prev, G.prev_seed))
        return -1;
    if (!G.prev_bytes.json || !G.prev_bytes.weights || !G.next_bytes.json ||
        !G.next_bytes.weights || fx_temps(G.dir, 0)) {
        fprintf(stderr, "thaw-faults: an undisturbed save in %s did not leave exactly "
                "its two files\n", G.dir);
        return -1;
    }
    return 0;
}

static void fx_teardown(void)
{
    fx_ckpt_free(&G.prev_bytes);
    fx_ckpt_free(&G.next_bytes);
    model_free(&G.prev);
    model_free(&G.next);
    mf_meta_free(&G.meta);
    fx_rmdir(G.dir);
}

/* ---- section 1: allocation failures ------------------------------------- */

static uint64_t fx_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

typedef struct fx_op fx_op;
struct fx_op {
    const char *name;
    /* Runs the operation and frees what it made; on success a hash of the
     * result into *digest, on failure whether its outputs were left filled
     * into *filled. */
    int (*run)(const fx_op *op, thaw_err *err, uint64_t *digest, int *filled);
    const char *arg;   /* the model file or the data spec */
    int classes;       /* a model load's new head; 0: the file's */
};

static int fx_run_load(const fx_op *op, thaw_err *err, uint64_t *digest, int *filled)
{
    mf_meta meta;
    model m;
    mf_load_opts opt = { .classes = op->classes, .seed = 1 };
    int rc = mf_load(&meta, &m, op->arg, &opt, err);
    if (rc) {
        *filled = meta.arch || meta.class_name || meta.frozen || m.root || m.param || m.slice;
        return rc;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int s = 0; s < m.nslice; s++) {
        h = fx_hash(h, m.slice[s].name, strlen(m.slice[s].name));
        h = fx_hash(h, model_param(&m, s), m.slice[s].len * sizeof(float));
    }
    for (int c = 0; c < meta.nclass; c++)
        h = fx_hash(h, meta.class_name[c], strlen(meta.class_name[c]));
    *digest = h;
    mf_meta_free(&meta);
    model_free(&m);
    return rc;
}

static int fx_run_import(const fx_op *op, thaw_err *err, uint64_t *digest, int *filled)
{
    mf_meta meta;
    model m;
    int rc = tfjs_import(&meta, &m, NULL, op->arg, NULL, err);
    if (rc) {
        *filled = meta.arch || meta.class_name || m.root || m.param || m.slice;
        return rc;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int s = 0; s < m.nslice; s++) {
        h = fx_hash(h, m.slice[s].name, strlen(m.slice[s].name));
        h = fx_hash(h, model_param(&m, s), m.slice[s].len * sizeof(float));
    }
    for (int c = 0; c < meta.nclass; c++)
        h = fx_hash(h, meta.class_name[c], strlen(meta.class_name[c]));
    *digest = h;
    mf_meta_free(&meta);
    model_free(&m);
    return rc;
}

static int fx_run_task(const fx_op *op, thaw_err *err, uint64_t *digest, int *filled)
{
    task t;
    int rc = task_load(&t, op->arg, NULL, 1, err);
    if (rc) {
        static const task zero;
        *filled = memcmp(&t, &zero, sizeof t) != 0;
        return rc;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    size_t px = shape3_count(t.geom.in);
    for (int k = 0; k < t.nclass; k++)
        h = fx_hash(h, t.name[k], strlen(t.name[k]));
    for (int s = 0; s < TASK_SPLITS; s++) {
        const ds_split *sp = &t.split[s];
        h = fx_hash(h, &sp->n, sizeof sp->n);
        if (sp->x)
            h = fx_hash(h, sp->x, (size_t)sp->n * px * sizeof(float));
        if (sp->x8)
            h = fx_hash(h, sp->x8, (size_t)sp->n * px);
        if (sp->y)
            h = fx_hash(h, sp->y, (size_t)sp->n * sizeof(int));
    }
    *digest = h;
    task_free(&t);
    return rc;
}

static int fx_run_save(const fx_op *op, thaw_err *err, uint64_t *digest, int *filled)
{
    (void)op;
    *digest = 0;
    *filled = 0;
    return fx_save(G.next_seed, &G.next, err);
}

static const fx_op fx_ops[] = {
    { "load model " FX_MODEL, fx_run_load, FX_MODEL, 0 },
    { "load model, with a new 3-class head", fx_run_load, FX_MODEL, 3 },
    { "load shapes (built in)", fx_run_task, "shapes:classes=0-3,shots=4,val=4,n=10,test=4", 0 },
    { "load IDX (mini MNIST, gzipped and raw)", fx_run_task,
      "mnist:dir=" FX_DATA "mnist,classes=0-4,shots=2,val=1", 0 },
    { "load CIFAR-10 binary batches", fx_run_task,
      "cifar10:dir=" FX_DATA "cifar/good,classes=0,1,8,9", 0 },
    { "load image folder (PNG and JPEG)", fx_run_task,
      "folder:dir=" FX_DATA "images/good,testdir=" FX_DATA "images/testdir,size=8", 0 },
    { "import TF.js (Teachable Machine)", fx_run_import,
      "tests/data/import/teachable/model.json", 0 },
    { "import TF.js (quantised)", fx_run_import, "tests/data/import/quant/model.json",
      0 },
    { "save checkpoint over a previous one", fx_run_save, NULL, 0 },
};

/* Runs op with the at-th allocation failing (0: none); checks what it left. */
static int fx_alloc_case(const fx_op *op, long at, uint64_t want, uint64_t *digest)
{
    char where[512];
    snprintf(where, sizeof where, "%s: allocation #%ld", op->name, at);
    snprintf(fx_case, sizeof fx_case, "%s", where);
    thaw_err err = { 0 };
    int filled = 0, fds = fx_open_fds();
    *digest = 0;
    fault_start(at ? FAULT_ALLOC : FAULT_NONE, at, ENOMEM);
    int rc = op->run(op, &err, digest, &filled);
    fault_stop();
    if (verbose)
        printf("    %s: %s%s%s\n", where, thaw_status_name(rc), rc ? ": " : "", rc ? err.msg : "");
    if (at && !fault_fired())
        fx_report(where, FX_NOT_REACHED, "%ld allocations", fault_calls(FAULT_ALLOC));
    long seq;
    size_t size;
    long leaked = fault_live(&seq, &size);
    if (leaked)
        fx_report(where, FX_LEAK, "%ld blocks, the first from allocation #%ld (%zu bytes)%s%s",
                  leaked, seq, size, rc ? "; the error: " : "", rc ? err.msg : "");
    if (fx_open_fds() != fds)
        fx_report(where, FX_FD_LEAK, "%d", fx_open_fds() - fds);
    if (rc && !err.msg[0])
        fx_report(where, FX_NO_MESSAGE, "status %d", rc);
    else if (rc && at && rc != THAW_ENOMEM)
        fx_report(where, FX_WRONG_CODE, "%s (%d) instead of %s: %s", thaw_status_name(rc), rc,
                  thaw_status_name(THAW_ENOMEM), err.msg);
    if (rc && filled)
        fx_report(where, FX_NOT_EMPTY, "%s", err.msg);
    if (!rc && at && *digest != want)
        fx_report(where, FX_WRONG_RESULT, "the result's hash differs");
    if (op->run == fx_run_save)
        fx_check_save(where, rc, &err, 0, NULL);
    return rc;
}

static long fx_section_alloc(void)
{
    printf("1. allocation failures (the N-th allocation fails, for every N)\n");
    long total = 0;
    for (size_t i = 0; i < sizeof fx_ops / sizeof fx_ops[0]; i++) {
        const fx_op *op = &fx_ops[i];
        uint64_t want, got;
        if (fx_alloc_case(op, 0, 0, &want)) {
            printf("    FAIL %s: the undisturbed run failed\n", op->name);
            unexpected++;
            continue;
        }
        long n = fault_calls(FAULT_ALLOC), failed = 0;
        fx_tally t = { 0 };
        for (long at = 1; at <= n; at++) {
            fx_case_begin(&t);
            failed += fx_alloc_case(op, at, want, &got) != THAW_OK;
            fx_case_end(&t);
        }
        printf("  %-44s %4ld faults injected (%ld errors, %ld succeeded anyway)", op->name, n,
               failed, n - failed);
        fx_line_end(&t);
        total += n;
    }
    return total;
}

/* ---- section 2: I/O failures on save ------------------------------------- */

static const int fx_io_kinds[] = { FAULT_MKOSTEMP, FAULT_FCHMOD, FAULT_WRITE, FAULT_FSYNC,
                                   FAULT_CLOSE, FAULT_RENAME, FAULT_OPEN };
enum { FX_NIO = sizeof fx_io_kinds / sizeof fx_io_kinds[0] };

/* The calls of each kind an undisturbed save makes. */
static int fx_count_save_calls(long counts[FAULT_KIND_COUNT])
{
    thaw_err err = { 0 };
    fault_start(FAULT_NONE, 0, 0);
    int rc = fx_save(G.next_seed, &G.next, &err);
    fault_stop();
    for (int k = 0; k < FAULT_KIND_COUNT; k++)
        counts[k] = fault_calls(k);
    if (rc) {
        printf("    FAIL an undisturbed save failed: %s\n", err.msg);
        unexpected++;
    }
    return fx_restore() || rc ? -1 : 0;
}

static long fx_section_io(void)
{
    printf("2. I/O failures on save (the K-th call of each kind fails, for every K)\n");
    long counts[FAULT_KIND_COUNT], total = 0;
    if (fx_count_save_calls(counts))
        return 0;
    static const int errors[] = { EIO, ENOSPC, EINTR, FAULT_SHORT };
    for (int i = 0; i < FX_NIO; i++) {
        int kind = fx_io_kinds[i];
        for (size_t e = 0; e < sizeof errors / sizeof errors[0]; e++) {
            if (errors[e] == FAULT_SHORT && kind != FAULT_WRITE)
                continue;
            long outcome[FX_BAD + 1] = { 0 };
            fx_tally t = { 0 };
            for (long at = 1; at <= counts[kind]; at++) {
                fx_case_begin(&t);
                char where[256];
                snprintf(where, sizeof where, "save checkpoint: %s #%ld %s",
                         fault_kind_name(kind), at, fault_error_name(errors[e]));
                snprintf(fx_case, sizeof fx_case, "%s", where);
                thaw_err err = { 0 };
                int fds = fx_open_fds();
                fault_start(kind, at, errors[e]);
                int rc = fx_save(G.next_seed, &G.next, &err);
                fault_stop();
                if (verbose)
                    printf("    %s: %s%s%s\n", where, thaw_status_name(rc), rc ? ": " : "",
                           rc ? err.msg : "");
                if (!fault_fired())
                    fx_report(where, FX_NOT_REACHED, "%ld calls", fault_calls(kind));
                long seq;
                size_t size;
                long leaked = fault_live(&seq, &size);
                if (leaked)
                    fx_report(where, FX_LEAK, "%ld blocks, the first from allocation #%ld",
                              leaked, seq);
                if (fx_open_fds() != fds)
                    fx_report(where, FX_FD_LEAK, "%d", fx_open_fds() - fds);
                if (rc && !err.msg[0])
                    fx_report(where, FX_NO_MESSAGE, "status %d", rc);
                outcome[fx_check_save(where, rc, &err, 0, NULL)]++;
                fx_case_end(&t);
            }
            printf("  %-8s %-7s %ld faults injected (%ld saved%s, %ld failed, %ld failed after "
                   "the new checkpoint was in place)", fault_kind_name(kind),
                   fault_error_name(errors[e]), counts[kind], outcome[FX_SAVED],
                   errors[e] == EINTR && outcome[FX_SAVED] == counts[kind] ? ": retried" : "",
                   outcome[FX_FAILED], outcome[FX_COMMITTED]);
            fx_line_end(&t);
            total += counts[kind];
        }
    }
    return total;
}

/* ---- section 3: crash points ---------------------------------------------- */

static long fx_section_kill(void)
{
    printf("3. crash points (SIGKILL just before the K-th call of each kind, for every K)\n");
    long counts[FAULT_KIND_COUNT], total = 0;
    if (fx_count_save_calls(counts))
        return 0;
    for (int i = 0; i < FX_NIO; i++) {
        int kind = fx_io_kinds[i], stale = 0;
        long outcome[FX_BAD + 1] = { 0 };
        fx_tally t = { 0 };
        for (long at = 1; at <= counts[kind]; at++) {
            fx_case_begin(&t);
            char where[256];
            snprintf(where, sizeof where, "save checkpoint: SIGKILL before %s #%ld",
                     fault_kind_name(kind), at);
            snprintf(fx_case, sizeof fx_case, "%s", where);
            if (verbose)
                printf("    %s\n", where);
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                thaw_err err = { 0 };
                fault_start(kind, at, FAULT_KILL);
                fx_save(G.next_seed, &G.next, &err);
                _exit(0);
            }
            int status = 0;
            if (pid < 0 || waitpid(pid, &status, 0) != pid) {
                perror("thaw-faults: fork");
                exit(2);
            }
            if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                fx_report(where, FX_NOT_REACHED, "the child's status was %#x", status);
            outcome[fx_check_save(where, 0, NULL, 1, &stale)]++;
            fx_case_end(&t);
        }
        printf("  before %-8s %ld kills (%ld left the previous checkpoint, %ld the new one; "
               "%d stale temporary files, all removed by the next save)", fault_kind_name(kind), counts[kind],
               outcome[FX_FAILED], outcome[FX_COMMITTED], stale);
        fx_line_end(&t);
        total += counts[kind];
    }
    return total;
}

/* ---- main ------------------------------------------------------------------ */

static int fx_wanted(const char *section, int argc, char **argv)
{
    int any = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v"))
            continue;
        any = 1;
        if (!strcmp(argv[i], section))
            return 1;
    }
    return !any;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (strcmp(argv[i], "alloc") && strcmp(argv[i], "io") && strcmp(argv[i], "kill")) {
            fprintf(stderr, "usage: thaw-faults [-v] [alloc] [io] [kill]\n");
            return 2;
        }
    fault_init();
    fx_catch_crashes();
    if (fx_setup())
        return 2;
    double t0 = thaw_now_s();
    long injected = 0;
    if (fx_wanted("alloc", argc, argv))
        injected += fx_section_alloc();
    if (fx_wanted("io", argc, argv))
        injected += fx_section_io();
    if (fx_wanted("kill", argc, argv))
        injected += fx_section_kill();
    fx_case[0] = '\0';
    fx_teardown();
    double took = thaw_now_s() - t0;
    for (int i = 0; i < FX_NKNOWN; i++)
        if (known_hits[i])
            printf("known bug %d (%ld cases): %s\n", i + 1, known_hits[i], fx_known_bugs[i].bug);
    printf("thaw-faults: %ld faults injected; %ld problems explained by known library bugs, "
           "%ld unexpected; %.1f s\n", injected, known, unexpected, took);
    return unexpected ? 1 : 0;
}
