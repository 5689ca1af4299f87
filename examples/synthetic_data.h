/*
 * synthetic_data.h - the data generator of the four synthetic experiments
 * of Lopez-Paz, Bottou, Schoelkopf & Vapnik (ICLR 2016, section 4.1),
 * shared by synthetic.c and families.c (see synthetic.c for the
 * experiments). Included by one translation unit each: static functions.
 */
#ifndef LUPI_EXAMPLES_SYNTHETIC_DATA_H
#define LUPI_EXAMPLES_SYNTHETIC_DATA_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define D 50
#define N_TEST 1000

/* The dimension of x* in experiment e. */
static size_t privileged_dim(int e)
{
	return e == 1 ? 1 : e == 2 ? D : 3;
}

static uint64_t rng_state = 1;

static double uniform(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return ((double)((z ^ (z >> 31)) >> 11) + 0.5) * 0x1p-53;
}

static double gauss(void)
{
	return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
}

/* Three distinct coordinates out of D. */
static void draw_subset(size_t j[3])
{
	do {
		for (int k = 0; k < 3; k++)
			j[k] = (size_t)(uniform() * D);
	} while (j[0] == j[1] || j[0] == j[2] || j[1] == j[2]);
}

/* Fills x (n x D), xs (n x ds) and y for experiment e; returns ds. */
static size_t generate(int e, const double *alpha, size_t n, float *x,
		       float *xs, int32_t *y)
{
	for (size_t i = 0; i < n; i++) {
		float *xi = x + i * D;
		double s = 0;

		for (size_t k = 0; k < D; k++)
			xi[k] = (float)gauss();
		if (e == 1) {
			for (size_t k = 0; k < D; k++)
				s += alpha[k] * xi[k];
			xs[i] = (float)s;
			y[i] = s + gauss() > 0;
		} else if (e == 2) {
			for (size_t k = 0; k < D; k++) {
				xs[i * D + k] = xi[k];
				s += alpha[k] * xi[k];
				xi[k] += (float)gauss();
			}
			y[i] = s > 0;
		} else {
			size_t j[3] = {0, 1, 2};

			if (e == 4) /* a random set J_i for each sample */
				draw_subset(j);
			for (size_t k = 0; k < 3; k++) {
				xs[i * 3 + k] = xi[j[k]];
				s += alpha[k] * xi[j[k]];
			}
			y[i] = s > 0;
		}
	}
	return privileged_dim(e);
}

#endif
