/* SVM+: the KKT conditions at the solver's solution, checked with kernels
 * computed here in double; its two limits against references computed
 * here independently (a plain C-SVM by SMO, Platt 1998 with the maximal
 * violating pair of Keerthi et al. 2001): with one correcting variable per
 * sample (X* = the identity rows, linear kernel) and gamma -> 0 it becomes
 * the C-SVM of the same C; with a constant X* (or gamma -> infinity) the
 * correcting function is one shared slack xi, whose closed form from the
 * hard-margin SVM (w_h, b_h) is xi = max(0, 1 - n C / |w_h|^2), w = (1 -
 * xi) w_h. Decision values, correcting values, b, b* and the objective are
 * compared, never alpha. Then save/load round trips, the kernel cache,
 * options and errors. */
#include <math.h>
#include <stdint.h>

#include "svm/svm_internal.h"
#include "testutil.h"

/* n samples in d dimensions, labels by a noisy linear rule (margin > 0
 * when separable), X* of ds columns: a noisy copy of the label's score. */
static void draw(size_t n, size_t d, uint64_t seed, int separable, float *x,
		 int32_t *y, float *xs, size_t ds)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t k = 0; k < d; k++) {
			x[i * d + k] = (float)lupi__rng_normal(&r);
			s += (k + 1.0) * x[i * d + k] / (double)d;
		}
		if (separable) { /* push the points off the boundary */
			x[i * d] += (float)(s > 0 ? 0.8 : -0.8);
			s += s > 0 ? 0.8 / d : -0.8 / d;
		} else {
			s += 0.5 * lupi__rng_normal(&r);
		}
		y[i] = s > 0;
		for (size_t k = 0; k < ds && xs; k++)
			xs[i * ds + k] = (float)(s * (k + 1) +
						 0.3 * lupi__rng_normal(&r));
	}
}

static lupi_dataset *make(size_t n, size_t d, const float *x,
			  const int32_t *y, size_t ds, const float *xs)
{
	lupi_dataset *set = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, d, x, &set), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_binary_labels(set, y), LUPI_OK);
	if (xs)
		ck_assert_int_eq(lupi_dataset_set_privileged(set, ds, xs, NULL),
				 LUPI_OK);
	return set;
}

static lupi_svm *svm_with(int kernel, double width, int pkernel,
			  double pwidth, double c, double gamma, double tol)
{
	lupi_svm *s = NULL;
	ck_assert_int_eq(lupi_svm_create(&s), LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_int(s, LUPI_SVM_OPT_KERNEL, kernel),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_int(s, LUPI_SVM_OPT_PRIV_KERNEL, pkernel),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_WIDTH, width),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_PRIV_WIDTH,
					     pwidth),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_C, c), LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_GAMMA, gamma),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_TOLERANCE, tol),
			 LUPI_OK);
	return s;
}

/* Kernel in double, written here again (not lupi__kernel). */
static double kern(int kind, double w, const float *a, const float *b,
		   size_t d)
{
	double s = 0;
	for (size_t k = 0; k < d; k++)
		s += kind == LUPI_SVM_KERNEL_LINEAR
			     ? (double)a[k] * b[k]
			     : ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
	return kind == LUPI_SVM_KERNEL_LINEAR ? s : exp(-w * s);
}

/* ---- the reference C-SVM ----------------------------------------------- */

typedef struct ref_svm {
	double *a, b, obj;
} ref_svm;

