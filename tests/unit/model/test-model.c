/* The public model API: options, parameters, standardisation, steps,
 * training, prediction and evaluation. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "model/model_internal.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static lupi_model *model(int task, size_t n_in, const size_t *hidden,
			 size_t n_hidden, size_t n_out)
{
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(task, n_in, hidden, n_hidden, n_out,
					   &m), LUPI_OK);
	return m;
}

static lupi_dataset *dataset(size_t n, size_t d, const float *x)
{
	lupi_dataset *ds;
	ck_assert_int_eq(lupi_dataset_create(n, d, x, &ds), LUPI_OK);
	return ds;
}

/* k Gaussian blobs in 2-D with centres on a circle of radius 4 (sd 1):
 * separable up to a few percent of overlap. */
static lupi_dataset *blobs(size_t n, size_t k, int binary, uint64_t seed)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	float *x = malloc(n * 2 * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		y[i] = (int32_t)(i % k);
		double a = 2 * M_PI * (double)y[i] / (double)k;
		x[i * 2] = (float)(4 * cos(a) + lupi__rng_normal(&r) + 10);
		x[i * 2 + 1] = (float)(4 * sin(a) + lupi__rng_normal(&r) - 5);
	}
	lupi_dataset *ds = dataset(n, 2, x);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, k, y, binary), LUPI_OK);
	free(x);
	free(y);
	return ds;
}

/* y = 2 x0 - 3 x1 + 0.5 (and, with m = 2, a second output x0 + x1). */
static lupi_dataset *linear(size_t n, size_t m, uint64_t seed)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	float *x = malloc(n * 2 * sizeof *x);
	float *t = malloc(n * m * sizeof *t);
	for (size_t i = 0; i < n; i++) {
		x[i * 2] = (float)lupi__rng_normal(&r);
		x[i * 2 + 1] = (float)(3 * lupi__rng_normal(&r) + 1);
		t[i * m] = 2 * x[i * 2] - 3 * x[i * 2 + 1] + 0.5f;
		if (m == 2)
			t[i * m + 1] = x[i * 2] + x[i * 2 + 1];
	}
	lupi_dataset *ds = dataset(n, 2, x);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, m, t), LUPI_OK);
	free(x);
	free(t);
	return ds;
}

static float *params_of(const lupi_model *m)
{
	size_t np = lupi_model_num_params(m);
	float *p = malloc(np * sizeof *p);
	ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
	return p;
}

static void has_msg(const char *part)
{
	if (strstr(lupi_errmsg(), part) == NULL)
		ck_abort_msg("message '%s' lacks '%s'", lupi_errmsg(), part);
}

/* ---- creation and accessors --------------------------------------------- */

START_TEST(create_errors)
{
	lupi_model *m = (lupi_model *)1;
	size_t h[] = {4, 0};
	size_t big[] = {1048577};
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, NULL, 0, 1,
					   NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, NULL,
					   0, 1, &m), LUPI_EINVAL);
	ck_assert_ptr_null(m);
	has_msg("at least 2 outputs");
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_BINARY, 2, NULL, 0, 2,
					   &m), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_NONE, 2, NULL, 0, 2, &m),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, NULL, 1, 1,
					   &m), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, h, 2, 1,
					   &m), LUPI_ERANGE);
	has_msg("hidden layer 1 has size 0");
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, big, 1, 1,
					   &m), LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 0, NULL, 0, 1,
					   &m), LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, NULL, 0,
					   1048577, &m), LUPI_ERANGE);
	lupi_model_free(NULL);
}
END_TEST

START_TEST(accessors)
{
	size_t h[] = {7, 5};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 3, h, 2, 4);
	ck_assert_int_eq(lupi_model_task(m), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_model_inputs(m), 3);
	ck_assert_uint_eq(lupi_model_outputs(m), 4);
	ck_assert_uint_eq(lupi_model_layers(m), 3);
	ck_assert_uint_eq(lupi_model_layer_size(m, 0), 7);
	ck_assert_uint_eq(lupi_model_layer_size(m, 1), 5);
	ck_assert_uint_eq(lupi_model_layer_size(m, 2), 4);
	ck_assert_uint_eq(lupi_model_layer_size(m, 3), 0);
	ck_assert_int_eq(lupi_model_layer_activation(m, 0), LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_layer_activation(m, 2), LUPI_ACT_IDENTITY);
	ck_assert_uint_eq(lupi_model_num_params(m),
			  3 * 7 + 7 + 7 * 5 + 5 + 5 * 4 + 4);
	ck_assert_int_eq(lupi_model_task(NULL), 0);
	ck_assert_uint_eq(lupi_model_inputs(NULL), 0);
	ck_assert_uint_eq(lupi_model_outputs(NULL), 0);
	ck_assert_uint_eq(lupi_model_layers(NULL), 0);
	ck_assert_uint_eq(lupi_model_layer_size(NULL, 0), 0);
	ck_assert_int_eq(lupi_model_layer_activation(NULL, 0), 0);
	ck_assert_uint_eq(lupi_model_num_params(NULL), 0);
	lupi_model_free(m);
}
END_TEST

/* ---- options ------------------------------------------------------------ */

START_TEST(option_defaults)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	const int64_t want_i[][2] = {
		{LUPI_MODEL_OPT_ACTIVATION, LUPI_ACT_RELU},
		{LUPI_MODEL_OPT_INIT, LUPI_INIT_HE},
		{LUPI_MODEL_OPT_OPTIMIZER, LUPI_OPTIM_ADAM},
		{LUPI_MODEL_OPT_SCHEDULE, LUPI_SCHEDULE_CONSTANT},
		{LUPI_MODEL_OPT_EPOCHS, 10}, {LUPI_MODEL_OPT_BATCH, 128},
		{LUPI_MODEL_OPT_SEED, 0}, {LUPI_MODEL_OPT_SHUFFLE, 1},
		{LUPI_MODEL_OPT_PATIENCE, 0}, {LUPI_MODEL_OPT_VIEW, LUPI_VIEW_REGULAR},
		{LUPI_MODEL_OPT_STANDARDIZE, 1}, {LUPI_MODEL_OPT_NESTEROV, 0},
		{LUPI_MODEL_OPT_STEP_SIZE, 10}, {LUPI_MODEL_OPT_RESTORE_BEST, 1},
		{LUPI_MODEL_OPT_PROGRESS_STEPS, 0},
	};
	for (size_t i = 0; i < sizeof want_i / sizeof want_i[0]; i++) {
		int64_t v = -99;
		ck_assert_int_eq(lupi_model_get_int(m, (int)want_i[i][0], &v),
				 LUPI_OK);
		ck_assert_int_eq(v, want_i[i][1]);
	}
	const double want_d[][2] = {
		{LUPI_MODEL_OPT_LR, 1e-3}, {LUPI_MODEL_OPT_MOMENTUM, 0},
		{LUPI_MODEL_OPT_BETA1, 0.9}, {LUPI_MODEL_OPT_BETA2, 0.999},
		{LUPI_MODEL_OPT_EPSILON, 1e-8}, {LUPI_MODEL_OPT_WEIGHT_DECAY, 0},
		{LUPI_MODEL_OPT_DROPOUT, 0}, {LUPI_MODEL_OPT_CLIP_NORM, 0},
		{LUPI_MODEL_OPT_GAMMA, 0.1}, {LUPI_MODEL_OPT_MIN_LR, 0},
	};
	for (size_t i = 0; i < sizeof want_d / sizeof want_d[0]; i++) {
		double v = -99;
		ck_assert_int_eq(lupi_model_get_double(m, (int)want_d[i][0],
						       &v), LUPI_OK);
		ck_assert_double_eq(v, want_d[i][1]);
	}
	lupi_model_free(m);
}
END_TEST

