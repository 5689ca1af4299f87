/* Save -> load round trip. The model comes from the input: the input itself
 * when it loads as a model file, else a model built from the input's bytes
 * (shape, options, layer options, raw float parameters - NaN, Inf,
 * denormals and -0 included - and standardisation). Properties: saving
 * succeeds once the model is initialised; the saved bytes load again;
 * saving the loaded copy gives the same bytes; the copy has the same
 * options (every model and layer option of the option directory),
 * parameters and standardisation bit for bit, and predicts the same bits. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* The model's options, asked of the option directory. */
static int int_keys[64], real_keys[64];
static size_t n_int, n_real;

static void list_keys(void)
{
	if (n_int != 0)
		return;
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o)) {
		if (o->type == LUPI_TYPE_INT && n_int < 64)
			int_keys[n_int++] = o->key;
		else if (o->type == LUPI_TYPE_DOUBLE && n_real < 64)
			real_keys[n_real++] = o->key;
	}
	if (n_int == 0 || n_real == 0)
		fuzz_fail("the directory lists no model options", 0);
}

static float raw_float(fuzz_in *in)
{
	uint32_t u = fuzz_u32(in);
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

static void set_options(lupi_model *m, fuzz_in *in)
{
	int n = fuzz_u8(in) % 8;
	for (int i = 0; i < n; i++) {
		uint8_t k = fuzz_u8(in);
		uint64_t v = fuzz_u64(in);
		if (k & 0x80) {
			double d;
			memcpy(&d, &v, sizeof d);
			lupi_model_set_double(m, real_keys[k % n_real], d);
		} else {
			/* small values hit the valid ranges more often */
			int64_t iv = k & 0x40 ? (int64_t)v : (int64_t)(v % 8);
			lupi_model_set_int(m, int_keys[k % n_int], iv);
		}
	}
}

/* Returns the model, and whether it holds weights (save must then work). */
static lupi_model *build(fuzz_in *in, int *initialized)
{
	static const int tasks[] = {LUPI_TASK_CLASSIFICATION, LUPI_TASK_BINARY,
	                            LUPI_TASK_REGRESSION};
	int task = tasks[fuzz_u8(in) % 3];
	size_t n_in = 1 + fuzz_u8(in) % 6, nh = fuzz_u8(in) % 3, hidden[2];
	for (size_t i = 0; i < nh; i++)
		hidden[i] = 1 + fuzz_u8(in) % 5;
	size_t n_out = fuzz_u8(in);
	n_out = task == LUPI_TASK_BINARY       ? 1
	        : task == LUPI_TASK_REGRESSION ? 1 + n_out % 3
	                                       : 2 + n_out % 4;
	lupi_model *m = NULL;
	int rc = lupi_model_create(task, n_in, hidden, nh, n_out, &m);
	if (rc != LUPI_OK)
		fuzz_fail("lupi_model_create refused a valid shape", rc);
	set_options(m, in);
	/* per layer: activation (hidden layers), bias, frozen */
	for (size_t i = 0; i < nh + 1; i++) {
		uint8_t b = fuzz_u8(in);
		if (i < nh)
			lupi_model_set_layer_int(m, i, LUPI_LAYER_OPT_ACTIVATION,
			                         b % 6);
		lupi_model_set_layer_int(m, i, LUPI_LAYER_OPT_BIAS,
		                         (b >> 3 & 1) ^ 1);
		lupi_model_set_layer_int(m, i, LUPI_LAYER_OPT_FROZEN,
		                         b >> 4 & 1);
	}
	uint8_t what = fuzz_u8(in);
	*initialized = 0;
	if ((what & 1) && lupi_model_init(m) == LUPI_OK)
		*initialized = 1;
	size_t np = lupi_model_num_params(m), ni = lupi_model_inputs(m);
	float *p = malloc(np * sizeof *p), *mean = malloc(ni * sizeof *mean),
	      *sd = malloc(ni * sizeof *sd);
	if (p == NULL || mean == NULL || sd == NULL)
		abort();
	for (size_t i = 0; i < np; i++)
		p[i] = raw_float(in);
	if ((what & 2) && lupi_model_set_params(m, p, np) == LUPI_OK)
		*initialized = 1;
	for (size_t i = 0; i < ni; i++) {
		mean[i] = raw_float(in);
		sd[i] = raw_float(in);
	}
	if (what & 4)
		lupi_model_set_standardizer(m, mean, sd);
	free(p);
	free(mean);
	free(sd);
	return m;
}

/* Out of memory is not a finding: the caller then stops quietly. */
static int save(const lupi_model *m, int initialized, void **buf, size_t *len)
{
	static const int ok[] = {LUPI_OK, LUPI_ENOMEM, LUPI_ESTATE};
	int rc = lupi_model_save_memory(m, buf, len);
	fuzz_expect("lupi_model_save_memory", rc, ok, initialized ? 2 : 3);
	return rc;
}

static void compare_options(const lupi_model *a, const lupi_model *b)
{
	for (size_t i = 0; i < n_int; i++) {
		int64_t x = 0, y = 0;
		lupi_model_get_int(a, int_keys[i], &x);
		lupi_model_get_int(b, int_keys[i], &y);
		if (x != y)
			fuzz_fail("an int option changed in the round trip",
			          int_keys[i]);
	}
	for (size_t i = 0; i < n_real; i++) {
		double x = 0, y = 0;
		lupi_model_get_double(a, real_keys[i], &x);
		lupi_model_get_double(b, real_keys[i], &y);
		if (memcmp(&x, &y, sizeof x) != 0)
			fuzz_fail("a real option changed in the round trip",
			          real_keys[i]);
	}
}

/* Both calls give the same code and, on success, the same bytes. */
static void compare_arrays(const char *what, int ra, const float *a, int rb,
                           const float *b, size_t n)
{
	if (ra != rb)
		fuzz_fail(what, rb);
	if (ra == LUPI_OK && memcmp(a, b, n * sizeof *a) != 0)
		fuzz_fail(what, 0);
}

static void compare_models(const lupi_model *a, const lupi_model *b)
{
	if (lupi_model_task(a) != lupi_model_task(b) ||
	    lupi_model_num_params(a) != lupi_model_num_params(b) ||
	    lupi_model_layers(a) != lupi_model_layers(b) ||
	    lupi_model_inputs(a) != lupi_model_inputs(b) ||
	    lupi_model_outputs(a) != lupi_model_outputs(b))
		fuzz_fail("the reloaded model has another shape", 0);
	for (size_t i = 0; i < lupi_model_layers(a); i++) {
		if (lupi_model_layer_size(a, i) != lupi_model_layer_size(b, i))
			fuzz_fail("a layer changed in the round trip", (int)i);
		for (const lupi_option *o =
		         lupi_option_next(LUPI_HANDLE_LAYER, NULL);
		     o != NULL; o = lupi_option_next(LUPI_HANDLE_LAYER, o)) {
			int64_t x = -1, y = -1;
			if (lupi_model_get_layer_int(a, i, o->key, &x) !=
			        lupi_model_get_layer_int(b, i, o->key, &y) ||
			    x != y)
				fuzz_fail("a layer option changed in the round "
				          "trip",
				          o->key);
		}
	}
	compare_options(a, b);
	size_t np = lupi_model_num_params(a), in = lupi_model_inputs(a);
	size_t out = lupi_model_outputs(a);
	float *pa = calloc(np, sizeof *pa), *pb = calloc(np, sizeof *pb);
	float *buf = calloc(4 * in + 2 * out, sizeof *buf);
	if (pa == NULL || pb == NULL || buf == NULL)
		abort();
	compare_arrays("parameters changed in the round trip",
	               lupi_model_get_params(a, pa, np), pa,
	               lupi_model_get_params(b, pb, np), pb, np);
	float *ma = buf, *sa = buf + in, *mb = buf + 2 * in, *sb = buf + 3 * in;
	int ra = lupi_model_get_standardizer(a, ma, sa);
	int rb = lupi_model_get_standardizer(b, mb, sb);
	compare_arrays("standardisation changed in the round trip", ra, ma, rb,
	               mb, in);
	compare_arrays("standardisation changed in the round trip", ra, sa, rb,
	               sb, in);
	/* Same input for both models: the first row of buf, reused. */
	for (size_t j = 0; j < in; j++)
		buf[j] = (float)j * 0.25f - 1.0f;
	float *ya = buf + 4 * in, *yb = ya + out;
	compare_arrays(
	    "the reloaded model predicts other bits",
	    lupi_model_predict(a, buf, 1, in, LUPI_PREDICT_LOGITS, ya), ya,
	    lupi_model_predict(b, buf, 1, in, LUPI_PREDICT_LOGITS, yb), yb,
	    out);
	free(pa);
	free(pb);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lupi_model *m1 = NULL, *m2 = NULL;
	int initialized = 1;
	list_keys();
	if (lupi_model_load_memory(data, size, &m1) != LUPI_OK) {
		fuzz_in in = {data, size};
		m1 = build(&in, &initialized);
	}
	void *b1 = NULL, *b2 = NULL;
	size_t n1 = 0, n2 = 0;
	if (save(m1, initialized, &b1, &n1) != LUPI_OK)
		goto done;
	int rc = lupi_model_load_memory(b1, n1, &m2);
	if (rc != LUPI_OK)
		fuzz_fail("a saved model does not load again", rc);
	if (save(m2, 1, &b2, &n2) != LUPI_OK)
		goto done;
	if (n1 != n2 || memcmp(b1, b2, n1) != 0)
		fuzz_fail("save(load(save(m))) differs from save(m)", 0);
	compare_models(m1, m2);
done:
	lupi_free(b1);
	lupi_free(b2);
	lupi_model_free(m1);
	lupi_model_free(m2);
	return 0;
}
