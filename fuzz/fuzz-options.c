/* The option setters of models, losses and readers, driven by a sequence of
 * records, with a few actions in between (a training step, a loss
 * evaluation, a student step, a clone, a load) that run under whatever the
 * options became. Properties: setters return only their documented codes,
 * a successful set is read back by the getter, a refused one changes
 * nothing, a failure always leaves a message, and nothing crashes.
 *
 * Input: one byte choosing the model's task (bits 3-4) and the loss kind
 * (bits 0-2), then records [op][key][value]:
 *   op bits 0-1  object: 0 model, 1 loss, 2 reader, 3 action (key % 13)
 *   op bit  2    0 the int setter, 1 the double setter
 *   op bits 3-4  value: 0 eight raw bytes, 1 a one-byte index into a table
 *                of edge values, 2 one signed byte, 3 four bytes (int32;
 *                divided by 16 for doubles)
 *   key          b < 128: b - 8; else b - 36 (so 92..219 reaches the real
 *                keys 101..110)
 * Actions take a four-byte argument. At most 64 records are run. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define N 6
#define D 3
#define DP 2
#define MAX_RECORDS 64

/* clang-format off */
static const double edge_doubles[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, 1e-12, 1e-300, 5e-324, 1e3, 1000.0000001,
	1e300, DBL_MAX, INFINITY, -INFINITY, NAN, 0.999999, 1e-3, 65536.0,
	65537.0, 1048576.0, 2.0, 4.0, 0.07, -1e-9, 1e9, 0.1, 100.0, 1e-8,
};
static const int64_t edge_ints[] = {
	0, 1, -1, 2, 3, 4, 5, 6, 7, 64, 4096, 65536, 65537, 1048576, 1048577,
	1000000, 1000001, INT32_MAX, (int64_t)INT32_MAX + 1, INT64_MAX,
	INT64_MIN, UINT32_MAX, 128, 129,
};
/* clang-format on */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct world {
	int task, loss_kind;
	lupi_model *model;
	lupi_loss *loss;
	lupi_reader *reader;
	fuzz_reader_cfg cfg;
	const lupi_dataset *ds;
} world;

/* ---- fixed data, one dataset per task ---------------------------------- */

static size_t task_outputs(int task)
{
	return task == LUPI_TASK_BINARY ? 1 : 3;
}

static lupi_dataset *make_dataset(int task)
{
	float x[N * D], xp[N * DP], y[N * 3];
	int32_t labels[N];
	static const uint8_t mask[N] = {1, 1, 1, 0, 1, 1};
	for (int i = 0; i < N * D; i++)
		x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
	for (int i = 0; i < N * DP; i++)
		xp[i] = (float)((i * 5) % 7) / 3.0f - 1.0f;
	for (int i = 0; i < N * 3; i++)
		y[i] = (float)(i % 4) - 1.5f;
	for (int i = 0; i < N; i++)
		labels[i] = task == LUPI_TASK_BINARY ? i % 2 : i % 3;
	lupi_dataset *ds = NULL;
	if (lupi_dataset_create(N, D, x, &ds) != LUPI_OK ||
	    lupi_dataset_set_privileged(ds, DP, xp, mask) != LUPI_OK)
		abort();
	int rc =
	    task == LUPI_TASK_REGRESSION
	        ? lupi_dataset_set_targets(ds, 3, y)
	        : lupi_dataset_set_labels(ds, task_outputs(task) == 1 ? 2 : 3,
	                                  labels, task == LUPI_TASK_BINARY);
	if (rc != LUPI_OK)
		abort();
	return ds;
}

static const lupi_dataset *dataset_for(int task)
{
	static lupi_dataset *cache[4];
	if (cache[task] == NULL)
		cache[task] = make_dataset(task);
	return cache[task];
}

/* ---- values -------------------------------------------------------------- */

