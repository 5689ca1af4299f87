/* The loss handle: options, columns, and the feature-loss dispatcher.
 * A lupi_loss is used by one thread at a time (feature losses keep scratch
 * and learned state in it). */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

#define MAX_EMBED 4096
#define MAX_QUEUE 65536
#define MAX_CRD_TEMPERATURE 100.0
#define MAX_FEATURE_LR 10.0
#define MAX_LAYER ((int64_t)LUPI__MAX_LAYERS - 1)

static void set_defaults(lupi_loss *l, int kind)
{
	memset(l, 0, sizeof *l);
	l->kind = kind;
	l->divergence = LUPI_DIV_CE;
	l->scale_t2 = 1;
	l->student_t = 0;
	l->filter = LUPI_FILTER_NONE;
	l->feature = LUPI_FEATURE_NONE;
	l->student_layer = LUPI__LAYER_LAST;
	l->teacher_layer = LUPI__LAYER_LAST;
	l->queue = 4096;
	l->embed = 128;
	l->seed = 0;
	l->temperature = 1.0;
	l->lambda = 0.5;
	l->beta = 1.0;
	l->crd_temperature = 0.07;
	l->feature_lr = 1e-3;
}

int lupi_loss_create(int kind, lupi_loss **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	if (kind < LUPI_LOSS_HARD || kind > LUPI_LOSS_REGRESSION)
		return lupi__err(LUPI_EINVAL, "unknown loss kind %d (0..%d)",
				 kind, LUPI_LOSS_REGRESSION);
	lupi_loss *l = lupi__malloc(sizeof *l);
	if (l == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a loss");
	set_defaults(l, kind);
	*out = l;
	return LUPI_OK;
}

void lupi__loss_reset_state(lupi_loss *l)
{
	lupi__adam_free(&l->hint.par);
	memset(&l->hint, 0, sizeof l->hint);
	lupi__adam_free(&l->crd.par);
	lupi__free(l->crd.queue);
	memset(&l->crd, 0, sizeof l->crd);
}

void lupi_loss_free(lupi_loss *l)
{
	if (l == NULL)
		return;
	lupi__loss_reset_state(l);
	lupi__arena_free(&l->gather);
	lupi__arena_free(&l->work);
	lupi__free(l->cols);
	lupi__free(l);
}

int lupi_loss_kind(const lupi_loss *l)
{
	return l ? l->kind : LUPI_EINVAL;
}

int lupi__loss_copy(const lupi_loss *src, lupi_loss **out)
{
	LUPI__CHECK_NULL(src);
	LUPI__TRY(lupi_loss_create(src->kind, out));
	lupi_loss *l = *out;
	*l = *src;
	memset(&l->hint, 0, sizeof l->hint);
	memset(&l->crd, 0, sizeof l->crd);
	memset(&l->gather, 0, sizeof l->gather);
	memset(&l->work, 0, sizeof l->work);
	l->cols = NULL;
	l->n_cols = 0;
	int rc = lupi_loss_set_columns(l, src->cols, src->n_cols);
	if (rc < 0) {
		lupi_loss_free(l);
		*out = NULL;
	}
	return rc;
}

static int int_range(int key, int64_t v, int64_t lo, int64_t hi)
{
	if (v < lo || v > hi)
		return lupi__err(LUPI_ERANGE,
				 "loss option %d: %lld is outside [%lld, %lld]",
				 key, (long long)v, (long long)lo,
				 (long long)hi);
	return LUPI_OK;
}

int lupi_loss_set_int(lupi_loss *l, int key, int64_t v)
{
	LUPI__CHECK_NULL(l);
	switch (key) {
	case LUPI_LOSS_OPT_DIVERGENCE:
		LUPI__TRY(int_range(key, v, LUPI_DIV_CE, LUPI_DIV_JS));
		l->divergence = (int)v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_SCALE_T2:
		LUPI__TRY(int_range(key, v, 0, 1));
		l->scale_t2 = (int)v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_STUDENT_T:
		LUPI__TRY(int_range(key, v, 0, 1));
		l->student_t = (int)v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_FILTER:
		LUPI__TRY(int_range(key, v, LUPI_FILTER_NONE,
				    LUPI_FILTER_CONFIDENCE));
		l->filter = (int)v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_STUDENT_LAYER:
	case LUPI_LOSS_OPT_TEACHER_LAYER:
		LUPI__TRY(int_range(key, v, LUPI__LAYER_LAST, MAX_LAYER));
		if (key == LUPI_LOSS_OPT_STUDENT_LAYER)
			l->student_layer = v;
		else
			l->teacher_layer = v;
		return LUPI_OK;
	default:
		break;
	}
	/* The rest shape the learned state of HINT and CRD: a change starts
	 * it afresh. */
	switch (key) {
	case LUPI_LOSS_OPT_FEATURE:
		LUPI__TRY(int_range(key, v, LUPI_FEATURE_NONE,
				    LUPI_FEATURE_CRD));
		l->feature = (int)v;
		break;
	case LUPI_LOSS_OPT_QUEUE:
		LUPI__TRY(int_range(key, v, 1, MAX_QUEUE));
		l->queue = v;
		break;
	case LUPI_LOSS_OPT_EMBED:
		LUPI__TRY(int_range(key, v, 1, MAX_EMBED));
		l->embed = v;
		break;
	case LUPI_LOSS_OPT_SEED:
		l->seed = (uint64_t)v;
		break;
	default:
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown integer loss option %d", key);
	}
	lupi__loss_reset_state(l);
	return LUPI_OK;
}

static int real_range(int key, double v, double lo, int lo_open, double hi)
{
	if (isnan(v) || v < lo || (lo_open && v == lo) || v > hi)
		return lupi__err(LUPI_ERANGE,
				 "loss option %d: %g is outside %c%g, %g]", key,
				 v, lo_open ? '(' : '[', lo, hi);
	return LUPI_OK;
}

int lupi_loss_set_double(lupi_loss *l, int key, double v)
{
	LUPI__CHECK_NULL(l);
	switch (key) {
	case LUPI_LOSS_OPT_TEMPERATURE:
		LUPI__TRY(real_range(key, v, 0.0, 1, 1000.0));
		l->temperature = v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_LAMBDA:
		LUPI__TRY(real_range(key, v, 0.0, 0, 1.0));
		l->lambda = v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_BETA:
		LUPI__TRY(real_range(key, v, 0.0, 0, 1e6));
		l->beta = v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_CRD_TEMPERATURE:
		LUPI__TRY(real_range(key, v, 0.0, 1, MAX_CRD_TEMPERATURE));
		l->crd_temperature = v;
		return LUPI_OK;
	case LUPI_LOSS_OPT_FEATURE_LR:
		LUPI__TRY(real_range(key, v, 0.0, 0, MAX_FEATURE_LR));
		l->feature_lr = v;
		return LUPI_OK;
	default:
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown real loss option %d", key);
	}
}

int lupi_loss_get_int(const lupi_loss *l, int key, int64_t *v)
{
	LUPI__CHECK_NULL(l);
	LUPI__CHECK_NULL(v);
	switch (key) {
	case LUPI_LOSS_OPT_DIVERGENCE: *v = l->divergence; break;
	case LUPI_LOSS_OPT_SCALE_T2: *v = l->scale_t2; break;
	case LUPI_LOSS_OPT_STUDENT_T: *v = l->student_t; break;
	case LUPI_LOSS_OPT_FILTER: *v = l->filter; break;
	case LUPI_LOSS_OPT_FEATURE: *v = l->feature; break;
	case LUPI_LOSS_OPT_STUDENT_LAYER: *v = l->student_layer; break;
	case LUPI_LOSS_OPT_TEACHER_LAYER: *v = l->teacher_layer; break;
	case LUPI_LOSS_OPT_QUEUE: *v = l->queue; break;
	case LUPI_LOSS_OPT_EMBED: *v = l->embed; break;
	case LUPI_LOSS_OPT_SEED: *v = (int64_t)l->seed; break;
	default:
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown integer loss option %d", key);
	}
	return LUPI_OK;
}

int lupi_loss_get_double(const lupi_loss *l, int key, double *v)
{
	LUPI__CHECK_NULL(l);
	LUPI__CHECK_NULL(v);
	switch (key) {
	case LUPI_LOSS_OPT_TEMPERATURE: *v = l->temperature; break;
	case LUPI_LOSS_OPT_LAMBDA: *v = l->lambda; break;
	case LUPI_LOSS_OPT_BETA: *v = l->beta; break;
	case LUPI_LOSS_OPT_CRD_TEMPERATURE: *v = l->crd_temperature; break;
	case LUPI_LOSS_OPT_FEATURE_LR: *v = l->feature_lr; break;
	default:
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown real loss option %d", key);
	}
	return LUPI_OK;
}

/* Columns are checked against k when the loss is evaluated (k is not known
 * here); duplicates would count a column twice and are refused. */
int lupi_loss_set_columns(lupi_loss *l, const size_t *cols, size_t n)
{
	LUPI__CHECK_NULL(l);
	if (cols == NULL || n == 0) {
		lupi__free(l->cols);
		l->cols = NULL;
		l->n_cols = 0;
		return LUPI_OK;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (cols[i] == cols[j])
				return lupi__err(LUPI_EINVAL,
						 "column %zu is listed twice",
						 cols[i]);
	size_t *c = lupi__malloc_array(n, sizeof *c);
	if (c == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot copy %zu columns", n);
	memcpy(c, cols, n * sizeof *c);
	lupi__free(l->cols);
	l->cols = c;
	l->n_cols = n;
	return LUPI_OK;
}

/* ---- shared helpers of the feature losses ------------------------------- */

int lupi__adam_alloc(lupi__adam *a, size_t n)
{
	memset(a, 0, sizeof *a);
	float *p = lupi__calloc(n, 3 * sizeof *p);
	if (p == NULL)
		return lupi__err(LUPI_ENOMEM,
				 "cannot allocate %zu feature-loss parameters",
				 n);
	a->p = p;
	a->m = p + n;
	a->v = p + 2 * n;
	a->n = n;
	return LUPI_OK;
}

void lupi__adam_free(lupi__adam *a)
{
	lupi__free(a->p);
	memset(a, 0, sizeof *a);
}

/* Adam (Kingma & Ba 2015) with bias correction. */
void lupi__adam_step(lupi__adam *a, const float *g, double lr)
{
	const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
	a->t++;
	double c1 = 1.0 - pow(b1, (double)a->t);
	double c2 = 1.0 - pow(b2, (double)a->t);
	for (size_t i = 0; i < a->n; i++) {
		double m = b1 * a->m[i] + (1.0 - b1) * g[i];
		double v = b2 * a->v[i] + (1.0 - b2) * (double)g[i] * g[i];
		a->m[i] = (float)m;
		a->v[i] = (float)v;
		a->p[i] -= (float)(lr * (m / c1) / (sqrt(v / c2) + eps));
	}
}

void lupi__init_linear(lupi__rng *rng, float *w, size_t rows, size_t cols)
{
	double bound = 1.0 / sqrt((double)cols);
	for (size_t i = 0; i < rows * cols; i++)
		w[i] = (float)((2.0 * lupi__rng_uniform(rng) - 1.0) * bound);
}

double lupi__normalize_row(const float *x, size_t d, double floor, float *y)
{
	double norm = sqrt(lupi__sumsq(x, d));
	double div = norm > floor ? norm : floor;
	for (size_t j = 0; j < d; j++)
		y[j] = (float)(x[j] / div);
	return norm;
}

void lupi__normalize_row_backward(const float *y, double norm, double floor,
				  const float *dy, size_t d, float *dx)
{
	if (norm <= floor) {
		/* x / floor is linear there. */
		for (size_t j = 0; j < d; j++)
			dx[j] = (float)(dy[j] / floor);
		return;
	}
	double dot = 0.0;
	for (size_t j = 0; j < d; j++)
		dot += (double)y[j] * dy[j];
	for (size_t j = 0; j < d; j++)
		dx[j] = (float)((dy[j] - y[j] * dot) / norm);
}

/* ---- lupi_loss_eval_features -------------------------------------------- */

static lupi__feature_fn feature_kernel(int feature)
{
	switch (feature) {
	case LUPI_FEATURE_HINT: return lupi__feature_hint;
	case LUPI_FEATURE_RKD_DIST: return lupi__feature_rkd_dist;
	case LUPI_FEATURE_RKD_ANGLE: return lupi__feature_rkd_angle;
	case LUPI_FEATURE_PKT: return lupi__feature_pkt;
	case LUPI_FEATURE_SP: return lupi__feature_sp;
	case LUPI_FEATURE_CRD: return lupi__feature_crd;
	default: return NULL;
	}
}

static int check_features(size_t n, size_t ds, const float *fs, size_t dt,
			  const float *ft, const uint8_t *mask, size_t *m)
{
	size_t where;
	*m = 0;
	for (size_t i = 0; i < n; i++) {
		if (!lupi__all_finite(fs + i * ds, ds, &where))
			return lupi__err(LUPI_ENONFINITE,
					 "student features: sample %zu, "
					 "column %zu is not finite",
					 i, where);
		if (mask && !mask[i])
			continue;
		if (!lupi__all_finite(ft + i * dt, dt, &where))
			return lupi__err(LUPI_ENONFINITE,
					 "teacher features: sample %zu, "
					 "column %zu is not finite",
					 i, where);
		(*m)++;
	}
	return LUPI_OK;
}

/* Copies the rows of samples with a teacher into l->gather. */
static int gather_rows(lupi_loss *l, size_t n, size_t m, size_t ds,
		       const float *fs, size_t dt, const float *ft,
		       const uint8_t *mask, float **gs, float **gt, float **gg)
{
	size_t bs = lupi__arena_size(m * ds * sizeof(float));
	size_t bt = lupi__arena_size(m * dt * sizeof(float));
	LUPI__TRY(lupi__arena_reserve(&l->gather, 2 * bs + bt));
	*gs = lupi__arena_alloc(&l->gather, m * ds * sizeof(float));
	*gg = lupi__arena_alloc(&l->gather, m * ds * sizeof(float));
	*gt = lupi__arena_alloc(&l->gather, m * dt * sizeof(float));
	for (size_t i = 0, r = 0; i < n; i++) {
		if (mask && !mask[i])
			continue;
		memcpy(*gs + r * ds, fs + i * ds, ds * sizeof(float));
		memcpy(*gt + r * dt, ft + i * dt, dt * sizeof(float));
		r++;
	}
	return LUPI_OK;
}

static void scatter_grad(size_t n, size_t ds, const uint8_t *mask,
			 const float *gg, double beta, float *grad)
{
	for (size_t i = 0, r = 0; i < n; i++) {
		float *g = grad + i * ds;
		if (mask && !mask[i]) {
			memset(g, 0, ds * sizeof *g);
			continue;
		}
		for (size_t j = 0; j < ds; j++)
			g[j] = (float)(beta * gg[r * ds + j]);
		r++;
	}
}

/* Samples with a teacher in one call of a relational feature loss. */
#define MAX_PAIR_ROWS 65536u

static int check_overflow(size_t n, size_t ds, size_t dt)
{
	size_t a, b;
	if (lupi__mul_overflow(n, ds, &a) || lupi__mul_overflow(n, dt, &b) ||
	    lupi__mul_overflow(a > b ? a : b, 2 * sizeof(float), &a))
		return lupi__err(LUPI_EINVAL, "%zu samples of %zu and %zu "
				 "features overflow", n, ds, dt);
	return LUPI_OK;
}

int lupi_loss_eval_features(lupi_loss *l, size_t n, size_t ds,
			    const float *fs, size_t dt, const float *ft,
			    const uint8_t *mask, int update, double *value,
			    float *grad)
{
	LUPI__CHECK_NULL(l);
	LUPI__CHECK_NULL(fs);
	LUPI__CHECK_NULL(ft);
	LUPI__CHECK_NULL(value);
	if (n == 0 || ds == 0 || dt == 0)
		return lupi__err(LUPI_EINVAL, "features: n = %zu, ds = %zu, "
				 "dt = %zu (none may be 0)", n, ds, dt);
	lupi__feature_fn fn = feature_kernel(l->feature);
	if (fn == NULL)
		return lupi__err(LUPI_ESTATE, "the loss has no feature loss "
				 "(set LUPI_LOSS_OPT_FEATURE)");
	LUPI__TRY(check_overflow(n, ds, dt));
	size_t m;
	LUPI__TRY(check_features(n, ds, fs, dt, ft, mask, &m));
	*value = 0.0;
	if (m == 0) {
		if (grad)
			memset(grad, 0, n * ds * sizeof *grad);
		return LUPI_OK;
	}
	/* The relational losses hold m x m matrices (and RKD angle does m^3
	 * work): the bound keeps their sizes far from overflow. */
	if (l->feature != LUPI_FEATURE_HINT && l->feature != LUPI_FEATURE_CRD &&
	    m > MAX_PAIR_ROWS)
		return lupi__err(LUPI_ERANGE, "relational feature losses compare "
				 "every pair of a batch: %zu samples, at most "
				 "%u", m, MAX_PAIR_ROWS);
	float *gs, *gt, *gg;
	LUPI__TRY(gather_rows(l, n, m, ds, fs, dt, ft, mask, &gs, &gt, &gg));
	double v;
	LUPI__TRY(fn(l, m, ds, gs, dt, gt, update, &v, gg));
	v *= l->beta;
	if (!isfinite(v))
		return lupi__err(LUPI_ENONFINITE, "feature loss is not finite");
	if (grad) {
		scatter_grad(n, ds, mask, gg, l->beta, grad);
		size_t where;
		if (!lupi__all_finite(grad, n * ds, &where))
			return lupi__err(LUPI_ENONFINITE, "feature loss "
					 "gradient: sample %zu, column %zu "
					 "is not finite", where / ds,
					 where % ds);
	}
	*value = v;
	return LUPI_OK;
}
