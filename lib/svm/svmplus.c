/* SVM+ (Vapnik & Vashist 2009, "A new learning paradigm: Learning using
 * privileged information"): the slacks of a C-SVM are replaced by a
 * correcting function phi(x*) = <w*, z*> + b* on the privileged space,
 *
 *   min 1/2 |w|^2 + gamma/2 |w*|^2 + C sum_i phi(x*_i)
 *   s.t. y_i (<w, z_i> + b) >= 1 - phi(x*_i),  phi(x*_i) >= 0.
 *
 * Its dual, in the form of Pechyony, Izmailov, Vashist & Vapnik (2010,
 * "SMO-style algorithms for learning using privileged information"), is
 *
 *   max sum a_i - 1/2 sum a_i a_j y_i y_j K_ij
 *               - 1/(2 gamma) sum (a_i + b_i - C)(a_j + b_j - C) K*_ij
 *   s.t. sum a_i y_i = 0,  sum (a_i + b_i - C) = 0,  a, b >= 0.
 *
 * The solver is their aSMO: every step moves along one of the three kinds
 * of feasible directions with the fewest non-zeros (the circuits of the two
 * equality constraints): (b_i, -b_j); (a_i, -a_j) with y_i = y_j; and
 * (a_i, a_j, -2 b_k) with y_i != y_j, either sign. The step takes the
 * direction of steepest descent among all of them (the most violating
 * pair or triple), with an exact line search clipped to the bounds, until
 * the largest violation is below TOLERANCE: since those directions
 * generate every feasible cone, that is the KKT condition to TOLERANCE.
 * The multipliers of the two equalities are b (decision) and b*. */
#include <math.h>
#include <string.h>

#include "svm_internal.h"

/* ---- options ------------------------------------------------------------ */

#define REAL_OPT(N, field, lo, hi, lo_open, def, doc)                         \
	LUPI__OPT_REAL(SVM, N, lupi__svm_opts, field, lo, hi, lo_open, 0, def, \
		       0u, 0, doc)

static const lupi__option svm_rows[] = {
	LUPI__OPT_INT(SVM, KERNEL, lupi__svm_opts, kernel, LUPI__STORE_INT, 0,
		      1, LUPI_SVM_KERNEL_RBF, "linear,rbf", 0u, 0,
		      "kernel on X"),
	LUPI__OPT_INT(SVM, PRIV_KERNEL, lupi__svm_opts, priv_kernel,
		      LUPI__STORE_INT, 0, 1, LUPI_SVM_KERNEL_RBF, "linear,rbf",
		      0u, 0, "kernel on X* (the correcting space)"),
	LUPI__OPT_INT(SVM, MAX_ITER, lupi__svm_opts, max_iter, LUPI__STORE_I64,
		      1, INT64_MAX, 10000000, NULL, 0u, 0,
		      "solver steps at most"),
	LUPI__OPT_INT(SVM, CACHE_BYTES, lupi__svm_opts, cache_bytes,
		      LUPI__STORE_I64, 0, INT64_MAX, 64 << 20, NULL, 0u, 0,
		      "byte budget of each kernel's row cache"),
	LUPI__OPT_INT(SVM, PLAIN, lupi__svm_opts, plain, LUPI__STORE_INT, 0, 1,
		      0, NULL, 0u, 0,
		      "1: a plain C-SVM on X (the baseline; X* not used)"),
	REAL_OPT(C, c, 0.0, 1e12, 1, 1.0, "C, the weight of the slacks"),
	REAL_OPT(GAMMA, gamma, 0.0, 1e12, 1, 1.0,
		 "gamma, the weight of |w*|^2 of the correcting function"),
	REAL_OPT(WIDTH, width, 0.0, 1e12, 1, 1.0,
		 "RBF width g of exp(-g |x - x'|^2) on X"),
	REAL_OPT(PRIV_WIDTH, priv_width, 0.0, 1e12, 1, 1.0,
		 "RBF width on X*"),
	REAL_OPT(TOLERANCE, tol, 0.0, 1.0, 1, 1e-3,
		 "stop when the largest KKT violation is below this"),
};

