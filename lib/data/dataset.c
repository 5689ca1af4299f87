/* The dataset handle: host arrays in, borrowed views out, subsets, splits,
 * shuffles and standardisation (the view itself is in view.c). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

uint64_t lupi__dataset_new_id(void)
{
	static atomic_uint_fast64_t next = 1;
	return (uint64_t)atomic_fetch_add(&next, 1);
}

/* Reports the first non-finite value of an n x w block as sample/feature. */
static int check_finite(const float *v, size_t n, size_t w, const char *what)
{
	size_t total = n * w, where;
	if (lupi__all_finite(v, total, &where))
		return LUPI_OK;
	return lupi__err(LUPI_ENONFINITE, "sample %zu, %s %zu: %g is not "
			 "finite", where / w, what, where % w,
			 (double)v[where]);
}

/* A copy of n*w floats, NULL on overflow or allocation failure. */
static float *copy_floats(const float *src, size_t n, size_t w)
{
	size_t count;
	if (lupi__mul_overflow(n, w, &count))
		return NULL;
	float *dst = lupi__malloc_array(count, sizeof *dst);
	if (dst != NULL && src != NULL)
		memcpy(dst, src, count * sizeof *dst);
	return dst;
}

int lupi_dataset_create(size_t n, size_t d, const float *x, lupi_dataset **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(x);
	if (n == 0 || d == 0)
		return lupi__err(LUPI_EINVAL, "dataset of %zu samples and %zu "
				 "features: both must be positive", n, d);
	size_t count;
	if (lupi__mul_overflow(n, d, &count) ||
	    lupi__mul_overflow(count, sizeof(float), &count))
		return lupi__err(LUPI_ENOMEM, "%zu x %zu features overflow",
				 n, d);
	LUPI__TRY(check_finite(x, n, d, "feature"));
	lupi_dataset *ds = lupi__dataset_alloc();
	if (ds == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a dataset");
	ds->x = copy_floats(x, n, d);
	if (ds->x == NULL) {
		lupi__free(ds);
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu x %zu "
				 "features", n, d);
	}
	ds->n = n;
	ds->d = d;
	ds->task = LUPI_TASK_NONE;
	*out = ds;
	return LUPI_OK;
}

static void rebase(lupi_dataset *ds);

void lupi_dataset_free(lupi_dataset *ds)
{
	if (ds == NULL)
		return;
	rebase(ds); /* a grown dataset's allocations start `head` rows before */
	lupi__free(ds->x);
	lupi__free(ds->x_priv);
	lupi__free(ds->mask);
	lupi__free(ds->labels);
	lupi__free(ds->targets);
	lupi__free(ds->weights);
	lupi__free(ds->label_mask);
	lupi__free(ds);
}

lupi_dataset *lupi__dataset_alloc(void)
{
	lupi_dataset *ds = lupi__calloc(1, sizeof *ds);
	if (ds != NULL)
		ds->id = lupi__dataset_new_id();
	return ds;
}

/* Absent rows are zeroed and the mask is kept only when a row is absent, so
 * that "mask == NULL" always means "every X* present". */
void lupi__dataset_settle_mask(lupi_dataset *ds, uint8_t *mask)
{
	ds->n_priv = 0;
	for (size_t i = 0; i < ds->n; i++) {
		mask[i] = mask[i] != 0;
		ds->n_priv += mask[i];
		if (!mask[i])
			memset(ds->x_priv + i * ds->d_priv, 0,
			       ds->d_priv * sizeof *ds->x_priv);
	}
	lupi__free(ds->mask);
	ds->mask = NULL;
	if (ds->n_priv < ds->n)
		ds->mask = mask;
	else
		lupi__free(mask);
}

int lupi_dataset_set_privileged(lupi_dataset *ds, size_t d_priv,
				const float *x_priv, const uint8_t *mask)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(x_priv);
	if (d_priv == 0)
		return lupi__err(LUPI_EINVAL, "d_priv is 0");
	/* Bounded like every width, so that n * d_priv is checked before the
	 * scan below reads that far. */
	if (d_priv > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_ERANGE, "d_priv = %zu privileged "
				 "features: at most %u", d_priv,
				 LUPI__MAX_WIDTH);
	LUPI__TRY(lupi__check_host_array(ds->n, d_priv, sizeof(float),
					 "privileged features"));
	for (size_t i = 0; i < ds->n; i++) {
		size_t where;
		if (mask != NULL && mask[i] == 0)
			continue;
		if (!lupi__all_finite(x_priv + i * d_priv, d_priv, &where))
			return lupi__err(LUPI_ENONFINITE, "sample %zu, "
					 "privileged feature %zu: %g is not "
					 "finite", i, where,
					 (double)x_priv[i * d_priv + where]);
	}
	lupi__dataset_compact(ds);
	float *xp = copy_floats(x_priv, ds->n, d_priv);
	uint8_t *m = xp != NULL ? lupi__malloc(ds->n) : NULL;
	if (m == NULL) {
		lupi__free(xp);
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu x %zu "
				 "privileged features", ds->n, d_priv);
	}
	if (mask != NULL)
		memcpy(m, mask, ds->n);
	else
		memset(m, 1, ds->n);
	lupi__free(ds->x_priv);
	ds->x_priv = xp;
	ds->d_priv = d_priv;
	lupi__dataset_settle_mask(ds, m);
	/* The features changed: caches tied to the old id are stale. */
	ds->id = lupi__dataset_new_id();
	return LUPI_OK;
}

