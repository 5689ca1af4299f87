/* Runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs, without
 * libFuzzer, so that the corpus and past crashes are ordinary tests:
 *     replay-<target> DIR_OR_FILE...
 * Directories are read in name order; names starting with '.' are skipped
 * (.keep files hold empty directories in git). A broken property aborts in
 * the target; the last "replay:" line on stdout names the input. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t got;
	while (buf != NULL && (got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap *= 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	int bad = ferror(f) || buf == NULL;
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(buf);
		return -1;
	}
	printf("replay: %s (%zu bytes)\n", path, len);
	fflush(stdout);
	/* An exact-size copy, so that ASan sees reads past the input's end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL)
		abort();
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int run_dir(const char *dir, size_t *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		perror(dir);
		return -1;
	}
	int status = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[4096];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (name[0] != '.' && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			if (run_file(path) != 0)
				status = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return status;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	int status = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			status = 1;
		} else if (S_ISDIR(st.st_mode)) {
			status |= run_dir(argv[i], &count) != 0;
		} else {
			status |= run_file(argv[i]) != 0;
			count += 1;
		}
	}
	if (status == 0)
		printf("replay: %zu inputs, all properties held\n", count);
	return status;
}
