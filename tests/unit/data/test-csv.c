/* The CSV loader and the reader options: roles, quoting, masks, gzip, and
 * every error with its file:line:column. */
#include <math.h>
#include <zlib.h>

#include "data/data_internal.h"
#include "testutil.h"

#define ck_assert_msg_has(sub) \
	ck_assert_msg(strstr(lupi_errmsg(), (sub)) != NULL, \
		      "message '%s' lacks '%s'", lupi_errmsg(), (sub))

static char *dir;

static void setup(void)
{
	dir = lupi_test_tmpdir();
}

static void teardown(void)
{
	lupi_test_rmdir(dir);
}

/* Writes text to t.csv and loads it. */
static int load(const char *text, const lupi_reader *r, lupi_dataset **ds)
{
	char *path = lupi_test_write(dir, "t.csv", text, (size_t)-1);
	int rc = lupi_dataset_load_csv(path, r, ds);
	free(path);
	if (rc != LUPI_OK)
		ck_assert_ptr_null(*ds);
	return rc;
}

static lupi_reader *reader(void)
{
	lupi_reader *r = NULL;
	ck_assert_int_eq(lupi_reader_create(&r), LUPI_OK);
	return r;
}

START_TEST(header_and_default_target)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("a,b,y\n1,2,0\n3,4.5,2\n-5,6e1,1\n", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	static const float want[6] = {1, 2, 3, 4.5f, -5, 60};
	for (int i = 0; i < 6; i++)
		ck_assert_float_eq(x[i], want[i]);
	const int32_t *y = lupi_dataset_labels(ds);
	ck_assert_int_eq(y[0], 0);
	ck_assert_int_eq(y[1], 2);
	ck_assert_int_eq(y[2], 1);
	ck_assert_ptr_null(lupi_dataset_weights(ds));
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(roles_by_name_and_range)
{
	lupi_reader *r = reader();
	/* Columns: x1 p1 p2 w junk label x2 */
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 3, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "w", LUPI_ROLE_WEIGHT),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "junk",
						   LUPI_ROLE_IGNORE), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "label",
						   LUPI_ROLE_TARGET), LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("x1,p1,p2,w,junk,label,x2\n"
			      "1,10,11,0.5,zz,1,2\n"
			      "3,,13,1,zz,0,4\n"
			      "5,14, ,2,zz,1,6\n"
			      "7,16,17,3,zz,0,8\n",
			      r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 4);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 2);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	ck_assert_float_eq(x[0], 1);
	ck_assert_float_eq(x[1], 2);
	ck_assert_float_eq(x[7], 8);
	const float *xp = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	ck_assert_float_eq(xp[0], 10);
	ck_assert_float_eq(xp[1], 11);
	ck_assert_float_eq(xp[2], 0); /* absent rows are zeroed */
	ck_assert_float_eq(xp[3], 0);
	ck_assert_float_eq(xp[7], 17);
	const uint8_t *m = lupi_dataset_mask(ds);
	ck_assert_ptr_nonnull(m);
	ck_assert(m[0] && !m[1] && !m[2] && m[3]);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 2);
	ck_assert_float_eq(lupi_dataset_weights(ds)[0], 0.5f);
	ck_assert_float_eq(lupi_dataset_weights(ds)[3], 3);
	ck_assert_int_eq(lupi_dataset_labels(ds)[2], 1);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(later_roles_override)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 3, LUPI_ROLE_IGNORE),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 2, LUPI_ROLE_REGULAR),
			 LUPI_OK);
	/* The last unassigned column (4) becomes the target. */
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("a,b,c,d\n1,2,3,1\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 1);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[0], 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 1);
	lupi_dataset_free(ds);
	/* Open-ended range: columns 2.. privileged, clamped. */
	ck_assert_int_eq(lupi_reader_set_role(r, 1, SIZE_MAX,
					      LUPI_ROLE_REGULAR), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 2, SIZE_MAX,
					      LUPI_ROLE_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "a", LUPI_ROLE_TARGET),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "b", LUPI_ROLE_REGULAR),
			 LUPI_OK);
	ck_assert_int_eq(load("a,b,c,d\n1,2,3,4\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 2);
	ck_assert_float_eq(lupi_dataset_features(ds, 1)[1], 4);
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 1);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(quoted_fields)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role_name(r, "say \"hi\", x",
						   LUPI_ROLE_IGNORE), LUPI_OK);
	/* A quoted header with a comma, doubled quotes and a line break;
	 * quoted numbers. */
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("\"say \"\"hi\"\", x\",\"two\nlines\",y\n"
			      "\"a,b\",\"1.5\",\"1\"\n"
			      "\"\"\"\",2,0\n",
			      r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, 0), 1);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[0], 1.5f);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[1], 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 1);
	lupi_dataset_free(ds);
	/* The header's line break counts: the bad row is on line 4. */
	ck_assert_int_eq(load("\"p\nq\",y\n1,0\nabc,1\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:4:1: 'abc' is not a number");
	lupi_reader_free(r);
}
END_TEST

