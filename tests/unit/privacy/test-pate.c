/* PATE: the noisy aggregations (GNMax with sigma -> 0 returns the
 * plurality; the probability that a one-vote lead wins, in closed form for
 * Gaussian and Laplace noise; the confident check's answer rate), the
 * Laplace sampler's moments, the data-independent accounting against hand
 * computations, and teachers -> votes -> student end to end. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "privacy/privacy_internal.h"
#include "testutil.h"

#define K 3
#define D 4

#include "blobs.h"

static lupi_model *softmax_model(void)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, NULL, 0,
					   K, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 20),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05),
			 LUPI_OK);
	return m;
}

START_TEST(gnmax_small_sigma_returns_plurality)
{
	enum { N = 500, C = 5 };
	uint32_t *votes = malloc(N * C * sizeof *votes);
	int32_t lab[N];
	lupi__rng r;
	lupi__rng_seed(&r, 3);
	for (size_t i = 0; i < N; i++) {
		for (size_t c = 0; c < C; c++)
			votes[i * C + c] = (uint32_t)lupi__rng_below(&r, 50);
		votes[i * C + i % C] = 60; /* a unique plurality */
	}
	for (int mech = LUPI_PATE_LAPLACE; mech <= LUPI_PATE_CONFIDENT;
	     mech++) {
		size_t answered = 0;
		ck_assert_int_eq(lupi_pate_aggregate(votes, N, C, mech, 1e-6,
						     1e-6, 0.0, 11, lab,
						     &answered), LUPI_OK);
		ck_assert_uint_eq(answered, N);
		for (size_t i = 0; i < N; i++)
			ck_assert_int_eq(lab[i], (int32_t)(i % C));
	}
	/* the confident variant with a threshold above every count
	 * answers nothing */
	size_t answered = 1;
	ck_assert_int_eq(lupi_pate_aggregate(votes, N, C, LUPI_PATE_CONFIDENT,
					     1.0, 1e-6, 61.0, 11, lab,
					     &answered), LUPI_OK);
	ck_assert_uint_eq(answered, 0);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(lab[i], -1);
	free(votes);
}
END_TEST

/* The share of N queries with votes (10, 11) that class 1 wins, against
 * the closed form; tolerance 5 binomial standard errors. */
static void lead_wins(int mech, double noise, double expect)
{
	enum { N = 100000 };
	uint32_t *votes = malloc(2 * N * sizeof *votes);
	int32_t *lab = malloc(N * sizeof *lab);
	for (size_t i = 0; i < N; i++) {
		votes[2 * i] = 10;
		votes[2 * i + 1] = 11;
	}
	ck_assert_int_eq(lupi_pate_aggregate(votes, N, 2, mech, noise, 1.0,
					     0.0, 5, lab, NULL), LUPI_OK);
	size_t won = 0;
	for (size_t i = 0; i < N; i++)
		won += lab[i] == 1;
	double p = (double)won / N, se = sqrt(expect * (1 - expect) / N);
	ck_assert_msg(fabs(p - expect) < 5 * se, "mechanism %d: %g vs %g",
		      mech, p, expect);
	free(votes);
	free(lab);
}

