/* Networks: forward pass and gradients against an independent reference
 * written here in double precision, with central finite differences. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "testutil.h"

#define N 6   /* samples */
#define D 4   /* inputs */

/* ---- the reference network, in double ----------------------------------- */

struct ref {
	int task;
	size_t nl, in[4], out[4];
	int act[4], bias[4];
	size_t k; /* outputs */
};

static void ref_of(const lupi_model *m, struct ref *r)
{
	r->task = lupi_model_task(m);
	r->nl = lupi_model_layers(m);
	size_t prev = lupi_model_inputs(m);
	for (size_t l = 0; l < r->nl; l++) {
		r->in[l] = prev;
		r->out[l] = lupi_model_layer_size(m, l);
		int64_t v;
		ck_assert_int_eq(lupi_model_get_layer_int(
					 m, l, LUPI_LAYER_OPT_ACTIVATION, &v),
				 LUPI_OK);
		r->act[l] = (int)v;
		ck_assert_int_eq(lupi_model_get_layer_int(m, l,
							  LUPI_LAYER_OPT_BIAS,
							  &v),
				 LUPI_OK);
		r->bias[l] = (int)v;
		prev = r->out[l];
	}
	r->k = lupi_model_outputs(m);
}

static double ref_act(int act, double z)
{
	switch (act) {
	case LUPI_ACT_RELU:
		return z > 0 ? z : 0;
	case LUPI_ACT_TANH:
		return tanh(z);
	case LUPI_ACT_SIGMOID:
		return 1.0 / (1.0 + exp(-z));
	case LUPI_ACT_GELU: {
		double c = sqrt(2.0 / M_PI);
		return 0.5 * z * (1.0 + tanh(c * (z + 0.044715 * z * z * z)));
	}
	default:
		return z;
	}
}

/* Per-sample loss on outputs f (k values). */
static double ref_sample_loss(const struct ref *r, const double *f,
			      int32_t y, const float *t)
{
	if (r->task == LUPI_TASK_CLASSIFICATION) {
		double mx = f[0], s = 0;
		for (size_t j = 1; j < r->k; j++)
			mx = f[j] > mx ? f[j] : mx;
		for (size_t j = 0; j < r->k; j++)
			s += exp(f[j] - mx);
		return mx + log(s) - f[y];
	}
	if (r->task == LUPI_TASK_BINARY) {
		double p = 1.0 / (1.0 + exp(-f[0]));
		return y ? -log(p) : -log(1.0 - p);
	}
	double l = 0;
	for (size_t j = 0; j < r->k; j++)
		l += 0.5 * (f[j] - t[j]) * (f[j] - t[j]);
	return l;
}

/* Weighted mean label loss of the reference network with parameters p
 * (weights w may be NULL), plus sum(G * h) at hidden layer gl when G is not
 * NULL (the library adds G to the gradient as is); mask (N x out[0])
 * multiplies the activations of hidden layer 0. */
static double ref_loss(const struct ref *r, const double *p, const float *x,
		       const int32_t *y, const float *t, const float *w,
		       const float *G, size_t gl, const double *mask)
{
	double total = 0, wsum = 0, extra = 0;
	for (size_t i = 0; i < N; i++) {
		double a[64], b[64];
		for (size_t j = 0; j < D; j++)
			a[j] = x[i * D + j];
		const double *q = p;
		for (size_t l = 0; l < r->nl; l++) {
			for (size_t o = 0; o < r->out[l]; o++) {
				double z = r->bias[l] ?
					q[r->in[l] * r->out[l] + o] : 0.0;
				for (size_t j = 0; j < r->in[l]; j++)
					z += q[o * r->in[l] + j] * a[j];
				b[o] = ref_act(r->act[l], z);
				if (mask && l == 0)
					b[o] *= mask[i * r->out[0] + o];
				if (G && l == gl && l + 1 < r->nl)
					extra += G[i * r->out[l] + o] * b[o];
			}
			q += r->in[l] * r->out[l] +
			     (r->bias[l] ? r->out[l] : 0);
			for (size_t o = 0; o < r->out[l]; o++)
				a[o] = b[o];
		}
		double wi = w ? w[i] : 1.0;
		total += wi * ref_sample_loss(r, a, y ? y[i] : 0,
					      t ? t + i * r->k : NULL);
		wsum += wi;
	}
	return total / wsum + extra;
}

