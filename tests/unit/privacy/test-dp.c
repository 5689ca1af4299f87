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
	ck_assert_int_eq(lupi__model_forward(m, ds, idx, 17,
				      LUPI__FWD_TRAIN | LUPI__FWD_WHOLE, &s),
			 LUPI_OK);
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
	lupi__dp_add_noise_scaled(&g, x, n, 3.0, 1.0f);
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

/* ---- the bulk noise ------------------------------------------------------ */

/* An independent statement of the bulk noise (privacy_internal.h): nine
 * xoshiro256** streams made by the reference code's jump(); element k
 * draws b from lane k % 8 and keeps u zx[i] when it passes the fast test,
 * else finishes the ziggurat (Marsaglia & Tsang, tail from R =
 * 3.6541528853610088) on the slow stream. */
typedef struct ref_gen {
	lupi__rng lane[LUPI__DP_LANES], slow;
	const lupi__dp_rng *tables;
	size_t rejects, tails;
} ref_gen;

static void ref_jump(lupi__rng *r)
{
	static const uint64_t poly[4] = {
		0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
		0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
	uint64_t t[4] = {0, 0, 0, 0};
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 64; b++) {
			if (poly[i] & UINT64_C(1) << b)
				for (int c = 0; c < 4; c++)
					t[c] ^= r->s[c];
			lupi__rng_next(r);
		}
	memcpy(r->s, t, sizeof t);
}

/* The streams of a generator seeded with master state s. */
static void ref_init(ref_gen *rg, const lupi__dp_rng *tables,
		     const uint64_t s[4])
{
	memset(rg, 0, sizeof *rg);
	rg->tables = tables;
	lupi__rng r;
	memcpy(r.s, s, sizeof r.s);
	for (int j = 0; j < LUPI__DP_LANES; j++) {
		rg->lane[j] = r;
		ref_jump(&r);
	}
	rg->slow = r;
}

static double ref_f(double x)
{
	return exp(-0.5 * x * x);
}

static double ref_slow(ref_gen *rg, uint64_t b);

static double ref_normal_on(ref_gen *rg, lupi__rng *r, int count)
{
	const double *zx = rg->tables->zx;
	uint64_t b = lupi__rng_next(r);
	int i = (int)(b & 0xff);
	double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;
	double z = u * zx[i];
	if (fabs(z) < zx[i + 1])
		return z;
	rg->rejects += count;
	return ref_slow(rg, b);
}

static double ref_slow(ref_gen *rg, uint64_t b)
{
	const double R = 3.6541528853610088, *zx = rg->tables->zx,
		     *zf = rg->tables->zf;
	int i = (int)(b & 0xff);
	double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;
	double x = u * zx[i];
	if (i == 0) {
		rg->tails++;
		double a, c;
		do {
			a = -log(1.0 - lupi__rng_uniform(&rg->slow)) / R;
			c = -log(1.0 - lupi__rng_uniform(&rg->slow));
		} while (c + c < a * a);
		return u < 0.0 ? -(R + a) : R + a;
	}
	double y = zf[i + 1] +
		   lupi__rng_uniform(&rg->slow) * (zf[i] - zf[i + 1]);
	if (y < ref_f(x))
		return x;
	return ref_normal_on(rg, &rg->slow, 0);
}

static void ref_noise(ref_gen *rg, float *x, size_t n, double sd, float scale)
{
	for (size_t k = 0; k < n; k++) {
		double z = ref_normal_on(rg, &rg->lane[k % LUPI__DP_LANES], 1);
		x[k] = (float)((double)x[k] + sd * z) * scale;
	}
}

static void ref_normals(ref_gen *rg, double *z, size_t n)
{
	for (size_t k = 0; k < n; k++)
		z[k] = ref_normal_on(rg, &rg->lane[k % LUPI__DP_LANES], 1);
}

