/* Unlearning, measured: a network trained on synthetic blobs forgets (a) a
 * random 2% of its training samples and (b) one whole class, by retraining
 * (the reference), SISA (without and with slices), a random teacher, a bad
 * teacher and SCRUB. For each: accuracy on the forget, retain and test
 * sets, the loss-threshold membership attack on the forget set against
 * held-out samples (AUC, TPR at 1% FPR), and the cost (steps, seconds,
 * time relative to retraining). Then (c) the cost of single deletions in
 * SISA with and without slices, and (d) the same network trained
 * non-privately and with DP-SGD, side by side (lupi_privacy_evaluate).
 *
 *   privacy_unlearn [--n N] [--epochs E] [--unlearn-epochs U] [--shards S]
 *                   [--slices R] [--seed S]
 *
 * Uses only lupi.h. The table in doc/privacy.md was made with the defaults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lupi.h"
#include "privacy_common.h"

#define K 10
#define D 32

/* K overlapping Gaussian blobs (centres 0.5 normal, unit noise), 10% of
 * labels flipped, so that a wide network memorises what it cannot learn. */
static float centres[K][D];
static lupi_dataset *blobs(size_t n)
{
	float *x = malloc(n * D * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		int c = (int)(uniform() * K);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)(centres[c][j] + 1.0 * normal());
		y[i] = uniform() < 0.1 ? (int32_t)(uniform() * K) : c;
	}
	lupi_dataset *ds = NULL;
	TRY("dataset", lupi_dataset_create(n, D, x, &ds));
	TRY("labels", lupi_dataset_set_labels(ds, K, y));
	free(x);
	free(y);
	return ds;
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct sets {
	lupi_dataset *train, *forget, *retain, *test, *held;
	const size_t *fi;
	size_t nf;
} sets;

/* -log p_y of the SISA ensemble, negated (a membership score). */
static void sisa_scores(const lupi_sisa *s, const lupi_dataset *ds,
			double *sc)
{
	size_t n = lupi_dataset_rows(ds);
	float *p = malloc(n * K * sizeof *p);
	TRY("sisa predict", lupi_sisa_predict(s, lupi_dataset_features(ds, 0),
					      n, D, p));
	const int32_t *y = lupi_dataset_labels(ds);
	for (size_t i = 0; i < n; i++)
		sc[i] = log(fmax(p[i * K + y[i]], 1e-30));
	free(p);
}

static double sisa_acc(const lupi_sisa *s, const lupi_dataset *ds)
{
	size_t n = lupi_dataset_rows(ds), hit = 0;
	float *p = malloc(n * K * sizeof *p);
	TRY("sisa predict", lupi_sisa_predict(s, lupi_dataset_features(ds, 0),
					      n, D, p));
	const int32_t *y = lupi_dataset_labels(ds);
	for (size_t i = 0; i < n; i++) {
		size_t arg = 0;
		for (size_t c = 1; c < K; c++)
			if (p[i * K + c] > p[i * K + arg])
				arg = c;
		hit += (int32_t)arg == y[i];
	}
	free(p);
	return (double)hit / (double)n;
}

static double acc(const lupi_model *m, const lupi_dataset *ds)
{
	double a = 0;
	TRY("evaluate", lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &a));
	return a;
}

static void row(const char *name, const lupi_model *m, const lupi_sisa *s,
		const sets *S, uint64_t steps, double sec, double ref_sec)
{
	size_t nf = lupi_dataset_rows(S->forget), nh = lupi_dataset_rows(S->held);
	double *a = malloc(nf * sizeof *a), *b = malloc(nh * sizeof *b);
	double af, ar, at, auc, t01, t1;
	if (m) {
		TRY("scores", lupi_mia_loss_scores(m, S->forget, a));
		TRY("scores", lupi_mia_loss_scores(m, S->held, b));
		af = acc(m, S->forget);
		ar = acc(m, S->retain);
		at = acc(m, S->test);
	} else {
		sisa_scores(s, S->forget, a);
		sisa_scores(s, S->held, b);
		af = sisa_acc(s, S->forget);
		ar = sisa_acc(s, S->retain);
		at = sisa_acc(s, S->test);
	}
	TRY("roc", lupi_mia_roc(a, nf, b, nh, &auc, &t01, &t1));
	printf("| %-14s | %6.3f | %6.3f | %6.3f | %5.3f | %6.3f | %5.3f | "
	       "%6llu | %6.2f | %5.2f |\n",
	       name, af, ar, at, auc, t01, t1, (unsigned long long)steps, sec,
	       ref_sec > 0 ? sec / ref_sec : NAN);
	free(a);
	free(b);
}

