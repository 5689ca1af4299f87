/* Online imitation: what a grown or evicting dataset does to teacher
 * caches and external outputs (the rules of lupi.h), and the DAgger
 * training helper with an external expert's labels. */
#include <math.h>

#include "control/control_internal.h"
#include "testutil.h"

static uint64_t forwards(const lupi_teacher *t)
{
	return atomic_load(&t->n_forward);
}

/* n rows of 2 features drawn from seed; labels: the sign of x0 + x1. */
static void draw(uint64_t seed, size_t n, float *x, int32_t *y)
{
	lupi__rng rng;
	lupi__rng_seed(&rng, seed);
	for (size_t i = 0; i < n; i++) {
		x[2 * i] = (float)lupi__rng_normal(&rng);
		x[2 * i + 1] = (float)lupi__rng_normal(&rng);
		if (y != NULL)
			y[i] = x[2 * i] + x[2 * i + 1] > 0;
	}
}

START_TEST(cache_rules_on_append_and_eviction)
{
	float x[30];
	int32_t y[15];
	draw(1, 15, x, y);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(10, 2, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	size_t hidden[1] = {4};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, hidden,
					   1, 2, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
	uint64_t f0 = forwards(t);
	size_t idx[15];
	for (size_t i = 0; i < 15; i++)
		idx[i] = i;
	float before[20], after[30], again[30];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 10, before, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(forwards(t), f0); /* read from the cache */

	/* Append: same identity, old rows unchanged; the cache is not read
	 * for the grown dataset, outputs are computed (the same values). */
	uint64_t id = ds->id;
	ck_assert_int_eq(lupi_dataset_append(ds, 5, x + 20, NULL, NULL, y + 10,
					     NULL, NULL), LUPI_OK);
	ck_assert_uint_eq(ds->id, id);
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 15, after, NULL),
			 LUPI_OK);
	ck_assert_uint_gt(forwards(t), f0);
	for (size_t j = 0; j < 20; j++)
		ck_assert_float_eq(after[j], before[j]);
	/* Prepared again, it covers the grown dataset. */
	ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
	uint64_t f1 = forwards(t);
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 15, again, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(forwards(t), f1);
	for (size_t j = 0; j < 30; j++)
		ck_assert_float_eq(again[j], after[j]);

	/* Eviction shifts the rows: a new identity, so the cache (same row
	 * count after a later append) is never read for the shifted rows. */
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 15), LUPI_OK);
	float xn[2] = {5, -5};
	int32_t yn = 0;
	ck_assert_int_eq(lupi_dataset_append(ds, 1, xn, NULL, NULL, &yn, NULL,
					     NULL), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 15);
	ck_assert_uint_ne(ds->id, id);
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 15, again, NULL),
			 LUPI_OK);
	ck_assert_uint_gt(forwards(t), f1);
	for (size_t j = 0; j < 28; j++) /* row i is the old row i + 1 */
		ck_assert_float_eq(again[j], after[j + 2]);

	/* External outputs are tied to the rows they were given for. */
	lupi_teacher *ext = NULL;
	float logits[30] = {0};
	ck_assert_int_eq(lupi_teacher_create(&ext), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(ext, ds, logits, 2,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(ext, ds, idx, 2, again, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 0), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_append(ds, 1, xn, NULL, NULL, &yn, NULL,
					     NULL), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(ext, ds, idx, 2, again, NULL),
			 LUPI_EMISMATCH);
	lupi_teacher_free(ext);
	lupi_teacher_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* An external expert (the rule sign(x0 + x1)) labels the states a
 * growing dataset receives; the student imitates it from the labels
 * alone (teacher NULL). */
START_TEST(dagger_steps_learn_from_appended_labels)
{
	enum { N = 400 };
	float x[2 * N], xt[2 * N];
	int32_t y[N], yt[N];
	draw(2, N, x, y);
	draw(3, N, xt, yt);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(20, 2, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	lupi_model *s = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, NULL,
					   0, 2, &s), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(s, LUPI_MODEL_OPT_LR, 0.05),
			 LUPI_OK);
	uint64_t state = 9;
	double loss;
	for (size_t off = 20; off < N; off += 20) {
		ck_assert_int_eq(lupi_dataset_append(ds, 20, x + 2 * off, NULL,
						     NULL, y + off, NULL,
						     NULL), LUPI_OK);
		ck_assert_int_eq(lupi_dagger_steps(s, NULL, NULL, ds, 20, 16,
						   &state, &loss), LUPI_OK);
	}
	ck_assert(isfinite(loss));
	int32_t pred[N];
	ck_assert_int_eq(lupi_model_predict_class(s, xt, N, 2, pred), LUPI_OK);
	size_t right = 0;
	for (size_t i = 0; i < N; i++)
		right += pred[i] == yt[i];
	ck_assert_msg(right > 0.9 * N, "%zu of %d right", right, N);
	/* Errors. */
	ck_assert_int_eq(lupi_dagger_steps(NULL, NULL, NULL, ds, 1, 1, &state,
					   NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dagger_steps(s, NULL, NULL, ds, 0, 1, &state,
					   NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dagger_steps(s, NULL, NULL, ds, 1, 0, &state,
					   NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dagger_steps(s, NULL, NULL, ds, 1, 1, NULL,
					   NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dagger_steps(s, NULL, NULL, ds, 1, 2000000,
					   &state, NULL), LUPI_ERANGE);
	lupi_model *wrong = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 3, NULL,
					   0, 2, &wrong), LUPI_OK);
	ck_assert_int_eq(lupi_dagger_steps(wrong, NULL, NULL, ds, 1, 4,
					   &state, NULL), LUPI_ESHAPE);
	lupi_model_free(wrong);
	lupi_model_free(s);
	lupi_dataset_free(ds);
}
END_TEST

static Suite *dagger_suite(void)
{
	Suite *s = suite_create("dagger");
	TCase *tc = tcase_create("dagger");
	tcase_add_test(tc, cache_rules_on_append_and_eviction);
	tcase_add_test(tc, dagger_steps_learn_from_appended_labels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lupi_test_run(dagger_suite());
}
