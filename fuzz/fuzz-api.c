/* Stateful API fuzzer: the input drives a sequence of calls on a small
 * pool of handles - datasets made from small generated arrays, models,
 * losses, teachers - creating, configuring, training (tiny epochs),
 * stepping, taking gradients, preparing teachers, distilling, saving to
 * and loading from memory, predicting and freeing them in any order.
 * After each call:
 * - the status is LUPI_OK or a LUPI_E* code with a message, and a failed
 *   constructor leaves *out NULL;
 * - predictions, losses and gradients that are returned are finite;
 * - a model loaded from the bytes it was saved to predicts bit-identically
 *   to the saved one and saves to the same bytes; a clone predicts
 *   bit-identically to its original;
 * - classes are in range, a subset has the rows asked for.
 * ASan + UBSan (libFuzzer build) watch memory and undefined behaviour.
 *
 * Input: byte 0 picks the task (bits 0-1: classification, binary,
 * regression) and the width of X (bits 2-3, + 1) and of X* (bits 4-5, + 1);
 * then records of one op byte (bits 0-4 % 20 the operation, bits 5-7 % 3
 * the slot of the pool it works on) followed by
 * the op's argument bytes, read as needed (reads past the end give 0).
 * At most 48 records run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define SLOTS 3
#define MAXN 12
#define MAXD 4
#define MAX_RECORDS 48
#define MAX_K 4
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct pool {
	int task;
	size_t d, dp, k; /* k: outputs of a model of the task */
	lupi_dataset *ds[SLOTS];
	lupi_model *m[SLOTS];
	lupi_loss *loss[SLOTS];
	lupi_teacher *t[SLOTS];
} pool;

static void check_code(const char *call, int rc)
{
	fuzz_trace(call, rc);
	if (rc > 0 || (rc < 0 && lupi_errname(rc) == NULL))
		fuzz_fail("a status that is not a LUPI_E* code", rc);
	if (rc < 0 && lupi_errmsg()[0] == '\0')
		fuzz_fail("a failure without a message", rc);
}

static void check_out(const char *call, int rc, const void *out)
{
	check_code(call, rc);
	if (rc != LUPI_OK && out != NULL)
		fuzz_fail("a failed constructor left *out set", rc);
	if (rc == LUPI_OK && out == NULL)
		fuzz_fail("a constructor succeeded without *out", rc);
}

static void check_finite(const char *what, const float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			fuzz_fail(what, 0);
}

/* A float from a byte: small values, with NaN and infinities reachable. */
static float fbyte(uint8_t b)
{
	if (b == 0xff)
		return NAN;
	if (b == 0xfe)
		return INFINITY;
	if (b == 0xfd)
		return 1e30f;
	return ((float)b - 128.0f) / 32.0f;
}

/* ---- datasets -------------------------------------------------------------
 */

/* [slot][n][flags] then values from the input: flags bit 0 X*, bit 1 mask,
 * bit 2 targets of the task, bit 3 weights, bit 4 take features from the
 * input (else a fixed pattern), bit 5 another task's targets. */