START_TEST(option_round_trip)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	int64_t v;
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, -5), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_int(m, LUPI_MODEL_OPT_SEED, &v), LUPI_OK);
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 1048576),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_get_int(m, LUPI_MODEL_OPT_BATCH, &v), LUPI_OK);
	ck_assert_int_eq(v, 1048576);
	double d;
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1e3), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_double(m, LUPI_MODEL_OPT_LR, &d), LUPI_OK);
	ck_assert_double_eq(d, 1e3);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_GAMMA, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_EPSILON, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_MOMENTUM, 0.0),
			 LUPI_OK);
	lupi_model_free(m);
}
END_TEST

START_TEST(option_ranges)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	const struct {
		int key;
		int64_t bad;
		const char *name;
	} ints[] = {
		{LUPI_MODEL_OPT_ACTIVATION, 5, "ACTIVATION"},
		{LUPI_MODEL_OPT_ACTIVATION, -1, "ACTIVATION"},
		{LUPI_MODEL_OPT_INIT, 3, "INIT"},
		{LUPI_MODEL_OPT_OPTIMIZER, 3, "OPTIMIZER"},
		{LUPI_MODEL_OPT_SCHEDULE, 3, "SCHEDULE"},
		{LUPI_MODEL_OPT_EPOCHS, 0, "EPOCHS"},
		{LUPI_MODEL_OPT_EPOCHS, 1000001, "EPOCHS"},
		{LUPI_MODEL_OPT_BATCH, 0, "BATCH"},
		{LUPI_MODEL_OPT_BATCH, 1048577, "BATCH"},
		{LUPI_MODEL_OPT_SHUFFLE, 2, "SHUFFLE"},
		{LUPI_MODEL_OPT_PATIENCE, -1, "PATIENCE"},
		{LUPI_MODEL_OPT_VIEW, 3, "VIEW"},
		{LUPI_MODEL_OPT_STANDARDIZE, -1, "STANDARDIZE"},
		{LUPI_MODEL_OPT_NESTEROV, 2, "NESTEROV"},
		{LUPI_MODEL_OPT_STEP_SIZE, 0, "STEP_SIZE"},
		{LUPI_MODEL_OPT_RESTORE_BEST, 2, "RESTORE_BEST"},
		{LUPI_MODEL_OPT_PROGRESS_STEPS, -1, "PROGRESS_STEPS"},
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		ck_assert_int_eq(lupi_model_set_int(m, ints[i].key,
						    ints[i].bad), LUPI_ERANGE);
		has_msg(ints[i].name);
	}
	const struct {
		int key;
		double bad;
		const char *name;
	} dbls[] = {
		{LUPI_MODEL_OPT_LR, 0.0, "LR"}, {LUPI_MODEL_OPT_LR, 1001.0, "LR"},
		{LUPI_MODEL_OPT_LR, NAN, "LR"},
		{LUPI_MODEL_OPT_MOMENTUM, 1.0, "MOMENTUM"},
		{LUPI_MODEL_OPT_MOMENTUM, -0.1, "MOMENTUM"},
		{LUPI_MODEL_OPT_BETA1, 1.0, "BETA1"}, {LUPI_MODEL_OPT_BETA2, 1.0, "BETA2"},
		{LUPI_MODEL_OPT_EPSILON, 0.0, "EPSILON"},
		{LUPI_MODEL_OPT_EPSILON, 1.5, "EPSILON"},
		{LUPI_MODEL_OPT_WEIGHT_DECAY, -1e-9, "WEIGHT_DECAY"},
		{LUPI_MODEL_OPT_WEIGHT_DECAY, INFINITY, "WEIGHT_DECAY"},
		{LUPI_MODEL_OPT_DROPOUT, 1.0, "DROPOUT"},
		{LUPI_MODEL_OPT_CLIP_NORM, -1.0, "CLIP_NORM"},
		{LUPI_MODEL_OPT_GAMMA, 0.0, "GAMMA"}, {LUPI_MODEL_OPT_GAMMA, 1.1, "GAMMA"},
		{LUPI_MODEL_OPT_MIN_LR, -1.0, "MIN_LR"},
		{LUPI_MODEL_OPT_MIN_LR, NAN, "MIN_LR"},
	};
	for (size_t i = 0; i < sizeof dbls / sizeof dbls[0]; i++) {
		ck_assert_int_eq(lupi_model_set_double(m, dbls[i].key,
						       dbls[i].bad),
				 LUPI_ERANGE);
		has_msg(dbls[i].name);
	}
	double d;
	ck_assert_int_eq(lupi_model_get_double(m, LUPI_MODEL_OPT_LR, &d), LUPI_OK);
	ck_assert_double_eq(d, 1e-3); /* unchanged by the failures */

	int64_t v;
	ck_assert_int_eq(lupi_model_set_int(m, 0, 1), LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_LR, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_get_int(m, 999, &v), LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_EPOCHS, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_get_double(m, 111, &d),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_set_int(NULL, LUPI_MODEL_OPT_EPOCHS, 1),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_int(m, LUPI_MODEL_OPT_EPOCHS, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_double(NULL, LUPI_MODEL_OPT_LR, 1),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_double(NULL, LUPI_MODEL_OPT_LR, &d),
			 LUPI_EINVAL);
	lupi_model_free(m);
}
END_TEST

