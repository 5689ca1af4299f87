/*
 * families.c - the families of learning using privileged information side
 * by side, on the same data and seeds for every method (doc/families.md):
 *
 *  - the four synthetic experiments of Lopez-Paz, Bottou, Schoelkopf &
 *    Vapnik (ICLR 2016, section 4.1; the generator of examples/synthetic.c):
 *    per repetition a new alpha, n training and 1000 test samples, d = 50;
 *  - the UCI handwritten digits (the 1797 8x8 images embedded for
 *    `lupi demo`, tools/demo/digits_data.c), 10 classes: X is the image
 *    downsampled to 4x4 (the mean of each 2x2 block, 16 features), X* the
 *    full 8x8 image (64 features), pixels scaled to [0, 1]; per repetition
 *    a new random split into n training images and the rest as test.
 *
 * Test accuracy, mean +- std over the repetitions, of:
 *
 *  teacher    a logistic regression on X* (the test set has X* too)
 *  student    a logistic regression on X, labels only
 *  distilled  generalized distillation: the student distilled from the
 *             teacher (KD, T = 1, lambda = 1)
 *  SVM        a plain C-SVM on X (lupi_svm with PLAIN = 1), linear kernel
 *  SVM+       SVM+ (Vapnik & Vashist 2009), linear kernels on X and X*
 *  transfer   knowledge transfer (Vapnik & Izmailov 2015) as a teacher
 *             kind: lupi_teacher_add_transfer() with a linear regressor
 *             X -> X* and the teacher, applied to the test samples (X only)
 *  KT-dist    a student on X distilled (KD, T = 1, lambda = 1) from the
 *             cross-fitted transfer teacher of the training set
 *             (lupi_teacher_create_crossfit_transfer(), --folds folds)
 *  [X,X*^]    the second variant: a logistic regression on [X, X-hat*],
 *             X-hat* out-of-fold on the training set
 *             (lupi_transfer_crossfit()), and from the regressor fitted on
 *             the whole training set on the test set
 *  TRAM       lupi_tram_fit(): the model's trunk trained by a privileged
 *             head g(phi(x), x*) only, its last layer h (the deployed
 *             model) on top with a stop-gradient; with linear models
 *             phi is the input and TRAM is the student
 *  marginal   lupi_tram_predict_marginal(): g averaged over the X* rows
 *             of the training set
 *
 * Every neural model is linear (no hidden layer; --hidden H gives all of
 * them one hidden layer of H ReLU units): EPOCHS epochs, batch 20, lr
 * 0.01, seed = the repetition's seed. C and gamma are fixed, not tuned.
 * Each method is one function of a draw (struct draw) in the table
 * `methods`: a new method is a function and a row there.
 *
 * usage: families [--reps R] [--epochs E] [--n N] [--digits-n N]
 *                 [--folds K] [--hidden H] [--c C] [--gamma G]
 *                 [--only synthetic|digits]
 *        (defaults 10, 200, 200, 300, 5, 0, 1, 1, both)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

#include "../tools/demo/digits.h"
#include "synthetic_data.h"

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "families: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "families: out of memory\n");
		exit(1);
	}
	return p;
}

struct settings {
	int reps, epochs, n, digits_n, folds, hidden;
	double c, gamma;
};

/* One draw: the data every method sees and the seed of its models. */
struct draw {
	const struct settings *s;
	const lupi_dataset *train, *test;
	size_t d, dstar, k; /* widths of X and X*, classes */
	uint64_t seed;
};

/* ---- data ---------------------------------------------------------------- */

static lupi_dataset *make_dataset(size_t n, size_t d, const float *x,
				  size_t dstar, const float *xs, size_t k,
				  const int32_t *y)
{
	lupi_dataset *ds;

	check(lupi_dataset_create(n, d, x, &ds), "dataset");
	check(lupi_dataset_set_privileged(ds, dstar, xs, NULL), "x*");
	check(lupi_dataset_set_labels(ds, k, y), "labels");
	return ds;
}

