/* NaN and infinity: where they come from (a huge learning rate, parameters
 * set by the host, data, teacher outputs) and what the library does with
 * them: LUPI_ENONFINITE (or LUPI_EINVAL at input validation), a message
 * naming the tensor, and the model left exactly as it was. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"

#include "lupi.h"

#define N 16
#define D 4
#define K 3

static float X[N * D], T[N];
static int32_t Y[N];

static void make_data(void)
{
	for (size_t i = 0; i < N * D; i++)
		X[i] = (float)((i * 7) % 13) / 6.0f - 1.0f;
	for (size_t i = 0; i < N; i++) {
		Y[i] = (int32_t)(i % K);
		T[i] = 1e15f * (float)(i % 3 + 1);
	}
}

static const size_t IDX[N] = {0, 1, 2,  3,  4,  5,  6,  7,
                              8, 9, 10, 11, 12, 13, 14, 15};

static lupi_dataset *dataset(int regression)
{
	lupi_dataset *ds = NULL;
	make_data();
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &ds), LUPI_OK);
	if (regression)
		ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, T), LUPI_OK);
	else
		ck_assert_int_eq(lupi_dataset_set_labels(ds, K, Y), LUPI_OK);
	return ds;
}

static lupi_model *classifier(void)
{
	static const size_t hidden[] = {5};
	lupi_model *m = NULL;
	ck_assert_int_eq(
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, K, &m),
	    LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 5), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	return m;
}

static float *params(const lupi_model *m)
{
	size_t n = lupi_model_num_params(m);
	float *p = malloc(n * sizeof *p);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(lupi_model_get_params(m, p, n), LUPI_OK);
	return p;
}

static int all_finite(const float *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

/* The message of a non-finite failure says what was not finite. */
static void assert_names_tensor(void)
{
	const char *msg = lupi_errmsg();
	ck_assert_msg(strstr(msg, "finite") != NULL, "message: %s", msg);
	ck_assert_msg(strstr(msg, "loss") || strstr(msg, "gradient") ||
	                  strstr(msg, "output") || strstr(msg, "weights") ||
	                  strstr(msg, "biases") || strstr(msg, "logits") ||
	                  strstr(msg, "parameter"),
	              "message names no tensor: %s", msg);
}

/* SGD at the largest allowed rate on targets of 1e15 without
 * standardisation: the weights grow about 1000-fold per step. Every step
 * that returns LUPI_OK must leave finite parameters, and the first failing
 * step must be LUPI_ENONFINITE and change nothing. */
START_TEST(huge_learning_rate)
{
	lupi_set_num_threads(1);
	lupi_dataset *ds = dataset(1);
	lupi_model *m = NULL;
	ck_assert_int_eq(
	    lupi_model_create(LUPI_TASK_REGRESSION, D, NULL, 0, 1, &m),
	    LUPI_OK);
	ck_assert_int_eq(
	    lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER, LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1e3), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	int rc = LUPI_OK, steps = 0;
	while (rc == LUPI_OK && steps < 100) {
		float *before = params(m);
		rc = lupi_model_step(m, ds, IDX, N, NULL);
		float *after = params(m);
		if (rc == LUPI_OK) {
			ck_assert_msg(all_finite(after, np),
			              "step %d returned LUPI_OK and left "
			              "non-finite parameters",
			              steps + 1);
		} else {
			ck_assert_int_eq(rc, LUPI_ENONFINITE);
			assert_names_tensor();
			ck_assert_mem_eq(before, after, np * sizeof *after);
		}
		free(before);
		free(after);
		steps++;
	}
	ck_assert_msg(rc == LUPI_ENONFINITE, "no failure in %d steps", steps);
	/* the failed step did not make the model unusable */
	float *y = malloc(N * sizeof *y);
	ck_assert_int_eq(lupi_model_predict(m, X, N, D, LUPI_PREDICT_OUTPUT, y),
	                 LUPI_OK);
	free(y);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A NaN weight set by the host: the step and the gradient without an
 * update fail, the parameters (the NaN included, bit for bit) and the
 * optimiser state stay as they were - a model repaired afterwards trains
 * exactly as a copy taken before. */
static void nan_param_case(int student)
{
	lupi_set_num_threads(1);
	lupi_dataset *ds = dataset(0);
	lupi_model *m = classifier(), *copy = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *loss = NULL;
	if (student) {
		float z[N * K];
		for (size_t i = 0; i < N * K; i++)
			z[i] = (float)(i % 5) - 2.0f;
		ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
		ck_assert_int_eq(lupi_teacher_add_outputs(
		                     t, ds, z, K, LUPI_OUTPUTS_LOGITS, 1.0),
		                 LUPI_OK);
		ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss),
		                 LUPI_OK);
	}
