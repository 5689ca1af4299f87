/* Membership inference: the ROC summaries against hand computations and
 * the binormal closed form; the loss scores against the model's own log
 * loss; the loss-threshold attack and offline LiRA on data where the
 * answer is known: a model that never saw the forget set gives AUC ~ 0.5
 * on it, a heavily overfit model gives AUC well above 0.5. */
#include <math.h>
#include <stdint.h>

#include "privacy/privacy_internal.h"
#include "testutil.h"

#define D 20

/* n samples of D standard normal features with random binary-class labels
 * in [0, 2): nothing to learn, everything to memorise. */
static lupi_dataset *noise_set(size_t n, uint64_t seed)
{
	float *x = malloc(n * D * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		y[i] = (int32_t)lupi__rng_below(&r, 2);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)lupi__rng_normal(&r);
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	free(x);
	free(y);
	return ds;
}

static lupi_model *overfitter(void)
{
	lupi_model *m = NULL;
	size_t h = 64;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, &h, 1,
					   2, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 60),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01),
			 LUPI_OK);
	return m;
}

START_TEST(roc_hand_computed)
{
	/* members {3, 2, 1}, non-members {2, 0}: of 6 pairs the member wins
	 * 4 and ties 1, AUC 4.5 / 6; at FPR 0 only the score 3 is above
	 * every non-member: TPR 1/3 */
	double in[] = {3, 2, 1}, out[] = {2, 0}, auc, t01, t1;
	ck_assert_int_eq(lupi_mia_roc(in, 3, out, 2, &auc, &t01, &t1),
			 LUPI_OK);
	ck_assert(fabs(auc - 0.75) < 1e-15);
	ck_assert(fabs(t01 - 1.0 / 3) < 1e-15);
	ck_assert(fabs(t1 - 1.0 / 3) < 1e-15);
	/* perfect and reversed separations */
	double lo[] = {-1, -2};
	ck_assert_int_eq(lupi_mia_roc(in, 3, lo, 2, &auc, &t01, &t1), LUPI_OK);
	ck_assert(auc == 1.0 && t01 == 1.0 && t1 == 1.0);
	ck_assert_int_eq(lupi_mia_roc(lo, 2, in, 3, &auc, NULL, NULL), LUPI_OK);
	ck_assert(auc == 0.0);

	/* binormal: members N(1, 1), non-members N(0, 1): AUC = Phi(1 /
	 * sqrt 2) = 0.7602; TPR at FPR 1% = 1 - Phi(2.3263 - 1) = 0.0925,
	 * at 0.1% = 1 - Phi(3.0902 - 1) = 0.0183. Tolerances: 5 standard
	 * errors for 20000 samples each (AUC ~0.0029; the TPRs also carry
	 * the empirical quantile's error, ~0.006 and ~0.004) */
	enum { N = 20000 };
	double *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
	lupi__rng r;
	lupi__rng_seed(&r, 17);
	for (size_t i = 0; i < N; i++) {
		a[i] = 1.0 + lupi__rng_normal(&r);
		b[i] = lupi__rng_normal(&r);
	}
	ck_assert_int_eq(lupi_mia_roc(a, N, b, N, &auc, &t01, &t1), LUPI_OK);
	ck_assert_msg(fabs(auc - 0.5 * erfc(-0.5)) < 0.015, "auc %g", auc);
	ck_assert_msg(fabs(t1 - 0.0925) < 0.03, "tpr@1%% %g", t1);
	ck_assert_msg(fabs(t01 - 0.0183) < 0.02, "tpr@0.1%% %g", t01);
	/* errors */
	b[3] = NAN;
	ck_assert_int_eq(lupi_mia_roc(a, N, b, N, &auc, NULL, NULL),
			 LUPI_ENONFINITE);
	ck_assert_int_eq(lupi_mia_roc(a, 0, b, N, &auc, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_mia_roc(NULL, 1, b, N, &auc, NULL, NULL),
			 LUPI_EINVAL);
	free(a);
	free(b);
}
END_TEST

START_TEST(loss_scores_match_log_loss)
{
	lupi_dataset *ds = noise_set(200, 1);
	lupi_model *m = overfitter();
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	double s[200];
	ck_assert_int_eq(lupi_mia_loss_scores(m, ds, s), LUPI_ESTATE);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_mia_loss_scores(m, ds, s), LUPI_OK);
	double mean = 0, ll = 0;
	for (size_t i = 0; i < 200; i++)
		mean -= s[i] / 200;
	ck_assert_int_eq(lupi_model_evaluate(m, ds, LUPI_METRIC_LOGLOSS, &ll),
			 LUPI_OK);
	ck_assert_msg(fabs(mean - ll) < 1e-5 * (1 + ll), "%g vs %g", mean, ll);
	/* labels of 3 classes for a 2-class model */
	int32_t y3[200];
	memcpy(y3, lupi_dataset_labels(ds), sizeof y3);
	y3[0] = 2;
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y3), LUPI_OK);
	ck_assert_int_eq(lupi_mia_loss_scores(m, ds, s), LUPI_ESHAPE);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* AUC of the loss attack of m: members ds_in, non-members ds_out. */
