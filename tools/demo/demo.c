/*
 * demo.c - `lupi demo`: runs the built-in experiments and prints teacher,
 * hard-label student and distilled student side by side.
 */
#include <math.h>

#include "demo.h"

int demo_model(const struct demo_net *net, size_t n_in, int view,
	       lupi_model **m)
{
	int rc = lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in,
				   &net->hidden, net->hidden ? 1 : 0,
				   net->classes, m);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(*m, LUPI_MODEL_OPT_VIEW, view);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(*m, LUPI_MODEL_OPT_EPOCHS, net->epochs);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(*m, LUPI_MODEL_OPT_BATCH, net->batch);
	if (rc == LUPI_OK)
		rc = lupi_model_set_double(*m, LUPI_MODEL_OPT_LR, net->lr);
	return rc;
}

unsigned demo_repeats(const struct cli *c, unsigned own)
{
	if (c->v[CLI_O_SEEDS].set || own == 0)
		return (unsigned)cli_int(c, CLI_O_SEEDS);
	return own;
}

int demo_compare(const struct cli *c, const struct demo_net *net,
		 size_t d_priv, size_t d_reg, const lupi_loss *loss,
		 const double *lambdas, size_t n_lambdas, const double *temps,
		 size_t n_temps, lupi_compare **out)
{
	lupi_model *tp = NULL, *sp = NULL;
	int rc = demo_model(net, d_priv, LUPI_VIEW_PRIVILEGED, &tp);

	*out = NULL;
	if (rc == LUPI_OK)
		rc = demo_model(net, d_reg, LUPI_VIEW_REGULAR, &sp);
	if (rc == LUPI_OK)
		rc = lupi_compare_create(tp, sp, out);
	if (rc == LUPI_OK && loss)
		rc = lupi_compare_set_loss(*out, loss);
	if (rc == LUPI_OK)
		rc = lupi_compare_set_grid(*out, lambdas, n_lambdas, temps,
					   n_temps);
	/* repetition r trains every model with seed --seed + r */
	if (rc == LUPI_OK)
		rc = lupi_compare_set_int(*out, LUPI_COMPARE_OPT_SEED,
					  (int64_t)cli_seed(c));
	if (rc != LUPI_OK) {
		lupi_compare_free(*out);
		*out = NULL;
	}
	lupi_model_free(tp);
	lupi_model_free(sp);
	return rc;
}

/* Teacher, hard and the single distilled row of a comparison. */
int demo_from_compare(const lupi_compare *cmp, struct demo_result *r)
{
	static const int kinds[3] = {LUPI_COMPARE_TEACHER, LUPI_COMPARE_HARD,
				     LUPI_COMPARE_DISTILLED};

	r->seeds = lupi_compare_repeats(cmp);
	for (size_t i = 0; i < lupi_compare_rows(cmp); i++) {
		int kind, rc;
		double mean, std, dm, ds;

		rc = lupi_compare_row(cmp, i, &kind, NULL, NULL, &mean, &std,
				      &dm, &ds);
		if (rc != LUPI_OK)
			return cli_fail(rc, NULL);
		for (int k = 0; k < 3; k++) {
			if (kind != kinds[k])
				continue;
			r->mean[k] = mean;
			r->std[k] = std;
			if (k == 2) {
				r->diff_mean = dm;
				r->diff_std = ds;
			}
		}
	}
	return 0;
}

/* "mean +- std", or the value alone from a single seed. */
static void print_value(const char *name, const char *fmt, double mean,
			double std, unsigned seeds)
{
	printf("  %-44s ", name);
	printf(fmt, mean);
	if (seeds > 1)
		printf(" +- %.4f", std);
	putchar('\n');
}

void demo_print(struct cli_json *j, const char *key,
		const struct demo_result *r)
{
	static const char *keys[3] = {"teacher", "hard", "distilled"};

	if (j) {
		cli_json_object(j, key);
		cli_json_int(j, "seeds", r->seeds);
		for (int k = 0; k < 3; k++) {
			cli_json_object(j, keys[k]);
			cli_json_str(j, "model", r->name[k]);
			cli_json_num(j, "mean", r->mean[k]);
			cli_json_num(j, "std", r->std[k]);
			cli_json_close(j, '}');
		}
		cli_json_num(j, "diff_mean", r->diff_mean);
		cli_json_num(j, "diff_std", r->diff_std);
		cli_json_close(j, '}');
		return;
	}
	printf("  %-44s test accuracy, %u seed%s\n", "", r->seeds,
	       r->seeds == 1 ? "" : "s");
	for (int k = 0; k < 3; k++)
		print_value(r->name[k], "%.4f", r->mean[k], r->std[k],
			    r->seeds);
	print_value("distilled minus labels only (paired)", "%+.4f",
		    r->diff_mean, r->diff_std, r->seeds);
}

/* splitmix64: a small, well-mixed generator; the demo needs no more. */
uint64_t demo_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

/* A standard normal draw (Box-Muller; one of the pair is discarded). */
double demo_rand_normal(uint64_t *s)
{
	double u = ((double)(demo_rand(s) >> 11) + 0.5) * 0x1p-53;
	double v = (double)(demo_rand(s) >> 11) * 0x1p-53;

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

int cmd_demo(struct cli *c)
{
	struct cli_json json, *j = c->json ? &json : NULL;
	double t0 = cli_now();
	int rc;

	if (j) {
		cli_json_begin(j, stdout);
		cli_json_str(j, "command", "demo");
	}
	if (c->fashion) {
		rc = demo_fashion(c, j);
	} else {
		rc = demo_digits(c, j);
		if (rc == 0 && !j)
			putchar('\n');
		if (rc == 0)
			rc = demo_synthetic(c, j);
	}
	if (j) {
		cli_json_num(j, "seconds", cli_now() - t0);
		cli_json_int(j, "exit", rc);
		cli_json_end(j);
	} else if (rc == 0 && !c->quiet) {
		printf("\n(%.1f s)\n", cli_now() - t0);
	}
	return rc;
}