static void experiment(const char *title, const lupi_model *proto,
		       const lupi_model *orig, double orig_sec,
		       uint64_t orig_steps, sets *S, unsigned uep,
		       unsigned shards, unsigned slices)
{
	printf("\n%s (%zu samples forgotten)\n\n", title, S->nf);
	printf("| method         | acc F  | acc R  | acc T  | AUC F | TPR.1%% "
	       "| TPR1%% |  steps |  sec   | /retr |\n");
	printf("|----------------|--------|--------|--------|-------|--------"
	       "|-------|--------|--------|-------|\n");
	row("original", orig, NULL, S, orig_steps, orig_sec, 0);
	static const struct {
		const char *name;
		int method;
	} ms[] = {{"retrain", LUPI_UNLEARN_RETRAIN},
		  {"random teacher", LUPI_UNLEARN_RANDOM_TEACHER},
		  {"bad teacher", LUPI_UNLEARN_BAD_TEACHER},
		  {"SCRUB", LUPI_UNLEARN_SCRUB}};
	double ref = 0;
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		lupi_model *u = NULL;
		uint64_t st = 0;
		double sec = 0;
		TRY(ms[i].name, lupi_unlearn(orig, S->train, S->fi, S->nf,
					     ms[i].method, uep, &u, &st, &sec,
					     NULL, NULL));
		if (i == 0)
			ref = sec;
		row(ms[i].name, u, NULL, S, st, sec, ref);
		lupi_model_free(u);
	}
	/* SISA: the ensemble is trained once (not counted), deletion
	 * retrains the shards that held forgotten samples */
	lupi_sisa *s = NULL;
	TRY("sisa", lupi_sisa_create(proto, S->train, shards, 1, &s, NULL,
				     NULL));
	uint64_t st = 0;
	double sec = 0;
	TRY("sisa forget", lupi_sisa_forget(s, S->fi, S->nf, &st, &sec, NULL,
					    NULL));
	char name[32];
	snprintf(name, sizeof name, "SISA (%u)", shards);
	row(name, NULL, s, S, st, sec, ref);
	lupi_sisa_free(s);
	/* the same with slices: a shard resumes from the checkpoint before
	 * the first slice that held a forgotten sample */
	TRY("sisa", lupi_sisa_create_sliced(proto, S->train, shards, slices, 1,
					    &s, NULL, NULL));
	TRY("sisa forget", lupi_sisa_forget(s, S->fi, S->nf, &st, &sec, NULL,
					    NULL));
	snprintf(name, sizeof name, "SISA (%u x %u)", shards, slices);
	row(name, NULL, s, S, st, sec, ref);
	lupi_sisa_free(s);
}

/* (c) requests of one sample each, the same samples for every ensemble:
 * the mean steps a deletion took, and what retraining its shard from
 * scratch (every stage) would have taken. */