static void op_dataset(pool *p, fuzz_in *in, int slot)
{
	size_t n = 1 + fuzz_u8(in) % MAXN;
	uint8_t fl = fuzz_u8(in);
	float x[MAXN * MAXD], xp[MAXN * MAXD], y[MAXN * MAX_K], w[MAXN];
	int32_t lab[MAXN];
	uint8_t mask[MAXN];
	for (size_t i = 0; i < n * MAXD; i++) {
		x[i] = fl & 16 ? fbyte(fuzz_u8(in))
		               : (float)((i * 7) % 11) / 5.0f - 1.0f;
		xp[i] = (float)((i * 5) % 7) / 3.0f - 1.0f;
	}
	for (size_t i = 0; i < n; i++) {
		lab[i] = (int32_t)(i % p->k);
		if (p->task == LUPI_TASK_BINARY)
			lab[i] = (int32_t)(i % 2);
		mask[i] = fl & 2 ? (uint8_t)(i % 3 != 1) : 1;
		w[i] = fl & 8 ? (float)(i % 3) : 1.0f;
	}
	for (size_t i = 0; i < n * MAX_K; i++)
		y[i] = (float)(i % 5) - 2.0f;
	lupi_dataset_free(p->ds[slot]);
	p->ds[slot] = NULL;
	lupi_dataset *ds = NULL;
	int rc = lupi_dataset_create(n, p->d, x, &ds);
	check_out("lupi_dataset_create", rc, ds);
	if (rc != LUPI_OK)
		return;
	if (fl & 1)
		check_code("lupi_dataset_set_privileged",
		           lupi_dataset_set_privileged(ds, p->dp, xp,
		                                       fl & 2 ? mask : NULL));
	int task = fl & 32 ? (p->task + 1) % 3 + 1 : p->task;
	if (fl & 4) {
		if (task == LUPI_TASK_REGRESSION)
			rc = lupi_dataset_set_targets(ds, p->k, y);
		else if (task == LUPI_TASK_BINARY)
			rc = lupi_dataset_set_binary_labels(ds, lab);
		else
			rc = lupi_dataset_set_labels(ds, p->k < 2 ? 2 : p->k,
			                             lab);
		check_code("lupi_dataset_set_targets/labels", rc);
	}
	if (fl & 8)
		check_code("lupi_dataset_set_weights",
		           lupi_dataset_set_weights(ds, w));
	p->ds[slot] = ds;
}

/* ---- models ---------------------------------------------------------------
 */

/* [hidden count][sizes][view][activation] */
static void op_model(pool *p, fuzz_in *in, int slot)
{
	size_t hidden[2] = {1 + fuzz_u8(in) % 5, 1 + fuzz_u8(in) % 5};
	size_t nh = fuzz_u8(in) % 3;
	int view = fuzz_u8(in) % 4; /* 3: out of range */
	size_t in_d = view == LUPI_VIEW_PRIVILEGED ? p->dp
	              : view == LUPI_VIEW_BOTH     ? p->d + p->dp
	                                           : p->d;
	lupi_model_free(p->m[slot]);
	p->m[slot] = NULL;
	lupi_model *m = NULL;
	size_t out = p->task == LUPI_TASK_BINARY ? 1 : p->k;
	int rc = lupi_model_create(p->task, in_d, hidden, nh, out, &m);
	check_out("lupi_model_create", rc, m);
	if (rc != LUPI_OK)
		return;
	check_code("lupi_model_set_int(VIEW)",
	           lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view));
	check_code("lupi_model_set_int(EPOCHS)",
	           lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1));
	check_code("lupi_model_set_int(BATCH)",
	           lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 4));
	p->m[slot] = m;
}

/* A key of the model, loss or layer table by index, or a near miss. */
static int pick_key(int handle, uint8_t b)
{
	int keys[64];
	size_t n = 0;
	for (const lupi_option *o = lupi_option_next(handle, NULL);
	     o != NULL && n < COUNT(keys); o = lupi_option_next(handle, o))
		keys[n++] = o->key;
	if (b >= 240 || n == 0)
		return handle * 1000 + (b & 15) * 7;
	return keys[b % n];
}

static int64_t pick_int(const lupi_option *o, uint8_t b, fuzz_in *in)
{
	if (o == NULL || b >= 200)
		return (int64_t)fuzz_u64(in);
	switch (b % 4) {
	case 0:
		return o->int_min;
	case 1:
		/* small values keep fits short */
		return o->int_min + (int64_t)(b >> 2) % 4;
	case 2:
		return o->int_default;
	default:
		return o->int_max;
	}
}