#undef REAL_OPT

const lupi__option_table lupi__svm_options = {
	LUPI_HANDLE_SVM, "LUPI_SVM_OPT_", svm_rows,
	sizeof svm_rows / sizeof svm_rows[0]};

/* ---- the solver --------------------------------------------------------- */

/* One non-zero of a direction: variable a_i (alpha) or b_i (beta). */
typedef struct term {
	size_t i;
	int is_alpha;
	double d;
} term;

typedef struct solver {
	const lupi__svm_opts *o;
	const double *y;
	size_t n;
	double *a, *bt; /* alpha, beta */
	double *f;      /* f_i = sum_j a_j y_j K_ij */
	double *h;      /* h_i = sum_j (a_j + b_j - C) K*_ij */
	lupi__kcache k, ks;
} solver;

static double grad_a(const solver *s, size_t i)
{
	return -1.0 + s->y[i] * s->f[i] + s->h[i] / s->o->gamma;
}

static double grad_b(const solver *s, size_t i)
{
	return s->h[i] / s->o->gamma;
}

/* Extremes of the gradients that the selection and the multipliers use. */
typedef struct extremes {
	/* min over all, max over positive: of grad_b, of grad_a per class
	   (0: y = +1, 1: y = -1) */
	double bmin, bmax, amin[2], amax[2];
	size_t ibmin, ibmax, iamin[2], iamax[2];
} extremes;

static void scan(const solver *s, extremes *e)
{
	e->bmin = e->amin[0] = e->amin[1] = HUGE_VAL;
	e->bmax = e->amax[0] = e->amax[1] = -HUGE_VAL;
	e->ibmin = e->ibmax = e->iamin[0] = e->iamin[1] = SIZE_MAX;
	e->iamax[0] = e->iamax[1] = SIZE_MAX;
	for (size_t i = 0; i < s->n; i++) {
		double gb = grad_b(s, i), ga = grad_a(s, i);
		int c = s->y[i] < 0;
		if (gb < e->bmin) {
			e->bmin = gb;
			e->ibmin = i;
		}
		if (s->bt[i] > 0 && gb > e->bmax) {
			e->bmax = gb;
			e->ibmax = i;
		}
		if (ga < e->amin[c]) {
			e->amin[c] = ga;
			e->iamin[c] = i;
		}
		if (s->a[i] > 0 && ga > e->amax[c]) {
			e->amax[c] = ga;
			e->iamax[c] = i;
		}
	}
}

/* The steepest feasible direction into t (returns its term count) and its
 * directional derivative into *slope (negative when it descends). */
static size_t select_direction(const extremes *e, term *t,
			       double *slope)
{
	size_t nt = 0;
	*slope = 0;
	/* (b_i, -b_j) */
	if (e->ibmax != SIZE_MAX && e->bmin - e->bmax < *slope) {
		*slope = e->bmin - e->bmax;
		t[0] = (term){e->ibmin, 0, 1};
		t[1] = (term){e->ibmax, 0, -1};
		nt = 2;
	}
	/* (a_i, -a_j), same class */
	for (int c = 0; c < 2; c++)
		if (e->iamax[c] != SIZE_MAX &&
		    e->amin[c] - e->amax[c] < *slope) {
			*slope = e->amin[c] - e->amax[c];
			t[0] = (term){e->iamin[c], 1, 1};
			t[1] = (term){e->iamax[c], 1, -1};
			nt = 2;
		}
	/* (a_i, a_j, -2 b_k), classes differ */
	if (e->ibmax != SIZE_MAX && e->iamin[0] != SIZE_MAX &&
	    e->iamin[1] != SIZE_MAX &&
	    e->amin[0] + e->amin[1] - 2 * e->bmax < *slope) {
		*slope = e->amin[0] + e->amin[1] - 2 * e->bmax;
		t[0] = (term){e->iamin[0], 1, 1};
		t[1] = (term){e->iamin[1], 1, 1};
		t[2] = (term){e->ibmax, 0, -2};
		nt = 3;
	}
	/* (-a_i, -a_j, 2 b_k) */
	if (e->iamax[0] != SIZE_MAX && e->iamax[1] != SIZE_MAX &&
	    e->ibmin != SIZE_MAX &&
	    2 * e->bmin - e->amax[0] - e->amax[1] < *slope) {
		*slope = 2 * e->bmin - e->amax[0] - e->amax[1];
		t[0] = (term){e->iamax[0], 1, -1};
		t[1] = (term){e->iamax[1], 1, -1};
		t[2] = (term){e->ibmin, 0, 2};
		nt = 3;
	}
	return nt;
}

