/* Optimisers: SGD (momentum, Nesterov), Adam, AdamW, RMSprop; learning-rate
 * schedules; gradient clipping by global norm.
 *
 * Weight decay applies to every parameter, biases included (as PyTorch does
 * when a model's parameters are passed as one group): for SGD, Adam and
 * RMSprop it is the L2 term wd * p added to the gradient, for AdamW the
 * decoupled p *= 1 - lr * wd (Loshchilov & Hutter 2019). Each update is one
 * loop over a range of m->params whose coefficients are computed before it,
 * so that the loop has no branches on options and vectorises. Frozen layers
 * are left out of the ranges: their parameters and moments stay as they
 * are. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

double lupi__model_lr(const lupi_model *m)
{
	const lupi__model_opts *o = &m->opt;
	double e = (double)m->epoch;
	switch (o->schedule) {
	case LUPI_SCHEDULE_STEP:
		return o->lr * pow(o->gamma, floor(e / (double)o->step_size));
	case LUPI_SCHEDULE_COSINE: {
		/* Loshchilov & Hutter 2017, SGDR without restarts. */
		double big_e = (double)o->epochs;
		if (e > big_e)
			e = big_e;
		return o->min_lr + (o->lr - o->min_lr) *
			(1.0 + cos(M_PI * e / big_e)) / 2.0;
	}
	default:
		return o->lr;
	}
}

/* LUPI_ENONFINITE naming the first tensor with a NaN or infinity. */
static int check_finite(const lupi_model *m)
{
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		const float *gw = m->grads + (ly->w - m->params);
		if (!lupi__all_finite(gw, ly->in * ly->out, NULL))
			return lupi__err(LUPI_ENONFINITE,
					 "gradient of layer %zu weights is not "
					 "finite", l);
		if (ly->b == NULL)
			continue;
		const float *gb = m->grads + (ly->b - m->params);
		if (!lupi__all_finite(gb, ly->out, NULL))
			return lupi__err(LUPI_ENONFINITE,
					 "gradient of layer %zu biases is not "
					 "finite", l);
	}
	return LUPI_OK;
}

int lupi__model_optim_state(lupi_model *m)
{
	int opt = m->opt.optimizer;
	int adam = opt == LUPI_OPTIM_ADAM || opt == LUPI_OPTIM_ADAMW;
	int need_m = adam || (opt == LUPI_OPTIM_SGD && m->opt.momentum > 0.0);
	int need_v = adam || opt == LUPI_OPTIM_RMSPROP;
	if (need_m && m->opt_m == NULL)
		m->opt_m = lupi__calloc(m->n_params, sizeof *m->opt_m);
	if (need_v && m->opt_v == NULL)
		m->opt_v = lupi__calloc(m->n_params, sizeof *m->opt_v);
	if ((need_m && m->opt_m == NULL) || (need_v && m->opt_v == NULL))
		return lupi__err(LUPI_ENOMEM,
				 "cannot allocate optimiser state");
	return LUPI_OK;
}

/* Factor that scales the gradient to global norm clip_norm when it is
 * larger (Pascanu et al. 2013); 1 otherwise. */
static float clip_scale(const lupi_model *m, double sumsq)
{
	if (m->opt.clip_norm <= 0.0)
		return 1.0f;
	double norm = sqrt(sumsq);
	return norm > m->opt.clip_norm ? (float)(m->opt.clip_norm / norm)
				       : 1.0f;
}

/* Bits that reach bit 31 when x is infinite or NaN: an exponent field of all
 * ones carries into it when 2^23 is added. Integer ORs vectorise, where a
 * float test would need an ordered early exit. */
static inline uint32_t nonfinite_bits(float x)
{
	uint32_t b;
	memcpy(&b, &x, sizeof b);
	return (b & 0x7f800000u) + 0x00800000u;
}

static inline uint32_t float_bits(float x)
{
	uint32_t b;
	memcpy(&b, &x, sizeof b);
	return b;
}

