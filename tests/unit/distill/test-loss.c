/* The loss handle: creation, options (defaults, ranges, unknown keys),
 * columns, copies, and the accessors a training step uses. */
#include <math.h>

#include "distill/distill_internal.h"
#include "testutil.h"

#define CK_ERR(call, code, text)                                              \
	do {                                                                  \
		ck_assert_int_eq((call), (code));                             \
		ck_assert_msg(strstr(lupi_errmsg(), (text)) != NULL,          \
			      "message '%s' lacks '%s'", lupi_errmsg(),       \
			      (text));                                        \
	} while (0)

START_TEST(create_each_kind)
{
	for (int kind = LUPI_LOSS_HARD; kind <= LUPI_LOSS_REGRESSION; kind++) {
		lupi_loss *l = NULL;
		ck_assert_int_eq(lupi_loss_create(kind, &l), LUPI_OK);
		ck_assert_ptr_nonnull(l);
		ck_assert_int_eq(lupi_loss_kind(l), kind);
		ck_assert_int_eq(lupi__loss_needs_teacher_outputs(l),
				 kind != LUPI_LOSS_HARD);
		ck_assert_int_eq(lupi__loss_needs_features(l), 0);
		lupi_loss_free(l);
	}
	lupi_loss_free(NULL);
	ck_assert_int_eq(lupi_loss_kind(NULL), LUPI_EINVAL);
}
END_TEST

START_TEST(create_errors)
{
	lupi_loss *l = (lupi_loss *)&l;
	CK_ERR(lupi_loss_create(5, &l), LUPI_EINVAL, "unknown loss kind 5");
	ck_assert_ptr_null(l);
	CK_ERR(lupi_loss_create(-1, &l), LUPI_EINVAL, "unknown loss kind -1");
	CK_ERR(lupi_loss_create(LUPI_LOSS_KD, NULL), LUPI_EINVAL, "NULL");
}
END_TEST

static int refuse(size_t size, void *user)
{
	(void)size;
	(void)user;
	return 0;
}

START_TEST(create_out_of_memory)
{
	lupi_loss *l = (lupi_loss *)&l;
	lupi__set_alloc_gate(refuse, NULL);
	int rc = lupi_loss_create(LUPI_LOSS_KD, &l);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_ENOMEM);
	ck_assert_ptr_null(l);
}
END_TEST

START_TEST(defaults)
{
	/* The defaults documented in lupi.h. */
	lupi_loss *l = NULL;
	lupi_loss_create(LUPI_LOSS_KD, &l);
	static const struct {
		int key;
		int64_t v;
	} ints[] = {{LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_CE},
		    {LUPI_LOSS_OPT_SCALE_T2, 1},
		    {LUPI_LOSS_OPT_STUDENT_T, 0},
		    {LUPI_LOSS_OPT_FILTER, LUPI_FILTER_NONE},
		    {LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_NONE},
		    {LUPI_LOSS_OPT_STUDENT_LAYER, LUPI__LAYER_LAST},
		    {LUPI_LOSS_OPT_TEACHER_LAYER, LUPI__LAYER_LAST},
		    {LUPI_LOSS_OPT_QUEUE, 4096},
		    {LUPI_LOSS_OPT_EMBED, 128},
		    {LUPI_LOSS_OPT_SEED, 0},
		    {LUPI_LOSS_OPT_NORMALIZE, LUPI_NORMALIZE_WEIGHTS}};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		int64_t v = -99;
		ck_assert_int_eq(lupi_loss_get_int(l, ints[i].key, &v),
				 LUPI_OK);
		ck_assert_int_eq(v, ints[i].v);
	}
	static const struct {
		int key;
		double v;
	} reals[] = {{LUPI_LOSS_OPT_TEMPERATURE, 1.0},
		     {LUPI_LOSS_OPT_LAMBDA, 0.5},
		     {LUPI_LOSS_OPT_BETA, 1.0},
		     {LUPI_LOSS_OPT_CRD_TEMPERATURE, 0.07},
		     {LUPI_LOSS_OPT_FEATURE_LR, 1e-3},
		     {LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 1.0}};
	for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
		double v = -99;
		ck_assert_int_eq(lupi_loss_get_double(l, reals[i].key, &v),
				 LUPI_OK);
		ck_assert_double_eq(v, reals[i].v);
	}
	lupi_loss_free(l);
}
END_TEST

