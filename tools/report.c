/*
 * report.c - a minimal JSON writer for --json: one object on stdout, keys
 * in the order written, non-finite numbers as null.
 */
#include <math.h>

#include "cli.h"

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void key(struct cli_json *j, const char *k)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = 0;
	if (k) {
		json_string(j->f, k);
		fputc(':', j->f);
	}
}

static void open(struct cli_json *j, const char *k, char bracket)
{
	key(j, k);
	fputc(bracket, j->f);
	if (j->depth < 15)
		j->depth++;
	j->first[j->depth] = 1;
}

void cli_json_begin(struct cli_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	j->first[0] = 1;
	open(j, NULL, '{');
}

void cli_json_end(struct cli_json *j)
{
	cli_json_close(j, '}');
	fputc('\n', j->f);
	fflush(j->f);
}

void cli_json_object(struct cli_json *j, const char *k)
{
	open(j, k, '{');
}

void cli_json_array(struct cli_json *j, const char *k)
{
	open(j, k, '[');
}

void cli_json_close(struct cli_json *j, char bracket)
{
	fputc(bracket, j->f);
	if (j->depth > 0)
		j->depth--;
}

void cli_json_num(struct cli_json *j, const char *k, double v)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.10g", v);
	else
		fputs("null", j->f);
}

void cli_json_int(struct cli_json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%lld", (long long)v);
}

void cli_json_str(struct cli_json *j, const char *k, const char *s)
{
	key(j, k);
	json_string(j->f, s);
}

size_t cli_samples_used(const lupi_model *m, const lupi_dataset *ds)
{
	int64_t view = LUPI_VIEW_REGULAR;

	lupi_model_get_int(m, LUPI_MODEL_OPT_VIEW, &view);
	if (view == LUPI_VIEW_REGULAR)
		return lupi_dataset_rows(ds);
	return lupi_dataset_privileged_count(ds);
}

/*
 * Metrics of m on ds: accuracy and log-loss for classification, MSE and MAE
 * for regression; as text ("valid  accuracy 0.9722  logloss 0.0912  (36
 * samples)") or as a JSON object named set. The sample count is of the
 * samples scored: a model on X* skips those without X*, and says how many.
 * Returns 0 or CLI_EXIT_ERROR.
 */
int cli_print_metrics(struct cli_json *j, const char *set,
		      const lupi_model *m, const lupi_dataset *ds)
{
	int task = lupi_model_task(m);
	int metrics[2] = {LUPI_METRIC_ACCURACY, LUPI_METRIC_LOGLOSS};
	double v[2];
	size_t used = cli_samples_used(m, ds);
	size_t skipped = lupi_dataset_rows(ds) - used;

	if (task == LUPI_TASK_REGRESSION) {
		metrics[0] = LUPI_METRIC_MSE;
		metrics[1] = LUPI_METRIC_MAE;
	}
	for (int i = 0; i < 2; i++) {
		int rc = lupi_model_evaluate(m, ds, metrics[i], &v[i]);

		if (rc != LUPI_OK)
			return cli_fail(rc, NULL);
	}
	if (j) {
		cli_json_object(j, set);
		for (int i = 0; i < 2; i++)
			cli_json_num(j, cli_metric_name(metrics[i]), v[i]);
		cli_json_int(j, "samples", (int64_t)used);
		cli_json_int(j, "skipped", (int64_t)skipped);
		cli_json_close(j, '}');
	} else {
		printf("%-8s", set);
		for (int i = 0; i < 2; i++)
			printf("  %s %.4f", cli_metric_name(metrics[i]), v[i]);
		printf("  (%zu samples", used);
		if (skipped)
			printf(", %zu skipped without X*", skipped);
		fputs(")\n", stdout);
	}
	return 0;
}

int cli_load_model(const char *path, lupi_model **out)
{
	int rc = lupi_model_load(path, out);

	return rc == LUPI_OK ? 0 : cli_fail(rc, path);
}

int cli_save_model(const struct cli *c, struct cli_json *j,
		   const lupi_model *m, const char *path)
{
	int rc = lupi_model_save(m, path);
	if (rc != LUPI_OK)
		return cli_fail(rc, path);
	if (j)
		cli_json_str(j, "output", path);
	else if (!c->quiet)
		printf("saved %s\n", path);
	return 0;
}
