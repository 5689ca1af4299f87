/* The library's threads (lib/core/pool.c) and the GEMM split over them
 * (lib/core/gemm.c): every part runs exactly once, on any thread count and
 * with two host threads using the pool at once; part 0 is the caller's; a
 * woken worker runs off the caller's CPU and gets its affinity back; the
 * blocks of a split GEMM land where they belong, for every transposition,
 * against a loop in double. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <stdatomic.h>
#include <stdlib.h>

#include "core/core_internal.h"
#include "testutil.h"

START_TEST(split_covers_the_range_once)
{
	static const size_t ns[] = {0, 1, 15, 16, 17, 100, 1000};
	for (size_t t = 0; t < sizeof ns / sizeof *ns; t++)
		for (unsigned parts = 1; parts <= 7; parts++)
			for (size_t align = 1; align <= 16; align *= 4) {
				size_t next = 0;
				for (unsigned k = 0; k < parts; k++) {
					size_t lo, hi;
					lupi__split(ns[t], k, parts, align, &lo,
						    &hi);
					ck_assert_uint_eq(lo, next);
					ck_assert_uint_le(lo, hi);
					if (hi < ns[t])
						ck_assert_uint_eq(hi % align, 0);
					next = hi;
				}
				ck_assert_uint_eq(next, ns[t]);
			}
}
END_TEST

#define MAXP 16

struct count {
	atomic_int runs[MAXP];
	atomic_int bad;
};

static void count_part(void *ctx, unsigned part, unsigned parts)
{
	struct count *c = ctx;
	if (part >= parts || parts > MAXP)
		atomic_store(&c->bad, 1);
	else
		atomic_fetch_add(&c->runs[part], 1);
}

static void run_counted(unsigned parts)
{
	struct count c;
	for (unsigned k = 0; k < MAXP; k++)
		atomic_init(&c.runs[k], 0);
	atomic_init(&c.bad, 0);
	lupi__parallel(count_part, &c, parts);
	ck_assert_int_eq(atomic_load(&c.bad), 0);
	for (unsigned k = 0; k < MAXP; k++)
		ck_assert_int_eq(atomic_load(&c.runs[k]),
				 k < (parts ? parts : 1) ? 1 : 0);
}

START_TEST(every_part_runs_once)
{
	for (int threads = 1; threads <= 3; threads++) {
		ck_assert_int_eq(lupi_set_num_threads(threads), LUPI_OK);
		for (int rep = 0; rep < 200; rep++)
			run_counted(1 + (unsigned)rep % MAXP);
	}
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST

static void *host_thread(void *arg)
{
	(void)arg;
	for (int rep = 0; rep < 500; rep++)
		run_counted(1 + (unsigned)rep % MAXP);
	return NULL;
}

START_TEST(two_host_threads_share_the_pool)
{
	ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, host_thread, NULL), 0);
	host_thread(NULL);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST

struct owner_check {
	pthread_t caller;
	atomic_int bad;
};

static void part0_on_caller(void *ctx, unsigned part, unsigned parts)
{
	struct owner_check *c = ctx;
	(void)parts;
	if (part == 0 && !pthread_equal(pthread_self(), c->caller))
		atomic_store(&c->bad, 1);
}

/* Part 0 is always the calling thread's (a row block's buffers stay in
 * one core's caches from step to step), with workers spinning or asleep. */
