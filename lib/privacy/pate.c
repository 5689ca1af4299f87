/* PATE: private aggregation of teacher ensembles (Papernot et al. 2017,
 * "Semi-supervised Knowledge Transfer for Deep Learning from Private
 * Training Data"; Papernot et al. 2018, "Scalable Private Learning with
 * PATE").
 *
 * k teachers are trained on disjoint shards of the private set, so adding
 * or removing one private sample changes one teacher, hence one vote: the
 * vote histogram moves by at most 1 in two classes (L1 2, L2 sqrt 2), and
 * its largest count by at most 1. The noisy aggregations and their
 * data-independent RDP follow from that (lupi__pate_rdp). The shards are
 * lib/train's cross-fitting folds (lupi__crossfit_folds); the shard
 * helpers here are shared with SISA (unlearn.c). */
#include <math.h>
#include <string.h>

#include "privacy_internal.h"

/* ---- shards, shared with SISA ------------------------------------------- */

int lupi__run_progress(void *user, const lupi_progress *p)
{
	lupi__run *r = user;
	if (p->epoch_end && r->steps)
		*r->steps += p->steps_per_epoch;
	if (r->fn == NULL)
		return 0;
	lupi_progress q = *p;
	q.size = sizeof q;
	q.epoch = r->done + p->epoch;
	q.epochs = r->total > q.epoch ? r->total : q.epoch;
	return r->fn(r->user, &q);
}

void lupi__run_next(lupi__run *r, int64_t epochs)
{
	r->done += epochs > 0 ? (unsigned)epochs : 0;
}

int lupi__run_step(lupi__run *r, size_t step, size_t of, double loss)
{
	if (r->fn == NULL)
		return LUPI_OK;
	lupi_progress q = {.size = sizeof q, .epoch = r->done + 1,
			   .epochs = r->total > r->done ? r->total :
							  r->done + 1,
			   .step = step, .steps_per_epoch = of, .loss = loss,
			   .valid_metric = NAN, .epoch_end = step == of};
	if (r->fn(r->user, &q))
		return lupi__err(LUPI_ECANCELLED, "cancelled by the progress "
				 "callback in epoch %u of %u", q.epoch,
				 q.epochs);
	return LUPI_OK;
}

int lupi__privacy_train_shard(const lupi_model *proto, const lupi_dataset *ds,
			      const size_t *shard_of, size_t shard,
			      uint64_t seed, lupi_model **out, lupi__run *run)
{
	*out = NULL;
	size_t n = lupi_dataset_rows(ds), m = 0;
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	if (idx == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices", n);
	for (size_t i = 0; i < n; i++)
		if (shard_of[i] == shard)
			idx[m++] = i;
	lupi_dataset *sub = NULL;
	lupi_model *c = NULL;
	int rc = m == 0 ? lupi__err(LUPI_ERANGE, "shard %u is empty",
				    (unsigned)shard) :
			  lupi_dataset_subset(ds, idx, m, &sub);
	lupi__free(idx);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(proto, &c);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(c, LUPI_MODEL_OPT_SEED, (int64_t)seed);
	if (rc == LUPI_OK)
		rc = lupi_model_init(c);
	if (rc == LUPI_OK)
		rc = lupi_model_fit(c, sub, NULL, run ? lupi__run_progress :
						       NULL, run);
	if (run)
		lupi__run_next(run, proto->opt.epochs);
	lupi_dataset_free(sub);
	if (rc < 0) {
		lupi_model_free(c);
		return rc;
	}
	*out = c;
	return LUPI_OK;
}

int lupi__privacy_rows(const lupi_dataset *ds, int view, size_t n_in,
		       const float **rows, float **owned)
{
	*rows = NULL;
	*owned = NULL;
	size_t n = lupi_dataset_rows(ds);
	if (lupi_dataset_dim(ds, view) != n_in)
		return lupi__err(LUPI_ESHAPE, "the dataset's view has %zu "
				 "features, the model %zu inputs",
				 lupi_dataset_dim(ds, view), n_in);
	if (view != LUPI_VIEW_REGULAR &&
	    lupi_dataset_privileged_count(ds) != n)
		return lupi__err(LUPI_ESTATE, "the model reads X*, which %zu "
				 "of %zu samples lack",
				 n - lupi_dataset_privileged_count(ds), n);
	if (view != LUPI_VIEW_BOTH) {
		*rows = lupi_dataset_features(ds, view);
		return LUPI_OK;
	}
	size_t d = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR);
	size_t dp = lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
	float *b = lupi__malloc_array(n, (d + dp) * sizeof *b);
	if (b == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu x %zu rows",
				 n, d + dp);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *xp = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	for (size_t i = 0; i < n; i++) {
		memcpy(b + i * (d + dp), x + i * d, d * sizeof *b);
		memcpy(b + i * (d + dp) + d, xp + i * dp, dp * sizeof *b);
	}
	*rows = b;
	*owned = b;
	return LUPI_OK;
}

