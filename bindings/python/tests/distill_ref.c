/*
 * distill_ref.c - the C side of test_reference.py: trains a teacher and a
 * distilled student, and runs a comparison, from arrays the Python test
 * wrote, and writes what it got so the test can check that the binding
 * gives the same bits.
 *
 *   distill_ref INPUT OUTDIR THREADS
 *
 * INPUT: u64 n, d, d_priv, k (little-endian), then float x[n*d],
 * float x_priv[n*d_priv], uint8 mask[n], int32 y[n]. OUTDIR receives
 * teacher.bin and student.bin (model files), pred.bin (n*k floats: the
 * student's probabilities on x), steps.bin (the model file of a student
 * trained by lupi_student_step on batches) and compare.bin (doubles:
 * rows*repeats metric values, then mean and std of each row).
 *
 * The settings here are the experiment; test_reference.py repeats them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

static void check(int rc, const char *what)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "distill_ref: %s: %s: %s\n", what, lupi_strerror(rc),
		lupi_errmsg());
	exit(1);
}

static void *read_n(FILE *f, size_t size, size_t count)
{
	void *p = malloc(size * count + 1);
	if (p == NULL || fread(p, size, count, f) != count) {
		fprintf(stderr, "distill_ref: short input\n");
		exit(1);
	}
	return p;
}

static void write_file(const char *dir, const char *name, const void *data,
		       size_t size)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		fprintf(stderr, "distill_ref: cannot write %s\n", path);
		exit(1);
	}
}

static void write_model(const char *dir, const char *name, lupi_model *m)
{
	void *data;
	size_t size;
	check(lupi_model_save_memory(m, &data, &size), "save");
	write_file(dir, name, data, size);
	lupi_free(data);
}

static lupi_model *make(size_t n_in, size_t k, int view, int64_t seed)
{
	size_t hidden = 16;
	lupi_model *m;
	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, &hidden, 1, k,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 8), "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 64), "batch");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, seed), "seed");
	check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01), "lr");
	return m;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: distill_ref INPUT OUTDIR THREADS\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL) {
		perror(argv[1]);
		return 1;
	}
	uint64_t *hdr = read_n(f, sizeof(uint64_t), 4);
	size_t n = hdr[0], d = hdr[1], dp = hdr[2], k = hdr[3];
	float *x = read_n(f, sizeof(float), n * d);
	float *xp = read_n(f, sizeof(float), n * dp);
	uint8_t *mask = read_n(f, 1, n);
	int32_t *y = read_n(f, sizeof(int32_t), n);
	fclose(f);
	check(lupi_set_num_threads(atoi(argv[3])), "threads");

	lupi_dataset *ds;
	check(lupi_dataset_create(n, d, x, &ds), "dataset");
	check(lupi_dataset_set_privileged(ds, dp, xp, mask), "privileged");
	check(lupi_dataset_set_labels(ds, k, y), "labels");

	/* Teacher on X*, student on X distilled with KD. */
	lupi_model *tm = make(dp, k, LUPI_VIEW_PRIVILEGED, 11);
	check(lupi_model_fit(tm, ds, NULL, NULL, NULL), "teacher fit");
	lupi_teacher *t;
	check(lupi_teacher_create(&t), "teacher");
	check(lupi_teacher_add_model(t, tm, 1.0), "add");
	lupi_loss *kd;
	check(lupi_loss_create(LUPI_LOSS_KD, &kd), "loss");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE, 3.0), "T");
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_LAMBDA, 0.7), "lambda");
	lupi_model *sm = make(d, k, LUPI_VIEW_REGULAR, 12);
	check(lupi_student_fit(sm, t, kd, ds, NULL, NULL, NULL), "student fit");
	write_model(argv[2], "teacher.bin", tm);
	write_model(argv[2], "student.bin", sm);

	float *pred = malloc(n * k * sizeof *pred);
	check(lupi_model_predict(sm, x, n, d, LUPI_PREDICT_OUTPUT, pred),
	      "predict");
	write_file(argv[2], "pred.bin", pred, n * k * sizeof *pred);

	/* A student driven step by step: batches of 50 in order, 3 passes,
	   teacher prepared on ds. */
	lupi_model *st = make(d, k, LUPI_VIEW_REGULAR, 13);
	size_t *idx = malloc(n * sizeof *idx);
	check(lupi_teacher_prepare(t, ds), "prepare");
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < n; i += 50) {
			size_t b = n - i < 50 ? n - i : 50;
			for (size_t j = 0; j < b; j++)
				idx[j] = i + j;
			check(lupi_student_step(st, t, kd, ds, idx, b, NULL),
			      "step");
		}
	write_model(argv[2], "steps.bin", st);

	/* A comparison: 2 repetitions, lambda {0.3, 0.9}, T {2} on a split. */
	lupi_dataset *train, *test;
	check(lupi_dataset_split(ds, 0.7, 5, LUPI_SPLIT_STRATIFIED, &train,
				 &test), "split");
	lupi_model *tp = make(dp, k, LUPI_VIEW_PRIVILEGED, 0);
	lupi_model *sp = make(d, k, LUPI_VIEW_REGULAR, 0);
	lupi_compare *c;
	check(lupi_compare_create(tp, sp, &c), "compare");
	double lambdas[] = {0.3, 0.9}, temps[] = {2.0};
	check(lupi_compare_set_grid(c, lambdas, 2, temps, 1), "grid");
	check(lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS, 2), "repeats");
	check(lupi_compare_set_int(c, LUPI_COMPARE_OPT_SEED, 7), "seed");
	check(lupi_compare_run(c, train, test, NULL, NULL), "run");
	size_t rows = lupi_compare_rows(c);
	double *out = malloc(rows * 4 * sizeof *out);
	size_t o = 0;
	for (size_t r = 0; r < rows; r++)
		for (unsigned rep = 0; rep < 2; rep++)
			check(lupi_compare_value(c, r, rep, &out[o++]), "value");
	for (size_t r = 0; r < rows; r++) {
		check(lupi_compare_row(c, r, NULL, NULL, NULL, &out[o],
				       &out[o + 1], NULL, NULL), "row");
		o += 2;
	}
	write_file(argv[2], "compare.bin", out, o * sizeof *out);

	free(out);
	lupi_compare_free(c);
	lupi_model_free(sp);
	lupi_model_free(tp);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	free(idx);
	lupi_model_free(st);
	free(pred);
	lupi_model_free(sm);
	lupi_loss_free(kd);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_dataset_free(ds);
	free(y);
	free(mask);
	free(xp);
	free(x);
	free(hdr);
	return 0;
}
