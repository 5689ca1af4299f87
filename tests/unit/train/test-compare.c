/* The comparison handle: options, table shape, row order, statistics,
 * baselines, pairing with the hard-label student, seeds per repetition, a
 * fresh pair per repetition, cancellation and errors. */
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
		ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y),
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

/* A comparison of tp and sp with a grid and a number of repetitions. */
static lupi_compare *cmp(const lupi_model *tp, const lupi_model *sp,
			 const double *lambdas, size_t nl, const double *temps,
			 size_t nt, int64_t repeats)
{
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_create(tp, sp, &c), LUPI_OK);
	ck_assert_int_eq(lupi_compare_set_grid(c, lambdas, nl, temps, nt),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS,
					      repeats),
			 LUPI_OK);
	return c;
}

/* Every reader of a comparison without a table. */
static void assert_no_table(const lupi_compare *c)
{
	double v;
	ck_assert_uint_eq(lupi_compare_rows(c), 0);
	ck_assert_uint_eq(lupi_compare_repeats(c), 0);
	ck_assert_int_eq(lupi_compare_metric(c), LUPI_ESTATE);
	ck_assert_int_eq(lupi_compare_row(c, 0, NULL, NULL, NULL, NULL, NULL,
					  NULL, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_compare_value(c, 0, 0, &v), LUPI_ESTATE);
}

START_TEST(table_rows_and_statistics)
{
	lupi_dataset *train = relevant(120, 1, 0), *test = relevant(300, 2, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	const double lambdas[2] = {0.0, 1.0}, temps[2] = {1.0, 4.0};
	lupi_compare *c = cmp(tp, sp, lambdas, 2, temps, 2, 3);
	assert_no_table(c);
	ck_assert_int_eq(lupi_compare_run(c, train, test, NULL, NULL),
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
	 * the same shuffles: the hard student, repetition by repetition. */
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
	ck_assert_int_eq(lupi_compare_metric(NULL), LUPI_EINVAL);
	lupi_compare_free(c);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(one_repetition_has_zero_std)
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
	lupi_compare *c = cmp(tp, sp, lambdas, 1, temps, 1, 1);
	ck_assert_int_eq(lupi_compare_set_loss(c, lp), LUPI_OK);
	/* The prototype was copied: changing the host's loss now does not
	 * change the run. */
	ck_assert_int_eq(lupi_loss_set_double(lp, LUPI_LOSS_OPT_LAMBDA, 0.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(c, train, test, NULL, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_compare_rows(c), 4);
	double lam;
	ck_assert_int_eq(lupi_loss_get_double(lp, LUPI_LOSS_OPT_LAMBDA, &lam),
			 LUPI_OK);
	ck_assert_double_eq(lam, 0.0);
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
	/* The distilled row equals a student trained by hand with the
	 * prototype's options, lambda 0.5 and T 2, from the hard student's
	 * initial weights (the student prototype with SEED = 0 + 0). */
	lupi_model *tm = NULL, *st = NULL;
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_model_clone(tp, &tm), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_SEED, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(tm), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(tm, train, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_model_clone(sp, &st), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(st, LUPI_MODEL_OPT_SEED, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(st), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(lp, LUPI_LOSS_OPT_LAMBDA, 0.5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(lp, LUPI_LOSS_OPT_TEMPERATURE,
					      2.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_fit(st, t, lp, train, NULL, NULL, NULL),
			 LUPI_OK);
	double by_hand, teacher, in_table;
	ck_assert_int_eq(lupi_model_evaluate(st, test, LUPI_METRIC_ACCURACY,
					     &by_hand),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_value(c, 3, 0, &in_table), LUPI_OK);
	ck_assert_double_eq(in_table, by_hand);
	ck_assert_int_eq(lupi_model_evaluate(tm, test, LUPI_METRIC_ACCURACY,
					     &teacher),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_value(c, 1, 0, &in_table), LUPI_OK);
	ck_assert_double_eq(in_table, teacher);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_model_free(st);
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
	lupi_compare *c = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	ck_assert_int_eq(lupi_compare_set_loss(c, lp), LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(c, train, test, NULL, NULL),
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

START_TEST(options)
{
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	lupi_compare *c = NULL;
	ck_assert_int_eq(lupi_compare_create(tp, sp, &c), LUPI_OK);
	int64_t v;
	ck_assert_int_eq(lupi_compare_get_int(c, LUPI_COMPARE_OPT_REPEATS, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(lupi_compare_get_int(c, LUPI_COMPARE_OPT_SEED, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 0);
	/* Ranges: REPEATS 1..100000, SEED the whole int64 range. */
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS, 0),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "REPEATS"));
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS,
					      100001),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS,
					      100000),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_SEED,
					      INT64_MIN),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_get_int(c, LUPI_COMPARE_OPT_SEED, &v),
			 LUPI_OK);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_SEED,
					      INT64_MAX),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_get_int(c, LUPI_COMPARE_OPT_SEED, &v),
			 LUPI_OK);
	ck_assert(v == INT64_MAX);
	/* The introspection describes the same table. */
	const lupi_option *o = lupi_option_by_key(LUPI_COMPARE_OPT_REPEATS);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->handle, LUPI_HANDLE_COMPARE);
	ck_assert_int_eq(o->type, LUPI_TYPE_INT);
	ck_assert_str_eq(o->name, "REPEATS");
	ck_assert(o->int_min == 1 && o->int_max == 100000 &&
		  o->int_default == 5);
	int n = 0;
	for (o = lupi_option_next(LUPI_HANDLE_COMPARE, NULL); o != NULL;
	     o = lupi_option_next(LUPI_HANDLE_COMPARE, o))
		n++;
	ck_assert_int_eq(n, 2);
	/* Every key of every other handle is refused, of either type. */
	const int others[4] = {LUPI_HANDLE_MODEL, LUPI_HANDLE_LOSS,
			       LUPI_HANDLE_READER, LUPI_HANDLE_LAYER};
	int refused = 0;
	for (int h = 0; h < 4; h++)
		for (o = lupi_option_next(others[h], NULL); o != NULL;
		     o = lupi_option_next(others[h], o)) {
			ck_assert_int_eq(lupi_compare_set_int(c, o->key, 1),
					 LUPI_EUNKNOWN_OPTION);
			ck_assert_int_eq(lupi_compare_get_int(c, o->key, &v),
					 LUPI_EUNKNOWN_OPTION);
			refused++;
		}
	ck_assert_int_gt(refused, 30);
	ck_assert_int_eq(lupi_compare_set_int(c, 4999, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_compare_set_int(NULL, LUPI_COMPARE_OPT_SEED, 1),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_get_int(c, LUPI_COMPARE_OPT_SEED, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_get_int(NULL, LUPI_COMPARE_OPT_SEED,
					      &v),
			 LUPI_EINVAL);
	lupi_compare_free(c);
	lupi_model_free(tp);
	lupi_model_free(sp);
}
END_TEST

START_TEST(repetition_r_uses_seed_plus_r)
{
	lupi_dataset *train = relevant(60, 13, 0), *test = relevant(80, 14, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(sp, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	const double l1[1] = {0.5}, t1[1] = {2.0};
	lupi_compare *two = cmp(tp, sp, l1, 1, t1, 1, 2);
	lupi_compare *one = cmp(tp, sp, l1, 1, t1, 1, 1);
	ck_assert_int_eq(lupi_compare_set_int(two, LUPI_COMPARE_OPT_SEED, -1),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_set_int(one, LUPI_COMPARE_OPT_SEED, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(two, train, test, NULL, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(one, train, test, NULL, NULL),
			 LUPI_OK);
	/* SEED -1 is 2^64 - 1 as a seed: repetition 1 wraps to 0. */
	int differ = 0;
	for (size_t row = 0; row < 4; row++) {
		double a, b, first;
		ck_assert_int_eq(lupi_compare_value(two, row, 1, &a), LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(one, row, 0, &b), LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(two, row, 0, &first),
				 LUPI_OK);
		ck_assert_double_eq(a, b);
		differ += first != a;
	}
	ck_assert_int_gt(differ, 0);
	lupi_compare_free(one);
	lupi_compare_free(two);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

/* The data callback of run_each: a fresh pair drawn from the seed, kept
 * alive until the next call; or always the same pair; or a failure. */
typedef struct pairs {
	unsigned calls;
	uint64_t seeds[8];
	lupi_dataset *train, *test;
	const lupi_dataset *fixed_train, *fixed_test;
	double majority[8];
	int fail_at; /* repetition that fails with LUPI_EIO, or -1 */
} pairs;

static int draw(void *user, unsigned repeat, uint64_t seed,
		const lupi_dataset **train, const lupi_dataset **test)
{
	pairs *p = user;
	ck_assert_uint_eq(repeat, p->calls);
	p->seeds[p->calls++] = seed;
	if ((int)repeat == p->fail_at)
		return LUPI_EIO;
	if (p->fixed_train) {
		*train = p->fixed_train;
		*test = p->fixed_test;
		return LUPI_OK;
	}
	lupi_dataset_free(p->train);
	lupi_dataset_free(p->test);
	p->train = relevant(60, 1000 + seed, 0);
	p->test = relevant(70, 2000 + seed, 0);
	p->majority[repeat] = majority(p->train, p->test);
	*train = p->train;
	*test = p->test;
	return LUPI_OK;
}

START_TEST(run_each_draws_a_pair_per_repetition)
{
	lupi_dataset *train = relevant(60, 1005, 0),
		     *test = relevant(70, 2005, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(tp, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(sp, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	const double l1[1] = {0.5}, t1[1] = {2.0};
	lupi_compare *each = cmp(tp, sp, l1, 1, t1, 1, 3);
	lupi_compare *fixed = cmp(tp, sp, l1, 1, t1, 1, 3);
	lupi_compare *same = cmp(tp, sp, l1, 1, t1, 1, 3);
	for (int k = 0; k < 3; k++) {
		lupi_compare *c = k == 0 ? each : k == 1 ? fixed : same;
		ck_assert_int_eq(lupi_compare_set_int(c, LUPI_COMPARE_OPT_SEED,
						      5),
				 LUPI_OK);
	}
	pairs p = {.fail_at = -1};
	ck_assert_int_eq(lupi_compare_run_each(each, draw, &p, NULL, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(p.calls, 3);
	ck_assert_uint_eq(lupi_compare_repeats(each), 3);
	ck_assert_int_eq(lupi_compare_run(fixed, train, test, NULL, NULL),
			 LUPI_OK);
	/* The callback saw SEED + r; each baseline is its own pair's. */
	int differ = 0;
	for (unsigned r = 0; r < 3; r++) {
		ck_assert_uint_eq(p.seeds[r], 5 + r);
		double b, bf;
		ck_assert_int_eq(lupi_compare_value(each, 0, r, &b), LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(fixed, 0, r, &bf),
				 LUPI_OK);
		ck_assert_double_eq(b, p.majority[r]);
		ck_assert_double_eq(bf, majority(train, test));
		differ += b != bf;
	}
	/* The pair of seed 5 is the fixed pair: repetition 0 agrees in
	 * every row, the others do not all. */
	for (size_t row = 0; row < 4; row++) {
		double a, b;
		ck_assert_int_eq(lupi_compare_value(each, row, 0, &a), LUPI_OK);
		ck_assert_int_eq(lupi_compare_value(fixed, row, 0, &b),
				 LUPI_OK);
		ck_assert_double_eq(a, b);
	}
	ck_assert_int_gt(differ, 0);

	/* A callback that returns the same pair every time is a plain run. */
	pairs q = {.fail_at = -1, .fixed_train = train, .fixed_test = test};
	ck_assert_int_eq(lupi_compare_run_each(same, draw, &q, NULL, NULL),
			 LUPI_OK);
	for (size_t row = 0; row < 4; row++)
		for (unsigned r = 0; r < 3; r++) {
			double a, b;
			ck_assert_int_eq(lupi_compare_value(same, row, r, &a),
					 LUPI_OK);
			ck_assert_int_eq(lupi_compare_value(fixed, row, r, &b),
					 LUPI_OK);
			ck_assert_double_eq(a, b);
		}

	/* A failing callback stops the run with its code, and no table. */
	pairs f = {.fail_at = 1};
	ck_assert_int_eq(lupi_compare_run_each(each, draw, &f, NULL, NULL),
			 LUPI_EIO);
	ck_assert_uint_eq(f.calls, 2);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "repetition 1"));
	assert_no_table(each);
	/* A pair that does not fit. */
	float x[4] = {0, 1, 2, 3};
	int32_t y[2] = {0, 1};
	lupi_dataset *narrow = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, &narrow), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(narrow, 2, y), LUPI_OK);
	pairs bad = {.fail_at = -1, .fixed_train = train,
		     .fixed_test = narrow};
	ck_assert_int_eq(lupi_compare_run_each(same, draw, &bad, NULL, NULL),
			 LUPI_ESHAPE);
	assert_no_table(same);
	ck_assert_int_eq(lupi_compare_run_each(same, NULL, &bad, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run_each(NULL, draw, &bad, NULL, NULL),
			 LUPI_EINVAL);
	lupi_dataset_free(narrow);
	lupi_dataset_free(f.train);
	lupi_dataset_free(f.test);
	lupi_dataset_free(p.train);
	lupi_dataset_free(p.test);
	lupi_compare_free(each);
	lupi_compare_free(fixed);
	lupi_compare_free(same);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

typedef struct seen {
	unsigned calls, last, total, stop_at;
	size_t size;
} seen;

static int on_progress(void *user, const lupi_progress *p)
{
	seen *s = user;
	s->calls++;
	ck_assert_uint_eq(p->epoch, s->calls);
	s->last = p->epoch;
	s->total = p->epochs;
	s->size = p->size;
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
	lupi_compare *c = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	seen s = {0};
	ck_assert_int_eq(lupi_compare_run(c, train, test, on_progress, &s),
			 LUPI_OK);
	/* Per repetition: teacher, hard, two distilled. */
	ck_assert_uint_eq(s.calls, 8);
	ck_assert_uint_eq(s.total, 8);
	ck_assert_uint_eq(s.size, sizeof(lupi_progress));
	ck_assert_uint_eq(lupi_compare_rows(c), 5);

	/* Cancelled: LUPI_ECANCELLED and no table, not even the last one. */
	seen stop = {.stop_at = 3};
	ck_assert_int_eq(lupi_compare_run(c, train, test, on_progress, &stop),
			 LUPI_ECANCELLED);
	ck_assert_uint_eq(stop.calls, 3);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "cancelled"));
	assert_no_table(c);
	seen stop_each = {.stop_at = 5};
	pairs p = {.fail_at = -1, .fixed_train = train, .fixed_test = test};
	ck_assert_int_eq(lupi_compare_run_each(c, draw, &p, on_progress,
					       &stop_each),
			 LUPI_ECANCELLED);
	ck_assert_uint_eq(p.calls, 2);
	assert_no_table(c);
	lupi_compare_free(c);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

/* The repetitions a data callback was asked for, as a bit set. */
typedef struct asked {
	const lupi_dataset *train, *test;
	unsigned mask;
} asked;

static int ask(void *user, unsigned repeat, uint64_t seed,
	       const lupi_dataset **train, const lupi_dataset **test)
{
	asked *a = user;
	(void)seed;
	a->mask |= 1u << repeat;
	*train = a->train;
	*test = a->test;
	return LUPI_OK;
}

/* Three shares of the 8 cells (2 repetitions x teacher, hard, 2 distilled):
 * [0, 2) the teacher and hard student of repetition 0, [2, 5) its distilled
 * students and the teacher of repetition 1, [5, 8) the rest. Each share's
 * values equal the whole run's bit for bit, the others are NaN, and merged
 * with lupi_compare_set_value they are the whole table. */
START_TEST(shares_merge_to_the_whole_table)
{
	lupi_dataset *train = relevant(40, 7, 0), *test = relevant(40, 8, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	const double lambdas[2] = {0.5, 1.0}, temps[1] = {2.0};
	lupi_compare *whole = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	lupi_compare *part = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	lupi_compare *merged = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	ck_assert_int_eq(lupi_compare_run(whole, train, test, NULL, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(merged, train, test, NULL, NULL),
			 LUPI_OK);
	static const unsigned lo[3] = {0, 2, 5}, hi[3] = {2, 5, 8};
	static const unsigned models[3] = {2, 3, 3}, reps[3] = {1, 3, 2};
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(lupi_compare_set_share(part, i, 3), LUPI_OK);
		seen s = {0};
		ck_assert_int_eq(lupi_compare_run(part, train, test,
						  on_progress, &s), LUPI_OK);
		ck_assert_uint_eq(s.calls, models[i]);
		ck_assert_uint_eq(s.total, models[i]);
		for (size_t row = 1; row < 5; row++)
			for (unsigned r = 0; r < 2; r++) {
				unsigned cell = r * 4 + (unsigned)row - 1;
				double v, w;
				ck_assert_int_eq(lupi_compare_value(part, row,
								    r, &v),
						 LUPI_OK);
				ck_assert_int_eq(lupi_compare_value(whole, row,
								    r, &w),
						 LUPI_OK);
				if (cell < lo[i] || cell >= hi[i]) {
					ck_assert(isnan(v));
					continue;
				}
				ck_assert_mem_eq(&v, &w, sizeof v);
				ck_assert_int_eq(lupi_compare_set_value(
					merged, row, r, -1.0), LUPI_OK);
				ck_assert_int_eq(lupi_compare_set_value(
					merged, row, r, v), LUPI_OK);
			}
		/* a share asks for the pairs of its repetitions only */
		asked a = {train, test, 0};
		ck_assert_int_eq(lupi_compare_run_each(part, ask, &a, NULL,
						       NULL), LUPI_OK);
		ck_assert_uint_eq(a.mask, reps[i]);
	}
	for (size_t row = 0; row < 5; row++) {
		double m1, m2, d1, d2;
		ck_assert_int_eq(lupi_compare_row(whole, row, NULL, NULL, NULL,
						  &m1, NULL, &d1, NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_compare_row(merged, row, NULL, NULL, NULL,
						  &m2, NULL, &d2, NULL),
				 LUPI_OK);
		ck_assert_mem_eq(&m1, &m2, sizeof m1);
		ck_assert_mem_eq(&d1, &d2, sizeof d1);
	}
	/* 0 of 1 is the whole table again */
	ck_assert_int_eq(lupi_compare_set_share(part, 0, 1), LUPI_OK);
	seen all = {0};
	ck_assert_int_eq(lupi_compare_run(part, train, test, on_progress,
					  &all), LUPI_OK);
	ck_assert_uint_eq(all.calls, 8);
	ck_assert_int_eq(lupi_compare_set_share(part, 3, 3), LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_set_share(part, 0, 0), LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_set_share(NULL, 0, 1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_set_value(part, 5, 0, 1.0), LUPI_ERANGE);
	ck_assert_int_eq(lupi_compare_set_value(part, 0, 2, 1.0), LUPI_ERANGE);
	lupi_compare *fresh = cmp(tp, sp, lambdas, 2, temps, 1, 2);
	ck_assert_int_eq(lupi_compare_set_value(fresh, 0, 0, 1.0), LUPI_ESTATE);
	lupi_compare_free(fresh);
	lupi_compare_free(whole);
	lupi_compare_free(part);
	lupi_compare_free(merged);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(errors)
{
	lupi_dataset *train = relevant(20, 9, 0), *test = relevant(20, 10, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	lupi_compare *c = (lupi_compare *)1;
	ck_assert_int_eq(lupi_compare_create(NULL, sp, &c), LUPI_EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(lupi_compare_create(tp, NULL, &c), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_create(tp, sp, NULL), LUPI_EINVAL);
	/* A 3-output teacher for a 2-output student; a regression one. */
	lupi_model *t3 = proto(LUPI_TASK_CLASSIFICATION, DJ, 3,
			       LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_compare_create(t3, sp, &c), LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(),
				     "student has 2 outputs, teacher 3"));
	lupi_model *tr = proto(LUPI_TASK_REGRESSION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_compare_create(tr, sp, &c), LUPI_ESHAPE);

	ck_assert_int_eq(lupi_compare_create(tp, sp, &c), LUPI_OK);
	/* Empty grids, out-of-range values (the grid is kept). */
	const double l1[1] = {0.5}, t1[1] = {2.0};
	ck_assert_int_eq(lupi_compare_set_grid(c, l1, 0, t1, 1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_set_grid(c, l1, 1, NULL, 1),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_set_grid(c, l1, 1, t1, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_set_grid(NULL, l1, 1, t1, 1),
			 LUPI_EINVAL);
	const double bad_l[2] = {0.5, 1.5}, bad_t[1] = {0.0};
	ck_assert_int_eq(lupi_compare_set_grid(c, bad_l, 2, t1, 1),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "LAMBDA"));
	ck_assert_int_eq(lupi_compare_set_grid(c, l1, 1, bad_t, 1),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "TEMPERATURE"));
	ck_assert_int_eq(lupi_compare_set_loss(c, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_set_loss(NULL, NULL), LUPI_EINVAL);
	/* Run arguments. */
	ck_assert_int_eq(lupi_compare_run(NULL, train, test, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(c, NULL, test, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_compare_run(c, train, NULL, NULL, NULL),
			 LUPI_EINVAL);
	/* Test set of another width; a training set without labels. */
	float x[4] = {0, 1, 2, 3};
	int32_t y[2] = {0, 1};
	lupi_dataset *narrow = NULL, *unlabelled = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, &narrow), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(narrow, 2, y), LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(c, train, narrow, NULL, NULL),
			 LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "test set"));
	ck_assert_int_eq(lupi_dataset_create(20, D,
					     lupi_dataset_features(
						     train, LUPI_VIEW_REGULAR),
					     &unlabelled),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(
				 unlabelled, DJ,
				 lupi_dataset_features(train,
						       LUPI_VIEW_PRIVILEGED),
				 NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_compare_run(c, unlabelled, test, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "training set"));
	assert_no_table(c);
	ck_assert_uint_eq(lupi_compare_rows(NULL), 0);
	ck_assert_uint_eq(lupi_compare_repeats(NULL), 0);
	lupi_compare_free(NULL);
	lupi_compare_free(c);
	lupi_dataset_free(narrow);
	lupi_dataset_free(unlabelled);
	lupi_model_free(t3);
	lupi_model_free(tr);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

/* Each allocation of creating and running a small comparison failing in
 * turn: LUPI_ENOMEM and no table, or a full table; no leaks (valgrind). */
START_TEST(allocation_failures)
{
	lupi_dataset *train = relevant(20, 11, 0), *test = relevant(10, 12, 0);
	lupi_model *tp = proto(LUPI_TASK_CLASSIFICATION, DJ, 2,
			       LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = proto(LUPI_TASK_CLASSIFICATION, D, 2,
			       LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(tp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(sp, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	int ok = 0;
	for (int fail = 0; fail < 1000 && !ok; fail++) {
		int budget = fail;
		lupi_compare *c = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_compare_create(tp, sp, &c);
		if (rc == LUPI_OK)
			rc = lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS,
						  1);
		if (rc == LUPI_OK)
			rc = lupi_compare_run(c, train, test, NULL, NULL);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM,
			      "failure %d: %d (%s)", fail, rc, lupi_errmsg());
		ok = rc == LUPI_OK;
		if (ok)
			ck_assert_uint_eq(lupi_compare_rows(c), 4);
		else if (c != NULL)
			assert_no_table(c);
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
	tcase_add_test(tc, one_repetition_has_zero_std);
	tcase_add_test(tc, regression_uses_mse_and_training_mean);
	tcase_add_test(tc, options);
	tcase_add_test(tc, repetition_r_uses_seed_plus_r);
	tcase_add_test(tc, run_each_draws_a_pair_per_repetition);
	tcase_add_test(tc, progress_counts_models_and_cancels);
	tcase_add_test(tc, shares_merge_to_the_whole_table);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
