/* Transfer sets (issue 15): losses and students without labels, a label
 * mask, columns on the label term, evaluation over columns, LeCun-normal
 * initialisation and copying initial parameters. Public API only. */
#include <math.h>
#include <stdint.h>

#include <lupi.h>

#include "testutil.h"

#define CK_ERR(call, code, text)                                             \
	do {                                                                 \
		ck_assert_int_eq((call), (code));                            \
		ck_assert_msg(strstr(lupi_errmsg(), (text)) != NULL,         \
			      "message '%s' lacks '%s'", lupi_errmsg(),      \
			      (text));                                       \
	} while (0)

/* Deterministic values in [-2, 2) (a small LCG). */
static float val(uint32_t *st)
{
	*st = *st * 1664525u + 1013904223u;
	return (float)((*st >> 8) % 4096) / 1024.0f - 2.0f;
}

static void fill(float *v, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		v[i] = val(&seed);
}

/* log-softmax of s over cols at position yi, in double. */
static double lsm(const float *s, const size_t *cols, size_t nc, size_t yi)
{
	double mx = -INFINITY, sum = 0.0;
	for (size_t j = 0; j < nc; j++)
		mx = fmax(mx, s[cols[j]]);
	for (size_t j = 0; j < nc; j++)
		sum += exp(s[cols[j]] - mx);
	return s[cols[yi]] - mx - log(sum);
}

/* ---- lupi_loss_eval without labels ------------------------------------- */

START_TEST(loss_without_labels)
{
	enum { N = 5, K = 4 };
	float s[N * K], t[N * K];
	int32_t y[N] = {0, 1, 2, 3, 1};
	fill(s, N * K, 1);
	fill(t, N * K, 2);
	lupi_loss *l;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &l), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE,
					      2.0), LUPI_OK);
	double with, without;
	float g1[N * K], g2[N * K];
	ck_assert_int_eq(lupi_loss_eval(l, N, K, s, t, y, NULL, NULL, NULL,
					&with, g1), LUPI_OK);
	ck_assert_int_eq(lupi_loss_eval(l, N, K, s, t, NULL, NULL, NULL, NULL,
					&without, g2), LUPI_OK);
	ck_assert(without > 0.0);
	ck_assert_double_eq_tol(with, without, 1e-12);
	for (size_t i = 0; i < N * K; i++)
		ck_assert_float_eq_tol(g1[i], g2[i], 1e-7f);
	/* LOGITS too, and a binary k = 1 */
	lupi_loss *lg;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_LOGITS, &lg), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(lg, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	double expect = 0.0;
	for (size_t i = 0; i < N * K; i++)
		expect += 0.5 * ((double)s[i] - t[i]) * ((double)s[i] - t[i]);
	ck_assert_int_eq(lupi_loss_eval(lg, N, K, s, t, NULL, NULL, NULL,
					NULL, &without, NULL), LUPI_OK);
	ck_assert_double_eq_tol(without, expect / N, 1e-9);
	/* where the loss reads labels: a clear error */
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.5),
			 LUPI_OK);
	CK_ERR(lupi_loss_eval(l, N, K, s, t, NULL, NULL, NULL, NULL, &without,
			      NULL), LUPI_EINVAL, "LAMBDA");
	lupi_loss *sel;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_SEL, &sel), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(sel, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	CK_ERR(lupi_loss_eval(sel, N, K, s, t, NULL, NULL, NULL, NULL,
			      &without, NULL), LUPI_EINVAL, "SEL");
	lupi_loss *reg;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_REGRESSION, &reg),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(reg, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_eval(reg, N, K, s, t, NULL, NULL, NULL,
					NULL, &without, NULL), LUPI_OK);
	ck_assert_double_eq_tol(without, expect / N, 1e-9);
	lupi_loss_free(l);
	lupi_loss_free(lg);
	lupi_loss_free(sel);
	lupi_loss_free(reg);
}
END_TEST

/* Label -1: no label term; the teacher term stays; NORMALIZE counts the
 * sample (it has a teacher term); a HARD loss leaves it out of the mean. */
