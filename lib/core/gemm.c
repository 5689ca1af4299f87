/* The only file that calls BLAS. */
#include <cblas.h>

#include "core_internal.h"

void lupi__gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		const float *a, size_t lda, const float *b, size_t ldb,
		float beta, float *c, size_t ldc)
{
	if (m == 0 || n == 0)
		return;
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
		    tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha,
		    a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

#ifdef LUPI_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int n);
#endif

void lupi__blas_set_threads(int n)
{
#ifdef LUPI_HAVE_OPENBLAS_THREADS
	openblas_set_num_threads(n);
#else
	(void)n;
#endif
}
