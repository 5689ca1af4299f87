/* lupi_loss_eval: gradients against central finite differences, closed
 * forms, golden values from PyTorch, and the error paths.
 *
 * Finite differences: logits are multiples of 2^-10 with |s| < 16 and the
 * step is h = 2^-12, so s +- h are exact floats and the step is exactly h;
 * the value is computed in double, so the central difference is accurate
 * to about h^2 |L'''| / 6 (< 1e-7 here) plus 1e-16 / h. The gradient is
 * stored as float (relative error 6e-8). Tolerance: 2e-6 + 2e-5 |g|. */
#include <math.h>

#include "golden.h"
#include "testutil.h"

#define FD_H (1.0 / 4096.0)
#define FD_ABS 2e-6
#define FD_REL 2e-5

typedef struct problem {
	size_t n, k;
	float *s, *t, *targets, *weights;
	int32_t *labels;
	uint8_t *mask;
} problem;

static float quantized(lupi__rng *r, double scale)
{
	double v = lupi__rng_normal(r) * scale;
	if (v > 15.0)
		v = 15.0;
	if (v < -15.0)
		v = -15.0;
	return (float)(round(v * 1024.0) / 1024.0);
}

/* A random problem; what: bit 1 regression, 2 weights, 4 mask. */
static problem make_problem(uint64_t seed, size_t n, size_t k, int what)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	problem p = {n, k, NULL, NULL, NULL, NULL, NULL, NULL};
	p.s = malloc(n * k * sizeof *p.s);
	p.t = malloc(n * k * sizeof *p.t);
	for (size_t i = 0; i < n * k; i++) {
		p.s[i] = quantized(&r, 3.0);
		p.t[i] = quantized(&r, 3.0);
	}
	if (what & 1) {
		p.targets = malloc(n * k * sizeof *p.targets);
		for (size_t i = 0; i < n * k; i++)
			p.targets[i] = quantized(&r, 2.0);
	} else {
		p.labels = malloc(n * sizeof *p.labels);
		for (size_t i = 0; i < n; i++)
			p.labels[i] = (int32_t)lupi__rng_below(
				&r, k == 1 ? 2 : k);
	}
	if (what & 2) {
		p.weights = malloc(n * sizeof *p.weights);
		for (size_t i = 0; i < n; i++)
			p.weights[i] = (float)(lupi__rng_uniform(&r) * 2.0);
	}
	if (what & 4) {
		p.mask = malloc(n);
		for (size_t i = 0; i < n; i++)
			p.mask[i] = (uint8_t)(i % 3 != 1);
	}
	return p;
}

static void free_problem(problem *p)
{
	free(p->s);
	free(p->t);
	free(p->targets);
	free(p->weights);
	free(p->labels);
	free(p->mask);
}

static double eval(const lupi_loss *l, const problem *p, float *grad)
{
	double v = NAN;
	int rc = lupi_loss_eval(l, p->n, p->k, p->s, p->t, p->labels,
				p->targets, p->weights, p->mask, &v, grad);
	ck_assert_msg(rc == LUPI_OK, "eval: %s", lupi_errmsg());
	return v;
}

/* Checks every stride-th entry (and each sample's label entry). */
static void check_fd_stride(const lupi_loss *l, problem *p, const char *what,
			    size_t stride)
{
	size_t nk = p->n * p->k;
	float *g = malloc(nk * sizeof *g);
	eval(l, p, g);
	for (size_t i = 0; i < nk; i++) {
		int label = p->labels && p->k > 1 &&
			    (size_t)p->labels[i / p->k] == i % p->k;
		if (i % stride != 0 && !label)
			continue;
		float s0 = p->s[i];
		p->s[i] = (float)(s0 + FD_H);
		double vp = eval(l, p, NULL);
		p->s[i] = (float)(s0 - FD_H);
		double vm = eval(l, p, NULL);
		p->s[i] = s0;
		double fd = (vp - vm) / (2.0 * FD_H);
		ck_assert_msg(fabs(fd - g[i]) <= FD_ABS + FD_REL * fabs(g[i]),
			      "%s: n %zu k %zu, entry %zu: gradient %.9g, "
			      "finite difference %.9g",
			      what, p->n, p->k, i, (double)g[i], fd);
	}
	free(g);
}

static void check_fd(const lupi_loss *l, problem *p, const char *what)
{
	check_fd_stride(l, p, what, 1);
}

static lupi_loss *make_loss(int kind, double lambda, double t)
{
	lupi_loss *l = NULL;
	ck_assert_int_eq(lupi_loss_create(kind, &l), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, lambda),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, t),
			 LUPI_OK);
	return l;
}

static const size_t shapes[][2] = {{1, 2}, {3, 5}, {7, 3}, {4, 10}};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* ---- finite differences -------------------------------------------------- */

/* Loop index: shape x 3 seeds. */
START_TEST(fd_kd_all_options)
{
	size_t sh = (size_t)_i % N_SHAPES;
	uint64_t seed = 100 + (uint64_t)_i;
	const double temps[] = {0.5, 1.0, 4.0};
	for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++)
		for (int sc = 0; sc <= 1; sc++)
			for (int st = 0; st <= 1; st++)
				for (size_t ti = 0; ti < 3; ti++) {
					problem p = make_problem(
						seed, shapes[sh][0],
						shapes[sh][1], 0);
					lupi_loss *l = make_loss(
						LUPI_LOSS_KD, 0.35, temps[ti]);
					lupi_loss_set_int(l,
						LUPI_LOSS_OPT_DIVERGENCE, div);
					lupi_loss_set_int(l, LUPI_LOSS_OPT_SCALE_T2,
							  sc);
					lupi_loss_set_int(l,
						LUPI_LOSS_OPT_STUDENT_T, st);
					char what[64];
					snprintf(what, sizeof what,
						 "KD div %d c %d ts %d T %g",
						 div, sc, st, temps[ti]);
					check_fd(l, &p, what);
					lupi_loss_free(l);
					free_problem(&p);
				}
}
END_TEST

