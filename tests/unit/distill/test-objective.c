/* The label losses against closed forms and finite differences. */
#include <math.h>
#include <stdint.h>

#include "distill/distill_internal.h"
#include "testutil.h"

START_TEST(ce_uniform_logits)
{
	/* equal logits: loss log K, gradient (1/K - [j == y]) / n */
	float s[6] = {0, 0, 0, 0, 0, 0};
	int32_t y[2] = {0, 2};
	float g[6];
	double v;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 2, 3,
					      s, y, NULL, NULL, &v, g),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, log(3.0), 1e-12);
	ck_assert_float_eq_tol(g[0], (1.0 / 3 - 1) / 2, 1e-7);
	ck_assert_float_eq_tol(g[1], 1.0 / 6, 1e-7);
	ck_assert_float_eq_tol(g[5], (1.0 / 3 - 1) / 2, 1e-7);
}
END_TEST

START_TEST(ce_is_stable_for_large_logits)
{
	/* log(1 + e^-1000) = 0 for the right class, 1000 for the wrong one */
	float s[2] = {1000.0f, 0.0f};
	int32_t y0 = 0, y1 = 1;
	double v;
	float g[2];
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 2,
					      s, &y0, NULL, NULL, &v, g),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 0.0, 1e-12);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 2,
					      s, &y1, NULL, NULL, &v, g),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 1000.0, 1e-9);
	ck_assert_float_eq_tol(g[0], 1.0f, 1e-7);
	ck_assert_float_eq_tol(g[1], -1.0f, 1e-7);
}
END_TEST

START_TEST(bce_closed_forms)
{
	/* z = 0: log 2, gradient 1/2 - y; z = +-100 without overflow */
	float z[4] = {0.0f, 0.0f, 100.0f, -100.0f};
	int32_t y[4] = {0, 1, 0, 0};
	float g[4];
	double v;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 2, 1, z, y,
					      NULL, NULL, &v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, log(2.0), 1e-12);
	ck_assert_float_eq_tol(g[0], 0.25f, 1e-7);
	ck_assert_float_eq_tol(g[1], -0.25f, 1e-7);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 1, 1, z + 2,
					      y + 2, NULL, NULL, &v, g),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 100.0, 1e-9);
	ck_assert_float_eq_tol(g[0], 1.0f, 1e-7);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 1, 1, z + 3,
					      y + 3, NULL, NULL, &v, g),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, exp(-100.0), 1e-50);
	ck_assert(isfinite(v) && v > 0);
}
END_TEST

START_TEST(squared_error_weighted_mean)
{
	/* samples (1,2) vs (0,0) and (3,3) vs (1,1), weights 1 and 3:
	 * losses 2.5 and 4, mean (2.5 + 12) / 4 */
	float s[4] = {1, 2, 3, 3};
	float t[4] = {0, 0, 1, 1};
	float w[2] = {1, 3};
	float g[4];
	double v;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_REGRESSION, 2, 2, s,
					      NULL, t, w, &v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, 14.5 / 4, 1e-12);
	ck_assert_float_eq_tol(g[0], 0.25f, 1e-7);
	ck_assert_float_eq_tol(g[1], 0.5f, 1e-7);
	ck_assert_float_eq_tol(g[2], 1.5f, 1e-7);
	ck_assert_float_eq_tol(g[3], 1.5f, 1e-7);
	/* value only */
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_REGRESSION, 2, 2, s,
					      NULL, t, NULL, &v, NULL),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 6.5 / 2, 1e-12);
}
END_TEST

START_TEST(zero_weights_give_zero)
{
	float s[2] = {NAN, 1.0f};
	int32_t y[2] = {0, 1};
	float w[2] = {0, 0};
	double v = 1;
	float g[2];
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 2, 1, s, y,
					      NULL, w, &v, g), LUPI_OK);
	ck_assert_double_eq(v, 0.0);
	ck_assert_float_eq(g[1], 0.0f);
}
END_TEST

