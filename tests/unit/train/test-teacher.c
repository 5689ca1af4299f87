/* Teachers: external outputs, models, averaging in probability space,
 * masks, the cache and cross-fitting. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "train/train_internal.h"
#include "testutil.h"

/* A dataset of n samples, d = 2 regular features, d* = 2 privileged ones
 * (mask may be NULL), labels in [0, k). Values are a fixed pattern. */
static lupi_dataset *make_ds(size_t n, size_t k, const uint8_t *mask)
{
	float x[2 * 64], xs[2 * 64];
	int32_t y[64];
	ck_assert_uint_le(n, 64);
	for (size_t i = 0; i < n; i++) {
		x[2 * i] = (float)i / 8.0f - 1.0f;
		x[2 * i + 1] = (float)((i * 7) % 5) - 2.0f;
		xs[2 * i] = (float)((i * 3) % 11) / 4.0f - 1.2f;
		xs[2 * i + 1] = (float)(i % 3) - 0.7f;
		y[i] = (int32_t)(i % k);
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 2, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, k, y), LUPI_OK);
	return ds;
}

/* A linear model (no hidden layer, no standardisation) with given params:
 * logits = W x + b, so its outputs can be computed by hand. */
static lupi_model *linear(int task, size_t n_in, size_t n_out, int view,
			  const float *params)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(task, n_in, NULL, 0, n_out, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_params(m, params,
					       n_in * n_out + n_out),
			 LUPI_OK);
	return m;
}

/* Logits of the linear model of linear() on row x. */
static void linear_logits(const float *params, size_t n_in, size_t n_out,
			  const float *x, double *z)
{
	for (size_t o = 0; o < n_out; o++) {
		z[o] = params[n_in * n_out + o];
		for (size_t j = 0; j < n_in; j++)
			z[o] += (double)params[o * n_in + j] * x[j];
	}
}

static const float P3[] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.5f,
			   0.1f, -0.2f, 0.3f}; /* 3 x 2 weights, 3 biases */

START_TEST(external_logits_pass_through)
{
	lupi_dataset *ds = make_ds(4, 3, NULL);
	float z[12];
	for (int i = 0; i < 12; i++)
		z[i] = (float)i * 0.37f - 2.0f;
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 0);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 3);
	size_t idx[3] = {2, 0, 2};
	float out[9];
	uint8_t has[3] = {9, 9, 9};
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 3, out, has),
			 LUPI_OK);
	for (int p = 0; p < 3; p++) {
		ck_assert_int_eq(has[p], 1);
		for (int c = 0; c < 3; c++)
			ck_assert_float_eq(out[p * 3 + c], z[idx[p] * 3 + c]);
	}
	/* The host's array was copied. */
	z[0] = 100.0f;
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx + 1, 1, out, NULL),
			 LUPI_OK);
	ck_assert_float_eq(out[0], -2.0f);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(external_probabilities)
{
	lupi_dataset *ds = make_ds(2, 3, NULL);
	float p[6] = {0.2f, 0.3f, 0.5f, 1.0f, 0.0f, 0.0f};
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, p, 3,
						  LUPI_OUTPUTS_PROBS, 2.0),
			 LUPI_OK);
	size_t idx[2] = {0, 1};
	float out[6];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 2, out, NULL),
			 LUPI_OK);
	/* log p, with 0 clamped at 1e-30 so the logits stay finite. */
	for (int i = 0; i < 6; i++) {
		double want = log(p[i] > 0 ? (double)p[i] : 1e-30);
		ck_assert_float_eq(out[i], (float)want);
	}
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(bad_external_outputs_rejected)
{
	lupi_dataset *ds = make_ds(2, 3, NULL);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	float neg[6] = {0.5f, 0.5f, 0.0f, 1.1f, -0.1f, 0.0f};
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, neg, 3,
						  LUPI_OUTPUTS_PROBS, 1.0),
			 LUPI_EINVAL);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "sample 1, output 1"));
	float sum[6] = {0.5f, 0.5f, 0.0f, 0.3f, 0.3f, 0.3f};
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, sum, 3,
						  LUPI_OUTPUTS_PROBS, 1.0),
			 LUPI_EINVAL);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "sum to 0.9"));
	float nan[6] = {0, 0, 0, 0, NAN, 0};
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, nan, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_ENONFINITE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "sample 1, output 1"));
	float ok[6] = {0};
	/* 2 columns for a 3-class dataset. */
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ok, 2,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "2 columns"));
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ok, 3, 7, 1.0),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ok, 3,
						  LUPI_OUTPUTS_LOGITS, 0.0),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ok, 3,
						  LUPI_OUTPUTS_LOGITS, NAN),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(NULL, ds, ok, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, NULL, ok, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, NULL, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ok, 0,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_EINVAL);
	/* Nothing was added by the failures. */
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 0);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);

	/* Probabilities make no sense for regression. */
	float x[2] = {1, 2}, y[2] = {0.5f, 0.25f};
	lupi_dataset *rd = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 1, x, &rd), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(rd, 1, y), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, rd, y, 1,
						  LUPI_OUTPUTS_PROBS, 1.0),
			 LUPI_EINVAL);
	lupi_teacher_free(t);
	lupi_dataset_free(rd);
}
END_TEST

