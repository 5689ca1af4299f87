/*
 * opts.c - the command line of `lupi`: one table of commands and one table
 * of options, the parser, and the help generated from both, so they never
 * disagree. An option that sets a library option names it (handle and
 * name), and its range, default and value names come from the library's
 * introspection: the tool restates none of them.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
#define G_FIT (1u << 11) /* validation, checkpoints: not compare */
/* privacy (cmd_privacy.c) */
#define G_DP (1u << 20)     /* private training: teacher, distill, train */
#define G_PATE (1u << 21)
#define G_UNL (1u << 22)    /* unlearn */
#define G_AUD (1u << 23)    /* audit */
#define G_TESTF (1u << 24)  /* --test FILE outside compare */
#define G_NOISE (1u << 25)  /* --delta and --dp-seed: G_DP and pate */

/* Flags of an option. */
#define F_SELF (1u << 0) /* a library option the command sets itself */
#define F_CHAR (1u << 1) /* an integer option given as one character */
#define F_GRID (1u << 2) /* a list, each value in the range of `grid_of` */

struct opt_def {
	const char *name;
	char short_name;
	const char *arg; /* NULL for flags */
	unsigned groups;
	int handle;             /* LUPI_HANDLE_* of the option it sets, or 0 */
	const char *lib;        /* the library's name, when not `name` */
	const char *flag_value; /* a flag setting a library option: its value */
	const char *dflt;       /* the tool's own options: the default */
	unsigned flags;
	int grid_of;            /* F_GRID: the option whose range applies */
	const char *help;       /* NULL: the library's doc line */
};

#define MODEL LUPI_HANDLE_MODEL
#define LOSS LUPI_HANDLE_LOSS
#define READER LUPI_HANDLE_READER
#define COMPARE LUPI_HANDLE_COMPARE
#define DP LUPI_HANDLE_DP

