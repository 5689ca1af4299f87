/*
 * tram.c - label noise explained away by privileged information: TRAM
 * (Collier et al. 2022) and approximate full marginalisation (Ortiz-Jimenez
 * et al. 2023) against a model trained without X* and against
 * distillation from a teacher that sees X*.
 *
 * Each training sample is labelled by one of 5 annotators drawn at random;
 * annotators 0 and 1 are bad (they replace the clean label by another
 * class, drawn uniformly, with probability 0.5), the others flip 5% of
 * their labels. X* is what a data set of this kind records next to the
 * label: the annotator (one-hot) and the annotator's confidence, drawn from
 * U(0, 0.6) for a flipped label and U(0.4, 1) for a correct one. Test
 * labels are clean. Two tasks:
 *
 *  synthetic  d = 10 Gaussian features, 4 classes by argmax W x (W Gaussian,
 *             new per seed), --n training samples, 2000 test samples
 *  digits     the embedded UCI digits (tools/demo/digits_data.c, 1797 8x8
 *             images, pixels / 16), 1200 training and 597 test samples,
 *             split per seed
 *
 * Methods (all networks one hidden layer of 64 relu units, Adam, lr 1e-3,
 * batch 64, --epochs epochs):
 *
 *  no-PI     a model on X trained on the noisy labels
 *  distill   a teacher on [X, X*] trained on the noisy labels; a student on
 *            X distilled from it (KD, T = 2, lambda = 0.5)
 *  TRAM      lupi_tram_fit: the model's trunk learns from the privileged
 *            head g(phi(x), x*) only, its last layer h on top with a
 *            stop-gradient; h predicts (the deployed lupi_model)
 *  marginal  lupi_tram_predict_marginal: g's predictive distribution
 *            averaged over --samples X* rows drawn from the training set
 *
 * Accuracy on the clean test labels, mean +- std over the seeds.
 *
 * usage: tram [--seeds S] [--epochs E] [--n N] [--samples M]
 *        (defaults 5, 30, 2000, 100)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

#include "digits.h"

#define ANNOTATORS 5
#define BAD 2          /* annotators 0 .. BAD-1 are bad */
#define P_BAD 0.5      /* their flip probability */
#define P_GOOD 0.05    /* the others' */
#define DS (ANNOTATORS + 1)
#define HIDDEN 64
#define MAX_SEEDS 100

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "tram: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static void *alloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (p == NULL) {
		fprintf(stderr, "tram: out of memory\n");
		exit(1);
	}
	return p;
}

/* splitmix64: the example's own random numbers. */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
	return (double)(next(s) >> 11) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
	double u = uniform(s), v = uniform(s);
	return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* One split: X, X* and noisy labels for training; X and clean labels for
 * the test. */
struct task {
	size_t n, nt, d, k;
	float *x, *xs, *xt;
	int32_t *y, *yt;
};

/* The annotators' labels and X* of the training samples. */
static void annotate(struct task *t, const int32_t *clean, uint64_t *rng)
{
	for (size_t i = 0; i < t->n; i++) {
		int a = (int)(next(rng) % ANNOTATORS);
		int flip = uniform(rng) < (a < BAD ? P_BAD : P_GOOD);
		int32_t y = clean[i];
		if (flip)
			y = (int32_t)((clean[i] + 1 + next(rng) % (t->k - 1)) %
				      t->k);
		t->y[i] = y;
		float *xs = t->xs + i * DS;
		memset(xs, 0, DS * sizeof(*xs));
		xs[a] = 1.0f;
		xs[ANNOTATORS] = (float)(flip ? 0.6 * uniform(rng)
					      : 0.4 + 0.6 * uniform(rng));
	}
}

static void task_alloc(struct task *t, size_t n, size_t nt, size_t d,
		       size_t k)
{
	t->n = n;
	t->nt = nt;
	t->d = d;
	t->k = k;
	t->x = alloc(n * d, sizeof(float));
	t->xs = alloc(n * DS, sizeof(float));
	t->xt = alloc(nt * d, sizeof(float));
	t->y = alloc(n, sizeof(int32_t));
	t->yt = alloc(nt, sizeof(int32_t));
}

static void task_free(struct task *t)
{
	free(t->x);
	free(t->xs);
	free(t->xt);
	free(t->y);
	free(t->yt);
}

#define SYN_D 10
#define SYN_K 4

