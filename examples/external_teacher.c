/*
 * external_teacher.c - distilling from a teacher that lives elsewhere.
 *
 * examples/data/external_teacher.csv holds 400 samples: four features, the
 * label, and three class probabilities p0..p2 computed by some other
 * program (think of a large model in another framework, or a simulator;
 * here they are the true class probabilities softmax(3 W x) the labels
 * were drawn from). The first 40 rows train a linear student from labels
 * and those soft targets; it is compared on the other 360 with a student
 * trained on the labels alone.
 *
 * usage: external_teacher [FILE.csv]
 */
#include <stdio.h>
#include <stdlib.h>

#include <lupi.h>

#define N_MAX 1000
#define D 4
#define K 3
#define N_TRAIN 40

static float x[N_MAX * D], probs[N_MAX * K];
static int32_t y[N_MAX];

/* Reads "x1,x2,x3,x4,label,p0,p1,p2" rows after a header line. */
static size_t read_csv(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	char header[256];

	if (!f || !fgets(header, sizeof(header), f)) {
		perror(path);
		exit(1);
	}
	while (n < N_MAX) {
		float *a = x + n * D, *p = probs + n * K;
		int got = fscanf(f, "%f,%f,%f,%f,%d,%f,%f,%f", &a[0], &a[1],
				 &a[2], &a[3], &y[n], &p[0], &p[1], &p[2]);

		if (got != 8)
			break;
		n++;
	}
	fclose(f);
	return n;
}

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "external_teacher: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static double train_student(const lupi_dataset *train,
			    const lupi_dataset *test,
			    const lupi_teacher *t)
{
	lupi_model *m;
	lupi_loss *loss;
	double acc;

	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, NULL, 0, K, &m),
	      "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 100), "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 20), "batch");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), "lr");
	check(lupi_loss_create(t ? LUPI_LOSS_KD : LUPI_LOSS_HARD, &loss),
	      "loss");
	check(lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA, 0.8), "lambda");
	check(lupi_student_fit(m, t, loss, train, NULL, NULL, NULL), "fit");
	check(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY, &acc),
	      "evaluate");
	lupi_loss_free(loss);
	lupi_model_free(m);
	return acc;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "external_teacher.csv";
	size_t n = read_csv(path);
	lupi_dataset *train, *test;
	lupi_teacher *t;

	if (n <= N_TRAIN) {
		fprintf(stderr, "external_teacher: %s: %zu rows, need more "
			"than %d\n", path, n, N_TRAIN);
		return 1;
	}
	check(lupi_dataset_create(N_TRAIN, D, x, &train), "train");
	check(lupi_dataset_set_labels(train, K, y), "train labels");
	check(lupi_dataset_create(n - N_TRAIN, D, x + N_TRAIN * D, &test),
	      "test");
	check(lupi_dataset_set_labels(test, K, y + N_TRAIN), "test labels");

	/* the outputs are tied to the training set, row for row */
	check(lupi_teacher_create(&t), "teacher");
	check(lupi_teacher_add_outputs(t, train, probs, K, LUPI_OUTPUTS_PROBS,
				       1.0), "teacher outputs");
	printf("%zu training, %zu test samples\n", (size_t)N_TRAIN,
	       n - N_TRAIN);
	printf("student, labels only:        test accuracy %.4f\n",
	       train_student(train, test, NULL));
	printf("student, external teacher:   test accuracy %.4f\n",
	       train_student(train, test, t));
	lupi_teacher_free(t);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	return 0;
}
