/*
 * lupi_bench: liblupi on the recipe of ../shared/bench/torch_fmnist_lupi.py.
 * Fashion-MNIST, X* = the 28x28 image, X = 7x7 means of 4x4 blocks; a
 * teacher MLP on X*, a hard-label and a distilled student (KD, T, lambda) of
 * the same shape on X; Adam, constant learning rate, shuffled minibatches.
 * Prints a table on stderr and one JSON line on stdout.
 *
 * The GEMM roofline: the same run times cblas_sgemm alone on the exact
 * shapes of one teacher epoch (forward, weight gradients, the one input
 * gradient that backprop needs), with OpenBLAS set explicitly to --threads
 * threads (its own split of each GEMM); roofline_fraction = that time / the
 * measured epoch time, both medians (GEMM: of 5 repetitions; epochs: of the
 * run's epochs). The *_cpu_s fields are the same medians in process CPU
 * time, which a loaded machine disturbs less (1 thread; with 2 threads they
 * add both threads' time, spinning included). The BLAS (lupi_blas_info(),
 * whose core type decides the kernels) and the GEMM-only rate are printed
 * beside the figures and in the JSON line (blas_core, gemm_gflops).
 *
 * --models picks what runs (a profiling run of the teacher alone:
 * --models teacher); bench/scaling uses --models teacher,roofline.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include <cblas.h>
#include <dlfcn.h>
#include <errno.h>
#include <lupi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

#define MAX_EPOCHS 1000

struct args {
	size_t n, batch;
	int epochs, threads;
	size_t hidden[8], n_hidden;
	double lr, temperature, lambda;
	unsigned long seed;
	const char *dir;
	unsigned models; /* RUN_* bits */
};

enum {
	RUN_TEACHER = 1, RUN_HARD = 2, RUN_DISTILLED = 4, RUN_PREDICT = 8,
	RUN_ROOFLINE = 16, RUN_ALL = 31
};

/* Wall-clock and process CPU seconds of each epoch: on a loaded machine
 * the CPU time (1 thread) shows what the wall clock hides. */
struct timing {
	double t_last, c_last;
	double epoch_s[MAX_EPOCHS], epoch_cpu_s[MAX_EPOCHS];
	unsigned n;
};

static int on_progress(void *user, const lupi_progress *p)
{
	struct timing *tm = user;
	if (p->epoch_end && tm->n < MAX_EPOCHS) {
		double t = bench_now(), c = bench_cpu_now();
		tm->epoch_s[tm->n] = t - tm->t_last;
		tm->epoch_cpu_s[tm->n++] = c - tm->c_last;
		tm->t_last = t;
		tm->c_last = c;
	}
	return 0;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "lupi_bench: %s: %s (%s)\n", what, lupi_strerror(rc),
		lupi_errmsg());
	exit(1);
}

static lupi_model *make_mlp(const struct args *a, size_t n_in, int view,
			    unsigned long seed)
{
	lupi_model *m;
	int rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, a->hidden,
				   a->n_hidden, 10, &m);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view);
	if (rc == LUPI_OK) /* the peer feeds raw [0,1] pixels */
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, a->epochs);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, (int64_t)a->batch);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed);
	if (rc == LUPI_OK)
		rc = lupi_model_set_double(m, LUPI_MODEL_OPT_LR, a->lr);
	/* initialised before the clock starts, as the peer's modules are (the
	 * same weights fit would draw from SEED) */
	if (rc == LUPI_OK)
		rc = lupi_model_init(m);
	if (rc != LUPI_OK)
		die("model", rc);
	return m;
}

static double accuracy(const lupi_model *m, const lupi_dataset *test)
{
	double acc;
	int rc = lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY, &acc);
	if (rc != LUPI_OK)
		die("evaluate", rc);
	return acc;
}

/* OpenBLAS's thread count, set for the GEMM-only loop (liblupi keeps the
 * BLAS at one thread and splits GEMMs itself); looked up at run time, so
 * that a -Dblas=cblas build links too. 0 when the BLAS is not OpenBLAS. */
