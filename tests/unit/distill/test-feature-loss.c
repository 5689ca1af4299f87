/* lupi_loss_eval_features: gradients against central finite differences,
 * golden values from PyTorch (the authors' code for RKD, PKT, SP), the
 * learned state of HINT and CRD, and the error paths.
 *
 * Finite differences: features are multiples of 2^-10 with |f| < 8 and the
 * step is h = 2^-8, so f +- h are exact floats. Gram matrices and
 * projections are float32 (lupi__gemm), so a value carries a relative
 * rounding error of about 1e-7 and the difference quotient an error of
 * about 1e-7 |L| / h ~ 3e-5 |L|, plus the truncation h^2 |L'''| / 6 ~ 1e-5.
 * Tolerance per entry: 1e-3 max|g| + 1e-2 |g|; and along a random
 * direction v, |(L(f + hv) - L(f - hv)) / 2h - g . v| <= 1e-3 |g| |v|. */
#include <math.h>

#include "golden.h"
#include "testutil.h"

#define FD_H (1.0 / 256.0)

static float quantized(lupi__rng *r)
{
	double v = lupi__rng_normal(r);
	v = v > 7.0 ? 7.0 : v < -7.0 ? -7.0 : v;
	return (float)(round(v * 1024.0) / 1024.0);
}

static float *random_rows(lupi__rng *r, size_t n)
{
	float *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = quantized(r);
	return x;
}

typedef struct fproblem {
	size_t n, ds, dt;
	float *fs, *ft;
	uint8_t *mask;
} fproblem;

static fproblem make_fproblem(uint64_t seed, size_t n, size_t ds, size_t dt,
			      int masked)
{
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	fproblem p = {n, ds, dt, random_rows(&r, n * ds),
		      random_rows(&r, n * dt), NULL};
	if (masked) {
		p.mask = malloc(n);
		for (size_t i = 0; i < n; i++)
			p.mask[i] = (uint8_t)(i % 4 != 2);
	}
	return p;
}

static void free_fproblem(fproblem *p)
{
	free(p->fs);
	free(p->ft);
	free(p->mask);
}

static lupi_loss *feature_loss(int feature, double beta)
{
	lupi_loss *l = NULL;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &l), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, feature),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_BETA, beta),
			 LUPI_OK);
	return l;
}

/* lupi_loss_eval_features, or lupi_loss_update_features when update is
 * set (into a scratch gradient when g is NULL: it needs one). */
static double feval(lupi_loss *l, const fproblem *p, int update, float *g)
{
	double v = NAN;
	int rc;
	if (update) {
		float *scratch = g ? NULL : malloc(p->n * p->ds * sizeof *g);
		rc = lupi_loss_update_features(l, p->n, p->ds, p->fs, p->dt,
					       p->ft, p->mask, &v,
					       g ? g : scratch);
		free(scratch);
	} else {
		rc = lupi_loss_eval_features(l, p->n, p->ds, p->fs, p->dt,
					     p->ft, p->mask, &v, g);
	}
	ck_assert_msg(rc == LUPI_OK, "%s_features: %s",
		      update ? "update" : "eval", lupi_errmsg());
	return v;
}

