/* Threads (DESIGN.md, "Threads and determinism"): different handles in
 * different threads train independently and bit-identically to a
 * single-threaded run; lupi_model_predict and the other const-model calls
 * run concurrently on one shared trained model and give the single-threaded
 * results; one const teacher serves several students training on several
 * threads; lupi_errmsg() is per thread. Built under ThreadSanitizer too
 * (doc/reliability.md); OpenBLAS is held to one thread so that its own
 * pool does not blur the picture. No ck_assert runs outside the main
 * thread: workers record, the main thread checks. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "testutil.h"

#include "lupi.h"

#define N 40
#define D 5
#define DP 3
#define K 3
#define WORKERS 4
#define ROUNDS 20

/* ---- data and training -----------------------------------------------------
 */

typedef struct job {
	uint32_t seed;
	size_t np;     /* parameters of the student */
	float *params; /* its trained parameters */
	int rc;        /* first failure, LUPI_OK if none */
	char msg[256];
} job;

static void fill(uint32_t seed, float *x, float *xp, int32_t *y)
{
	uint32_t s = seed * 2654435761u + 1u;
	for (size_t i = 0; i < N; i++) {
		y[i] = (int32_t)(i % K);
		for (size_t j = 0; j < D; j++) {
			s = s * 1103515245u + 12345u;
			x[i * D + j] = (float)(s >> 16 & 0xff) / 64.0f - 2.0f +
			               (j == 0 ? (float)y[i] * 0.5f : 0.0f);
		}
		for (size_t j = 0; j < DP; j++) {
			s = s * 1103515245u + 12345u;
			xp[i * DP + j] = (float)(s >> 16 & 0xff) / 128.0f +
			                 (j == 0 ? (float)y[i] : 0.0f);
		}
	}
}

static int job_fail(job *j, int rc, const char *what)
{
	if (j->rc == LUPI_OK) {
		j->rc = rc;
		snprintf(j->msg, sizeof j->msg, "%s: %s", what, lupi_errmsg());
	}
	return rc;
}

#define TRY(j, call)                                                           \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ != LUPI_OK)                                            \
			return job_fail(j, rc_, #call);                        \
	} while (0)

static int train_all(job *j, lupi_dataset *ds, lupi_model *tm, lupi_model *sm,
                     lupi_teacher *t, lupi_loss *loss)
{
	static const size_t hidden[] = {6};
	float x[N * D], xp[N * DP];
	int32_t y[N];
	fill(j->seed, x, xp, y);
	TRY(j, lupi_dataset_create(N, D, x, &ds));
	TRY(j, lupi_dataset_set_privileged(ds, DP, xp, NULL));
	TRY(j, lupi_dataset_set_labels(ds, K, y));
	/* the teacher on X*, then a student on X distilled from it */
	TRY(j,
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, hidden, 1, K, &tm));
	TRY(j, lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED));
	TRY(j, lupi_model_set_int(tm, LUPI_MODEL_OPT_SEED, j->seed));
	TRY(j, lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 5));
	TRY(j, lupi_model_set_int(tm, LUPI_MODEL_OPT_BATCH, 8));
	TRY(j, lupi_model_fit(tm, ds, NULL, NULL, NULL));
	TRY(j, lupi_teacher_create(&t));
	TRY(j, lupi_teacher_add_model(t, tm, 1.0));
	TRY(j, lupi_teacher_prepare(t, ds));
	TRY(j, lupi_loss_create(LUPI_LOSS_KD, &loss));
	TRY(j, lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE, 2.0));
	TRY(j,
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, K, &sm));
	TRY(j, lupi_model_set_int(sm, LUPI_MODEL_OPT_SEED, j->seed + 1));
	TRY(j, lupi_model_set_int(sm, LUPI_MODEL_OPT_EPOCHS, 5));
	TRY(j, lupi_model_set_int(sm, LUPI_MODEL_OPT_BATCH, 8));
	TRY(j, lupi_student_fit(sm, t, loss, ds, ds, NULL, NULL));
	j->np = lupi_model_num_params(sm);
	j->params = malloc(j->np * sizeof *j->params);
	if (j->params == NULL)
		return job_fail(j, LUPI_ENOMEM, "malloc");
	TRY(j, lupi_model_get_params(sm, j->params, j->np));
	lupi_loss_free(loss);
	lupi_teacher_free(t);
	lupi_model_free(sm);
	lupi_model_free(tm);
	lupi_dataset_free(ds);
	return LUPI_OK;
}

/* The handles are freed by train_all on success; on failure this keeps it
 * simple and lets the test fail (a leak after a failure is not the point). */
static void *train_thread(void *arg)
{
	job *j = arg;
	j->rc = LUPI_OK;
	train_all(j, NULL, NULL, NULL, NULL, NULL);
	return NULL;
}