static inline uint32_t abs_bits(float x)
{
	return float_bits(x) & 0x7fffffffu;
}

static inline uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static void extent_merge(lupi__extent *e, const lupi__extent *x)
{
	e->p = max_u32(e->p, x->p);
	e->g = max_u32(e->g, x->g);
	e->m = max_u32(e->m, x->m);
	e->v = max_u32(e->v, x->v);
	e->v_sign |= x->v_sign;
}

/* Each optimiser computes the new parameters and moments of the n elements
 * from offset off. With commit 0 it only tells whether they are all finite,
 * so that a step that would overflow fails before it changes anything; with
 * commit 1 it stores them and puts the extents of what it stored in *e
 * (the next update's bound, see below). The branch on commit is
 * loop-invariant (GCC unswitches it at -O3; see below). */
typedef int (*rule_fn)(lupi_model *m, size_t off, size_t n, float lr,
		       float gs, int commit, lupi__extent *e);

/* The loops must vectorise at -O2 too (Debian's flags): GCC unswitches the
 * commit branch only at -O3 (-funswitch-loops), and at -O2 its very-cheap
 * cost model refuses a loop that needs a scalar remainder. So each rule's
 * body is inlined twice with commit a constant (no branch left in the
 * loop), and `omp simd` (-fopenmp-simd: no OpenMP runtime) asks for the
 * vector loop. Element-wise float operations and an integer OR: the same
 * bits as the scalar loop. doc/performance.md, "-O2 and -O3". */
#if defined(__GNUC__)
#define RULE_BODY static inline __attribute__((always_inline))
#else
#define RULE_BODY static inline
#endif

RULE_BODY int sgd(lupi_model *m, size_t off, size_t n, float lr, float gs,
		  int commit, lupi__extent *e)
{
	float *restrict p = m->params + off;
	const float *restrict g = m->grads + off;
	float wd = (float)m->opt.weight_decay;
	uint32_t bad = 0, xp = 0, xm = 0;
	if (m->opt_m == NULL) {
#pragma omp simd reduction(| : bad) reduction(max : xp)
		for (size_t i = 0; i < n; i++) {
			float pi = p[i] - lr * (g[i] * gs + wd * p[i]);
			if (commit) {
				p[i] = pi;
				xp = max_u32(xp, abs_bits(pi));
			} else {
				bad |= nonfinite_bits(pi);
			}
		}
		if (commit)
			*e = (lupi__extent){xp, 0, 0, 0, 0};
		return !(bad & 0x80000000u);
	}
	/* PyTorch's form (no dampening): v = mu v + g; the step is v, or
	 * g + mu v with Nesterov (Sutskever et al. 2013). */
	float *restrict v = m->opt_m + off;
	float mu = (float)m->opt.momentum;
	float a = m->opt.nesterov ? 1.0f : 0.0f;
	float c = m->opt.nesterov ? mu : 1.0f;
#pragma omp simd reduction(| : bad) reduction(max : xp, xm)
	for (size_t i = 0; i < n; i++) {
		float gi = g[i] * gs + wd * p[i];
		float vi = mu * v[i] + gi;
		float pi = p[i] - lr * (a * gi + c * vi);
		if (commit) {
			v[i] = vi;
			p[i] = pi;
			xp = max_u32(xp, abs_bits(pi));
			xm = max_u32(xm, abs_bits(vi));
		} else {
			bad |= nonfinite_bits(vi) | nonfinite_bits(pi);
		}
	}
	if (commit)
		*e = (lupi__extent){xp, 0, xm, 0, 0};
	return !(bad & 0x80000000u);
}

LUPI__VEC_CLONES static int sgd_rule(lupi_model *m, size_t off,
				     size_t n, float lr, float gs, int commit,
				     lupi__extent *e)
{
	return commit ? sgd(m, off, n, lr, gs, 1, e)
		      : sgd(m, off, n, lr, gs, 0, e);
}