/* Indexed by CLI_O_*; --help lists the options in this order. */
static const struct opt_def opts[CLI_O_COUNT] = {
	[CLI_O_HELP] = {"help", 'h', NULL, G_COMMON, .help =
		"show this help and exit"},
	[CLI_O_QUIET] = {"quiet", 'q', NULL, G_COMMON, .help =
		"no progress bar and no messages, only errors and results"},
	[CLI_O_JSON] = {"json", 0, NULL, G_COMMON, .help =
		"print the results as one JSON object on stdout"},
	[CLI_O_THREADS] = {"threads", 0, "N", G_COMMON, .help =
		"threads of the library, 0 = the environment's "
		"OPENBLAS_NUM_THREADS or all cores [0]"},
	[CLI_O_OUTPUT] = {"output", 'o', "FILE", G_OUT, .help =
		"write the result to FILE"},

	[CLI_O_EPOCHS] = {"epochs", 0, "N", G_TRAIN, MODEL, .help =
		"training epochs"},
	[CLI_O_BATCH] = {"batch", 0, "N", G_TRAIN, MODEL, .help =
		"minibatch size"},
	[CLI_O_LR] = {"lr", 0, "RATE", G_TRAIN, MODEL, .help =
		"learning rate"},
	[CLI_O_HIDDEN] = {"hidden", 0, "N,N,...", G_TRAIN, .dflt = "64",
		.help = "hidden layer sizes; empty for none (linear model)"},
	[CLI_O_ACTIVATION] = {"activation", 0, "NAME", G_TRAIN, MODEL, .help =
		"activation of the hidden layers"},
	[CLI_O_INIT] = {"init", 0, "NAME", G_TRAIN, MODEL, .help =
		"weight initialisation"},
	[CLI_O_OPTIMIZER] = {"optimizer", 0, "NAME", G_TRAIN, MODEL, .help =
		"optimiser"},
	[CLI_O_MOMENTUM] = {"momentum", 0, "M", G_TRAIN, MODEL, .help =
		"SGD momentum"},
	[CLI_O_WEIGHT_DECAY] = {"weight-decay", 0, "W", G_TRAIN, MODEL,
		.help = "weight decay (L2; decoupled with adamw)"},
	[CLI_O_DROPOUT] = {"dropout", 0, "P", G_TRAIN, MODEL, .help =
		"dropout on hidden activations"},
	[CLI_O_CLIP_NORM] = {"clip-norm", 0, "C", G_TRAIN, MODEL, .help =
		"clip the gradient's global norm, 0 = off"},
	[CLI_O_SCHEDULE] = {"schedule", 0, "NAME", G_TRAIN, MODEL, .help =
		"learning-rate schedule by epoch"},
	[CLI_O_STEP_SIZE] = {"step-size", 0, "N", G_TRAIN, MODEL, .help =
		"step schedule: epochs per decay"},
	[CLI_O_GAMMA] = {"gamma", 0, "G", G_TRAIN, MODEL, .help =
		"step schedule: decay factor"},
	[CLI_O_MIN_LR] = {"min-lr", 0, "RATE", G_TRAIN, MODEL, .help =
		"cosine schedule: the floor"},
	[CLI_O_SEED] = {"seed", 0, "N", G_TRAIN | G_DEMO | G_UNL | G_AUD, MODEL,
		.help =
		"seed of initialisation, shuffling and splits"},
	[CLI_O_VALID] = {"valid", 0, "FRACTION", G_FIT, .dflt = "0.1",
		.help = "hold out this fraction for validation, 0 for none"},
	[CLI_O_PATIENCE] = {"patience", 0, "N", G_FIT, MODEL, .help =
		"stop after N epochs without validation gain, 0 = never"},
	[CLI_O_VIEW] = {"view", 0, "VIEW", G_VIEW, MODEL, .flags = F_SELF,
		.help = "the teacher's input"},
	[CLI_O_NO_SHUFFLE] = {"no-shuffle", 0, NULL, G_TRAIN, MODEL,
		"shuffle", "0", .help = "keep the samples' order in every "
		"epoch (lupi-mpi: the same batches at any number of ranks)"},
	[CLI_O_CHECKPOINT] = {"checkpoint", 0, "DIR", G_FIT, .help =
		"write a checkpoint (model, optimiser, position) into DIR, "
		"created if missing"},
	[CLI_O_CHECKPOINT_EVERY] = {"checkpoint-every", 0, "K", G_FIT,
		.dflt = "100", .help = "with --checkpoint: every K optimiser "
		"steps"},
	[CLI_O_RESUME] = {"resume", 0, NULL, G_FIT, .help =
		"continue from the checkpoint in --checkpoint DIR: the result "
		"is that of a run never stopped"},

	[CLI_O_TEACHER] = {"teacher", 0, "FILE", G_TEACH, .help =
		"the teacher model file (from `lupi teacher`)"},
	[CLI_O_TEACHER_OUTPUTS] = {"teacher-outputs", 0, "FILE", G_TEACH,
		.help = "CSV of teacher outputs, one row per sample, instead "
			"of --teacher"},
	[CLI_O_OUTPUTS_KIND] = {"outputs-kind", 0, "KIND", G_TEACH,
		.dflt = "logits", .help = "what --teacher-outputs holds: logits "
		"or probs"},
	[CLI_O_LOSS] = {"loss", 0, "NAME", G_KD, .dflt = "kd", .help =
		"kd, logits (Ba & Caruana), sel (Zhao & Zhu) or hard"},
	[CLI_O_DIVERGENCE] = {"divergence", 0, "NAME", G_KD, LOSS, .help =
		"kd divergence"},
	[CLI_O_TEMPERATURE] = {"temperature", 'T', "T", G_KD, LOSS, .help =
		"distillation temperature; compare: the one value of "
		"--temperatures"},
	[CLI_O_LAMBDA] = {"lambda", 0, "L", G_KD, LOSS, .help =
		"imitation weight, 0 = labels only; compare: the one value of "
		"--lambdas"},
	[CLI_O_FEATURE] = {"feature", 0, "NAME", G_KD, LOSS, .help =
		"feature loss between the last hidden layers, weighted by "
		"--beta"},
	[CLI_O_BETA] = {"beta", 0, "B", G_KD, LOSS, .help =
		"weight of the feature loss"},

	/* The library's default grid is one cell, lambda 0.5 and T 1; a
	   comparison is there to search, so the tool's grid has 3 x 3. */
	[CLI_O_LAMBDAS] = {"lambdas", 0, "L,L,...", G_CMP, .dflt =
		"0.25,0.5,0.75", .flags = F_GRID, .grid_of = CLI_O_LAMBDA,
		.help = "imitation weights to compare"},
	[CLI_O_TEMPERATURES] = {"temperatures", 0, "T,T,...", G_CMP, .dflt =
		"1,2,4", .flags = F_GRID, .grid_of = CLI_O_TEMPERATURE,
		.help = "temperatures to compare"},
	[CLI_O_SEEDS] = {"seeds", 0, "N", G_CMP | G_DEMO, COMPARE, "repeats",
		.help = "runs with seeds seed, seed+1, ..."},
	[CLI_O_TEST] = {"test", 0, "FILE", G_CMP | G_TESTF, .help =
		"test data (same format options)"},
	[CLI_O_TEST_FRACTION] = {"test-fraction", 0, "F", G_CMP, .dflt =
		"0.3", .help = "without --test, hold out this fraction for "
		"testing"},
	[CLI_O_TEACHER_HIDDEN] = {"teacher-hidden", 0, "N,...", G_CMP, .help =
		"hidden layers of the teacher [same as --hidden]"},

	[CLI_O_FORMAT] = {"format", 'f', "FMT", G_DATA, .help =
		"csv, libsvm or idx [from the extension; csv]"},
	[CLI_O_PRIVILEGED] = {"privileged", 'p', "COLS", G_DATA, .help =
		"columns (CSV) or feature indices (LIBSVM) forming X*, e.g. "
		"5-20,23 or column names"},
	[CLI_O_TARGET] = {"target", 0, "COLS", G_DATA, .help =
		"the label or target column(s) [the last column]"},
	[CLI_O_WEIGHT] = {"weight", 0, "COL", G_DATA, .help =
		"per-sample weight column"},
	[CLI_O_IGNORE] = {"ignore", 0, "COLS", G_DATA, .help =
		"columns to skip"},
	[CLI_O_NO_HEADER] = {"no-header", 0, NULL, G_DATA, READER, "header",
		"0", .help = "the CSV's first line is data, not column names"},
	[CLI_O_NO_TARGET] = {"no-target", 0, NULL, G_PRED, READER, "task",
		"none", .flags = F_SELF, .help =
		"the data has no label column (predict only)"},
	[CLI_O_DELIMITER] = {"delimiter", 'd', "C", G_DATA, READER,
		.flags = F_CHAR, .help = "CSV field separator, one character "
		"or 'tab'"},
	[CLI_O_LABELS] = {"labels", 0, "FILE", G_DATA, .help =
		"IDX: the label file"},
	[CLI_O_POOL] = {"pool", 0, "P", G_DATA, READER, "idx_pool", .help =
		"IDX: X = P x P block means, X* = the image; 1: X = the image, "
		"no X*"},
	[CLI_O_MAX_ROWS] = {"max-rows", 0, "N", G_DATA, READER, .help =
		"read only the first N samples, 0 = all"},
	[CLI_O_TASK] = {"task", 0, "TASK", G_DATA, READER, .flags = F_SELF,
		.help = "the targets' task (eval, predict and distill "
		"--teacher: the model's)"},

	[CLI_O_PLOT] = {"plot", 0, "FILE.svg", G_PLOT, .help =
		"draw an SVG plot"},
	[CLI_O_FASHION] = {"fashion-mnist", 0, NULL, G_DEMO, .help =
		"run the Fashion-MNIST demo instead (needs "
		"/usr/share/datasets/fashion-mnist)"},

	/* private training: --dp-noise or --target-epsilon turns it on */
	[CLI_O_DP_NOISE] = {"dp-noise", 0, "SIGMA", G_DP, DP, "noise",
		.help = "train privately (DP-SGD) with noise multiplier SIGMA"},
	[CLI_O_DP_CLIP] = {"dp-clip", 0, "C", G_DP, DP, "clip", .help =
		"DP-SGD: clip each sample's gradient to L2 norm C"},
	[CLI_O_TARGET_EPSILON] = {"target-epsilon", 0, "EPS", G_DP, DP,
		"target_epsilon", .help = "train privately with the smallest "
		"noise that reaches EPS (at --delta)"},
	[CLI_O_DELTA] = {"delta", 0, "DELTA", G_NOISE, DP, .help =
		"delta of the (epsilon, delta) guarantee"},
	[CLI_O_SAMPLE_RATE] = {"sample-rate", 0, "Q", G_DP, DP, "sample_rate",
		.help = "DP-SGD: Poisson sampling rate, 0 = --batch / samples"},
	[CLI_O_DP_SEED] = {"dp-seed", 0, "N", G_NOISE, DP, "seed", .help =
		"noise seed, 0 = from the operating system; others make the "
		"noise predictable: for tests only"},
	/* PATE */
	[CLI_O_TEACHERS] = {"teachers", 0, "K", G_PATE, .dflt = "10", .help =
		"teachers, each on one of K disjoint shards of PRIVATE"},
	[CLI_O_AGGREGATION] = {"aggregation", 0, "NAME", G_PATE, .dflt =
		"gnmax", .help = "noisy vote aggregation: laplace, gnmax or "
		"confident (GNMax where the noisy plurality reaches "
		"--threshold)"},
	[CLI_O_NOISE] = {"noise", 0, "S", G_PATE, .help =
		"the votes' noise: Laplace scale b, or Gaussian sigma "
		"(required)"},
	[CLI_O_SIGMA1] = {"sigma1", 0, "S", G_PATE, .help =
		"confident: noise of the threshold check (required)"},
	[CLI_O_THRESHOLD] = {"threshold", 0, "T", G_PATE, .help =
		"confident: votes the noisy plurality must reach (required)"},
	/* unlearning */
	[CLI_O_FORGET] = {"forget", 0, "FILE", G_UNL, .help =
		"the samples to forget: a file of sample numbers of DATA, "
		"0 = its first sample"},
	[CLI_O_FORGET_CLASS] = {"forget-class", 0, "K", G_UNL, .help =
		"forget every sample of class K"},
	[CLI_O_METHOD] = {"method", 0, "NAME", G_UNL, .dflt = "retrain",
		.help = "retrain, sisa, random-teacher, bad-teacher or scrub"},
	[CLI_O_UNLEARN_EPOCHS] = {"unlearn-epochs", 0, "N", G_UNL, .dflt =
		"2", .help = "epochs of the distillation methods"},
	[CLI_O_SHARDS] = {"shards", 0, "N", G_UNL, .dflt = "5", .help =
		"sisa: shards, each with its own model"},
	[CLI_O_SLICES] = {"slices", 0, "N", G_UNL, .dflt = "1", .help =
		"sisa: slices of a shard, trained in stages with a checkpoint "
		"before each; a deletion resumes at its slice"},
	/* membership inference */
	[CLI_O_MEMBERS] = {"members", 0, "FILE", G_AUD, .help =
		"samples the models were trained on (required)"},
	[CLI_O_NONMEMBERS] = {"nonmembers", 0, "FILE", G_AUD, .help =
		"samples they never saw, also the test set (required)"},
	[CLI_O_ATTACK] = {"attack", 0, "NAME", G_AUD, .dflt = "loss", .help =
		"loss (loss threshold) or lira (offline LiRA, needs "
		"--reference)"},
	[CLI_O_REFERENCE] = {"reference", 0, "FILE", G_AUD, .help =
		"lira: data for the shadow models, not in --members or "
		"--nonmembers"},
	[CLI_O_SHADOWS] = {"shadows", 0, "N", G_AUD, .dflt = "4", .help =
		"lira: shadow models, each on a random half of --reference"},
};