int lupi__privacy_logits(const lupi_model *m, const lupi_dataset *ds,
			 float *out)
{
	const float *rows;
	float *owned;
	LUPI__TRY(lupi__privacy_rows(ds, m->opt.view, m->n_in, &rows,
				     &owned));
	int rc = lupi_model_predict(m, rows, lupi_dataset_rows(ds), m->n_in,
				    LUPI_PREDICT_LOGITS, out);
	lupi__free(owned);
	return rc;
}

/* ---- teachers and votes ------------------------------------------------- */

int lupi__privacy_check_proto(const lupi_model *proto, const lupi_dataset *ds)
{
	if (proto->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "a regression model cannot "
				 "vote: PATE and SISA need classes");
	if (proto->t > 0)
		return lupi__err(LUPI_ESTATE, "the prototype is already "
				 "trained; pass an untrained model");
	if (lupi_dataset_task(ds) != proto->task)
		return lupi__err(LUPI_ESTATE, "the dataset has no labels of "
				 "the model's task");
	return LUPI_OK;
}

int lupi_pate_teachers(const lupi_model *proto, const lupi_dataset *priv,
		       unsigned k, uint64_t seed, lupi_teacher **out,
		       lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(proto);
	LUPI__CHECK_NULL(priv);
	size_t n = lupi_dataset_rows(priv);
	if (k < 2 || k > n)
		return lupi__err(LUPI_ERANGE, "k = %u teachers for %zu "
				 "samples: it must be in [2, %zu]", k, n, n);
	LUPI__TRY(lupi__privacy_check_proto(proto, priv));
	size_t *shard_of = lupi__malloc_array(n, sizeof *shard_of);
	if (shard_of == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu shards", n);
	lupi_teacher *t = NULL;
	lupi__run run = {.fn = progress, .user = user,
			 .total = k * (unsigned)proto->opt.epochs};
	int rc = lupi__crossfit_folds(priv, LUPI_VIEW_REGULAR, k, seed,
				      shard_of);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	for (unsigned s = 0; rc == LUPI_OK && s < k; s++) {
		lupi_model *m = NULL;
		rc = lupi__privacy_train_shard(proto, priv, shard_of, s,
					       seed + s, &m, &run);
		if (rc == LUPI_OK)
			rc = lupi_teacher_add_model(t, m, 1.0);
		lupi_model_free(m);
	}
	lupi__free(shard_of);
	if (rc < 0) {
		lupi_teacher_free(t);
		return rc;
	}
	*out = t;
	return LUPI_OK;
}

int lupi_pate_votes(const lupi_teacher *t, const lupi_dataset *pub,
		    uint32_t *votes)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(pub);
	LUPI__CHECK_NULL(votes);
	if (t->n_members == 0)
		return lupi__err(LUPI_ESTATE, "the teacher has no member");
	if (t->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "a regression teacher cannot "
				 "vote");
	size_t n = lupi_dataset_rows(pub);
	size_t k = t->task == LUPI_TASK_BINARY ? 2 : t->k;
	int32_t *cls = lupi__malloc_array(n, sizeof *cls);
	if (cls == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu classes", n);
	memset(votes, 0, n * k * sizeof *votes);
	int rc = LUPI_OK;
	for (size_t j = 0; rc == LUPI_OK && j < t->n_members; j++) {
		const lupi_model *m = t->members[j].model;
		if (m == NULL) {
			rc = lupi__err(LUPI_ENOTSUP, "member %zu is %s; only "
				       "models vote", j,
				       t->members[j].reg != NULL
				       ? "a transfer member"
				       : "external outputs");
			break;
		}
		const float *rows;
		float *owned;
		rc = lupi__privacy_rows(pub, m->opt.view, m->n_in, &rows,
					&owned);
		if (rc == LUPI_OK)
			rc = lupi_model_predict_class(m, rows, n, m->n_in, cls);
		lupi__free(owned);
		for (size_t i = 0; rc == LUPI_OK && i < n; i++)
			votes[i * k + (size_t)cls[i]]++;
	}
	lupi__free(cls);
	return rc;
}

/* ---- aggregation -------------------------------------------------------- */

double lupi__dp_laplace(lupi__dp_rng *g, double b)
{
	/* inverse CDF on u uniform in (-1/2, 1/2), never exactly -1/2 */
	double u;
	do
		u = lupi__rng_uniform(&g->rng) - 0.5;
	while (u == -0.5);
	return u < 0 ? b * log1p(2.0 * u) : -b * log1p(-2.0 * u);
}

static int check_noise(int mechanism, double noise, double sigma1)
{
	if (mechanism < LUPI_PATE_LAPLACE || mechanism > LUPI_PATE_CONFIDENT)
		return lupi__err(LUPI_EINVAL, "unknown PATE mechanism %d",
				 mechanism);
	if (!(noise > 0.0) || !isfinite(noise))
		return lupi__err(LUPI_ERANGE, "noise = %g, it must be finite "
				 "and > 0", noise);
	if (mechanism == LUPI_PATE_CONFIDENT &&
	    (!(sigma1 > 0.0) || !isfinite(sigma1)))
		return lupi__err(LUPI_ERANGE, "sigma1 = %g, it must be finite "
				 "and > 0", sigma1);
	return LUPI_OK;
}

int lupi_pate_aggregate(const uint32_t *votes, size_t n, size_t k,
			int mechanism, double noise, double sigma1,
			double threshold, uint64_t seed, int32_t *labels,
			size_t *answered)
{
	LUPI__CHECK_NULL(votes);
	LUPI__CHECK_NULL(labels);
	if (n == 0 || k < 2)
		return lupi__err(LUPI_EINVAL, "n = %zu queries of k = %zu "
				 "classes: need n >= 1 and k >= 2", n, k);
	LUPI__TRY(lupi__check_host_array(n, k, sizeof *votes, "votes"));
	LUPI__TRY(lupi__check_host_array(n, 1, sizeof *labels, "labels"));
	LUPI__TRY(check_noise(mechanism, noise, sigma1));
	if (mechanism == LUPI_PATE_CONFIDENT && !isfinite(threshold))
		return lupi__err(LUPI_ERANGE, "threshold = %g, it must be "
				 "finite", threshold);
	lupi__dp_rng *g = lupi__malloc(sizeof *g);
	if (g == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a generator");
	int rc = lupi__dp_rng_init(g, seed);
	size_t a = 0;
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		const uint32_t *v = votes + i * k;
		labels[i] = -1;
		if (mechanism == LUPI_PATE_CONFIDENT) {
			uint32_t top = 0;
			for (size_t c = 0; c < k; c++)
				top = v[c] > top ? v[c] : top;
			if ((double)top + sigma1 * lupi__dp_normal(g) <
			    threshold)
				continue;
		}
		double best = -INFINITY;
		for (size_t c = 0; c < k; c++) {
			double z = mechanism == LUPI_PATE_LAPLACE ?
				lupi__dp_laplace(g, noise) :
				noise * lupi__dp_normal(g);
			if ((double)v[c] + z > best) {
				best = (double)v[c] + z;
				labels[i] = (int32_t)c;
			}
		}
		a++;
	}
	lupi__free(g);
	if (answered)
		*answered = rc == LUPI_OK ? a : 0;
	return rc;
}

/* ---- accounting --------------------------------------------------------- */

double lupi__pate_rdp(int mechanism, double noise, double alpha)
{
	if (mechanism == LUPI_PATE_LAPLACE) {
		/* pure eps-DP implies (alpha, eps)-RDP and, through
		 * eps^2/2-zCDP (Bun & Steinke 2016, Prop. 3.3), (alpha,
		 * alpha eps^2 / 2)-RDP */
		double eps = 2.0 / noise;
		double z = alpha * eps * eps / 2.0;
		return z < eps ? z : eps;
	}
	/* Papernot et al. 2018, Prop. 8: alpha / sigma^2, the Gaussian
	 * mechanism of sensitivity sqrt 2 (the accountant's q = 1 case) */
	return lupi__dp_rdp(1.0, noise / sqrt(2.0), alpha);
}

double lupi__pate_check_rdp(double sigma1, double alpha)
{
	/* the largest count has sensitivity 1 */
	return lupi__dp_rdp(1.0, sigma1, alpha);
}

int lupi_pate_epsilon(int mechanism, double noise, double sigma1,
		      uint64_t queries, uint64_t answered, double delta,
		      double *epsilon)
{
	LUPI__CHECK_NULL(epsilon);
	*epsilon = NAN;
	LUPI__TRY(check_noise(mechanism, noise, sigma1));
	if (!(delta > 0.0 && delta < 1.0))
		return lupi__err(LUPI_ERANGE, "delta = %g, it must be in "
				 "(0, 1)", delta);
	if (answered > queries)
		return lupi__err(LUPI_ERANGE, "%llu answered of %llu queries",
				 (unsigned long long)answered,
				 (unsigned long long)queries);
	if (mechanism != LUPI_PATE_CONFIDENT)
		answered = queries;
	double orders[256], best = INFINITY;
	size_t no = lupi__dp_orders(orders, sizeof orders / sizeof orders[0]);
	for (size_t i = 0; i < no; i++) {
		double a = orders[i];
		double rdp = (double)answered * lupi__pate_rdp(mechanism, noise,
							      a);
		if (mechanism == LUPI_PATE_CONFIDENT)
			rdp += (double)queries * lupi__pate_check_rdp(sigma1, a);
		double e = rdp - log(delta) / (a - 1.0);
		best = e < best ? e : best;
	}
	*epsilon = queries == 0 ? 0.0 : best;
	return LUPI_OK;
}

/* ---- data-dependent accounting (Papernot et al. 2018) ------------------- */

/* log(1 - e^x) for x <= 0. */
static double log1mexp(double x)
{
	if (x < -1.0)
		return log1p(-exp(x));
	return x < 0.0 ? log(-expm1(x)) : -INFINITY;
}

/* log P(N(0, s^2) > x), accurate far in both tails. */
static double log_sf(double x, double s)
{
	return log(0.5) + lupi__dp_log_erfc(x / (s * M_SQRT2));
}

double lupi__pate_logq(const uint32_t *v, size_t k, double sigma)
{
	size_t top = 0;
	for (size_t c = 1; c < k; c++)
		top = v[c] > v[top] ? c : top;
	/* Prop. 7: the outcome is not i* only if some N_c - N_i*, which is
	 * N(0, 2 sigma^2), exceeds the gap; the union bound over c */
	double lq = -INFINITY;
	for (size_t c = 0; c < k; c++)
		if (c != top)
			lq = lupi__log_add(lq, log_sf((double)v[top] - (double)v[c],
						M_SQRT2 * sigma));
	/* i* is the most likely outcome, so q <= 1 - 1/k */
	double cap = log1p(-1.0 / (double)k);
	return lq < cap ? lq : cap;
}

double lupi__pate_rdp_dd(double logq, double sigma, double alpha)
{
	double var = sigma * sigma, base = alpha / var;
	if (logq == -INFINITY)
		return 0.0; /* the outcome is fixed */
	/* Theorem 6 with the higher orders of Prop. 10: mu2 = sigma
	 * sqrt(log 1/q), mu1 = mu2 + 1, whose data-independent RDP is
	 * eps_i = mu_i / sigma^2 (Prop. 8). The bound holds for alpha <
	 * mu1, with mu2 > 1, and where it increases with q (so that an
	 * upper bound q~ gives an upper bound). */
	double mu2 = sqrt(var * -logq), mu1 = mu2 + 1.0;
	if (!(mu1 > alpha && mu2 > 1.0))
		return base;
	double e1 = mu1 / var, e2 = mu2 / var;
	double la2 = (mu2 - 1.0) * e2;
	if (!(logq <= la2 - mu2 * (log1p(1.0 / (mu1 - 1.0)) +
				   log1p(1.0 / (mu2 - 1.0))) &&
	      -logq > e2))
		return base;
	/* RDP <= log((1 - q) A^(alpha-1) + q B^(alpha-1)) / (alpha - 1),
	 * A = (1 - q) / (1 - (e^e2 q)^((mu2 - 1) / mu2)),
	 * B = e^e1 / q^(1 / (mu1 - 1)) */
	double l1q = log1mexp(logq);
	double la = (alpha - 1.0) *
		    (l1q - log1mexp((logq + e2) * (1.0 - 1.0 / mu2)));
	double lb = (alpha - 1.0) * (e1 - logq / (mu1 - 1.0));
	double r = lupi__log_add(l1q + la, logq + lb) / (alpha - 1.0);
	if (!(r >= 0.0))
		r = isnan(r) ? base : 0.0;
	return r < base ? r : base;
}

/* P(answer) = P(top + N(0, sigma1^2) >= T); the likely outcome is the
 * more probable of answering or not, q the other one, each computed as its
 * own tail (no cancellation). */
static double check_logq(double top, double threshold, double sigma1)
{
	double la = log_sf(threshold - top, sigma1);
	double ln = log_sf(top - threshold, sigma1);
	return la < ln ? la : ln;
}

double lupi__pate_check_rdp_dd(double top, double threshold, double sigma1,
			       double alpha)
{
	/* sensitivity 1: a Gaussian noisy max of RDP alpha / (2 sigma1^2),
	 * i.e. sigma = sqrt 2 sigma1 in lupi__pate_rdp_dd's terms */
	return lupi__pate_rdp_dd(check_logq(top, threshold, sigma1),
				 M_SQRT2 * sigma1, alpha);
}

/* The accounting arguments of a student's record, as lupi_pate_epsilon,
 * lupi_pate_aggregate and the data-dependent bound check them. */
static int check_record(int mechanism, double noise, double sigma1,
			double threshold, double delta)
{
	LUPI__TRY(check_noise(mechanism, noise, sigma1));
	if (mechanism == LUPI_PATE_CONFIDENT && !isfinite(threshold))
		return lupi__err(LUPI_ERANGE, "threshold = %g, it must be "
				 "finite", threshold);
	if (!(delta > 0.0 && delta < 1.0))
		return lupi__err(LUPI_ERANGE, "delta = %g, it must be in "
				 "(0, 1)", delta);
	return LUPI_OK;
}

int lupi_pate_epsilon_data_dependent(const uint32_t *votes, size_t n,
				     size_t k, const int32_t *labels,
				     int mechanism, double noise,
				     double sigma1, double threshold,
				     double delta, double *epsilon)
{
	LUPI__CHECK_NULL(epsilon);
	*epsilon = NAN;
	LUPI__CHECK_NULL(votes);
	if (n == 0 || k < 2)
		return lupi__err(LUPI_EINVAL, "n = %zu queries of k = %zu "
				 "classes: need n >= 1 and k >= 2", n, k);
	LUPI__TRY(check_noise(mechanism, noise, sigma1));
	if (mechanism == LUPI_PATE_LAPLACE)
		return lupi__err(LUPI_ENOTSUP, "the data-dependent bound is "
				 "implemented for GNMax and confident GNMax, "
				 "not for Laplace noisy max");
	if (mechanism == LUPI_PATE_CONFIDENT && labels == NULL)
		return lupi__err(LUPI_EINVAL, "confident GNMax needs the "
				 "labels, to know which queries were "
				 "answered");
	LUPI__TRY(check_record(mechanism, noise, sigma1, threshold, delta));
	LUPI__TRY(lupi__check_host_array(n, k, sizeof *votes, "votes"));
	for (size_t i = 0; labels && i < n; i++)
		if (labels[i] >= (int32_t)(k < INT32_MAX ? k : INT32_MAX))
			return lupi__err(LUPI_ERANGE, "labels[%zu] = %d, there "
					 "are %zu classes", i, (int)labels[i],
					 k);
	double orders[256];
	size_t no = lupi__dp_orders(orders, sizeof orders / sizeof orders[0]);
	double *rdp = lupi__calloc(no, sizeof *rdp);
	if (rdp == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu orders", no);
	for (size_t i = 0; i < n; i++) {
		const uint32_t *v = votes + i * k;
		int answered = labels == NULL || labels[i] >= 0;
		double lq = answered ? lupi__pate_logq(v, k, noise) : 0.0;
		uint32_t top = 0;
		for (size_t c = 0; c < k; c++)
			top = v[c] > top ? v[c] : top;
		double lc = mechanism == LUPI_PATE_CONFIDENT ?
			check_logq((double)top, threshold, sigma1) : 0.0;
		for (size_t a = 0; a < no; a++) {
			if (mechanism == LUPI_PATE_CONFIDENT)
				rdp[a] += lupi__pate_rdp_dd(
					lc, M_SQRT2 * sigma1, orders[a]);
			if (answered)
				rdp[a] += lupi__pate_rdp_dd(lq, noise,
							    orders[a]);
		}
	}
	double best = INFINITY;
	for (size_t a = 0; a < no; a++) {
		double e = rdp[a] - log(delta) / (orders[a] - 1.0);
		best = e < best ? e : best;
	}
	lupi__free(rdp);
	*epsilon = best;
	return LUPI_OK;
}

/* ---- the student -------------------------------------------------------- */

int lupi_pate_fit_student(lupi_model *student, const lupi_dataset *pub,
			  const int32_t *labels, const lupi_dataset *valid,
			  int mechanism, double noise, double sigma1,
			  double threshold, double delta,
			  lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(pub);
	LUPI__CHECK_NULL(labels);
	LUPI__TRY(check_record(mechanism, noise, sigma1, threshold, delta));
	if (student->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "a PATE student classifies");
	size_t n = lupi_dataset_rows(pub), m = 0;
	size_t k = student->task == LUPI_TASK_BINARY ? 2 : student->n_out;
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	int32_t *y = lupi__malloc_array(n, sizeof *y);
	int rc = idx && y ? LUPI_OK :
			    lupi__err(LUPI_ENOMEM, "cannot allocate %zu "
				      "indices", n);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		if (labels[i] < 0)
			continue;
		if ((size_t)labels[i] >= k)
			rc = lupi__err(LUPI_ERANGE, "label %d of sample %zu: "
				       "the student has %zu classes",
				       (int)labels[i], i, k);
		y[m] = labels[i];
		idx[m++] = i;
	}
	if (rc == LUPI_OK && m == 0)
		rc = lupi__err(LUPI_ESTATE, "no query was answered");
	/* what the labels cost: every row of pub was a query */
	double eps = NAN;
	if (rc == LUPI_OK)
		rc = lupi_pate_epsilon(mechanism, noise, sigma1, n,
				       mechanism == LUPI_PATE_CONFIDENT ? m : n,
				       delta, &eps);
	lupi_dataset *sub = NULL;
	if (rc == LUPI_OK)
		rc = lupi_dataset_subset(pub, idx, m, &sub);
	if (rc == LUPI_OK)
		rc = student->task == LUPI_TASK_BINARY ?
			lupi_dataset_set_binary_labels(sub, y) :
			lupi_dataset_set_labels(sub, k, y);
	uint64_t t0 = student->t;
	if (rc == LUPI_OK)
		rc = lupi_model_fit(student, sub, valid, progress, user);
	/* the student learnt from the labels as soon as it took a step */
	if (student->t != t0) {
		int conf = mechanism == LUPI_PATE_CONFIDENT;
		student->privacy = (lupi__privacy){
			.has = 1, .accounted = 1, .epsilon = eps,
			.delta = delta, .q = NAN, .sigma = noise, .clip = 0.0,
			.steps = n, .t_mark = student->t,
			.kind = LUPI__PRIVACY_PATE, .mechanism = mechanism,
			.sigma1 = conf ? sigma1 : 0.0,
			.threshold = conf ? threshold : 0.0, .answered = m};
	}
	lupi_dataset_free(sub);
	lupi__free(idx);
	lupi__free(y);
	return rc;
}

int lupi_model_privacy_pate(const lupi_model *m, int *mechanism,
			    double *noise, double *sigma1, double *threshold,
			    uint64_t *queries, uint64_t *answered)
{
	LUPI__CHECK_NULL(m);
	const lupi__privacy *p = &m->privacy;
	if (!p->has)
		return lupi__err(LUPI_ESTATE, "the model holds no privacy "
				 "record");
	if (p->kind != LUPI__PRIVACY_PATE)
		return lupi__err(LUPI_ESTATE, "the model holds a DP-SGD "
				 "privacy record, not a PATE one: read it "
				 "with lupi_model_privacy()");
	if (mechanism)
		*mechanism = p->mechanism;
	if (noise)
		*noise = p->sigma;
	if (sigma1)
		*sigma1 = p->sigma1;
	if (threshold)
		*threshold = p->threshold;
	if (queries)
		*queries = p->steps;
	if (answered)
		*answered = p->answered;
	return LUPI_OK;
}