START_TEST(independent_training_matches_single_thread)
{
	job ref[WORKERS], par[WORKERS];
	memset(ref, 0, sizeof ref);
	memset(par, 0, sizeof par);
	for (int w = 0; w < WORKERS; w++) {
		ref[w].seed = par[w].seed = 100u + (uint32_t)w;
		train_thread(&ref[w]);
		ck_assert_msg(ref[w].rc == LUPI_OK, "%s", ref[w].msg);
	}
	pthread_t th[WORKERS];
	for (int w = 0; w < WORKERS; w++)
		ck_assert_int_eq(
		    pthread_create(&th[w], NULL, train_thread, &par[w]), 0);
	for (int w = 0; w < WORKERS; w++)
		ck_assert_int_eq(pthread_join(th[w], NULL), 0);
	for (int w = 0; w < WORKERS; w++) {
		ck_assert_msg(par[w].rc == LUPI_OK, "%s", par[w].msg);
		ck_assert_uint_eq(par[w].np, ref[w].np);
		ck_assert_msg(memcmp(par[w].params, ref[w].params,
		                     ref[w].np * sizeof(float)) == 0,
		              "worker %d trained other parameters than the "
		              "same run in one thread",
		              w);
		free(par[w].params);
		free(ref[w].params);
	}
}
END_TEST

/* ---- concurrent prediction on one model -----------------------------------
 */

typedef struct shared {
	const lupi_model *m;
	const lupi_dataset *ds;
	const float *x;
	const float *ref_out;   /* N*K probabilities */
	const int32_t *ref_cls; /* N */
	double ref_acc;
} shared;

typedef struct reader_job {
	const shared *sh;
	int id;
	int mismatches;
	int rc;
	char msg[256];
} reader_job;

static void *predict_thread(void *arg)
{
	reader_job *r = arg;
	const shared *sh = r->sh;
	float out[N * K];
	int32_t cls[N];
	for (int round = 0; round < ROUNDS && r->rc == LUPI_OK; round++) {
		/* different chunkings of the same rows in each thread */
		size_t chunk = 1 + (size_t)(r->id + round) % N;
		for (size_t i = 0; i < N; i += chunk) {
			size_t n = i + chunk <= N ? chunk : N - i;
			int rc = lupi_model_predict(sh->m, sh->x + i * D, n,
			                            D, LUPI_PREDICT_OUTPUT,
			                            out + i * K);
			if (rc != LUPI_OK) {
				r->rc = rc;
				snprintf(r->msg, sizeof r->msg, "predict: %s",
				         lupi_errmsg());
				return NULL;
			}
		}
		if (memcmp(out, sh->ref_out, sizeof out) != 0)
			r->mismatches++;
		double acc = -1;
		if (lupi_model_predict_class(sh->m, sh->x, N, D, cls) != LUPI_OK ||
		    lupi_model_evaluate(sh->m, sh->ds, LUPI_METRIC_ACCURACY,
		                        &acc) != LUPI_OK) {
			r->rc = LUPI_EINVAL;
			snprintf(r->msg, sizeof r->msg, "class/evaluate: %s",
			         lupi_errmsg());
			return NULL;
		}
		if (memcmp(cls, sh->ref_cls, sizeof cls) != 0 ||
		    acc != sh->ref_acc)
			r->mismatches++;
	}
	return NULL;
}

START_TEST(shared_model_predicts_concurrently)
{
	static const size_t hidden[] = {7, 4};
	float x[N * D], xp[N * DP];
	int32_t y[N];
	fill(7, x, xp, y);
	lupi_dataset *ds = NULL;
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	ck_assert_int_eq(
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 2, K, &m),
	    LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 5), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_OK);

	float ref_out[N * K];
	int32_t ref_cls[N];
	shared sh = {m, ds, x, ref_out, ref_cls, 0};
	ck_assert_int_eq(
	    lupi_model_predict(m, x, N, D, LUPI_PREDICT_OUTPUT, ref_out), LUPI_OK);
	ck_assert_int_eq(lupi_model_predict_class(m, x, N, D, ref_cls), LUPI_OK);
	ck_assert_int_eq(
	    lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &sh.ref_acc),
	    LUPI_OK);
	/* predicting one row at a time gives the same bits as a batch */
	for (size_t i = 0; i < N; i++) {
		float one[K];
		ck_assert_int_eq(lupi_model_predict(m, x + i * D, 1, D,
		                                    LUPI_PREDICT_OUTPUT, one),
		                 LUPI_OK);
		ck_assert_mem_eq(one, ref_out + i * K, sizeof one);
	}

	pthread_t th[WORKERS];
	reader_job rj[WORKERS];
	for (int w = 0; w < WORKERS; w++) {
		rj[w] = (reader_job){&sh, w, 0, LUPI_OK, ""};
		ck_assert_int_eq(
		    pthread_create(&th[w], NULL, predict_thread, &rj[w]), 0);
	}
	for (int w = 0; w < WORKERS; w++)
		ck_assert_int_eq(pthread_join(th[w], NULL), 0);
	for (int w = 0; w < WORKERS; w++) {
		ck_assert_msg(rj[w].rc == LUPI_OK, "%s", rj[w].msg);
		ck_assert_msg(rj[w].mismatches == 0,
		              "thread %d: %d rounds differ from one thread", w,
		              rj[w].mismatches);
	}
	lupi_model_free(m);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- one teacher, several students on several threads -------------------
 */