START_TEST(set_get_round_trip)
{
	lupi_loss *l = NULL;
	lupi_loss_create(LUPI_LOSS_KD, &l);
	int64_t v;
	double d;
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE,
					   LUPI_DIV_JS), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE,
					   LUPI_FEATURE_PKT), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_STUDENT_LAYER, 2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_SEED, -5), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, 1000.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE,
					   LUPI_NORMALIZE_COUNT), LUPI_OK);
	ck_assert_int_eq(lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT,
					      0.0), LUPI_OK);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_NORMALIZE, &v);
	ck_assert_int_eq(v, LUPI_NORMALIZE_COUNT);
	lupi_loss_get_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, &d);
	ck_assert_double_eq(d, 0.0);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_SEED, INT64_MIN),
			 LUPI_OK);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_SEED, &v);
	ck_assert(v == INT64_MIN);
	ck_assert_int_eq(lupi_loss_set_int(l, LUPI_LOSS_OPT_SEED, -5), LUPI_OK);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_DIVERGENCE, &v);
	ck_assert_int_eq(v, LUPI_DIV_JS);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_STUDENT_LAYER, &v);
	ck_assert_int_eq(v, 2);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_SEED, &v);
	ck_assert_int_eq(v, -5);
	lupi_loss_get_double(l, LUPI_LOSS_OPT_TEMPERATURE, &d);
	ck_assert_double_eq(d, 1000.0);
	lupi_loss_get_double(l, LUPI_LOSS_OPT_LAMBDA, &d);
	ck_assert_double_eq(d, 1.0);
	ck_assert_int_eq(lupi__loss_needs_features(l), 1);
	ck_assert_int_eq(l->student_layer, 2);
	ck_assert_int_eq(l->teacher_layer, LUPI__LAYER_LAST);
	lupi_loss_free(l);
}
END_TEST