START_TEST(shape_options_after_training)
{
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	lupi_dataset *ds = blobs(30, 3, 0, 1);
	size_t idx[] = {0, 1, 2, 3};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 4, NULL), LUPI_OK);
	const int shaping[] = {LUPI_MODEL_OPT_ACTIVATION, LUPI_MODEL_OPT_INIT,
			       LUPI_MODEL_OPT_OPTIMIZER, LUPI_MODEL_OPT_VIEW,
			       LUPI_MODEL_OPT_STANDARDIZE};
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(lupi_model_set_int(m, shaping[i], 0),
				 LUPI_ESTATE);
		has_msg("after training started");
	}
	ck_assert_int_eq(lupi_model_set_layer_activation(m, 0, LUPI_ACT_TANH),
			 LUPI_ESTATE);
	/* other options still change */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.5), LUPI_OK);
	/* init starts over */
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(layer_activation)
{
	size_t h[] = {4, 4};
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, h, 2, 1);
	ck_assert_int_eq(lupi_model_set_layer_activation(m, 1, LUPI_ACT_GELU),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_layer_activation(m, 0), LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_layer_activation(m, 1), LUPI_ACT_GELU);
	ck_assert_int_eq(lupi_model_set_layer_activation(m, 2, LUPI_ACT_TANH),
			 LUPI_ERANGE);
	has_msg("not a hidden layer");
	ck_assert_int_eq(lupi_model_set_layer_activation(m, 0, 9),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_set_layer_activation(NULL, 0, 1),
			 LUPI_EINVAL);
	/* the ACTIVATION option sets every hidden layer */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_SIGMOID), LUPI_OK);
	ck_assert_int_eq(lupi_model_layer_activation(m, 0), LUPI_ACT_SIGMOID);
	ck_assert_int_eq(lupi_model_layer_activation(m, 1), LUPI_ACT_SIGMOID);
	ck_assert_int_eq(lupi_model_layer_activation(m, 2), LUPI_ACT_IDENTITY);
	lupi_model_free(m);
}
END_TEST

/* ---- initialisation and parameters -------------------------------------- */

START_TEST(init_from_seed)
{
	size_t h[] = {400};
	lupi_model *a = model(LUPI_TASK_REGRESSION, 200, h, 1, 1);
	lupi_model *b = model(LUPI_TASK_REGRESSION, 200, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_int(a, LUPI_MODEL_OPT_SEED, 42), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(b, LUPI_MODEL_OPT_SEED, 42), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(b), LUPI_OK);
	size_t np = lupi_model_num_params(a);
	float *pa = params_of(a), *pb = params_of(b);
	ck_assert_mem_eq(pa, pb, np * sizeof *pa);
	/* He: weights of layer 0 have variance 2 / 200; biases are 0 */
	double ss = 0;
	for (size_t i = 0; i < 200 * 400; i++)
		ss += (double)pa[i] * pa[i];
	ck_assert_double_eq_tol(ss / (200 * 400), 2.0 / 200, 2.0 / 200 * 0.03);
	for (size_t i = 200 * 400; i < 200 * 400 + 400; i++)
		ck_assert_float_eq(pa[i], 0.0f);
	/* another seed, other weights */
	ck_assert_int_eq(lupi_model_set_int(b, LUPI_MODEL_OPT_SEED, 43), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(b), LUPI_OK);
	free(pb);
	pb = params_of(b);
	ck_assert(memcmp(pa, pb, np * sizeof *pa) != 0);
	/* Xavier: uniform within sqrt(6 / (in + out)), variance a^2 / 3 */
	ck_assert_int_eq(lupi_model_set_int(b, LUPI_MODEL_OPT_INIT,
					    LUPI_INIT_XAVIER), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(b), LUPI_OK);
	free(pb);
	pb = params_of(b);
	double bound = sqrt(6.0 / 600), mx = 0;
	ss = 0;
	for (size_t i = 0; i < 200 * 400; i++) {
		mx = fmax(mx, fabs(pb[i]));
		ss += (double)pb[i] * pb[i];
	}
	ck_assert(mx <= bound && mx > 0.99 * bound);
	ck_assert_double_eq_tol(ss / (200 * 400), bound * bound / 3,
				bound * bound / 3 * 0.03);
	ck_assert_int_eq(lupi_model_init(NULL), LUPI_EINVAL);
	free(pa);
	free(pb);
	lupi_model_free(a);
	lupi_model_free(b);
}
END_TEST

START_TEST(params_get_set)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	float p[3] = {1, 2, 3}, q[3];
	float x[2] = {1, 1}, out;
	/* never initialised: no predictions */
	ck_assert_int_eq(lupi_model_predict(m, x, 1, LUPI_PREDICT_OUTPUT,
					    &out), LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_set_params(m, p, 2), LUPI_ESHAPE);
	has_msg("2 parameters given, the model has 3");
	ck_assert_int_eq(lupi_model_get_params(m, q, 4), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_model_set_params(m, NULL, 3), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_params(NULL, q, 3), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_params(m, p, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(m, q, 3), LUPI_OK);
	ck_assert_mem_eq(p, q, sizeof p);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, LUPI_PREDICT_OUTPUT,
					    &out), LUPI_OK);
	ck_assert_float_eq(out, 1 + 2 + 3);
	lupi_model_free(m);
}
END_TEST

/* ---- standardisation ---------------------------------------------------- */

START_TEST(standardizer_get_set)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	float mu[2], sd[2];
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_ESTATE);
	float bad_sd[2] = {1, 0}, bad_mu[2] = {NAN, 0}, neg[2] = {1, -2};
	float good_mu[2] = {1, -2}, good_sd[2] = {3, 0.1f};
	ck_assert_int_eq(lupi_model_set_standardizer(m, good_mu, bad_sd),
			 LUPI_ERANGE);
	has_msg("std of input 1");
	ck_assert_int_eq(lupi_model_set_standardizer(m, good_mu, neg),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_set_standardizer(m, bad_mu, good_sd),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_set_standardizer(m, NULL, good_sd),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_standardizer(m, good_mu, good_sd),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_OK);
	ck_assert_mem_eq(mu, good_mu, sizeof mu);
	ck_assert_float_eq_tol(sd[0], 3.0f, 1e-6);
	ck_assert_float_eq_tol(sd[1], 0.1f, 1e-7);
	/* predict applies it to raw features: w = (1, 1), b = 0 */
	float p[3] = {1, 1, 0}, x[2] = {4, -1}, out;
	ck_assert_int_eq(lupi_model_set_params(m, p, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, LUPI_PREDICT_OUTPUT,
					    &out), LUPI_OK);
	ck_assert_float_eq_tol(out, (4 - 1) / 3.0 + (-1 + 2) / 0.1, 1e-5);
	/* init clears it */
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_ESTATE);
	lupi_model_free(m);
}
END_TEST

