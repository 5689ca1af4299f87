/*
 * cmd_compare.c - `lupi compare`: lupi_compare_run over a lambda x T grid
 * and several seeds; a table of mean +- std and the paired difference to
 * the hard-label student; --plot draws the metric against lambda per T.
 */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

static const char *row_name(int kind)
{
	switch (kind) {
	case LUPI_COMPARE_BASELINE: return "baseline";
	case LUPI_COMPARE_TEACHER: return "teacher (X*)";
	case LUPI_COMPARE_HARD: return "student, labels only";
	default: return "student, distilled";
	}
}

static const char *kind_key(int kind)
{
	switch (kind) {
	case LUPI_COMPARE_BASELINE: return "baseline";
	case LUPI_COMPARE_TEACHER: return "teacher";
	case LUPI_COMPARE_HARD: return "hard";
	default: return "distilled";
	}
}

struct row {
	int kind;
	double lambda, temp, mean, std, dmean, dstd;
};

static int print_table(const lupi_compare *cmp, struct cli_json *j)
{
	size_t n = lupi_compare_rows(cmp);
	const char *metric = cli_metric_name(lupi_compare_metric(cmp));

	if (j) {
		cli_json_str(j, "metric", metric);
		cli_json_int(j, "seeds", lupi_compare_repeats(cmp));
		cli_json_array(j, "rows");
	} else {
		printf("%-22s %6s %6s  %-18s %s\n", "model", "lambda", "T",
		       metric, "vs labels only (paired)");
	}
	for (size_t i = 0; i < n; i++) {
		struct row r;
		int rc = lupi_compare_row(cmp, i, &r.kind, &r.lambda, &r.temp,
					  &r.mean, &r.std, &r.dmean, &r.dstd);

		if (rc != LUPI_OK)
			return cli_fail(rc, NULL);
		if (j) {
			cli_json_object(j, NULL);
			cli_json_str(j, "kind", kind_key(r.kind));
			cli_json_num(j, "lambda", r.lambda);
			cli_json_num(j, "temperature", r.temp);
			cli_json_num(j, "mean", r.mean);
			cli_json_num(j, "std", r.std);
			cli_json_num(j, "diff_mean", r.dmean);
			cli_json_num(j, "diff_std", r.dstd);
			cli_json_close(j, '}');
			continue;
		}
		printf("%-22s ", row_name(r.kind));
		if (r.kind == LUPI_COMPARE_DISTILLED)
			printf("%6.2f %6g  ", r.lambda, r.temp);
		else
			printf("%6s %6s  ", "", "");
		printf("%.4f +- %.4f   ", r.mean, r.std);
		if (r.kind == LUPI_COMPARE_DISTILLED)
			printf("%+.4f +- %.4f", r.dmean, r.dstd);
		putchar('\n');
	}
	if (j)
		cli_json_close(j, ']');
	else
		printf("(%u seeds; +- is the sample standard deviation)\n",
		       lupi_compare_repeats(cmp));
	return 0;
}

/* The metric against lambda, one line per T, the hard student dashed. */
static int plot(const struct cli *c, const lupi_compare *cmp)
{
	size_t nl = c->n_lambdas, nt = c->n_temps;
	double *y = malloc((nt + 1) * nl * sizeof(*y));
	struct svg_series *s = malloc((nt + 1) * sizeof(*s));
	char (*names)[32] = malloc((nt + 1) * sizeof(*names));
	struct svg_panel p;
	double hard = NAN;
	int rc = CLI_EXIT_ERROR;

	if (!y || !s || !names) {
		cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < lupi_compare_rows(cmp); i++) {
		int kind;
		double lambda, temp, mean;

		lupi_compare_row(cmp, i, &kind, &lambda, &temp, &mean, NULL,
				 NULL, NULL);
		if (kind == LUPI_COMPARE_HARD)
			hard = mean;
		if (kind != LUPI_COMPARE_DISTILLED)
			continue;
		for (size_t a = 0; a < nl; a++)
			for (size_t b = 0; b < nt; b++)
				if (c->lambdas[a] == lambda &&
				    c->temps[b] == temp)
					y[b * nl + a] = mean;
	}
	for (size_t b = 0; b < nt; b++) {
		snprintf(names[b], sizeof(names[b]), "distilled, T = %g",
			 c->temps[b]);
		s[b] = (struct svg_series){names[b], c->lambdas, y + b * nl,
					   nl, 0};
	}
	for (size_t a = 0; a < nl; a++)
		y[nt * nl + a] = hard;
	s[nt] = (struct svg_series){"labels only", c->lambdas, y + nt * nl,
				    nl, 1};
	p = (struct svg_panel){"Distilled student against lambda",
			       "imitation weight lambda",
			       cli_metric_name(lupi_compare_metric(cmp)), s,
			       nt + 1};
	rc = svg_write(c->plot, &p, 1);
out:
	free(y);
	free(s);
	free(names);
	return rc;
}