START_TEST(loss_partial_labels)
{
	enum { N = 4, K = 3 };
	float s[N * K], t[N * K];
	int32_t y[N] = {2, -1, 0, -1};
	fill(s, N * K, 3);
	fill(t, N * K, 4);
	lupi_loss *kd, *kd1;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &kd), LUPI_OK);
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &kd1), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(kd1, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	/* per-sample values from single-sample calls */
	double expect = 0.0;
	for (size_t i = 0; i < N; i++) {
		double v;
		if (y[i] >= 0) {
			ck_assert_int_eq(lupi_loss_eval(kd, 1, K, s + i * K,
							t + i * K, y + i, NULL,
							NULL, NULL, &v, NULL),
					 LUPI_OK);
		} else {
			ck_assert_int_eq(lupi_loss_eval(kd1, 1, K, s + i * K,
							t + i * K, NULL, NULL,
							NULL, NULL, &v, NULL),
					 LUPI_OK);
			v *= 0.5; /* lambda */
		}
		expect += v;
	}
	double v;
	float g[N * K];
	ck_assert_int_eq(lupi_loss_eval(kd, N, K, s, t, y, NULL, NULL, NULL,
					&v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, expect / N, 1e-9);
	/* gradient against central differences */
	for (size_t j = 0; j < N * K; j++) {
		float keep = s[j];
		double hi, lo, h = 1.0 / 1024.0;
		s[j] = keep + (float)h;
		lupi_loss_eval(kd, N, K, s, t, y, NULL, NULL, NULL, &hi, NULL);
		s[j] = keep - (float)h;
		lupi_loss_eval(kd, N, K, s, t, y, NULL, NULL, NULL, &lo, NULL);
		s[j] = keep;
		ck_assert_double_eq_tol(g[j], (hi - lo) / (2 * h), 2e-5);
	}
	/* HARD: the mean over the two labelled samples (WEIGHTS), over all
	 * four (COUNT) */
	lupi_loss *hard;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	size_t all[K] = {0, 1, 2};
	double ce = -lsm(s, all, K, 2) - lsm(s + 2 * K, all, K, 0);
	ck_assert_int_eq(lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL,
					NULL, &v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, ce / 2, 1e-6);
	for (size_t j = 0; j < K; j++) {
		ck_assert_float_eq(g[K + j], 0.0f);
		ck_assert_float_eq(g[3 * K + j], 0.0f);
	}
	ck_assert_int_eq(lupi_loss_set_int(hard, LUPI_LOSS_OPT_NORMALIZE,
					   LUPI_NORMALIZE_COUNT), LUPI_OK);
	ck_assert_int_eq(lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL,
					NULL, &v, NULL), LUPI_OK);
	ck_assert_double_eq_tol(v, ce / 4, 1e-6);
	/* -2 is still out of range, named */
	y[1] = -2;
	CK_ERR(lupi_loss_eval(kd, N, K, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ERANGE, "sample 1");
	lupi_loss_free(kd);
	lupi_loss_free(kd1);
	lupi_loss_free(hard);
}
END_TEST

/* ---- columns on the label term ------------------------------------------ */

START_TEST(hard_columns)
{
	enum { N = 3, K = 5 };
	float s[N * K], g[N * K];
	int32_t y[N] = {1, 0, 3};
	size_t cols[3] = {3, 0, 1};
	fill(s, N * K, 5);
	lupi_loss *hard;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_columns(hard, cols, 3), LUPI_OK);
	double v, expect = 0.0;
	size_t pos[N] = {2, 1, 0}; /* positions of the labels in cols */
	for (size_t i = 0; i < N; i++)
		expect -= lsm(s + i * K, cols, 3, pos[i]);
	ck_assert_int_eq(lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL,
					NULL, &v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, expect / N, 1e-6);
	for (size_t i = 0; i < N; i++) {
		ck_assert_float_eq(g[i * K + 2], 0.0f);
		ck_assert_float_eq(g[i * K + 4], 0.0f);
	}
	for (size_t j = 0; j < N * K; j++) {
		float keep = s[j];
		double hi, lo, h = 1.0 / 1024.0;
		s[j] = keep + (float)h;
		lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL, NULL, &hi,
			       NULL);
		s[j] = keep - (float)h;
		lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL, NULL, &lo,
			       NULL);
		s[j] = keep;
		ck_assert_double_eq_tol(g[j], (hi - lo) / (2 * h), 2e-5);
	}
	y[2] = 2; /* not a column */
	CK_ERR(lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL, NULL, &v,
			      NULL), LUPI_ERANGE, "sample 2");
	size_t far[2] = {0, 7};
	y[2] = 0;
	ck_assert_int_eq(lupi_loss_set_columns(hard, far, 2), LUPI_OK);
	CK_ERR(lupi_loss_eval(hard, N, K, s, NULL, y, NULL, NULL, NULL, &v,
			      NULL), LUPI_ESHAPE, "column 7");
	/* regression targets: squared error over the columns */
	ck_assert_int_eq(lupi_loss_set_columns(hard, cols, 2), LUPI_OK);
	float tg[N * K];
	fill(tg, N * K, 6);
	expect = 0.0;
	for (size_t i = 0; i < N; i++)
		for (size_t c = 0; c < 2; c++) {
			double d = (double)s[i * K + cols[c]] - tg[i * K + cols[c]];
			expect += 0.5 * d * d;
		}
	ck_assert_int_eq(lupi_loss_eval(hard, N, K, s, NULL, NULL, tg, NULL,
					NULL, &v, g), LUPI_OK);
	ck_assert_double_eq_tol(v, expect / N, 1e-9);
	ck_assert_float_eq(g[2], 0.0f);
	/* a binary task has no columns: refused */
	int32_t yb[N] = {0, 1, 1};
	CK_ERR(lupi_loss_eval(hard, N, 1, s, NULL, yb, NULL, NULL, NULL, &v,
			      NULL), LUPI_EINVAL, "binary");
	lupi_loss_free(hard);
}
END_TEST