/* Copies n labels, already checked by the caller, into ds and sets its
 * task. */
static int store_labels(lupi_dataset *ds, size_t k, const int32_t *labels,
			int task)
{
	int32_t *copy = lupi__malloc_array(ds->n, sizeof *copy);
	if (copy == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu labels",
				 ds->n);
	memcpy(copy, labels, ds->n * sizeof *copy);
	lupi__dataset_compact(ds);
	lupi__free(ds->labels);
	lupi__free(ds->targets);
	ds->labels = copy;
	ds->targets = NULL;
	ds->k = k;
	ds->task = task;
	return LUPI_OK;
}

int lupi_dataset_set_labels(lupi_dataset *ds, size_t k, const int32_t *labels)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(labels);
	if (k < 2)
		return lupi__err(LUPI_EINVAL, "%zu classes: k must be at "
				 "least 2", k);
	if (k > LUPI__MAX_CLASSES)
		return lupi__err(LUPI_ERANGE, "%zu classes: k must be in "
				 "[2, %u]", k, LUPI__MAX_CLASSES);
	for (size_t i = 0; i < ds->n; i++)
		if (labels[i] < 0 || (size_t)labels[i] >= k)
			return lupi__err(LUPI_ERANGE, "sample %zu: label %d "
					 "is not in [0, %zu)", i,
					 (int)labels[i], k);
	return store_labels(ds, k, labels, LUPI_TASK_CLASSIFICATION);
}

int lupi_dataset_set_binary_labels(lupi_dataset *ds, const int32_t *labels)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(labels);
	for (size_t i = 0; i < ds->n; i++)
		if (labels[i] != 0 && labels[i] != 1)
			return lupi__err(LUPI_ERANGE, "sample %zu: binary "
					 "label %d is not 0 or 1", i,
					 (int)labels[i]);
	return store_labels(ds, 2, labels, LUPI_TASK_BINARY);
}

int lupi_dataset_set_targets(lupi_dataset *ds, size_t m, const float *targets)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(targets);
	if (m == 0 || m > LUPI__MAX_CLASSES)
		return lupi__err(LUPI_EINVAL, "%zu targets: m must be in "
				 "[1, %u]", m, LUPI__MAX_CLASSES);
	LUPI__TRY(check_finite(targets, ds->n, m, "target"));
	float *copy = copy_floats(targets, ds->n, m);
	if (copy == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu x %zu "
				 "targets", ds->n, m);
	lupi__dataset_compact(ds);
	lupi__free(ds->labels);
	lupi__free(ds->targets);
	ds->labels = NULL;
	lupi__free(ds->label_mask); /* regression targets have no mask */
	ds->label_mask = NULL;
	ds->targets = copy;
	ds->k = m;
	ds->task = LUPI_TASK_REGRESSION;
	return LUPI_OK;
}

int lupi_dataset_set_weights(lupi_dataset *ds, const float *weights)
{
	LUPI__CHECK_NULL(ds);
	if (weights == NULL) {
		lupi__dataset_compact(ds);
		lupi__free(ds->weights);
		ds->weights = NULL;
		return LUPI_OK;
	}
	for (size_t i = 0; i < ds->n; i++)
		if (!isfinite(weights[i]) || weights[i] < 0.0f)
			return lupi__err(LUPI_ERANGE, "sample %zu: weight %g "
					 "is not finite and >= 0", i,
					 (double)weights[i]);
	float *copy = copy_floats(weights, ds->n, 1);
	if (copy == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu weights",
				 ds->n);
	lupi__dataset_compact(ds);
	lupi__free(ds->weights);
	ds->weights = copy;
	return LUPI_OK;
}

/* ---- label mask ---------------------------------------------------------- */

int lupi_dataset_set_label_mask(lupi_dataset *ds, const uint8_t *mask)
{
	LUPI__CHECK_NULL(ds);
	if (mask == NULL) {
		lupi__free(ds->label_mask);
		ds->label_mask = NULL;
		return LUPI_OK;
	}
	if (ds->task != LUPI_TASK_CLASSIFICATION &&
	    ds->task != LUPI_TASK_BINARY)
		return lupi__err(LUPI_ESTATE, "a label mask needs class "
				 "labels (the dataset's task is %d)",
				 ds->task);
	if (ds->capacity > 0)
		return lupi__err(LUPI_ENOTSUP, "a dataset with a capacity "
				 "grows; a label mask is per stored row");
	uint8_t *m = lupi__malloc(ds->n ? ds->n : 1);
	if (m == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a label "
				 "mask of %zu samples", ds->n);
	for (size_t i = 0; i < ds->n; i++)
		m[i] = mask[i] != 0;
	lupi__dataset_compact(ds);
	lupi__free(ds->label_mask);
	ds->label_mask = m;
	return LUPI_OK;
}

