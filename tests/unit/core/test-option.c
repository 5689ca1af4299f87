/* The option engine on a table of its own: lookup by key and type, range
 * checks with their messages, storage of every C type, defaults, file ids.
 * The handles' real tables are tested with their handles. */
#include <math.h>
#include <stdint.h>

#include "testutil.h"

#include "core/core_internal.h"

/* A pretend handle: the model's handle number and two of its keys, so that
 * the macros build real rows. */
struct opts {
	int act;
	int64_t epochs;
	uint64_t seed;
	double lr, momentum;
};

static const lupi__option rows[] = {
	LUPI__OPT_INT(MODEL, ACTIVATION, struct opts, act, LUPI__STORE_INT, 0,
		      4, 1, "identity,relu,tanh,sigmoid,gelu", LUPI__OPT_SHAPING,
		      1, "hidden activation"),
	LUPI__OPT_INT(MODEL, EPOCHS, struct opts, epochs, LUPI__STORE_I64, 1,
		      1000000, 10, NULL, 0, 5, "epochs"),
	LUPI__OPT_INT(MODEL, SEED, struct opts, seed, LUPI__STORE_U64,
		      INT64_MIN, INT64_MAX, 0, NULL, 0, 7, "seed"),
	LUPI__OPT_REAL(MODEL, LR, struct opts, lr, 0.0, 1e3, 1, 0, 1e-3, 0, 101,
		       "learning rate"),
	LUPI__OPT_REAL(MODEL, MOMENTUM, struct opts, momentum, 0.0, 1.0, 0, 1,
		       0.0, 0, 0, "momentum"),
};
static const lupi__option_table table = {
	LUPI_HANDLE_MODEL, "LUPI_MODEL_OPT_", rows,
	sizeof rows / sizeof rows[0]};

#define ck_msg_has(sub)                                                      \
	ck_assert_msg(strstr(lupi_errmsg(), (sub)) != NULL,                  \
		      "message '%s' lacks '%s'", lupi_errmsg(), (sub))

START_TEST(rows_describe_themselves)
{
	const lupi_option *o = &rows[0].pub;
	ck_assert_uint_eq(o->size, sizeof(lupi_option));
	ck_assert_int_eq(o->handle, LUPI_HANDLE_MODEL);
	ck_assert_int_eq(o->key, LUPI_MODEL_OPT_ACTIVATION);
	ck_assert_int_eq(o->type, LUPI_TYPE_INT);
	ck_assert_str_eq(o->name, "ACTIVATION");
	ck_assert_str_eq(o->values, "identity,relu,tanh,sigmoid,gelu");
	ck_assert_int_eq(rows[3].pub.type, LUPI_TYPE_DOUBLE);
	ck_assert_str_eq(rows[3].pub.name, "LR");
	ck_assert_int_eq(rows[3].pub.real_min_open, 1);
	ck_assert_int_eq(rows[3].pub.real_max_open, 0);
}
END_TEST

START_TEST(defaults_fill_every_field)
{
	struct opts o;
	memset(&o, 0xab, sizeof o);
	lupi__option_defaults(&table, &o);
	ck_assert_int_eq(o.act, 1);
	ck_assert_int_eq(o.epochs, 10);
	ck_assert_uint_eq(o.seed, 0);
	ck_assert(o.lr == 1e-3);
	ck_assert(o.momentum == 0.0);
}
END_TEST

START_TEST(set_and_get_round_trip)
{
	struct opts o;
	lupi__option_defaults(&table, &o);
	int64_t i;
	double d;
	ck_assert_int_eq(lupi__option_set_int(&table, &o, LUPI_MODEL_OPT_EPOCHS,
					      77), LUPI_OK);
	ck_assert_int_eq(o.epochs, 77);
	ck_assert_int_eq(lupi__option_get_int(&table, &o, LUPI_MODEL_OPT_EPOCHS,
					      &i), LUPI_OK);
	ck_assert_int_eq(i, 77);
	/* a uint64 field keeps all 64 bits through its int64 view */
	ck_assert_int_eq(lupi__option_set_int(&table, &o, LUPI_MODEL_OPT_SEED,
					      -1), LUPI_OK);
	ck_assert_uint_eq(o.seed, UINT64_MAX);
	ck_assert_int_eq(lupi__option_get_int(&table, &o, LUPI_MODEL_OPT_SEED,
					      &i), LUPI_OK);
	ck_assert_int_eq(i, -1);
	ck_assert_int_eq(lupi__option_set_double(&table, &o, LUPI_MODEL_OPT_LR,
						 0.5), LUPI_OK);
	ck_assert_int_eq(lupi__option_get_double(&table, &o, LUPI_MODEL_OPT_LR,
						 &d), LUPI_OK);
	ck_assert(d == 0.5);
}
END_TEST

