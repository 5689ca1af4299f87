/*
 * cli.h - what the files of the `lupi` command-line tool share.
 *
 * The tool uses only the public API of lupi.h. Each file holds one concern:
 * opts.c parses the command line, data.c loads datasets, model.c builds
 * models from options, progress.c draws the progress bar, report.c prints
 * results as text or JSON, svg.c draws plots, split.c makes the index
 * splits, cmd_*.c run the subcommands, demo*.c run `lupi demo`.
 */
#ifndef LUPI_TOOL_CLI_H
#define LUPI_TOOL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lupi.h"

/* Exit codes, documented in `lupi --help`. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERROR 1 /* the library failed: bad data, bad file, ... */
#define CLI_EXIT_USAGE 2 /* the command line is wrong */

#define CLI_MAX_HIDDEN 16
#define CLI_MAX_GRID 64
#define CLI_MAX_POOL 64 /* the library's LUPI_READER_OPT_IDX_POOL range is 1..64 */

/* Data formats. */
#define CLI_FORMAT_GUESS 0
#define CLI_FORMAT_CSV 1
#define CLI_FORMAT_LIBSVM 2
#define CLI_FORMAT_IDX 3

/* Everything the command line can say; unset numbers are -1 or NaN. */
struct cli {
	const char *prog;
	const char *command;
	const char *args[2]; /* positional arguments */
	size_t n_args;

	/* training */
	int64_t epochs, batch, seed, patience;
	double lr, valid;
	size_t hidden[CLI_MAX_HIDDEN], n_hidden;
	size_t teacher_hidden[CLI_MAX_HIDDEN], n_teacher_hidden;
	int hidden_set, teacher_hidden_set;
	int activation, optimizer, view;
	int threads;
	/* distillation */
	double temperature, lambda;
	int loss, divergence;
	const char *teacher, *teacher_outputs;
	int outputs_kind;
	/* compare */
	double lambdas[CLI_MAX_GRID], temps[CLI_MAX_GRID];
	size_t n_lambdas, n_temps;
	int lambdas_set, temps_set; /* given on the command line */
	unsigned seeds;
	const char *test;
	double test_fraction;
	/* data */
	int format;
	const char *privileged, *target, *weight, *ignore;
	int no_header, no_target;
	char delimiter;
	const char *labels;
	int pool;
	int task;
	int64_t max_rows;
	/* output */
	const char *output, *plot;
	int quiet, json, help;
	/* demo */
	int fashion;
};

/* opts.c */
int cli_parse(struct cli *c, int argc, char **argv);
void cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void cli_print_help(FILE *f, const char *command);

/* errors: prints "lupi: " + the library's message, returns CLI_EXIT_ERROR */
int cli_fail(int code, const char *context);
/* prints "lupi: " + a message of the tool's own, returns CLI_EXIT_ERROR */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* data.c: model, when not NULL, is the model the data is for: without
 * --task the data gets its task, and a classifier's class count (so a file
 * that lacks the top class still matches the model's outputs) */
int cli_load_data(const struct cli *c, const char *path,
		  const lupi_model *model, lupi_dataset **out);
const char *cli_task_name(int task);
/* reads an n x k matrix of numbers from a CSV file (header line optional) */
int cli_read_matrix(const char *path, float **out, size_t *rows,
		    size_t *cols);

/* split.c: random numbers, and a (stratified for labels) random split of
 * the sample indices */
uint64_t cli_rand(uint64_t *state);
double cli_rand_normal(uint64_t *state);
int cli_split(const lupi_dataset *ds, double second_fraction, uint64_t seed,
	      size_t **first, size_t *n_first, size_t **second,
	      size_t *n_second);
int cli_split_dataset(const lupi_dataset *ds, double second_fraction,
		      uint64_t seed, lupi_dataset **first,
		      lupi_dataset **second);

/* model.c */
size_t cli_model_outputs(const lupi_dataset *ds);
int cli_make_model(const struct cli *c, const lupi_dataset *ds, int view,
		   int teacher, lupi_model **out);
int cli_make_loss(const struct cli *c, int task, lupi_loss **out);
int cli_primary_metric(int task);
const char *cli_metric_name(int metric);
const char *cli_activation_name(int act);
const char *cli_view_name(int view);

/* progress.c */
struct cli_progress {
	const char *label;
	int bar;           /* draw a bar on stderr */
	size_t n_train;    /* samples per epoch */
	double t0, last_draw;
	unsigned n_epochs; /* recorded epoch ends */
	double *loss, *valid;
	size_t cap;
};
double cli_now(void);
void cli_progress_init(struct cli_progress *p, const struct cli *c,
		       const char *label, size_t n_train);
int cli_progress_fn(void *user, const lupi_progress *p);
int cli_progress_models_fn(void *user, const lupi_progress *p);
void cli_progress_watch(struct cli_progress *p, lupi_model *m);
void cli_progress_done(struct cli_progress *p);
void cli_progress_free(struct cli_progress *p);
int cli_show_progress(const struct cli *c);

/* report.c: one JSON object on stdout */
struct cli_json {
	FILE *f;
	int depth;
	int first[16];
};
void cli_json_begin(struct cli_json *j, FILE *f);
void cli_json_end(struct cli_json *j);
void cli_json_object(struct cli_json *j, const char *key);
void cli_json_array(struct cli_json *j, const char *key);
void cli_json_close(struct cli_json *j, char bracket);
void cli_json_num(struct cli_json *j, const char *key, double v);
void cli_json_int(struct cli_json *j, const char *key, int64_t v);
void cli_json_str(struct cli_json *j, const char *key, const char *s);
int cli_print_metrics(struct cli_json *j, const char *set,
		      const lupi_model *m, const lupi_dataset *ds);
/* the samples of ds that m reads: those with X* when its view needs X* */
size_t cli_samples_used(const lupi_model *m, const lupi_dataset *ds);

/* svg.c */
struct svg_series {
	const char *name;
	const double *x, *y;
	size_t n;
	int dashed;
};
struct svg_panel {
	const char *title, *xlabel, *ylabel;
	const struct svg_series *series;
	size_t n_series;
};
int svg_write(const char *path, const struct svg_panel *panels,
	      size_t n_panels);
int cli_plot_curves(const char *path, const struct cli_progress *p,
		    size_t n, int metric);

/* commands */
int cmd_teacher(struct cli *c);
int cmd_distill(struct cli *c);
int cmd_compare(struct cli *c);
int cmd_eval(struct cli *c);
int cmd_predict(struct cli *c);
int cmd_info(struct cli *c);
int cmd_demo(struct cli *c);
int demo_digits(const struct cli *c, struct cli_json *j);
int demo_synthetic(const struct cli *c, struct cli_json *j);
int demo_fashion(const struct cli *c, struct cli_json *j);

/* demo.c: teacher, hard-label and distilled student, mean +- std */
struct demo_result {
	const char *name[3];
	double mean[3], std[3];
	double diff_mean, diff_std; /* distilled minus hard, paired */
	unsigned seeds;
};
void demo_print(struct cli_json *j, const char *key,
		const struct demo_result *r);
int demo_from_compare(const lupi_compare *cmp, struct demo_result *r);
/* The classifier of one demo experiment: hidden 0 means no hidden layer. */
struct demo_net {
	size_t hidden, classes;
	int64_t epochs, batch;
	double lr;
};
/* A model on n_in inputs of view with the net's settings and the seed;
 * returns a LUPI_* status. */
int demo_model(const struct demo_net *net, size_t n_in, int view,
	       uint64_t seed, lupi_model **m);

#endif
