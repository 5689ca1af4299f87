/*
 * Uses only the installed <lupi.h> and liblupi: builds a dataset with
 * regular and privileged features, trains a teacher on X* and a distilled
 * student on X, saves the student; a second process loads it and must
 * predict bit-identically.
 *   api-program train MODEL EXPECTED    api-program predict MODEL EXPECTED
 */
#include <lupi.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 400
#define D 4
#define DP 2
#define NTEST 16

static int fail(const char *what, int rc)
{
	fprintf(stderr, "%s: %s (%s)\n", what, lupi_strerror(rc), lupi_errmsg());
	return 1;
}

/* Two classes; X* holds the clean signal, X a noisy copy of it. */
static void make_data(float *x, float *xp, unsigned char *mask, int *y)
{
	unsigned s = 12345;
	for (int i = 0; i < N; i++) {
		float u[DP];
		for (int j = 0; j < DP; j++) {
			s = s * 1103515245u + 12345u;
			u[j] = (float)((s >> 8) % 2001) / 1000.0f - 1.0f;
			xp[i * DP + j] = u[j];
		}
		y[i] = u[0] + u[1] > 0;
		for (int j = 0; j < D; j++) {
			s = s * 1103515245u + 12345u;
			float noise = (float)((s >> 8) % 2001) / 2000.0f - 0.5f;
			x[i * D + j] = u[j % DP] + noise;
		}
		mask[i] = i % 10 != 0; /* every tenth sample lacks X* */
	}
}

static int train(const char *model_path, const char *expected_path)
{
	static float x[N * D], xp[N * DP];
	static unsigned char mask[N];
	static int y32[N];
	int32_t labels[N];
	make_data(x, xp, mask, y32);
	for (int i = 0; i < N; i++)
		labels[i] = y32[i];

	lupi_dataset *ds = NULL;
	lupi_model *teacher = NULL, *student = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *loss = NULL;
	size_t hidden[1] = {16};
	int rc;
	if ((rc = lupi_dataset_create(N, D, x, &ds)) ||
	    (rc = lupi_dataset_set_privileged(ds, DP, xp, mask)) ||
	    (rc = lupi_dataset_set_labels(ds, 2, labels, 0)))
		return fail("dataset", rc);
	if ((rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, hidden, 1, 2,
				    &teacher)) ||
	    (rc = lupi_model_set_int(teacher, LUPI_MODEL_OPT_VIEW,
				     LUPI_VIEW_PRIVILEGED)) ||
	    (rc = lupi_model_set_int(teacher, LUPI_MODEL_OPT_EPOCHS, 30)) ||
	    (rc = lupi_model_set_double(teacher, LUPI_MODEL_OPT_LR, 0.01)) ||
	    (rc = lupi_model_fit(teacher, ds, NULL, NULL, NULL)))
		return fail("teacher", rc);
	if ((rc = lupi_teacher_create(&t)) ||
	    (rc = lupi_teacher_add_model(t, teacher, 1.0)) ||
	    (rc = lupi_loss_create(LUPI_LOSS_KD, &loss)) ||
	    (rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE, 2.0)) ||
	    (rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, 2,
				    &student)) ||
	    (rc = lupi_model_set_int(student, LUPI_MODEL_OPT_EPOCHS, 30)) ||
	    (rc = lupi_model_set_double(student, LUPI_MODEL_OPT_LR, 0.01)) ||
	    (rc = lupi_student_fit(student, t, loss, ds, NULL, NULL, NULL)))
		return fail("student", rc);

	double acc_t, acc_s;
	if ((rc = lupi_model_evaluate(teacher, ds, LUPI_METRIC_ACCURACY, &acc_t)) ||
	    (rc = lupi_model_evaluate(student, ds, LUPI_METRIC_ACCURACY, &acc_s)))
		return fail("evaluate", rc);
	printf("teacher accuracy %.3f, student accuracy %.3f\n", acc_t, acc_s);
	if (acc_t < 0.9 || acc_s < 0.75) {
		fprintf(stderr, "accuracy too low\n");
		return 1;
	}
	if ((rc = lupi_model_save(student, model_path)))
		return fail("save", rc);

	float probs[NTEST * 2];
	if ((rc = lupi_model_predict(student, x, NTEST, LUPI_PREDICT_OUTPUT,
				     probs)))
		return fail("predict", rc);
	FILE *f = fopen(expected_path, "wb");
	if (!f || fwrite(probs, sizeof probs, 1, f) != 1 || fclose(f))
		return fail("write expected", LUPI_EIO);

	lupi_loss_free(loss);
	lupi_teacher_free(t);
	lupi_model_free(student);
	lupi_model_free(teacher);
	lupi_dataset_free(ds);
	return 0;
}

static int predict(const char *model_path, const char *expected_path)
{
	static float x[N * D], xp[N * DP];
	static unsigned char mask[N];
	static int y[N];
	make_data(x, xp, mask, y);
	lupi_model *m = NULL;
	int rc = lupi_model_load(model_path, &m);
	if (rc)
		return fail("load", rc);
	float probs[NTEST * 2], expected[NTEST * 2];
	FILE *f = fopen(expected_path, "rb");
	if (!f || fread(expected, sizeof expected, 1, f) != 1)
		return fail("read expected", LUPI_EIO);
	fclose(f);
	if ((rc = lupi_model_predict(m, x, NTEST, LUPI_PREDICT_OUTPUT, probs)))
		return fail("predict", rc);
	lupi_model_free(m);
	if (memcmp(probs, expected, sizeof probs) != 0) {
		fprintf(stderr, "loaded model predicts differently\n");
		return 1;
	}
	printf("loaded student predicts bit-identically\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (lupi_version_number() != LUPI_VERSION_NUMBER) {
		fprintf(stderr, "header/library version mismatch\n");
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "train") == 0)
		return train(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "predict") == 0)
		return predict(argv[2], argv[3]);
	fprintf(stderr, "usage: api-program train|predict MODEL EXPECTED\n");
	return 2;
}
