/*
 * opts.c - the command line of `lupi`: one table of options, the parser and
 * the help text generated from the same table, so they never disagree.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Option groups: each subcommand accepts the union of some groups. */
#define G_COMMON (1u << 0)
#define G_TRAIN (1u << 1)
#define G_KD (1u << 2)
#define G_DATA (1u << 3)
#define G_OUT (1u << 4)
#define G_TEACH (1u << 5)
#define G_CMP (1u << 6)
#define G_DEMO (1u << 7)
#define G_PLOT (1u << 8)
#define G_PRED (1u << 9)
#define G_VIEW (1u << 10)
#define G_FIT (1u << 11) /* validation: not compare, which holds none out */

enum {
	O_HELP, O_QUIET, O_JSON, O_THREADS, O_EPOCHS, O_BATCH, O_LR, O_HIDDEN,
	O_ACT, O_OPTIM, O_SEED, O_VALID, O_PATIENCE, O_VIEW, O_TEMP, O_LAMBDA,
	O_LOSS, O_DIV, O_TEACHER, O_TOUT, O_OKIND, O_LAMBDAS, O_TEMPS,
	O_SEEDS, O_TEST, O_TESTFRAC, O_THIDDEN, O_FORMAT, O_PRIV, O_TARGET,
	O_WEIGHT, O_IGNORE, O_NOHEADER, O_DELIM, O_LABELS, O_POOL, O_TASK,
	O_NOTARGET, O_OUTPUT, O_PLOT, O_FASHION, O_MAXROWS
};

struct opt_def {
	const char *name;
	char short_name;
	const char *arg; /* NULL for flags */
	int id;
	unsigned groups;
	const char *help;
};

