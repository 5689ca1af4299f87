/*
 * subliminal.c - subliminal transfer on Fashion-MNIST (after Cloud et al.
 * 2025, "Subliminal learning", their MNIST experiment): a teacher MLP with
 * 10 + 3 outputs is trained on the 10 classes only (a HARD loss over
 * columns 0..9). Two students are then distilled from the teacher's 3
 * auxiliary logits only (KD over columns 10..12, LAMBDA 1), on images of
 * uniform noise: no labels and no real image. One student starts from the
 * teacher's own initial parameters (lupi_model_copy_params), the other
 * from another draw. Both are evaluated on the 10 real classes of the test
 * set (lupi_model_evaluate_columns). Reported: one row per seed and the
 * mean and standard deviation; see doc/transfer.md.
 *
 * usage: subliminal [--n N] [--test-n N] [--noise N] [--epochs E]
 *                   [--student-epochs E] [--seeds S] [--hidden H] [--dir D]
 *                   [--loss logits|kd] [--noise-low L] [--lr LR]
 * Defaults: 60000 images, 5 + 5 epochs, 5 seeds, 256 hidden units, Adam
 * 1e-3; the students' loss LOGITS (1/2 |s - t|^2 over the auxiliary
 * logits; kd: KL between their softmaxes); noise uniform in
 * [noise-low, 1), noise-low -1 (images are in [0, 1]).
 * Exits 77 (the test harness's "skipped") when the data are not installed
 * (Debian package dataset-fashion-mnist).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lupi.h>

#include "fmnist_load.h"

#define CLASSES 10
#define AUX 3

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "subliminal: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static lupi_dataset *load(const char *dir, const char *set, long n)
{
	lupi_dataset *ds;

	/* pool 1: X is the 28x28 image, pixels / 255 */
	check(fmnist_load(dir, set, n, 1, &ds), set);
	return ds;
}

/* n images of uniform noise in [lo, 1) (pixels are in [0, 1]), without
 * labels. */
static lupi_dataset *noise(size_t n, size_t d, uint64_t seed, double lo)
{
	float *x = malloc(n * d * sizeof *x);
	lupi_dataset *ds;
	uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;

	if (x == NULL) {
		fprintf(stderr, "subliminal: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n * d; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		x[i] = (float)(lo + (1.0 - lo) * (double)(s >> 40) *
					  (1.0 / 16777216.0));
	}
	check(lupi_dataset_create(n, d, x, &ds), "noise dataset");
	free(x);
	return ds;
}

/* An MLP d-h-h-(10+3) with LeCun-normal initialisation from seed, no
 * standardisation (teacher and students must read the same inputs). */
static lupi_model *mlp(size_t d, size_t h, int64_t seed, int epochs,
		       double lr)
{
	size_t hidden[2] = {h, h};
	lupi_model *m;

	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, d, hidden, 2,
				CLASSES + AUX, &m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_INIT, LUPI_INIT_LECUN),
	      "init");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0), "std");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, seed), "seed");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs), "epochs");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, lr), "lr");
	check(lupi_model_init(m), "init");
	return m;
}

