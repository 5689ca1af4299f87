/* Knowledge transfer members (lib/train/transfer.c): the member's outputs
 * against the two models applied by hand, cross-fitting against fold
 * models trained by hand, composition with students, and errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "train/train_internal.h"
#include "testutil.h"

enum { N = 48 };

/* N samples: X (3 features) standard normal, X* (2 features) a linear map
 * of X plus noise, y = 1 when x*_0 + 0.5 x*_1 > 0. mask may be NULL. */
static lupi_dataset *make_ds(size_t n, const uint8_t *mask, uint64_t seed)
{
	float x[N * 3], xs[N * 2];
	int32_t y[N];
	lupi__rng r;
	ck_assert_uint_le(n, N);
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < 3; j++)
			x[3 * i + j] = (float)lupi__rng_normal(&r);
		xs[2 * i] = x[3 * i] - 0.5f * x[3 * i + 2] +
			    0.2f * (float)lupi__rng_normal(&r);
		xs[2 * i + 1] = 0.8f * x[3 * i + 1] +
				0.2f * (float)lupi__rng_normal(&r);
		y[i] = xs[2 * i] + 0.5f * xs[2 * i + 1] > 0.0f;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 3, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	return ds;
}

static lupi_model *model(int task, size_t n_in, size_t n_out, int view,
			 size_t hidden)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(task, n_in, &hidden, hidden ? 1 : 0,
					   n_out, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 20),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 8),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 5),
			 LUPI_OK);
	return m;
}

/* The regression data X -> X* of the samples of ds with X* (in index
 * order), through the public API. */
static lupi_dataset *regression_data(const lupi_dataset *ds,
				     const uint8_t *mask, const size_t *fold,
				     size_t skip)
{
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *xs = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	size_t n = lupi_dataset_rows(ds), m = 0;
	float rx[N * 3], rt[N * 2];
	for (size_t i = 0; i < n; i++) {
		if ((mask && !mask[i]) || (fold && fold[i] == skip))
			continue;
		memcpy(rx + 3 * m, x + 3 * i, 3 * sizeof *rx);
		memcpy(rt + 2 * m, xs + 2 * i, 2 * sizeof *rt);
		m++;
	}
	lupi_dataset *r = NULL;
	ck_assert_int_eq(lupi_dataset_create(m, 3, rx, &r), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(r, 2, rt), LUPI_OK);
	return r;
}

/* A trained regressor X -> X* (one hidden layer) and X*-model. */
static void trained_pair(const lupi_dataset *ds, lupi_model **reg,
			 lupi_model **xs)
{
	lupi_dataset *rd = regression_data(ds, NULL, NULL, 0);
	*reg = model(LUPI_TASK_REGRESSION, 3, 2, LUPI_VIEW_REGULAR, 4);
	ck_assert_int_eq(lupi_model_fit(*reg, rd, NULL, NULL, NULL), LUPI_OK);
	*xs = model(LUPI_TASK_CLASSIFICATION, 2, 2, LUPI_VIEW_PRIVILEGED, 3);
	ck_assert_int_eq(lupi_model_fit(*xs, ds, NULL, NULL, NULL), LUPI_OK);
	lupi_dataset_free(rd);
}

/* The X*-model's logits z at the regressor's outputs xhat for the N rows
 * of x: the two models applied by hand. */
static void composed(const lupi_model *reg, const lupi_model *xs,
		     const float *x, float *xhat, float *z)
{
	ck_assert_int_eq(lupi_model_predict(reg, x, N, 3, LUPI_PREDICT_OUTPUT,
					    xhat),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(xs, xhat, N, 2,
					    LUPI_PREDICT_LOGITS, z),
			 LUPI_OK);
}

/* idx = 0, 1, ..., N - 1. */
static void all_rows(size_t *idx)
{
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
}

/* The member's logits are the X*-model's logits at the regressor's
 * outputs, bit for bit, for every sample (X* or not), from the cache and
 * without; the host's models may be freed. */
