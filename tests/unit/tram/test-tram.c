/* TRAM: the joint gradient against central finite differences of a
 * reference written here in double (trunk phi and head h of the model,
 * privileged head g; softmax with a tanh trunk, and binary without hidden
 * layers), including the stop-gradient (phi's gradient is that of g's
 * loss alone, and does not move when h's loss changes); the model after
 * TRAM training saved and loaded (phi and h only, same predictions bit for
 * bit); marginalised predictions against averages computed by hand;
 * options, errors and allocation failures. */
#include <math.h>
#include <stdint.h>

#include "testutil.h"
#include "tram/tram_internal.h"

#define N 7
#define D 3
#define DP 2
#define K 3
#define H 4  /* the model's hidden width (phi) */
#define GH 3 /* g's hidden width */

static const float X[N * D] = {0.5f,  -1.2f, 0.3f,  1.1f, 0.4f,  -0.7f,
			       -0.3f, 0.9f,  1.5f,  0.2f, -0.8f, 0.6f,
			       -1.4f, 0.1f,  -0.2f, 0.8f, 1.3f,  -1.1f,
			       0.0f,  -0.5f, 0.9f};
static const float XP[N * DP] = {1.0f,  -0.5f, 0.3f,  0.8f, 9.0f,
				 9.0f,  -1.2f, 0.4f,  0.6f, -0.9f,
				 9.0f,  9.0f,  -0.1f, 1.4f};
static const uint8_t MASK[N] = {1, 1, 0, 1, 1, 0, 1};
static const int32_t Y[N] = {0, 2, 1, 1, 0, 2, 1};
static const float W[N] = {1.0f, 2.0f, 0.5f, 1.0f, 1.5f, 1.0f, 0.7f};

static lupi_dataset *make_ds(void)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DP, XP, MASK),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, Y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_weights(ds, W), LUPI_OK);
	return ds;
}

static lupi_model *make_model(int act)
{
	static const size_t hidden[] = {H};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden,
					   1, K, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION, act),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 5),
			 LUPI_OK);
	return m;
}

static lupi_tram *make_tram(int64_t layers, int64_t hidden, int act,
			    int standardize)
{
	lupi_tram *t = NULL;
	ck_assert_int_eq(lupi_tram_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_LAYERS, layers),
			 LUPI_OK);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_HIDDEN, hidden),
			 LUPI_OK);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_ACTIVATION, act),
			 LUPI_OK);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_STANDARDIZE,
					   standardize), LUPI_OK);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_SEED, 9),
			 LUPI_OK);
	return t;
}

/* ---- the reference, in double --------------------------------------------
 * Model params (layout of lupi_model_get_params): W1 H x D, b1 H, W2 K x H,
 * b2 K. g params: W3 GH x (H + DP), b3 GH, W4 K x GH, b4 K. */
#define NPM (H * D + H + K * H + K)
#define NPHI (H * D + H)
#define NPG (GH * (H + DP) + GH + K * GH + K)

typedef struct ref {
	double xmean[D], xinv[D]; /* the model's standardisation */
	double pmean[DP], pinv[DP]; /* the head's X* standardisation */
} ref;

/* weighted CE of logits s (K) at label y */
static double ce(const double *s, int32_t y)
{
	double mx = s[0], z = 0;
	for (int j = 1; j < K; j++)
		mx = s[j] > mx ? s[j] : mx;
	for (int j = 0; j < K; j++)
		z += exp(s[j] - mx);
	return mx + log(z) - s[y];
}

