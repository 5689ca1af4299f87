/* Views of a dataset: which columns a model sees (X, X* or [X, X*]), which
 * samples have them, their rows raw or standardised, and their per-feature
 * statistics. The dataset, the model and the trainers all ask here. */
#include <math.h>
#include <string.h>

#include "data_internal.h"

int lupi__view_valid(int view)
{
	return view == LUPI_VIEW_REGULAR || view == LUPI_VIEW_PRIVILEGED ||
	       view == LUPI_VIEW_BOTH;
}

int lupi__view_needs_priv(int view)
{
	return view == LUPI_VIEW_PRIVILEGED || view == LUPI_VIEW_BOTH;
}

const char *lupi__view_name(int view)
{
	switch (view) {
	case LUPI_VIEW_REGULAR:
		return "regular";
	case LUPI_VIEW_PRIVILEGED:
		return "privileged";
	case LUPI_VIEW_BOTH:
		return "both";
	default:
		return "unknown";
	}
}

size_t lupi__dataset_view_dim(const lupi_dataset *ds, int view)
{
	switch (view) {
	case LUPI_VIEW_REGULAR:
		return ds->d;
	case LUPI_VIEW_PRIVILEGED:
		return ds->x_priv != NULL ? ds->d_priv : 0;
	case LUPI_VIEW_BOTH:
		return ds->x_priv != NULL ? ds->d + ds->d_priv : 0;
	default:
		return 0;
	}
}

int lupi__view_has(const lupi_dataset *ds, int view, size_t i)
{
	return !lupi__view_needs_priv(view) || lupi__dataset_has_priv(ds, i);
}

/* Pointers to the (up to two) segments of sample i's row in a view; an
 * unknown view reads as REGULAR (callers check views first). */
static size_t row_segments(const lupi_dataset *ds, int view, size_t i,
			   const float *seg[2], size_t len[2])
{
	switch (view) {
	case LUPI_VIEW_PRIVILEGED:
		seg[0] = ds->x_priv + i * ds->d_priv;
		len[0] = ds->d_priv;
		return 1;
	case LUPI_VIEW_BOTH:
		seg[0] = ds->x + i * ds->d;
		len[0] = ds->d;
		seg[1] = ds->x_priv + i * ds->d_priv;
		len[1] = ds->d_priv;
		return 2;
	default:
		seg[0] = ds->x + i * ds->d;
		len[0] = ds->d;
		return 1;
	}
}

void lupi__standardize_copy(float *restrict dst, const float *restrict src,
			    const float *mean, const float *inv_std,
			    size_t len)
{
	if (mean == NULL) {
		memcpy(dst, src, len * sizeof *dst);
		return;
	}
	for (size_t j = 0; j < len; j++)
		dst[j] = (src[j] - mean[j]) * inv_std[j];
}

void lupi__view_row_std(const lupi_dataset *ds, int view, size_t i,
			const float *mean, const float *inv_std, float *dst)
{
	const float *seg[2];
	size_t len[2], off = 0;
	size_t ns = row_segments(ds, view, i, seg, len);
	for (size_t s = 0; s < ns; off += len[s], s++)
		lupi__standardize_copy(dst + off, seg[s],
				       mean ? mean + off : NULL,
				       mean ? inv_std + off : NULL, len[s]);
}

void lupi__view_prefetch(const lupi_dataset *ds, int view, size_t i)
{
#if defined(__GNUC__)
	const float *seg[2];
	size_t len[2];
	size_t ns = row_segments(ds, view, i, seg, len);
	for (size_t s = 0; s < ns; s++) {
		const char *p = (const char *)seg[s];
		size_t bytes = len[s] * sizeof(float);
		for (size_t b = 0; b < bytes; b += 64)
			__builtin_prefetch(p + b, 0, 0);
		__builtin_prefetch(p + bytes - 1, 0, 0);
	}
#else
	(void)ds, (void)view, (void)i;
#endif
}

void lupi__view_row(const lupi_dataset *ds, int view, size_t i, float *dst)
{
	lupi__view_row_std(ds, view, i, NULL, NULL, dst);
}

int lupi__dataset_row(const lupi_dataset *ds, int view, size_t i, float *row)
{
	if (!lupi__view_valid(view) || lupi__dataset_view_dim(ds, view) == 0 ||
	    !lupi__view_has(ds, view, i))
		return 0;
	lupi__view_row(ds, view, i, row);
	return 1;
}

/* One pass over the samples that have the view: acc += x, or
 * acc += (x - mu)^2 when mu is not NULL. Returns the samples seen. */
static size_t stats_pass(const lupi_dataset *ds, int view, const double *mu,
			 double *acc)
{
	size_t cnt = 0;
	for (size_t i = 0; i < ds->n; i++) {
		if (!lupi__view_has(ds, view, i))
			continue;
		const float *seg[2];
		size_t len[2], off = 0;
		size_t ns = row_segments(ds, view, i, seg, len);
		for (size_t s = 0; s < ns; off += len[s], s++)
			for (size_t j = 0; j < len[s]; j++) {
				double e = seg[s][j] - (mu ? mu[off + j] : 0.0);
				acc[off + j] += mu ? e * e : e;
			}
		cnt++;
	}
	return cnt;
}

/* Two passes (mean, then squared deviations) rather than one sum of
 * squares: exact for constant features and stable for data far from the
 * origin. */
size_t lupi__view_stats(const lupi_dataset *ds, int view, double *mean,
			double *std)
{
	size_t dim = lupi__dataset_view_dim(ds, view);
	size_t cnt = 0;
	for (size_t i = 0; dim > 0 && i < ds->n && cnt == 0; i++)
		cnt = (size_t)lupi__view_has(ds, view, i);
	if (cnt == 0)
		return 0;
	memset(mean, 0, dim * sizeof *mean);
	memset(std, 0, dim * sizeof *std);
	cnt = stats_pass(ds, view, NULL, mean);
	for (size_t j = 0; j < dim; j++)
		mean[j] /= (double)cnt;
	stats_pass(ds, view, mean, std);
	for (size_t j = 0; j < dim; j++) {
		double sd = sqrt(std[j] / (double)cnt);
		std[j] = sd > 0.0 && isfinite(sd) ? sd : 1.0;
	}
	return cnt;
}