const uint8_t *lupi_dataset_label_mask(const lupi_dataset *ds)
{
	return ds != NULL ? ds->label_mask : NULL;
}

/* ---- accessors ---------------------------------------------------------- */

size_t lupi_dataset_rows(const lupi_dataset *ds)
{
	return ds != NULL ? ds->n : 0;
}

size_t lupi_dataset_dim(const lupi_dataset *ds, int view)
{
	return ds != NULL ? lupi__dataset_view_dim(ds, view) : 0;
}

int lupi_dataset_task(const lupi_dataset *ds)
{
	return ds != NULL ? ds->task : LUPI_TASK_NONE;
}

size_t lupi_dataset_outputs(const lupi_dataset *ds)
{
	if (ds == NULL || ds->task == LUPI_TASK_NONE)
		return 0;
	return ds->k;
}

size_t lupi_dataset_privileged_count(const lupi_dataset *ds)
{
	return ds != NULL && ds->x_priv != NULL ? ds->n_priv : 0;
}

const float *lupi_dataset_features(const lupi_dataset *ds, int view)
{
	if (ds == NULL)
		return NULL;
	if (view == LUPI_VIEW_REGULAR)
		return ds->x;
	if (view == LUPI_VIEW_PRIVILEGED)
		return ds->x_priv;
	return NULL;
}

const uint8_t *lupi_dataset_mask(const lupi_dataset *ds)
{
	return ds != NULL ? ds->mask : NULL;
}

const int32_t *lupi_dataset_labels(const lupi_dataset *ds)
{
	return ds != NULL ? ds->labels : NULL;
}

const float *lupi_dataset_targets(const lupi_dataset *ds)
{
	return ds != NULL ? ds->targets : NULL;
}

const float *lupi_dataset_weights(const lupi_dataset *ds)
{
	return ds != NULL ? ds->weights : NULL;
}

/* ---- subsets, splits, shuffles ----------------------------------------- */

/* Rows idx[0..n) of an n_src x w block into a new n x w block. */
static void *gather(const void *src, size_t w, const size_t *idx, size_t n,
		    size_t elem)
{
	size_t row = w * elem; /* fits: the source block exists */
	unsigned char *dst = lupi__malloc_array(n, row);
	if (dst == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(dst + i * row, (const unsigned char *)src + idx[i] * row,
		       row);
	return dst;
}

/* The samples idx[0..n) (checked) of ds as a new dataset. */
static int subset_of(const lupi_dataset *ds, const size_t *idx, size_t n,
		     lupi_dataset **out)
{
	lupi_dataset *s = lupi__dataset_alloc();
	if (s == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a dataset");
	s->n = n;
	s->d = ds->d;
	s->d_priv = ds->d_priv;
	s->task = ds->task;
	s->k = ds->k;
	int fail = (s->x = gather(ds->x, ds->d, idx, n, sizeof(float))) == NULL;
	if (!fail && ds->x_priv != NULL) {
		s->x_priv = gather(ds->x_priv, ds->d_priv, idx, n,
				   sizeof(float));
		fail = s->x_priv == NULL;
	}
	if (!fail && ds->labels != NULL)
		fail = (s->labels = gather(ds->labels, 1, idx, n,
					   sizeof(int32_t))) == NULL;
	if (!fail && ds->targets != NULL)
		fail = (s->targets = gather(ds->targets, ds->k, idx, n,
					    sizeof(float))) == NULL;
	if (!fail && ds->weights != NULL)
		fail = (s->weights = gather(ds->weights, 1, idx, n,
					    sizeof(float))) == NULL;
	if (!fail && ds->label_mask != NULL)
		fail = (s->label_mask = gather(ds->label_mask, 1, idx, n,
					       1)) == NULL;
	if (!fail && ds->x_priv != NULL) {
		for (size_t i = 0; i < n; i++)
			s->n_priv += lupi__dataset_has_priv(ds, idx[i]);
		if (s->n_priv < n) {
			fail = (s->mask = gather(ds->mask, 1, idx, n, 1)) ==
			       NULL;
		}
	}
	if (fail) {
		lupi_dataset_free(s);
		return lupi__err(LUPI_ENOMEM, "out of memory for a subset of "
				 "%zu samples", n);
	}
	*out = s;
	return LUPI_OK;
}

int lupi_dataset_subset(const lupi_dataset *ds, const size_t *idx, size_t n,
			lupi_dataset **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "subset of 0 samples");
	LUPI__TRY(lupi__check_host_array(n, 1, sizeof *idx, "subset: idx"));
	for (size_t i = 0; i < n; i++)
		if (idx[i] >= ds->n)
			return lupi__err(LUPI_ERANGE, "idx[%zu] = %zu is not "
					 "below %zu rows", i, idx[i], ds->n);
	return subset_of(ds, idx, n, out);
}

/* perm = 0..n-1 in an order fixed by seed. */
static void permute(size_t *perm, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	lupi__rng rng;
	lupi__rng_seed(&rng, seed);
	lupi__rng_shuffle(&rng, perm, n);
}

struct class_share {
	double rem;
	size_t c;
};

static int by_remainder(const void *a, const void *b)
{
	const struct class_share *x = a, *y = b;
	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return x->c < y->c ? -1 : x->c > y->c;
}

/* How many samples of each class go to the first part: floor(fraction * n_c)
 * each, then the remaining seats of `total` to the largest remainders
 * (Hamilton's method), so the total is exact and every class is within one
 * sample of its proportion. */
static int class_quotas(const lupi_dataset *ds, double fraction, size_t total,
			size_t *quota)
{
	size_t k = ds->k;
	size_t *count = lupi__calloc(k, sizeof *count);
	struct class_share *share = lupi__malloc_array(k, sizeof *share);
	if (count == NULL || share == NULL) {
		lupi__free(count);
		lupi__free(share);
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu classes",
				 k);
	}
	for (size_t i = 0; i < ds->n; i++)
		count[ds->labels[i]]++;
	size_t assigned = 0;
	for (size_t c = 0; c < k; c++) {
		double want = fraction * (double)count[c];
		quota[c] = (size_t)floor(want);
		if (quota[c] > count[c])
			quota[c] = count[c];
		assigned += quota[c];
		share[c].rem = want - (double)quota[c];
		share[c].c = c;
	}
	qsort(share, k, sizeof *share, by_remainder);
	for (size_t j = 0; assigned < total && j < k; j++) {
		size_t c = share[j].c;
		if (quota[c] < count[c]) {
			quota[c]++;
			assigned++;
		}
	}
	lupi__free(count);
	lupi__free(share);
	return LUPI_OK;
}