static void check_feature_fd(lupi_loss *l, fproblem *p, const char *what)
{
	size_t nd = p->n * p->ds;
	float *g = malloc(nd * sizeof *g);
	float *f0 = malloc(nd * sizeof *f0);
	memcpy(f0, p->fs, nd * sizeof *f0);
	feval(l, p, 0, g);
	double gmax = 0.0, gnorm = 0.0;
	for (size_t i = 0; i < nd; i++) {
		gmax = fmax(gmax, fabs(g[i]));
		gnorm += (double)g[i] * g[i];
	}
	gnorm = sqrt(gnorm);
	for (size_t i = 0; i < nd; i++) {
		float s0 = p->fs[i];
		p->fs[i] = (float)(s0 + FD_H);
		double vp = feval(l, p, 0, NULL);
		p->fs[i] = (float)(s0 - FD_H);
		double vm = feval(l, p, 0, NULL);
		p->fs[i] = s0;
		double fd = (vp - vm) / (2.0 * FD_H);
		ck_assert_msg(fabs(fd - g[i]) <=
				      1e-9 + 1e-3 * gmax + 1e-2 * fabs(g[i]),
			      "%s: n %zu ds %zu dt %zu, entry %zu: gradient "
			      "%.9g, finite difference %.9g (max |g| %.3g)",
			      what, p->n, p->ds, p->dt, i, (double)g[i], fd,
			      gmax);
		if (p->mask && !p->mask[i / p->ds])
			ck_assert_float_eq(g[i], 0.0f);
	}
	/* Along a direction of +-1 entries: f +- h v are exact. */
	lupi__rng r;
	lupi__rng_seed(&r, 99);
	double gv = 0.0;
	for (size_t i = 0; i < nd; i++) {
		double v = lupi__rng_below(&r, 2) ? 1.0 : -1.0;
		gv += v * g[i];
		p->fs[i] = (float)(f0[i] + FD_H * v);
	}
	double vp = feval(l, p, 0, NULL);
	for (size_t i = 0; i < nd; i++)
		p->fs[i] = (float)(2.0 * f0[i] - p->fs[i]);
	double vm = feval(l, p, 0, NULL);
	memcpy(p->fs, f0, nd * sizeof *f0);
	double fd = (vp - vm) / (2.0 * FD_H);
	ck_assert_msg(fabs(fd - gv) <= 1e-9 + 1e-3 * gnorm * sqrt((double)nd),
		      "%s: directional derivative %.9g, finite difference "
		      "%.9g", what, gv, fd);
	free(g);
	free(f0);
}

static const size_t fshapes[][3] = {{2, 3, 2}, {5, 3, 4}, {8, 6, 3},
				    {12, 4, 7}};
#define N_FSHAPES (sizeof fshapes / sizeof fshapes[0])

/* Loop index: shape x 2 seeds x masked or not. */
START_TEST(fd_each_feature_loss)
{
	size_t sh = (size_t)_i % N_FSHAPES;
	int masked = (_i / (int)N_FSHAPES) % 2;
	for (int f = LUPI_FEATURE_HINT; f <= LUPI_FEATURE_CRD; f++) {
		fproblem p = make_fproblem(1000 + (uint64_t)_i,
					   fshapes[sh][0] + (size_t)masked,
					   fshapes[sh][1], fshapes[sh][2],
					   masked);
		lupi_loss *l = feature_loss(f, 1.5);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 5);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_CRD_TEMPERATURE, 0.5);
		char what[32];
		snprintf(what, sizeof what, "feature %d", f);
		check_feature_fd(l, &p, what);
		lupi_loss_free(l);
		free_fproblem(&p);
	}
}
END_TEST

START_TEST(fd_crd_with_queue)
{
	/* Fill the queue with a few updates, then check the gradient. */
	fproblem p = make_fproblem(1100, 6, 4, 3, 0);
	lupi_loss *l = feature_loss(LUPI_FEATURE_CRD, 1.0);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 4);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 9);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_CRD_TEMPERATURE, 0.3);
	for (int i = 0; i < 3; i++)
		feval(l, &p, 1, NULL);
	size_t len, cap;
	lupi__loss_crd_queue(l, &len, &cap);
	ck_assert_uint_eq(len, 9);
	check_feature_fd(l, &p, "CRD with a queue");
	lupi_loss_free(l);
	free_fproblem(&p);
}
END_TEST

/* ---- golden values from PyTorch ------------------------------------------ */