START_TEST(standardizer_fitted_by_first_step)
{
	/* column 0: 1, 2, 3, 4 (mean 2.5, population std sqrt(1.25));
	 * column 1 constant: std 1 */
	float x[8] = {1, 7, 2, 7, 3, 7, 4, 7};
	float t[4] = {0, 1, 0, 1};
	lupi_dataset *ds = dataset(4, 2, x);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, t), LUPI_OK);
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	size_t idx[] = {0};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 1, NULL), LUPI_OK);
	float mu[2], sd[2];
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_OK);
	ck_assert_float_eq_tol(mu[0], 2.5f, 1e-6);
	ck_assert_float_eq_tol(sd[0], sqrt(1.25), 1e-6);
	ck_assert_float_eq(mu[1], 7.0f);
	ck_assert_float_eq(sd[1], 1.0f);
	/* the gathered input row was standardised */
	ck_assert_float_eq_tol(m->acts[0][0], (1 - 2.5) / sqrt(1.25), 1e-6);
	ck_assert_float_eq_tol(m->acts[0][1], 0.0f, 1e-7);
	lupi_model_free(m);

	/* STANDARDIZE 0: nothing fitted */
	m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 1, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_ESTATE);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(standardizer_of_both_views_skips_missing)
{
	/* X = (1), (3), (100); X* = (10), (20), absent */
	float x[3] = {1, 3, 100}, xp[3] = {10, 20, 0};
	uint8_t mask[3] = {1, 1, 0};
	int32_t y[3] = {0, 1, 1};
	lupi_dataset *ds = dataset(3, 1, x);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 1), LUPI_OK);
	lupi_model *m = model(LUPI_TASK_BINARY, 2, NULL, 0, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_BOTH),
			 LUPI_OK);
	size_t idx[] = {0, 1};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 2, NULL), LUPI_OK);
	float mu[2], sd[2];
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_OK);
	ck_assert_float_eq_tol(mu[0], 2.0f, 1e-6);
	ck_assert_float_eq_tol(mu[1], 15.0f, 1e-6);
	ck_assert_float_eq_tol(sd[0], 1.0f, 1e-6);
	ck_assert_float_eq_tol(sd[1], 5.0f, 1e-5);
	/* a batch with the sample without X* */
	size_t bad[] = {2};
	ck_assert_int_eq(lupi_model_step(m, ds, bad, 1, NULL), LUPI_ESTATE);
	has_msg("sample 2 has no privileged features");
	/* evaluation skips it: 2 samples counted */
	uint64_t c[4];
	ck_assert_int_eq(lupi_model_confusion(m, ds, c), LUPI_OK);
	ck_assert_uint_eq(c[0] + c[1] + c[2] + c[3], 2);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- prediction --------------------------------------------------------- */