/* Adam (Kingma & Ba 2015) in PyTorch's form:
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). AdamW first
 * multiplies p by 1 - lr wd and adds no L2 term. The loop vectorises only
 * with -fno-math-errno (otherwise sqrtf may set errno). */
RULE_BODY int adam(lupi_model *m, size_t off, size_t n, float lr, float gs,
		   int commit, lupi__extent *e)
{
	float *restrict p = m->params + off;
	const float *restrict g = m->grads + off;
	float *restrict mo = m->opt_m + off, *restrict vo = m->opt_v + off;
	const lupi__model_opts *o = &m->opt;
	int w = o->optimizer == LUPI_OPTIM_ADAMW;
	float l2 = w ? 0.0f : (float)o->weight_decay;
	float decay = w ? (float)(1.0 - (double)lr * o->weight_decay) : 1.0f;
	double t = (double)m->t;
	float b1 = (float)o->beta1, b2 = (float)o->beta2;
	float c1 = 1.0f - b1, c2 = 1.0f - b2;
	float step = (float)((double)lr / (1.0 - pow(o->beta1, t)));
	float ibc2 = (float)(1.0 / sqrt(1.0 - pow(o->beta2, t)));
	float eps = (float)o->epsilon;
	uint32_t bad = 0, xp = 0, xm = 0, xv = 0, sv = 0;
#pragma omp simd reduction(| : bad, sv) reduction(max : xp, xm, xv)
	for (size_t i = 0; i < n; i++) {
		float gi = g[i] * gs + l2 * p[i];
		float mi = b1 * mo[i] + c1 * gi;
		float vi = b2 * vo[i] + c2 * gi * gi;
		float pi = p[i] * decay - step * mi / (sqrtf(vi) * ibc2 + eps);
		if (commit) {
			mo[i] = mi;
			vo[i] = vi;
			p[i] = pi;
			xp = max_u32(xp, abs_bits(pi));
			xm = max_u32(xm, abs_bits(mi));
			xv = max_u32(xv, abs_bits(vi));
			sv |= float_bits(vi);
		} else {
			bad |= nonfinite_bits(mi) | nonfinite_bits(vi) |
			       nonfinite_bits(pi);
		}
	}
	if (commit)
		*e = (lupi__extent){xp, 0, xm, xv, sv & 0x80000000u};
	return !(bad & 0x80000000u);
}

LUPI__VEC_CLONES static int adam_rule(lupi_model *m, size_t off,
				      size_t n, float lr, float gs, int commit,
				      lupi__extent *e)
{
	return commit ? adam(m, off, n, lr, gs, 1, e)
		      : adam(m, off, n, lr, gs, 0, e);
}

/* RMSprop (Tieleman & Hinton 2012) as PyTorch's torch.optim.RMSprop with
 * its defaults (not centred, no momentum): v = a v + (1 - a) g^2,
 * p -= lr g / (sqrt(v) + eps), with the L2 term in g. */
RULE_BODY int rmsprop(lupi_model *m, size_t off, size_t n, float lr,
		      float gs, int commit, lupi__extent *e)
{
	float *restrict p = m->params + off;
	const float *restrict g = m->grads + off;
	float *restrict vo = m->opt_v + off;
	const lupi__model_opts *o = &m->opt;
	float wd = (float)o->weight_decay;
	float a = (float)o->rms_decay, c = (float)(1.0 - o->rms_decay);
	float eps = (float)o->epsilon;
	uint32_t bad = 0, xp = 0, xv = 0, sv = 0;
#pragma omp simd reduction(| : bad, sv) reduction(max : xp, xv)
	for (size_t i = 0; i < n; i++) {
		float gi = g[i] * gs + wd * p[i];
		float vi = a * vo[i] + c * gi * gi;
		float pi = p[i] - lr * gi / (sqrtf(vi) + eps);
		if (commit) {
			vo[i] = vi;
			p[i] = pi;
			xp = max_u32(xp, abs_bits(pi));
			xv = max_u32(xv, abs_bits(vi));
			sv |= float_bits(vi);
		} else {
			bad |= nonfinite_bits(vi) | nonfinite_bits(pi);
		}
	}
	if (commit)
		*e = (lupi__extent){xp, 0, 0, xv, sv & 0x80000000u};
	return !(bad & 0x80000000u);
}