static void read_value(fuzz_in *in, int enc, int is_double, int64_t *iv,
                       double *dv)
{
	uint8_t b;
	uint64_t raw;
	switch (enc) {
	case 0:
		raw = fuzz_u64(in);
		memcpy(dv, &raw, sizeof *dv);
		*iv = (int64_t)raw;
		return;
	case 1:
		b = fuzz_u8(in);
		*dv = edge_doubles[b % COUNT(edge_doubles)];
		*iv = edge_ints[b % COUNT(edge_ints)];
		return;
	case 2:
		*iv = (int8_t)fuzz_u8(in);
		*dv = (double)*iv;
		return;
	default:
		*iv = (int32_t)fuzz_u32(in);
		*dv = (double)*iv / 16.0;
		(void)is_double;
		return;
	}
}

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0 || a == b;
}

/* ---- setters with read-back -----------------------------------------------
 */

typedef int (*set_int_fn)(void *obj, int key, int64_t v);
typedef int (*get_int_fn)(const void *obj, int key, int64_t *v);
typedef int (*set_dbl_fn)(void *obj, int key, double v);
typedef int (*get_dbl_fn)(const void *obj, int key, double *v);

static const int getter_codes[] = {LUPI_OK, LUPI_EUNKNOWN_OPTION};

static void check_int(const char *name, void *obj, set_int_fn set,
                      get_int_fn get, const int *codes, size_t ncodes, int key,
                      int64_t v)
{
	int64_t before = 0, after = 0;
	int gb = get(obj, key, &before);
	fuzz_expect(name, gb, getter_codes, COUNT(getter_codes));
	int rc = set(obj, key, v);
	fuzz_expect(name, rc, codes, ncodes);
	int ga = get(obj, key, &after);
	if (ga != gb)
		fuzz_fail("getter answer changed with a set", ga);
	if (rc == LUPI_OK && ga == LUPI_OK && after != v)
		fuzz_fail("int option does not read back what was set", rc);
	if (rc != LUPI_OK && ga == LUPI_OK && after != before)
		fuzz_fail("a refused int option changed the value", rc);
	if (rc == LUPI_OK && ga != LUPI_OK)
		fuzz_fail("set_int accepted a key get_int does not know", ga);
}

static void check_double(const char *name, void *obj, set_dbl_fn set,
                         get_dbl_fn get, const int *codes, size_t ncodes,
                         int key, double v)
{
	double before = 0, after = 0;
	int gb = get(obj, key, &before);
	fuzz_expect(name, gb, getter_codes, COUNT(getter_codes));
	int rc = set(obj, key, v);
	fuzz_expect(name, rc, codes, ncodes);
	int ga = get(obj, key, &after);
	if (ga != gb)
		fuzz_fail("getter answer changed with a set", ga);
	if (rc == LUPI_OK && !isfinite(v))
		fuzz_fail("a non-finite double option was accepted", rc);
	if (rc == LUPI_OK && ga == LUPI_OK && !same_double(after, v))
		fuzz_fail("double option does not read back what was set", rc);
	if (rc != LUPI_OK && ga == LUPI_OK && !same_double(after, before))
		fuzz_fail("a refused double option changed the value", rc);
	if (rc == LUPI_OK && ga != LUPI_OK)
		fuzz_fail("set_double accepted a key get_double does not know",
		          ga);
}

static int m_set_i(void *o, int k, int64_t v)
{
	return lupi_model_set_int(o, k, v);
}
static int m_get_i(const void *o, int k, int64_t *v)
{
	return lupi_model_get_int(o, k, v);
}
static int m_set_d(void *o, int k, double v)
{
	return lupi_model_set_double(o, k, v);
}
static int m_get_d(const void *o, int k, double *v)
{
	return lupi_model_get_double(o, k, v);
}
static int l_set_i(void *o, int k, int64_t v)
{
	return lupi_loss_set_int(o, k, v);
}
static int l_get_i(const void *o, int k, int64_t *v)
{
	return lupi_loss_get_int(o, k, v);
}
static int l_set_d(void *o, int k, double v)
{
	return lupi_loss_set_double(o, k, v);
}
static int l_get_d(const void *o, int k, double *v)
{
	return lupi_loss_get_double(o, k, v);
}