START_TEST(golden_feature_losses)
{
	FILE *f = golden_open();
	golden g = {0};
	int cases = 0;
	while (golden_next(f, &g)) {
		if (golden_get(&g, "feature", NULL) == NULL)
			continue;
		size_t n = golden_size(&g, "n"), ds = golden_size(&g, "ds");
		size_t dt = golden_size(&g, "dt"), gn;
		lupi_loss *l = golden_loss(&g);
		float *fs = golden_floats(&g, "fs");
		float *ft = golden_floats(&g, "ft");
		float *w = golden_floats(&g, "W"), *b = golden_floats(&g, "b");
		const double *msk = golden_get(&g, "mask", NULL);
		const double *ref = golden_get(&g, "grad", &gn);
		uint8_t mask[64];
		for (size_t i = 0; i < n; i++)
			mask[i] = msk ? (uint8_t)msk[i] : 1;
		if (w)
			ck_assert_int_eq(lupi__loss_hint_set(l, ds, dt, w, b),
					 LUPI_OK);
		float *grad = malloc(n * ds * sizeof *grad);
		double v;
		int rc = lupi_loss_eval_features(l, n, ds, fs, dt, ft,
						 msk ? mask : NULL, &v, grad);
		ck_assert_msg(rc == 0, "%s: %s", g.name, lupi_errmsg());
		double vref = golden_get(&g, "value", NULL)[0], gmax = 0.0;
		ck_assert_msg(fabs(v - vref) <= 1e-5 * (1e-3 + fabs(vref)),
			      "%s: value %.12g, PyTorch %.12g", g.name, v,
			      vref);
		ck_assert_uint_eq(gn, n * ds);
		for (size_t i = 0; i < gn; i++)
			gmax = fmax(gmax, fabs(ref[i]));
		for (size_t i = 0; i < gn; i++)
			ck_assert_msg(fabs(grad[i] - ref[i]) <=
					      1e-5 * gmax + 1e-4 * fabs(ref[i]),
				      "%s: grad[%zu] %.9g, PyTorch %.9g",
				      g.name, i, (double)grad[i], ref[i]);
		free(grad);
		free(fs);
		free(ft);
		free(w);
		free(b);
		lupi_loss_free(l);
		cases++;
	}
	golden_clear(&g);
	fclose(f);
	ck_assert_int_ge(cases, 10);
}
END_TEST

/* ---- learned state ------------------------------------------------------ */

START_TEST(hint_regressor_learns)
{
	/* Teacher features are a linear map of the student's: the hint loss
	 * falls by more than 10x over 500 Adam steps. */
	fproblem p = make_fproblem(1200, 16, 4, 3, 0);
	for (size_t i = 0; i < 16; i++)
		for (size_t j = 0; j < 3; j++)
			p.ft[i * 3 + j] = p.fs[i * 4 + j] -
					  0.5f * p.fs[i * 4 + 3] + 0.25f;
	lupi_loss *l = feature_loss(LUPI_FEATURE_HINT, 1.0);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, 0.02);
	double first = feval(l, &p, 0, NULL), last = first;
	for (int i = 0; i < 500; i++)
		last = feval(l, &p, 1, NULL);
	last = feval(l, &p, 0, NULL);
	ck_assert_msg(last < 0.1 * first, "hint loss %g -> %g", first, last);
	/* update = 0 leaves it alone: same value twice. */
	ck_assert_double_eq(feval(l, &p, 0, NULL), last);
	lupi_loss_free(l);
	free_fproblem(&p);
}
END_TEST

START_TEST(hint_seed_fixes_regressor)
{
	fproblem p = make_fproblem(1201, 5, 4, 3, 0);
	lupi_loss *a = feature_loss(LUPI_FEATURE_HINT, 1.0);
	lupi_loss *b = feature_loss(LUPI_FEATURE_HINT, 1.0);
	double va = feval(a, &p, 0, NULL);
	ck_assert_double_eq(va, feval(b, &p, 0, NULL));
	lupi_loss_set_int(b, LUPI_LOSS_OPT_SEED, 7);
	ck_assert_double_ne(va, feval(b, &p, 0, NULL));
	/* Other dimensions than the regressor's: ESHAPE. */
	ck_assert_int_eq(lupi_loss_eval_features(a, 5, 3, p.fs, 3, p.ft, NULL,
						 &va, NULL),
			 LUPI_ESHAPE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "hint regressor"));
	lupi_loss_free(a);
	lupi_loss_free(b);
	free_fproblem(&p);
}
END_TEST