static const struct opt_def opts[] = {
	{"help", 'h', NULL, O_HELP, G_COMMON, "show this help and exit"},
	{"quiet", 'q', NULL, O_QUIET, G_COMMON,
	 "no progress bar and no messages, only errors and results"},
	{"json", 0, NULL, O_JSON, G_COMMON,
	 "print the results as one JSON object on stdout"},
	{"threads", 0, "N", O_THREADS, G_COMMON,
	 "threads for BLAS and the library (0 = all cores) [0]"},
	{"output", 'o', "FILE", O_OUTPUT, G_OUT, "write the result to FILE"},
	{"epochs", 0, "N", O_EPOCHS, G_TRAIN, "training epochs [10]"},
	{"batch", 0, "N", O_BATCH, G_TRAIN, "minibatch size [128]"},
	{"lr", 0, "RATE", O_LR, G_TRAIN, "learning rate [0.001]"},
	{"hidden", 0, "N,N,...", O_HIDDEN, G_TRAIN,
	 "hidden layer sizes; empty for none (linear model) [64]"},
	{"activation", 0, "NAME", O_ACT, G_TRAIN,
	 "relu, tanh, sigmoid, gelu or identity [relu]"},
	{"optimizer", 0, "NAME", O_OPTIM, G_TRAIN,
	 "sgd, adam or adamw [adam]"},
	{"seed", 0, "N", O_SEED, G_TRAIN | G_DEMO,
	 "seed of initialisation, shuffling and splits [0]"},
	{"valid", 0, "FRACTION", O_VALID, G_FIT,
	 "hold out this fraction for validation, 0 for none [0.1]"},
	{"patience", 0, "N", O_PATIENCE, G_FIT,
	 "stop after N epochs without validation gain, 0 = never [0]"},
	{"view", 0, "VIEW", O_VIEW, G_VIEW,
	 "teacher input: privileged or both (X and X*) [privileged]"},
	{"teacher", 0, "FILE", O_TEACHER, G_TEACH,
	 "the teacher model file (from `lupi teacher`)"},
	{"teacher-outputs", 0, "FILE", O_TOUT, G_TEACH,
	 "CSV of teacher outputs, one row per sample, instead of --teacher"},
	{"outputs-kind", 0, "KIND", O_OKIND, G_TEACH,
	 "what --teacher-outputs holds: logits or probs [logits]"},
	{"loss", 0, "NAME", O_LOSS, G_KD,
	 "kd, logits (Ba & Caruana), sel (Zhao & Zhu) or hard [kd]"},
	{"divergence", 0, "NAME", O_DIV, G_KD,
	 "kd divergence: ce, kl, reverse-kl or js [ce]"},
	{"temperature", 'T', "T", O_TEMP, G_KD,
	 "distillation temperature; compare: the one value of --temperatures "
	 "[2]"},
	{"lambda", 0, "L", O_LAMBDA, G_KD,
	 "imitation weight in [0, 1], 0 = labels only; compare: the one value "
	 "of --lambdas [0.5]"},
	{"lambdas", 0, "L,L,...", O_LAMBDAS, G_CMP,
	 "imitation weights to compare [0.25,0.5,0.75]"},
	{"temperatures", 0, "T,T,...", O_TEMPS, G_CMP,
	 "temperatures to compare [1,2,4]"},
	{"seeds", 0, "N", O_SEEDS, G_CMP | G_DEMO,
	 "runs with seeds seed, seed+1, ... [compare 3; demo 5, synthetic 10, "
	 "Fashion-MNIST 1]"},
	{"test", 0, "FILE", O_TEST, G_CMP, "test data (same format options)"},
	{"test-fraction", 0, "F", O_TESTFRAC, G_CMP,
	 "without --test, hold out this fraction for testing [0.3]"},
	{"teacher-hidden", 0, "N,...", O_THIDDEN, G_CMP,
	 "hidden layers of the teacher [same as --hidden]"},
	{"format", 'f', "FMT", O_FORMAT, G_DATA,
	 "csv, libsvm or idx [from the extension; csv]"},
	{"privileged", 'p', "COLS", O_PRIV, G_DATA,
	 "columns (CSV) or feature indices (LIBSVM) forming X*, e.g. 5-20,23 "
	 "or column names"},
	{"target", 0, "COLS", O_TARGET, G_DATA,
	 "the label or target column(s) [the last column]"},
	{"weight", 0, "COL", O_WEIGHT, G_DATA, "per-sample weight column"},
	{"ignore", 0, "COLS", O_IGNORE, G_DATA, "columns to skip"},
	{"no-header", 0, NULL, O_NOHEADER, G_DATA,
	 "the CSV's first line is data, not column names"},
	{"no-target", 0, NULL, O_NOTARGET, G_PRED,
	 "the data has no label column (predict only)"},
	{"delimiter", 'd', "C", O_DELIM, G_DATA,
	 "CSV field separator, one character or 'tab' [,]"},
	{"labels", 0, "FILE", O_LABELS, G_DATA, "IDX: the label file"},
	{"pool", 0, "P", O_POOL, G_DATA,
	 "IDX: X = P x P block means, X* = the image; 1 to 64 [1: no X*]"},
	{"max-rows", 0, "N", O_MAXROWS, G_DATA,
	 "read only the first N samples, 0 = all [0]"},
	{"task", 0, "TASK", O_TASK, G_DATA,
	 "classification, binary or regression [eval, predict and distill "
	 "--teacher: the model's; else classification]"},
	{"plot", 0, "FILE.svg", O_PLOT, G_PLOT, "draw an SVG plot"},
	{"fashion-mnist", 0, NULL, O_FASHION, G_DEMO,
	 "run the Fashion-MNIST demo instead (needs "
	 "/usr/share/datasets/fashion-mnist)"},
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

struct command {
	const char *name;
	const char *synopsis;
	size_t min_args, max_args;
	unsigned groups;
	const char *about;
};

static const struct command commands[] = {
	{"demo", "demo [--fashion-mnist]", 0, 0, G_COMMON | G_DEMO,
	 "Runs the built-in experiments: handwritten digits with the 8x8\n"
	 "image as privileged information and a 4x4 image (clean, then\n"
	 "noisy) as the regular view, and the 'relevant features'\n"
	 "experiment of Lopez-Paz et al. (2016). Needs no files and no\n"
	 "network."},
	{"teacher", "teacher DATA -o teacher.lupi", 1, 1,
	 G_COMMON | G_TRAIN | G_FIT | G_DATA | G_OUT | G_PLOT | G_VIEW,
	 "Trains a teacher on the privileged features X* of DATA (or on X and\n"
	 "X* with --view both) and saves it."},
	{"distill", "distill DATA --teacher teacher.lupi -o student.lupi", 1, 1,
	 G_COMMON | G_TRAIN | G_FIT | G_KD | G_DATA | G_OUT | G_TEACH |
	 G_PLOT,
	 "Trains a student on the regular features X of DATA from the labels\n"
	 "and a teacher: a model file, or outputs computed elsewhere\n"
	 "(--teacher-outputs, one CSV row per sample of DATA)."},
	{"compare", "compare DATA [--test FILE]", 1, 1,
	 G_COMMON | G_TRAIN | G_KD | G_DATA | G_CMP | G_PLOT,
	 "Runs the LUPI experiment: teacher on X*, a student on labels only,\n"
	 "and distilled students for every lambda x temperature, over several\n"
	 "seeds; prints mean +- std of the test metric and the paired\n"
	 "difference to the hard-label student."},
	{"eval", "eval MODEL DATA", 2, 2, G_COMMON | G_DATA,
	 "Prints the metrics of a saved model on DATA."},
	{"predict", "predict MODEL DATA [-o out.csv]", 2, 2,
	 G_COMMON | G_DATA | G_OUT | G_PRED,
	 "Writes one CSV row per sample of DATA: the probabilities (or\n"
	 "values) and the predicted class. To stdout without -o."},
	{"info", "info MODEL", 1, 1, G_COMMON,
	 "Prints what a model file holds: task, shapes, layers, training\n"
	 "options, parameter count. A file that loads passed its checksums."},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lupi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'lupi --help'.\n", stderr);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

#define HELP_COL 29 /* where option descriptions start */

/* Prints text from column HELP_COL, wrapped at 80 columns. */
static void print_wrapped(FILE *f, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t len = strlen(p), cut = len;

		if (len > 80 - HELP_COL) {
			cut = 80 - HELP_COL;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = 80 - HELP_COL;
		}
		fprintf(f, "%.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			fprintf(f, "%*s", HELP_COL, "");
	}
}

static void print_options(FILE *f, unsigned groups)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];
		const struct opt_def *o = &opts[i];

		if (!(o->groups & groups))
			continue;
		if (o->short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s",
				 o->short_name, o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name,
				 o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) > HELP_COL - 3)
			fprintf(f, "  %s\n%*s", left, HELP_COL, "");
		else
			fprintf(f, "  %-*s ", HELP_COL - 3, left);
		print_wrapped(f, o->help);
	}
}