static double loss_auc(const lupi_model *m, const lupi_dataset *in,
		       const lupi_dataset *out)
{
	size_t ni = lupi_dataset_rows(in), no = lupi_dataset_rows(out);
	double *a = malloc(ni * sizeof *a), *b = malloc(no * sizeof *b), auc;
	ck_assert_int_eq(lupi_mia_loss_scores(m, in, a), LUPI_OK);
	ck_assert_int_eq(lupi_mia_loss_scores(m, out, b), LUPI_OK);
	ck_assert_int_eq(lupi_mia_roc(a, ni, b, no, &auc, NULL, NULL),
			 LUPI_OK);
	free(a);
	free(b);
	return auc;
}

START_TEST(attacks_on_known_membership)
{
	/* train = retain (300) + forget (300); held (300) never seen */
	lupi_dataset *train = noise_set(600, 2), *held = noise_set(300, 3);
	lupi_model *m = overfitter();
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	size_t fi[300];
	for (size_t i = 0; i < 300; i++)
		fi[i] = 300 + i;
	lupi_dataset *forget = NULL;
	ck_assert_int_eq(lupi_dataset_subset(train, fi, 300, &forget),
			 LUPI_OK);
	/* the overfit original remembers its training set */
	double a_orig = loss_auc(m, forget, held);
	ck_assert_msg(a_orig > 0.75, "original AUC %g", a_orig);
	/* retrained without the forget set: forget and held are both
	 * unseen samples of one distribution, so AUC ~ 0.5. Under that
	 * null the Mann-Whitney AUC of 300 vs 300 has standard deviation
	 * sqrt((300 + 300 + 1) / (12 * 300 * 300)) = 0.0236; we allow 4 of
	 * them, 0.095 */
	lupi_model *u = NULL;
	ck_assert_int_eq(lupi_unlearn(m, train, fi, 300, LUPI_UNLEARN_RETRAIN,
				      0, &u, NULL, NULL, NULL, NULL), LUPI_OK);
	double a_re = loss_auc(u, forget, held);
	ck_assert_msg(fabs(a_re - 0.5) < 0.095, "retrained AUC %g", a_re);

	/* offline LiRA: 4 shadow models on a reference set disjoint from
	 * the queries; on the original, forget scores above held ones
	 * (0.65: over 6 null standard deviations above 0.5) */
	lupi_dataset *ref = noise_set(600, 4);
	lupi_model *proto = overfitter();
	double *sf = malloc(300 * sizeof *sf), *sh = malloc(300 * sizeof *sh);
	ck_assert_int_eq(lupi_mia_lira_offline(m, proto, ref, 4, 1, forget,
					       sf, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_mia_lira_offline(m, proto, ref, 4, 1, held, sh,
					       NULL, NULL),
			 LUPI_OK);
	double auc = 0;
	ck_assert_int_eq(lupi_mia_roc(sf, 300, sh, 300, &auc, NULL, NULL),
			 LUPI_OK);
	ck_assert_msg(auc > 0.65, "LiRA AUC %g", auc);
	ck_assert_int_eq(lupi_mia_lira_offline(u, proto, ref, 4, 1, forget,
					       sf, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_mia_lira_offline(u, proto, ref, 4, 1, held, sh,
					       NULL, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_mia_roc(sf, 300, sh, 300, &auc, NULL, NULL),
			 LUPI_OK);
	ck_assert_msg(fabs(auc - 0.5) < 0.095, "LiRA AUC retrained %g", auc);
	ck_assert_int_eq(lupi_mia_lira_offline(m, proto, ref, 1, 1, held, sh,
					       NULL, NULL),
			 LUPI_ERANGE);
	free(sf);
	free(sh);
	lupi_model_free(proto);
	lupi_dataset_free(ref);
	lupi_model_free(u);
	lupi_model_free(m);
	lupi_dataset_free(forget);
	lupi_dataset_free(train);
	lupi_dataset_free(held);
}
END_TEST

/* Non-private vs DP on random labels, where the answers are known: the
 * overfit non-private model remembers its members (AUC > 0.75, members
 * accuracy near 1, test accuracy near chance, epsilon infinity); a DP
 * model at epsilon 0.75 (sigma 10, 20 epochs) cannot (AUC 0.53, within 4
 * null standard deviations of 0.5) and reports its record. Every cell
 * against the public functions it summarises. */
START_TEST(privacy_evaluate_side_by_side)
{
	lupi_dataset *mem = noise_set(300, 11), *non = noise_set(300, 12),
		     *test = noise_set(300, 13);
	lupi_model *np = overfitter();
	ck_assert_int_eq(lupi_model_fit(np, mem, NULL, NULL, NULL), LUPI_OK);
	lupi_model *pm = overfitter();
	ck_assert_int_eq(lupi_model_set_int(pm, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(pm, LUPI_MODEL_OPT_EPOCHS, 20),
			 LUPI_OK);
	lupi_dp *dp = NULL;
	ck_assert_int_eq(lupi_dp_create(&dp), LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, 10.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dp_set_int(dp, LUPI_DP_OPT_SEED, 5), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit_dp(pm, dp, mem, NULL, NULL, NULL),
			 LUPI_OK);
	const lupi_model *ms[2] = {np, pm};
	double t[2 * LUPI_PRIVACY_EVAL_COLS];
	ck_assert_int_eq(lupi_privacy_evaluate(ms, 2, mem, non, test, t),
			 LUPI_OK);
	const double *r0 = t, *r1 = t + LUPI_PRIVACY_EVAL_COLS;
	/* known answers */
	ck_assert_msg(r0[LUPI_PRIVACY_EVAL_AUC] > 0.75, "AUC %g",
		      r0[LUPI_PRIVACY_EVAL_AUC]);
	ck_assert_msg(fabs(r1[LUPI_PRIVACY_EVAL_AUC] - 0.5) < 0.095,
		      "DP AUC %g", r1[LUPI_PRIVACY_EVAL_AUC]);
	ck_assert(r0[LUPI_PRIVACY_EVAL_MEMBERS] > 0.95);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(fabs(t[i * LUPI_PRIVACY_EVAL_COLS +
				     LUPI_PRIVACY_EVAL_TEST] - 0.5) < 0.12,
			      "test accuracy %g",
			      t[i * LUPI_PRIVACY_EVAL_COLS +
				LUPI_PRIVACY_EVAL_TEST]);
	ck_assert(isinf(r0[LUPI_PRIVACY_EVAL_EPSILON]) &&
		  r0[LUPI_PRIVACY_EVAL_DELTA] == 0.0);
	double eps = 0, delta = 0;
	ck_assert_int_eq(lupi_model_privacy(pm, &eps, &delta, NULL, NULL, NULL),
			 LUPI_OK);
	ck_assert(r1[LUPI_PRIVACY_EVAL_EPSILON] == eps && isfinite(eps));
	ck_assert(r1[LUPI_PRIVACY_EVAL_DELTA] == delta && delta == 1e-5);
	/* each cell is what the public functions give */
	for (int i = 0; i < 2; i++) {
		const double *r = t + i * LUPI_PRIVACY_EVAL_COLS;
		double acc = 0, auc, t01, t1;
		double a[300], b[300];
		ck_assert_int_eq(lupi_model_evaluate(ms[i], test,
						     LUPI_METRIC_ACCURACY,
						     &acc), LUPI_OK);
		ck_assert(r[LUPI_PRIVACY_EVAL_TEST] == acc);
		ck_assert_int_eq(lupi_model_evaluate(ms[i], mem,
						     LUPI_METRIC_ACCURACY,
						     &acc), LUPI_OK);
		ck_assert(r[LUPI_PRIVACY_EVAL_MEMBERS] == acc);
		ck_assert_int_eq(lupi_mia_loss_scores(ms[i], mem, a), LUPI_OK);
		ck_assert_int_eq(lupi_mia_loss_scores(ms[i], non, b), LUPI_OK);
		ck_assert_int_eq(lupi_mia_roc(a, 300, b, 300, &auc, &t01, &t1),
				 LUPI_OK);
		ck_assert(r[LUPI_PRIVACY_EVAL_AUC] == auc);
		ck_assert(r[LUPI_PRIVACY_EVAL_TPR_0_1] == t01);
		ck_assert(r[LUPI_PRIVACY_EVAL_TPR_1] == t1);
	}
	/* without a test set that column is NaN */
	ck_assert_int_eq(lupi_privacy_evaluate(ms, 1, mem, non, NULL, t),
			 LUPI_OK);
	ck_assert(isnan(t[LUPI_PRIVACY_EVAL_TEST]));
	ck_assert(!isnan(t[LUPI_PRIVACY_EVAL_AUC]));
	/* errors */
	lupi_model *fresh = overfitter();
	const lupi_model *bad[2] = {np, fresh};
	ck_assert_int_eq(lupi_privacy_evaluate(bad, 2, mem, non, test, t),
			 LUPI_ESTATE);
	ck_assert(isnan(t[0]));
	bad[1] = NULL;
	ck_assert_int_eq(lupi_privacy_evaluate(bad, 2, mem, non, test, t),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_privacy_evaluate(ms, 0, mem, non, test, t),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_privacy_evaluate(ms, 2, mem, NULL, test, t),
			 LUPI_EINVAL);
	lupi_dp_free(dp);
	lupi_model_free(fresh);
	lupi_model_free(np);
	lupi_model_free(pm);
	lupi_dataset_free(mem);
	lupi_dataset_free(non);
	lupi_dataset_free(test);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("audit");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, roc_hand_computed);
	tcase_add_test(tc, loss_scores_match_log_loss);
	tcase_add_test(tc, attacks_on_known_membership);
	tcase_add_test(tc, privacy_evaluate_side_by_side);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
