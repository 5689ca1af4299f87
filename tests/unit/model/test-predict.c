/* The prediction pass (lib/model/predict.c): a row's outputs are the same
 * bits whatever batch it comes in, whichever kernel (AVX-512 or portable)
 * and however many threads compute it, and they agree with a float64
 * forward pass written here. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model/model_internal.h"
#include "testutil.h"

/* Shapes: the Fashion-MNIST student and teacher, and odd ones (inputs
 * below, at and just past a multiple of 16; outputs not a multiple of 4;
 * two hidden layers; activations other than ReLU; a layer without bias). */
struct shape {
	size_t in, hidden[2], n_hidden, out;
	int act, no_bias_layer, standardize;
};

static const struct shape shapes[] = {
	{49, {256, 0}, 1, 10, LUPI_ACT_RELU, -1, 0},
	{784, {256, 0}, 1, 10, LUPI_ACT_RELU, -1, 1},
	{17, {33, 5}, 2, 3, LUPI_ACT_TANH, 1, 1},
	{16, {7, 0}, 1, 2, LUPI_ACT_GELU, -1, 0},
	{1, {4, 0}, 1, 2, LUPI_ACT_SIGMOID, 0, 0},
	{31, {21, 6}, 2, 1, LUPI_ACT_TEMPERED_SIGMOID, -1, 1},
	{64, {0, 0}, 0, 5, LUPI_ACT_RELU, -1, 0},
};
#define N_SHAPES (sizeof shapes / sizeof *shapes)

static uint64_t lcg = 88172645463325252u;

static float uniform(void) /* in [-1, 1) */
{
	lcg = lcg * 6364136223846793005u + 1442695040888963407u;
	return (float)((double)(lcg >> 40) / 8388608.0 - 1.0);
}

static lupi_model *make(const struct shape *s)
{
	lupi_model *m;
	int task = s->out == 1 ? LUPI_TASK_BINARY : LUPI_TASK_CLASSIFICATION;
	ck_assert_int_eq(lupi_model_create(task, s->in, s->hidden,
					   s->n_hidden, s->out, &m),
			 LUPI_OK);
	for (size_t l = 0; l < s->n_hidden; l++)
		ck_assert_int_eq(lupi_model_set_layer_int(
					 m, l, LUPI_LAYER_OPT_ACTIVATION,
					 s->act),
				 LUPI_OK);
	if (s->no_bias_layer >= 0)
		ck_assert_int_eq(lupi_model_set_layer_int(
					 m, (size_t)s->no_bias_layer,
					 LUPI_LAYER_OPT_BIAS, 0),
				 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 7),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	/* biases away from 0, so that a missed bias shows */
	for (size_t l = 0; l < m->n_layers; l++)
		if (m->layers[l].b)
			for (size_t o = 0; o < m->layers[l].out; o++)
				m->layers[l].b[o] = 0.1f * uniform();
	if (s->standardize) {
		float *mu = malloc(s->in * sizeof *mu);
		float *sd = malloc(s->in * sizeof *sd);
		for (size_t i = 0; i < s->in; i++) {
			mu[i] = 0.2f * uniform();
			sd[i] = 0.5f + 0.25f * (uniform() + 1.0f);
		}
		ck_assert_int_eq(lupi_model_set_standardizer(m, mu, sd),
				 LUPI_OK);
		free(mu);
		free(sd);
	}
	return m;
}

static float *inputs(size_t n, size_t d)
{
	float *x = malloc((n * d + 1) * sizeof *x);
	for (size_t i = 0; i < n * d + 1; i++)
		x[i] = uniform();
	return x;
}

/* Logits of every row predicted alone. */
static float *singles(const lupi_model *m, const float *x, size_t n)
{
	float *y = malloc(n * m->n_out * sizeof *y);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(lupi__model_predict_logits(
					 m, x + i * m->n_in, 1,
					 y + i * m->n_out),
				 LUPI_OK);
	return y;
}

static void assert_same_bits(const float *a, const float *b, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (memcmp(a + i, b + i, sizeof *a) != 0)
			ck_abort_msg("value %zu: %.9g != %.9g", i, (double)a[i],
				     (double)b[i]);
}

/* Batch of n rows == each row alone, bit for bit, for both kernels and 1,
 * 2 and 3 threads; and the two kernels agree. n spans a single block, odd
 * counts, and batches large enough for aligned copies and threads. */
