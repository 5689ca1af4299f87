/* Students: the distillation step against a double-precision reference,
 * masks, the cache, determinism, model files, and distillation helping on
 * a synthetic LUPI problem. */
#include <math.h>
#include <stdint.h>

#include "train/train_internal.h"
#include "testutil.h"

static lupi_model *mlp(int task, size_t n_in, const size_t *hidden,
		       size_t n_hidden, size_t n_out, int view)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(task, n_in, hidden, n_hidden, n_out,
					   &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), LUPI_OK);
	return m;
}

/* SGD without momentum or standardisation: one step moves the parameters
 * by exactly -lr * gradient. */
static void plain_sgd(lupi_model *m, double lr)
{
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, lr), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
}

static lupi_loss *kd(double lambda, double temp)
{
	lupi_loss *l = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &l), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, lambda),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, temp),
			 LUPI_OK);
	return l;
}

/* n samples, 3 regular and 2 privileged features, 3 classes. */
static lupi_dataset *small_ds(size_t n, const uint8_t *mask,
			      const float *weights)
{
	float x[3 * 32], xs[2 * 32];
	int32_t y[32];
	ck_assert_uint_le(n, 32);
	lupi__rng r;
	lupi__rng_seed(&r, 5);
	for (size_t i = 0; i < 3 * n; i++)
		x[i] = (float)lupi__rng_normal(&r);
	for (size_t i = 0; i < 2 * n; i++)
		xs[i] = (float)lupi__rng_normal(&r);
	for (size_t i = 0; i < n; i++)
		y[i] = (int32_t)((i * 2) % 3);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 3, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	if (weights)
		ck_assert_int_eq(lupi_dataset_set_weights(ds, weights),
				 LUPI_OK);
	return ds;
}

/* A linear teacher on X* with fixed weights. */
static lupi_teacher *priv_teacher(void)
{
	static const float p[9] = {1.0f, -2.0f, 0.5f, 0.7f, -1.0f, 1.5f,
				   0.2f, 0.0f, -0.4f};
	lupi_model *m = mlp(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3,
			    LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_params(m, p, 9), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, m, 1.0), LUPI_OK);
	lupi_model_free(m);
	return t;
}

/* ---- a double-precision reference of the 3-4-3 tanh network and KD ---- */

enum { NI = 3, NH = 4, NO = 3, NP = NH * NI + NH + NO * NH + NO };

static void ref_forward(const double *p, const float *x, double *s)
{
	const double *w0 = p, *b0 = p + NH * NI, *w1 = b0 + NH,
		     *b1 = w1 + NO * NH;
	double h[NH];
	for (int j = 0; j < NH; j++) {
		double a = b0[j];
		for (int i = 0; i < NI; i++)
			a += w0[j * NI + i] * x[i];
		h[j] = tanh(a);
	}
	for (int o = 0; o < NO; o++) {
		s[o] = b1[o];
		for (int j = 0; j < NH; j++)
			s[o] += w1[o * NH + j] * h[j];
	}
}

/* log softmax(z / T) in double. */
static void log_softmax(const double *z, double temp, double *lp)
{
	double mx = -INFINITY, sum = 0;
	for (int c = 0; c < NO; c++)
		mx = fmax(mx, z[c] / temp);
	for (int c = 0; c < NO; c++)
		sum += exp(z[c] / temp - mx);
	for (int c = 0; c < NO; c++)
		lp[c] = z[c] / temp - mx - log(sum);
}

/* The KD loss of Hinton et al. 2015 as documented in lupi.h: per sample
 * (1 - l) CE(y, p(s)) + l T^2 CE(p(t/T), p(s/T)), the label term alone
 * (weight 1) without a teacher output; weighted mean. */
static double ref_loss(const double *p, const lupi_dataset *ds,
		       const float *t, const uint8_t *has, double lambda,
		       double temp)
{
	size_t n = lupi_dataset_rows(ds);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const int32_t *y = lupi_dataset_labels(ds);
	const float *w = lupi_dataset_weights(ds);
	double sum = 0, wsum = 0;
	for (size_t i = 0; i < n; i++) {
		double s[NO], ls[NO], lst[NO], tz[NO], lt[NO];
		ref_forward(p, x + i * NI, s);
		log_softmax(s, 1.0, ls);
		double li = -ls[y[i]];
		if (has[i]) {
			for (int c = 0; c < NO; c++)
				tz[c] = t[i * NO + c];
			log_softmax(s, temp, lst);
			log_softmax(tz, temp, lt);
			double ce = 0;
			for (int c = 0; c < NO; c++)
				ce -= exp(lt[c]) * lst[c];
			li = (1 - lambda) * li + lambda * temp * temp * ce;
		}
		double wi = w ? w[i] : 1.0;
		sum += wi * li;
		wsum += wi;
	}
	return sum / wsum;
}