START_TEST(outputs_tied_to_their_dataset)
{
	lupi_dataset *a = make_ds(4, 3, NULL), *b = make_ds(4, 3, NULL);
	float z[12] = {0};
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, a, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	size_t idx[1] = {0};
	float out[3];
	/* Same shape, another dataset. */
	ck_assert_int_eq(lupi_teacher_outputs(t, b, idx, 1, out, NULL),
			 LUPI_EMISMATCH);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "another dataset"));
	ck_assert_int_eq(lupi_teacher_prepare(t, b), LUPI_EMISMATCH);
	/* A subset is another dataset too. */
	lupi_dataset *sub = NULL;
	ck_assert_int_eq(lupi_dataset_subset(a, idx, 1, &sub), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(t, sub, idx, 1, out, NULL),
			 LUPI_EMISMATCH);
	/* Preparing a, then asking for b, still fails. */
	ck_assert_int_eq(lupi_teacher_prepare(t, a), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(t, b, idx, 1, out, NULL),
			 LUPI_EMISMATCH);
	size_t bad[1] = {4};
	ck_assert_int_eq(lupi_teacher_outputs(t, a, bad, 1, out, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_teacher_outputs(t, a, idx, 0, out, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_outputs(t, a, NULL, 1, out, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_outputs(t, a, idx, 1, NULL, NULL),
			 LUPI_EINVAL);
	lupi_teacher_free(t);
	lupi_dataset_free(sub);
	lupi_dataset_free(a);
	lupi_dataset_free(b);
}
END_TEST

START_TEST(two_teachers_average_probabilities)
{
	lupi_dataset *ds = make_ds(3, 3, NULL);
	float za[9] = {1, 2, 3, -1, 0, 4, 0.5f, 0.5f, -8};
	float zb[9] = {3, 1, -2, 2, 2, 2, -30, 10, 0};
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, za, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, zb, 3,
						  LUPI_OUTPUTS_LOGITS, 3.0),
			 LUPI_OK);
	size_t idx[3] = {0, 1, 2};
	float out[9];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 3, out, NULL),
			 LUPI_OK);
	/* By hand: log((1 softmax(za) + 3 softmax(zb)) / 4), not the
	 * softmax of averaged logits. */
	for (int i = 0; i < 3; i++) {
		double sa = 0, sb = 0;
		for (int c = 0; c < 3; c++) {
			sa += exp(za[i * 3 + c]);
			sb += exp(zb[i * 3 + c]);
		}
		for (int c = 0; c < 3; c++) {
			double p = (exp(za[i * 3 + c]) / sa +
				    3 * exp(zb[i * 3 + c]) / sb) / 4;
			ck_assert_double_eq_tol(out[i * 3 + c], log(p),
						1e-5 * fabs(log(p)) + 1e-6);
		}
	}
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(binary_and_regression_combination)
{
	/* Binary: sigmoid probabilities averaged, returned as a logit. */
	float x[2] = {0, 1};
	int32_t y[2] = {0, 1};
	lupi_dataset *bd = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 1, x, &bd), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_binary_labels(bd, y), LUPI_OK);
	lupi_teacher *t = NULL;
	float la[2] = {2.0f, -1.0f};
	float pb[2] = {0.25f, 0.5f};
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, bd, la, 1,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, bd, pb, 1,
						  LUPI_OUTPUTS_PROBS, 1.0),
			 LUPI_OK);
	size_t idx[2] = {0, 1};
	float out[2];
	ck_assert_int_eq(lupi_teacher_outputs(t, bd, idx, 2, out, NULL),
			 LUPI_OK);
	for (int i = 0; i < 2; i++) {
		double q = (1 / (1 + exp(-la[i])) + pb[i]) / 2;
		ck_assert_double_eq_tol(out[i], log(q / (1 - q)), 1e-6);
	}
	/* 3 columns for a binary task. */
	float z3[6] = {0};
	ck_assert_int_eq(lupi_teacher_add_outputs(t, bd, z3, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_ESHAPE);
	lupi_teacher_free(t);
	lupi_dataset_free(bd);

	/* Regression: the weighted mean of outputs. */
	float tg[4] = {1, 2, 3, 4};
	lupi_dataset *rd = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 1, x, &rd), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(rd, 2, tg), LUPI_OK);
	float ra[4] = {1, 1, 1, 1}, rb[4] = {5, -3, 2, 0};
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, rd, ra, 2,
						  LUPI_OUTPUTS_LOGITS, 3.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, rd, rb, 2,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	float ro[4];
	ck_assert_int_eq(lupi_teacher_outputs(t, rd, idx, 2, ro, NULL),
			 LUPI_OK);
	for (int i = 0; i < 4; i++)
		ck_assert_double_eq_tol(ro[i], (3.0 * ra[i] + rb[i]) / 4,
					1e-6);
	lupi_teacher_free(t);
	lupi_dataset_free(rd);
}
END_TEST