START_TEST(batch_equals_single_bit_for_bit)
{
	static const size_t ns[] = {1, 5, 7, 13, 67, 301};
	const struct shape *s = &shapes[_i];
	lupi_model *m = make(s);
	int was = lupi__predict_kernel(-1);
	for (size_t j = 0; j < sizeof ns / sizeof *ns; j++) {
		size_t n = ns[j], k = m->n_out;
		float *x = inputs(n, s->in);
		lupi__predict_kernel(0);
		float *ref = singles(m, x, n);
		for (int kern = 0; kern <= 1; kern++) {
			lupi__predict_kernel(kern);
			float *one = singles(m, x, n);
			assert_same_bits(one, ref, n * k);
			free(one);
			for (int t = 1; t <= 3; t++) {
				ck_assert_int_eq(lupi_set_num_threads(t),
						 LUPI_OK);
				float *y = malloc(n * k * sizeof *y);
				ck_assert_int_eq(lupi__model_predict_logits(
							 m, x, n, y),
						 LUPI_OK);
				assert_same_bits(y, ref, n * k);
				/* rows that start off a cache line */
				memmove(x + 1, x, n * s->in * sizeof *x);
				ck_assert_int_eq(lupi__model_predict_logits(
							 m, x + 1, n, y),
						 LUPI_OK);
				memmove(x, x + 1, n * s->in * sizeof *x);
				assert_same_bits(y, ref, n * k);
				free(y);
			}
		}
		free(ref);
		free(x);
	}
	lupi__predict_kernel(was);
	ck_assert_int_eq(lupi_set_num_threads(0), LUPI_OK);
	lupi_model_free(m);
}
END_TEST

static double act_d(const lupi_model *m, int act, double z)
{
	switch (act) {
	case LUPI_ACT_RELU:
		return z > 0 ? z : 0;
	case LUPI_ACT_TANH:
		return tanh(z);
	case LUPI_ACT_SIGMOID:
		return 1.0 / (1.0 + exp(-z));
	case LUPI_ACT_GELU:
		return 0.5 * z *
		       (1.0 + tanh(sqrt(2.0 / M_PI) *
				   (z + 0.044715 * z * z * z)));
	case LUPI_ACT_TEMPERED_SIGMOID:
		return m->opt.ts_scale /
			       (1.0 + exp(-m->opt.ts_temperature * z)) -
		       m->opt.ts_offset;
	default:
		return z;
	}
}

/* The forward pass in double from the model's float parameters. */
static void forward_d(const lupi_model *m, const float *x, double *y)
{
	double a[2][1024], *cur = a[0];
	for (size_t i = 0; i < m->n_in; i++)
		cur[i] = m->has_std ? ((double)x[i] - m->mean[i]) * m->inv_std[i]
				    : x[i];
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		double *nx = l + 1 == m->n_layers ? y : a[(l + 1) & 1];
		for (size_t o = 0; o < ly->out; o++) {
			double s = ly->b ? ly->b[o] : 0.0;
			for (size_t i = 0; i < ly->in; i++)
				s += (double)ly->w[o * ly->in + i] * cur[i];
			nx[o] = act_d(m, ly->act, s);
		}
		cur = nx;
	}
}

/* Values agree with the float64 forward pass: float32 error only. */
START_TEST(values_match_double_reference)
{
	const struct shape *s = &shapes[_i];
	lupi_model *m = make(s);
	size_t n = 37, k = m->n_out;
	float *x = inputs(n, s->in);
	float *y = malloc(n * k * sizeof *y);
	int was = lupi__predict_kernel(-1);
	for (int kern = 0; kern <= 1; kern++) {
		lupi__predict_kernel(kern);
		ck_assert_int_eq(lupi__model_predict_logits(m, x, n, y),
				 LUPI_OK);
		for (size_t r = 0; r < n; r++) {
			double ref[16];
			forward_d(m, x + r * s->in, ref);
			for (size_t j = 0; j < k; j++)
				ck_assert_double_eq_tol(y[r * k + j], ref[j],
							1e-4 *
							(1 + fabs(ref[j])));
		}
	}
	lupi__predict_kernel(was);
	free(y);
	free(x);
	lupi_model_free(m);
}
END_TEST

