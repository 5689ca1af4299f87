/*
 * dp_step: the cost of a private DP-SGD step against a normal step, on the
 * teacher of lupi_bench (Fashion-MNIST X* = the 28x28 image, an MLP
 * 784-256-10, Adam, batch 128). One epoch of lupi_model_fit (shuffled
 * batches of 128) against one epoch of lupi_model_fit_dp (Poisson
 * sampling at q = 128/n, the same number of steps: ceil(n/128)); per-step
 * seconds are the medians over --reps epochs of each. Prints a table on
 * stderr and one JSON line on stdout.
 *
 *   build/bench/dp_step [--n 60000] [--reps 3] [--threads 1]
 *                       [--hidden 256] [--data DIR]
 */
#include <lupi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define MAX_REPS 32

static void die(const char *what, int rc)
{
	fprintf(stderr, "dp_step: %s: %s (%s)\n", what, lupi_strerror(rc),
		lupi_errmsg());
	exit(1);
}

static lupi_model *teacher(size_t hidden)
{
	lupi_model *m;
	int rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, 784, &hidden, 1,
				   10, &m);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW,
					LUPI_VIEW_PRIVILEGED);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 128);
	if (rc == LUPI_OK)
		rc = lupi_model_init(m);
	if (rc != LUPI_OK)
		die("model", rc);
	return m;
}

int main(int argc, char **argv)
{
	size_t n = 60000, hidden = 256;
	int reps = 3, threads = 1;
	const char *dir = "/usr/share/datasets/fashion-mnist";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--n"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--hidden"))
			hidden = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--data"))
			dir = argv[i + 1];
	}
	if (reps < 1 || reps > MAX_REPS || n < 128 || hidden == 0) {
		fputs("usage: dp_step [--n N>=128] [--reps 1..32] [--threads T] "
		      "[--hidden H] [--data DIR]\n", stderr);
		return 2;
	}
	lupi_set_num_threads(threads);
	char img[1024], lab[1024];
	snprintf(img, sizeof img, "%s/train-images-idx3-ubyte.gz", dir);
	snprintf(lab, sizeof lab, "%s/train-labels-idx1-ubyte.gz", dir);
	lupi_reader *r;
	lupi_dataset *ds;
	int rc = lupi_reader_create(&r);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, 4);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS,
					 (int64_t)n);
	if (rc == LUPI_OK)
		rc = lupi_dataset_load_idx(img, lab, r, &ds);
	lupi_reader_free(r);
	if (rc != LUPI_OK) {
		fprintf(stderr, "dp_step: %s\n", lupi_errmsg());
		return rc == LUPI_EIO ? 77 : 1;
	}
	n = lupi_dataset_rows(ds);
	size_t steps = (n + 127) / 128;
	lupi_dp *dp;
	if ((rc = lupi_dp_create(&dp)) ||
	    (rc = lupi_dp_set_double(dp, LUPI_DP_OPT_NOISE, 1.1)))
		die("dp", rc);
	double plain[MAX_REPS], priv[MAX_REPS];
	for (int k = 0; k < reps; k++) {
		/* a fresh model each time: a private fit refuses to go on
		 * from another fit's record at other parameters */
		lupi_model *a = teacher(hidden), *b = teacher(hidden);
		double t0 = bench_now();
		if ((rc = lupi_model_fit(a, ds, NULL, NULL, NULL)))
			die("fit", rc);
		double t1 = bench_now();
		if ((rc = lupi_model_fit_dp(b, dp, ds, NULL, NULL, NULL)))
			die("fit_dp", rc);
		double t2 = bench_now();
		plain[k] = (t1 - t0) / (double)steps;
		priv[k] = (t2 - t1) / (double)steps;
		lupi_model_free(a);
		lupi_model_free(b);
	}
	double p = bench_median(plain, (size_t)reps);
	double q = bench_median(priv, (size_t)reps);
	fprintf(stderr, "liblupi %s, n=%zu, 784-%zu-10, batch 128, %zu steps, "
		"threads=%d, median of %d epochs\n"
		"normal step  %8.3f ms\nprivate step %8.3f ms\nratio        "
		"%8.2f\n", lupi_version_string(), n, hidden, steps, threads,
		reps, p * 1e3, q * 1e3, q / p);
	printf("{\"n\": %zu, \"hidden\": %zu, \"threads\": %d, \"reps\": %d, "
	       "\"normal_step_ms\": %.4f, \"private_step_ms\": %.4f, "
	       "\"ratio\": %.4f}\n", n, hidden, threads, reps, p * 1e3,
	       q * 1e3, q / p);
	lupi_dp_free(dp);
	lupi_dataset_free(ds);
	return 0;
}