START_TEST(fd_every_kind_with_filters)
{
	size_t sh = (size_t)_i % N_SHAPES;
	for (int kind = LUPI_LOSS_HARD; kind <= LUPI_LOSS_SEL; kind++) {
		for (int f = LUPI_FILTER_NONE; f <= LUPI_FILTER_CONFIDENCE;
		     f++) {
			problem p = make_problem(200 + (uint64_t)_i,
						 shapes[sh][0], shapes[sh][1],
						 0);
			lupi_loss *l = make_loss(kind, 0.6, 2.0);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, f);
			char what[64];
			snprintf(what, sizeof what, "kind %d filter %d", kind,
				 f);
			check_fd(l, &p, what);
			lupi_loss_free(l);
			free_problem(&p);
		}
	}
}
END_TEST

START_TEST(fd_mask_and_weights)
{
	size_t sh = (size_t)_i % N_SHAPES;
	for (int kind = LUPI_LOSS_KD; kind <= LUPI_LOSS_SEL; kind++) {
		problem p = make_problem(300 + (uint64_t)_i, shapes[sh][0] + 2,
					 shapes[sh][1], 2 | 4);
		lupi_loss *l = make_loss(kind, 0.45, 3.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_JS);
		check_fd(l, &p, "mask and weights");
		lupi_loss_free(l);
		free_problem(&p);
	}
}
END_TEST

START_TEST(fd_columns)
{
	const size_t cols[] = {4, 0, 2};
	for (int kind = LUPI_LOSS_KD; kind <= LUPI_LOSS_SEL; kind++) {
		for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
			problem p = make_problem(400 + (uint64_t)_i, 6, 5, 2);
			lupi_loss *l = make_loss(kind, 0.5, 2.5);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER,
					  _i % 2 ? LUPI_FILTER_CONFIDENCE
						 : LUPI_FILTER_NONE);
			ck_assert_int_eq(lupi_loss_set_columns(l, cols, 3),
					 LUPI_OK);
			check_fd(l, &p, "columns");
			lupi_loss_free(l);
			free_problem(&p);
		}
	}
}
END_TEST

START_TEST(fd_binary)
{
	for (int kind = LUPI_LOSS_HARD; kind <= LUPI_LOSS_SEL; kind++) {
		for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
			for (int f = 0; f <= 2; f++) {
				problem p = make_problem(500 + (uint64_t)_i,
							 5 + (size_t)_i, 1,
							 _i % 2 ? 6 : 0);
				lupi_loss *l = make_loss(kind, 0.4, 2.0);
				lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE,
						  div);
				lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, f);
				lupi_loss_set_int(l, LUPI_LOSS_OPT_STUDENT_T,
						  _i % 2);
				check_fd(l, &p, "binary");
				lupi_loss_free(l);
				free_problem(&p);
			}
		}
	}
}
END_TEST

START_TEST(fd_regression)
{
	size_t sh = (size_t)_i % N_SHAPES;
	const size_t cols[] = {0};
	for (int kind = LUPI_LOSS_HARD; kind <= LUPI_LOSS_REGRESSION;
	     kind += LUPI_LOSS_REGRESSION) {
		problem p = make_problem(600 + (uint64_t)_i, shapes[sh][0],
					 shapes[sh][1], 1 | 2 | 4);
		lupi_loss *l = make_loss(kind, 0.3, 1.0);
		check_fd(l, &p, "regression");
		lupi_loss_set_columns(l, cols, 1);
		check_fd(l, &p, "regression, columns");
		lupi_loss_free(l);
		free_problem(&p);
	}
}
END_TEST

START_TEST(fd_large_k)
{
	/* k above the stack cache (1024): probabilities are recomputed. */
	size_t cols[1030];
	for (size_t i = 0; i < 1030; i++)
		cols[i] = 1099 - 1 - i;
	for (int kind = LUPI_LOSS_KD; kind <= LUPI_LOSS_SEL; kind++) {
		for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
			problem p = make_problem(800 + (uint64_t)div, 2, 1100,
						 0);
			lupi_loss *l = make_loss(kind, 0.5, 2.0);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER,
					  LUPI_FILTER_CONFIDENCE);
			if (div == LUPI_DIV_JS)
				lupi_loss_set_columns(l, cols, 1030);
			check_fd_stride(l, &p, "k 1100", 53);
			lupi_loss_free(l);
			free_problem(&p);
			if (kind != LUPI_LOSS_KD)
				break;
		}
	}
}
END_TEST

/* ---- closed forms -------------------------------------------------------- */

static double ce(const float *s, size_t k, size_t y)
{
	return lupi__logsumexp(s, k, 1.0) - s[y];
}

START_TEST(kd_with_teacher_equal_student)
{
	/* KL, reverse KL and JS vanish when q = p: only (1-l) CE is left,
	 * with gradient (1-l)(p - onehot)/n. */
	for (int div = LUPI_DIV_KL; div <= LUPI_DIV_JS; div++) {
		problem p = make_problem(700, 4, 6, 0);
		memcpy(p.t, p.s, 24 * sizeof(float));
		lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.7, 3.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
		float g[24], gh[24];
		double v = eval(l, &p, g);
		double ref = 0.0;
		for (size_t i = 0; i < 4; i++)
			ref += ce(p.s + 6 * i, 6, (size_t)p.labels[i]) / 4.0;
		ck_assert_double_eq_tol(v, 0.3 * ref, 1e-12);
		lupi_loss *h = make_loss(LUPI_LOSS_HARD, 0.7, 3.0);
		eval(h, &p, gh);
		for (size_t i = 0; i < 24; i++)
			ck_assert_double_eq_tol(g[i], 0.3 * gh[i], 1e-6);
		lupi_loss_free(l);
		lupi_loss_free(h);
		free_problem(&p);
	}
}
END_TEST

