/* Teachers: trained models and external outputs, combined by averaging
 * probabilities (an ensemble in probability space, as Hinton, Vinyals & Dean
 * 2015 average their specialists), with one cache of outputs per dataset. */
#include <math.h>
#include <string.h>

#include "train_internal.h"

/* Rows per batched forward when a whole dataset is prepared. */
#define PREPARE_CHUNK 1024u

static const char *task_name(int task)
{
	switch (task) {
	case LUPI_TASK_CLASSIFICATION:
		return "classification";
	case LUPI_TASK_BINARY:
		return "binary";
	case LUPI_TASK_REGRESSION:
		return "regression";
	default:
		return "none";
	}
}

/* ---- scratch ------------------------------------------------------------ */

static int grow(void **p, size_t n, size_t size)
{
	size_t bytes;
	if (lupi__mul_overflow(n ? n : 1, size, &bytes))
		return lupi__err(LUPI_ENOMEM, "scratch of %zu x %zu bytes", n,
				 size);
	void *q = lupi__realloc(*p, bytes);
	if (q == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (%zu bytes)",
				 bytes);
	*p = q;
	return LUPI_OK;
}

static int grow2(void **p, size_t a, size_t b, size_t size)
{
	size_t n;
	if (lupi__mul_overflow(a, b, &n))
		return lupi__err(LUPI_ENOMEM, "scratch of %zu x %zu", a, b);
	return grow(p, n, size);
}

/* Scratch for combining outputs of n samples of k outputs with member
 * inputs of width dim. */
static int combine_reserve(lupi__combine *w, size_t n, size_t k, size_t dim)
{
	if (n <= w->cap_n && k <= w->cap_k && dim <= w->cap_dim &&
	    w->prob != NULL)
		return LUPI_OK;
	n = n > w->cap_n ? n : w->cap_n;
	k = k > w->cap_k ? k : w->cap_k;
	dim = dim > w->cap_dim ? dim : w->cap_dim;
	LUPI__TRY(grow2((void **)&w->acc, n, k, sizeof(double)));
	LUPI__TRY(grow((void **)&w->wsum, n, sizeof(double)));
	LUPI__TRY(grow((void **)&w->count, n, sizeof(size_t)));
	LUPI__TRY(grow((void **)&w->sub, n, sizeof(size_t)));
	LUPI__TRY(grow2((void **)&w->mout, n, k, sizeof(float)));
	LUPI__TRY(grow2((void **)&w->rows, n, dim ? dim : 1, sizeof(float)));
	LUPI__TRY(grow2((void **)&w->mid, n, dim ? dim : 1, sizeof(float)));
	LUPI__TRY(grow((void **)&w->prob, k, sizeof(double)));
	w->cap_n = n;
	w->cap_k = k;
	w->cap_dim = dim;
	return LUPI_OK;
}

void lupi__combine_free(lupi__combine *w)
{
	lupi__free(w->acc);
	lupi__free(w->wsum);
	lupi__free(w->count);
	lupi__free(w->sub);
	lupi__free(w->mout);
	lupi__free(w->rows);
	lupi__free(w->mid);
	lupi__free(w->prob);
	memset(w, 0, sizeof *w);
}

/* ---- life cycle ---------------------------------------------------------- */

