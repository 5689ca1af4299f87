/* The loss handle: its option table (lupi__loss_options), columns, clones,
 * and the feature-loss dispatcher. A lupi_loss is used by one thread at a
 * time (feature losses keep scratch and learned state in it). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "distill_internal.h"

#define MAX_EMBED 4096
#define MAX_QUEUE 65536
#define MAX_LAYER ((int64_t)LUPI__MAX_LAYERS - 1)

/* Loss options are not saved in model files: file id 0. */
#define LOSS_INT(N, field, st, lo, hi, def, V, doc)                           \
	LUPI__OPT_INT(LOSS, N, lupi_loss, field, st, lo, hi, def, V, 0, 0, doc)
#define LOSS_REAL(N, field, lo, hi, lo_open, def, doc)                        \
	LUPI__OPT_REAL(LOSS, N, lupi_loss, field, lo, hi, lo_open, 0, def, 0, \
		       0, doc)

static const lupi__option loss_rows[] = {
	LOSS_INT(DIVERGENCE, divergence, LUPI__STORE_INT, LUPI_DIV_CE,
		 LUPI_DIV_JS, LUPI_DIV_CE, "ce,kl,reverse_kl,js",
		 "divergence D of KD between teacher and student"),
	LOSS_INT(SCALE_T2, scale_t2, LUPI__STORE_INT, 0, 1, 1, NULL,
		 "1: the KD term is scaled by c = T^2; 0: c = 1"),
	LOSS_INT(STUDENT_T, student_t, LUPI__STORE_INT, 0, 1, 0, NULL,
		 "0: the student's softmax at T (Hinton); 1: at 1 (Lopez-Paz)"),
	LOSS_INT(FILTER, filter, LUPI__STORE_INT, LUPI_FILTER_NONE,
		 LUPI_FILTER_CONFIDENCE, LUPI_FILTER_NONE,
		 "none,drop_wrong,confidence",
		 "what to do with samples the teacher gets wrong"),
	LOSS_INT(FEATURE, feature, LUPI__STORE_INT, LUPI_FEATURE_NONE,
		 LUPI_FEATURE_CRD, LUPI_FEATURE_NONE,
		 "none,hint,rkd_dist,rkd_angle,pkt,sp,crd",
		 "feature loss between hidden layers, weighted by BETA"),
	LOSS_INT(STUDENT_LAYER, student_layer, LUPI__STORE_I64,
		 LUPI__LAYER_LAST, MAX_LAYER, LUPI__LAYER_LAST, NULL,
		 "student hidden layer of the feature loss (-1: the last)"),
	LOSS_INT(TEACHER_LAYER, teacher_layer, LUPI__STORE_I64,
		 LUPI__LAYER_LAST, MAX_LAYER, LUPI__LAYER_LAST, NULL,
		 "teacher hidden layer of the feature loss (-1: the last)"),
	LOSS_INT(QUEUE, queue, LUPI__STORE_I64, 1, MAX_QUEUE, 4096, NULL,
		 "CRD negatives kept in the queue"),
	LOSS_INT(EMBED, embed, LUPI__STORE_I64, 1, MAX_EMBED, 128, NULL,
		 "CRD embedding size"),
	LOSS_INT(SEED, seed, LUPI__STORE_U64, INT64_MIN, INT64_MAX, 0, NULL,
		 "seed of the hint regressor and the CRD heads"),
	LOSS_INT(NORMALIZE, normalize, LUPI__STORE_INT, LUPI_NORMALIZE_WEIGHTS,
		 LUPI_NORMALIZE_COUNT, LUPI_NORMALIZE_WEIGHTS, "weights,count",
		 "mean over a batch: divided by the sum of weights, or by n"),
	LOSS_REAL(TEMPERATURE, temperature, 0.0, 1000.0, 1, 1.0,
		  "KD temperature T"),
	LOSS_REAL(LAMBDA, lambda, 0.0, 1.0, 0, 0.5,
		  "imitation weight: (1 - l) label term + l teacher term"),
	LOSS_REAL(BETA, beta, 0.0, 1e6, 0, 1.0, "weight of the feature loss"),
	LOSS_REAL(CRD_TEMPERATURE, crd_temperature, 0.0, 100.0, 1, 0.07,
		  "CRD softmax temperature"),
	LOSS_REAL(FEATURE_LR, feature_lr, 0.0, 10.0, 0, 1e-3,
		  "Adam learning rate of the hint regressor and CRD heads"),
	LOSS_REAL(NO_TEACHER_WEIGHT, no_teacher_weight, 0.0, 1.0, 0, 1.0,
		  "weight of a sample without a teacher output (0 drops it)"),
};

const lupi__option_table lupi__loss_options = {
	LUPI_HANDLE_LOSS, "LUPI_LOSS_OPT_", loss_rows,
	sizeof loss_rows / sizeof loss_rows[0]};

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
	memset(l, 0, sizeof *l);
	l->kind = kind;
	lupi__option_defaults(&lupi__loss_options, l);
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
	LUPI__CHECK_NULL(out);
	*out = NULL;
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