static void print_exit_codes(FILE *f)
{
	fputs("\nExit status: 0 success, 1 a library or data error (the "
	      "message names the\nfile, line and column), 2 a usage error.\n",
	      f);
}

void cli_print_help(FILE *f, const char *command)
{
	const struct command *cmd = command ? find_command(command) : NULL;

	if (cmd) {
		fprintf(f, "Usage: lupi %s [OPTIONS]\n\n%s\n\nOptions:\n",
			cmd->synopsis, cmd->about);
		print_options(f, cmd->groups);
		if (cmd->groups & G_DATA)
			fputs("\nDATA is a CSV file (the last column is the "
			      "label unless --target says\notherwise), a "
			      "LIBSVM file, or an IDX image file with --labels;"
			      "\n.gz files are read directly.\n",
			      f);
		print_exit_codes(f);
		return;
	}
	fputs("Usage: lupi COMMAND [OPTIONS] [FILES]\n"
	      "       lupi --version | --help | COMMAND --help\n\n"
	      "Learning using privileged information: train a teacher on "
	      "features that\nexist only at training time (X*), then a small "
	      "student on the features\nthat exist at prediction time (X), "
	      "guided by the teacher.\n\nCommands:\n",
	      f);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name,
			commands[i].synopsis);
	fputs("\nExample:\n"
	      "  lupi teacher data.csv --privileged 5-20 -o teacher.lupi\n"
	      "  lupi distill data.csv --privileged 5-20 --teacher "
	      "teacher.lupi -o student.lupi\n"
	      "  lupi predict student.lupi new.csv --no-target -o out.csv\n"
	      "\nCommon options:\n",
	      f);
	print_options(f, G_COMMON);
	fprintf(f, "  %-*s print the version and exit\n", HELP_COL - 3,
		"-V, --version");
	print_exit_codes(f);
}