/* A teacher is trained on X* (or X and X*): that is what it is for. The
 * library's default view is the regular one, right for every other model. */
static const struct cli_default teacher_defaults[] = {
	{CLI_O_VIEW, "privileged"},
	{0, NULL},
};

/* The one table of subcommands: dispatch, --help and COMMAND --help. */
static const struct cli_command commands[] = {
	{"demo", "run the built-in experiments (no files needed)",
	 "demo [--fashion-mnist]", 0, 0, G_COMMON | G_DEMO, NULL,
	 "Runs the built-in experiments: handwritten digits with the 8x8\n"
	 "image as privileged information and a 4x4 image (clean, then\n"
	 "noisy) as the regular view, and the 'relevant features'\n"
	 "experiment of Lopez-Paz et al. (2016). Needs no files and no\n"
	 "network. Without --seeds each experiment runs its own number of\n"
	 "seeds, printed with its results.",
	 cmd_demo},
	{"train", "train a model on labels, privately with --dp-noise",
	 "train DATA -o model.lupi", 1, 1,
	 G_COMMON | G_TRAIN | G_FIT | G_DATA | G_OUT | G_PLOT | G_VIEW |
	 G_DP | G_NOISE, NULL,
	 "Trains a model on the labels of DATA, on its regular features X (or\n"
	 "--view), and saves it. With --dp-noise or --target-epsilon it trains\n"
	 "by DP-SGD and reports the privacy spent (doc/privacy.md).",
	 cmd_teacher},
	{"teacher", "train a teacher on the privileged features",
	 "teacher DATA -o teacher.lupi", 1, 1,
	 G_COMMON | G_TRAIN | G_FIT | G_DATA | G_OUT | G_PLOT | G_VIEW |
	 G_DP | G_NOISE,
	 teacher_defaults,
	 "Trains a teacher on the privileged features X* of DATA (or on X and\n"
	 "X* with --view both) and saves it.",
	 cmd_teacher},
	{"distill", "train a student on the regular features from a teacher",
	 "distill DATA --teacher teacher.lupi -o student.lupi", 1, 1,
	 G_COMMON | G_TRAIN | G_FIT | G_KD | G_DATA | G_OUT | G_TEACH |
	 G_PLOT | G_DP | G_NOISE, NULL,
	 "Trains a student on the regular features X of DATA from the labels\n"
	 "and a teacher: a model file, or outputs computed elsewhere\n"
	 "(--teacher-outputs, one CSV row per sample of DATA).",
	 cmd_distill},
	{"compare", "teacher vs labels-only vs distilled students, over seeds",
	 "compare DATA [--test FILE]", 1, 1,
	 G_COMMON | G_TRAIN | G_KD | G_DATA | G_CMP | G_PLOT, NULL,
	 "Runs the LUPI experiment: teacher on X*, a student on labels only,\n"
	 "and distilled students for every lambda x temperature, over several\n"
	 "seeds; prints mean +- std of the test metric and the paired\n"
	 "difference to the hard-label student.",
	 cmd_compare},
	{"pate", "PATE: teachers on shards of private data label a student",
	 "pate PRIVATE PUBLIC --noise S -o student.lupi", 2, 2,
	 G_COMMON | G_TRAIN | G_DATA | G_OUT | G_PLOT | G_VIEW | G_PRED |
	 G_PATE | G_NOISE | G_TESTF, NULL,
	 "Trains --teachers models on disjoint shards of PRIVATE, lets them\n"
	 "vote on every sample of PUBLIC, labels the samples by a noisy\n"
	 "aggregation of the votes and trains the student on the answered\n"
	 "ones, on the regular features. Reports epsilon (data-independent\n"
	 "RDP bound) and, when PUBLIC has labels, how many answers match them.\n"
	 "Give --no-target when PUBLIC has no label column.",
	 cmd_pate},
	{"unlearn", "remove samples or a class from a trained model",
	 "unlearn MODEL DATA (--forget FILE | --forget-class K) -o out.lupi",
	 2, 2, G_COMMON | G_DATA | G_OUT | G_UNL | G_TESTF, NULL,
	 "Removes the samples of --forget (or the class of --forget-class)\n"
	 "from MODEL, trained on DATA, by --method, and reports what it cost\n"
	 "and the accuracy on the forgotten and retained samples; with --test\n"
	 "also the test accuracy and the loss attack's AUC on the forgotten\n"
	 "samples against the test samples.",
	 cmd_unlearn},
	{"audit", "membership inference: attack AUC, ROC, accuracy vs epsilon",
	 "audit MODEL... --members FILE --nonmembers FILE", 1, CLI_MAX_ARGS,
	 G_COMMON | G_DATA | G_AUD | G_PLOT, NULL,
	 "Attacks each MODEL with membership inference: scores for samples it\n"
	 "was trained on (--members) and samples it never saw (--nonmembers)\n"
	 "give the attack's AUC and its true-positive rates at 0.1% and 1%\n"
	 "false positives. Also prints the accuracy on --nonmembers and the\n"
	 "epsilon of each model's privacy record; --plot draws the ROC curves\n"
	 "and, for private models, accuracy and AUC against epsilon.",
	 cmd_audit},
	{"eval", "print the metrics of a saved model on data",
	 "eval MODEL DATA", 2, 2, G_COMMON | G_DATA, NULL,
	 "Prints the metrics of a saved model on DATA.", cmd_eval},
	{"predict", "write a saved model's predictions as CSV",
	 "predict MODEL DATA [-o out.csv]", 2, 2,
	 G_COMMON | G_DATA | G_OUT | G_PRED, NULL,
	 "Writes one CSV row per sample of DATA: the probabilities (or\n"
	 "values) and the predicted class. To stdout without -o.",
	 cmd_predict},
	{"info", "describe a model file", "info MODEL", 1, 1, G_COMMON, NULL,
	 "Prints what a model file holds: task, shapes, layers, training\n"
	 "options, parameter count. A file that loads passed its checksums.",
	 cmd_info},
	{"help", "show the help of lupi or of a command", "help [COMMAND]", 0,
	 1, G_COMMON, NULL,
	 "Prints the help of COMMAND, or of lupi without one.", cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* ---- the library's description of an option ---- */

const lupi_option *cli_library_option(int opt)
{
	const struct opt_def *d;

	if (opt < 0 || opt >= CLI_O_COUNT || !opts[opt].handle)
		return NULL;
	d = &opts[opt];
	return lupi_option_by_name(d->handle, d->lib ? d->lib : d->name);
}

const char *cli_option_name(int opt)
{
	return opt >= 0 && opt < CLI_O_COUNT ? opts[opt].name : "?";
}

int64_t cli_int(const struct cli *c, int opt)
{
	const lupi_option *o;

	if (c->v[opt].set)
		return c->v[opt].i;
	o = cli_library_option(opt);
	return o ? o->int_default : 0;
}

double cli_real(const struct cli *c, int opt)
{
	const lupi_option *o;

	if (c->v[opt].set)
		return c->v[opt].r;
	o = cli_library_option(opt);
	return o ? o->real_default : NAN;
}

/* Item i of a comma-separated list into buf; 0 when there is none. */
static int list_item(const char *list, int64_t i, char *buf, size_t size)
{
	const char *p = list;

	if (!list || i < 0)
		return 0;
	for (; i > 0 && p; i--) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p)
		return 0;
	snprintf(buf, size, "%.*s", (int)strcspn(p, ","), p);
	return 1;
}

const char *cli_value_name(int handle, const char *option, int64_t v,
			   char *buf, size_t size)
{
	const lupi_option *o = lupi_option_by_name(handle, option);

	if (!o || !list_item(o->values, v, buf, size))
		snprintf(buf, size, "unknown");
	return buf;
}

/* Whether the first len bytes of item are name, case and '-'/'_' ignored. */
static int same_value(const char *item, size_t len, const char *name)
{
	size_t k;

	for (k = 0; k < len && name[k]; k++) {
		int a = tolower((unsigned char)item[k]);
		int b = tolower((unsigned char)name[k]);

		if ((a == '_' ? '-' : a) != (b == '_' ? '-' : b))
			return 0;
	}
	return k == len && name[k] == '\0';
}

/* The index of name in a comma-separated list of value names, or -1. */
static int64_t value_index(const char *list, const char *name)
{
	const char *p = list;

	for (int64_t i = 0; p; i++) {
		size_t len = strcspn(p, ",");

		if (same_value(p, len, name))
			return i;
		p = p[len] ? p + len + 1 : NULL;
	}
	return -1;
}

/* The allowed values as words: "in [1, 64]", "in (0, 1000]", ">= 0". */
static void range_text(const lupi_option *o, char *buf, size_t size)
{
	if (o->type == LUPI_TYPE_INT) {
		if (o->int_max == INT64_MAX && o->int_min == INT64_MIN)
			snprintf(buf, size, "any integer");
		else if (o->int_max == INT64_MAX)
			snprintf(buf, size, ">= %lld", (long long)o->int_min);
		else
			snprintf(buf, size, "in [%lld, %lld]",
				 (long long)o->int_min, (long long)o->int_max);
	} else if (isinf(o->real_max) || o->real_max >= 1e300) {
		snprintf(buf, size, "%s %g", o->real_min_open ? ">" : ">=",
			 o->real_min);
	} else {
		snprintf(buf, size, "in %c%g, %g%c",
			 o->real_min_open ? '(' : '[', o->real_min,
			 o->real_max, o->real_max_open ? ')' : ']');
	}
}

/* "a, b or c" from "a,b,c" */
static void values_text(const char *list, char *buf, size_t size)
{
	size_t len = 0, n = 1;
	char item[64];

	for (const char *p = list; *p; p++)
		n += *p == ',';
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		list_item(list, (int64_t)i, item, sizeof(item));
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i == 0 ? "" : i + 1 == n ? " or " : ", ",
					item);
	}
}