START_TEST(option_errors)
{
	lupi_loss *l = NULL;
	lupi_loss_create(LUPI_LOSS_KD, &l);
	int64_t v;
	double d;
	CK_ERR(lupi_loss_set_int(l, 0, 1), LUPI_EUNKNOWN_OPTION,
	       "unknown LUPI_LOSS_OPT_ option key 0");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_TEMPERATURE, 1),
	       LUPI_EUNKNOWN_OPTION,
	       "LUPI_LOSS_OPT_TEMPERATURE is a real option");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_QUEUE, 1.0),
	       LUPI_EUNKNOWN_OPTION, "LUPI_LOSS_OPT_QUEUE is an integer option");
	CK_ERR(lupi_loss_get_int(l, 2999, &v), LUPI_EUNKNOWN_OPTION, "2999");
	CK_ERR(lupi_loss_get_double(l, LUPI_LOSS_OPT_NORMALIZE, &d),
	       LUPI_EUNKNOWN_OPTION, "NORMALIZE");
	CK_ERR(lupi_loss_get_int(l, LUPI_MODEL_OPT_EPOCHS, &v),
	       LUPI_EUNKNOWN_OPTION, "a model");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, 0.0),
	       LUPI_ERANGE, "LUPI_LOSS_OPT_TEMPERATURE must be in (0, 1000]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, 1000.5),
	       LUPI_ERANGE, "(0, 1000]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, NAN),
	       LUPI_ERANGE, "(0, 1000]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 1.5), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, -0.1), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_BETA, -1.0), LUPI_ERANGE,
	       "BETA must be in [0, 1e+06]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_BETA, INFINITY), LUPI_ERANGE,
	       "BETA");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_CRD_TEMPERATURE, 0.0),
	       LUPI_ERANGE, "(0, 100]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, -1e-3),
	       LUPI_ERANGE, "[0, 10]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 1.01),
	       LUPI_ERANGE, "NO_TEACHER_WEIGHT must be in [0, 1]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, -0.0625),
	       LUPI_ERANGE, "[0, 1]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 0), LUPI_ERANGE,
	       "[1, 65536]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 65537), LUPI_ERANGE,
	       "[1, 65536]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 0), LUPI_ERANGE,
	       "[1, 4096]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_DIVERGENCE, 4), LUPI_ERANGE,
	       "[0, 3]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_SCALE_T2, 2), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_STUDENT_T, -1), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_FILTER, 3), LUPI_ERANGE,
	       "[0, 2]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, 7), LUPI_ERANGE,
	       "[0, 6]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE, 2), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_TEACHER_LAYER, -2), LUPI_ERANGE,
	       "[-1, 63]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_STUDENT_LAYER, 64), LUPI_ERANGE,
	       "[-1, 63]");
	/* Failed sets change nothing. */
	ck_assert_int_eq(lupi_loss_get_double(l, LUPI_LOSS_OPT_LAMBDA, &d),
			 LUPI_OK);
	ck_assert_double_eq(d, 0.5);
	lupi_loss_get_int(l, LUPI_LOSS_OPT_QUEUE, &v);
	ck_assert_int_eq(v, 4096);
	CK_ERR(lupi_loss_set_int(NULL, LUPI_LOSS_OPT_QUEUE, 1), LUPI_EINVAL,
	       "NULL");
	CK_ERR(lupi_loss_set_double(NULL, LUPI_LOSS_OPT_LAMBDA, 1), LUPI_EINVAL,
	       "NULL");
	CK_ERR(lupi_loss_get_int(l, LUPI_LOSS_OPT_QUEUE, NULL), LUPI_EINVAL,
	       "NULL");
	CK_ERR(lupi_loss_get_double(NULL, LUPI_LOSS_OPT_LAMBDA, &d), LUPI_EINVAL,
	       "NULL");
	lupi_loss_free(l);
}
END_TEST

START_TEST(columns_and_copy)
{
	lupi_loss *l = NULL, *c = NULL;
	lupi_loss_create(LUPI_LOSS_SEL, &l);
	size_t cols[3] = {4, 1, 2}, dup[3] = {1, 2, 1};
	CK_ERR(lupi_loss_set_columns(l, dup, 3), LUPI_EINVAL,
	       "column 1 is listed twice");
	CK_ERR(lupi_loss_set_columns(NULL, cols, 3), LUPI_EINVAL, "NULL");
	ck_assert_int_eq(lupi_loss_set_columns(l, cols, 3), LUPI_OK);
	cols[0] = 9; /* copied, not borrowed */
	ck_assert_uint_eq(l->n_cols, 3);
	ck_assert_uint_eq(l->cols[0], 4);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.25);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_HINT);
	ck_assert_int_eq(lupi__loss_copy(l, &c), LUPI_OK);
	ck_assert_int_eq(lupi_loss_kind(c), LUPI_LOSS_SEL);
	ck_assert_double_eq(c->lambda, 0.25);
	ck_assert_int_eq(c->feature, LUPI_FEATURE_HINT);
	ck_assert_uint_eq(c->n_cols, 3);
	ck_assert_ptr_ne(c->cols, l->cols);
	ck_assert_uint_eq(c->cols[2], 2);
	/* NULL with n > 0 is a mistake (the header says EINVAL) and changes
	 * nothing; NULL with 0, or n 0, restores all columns. */
	CK_ERR(lupi_loss_set_columns(l, NULL, 3), LUPI_EINVAL,
	       "cols is NULL but n is 3");
	ck_assert_uint_eq(l->n_cols, 3);
	ck_assert_uint_eq(l->cols[0], 4);
	/* n whose bytes overflow size_t: refused before cols is read */
	CK_ERR(lupi_loss_set_columns(l, cols, SIZE_MAX / 4 + 1), LUPI_ENOMEM,
	       "cannot copy");
	ck_assert_uint_eq(l->n_cols, 3);
	ck_assert_int_eq(lupi_loss_set_columns(l, NULL, 0), LUPI_OK);
	ck_assert_ptr_null(l->cols);
	ck_assert_uint_eq(c->n_cols, 3);
	ck_assert_int_eq(lupi_loss_set_columns(c, cols, 0), LUPI_OK);
	ck_assert_uint_eq(c->n_cols, 0);
	lupi_loss_free(c);
	lupi_loss_free(l);
}
END_TEST