int lupi_teacher_create(lupi_teacher **out)
{
	LUPI__CHECK_NULL(out);
	*out = lupi__calloc(1, sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (teacher)");
	return LUPI_OK;
}

void lupi__member_free(lupi__member *mb)
{
	lupi_model_free(mb->model);
	lupi_model_free(mb->reg);
	lupi_model_free(mb->xstar);
	lupi__free(mb->logits);
	lupi__free(mb->present);
}

static void cache_drop(lupi_teacher *t)
{
	lupi__free(t->cache);
	lupi__free(t->cache_has);
	t->cache = NULL;
	t->cache_has = NULL;
	t->cached = 0;
	t->cache_n = 0;
}

void lupi_teacher_free(lupi_teacher *t)
{
	if (t == NULL)
		return;
	for (size_t j = 0; j < t->n_members; j++)
		lupi__member_free(&t->members[j]);
	lupi__free(t->members);
	cache_drop(t);
	lupi__free(t);
}

size_t lupi_teacher_num_outputs(const lupi_teacher *t)
{
	return t ? t->k : 0;
}

const lupi_model *lupi__teacher_model(const lupi_teacher *t)
{
	if (t == NULL || t->n_members != 1)
		return NULL;
	return t->members[0].model;
}

/* Checks a new member's task and width against the earlier ones. */
static int check_member_shape(const lupi_teacher *t, int task, size_t k)
{
	if (t->n_members == 0)
		return LUPI_OK;
	if (k != t->k)
		return lupi__err(LUPI_ESHAPE,
				 "member has %zu outputs, teacher %zu", k,
				 t->k);
	if (task != t->task)
		return lupi__err(LUPI_ESHAPE, "member task is %s, teacher %s",
				 task_name(task), task_name(t->task));
	return LUPI_OK;
}

/* Appends a member (takes its buffers) and invalidates the cache. */
static int member_push(lupi_teacher *t, const lupi__member *mb, int task,
		       size_t k)
{
	if (t->n_members == t->cap_members) {
		size_t cap = t->cap_members ? 2 * t->cap_members : 4;
		void *p = t->members;
		LUPI__TRY(grow(&p, cap, sizeof *t->members));
		t->members = p;
		t->cap_members = cap;
	}
	t->members[t->n_members++] = *mb;
	t->task = task;
	t->k = k;
	cache_drop(t);
	return LUPI_OK;
}

int lupi__teacher_push(lupi_teacher *t, const lupi__member *mb, int task,
		       size_t k)
{
	LUPI__TRY(check_member_shape(t, task, k));
	return member_push(t, mb, task, k);
}

int lupi__check_member_weight(double weight)
{
	if (!(weight > 0.0) || !isfinite(weight))
		return lupi__err(LUPI_EINVAL,
				 "weight %g: must be finite and > 0", weight);
	return LUPI_OK;
}

int lupi_teacher_add_model(lupi_teacher *t, const lupi_model *m,
			   double weight)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(m);
	LUPI__TRY(lupi__check_member_weight(weight));
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "teacher model is not trained "
				 "nor initialised: train it, or call "
				 "lupi_model_init() for a fixed random "
				 "teacher");
	LUPI__TRY(check_member_shape(t, m->task, m->n_out));
	lupi__member mb = {.weight = weight};
	LUPI__TRY(lupi_model_clone(m, &mb.model));
	int rc = member_push(t, &mb, m->task, m->n_out);
	if (rc < 0)
		lupi__member_free(&mb);
	return rc;
}

/* The task external outputs of width k for ds stand for: the dataset's, or
 * classification (k >= 2) / binary (k = 1) when it has no targets. */
static int external_task(const lupi_dataset *ds, size_t k, int kind,
			 int *task)
{
	*task = ds->task;
	if (*task == LUPI_TASK_NONE)
		*task = k == 1 ? LUPI_TASK_BINARY : LUPI_TASK_CLASSIFICATION;
	size_t want = *task == LUPI_TASK_BINARY ? 1 : ds->k;
	if (ds->task != LUPI_TASK_NONE && k != want)
		return lupi__err(LUPI_ESHAPE,
				 "outputs have %zu columns, the dataset's %s "
				 "task %zu", k, task_name(*task), want);
	if (*task == LUPI_TASK_REGRESSION && kind == LUPI_OUTPUTS_PROBS)
		return lupi__err(LUPI_EINVAL,
				 "probabilities given for a regression task");
	return LUPI_OK;
}

static double clamp_log(double p)
{
	return log(p > LUPI__TEACHER_PROB_FLOOR ? p : LUPI__TEACHER_PROB_FLOOR);
}