/* ---- fixtures ----------------------------------------------------------- */

static float X[N * D];
static int32_t Y[N] = {0, 1, 2, 1, 0, 2};
static int32_t YB[N] = {0, 1, 1, 0, 1, 0};
static float T[N * 2];
static float W[N] = {1.0f, 0.5f, 2.0f, 0.0f, 1.5f, 1.0f};

static void fill(float *v, size_t n, lupi__rng *rng, double scale)
{
	for (size_t i = 0; i < n; i++)
		v[i] = (float)(scale * lupi__rng_normal(rng));
}

static lupi_dataset *make_ds(int task, int weighted)
{
	lupi__rng rng;
	lupi__rng_seed(&rng, 11);
	fill(X, N * D, &rng, 1.0);
	fill(T, N * 2, &rng, 1.0);
	lupi_dataset *ds;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &ds), LUPI_OK);
	if (task == LUPI_TASK_CLASSIFICATION)
		ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, Y), LUPI_OK);
	else if (task == LUPI_TASK_BINARY)
		ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, YB),
				 LUPI_OK);
	else
		ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, T), LUPI_OK);
	if (weighted)
		ck_assert_int_eq(lupi_dataset_set_weights(ds, W), LUPI_OK);
	return ds;
}

/* no_bias: bit l removes the bias of layer l. */
static lupi_model *make_model_nb(int task, size_t n_hidden, int act,
				 unsigned no_bias)
{
	static const size_t hidden[] = {5, 3};
	size_t k = task == LUPI_TASK_CLASSIFICATION ? 3 :
		   task == LUPI_TASK_BINARY ? 1 : 2;
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(task, D, hidden, n_hidden, k, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION, act),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	for (size_t l = 0; l <= n_hidden; l++)
		if (no_bias >> l & 1)
			ck_assert_int_eq(lupi_model_set_layer_int(
						 m, l, LUPI_LAYER_OPT_BIAS, 0),
					 LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *p = malloc(np * sizeof *p);
	lupi__rng rng;
	lupi__rng_seed(&rng, 5 + n_hidden * 7 + (size_t)act);
	fill(p, np, &rng, 0.7);
	ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
	free(p);
	return m;
}

static lupi_model *make_model(int task, size_t n_hidden, int act)
{
	return make_model_nb(task, n_hidden, act, 0);
}

static const size_t all_idx[N] = {0, 1, 2, 3, 4, 5};

/* Library gradient of the mean loss (+ hidden term) into g. */
static void lib_grad(lupi_model *m, const lupi_dataset *ds, const float *G,
		     size_t gl, int train, double *loss)
{
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, all_idx, N, train, &s),
			 LUPI_OK);
	ck_assert_int_eq(lupi__objective_hard(m->task, N, m->n_out, s,
					      m->y_labels, m->y_targets,
					      m->y_weights, loss, m->dlogits),
			 LUPI_OK);
	ck_assert_int_eq(lupi__model_backward(m, m->dlogits, G, gl), LUPI_OK);
}

/* 1 when parameter i belongs to a frozen layer. */
static int in_frozen_layer(const lupi_model *m, size_t i)
{
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		size_t a = (size_t)(ly->w - m->params);
		size_t n = ly->in * ly->out + (ly->b ? ly->out : 0);
		if (i >= a && i < a + n)
			return ly->frozen;
	}
	ck_abort_msg("parameter %zu in no layer", i);
	return 0;
}

/* Central differences of the reference in double against the library;
 * the gradient of a frozen layer must be exactly 0. */