LUPI__VEC_CLONES static int rmsprop_rule(lupi_model *m, size_t off,
					 size_t n, float lr, float gs, int commit,
					 lupi__extent *e)
{
	return commit ? rmsprop(m, off, n, lr, gs, 1, e)
		      : rmsprop(m, off, n, lr, gs, 0, e);
}

#define PART_ELEMS LUPI__PARAMS_PER_PART
#define MAX_PARTS 64

struct rule_job {
	lupi_model *m;
	rule_fn rule;
	size_t off, n;
	float lr, gs;
	int commit;
	atomic_int bad;
	lupi__extent part[MAX_PARTS];
};

static void rule_part(void *ctx, unsigned part, unsigned parts)
{
	struct rule_job *j = ctx;
	size_t lo, hi;
	lupi__split(j->n, part, parts, 16, &lo, &hi);
	j->part[part] = (lupi__extent){0, 0, 0, 0, 0};
	if (hi > lo && !j->rule(j->m, j->off + lo, hi - lo, j->lr, j->gs,
				j->commit, &j->part[part]))
		atomic_store(&j->bad, 1);
}

/* A rule over [off, off + n) split over the library's threads: the same
 * element-wise arithmetic, so the same bits for any split. The extents of
 * a commit are merged into *e. */
static int run_parallel(lupi_model *m, rule_fn rule, size_t off, size_t n,
			float lr, float gs, int commit, lupi__extent *e)
{
	unsigned parts = lupi__parallel_parts((double)n, PART_ELEMS);
	if (parts > MAX_PARTS)
		parts = MAX_PARTS;
	if (parts <= 1) {
		lupi__extent x = {0, 0, 0, 0, 0};
		int ok = rule(m, off, n, lr, gs, commit, &x);
		extent_merge(e, &x);
		return ok;
	}
	struct rule_job j = {m, rule, off, n, lr, gs, commit, 0, {{0}}};
	lupi__parallel(rule_part, &j, parts);
	for (unsigned k = 0; k < parts; k++)
		extent_merge(e, &j.part[k]);
	return !atomic_load(&j.bad);
}

/* The next run of consecutive layers that are not frozen, from layer *l
 * on: its parameters [*begin, *end), and *l after it; 0 when none is
 * left. */
static int next_run(const lupi_model *m, size_t *l, size_t *begin,
		    size_t *end)
{
	while (*l < m->n_layers && m->layers[*l].frozen)
		(*l)++;
	if (*l == m->n_layers)
		return 0;
	*begin = (size_t)(m->layers[*l].w - m->params);
	while (*l < m->n_layers && !m->layers[*l].frozen)
		(*l)++;
	*end = *l < m->n_layers ? (size_t)(m->layers[*l].w - m->params)
				: m->n_params;
	return 1;
}

/* Runs a rule over each run of consecutive layers that are not frozen;
 * 1 when every run was finite. A commit leaves the extents of what it
 * stored in *e. */
static int each_run(lupi_model *m, rule_fn rule, float lr, float gs,
		    int commit, lupi__extent *e)
{
	*e = (lupi__extent){0, 0, 0, 0, 0};
	int ok = 1;
	size_t l = 0, begin, end;
	while (next_run(m, &l, &begin, &end))
		ok &= run_parallel(m, rule, begin, end - begin, lr, gs,
				   commit, e);
	return ok;
}

static rule_fn rule_of(int optimizer)
{
	switch (optimizer) {
	case LUPI_OPTIM_SGD:
		return sgd_rule;
	case LUPI_OPTIM_RMSPROP:
		return rmsprop_rule;
	default:
		return adam_rule;
	}
}