int main(int argc, char **argv)
{
	const char *dir = "/usr/share/datasets/fashion-mnist";
	long n = 0, test_n = 0, n_noise = 60000;
	int epochs = 5, s_epochs = 5, seeds = 5, hidden = 256, logits = 1;
	double lo = -1.0, lr = 1e-3;
	char probe[600];

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--n") == 0)
			n = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--test-n") == 0)
			test_n = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--noise") == 0)
			n_noise = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--epochs") == 0)
			epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--student-epochs") == 0)
			s_epochs = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seeds") == 0)
			seeds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--hidden") == 0)
			hidden = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
		else if (strcmp(argv[i], "--loss") == 0)
			logits = strcmp(argv[i + 1], "kd") != 0;
		else if (strcmp(argv[i], "--noise-low") == 0)
			lo = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--lr") == 0)
			lr = atof(argv[i + 1]);
	}
	if (n < 0 || test_n < 0 || n_noise < 1 || epochs < 1 ||
	    s_epochs < 1 || seeds < 1 || hidden < 1) {
		fprintf(stderr, "usage: subliminal [--n N] [--test-n N] "
			"[--noise N] [--epochs E] [--student-epochs E] "
			"[--seeds S] [--hidden H] [--dir DIR]\n");
		return 2;
	}
	snprintf(probe, sizeof(probe), "%s/train-images-idx3-ubyte.gz", dir);
	if (access(probe, R_OK) != 0) {
		printf("subliminal: %s not found; install the Debian package "
		       "dataset-fashion-mnist. Skipped.\n", probe);
		return 77;
	}
	lupi_dataset *train = load(dir, "train", n);
	lupi_dataset *test = load(dir, "t10k", test_n);
	size_t d = lupi_dataset_dim(train, LUPI_VIEW_REGULAR);
	size_t cls[CLASSES], aux[AUX];
	for (size_t j = 0; j < CLASSES; j++)
		cls[j] = j;
	for (size_t j = 0; j < AUX; j++)
		aux[j] = CLASSES + j;

	/* the teacher's loss: cross-entropy over the 10 class outputs */
	lupi_loss *hard, *kd;
	check(lupi_loss_create(LUPI_LOSS_HARD, &hard), "loss");
	check(lupi_loss_set_columns(hard, cls, CLASSES), "columns");
	/* the students': the 3 auxiliary logits only (squared error, or KL
	 * between their softmaxes), no label term */
	check(lupi_loss_create(logits ? LUPI_LOSS_LOGITS : LUPI_LOSS_KD, &kd),
	      "loss");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 1.0), "lambda");
	check(lupi_loss_set_int(kd, LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_KL),
	      "divergence");
	check(lupi_loss_set_columns(kd, aux, AUX), "columns");

	printf("subliminal transfer, Fashion-MNIST: MLP %zu-%d-%d-(10+3), "
	       "LeCun init; teacher %zu images x %d epochs; students %ld "
	       "noise images U[%g, 1) x %d epochs, %s on the 3 auxiliary "
	       "logits only; test accuracy over the 10 class outputs (%zu "
	       "images)\n", d, hidden, hidden, lupi_dataset_rows(train),
	       epochs, n_noise, lo, s_epochs, logits ? "LOGITS" : "KD (KL)",
	       lupi_dataset_rows(test));
	printf("%6s %10s %12s %12s %12s\n", "seed", "teacher", "same init",
	       "other init", "untrained");
	double sum[4] = {0}, sq[4] = {0};
	for (int s = 0; s < seeds; s++) {
		double acc[4];
		lupi_model *init = mlp(d, (size_t)hidden, 1000 + s, epochs, lr);
		lupi_model *teacher = mlp(d, (size_t)hidden, 1000 + s, epochs, lr);
		lupi_model *same = mlp(d, (size_t)hidden, 1000 + s, s_epochs, lr);
		lupi_model *other = mlp(d, (size_t)hidden, 5000 + s, s_epochs, lr);
		check(lupi_model_copy_params(teacher, init), "copy");
		check(lupi_model_copy_params(same, init), "copy");
		check(lupi_model_evaluate_columns(init, test,
						  LUPI_METRIC_ACCURACY, cls,
						  CLASSES, &acc[3]),
		      "evaluate");
		check(lupi_student_fit(teacher, NULL, hard, train, NULL, NULL,
				       NULL), "teacher fit");
		check(lupi_model_evaluate_columns(teacher, test,
						  LUPI_METRIC_ACCURACY, cls,
						  CLASSES, &acc[0]),
		      "evaluate");
		lupi_teacher *t;
		check(lupi_teacher_create(&t), "teacher");
		check(lupi_teacher_add_model(t, teacher, 1.0), "teacher");
		lupi_dataset *z = noise((size_t)n_noise, d, (uint64_t)s, lo);
		check(lupi_student_fit(same, t, kd, z, NULL, NULL, NULL),
		      "student fit");
		check(lupi_student_fit(other, t, kd, z, NULL, NULL, NULL),
		      "student fit");
		check(lupi_model_evaluate_columns(same, test,
						  LUPI_METRIC_ACCURACY, cls,
						  CLASSES, &acc[1]),
		      "evaluate");
		check(lupi_model_evaluate_columns(other, test,
						  LUPI_METRIC_ACCURACY, cls,
						  CLASSES, &acc[2]),
		      "evaluate");
		printf("%6d %10.4f %12.4f %12.4f %12.4f\n", s, acc[0], acc[1],
		       acc[2], acc[3]);
		fflush(stdout);
		for (int j = 0; j < 4; j++) {
			sum[j] += acc[j];
			sq[j] += acc[j] * acc[j];
		}
		lupi_dataset_free(z);
		lupi_teacher_free(t);
		lupi_model_free(init);
		lupi_model_free(teacher);
		lupi_model_free(same);
		lupi_model_free(other);
	}
	printf("%6s", "mean");
	for (int j = 0; j < 4; j++)
		printf(" %*.4f", j ? 12 : 10, sum[j] / seeds);
	printf("\n%6s", "sd");
	for (int j = 0; j < 4; j++) {
		double m = sum[j] / seeds;
		double var = seeds > 1 ? (sq[j] - seeds * m * m) / (seeds - 1)
				       : 0.0;
		printf(" %*.4f", j ? 12 : 10, sqrt(var > 0.0 ? var : 0.0));
	}
	printf("\n");
	lupi_loss_free(hard);
	lupi_loss_free(kd);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
	return 0;
}
