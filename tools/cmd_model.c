/*
 * cmd_model.c - the commands that use a saved model: `lupi eval`,
 * `lupi predict` and `lupi info`.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int64_t get_int(const lupi_model *m, int key)
{
	int64_t v = -1;

	return lupi_model_get_int(m, key, &v) == LUPI_OK ? v : -1;
}

static double get_double(const lupi_model *m, int key)
{
	double v = NAN;

	return lupi_model_get_double(m, key, &v) == LUPI_OK ? v : NAN;
}

int cmd_eval(struct cli *c)
{
	lupi_model *m = NULL;
	lupi_dataset *ds = NULL;
	struct cli_json json, *j = c->json ? &json : NULL;
	int rc = CLI_EXIT_ERROR;

	if (cli_load_model(c->args[0], &m) ||
	    cli_load_data(c, c->args[1], m, &ds))
		goto out;
	if (j) {
		cli_json_begin(j, stdout);
		cli_json_str(j, "command", "eval");
		cli_json_str(j, "model", c->args[0]);
		cli_json_str(j, "data", c->args[1]);
	}
	rc = cli_print_metrics(j, "test", m, ds);
	if (j) {
		cli_json_int(j, "exit", rc);
		cli_json_end(j);
	}
out:
	lupi_dataset_free(ds);
	lupi_model_free(m);
	return rc;
}

/* The rows the model reads: X, X*, or [X, X*] side by side; *width is
 * their width. */
static int model_inputs(const lupi_model *m, const lupi_dataset *ds,
			float **x, size_t *width, int *owned)
{
	int view = (int)get_int(m, LUPI_MODEL_OPT_VIEW);
	size_t n = lupi_dataset_rows(ds);
	size_t d = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR);
	size_t dp = lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
	size_t want = lupi_model_inputs(m);
	const float *a = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *b = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);

	*owned = 0;
	*width = want;
	if (view == LUPI_VIEW_PRIVILEGED) {
		d = dp;
		a = b;
	}
	if (view != LUPI_VIEW_BOTH) {
		if (d != want || !a)
			return cli_error("the model reads %zu %s features, the "
					 "data has %zu", want,
					 cli_view_name(view), d);
		*x = (float *)a;
		return 0;
	}
	if (d + dp != want || !a || !b)
		return cli_error("the model reads %zu features (X and X*), the "
				 "data has %zu", want, d + dp);
	*x = malloc(n * want * sizeof(**x));
	if (!*x)
		return cli_error("out of memory");
	*owned = 1;
	for (size_t i = 0; i < n; i++) {
		memcpy(*x + i * want, a + i * d, d * sizeof(float));
		memcpy(*x + i * want + d, b + i * dp, dp * sizeof(float));
	}
	return 0;
}

static int write_predictions(FILE *f, const lupi_model *m, const float *out,
			     const int32_t *cls, size_t n)
{
	size_t k = lupi_model_outputs(m);
	int task = lupi_model_task(m);

	for (size_t q = 0; q < k; q++) {
		if (task == LUPI_TASK_REGRESSION)
			fprintf(f, "%sy%zu", q ? "," : "", q + 1);
		else if (task == LUPI_TASK_BINARY)
			fputs("p1", f);
		else
			fprintf(f, "%sp%zu", q ? "," : "", q);
	}
	fputs(cls ? ",class\n" : "\n", f);
	for (size_t i = 0; i < n; i++) {
		for (size_t q = 0; q < k; q++)
			fprintf(f, "%s%.6g", q ? "," : "", out[i * k + q]);
		if (cls)
			fprintf(f, ",%d", (int)cls[i]);
		fputc('\n', f);
	}
	return ferror(f) ? -1 : 0;
}