static void single_deletions(const lupi_model *proto, const lupi_dataset *train,
			     unsigned shards, unsigned slices)
{
	enum { REQ = 20 };
	size_t n = lupi_dataset_rows(train);
	printf("\nSISA, %d deletions of one random sample each\n\n", REQ);
	printf("| ensemble        | steps / deletion | from scratch "
	       "| saved |\n");
	printf("|-----------------|------------------|--------------"
	       "|-------|\n");
	unsigned rs[2] = {1, slices};
	for (int v = 0; v < 2; v++) {
		lupi_sisa *s = NULL;
		TRY("sisa", lupi_sisa_create_sliced(proto, train, shards, rs[v],
						    1, &s, NULL, NULL));
		uint64_t sum = 0, sum_scratch = 0;
		uint64_t pick = 12345;
		for (int r = 0; r < REQ; r++) {
			pick = pick * 6364136223846793005ull +
			       1442695040888963407ull;
			size_t i = (size_t)((pick >> 33) % n);
			uint64_t st = 0, scratch = 0;
			TRY("forget", lupi_sisa_forget(s, &i, 1, &st, NULL, NULL,
						       NULL));
			TRY("cost", lupi_sisa_last_cost(s, NULL, &scratch));
			sum += st;
			sum_scratch += scratch;
		}
		char name[32];
		snprintf(name, sizeof name, "%u shards x %u", shards, rs[v]);
		printf("| %-15s | %16.1f | %12.1f | %4.0f%% |\n", name,
		       (double)sum / REQ, (double)sum_scratch / REQ,
		       100.0 * (1.0 - (double)sum / (double)sum_scratch));
		lupi_sisa_free(s);
	}
}

/* (d) non-private and DP-SGD models of the same architecture on the same
 * training set; members: the training set, non-members: fresh samples. */
static void private_vs_not(const lupi_model *proto, const lupi_model *orig,
			   const lupi_dataset *train, const lupi_dataset *test,
			   const lupi_dataset *fresh)
{
	static const double targets[] = {1, 4, 16};
	enum { NT = sizeof targets / sizeof targets[0] };
	const lupi_model *ms[1 + NT];
	lupi_model *dpm[NT];
	ms[0] = orig;
	lupi_dp *dp = NULL;
	TRY("dp", lupi_dp_create(&dp));
	for (size_t i = 0; i < NT; i++) {
		TRY("clone", lupi_model_clone(proto, &dpm[i]));
		/* statistics fitted on the private set would leak */
		TRY("standardize",
		    lupi_model_set_int(dpm[i], LUPI_MODEL_OPT_STANDARDIZE, 0));
		TRY("target", lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON,
						 targets[i]));
		TRY("fit dp", lupi_model_fit_dp(dpm[i], dp, train, NULL, NULL,
						NULL));
		ms[1 + i] = dpm[i];
	}
	double t[(1 + NT) * LUPI_PRIVACY_EVAL_COLS];
	TRY("evaluate", lupi_privacy_evaluate(ms, 1 + NT, train, fresh, test,
					      t));
	printf("\nNon-private vs DP-SGD, same network and training set "
	       "(lupi_privacy_evaluate)\n\n");
	printf("| model       | epsilon | acc T  | acc M  | AUC M | TPR.1%% "
	       "| TPR1%% |\n");
	printf("|-------------|---------|--------|--------|-------|--------"
	       "|-------|\n");
	for (size_t i = 0; i < 1 + NT; i++) {
		const double *r = t + i * LUPI_PRIVACY_EVAL_COLS;
		printf("| %-11s | %7.2f | %6.3f | %6.3f | %5.3f | %6.3f | "
		       "%5.3f |\n",
		       i == 0 ? "non-private" : "DP-SGD",
		       r[LUPI_PRIVACY_EVAL_EPSILON], r[LUPI_PRIVACY_EVAL_TEST],
		       r[LUPI_PRIVACY_EVAL_MEMBERS], r[LUPI_PRIVACY_EVAL_AUC],
		       r[LUPI_PRIVACY_EVAL_TPR_0_1],
		       r[LUPI_PRIVACY_EVAL_TPR_1]);
	}
	printf("\nacc T/M: accuracy on the test set and on the members (the "
	       "training set); AUC M, TPR: loss-threshold attack, members vs "
	       "as many fresh samples; epsilon at delta 1e-5 (DP noise seeded "
	       "from the OS: the DP rows vary run to run).\n");
	for (size_t i = 0; i < NT; i++)
		lupi_model_free(dpm[i]);
	lupi_dp_free(dp);
}

