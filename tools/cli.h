/*
 * cli.h - what the files of the `lupi` command-line tool share.
 *
 * The tool uses only the public API of lupi.h. Each file holds one concern:
 * opts.c holds the one table of commands and the one table of options, the
 * parser and the help generated from them; options that set a library
 * option take its range, default and value names from the library's
 * introspection (lupi_option_by_name). data.c loads datasets, model.c
 * builds models and losses from options, progress.c draws the progress bar
 * and turns an interrupt into a stop request, report.c prints results as
 * text or JSON, svg.c draws plots, cmd_*.c run the subcommands, and
 * demo/ runs `lupi demo`.
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
#define CLI_EXIT_INTERRUPTED 130 /* SIGINT (128 + 2, as shells report) */

#define CLI_MAX_HIDDEN 16
#define CLI_MAX_GRID 64
#define CLI_MAX_ARGS 16 /* positional arguments (audit: models) */

/* Data formats. */
#define CLI_FORMAT_GUESS 0
#define CLI_FORMAT_CSV 1
#define CLI_FORMAT_LIBSVM 2
#define CLI_FORMAT_IDX 3

/* `lupi unlearn --method sisa` and `lupi audit --attack` (the other
 * methods are LUPI_UNLEARN_*) */
#define CLI_METHOD_SISA 100
#define CLI_ATTACK_LOSS 0
#define CLI_ATTACK_LIRA 1

/* The options, one id each; opts.c describes them in one table. */
enum cli_opt {
	CLI_O_HELP, CLI_O_QUIET, CLI_O_JSON, CLI_O_THREADS, CLI_O_OUTPUT,
	/* training: the model's options */
	CLI_O_EPOCHS, CLI_O_BATCH, CLI_O_LR, CLI_O_HIDDEN, CLI_O_ACTIVATION,
	CLI_O_INIT, CLI_O_OPTIMIZER, CLI_O_MOMENTUM, CLI_O_WEIGHT_DECAY,
	CLI_O_DROPOUT, CLI_O_CLIP_NORM, CLI_O_SCHEDULE, CLI_O_STEP_SIZE,
	CLI_O_GAMMA, CLI_O_MIN_LR, CLI_O_SEED, CLI_O_VALID, CLI_O_PATIENCE,
	CLI_O_VIEW, CLI_O_NO_SHUFFLE,
	/* checkpoints of teacher and distill */
	CLI_O_CHECKPOINT, CLI_O_CHECKPOINT_EVERY, CLI_O_RESUME,
	/* distillation: the loss's options */
	CLI_O_TEACHER, CLI_O_TEACHER_OUTPUTS, CLI_O_OUTPUTS_KIND, CLI_O_LOSS,
	CLI_O_DIVERGENCE, CLI_O_TEMPERATURE, CLI_O_LAMBDA, CLI_O_FEATURE,
	CLI_O_BETA,
	/* compare */
	CLI_O_LAMBDAS, CLI_O_TEMPERATURES, CLI_O_SEEDS, CLI_O_TEST,
	CLI_O_TEST_FRACTION, CLI_O_TEACHER_HIDDEN,
	/* data: the reader's options */
	CLI_O_FORMAT, CLI_O_PRIVILEGED, CLI_O_TARGET, CLI_O_WEIGHT,
	CLI_O_IGNORE, CLI_O_NO_HEADER, CLI_O_NO_TARGET, CLI_O_DELIMITER,
	CLI_O_LABELS, CLI_O_POOL, CLI_O_MAX_ROWS, CLI_O_TASK,
	/* output, demo */
	CLI_O_PLOT, CLI_O_FASHION,
	/* privacy (cmd_privacy.c): DP-SGD, PATE, unlearning, audit */
	CLI_O_DP_NOISE, CLI_O_DP_CLIP, CLI_O_TARGET_EPSILON, CLI_O_DELTA,
	CLI_O_SAMPLE_RATE, CLI_O_DP_SEED, CLI_O_TEACHERS, CLI_O_AGGREGATION,
	CLI_O_NOISE, CLI_O_SIGMA1, CLI_O_THRESHOLD, CLI_O_FORGET,
	CLI_O_FORGET_CLASS, CLI_O_METHOD, CLI_O_UNLEARN_EPOCHS, CLI_O_SHARDS,
	CLI_O_SLICES, CLI_O_MEMBERS, CLI_O_NONMEMBERS, CLI_O_ATTACK,
	CLI_O_REFERENCE, CLI_O_SHADOWS,
	CLI_O_COUNT
};