/* 1 when all n floats are finite. */
LUPI__VEC_CLONES static int all_finite_fast(const float *restrict x,
					    size_t n)
{
	uint32_t bad = 0;
#pragma omp simd reduction(| : bad)
	for (size_t i = 0; i < n; i++)
		bad |= nonfinite_bits(x[i]);
	return !(bad & 0x80000000u);
}

/* One read of the gradients before the update: the finiteness check, and
 * with clipping the norm too (a sum of squares of finite floats is finite
 * in double, so a non-finite sum means a NaN or infinity somewhere). */
static int check_grads(const lupi_model *m, double *sumsq)
{
	int ok;
	*sumsq = 0.0;
	if (m->opt.clip_norm > 0.0) {
		*sumsq = lupi__sumsq_lanes(m->grads, m->n_params);
		ok = isfinite(*sumsq);
	} else {
		ok = all_finite_fast(m->grads, m->n_params);
	}
	if (ok)
		return LUPI_OK;
	int rc = check_finite(m);
	return rc < 0 ? rc : lupi__err(LUPI_ENONFINITE,
				       "gradient norm is not finite");
}

/* ---- the update's safety check without a second pass --------------------
 *
 * A step that would make a weight or a moment non-finite must fail before
 * it changes anything, which the read-only pass of a rule (commit 0)
 * proves element by element; it costs as much as the update itself (a
 * square root and a division per element). Usually a bound proves it for
 * all elements at once: one read of the arrays gives the largest
 * magnitudes of p, g and the moments, and the rule's formulas bound every
 * intermediate from them. When every bound is below LIMIT (FLT_MAX is
 * 3.4e38; the few float roundings of a rule cannot add a factor of 300),
 * no element can overflow, and NaN cannot arise either (no inf - inf,
 * 0 * inf or 0 / 0 without an infinity, and the denominators are >= eps
 * > 0; square roots take b2 v + c2 g^2 >= 0 when no v is negative). Only
 * when a bound fails does the exact read-only pass run. Results are the
 * same bits either way: the commit pass is unchanged.
 *
 * The magnitudes of p and the moments need not even be read: the commit
 * pass of the last update computed them as it stored the values
 * (m->ext), and they hold until something else writes the parameters,
 * the moments or the layers' frozen flags, which calls
 * lupi__model_touch(). Then the read before an update is of g alone,
 * a quarter of the memory traffic (doc/performance.md, "The optimiser's
 * safety read"). With LUPI_CHECK_INVARIANTS=1 in the environment (the
 * test suite sets it) every update checks the cached values against a
 * fresh read. */
#define LIMIT 1e36

/* One read of the arrays of elements [off, off + n); of g alone with
 * grads_only. */
LUPI__VEC_CLONES static void extents(const lupi_model *m, size_t off,
				     size_t n, int grads_only, lupi__extent *e)
{
	const float *restrict p = m->params + off, *restrict g = m->grads + off;
	uint32_t xp = 0, xg = 0, xm = 0, xv = 0, sv = 0;
	if (grads_only) {
#pragma omp simd reduction(max : xg)
		for (size_t i = 0; i < n; i++)
			xg = max_u32(xg, abs_bits(g[i]));
		*e = (lupi__extent){0, xg, 0, 0, 0};
		return;
	}
#pragma omp simd reduction(max : xp, xg)
	for (size_t i = 0; i < n; i++) {
		xp = max_u32(xp, abs_bits(p[i]));
		xg = max_u32(xg, abs_bits(g[i]));
	}
	if (m->opt_m) {
		const float *restrict mo = m->opt_m + off;
#pragma omp simd reduction(max : xm)
		for (size_t i = 0; i < n; i++)
			xm = max_u32(xm, abs_bits(mo[i]));
	}
	if (m->opt_v) {
		const float *restrict vo = m->opt_v + off;
#pragma omp simd reduction(max : xv) reduction(| : sv)
		for (size_t i = 0; i < n; i++) {
			uint32_t b;
			memcpy(&b, &vo[i], sizeof b);
			xv = max_u32(xv, b & 0x7fffffffu);
			sv |= b;
		}
	}
	e->p = xp, e->g = xg, e->m = xm, e->v = xv, e->v_sign = sv & 0x80000000u;
}