/* Exact SMO in double on the full kernel matrix K (n x n) to tol 1e-10. */
static ref_svm ref_csvm(const double *K, const double *y, size_t n, double c)
{
	ref_svm r = {calloc(n, sizeof(double)), 0, 0};
	double *g = malloc(n * sizeof *g);
	for (size_t i = 0; i < n; i++)
		g[i] = -1;
	for (int it = 0; it < 10000000; it++) {
		double m = -HUGE_VAL, M = HUGE_VAL;
		size_t i = 0, j = 0;
		for (size_t k = 0; k < n; k++) {
			double v = -y[k] * g[k];
			int up = y[k] > 0 ? r.a[k] < c : r.a[k] > 0;
			int low = y[k] > 0 ? r.a[k] > 0 : r.a[k] < c;
			if (up && v > m) {
				m = v;
				i = k;
			}
			if (low && v < M) {
				M = v;
				j = k;
			}
		}
		if (m - M < 1e-10)
			break;
		/* a_i += y_i t, a_j -= y_j t */
		double slope = y[i] * g[i] - y[j] * g[j];
		double curv = K[i * n + i] + K[j * n + j] - 2 * K[i * n + j];
		double t = curv > 1e-15 ? -slope / curv : HUGE_VAL;
		double ti = y[i] > 0 ? c - r.a[i] : r.a[i];
		double tj = y[j] > 0 ? r.a[j] : c - r.a[j];
		t = fmin(t, fmin(ti, tj));
		r.a[i] += y[i] * t;
		r.a[j] -= y[j] * t;
		for (size_t k = 0; k < n; k++)
			g[k] += y[k] * t * (K[k * n + i] - K[k * n + j]);
	}
	double sum = 0, up = -HUGE_VAL, low = HUGE_VAL;
	size_t free_n = 0;
	for (size_t k = 0; k < n; k++) {
		double v = -y[k] * g[k];
		if (r.a[k] > 0 && r.a[k] < c) {
			sum += v;
			free_n++;
		}
		if ((y[k] > 0 ? r.a[k] < c : r.a[k] > 0) && v > up)
			up = v;
		if ((y[k] > 0 ? r.a[k] > 0 : r.a[k] < c) && v < low)
			low = v;
	}
	r.b = free_n ? sum / (double)free_n : (up + low) / 2;
	r.obj = 0;
	for (size_t k = 0; k < n; k++)
		r.obj -= 0.5 * r.a[k] * (g[k] - 1);
	free(g);
	return r;
}

static double ref_decision(const ref_svm *r, const float *x, const double *y,
			   size_t n, size_t d, int kind, double w,
			   const float *q)
{
	double f = r->b;
	for (size_t i = 0; i < n; i++)
		f += r->a[i] * y[i] * kern(kind, w, x + i * d, q, d);
	return f;
}

static double *gram(const float *x, size_t n, size_t d, int kind, double w)
{
	double *K = malloc(n * n * sizeof *K);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			K[i * n + j] = kern(kind, w, x + i * d, x + j * d, d);
	return K;
}

#define N 60
#define D 4
#define NT 40

/* ---- KKT ------------------------------------------------------------------ */

