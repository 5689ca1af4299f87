/*
 * families.c - the four families of learning using privileged information
 * side by side on the synthetic experiments of Lopez-Paz, Bottou,
 * Schoelkopf & Vapnik (ICLR 2016, section 4.1; the generator is the one of
 * examples/synthetic.c): per repetition a new alpha, n training and 1000
 * test samples, d = 50. Test accuracy, mean +- std over the repetitions:
 *
 *  SVM        a plain C-SVM on X (lupi_svm with PLAIN = 1), linear kernel
 *  SVM+       SVM+ (Vapnik & Vashist 2009), linear kernels on X and X*
 *  distilled  generalized distillation: a logistic regression student on X
 *             distilled from a logistic regression teacher on X* (T = 1,
 *             lambda = 1), run by lupi_compare as in synthetic.c
 *  transfer   knowledge transfer (Vapnik & Izmailov 2015), the recipe of
 *             doc/families.md: a linear regression X -> X* fitted on the
 *             training set, and the X*-teacher applied to its prediction
 *             X*-hat of each test sample
 *
 * plus the teacher on X* and the student on labels only. C = 1 and
 * gamma = 1 are fixed, not tuned.
 *
 * usage: families [--reps R] [--epochs E] [--n N] [--c C] [--gamma G]
 *        (defaults 10, 200, 200, 1, 1)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

#include "synthetic_data.h"

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "families: %s: %s\n", what, lupi_errmsg());
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
		fprintf(stderr, "families: out of memory\n");
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


struct settings {
	int reps, epochs, n;
	double c, gamma;
};

static lupi_model *linear(const struct settings *s, int task, size_t n_in,
			  size_t n_out, int view)
{
	lupi_model *m;

	check(lupi_model_create(task, n_in, NULL, 0, n_out, &m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, s->epochs), "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 20), "batch");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), "lr");
	return m;
}

/* Accuracies of the methods outside lupi_compare, per repetition. */
enum { M_SVM, M_SVMPLUS, M_TRANSFER, N_OWN };

struct draw {
	const struct settings *s;
	int e;
	lupi_dataset *train, *test;
	double acc[N_OWN][1000];
};

static double svm_accuracy(const struct settings *s, const lupi_dataset *train,
			   const lupi_dataset *test, int plain)
{
	size_t n = lupi_dataset_rows(test);
	const int32_t *y = lupi_dataset_labels(test);
	int32_t *p = malloc(n * sizeof(*p));
	lupi_svm *svm;
	size_t right = 0;

	check(lupi_svm_create(&svm), "svm");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_PLAIN, plain), "plain");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_KERNEL,
			       LUPI_SVM_KERNEL_LINEAR), "kernel");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_PRIV_KERNEL,
			       LUPI_SVM_KERNEL_LINEAR), "kernel*");
	check(lupi_svm_set_double(svm, LUPI_SVM_OPT_C, s->c), "C");
	check(lupi_svm_set_double(svm, LUPI_SVM_OPT_GAMMA, s->gamma), "gamma");
	check(lupi_svm_fit(svm, train), "svm fit");
	check(lupi_svm_predict(svm, test, p), "svm predict");
	for (size_t i = 0; i < n; i++)
		right += p[i] == y[i];
	lupi_svm_free(svm);
	free(p);
	return (double)right / (double)n;
}

/* Knowledge transfer: regress X* on X, train the teacher on X*, and let it
 * classify X*-hat of the test samples. */
static double transfer_accuracy(const struct settings *s,
				const lupi_dataset *train,
				const lupi_dataset *test, uint64_t seed)
{
	size_t n = lupi_dataset_rows(train), nt = lupi_dataset_rows(test);
	size_t ds = lupi_dataset_dim(train, LUPI_VIEW_PRIVILEGED);
	const int32_t *y = lupi_dataset_labels(test);
	lupi_dataset *reg_data;
	lupi_model *reg = linear(s, LUPI_TASK_REGRESSION, D, ds,
				 LUPI_VIEW_REGULAR);
	lupi_model *teacher = linear(s, LUPI_TASK_CLASSIFICATION, ds, 2,
				     LUPI_VIEW_PRIVILEGED);
	float *xhat = malloc(nt * ds * sizeof(*xhat));
	int32_t *p = malloc(nt * sizeof(*p));
	size_t right = 0;

	check(lupi_dataset_create(n, D, lupi_dataset_features(train,
							       LUPI_VIEW_REGULAR),
				  &reg_data), "regression data");
	check(lupi_dataset_set_targets(reg_data, ds,
				       lupi_dataset_features(train,
						LUPI_VIEW_PRIVILEGED)),
	      "regression targets");
	check(lupi_model_set_int(reg, LUPI_MODEL_OPT_SEED, (int64_t)seed),
	      "seed");
	check(lupi_model_set_int(teacher, LUPI_MODEL_OPT_SEED, (int64_t)seed),
	      "seed");
	check(lupi_model_fit(reg, reg_data, NULL, NULL, NULL), "regression");
	check(lupi_model_fit(teacher, train, NULL, NULL, NULL), "teacher");
	check(lupi_model_predict(reg, lupi_dataset_features(test,
							    LUPI_VIEW_REGULAR),
				 nt, D, LUPI_PREDICT_OUTPUT, xhat), "x*-hat");
	check(lupi_model_predict_class(teacher, xhat, nt, ds, p),
	      "teacher on x*-hat");
	for (size_t i = 0; i < nt; i++)
		right += p[i] == y[i];
	free(p);
	free(xhat);
	lupi_model_free(teacher);
	lupi_model_free(reg);
	lupi_dataset_free(reg_data);
	return (double)right / (double)nt;
}

