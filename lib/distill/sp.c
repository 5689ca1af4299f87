/*
 * Similarity-preserving distillation (Tung & Mori 2019, "Similarity-
 * Preserving Knowledge Distillation"): G = F F^T, each row L2-normalised
 * (F.normalize, eps 1e-12), L = 1/m^2 |G_s - G_t|_F^2.
 * Backward: R = 2 (G^s - G^t) / m^2 on the normalised rows, through the row
 * normalisation to dL/dG, then dL/dF = (D + D^T) F.
 */
#include "distill_internal.h"

#define NORM_FLOOR 1e-12

/* Row-normalised Gram matrix of x into g; raw Gram rows' norms into nrm,
 * using raw (m x m) as scratch. */
static void gram(const float *x, size_t m, size_t d, float *raw, float *g,
		 double *nrm)
{
	lupi__gemm(0, 1, m, m, d, 1.0f, x, d, x, d, 0.0f, raw, m);
	for (size_t i = 0; i < m; i++)
		nrm[i] = lupi__normalize_row(raw + i * m, m, NORM_FLOOR,
					     g + i * m);
}

int lupi__feature_sp(lupi_loss *l, size_t m, size_t ds, const float *fs,
		     size_t dt, const float *ft, int update, double *value,
		     float *grad)
{
	(void)update;
	size_t mb = m * m * sizeof(float);
	size_t need = 4 * lupi__arena_size(mb) +
		      lupi__arena_size(m * sizeof(double));
	LUPI__TRY(lupi__arena_reserve(&l->work, need));
	float *gs = lupi__arena_alloc(&l->work, mb);
	float *gt = lupi__arena_alloc(&l->work, mb);
	float *raw = lupi__arena_alloc(&l->work, mb);
	float *d = lupi__arena_alloc(&l->work, mb);
	double *nrm = lupi__arena_alloc(&l->work, m * sizeof(double));
	gram(ft, m, dt, raw, gt, nrm);
	gram(fs, m, ds, raw, gs, nrm);
	double mm = (double)m * (double)m, v = 0.0;
	for (size_t i = 0; i < m * m; i++) {
		double diff = (double)gs[i] - gt[i];
		v += diff * diff;
		gt[i] = (float)(2.0 * diff / mm); /* R */
	}
	*value = v / mm;
	for (size_t i = 0; i < m; i++)
		lupi__normalize_row_backward(gs + i * m, nrm[i], NORM_FLOOR,
					     gt + i * m, m, d + i * m);
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < m; j++)
			raw[i * m + j] = d[i * m + j] + d[j * m + i];
	lupi__gemm(0, 0, m, ds, m, 1.0f, raw, m, fs, ds, 0.0f, grad, ds);
	return LUPI_OK;
}
