/* DP-SGD: the clipped per-sample path against explicit per-sample
 * gradients (models and students), the noise and the sampler's statistics,
 * the noise and scale a private step adds, refusals of what the accountant
 * cannot account for, the record a private fit leaves (equal to
 * lupi_dp_epsilon of its own q, sigma, steps) and its model file round
 * trip, and the tempered sigmoid. */
#include <math.h>
#include <stdint.h>

#include "privacy/privacy_internal.h"
#include "testutil.h"

#define D 5
#define K 3

/* n samples of K Gaussian blobs in D dimensions, X* = the blob centre
 * plus a little noise (a teacher sees it well). */
static lupi_dataset *blobs(size_t n, uint64_t seed)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	float *x = malloc(n * D * sizeof *x), *xs = malloc(n * 2 * sizeof *xs);
	int32_t *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		y[i] = (int32_t)(i % K);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)((j == (size_t)y[i] ? 2.0 : 0.0) +
					       lupi__rng_normal(&r));
		xs[i * 2] = (float)(y[i] + 0.1 * lupi__rng_normal(&r));
		xs[i * 2 + 1] = (float)(0.1 * lupi__rng_normal(&r));
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, NULL), LUPI_OK);
	free(x);
	free(xs);
	free(y);
	return ds;
}

static size_t width1 = 8, width2 = 6;

static lupi_model *mlp(int act2)
{
	size_t h[2] = {width1, width2};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, h, 2, K,
					   &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_ACTIVATION,
						  act2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	return m;
}

/* Enough parameters (2563) for variance estimates within a few percent. */
static lupi_model *wide(void)
{
	width1 = 64;
	width2 = 32;
	lupi_model *m = mlp(LUPI_ACT_RELU);
	width1 = 8;
	width2 = 6;
	return m;
}

static lupi_dp *dp_config(double noise, double clip, double q, uint64_t seed)
{
	lupi_dp *dp = NULL;
	ck_assert_int_eq(lupi_dp_create(&dp), LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, noise),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_CLIP, clip), LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_SAMPLE_RATE, q),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_int(dp, LUPI_DP_OPT_SEED, (int64_t)seed),
			 LUPI_OK);
	return dp;
}

/* sum_i g_i min(1, C / ||g_i||) from lupi_model_gradient (or
 * lupi_student_gradient) on batches of one, in double. */
static void explicit_clipped(lupi_model *m, const lupi_teacher *t,
			     lupi_loss *loss, const lupi_dataset *ds,
			     const size_t *idx, size_t n, double clip,
			     double *sum, double *norms)
{
	size_t np = lupi_model_num_params(m);
	float *g = malloc(np * sizeof *g);
	memset(sum, 0, np * sizeof *sum);
	for (size_t i = 0; i < n; i++) {
		if (loss)
			ck_assert_int_eq(lupi_student_gradient(m, t, loss, ds,
							       idx + i, 1, NULL,
							       g, np),
					 LUPI_OK);
		else
			ck_assert_int_eq(lupi_model_gradient(m, ds, idx + i, 1,
							     NULL, g, np),
					 LUPI_OK);
		double sq = 0.0;
		for (size_t j = 0; j < np; j++)
			sq += (double)g[j] * g[j];
		norms[i] = sqrt(sq);
		double c = norms[i] > clip ? clip / norms[i] : 1.0;
		for (size_t j = 0; j < np; j++)
			sum[j] += c * g[j];
	}
	free(g);
}

static void assert_close(const float *got, const double *want, size_t n,
			 double rel)
{
	double scale = 0.0;
	for (size_t j = 0; j < n; j++)
		scale = fmax(scale, fabs(want[j]));
	for (size_t j = 0; j < n; j++)
		ck_assert_msg(fabs(got[j] - want[j]) <= rel * scale,
			      "parameter %zu: %.8g, explicit %.8g", j,
			      (double)got[j], want[j]);
}

