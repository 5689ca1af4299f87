/* Numerically stable softmax family and small reductions, in double. */
#include <math.h>

#include "core_internal.h"

double lupi__logsumexp(const float *x, size_t k, double scale)
{
	double mx = -INFINITY;
	for (size_t i = 0; i < k; i++)
		if (x[i] * scale > mx)
			mx = x[i] * scale;
	if (!isfinite(mx))
		return mx;
	double sum = 0.0;
	for (size_t i = 0; i < k; i++)
		sum += exp(x[i] * scale - mx);
	return mx + log(sum);
}

double lupi__softmax(const float *x, size_t k, double scale, double *p)
{
	double lse = lupi__logsumexp(x, k, scale);
	for (size_t i = 0; i < k; i++)
		p[i] = exp(x[i] * scale - lse);
	return lse;
}

size_t lupi__argmax(const float *x, size_t k)
{
	size_t best = 0;
	for (size_t i = 1; i < k; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

int lupi__all_finite(const float *x, size_t n, size_t *where)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(x[i])) {
			if (where)
				*where = i;
			return 0;
		}
	}
	return 1;
}

double lupi__sumsq(const float *x, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

/* Eight independent accumulators, so that the loop vectorises without
 * reassociating (lupi__sumsq is one serial chain of dependent additions),
 * added in a fixed order: the same bits on every CPU. */
#define SUMSQ_LANES 8
LUPI__VEC_CLONES double lupi__sumsq_lanes(const float *restrict x, size_t n)
{
	double acc[SUMSQ_LANES] = {0};
	size_t i = 0;
	for (; i + SUMSQ_LANES <= n; i += SUMSQ_LANES)
#pragma omp simd
		for (size_t j = 0; j < SUMSQ_LANES; j++)
			acc[j] += (double)x[i + j] * x[i + j];
	double s = 0.0;
	for (; i < n; i++)
		s += (double)x[i] * x[i];
	for (size_t j = 0; j < SUMSQ_LANES; j++)
		s += acc[j];
	return s;
}