/* A worker trains its own student from the one shared, const teacher:
 * steps, gradients, the loss over the dataset, teacher outputs and a fit.
 * Odd workers add a hint loss, which reads the teacher's hidden layer. */
typedef struct pupil_job {
	const lupi_teacher *t;
	const lupi_dataset *ds;
	uint32_t seed;
	int hint;
	size_t np;
	float *params;  /* trained parameters */
	float grad[64]; /* a gradient before training */
	double loss;    /* the loss over ds after training */
	float outputs[N * K];
	int rc;
	char msg[256];
} pupil_job;

static int pupil_fail(pupil_job *j, int rc, const char *what)
{
	if (j->rc == LUPI_OK) {
		j->rc = rc;
		snprintf(j->msg, sizeof j->msg, "%s: %s", what, lupi_errmsg());
	}
	return rc;
}

#define PTRY(j, call)                                                          \
	do {                                                                   \
		int rc_ = (call);                                              \
		if (rc_ != LUPI_OK)                                            \
			return pupil_fail(j, rc_, #call);                      \
	} while (0)

static int pupil_train(pupil_job *j, lupi_model *sm, lupi_loss *loss)
{
	static const size_t idx[8] = {3, 1, 4, 15, 9, 26, 5, 35};
	size_t all[N];
	for (size_t i = 0; i < N; i++)
		all[i] = N - 1 - i;
	PTRY(j, lupi_teacher_outputs(j->t, j->ds, all, N, j->outputs, NULL));
	PTRY(j, lupi_model_init(sm));
	j->np = lupi_model_num_params(sm);
	if (j->np > 64)
		return pupil_fail(j, LUPI_ESHAPE, "more than 64 parameters");
	PTRY(j, lupi_student_gradient(sm, j->t, loss, j->ds, idx, 8, NULL,
	                              j->grad, j->np));
	for (int r = 0; r < 5; r++)
		PTRY(j, lupi_student_step(sm, j->t, loss, j->ds, idx, 8, NULL));
	PTRY(j, lupi_student_fit(sm, j->t, loss, j->ds, j->ds, NULL, NULL));
	PTRY(j, lupi_student_loss(sm, j->t, loss, j->ds, &j->loss));
	j->params = malloc(j->np * sizeof *j->params);
	if (j->params == NULL)
		return pupil_fail(j, LUPI_ENOMEM, "malloc");
	PTRY(j, lupi_model_get_params(sm, j->params, j->np));
	return LUPI_OK;
}

static int pupil_setup(pupil_job *j, lupi_model **sm, lupi_loss **loss)
{
	static const size_t hidden[] = {5};
	PTRY(j, lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, K,
	                          sm));
	PTRY(j, lupi_model_set_int(*sm, LUPI_MODEL_OPT_SEED, j->seed));
	PTRY(j, lupi_model_set_int(*sm, LUPI_MODEL_OPT_EPOCHS, 4));
	PTRY(j, lupi_model_set_int(*sm, LUPI_MODEL_OPT_BATCH,
	                           6 + j->seed % 3));
	PTRY(j, lupi_model_set_double(*sm, LUPI_MODEL_OPT_DROPOUT, 0.1));
	PTRY(j, lupi_loss_create(LUPI_LOSS_KD, loss));
	PTRY(j, lupi_loss_set_double(*loss, LUPI_LOSS_OPT_TEMPERATURE, 2.0));
	if (j->hint)
		PTRY(j, lupi_loss_set_int(*loss, LUPI_LOSS_OPT_FEATURE,
		                          LUPI_FEATURE_HINT));
	return LUPI_OK;
}

static void *pupil_thread(void *arg)
{
	pupil_job *j = arg;
	lupi_model *sm = NULL;
	lupi_loss *loss = NULL;
	j->rc = LUPI_OK;
	if (pupil_setup(j, &sm, &loss) == LUPI_OK)
		pupil_train(j, sm, loss);
	lupi_loss_free(loss);
	lupi_model_free(sm);
	return NULL;
}