/* The generator's streams equal the reference's. */
static void assert_same_streams(const lupi__dp_rng *g, const ref_gen *rg)
{
	ck_assert(memcmp(g->rng.s, rg->lane[0].s, sizeof g->rng.s) == 0);
	for (int j = 1; j < LUPI__DP_LANES; j++)
		for (int c = 0; c < 4; c++)
			ck_assert_msg(g->lane[c][j] == rg->lane[j].s[c],
				      "lane %d word %d", j, c);
	ck_assert(memcmp(g->slow.s, rg->slow.s, sizeof g->slow.s) == 0);
}

/* Lane 0 is the master stream (splitmix64 seeding, then each lane one
 * jump further, the slow stream 8 jumps): checked against lupi__rng_seed
 * and the reference jump, and lane 0 goes on as the master: after n
 * elements without rejects the master is ceil(n / 8) draws on. */
START_TEST(bulk_noise_streams_are_jumps_of_the_master)
{
	/* the xoshiro256** step itself (lupi__xoshiro_next, which the lanes
	 * and this file's reference share): the reference code's first
	 * outputs from the state {1, 2, 3, 4} */
	static const uint64_t known[5] = {11520, 0, 1509978240,
					  UINT64_C(1215971899390074240),
					  UINT64_C(1216172134540287360)};
	lupi__rng kr = {{1, 2, 3, 4}};
	for (int d = 0; d < 5; d++)
		ck_assert_uint_eq(lupi__rng_next(&kr), known[d]);
	/* ref_jump has the same polynomial as dp.c's rng_jump, so pin it to
	 * an answer that does not use it: {1, 2, 3, 4} advanced 2^128 steps
	 * by squaring xoshiro256's 256 x 256 matrix over GF(2) 128 times
	 * (a Python script, run once) */
	static const uint64_t jumped[4] = {
		UINT64_C(0x8c7a153956b5f3d1), UINT64_C(0x701f1a713401d85e),
		UINT64_C(0x6527f66a65469085), UINT64_C(0x8386b786c4408050)};
	lupi__rng jr = {{1, 2, 3, 4}};
	ref_jump(&jr);
	for (int c = 0; c < 4; c++)
		ck_assert_uint_eq(jr.s[c], jumped[c]);
	static const uint64_t seeds[3] = {1, 777, UINT64_C(0x8000000000000005)};
	for (int s = 0; s < 3; s++) {
		lupi__dp_rng g;
		ck_assert_int_eq(lupi__dp_rng_init(&g, seeds[s]), LUPI_OK);
		lupi__rng master;
		lupi__rng_seed(&master, seeds[s]);
		ck_assert(memcmp(g.rng.s, master.s, sizeof master.s) == 0);
		ref_gen rg;
		ref_init(&rg, &g, master.s);
		assert_same_streams(&g, &rg);
		/* distinct streams (a jump is not the identity) */
		for (int j = 1; j < LUPI__DP_LANES; j++)
			ck_assert(g.lane[1][j] != g.lane[1][j - 1]);
	}
	/* lane 0 continues the master's own sequence */
	lupi__dp_rng g;
	ck_assert_int_eq(lupi__dp_rng_init(&g, 777), LUPI_OK);
	lupi__rng master = g.rng;
	ref_gen rg;
	ref_init(&rg, &g, g.rng.s);
	float x[17] = {0};
	ref_noise(&rg, x, 17, 1.0, 1.0f);
	ck_assert_uint_eq(rg.rejects, 0); /* seed 777's first 17 all pass */
	lupi__dp_add_noise_scaled(&g, x, 17, 1.0, 1.0f);
	for (int d = 0; d < 3; d++) /* elements 0, 8 and 16 */
		lupi__rng_next(&master);
	ck_assert(memcmp(g.rng.s, master.s, sizeof master.s) == 0);
	/* and so does a scalar normal after it */
	ck_assert_uint_eq(lupi__rng_next(&g.rng), lupi__rng_next(&master));
}
END_TEST

/* Every kernel the CPU has gives the reference's values bit for bit
 * (the normals in double, and the noised floats) and leaves the streams
 * where the reference does, for many lengths (tails of 0 to 7, several
 * vector passes) in consecutive calls, on several seeds; 203530 is the
 * benchmark teacher's parameter count. */