static lupi_dataset *synthetic(int e, const double *alpha, size_t n)
{
	float *x = xmalloc(n * D * sizeof(*x));
	float *xs = xmalloc(n * D * sizeof(*xs));
	int32_t *y = xmalloc(n * sizeof(*y));
	size_t dstar = generate(e, alpha, n, x, xs, y);
	lupi_dataset *ds = make_dataset(n, D, x, dstar, xs, 2, y);

	free(x);
	free(xs);
	free(y);
	return ds;
}

#define DIG_SIDE LUPI_DIGITS_SIDE
#define DIG_SMALL (DIG_SIDE / 2)

/* Digits rows order[0..n): X the 2x2-block means (4x4), X* the 8x8 image. */
static lupi_dataset *digits(const size_t *order, size_t n)
{
	const size_t d = DIG_SMALL * DIG_SMALL, dstar = LUPI_DIGITS_D;
	float *x = xmalloc(n * d * sizeof(*x));
	float *xs = xmalloc(n * dstar * sizeof(*xs));
	int32_t *y = xmalloc(n * sizeof(*y));
	lupi_dataset *ds;

	for (size_t i = 0; i < n; i++) {
		const uint8_t *px = lupi_digits_pixels + order[i] * dstar;

		for (size_t j = 0; j < dstar; j++)
			xs[i * dstar + j] = px[j] / (float)LUPI_DIGITS_MAX;
		for (size_t r = 0; r < DIG_SMALL; r++)
			for (size_t c = 0; c < DIG_SMALL; c++) {
				const float *b = xs + i * dstar +
						 2 * r * DIG_SIDE + 2 * c;

				x[i * d + r * DIG_SMALL + c] =
					(b[0] + b[1] + b[DIG_SIDE] +
					 b[DIG_SIDE + 1]) / 4;
			}
		y[i] = lupi_digits_labels[order[i]];
	}
	ds = make_dataset(n, d, x, dstar, xs, 10, y);
	free(x);
	free(xs);
	free(y);
	return ds;
}

/* ---- building blocks ------------------------------------------------------ */

static lupi_model *network(const struct draw *d, int task, size_t n_in,
			  size_t n_out, int view)
{
	size_t h = (size_t)d->s->hidden;
	lupi_model *m;

	check(lupi_model_create(task, n_in, &h, h ? 1 : 0, n_out, &m),
	      "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, d->s->epochs),
	      "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 20), "batch");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), "lr");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)d->seed),
	      "seed");
	return m;
}

static double accuracy(const lupi_model *m, const lupi_dataset *test)
{
	double acc;

	check(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY, &acc),
	      "evaluate");
	return acc;
}

/* The teacher: a linear model on X* fitted on the training set. */
static lupi_model *fit_teacher(const struct draw *d)
{
	lupi_model *t = network(d, LUPI_TASK_CLASSIFICATION, d->dstar, d->k,
			       LUPI_VIEW_PRIVILEGED);

	check(lupi_model_fit(t, d->train, NULL, NULL, NULL), "teacher");
	return t;
}

/* A linear regressor X -> X* (untrained: a prototype for cross-fitting). */
static lupi_model *regressor(const struct draw *d)
{
	return network(d, LUPI_TASK_REGRESSION, d->d, d->dstar,
		      LUPI_VIEW_REGULAR);
}

/* The regressor fitted on the whole training set (X rows, X* targets). */
static lupi_model *fit_regressor(const struct draw *d)
{
	size_t n = lupi_dataset_rows(d->train);
	lupi_model *r = regressor(d);
	lupi_dataset *rd;

	check(lupi_dataset_create(n, d->d,
				  lupi_dataset_features(d->train,
							LUPI_VIEW_REGULAR),
				  &rd), "regression data");
	check(lupi_dataset_set_targets(rd, d->dstar,
				       lupi_dataset_features(
					       d->train, LUPI_VIEW_PRIVILEGED)),
	      "regression targets");
	check(lupi_model_fit(r, rd, NULL, NULL, NULL), "regressor");
	lupi_dataset_free(rd);
	return r;
}

