#include "par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* A job is posted by bumping the generation; tasks are claimed from one
 * 64-bit word, the generation above the next task's index, so a worker
 * that wakes late can never claim a task of a job it did not read. The
 * caller waits only for tasks that were claimed: when every worker is
 * slow to wake (another process holds the cores), the caller runs all the
 * tasks itself and returns without waiting for anyone. */
struct par_pool {
    pthread_mutex_t mu;
    pthread_cond_t go, done_cv;
    int threads, started;
    pthread_t *tid;
    /* the job in hand, written under mu */
    par_fn fn;
    void *ctx;
    int ntasks;
    unsigned gen;             /* counts jobs; a worker waits for a new one */
    int quit;
    _Atomic unsigned long long claim;   /* gen << 32 | next task */
    atomic_int done;                    /* tasks of the job finished */
};

typedef struct worker_arg {
    par_pool *p;
    int id;
} worker_arg;

/* Claims the next task of job gen: its index, or -1 when there is none. */
static int claim_task(par_pool *p, unsigned gen, int ntasks)
{
    unsigned long long c = atomic_load(&p->claim);
    for (;;) {
        if ((unsigned)(c >> 32) != gen || (int)(c & 0xffffffffu) >= ntasks)
            return -1;
        if (atomic_compare_exchange_weak(&p->claim, &c, c + 1))
            return (int)(c & 0xffffffffu);
    }
}

static void run_tasks(par_pool *p, unsigned gen, par_fn fn, void *ctx, int ntasks, int worker)
{
    int t;
    while ((t = claim_task(p, gen, ntasks)) >= 0) {
        fn(ctx, t, worker);
        if (atomic_fetch_add(&p->done, 1) + 1 == ntasks && worker) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *arg)
{
    par_pool *p = ((worker_arg *)arg)->p;
    int id = ((worker_arg *)arg)->id;
    free(arg);
    unsigned seen = 0;        /* no job has been posted before the pool is returned */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->quit)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit)
            break;
        seen = p->gen;
        par_fn fn = p->fn;
        void *ctx = p->ctx;
        int ntasks = p->ntasks;
        pthread_mutex_unlock(&p->mu);
        run_tasks(p, seen, fn, ctx, ntasks, id);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int par_new(par_pool **out, int threads, thaw_err *err)
{
    *out = NULL;
    if (threads <= 1)
        return THAW_OK;
    par_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->tid = calloc((size_t)threads, sizeof *p->tid))) {
        free(p);
        return thaw_fail(err, THAW_ENOMEM, "out of memory for a pool of %d threads", threads);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->claim, 0);
    atomic_init(&p->done, 0);
    p->threads = threads;
    for (int i = 1; i < threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (a)
            *a = (worker_arg){ p, i };
        if (!a || pthread_create(&p->tid[i], NULL, worker_main, a)) {
            free(a);
            par_free(p);
            return thaw_fail(err, THAW_ENOMEM, "could not start thread %d of %d", i + 1, threads);
        }
        p->started = i;
    }
    *out = p;
    return THAW_OK;
}

void par_free(par_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->tid[i], NULL);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    free(p->tid);
    free(p);
}

int par_threads(const par_pool *p)
{
    return p ? p->threads : 1;
}

void par_run(par_pool *p, int ntasks, par_fn fn, void *ctx)
{
    if (!p || ntasks <= 1) {
        for (int t = 0; t < ntasks; t++)
            fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&p->mu);
    unsigned gen = ++p->gen;
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store(&p->done, 0);
    atomic_store(&p->claim, (unsigned long long)gen << 32);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, gen, fn, ctx, ntasks, 0);
    if (atomic_load(&p->done) == ntasks)
        return;
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < ntasks)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* par_sum's work: a range of 4096 floats per task. */
#define SUM_SPAN 4096

typedef struct sum_job {
    float *dst;
    const float *parts;
    size_t n;
    int k;
} sum_job;

static void sum_task(void *ctx, int task, int worker)
{
    (void)worker;
    const sum_job *j = ctx;
    size_t lo = (size_t)task * SUM_SPAN, hi = lo + SUM_SPAN < j->n ? lo + SUM_SPAN : j->n;
    for (size_t i = lo; i < hi; i++) {
        float s = j->dst[i];
        for (int t = 0; t < j->k; t++)
            s += j->parts[(size_t)t * j->n + i];
        j->dst[i] = s;
    }
}

void par_sum(par_pool *p, float *dst, const float *parts, size_t n, int k)
{
    sum_job j = { dst, parts, n, k };
    par_run(p, (int)((n + SUM_SPAN - 1) / SUM_SPAN), sum_task, &j);
}

static int threads_in_force = 1;

int thaw_threads_set(int requested)
{
    int n = requested;
    if (n <= 0) {
        const char *env = getenv("THAW_THREADS");
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online < 1 ? 1 : online > PAR_THREADS_MAX ? PAR_THREADS_MAX : (int)online;
        if (env && *env) {
            char *end;
            long v = strtol(env, &end, 10);
            if (*end || v < 1 || v > PAR_THREADS_MAX)
                return -THAW_EINVAL;
            n = (int)v;
        }
    }
    if (n > PAR_THREADS_MAX)
        n = PAR_THREADS_MAX;
    threads_in_force = n;
    return n;
}

int thaw_threads(void)
{
    return threads_in_force;
}