START_TEST(lambda_zero_equals_hard)
{
	problem p = make_problem(701, 5, 4, 2);
	lupi_loss *h = make_loss(LUPI_LOSS_HARD, 0.5, 1.0);
	float gh[20], g[20];
	double vh = eval(h, &p, gh);
	for (int kind = LUPI_LOSS_KD; kind <= LUPI_LOSS_SEL; kind++) {
		lupi_loss *l = make_loss(kind, 0.0, 5.0);
		double v = eval(l, &p, g);
		ck_assert_double_eq_tol(v, vh, 1e-12);
		for (size_t i = 0; i < 20; i++)
			ck_assert_float_eq(g[i], gh[i]);
		lupi_loss_free(l);
	}
	/* A batch where no sample has a teacher is the label loss too. */
	uint8_t none[5] = {0};
	p.mask = malloc(5);
	memcpy(p.mask, none, 5);
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.9, 5.0);
	ck_assert_double_eq_tol(eval(l, &p, g), vh, 1e-12);
	lupi_loss_free(l);
	lupi_loss_free(h);
	free_problem(&p);
}
END_TEST

START_TEST(kd_soft_labels)
{
	/* T = 1, lambda = 1, CE: the mean of -sum q log p(s), q = p(t);
	 * gradient (p - q) / n. KL is that minus the teacher entropy. */
	problem p = make_problem(702, 3, 5, 0);
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 1.0, 1.0);
	float g[15];
	double v = eval(l, &p, g), ref = 0.0, ent = 0.0;
	for (size_t i = 0; i < 3; i++) {
		double ps[5], pt[5];
		lupi__softmax(p.s + 5 * i, 5, 1.0, ps);
		lupi__softmax(p.t + 5 * i, 5, 1.0, pt);
		for (size_t j = 0; j < 5; j++) {
			ref -= pt[j] * log(ps[j]) / 3.0;
			ent -= pt[j] * log(pt[j]) / 3.0;
			ck_assert_double_eq_tol(g[5 * i + j],
						(ps[j] - pt[j]) / 3.0, 1e-7);
		}
	}
	ck_assert_double_eq_tol(v, ref, 1e-12);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_KL);
	ck_assert_double_eq_tol(eval(l, &p, NULL), ref - ent, 1e-12);
	lupi_loss_free(l);
	free_problem(&p);
}
END_TEST

START_TEST(kd_scale_and_student_temperature)
{
	/* c = T^2 multiplies the teacher term by T^2 exactly; Ts = 1 with
	 * T = 1 changes nothing. */
	problem p = make_problem(703, 4, 3, 0);
	lupi_loss *a = make_loss(LUPI_LOSS_KD, 1.0, 3.0);
	lupi_loss *b = make_loss(LUPI_LOSS_KD, 1.0, 3.0);
	lupi_loss_set_int(b, LUPI_LOSS_OPT_SCALE_T2, 0);
	ck_assert_double_eq_tol(eval(a, &p, NULL), 9.0 * eval(b, &p, NULL),
				1e-12);
	lupi_loss *c = make_loss(LUPI_LOSS_KD, 0.5, 1.0);
	lupi_loss *d = make_loss(LUPI_LOSS_KD, 0.5, 1.0);
	lupi_loss_set_int(d, LUPI_LOSS_OPT_STUDENT_T, 1);
	ck_assert_double_eq_tol(eval(c, &p, NULL), eval(d, &p, NULL), 1e-15);
	lupi_loss_free(a);
	lupi_loss_free(b);
	lupi_loss_free(c);
	lupi_loss_free(d);
	free_problem(&p);
}
END_TEST

START_TEST(logits_sel_regression_values)
{
	float s[4] = {1.0f, 2.0f, -1.0f, 0.5f}, t[4] = {0.0f, 2.0f, 1.0f, 0.5f};
	int32_t y[2] = {1, 0};
	double v;
	lupi_loss *l = make_loss(LUPI_LOSS_LOGITS, 0.25, 1.0);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 2, s, t, y, NULL, NULL, NULL,
					&v, NULL), LUPI_OK);
	double ce0 = ce(s, 2, 1), ce1 = ce(s + 2, 2, 0);
	ck_assert_double_eq_tol(v, (0.75 * (ce0 + ce1) + 0.25 * 0.5 *
				    (1.0 + 4.0)) / 2.0, 1e-12);
	lupi_loss_free(l);
	l = make_loss(LUPI_LOSS_SEL, 0.5, 1.0);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 2, s, t, y, NULL, NULL, NULL,
					&v, NULL), LUPI_OK);
	double d0 = -ce0 + ce(t, 2, 1), d1 = -ce1 + ce(t + 2, 2, 0);
	ck_assert_double_eq_tol(v, (0.5 * (ce0 + ce1) +
				    0.25 * (d0 * d0 + d1 * d1)) / 2.0, 1e-12);
	lupi_loss_free(l);
	float tg[4] = {1.5f, 2.0f, 0.0f, 0.0f};
	l = make_loss(LUPI_LOSS_REGRESSION, 0.5, 1.0);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 2, s, t, NULL, tg, NULL, NULL,
					&v, NULL), LUPI_OK);
	/* |f - y|^2 = 0.25 + 0 + 1 + 0.25, |f - t|^2 = 1 + 0 + 4 + 0 */
	ck_assert_double_eq_tol(v, (0.25 * 1.5 + 0.25 * 5.0) / 2.0, 1e-12);
	lupi_loss_free(l);
}
END_TEST