/* Test accuracy of a student on X distilled from teacher t (KD, T = 1,
 * lambda = 1). */
static double distil(const struct draw *d, const lupi_teacher *t)
{
	lupi_model *s = network(d, LUPI_TASK_CLASSIFICATION, d->d, d->k,
			       LUPI_VIEW_REGULAR);
	lupi_loss *kd;
	double acc;

	check(lupi_loss_create(LUPI_LOSS_KD, &kd), "loss");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE, 1.0), "T");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 1.0), "lambda");
	check(lupi_student_fit(s, t, kd, d->train, NULL, NULL, NULL),
	      "student fit");
	acc = accuracy(s, d->test);
	lupi_loss_free(kd);
	lupi_model_free(s);
	return acc;
}

/* ---- the methods: test accuracy on one draw -------------------------------- */

static double teacher_accuracy(const struct draw *d)
{
	lupi_model *t = fit_teacher(d);
	double acc = accuracy(t, d->test);

	lupi_model_free(t);
	return acc;
}

static double student_accuracy(const struct draw *d)
{
	lupi_model *s = network(d, LUPI_TASK_CLASSIFICATION, d->d, d->k,
			       LUPI_VIEW_REGULAR);
	double acc;

	check(lupi_model_fit(s, d->train, NULL, NULL, NULL), "student");
	acc = accuracy(s, d->test);
	lupi_model_free(s);
	return acc;
}

static double distilled_accuracy(const struct draw *d)
{
	lupi_model *tm = fit_teacher(d);
	lupi_teacher *t;
	double acc;

	check(lupi_teacher_create(&t), "teacher");
	check(lupi_teacher_add_model(t, tm, 1.0), "teacher member");
	acc = distil(d, t);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	return acc;
}

static double svm_run(const struct draw *d, int plain)
{
	size_t n = lupi_dataset_rows(d->test);
	const int32_t *y = lupi_dataset_labels(d->test);
	int32_t *p = xmalloc(n * sizeof(*p));
	lupi_svm *svm;
	size_t right = 0;

	check(lupi_svm_create(&svm), "svm");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_PLAIN, plain), "plain");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_KERNEL,
			       LUPI_SVM_KERNEL_LINEAR), "kernel");
	check(lupi_svm_set_int(svm, LUPI_SVM_OPT_PRIV_KERNEL,
			       LUPI_SVM_KERNEL_LINEAR), "kernel*");
	check(lupi_svm_set_double(svm, LUPI_SVM_OPT_C, d->s->c), "C");
	check(lupi_svm_set_double(svm, LUPI_SVM_OPT_GAMMA, d->s->gamma),
	      "gamma");
	check(lupi_svm_fit(svm, d->train), "svm fit");
	check(lupi_svm_predict(svm, d->test, p), "svm predict");
	for (size_t i = 0; i < n; i++)
		right += p[i] == y[i];
	lupi_svm_free(svm);
	free(p);
	return (double)right / (double)n;
}

static double svm_accuracy(const struct draw *d)
{
	return svm_run(d, 1);
}

static double svmplus_accuracy(const struct draw *d)
{
	return svm_run(d, 0);
}

/* Knowledge transfer, first variant: the teacher kind applied to the test
 * set, which it reads through X only. */
static double transfer_accuracy(const struct draw *d)
{
	size_t n = lupi_dataset_rows(d->test), k = d->k, right = 0;
	const int32_t *y = lupi_dataset_labels(d->test);
	lupi_model *reg = fit_regressor(d), *tm = fit_teacher(d);
	size_t *idx = xmalloc(n * sizeof(*idx));
	float *z = xmalloc(n * k * sizeof(*z));
	lupi_teacher *t;

	check(lupi_teacher_create(&t), "teacher");
	check(lupi_teacher_add_transfer(t, reg, tm, 1.0), "transfer member");
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	check(lupi_teacher_outputs(t, d->test, idx, n, z, NULL),
	      "transfer outputs");
	for (size_t i = 0; i < n; i++) {
		size_t best = 0;

		for (size_t c = 1; c < k; c++)
			if (z[i * k + c] > z[i * k + best])
				best = c;
		right += (int32_t)best == y[i];
	}
	lupi_teacher_free(t);
	free(z);
	free(idx);
	lupi_model_free(tm);
	lupi_model_free(reg);
	return (double)right / (double)n;
}