/* [key][value selector][value] on a model, a layer or a loss. */
static void op_option(pool *p, fuzz_in *in, int slot, int handle)
{
	uint8_t kb = fuzz_u8(in), vb = fuzz_u8(in);
	int key = pick_key(handle, kb);
	const lupi_option *o = lupi_option_by_key(key);
	int rc;
	if (o != NULL && o->type == LUPI_TYPE_DOUBLE) {
		double v = vb & 1 ? o->real_default
		                  : o->real_min + (o->real_max - o->real_min) *
		                                      (double)(vb >> 1) / 127.0;
		if (vb == 0xff) {
			uint64_t raw = fuzz_u64(in);
			memcpy(&v, &raw, sizeof v);
		}
		rc = handle == LUPI_HANDLE_LOSS
		         ? lupi_loss_set_double(p->loss[slot], key, v)
		         : lupi_model_set_double(p->m[slot], key, v);
		check_code("set_double", rc);
		return;
	}
	int64_t v = pick_int(o, vb, in);
	/* Keep training short whatever the options say. */
	if (key == LUPI_MODEL_OPT_EPOCHS && (v < 1 || v > 3))
		v = 2;
	if (handle == LUPI_HANDLE_LOSS)
		rc = lupi_loss_set_int(p->loss[slot], key, v);
	else if (handle == LUPI_HANDLE_LAYER)
		rc = lupi_model_set_layer_int(p->m[slot], fuzz_u8(in) % 4, key,
		                              v);
	else
		rc = lupi_model_set_int(p->m[slot], key, v);
	check_code("set_int", rc);
}

/* [count][indices] */
static size_t read_idx(fuzz_in *in, const lupi_dataset *ds, size_t *idx)
{
	size_t n = 1 + fuzz_u8(in) % MAXN;
	size_t rows = lupi_dataset_rows(ds);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = fuzz_u8(in);
		/* 0xff: an index out of range */
		idx[i] = b == 0xff ? rows : (rows ? b % rows : b);
	}
	return n;
}

static void op_step(pool *p, fuzz_in *in, int slot)
{
	lupi_dataset *ds = p->ds[fuzz_u8(in) % SLOTS];
	size_t idx[MAXN];
	size_t n = read_idx(in, ds, idx);
	double v = NAN;
	int rc = lupi_model_step(p->m[slot], ds, idx, n, &v);
	check_code("lupi_model_step", rc);
	if (rc == LUPI_OK && !isfinite(v))
		fuzz_fail("a step returned a non-finite loss", rc);
}

static void op_gradient(pool *p, fuzz_in *in, int slot, int student)
{
	lupi_model *m = p->m[slot];
	uint8_t b = fuzz_u8(in);
	lupi_dataset *ds = p->ds[b % SLOTS];
	size_t idx[MAXN];
	size_t n = read_idx(in, ds, idx);
	size_t np = lupi_model_num_params(m);
	size_t n_grad = np + (b >> 7);
	float *g = calloc(n_grad + 1, sizeof *g);
	double v = NAN;
	if (g == NULL)
		abort();
	int rc = student ? lupi_student_gradient(m, p->t[b >> 2 & 1],
	                                         p->loss[b >> 3 & 1], ds, idx,
	                                         n, &v, g, n_grad)
	                 : lupi_model_gradient(m, ds, idx, n, &v, g, n_grad);
	check_code(student ? "lupi_student_gradient" : "lupi_model_gradient",
	           rc);
	if (rc == LUPI_OK) {
		if (n_grad != np)
			fuzz_fail("a gradient of the wrong length was accepted",
			          rc);
		check_finite("a non-finite gradient was returned", g, np);
		if (!isfinite(v))
			fuzz_fail("a gradient with a non-finite loss", rc);
		if (b & 0x40)
			check_code("lupi_model_apply_gradient",
			           lupi_model_apply_gradient(m, g, np));
	}
	free(g);
}

static int stop_after(void *user, const lupi_progress *pr)
{
	unsigned *left = user;
	if (pr->epoch < 1 || pr->epoch > pr->epochs)
		fuzz_fail("progress epoch outside [1, epochs]", (int)pr->epoch);
	return (*left)-- == 0;
}

/* Fits only when it is short: epochs x steps per epoch <= 64. */
static int short_fit(const lupi_model *m, const lupi_dataset *ds)
{
	int64_t epochs = 0, batch = 1;
	if (lupi_model_get_int(m, LUPI_MODEL_OPT_EPOCHS, &epochs) != LUPI_OK ||
	    lupi_model_get_int(m, LUPI_MODEL_OPT_BATCH, &batch) != LUPI_OK)
		return m == NULL;
	size_t rows = lupi_dataset_rows(ds);
	return epochs * (int64_t)((rows + (size_t)batch - 1) / (size_t)batch) <=
	       64;
}