START_TEST(member_outputs_are_the_two_models_composed)
{
	uint8_t mask[N];
	for (int i = 0; i < N; i++)
		mask[i] = i % 5 != 2;
	lupi_dataset *ds = make_ds(N, mask, 1);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	float xhat[N * 2], want[N * 2];
	composed(reg, xs, lupi_dataset_features(ds, LUPI_VIEW_REGULAR), xhat,
		 want);

	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_transfer(t, reg, xs, 2.0), LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 2);
	lupi_model_free(reg);
	lupi_model_free(xs);
	size_t idx[N];
	for (size_t i = 0; i < N; i++)
		idx[i] = N - 1 - i;
	float out[N * 2];
	uint8_t has[N];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, N, out, has),
			 LUPI_OK);
	for (size_t p = 0; p < N; p++) {
		ck_assert_int_eq(has[p], 1);
		ck_assert_mem_eq(out + 2 * p, want + 2 * idx[p],
				 2 * sizeof *out);
	}
	uint64_t before = t->n_forward;
	ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
	float cached[N * 2];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, N, cached, NULL),
			 LUPI_OK);
	ck_assert_mem_eq(cached, out, sizeof out);
	ck_assert_uint_eq(t->n_forward, before + 1);

	/* A test set without X* at all: the member needs only X. */
	lupi_dataset *test = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, 3,
					     lupi_dataset_features(
						     ds, LUPI_VIEW_REGULAR),
					     &test),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(t, test, idx, N, out, has),
			 LUPI_OK);
	for (size_t p = 0; p < N; p++) {
		ck_assert_int_eq(has[p], 1);
		ck_assert_mem_eq(out + 2 * p, want + 2 * idx[p],
				 2 * sizeof *out);
	}
	/* Feature losses need one plain model. */
	ck_assert_ptr_null(lupi__teacher_model(t));
	lupi_dataset_free(test);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* With a model member on X*, the outputs average the two members'
 * probabilities by weight where both see the sample; the transfer member
 * alone where X* is missing. */
START_TEST(member_combines_with_a_model_member)
{
	uint8_t mask[N];
	for (int i = 0; i < N; i++)
		mask[i] = i % 4 != 0;
	lupi_dataset *ds = make_ds(N, mask, 2);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *xst = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	float xhat[N * 2], zt[N * 2], zm[N * 2];
	composed(reg, xs, x, xhat, zt);
	ck_assert_int_eq(lupi_model_predict(xs, xst, N, 2,
					    LUPI_PREDICT_LOGITS, zm),
			 LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, xs, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_transfer(t, reg, xs, 3.0), LUPI_OK);
	size_t idx[N];
	all_rows(idx);
	float out[N * 2];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, N, out, NULL),
			 LUPI_OK);
	for (size_t i = 0; i < N; i++) {
		if (!mask[i]) {
			ck_assert_mem_eq(out + 2 * i, zt + 2 * i,
					 2 * sizeof *out);
			continue;
		}
		double pm[2], pt[2], sm = 0, st = 0;
		for (int c = 0; c < 2; c++) {
			pm[c] = exp(zm[2 * i + c]);
			pt[c] = exp(zt[2 * i + c]);
			sm += pm[c];
			st += pt[c];
		}
		for (int c = 0; c < 2; c++) {
			double p = (pm[c] / sm + 3.0 * pt[c] / st) / 4.0;
			ck_assert_double_eq_tol(out[2 * i + c], log(p), 1e-5);
		}
	}
	lupi_teacher_free(t);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_dataset_free(ds);
}
END_TEST

/* Each sample's X-hat* comes from the fold model that did not see it:
 * fold models trained by hand on the same rows predict the same floats;
 * the cross-fitted teacher is the X*-model on them. */