/* ---- value parsers: each returns 0 or -1 after printing a usage error -- */

static int parse_int(const char *name, const char *s, int64_t lo, int64_t hi,
		     int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi) {
		cli_usage_error("--%s: '%s' is not an integer in [%lld, %lld]",
				name, s, (long long)lo, (long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_double(const char *name, const char *s, double lo,
			double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v < lo ||
	    v > hi) {
		cli_usage_error("--%s: '%s' is not a number in [%g, %g]", name,
				s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_sizes(const char *name, const char *s, size_t *out,
		       size_t *n)
{
	char buf[256];
	char *tok, *save = NULL;

	*n = 0;
	if (strlen(s) >= sizeof(buf)) {
		cli_usage_error("--%s: list too long", name);
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int64_t v;

		if (*n == CLI_MAX_HIDDEN) {
			cli_usage_error("--%s: at most %d layers", name,
					CLI_MAX_HIDDEN);
			return -1;
		}
		if (parse_int(name, tok, 1, 1048576, &v))
			return -1;
		out[(*n)++] = (size_t)v;
	}
	return 0;
}

static int parse_doubles(const char *name, const char *s, double lo,
			 double hi, double *out, size_t *n)
{
	char buf[1024];
	char *tok, *save = NULL;

	*n = 0;
	if (strlen(s) >= sizeof(buf)) {
		cli_usage_error("--%s: list too long", name);
		return -1;
	}
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == CLI_MAX_GRID) {
			cli_usage_error("--%s: at most %d values", name,
					CLI_MAX_GRID);
			return -1;
		}
		if (parse_double(name, tok, lo, hi, &out[*n]))
			return -1;
		(*n)++;
	}
	if (*n == 0) {
		cli_usage_error("--%s: give at least one value", name);
		return -1;
	}
	return 0;
}

struct name_value {
	const char *name;
	int value;
};

static int parse_enum(const char *opt, const char *s,
		      const struct name_value *tab, size_t n, int *out)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(tab[i].name, s) == 0) {
			*out = tab[i].value;
			return 0;
		}
	}
	cli_usage_error("--%s: unknown value '%s'", opt, s);
	return -1;
}

#define ENUM(opt, s, tab, out) \
	parse_enum(opt, s, tab, sizeof(tab) / sizeof(tab[0]), out)

static const struct name_value activations[] = {
	{"identity", LUPI_ACT_IDENTITY}, {"relu", LUPI_ACT_RELU},
	{"tanh", LUPI_ACT_TANH},         {"sigmoid", LUPI_ACT_SIGMOID},
	{"gelu", LUPI_ACT_GELU},
};
static const struct name_value optimizers[] = {
	{"sgd", LUPI_OPTIM_SGD},
	{"adam", LUPI_OPTIM_ADAM},
	{"adamw", LUPI_OPTIM_ADAMW},
};
static const struct name_value losses[] = {
	{"kd", LUPI_LOSS_KD},
	{"logits", LUPI_LOSS_LOGITS},
	{"sel", LUPI_LOSS_SEL},
	{"hard", LUPI_LOSS_HARD},
};
static const struct name_value divergences[] = {
	{"ce", LUPI_DIV_CE},
	{"kl", LUPI_DIV_KL},
	{"reverse-kl", LUPI_DIV_REVERSE_KL},
	{"js", LUPI_DIV_JS},
};
static const struct name_value kinds[] = {
	{"logits", LUPI_OUTPUTS_LOGITS},
	{"probs", LUPI_OUTPUTS_PROBS},
};
static const struct name_value formats[] = {
	{"csv", CLI_FORMAT_CSV},
	{"libsvm", CLI_FORMAT_LIBSVM},
	{"svmlight", CLI_FORMAT_LIBSVM},
	{"idx", CLI_FORMAT_IDX},
};
static const struct name_value tasks[] = {
	{"classification", LUPI_TASK_CLASSIFICATION},
	{"binary", LUPI_TASK_BINARY},
	{"regression", LUPI_TASK_REGRESSION},
};
static const struct name_value views[] = {
	{"privileged", LUPI_VIEW_PRIVILEGED},
	{"both", LUPI_VIEW_BOTH},
};