/* Checks one row of probabilities and stores its logits. */
static int probs_to_logits(const float *p, size_t k, size_t row, float *z)
{
	double sum = 0.0;
	for (size_t c = 0; c < k; c++) {
		if (p[c] < 0.0f || (k == 1 && p[c] > 1.0f))
			return lupi__err(LUPI_EINVAL,
					 "sample %zu, output %zu: %g is not "
					 "a probability", row, c, p[c]);
		sum += p[c];
	}
	if (k > 1 && fabs(sum - 1.0) > 1e-3)
		return lupi__err(LUPI_EINVAL,
				 "sample %zu: probabilities sum to %g, not 1",
				 row, sum);
	if (k == 1) {
		z[0] = (float)(clamp_log(p[0]) - clamp_log(1.0 - p[0]));
		return LUPI_OK;
	}
	for (size_t c = 0; c < k; c++)
		z[c] = (float)clamp_log(p[c]);
	return LUPI_OK;
}

static int external_logits(const float *outputs, size_t n, size_t k,
			   int kind, float *z)
{
	size_t where;
	if (!lupi__all_finite(outputs, n * k, &where))
		return lupi__err(LUPI_ENONFINITE,
				 "sample %zu, output %zu is not finite",
				 where / k, where % k);
	if (kind == LUPI_OUTPUTS_LOGITS) {
		memcpy(z, outputs, n * k * sizeof *z);
		return LUPI_OK;
	}
	for (size_t i = 0; i < n; i++)
		LUPI__TRY(probs_to_logits(outputs + i * k, k, i, z + i * k));
	return LUPI_OK;
}

int lupi_teacher_add_outputs(lupi_teacher *t, const lupi_dataset *ds,
			     const float *outputs, size_t k, int kind,
			     double weight)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(outputs);
	if (k == 0)
		return lupi__err(LUPI_EINVAL, "k is 0");
	if (kind != LUPI_OUTPUTS_LOGITS && kind != LUPI_OUTPUTS_PROBS)
		return lupi__err(LUPI_EINVAL, "unknown outputs kind %d", kind);
	LUPI__TRY(lupi__check_member_weight(weight));
	int task;
	LUPI__TRY(external_task(ds, k, kind, &task));
	LUPI__TRY(check_member_shape(t, task, k));
	lupi__member mb = {.weight = weight, .ds_id = ds->id, .n = ds->n};
	mb.logits = lupi__malloc_array(ds->n, k * sizeof(float));
	if (mb.logits == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (outputs)");
	int rc = external_logits(outputs, ds->n, k, kind, mb.logits);
	if (rc == LUPI_OK)
		rc = member_push(t, &mb, task, k);
	if (rc < 0)
		lupi__member_free(&mb);
	return rc;
}

/* ---- combining ---------------------------------------------------------- */

/* Member probabilities of one row of logits into p (double). */
static void row_probs(int task, const float *z, size_t k, double *p)
{
	if (task == LUPI_TASK_REGRESSION) {
		for (size_t c = 0; c < k; c++)
			p[c] = z[c];
	} else if (task == LUPI_TASK_BINARY) {
		p[0] = 1.0 / (1.0 + exp(-(double)z[0]));
	} else {
		lupi__softmax(z, k, 1.0, p);
	}
}

/* Adds one member's logits for batch position p. The first member to see a
 * sample is copied as it is: a lone member's logits pass through unchanged
 * (their softmax is the average), so logit matching sees them exactly. */
static void accumulate(const lupi_teacher *t, lupi__combine *w, size_t p,
		       const float *z, double weight, float *out)
{
	size_t k = t->k;
	if (w->count[p] == 0)
		memcpy(out + p * k, z, k * sizeof *z);
	w->count[p]++;
	w->wsum[p] += weight;
	row_probs(t->task, z, k, w->prob);
	for (size_t c = 0; c < k; c++)
		w->acc[p * k + c] += weight * w->prob[c];
}

/* Row p of out from the averaged probabilities of two or more members. */
static void combine_row(const lupi_teacher *t, const lupi__combine *w,
			size_t p, float *z)
{
	size_t k = t->k;
	const double *a = w->acc + p * k;
	double ws = w->wsum[p];
	if (t->task == LUPI_TASK_REGRESSION) {
		for (size_t c = 0; c < k; c++)
			z[c] = (float)(a[c] / ws);
	} else if (t->task == LUPI_TASK_BINARY) {
		double q = a[0] / ws;
		z[0] = (float)(clamp_log(q) - clamp_log(1.0 - q));
	} else {
		for (size_t c = 0; c < k; c++)
			z[c] = (float)clamp_log(a[c] / ws);
	}
}

