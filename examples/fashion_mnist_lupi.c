/*
 * fashion_mnist_lupi.c - learning using privileged information on
 * Fashion-MNIST: a teacher MLP sees the 28x28 image (X*), students see only
 * a 7x7 image of 4x4 block means (X). A comparison (lupi_compare_create(),
 * lupi_compare_run()) trains, for each seed, the teacher, a student on
 * labels only and a distilled student for every (lambda, T) of the grid,
 * all students from the same initial weights, and reports mean +- std test
 * accuracy and the paired difference to the labels-only student.
 *
 * usage: fashion_mnist_lupi [--n N] [--test-n N] [--epochs E] [--seeds S]
 *                           [--hidden H] [--dir DIR]
 *        (defaults: all 60000 training images, all 10000 test images,
 *        5 epochs, 3 seeds, 256 hidden units)
 * Exits 77 when the data are not installed (dataset-fashion-mnist).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lupi.h>

#include "fmnist_load.h"

static const double lambdas[] = {0.25, 0.5, 0.75, 1.0};
static const double temps[] = {1, 2, 4, 8};
#define N_L (sizeof(lambdas) / sizeof(lambdas[0]))
#define N_T (sizeof(temps) / sizeof(temps[0]))

struct settings {
	long n, test_n;
	int epochs, seeds, hidden;
	const char *dir;
};

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "fashion_mnist_lupi: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static lupi_dataset *load(const char *dir, const char *set, long n)
{
	lupi_dataset *ds;

	check(fmnist_load(dir, set, n, 4, &ds), set);
	return ds;
}

static lupi_model *mlp(const struct settings *s, const lupi_dataset *ds,
		       int view)
{
	size_t hidden = (size_t)s->hidden;
	lupi_model *m;

	check(lupi_model_create(LUPI_TASK_CLASSIFICATION,
				lupi_dataset_dim(ds, view), &hidden, 1, 10,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, s->epochs), "epochs");
	return m;
}

static int progress(void *user, const lupi_progress *p)
{
	(void)user;
	if (!isatty(STDERR_FILENO))
		return 0;
	fprintf(stderr, "\rtrained %u of %u models", p->epoch, p->epochs);
	if (p->epoch == p->epochs)
		fputc('\n', stderr);
	return 0;
}

static void print_table(const lupi_compare *cmp)
{
	static const char *names[] = {"baseline (majority)",
				      "teacher, 28x28", "student, labels only",
				      "student, distilled"};

	printf("%-22s %6s %4s  %-17s  %s\n", "model", "lambda", "T",
	       "test accuracy", "minus labels only");
	for (size_t i = 0; i < lupi_compare_rows(cmp); i++) {
		int kind;
		double l, t, m, sd, dm, dsd;

		check(lupi_compare_row(cmp, i, &kind, &l, &t, &m, &sd, &dm,
				       &dsd), "row");
		printf("%-22s ", names[kind]);
		if (kind == LUPI_COMPARE_DISTILLED)
			printf("%6.2f %4g  %.4f +- %.4f  %+.4f +- %.4f\n", l,
			       t, m, sd, dm, dsd);
		else
			printf("%6s %4s  %.4f +- %.4f\n", "", "", m, sd);
	}
}

int main(int argc, char **argv)
{
	struct settings s = {0, 0, 5, 3, 256,
			     "/usr/share/datasets/fashion-mnist"};
	char probe[600];
	lupi_dataset *train, *test;
	lupi_model *tp, *sp;
	lupi_compare *cmp;

	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];

		if (strcmp(a, "--n") == 0)
			s.n = atol(v);
		else if (strcmp(a, "--test-n") == 0)
			s.test_n = atol(v);
		else if (strcmp(a, "--epochs") == 0)
			s.epochs = atoi(v);
		else if (strcmp(a, "--seeds") == 0)
			s.seeds = atoi(v);
		else if (strcmp(a, "--hidden") == 0)
			s.hidden = atoi(v);
		else if (strcmp(a, "--dir") == 0)
			s.dir = v;
	}
	if (s.n < 0 || s.test_n < 0 || s.epochs < 1 || s.seeds < 1 ||
	    s.hidden < 1) {
		fprintf(stderr, "fashion_mnist_lupi: bad settings\n");
		return 2;
	}
	snprintf(probe, sizeof(probe), "%s/train-images-idx3-ubyte.gz", s.dir);
	if (access(probe, R_OK) != 0) {
		printf("fashion_mnist_lupi: %s not found; install the Debian "
		       "package dataset-fashion-mnist. Skipped.\n", probe);
		return 77;
	}
	train = load(s.dir, "train", s.n);
	test = load(s.dir, "t10k", s.test_n);
	tp = mlp(&s, train, LUPI_VIEW_PRIVILEGED);
	sp = mlp(&s, train, LUPI_VIEW_REGULAR);
	printf("%zu training, %zu test images; teacher %zu-%d-10 on X*, "
	       "students %zu-%d-10 on X; %d epochs, %d seeds\n",
	       lupi_dataset_rows(train), lupi_dataset_rows(test),
	       lupi_dataset_dim(train, LUPI_VIEW_PRIVILEGED), s.hidden,
	       lupi_dataset_dim(train, LUPI_VIEW_REGULAR), s.hidden, s.epochs,
	       s.seeds);
	check(lupi_compare_create(tp, sp, &cmp), "compare");
	check(lupi_compare_set_grid(cmp, lambdas, N_L, temps, N_T), "grid");
	check(lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS, s.seeds),
	      "seeds");
	check(lupi_compare_run(cmp, train, test, progress, NULL), "compare");
	print_table(cmp);
	lupi_compare_free(cmp);
	lupi_model_free(sp);
	lupi_model_free(tp);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	return 0;
}
