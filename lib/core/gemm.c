/* The only file that calls BLAS, and where its thread count is decided. */
#include <cblas.h>
#include <stdatomic.h>

#include "core_internal.h"

/* OpenBLAS splits a GEMM over all its threads once it exceeds a small fixed
 * size; below a few million multiply-adds the hand-off costs more than the
 * second core saves (on a loaded machine, far more). So each GEMM runs on
 * one thread when small, on lupi_get_num_threads() otherwise. */
#define PARALLEL_MACS (4u << 20)

#ifdef LUPI_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int n);
#endif

/* What the BLAS was last told (0: nothing yet), so that it is told again
 * only when the count changes. */
static atomic_int blas_threads;

void lupi__blas_set_threads(int n)
{
	if (atomic_exchange_explicit(&blas_threads, n, memory_order_relaxed) ==
	    n)
		return;
#ifdef LUPI_HAVE_OPENBLAS_THREADS
	openblas_set_num_threads(n);
#endif
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
		lupi__blas_set_threads(macs < PARALLEL_MACS ? 1 : want);
	}
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha,
		    a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
