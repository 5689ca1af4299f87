/* xoshiro256** (Blackman & Vigna 2018), seeded through splitmix64: a seed
 * fixes initialisation, shuffling and dropout everywhere in the library. */
#include <math.h>

#include "core_internal.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void lupi__rng_seed(lupi__rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t lupi__rng_next(lupi__rng *r)
{
	return lupi__xoshiro_next(r->s);
}

double lupi__rng_uniform(lupi__rng *r)
{
	return (double)(lupi__rng_next(r) >> 11) * 0x1.0p-53;
}

double lupi__rng_normal(lupi__rng *r)
{
	/* Box-Muller; 1 - u keeps the logarithm's argument in (0, 1]. */
	double u = 1.0 - lupi__rng_uniform(r);
	double v = lupi__rng_uniform(r);
	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

uint64_t lupi__rng_below(lupi__rng *r, uint64_t n)
{
	/* Rejection sampling removes the modulo bias. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = lupi__rng_next(r);
	while (x >= limit);
	return x % n;
}

void lupi__rng_shuffle(lupi__rng *r, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lupi__rng_below(r, i);
		size_t t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}
