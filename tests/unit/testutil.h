/* Helpers shared by the unit tests. */
#ifndef LUPI_TESTUTIL_H
#define LUPI_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Runs one suite; the exit status is the number of failures (capped). */
static inline int lupi_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* An allocation gate (lupi__set_alloc_gate) that lets *user allocations
 * through, counting them down, and refuses every later one. */
static inline int lupi_test_budget_gate(size_t size, void *user)
{
	(void)size;
	int *budget = user;
	if (*budget == 0)
		return 0;
	(*budget)--;
	return 1;
}

/* A fresh temporary directory, removed by lupi_test_rmdir. */
static inline char *lupi_test_tmpdir(void)
{
	char *dir = strdup("/tmp/lupi-test-XXXXXX");
	if (dir == NULL || mkdtemp(dir) == NULL)
		abort();
	return dir;
}

static inline void lupi_test_rmdir(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(dir);
}

/* Writes len bytes (or strlen when len is (size_t)-1) to dir/name; returns
 * the malloc'd path. */
static inline char *lupi_test_write(const char *dir, const char *name,
				    const void *data, size_t len)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	if (path == NULL)
		abort();
	sprintf(path, "%s/%s", dir, name);
	if (len == (size_t)-1)
		len = strlen(data);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
	return path;
}

#endif
