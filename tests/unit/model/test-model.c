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
	if (binary)
		ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y),
				 LUPI_OK);
	else
		ck_assert_int_eq(lupi_dataset_set_labels(ds, k, y), LUPI_OK);
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

/* A layer option, asserted to be readable. */
static int64_t layer_opt(const lupi_model *m, size_t layer, int key)
{
	int64_t v = -99;
	ck_assert_int_eq(lupi_model_get_layer_int(m, layer, key, &v), LUPI_OK);
	return v;
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
	ck_assert_int_eq(layer_opt(m, 0, LUPI_LAYER_OPT_ACTIVATION),
			 LUPI_ACT_RELU);
	ck_assert_int_eq(layer_opt(m, 2, LUPI_LAYER_OPT_ACTIVATION),
			 LUPI_ACT_IDENTITY);
	ck_assert_uint_eq(lupi_model_num_params(m),
			  3 * 7 + 7 + 7 * 5 + 5 + 5 * 4 + 4);
	ck_assert_int_eq(lupi_model_task(NULL), 0);
	ck_assert_uint_eq(lupi_model_inputs(NULL), 0);
	ck_assert_uint_eq(lupi_model_outputs(NULL), 0);
	ck_assert_uint_eq(lupi_model_layers(NULL), 0);
	ck_assert_uint_eq(lupi_model_layer_size(NULL, 0), 0);
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
		{LUPI_MODEL_OPT_RMS_DECAY, 0.99},
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
		{LUPI_MODEL_OPT_ACTIVATION, 6, "ACTIVATION"},
		{LUPI_MODEL_OPT_ACTIVATION, -1, "ACTIVATION"},
		{LUPI_MODEL_OPT_INIT, 4, "INIT"},
		{LUPI_MODEL_OPT_OPTIMIZER, 4, "OPTIMIZER"},
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
		{LUPI_MODEL_OPT_RMS_DECAY, 1.0, "RMS_DECAY"},
		{LUPI_MODEL_OPT_RMS_DECAY, -0.5, "RMS_DECAY"},
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
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0,
						  LUPI_LAYER_OPT_ACTIVATION,
						  LUPI_ACT_TANH),
			 LUPI_ESTATE);
	has_msg("LUPI_LAYER_OPT_ACTIVATION");
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_BIAS, 0),
			 LUPI_ESTATE);
	/* freezing a layer is what fine-tuning does: it stays possible */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
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
	const int act = LUPI_LAYER_OPT_ACTIVATION;
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, act, LUPI_ACT_GELU),
			 LUPI_OK);
	ck_assert_int_eq(layer_opt(m, 0, act), LUPI_ACT_RELU);
	ck_assert_int_eq(layer_opt(m, 1, act), LUPI_ACT_GELU);
	/* the output layer is always IDENTITY */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 2, act, LUPI_ACT_TANH),
			 LUPI_ERANGE);
	has_msg("layer 2 is the output layer");
	ck_assert_int_eq(lupi_model_set_layer_int(m, 2, act,
						  LUPI_ACT_IDENTITY), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, act, 6), LUPI_ERANGE);
	has_msg("LUPI_LAYER_OPT_ACTIVATION must be in [0, 5], got 6");
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, act, -1), LUPI_ERANGE);
	ck_assert_int_eq(layer_opt(m, 0, act), LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_set_layer_int(NULL, 0, act, 1),
			 LUPI_EINVAL);
	int64_t v;
	ck_assert_int_eq(lupi_model_get_layer_int(NULL, 0, act, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_layer_int(m, 0, act, NULL),
			 LUPI_EINVAL);
	/* the ACTIVATION option sets every hidden layer */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_SIGMOID), LUPI_OK);
	ck_assert_int_eq(layer_opt(m, 0, act), LUPI_ACT_SIGMOID);
	ck_assert_int_eq(layer_opt(m, 1, act), LUPI_ACT_SIGMOID);
	ck_assert_int_eq(layer_opt(m, 2, act), LUPI_ACT_IDENTITY);
	lupi_model_free(m);
}
END_TEST

/* Layer indices are checked without wrapping: the layer count, and
 * SIZE_MAX (where layer + 1 would be 0), are refused for every key. */