/* A student distilled from the cross-fitted transfer teacher: on the
 * training set the teacher sees out-of-fold X-hat* only. */
static double transfer_distilled_accuracy(const struct draw *d)
{
	lupi_model *proto = regressor(d), *tm = fit_teacher(d);
	lupi_teacher *t;
	double acc;

	check(lupi_teacher_create_crossfit_transfer(proto, tm, d->train,
						    (unsigned)d->s->folds,
						    d->seed, &t),
	      "cross-fitted transfer teacher");
	acc = distil(d, t);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_model_free(proto);
	return acc;
}

/* [X, xhat] of ds, with its labels (and no X*). */
static lupi_dataset *augmented(const struct draw *d, const lupi_dataset *ds,
			       const float *xhat)
{
	size_t n = lupi_dataset_rows(ds), w = d->d + d->dstar;
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	float *xa = xmalloc(n * w * sizeof(*xa));
	lupi_dataset *out;

	for (size_t i = 0; i < n; i++) {
		memcpy(xa + i * w, x + i * d->d, d->d * sizeof(*xa));
		memcpy(xa + i * w + d->d, xhat + i * d->dstar,
		       d->dstar * sizeof(*xa));
	}
	check(lupi_dataset_create(n, w, xa, &out), "[X, X*^]");
	check(lupi_dataset_set_labels(out, d->k, lupi_dataset_labels(ds)),
	      "[X, X*^] labels");
	free(xa);
	return out;
}

/* Knowledge transfer, second variant: a model on [X, X-hat*]. */
static double transfer_input_accuracy(const struct draw *d)
{
	size_t n = lupi_dataset_rows(d->train), nt = lupi_dataset_rows(d->test);
	size_t mx = n > nt ? n : nt;
	float *xhat = xmalloc(mx * d->dstar * sizeof(*xhat));
	lupi_model *proto = regressor(d), *reg = fit_regressor(d);
	lupi_model *m = network(d, LUPI_TASK_CLASSIFICATION, d->d + d->dstar,
			       d->k, LUPI_VIEW_REGULAR);
	lupi_dataset *tr, *te;
	double acc;

	check(lupi_transfer_crossfit(proto, d->train, (unsigned)d->s->folds,
				     d->seed, xhat), "out-of-fold X*^");
	tr = augmented(d, d->train, xhat);
	check(lupi_model_predict(reg, lupi_dataset_features(d->test,
							    LUPI_VIEW_REGULAR),
				 nt, d->d, LUPI_PREDICT_OUTPUT, xhat),
	      "test X*^");
	te = augmented(d, d->test, xhat);
	check(lupi_model_fit(m, tr, NULL, NULL, NULL), "[X, X*^] model");
	acc = accuracy(m, te);
	lupi_dataset_free(te);
	lupi_dataset_free(tr);
	lupi_model_free(m);
	lupi_model_free(reg);
	lupi_model_free(proto);
	free(xhat);
	return acc;
}

/* TRAM (lupi_tram_fit): the model's trunk learns from a privileged head
 * g(phi(x), x*) only, its last layer h on top with a stop-gradient; g has
 * the shape of the other models (one hidden layer of --hidden units, or
 * linear). The model is returned with its handle; without a hidden layer
 * phi is the input and h is the student, bit for bit. */
static lupi_model *fit_tram(const struct draw *d, lupi_tram **t)
{
	lupi_model *m = network(d, LUPI_TASK_CLASSIFICATION, d->d, d->k,
			       LUPI_VIEW_REGULAR);

	check(lupi_tram_create(t), "tram");
	check(lupi_tram_set_int(*t, LUPI_TRAM_OPT_LAYERS, d->s->hidden ? 1 : 0),
	      "tram layers");
	if (d->s->hidden)
		check(lupi_tram_set_int(*t, LUPI_TRAM_OPT_HIDDEN, d->s->hidden),
		      "tram hidden");
	check(lupi_tram_set_int(*t, LUPI_TRAM_OPT_SEED, (int64_t)d->seed),
	      "tram seed");
	check(lupi_tram_fit(*t, m, d->train, NULL, NULL, NULL), "tram fit");
	return m;
}