int lupi__teacher_check(const lupi_teacher *t, const lupi_dataset *ds)
{
	if (t->n_members == 0)
		return lupi__err(LUPI_ESTATE, "teacher has no members");
	for (size_t j = 0; j < t->n_members; j++) {
		const lupi__member *mb = &t->members[j];
		if (mb->reg != NULL) {
			LUPI__TRY(lupi__transfer_check(mb, ds, j));
			continue;
		}
		if (mb->model == NULL) {
			if (mb->ds_id != ds->id || mb->n != ds->n)
				return lupi__err(LUPI_EMISMATCH,
						 "teacher member %zu holds "
						 "outputs of another dataset",
						 j);
			continue;
		}
		/* Without any X*, a privileged member sees no sample. */
		int view = mb->model->opt.view;
		if (lupi__view_needs_priv(view) && ds->x_priv == NULL)
			continue;
		size_t dim = lupi__dataset_view_dim(ds, view);
		if (dim != mb->model->n_in)
			return lupi__err(LUPI_ESHAPE,
					 "teacher member %zu has %zu inputs, "
					 "the dataset's %s view has %zu "
					 "features", j, mb->model->n_in,
					 lupi__view_name(view), dim);
	}
	return LUPI_OK;
}

static size_t max_member_dim(const lupi_teacher *t)
{
	size_t dim = 0;
	for (size_t j = 0; j < t->n_members; j++) {
		const lupi__member *mb = &t->members[j];
		const lupi_model *ms[3] = {mb->model, mb->reg, mb->xstar};
		for (size_t q = 0; q < 3; q++)
			if (ms[q] && ms[q]->n_in > dim)
				dim = ms[q]->n_in;
	}
	return dim;
}

/* The one field a const call writes: a statistic for the tests, atomic so
 * that several threads may count at once. */
static void count_forward(const lupi_teacher *t)
{
	atomic_fetch_add_explicit(&((lupi_teacher *)t)->n_forward, 1,
				  memory_order_relaxed);
}

/* Gathers the raw rows of idx a model member sees into rows (positions in
 * sub) and returns how many. */
static size_t gather_visible(const lupi_model *m, const lupi_dataset *ds,
			     const size_t *idx, size_t n, float *rows,
			     size_t *sub)
{
	size_t nv = 0;
	for (size_t p = 0; p < n; p++)
		if (lupi__dataset_row(ds, m->opt.view, idx[p],
				      rows + nv * m->n_in))
			sub[nv++] = p;
	return nv;
}

static int add_model_member(const lupi_teacher *t, const lupi__member *mb,
			    const lupi_dataset *ds, const size_t *idx,
			    size_t n, lupi__combine *w, float *out)
{
	/* a transfer member sees what its regressor sees */
	const lupi_model *first = mb->reg ? mb->reg : mb->model;
	size_t nv = gather_visible(first, ds, idx, n, w->rows, w->sub);
	if (nv == 0)
		return LUPI_OK;
	if (mb->reg != NULL) { /* the X*-model at the regressor's X-hat* */
		LUPI__TRY(lupi__model_predict_logits(mb->reg, w->rows, nv,
						     w->mid));
		LUPI__TRY(lupi__model_predict_logits(mb->xstar, w->mid, nv,
						     w->mout));
	} else {
		LUPI__TRY(lupi__model_predict_logits(mb->model, w->rows, nv,
						     w->mout));
	}
	count_forward(t);
	for (size_t q = 0; q < nv; q++)
		accumulate(t, w, w->sub[q], w->mout + q * t->k, mb->weight,
			   out);
	return LUPI_OK;
}