/* ---- the option table ---------------------------------------------------- */

static int loss_row(int key, int type)
{
	for (size_t i = 0; i < lupi__loss_options.n; i++)
		if (lupi__loss_options.rows[i].pub.key == key &&
		    lupi__loss_options.rows[i].pub.type == type)
			return 1;
	return 0;
}

/* The key is refused by each setter and getter that has no such row. */
static void ck_refused(lupi_loss *l, int key)
{
	int64_t v = 0;
	double d = 0.0;
	if (!loss_row(key, LUPI_TYPE_INT)) {
		ck_assert_msg(lupi_loss_set_int(l, key, 0) ==
				      LUPI_EUNKNOWN_OPTION,
			      "set_int accepts key %d", key);
		ck_assert_msg(lupi_loss_get_int(l, key, &v) ==
				      LUPI_EUNKNOWN_OPTION,
			      "get_int accepts key %d", key);
	}
	if (!loss_row(key, LUPI_TYPE_DOUBLE)) {
		ck_assert_msg(lupi_loss_set_double(l, key, 0.5) ==
				      LUPI_EUNKNOWN_OPTION,
			      "set_double accepts key %d", key);
		ck_assert_msg(lupi_loss_get_double(l, key, &d) ==
				      LUPI_EUNKNOWN_OPTION,
			      "get_double accepts key %d", key);
	}
}

/* Every option of a fresh loss holds its table default. */
static void ck_defaults(const lupi_loss *l)
{
	for (size_t i = 0; i < lupi__loss_options.n; i++) {
		const lupi_option *o = &lupi__loss_options.rows[i].pub;
		if (o->type == LUPI_TYPE_INT) {
			int64_t v = -99;
			ck_assert_int_eq(lupi_loss_get_int(l, o->key, &v),
					 LUPI_OK);
			ck_assert_msg(v == o->int_default, "%s: %lld, default "
				      "%lld", o->name, (long long)v,
				      (long long)o->int_default);
		} else {
			double v = -99.0;
			ck_assert_int_eq(lupi_loss_get_double(l, o->key, &v),
					 LUPI_OK);
			ck_assert_msg(v == o->real_default, "%s: %g, default "
				      "%g", o->name, v, o->real_default);
		}
	}
}