/* Moves along t by the exact minimiser of the quadratic, clipped to the
 * bounds, and updates f and h. */
static void step(solver *s, const term *t, size_t nt, double slope)
{
	size_t idx[3];
	const double *kr[3], *ksr[3];
	for (size_t m = 0; m < nt; m++)
		idx[m] = t[m].i;
	lupi__kcache_rows(&s->k, idx, nt, kr);
	lupi__kcache_rows(&s->ks, idx, nt, ksr);
	double curv = 0;
	for (size_t m = 0; m < nt; m++)
		for (size_t q = 0; q < nt; q++) {
			double hq = ksr[m][t[q].i] / s->o->gamma;
			if (t[m].is_alpha && t[q].is_alpha)
				hq += s->y[t[m].i] * s->y[t[q].i] *
				      kr[m][t[q].i];
			curv += t[m].d * t[q].d * hq;
		}
	double tmax = HUGE_VAL;
	size_t lim_m = SIZE_MAX;
	for (size_t m = 0; m < nt; m++) {
		if (t[m].d >= 0)
			continue;
		double v = t[m].is_alpha ? s->a[t[m].i] : s->bt[t[m].i];
		double lim = v / -t[m].d;
		if (lim < tmax) {
			tmax = lim;
			lim_m = m;
		}
	}
	double len = curv > 1e-12 ? -slope / curv : HUGE_VAL;
	int clipped = len >= tmax;
	if (clipped)
		len = tmax;
	for (size_t m = 0; m < nt; m++) {
		double *v = t[m].is_alpha ? &s->a[t[m].i] : &s->bt[t[m].i];
		*v += len * t[m].d;
		/* the bound that stopped the step is reached exactly */
		if (*v < 0 || (clipped && m == lim_m))
			*v = 0;
	}
	for (size_t m = 0; m < nt; m++) {
		double dv = len * t[m].d;
		if (t[m].is_alpha) {
			double dy = dv * s->y[t[m].i];
			for (size_t j = 0; j < s->n; j++)
				s->f[j] += dy * kr[m][j];
		}
		for (size_t j = 0; j < s->n; j++)
			s->h[j] += dv * ksr[m][j];
	}
}

/* The multipliers of the equalities: eta (= b*) and rho (= b), from the
 * free variables, else the middle of the interval the bounds leave. */
static void multipliers(const solver *s, const extremes *e, double *b,
			double *bstar)
{
	double sum = 0;
	size_t cnt = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->bt[i] > 0) {
			sum += -grad_b(s, i);
			cnt++;
		}
	double eta;
	if (cnt > 0) {
		eta = sum / (double)cnt;
	} else {
		/* grad_a_i + rho y_i + eta = 0 on free a of both classes */
		double gp = 0, gm = 0;
		size_t np = 0, nm = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->a[i] > 0) {
				if (s->y[i] > 0) {
					gp += grad_a(s, i);
					np++;
				} else {
					gm += grad_a(s, i);
					nm++;
				}
			}
		eta = np && nm ? -(gp / (double)np + gm / (double)nm) / 2
			       : -e->bmin;
		if (eta < -e->bmin)
			eta = -e->bmin;
	}
	double rs = 0;
	size_t rc = 0;
	double lo = -HUGE_VAL, hi = HUGE_VAL;
	for (size_t i = 0; i < s->n; i++) {
		/* rho y_i >= -grad_a_i - eta, with equality when a_i > 0 */
		double r = s->y[i] * (-grad_a(s, i) - eta);
		if (s->a[i] > 0) {
			rs += r;
			rc++;
		} else if (s->y[i] > 0) {
			if (r > lo)
				lo = r;
		} else if (r < hi) {
			hi = r;
		}
	}
	*bstar = eta;
	*b = rc ? rs / (double)rc
		: (isfinite(lo) && isfinite(hi) ? (lo + hi) / 2
		   : isfinite(lo) ? lo : isfinite(hi) ? hi : 0);
}