static void op_fit(pool *p, fuzz_in *in, int slot, int student)
{
	uint8_t b = fuzz_u8(in);
	lupi_model *m = p->m[slot];
	lupi_dataset *train = p->ds[b % SLOTS];
	lupi_dataset *valid = b & 4 ? p->ds[(b >> 3) % SLOTS] : NULL;
	unsigned left = b >> 5;
	if (!short_fit(m, train))
		return;
	int rc = student ? lupi_student_fit(m, p->t[b >> 6 & 1],
	                                    p->loss[b >> 7], train, valid,
	                                    b & 0x10 ? stop_after : NULL,
	                                    &left)
	                 : lupi_model_fit(m, train, valid,
	                                  b & 0x10 ? stop_after : NULL, &left);
	check_code(student ? "lupi_student_fit" : "lupi_model_fit", rc);
}

/* ---- predictions and their invariants ----------------------------------- */

/* Predicts MAXN fixed rows; returns the status, out holds MAXN * k. */
static int predict_fixed(const lupi_model *m, float *out, int32_t *cls)
{
	float x[MAXN * 2 * MAXD];
	size_t d = lupi_model_inputs(m);
	for (size_t i = 0; i < MAXN * 2 * MAXD; i++)
		x[i] = (float)((i * 13) % 17) / 8.0f - 1.0f;
	int rc = lupi_model_predict(m, x, MAXN, d, LUPI_PREDICT_OUTPUT, out);
	check_code("lupi_model_predict", rc);
	if (rc == LUPI_OK) {
		check_finite("a non-finite prediction", out,
		             MAXN * lupi_model_outputs(m));
		if (cls != NULL && lupi_model_task(m) != LUPI_TASK_REGRESSION) {
			size_t k = lupi_model_task(m) == LUPI_TASK_BINARY
			               ? 2
			               : lupi_model_outputs(m);
			int rc2 = lupi_model_predict_class(m, x, MAXN, d, cls);
			check_code("lupi_model_predict_class", rc2);
			for (size_t i = 0; rc2 == LUPI_OK && i < MAXN; i++)
				if (cls[i] < 0 || (size_t)cls[i] >= k)
					fuzz_fail("a class out of range", cls[i]);
		}
	}
	return rc;
}

static void same_predictions(const lupi_model *a, const lupi_model *b,
                             const char *what)
{
	float pa[MAXN * MAX_K * 2], pb[MAXN * MAX_K * 2];
	int ra = predict_fixed(a, pa, NULL), rb = predict_fixed(b, pb, NULL);
	if (ra != rb)
		fuzz_fail(what, rb);
	if (ra == LUPI_OK &&
	    memcmp(pa, pb, MAXN * lupi_model_outputs(a) * sizeof *pa) != 0)
		fuzz_fail(what, 0);
}

static void op_predict(pool *p, int slot)
{
	float out[MAXN * MAX_K * 2];
	int32_t cls[MAXN];
	if (p->m[slot] != NULL)
		predict_fixed(p->m[slot], out, cls);
	else
		check_code("lupi_model_predict(NULL)",
		           lupi_model_predict(NULL, out, 1, 1, 0, out));
}

/* Save to memory, load, compare; optionally replace the slot's model by
 * the loaded copy (a round trip must lose nothing predictions see). */