/* The learned parameters with their Adam moments and step count. */
typedef struct snapshot {
	float *p;
	size_t n;
	uint64_t t;
} snapshot;

static snapshot take(const lupi__adam *a)
{
	snapshot s = {NULL, a->n, a->t};
	if (a->p) {
		s.p = malloc(3 * a->n * sizeof *s.p);
		memcpy(s.p, a->p, 3 * a->n * sizeof *s.p);
	}
	return s;
}

static int same(const snapshot *s, const lupi__adam *a)
{
	return s->p && a->p && s->n == a->n && s->t == a->t &&
	       memcmp(s->p, a->p, 3 * a->n * sizeof *s->p) == 0;
}

START_TEST(eval_is_pure_update_learns)
{
	/* lupi_loss_eval_features creates the regressor on its first call
	 * and never changes it; lupi_loss_update_features takes one Adam
	 * step per call. The same for the CRD heads and queue. */
	fproblem p = make_fproblem(1250, 9, 4, 3, 1);
	float g[36];
	for (int f = LUPI_FEATURE_HINT; f <= LUPI_FEATURE_CRD;
	     f += LUPI_FEATURE_CRD - LUPI_FEATURE_HINT) {
		lupi_loss *l = feature_loss(f, 2.0);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 6);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, 0.05);
		const lupi__adam *par = f == LUPI_FEATURE_HINT ? &l->hint.par
							       : &l->crd.par;
		ck_assert_ptr_null(par->p);
		double v0 = feval(l, &p, 0, g);
		ck_assert_ptr_nonnull(par->p);
		snapshot s0 = take(par);
		for (int i = 0; i < 3; i++)
			ck_assert_double_eq(feval(l, &p, 0, i ? NULL : g), v0);
		ck_assert(same(&s0, par));
		ck_assert_uint_eq(l->crd.len, 0);
		/* update: the value before the step, then a changed state */
		ck_assert_double_eq(feval(l, &p, 1, g), v0);
		ck_assert(!same(&s0, par));
		ck_assert_uint_eq(par->t, 1);
		ck_assert_uint_eq(l->crd.len, f == LUPI_FEATURE_CRD ? 7 : 0);
		ck_assert_double_ne(feval(l, &p, 0, NULL), v0);
		free(s0.p);
		lupi_loss_free(l);
	}
	free_fproblem(&p);
}
END_TEST

/* Same value and gradient from two losses (bit for bit: same code, same
 * state). */
static void ck_same_eval(lupi_loss *a, lupi_loss *b, const fproblem *p)
{
	size_t nd = p->n * p->ds;
	float *ga = malloc(nd * sizeof *ga), *gb = malloc(nd * sizeof *gb);
	double va = feval(a, p, 0, ga), vb = feval(b, p, 0, gb);
	ck_assert_double_eq(va, vb);
	ck_assert_int_eq(memcmp(ga, gb, nd * sizeof *ga), 0);
	free(ga);
	free(gb);
}