START_TEST(noisy_max_noise_statistics)
{
	/* Gaussian: N1 - N0 ~ N(0, 2 sigma^2): P = Phi(1 / (sigma sqrt 2)) */
	lead_wins(LUPI_PATE_GNMAX, 1.0, 0.5 * erfc(-0.5));
	lead_wins(LUPI_PATE_GNMAX, 3.0, 0.5 * erfc(-1.0 / 6.0));
	/* Laplace(b): X - Y has P(X - Y >= t) = e^(-t/b) (2 + t/b) / 4,
	 * t >= 0, so class 1 wins with 1 - e^(-1/b) (2 + 1/b) / 4 */
	lead_wins(LUPI_PATE_LAPLACE, 1.0, 1.0 - exp(-1.0) * 3.0 / 4.0);
	lead_wins(LUPI_PATE_LAPLACE, 2.0, 1.0 - exp(-0.5) * 2.5 / 4.0);

	/* the Laplace sampler itself: mean 0, variance 2 b^2, P(|X| > b)
	 * = 1/e; 5 standard errors */
	enum { N = 200000 };
	lupi__dp_rng *g = malloc(sizeof *g);
	ck_assert_int_eq(lupi__dp_rng_init(g, 9), LUPI_OK);
	double b = 1.5, s1 = 0, s2 = 0, tail = 0;
	for (size_t i = 0; i < N; i++) {
		double v = lupi__dp_laplace(g, b);
		s1 += v;
		s2 += v * v;
		tail += fabs(v) > b;
	}
	double var = 2 * b * b;
	ck_assert(fabs(s1 / N) < 5 * sqrt(var / N));
	/* Var of X^2 for Laplace: E X^4 - (E X^2)^2 = 24 b^4 - 4 b^4 */
	ck_assert(fabs(s2 / N - var) < 5 * sqrt(20 * pow(b, 4) / N));
	double pt = exp(-1.0);
	ck_assert(fabs(tail / N - pt) < 5 * sqrt(pt * (1 - pt) / N));
	free(g);

	/* the confident check: top count 10, threshold 10 + 0.5 sigma1,
	 * answers with probability Phi(-0.5) */
	uint32_t *votes = malloc(2 * N * sizeof *votes);
	int32_t *lab = malloc(N * sizeof *lab);
	for (size_t i = 0; i < N; i++) {
		votes[2 * i] = 10;
		votes[2 * i + 1] = 2;
	}
	size_t answered = 0;
	ck_assert_int_eq(lupi_pate_aggregate(votes, N, 2, LUPI_PATE_CONFIDENT,
					     1.0, 4.0, 12.0, 21, lab,
					     &answered), LUPI_OK);
	double pa = 0.5 * erfc(0.5 / sqrt(2.0));
	ck_assert_msg(fabs((double)answered / N - pa) <
			      5 * sqrt(pa * (1 - pa) / N),
		      "answered %zu", answered);
	free(votes);
	free(lab);
}
END_TEST

START_TEST(accounting_against_hand_computation)
{
	/* per-query RDP: GNMax alpha / sigma^2 (Papernot et al. 2018, Prop.
	 * 8); the check alpha / (2 sigma1^2) */
	ck_assert(fabs(lupi__pate_rdp(LUPI_PATE_GNMAX, 40.0, 15.0) -
		       15.0 / 1600.0) < 1e-15);
	ck_assert(fabs(lupi__pate_check_rdp(150.0, 12.0) -
		       12.0 / 45000.0) < 1e-15);
	ck_assert(fabs(lupi__pate_rdp(LUPI_PATE_LAPLACE, 20.0, 2.0) -
		       2.0 * 0.01 / 2.0) < 1e-15);
	ck_assert(fabs(lupi__pate_rdp(LUPI_PATE_LAPLACE, 20.0, 1000.0) -
		       0.1) < 1e-15);

	/* GNMax, 100 queries, sigma 40, delta 1e-5: eps(alpha) = 100 alpha
	 * / 1600 + ln(1e5) / (alpha - 1), continuous optimum at alpha =
	 * 14.57; on the integer orders alpha = 15 gives 0.9375 + 11.512925 /
	 * 14 = 1.759852 (alpha = 14: 1.760610). */
	double e = 0;
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_GNMAX, 40.0, 0, 100, 0,
					   1e-5, &e), LUPI_OK);
	ck_assert_msg(fabs(e - 1.759852) < 1e-5, "%.6f", e);
	/* confident GNMax: 1000 queries, 100 answered, sigma1 150, sigma2
	 * 40: rdp = alpha (1000 / 45000 + 100 / 1600) = 0.0847222 alpha;
	 * alpha = 13: 1.101389 + 11.512925 / 12 = 2.060799 */
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 40.0, 150.0,
					   1000, 100, 1e-5, &e), LUPI_OK);
	ck_assert_msg(fabs(e - 2.060799) < 1e-5, "%.6f", e);
	/* Laplace b = 20 (0.1-DP per query), 100 queries: rdp = 0.5 alpha
	 * for alpha <= 20; alpha = 5.8: 2.9 + 11.512925 / 4.8 = 5.298526,
	 * below the pure-DP composition 100 x 0.1 = 10 */
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_LAPLACE, 20.0, 0, 100, 0,
					   1e-5, &e), LUPI_OK);
	ck_assert_msg(fabs(e - 5.298526) < 1e-5, "%.6f", e);
	/* 0 queries cost nothing; more answers cost more */
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_GNMAX, 40.0, 0, 0, 0,
					   1e-5, &e), LUPI_OK);
	ck_assert(e == 0.0);
	double e1 = 0, e2 = 0;
	lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 40, 150, 1000, 10, 1e-5, &e1);
	lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 40, 150, 1000, 500, 1e-5, &e2);
	ck_assert(e1 < e2);
}
END_TEST