static const int model_set_codes[] = {LUPI_OK, LUPI_EUNKNOWN_OPTION,
                                      LUPI_ERANGE, LUPI_ESTATE};
static const int loss_set_codes[] = {LUPI_OK, LUPI_EUNKNOWN_OPTION,
                                     LUPI_ERANGE};

static void set_reader(world *w, int is_double, int key, int64_t iv, double dv)
{
	if (is_double)
		iv = (int64_t)(isfinite(dv) && fabs(dv) < 1e18 ? dv : 0);
	int rc = lupi_reader_set_int(w->reader, key, iv);
	fuzz_expect("lupi_reader_set_int", rc, loss_set_codes,
	            COUNT(loss_set_codes));
	if (rc == LUPI_OK && key == LUPI_READER_OPT_ALLOW_NONFINITE)
		w->cfg.allow_nonfinite = iv != 0;
	if (rc == LUPI_OK && key == LUPI_READER_OPT_MAX_ROWS)
		w->cfg.max_rows = iv;
}

/* ---- actions ------------------------------------------------------------- */

/* Compound calls may fail in many documented ways; any LUPI_E* code with a
 * message is fine, anything else is not. */
static void expect_any_code(const char *call, int rc)
{
	fuzz_trace(call, rc);
	if (rc > 0 || rc < LUPI_EMISMATCH)
		fuzz_fail(call, rc);
	if (rc < 0 && lupi_errmsg()[0] == '\0')
		fuzz_fail(call, rc);
}

static void act_step(world *w)
{
	static const size_t idx[N] = {0, 1, 2, 3, 4, 5};
	double v;
	expect_any_code("lupi_model_step",
	                lupi_model_step(w->model, w->ds, idx, N, &v));
}

static void act_loss_eval(world *w, uint32_t arg)
{
	size_t k = 3;
	float s[4 * 3], t[4 * 3], g[4 * 3], y[4 * 3];
	int32_t labels[4] = {0, 1, 2, (int32_t)((arg + 1) % 5) - 1};
	uint8_t has[4] = {1, (uint8_t)(arg >> 8 & 1), 1, 0};
	for (int i = 0; i < 12; i++) {
		s[i] = (float)((i * 3 + (int)(arg >> 16 & 7)) % 5) - 2.0f;
		t[i] = (float)((i * 7) % 5) - 2.0f;
		y[i] = (float)(i % 3);
	}
	int reg = w->loss_kind == LUPI_LOSS_REGRESSION;
	double v;
	expect_any_code("lupi_loss_eval",
	                lupi_loss_eval(w->loss, 4, k, s, t, reg ? NULL : labels,
	                               reg ? y : NULL, NULL,
	                               arg >> 9 & 1 ? has : NULL, &v, g));
}

static void act_feature_eval(world *w, uint32_t arg)
{
	float fs[4 * 4], ft[4 * 3], g[4 * 4];
	for (int i = 0; i < 16; i++)
		fs[i] = (float)((i * 5) % 9) / 4.0f - 1.0f;
	for (int i = 0; i < 12; i++)
		ft[i] = (float)((i * 2) % 7) / 3.0f - 1.0f;
	double v;
	expect_any_code("lupi_loss_eval_features",
	                lupi_loss_eval_features(w->loss, 4, 4, fs, 3, ft, NULL,
	                                        arg & 1, &v, g));
}

static void act_student_step(world *w, uint32_t arg)
{
	static const size_t idx[N] = {5, 4, 3, 2, 1, 0};
	lupi_teacher *t = NULL;
	if (lupi_teacher_create(&t) != LUPI_OK)
		return;
	size_t k = task_outputs(w->task);
	float out[N * 3];
	for (size_t i = 0; i < N * k; i++)
		out[i] = (float)(i % 5) - 2.0f;
	if (arg & 1)
		expect_any_code("lupi_teacher_add_outputs",
		                lupi_teacher_add_outputs(t, w->ds, out, k,
		                                         LUPI_OUTPUTS_LOGITS,
		                                         1.0));
	double v;
	expect_any_code("lupi_student_step",
	                lupi_student_step(w->model, arg & 2 ? NULL : t, w->loss,
	                                  w->ds, idx, N, &v));
	lupi_teacher_free(t);
}