static int set_blas_threads(int n)
{
	void *f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
	void *g = dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
	if (f == NULL || g == NULL)
		return 0;
	void (*set)(int);
	int (*get)(void);
	memcpy(&set, &f, sizeof f);
	memcpy(&get, &g, sizeof g);
	set(n);
	return get();
}

/* Seconds cblas_sgemm alone needs for the GEMMs of one teacher epoch: the
 * median of 5 repetitions (the statistic of the epoch times), wall clock and
 * process CPU time into *cpu. The BLAS runs on a->threads threads (its own
 * split of each GEMM), set here explicitly, and back on 1 afterwards. */
static double gemm_epoch_seconds(const struct args *a, size_t d_in,
				 double *cpu, int *blas_threads)
{
	*blas_threads = set_blas_threads(a->threads);
	size_t widths[10], nl = 0;
	widths[nl++] = d_in;
	for (size_t i = 0; i < a->n_hidden; i++)
		widths[nl++] = a->hidden[i];
	widths[nl++] = 10;
	size_t b = a->batch, maxw = 0;
	for (size_t i = 0; i < nl; i++)
		maxw = widths[i] > maxw ? widths[i] : maxw;
	float *x = calloc(b * maxw, sizeof *x), *y = calloc(b * maxw, sizeof *y);
	float *w = calloc(maxw * maxw, sizeof *w), *g = calloc(maxw * maxw, sizeof *g);
	if (!x || !y || !w || !g)
		die("gemm buffers", LUPI_ENOMEM);
	for (size_t i = 0; i < b * maxw; i++)
		x[i] = (float)(i % 7) * 0.1f;
	for (size_t i = 0; i < maxw * maxw; i++)
		w[i] = (float)(i % 5) * 0.01f;
	size_t steps = (a->n + b - 1) / b;
	double wall[5], cpus[5];
	for (int rep = 0; rep < 5; rep++) {
		double t0 = bench_now(), c0 = bench_cpu_now();
		for (size_t s = 0; s < steps; s++) {
			for (size_t l = 0; l + 1 < nl; l++) { /* forward */
				int in = (int)widths[l], out = (int)widths[l + 1];
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b,
					    out, in, 1.0f, x, in, w, in, 0.0f, y, out);
			}
			for (size_t l = nl - 1; l-- > 0;) { /* backward */
				int in = (int)widths[l], out = (int)widths[l + 1];
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in,
					    (int)b, 1.0f, y, out, x, in, 0.0f, g, in);
				if (l > 0)
					cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
						    (int)b, in, out, 1.0f, y, out, w, in, 0.0f,
						    x, in);
			}
		}
		wall[rep] = bench_now() - t0;
		cpus[rep] = bench_cpu_now() - c0;
	}
	free(x), free(y), free(w), free(g);
	set_blas_threads(1);
	*cpu = bench_median(cpus, 5);
	return bench_median(wall, 5);
}

static double epoch_flops(const struct args *a, size_t d_in)
{
	double f = 0, prev = (double)d_in;
	for (size_t i = 0; i <= a->n_hidden; i++) {
		double out = i < a->n_hidden ? (double)a->hidden[i] : 10.0;
		/* forward and weight gradient always, input gradient past layer 0 */
		f += 2.0 * prev * out * (i > 0 ? 3 : 2);
		prev = out;
	}
	return f * (double)a->n;
}

static void parse_hidden(struct args *a, const char *s)
{
	a->n_hidden = 0;
	while (*s && a->n_hidden < 8) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || v == 0) {
			fprintf(stderr, "lupi_bench: bad --hidden '%s'\n", s);
			exit(2);
		}
		a->hidden[a->n_hidden++] = v;
		s = *end == ',' ? end + 1 : end;
	}
}

static void usage(void)
{
	fputs("usage: lupi_bench [--n N] [--epochs E] [--hidden 256] [--batch 128]\n"
	      "  [--lr 1e-3] [--threads 1] [--T 4] [--lam 0.5] [--seed 0]\n"
	      "  [--data /usr/share/datasets/fashion-mnist]\n"
	      "  [--models teacher,hard,distilled,predict,roofline]\n"
	      "(distilled and predict need teacher, resp. distilled)\n", stderr);
	exit(2);
}