/* ---- models ------------------------------------------------------------- */

static lupi_model *mlp(size_t in, size_t hid, size_t out, int64_t seed)
{
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, in, &hid,
					   1, out, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, seed),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	return m;
}

START_TEST(lecun_init)
{
	enum { IN = 400, HID = 300, OUT = 13 };
	lupi_model *m = mlp(IN, HID, OUT, 7);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_INIT,
					    LUPI_INIT_LECUN), LUPI_OK);
	const lupi_option *o = lupi_option_by_key(LUPI_MODEL_OPT_INIT);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(strstr(o->values, "lecun"));
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *p = malloc(np * sizeof *p);
	ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
	/* layout: W1 (HID x IN), b1, W2 (OUT x HID), b2 */
	double v1 = 0.0, v2 = 0.0;
	for (size_t i = 0; i < (size_t)HID * IN; i++)
		v1 += (double)p[i] * p[i];
	v1 /= (double)HID * IN;
	for (size_t i = 0; i < HID; i++)
		ck_assert_float_eq(p[HID * IN + i], 0.0f);
	const float *w2 = p + HID * IN + HID;
	for (size_t i = 0; i < (size_t)OUT * HID; i++)
		v2 += (double)w2[i] * w2[i];
	v2 /= (double)OUT * HID;
	for (size_t i = 0; i < OUT; i++)
		ck_assert_float_eq(w2[OUT * HID + i], 0.0f);
	/* 120000 and 3900 draws: relative standard errors 0.4% and 2.3% */
	ck_assert_double_eq_tol(v1 * IN, 1.0, 0.02);
	ck_assert_double_eq_tol(v2 * HID, 1.0, 0.1);
	free(p);
	lupi_model_free(m);
}
END_TEST

START_TEST(copy_params)
{
	lupi_model *a = mlp(6, 8, 5, 1), *b = mlp(6, 8, 5, 2),
		   *c = mlp(6, 9, 5, 1);
	CK_ERR(lupi_model_copy_params(b, a), LUPI_ESTATE, "not initialised");
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(b), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(c), LUPI_OK);
	size_t np = lupi_model_num_params(a);
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
	lupi_model_get_params(a, pa, np);
	lupi_model_get_params(b, pb, np);
	ck_assert(memcmp(pa, pb, np * sizeof *pa) != 0);
	ck_assert_int_eq(lupi_model_copy_params(b, a), LUPI_OK);
	lupi_model_get_params(b, pb, np);
	ck_assert(memcmp(pa, pb, np * sizeof *pa) == 0);
	CK_ERR(lupi_model_copy_params(c, a), LUPI_ESHAPE, "differ");
	CK_ERR(lupi_model_copy_params(NULL, a), LUPI_EINVAL, "NULL");
	free(pa);
	free(pb);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_model_free(c);
}
END_TEST