static void act_clone(world *w)
{
	lupi_model *c = NULL;
	int rc = lupi_model_clone(w->model, &c);
	expect_any_code("lupi_model_clone", rc);
	if (rc != LUPI_OK)
		return;
	for (int key = 0; key < 120; key++) {
		int64_t a = 0, b = 0;
		double x = 0, y = 0;
		if (lupi_model_get_int(w->model, key, &a) !=
		        lupi_model_get_int(c, key, &b) ||
		    a != b)
			fuzz_fail("a clone has another int option", key);
		if (lupi_model_get_double(w->model, key, &x) !=
		        lupi_model_get_double(c, key, &y) ||
		    !same_double(x, y))
			fuzz_fail("a clone has another double option", key);
	}
	lupi_model_free(c);
}

static void act_load_csv(world *w)
{
	static const char csv[] = "a,p,y\n"
	                          "1,2,0\n"
	                          "\"3\",,1\n"
	                          "5,6e0,2\n"
	                          "nan,8,1\n";
	lupi_dataset *ds = (lupi_dataset *)1;
	int rc = lupi_dataset_load_csv(
	    fuzz_file(0, (const uint8_t *)csv, sizeof csv - 1), w->reader, &ds);
	fuzz_loaded("lupi_dataset_load_csv", rc, ds, &w->cfg);
}

/* Stops training after arg calls when arg is not 0. */
static int progress(void *user, const lupi_progress *p)
{
	uint32_t *left = user;
	if (p->epoch == 0 || p->epoch > p->epochs)
		fuzz_fail("progress: epoch out of [1, epochs]", (int)p->epoch);
	return *left != 0 && --*left == 0;
}

/* lupi_model_fit under the fuzzed options (schedules, patience, restoring
 * the best weights, progress steps...), kept short: at most 4 epochs. */
static void act_fit(world *w, uint32_t arg)
{
	int64_t epochs = 0;
	lupi_model_get_int(w->model, LUPI_MODEL_OPT_EPOCHS, &epochs);
	if (epochs > 4)
		return;
	uint32_t left = arg & 7;
	expect_any_code("lupi_model_fit",
	                lupi_model_fit(w->model, w->ds, arg & 8 ? w->ds : NULL,
	                               arg & 16 ? progress : NULL, &left));
}

/* Metrics and the confusion matrix of whatever the model is now. */
static void act_evaluate(world *w)
{
	uint64_t counts[9];
	for (int metric = -1; metric <= LUPI_METRIC_MAE + 1; metric++) {
		double v;
		expect_any_code(
		    "lupi_model_evaluate",
		    lupi_model_evaluate(w->model, w->ds, metric, &v));
	}
	if (w->task == LUPI_TASK_BINARY || w->task == LUPI_TASK_CLASSIFICATION)
		expect_any_code("lupi_model_confusion",
		                lupi_model_confusion(w->model, w->ds, counts));
}

