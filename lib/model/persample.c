/* Per-sample clipped gradients of a dense network without materialising
 * per-sample gradients (DP-SGD, Abadi et al. 2016).
 *
 * For a dense layer y = x W^T + b, sample i's weight gradient is the outer
 * product delta_i a_i^T of its back-propagated error delta_i (at the
 * layer's pre-activation) and its input a_i, so its squared norm is
 * ||delta_i||^2 ||a_i||^2, and the bias adds ||delta_i||^2 (the "ghost
 * norm": Goodfellow 2015, "Efficient per-example gradient computations";
 * Lee & Kifer 2021). Summed over the trainable layers that is
 * ||g_i||^2. The clipped sum sum_i c_i g_i is then the ordinary weight
 * gradient GEMM on the errors with row i scaled by c_i: one backward pass
 * whose errors are kept for every layer, the norms, and the same GEMMs as
 * lupi__model_backward. */
#include <math.h>
#include <string.h>

#include "model_internal.h"

int lupi__model_clip_scratch(const lupi_model *m, size_t n, size_t *floats)
{
	size_t width = 1, total; /* 1: the clip factor of each row */
	for (size_t l = 0; l < m->n_layers; l++)
		width += m->layers[l].out; /* <= 64 * 2^20, no overflow */
	if (lupi__mul_overflow(n, width, &total) ||
	    lupi__mul_overflow(total, sizeof(float), &(size_t){0}))
		return lupi__err(LUPI_ENOMEM, "per-sample errors of %zu rows "
				 "are too large", n);
	*floats = total;
	return LUPI_OK;
}

static void gemm(int ta, int tb, size_t m, size_t n, size_t k,
		 const float *a, size_t lda, const float *b, size_t ldb,
		 float *c, size_t ldc)
{
	lupi__gemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

/* The errors of every layer, from dsample at the output layer down. The
 * same operations in the same order as lupi__model_backward, so that with
 * no clipping the gradient is bit-identical to it. */
static void all_deltas(const lupi_model *m, const float *dsample, float **dl)
{
	size_t n = m->batch_n, top = m->n_layers - 1;
	memcpy(dl[top], dsample, n * m->n_out * sizeof *dl[top]);
	for (size_t l = top; l > 0; l--) {
		const lupi__layer *ly = &m->layers[l];
		gemm(0, 0, n, ly->in, ly->out, dl[l], ly->out, ly->w, ly->in,
		     dl[l - 1], ly->in);
		const float *d = m->pre[l - 1];
		float *x = dl[l - 1];
		size_t cnt = n * ly->in;
		for (size_t i = 0; i < cnt; i++)
			x[i] *= d[i];
	}
}

static void clip_factors(const lupi_model *m, float **dl, double clip,
			 double *norms, float *factor)
{
	for (size_t i = 0; i < m->batch_n; i++) {
		double sq = 0.0;
		for (size_t l = 0; l < m->n_layers; l++) {
			const lupi__layer *ly = &m->layers[l];
			if (ly->frozen)
				continue;
			double a2 = lupi__sumsq_lanes(m->acts[l] + i * ly->in,
						      ly->in);
			sq += lupi__sumsq_lanes(dl[l] + i * ly->out,
						ly->out) *
			      (a2 + (ly->b ? 1.0 : 0.0));
		}
		double norm = sqrt(sq);
		if (norms)
			norms[i] = norm;
		factor[i] = clip > 0.0 && norm > clip ?
			(float)(clip / norm) : 1.0f;
	}
}

int lupi__model_backward_clipped(lupi_model *m, const float *dsample,
				 double clip, float *scratch, double *norms)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(dsample);
	LUPI__CHECK_NULL(scratch);
	if (m->batch_n == 0 || m->grads == NULL)
		return lupi__err(LUPI_ESTATE,
				 "backward without a forward pass");
	size_t n = m->batch_n;
	float *dl[LUPI__MAX_LAYERS];
	float *p = scratch;
	for (size_t l = 0; l < m->n_layers; l++) {
		dl[l] = p;
		p += n * m->layers[l].out;
	}
	float *factor = p;
	all_deltas(m, dsample, dl);
	clip_factors(m, dl, clip, norms, factor);
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		float *gw = m->grads + (ly->w - m->params);
		float *gb = ly->b ? m->grads + (ly->b - m->params) : NULL;
		if (ly->frozen) {
			memset(gw, 0, ly->in * ly->out * sizeof *gw);
			if (gb)
				memset(gb, 0, ly->out * sizeof *gb);
			continue;
		}
		float *x = dl[l];
		for (size_t i = 0; i < n; i++)
			if (factor[i] != 1.0f)
				for (size_t j = 0; j < ly->out; j++)
					x[i * ly->out + j] *= factor[i];
		lupi__gemm_rows(1, 0, ly->out, ly->in, n, 1.0f, x, ly->out,
				m->acts[l], ly->in, 0.0f, gw, ly->in);
		if (gb) {
			memset(gb, 0, ly->out * sizeof *gb);
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < ly->out; j++)
					gb[j] += x[i * ly->out + j];
		}
	}
	return LUPI_OK;
}
