/* The comparison runner: table shape, row order, statistics, baselines,
 * pairing with the hard-label student, cancellation and errors. */
#include <math.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "testutil.h"

/* Relevant-features data (Lopez-Paz et al. 2016): x ~ N(0, I_10), x* = three
 * coordinates of x, y = 1[<a, x*> > 0.3] (unbalanced on purpose). With
 * regression set, y = <a, x*> instead. */
enum { D = 10, DJ = 3 };

static lupi_dataset *relevant(size_t n, uint64_t seed, int regression)
{
	static const double a[DJ] = {1.0, -0.8, 0.6};
	float *x = malloc(n * D * sizeof *x), *xs = malloc(n * DJ * sizeof *xs);
	float *yr = malloc(n * sizeof *yr);
	int32_t *y = malloc(n * sizeof *y);
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		double dot = 0;
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)lupi__rng_normal(&r);
		for (size_t j = 0; j < DJ; j++) {
			xs[i * DJ + j] = x[i * D + 3 * j + 1];
			dot += a[j] * xs[i * DJ + j];
		}
		y[i] = dot > 0.3;
		yr[i] = (float)dot;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DJ, xs, NULL),
			 LUPI_OK);
	if (regression)
		ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, yr), LUPI_OK);
	else
		ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 0),
				 LUPI_OK);
	free(x);
	free(xs);
	free(yr);
	free(y);
	return ds;
}

static lupi_model *proto(int task, size_t n_in, size_t n_out, int view)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(task, n_in, NULL, 0, n_out, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 8), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.02), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 10), LUPI_OK);
	return m;
}

/* Majority-class accuracy of train's majority on test, by hand. */
static double majority(const lupi_dataset *train, const lupi_dataset *test)
{
	size_t ones = 0;
	for (size_t i = 0; i < lupi_dataset_rows(train); i++)
		ones += lupi_dataset_labels(train)[i] == 1;
	int32_t maj = 2 * ones > lupi_dataset_rows(train) ? 1 : 0;
	size_t hit = 0;
	for (size_t i = 0; i < lupi_dataset_rows(test); i++)
		hit += lupi_dataset_labels(test)[i] == maj;
	return (double)hit / (double)lupi_dataset_rows(test);
}