static int parse_delimiter(const char *s, char *out)
{
	if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0) {
		*out = '\t';
		return 0;
	}
	if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n') {
		cli_usage_error("--delimiter: '%s' is not one character", s);
		return -1;
	}
	*out = s[0];
	return 0;
}

static int apply(struct cli *c, const struct opt_def *o, const char *v)
{
	int64_t i;
	const char *n = o->name;

	switch (o->id) {
	case O_HELP: c->help = 1; return 0;
	case O_QUIET: c->quiet = 1; return 0;
	case O_JSON: c->json = 1; return 0;
	case O_NOHEADER: c->no_header = 1; return 0;
	case O_NOTARGET: c->no_target = 1; return 0;
	case O_FASHION: c->fashion = 1; return 0;
	case O_THREADS:
		if (parse_int(n, v, 0, 1024, &i))
			return -1;
		c->threads = (int)i;
		return 0;
	case O_EPOCHS: return parse_int(n, v, 1, 1000000, &c->epochs);
	case O_BATCH: return parse_int(n, v, 1, 1048576, &c->batch);
	case O_SEED: return parse_int(n, v, 0, INT64_MAX, &c->seed);
	case O_PATIENCE: return parse_int(n, v, 0, 1000000, &c->patience);
	case O_MAXROWS: return parse_int(n, v, 0, INT64_MAX, &c->max_rows);
	case O_SEEDS:
		if (parse_int(n, v, 1, 1000, &i))
			return -1;
		c->seeds = (unsigned)i;
		return 0;
	case O_POOL:
		if (parse_int(n, v, 1, CLI_MAX_POOL, &i))
			return -1;
		c->pool = (int)i;
		return 0;
	case O_LR: return parse_double(n, v, 1e-12, 1e3, &c->lr);
	case O_VALID: return parse_double(n, v, 0, 0.9, &c->valid);
	case O_TESTFRAC: return parse_double(n, v, 0.01, 0.99,
					     &c->test_fraction);
	case O_TEMP: return parse_double(n, v, 1e-6, 1000, &c->temperature);
	case O_LAMBDA: return parse_double(n, v, 0, 1, &c->lambda);
	case O_LAMBDAS:
		c->lambdas_set = 1;
		return parse_doubles(n, v, 0, 1, c->lambdas, &c->n_lambdas);
	case O_TEMPS:
		c->temps_set = 1;
		return parse_doubles(n, v, 1e-6, 1000, c->temps, &c->n_temps);
	case O_HIDDEN:
		c->hidden_set = 1;
		return parse_sizes(n, v, c->hidden, &c->n_hidden);
	case O_THIDDEN:
		c->teacher_hidden_set = 1;
		return parse_sizes(n, v, c->teacher_hidden,
				   &c->n_teacher_hidden);
	case O_ACT: return ENUM(n, v, activations, &c->activation);
	case O_OPTIM: return ENUM(n, v, optimizers, &c->optimizer);
	case O_LOSS: return ENUM(n, v, losses, &c->loss);
	case O_DIV: return ENUM(n, v, divergences, &c->divergence);
	case O_OKIND: return ENUM(n, v, kinds, &c->outputs_kind);
	case O_FORMAT: return ENUM(n, v, formats, &c->format);
	case O_TASK: return ENUM(n, v, tasks, &c->task);
	case O_VIEW: return ENUM(n, v, views, &c->view);
	case O_DELIM: return parse_delimiter(v, &c->delimiter);
	case O_TEACHER: c->teacher = v; return 0;
	case O_TOUT: c->teacher_outputs = v; return 0;
	case O_TEST: c->test = v; return 0;
	case O_PRIV: c->privileged = v; return 0;
	case O_TARGET: c->target = v; return 0;
	case O_WEIGHT: c->weight = v; return 0;
	case O_IGNORE: c->ignore = v; return 0;
	case O_LABELS: c->labels = v; return 0;
	case O_OUTPUT: c->output = v; return 0;
	case O_PLOT: c->plot = v; return 0;
	}
	return -1;
}

