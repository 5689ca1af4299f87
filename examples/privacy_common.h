/* privacy_common.h - the error exit and random numbers shared by
 * privacy_pate.c and privacy_unlearn.c (xorshift64 uniforms, Box-Muller
 * normals). Included by one translation unit each: static functions. */
#ifndef LUPI_EXAMPLES_PRIVACY_COMMON_H
#define LUPI_EXAMPLES_PRIVACY_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lupi.h"

static void fail(const char *what, int rc)
{
	fprintf(stderr, "%s: %s (%s)\n", what, lupi_strerror(rc),
		lupi_errmsg());
	exit(1);
}
#define TRY(what, expr)                                                       \
	do {                                                                  \
		int rc_ = (expr);                                             \
		if (rc_ < 0)                                                  \
			fail(what, rc_);                                      \
	} while (0)

static uint64_t rng_s = 88172645463325252ull;
static double uniform(void)
{
	rng_s ^= rng_s << 13;
	rng_s ^= rng_s >> 7;
	rng_s ^= rng_s << 17;
	return (double)(rng_s >> 11) * 0x1.0p-53;
}
static double normal(void)
{
	double u = uniform(), v = uniform();
	return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

#endif