/* Gradients against central differences of the double loss. */
START_TEST(gradients_match_finite_differences)
{
	int task = 1 + _i;
	size_t n = 3, k = task == LUPI_TASK_BINARY ? 1 : 4;
	float s[12] = {0.3f, -1.2f, 2.0f, 0.1f, -0.4f, 0.9f,
		       1.5f, -2.5f, 0.0f, 0.7f, 0.2f, -0.3f};
	float t[12] = {1, 0, -1, 2, 0.5f, 0.5f, 0, 0, 1, 1, 1, 1};
	int32_t yc[3] = {3, 0, 1}, yb[3] = {1, 0, 1};
	const int32_t *y = task == LUPI_TASK_BINARY ? yb : yc;
	float w[3] = {0.5f, 2.0f, 1.0f};
	float g[12];
	double v;
	const int32_t *lab = task == LUPI_TASK_REGRESSION ? NULL : y;
	const float *tg = task == LUPI_TASK_REGRESSION ? t : NULL;
	ck_assert_int_eq(lupi__objective_hard(task, n, k, s, lab, tg, w, &v,
					      g), LUPI_OK);
	for (size_t i = 0; i < n * k; i++) {
		/* the loss is evaluated in double from float inputs, so the
		 * step must be representable in float */
		float keep = s[i], h = 1e-2f;
		double vp, vm;
		s[i] = keep + h;
		lupi__objective_hard(task, n, k, s, lab, tg, w, &vp, NULL);
		s[i] = keep - h;
		lupi__objective_hard(task, n, k, s, lab, tg, w, &vm, NULL);
		s[i] = keep;
		double fd = (vp - vm) / (2.0 * h);
		ck_assert_double_eq_tol(g[i], fd, 1e-4);
	}
}
END_TEST

START_TEST(bad_arguments)
{
	float s[3] = {0, 0, 0};
	int32_t y = 3;
	double v;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 3,
					      s, &y, NULL, NULL, &v, NULL),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "label of sample 0"));
	y = -2;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 3,
					      s, &y, NULL, NULL, &v, NULL),
			 LUPI_ERANGE);
	/* -1: no label (a dataset's label mask): out of the mean */
	y = -1;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 3,
					      s, &y, NULL, NULL, &v, NULL),
			 LUPI_OK);
	ck_assert_double_eq(v, 0.0);
	y = 2;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 1, 1, s, &y,
					      NULL, NULL, &v, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_BINARY, 1, 2, s, &y,
					      NULL, NULL, &v, NULL),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 3,
					      s, NULL, NULL, NULL, &v, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_REGRESSION, 1, 3, s,
					      NULL, NULL, NULL, &v, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_NONE, 1, 3, s, &y,
					      NULL, NULL, &v, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_REGRESSION, 0, 3, s,
					      NULL, s, NULL, &v, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_REGRESSION, 1, 3, s,
					      NULL, s, NULL, NULL, NULL),
			 LUPI_EINVAL);
}
END_TEST

START_TEST(nonfinite_outputs_give_nonfinite_value)
{
	float s[2] = {INFINITY, 0.0f};
	int32_t y = 1;
	double v;
	ck_assert_int_eq(lupi__objective_hard(LUPI_TASK_CLASSIFICATION, 1, 2,
					      s, &y, NULL, NULL, &v, NULL),
			 LUPI_OK);
	ck_assert(!isfinite(v));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("objective");
	TCase *tc = tcase_create("objective");
	tcase_add_test(tc, ce_uniform_logits);
	tcase_add_test(tc, ce_is_stable_for_large_logits);
	tcase_add_test(tc, bce_closed_forms);
	tcase_add_test(tc, squared_error_weighted_mean);
	tcase_add_test(tc, zero_weights_give_zero);
	tcase_add_loop_test(tc, gradients_match_finite_differences, 0, 3);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, nonfinite_outputs_give_nonfinite_value);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
