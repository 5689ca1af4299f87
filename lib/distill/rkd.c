/*
 * Relational knowledge distillation (Park, Kim, Lu & Cho 2019, "Relational
 * Knowledge Distillation"), as in the authors' code, with smooth L1 (Huber,
 * delta 1) l_d:
 *
 * Distance: psi_ij = |x_i - x_j| / mu, mu the mean distance over pairs
 * i != j; L = 1/m^2 sum_ij l_d(psi^s_ij - psi^t_ij) (the diagonal is 0 on
 * both sides). With h_ij = l_d'(.) / m^2 and S = sum_ij h_ij d_ij:
 * dL/dd_ij = h_ij / mu - S / (mu^2 m (m - 1)), then through d_ij = |x_i-x_j|.
 * A set with all points equal (mu = 0) has psi = 0. (The authors' code
 * averages the non-zero distances; the two differ only for duplicates.)
 *
 * Angle: e_ab = (x_b - x_a) / |x_b - x_a| (0 when b = a), angle
 * <e_ab, e_ac>; L = 1/m^3 sum_abc l_d(angle^s_abc - angle^t_abc). It is
 * computed one anchor a at a time (an m x m Gram matrix of the e_ab), so
 * scratch is O(m^2 + m d), never m^2 d.
 */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

#define NORM_FLOOR 1e-12 /* F.normalize's eps */

/* Pairwise distances (m x m, in place of the Gram matrix g) and their mean
 * over i != j. diag is m doubles of scratch. */
static double distances(const float *x, size_t m, size_t d, float *g,
			double *diag)
{
	lupi__gemm(0, 1, m, m, d, 1.0f, x, d, x, d, 0.0f, g, m);
	for (size_t i = 0; i < m; i++)
		diag[i] = g[i * m + i];
	double sum = 0.0;
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < m; j++) {
			double d2 = diag[i] + diag[j] - 2.0 * g[i * m + j];
			double dist = i == j || d2 <= 0.0 ? 0.0 : sqrt(d2);
			g[i * m + j] = (float)dist;
			sum += dist;
		}
	}
	return m > 1 ? sum / ((double)m * (double)(m - 1)) : 0.0;
}

int lupi__feature_rkd_dist(lupi_loss *l, size_t m, size_t ds,
			   const float *fs, size_t dt, const float *ft,
			   int update, double *value, float *grad)
{
	(void)update;
	size_t mb = m * m * sizeof(float);
	size_t need = 2 * lupi__arena_size(mb) +
		      lupi__arena_size(m * sizeof(double));
	LUPI__TRY(lupi__arena_reserve(&l->work, need));
	float *a = lupi__arena_alloc(&l->work, mb);  /* student, then A */
	float *b = lupi__arena_alloc(&l->work, mb);  /* teacher */
	double *diag = lupi__arena_alloc(&l->work, m * sizeof(double));
	double mus = distances(fs, m, ds, a, diag);
	double mut = distances(ft, m, dt, b, diag);
	double is = mus > 0.0 ? 1.0 / mus : 0.0;
	double it = mut > 0.0 ? 1.0 / mut : 0.0;
	double mm = (double)m * (double)m, v = 0.0, sum_hd = 0.0, dh;
	for (size_t i = 0; i < m * m; i++) {
		v += lupi__huber(a[i] * is - b[i] * it, &dh);
		sum_hd += dh / mm * a[i];
	}
	*value = v / mm;
	double corr = m > 1 ? sum_hd * is * is / (mm - (double)m) : 0.0;
	/* A_ij = (dL/dd_ij + dL/dd_ji) / d_ij = 2 dL/dd_ij / d_ij. */
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < m; j++) {
			float *p = &a[i * m + j];
			if (*p <= 0.0f) {
				*p = 0.0f;
				continue;
			}
			lupi__huber(*p * is - b[i * m + j] * it, &dh);
			*p = (float)(2.0 * (dh / mm * is - corr) / *p);
		}
	}
	/* grad_i = sum_j A_ij (x_i - x_j) = rowsum(A)_i x_i - (A x)_i */
	lupi__gemm(0, 0, m, ds, m, -1.0f, a, m, fs, ds, 0.0f, grad, ds);
	for (size_t i = 0; i < m; i++) {
		double r = 0.0;
		for (size_t j = 0; j < m; j++)
			r += a[i * m + j];
		for (size_t k = 0; k < ds; k++)
			grad[i * ds + k] += (float)(r * fs[i * ds + k]);
	}
	return LUPI_OK;
}