START_TEST(step_matches_finite_differences)
{
	/* Sample 2 has no X*, weights differ: mask and weighted mean are
	 * both in the reference. */
	uint8_t mask[6] = {1, 1, 0, 1, 1, 1};
	float wts[6] = {1.0f, 0.5f, 2.0f, 1.0f, 0.0f, 1.5f};
	lupi_dataset *ds = small_ds(6, mask, wts);
	lupi_teacher *t = priv_teacher();
	const size_t hidden[1] = {NH};
	lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, NI, hidden, 1, NO,
			    LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH),
			 LUPI_OK);
	const double lr = 0.1, lambda = 0.7, temp = 2.5;
	plain_sgd(s, lr);
	ck_assert_int_eq(lupi_model_init(s), LUPI_OK);
	ck_assert_uint_eq(lupi_model_num_params(s), NP);
	float p0[NP], p1[NP];
	ck_assert_int_eq(lupi_model_get_params(s, p0, NP), LUPI_OK);
	size_t idx[6] = {0, 1, 2, 3, 4, 5};
	float tz[6 * NO];
	uint8_t has[6];
	ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, 6, tz, has),
			 LUPI_OK);
	ck_assert_int_eq(has[2], 0);
	lupi_loss *loss = kd(lambda, temp);
	double value = 0;
	ck_assert_int_eq(lupi_student_step(s, t, loss, ds, idx, 6, &value),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(s, p1, NP), LUPI_OK);

	double pd[NP];
	for (int i = 0; i < NP; i++)
		pd[i] = p0[i];
	ck_assert_double_eq_tol(value, ref_loss(pd, ds, tz, has, lambda, temp),
				1e-5);
	/* Central differences of the double reference, h = 1e-6: truncation
	 * error ~1e-12, far below the float step's rounding (~1e-6). */
	for (int i = 0; i < NP; i++) {
		const double h = 1e-6;
		double keep = pd[i];
		pd[i] = keep + h;
		double up = ref_loss(pd, ds, tz, has, lambda, temp);
		pd[i] = keep - h;
		double down = ref_loss(pd, ds, tz, has, lambda, temp);
		pd[i] = keep;
		double g = (up - down) / (2 * h);
		double moved = ((double)p0[i] - p1[i]) / lr;
		ck_assert_msg(fabs(moved - g) < 2e-5 + 1e-4 * fabs(g),
			      "param %d: step moved %g / lr, gradient %g", i,
			      moved, g);
	}
	lupi_loss_free(loss);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(samples_without_teacher_get_label_term_only)
{
	/* No sample has X*: the KD step must equal a HARD-loss step bit for
	 * bit, whatever lambda and T. */
	uint8_t mask[8] = {0};
	lupi_dataset *ds = small_ds(8, mask, NULL);
	lupi_teacher *t = priv_teacher();
	const size_t hidden[1] = {5};
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			    LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	lupi_model *b = NULL, *c = NULL;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	ck_assert_int_eq(lupi_model_clone(a, &c), LUPI_OK);
	lupi_loss *k = kd(0.9, 4.0), *hard = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	size_t idx[8] = {7, 6, 5, 4, 3, 2, 1, 0};
	double va, vb, vc;
	for (int step = 0; step < 3; step++) {
		ck_assert_int_eq(lupi_student_step(a, t, k, ds, idx, 8, &va),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_step(b, NULL, hard, ds, idx, 8,
						   &vb),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_step(c, ds, idx, 8, &vc), LUPI_OK);
		ck_assert_double_eq(va, vb);
		ck_assert_double_eq_tol(va, vc, 1e-6);
	}
	size_t np = lupi_model_num_params(a);
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb),
	      *pc = malloc(np * sizeof *pc);
	lupi_model_get_params(a, pa, np);
	lupi_model_get_params(b, pb, np);
	lupi_model_get_params(c, pc, np);
	ck_assert_mem_eq(pa, pb, np * sizeof *pa);
	for (size_t i = 0; i < np; i++)
		ck_assert_float_eq_tol(pa[i], pc[i], 1e-5f);
	free(pa);
	free(pb);
	free(pc);
	lupi_loss_free(k);
	lupi_loss_free(hard);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_model_free(c);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(null_teacher_and_loss_is_a_model_step)
{
	lupi_dataset *ds = small_ds(8, NULL, NULL);
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 3,
			    LUPI_VIEW_REGULAR);
	lupi_model *b = NULL;
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	size_t idx[4] = {1, 3, 5, 7};
	double va, vb;
	ck_assert_int_eq(lupi_student_step(a, NULL, NULL, ds, idx, 4, &va),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_step(b, ds, idx, 4, &vb), LUPI_OK);
	ck_assert_double_eq(va, vb);
	float pa[12], pb[12];
	lupi_model_get_params(a, pa, 12);
	lupi_model_get_params(b, pb, 12);
	ck_assert_mem_eq(pa, pb, sizeof pa);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(regression_student_default_loss)
{
	/* loss NULL with a regression teacher: regression distillation with
	 * lambda 0.5, d loss / d f = (f - y) / 2 + (f - t) / 2 per sample;
	 * for a linear model the SGD step is closed form. */
	enum { N = 4, DI = 2, M = 2 };
	float x[N * DI] = {1, 2, -1, 0.5f, 0, -2, 3, 1};
	float y[N * M] = {0.5f, -1, 2, 0, 1, 1, -0.5f, 3};
	float tz[N * M] = {1, 0, 1.5f, -1, 0, 2, 0, 2};
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, DI, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, M, y), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, tz, M,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	lupi_model *s = mlp(LUPI_TASK_REGRESSION, DI, NULL, 0, M,
			    LUPI_VIEW_REGULAR);
	const double lr = 0.05;
	plain_sgd(s, lr);
	const float p0[6] = {0.3f, -0.2f, 0.1f, 0.4f, 0.05f, -0.1f};
	ck_assert_int_eq(lupi_model_set_params(s, p0, 6), LUPI_OK);
	size_t idx[N] = {0, 1, 2, 3};
	double v;
	ck_assert_int_eq(lupi_student_step(s, t, NULL, ds, idx, N, &v),
			 LUPI_OK);
	float p1[6];
	ck_assert_int_eq(lupi_model_get_params(s, p1, 6), LUPI_OK);
	double g[6] = {0}, loss = 0;
	for (int i = 0; i < N; i++)
		for (int o = 0; o < M; o++) {
			double f = p0[4 + o];
			for (int j = 0; j < DI; j++)
				f += (double)p0[o * DI + j] * x[i * DI + j];
			double ey = f - y[i * M + o], et = f - tz[i * M + o];
			loss += (0.25 * ey * ey + 0.25 * et * et) / N;
			double d = (0.5 * ey + 0.5 * et) / N;
			for (int j = 0; j < DI; j++)
				g[o * DI + j] += d * x[i * DI + j];
			g[4 + o] += d;
		}
	ck_assert_double_eq_tol(v, loss, 1e-6);
	for (int i = 0; i < 6; i++)
		ck_assert_double_eq_tol(p1[i], p0[i] - lr * g[i], 1e-6);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(binary_student_with_probabilities)
{
	/* A binary student (one sigmoid output) and P(y = 1) from the host:
	 * pure imitation pulls the output towards the teacher's. */
	float x[4] = {-1, -0.5f, 0.5f, 1};
	int32_t y[4] = {0, 0, 1, 1};
	float p[4] = {0.1f, 0.3f, 0.7f, 0.9f};
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(4, 1, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(t, ds, p, 1,
						  LUPI_OUTPUTS_PROBS, 1.0),
			 LUPI_OK);
	lupi_model *s = mlp(LUPI_TASK_BINARY, 1, NULL, 0, 1,
			    LUPI_VIEW_REGULAR);
	plain_sgd(s, 0.5);
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 400),
			 LUPI_OK);
	lupi_loss *loss = kd(1.0, 1.0);
	ck_assert_int_eq(lupi_student_fit(s, t, loss, ds, NULL, NULL, NULL),
			 LUPI_OK);
	float out[4];
	ck_assert_int_eq(lupi_model_predict(s, x, 4, 1, LUPI_PREDICT_OUTPUT, out),
			 LUPI_OK);
	/* logit(p) is close to linear in x: a logistic fit is within 0.05. */
	for (int i = 0; i < 4; i++)
		ck_assert_float_eq_tol(out[i], p[i], 0.05f);
	lupi_loss_free(loss);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

static int count_allocs(size_t size, void *user)
{
	(void)size;
	(*(int *)user)++;
	return 1;
}