static double dual_objective(const solver *s)
{
	double v = 0;
	for (size_t i = 0; i < s->n; i++) {
		double u = s->a[i] + s->bt[i] - s->o->c;
		v += s->a[i] - 0.5 * s->a[i] * s->y[i] * s->f[i] -
		     0.5 / s->o->gamma * u * s->h[i];
	}
	return v;
}

int lupi__svmplus_solve(const lupi__svm_opts *o, const float *x, size_t d,
			const float *xs, size_t ds, const double *y, size_t n,
			double *alpha, double *beta, double *b, double *bstar,
			double *objective, double *violation,
			uint64_t *iterations)
{
	solver s = {o, y, n, alpha, beta, NULL, NULL, {0}, {0}};
	int rc = LUPI_OK;
	s.f = lupi__calloc(n, sizeof *s.f);
	s.h = lupi__calloc(n, sizeof *s.h);
	if (s.f == NULL || s.h == NULL) {
		rc = lupi__err(LUPI_ENOMEM, "svm: cannot allocate the solver "
			       "for %zu samples", n);
		goto out;
	}
	size_t budget = (size_t)o->cache_bytes;
	rc = lupi__kcache_init(&s.k, x, n, d, o->kernel, o->width, budget);
	if (rc == LUPI_OK)
		rc = lupi__kcache_init(&s.ks, xs, n, ds, o->priv_kernel,
				       o->priv_width, budget);
	if (rc < 0)
		goto out;
	/* The feasible start a = 0, b = C: f = 0 and h = 0. */
	for (size_t i = 0; i < n; i++) {
		alpha[i] = 0;
		beta[i] = o->c;
	}
	extremes e;
	uint64_t it = 0;
	double slope = 0;
	for (;;) {
		term t[3];
		scan(&s, &e);
		size_t nt = select_direction(&e, t, &slope);
		if (nt == 0 || -slope < o->tol || it >= (uint64_t)o->max_iter)
			break;
		step(&s, t, nt, slope);
		it++;
	}
	*violation = -slope;
	*iterations = it;
	multipliers(&s, &e, b, bstar);
	*objective = dual_objective(&s);
out:
	lupi__kcache_free(&s.k);
	lupi__kcache_free(&s.ks);
	lupi__free(s.f);
	lupi__free(s.h);
	return rc;
}

/* The plain C-SVM by SMO with the maximal violating pair (Keerthi, Shevade,
 * Bhattacharyya & Murthy 2001), for the baseline: min 1/2 a'Qa - sum a,
 * 0 <= a <= C, sum y a = 0. */
