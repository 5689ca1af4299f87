/* The seeded generator: reproducible, and its distributions right. */
#include <math.h>

#include "core/core_internal.h"
#include "testutil.h"

START_TEST(same_seed_same_stream)
{
	lupi__rng a, b, c;
	lupi__rng_seed(&a, 42);
	lupi__rng_seed(&b, 42);
	lupi__rng_seed(&c, 43);
	int differs = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x = lupi__rng_next(&a);
		ck_assert_uint_eq(x, lupi__rng_next(&b));
		differs |= x != lupi__rng_next(&c);
	}
	ck_assert(differs);
}
END_TEST

START_TEST(uniform_and_normal_moments)
{
	lupi__rng r;
	lupi__rng_seed(&r, 7);
	const int n = 200000;
	double su = 0, sn = 0, sn2 = 0;
	for (int i = 0; i < n; i++) {
		double u = lupi__rng_uniform(&r);
		ck_assert(u >= 0.0 && u < 1.0);
		su += u;
		double z = lupi__rng_normal(&r);
		ck_assert(isfinite(z));
		sn += z;
		sn2 += z * z;
	}
	/* Tolerances are about 5 standard errors of each estimate. */
	ck_assert_double_eq_tol(su / n, 0.5, 5 * sqrt(1.0 / 12 / n));
	ck_assert_double_eq_tol(sn / n, 0.0, 5 * sqrt(1.0 / n));
	ck_assert_double_eq_tol(sn2 / n, 1.0, 5 * sqrt(2.0 / n));
}
END_TEST

START_TEST(below_and_shuffle)
{
	lupi__rng r;
	lupi__rng_seed(&r, 1);
	int hits[5] = {0};
	for (int i = 0; i < 50000; i++) {
		uint64_t v = lupi__rng_below(&r, 5);
		ck_assert_uint_lt(v, 5);
		hits[v]++;
	}
	for (int i = 0; i < 5; i++)
		ck_assert_int_gt(hits[i], 9500);

	size_t v[100], seen[100] = {0};
	for (size_t i = 0; i < 100; i++)
		v[i] = i;
	lupi__rng_shuffle(&r, v, 100);
	size_t moved = 0;
	for (size_t i = 0; i < 100; i++) {
		seen[v[i]]++;
		moved += v[i] != i;
	}
	for (size_t i = 0; i < 100; i++)
		ck_assert_uint_eq(seen[i], 1); /* a permutation */
	ck_assert_uint_gt(moved, 50);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rng");
	TCase *tc = tcase_create("rng");
	tcase_add_test(tc, same_seed_same_stream);
	tcase_add_test(tc, uniform_and_normal_moments);
	tcase_add_test(tc, below_and_shuffle);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
