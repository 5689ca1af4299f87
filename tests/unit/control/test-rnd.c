/* Random network distillation: the running statistics and reward
 * normalisation against hand computations, observation normalisation, the
 * novelty score against the two networks' predictions, and a random,
 * never trained teacher. */
#include <math.h>

#include "control/control_internal.h"
#include "testutil.h"

/* The prior of the running statistics (count 1e-4, mean 0, variance 1)
 * merged with values v[0..n): mean sum / (n + c) and variance
 * (c (1 + mean^2) + sum (v - mean)^2) / (n + c), written out directly. */
static void closed_form(const double *v, size_t n, double *mean, double *var)
{
	double c = 1e-4, s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	*mean = s / (n + c);
	double m2 = c * (1.0 + *mean * *mean);
	for (size_t i = 0; i < n; i++)
		m2 += (v[i] - *mean) * (v[i] - *mean);
	*var = m2 / (n + c);
}

START_TEST(observation_statistics_by_hand)
{
	lupi_rnd *r = NULL;
	ck_assert_int_eq(lupi_rnd_create(2, 0.99, &r), LUPI_OK);
	float a[6] = {1, 10, 2, 20, 3, 30};
	float b[4] = {-4, 0, 8, 5};
	ck_assert_int_eq(lupi_rnd_observe(r, a, 3, 2), LUPI_OK);
	ck_assert_int_eq(lupi_rnd_observe(r, b, 2, 2), LUPI_OK);
	double col0[5] = {1, 2, 3, -4, 8}, col1[5] = {10, 20, 30, 0, 5};
	double mean[2], std[2], m, v;
	ck_assert_int_eq(lupi_rnd_stats(r, mean, std, NULL), LUPI_OK);
	closed_form(col0, 5, &m, &v);
	ck_assert_double_eq_tol(mean[0], m, 1e-12);
	ck_assert_double_eq_tol(std[0], sqrt(v), 1e-12);
	closed_form(col1, 5, &m, &v);
	ck_assert_double_eq_tol(mean[1], m, 1e-12);
	ck_assert_double_eq_tol(std[1], sqrt(v), 1e-12);
	/* Normalised and clipped to +-5 standard deviations. */
	float x[4] = {2, 1000, -1000, 15};
	float out[4];
	ck_assert_int_eq(lupi_rnd_normalize(r, x, 2, 2, out), LUPI_OK);
	ck_assert_float_eq_tol(out[0], (2 - mean[0]) / std[0], 1e-6);
	ck_assert_float_eq(out[1], 5.0f);
	ck_assert_float_eq(out[2], -5.0f);
	ck_assert_float_eq_tol(out[3], (15 - mean[1]) / std[1], 1e-6);
	/* In place. */
	ck_assert_int_eq(lupi_rnd_normalize(r, x, 2, 2, x), LUPI_OK);
	ck_assert_float_eq(x[0], out[0]);
	/* Errors. */
	ck_assert_int_eq(lupi_rnd_observe(r, a, 2, 3), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_rnd_observe(r, a, 0, 2), LUPI_EINVAL);
	ck_assert_int_eq(lupi_rnd_observe(NULL, a, 1, 2), LUPI_EINVAL);
	float bad[2] = {NAN, 0};
	ck_assert_int_eq(lupi_rnd_observe(r, bad, 1, 2), LUPI_ENONFINITE);
	ck_assert_int_eq(lupi_rnd_normalize(r, a, 1, 2, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_rnd_stats(NULL, NULL, NULL, NULL), LUPI_EINVAL);
	lupi_rnd_free(r);
	lupi_rnd_free(NULL);
	ck_assert_int_eq(lupi_rnd_create(0, 0.9, &r), LUPI_ERANGE);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(lupi_rnd_create(2, 1.0, &r), LUPI_ERANGE);
	ck_assert_int_eq(lupi_rnd_create(2, -0.1, &r), LUPI_ERANGE);
	ck_assert_int_eq(lupi_rnd_create(2, 0.5, NULL), LUPI_EINVAL);
}
END_TEST

START_TEST(reward_normalisation_by_hand)
{
	lupi_rnd *r = NULL;
	ck_assert_int_eq(lupi_rnd_create(1, 0.5, &r), LUPI_OK);
	/* Returns with gamma 0.5: 1, 0.5 + 2 = 2.5, 1.25 + 3 = 4.25; then,
	 * continuing, 2.125 + 4 = 6.125 and 3.0625 + 0 = 3.0625. */
	float s1[3] = {1, 2, 3}, s2[2] = {4, 0}, out[3];
	ck_assert_int_eq(lupi_rnd_rewards(r, s1, 3, out), LUPI_OK);
	double ret[5] = {1, 2.5, 4.25, 6.125, 3.0625}, m, v, sd;
	closed_form(ret, 3, &m, &v);
	ck_assert_int_eq(lupi_rnd_stats(r, NULL, NULL, &sd), LUPI_OK);
	ck_assert_double_eq_tol(sd, sqrt(v), 1e-12);
	for (size_t i = 0; i < 3; i++)
		ck_assert_float_eq_tol(out[i], s1[i] / sqrt(v), 1e-6);
	ck_assert_int_eq(lupi_rnd_rewards(r, s2, 2, s2), LUPI_OK);
	closed_form(ret, 5, &m, &v);
	ck_assert_float_eq_tol(s2[0], 4 / sqrt(v), 1e-6);
	ck_assert_float_eq(s2[1], 0.0f);
	float bad = INFINITY;
	ck_assert_int_eq(lupi_rnd_rewards(r, &bad, 1, out), LUPI_ENONFINITE);
	ck_assert_int_eq(lupi_rnd_rewards(r, s1, 0, out), LUPI_EINVAL);
	lupi_rnd_free(r);
}
END_TEST

/* A regression network 3 -> 8 -> 4 with a seed, initialised, no inputs
 * standardisation. */
static lupi_model *net(uint64_t seed)
{
	size_t hidden[1] = {8};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 3, hidden, 1,
					   4, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED,
					    (int64_t)seed), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	return m;
}