/* ---- the data-dependent bound: a float64 reference from the paper's
 * formulas, written directly (no log space) -------------------------------- */

/* Prop. 7: q~ = sum over c != i* of P(N(0, 2 sigma^2) > n_i* - n_c) =
 * erfc(gap / (2 sigma)) / 2, at most 1 - 1/k. */
static double ref_q(const uint32_t *v, size_t k, double sigma)
{
	size_t top = 0;
	for (size_t c = 1; c < k; c++)
		if (v[c] > v[top])
			top = c;
	double q = 0;
	for (size_t c = 0; c < k; c++)
		if (c != top)
			q += 0.5 * erfc((double)(v[top] - v[c]) / (2 * sigma));
	return fmin(q, 1.0 - 1.0 / (double)k);
}

/* Theorem 6 with mu2 = sigma sqrt(log 1/q), mu1 = mu2 + 1 (Prop. 10),
 * eps_i = mu_i / sigma^2 (Prop. 8), when mu1 > alpha, mu2 > 1 and q <=
 * e^((mu2 - 1) eps2) / (mu1 / (mu1 - 1) * mu2 / (mu2 - 1))^mu2; else the
 * data-independent alpha / sigma^2. */
static double ref_rdp(double q, double sigma, double alpha)
{
	double s2 = sigma * sigma, base = alpha / s2;
	double mu2 = sigma * sqrt(log(1 / q)), mu1 = mu2 + 1;
	double e1 = mu1 / s2, e2 = mu2 / s2;
	if (!(mu1 > alpha && mu2 > 1))
		return base;
	if (!(q <= exp((mu2 - 1) * e2) /
			   pow(mu1 / (mu1 - 1) * mu2 / (mu2 - 1), mu2) &&
	      q < exp(-e2)))
		return base;
	double A = (1 - q) / (1 - pow(exp(e2) * q, (mu2 - 1) / mu2));
	double B = exp(e1) / pow(q, 1 / (mu1 - 1));
	double r = log((1 - q) * pow(A, alpha - 1) + q * pow(B, alpha - 1)) /
		   (alpha - 1);
	return fmin(r, base);
}

/* The confident check: answers with p = P(top + N(0, sigma1^2) >= T);
 * q = min(p, 1 - p); a noisy max of sensitivity 1 (sigma sqrt 2). */
static double ref_check(double top, double t, double sigma1, double alpha)
{
	double p = 0.5 * erfc((t - top) / (sigma1 * sqrt(2.0)));
	return ref_rdp(fmin(p, 1 - p), sigma1 * sqrt(2.0), alpha);
}

/* epsilon of queries v (n x k) with the reference, over the
 * accountant's orders */
static double ref_eps(const uint32_t *v, size_t n, size_t k,
		      const int32_t *lab, int confident, double sigma,
		      double sigma1, double t, double delta)
{
	double orders[256], best = INFINITY;
	size_t no = lupi__dp_orders(orders, 256);
	for (size_t a = 0; a < no; a++) {
		double rdp = 0;
		for (size_t i = 0; i < n; i++) {
			const uint32_t *h = v + i * k;
			uint32_t top = 0;
			for (size_t c = 0; c < k; c++)
				top = h[c] > top ? h[c] : top;
			if (confident)
				rdp += ref_check(top, t, sigma1, orders[a]);
			if (!lab || lab[i] >= 0)
				rdp += ref_rdp(ref_q(h, k, sigma), sigma,
					       orders[a]);
		}
		best = fmin(best, rdp + log(1 / delta) / (orders[a] - 1));
	}
	return best;
}

