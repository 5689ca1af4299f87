/* Allocation failure injection: for each public call below, allocation
 * number k and every later one fail (through lupi__set_alloc_gate), for
 * k = 0, 1, ... until the call succeeds. Each failing run must return
 * LUPI_ENOMEM with a message, set *out to NULL where there is one, leave
 * the handles as they were (checked by values) and usable (the same call
 * without the gate succeeds and gives the result of a run that never
 * failed). Leaks show under valgrind or ASan, which run this suite too
 * (doc/reliability.md). */
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "testutil.h"

#define N 24
#define D 4
#define DP 3
#define K 3
#define BATCH 8

/* ---- the gate ------------------------------------------------------------ */

typedef struct gate {
	unsigned allow; /* allocations that still succeed */
	unsigned seen;
} gate;

static int gate_fn(size_t size, void *user)
{
	(void)size;
	gate *g = user;
	return ++g->seen <= g->allow;
}

/* One call under test. setup and teardown run around every attempt without
 * the gate; call runs with it; failed checks the handles after a failing
 * attempt, succeeded after the successful one. */
typedef struct scenario {
	const char *name;
	void (*setup)(void *ctx);
	int (*call)(void *ctx);
	void (*failed)(void *ctx);
	void (*succeeded)(void *ctx);
	void (*teardown)(void *ctx);
} scenario;

/* Allocations allowed in the current attempt, for messages. */
static unsigned current_k;

/* Returns the number of allocations the successful call made. With
 * LUPI_TEST_VERBOSE set, prints it. */
static unsigned run_scenario(const scenario *s, void *ctx)
{
	for (unsigned k = 0; k < 100000; k++) {
		current_k = k;
		if (s->setup)
			s->setup(ctx);
		gate g = {k, 0};
		lupi__set_alloc_gate(gate_fn, &g);
		int rc = s->call(ctx);
		lupi__set_alloc_gate(NULL, NULL);
		if (rc == LUPI_OK) {
			if (s->succeeded)
				s->succeeded(ctx);
			if (s->teardown)
				s->teardown(ctx);
			ck_assert_msg(k > 0, "%s: no allocation was gated",
			              s->name);
			if (getenv("LUPI_TEST_VERBOSE"))
				printf("%s: %u allocations\n", s->name, k);
			return k;
		}
		ck_assert_msg(rc == LUPI_ENOMEM,
		              "%s with allocation %u failing returned %d (%s): "
		              "%s",
		              s->name, k + 1, rc, lupi_strerror(rc),
		              lupi_errmsg());
		ck_assert_msg(lupi_errmsg()[0] != '\0',
		              "%s: ENOMEM without a message", s->name);
		if (s->failed)
			s->failed(ctx);
		if (s->teardown)
			s->teardown(ctx);
	}
	ck_abort_msg("%s never succeeded", s->name);
	return 0;
}

/* ---- fixed data ---------------------------------------------------------- */

static float X[N * D], XP[N * DP], XP1[N];
static int32_t Y[N], Y4[N], YB[N];
static uint8_t MASK[N];
static const size_t IDX[BATCH] = {0, 3, 5, 7, 11, 13, 17, 23};

static void make_data(void)
{
	uint32_t s = 12345;
	for (size_t i = 0; i < N * D; i++) {
		s = s * 1103515245u + 12345u;
		X[i] = (float)(s >> 16 & 0x3ff) / 256.0f - 2.0f;
	}
	for (size_t i = 0; i < N * DP; i++) {
		s = s * 1103515245u + 12345u;
		XP[i] = (float)(s >> 16 & 0x3ff) / 256.0f - 2.0f;
	}
	for (size_t i = 0; i < N; i++) {
		Y[i] = (int32_t)(i % K);
		Y4[i] = (int32_t)((i * 3) % 4);
		YB[i] = (int32_t)(i % 2);
		XP1[i] = (float)i;
		MASK[i] = i % 5 != 4;
		/* make the privileged view informative about the label */
		XP[i * DP] += (float)Y[i];
	}
}

static lupi_dataset *dataset(void)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, DP, XP, MASK),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, Y), LUPI_OK);
	return ds;
}

static lupi_model *model(int view, size_t in, uint64_t seed)
{
	static const size_t hidden[] = {5};
	lupi_model *m = NULL;
	ck_assert_int_eq(
	    lupi_model_create(LUPI_TASK_CLASSIFICATION, in, hidden, 1, K, &m),
	    LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, BATCH), LUPI_OK);
	return m;
}

