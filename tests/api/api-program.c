/*
 * Uses only the installed <lupi.h> and liblupi: reads every option's
 * description from the option directory and checks a fresh handle holds
 * its default; builds a dataset with regular and privileged features,
 * trains a teacher on X* and a distilled student on X (a progress callback
 * that stops a fit gets LUPI_ECANCELLED), runs a small comparison, saves
 * the student to a file and to memory; a second process loads it and must
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
	const char *name = lupi_errname(rc);
	fprintf(stderr, "%s: %s, %s (%s)\n", what, name ? name : "?",
		lupi_strerror(rc), lupi_errmsg());
	return 1;
}

/* Every model and layer option of the directory: a fresh model holds its
 * documented default; names find it; a key of another handle is refused. */
static int check_options(void)
{
	size_t hidden[1] = {8};
	lupi_model *m = NULL;
	const lupi_option *o;
	int n = 0, rc;
	if ((rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, 2,
				    &m)))
		return fail("model", rc);
	for (o = lupi_option_next(LUPI_HANDLE_MODEL, NULL); o;
	     o = lupi_option_next(LUPI_HANDLE_MODEL, o), n++) {
		int64_t iv = 0;
		double dv = 0;
		int ok = o->type == LUPI_TYPE_INT
			     ? lupi_model_get_int(m, o->key, &iv) == LUPI_OK &&
				       iv == o->int_default
			     : lupi_model_get_double(m, o->key, &dv) ==
					       LUPI_OK &&
				       dv == o->real_default;
		if (!ok || lupi_option_by_key(o->key) != o ||
		    lupi_option_by_name(LUPI_HANDLE_MODEL, o->name) != o) {
			fprintf(stderr, "option %s: default or lookup wrong\n",
				o->name);
			return 1;
		}
	}
	for (o = lupi_option_next(LUPI_HANDLE_LAYER, NULL); o;
	     o = lupi_option_next(LUPI_HANDLE_LAYER, o), n++) {
		int64_t v = -1;
		if ((rc = lupi_model_get_layer_int(m, 0, o->key, &v)))
			return fail(o->name, rc);
		if (v != o->int_default) {
			fprintf(stderr, "layer option %s: %lld, not %lld\n",
				o->name, (long long)v,
				(long long)o->int_default);
			return 1;
		}
	}
	o = lupi_option_by_name(LUPI_HANDLE_MODEL, "weight-decay");
	if (n < 20 || !o || o->key != LUPI_MODEL_OPT_WEIGHT_DECAY ||
	    lupi_option_by_name(LUPI_HANDLE_MODEL, "LUPI_MODEL_OPT_EPOCHS") !=
		    lupi_option_by_key(LUPI_MODEL_OPT_EPOCHS)) {
		fprintf(stderr, "option directory: %d options\n", n);
		return 1;
	}
	/* a loss key on a model, a model key through the other type */
	rc = lupi_model_set_int(m, LUPI_LOSS_OPT_QUEUE, 8);
	if (rc != LUPI_EUNKNOWN_OPTION ||
	    strcmp(lupi_errname(rc), "LUPI_EUNKNOWN_OPTION") != 0 ||
	    lupi_model_set_double(m, LUPI_MODEL_OPT_EPOCHS, 3) !=
		    LUPI_EUNKNOWN_OPTION) {
		fprintf(stderr, "a foreign key was not refused\n");
		return 1;
	}
	lupi_model_free(m);
	printf("%d model and layer options hold their defaults\n", n);
	return 0;
}

/* Every code from LUPI_EINVAL to LUPI_ECANCELLED has a macro name and a
 * text; the next number is unknown. */
static int check_errors(void)
{
	for (int code = LUPI_EINVAL; code >= LUPI_ECANCELLED; code--) {
		const char *name = lupi_errname(code);
		if (!name || strncmp(name, "LUPI_E", 6) != 0 ||
		    !lupi_strerror(code)[0]) {
			fprintf(stderr, "code %d has no name\n", code);
			return 1;
		}
	}
	if (lupi_errname(LUPI_ECANCELLED - 1) != NULL ||
	    strcmp(lupi_errname(LUPI_ECANCELLED), "LUPI_ECANCELLED") != 0) {
		fprintf(stderr, "lupi_errname: wrong names\n");
		return 1;
	}
	lupi_free(NULL);
	return 0;
}

/* Stops a fit at the end of its second epoch. */
static int stop_at_2(void *user, const lupi_progress *p)
{
	unsigned *last = user;
	if (p->size < sizeof *p)
		return 1;
	if (p->epoch_end)
		*last = p->epoch;
	return p->epoch_end && p->epoch == 2;
}

/* A fit that its progress callback stops returns LUPI_ECANCELLED. */
static int check_cancel(const lupi_model *proto, const lupi_dataset *ds)
{
	lupi_model *m = NULL;
	unsigned last = 0;
	int rc;
	if ((rc = lupi_model_clone(proto, &m)))
		return fail("clone", rc);
	rc = lupi_model_fit(m, ds, NULL, stop_at_2, &last);
	lupi_model_free(m);
	if (rc != LUPI_ECANCELLED || last != 2)
		return fail("a stopped fit", rc);
	return 0;
}