static const int other_keys[] = {
	LUPI_MODEL_OPT_ACTIVATION, LUPI_MODEL_OPT_INIT,
	LUPI_MODEL_OPT_OPTIMIZER, LUPI_MODEL_OPT_SCHEDULE,
	LUPI_MODEL_OPT_EPOCHS, LUPI_MODEL_OPT_BATCH, LUPI_MODEL_OPT_SEED,
	LUPI_MODEL_OPT_SHUFFLE, LUPI_MODEL_OPT_PATIENCE, LUPI_MODEL_OPT_VIEW,
	LUPI_MODEL_OPT_STANDARDIZE, LUPI_MODEL_OPT_NESTEROV,
	LUPI_MODEL_OPT_STEP_SIZE, LUPI_MODEL_OPT_RESTORE_BEST,
	LUPI_MODEL_OPT_PROGRESS_STEPS, LUPI_MODEL_OPT_LR,
	LUPI_MODEL_OPT_MOMENTUM, LUPI_MODEL_OPT_BETA1, LUPI_MODEL_OPT_BETA2,
	LUPI_MODEL_OPT_EPSILON, LUPI_MODEL_OPT_WEIGHT_DECAY,
	LUPI_MODEL_OPT_DROPOUT, LUPI_MODEL_OPT_CLIP_NORM, LUPI_MODEL_OPT_GAMMA,
	LUPI_MODEL_OPT_MIN_LR, LUPI_MODEL_OPT_RMS_DECAY,
	LUPI_READER_OPT_HEADER, LUPI_READER_OPT_DELIMITER,
	LUPI_READER_OPT_TASK, LUPI_READER_OPT_CLASSES,
	LUPI_READER_OPT_ALLOW_NONFINITE, LUPI_READER_OPT_IDX_POOL,
	LUPI_READER_OPT_IDX_SCALE, LUPI_READER_OPT_MAX_ROWS,
	LUPI_COMPARE_OPT_REPEATS, LUPI_COMPARE_OPT_SEED,
	LUPI_LAYER_OPT_ACTIVATION, LUPI_LAYER_OPT_BIAS, LUPI_LAYER_OPT_FROZEN,
	/* loss kinds and divergences are values, not keys */
	LUPI_LOSS_HARD, LUPI_LOSS_KD, LUPI_LOSS_LOGITS, LUPI_LOSS_SEL,
	LUPI_LOSS_REGRESSION,
};

START_TEST(foreign_keys_refused)
{
	lupi_loss *l = NULL;
	lupi_loss_create(LUPI_LOSS_KD, &l);
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_KD, 1), LUPI_EUNKNOWN_OPTION,
	       "unknown LUPI_LOSS_OPT_ option key 1");
	CK_ERR(lupi_loss_set_int(l, LUPI_MODEL_OPT_SEED, 1),
	       LUPI_EUNKNOWN_OPTION, "it is in the range of a model");
	CK_ERR(lupi_loss_get_double(l, LUPI_READER_OPT_IDX_SCALE, &(double){0}),
	       LUPI_EUNKNOWN_OPTION, "a reader");
	for (size_t i = 0; i < sizeof other_keys / sizeof other_keys[0]; i++) {
		ck_assert(!loss_row(other_keys[i], LUPI_TYPE_INT));
		ck_assert(!loss_row(other_keys[i], LUPI_TYPE_DOUBLE));
		ck_refused(l, other_keys[i]);
	}
	/* Every other number of every handle's range, and a few beyond. */
	for (int key = -3; key < 6000; key++)
		ck_refused(l, key);
	ck_refused(l, INT32_MAX);
	ck_refused(l, INT32_MIN);
	/* Each option of the other handles, from the public directory. */
	const int handles[] = {LUPI_HANDLE_MODEL, LUPI_HANDLE_READER,
			       LUPI_HANDLE_COMPARE, LUPI_HANDLE_LAYER};
	for (size_t h = 0; h < 4; h++)
		for (const lupi_option *o = lupi_option_next(handles[h], NULL);
		     o != NULL; o = lupi_option_next(handles[h], o)) {
			ck_assert_int_eq(o->handle, handles[h]);
			ck_assert(!loss_row(o->key, LUPI_TYPE_INT));
			ck_assert(!loss_row(o->key, LUPI_TYPE_DOUBLE));
			ck_refused(l, o->key);
		}
	/* Nothing was changed by the refused sets. */
	ck_defaults(l);
	lupi_loss_free(l);
}
END_TEST

static size_t count_values(const char *v)
{
	size_t n = 1;
	for (; *v; v++)
		n += *v == ',';
	return n;
}