static void compare_fd(lupi_model *m, const float *G, size_t gl,
		       const double *mask, double lib_loss, int weighted)
{
	struct ref r;
	ref_of(m, &r);
	size_t np = m->n_params;
	double *p = malloc(np * sizeof *p);
	for (size_t i = 0; i < np; i++)
		p[i] = m->params[i];
	const float *w = weighted ? W : NULL;
	const int32_t *y = r.task == LUPI_TASK_CLASSIFICATION ? Y :
			   r.task == LUPI_TASK_BINARY ? YB : NULL;
	const float *t = r.task == LUPI_TASK_REGRESSION ? T : NULL;
	double base = ref_loss(&r, p, X, y, t, w, NULL, 0, mask);
	ck_assert_double_eq_tol(lib_loss, base, 1e-5 * (1 + fabs(base)));
	const double h = 1e-6;
	for (size_t i = 0; i < np; i++) {
		if (in_frozen_layer(m, i)) {
			ck_assert_float_eq(m->grads[i], 0.0f);
			continue;
		}
		double keep = p[i];
		p[i] = keep + h;
		double lp = ref_loss(&r, p, X, y, t, w, G, gl, mask);
		p[i] = keep - h;
		double lm = ref_loss(&r, p, X, y, t, w, G, gl, mask);
		p[i] = keep;
		double fd = (lp - lm) / (2 * h);
		double g = m->grads[i];
		if (fabs(g - fd) > 1e-3 * fmax(fabs(fd), 1e-2))
			ck_abort_msg("task %d, %zu layers, act %d: grad[%zu] "
				     "library %.7g, finite differences %.7g",
				     r.task, r.nl, r.act[0], i, g, fd);
	}
	free(p);
}

/* Every task x activation x depth (0, 1, 2 hidden layers). */
START_TEST(gradients_match_finite_differences)
{
	int task = 1 + _i % 3;
	int act = (_i / 3) % 5;
	size_t depth = (size_t)(_i / 15);
	for (int weighted = 0; weighted < 2; weighted++) {
		lupi_dataset *ds = make_ds(task, weighted);
		lupi_model *m = make_model(task, depth, act);
		double loss;
		lib_grad(m, ds, NULL, 0, 1, &loss);
		compare_fd(m, NULL, 0, NULL, loss, weighted);
		lupi_model_free(m);
		lupi_dataset_free(ds);
	}
}
END_TEST

/* An extra gradient at a hidden layer (feature losses use it). */
START_TEST(hidden_gradient_is_added)
{
	int act = _i % 5;
	size_t gl = (size_t)(_i / 5);
	lupi_dataset *ds = make_ds(LUPI_TASK_CLASSIFICATION, 0);
	lupi_model *m = make_model(LUPI_TASK_CLASSIFICATION, 2, act);
	size_t width = gl == 0 ? 5 : 3;
	float G[N * 5];
	lupi__rng rng;
	lupi__rng_seed(&rng, 3);
	fill(G, N * width, &rng, 0.3);
	double loss;
	lib_grad(m, ds, G, gl, 0, &loss);
	compare_fd(m, G, gl, NULL, loss, 0);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Dropout: the mask seen in the hidden output enters the gradient. */
START_TEST(dropout_gradient_uses_the_mask)
{
	lupi_dataset *ds = make_ds(LUPI_TASK_REGRESSION, 0);
	lupi_model *m = make_model(LUPI_TASK_REGRESSION, 1, LUPI_ACT_TANH);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_DROPOUT, 0.5),
			 LUPI_OK);
	double loss;
	lib_grad(m, ds, NULL, 0, 1, &loss);
	/* tanh of a random pre-activation is never exactly 0: zeros are
	 * dropped units, the others are scaled by 1/(1-p) = 2 */
	const float *h = lupi__model_hidden(m, 0);
	ck_assert_ptr_nonnull(h);
	double mask[N * 5];
	int dropped = 0;
	for (size_t i = 0; i < N * 5; i++) {
		mask[i] = h[i] == 0.0f ? 0.0 : 2.0;
		dropped += h[i] == 0.0f;
	}
	ck_assert_int_gt(dropped, 3);
	ck_assert_int_lt(dropped, 27);
	compare_fd(m, NULL, 0, mask, loss, 0);

	/* without train, no unit is dropped */
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, all_idx, N, 0, &s),
			 LUPI_OK);
	h = lupi__model_hidden(m, 0);
	for (size_t i = 0; i < N * 5; i++)
		ck_assert(h[i] != 0.0f);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Training forward and the thread-safe prediction pass agree, and both
 * agree with the reference. */