START_TEST(layer_index_out_of_range)
{
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_BINARY, 2, h, 1, 1);
	const int keys[] = {LUPI_LAYER_OPT_ACTIVATION, LUPI_LAYER_OPT_BIAS,
			    LUPI_LAYER_OPT_FROZEN};
	const size_t bad[] = {2, 3, SIZE_MAX, SIZE_MAX - 1};
	for (size_t k = 0; k < 3; k++) {
		for (size_t b = 0; b < 4; b++) {
			int64_t v = 42;
			ck_assert_int_eq(lupi_model_set_layer_int(m, bad[b],
								  keys[k], 0),
					 LUPI_ERANGE);
			has_msg("the model has 2 layers");
			ck_assert_int_eq(lupi_model_get_layer_int(m, bad[b],
								  keys[k], &v),
					 LUPI_ERANGE);
			ck_assert_int_eq(v, 42);
		}
	}
	/* nothing changed */
	ck_assert_int_eq(layer_opt(m, 0, LUPI_LAYER_OPT_ACTIVATION),
			 LUPI_ACT_RELU);
	ck_assert_int_eq(layer_opt(m, 1, LUPI_LAYER_OPT_BIAS), 1);
	ck_assert_uint_eq(lupi_model_num_params(m), 2 * 4 + 4 + 4 + 1);
	lupi_model_free(m);
}
END_TEST

/* BIAS changes the parameter count and layout; set before initialisation
 * only, and back again. */
START_TEST(layer_bias_option)
{
	size_t h[] = {3};
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	const int bias = LUPI_LAYER_OPT_BIAS;
	ck_assert_int_eq(layer_opt(m, 0, bias), 1);
	ck_assert_int_eq(layer_opt(m, 1, bias), 1);
	ck_assert_int_eq(layer_opt(m, 1, LUPI_LAYER_OPT_FROZEN), 0);
	ck_assert_uint_eq(lupi_model_num_params(m), 2 * 3 + 3 + 3 + 1);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, bias, 2), LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, bias, 0), LUPI_OK);
	ck_assert_int_eq(layer_opt(m, 0, bias), 0);
	ck_assert_uint_eq(lupi_model_num_params(m), 2 * 3 + 3 + 1);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, bias, 0), LUPI_OK);
	ck_assert_uint_eq(lupi_model_num_params(m), 2 * 3 + 3);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, bias, 1), LUPI_OK);
	ck_assert_uint_eq(lupi_model_num_params(m), 2 * 3 + 3 + 1);
	/* the layout: W0 (6), W1 (3), b1 (1) - y = W1 relu(W0 x) + b1 */
	float p[10] = {1, 0, 0, 1, 1, 1, 1, 2, 3, 0.5f};
	ck_assert_int_eq(lupi_model_set_params(m, p, 10), LUPI_OK);
	float x[2] = {2, -3}, out;
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, LUPI_PREDICT_OUTPUT,
					    &out), LUPI_OK);
	/* hidden: relu(2, -3, -1) = (2, 0, 0) */
	ck_assert_float_eq(out, 1 * 2 + 0.5f);
	/* initialised: the layout is fixed now, a no-op is still fine */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, bias, 1), LUPI_ESTATE);
	has_msg("before the model is initialised");
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, bias, 0), LUPI_OK);
	ck_assert_uint_eq(lupi_model_num_params(m), 10);
	lupi_model_free(m);

	/* lupi_model_init draws no bias for a layer without one */
	m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_INIT,
					    LUPI_INIT_UNIFORM), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, bias, 0), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_ptr_null(m->layers[1].b);
	ck_assert_uint_eq(m->n_params, 2 * 3 + 3 + 3);
	lupi_model_free(m);
}
END_TEST

/* Every key of the other handles is refused by the model's setters and
 * getters, and every model key by the layer's, whatever its type. */
static void refuse_model_key(lupi_model *m, int key)
{
	int64_t iv = 0;
	double dv = 0;
	ck_assert_int_eq(lupi_model_set_int(m, key, 0), LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_set_double(m, key, 0.5),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_get_int(m, key, &iv),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_model_get_double(m, key, &dv),
			 LUPI_EUNKNOWN_OPTION);
}

START_TEST(keys_of_other_handles_are_refused)
{
	size_t h[] = {3};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 1, 3);
	const int others[] = {LUPI_HANDLE_LOSS, LUPI_HANDLE_READER,
			      LUPI_HANDLE_COMPARE, LUPI_HANDLE_LAYER};
	size_t seen = 0;
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		size_t count = 0;
		for (const lupi_option *o = lupi_option_next(others[i], NULL);
		     o != NULL; o = lupi_option_next(others[i], o)) {
			ck_assert_int_eq(o->handle, others[i]);
			refuse_model_key(m, o->key);
			count++;
		}
		ck_assert_uint_gt(count, 0);
		seen += count;
	}
	ck_assert_uint_ge(seen, 3 + 8 + 2 + 11 + 6);
	/* model keys are not layer keys */
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o)) {
		int64_t v;
		ck_assert_int_eq(lupi_model_set_layer_int(m, 0, o->key, 1),
				 LUPI_EUNKNOWN_OPTION);
		ck_assert_int_eq(lupi_model_get_layer_int(m, 0, o->key, &v),
				 LUPI_EUNKNOWN_OPTION);
	}
	/* nor are the old 0.1 numbers, or keys of no handle */
	const int stale[] = {0, 1, 5, 101, 110, 111, 999, 1000, 1016, 1100,
			     1115, 5000, 5004, 6001, -1001};
	for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
		refuse_model_key(m, stale[i]);
	lupi_model_free(m);
}
END_TEST

