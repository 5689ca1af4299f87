/*
 * data.c - loading the tool's datasets: format from --format or the file
 * name, column roles from --privileged/--target/--weight/--ignore, and the
 * small CSV matrices of external teacher outputs.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char *cli_task_name(int task)
{
	switch (task) {
	case LUPI_TASK_CLASSIFICATION: return "classification";
	case LUPI_TASK_BINARY: return "binary";
	case LUPI_TASK_REGRESSION: return "regression";
	default: return "none";
	}
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
	if (c->no_target)
		return LUPI_TASK_NONE;
	if (c->task >= 0)
		return c->task;
	return model ? lupi_model_task(model) : LUPI_TASK_CLASSIFICATION;
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

static int setup_reader(const struct cli *c, int format,
			const lupi_model *model, lupi_reader *r)
{
	int task = data_task(c, model);
	int64_t classes = data_classes(model, task);
	int rc = lupi_reader_set_int(r, LUPI_READER_OPT_TASK, task);

	if (rc == LUPI_OK && c->no_header)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, 0);
	if (rc == LUPI_OK && c->delimiter != ',')
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_DELIMITER,
					 (unsigned char)c->delimiter);
	if (rc == LUPI_OK && classes > 0)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, classes);
	if (rc == LUPI_OK && c->max_rows > 0)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, c->max_rows);
	if (rc == LUPI_OK && format == CLI_FORMAT_IDX)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, c->pool);
	if (rc != LUPI_OK)
		return cli_fail(rc, NULL);
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
	if (setup_reader(c, format, model, r)) {
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

/* Parses one CSV line of numbers into row (cols known) or counts them. */
static int parse_row(const char *path, size_t line, char *s, float *row,
		     size_t *cols)
{
	size_t k = 0;
	char *p = s;

	for (;;) {
		char *end;
		double v;

		while (*p == ' ' || *p == '\t')
			p++;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno == ERANGE) {
			char *stop = strpbrk(p, ",\r\n");

			if (stop)
				*stop = '\0';
			return cli_error("%s:%zu:%zu: '%s' is not a number",
					 path, line, k + 1, p);
		}
		if (row)
			row[k] = (float)v;
		k++;
		p = end;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (*p != ',')
			return cli_error("%s:%zu:%zu: expected ','", path,
					 line, k + 1);
		p++;
		if (row && k == *cols)
			return cli_error("%s:%zu: more than %zu values", path,
					 line, *cols);
	}
	if (row && k != *cols)
		return cli_error("%s:%zu: %zu values, expected %zu", path, line,
				 k, *cols);
	*cols = k;
	return 0;
}

static int is_header(const char *s)
{
	while (*s == ' ' || *s == '"')
		s++;
	return *s && !isdigit((unsigned char)*s) && *s != '-' &&
	       *s != '+' && *s != '.';
}

int cli_read_matrix(const char *path, float **out, size_t *rows,
		    size_t *cols)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, rcap = 0, lineno = 0;
	float *m = NULL;
	int err = 0;

	*out = NULL;
	*rows = *cols = 0;
	if (!f)
		return cli_error("%s: %s", path, strerror(errno));
	while (!err && getline(&line, &cap, f) > 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0' ||
		    (lineno == 1 && is_header(line)))
			continue;
		if (n == 0 && parse_row(path, lineno, line, NULL, cols)) {
			err = 1;
			break;
		}
		if (n == rcap) {
			float *g;

			rcap = rcap ? 2 * rcap : 256;
			g = realloc(m, rcap * *cols * sizeof(*m));
			if (!g) {
				err = cli_error("out of memory");
				break;
			}
			m = g;
		}
		err = parse_row(path, lineno, line, m + n * *cols, cols);
		n++;
	}
	free(line);
	fclose(f);
	if (!err && n == 0)
		err = cli_error("%s: no rows", path);
	if (err) {
		free(m);
		return CLI_EXIT_ERROR;
	}
	*out = m;
	*rows = n;
	return 0;
}