START_TEST(predict_outputs)
{
	/* softmax regression: W = [[1, 0], [0, 1], [0, 0]], b = (0, 0, 1) */
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3);
	float p[9] = {1, 0, 0, 1, 0, 0, 0, 0, 1};
	ck_assert_int_eq(lupi_model_set_params(m, p, 9), LUPI_OK);
	float x[4] = {2, 0, 0, 3}, out[6];
	ck_assert_int_eq(lupi_model_predict(m, x, 2, LUPI_PREDICT_LOGITS,
					    out), LUPI_OK);
	ck_assert_float_eq(out[0], 2);
	ck_assert_float_eq(out[2], 1);
	ck_assert_float_eq(out[4], 3);
	ck_assert_int_eq(lupi_model_predict(m, x, 2, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	double z = exp(2) + 1 + exp(1);
	ck_assert_float_eq_tol(out[0], exp(2) / z, 1e-6);
	ck_assert_float_eq_tol(out[1], 1 / z, 1e-6);
	ck_assert_float_eq_tol(out[2], exp(1) / z, 1e-6);
	ck_assert_float_eq_tol(out[3] + out[4] + out[5], 1.0, 1e-6);
	int32_t cls[2];
	ck_assert_int_eq(lupi_model_predict_class(m, x, 2, cls), LUPI_OK);
	ck_assert_int_eq(cls[0], 0);
	ck_assert_int_eq(cls[1], 1);
	/* argument errors */
	ck_assert_int_eq(lupi_model_predict(m, x, 0, 0, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 7, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, NULL, 1, 0, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 0, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(NULL, x, 1, 0, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict_class(m, x, 1, NULL), LUPI_EINVAL);
	/* NaN input: NaN out, no crash */
	float xn[2] = {NAN, 0};
	ck_assert_int_eq(lupi_model_predict(m, xn, 1, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert(isnan(out[0]));
	lupi_model_free(m);
}
END_TEST

START_TEST(predict_binary_and_regression)
{
	lupi_model *b = model(LUPI_TASK_BINARY, 1, NULL, 0, 1);
	float p[2] = {1, 0};
	ck_assert_int_eq(lupi_model_set_params(b, p, 2), LUPI_OK);
	float x[3] = {-200, 0, 3}, out[3];
	int32_t cls[3];
	ck_assert_int_eq(lupi_model_predict(b, x, 3, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_float_eq_tol(out[0], 0.0, 1e-30);
	ck_assert_float_eq(out[1], 0.5f);
	ck_assert_float_eq_tol(out[2], 1 / (1 + exp(-3)), 1e-7);
	ck_assert_int_eq(lupi_model_predict_class(b, x, 3, cls), LUPI_OK);
	ck_assert_int_eq(cls[0], 0);
	ck_assert_int_eq(cls[1], 0);
	ck_assert_int_eq(cls[2], 1);
	lupi_model *r = model(LUPI_TASK_REGRESSION, 1, NULL, 0, 1);
	float q[2] = {-2, 1};
	ck_assert_int_eq(lupi_model_set_params(r, q, 2), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(r, x, 3, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_float_eq(out[2], -5);
	ck_assert_int_eq(lupi_model_predict_class(r, x, 3, cls), LUPI_ENOTSUP);
	lupi_model_free(b);
	lupi_model_free(r);
}
END_TEST

/* Chunked prediction of many rows equals row-by-row prediction. */
START_TEST(predict_in_chunks)
{
	size_t h[] = {300, 20};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 3, h, 2, 4);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	float mu[3] = {1, 2, 3}, sd[3] = {2, 2, 2};
	ck_assert_int_eq(lupi_model_set_standardizer(m, mu, sd), LUPI_OK);
	size_t n = 700;
	float *x = malloc(n * 3 * sizeof *x), *all = malloc(n * 4 * sizeof *x);
	lupi__rng r;
	lupi__rng_seed(&r, 9);
	for (size_t i = 0; i < n * 3; i++)
		x[i] = (float)lupi__rng_normal(&r);
	ck_assert_int_eq(lupi_model_predict(m, x, n, LUPI_PREDICT_LOGITS, all),
			 LUPI_OK);
	for (size_t i = 0; i < n; i += 97) {
		float one[4];
		ck_assert_int_eq(lupi_model_predict(m, x + i * 3, 1,
						    LUPI_PREDICT_LOGITS, one),
				 LUPI_OK);
		for (size_t j = 0; j < 4; j++)
			ck_assert_float_eq_tol(one[j], all[i * 4 + j], 1e-5);
	}
	int32_t *cls = malloc(n * sizeof *cls);
	ck_assert_int_eq(lupi_model_predict_class(m, x, n, cls), LUPI_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(cls[i],
				 (int32_t)lupi__argmax(all + i * 4, 4));
	free(cls);
	free(x);
	free(all);
	lupi_model_free(m);
}
END_TEST

/* ---- evaluation --------------------------------------------------------- */

START_TEST(evaluate_classification)
{
	/* logits = x (identity weights, 2 classes) */
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 2);
	float p[6] = {1, 0, 0, 1, 0, 0};
	ck_assert_int_eq(lupi_model_set_params(m, p, 6), LUPI_OK);
	float x[8] = {1, 0, 0, 2, 3, 0, 0, 0};
	int32_t y[4] = {0, 1, 1, 0};
	lupi_dataset *ds = dataset(4, 2, x);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 0), LUPI_OK);
	double v;
	/* predictions 0, 1, 0, 0 (tie -> first): 3 of 4 right */
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 0.75, 1e-12);
	double ll = (log1p(exp(-1.0)) + log1p(exp(-2.0)) +
		     log1p(exp(3.0)) + log(2.0)) / 4;
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_LOGLOSS, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, ll, 1e-9);
	uint64_t c[4];
	ck_assert_int_eq(lupi_model_confusion(m, ds, c), LUPI_OK);
	ck_assert_uint_eq(c[0], 2); /* true 0, predicted 0 */
	ck_assert_uint_eq(c[1], 0);
	ck_assert_uint_eq(c[2], 1); /* true 1, predicted 0 */
	ck_assert_uint_eq(c[3], 1);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_MSE, &v),
			 LUPI_ENOTSUP);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_MAE, &v),
			 LUPI_ENOTSUP);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, 42, &v), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, 0, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_confusion(m, NULL, c), LUPI_EINVAL);
	/* weights are not used */
	float w[4] = {0, 0, 0, 1};
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 0.75, 1e-12);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(evaluate_binary_and_regression)
{
	lupi_model *b = model(LUPI_TASK_BINARY, 1, NULL, 0, 1);
	float p[2] = {1, 0};
	ck_assert_int_eq(lupi_model_set_params(b, p, 2), LUPI_OK);
	float x[3] = {-1, 2, 0.5f};
	int32_t y[3] = {0, 0, 1};
	lupi_dataset *ds = dataset(3, 1, x);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 1), LUPI_OK);
	double v;
	ck_assert_int_eq(lupi_model_evaluate(b, ds, LUPI_METRIC_ACCURACY, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 2.0 / 3, 1e-12);
	ck_assert_int_eq(lupi_model_evaluate(b, ds, LUPI_METRIC_LOGLOSS, &v),
			 LUPI_OK);
	double ll = (log1p(exp(-1.0)) + log1p(exp(2.0)) +
		     log1p(exp(-0.5))) / 3;
	ck_assert_double_eq_tol(v, ll, 1e-9);
	uint64_t c[4];
	ck_assert_int_eq(lupi_model_confusion(b, ds, c), LUPI_OK);
	ck_assert_uint_eq(c[0], 1);
	ck_assert_uint_eq(c[1], 1);
	ck_assert_uint_eq(c[2], 0);
	ck_assert_uint_eq(c[3], 1);
	lupi_dataset_free(ds);

	/* regression with 2 outputs: f = (x, -x) */
	lupi_model *r = model(LUPI_TASK_REGRESSION, 1, NULL, 0, 2);
	float q[4] = {1, -1, 0, 0};
	ck_assert_int_eq(lupi_model_set_params(r, q, 4), LUPI_OK);
	float t[6] = {0, 0, 2, -1, 0.5f, 0.5f};
	ds = dataset(3, 1, x);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, t), LUPI_OK);
	/* errors: (-1, 1), (0, -1), (0, -1) */
	ck_assert_int_eq(lupi_model_evaluate(r, ds, LUPI_METRIC_MSE, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 4.0 / 6, 1e-12);
	ck_assert_int_eq(lupi_model_evaluate(r, ds, LUPI_METRIC_MAE, &v),
			 LUPI_OK);
	ck_assert_double_eq_tol(v, 4.0 / 6, 1e-12);
	ck_assert_int_eq(lupi_model_evaluate(r, ds, LUPI_METRIC_ACCURACY, &v),
			 LUPI_ENOTSUP);
	ck_assert_int_eq(lupi_model_confusion(r, ds, c), LUPI_ENOTSUP);
	/* wrong task, width, state */
	ck_assert_int_eq(lupi_model_evaluate(b, ds, LUPI_METRIC_ACCURACY, &v),
			 LUPI_ESTATE);
	has_msg("no targets of the model's task");
	lupi_model *w = model(LUPI_TASK_REGRESSION, 3, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_init(w), LUPI_OK);
	ck_assert_int_eq(lupi_model_evaluate(w, ds, LUPI_METRIC_MSE, &v),
			 LUPI_ESHAPE);
	has_msg("1 features, model has 3 inputs");
	lupi_model *u = model(LUPI_TASK_REGRESSION, 1, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_evaluate(u, ds, LUPI_METRIC_MSE, &v),
			 LUPI_ESTATE);
	lupi_model_free(u);
	lupi_model_free(w);
	lupi_model_free(b);
	lupi_model_free(r);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- steps -------------------------------------------------------------- */

START_TEST(step_errors)
{
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3);
	lupi_dataset *ds = blobs(30, 3, 0, 2);
	size_t idx[] = {0, 1, 30};
	double loss;
	ck_assert_int_eq(lupi_model_step(NULL, ds, idx, 2, &loss), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_step(m, NULL, idx, 2, &loss), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_step(m, ds, NULL, 2, &loss), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 0, &loss), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 3, &loss), LUPI_ERANGE);
	has_msg("index 2 is 30");
	/* 4 classes in the dataset, 3 outputs */
	lupi_dataset *d4 = blobs(30, 4, 0, 2);
	ck_assert_int_eq(lupi_model_step(m, d4, idx, 2, &loss), LUPI_ESHAPE);
	has_msg("4 classes, model has 3 outputs");
	/* 3 features, 2 inputs */
	float x[9] = {0};
	lupi_dataset *d3 = dataset(3, 3, x);
	int32_t y[3] = {0, 1, 2};
	ck_assert_int_eq(lupi_dataset_set_labels(d3, 3, y, 0), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(m, d3, idx, 2, &loss), LUPI_ESHAPE);
	/* no labels */
	lupi_dataset *dn = dataset(3, 2, x);
	ck_assert_int_eq(lupi_model_step(m, dn, idx, 2, &loss), LUPI_ESTATE);
	/* binary labels, classification model */
	lupi_dataset *db = blobs(30, 2, 1, 2);
	lupi_model *m2 = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_step(m2, db, idx, 2, &loss), LUPI_ESTATE);
	/* privileged view without X* */
	ck_assert_int_eq(lupi_model_set_int(m2, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(m2, db, idx, 2, &loss), LUPI_ESHAPE);
	has_msg("privileged");
	lupi_model_free(m);
	lupi_model_free(m2);
	lupi_dataset_free(ds);
	lupi_dataset_free(d4);
	lupi_dataset_free(d3);
	lupi_dataset_free(dn);
	lupi_dataset_free(db);
}
END_TEST