START_TEST(model_member_and_masks)
{
	/* Sample 1 and 3 have no X*: the privileged model cannot see them,
	 * the external member can. */
	uint8_t mask[5] = {1, 0, 1, 0, 1};
	lupi_dataset *ds = make_ds(5, 3, mask);
	lupi_model *m = linear(LUPI_TASK_CLASSIFICATION, 2, 3,
			       LUPI_VIEW_PRIVILEGED, P3);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	lupi_model_free(m); /* the teacher holds its own copy */
	size_t idx[5] = {0, 1, 2, 3, 4};
	float out[15];
	uint8_t has[5];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 5, out, has),
			 LUPI_OK);
	const float *xs = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(has[i], mask[i]);
		if (!mask[i]) {
			for (int c = 0; c < 3; c++)
				ck_assert_float_eq(out[i * 3 + c], 0.0f);
			continue;
		}
		double z[3];
		linear_logits(P3, 2, 3, xs + 2 * i, z);
		for (int c = 0; c < 3; c++)
			ck_assert_double_eq_tol(out[i * 3 + c], z[c], 1e-5);
	}

	/* With an external member, the masked samples get its logits
	 * unchanged; the others the average of both. */
	float ze[15];
	for (int i = 0; i < 15; i++)
		ze[i] = (float)(i % 4) - 1.5f;
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, ze, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	float out2[15];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 5, out2, has),
			 LUPI_OK);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(has[i], 1);
		if (!mask[i]) {
			for (int c = 0; c < 3; c++)
				ck_assert_float_eq(out2[i * 3 + c],
						   ze[i * 3 + c]);
			continue;
		}
		double lm = log(exp(out[i * 3]) + exp(out[i * 3 + 1]) +
				exp(out[i * 3 + 2]));
		double le = log(exp(ze[i * 3]) + exp(ze[i * 3 + 1]) +
				exp(ze[i * 3 + 2]));
		for (int c = 0; c < 3; c++) {
			double p = (exp(out[i * 3 + c] - lm) +
				    exp(ze[i * 3 + c] - le)) / 2;
			ck_assert_double_eq_tol(out2[i * 3 + c], log(p), 1e-5);
		}
	}
	/* A dataset without any X*: the privileged member sees nothing, the
	 * external one is tied to ds anyway, so use a fresh teacher. */
	float xr[4] = {1, 2, 3, 4};
	int32_t yr[2] = {0, 2};
	lupi_dataset *plain = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, 2, xr, &plain), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(plain, 3, yr), LUPI_OK);
	lupi_teacher *tp = NULL;
	m = linear(LUPI_TASK_CLASSIFICATION, 2, 3, LUPI_VIEW_PRIVILEGED, P3);
	ck_assert_int_eq(lupi_teacher_create(&tp), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(tp, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(tp, plain, idx, 2, out, has),
			 LUPI_OK);
	ck_assert_int_eq(has[0], 0);
	ck_assert_int_eq(has[1], 0);
	lupi_teacher_free(tp);
	lupi_model_free(m);
	lupi_dataset_free(plain);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* A member whose forward overflows float (weights near FLT_MAX times an
 * input of 2) gives infinite logits: the outputs report it, naming the
 * sample, fresh and cached, and a batch without that sample is fine. */
START_TEST(non_finite_member_outputs_rejected)
{
	lupi_dataset *ds = make_ds(5, 3, NULL);
	const float p[9] = {0.0f, 3e38f, 0.0f, 0.0f, 0.0f, 0.0f,
			    0.0f, 0.0f, 0.0f};
	lupi_model *m = linear(LUPI_TASK_CLASSIFICATION, 2, 3,
			       LUPI_VIEW_REGULAR, p);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	lupi_model_free(m);
	/* Sample 1 has x[1] = 0 (logit 0), sample 2 x[1] = 2 (3e38 * 2). */
	size_t ok_idx[1] = {1}, bad_idx[2] = {1, 2};
	float out[6];
	uint8_t has[2];
	for (int cached = 0; cached < 2; cached++) {
		if (cached)
			ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
		ck_assert_int_eq(lupi_teacher_outputs(t, ds, ok_idx, 1, out,
						      has),
				 LUPI_OK);
		for (int c = 0; c < 3; c++)
			ck_assert_float_eq(out[c], 0.0f);
		ck_assert_int_eq(lupi_teacher_outputs(t, ds, bad_idx, 2, out,
						      has),
				 LUPI_ENONFINITE);
		ck_assert_msg(strstr(lupi_errmsg(), "sample 1 (index 2)") !=
				      NULL,
			      "%s", lupi_errmsg());
	}
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

static int count_allocs(size_t size, void *user)
{
	(void)size;
	(*(int *)user)++;
	return 1;
}

START_TEST(cache_matches_fresh_outputs)
{
	uint8_t mask[6] = {1, 1, 0, 1, 1, 1};
	lupi_dataset *ds = make_ds(6, 3, mask);
	lupi_model *m = linear(LUPI_TASK_CLASSIFICATION, 2, 3,
			       LUPI_VIEW_PRIVILEGED, P3);
	lupi_teacher *cached = NULL, *fresh = NULL;
	ck_assert_int_eq(lupi_teacher_create(&cached), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create(&fresh), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(cached, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(fresh, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_prepare(cached, ds), LUPI_OK);
	uint64_t passes = cached->n_forward;
	ck_assert_uint_eq(passes, 1); /* one batched pass over 6 rows */
	/* A second prepare on the same dataset computes nothing. */
	ck_assert_int_eq(lupi_teacher_prepare(cached, ds), LUPI_OK);
	ck_assert_uint_eq(cached->n_forward, passes);

	size_t idx[4] = {5, 2, 0, 5};
	float a[12], b[12];
	uint8_t ha[4], hb[4];
	int allocs = 0;
	lupi__set_alloc_gate(count_allocs, &allocs);
	int rc = lupi_teacher_outputs(cached, ds, idx, 4, a, ha);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_int_eq(allocs, 0);
	ck_assert_uint_eq(cached->n_forward, passes);
	ck_assert_int_eq(lupi_teacher_outputs(fresh, ds, idx, 4, b, hb),
			 LUPI_OK);
	ck_assert_uint_eq(fresh->n_forward, 1);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_mem_eq(ha, hb, sizeof ha);
	ck_assert_int_eq(ha[1], 0);

	/* Another dataset is computed, not read from the cache. */
	lupi_dataset *other = make_ds(6, 3, NULL);
	ck_assert_int_eq(lupi_teacher_outputs(cached, other, idx, 4, a, ha),
			 LUPI_OK);
	ck_assert_uint_eq(cached->n_forward, passes + 1);
	ck_assert_int_eq(ha[1], 1);
	/* Adding a member drops the cache. */
	ck_assert_int_eq(lupi_teacher_add_model(cached, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_prepare(cached, ds), LUPI_OK);
	ck_assert_uint_eq(cached->n_forward, passes + 3);
	lupi_dataset_free(other);
	lupi_teacher_free(cached);
	lupi_teacher_free(fresh);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(add_model_errors)
{
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	lupi_model *untrained = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, NULL,
					   0, 3, &untrained),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, untrained, 1.0),
			 LUPI_ESTATE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "not trained"));
	lupi_model *m3 = linear(LUPI_TASK_CLASSIFICATION, 2, 3,
				LUPI_VIEW_PRIVILEGED, P3);
	ck_assert_int_eq(lupi_teacher_add_model(NULL, m3, 1.0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_model(t, NULL, 1.0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_model(t, m3, -1.0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_model(t, m3, INFINITY), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_add_model(t, m3, 1.0), LUPI_OK);
	float p2[6] = {1, 0, 0, 1, 0, 0};
	lupi_model *m2 = linear(LUPI_TASK_CLASSIFICATION, 2, 2,
				LUPI_VIEW_PRIVILEGED, p2);
	ck_assert_int_eq(lupi_teacher_add_model(t, m2, 1.0), LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "2 outputs, teacher 3"));
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 3);

	/* An empty teacher has nothing to give. */
	lupi_teacher *empty = NULL;
	lupi_dataset *ds = make_ds(3, 3, NULL);
	size_t idx[1] = {0};
	float out[3];
	ck_assert_int_eq(lupi_teacher_create(&empty), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(empty, ds, idx, 1, out, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_teacher_prepare(empty, ds), LUPI_ESTATE);
	ck_assert_int_eq(lupi_teacher_prepare(NULL, ds), LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_prepare(t, NULL), LUPI_EINVAL);
	/* A member whose inputs do not fit the dataset's view. */
	float p4[12] = {0};
	lupi_model *wide = linear(LUPI_TASK_CLASSIFICATION, 3, 3,
				  LUPI_VIEW_PRIVILEGED, p4);
	lupi_teacher *tw = NULL;
	ck_assert_int_eq(lupi_teacher_create(&tw), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(tw, wide, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_prepare(tw, ds), LUPI_ESHAPE);
	/* the view by its name, not its number */
	ck_assert_msg(strstr(lupi_errmsg(), "teacher member 0 has 3 inputs, "
			     "the dataset's privileged view has 2 "
			     "features") != NULL, "message: %s",
		      lupi_errmsg());
	ck_assert_uint_eq(lupi_teacher_num_outputs(NULL), 0);
	lupi_teacher_free(NULL);
	lupi_teacher_free(tw);
	lupi_teacher_free(empty);
	lupi_teacher_free(t);
	lupi_model_free(wide);
	lupi_model_free(m2);
	lupi_model_free(m3);
	lupi_model_free(untrained);
	lupi_dataset_free(ds);
}
END_TEST

/* 40 samples: y depends on X* only (two Gaussian blobs in X*). */
static lupi_dataset *blobs(const uint8_t *mask)
{
	enum { N = 40 };
	float x[N * 2], xs[N * 2];
	int32_t y[N];
	lupi__rng r;
	lupi__rng_seed(&r, 11);
	for (int i = 0; i < N; i++) {
		y[i] = i % 2;
		xs[2 * i] = (float)(lupi__rng_normal(&r) + (y[i] ? 1.5 : -1.5));
		xs[2 * i + 1] = (float)lupi__rng_normal(&r);
		x[2 * i] = (float)lupi__rng_normal(&r);
		x[2 * i + 1] = (float)lupi__rng_normal(&r);
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, 2, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, mask), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	return ds;
}

static lupi_model *proto_priv(void)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, NULL,
					   0, 2, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 15), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 8), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 3), LUPI_OK);
	return m;
}