START_TEST(data_dependent_against_reference)
{
	enum { KC = 10 };
	/* three histograms of 250 votes: a strong consensus, a clear
	 * plurality, a split vote */
	static const uint32_t h[3][KC] = {
		{240, 4, 2, 1, 1, 1, 1, 0, 0, 0},
		{150, 60, 20, 10, 5, 5, 0, 0, 0, 0},
		{100, 98, 52, 0, 0, 0, 0, 0, 0, 0}};
	static const double sigmas[] = {10, 20, 40, 100};
	static const double alphas[] = {1.5, 2, 3.7, 8, 15, 32, 63};
	for (size_t i = 0; i < 3; i++)
		for (size_t s = 0; s < 4; s++) {
			double lq = lupi__pate_logq(h[i], KC, sigmas[s]);
			double rq = ref_q(h[i], KC, sigmas[s]);
			ck_assert_msg(fabs(exp(lq) - rq) <= 1e-12 * rq,
				      "q %zu sigma %g: %.17g vs %.17g", i,
				      sigmas[s], exp(lq), rq);
			for (size_t a = 0; a < 7; a++) {
				double got = lupi__pate_rdp_dd(lq, sigmas[s],
							       alphas[a]);
				double want = ref_rdp(rq, sigmas[s], alphas[a]);
				/* relative 1e-9; absolute 1e-15 where
				 * the direct form rounds log(1 + x) to
				 * 0 and the log-space one does not */
				ck_assert_msg(fabs(got - want) <=
						      1e-9 * want + 1e-15,
					      "rdp %zu sigma %g alpha %g: "
					      "%.17g vs %.17g", i, sigmas[s],
					      alphas[a], got, want);
				double s2 = sigmas[s] * sigmas[s];
				ck_assert(got <= alphas[a] / s2);
			}
		}
	/* the split vote is never in the data-dependent range: q~ >= 0.5 */
	ck_assert(lupi__pate_rdp_dd(lupi__pate_logq(h[2], KC, 10), 10, 2) ==
		  2.0 / 100);
	/* the consensus at sigma 40, alpha 8: about a thousandth of the
	 * data-independent 8 / 1600 (hand-checked with the reference:
	 * q~ = 1.63e-4) */
	ck_assert(lupi__pate_rdp_dd(lupi__pate_logq(h[0], KC, 40), 40, 8) <
		  1e-2 * 8.0 / 1600);

	/* composed over queries: GNMax, and confident GNMax with answered
	 * and unanswered queries */
	uint32_t v[6 * KC];
	int32_t lab[6] = {0, 0, -1, 0, -1, 1};
	for (size_t i = 0; i < 6; i++)
		memcpy(v + i * KC, h[i % 3], sizeof h[0]);
	double e = 0, want;
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, NULL, LUPI_PATE_GNMAX, 20, 0, 0,
				 1e-5, &e), LUPI_OK);
	want = ref_eps(v, 6, KC, NULL, 0, 20, 0, 0, 1e-5);
	ck_assert_msg(fabs(e - want) < 1e-9 * want, "%.17g vs %.17g", e, want);
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, lab, LUPI_PATE_CONFIDENT, 20, 50,
				 180, 1e-5, &e), LUPI_OK);
	want = ref_eps(v, 6, KC, lab, 1, 20, 50, 180, 1e-5);
	ck_assert_msg(fabs(e - want) < 1e-9 * want, "%.17g vs %.17g", e, want);
	/* the check against its own closed form at one order: top 240,
	 * T 180, sigma1 50: p = Phi(1.2) */
	double p = 0.5 * erfc(-1.2 / sqrt(2.0));
	ck_assert(fabs(lupi__pate_check_rdp_dd(240, 180, 50, 3) -
		       ref_rdp(1 - p, 50 * sqrt(2.0), 3)) < 1e-12);

	/* errors */
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, NULL, LUPI_PATE_LAPLACE, 20, 0, 0,
				 1e-5, &e), LUPI_ENOTSUP);
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, NULL, LUPI_PATE_CONFIDENT, 20, 50,
				 180, 1e-5, &e), LUPI_EINVAL);
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 0, KC, NULL, LUPI_PATE_GNMAX, 20, 0, 0,
				 1e-5, &e), LUPI_EINVAL);
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, NULL, LUPI_PATE_GNMAX, 20, 0, 0,
				 1.0, &e), LUPI_ERANGE);
	lab[3] = KC;
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, 6, KC, lab, LUPI_PATE_CONFIDENT, 20, 50,
				 180, 1e-5, &e), LUPI_ERANGE);
	ck_assert(isnan(e));
}
END_TEST