/* lupi_compare_data_fn: a new alpha, training and test set per repetition;
 * the methods outside lupi_compare run here on the same data. */
static int redraw(void *user, unsigned repeat, uint64_t seed,
		  const lupi_dataset **train, const lupi_dataset **test)
{
	struct draw *d = user;
	double alpha[D];

	lupi_dataset_free(d->train);
	lupi_dataset_free(d->test);
	for (size_t k = 0; k < D; k++)
		alpha[k] = gauss();
	d->train = dataset(d->e, alpha, (size_t)d->s->n);
	d->test = dataset(d->e, alpha, N_TEST);
	d->acc[M_SVM][repeat] = svm_accuracy(d->s, d->train, d->test, 1);
	d->acc[M_SVMPLUS][repeat] = svm_accuracy(d->s, d->train, d->test, 0);
	d->acc[M_TRANSFER][repeat] = transfer_accuracy(d->s, d->train, d->test,
						       seed);
	*train = d->train;
	*test = d->test;
	return LUPI_OK;
}

static void print_mean(const double *v, int n)
{
	double m = 0, q = 0;

	for (int i = 0; i < n; i++)
		m += v[i] / n;
	for (int i = 0; i < n; i++)
		q += (v[i] - m) * (v[i] - m);
	printf("  %.3f +- %.3f", m, n > 1 ? sqrt(q / (n - 1)) : 0.0);
}

static void experiment(const struct settings *s, int e, const char *name)
{
	size_t dstar = privileged_dim(e);
	struct draw *d = calloc(1, sizeof(*d));
	lupi_model *tp = linear(s, LUPI_TASK_CLASSIFICATION, dstar, 2,
				LUPI_VIEW_PRIVILEGED);
	lupi_model *sp = linear(s, LUPI_TASK_CLASSIFICATION, D, 2,
				LUPI_VIEW_REGULAR);
	double one = 1;
	lupi_loss *kd;
	lupi_compare *cmp;

	d->s = s;
	d->e = e;
	check(lupi_loss_create(LUPI_LOSS_KD, &kd), "loss");
	check(lupi_loss_set_int(kd, LUPI_LOSS_OPT_STUDENT_T, 1), "student T");
	check(lupi_compare_create(tp, sp, &cmp), "compare");
	check(lupi_compare_set_loss(cmp, kd), "compare loss");
	check(lupi_compare_set_grid(cmp, &one, 1, &one, 1), "grid");
	check(lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS, s->reps),
	      "repetitions");
	check(lupi_compare_run_each(cmp, redraw, d, NULL, NULL), "compare");
	printf("%d %-24s", e, name);
	/* compare rows: baseline, teacher, labels only, distilled */
	for (size_t row = 1; row <= 3; row++) {
		double mean, sd;

		check(lupi_compare_row(cmp, row, NULL, NULL, NULL, &mean, &sd,
				       NULL, NULL), "row");
		printf("  %.3f +- %.3f", mean, s->reps > 1 ? sd : 0.0);
	}
	for (int m = 0; m < N_OWN; m++)
		print_mean(d->acc[m], s->reps);
	putchar('\n');
	lupi_compare_free(cmp);
	lupi_loss_free(kd);
	lupi_model_free(sp);
	lupi_model_free(tp);
	lupi_dataset_free(d->test);
	lupi_dataset_free(d->train);
	free(d);
}

int main(int argc, char **argv)
{
	struct settings s = {10, 200, 200, 1.0, 1.0};

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--reps") == 0)
			s.reps = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			s.epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--n") == 0)
			s.n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--c") == 0)
			s.c = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--gamma") == 0)
			s.gamma = atof(argv[i + 1]);
	}
	if (s.reps < 1 || s.reps > 1000 || s.epochs < 1 || s.n < 10 ||
	    !(s.c > 0) || !(s.gamma > 0)) {
		fprintf(stderr, "families: bad settings\n");
		return 2;
	}
	printf("d = %d, n = %d, %d test samples, %d repetitions, C %g, "
	       "gamma %g\n", D, s.n, N_TEST, s.reps, s.c, s.gamma);
	printf("%-26s  %-14s  %-14s  %-14s  %-14s  %-14s  %s\n", "experiment",
	       "teacher (X*)", "student (X)", "distilled", "SVM", "SVM+",
	       "transfer");
	experiment(&s, 1, "clean labels as PI");
	experiment(&s, 2, "clean features as PI");
	experiment(&s, 3, "relevant features as PI");
	experiment(&s, 4, "sample-dep. relevant");
	return 0;
}