int lupi__csvm_solve(const lupi__svm_opts *o, const float *x, size_t d,
		     const double *y, size_t n, double *alpha, double *b,
		     double *objective, double *violation,
		     uint64_t *iterations)
{
	lupi__kcache k;
	double *g = lupi__malloc_array(n, sizeof *g);
	if (g == NULL)
		return lupi__err(LUPI_ENOMEM, "svm: out of memory");
	int rc = lupi__kcache_init(&k, x, n, d, o->kernel, o->width,
				   (size_t)o->cache_bytes);
	if (rc < 0) {
		lupi__free(g);
		return rc;
	}
	const double c = o->c;
	for (size_t i = 0; i < n; i++) {
		alpha[i] = 0;
		g[i] = -1;
	}
	uint64_t it = 0;
	double gap = 0, up = 0, low = 0;
	for (;;) {
		up = -HUGE_VAL;
		low = HUGE_VAL;
		size_t i = 0, j = 0;
		for (size_t q = 0; q < n; q++) {
			double v = -y[q] * g[q];
			if ((y[q] > 0 ? alpha[q] < c : alpha[q] > 0) && v > up) {
				up = v;
				i = q;
			}
			if ((y[q] > 0 ? alpha[q] > 0 : alpha[q] < c) && v < low) {
				low = v;
				j = q;
			}
		}
		gap = up - low;
		if (gap < o->tol || it >= (uint64_t)o->max_iter)
			break;
		size_t idx[2] = {i, j};
		const double *r[2];
		lupi__kcache_rows(&k, idx, 2, r);
		/* a_i += y_i t, a_j -= y_j t */
		double slope = y[i] * g[i] - y[j] * g[j];
		double curv = r[0][i] + r[1][j] - 2 * r[0][j];
		double t = curv > 1e-12 ? -slope / curv : HUGE_VAL;
		double ti = y[i] > 0 ? c - alpha[i] : alpha[i];
		double tj = y[j] > 0 ? alpha[j] : c - alpha[j];
		int at_i = ti <= t && ti <= tj, at_j = !at_i && tj <= t;
		t = fmin(t, fmin(ti, tj));
		alpha[i] += y[i] * t;
		alpha[j] -= y[j] * t;
		if (at_i)
			alpha[i] = y[i] > 0 ? c : 0;
		if (at_j)
			alpha[j] = y[j] > 0 ? 0 : c;
		for (size_t q = 0; q < n; q++)
			g[q] += y[q] * t * (r[0][q] - r[1][q]);
		it++;
	}
	double sum = 0, obj = 0;
	size_t nf = 0;
	for (size_t q = 0; q < n; q++) {
		if (alpha[q] > 0 && alpha[q] < c) {
			sum += -y[q] * g[q];
			nf++;
		}
		obj -= 0.5 * alpha[q] * (g[q] - 1);
	}
	*b = nf ? sum / (double)nf : (up + low) / 2;
	*objective = obj;
	*violation = gap;
	*iterations = it;
	lupi__kcache_free(&k);
	lupi__free(g);
	return LUPI_OK;
}

/* ---- expansions ----------------------------------------------------------- */

double lupi__expansion_eval(const lupi__expansion *e, int kind, double width,
			    const float *x)
{
	double v = 0;
	for (size_t i = 0; i < e->n; i++)
		v += e->coef[i] *
		     lupi__kernel(kind, width, e->rows + i * e->d, x, e->d);
	return v;
}

void lupi__expansion_clear(lupi__expansion *e)
{
	lupi__free(e->coef);
	lupi__free(e->rows);
	memset(e, 0, sizeof *e);
}

/* The rows with a non-zero coefficient into e. */
static int expansion_build(lupi__expansion *e, const double *coef,
			   const float *x, size_t n, size_t d)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += coef[i] != 0;
	e->n = m;
	e->d = d;
	e->coef = lupi__malloc_array(m ? m : 1, sizeof *e->coef);
	e->rows = lupi__malloc_array(m ? m * d : 1, sizeof *e->rows);
	if (e->coef == NULL || e->rows == NULL) {
		lupi__expansion_clear(e);
		return lupi__err(LUPI_ENOMEM, "svm: cannot allocate %zu "
				 "expansion rows", m);
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		if (coef[i] != 0) {
			e->coef[m] = coef[i];
			memcpy(e->rows + m * d, x + i * d, d * sizeof *x);
			m++;
		}
	return LUPI_OK;
}

/* ---- the handle ----------------------------------------------------------- */

