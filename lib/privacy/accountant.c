/* The RDP accountant of the sampled Gaussian mechanism, and its inverse.
 *
 * One DP-SGD step with Poisson sampling at rate q and noise multiplier
 * sigma is the sampled Gaussian mechanism. Its Renyi-DP of order alpha
 * (Mironov 2017; Mironov, Talwar & Zhang 2019, "Renyi Differential Privacy
 * of the Sampled Gaussian Mechanism", Sec. 3.3) is log(A_alpha)/(alpha-1):
 * for integer alpha the closed sum
 *   A_alpha = sum_k C(alpha,k) (1-q)^(alpha-k) q^k exp((k^2-k)/(2 sigma^2)),
 * for fractional alpha the two erfc series of the same paper, evaluated in
 * log space as TensorFlow Privacy's rdp_accountant does (terms summed until
 * they drop below e^-30). q = 1 is the Gaussian mechanism,
 * alpha / (2 sigma^2). RDP composes by addition over steps, and converts to
 * (epsilon, delta) by the classic bound (Mironov 2017, Prop. 3)
 *   epsilon = min_alpha  T rdp(alpha) + log(1/delta) / (alpha - 1),
 * the one TF Privacy's published tutorial numbers used; the improved
 * conversion of Balle et al. 2020 / Canonne, Kamath & Steinke 2020 gives
 * smaller values and is not used, so the library's epsilon is an upper
 * bound that matches those published figures. */
#include <float.h>
#include <math.h>

#include "privacy_internal.h"

/* The orders: 1.1, 1.2, ..., 10.9 (fractional, by the series), 11..63 and
 * 128, 256 (integer, by the closed sum): TF Privacy's list, plus two large
 * orders for very small epsilons. */
#define N_FRAC 99
#define N_INT 53
#define N_ORDERS (N_FRAC + N_INT + 2)
/* A series that has not converged after this many terms leaves its order
 * out (infinite RDP): never a smaller epsilon than the truth. */
#define MAX_TERMS 100000

static double order_at(size_t i)
{
	if (i < N_FRAC)
		return 1.0 + (double)(i + 1) / 10.0;
	if (i < N_FRAC + N_INT)
		return (double)(11 + (i - N_FRAC));
	return i == N_FRAC + N_INT ? 128.0 : 256.0;
}

size_t lupi__dp_orders(double *orders, size_t cap)
{
	for (size_t i = 0; orders != NULL && i < N_ORDERS && i < cap; i++)
		orders[i] = order_at(i);
	return N_ORDERS;
}

/* log(e^a + e^b) and log(e^a - e^b) (a >= b), with -inf for log 0. */
double lupi__log_add(double a, double b)
{
	if (a == -INFINITY)
		return b;
	if (b == -INFINITY)
		return a;
	double hi = a > b ? a : b, lo = a > b ? b : a;
	return hi + log1p(exp(lo - hi));
}

static double log_sub(double a, double b)
{
	if (b == -INFINITY)
		return a;
	if (a <= b)
		return -INFINITY;
	return a + log1p(-exp(b - a));
}