START_TEST(clone_keeps_learned_state)
{
	fproblem p = make_fproblem(1260, 8, 5, 3, 1);
	for (int f = LUPI_FEATURE_HINT; f <= LUPI_FEATURE_CRD;
	     f += LUPI_FEATURE_CRD - LUPI_FEATURE_HINT) {
		lupi_loss *l = feature_loss(f, 1.5), *c = NULL;
		lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 4);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 10);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_SEED, 42);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, 0.05);
		for (int i = 0; i < 4; i++)
			feval(l, &p, 1, NULL);
		ck_assert_int_eq(lupi_loss_clone(l, &c), LUPI_OK);
		/* A fresh loss with the same seed would differ: the clone
		 * has the trained state, not a re-initialised one. */
		lupi_loss *fresh = NULL;
		ck_assert_int_eq(lupi__loss_copy(l, &fresh), LUPI_OK);
		ck_assert_ptr_null(fresh->hint.par.p);
		ck_assert_ptr_null(fresh->crd.par.p);
		ck_assert_double_ne(feval(fresh, &p, 0, NULL),
				    feval(l, &p, 0, NULL));
		lupi_loss_free(fresh);
		ck_assert_uint_eq(c->crd.len, l->crd.len);
		ck_assert_uint_eq(c->crd.head, l->crd.head);
		ck_assert_uint_eq(c->hint.par.t, l->hint.par.t);
		ck_assert_uint_eq(c->crd.par.t, l->crd.par.t);
		if (f == LUPI_FEATURE_CRD) {
			ck_assert_uint_eq(c->crd.len, 10);
			ck_assert_ptr_ne(c->crd.queue, l->crd.queue);
			ck_assert_int_eq(memcmp(c->crd.queue, l->crd.queue,
						10 * 4 * sizeof(float)), 0);
		}
		ck_same_eval(l, c, &p);
		/* Updates continue identically (Adam moments copied)... */
		ck_assert_double_eq(feval(l, &p, 1, NULL),
				    feval(c, &p, 1, NULL));
		ck_same_eval(l, c, &p);
		/* ...and independently: updating the clone leaves l. */
		snapshot s = take(f == LUPI_FEATURE_HINT ? &l->hint.par
							 : &l->crd.par);
		double vl = feval(l, &p, 0, NULL);
		for (int i = 0; i < 3; i++)
			feval(c, &p, 1, NULL);
		ck_assert(same(&s, f == LUPI_FEATURE_HINT ? &l->hint.par
							  : &l->crd.par));
		ck_assert_double_eq(feval(l, &p, 0, NULL), vl);
		ck_assert_double_ne(feval(c, &p, 0, NULL), vl);
		/* Freeing the original leaves the clone whole. */
		lupi_loss_free(l);
		ck_assert(isfinite(feval(c, &p, 1, NULL)));
		free(s.p);
		lupi_loss_free(c);
	}
	free_fproblem(&p);
}
END_TEST

START_TEST(clone_allocation_failures)
{
	/* A clone of a loss with a CRD queue: each allocation may fail. */
	fproblem p = make_fproblem(1270, 6, 3, 4, 0);
	lupi_loss *l = feature_loss(LUPI_FEATURE_CRD, 1.0);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 5);
	size_t cols[1] = {0};
	lupi_loss_set_columns(l, cols, 1);
	feval(l, &p, 1, NULL);
	for (int budget = 0;; budget++) {
		int left = budget;
		lupi_loss *c = (lupi_loss *)&c;
		lupi__set_alloc_gate(lupi_test_budget_gate, &left);
		int rc = lupi_loss_clone(l, &c);
		lupi__set_alloc_gate(NULL, NULL);
		if (rc == LUPI_OK) {
			ck_assert_int_ge(budget, 4); /* loss, cols, queue, heads */
			ck_same_eval(l, c, &p);
			lupi_loss_free(c);
			break;
		}
		ck_assert_int_eq(rc, LUPI_ENOMEM);
		ck_assert_ptr_null(c);
	}
	lupi_loss_free(l);
	free_fproblem(&p);
}
END_TEST

static size_t alloc_bytes;
static int sum_allocs(size_t size, void *user)
{
	(void)user;
	alloc_bytes += size;
	return 1;
}