START_TEST(binary_is_bce_and_two_class)
{
	/* k = 1: BCE on logits; KD equals KD on the two-class logits (0, s). */
	float s[3] = {2.0f, -1.0f, 0.25f}, t[3] = {-0.5f, 1.5f, 3.0f};
	int32_t y[3] = {1, 0, 1};
	double v;
	float g[3];
	lupi_loss *h = make_loss(LUPI_LOSS_HARD, 0.5, 1.0);
	ck_assert_int_eq(lupi_loss_eval(h, 3, 1, s, NULL, y, NULL, NULL, NULL,
					&v, g), LUPI_OK);
	double ref = (log1p(exp(-2.0)) + log1p(exp(-1.0)) +
		      log1p(exp(-0.25))) / 3.0;
	ck_assert_double_eq_tol(v, ref, 1e-12);
	ck_assert_double_eq_tol(g[1], 1.0 / (1.0 + exp(1.0)) / 3.0, 1e-7);
	lupi_loss_free(h);
	float s2[6], t2[6], g2[6];
	for (int i = 0; i < 3; i++) {
		s2[2 * i] = t2[2 * i] = 0.0f;
		s2[2 * i + 1] = s[i];
		t2[2 * i + 1] = t[i];
	}
	for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
		lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.6, 2.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
		double v2;
		ck_assert_int_eq(lupi_loss_eval(l, 3, 1, s, t, y, NULL, NULL,
						NULL, &v, g), LUPI_OK);
		ck_assert_int_eq(lupi_loss_eval(l, 3, 2, s2, t2, y, NULL, NULL,
						NULL, &v2, g2), LUPI_OK);
		ck_assert_double_eq_tol(v, v2, 1e-12);
		for (int i = 0; i < 3; i++)
			ck_assert_double_eq_tol(g[i], g2[2 * i + 1],
						1e-7);
		lupi_loss_free(l);
	}
}
END_TEST

START_TEST(weights_repeat_samples)
{
	/* Weight 2 on a sample equals that sample listed twice. */
	problem p = make_problem(704, 3, 4, 0);
	float w[3] = {2.0f, 1.0f, 1.0f};
	float s4[16], t4[16];
	int32_t y4[4];
	memcpy(s4, p.s, 12 * sizeof(float));
	memcpy(s4 + 12, p.s, 4 * sizeof(float));
	memcpy(t4, p.t, 12 * sizeof(float));
	memcpy(t4 + 12, p.t, 4 * sizeof(float));
	memcpy(y4, p.labels, 3 * sizeof(int32_t));
	y4[3] = p.labels[0];
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 2.0);
	double a, b;
	ck_assert_int_eq(lupi_loss_eval(l, 3, 4, p.s, p.t, p.labels, NULL, w,
					NULL, &a, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_loss_eval(l, 4, 4, s4, t4, y4, NULL, NULL, NULL,
					&b, NULL), LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-12);
	/* All weights 0: value 0, gradient 0. */
	float z[3] = {0.0f, 0.0f, 0.0f}, g[12];
	ck_assert_int_eq(lupi_loss_eval(l, 3, 4, p.s, p.t, p.labels, NULL, z,
					NULL, &a, g), LUPI_OK);
	ck_assert_double_eq(a, 0.0);
	for (int i = 0; i < 12; i++)
		ck_assert_float_eq(g[i], 0.0f);
	lupi_loss_free(l);
	free_problem(&p);
}
END_TEST

START_TEST(drop_wrong_is_like_no_teacher)
{
	/* Sample 0's teacher is right, sample 1's is wrong: with DROP_WRONG,
	 * sample 1 counts as a sample without teacher. */
	float s[6] = {0.5f, 1.0f, -1.0f, 2.0f, 0.0f, 1.0f};
	float t[6] = {0.0f, 3.0f, 1.0f, 0.0f, 0.5f, 4.0f};
	int32_t y[2] = {1, 0};
	uint8_t mask[2] = {1, 0};
	double a, b;
	float ga[6], gb[6];
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.8, 2.0);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, LUPI_FILTER_DROP_WRONG);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL,
					&a, ga), LUPI_OK);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, LUPI_FILTER_NONE);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, mask,
					&b, gb), LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-15);
	for (int i = 0; i < 6; i++)
		ck_assert_float_eq(ga[i], gb[i]);
	lupi_loss_free(l);
}
END_TEST

START_TEST(confidence_scales_teacher_term)
{
	float s[3] = {0.5f, 1.0f, -1.0f}, t[3] = {0.0f, 3.0f, 1.0f};
	int32_t y[1] = {1};
	double vn, vc, vh;
	lupi_loss *l = make_loss(LUPI_LOSS_LOGITS, 0.5, 1.0);
	ck_assert_int_eq(lupi_loss_eval(l, 1, 3, s, t, y, NULL, NULL, NULL,
					&vn, NULL), LUPI_OK);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, LUPI_FILTER_CONFIDENCE);
	ck_assert_int_eq(lupi_loss_eval(l, 1, 3, s, t, y, NULL, NULL, NULL,
					&vc, NULL), LUPI_OK);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.0);
	ck_assert_int_eq(lupi_loss_eval(l, 1, 3, s, t, y, NULL, NULL, NULL,
					&vh, NULL), LUPI_OK);
	double pt = exp(3.0) / (1.0 + exp(3.0) + exp(1.0));
	double half_ce = 0.5 * vh;
	ck_assert_double_eq_tol(vc - half_ce, pt * (vn - half_ce), 1e-12);
	lupi_loss_free(l);
}
END_TEST

