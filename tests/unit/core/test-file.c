/* Reading whole files, plain or gzip'd, and the errors that name the path. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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


/* ---- atomic writes: what the target is ----------------------------------- */

static char *in_dir(const char *name)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	if (path == NULL)
		abort();
	sprintf(path, "%s/%s", dir, name);
	return path;
}

/* The whole file at path, NUL-terminated (the tests write text). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	char *buf = calloc(1, 4096);
	if (buf == NULL)
		abort();
	size_t n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_content(const char *path, const char *want)
{
	char *got = slurp(path);
	ck_assert_str_eq(got, want);
	free(got);
}

/* Entries of dir: no temporary file may be left behind. */
static size_t count_entries(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	unsigned long n = 0;
	ck_assert_int_eq(fscanf(p, "%lu", &n), 1);
	pclose(p);
	return n;
}

static int write_text(const char *path, const char *text)
{
	return lupi__write_atomic(path, (const unsigned char *)text,
				  strlen(text));
}

/* A FIFO is refused and stays a FIFO (it used to be unlinked and replaced
 * by a regular file). */
START_TEST(atomic_write_refuses_a_fifo)
{
	char *fifo = in_dir("fifo");
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_int_eq(write_text(fifo, "new"), LUPI_EIO);
	char want[700];
	snprintf(want, sizeof want, "%s: not a regular file", fifo);
	ck_assert_msg_has(want);
	struct stat st;
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_uint_eq(count_entries(), 1);
	free(fifo);
}
END_TEST

/* A device node, where the system lets us make one (root): refused, left
 * as it is. Skipped without the privilege. */
START_TEST(atomic_write_refuses_a_device)
{
	char *dev = in_dir("null");
	if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) != 0) {
		free(dev);
		return; /* EPERM: nothing to test */
	}
	ck_assert_int_eq(write_text(dev, "new"), LUPI_EIO);
	ck_assert_msg_has("null: not a regular file");
	struct stat st;
	ck_assert_int_eq(lstat(dev, &st), 0);
	ck_assert(S_ISCHR(st.st_mode));
	ck_assert_uint_eq(count_entries(), 1);
	free(dev);
}
END_TEST

/* A directory is not a regular file either. */
START_TEST(atomic_write_refuses_a_directory)
{
	char *sub = in_dir("sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(write_text(sub, "new"), LUPI_EIO);
	ck_assert_msg_has("sub: not a regular file");
	ck_assert_uint_eq(count_entries(), 1);
	free(sub);
}
END_TEST

/* A symlink to a regular file is written through: the link stays a link,
 * its target (in another directory) gets the new bytes and keeps its
 * permissions, and no temporary file is left in either directory. */
START_TEST(atomic_write_follows_a_symlink)
{
	char *sub = in_dir("data");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	char *target = in_dir("data/real.lupi");
	char *link = in_dir("link.lupi");
	ck_assert_int_eq(write_text(target, "old"), LUPI_OK);
	ck_assert_int_eq(chmod(target, 0600), 0);
	/* a relative link, resolved from the link's directory */
	ck_assert_int_eq(symlink("data/real.lupi", link), 0);
	ck_assert_int_eq(write_text(link, "new"), LUPI_OK);
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(target, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	assert_content(target, "new");
	assert_content(link, "new");
	ck_assert_uint_eq(count_entries(), 2); /* data/ and link.lupi */
	char cmd[700];
	snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", sub);
	ck_assert_int_eq(system(cmd), 0);
	/* a chain of links too */
	char *link2 = in_dir("link2.lupi");
	ck_assert_int_eq(symlink(link, link2), 0);
	ck_assert_int_eq(write_text(link2, "newer"), LUPI_OK);
	ck_assert_int_eq(lstat(link2, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	assert_content(target, "newer");
	free(link2);
	free(link);
	free(target);
	free(sub);
}
END_TEST

/* A symlink to a FIFO is refused like the FIFO; a dangling one too (there
 * is no file to write through to). Both links stay. */
START_TEST(atomic_write_refuses_odd_symlinks)
{
	char *fifo = in_dir("fifo");
	char *link = in_dir("to-fifo");
	char *dangling = in_dir("dangling");
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_int_eq(symlink(fifo, link), 0);
	ck_assert_int_eq(write_text(link, "new"), LUPI_EIO);
	ck_assert_msg_has("to-fifo: not a regular file");
	ck_assert_int_eq(symlink("missing/m.lupi", dangling), 0);
	ck_assert_int_eq(write_text(dangling, "new"), LUPI_EIO);
	ck_assert_msg_has("dangling: ");
	struct stat st;
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(dangling, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_uint_eq(count_entries(), 3);
	free(fifo);
	free(link);
	free(dangling);
}
END_TEST

/* A file without write permission is refused and left as it was, also for
 * root (for whom access(W_OK) says yes): the mode bits decide then. */
START_TEST(atomic_write_refuses_a_read_only_file)
{
	char *path = in_dir("ro.lupi");
	ck_assert_int_eq(write_text(path, "old"), LUPI_OK);
	ck_assert_int_eq(chmod(path, 0444), 0);
	ck_assert_int_eq(write_text(path, "new"), LUPI_EIO);
	char want[700];
	snprintf(want, sizeof want, "%s: permission denied", path);
	ck_assert_msg_has(want);
	assert_content(path, "old");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0444);
	ck_assert_uint_eq(count_entries(), 1);
	/* through a symlink as well */
	char *link = in_dir("ro-link");
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(write_text(link, "new"), LUPI_EIO);
	ck_assert_msg_has("ro-link: permission denied");
	assert_content(path, "old");
	/* one write bit (the owner's) is enough */
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(write_text(link, "new"), LUPI_OK);
	assert_content(path, "new");
	free(link);
	free(path);
}
END_TEST

/* A missing target is created (0644), a regular one replaced. */
START_TEST(atomic_write_creates_and_replaces)
{
	char *path = in_dir("m.lupi");
	ck_assert_int_eq(write_text(path, "one"), LUPI_OK);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(write_text(path, "two"), LUPI_OK);
	assert_content(path, "two");
	ck_assert_uint_eq(count_entries(), 1);
	free(path);
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
	tcase_add_test(tc, atomic_write_refuses_a_fifo);
	tcase_add_test(tc, atomic_write_refuses_a_device);
	tcase_add_test(tc, atomic_write_refuses_a_directory);
	tcase_add_test(tc, atomic_write_follows_a_symlink);
	tcase_add_test(tc, atomic_write_refuses_odd_symlinks);
	tcase_add_test(tc, atomic_write_refuses_a_read_only_file);
	tcase_add_test(tc, atomic_write_creates_and_replaces);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
