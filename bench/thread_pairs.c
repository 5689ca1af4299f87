/*
 * thread_pairs: 1-thread against N-thread epochs, paired in one process, so
 * that a loaded machine disturbs both sides of each ratio alike. Each pair
 * trains a fresh teacher (X*, 784-256-10) for one epoch at 1 thread, then
 * at N, then the same for a hard-label student (X, 49-256-10); prints the
 * medians of the epoch times and of the pairwise ratios (doc/performance.md,
 * Round 2).
 *
 * usage: thread_pairs [pairs 7] [threads 2] [samples 60000]
 *        [dir /usr/share/datasets/fashion-mnist]
 */
#include <lupi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

#define MAX_PAIRS 64

static void die(const char *what)
{
	fprintf(stderr, "thread_pairs: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

/* Seconds of one epoch of a fresh 256-hidden MLP on a view. */
static double epoch(const lupi_dataset *ds, int view, int threads)
{
	if (lupi_set_num_threads(threads) != LUPI_OK)
		die("threads");
	size_t hidden[1] = {256};
	lupi_model *m;
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION,
			      lupi_dataset_dim(ds, view), hidden, 1, 10, &m) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1) ||
	    lupi_model_init(m))
		die("model");
	double t0 = bench_now();
	if (lupi_model_fit(m, ds, NULL, NULL, NULL) != LUPI_OK)
		die("fit");
	double t = bench_now() - t0;
	lupi_model_free(m);
	return t;
}

int main(int argc, char **argv)
{
	int pairs = argc > 1 ? atoi(argv[1]) : 7;
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	long n = argc > 3 ? atol(argv[3]) : 60000;
	const char *dir = argc > 4 ? argv[4] : "/usr/share/datasets/fashion-mnist";
	if (pairs < 1 || pairs > MAX_PAIRS || threads < 1 || n < 1) {
		fputs("usage: thread_pairs [pairs 1..64] [threads] [samples] [dir]\n",
		      stderr);
		return 2;
	}
	char img[1024], lab[1024];
	snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
	snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
	lupi_reader *r;
	lupi_dataset *ds;
	if (lupi_reader_create(&r) ||
	    lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, 4) ||
	    lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, n))
		die("reader");
	if (lupi_dataset_load_idx(img, lab, r, &ds) != LUPI_OK) {
		fprintf(stderr, "thread_pairs: %s\n", lupi_errmsg());
		return 77;
	}
	lupi_reader_free(r);
	static const char *names[2] = {"teacher (X*, 784-256-10)",
				       "student (X, 49-256-10)"};
	static const int views[2] = {LUPI_VIEW_PRIVILEGED, LUPI_VIEW_REGULAR};
	double one[2][MAX_PAIRS], many[2][MAX_PAIRS], ratio[2][MAX_PAIRS];
	epoch(ds, LUPI_VIEW_REGULAR, 1); /* warm-up: page faults, pools */
	for (int p = 0; p < pairs; p++)
		for (int k = 0; k < 2; k++) {
			one[k][p] = epoch(ds, views[k], 1);
			many[k][p] = epoch(ds, views[k], threads);
			ratio[k][p] = one[k][p] / many[k][p];
		}
	char blas[512];
	if (lupi_blas_info(blas, sizeof blas) != LUPI_OK)
		snprintf(blas, sizeof blas, "?");
	printf("%s; %d pairs, %ld samples, medians\n", blas, pairs, n);
	for (int k = 0; k < 2; k++) {
		double a = bench_median(one[k], (size_t)pairs);
		double b = bench_median(many[k], (size_t)pairs);
		printf("%-26s 1 thread %.4f s, %d threads %.4f s, "
		       "speed-up (median of pairs) %.3f\n",
		       names[k], a, threads, b,
		       bench_median(ratio[k], (size_t)pairs));
	}
	lupi_dataset_free(ds);
	return 0;
}