START_TEST(crossfit_outputs_come_from_held_out_models)
{
	uint8_t mask[40];
	for (int i = 0; i < 40; i++)
		mask[i] = i % 10 != 9; /* 4 samples without X* */
	lupi_dataset *ds = blobs(mask);
	lupi_model *proto = proto_priv();
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, ds, 3, 99, &t),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), 2);
	size_t idx[40], fold[40];
	for (size_t i = 0; i < 40; i++)
		idx[i] = i;
	float out[80];
	uint8_t has[40];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 40, out, has),
			 LUPI_OK);
	ck_assert_int_eq(lupi__crossfit_folds(ds, LUPI_VIEW_PRIVILEGED, 3, 99,
					      fold),
			 LUPI_OK);

	/* Retrain each fold model by hand: it predicts exactly the stored
	 * logits of its held-out samples. */
	lupi_model *full = NULL;
	ck_assert_int_eq(lupi_model_clone(proto, &full), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(full, ds, NULL, NULL, NULL), LUPI_OK);
	const float *xs = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	size_t differ = 0, per_fold[3] = {0};
	for (size_t f = 0; f < 3; f++) {
		size_t tr[40], ntr = 0;
		for (size_t i = 0; i < 40; i++)
			if (fold[i] != SIZE_MAX && fold[i] != f)
				tr[ntr++] = i;
		lupi_dataset *sub = NULL;
		lupi_model *m = NULL;
		ck_assert_int_eq(lupi_dataset_subset(ds, tr, ntr, &sub),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_clone(proto, &m), LUPI_OK);
		ck_assert_int_eq(lupi_model_fit(m, sub, NULL, NULL, NULL),
				 LUPI_OK);
		for (size_t i = 0; i < 40; i++) {
			if (fold[i] != f)
				continue;
			per_fold[f]++;
			float z[2], zf[2];
			ck_assert_int_eq(lupi_model_predict(m, xs + 2 * i, 1,
							    2,
							    LUPI_PREDICT_LOGITS,
							    z),
					 LUPI_OK);
			ck_assert_int_eq(has[i], 1);
			ck_assert_float_eq(out[2 * i], z[0]);
			ck_assert_float_eq(out[2 * i + 1], z[1]);
			ck_assert_int_eq(lupi_model_predict(full, xs + 2 * i,
							    1, 2,
							    LUPI_PREDICT_LOGITS,
							    zf),
					 LUPI_OK);
			differ += zf[0] != z[0] || zf[1] != z[1];
		}
		lupi_model_free(m);
		lupi_dataset_free(sub);
	}
	/* 36 visible samples dealt round-robin: 12 per fold. */
	for (size_t f = 0; f < 3; f++)
		ck_assert_uint_eq(per_fold[f], 12);
	ck_assert_uint_eq(differ, 36);
	for (size_t i = 0; i < 40; i++)
		if (!mask[i]) {
			ck_assert_int_eq(has[i], 0);
			ck_assert_uint_eq(fold[i], SIZE_MAX);
		}
	/* Tied to ds. */
	lupi_dataset *other = blobs(NULL);
	ck_assert_int_eq(lupi_teacher_outputs(t, other, idx, 1, out, NULL),
			 LUPI_EMISMATCH);
	lupi_dataset_free(other);
	lupi_teacher_free(t);
	lupi_model_free(full);
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(crossfit_errors)
{
	lupi_dataset *ds = blobs(NULL);
	lupi_model *proto = proto_priv();
	lupi_teacher *t = (lupi_teacher *)1;
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, ds, 1, 0, &t),
			 LUPI_ERANGE);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "k_folds 1"));
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, ds, 41, 0, &t),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_teacher_create_crossfit(NULL, ds, 3, 0, &t),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, NULL, 3, 0, &t),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, ds, 3, 0, NULL),
			 LUPI_EINVAL);
	/* A model on a view of another width. */
	lupi_model *wide = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 5, NULL,
					   0, 2, &wide),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create_crossfit(wide, ds, 3, 0, &t),
			 LUPI_ESHAPE);
	ck_assert_msg(strstr(lupi_errmsg(), "model has 5 inputs, the "
			     "dataset's regular view has 2 features") != NULL,
		      "message: %s", lupi_errmsg());
	/* Only two samples have X*: too few for three folds. */
	uint8_t mask[40] = {1, 1};
	lupi_dataset *few = blobs(mask);
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, few, 3, 0, &t),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "has 2"));
	lupi_dataset_free(few);
	lupi_model_free(wide);
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}
END_TEST

