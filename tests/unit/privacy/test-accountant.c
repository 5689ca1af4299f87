/* The RDP accountant of the sampled Gaussian mechanism: TensorFlow
 * Privacy's published MNIST values, the Gaussian mechanism's closed form
 * (q = 1), the integer-order sum at alpha = 2 in closed form, the
 * fractional-order series against numerical integration, and the
 * inverse. */
#include <math.h>
#include <stdint.h>

#include "privacy/privacy_internal.h"
#include "testutil.h"

/* TF Privacy counts steps as ceil(epochs * n / batch). */
static uint64_t tf_steps(double epochs, double n, double batch)
{
	return (uint64_t)ceil(epochs * n / batch);
}

static double eps_of(double q, double sigma, uint64_t steps, double delta)
{
	double e = NAN;
	ck_assert_int_eq(lupi_dp_epsilon(q, sigma, steps, delta, &e), LUPI_OK);
	return e;
}

/* tensorflow/privacy, tutorials/README.md and the MNIST DP-SGD tutorial:
 * batch 256 of 60000, delta 1e-5. The values are printed to 2 decimals;
 * ours must round to them. */
START_TEST(tf_privacy_published_values)
{
	static const struct {
		double sigma, epochs, eps;
	} pub[] = {
		{1.1, 60, 3.01}, {1.12, 60, 2.92}, {1.2, 10, 1.20},
		{0.7, 45, 7.10},
	};
	double q = 256.0 / 60000.0;
	for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
		double e = eps_of(q, pub[i].sigma,
				  tf_steps(pub[i].epochs, 60000, 256), 1e-5);
		ck_assert_msg(fabs(e - pub[i].eps) <= 0.005,
			      "sigma %g, %g epochs: epsilon %.4f, published "
			      "%.2f", pub[i].sigma, pub[i].epochs, e,
			      pub[i].eps);
	}
}
END_TEST

/* q = 1: the Gaussian mechanism, RDP alpha / (2 sigma^2) (Mironov 2017,
 * Prop. 7), so epsilon is the minimum over the orders of
 * T alpha / (2 sigma^2) + log(1/delta) / (alpha - 1), which is at least the
 * continuous minimum T / (2 sigma^2) + sqrt(2 T log(1/delta)) / sigma. */
START_TEST(gaussian_mechanism_closed_form)
{
	double orders[512];
	size_t no = lupi__dp_orders(orders, 512);
	ck_assert_uint_gt(no, 100);
	const double sigmas[] = {0.8, 1.0, 4.0, 20.0};
	const uint64_t steps[] = {1, 10, 1000};
	for (size_t a = 0; a < no; a++)
		ck_assert_double_eq_tol(lupi__dp_rdp(1.0, 2.0, orders[a]),
					orders[a] / 8.0, 1e-12);
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 3; j++) {
			double s = sigmas[i], t = (double)steps[j], L = log(1e5);
			double want = INFINITY;
			for (size_t a = 0; a < no; a++) {
				double e = t * orders[a] / (2 * s * s) +
					   L / (orders[a] - 1);
				want = e < want ? e : want;
			}
			double got = eps_of(1.0, s, steps[j], 1e-5);
			ck_assert_double_eq_tol(got, want, 1e-9 * want);
			ck_assert(got >= t / (2 * s * s) +
					 sqrt(2 * t * L) / s - 1e-9);
		}
}
END_TEST

/* alpha = 2: A_2 = (1-q)^2 + 2q(1-q) + q^2 e^(1/sigma^2)
 * = 1 + q^2 (e^(1/sigma^2) - 1). */
START_TEST(order_two_closed_form)
{
	const double qs[] = {1e-4, 0.01, 0.3, 0.9};
	const double sg[] = {0.5, 1.0, 3.0};
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 3; j++) {
			double q = qs[i], s = sg[j];
			double want = log1p(q * q * expm1(1.0 / (s * s)));
			ck_assert_double_eq_tol(lupi__dp_rdp(q, s, 2.0), want,
						1e-10 * want + 1e-300);
		}
}
END_TEST

/* The fractional orders' series against the definition, integrated
 * numerically: A_alpha = E_{z ~ N(0, s^2)} [((1-q) + q e^((2z-1)/(2s^2)))^alpha]
 * (Mironov, Talwar & Zhang 2019, eq. 3), Simpson's rule on a fine grid. */
static double a_alpha_numeric(double q, double s, double alpha)
{
	double lo = -30.0 * s, hi = 30.0 * s + 1.0 + 2.0 * alpha * s * s;
	size_t n = 400000;
	double h = (hi - lo) / (double)n, sum = 0.0;
	for (size_t i = 0; i <= n; i++) {
		double z = lo + h * (double)i;
		double w = i == 0 || i == n ? 1.0 : (i % 2 ? 4.0 : 2.0);
		double mu0 = exp(-z * z / (2 * s * s)) / (s * sqrt(2 * M_PI));
		double ratio = (1 - q) + q * exp((2 * z - 1) / (2 * s * s));
		sum += w * mu0 * pow(ratio, alpha);
	}
	return sum * h / 3.0;
}