START_TEST(test_kkt)
{
	const size_t DS = 2;
	float x[N * D], xs[N * DS];
	int32_t y01[N];
	double y[N];
	draw(N, D, 11, 0, x, y01, xs, DS);
	for (size_t i = 0; i < N; i++)
		y[i] = y01[i] ? 1 : -1;
	lupi_dataset *set = make(N, D, x, y01, DS, xs);
	const double C = 2, G = 0.5, tol = 1e-7;
	int kinds[2] = {LUPI_SVM_KERNEL_RBF, LUPI_SVM_KERNEL_LINEAR};
	for (int v = 0; v < 2; v++) {
		lupi_svm *s = svm_with(kinds[v], 0.3, kinds[1 - v], 0.7, C, G,
				       tol);
		ck_assert_int_eq(lupi_svm_fit(s, set), LUPI_OK);
		double b, bs, obj, viol;
		ck_assert_int_eq(lupi_svm_info(s, 0, &b, &bs, &obj, &viol, NULL,
					       NULL),
				 LUPI_OK);
		ck_assert(viol < tol);
		double *K = gram(x, N, D, kinds[v], 0.3);
		double *Ks = gram(xs, N, DS, kinds[1 - v], 0.7);
		const double *a = s->m[0].alpha, *bt = s->m[0].beta;
		double ey = 0, eu = 0, dual = 0;
		double dec[N], cor[N];
		ck_assert_int_eq(lupi_svm_decision(s, set, dec), LUPI_OK);
		ck_assert_int_eq(lupi_svm_correcting(s, set, cor), LUPI_OK);
		for (size_t i = 0; i < N; i++) {
			ck_assert(a[i] >= 0 && bt[i] >= 0);
			ey += a[i] * y[i];
			eu += a[i] + bt[i] - C;
		}
		/* the two equality constraints */
		ck_assert_double_eq_tol(ey, 0, 1e-9);
		ck_assert_double_eq_tol(eu, 0, 1e-9);
		for (size_t i = 0; i < N; i++) {
			double f = 0, h = 0;
			for (size_t j = 0; j < N; j++) {
				f += a[j] * y[j] * K[i * N + j];
				h += (a[j] + bt[j] - C) * Ks[i * N + j];
			}
			/* KKT of the dual with multipliers b and b*:
			   grad_a + b y + b* >= 0, = 0 where a > 0;
			   grad_b + b* >= 0, = 0 where b > 0 */
			double ga = -1 + y[i] * f + h / G + b * y[i] + bs;
			double gb = h / G + bs;
			ck_assert(ga > -4 * tol);
			ck_assert(gb > -4 * tol);
			if (a[i] > 0)
				ck_assert(ga < 4 * tol);
			if (bt[i] > 0)
				ck_assert(gb < 4 * tol);
			/* the public functions are the same expansions */
			ck_assert_double_eq_tol(dec[i], f + b, 1e-5);
			ck_assert_double_eq_tol(cor[i], h / G + bs, 1e-5);
			/* the correcting function is a slack: >= 0 */
			ck_assert(cor[i] > -1e-5);
			dual += a[i] - 0.5 * a[i] * y[i] * f -
				0.5 / G * (a[i] + bt[i] - C) * h;
		}
		ck_assert_double_eq_tol(obj, dual, 1e-8 * fabs(dual) + 1e-9);
		free(K);
		free(Ks);
		lupi_svm_free(s);
	}
	lupi_dataset_free(set);
}
END_TEST

/* ---- gamma -> 0 with one correcting variable per sample: the C-SVM ---- */