START_TEST(forward_matches_reference_and_predict)
{
	int act = _i % 5;
	lupi_dataset *ds = make_ds(LUPI_TASK_REGRESSION, 0);
	lupi_model *m = make_model(LUPI_TASK_REGRESSION, 2, act);
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, all_idx, N, 0, &s),
			 LUPI_OK);
	float out[N * 2];
	ck_assert_int_eq(lupi__model_predict_logits(m, X, N, out), LUPI_OK);
	struct ref r;
	ref_of(m, &r);
	double *p = malloc(m->n_params * sizeof *p);
	for (size_t i = 0; i < m->n_params; i++)
		p[i] = m->params[i];
	for (size_t i = 0; i < N; i++) {
		ck_assert_float_eq_tol(s[i * 2], out[i * 2], 1e-6);
		ck_assert_float_eq_tol(s[i * 2 + 1], out[i * 2 + 1], 1e-6);
	}
	/* mean 1/2 |f - T|^2: library outputs against the reference */
	double ref = ref_loss(&r, p, X, NULL, T, NULL, NULL, 0, NULL);
	double lib = 0;
	for (size_t i = 0; i < N * 2; i++)
		lib += 0.5 * ((double)out[i] - T[i]) * ((double)out[i] - T[i]) /
		       N;
	ck_assert_double_eq_tol(lib, ref, 1e-5 * (1 + fabs(ref)));
	free(p);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* GELU's derivative at a few points against the double formula. */
START_TEST(activation_derivatives)
{
	/* one hidden unit, identity output with weight 1: d out / d b0 is
	 * act'(w x + b0) */
	const size_t hid[] = {1};
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 1, hid, 1, 1,
					   &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	const float zs[] = {-3.0f, -0.5f, 0.0f, 0.3f, 2.5f};
	for (int act = 0; act < 5; act++) {
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
						    act), LUPI_OK);
		for (size_t z = 0; z < 5; z++) {
			if (act == LUPI_ACT_RELU && zs[z] == 0.0f)
				continue; /* the kink */
			float x = 1.0f, tgt = 0.0f;
			lupi_dataset *ds;
			ck_assert_int_eq(lupi_dataset_create(1, 1, &x, &ds),
					 LUPI_OK);
			ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, &tgt),
					 LUPI_OK);
			/* w1 = 0 (x contributes nothing), b1 = z, w2 = 1 */
			float p[4] = {0.0f, zs[z], 1.0f, 0.0f};
			ck_assert_int_eq(lupi_model_set_params(m, p, 4),
					 LUPI_OK);
			const size_t i0 = 0;
			const float *s;
			ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
			ck_assert_int_eq(lupi__model_forward(m, ds, &i0, 1, 0,
							     &s), LUPI_OK);
			ck_assert_double_eq_tol(s[0], ref_act(act, zs[z]),
						1e-6);
			float one = 1.0f;
			ck_assert_int_eq(lupi__model_backward(m, &one, NULL, 0),
					 LUPI_OK);
			double h = 1e-6;
			double fd = (ref_act(act, zs[z] + h) -
				     ref_act(act, zs[z] - h)) / (2 * h);
			ck_assert_double_eq_tol(m->grads[1], fd, 1e-5);
			lupi_dataset_free(ds);
		}
	}
	lupi_model_free(m);
}
END_TEST

/* Layers without a bias: the layout skips it, and the gradient of the
 * rest still matches the reference. _i: task x which layers lack it
 * (the first, the output, all three). */
START_TEST(no_bias_gradients_match_finite_differences)
{
	int task = 1 + _i % 3;
	static const unsigned masks[] = {1u, 4u, 7u};
	unsigned mask = masks[_i / 3];
	lupi_dataset *ds = make_ds(task, 1);
	lupi_model *m = make_model_nb(task, 2, LUPI_ACT_TANH, mask);
	size_t k = lupi_model_outputs(m);
	size_t full = D * 5 + 5 + 5 * 3 + 3 + 3 * k + k;
	size_t gone = (mask & 1 ? 5 : 0) + (mask & 2 ? 3 : 0) +
		      (mask & 4 ? k : 0);
	ck_assert_uint_eq(lupi_model_num_params(m), full - gone);
	for (size_t l = 0; l < 3; l++)
		if (mask >> l & 1)
			ck_assert_ptr_null(m->layers[l].b);
	double loss;
	lib_grad(m, ds, NULL, 0, 1, &loss);
	compare_fd(m, NULL, 0, NULL, loss, 1);
	/* and prediction agrees with the training forward pass */
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, all_idx, N, 0, &s),
			 LUPI_OK);
	float out[N * 3];
	ck_assert_int_eq(lupi__model_predict_logits(m, X, N, out), LUPI_OK);
	for (size_t i = 0; i < N * k; i++)
		ck_assert_float_eq_tol(out[i], s[i], 1e-6);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A frozen layer reports a zero gradient; backward still goes through
 * it, so the layers before it get their true gradient. _i: the frozen
 * layer (0, 1 or the output layer 2). */