static lupi_model *trained(int view, size_t in, const lupi_dataset *ds)
{
	lupi_model *m = model(view, in, 11);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_OK);
	return m;
}

/* Parameters of m, malloc'd. */
static float *params(const lupi_model *m)
{
	size_t n = lupi_model_num_params(m);
	float *p = malloc(n * sizeof *p);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(lupi_model_get_params(m, p, n), LUPI_OK);
	return p;
}

static void assert_same_params(const lupi_model *a, const lupi_model *b)
{
	ck_assert_uint_eq(lupi_model_num_params(a), lupi_model_num_params(b));
	float *pa = params(a), *pb = params(b);
	ck_assert_msg(memcmp(pa, pb, lupi_model_num_params(a) * sizeof *pa) ==
	                  0,
	              "parameters differ from a run without failures "
	              "(allocation %u failed before)",
	              current_k + 1);
	free(pa);
	free(pb);
}

/* Everything a scenario may need. */
typedef struct ctx {
	lupi_dataset *ds, *out_ds, *out_ds2;
	lupi_model *proto, *teacher_model, *m, *ref, *out_m;
	lupi_teacher *teacher;
	lupi_loss *loss, *out_loss;
	lupi_compare *cmp;
	float *grad, *ref_grad;
	lupi_reader *reader;
	char *dir, *csv;
	void *buf;
	size_t len;
	void *ref_buf;
	size_t ref_len;
	double value;
	int feature; /* LUPI_LOSS_OPT_FEATURE of the student scenarios */
} ctx;

static void ctx_init(ctx *c)
{
	memset(c, 0, sizeof *c);
	lupi_set_num_threads(1);
	make_data();
	c->ds = dataset();
	c->proto = model(LUPI_VIEW_REGULAR, D, 3);
}

static void ctx_free(ctx *c)
{
	lupi_dataset_free(c->ds);
	lupi_model_free(c->proto);
	lupi_model_free(c->teacher_model);
	lupi_model_free(c->ref);
	lupi_loss_free(c->loss);
	lupi_reader_free(c->reader);
	lupi_free(c->ref_buf);
	free(c->grad);
	free(c->ref_grad);
	if (c->dir)
		lupi_test_rmdir(c->dir);
	free(c->csv);
}

#define SENTINEL ((void *)&run_scenario)

/* ---- datasets ------------------------------------------------------------ */

static int call_dataset_create(void *p)
{
	ctx *c = p;
	c->out_ds = SENTINEL;
	return lupi_dataset_create(N, D, X, &c->out_ds);
}

static void out_ds_null(void *p)
{
	ck_assert_ptr_null(((ctx *)p)->out_ds);
}

static void out_ds_free(void *p)
{
	ctx *c = p;
	lupi_dataset_free(c->out_ds);
	c->out_ds = NULL;
}

START_TEST(dataset_create)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_dataset_create", NULL, call_dataset_create,
	              out_ds_null,           NULL, out_ds_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* A dataset that already has one privileged column and 4-class labels,
 * so that a failed replacement must keep them. */
static void setup_plain_ds(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_dataset_create(N, D, X, &c->out_ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(c->out_ds, 1, XP1, NULL),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(c->out_ds, 4, Y4), LUPI_OK);
}

static int call_set_privileged(void *p)
{
	ctx *c = p;
	return lupi_dataset_set_privileged(c->out_ds, DP, XP, MASK);
}

static void privileged_kept(void *p)
{
	ctx *c = p;
	ck_assert_uint_eq(lupi_dataset_dim(c->out_ds, LUPI_VIEW_PRIVILEGED), 1);
	ck_assert_uint_eq(lupi_dataset_privileged_count(c->out_ds), N);
	ck_assert_ptr_null(lupi_dataset_mask(c->out_ds));
	ck_assert_mem_eq(lupi_dataset_features(c->out_ds, LUPI_VIEW_PRIVILEGED),
	                 XP1, sizeof XP1);
	ck_assert_int_eq(call_set_privileged(p), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(c->out_ds, LUPI_VIEW_PRIVILEGED),
	                  DP);
}

static void privileged_set(void *p)
{
	ctx *c = p;
	size_t present = 0;
	for (size_t i = 0; i < N; i++)
		present += MASK[i] != 0;
	ck_assert_uint_eq(lupi_dataset_privileged_count(c->out_ds), present);
}

