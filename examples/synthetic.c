/*
 * synthetic.c - the four synthetic experiments of Lopez-Paz, Bottou,
 * Schoelkopf & Vapnik, "Unifying distillation and privileged information"
 * (ICLR 2016), section 4.1, with logistic regression (no hidden layer, two
 * softmax outputs) as teacher and students. d = 50; per repetition a new
 * alpha ~ N(0, I_d), n training and 1000 test samples:
 *
 *  1 clean labels:      x ~ N(0, I), x* = <alpha, x>, y = 1[x* + e > 0],
 *                       e ~ N(0, 1)
 *  2 clean features:    x* ~ N(0, I), x = x* + N(0, I), y = 1[<alpha, x*> > 0]
 *  3 relevant features: x ~ N(0, I), x* = x_J for J the first 3
 *                       coordinates, y = 1[<alpha_J, x*> > 0]
 *  4 sample-dependent relevant features: as 3, but J_i is a random set of
 *                       3 coordinates drawn for each sample
 *
 * Distillation uses T = 1 and lambda = 1 with the student at temperature 1,
 * as in the authors' code. lupi_compare_run_each() redraws the data for
 * each repetition; the program prints mean +- std test accuracy over the
 * repetitions for the teacher (on x*), the student on labels and the
 * distilled student.
 *
 * usage: synthetic [--reps R] [--epochs E] [--n N] [--lambda L] [--T T]
 *        (defaults 20, 200, 200, 1, 1; the paper used 100 repetitions)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

#include "synthetic_data.h"

struct settings {
	int reps, epochs, n;
	double lambda, temp;
};

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "synthetic: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static lupi_dataset *dataset(int e, const double *alpha, size_t n)
{
	float *x = malloc(n * D * sizeof(*x));
	float *xs = malloc(n * D * sizeof(*xs));
	int32_t *y = malloc(n * sizeof(*y));
	lupi_dataset *ds;
	size_t dstar;

	if (!x || !xs || !y) {
		fprintf(stderr, "synthetic: out of memory\n");
		exit(1);
	}
	dstar = generate(e, alpha, n, x, xs, y);
	check(lupi_dataset_create(n, D, x, &ds), "dataset");
	check(lupi_dataset_set_privileged(ds, dstar, xs, NULL), "x*");
	check(lupi_dataset_set_labels(ds, 2, y), "labels");
	free(x);
	free(xs);
	free(y);
	return ds;
}

static lupi_model *logreg(const struct settings *s, size_t n_in, int view)
{
	lupi_model *m;

	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, NULL, 0, 2,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, s->epochs), "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 20), "batch");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), "lr");
	return m;
}

/* The data of one experiment, redrawn for every repetition. */
struct draw {
	const struct settings *s;
	int e;
	lupi_dataset *train, *test; /* of the current repetition */
};

/* lupi_compare_data_fn: a new alpha, training and test set per repetition. */
static int redraw(void *user, unsigned repeat, uint64_t seed,
		  const lupi_dataset **train, const lupi_dataset **test)
{
	struct draw *d = user;
	double alpha[D];

	(void)repeat;
	(void)seed; /* the models' seed; the data come from rng_state */
	lupi_dataset_free(d->train);
	lupi_dataset_free(d->test);
	for (size_t k = 0; k < D; k++)
		alpha[k] = gauss();
	d->train = dataset(d->e, alpha, (size_t)d->s->n);
	d->test = dataset(d->e, alpha, N_TEST);
	*train = d->train;
	*test = d->test;
	return LUPI_OK;
}

static void experiment(const struct settings *s, int e, const char *name)
{
	size_t dstar = privileged_dim(e);
	struct draw d = {s, e, NULL, NULL};
	lupi_model *tp = logreg(s, dstar, LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = logreg(s, D, LUPI_VIEW_REGULAR);
	lupi_loss *kd;
	lupi_compare *cmp;

	check(lupi_loss_create(LUPI_LOSS_KD, &kd), "loss");
	check(lupi_loss_set_int(kd, LUPI_LOSS_OPT_STUDENT_T, 1), "student T");
	check(lupi_compare_create(tp, sp, &cmp), "compare");
	check(lupi_compare_set_loss(cmp, kd), "compare loss");
	check(lupi_compare_set_grid(cmp, &s->lambda, 1, &s->temp, 1), "grid");
	/* repetition r trains every model with LUPI_MODEL_OPT_SEED r */
	check(lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS, s->reps),
	      "repetitions");
	check(lupi_compare_run_each(cmp, redraw, &d, NULL, NULL), "compare");
	printf("%d %-30s", e, name);
	/* rows: baseline, teacher, labels only, distilled */
	for (size_t row = 1; row <= 3; row++) {
		double mean, sd;

		check(lupi_compare_row(cmp, row, NULL, NULL, NULL, &mean, &sd,
				       NULL, NULL), "row");
		printf("  %.3f +- %.3f", mean, s->reps > 1 ? sd : 0.0);
	}
	putchar('\n');
	lupi_compare_free(cmp);
	lupi_loss_free(kd);
	lupi_model_free(sp);
	lupi_model_free(tp);
	lupi_dataset_free(d.test);
	lupi_dataset_free(d.train);
}

int main(int argc, char **argv)
{
	struct settings s = {20, 200, 200, 1.0, 1.0};

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--reps") == 0)
			s.reps = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			s.epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--n") == 0)
			s.n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--lambda") == 0)
			s.lambda = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--T") == 0)
			s.temp = atof(argv[i + 1]);
	}
	if (s.reps < 1 || s.epochs < 1 || s.n < 10) {
		fprintf(stderr, "synthetic: bad settings\n");
		return 2;
	}
	printf("d = %d, n = %d, %d test samples, %d repetitions, lambda %g, "
	       "T %g\n", D, s.n, N_TEST, s.reps, s.lambda, s.temp);
	printf("%-32s  %-14s  %-14s  %s\n", "experiment", "teacher",
	       "student", "distilled");
	experiment(&s, 1, "clean labels as PI");
	experiment(&s, 2, "clean features as PI");
	experiment(&s, 3, "relevant features as PI");
	experiment(&s, 4, "sample-dep. relevant features");
	return 0;
}