/* The loss a step reports is the weighted mean loss before its update. */
START_TEST(step_reports_the_loss_before_the_update)
{
	size_t h[] = {5};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	lupi_dataset *ds = blobs(12, 3, 0, 3);
	float w[12] = {1, 2, 0.5f, 1, 1, 3, 0, 1, 1, 2, 1, 1};
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	float mu[2] = {10, -5}, sd[2] = {4, 4};
	ck_assert_int_eq(lupi_model_set_standardizer(m, mu, sd), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_standardizer(m, mu, sd), LUPI_OK);
	/* reference: predicted probabilities of the true classes */
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const int32_t *y = lupi_dataset_labels(ds);
	float prob[36];
	ck_assert_int_eq(lupi_model_predict(m, x, 12, LUPI_PREDICT_OUTPUT,
					    prob), LUPI_OK);
	double num = 0, den = 0;
	for (size_t i = 0; i < 12; i++) {
		num -= w[i] * log(prob[i * 3 + y[i]]);
		den += w[i];
	}
	size_t idx[12];
	for (size_t i = 0; i < 12; i++)
		idx[i] = i;
	double loss = -1;
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 12, &loss), LUPI_OK);
	ck_assert_double_eq_tol(loss, num / den, 1e-5);
	/* and it went down after some steps */
	double later = 0;
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(lupi_model_step(m, ds, idx, 12, &later),
				 LUPI_OK);
	ck_assert(later < loss);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

static size_t allocations;

static int count_allocs(size_t size, void *user)
{
	(void)size;
	(void)user;
	allocations++;
	return 1;
}

START_TEST(no_allocation_after_first_step)
{
	size_t h[] = {32, 16};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 2, 3);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_DROPOUT, 0.2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_CLIP_NORM, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_GELU), LUPI_OK);
	lupi_dataset *ds = blobs(100, 3, 0, 4);
	size_t idx[64];
	for (size_t i = 0; i < 64; i++)
		idx[i] = (i * 7) % 100;
	double loss;
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 64, &loss), LUPI_OK);
	allocations = 0;
	lupi__set_alloc_gate(count_allocs, NULL);
	int rc = LUPI_OK;
	for (int s = 2; s <= 10 && rc == LUPI_OK; s++)
		rc = lupi_model_step(m, ds, idx + (s % 3), 64 - (s % 3), &loss);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_uint_eq(allocations, 0);
	/* a larger batch grows the arena once */
	size_t big[80];
	for (size_t i = 0; i < 80; i++)
		big[i] = i;
	allocations = 0;
	lupi__set_alloc_gate(count_allocs, NULL);
	rc = lupi_model_step(m, ds, big, 80, &loss);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_uint_eq(allocations, 1);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(nonfinite_step_leaves_params)
{
	/* a NaN weight: the loss is NaN */
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	lupi_dataset *ds = linear(20, 1, 5);
	size_t idx[] = {0, 1, 2, 3};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 4, NULL), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *p = params_of(m);
	float *mo = malloc(np * sizeof *mo);
	memcpy(mo, m->opt_m, np * sizeof *mo);
	p[0] = NAN;
	ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
	double loss = 7;
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 4, &loss),
			 LUPI_ENONFINITE);
	has_msg("loss is not finite");
	ck_assert_double_eq(loss, 7);
	float *q = params_of(m);
	ck_assert_mem_eq(p, q, np * sizeof *p);
	ck_assert_mem_eq(mo, m->opt_m, np * sizeof *mo);
	ck_assert_uint_eq(m->t, 1);
	free(p);
	free(q);
	free(mo);
	p = NULL;
	lupi_model_free(m);

	/* a huge learning rate: the step that fails leaves the weights */
	m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1000), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	int rc = LUPI_OK;
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	for (int s = 0; s < 100 && rc == LUPI_OK; s++) {
		free(p);
		p = params_of(m);
		rc = lupi_model_step(m, ds, idx, 4, NULL);
	}
	ck_assert_int_eq(rc, LUPI_ENONFINITE);
	has_msg("is not finite");
	q = params_of(m);
	ck_assert_mem_eq(p, q, np * sizeof *p);
	free(p);
	free(q);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- fit ---------------------------------------------------------------- */

START_TEST(fit_blobs_classification)
{
	size_t h[] = {16};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 40), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), LUPI_OK);
	lupi_dataset *train = blobs(300, 3, 0, 10);
	lupi_dataset *test = blobs(300, 3, 0, 11);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY,
					     &acc), LUPI_OK);
	ck_assert_double_gt(acc, 0.95);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(fit_blobs_binary_sgd)
{
	lupi_model *m = model(LUPI_TASK_BINARY, 2, NULL, 0, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_MOMENTUM, 0.9),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_NESTEROV, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 20), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16), LUPI_OK);
	lupi_dataset *train = blobs(200, 2, 1, 12);
	lupi_dataset *test = blobs(200, 2, 1, 13);
	ck_assert_int_eq(lupi_model_fit(m, train, test, NULL, NULL), LUPI_OK);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY,
					     &acc), LUPI_OK);
	ck_assert_double_gt(acc, 0.95);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

START_TEST(fit_linear_regression)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 60), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SCHEDULE,
					    LUPI_SCHEDULE_COSINE), LUPI_OK);
	lupi_dataset *train = linear(400, 2, 20);
	lupi_dataset *test = linear(100, 2, 21);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	double mse;
	ck_assert_int_eq(lupi_model_evaluate(m, test, LUPI_METRIC_MSE, &mse),
			 LUPI_OK);
	ck_assert_double_lt(mse, 1e-3);
	float x[2] = {1, 1}, out[2];
	ck_assert_int_eq(lupi_model_predict(m, x, 1, LUPI_PREDICT_OUTPUT, out),
			 LUPI_OK);
	ck_assert_float_eq_tol(out[0], -0.5f, 0.05f);
	ck_assert_float_eq_tol(out[1], 2.0f, 0.05f);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

struct record {
	size_t calls, ends;
	double metric[200];
	unsigned epoch[200];
	size_t step[200];
	int stop_at; /* stop at this call (1-based), 0 never */
	lupi_progress last;
};

static int recorder(void *user, const lupi_progress *p)
{
	struct record *r = user;
	if (r->calls < 200) {
		r->metric[r->calls] = p->valid_metric;
		r->epoch[r->calls] = p->epoch;
		r->step[r->calls] = p->step;
	}
	r->calls++;
	r->ends += p->epoch_end;
	r->last = *p;
	return r->stop_at && r->calls == (size_t)r->stop_at;
}

START_TEST(early_stopping_restores_best)
{
	/* noisy labels: validation accuracy peaks early */
	size_t h[] = {64};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 200), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_PATIENCE, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 8), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	lupi_dataset *train = blobs(60, 3, 0, 30);
	lupi_dataset *valid = blobs(60, 3, 0, 31);
	struct record r = {0};
	ck_assert_int_eq(lupi_model_fit(m, train, valid, recorder, &r),
			 LUPI_OK);
	ck_assert_uint_lt(r.ends, 200);
	ck_assert_uint_eq(r.calls, r.ends);
	/* best epoch: the first maximum; training stopped 3 epochs later */
	size_t best = 0;
	for (size_t i = 1; i < r.calls; i++)
		if (r.metric[i] > r.metric[best])
			best = i;
	ck_assert_uint_eq(r.calls, best + 1 + 3);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, valid, LUPI_METRIC_ACCURACY,
					     &acc), LUPI_OK);
	ck_assert_double_eq(acc, r.metric[best]);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(valid);
}
END_TEST