int lupi_svm_create(lupi_svm **out)
{
	LUPI__CHECK_NULL(out);
	*out = lupi__calloc(1, sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate an SVM+");
	lupi__option_defaults(&lupi__svm_options, &(*out)->opt);
	return LUPI_OK;
}

void lupi__svm_machine_clear(lupi__svm_machine *m)
{
	lupi__expansion_clear(&m->dec);
	lupi__expansion_clear(&m->cor);
	lupi__free(m->alpha);
	lupi__free(m->beta);
	memset(m, 0, sizeof *m);
}

static void clear_fit(lupi_svm *s)
{
	for (size_t c = 0; c < s->k; c++)
		lupi__svm_machine_clear(&s->m[c]);
	lupi__free(s->m);
	s->m = NULL;
	s->k = 0;
	s->n_train = 0;
	s->fitted = 0;
}

void lupi_svm_free(lupi_svm *svm)
{
	if (svm == NULL)
		return;
	clear_fit(svm);
	lupi__free(svm);
}

int lupi_svm_set_int(lupi_svm *svm, int key, int64_t value)
{
	LUPI__CHECK_NULL(svm);
	return lupi__option_set_int(&lupi__svm_options, &svm->opt, key, value);
}

int lupi_svm_get_int(const lupi_svm *svm, int key, int64_t *value)
{
	LUPI__CHECK_NULL(svm);
	return lupi__option_get_int(&lupi__svm_options, &svm->opt, key, value);
}

int lupi_svm_set_double(lupi_svm *svm, int key, double value)
{
	LUPI__CHECK_NULL(svm);
	return lupi__option_set_double(&lupi__svm_options, &svm->opt, key,
				       value);
}

int lupi_svm_get_double(const lupi_svm *svm, int key, double *value)
{
	LUPI__CHECK_NULL(svm);
	return lupi__option_get_double(&lupi__svm_options, &svm->opt, key,
				       value);
}

/* The classes of ds: 2 for binary or two-class labels, else K. */
static int classes_of(const lupi_dataset *ds, size_t *k)
{
	int task = lupi_dataset_task(ds);
	if ((task != LUPI_TASK_BINARY && task != LUPI_TASK_CLASSIFICATION) ||
	    lupi_dataset_labels(ds) == NULL)
		return lupi__err(LUPI_ENOTSUP, "lupi_svm_fit: class labels "
				 "needed (a binary or classification "
				 "dataset)");
	*k = lupi_dataset_outputs(ds);
	if (*k > LUPI__SVM_MAX_CLASSES)
		return lupi__err(LUPI_ENOTSUP, "lupi_svm_fit: %zu classes, at "
				 "most %u", *k, LUPI__SVM_MAX_CLASSES);
	return LUPI_OK;
}

/* Fits machine c: positive = label c (K > 2) or label 1 (two classes). */
static int fit_machine(lupi_svm *svm, lupi__svm_machine *mc, int32_t pos,
		       const int32_t *lab, const float *x, size_t d,
		       const float *xs, size_t ds, size_t n, double *y,
		       double *coef)
{
	int plain = svm->opt.plain;
	size_t npos = 0;
	for (size_t i = 0; i < n; i++) {
		y[i] = lab[i] == pos ? 1.0 : -1.0;
		npos += lab[i] == pos;
	}
	if (npos == 0 || npos == n)
		return lupi__err(LUPI_EINVAL, "lupi_svm_fit: class %d has "
				 "%s samples", (int)pos,
				 npos ? "all the" : "no");
	mc->alpha = lupi__malloc_array(n, sizeof *mc->alpha);
	mc->beta = lupi__malloc_array(n, sizeof *mc->beta);
	if (mc->alpha == NULL || mc->beta == NULL)
		return lupi__err(LUPI_ENOMEM, "lupi_svm_fit: out of memory");
	double *a = mc->alpha, *bt = mc->beta;
	if (plain) {
		LUPI__TRY(lupi__csvm_solve(&svm->opt, x, d, y, n, a, &mc->b,
					   &mc->objective, &mc->violation,
					   &mc->iterations));
		for (size_t i = 0; i < n; i++)
			bt[i] = svm->opt.c - a[i];
		mc->bstar = 0;
	} else {
		LUPI__TRY(lupi__svmplus_solve(&svm->opt, x, d, xs, ds, y, n,
					      a, bt, &mc->b, &mc->bstar,
					      &mc->objective, &mc->violation,
					      &mc->iterations));
	}
	for (size_t i = 0; i < n; i++)
		coef[i] = a[i] * y[i];
	LUPI__TRY(expansion_build(&mc->dec, coef, x, n, d));
	for (size_t i = 0; i < n; i++)
		coef[i] = plain ? 0 : (a[i] + bt[i] - svm->opt.c) /
					      svm->opt.gamma;
	return expansion_build(&mc->cor, coef, xs, plain ? 0 : n, ds);
}

int lupi_svm_fit(lupi_svm *svm, const lupi_dataset *train)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(train);
	size_t n = lupi_dataset_rows(train);
	size_t d = lupi_dataset_dim(train, LUPI_VIEW_REGULAR);
	size_t ds = lupi_dataset_dim(train, LUPI_VIEW_PRIVILEGED);
	const float *x = lupi_dataset_features(train, LUPI_VIEW_REGULAR);
	const float *xs = lupi_dataset_features(train, LUPI_VIEW_PRIVILEGED);
	int plain = svm->opt.plain;
	if (plain)
		ds = 0;
	if (plain) {
		/* X* is not used */
	} else if (xs == NULL || ds == 0)
		return lupi__err(LUPI_ESTATE, "lupi_svm_fit: the dataset has "
				 "no privileged features");
	if (!plain && lupi_dataset_privileged_count(train) != n)
		return lupi__err(LUPI_ENOTSUP, "lupi_svm_fit: %zu of %zu "
				 "samples lack X*",
				 n - lupi_dataset_privileged_count(train), n);
	if (lupi_dataset_weights(train) != NULL)
		return lupi__err(LUPI_ENOTSUP, "lupi_svm_fit: sample weights "
				 "are not supported");
	size_t classes = 0;
	LUPI__TRY(classes_of(train, &classes));
	const int32_t *lab = lupi_dataset_labels(train);
	clear_fit(svm);
	size_t k = classes == 2 ? 1 : classes;
	double *y = lupi__malloc_array(n, sizeof *y);
	double *coef = lupi__malloc_array(n, sizeof *coef);
	svm->m = lupi__calloc(k, sizeof *svm->m);
	int rc = LUPI_OK;
	if (y == NULL || coef == NULL || svm->m == NULL) {
		rc = lupi__err(LUPI_ENOMEM, "lupi_svm_fit: out of memory");
		goto out;
	}
	svm->k = k;
	for (size_t c = 0; c < k && rc == LUPI_OK; c++)
		rc = fit_machine(svm, &svm->m[c], k == 1 ? 1 : (int32_t)c, lab,
				 x, d, xs, ds, n, y, coef);
	if (rc == LUPI_OK) {
		svm->n_train = n;
		svm->fitted = 1;
	}
out:
	if (rc < 0)
		clear_fit(svm);
	lupi__free(coef);
	lupi__free(y);
	return rc;
}