#define STEP(model)                                                            \
	(student ? lupi_student_step(model, t, loss, ds, IDX, N, NULL)         \
	         : lupi_model_step(model, ds, IDX, N, NULL))
#define GRADIENT(model, g, n)                                                  \
	(student ? lupi_student_gradient(model, t, loss, ds, IDX, N, NULL, g, n) \
	         : lupi_model_gradient(model, ds, IDX, N, NULL, g, n))
	/* one good step first, so that there is optimiser state to keep */
	ck_assert_int_eq(STEP(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_clone(m, &copy), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *good = params(m), *bad = params(m);
	bad[1] = NAN;
	ck_assert_int_eq(lupi_model_set_params(m, bad, np), LUPI_OK);
	ck_assert_int_eq(STEP(m), LUPI_ENONFINITE);
	assert_names_tensor();
	float *after = params(m);
	ck_assert_mem_eq(after, bad, np * sizeof *bad);
	float *grad = malloc(np * sizeof *grad);
	ck_assert_ptr_nonnull(grad);
	ck_assert_int_eq(GRADIENT(m, grad, np), LUPI_ENONFINITE);
	assert_names_tensor();
	free(after);
	after = params(m);
	ck_assert_mem_eq(after, bad, np * sizeof *bad);
	free(grad);
	ck_assert_int_eq(lupi_model_set_params(m, good, np), LUPI_OK);
	ck_assert_int_eq(STEP(m), LUPI_OK);
	ck_assert_int_eq(STEP(copy), LUPI_OK);
	float *pm = params(m), *pc = params(copy);
	ck_assert_mem_eq(pm, pc, np * sizeof *pm);
#undef STEP
#undef GRADIENT
	free(good);
	free(bad);
	free(after);
	free(pm);
	free(pc);
	lupi_model_free(m);
	lupi_model_free(copy);
	lupi_teacher_free(t);
	lupi_loss_free(loss);
	lupi_dataset_free(ds);
}

START_TEST(nan_parameter_model_step)
{
	nan_param_case(0);
}
END_TEST

START_TEST(nan_parameter_student_step)
{
	nan_param_case(1);
}
END_TEST

/* A gradient computed elsewhere (lupi_model_apply_gradient) that holds a
 * NaN or an infinity, or whose update would overflow a weight (SGD at the
 * largest rate), is refused and changes nothing; a finite one then
 * applies. */
START_TEST(apply_nonfinite_gradient)
{
	lupi_model *m = classifier();
	ck_assert_int_eq(
	    lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER, LUPI_OPTIM_SGD),
	    LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1e3),
	                 LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *before = params(m), *g = calloc(np, sizeof *g), *after;
	ck_assert_ptr_nonnull(g);
	static const float bad[] = {NAN, INFINITY, -INFINITY, 1e38f};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		g[3] = bad[i];
		ck_assert_msg(lupi_model_apply_gradient(m, g, np) ==
		                  LUPI_ENONFINITE,
		              "gradient %g accepted", (double)bad[i]);
		ck_assert(strstr(lupi_errmsg(), "finite") != NULL);
		after = params(m);
		ck_assert_mem_eq(before, after, np * sizeof *after);
		free(after);
	}
	g[3] = 1e-3f;
	ck_assert_int_eq(lupi_model_apply_gradient(m, g, np), LUPI_OK);
	after = params(m);
	/* SGD without momentum or decay: w3 - 1e3 * 1e-3 */
	ck_assert_float_eq_tol(after[3], before[3] - 1.0f, 1e-5f);
	ck_assert(all_finite(after, np));
	free(after);
	free(before);
	free(g);
	lupi_model_free(m);
}
END_TEST

/* External teacher outputs are checked when they come in: an infinity or
 * NaN is refused with its sample and output, and the teacher stays empty
 * and usable. */