/* The value of an option that sets a library option (or --threads). */
struct cli_value {
	int set;   /* given on the command line, or a command's own default */
	int64_t i; /* LUPI_TYPE_INT */
	double r;  /* LUPI_TYPE_DOUBLE */
};

struct cli_command;

/* Everything the command line said. Options of the library are in v[],
 * unset until given: the library's defaults then apply. */
struct cli {
	const char *prog;
	const struct cli_command *cmd;
	const char *command;
	const char *args[CLI_MAX_ARGS]; /* positional arguments */
	size_t n_args;
	struct cli_value v[CLI_O_COUNT];

	/* the tool's own options (defaults in opts.c's table) */
	double valid, test_fraction;
	size_t hidden[CLI_MAX_HIDDEN], n_hidden;
	size_t teacher_hidden[CLI_MAX_HIDDEN], n_teacher_hidden;
	int teacher_hidden_set;
	int loss, outputs_kind, format;
	const char *teacher, *teacher_outputs, *test;
	double lambdas[CLI_MAX_GRID], temps[CLI_MAX_GRID];
	size_t n_lambdas, n_temps;
	int lambdas_set, temps_set; /* given on the command line */
	const char *privileged, *target, *weight, *ignore, *labels;
	const char *output, *plot;
	const char *checkpoint; /* --checkpoint DIR */
	int64_t checkpoint_every;
	int resume;
	int quiet, json, help, fashion;
	/* privacy (cmd_privacy.c); the DP options are in v[] */
	int64_t teachers, unlearn_epochs, shards, slices, shadows;
	int aggregation, method, attack;
	/* --noise, --sigma1, --threshold, --forget-class: in v[] (set when
	   given) */
	const char *forget, *members, *nonmembers, *reference;
};

/* A subcommand: one row of opts.c's command table. */
struct cli_command {
	const char *name;
	const char *summary; /* one line for `lupi --help` */
	const char *synopsis;
	size_t min_args, max_args;
	unsigned groups; /* the option groups it accepts */
	/* the command's own defaults where it needs another than the
	   library's, each with the reason; ends with a NULL value */
	const struct cli_default *defaults;
	const char *about;
	int (*run)(struct cli *c);
};

struct cli_default {
	int opt;           /* CLI_O_* */
	const char *value; /* parsed like the command line's */
};

/* opts.c */
int cli_parse(struct cli *c, int argc, char **argv);
void cli_usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void cli_print_help(FILE *f, const char *command);
/* The library option an option sets, or NULL for the tool's own. */
const lupi_option *cli_library_option(int opt);
/* An option's value: the one given, else the library's default. */
int64_t cli_int(const struct cli *c, int opt);
double cli_real(const struct cli *c, int opt);
/* Sets every given option of a handle (LUPI_HANDLE_*) on h, except those
 * a command sets itself (view, task); returns a LUPI_* status and, on
 * failure, the option in *failed. */
int cli_apply_options(const struct cli *c, int handle, void *h, int *failed);
/* The option's long name, e.g. "epochs". */
const char *cli_option_name(int opt);
/* The name of value v of a named-value library option (e.g. "relu" for
 * ACTIVATION 1), from the library's list; "unknown" when it has none. */
const char *cli_value_name(int handle, const char *option, int64_t v,
			   char *buf, size_t size);

/* errors: prints "lupi: " + the library's message, returns CLI_EXIT_ERROR,
 * or CLI_EXIT_INTERRUPTED for LUPI_ECANCELLED */
int cli_fail(int code, const char *context);
/* prints "lupi: " + a message of the tool's own, returns CLI_EXIT_ERROR */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* data.c: model, when not NULL, is the model the data is for: without
 * --task the data gets its task, and a classifier's class count (so a file
 * that lacks the top class still matches the model's outputs) */
int cli_load_data(const struct cli *c, const char *path,
		  const lupi_model *model, lupi_dataset **out);
/* the library's name of a task (LUPI_READER_OPT_TASK's values) */
const char *cli_task_name(int task, char *buf, size_t size);
/* reads an n x k matrix of numbers from a CSV file (header line optional)
 * as a dataset of regular features only */
int cli_read_matrix(const char *path, lupi_dataset **out);
/* The library's split (stratified for labels): samples idx[0..n_held) are
 * held out, fraction of them; idx has lupi_dataset_rows(ds) entries. */