/* A model key through the setter or getter of the other type. */
START_TEST(wrong_type_is_refused)
{
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, NULL, 0, 1);
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o)) {
		int64_t iv;
		double dv;
		if (o->type == LUPI_TYPE_INT) {
			ck_assert_int_eq(lupi_model_set_double(m, o->key, 1.0),
					 LUPI_EUNKNOWN_OPTION);
			has_msg(o->name);
			has_msg("integer option");
			ck_assert_int_eq(lupi_model_get_double(m, o->key, &dv),
					 LUPI_EUNKNOWN_OPTION);
		} else {
			ck_assert_int_eq(lupi_model_set_int(m, o->key, 1),
					 LUPI_EUNKNOWN_OPTION);
			has_msg(o->name);
			has_msg("real option");
			ck_assert_int_eq(lupi_model_get_int(m, o->key, &iv),
					 LUPI_EUNKNOWN_OPTION);
		}
	}
	lupi_model_free(m);
}
END_TEST

/* The introspection's defaults are what a fresh model has, for the model
 * and for each layer (a hidden layer's ACTIVATION default is the model's
 * ACTIVATION; the output layer's is IDENTITY). */
START_TEST(introspected_defaults_match_a_fresh_model)
{
	size_t h[] = {3, 2};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 2, 3);
	size_t n = 0;
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o), n++) {
		ck_assert_ptr_eq(lupi_option_by_key(o->key), o);
		ck_assert_uint_eq(o->size, sizeof(lupi_option));
		if (o->type == LUPI_TYPE_INT) {
			int64_t v;
			ck_assert_int_eq(lupi_model_get_int(m, o->key, &v),
					 LUPI_OK);
			ck_assert_int_eq(v, o->int_default);
			ck_assert(o->int_min <= v && v <= o->int_max);
		} else {
			double v;
			ck_assert_int_eq(lupi_model_get_double(m, o->key, &v),
					 LUPI_OK);
			ck_assert_double_eq(v, o->real_default);
		}
	}
	ck_assert_uint_eq(n, 15 + 11 + 3); /* + TS_SCALE, _TEMPERATURE, _OFFSET */
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_LAYER, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_LAYER, o))
		for (size_t l = 0; l < 2; l++)
			ck_assert_int_eq(layer_opt(m, l, o->key),
					 o->int_default);
	ck_assert_int_eq(layer_opt(m, 2, LUPI_LAYER_OPT_ACTIVATION),
			 LUPI_ACT_IDENTITY);
	/* named values: one name per value of the range */
	const lupi_option *opt = lupi_option_by_key(LUPI_MODEL_OPT_OPTIMIZER);
	ck_assert_ptr_nonnull(opt);
	ck_assert_str_eq(opt->values, "sgd,adam,adamw,rmsprop");
	ck_assert_int_eq(opt->int_max, LUPI_OPTIM_RMSPROP);
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
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, LUPI_PREDICT_OUTPUT,
					    &out), LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_set_params(m, p, 2), LUPI_ESHAPE);
	has_msg("2 parameters given, the model has 3");
	ck_assert_int_eq(lupi_model_get_params(m, q, 4), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_model_set_params(m, NULL, 3), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_get_params(NULL, q, 3), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_params(m, p, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(m, q, 3), LUPI_OK);
	ck_assert_mem_eq(p, q, sizeof p);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, LUPI_PREDICT_OUTPUT,
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
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, LUPI_PREDICT_OUTPUT,
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
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y), LUPI_OK);
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
	ck_assert_int_eq(lupi_model_predict(m, x, 2, 2, LUPI_PREDICT_LOGITS,
					    out), LUPI_OK);
	ck_assert_float_eq(out[0], 2);
	ck_assert_float_eq(out[2], 1);
	ck_assert_float_eq(out[4], 3);
	ck_assert_int_eq(lupi_model_predict(m, x, 2, 2, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	double z = exp(2) + 1 + exp(1);
	ck_assert_float_eq_tol(out[0], exp(2) / z, 1e-6);
	ck_assert_float_eq_tol(out[1], 1 / z, 1e-6);
	ck_assert_float_eq_tol(out[2], exp(1) / z, 1e-6);
	ck_assert_float_eq_tol(out[3] + out[4] + out[5], 1.0, 1e-6);
	int32_t cls[2];
	ck_assert_int_eq(lupi_model_predict_class(m, x, 2, 2, cls), LUPI_OK);
	ck_assert_int_eq(cls[0], 0);
	ck_assert_int_eq(cls[1], 1);
	/* argument errors */
	ck_assert_int_eq(lupi_model_predict(m, x, 0, 2, 0, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, 7, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, NULL, 1, 2, 0, out),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, 0, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict(NULL, x, 1, 2, 0, out),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_predict_class(m, x, 1, 2, NULL),
			 LUPI_EINVAL);
	/* NaN input: a NaN output is reported, not returned as LUPI_OK */
	float xn[2] = {NAN, 0};
	ck_assert_int_eq(lupi_model_predict(m, xn, 1, 2, LUPI_PREDICT_OUTPUT,
					    out), LUPI_ENONFINITE);
	has_msg("sample 0: output 0 is not finite");
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
	ck_assert_int_eq(lupi_model_predict(b, x, 3, 1, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_float_eq_tol(out[0], 0.0, 1e-30);
	ck_assert_float_eq(out[1], 0.5f);
	ck_assert_float_eq_tol(out[2], 1 / (1 + exp(-3)), 1e-7);
	ck_assert_int_eq(lupi_model_predict_class(b, x, 3, 1, cls), LUPI_OK);
	ck_assert_int_eq(cls[0], 0);
	ck_assert_int_eq(cls[1], 0);
	ck_assert_int_eq(cls[2], 1);
	lupi_model *r = model(LUPI_TASK_REGRESSION, 1, NULL, 0, 1);
	float q[2] = {-2, 1};
	ck_assert_int_eq(lupi_model_set_params(r, q, 2), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(r, x, 3, 1, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_float_eq(out[2], -5);
	ck_assert_int_eq(lupi_model_predict_class(r, x, 3, 1, cls),
			 LUPI_ENOTSUP);
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
	ck_assert_int_eq(lupi_model_predict(m, x, n, 3, LUPI_PREDICT_LOGITS,
					    all),
			 LUPI_OK);
	for (size_t i = 0; i < n; i += 97) {
		float one[4];
		ck_assert_int_eq(lupi_model_predict(m, x + i * 3, 1, 3,
						    LUPI_PREDICT_LOGITS, one),
				 LUPI_OK);
		for (size_t j = 0; j < 4; j++)
			ck_assert_float_eq_tol(one[j], all[i * 4 + j], 1e-5);
	}
	int32_t *cls = malloc(n * sizeof *cls);
	ck_assert_int_eq(lupi_model_predict_class(m, x, n, 3, cls), LUPI_OK);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(cls[i],
				 (int32_t)lupi__argmax(all + i * 4, 4));
	free(cls);
	free(x);
	free(all);
	lupi_model_free(m);
}
END_TEST

/* Rows of the wrong width are refused, naming both numbers. */
START_TEST(predict_checks_the_row_width)
{
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	float x[8] = {0}, out[4];
	int32_t cls[2];
	const size_t widths[] = {0, 2, 4, SIZE_MAX};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(lupi_model_predict(m, x, 2, widths[i],
						    LUPI_PREDICT_OUTPUT, out),
				 LUPI_ESHAPE);
		char want[96];
		snprintf(want, sizeof want, "rows of %zu features given, the "
			 "model has 3 inputs", widths[i]);
		has_msg(want);
		ck_assert_int_eq(lupi_model_predict_class(m, x, 2, widths[i],
							  cls),
				 LUPI_ESHAPE);
	}
	ck_assert_int_eq(lupi_model_predict(m, x, 2, 3, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict_class(m, x, 2, 3, cls), LUPI_OK);
	lupi_model_free(m);
}
END_TEST

/* Finite weights whose forward pass overflows: prediction, classes,
 * metrics and the confusion matrix report LUPI_ENONFINITE naming the
 * sample, where they used to return LUPI_OK with NaN or infinity. */
START_TEST(overflowing_outputs_are_reported)
{
	/* regression y = 1e30 x: x = 1e30 overflows float */
	lupi_model *r = model(LUPI_TASK_REGRESSION, 1, NULL, 0, 1);
	float pr[2] = {1e30f, 0};
	ck_assert_int_eq(lupi_model_set_params(r, pr, 2), LUPI_OK);
	float x[3] = {1, 1e30f, 2}, out[3];
	ck_assert_int_eq(lupi_model_predict(r, x, 1, 1, LUPI_PREDICT_OUTPUT,
					    out), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(r, x, 3, 1, LUPI_PREDICT_OUTPUT,
					    out), LUPI_ENONFINITE);
	has_msg("sample 1: output 0 is not finite");
	ck_assert_int_eq(lupi_model_predict(r, x, 3, 1, LUPI_PREDICT_LOGITS,
					    out), LUPI_ENONFINITE);
	lupi_dataset *ds = dataset(3, 1, x);
	float t[3] = {0, 0, 0};
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, t), LUPI_OK);
	double v = 0;
	ck_assert_int_eq(lupi_model_evaluate(r, ds, LUPI_METRIC_MSE, &v),
			 LUPI_ENONFINITE);
	has_msg("sample 1: output 0 is not finite");
	ck_assert_double_eq(v, 0);
	ck_assert_int_eq(lupi_model_evaluate(r, ds, LUPI_METRIC_MAE, &v),
			 LUPI_ENONFINITE);
	lupi_dataset_free(ds);
	lupi_model_free(r);

	/* classification through a hidden layer that overflows at the bad
	 * row, 300 (past the first chunk of 256 rows) */
	size_t h[] = {1};
	lupi_model *c = model(LUPI_TASK_CLASSIFICATION, 1, h, 1, 2);
	float pc[6] = {1e30f, 0, 1e30f, -1e30f, 0, 0};
	ck_assert_int_eq(lupi_model_set_params(c, pc, 6), LUPI_OK);
	size_t n = 400;
	float *xs = calloc(n, sizeof *xs), *probs = malloc(2 * n * sizeof *xs);
	int32_t *cls = malloc(n * sizeof *cls), *y = calloc(n, sizeof *y);
	xs[300] = 1e10f;
	ck_assert_int_eq(lupi_model_predict(c, xs, n, 1, LUPI_PREDICT_OUTPUT,
					    probs), LUPI_ENONFINITE);
	has_msg("sample 300: output 0 is not finite");
	ck_assert_int_eq(lupi_model_predict_class(c, xs, n, 1, cls),
			 LUPI_ENONFINITE);
	has_msg("sample 300: output 0 is not finite");
	ck_assert_int_eq(lupi_model_predict_class(c, xs, 300, 1, cls),
			 LUPI_OK);
	ds = dataset(n, 1, xs);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	for (int metric = LUPI_METRIC_ACCURACY; metric <= LUPI_METRIC_LOGLOSS;
	     metric++) {
		ck_assert_int_eq(lupi_model_evaluate(c, ds, metric, &v),
				 LUPI_ENONFINITE);
		has_msg("sample 300: output 0 is not finite");
	}
	uint64_t counts[4];
	ck_assert_int_eq(lupi_model_confusion(c, ds, counts), LUPI_ENONFINITE);
	has_msg("sample 300");
	lupi_dataset_free(ds);
	free(xs);
	free(probs);
	free(cls);
	free(y);
	lupi_model_free(c);
}
END_TEST

/* n x d (or n x outputs) floats that overflow size_t are refused before x
 * is read: x here is one row. */
START_TEST(predict_refuses_overflowing_sizes)
{
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 4, NULL, 0, 2);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	float x[4] = {0}, out[2];
	int32_t cls[1];
	const size_t ns[] = {SIZE_MAX / 2, SIZE_MAX / 8, SIZE_MAX / 16 + 1};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(lupi_model_predict(m, x, ns[i], 4,
						    LUPI_PREDICT_OUTPUT, out),
				 LUPI_ERANGE);
		char want[96];
		snprintf(want, sizeof want, "%zu samples of 4 inputs", ns[i]);
		has_msg(want);
		ck_assert_int_eq(lupi_model_predict_class(m, x, ns[i], 4, cls),
				 LUPI_ERANGE);
	}
	lupi_model_free(m);
	/* the outputs overflow, the inputs do not */
	m = model(LUPI_TASK_CLASSIFICATION, 1, NULL, 0, 16);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(m, x, SIZE_MAX / 32, 1,
					    LUPI_PREDICT_OUTPUT, out),
			 LUPI_ERANGE);
	has_msg("16 outputs");
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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
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
	/* a dataset of another width: the message names the view */
	lupi_dataset *narrow = dataset(8, 1, x);
	int32_t y8[8] = {0};
	ck_assert_int_eq(lupi_dataset_set_labels(narrow, 2, y8), LUPI_OK);
	ck_assert_int_eq(lupi_model_evaluate(m, narrow, LUPI_METRIC_ACCURACY,
					     &v), LUPI_ESHAPE);
	has_msg("the dataset's regular view has 1 features, model has 2 "
		"inputs");
	lupi_dataset_free(narrow);
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
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_set_labels(d3, 3, y), LUPI_OK);
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
	ck_assert_int_eq(lupi_model_predict(m, x, 12, 2, LUPI_PREDICT_OUTPUT,
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

/* ---- gradients without an update ---------------------------------------- */

/* A step is a gradient and its application, bit for bit: two clones, one
 * stepped, one through lupi_model_gradient + lupi_model_apply_gradient,
 * with dropout, clipping, weight decay and a frozen layer. _i: optimiser. */
START_TEST(step_is_gradient_then_apply)
{
	size_t h[] = {8, 6};
	lupi_model *a = model(LUPI_TASK_CLASSIFICATION, 2, h, 2, 3);
	ck_assert_int_eq(lupi_model_set_int(a, LUPI_MODEL_OPT_OPTIMIZER, _i),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(a, LUPI_MODEL_OPT_DROPOUT, 0.2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(a, LUPI_MODEL_OPT_CLIP_NORM,
					       0.5), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(a, LUPI_MODEL_OPT_WEIGHT_DECAY,
					       0.01), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(a, LUPI_MODEL_OPT_MOMENTUM, 0.5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(a, 1, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
	lupi_model *b;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	lupi_dataset *ds = blobs(40, 3, 0, 90);
	size_t np = lupi_model_num_params(a);
	float *g = malloc(np * sizeof *g);
	for (int s = 0; s < 5; s++) {
		size_t idx[10];
		for (size_t i = 0; i < 10; i++)
			idx[i] = (size_t)(s * 7 + (int)i * 3) % 40;
		double la = -1, lb = -2;
		ck_assert_int_eq(lupi_model_step(a, ds, idx, 10, &la), LUPI_OK);
		ck_assert_int_eq(lupi_model_gradient(b, ds, idx, 10, &lb, g,
						     np), LUPI_OK);
		ck_assert_double_eq(la, lb);
		/* frozen layer 1 reports 0 */
		const lupi__layer *ly = &b->layers[1];
		size_t off = (size_t)(ly->w - b->params);
		for (size_t i = 0; i < ly->in * ly->out + ly->out; i++)
			ck_assert_float_eq(g[off + i], 0.0f);
		ck_assert_int_eq(lupi_model_apply_gradient(b, g, np), LUPI_OK);
		float *pa = params_of(a), *pb = params_of(b);
		ck_assert_mem_eq(pa, pb, np * sizeof *pa);
		free(pa);
		free(pb);
	}
	free(g);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_dataset_free(ds);
}
END_TEST

/* The gradient leaves weights and optimiser state alone, and equals the
 * finite-difference slope of the loss step reports (double reference via
 * the loss itself, on a dropout-free model). */
START_TEST(gradient_changes_no_weights)
{
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH), LUPI_OK);
	lupi_dataset *ds = linear(20, 1, 91);
	size_t idx[] = {0, 3, 5, 7, 11};
	size_t np = lupi_model_num_params(m);
	float *g = malloc(np * sizeof *g);
	double loss;
	ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 5, &loss, g, np),
			 LUPI_OK);
	ck_assert_uint_eq(m->t, 0);
	float *p = params_of(m);
	/* d loss / d p_i by central differences of the reported loss: the
	 * loss of a gradient call, with p_i moved by +-h */
	const float hstep = 1e-2f;
	for (size_t i = 0; i < np; i++) {
		double lp, lm;
		float keep = p[i];
		p[i] = keep + hstep;
		ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
		float *scratch = malloc(np * sizeof *scratch);
		ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 5, &lp,
						     scratch, np), LUPI_OK);
		p[i] = keep - hstep;
		ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
		ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 5, &lm,
						     scratch, np), LUPI_OK);
		free(scratch);
		p[i] = keep;
		double fd = (lp - lm) / (2.0 * hstep);
		ck_assert_double_eq_tol(g[i], fd, 2e-3 * (1 + fabs(fd)));
	}
	ck_assert_int_eq(lupi_model_set_params(m, p, np), LUPI_OK);
	ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 5, NULL, g, np),
			 LUPI_OK);
	float *q = params_of(m);
	ck_assert_mem_eq(p, q, np * sizeof *p);
	for (size_t i = 0; i < np; i++) /* Adam's moments untouched */
		ck_assert(m->opt_m[i] == 0.0f && m->opt_v[i] == 0.0f);
	ck_assert_uint_eq(m->t, 0);
	free(p);
	free(q);
	free(g);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(gradient_errors)
{
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3);
	lupi_dataset *ds = blobs(30, 3, 0, 92);
	size_t idx[] = {0, 1, 2};
	float g[9];
	double loss;
	ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 3, &loss, g, 8),
			 LUPI_ESHAPE);
	has_msg("a gradient of 8 floats, the model has 9 parameters");
	ck_assert_int_eq(m->initialized, 0); /* refused before anything */
	ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 3, &loss, NULL, 9),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_gradient(NULL, ds, idx, 3, &loss, g, 9),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_gradient(m, NULL, idx, 3, &loss, g, 9),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_gradient(m, ds, idx, 0, &loss, g, 9),
			 LUPI_EINVAL);
	size_t far[] = {30};
	ck_assert_int_eq(lupi_model_gradient(m, ds, far, 1, &loss, g, 9),
			 LUPI_ERANGE);

	/* apply: shape, state, finiteness */
	lupi_model *u = model(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3);
	float zero[9] = {0};
	ck_assert_int_eq(lupi_model_apply_gradient(u, zero, 9), LUPI_ESTATE);
	has_msg("not initialised");
	ck_assert_int_eq(lupi_model_apply_gradient(u, zero, 10), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_model_apply_gradient(u, NULL, 9), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_apply_gradient(NULL, zero, 9),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_init(u), LUPI_OK);
	ck_assert_int_eq(lupi_model_apply_gradient(u, zero, 9), LUPI_OK);
	ck_assert_uint_eq(u->t, 1);
	float bad[9] = {0.1f, 0.2f, 0.3f, 0.4f, NAN, 0, 0, 0, 0};
	float *before = params_of(u);
	float mo[9], vo[9];
	memcpy(mo, u->opt_m, sizeof mo);
	memcpy(vo, u->opt_v, sizeof vo);
	ck_assert_int_eq(lupi_model_apply_gradient(u, bad, 9),
			 LUPI_ENONFINITE);
	has_msg("not finite");
	bad[4] = INFINITY;
	ck_assert_int_eq(lupi_model_apply_gradient(u, bad, 9),
			 LUPI_ENONFINITE);
	float *after = params_of(u);
	ck_assert_mem_eq(before, after, 9 * sizeof *before);
	ck_assert_mem_eq(mo, u->opt_m, sizeof mo);
	ck_assert_mem_eq(vo, u->opt_v, sizeof vo);
	ck_assert_uint_eq(u->t, 1);
	free(before);
	free(after);
	lupi_model_free(u);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A frozen layer keeps its weights through training while the others
 * change; unfrozen, it trains again. */