static int predict(const struct cli *c, const lupi_model *m,
		   const lupi_dataset *ds)
{
	size_t n = lupi_dataset_rows(ds), k = lupi_model_outputs(m), d;
	int task = lupi_model_task(m), owned, rc;
	float *x = NULL, *out = malloc(n * k * sizeof(*out));
	int32_t *cls = NULL;
	FILE *f = stdout;

	if (task != LUPI_TASK_REGRESSION)
		cls = malloc(n * sizeof(*cls));
	if (!out || (task != LUPI_TASK_REGRESSION && !cls)) {
		rc = cli_error("out of memory");
		goto out;
	}
	if ((rc = model_inputs(m, ds, &x, &d, &owned)) != 0)
		goto out;
	rc = lupi_model_predict(m, x, n, d, LUPI_PREDICT_OUTPUT, out);
	if (rc == LUPI_OK && cls)
		rc = lupi_model_predict_class(m, x, n, d, cls);
	if (owned)
		free(x);
	if (rc != LUPI_OK) {
		rc = cli_fail(rc, c->args[0]);
		goto out;
	}
	if (c->output && !(f = fopen(c->output, "w"))) {
		rc = cli_error("%s: %s", c->output, strerror(errno));
		goto out;
	}
	rc = write_predictions(f, m, out, cls, n);
	if (f != stdout && fclose(f) != 0)
		rc = -1;
	if (rc)
		rc = cli_error("%s: write failed", c->output ? c->output :
			       "stdout");
	else if (c->output && cli_show_progress(c))
		fprintf(stderr, "wrote %zu predictions to %s\n", n, c->output);
out:
	free(out);
	free(cls);
	return rc;
}

int cmd_predict(struct cli *c)
{
	lupi_model *m = NULL;
	lupi_dataset *ds = NULL;
	int rc = CLI_EXIT_ERROR;

	if (c->json) {
		cli_usage_error("predict: --json is not supported; the "
				"predictions are CSV");
		return CLI_EXIT_USAGE;
	}
	if (!cli_load_model(c->args[0], &m) &&
	    !cli_load_data(c, c->args[1], m, &ds))
		rc = predict(c, m, ds);
	lupi_dataset_free(ds);
	lupi_model_free(m);
	return rc;
}

/* The name of a model option's value, e.g. "adam" for OPTIMIZER. */
static const char *value_name(const lupi_model *m, const char *option,
			      char *buf, size_t size)
{
	const lupi_option *o = lupi_option_by_name(LUPI_HANDLE_MODEL, option);

	return cli_value_name(LUPI_HANDLE_MODEL, option,
			      o ? get_int(m, o->key) : -1, buf, size);
}

/* The activation of layer i; the output layer has none (IDENTITY). */
static const char *activation(const lupi_model *m, size_t i, char *buf,
			      size_t size)
{
	int64_t act = LUPI_ACT_IDENTITY;

	if (i + 1 < lupi_model_layers(m) &&
	    lupi_model_get_layer_int(m, i, LUPI_LAYER_OPT_ACTIVATION, &act) !=
		    LUPI_OK)
		act = -1;
	return cli_value_name(LUPI_HANDLE_MODEL, "activation", act, buf, size);
}

static void layers_text(const lupi_model *m, char *buf, size_t size)
{
	size_t len = (size_t)snprintf(buf, size, "%zu", lupi_model_inputs(m));
	char name[32];

	for (size_t i = 0; i < lupi_model_layers(m) && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, " -> %zu (%s)",
			lupi_model_layer_size(m, i),
			activation(m, i, name, sizeof(name)));
}