START_TEST(dataset_set_privileged)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_dataset_set_privileged",
	              setup_plain_ds,
	              call_set_privileged,
	              privileged_kept,
	              privileged_set,
	              out_ds_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_set_labels(void *p)
{
	ctx *c = p;
	return lupi_dataset_set_labels(c->out_ds, K, Y);
}

static void labels_kept(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_dataset_task(c->out_ds),
	                 LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(c->out_ds), 4);
	ck_assert_mem_eq(lupi_dataset_labels(c->out_ds), Y4, sizeof Y4);
	ck_assert_int_eq(call_set_labels(p), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(c->out_ds), K);
}

static void labels_set(void *p)
{
	ctx *c = p;
	ck_assert_mem_eq(lupi_dataset_labels(c->out_ds), Y, sizeof Y);
}

START_TEST(dataset_set_labels)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_dataset_set_labels",
	              setup_plain_ds,
	              call_set_labels,
	              labels_kept,
	              labels_set,
	              out_ds_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_set_binary_labels(void *p)
{
	ctx *c = p;
	return lupi_dataset_set_binary_labels(c->out_ds, YB);
}

static void binary_kept(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_dataset_task(c->out_ds),
	                 LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(c->out_ds), 4);
	ck_assert_mem_eq(lupi_dataset_labels(c->out_ds), Y4, sizeof Y4);
	ck_assert_int_eq(call_set_binary_labels(p), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(c->out_ds), LUPI_TASK_BINARY);
}

static void binary_set(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_dataset_task(c->out_ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(c->out_ds), 2);
	ck_assert_mem_eq(lupi_dataset_labels(c->out_ds), YB, sizeof YB);
}

START_TEST(dataset_set_binary_labels)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_dataset_set_binary_labels",
	              setup_plain_ds,
	              call_set_binary_labels,
	              binary_kept,
	              binary_set,
	              out_ds_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_split(void *p)
{
	ctx *c = p;
	c->out_ds = c->out_ds2 = SENTINEL;
	return lupi_dataset_split(c->ds, 0.25, 7, LUPI_SPLIT_STRATIFIED,
	                          &c->out_ds, &c->out_ds2);
}

static void split_null(void *p)
{
	ctx *c = p;
	ck_assert_ptr_null(c->out_ds);
	ck_assert_ptr_null(c->out_ds2);
}

/* The parts hold the samples of lupi_dataset_split_indices(), in order. */
static void split_done(void *p)
{
	ctx *c = p;
	size_t idx[N], first = 0;
	ck_assert_int_eq(lupi_dataset_split_indices(c->ds, 0.25, 7,
	                                            LUPI_SPLIT_STRATIFIED, idx,
	                                            &first),
	                 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(c->out_ds), first);
	ck_assert_uint_eq(lupi_dataset_rows(c->out_ds2), N - first);
	const int32_t *a = lupi_dataset_labels(c->out_ds);
	const int32_t *b = lupi_dataset_labels(c->out_ds2);
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(i < first ? a[i] : b[i - first], Y[idx[i]]);
}

static void split_free(void *p)
{
	ctx *c = p;
	out_ds_free(p);
	lupi_dataset_free(c->out_ds2);
	c->out_ds2 = NULL;
}

START_TEST(dataset_split)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_dataset_split", NULL,       call_split,
	              split_null,           split_done, split_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_load_csv(void *p)
{
	ctx *c = p;
	c->out_ds = SENTINEL;
	return lupi_dataset_load_csv(c->csv, c->reader, &c->out_ds);
}

