/*
 * demo_synthetic.c - the "relevant features as privileged information"
 * experiment of Lopez-Paz, Bottou, Schoelkopf & Vapnik (2016), section 4.1:
 * x ~ N(0, I_d) with d = 50, alpha ~ N(0, I_d) drawn per repetition, the
 * privileged x* = x_J for the set J of 3 relevant coordinates, and
 * y = 1[<alpha_J, x*> > 0]; n = 200 training and 1000 test samples;
 * logistic regression (no hidden layer, two softmax outputs) as teacher and
 * students; distillation with T = 1 and lambda = 1 as in the authors' code.
 * Each repetition draws new data (lupi_compare_run_each).
 */
#include <stdlib.h>

#include "demo.h"

#define D 50
#define J 3
#define N_TRAIN 200
#define N_TEST 1000
#define EPOCHS 200
#define BATCH 20
#define LR 0.01
/* Repetitions without --seeds (the library's default is 5): each draws a
 * new problem (a new alpha), so the accuracies vary with the problem as
 * well as the seed, and 10 still take about a second. */
#define REPEATS 10

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
				x[i * D + k] = (float)demo_rand_normal(rng);
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
	/* two softmax outputs, as the authors' logistic regression */
	if (rc == LUPI_OK)
		rc = lupi_dataset_set_labels(*out, 2, y);
	free(x);
	free(xs);
	free(y);
	if (rc != LUPI_OK) {
		lupi_dataset_free(*out);
		*out = NULL;
	}
	return rc;
}

/* The data of the repetition being run. */
struct draw {
	lupi_dataset *train, *test;
};

/* lupi_compare_data_fn: a new alpha and new data for each repetition. */
static int draw_data(void *user, unsigned repeat, uint64_t seed,
		     const lupi_dataset **train, const lupi_dataset **test)
{
	struct draw *d = user;
	uint64_t rng = seed * 0x9E3779B97F4A7C15u + 50;
	double alpha[D];
	int rc;

	(void)repeat;
	lupi_dataset_free(d->train);
	lupi_dataset_free(d->test);
	d->train = d->test = NULL;
	for (size_t k = 0; k < D; k++)
		alpha[k] = demo_rand_normal(&rng);
	rc = make_set(N_TRAIN, alpha, &rng, &d->train);
	if (rc == LUPI_OK)
		rc = make_set(N_TEST, alpha, &rng, &d->test);
	*train = d->train;
	*test = d->test;
	return rc;
}

int demo_synthetic(const struct cli *c, struct cli_json *j)
{
	struct demo_result res = {
		.name = {"teacher, logistic regression on x* (3)",
			 "student, logistic regression on x (50)",
			 "student, distilled (T = 1, lambda = 1)"}};
	double lambda = 1, temp = 1;
	struct draw data = {NULL, NULL};
	struct cli_progress prog;
	lupi_compare *cmp = NULL;
	lupi_loss *loss = NULL;
	int rc;

	if (!j)
		printf("Relevant features as privileged information "
		       "(Lopez-Paz et al. 2016, 4.1):\n"
		       "  x ~ N(0, I_50), x* = the 3 relevant coordinates, "
		       "y = 1[<alpha_J, x*> > 0],\n"
		       "  %d training and %d test samples per repetition\n",
		       N_TRAIN, N_TEST);
	rc = lupi_loss_create(LUPI_LOSS_KD, &loss);
	/* the student sees the teacher's softened outputs at T_s = 1 */
	if (rc == LUPI_OK)
		rc = lupi_loss_set_int(loss, LUPI_LOSS_OPT_STUDENT_T, 1);
	if (rc == LUPI_OK)
		rc = demo_compare(c, &NET, J, D, loss, &lambda, 1, &temp, 1,
				  &cmp);
	if (rc == LUPI_OK)
		rc = lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS,
					  demo_repeats(c, REPEATS));
	cli_progress_init(&prog, c, "synthetic", N_TRAIN);
	if (rc == LUPI_OK)
		rc = lupi_compare_run_each(cmp, draw_data, &data,
					   cli_progress_models_fn, &prog);
	cli_progress_done(&prog);
	lupi_dataset_free(data.train);
	lupi_dataset_free(data.test);
	lupi_loss_free(loss);
	if (rc == LUPI_OK)
		rc = demo_from_compare(cmp, &res);
	else
		rc = cli_fail(rc, "synthetic");
	lupi_compare_free(cmp);
	if (rc == 0)
		demo_print(j, "synthetic", &res);
	return rc;
}