/* The public call gives the same bits batch or single, after softmax. */
START_TEST(public_predict_batch_equals_single)
{
	lupi_model *m = make(&shapes[0]);
	size_t n = 1001, k = m->n_out;
	float *x = inputs(n, m->n_in);
	float *a = malloc(n * k * sizeof *a), *b = malloc(n * k * sizeof *b);
	int32_t *ca = malloc(n * sizeof *ca), cb;
	ck_assert_int_eq(lupi_model_predict(m, x, n, m->n_in,
					    LUPI_PREDICT_OUTPUT, a),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_predict_class(m, x, n, m->n_in, ca),
			 LUPI_OK);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(lupi_model_predict(m, x + i * m->n_in, 1,
						    m->n_in,
						    LUPI_PREDICT_OUTPUT,
						    b + i * k),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_predict_class(
					 m, x + i * m->n_in, 1, m->n_in, &cb),
				 LUPI_OK);
		ck_assert_int_eq(ca[i], cb);
	}
	assert_same_bits(a, b, n * k);
	/* a NaN in one row of a batch split over threads: the error names it */
	ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
	x[500 * m->n_in + 3] = NAN;
	ck_assert_int_eq(lupi_model_predict(m, x, n, m->n_in,
					    LUPI_PREDICT_OUTPUT, a),
			 LUPI_ENONFINITE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "sample 500:"));
	/* two of them in different parts: the error names the first */
	x[90 * m->n_in] = INFINITY;
	ck_assert_int_eq(lupi_model_predict(m, x, n, m->n_in,
					    LUPI_PREDICT_LOGITS, a),
			 LUPI_ENONFINITE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "sample 90:"));
	ck_assert_int_eq(lupi_set_num_threads(0), LUPI_OK);
	free(ca);
	free(a);
	free(b);
	free(x);
	lupi_model_free(m);
}
END_TEST

/* Signed zeros: row r's inputs are +0 or -0, chosen so that every product
 * of output r % out is -0. The DOT ORDER sums from +0, so that output is
 * +0 (and ReLU keeps the sign of a zero): the kernels that start a sum
 * from its first product must give the same bits as the portable one. */
START_TEST(zero_sums_have_the_dot_orders_sign)
{
	static const struct shape s = {40, {20, 0}, 1, 3, LUPI_ACT_RELU, 0, 0};
	lupi_model *m = make(&s);
	const lupi__layer *ly = &m->layers[0];
	size_t n = 35, k = m->n_out, h = ly->out;
	float *x = inputs(n, s.in);
	for (size_t r = 0; r < n; r += 2) /* every other row: zeros */
		for (size_t i = 0; i < s.in; i++)
			x[r * s.in + i] =
				ly->w[(r / 2 % h) * s.in + i] > 0 ? -0.0f
								  : 0.0f;
	int was = lupi__predict_kernel(-1);
	lupi__predict_kernel(0);
	float *ref = singles(m, x, n);
	float *hid = malloc(n * h * sizeof *hid),
	      *hid_ref = malloc(n * h * sizeof *hid_ref);
	ck_assert_int_eq(lupi__model_predict_hidden(m, 0, x, n, hid_ref),
			 LUPI_OK);
	for (size_t r = 0; r < n; r += 2) /* the case is there */
		ck_assert(signbit(hid_ref[r * h + r / 2 % h]) == 0 &&
			  hid_ref[r * h + r / 2 % h] == 0.0f);
	lupi__predict_kernel(1);
	float *y = malloc(n * k * sizeof *y);
	ck_assert_int_eq(lupi__model_predict_logits(m, x, n, y), LUPI_OK);
	assert_same_bits(y, ref, n * k);
	ck_assert_int_eq(lupi__model_predict_hidden(m, 0, x, n, hid), LUPI_OK);
	assert_same_bits(hid, hid_ref, n * h);
	lupi__predict_kernel(was);
	free(y);
	free(hid);
	free(hid_ref);
	free(ref);
	free(x);
	lupi_model_free(m);
}
END_TEST

/* A hidden layer's outputs (the feature-loss path) are the same pass cut
 * short: the first layer of the teacher shape against the reference. */
START_TEST(hidden_layer_matches_reference)
{
	lupi_model *m = make(&shapes[1]);
	size_t n = 9, w = m->layers[0].out;
	float *x = inputs(n, m->n_in);
	float *h = malloc(n * w * sizeof *h);
	ck_assert_int_eq(lupi__model_predict_hidden(m, 0, x, n, h), LUPI_OK);
	lupi_model cut = *m;
	cut.n_layers = 1;
	cut.n_out = w;
	double *ref = malloc(w * sizeof *ref);
	for (size_t r = 0; r < n; r++) {
		forward_d(&cut, x + r * m->n_in, ref);
		for (size_t j = 0; j < w; j++)
			ck_assert_double_eq_tol(h[r * w + j], ref[j],
						1e-4 * (1 + fabs(ref[j])));
	}
	free(ref);
	free(h);
	free(x);
	lupi_model_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("predict");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, batch_equals_single_bit_for_bit, 0,
			    (int)N_SHAPES);
	tcase_add_loop_test(tc, values_match_double_reference, 0,
			    (int)N_SHAPES);
	tcase_add_test(tc, public_predict_batch_equals_single);
	tcase_add_test(tc, hidden_layer_matches_reference);
	tcase_add_test(tc, zero_sums_have_the_dot_orders_sign);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
