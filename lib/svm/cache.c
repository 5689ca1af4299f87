/* Kernels and an LRU cache of kernel rows bounded by a byte budget, as
 * libsvm's (Chang & Lin 2011, section 5.1) but of whole rows: the solver
 * touches at most three rows of each kernel per step. */
#include <math.h>
#include <string.h>

#include "svm_internal.h"

double lupi__kernel(int kind, double width, const float *a, const float *b,
		    size_t d)
{
	double s = 0;
	if (kind == LUPI_SVM_KERNEL_LINEAR) {
		for (size_t k = 0; k < d; k++)
			s += (double)a[k] * b[k];
		return s;
	}
	for (size_t k = 0; k < d; k++) {
		double t = (double)a[k] - b[k];
		s += t * t;
	}
	return exp(-width * s);
}

int lupi__kcache_init(lupi__kcache *c, const float *x, size_t n, size_t d,
		      int kind, double width, size_t budget_bytes)
{
	memset(c, 0, sizeof *c);
	c->x = x;
	c->n = n;
	c->d = d;
	c->kind = kind;
	c->width = width;
	size_t row_bytes = n * sizeof(double);
	c->slots = budget_bytes / row_bytes;
	if (c->slots < 3)
		c->slots = 3;
	if (c->slots > n)
		c->slots = n;
	c->rows = lupi__malloc_array(c->slots, row_bytes);
	c->owner = lupi__malloc_array(c->slots, sizeof *c->owner);
	c->used = lupi__calloc(c->slots, sizeof *c->used);
	c->where = lupi__malloc_array(n, sizeof *c->where);
	if (!c->rows || !c->owner || !c->used || !c->where) {
		lupi__kcache_free(c);
		return lupi__err(LUPI_ENOMEM, "svm: cannot allocate a kernel "
				 "cache of %zu rows of %zu samples",
				 c->slots, n);
	}
	for (size_t s = 0; s < c->slots; s++)
		c->owner[s] = SIZE_MAX;
	for (size_t i = 0; i < n; i++)
		c->where[i] = SIZE_MAX;
	return LUPI_OK;
}

void lupi__kcache_free(lupi__kcache *c)
{
	lupi__free(c->rows);
	lupi__free(c->owner);
	lupi__free(c->used);
	lupi__free(c->where);
	memset(c, 0, sizeof *c);
}

static void fill(lupi__kcache *c, size_t i, double *row)
{
	const float *xi = c->x + i * c->d;
	for (size_t j = 0; j < c->n; j++)
		row[j] = lupi__kernel(c->kind, c->width, xi, c->x + j * c->d,
				      c->d);
}

/* The slot of row i; pinned slots (pin[0..np)) are never evicted. */
static size_t slot_of(lupi__kcache *c, size_t i, const size_t *pin, size_t np)
{
	size_t s = c->where[i];
	if (s != SIZE_MAX) {
		c->hits++;
		c->used[s] = ++c->clock;
		return s;
	}
	c->misses++;
	size_t victim = SIZE_MAX;
	for (size_t t = 0; t < c->slots; t++) {
		int pinned = 0;
		for (size_t p = 0; p < np; p++)
			pinned |= c->owner[t] != SIZE_MAX && c->owner[t] == pin[p];
		if (pinned)
			continue;
		if (victim == SIZE_MAX || c->used[t] < c->used[victim])
			victim = t;
	}
	if (c->owner[victim] != SIZE_MAX)
		c->where[c->owner[victim]] = SIZE_MAX;
	c->owner[victim] = i;
	c->where[i] = victim;
	c->used[victim] = ++c->clock;
	fill(c, i, c->rows + victim * c->n);
	return victim;
}

const double *lupi__kcache_row(lupi__kcache *c, size_t i)
{
	return c->rows + slot_of(c, i, NULL, 0) * c->n;
}

void lupi__kcache_rows(lupi__kcache *c, const size_t *idx, size_t k,
		       const double **rows)
{
	size_t s[3];
	for (size_t m = 0; m < k; m++)
		s[m] = slot_of(c, idx[m], idx, m);
	for (size_t m = 0; m < k; m++)
		rows[m] = c->rows + s[m] * c->n;
}