/* The published tests of the PATE 2018 code (tensorflow/privacy,
 * research/pate_2018/core_test.py, test_rdp_gaussian): for orders 1.1,
 * 2.5, 32, 250 and sigmas 1.5, 15, 1500, 15000, the authors' hand-found
 * -log q0 where the data-dependent range ends: halving q below q0 lowers
 * the RDP each time, and q0 + 0.1 .. 0.4 give the same value as q0 (the
 * data-independent one). */
START_TEST(data_dependent_published_transition_points)
{
	static const double nlq0[4][4] = {{2.8, 2.6, 427, -1},
					  {4.8, 4.0, 4.7, 275},
					  {9.6, 8.8, 6.0, 4},
					  {12, 11.2, 8.6, 6.4}};
	static const double orders[] = {1.1, 2.5, 32, 250};
	static const double sigmas[] = {1.5, 15, 1500, 15000};
	for (size_t s = 0; s < 4; s++)
		for (size_t o = 0; o < 4; o++) {
			if (nlq0[s][o] < 0)
				continue;
			double sg = sigmas[s], a = orders[o];
			double lq0 = -nlq0[s][o];
			double at0 = lupi__pate_rdp_dd(lq0, sg, a);
			for (int h = 0; h < 3; h++) {
				double hi = lupi__pate_rdp_dd(
					lq0 - h * log(2.0), sg, a);
				double lo = lupi__pate_rdp_dd(
					lq0 - (h + 1) * log(2.0), sg, a);
				ck_assert_msg(hi > lo, "sigma %g order %g "
					      "halving %d", sg, a, h);
			}
			for (int j = 1; j <= 4; j++) {
				double q = exp(-nlq0[s][o]) + 0.1 * j;
				ck_assert_msg(lupi__pate_rdp_dd(log(q), sg,
								a) == at0,
					      "sigma %g order %g q %g", sg, a,
					      q);
			}
		}
}
END_TEST

/* With a strong consensus the data-dependent epsilon is far below the
 * data-independent one; with split votes it is the same. */
START_TEST(data_dependent_consensus_and_split)
{
	enum { N = 1000, KC = 10 };
	uint32_t *v = calloc(N * KC, sizeof *v);
	for (size_t i = 0; i < N; i++) {
		v[i * KC + i % KC] = 245;
		v[i * KC + (i + 1) % KC] = 5;
	}
	double dd = 0, di = 0;
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, N, KC, NULL, LUPI_PATE_GNMAX, 40, 0, 0,
				 1e-5, &dd), LUPI_OK);
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_GNMAX, 40, 0, N, N, 1e-5,
					   &di), LUPI_OK);
	/* 0.605 vs 5.990 (most of the 0.605 is log(1/delta) / (alpha - 1)
	 * at alpha = 128) */
	ck_assert_msg(dd < 0.15 * di, "consensus: %g vs %g", dd, di);
	ck_assert_msg(fabs(dd - 0.6048) < 5e-4 && fabs(di - 5.9899) < 5e-4,
		      "doc/privacy.md quotes 0.6048 and 5.9899: %.4f %.4f", dd,
		      di);
	/* confident: the check is cheap too when the top count is far
	 * above (or far below) the threshold */
	int32_t *lab = malloc(N * sizeof *lab);
	for (size_t i = 0; i < N; i++)
		lab[i] = i % 2 ? (int32_t)(i % KC) : -1;
	for (size_t i = 0; i < N; i += 2)
		v[i * KC + i % KC] = 60, v[i * KC + (i + 1) % KC] = 50;
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, N, KC, lab, LUPI_PATE_CONFIDENT, 40, 150,
				 200, 1e-5, &dd), LUPI_OK);
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 40, 150, N,
					   N / 2, 1e-5, &di), LUPI_OK);
	ck_assert_msg(dd < 0.5 * di, "confident: %g vs %g", dd, di);
	ck_assert_msg(fabs(dd - 1.0849) < 5e-4 && fabs(di - 4.2609) < 5e-4,
		      "doc/privacy.md quotes 1.0849 and 4.2609: %.4f %.4f", dd,
		      di);
	/* split votes: 125 / 125, or 130 / 120 at sigma 40: q~ is large,
	 * every order falls back to the data-independent bound */
	memset(v, 0, N * KC * sizeof *v);
	for (size_t i = 0; i < N; i++) {
		v[i * KC + i % KC] = i % 2 ? 125 : 130;
		v[i * KC + (i + 3) % KC] = i % 2 ? 125 : 120;
	}
	ck_assert_int_eq(lupi_pate_epsilon_data_dependent(
				 v, N, KC, NULL, LUPI_PATE_GNMAX, 40, 0, 0,
				 1e-5, &dd), LUPI_OK);
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_GNMAX, 40, 0, N, N, 1e-5,
					   &di), LUPI_OK);
	ck_assert_msg(fabs(dd - di) < 1e-12 * di, "split: %.17g vs %.17g", dd,
		      di);
	free(lab);
	free(v);
}
END_TEST