/* Loop 0: all layers trainable; 1: the first layer frozen and the second
 * without bias; 2: the tempered sigmoid in the second hidden layer. */
START_TEST(clipped_sum_matches_explicit_per_sample_gradients)
{
	int act2 = _i == 2 ? LUPI_ACT_TEMPERED_SIGMOID : LUPI_ACT_RELU;
	lupi_dataset *ds = blobs(40, 1);
	lupi_model *m;
	if (_i == 1) {
		size_t h[2] = {8, 6};
		ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D,
						   h, 2, K, &m), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE,
						    0), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_layer_int(m, 1,
							  LUPI_LAYER_OPT_BIAS, 0),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_layer_int(m, 0,
							  LUPI_LAYER_OPT_FROZEN, 1),
				 LUPI_OK);
	} else {
		m = mlp(act2);
	}
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	size_t idx[12], np = lupi_model_num_params(m);
	for (size_t i = 0; i < 12; i++)
		idx[i] = 3 * i + 1;
	double *sum = malloc(np * sizeof *sum), norms[12];
	for (int c = 0; c < 2; c++) {
		double clip = c == 0 ? 0.3 : 1e9; /* clips most, clips none */
		explicit_clipped(m, NULL, NULL, ds, idx, 12, clip, sum, norms);
		lupi__dp_objective ob = {0};
		lupi__dp_work w = {0};
		double loss;
		ck_assert_int_eq(lupi__dp_clipped_sum(m, &ob, ds, idx, 12, clip,
						      &w, &loss), LUPI_OK);
		assert_close(m->grads, sum, np, 1e-5);
		int clipped = 0;
		for (size_t i = 0; i < 12; i++) {
			ck_assert_double_eq_tol(w.norms[i], norms[i],
						1e-5 * norms[i] + 1e-9);
			clipped += norms[i] > clip;
		}
		ck_assert_int_eq(clipped > 6, c == 0);
		lupi__dp_work_free(&w);
	}
	free(sum);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* With no clipping the clipped backward is the ordinary backward of the
 * same per-sample gradients, bit for bit. */
START_TEST(unclipped_backward_is_bit_identical)
{
	lupi_dataset *ds = blobs(30, 2);
	lupi_model *m = mlp(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	size_t idx[17];
	for (size_t i = 0; i < 17; i++)
		idx[i] = i;
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, idx, 17, 1, &s), LUPI_OK);
	float dl[17 * K];
	for (size_t i = 0; i < 17 * K; i++)
		dl[i] = (float)sin((double)i);
	size_t np = m->n_params, floats;
	ck_assert_int_eq(lupi__model_backward(m, dl, NULL, 0), LUPI_OK);
	float *ref = malloc(np * sizeof *ref);
	memcpy(ref, m->grads, np * sizeof *ref);
	ck_assert_int_eq(lupi__model_clip_scratch(m, 17, &floats), LUPI_OK);
	float *scratch = malloc(floats * sizeof *scratch);
	ck_assert_int_eq(lupi__model_backward_clipped(m, dl, 0.0, scratch, NULL),
			 LUPI_OK);
	ck_assert_int_eq(memcmp(ref, m->grads, np * sizeof *ref), 0);
	free(ref);
	free(scratch);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A student distilled from a teacher on X*: each sample's gradient of its
 * own loss (NORMALIZE COUNT on a batch of one). */