static void ref_losses(const ref *r, const double *pm, const double *pg,
		       double *lg, double *lh)
{
	const double *w1 = pm, *b1 = pm + H * D, *w2 = b1 + H, *b2 = w2 + K * H;
	const double *w3 = pg, *b3 = pg + GH * (H + DP), *w4 = b3 + GH,
		     *b4 = w4 + K * GH;
	double sg = 0, sh = 0, wg = 0, wh = 0;
	for (int i = 0; i < N; i++) {
		double xs[D], phi[H], z[H + DP], u[GH], s[K];
		for (int j = 0; j < D; j++)
			xs[j] = ((double)X[i * D + j] - r->xmean[j]) *
				r->xinv[j];
		for (int a = 0; a < H; a++) {
			double v = b1[a];
			for (int j = 0; j < D; j++)
				v += w1[a * D + j] * xs[j];
			phi[a] = tanh(v);
		}
		for (int c = 0; c < K; c++) {
			s[c] = b2[c];
			for (int a = 0; a < H; a++)
				s[c] += w2[c * H + a] * phi[a];
		}
		sh += W[i] * ce(s, Y[i]);
		wh += W[i];
		if (!MASK[i])
			continue;
		for (int a = 0; a < H; a++)
			z[a] = phi[a];
		for (int j = 0; j < DP; j++)
			z[H + j] = ((double)XP[i * DP + j] - r->pmean[j]) *
				   r->pinv[j];
		for (int a = 0; a < GH; a++) {
			double v = b3[a];
			for (int j = 0; j < H + DP; j++)
				v += w3[a * (H + DP) + j] * z[j];
			u[a] = tanh(v);
		}
		for (int c = 0; c < K; c++) {
			s[c] = b4[c];
			for (int a = 0; a < GH; a++)
				s[c] += w4[c * GH + a] * u[a];
		}
		sg += W[i] * ce(s, Y[i]);
		wg += W[i];
	}
	*lg = sg / wg;
	*lh = sh / wh;
}

/* d L / d p[i] by central differences; which: 0 L_g, 1 L_h. */
static double fd(const ref *r, double *pm, double *pg, double *p, int which)
{
	const double e = 1e-6;
	double keep = *p, lg, lh, up, down;
	*p = keep + e;
	ref_losses(r, pm, pg, &lg, &lh);
	up = which ? lh : lg;
	*p = keep - e;
	ref_losses(r, pm, pg, &lg, &lh);
	down = which ? lh : lg;
	*p = keep;
	return (up - down) / (2 * e);
}

static void close_to(double got, double want, const char *what, int i)
{
	ck_assert_msg(fabs(got - want) <= 2e-5 + 1e-3 * fabs(want),
		      "%s %d: %.9g, finite differences %.9g", what, i, got,
		      want);
}

static void read_ref(ref *r, const lupi_model *m, const lupi_tram *t)
{
	for (int j = 0; j < D; j++) {
		r->xmean[j] = m->mean[j];
		r->xinv[j] = m->inv_std[j];
	}
	for (int j = 0; j < DP; j++) {
		r->pmean[j] = t->mean[j];
		r->pinv[j] = t->inv_std[j];
	}
}