/* Parameters and both moments, in the one allocation of lupi__adam_alloc. */
static int adam_copy(lupi__adam *dst, const lupi__adam *src)
{
	if (src->p == NULL)
		return LUPI_OK;
	LUPI__TRY(lupi__adam_alloc(dst, src->n));
	memcpy(dst->p, src->p, 3 * src->n * sizeof *src->p);
	dst->t = src->t;
	return LUPI_OK;
}

static int copy_state(lupi_loss *l, const lupi_loss *src)
{
	l->hint.ds = src->hint.ds;
	l->hint.dt = src->hint.dt;
	LUPI__TRY(adam_copy(&l->hint.par, &src->hint.par));
	const lupi__crd *c = &src->crd;
	if (c->par.p == NULL)
		return LUPI_OK;
	l->crd.queue = lupi__malloc_array(c->cap * c->e, sizeof(float));
	if (l->crd.queue == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot copy a CRD queue of "
				 "%zu x %zu", c->cap, c->e);
	memcpy(l->crd.queue, c->queue, c->cap * c->e * sizeof(float));
	LUPI__TRY(adam_copy(&l->crd.par, &c->par));
	l->crd.ds = c->ds;
	l->crd.dt = c->dt;
	l->crd.e = c->e;
	l->crd.cap = c->cap;
	l->crd.len = c->len;
	l->crd.head = c->head;
	return LUPI_OK;
}

int lupi_loss_clone(const lupi_loss *src, lupi_loss **out)
{
	LUPI__TRY(lupi__loss_copy(src, out));
	int rc = copy_state(*out, src);
	if (rc < 0) {
		lupi_loss_free(*out);
		*out = NULL;
	}
	return rc;
}

int lupi_loss_set_int(lupi_loss *l, int key, int64_t v)
{
	LUPI__CHECK_NULL(l);
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(&lupi__loss_options, key, LUPI_TYPE_INT,
				      &o));
	LUPI__TRY(lupi__option_store_int(&lupi__loss_options, o, l, v));
	/* These shape the learned state of HINT and CRD: a change starts it
	 * afresh. */
	if (key == LUPI_LOSS_OPT_FEATURE || key == LUPI_LOSS_OPT_QUEUE ||
	    key == LUPI_LOSS_OPT_EMBED || key == LUPI_LOSS_OPT_SEED)
		lupi__loss_reset_state(l);
	return LUPI_OK;
}

int lupi_loss_set_double(lupi_loss *l, int key, double v)
{
	LUPI__CHECK_NULL(l);
	return lupi__option_set_double(&lupi__loss_options, l, key, v);
}

int lupi_loss_get_int(const lupi_loss *l, int key, int64_t *v)
{
	LUPI__CHECK_NULL(l);
	return lupi__option_get_int(&lupi__loss_options, l, key, v);
}

int lupi_loss_get_double(const lupi_loss *l, int key, double *v)
{
	LUPI__CHECK_NULL(l);
	return lupi__option_get_double(&lupi__loss_options, l, key, v);
}

/* Columns are checked against k when the loss is evaluated (k is not known
 * here); duplicates would count a column twice and are refused. */
int lupi_loss_set_columns(lupi_loss *l, const size_t *cols, size_t n)
{
	LUPI__CHECK_NULL(l);
	if (cols == NULL && n > 0)
		return lupi__err(LUPI_EINVAL, "lupi_loss_set_columns: cols is "
				 "NULL but n is %zu (pass n 0 to restore all "
				 "columns)", n);
	if (n == 0) {
		lupi__free(l->cols);
		l->cols = NULL;
		l->n_cols = 0;
		return LUPI_OK;
	}
	/* Allocated first: an n whose bytes overflow size_t fails here,
	 * before cols is read. */
	size_t *c = lupi__malloc_array(n, sizeof *c);
	if (c == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot copy %zu columns", n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (cols[i] == cols[j]) {
				lupi__free(c);
				return lupi__err(LUPI_EINVAL,
						 "column %zu is listed twice",
						 cols[i]);
			}
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

/* ---- feature losses ----------------------------------------------------- */

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

int lupi__loss_features(lupi_loss *l, size_t n, size_t ds, const float *fs,
			size_t dt, const float *ft, const uint8_t *mask,
			int update, double *value, float *grad)
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

int lupi_loss_eval_features(lupi_loss *l, size_t n, size_t ds,
			    const float *fs, size_t dt, const float *ft,
			    const uint8_t *has_teacher, double *value,
			    float *grad)
{
	return lupi__loss_features(l, n, ds, fs, dt, ft, has_teacher, 0, value,
				   grad);
}

int lupi_loss_update_features(lupi_loss *l, size_t n, size_t ds,
			      const float *fs, size_t dt, const float *ft,
			      const uint8_t *has_teacher, double *value,
			      float *grad)
{
	LUPI__CHECK_NULL(l);
	LUPI__CHECK_NULL(grad);
	return lupi__loss_features(l, n, ds, fs, dt, ft, has_teacher, 1, value,
				   grad);
}
