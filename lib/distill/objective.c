/* The label loss of each task, as a weighted mean over samples. A label of
 * -1 marks a sample without one: it is left out of the mean. */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

/* Softmax cross-entropy of one sample: lse(s) - s_y; gradient p - e_y
 * times wi. One exponential per output: the shifted exponentials wait in g
 * (as floats, the precision of the gradient) until their sum is known. */
static double ce_row(const float *restrict s, size_t k, int32_t y, double wi,
		     float *restrict g)
{
	float mx = s[0];
	for (size_t j = 1; j < k; j++)
		mx = s[j] > mx ? s[j] : mx;
	double sum = 0.0, ey = 0.0;
	for (size_t j = 0; j < k; j++) {
		double e = exp((double)s[j] - mx);
		if (g)
			g[j] = (float)e;
		if (j == (size_t)y)
			ey = e;
		sum += e;
	}
	if (g) {
		double a = wi / sum;
		for (size_t j = 0; j < k; j++)
			g[j] = (float)(a * g[j]);
		g[y] = (float)(wi * (ey / sum - 1.0));
	}
	/* a NaN or +infinity among s (or s_y = -infinity) makes the value
	 * non-finite, which the callers report */
	return (double)mx + log(sum) - s[y];
}

/* Binary cross-entropy on a logit z: softplus(z) - y z, written as
 * max(z, 0) - y z + log1p(exp(-|z|)) so that it never overflows; gradient
 * sigmoid(z) - y times wi. */
static double bce_row(float zf, int32_t y, double wi, float *g)
{
	double z = zf;
	double l = (z > 0.0 ? z : 0.0) - y * z + log1p(exp(-fabs(z)));
	if (g) {
		double e = exp(-fabs(z)); /* sigmoid without overflow */
		double sig = z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
		*g = (float)(wi * (sig - y));
	}
	return l;
}

/* 1/2 |s - t|^2; gradient (s - t) times wi. */
static double se_row(const float *s, const float *t, size_t k, double wi,
		     float *g)
{
	double l = 0.0;
	for (size_t j = 0; j < k; j++) {
		double e = (double)s[j] - t[j];
		l += e * e;
		if (g)
			g[j] = (float)(wi * e);
	}
	return 0.5 * l;
}

static int check_args(int task, size_t n, size_t k, const float *s,
		      const int32_t *labels, const float *targets)
{
	if (s == NULL)
		return lupi__err(LUPI_EINVAL, "outputs are NULL");
	if (n == 0 || k == 0)
		return lupi__err(LUPI_EINVAL, "%zu samples of %zu outputs", n,
				 k);
	if (task == LUPI_TASK_REGRESSION) {
		if (targets == NULL)
			return lupi__err(LUPI_EINVAL, "targets are NULL");
		return LUPI_OK;
	}
	if (task != LUPI_TASK_CLASSIFICATION && task != LUPI_TASK_BINARY)
		return lupi__err(LUPI_EINVAL, "unknown task %d", task);
	if (labels == NULL)
		return lupi__err(LUPI_EINVAL, "labels are NULL");
	if (task == LUPI_TASK_BINARY && k != 1)
		return lupi__err(LUPI_ESHAPE, "binary loss on %zu outputs", k);
	size_t classes = task == LUPI_TASK_BINARY ? 2 : k;
	for (size_t i = 0; i < n; i++)
		if (labels[i] != -1 &&
		    (labels[i] < 0 || (size_t)labels[i] >= classes))
			return lupi__err(LUPI_ERANGE,
					 "label of sample %zu is %d, outside "
					 "[0, %zu)", i, (int)labels[i],
					 classes);
	return LUPI_OK;
}

/* A class label of -1: the sample has no label (a dataset's label mask);
 * it has no share in the mean and a zero gradient. */
static int unlabelled(int task, const int32_t *labels, size_t i)
{
	return task != LUPI_TASK_REGRESSION && labels[i] == -1;
}

int lupi__objective_hard(int task, size_t n, size_t k, const float *s,
			 const int32_t *labels, const float *targets,
			 const float *weights, double *value, float *grad)
{
	LUPI__CHECK_NULL(value);
	LUPI__TRY(check_args(task, n, k, s, labels, targets));
	double wsum = 0.0;
	for (size_t i = 0; i < n; i++)
		wsum += unlabelled(task, labels, i) ? 0.0
			: weights ? weights[i] : 1.0;
	/* All weights zero: an empty mean, loss 0 and no gradient. */
	double inv = wsum > 0.0 ? 1.0 / wsum : 0.0;
	double total = 0.0;
	for (size_t i = 0; i < n; i++) {
		double w = weights ? weights[i] : 1.0;
		const float *si = s + i * k;
		float *gi = grad ? grad + i * k : NULL;
		double l;
		if (unlabelled(task, labels, i)) {
			if (gi)
				memset(gi, 0, k * sizeof *gi);
			continue;
		}
		if (task == LUPI_TASK_CLASSIFICATION)
			l = ce_row(si, k, labels[i], w * inv, gi);
		else if (task == LUPI_TASK_BINARY)
			l = bce_row(si[0], labels[i], w * inv, gi);
		else
			l = se_row(si, targets + i * k, k, w * inv, gi);
		/* skip zero weights so that a NaN output of an ignored sample
		 * does not poison the mean */
		if (w != 0.0)
			total += w * l;
	}
	*value = total * inv;
	return LUPI_OK;
}