static unsigned parse_models(const char *s)
{
	static const char *names[] = {"teacher", "hard", "distilled",
				      "predict", "roofline"};
	unsigned mask = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		size_t i = 0;
		while (i < 5 && (strlen(names[i]) != len ||
				 strncmp(s, names[i], len)))
			i++;
		if (i == 5)
			usage();
		mask |= 1u << i;
		s += len + (s[len] == ',');
	}
	if ((mask & RUN_DISTILLED) && !(mask & RUN_TEACHER))
		usage();
	if ((mask & RUN_PREDICT) && !(mask & RUN_DISTILLED))
		usage();
	return mask;
}

static void parse(struct args *a, int argc, char **argv)
{
	*a = (struct args){60000, 128, 5, 1, {256}, 1, 1e-3, 4.0, 0.5, 0,
			   "/usr/share/datasets/fashion-mnist", RUN_ALL};
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			usage();
		if (!strcmp(k, "--n"))
			a->n = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--epochs"))
			a->epochs = atoi(v);
		else if (!strcmp(k, "--hidden"))
			parse_hidden(a, v);
		else if (!strcmp(k, "--batch"))
			a->batch = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--lr"))
			a->lr = atof(v);
		else if (!strcmp(k, "--threads"))
			a->threads = atoi(v);
		else if (!strcmp(k, "--T"))
			a->temperature = atof(v);
		else if (!strcmp(k, "--lam"))
			a->lambda = atof(v);
		else if (!strcmp(k, "--seed"))
			a->seed = strtoul(v, NULL, 10);
		else if (!strcmp(k, "--data"))
			a->dir = v;
		else if (!strcmp(k, "--models"))
			a->models = parse_models(v);
		else
			usage();
		i++;
	}
	if (a->n == 0 || a->batch == 0 || a->epochs < 1 || a->epochs > MAX_EPOCHS)
		usage();
}

static lupi_dataset *load(const struct args *a, const char *split, size_t max)
{
	char img[1024], lab[1024];
	snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", a->dir, split);
	snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", a->dir, split);
	lupi_reader *r;
	lupi_dataset *ds;
	int rc = lupi_reader_create(&r);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, 4);
	if (rc == LUPI_OK && max)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, (int64_t)max);
	if (rc == LUPI_OK)
		rc = lupi_dataset_load_idx(img, lab, r, &ds);
	lupi_reader_free(r);
	if (rc != LUPI_OK) {
		fprintf(stderr, "lupi_bench: %s\n", lupi_errmsg());
		exit(rc == LUPI_EIO ? 77 : 1);
	}
	return ds;
}

/* Median epoch seconds, wall clock; CPU seconds into *cpu. */
static double train(lupi_model *m, const lupi_teacher *t, lupi_loss *loss,
		    const lupi_dataset *ds, double *cpu)
{
	struct timing tm = {bench_now(), bench_cpu_now(), {0}, {0}, 0};
	int rc = t ? lupi_student_fit(m, t, loss, ds, NULL, on_progress, &tm)
		   : lupi_model_fit(m, ds, NULL, on_progress, &tm);
	if (rc != LUPI_OK)
		die("fit", rc);
	*cpu = bench_median(tm.epoch_cpu_s, tm.n);
	return bench_median(tm.epoch_s, tm.n);
}

/* Mean microseconds of one single-sample predict, as the peer measures. */
static double latency_us(const lupi_model *m, const lupi_dataset *test)
{
	const float *x = lupi_dataset_features(test, LUPI_VIEW_REGULAR);
	size_t d = lupi_dataset_dim(test, LUPI_VIEW_REGULAR);
	size_t n = lupi_dataset_rows(test);
	float out[10];
	for (int i = 0; i < 100; i++) {
		int rc = lupi_model_predict(m, x + (size_t)i * d, 1, d,
					    LUPI_PREDICT_OUTPUT, out);
		if (rc != LUPI_OK)
			die("predict", rc);
	}
	const int reps = 20000;
	double t0 = bench_now();
	for (int i = 0; i < reps; i++)
		lupi_model_predict(m, x + (size_t)(i % n) * d, 1, d,
				   LUPI_PREDICT_OUTPUT, out);
	return (bench_now() - t0) / reps * 1e6;
}