static int check_view(const lupi_svm *svm, const lupi_dataset *ds, int view,
		      const char *fn)
{
	if (!svm->fitted)
		return lupi__err(LUPI_ESTATE, "%s: the SVM+ is not fitted", fn);
	if (view == LUPI_VIEW_PRIVILEGED && svm->opt.plain)
		return lupi__err(LUPI_ESTATE, "%s: a plain SVM has no "
				 "correcting function", fn);
	const lupi__expansion *e = view == LUPI_VIEW_REGULAR ? &svm->m[0].dec
							     : &svm->m[0].cor;
	if (lupi_dataset_features(ds, view) == NULL)
		return lupi__err(LUPI_ESTATE, "%s: the dataset has no %s "
				 "features", fn,
				 view == LUPI_VIEW_REGULAR ? "regular"
							   : "privileged");
	if (lupi_dataset_dim(ds, view) != e->d)
		return lupi__err(LUPI_ESHAPE, "%s: the dataset has %zu "
				 "features, the SVM+ %zu", fn,
				 lupi_dataset_dim(ds, view), e->d);
	return LUPI_OK;
}

static double decision_of(const lupi_svm *svm, size_t c, const float *x)
{
	const lupi__svm_machine *mc = &svm->m[c];
	return lupi__expansion_eval(&mc->dec, svm->opt.kernel, svm->opt.width,
				    x) +
	       mc->b;
}

