/*
 * fashion_mnist.c - MLPs on Fashion-MNIST (Xiao, Rasul & Vollgraf 2017):
 * 784-256-10 on the 28x28 images and 49-256-10 on 7x7 images of 4x4 block
 * means, both read by lupi_dataset_load_idx() with LUPI_READER_OPT_IDX_POOL 4
 * (the 28x28 image is the privileged view X*, the 7x7 image the regular
 * view X). Prints test accuracy and the time of each epoch.
 *
 * usage: fashion_mnist [--epochs N] [--n TRAINING_SAMPLES] [--dir DIR]
 * Exits 77 (the test harness's "skipped") when the data are not installed
 * (Debian package dataset-fashion-mnist).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lupi.h>

#include "fmnist_load.h"

struct timing {
	double last;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int on_progress(void *user, const lupi_progress *p)
{
	struct timing *t = user;
	double tnow = now();

	if (!p->epoch_end)
		return 0;
	printf("  epoch %u/%u  loss %.4f  %.2f s\n", p->epoch, p->epochs,
	       p->loss, tnow - t->last);
	t->last = tnow;
	return 0;
}

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "fashion_mnist: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static lupi_dataset *load(const char *dir, const char *set, long n)
{
	lupi_dataset *ds;

	check(fmnist_load(dir, set, n, 4, &ds), set);
	return ds;
}

static void run(const char *name, int view, const lupi_dataset *train,
		const lupi_dataset *test, int epochs)
{
	size_t hidden = 256;
	lupi_model *m;
	struct timing t;
	double acc, t0;

	check(lupi_model_create(LUPI_TASK_CLASSIFICATION,
				lupi_dataset_dim(train, view), &hidden, 1, 10,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs), "epochs");
	printf("%s (%zu-256-10), %zu training samples:\n", name,
	       lupi_dataset_dim(train, view), lupi_dataset_rows(train));
	t0 = t.last = now();
	check(lupi_model_fit(m, train, NULL, on_progress, &t), "fit");
	check(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY, &acc),
	      "evaluate");
	printf("  test accuracy %.4f  (%.2f s per epoch)\n", acc,
	       (now() - t0) / epochs);
	lupi_model_free(m);
}

int main(int argc, char **argv)
{
	const char *dir = "/usr/share/datasets/fashion-mnist";
	int epochs = 5;
	long n = 0;
	char probe[600];
	lupi_dataset *train, *test;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--epochs") == 0)
			epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--n") == 0)
			n = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (epochs < 1 || n < 0) {
		fprintf(stderr, "usage: fashion_mnist [--epochs N] [--n N] "
			"[--dir DIR]\n");
		return 2;
	}
	snprintf(probe, sizeof(probe), "%s/train-images-idx3-ubyte.gz", dir);
	if (access(probe, R_OK) != 0) {
		printf("fashion_mnist: %s not found; install the Debian "
		       "package dataset-fashion-mnist. Skipped.\n", probe);
		return 77;
	}
	train = load(dir, "train", n);
	test = load(dir, "t10k", 0);
	run("28x28 images", LUPI_VIEW_PRIVILEGED, train, test, epochs);
	run("7x7 block means", LUPI_VIEW_REGULAR, train, test, epochs);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	return 0;
}
