/*
 * data.c - loading the tool's datasets: format from --format or the file
 * name, column roles from --privileged/--target/--weight/--ignore, the
 * reader's options from the command line, the small CSV matrices of
 * external teacher outputs, and the library's splits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char *cli_task_name(int task, char *buf, size_t size)
{
	return cli_value_name(LUPI_HANDLE_READER, "task", task, buf, size);
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && strncasecmp(s + len - n, suffix, n) == 0;
}

static int guess_format(const char *path)
{
	size_t len = strlen(path);

	if (ends_with(path, len, ".gz"))
		len -= 3;
	if (ends_with(path, len, ".libsvm") || ends_with(path, len, ".svm") ||
	    ends_with(path, len, ".svmlight"))
		return CLI_FORMAT_LIBSVM;
	if (ends_with(path, len, "-ubyte") || ends_with(path, len, ".idx") ||
	    strstr(path, "idx3") || strstr(path, "idx1"))
		return CLI_FORMAT_IDX;
	return CLI_FORMAT_CSV;
}

static int is_range(const char *s)
{
	int dash = 0;

	if (!isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++) {
		if (*s == '-' && !dash && isdigit((unsigned char)s[1]))
			dash = 1;
		else if (!isdigit((unsigned char)*s))
			return 0;
	}
	return 1;
}

/* Gives each item of a spec like "5-20,23,age" a role. */
static int set_roles(lupi_reader *r, const char *opt, const char *spec,
		     int role)
{
	char *buf = strdup(spec), *tok, *save = NULL;
	int rc = LUPI_OK;

	if (!buf)
		return cli_error("out of memory");
	for (tok = strtok_r(buf, ",", &save); tok && rc == LUPI_OK;
	     tok = strtok_r(NULL, ",", &save)) {
		if (is_range(tok)) {
			char *end;
			unsigned long long a = strtoull(tok, &end, 10);
			unsigned long long b = *end == '-' ?
				strtoull(end + 1, NULL, 10) : a;

			rc = lupi_reader_set_role(r, (size_t)a, (size_t)b,
						  role);
		} else {
			rc = lupi_reader_set_role_name(r, tok, role);
		}
		if (rc != LUPI_OK)
			cli_fail(rc, opt);
	}
	free(buf);
	return rc == LUPI_OK ? 0 : CLI_EXIT_ERROR;
}

/*
 * The task of the data: none with --no-target, else --task, else the task
 * of the model it is for, else the reader's default (classification).
 */
static int data_task(const struct cli *c, const lupi_model *model)
{
	if (c->v[CLI_O_NO_TARGET].set)
		return (int)c->v[CLI_O_NO_TARGET].i;
	if (c->v[CLI_O_TASK].set || !model)
		return (int)cli_int(c, CLI_O_TASK);
	return lupi_model_task(model);
}

/*
 * Labels of data for a classifier are read as its K classes (binary: 2),
 * not as max label + 1: a test file without the top class must still give
 * K outputs. Data of another task is left to the library to report.
 */
static int64_t data_classes(const lupi_model *model, int task)
{
	if (!model || lupi_model_task(model) != task)
		return 0;
	if (task == LUPI_TASK_BINARY)
		return 2;
	if (task == LUPI_TASK_CLASSIFICATION)
		return (int64_t)lupi_model_outputs(model);
	return 0;
}

static int setup_reader(const struct cli *c, const lupi_model *model,
			lupi_reader *r)
{
	int task = data_task(c, model);
	int64_t classes = data_classes(model, task);
	int failed = CLI_O_TASK;
	int rc = cli_apply_options(c, LUPI_HANDLE_READER, r, &failed);
	char context[64];

	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_TASK, task);
	if (rc == LUPI_OK && classes > 0)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, classes);
	if (rc != LUPI_OK) {
		snprintf(context, sizeof(context), "--%s",
			 cli_option_name(failed));
		return cli_fail(rc, context);
	}
	if (c->privileged &&
	    set_roles(r, "--privileged", c->privileged, LUPI_ROLE_PRIVILEGED))
		return CLI_EXIT_ERROR;
	if (c->target && set_roles(r, "--target", c->target, LUPI_ROLE_TARGET))
		return CLI_EXIT_ERROR;
	if (c->weight && set_roles(r, "--weight", c->weight, LUPI_ROLE_WEIGHT))
		return CLI_EXIT_ERROR;
	if (c->ignore && set_roles(r, "--ignore", c->ignore, LUPI_ROLE_IGNORE))
		return CLI_EXIT_ERROR;
	return 0;
}

/* Loads path; on failure prints the error and returns CLI_EXIT_ERROR. */
int cli_load_data(const struct cli *c, const char *path,
		  const lupi_model *model, lupi_dataset **out)
{
	lupi_reader *r = NULL;
	int format = c->format ? c->format : guess_format(path);
	int rc = lupi_reader_create(&r);

	*out = NULL;
	if (rc != LUPI_OK)
		return cli_fail(rc, NULL);
	if (setup_reader(c, model, r)) {
		lupi_reader_free(r);
		return CLI_EXIT_ERROR;
	}
	if (format == CLI_FORMAT_LIBSVM)
		rc = lupi_dataset_load_libsvm(path, r, out);
	else if (format == CLI_FORMAT_IDX)
		rc = lupi_dataset_load_idx(path, c->labels, r, out);
	else
		rc = lupi_dataset_load_csv(path, r, out);
	lupi_reader_free(r);
	return rc == LUPI_OK ? 0 : cli_fail(rc, path);
}

static int is_header(const char *s)
{
	while (*s == ' ' || *s == '"')
		s++;
	return *s && !isdigit((unsigned char)*s) && *s != '-' &&
	       *s != '+' && *s != '.';
}

/* Whether the file's first line names columns (it does not start with a
 * number); 0 or 1, or -1 after an error. */
static int has_header(const char *path)
{
	char line[256] = "";
	FILE *f = fopen(path, "r");

	if (!f) {
		cli_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return is_header(line);
}

/* The library reads the numbers: a dataset of features only. */
int cli_read_matrix(const char *path, lupi_dataset **out)
{
	lupi_reader *r = NULL;
	int header = has_header(path), rc;

	*out = NULL;
	if (header < 0)
		return CLI_EXIT_ERROR;
	rc = lupi_reader_create(&r);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, header);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					 LUPI_TASK_NONE);
	if (rc == LUPI_OK)
		rc = lupi_dataset_load_csv(path, r, out);
	lupi_reader_free(r);
	return rc == LUPI_OK ? 0 : cli_fail(rc, path);
}

/* Stratified where there are classes, so that each part has them all. */
int cli_split_mode(const lupi_dataset *ds)
{
	int task = lupi_dataset_task(ds);

	return task == LUPI_TASK_CLASSIFICATION || task == LUPI_TASK_BINARY ?
	       LUPI_SPLIT_STRATIFIED : LUPI_SPLIT_RANDOM;
}

int cli_split(const lupi_dataset *ds, double fraction, uint64_t seed,
	      size_t *idx, size_t *n_held)
{
	int rc = lupi_dataset_split_indices(ds, fraction, seed,
					    cli_split_mode(ds), idx, n_held);

	return rc == LUPI_OK ? 0 : cli_fail(rc, NULL);
}