START_TEST(part_zero_runs_on_the_caller)
{
	for (int threads = 2; threads <= 3; threads++) {
		ck_assert_int_eq(lupi_set_num_threads(threads), LUPI_OK);
		struct owner_check c = {pthread_self(), 0};
		for (int rep = 0; rep < 2000; rep++) {
			lupi__parallel(part0_on_caller, &c, 2 + rep % 5);
			if (rep % 500 == 0)
				usleep(2000); /* the workers fall asleep */
		}
		ck_assert_msg(atomic_load(&c.bad) == 0,
			      "part 0 ran on a worker (%d threads)", threads);
	}
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST

START_TEST(parts_follow_the_work)
{
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
	ck_assert_uint_eq(lupi__parallel_parts(1e9, 10.0), 1);
	ck_assert_int_eq(lupi_set_num_threads(4), LUPI_OK);
	ck_assert_uint_eq(lupi__parallel_parts(1e9, 10.0), 4);
	ck_assert_uint_eq(lupi__parallel_parts(25.0, 10.0), 2);
	ck_assert_uint_eq(lupi__parallel_parts(5.0, 10.0), 1);
	ck_assert_uint_eq(lupi__parallel_parts(NAN, 10.0), 1);
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST

#ifdef __linux__
struct where {
	atomic_int arrived;
	int cpu[2];
	pid_t tid[2];
};

/* Records where it runs, then waits (at most 2 s) for the other part to
 * start: each of the two parts runs on its own thread. */
static void where_part(void *ctx, unsigned part, unsigned parts)
{
	struct where *w = ctx;
	(void)parts;
	w->cpu[part] = sched_getcpu();
	w->tid[part] = (pid_t)syscall(SYS_gettid);
	atomic_fetch_add(&w->arrived, 1);
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while (atomic_load(&w->arrived) < 2 && t.tv_sec - t0.tv_sec < 2);
}

/* A worker woken from its sleep runs off the caller's CPU (Linux queues
 * it behind the caller when the other CPU looks busy, pool.c), and has its
 * own affinity back by the time it runs its part. */
START_TEST(a_woken_worker_runs_off_the_callers_cpu)
{
	cpu_set_t all, one;
	ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
	if (CPU_COUNT(&all) < 2)
		return; /* one CPU: nothing to steer */
	ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
	run_counted(2); /* the worker exists, with every CPU allowed */
	int c0 = 0;
	while (!CPU_ISSET(c0, &all))
		c0++;
	CPU_ZERO(&one);
	CPU_SET(c0, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
	usleep(100000); /* the worker goes to sleep */
	struct where w;
	atomic_init(&w.arrived, 0);
	lupi__parallel(where_part, &w, 2);
	ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
	ck_assert_int_eq(atomic_load(&w.arrived), 2);
	pid_t me = (pid_t)syscall(SYS_gettid);
	int k = w.tid[0] == me ? 1 : 0; /* the worker's part */
	ck_assert_int_ne(w.tid[k], me);
	ck_assert_int_ne(w.cpu[k], c0);
	cpu_set_t now;
	ck_assert_int_eq(sched_getaffinity(w.tid[k], sizeof now, &now), 0);
	ck_assert(CPU_EQUAL(&now, &all));
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST
#endif

/* C = alpha op(A) op(B) + beta C on shapes large enough to be split
 * (lupi__gemm: by rows when m > n, by columns otherwise; _i 1:
 * lupi__gemm_rows, always by rows), with leading dimensions wider than the
 * matrices. */
START_TEST(split_gemm_against_loops)
{
	static const size_t shapes[][3] = {{300, 70, 90}, {70, 300, 90},
					   {257, 33, 129}};
	ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
	for (size_t s = 0; s < 3; s++)
		for (int ta = 0; ta < 2; ta++)
			for (int tb = 0; tb < 2; tb++) {
				size_t m = shapes[s][0], n = shapes[s][1];
				size_t k = shapes[s][2];
				size_t lda = (ta ? m : k) + 3;
				size_t ldb = (tb ? k : n) + 5, ldc = n + 7;
				float *a = malloc((ta ? k : m) * lda * 4);
				float *b = malloc((tb ? n : k) * ldb * 4);
				float *c = malloc(m * ldc * 4);
				ck_assert(a && b && c);
				for (size_t i = 0; i < (ta ? k : m) * lda; i++)
					a[i] = (float)((i * 7) % 13) - 6.0f;
				for (size_t i = 0; i < (tb ? n : k) * ldb; i++)
					b[i] = (float)((i * 5) % 11) * 0.25f;
				for (size_t i = 0; i < m * ldc; i++)
					c[i] = (float)(i % 3);
				(_i ? lupi__gemm_rows : lupi__gemm)(
					ta, tb, m, n, k, 0.5f, a, lda, b, ldb,
					2.0f, c, ldc);
				for (size_t i = 0; i < m; i++)
					for (size_t j = 0; j < n; j++) {
						double acc = 0;
						for (size_t q = 0; q < k; q++)
							acc += (double)(ta ? a[q * lda + i] : a[i * lda + q]) *
							       (tb ? b[j * ldb + q] : b[q * ldb + j]);
						double want = 0.5 * acc +
							2.0 * (double)((i * ldc + j) % 3);
						ck_assert_double_eq_tol(
							c[i * ldc + j], want,
							1e-4 * (1 + fabs(want)));
					}
				/* the padding between rows is untouched */
				for (size_t i = 0; i < m; i++)
					for (size_t j = n; j < ldc; j++)
						ck_assert_float_eq(c[i * ldc + j],
							(float)((i * ldc + j) % 3));
				free(a), free(b), free(c);
			}
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
}
END_TEST

/* OpenBLAS's own (NULL under another BLAS). */
extern void openblas_set_num_threads(int) __attribute__((weak));
extern int openblas_get_num_threads(void) __attribute__((weak));

/* The BLAS runs on one thread inside every GEMM, serial or split, even
 * after a host set OpenBLAS's count behind the library's back. */
START_TEST(blas_kept_at_one_thread)
{
	if (!openblas_set_num_threads || !openblas_get_num_threads)
		return; /* not OpenBLAS: nothing to ask */
	static float a[64 * 64], b[64 * 64], c[64 * 64];
	for (int split = 0; split < 3; split++) {
		openblas_set_num_threads(2);
		ck_assert_int_eq(openblas_get_num_threads(), 2);
		if (split == 0)
			lupi__gemm_serial(0, 0, 64, 64, 64, 1.0f, a, 64, b, 64,
					  0.0f, c, 64);
		else
			(split == 1 ? lupi__gemm : lupi__gemm_rows)(
				0, 0, 64, 64, 64, 1.0f, a, 64, b, 64, 0.0f, c,
				64);
		ck_assert_int_eq(openblas_get_num_threads(), 1);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, split_covers_the_range_once);
	tcase_add_test(tc, every_part_runs_once);
	tcase_add_test(tc, two_host_threads_share_the_pool);
	tcase_add_test(tc, parts_follow_the_work);
	tcase_add_test(tc, part_zero_runs_on_the_caller);
#ifdef __linux__
	tcase_add_test(tc, a_woken_worker_runs_off_the_callers_cpu);
#endif
	tcase_add_loop_test(tc, split_gemm_against_loops, 0, 2);
	tcase_add_test(tc, blas_kept_at_one_thread);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
