/*
 * What the C measurements in bench/c share: a monotonic clock in nanoseconds
 * and an order for qsort of doubles (for medians).
 */
#ifndef PANAIO_BENCH_TIMING_H
#define PANAIO_BENCH_TIMING_H

#include <time.h>

static inline double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static inline int by_value(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

#endif