START_TEST(crossfit_uses_held_out_regressors)
{
	uint8_t mask[N];
	for (int i = 0; i < N; i++)
		mask[i] = i % 7 != 3;
	lupi_dataset *ds = make_ds(N, mask, 3);
	lupi_model *proto = model(LUPI_TASK_REGRESSION, 3, 2,
				  LUPI_VIEW_REGULAR, 4);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	float xhat[N * 2];
	ck_assert_int_eq(lupi_transfer_crossfit(proto, ds, 3, 17, xhat),
			 LUPI_OK);
	size_t fold[N];
	ck_assert_int_eq(lupi__crossfit_folds(ds, LUPI_VIEW_REGULAR, 3, 17,
					      fold),
			 LUPI_OK);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	size_t per_fold[3] = {0}, differ = 0;
	for (size_t f = 0; f < 3; f++) {
		lupi_dataset *rd = regression_data(ds, mask, fold, f);
		lupi_model *m = NULL;
		ck_assert_int_eq(lupi_model_clone(proto, &m), LUPI_OK);
		ck_assert_int_eq(lupi_model_fit(m, rd, NULL, NULL, NULL),
				 LUPI_OK);
		for (size_t i = 0; i < N; i++) {
			ck_assert_uint_lt(fold[i], 3);
			if (fold[i] != f)
				continue;
			per_fold[f]++;
			float z[2], zf[2];
			ck_assert_int_eq(lupi_model_predict(m, x + 3 * i, 1, 3,
							    LUPI_PREDICT_OUTPUT,
							    z),
					 LUPI_OK);
			ck_assert_mem_eq(xhat + 2 * i, z, sizeof z);
			ck_assert_int_eq(lupi_model_predict(reg, x + 3 * i, 1,
							    3,
							    LUPI_PREDICT_OUTPUT,
							    zf),
					 LUPI_OK);
			differ += zf[0] != z[0] || zf[1] != z[1];
		}
		lupi_model_free(m);
		lupi_dataset_free(rd);
	}
	/* All 48 samples, with X* or not, are dealt: 16 per fold. */
	for (size_t f = 0; f < 3; f++)
		ck_assert_uint_eq(per_fold[f], 16);
	ck_assert_uint_eq(differ, N);

	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create_crossfit_transfer(proto, xs, ds, 3,
							       17, &t),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 2);
	float want[N * 2], out[N * 2];
	ck_assert_int_eq(lupi_model_predict(xs, xhat, N, 2,
					    LUPI_PREDICT_LOGITS, want),
			 LUPI_OK);
	size_t idx[N];
	uint8_t has[N];
	all_rows(idx);
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, N, out, has),
			 LUPI_OK);
	ck_assert_mem_eq(out, want, sizeof out);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(has[i], 1);
	/* Tied to ds. */
	lupi_dataset *other = make_ds(N, NULL, 3);
	ck_assert_int_eq(lupi_teacher_outputs(t, other, idx, 1, out, NULL),
			 LUPI_EMISMATCH);
	/* Another seed deals other folds. */
	float xhat2[N * 2];
	ck_assert_int_eq(lupi_transfer_crossfit(proto, ds, 3, 18, xhat2),
			 LUPI_OK);
	ck_assert_int_ne(memcmp(xhat, xhat2, sizeof xhat), 0);
	lupi_dataset_free(other);
	lupi_teacher_free(t);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}
END_TEST

/* A student distils from a transfer teacher like from any other: it ends
 * up agreeing with the teacher on the training samples. */
