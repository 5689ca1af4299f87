/* Internal API of lib/data. Not installed. */
#ifndef LUPI_DATA_INTERNAL_H
#define LUPI_DATA_INTERNAL_H

#include "../core/core_internal.h"

struct lupi_dataset {
	uint64_t id;      /* unique per process, new for every created dataset,
	                     subset or split; caches are tied to it. Also
	                     renewed when X, X* or the sample order change
	                     (set_privileged, shuffle, standardize) */
	size_t n, d, d_priv;
	int task;         /* LUPI_TASK_* */
	size_t k;         /* classes (2 for binary) or regression outputs m */
	float *x;         /* n*d */
	float *x_priv;    /* n*d_priv or NULL */
	uint8_t *mask;    /* n, NULL when every X* is present */
	size_t n_priv;    /* samples with X* present */
	int32_t *labels;  /* n, classification and binary */
	float *targets;   /* n*k, regression */
	float *weights;   /* n or NULL */
	uint8_t *label_mask; /* n or NULL: 0 = the sample has no label (its
	                        label term is 0); NULL = all labelled. A
	                        dataset with one does not grow (append) */

	/* Growth (lupi_dataset_append, dataset.c). Every per-row array above
	 * starts `head` rows into its allocation (rows evicted but not yet
	 * moved out) and has room for max(cap_rows, head + n) rows. Code that
	 * replaces an array calls lupi__dataset_compact first, which makes
	 * head 0 and cap_rows 0 (room for n rows). */
	size_t head, cap_rows;
	size_t capacity;  /* 0: unbounded; else at most this many rows, the
	                     oldest evicted first */
	uint64_t evicted; /* rows evicted since creation (row generation) */
	size_t n_grow;    /* reallocations by append (tests count them) */
	size_t n_moved;   /* rows moved to the front by append (tests) */
};

/* Sample i's class label, or -1 when the label mask says it has none. */
static inline int32_t lupi__dataset_label(const lupi_dataset *ds, size_t i)
{
	return ds->label_mask != NULL && ds->label_mask[i] == 0
		       ? -1
		       : ds->labels[i];
}

/* Bound on classes K and regression outputs m. */
#define LUPI__MAX_CLASSES 1048576u

/* A fresh process-unique dataset id. */
uint64_t lupi__dataset_new_id(void);

/* 1 when sample i has X* (always 0 without X*). */
static inline int lupi__dataset_has_priv(const lupi_dataset *ds, size_t i)
{
	return ds->x_priv != NULL && (ds->mask == NULL || ds->mask[i] != 0);
}

/* ---- views (view.c): the columns a model or a statistic sees ---------- */

/* 1 for LUPI_VIEW_REGULAR, PRIVILEGED and BOTH. */
int lupi__view_valid(int view);
/* 1 when the view reads X* (PRIVILEGED, BOTH). */
int lupi__view_needs_priv(int view);
/* "regular", "privileged", "both" (the model option's value names), or
 * "unknown": for messages, which name views rather than number them. */
const char *lupi__view_name(int view);
/* Width of a view (0 when the view is unknown or its X* absent). */
size_t lupi__dataset_view_dim(const lupi_dataset *ds, int view);
/* 1 when sample i has every feature of the view: always for REGULAR, only
 * with its X* present for PRIVILEGED and BOTH. */
int lupi__view_has(const lupi_dataset *ds, int view, size_t i);
/* dst = (src - mean) * inv_std over len values, or a plain copy when mean
 * is NULL: how a model standardises its inputs. */
void lupi__standardize_copy(float *restrict dst, const float *restrict src,
			    const float *mean, const float *inv_std,
			    size_t len);
/* Sample i's row in a view into dst (view dim floats), not checking that
 * the sample has the view: raw, or standardised as
 * dst[j] = (x[j] - mean[j]) * inv_std[j] when mean is not NULL. */
void lupi__view_row_std(const lupi_dataset *ds, int view, size_t i,
			const float *mean, const float *inv_std, float *dst);
void lupi__view_row(const lupi_dataset *ds, int view, size_t i, float *dst);
/* Asks the CPU to start loading sample i's row in a view (no effect on
 * results): a batch gathered from shuffled rows waits on memory otherwise,
 * one row at a time. */
void lupi__view_prefetch(const lupi_dataset *ds, int view, size_t i);
/* The raw row of sample i, or 0 (dst untouched) when the sample does not
 * have the view or the view is unknown. */