static void add_external_member(const lupi_teacher *t, const lupi__member *mb,
				const size_t *idx, size_t n, lupi__combine *w,
				float *out)
{
	for (size_t p = 0; p < n; p++) {
		size_t i = idx[p];
		if (mb->present && !mb->present[i])
			continue;
		accumulate(t, w, p, mb->logits + i * t->k, mb->weight, out);
	}
}

/* Combined outputs of batch idx[0..n) computed from the members (no
 * cache) with the scratch w; indices are already checked. */
static int compute(const lupi_teacher *t, const lupi_dataset *ds,
		   const size_t *idx, size_t n, float *out, uint8_t *has,
		   lupi__combine *w)
{
	size_t k = t->k;
	LUPI__TRY(combine_reserve(w, n, k, max_member_dim(t)));
	memset(w->acc, 0, n * k * sizeof *w->acc);
	memset(w->wsum, 0, n * sizeof *w->wsum);
	memset(w->count, 0, n * sizeof *w->count);
	for (size_t j = 0; j < t->n_members; j++) {
		const lupi__member *mb = &t->members[j];
		if (mb->model || mb->reg)
			LUPI__TRY(add_model_member(t, mb, ds, idx, n, w, out));
		else
			add_external_member(t, mb, idx, n, w, out);
	}
	for (size_t p = 0; p < n; p++) {
		if (w->count[p] == 0)
			memset(out + p * k, 0, k * sizeof *out);
		else if (w->count[p] > 1)
			combine_row(t, w, p, out + p * k);
		if (has)
			has[p] = w->count[p] > 0;
	}
	return LUPI_OK;
}

static int check_indices(const lupi_dataset *ds, const size_t *idx, size_t n)
{
	for (size_t p = 0; p < n; p++)
		if (idx[p] >= ds->n)
			return lupi__err(LUPI_ERANGE,
					 "index %zu (position %zu) is out of "
					 "range: the dataset has %zu samples",
					 idx[p], p, ds->n);
	return LUPI_OK;
}

int lupi__teacher_cached(const lupi_teacher *t, const lupi_dataset *ds)
{
	return t->cached && t->cache_id == ds->id && t->cache_n == ds->n;
}

int lupi__teacher_all(const lupi_teacher *t, const lupi_dataset *ds,
		      float *out, uint8_t *has)
{
	lupi__combine w = {0};
	size_t *iota = lupi__malloc_array(PREPARE_CHUNK, sizeof *iota);
	int rc = LUPI_OK;
	if (iota == NULL)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (teacher outputs)");
	for (size_t off = 0; rc == LUPI_OK && off < ds->n;
	     off += PREPARE_CHUNK) {
		size_t m = ds->n - off < PREPARE_CHUNK ? ds->n - off
							: PREPARE_CHUNK;
		for (size_t p = 0; p < m; p++)
			iota[p] = off + p;
		rc = compute(t, ds, iota, m, out + off * t->k, has + off, &w);
	}
	lupi__free(iota);
	lupi__combine_free(&w);
	return rc;
}

int lupi_teacher_prepare(lupi_teacher *t, const lupi_dataset *ds)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(ds);
	LUPI__TRY(lupi__teacher_check(t, ds));
	if (lupi__teacher_cached(t, ds))
		return LUPI_OK;
	cache_drop(t);
	t->cache = lupi__malloc_array(ds->n, t->k * sizeof(float));
	t->cache_has = lupi__malloc(ds->n);
	int rc = LUPI_OK;
	if (t->cache == NULL || t->cache_has == NULL)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (teacher cache)");
	if (rc == LUPI_OK)
		rc = lupi__teacher_all(t, ds, t->cache, t->cache_has);
	if (rc < 0) {
		cache_drop(t);
		return rc;
	}
	t->cached = 1;
	t->cache_id = ds->id;
	t->cache_n = ds->n;
	return LUPI_OK;
}