START_TEST(student_distils_from_a_transfer_teacher)
{
	lupi_dataset *ds = make_ds(N, NULL, 4);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	lupi_teacher *t = NULL, *cf = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_transfer(t, reg, xs, 1.0), LUPI_OK);
	lupi_model *proto = model(LUPI_TASK_REGRESSION, 3, 2,
				  LUPI_VIEW_REGULAR, 0);
	ck_assert_int_eq(lupi_teacher_create_crossfit_transfer(proto, xs, ds, 4,
							       9, &cf),
			 LUPI_OK);
	lupi_loss *kd = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &kd), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	lupi_teacher *ts[2] = {t, cf};
	for (int q = 0; q < 2; q++) {
		lupi_model *s = model(LUPI_TASK_CLASSIFICATION, 3, 2,
				      LUPI_VIEW_REGULAR, 0);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS,
						    60),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_fit(s, ts[q], kd, ds, NULL, NULL,
						  NULL),
				 LUPI_OK);
		size_t idx[N], agree = 0;
		float z[N * 2];
		int32_t cls[N];
		all_rows(idx);
		ck_assert_int_eq(lupi_teacher_outputs(ts[q], ds, idx, N, z,
						      NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_predict_class(
					 s, lupi_dataset_features(
						    ds, LUPI_VIEW_REGULAR),
					 N, 3, cls),
				 LUPI_OK);
		for (size_t i = 0; i < N; i++)
			agree += cls[i] == (z[2 * i + 1] > z[2 * i]);
		ck_assert_msg(agree >= N * 9 / 10, "teacher %d: %zu of %d",
			      q, agree, N);
		lupi_model_free(s);
	}
	lupi_loss_free(kd);
	lupi_model_free(proto);
	lupi_teacher_free(cf);
	lupi_teacher_free(t);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_dataset_free(ds);
}
END_TEST

static void expect(int rc, int want, const char *msg)
{
	ck_assert_msg(rc == want, "rc %d, want %d (%s)", rc, want,
		      lupi_errmsg());
	if (msg != NULL)
		ck_assert_msg(strstr(lupi_errmsg(), msg) != NULL,
			      "message \"%s\" lacks \"%s\"", lupi_errmsg(),
			      msg);
}