START_TEST(bulk_noise_matches_the_reference)
{
	static const size_t lens[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 1023,
				      1024, 1025, 4099, 203530};
	static const uint64_t seeds[3] = {1, 777, UINT64_C(0x8000000000000005)};
	size_t nl = sizeof lens / sizeof lens[0], total = 0;
	for (size_t l = 0; l < nl; l++)
		total += lens[l];
	float *x = malloc(total * sizeof *x), *ref = malloc(total * sizeof *ref);
	double *z = malloc(total * sizeof *z), *zr = malloc(total * sizeof *zr);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_nonnull(zr);
	int kernels = 0;
	for (int k = LUPI__DP_NOISE_PORTABLE; k <= LUPI__DP_NOISE_AVX512; k++) {
		if (lupi__dp_noise_kernel(k) != k)
			continue;
		kernels++;
		for (int s = 0; s < 3; s++) {
			lupi__dp_rng g;
			ck_assert_int_eq(lupi__dp_rng_init(&g, seeds[s]), LUPI_OK);
			ref_gen rg;
			ref_init(&rg, &g, g.rng.s);
			for (size_t i = 0; i < total; i++)
				x[i] = ref[i] = (float)((double)(i % 7) - 3.0) *
						0.25f;
			double sd = 2.5;
			float scale = 0.125f;
			size_t at = 0;
			for (size_t l = 0; l < nl; l++) {
				lupi__dp_add_noise_scaled(&g, x + at, lens[l], sd,
							  scale);
				ref_noise(&rg, ref + at, lens[l], sd, scale);
				ck_assert_msg(memcmp(x + at, ref + at,
						     lens[l] * sizeof *x) == 0,
					      "kernel %d seed %d n %zu", k, s,
					      lens[l]);
				assert_same_streams(&g, &rg);
				at += lens[l];
			}
			/* hundreds of wedges and a few tails taken */
			ck_assert(rg.rejects > 2000 && rg.tails > 20);
			/* the normals themselves, every bit */
			ck_assert_int_eq(lupi__dp_rng_init(&g, seeds[s]), LUPI_OK);
			ref_init(&rg, &g, g.rng.s);
			at = 0;
			for (size_t l = 0; l < nl; l++) {
				lupi__dp_bulk_normals(&g, z + at, lens[l]);
				ref_normals(&rg, zr + at, lens[l]);
				ck_assert_msg(memcmp(z + at, zr + at,
						     lens[l] * sizeof *z) == 0,
					      "normals: kernel %d seed %d n %zu",
					      k, s, lens[l]);
				assert_same_streams(&g, &rg);
				at += lens[l];
			}
		}
	}
	lupi__dp_noise_kernel(-1);
	ck_assert_int_ge(kernels, 1);
	free(zr);
	free(z);
	free(ref);
	free(x);
}
END_TEST

/* s[1] such that the next xoshiro256** output is b: b = rotl(5 s1, 7) 9,
 * so s1 = 5^-1 rotr(9^-1 b, 7) modulo 2^64. */
static uint64_t s1_for_output(uint64_t b)
{
	uint64_t inv5 = 5, inv9 = 9; /* Newton: x (2 - a x) doubles the bits */
	for (int i = 0; i < 6; i++) {
		inv5 *= 2 - 5 * inv5;
		inv9 *= 2 - 9 * inv9;
	}
	uint64_t r = b * inv9;
	return ((r >> 7) | (r << 57)) * inv5;
}

/* Lanes forced to fail the fast test in one block, and in the same lane
 * in consecutive blocks: b = 0 (layer 0, u = -1: the tail) and b = 5 or
 * 200 (u = -1: |u x_i| = x_i >= x_(i+1), a wedge). Every kernel equals
 * the reference, which took those slow paths. */