size_t lupi_svm_machines(const lupi_svm *svm)
{
	return svm != NULL && svm->fitted ? svm->k : 0;
}

int lupi_svm_decision(const lupi_svm *svm, const lupi_dataset *ds,
		      double *out)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(out);
	LUPI__TRY(check_view(svm, ds, LUPI_VIEW_REGULAR, "lupi_svm_decision"));
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	size_t d = svm->m[0].dec.d;
	for (size_t i = 0; i < lupi_dataset_rows(ds); i++)
		for (size_t c = 0; c < svm->k; c++)
			out[i * svm->k + c] = decision_of(svm, c, x + i * d);
	return LUPI_OK;
}

int lupi_svm_predict(const lupi_svm *svm, const lupi_dataset *ds,
		     int32_t *classes)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(classes);
	LUPI__TRY(check_view(svm, ds, LUPI_VIEW_REGULAR, "lupi_svm_predict"));
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	size_t d = svm->m[0].dec.d;
	for (size_t i = 0; i < lupi_dataset_rows(ds); i++) {
		if (svm->k == 1) {
			classes[i] = decision_of(svm, 0, x + i * d) > 0;
			continue;
		}
		/* one-vs-rest: the largest decision value, first on ties */
		double best = -HUGE_VAL;
		classes[i] = 0;
		for (size_t c = 0; c < svm->k; c++) {
			double v = decision_of(svm, c, x + i * d);
			if (v > best) {
				best = v;
				classes[i] = (int32_t)c;
			}
		}
	}
	return LUPI_OK;
}

int lupi_svm_correcting(const lupi_svm *svm, const lupi_dataset *ds,
			double *out)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(out);
	LUPI__TRY(check_view(svm, ds, LUPI_VIEW_PRIVILEGED,
			     "lupi_svm_correcting"));
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	const uint8_t *mask = lupi_dataset_mask(ds);
	size_t d = svm->m[0].cor.d;
	for (size_t i = 0; i < lupi_dataset_rows(ds); i++)
		for (size_t c = 0; c < svm->k; c++) {
			const lupi__svm_machine *mc = &svm->m[c];
			out[i * svm->k + c] =
				mask && !mask[i]
					? NAN
					: lupi__expansion_eval(
						  &mc->cor, svm->opt.priv_kernel,
						  svm->opt.priv_width,
						  x + i * d) +
						  mc->bstar;
		}
	return LUPI_OK;
}

int lupi_svm_info(const lupi_svm *svm, size_t machine, double *b,
		  double *bstar, double *objective, double *violation,
		  uint64_t *iterations, size_t *support)
{
	LUPI__CHECK_NULL(svm);
	if (!svm->fitted)
		return lupi__err(LUPI_ESTATE, "lupi_svm_info: the SVM+ is not "
				 "fitted");
	if (machine >= svm->k)
		return lupi__err(LUPI_ERANGE, "lupi_svm_info: machine %zu of "
				 "%zu", machine, svm->k);
	const lupi__svm_machine *mc = &svm->m[machine];
	if (b)
		*b = mc->b;
	if (bstar)
		*bstar = mc->bstar;
	if (objective)
		*objective = mc->objective;
	if (violation)
		*violation = mc->violation;
	if (iterations)
		*iterations = mc->iterations;
	if (support)
		*support = mc->dec.n;
	return LUPI_OK;
}