int lupi__dataset_row(const lupi_dataset *ds, int view, size_t i, float *row);
/* Per-feature mean and population standard deviation of a view over the
 * samples that have it (for BOTH: the samples with X*, also for the X
 * columns), two passes in double; a constant feature, or one whose std is
 * not finite, gets std 1. mean and std hold view dim values. Returns the
 * number of samples used; with 0 mean and std are left unchanged. */
size_t lupi__view_stats(const lupi_dataset *ds, int view, double *mean,
			double *std);

/* ---- loaders (reader.c, csv.c, libsvm.c, idx.c) --------------- */

/* Bound on the dense features a LIBSVM or IDX file may expand to. */
#define LUPI__MAX_DENSE_BYTES ((size_t)1 << 30)
/* Bound on a LIBSVM feature index. */
#define LUPI__MAX_INDEX ((size_t)1 << 24)

/* One set_role / set_role_name call; name != NULL for the by-name kind.
 * Calls apply in order, so later ones override earlier ones. */
struct lupi__role {
	size_t first, last; /* 1-based inclusive */
	char *name;
	int role;
};

/* The option fields are read and written through lupi__reader_options. */
struct lupi_reader {
	int header, delimiter, task, classes, allow_nonfinite, idx_pool,
		idx_scale;
	uint64_t max_rows;
	struct lupi__role *roles;
	size_t n_roles, cap_roles;
};

/* The option table of a reader (reader.c). */
extern const lupi__option_table lupi__reader_options;

/* r, or, when r is NULL, scratch filled with the table's defaults (and no
 * roles). */
const lupi_reader *lupi__reader_or_default(const lupi_reader *r,
					   lupi_reader *scratch);

/* A growable array of elem-byte elements. */
typedef struct lupi__vec {
	unsigned char *p;
	size_t len, cap, elem;
} lupi__vec;

/* Room for `count` more elements at the end (len grows by count); returns
 * a pointer to them or NULL (and the vector unchanged) on failure. */
void *lupi__vec_push(lupi__vec *v, size_t count);

/* What a text loader collects, row by row, before it becomes a dataset. */
typedef struct lupi__table {
	size_t n, d, d_priv, m; /* m: targets per row for regression */
	int task;               /* LUPI_TASK_* */
	size_t k;               /* classes, 0 = max label + 1 */
	int has_priv, has_weights;
	int32_t max_label;
	lupi__vec x, x_priv, mask, labels, targets, weights;
} lupi__table;

void lupi__table_init(lupi__table *t, const lupi_reader *r);
void lupi__table_free(lupi__table *t);
/* Moves the table's arrays into a new dataset (the table is left empty). */
int lupi__table_finish(lupi__table *t, const char *path, lupi_dataset **out);

/* Text loaders parse numbers in the "C" locale whatever the host set with
 * setlocale(), so "1.5" means the same everywhere. Enter switches the
 * calling thread (when newlocale fails it stays, and leave is a no-op);
 * leave restores the thread's previous locale. */
typedef struct lupi__c_numeric {
	void *c, *old; /* locale_t, kept opaque here */
} lupi__c_numeric;
void lupi__c_numeric_enter(lupi__c_numeric *s);
void lupi__c_numeric_leave(lupi__c_numeric *s);

/* Parses a number at s (strtod, C syntax incl. nan/inf); *end is set past
 * it. Returns 0 when no number starts at s. */
int lupi__parse_double(const char *s, const char **end, double *v);

/* Checks a parsed label against task and classes: binary accepts 0/1 (and
 * -1/+1 when pm1), classification integers in [0, K). Sets *label or the
 * message "label ... " (without location) and returns the error code. */
int lupi__check_label(const lupi__table *t, double v, int pm1, int32_t *label);

/* Moves the rows of a grown dataset to the start of their allocations
 * (head 0, cap_rows 0), so that an array can be freed and replaced by one
 * of n rows. Never fails. */
void lupi__dataset_compact(lupi_dataset *ds);

/* An empty dataset with a fresh id; NULL when out of memory. */
lupi_dataset *lupi__dataset_alloc(void);
/* Given x_priv and a full n-byte mask (taken over), sets n_priv, zeroes
 * absent rows and drops the mask when every row is present. */
void lupi__dataset_settle_mask(lupi_dataset *ds, uint8_t *mask);

#endif