START_TEST(table_defaults)
{
	const lupi__option_table *t = &lupi__loss_options;
	ck_assert_int_eq(t->handle, LUPI_HANDLE_LOSS);
	ck_assert_str_eq(t->prefix, "LUPI_LOSS_OPT_");
	ck_assert_uint_eq(t->n, 17); /* 11 integer and 6 real keys */
	for (size_t i = 0; i < t->n; i++) {
		const lupi__option *r = &t->rows[i];
		ck_assert_uint_eq(r->pub.size, sizeof(lupi_option));
		ck_assert_int_eq(r->pub.handle, LUPI_HANDLE_LOSS);
		ck_assert_int_eq(r->pub.key / 1000, LUPI_HANDLE_LOSS);
		ck_assert_int_eq(r->pub.key % 1000 > 100,
				 r->pub.type == LUPI_TYPE_DOUBLE);
		ck_assert(i == 0 || r->pub.key > t->rows[i - 1].pub.key);
		ck_assert_uint_eq(r->file_id, 0); /* not in model files */
		ck_assert_uint_eq(r->flags, 0);
		ck_assert_ptr_nonnull(r->pub.doc);
		if (r->pub.type == LUPI_TYPE_INT) {
			ck_assert(r->pub.int_min <= r->pub.int_default &&
				  r->pub.int_default <= r->pub.int_max);
		} else {
			ck_assert_ptr_null(r->pub.values);
		}
		/* Named values are the constants 0..n-1. */
		if (r->pub.values) {
			ck_assert_int_eq(r->pub.int_min, 0);
			ck_assert_uint_eq(count_values(r->pub.values),
					  (size_t)r->pub.int_max + 1);
		}
		ck_assert_ptr_eq(lupi_option_by_key(r->pub.key), &r->pub);
	}
	static const struct {
		int key;
		const char *values;
	} named[] = {
		{LUPI_LOSS_OPT_DIVERGENCE, "ce,kl,reverse_kl,js"},
		{LUPI_LOSS_OPT_FILTER, "none,drop_wrong,confidence"},
		{LUPI_LOSS_OPT_FEATURE, "none,hint,rkd_dist,rkd_angle,pkt,sp,crd"},
		{LUPI_LOSS_OPT_NORMALIZE, "weights,count"},
		{LUPI_LOSS_OPT_SCALE_T2, NULL},
		{LUPI_LOSS_OPT_STUDENT_T, NULL},
	};
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		const lupi_option *o = NULL;
		for (size_t j = 0; j < t->n; j++)
			if (t->rows[j].pub.key == named[i].key)
				o = &t->rows[j].pub;
		ck_assert_ptr_nonnull(o);
		if (named[i].values)
			ck_assert_str_eq(o->values, named[i].values);
		else
			ck_assert_ptr_null(o->values);
	}
	/* A fresh loss of every kind holds the table's defaults. */
	for (int kind = LUPI_LOSS_HARD; kind <= LUPI_LOSS_REGRESSION; kind++) {
		lupi_loss *l = NULL;
		lupi_loss_create(kind, &l);
		ck_defaults(l);
		size_t n = 0;
		for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_LOSS,
							     NULL);
		     o != NULL; o = lupi_option_next(LUPI_HANDLE_LOSS, o))
			ck_assert_ptr_eq(o, &t->rows[n++].pub);
		ck_assert_uint_eq(n, t->n);
		lupi_loss_free(l);
	}
}
END_TEST

START_TEST(shaping_options_reset_state)
{
	/* FEATURE, SEED, QUEUE and EMBED shape the learned state: setting
	 * one frees it; the other options, and refused values, keep it. */
	const float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5f, -0.5f};
	static const struct {
		int key;
		int64_t v;
		int resets;
	} cases[] = {
		{LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_HINT, 1},
		{LUPI_LOSS_OPT_SEED, 3, 1},
		{LUPI_LOSS_OPT_QUEUE, 17, 1},
		{LUPI_LOSS_OPT_EMBED, 9, 1},
		{LUPI_LOSS_OPT_EMBED, 0, 0}, /* out of range */
		{LUPI_LOSS_OPT_DIVERGENCE, LUPI_DIV_KL, 0},
		{LUPI_LOSS_OPT_STUDENT_LAYER, 0, 0},
		{LUPI_LOSS_OPT_NORMALIZE, LUPI_NORMALIZE_COUNT, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lupi_loss *l = NULL;
		lupi_loss_create(LUPI_LOSS_KD, &l);
		lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, LUPI_FEATURE_HINT);
		ck_assert_int_eq(lupi__loss_hint_set(l, 3, 2, w, b), LUPI_OK);
		lupi_loss_set_int(l, cases[i].key, cases[i].v);
		if (cases[i].resets)
			ck_assert_ptr_null(l->hint.par.p);
		else
			ck_assert_ptr_nonnull(l->hint.par.p);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.1);
		lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, 0.1);
		ck_assert(cases[i].resets || l->hint.par.p != NULL);
		lupi_loss_free(l);
	}
}
END_TEST