START_TEST(evaluate_columns)
{
	enum { N = 40, D = 6, OUT = 5 };
	float x[N * D], lg[N * OUT];
	int32_t y[N];
	fill(x, N * D, 9);
	for (size_t i = 0; i < N; i++)
		y[i] = (int32_t)(i % 3);
	lupi_dataset *ds;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	lupi_model *m = mlp(D, 8, OUT, 3);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(m, x, N, D, LUPI_PREDICT_LOGITS,
					    lg), LUPI_OK);
	size_t cols[3] = {4, 1, 2};
	double acc = 0.0, ll = 0.0;
	for (size_t i = 0; i < N; i++) {
		size_t best = 0;
		for (size_t j = 1; j < 3; j++)
			if (lg[i * OUT + cols[j]] > lg[i * OUT + cols[best]])
				best = j;
		acc += best == (size_t)y[i];
		ll -= lsm(lg + i * OUT, cols, 3, (size_t)y[i]);
	}
	double v;
	ck_assert_int_eq(lupi_model_evaluate_columns(m, ds,
						     LUPI_METRIC_ACCURACY,
						     cols, 3, &v), LUPI_OK);
	ck_assert_double_eq_tol(v, acc / N, 1e-12);
	ck_assert_int_eq(lupi_model_evaluate_columns(m, ds,
						     LUPI_METRIC_LOGLOSS,
						     cols, 3, &v), LUPI_OK);
	ck_assert_double_eq_tol(v, ll / N, 1e-5);
	CK_ERR(lupi_model_evaluate_columns(m, ds, LUPI_METRIC_ACCURACY, cols,
					   2, &v), LUPI_ESHAPE, "3 classes");
	size_t bad[3] = {0, 1, 5};
	CK_ERR(lupi_model_evaluate_columns(m, ds, LUPI_METRIC_ACCURACY, bad, 3,
					   &v), LUPI_ERANGE, "column 2");
	CK_ERR(lupi_model_evaluate_columns(m, ds, LUPI_METRIC_MSE, cols, 3,
					   &v), LUPI_ENOTSUP, "accuracy");
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- students on unlabelled and partly labelled data -------------------- */

START_TEST(student_without_labels)
{
	enum { N = 64, D = 5, K = 4 };
	float x[N * D];
	int32_t y[N];
	fill(x, N * D, 11);
	for (size_t i = 0; i < N; i++)
		y[i] = (int32_t)(i % K);
	lupi_dataset *lab, *unl;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &lab), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(lab, K, y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &unl), LUPI_OK);
	lupi_model *tm = mlp(D, 8, K, 1), *st = mlp(D, 8, K, 2);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(tm, lab, NULL, NULL, NULL), LUPI_OK);
	lupi_teacher *t;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	lupi_loss *l;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &l), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	size_t idx[N];
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
	/* pure imitation: the same value with or without the labels */
	ck_assert_int_eq(lupi_model_init(st), LUPI_OK);
	double v_lab, v_unl;
	ck_assert_int_eq(lupi_student_loss(st, t, l, lab, &v_lab), LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(st, t, l, unl, &v_unl), LUPI_OK);
	ck_assert_double_eq_tol(v_lab, v_unl, 1e-12);
	size_t np = lupi_model_num_params(st);
	float *g = malloc(np * sizeof *g);
	ck_assert_int_eq(lupi_student_gradient(st, t, l, unl, idx, N, &v_unl,
					       g, np), LUPI_OK);
	ck_assert_int_eq(lupi_student_step(st, t, l, unl, idx, N, &v_unl),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(st, LUPI_MODEL_OPT_EPOCHS, 20),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_fit(st, t, l, unl, NULL, NULL, NULL),
			 LUPI_OK);
	double after;
	ck_assert_int_eq(lupi_student_loss(st, t, l, unl, &after), LUPI_OK);
	ck_assert(after < v_lab);
	/* the loss reads labels: refused, naming why */
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.5),
			 LUPI_OK);
	CK_ERR(lupi_student_step(st, t, l, unl, idx, N, NULL), LUPI_ESTATE,
	       "LAMBDA");
	CK_ERR(lupi_student_fit(st, t, l, unl, NULL, NULL, NULL), LUPI_ESTATE,
	       "no targets");
	CK_ERR(lupi_student_loss(st, t, l, unl, &after), LUPI_ESTATE,
	       "LAMBDA");
	CK_ERR(lupi_student_step(st, NULL, NULL, unl, idx, N, NULL),
	       LUPI_ESTATE, "no targets");
	CK_ERR(lupi_model_fit(st, unl, NULL, NULL, NULL), LUPI_ESTATE,
	       "no targets");
	free(g);
	lupi_loss_free(l);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_model_free(st);
	lupi_dataset_free(lab);
	lupi_dataset_free(unl);
}
END_TEST

