/*
 * step_loop.c - the host owns the training loop: it picks its own batches
 * (here: a fixed curriculum of shuffled indices), runs one distillation
 * step at a time with lupi_student_step(), sets its own learning-rate
 * schedule with lupi_model_set_double(), and logs as it likes.
 *
 * usage: step_loop [--epochs N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

#define N 1000
#define D 20
#define DS 4
#define BATCH 50

static void die(const char *what)
{
	fprintf(stderr, "step_loop: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

/* X* = 4 clean features deciding a 3-class label; X = them mixed + noise. */
static lupi_dataset *make_data(unsigned seed)
{
	static float x[N * D], xs[N * DS];
	static int32_t y[N];
	lupi_dataset *ds;

	srand(seed);
	for (int i = 0; i < N; i++) {
		double s = 0;

		for (int k = 0; k < DS; k++) {
			xs[i * DS + k] = (float)rand() / RAND_MAX * 2 - 1;
			s += xs[i * DS + k] * (k + 1);
		}
		for (int j = 0; j < D; j++)
			x[i * D + j] = xs[i * DS + j % DS] +
				       ((float)rand() / RAND_MAX - 0.5f);
		y[i] = s < -1 ? 0 : s < 1 ? 1 : 2;
	}
	if (lupi_dataset_create(N, D, x, &ds) ||
	    lupi_dataset_set_privileged(ds, DS, xs, NULL) ||
	    lupi_dataset_set_labels(ds, 3, y))
		die("dataset");
	return ds;
}

static lupi_model *make_model(size_t n_in, int view)
{
	size_t hidden = 32;
	lupi_model *m;

	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, &hidden, 1, 3,
			      &m) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view) ||
	    lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01))
		die("model");
	return m;
}

static void shuffle(size_t *idx, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rand() % i, t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

int main(int argc, char **argv)
{
	int epochs = 20;
	lupi_dataset *ds = make_data(7);
	lupi_model *tm = make_model(DS, LUPI_VIEW_PRIVILEGED);
	lupi_model *sm = make_model(D, LUPI_VIEW_REGULAR);
	lupi_teacher *t;
	lupi_loss *kd;
	size_t idx[N];
	double acc;

	if (argc == 3 && strcmp(argv[1], "--epochs") == 0)
		epochs = atoi(argv[2]) > 0 ? atoi(argv[2]) : 1;
	if (lupi_model_fit(tm, ds, NULL, NULL, NULL) ||
	    lupi_teacher_create(&t) || lupi_teacher_add_model(t, tm, 1) ||
	    lupi_teacher_prepare(t, ds) ||
	    lupi_loss_create(LUPI_LOSS_KD, &kd) ||
	    lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE, 4) ||
	    lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 0.7))
		die("teacher");
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
	for (int e = 0; e < epochs; e++) {
		/* the host's schedule: cosine decay from 0.01 to 0.0005 */
		double lr = 0.0005 + 0.0095 * 0.5 *
			    (1 + cos(3.141592653589793 * e / epochs));
		double sum = 0;

		if (lupi_model_set_double(sm, LUPI_MODEL_OPT_LR, lr))
			die("lr");
		shuffle(idx, N);
		for (size_t b = 0; b < N; b += BATCH) {
			double loss;

			if (lupi_student_step(sm, t, kd, ds, idx + b, BATCH,
					      &loss))
				die("step");
			sum += loss;
		}
		if (lupi_model_evaluate(sm, ds, LUPI_METRIC_ACCURACY, &acc))
			die("evaluate");
		printf("epoch %2d  lr %.5f  loss %.4f  train accuracy %.4f\n",
		       e + 1, lr, sum / (N / BATCH), acc);
	}
	if (lupi_model_evaluate(tm, ds, LUPI_METRIC_ACCURACY, &acc))
		die("evaluate");
	printf("teacher train accuracy %.4f\n", acc);
	lupi_loss_free(kd);
	lupi_teacher_free(t);
	lupi_model_free(sm);
	lupi_model_free(tm);
	lupi_dataset_free(ds);
	return 0;
}
