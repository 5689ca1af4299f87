/* Status codes, messages and versions. */
#include <pthread.h>

#include "testutil.h"

#include "core/core_internal.h"

START_TEST(strerror_knows_every_code)
{
	for (int c = LUPI_ECANCELLED; c <= LUPI_OK; c++) {
		const char *s = lupi_strerror(c);
		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown error");
	}
	ck_assert_str_eq(lupi_strerror(-9999), "unknown error");
	ck_assert_str_eq(lupi_strerror(7), "unknown error");
}
END_TEST

/* Each code's name is the spelling of its macro; unknown codes have none. */
START_TEST(errname_spells_every_code)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = {
#define CODE(c) {c, #c}
		CODE(LUPI_OK),        CODE(LUPI_EINVAL),
		CODE(LUPI_ENOMEM),    CODE(LUPI_EIO),
		CODE(LUPI_EFORMAT),   CODE(LUPI_EVERSION),
		CODE(LUPI_ECHECKSUM), CODE(LUPI_ERANGE),
		CODE(LUPI_EUNKNOWN_OPTION), CODE(LUPI_ESHAPE),
		CODE(LUPI_ENONFINITE), CODE(LUPI_ESTATE),
		CODE(LUPI_ENOTSUP),   CODE(LUPI_EMISMATCH),
		CODE(LUPI_ECANCELLED),
#undef CODE
	};
	size_t n = sizeof codes / sizeof codes[0];
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(lupi_errname(codes[i].code), codes[i].name);
	/* every code from OK down to the last one is in the list above */
	ck_assert_int_eq((int)n, 1 - LUPI_ECANCELLED);
	ck_assert_ptr_null(lupi_errname(LUPI_ECANCELLED - 1));
	ck_assert_ptr_null(lupi_errname(1));
}
END_TEST

/* lupi_free takes what the library allocated, and NULL. */
START_TEST(free_takes_library_buffers)
{
	lupi_free(NULL);
	void *p = lupi__malloc(64);
	ck_assert_ptr_nonnull(p);
	lupi_free(p);
}
END_TEST

START_TEST(err_sets_message_and_returns_code)
{
	ck_assert_int_eq(lupi__err(LUPI_ERANGE, "value %d too big", 42),
			 LUPI_ERANGE);
	ck_assert_str_eq(lupi_errmsg(), "value 42 too big");
	ck_assert_int_eq(lupi__err_prefix(LUPI_EIO, "file.csv"), LUPI_EIO);
	ck_assert_str_eq(lupi_errmsg(), "file.csv: value 42 too big");
}
END_TEST

static void *thread_reads(void *arg)
{
	(void)arg;
	/* A new thread has its own, empty message. */
	return (void *)(uintptr_t)(strcmp(lupi_errmsg(), "") == 0);
}

START_TEST(message_is_per_thread)
{
	lupi__err(LUPI_EINVAL, "main thread");
	pthread_t th;
	void *ok;
	ck_assert_int_eq(pthread_create(&th, NULL, thread_reads, NULL), 0);
	pthread_join(th, &ok);
	ck_assert(ok != NULL);
	ck_assert_str_eq(lupi_errmsg(), "main thread");
}
END_TEST

START_TEST(version_matches_header)
{
	ck_assert_uint_eq(lupi_version_number(), LUPI_VERSION_NUMBER);
	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", LUPI_VERSION_MAJOR,
		 LUPI_VERSION_MINOR, LUPI_VERSION_PATCH);
	ck_assert_str_eq(lupi_version_string(), want);
	ck_assert_uint_eq(lupi_version_number(),
			  (unsigned)(LUPI_VERSION_MAJOR * 10000 +
				     LUPI_VERSION_MINOR * 100 +
				     LUPI_VERSION_PATCH));
}
END_TEST

START_TEST(threads_setting)
{
	ck_assert_int_eq(lupi_set_num_threads(-1), LUPI_ERANGE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "-1"));
	ck_assert_int_eq(lupi_set_num_threads(2000), LUPI_ERANGE);
	ck_assert_int_eq(lupi_set_num_threads(1), LUPI_OK);
	ck_assert_int_eq(lupi_get_num_threads(), 1);
	ck_assert_int_eq(lupi_set_num_threads(0), LUPI_OK);
	ck_assert_int_ge(lupi_get_num_threads(), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("error");
	tcase_add_test(tc, strerror_knows_every_code);
	tcase_add_test(tc, errname_spells_every_code);
	tcase_add_test(tc, free_takes_library_buffers);
	tcase_add_test(tc, err_sets_message_and_returns_code);
	tcase_add_test(tc, message_is_per_thread);
	tcase_add_test(tc, version_matches_header);
	tcase_add_test(tc, threads_setting);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