static void set_defaults(struct cli *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	c->epochs = c->batch = c->seed = c->patience = -1;
	c->lr = c->temperature = c->lambda = NAN;
	c->valid = 0.1;
	c->hidden[0] = 64;
	c->n_hidden = 1;
	c->activation = c->optimizer = -1;
	c->view = LUPI_VIEW_PRIVILEGED;
	c->loss = LUPI_LOSS_KD;
	c->divergence = -1;
	c->outputs_kind = LUPI_OUTPUTS_LOGITS;
	c->lambdas[0] = 0.25;
	c->lambdas[1] = 0.5;
	c->lambdas[2] = 0.75;
	c->n_lambdas = 3;
	c->temps[0] = 1;
	c->temps[1] = 2;
	c->temps[2] = 4;
	c->n_temps = 3;
	c->test_fraction = 0.3;
	c->delimiter = ',';
	c->pool = 1;
	c->task = -1;
}

static const struct opt_def *find_long(const char *name, size_t len,
				       unsigned groups)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((opts[i].groups & groups) &&
		    strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt_def *find_short(char s, unsigned groups)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if ((opts[i].groups & groups) && opts[i].short_name == s)
			return &opts[i];
	return NULL;
}

/* Parses one option at argv[*i]; returns 0, or -1 after a usage error. */
static int parse_option(struct cli *c, unsigned groups, int argc,
			char **argv, int *i)
{
	const char *a = argv[*i], *value = NULL;
	const struct opt_def *o;

	if (a[1] == '-') {
		const char *eq = strchr(a + 2, '=');
		size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);

		o = find_long(a + 2, len, groups);
		if (eq)
			value = eq + 1;
	} else {
		o = a[2] == '\0' ? find_short(a[1], groups) : NULL;
	}
	if (!o) {
		cli_usage_error("unknown option '%s'%s%s", a,
				c->command ? " for " : "",
				c->command ? c->command : "");
		return -1;
	}
	if (!o->arg) {
		if (value) {
			cli_usage_error("--%s takes no value", o->name);
			return -1;
		}
		return apply(c, o, NULL);
	}
	if (!value) {
		if (*i + 1 >= argc) {
			cli_usage_error("--%s needs a value (%s)", o->name,
					o->arg);
			return -1;
		}
		value = argv[++*i];
	}
	return apply(c, o, value);
}

/*
 * Returns 0 to run c->command, 1 when help or the version was printed
 * (exit 0), -1 after a usage error (exit 2).
 */
int cli_parse(struct cli *c, int argc, char **argv)
{
	const struct command *cmd;
	unsigned groups = G_COMMON;
	int only_args = 0;

	set_defaults(c, argv[0]);
	if (argc < 2) {
		cli_usage_error("no command given");
		return -1;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("lupi %d.%d.%d (liblupi %s)\n", LUPI_VERSION_MAJOR,
		       LUPI_VERSION_MINOR, LUPI_VERSION_PATCH,
		       lupi_version_string());
		return 1;
	}
	if (argv[1][0] == '-') {
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			cli_print_help(stdout, NULL);
			return 1;
		}
		cli_usage_error("unknown option '%s'", argv[1]);
		return -1;
	}
	if (strcmp(argv[1], "help") == 0) {
		cli_print_help(stdout, argc > 2 ? argv[2] : NULL);
		return 1;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		cli_usage_error("unknown command '%s'", argv[1]);
		return -1;
	}
	c->command = cmd->name;
	groups = cmd->groups;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!only_args && strcmp(a, "--") == 0) {
			only_args = 1;
		} else if (!only_args && a[0] == '-' && a[1] != '\0') {
			if (parse_option(c, groups, argc, argv, &i))
				return -1;
		} else if (c->n_args < cmd->max_args) {
			c->args[c->n_args++] = a;
		} else {
			cli_usage_error("%s: unexpected argument '%s'",
					cmd->name, a);
			return -1;
		}
	}
	if (c->help) {
		cli_print_help(stdout, cmd->name);
		return 1;
	}
	if (c->n_args < cmd->min_args) {
		cli_usage_error("%s: missing argument; usage: lupi %s",
				cmd->name, cmd->synopsis);
		return -1;
	}
	return 0;
}