static void synthetic(struct task *t, size_t n, uint64_t seed)
{
	uint64_t rng = seed * 1000003u + 17;
	double w[SYN_K * SYN_D];
	int32_t *clean = alloc(n, sizeof(int32_t));
	task_alloc(t, n, 2000, SYN_D, SYN_K);
	for (size_t i = 0; i < SYN_K * SYN_D; i++)
		w[i] = normal(&rng);
	for (size_t i = 0; i < n + t->nt; i++) {
		float *x = i < n ? t->x + i * SYN_D : t->xt + (i - n) * SYN_D;
		double best = -INFINITY;
		int32_t c = 0;
		for (size_t j = 0; j < SYN_D; j++)
			x[j] = (float)normal(&rng);
		for (int32_t k = 0; k < SYN_K; k++) {
			double s = 0;
			for (size_t j = 0; j < SYN_D; j++)
				s += w[k * SYN_D + j] * x[j];
			if (s > best) {
				best = s;
				c = k;
			}
		}
		if (i < n)
			clean[i] = c;
		else
			t->yt[i - n] = c;
	}
	annotate(t, clean, &rng);
	free(clean);
}

#define DIGITS_TRAIN 1200

static void digits(struct task *t, uint64_t seed)
{
	uint64_t rng = seed * 1000003u + 29;
	size_t perm[LUPI_DIGITS_N];
	int32_t *clean = alloc(DIGITS_TRAIN, sizeof(int32_t));
	task_alloc(t, DIGITS_TRAIN, LUPI_DIGITS_N - DIGITS_TRAIN,
		   LUPI_DIGITS_D, 10);
	for (size_t i = 0; i < LUPI_DIGITS_N; i++)
		perm[i] = i;
	for (size_t i = LUPI_DIGITS_N - 1; i > 0; i--) {
		size_t j = (size_t)(next(&rng) % (i + 1)), tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (size_t i = 0; i < LUPI_DIGITS_N; i++) {
		size_t s = perm[i];
		float *x = i < DIGITS_TRAIN
				   ? t->x + i * LUPI_DIGITS_D
				   : t->xt + (i - DIGITS_TRAIN) * LUPI_DIGITS_D;
		for (size_t j = 0; j < LUPI_DIGITS_D; j++)
			x[j] = (float)lupi_digits_pixels[s * LUPI_DIGITS_D +
							 j] /
			       (float)LUPI_DIGITS_MAX;
		if (i < DIGITS_TRAIN)
			clean[i] = lupi_digits_labels[s];
		else
			t->yt[i - DIGITS_TRAIN] = lupi_digits_labels[s];
	}
	annotate(t, clean, &rng);
	free(clean);
}

struct settings {
	int seeds, epochs, samples;
	size_t n;
};

static lupi_model *network(const struct settings *s, size_t n_in, size_t k,
			   int view, uint64_t seed)
{
	static const size_t hidden[] = {HIDDEN};
	lupi_model *m;
	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, hidden, 1, k,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, s->epochs),
	      "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 64), "batch");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed),
	      "seed");
	return m;
}

enum { M_NOPI, M_DISTILL, M_TRAM, M_MARGINAL, N_METHODS };
static const char *const method_names[N_METHODS] = {"no-PI", "distill",
						     "TRAM", "marginal"};

static double accuracy_of(const float *p, const int32_t *y, size_t n,
			  size_t k)
{
	size_t right = 0;
	for (size_t i = 0; i < n; i++) {
		size_t best = 0;
		for (size_t c = 1; c < k; c++)
			if (p[i * k + c] > p[i * k + best])
				best = c;
		right += (int32_t)best == y[i];
	}
	return (double)right / (double)n;
}

