/*
 * bench.h - the clock and the median the benchmark programs share (header
 * only: each program is one file, built by bench/meson.build).
 */
#ifndef LUPI_BENCH_H
#define LUPI_BENCH_H

#include <math.h>
#include <stdlib.h>
#include <time.h>

/* Seconds on clock id (CLOCK_MONOTONIC: wall time). */
static inline double bench_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline double bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

/* The process's CPU time (every thread's). */
static inline double bench_cpu_now(void)
{
	return bench_clock(CLOCK_PROCESS_CPUTIME_ID);
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n) (sorted in place), NAN for none. */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, bench_cmp);
	return n == 0 ? NAN : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