START_TEST(columns_renormalise)
{
	/* KD restricted to columns {0, 2} equals KD on a problem that has
	 * only those columns, apart from the label term (all columns). */
	float s[4] = {0.5f, 9.0f, -1.0f, 2.0f};
	float t[4] = {1.0f, -4.0f, 0.0f, 3.0f};
	float s2[2] = {0.5f, -1.0f}, t2[2] = {1.0f, 0.0f};
	int32_t y[1] = {0};
	size_t cols[2] = {0, 2};
	double v, v2;
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 1.0, 2.0);
	lupi_loss_set_columns(l, cols, 2);
	ck_assert_int_eq(lupi_loss_eval(l, 1, 4, s, t, y, NULL, NULL, NULL,
					&v, NULL), LUPI_OK);
	lupi_loss_set_columns(l, NULL, 0);
	ck_assert_int_eq(lupi_loss_eval(l, 1, 2, s2, t2, y, NULL, NULL, NULL,
					&v2, NULL), LUPI_OK);
	ck_assert_double_eq_tol(v, v2, 1e-12);
	lupi_loss_free(l);
}
END_TEST

static int count_allocs(size_t size, void *user)
{
	(void)size;
	(*(int *)user)++;
	return 1;
}

START_TEST(no_allocation_in_eval)
{
	/* k = 5000 > 4096: still nothing allocated (softmax is streamed). */
	problem p = make_problem(705, 2, 5000, 2 | 4);
	float *g = malloc(10000 * sizeof *g);
	int calls = 0;
	for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
		lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 4.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
		lupi__set_alloc_gate(count_allocs, &calls);
		double v = eval(l, &p, g);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(isfinite(v));
		lupi_loss_free(l);
	}
	ck_assert_int_eq(calls, 0);
	free(g);
	free_problem(&p);
}
END_TEST

/* A batch large enough to be split over the library's threads gives the
 * bits of the one-thread loop: loss and gradient. */
START_TEST(threads_give_the_same_bits)
{
	problem p = make_problem(11, 300, 10, 2 | 4);
	float *g1 = malloc(3000 * sizeof *g1), *g2 = malloc(3000 * sizeof *g2);
	ck_assert(g1 && g2);
	for (int div = LUPI_DIV_CE; div <= LUPI_DIV_JS; div++) {
		lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 4.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, div);
		ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
		double v1 = eval(l, &p, g1);
		ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
		double v2 = eval(l, &p, g2);
		ck_assert(isfinite(v1));
		ck_assert_mem_eq(&v1, &v2, sizeof v1);
		ck_assert_mem_eq(g1, g2, 3000 * sizeof *g1);
		/* rows without a teacher weighted 0: rows with no term */
		ck_assert_int_eq(lupi_loss_set_double(
			l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 0.0), LUPI_OK);
		ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
		v1 = eval(l, &p, g1);
		ck_assert_int_eq(lupi_set_num_threads(2), LUPI_OK);
		v2 = eval(l, &p, g2);
		ck_assert(isfinite(v1));
		ck_assert_mem_eq(&v1, &v2, sizeof v1);
		ck_assert_mem_eq(g1, g2, 3000 * sizeof *g1);
		lupi_loss_free(l);
	}
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
	free(g1), free(g2);
	free_problem(&p);
}
END_TEST

/* ---- NORMALIZE and NO_TEACHER_WEIGHT ------------------------------------- */

/* Configurations of the tests below (loop index): loss kind, k, and
 * make_problem's what (1 regression, 2 weights, 4 mask). */
static const struct {
	int kind;
	size_t n, k;
	int what;
} ncfg[] = {
	{LUPI_LOSS_KD, 7, 4, 2 | 4},     {LUPI_LOSS_KD, 6, 1, 2 | 4},
	{LUPI_LOSS_LOGITS, 5, 3, 4},     {LUPI_LOSS_SEL, 8, 5, 2 | 4},
	{LUPI_LOSS_REGRESSION, 6, 2, 1 | 2 | 4},
	{LUPI_LOSS_HARD, 5, 3, 2 | 4},
};
#define N_NCFG (sizeof ncfg / sizeof ncfg[0])

static problem ncfg_problem(int i, uint64_t seed)
{
	return make_problem(seed, ncfg[i].n, ncfg[i].k, ncfg[i].what);
}

static lupi_loss *ncfg_loss(int i, int normalize, double ntw)
{
	lupi_loss *l = make_loss(ncfg[i].kind, 0.4, 2.0);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_JS);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE,
					   normalize), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT,
					      ntw), LUPI_OK);
	return l;
}

/* l_i: each sample alone, with the default NORMALIZE and NO_TEACHER_WEIGHT
 * (so an untaught sample's value is its label term). */
static void per_sample(const lupi_loss *l, const problem *p, double *li)
{
	lupi_loss *one = NULL;
	ck_assert_int_eq(lupi_loss_clone(l, &one), LUPI_OK);
	lupi_loss_set_int(one, LUPI_LOSS_OPT_NORMALIZE, LUPI_NORMALIZE_WEIGHTS);
	lupi_loss_set_double(one, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 1.0);
	size_t k = p->k;
	for (size_t i = 0; i < p->n; i++) {
		int rc = lupi_loss_eval(one, 1, k, p->s + i * k, p->t + i * k,
					p->labels ? p->labels + i : NULL,
					p->targets ? p->targets + i * k : NULL,
					NULL, p->mask ? p->mask + i : NULL,
					&li[i], NULL);
		ck_assert_msg(rc == LUPI_OK, "sample %zu: %s", i,
			      lupi_errmsg());
	}
	lupi_loss_free(one);
}

/* sum w_i f_i l_i and sum w_i f_i, f_i = ntw for untaught samples of a
 * loss with a teacher term. */
static void hand_sums(const problem *p, const double *li, int kind,
		      double ntw, double *num, double *den)
{
	*num = *den = 0.0;
	for (size_t i = 0; i < p->n; i++) {
		double w = p->weights ? p->weights[i] : 1.0;
		if (kind != LUPI_LOSS_HARD && p->mask && !p->mask[i])
			w *= ntw;
		*num += w * li[i];
		*den += w;
	}
}

