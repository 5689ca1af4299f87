/* quickstart.c - a teacher on privileged features X*, a student on X. */
#include <stdio.h>
#include <stdlib.h>
#include <lupi.h>

#define N 2000 /* samples; X: 10 features, the first noisy; X*: 2 clean ones */

static void check(int rc)
{
	if (rc == LUPI_OK)
		return;
	fprintf(stderr, "quickstart: %s\n", lupi_errmsg());
	exit(1);
}

int main(void)
{
	static float x[N * 10], xs[N * 2];
	static int32_t y[N];
	size_t hidden = 16;
	int cls = LUPI_TASK_CLASSIFICATION; /* softmax over K = 2 */
	lupi_dataset *ds;
	lupi_model *tm, *sm;
	lupi_teacher *t;
	lupi_loss *kd;
	float prob[2];

	for (int i = 0; i < N; i++) {
		for (int j = 0; j < 10; j++)
			x[i * 10 + j] = (float)rand() / RAND_MAX - 0.5f;
		xs[i * 2] = x[i * 10];     /* the clean signal ... */
		xs[i * 2 + 1] = x[i * 10 + 1];
		x[i * 10] += 0.3f * ((float)rand() / RAND_MAX - 0.5f);
		y[i] = xs[i * 2] + xs[i * 2 + 1] > 0; /* ... decides y */
	}
	check(lupi_dataset_create(N, 10, x, &ds));
	check(lupi_dataset_set_privileged(ds, 2, xs, NULL));
	check(lupi_dataset_set_labels(ds, 2, y));

	check(lupi_model_create(cls, 2, &hidden, 1, 2, &tm));
	check(lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED));
	check(lupi_model_fit(tm, ds, NULL, NULL, NULL));
	check(lupi_teacher_create(&t));
	check(lupi_teacher_add_model(t, tm, 1.0));

	check(lupi_model_create(cls, 10, &hidden, 1, 2, &sm));
	check(lupi_loss_create(LUPI_LOSS_KD, &kd));
	check(lupi_loss_set_double(kd, LUPI_LOSS_OPT_TEMPERATURE, 2.0));
	check(lupi_student_fit(sm, t, kd, ds, NULL, NULL, NULL));

	check(lupi_model_predict(sm, x, 1, 10, LUPI_PREDICT_OUTPUT, prob)); /* X */
	printf("sample 0: label %d, student P(y=1) = %.3f\n", y[0], prob[1]);
	lupi_loss_free(kd);
	lupi_teacher_free(t);
	lupi_model_free(sm);
	lupi_model_free(tm);
	lupi_dataset_free(ds);
	return 0;
}