START_TEST(clone_options_and_errors)
{
	lupi_loss *l = NULL, *c = (lupi_loss *)&c;
	lupi_loss_create(LUPI_LOSS_REGRESSION, &l);
	size_t cols[2] = {1, 0};
	lupi_loss_set_columns(l, cols, 2);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 0.75);
	lupi_loss_set_double(l, LUPI_LOSS_OPT_NO_TEACHER_WEIGHT, 0.125);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_NORMALIZE, LUPI_NORMALIZE_COUNT);
	lupi_loss_set_int(l, LUPI_LOSS_OPT_SEED, -9);
	CK_ERR(lupi_loss_clone(NULL, &c), LUPI_EINVAL, "NULL");
	ck_assert_ptr_null(c);
	CK_ERR(lupi_loss_clone(l, NULL), LUPI_EINVAL, "NULL");
	ck_assert_int_eq(lupi_loss_clone(l, &c), LUPI_OK);
	ck_assert_int_eq(lupi_loss_kind(c), LUPI_LOSS_REGRESSION);
	for (size_t i = 0; i < lupi__loss_options.n; i++) {
		const lupi_option *o = &lupi__loss_options.rows[i].pub;
		if (o->type == LUPI_TYPE_INT) {
			int64_t a, b;
			lupi_loss_get_int(l, o->key, &a);
			lupi_loss_get_int(c, o->key, &b);
			ck_assert_msg(a == b, "%s differs", o->name);
		} else {
			double a, b;
			lupi_loss_get_double(l, o->key, &a);
			lupi_loss_get_double(c, o->key, &b);
			ck_assert_msg(a == b, "%s differs", o->name);
		}
	}
	ck_assert_uint_eq(c->n_cols, 2);
	ck_assert_ptr_ne(c->cols, l->cols);
	ck_assert_uint_eq(c->cols[0], 1);
	/* Independent: changing one leaves the other. */
	lupi_loss_set_double(c, LUPI_LOSS_OPT_LAMBDA, 0.5);
	lupi_loss_set_columns(l, NULL, 0);
	ck_assert_double_eq(l->lambda, 0.75);
	ck_assert_uint_eq(c->n_cols, 2);
	lupi_loss_free(c);
	/* Each allocation may fail: ENOMEM, *out NULL, nothing leaked
	 * (valgrind setup). */
	for (int budget = 0;; budget++) {
		int left = budget;
		c = (lupi_loss *)&c;
		lupi__set_alloc_gate(lupi_test_budget_gate, &left);
		int rc = lupi_loss_clone(l, &c);
		lupi__set_alloc_gate(NULL, NULL);
		if (rc == LUPI_OK) {
			ck_assert_int_gt(budget, 0);
			lupi_loss_free(c);
			break;
		}
		ck_assert_int_eq(rc, LUPI_ENOMEM);
		ck_assert_ptr_null(c);
	}
	lupi_loss_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("distill-loss");
	TCase *tc = tcase_create("handle");
	tcase_add_test(tc, create_each_kind);
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, create_out_of_memory);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, set_get_round_trip);
	tcase_add_test(tc, option_errors);
	tcase_add_test(tc, columns_and_copy);
	tcase_add_test(tc, clone_options_and_errors);
	suite_add_tcase(s, tc);
	TCase *op = tcase_create("options");
	tcase_add_test(op, foreign_keys_refused);
	tcase_add_test(op, table_defaults);
	tcase_add_test(op, shaping_options_reset_state);
	tc = op;
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