/* COUNT: sum w_i f_i l_i / n, by hand and by finite differences. */
START_TEST(normalize_count)
{
	const double ntws[] = {1.0, 0.5, 0.0};
	for (size_t a = 0; a < 3; a++) {
		problem p = ncfg_problem(_i, 900 + (uint64_t)_i);
		lupi_loss *l = ncfg_loss(_i, LUPI_NORMALIZE_COUNT, ntws[a]);
		double *li = malloc(p.n * sizeof *li), num, den;
		per_sample(l, &p, li);
		hand_sums(&p, li, ncfg[_i].kind, ntws[a], &num, &den);
		double v = eval(l, &p, NULL), want = num / (double)p.n;
		ck_assert_msg(fabs(v - want) <= 1e-12 * (1.0 + fabs(want)),
			      "config %d, NO_TEACHER_WEIGHT %g: %.17g, by "
			      "hand %.17g", _i, ntws[a], v, want);
		char what[64];
		snprintf(what, sizeof what, "COUNT, config %d, ntw %g", _i,
			 ntws[a]);
		check_fd(l, &p, what);
		/* The weights are not renormalised: twice the weights, twice
		 * the value (WEIGHTS: the same value). */
		if (p.weights) {
			for (size_t i = 0; i < p.n; i++)
				p.weights[i] *= 2.0f;
			ck_assert_double_eq_tol(eval(l, &p, NULL), 2.0 * v,
						1e-12 * (1.0 + fabs(v)));
			lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE,
					  LUPI_NORMALIZE_WEIGHTS);
			double v2 = eval(l, &p, NULL);
			for (size_t i = 0; i < p.n; i++)
				p.weights[i] *= 0.5f;
			ck_assert_double_eq_tol(eval(l, &p, NULL), v2,
						1e-12 * (1.0 + fabs(v2)));
		}
		free(li);
		lupi_loss_free(l);
		free_problem(&p);
	}
}
END_TEST

/* WEIGHTS with NO_TEACHER_WEIGHT: sum w_i f_i l_i / sum w_i f_i. */
START_TEST(no_teacher_weight_mean)
{
	const double ntws[] = {0.25, 0.0, 1.0};
	for (size_t a = 0; a < 3; a++) {
		problem p = ncfg_problem(_i, 950 + (uint64_t)_i);
		lupi_loss *l = ncfg_loss(_i, LUPI_NORMALIZE_WEIGHTS, ntws[a]);
		double *li = malloc(p.n * sizeof *li), num, den;
		per_sample(l, &p, li);
		hand_sums(&p, li, ncfg[_i].kind, ntws[a], &num, &den);
		double v = eval(l, &p, NULL), want = num / den;
		ck_assert_msg(fabs(v - want) <= 1e-12 * (1.0 + fabs(want)),
			      "config %d, NO_TEACHER_WEIGHT %g: %.17g, by "
			      "hand %.17g", _i, ntws[a], v, want);
		char what[64];
		snprintf(what, sizeof what, "WEIGHTS, config %d, ntw %g", _i,
			 ntws[a]);
		check_fd(l, &p, what);
		free(li);
		lupi_loss_free(l);
		free_problem(&p);
	}
}
END_TEST

/* NO_TEACHER_WEIGHT 0: the value and gradient are those of the taught
 * samples alone; the untaught ones get a zero gradient. */
START_TEST(no_teacher_weight_zero_drops)
{
	problem p = ncfg_problem(_i, 1000 + (uint64_t)_i);
	for (int norm = 0; norm <= 1; norm++) {
		lupi_loss *l = ncfg_loss(_i, LUPI_NORMALIZE_WEIGHTS, 0.0);
		size_t n = p.n, k = p.k, m = 0;
		problem q = make_problem(1, n, k, ncfg[_i].what);
		for (size_t i = 0; i < n; i++) {
			if (!p.mask[i])
				continue;
			memcpy(q.s + m * k, p.s + i * k, k * sizeof(float));
			memcpy(q.t + m * k, p.t + i * k, k * sizeof(float));
			if (p.labels)
				q.labels[m] = p.labels[i];
			if (p.targets)
				memcpy(q.targets + m * k, p.targets + i * k,
				       k * sizeof(float));
			if (p.weights)
				q.weights[m] = p.weights[i];
			q.mask[m] = 1;
			m++;
		}
		ck_assert_uint_gt(m, 0);
		ck_assert_uint_lt(m, n);
		q.n = m;
		/* COUNT divides by the n of the call: m for the subset. */
		lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE, norm);
		float *g = malloc(n * k * sizeof *g), *gq = malloc(m * k *
								  sizeof *gq);
		double v = eval(l, &p, g), vq = eval(l, &q, gq);
		double scale = norm ? (double)m / (double)n : 1.0;
		if (ncfg[_i].kind == LUPI_LOSS_HARD) {
			/* no teacher term, nothing to drop */
			ck_assert_double_gt(v, 0.0);
		} else {
			ck_assert_double_eq_tol(v, scale * vq,
						1e-12 * (1.0 + fabs(vq)));
			for (size_t i = 0, r = 0; i < n; i++) {
				for (size_t j = 0; j < k; j++) {
					float gi = g[i * k + j];
					if (!p.mask[i]) {
						ck_assert_float_eq(gi, 0.0f);
						continue;
					}
					ck_assert_double_eq_tol(
						gi, scale * gq[r * k + j],
						1e-7 * (1.0 + fabs(gi)));
				}
				r += p.mask[i] != 0;
			}
		}
		free(g);
		free(gq);
		free_problem(&q);
		lupi_loss_free(l);
	}
	free_problem(&p);
}
END_TEST

