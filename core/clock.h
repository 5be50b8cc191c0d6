/* clock.h — a monotonic clock for timing: frame costs, steps, key latency.
 *
 *     double t0 = thaw_now_s();
 *     ... work ...
 *     double took = thaw_now_s() - t0;
 *
 * Seconds since an unspecified start (CLOCK_MONOTONIC), so only differences
 * mean anything; never goes back when the wall clock is set. */
#ifndef THAW_CLOCK_H
#define THAW_CLOCK_H

double thaw_now_s(void);

#endif