static double log_binom(double n, double k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

/* log erfc(x); for large x, where erfc underflows, its asymptotic series
 * log erfc(x) ~ -x^2 - log x - log(pi)/2 - 1/(2x^2) + 5/(8x^4) - ... */
double lupi__dp_log_erfc(double x)
{
	double r = erfc(x);
	if (r > 0.0)
		return log(r);
	double x2 = x * x;
	return -0.5 * log(M_PI) - log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) -
	       37.0 / 24.0 / (x2 * x2 * x2) +
	       353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

static double log_a_int(double q, double sigma, unsigned alpha)
{
	double la = -INFINITY, lq = log(q), l1q = log1p(-q);
	for (unsigned k = 0; k <= alpha; k++) {
		double kk = (double)k;
		la = lupi__log_add(la, log_binom(alpha, kk) + kk * lq +
					 (alpha - kk) * l1q +
					 (kk * kk - kk) / (2.0 * sigma * sigma));
	}
	return la;
}

/* Mironov, Talwar & Zhang 2019, Sec. 3.3, fractional alpha: A_alpha split
 * at z0 = sigma^2 log(1/q - 1) + 1/2 into two series of generalised
 * binomial terms times Gaussian tail masses. */
static double log_a_frac(double q, double sigma, double alpha)
{
	double la0 = -INFINITY, la1 = -INFINITY, s2 = sigma * sigma;
	double z0 = s2 * log(1.0 / q - 1.0) + 0.5;
	double coef = 1.0; /* C(alpha, i), generalised, by recurrence */
	for (int i = 0; i < MAX_TERMS; i++) {
		if (i > 0)
			coef *= (alpha - (i - 1)) / (double)i;
		if (coef == 0.0 || !isfinite(coef))
			return INFINITY;
		double lc = log(fabs(coef)), j = alpha - i, di = (double)i;
		double lt0 = lc + di * log(q) + j * log1p(-q);
		double lt1 = lc + j * log(q) + di * log1p(-q);
		double le0 = log(0.5) +
			     lupi__dp_log_erfc((di - z0) / (M_SQRT2 * sigma));
		double le1 = log(0.5) +
			     lupi__dp_log_erfc((z0 - j) / (M_SQRT2 * sigma));
		double ls0 = lt0 + (di * di - di) / (2.0 * s2) + le0;
		double ls1 = lt1 + (j * j - j) / (2.0 * s2) + le1;
		if (coef > 0.0) {
			la0 = lupi__log_add(la0, ls0);
			la1 = lupi__log_add(la1, ls1);
		} else {
			la0 = log_sub(la0, ls0);
			la1 = log_sub(la1, ls1);
		}
		if ((ls0 > ls1 ? ls0 : ls1) < -30.0)
			return lupi__log_add(la0, la1);
	}
	return INFINITY;
}

double lupi__dp_rdp(double q, double sigma, double alpha)
{
	if (q >= 1.0)
		return alpha / (2.0 * sigma * sigma);
	double la = alpha == floor(alpha) ?
		log_a_int(q, sigma, (unsigned)alpha) :
		log_a_frac(q, sigma, alpha);
	double r = la / (alpha - 1.0);
	/* rounding can leave a tiny negative value where the truth is >= 0 */
	return isnan(r) ? INFINITY : (r < 0.0 ? 0.0 : r);
}

static int check_args(double q, double sigma, double delta)
{
	if (!(q > 0.0 && q <= 1.0))
		return lupi__err(LUPI_ERANGE, "sampling rate q = %g, it must "
				 "be in (0, 1]", q);
	if (!(sigma > 0.0) || !isfinite(sigma))
		return lupi__err(LUPI_ERANGE, "noise multiplier sigma = %g, it "
				 "must be finite and > 0", sigma);
	if (!(delta > 0.0 && delta < 1.0))
		return lupi__err(LUPI_ERANGE, "delta = %g, it must be in "
				 "(0, 1)", delta);
	return LUPI_OK;
}

int lupi__dp_epsilon(double q, double sigma, uint64_t steps, double delta,
		     double *eps, double *order)
{
	double best = INFINITY, best_a = NAN;
	if (steps == 0) {
		*eps = 0.0;
		if (order)
			*order = NAN;
		return LUPI_OK;
	}
	for (size_t i = 0; i < N_ORDERS; i++) {
		double a = order_at(i);
		double e = (double)steps * lupi__dp_rdp(q, sigma, a) -
			   log(delta) / (a - 1.0);
		if (e < best) {
			best = e;
			best_a = a;
		}
	}
	*eps = best;
	if (order)
		*order = best_a;
	return LUPI_OK;
}

int lupi_dp_epsilon(double q, double sigma, uint64_t steps, double delta,
		    double *epsilon)
{
	LUPI__CHECK_NULL(epsilon);
	*epsilon = NAN;
	LUPI__TRY(check_args(q, sigma, delta));
	return lupi__dp_epsilon(q, sigma, steps, delta, epsilon, NULL);
}

/* Bounds of the search for sigma. */
#define SIGMA_LO 1e-3
#define SIGMA_HI 1e4

int lupi_dp_sigma(double q, uint64_t steps, double delta, double epsilon,
		  double *sigma)
{
	LUPI__CHECK_NULL(sigma);
	*sigma = NAN;
	LUPI__TRY(check_args(q, 1.0, delta));
	if (!(epsilon > 0.0) || !isfinite(epsilon))
		return lupi__err(LUPI_ERANGE, "target epsilon %g, it must be "
				 "finite and > 0", epsilon);
	double e;
	lupi__dp_epsilon(q, SIGMA_HI, steps, delta, &e, NULL);
	if (e > epsilon)
		return lupi__err(LUPI_ERANGE, "epsilon %g is out of reach: "
				 "even sigma = %g gives %g after %llu steps",
				 epsilon, SIGMA_HI, e,
				 (unsigned long long)steps);
	lupi__dp_epsilon(q, SIGMA_LO, steps, delta, &e, NULL);
	if (e <= epsilon) {
		*sigma = SIGMA_LO;
		return LUPI_OK;
	}
	/* epsilon falls as sigma grows: bisect in log sigma, keeping hi on
	 * the side that reaches the target, until the relative width is
	 * below 1e-6. The answer is hi: never more epsilon than asked. */
	double lo = log(SIGMA_LO), hi = log(SIGMA_HI);
	while (hi - lo > 1e-6) {
		double mid = 0.5 * (lo + hi);
		lupi__dp_epsilon(q, exp(mid), steps, delta, &e, NULL);
		if (e <= epsilon)
			hi = mid;
		else
			lo = mid;
	}
	/* exp(log(x)) may round below x: step up until the target holds */
	double sg = exp(hi);
	for (lupi__dp_epsilon(q, sg, steps, delta, &e, NULL); e > epsilon;
	     lupi__dp_epsilon(q, sg, steps, delta, &e, NULL))
		sg = nextafter(sg, INFINITY);
	*sigma = sg;
	return LUPI_OK;
}