int lupi__teacher_batch(const lupi_teacher *t, const lupi_dataset *ds,
			const size_t *idx, size_t n, float *out, uint8_t *has,
			lupi__combine *w)
{
	if (!lupi__teacher_cached(t, ds)) {
		LUPI__TRY(lupi__teacher_check(t, ds));
		return compute(t, ds, idx, n, out, has, w);
	}
	size_t k = t->k;
	for (size_t p = 0; p < n; p++) {
		memcpy(out + p * k, t->cache + idx[p] * k, k * sizeof *out);
		if (has)
			has[p] = t->cache_has[idx[p]];
	}
	return LUPI_OK;
}

/* A host call: the combining scratch is its own, so that the teacher is
 * only read. */
int lupi_teacher_outputs(const lupi_teacher *t, const lupi_dataset *ds,
			 const size_t *idx, size_t n, float *out,
			 uint8_t *has_output)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	LUPI__CHECK_NULL(out);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "n is 0");
	size_t count, bytes;
	if (lupi__mul_overflow(n, sizeof *idx, &bytes) ||
	    lupi__mul_overflow(n, t->k, &count) ||
	    lupi__mul_overflow(count, sizeof *out, &bytes))
		return lupi__err(LUPI_ERANGE, "n = %zu samples of %zu outputs "
				 "overflow the address space", n, t->k);
	LUPI__TRY(check_indices(ds, idx, n));
	lupi__combine w = {0};
	int rc = lupi__teacher_batch(t, ds, idx, n, out, has_output, &w);
	lupi__combine_free(&w);
	size_t where;
	if (rc == LUPI_OK && !lupi__all_finite(out, count, &where))
		return lupi__err(LUPI_ENONFINITE, "teacher output %zu of "
				 "sample %zu (index %zu) is not finite",
				 where % t->k, where / t->k,
				 idx[where / t->k]);
	return rc;
}

/* ---- teacher features -------------------------------------------------- */

int lupi__teacher_features(const lupi_teacher *t, const lupi_dataset *ds,
			   const size_t *idx, size_t n, size_t layer,
			   float *ft, uint8_t *has, float *rows)
{
	const lupi_model *m = lupi__teacher_model(t);
	if (m == NULL)
		return lupi__err(LUPI_ENOTSUP,
				 "feature losses need a teacher that is one "
				 "model, not external outputs or an ensemble");
	if (layer + 1 >= m->n_layers)
		return lupi__err(LUPI_ERANGE,
				 "teacher layer %zu: the teacher has %zu "
				 "hidden layers", layer, m->n_layers - 1);
	LUPI__TRY(lupi__teacher_check(t, ds));
	size_t width = m->layers[layer].out, nv = 0;
	for (size_t p = 0; p < n; p++) {
		has[p] = lupi__dataset_row(ds, m->opt.view, idx[p],
					   rows + nv * m->n_in) != 0;
		nv += has[p];
	}
	if (nv > 0) {
		LUPI__TRY(lupi__model_predict_hidden(m, layer, rows, nv, ft));
		count_forward(t);
	}
	/* Spread the nv computed rows to their batch positions, last first
	 * (row q <= position p), and zero the rows without a teacher. */
	for (size_t p = n, q = nv; p-- > 0;) {
		float *dst = ft + p * width;
		if (has[p])
			memmove(dst, ft + --q * width, width * sizeof *ft);
		else
			memset(dst, 0, width * sizeof *ft);
	}
	return LUPI_OK;
}

/* ---- cross-fitting ------------------------------------------------------ */