static void op_roundtrip(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_model *m = p->m[slot];
	void *buf = NULL, *buf2 = NULL;
	size_t size = 0, size2 = 0;
	int rc = lupi_model_save_memory(m, &buf, &size);
	check_code("lupi_model_save_memory", rc);
	if (rc != LUPI_OK)
		return;
	lupi_model *copy = NULL;
	/* b & 1: a truncated or corrupted buffer must be refused cleanly */
	size_t len = b & 1 ? (size_t)(b >> 1) % (size + 1) : size;
	if (b & 1 && len == size && size > 0)
		((unsigned char *)buf)[(b >> 1) % size] ^= 0x5a;
	rc = lupi_model_load_memory(buf, len, &copy);
	check_out("lupi_model_load_memory", rc, copy);
	if (!(b & 1) && rc != LUPI_OK)
		fuzz_fail("saved bytes do not load", rc);
	if (!(b & 1)) {
		same_predictions(m, copy,
		                 "a loaded model predicts unlike the saved one");
		rc = lupi_model_save_memory(copy, &buf2, &size2);
		check_code("lupi_model_save_memory(copy)", rc);
		if (rc != LUPI_OK || size2 != size ||
		    memcmp(buf, buf2, size) != 0)
			fuzz_fail("a loaded model saves to other bytes", rc);
		lupi_free(buf2);
		if (b & 2) {
			lupi_model_free(p->m[slot]);
			p->m[slot] = copy;
			copy = NULL;
		}
	}
	lupi_model_free(copy);
	lupi_free(buf);
}

static void op_clone(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_model *c = NULL;
	int rc = lupi_model_clone(p->m[slot], &c);
	check_out("lupi_model_clone", rc, c);
	if (rc != LUPI_OK)
		return;
	same_predictions(p->m[slot], c, "a clone predicts unlike its original");
	int to = (b % SLOTS);
	lupi_model_free(p->m[to]);
	p->m[to] = c;
}

/* ---- losses and teachers -------------------------------------------------- */

static void op_loss(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_loss_free(p->loss[slot]);
	p->loss[slot] = NULL;
	lupi_loss *l = NULL;
	int rc = lupi_loss_create(b % 6, &l); /* 5: unknown kind */
	check_out("lupi_loss_create", rc, l);
	p->loss[slot] = l;
	if (rc == LUPI_OK && b & 8)
		check_code("lupi_loss_set_int(FEATURE)",
		           lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE,
		                             (b >> 4) % 7));
}

static void op_teacher(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	if (p->t[slot] == NULL || b & 1) {
		lupi_teacher_free(p->t[slot]);
		p->t[slot] = NULL;
		lupi_teacher *t = NULL;
		int rc = lupi_teacher_create(&t);
		check_out("lupi_teacher_create", rc, t);
		p->t[slot] = t;
	}
	if (b & 2) {
		check_code("lupi_teacher_add_model",
		           lupi_teacher_add_model(p->t[slot],
		                                  p->m[(b >> 2) % SLOTS],
		                                  (double)(b >> 4) / 4.0));
		return;
	}
	lupi_dataset *ds = p->ds[(b >> 2) % SLOTS];
	size_t n = lupi_dataset_rows(ds), k = 1 + (b >> 4) % MAX_K;
	float out[MAXN * MAX_K];
	for (size_t i = 0; i < MAXN * MAX_K; i++)
		out[i] = b & 0x80 ? fbyte(fuzz_u8(in))
		                  : b & 0x40 ? 1.0f / (float)k
		                             : (float)(i % 3);
	check_code("lupi_teacher_add_outputs",
	           lupi_teacher_add_outputs(p->t[slot], ds, n ? out : NULL, k,
	                                    b & 0x40 ? LUPI_OUTPUTS_PROBS
	                                             : LUPI_OUTPUTS_LOGITS,
	                                    1.0));
}

static void op_teacher_use(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_dataset *ds = p->ds[b % SLOTS];
	if (b & 4) {
		check_code("lupi_teacher_prepare",
		           lupi_teacher_prepare(p->t[slot], ds));
		return;
	}
	size_t idx[MAXN];
	size_t n = read_idx(in, ds, idx);
	float out[MAXN * MAX_K * 2];
	uint8_t has[MAXN];
	int rc = lupi_teacher_outputs(p->t[slot], ds, idx, n, out, has);
	check_code("lupi_teacher_outputs", rc);
	size_t k = lupi_teacher_num_outputs(p->t[slot]);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		if (!has[i])
			continue;
		for (size_t j = 0; j < k && getenv("FUZZ_TRACE"); j++)
			fprintf(stderr, "fuzz: teacher output %zu,%zu = %g\n",
			        idx[i], j, out[i * k + j]);
		check_finite("a non-finite teacher output", out + i * k, k);
	}
}