static double tram_accuracy(const struct draw *d)
{
	lupi_tram *t;
	lupi_model *m = fit_tram(d, &t);
	double acc = accuracy(m, d->test);

	lupi_tram_free(t);
	lupi_model_free(m);
	return acc;
}

/* PI marginalisation: g's predictive distribution averaged over the X*
 * rows of the whole training set. */
static double marginal_accuracy(const struct draw *d)
{
	size_t n = lupi_dataset_rows(d->test), k = d->k, right = 0;
	const int32_t *y = lupi_dataset_labels(d->test);
	float *p = xmalloc(n * k * sizeof(*p));
	lupi_tram *t;
	lupi_model *m = fit_tram(d, &t);

	check(lupi_tram_predict_marginal(
		      t, m, lupi_dataset_features(d->test, LUPI_VIEW_REGULAR),
		      n, d->d,
		      lupi_dataset_features(d->train, LUPI_VIEW_PRIVILEGED),
		      lupi_dataset_rows(d->train), d->dstar, p),
	      "marginal");
	for (size_t i = 0; i < n; i++) {
		size_t best = 0;

		for (size_t c = 1; c < k; c++)
			if (p[i * k + c] > p[i * k + best])
				best = c;
		right += (int32_t)best == y[i];
	}
	lupi_tram_free(t);
	lupi_model_free(m);
	free(p);
	return (double)right / (double)n;
}

typedef double (*method_fn)(const struct draw *d);

static const struct method {
	const char *name;
	method_fn run;
} methods[] = {
	{"teacher (X*)", teacher_accuracy},
	{"student (X)", student_accuracy},
	{"distilled", distilled_accuracy},
	{"SVM", svm_accuracy},
	{"SVM+", svmplus_accuracy},
	{"transfer", transfer_accuracy},
	{"KT-dist", transfer_distilled_accuracy},
	{"[X,X*^]", transfer_input_accuracy},
	{"TRAM", tram_accuracy},
	{"marginal", marginal_accuracy},
};

#define N_METHODS (sizeof(methods) / sizeof(methods[0]))

/* ---- the table ------------------------------------------------------------ */

struct result {
	double *acc[N_METHODS]; /* reps accuracies per method */
};

static void run_methods(struct draw *d, int rep, struct result *r)
{
	for (size_t m = 0; m < N_METHODS; m++)
		r->acc[m][rep] = methods[m].run(d);
}

static void print_row(const char *name, const struct result *r, int reps)
{
	printf("%-26s", name);
	for (size_t m = 0; m < N_METHODS; m++) {
		double mean = 0, q = 0;

		for (int i = 0; i < reps; i++)
			mean += r->acc[m][i] / reps;
		for (int i = 0; i < reps; i++)
			q += (r->acc[m][i] - mean) * (r->acc[m][i] - mean);
		printf("  %.3f +- %.3f", mean,
		       reps > 1 ? sqrt(q / (reps - 1)) : 0.0);
	}
	putchar('\n');
	fflush(stdout);
}

static struct result *result_new(int reps)
{
	struct result *r = xmalloc(sizeof(*r));

	for (size_t m = 0; m < N_METHODS; m++)
		r->acc[m] = xmalloc((size_t)reps * sizeof(double));
	return r;
}

static void result_free(struct result *r)
{
	for (size_t m = 0; m < N_METHODS; m++)
		free(r->acc[m]);
	free(r);
}

/* Synthetic experiment e: repetition r draws alpha, the training and the
 * test set from the generator seeded with 1000 e + r + 1, and seeds the
 * models with r + 1. */
