/* Membership inference, to audit what a model reveals about its training
 * set: the loss-threshold attack (Yeom et al. 2018, "Privacy Risk in
 * Machine Learning"), offline LiRA (Carlini et al. 2022, "Membership
 * Inference Attacks From First Principles", section VI-C) and the ROC
 * summaries that paper recommends: AUC and the true-positive rate at a low
 * false-positive rate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "privacy_internal.h"

/* Logits of m on every sample of ds into a new *out (rows x outputs),
 * which the caller frees, also after an error. */
static int logits_of(const lupi_model *m, const lupi_dataset *ds,
		     float **out)
{
	size_t n = lupi_dataset_rows(ds), k = m->n_out;
	*out = lupi__malloc_array(n, k * sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu x %zu "
				 "outputs", n, k);
	if (lupi_dataset_task(ds) != m->task)
		return lupi__err(LUPI_ESTATE, "the dataset has no targets of "
				 "the model's task");
	k = m->task == LUPI_TASK_BINARY ? 2 : m->n_out;
	if (lupi_dataset_outputs(ds) != k)
		return lupi__err(LUPI_ESHAPE, "the dataset has %zu outputs, "
				 "the model %zu", lupi_dataset_outputs(ds), k);
	return lupi__privacy_logits(m, ds, *out);
}

/* log sum_{c != skip} exp l_c (skip may be k: none skipped). */
static double lse_without(const float *l, size_t k, size_t skip)
{
	double mx = -INFINITY, s = 0.0;
	for (size_t c = 0; c < k; c++)
		if (c != skip && l[c] > mx)
			mx = l[c];
	for (size_t c = 0; c < k; c++)
		if (c != skip)
			s += exp((double)l[c] - mx);
	return mx + log(s);
}

/* log(1 + e^z) without overflow. */
static double softplus(double z)
{
	return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
}

int lupi__sample_losses(const lupi_model *m, const lupi_dataset *ds,
			double *loss)
{
	size_t n = lupi_dataset_rows(ds), k = m->n_out;
	float *l;
	int rc = logits_of(m, ds, &l);
	const int32_t *y = lupi_dataset_labels(ds);
	const float *t = lupi_dataset_targets(ds);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		const float *li = l + i * k;
		if (m->task == LUPI_TASK_CLASSIFICATION) {
			loss[i] = lse_without(li, k, k) - li[y[i]];
		} else if (m->task == LUPI_TASK_BINARY) {
			loss[i] = softplus(li[0]) - (y[i] ? li[0] : 0.0);
		} else {
			double s = 0.0;
			for (size_t c = 0; c < k; c++) {
				double e = (double)li[c] - t[i * k + c];
				s += e * e;
			}
			loss[i] = 0.5 * s;
		}
	}
	lupi__free(l);
	return rc;
}

int lupi_mia_loss_scores(const lupi_model *m, const lupi_dataset *ds,
			 double *scores)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(scores);
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model has no weights");
	LUPI__TRY(lupi__sample_losses(m, ds, scores));
	for (size_t i = 0; i < lupi_dataset_rows(ds); i++)
		scores[i] = -scores[i];
	return LUPI_OK;
}

/* The logit-scaled confidence log(p_y / (1 - p_y)) of each sample (LiRA's
 * statistic, Carlini et al. 2022 section IV-C) under m. */
static int confidences(const lupi_model *m, const lupi_dataset *ds,
		       double *phi)
{
	size_t n = lupi_dataset_rows(ds), k = m->n_out;
	float *l;
	int rc = logits_of(m, ds, &l);
	const int32_t *y = lupi_dataset_labels(ds);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		const float *li = l + i * k;
		if (m->task == LUPI_TASK_BINARY)
			phi[i] = y[i] ? li[0] : -li[0];
		else
			phi[i] = li[y[i]] - lse_without(li, k, (size_t)y[i]);
	}
	lupi__free(l);
	return rc;
}

/* Trains shadow s on a random half of reference and adds its confidences
 * on queries into sum and sum2. */