START_TEST(test_gradient)
{
	lupi_dataset *ds = make_ds();
	lupi_model *m = make_model(LUPI_ACT_TANH);
	lupi_tram *t = make_tram(1, GH, LUPI_ACT_TANH, 1);
	size_t idx[N];
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
	double lg, lh;
	ck_assert_int_eq(lupi__tram_gradient(t, m, ds, idx, N, &lg, &lh),
			 LUPI_OK);
	ck_assert_uint_eq(m->n_params, NPM);
	ck_assert_uint_eq(t->g->n_params, NPG);
	ck_assert_uint_eq(t->n_sel, 5);
	ref r;
	read_ref(&r, m, t);
	double pm[NPM], pg[NPG], rlg, rlh;
	for (size_t i = 0; i < NPM; i++)
		pm[i] = m->params[i];
	for (size_t i = 0; i < NPG; i++)
		pg[i] = t->g->params[i];
	ref_losses(&r, pm, pg, &rlg, &rlh);
	close_to(lg, rlg, "L_g", 0);
	close_to(lh, rlh, "L_h", 0);
	/* phi from L_g alone, h from L_h, g from L_g */
	double most_h_on_phi = 0;
	for (int i = 0; i < NPM; i++) {
		int is_phi = i < NPHI;
		close_to(m->grads[i], fd(&r, pm, pg, &pm[i], !is_phi),
			 is_phi ? "phi gradient" : "h gradient", i);
		if (is_phi) {
			double d = fabs(fd(&r, pm, pg, &pm[i], 1));
			most_h_on_phi = d > most_h_on_phi ? d : most_h_on_phi;
		}
	}
	/* h's loss does depend on phi: the check above has power */
	ck_assert_msg(most_h_on_phi > 1e-2, "d L_h / d phi at most %g",
		      most_h_on_phi);
	for (int i = 0; i < NPG; i++)
		close_to(t->g->grads[i], fd(&r, pm, pg, &pg[i], 0),
			 "g gradient", i);

	/* Stop-gradient: another h (so another L_h and another h gradient)
	 * leaves phi's gradient as it was, bit for bit. */
	float gphi[NPHI], gh[NPM - NPHI], p[NPM];
	memcpy(gphi, m->grads, sizeof gphi);
	memcpy(gh, m->grads + NPHI, sizeof gh);
	memcpy(p, m->params, sizeof p);
	for (int i = NPHI; i < NPM; i++)
		p[i] += 0.3f * (float)((i % 5) - 2);
	ck_assert_int_eq(lupi_model_set_params(m, p, NPM), LUPI_OK);
	double lh2;
	ck_assert_int_eq(lupi__tram_gradient(t, m, ds, idx, N, &lg, &lh2),
			 LUPI_OK);
	ck_assert(fabs(lh2 - lh) > 1e-3);
	ck_assert(memcmp(gphi, m->grads, sizeof gphi) == 0);
	ck_assert(memcmp(gh, m->grads + NPHI, sizeof gh) != 0);

	/* A batch whose samples have no X*: L_g 0, phi and g get nothing;
	 * a step moves the model and leaves g alone. */
	size_t none[2] = {2, 5};
	ck_assert_int_eq(lupi__tram_gradient(t, m, ds, none, 2, &lg, &lh),
			 LUPI_OK);
	ck_assert(lg == 0.0 && lh > 0.0);
	for (int i = 0; i < NPHI; i++)
		ck_assert(m->grads[i] == 0.0f);
	float g0[NPG], m0[NPM];
	memcpy(g0, t->g->params, sizeof g0);
	memcpy(m0, m->params, sizeof m0);
	double loss;
	ck_assert_int_eq(lupi_tram_step(t, m, ds, none, 2, &loss), LUPI_OK);
	ck_assert(memcmp(g0, t->g->params, sizeof g0) == 0);
	ck_assert(memcmp(m0 + NPHI, m->params + NPHI,
			 (NPM - NPHI) * sizeof *m0) != 0);
	ck_assert(fabs(loss - lh) < 1e-12);
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Binary, a model without hidden layers (phi = the standardised input,
 * h = the logistic layer) and a linear g on [x, x*]: h's and g's
 * gradients against finite differences of the weighted mean BCE. */
static const int32_t YB[N] = {0, 1, 1, 0, 0, 1, 1};

static void ref_binary(const double *xm, const double *xi, const double *pm,
		       const double *pg, double *lg, double *lh)
{
	double sg = 0, sh = 0, wg = 0, wh = 0;
	for (int i = 0; i < N; i++) {
		double z[D + DP], s = pm[D], u = pg[D + DP];
		for (int j = 0; j < D; j++) {
			z[j] = ((double)X[i * D + j] - xm[j]) * xi[j];
			s += pm[j] * z[j];
			u += pg[j] * z[j];
		}
		/* -log sigmoid(s) for y = 1, -log(1 - sigmoid(s)) for 0 */
		double l = log1p(exp(-fabs(s))) + (s > 0 ? s : 0) - YB[i] * s;
		sh += W[i] * l;
		wh += W[i];
		if (!MASK[i])
			continue;
		for (int j = 0; j < DP; j++)
			u += pg[D + j] * XP[i * DP + j];
		sg += W[i] * (log1p(exp(-fabs(u))) + (u > 0 ? u : 0) -
			      YB[i] * u);
		wg += W[i];
	}
	*lg = sg / wg;
	*lh = sh / wh;
}

START_TEST(test_gradient_binary)
{
	lupi_dataset *ds = make_ds();
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, YB), LUPI_OK);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_BINARY, D, NULL, 0, 1,
					   &m), LUPI_OK);
	lupi_tram *t = make_tram(0, 1, LUPI_ACT_RELU, 0);
	size_t idx[N] = {0, 1, 2, 3, 4, 5, 6};
	double lg, lh;
	ck_assert_int_eq(lupi__tram_gradient(t, m, ds, idx, N, &lg, &lh),
			 LUPI_OK);
	double xm[D], xi[D], pm[D + 1], pg[D + DP + 1], rg, rh;
	for (int j = 0; j < D; j++) {
		xm[j] = m->mean[j];
		xi[j] = m->inv_std[j];
	}
	for (int i = 0; i < D + 1; i++)
		pm[i] = m->params[i];
	for (int i = 0; i < D + DP + 1; i++)
		pg[i] = t->g->params[i];
	ref_binary(xm, xi, pm, pg, &rg, &rh);
	close_to(lg, rg, "L_g", 0);
	close_to(lh, rh, "L_h", 0);
	const double e = 1e-6;
	for (int i = 0; i < D + 1; i++) {
		double keep = pm[i], up, down, dummy;
		pm[i] = keep + e;
		ref_binary(xm, xi, pm, pg, &dummy, &up);
		pm[i] = keep - e;
		ref_binary(xm, xi, pm, pg, &dummy, &down);
		pm[i] = keep;
		close_to(m->grads[i], (up - down) / (2 * e), "h gradient", i);
	}
	for (int i = 0; i < D + DP + 1; i++) {
		double keep = pg[i], up, down, dummy;
		pg[i] = keep + e;
		ref_binary(xm, xi, pm, pg, &up, &dummy);
		pg[i] = keep - e;
		ref_binary(xm, xi, pm, pg, &down, &dummy);
		pg[i] = keep;
		close_to(t->g->grads[i], (up - down) / (2 * e), "g gradient",
			 i);
	}
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* A larger noisy task: 60 samples, X* = [flip flag, noise]. */
static lupi_dataset *make_task(size_t n, uint64_t seed)
{
	float x[60 * D], xp[60 * DP];
	int32_t y[60];
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	ck_assert(n <= 60);
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < D; j++) {
			x[i * D + j] = (float)lupi__rng_normal(&r);
			s += x[i * D + j] * (j + 1);
		}
		int clean = s > 1.0 ? 2 : s > -1.0 ? 1 : 0;
		int flip = lupi__rng_uniform(&r) < 0.3;
		y[i] = flip ? (clean + 1) % K : clean;
		xp[i * DP] = (float)flip;
		xp[i * DP + 1] = (float)lupi__rng_normal(&r);
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DP, xp, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	return ds;
}