START_TEST(student_clipped_sum_matches_explicit)
{
	lupi_dataset *ds = blobs(60, 3);
	lupi_model *tm = NULL;
	size_t th = 6;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, &th, 1,
					   K, &tm), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(tm, ds, NULL, NULL, NULL), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	lupi_loss *loss = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE,
					      3.0), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(loss, LUPI_LOSS_OPT_NORMALIZE,
					   LUPI_NORMALIZE_COUNT), LUPI_OK);
	lupi_model *m = mlp(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	size_t idx[10], np = m->n_params;
	for (size_t i = 0; i < 10; i++)
		idx[i] = 5 * i + 2;
	double *sum = malloc(np * sizeof *sum), norms[10];
	explicit_clipped(m, t, loss, ds, idx, 10, 0.2, sum, norms);
	lupi__dp_objective ob = {.teacher = t};
	ck_assert_int_eq(lupi__loss_copy(loss, &ob.loss), LUPI_OK);
	lupi__dp_work w = {0};
	double v;
	ck_assert_int_eq(lupi__dp_clipped_sum(m, &ob, ds, idx, 10, 0.2, &w, &v),
			 LUPI_OK);
	assert_close(m->grads, sum, np, 1e-5);
	lupi__dp_work_free(&w);
	lupi__combine_free(&ob.comb);
	lupi_loss_free(ob.loss);
	free(sum);
	lupi_loss_free(loss);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Ziggurat normals of the fixed test seed: mean 0, variance 1, fourth
 * moment 3, symmetry and two tail masses, each within 5 standard errors. */
START_TEST(noise_statistics)
{
	lupi__dp_rng g;
	ck_assert_int_eq(lupi__dp_rng_init(&g, 12345), LUPI_OK);
	size_t n = 400000;
	double s1 = 0, s2 = 0, s4 = 0;
	size_t beyond2 = 0, beyond37 = 0, neg = 0;
	for (size_t i = 0; i < n; i++) {
		double z = lupi__dp_normal(&g);
		s1 += z;
		s2 += z * z;
		s4 += z * z * z * z;
		beyond2 += fabs(z) > 2.0;
		beyond37 += fabs(z) > 3.7; /* the ziggurat's tail starts at 3.654 */
		neg += z < 0.0;
	}
	/* P(|z| > 2) = 0.0455003, P(|z| > 3.7) = 2.1562e-4 (erfc) */
	double p2 = erfc(2.0 / sqrt(2.0)), p37 = erfc(3.7 / sqrt(2.0));
	ck_assert(fabs(beyond2 - n * p2) < 5.0 * sqrt(n * p2));
	ck_assert(fabs(beyond37 - n * p37) < 5.0 * sqrt(n * p37));
	ck_assert(fabs(neg - n / 2.0) < 5.0 * sqrt(n / 4.0));
	ck_assert(fabs(s1 / n) < 5.0 / sqrt((double)n));
	ck_assert(fabs(s2 / n - 1.0) < 5.0 * sqrt(2.0 / n));
	ck_assert(fabs(s4 / n - 3.0) < 5.0 * sqrt(96.0 / n));
	/* added noise of a given standard deviation */
	float *x = calloc(n, sizeof *x);
	lupi__dp_add_noise(&g, x, n, 3.0);
	s1 = s2 = 0;
	for (size_t i = 0; i < n; i++) {
		s1 += x[i];
		s2 += (double)x[i] * x[i];
	}
	ck_assert(fabs(s1 / n) < 5.0 * 3.0 / sqrt((double)n));
	ck_assert(fabs(s2 / n / 9.0 - 1.0) < 5.0 * sqrt(2.0 / n));
	free(x);
	/* seed 0: two generators from the OS differ */
	lupi__dp_rng a, b;
	ck_assert_int_eq(lupi__dp_rng_init(&a, 0), LUPI_OK);
	ck_assert_int_eq(lupi__dp_rng_init(&b, 0), LUPI_OK);
	ck_assert(memcmp(a.rng.s, b.rng.s, sizeof a.rng.s) != 0);
}
END_TEST

/* The block noise of a private step: for a seed, exactly the values the
 * scalar normals give (bit for bit, and the generator ends in the same
 * state), so deterministic; with the scale applied after rounding, and
 * with the moments and tail masses of sd * scale * N(0, 1) (5 standard
 * errors). 400000 draws take the tail and wedge paths hundreds of times. */
START_TEST(block_noise_matches_scalar_normals)
{
	size_t n = 400000;
	float *x = malloc(n * sizeof *x), *ref = malloc(n * sizeof *ref);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(ref);
	for (size_t i = 0; i < n; i++)
		x[i] = ref[i] = (float)((double)(i % 7) - 3.0) * 0.25f;
	lupi__dp_rng a, b;
	ck_assert_int_eq(lupi__dp_rng_init(&a, 777), LUPI_OK);
	ck_assert_int_eq(lupi__dp_rng_init(&b, 777), LUPI_OK);
	double sd = 2.5;
	float scale = 0.125f;
	lupi__dp_add_noise_scaled(&a, x, n, sd, scale);
	for (size_t i = 0; i < n; i++)
		ref[i] = (float)((double)ref[i] + sd * lupi__dp_normal(&b)) *
			 scale;
	ck_assert(memcmp(x, ref, n * sizeof *x) == 0);
	ck_assert(memcmp(a.rng.s, b.rng.s, sizeof a.rng.s) == 0);
	/* statistics of the noise alone: sd * scale = 0.3125 */
	double s = sd * scale, s1 = 0, s2 = 0, s4 = 0;
	size_t beyond2 = 0, beyond37 = 0;
	memset(x, 0, n * sizeof *x);
	lupi__dp_add_noise_scaled(&a, x, n, sd, scale);
	for (size_t i = 0; i < n; i++) {
		double z = (double)x[i] / s;
		s1 += z;
		s2 += z * z;
		s4 += z * z * z * z;
		beyond2 += fabs(z) > 2.0;
		beyond37 += fabs(z) > 3.7;
	}
	double p2 = erfc(2.0 / sqrt(2.0)), p37 = erfc(3.7 / sqrt(2.0));
	ck_assert(fabs(beyond2 - n * p2) < 5.0 * sqrt(n * p2));
	ck_assert(fabs(beyond37 - n * p37) < 5.0 * sqrt(n * p37));
	ck_assert(fabs(s1 / n) < 5.0 / sqrt((double)n));
	ck_assert(fabs(s2 / n - 1.0) < 5.0 * sqrt(2.0 / n));
	ck_assert(fabs(s4 / n - 3.0) < 5.0 * sqrt(96.0 / n));
	/* the same seed again: the same output */
	float *y = calloc(n, sizeof *y);
	ck_assert_ptr_nonnull(y);
	ck_assert_int_eq(lupi__dp_rng_init(&b, 777), LUPI_OK);
	lupi__dp_add_noise_scaled(&b, ref, 0, sd, scale); /* n = 0: no draw */
	lupi__dp_add_noise_scaled(&b, y, n, sd, scale);
	ck_assert_int_eq(lupi__dp_rng_init(&a, 777), LUPI_OK);
	memset(x, 0, n * sizeof *x);
	lupi__dp_add_noise_scaled(&a, x, n, sd, scale);
	ck_assert(memcmp(x, y, n * sizeof *x) == 0);
	free(y);
	free(ref);
	free(x);
}
END_TEST

/* Each index is drawn with probability q, independently: counts and
 * per-index frequencies, in pool order. */
START_TEST(poisson_sampling)
{
	lupi__dp_rng g;
	ck_assert_int_eq(lupi__dp_rng_init(&g, 7), LUPI_OK);
	size_t pool[1000], out[1000], hits[1000] = {0}, rounds = 2000;
	for (size_t i = 0; i < 1000; i++)
		pool[i] = 2 * i;
	double total = 0, total2 = 0;
	for (size_t r = 0; r < rounds; r++) {
		size_t c = lupi__dp_sample(&g, 0.05, pool, 1000, out);
		total += (double)c;
		total2 += (double)c * c;
		for (size_t i = 0; i < c; i++) {
			ck_assert(i == 0 || out[i] > out[i - 1]);
			hits[out[i] / 2]++;
		}
	}
	double mean = total / rounds, var = total2 / rounds - mean * mean;
	ck_assert(fabs(mean - 50.0) < 5.0 * sqrt(47.5 / rounds));
	ck_assert(fabs(var / 47.5 - 1.0) < 0.15); /* binomial n q (1-q) */
	for (size_t i = 0; i < 1000; i++)
		ck_assert(hits[i] > 50 && hits[i] < 160); /* mean 100 */
	ck_assert_uint_eq(lupi__dp_sample(&g, 1.0, pool, 1000, out), 1000);
	ck_assert_uint_eq(out[999], 1998);
}
END_TEST

/* One private step with plain SGD (lr 1) moves the parameters by
 * -(clipped sum + N(0, sigma^2 C^2)) / (q n). With C tiny the clipped sum
 * is negligible, so (p0 - p1) q n is the noise: standard deviation sigma C
 * whatever the realised batch size (q = 0.5: it varies). */
START_TEST(private_step_adds_calibrated_noise)
{
	lupi_dataset *ds = blobs(50, 4);
	for (int v = 0; v < 2; v++) {
		double q = v == 0 ? 1.0 : 0.5;
		lupi_model *m = wide();
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
						    LUPI_OPTIM_SGD), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1.0),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1),
				 LUPI_OK);
		size_t np = m->n_params;
		float *p0 = malloc(np * sizeof *p0), *p1 = malloc(np * sizeof *p1);
		ck_assert_int_eq(lupi_model_get_params(m, p0, np), LUPI_OK);
		/* sigma C = 0.2; the clipped sum is at most 50 * 2e-5 */
		lupi_dp *dp = dp_config(1e4, 2e-5, q, 99);
		ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
				 LUPI_OK);
		uint64_t steps;
		ck_assert_int_eq(lupi_model_privacy(m, NULL, NULL, &steps, NULL,
						    NULL), LUPI_OK);
		ck_assert_uint_eq(steps, v == 0 ? 1 : 2);
		if (v == 0) {
			ck_assert_int_eq(lupi_model_get_params(m, p1, np),
					 LUPI_OK);
			double s1 = 0, s2 = 0;
			for (size_t j = 0; j < np; j++) {
				double z = ((double)p0[j] - p1[j]) * q * 50.0;
				s1 += z;
				s2 += z * z;
			}
			double mean = s1 / np, var = s2 / np - mean * mean;
			ck_assert(fabs(mean) < 5.0 * 0.2 / sqrt((double)np));
			ck_assert_msg(fabs(var / 0.04 - 1.0) < 0.15,
				      "noise variance %g, want 0.04", var);
		}
		free(p0);
		free(p1);
		lupi_dp_free(dp);
		lupi_model_free(m);
	}
	lupi_dataset_free(ds);
}
END_TEST