START_TEST(test_limit_csvm)
{
	float x[N * D], xt[NT * D], xs[N * N];
	int32_t y01[N], yt[NT];
	double y[N];
	draw(N, D, 5, 0, x, y01, NULL, 0);
	draw(NT, D, 6, 0, xt, yt, NULL, 0);
	for (size_t i = 0; i < N; i++) {
		y[i] = y01[i] ? 1 : -1;
		for (size_t j = 0; j < N; j++)
			xs[i * N + j] = i == j; /* K* = I */
	}
	const double C = 1, W = 0.4;
	double *K = gram(x, N, D, LUPI_SVM_KERNEL_RBF, W);
	ref_svm r = ref_csvm(K, y, N, C);
	lupi_dataset *set = make(N, D, x, y01, N, xs);
	lupi_dataset *test = make(NT, D, xt, yt, 0, NULL);
	/* PLAIN: the library's own C-SVM is that reference */
	lupi_svm *p = svm_with(LUPI_SVM_KERNEL_RBF, W, LUPI_SVM_KERNEL_LINEAR,
			       1, C, 1, 1e-9);
	ck_assert_int_eq(lupi_svm_set_int(p, LUPI_SVM_OPT_PLAIN, 1), LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(p, test), LUPI_OK); /* no X* needed */
	ck_assert_int_eq(lupi_svm_fit(p, set), LUPI_OK);
	double pb, pobj, pd[NT];
	ck_assert_int_eq(lupi_svm_info(p, 0, &pb, NULL, &pobj, NULL, NULL, NULL),
			 LUPI_OK);
	ck_assert_double_eq_tol(pb, r.b, 1e-6);
	ck_assert_double_eq_tol(pobj, r.obj, 1e-6 * r.obj);
	ck_assert_int_eq(lupi_svm_decision(p, test, pd), LUPI_OK);
	for (size_t i = 0; i < NT; i++)
		ck_assert_double_eq_tol(pd[i],
					ref_decision(&r, x, y, N, D,
						     LUPI_SVM_KERNEL_RBF, W,
						     xt + i * D),
					1e-6);
	ck_assert_int_eq(lupi_svm_correcting(p, set, pd), LUPI_ESTATE);
	lupi_svm_free(p);
	double gammas[3] = {1e-1, 1e-2, 1e-3}, prev = HUGE_VAL;
	for (int g = 0; g < 3; g++) {
		lupi_svm *s = svm_with(LUPI_SVM_KERNEL_RBF, W,
				       LUPI_SVM_KERNEL_LINEAR, 1, C, gammas[g],
				       1e-8);
		ck_assert_int_eq(lupi_svm_fit(s, set), LUPI_OK);
		double b, obj, dec[N], cor[N], dt[NT], err = 0;
		ck_assert_int_eq(lupi_svm_info(s, 0, &b, NULL, &obj, NULL, NULL,
					       NULL),
				 LUPI_OK);
		ck_assert_int_eq(lupi_svm_decision(s, set, dec), LUPI_OK);
		ck_assert_int_eq(lupi_svm_correcting(s, set, cor), LUPI_OK);
		ck_assert_int_eq(lupi_svm_decision(s, test, dt), LUPI_OK);
		for (size_t i = 0; i < N; i++) {
			double f = ref_decision(&r, x, y, N, D,
						LUPI_SVM_KERNEL_RBF, W,
						x + i * D);
			double slack = fmax(0, 1 - y[i] * f);
			err = fmax(err, fabs(dec[i] - f));
			err = fmax(err, fabs(cor[i] - slack));
		}
		for (size_t i = 0; i < NT; i++)
			err = fmax(err, fabs(dt[i] - ref_decision(
							     &r, x, y, N, D,
							     LUPI_SVM_KERNEL_RBF,
							     W, xt + i * D)));
		err = fmax(err, fabs(b - r.b));
		err = fmax(err, fabs(obj - r.obj) / r.obj);
		/* O(gamma): the SVM+ is the C-SVM plus gamma/2 |w*|^2 (measured:
		   err = 0.80, 0.88, 0.89 gamma for these three) */
		ck_assert_msg(err < 2 * gammas[g], "gamma %g: error %g",
			      gammas[g], err);
		ck_assert(err < prev);
		prev = err;
		lupi_svm_free(s);
	}
	free(r.a);
	free(K);
	lupi_dataset_free(set);
	lupi_dataset_free(test);
}
END_TEST

/* ---- constant X* or gamma -> infinity: one shared slack ----------------- */