START_TEST(test_round_trip)
{
	lupi_dataset *ds = make_task(60, 3);
	lupi_model *m = make_model(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 1e-2),
			 LUPI_OK);
	lupi_tram *t = make_tram(1, 8, LUPI_ACT_RELU, 1);
	ck_assert_int_eq(lupi_tram_fit(t, m, ds, ds, NULL, NULL), LUPI_OK);
	ck_assert(m->t == 20); /* 5 epochs of 4 batches */
	ck_assert(t->g->t == 20);

	char *dir = lupi_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/tram.lupi", dir);
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_OK);
	lupi_model *back = NULL;
	ck_assert_int_eq(lupi_model_load(path, &back), LUPI_OK);
	/* phi and h only: the model's own shape and parameters */
	ck_assert_uint_eq(lupi_model_num_params(back), NPM);
	ck_assert_uint_eq(lupi_model_layers(back), 2);
	float pa[NPM], pb[NPM], oa[60 * K], ob[60 * K];
	ck_assert_int_eq(lupi_model_get_params(m, pa, NPM), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(back, pb, NPM), LUPI_OK);
	ck_assert(memcmp(pa, pb, sizeof pa) == 0);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	ck_assert_int_eq(lupi_model_predict(m, x, 60, D, LUPI_PREDICT_OUTPUT,
					    oa), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(back, x, 60, D,
					    LUPI_PREDICT_OUTPUT, ob), LUPI_OK);
	ck_assert(memcmp(oa, ob, sizeof oa) == 0);
	/* the same file as a model saved without TRAM */
	void *ba = NULL, *bb = NULL;
	size_t sa = 0, sb = 0;
	ck_assert_int_eq(lupi_model_save_memory(m, &ba, &sa), LUPI_OK);
	ck_assert_int_eq(lupi_model_save_memory(back, &bb, &sb), LUPI_OK);
	ck_assert(sa == sb && memcmp(ba, bb, sa) == 0);
	lupi_free(ba);
	lupi_free(bb);
	/* the marginalised prediction works on the loaded model too */
	const float *xs = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	float ma[10 * K], mb[10 * K];
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, x, 10, D, xs, 60,
						    DP, ma), LUPI_OK);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, back, x, 10, D, xs,
						    60, DP, mb), LUPI_OK);
	ck_assert(memcmp(ma, mb, sizeof ma) == 0);
	for (int i = 0; i < 10; i++) {
		double s = 0;
		for (int c = 0; c < K; c++)
			s += ma[i * K + c];
		ck_assert(fabs(s - 1.0) < 1e-5);
	}
	lupi_model_free(back);
	lupi_test_rmdir(dir);
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Marginalisation by hand: a relu trunk, a linear g, 3 X* rows,
 * standardised with the training set's statistics. */