static double throughput(const lupi_model *m, const lupi_dataset *test)
{
	const float *x = lupi_dataset_features(test, LUPI_VIEW_REGULAR);
	size_t d = lupi_dataset_dim(test, LUPI_VIEW_REGULAR);
	size_t n = lupi_dataset_rows(test);
	float *out = malloc(n * 10 * sizeof *out);
	if (!out)
		die("predict buffer", LUPI_ENOMEM);
	double best = INFINITY;
	for (int rep = 0; rep < 5; rep++) {
		double t0 = bench_now();
		int rc = lupi_model_predict(m, x, n, d, LUPI_PREDICT_OUTPUT, out);
		if (rc != LUPI_OK)
			die("predict", rc);
		double t = bench_now() - t0;
		best = t < best ? t : best;
	}
	free(out);
	return (double)n / best;
}

/* Appends one JSON member to the output line. */
static char json[4096];

static void put(const char *key, const char *fmt, double v)
{
	size_t len = strlen(json);
	int w = snprintf(json + len, sizeof json - len, ", \"%s\": ", key);
	if (w > 0 && (size_t)w < sizeof json - len)
		snprintf(json + len + (size_t)w, sizeof json - len - (size_t)w,
			 isfinite(v) ? fmt : "null", v);
}

int main(int argc, char **argv)
{
	struct args a;
	parse(&a, argc, argv);
	int rc = lupi_set_num_threads(a.threads);
	if (rc != LUPI_OK)
		die("threads", rc);
	lupi_dataset *train_ds = load(&a, "train", a.n);
	lupi_dataset *test_ds = load(&a, "t10k", 0);
	a.n = lupi_dataset_rows(train_ds);
	size_t d_priv = lupi_dataset_dim(train_ds, LUPI_VIEW_PRIVILEGED);
	size_t d_reg = lupi_dataset_dim(train_ds, LUPI_VIEW_REGULAR);
	double data_mib = (double)a.n * (double)(d_priv + d_reg) * 4 / 1048576.0 +
			  10000.0 * (double)(d_priv + d_reg) * 4 / 1048576.0;
	double teacher_s = NAN, teacher_acc = NAN, teacher_rss_mib = NAN;
	double gemm_s = NAN, hard_s = NAN, hard_acc = NAN, dist_s = NAN;
	double dist_acc = NAN, lat = NAN, tput = NAN, teacher_cpu = NAN;
	double gemm_cpu = NAN, hard_cpu = NAN, dist_cpu = NAN;
	double flops = epoch_flops(&a, d_priv);

	lupi_model *teacher = NULL, *hard = NULL, *student = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *kd = NULL;
	if (a.models & RUN_TEACHER) {
		teacher = make_mlp(&a, d_priv, LUPI_VIEW_PRIVILEGED, a.seed);
		teacher_s = train(teacher, NULL, NULL, train_ds, &teacher_cpu);
		teacher_acc = accuracy(teacher, test_ds);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		teacher_rss_mib = ru.ru_maxrss / 1024.0;
	}
	int gemm_threads = 0;
	if (a.models & RUN_ROOFLINE)
		gemm_s = gemm_epoch_seconds(&a, d_priv, &gemm_cpu,
					    &gemm_threads);
	if (a.models & RUN_HARD) {
		hard = make_mlp(&a, d_reg, LUPI_VIEW_REGULAR, a.seed + 1);
		hard_s = train(hard, NULL, NULL, train_ds, &hard_cpu);
		hard_acc = accuracy(hard, test_ds);
	}
	if (a.models & RUN_DISTILLED) {
		if ((rc = lupi_teacher_create(&t)) ||
		    (rc = lupi_teacher_add_model(t, teacher, 1.0)) ||
		    (rc = lupi_teacher_prepare(t, train_ds)) ||
		    (rc = lupi_loss_create(LUPI_LOSS_KD, &kd)) ||
		    (rc = lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE,
					       a.temperature)) ||
		    (rc = lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, a.lambda)))
			die("teacher", rc);
		student = make_mlp(&a, d_reg, LUPI_VIEW_REGULAR, a.seed + 1);
		dist_s = train(student, t, kd, train_ds, &dist_cpu);
		dist_acc = accuracy(student, test_ds);
	}
	if (a.models & RUN_PREDICT) {
		lat = latency_us(student, test_ds);
		tput = throughput(student, test_ds);
	}

	char blas[512];
	if (lupi_blas_info(blas, sizeof blas) != LUPI_OK)
		snprintf(blas, sizeof blas, "?");
	const char *core = strstr(blas, "; core ");
	core = core ? core + 7 : "unknown";
	double gemm_gflops = flops / gemm_s * 1e-9;
	fprintf(stderr, "BLAS: %s\nGEMM-only: %d BLAS thread(s), %.1f GFLOP/s "
		"(core %s)\n", blas, gemm_threads, gemm_gflops, core);
	fprintf(stderr,
		"liblupi %s, n=%zu, epochs=%d, batch=%zu, threads=%d\n"
		"%-20s %10s %9s\n"
		"%-20s %10.3f %9.4f\n%-20s %10.3f %9.4f\n%-20s %10.3f %9.4f\n"
		"GEMM-only teacher epoch %.3f s (%.1f GFLOP/s): %.0f%% of epoch\n"
		"predict: %.2f us/sample (single), %.0f samples/s (batch)\n"
		"peak RSS %.1f MiB, float data %.1f MiB\n",
		lupi_version_string(), a.n, a.epochs, a.batch, a.threads,
		"model", "epoch s", "accuracy", "teacher", teacher_s, teacher_acc,
		"student_hard", hard_s, hard_acc, "student_distilled", dist_s,
		dist_acc, gemm_s, flops / gemm_s * 1e-9, 100 * gemm_s / teacher_s,
		lat, tput, teacher_rss_mib, data_mib);
	snprintf(json, sizeof json,
		 "{\"lib\": \"liblupi %s\", \"n\": %zu, \"epochs\": %d, "
		 "\"batch\": %zu, \"threads\": %d, \"T\": %g, \"lam\": %g",
		 lupi_version_string(), a.n, a.epochs, a.batch, a.threads,
		 a.temperature, a.lambda);
	size_t hidden = 0;
	for (size_t i = 0; i < a.n_hidden; i++)
		hidden = a.hidden[i] > hidden ? a.hidden[i] : hidden;
	put("widest_hidden", "%.0f", (double)hidden);
	put("teacher_epoch_s", "%.6f", teacher_s);
	put("teacher_acc", "%.4f", teacher_acc);
	put("student_hard_epoch_s", "%.6f", hard_s);
	put("student_hard_acc", "%.4f", hard_acc);
	put("student_distilled_epoch_s", "%.6f", dist_s);
	put("student_distilled_acc", "%.4f", dist_acc);
	put("student_predict_latency_us", "%.3f", lat);
	put("predict_samples_per_s", "%.0f", tput);
	put("gemm_epoch_s", "%.6f", gemm_s);
	put("epoch_gflop", "%.4f", flops * 1e-9);
	put("roofline_fraction", "%.4f", gemm_s / teacher_s);
	put("gemm_gflops", "%.2f", gemm_gflops);
	put("gemm_blas_threads", "%.0f", (double)gemm_threads);
	put("teacher_gflops", "%.2f", flops / teacher_s * 1e-9);
	put("teacher_epoch_cpu_s", "%.6f", teacher_cpu);
	put("student_hard_epoch_cpu_s", "%.6f", hard_cpu);
	put("student_distilled_epoch_cpu_s", "%.6f", dist_cpu);
	put("gemm_epoch_cpu_s", "%.6f", gemm_cpu);
	put("roofline_fraction_cpu", "%.4f", gemm_cpu / teacher_cpu);
	put("peak_rss_mib", "%.1f", teacher_rss_mib);
	put("data_mib", "%.1f", data_mib);
	printf("%s, \"blas_core\": \"%s\"}\n", json, core);

	lupi_model_free(student);
	lupi_loss_free(kd);
	lupi_teacher_free(t);
	lupi_model_free(hard);
	lupi_model_free(teacher);
	lupi_dataset_free(test_ds);
	lupi_dataset_free(train_ds);
	return 0;
}