static void experiment(const struct settings *s, int e, const char *name)
{
	struct result *res = result_new(s->reps);

	for (int r = 0; r < s->reps; r++) {
		double alpha[D];
		lupi_dataset *train, *test;
		struct draw d = {s, NULL, NULL, D, privileged_dim(e), 2,
				 (uint64_t)r + 1};

		rng_state = 1000u * (uint64_t)e + (uint64_t)r + 1;
		for (size_t k = 0; k < D; k++)
			alpha[k] = gauss();
		train = synthetic(e, alpha, (size_t)s->n);
		test = synthetic(e, alpha, N_TEST);
		d.train = train;
		d.test = test;
		run_methods(&d, r, res);
		lupi_dataset_free(test);
		lupi_dataset_free(train);
	}
	char label[64];

	snprintf(label, sizeof label, "%d %s", e, name);
	print_row(label, res, s->reps);
	result_free(res);
}

/* Digits: repetition r shuffles the 1797 images with seed r + 1 (the
 * generator's), takes the first n for training and the rest as test, and
 * seeds the models with r + 1. */
static void digits_experiment(const struct settings *s)
{
	struct result *res = result_new(s->reps);
	size_t order[LUPI_DIGITS_N], n = (size_t)s->digits_n;

	for (int r = 0; r < s->reps; r++) {
		lupi_dataset *train, *test;
		struct draw d = {s, NULL, NULL, DIG_SMALL * DIG_SMALL,
				 LUPI_DIGITS_D, 10, (uint64_t)r + 1};

		rng_state = (uint64_t)r + 1;
		for (size_t i = 0; i < LUPI_DIGITS_N; i++)
			order[i] = i;
		for (size_t i = LUPI_DIGITS_N - 1; i > 0; i--) {
			size_t j = (size_t)(uniform() * (double)(i + 1));
			size_t t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		train = digits(order, n);
		test = digits(order + n, LUPI_DIGITS_N - n);
		d.train = train;
		d.test = test;
		run_methods(&d, r, res);
		lupi_dataset_free(test);
		lupi_dataset_free(train);
	}
	print_row("digits 4x4 -> 8x8 as PI", res, s->reps);
	result_free(res);
}

int main(int argc, char **argv)
{
	struct settings s = {10, 200, 200, 300, 5, 0, 1.0, 1.0};
	const char *only = "";

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--reps") == 0)
			s.reps = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			s.epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--n") == 0)
			s.n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--digits-n") == 0)
			s.digits_n = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--folds") == 0)
			s.folds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--hidden") == 0)
			s.hidden = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--c") == 0)
			s.c = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--gamma") == 0)
			s.gamma = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--only") == 0)
			only = argv[i + 1];
	}
	if (s.reps < 1 || s.reps > 1000 || s.epochs < 1 || s.n < 10 ||
	    s.digits_n < 20 || s.digits_n > LUPI_DIGITS_N - 100 ||
	    s.folds < 2 || s.folds > 10 || s.hidden < 0 || s.hidden > 4096 ||
	    !(s.c > 0) || !(s.gamma > 0)) {
		fprintf(stderr, "families: bad settings\n");
		return 2;
	}
	printf("synthetic: d = %d, n = %d, %d test samples; digits: n = %d, "
	       "%d test; %d repetitions, %d epochs, %d hidden units, %d "
	       "folds, C %g, gamma %g\n", D, s.n, N_TEST, s.digits_n,
	       LUPI_DIGITS_N - s.digits_n, s.reps, s.epochs, s.hidden, s.folds,
	       s.c, s.gamma);
	printf("%-26s", "experiment");
	for (size_t m = 0; m < N_METHODS; m++)
		printf("  %-14s", methods[m].name);
	putchar('\n');
	if (strcmp(only, "digits") != 0) {
		experiment(&s, 1, "clean labels as PI");
		experiment(&s, 2, "clean features as PI");
		experiment(&s, 3, "relevant features as PI");
		experiment(&s, 4, "sample-dep. relevant");
	}
	if (strcmp(only, "synthetic") != 0)
		digits_experiment(&s);
	return 0;
}