START_TEST(crd_queue_is_bounded)
{
	/* 40 updates of 7 samples into a queue of 10: it holds 10, and after
	 * the first call nothing more is allocated (memory does not grow with
	 * the samples seen). */
	fproblem p = make_fproblem(1300, 7, 5, 4, 0);
	lupi_loss *l = feature_loss(LUPI_FEATURE_CRD, 1.0);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 10);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 8);
	size_t len, cap;
	lupi__loss_crd_queue(l, &len, &cap);
	ck_assert_uint_eq(len, 0);
	feval(l, &p, 1, NULL);
	lupi__loss_crd_queue(l, &len, &cap);
	ck_assert_uint_eq(len, 7);
	ck_assert_uint_eq(cap, 10);
	feval(l, &p, 1, NULL); /* the queue is full from here on */
	feval(l, &p, 1, NULL); /* scratch for a full queue */
	alloc_bytes = 0;
	lupi__set_alloc_gate(sum_allocs, NULL);
	double prev = 0.0;
	for (int i = 0; i < 40; i++) {
		double v = feval(l, &p, 1, NULL);
		ck_assert(isfinite(v));
		prev = v;
	}
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_uint_eq(alloc_bytes, 0);
	lupi__loss_crd_queue(l, &len, &cap);
	ck_assert_uint_eq(len, 10);
	ck_assert_uint_eq(cap, 10);
	/* The heads learn: InfoNCE on a fixed batch goes down. */
	lupi_loss *fresh = feature_loss(LUPI_FEATURE_CRD, 1.0);
	lupi_loss_set_int(fresh, LUPI_LOSS_OPT_QUEUE, 10);
	lupi_loss_set_int(fresh, LUPI_LOSS_OPT_EMBED, 8);
	lupi_loss_set_double(fresh, LUPI_LOSS_OPT_FEATURE_LR, 0.01);
	double first = feval(fresh, &p, 0, NULL);
	for (int i = 0; i < 100; i++)
		feval(fresh, &p, 1, NULL);
	(void)prev;
	ck_assert_msg(feval(fresh, &p, 0, NULL) < first, "CRD did not learn");
	/* Changing the embedding size starts afresh. */
	lupi_loss_set_int(fresh, LUPI_LOSS_OPT_EMBED, 4);
	lupi__loss_crd_queue(fresh, &len, &cap);
	ck_assert_uint_eq(len, 0);
	lupi_loss_free(fresh);
	lupi_loss_free(l);
	free_fproblem(&p);
}
END_TEST

START_TEST(relational_closed_forms)
{
	/* Student equal to teacher: RKD, PKT and SP are 0 with gradient 0;
	 * scaling the student changes none of them (all are scale-free). */
	fproblem p = make_fproblem(1400, 6, 4, 4, 0);
	memcpy(p.ft, p.fs, 24 * sizeof(float));
	float g[24];
	for (int f = LUPI_FEATURE_RKD_DIST; f <= LUPI_FEATURE_SP; f++) {
		lupi_loss *l = feature_loss(f, 1.0);
		double v = feval(l, &p, 0, g);
		ck_assert_double_le(fabs(v), 1e-6);
		for (int i = 0; i < 24; i++)
			ck_assert_float_eq_tol(g[i], 0.0f, 1e-4f);
		for (int i = 0; i < 24; i++)
			p.fs[i] *= 2.0f;
		if (f != LUPI_FEATURE_SP) /* SP's Gram rows are normalised */
			ck_assert_double_le(fabs(feval(l, &p, 0, NULL)), 1e-6);
		memcpy(p.fs, p.ft, 24 * sizeof(float));
		lupi_loss_free(l);
	}
	free_fproblem(&p);
}
END_TEST