static void op_student_step(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_dataset *ds = p->ds[b % SLOTS];
	size_t idx[MAXN];
	size_t n = read_idx(in, ds, idx);
	double v = NAN;
	int rc = lupi_student_step(p->m[slot], b & 4 ? p->t[b >> 3 & 1] : NULL,
	                           p->loss[b >> 4 & 1], ds, idx, n, &v);
	check_code("lupi_student_step", rc);
	if (rc == LUPI_OK && !isfinite(v))
		fuzz_fail("a student step returned a non-finite loss", rc);
	if (b & 0x40) {
		rc = lupi_student_loss(p->m[slot], p->t[b >> 3 & 1],
		                       p->loss[b >> 4 & 1], ds, &v);
		check_code("lupi_student_loss", rc);
		if (rc == LUPI_OK && !isfinite(v))
			fuzz_fail("lupi_student_loss is not finite", rc);
	}
}

static void op_loss_eval(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	size_t n = 1 + b % MAXN, k = p->k < 2 ? 2 : p->k;
	float s[MAXN * MAX_K], t[MAXN * MAX_K], g[MAXN * MAX_K];
	int32_t lab[MAXN];
	for (size_t i = 0; i < n * k; i++) {
		s[i] = fbyte(fuzz_u8(in));
		t[i] = (float)(i % 5) - 2.0f;
	}
	for (size_t i = 0; i < n; i++)
		lab[i] = (int32_t)(i % k);
	double v = NAN;
	int reg = p->task == LUPI_TASK_REGRESSION;
	int rc = lupi_loss_eval(p->loss[slot], n, k, s, t, reg ? NULL : lab,
	                        reg ? t : NULL, NULL, NULL, &v, g);
	check_code("lupi_loss_eval", rc);
	if (rc == LUPI_OK) {
		if (!isfinite(v))
			fuzz_fail("lupi_loss_eval gave a non-finite value", rc);
		check_finite("lupi_loss_eval gave a non-finite gradient", g,
		             n * k);
	}
}

static void op_evaluate(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	double v = NAN;
	uint64_t counts[MAX_K * MAX_K];
	lupi_dataset *ds = p->ds[b % SLOTS];
	int rc = lupi_model_evaluate(p->m[slot], ds, (b >> 2) % 5, &v);
	check_code("lupi_model_evaluate", rc);
	if (rc == LUPI_OK && !(v >= 0))
		fuzz_fail("a metric that is negative or NaN", rc);
	if (lupi_model_outputs(p->m[slot]) <= MAX_K)
		check_code("lupi_model_confusion",
		           lupi_model_confusion(p->m[slot], ds, counts));
}

static void op_dataset_change(pool *p, fuzz_in *in, int slot)
{
	uint8_t b = fuzz_u8(in);
	lupi_dataset *ds = p->ds[slot], *a = NULL, *c = NULL;
	size_t idx[MAXN], n;
	float mean[2 * MAXD], std[2 * MAXD];
	int rc;
	switch (b % 4) {
	case 0:
		check_code("lupi_dataset_shuffle",
		           lupi_dataset_shuffle(ds, b >> 2));
		break;
	case 1:
		n = read_idx(in, ds, idx);
		rc = lupi_dataset_subset(ds, idx, n, &a);
		check_out("lupi_dataset_subset", rc, a);
		if (rc == LUPI_OK && lupi_dataset_rows(a) != n)
			fuzz_fail("a subset has other rows than asked", rc);
		if (rc == LUPI_OK) {
			lupi_dataset_free(p->ds[(slot + 1) % SLOTS]);
			p->ds[(slot + 1) % SLOTS] = a;
		}
		break;
	case 2:
		rc = lupi_dataset_split(ds, (double)(b >> 2) / 64.0, b, b >> 7,
		                        &a, &c);
		check_code("lupi_dataset_split", rc);
		if (rc != LUPI_OK && (a != NULL || c != NULL))
			fuzz_fail("a failed split left a dataset", rc);
		if (rc == LUPI_OK &&
		    lupi_dataset_rows(a) + lupi_dataset_rows(c) !=
		        lupi_dataset_rows(ds))
			fuzz_fail("a split lost rows", rc);
		lupi_dataset_free(a);
		lupi_dataset_free(c);
		break;
	default: {
		int view = (b >> 2) % 3;
		rc = lupi_dataset_fit_standardizer(ds, view, mean, std);
		check_code("lupi_dataset_fit_standardizer", rc);
		if (rc == LUPI_OK && view != LUPI_VIEW_BOTH)
			check_code("lupi_dataset_standardize",
			           lupi_dataset_standardize(ds, view, mean, std));
		break;
	}
	}
}