START_TEST(table_rows_and_statistics)
{
	lupi_dataset *train = relevant(120, 1, 0), *test = relevant(300, 2, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	const double lambdas[2] = {0.0, 1.0}, temps[2] = {1.0, 4.0};
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, lambdas,
					  2, temps, 2, 3, NULL, NULL, &c),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_compare_rows(c), 7);
	ck_assert_uint_eq(lupi_compare_repeats(c), 3);
	ck_assert_int_eq(lupi_compare_metric(c), LUPI_METRIC_ACCURACY);
	const int kinds[7] = {LUPI_COMPARE_BASELINE, LUPI_COMPARE_TEACHER,
			      LUPI_COMPARE_HARD, LUPI_COMPARE_DISTILLED,
			      LUPI_COMPARE_DISTILLED, LUPI_COMPARE_DISTILLED,
			      LUPI_COMPARE_DISTILLED};
	/* lambda outer, temperature inner */
	const double rl[4] = {0.0, 0.0, 1.0, 1.0}, rt[4] = {1.0, 4.0, 1.0, 4.0};
	double hard[3];
	for (unsigned s = 0; s < 3; s++)
		ck_assert_int_eq(lupi_compare_value(c, 2, s, &hard[s]),
				 LUPI_OK);
	for (size_t row = 0; row < 7; row++) {
		int kind;
		double l, t, mean, sd, dm, dsd;
		ck_assert_int_eq(lupi_compare_row(c, row, &kind, &l, &t, &mean,
						  &sd, &dm, &dsd),
				 LUPI_OK);
		ck_assert_int_eq(kind, kinds[row]);
		if (row < 3) {
			ck_assert(isnan(l) && isnan(t));
		} else {
			ck_assert_double_eq(l, rl[row - 3]);
			ck_assert_double_eq(t, rt[row - 3]);
		}
		/* Mean, sample std and paired differences by hand. */
		double v[3], m = 0, ss = 0, d[3], md = 0, sd2 = 0;
		for (unsigned s = 0; s < 3; s++) {
			ck_assert_int_eq(lupi_compare_value(c, row, s, &v[s]),
					 LUPI_OK);
			ck_assert(v[s] >= 0.0 && v[s] <= 1.0);
			m += v[s] / 3;
			d[s] = v[s] - hard[s];
			md += d[s] / 3;
		}
		for (unsigned s = 0; s < 3; s++) {
			ss += (v[s] - m) * (v[s] - m);
			sd2 += (d[s] - md) * (d[s] - md);
		}
		ck_assert_double_eq_tol(mean, m, 1e-12);
		ck_assert_double_eq_tol(sd, sqrt(ss / 2), 1e-12);
		ck_assert_double_eq_tol(dm, md, 1e-12);
		ck_assert_double_eq_tol(dsd, sqrt(sd2 / 2), 1e-12);
		if (row == 2) {
			ck_assert_double_eq(dm, 0.0);
			ck_assert_double_eq(dsd, 0.0);
		}
		if (row == 0) {
			ck_assert_double_eq_tol(mean, majority(train, test),
						1e-12);
			ck_assert_double_eq(sd, 0.0);
		}
		if (row == 1)
			ck_assert_msg(mean > 0.9, "teacher accuracy %g", mean);
	}
	/* lambda 0 is the label loss alone from the same initial weights and
	 * the same shuffles: the hard student, seed by seed. */
	for (unsigned s = 0; s < 3; s++) {
		double v0, v1;
		ck_assert_int_eq(lupi_compare_value(c, 3, s, &v0), LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(c, 4, s, &v1), LUPI_OK);
		ck_assert_double_eq(v0, hard[s]);
		ck_assert_double_eq(v1, hard[s]);
	}
	ck_assert_int_eq(lupi_compare_row(c, 7, NULL, NULL, NULL, NULL, NULL,
					  NULL, NULL),
			 LUPI_ERANGE);
	double v;
	ck_assert_int_eq(lupi_compare_value(c, 0, 3, &v), LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_value(c, 7, 0, &v), LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_value(c, 0, 0, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_value(NULL, 0, 0, &v), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_row(NULL, 0, NULL, NULL, NULL, NULL,
					  NULL, NULL, NULL),
			 LUPI_EINVAL);
	lupi_compare_free(c);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(one_seed_has_zero_std)
{
	lupi_dataset *train = relevant(60, 3, 0), *test = relevant(100, 4, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	lupi_loss *lp = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &lp), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(lp, LUPI_LOSS_OPT_STUDENT_T, 1),
			 LUPI_OK);
	const double lambdas[1] = {0.5}, temps[1] = {2.0};
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_run(tp, sp, lp, train, test, lambdas, 1,
					  temps, 1, 1, NULL, NULL, &c),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_compare_rows(c), 4);
	/* loss_proto was copied, not changed. */
	double lam;
	ck_assert_int_eq(lupi_loss_get_double(lp, LUPI_LOSS_OPT_LAMBDA, &lam),
			 LUPI_OK);
	ck_assert_double_eq(lam, 0.5);
	for (size_t row = 0; row < 4; row++) {
		double mean, sd, dm, dsd, v;
		ck_assert_int_eq(lupi_compare_row(c, row, NULL, NULL, NULL,
						  &mean, &sd, &dm, &dsd),
				 LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(c, row, 0, &v), LUPI_OK);
		ck_assert_double_eq(mean, v);
		ck_assert_double_eq(sd, 0.0);
		ck_assert_double_eq(dsd, 0.0);
	}
	lupi_compare_free(c);
	lupi_loss_free(lp);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(regression_uses_mse_and_training_mean)
{
	lupi_dataset *train = relevant(80, 5, 1), *test = relevant(90, 6, 1);
	lupi_model *tp = proto(LUPI_TASK_REGRESSION, DJ, 1,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_REGRESSION, D, 1, LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(tp, LUPI_MODEL_OPT_EPOCHS, 80), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(tp, LUPI_MODEL_OPT_LR, 0.05),
			 LUPI_OK);
	lupi_loss *lp = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_REGRESSION, &lp), LUPI_OK);
	const double lambdas[2] = {0.3, 0.9}, temps[1] = {1.0};
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_run(tp, sp, lp, train, test, lambdas, 2,
					  temps, 1, 2, NULL, NULL, &c),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_metric(c), LUPI_METRIC_MSE);
	ck_assert_uint_eq(lupi_compare_rows(c), 5);
	double mean = 0, mse = 0;
	for (size_t i = 0; i < 80; i++)
		mean += lupi_dataset_targets(train)[i] / 80.0;
	for (size_t i = 0; i < 90; i++) {
		double e = lupi_dataset_targets(test)[i] - mean;
		mse += e * e / 90.0;
	}
	double base, teacher;
	ck_assert_int_eq(lupi_compare_row(c, 0, NULL, NULL, NULL, &base, NULL,
					  NULL, NULL),
			 LUPI_OK);
	ck_assert_double_eq_tol(base, mse, 1e-9);
	ck_assert_int_eq(lupi_compare_row(c, 1, NULL, NULL, NULL, &teacher,
					  NULL, NULL, NULL),
			 LUPI_OK);
	ck_assert_msg(teacher < base / 4, "teacher MSE %g, baseline %g",
		      teacher, base);
	lupi_compare_free(c);
	lupi_loss_free(lp);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