START_TEST(frozen_layer_gradient_is_zero)
{
	lupi_dataset *ds = make_ds(LUPI_TASK_CLASSIFICATION, 0);
	lupi_model *m = make_model(LUPI_TASK_CLASSIFICATION, 2, LUPI_ACT_GELU);
	ck_assert_int_eq(lupi_model_set_layer_int(m, (size_t)_i,
						  LUPI_LAYER_OPT_FROZEN, 1),
			 LUPI_OK);
	double loss;
	lib_grad(m, ds, NULL, 0, 1, &loss);
	compare_fd(m, NULL, 0, NULL, loss, 0);
	/* some gradient is non-zero outside the frozen layer */
	const lupi__layer *ly = &m->layers[_i == 0 ? 1 : 0];
	double ss = lupi__sumsq(m->grads + (ly->w - m->params),
				ly->in * ly->out);
	ck_assert(ss > 0.0);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- row blocks: a small model's pass split by rows over 2 threads ------ */

#define RN 200 /* rows: not a multiple of the blocks' 16 */
#define RD 32

/* Logits, gradients and the number of row blocks of one forward and
 * backward pass (hint gradient G on hidden layer 0) at `threads`. */
static unsigned row_pass(lupi_model *m, const lupi_dataset *ds,
			 const size_t *idx, const float *G, int threads,
			 float *logits, float *grads)
{
	ck_assert_int_eq(lupi_set_num_threads(threads), LUPI_OK);
	const float *s;
	ck_assert_int_eq(lupi__model_forward(m, ds, idx, RN, 1, &s), LUPI_OK);
	memcpy(logits, s, RN * m->n_out * sizeof *logits);
	double loss;
	ck_assert_int_eq(lupi__objective_hard(m->task, RN, m->n_out, s,
					      m->y_labels, NULL, NULL, &loss,
					      m->dlogits),
			 LUPI_OK);
	ck_assert_int_eq(lupi__model_backward(m, m->dlogits, G, 0), LUPI_OK);
	memcpy(grads, m->grads, m->n_params * sizeof *grads);
	unsigned parts = m->batch_parts;
	ck_assert_int_eq(lupi_set_num_threads(0), LUPI_OK);
	return parts;
}

/* The logits of row i of x (RD inputs) in double, for model m. */
static void ref_logits(const lupi_model *m, const float *x, double *out)
{
	double a[64], b[64];
	for (size_t j = 0; j < RD; j++)
		a[j] = x[j];
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		for (size_t o = 0; o < ly->out; o++) {
			double z = ly->b ? ly->b[o] : 0.0;
			for (size_t j = 0; j < ly->in; j++)
				z += (double)ly->w[o * ly->in + j] * a[j];
			b[o] = l + 1 < m->n_layers ? ref_act(ly->act, z) : z;
		}
		memcpy(a, b, ly->out * sizeof *a);
	}
	memcpy(out, a, m->n_out * sizeof *out);
}

/* _i: 0 plain, 1 a frozen hidden layer, 2 no bias on layer 1, 3 with
 * dropout (no row blocks). */