static void split(sets *S, const size_t *fi, size_t nf)
{
	size_t n = lupi_dataset_rows(S->train), nr = 0;
	size_t *ri = malloc(n * sizeof *ri);
	char *is_f = calloc(n, 1);
	for (size_t i = 0; i < nf; i++)
		is_f[fi[i]] = 1;
	for (size_t i = 0; i < n; i++)
		if (!is_f[i])
			ri[nr++] = i;
	TRY("forget", lupi_dataset_subset(S->train, fi, nf, &S->forget));
	TRY("retain", lupi_dataset_subset(S->train, ri, nr, &S->retain));
	S->fi = fi;
	S->nf = nf;
	free(ri);
	free(is_f);
}

int main(int argc, char **argv)
{
	size_t n = 3000;
	unsigned epochs = 40, uep = 2, shards = 5, slices = 4;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--n"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--epochs"))
			epochs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--unlearn-epochs"))
			uep = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--shards"))
			shards = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--slices"))
			slices = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--seed"))
			rng_s = strtoull(argv[i + 1], NULL, 10) | 1;
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	for (size_t c = 0; c < K; c++)
		for (size_t j = 0; j < D; j++)
			centres[c][j] = (float)(0.5 * normal());
	sets S = {0};
	S.train = blobs(n);
	S.test = blobs(n / 2);
	S.held = blobs(n / 2); /* non-members for the attack */

	lupi_model *proto = NULL;
	size_t hidden[] = {256};
	TRY("model", lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1,
				       K, &proto));
	TRY("epochs", lupi_model_set_int(proto, LUPI_MODEL_OPT_EPOCHS, epochs));
	TRY("batch", lupi_model_set_int(proto, LUPI_MODEL_OPT_BATCH, 64));
	TRY("seed", lupi_model_set_int(proto, LUPI_MODEL_OPT_SEED, 1));
	lupi_model *orig = NULL;
	TRY("clone", lupi_model_clone(proto, &orig));
	double t0 = seconds();
	TRY("fit", lupi_model_fit(orig, S.train, NULL, NULL, NULL));
	double orig_sec = seconds() - t0;
	uint64_t orig_steps = (uint64_t)epochs * ((n + 63) / 64);

	/* (a) 2% random samples: the training order is already random */
	size_t nf = n / 50;
	size_t *fi = malloc(n * sizeof *fi);
	for (size_t i = 0; i < nf; i++)
		fi[i] = i;
	split(&S, fi, nf);
	experiment("Forget 2% random samples", proto, orig, orig_sec,
		   orig_steps, &S, uep, shards, slices);
	lupi_dataset_free(S.forget);
	lupi_dataset_free(S.retain);
	lupi_dataset_free(S.held);
	/* (b) class 0; non-members: class 0 samples of a fresh set */
	TRY("class", lupi_unlearn_class_indices(S.train, 0, fi, &nf));
	split(&S, fi, nf);
	lupi_dataset *fresh = blobs(n);
	size_t *hi = malloc(n * sizeof *hi), nh = 0;
	TRY("class", lupi_unlearn_class_indices(fresh, 0, hi, &nh));
	TRY("held", lupi_dataset_subset(fresh, hi, nh, &S.held));
	experiment("Forget class 0", proto, orig, orig_sec, orig_steps, &S,
		   uep, shards, slices);
	printf("\nacc F/R/T: accuracy on the forget, retain and test sets; "
	       "AUC F, TPR.1%%, TPR1%%: loss-threshold attack, forget set vs "
	       "held-out samples (TPR at 0.1%% and 1%% FPR); /retr: time "
	       "relative to retraining.\n");
	single_deletions(proto, S.train, shards, slices);
	private_vs_not(proto, orig, S.train, S.test, fresh);
	free(hi);
	free(fi);
	lupi_dataset_free(fresh);
	lupi_dataset_free(S.forget);
	lupi_dataset_free(S.retain);
	lupi_dataset_free(S.held);
	lupi_dataset_free(S.test);
	lupi_dataset_free(S.train);
	lupi_model_free(orig);
	lupi_model_free(proto);
	return 0;
}