static void csv_loaded(void *p)
{
	ctx *c = p;
	ck_assert_uint_eq(lupi_dataset_rows(c->out_ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(c->out_ds, LUPI_VIEW_REGULAR), 2);
	ck_assert_uint_eq(lupi_dataset_dim(c->out_ds, LUPI_VIEW_PRIVILEGED), 1);
	ck_assert_uint_eq(lupi_dataset_privileged_count(c->out_ds), 2);
}

START_TEST(dataset_load_csv)
{
	ctx c;
	ctx_init(&c);
	c.dir = lupi_test_tmpdir();
	c.csv = lupi_test_write(c.dir, "d.csv",
	                        "a,\"b\",p,y\n1,2,3,0\n4,5,,1\n"
	                        "7,\"8.5\",9,2\n",
	                        (size_t)-1);
	ck_assert_int_eq(lupi_reader_create(&c.reader), LUPI_OK);
	ck_assert_int_eq(
	    lupi_reader_set_role_name(c.reader, "p", LUPI_ROLE_PRIVILEGED),
	    LUPI_OK);
	scenario s = {"lupi_dataset_load_csv",
	              NULL,
	              call_load_csv,
	              out_ds_null,
	              csv_loaded,
	              out_ds_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* ---- models -------------------------------------------------------------- */

static void out_m_null(void *p)
{
	ck_assert_ptr_null(((ctx *)p)->out_m);
}

static void out_m_free(void *p)
{
	ctx *c = p;
	lupi_model_free(c->out_m);
	c->out_m = NULL;
}

static int call_model_create(void *p)
{
	static const size_t hidden[] = {6, 5};
	ctx *c = p;
	c->out_m = SENTINEL;
	return lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 2, K,
	                         &c->out_m);
}

START_TEST(model_create)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_model_create", NULL, call_model_create,
	              out_m_null,          NULL, out_m_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_model_clone(void *p)
{
	ctx *c = p;
	c->out_m = SENTINEL;
	return lupi_model_clone(c->ref, &c->out_m);
}

static void clone_failed(void *p)
{
	ctx *c = p;
	out_m_null(p);
	ck_assert_int_eq(call_model_clone(p), LUPI_OK);
	assert_same_params(c->ref, c->out_m);
}

static void clone_same(void *p)
{
	ctx *c = p;
	assert_same_params(c->ref, c->out_m);
	/* the clone trains on exactly as the original would */
	lupi_model *orig = NULL;
	ck_assert_int_eq(lupi_model_clone(c->ref, &orig), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(c->out_m, c->ds, IDX, BATCH, NULL),
	                 LUPI_OK);
	ck_assert_int_eq(lupi_model_step(orig, c->ds, IDX, BATCH, NULL),
	                 LUPI_OK);
	assert_same_params(orig, c->out_m);
	lupi_model_free(orig);
}

START_TEST(model_clone)
{
	ctx c;
	ctx_init(&c);
	/* trained, so the clone copies optimiser state too */
	c.ref = trained(LUPI_VIEW_REGULAR, D, c.ds);
	scenario s = {"lupi_model_clone", NULL,       call_model_clone,
	              clone_failed,       clone_same, out_m_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_load_memory(void *p)
{
	ctx *c = p;
	c->out_m = SENTINEL;
	return lupi_model_load_memory(c->ref_buf, c->ref_len, &c->out_m);
}

static void loaded_same(void *p)
{
	ctx *c = p;
	assert_same_params(c->ref, c->out_m);
}

START_TEST(model_load_memory)
{
	ctx c;
	ctx_init(&c);
	c.ref = trained(LUPI_VIEW_REGULAR, D, c.ds);
	ck_assert_int_eq(lupi_model_save_memory(c.ref, &c.ref_buf, &c.ref_len),
	                 LUPI_OK);
	scenario s = {"lupi_model_load_memory",
	              NULL,
	              call_load_memory,
	              out_m_null,
	              loaded_same,
	              out_m_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_save_memory(void *p)
{
	ctx *c = p;
	c->buf = NULL;
	return lupi_model_save_memory(c->ref, &c->buf, &c->len);
}

static void saved_same(void *p)
{
	ctx *c = p;
	ck_assert_uint_eq(c->len, c->ref_len);
	ck_assert_mem_eq(c->buf, c->ref_buf, c->len);
	lupi_free(c->buf);
	c->buf = NULL;
}

static void save_failed(void *p)
{
	ck_assert_int_eq(call_save_memory(p), LUPI_OK);
	saved_same(p);
}

START_TEST(model_save_memory)
{
	ctx c;
	ctx_init(&c);
	c.ref = trained(LUPI_VIEW_REGULAR, D, c.ds);
	ck_assert_int_eq(lupi_model_save_memory(c.ref, &c.ref_buf, &c.ref_len),
	                 LUPI_OK);
	scenario s = {"lupi_model_save_memory",
	              NULL,
	              call_save_memory,
	              save_failed,
	              saved_same,
	              NULL};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* A fresh untrained copy of the prototype for every attempt. */
static void setup_fresh(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_model_clone(c->proto, &c->m), LUPI_OK);
}

static void teardown_fresh(void *p)
{
	ctx *c = p;
	lupi_model_free(c->m);
	c->m = NULL;
}

static void same_as_ref(void *p)
{
	ctx *c = p;
	assert_same_params(c->ref, c->m);
}

static int call_fit(void *p)
{
	ctx *c = p;
	return lupi_model_fit(c->m, c->ds, c->ds, NULL, NULL);
}

static void fit_failed(void *p)
{
	ctx *c = p;
	/* fit may have trained part way; the handle must still train */
	ck_assert_int_eq(call_fit(p), LUPI_OK);
	double acc;
	ck_assert_int_eq(
	    lupi_model_evaluate(c->m, c->ds, LUPI_METRIC_ACCURACY, &acc),
	    LUPI_OK);
}

START_TEST(model_fit)
{
	ctx c;
	ctx_init(&c);
	ck_assert_int_eq(lupi_model_clone(c.proto, &c.ref), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(c.ref, c.ds, c.ds, NULL, NULL),
	                 LUPI_OK);
	scenario s = {"lupi_model_fit", setup_fresh, call_fit,
	              fit_failed,       same_as_ref, teardown_fresh};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_step(void *p)
{
	ctx *c = p;
	return lupi_model_step(c->m, c->ds, IDX, BATCH, &c->value);
}

/* A failed step leaves the model as it was: the retry gives the result of
 * a step that never failed. */
static void step_failed(void *p)
{
	ck_assert_int_eq(call_step(p), LUPI_OK);
	same_as_ref(p);
}

START_TEST(model_step)
{
	ctx c;
	ctx_init(&c);
	ck_assert_int_eq(lupi_model_clone(c.proto, &c.ref), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(c.ref, c.ds, IDX, BATCH, NULL),
	                 LUPI_OK);
	scenario s = {"lupi_model_step", setup_fresh, call_step,
	              step_failed,       same_as_ref, teardown_fresh};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* lupi.h: "After the first step with a given batch size, a step allocates
 * nothing." */
START_TEST(second_step_allocates_nothing)
{
	ctx c;
	ctx_init(&c);
	setup_fresh(&c);
	ck_assert_int_eq(call_step(&c), LUPI_OK);
	gate g = {0, 0};
	lupi__set_alloc_gate(gate_fn, &g);
	int rc = call_step(&c);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_msg(rc == LUPI_OK, "second step: %s", lupi_errmsg());
	ck_assert_uint_eq(g.seen, 0);
	teardown_fresh(&c);
	ctx_free(&c);
}
END_TEST

static int call_gradient(void *p)
{
	ctx *c = p;
	return lupi_model_gradient(c->m, c->ds, IDX, BATCH, &c->value, c->grad,
	                           lupi_model_num_params(c->proto));
}

/* The weights are unchanged and the retry gives the gradient of a run
 * that never failed. */
static void gradient_same(void *p)
{
	ctx *c = p;
	size_t np = lupi_model_num_params(c->proto);
	ck_assert_mem_eq(c->grad, c->ref_grad, np * sizeof *c->grad);
	same_as_ref(p);
}

static void gradient_failed(void *p)
{
	ck_assert_int_eq(call_gradient(p), LUPI_OK);
	gradient_same(p);
}

START_TEST(model_gradient)
{
	ctx c;
	ctx_init(&c);
	size_t np = lupi_model_num_params(c.proto);
	c.grad = calloc(np, sizeof *c.grad);
	c.ref_grad = calloc(np, sizeof *c.ref_grad);
	ck_assert(c.grad != NULL && c.ref_grad != NULL);
	/* the reference: a gradient that never failed, of the same start */
	ck_assert_int_eq(lupi_model_clone(c.proto, &c.ref), LUPI_OK);
	ck_assert_int_eq(lupi_model_gradient(c.ref, c.ds, IDX, BATCH, NULL,
	                                     c.ref_grad, np),
	                 LUPI_OK);
	scenario s = {"lupi_model_gradient", setup_fresh,   call_gradient,
	              gradient_failed,       gradient_same, teardown_fresh};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static int call_compare_create(void *p)
{
	ctx *c = p;
	c->cmp = SENTINEL;
	return lupi_compare_create(c->teacher_model, c->proto, &c->cmp);
}

static void compare_null(void *p)
{
	ck_assert_ptr_null(((ctx *)p)->cmp);
}

static void compare_made(void *p)
{
	ctx *c = p;
	int64_t repeats = 0;
	ck_assert_int_eq(lupi_compare_get_int(c->cmp, LUPI_COMPARE_OPT_REPEATS,
	                                      &repeats),
	                 LUPI_OK);
	ck_assert_int_eq(repeats, 5);
}

static void compare_free(void *p)
{
	ctx *c = p;
	lupi_compare_free(c->cmp);
	c->cmp = NULL;
}

START_TEST(compare_create)
{
	ctx c;
	ctx_init(&c);
	c.teacher_model = model(LUPI_VIEW_PRIVILEGED, DP, 5);
	scenario s = {"lupi_compare_create", NULL,         call_compare_create,
	              compare_null,          compare_made, compare_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* ---- losses, teachers, students --------------------------------------------
 */

static void out_loss_null(void *p)
{
	ck_assert_ptr_null(((ctx *)p)->loss);
}

static void out_loss_free(void *p)
{
	ctx *c = p;
	lupi_loss_free(c->loss);
	c->loss = NULL;
}

static int call_loss_create(void *p)
{
	ctx *c = p;
	c->loss = SENTINEL;
	return lupi_loss_create(LUPI_LOSS_KD, &c->loss);
}

START_TEST(loss_create)
{
	ctx c;
	ctx_init(&c);
	scenario s = {"lupi_loss_create", NULL, call_loss_create,
	              out_loss_null,      NULL, out_loss_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static float FS[BATCH * 4], FT[BATCH * 3];

/* A hint loss (temperature 3) whose regressor exists: one evaluation. */
static lupi_loss *hint_loss(double *value)
{
	lupi_loss *loss = NULL;
	for (size_t i = 0; i < BATCH * 4; i++)
		FS[i] = (float)((i * 5) % 9) / 4.0f - 1.0f;
	for (size_t i = 0; i < BATCH * 3; i++)
		FT[i] = (float)((i * 2) % 7) / 3.0f - 1.0f;
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &loss), LUPI_OK);
	ck_assert_int_eq(
	    lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE, 3.0), LUPI_OK);
	ck_assert_int_eq(
	    lupi_loss_set_int(loss, LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_HINT),
	    LUPI_OK);
	ck_assert_int_eq(lupi_loss_eval_features(loss, BATCH, 4, FS, 3, FT,
	                                         NULL, value, NULL),
	                 LUPI_OK);
	return loss;
}

static int call_loss_clone(void *p)
{
	ctx *c = p;
	c->out_loss = SENTINEL;
	return lupi_loss_clone(c->loss, &c->out_loss);
}

static void loss_clone_null(void *p)
{
	ck_assert_ptr_null(((ctx *)p)->out_loss);
}

/* The copy has the options and the learned regressor: same value. */
static void loss_clone_same(void *p)
{
	ctx *c = p;
	double t = 0, v = 0;
	ck_assert_int_eq(
	    lupi_loss_get_double(c->out_loss, LUPI_LOSS_OPT_TEMPERATURE, &t),
	    LUPI_OK);
	ck_assert(t == 3.0);
	ck_assert_int_eq(lupi_loss_eval_features(c->out_loss, BATCH, 4, FS, 3,
	                                         FT, NULL, &v, NULL),
	                 LUPI_OK);
	ck_assert(v == c->value);
}

static void loss_clone_free(void *p)
{
	ctx *c = p;
	lupi_loss_free(c->out_loss);
	c->out_loss = NULL;
}

START_TEST(loss_clone)
{
	ctx c;
	ctx_init(&c);
	c.loss = hint_loss(&c.value);
	scenario s = {"lupi_loss_clone", NULL,           call_loss_clone,
	              loss_clone_null,   loss_clone_same, loss_clone_free};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

static void setup_teacher(void *p)
{
	ctx *c = p;
	ck_assert_int_eq(lupi_teacher_create(&c->teacher), LUPI_OK);
}

static void teardown_teacher(void *p)
{
	ctx *c = p;
	lupi_teacher_free(c->teacher);
	c->teacher = NULL;
}

static int call_add_model(void *p)
{
	ctx *c = p;
	return lupi_teacher_add_model(c->teacher, c->teacher_model, 1.0);
}

static void add_model_failed(void *p)
{
	ctx *c = p;
	ck_assert_uint_eq(lupi_teacher_num_outputs(c->teacher), 0);
	ck_assert_int_eq(call_add_model(p), LUPI_OK);
	ck_assert_uint_eq(lupi_teacher_num_outputs(c->teacher), K);
}

static void add_model_done(void *p)
{
	ctx *c = p;
	float out[BATCH * K];
	ck_assert_uint_eq(lupi_teacher_num_outputs(c->teacher), K);
	ck_assert_int_eq(
	    lupi_teacher_outputs(c->teacher, c->ds, IDX, BATCH, out, NULL),
	    LUPI_OK);
}

START_TEST(teacher_add_model)
{
	ctx c;
	ctx_init(&c);
	c.teacher_model = trained(LUPI_VIEW_PRIVILEGED, DP, c.ds);
	scenario s = {"lupi_teacher_add_model", setup_teacher,
	              call_add_model,           add_model_failed,
	              add_model_done,           teardown_teacher};
	run_scenario(&s, &c);
	ctx_free(&c);
}
END_TEST

/* A fresh student, teacher and loss for every attempt: each keeps scratch
 * that a first step allocates. */
static void setup_student(void *p)
{
	ctx *c = p;
	setup_fresh(p);
	setup_teacher(p);
	ck_assert_int_eq(
	    lupi_teacher_add_model(c->teacher, c->teacher_model, 1.0), LUPI_OK);
}

static void teardown_student(void *p)
{
	teardown_fresh(p);
	teardown_teacher(p);
}

static int call_student_step(void *p)
{
	ctx *c = p;
	return lupi_student_step(c->m, c->teacher, c->loss, c->ds, IDX, BATCH,
	                         &c->value);
}

static void student_step_failed(void *p)
{
	ck_assert_int_eq(call_student_step(p), LUPI_OK);
	same_as_ref(p);
}

static void setup_student_loss(void *p)
{
	ctx *c = p;
	setup_student(p);
	ck_assert_int_eq(lupi_loss_create(LUPI_LOSS_KD, &c->loss), LUPI_OK);
	ck_assert_int_eq(
	    lupi_loss_set_double(c->loss, LUPI_LOSS_OPT_TEMPERATURE, 3.0), LUPI_OK);
	ck_assert_int_eq(
	    lupi_loss_set_int(c->loss, LUPI_LOSS_OPT_FEATURE, c->feature), LUPI_OK);
}

static void teardown_student_loss(void *p)
{
	teardown_student(p);
	out_loss_free(p);
}

/* The loss may keep state (a hint regressor), so every attempt, and the
 * reference run that never fails, gets a fresh one. */
static void run_student(int feature)
{
	ctx c;
	ctx_init(&c);
	c.feature = feature;
	c.teacher_model = trained(LUPI_VIEW_PRIVILEGED, DP, c.ds);
	setup_student_loss(&c);
	ck_assert_int_eq(lupi_model_clone(c.m, &c.ref), LUPI_OK);
	ck_assert_int_eq(
	    lupi_student_step(c.ref, c.teacher, c.loss, c.ds, IDX, BATCH, NULL),
	    LUPI_OK);
	teardown_student_loss(&c);
	scenario s = {"lupi_student_step", setup_student_loss,
	              call_student_step,   student_step_failed,
	              same_as_ref,         teardown_student_loss};
	run_scenario(&s, &c);
	ctx_free(&c);
}

START_TEST(student_step)
{
	run_student(LUPI_FEATURE_NONE);
}
END_TEST

START_TEST(student_step_hint)
{
	run_student(LUPI_FEATURE_HINT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc-failure");
	TCase *tc = tcase_create("data");
	tcase_add_test(tc, dataset_create);
	tcase_add_test(tc, dataset_set_privileged);
	tcase_add_test(tc, dataset_set_labels);
	tcase_add_test(tc, dataset_set_binary_labels);
	tcase_add_test(tc, dataset_split);
	tcase_add_test(tc, dataset_load_csv);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, model_create);
	tcase_add_test(tc, model_clone);
	tcase_add_test(tc, model_load_memory);
	tcase_add_test(tc, model_save_memory);
	tcase_add_test(tc, model_fit);
	tcase_add_test(tc, model_step);
	tcase_add_test(tc, second_step_allocates_nothing);
	tcase_add_test(tc, model_gradient);
	suite_add_tcase(s, tc);
	tc = tcase_create("distill");
	tcase_add_test(tc, loss_create);
	tcase_add_test(tc, loss_clone);
	tcase_add_test(tc, teacher_add_model);
	tcase_add_test(tc, student_step);
	tcase_add_test(tc, student_step_hint);
	tcase_add_test(tc, compare_create);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
