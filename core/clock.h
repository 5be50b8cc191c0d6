/* clock.h — the one monotonic clock thaw times things with: training
 * seconds, images per second, frame pacing.
 *
 *     double t0 = thaw_now_s();
 *     ... work ...
 *     double took = thaw_now_s() - t0;       // seconds, never negative
 */
#ifndef THAW_CLOCK_H
#define THAW_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. Cannot fail. */
double thaw_now_s(void);

#endif