START_TEST(steps_read_the_cache_without_allocating)
{
	uint8_t mask[10] = {1, 1, 1, 0, 1, 1, 1, 1, 0, 1};
	lupi_dataset *ds = small_ds(10, mask, NULL);
	lupi_teacher *t = priv_teacher();
	ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
	ck_assert_uint_eq(t->n_forward, 1);
	const size_t hidden[1] = {4};
	lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			    LUPI_VIEW_REGULAR);
	size_t idx[5] = {0, 3, 4, 8, 9};
	double v;
	/* loss NULL: KD with defaults, kept in the student's scratch. */
	ck_assert_int_eq(lupi_student_step(s, t, NULL, ds, idx, 5, &v),
			 LUPI_OK);
	int allocs = 0;
	lupi__set_alloc_gate(count_allocs, &allocs);
	int rc = lupi_student_step(s, t, NULL, ds, idx, 5, &v);
	if (rc == LUPI_OK)
		rc = lupi_student_step(s, t, NULL, ds, idx + 1, 4, &v);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_int_eq(allocs, 0);
	ck_assert_uint_eq(t->n_forward, 1);
	ck_assert(isfinite(v) && v > 0);

	/* An unprepared teacher: the combining scratch is the student's
	 * too, so later steps allocate nothing either, and the teacher
	 * counts one forward pass per step. */
	lupi_teacher *t3 = priv_teacher();
	lupi_model *s3 = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			     LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_student_step(s3, t3, NULL, ds, idx, 5, &v),
			 LUPI_OK);
	allocs = 0;
	lupi__set_alloc_gate(count_allocs, &allocs);
	rc = lupi_student_step(s3, t3, NULL, ds, idx + 1, 4, &v);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_int_eq(allocs, 0);
	ck_assert_uint_eq(t3->n_forward, 2);
	lupi_model_free(s3);
	lupi_teacher_free(t3);

	/* lupi_student_fit cannot prepare a const teacher: it computes the
	 * outputs of train once and every epoch reads them. */
	lupi_teacher *t2 = priv_teacher();
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 4), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_BATCH, 3), LUPI_OK);
	ck_assert_int_eq(lupi_student_fit(s, t2, NULL, ds, NULL, NULL, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(t2->n_forward, 1);
	lupi_teacher_free(t2);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(restricted_columns)
{
	/* lambda 1, teacher term on classes {0, 1} only: class 2's weights
	 * get no gradient, and the teacher's class-2 logits do not matter. */
	lupi_dataset *ds = small_ds(6, NULL, NULL);
	float za[18], zb[18];
	for (int i = 0; i < 18; i++)
		za[i] = zb[i] = (float)((i * 5) % 7) - 3.0f;
	for (int i = 0; i < 6; i++)
		zb[i * 3 + 2] += 10.0f;
	lupi_teacher *ta = NULL, *tb = NULL;
	ck_assert_int_eq(lupi_teacher_create(&ta), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_create(&tb), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(ta, ds, za, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(tb, ds, zb, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	lupi_loss *loss = kd(1.0, 2.0);
	size_t cols[2] = {0, 1};
	ck_assert_int_eq(lupi_loss_set_columns(loss, cols, 2), LUPI_OK);
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 3,
			    LUPI_VIEW_REGULAR);
	plain_sgd(a, 0.5);
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	lupi_model *b = NULL;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	float p0[12], pa[12], pb[12];
	lupi_model_get_params(a, p0, 12);
	size_t idx[6] = {0, 1, 2, 3, 4, 5};
	ck_assert_int_eq(lupi_student_step(a, ta, loss, ds, idx, 6, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, tb, loss, ds, idx, 6, NULL),
			 LUPI_OK);
	lupi_model_get_params(a, pa, 12);
	lupi_model_get_params(b, pb, 12);
	ck_assert_mem_eq(pa, pb, sizeof pa);
	/* Row 2 of W (3 x 3) and bias 2 are unchanged; the rest moved. */
	for (int j = 0; j < 3; j++)
		ck_assert_float_eq(pa[6 + j], p0[6 + j]);
	ck_assert_float_eq(pa[11], p0[11]);
	ck_assert_float_ne(pa[9], p0[9]);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_loss_free(loss);
	lupi_teacher_free(ta);
	lupi_teacher_free(tb);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- the "relevant features" problem of Lopez-Paz et al. 2016, 4.1 ----
 * x ~ N(0, I_50), x* = x_J with |J| = 3, y = 1[<a, x*> > 0]: the teacher
 * sees only the relevant features and the student must find them among 50
 * from 200 samples. Pure imitation (lambda 1, T 1) lifts the mean accuracy
 * over 5 seeds from 0.874 (hard) to 0.900 in the reference run. */
enum { D = 50, DJ = 3 };

static lupi_dataset *relevant(size_t n, uint64_t seed, const double *alpha)
{
	float *x = malloc(n * D * sizeof *x), *xs = malloc(n * DJ * sizeof *xs);
	int32_t *y = malloc(n * sizeof *y);
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		double dot = 0;
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)lupi__rng_normal(&r);
		for (size_t j = 0; j < DJ; j++) {
			xs[i * DJ + j] = x[i * D + 7 * j + 2];
			dot += alpha[j] * xs[i * DJ + j];
		}
		y[i] = dot > 0;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DJ, xs, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	free(x);
	free(xs);
	free(y);
	return ds;
}

static void train_opts(lupi_model *m, uint64_t seed, int64_t epochs)
{
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), LUPI_OK);
}

START_TEST(distillation_helps_on_relevant_features)
{
	const double alpha[DJ] = {1.0, -0.8, 0.6};
	const int seeds = 5;
	double hard_sum = 0, kd_sum = 0, teacher_sum = 0;
	int differ = 0;
	for (int r = 0; r < seeds; r++) {
		lupi_dataset *train = relevant(200, 100 + r, alpha);
		lupi_dataset *test = relevant(1000, 900 + r, alpha);
		lupi_model *tm = mlp(LUPI_TASK_CLASSIFICATION, DJ, NULL, 0, 2,
				     LUPI_VIEW_PRIVILEGED);
		train_opts(tm, r, 60);
		ck_assert_int_eq(lupi_model_set_double(tm, LUPI_MODEL_OPT_LR, 0.05),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_fit(tm, train, NULL, NULL, NULL),
				 LUPI_OK);
		lupi_teacher *t = NULL;
		ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
		ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
		lupi_model *hard = mlp(LUPI_TASK_CLASSIFICATION, D, NULL, 0, 2,
				       LUPI_VIEW_REGULAR);
		train_opts(hard, r, 30);
		ck_assert_int_eq(lupi_model_init(hard), LUPI_OK);
		lupi_model *dist = NULL;
		ck_assert_int_eq(lupi_model_clone(hard, &dist), LUPI_OK);
		lupi_loss *loss = kd(1.0, 1.0);
		ck_assert_int_eq(lupi_student_fit(hard, NULL, NULL, train,
						  NULL, NULL, NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_fit(dist, t, loss, train, NULL,
						  NULL, NULL),
				 LUPI_OK);
		double ah, ad, at;
		ck_assert_int_eq(lupi_model_evaluate(hard, test,
						     LUPI_METRIC_ACCURACY,
						     &ah),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_evaluate(dist, test,
						     LUPI_METRIC_ACCURACY,
						     &ad),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_evaluate(tm, test,
						     LUPI_METRIC_ACCURACY,
						     &at),
				 LUPI_OK);
		hard_sum += ah;
		kd_sum += ad;
		teacher_sum += at;
		differ += ah != ad;
		lupi_loss_free(loss);
		lupi_model_free(hard);
		lupi_model_free(dist);
		lupi_model_free(tm);
		lupi_teacher_free(t);
		lupi_dataset_free(train);
		lupi_dataset_free(test);
	}
	double mh = hard_sum / seeds, md = kd_sum / seeds,
	       mt = teacher_sum / seeds;
	ck_assert_msg(mt > 0.95, "teacher accuracy %g", mt);
	ck_assert_msg(md >= mh - 0.01, "distilled %g, hard %g", md, mh);
	ck_assert_int_gt(differ, 0);
}
END_TEST

START_TEST(saved_student_predicts_alone)
{
	lupi_dataset *ds = small_ds(20, NULL, NULL);
	lupi_teacher *t = priv_teacher();
	const size_t hidden[1] = {6};
	lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			    LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_BATCH, 7), LUPI_OK);
	lupi_loss *loss = kd(0.5, 3.0);
	ck_assert_int_eq(lupi_student_fit(s, t, loss, ds, ds, NULL, NULL),
			 LUPI_OK);
	lupi_teacher_free(t);
	lupi_loss_free(loss);
	char *dir = lupi_test_tmpdir();
	char path[256];
	snprintf(path, sizeof path, "%s/student.lupi", dir);
	ck_assert_int_eq(lupi_model_save(s, path), LUPI_OK);
	lupi_model *l = NULL;
	ck_assert_int_eq(lupi_model_load(path, &l), LUPI_OK);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	float a[60], b[60];
	ck_assert_int_eq(lupi_model_predict(s, x, 20, 3, LUPI_PREDICT_OUTPUT, a),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(l, x, 20, 3, LUPI_PREDICT_OUTPUT, b),
			 LUPI_OK);
	ck_assert_mem_eq(a, b, sizeof a);
	lupi_model_free(l);
	lupi_model_free(s);
	lupi_test_rmdir(dir);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(same_seed_same_student)
{
	lupi_dataset *ds = small_ds(24, NULL, NULL);
	float par[2][64];
	const size_t hidden[1] = {5};
	for (int run = 0; run < 2; run++) {
		lupi_teacher *t = priv_teacher();
		lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
				    LUPI_VIEW_REGULAR);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_SEED, 42),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 3),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_BATCH, 5),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_double(s, LUPI_MODEL_OPT_DROPOUT,
						       0.2),
				 LUPI_OK);
		lupi_loss *loss = kd(0.5, 2.0);
		ck_assert_int_eq(lupi_student_fit(s, t, loss, ds, NULL, NULL,
						  NULL),
				 LUPI_OK);
		ck_assert_uint_eq(lupi_model_num_params(s), 4 * 5 + 5 * 3 + 3);
		ck_assert_int_eq(lupi_model_get_params(s, par[run], 38),
				 LUPI_OK);
		lupi_loss_free(loss);
		lupi_model_free(s);
		lupi_teacher_free(t);
	}
	ck_assert_mem_eq(par[0], par[1], 38 * sizeof(float));
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(feature_loss_needs_a_model_teacher)
{
	uint8_t mask[8] = {1, 0, 1, 1, 1, 1, 0, 1};
	lupi_dataset *ds = small_ds(8, mask, NULL);
	const size_t th[1] = {4}, sh[2] = {6, 5};
	lupi_model *tm = mlp(LUPI_TASK_CLASSIFICATION, 2, th, 1, 3,
			     LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_model_init(tm), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, sh, 2, 3,
			    LUPI_VIEW_REGULAR);
	plain_sgd(a, 0.1); /* Adam's first step is lr * sign(g) */
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	lupi_model *b = NULL;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	lupi_loss *plain = kd(0.5, 2.0), *hint = kd(0.5, 2.0);
	ck_assert_int_eq(lupi_loss_set_int(hint, LUPI_LOSS_OPT_FEATURE,
					   LUPI_FEATURE_HINT),
			 LUPI_OK);
	size_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	double va, vb;
	ck_assert_int_eq(lupi_student_step(a, t, plain, ds, idx, 8, &va),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, t, hint, ds, idx, 8, &vb),
			 LUPI_OK);
	/* The hint term (>= 0, beta 1) is added, and its gradient reaches
	 * the student's first layer (3 x 6 weights, 6 biases). */
	ck_assert_double_gt(vb, va);
	float pa[128], pb[128];
	size_t np = lupi_model_num_params(a);
	ck_assert_uint_eq(np, 77);
	lupi_model_get_params(a, pa, np);
	lupi_model_get_params(b, pb, np);
	int moved = 0;
	for (int i = 0; i < 24; i++)
		moved += pa[i] != pb[i];
	ck_assert_int_gt(moved, 12);

	/* A student layer out of range. */
	ck_assert_int_eq(lupi_loss_set_int(hint, LUPI_LOSS_OPT_STUDENT_LAYER, 2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, t, hint, ds, idx, 8, &vb),
			 LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "student layer 2"));
	/* Layer 0 (a fresh loss: the learned regressor has layer 1's
	 * width). */
	lupi_loss *hint0 = kd(0.5, 2.0);
	ck_assert_int_eq(lupi_loss_set_int(hint0, LUPI_LOSS_OPT_FEATURE,
					   LUPI_FEATURE_HINT),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(hint0, LUPI_LOSS_OPT_STUDENT_LAYER, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, t, hint0, ds, idx, 8, &vb),
			 LUPI_OK);
	lupi_loss_free(hint0);

	/* External outputs have no hidden layers. */
	float z[24] = {0};
	lupi_teacher *ext = NULL;
	ck_assert_int_eq(lupi_teacher_create(&ext), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(ext, ds, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, ext, hint, ds, idx, 8, &vb),
			 LUPI_ENOTSUP);
	lupi_teacher_free(ext);
	lupi_loss_free(plain);
	lupi_loss_free(hint);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_model_free(tm);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(step_errors)
{
	lupi_dataset *ds = small_ds(6, NULL, NULL);
	lupi_teacher *t = priv_teacher();
	lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 3,
			    LUPI_VIEW_REGULAR);
	size_t idx[2] = {0, 1};
	double v;
	ck_assert_int_eq(lupi_student_step(NULL, t, NULL, ds, idx, 2, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_step(s, t, NULL, NULL, idx, 2, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_step(s, t, NULL, ds, NULL, 2, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_step(s, t, NULL, ds, idx, 0, &v),
			 LUPI_EINVAL);
	size_t bad[1] = {6};
	ck_assert_int_eq(lupi_student_step(s, t, NULL, ds, bad, 1, &v),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_student_fit(NULL, t, NULL, ds, NULL, NULL,
					  NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_fit(s, t, NULL, NULL, NULL, NULL,
					  NULL),
			 LUPI_EINVAL);

	/* A 2-output student with a 3-output teacher. */
	int32_t y2[6] = {0, 1, 0, 1, 1, 0};
	lupi_dataset *ds2 = small_ds(6, NULL, NULL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds2, 2, y2), LUPI_OK);
	lupi_model *s2 = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 2,
			     LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_student_step(s2, t, NULL, ds2, idx, 2, &v),
			 LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(),
				     "student has 2 outputs, teacher 3"));
	ck_assert_int_eq(lupi_student_fit(s2, t, NULL, ds2, NULL, NULL, NULL),
			 LUPI_ESHAPE);

	/* External outputs of another dataset. */
	lupi_dataset *other = small_ds(6, NULL, NULL);
	float z[18] = {0};
	lupi_teacher *ext = NULL;
	ck_assert_int_eq(lupi_teacher_create(&ext), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(ext, other, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(s, ext, NULL, ds, idx, 2, &v),
			 LUPI_EMISMATCH);
	ck_assert_int_eq(lupi_student_fit(s, ext, NULL, ds, NULL, NULL, NULL),
			 LUPI_EMISMATCH);
	/* An empty teacher. */
	lupi_teacher *empty = NULL;
	ck_assert_int_eq(lupi_teacher_create(&empty), LUPI_OK);
	ck_assert_int_eq(lupi_student_step(s, empty, NULL, ds, idx, 2, &v),
			 LUPI_ESTATE);
	lupi_teacher_free(empty);
	lupi_teacher_free(ext);
	lupi_dataset_free(other);
	lupi_model_free(s2);
	lupi_dataset_free(ds2);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- gradients without an update and the loss over a dataset ---------- */

/* n samples (n > 256 crosses the chunks of lupi_student_loss), 3 regular
 * and 2 privileged features with every fifth X* missing, 3 classes, and
 * weights. */
static lupi_dataset *wide_ds(size_t n, int weighted)
{
	float *x = malloc(n * 3 * sizeof *x), *xs = malloc(n * 2 * sizeof *xs);
	float *w = malloc(n * sizeof *w);
	int32_t *y = malloc(n * sizeof *y);
	uint8_t *mask = malloc(n);
	lupi__rng r;
	lupi__rng_seed(&r, 77);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < 3; j++)
			x[i * 3 + j] = (float)lupi__rng_normal(&r);
		for (size_t j = 0; j < 2; j++)
			xs[i * 2 + j] = (float)lupi__rng_normal(&r);
		y[i] = (int32_t)(i * 7 % 3);
		w[i] = (float)(i % 4) * 0.5f;
		mask[i] = i % 5 != 2;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 3, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	if (weighted)
		ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	free(x);
	free(xs);
	free(w);
	free(y);
	free(mask);
	return ds;
}

START_TEST(gradient_is_the_sgd_step)
{
	/* SGD with lr 1 and no momentum moves the weights by exactly minus
	 * the gradient: w_after = w_before - grad. The gradient changes
	 * nothing, so two calls agree bit for bit. */
	uint8_t mask[10] = {1, 1, 0, 1, 1, 1, 1, 0, 1, 1};
	float wts[10] = {1, 2, 1, 0.5f, 1, 1, 3, 1, 1, 0.25f};
	lupi_dataset *ds = small_ds(10, mask, wts);
	lupi_teacher *t = priv_teacher();
	const size_t hidden[1] = {5};
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			    LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(a, LUPI_MODEL_OPT_ACTIVATION,
					    LUPI_ACT_TANH),
			 LUPI_OK);
	plain_sgd(a, 1.0);
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	lupi_model *b = NULL;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	size_t np = lupi_model_num_params(a);
	ck_assert_uint_eq(np, 3 * 5 + 5 + 5 * 3 + 3);
	float p0[38], g[38], g2[38], pa[38], pb[38];
	ck_assert_int_eq(lupi_model_get_params(a, p0, np), LUPI_OK);
	lupi_loss *loss = kd(0.6, 3.0);
	size_t idx[7] = {9, 0, 2, 4, 7, 5, 1};
	double va = 0, va2 = 0, vb = 0;
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, idx, 7, &va, g,
					       np),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, idx, 7, &va2,
					       g2, np),
			 LUPI_OK);
	ck_assert_double_eq(va, va2);
	ck_assert_mem_eq(g, g2, sizeof g);
	ck_assert_int_eq(lupi_model_get_params(a, pa, np), LUPI_OK);
	ck_assert_mem_eq(pa, p0, sizeof pa);
	ck_assert_int_eq(lupi_student_step(b, t, loss, ds, idx, 7, &vb),
			 LUPI_OK);
	ck_assert_double_eq(va, vb);
	ck_assert_int_eq(lupi_model_get_params(b, pb, np), LUPI_OK);
	int nonzero = 0;
	for (size_t i = 0; i < np; i++) {
		ck_assert_float_eq_tol(pb[i], p0[i] - g[i], 1e-6f);
		nonzero += g[i] != 0.0f;
	}
	ck_assert_int_gt(nonzero, 30);

	/* A frozen first layer: its gradient is reported as 0. */
	ck_assert_int_eq(lupi_model_set_layer_int(a, 0, LUPI_LAYER_OPT_FROZEN,
						  1),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, idx, 7, &va2,
					       g2, np),
			 LUPI_OK);
	for (size_t i = 0; i < np; i++)
		ck_assert_float_eq(g2[i], i < 20 ? 0.0f : g[i]);

	/* Errors. */
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, idx, 7, &va, g,
					       np - 1),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, idx, 7, &va,
					       NULL, np),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_gradient(NULL, t, loss, ds, idx, 7, &va,
					       g, np),
			 LUPI_EINVAL);
	size_t bad[1] = {10};
	ck_assert_int_eq(lupi_student_gradient(a, t, loss, ds, bad, 1, &va, g,
					       np),
			 LUPI_ERANGE);
	lupi_loss_free(loss);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(gradient_leaves_the_feature_loss_alone)
{
	/* A hint loss learns its regressor in every step, never in a
	 * gradient: gradients agree bit for bit however often they are
	 * taken, and a step after them equals a step with a copy of the
	 * loss that saw no gradient. */
	lupi_dataset *ds = small_ds(8, NULL, NULL);
	const size_t th[1] = {4}, sh[1] = {6};
	lupi_model *tm = mlp(LUPI_TASK_CLASSIFICATION, 2, th, 1, 3,
			     LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_model_init(tm), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	lupi_model *a = mlp(LUPI_TASK_CLASSIFICATION, 3, sh, 1, 3,
			    LUPI_VIEW_REGULAR);
	plain_sgd(a, 0.1);
	ck_assert_int_eq(lupi_model_init(a), LUPI_OK);
	lupi_model *b = NULL;
	ck_assert_int_eq(lupi_model_clone(a, &b), LUPI_OK);
	lupi_loss *hint = kd(0.5, 2.0), *fresh = NULL;
	ck_assert_int_eq(lupi_loss_set_int(hint, LUPI_LOSS_OPT_FEATURE,
					   LUPI_FEATURE_HINT),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_clone(hint, &fresh), LUPI_OK);
	lupi_loss *never = NULL;
	ck_assert_int_eq(lupi_loss_clone(hint, &never), LUPI_OK);
	size_t np = lupi_model_num_params(a), idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	float *g1 = malloc(np * sizeof *g1), *g2 = malloc(np * sizeof *g2);
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
	double v1, v2, va, vb;
	ck_assert_int_eq(lupi_student_gradient(a, t, hint, ds, idx, 8, &v1,
					       g1, np),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_gradient(a, t, hint, ds, idx, 8, &v2,
					       g2, np),
			 LUPI_OK);
	ck_assert_double_eq(v1, v2);
	ck_assert_mem_eq(g1, g2, np * sizeof *g1);
	/* The batch is the whole dataset and there is no dropout: the loss
	 * over the dataset, feature term included, is the same value, and
	 * it learns nothing either. */
	double vl;
	ck_assert_int_eq(lupi_student_loss(a, t, hint, ds, &vl), LUPI_OK);
	ck_assert_double_eq_tol(vl, v1, 1e-9 * fabs(v1));
	ck_assert_int_eq(lupi_student_step(a, t, hint, ds, idx, 8, &va),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(b, t, fresh, ds, idx, 8, &vb),
			 LUPI_OK);
	ck_assert_double_eq(va, vb);
	ck_assert_double_eq(va, v1);
	lupi_model_get_params(a, pa, np);
	lupi_model_get_params(b, pb, np);
	ck_assert_mem_eq(pa, pb, np * sizeof *pa);
	/* The steps did update the regressors, alike: gradients with the
	 * two losses agree, and differ from one with a loss that never took
	 * a step. */
	ck_assert_int_eq(lupi_student_gradient(b, t, fresh, ds, idx, 8, &v1,
					       g1, np),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_gradient(b, t, hint, ds, idx, 8, &v2,
					       g2, np),
			 LUPI_OK);
	ck_assert_double_eq(v1, v2);
	ck_assert_mem_eq(g1, g2, np * sizeof *g1);
	ck_assert_int_eq(lupi_student_gradient(b, t, never, ds, idx, 8, &v2,
					       g2, np),
			 LUPI_OK);
	ck_assert(memcmp(g1, g2, np * sizeof *g1) != 0);
	lupi_loss_free(never);
	free(g1);
	free(g2);
	free(pa);
	free(pb);
	lupi_loss_free(hint);
	lupi_loss_free(fresh);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_model_free(tm);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

/* lupi_loss_eval over the student's predicted logits of the samples it
 * sees, the teacher's outputs, labels and weights: the reference of
 * lupi_student_loss (one batch of every sample). */
static double manual_loss(const lupi_model *s, const lupi_teacher *t,
			  const lupi_loss *loss, const lupi_dataset *ds,
			  int view)
{
	size_t n = lupi_dataset_rows(ds), d = lupi_dataset_dim(ds, view);
	const float *x = lupi_dataset_features(ds, view);
	const uint8_t *mask = lupi_dataset_mask(ds);
	const int32_t *y = lupi_dataset_labels(ds);
	const float *w = lupi_dataset_weights(ds);
	size_t *idx = malloc(n * sizeof *idx);
	float *rows = malloc(n * d * sizeof *rows), *lg = malloc(n * 3 * 4);
	float *tz = malloc(n * 3 * 4), *wv = malloc(n * 4);
	int32_t *yv = malloc(n * 4);
	uint8_t *has = malloc(n);
	size_t nv = 0;
	for (size_t i = 0; i < n; i++) {
		if (view != LUPI_VIEW_REGULAR && mask && !mask[i])
			continue;
		memcpy(rows + nv * d, x + i * d, d * sizeof *rows);
		yv[nv] = y[i];
		wv[nv] = w ? w[i] : 1.0f;
		idx[nv++] = i;
	}
	ck_assert_int_eq(lupi_model_predict(s, rows, nv, d,
					    LUPI_PREDICT_LOGITS, lg),
			 LUPI_OK);
	if (t)
		ck_assert_int_eq(lupi_teacher_outputs(t, ds, idx, nv, tz, has),
				 LUPI_OK);
	double v = NAN;
	ck_assert_int_eq(lupi_loss_eval(loss, nv, 3, lg, t ? tz : NULL, yv,
					NULL, wv, t ? has : NULL, &v, NULL),
			 LUPI_OK);
	free(idx);
	free(rows);
	free(lg);
	free(tz);
	free(wv);
	free(yv);
	free(has);
	return v;
}

START_TEST(loss_over_the_dataset)
{
	lupi_dataset *ds = wide_ds(600, 1);
	lupi_teacher *t = priv_teacher();
	const size_t hidden[1] = {5};
	lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
			    LUPI_VIEW_REGULAR);
	double v;
	/* Not initialised yet. */
	ck_assert_int_eq(lupi_student_loss(s, t, NULL, ds, &v), LUPI_ESTATE);
	/* Dropout is off in evaluation mode, and nothing is updated: two
	 * calls agree, and the parameters and the random state are kept
	 * (a later step equals one of a clone that never saw the loss). */
	ck_assert_int_eq(lupi_model_set_double(s, LUPI_MODEL_OPT_DROPOUT, 0.5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(s), LUPI_OK);
	lupi_model *c = NULL;
	ck_assert_int_eq(lupi_model_clone(s, &c), LUPI_OK);
	lupi_loss *loss = kd(0.7, 2.0);
	ck_assert_int_eq(lupi_loss_set_double(loss,
					      LUPI_LOSS_OPT_NO_TEACHER_WEIGHT,
					      0.3),
			 LUPI_OK);
	double v2;
	ck_assert_int_eq(lupi_student_loss(s, t, loss, ds, &v), LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(s, t, loss, ds, &v2), LUPI_OK);
	ck_assert_double_eq(v, v2);
	double want = manual_loss(s, t, loss, ds, LUPI_VIEW_REGULAR);
	ck_assert_double_eq_tol(v, want, 1e-6 * fabs(want));
	/* COUNT normalisation as one batch too. */
	ck_assert_int_eq(lupi_loss_set_int(loss, LUPI_LOSS_OPT_NORMALIZE,
					   LUPI_NORMALIZE_COUNT),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(s, t, loss, ds, &v), LUPI_OK);
	want = manual_loss(s, t, loss, ds, LUPI_VIEW_REGULAR);
	ck_assert_double_eq_tol(v, want, 1e-6 * fabs(want));
	/* No teacher, no loss: the label loss. */
	lupi_loss *hard = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_HARD, &hard), LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(s, NULL, NULL, ds, &v), LUPI_OK);
	want = manual_loss(s, NULL, hard, ds, LUPI_VIEW_REGULAR);
	ck_assert_double_eq_tol(v, want, 1e-6 * fabs(want));

	size_t idx[5] = {0, 1, 2, 3, 4};
	double vs, vc;
	ck_assert_int_eq(lupi_student_step(s, t, loss, ds, idx, 5, &vs),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_step(c, t, loss, ds, idx, 5, &vc),
			 LUPI_OK);
	ck_assert_double_eq(vs, vc);
	size_t np = lupi_model_num_params(s);
	float *ps = malloc(np * sizeof *ps), *pc = malloc(np * sizeof *pc);
	lupi_model_get_params(s, ps, np);
	lupi_model_get_params(c, pc, np);
	ck_assert_mem_eq(ps, pc, np * sizeof *ps);
	free(ps);
	free(pc);

	/* A student on X* skips the samples without it. */
	lupi_model *p = mlp(LUPI_TASK_CLASSIFICATION, 2, NULL, 0, 3,
			    LUPI_VIEW_PRIVILEGED);
	ck_assert_int_eq(lupi_model_init(p), LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(p, NULL, hard, ds, &v), LUPI_OK);
	want = manual_loss(p, NULL, hard, ds, LUPI_VIEW_PRIVILEGED);
	ck_assert_double_eq_tol(v, want, 1e-6 * fabs(want));

	/* Errors. */
	ck_assert_int_eq(lupi_student_loss(NULL, t, loss, ds, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_loss(s, t, loss, NULL, &v), LUPI_EINVAL);
	ck_assert_int_eq(lupi_student_loss(s, t, loss, ds, NULL), LUPI_EINVAL);
	lupi_dataset *other = small_ds(6, NULL, NULL);
	float z[18] = {0};
	lupi_teacher *ext = NULL;
	ck_assert_int_eq(lupi_teacher_create(&ext), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_outputs(ext, other, z, 3,
						  LUPI_OUTPUTS_LOGITS, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_student_loss(s, ext, loss, ds, &v),
			 LUPI_EMISMATCH);
	lupi_teacher_free(ext);
	lupi_dataset_free(other);
	lupi_loss_free(hard);
	lupi_loss_free(loss);
	lupi_model_free(p);
	lupi_model_free(c);
	lupi_model_free(s);
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(one_teacher_serves_two_students)
{
	/* Steps of two students interleaved on one const teacher, prepared
	 * or not, train exactly as each with a teacher of its own. */
	lupi_dataset *ds = wide_ds(40, 0);
	const size_t hidden[1] = {4};
	for (int prepared = 0; prepared < 2; prepared++) {
		lupi_teacher *shared = priv_teacher(), *own[2];
		if (prepared)
			ck_assert_int_eq(lupi_teacher_prepare(shared, ds),
					 LUPI_OK);
		const lupi_teacher *ct = shared;
		lupi_model *s[2], *r[2];
		for (int k = 0; k < 2; k++) {
			own[k] = priv_teacher();
			s[k] = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
				   LUPI_VIEW_REGULAR);
			ck_assert_int_eq(lupi_model_set_int(s[k],
							    LUPI_MODEL_OPT_SEED,
							    10 + k),
					 LUPI_OK);
			ck_assert_int_eq(lupi_model_set_int(s[k],
							    LUPI_MODEL_OPT_BATCH,
							    7 + k),
					 LUPI_OK);
			ck_assert_int_eq(lupi_model_set_int(s[k],
							    LUPI_MODEL_OPT_EPOCHS,
							    3),
					 LUPI_OK);
			ck_assert_int_eq(lupi_model_init(s[k]), LUPI_OK);
			ck_assert_int_eq(lupi_model_clone(s[k], &r[k]),
					 LUPI_OK);
		}
		lupi_loss *la = kd(0.5, 2.0), *lb = kd(0.8, 1.0);
		size_t idx[40];
		for (size_t i = 0; i < 40; i++)
			idx[i] = (i * 13) % 40;
		for (size_t off = 0; off < 40; off += 8) {
			size_t n = off + 11 <= 40 ? 11 : 40 - off;
			ck_assert_int_eq(lupi_student_step(s[0], ct, la, ds,
							   idx + off, n, NULL),
					 LUPI_OK);
			ck_assert_int_eq(lupi_student_step(s[1], ct, lb, ds,
							   idx + off, 5, NULL),
					 LUPI_OK);
			ck_assert_int_eq(lupi_student_step(r[0], own[0], la,
							   ds, idx + off, n,
							   NULL),
					 LUPI_OK);
			ck_assert_int_eq(lupi_student_step(r[1], own[1], lb,
							   ds, idx + off, 5,
							   NULL),
					 LUPI_OK);
		}
		/* Then a fit of each on the same teacher. */
		ck_assert_int_eq(lupi_student_fit(s[0], ct, la, ds, ds, NULL,
						  NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_fit(s[1], ct, lb, ds, NULL, NULL,
						  NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_fit(r[0], own[0], la, ds, ds,
						  NULL, NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_student_fit(r[1], own[1], lb, ds, NULL,
						  NULL, NULL),
				 LUPI_OK);
		for (int k = 0; k < 2; k++) {
			float ps[64], pr[64];
			size_t np = lupi_model_num_params(s[k]);
			ck_assert_uint_le(np, 64);
			lupi_model_get_params(s[k], ps, np);
			lupi_model_get_params(r[k], pr, np);
			ck_assert_mem_eq(ps, pr, np * sizeof *ps);
			lupi_model_free(s[k]);
			lupi_model_free(r[k]);
			lupi_teacher_free(own[k]);
		}
		ck_assert_int_eq(shared->cached, prepared);
		lupi_loss_free(la);
		lupi_loss_free(lb);
		lupi_teacher_free(shared);
	}
	lupi_dataset_free(ds);
}
END_TEST

/* ---- cancelling a fit ---------------------------------------------------- */

typedef struct stopper {
	unsigned calls, stop_epoch;
	size_t size;
	double best;  /* best validation accuracy reported */
} stopper;

static int stop_at(void *user, const lupi_progress *p)
{
	stopper *st = user;
	st->calls++;
	st->size = p->size;
	if (p->epoch_end && !isnan(p->valid_metric) &&
	    p->valid_metric > st->best)
		st->best = p->valid_metric;
	return p->epoch_end && p->epoch == st->stop_epoch;
}

static int stop_mid_epoch(void *user, const lupi_progress *p)
{
	stopper *st = user;
	st->calls++;
	return !p->epoch_end && p->step == 2;
}

START_TEST(cancel_keeps_what_was_trained)
{
	lupi_dataset *ds = wide_ds(60, 0);
	lupi_teacher *t = priv_teacher();
	for (int student = 0; student < 2; student++) {
		lupi_model *m = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 3,
				    LUPI_VIEW_REGULAR);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS,
						    20),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH,
						    10),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(m,
						    LUPI_MODEL_OPT_RESTORE_BEST,
						    0),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
		float p0[12], p1[12], p2[12];
		lupi_model_get_params(m, p0, 12);
		/* Stop after epoch 2: LUPI_ECANCELLED, the two epochs'
		 * training kept. */
		stopper st = {.stop_epoch = 2};
		lupi_model *ref = NULL;
		ck_assert_int_eq(lupi_model_clone(m, &ref), LUPI_OK);
		int rc = student ? lupi_student_fit(m, t, NULL, ds, NULL,
						    stop_at, &st)
				 : lupi_model_fit(m, ds, NULL, stop_at, &st);
		ck_assert_int_eq(rc, LUPI_ECANCELLED);
		ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "cancelled"));
		ck_assert_uint_eq(st.calls, 2);
		ck_assert_uint_eq(st.size, sizeof(lupi_progress));
		lupi_model_get_params(m, p1, 12);
		ck_assert(memcmp(p0, p1, sizeof p0) != 0);
		/* The same two epochs without a callback give the same
		 * weights. */
		ck_assert_int_eq(lupi_model_set_int(ref, LUPI_MODEL_OPT_EPOCHS,
						    2),
				 LUPI_OK);
		rc = student ? lupi_student_fit(ref, t, NULL, ds, NULL, NULL,
						NULL)
			     : lupi_model_fit(ref, ds, NULL, NULL, NULL);
		ck_assert_int_eq(rc, LUPI_OK);
		lupi_model_get_params(ref, p2, 12);
		ck_assert_mem_eq(p1, p2, sizeof p1);
		/* Within an epoch, with PROGRESS_STEPS. */
		ck_assert_int_eq(lupi_model_set_int(m,
						    LUPI_MODEL_OPT_PROGRESS_STEPS,
						    1),
				 LUPI_OK);
		stopper mid = {0};
		rc = student ? lupi_student_fit(m, t, NULL, ds, NULL,
						stop_mid_epoch, &mid)
			     : lupi_model_fit(m, ds, NULL, stop_mid_epoch,
					      &mid);
		ck_assert_int_eq(rc, LUPI_ECANCELLED);
		ck_assert_uint_eq(mid.calls, 2);
		lupi_model_free(ref);
		lupi_model_free(m);
	}
	lupi_teacher_free(t);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(cancel_restores_the_best_epoch)
{
	/* RESTORE_BEST with a validation set: a cancel is a stop like any
	 * other, the best epoch evaluated so far is restored. */
	lupi_dataset *train = wide_ds(80, 0), *valid = small_ds(32, NULL, NULL);
	lupi_model *m = mlp(LUPI_TASK_CLASSIFICATION, 3, NULL, 0, 3,
			    LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 50),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 4),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.2),
			 LUPI_OK);
	stopper st = {.stop_epoch = 6, .best = -1};
	ck_assert_int_eq(lupi_model_fit(m, train, valid, stop_at, &st),
			 LUPI_ECANCELLED);
	double acc;
	ck_assert_int_eq(lupi_model_evaluate(m, valid, LUPI_METRIC_ACCURACY,
					     &acc),
			 LUPI_OK);
	ck_assert_double_eq(acc, st.best);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(valid);
}
END_TEST

