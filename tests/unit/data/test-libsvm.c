/* The LIBSVM/svmlight loader: dense expansion, privileged index ranges,
 * labels per task, and each malformed case with its line:column. */
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

static int load(const char *text, const lupi_reader *r, lupi_dataset **ds)
{
	char *path = lupi_test_write(dir, "t.svm", text, (size_t)-1);
	*ds = NULL;
	int rc = lupi_dataset_load_libsvm(path, r, ds);
	free(path);
	if (rc != LUPI_OK)
		ck_assert_ptr_null(*ds);
	return rc;
}

static lupi_reader *reader(int task)
{
	lupi_reader *r = NULL;
	ck_assert_int_eq(lupi_reader_create(&r), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK, task),
			 LUPI_OK);
	return r;
}

static void assert_floats(const float *got, const float *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "[%zu]: %g, want %g", i,
			      (double)got[i], (double)want[i]);
}

START_TEST(dense_expansion)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("# a header comment\n"
			      "1 1:0.5 3:2\n"
			      "0 2:1 # trailing comment\n"
			      "\n"
			      "   \t\n"
			      "2\t3:-1e1\r\n"
			      "0\n",
			      NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 4);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	static const float want[12] = {0.5f, 0, 2, 0, 1, 0, 0, 0, -10,
				       0, 0, 0};
	assert_floats(lupi_dataset_features(ds, 0), want, 12);
	const int32_t *y = lupi_dataset_labels(ds);
	ck_assert_int_eq(y[0], 1);
	ck_assert_int_eq(y[1], 0);
	ck_assert_int_eq(y[2], 2);
	ck_assert_int_eq(y[3], 0);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(privileged_ranges)
{
	lupi_reader *r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_role(r, 3, 4, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_role(r, 5, 5, LUPI_ROLE_IGNORE),
			 LUPI_OK);
	lupi_dataset *ds;
	ck_assert_int_eq(load("0 1:1 3:5 4:6 5:9\n"
			      "1 2:2 5:9 6:3\n"
			      "1 1:1 4:7\n",
			      r, &ds), LUPI_OK);
	/* Regular: 1, 2, 6; privileged: 3, 4; 5 ignored. */
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 2);
	static const float x[9] = {1, 0, 0, 0, 2, 3, 1, 0, 0};
	static const float xp[6] = {5, 6, 0, 0, 0, 7};
	assert_floats(lupi_dataset_features(ds, 0), x, 9);
	assert_floats(lupi_dataset_features(ds, 1), xp, 6);
	const uint8_t *m = lupi_dataset_mask(ds);
	ck_assert_ptr_nonnull(m);
	ck_assert(m[0] && !m[1] && m[2]);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 2);
	lupi_dataset_free(ds);

	/* Privileged range beyond the largest index: no X*. */
	lupi_reader_free(r);
	r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_role(r, 10, 20, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(load("0 1:1\n1 2:1\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	ck_assert_ptr_null(lupi_dataset_mask(ds));
	lupi_dataset_free(ds);
	/* Everything privileged: no regular features. */
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 20, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	ck_assert_int_eq(load("0 1:1\n1 2:1\n", r, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("no regular features");
	lupi_reader_free(r);
}
END_TEST

START_TEST(binary_labels)
{
	lupi_reader *r = reader(LUPI_TASK_BINARY);
	lupi_dataset *ds;
	ck_assert_int_eq(load("-1 1:1\n+1 1:2\n0 1:3\n1 1:4\n", r, &ds),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	const int32_t *y = lupi_dataset_labels(ds);
	ck_assert(y[0] == 0 && y[1] == 1 && y[2] == 0 && y[3] == 1);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("1 1:1\n2 1:1\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.svm:2:1: label 2 is not 0/1 or -1/+1");
	lupi_reader_free(r);
}
END_TEST

START_TEST(regression_and_classes)
{
	lupi_reader *r = reader(LUPI_TASK_REGRESSION);
	lupi_dataset *ds;
	ck_assert_int_eq(load("0.5 1:1\n-2.25 2:1 qid:3\n", r, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_REGRESSION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 1);
	ck_assert_float_eq(lupi_dataset_targets(ds)[1], -2.25f);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("0.5 1:1\ninf 2:1\n", r, &ds), LUPI_ENONFINITE);
	ck_assert_msg_has("t.svm:2:1: non-finite label 'inf'");
	lupi_reader_free(r);

	r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, 4),
			 LUPI_OK);
	ck_assert_int_eq(load("3 1:1\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 4);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("3 1:1\n 4 1:1\n", r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.svm:2:2: label 4 is out of range [0, 4)");
	ck_assert_int_eq(load("1.5 1:1\n", r, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.svm:1:1: label 1.5 is not an integer");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, 1),
			 LUPI_OK);
	ck_assert_int_eq(load("3 1:1\nbad\n", r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 1);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

START_TEST(malformed_lines)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
		{"1 1:0.5 2x3\n", LUPI_EFORMAT,
		 "t.svm:1:9: malformed pair '2x3'"},
		{"1 1:\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair '1:'"},
		{"1 1: 2\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair '1:'"},
		{"1 1:abc\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair"},
		{"1 1:2:3\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair"},
		{"1 -1:2\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair"},
		{"1 :2\n", LUPI_EFORMAT, "t.svm:1:3: malformed pair"},
		{"1 0:1\n", LUPI_EFORMAT, "t.svm:1:3: feature index 0"},
		{"0 1:1\n1 2:1 2:3\n", LUPI_EFORMAT,
		 "t.svm:2:7: feature index 2 after 2: indices must increase"},
		{"1 3:1 2:3\n", LUPI_EFORMAT, "feature index 2 after 3"},
		{"abc 1:1\n", LUPI_EFORMAT, "t.svm:1:1: bad label 'abc'"},
		{"1:1 2:1\n", LUPI_EFORMAT, "t.svm:1:1: bad label '1:1'"},
		{"1 1:1\n  1 1:nan\n", LUPI_ENONFINITE,
		 "t.svm:2:7: non-finite value 'nan'"},
		{"1 99999999999999999999:1\n", LUPI_EFORMAT,
		 "t.svm:1:3: feature index above 16777216"},
		{"", LUPI_EFORMAT, "t.svm: no samples"},
		{"# only a comment\n\n", LUPI_EFORMAT, "no samples"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lupi_dataset *ds;
		ck_assert_int_eq(load(cases[i].text, NULL, &ds),
				 cases[i].code);
		ck_assert_msg_has(cases[i].msg);
	}
}
END_TEST

START_TEST(dense_size_is_bounded)
{
	/* 17 rows x 2^24 features = 1.1 GiB of floats: refused before any
	 * allocation. */
	char text[17 * 16 + 1] = "";
	for (int i = 0; i < 17; i++)
		strcat(text, "1 16777216:1\n");
	lupi_dataset *ds;
	ck_assert_int_eq(load(text, NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("17 samples x 16777216 features exceed");
}
END_TEST

START_TEST(reader_role_errors)
{
	lupi_reader *r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_role_name(r, "f", 1), LUPI_OK);
	lupi_dataset *ds;
	ck_assert_int_eq(load("1 1:1\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("no names ('f')");
	lupi_reader_free(r);
	r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_role(r, 1, 1, LUPI_ROLE_WEIGHT),
			 LUPI_OK);
	ck_assert_int_eq(load("1 1:1\n", r, &ds), LUPI_EINVAL);
	ck_assert_msg_has("only REGULAR, PRIVILEGED and IGNORE");
	lupi_reader_free(r);
	ck_assert_int_eq(lupi_dataset_load_libsvm(NULL, NULL, &ds),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_load_libsvm("x", NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_load_libsvm("/nonexistent/x.svm", NULL,
						  &ds), LUPI_EIO);
	ck_assert_msg_has("/nonexistent/x.svm: No such file");
}
END_TEST

START_TEST(gzipped_libsvm)
{
	char path[600];
	snprintf(path, sizeof path, "%s/t.svm.gz", dir);
	gzFile f = gzopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_gt(gzputs(f, "1 2:3\n0 1:4\n"), 0);
	ck_assert_int_eq(gzclose(f), Z_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_libsvm(path, NULL, &ds), LUPI_OK);
	static const float x[4] = {0, 3, 4, 0};
	assert_floats(lupi_dataset_features(ds, 0), x, 4);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(fixture_file)
{
	const char *root = getenv("LUPI_TEST_DATA");
	ck_assert_ptr_nonnull(root);
	char path[600];
	snprintf(path, sizeof path, "%s/data/lupi.svm", root);
	lupi_reader *r = reader(LUPI_TASK_BINARY);
	ck_assert_int_eq(lupi_reader_set_role(r, 4, 6, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_libsvm(path, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 5);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 3);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	ck_assert_int_eq(lupi_dataset_labels(ds)[4], 0);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

/* Prefixes and byte substitutions of a valid file load or fail cleanly. */
START_TEST(robust_to_mangled_input)
{
	const char *text = "1 1:0.5 3:2 # c\n-1 2:1e3\r\n\n+1 4:7 5:-1\n";
	lupi_reader *r = reader(LUPI_TASK_BINARY);
	ck_assert_int_eq(lupi_reader_set_role(r, 4, 5, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	size_t len = strlen(text);
	char *buf = malloc(len + 1);
	static const char subst[] = {':', ' ', '\n', '#', '0', '9', '\0'};
	for (size_t cut = 0; cut <= len; cut++) {
		for (size_t s = 0; s <= sizeof subst; s++) {
			memcpy(buf, text, len + 1);
			if (s < sizeof subst && cut < len)
				buf[cut] = subst[s];
			size_t n = s < sizeof subst ? len : cut;
			char *path = lupi_test_write(dir, "m.svm", buf, n);
			lupi_dataset *ds = NULL;
			int rc = lupi_dataset_load_libsvm(path, r, &ds);
			ck_assert(rc == LUPI_OK || (rc < 0 && ds == NULL));
			lupi_dataset_free(ds);
			free(path);
		}
	}
	free(buf);
	lupi_reader_free(r);
}
END_TEST

static int load_n(const char *text, size_t len, const lupi_reader *r,
		  lupi_dataset **ds)
{
	char *path = lupi_test_write(dir, "t.svm", text, len);
	*ds = NULL;
	int rc = lupi_dataset_load_libsvm(path, r, ds);
	free(path);
	if (rc != LUPI_OK)
		ck_assert_ptr_null(*ds);
	return rc;
}

#define LOAD_N(text, r, ds) load_n(text, sizeof text - 1, r, ds)

/* A NUL byte used to end the line silently (feature 5 dropped). It is an
 * error at line:column (the byte position), also in a comment. */
START_TEST(embedded_nul_is_an_error)
{
	lupi_dataset *ds;
	ck_assert_int_eq(LOAD_N("1 1:2\0 5:3\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.svm:1:6: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("0 1:1\n1 1:2 # x\0y\n", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.svm:2:10: embedded NUL byte");
	ck_assert_int_eq(LOAD_N("0 1:1\n\0", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("t.svm:2:1: embedded NUL byte");
}
END_TEST

START_TEST(utf8_bom_is_skipped)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("\xEF\xBB\xBF" "1 1:2\n0 2:3\n", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 1);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("\xEF\xBB\xBF# comment\n1 1:2\n", NULL, &ds),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 1);
	lupi_dataset_free(ds);
}
END_TEST

/* CR alone ends a line as LF and CR LF do, also mixed. */
START_TEST(cr_line_ends)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("1 1:2\r0 2:3\r2 1:1", NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 2);
	static const float want[6] = {2, 0, 0, 3, 1, 0};
	assert_floats(lupi_dataset_features(ds, LUPI_VIEW_REGULAR), want, 6);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("# c\r1 1:2 # c\r\n\r0 2:3\n\r2 1:1\r", NULL,
			      &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	lupi_dataset_free(ds);
	ck_assert_int_eq(load("1 1:2\r0 2:3\r2 1:x\r", NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("t.svm:3:3: malformed pair '1:x'");
}
END_TEST

START_TEST(labels_are_printed_exactly)
{
	lupi_dataset *ds;
	ck_assert_int_eq(load("1048576 1:1\n", NULL, &ds), LUPI_ERANGE);
	ck_assert_msg_has("t.svm:1:1: label 1048576 is out of range "
			  "[0, 1048576)");
	ck_assert_int_eq(load("2.000001 1:1\n", NULL, &ds), LUPI_EFORMAT);
	ck_assert_msg_has("label 2.0000010000000001 is not an integer");
}
END_TEST

START_TEST(allocation_failures)
{
	lupi_reader *r = reader(LUPI_TASK_CLASSIFICATION);
	ck_assert_int_eq(lupi_reader_set_role(r, 2, 2, LUPI_ROLE_PRIVILEGED),
			 LUPI_OK);
	char *path = lupi_test_write(dir, "a.svm", "1 1:1 2:2\n0 1:3\n",
				     (size_t)-1);
	int ok = 0;
	for (int k = 0; k < 40; k++) {
		int budget = k;
		lupi_dataset *ds = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_dataset_load_libsvm(path, r, &ds);
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
	Suite *s = suite_create("libsvm");
	TCase *tc = tcase_create("libsvm");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dense_expansion);
	tcase_add_test(tc, privileged_ranges);
	tcase_add_test(tc, binary_labels);
	tcase_add_test(tc, regression_and_classes);
	tcase_add_test(tc, malformed_lines);
	tcase_add_test(tc, dense_size_is_bounded);
	tcase_add_test(tc, reader_role_errors);
	tcase_add_test(tc, gzipped_libsvm);
	tcase_add_test(tc, fixture_file);
	tcase_add_test(tc, robust_to_mangled_input);
	tcase_add_test(tc, allocation_failures);
	tcase_add_test(tc, embedded_nul_is_an_error);
	tcase_add_test(tc, utf8_bom_is_skipped);
	tcase_add_test(tc, cr_line_ends);
	tcase_add_test(tc, labels_are_printed_exactly);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