/* The folds one at a time (as ranks share them), collected into a masked
 * member: the cross-fitted teacher's outputs bit for bit. */
START_TEST(crossfit_folds_one_by_one)
{
	uint8_t mask[40];
	for (int i = 0; i < 40; i++)
		mask[i] = i % 10 != 9;
	lupi_dataset *ds = blobs(mask);
	lupi_model *proto = proto_priv();
	lupi_teacher *whole = NULL, *t = NULL;
	ck_assert_int_eq(lupi_teacher_create_crossfit(proto, ds, 3, 99,
						      &whole), LUPI_OK);
	float z[80], a[80], b[80];
	uint8_t in[40] = {0}, ha[40], hb[40];
	memset(z, 0xff, sizeof z); /* rows without X* are never read */
	size_t idx[40], count[3] = {0};
	for (size_t i = 0; i < 40; i++)
		idx[i] = i;
	for (unsigned f = 3; f-- > 0;) {
		uint8_t one[40] = {0};
		ck_assert_int_eq(lupi_teacher_crossfit_fold(proto, ds, 3, 99, f,
							    z, one), LUPI_OK);
		for (size_t i = 0; i < 40; i++) {
			ck_assert(!(one[i] && in[i])); /* disjoint folds */
			in[i] |= one[i];
			count[f] += one[i];
		}
	}
	ck_assert_uint_eq(count[0] + count[1] + count[2], 36);
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs_masked(t, ds, z, in, 2, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(whole, ds, idx, 40, a, ha),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 40, b, hb), LUPI_OK);
	ck_assert_mem_eq(a, b, sizeof a);
	ck_assert_mem_eq(ha, hb, sizeof ha);
	for (size_t i = 0; i < 40; i++)
		ck_assert_int_eq(hb[i], mask[i]);
	/* errors: the fold's range, a non-finite present row, NULLs */
	ck_assert_int_eq(lupi_teacher_crossfit_fold(proto, ds, 3, 99, 3, z, in),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "fold 3 of 3"));
	ck_assert_int_eq(lupi_teacher_crossfit_fold(proto, ds, 1, 99, 0, z, in),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_teacher_crossfit_fold(proto, ds, 3, 99, 0, NULL,
						    in), LUPI_EINVAL);
	lupi_teacher *e = NULL;
	ck_assert_int_eq(lupi_teacher_create(&e), LUPI_OK);
	z[0] = NAN;
	ck_assert_int_eq(lupi_teacher_add_outputs_masked(e, ds, z, in, 2, 1.0),
			 LUPI_ENONFINITE);
	ck_assert_int_eq(lupi_teacher_add_outputs_masked(e, ds, z, in, 3, 1.0),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_teacher_add_outputs_masked(e, ds, z, NULL, 2,
							 1.0), LUPI_EINVAL);
	ck_assert_uint_eq(lupi_teacher_num_outputs(e), 0);
	lupi_teacher_free(e);
	lupi_teacher_free(t);
	lupi_teacher_free(whole);
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(features_need_one_model)
{
	lupi_dataset *ds = make_ds(3, 3, NULL);
	float z[9] = {0};
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	size_t idx[1] = {0};
	float ft[4], rows[4];
	uint8_t has[1];
	ck_assert_int_eq(lupi__teacher_features(t, ds, idx, 1, 0, ft, has,
						rows),
			 LUPI_ENOTSUP);
	ck_assert_ptr_null(lupi__teacher_model(t));
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* The hidden features of a model member, computed by hand in double:
 * h = tanh(W0 ((x* - mean) / std) + b0) for the samples with X*, zero rows
 * and has 0 for the others; the teacher's model is only read. */
START_TEST(features_of_a_model_member)
{
	uint8_t mask[5] = {1, 0, 1, 1, 0};
	lupi_dataset *ds = make_ds(5, 3, mask);
	const size_t hidden[1] = {4};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, hidden,
					   1, 3, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH),
			 LUPI_OK);
	float p[2 * 4 + 4 + 4 * 3 + 3];
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
		p[i] = (float)((int)(i * 7 % 11) - 5) / 6.0f;
	ck_assert_int_eq(lupi_model_set_params(m, p, sizeof p / sizeof p[0]),
			 LUPI_OK);
	const float mean[2] = {0.25f, -0.5f}, sd[2] = {2.0f, 0.5f};
	ck_assert_int_eq(lupi_model_set_standardizer(m, mean, sd), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	ck_assert_ptr_nonnull(lupi__teacher_model(t));
	size_t idx[5] = {4, 3, 2, 1, 0};
	float ft[5 * 4], rows[5 * 2];
	uint8_t has[5];
	ck_assert_int_eq(lupi__teacher_features(t, ds, idx, 5, 0, ft, has,
						rows),
			 LUPI_OK);
	const float *xs = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	for (size_t q = 0; q < 5; q++) {
		size_t i = idx[q];
		ck_assert_int_eq(has[q], mask[i]);
		for (size_t j = 0; j < 4; j++) {
			double a = p[8 + j];
			for (size_t c = 0; c < 2; c++)
				a += (double)p[j * 2 + c] *
				     ((xs[i * 2 + c] - mean[c]) / sd[c]);
			double want = mask[i] ? tanh(a) : 0.0;
			ck_assert_double_eq_tol(ft[q * 4 + j], want, 1e-5);
		}
	}
	/* The output layer is not a hidden layer. */
	ck_assert_int_eq(lupi__teacher_features(t, ds, idx, 5, 1, ft, has,
						rows),
			 LUPI_ERANGE);
	lupi_teacher_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Every allocation of add, prepare and cross-fitting failing in turn: each
 * call returns LUPI_ENOMEM or succeeds, and nothing leaks (valgrind). */
START_TEST(allocation_failures)
{
	lupi_dataset *ds = blobs(NULL);
	lupi_model *proto = proto_priv();
	ck_assert_int_eq(lupi_model_set_int(proto, LUPI_MODEL_OPT_EPOCHS, 1),
			 LUPI_OK);
	float z[80] = {0};
	int ok = 0;
	for (int fail = 0; fail < 400 && !ok; fail++) {
		int budget = fail;
		lupi_teacher *t = NULL, *cf = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_teacher_create(&t);
		if (rc == LUPI_OK)
			rc = lupi_teacher_add_outputs(t, ds, z, 2,
						      LUPI_OUTPUTS_LOGITS, 1.0);
		if (rc == LUPI_OK)
			rc = lupi_teacher_prepare(t, ds);
		if (rc == LUPI_OK)
			rc = lupi_teacher_create_crossfit(proto, ds, 2, 1, &cf);
		if (rc == LUPI_OK)
			rc = lupi_teacher_prepare(cf, ds);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM,
			      "failure %d: %d (%s)", fail, rc, lupi_errmsg());
		ok = rc == LUPI_OK;
		lupi_teacher_free(t);
		lupi_teacher_free(cf);
	}
	ck_assert_int_eq(ok, 1);
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("teacher");
	TCase *tc = tcase_create("teacher");
	tcase_add_test(tc, external_logits_pass_through);
	tcase_add_test(tc, external_probabilities);
	tcase_add_test(tc, bad_external_outputs_rejected);
	tcase_add_test(tc, outputs_tied_to_their_dataset);
	tcase_add_test(tc, two_teachers_average_probabilities);
	tcase_add_test(tc, binary_and_regression_combination);
	tcase_add_test(tc, model_member_and_masks);
	tcase_add_test(tc, non_finite_member_outputs_rejected);
	tcase_add_test(tc, cache_matches_fresh_outputs);
	tcase_add_test(tc, add_model_errors);
	tcase_add_test(tc, crossfit_outputs_come_from_held_out_models);
	tcase_add_test(tc, crossfit_errors);
	tcase_add_test(tc, crossfit_folds_one_by_one);
	tcase_add_test(tc, features_need_one_model);
	tcase_add_test(tc, features_of_a_model_member);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