/* Reorders perm so that the first `total` entries hold each class's quota,
 * keeping the shuffled order within each part. */
static int stratify(const lupi_dataset *ds, double fraction, size_t total,
		    size_t *perm)
{
	size_t n = ds->n;
	size_t *quota = lupi__malloc_array(ds->k, sizeof *quota);
	size_t *rest = lupi__malloc_array(n, sizeof *rest);
	int rc = quota && rest ? class_quotas(ds, fraction, total, quota)
			       : lupi__err(LUPI_ENOMEM, "out of memory");
	if (rc == LUPI_OK) {
		size_t a = 0, b = 0;
		for (size_t i = 0; i < n; i++) {
			size_t c = (size_t)ds->labels[perm[i]];
			if (quota[c] > 0) {
				quota[c]--;
				perm[a++] = perm[i];
			} else {
				rest[b++] = perm[i];
			}
		}
		memcpy(perm + a, rest, b * sizeof *perm);
	}
	lupi__free(quota);
	lupi__free(rest);
	return rc;
}

int lupi_dataset_split_indices(const lupi_dataset *ds, double fraction,
			       uint64_t seed, int mode, size_t *idx,
			       size_t *n_first)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	LUPI__CHECK_NULL(n_first);
	*n_first = 0;
	if (mode != LUPI_SPLIT_RANDOM && mode != LUPI_SPLIT_STRATIFIED)
		return lupi__err(LUPI_EINVAL, "unknown split mode %d", mode);
	if (!(fraction > 0.0 && fraction < 1.0))
		return lupi__err(LUPI_ERANGE, "fraction %g is not in (0, 1)",
				 fraction);
	size_t n1 = (size_t)floor(fraction * (double)ds->n + 0.5);
	if (n1 == 0 || n1 >= ds->n)
		return lupi__err(LUPI_ERANGE, "fraction %g of %zu samples "
				 "leaves a part empty", fraction, ds->n);
	if (mode == LUPI_SPLIT_STRATIFIED && ds->labels == NULL)
		return lupi__err(LUPI_EINVAL, "a stratified split needs class "
				 "labels");
	permute(idx, ds->n, seed);
	if (mode == LUPI_SPLIT_STRATIFIED)
		LUPI__TRY(stratify(ds, fraction, n1, idx));
	*n_first = n1;
	return LUPI_OK;
}

int lupi_dataset_split(const lupi_dataset *ds, double fraction, uint64_t seed,
		       int mode, lupi_dataset **first, lupi_dataset **second)
{
	if (first != NULL)
		*first = NULL;
	if (second != NULL)
		*second = NULL;
	LUPI__CHECK_NULL(first);
	LUPI__CHECK_NULL(second);
	LUPI__CHECK_NULL(ds);
	size_t *idx = lupi__malloc_array(ds->n, sizeof *idx), n1;
	if (idx == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu indices",
				 ds->n);
	int rc = lupi_dataset_split_indices(ds, fraction, seed, mode, idx,
					    &n1);
	if (rc == LUPI_OK)
		rc = subset_of(ds, idx, n1, first);
	if (rc == LUPI_OK)
		rc = subset_of(ds, idx + n1, ds->n - n1, second);
	if (rc != LUPI_OK) {
		lupi_dataset_free(*first);
		*first = NULL;
	}
	lupi__free(idx);
	return rc;
}