START_TEST(frozen_layer_survives_steps)
{
	size_t h[] = {6, 5};
	lupi_model *m = model(LUPI_TASK_CLASSIFICATION, 2, h, 2, 3);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY,
					       0.1), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
	ck_assert_int_eq(layer_opt(m, 1, LUPI_LAYER_OPT_FROZEN), 1);
	lupi_dataset *ds = blobs(40, 3, 0, 93);
	size_t np = lupi_model_num_params(m);
	float *p0 = params_of(m);
	size_t idx[8] = {0, 5, 10, 15, 20, 25, 30, 35};
	for (int s = 0; s < 5; s++)
		ck_assert_int_eq(lupi_model_step(m, ds, idx, 8, NULL), LUPI_OK);
	float *p1 = params_of(m);
	size_t a = 2 * 6 + 6, n1 = 6 * 5 + 5; /* layer 1 from a */
	ck_assert_mem_eq(p0 + a, p1 + a, n1 * sizeof *p0);
	ck_assert(memcmp(p0, p1, a * sizeof *p0) != 0);
	ck_assert(memcmp(p0 + a + n1, p1 + a + n1,
			 (np - a - n1) * sizeof *p0) != 0);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_FROZEN,
						  0), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(m, ds, idx, 8, NULL), LUPI_OK);
	float *p2 = params_of(m);
	ck_assert(memcmp(p1 + a, p2 + a, n1 * sizeof *p0) != 0);
	/* the clone keeps the layer options */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
	lupi_model *c;
	ck_assert_int_eq(lupi_model_clone(m, &c), LUPI_OK);
	ck_assert_int_eq(layer_opt(c, 0, LUPI_LAYER_OPT_FROZEN), 1);
	ck_assert_int_eq(layer_opt(c, 1, LUPI_LAYER_OPT_FROZEN), 0);
	lupi_model_free(c);
	free(p0);
	free(p1);
	free(p2);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

