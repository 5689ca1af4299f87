/*
 * Probabilistic knowledge transfer (Passalis & Tefas 2018, "Learning deep
 * representations with probabilistic knowledge transfer"), as in the
 * authors' cosine_similarity_loss, eps = 1e-7:
 *   x_i = f_i / (|f_i| + eps), K_ij = (x_i . x_j + 1) / 2,
 *   P_ij = K_ij / sum_l K_il (student), Q likewise (teacher),
 *   L = 1/m^2 sum_ij Q_ij log((Q_ij + eps) / (P_ij + eps)),
 * i.e. KL(teacher || student) between the conditional probabilities.
 * Backward: g_ij = -Q_ij / (P_ij + eps) / m^2,
 * dL/dK_ij = (g_ij - sum_l g_il P_il) / r_i, dL/dG = dL/dK / 2,
 * dL/dX = (D + D^T) X, then through x = f / (|f| + eps).
 */
#include <math.h>

#include "distill_internal.h"

#define PKT_EPS 1e-7

/* Row-stochastic cosine kernel of x (m x d) into k; x normalised into xn,
 * row norms into nrm, row sums into r. */
static void kernel(const float *x, size_t m, size_t d, float *xn,
		   double *nrm, float *k, double *r)
{
	for (size_t i = 0; i < m; i++) {
		nrm[i] = sqrt(lupi__sumsq(x + i * d, d));
		for (size_t j = 0; j < d; j++)
			xn[i * d + j] =
				(float)(x[i * d + j] / (nrm[i] + PKT_EPS));
	}
	lupi__gemm(0, 1, m, m, d, 1.0f, xn, d, xn, d, 0.0f, k, m);
	for (size_t i = 0; i < m; i++) {
		double s = 0.0;
		for (size_t j = 0; j < m; j++)
			s += (k[i * m + j] + 1.0) / 2.0;
		r[i] = s;
		for (size_t j = 0; j < m; j++)
			k[i * m + j] = (float)((k[i * m + j] + 1.0) / 2.0 / s);
	}
}

int lupi__feature_pkt(lupi_loss *l, size_t m, size_t ds, const float *fs,
		      size_t dt, const float *ft, int update, double *value,
		      float *grad)
{
	(void)update;
	size_t mb = m * m * sizeof(float);
	size_t need = 3 * lupi__arena_size(mb) +
		      2 * lupi__arena_size(m * ds * sizeof(float)) +
		      lupi__arena_size(m * dt * sizeof(float)) +
		      3 * lupi__arena_size(m * sizeof(double));
	LUPI__TRY(lupi__arena_reserve(&l->work, need));
	float *p = lupi__arena_alloc(&l->work, mb);
	float *q = lupi__arena_alloc(&l->work, mb);
	float *dg = lupi__arena_alloc(&l->work, mb);
	float *xs = lupi__arena_alloc(&l->work, m * ds * sizeof(float));
	float *gx = lupi__arena_alloc(&l->work, m * ds * sizeof(float));
	float *xt = lupi__arena_alloc(&l->work, m * dt * sizeof(float));
	double *ns = lupi__arena_alloc(&l->work, m * sizeof(double));
	double *rs = lupi__arena_alloc(&l->work, m * sizeof(double));
	double *tmp = lupi__arena_alloc(&l->work, m * sizeof(double));
	kernel(fs, m, ds, xs, ns, p, rs);
	kernel(ft, m, dt, xt, tmp, q, tmp);
	double mm = (double)m * (double)m, v = 0.0;
	for (size_t i = 0; i < m; i++) {
		double dot = 0.0;
		for (size_t j = 0; j < m; j++) {
			double pij = p[i * m + j], qij = q[i * m + j];
			v += qij * log((qij + PKT_EPS) / (pij + PKT_EPS));
			dot += -qij / (pij + PKT_EPS) / mm * pij;
		}
		for (size_t j = 0; j < m; j++) {
			double pij = p[i * m + j], qij = q[i * m + j];
			double g = -qij / (pij + PKT_EPS) / mm;
			dg[i * m + j] = (float)(0.5 * (g - dot) / rs[i]);
		}
	}
	*value = v / mm;
	/* D + D^T into q (no longer needed). */
	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < m; j++)
			q[i * m + j] = dg[i * m + j] + dg[j * m + i];
	lupi__gemm(0, 0, m, ds, m, 1.0f, q, m, xs, ds, 0.0f, gx, ds);
	/* x = f / (n + eps): dx/df = I / (n + eps) - f f^T / (n (n + eps)^2) */
	for (size_t i = 0; i < m; i++) {
		const float *f = fs + i * ds;
		float *g = gx + i * ds;
		double n = ns[i], a = 1.0 / (n + PKT_EPS), dot = 0.0;
		for (size_t j = 0; j < ds; j++)
			dot += (double)f[j] * g[j];
		double b = n > 0.0 ? dot * a * a / n : 0.0;
		for (size_t j = 0; j < ds; j++)
			grad[i * ds + j] = (float)(g[j] * a - f[j] * b);
	}
	return LUPI_OK;
}