START_TEST(all_dropped_batch_is_zero)
{
	/* Every sample untaught and NO_TEACHER_WEIGHT 0: value 0 and a zero
	 * gradient, not 0/0, under both normalisations. */
	problem p = make_problem(1050, 4, 3, 2 | 4);
	memset(p.mask, 0, p.n);
	float g[12];
	for (int norm = 0; norm <= 1; norm++) {
		lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 2.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE, norm);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 0.0);
		for (int i = 0; i < 12; i++)
			g[i] = NAN;
		double v = eval(l, &p, g);
		ck_assert_double_eq(v, 0.0);
		for (int i = 0; i < 12; i++)
			ck_assert_float_eq(g[i], 0.0f);
		/* Without the gradient too. */
		ck_assert_double_eq(eval(l, &p, NULL), 0.0);
		lupi_loss_free(l);
	}
	free_problem(&p);
}
END_TEST

START_TEST(no_teacher_weight_scope)
{
	/* It weights samples without a teacher output only: not a HARD loss
	 * (no teacher term), not a step without any teacher (t NULL in the
	 * internal entry: a plain label loss), and not samples whose teacher
	 * term a filter dropped (they have a teacher output). */
	problem p = make_problem(1060, 6, 3, 2 | 4);
	double a, b;
	lupi_loss *hard = make_loss(LUPI_LOSS_HARD, 0.5, 1.0);
	b = eval(hard, &p, NULL);
	lupi_loss_set_double(hard, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 0.0);
	ck_assert_double_eq(eval(hard, &p, NULL), b);

	lupi_loss *kd = make_loss(LUPI_LOSS_KD, 0.5, 1.0);
	lupi_loss_set_double(kd, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 0.0);
	ck_assert_int_eq(lupi__loss_eval_output(kd, p.n, p.k, p.s, NULL,
						p.labels, NULL, p.weights,
						p.mask, &a, NULL), LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-12);

	/* DROP_WRONG with a teacher wrong everywhere: label terms at factor
	 * 1, whatever NO_TEACHER_WEIGHT is. */
	for (size_t i = 0; i < p.n; i++) {
		for (size_t j = 0; j < p.k; j++)
			p.t[i * p.k + j] = 0.0f;
		p.t[i * p.k + (size_t)(p.labels[i] + 1) % p.k] = 5.0f;
	}
	lupi_loss_set_int(kd, LUPI_LOSS_OPT_FILTER, LUPI_FILTER_DROP_WRONG);
	ck_assert_int_eq(lupi_loss_eval(kd, p.n, p.k, p.s, p.t, p.labels,
					NULL, p.weights, NULL, &a, NULL),
			 LUPI_OK);
	ck_assert_double_eq_tol(a, b, 1e-12);
	lupi_loss_free(kd);
	lupi_loss_free(hard);
	free_problem(&p);
}
END_TEST

/* ---- golden values from PyTorch ------------------------------------------ */

START_TEST(golden_output_losses)
{
	FILE *f = golden_open();
	golden g = {0};
	int cases = 0;
	while (golden_next(f, &g)) {
		if (golden_get(&g, "kind", NULL) == NULL)
			continue;
		size_t n = golden_size(&g, "n"), k = golden_size(&g, "k"), gn;
		lupi_loss *l = golden_loss(&g);
		float *s = golden_floats(&g, "s"), *t = golden_floats(&g, "t");
		float *tg = golden_floats(&g, "targets");
		float *w = golden_floats(&g, "weights");
		const double *lab = golden_get(&g, "labels", NULL);
		const double *msk = golden_get(&g, "mask", NULL);
		const double *ref = golden_get(&g, "grad", &gn);
		int32_t y[64];
		uint8_t mask[64];
		for (size_t i = 0; i < n; i++) {
			y[i] = lab ? (int32_t)lab[i] : 0;
			mask[i] = msk ? (uint8_t)msk[i] : 1;
		}
		float *grad = malloc(n * k * sizeof *grad);
		double v;
		int rc = lupi_loss_eval(l, n, k, s, t, lab ? y : NULL, tg, w,
					msk ? mask : NULL, &v, grad);
		ck_assert_msg(rc == 0, "%s: %s", g.name, lupi_errmsg());
		double vref = golden_get(&g, "value", NULL)[0];
		ck_assert_msg(fabs(v - vref) <= 1e-9 * (1.0 + fabs(vref)),
			      "%s: value %.12g, PyTorch %.12g", g.name, v,
			      vref);
		ck_assert_uint_eq(gn, n * k);
		for (size_t i = 0; i < gn; i++)
			ck_assert_msg(fabs(grad[i] - ref[i]) <=
					      1e-7 + 1e-6 * fabs(ref[i]),
				      "%s: grad[%zu] %.9g, PyTorch %.9g",
				      g.name, i, (double)grad[i], ref[i]);
		free(grad);
		free(s);
		free(t);
		free(tg);
		free(w);
		lupi_loss_free(l);
		cases++;
	}
	golden_clear(&g);
	fclose(f);
	ck_assert_int_ge(cases, 30);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

#define CK_ERR(call, code, text)                                              \
	do {                                                                  \
		ck_assert_int_eq((call), (code));                             \
		ck_assert_msg(strstr(lupi_errmsg(), (text)) != NULL,          \
			      "message '%s' lacks '%s'", lupi_errmsg(),       \
			      (text));                                        \
	} while (0)

START_TEST(errors_arguments)
{
	float s[6] = {0}, t[6] = {0};
	int32_t y[2] = {0, 1};
	double v;
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 1.0);
	CK_ERR(lupi_loss_eval(NULL, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "NULL");
	CK_ERR(lupi_loss_eval(l, 2, 3, NULL, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "s is NULL");
	CK_ERR(lupi_loss_eval(l, 2, 3, s, NULL, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "teacher");
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, NULL, NULL),
	       LUPI_EINVAL, "value is NULL");
	CK_ERR(lupi_loss_eval(l, 0, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "n = 0");
	CK_ERR(lupi_loss_eval(l, 2, 0, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "k = 0");
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, NULL, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "labels or targets");
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, s, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "labels or targets");
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, NULL, s, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "needs class labels");
	CK_ERR(lupi_loss_eval(l, SIZE_MAX / 2, 3, s, t, y, NULL, NULL, NULL,
			      &v, NULL),
	       LUPI_EINVAL, "overflow");
	size_t cols[1] = {3};
	lupi_loss_set_columns(l, cols, 1);
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ESHAPE, "column 3");
	lupi_loss_free(l);
	l = make_loss(LUPI_LOSS_REGRESSION, 0.5, 1.0);
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "needs targets");
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, LUPI_FILTER_DROP_WRONG);
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, NULL, s, NULL, NULL, &v, NULL),
	       LUPI_EINVAL, "filters");
	lupi_loss_free(l);
	/* HARD needs no teacher. */
	l = make_loss(LUPI_LOSS_HARD, 0.5, 1.0);
	ck_assert_int_eq(lupi_loss_eval(l, 2, 3, s, NULL, y, NULL, NULL, NULL,
					&v, NULL), LUPI_OK);
	ck_assert_double_eq_tol(v, log(3.0), 1e-12);
	lupi_loss_free(l);
}
END_TEST