static double bits_value(uint32_t b)
{
	float f;
	memcpy(&f, &b, sizeof f);
	return (double)f;
}

/* 1 when the bounds prove that the update with these coefficients keeps
 * every element finite; 0 when the exact pass must decide. */
static int provably_finite(const lupi_model *m, const lupi__extent *e,
			   float lr, float gs)
{
	const lupi__model_opts *o = &m->opt;
	if (e->p >= 0x7f800000u || e->g >= 0x7f800000u ||
	    e->m >= 0x7f800000u || e->v >= 0x7f800000u || e->v_sign ||
	    !isfinite(lr) || !isfinite(gs))
		return 0;
	double pm = bits_value(e->p), gm = bits_value(e->g);
	double mm = bits_value(e->m), vm = bits_value(e->v);
	double alr = fabs((double)lr);
	double b[8] = {0}; /* every intermediate bound */
	switch (o->optimizer) {
	case LUPI_OPTIM_SGD: {
		double wd = (double)(float)o->weight_decay;
		double gi = gm * fabs((double)gs) + wd * pm;
		b[0] = gi;
		if (m->opt_m == NULL) {
			b[1] = pm + alr * gi;
			break;
		}
		double mu = (double)(float)o->momentum;
		double vi = mu * mm + gi;
		b[1] = vi;
		b[2] = pm + alr * (gi + vi);
		break;
	}
	case LUPI_OPTIM_RMSPROP: {
		double wd = (double)(float)o->weight_decay;
		double eps = (double)(float)o->epsilon;
		if (!(eps >= 1.17549435e-38)) /* a normal float, > 0 */
			return 0;
		double gi = gm * fabs((double)gs) + wd * pm;
		b[0] = gi;
		b[1] = gi * gi;
		b[2] = vm + gi * gi; /* a v + c g^2, a + c = 1 in double */
		b[3] = alr * gi;
		b[4] = pm + alr * gi / eps;
		break;
	}
	default: { /* Adam, AdamW: the coefficients as adam() computes them */
		int w = o->optimizer == LUPI_OPTIM_ADAMW;
		double l2 = w ? 0.0 : (double)(float)o->weight_decay;
		double decay = w ? (double)(float)(1.0 - (double)lr *
						   o->weight_decay) : 1.0;
		double t = (double)m->t;
		double step = (double)(float)((double)lr /
					      (1.0 - pow(o->beta1, t)));
		double ibc2 = (double)(float)(1.0 /
					      sqrt(1.0 - pow(o->beta2, t)));
		double eps = (double)(float)o->epsilon;
		if (!(eps >= 1.17549435e-38) || !isfinite(step) ||
		    !isfinite(ibc2) || !isfinite(decay))
			return 0;
		double gi = gm * fabs((double)gs) + l2 * pm;
		/* b1 m + c1 g and b2 v + c2 g^2 with every coefficient in
		 * [0, 1] */
		double mi = mm + gi;
		double vi = vm + gi * gi;
		b[0] = gi;
		b[1] = mi;
		b[2] = gi * gi;
		b[3] = vi;
		b[4] = sqrt(vi) * fabs(ibc2) + eps;
		b[5] = fabs(step) * mi;
		b[6] = pm * fabs(decay) + fabs(step) * mi / eps;
		break;
	}
	}
	for (size_t i = 0; i < sizeof b / sizeof *b; i++)
		if (!(b[i] < LIMIT))
			return 0;
	return 1;
}

struct extent_job {
	const lupi_model *m;
	int grads_only;
	lupi__extent part[MAX_PARTS];
};