/* The expected batch, not the realised one: two steps at q = 0.5 with the
 * same noise seed but a dataset of twice the size halve the scale. Checked
 * through the noise alone: (p0 - p1) q n has standard deviation sigma C
 * summed over the two steps: sqrt(2) sigma C. */
START_TEST(divides_by_the_expected_batch)
{
	lupi_dataset *ds = blobs(200, 5);
	lupi_model *m = wide();
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1),
			 LUPI_OK);
	size_t np = m->n_params;
	float *p0 = malloc(np * sizeof *p0), *p1 = malloc(np * sizeof *p1);
	ck_assert_int_eq(lupi_model_get_params(m, p0, np), LUPI_OK);
	lupi_dp *dp = dp_config(1e4, 2e-5, 0.5, 5);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(m, p1, np), LUPI_OK);
	double s2 = 0;
	for (size_t j = 0; j < np; j++) {
		double z = ((double)p0[j] - p1[j]) * 0.5 * 200.0;
		s2 += z * z;
	}
	ck_assert_msg(fabs(s2 / np / 0.08 - 1.0) < 0.15, "variance %g, want "
		      "0.08", s2 / np);
	free(p0);
	free(p1);
	lupi_dp_free(dp);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(unaccountable_configurations_are_refused)
{
	lupi_dataset *ds = blobs(30, 6);
	lupi_dp *dp = dp_config(1.0, 1.0, 0.2, 1);
	/* STANDARDIZE would fit statistics on the private data */
	lupi_model *m = NULL;
	size_t h = 4;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, &h, 1, K,
					   &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
			 LUPI_ENOTSUP);
	ck_assert(strstr(lupi_errmsg(), "STANDARDIZE") != NULL);
	ck_assert_int_eq(m->initialized, 0);
	/* statistics from elsewhere (public data) are fine */
	float mean[D] = {0}, sd[D] = {1, 1, 1, 1, 1};
	ck_assert_int_eq(lupi_model_set_standardizer(m, mean, sd), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL), LUPI_OK);
	lupi_model_free(m);
	/* per-sample weights */
	m = mlp(LUPI_ACT_RELU);
	float w[30];
	for (size_t i = 0; i < 30; i++)
		w[i] = 1.0f;
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
			 LUPI_ENOTSUP);
	ck_assert(strstr(lupi_errmsg(), "weights") != NULL);
	ck_assert_int_eq(lupi_dataset_set_weights(ds, NULL), LUPI_OK);
	/* feature losses couple samples */
	lupi_loss *loss = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(loss, LUPI_LOSS_OPT_FEATURE,
					   LUPI_FEATURE_RKD_DIST), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_student_fit_dp(m, t, loss, dp, ds, NULL, NULL,
					     NULL), LUPI_ENOTSUP);
	lupi_loss_free(loss);
	lupi_teacher_free(t);
	/* a record that no longer covers the model, and one of other
	 * parameters */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, 2.0), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert(strstr(lupi_errmsg(), "same") != NULL);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON, 3.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
			 LUPI_ENOTSUP);
	size_t idx[3] = {0, 1, 2};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 3, NULL), LUPI_OK);
	double eps = 0;
	ck_assert_int_eq(lupi_model_privacy(m, &eps, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert(isinf(eps));
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON, 0.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert(strstr(lupi_errmsg(), "not accounted") != NULL);
	/* lupi_model_init starts over */
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(m, &eps, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL), LUPI_OK);
	/* set parameters: not accounted either */
	size_t np = m->n_params;
	float *p = malloc(np * sizeof *p);
	ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(m, &eps, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	free(p);
	/* bad arguments and options */
	ck_assert_int_eq(lupi_model_fit_dp(NULL, dp, ds, NULL, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_fit_dp(m, NULL, ds, NULL, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, 0.0),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_DELTA, 1.0),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dp_set_int(dp, LUPI_DP_OPT_NOISE, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_MODEL_OPT_LR, 1.0),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_ptr_eq(lupi_option_by_key(LUPI_DP_OPT_CLIP),
			 lupi_option_by_name(LUPI_HANDLE_DP, "clip"));
	lupi_dp_free(dp);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* The tempered-sigmoid MLP (scale 1.5) private_fit_reports_its_epsilon
 * fits twice: 8 epochs of batches of 30 at learning rate 0.02. */
static lupi_model *private_fit_model(void)
{
	lupi_model *m = mlp(LUPI_ACT_TEMPERED_SIGMOID);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_TS_SCALE, 1.5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 8), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 30), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.02),
			 LUPI_OK);
	return m;
}