START_TEST(fractional_orders_match_integration)
{
	const double alphas[] = {1.5, 2.5, 4.3, 7.9};
	const double qs[] = {0.01, 0.1};
	const double sg[] = {0.9, 2.0};
	for (size_t a = 0; a < 4; a++)
		for (size_t i = 0; i < 2; i++)
			for (size_t j = 0; j < 2; j++) {
				double al = alphas[a], q = qs[i], s = sg[j];
				double want = log(a_alpha_numeric(q, s, al)) /
					      (al - 1.0);
				double got = lupi__dp_rdp(q, s, al);
				ck_assert_msg(fabs(got - want) <=
						      1e-6 * want + 1e-12,
					      "alpha %g q %g sigma %g: %.10g vs "
					      "%.10g", al, q, s, got, want);
			}
}
END_TEST

START_TEST(epsilon_is_monotone)
{
	double q = 0.01;
	double prev = INFINITY;
	for (double s = 0.6; s < 5.0; s *= 1.3) {
		double e = eps_of(q, s, 1000, 1e-5);
		ck_assert(e < prev);
		prev = e;
	}
	prev = 0.0;
	for (uint64_t t = 1; t < 100000; t *= 3) {
		double e = eps_of(q, 1.0, t, 1e-5);
		ck_assert(e > prev);
		prev = e;
	}
	ck_assert_double_eq(eps_of(q, 1.0, 0, 1e-5), 0.0);
	/* a larger delta gives a smaller epsilon */
	ck_assert(eps_of(q, 1.0, 100, 1e-3) < eps_of(q, 1.0, 100, 1e-6));
}
END_TEST

START_TEST(sigma_inverts_epsilon)
{
	double q = 256.0 / 60000.0;
	uint64_t steps = tf_steps(60, 60000, 256);
	double s = NAN;
	ck_assert_int_eq(lupi_dp_sigma(q, steps, 1e-5, 2.92, &s), LUPI_OK);
	/* the published pair: sigma 1.12 gives 2.92 (2.9224) */
	ck_assert_double_eq_tol(s, 1.12, 0.005);
	ck_assert(eps_of(q, s, steps, 1e-5) <= 2.92);
	ck_assert(eps_of(q, s * (1 - 2e-6), steps, 1e-5) > 2.92);
	const double targets[] = {0.5, 1.0, 8.0};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(lupi_dp_sigma(0.02, 500, 1e-6, targets[i], &s),
				 LUPI_OK);
		double e = eps_of(0.02, s, 500, 1e-6);
		ck_assert(e <= targets[i]);
		ck_assert(e > targets[i] * 0.999);
	}
	/* out of reach, and bad arguments */
	ck_assert_int_eq(lupi_dp_sigma(0.5, 1000000, 1e-5, 1e-6, &s),
			 LUPI_ERANGE);
	ck_assert(isnan(s));
	ck_assert_int_eq(lupi_dp_sigma(0.5, 10, 1e-5, 0.0, &s), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_sigma(0.5, 10, 1e-5, NAN, &s), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_sigma(0.5, 10, 1e-5, 1.0, NULL), LUPI_EINVAL);
}
END_TEST

START_TEST(bad_arguments)
{
	double e = 0;
	ck_assert_int_eq(lupi_dp_epsilon(0.0, 1.0, 10, 1e-5, &e), LUPI_ERANGE);
	ck_assert(isnan(e));
	ck_assert(strstr(lupi_errmsg(), "(0, 1]") != NULL);
	ck_assert_int_eq(lupi_dp_epsilon(1.5, 1.0, 10, 1e-5, &e), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(NAN, 1.0, 10, 1e-5, &e), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(0.1, 0.0, 10, 1e-5, &e), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(0.1, INFINITY, 10, 1e-5, &e),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(0.1, 1.0, 10, 0.0, &e), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(0.1, 1.0, 10, 1.0, &e), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_epsilon(0.1, 1.0, 10, 1e-5, NULL),
			 LUPI_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accountant");
	TCase *tc = tcase_create("rdp");
	tcase_add_test(tc, tf_privacy_published_values);
	tcase_add_test(tc, gaussian_mechanism_closed_form);
	tcase_add_test(tc, order_two_closed_form);
	tcase_add_test(tc, fractional_orders_match_integration);
	tcase_add_test(tc, epsilon_is_monotone);
	tcase_add_test(tc, sigma_inverts_epsilon);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
