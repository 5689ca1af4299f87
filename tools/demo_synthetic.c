/*
 * demo_synthetic.c - the "relevant features as privileged information"
 * experiment of Lopez-Paz, Bottou, Schoelkopf & Vapnik (2016), section 4.1:
 * x ~ N(0, I_d) with d = 50, alpha ~ N(0, I_d) drawn per repetition, the
 * privileged x* = x_J for the set J of 3 relevant coordinates, and
 * y = 1[<alpha_J, x*> > 0]; n = 200 training and 1000 test samples;
 * logistic regression (no hidden layer, two softmax outputs) as teacher and
 * students; distillation with T = 1 and lambda = 1 as in the authors' code.
 */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

#define D 50
#define J 3
#define N_TRAIN 200
#define N_TEST 1000
#define EPOCHS 200
#define BATCH 20
#define LR 0.01

/* Logistic regression, as in the paper. */
static const struct demo_net NET = {0, 2, EPOCHS, BATCH, LR};

static int make_set(size_t n, const double *alpha, uint64_t *rng,
		    lupi_dataset **out)
{
	float *x = malloc(n * D * sizeof(*x));
	float *xs = malloc(n * J * sizeof(*xs));
	int32_t *y = malloc(n * sizeof(*y));
	int rc = LUPI_ENOMEM;

	*out = NULL;
	if (x && xs && y) {
		for (size_t i = 0; i < n; i++) {
			double score = 0;

			for (size_t k = 0; k < D; k++)
				x[i * D + k] = (float)cli_rand_normal(rng);
			for (size_t k = 0; k < J; k++) {
				xs[i * J + k] = x[i * D + k];
				score += alpha[k] * x[i * D + k];
			}
			y[i] = score > 0;
		}
		rc = lupi_dataset_create(n, D, x, out);
	}
	if (rc == LUPI_OK)
		rc = lupi_dataset_set_privileged(*out, J, xs, NULL);
	if (rc == LUPI_OK)
		rc = lupi_dataset_set_labels(*out, 2, y, 0);
	free(x);
	free(xs);
	free(y);
	if (rc != LUPI_OK) {
		lupi_dataset_free(*out);
		*out = NULL;
	}
	return rc;
}

/* One repetition: new alpha and data, the three models, test accuracies. */
static int repetition(uint64_t seed, double acc[3])
{
	static const int kinds[3] = {LUPI_COMPARE_TEACHER, LUPI_COMPARE_HARD,
				     LUPI_COMPARE_DISTILLED};
	uint64_t rng = seed * 0x9E3779B97F4A7C15u + 50;
	double alpha[D], lambda = 1, temp = 1;
	lupi_dataset *train = NULL, *test = NULL;
	lupi_model *tp = NULL, *sp = NULL;
	lupi_loss *loss = NULL;
	lupi_compare *cmp = NULL;
	int rc;

	for (size_t k = 0; k < D; k++)
		alpha[k] = cli_rand_normal(&rng);
	rc = make_set(N_TRAIN, alpha, &rng, &train);
	if (rc == LUPI_OK)
		rc = make_set(N_TEST, alpha, &rng, &test);
	if (rc == LUPI_OK)
		rc = demo_model(&NET, J, LUPI_VIEW_PRIVILEGED, seed, &tp);
	if (rc == LUPI_OK)
		rc = demo_model(&NET, D, LUPI_VIEW_REGULAR, seed, &sp);
	if (rc == LUPI_OK)
		rc = lupi_loss_create(LUPI_LOSS_KD, &loss);
	/* the student sees the teacher's softened outputs at T_s = 1 */
	if (rc == LUPI_OK)
		rc = lupi_loss_set_int(loss, LUPI_LOSS_OPT_STUDENT_T, 1);
	if (rc == LUPI_OK)
		rc = lupi_compare_run(tp, sp, loss, train, test, &lambda, 1,
				      &temp, 1, 1, NULL, NULL, &cmp);
	for (size_t i = 0; rc == LUPI_OK && i < lupi_compare_rows(cmp); i++) {
		int kind;
		double v;

		rc = lupi_compare_row(cmp, i, &kind, NULL, NULL, &v, NULL,
				      NULL, NULL);
		for (int k = 0; k < 3; k++)
			if (kind == kinds[k])
				acc[k] = v;
	}
	lupi_compare_free(cmp);
	lupi_loss_free(loss);
	lupi_model_free(tp);
	lupi_model_free(sp);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
	return rc;
}

static void mean_std(const double *v, size_t n, double *mean, double *std)
{
	double s = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		s += v[i];
	*mean = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - *mean) * (v[i] - *mean);
	*std = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
}

int demo_synthetic(const struct cli *c, struct cli_json *j)
{
	unsigned reps = c->seeds ? c->seeds : 10;
	uint64_t seed = c->seed >= 0 ? (uint64_t)c->seed : 0;
	double *acc = malloc(4 * reps * sizeof(*acc));
	struct demo_result res = {
		.name = {"teacher, logistic regression on x* (3)",
			 "student, logistic regression on x (50)",
			 "student, distilled (T = 1, lambda = 1)"}};
	struct cli_progress prog;
	lupi_progress e = {0};

	if (!acc)
		return cli_error("out of memory");
	if (!j)
		printf("Relevant features as privileged information "
		       "(Lopez-Paz et al. 2016, 4.1):\n"
		       "  x ~ N(0, I_50), x* = the 3 relevant coordinates, "
		       "y = 1[<alpha_J, x*> > 0],\n"
		       "  %d training and %d test samples per repetition\n",
		       N_TRAIN, N_TEST);
	cli_progress_init(&prog, c, "synthetic", N_TRAIN);
	for (unsigned r = 0; r < reps; r++) {
		double a[3] = {0, 0, 0};
		int rc = repetition(seed + r, a);

		if (rc != LUPI_OK) {
			cli_progress_done(&prog);
			free(acc);
			return cli_fail(rc, "synthetic");
		}
		for (int k = 0; k < 3; k++)
			acc[k * reps + r] = a[k];
		acc[3 * reps + r] = a[2] - a[1];
		e.epoch = r + 1;
		e.epochs = reps;
		cli_progress_models_fn(&prog, &e);
	}
	cli_progress_done(&prog);
	for (int k = 0; k < 3; k++)
		mean_std(acc + k * reps, reps, &res.mean[k], &res.std[k]);
	mean_std(acc + 3 * reps, reps, &res.diff_mean, &res.diff_std);
	res.seeds = reps;
	free(acc);
	demo_print(j, "synthetic", &res);
	return 0;
}