START_TEST(novelty_is_the_prediction_error)
{
	lupi_model *target = net(1), *student = net(2);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	/* Never initialised: refused; initialised and never trained: a
	 * teacher. */
	ck_assert_int_eq(lupi_teacher_add_model(t, target, 1.0), LUPI_ESTATE);
	ck_assert_msg(strstr(lupi_errmsg(), "lupi_model_init") != NULL, "%s",
		      lupi_errmsg());
	ck_assert_int_eq(lupi_model_init(target), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, target, 1.0), LUPI_OK);
	float x[6] = {0.5f, -1, 2, 3, 0, -0.25f};
	float scores[2];
	ck_assert_int_eq(lupi_student_novelty(student, t, x, 2, 3, scores),
			 LUPI_ESTATE); /* the student has no weights yet */
	ck_assert_int_eq(lupi_model_init(student), LUPI_OK);
	ck_assert_int_eq(lupi_student_novelty(student, t, x, 2, 3, scores),
			 LUPI_OK);
	float ps[8], pt[8];
	ck_assert_int_eq(lupi_model_predict(student, x, 2, 3,
					    LUPI_PREDICT_OUTPUT, ps), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(target, x, 2, 3,
					    LUPI_PREDICT_OUTPUT, pt), LUPI_OK);
	for (size_t i = 0; i < 2; i++) {
		double e = 0;
		for (size_t c = 0; c < 4; c++)
			e += (ps[4 * i + c] - pt[4 * i + c]) *
			     (double)(ps[4 * i + c] - pt[4 * i + c]);
		ck_assert_float_eq_tol(scores[i], e / 4, 1e-6 * (1 + e));
		ck_assert_float_gt(scores[i], 0);
	}
	/* The teacher is the same model: error 0. */
	lupi_teacher *self = NULL;
	ck_assert_int_eq(lupi_teacher_create(&self), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(self, student, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_student_novelty(student, self, x, 2, 3, scores),
			 LUPI_OK);
	ck_assert_float_eq(scores[0], 0.0f);
	ck_assert_float_eq(scores[1], 0.0f);
	/* Errors. */
	ck_assert_int_eq(lupi_student_novelty(student, t, x, 2, 2, scores),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_student_novelty(student, t, x, 0, 3, scores),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_novelty(NULL, t, x, 2, 3, scores),
			 LUPI_EINVAL);
	lupi_teacher *empty = NULL;
	ck_assert_int_eq(lupi_teacher_create(&empty), LUPI_OK);
	ck_assert_int_eq(lupi_student_novelty(student, empty, x, 2, 3, scores),
			 LUPI_ESTATE);
	lupi_model *cls = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 3, NULL,
					   0, 4, &cls), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(cls), LUPI_OK);
	ck_assert_int_eq(lupi_student_novelty(cls, t, x, 2, 3, scores),
			 LUPI_ENOTSUP);
	lupi_model_free(cls);
	lupi_teacher_free(empty);
	lupi_teacher_free(self);
	lupi_teacher_free(t);
	lupi_model_free(target);
	lupi_model_free(student);
}
END_TEST

