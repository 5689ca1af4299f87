/*
 * model.c - models and losses built from the command line's options, and
 * the names the tool prints for the library's constants.
 */
#include "cli.h"

/* Binary tasks have one sigmoid output; the dataset reports K = 2. */
size_t cli_model_outputs(const lupi_dataset *ds)
{
	if (lupi_dataset_task(ds) == LUPI_TASK_BINARY)
		return 1;
	return lupi_dataset_outputs(ds);
}

/* The seed of the tool's splits: --seed, else the model's default. */
uint64_t cli_seed(const struct cli *c)
{
	return (uint64_t)cli_int(c, CLI_O_SEED);
}

/* "--epochs: " and the library's message, for an option it refused. */
static int fail_option(int rc, int opt)
{
	char context[64];

	snprintf(context, sizeof(context), "--%s", cli_option_name(opt));
	return cli_fail(rc, context);
}

/*
 * A model on `view` of ds with the command line's training options; the
 * teacher's hidden layers come from --teacher-hidden when given.
 */
int cli_make_model(const struct cli *c, const lupi_dataset *ds, int view,
		   int teacher, lupi_model **out)
{
	const size_t *hidden = c->hidden;
	size_t nh = c->n_hidden, n_in;
	int task = lupi_dataset_task(ds), rc, failed;

	*out = NULL;
	if (task == LUPI_TASK_NONE)
		return cli_error("the data has no labels or targets");
	if (teacher && c->teacher_hidden_set) {
		hidden = c->teacher_hidden;
		nh = c->n_teacher_hidden;
	}
	if (view == LUPI_VIEW_BOTH)
		n_in = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR) +
		       lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
	else
		n_in = lupi_dataset_dim(ds, view);
	if (n_in == 0)
		return cli_error("the data has no %s features%s",
				 cli_view_name(view),
				 view == LUPI_VIEW_REGULAR ? "" :
				 " (name them with --privileged COLS)");
	rc = lupi_model_create(task, n_in, hidden, nh, cli_model_outputs(ds),
			       out);
	if (rc != LUPI_OK)
		return cli_fail(rc, NULL);
	/* the view is the model's role, not an option of every model */
	rc = lupi_model_set_int(*out, LUPI_MODEL_OPT_VIEW, view);
	failed = CLI_O_VIEW;
	if (rc == LUPI_OK)
		rc = cli_apply_options(c, LUPI_HANDLE_MODEL, *out, &failed);
	if (rc != LUPI_OK) {
		lupi_model_free(*out);
		*out = NULL;
		return fail_option(rc, failed);
	}
	return 0;
}

/* The loss of --loss; KD on a regression task is regression distillation. */
int cli_make_loss(const struct cli *c, int task, lupi_loss **out)
{
	int kind = c->loss, rc, failed = CLI_O_LOSS;

	if (task == LUPI_TASK_REGRESSION && kind == LUPI_LOSS_KD)
		kind = LUPI_LOSS_REGRESSION;
	rc = lupi_loss_create(kind, out);
	if (rc == LUPI_OK)
		rc = cli_apply_options(c, LUPI_HANDLE_LOSS, *out, &failed);
	if (rc != LUPI_OK) {
		lupi_loss_free(*out);
		*out = NULL;
		return fail_option(rc, failed);
	}
	return 0;
}

int cli_primary_metric(int task)
{
	return task == LUPI_TASK_REGRESSION ? LUPI_METRIC_MSE :
					      LUPI_METRIC_ACCURACY;
}

const char *cli_metric_name(int metric)
{
	switch (metric) {
	case LUPI_METRIC_ACCURACY: return "accuracy";
	case LUPI_METRIC_LOGLOSS: return "logloss";
	case LUPI_METRIC_MSE: return "mse";
	case LUPI_METRIC_MAE: return "mae";
	default: return "metric";
	}
}

const char *cli_view_name(int view)
{
	switch (view) {
	case LUPI_VIEW_REGULAR: return "regular";
	case LUPI_VIEW_PRIVILEGED: return "privileged";
	case LUPI_VIEW_BOTH: return "regular+privileged";
	default: return "unknown";
	}
}