START_TEST(errors_values)
{
	float s[6] = {0}, t[6] = {0}, w[2] = {1.0f, -1.0f};
	int32_t y[2] = {0, 3}, yb[2] = {1, 2};
	uint8_t mask[2] = {1, 0};
	double v;
	lupi_loss *l = make_loss(LUPI_LOSS_KD, 0.5, 1.0);
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ERANGE, "sample 1: label 3");
	y[1] = -2; /* -1 means "no label" (since 0.3) */
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ERANGE, "sample 1: label -2");
	CK_ERR(lupi_loss_eval(l, 2, 1, s, t, yb, NULL, NULL, NULL, &v, NULL),
	       LUPI_ERANGE, "outside [0, 2)");
	y[1] = 2;
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, w, NULL, &v, NULL),
	       LUPI_ERANGE, "sample 1: weight");
	w[1] = NAN;
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, w, NULL, &v, NULL),
	       LUPI_ERANGE, "weight");
	s[4] = NAN;
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ENONFINITE, "student outputs: sample 1, column 1");
	s[4] = 0.0f;
	t[5] = INFINITY;
	CK_ERR(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, NULL, &v, NULL),
	       LUPI_ENONFINITE, "teacher outputs: sample 1, column 2");
	/* A sample without teacher may hold anything in t. */
	ck_assert_int_eq(lupi_loss_eval(l, 2, 3, s, t, y, NULL, NULL, mask,
					&v, NULL), LUPI_OK);
	lupi_loss_free(l);
	l = make_loss(LUPI_LOSS_HARD, 0.5, 1.0);
	float tg[6] = {0, 0, 0, 0, -INFINITY, 0};
	CK_ERR(lupi_loss_eval(l, 2, 3, s, NULL, NULL, tg, NULL, NULL, &v,
			      NULL),
	       LUPI_ENONFINITE, "targets: sample 1, column 1");
	lupi_loss_free(l);
	/* Finite inputs whose gradient overflows a float. */
	l = make_loss(LUPI_LOSS_LOGITS, 1.0, 1.0);
	float big_s[2] = {3e38f, 0.0f}, big_t[2] = {-3e38f, 0.0f};
	float g[2];
	int32_t y1[1] = {0};
	CK_ERR(lupi_loss_eval(l, 1, 2, big_s, big_t, y1, NULL, NULL, NULL, &v,
			      g),
	       LUPI_ENONFINITE, "gradient");
	lupi_loss_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("distill-output-loss");
	TCase *fd = tcase_create("finite-differences");
	tcase_add_loop_test(fd, fd_kd_all_options, 0, 6);
	tcase_add_loop_test(fd, fd_every_kind_with_filters, 0, 6);
	tcase_add_loop_test(fd, fd_mask_and_weights, 0, 6);
	tcase_add_loop_test(fd, fd_columns, 0, 3);
	tcase_add_loop_test(fd, fd_binary, 0, 3);
	tcase_add_loop_test(fd, fd_regression, 0, 6);
	tcase_add_test(fd, fd_large_k);
	suite_add_tcase(s, fd);
	TCase *cf = tcase_create("closed-forms");
	tcase_add_test(cf, kd_with_teacher_equal_student);
	tcase_add_test(cf, lambda_zero_equals_hard);
	tcase_add_test(cf, kd_soft_labels);
	tcase_add_test(cf, kd_scale_and_student_temperature);
	tcase_add_test(cf, logits_sel_regression_values);
	tcase_add_test(cf, binary_is_bce_and_two_class);
	tcase_add_test(cf, weights_repeat_samples);
	tcase_add_test(cf, drop_wrong_is_like_no_teacher);
	tcase_add_test(cf, confidence_scales_teacher_term);
	tcase_add_test(cf, columns_renormalise);
	tcase_add_test(cf, no_allocation_in_eval);
	tcase_add_test(cf, threads_give_the_same_bits);
	suite_add_tcase(s, cf);
	TCase *nm = tcase_create("normalize");
	tcase_add_loop_test(nm, normalize_count, 0, (int)N_NCFG);
	tcase_add_loop_test(nm, no_teacher_weight_mean, 0, (int)N_NCFG);
	tcase_add_loop_test(nm, no_teacher_weight_zero_drops, 0, (int)N_NCFG);
	tcase_add_test(nm, all_dropped_batch_is_zero);
	tcase_add_test(nm, no_teacher_weight_scope);
	suite_add_tcase(s, nm);
	TCase *gd = tcase_create("golden");
	tcase_add_test(gd, golden_output_losses);
	suite_add_tcase(s, gd);
	TCase *er = tcase_create("errors");
	tcase_add_test(er, errors_arguments);
	tcase_add_test(er, errors_values);
	suite_add_tcase(s, er);
	return lupi_test_run(s);
}
