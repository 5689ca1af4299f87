/*
 * FitNets hints (Romero et al. 2015, "FitNets: Hints for thin deep nets"):
 *   L = 1/2 mean_i |W f_s,i + b - f_t,i|^2
 * with a learned linear regressor W (dt x ds), b (dt), initialised from
 * LUPI_LOSS_OPT_SEED as nn.Linear (U(-1/sqrt(ds), 1/sqrt(ds)), b = 0), trained
 * by one Adam step of rate LUPI_LOSS_OPT_FEATURE_LR per evaluation with update
 * set. The regressor learns from the hint loss before BETA, so that its pace
 * does not depend on the weight of the loss in the student's objective.
 * dL/df_s,i = W^T r_i / m with r_i = W f_s,i + b - f_t,i.
 */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

static int hint_init(lupi_loss *l, size_t ds, size_t dt)
{
	lupi__hint *h = &l->hint;
	if (h->par.p) {
		if (h->ds != ds || h->dt != dt)
			return lupi__err(LUPI_ESHAPE, "hint regressor maps %zu "
					 "student to %zu teacher features, "
					 "got %zu and %zu", h->ds, h->dt, ds,
					 dt);
		return LUPI_OK;
	}
	size_t n;
	if (lupi__mul_overflow(ds, dt, &n) || n + dt < n)
		return lupi__err(LUPI_EINVAL, "hint regressor too large");
	LUPI__TRY(lupi__adam_alloc(&h->par, n + dt));
	h->ds = ds;
	h->dt = dt;
	lupi__rng rng;
	lupi__rng_seed(&rng, l->seed);
	lupi__init_linear(&rng, h->par.p, dt, ds);
	return LUPI_OK;
}

int lupi__loss_hint_set(lupi_loss *l, size_t ds, size_t dt, const float *w,
			const float *b)
{
	LUPI__CHECK_NULL(l);
	lupi__adam_free(&l->hint.par);
	LUPI__TRY(hint_init(l, ds, dt));
	memcpy(l->hint.par.p, w, ds * dt * sizeof *w);
	memcpy(l->hint.par.p + ds * dt, b, dt * sizeof *b);
	return LUPI_OK;
}

int lupi__feature_hint(lupi_loss *l, size_t m, size_t ds, const float *fs,
		       size_t dt, const float *ft, int update, double *value,
		       float *grad)
{
	LUPI__TRY(hint_init(l, ds, dt));
	lupi__hint *h = &l->hint;
	const float *w = h->par.p, *b = w + ds * dt;
	size_t rb = m * dt * sizeof(float), pb = h->par.n * sizeof(float);
	LUPI__TRY(lupi__arena_reserve(&l->work, lupi__arena_size(rb) +
							lupi__arena_size(pb)));
	float *r = lupi__arena_alloc(&l->work, rb);
	float *gp = lupi__arena_alloc(&l->work, pb);

	/* r = fs W^T + b - ft */
	lupi__gemm(0, 1, m, dt, ds, 1.0f, fs, ds, w, ds, 0.0f, r, dt);
	double v = 0.0;
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < dt; j++) {
			double d = (double)r[i * dt + j] + b[j] -
				   ft[i * dt + j];
			r[i * dt + j] = (float)d;
			v += d * d;
		}
	}
	*value = 0.5 * v / (double)m;
	float inv_m = (float)(1.0 / (double)m);
	/* d/d fs = r W / m */
	lupi__gemm(0, 0, m, ds, dt, inv_m, r, dt, w, ds, 0.0f, grad, ds);
	if (!update || !isfinite(*value))
		return LUPI_OK;
	/* d/dW = r^T fs / m, d/db = sum_i r_i / m */
	lupi__gemm(1, 0, dt, ds, m, inv_m, r, dt, fs, ds, 0.0f, gp, ds);
	for (size_t j = 0; j < dt; j++) {
		double s = 0.0;
		for (size_t i = 0; i < m; i++)
			s += r[i * dt + j];
		gp[ds * dt + j] = (float)(s / (double)m);
	}
	lupi__adam_step(&h->par, gp, l->feature_lr);
	return LUPI_OK;
}
