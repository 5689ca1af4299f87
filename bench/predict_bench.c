/*
 * predict_bench: prediction speed of the two model shapes of the
 * Fashion-MNIST recipe (lupi_bench, ../shared/bench): the 49-256-10 student
 * and the 784-256-10 teacher, random weights (He initialisation) and inputs
 * uniform in [0, 1) (speed does not depend on the values). Per shape: the
 * single-sample latency (mean of a loop of calls, as the peer measures)
 * and the batch throughput (one lupi_model_predict of --batch rows, right
 * after the latency loop, so that the library's worker threads have gone
 * to sleep; with --calls K, K calls back to back, the first of them
 * untimed: the rate while the workers are awake).
 * Each figure is the median of --reps repetitions (--best 1: the best). bench/torch_predict.py
 * measures PyTorch the same way; bench/compare runs both.
 * Prints a table on stderr and one JSON line on stdout.
 *
 * usage: lupi_predict_bench [--threads 1] [--batch 10000] [--reps 7]
 *                           [--cpu 0|1] [--best 0|1] [--calls 1]
 */
#include <lupi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* OpenBLAS's kernel choice (its own symbol; NULL under another BLAS). */
extern char *openblas_get_corename(void) __attribute__((weak));

/* The clock: wall (CLOCK_MONOTONIC), or with --cpu the process's CPU
 * time, which a loaded machine disturbs less (1 thread; with more it adds
 * every thread's time). */
static clockid_t clock_id = CLOCK_MONOTONIC;

static void die(const char *what, int rc)
{
	fprintf(stderr, "predict_bench: %s: %s (%d)\n", what, lupi_errmsg(),
		rc);
	exit(1);
}

/* --best 1: the best repetition instead of the median (a loaded machine
 * gives a second core only now and then). */
static int best;

/* Median, or with --best the largest (rates; latencies are negated). */
static double median(double *v, int n)
{
	double m = bench_median(v, (size_t)n); /* sorts v */

	return best ? v[n - 1] : m;
}

static lupi_model *mlp(size_t n_in)
{
	size_t hidden = 256;
	lupi_model *m;
	int rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, &hidden, 1,
				   10, &m);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0);
	if (rc == LUPI_OK)
		rc = lupi_model_init(m);
	if (rc != LUPI_OK)
		die("model", rc);
	return m;
}

/* Microseconds per single-sample call, mean of `calls` calls. */
static double latency_us(const lupi_model *m, const float *x, size_t n,
			 size_t d, int calls)
{
	float out[10];
	for (int i = 0; i < 100; i++)
		if (lupi_model_predict(m, x + (size_t)i % n * d, 1, d,
				       LUPI_PREDICT_OUTPUT, out) != LUPI_OK)
			die("predict", -1);
	double t0 = bench_clock(clock_id);
	for (int i = 0; i < calls; i++)
		lupi_model_predict(m, x + (size_t)i % n * d, 1, d,
				   LUPI_PREDICT_OUTPUT, out);
	return (bench_clock(clock_id) - t0) / calls * 1e6;
}

/* Samples per second of a call on all n rows: one call, or with calls > 1
 * the calls after an untimed first one. */
static double batch_rate(const lupi_model *m, const float *x, size_t n,
			 size_t d, float *out, int calls)
{
	double t0 = 0.0;
	for (int c = calls > 1 ? -1 : 0; c < calls; c++) {
		if (c == 0)
			t0 = bench_clock(clock_id);
		int rc = lupi_model_predict(m, x, n, d, LUPI_PREDICT_OUTPUT,
					    out);
		if (rc != LUPI_OK)
			die("predict", rc);
	}
	return (double)n * calls / (bench_clock(clock_id) - t0);
}

int main(int argc, char **argv)
{
	int threads = 1, reps = 7, calls = 1;
	size_t batch = 10000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--threads"))
			threads = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch"))
			batch = (size_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--reps"))
			reps = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--calls"))
			calls = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--best"))
			best = atoi(argv[i + 1]) != 0;
		else if (!strcmp(argv[i], "--cpu"))
			clock_id = atoi(argv[i + 1]) ? CLOCK_PROCESS_CPUTIME_ID
						     : CLOCK_MONOTONIC;
		else {
			fputs("usage: lupi_predict_bench [--threads 1] "
			      "[--batch 10000] [--reps 7] [--cpu 0|1] "
			      "[--best 0|1] [--calls 1]\n",
			      stderr);
			return 2;
		}
	}
	if (reps < 1 || reps > 999 || batch < 1 || batch > 1000000 ||
	    calls < 1 || calls > 1000)
		return 2;
	int rc = lupi_set_num_threads(threads);
	if (rc != LUPI_OK)
		die("threads", rc);
	float *x = malloc(batch * 784 * sizeof *x);
	float *out = malloc(batch * 10 * sizeof *out);
	if (!x || !out)
		die("buffers", LUPI_ENOMEM);
	srand(1);
	for (size_t i = 0; i < batch * 784; i++)
		x[i] = (float)rand() / ((float)RAND_MAX + 1.0f);

	static const size_t dims[2] = {49, 784};
	static const char *const names[2] = {"student", "teacher"};
	double lat[2], rate[2];
	for (int s = 0; s < 2; s++) {
		lupi_model *m = mlp(dims[s]);
		static double l[999], r[999];
		batch_rate(m, x, batch, dims[s], out, 1); /* warm-up */
		for (int k = 0; k < reps; k++) {
			l[k] = latency_us(m, x, batch, dims[s],
					  s == 0 ? 20000 : 2000);
			r[k] = batch_rate(m, x, batch, dims[s], out, calls);
		}
		for (int k = 0; k < reps; k++)
			l[k] = -l[k];
		lat[s] = -median(l, reps);
		rate[s] = median(r, reps);
		lupi_model_free(m);
	}
	const char *core = openblas_get_corename ? openblas_get_corename()
						 : "unknown";
	fprintf(stderr,
		"liblupi %s, threads %d, batch %zu x %d calls, OpenBLAS core "
		"%s, %s %d, %s time\n%-8s %14s %16s\n%-8s %14.3f %16.0f\n"
		"%-8s %14.3f %16.0f\n",
		lupi_version_string(), threads, batch, calls, core,
		best ? "best of" : "medians of", reps,
		clock_id == CLOCK_MONOTONIC ? "wall" : "CPU", "model",
		"single us", "batch samples/s", names[0], lat[0], rate[0],
		names[1], lat[1], rate[1]);
	printf("{\"lib\": \"liblupi %s\", \"threads\": %d, \"batch\": %zu, "
	       "\"calls\": %d, "
	       "\"core\": \"%s\", \"clock\": \"%s\", \"stat\": \"%s\", "
	       "\"student_predict_latency_us\": %.4f, "
	       "\"student_batch_samples_per_s\": %.0f, "
	       "\"teacher_predict_latency_us\": %.4f, "
	       "\"teacher_batch_samples_per_s\": %.0f}\n",
	       lupi_version_string(), threads, batch, calls, core,
	       clock_id == CLOCK_MONOTONIC ? "wall" : "cpu",
	       best ? "best" : "median", lat[0], rate[0],
	       lat[1], rate[1]);
	free(x);
	free(out);
	return 0;
}