static void extent_part(void *ctx, unsigned part, unsigned parts)
{
	struct extent_job *j = ctx;
	size_t lo, hi;
	lupi__split(j->m->n_params, part, parts, 16, &lo, &hi);
	extents(j->m, lo, hi - lo, j->grads_only, &j->part[part]);
}

/* extents() of all parameters on the library's threads. */
static void all_extents(const lupi_model *m, int grads_only, lupi__extent *e)
{
	unsigned parts = lupi__parallel_parts((double)m->n_params, PART_ELEMS);
	if (parts <= 1) {
		extents(m, 0, m->n_params, grads_only, e);
		return;
	}
	if (parts > MAX_PARTS)
		parts = MAX_PARTS;
	struct extent_job j;
	j.m = m;
	j.grads_only = grads_only;
	lupi__parallel(extent_part, &j, parts);
	*e = j.part[0];
	for (unsigned k = 1; k < parts; k++)
		extent_merge(e, &j.part[k]);
}

/* 1 when the commit pass of the model's rule writes every array
 * extents() reads but g: the moments the rule does not use must not
 * exist (an optimiser changed after training started leaves them). */
static int rule_writes_all(const lupi_model *m)
{
	switch (m->opt.optimizer) {
	case LUPI_OPTIM_SGD:
		return m->opt_v == NULL;
	case LUPI_OPTIM_RMSPROP:
		return m->opt_m == NULL;
	default:
		return 1;
	}
}

/* The cached extents against a fresh read of the trainable layers' runs,
 * which is what the commit pass saw: a writer that forgot
 * lupi__model_touch() would make the bound unsound. */
static void check_cached_extents(const lupi_model *m)
{
	lupi__extent e = {0, 0, 0, 0, 0};
	size_t l = 0, begin, end;
	while (next_run(m, &l, &begin, &end)) {
		lupi__extent x;
		extents(m, begin, end - begin, 0, &x);
		extent_merge(&e, &x);
	}
	const lupi__extent *c = &m->ext;
	if (e.p != c->p || e.m != c->m || e.v != c->v ||
	    e.v_sign != c->v_sign) {
		fprintf(stderr, "liblupi: internal error: the parameters or "
			"moments changed after update %llu without "
			"lupi__model_touch()\n", (unsigned long long)m->t);
		abort();
	}
}

int lupi__model_check_grads(const lupi_model *m)
{
	double sumsq;
	return check_grads(m, &sumsq);
}

int lupi__model_update(lupi_model *m)
{
	LUPI__CHECK_NULL(m);
	if (m->grads == NULL)
		return lupi__err(LUPI_ESTATE, "update without gradients");
	double sumsq = 0.0;
	/* moments not allocated yet read as zeros */
	int cached = m->ext_t != 0 && m->ext_t == m->t;
	lupi__extent e;
	all_extents(m, cached, &e);
	if (cached) {
		if (lupi__check_invariants())
			check_cached_extents(m);
		uint32_t g = e.g;
		e = m->ext;
		e.g = g;
	}
	if (m->opt.clip_norm > 0.0 || e.g >= 0x7f800000u)
		LUPI__TRY(check_grads(m, &sumsq)); /* the norm, or the message */
	LUPI__TRY(lupi__model_optim_state(m));
	float gs = clip_scale(m, sumsq);
	float lr = (float)lupi__model_lr(m);
	rule_fn rule = rule_of(m->opt.optimizer);
	m->t++;
	lupi__extent stored;
	if (!provably_finite(m, &e, lr, gs) &&
	    !each_run(m, rule, lr, gs, 0, &stored)) {
		m->t--;
		return lupi__err(LUPI_ENONFINITE,
				 "the update would make the weights or the "
				 "optimiser state not finite (learning rate "
				 "%g)", (double)lr);
	}
	each_run(m, rule, lr, gs, 1, &stored);
	m->ext = stored;
	m->ext_t = rule_writes_all(m) ? m->t : 0;
	return LUPI_OK;
}