static void act(world *w, int what, uint32_t arg)
{
	static const int role_codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_ENOMEM};
	static const int layer_codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_ERANGE,
	                                  LUPI_ESTATE};
	static const int col_codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_ERANGE,
	                                LUPI_ENOMEM};
	size_t cols[3] = {arg >> 8 & 7, arg >> 12 & 7, arg >> 16 & 7};
	switch (what) {
	case 0:
		act_step(w);
		break;
	case 1:
		act_loss_eval(w, arg);
		break;
	case 2:
		act_feature_eval(w, arg);
		break;
	case 3:
		expect_any_code("lupi_model_init", lupi_model_init(w->model));
		break;
	case 4:
		act_student_step(w, arg);
		break;
	case 5:
		fuzz_expect("lupi_reader_set_role",
		            lupi_reader_set_role(w->reader, arg & 0xff,
		                                 arg >> 8 & 0xff,
		                                 (int8_t)(arg >> 16)),
		            role_codes, COUNT(role_codes));
		break;
	case 6:
		fuzz_expect("lupi_model_set_layer_activation",
		            lupi_model_set_layer_activation(w->model, arg & 3,
		                                            (int8_t)(arg >> 8)),
		            layer_codes, COUNT(layer_codes));
		break;
	case 7:
		fuzz_expect("lupi_loss_set_columns",
		            lupi_loss_set_columns(
		                w->loss, arg & 4 ? NULL : cols, arg & 3),
		            col_codes, COUNT(col_codes));
		break;
	case 8:
		act_clone(w);
		break;
	case 9: {
		float out[2 * 3];
		expect_any_code(
		    "lupi_model_predict",
		    lupi_model_predict(
		        w->model,
		        lupi_dataset_features(w->ds, LUPI_VIEW_REGULAR), 2,
		        (int)(arg & 1), out));
		break;
	}
	case 10:
		act_load_csv(w);
		break;
	case 11:
		act_fit(w, arg);
		break;
	default:
		act_evaluate(w);
		break;
	}
}

/* ---- driver ---------------------------------------------------------------
 */

static void record(world *w, fuzz_in *in)
{
	uint8_t op = fuzz_u8(in), kb = fuzz_u8(in);
	int obj = op & 3, is_double = op >> 2 & 1, enc = op >> 3 & 3;
	int key = kb < 128 ? (int)kb - 8 : (int)kb - 36;
	if (obj == 3) {
		act(w, kb % 13, fuzz_u32(in));
		return;
	}
	int64_t iv;
	double dv;
	read_value(in, enc, is_double, &iv, &dv);
	if (obj == 2) {
		set_reader(w, is_double, key, iv, dv);
	} else if (obj == 0 && !is_double) {
		check_int("lupi_model_set_int", w->model, m_set_i, m_get_i,
		          model_set_codes, COUNT(model_set_codes), key, iv);
	} else if (obj == 0) {
		check_double("lupi_model_set_double", w->model, m_set_d,
		             m_get_d, model_set_codes, COUNT(model_set_codes),
		             key, dv);
	} else if (!is_double) {
		check_int("lupi_loss_set_int", w->loss, l_set_i, l_get_i,
		          loss_set_codes, COUNT(loss_set_codes), key, iv);
	} else {
		check_double("lupi_loss_set_double", w->loss, l_set_d, l_get_d,
		             loss_set_codes, COUNT(loss_set_codes), key, dv);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int tasks[] = {LUPI_TASK_CLASSIFICATION, LUPI_TASK_BINARY,
	                            LUPI_TASK_REGRESSION,
	                            LUPI_TASK_CLASSIFICATION};
	static const size_t hidden[] = {4};
	fuzz_in in = {data, size};
	uint8_t first = fuzz_u8(&in);
	world w = {0};
	w.task = tasks[first >> 3 & 3];
	w.loss_kind = first & 7;
	w.ds = dataset_for(w.task);
	if (lupi_model_create(w.task, D, hidden, 1, task_outputs(w.task),
	                      &w.model) != LUPI_OK)
		abort();
	if (lupi_loss_create(w.loss_kind, &w.loss) != LUPI_OK) {
		if (w.loss_kind <= LUPI_LOSS_REGRESSION)
			fuzz_fail("lupi_loss_create refused a kind",
			          w.loss_kind);
		w.loss_kind = LUPI_LOSS_KD;
		if (lupi_loss_create(w.loss_kind, &w.loss) != LUPI_OK)
			abort();
	}
	if (lupi_reader_create(&w.reader) != LUPI_OK)
		abort();
	for (int i = 0; i < MAX_RECORDS && in.n > 0; i++)
		record(&w, &in);
	lupi_reader_free(w.reader);
	lupi_loss_free(w.loss);
	lupi_model_free(w.model);
	return 0;
}