int lupi__crossfit_folds(const lupi_dataset *ds, int view, unsigned k,
			 uint64_t seed, size_t *fold)
{
	size_t *vis = lupi__malloc_array(ds->n, sizeof *vis);
	if (vis == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (folds)");
	size_t nv = 0;
	for (size_t i = 0; i < ds->n; i++) {
		fold[i] = SIZE_MAX;
		if (!lupi__view_needs_priv(view) ||
		    lupi__dataset_has_priv(ds, i))
			vis[nv++] = i;
	}
	if (nv < k) {
		lupi__free(vis);
		return lupi__err(LUPI_ERANGE,
				 "%u folds need at least %u samples the "
				 "model sees, the dataset has %zu", k, k, nv);
	}
	lupi__rng rng;
	lupi__rng_seed(&rng, seed);
	lupi__rng_shuffle(&rng, vis, nv);
	for (size_t q = 0; q < nv; q++)
		fold[vis[q]] = q % k;
	lupi__free(vis);
	return LUPI_OK;
}

/* Trains a clone of proto on the samples outside fold f and writes its
 * logits for the samples of fold f into z (rows of ds). */
static int fit_fold(const lupi_model *proto, const lupi_dataset *ds,
		    const size_t *fold, size_t f, size_t *idx, float *rows,
		    float *zf, float *z)
{
	size_t ntr = 0, nte = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (fold[i] != SIZE_MAX && fold[i] != f)
			idx[ntr++] = i;
	lupi_dataset *sub = NULL;
	lupi_model *m = NULL;
	int rc = lupi_dataset_subset(ds, idx, ntr, &sub);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(proto, &m);
	if (rc == LUPI_OK)
		rc = lupi_model_fit(m, sub, NULL, NULL, NULL);
	for (size_t i = 0; rc == LUPI_OK && i < ds->n; i++)
		if (fold[i] == f &&
		    lupi__dataset_row(ds, m->opt.view, i, rows + nte * m->n_in))
			idx[nte++] = i;
	if (rc == LUPI_OK)
		rc = lupi__model_predict_logits(m, rows, nte, zf);
	for (size_t q = 0; rc == LUPI_OK && q < nte; q++)
		memcpy(z + idx[q] * m->n_out, zf + q * m->n_out,
		       m->n_out * sizeof *z);
	lupi_model_free(m);
	lupi_dataset_free(sub);
	return rc;
}

int lupi__crossfit_check(const lupi_model *proto, const lupi_dataset *ds,
			 unsigned k_folds)
{
	if (k_folds < 2 || k_folds > ds->n)
		return lupi__err(LUPI_ERANGE,
				 "k_folds %u: must be in [2, %zu]", k_folds,
				 ds->n);
	size_t dim = lupi__dataset_view_dim(ds, proto->opt.view);
	if (dim != proto->n_in)
		return lupi__err(LUPI_ESHAPE,
				 "model has %zu inputs, the dataset's %s view "
				 "has %zu features", proto->n_in,
				 lupi__view_name(proto->opt.view), dim);
	return LUPI_OK;
}

/* Deals the folds into fold (n) and writes the logits of the samples of
 * folds [f0, f1) into z, each from the model of its fold. */
static int crossfit_folds_fit(const lupi_model *proto, const lupi_dataset *ds,
			      unsigned k_folds, uint64_t seed, unsigned f0,
			      unsigned f1, size_t *fold, float *z)
{
	size_t n = ds->n, k = proto->n_out;
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	float *rows = lupi__malloc_array(n, proto->n_in * sizeof(float));
	float *zf = lupi__malloc_array(n, k * sizeof(float));
	int rc = LUPI_OK;
	if (!idx || !rows || !zf)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (cross-fitting)");
	if (rc == LUPI_OK)
		rc = lupi__crossfit_folds(ds, proto->opt.view, k_folds, seed,
					  fold);
	for (unsigned f = f0; rc == LUPI_OK && f < f1; f++)
		rc = fit_fold(proto, ds, fold, f, idx, rows, zf, z);
	lupi__free(idx);
	lupi__free(rows);
	lupi__free(zf);
	return rc;
}

/* The cross-fitted logits of every sample into mb; present marks the
 * samples the proto's view can see (only those are in a fold). */
static int crossfit_outputs(const lupi_model *proto, const lupi_dataset *ds,
			    unsigned k_folds, uint64_t seed, lupi__member *mb)
{
	size_t n = ds->n, k = proto->n_out;
	size_t *fold = lupi__malloc_array(n, sizeof *fold);
	mb->logits = lupi__calloc(n, k * sizeof(float));
	mb->present = lupi__malloc(n);
	int rc = LUPI_OK;
	if (!fold || !mb->logits || !mb->present)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (cross-fitting)");
	if (rc == LUPI_OK)
		rc = crossfit_folds_fit(proto, ds, k_folds, seed, 0, k_folds,
					fold, mb->logits);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++)
		mb->present[i] = fold[i] != SIZE_MAX;
	lupi__free(fold);
	return rc;
}