START_TEST(member_errors)
{
	lupi_dataset *ds = make_ds(N, NULL, 5);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	expect(lupi_teacher_add_transfer(NULL, reg, xs, 1.0), LUPI_EINVAL,
	       NULL);
	expect(lupi_teacher_add_transfer(t, NULL, xs, 1.0), LUPI_EINVAL,
	       NULL);
	expect(lupi_teacher_add_transfer(t, reg, NULL, 1.0), LUPI_EINVAL,
	       NULL);
	expect(lupi_teacher_add_transfer(t, reg, xs, 0.0), LUPI_EINVAL,
	       "weight");
	expect(lupi_teacher_add_transfer(t, reg, xs, NAN), LUPI_EINVAL,
	       "weight");
	/* Wrong tasks: the X*-model as regressor. */
	lupi_model *cls3 = model(LUPI_TASK_CLASSIFICATION, 3, 2,
				 LUPI_VIEW_REGULAR, 0);
	ck_assert_int_eq(lupi_model_fit(cls3, ds, NULL, NULL, NULL), LUPI_OK);
	expect(lupi_teacher_add_transfer(t, cls3, xs, 1.0), LUPI_EINVAL,
	       "not regression");
	/* View mismatch: the X*-model on the regular view, a regressor that
	 * reads X*. */
	expect(lupi_teacher_add_transfer(t, reg, cls3, 1.0), LUPI_EINVAL,
	       "view is regular, not privileged");
	lupi_model *regp = model(LUPI_TASK_REGRESSION, 5, 2, LUPI_VIEW_BOTH,
				 0);
	ck_assert_int_eq(lupi_model_init(regp), LUPI_OK);
	expect(lupi_teacher_add_transfer(t, regp, xs, 1.0), LUPI_EINVAL,
	       "reads X* (view both)");
	/* Widths: a regressor of 3 outputs for an X*-model of 2 inputs. */
	lupi_model *reg3 = model(LUPI_TASK_REGRESSION, 3, 3,
				 LUPI_VIEW_REGULAR, 0);
	expect(lupi_teacher_add_transfer(t, reg3, xs, 1.0), LUPI_ESTATE,
	       "regressor is not trained");
	ck_assert_int_eq(lupi_model_init(reg3), LUPI_OK);
	expect(lupi_teacher_add_transfer(t, reg3, xs, 1.0), LUPI_ESHAPE,
	       "regressor has 3 outputs, the X*-model 2 inputs");
	lupi_model *fresh = model(LUPI_TASK_CLASSIFICATION, 2, 2,
				  LUPI_VIEW_PRIVILEGED, 0);
	expect(lupi_teacher_add_transfer(t, reg, fresh, 1.0), LUPI_ESTATE,
	       "X*-model is not trained");
	ck_assert_uint_eq(t->n_members, 0);
	/* Task and outputs against an earlier member. */
	lupi_model *xs3 = model(LUPI_TASK_CLASSIFICATION, 2, 3,
				LUPI_VIEW_PRIVILEGED, 0);
	ck_assert_int_eq(lupi_model_init(xs3), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_transfer(t, reg, xs, 1.0), LUPI_OK);
	expect(lupi_teacher_add_transfer(t, reg, xs3, 1.0), LUPI_ESHAPE,
	       "member has 3 outputs, teacher 2");
	ck_assert_uint_eq(t->n_members, 1);
	/* A dataset whose regular view is not the regressor's width. */
	float x2[4] = {0, 1, 2, 3};
	lupi_dataset *narrow = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x2, &narrow), LUPI_OK);
	size_t idx[1] = {0};
	float out[2];
	expect(lupi_teacher_outputs(t, narrow, idx, 1, out, NULL),
	       LUPI_ESHAPE,
	       "member 0 (transfer) has a regressor of 3 inputs, the "
	       "dataset's regular view has 2 features");
	expect(lupi_teacher_prepare(t, narrow), LUPI_ESHAPE, NULL);
	lupi_dataset_free(narrow);
	lupi_model_free(xs3);
	lupi_model_free(fresh);
	lupi_model_free(reg3);
	lupi_model_free(regp);
	lupi_model_free(cls3);
	lupi_teacher_free(t);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(crossfit_errors)
{
	lupi_dataset *ds = make_ds(N, NULL, 6);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	lupi_model *proto = model(LUPI_TASK_REGRESSION, 3, 2,
				  LUPI_VIEW_REGULAR, 0);
	float xhat[N * 2];
	lupi_teacher *t = (lupi_teacher *)1;
	expect(lupi_teacher_create_crossfit_transfer(proto, xs, ds, 1, 0, &t),
	       LUPI_ERANGE, "k_folds 1");
	ck_assert_ptr_null(t);
	expect(lupi_transfer_crossfit(proto, ds, N + 1, 0, xhat), LUPI_ERANGE,
	       "k_folds 49");
	expect(lupi_transfer_crossfit(NULL, ds, 3, 0, xhat), LUPI_EINVAL,
	       NULL);
	expect(lupi_transfer_crossfit(proto, NULL, 3, 0, xhat), LUPI_EINVAL,
	       NULL);
	expect(lupi_transfer_crossfit(proto, ds, 3, 0, NULL), LUPI_EINVAL,
	       NULL);
	expect(lupi_teacher_create_crossfit_transfer(proto, NULL, ds, 3, 0,
						     &t),
	       LUPI_EINVAL, NULL);
	expect(lupi_teacher_create_crossfit_transfer(proto, xs, ds, 3, 0,
						     NULL),
	       LUPI_EINVAL, NULL);
	/* Wrong task, wrong widths, a view mismatch. */
	lupi_model *cls = model(LUPI_TASK_CLASSIFICATION, 3, 2,
				LUPI_VIEW_REGULAR, 0);
	expect(lupi_transfer_crossfit(cls, ds, 3, 0, xhat), LUPI_EINVAL,
	       "not regression");
	lupi_model *wide = model(LUPI_TASK_REGRESSION, 4, 2,
				 LUPI_VIEW_REGULAR, 0);
	expect(lupi_transfer_crossfit(wide, ds, 3, 0, xhat), LUPI_ESHAPE,
	       "model has 4 inputs, the dataset's regular view has 3");
	lupi_model *three = model(LUPI_TASK_REGRESSION, 3, 3,
				  LUPI_VIEW_REGULAR, 0);
	expect(lupi_transfer_crossfit(three, ds, 3, 0, xhat), LUPI_ESHAPE,
	       "regressor has 3 outputs, the dataset's X* 2 features");
	ck_assert_int_eq(lupi_model_init(cls), LUPI_OK);
	expect(lupi_teacher_create_crossfit_transfer(proto, cls, ds, 3, 0, &t),
	       LUPI_EINVAL, "view is regular, not privileged");
	ck_assert_ptr_null(t);
	/* A dataset without X*. */
	lupi_dataset *bare = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, 3,
					     lupi_dataset_features(
						     ds, LUPI_VIEW_REGULAR),
					     &bare),
			 LUPI_OK);
	expect(lupi_transfer_crossfit(proto, bare, 3, 0, xhat), LUPI_ESTATE,
	       "no X*");
	/* One sample with X*: the fold holding it has nothing to train on. */
	uint8_t mask[N] = {0};
	mask[7] = 1;
	lupi_dataset *one = make_ds(N, mask, 6);
	expect(lupi_transfer_crossfit(proto, one, 2, 0, xhat), LUPI_ERANGE,
	       "no sample with X* outside it");
	lupi_dataset_free(one);
	lupi_dataset_free(bare);
	lupi_model_free(three);
	lupi_model_free(wide);
	lupi_model_free(cls);
	lupi_model_free(proto);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_dataset_free(ds);
}
END_TEST