/* A private fit reports lupi_dp_epsilon of its own q, sigma and steps,
 * learns the easy blobs, and its record and tempered sigmoid survive a
 * model file; a file without them is still version 1.1. */
START_TEST(private_fit_reports_its_epsilon)
{
	lupi_dataset *ds = blobs(300, 8);
	lupi_model *m = private_fit_model();
	lupi_dp *dp = dp_config(1.0, 1.0, 0.0, 11);
	ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL, NULL), LUPI_OK);
	double eps, delta, q, sigma, want;
	uint64_t steps;
	ck_assert_int_eq(lupi_model_privacy(m, &eps, &delta, &steps, &q, &sigma),
			 LUPI_OK);
	ck_assert_double_eq(q, 30.0 / 300.0);
	ck_assert_double_eq(sigma, 1.0);
	ck_assert_double_eq(delta, 1e-5);
	ck_assert_uint_eq(steps, 8 * 10);
	ck_assert_int_eq(lupi_dp_epsilon(q, sigma, steps, delta, &want), LUPI_OK);
	ck_assert_double_eq(eps, want);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &acc),
			 LUPI_OK);
	ck_assert_msg(acc > 0.7, "accuracy %g", acc);

	void *buf;
	size_t size;
	ck_assert_int_eq(lupi_model_save_memory(m, &buf, &size), LUPI_OK);
	ck_assert_uint_eq(((unsigned char *)buf)[10], 2); /* minor 2 */
	lupi_model *l = NULL;
	ck_assert_int_eq(lupi_model_load_memory(buf, size, &l), LUPI_OK);
	double e2, d2, q2, s2, ts;
	uint64_t st2;
	ck_assert_int_eq(lupi_model_privacy(l, &e2, &d2, &st2, &q2, &s2),
			 LUPI_OK);
	ck_assert_double_eq(e2, eps);
	ck_assert_double_eq(q2, q);
	ck_assert_uint_eq(st2, steps);
	/* a DP-SGD record, not a PATE one */
	ck_assert_int_eq(lupi_model_privacy_pate(l, NULL, NULL, NULL, NULL,
						 NULL, NULL), LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_get_double(l, LUPI_MODEL_OPT_TS_SCALE, &ts),
			 LUPI_OK);
	ck_assert_double_eq(ts, 1.5);
	float x[D] = {1, 0, 0.5f, -1, 2}, o1[K], o2[K];
	ck_assert_int_eq(lupi_model_predict(m, x, 1, D, 0, o1), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(l, x, 1, D, 0, o2), LUPI_OK);
	ck_assert_int_eq(memcmp(o1, o2, sizeof o1), 0);
	/* the same bytes again */
	void *buf2;
	size_t size2;
	ck_assert_int_eq(lupi_model_save_memory(l, &buf2, &size2), LUPI_OK);
	ck_assert_uint_eq(size2, size);
	ck_assert_int_eq(memcmp(buf, buf2, size), 0);
	lupi_free(buf2);
	/* trained further without DP, then saved: the file says so */
	size_t idx[2] = {0, 1};
	ck_assert_int_eq(lupi_model_step(l, ds, idx, 2, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_save_memory(l, &buf2, &size2), LUPI_OK);
	lupi_model *l2 = NULL;
	ck_assert_int_eq(lupi_model_load_memory(buf2, size2, &l2), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(l2, &e2, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert(isinf(e2));
	lupi_free(buf2);
	lupi_model_free(l2);
	lupi_model_free(l);
	lupi_free(buf);

	/* a model without record or tempered sigmoid: version 1.1 */
	lupi_model *plain = mlp(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_save_memory(plain, &buf, &size), LUPI_OK);
	ck_assert_uint_eq(((unsigned char *)buf)[10], 1);
	lupi_free(buf);
	lupi_model_free(plain);

	/* the same seed, the same model */
	lupi_model *a = private_fit_model();
	ck_assert_int_eq(lupi_model_fit_dp(a, dp, ds, NULL, NULL, NULL), LUPI_OK);
	size_t np = m->n_params;
	float *pa = malloc(np * sizeof *pa), *pm = malloc(np * sizeof *pm);
	lupi_model_get_params(a, pa, np);
	lupi_model_get_params(m, pm, np);
	ck_assert_int_eq(memcmp(pa, pm, np * sizeof *pa), 0);
	free(pa);
	free(pm);
	lupi_model_free(a);
	lupi_dp_free(dp);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* TARGET_EPSILON picks sigma; a student fit records its spending too. */
START_TEST(target_epsilon_and_student_fit)
{
	lupi_dataset *ds = blobs(200, 9);
	lupi_model *m = mlp(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 20), LUPI_OK);
	lupi_dp *dp = dp_config(1.0, 1.0, 0.0, 21);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON, 2.0),
			 LUPI_OK);
	lupi_teacher *t = NULL;
	lupi_model *tm = NULL;
	size_t th = 4;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, &th, 1,
					   K, &tm), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(tm), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	ck_assert_int_eq(lupi_student_fit_dp(m, t, NULL, dp, ds, ds, NULL, NULL),
			 LUPI_OK);
	double eps, sigma, q;
	uint64_t steps;
	ck_assert_int_eq(lupi_model_privacy(m, &eps, NULL, &steps, &q, &sigma),
			 LUPI_OK);
	ck_assert_uint_eq(steps, 30);
	ck_assert(eps <= 2.0 && eps > 1.99);
	double s2;
	ck_assert_int_eq(lupi_dp_sigma(q, steps, 1e-5, 2.0, &s2), LUPI_OK);
	ck_assert_double_eq(sigma, s2);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_dp_free(dp);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* s = 2, T = 2, o = 1 is tanh: the same outputs and gradients. */
