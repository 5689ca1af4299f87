/* Reading whole files, plain or gzip'd, and the errors that name the path. */
#include <zlib.h>

#include "core/core_internal.h"
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

/* n bytes of a fixed pseudo-random pattern (LCG). */
static unsigned char *pattern(size_t n)
{
	unsigned char *p = malloc(n);
	uint32_t s = 12345;
	for (size_t i = 0; i < n; i++) {
		s = s * 1103515245u + 12345u;
		p[i] = (unsigned char)(s >> 16);
	}
	return p;
}

static char *write_gz(const char *name, const void *data, size_t len,
		      int members)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	FILE *out = fopen(path, "wb");
	ck_assert_ptr_nonnull(out);
	fclose(out);
	for (int m = 0; m < members; m++) {
		gzFile f = gzopen(path, "ab");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
		ck_assert_int_eq(gzclose(f), Z_OK);
	}
	return path;
}

START_TEST(plain_file_exact)
{
	/* Larger than the first chunk, so the buffer grows a few times. */
	size_t n = 300000;
	unsigned char *want = pattern(n);
	char *path = lupi_test_write(dir, "plain.bin", want, n);
	unsigned char *got;
	size_t len;
	ck_assert_int_eq(lupi__read_file(path, &got, &len), LUPI_OK);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(got, want, n);
	ck_assert_uint_eq(got[n], 0);
	lupi__free(got);
	free(path);
	free(want);
}
END_TEST

START_TEST(gzip_file_and_members)
{
	size_t n = 100000;
	unsigned char *want = pattern(n);
	char *path = write_gz("x.gz", want, n, 1);
	unsigned char *got;
	size_t len;
	ck_assert_int_eq(lupi__read_file(path, &got, &len), LUPI_OK);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(got, want, n);
	lupi__free(got);
	free(path);
	/* Concatenated members read as one stream (as gzip -d does). */
	path = write_gz("two.gz", "abc", 3, 2);
	ck_assert_int_eq(lupi__read_file(path, &got, &len), LUPI_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq((char *)got, "abcabc");
	lupi__free(got);
	free(path);
	free(want);
}
END_TEST

START_TEST(empty_file)
{
	char *path = lupi_test_write(dir, "empty", "", 0);
	unsigned char *got;
	size_t len = 7;
	ck_assert_int_eq(lupi__read_file(path, &got, &len), LUPI_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got[0], 0);
	lupi__free(got);
	free(path);
}
END_TEST

START_TEST(io_errors_name_the_path)
{
	unsigned char *got = (unsigned char *)dir;
	size_t len;
	char path[600];
	snprintf(path, sizeof path, "%s/missing.csv", dir);
	ck_assert_int_eq(lupi__read_file(path, &got, &len), LUPI_EIO);
	ck_assert_ptr_null(got);
	ck_assert_msg_has("missing.csv: No such file or directory");
	ck_assert_int_eq(lupi__read_file(dir, &got, &len), LUPI_EIO);
	ck_assert_msg_has("Is a directory");
	ck_assert_ptr_null(got);
}
END_TEST

START_TEST(corrupt_and_truncated_gzip)
{
	size_t n = 5000;
	unsigned char *data = pattern(n);
	char *path = write_gz("c.gz", data, n, 1);
	FILE *f = fopen(path, "rb");
	unsigned char buf[8192];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	free(path);
	ck_assert_uint_lt(len, sizeof buf);

	/* The deflate data garbled after the 10-byte header. */
	unsigned char bad[8192];
	memcpy(bad, buf, len);
	memset(bad + 10, 0xff, 16);
	path = lupi_test_write(dir, "bad.gz", bad, len);
	unsigned char *got;
	size_t got_len;
	ck_assert_int_eq(lupi__read_file(path, &got, &got_len), LUPI_EFORMAT);
	ck_assert_msg_has("bad.gz: corrupt gzip data");
	ck_assert_ptr_null(got);
	free(path);

	/* Cut in the middle and just before the trailer's last byte. */
	size_t cuts[2] = {len / 2, len - 1};
	for (int i = 0; i < 2; i++) {
		path = lupi_test_write(dir, "cut.gz", buf, cuts[i]);
		ck_assert_int_eq(lupi__read_file(path, &got, &got_len),
				 LUPI_EFORMAT);
		ck_assert_msg_has("cut.gz: truncated gzip data");
		free(path);
	}
	free(data);
}
END_TEST

START_TEST(allocation_failure)
{
	size_t n = 200000;
	unsigned char *want = pattern(n);
	char *path = lupi_test_write(dir, "p.bin", want, n);
	for (int k = 0; k < 3; k++) {
		int budget = k;
		unsigned char *got = NULL;
		size_t len;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi__read_file(path, &got, &len);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert_int_eq(rc, LUPI_ENOMEM);
		ck_assert_ptr_null(got);
		ck_assert_msg_has("p.bin: out of memory");
	}
	free(path);
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("file");
	TCase *tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, plain_file_exact);
	tcase_add_test(tc, gzip_file_and_members);
	tcase_add_test(tc, empty_file);
	tcase_add_test(tc, io_errors_name_the_path);
	tcase_add_test(tc, corrupt_and_truncated_gzip);
	tcase_add_test(tc, allocation_failure);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