/* One fold of lupi_teacher_create_crossfit(), for processes that share
 * the folds (liblupi-mpi): the same folds, clone and fit, so the same
 * bits. */
int lupi_teacher_crossfit_fold(const lupi_model *proto, const lupi_dataset *ds,
			       unsigned k_folds, uint64_t seed, unsigned fold,
			       float *out, uint8_t *in_fold)
{
	LUPI__CHECK_NULL(proto);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(out);
	LUPI__CHECK_NULL(in_fold);
	LUPI__TRY(lupi__crossfit_check(proto, ds, k_folds));
	if (fold >= k_folds)
		return lupi__err(LUPI_ERANGE, "fold %u of %u folds (0..%u)",
				 fold, k_folds, k_folds - 1);
	size_t n = ds->n;
	size_t *fo = lupi__malloc_array(n, sizeof *fo);
	if (fo == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (cross-fitting)");
	int rc = crossfit_folds_fit(proto, ds, k_folds, seed, fold, fold + 1,
				    fo, out);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++)
		if (fo[i] == fold)
			in_fold[i] = 1;
	lupi__free(fo);
	return rc;
}

int lupi_teacher_add_outputs_masked(lupi_teacher *t, const lupi_dataset *ds,
				    const float *logits, const uint8_t *present,
				    size_t k, double weight)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(logits);
	LUPI__CHECK_NULL(present);
	if (k == 0)
		return lupi__err(LUPI_EINVAL, "k is 0");
	LUPI__TRY(lupi__check_member_weight(weight));
	int task;
	LUPI__TRY(external_task(ds, k, LUPI_OUTPUTS_LOGITS, &task));
	LUPI__TRY(check_member_shape(t, task, k));
	size_t bytes;
	if (lupi__mul_overflow(ds->n, k * sizeof(float), &bytes))
		return lupi__err(LUPI_ERANGE, "%zu samples of %zu outputs "
				 "overflow the address space", ds->n, k);
	lupi__member mb = {.weight = weight, .ds_id = ds->id, .n = ds->n};
	/* the rows of absent samples are zeros, as a cross-fit's are */
	mb.logits = lupi__calloc(ds->n, k * sizeof(float));
	mb.present = lupi__malloc(ds->n ? ds->n : 1);
	int rc = mb.logits && mb.present ? LUPI_OK :
		lupi__err(LUPI_ENOMEM, "out of memory (outputs)");
	for (size_t i = 0; rc == LUPI_OK && i < ds->n; i++) {
		mb.present[i] = present[i] != 0;
		if (!mb.present[i])
			continue;
		size_t where;
		if (!lupi__all_finite(logits + i * k, k, &where))
			rc = lupi__err(LUPI_ENONFINITE, "sample %zu, output "
				       "%zu is not finite", i, where);
		else
			memcpy(mb.logits + i * k, logits + i * k,
			       k * sizeof(float));
	}
	if (rc == LUPI_OK)
		rc = member_push(t, &mb, task, k);
	if (rc < 0)
		lupi__member_free(&mb);
	return rc;
}

int lupi_teacher_create_crossfit(const lupi_model *proto,
				 const lupi_dataset *ds, unsigned k_folds,
				 uint64_t seed, lupi_teacher **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(proto);
	LUPI__CHECK_NULL(ds);
	LUPI__TRY(lupi__crossfit_check(proto, ds, k_folds));
	lupi__member mb = {.weight = 1.0, .ds_id = ds->id, .n = ds->n};
	lupi_teacher *t = NULL;
	int rc = crossfit_outputs(proto, ds, k_folds, seed, &mb);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	if (rc == LUPI_OK)
		rc = member_push(t, &mb, proto->task, proto->n_out);
	if (rc < 0) {
		lupi__member_free(&mb);
		lupi_teacher_free(t);
		return rc;
	}
	*out = t;
	return LUPI_OK;
}