int lupi_dataset_shuffle(lupi_dataset *ds, uint64_t seed)
{
	LUPI__CHECK_NULL(ds);
	size_t *perm = lupi__malloc_array(ds->n, sizeof *perm);
	if (perm == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for %zu indices",
				 ds->n);
	permute(perm, ds->n, seed);
	lupi_dataset *s = NULL;
	int rc = subset_of(ds, perm, ds->n, &s);
	lupi__free(perm);
	if (rc != LUPI_OK)
		return rc;
	/* Swap the permuted arrays in; s takes the old ones to free. */
	lupi_dataset tmp = *ds;
	*ds = *s;
	*s = tmp;
	/* The growth settings stay with the handle. */
	ds->capacity = tmp.capacity;
	ds->evicted = tmp.evicted;
	lupi_dataset_free(s);
	return LUPI_OK;
}

/* ---- standardisation ---------------------------------------------------- */

static int check_view(const lupi_dataset *ds, int view)
{
	if (!lupi__view_valid(view))
		return lupi__err(LUPI_EINVAL, "unknown view %d", view);
	if (lupi__dataset_view_dim(ds, view) == 0)
		return lupi__err(LUPI_EINVAL, "the dataset has no privileged "
				 "features");
	return LUPI_OK;
}

/* The statistics of one part (REGULAR or PRIVILEGED) as floats; a std
 * that is 0 or not finite in float becomes 1. */
static int fit_part(const lupi_dataset *ds, int view, double *acc,
		    float *mean, float *std)
{
	size_t dim = lupi__dataset_view_dim(ds, view);
	double *mu = acc, *sd = acc + dim;
	if (lupi__view_stats(ds, view, mu, sd) == 0)
		return lupi__err(LUPI_EINVAL, "no sample has privileged "
				 "features");
	for (size_t j = 0; j < dim; j++) {
		float s = (float)sd[j];
		mean[j] = (float)mu[j];
		std[j] = s > 0.0f && isfinite(s) ? s : 1.0f;
	}
	return LUPI_OK;
}

/* BOTH is fitted part by part, each over the samples that have it (the X
 * columns over every sample), so that it gives the same numbers as
 * REGULAR and PRIVILEGED and suits lupi_dataset_standardize, which
 * standardises the X of every sample. */
int lupi_dataset_fit_standardizer(const lupi_dataset *ds, int view,
				  float *mean, float *std)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(mean);
	LUPI__CHECK_NULL(std);
	LUPI__TRY(check_view(ds, view));
	size_t dim = lupi__dataset_view_dim(ds, view);
	double *acc = lupi__malloc_array(dim, 2 * sizeof *acc);
	if (acc == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for statistics "
				 "of %zu features", dim);
	int rc = LUPI_OK;
	if (view != LUPI_VIEW_PRIVILEGED)
		rc = fit_part(ds, LUPI_VIEW_REGULAR, acc, mean, std);
	if (rc == LUPI_OK && view != LUPI_VIEW_REGULAR) {
		size_t off = view == LUPI_VIEW_BOTH ? ds->d : 0;
		rc = fit_part(ds, LUPI_VIEW_PRIVILEGED, acc, mean + off,
			      std + off);
	}
	lupi__free(acc);
	return rc;
}

/* Standardises (or, with apply 0, only checks) the values of one part
 * (REGULAR or PRIVILEGED) of the samples that have it; off is where the
 * part starts in the view, for messages. */
static int standardize_part(lupi_dataset *ds, int part, size_t off,
			    const float *mean, const float *std, int apply)
{
	size_t w = lupi__dataset_view_dim(ds, part);
	float *x = part == LUPI_VIEW_REGULAR ? ds->x : ds->x_priv;
	for (size_t i = 0; i < ds->n; i++) {
		if (!lupi__view_has(ds, part, i))
			continue;
		float *row = x + i * w;
		for (size_t j = 0; j < w; j++) {
			float v = (row[j] - mean[j]) / std[j];
			if (apply)
				row[j] = v;
			else if (!isfinite(v))
				return lupi__err(LUPI_ENONFINITE, "sample "
						 "%zu, feature %zu overflows "
						 "when standardised", i,
						 off + j);
		}
	}
	return LUPI_OK;
}

int lupi_dataset_standardize(lupi_dataset *ds, int view, const float *mean,
			     const float *std)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(mean);
	LUPI__CHECK_NULL(std);
	LUPI__TRY(check_view(ds, view));
	size_t dim = lupi__dataset_view_dim(ds, view);
	for (size_t j = 0; j < dim; j++) {
		if (!(isfinite(std[j]) && std[j] > 0.0f))
			return lupi__err(LUPI_ERANGE, "std[%zu] = %g is not "
					 "finite and > 0", j, (double)std[j]);
		if (!isfinite(mean[j]))
			return lupi__err(LUPI_ERANGE, "mean[%zu] = %g is not "
					 "finite", j, (double)mean[j]);
	}
	/* The parts of the view, and where their statistics start. */
	int part[2] = {view, -1};
	size_t off[2] = {0, 0};
	if (view == LUPI_VIEW_BOTH) {
		part[0] = LUPI_VIEW_REGULAR;
		part[1] = LUPI_VIEW_PRIVILEGED;
		off[1] = ds->d;
	}
	/* A check pass first, so that a failure leaves the data unchanged. */
	for (int apply = 0; apply <= 1; apply++)
		for (int p = 0; p < 2 && part[p] >= 0; p++)
			LUPI__TRY(standardize_part(ds, part[p], off[p],
						   mean + off[p], std + off[p],
						   apply));
	ds->id = lupi__dataset_new_id();
	return LUPI_OK;
}

