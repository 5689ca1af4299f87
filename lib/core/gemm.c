/* The only file that calls BLAS, and where its thread count is decided:
 * the process-wide count of lupi_set_num_threads() lives here too. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <cblas.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core_internal.h"

/* OpenBLAS splits a GEMM over all its threads once it exceeds a small fixed
 * size; below a few million multiply-adds the hand-off costs more than the
 * second core saves (on a loaded machine, far more). So each GEMM runs on
 * one thread when small, on lupi_get_num_threads() otherwise. */
#define PARALLEL_MACS (4u << 20)

/* The thread count is set through whichever BLAS the process has: the
 * CBLAS interface has no such call, and with -Dblas=cblas the provider is
 * Debian's libblas.so.3 alternative, chosen after the build. So the setter
 * is looked up at run time, once, in the scope liblupi's own symbols
 * resolve in (RTLD_DEFAULT: the program, and liblupi's dependencies even
 * when a binding dlopen()ed it RTLD_LOCAL). The trade-off: a BLAS linked
 * statically into a program that does not export its symbols, or one that
 * is none of these three, keeps its own thread count (OPENBLAS_NUM_THREADS,
 * BLIS_NUM_THREADS, MKL_NUM_THREADS, OMP_NUM_THREADS). */
static void (*set_int)(int);         /* OpenBLAS, MKL */
static void (*set_dim)(int64_t);     /* BLIS: dim_t, 64 bits */
static pthread_once_t setter_once = PTHREAD_ONCE_INIT;

static void find_setter(void)
{
	/* ISO C has no object-to-function pointer conversion (-Wpedantic);
	 * POSIX guarantees that copying dlsym()'s result works. */
	static const char *const names[] = {"openblas_set_num_threads",
					    "MKL_Set_Num_Threads"};
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

/* What the BLAS was last told (0: nothing yet), so that it is told again
 * only when the count changes. */
static atomic_int blas_threads;

static void blas_set_threads(int n)
{
	if (atomic_exchange_explicit(&blas_threads, n, memory_order_relaxed) ==
	    n)
		return;
	pthread_once(&setter_once, find_setter);
	if (set_int)
		set_int(n);
	else if (set_dim)
		set_dim(n);
}

/* 0 = not set: all cores. Read by every GEMM, possibly in several threads. */
static atomic_int num_threads;
static int cores;
static pthread_once_t cores_once = PTHREAD_ONCE_INIT;

static void count_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cores = n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

/* Counted once: sysconf reads /sys, and lupi__gemm asks on every call. */
static int all_cores(void)
{
	pthread_once(&cores_once, count_cores);
	return cores;
}

int lupi_set_num_threads(int n)
{
	if (n < 0 || n > 1024)
		return lupi__err(LUPI_ERANGE,
				 "thread count %d is outside [0, 1024]", n);
	atomic_store(&num_threads, n);
	blas_set_threads(n ? n : all_cores());
	return LUPI_OK;
}

int lupi_get_num_threads(void)
{
	int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
	return n ? n : all_cores();
}

void lupi__gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		const float *a, size_t lda, const float *b, size_t ldb,
		float beta, float *c, size_t ldc)
{
	if (m == 0 || n == 0)
		return;
	int want = lupi_get_num_threads();
	if (want > 1) {
		double macs = (double)m * (double)n * (double)k;
		blas_set_threads(macs < PARALLEL_MACS ? 1 : want);
	}
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha,
		    a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