static void info_json(const lupi_model *m, const char *path, long long size)
{
	struct cli_json j;
	char name[32];

	cli_json_begin(&j, stdout);
	cli_json_str(&j, "command", "info");
	cli_json_str(&j, "file", path);
	cli_json_int(&j, "bytes", size);
	cli_json_str(&j, "checksums", "verified");
	cli_json_str(&j, "task", cli_task_name(lupi_model_task(m), name,
					       sizeof(name)));
	cli_json_str(&j, "view", cli_view_name((int)get_int(m, LUPI_MODEL_OPT_VIEW)));
	cli_json_int(&j, "inputs", (int64_t)lupi_model_inputs(m));
	cli_json_int(&j, "outputs", (int64_t)lupi_model_outputs(m));
	cli_json_array(&j, "layers");
	for (size_t i = 0; i < lupi_model_layers(m); i++) {
		cli_json_object(&j, NULL);
		cli_json_int(&j, "size", (int64_t)lupi_model_layer_size(m, i));
		cli_json_str(&j, "activation",
			     activation(m, i, name, sizeof(name)));
		cli_json_close(&j, '}');
	}
	cli_json_close(&j, ']');
	cli_json_int(&j, "parameters", (int64_t)lupi_model_num_params(m));
	cli_json_int(&j, "epochs", get_int(m, LUPI_MODEL_OPT_EPOCHS));
	cli_json_int(&j, "batch", get_int(m, LUPI_MODEL_OPT_BATCH));
	cli_json_int(&j, "seed", get_int(m, LUPI_MODEL_OPT_SEED));
	cli_json_str(&j, "optimizer",
		     value_name(m, "optimizer", name, sizeof(name)));
	cli_json_num(&j, "lr", get_double(m, LUPI_MODEL_OPT_LR));
	cli_json_int(&j, "standardize", get_int(m, LUPI_MODEL_OPT_STANDARDIZE));
	cli_print_privacy(NULL, &j, m, NULL);
	cli_json_int(&j, "exit", 0);
	cli_json_end(&j);
}

int cmd_info(struct cli *c)
{
	lupi_model *m = NULL;
	struct stat st;
	long long size = stat(c->args[0], &st) == 0 ? (long long)st.st_size :
						       -1;
	char layers[1024], name[32];
	int task;

	if (cli_load_model(c->args[0], &m))
		return CLI_EXIT_ERROR;
	if (c->json) {
		info_json(m, c->args[0], size);
		lupi_model_free(m);
		return CLI_EXIT_OK;
	}
	task = lupi_model_task(m);
	layers_text(m, layers, sizeof(layers));
	printf("file:        %s (%lld bytes), checksums verified\n",
	       c->args[0], size);
	printf("task:        %s", cli_task_name(task, name, sizeof(name)));
	if (task == LUPI_TASK_CLASSIFICATION)
		printf(", %zu classes", lupi_model_outputs(m));
	else if (task == LUPI_TASK_REGRESSION)
		printf(", %zu targets", lupi_model_outputs(m));
	printf("\ninputs:      %zu %s features%s\n", lupi_model_inputs(m),
	       cli_view_name((int)get_int(m, LUPI_MODEL_OPT_VIEW)),
	       get_int(m, LUPI_MODEL_OPT_STANDARDIZE) == 1 ? ", standardised" : "");
	printf("shape:       %zu inputs, %zu outputs\n", lupi_model_inputs(m),
	       lupi_model_outputs(m));
	printf("layers:      %s\n", layers);
	printf("parameters:  %zu\n", lupi_model_num_params(m));
	printf("training:    %s, lr %g, %lld epochs, batch %lld, seed %lld\n",
	       value_name(m, "optimizer", name, sizeof(name)),
	       get_double(m, LUPI_MODEL_OPT_LR),
	       (long long)get_int(m, LUPI_MODEL_OPT_EPOCHS),
	       (long long)get_int(m, LUPI_MODEL_OPT_BATCH),
	       (long long)get_int(m, LUPI_MODEL_OPT_SEED));
	printf("regularise:  weight decay %g, dropout %g\n",
	       get_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY),
	       get_double(m, LUPI_MODEL_OPT_DROPOUT));
	cli_print_privacy(NULL, NULL, m, "privacy:     ");
	lupi_model_free(m);
	return CLI_EXIT_OK;
}