/* The library's default as the command line writes it. */
static void default_text(const struct opt_def *d, const lupi_option *o,
			 char *buf, size_t size)
{
	if (o->type == LUPI_TYPE_DOUBLE)
		snprintf(buf, size, "%g", o->real_default);
	else if (d->flags & F_CHAR)
		snprintf(buf, size, o->int_default == '\t' ? "tab" : "%c",
			 (int)o->int_default);
	else if (!list_item(o->values, o->int_default, buf, size))
		snprintf(buf, size, "%lld", (long long)o->int_default);
}

/* ---- usage errors and help ---- */

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lupi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'lupi --help'.\n", stderr);
}

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const char *command_default(const struct cli_command *cmd, int opt)
{
	for (const struct cli_default *d = cmd ? cmd->defaults : NULL;
	     d && d->value; d++)
		if (d->opt == opt)
			return d->value;
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

/* An option's description: its help, then for a library option the
 * allowed values and the default, both from the library. */
static void describe(const struct opt_def *d, const char *cmd_default,
		     char *buf, size_t size)
{
	const lupi_option *o = cli_library_option((int)(d - opts));
	const lupi_option *g = d->flags & F_GRID ?
			       cli_library_option(d->grid_of) : NULL;
	char range[128], dflt[64];
	size_t len;

	len = (size_t)snprintf(buf, size, "%s", d->help ? d->help :
			       o ? o->doc : "");
	if (g) {
		range_text(g, range, sizeof(range));
		len += (size_t)snprintf(buf + len, size - len, ", each %s",
					range);
	}
	if (o && d->arg && !(d->flags & F_CHAR)) {
		if (o->values)
			values_text(o->values, range, sizeof(range));
		else
			range_text(o, range, sizeof(range));
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					o->values ? ": " : ", ", range);
	}
	if (len >= size)
		return;
	if (cmd_default)
		snprintf(buf + len, size - len, " [%s]", cmd_default);
	else if (d->dflt)
		snprintf(buf + len, size - len, " [%s]", d->dflt);
	else if (o && d->arg) {
		default_text(d, o, dflt, sizeof(dflt));
		snprintf(buf + len, size - len, " [%s]", dflt);
	}
}