START_TEST(row_blocks_match_the_whole_batch)
{
	static const size_t hidden[2] = {64, 16};
	static float x[RN * RD], G[RN * 64];
	static int32_t y[RN];
	lupi__rng rng;
	lupi__rng_seed(&rng, 23);
	fill(x, RN * RD, &rng, 1.0);
	fill(G, RN * 64, &rng, 0.01);
	for (size_t i = 0; i < RN; i++)
		y[i] = (int32_t)lupi__rng_below(&rng, 5);
	lupi_dataset *ds;
	ck_assert_int_eq(lupi_dataset_create(RN, RD, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 5, y), LUPI_OK);
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, RD,
					   hidden, 2, 5, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH),
			 LUPI_OK);
	if (_i == 1)
		ck_assert_int_eq(lupi_model_set_layer_int(
					 m, 1, LUPI_LAYER_OPT_FROZEN, 1),
				 LUPI_OK);
	if (_i == 2)
		ck_assert_int_eq(lupi_model_set_layer_int(m, 1,
							  LUPI_LAYER_OPT_BIAS,
							  0),
				 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi__model_prepare(m, ds), LUPI_OK);
	size_t idx[RN];
	for (size_t i = 0; i < RN; i++)
		idx[i] = (i * 37) % RN; /* shuffled */
	size_t np = m->n_params, nl = RN * m->n_out;
	float *l1 = malloc(nl * sizeof *l1), *l2 = malloc(nl * sizeof *l2);
	float *g1 = malloc(np * sizeof *g1), *g2 = malloc(np * sizeof *g2);
	if (_i == 3) {
		/* dropout draws masks over the whole batch in order: no
		 * blocks, and the same bits at 2 threads as at 1 */
		ck_assert_int_eq(lupi_model_set_double(
					 m, LUPI_MODEL_OPT_DROPOUT, 0.3),
				 LUPI_OK);
		lupi__rng keep = m->rng;
		ck_assert_uint_eq(row_pass(m, ds, idx, G, 1, l1, g1), 1);
		m->rng = keep;
		ck_assert_uint_eq(row_pass(m, ds, idx, G, 2, l2, g2), 1);
		ck_assert_mem_eq(l1, l2, nl * sizeof *l1);
		goto done;
	}
	ck_assert_uint_eq(row_pass(m, ds, idx, G, 1, l1, g1), 1);
	ck_assert_uint_eq(row_pass(m, ds, idx, G, 2, l2, g2), 2);
	for (size_t i = 0; i < RN; i++) {
		double r[5];
		ref_logits(m, x + idx[i] * RD, r);
		for (size_t c = 0; c < 5; c++) {
			double tol = 1e-5 * (1.0 + fabs(r[c]));
			ck_assert_double_eq_tol(l1[i * 5 + c], r[c], tol);
			ck_assert_double_eq_tol(l2[i * 5 + c], r[c], tol);
		}
	}
	/* the blocks' arrays keep a gap after each block (the other core's
	 * prefetches), so the hidden rows are only one array on request */
	const float *s;
	ck_assert_uint_ge(m->block_gap, 16384);
	ck_assert_ptr_null(lupi__model_hidden(m, 0));
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
	ck_assert_int_eq(lupi__model_forward(m, ds, idx, RN, 0, &s), LUPI_OK);
	size_t nh = RN * m->layers[0].out;
	float *h1 = malloc(nh * sizeof *h1);
	memcpy(h1, lupi__model_hidden(m, 0), nh * sizeof *h1);
	ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
	ck_assert_int_eq(lupi__model_forward(m, ds, idx, RN, LUPI__FWD_WHOLE,
					     &s),
			 LUPI_OK);
	ck_assert_uint_eq(m->batch_parts, 2);
	ck_assert_uint_eq(m->block_gap, 0);
	const float *h2 = lupi__model_hidden(m, 0);
	ck_assert_ptr_nonnull(h2);
	for (size_t i = 0; i < nh; i++)
		ck_assert_float_eq_tol(h2[i], h1[i], 1e-6f * (1 + fabsf(h1[i])));
	ck_assert_int_eq(lupi_set_num_threads(0), LUPI_OK);
	free(h1);
	/* the whole-batch pass is checked against finite differences above;
	 * the blocks differ from it only in summation order */
	double ss = 0.0;
	for (size_t p = 0; p < np; p++) {
		if (in_frozen_layer(m, p)) {
			ck_assert_float_eq(g2[p], 0.0f);
			continue;
		}
		ss += (double)g1[p] * g1[p];
		if (fabs(g1[p] - g2[p]) > 1e-6 + 1e-4 * fabs(g1[p]))
			ck_abort_msg("case %d: grad[%zu] whole batch %.8g, "
				     "row blocks %.8g", _i, p, g1[p], g2[p]);
	}
	ck_assert(ss > 1e-6);