static int one_shadow(const lupi_model *proto, const lupi_dataset *reference,
		      uint64_t seed, const lupi_dataset *queries, double *phi,
		      double *sum, double *sum2, lupi__run *run)
{
	size_t n = lupi_dataset_rows(reference), nq = lupi_dataset_rows(queries);
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	if (idx == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	lupi__rng_shuffle(&r, idx, n);
	lupi_dataset *half = NULL;
	lupi_model *sh = NULL;
	int rc = lupi_dataset_subset(reference, idx, n / 2, &half);
	lupi__free(idx);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(proto, &sh);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(sh, LUPI_MODEL_OPT_SEED, (int64_t)seed);
	if (rc == LUPI_OK)
		rc = lupi_model_init(sh);
	if (rc == LUPI_OK)
		rc = lupi_model_fit(sh, half, NULL, lupi__run_progress, run);
	lupi__run_next(run, proto->opt.epochs);
	if (rc == LUPI_OK)
		rc = confidences(sh, queries, phi);
	for (size_t i = 0; rc == LUPI_OK && i < nq; i++) {
		sum[i] += phi[i];
		sum2[i] += phi[i] * phi[i];
	}
	lupi_model_free(sh);
	lupi_dataset_free(half);
	return rc;
}

int lupi_mia_lira_offline(const lupi_model *target, const lupi_model *proto,
			  const lupi_dataset *reference, unsigned shadows,
			  uint64_t seed, const lupi_dataset *queries,
			  double *scores, lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(target);
	LUPI__CHECK_NULL(proto);
	LUPI__CHECK_NULL(reference);
	LUPI__CHECK_NULL(queries);
	LUPI__CHECK_NULL(scores);
	if (shadows < 2)
		return lupi__err(LUPI_ERANGE, "%u shadow models: at least 2",
				 shadows);
	if (lupi_dataset_rows(reference) < 2)
		return lupi__err(LUPI_ERANGE, "the reference set needs at "
				 "least 2 samples");
	if (target->task == LUPI_TASK_REGRESSION ||
	    proto->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "LiRA needs class labels");
	if (!target->initialized)
		return lupi__err(LUPI_ESTATE, "the target model has no "
				 "weights");
	size_t nq = lupi_dataset_rows(queries);
	double *phi = lupi__malloc_array(nq, 3 * sizeof *phi);
	if (phi == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu statistics",
				 nq);
	double *sum = phi + nq, *sum2 = phi + 2 * nq;
	memset(sum, 0, 2 * nq * sizeof *sum);
	int rc = LUPI_OK;
	lupi__run run = {.fn = progress, .user = user,
			 .total = shadows * (unsigned)proto->opt.epochs};
	for (unsigned s = 0; rc == LUPI_OK && s < shadows; s++)
		rc = one_shadow(proto, reference, seed + s, queries, phi, sum,
				sum2, &run);
	if (rc == LUPI_OK)
		rc = confidences(target, queries, phi);
	for (size_t i = 0; rc == LUPI_OK && i < nq; i++) {
		double mu = sum[i] / shadows;
		double var = sum2[i] / shadows - mu * mu;
		/* a floor on the spread: identical shadows must not give
		 * infinite scores */
		double sd = sqrt(var > 1e-6 ? var : 1e-6);
		scores[i] = (phi[i] - mu) / sd;
	}
	lupi__free(phi);
	return rc;
}

/* ---- ROC ---------------------------------------------------------------- */

typedef struct scored {
	double s;
	int member;
} scored;

static int by_score_desc(const void *a, const void *b)
{
	double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
	return (x < y) - (x > y);
}

int lupi_mia_roc(const double *in_scores, size_t n_in,
		 const double *out_scores, size_t n_out, double *auc,
		 double *tpr_at_0_1pct, double *tpr_at_1pct)
{
	LUPI__CHECK_NULL(in_scores);
	LUPI__CHECK_NULL(out_scores);
	if (n_in == 0 || n_out == 0)
		return lupi__err(LUPI_EINVAL, "%zu member and %zu non-member "
				 "scores: need both", n_in, n_out);
	size_t n = n_in + n_out;
	if (n < n_in)
		return lupi__err(LUPI_ENOMEM, "too many scores");
	scored *v = lupi__malloc_array(n, sizeof *v);
	if (v == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu scores", n);
	for (size_t i = 0; i < n; i++) {
		v[i].member = i < n_in;
		v[i].s = i < n_in ? in_scores[i] : out_scores[i - n_in];
		if (isnan(v[i].s)) {
			lupi__free(v);
			return lupi__err(LUPI_ENONFINITE, "%s score %zu is NaN",
					 i < n_in ? "member" : "non-member",
					 i < n_in ? i : i - n_in);
		}
	}
	qsort(v, n, sizeof *v, by_score_desc);
	/* sweep thresholds from the top, one group of tied scores at a
	 * time: AUC = P(member scores higher) + P(tie) / 2 */
	double tp = 0, fp = 0, area = 0, t01 = 0, t1 = 0;
	for (size_t i = 0; i < n;) {
		double gtp = 0, gfp = 0;
		size_t j = i;
		for (; j < n && v[j].s == v[i].s; j++) {
			gtp += v[j].member;
			gfp += !v[j].member;
		}
		area += gfp * (tp + gtp / 2.0);
		tp += gtp;
		fp += gfp;
		if (fp <= 0.001 * (double)n_out)
			t01 = tp / (double)n_in;
		if (fp <= 0.01 * (double)n_out)
			t1 = tp / (double)n_in;
		i = j;
	}
	lupi__free(v);
	if (auc)
		*auc = area / ((double)n_in * (double)n_out);
	if (tpr_at_0_1pct)
		*tpr_at_0_1pct = t01;
	if (tpr_at_1pct)
		*tpr_at_1pct = t1;
	return LUPI_OK;
}

/* ---- non-private and private models side by side ------------------------ */

/* One row of lupi_privacy_evaluate. */
static int evaluate_one(const lupi_model *m, const lupi_dataset *members,
			const lupi_dataset *non_members,
			const lupi_dataset *test, double *row)
{
	int metric = m->task == LUPI_TASK_REGRESSION ? LUPI_METRIC_MSE :
						       LUPI_METRIC_ACCURACY;
	if (test)
		LUPI__TRY(lupi_model_evaluate(m, test, metric,
					      &row[LUPI_PRIVACY_EVAL_TEST]));
	LUPI__TRY(lupi_model_evaluate(m, members, metric,
				      &row[LUPI_PRIVACY_EVAL_MEMBERS]));
	/* the privacy record: none is a non-private model, (inf, 0) */
	const lupi__privacy *p = &m->privacy;
	row[LUPI_PRIVACY_EVAL_EPSILON] =
		p->has && lupi__model_privacy_accounted(m) ? p->epsilon :
							     INFINITY;
	row[LUPI_PRIVACY_EVAL_DELTA] = p->has ? p->delta : 0.0;
	size_t ni = lupi_dataset_rows(members);
	size_t no = lupi_dataset_rows(non_members);
	double *a = lupi__malloc_array(ni, sizeof *a);
	double *b = lupi__malloc_array(no, sizeof *b);
	int rc = a && b ? LUPI_OK :
			  lupi__err(LUPI_ENOMEM, "cannot allocate %zu + %zu "
				    "scores", ni, no);
	if (rc == LUPI_OK)
		rc = lupi_mia_loss_scores(m, members, a);
	if (rc == LUPI_OK)
		rc = lupi_mia_loss_scores(m, non_members, b);
	if (rc == LUPI_OK)
		rc = lupi_mia_roc(a, ni, b, no, &row[LUPI_PRIVACY_EVAL_AUC],
				  &row[LUPI_PRIVACY_EVAL_TPR_0_1],
				  &row[LUPI_PRIVACY_EVAL_TPR_1]);
	lupi__free(a);
	lupi__free(b);
	return rc;
}

int lupi_privacy_evaluate(const lupi_model **models, size_t n_models,
			  const lupi_dataset *members,
			  const lupi_dataset *non_members,
			  const lupi_dataset *test, double *table)
{
	LUPI__CHECK_NULL(models);
	LUPI__CHECK_NULL(members);
	LUPI__CHECK_NULL(non_members);
	LUPI__CHECK_NULL(table);
	if (n_models == 0)
		return lupi__err(LUPI_EINVAL, "no model to evaluate");
	LUPI__TRY(lupi__check_host_array(n_models, LUPI_PRIVACY_EVAL_COLS,
					 sizeof *table, "table"));
	if (lupi_dataset_rows(members) == 0 ||
	    lupi_dataset_rows(non_members) == 0)
		return lupi__err(LUPI_EINVAL, "%zu members and %zu "
				 "non-members: need both",
				 lupi_dataset_rows(members),
				 lupi_dataset_rows(non_members));
	for (size_t i = 0; i < n_models * LUPI_PRIVACY_EVAL_COLS; i++)
		table[i] = NAN;
	for (size_t i = 0; i < n_models; i++) {
		if (models[i] == NULL)
			return lupi__err(LUPI_EINVAL, "models[%zu] is NULL", i);
		if (!models[i]->initialized)
			return lupi__err(LUPI_ESTATE, "models[%zu] has no "
					 "weights", i);
	}
	for (size_t i = 0; i < n_models; i++) {
		int rc = evaluate_one(models[i], members, non_members, test,
				      table + i * LUPI_PRIVACY_EVAL_COLS);
		if (rc < 0) {
			size_t cells = n_models * LUPI_PRIVACY_EVAL_COLS;
			for (size_t j = 0; j < cells; j++)
				table[j] = NAN;
			return rc;
		}
	}
	return LUPI_OK;
}