static void print_options(FILE *f, const struct cli_command *cmd,
			  unsigned groups)
{
	for (size_t i = 0; i < CLI_O_COUNT; i++) {
		char left[64], text[512];
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
		describe(o, command_default(cmd, (int)i), text, sizeof(text));
		print_wrapped(f, text);
	}
}

static void print_exit_codes(FILE *f)
{
	fputs("\nExit status: 0 success, 1 a library or data error (the "
	      "message names the\nfile, line and column), 2 a usage error, "
	      "130 interrupted (Ctrl-C).\n",
	      f);
}

void cli_print_help(FILE *f, const char *command)
{
	const struct cli_command *cmd = command ? find_command(command) : NULL;

	if (cmd) {
		fprintf(f, "Usage: lupi %s [OPTIONS]\n\n%s\n\nOptions:\n",
			cmd->synopsis, cmd->about);
		print_options(f, cmd, cmd->groups);
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
			commands[i].summary);
	fputs("\nExample:\n"
	      "  lupi teacher data.csv --privileged 5-20 -o teacher.lupi\n"
	      "  lupi distill data.csv --privileged 5-20 --teacher "
	      "teacher.lupi -o student.lupi\n"
	      "  lupi predict student.lupi new.csv --no-target -o out.csv\n"
	      "\nCommon options:\n",
	      f);
	print_options(f, NULL, G_COMMON);
	fprintf(f, "  %-*s print the version and exit\n", HELP_COL - 3,
		"-V, --version");
	print_exit_codes(f);
}

