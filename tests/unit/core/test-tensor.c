/* Softmax family, reductions, GEMM wrapper and CRC-32C. */
#include <math.h>

#include "core/core_internal.h"
#include "testutil.h"

START_TEST(logsumexp_is_stable)
{
	float x[3] = {1000.0f, 1000.0f, 1000.0f};
	ck_assert_double_eq_tol(lupi__logsumexp(x, 3, 1.0), 1000.0 + log(3.0),
				1e-9);
	float y[2] = {-1000.0f, 0.0f};
	ck_assert_double_eq_tol(lupi__logsumexp(y, 2, 1.0), 0.0, 1e-12);
	/* scale = 1/T */
	float z[2] = {2.0f, 4.0f};
	ck_assert_double_eq_tol(lupi__logsumexp(z, 2, 0.5),
				log(exp(1.0) + exp(2.0)), 1e-12);
}
END_TEST

START_TEST(softmax_sums_to_one)
{
	float x[4] = {0.5f, -2.0f, 3.0f, 88.0f};
	double p[4];
	double lse = lupi__softmax(x, 4, 1.0, p);
	double s = 0;
	for (int i = 0; i < 4; i++) {
		s += p[i];
		ck_assert_double_eq_tol(p[i], exp(x[i] - lse), 1e-15);
	}
	ck_assert_double_eq_tol(s, 1.0, 1e-12);
	ck_assert_uint_eq(lupi__argmax(x, 4), 3);
}
END_TEST

START_TEST(finite_checks)
{
	float x[4] = {1, 2, NAN, 4};
	size_t where = 99;
	ck_assert_int_eq(lupi__all_finite(x, 4, &where), 0);
	ck_assert_uint_eq(where, 2);
	ck_assert_int_eq(lupi__all_finite(x, 2, &where), 1);
	ck_assert_double_eq(lupi__sumsq(x, 2), 5.0);
	/* the eight-lane sum: every element, the tail included (integers, so
	 * any order of the additions is exact) */
	float v[41];
	for (size_t i = 0; i < 41; i++)
		v[i] = (float)i - 17.0f;
	for (size_t n = 0; n <= 41; n++) {
		double want = 0.0;
		for (size_t i = 0; i < n; i++)
			want += (double)v[i] * v[i];
		ck_assert_double_eq(lupi__sumsq_lanes(v, n), want);
	}
}
END_TEST

START_TEST(gemm_against_loops)
{
	/* C (3x2) = A^T (3x4) B (4x2) + 0.5 C, checked against a direct loop. */
	float a[4 * 3], b[4 * 2], c[3 * 2], ref[3 * 2];
	for (int i = 0; i < 12; i++)
		a[i] = (float)(i % 5) - 2.0f;
	for (int i = 0; i < 8; i++)
		b[i] = (float)(i % 3) + 0.5f;
	for (int i = 0; i < 6; i++)
		c[i] = ref[i] = (float)i;
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 2; j++) {
			double s = 0;
			for (int k = 0; k < 4; k++)
				s += a[k * 3 + i] * b[k * 2 + j];
			ref[i * 2 + j] = (float)(s + 0.5 * ref[i * 2 + j]);
		}
	lupi__gemm(1, 0, 3, 2, 4, 1.0f, a, 3, b, 2, 0.5f, c, 2);
	for (int i = 0; i < 6; i++)
		ck_assert_float_eq_tol(c[i], ref[i], 1e-5f);
}
END_TEST

START_TEST(crc32c_known_vectors)
{
	/* Check values from RFC 3720 appendix B.4 and the usual "123456789". */
	ck_assert_uint_eq(lupi__crc32c(0, "123456789", 9), 0xe3069283u);
	unsigned char zeros[32] = {0}, ones[32];
	memset(ones, 0xff, sizeof ones);
	ck_assert_uint_eq(lupi__crc32c(0, zeros, 32), 0x8a9136aau);
	ck_assert_uint_eq(lupi__crc32c(0, ones, 32), 0x62a8ab43u);
	/* Incremental equals one shot. */
	uint32_t c = lupi__crc32c(0, "12345", 5);
	ck_assert_uint_eq(lupi__crc32c(c, "6789", 4), 0xe3069283u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tensor");
	TCase *tc = tcase_create("tensor");
	tcase_add_test(tc, logsumexp_is_stable);
	tcase_add_test(tc, softmax_sums_to_one);
	tcase_add_test(tc, finite_checks);
	tcase_add_test(tc, gemm_against_loops);
	tcase_add_test(tc, crc32c_known_vectors);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
