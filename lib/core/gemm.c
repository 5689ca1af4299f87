/* The only file that calls BLAS, and where thread counts are decided: the
 * process-wide count of lupi_set_num_threads(), the BLAS's own count (1),
 * and the split of large GEMMs over the library's threads (pool.c). */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_internal.h"

/* A GEMM is split over the library's threads (lib/core/pool.c) when each
 * part gets at least this many multiply-adds; below, the hand-off costs
 * more than the second core saves. */
#define PART_MACS (1u << 18)

/* The BLAS is kept at one thread (each part of a split GEMM is one
 * single-threaded call). That count is set through whichever BLAS the
 * process has: the CBLAS interface has no such call, and with -Dblas=cblas
 * the provider is
 * Debian's libblas.so.3 alternative, chosen after the build. So the setter
 * is looked up at run time, once, in the scope liblupi's own symbols
 * resolve in (RTLD_DEFAULT: the program, and liblupi's dependencies even
 * when a binding dlopen()ed it RTLD_LOCAL). The trade-off: a BLAS linked
 * statically into a program that does not export its symbols, or one that
 * is none of these three, keeps its own thread count (OPENBLAS_NUM_THREADS,
 * BLIS_NUM_THREADS, MKL_NUM_THREADS, OMP_NUM_THREADS). */
static void (*set_int)(int);         /* OpenBLAS, MKL */
static void (*set_dim)(int64_t);     /* BLIS: dim_t, 64 bits */
static int (*get_openblas)(void);    /* openblas_get_num_threads */
static pthread_once_t setter_once = PTHREAD_ONCE_INIT;

static void find_setter(void)
{
	/* ISO C has no object-to-function pointer conversion (-Wpedantic);
	 * POSIX guarantees that copying dlsym()'s result works. */
	static const char *const names[] = {"openblas_set_num_threads",
					    "MKL_Set_Num_Threads"};
	void *g = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
	if (g)
		memcpy(&get_openblas, &g, sizeof g);
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		void *f = dlsym(RTLD_DEFAULT, names[i]);
		if (f) {
			memcpy(&set_int, &f, sizeof f);
			return;
		}
	}
	void *f = dlsym(RTLD_DEFAULT, "bli_thread_set_num_threads");
	if (f)
		memcpy(&set_dim, &f, sizeof f);
}

/* OpenBLAS's self-description and the core type its kernels were chosen
 * for, looked up like the setter: results depend on the kernels in their
 * last bits (doc/performance.md), so a host records them with results. */
static const char *(*blas_config)(void);
static const char *(*blas_core)(void);
static pthread_once_t info_once = PTHREAD_ONCE_INIT;

static void find_info(void)
{
	void *f = dlsym(RTLD_DEFAULT, "openblas_get_config");
	if (f)
		memcpy(&blas_config, &f, sizeof f);
	f = dlsym(RTLD_DEFAULT, "openblas_get_corename");
	if (f)
		memcpy(&blas_core, &f, sizeof f);
}

/* Whether another BLAS than OpenBLAS was told its one thread. */
static atomic_int blas_told;

/* Every GEMM, on any of the library's threads, so only loads when nothing
 * is to be done. OpenBLAS is asked (a load of a global): a host that
 * changed its count behind liblupi's back must not make each part of a
 * split GEMM start threads of its own. */
static void blas_one_thread(void)
{
	pthread_once(&setter_once, find_setter);
	if (get_openblas ? get_openblas() == 1
			 : atomic_load_explicit(&blas_told,
						memory_order_relaxed))
		return;
	if (set_int)
		set_int(1);
	else if (set_dim)
		set_dim(1);
	atomic_store_explicit(&blas_told, 1, memory_order_relaxed);
}

/* 0 = not set by the host: the environment's count, else all cores. Read
 * by every GEMM, possibly in several threads. */
static atomic_int num_threads;
static int default_threads;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

/* A positive count in an environment variable, else 0. */
static int env_count(const char *name)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	return *end == '\0' && n >= 1 ? (n > 1024 ? 1024 : (int)n) : 0;
}

/* Counted once: sysconf reads /sys, and lupi__gemm asks on every call.
 * A host that did not call lupi_set_num_threads() gets what its
 * environment asks the BLAS for (OPENBLAS_NUM_THREADS, then
 * OMP_NUM_THREADS, as OpenBLAS reads them), else every core. */
static void count_default(void)
{
	int n = env_count("OPENBLAS_NUM_THREADS");
	if (n == 0)
		n = env_count("OMP_NUM_THREADS");
	if (n == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		n = c < 1 ? 1 : c > 1024 ? 1024 : (int)c;
	}
	default_threads = n;
}