int cmd_help(struct cli *c)
{
	if (c->n_args && !find_command(c->args[0])) {
		cli_usage_error("help: unknown command '%s'", c->args[0]);
		return CLI_EXIT_USAGE;
	}
	cli_print_help(stdout, c->n_args ? c->args[0] : NULL);
	return CLI_EXIT_OK;
}

/* ---- value parsers: each returns 0 or -1 after printing a usage error -- */

static int parse_int(const char *name, const char *s, int64_t lo, int64_t hi,
		     const char *range, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi) {
		cli_usage_error("--%s: '%s' is not an integer%s%s", name, s,
				*range ? " " : "", range);
		return -1;
	}
	*out = v;
	return 0;
}

/* A number in the range of the library option o. */
static int parse_real(const char *name, const char *s, const lupi_option *o,
		      double *out)
{
	char *end, range[128];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !isfinite(v) ||
	    v < o->real_min || (o->real_min_open && v == o->real_min) ||
	    v > o->real_max || (o->real_max_open && v == o->real_max)) {
		range_text(o, range, sizeof(range));
		cli_usage_error("--%s: '%s' is not a number %s", name, s,
				range);
		return -1;
	}
	*out = v;
	return 0;
}

/* A fraction strictly between 0 and 1, or 0 where zero is allowed. */
static int parse_fraction(const char *name, const char *s, int zero,
			  double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !(v >= 0 && v < 1) ||
	    (v == 0 && !zero)) {
		cli_usage_error("--%s: '%s' is not a number in %s1)", name, s,
				zero ? "[0, " : "(0, ");
		return -1;
	}
	*out = v;
	return 0;
}

/* Splits a comma-separated list of s into buf (room for len bytes), its
 * elements into tok[0..*n) (at most max). "" is the empty list; an empty
 * element ("1,,2", ",", "1,") is a usage error, not skipped. */
static int split_list(const char *name, const char *s, char *buf, size_t len,
		      char **tok, size_t max, const char *what, size_t *n)
{
	*n = 0;
	if (strlen(s) >= len) {
		cli_usage_error("--%s: list too long", name);
		return -1;
	}
	strcpy(buf, s);
	if (*buf == '\0')
		return 0;
	for (char *p = buf;; p++) {
		char *comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0') {
			cli_usage_error("--%s: empty element in '%s'", name, s);
			return -1;
		}
		if (*n == max) {
			cli_usage_error("--%s: at most %zu %s", name, max, what);
			return -1;
		}
		tok[(*n)++] = p;
		if (comma == NULL)
			return 0;
		p = comma;
	}
}

static int parse_sizes(const char *name, const char *s, size_t *out,
		       size_t *n)
{
	char buf[256], *tok[CLI_MAX_HIDDEN];

	if (split_list(name, s, buf, sizeof buf, tok, CLI_MAX_HIDDEN,
		       "layers", n))
		return -1;
	for (size_t i = 0; i < *n; i++) {
		int64_t v;

		/* the library reports a size too large for it */
		if (parse_int(name, tok[i], 1, INT64_MAX, ">= 1", &v))
			return -1;
		out[i] = (size_t)v;
	}
	return 0;
}