static void check_shared(int constant)
{
	float x[N * D], xt[NT * D], xs[N * 2];
	int32_t y01[N], yt[NT];
	double y[N];
	draw(N, D, 9, 1, x, y01, xs, 2);
	draw(NT, D, 10, 0, xt, yt, NULL, 0);
	for (size_t i = 0; i < N; i++) {
		y[i] = y01[i] ? 1 : -1;
		if (constant)
			xs[i * 2] = xs[i * 2 + 1] = 1.5f;
	}
	double *K = gram(x, N, D, LUPI_SVM_KERNEL_LINEAR, 1);
	ref_svm h = ref_csvm(K, y, N, 1e9); /* hard margin */
	double norm2 = 0;
	for (size_t i = 0; i < N; i++)
		norm2 += h.a[i]; /* |w_h|^2 = sum a at the optimum */
	const double xi_want = 0.3, C = (1 - xi_want) * norm2 / N;
	const double obj_want = 0.5 * (1 - xi_want) * (1 - xi_want) * norm2 +
				N * C * xi_want;
	lupi_dataset *set = make(N, D, x, y01, 2, xs);
	lupi_dataset *test = make(NT, D, xt, yt, 0, NULL);
	lupi_svm *s = svm_with(LUPI_SVM_KERNEL_LINEAR, 1,
			       constant ? LUPI_SVM_KERNEL_LINEAR
					: LUPI_SVM_KERNEL_RBF,
			       0.5, C, constant ? 1 : 1e7, 1e-9);
	ck_assert_int_eq(lupi_svm_fit(s, set), LUPI_OK);
	double b, bs, obj, dec[N], cor[N], dt[NT];
	ck_assert_int_eq(lupi_svm_info(s, 0, &b, &bs, &obj, NULL, NULL, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(s, set, dec), LUPI_OK);
	ck_assert_int_eq(lupi_svm_correcting(s, set, cor), LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(s, test, dt), LUPI_OK);
	const double tol = constant ? 1e-6 : 1e-4;
	ck_assert_double_eq_tol(bs, xi_want, tol);
	ck_assert_double_eq_tol(b, (1 - xi_want) * h.b, tol);
	ck_assert_double_eq_tol(obj, obj_want, tol * obj_want);
	for (size_t i = 0; i < N; i++) {
		double f = ref_decision(&h, x, y, N, D, LUPI_SVM_KERNEL_LINEAR,
					1, x + i * D);
		ck_assert_double_eq_tol(dec[i], (1 - xi_want) * f, tol);
		ck_assert_double_eq_tol(cor[i], xi_want, tol);
	}
	for (size_t i = 0; i < NT; i++) {
		double f = ref_decision(&h, x, y, N, D, LUPI_SVM_KERNEL_LINEAR,
					1, xt + i * D);
		ck_assert_double_eq_tol(dt[i], (1 - xi_want) * f, tol);
	}
	lupi_svm_free(s);
	free(h.a);
	free(K);
	lupi_dataset_free(set);
	lupi_dataset_free(test);
}

START_TEST(test_limit_shared_constant)
{
	check_shared(1);
}
END_TEST

START_TEST(test_limit_shared_gamma)
{
	check_shared(0);
}
END_TEST

/* ---- files ------------------------------------------------------------------ */

START_TEST(test_round_trip)
{
	float x[N * D], xs[N * 2], xt[NT * D], xst[NT * 2];
	int32_t y01[N], yt[NT];
	draw(N, D, 21, 0, x, y01, xs, 2);
	draw(NT, D, 22, 0, xt, yt, xst, 2);
	lupi_dataset *set = make(N, D, x, y01, 2, xs);
	lupi_dataset *test = make(NT, D, xt, yt, 2, xst);
	lupi_svm *s = svm_with(LUPI_SVM_KERNEL_RBF, 0.3, LUPI_SVM_KERNEL_RBF,
			       0.5, 1, 1, 1e-3);
	lupi_svm *u = NULL;
	ck_assert_int_eq(lupi_svm_save_memory(s, (void **)&u, &(size_t){0}),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_svm_fit(s, set), LUPI_OK);
	double d0[NT], d1[NT], c0[NT], c1[NT];
	int32_t p0[NT], p1[NT];
	ck_assert_int_eq(lupi_svm_decision(s, test, d0), LUPI_OK);
	ck_assert_int_eq(lupi_svm_correcting(s, test, c0), LUPI_OK);
	ck_assert_int_eq(lupi_svm_predict(s, test, p0), LUPI_OK);
	char *dir = lupi_test_tmpdir();
	char path[600];
	snprintf(path, sizeof path, "%s/m.svm", dir);
	ck_assert_int_eq(lupi_svm_save(s, path), LUPI_OK);
	ck_assert_int_eq(lupi_svm_load(path, &u), LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(u, test, d1), LUPI_OK);
	ck_assert_int_eq(lupi_svm_correcting(u, test, c1), LUPI_OK);
	ck_assert_int_eq(lupi_svm_predict(u, test, p1), LUPI_OK);
	ck_assert_mem_eq(d0, d1, sizeof d0);
	ck_assert_mem_eq(c0, c1, sizeof c0);
	ck_assert_mem_eq(p0, p1, sizeof p0);
	double g;
	ck_assert_int_eq(lupi_svm_get_double(u, LUPI_SVM_OPT_PRIV_WIDTH, &g),
			 LUPI_OK);
	ck_assert_double_eq(g, 0.5);
	lupi_svm_free(u);
	/* memory */
	void *buf;
	size_t size;
	ck_assert_int_eq(lupi_svm_save_memory(s, &buf, &size), LUPI_OK);
	ck_assert_int_eq(lupi_svm_load_memory(buf, size, &u), LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(u, test, d1), LUPI_OK);
	ck_assert_mem_eq(d0, d1, sizeof d0);
	lupi_svm_free(u);
	/* a flipped byte, a cut, another version */
	unsigned char *b = buf;
	b[size / 2] ^= 1;
	ck_assert_int_eq(lupi_svm_load_memory(buf, size, &u), LUPI_ECHECKSUM);
	ck_assert_ptr_null(u);
	b[size / 2] ^= 1;
	ck_assert_int_eq(lupi_svm_load_memory(buf, size - 5, &u),
			 LUPI_EFORMAT);
	ck_assert_int_eq(lupi_svm_load_memory(buf, 10, &u), LUPI_EFORMAT);
	b[8] = 9;
	ck_assert_int_eq(lupi_svm_load_memory(buf, size, &u), LUPI_EVERSION);
	lupi_free(buf);
	lupi_test_rmdir(dir);
	lupi_svm_free(s);
	lupi_dataset_free(set);
	lupi_dataset_free(test);
}
END_TEST

/* ---- the kernel cache --------------------------------------------------- */

START_TEST(test_cache)
{
	float x[N * D], xs[N * 2];
	int32_t y01[N];
	draw(N, D, 31, 0, x, y01, xs, 2);
	lupi__kcache c;
	/* a budget of 3 rows: least recently used rows go first */
	ck_assert_int_eq(lupi__kcache_init(&c, x, N, D, LUPI_SVM_KERNEL_RBF,
					   0.5, 3 * N * sizeof(double)),
			 LUPI_OK);
	ck_assert_uint_eq(c.slots, 3);
	lupi__kcache_row(&c, 0);
	lupi__kcache_row(&c, 1);
	lupi__kcache_row(&c, 2);
	lupi__kcache_row(&c, 0);
	const double *r3 = lupi__kcache_row(&c, 3);
	ck_assert_uint_eq(c.where[1], SIZE_MAX);
	ck_assert_uint_ne(c.where[0], SIZE_MAX);
	ck_assert_uint_eq(c.misses, 4);
	ck_assert_uint_eq(c.hits, 1);
	for (size_t j = 0; j < N; j++)
		ck_assert_double_eq(r3[j], lupi__kernel(LUPI_SVM_KERNEL_RBF,
							0.5, x + 3 * D,
							x + j * D, D));
	/* three rows held together are all valid */
	size_t idx[3] = {7, 8, 9};
	const double *rows[3];
	lupi__kcache_rows(&c, idx, 3, rows);
	for (int m = 0; m < 3; m++)
		ck_assert_double_eq(rows[m][idx[m]], 1.0);
	lupi__kcache_free(&c);
	/* the solution does not depend on the budget, bit for bit */
	lupi_dataset *set = make(N, D, x, y01, 2, xs);
	lupi_svm *big = svm_with(LUPI_SVM_KERNEL_RBF, 0.3, LUPI_SVM_KERNEL_RBF,
				 0.5, 1, 1, 1e-4);
	lupi_svm *small = svm_with(LUPI_SVM_KERNEL_RBF, 0.3,
				   LUPI_SVM_KERNEL_RBF, 0.5, 1, 1, 1e-4);
	ck_assert_int_eq(lupi_svm_set_int(small, LUPI_SVM_OPT_CACHE_BYTES, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(big, set), LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(small, set), LUPI_OK);
	double d0[N], d1[N];
	ck_assert_int_eq(lupi_svm_decision(big, set, d0), LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(small, set, d1), LUPI_OK);
	ck_assert_mem_eq(d0, d1, sizeof d0);
	lupi_svm_free(big);
	lupi_svm_free(small);
	lupi_dataset_free(set);
}
END_TEST

/* ---- options and errors ---------------------------------------------------- */

START_TEST(test_errors)
{
	lupi_svm *s = NULL;
	ck_assert_int_eq(lupi_svm_create(NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_svm_create(&s), LUPI_OK);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_C, 0), LUPI_ERANGE);
	ck_assert_int_eq(lupi_svm_set_double(s, LUPI_SVM_OPT_GAMMA, -1),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_svm_set_int(s, LUPI_SVM_OPT_KERNEL, 2),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_svm_set_int(s, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_EUNKNOWN_OPTION);
	double v;
	ck_assert_int_eq(lupi_svm_get_double(s, LUPI_SVM_OPT_TOLERANCE, &v),
			 LUPI_OK);
	ck_assert_double_eq(v, 1e-3);
	const lupi_option *o = lupi_option_by_name(LUPI_HANDLE_SVM, "gamma");
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->key, LUPI_SVM_OPT_GAMMA);
	ck_assert_ptr_eq(lupi_option_by_key(LUPI_SVM_OPT_CACHE_BYTES)->name,
			 lupi_option_by_name(LUPI_HANDLE_SVM,
					     "cache-bytes")->name);
	float x[N * D];
	int32_t y[N];
	draw(N, D, 1, 0, x, y, NULL, 0);
	lupi_dataset *plain = make(N, D, x, y, 0, NULL);
	double out[N];
	ck_assert_int_eq(lupi_svm_decision(s, plain, out), LUPI_ESTATE);
	ck_assert_int_eq(lupi_svm_fit(s, plain), LUPI_ESTATE);
	ck_assert_int_eq(lupi_svm_fit(NULL, plain), LUPI_EINVAL);
	int32_t k3[N];
	for (size_t i = 0; i < N; i++)
		k3[i] = (int32_t)(i % 3);
	float xs[N];
	for (size_t i = 0; i < N; i++)
		xs[i] = (float)i;
	ck_assert_int_eq(lupi_dataset_set_privileged(plain, 1, xs, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(plain, 3, k3), LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(s, plain), LUPI_OK); /* one-vs-rest */
	ck_assert_uint_eq(lupi_svm_machines(s), 3);
	ck_assert_int_eq(lupi_svm_info(s, 3, NULL, NULL, NULL, NULL, NULL,
				       NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_set_targets(plain, 1, xs), LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(s, plain), LUPI_ENOTSUP);
	ck_assert_uint_eq(lupi_svm_machines(s), 3); /* refused: unchanged */
	ck_assert_int_eq(lupi_dataset_set_binary_labels(plain, y), LUPI_OK);
	ck_assert_int_eq(lupi_svm_fit(s, plain), LUPI_OK);
	lupi_dataset *narrow = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D - 1, x, &narrow), LUPI_OK);
	ck_assert_int_eq(lupi_svm_decision(s, narrow, out), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_svm_correcting(s, narrow, out), LUPI_ESTATE);
	lupi_dataset_free(narrow);
	lupi_dataset_free(plain);
	lupi_svm_free(s);
	lupi_svm_free(NULL);
}
END_TEST

/* Every allocation of fit, save and load may fail: an error, never a crash
 * or a leak (valgrind / ASan builds), and the SVM+ stays usable. */
START_TEST(test_alloc_failure)
{
	float x[N * D], xs[N * 2];
	int32_t y01[N];
	draw(N, D, 41, 0, x, y01, xs, 2);
	lupi_dataset *set = make(N, D, x, y01, 2, xs);
	lupi_svm *s = svm_with(LUPI_SVM_KERNEL_RBF, 0.3, LUPI_SVM_KERNEL_RBF,
			       0.5, 1, 1, 1e-3);
	int done = 0;
	for (int k = 0; k < 100 && !done; k++) {
		int budget = k;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_svm_fit(s, set);
		void *buf = NULL;
		size_t size = 0;
		lupi_svm *u = NULL;
		if (rc == LUPI_OK)
			rc = lupi_svm_save_memory(s, &buf, &size);
		if (rc == LUPI_OK)
			rc = lupi_svm_load_memory(buf, size, &u);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
		done = rc == LUPI_OK;
		lupi_free(buf);
		lupi_svm_free(u);
	}
	ck_assert(done);
	double out[N];
	ck_assert_int_eq(lupi_svm_decision(s, set, out), LUPI_OK);
	lupi_svm_free(s);
	lupi_dataset_free(set);
}
END_TEST

/* K > 2 classes: machine c is the binary SVM+ of class c against the rest,
 * bit for bit, and the class is the largest of their decision values. */
START_TEST(test_one_vs_rest)
{
	enum { K = 3 };
	float x[N * D], xs[N * 2];
	int32_t y01[N], yk[N], yc[N];
	draw(N, D, 51, 0, x, y01, xs, 2);
	for (size_t i = 0; i < N; i++)
		yk[i] = x[i * D + 1] > 0.5f ? 2 : y01[i];
	lupi_dataset *set = make(N, D, x, y01, 2, xs);
	ck_assert_int_eq(lupi_dataset_set_labels(set, K, yk), LUPI_OK);
	lupi_svm *s = svm_with(LUPI_SVM_KERNEL_RBF, 0.3, LUPI_SVM_KERNEL_RBF,
			       0.5, 1, 1, 1e-4);
	ck_assert_int_eq(lupi_svm_fit(s, set), LUPI_OK);
	ck_assert_uint_eq(lupi_svm_machines(s), K);
	double dk[N * K], cdk[N * K], d1[N], c1[N];
	int32_t pk[N];
	ck_assert_int_eq(lupi_svm_decision(s, set, dk), LUPI_OK);
	ck_assert_int_eq(lupi_svm_correcting(s, set, cdk), LUPI_OK);
	ck_assert_int_eq(lupi_svm_predict(s, set, pk), LUPI_OK);
	for (int c = 0; c < K; c++) {
		for (size_t i = 0; i < N; i++)
			yc[i] = yk[i] == c;
		lupi_dataset *bin = make(N, D, x, yc, 2, xs);
		lupi_svm *b = svm_with(LUPI_SVM_KERNEL_RBF, 0.3,
				       LUPI_SVM_KERNEL_RBF, 0.5, 1, 1, 1e-4);
		ck_assert_int_eq(lupi_svm_fit(b, bin), LUPI_OK);
		ck_assert_int_eq(lupi_svm_decision(b, bin, d1), LUPI_OK);
		ck_assert_int_eq(lupi_svm_correcting(b, bin, c1), LUPI_OK);
		for (size_t i = 0; i < N; i++) {
			ck_assert_double_eq(dk[i * K + c], d1[i]);
			ck_assert_double_eq(cdk[i * K + c], c1[i]);
		}
		lupi_svm_free(b);
		lupi_dataset_free(bin);
	}
	size_t right = 0;
	for (size_t i = 0; i < N; i++) {
		int32_t best = 0;
		for (int c = 1; c < K; c++)
			if (dk[i * K + c] > dk[i * K + best])
				best = c;
		ck_assert_int_eq(pk[i], best);
		right += pk[i] == yk[i];
	}
	ck_assert(right > N / 2); /* it learnt something */
	/* the file keeps every machine */
	void *buf;
	size_t size;
	lupi_svm *u = NULL;
	ck_assert_int_eq(lupi_svm_save_memory(s, &buf, &size), LUPI_OK);
	ck_assert_int_eq(lupi_svm_load_memory(buf, size, &u), LUPI_OK);
	ck_assert_uint_eq(lupi_svm_machines(u), K);
	double du[N * K];
	ck_assert_int_eq(lupi_svm_decision(u, set, du), LUPI_OK);
	ck_assert_mem_eq(dk, du, sizeof du);
	lupi_free(buf);
	lupi_svm_free(u);
	lupi_svm_free(s);
	lupi_dataset_free(set);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("svmplus");
	TCase *tc = tcase_create("svmplus");
	tcase_add_test(tc, test_kkt);
	tcase_add_test(tc, test_limit_csvm);
	tcase_add_test(tc, test_limit_shared_constant);
	tcase_add_test(tc, test_limit_shared_gamma);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_alloc_failure);
	tcase_add_test(tc, test_one_vs_rest);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
