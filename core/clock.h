/* clock.h — a monotonic clock for timing: frame costs, steps, key latency.
 *
 *     double t0 = thaw_now_s();
 *     ... work ...
 *     double took = thaw_now_s() - t0;
 *
 * Seconds since an unspecified start (CLOCK_MONOTONIC), so only differences
 * mean anything; never goes back when the wall clock is set. thaw_deadline
 * is the exception, for timed waits. */
#ifndef THAW_CLOCK_H
#define THAW_CLOCK_H

#include <time.h>

double thaw_now_s(void);

/* The wall-clock moment ms milliseconds from now, for pthread_cond_timedwait
 * (whose default clock is CLOCK_REALTIME). */
struct timespec thaw_deadline(int ms);

#endif