START_TEST(label_mask)
{
	enum { N = 30, D = 4, K = 3 };
	float x[N * D];
	int32_t y[N];
	uint8_t mask[N];
	size_t keep[N], nk = 0;
	fill(x, N * D, 13);
	for (size_t i = 0; i < N; i++) {
		y[i] = (int32_t)(i % K);
		mask[i] = i % 4 != 1;
		if (mask[i])
			keep[nk++] = i;
	}
	lupi_dataset *ds, *sub, *part;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	CK_ERR(lupi_dataset_set_label_mask(ds, mask), LUPI_ESTATE, "labels");
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_subset(ds, keep, nk, &sub), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_label_mask(ds, mask), LUPI_OK);
	ck_assert_ptr_nonnull(lupi_dataset_label_mask(ds));
	ck_assert_int_eq(lupi_dataset_label_mask(ds)[1], 0);
	lupi_model *m = mlp(D, 6, K, 5);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	/* the label loss and the metrics see the labelled samples only */
	lupi_loss *hard;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	double a, b;
	ck_assert_int_eq(lupi_student_loss(m, NULL, hard, ds, &a), LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(m, NULL, hard, sub, &b), LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-9);
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_LOGLOSS, &a),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_evaluate(m, sub, LUPI_METRIC_LOGLOSS, &b),
			 LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-9);
	/* a step's gradient too (model step = student step without teacher) */
	size_t np = lupi_model_num_params(m), all[N];
	for (size_t i = 0; i < N; i++)
		all[i] = i;
	float *g1 = malloc(np * sizeof *g1), *g2 = malloc(np * sizeof *g2);
	ck_assert_int_eq(lupi_model_gradient(m, ds, all, N, &a, g1, np),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_gradient(m, sub, all, nk, &b, g2, np),
			 LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-6);
	for (size_t i = 0; i < np; i++)
		ck_assert_float_eq_tol(g1[i], g2[i], 1e-6f);
	/* subsets carry the mask; append is refused; NULL removes it */
	size_t first[2] = {0, 1};
	ck_assert_int_eq(lupi_dataset_subset(ds, first, 2, &part), LUPI_OK);
	ck_assert_ptr_nonnull(lupi_dataset_label_mask(part));
	ck_assert_int_eq(lupi_dataset_label_mask(part)[1], 0);
	CK_ERR(lupi_dataset_append(ds, 1, x, NULL, NULL, y, NULL, NULL),
	       LUPI_ENOTSUP, "label mask");
	ck_assert_int_eq(lupi_dataset_set_label_mask(ds, NULL), LUPI_OK);
	ck_assert_ptr_null(lupi_dataset_label_mask(ds));
	free(g1);
	free(g2);
	lupi_loss_free(hard);
	lupi_model_free(m);
	lupi_dataset_free(ds);
	lupi_dataset_free(sub);
	lupi_dataset_free(part);
}
END_TEST

/* A teacher with more outputs than classes, trained with HARD over the
 * class columns; evaluated over those columns. */
START_TEST(train_on_columns)
{
	enum { N = 90, D = 4, K = 3, OUT = 5 };
	float x[N * D];
	int32_t y[N];
	for (size_t i = 0; i < N; i++) {
		y[i] = (int32_t)(i % K);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)(j == (size_t)y[i]) * 2.0f +
				       0.1f * (float)((i * 7 + j) % 5);
	}
	lupi_dataset *ds;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	lupi_model *m = mlp(D, 8, OUT, 1);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 60),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01),
			 LUPI_OK);
	CK_ERR(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_ESHAPE,
	       "3 classes");
	lupi_loss *hard;
	size_t cols[K] = {0, 1, 2};
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_columns(hard, cols, K), LUPI_OK);
	ck_assert_int_eq(lupi_student_fit(m, NULL, hard, ds, NULL, NULL,
					  NULL), LUPI_OK);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate_columns(m, ds,
						     LUPI_METRIC_ACCURACY,
						     cols, K, &acc), LUPI_OK);
	ck_assert(acc > 0.95);
	lupi_loss_free(hard);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("transfer");
	TCase *tc = tcase_create("transfer");
	tcase_add_test(tc, loss_without_labels);
	tcase_add_test(tc, loss_partial_labels);
	tcase_add_test(tc, hard_columns);
	tcase_add_test(tc, lecun_init);
	tcase_add_test(tc, copy_params);
	tcase_add_test(tc, evaluate_columns);
	tcase_add_test(tc, student_without_labels);
	tcase_add_test(tc, label_mask);
	tcase_add_test(tc, train_on_columns);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