/* ---- growth: append, capacity (a ring of rows), sampling ---------------- */

/*
 * A growing dataset keeps its rows contiguous, so every borrowed pointer
 * and every loop over ds->x stays as it is. Rows are appended into spare
 * room grown geometrically; with a capacity C, evicting the oldest rows
 * only advances `head`, and once the rows reach the end of the room they
 * are moved back to the start. The room is grown up to 2C rows, so a move
 * of at most C rows happens after at least C appended rows: amortised O(1)
 * per row either way.
 */

/* Rows of room a dataset has always at least. */
#define GROW_MIN_ROWS 16u

/* One per-row array: its pointer and bytes per row. */
struct rows_array {
	void **p;
	size_t row;
};

/* The per-row arrays ds has, into a[6]; returns how many. */
static size_t row_arrays(lupi_dataset *ds, struct rows_array *a)
{
	size_t na = 0;
	a[na++] = (struct rows_array){(void **)&ds->x, ds->d * sizeof(float)};
	if (ds->x_priv != NULL)
		a[na++] = (struct rows_array){(void **)&ds->x_priv,
					      ds->d_priv * sizeof(float)};
	if (ds->mask != NULL)
		a[na++] = (struct rows_array){(void **)&ds->mask, 1};
	if (ds->labels != NULL)
		a[na++] = (struct rows_array){(void **)&ds->labels,
					      sizeof(int32_t)};
	if (ds->targets != NULL)
		a[na++] = (struct rows_array){(void **)&ds->targets,
					      ds->k * sizeof(float)};
	if (ds->weights != NULL)
		a[na++] = (struct rows_array){(void **)&ds->weights,
					      sizeof(float)};
	return na;
}

static unsigned char *base_of(const struct rows_array *a, size_t head)
{
	return (unsigned char *)*a->p - head * a->row;
}

/* Advances every array by `rows` (rows > 0: evicting) or points them back
 * to their allocations (rows = -head), without moving data. */
static void shift_arrays(lupi_dataset *ds, size_t rows, int to_base)
{
	struct rows_array a[6];
	size_t na = row_arrays(ds, a);
	for (size_t j = 0; j < na; j++)
		*a[j].p = to_base ? base_of(&a[j], ds->head)
				  : (unsigned char *)*a[j].p + rows * a[j].row;
	ds->head = to_base ? 0 : ds->head + rows;
}

static void rebase(lupi_dataset *ds)
{
	if (ds->head > 0)
		shift_arrays(ds, 0, 1);
}

void lupi__dataset_compact(lupi_dataset *ds)
{
	if (ds->head > 0) {
		struct rows_array a[6];
		size_t na = row_arrays(ds, a);
		for (size_t j = 0; j < na; j++)
			memmove(base_of(&a[j], ds->head), *a[j].p,
				ds->n * a[j].row);
		shift_arrays(ds, 0, 1);
	}
	ds->cap_rows = 0;
}

/* Rows the allocations hold. */
static size_t room_of(const lupi_dataset *ds)
{
	size_t used = ds->head + ds->n;
	return ds->cap_rows > used ? ds->cap_rows : used;
}

/* Drops the oldest e rows (e <= n): O(1) but for counting their X*. */
static void evict_rows(lupi_dataset *ds, size_t e)
{
	if (e == 0)
		return;
	for (size_t i = 0; i < e; i++)
		ds->n_priv -= (size_t)lupi__dataset_has_priv(ds, i);
	shift_arrays(ds, e, 0);
	ds->n -= e;
	ds->evicted += e;
	/* Rows moved: whatever is tied to row numbers is stale. */
	ds->id = lupi__dataset_new_id();
}

/* Keeps "mask NULL means every X* present" after rows came or went. */
static void settle_grown_mask(lupi_dataset *ds)
{
	if (ds->mask != NULL && ds->n_priv == ds->n) {
		lupi__free(ds->mask - ds->head);
		ds->mask = NULL;
	}
}

/* What one append does, decided before anything changes. */
struct append_plan {
	size_t skip;    /* leading input rows dropped (more than capacity) */
	size_t add;     /* input rows stored */
	size_t evict;   /* oldest rows evicted */
	size_t room;    /* rows of room after the append */
	int grow, move; /* reallocate to `room`; move the rows to the front */
	int new_mask;   /* create a mask (a stored row lacks X*) */
	int new_weights;
};