START_TEST(one_teacher_serves_students_on_threads)
{
	static const size_t hidden[] = {6};
	float x[N * D], xp[N * DP];
	int32_t y[N];
	uint8_t mask[N];
	fill(11, x, xp, y);
	for (size_t i = 0; i < N; i++)
		mask[i] = i % 7 != 3;
	lupi_dataset *ds = NULL;
	lupi_model *tm = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DP, xp, mask),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	ck_assert_int_eq(
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, hidden, 1, K, &tm),
	    LUPI_OK);
	ck_assert_int_eq(
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED),
	    LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 5),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(tm, ds, NULL, NULL, NULL), LUPI_OK);
	/* Not prepared (every call computes the outputs, on each thread),
	 * then prepared (every call reads the cache). */
	for (int prepared = 0; prepared < 2; prepared++) {
		lupi_teacher *t = NULL;
		ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
		ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
		if (prepared)
			ck_assert_int_eq(lupi_teacher_prepare(t, ds), LUPI_OK);
		pupil_job ref[WORKERS], par[WORKERS];
		memset(ref, 0, sizeof ref);
		memset(par, 0, sizeof par);
		for (int w = 0; w < WORKERS; w++) {
			ref[w].t = par[w].t = t;
			ref[w].ds = par[w].ds = ds;
			ref[w].seed = par[w].seed = 40u + (uint32_t)w;
			ref[w].hint = par[w].hint = w % 2;
			pupil_thread(&ref[w]);
			ck_assert_msg(ref[w].rc == LUPI_OK, "%s", ref[w].msg);
		}
		pthread_t th[WORKERS];
		for (int w = 0; w < WORKERS; w++)
			ck_assert_int_eq(pthread_create(&th[w], NULL,
			                                pupil_thread, &par[w]),
			                 0);
		for (int w = 0; w < WORKERS; w++)
			ck_assert_int_eq(pthread_join(th[w], NULL), 0);
		for (int w = 0; w < WORKERS; w++) {
			ck_assert_msg(par[w].rc == LUPI_OK, "%s", par[w].msg);
			ck_assert_uint_eq(par[w].np, ref[w].np);
			ck_assert_mem_eq(par[w].outputs, ref[0].outputs,
			                 sizeof ref[0].outputs);
			ck_assert_mem_eq(par[w].grad, ref[w].grad,
			                 ref[w].np * sizeof(float));
			ck_assert_msg(memcmp(par[w].params, ref[w].params,
			                     ref[w].np * sizeof(float)) == 0,
			              "student %d (prepared %d) trained other "
			              "parameters beside the others than alone",
			              w, prepared);
			ck_assert(par[w].loss == ref[w].loss);
			free(par[w].params);
			free(ref[w].params);
		}
		lupi_teacher_free(t);
	}
	lupi_model_free(tm);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- the error message is per thread --------------------------------------
 */

typedef struct msg_job {
	int id;
	int ok;
} msg_job;

static void *message_thread(void *arg)
{
	msg_job *mj = arg;
	float x[N * D];
	char want[32];
	memset(x, 0, sizeof x);
	x[(size_t)mj->id * D] = NAN;
	snprintf(want, sizeof want, "sample %d,", mj->id);
	mj->ok = 1;
	for (int round = 0; round < 200; round++) {
		lupi_dataset *ds = NULL;
		if (lupi_dataset_create(N, D, x, &ds) != LUPI_ENONFINITE ||
		    strstr(lupi_errmsg(), want) == NULL)
			mj->ok = 0;
	}
	return NULL;
}

START_TEST(error_messages_are_per_thread)
{
	pthread_t th[WORKERS];
	msg_job mj[WORKERS];
	for (int w = 0; w < WORKERS; w++) {
		mj[w] = (msg_job){w + 1, 0};
		ck_assert_int_eq(
		    pthread_create(&th[w], NULL, message_thread, &mj[w]), 0);
	}
	for (int w = 0; w < WORKERS; w++)
		ck_assert_int_eq(pthread_join(th[w], NULL), 0);
	for (int w = 0; w < WORKERS; w++)
		ck_assert_msg(mj[w].ok,
		              "thread %d saw another thread's message", w);
}
END_TEST

int main(void)
{
	/* OpenBLAS's pool is process-wide; one thread keeps runs comparable
	 * and ThreadSanitizer's view clean. */
	lupi_set_num_threads(1);
	Suite *s = suite_create("threads");
	TCase *tc = tcase_create("threads");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, independent_training_matches_single_thread);
	tcase_add_test(tc, shared_model_predicts_concurrently);
	tcase_add_test(tc, one_teacher_serves_students_on_threads);
	tcase_add_test(tc, error_messages_are_per_thread);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
