/* par.h — a small pool of threads for the passes of one model.
 *
 * par_run hands out tasks 0..n-1 to the pool's threads and to the calling
 * thread, which takes part as worker 0, and returns when every task is done.
 * Tasks are claimed one at a time from a shared counter, so a thread that
 * the system deschedules delays only the task it holds; threads that have
 * no task sleep on a condition variable and never spin.
 *
 * Which thread runs a task differs from run to run; what a task computes
 * must not. The passes split their work into tasks that depend on the batch
 * alone, each writing its own outputs (or its own partial sum, which
 * par_sum adds in task order), so a model computes the same bits with any
 * number of threads.
 *
 *     par_pool *p;
 *     if (par_new(&p, 4, &err)) ... report err.msg ...
 *     par_run(p, ntasks, fn, ctx);        // fn(ctx, task, worker), worker < par_threads(p)
 *     par_free(p);
 *
 * A NULL pool runs every task on the caller, in order.
 */
#ifndef THAW_PAR_H
#define THAW_PAR_H

#include <stddef.h>

#include "status.h"

typedef struct par_pool par_pool;
typedef void (*par_fn)(void *ctx, int task, int worker);

/* A pool of `threads` workers in all (threads - 1 of them started here);
 * threads 1 gives *out = NULL, which runs inline. */
int par_new(par_pool **out, int threads, thaw_err *err);
void par_free(par_pool *p);

/* The workers a task may be given to: 1 for a NULL pool. */
int par_threads(const par_pool *p);

void par_run(par_pool *p, int ntasks, par_fn fn, void *ctx);

/* dst[i] += parts[0][i] + parts[1][i] + ... + parts[k-1][i] for i < n, the
 * parts n floats apart, added in that order whatever the thread count. */
void par_sum(par_pool *p, float *dst, const float *parts, size_t n, int k);

/* The thread count models start with, from one place: an explicit value
 * (from a command-line option) when > 0, else THAW_THREADS, else the
 * processors online (at most PAR_THREADS_MAX). Returns the count now in
 * force; THAW_EINVAL (negative) leaves it unchanged and is returned when
 * THAW_THREADS holds something other than a count in 1..PAR_THREADS_MAX. */
#define PAR_THREADS_MAX 64
int thaw_threads_set(int requested);
int thaw_threads(void);

#endif
