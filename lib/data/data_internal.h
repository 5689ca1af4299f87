/* Internal API of lib/data. Not installed. */
#ifndef LUPI_DATA_INTERNAL_H
#define LUPI_DATA_INTERNAL_H

#include "../core/core_internal.h"

struct lupi_dataset {
	uint64_t id;      /* unique per process, new for every created dataset,
	                     subset or split; caches are tied to it */
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
};

/* A fresh process-unique dataset id. */
uint64_t lupi__dataset_new_id(void);

/* 1 when sample i has X* (always 0 without X*). */
static inline int lupi__dataset_has_priv(const lupi_dataset *ds, size_t i)
{
	return ds->x_priv != NULL && (ds->mask == NULL || ds->mask[i] != 0);
}

/* Width of a view (0 when the view is absent). */
size_t lupi__dataset_view_dim(const lupi_dataset *ds, int view);

/* Copies the features of sample i in `view` into row (view_dim floats).
 * Returns 0 when the sample has no X* and the view needs it. */
int lupi__dataset_row(const lupi_dataset *ds, int view, size_t i, float *row);

#endif