static int parse_grid(const struct opt_def *d, const char *s, double *out,
		      size_t *n)
{
	const lupi_option *o = cli_library_option(d->grid_of);
	char buf[1024], *tok[CLI_MAX_GRID];

	if (split_list(d->name, s, buf, sizeof buf, tok, CLI_MAX_GRID,
		       "values", n))
		return -1;
	if (*n == 0) {
		cli_usage_error("--%s: give at least one value", d->name);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		if (parse_real(d->name, tok[i], o, &out[i]))
			return -1;
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

/* Loss kinds, teacher outputs and file formats are not options of a
 * handle: the tool names them. */
static const struct name_value losses[] = {
	{"kd", LUPI_LOSS_KD},
	{"logits", LUPI_LOSS_LOGITS},
	{"sel", LUPI_LOSS_SEL},
	{"hard", LUPI_LOSS_HARD},
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
/* The privacy commands' choices: the library's constants, or the tool's
 * for SISA (a handle, not a method of lupi_unlearn) and the attacks. */
static const struct name_value aggregations[] = {
	{"laplace", LUPI_PATE_LAPLACE},
	{"gnmax", LUPI_PATE_GNMAX},
	{"confident", LUPI_PATE_CONFIDENT},
};
static const struct name_value methods[] = {
	{"retrain", LUPI_UNLEARN_RETRAIN},
	{"sisa", CLI_METHOD_SISA},
	{"random-teacher", LUPI_UNLEARN_RANDOM_TEACHER},
	{"bad-teacher", LUPI_UNLEARN_BAD_TEACHER},
	{"scrub", LUPI_UNLEARN_SCRUB},
};
static const struct name_value attacks[] = {
	{"loss", CLI_ATTACK_LOSS},
	{"lira", CLI_ATTACK_LIRA},
};

/* A finite number, > lo (or >= lo when lo is allowed), into v[opt]. */
static int parse_number(struct cli *c, int opt, const char *s, double lo,
			int lo_allowed)
{
	const char *name = cli_option_name(opt);
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v < lo ||
	    (v == lo && !lo_allowed)) {
		cli_usage_error("--%s: '%s' is not a finite number%s%s %g",
				name, s, isinf(lo) ? "" : " ",
				isinf(lo) ? "" : lo_allowed ? ">=" : ">", lo);
		return -1;
	}
	c->v[opt] = (struct cli_value){1, 0, v};
	return 0;
}

static int parse_char(const char *name, const char *s, int64_t *out)
{
	if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0) {
		*out = '\t';
		return 0;
	}
	if (strlen(s) != 1) {
		cli_usage_error("--%s: '%s' is not one character", name, s);
		return -1;
	}
	*out = (unsigned char)s[0];
	return 0;
}

/* The value of an option that sets the library option o. */
static int parse_library(struct cli *c, const struct opt_def *d,
			 const lupi_option *o, const char *s)
{
	struct cli_value *v = &c->v[d - opts];
	char range[512];

	if (o->type == LUPI_TYPE_DOUBLE) {
		if (parse_real(d->name, s, o, &v->r))
			return -1;
	} else if (o->values) {
		v->i = value_index(o->values, s);
		if (v->i < 0 || v->i < o->int_min || v->i > o->int_max) {
			values_text(o->values, range, sizeof(range));
			cli_usage_error("--%s: unknown value '%s'; one of %s",
					d->name, s, range);
			return -1;
		}
	} else {
		int64_t i;

		range_text(o, range, sizeof(range));
		if (d->flags & F_CHAR) {
			if (parse_char(d->name, s, &i))
				return -1;
			if (i < o->int_min || i > o->int_max) {
				cli_usage_error("--%s: '%s' is not allowed "
						"(a byte %s)", d->name, s,
						range);
				return -1;
			}
		} else if (parse_int(d->name, s, o->int_min, o->int_max,
				     range, &i)) {
			return -1;
		}
		v->i = i;
	}
	v->set = 1;
	return 0;
}

static int apply(struct cli *c, const struct opt_def *d, const char *v)
{
	int64_t i;
	const char *n = d->name;
	const lupi_option *o = cli_library_option((int)(d - opts));

	if (o)
		return parse_library(c, d, o, d->arg ? v : d->flag_value);
	switch ((enum cli_opt)(d - opts)) {
	case CLI_O_HELP: c->help = 1; return 0;
	case CLI_O_QUIET: c->quiet = 1; return 0;
	case CLI_O_JSON: c->json = 1; return 0;
	case CLI_O_FASHION: c->fashion = 1; return 0;
	case CLI_O_THREADS:
		/* the library knows its range, and says it */
		if (parse_int(n, v, INT32_MIN, INT32_MAX, "", &i))
			return -1;
		if (lupi_set_num_threads((int)i) != LUPI_OK) {
			cli_usage_error("--%s: %s", n, lupi_errmsg());
			return -1;
		}
		c->v[CLI_O_THREADS] = (struct cli_value){1, i, NAN};
		return 0;
	case CLI_O_VALID: return parse_fraction(n, v, 1, &c->valid);
	case CLI_O_TEST_FRACTION:
		return parse_fraction(n, v, 0, &c->test_fraction);
	case CLI_O_LAMBDAS:
		c->lambdas_set = c->cmd != NULL;
		return parse_grid(d, v, c->lambdas, &c->n_lambdas);
	case CLI_O_TEMPERATURES:
		c->temps_set = c->cmd != NULL;
		return parse_grid(d, v, c->temps, &c->n_temps);
	case CLI_O_HIDDEN:
		return parse_sizes(n, v, c->hidden, &c->n_hidden);
	case CLI_O_TEACHER_HIDDEN:
		c->teacher_hidden_set = 1;
		return parse_sizes(n, v, c->teacher_hidden,
				   &c->n_teacher_hidden);
	case CLI_O_LOSS: return ENUM(n, v, losses, &c->loss);
	case CLI_O_OUTPUTS_KIND: return ENUM(n, v, kinds, &c->outputs_kind);
	case CLI_O_FORMAT: return ENUM(n, v, formats, &c->format);
	case CLI_O_TEACHER: c->teacher = v; return 0;
	case CLI_O_TEACHER_OUTPUTS: c->teacher_outputs = v; return 0;
	case CLI_O_TEST: c->test = v; return 0;
	case CLI_O_PRIVILEGED: c->privileged = v; return 0;
	case CLI_O_TARGET: c->target = v; return 0;
	case CLI_O_WEIGHT: c->weight = v; return 0;
	case CLI_O_IGNORE: c->ignore = v; return 0;
	case CLI_O_LABELS: c->labels = v; return 0;
	case CLI_O_OUTPUT: c->output = v; return 0;
	case CLI_O_PLOT: c->plot = v; return 0;
	case CLI_O_CHECKPOINT: c->checkpoint = v; return 0;
	case CLI_O_CHECKPOINT_EVERY:
		return parse_int(n, v, 1, INT64_MAX, ">= 1",
				 &c->checkpoint_every);
	case CLI_O_RESUME: c->resume = 1; return 0;
	case CLI_O_TEACHERS:
		return parse_int(n, v, 2, 1000000, "in [2, 1000000]",
				 &c->teachers);
	case CLI_O_AGGREGATION: return ENUM(n, v, aggregations, &c->aggregation);
	case CLI_O_NOISE: return parse_number(c, CLI_O_NOISE, v, 0, 0);
	case CLI_O_SIGMA1: return parse_number(c, CLI_O_SIGMA1, v, 0, 0);
	case CLI_O_THRESHOLD:
		return parse_number(c, CLI_O_THRESHOLD, v, -INFINITY, 1);
	case CLI_O_FORGET: c->forget = v; return 0;
	case CLI_O_FORGET_CLASS:
		if (parse_int(n, v, 0, INT32_MAX, ">= 0", &i))
			return -1;
		c->v[CLI_O_FORGET_CLASS] = (struct cli_value){1, i, NAN};
		return 0;
	case CLI_O_METHOD: return ENUM(n, v, methods, &c->method);
	case CLI_O_UNLEARN_EPOCHS:
		return parse_int(n, v, 1, 1000000, "in [1, 1000000]",
				 &c->unlearn_epochs);
	case CLI_O_SHARDS:
		return parse_int(n, v, 1, 1000000, "in [1, 1000000]",
				 &c->shards);
	case CLI_O_SLICES:
		return parse_int(n, v, 1, 1000000, "in [1, 1000000]",
				 &c->slices);
	case CLI_O_MEMBERS: c->members = v; return 0;
	case CLI_O_NONMEMBERS: c->nonmembers = v; return 0;
	case CLI_O_ATTACK: return ENUM(n, v, attacks, &c->attack);
	case CLI_O_REFERENCE: c->reference = v; return 0;
	case CLI_O_SHADOWS:
		return parse_int(n, v, 2, 100000, "in [2, 100000]",
				 &c->shadows);
	default: break;
	}
	cli_usage_error("--%s: this liblupi has no such option", n);
	return -1;
}

/* Every option that sets a library option must find it: a library without
 * one is not the library this tool was written for. */
static int check_library(void)
{
	for (int i = 0; i < CLI_O_COUNT; i++) {
		const lupi_option *o = cli_library_option(i);

		if (opts[i].handle && !o)
			return cli_error("liblupi %s has no option %s for --%s",
					 lupi_version_string(),
					 opts[i].lib ? opts[i].lib :
					 opts[i].name, opts[i].name);
		if (o && !opts[i].arg && o->type != LUPI_TYPE_INT)
			return cli_error("liblupi: option %s is not an "
					 "integer", o->name);
	}
	return 0;
}

/* The tool's own defaults, then the command's. */
static int set_defaults(struct cli *c, const char *prog,
			const struct cli_command *cmd)
{
	memset(c, 0, sizeof(*c));
	c->prog = prog;
	/* c->cmd is still NULL: the grids' defaults are not "given" */
	for (size_t i = 0; i < CLI_O_COUNT; i++)
		if (opts[i].dflt && apply(c, &opts[i], opts[i].dflt))
			return -1;
	c->cmd = cmd;
	c->command = cmd->name;
	for (const struct cli_default *d = cmd->defaults; d && d->value; d++)
		if (apply(c, &opts[d->opt], d->value))
			return -1;
	return 0;
}

static const struct opt_def *find_long(const char *name, size_t len,
				       unsigned groups)
{
	for (size_t i = 0; i < CLI_O_COUNT; i++)
		if ((opts[i].groups & groups) &&
		    strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt_def *find_short(char s, unsigned groups)
{
	for (size_t i = 0; i < CLI_O_COUNT; i++)
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
		cli_usage_error("unknown option '%s' for %s", a, c->command);
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
 * Returns 0 to run c->cmd, 1 when help or the version was printed (exit
 * 0), -1 after a usage error (exit 2), -2 when the library lacks an option
 * (exit 1).
 */
int cli_parse(struct cli *c, int argc, char **argv)
{
	const struct cli_command *cmd;
	int only_args = 0;

	memset(c, 0, sizeof(*c));
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
	if (check_library())
		return -2;
	if (argv[1][0] == '-') {
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			cli_print_help(stdout, NULL);
			return 1;
		}
		cli_usage_error("unknown option '%s'", argv[1]);
		return -1;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		cli_usage_error("unknown command '%s'", argv[1]);
		return -1;
	}
	if (set_defaults(c, argv[0], cmd))
		return -2;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!only_args && strcmp(a, "--") == 0) {
			only_args = 1;
		} else if (!only_args && a[0] == '-' && a[1] != '\0') {
			if (parse_option(c, cmd->groups, argc, argv, &i))
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

/* ---- applying the options to the library's handles ---- */

static int set_int(int handle, void *h, int key, int64_t v)
{
	switch (handle) {
	case LUPI_HANDLE_MODEL: return lupi_model_set_int(h, key, v);
	case LUPI_HANDLE_LOSS: return lupi_loss_set_int(h, key, v);
	case LUPI_HANDLE_READER: return lupi_reader_set_int(h, key, v);
	case LUPI_HANDLE_COMPARE: return lupi_compare_set_int(h, key, v);
	case LUPI_HANDLE_DP: return lupi_dp_set_int(h, key, v);
	default: return LUPI_EINVAL;
	}
}

static int set_double(int handle, void *h, int key, double v)
{
	switch (handle) {
	case LUPI_HANDLE_MODEL: return lupi_model_set_double(h, key, v);
	case LUPI_HANDLE_LOSS: return lupi_loss_set_double(h, key, v);
	case LUPI_HANDLE_DP: return lupi_dp_set_double(h, key, v);
	default: return LUPI_EINVAL;
	}
}

int cli_apply_options(const struct cli *c, int handle, void *h, int *failed)
{
	for (int i = 0; i < CLI_O_COUNT; i++) {
		const lupi_option *o;
		int rc;

		if (opts[i].handle != handle || (opts[i].flags & F_SELF) ||
		    !c->v[i].set || !(o = cli_library_option(i)))
			continue;
		if (o->type == LUPI_TYPE_INT)
			rc = set_int(handle, h, o->key, c->v[i].i);
		else
			rc = set_double(handle, h, o->key, c->v[i].r);
		if (rc != LUPI_OK) {
			if (failed)
				*failed = i;
			return rc;
		}
	}
	return LUPI_OK;
}