START_TEST(bulk_noise_forced_rejects)
{
	lupi__dp_rng g0;
	ck_assert_int_eq(lupi__dp_rng_init(&g0, 4242), LUPI_OK);
	/* block 0: lanes 2 (wedge), 5 (tail), 7 (wedge); s1 only sets the
	 * first output */
	g0.lane[1][2] = s1_for_output(5);
	g0.lane[1][5] = s1_for_output(0);
	g0.lane[1][7] = s1_for_output(200);
	g0.lane[1][0] = g0.rng.s[1] = s1_for_output(0);
	for (int j = 0; j < LUPI__DP_LANES; j++) { /* outputs as intended */
		lupi__rng r = {{g0.lane[0][j], g0.lane[1][j], g0.lane[2][j],
				g0.lane[3][j]}};
		uint64_t b = lupi__rng_next(&r);
		if (j == 0 || j == 5)
			ck_assert_uint_eq(b, 0);
		if (j == 2)
			ck_assert_uint_eq(b, 5);
		if (j == 7)
			ck_assert_uint_eq(b, 200);
	}
	size_t n = 8 * 3 + 5;
	for (int k = LUPI__DP_NOISE_PORTABLE; k <= LUPI__DP_NOISE_AVX512; k++) {
		if (lupi__dp_noise_kernel(k) != k)
			continue;
		lupi__dp_rng g = g0;
		ref_gen rg;
		ref_init(&rg, &g, g.rng.s);
		for (int j = 1; j < LUPI__DP_LANES; j++)
			for (int c = 0; c < 4; c++)
				rg.lane[j].s[c] = g.lane[c][j];
		rg.slow = g.slow; /* the jumps of the unforced master */
		float x[8 * 3 + 5], ref[8 * 3 + 5];
		for (size_t i = 0; i < n; i++)
			x[i] = ref[i] = (float)i;
		lupi__dp_add_noise_scaled(&g, x, n, 1.0, 1.0f);
		ref_noise(&rg, ref, n, 1.0, 1.0f);
		ck_assert_uint_ge(rg.rejects, 4);
		ck_assert_uint_ge(rg.tails, 2);
		ck_assert_msg(memcmp(x, ref, sizeof x) == 0, "kernel %d", k);
		assert_same_streams(&g, &rg);
		double z[8 * 3 + 5], zr[8 * 3 + 5];
		g = g0;
		ref_init(&rg, &g, g.rng.s);
		for (int j = 1; j < LUPI__DP_LANES; j++)
			for (int c = 0; c < 4; c++)
				rg.lane[j].s[c] = g.lane[c][j];
		rg.slow = g.slow;
		lupi__dp_bulk_normals(&g, z, n);
		ref_normals(&rg, zr, n);
		ck_assert_msg(memcmp(z, zr, sizeof z) == 0, "normals: kernel %d",
			      k);
		/* the tails are beyond R: |z| > 3.654 */
		ck_assert(fabs(x[0]) > 3.654 && fabs(x[5] - 5.0f) > 3.654);
	}
	lupi__dp_noise_kernel(-1);
}
END_TEST

/* The bulk noise of the best kernel: moments and tail masses of sd *
 * scale * N(0, 1), no correlation between neighbours (other lanes) or
 * elements 8 apart (the same lane), each within 5 standard errors;
 * the same seed gives the same output. */