/* Each allocation of a first step and a fit failing in turn: LUPI_ENOMEM or
 * success, never a crash or a leak (valgrind). */
START_TEST(allocation_failures)
{
	lupi_dataset *ds = small_ds(12, NULL, NULL);
	const size_t hidden[1] = {4};
	int ok = 0;
	for (int fail = 0; fail < 400 && !ok; fail++) {
		lupi_teacher *t = priv_teacher();
		lupi_model *s = mlp(LUPI_TASK_CLASSIFICATION, 3, hidden, 1, 3,
				    LUPI_VIEW_REGULAR);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 2),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(s, LUPI_MODEL_OPT_BATCH, 5),
				 LUPI_OK);
		size_t idx[3] = {0, 4, 8};
		int budget = fail;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_student_step(s, t, NULL, ds, idx, 3, NULL);
		if (rc == LUPI_OK)
			rc = lupi_student_fit(s, t, NULL, ds, NULL, NULL,
					      NULL);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM,
			      "failure %d: %d (%s)", fail, rc, lupi_errmsg());
		ok = rc == LUPI_OK;
		lupi_model_free(s);
		lupi_teacher_free(t);
	}
	ck_assert_int_eq(ok, 1);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("student");
	TCase *tc = tcase_create("student");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, step_matches_finite_differences);
	tcase_add_test(tc, samples_without_teacher_get_label_term_only);
	tcase_add_test(tc, null_teacher_and_loss_is_a_model_step);
	tcase_add_test(tc, steps_read_the_cache_without_allocating);
	tcase_add_test(tc, restricted_columns);
	tcase_add_test(tc, regression_student_default_loss);
	tcase_add_test(tc, binary_student_with_probabilities);
	tcase_add_test(tc, distillation_helps_on_relevant_features);
	tcase_add_test(tc, saved_student_predicts_alone);
	tcase_add_test(tc, same_seed_same_student);
	tcase_add_test(tc, feature_loss_needs_a_model_teacher);
	tcase_add_test(tc, step_errors);
	tcase_add_test(tc, gradient_is_the_sgd_step);
	tcase_add_test(tc, gradient_leaves_the_feature_loss_alone);
	tcase_add_test(tc, loss_over_the_dataset);
	tcase_add_test(tc, one_teacher_serves_two_students);
	tcase_add_test(tc, cancel_keeps_what_was_trained);
	tcase_add_test(tc, cancel_restores_the_best_epoch);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