START_TEST(ranges_are_enforced_and_named)
{
	struct opts o;
	lupi__option_defaults(&table, &o);
	ck_assert_int_eq(lupi__option_set_int(&table, &o, LUPI_MODEL_OPT_EPOCHS,
					      0), LUPI_ERANGE);
	ck_msg_has("LUPI_MODEL_OPT_EPOCHS must be in [1, 1000000], got 0");
	ck_assert_int_eq(o.epochs, 10);
	/* an open lower end refuses the bound itself */
	ck_assert_int_eq(lupi__option_set_double(&table, &o, LUPI_MODEL_OPT_LR,
						 0.0), LUPI_ERANGE);
	ck_msg_has("LUPI_MODEL_OPT_LR must be in (0, 1000], got 0");
	ck_assert_int_eq(lupi__option_set_double(&table, &o, LUPI_MODEL_OPT_LR,
						 1e3), LUPI_OK);
	/* an open upper end */
	ck_assert_int_eq(lupi__option_set_double(&table, &o,
						 LUPI_MODEL_OPT_MOMENTUM, 1.0),
			 LUPI_ERANGE);
	ck_msg_has("[0, 1)");
	ck_assert_int_eq(lupi__option_set_double(&table, &o,
						 LUPI_MODEL_OPT_MOMENTUM, 0.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi__option_set_double(&table, &o, LUPI_MODEL_OPT_LR,
						 NAN), LUPI_ERANGE);
	ck_assert_int_eq(lupi__option_set_double(&table, &o, LUPI_MODEL_OPT_LR,
						 INFINITY), LUPI_ERANGE);
	ck_assert(o.lr == 1e3);
}
END_TEST

START_TEST(unknown_wrong_handle_and_wrong_type)
{
	struct opts o;
	lupi__option_defaults(&table, &o);
	int64_t i;
	/* a key in another handle's range */
	ck_assert_int_eq(lupi__option_set_int(&table, &o,
					      LUPI_LOSS_OPT_DIVERGENCE, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_msg_has("a loss");
	ck_assert_int_eq(lupi__option_set_double(&table, &o,
						 LUPI_LOSS_OPT_TEMPERATURE, 2.0),
			 LUPI_EUNKNOWN_OPTION);
	/* a key of this handle's range that the table lacks */
	ck_assert_int_eq(lupi__option_get_int(&table, &o, 1999, &i),
			 LUPI_EUNKNOWN_OPTION);
	ck_msg_has("1999");
	/* no handle: small numbers, negative numbers */
	ck_assert_int_eq(lupi__option_set_int(&table, &o, 1, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi__option_set_int(&table, &o, -5, 1),
			 LUPI_EUNKNOWN_OPTION);
	/* the right key through the setter of the other type */
	ck_assert_int_eq(lupi__option_set_int(&table, &o, LUPI_MODEL_OPT_LR, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_msg_has("LUPI_MODEL_OPT_LR is a real option");
	ck_assert_int_eq(lupi__option_set_double(&table, &o,
						 LUPI_MODEL_OPT_EPOCHS, 3.0),
			 LUPI_EUNKNOWN_OPTION);
	ck_msg_has("is an integer option");
	ck_assert_int_eq(o.epochs, 10);
	ck_assert(o.lr == 1e-3);
}
END_TEST

START_TEST(file_ids_find_rows)
{
	ck_assert_ptr_eq(lupi__option_by_file_id(&table, 5), &rows[1]);
	ck_assert_ptr_eq(lupi__option_by_file_id(&table, 101), &rows[3]);
	/* 0 means "not saved", never a row */
	ck_assert_ptr_null(lupi__option_by_file_id(&table, 0));
	ck_assert_ptr_null(lupi__option_by_file_id(&table, 6));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("option");
	TCase *tc = tcase_create("option");
	tcase_add_test(tc, rows_describe_themselves);
	tcase_add_test(tc, defaults_fill_every_field);
	tcase_add_test(tc, set_and_get_round_trip);
	tcase_add_test(tc, ranges_are_enforced_and_named);
	tcase_add_test(tc, unknown_wrong_handle_and_wrong_type);
	tcase_add_test(tc, file_ids_find_rows);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