START_TEST(no_teacher_rows)
{
	/* No sample has teacher features: value 0, gradient 0, no update. */
	fproblem p = make_fproblem(1500, 4, 3, 3, 0);
	uint8_t none[4] = {0};
	float g[12];
	lupi_loss *l = feature_loss(LUPI_FEATURE_CRD, 1.0);
	double v = 1.0;
	ck_assert_int_eq(lupi_loss_update_features(l, 4, 3, p.fs, 3, p.ft,
						   none, &v, g),
			 LUPI_OK);
	ck_assert_double_eq(v, 0.0);
	for (int i = 0; i < 12; i++)
		ck_assert_float_eq(g[i], 0.0f);
	size_t len, cap;
	lupi__loss_crd_queue(l, &len, &cap);
	ck_assert_uint_eq(len, 0);
	lupi_loss_free(l);
	free_fproblem(&p);
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

START_TEST(feature_errors)
{
	float fs[6] = {1, 2, 3, 4, 5, 6}, ft[6] = {1, 0, 0, 1, 1, 1};
	uint8_t mask[3] = {1, 1, 0};
	double v;
	lupi_loss *l = NULL;
	lupi_loss_create(LUPI_LOSS_KD, &l);
	CK_ERR(lupi_loss_eval_features(l, 3, 2, fs, 2, ft, NULL, &v, NULL),
	       LUPI_ESTATE, "LUPI_LOSS_OPT_FEATURE");
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_SP);
	CK_ERR(lupi_loss_eval_features(NULL, 3, 2, fs, 2, ft, NULL, &v,
				       NULL),
	       LUPI_EINVAL, "NULL");
	CK_ERR(lupi_loss_eval_features(l, 3, 2, NULL, 2, ft, NULL, &v,
				       NULL),
	       LUPI_EINVAL, "fs is NULL");
	CK_ERR(lupi_loss_eval_features(l, 3, 2, fs, 2, NULL, NULL, &v,
				       NULL),
	       LUPI_EINVAL, "ft is NULL");
	CK_ERR(lupi_loss_eval_features(l, 3, 2, fs, 2, ft, NULL, NULL,
				       NULL),
	       LUPI_EINVAL, "value is NULL");
	CK_ERR(lupi_loss_eval_features(l, 0, 2, fs, 2, ft, NULL, &v, NULL),
	       LUPI_EINVAL, "n = 0");
	CK_ERR(lupi_loss_eval_features(l, 3, 0, fs, 2, ft, NULL, &v, NULL),
	       LUPI_EINVAL, "ds = 0");
	CK_ERR(lupi_loss_eval_features(l, SIZE_MAX / 4, 2, fs, 2, ft, NULL,
				       &v, NULL),
	       LUPI_EINVAL, "overflow");
	fs[3] = NAN;
	CK_ERR(lupi_loss_eval_features(l, 3, 2, fs, 2, ft, NULL, &v, NULL),
	       LUPI_ENONFINITE, "student features: sample 1, column 1");
	fs[3] = 4.0f;
	ft[5] = INFINITY;
	CK_ERR(lupi_loss_eval_features(l, 3, 2, fs, 2, ft, NULL, &v, NULL),
	       LUPI_ENONFINITE, "teacher features: sample 2, column 1");
	/* Masked rows of ft may hold anything. */
	ck_assert_int_eq(lupi_loss_eval_features(l, 3, 2, fs, 2, ft, mask,
						 &v, NULL),
			 LUPI_OK);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_CRD);
	ft[5] = 1.0f;
	float g[6];
	CK_ERR(lupi_loss_update_features(l, 3, 2, fs, 2, ft, NULL, &v, NULL),
	       LUPI_EINVAL, "grad is NULL");
	CK_ERR(lupi_loss_update_features(NULL, 3, 2, fs, 2, ft, NULL, &v, g),
	       LUPI_EINVAL, "NULL");
	ck_assert_int_eq(lupi_loss_update_features(l, 3, 2, fs, 2, ft, NULL,
						   &v, g),
			 LUPI_OK);
	CK_ERR(lupi_loss_eval_features(l, 2, 3, fs, 2, ft, NULL, &v, NULL),
	       LUPI_ESHAPE, "CRD heads");
	lupi_loss_free(l);
}
END_TEST

