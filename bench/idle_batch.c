/*
 * idle_batch: a batch prediction that comes after an idle moment, as a
 * server's does. The 49-256-10 student (random weights) predicts --batch
 * rows once every --idle milliseconds (the process sleeps in between, so
 * both the caller's CPU and the library's worker are idle when the call
 * starts); prints the median and the fastest of --calls such calls.
 * doc/performance.md (Round 4) compares 1 and 2 threads with it.
 *
 * usage: idle_batch [--threads 2] [--batch 10000] [--idle 20] [--calls 41]
 */
#include <lupi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

static void die(const char *what, int rc)
{
	fprintf(stderr, "idle_batch: %s: %s\n", what,
		rc < 0 ? "bad argument" : lupi_errmsg());
	exit(1);
}

int main(int argc, char **argv)
{
	int threads = 2, idle_ms = 20, calls = 41;
	size_t batch = 10000, hidden[1] = {256}, in = 49;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch"))
			batch = (size_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--idle"))
			idle_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--calls"))
			calls = atoi(argv[i + 1]);
		else
			die("usage: idle_batch [--threads 2] [--batch 10000] "
			    "[--idle 20] [--calls 41]", -1);
	}
	if (batch < 1 || batch > 1000000 || idle_ms < 0 || idle_ms > 10000 ||
	    calls < 1 || calls > 999)
		die("arguments out of range", -1);
	int rc = lupi_set_num_threads(threads);
	if (rc != LUPI_OK)
		die("threads", rc);
	lupi_model *m;
	if ((rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, in, hidden, 1,
				    10, &m)) != LUPI_OK ||
	    (rc = lupi_model_init(m)) != LUPI_OK)
		die("model", rc);
	float *x = malloc(batch * in * sizeof *x);
	float *out = malloc(batch * 10 * sizeof *out);
	double *t = malloc((size_t)calls * sizeof *t);
	if (!x || !out || !t)
		die("buffers", -1);
	srand(1);
	for (size_t i = 0; i < batch * in; i++)
		x[i] = (float)rand() / ((float)RAND_MAX + 1.0f);
	struct timespec nap = {idle_ms / 1000, idle_ms % 1000 * 1000000L};
	for (int c = -1; c < calls; c++) { /* call -1: warm-up */
		nanosleep(&nap, NULL);
		double t0 = bench_now();
		rc = lupi_model_predict(m, x, batch, in, LUPI_PREDICT_OUTPUT,
					out);
		if (rc != LUPI_OK)
			die("predict", rc);
		if (c >= 0)
			t[c] = bench_now() - t0;
	}
	double best = t[0];
	for (int c = 1; c < calls; c++)
		best = t[c] < best ? t[c] : best;
	double med = bench_median(t, (size_t)calls);
	printf("{\"lib\": \"liblupi %s\", \"threads\": %d, \"batch\": %zu, "
	       "\"idle_ms\": %d, \"calls\": %d, \"median_ms\": %.3f, "
	       "\"best_ms\": %.3f, \"samples_per_s\": %.0f}\n",
	       lupi_version_string(), threads, batch, idle_ms, calls,
	       med * 1e3, best * 1e3, (double)batch / med);
	free(t);
	free(out);
	free(x);
	lupi_model_free(m);
	return 0;
}