int cli_split(const lupi_dataset *ds, double fraction, uint64_t seed,
	      size_t *idx, size_t *n_held);
int cli_split_mode(const lupi_dataset *ds);

/* model.c */
size_t cli_model_outputs(const lupi_dataset *ds);
int cli_make_model(const struct cli *c, const lupi_dataset *ds, int view,
		   int teacher, lupi_model **out);
int cli_make_loss(const struct cli *c, int task, lupi_loss **out);
int cli_primary_metric(int task);
const char *cli_metric_name(int metric);
const char *cli_view_name(int view);
uint64_t cli_seed(const struct cli *c);

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
/* Makes SIGINT ask the running fit or comparison to stop (a second one
 * ends the process). */
void cli_catch_interrupt(void);
int cli_interrupted(void);
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
/* loads the model file path: 0, or an exit status after a message */
int cli_load_model(const char *path, lupi_model **out);
/* saves m to path (atomically, by the library) and says so; 0 or an exit
 * status */
int cli_save_model(const struct cli *c, struct cli_json *j,
		   const lupi_model *m, const char *path);
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

/* par.c (lupi: one process) or par_mpi.c (lupi-mpi: every rank of an
 * mpirun job runs the command; rank 0 reads the files and writes the
 * outputs, the others follow; doc/scaling.md). Errors are printed; 0 or
 * CLI_EXIT_ERROR, except resume (a LUPI_* code). */
int cli_par_init(int *argc, char ***argv); /* before cli_parse */
int cli_par_command(struct cli *c);        /* runs c->cmd */
int cli_par_finish(int rc);                /* the exit status */
int cli_par_rank(void);
int cli_par_size(void);
/* rank 0 reads, every rank gets the same dataset or model */
int cli_par_load_data(const struct cli *c, const char *path,
		      const lupi_model *model, lupi_dataset **out);
int cli_par_read_matrix(const char *path, lupi_dataset **out);
int cli_par_load_model(const char *path, lupi_model **out);
/* before a fit of m on the whole training part: rank 0's initial
 * weights (unless resumed), this rank's share of every batch
 * (lupi_model_set_share) and the gradient reduction */
int cli_par_fit_setup(lupi_model *m, int resumed);
/* whether any rank says stop (progress callbacks: every rank stops at the
 * same step) */
int cli_par_any(int flag);
/* after it: the rc of every rank (another failure than a stop ends the
 * job); the model is a whole model again (no share, no reduction) */
int cli_par_fit_done(lupi_model *m, int rc);
/* m continues from the checkpoint path (rank 0's file, on every rank):
 * 0, or CLI_EXIT_ERROR after a message */
int cli_par_resume(const struct cli *c, lupi_model *m, const char *path);
/* lupi_compare_run (lupi-mpi: lupi_mpi_compare_run, the cells shared by
 * the ranks): 0, or an exit status after a message */
int cli_par_compare_run(const struct cli *c, lupi_compare *cmp,
			const lupi_dataset *train, const lupi_dataset *test,
			lupi_progress_fn progress, void *user);
/* cmd_train.c: checks that path can be resumed (message on failure) */
int cli_resume_check(const struct cli *c, const char *path);

/* the handlers of the command table */
int cmd_teacher(struct cli *c);
int cmd_distill(struct cli *c);
int cmd_compare(struct cli *c);
int cmd_eval(struct cli *c);
int cmd_predict(struct cli *c);
int cmd_info(struct cli *c);
int cmd_help(struct cli *c);
int cmd_demo(struct cli *c); /* demo/demo.c */

/* cmd_privacy.c: private training in teacher, distill and train */
int cli_dp_given(const struct cli *c);
/* 0, or CLI_EXIT_USAGE after a usage error (options that do not fit) */
int cli_dp_check(const struct cli *c);
/* Trains m (a student of t with loss when t is not NULL) by DP-SGD with
 * the command line's DP options; returns a LUPI_* status. */
int cli_fit_dp(const struct cli *c, lupi_model *m, const lupi_teacher *t,
	       const lupi_loss *loss, const lupi_dataset *train,
	       const lupi_dataset *valid, struct cli_progress *p);
/* The privacy record of m as JSON, or as text after label; c (may be
 * NULL) adds the clip of a fit it ran. Returns 0. */
int cli_print_privacy(const struct cli *c, struct cli_json *j,
		      const lupi_model *m, const char *label);
int cmd_pate(struct cli *c);
int cmd_unlearn(struct cli *c);
int cmd_audit(struct cli *c);

#endif