static int append_check_rows(const lupi_dataset *ds, size_t n,
			     const float *x_priv, const uint8_t *mask,
			     const float *weights)
{
	if (x_priv != NULL) {
		if (ds->x_priv == NULL)
			return lupi__err(LUPI_ESTATE, "append: the dataset "
					 "has no privileged features (set "
					 "them first with "
					 "lupi_dataset_set_privileged)");
		for (size_t i = 0; i < n; i++) {
			size_t w;
			const float *r = x_priv + i * ds->d_priv;
			if ((mask == NULL || mask[i] != 0) &&
			    !lupi__all_finite(r, ds->d_priv, &w))
				return lupi__err(LUPI_ENONFINITE, "append: "
						 "row %zu, privileged feature "
						 "%zu: %g is not finite", i, w,
						 (double)r[w]);
		}
	}
	for (size_t i = 0; weights != NULL && i < n; i++)
		if (!isfinite(weights[i]) || weights[i] < 0.0f)
			return lupi__err(LUPI_ERANGE, "append: row %zu: weight "
					 "%g is not finite and >= 0", i,
					 (double)weights[i]);
	return LUPI_OK;
}

static int append_check_targets(const lupi_dataset *ds, size_t n,
				const int32_t *labels, const float *targets)
{
	int task = ds->task;
	int want_labels = task == LUPI_TASK_CLASSIFICATION ||
			  task == LUPI_TASK_BINARY;
	if ((labels != NULL) != want_labels ||
	    (targets != NULL) != (task == LUPI_TASK_REGRESSION))
		return lupi__err(LUPI_EINVAL, "append: a dataset of task %d "
				 "takes %s", task,
				 want_labels ? "labels and no targets"
				 : task == LUPI_TASK_REGRESSION
					 ? "targets and no labels"
					 : "neither labels nor targets");
	for (size_t i = 0; labels != NULL && i < n; i++)
		if (labels[i] < 0 || (size_t)labels[i] >= ds->k)
			return lupi__err(LUPI_ERANGE, "append: row %zu: label "
					 "%d is not in [0, %zu)", i,
					 (int)labels[i], ds->k);
	if (targets != NULL)
		return check_finite(targets, n, ds->k, "target");
	return LUPI_OK;
}

static void plan_append(const lupi_dataset *ds, size_t n,
			const float *x_priv, const uint8_t *mask,
			const float *weights, struct append_plan *p)
{
	size_t c = ds->capacity;
	memset(p, 0, sizeof *p);
	p->skip = c != 0 && n > c ? n - c : 0;
	p->add = n - p->skip;
	if (c != 0 && ds->n + p->add > c)
		p->evict = ds->n + p->add - c;
	size_t keep = ds->n - p->evict, want = keep + p->add;
	size_t room = room_of(ds);
	p->room = room;
	if (ds->head + p->evict + want > room) {
		if (want <= room / 2) {
			p->move = 1;
		} else {
			size_t r = room > SIZE_MAX / 2 ? SIZE_MAX : 2 * room;
			r = r > want ? r : want;
			r = r > GROW_MIN_ROWS ? r : GROW_MIN_ROWS;
			if (c != 0 && r > 2 * c)
				r = 2 * c > want ? 2 * c : want;
			p->room = r;
			p->grow = p->move = 1;
		}
	}
	if (ds->x_priv != NULL && ds->mask == NULL)
		for (size_t i = p->skip; i < n && !p->new_mask; i++)
			p->new_mask = x_priv == NULL ||
				      (mask != NULL && mask[i] == 0);
	p->new_weights = ds->weights == NULL && weights != NULL;
}

/* A new per-row array of `room` rows whose rows head..head+n hold `fill`
 * (a mask of present rows, or unit weights), pointed at row head. */
static void *filled_array(const lupi_dataset *ds, size_t room, size_t row,
			  int is_mask)
{
	unsigned char *b = lupi__malloc_array(room, row);
	if (b == NULL)
		return NULL;
	for (size_t i = ds->head; i < ds->head + ds->n; i++) {
		if (is_mask)
			b[i] = 1;
		else
			((float *)(void *)b)[i] = 1.0f;
	}
	return b + ds->head * row;
}

/* Every allocation of an append; on failure ds is as it was (arrays that
 * were reallocated only have more room). */
static int reserve_append(lupi_dataset *ds, const struct append_plan *p)
{
	size_t room = p->room;
	struct rows_array a[6];
	size_t na = row_arrays(ds, a), bytes;
	for (size_t j = 0; j < na; j++)
		if (lupi__mul_overflow(room, a[j].row, &bytes))
			return lupi__err(LUPI_ENOMEM, "append: %zu rows of %zu "
					 "bytes overflow", room, a[j].row);
	uint8_t *mask = NULL;
	float *w = NULL;
	if (p->new_mask && (mask = filled_array(ds, room, 1, 1)) == NULL)
		return lupi__err(LUPI_ENOMEM, "append: out of memory for a "
				 "mask of %zu rows", room);
	if (p->new_weights &&
	    (w = filled_array(ds, room, sizeof(float), 0)) == NULL) {
		lupi__free(mask != NULL ? mask - ds->head : NULL);
		return lupi__err(LUPI_ENOMEM, "append: out of memory for "
				 "%zu weights", room);
	}
	for (size_t j = 0; p->grow && j < na; j++) {
		unsigned char *b = lupi__realloc(base_of(&a[j], ds->head),
						 room * a[j].row);
		if (b == NULL) {
			lupi__free(mask != NULL ? mask - ds->head : NULL);
			lupi__free(w != NULL ? w - ds->head : NULL);
			return lupi__err(LUPI_ENOMEM, "append: out of memory "
					 "for %zu rows", room);
		}
		*a[j].p = b + ds->head * a[j].row;
	}
	if (p->grow)
		ds->n_grow++;
	if (mask != NULL)
		ds->mask = mask;
	if (w != NULL)
		ds->weights = w;
	ds->cap_rows = room;
	return LUPI_OK;
}