START_TEST(test_marginal_by_hand)
{
	lupi_dataset *ds = make_ds();
	lupi_model *m = make_model(LUPI_ACT_RELU);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	lupi_tram *t = make_tram(0, 1, LUPI_ACT_RELU, 1);
	size_t idx[3] = {0, 1, 3};
	ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, 3, NULL), LUPI_OK);
	/* the X* statistics: the samples that have X* */
	for (int j = 0; j < DP; j++) {
		double mu = 0, v = 0, c = 0;
		for (int i = 0; i < N; i++)
			if (MASK[i]) {
				mu += XP[i * DP + j];
				c++;
			}
		mu /= c;
		for (int i = 0; i < N; i++)
			if (MASK[i])
				v += (XP[i * DP + j] - mu) *
				     (XP[i * DP + j] - mu);
		ck_assert(fabs(t->mean[j] - mu) < 1e-6);
		ck_assert(fabs(t->inv_std[j] - 1 / sqrt(v / c)) < 1e-5);
	}
	float pm[NPM], pg[K * (H + DP) + K];
	for (int i = 0; i < NPM; i++)
		pm[i] = (float)(((i * 7) % 11) - 5) / 8.0f;
	for (size_t i = 0; i < sizeof pg / sizeof *pg; i++)
		pg[i] = (float)(((i * 5) % 13) - 6) / 9.0f;
	ck_assert_int_eq(lupi_model_set_params(m, pm, NPM), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_params(t->g, pg,
					       sizeof pg / sizeof *pg),
			 LUPI_OK);
	static const float xq[2 * D] = {0.4f, -0.6f, 1.2f, -1.0f, 0.3f, 0.5f};
	static const float xs[3 * DP] = {0.2f, -0.4f, 1.5f, 0.7f, -0.9f, 0.1f};
	float out[2 * K];
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, xq, 2, D, xs, 3, DP,
						    out), LUPI_OK);
	for (int i = 0; i < 2; i++) {
		double phi[H], avg[K] = {0};
		for (int a = 0; a < H; a++) {
			double v = pm[H * D + a];
			for (int j = 0; j < D; j++)
				v += pm[a * D + j] * xq[i * D + j];
			phi[a] = v > 0 ? v : 0;
		}
		for (int r = 0; r < 3; r++) {
			double z[H + DP], s[K], mx = -1e300, sum = 0;
			for (int a = 0; a < H; a++)
				z[a] = phi[a];
			for (int j = 0; j < DP; j++)
				z[H + j] = (xs[r * DP + j] - t->mean[j]) *
					   t->inv_std[j];
			for (int c = 0; c < K; c++) {
				s[c] = pg[K * (H + DP) + c];
				for (int j = 0; j < H + DP; j++)
					s[c] += pg[c * (H + DP) + j] * z[j];
				mx = s[c] > mx ? s[c] : mx;
			}
			for (int c = 0; c < K; c++)
				sum += exp(s[c] - mx);
			for (int c = 0; c < K; c++)
				avg[c] += exp(s[c] - mx) / sum / 3.0;
		}
		for (int c = 0; c < K; c++)
			ck_assert_msg(fabs(out[i * K + c] - avg[c]) < 1e-6,
				      "sample %d class %d: %.9g, by hand %.9g",
				      i, c, out[i * K + c], avg[c]);
	}
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Binary: a model without hidden layers (phi = the standardised input)
 * and a g with one relu layer of 2; X* not standardised. */