START_TEST(progress_and_stop)
{
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 5), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 10), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_PROGRESS_STEPS, 3),
			 LUPI_OK);
	lupi_dataset *train = blobs(95, 3, 0, 40);
	struct record r = {0};
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, recorder, &r),
			 LUPI_OK);
	/* 10 steps per epoch (last one of 5): calls at steps 3, 6, 9 and at
	 * the epoch end */
	ck_assert_uint_eq(r.calls, 5 * 4);
	ck_assert_uint_eq(r.ends, 5);
	ck_assert_uint_eq(r.step[0], 3);
	ck_assert_uint_eq(r.step[3], 10);
	ck_assert_uint_eq(r.epoch[4], 2);
	ck_assert_uint_eq(r.last.epochs, 5);
	ck_assert_uint_eq(r.last.steps_per_epoch, 10);
	ck_assert(isnan(r.last.valid_metric));
	ck_assert(r.last.loss > 0 && isfinite(r.last.loss));
	/* a non-zero return stops: fit returns LUPI_OK */
	struct record s = {0};
	s.stop_at = 6;
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, recorder, &s),
			 LUPI_OK);
	ck_assert_uint_eq(s.calls, 6);
	ck_assert_uint_eq(s.epoch[5], 2);
	ck_assert_int_eq(lupi_model_fit(NULL, train, NULL, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_fit(m, NULL, NULL, NULL, NULL),
			 LUPI_EINVAL);
	lupi_dataset *other = blobs(20, 4, 0, 41);
	ck_assert_int_eq(lupi_model_fit(m, train, other, NULL, NULL),
			 LUPI_ESHAPE);
	lupi_dataset_free(other);
	lupi_model_free(m);
	lupi_dataset_free(train);
}
END_TEST

static lupi_model *fit_once(uint64_t seed, const lupi_dataset *train)
{
	size_t h[] = {16, 8};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 2, 3);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_DROPOUT, 0.3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	return m;
}

START_TEST(fit_is_deterministic)
{
	lupi_dataset *train = blobs(100, 3, 0, 50);
	lupi_model *a = fit_once(7, train), *b = fit_once(7, train);
	lupi_model *c = fit_once(8, train);
	size_t np = lupi_model_num_params(a);
	float *pa = params_of(a), *pb = params_of(b), *pc = params_of(c);
	ck_assert_mem_eq(pa, pb, np * sizeof *pa);
	ck_assert(memcmp(pa, pc, np * sizeof *pa) != 0);
	free(pa);
	free(pb);
	free(pc);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_model_free(c);
	lupi_dataset_free(train);
}
END_TEST

START_TEST(fit_privileged_view_skips_missing)
{
	/* X* is a clean copy of the class, X is noise; 10 samples lack X* */
	size_t n = 60;
	float *x = calloc(n, sizeof *x), *xp = malloc(n * 2 * sizeof *xp);
	uint8_t *mask = malloc(n);
	int32_t *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		y[i] = (int32_t)(i % 2);
		xp[i * 2] = y[i] ? 3.0f : -3.0f;
		xp[i * 2 + 1] = (float)(i % 5);
		mask[i] = i % 6 != 0;
	}
	lupi_dataset *ds = dataset(n, 1, x);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xp, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 0), LUPI_OK);
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	struct record r = {0};
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 10), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, recorder, &r), LUPI_OK);
	ck_assert_uint_eq(r.last.steps_per_epoch, 5); /* 50 eligible */
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY,
					     &acc), LUPI_OK);
	ck_assert_double_eq(acc, 1.0);
	free(x);
	free(xp);
	free(mask);
	free(y);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- clone -------------------------------------------------------------- */

START_TEST(clone_is_deep)
{
	size_t h[] = {8};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_DROPOUT, 0.1),
			 LUPI_OK);
	lupi_dataset *ds = blobs(40, 3, 0, 60);
	size_t idx[] = {0, 1, 2, 3, 4, 5, 6, 7};
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 8, NULL), LUPI_OK);
	lupi_model *c;
	ck_assert_int_eq(lupi_model_clone(m, &c), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *pm = params_of(m), *pc = params_of(c);
	ck_assert_mem_eq(pm, pc, np * sizeof *pm);
	ck_assert_int_eq(lupi_model_layer_activation(c, 0), LUPI_ACT_TANH);
	float mu[2], sd[2], mu2[2], sd2[2];
	ck_assert_int_eq(lupi_model_get_standardizer(m, mu, sd), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_standardizer(c, mu2, sd2), LUPI_OK);
	ck_assert_mem_eq(mu, mu2, sizeof mu);
	/* the same next step on both (optimiser state and RNG copied) */
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 8, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(c, ds, idx, 8, NULL), LUPI_OK);
	free(pm);
	free(pc);
	pm = params_of(m);
	pc = params_of(c);
	ck_assert_mem_eq(pm, pc, np * sizeof *pm);
	/* independent afterwards */
	ck_assert_int_eq(lupi_model_step(c, ds, idx, 8, NULL), LUPI_OK);
	float *pm2 = params_of(m);
	ck_assert_mem_eq(pm, pm2, np * sizeof *pm);
	lupi_model *none = (lupi_model *)1;
	ck_assert_int_eq(lupi_model_clone(NULL, &none), LUPI_EINVAL);
	ck_assert_ptr_null(none);
	ck_assert_int_eq(lupi_model_clone(m, NULL), LUPI_EINVAL);
	free(pm);
	free(pc);
	free(pm2);
	lupi_model_free(c);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST


/* ---- threads and allocation failures ------------------------------------ */

struct pred_job {
	const lupi_model *m;
	const float *x;
	size_t n;
	float *out;
	int rc;
};

static void *pred_thread(void *arg)
{
	struct pred_job *j = arg;
	for (int rep = 0; rep < 20 && j->rc == LUPI_OK; rep++)
		j->rc = lupi_model_predict(j->m, j->x, j->n,
					   LUPI_PREDICT_OUTPUT, j->out);
	return NULL;
}

