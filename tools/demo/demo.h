/*
 * demo.h - what the files of `lupi demo` share: the experiments, the model
 * builder and comparison they all use, and the printing of their results.
 */
#ifndef LUPI_TOOL_DEMO_H
#define LUPI_TOOL_DEMO_H

#include "cli.h"

/* The experiments. */
int demo_digits(const struct cli *c, struct cli_json *j);
int demo_synthetic(const struct cli *c, struct cli_json *j);
int demo_fashion(const struct cli *c, struct cli_json *j);

/* Teacher, hard-label and distilled student, mean +- std. */
struct demo_result {
	const char *name[3];
	double mean[3], std[3];
	double diff_mean, diff_std; /* distilled minus hard, paired */
	unsigned seeds;
};
void demo_print(struct cli_json *j, const char *key,
		const struct demo_result *r);
int demo_from_compare(const lupi_compare *cmp, struct demo_result *r);

/* The classifier of one demo experiment: hidden 0 means no hidden layer.
 * Its epochs, batch and learning rate are the experiment's recipe. */
struct demo_net {
	size_t hidden, classes;
	int64_t epochs, batch;
	double lr;
};
/* A model on n_in inputs of view with the net's settings; returns a
 * LUPI_* status. */
int demo_model(const struct demo_net *net, size_t n_in, int view,
	       lupi_model **m);
/* A comparison of a teacher on X* and a student on X, both built from
 * net, with loss (NULL: KD with its defaults), the grid, and the seed of
 * --seed; returns a LUPI_* status. */
int demo_compare(const struct cli *c, const struct demo_net *net,
		 size_t d_priv, size_t d_reg, const lupi_loss *loss,
		 const double *lambdas, size_t n_lambdas, const double *temps,
		 size_t n_temps, lupi_compare **out);
/* The repetitions: --seeds, else the experiment's own number. */
unsigned demo_repeats(const struct cli *c, unsigned own);

/* splitmix64 and a standard normal draw, for the demo's synthetic data and
 * noise (the library's generator is not public). */
uint64_t demo_rand(uint64_t *state);
double demo_rand_normal(uint64_t *state);

#endif