START_TEST(teachers_votes_student)
{
	lupi_dataset *priv = blobs(600, 1), *pub = blobs(300, 2),
		     *test = blobs(300, 3);
	lupi_model *proto = softmax_model();
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_pate_teachers(proto, priv, 5, 7, &t, NULL, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(t->n_members, 5);
	ck_assert_uint_eq(lupi_teacher_num_outputs(t), K);
	uint32_t *votes = malloc(300 * K * sizeof *votes);
	ck_assert_int_eq(lupi_pate_votes(t, pub, votes), LUPI_OK);
	size_t agree = 0;
	const int32_t *y = lupi_dataset_labels(pub);
	for (size_t i = 0; i < 300; i++) {
		uint32_t sum = 0, best = 0;
		size_t arg = 0;
		for (size_t c = 0; c < K; c++) {
			sum += votes[i * K + c];
			if (votes[i * K + c] > best) {
				best = votes[i * K + c];
				arg = c;
			}
		}
		ck_assert_uint_eq(sum, 5);
		agree += (int32_t)arg == y[i];
	}
	ck_assert_uint_ge(agree, 270); /* blobs 3 apart: ~95% separable */
	int32_t lab[300];
	size_t answered = 0;
	ck_assert_int_eq(lupi_pate_aggregate(votes, 300, K, LUPI_PATE_CONFIDENT,
					     1.0, 1.0, 4.0, 13, lab,
					     &answered), LUPI_OK);
	ck_assert_uint_gt(answered, 150);
	lupi_model *student = softmax_model();
	ck_assert_int_eq(lupi_pate_fit_student(student, pub, lab, NULL,
					       LUPI_PATE_CONFIDENT, 1.0, 1.0,
					       4.0, 1e-5, NULL, NULL),
			 LUPI_OK);
	double acc = 0;
	ck_assert_int_eq(lupi_model_evaluate(student, test,
					     LUPI_METRIC_ACCURACY, &acc),
			 LUPI_OK);
	ck_assert_msg(acc > 0.85, "student accuracy %g", acc);

	/* errors */
	lupi_teacher *bad = NULL;
	ck_assert_int_eq(lupi_pate_teachers(proto, priv, 1, 7, &bad, NULL,
					    NULL), LUPI_ERANGE);
	ck_assert_ptr_null(bad);
	ck_assert_int_eq(lupi_pate_teachers(student, priv, 3, 7, &bad, NULL,
					    NULL), LUPI_ESTATE);
	ck_assert_int_eq(lupi_pate_aggregate(votes, 300, K, 7, 1.0, 1.0, 0, 1,
					     lab, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_pate_aggregate(votes, 300, K, LUPI_PATE_GNMAX,
					     0.0, 1.0, 0, 1, lab, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 1.0, 1.0, 5, 6,
					   1e-5, &acc), LUPI_ERANGE);
	/* a public set of another width */
	float wide[2 * (D + 1)] = {0};
	lupi_dataset *pw = NULL;
	ck_assert_int_eq(lupi_dataset_create(2, D + 1, wide, &pw), LUPI_OK);
	ck_assert_int_eq(lupi_pate_votes(t, pw, votes), LUPI_ESHAPE);
	lupi_dataset_free(pw);
	for (size_t i = 0; i < 300; i++)
		lab[i] = -1;
	ck_assert_int_eq(lupi_pate_fit_student(student, pub, lab, NULL,
					       LUPI_PATE_GNMAX, 1.0, 0, 0, 1e-5,
					       NULL, NULL), LUPI_ESTATE);
	free(votes);
	lupi_model_free(student);
	lupi_model_free(proto);
	lupi_teacher_free(t);
	lupi_dataset_free(priv);
	lupi_dataset_free(pub);
	lupi_dataset_free(test);
}
END_TEST

static int stop_at_once(void *user, const lupi_progress *p)
{
	(void)user;
	(void)p;
	return 1;
}

/* Little-endian u32 at p (the model file's byte order). */
static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The offset of extension record `tag` in a saved model (doc/formats.md:
 * preamble of 24 bytes, header length u64 at 16), or 0; *hend gets the
 * end of the header, where its checksum is. */
static size_t find_ext(const unsigned char *b, uint32_t tag, uint32_t len,
		       size_t *hend)
{
	uint64_t hl = 0;
	for (int i = 7; i >= 0; i--)
		hl = hl << 8 | b[16 + i];
	*hend = 24 + (size_t)hl;
	for (size_t at = 24; at + 8 <= *hend; at++)
		if (le32(b + at) == tag && le32(b + at + 4) == len &&
		    at + 8 + len == *hend)
			return at;
	return 0;
}

START_TEST(student_holds_its_pate_record)
{
	enum { NQ = 200 };
	lupi_dataset *pub = blobs(NQ, 4);
	const int32_t *y = lupi_dataset_labels(pub);
	int32_t lab[NQ];
	size_t answered = 0;
	for (size_t i = 0; i < NQ; i++) {
		lab[i] = i % 4 == 3 ? -1 : y[i];
		answered += lab[i] >= 0;
	}
	lupi_model *st = softmax_model();
	ck_assert_int_eq(lupi_model_set_int(st, LUPI_MODEL_OPT_EPOCHS, 3),
			 LUPI_OK);
	/* bad accounting arguments: refused before training */
	ck_assert_int_eq(lupi_pate_fit_student(st, pub, lab, NULL, 9, 1.0, 0,
					       0, 1e-5, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_pate_fit_student(st, pub, lab, NULL,
					       LUPI_PATE_GNMAX, 1.0, 0, 0, 1.0,
					       NULL, NULL), LUPI_ERANGE);
	ck_assert_int_eq(lupi_pate_fit_student(st, pub, lab, NULL,
					       LUPI_PATE_CONFIDENT, 30.0, 0.0,
					       150, 1e-5, NULL, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_privacy(st, NULL, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_privacy_pate(st, NULL, NULL, NULL, NULL,
						 NULL, NULL), LUPI_ESTATE);

	ck_assert_int_eq(lupi_pate_fit_student(st, pub, lab, NULL,
					       LUPI_PATE_CONFIDENT, 30.0, 100.0,
					       150.0, 1e-5, NULL, NULL),
			 LUPI_OK);
	double want, eps, delta, q, sigma, noise, s1, thr;
	uint64_t steps, nq, na;
	int mech;
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_CONFIDENT, 30.0, 100.0, NQ,
					   answered, 1e-5, &want), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(st, &eps, &delta, &steps, &q,
					    &sigma), LUPI_OK);
	ck_assert_double_eq(eps, want);
	ck_assert_double_eq(delta, 1e-5);
	ck_assert_uint_eq(steps, NQ);
	ck_assert(isnan(q));
	ck_assert_double_eq(sigma, 30.0);
	ck_assert_int_eq(lupi_model_privacy_pate(st, &mech, &noise, &s1, &thr,
						 &nq, &na), LUPI_OK);
	ck_assert_int_eq(mech, LUPI_PATE_CONFIDENT);
	ck_assert_double_eq(noise, 30.0);
	ck_assert_double_eq(s1, 100.0);
	ck_assert_double_eq(thr, 150.0);
	ck_assert_uint_eq(nq, NQ);
	ck_assert_uint_eq(na, answered);

	/* the file: version 1.2, extension tag 3 of 64 bytes; loads to the
	 * same record and saves to the same bytes */
	void *buf, *buf2;
	size_t size, size2, hend;
	ck_assert_int_eq(lupi_model_save_memory(st, &buf, &size), LUPI_OK);
	unsigned char *b = buf;
	ck_assert_uint_eq(b[10], 2);
	size_t at = find_ext(b, 3, 64, &hend);
	ck_assert_uint_ne(at, 0);
	lupi_model *l = NULL;
	ck_assert_int_eq(lupi_model_load_memory(buf, size, &l), LUPI_OK);
	double e2;
	ck_assert_int_eq(lupi_model_privacy(l, &e2, NULL, &steps, &q, NULL),
			 LUPI_OK);
	ck_assert_double_eq(e2, want);
	ck_assert_uint_eq(steps, NQ);
	ck_assert(isnan(q));
	mech = -1;
	ck_assert_int_eq(lupi_model_privacy_pate(l, &mech, &noise, &s1, &thr,
						 &nq, &na), LUPI_OK);
	ck_assert_int_eq(mech, LUPI_PATE_CONFIDENT);
	ck_assert_double_eq(thr, 150.0);
	ck_assert_uint_eq(na, answered);
	ck_assert_int_eq(lupi_model_save_memory(l, &buf2, &size2), LUPI_OK);
	ck_assert_uint_eq(size2, size);
	ck_assert_int_eq(memcmp(buf, buf2, size), 0);
	lupi_free(buf2);
	/* DP-SGD cannot continue a PATE record */
	lupi_dp *dp = NULL;
	ck_assert_int_eq(lupi_dp_create(&dp), LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_int(dp, LUPI_DP_OPT_SEED, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(l, dp, pub, NULL, NULL, NULL),
			 LUPI_ESTATE);
	lupi_dp_free(dp);
	/* trained further without it: the record no longer covers it */
	size_t idx[2] = {0, 1};
	ck_assert_int_eq(lupi_model_step(l, pub, idx, 2, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(l, &e2, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	ck_assert(isinf(e2));
	lupi_model_free(l);

	/* a reader that does not know tag 3 skips it: no record, as an
	 * earlier 0.3 reader sees the file */
	unsigned char *c = malloc(size);
	memcpy(c, buf, size);
	put_le32(c + at, 99);
	put_le32(c + hend, lupi__crc32c(0, c, hend));
	ck_assert_int_eq(lupi_model_load_memory(c, size, &l), LUPI_OK);
	ck_assert_int_eq(lupi_model_privacy(l, NULL, NULL, NULL, NULL, NULL),
			 LUPI_ESTATE);
	lupi_model_free(l);
	/* impossible values: answered > queries; unknown mechanism */
	memcpy(c, buf, size);
	c[at + 8 + 40] = 1; /* queries: 1 */
	for (int i = 1; i < 8; i++)
		c[at + 8 + 40 + i] = 0;
	put_le32(c + hend, lupi__crc32c(0, c, hend));
	ck_assert_int_eq(lupi_model_load_memory(c, size, &l), LUPI_EFORMAT);
	memcpy(c, buf, size);
	put_le32(c + at + 8 + 56, 7);
	put_le32(c + hend, lupi__crc32c(0, c, hend));
	ck_assert_int_eq(lupi_model_load_memory(c, size, &l), LUPI_EFORMAT);
	free(c);
	lupi_free(buf);

	/* cancelled after a step: the record is written; before any: not */
	lupi_model *s2 = softmax_model();
	ck_assert_int_eq(lupi_pate_fit_student(s2, pub, lab, NULL,
					       LUPI_PATE_GNMAX, 40.0, 0, 0,
					       1e-5, stop_at_once, NULL),
			 LUPI_ECANCELLED);
	ck_assert_int_eq(lupi_model_privacy(s2, &eps, NULL, &steps, NULL,
					    NULL), LUPI_OK);
	ck_assert_int_eq(lupi_pate_epsilon(LUPI_PATE_GNMAX, 40.0, 0, NQ, NQ,
					   1e-5, &want), LUPI_OK);
	ck_assert_double_eq(eps, want);
	ck_assert_int_eq(lupi_model_privacy_pate(s2, &mech, NULL, &s1, &thr,
						 NULL, &na), LUPI_OK);
	ck_assert_int_eq(mech, LUPI_PATE_GNMAX);
	ck_assert_double_eq(s1, 0.0);
	ck_assert_double_eq(thr, 0.0);
	ck_assert_uint_eq(na, answered);
	lupi_model_free(s2);
	lupi_model_free(st);
	lupi_dataset_free(pub);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pate");
	TCase *tc = tcase_create("pate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, gnmax_small_sigma_returns_plurality);
	tcase_add_test(tc, noisy_max_noise_statistics);
	tcase_add_test(tc, accounting_against_hand_computation);
	tcase_add_test(tc, data_dependent_against_reference);
	tcase_add_test(tc, data_dependent_published_transition_points);
	tcase_add_test(tc, data_dependent_consensus_and_split);
	tcase_add_test(tc, teachers_votes_student);
	tcase_add_test(tc, student_holds_its_pate_record);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