START_TEST(infinite_teacher_output)
{
	lupi_dataset *ds = dataset(0);
	float z[N * K];
	for (size_t i = 0; i < N * K; i++)
		z[i] = 1.0f / K;
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	for (int kind = LUPI_OUTPUTS_LOGITS; kind <= LUPI_OUTPUTS_PROBS;
	     kind++) {
		z[2 * K + 1] = kind == LUPI_OUTPUTS_LOGITS ? INFINITY : NAN;
		int rc = lupi_teacher_add_outputs(t, ds, z, K, kind, 1.0);
		ck_assert_msg(rc == LUPI_ENONFINITE || rc == LUPI_EINVAL,
		              "kind %d: %d", kind, rc);
		ck_assert_msg(strstr(lupi_errmsg(), "sample 2") != NULL &&
		                  strstr(lupi_errmsg(), "1") != NULL,
		              "message: %s", lupi_errmsg());
		ck_assert_uint_eq(lupi_teacher_num_outputs(t), 0);
	}
	z[2 * K + 1] = 1.0f / K;
	ck_assert_int_eq(
	    lupi_teacher_add_outputs(t, ds, z, K, LUPI_OUTPUTS_PROBS, 1.0),
	    LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), K);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* Finite but extreme teacher logits (+-1e30) must not turn into NaN: the
 * softmax meets the log through log-sum-exp. Reverse KL weighs log q itself
 * (-2e30 here), so its gradient is finite but its square overflows Adam's
 * float second moment: that step must fail and change nothing. */
START_TEST(extreme_teacher_logits_stay_finite)
{
	lupi_set_num_threads(1);
	lupi_dataset *ds = dataset(0);
	lupi_model *m = classifier();
	float z[N * K];
	for (size_t i = 0; i < N * K; i++)
		z[i] = i % 2 ? 1e30f : -1e30f;
	lupi_teacher *t = NULL;
	lupi_loss *loss = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(
	    lupi_teacher_add_outputs(t, ds, z, K, LUPI_OUTPUTS_LOGITS, 1.0),
	    LUPI_OK);
	for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
		ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss),
		                 LUPI_OK);
		ck_assert_int_eq(
		    lupi_loss_set_int(loss, LUPI_LOSS_OPT_DIVERGENCE, div),
		    LUPI_OK);
		double v = NAN;
		float *before = params(m);
		int rc = lupi_student_step(m, t, loss, ds, IDX, N, &v);
		float *p = params(m);
		if (div == LUPI_DIV_REVERSE_KL) {
			ck_assert_int_eq(rc, LUPI_ENONFINITE);
			ck_assert_ptr_nonnull(
			    strstr(lupi_errmsg(), "optimiser state"));
			ck_assert_mem_eq(before, p, lupi_model_num_params(m) *
			                                sizeof *p);
		} else {
			ck_assert_msg(rc == LUPI_OK, "divergence %d: %s", div,
			              lupi_errmsg());
			ck_assert_msg(isfinite(v), "divergence %d: loss %g",
			              div, v);
		}
		ck_assert(all_finite(p, lupi_model_num_params(m)));
		free(before);
		free(p);
		lupi_loss_free(loss);
	}
	lupi_teacher_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A NaN in the student outputs given to a loss names sample and column. */
START_TEST(loss_eval_names_the_sample)
{
	lupi_loss *loss = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss), LUPI_OK);
	float s[4 * K] = {0}, t[4 * K] = {0}, g[4 * K];
	int32_t y[4] = {0, 1, 2, 0};
	s[1 * K + 2] = NAN;
	double v;
	ck_assert_int_eq(
	    lupi_loss_eval(loss, 4, K, s, t, y, NULL, NULL, NULL, &v, g),
	    LUPI_ENONFINITE);
	ck_assert_msg(strstr(lupi_errmsg(), "sample 1") != NULL &&
	                  strstr(lupi_errmsg(), "student") != NULL,
	              "message: %s", lupi_errmsg());
	lupi_loss_free(loss);
}
END_TEST

/* Data: a NaN feature is refused with its sample. */
START_TEST(nan_feature_in_dataset)
{
	make_data();
	float x[N * D];
	memcpy(x, X, sizeof x);
	x[3 * D + 2] = NAN;
	lupi_dataset *ds = (lupi_dataset *)x;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_ENONFINITE);
	ck_assert_ptr_null(ds);
	ck_assert_msg(strstr(lupi_errmsg(), "sample 3") != NULL &&
	                  strstr(lupi_errmsg(), "feature") != NULL,
	              "message: %s", lupi_errmsg());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nonfinite");
	TCase *tc = tcase_create("training");
	tcase_add_test(tc, huge_learning_rate);
	tcase_add_test(tc, nan_parameter_model_step);
	tcase_add_test(tc, nan_parameter_student_step);
	tcase_add_test(tc, extreme_teacher_logits_stay_finite);
	tcase_add_test(tc, apply_nonfinite_gradient);
	suite_add_tcase(s, tc);
	tc = tcase_create("inputs");
	tcase_add_test(tc, infinite_teacher_output);
	tcase_add_test(tc, loss_eval_names_the_sample);
	tcase_add_test(tc, nan_feature_in_dataset);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