START_TEST(tempered_sigmoid_is_tanh_at_2_2_1)
{
	lupi_dataset *ds = blobs(20, 10);
	lupi_model *a = mlp(LUPI_ACT_TANH), *b = mlp(LUPI_ACT_TEMPERED_SIGMOID);
	size_t np = a->n_params, idx[20];
	for (size_t i = 0; i < 20; i++)
		idx[i] = i;
	float *ga = malloc(np * sizeof *ga), *gb = malloc(np * sizeof *gb);
	ck_assert_int_eq(lupi_model_gradient(a, ds, idx, 20, NULL, ga, np),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_gradient(b, ds, idx, 20, NULL, gb, np),
			 LUPI_OK);
	for (size_t j = 0; j < np; j++)
		ck_assert_float_eq_tol(ga[j], gb[j], 1e-5f);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	float oa[20 * K], ob[20 * K];
	ck_assert_int_eq(lupi_model_predict(a, x, 20, D, 1, oa), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(b, x, 20, D, 1, ob), LUPI_OK);
	for (size_t j = 0; j < 20 * K; j++)
		ck_assert_float_eq_tol(oa[j], ob[j], 1e-5f);
	free(ga);
	free(gb);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dp");
	TCase *tc = tcase_create("clipping");
	tcase_add_loop_test(tc, clipped_sum_matches_explicit_per_sample_gradients,
			    0, 3);
	tcase_add_test(tc, unclipped_backward_is_bit_identical);
	tcase_add_test(tc, student_clipped_sum_matches_explicit);
	suite_add_tcase(s, tc);
	tc = tcase_create("noise");
	tcase_add_test(tc, noise_statistics);
	tcase_add_test(tc, block_noise_matches_scalar_normals);
	tcase_add_test(tc, poisson_sampling);
	tcase_add_test(tc, private_step_adds_calibrated_noise);
	tcase_add_test(tc, divides_by_the_expected_batch);
	suite_add_tcase(s, tc);
	tc = tcase_create("fit");
	tcase_add_test(tc, unaccountable_configurations_are_refused);
	tcase_add_test(tc, private_fit_reports_its_epsilon);
	tcase_add_test(tc, target_epsilon_and_student_fit);
	tcase_add_test(tc, tempered_sigmoid_is_tanh_at_2_2_1);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