/* Unit differences e_ab (row b) for anchor a, norms into nrm. */
static void unit_diffs(const float *x, size_t m, size_t d, size_t a,
		       float *e, double *nrm, float *tmp)
{
	for (size_t b = 0; b < m; b++) {
		for (size_t k = 0; k < d; k++)
			tmp[k] = x[b * d + k] - x[a * d + k];
		nrm[b] = lupi__normalize_row(tmp, d, NORM_FLOOR, e + b * d);
	}
}

int lupi__feature_rkd_angle(lupi_loss *l, size_t m, size_t ds,
			    const float *fs, size_t dt, const float *ft,
			    int update, double *value, float *grad)
{
	(void)update;
	size_t mb = m * m * sizeof(float), dmax = ds > dt ? ds : dt;
	size_t need = 2 * lupi__arena_size(mb) +
		      2 * lupi__arena_size(m * ds * sizeof(float)) +
		      lupi__arena_size(m * dt * sizeof(float)) +
		      2 * lupi__arena_size(m * sizeof(double)) +
		      2 * lupi__arena_size(dmax * sizeof(float));
	LUPI__TRY(lupi__arena_reserve(&l->work, need));
	float *as = lupi__arena_alloc(&l->work, mb);
	float *at = lupi__arena_alloc(&l->work, mb);
	float *es = lupi__arena_alloc(&l->work, m * ds * sizeof(float));
	float *ge = lupi__arena_alloc(&l->work, m * ds * sizeof(float));
	float *et = lupi__arena_alloc(&l->work, m * dt * sizeof(float));
	double *ns = lupi__arena_alloc(&l->work, m * sizeof(double));
	double *nt = lupi__arena_alloc(&l->work, m * sizeof(double));
	float *tmp = lupi__arena_alloc(&l->work, dmax * sizeof(float));
	float *du = lupi__arena_alloc(&l->work, dmax * sizeof(float));
	double m3 = (double)m * (double)m * (double)m, v = 0.0, dh;
	memset(grad, 0, m * ds * sizeof *grad);
	for (size_t a = 0; a < m; a++) {
		unit_diffs(fs, m, ds, a, es, ns, tmp);
		unit_diffs(ft, m, dt, a, et, nt, tmp);
		lupi__gemm(0, 1, m, m, ds, 1.0f, es, ds, es, ds, 0.0f, as, m);
		lupi__gemm(0, 1, m, m, dt, 1.0f, et, dt, et, dt, 0.0f, at, m);
		/* H (into as), symmetric; dL/dE = 2 H E. */
		for (size_t i = 0; i < m * m; i++) {
			v += lupi__huber((double)as[i] - at[i], &dh);
			as[i] = (float)(2.0 * dh / m3);
		}
		lupi__gemm(0, 0, m, ds, m, 1.0f, as, m, es, ds, 0.0f, ge, ds);
		for (size_t b = 0; b < m; b++) {
			if (b == a)
				continue;
			lupi__normalize_row_backward(es + b * ds, ns[b],
						     NORM_FLOOR, ge + b * ds,
						     ds, du);
			for (size_t k = 0; k < ds; k++) {
				grad[b * ds + k] += du[k];
				grad[a * ds + k] -= du[k];
			}
		}
	}
	*value = v / m3;
	return LUPI_OK;
}