/* The comparison of the command line's models, loss, grid and seeds. */
static int make_compare(const struct cli *c, const lupi_dataset *train,
			lupi_compare **cmp)
{
	lupi_model *tp = NULL, *sp = NULL;
	lupi_loss *loss = NULL;
	int rc = CLI_EXIT_ERROR, lrc, failed = CLI_O_SEEDS;

	*cmp = NULL;
	if (cli_make_model(c, train, LUPI_VIEW_PRIVILEGED, 1, &tp) ||
	    cli_make_model(c, train, LUPI_VIEW_REGULAR, 0, &sp) ||
	    cli_make_loss(c, lupi_dataset_task(train), &loss))
		goto out;
	lrc = lupi_compare_create(tp, sp, cmp);
	if (lrc == LUPI_OK)
		lrc = lupi_compare_set_loss(*cmp, loss);
	if (lrc == LUPI_OK)
		lrc = lupi_compare_set_grid(*cmp, c->lambdas, c->n_lambdas,
					    c->temps, c->n_temps);
	/* repetition r trains every model with seed --seed + r */
	if (lrc == LUPI_OK)
		lrc = lupi_compare_set_int(*cmp, LUPI_COMPARE_OPT_SEED,
					   (int64_t)cli_seed(c));
	if (lrc == LUPI_OK)
		lrc = cli_apply_options(c, LUPI_HANDLE_COMPARE, *cmp, &failed);
	rc = lrc == LUPI_OK ? 0 : cli_fail(lrc, NULL);
out:
	if (rc) {
		lupi_compare_free(*cmp);
		*cmp = NULL;
	}
	lupi_loss_free(loss);
	lupi_model_free(sp);
	lupi_model_free(tp);
	return rc;
}

static int run(const struct cli *c, lupi_dataset *train, lupi_dataset *test,
	       struct cli_json *j)
{
	lupi_compare *cmp = NULL;
	struct cli_progress prog;
	int rc;

	if (make_compare(c, train, &cmp))
		return CLI_EXIT_ERROR;
	cli_progress_init(&prog, c, "compare", lupi_dataset_rows(train));
	rc = cli_par_compare_run(c, cmp, train, test, cli_progress_models_fn,
				 &prog);
	cli_progress_done(&prog);
	if (rc)
		goto out;
	if (j) {
		cli_json_int(j, "train_samples",
			     (int64_t)lupi_dataset_rows(train));
		cli_json_int(j, "test_samples",
			     (int64_t)lupi_dataset_rows(test));
		cli_json_num(j, "seconds", cli_now() - prog.t0);
	} else if (!c->quiet) {
		printf("%zu training and %zu test samples; %zu regular and "
		       "%zu privileged features; %.1f s\n",
		       lupi_dataset_rows(train), lupi_dataset_rows(test),
		       lupi_dataset_dim(train, LUPI_VIEW_REGULAR),
		       lupi_dataset_dim(train, LUPI_VIEW_PRIVILEGED),
		       cli_now() - prog.t0);
	}
	rc = print_table(cmp, j);
	if (rc == 0 && c->plot)
		rc = plot(c, cmp);
out:
	lupi_compare_free(cmp);
	return rc;
}

/*
 * --lambda L and -T T are a grid of one value, as in `lupi distill`; given
 * with the list they would replace, one of the two would be ignored.
 * Returns 0, or -1 after a usage error.
 */
static int one_value_grid(const char *opt, const char *list,
			  const struct cli_value *v, int list_set,
			  double *grid, size_t *n)
{
	if (!v->set)
		return 0;
	if (list_set) {
		cli_usage_error("compare: give %s or %s, not both", opt, list);
		return -1;
	}
	grid[0] = v->r;
	*n = 1;
	return 0;
}

int cmd_compare(struct cli *c)
{
	lupi_dataset *all = NULL, *train = NULL, *test = NULL;
	struct cli_json json, *j = c->json ? &json : NULL;
	int rc;

	if (one_value_grid("--lambda", "--lambdas", &c->v[CLI_O_LAMBDA],
			   c->lambdas_set, c->lambdas, &c->n_lambdas) ||
	    one_value_grid("--temperature", "--temperatures",
			   &c->v[CLI_O_TEMPERATURE], c->temps_set, c->temps,
			   &c->n_temps))
		return CLI_EXIT_USAGE;
	if (j)
		cli_json_begin(j, stdout);
	if (j)
		cli_json_str(j, "command", "compare");
	if (cli_par_load_data(c, c->args[0], NULL, &all)) {
		rc = CLI_EXIT_ERROR;
	} else if (c->test) {
		train = all;
		all = NULL;
		rc = cli_par_load_data(c, c->test, NULL, &test);
	} else {
		/* the first part, test_fraction of the samples, is held out */
		rc = lupi_dataset_split(all, c->test_fraction, cli_seed(c),
					cli_split_mode(all), &test, &train);
		rc = rc == LUPI_OK ? 0 : cli_fail(rc, c->args[0]);
	}
	if (rc == 0)
		rc = run(c, train, test, j);
	if (j) {
		cli_json_int(j, "exit", rc);
		cli_json_end(j);
	}
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	lupi_dataset_free(all);
	return rc;
}
