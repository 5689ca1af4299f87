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
		    {LUPI_LOSS_OPT_SEED, 0}};
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
		     {LUPI_LOSS_OPT_FEATURE_LR, 1e-3}};
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
	CK_ERR(lupi_loss_set_int(l, 0, 1), LUPI_EUNKNOWN_OPTION, "option 0");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_TEMPERATURE, 1),
	       LUPI_EUNKNOWN_OPTION, "option 101");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_QUEUE, 1.0),
	       LUPI_EUNKNOWN_OPTION, "option 8");
	CK_ERR(lupi_loss_get_int(l, 999, &v), LUPI_EUNKNOWN_OPTION, "999");
	CK_ERR(lupi_loss_get_double(l, 11, &d), LUPI_EUNKNOWN_OPTION, "11");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, 0.0),
	       LUPI_ERANGE, "(0, 1000]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, 1000.5),
	       LUPI_ERANGE, "outside");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_TEMPERATURE, NAN),
	       LUPI_ERANGE, "outside");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, 1.5), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_LAMBDA, -0.1), LUPI_ERANGE,
	       "[0, 1]");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_BETA, -1.0), LUPI_ERANGE,
	       "outside");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_BETA, INFINITY), LUPI_ERANGE,
	       "outside");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_CRD_TEMPERATURE, 0.0),
	       LUPI_ERANGE, "outside");
	CK_ERR(lupi_loss_set_double(l, LUPI_LOSS_OPT_FEATURE_LR, -1e-3),
	       LUPI_ERANGE, "outside");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 0), LUPI_ERANGE,
	       "[1, 65536]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_QUEUE, 65537), LUPI_ERANGE,
	       "[1, 65536]");
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_EMBED, 0), LUPI_ERANGE,
	       "outside");
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
	CK_ERR(lupi_loss_set_int(l, LUPI_LOSS_OPT_TEACHER_LAYER, -2), LUPI_ERANGE,
	       "outside");
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
	/* NULL or 0 restores all columns. */
	ck_assert_int_eq(lupi_loss_set_columns(l, NULL, 3), LUPI_OK);
	ck_assert_ptr_null(l->cols);
	ck_assert_uint_eq(c->n_cols, 3);
	ck_assert_int_eq(lupi_loss_set_columns(c, cols, 0), LUPI_OK);
	ck_assert_uint_eq(c->n_cols, 0);
	lupi_loss_free(c);
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
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