START_TEST(test_marginal_binary)
{
	static const int32_t yb[N] = {0, 1, 1, 0, 0, 1, 1};
	lupi_dataset *ds = make_ds();
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, yb), LUPI_OK);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_BINARY, D, NULL, 0, 1,
					   &m), LUPI_OK);
	lupi_tram *t = make_tram(1, 2, LUPI_ACT_RELU, 0);
	size_t idx[N] = {0, 1, 2, 3, 4, 5, 6};
	ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, N, NULL), LUPI_OK);
	ck_assert(t->mean == NULL);
	ck_assert_uint_eq(t->phi, D);
	/* g: W 2 x (D + DP), b 2, W 1 x 2, b 1 */
	float pg[2 * (D + DP) + 2 + 2 + 1];
	for (size_t i = 0; i < sizeof pg / sizeof *pg; i++)
		pg[i] = (float)(((i * 3) % 7) - 3) / 4.0f;
	ck_assert_int_eq(lupi_model_set_params(t->g, pg,
					       sizeof pg / sizeof *pg),
			 LUPI_OK);
	static const float xq[D] = {0.7f, -0.2f, 0.4f};
	static const float xs[2 * DP] = {1.0f, -1.0f, -0.5f, 2.0f};
	float out[1];
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, xq, 1, D, xs, 2, DP,
						    out), LUPI_OK);
	double want = 0;
	for (int r = 0; r < 2; r++) {
		double z[D + DP], u[2], s;
		for (int j = 0; j < D; j++)
			z[j] = (xq[j] - m->mean[j]) * m->inv_std[j];
		for (int j = 0; j < DP; j++)
			z[D + j] = xs[r * DP + j];
		for (int a = 0; a < 2; a++) {
			double v = pg[2 * (D + DP) + a];
			for (int j = 0; j < D + DP; j++)
				v += pg[a * (D + DP) + j] * z[j];
			u[a] = v > 0 ? v : 0;
		}
		s = pg[2 * (D + DP) + 4] + pg[2 * (D + DP) + 2] * u[0] +
		    pg[2 * (D + DP) + 3] * u[1];
		want += 0.5 / (1 + exp(-s));
	}
	ck_assert_msg(fabs(out[0] - want) < 1e-6, "%.9g, by hand %.9g", out[0],
		      want);
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* Regression: the mean of g's values; a linear model and a linear g. */
START_TEST(test_marginal_regression)
{
	float tg[N];
	for (int i = 0; i < N; i++)
		tg[i] = 0.5f * (float)i - 1.0f;
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DP, XP, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, tg), LUPI_OK);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, D, NULL, 0, 1,
					   &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	lupi_tram *t = make_tram(0, 1, LUPI_ACT_RELU, 0);
	size_t idx[N] = {0, 1, 2, 3, 4, 5, 6};
	double loss;
	ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, N, &loss), LUPI_OK);
	ck_assert(isfinite(loss) && loss > 0);
	static const float pg[D + DP + 1] = {0.5f, -1.0f, 0.25f, 2.0f, -0.5f,
					     0.1f};
	ck_assert_int_eq(lupi_model_set_params(t->g, pg, D + DP + 1), LUPI_OK);
	static const float xq[2 * D] = {1.0f, 2.0f, -1.0f, 0.0f, 0.5f, 3.0f};
	static const float xs[3 * DP] = {1.0f, 0.0f, -2.0f, 4.0f, 0.5f, 0.5f};
	float out[2];
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, xq, 2, D, xs, 3, DP,
						    out), LUPI_OK);
	for (int i = 0; i < 2; i++) {
		double want = pg[D + DP];
		for (int j = 0; j < D; j++)
			want += pg[j] * xq[i * D + j];
		for (int j = 0; j < DP; j++)
			want += pg[D + j] * (xs[j] + xs[DP + j] +
					     xs[2 * DP + j]) / 3.0;
		ck_assert_msg(fabs(out[i] - want) < 1e-5, "%.9g, by hand %.9g",
			      out[i], want);
	}
	lupi_tram_free(t);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(test_errors)
{
	lupi_dataset *ds = make_ds(), *bare = NULL, *wide = NULL, *reg = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &bare), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(bare, K, Y), LUPI_OK);
	float xp3[N * 3] = {0};
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &wide), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(wide, 3, xp3, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(wide, K, Y), LUPI_OK);
	float tg[N];
	for (int i = 0; i < N; i++)
		tg[i] = (float)i;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &reg), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(reg, DP, XP, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_targets(reg, 1, tg), LUPI_OK);
	lupi_model *m = make_model(LUPI_ACT_RELU), *other = NULL,
		   *priv = make_model(LUPI_ACT_RELU);
	static const size_t h5[] = {5};
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, h5, 1,
					   K, &other), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(priv, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_BOTH), LUPI_OK);
	lupi_tram *t = NULL;
	size_t idx[2] = {0, 1}, bad[1] = {N};
	float out[2 * K];
	int64_t v = 0;

	ck_assert_int_eq(lupi_tram_create(NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_tram_get_int(t, LUPI_TRAM_OPT_HIDDEN, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 64);
	ck_assert_int_eq(lupi_tram_get_int(t, LUPI_TRAM_OPT_LAYERS, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_HIDDEN, 0),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_ACTIVATION, 5),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_MODEL_OPT_EPOCHS, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_tram_get_int(t, LUPI_TRAM_OPT_SEED, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_set_int(NULL, LUPI_TRAM_OPT_SEED, 1),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_HIDDEN, 6),
			 LUPI_OK);
	/* before any step */
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, XP, 2, DP,
						    out), LUPI_ESTATE);
	/* bad calls */
	ck_assert_int_eq(lupi_tram_step(NULL, m, ds, idx, 2, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_step(t, NULL, ds, idx, 2, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_step(t, m, NULL, idx, 2, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_step(t, m, ds, NULL, 2, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, 0, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_step(t, m, bare, idx, 2, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_tram_fit(t, m, bare, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_tram_step(t, m, reg, idx, 2, NULL), LUPI_ESTATE);
	ck_assert_int_eq(lupi_tram_step(t, priv, ds, idx, 2, NULL),
			 LUPI_ENOTSUP);
	ck_assert_int_eq(lupi_tram_step(t, m, ds, bad, 1, NULL), LUPI_ERANGE);
	ck_assert(t->g == NULL);
	/* bound by the first step */
	ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, 2, NULL), LUPI_OK);
	ck_assert_uint_eq(t->g->layers[0].out, 6);
	ck_assert_int_eq(lupi_tram_set_int(t, LUPI_TRAM_OPT_HIDDEN, 8),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_tram_get_int(t, LUPI_TRAM_OPT_HIDDEN, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 6);
	ck_assert_int_eq(lupi_tram_step(t, other, ds, idx, 2, NULL),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_tram_step(t, m, wide, idx, 2, NULL),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_tram_fit(t, other, ds, NULL, NULL, NULL),
			 LUPI_ESHAPE);
	/* marginal prediction */
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, XP, 2, DP,
						    out), LUPI_OK);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D + 1, XP, 2,
						    DP, out), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, XP, 2, 3,
						    out), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, other, X, 2, D, XP, 2,
						    DP, out), LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_init(other), LUPI_OK);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, other, X, 2, D, XP, 2,
						    DP, out), LUPI_ESHAPE);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 0, D, XP, 2, DP,
						    out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, XP, 0, DP,
						    out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, NULL, 2,
						    DP, out), LUPI_EINVAL);
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, SIZE_MAX / 2, D,
						    XP, 2, DP, out),
			 LUPI_ERANGE);
	float nan_xs[2 * DP] = {0.0f, NAN, 1.0f, 2.0f};
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, X, 2, D, nan_xs, 2,
						    DP, out), LUPI_ENONFINITE);
	ck_assert(strstr(lupi_errmsg(), "row 0") != NULL);
	float nan_x[D] = {NAN, 0.0f, 0.0f};
	ck_assert_int_eq(lupi_tram_predict_marginal(t, m, nan_x, 1, D, XP, 2,
						    DP, out), LUPI_ENONFINITE);
	lupi_tram_free(t);
	lupi_tram_free(NULL);
	lupi_model_free(m);
	lupi_model_free(other);
	lupi_model_free(priv);
	lupi_dataset_free(ds);
	lupi_dataset_free(bare);
	lupi_dataset_free(wide);
	lupi_dataset_free(reg);
}
END_TEST