/* The four accuracies of one seed on task t. */
static void run(const struct settings *s, const struct task *t,
		uint64_t seed, double *acc)
{
	lupi_dataset *train, *test;
	check(lupi_dataset_create(t->n, t->d, t->x, &train), "train");
	check(lupi_dataset_set_privileged(train, DS, t->xs, NULL), "x*");
	check(lupi_dataset_set_labels(train, t->k, t->y), "labels");
	check(lupi_dataset_create(t->nt, t->d, t->xt, &test), "test");
	check(lupi_dataset_set_labels(test, t->k, t->yt), "test labels");

	lupi_model *plain = network(s, t->d, t->k, LUPI_VIEW_REGULAR, seed);
	check(lupi_model_fit(plain, train, NULL, NULL, NULL), "no-PI fit");
	check(lupi_model_evaluate(plain, test, LUPI_METRIC_ACCURACY,
				  &acc[M_NOPI]), "no-PI");

	lupi_model *tm = network(s, t->d + DS, t->k, LUPI_VIEW_BOTH, seed);
	lupi_model *st = network(s, t->d, t->k, LUPI_VIEW_REGULAR, seed);
	lupi_teacher *teacher;
	lupi_loss *kd;
	check(lupi_model_fit(tm, train, NULL, NULL, NULL), "teacher fit");
	check(lupi_teacher_create(&teacher), "teacher");
	check(lupi_teacher_add_model(teacher, tm, 1.0), "teacher model");
	check(lupi_loss_create(LUPI_LOSS_KD, &kd), "loss");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE, 2.0), "T");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 0.5), "lambda");
	check(lupi_student_fit(st, teacher, kd, train, NULL, NULL, NULL),
	      "student fit");
	check(lupi_model_evaluate(st, test, LUPI_METRIC_ACCURACY,
				  &acc[M_DISTILL]), "distill");

	lupi_model *m = network(s, t->d, t->k, LUPI_VIEW_REGULAR, seed);
	lupi_tram *tram;
	check(lupi_tram_create(&tram), "tram");
	check(lupi_tram_set_int(tram, LUPI_TRAM_OPT_HIDDEN, HIDDEN), "hidden");
	check(lupi_tram_set_int(tram, LUPI_TRAM_OPT_SEED, (int64_t)seed),
	      "seed");
	check(lupi_tram_fit(tram, m, train, NULL, NULL, NULL), "tram fit");
	check(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY,
				  &acc[M_TRAM]), "TRAM");

	/* X* rows drawn (with replacement) from the training set */
	size_t ns = (size_t)s->samples;
	float *xs = alloc(ns * DS, sizeof(float));
	float *p = alloc(t->nt * t->k, sizeof(float));
	uint64_t rng = seed + 99;
	for (size_t r = 0; r < ns; r++)
		memcpy(xs + r * DS, t->xs + (next(&rng) % t->n) * DS,
		       DS * sizeof(*xs));
	check(lupi_tram_predict_marginal(tram, m, t->xt, t->nt, t->d, xs, ns,
					 DS, p), "marginal");
	acc[M_MARGINAL] = accuracy_of(p, t->yt, t->nt, t->k);

	free(xs);
	free(p);
	lupi_tram_free(tram);
	lupi_model_free(m);
	lupi_loss_free(kd);
	lupi_teacher_free(teacher);
	lupi_model_free(st);
	lupi_model_free(tm);
	lupi_model_free(plain);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
}

static void report(const char *name, double acc[N_METHODS][MAX_SEEDS],
		   int seeds)
{
	printf("| %s |", name);
	for (int m = 0; m < N_METHODS; m++) {
		double mu = 0, v = 0;
		for (int r = 0; r < seeds; r++)
			mu += acc[m][r] / seeds;
		for (int r = 0; r < seeds; r++)
			v += (acc[m][r] - mu) * (acc[m][r] - mu);
		printf(" %.3f +- %.3f |", mu,
		       seeds > 1 ? sqrt(v / (seeds - 1)) : 0.0);
	}
	printf("\n");
}

static int arg_int(int argc, char **argv, int *i, long lo, long hi)
{
	char *end;
	long v;
	if (*i + 1 >= argc) {
		fprintf(stderr, "tram: %s needs a value\n", argv[*i]);
		exit(2);
	}
	v = strtol(argv[++*i], &end, 10);
	if (*end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "tram: %s: %s is not in %ld..%ld\n",
			argv[*i - 1], argv[*i], lo, hi);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	struct settings s = {5, 30, 100, 2000};
	static double acc[2][N_METHODS][MAX_SEEDS];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seeds") == 0)
			s.seeds = arg_int(argc, argv, &i, 1, MAX_SEEDS);
		else if (strcmp(argv[i], "--epochs") == 0)
			s.epochs = arg_int(argc, argv, &i, 1, 100000);
		else if (strcmp(argv[i], "--samples") == 0)
			s.samples = arg_int(argc, argv, &i, 1, 100000);
		else if (strcmp(argv[i], "--n") == 0)
			s.n = (size_t)arg_int(argc, argv, &i, 100, 1000000);
		else {
			fprintf(stderr, "usage: tram [--seeds S] [--epochs E] "
					"[--n N] [--samples M]\n");
			return 2;
		}
	}
	for (int r = 0; r < s.seeds; r++) {
		struct task t;
		double a[N_METHODS];
		synthetic(&t, s.n, (uint64_t)r);
		run(&s, &t, (uint64_t)r, a);
		for (int m = 0; m < N_METHODS; m++)
			acc[0][m][r] = a[m];
		task_free(&t);
		digits(&t, (uint64_t)r);
		run(&s, &t, (uint64_t)r, a);
		for (int m = 0; m < N_METHODS; m++)
			acc[1][m][r] = a[m];
		task_free(&t);
	}
	printf("clean test accuracy, mean +- std over %d seeds, %d epochs\n\n",
	       s.seeds, s.epochs);
	printf("| task |");
	for (int m = 0; m < N_METHODS; m++)
		printf(" %s |", method_names[m]);
	printf("\n|---|---|---|---|---|\n");
	report("synthetic", acc[0], s.seeds);
	report("digits", acc[1], s.seeds);
	return 0;
}