typedef struct seen {
	unsigned calls, last, total, stop_at;
} seen;

static int on_progress(void *user, const lupi_progress *p)
{
	seen *s = user;
	s->calls++;
	ck_assert_uint_eq(p->epoch, s->calls);
	s->last = p->epoch;
	s->total = p->epochs;
	return s->stop_at != 0 && p->epoch == s->stop_at;
}

START_TEST(progress_counts_models_and_cancels)
{
	lupi_dataset *train = relevant(40, 7, 0), *test = relevant(40, 8, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(tp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(sp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	const double lambdas[2] = {0.5, 1.0}, temps[1] = {2.0};
	seen s = {0};
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, lambdas,
					  2, temps, 1, 2, on_progress, &s, &c),
			 LUPI_OK);
	/* Per seed: teacher, hard, two distilled. */
	ck_assert_uint_eq(s.calls, 8);
	ck_assert_uint_eq(s.total, 8);
	lupi_compare_free(c);

	seen stop = {.stop_at = 3};
	c = (lupi_compare *)1;
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, lambdas,
					  2, temps, 1, 2, on_progress, &stop,
					  &c),
			 LUPI_ESTATE);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(stop.calls, 3);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "cancelled"));
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(run_errors)
{
	lupi_dataset *train = relevant(20, 9, 0), *test = relevant(20, 10, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	const double l1[1] = {0.5}, t1[1] = {2.0};
	lupi_compare *c = (lupi_compare *)1;
	ck_assert_int_eq(lupi_compare_run(NULL, sp, NULL, train, test, l1, 1,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(lupi_compare_run(tp, NULL, NULL, train, test, l1, 1,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, NULL, test, l1, 1, t1,
					  1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, NULL, l1, 1,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 1,
					  t1, 1, 1, NULL, NULL, NULL),
			 LUPI_EINVAL);
	/* Zero seeds, empty grids. */
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 1,
					  t1, 1, 0, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "n_seeds"));
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 0,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 1,
					  NULL, 1, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 1,
					  t1, 0, 1, NULL, NULL, &c),
			 LUPI_EINVAL);
	/* Grid values out of range, caught before anything is trained. */
	const double bad_l[2] = {0.5, 1.5}, bad_t[1] = {0.0};
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, bad_l, 2,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, test, l1, 1,
					  bad_t, 1, 1, NULL, NULL, &c),
			 LUPI_ERANGE);
	/* A 3-output teacher for a 2-output student. */
	lupi_model *t3 = proto(LUPI_TASK_CLASSIFICATION, DJ, 3,
			       LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_compare_run(t3, sp, NULL, train, test, l1, 1,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(),
				     "student has 2 outputs, teacher 3"));
	/* Test set of another width. */
	float x[4] = {0, 1, 2, 3};
	int32_t y[2] = {0, 1};
	lupi_dataset *narrow = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, &narrow), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(narrow, 2, y, 0), LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(tp, sp, NULL, train, narrow, l1, 1,
					  t1, 1, 1, NULL, NULL, &c),
			 LUPI_ESHAPE);
	ck_assert_uint_eq(lupi_compare_rows(NULL), 0);
	ck_assert_uint_eq(lupi_compare_repeats(NULL), 0);
	lupi_compare_free(NULL);
	lupi_dataset_free(narrow);
	lupi_model_free(t3);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

/* Each allocation of a small run failing in turn: LUPI_ENOMEM and no table,
 * or a full table; no leaks (valgrind). */
START_TEST(allocation_failures)
{
	lupi_dataset *train = relevant(20, 11, 0), *test = relevant(10, 12, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(tp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(sp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	const double l1[1] = {0.5}, t1[1] = {2.0};
	int ok = 0;
	for (int fail = 0; fail < 1000 && !ok; fail++) {
		int budget = fail;
		lupi_compare *c = (lupi_compare *)1;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_compare_run(tp, sp, NULL, train, test, l1, 1, t1,
					  1, 1, NULL, NULL, &c);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM,
			      "failure %d: %d (%s)", fail, rc, lupi_errmsg());
		ok = rc == LUPI_OK;
		if (!ok)
			ck_assert_ptr_null(c);
		lupi_compare_free(c);
	}
	ck_assert_int_eq(ok, 1);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compare");
	TCase *tc = tcase_create("compare");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, table_rows_and_statistics);
	tcase_add_test(tc, one_seed_has_zero_std);
	tcase_add_test(tc, regression_uses_mse_and_training_mean);
	tcase_add_test(tc, progress_counts_models_and_cancels);
	tcase_add_test(tc, run_errors);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