/* Several threads predicting with one const model get the serial answer. */
START_TEST(predict_is_thread_safe)
{
	size_t h[] = {64, 32};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 5, h, 2, 4);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	float mu[5] = {0}, sd[5] = {1, 2, 3, 4, 5};
	ck_assert_int_eq(lupi_model_set_standardizer(m, mu, sd), LUPI_OK);
	size_t n = 600;
	float *x = malloc(n * 5 * sizeof *x);
	lupi__rng r;
	lupi__rng_seed(&r, 70);
	for (size_t i = 0; i < n * 5; i++)
		x[i] = (float)lupi__rng_normal(&r);
	float *want = malloc(n * 4 * sizeof *want);
	ck_assert_int_eq(lupi_model_predict(m, x, n, LUPI_PREDICT_OUTPUT,
					    want), LUPI_OK);
	enum { T = 4 };
	pthread_t th[T];
	struct pred_job jobs[T];
	for (int t = 0; t < T; t++) {
		/* thread t predicts rows t .. n-1 (different sizes) */
		jobs[t] = (struct pred_job){m, x + t * 5, n - (size_t)t,
					    malloc(n * 4 * sizeof(float)),
					    LUPI_OK};
		ck_assert_int_eq(pthread_create(&th[t], NULL, pred_thread,
						&jobs[t]), 0);
	}
	for (int t = 0; t < T; t++) {
		pthread_join(th[t], NULL);
		ck_assert_int_eq(jobs[t].rc, LUPI_OK);
		for (size_t i = 0; i < (n - (size_t)t) * 4; i++)
			ck_assert_float_eq_tol(jobs[t].out[i],
					       want[(size_t)t * 4 + i], 1e-6);
		free(jobs[t].out);
	}
	free(want);
	free(x);
	lupi_model_free(m);
}
END_TEST

static long budget;

static int fail_after(size_t size, void *user)
{
	(void)size;
	(void)user;
	return budget-- > 0;
}

/* The k-th allocation fails, for every k: an error code, never a crash
 * or a leak (valgrind runs this too), and success once there is room. */
START_TEST(allocation_failures_are_clean)
{
	lupi_dataset *train = blobs(40, 3, 0, 80);
	lupi_dataset *valid = blobs(20, 3, 0, 81);
	int done = 0;
	for (long k = 0; k < 200 && !done; k++) {
		size_t h[] = {8};
		lupi_model *m = NULL, *c = NULL;
		budget = k;
		lupi__set_alloc_gate(fail_after, NULL);
		int rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3,
					   &m);
		if (rc == LUPI_OK)
			rc = lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2);
		if (rc == LUPI_OK)
			rc = lupi_model_fit(m, train, valid, NULL, NULL);
		if (rc == LUPI_OK)
			rc = lupi_model_clone(m, &c);
		float out[600];
		const float *x = lupi_dataset_features(train,
						       LUPI_VIEW_REGULAR);
		if (rc == LUPI_OK)
			rc = lupi_model_predict(m, x, 40, LUPI_PREDICT_OUTPUT,
						out);
		double acc;
		if (rc == LUPI_OK)
			rc = lupi_model_evaluate(m, valid,
						 LUPI_METRIC_ACCURACY, &acc);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
		done = rc == LUPI_OK;
		lupi_model_free(m);
		lupi_model_free(c);
	}
	ck_assert(done);
	lupi_dataset_free(train);
	lupi_dataset_free(valid);
}
END_TEST

/* Each initialiser draws from its documented distribution: first layer of
 * a 400-300-10 network (120,000 weights), moments against closed forms
 * within about 5 standard errors. */
START_TEST(initialisers_have_their_distributions)
{
	const size_t in = 400, out = 300, hidden[1] = {300};
	const struct {
		int init;
		double var, max_abs, bias_var;
	} cases[] = {
		/* He: N(0, 2/in). */
		{LUPI_INIT_HE, 2.0 / 400, INFINITY, 0.0},
		/* Xavier: U(+-a), a^2 = 6/(in+out), variance a^2/3. */
		{LUPI_INIT_XAVIER, 2.0 / 700, sqrt(6.0 / 700), 0.0},
		/* Uniform: U(+-1/sqrt(in)) for weights and biases. */
		{LUPI_INIT_UNIFORM, 1.0 / 1200, 1.0 / 20, 1.0 / 1200},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		lupi_model *m = model(LUPI_TASK_CLASSIFICATION, in, hidden, 1,
				      10);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_INIT,
						    cases[c].init), LUPI_OK);
		ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
		size_t np = lupi_model_num_params(m);
		float *p = malloc(np * sizeof *p);
		ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
		size_t nw = in * out;
		double sum = 0, sq = 0, bsq = 0, mx = 0;
		for (size_t i = 0; i < nw; i++) {
			sum += p[i];
			sq += (double)p[i] * p[i];
			mx = fabs(p[i]) > mx ? fabs(p[i]) : mx;
		}
		for (size_t i = 0; i < out; i++)
			bsq += (double)p[nw + i] * p[nw + i];
		double var = cases[c].var;
		ck_assert_double_eq_tol(sum / nw, 0.0, 5 * sqrt(var / nw));
		ck_assert_double_eq_tol(sq / nw, var, 5 * var * sqrt(2.0 / nw));
		ck_assert(mx <= cases[c].max_abs);
		if (cases[c].bias_var == 0.0)
			ck_assert_double_eq(bsq, 0.0);
		else
			ck_assert_double_eq_tol(bsq / out, cases[c].bias_var,
						5 * cases[c].bias_var *
							sqrt(2.0 / out));
		free(p);
		lupi_model_free(m);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("api");
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, accessors);
	tcase_add_test(tc, option_defaults);
	tcase_add_test(tc, option_round_trip);
	tcase_add_test(tc, option_ranges);
	tcase_add_test(tc, shape_options_after_training);
	tcase_add_test(tc, layer_activation);
	tcase_add_test(tc, init_from_seed);
	tcase_add_test(tc, initialisers_have_their_distributions);
	tcase_add_test(tc, params_get_set);
	tcase_add_test(tc, standardizer_get_set);
	tcase_add_test(tc, standardizer_fitted_by_first_step);
	tcase_add_test(tc, standardizer_of_both_views_skips_missing);
	tcase_add_test(tc, predict_outputs);
	tcase_add_test(tc, predict_binary_and_regression);
	tcase_add_test(tc, predict_in_chunks);
	tcase_add_test(tc, evaluate_classification);
	tcase_add_test(tc, evaluate_binary_and_regression);
	tcase_add_test(tc, step_errors);
	tcase_add_test(tc, step_reports_the_loss_before_the_update);
	tcase_add_test(tc, no_allocation_after_first_step);
	tcase_add_test(tc, nonfinite_step_leaves_params);
	tcase_add_test(tc, predict_is_thread_safe);
	tcase_add_test(tc, allocation_failures_are_clean);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("fit");
	tcase_add_test(tf, fit_blobs_classification);
	tcase_add_test(tf, fit_blobs_binary_sgd);
	tcase_add_test(tf, fit_linear_regression);
	tcase_add_test(tf, early_stopping_restores_best);
	tcase_add_test(tf, progress_and_stop);
	tcase_add_test(tf, fit_is_deterministic);
	tcase_add_test(tf, fit_privileged_view_skips_missing);
	tcase_add_test(tf, clone_is_deep);
	suite_add_tcase(s, tf);
	return lupi_test_run(s);
}