/* Allocation failures anywhere in a first step leave handles usable. */
START_TEST(test_alloc_failure)
{
	lupi_dataset *ds = make_ds();
	size_t idx[N] = {0, 1, 2, 3, 4, 5, 6};
	int done = 0;
	for (int budget = 0; budget < 200 && !done; budget++) {
		lupi_model *m = make_model(LUPI_ACT_RELU);
		lupi_tram *t = make_tram(2, 5, LUPI_ACT_GELU, 1);
		int left = budget;
		lupi__set_alloc_gate(lupi_test_budget_gate, &left);
		int rc = lupi_tram_step(t, m, ds, idx, N, NULL);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_msg(rc == LUPI_OK || rc == LUPI_ENOMEM, "budget %d: %d",
			      budget, rc);
		done = rc == LUPI_OK;
		ck_assert_int_eq(lupi_tram_step(t, m, ds, idx, N, NULL),
				 LUPI_OK);
		lupi_tram_free(t);
		lupi_model_free(m);
	}
	ck_assert(done);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tram");
	TCase *tc = tcase_create("tram");
	tcase_add_test(tc, test_gradient);
	tcase_add_test(tc, test_gradient_binary);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_marginal_by_hand);
	tcase_add_test(tc, test_marginal_binary);
	tcase_add_test(tc, test_marginal_regression);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