START_TEST(bulk_noise_statistics)
{
	size_t n = 400000;
	float *x = calloc(n, sizeof *x), *y = calloc(n, sizeof *y);
	ck_assert_ptr_nonnull(x);
	ck_assert_ptr_nonnull(y);
	lupi__dp_rng a, b;
	ck_assert_int_eq(lupi__dp_rng_init(&a, 777), LUPI_OK);
	double sd = 2.5;
	float scale = 0.125f;
	lupi__dp_add_noise_scaled(&a, x, n, sd, scale);
	double s = sd * scale, s1 = 0, s2 = 0, s4 = 0, c1 = 0, c8 = 0;
	size_t beyond2 = 0, beyond37 = 0;
	for (size_t i = 0; i < n; i++) {
		double z = (double)x[i] / s;
		s1 += z;
		s2 += z * z;
		s4 += z * z * z * z;
		beyond2 += fabs(z) > 2.0;
		beyond37 += fabs(z) > 3.7;
		if (i + 1 < n)
			c1 += z * (double)x[i + 1] / s;
		if (i + 8 < n)
			c8 += z * (double)x[i + 8] / s;
	}
	double p2 = erfc(2.0 / sqrt(2.0)), p37 = erfc(3.7 / sqrt(2.0));
	ck_assert(fabs(beyond2 - n * p2) < 5.0 * sqrt(n * p2));
	ck_assert(fabs(beyond37 - n * p37) < 5.0 * sqrt(n * p37));
	ck_assert(fabs(s1 / n) < 5.0 / sqrt((double)n));
	ck_assert(fabs(s2 / n - 1.0) < 5.0 * sqrt(2.0 / n));
	ck_assert(fabs(s4 / n - 3.0) < 5.0 * sqrt(96.0 / n));
	ck_assert(fabs(c1 / n) < 5.0 / sqrt((double)n));
	ck_assert(fabs(c8 / n) < 5.0 / sqrt((double)n));
	/* the same seed again, in two calls: the same output */
	ck_assert_int_eq(lupi__dp_rng_init(&b, 777), LUPI_OK);
	lupi__dp_add_noise_scaled(&b, y, 1000, sd, scale);
	lupi__dp_add_noise_scaled(&b, y + 1000, n - 1000, sd, scale);
	ck_assert(memcmp(x, y, n * sizeof *x) == 0);
	free(y);
	free(x);
}
END_TEST

/* A private fit with a seed gives the same model bits again, and with
 * every noise kernel. */
START_TEST(private_fit_is_reproducible_on_every_kernel)
{
	lupi_dataset *ds = blobs(300, 8);
	lupi_dp *dp = dp_config(1.0, 1.0, 0.0, 11);
	float *first = NULL;
	size_t np = 0;
	int runs = 0;
	for (int k = LUPI__DP_NOISE_PORTABLE; k <= LUPI__DP_NOISE_AVX512; k++) {
		if (lupi__dp_noise_kernel(k) != k)
			continue;
		for (int rep = 0; rep < 2; rep++) {
			lupi_model *m = wide();
			ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS,
							    2), LUPI_OK);
			ck_assert_int_eq(lupi_model_fit_dp(m, dp, ds, NULL, NULL,
							   NULL), LUPI_OK);
			np = m->n_params;
			float *p = malloc(np * sizeof *p);
			ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
			if (first == NULL)
				first = p;
			else {
				ck_assert_msg(memcmp(first, p, np * sizeof *p) == 0,
					      "kernel %d run %d", k, rep);
				free(p);
			}
			lupi_model_free(m);
			runs++;
		}
	}
	lupi__dp_noise_kernel(-1);
	ck_assert_int_ge(runs, 2);
	/* and another seed gives another model */
	lupi_dp *other = dp_config(1.0, 1.0, 0.0, 12);
	lupi_model *m = wide();
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(m, other, ds, NULL, NULL, NULL),
			 LUPI_OK);
	float *p = malloc(np * sizeof *p);
	ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
	ck_assert(memcmp(first, p, np * sizeof *p) != 0);
	free(p);
	free(first);
	lupi_model_free(m);
	lupi_dp_free(other);
	lupi_dp_free(dp);
	lupi_dataset_free(ds);
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
	tcase_add_test(tc, bulk_noise_streams_are_jumps_of_the_master);
	tcase_add_test(tc, bulk_noise_matches_the_reference);
	tcase_add_test(tc, bulk_noise_forced_rejects);
	tcase_add_test(tc, bulk_noise_statistics);
	tcase_add_test(tc, poisson_sampling);
	tcase_add_test(tc, private_step_adds_calibrated_noise);
	tcase_add_test(tc, divides_by_the_expected_batch);
	suite_add_tcase(s, tc);
	tc = tcase_create("fit");
	tcase_add_test(tc, unaccountable_configurations_are_refused);
	tcase_add_test(tc, private_fit_reports_its_epsilon);
	tcase_add_test(tc, private_fit_is_reproducible_on_every_kernel);
	tcase_add_test(tc, target_epsilon_and_student_fit);
	tcase_add_test(tc, tempered_sigmoid_is_tanh_at_2_2_1);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