/* Allocation failures anywhere leave no leak and report LUPI_ENOMEM. */
START_TEST(allocation_failures)
{
	lupi_dataset *ds = make_ds(N, NULL, 7);
	lupi_model *reg, *xs;
	trained_pair(ds, &reg, &xs);
	lupi_model *proto = model(LUPI_TASK_REGRESSION, 3, 2,
				  LUPI_VIEW_REGULAR, 0);
	ck_assert_int_eq(lupi_model_set_int(proto, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	size_t idx[N];
	all_rows(idx);
	int ok = 0;
	for (int fail = 0; fail < 400 && !ok; fail++) {
		int budget = fail;
		lupi_teacher *t = NULL, *cf = NULL;
		float out[N * 2];
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_teacher_create(&t);
		if (rc == LUPI_OK)
			rc = lupi_teacher_add_transfer(t, reg, xs, 1.0);
		if (rc == LUPI_OK)
			rc = lupi_teacher_outputs(t, ds, idx, N, out, NULL);
		if (rc == LUPI_OK)
			rc = lupi_teacher_prepare(t, ds);
		if (rc == LUPI_OK)
			rc = lupi_teacher_create_crossfit_transfer(proto, xs,
								   ds, 2, 1,
								   &cf);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM,
			      "failure %d: %d (%s)", fail, rc, lupi_errmsg());
		ok = rc == LUPI_OK;
		lupi_teacher_free(t);
		lupi_teacher_free(cf);
	}
	ck_assert_int_eq(ok, 1);
	lupi_model_free(proto);
	lupi_model_free(reg);
	lupi_model_free(xs);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("knowledge-transfer");
	TCase *tc = tcase_create("knowledge-transfer");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, member_outputs_are_the_two_models_composed);
	tcase_add_test(tc, member_combines_with_a_model_member);
	tcase_add_test(tc, crossfit_uses_held_out_regressors);
	tcase_add_test(tc, student_distils_from_a_transfer_teacher);
	tcase_add_test(tc, member_errors);
	tcase_add_test(tc, crossfit_errors);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