START_TEST(crlf_and_blank_lines)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("a,y\r\n\r\n1,0\r\n  \n\n2,1\r\n\r\n", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[1], 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 1);
	lupi_dataset_free(ds);
	/* No final newline, quoted last field before CR LF. */
	ck_assert_int_eq(load("a,y\r\n\"3\",\"1\"\r\n4,0", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[1], 4);
	lupi_dataset_free(ds);
	/* Line numbers count blank lines. */
	ck_assert_int_eq(load("a,y\r\n\r\n1,0\r\n\r\n1,x\r\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:5:2: 'x' is not a number");
}
END_TEST

START_TEST(no_header_delimiter_and_max_rows)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_DELIMITER, ';'),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, 2),
			 LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("1,5;2;0\n3;4;1\n5;6;1\nbad\n", r, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:1:1: '1,5' is not a number");
	ck_assert_int_eq(load("1.5;2;0\n3;4;1\n5;6;1\nbad\n", r, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[0], 1.5f);
	lupi_dataset_free(ds);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_DELIMITER, '\t'),
			 LUPI_OK);
	ck_assert_int_eq(load("1\t\t0\n", r, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:1:2: '' is not a number");
	lupi_reader_free(r);
}
END_TEST

START_TEST(regression_and_binary)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					      LUPI_TASK_REGRESSION), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 3, LUPI_ROLE_TARGET),
			 LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("x,t1,t2\n1,0.25,-3\n2,7,8\n", r, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_REGRESSION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	ck_assert_float_eq(lupi_dataset_targets(ds)[1], -3);
	ck_assert_float_eq(lupi_dataset_targets(ds)[2], 7);
	ck_assert_ptr_null(lupi_dataset_labels(ds));
	lupi_dataset_free(ds);
	/* Targets must be finite even with ALLOW_NONFINITE. */
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_ALLOW_NONFINITE,
					     1), LUPI_OK);
	ck_assert_int_eq(load("x,t1,t2\n1,0.25,inf\n", r, &ds),
			 LUPI_ENONFINITE);
	ck_assert_msg_has("t.csv:2:3: 'inf' is not finite");
	lupi_reader_free(r);

	r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_BINARY), LUPI_OK);
	ck_assert_int_eq(load("x,y\n1,1\n2,0\n", r, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("x,y\n1,1\n2,2\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.csv:3:2: label 2 is not 0 or 1");
	lupi_reader_free(r);
}
END_TEST

START_TEST(label_errors)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("x,y\n1,0\n2,0.5\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: label 0.5 is not an integer");
	ck_assert_int_eq(load("x,y\n1,-1\n", NULL, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.csv:2:2: label -1 is out of range");
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, 3),
			 LUPI_OK);
	ck_assert_int_eq(load("x,y\n1,0\n1,2\n1,3\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.csv:4:2: label 3 is out of range [0, 3)");
	/* K from CLASSES even when the labels do not reach it. */
	ck_assert_int_eq(load("x,y\n1,0\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	lupi_dataset_free(ds);
	/* Without CLASSES: max + 1, at least 2. */
	ck_assert_int_eq(load("x,y\n1,0\n", NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("x,y\n1,7.0\n", NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 8);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(value_errors)
{
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("a,b,y\n1,2,0\n1,abc,0\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: 'abc' is not a number");
	ck_assert_int_eq(load("a,b,y\n1,2,0\n1,2 x,0\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: '2 x' is not a number");
	ck_assert_int_eq(load("a,b,y\n1,2,0\n1,2\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3: row has 2 fields, expected 3");
	ck_assert_int_eq(load("a,b,y\n1,2,0,4,5\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2: row has 5 fields, expected 3");
	ck_assert_int_eq(load("a,b,y\n1,nan,0\n", NULL, &ds), LUPI_ENONFINITE);
	ck_assert_msg_has("t.csv:2:2: 'nan' is not finite");
	ck_assert_int_eq(load("a,b,y\n1e39,1,0\n", NULL, &ds),
			 LUPI_ENONFINITE);
	ck_assert_msg_has("t.csv:2:1: '1e39' is not finite");
	ck_assert_int_eq(load("a,b,y\n1,\"2,0\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2:2: unterminated quoted field");
	ck_assert_int_eq(load("a,b,y\n1,\"2\"x,0\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2:2: text after a closing quote");
	ck_assert_int_eq(load("", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("no samples");
	ck_assert_int_eq(load("a,b,y\n\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv: no samples");
}
END_TEST

START_TEST(nonfinite_allowed)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_ALLOW_NONFINITE,
					     1), LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(load("a,b,y\nnan,-inf,0\n", r, &ds), LUPI_OK);
	ck_assert(isnan(lupi_dataset_features(ds, 0)[0]));
	ck_assert(isinf(lupi_dataset_features(ds, 0)[1]));
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(role_errors)
{
	lupi_reader *r = reader();
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_reader_set_role_name(r, "zz", LUPI_ROLE_TARGET),
			 LUPI_OK);
	ck_assert_int_eq(load("a,y\n1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("t.csv: no column named 'zz'");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, 0),
			 LUPI_OK);
	ck_assert_int_eq(load("1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("HEADER is 0");
	lupi_reader_free(r);

	r = reader();
	ck_assert_int_eq(lupi_reader_set_role(r, 3, 4, LUPI_ROLE_IGNORE),
			 LUPI_OK);
	ck_assert_int_eq(load("a,y\n1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("columns 3..4: the file has 2 columns");
	lupi_reader_free(r);

	r = reader();
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 2, LUPI_ROLE_WEIGHT),
			 LUPI_OK);
	ck_assert_int_eq(load("a,b,c,y\n1,1,1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("2 WEIGHT columns");
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 1, LUPI_ROLE_REGULAR),
			 LUPI_OK);
	ck_assert_int_eq(load("a,b,c,y\n1,-1,1,0\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.csv:2:2: weight '-1' is not finite and >= 0");
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 4, LUPI_ROLE_TARGET),
			 LUPI_OK);
	ck_assert_int_eq(load("a,b,c,y\n1,1,1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("one TARGET column, not 4");
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 3, LUPI_ROLE_IGNORE),
			 LUPI_OK);
	ck_assert_int_eq(load("a,b,c,y\n1,1,1,0\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("no REGULAR column");
	lupi_reader_free(r);

	r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_NONE), LUPI_OK);
	ck_assert_int_eq(load("a,b\n1,2\n", r, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_NONE);
	ck_assert_uint_eq(lupi_dataset_dim(ds, 0), 2);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(reader_options)
{
	lupi_reader *r = reader();
	static const struct {
		int key;
		int64_t bad, good;
	} cases[] = {
		{LUPI_READER_OPT_HEADER, 2, 0},
		{LUPI_READER_OPT_DELIMITER, '"', '|'},
		{LUPI_READER_OPT_DELIMITER, 256, ' '},
		{LUPI_READER_OPT_DELIMITER, '\n', '\t'},
		{LUPI_READER_OPT_TASK, 4, LUPI_TASK_REGRESSION},
		{LUPI_READER_OPT_CLASSES, 1, 10},
		{LUPI_READER_OPT_CLASSES, -1, 0},
		{LUPI_READER_OPT_ALLOW_NONFINITE, -1, 1},
		{LUPI_READER_OPT_IDX_POOL, 0, 4},
		{LUPI_READER_OPT_IDX_POOL, 65, 64},
		{LUPI_READER_OPT_IDX_SCALE, 2, 0},
		{LUPI_READER_OPT_MAX_ROWS, -1, 1000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_int_eq(lupi_reader_set_int(r, cases[i].key,
						     cases[i].bad),
				 LUPI_ERANGE);
		ck_assert_int_eq(lupi_reader_set_int(r, cases[i].key,
						     cases[i].good), LUPI_OK);
	}
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, 5),
			 LUPI_ERANGE);
	ck_assert_msg_has("LUPI_READER_OPT_HEADER must be in [0, 1], got 5");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_DELIMITER,
					     '\r'), LUPI_ERANGE);
	ck_assert_msg_has("DELIMITER = 13");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS,
					     INT64_MAX), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, 99, 0), LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_reader_set_int(r, 0, 0), LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_reader_set_int(NULL, 1, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role(r, 0, 3, LUPI_ROLE_REGULAR),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role(r, 4, 3, LUPI_ROLE_REGULAR),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 3, 5), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 3, -1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role(NULL, 1, 3, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role_name(r, NULL, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "a", 9), LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_set_role_name(NULL, "a", 0), LUPI_EINVAL);
	/* Many roles grow the list. */
	for (size_t i = 1; i <= 100; i++)
		ck_assert_int_eq(lupi_reader_set_role(r, i, i, i % 5),
				 LUPI_OK);
	ck_assert_int_eq(lupi_reader_create(NULL), LUPI_EINVAL);
	lupi_reader_free(r);
	lupi_reader_free(NULL);
}
END_TEST

/* Every row of lupi__reader_options (what lupi_option_by_key and
 * lupi_option_next hand out for LUPI_HANDLE_READER): a fresh reader holds
 * its default, reads back what was set, and lupi_reader_or_default's
 * stand-in holds the same defaults. */
START_TEST(reader_get_int_defaults_and_values)
{
	static const int keys[] = {
		LUPI_READER_OPT_HEADER, LUPI_READER_OPT_DELIMITER,
		LUPI_READER_OPT_TASK, LUPI_READER_OPT_CLASSES,
		LUPI_READER_OPT_ALLOW_NONFINITE, LUPI_READER_OPT_IDX_POOL,
		LUPI_READER_OPT_IDX_SCALE, LUPI_READER_OPT_MAX_ROWS};
	/* The defaults documented in lupi.h, key by key. */
	static const int64_t documented[] = {1, ',', LUPI_TASK_CLASSIFICATION,
					     0, 0, 1, 1, 0};
	const size_t nk = sizeof keys / sizeof keys[0];
	const lupi__option_table *t = &lupi__reader_options;
	ck_assert_int_eq(t->handle, LUPI_HANDLE_READER);
	ck_assert_uint_eq(t->n, nk);
	lupi_reader *r = reader(), scratch;
	const lupi_reader *def = lupi__reader_or_default(NULL, &scratch);
	ck_assert_ptr_eq(def, &scratch);
	ck_assert_ptr_eq(lupi__reader_or_default(r, &scratch), r);
	for (size_t i = 0; i < nk; i++) {
		const lupi_option *o = &t->rows[i].pub;
		/* One row per key, in key order. */
		ck_assert_int_eq(o->key, keys[i]);
		ck_assert_int_eq(o->handle, LUPI_HANDLE_READER);
		ck_assert_int_eq(o->type, LUPI_TYPE_INT);
		ck_assert_uint_eq(t->rows[i].file_id, 0);
		ck_assert_ptr_nonnull(o->doc);
		int64_t v = -99;
		ck_assert_int_eq(lupi_reader_get_int(r, keys[i], &v), LUPI_OK);
		ck_assert_int_eq(v, o->int_default);
		ck_assert_int_eq(lupi_reader_get_int(def, keys[i], &v),
				 LUPI_OK);
		ck_assert_int_eq(v, o->int_default);
		ck_assert_int_eq(o->int_default, documented[i]);
		/* The largest value round-trips. */
		ck_assert_int_eq(lupi_reader_set_int(r, keys[i], o->int_max),
				 LUPI_OK);
		ck_assert_int_eq(lupi_reader_get_int(r, keys[i], &v), LUPI_OK);
		ck_assert_int_eq(v, o->int_max);
	}
	ck_assert_str_eq(t->rows[2].pub.values,
			 "none,classification,binary,regression");
	int64_t v = 0;
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, 7),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_get_int(r, LUPI_READER_OPT_CLASSES, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(lupi_reader_get_int(NULL, LUPI_READER_OPT_TASK, &v),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_get_int(r, LUPI_READER_OPT_TASK, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_reader_get_int(r, 3099, &v),
			 LUPI_EUNKNOWN_OPTION);
	lupi_reader_free(r);
}
END_TEST

/* Keys of the model, loss, comparison and layer handles, and everything
 * else outside 3001..3008, are refused by the reader's setter and getter.
 * (The data layer's tests do not link lupi_option_next, which lives above
 * every layer; every key of those handles lies in handle * 1000 + 0..999,
 * so this covers all of them.) */
START_TEST(reader_refuses_other_handles_keys)
{
	static const int handles[] = {LUPI_HANDLE_MODEL, LUPI_HANDLE_LOSS,
				      LUPI_HANDLE_COMPARE, LUPI_HANDLE_LAYER};
	lupi_reader *r = reader();
	int64_t v = 0;
	for (size_t h = 0; h < sizeof handles / sizeof handles[0]; h++)
		for (int n = 0; n < 1000; n++) {
			int key = handles[h] * 1000 + n;
			ck_assert_int_eq(lupi_reader_set_int(r, key, 1),
					 LUPI_EUNKNOWN_OPTION);
			ck_assert_int_eq(lupi_reader_get_int(r, key, &v),
					 LUPI_EUNKNOWN_OPTION);
		}
	ck_assert_int_eq(lupi_reader_set_int(r, 1001, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_msg_has("a model");
	ck_assert_int_eq(lupi_reader_set_int(r, 3000, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_reader_set_int(r, 3009, 1),
			 LUPI_EUNKNOWN_OPTION);
	ck_assert_int_eq(lupi_reader_set_int(r, -3001, 1),
			 LUPI_EUNKNOWN_OPTION);
	/* Nothing changed. */
	ck_assert_int_eq(lupi_reader_get_int(r, LUPI_READER_OPT_HEADER, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 1);
	lupi_reader_free(r);
}
END_TEST

START_TEST(gzipped_csv)
{
	char path[600];
	snprintf(path, sizeof path, "%s/t.csv.gz", dir);
	gzFile f = gzopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	const char *text = "a,p,y\n1,,0\n2,20,1\n";
	ck_assert_int_eq(gzputs(f, text), (int)strlen(text));
	ck_assert_int_eq(gzclose(f), Z_OK);
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role_name(r, "p",
						   LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_csv(path, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 1);
	ck_assert_float_eq(lupi_dataset_features(ds, 1)[1], 20);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 1);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(fixture_file)
{
	const char *root = getenv("LUPI_TEST_DATA");
	ck_assert_ptr_nonnull(root);
	char path[600];
	snprintf(path, sizeof path, "%s/data/lupi.csv", root);
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role_name(r, "species",
						   LUPI_ROLE_TARGET), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "expert_score",
						   LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "lab_value",
						   LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "comment",
						   LUPI_ROLE_IGNORE), LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_csv(path, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 6);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 2);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 4);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[10], 6.7f);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(missing_file)
{
	lupi_dataset *ds = (lupi_dataset *)dir;
	char path[600];
	snprintf(path, sizeof path, "%s/none.csv", dir);
	ck_assert_int_eq(lupi_dataset_load_csv(path, NULL, &ds), LUPI_EIO);
	ck_assert_ptr_null(ds);
	ck_assert_msg_has("none.csv: No such file or directory");
	ck_assert_int_eq(lupi_dataset_load_csv(dir, NULL, &ds), LUPI_EIO);
	ck_assert_int_eq(lupi_dataset_load_csv(NULL, NULL, &ds), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_load_csv(path, NULL, NULL), LUPI_EINVAL);
}
END_TEST

/* Every prefix of a tricky file, and each byte flipped to a delimiter,
 * quote or line break, loads or fails cleanly. */
START_TEST(robust_to_mangled_input)
{
	const char *text = "\"a\",p,\"w\"\"\",y\r\n1,\"2\",0.5,1\n\n"
			   "3,,1,\"0\"\r\n5,6,2,1";
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 2, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 3, 3, LUPI_ROLE_WEIGHT),
			 LUPI_OK);
	size_t len = strlen(text);
	char *buf = malloc(len + 1);
	static const char subst[] = {',', '"', '\n', '\r', 'x', '\0'};
	for (size_t cut = 0; cut <= len; cut++) {
		for (size_t s = 0; s <= sizeof subst; s++) {
			memcpy(buf, text, len + 1);
			if (s < sizeof subst && cut < len)
				buf[cut] = subst[s];
			size_t n = s < sizeof subst ? len : cut;
			char *path = lupi_test_write(dir, "m.csv", buf, n);
			lupi_dataset *ds = NULL;
			int rc = lupi_dataset_load_csv(path, r, &ds);
			ck_assert(rc == LUPI_OK || (rc < 0 && ds == NULL));
			ck_assert(rc != LUPI_OK || lupi_dataset_rows(ds) > 0);
			lupi_dataset_free(ds);
			free(path);
		}
	}
	free(buf);
	lupi_reader_free(r);
}
END_TEST

/* Writes len bytes (NULs included) to t.csv and loads them. */
static int load_n(const char *text, size_t len, const lupi_reader *r,
		  lupi_dataset **ds)
{
	char *path = lupi_test_write(dir, "t.csv", text, len);
	*ds = NULL;
	int rc = lupi_dataset_load_csv(path, r, ds);
	free(path);
	if (rc != LUPI_OK)
		ck_assert_ptr_null(*ds);
	return rc;
}

#define LOAD_N(text, r, ds) load_n(text, sizeof text - 1, r, ds)

/* A NUL byte used to end a field silently ("5\0junk" read as 5) or to
 * shift the fields of a row. It is an error at line:field now. */
START_TEST(embedded_nul_is_an_error)
{
	lupi_dataset *ds;
	ck_assert_int_eq(LOAD_N("a,y\n5\0junk,1\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2:1: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("a,y\n4,5\0 6,1\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2:2: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("a,y\n1,0\n2,\"1\0\"\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("a\0b,y\n1,0\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:1:1: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("a,y\n1,0\n\0\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:1: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("a,y\n1,0\n2,1\0", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: embedded NUL byte");
}
END_TEST

/* A UTF-8 byte-order mark (Excel's "CSV UTF-8") is not part of the first
 * column's name, nor of the first number. */
START_TEST(utf8_bom_is_skipped)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role_name(r, "a",
						   LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	lupi_dataset *ds;
	ck_assert_int_eq(load("\xEF\xBB\xBF" "a,b,y\n1,2,0\n3,4,1\n", r, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 1);
	ck_assert_float_eq(lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED)[1],
			   3);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
	r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, 0),
			 LUPI_OK);
	ck_assert_int_eq(load("\xEF\xBB\xBF" "1,0\n2,1\n", r, &ds), LUPI_OK);
	ck_assert_float_eq(lupi_dataset_features(ds, LUPI_VIEW_REGULAR)[0], 1);
	lupi_dataset_free(ds);
	/* only at the start: elsewhere it is text like any other */
	ck_assert_int_eq(load("1,0\n\xEF\xBB\xBF" "2,1\n", r, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:2:1:");
	lupi_reader_free(r);
}
END_TEST

/* CR alone (old Mac OS) ends a line as LF and CR LF do, also mixed. */
START_TEST(cr_line_ends)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("a,y\r1,0\r2,1\r3,2", NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 1);
	ck_assert_int_eq(lupi_dataset_labels(ds)[2], 2);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("a,y\r\n1,0\r2,1\n\r\r3,\"2\"\r", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_float_eq(lupi_dataset_features(ds, LUPI_VIEW_REGULAR)[2], 3);
	lupi_dataset_free(ds);
	/* lines are counted at CRs too */
	ck_assert_int_eq(load("a,y\r1,0\r2,x\r", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:3:2: 'x' is not a number");
	/* a CR inside quotes is data, and counts as a line break */
	ck_assert_int_eq(load("\"a\rb\",y\r1,0\r2,x\r", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.csv:4:2: 'x' is not a number");
}
END_TEST

/* Labels are printed as they are, not rounded by %g. */
START_TEST(labels_are_printed_exactly)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("a,y\n1,1048576\n", NULL, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.csv:2:2: label 1048576 is out of range "
			  "[0, 1048576)");
	ck_assert_int_eq(load("a,y\n1,1048576.5\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("label 1048576.5 is not an integer");
	ck_assert_int_eq(load("a,y\n1,0.1\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("label 0.10000000000000001 is not an integer");
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_BINARY), LUPI_OK);
	ck_assert_int_eq(load("a,y\n1,1000000\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("label 1000000 is not 0 or 1");
	ck_assert_int_eq(load("a,y\n1,-123456789\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("label -123456789 is not 0 or 1");
	ck_assert_int_eq(load("a,y\n1,1e300\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("label 1.0000000000000001e+300 is not 0 or 1");
	lupi_reader_free(r);
}
END_TEST

START_TEST(allocation_failures)
{
	lupi_reader *r = reader();
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 2, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 3, 3, LUPI_ROLE_WEIGHT),
			 LUPI_OK);
	char *path = lupi_test_write(dir, "a.csv", "a,p,w,y\n1,,1,0\n2,3,1,1\n",
				     (size_t)-1);
	int ok = 0;
	for (int k = 0; k < 40; k++) {
		int budget = k;
		lupi_dataset *ds = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_dataset_load_csv(path, r, &ds);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
		ok += rc == LUPI_OK;
		lupi_dataset_free(ds);
	}
	ck_assert_int_gt(ok, 0);
	free(path);
	lupi_reader_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, header_and_default_target);
	tcase_add_test(tc, roles_by_name_and_range);
	tcase_add_test(tc, later_roles_override);
	tcase_add_test(tc, quoted_fields);
	tcase_add_test(tc, crlf_and_blank_lines);
	tcase_add_test(tc, no_header_delimiter_and_max_rows);
	tcase_add_test(tc, regression_and_binary);
	tcase_add_test(tc, label_errors);
	tcase_add_test(tc, value_errors);
	tcase_add_test(tc, nonfinite_allowed);
	tcase_add_test(tc, role_errors);
	tcase_add_test(tc, reader_options);
	tcase_add_test(tc, reader_get_int_defaults_and_values);
	tcase_add_test(tc, reader_refuses_other_handles_keys);
	tcase_add_test(tc, gzipped_csv);
	tcase_add_test(tc, fixture_file);
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, robust_to_mangled_input);
	tcase_add_test(tc, allocation_failures);
	tcase_add_test(tc, embedded_nul_is_an_error);
	tcase_add_test(tc, utf8_bom_is_skipped);
	tcase_add_test(tc, cr_line_ends);
	tcase_add_test(tc, labels_are_printed_exactly);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