static int aux_frees;

static void count_aux_free(void *aux)
{
	aux_frees++;
	free(aux);
}

/* A clone of a model without biases has the same layout; the scratch of
 * higher layers (aux) stays with the original. */
START_TEST(clone_keeps_layout_not_aux)
{
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_BINARY, 3, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_BIAS, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	m->aux = malloc(16);
	m->aux_free = count_aux_free;
	lupi_model *c;
	ck_assert_int_eq(lupi_model_clone(m, &c), LUPI_OK);
	ck_assert_ptr_null(c->aux);
	ck_assert(c->aux_free == NULL);
	ck_assert_uint_eq(lupi_model_num_params(c), 3 * 4 + 4 + 1);
	ck_assert_int_eq(layer_opt(c, 0, LUPI_LAYER_OPT_BIAS), 0);
	ck_assert_ptr_null(c->layers[0].b);
	float *pm = params_of(m), *pc = params_of(c);
	ck_assert_mem_eq(pm, pc, (3 * 4 + 4 + 1) * sizeof *pm);
	free(pm);
	free(pc);
	aux_frees = 0;
	lupi_model_free(c);
	ck_assert_int_eq(aux_frees, 0);
	lupi_model_free(m);
	ck_assert_int_eq(aux_frees, 1);
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
	ck_assert_int_eq(lupi_model_predict(m, x, 1, 2, LUPI_PREDICT_OUTPUT,
					    out),
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

/* Training that ends in LUPI_ENONFINITE keeps the weights of the best
 * validation epoch (RESTORE_BEST), as an early stop would: the first epoch
 * trains at a sane rate, then the callback raises SGD's rate to 1e3 and a
 * later step overflows. */
struct diverge {
	lupi_model *m;
	float best[64];
	size_t ends;
};

static int diverge_after_one_epoch(void *user, const lupi_progress *p)
{
	struct diverge *d = user;
	if (!p->epoch_end)
		return 0;
	if (d->ends++ == 0) {
		ck_assert_int_eq(lupi_model_get_params(d->m, d->best,
				 lupi_model_num_params(d->m)), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_double(d->m, LUPI_MODEL_OPT_LR,
						       1000), LUPI_OK);
	}
	return 0;
}

START_TEST(fit_nonfinite_restores_best)
{
	size_t h[] = {4};
	lupi_model *m = model(LUPI_TASK_REGRESSION, 2, h, 1, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 50),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 4),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1e-3),
			 LUPI_OK);
	size_t np = lupi_model_num_params(m);
	ck_assert_uint_le(np, 64);
	lupi_dataset *train = linear(40, 1, 60), *valid = linear(20, 1, 61);
	struct diverge d = {.m = m};
	ck_assert_int_eq(lupi_model_fit(m, train, valid,
					diverge_after_one_epoch, &d),
			 LUPI_ENONFINITE);
	ck_assert_uint_eq(d.ends, 1); /* it failed in the second epoch */
	float *p = params_of(m);
	ck_assert_mem_eq(p, d.best, np * sizeof *p);
	free(p);
	/* without a validation set: the weights before the failed step,
	 * finite */
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1000),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL),
			 LUPI_ENONFINITE);
	p = params_of(m);
	for (size_t i = 0; i < np; i++)
		ck_assert(isfinite(p[i]));
	free(p);
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
	/* a non-zero return stops: fit returns LUPI_ECANCELLED */
	struct record s = {0};
	s.stop_at = 6;
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, recorder, &s),
			 LUPI_ECANCELLED);
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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
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
	ck_assert_int_eq(layer_opt(c, 0, LUPI_LAYER_OPT_ACTIVATION),
			 LUPI_ACT_TANH);
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
		j->rc = lupi_model_predict(j->m, j->x, j->n, 5,
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
	ck_assert_int_eq(lupi_model_predict(m, x, n, 5, LUPI_PREDICT_OUTPUT,
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
			rc = lupi_model_predict(m, x, 40, 2,
						LUPI_PREDICT_OUTPUT,
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
	tcase_add_test(tc, layer_index_out_of_range);
	tcase_add_test(tc, layer_bias_option);
	tcase_add_test(tc, keys_of_other_handles_are_refused);
	tcase_add_test(tc, wrong_type_is_refused);
	tcase_add_test(tc, introspected_defaults_match_a_fresh_model);
	tcase_add_test(tc, init_from_seed);
	tcase_add_test(tc, initialisers_have_their_distributions);
	tcase_add_test(tc, params_get_set);
	tcase_add_test(tc, standardizer_get_set);
	tcase_add_test(tc, standardizer_fitted_by_first_step);
	tcase_add_test(tc, standardizer_of_both_views_skips_missing);
	tcase_add_test(tc, predict_outputs);
	tcase_add_test(tc, predict_binary_and_regression);
	tcase_add_test(tc, predict_in_chunks);
	tcase_add_test(tc, predict_checks_the_row_width);
	tcase_add_test(tc, overflowing_outputs_are_reported);
	tcase_add_test(tc, predict_refuses_overflowing_sizes);
	tcase_add_test(tc, evaluate_classification);
	tcase_add_test(tc, evaluate_binary_and_regression);
	tcase_add_test(tc, step_errors);
	tcase_add_test(tc, step_reports_the_loss_before_the_update);
	tcase_add_test(tc, no_allocation_after_first_step);
	tcase_add_test(tc, nonfinite_step_leaves_params);
	tcase_add_loop_test(tc, step_is_gradient_then_apply, 0, 4);
	tcase_add_test(tc, gradient_changes_no_weights);
	tcase_add_test(tc, gradient_errors);
	tcase_add_test(tc, frozen_layer_survives_steps);
	tcase_add_test(tc, clone_keeps_layout_not_aux);
	tcase_add_test(tc, predict_is_thread_safe);
	tcase_add_test(tc, allocation_failures_are_clean);
	suite_add_tcase(s, tc);
	TCase *tf = tcase_create("fit");
	tcase_add_test(tf, fit_blobs_classification);
	tcase_add_test(tf, fit_blobs_binary_sgd);
	tcase_add_test(tf, fit_linear_regression);
	tcase_add_test(tf, early_stopping_restores_best);
	tcase_add_test(tf, fit_nonfinite_restores_best);
	tcase_add_test(tf, progress_and_stop);
	tcase_add_test(tf, fit_is_deterministic);
	tcase_add_test(tf, fit_privileged_view_skips_missing);
	tcase_add_test(tf, clone_is_deep);
	suite_add_tcase(s, tf);
	return lupi_test_run(s);
}