static int fail_at, seen;
static int fail_kth(size_t size, void *user)
{
	(void)size;
	(void)user;
	return seen++ != fail_at;
}

START_TEST(feature_allocation_failures)
{
	/* Each allocation of an evaluation may fail: ENOMEM, and the loss
	 * works afterwards. */
	fproblem p = make_fproblem(1600, 5, 3, 4, 1);
	for (int f = LUPI_FEATURE_HINT; f <= LUPI_FEATURE_CRD; f++) {
		for (fail_at = 0;; fail_at++) {
			lupi_loss *l = feature_loss(f, 1.0);
			lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 6);
			double v;
			seen = 0;
			lupi__set_alloc_gate(fail_kth, NULL);
			float g[5 * 3];
			int rc = lupi_loss_update_features(l, p.n, p.ds, p.fs,
							   p.dt, p.ft, p.mask,
							   &v, g);
			lupi__set_alloc_gate(NULL, NULL);
			if (rc == LUPI_OK) {
				lupi_loss_free(l);
				break;
			}
			ck_assert_int_eq(rc, LUPI_ENOMEM);
			feval(l, &p, 1, NULL);
			lupi_loss_free(l);
		}
		ck_assert_int_gt(fail_at, 0);
	}
	free_fproblem(&p);
}
END_TEST

/* The relational losses refuse batches whose pair matrices would be huge;
 * HINT, which has no pair matrix, takes the same batch. */
START_TEST(relational_batch_is_bounded)
{
	const size_t n = 65537;
	float *f = calloc(n, sizeof *f);
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		f[i] = (float)(i % 7);
	const int kinds[] = {LUPI_FEATURE_RKD_DIST, LUPI_FEATURE_RKD_ANGLE,
			     LUPI_FEATURE_PKT, LUPI_FEATURE_SP};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		lupi_loss *l = feature_loss(kinds[i], 1.0);
		double v = -1.0;
		ck_assert_int_eq(lupi_loss_eval_features(l, n, 1, f, 1, f, NULL,
							 &v, NULL),
				 LUPI_ERANGE);
		ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "65537 samples"));
		lupi_loss_free(l);
	}
	lupi_loss *l = feature_loss(LUPI_FEATURE_HINT, 1.0);
	double v = -1.0;
	ck_assert_int_eq(lupi_loss_eval_features(l, n, 1, f, 1, f, NULL, &v,
						 NULL), LUPI_OK);
	ck_assert(v >= 0.0);
	lupi_loss_free(l);
	free(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("distill-feature-loss");
	TCase *fd = tcase_create("finite-differences");
	tcase_add_loop_test(fd, fd_each_feature_loss, 0, 2 * N_FSHAPES * 2);
	tcase_add_test(fd, fd_crd_with_queue);
	suite_add_tcase(s, fd);
	TCase *gd = tcase_create("golden");
	tcase_add_test(gd, golden_feature_losses);
	suite_add_tcase(s, gd);
	TCase *st = tcase_create("state");
	tcase_add_test(st, hint_regressor_learns);
	tcase_add_test(st, hint_seed_fixes_regressor);
	tcase_add_test(st, crd_queue_is_bounded);
	tcase_add_test(st, relational_closed_forms);
	tcase_add_test(st, no_teacher_rows);
	tcase_add_test(st, eval_is_pure_update_learns);
	tcase_add_test(st, clone_keeps_learned_state);
	tcase_add_test(st, clone_allocation_failures);
	suite_add_tcase(s, st);
	TCase *er = tcase_create("errors");
	tcase_add_test(er, feature_errors);
	tcase_add_test(er, relational_batch_is_bounded);
	tcase_add_test(er, feature_allocation_failures);
	suite_add_tcase(s, er);
	return lupi_test_run(s);
}