static void op_free(pool *p, fuzz_in *in, int slot)
{
	switch (fuzz_u8(in) % 4) {
	case 0:
		lupi_dataset_free(p->ds[slot]);
		p->ds[slot] = NULL;
		break;
	case 1:
		lupi_model_free(p->m[slot]);
		p->m[slot] = NULL;
		break;
	case 2:
		lupi_loss_free(p->loss[slot]);
		p->loss[slot] = NULL;
		break;
	default:
		lupi_teacher_free(p->t[slot]);
		p->t[slot] = NULL;
		break;
	}
}

static void record(pool *p, fuzz_in *in)
{
	uint8_t op = fuzz_u8(in);
	int slot = (op >> 5) % SLOTS;
	switch ((op & 31) % 20) {
	case 0:
		op_dataset(p, in, slot);
		break;
	case 1:
		op_model(p, in, slot);
		break;
	case 2:
		op_option(p, in, slot, LUPI_HANDLE_MODEL);
		break;
	case 3:
		op_option(p, in, slot, LUPI_HANDLE_LAYER);
		break;
	case 4:
		op_option(p, in, slot, LUPI_HANDLE_LOSS);
		break;
	case 5:
		op_fit(p, in, slot, 0);
		break;
	case 6:
		op_step(p, in, slot);
		break;
	case 7:
		op_gradient(p, in, slot, 0);
		break;
	case 8:
		op_teacher(p, in, slot);
		break;
	case 9:
		op_teacher_use(p, in, slot);
		break;
	case 10:
		op_student_step(p, in, slot);
		break;
	case 11:
		op_roundtrip(p, in, slot);
		break;
	case 12:
		op_predict(p, slot);
		break;
	case 13:
		op_free(p, in, slot);
		break;
	case 14:
		op_loss(p, in, slot);
		break;
	case 15:
		op_loss_eval(p, in, slot);
		break;
	case 16:
		op_clone(p, in, slot);
		break;
	case 17:
		op_gradient(p, in, slot, 1);
		break;
	case 18:
		op_fit(p, in, slot, 1);
		break;
	default:
		if (fuzz_u8(in) & 1)
			op_evaluate(p, in, slot);
		else
			op_dataset_change(p, in, slot);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int tasks[] = {LUPI_TASK_CLASSIFICATION, LUPI_TASK_BINARY,
	                            LUPI_TASK_REGRESSION,
	                            LUPI_TASK_CLASSIFICATION};
	fuzz_in in = {data, size};
	uint8_t first = fuzz_u8(&in);
	pool p = {0};
	lupi_set_num_threads(1);
	p.task = tasks[first & 3];
	p.d = 1 + (first >> 2 & 3);
	p.dp = 1 + (first >> 4 & 3);
	p.k = p.task == LUPI_TASK_BINARY ? 2 : 2 + (first >> 6);
	if (p.k > MAX_K)
		p.k = MAX_K;
	for (int i = 0; i < MAX_RECORDS && in.n > 0; i++)
		record(&p, &in);
	for (int i = 0; i < SLOTS; i++) {
		lupi_teacher_free(p.t[i]);
		lupi_loss_free(p.loss[i]);
		lupi_model_free(p.m[i]);
		lupi_dataset_free(p.ds[i]);
	}
	return 0;
}