done:
	free(l1);
	free(l2);
	free(g1);
	free(g2);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(backward_needs_forward_and_valid_layer)
{
	lupi_dataset *ds = make_ds(LUPI_TASK_CLASSIFICATION, 0);
	lupi_model *m = make_model(LUPI_TASK_CLASSIFICATION, 1,
				   LUPI_ACT_RELU);
	float g[N * 3] = {0};
	ck_assert_int_eq(lupi__model_backward(m, g, NULL, 0), LUPI_ESTATE);
	ck_assert_int_eq(lupi__model_backward(m, NULL, NULL, 0), LUPI_EINVAL);
	double loss;
	lib_grad(m, ds, NULL, 0, 0, &loss);
	ck_assert_int_eq(lupi__model_backward(m, g, g, 1), LUPI_ERANGE);
	ck_assert_ptr_null(lupi__model_hidden(m, 1));
	ck_assert_ptr_nonnull(lupi__model_hidden(m, 0));
	const float *s;
	const size_t bad[] = {0, 6};
	ck_assert_int_eq(lupi__model_forward(m, ds, bad, 2, 1, &s),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "6"));
	ck_assert_int_eq(lupi__model_forward(m, ds, bad, 0, 1, &s),
			 LUPI_EINVAL);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(alloc_rejects_bad_shapes)
{
	lupi_model *m = (lupi_model *)1;
	size_t h[] = {3, 0};
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 2, h, 2, 1,
					   LUPI_ACT_RELU, NULL, &m),
			 LUPI_ERANGE);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 2, h, 1, 1,
					   99, NULL, &m), LUPI_ERANGE);
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 2, h, 1, 1,
					   LUPI_ACT_TANH, NULL, &m), LUPI_OK);
	ck_assert_int_eq(m->layers[0].act, LUPI_ACT_TANH);
	ck_assert_int_eq(m->layers[1].act, LUPI_ACT_IDENTITY);
	ck_assert_int_eq(m->opt.activation, LUPI_ACT_TANH);
	ck_assert_ptr_eq(m->layers[0].w, m->params);
	ck_assert_ptr_eq(m->layers[0].b, m->params + 6);
	ck_assert_ptr_eq(m->layers[1].w, m->params + 9);
	ck_assert_ptr_eq(m->layers[1].b, m->params + 12);
	ck_assert_uint_eq(m->n_params, 13);
	ck_assert_int_eq(m->initialized, 0);
	lupi_model_free(m);
	/* without the first layer's bias: W0 (6), W1 (3), b1 (1) */
	const uint8_t nb[] = {1, 0};
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 2, h, 1, 1,
					   LUPI_ACT_TANH, nb, &m), LUPI_OK);
	ck_assert_ptr_null(m->layers[0].b);
	ck_assert_ptr_eq(m->layers[1].w, m->params + 6);
	ck_assert_ptr_eq(m->layers[1].b, m->params + 9);
	ck_assert_uint_eq(m->n_params, 10);
	lupi_model_free(m);
	size_t many[LUPI__MAX_LAYERS];
	for (size_t i = 0; i < LUPI__MAX_LAYERS; i++)
		many[i] = 2;
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 2, many,
					   LUPI__MAX_LAYERS, 1, LUPI_ACT_RELU,
					   NULL, &m), LUPI_ERANGE);
}
END_TEST

static int fail_all(size_t size, void *user)
{
	(void)size;
	(void)user;
	return 0;
}

START_TEST(alloc_failure_is_enomem)
{
	lupi_model *m;
	lupi__set_alloc_gate(fail_all, NULL);
	int rc = lupi__model_alloc(LUPI_TASK_REGRESSION, 2, NULL, 0, 1,
				   LUPI_ACT_RELU, NULL, &m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_ENOMEM);
	ck_assert_ptr_null(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("network");
	TCase *tc = tcase_create("network");
	tcase_add_loop_test(tc, gradients_match_finite_differences, 0, 45);
	tcase_add_loop_test(tc, hidden_gradient_is_added, 0, 10);
	tcase_add_test(tc, dropout_gradient_uses_the_mask);
	tcase_add_loop_test(tc, forward_matches_reference_and_predict, 0, 5);
	tcase_add_test(tc, activation_derivatives);
	tcase_add_loop_test(tc, no_bias_gradients_match_finite_differences, 0,
			    9);
	tcase_add_loop_test(tc, frozen_layer_gradient_is_zero, 0, 3);
	tcase_add_loop_test(tc, row_blocks_match_the_whole_batch, 0, 4);
	tcase_add_test(tc, backward_needs_forward_and_valid_layer);
	tcase_add_test(tc, alloc_rejects_bad_shapes);
	tcase_add_test(tc, alloc_failure_is_enomem);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