/* Distilling the random network on a set of states lowers their novelty
 * below that of states far from them: the whole RND loop with public
 * calls (a replay buffer, regression distillation, LAMBDA 1). */
START_TEST(distilled_states_become_familiar)
{
	lupi_model *target = net(11), *student = net(12);
	ck_assert_int_eq(lupi_model_init(target), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(student, LUPI_MODEL_OPT_LR,
					       1e-2), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, target, 1.0), LUPI_OK);
	enum { N = 64 };
	float x[N * 3], far[N * 3], zeros[N * 4] = {0};
	lupi__rng rng;
	lupi__rng_seed(&rng, 5);
	for (size_t i = 0; i < N * 3; i++) {
		x[i] = (float)(0.3 * lupi__rng_normal(&rng));
		far[i] = (float)(3.0 + 0.3 * lupi__rng_normal(&rng));
	}
	/* Targets are required by a regression dataset; LAMBDA 1 ignores
	 * them. */
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(1, 3, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 4, zeros), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 32), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_append(ds, N - 1, x + 3, NULL, NULL,
					     NULL, zeros, NULL), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 32);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 0), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_append(ds, N, x, NULL, NULL, NULL,
					     zeros, NULL), LUPI_OK);
	lupi_loss *loss = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_REGRESSION, &loss),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	uint64_t state = 3;
	double first, last;
	ck_assert_int_eq(lupi_dagger_steps(student, t, loss, ds, 1, 32, &state,
					   &first), LUPI_OK);
	ck_assert_int_eq(lupi_dagger_steps(student, t, loss, ds, 400, 32,
					   &state, &last), LUPI_OK);
	ck_assert_double_lt(last, first / 4);
	float near_s[N], far_s[N];
	ck_assert_int_eq(lupi_student_novelty(student, t, x, N, 3, near_s),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_novelty(student, t, far, N, 3, far_s),
			 LUPI_OK);
	double mn = 0, mf = 0;
	for (size_t i = 0; i < N; i++) {
		mn += near_s[i];
		mf += far_s[i];
	}
	ck_assert_msg(mf > 5 * mn, "near %g far %g", mn / N, mf / N);
	lupi_loss_free(loss);
	lupi_dataset_free(ds);
	lupi_teacher_free(t);
	lupi_model_free(target);
	lupi_model_free(student);
}
END_TEST

static Suite *rnd_suite(void)
{
	Suite *s = suite_create("rnd");
	TCase *tc = tcase_create("rnd");
	tcase_add_test(tc, observation_statistics_by_hand);
	tcase_add_test(tc, reward_normalisation_by_hand);
	tcase_add_test(tc, novelty_is_the_prediction_error);
	tcase_add_test(tc, distilled_states_become_familiar);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lupi_test_run(rnd_suite());
}