/* Teacher vs labels-only vs distilled student, one repetition. */
static int check_compare(const lupi_model *teacher_proto,
			 const lupi_model *student_proto, lupi_dataset *ds)
{
	static const double lambda = 0.7, temp = 2.0;
	lupi_dataset *train = NULL, *test = NULL;
	lupi_compare *c = NULL;
	double mean;
	int kind, rc;
	if ((rc = lupi_dataset_split(ds, 0.75, 1, LUPI_SPLIT_STRATIFIED,
				     &train, &test)) ||
	    (rc = lupi_compare_create(teacher_proto, student_proto, &c)) ||
	    (rc = lupi_compare_set_grid(c, &lambda, 1, &temp, 1)) ||
	    (rc = lupi_compare_set_int(c, LUPI_COMPARE_OPT_REPEATS, 1)) ||
	    (rc = lupi_compare_run(c, train, test, NULL, NULL)) ||
	    (rc = lupi_compare_row(c, 3, &kind, NULL, NULL, &mean, NULL, NULL,
				   NULL)))
		return fail("compare", rc);
	if (lupi_compare_rows(c) != 4 || lupi_compare_repeats(c) != 1 ||
	    lupi_compare_metric(c) != LUPI_METRIC_ACCURACY ||
	    kind != LUPI_COMPARE_DISTILLED || !(mean > 0.5)) {
		fprintf(stderr, "comparison table wrong\n");
		return 1;
	}
	lupi_compare_free(c);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	return 0;
}

/* The student through memory: lupi_model_save_memory's buffer, freed with
 * lupi_free(), loads a model that predicts the same bits. */
static int check_memory(const lupi_model *m, const float *x,
			const float *probs)
{
	void *buf = NULL;
	size_t len = 0;
	lupi_model *copy = NULL;
	float again[NTEST * 2];
	int rc;
	if ((rc = lupi_model_save_memory(m, &buf, &len)) ||
	    (rc = lupi_model_load_memory(buf, len, &copy)) ||
	    (rc = lupi_model_predict(copy, x, NTEST, D, LUPI_PREDICT_OUTPUT,
				     again)))
		return fail("memory round trip", rc);
	lupi_free(buf);
	lupi_model_free(copy);
	if (memcmp(again, probs, sizeof again) != 0) {
		fprintf(stderr, "a model loaded from memory differs\n");
		return 1;
	}
	return 0;
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
	    (rc = lupi_dataset_set_labels(ds, 2, labels)))
		return fail("dataset", rc);
	if ((rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, hidden, 1, 2,
				    &teacher)) ||
	    (rc = lupi_model_set_int(teacher, LUPI_MODEL_OPT_VIEW,
				     LUPI_VIEW_PRIVILEGED)) ||
	    (rc = lupi_model_set_int(teacher, LUPI_MODEL_OPT_EPOCHS, 30)) ||
	    (rc = lupi_model_set_double(teacher, LUPI_MODEL_OPT_LR, 0.01)))
		return fail("teacher", rc);
	if (check_cancel(teacher, ds))
		return 1;
	if ((rc = lupi_model_fit(teacher, ds, NULL, NULL, NULL)))
		return fail("teacher", rc);
	if ((rc = lupi_teacher_create(&t)) ||
	    (rc = lupi_teacher_add_model(t, teacher, 1.0)) ||
	    (rc = lupi_loss_create(LUPI_LOSS_KD, &loss)) ||
	    (rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE, 2.0)) ||
	    (rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, 2,
				    &student)) ||
	    (rc = lupi_model_set_int(student, LUPI_MODEL_OPT_EPOCHS, 30)) ||
	    (rc = lupi_model_set_double(student, LUPI_MODEL_OPT_LR, 0.01)))
		return fail("student", rc);
	if (check_compare(teacher, student, ds))
		return 1;
	if ((rc = lupi_student_fit(student, t, loss, ds, NULL, NULL, NULL)))
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
	if ((rc = lupi_model_predict(student, x, NTEST, D, LUPI_PREDICT_OUTPUT,
				     probs)))
		return fail("predict", rc);
	if (check_memory(student, x, probs))
		return 1;
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
	if ((rc = lupi_model_predict(m, x, NTEST, D, LUPI_PREDICT_OUTPUT,
				     probs)))
		return fail("predict", rc);
	if (memcmp(probs, expected, sizeof probs) != 0) {
		fprintf(stderr, "loaded model predicts differently\n");
		return 1;
	}
	/* rows of another width are refused, not misread */
	if ((rc = lupi_model_predict(m, x, NTEST, D + 1, LUPI_PREDICT_OUTPUT,
				     probs)) != LUPI_ESHAPE)
		return fail("predict with the wrong row width", rc);
	lupi_model_free(m);
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
		return check_errors() || check_options() ||
		       train(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "predict") == 0)
		return predict(argv[2], argv[3]);
	fprintf(stderr, "usage: api-program train|predict MODEL EXPECTED\n");
	return 2;
}