static int all_threads(void)
{
	pthread_once(&default_once, count_default);
	return default_threads;
}

int lupi_set_num_threads(int n)
{
	if (n < 0 || n > 1024)
		return lupi__err(LUPI_ERANGE,
				 "thread count %d is outside [0, 1024]", n);
	atomic_store(&num_threads, n);
	return LUPI_OK;
}

int lupi_get_num_threads(void)
{
	int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
	return n ? n : all_threads();
}

struct gemm_job {
	int ta, tb, by_rows;
	size_t m, n, k, lda, ldb, ldc;
	float alpha, beta;
	const float *a, *b;
	float *c;
};

static void sgemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		  const float *a, size_t lda, const float *b, size_t ldb,
		  float beta, float *c, size_t ldc)
{
	if (m == 0 || n == 0)
		return;
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha,
		    a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

/* One block of C: rows [i0, i1) or columns [j0, j1), in multiples of 16
 * (the widest register blocks of the kernels). */
static void gemm_part(void *ctx, unsigned part, unsigned parts)
{
	const struct gemm_job *g = ctx;
	size_t lo, hi;
	if (g->by_rows) {
		lupi__split(g->m, part, parts, 16, &lo, &hi);
		const float *a = g->ta ? g->a + lo : g->a + lo * g->lda;
		sgemm(g->ta, g->tb, hi - lo, g->n, g->k, g->alpha, a, g->lda,
		      g->b, g->ldb, g->beta, g->c + lo * g->ldc, g->ldc);
	} else {
		lupi__split(g->n, part, parts, 16, &lo, &hi);
		const float *b = g->tb ? g->b + lo * g->ldb : g->b + lo;
		sgemm(g->ta, g->tb, g->m, hi - lo, g->k, g->alpha, g->a,
		      g->lda, b, g->ldb, g->beta, g->c + lo, g->ldc);
	}
}

/* by_rows: -1 chooses (below), 1 rows, 0 columns. */
static void gemm_split(int ta, int tb, size_t m, size_t n, size_t k,
		       float alpha, const float *a, size_t lda, const float *b,
		       size_t ldb, float beta, float *c, size_t ldc, int by_rows)
{
	blas_one_thread();
	double macs = (double)m * (double)n * (double)k;
	unsigned parts = lupi__parallel_parts(macs, PART_MACS);
	/* Each part packs the whole of the operand it shares with the
	 * others: split the side that makes that operand the smaller one
	 * (columns of C share op(A), m x k; rows share op(B), k x n). */
	if (by_rows < 0)
		by_rows = m > n;
	size_t len = by_rows ? m : n;
	if (parts > (len + 15) / 16)
		parts = (unsigned)((len + 15) / 16);
	if (parts <= 1) {
		sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
		return;
	}
	struct gemm_job g = {ta, tb, by_rows, m, n, k, lda, ldb, ldc,
			     alpha, beta, a, b, c};
	lupi__parallel(gemm_part, &g, parts);
}

void lupi__gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		const float *a, size_t lda, const float *b, size_t ldb,
		float beta, float *c, size_t ldc)
{
	gemm_split(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, -1);
}

void lupi__gemm_rows(int ta, int tb, size_t m, size_t n, size_t k,
		     float alpha, const float *a, size_t lda, const float *b,
		     size_t ldb, float beta, float *c, size_t ldc)
{
	gemm_split(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, 1);
}

void lupi__gemm_serial(int ta, int tb, size_t m, size_t n, size_t k,
		       float alpha, const float *a, size_t lda, const float *b,
		       size_t ldb, float beta, float *c, size_t ldc)
{
	blas_one_thread();
	sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int lupi_blas_info(char *buf, size_t size)
{
	LUPI__CHECK_NULL(buf);
	if (size == 0)
		return lupi__err(LUPI_EINVAL, "lupi_blas_info: size is 0");
	pthread_once(&info_once, find_info);
	const char *core = blas_core ? blas_core() : NULL;
	const char *config = blas_config ? blas_config() : NULL;
	int w;
	if (config && core)
		w = snprintf(buf, size, "%s; core %s", config, core);
	else if (config)
		w = snprintf(buf, size, "%s", config);
	else
		w = snprintf(buf, size, "unknown BLAS (not OpenBLAS)");
	if (w < 0 || (size_t)w >= size)
		return lupi__err(LUPI_ERANGE,
				 "lupi_blas_info: the description needs %d "
				 "bytes, the buffer has %zu", w + 1, size);
	return LUPI_OK;
}