/* Copies input rows skip..skip+add to the end of ds (room reserved). */
static void store_rows(lupi_dataset *ds, const struct append_plan *p,
		       const float *x, const float *x_priv,
		       const uint8_t *mask, const int32_t *labels,
		       const float *targets, const float *weights)
{
	size_t at = ds->n, s = p->skip, m = p->add;
	memcpy(ds->x + at * ds->d, x + s * ds->d, m * ds->d * sizeof *x);
	for (size_t i = 0; ds->x_priv != NULL && i < m; i++) {
		int has = x_priv != NULL && (mask == NULL || mask[s + i] != 0);
		float *dst = ds->x_priv + (at + i) * ds->d_priv;
		if (has)
			memcpy(dst, x_priv + (s + i) * ds->d_priv,
			       ds->d_priv * sizeof *dst);
		else
			memset(dst, 0, ds->d_priv * sizeof *dst);
		if (ds->mask != NULL)
			ds->mask[at + i] = (uint8_t)has;
		ds->n_priv += (size_t)has;
	}
	if (labels != NULL)
		memcpy(ds->labels + at, labels + s, m * sizeof *labels);
	if (targets != NULL)
		memcpy(ds->targets + at * ds->k, targets + s * ds->k,
		       m * ds->k * sizeof *targets);
	for (size_t i = 0; ds->weights != NULL && i < m; i++)
		ds->weights[at + i] = weights != NULL ? weights[s + i] : 1.0f;
	ds->n += m;
}

int lupi_dataset_append(lupi_dataset *ds, size_t n, const float *x,
			const float *x_priv, const uint8_t *mask,
			const int32_t *labels, const float *targets,
			const float *weights)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(x);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "append: n is 0");
	if (ds->label_mask != NULL)
		return lupi__err(LUPI_ENOTSUP, "append: the dataset has a "
				 "label mask (remove it first, then set it "
				 "again)");
	size_t count;
	if (lupi__mul_overflow(n, ds->d, &count) ||
	    lupi__mul_overflow(count, sizeof(float), &count) ||
	    ds->n > SIZE_MAX / 2 - n)
		return lupi__err(LUPI_ENOMEM, "append: %zu rows of %zu "
				 "features overflow", n, ds->d);
	LUPI__TRY(check_finite(x, n, ds->d, "feature"));
	LUPI__TRY(append_check_rows(ds, n, x_priv, mask, weights));
	LUPI__TRY(append_check_targets(ds, n, labels, targets));
	struct append_plan p;
	plan_append(ds, n, x_priv, mask, weights, &p);
	LUPI__TRY(reserve_append(ds, &p));
	/* From here nothing fails. */
	evict_rows(ds, p.evict);
	ds->evicted += p.skip; /* rows that came and went at once */
	if (p.move && ds->head > 0) {
		ds->n_moved += ds->n;
		size_t cap = ds->cap_rows;
		lupi__dataset_compact(ds);
		ds->cap_rows = cap;
	}
	store_rows(ds, &p, x, x_priv, mask, labels, targets, weights);
	settle_grown_mask(ds);
	return LUPI_OK;
}

int lupi_dataset_set_capacity(lupi_dataset *ds, size_t capacity)
{
	LUPI__CHECK_NULL(ds);
	ds->capacity = capacity;
	if (capacity != 0 && ds->n > capacity)
		evict_rows(ds, ds->n - capacity);
	settle_grown_mask(ds);
	return LUPI_OK;
}

size_t lupi_dataset_capacity(const lupi_dataset *ds)
{
	return ds != NULL ? ds->capacity : 0;
}

uint64_t lupi_dataset_evicted(const lupi_dataset *ds)
{
	return ds != NULL ? ds->evicted : 0;
}

int lupi_dataset_sample(const lupi_dataset *ds, size_t n, uint64_t *state,
			size_t *idx)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(state);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "sample: n is 0");
	LUPI__TRY(lupi__check_host_array(n, 1, sizeof *idx, "sample: idx"));
	lupi__rng rng;
	lupi__rng_seed(&rng, *state);
	for (size_t i = 0; i < n; i++)
		idx[i] = (size_t)lupi__rng_below(&rng, ds->n);
	*state = lupi__rng_next(&rng);
	return LUPI_OK;
}
