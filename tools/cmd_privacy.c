/*
 * cmd_privacy.c - privacy from the command line: private training (the DP
 * options of `lupi train`, `teacher` and `distill`), `lupi pate`, `lupi
 * unlearn` and `lupi audit`, and the privacy record `lupi info` prints.
 * What each guarantee covers: doc/privacy.md.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- private training ---------------------------------------------------- */

int cli_dp_given(const struct cli *c)
{
	return c->v[CLI_O_DP_NOISE].set || c->v[CLI_O_TARGET_EPSILON].set;
}

/*
 * The DP options make sense only together: --dp-clip, --sample-rate,
 * --delta and --dp-seed tune a private fit that --dp-noise or
 * --target-epsilon asks for, and the two of those exclude each other.
 * Returns 0, or CLI_EXIT_USAGE after a usage error.
 */
int cli_dp_check(const struct cli *c)
{
	static const int tuning[] = {CLI_O_DP_CLIP, CLI_O_SAMPLE_RATE,
				     CLI_O_DELTA, CLI_O_DP_SEED};

	if (c->v[CLI_O_DP_NOISE].set && c->v[CLI_O_TARGET_EPSILON].set) {
		cli_usage_error("%s: give --dp-noise or --target-epsilon, not "
				"both (the target chooses the noise)",
				c->command);
		return CLI_EXIT_USAGE;
	}
	if (c->v[CLI_O_TARGET_EPSILON].set &&
	    !(c->v[CLI_O_TARGET_EPSILON].r > 0)) {
		cli_usage_error("--target-epsilon: give a value > 0");
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(tuning) / sizeof(tuning[0]); i++) {
		if (c->v[tuning[i]].set && !cli_dp_given(c)) {
			cli_usage_error("--%s: only for private training; give "
					"--dp-noise or --target-epsilon too",
					cli_option_name(tuning[i]));
			return CLI_EXIT_USAGE;
		}
	}
	if (cli_dp_given(c) && cli_par_size() > 1) {
		cli_usage_error("%s: private training runs in one process (the "
				"accountant accounts one sampler); run lupi, "
				"not lupi-mpi on several ranks", c->command);
		return CLI_EXIT_USAGE;
	}
	if (cli_dp_given(c) && c->weight) {
		cli_usage_error("%s: private training counts every sample "
				"once: drop --weight", c->command);
		return CLI_EXIT_USAGE;
	}
	if (cli_dp_given(c) && (c->checkpoint || c->resume)) {
		cli_usage_error("%s: a private fit writes no checkpoints; drop "
				"--checkpoint and --resume", c->command);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cli_fit_dp(const struct cli *c, lupi_model *m, const lupi_teacher *t,
	       const lupi_loss *loss, const lupi_dataset *train,
	       const lupi_dataset *valid, struct cli_progress *p)
{
	lupi_dp *dp = NULL;
	int failed = CLI_O_DP_NOISE;
	int rc = lupi_dp_create(&dp);

	if (rc == LUPI_OK)
		rc = cli_apply_options(c, LUPI_HANDLE_DP, dp, &failed);
	/* statistics fitted on the private data would leak it, and the
	   library refuses them: a private fit reads the features as given */
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0);
	if (rc == LUPI_OK)
		rc = t ? lupi_student_fit_dp(m, t, loss, dp, train, valid,
					     cli_progress_fn, p) :
			 lupi_model_fit_dp(m, dp, train, valid,
					   cli_progress_fn, p);
	lupi_dp_free(dp);
	return rc;
}

/* The record of m: 1 and its values, or 0 when m holds none. */
static int privacy_record(const lupi_model *m, double *eps, double *delta,
			  uint64_t *steps, double *q, double *sigma)
{
	int rc;

	*eps = *delta = *q = *sigma = NAN;
	*steps = 0;
	rc = lupi_model_privacy(m, eps, delta, steps, q, sigma);
	/* ESTATE with the record filled in: it no longer covers m */
	return rc == LUPI_OK || (rc == LUPI_ESTATE && !isnan(*sigma));
}

static const char *aggregation_name(int a);

/* A PATE student's record (lupi pate -o): the data-independent bound of
 * the aggregation that labelled its training set. */
static int print_pate(struct cli_json *j, const lupi_model *m,
		      const char *label, double eps, double delta)
{
	double noise, sigma1, threshold;
	uint64_t queries, answered;
	int mech;

	if (lupi_model_privacy_pate(m, &mech, &noise, &sigma1, &threshold,
				    &queries, &answered) != LUPI_OK)
		return 0;
	if (j) {
		cli_json_object(j, "privacy");
		cli_json_str(j, "mechanism", "pate");
		cli_json_str(j, "aggregation", aggregation_name(mech));
		cli_json_num(j, "epsilon", eps); /* null: not accounted */
		cli_json_num(j, "delta", delta);
		cli_json_num(j, "noise", noise);
		if (mech == LUPI_PATE_CONFIDENT) {
			cli_json_num(j, "sigma1", sigma1);
			cli_json_num(j, "threshold", threshold);
		}
		cli_json_int(j, "queries", (int64_t)queries);
		cli_json_int(j, "answered", (int64_t)answered);
		cli_json_int(j, "accounted", isfinite(eps));
		cli_json_close(j, '}');
		return 1;
	}
	if (isfinite(eps))
		printf("%sepsilon %.4g at delta %g (PATE student: %s "
		       "aggregation, noise %g", label, eps, delta,
		       aggregation_name(mech), noise);
	else
		printf("%snot accounted: trained or changed after its PATE "
		       "fit (%s aggregation, noise %g", label,
		       aggregation_name(mech), noise);
	if (mech == LUPI_PATE_CONFIDENT)
		printf(", sigma1 %g, threshold %g", sigma1, threshold);
	printf(", %llu of %llu queries answered; data-independent "
	       "bound)\n", (unsigned long long)answered,
	       (unsigned long long)queries);
	return 1;
}

int cli_print_privacy(const struct cli *c, struct cli_json *j,
		      const lupi_model *m, const char *label)
{
	double eps, delta, q, sigma;
	uint64_t steps;
	int has = privacy_record(m, &eps, &delta, &steps, &q, &sigma);

	if (has && print_pate(j, m, label, eps, delta))
		return 0;
	if (j) {
		if (!has) {
			cli_json_num(j, "privacy", NAN); /* null */
			return 0;
		}
		cli_json_object(j, "privacy");
		cli_json_str(j, "mechanism", "dp-sgd");
		cli_json_num(j, "epsilon", eps); /* null: not accounted */
		cli_json_num(j, "delta", delta);
		cli_json_num(j, "sigma", sigma);
		cli_json_num(j, "sample_rate", q);
		cli_json_int(j, "steps", (int64_t)steps);
		if (c && cli_dp_given(c))
			cli_json_num(j, "clip", cli_real(c, CLI_O_DP_CLIP));
		cli_json_int(j, "accounted", isfinite(eps));
		cli_json_close(j, '}');
		return 0;
	}
	if (!has) {
		printf("%snone (not trained by a private fit)\n", label);
		return 0;
	}
	if (isfinite(eps))
		printf("%sepsilon %.4g at delta %g (DP-SGD: noise multiplier "
		       "%.4g, sampling rate %.4g, %llu steps", label, eps,
		       delta, sigma, q, (unsigned long long)steps);
	else
		printf("%snot accounted: trained or changed without DP after "
		       "its private fit (noise multiplier %.4g, sampling rate "
		       "%.4g, %llu steps", label, sigma, q,
		       (unsigned long long)steps);
	if (c && cli_dp_given(c))
		printf(", clip %g", cli_real(c, CLI_O_DP_CLIP));
	puts(")");
	return 0;
}

/* ---- shared -------------------------------------------------------------- */

static void json_start(const struct cli *c, struct cli_json *j)
{
	cli_json_begin(j, stdout);
	cli_json_str(j, "command", c->command);
}

static int json_finish(struct cli_json *j, int rc)
{
	if (j) {
		cli_json_int(j, "exit", rc);
		cli_json_end(j);
	}
	return rc;
}

/* An untrained copy of m, with its options: the prototype the library
 * trains shards, shadows or a retrained model from. */
static int untrained_clone(const lupi_model *m, lupi_model **out)
{
	int rc = lupi_model_clone(m, out);

	if (rc == LUPI_OK)
		rc = lupi_model_init(*out);
	if (rc != LUPI_OK) {
		lupi_model_free(*out);
		*out = NULL;
		return cli_fail(rc, NULL);
	}
	return 0;
}

/* The number of classes of a classifier's votes and probabilities. */
static size_t classes_of(const lupi_model *m)
{
	return lupi_model_task(m) == LUPI_TASK_BINARY ? 2 :
						       lupi_model_outputs(m);
}

static double accuracy(const lupi_model *m, const lupi_dataset *ds)
{
	double v = NAN;

	if (lupi_dataset_rows(ds) == 0 ||
	    lupi_model_evaluate(m, ds, LUPI_METRIC_ACCURACY, &v) != LUPI_OK)
		return NAN;
	return v;
}

/* The AUC and TPRs of the loss attack on m: in vs out. */
static int loss_attack(const lupi_model *m, const lupi_dataset *in,
		       const lupi_dataset *out, double r[3])
{
	size_t ni = lupi_dataset_rows(in), no = lupi_dataset_rows(out);
	double *a = malloc((ni + 1) * sizeof(*a));
	double *b = malloc((no + 1) * sizeof(*b));
	int rc = LUPI_OK;

	if (!a || !b) {
		free(a);
		free(b);
		return cli_error("out of memory");
	}
	rc = lupi_mia_loss_scores(m, in, a);
	if (rc == LUPI_OK)
		rc = lupi_mia_loss_scores(m, out, b);
	if (rc == LUPI_OK)
		rc = lupi_mia_roc(a, ni, b, no, &r[0], &r[1], &r[2]);
	free(a);
	free(b);
	return rc == LUPI_OK ? 0 : cli_fail(rc, "attack");
}

/* ---- PATE ---------------------------------------------------------------- */

static int pate_check(const struct cli *c)
{
	int confident = c->aggregation == LUPI_PATE_CONFIDENT;

	if (!c->v[CLI_O_NOISE].set) {
		cli_usage_error("pate: give --noise S (the Laplace scale or "
				"the Gaussian sigma of the votes' noise)");
		return CLI_EXIT_USAGE;
	}
	if (confident && (!c->v[CLI_O_SIGMA1].set ||
			  !c->v[CLI_O_THRESHOLD].set)) {
		cli_usage_error("pate: --aggregation confident needs --sigma1 "
				"and --threshold");
		return CLI_EXIT_USAGE;
	}
	if (!confident && (c->v[CLI_O_SIGMA1].set ||
			   c->v[CLI_O_THRESHOLD].set)) {
		cli_usage_error("pate: --sigma1 and --threshold are for "
				"--aggregation confident only");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

struct pate_run {
	lupi_dataset *priv, *pub, *test;
	lupi_model *proto, *student;
	lupi_teacher *teachers;
	uint32_t *votes;
	int32_t *labels;
	struct cli_progress prog, tprog; /* the student's, the teachers' */
};

/* Answered labels that match PUBLIC's own labels, when it has them. */
static double label_accuracy(const lupi_dataset *pub, const int32_t *labels,
			     size_t *n_checked)
{
	const int32_t *y = lupi_dataset_labels(pub);
	size_t n = lupi_dataset_rows(pub), hit = 0, seen = 0;

	*n_checked = 0;
	if (!y)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		if (labels[i] < 0)
			continue;
		seen++;
		hit += labels[i] == y[i];
	}
	*n_checked = seen;
	return seen ? (double)hit / (double)seen : NAN;
}

static const char *aggregation_name(int a)
{
	return a == LUPI_PATE_LAPLACE ? "laplace" :
	       a == LUPI_PATE_CONFIDENT ? "confident" : "gnmax";
}

static int pate_run(const struct cli *c, struct pate_run *r,
		    struct cli_json *j)
{
	struct cli pc = *c; /* PRIVATE and --test have labels */
	int view = (int)cli_int(c, CLI_O_VIEW), rc;
	double noise = c->v[CLI_O_NOISE].r, sigma1 = c->v[CLI_O_SIGMA1].r;
	double threshold = c->v[CLI_O_THRESHOLD].r, eps, lacc, eps_dd = NAN;
	double delta = cli_real(c, CLI_O_DELTA);
	size_t n, k, answered = 0, checked;
	unsigned n_teachers = (unsigned)c->teachers;
	double t0 = cli_now();

	pc.v[CLI_O_NO_TARGET].set = 0;
	if (cli_load_data(&pc, c->args[0], NULL, &r->priv) ||
	    cli_make_model(c, r->priv, view, 1, &r->proto) ||
	    cli_load_data(c, c->args[1], r->proto, &r->pub) ||
	    (c->test && cli_load_data(&pc, c->test, r->proto, &r->test)))
		return CLI_EXIT_ERROR;
	if (!c->quiet && !j)
		printf("%u teachers on %s features (%zu private samples, "
		       "about %zu each); %zu public samples to label\n",
		       n_teachers, cli_view_name(view),
		       lupi_dataset_rows(r->priv),
		       lupi_dataset_rows(r->priv) / n_teachers,
		       lupi_dataset_rows(r->pub));
	/* the bar counts the epochs of all teachers; Ctrl-C stops them */
	cli_progress_init(&r->tprog, c, "teachers",
			  lupi_dataset_rows(r->priv) / n_teachers);
	cli_progress_watch(&r->tprog, r->proto);
	rc = lupi_pate_teachers(r->proto, r->priv, n_teachers, cli_seed(c),
				&r->teachers, cli_progress_fn, &r->tprog);
	cli_progress_done(&r->tprog);
	if (rc != LUPI_OK)
		return cli_fail(rc, c->args[0]);
	n = lupi_dataset_rows(r->pub);
	k = classes_of(r->proto);
	r->votes = malloc(n * k * sizeof(*r->votes));
	r->labels = malloc(n * sizeof(*r->labels));
	if (!r->votes || !r->labels)
		return cli_error("out of memory");
	rc = lupi_pate_votes(r->teachers, r->pub, r->votes);
	if (rc == LUPI_OK)
		rc = lupi_pate_aggregate(r->votes, n, k, c->aggregation, noise,
					 sigma1, threshold,
					 (uint64_t)cli_int(c, CLI_O_DP_SEED),
					 r->labels, &answered);
	if (rc != LUPI_OK)
		return cli_fail(rc, c->args[1]);
	if (answered == 0)
		return cli_error("pate: no query answered; lower --threshold "
				 "or --sigma1");
	rc = lupi_pate_epsilon(c->aggregation, noise, sigma1, n, answered,
			       delta, &eps);
	/* the data-dependent bound depends on the private votes itself */
	if (rc == LUPI_OK && c->aggregation != LUPI_PATE_LAPLACE)
		rc = lupi_pate_epsilon_data_dependent(r->votes, n, k,
						      r->labels,
						      c->aggregation, noise,
						      sigma1, threshold, delta,
						      &eps_dd);
	if (rc != LUPI_OK)
		return cli_fail(rc, NULL);
	lacc = label_accuracy(r->pub, r->labels, &checked);
	if (j) {
		cli_json_int(j, "teachers", n_teachers);
		cli_json_int(j, "private_samples",
			     (int64_t)lupi_dataset_rows(r->priv));
		cli_json_str(j, "aggregation",
			     aggregation_name(c->aggregation));
		cli_json_num(j, "noise", noise);
		if (c->aggregation == LUPI_PATE_CONFIDENT) {
			cli_json_num(j, "sigma1", sigma1);
			cli_json_num(j, "threshold", threshold);
		}
		cli_json_int(j, "queries", (int64_t)n);
		cli_json_int(j, "answered", (int64_t)answered);
		cli_json_num(j, "label_accuracy", lacc);
		cli_json_num(j, "epsilon", eps);
		cli_json_num(j, "epsilon_data_dependent", eps_dd);
		cli_json_num(j, "delta", delta);
	} else {
		/* results: printed with --quiet too */
		printf("%s aggregation, noise %g: %zu of %zu queries answered",
		       aggregation_name(c->aggregation), noise, answered, n);
		if (checked)
			printf(", %.4f of the answers match PUBLIC's labels",
			       lacc);
		printf("\nprivacy: epsilon %.4g at delta %g (data-independent "
		       "RDP bound of the %zu queries)\n", eps, delta, n);
		if (!isnan(eps_dd))
			printf("data-dependent bound: epsilon %.4g (it depends "
			       "on the private votes: not itself private)\n",
			       eps_dd);
	}
	if (cli_make_model(c, r->priv, LUPI_VIEW_REGULAR, 0, &r->student))
		return CLI_EXIT_ERROR;
	cli_progress_init(&r->prog, c, "student", answered);
	cli_progress_watch(&r->prog, r->student);
	/* the student records the guarantee: its file shows it */
	rc = lupi_pate_fit_student(r->student, r->pub, r->labels, NULL,
				   c->aggregation, noise, sigma1, threshold,
				   delta, cli_progress_fn, &r->prog);
	cli_progress_done(&r->prog);
	if (rc != LUPI_OK)
		return cli_fail(rc, c->args[1]);
	if (j)
		cli_json_num(j, "seconds", cli_now() - t0);
	if (checked && cli_print_metrics(j, "public", r->student, r->pub))
		return CLI_EXIT_ERROR;
	if (r->test && cli_print_metrics(j, "test", r->student, r->test))
		return CLI_EXIT_ERROR;
	int e = c->output ? cli_save_model(c, j, r->student, c->output) : 0;
	if (e)
		return e;
	if (c->plot &&
	    cli_plot_curves(c->plot, &r->prog, 1,
			    cli_primary_metric(lupi_model_task(r->student))))
		return CLI_EXIT_ERROR;
	return 0;
}

int cmd_pate(struct cli *c)
{
	struct pate_run r = {0};
	struct cli_json json, *j = c->json ? &json : NULL;
	int rc = pate_check(c);

	if (rc)
		return rc;
	if (j)
		json_start(c, j);
	rc = json_finish(j, pate_run(c, &r, j));
	cli_progress_free(&r.prog);
	cli_progress_free(&r.tprog);
	free(r.votes);
	free(r.labels);
	lupi_teacher_free(r.teachers);
	lupi_model_free(r.student);
	lupi_model_free(r.proto);
	lupi_dataset_free(r.test);
	lupi_dataset_free(r.pub);
	lupi_dataset_free(r.priv);
	return rc;
}

/* ---- unlearning ---------------------------------------------------------- */

/*
 * Reads the sample numbers of path (integers separated by white space or
 * commas; '#' starts a comment) into idx, each once, ascending; every
 * number must be a sample of DATA (0 .. n-1). 0 or CLI_EXIT_ERROR.
 */
static int read_forget(const char *path, size_t n, size_t *idx, size_t *nf)
{
	FILE *f = fopen(path, "r");
	unsigned char *mark = calloc(n ? n : 1, 1);
	char tok[64];
	size_t len = 0, line = 1, tok_line = 1;
	int ch, rc = 0;

	*nf = 0;
	if (!f || !mark) {
		rc = f ? cli_error("out of memory") :
			 cli_error("--forget: %s: %s", path, strerror(errno));
		goto out;
	}
	do {
		ch = fgetc(f);
		if (ch == '#')
			while (ch != '\n' && ch != EOF)
				ch = fgetc(f);
		if (ch != EOF && !isspace(ch) && ch != ',') {
			if (len == 0)
				tok_line = line;
			if (len + 1 < sizeof(tok))
				tok[len++] = (char)ch;
			continue;
		}
		if (len) {
			char *end;
			unsigned long long v;

			tok[len] = '\0';
			errno = 0;
			v = strtoull(tok, &end, 10);
			if (*end || errno || tok[0] == '-' || tok[0] == '+') {
				rc = cli_error("--forget: %s:%zu: '%s' is not "
					       "a sample number", path,
					       tok_line, tok);
				goto out;
			}
			if (v >= n) {
				rc = cli_error("--forget: %s:%zu: sample %llu "
					       "is out of range: the data has "
					       "%zu samples, 0 to %zu", path,
					       tok_line, v, n, n - 1);
				goto out;
			}
			mark[v] = 1;
			len = 0;
		}
		if (ch == '\n')
			line++;
	} while (ch != EOF);
	if (ferror(f)) {
		rc = cli_error("--forget: %s: read error", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (mark[i])
			idx[(*nf)++] = i;
	if (*nf == 0)
		rc = cli_error("--forget: %s: no sample numbers", path);
out:
	if (f)
		fclose(f);
	free(mark);
	return rc;
}

static int forget_set(const struct cli *c, const lupi_model *m,
		      const lupi_dataset *ds, size_t *idx, size_t *nf)
{
	int64_t cls = c->v[CLI_O_FORGET_CLASS].i;
	int task = lupi_model_task(m), rc;

	if (c->forget)
		return read_forget(c->forget, lupi_dataset_rows(ds), idx, nf);
	if (task == LUPI_TASK_REGRESSION)
		return cli_error("--forget-class: %s is a regression model: "
				 "it has no classes", c->args[0]);
	if ((size_t)cls >= classes_of(m))
		return cli_error("--forget-class: class %lld is out of range: "
				 "the model has %zu classes, 0 to %zu",
				 (long long)cls, classes_of(m),
				 classes_of(m) - 1);
	rc = lupi_unlearn_class_indices(ds, (int32_t)cls, idx, nf);
	if (rc != LUPI_OK)
		return cli_fail(rc, c->args[1]);
	if (*nf == 0)
		return cli_error("--forget-class: %s has no sample of class "
				 "%lld", c->args[1], (long long)cls);
	return 0;
}

static const char *method_name(int method)
{
	switch (method) {
	case LUPI_UNLEARN_RETRAIN: return "retrain";
	case LUPI_UNLEARN_RANDOM_TEACHER: return "random-teacher";
	case LUPI_UNLEARN_BAD_TEACHER: return "bad-teacher";
	case LUPI_UNLEARN_SCRUB: return "scrub";
	default: return "sisa";
	}
}

/* What SISA's ensemble predicts, scored like a model: accuracy, and the
 * loss attack's score -log p(y) per sample. */
static int sisa_score(const lupi_sisa *s, const lupi_model *m,
		      const lupi_dataset *ds, double *acc, double *scores)
{
	int64_t view = LUPI_VIEW_REGULAR;
	size_t n = lupi_dataset_rows(ds), k = classes_of(m), hit = 0;
	const int32_t *y = lupi_dataset_labels(ds);
	const float *x;
	float *p;
	int rc;

	lupi_model_get_int(m, LUPI_MODEL_OPT_VIEW, &view);
	x = lupi_dataset_features(ds, (int)view);
	if (!x || !y)
		return cli_error("sisa: the tool scores models on X or on X* "
				 "with class labels only");
	if (n == 0) {
		*acc = NAN;
		return 0;
	}
	p = malloc(n * k * sizeof(*p));
	if (!p)
		return cli_error("out of memory");
	rc = lupi_sisa_predict(s, x, n, lupi_model_inputs(m), p);
	if (rc != LUPI_OK) {
		free(p);
		return cli_fail(rc, "sisa");
	}
	for (size_t i = 0; i < n; i++) {
		size_t arg = 0;

		for (size_t q = 1; q < k; q++)
			if (p[i * k + q] > p[i * k + arg])
				arg = q;
		hit += (int32_t)arg == y[i];
		if (scores)
			scores[i] = log(fmax(p[i * k + (size_t)y[i]], 1e-30));
	}
	free(p);
	*acc = (double)hit / (double)n;
	return 0;
}

struct unlearn_run {
	lupi_model *m, *u, *proto;
	lupi_sisa *sisa;
	lupi_dataset *ds, *forget, *retain, *test;
	lupi_dataset *held; /* the attack's non-members: test, or its
			       samples of the forgotten class */
	size_t *idx, *ridx, nf, nr;
	uint64_t steps, scratch_steps; /* SISA: of its shards from scratch */
	double seconds, train_seconds;
	struct cli_progress prog;
};

/* The attack compares the forgotten samples with samples never trained
 * on from the same distribution: for a class, the test samples of that
 * class (all of --test would make the comparison one of classes). */
static int held_out(const struct cli *c, struct unlearn_run *r)
{
	size_t nt = lupi_dataset_rows(r->test), nh = 0;
	size_t *hi;
	int rc;

	if (!c->v[CLI_O_FORGET_CLASS].set)
		return 0;
	hi = malloc((nt + 1) * sizeof(*hi));
	if (!hi)
		return cli_error("out of memory");
	rc = lupi_unlearn_class_indices(r->test, (int32_t)
					c->v[CLI_O_FORGET_CLASS].i, hi, &nh);
	if (rc == LUPI_OK && nh == 0) {
		free(hi);
		return cli_error("--test: %s has no sample of class %lld for "
				 "the attack", c->test,
				 (long long)c->v[CLI_O_FORGET_CLASS].i);
	}
	if (rc == LUPI_OK)
		rc = lupi_dataset_subset(r->test, hi, nh, &r->held);
	free(hi);
	return rc == LUPI_OK ? 0 : cli_fail(rc, c->test);
}

static int unlearn_sets(const struct cli *c, struct unlearn_run *r)
{
	size_t n;
	int rc;

	if (cli_load_model(c->args[0], &r->m) ||
	    cli_load_data(c, c->args[1], r->m, &r->ds) ||
	    (c->test && cli_load_data(c, c->test, r->m, &r->test)))
		return CLI_EXIT_ERROR;
	n = lupi_dataset_rows(r->ds);
	r->idx = malloc((n + 1) * sizeof(*r->idx));
	r->ridx = malloc((n + 1) * sizeof(*r->ridx));
	if (!r->idx || !r->ridx)
		return cli_error("out of memory");
	if (forget_set(c, r->m, r->ds, r->idx, &r->nf))
		return CLI_EXIT_ERROR;
	if (r->nf == n)
		return cli_error("%s: the forget set holds every sample; "
				 "nothing would be left", c->args[1]);
	for (size_t i = 0, f = 0; i < n; i++) {
		if (f < r->nf && r->idx[f] == i)
			f++;
		else
			r->ridx[r->nr++] = i;
	}
	rc = lupi_dataset_subset(r->ds, r->idx, r->nf, &r->forget);
	if (rc == LUPI_OK)
		rc = lupi_dataset_subset(r->ds, r->ridx, r->nr, &r->retain);
	if (rc != LUPI_OK)
		return cli_fail(rc, c->args[1]);
	return r->test ? held_out(c, r) : 0;
}

static int unlearn_sisa(const struct cli *c, struct unlearn_run *r)
{
	double t0 = cli_now();
	int rc;

	if (untrained_clone(r->m, &r->proto))
		return CLI_EXIT_ERROR;
	/* the bar counts the epochs of every shard and stage */
	cli_progress_init(&r->prog, c, "sisa",
			  lupi_dataset_rows(r->ds) / (size_t)c->shards);
	cli_progress_watch(&r->prog, r->proto);
	rc = lupi_sisa_create_sliced(r->proto, r->ds, (unsigned)c->shards,
				     (unsigned)c->slices, cli_seed(c),
				     &r->sisa, cli_progress_fn, &r->prog);
	cli_progress_done(&r->prog);
	r->train_seconds = cli_now() - t0;
	if (rc == LUPI_OK) {
		cli_progress_free(&r->prog); /* the curves of the shards */
		cli_progress_init(&r->prog, c, "forget",
				  lupi_dataset_rows(r->ds) /
				  (size_t)c->shards);
		rc = lupi_sisa_forget(r->sisa, r->idx, r->nf, &r->steps,
				      &r->seconds, cli_progress_fn, &r->prog);
		cli_progress_done(&r->prog);
	}
	if (rc == LUPI_OK)
		rc = lupi_sisa_last_cost(r->sisa, NULL, &r->scratch_steps);
	return rc == LUPI_OK ? 0 : cli_fail(rc, "sisa");
}

/* Accuracy on forget, retain, test, and the attack on forget vs test, of
 * the model m or (m NULL) the SISA ensemble; v[6]. */
static int unlearn_scores(const struct unlearn_run *r, const lupi_model *m,
			  double v[6])
{
	const lupi_dataset *held = r->held ? r->held : r->test;
	size_t nt = held ? lupi_dataset_rows(held) : 0;
	double *a = NULL, *b = NULL;
	int rc = 0;

	for (int i = 0; i < 6; i++)
		v[i] = NAN;
	if (m) {
		v[0] = accuracy(m, r->forget);
		v[1] = accuracy(m, r->retain);
		if (r->test) {
			v[2] = accuracy(m, r->test);
			rc = loss_attack(m, r->forget, held, v + 3);
		}
		return rc;
	}
	a = malloc(r->nf * sizeof(*a));
	b = malloc((nt + 1) * sizeof(*b));
	if (!a || !b)
		rc = cli_error("out of memory");
	if (!rc)
		rc = sisa_score(r->sisa, r->m, r->forget, &v[0], a);
	if (!rc)
		rc = sisa_score(r->sisa, r->m, r->retain, &v[1], NULL);
	if (!rc && r->test)
		rc = sisa_score(r->sisa, r->m, r->test, &v[2], NULL);
	if (!rc && r->test)
		rc = sisa_score(r->sisa, r->m, held, &v[3], b);
	if (!rc && r->test) {
		int lrc = lupi_mia_roc(a, r->nf, b, nt, &v[3], &v[4], &v[5]);

		rc = lrc == LUPI_OK ? 0 : cli_fail(lrc, "attack");
	}
	free(a);
	free(b);
	return rc;
}

static void scores_json(struct cli_json *j, const char *key,
			const double v[6])
{
	cli_json_object(j, key);
	cli_json_num(j, "forget_accuracy", v[0]);
	cli_json_num(j, "retain_accuracy", v[1]);
	cli_json_num(j, "test_accuracy", v[2]);
	cli_json_num(j, "attack_auc", v[3]);
	cli_json_num(j, "tpr_at_0_1pct", v[4]);
	cli_json_num(j, "tpr_at_1pct", v[5]);
	cli_json_close(j, '}');
}

static void scores_text(const char *name, const double v[6])
{
	printf("%-9s accuracy forget %.4f  retain %.4f", name, v[0], v[1]);
	if (!isnan(v[2]))
		printf("  test %.4f  attack AUC %.4f (TPR %.4f at 0.1%% FPR, "
		       "%.4f at 1%%)", v[2], v[3], v[4], v[5]);
	putchar('\n');
}

/* The optimiser steps retraining from scratch takes: EPOCHS passes over
 * the retain samples in batches of BATCH. */
static uint64_t retrain_steps(const struct unlearn_run *r)
{
	int64_t epochs = 0, batch = 1;
	size_t n = cli_samples_used(r->m, r->retain);

	lupi_model_get_int(r->m, LUPI_MODEL_OPT_EPOCHS, &epochs);
	lupi_model_get_int(r->m, LUPI_MODEL_OPT_BATCH, &batch);
	if (batch < 1)
		batch = 1;
	return (uint64_t)epochs * ((n + (size_t)batch - 1) / (size_t)batch);
}

static int unlearn_run(const struct cli *c, struct unlearn_run *r,
		       struct cli_json *j)
{
	double before[6], after[6];
	int sisa = c->method == CLI_METHOD_SISA, rc;
	uint64_t ref;

	if (unlearn_sets(c, r) || unlearn_scores(r, r->m, before))
		return CLI_EXIT_ERROR;
	if (!c->quiet && !j)
		printf("forgetting %zu of %zu samples by %s\n", r->nf,
		       lupi_dataset_rows(r->ds), method_name(c->method));
	if (sisa) {
		rc = unlearn_sisa(c, r); /* 130 after Ctrl-C */
		if (rc)
			return rc;
	} else {
		/* no cli_progress_watch: the unlearned model is a clone of
		 * r->m and keeps its options */
		cli_progress_init(&r->prog, c, method_name(c->method),
				  r->nr);
		rc = lupi_unlearn(r->m, r->ds, r->idx, r->nf, c->method,
				  (unsigned)c->unlearn_epochs, &r->u,
				  &r->steps, &r->seconds, cli_progress_fn,
				  &r->prog);
		cli_progress_done(&r->prog);
		if (rc != LUPI_OK)
			return cli_fail(rc, c->args[0]);
	}
	if (unlearn_scores(r, r->u, after))
		return CLI_EXIT_ERROR;
	ref = retrain_steps(r);
	if (j) {
		cli_json_str(j, "method", method_name(c->method));
		cli_json_int(j, "samples", (int64_t)lupi_dataset_rows(r->ds));
		cli_json_int(j, "forgotten", (int64_t)r->nf);
		cli_json_int(j, "retained", (int64_t)r->nr);
		if (c->test) {
			cli_json_int(j, "test_samples",
				     (int64_t)lupi_dataset_rows(r->test));
			cli_json_int(j, "attack_nonmembers", (int64_t)
				     lupi_dataset_rows(r->held ? r->held :
						       r->test));
		}
		cli_json_int(j, "steps", (int64_t)r->steps);
		cli_json_num(j, "seconds", r->seconds);
		cli_json_int(j, "retrain_steps", (int64_t)ref);
		cli_json_num(j, "steps_vs_retrain",
			     ref ? (double)r->steps / (double)ref : NAN);
		if (sisa) {
			cli_json_int(j, "shards", c->shards);
			cli_json_int(j, "slices", c->slices);
			cli_json_int(j, "scratch_steps",
				     (int64_t)r->scratch_steps);
			cli_json_num(j, "sisa_train_seconds",
				     r->train_seconds);
		}
		scores_json(j, "original", before);
		scores_json(j, "unlearned", after);
	} else {
		scores_text("original", before);
		scores_text("unlearned", after);
		printf("cost: %llu steps in %.2f s; retraining takes %llu "
		       "steps (%.2fx)", (unsigned long long)r->steps,
		       r->seconds, (unsigned long long)ref,
		       ref ? (double)r->steps / (double)ref : NAN);
		if (sisa)
			printf("; the shards' retraining from scratch %llu "
			       "steps; the %lld shards of %lld slices trained "
			       "first in %.2f s",
			       (unsigned long long)r->scratch_steps,
			       (long long)c->shards, (long long)c->slices,
			       r->train_seconds);
		putchar('\n');
	}
	return c->output ? cli_save_model(c, j, r->u, c->output) : 0;
}

int cmd_unlearn(struct cli *c)
{
	struct unlearn_run r = {0};
	struct cli_json json, *j = c->json ? &json : NULL;
	int rc;

	if (!c->forget == !c->v[CLI_O_FORGET_CLASS].set) {
		cli_usage_error("unlearn: give --forget FILE or --forget-class "
				"K (one of them)");
		return CLI_EXIT_USAGE;
	}
	if (c->method == CLI_METHOD_SISA && c->output) {
		cli_usage_error("unlearn --method sisa: the ensemble of shard "
				"models has no model file; drop -o");
		return CLI_EXIT_USAGE;
	}
	if (j)
		json_start(c, j);
	rc = json_finish(j, unlearn_run(c, &r, j));
	cli_progress_free(&r.prog);
	free(r.idx);
	free(r.ridx);
	lupi_sisa_free(r.sisa);
	lupi_model_free(r.proto);
	lupi_model_free(r.u);
	lupi_model_free(r.m);
	lupi_dataset_free(r.forget);
	lupi_dataset_free(r.retain);
	lupi_dataset_free(r.held);
	lupi_dataset_free(r.test);
	lupi_dataset_free(r.ds);
	return rc;
}

/* ---- audit --------------------------------------------------------------- */

#define ROC_POINTS 256

struct audit_model {
	const char *path;
	double eps, metric, auc, tpr01, tpr1;
	double fpr[ROC_POINTS + 2], tpr[ROC_POINTS + 2];
	size_t n_roc;
	int metric_id;
};

static int by_score_desc(const void *a, const void *b)
{
	double x = ((const double *)a)[0], y = ((const double *)b)[0];

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The ROC curve as at most ROC_POINTS + 2 points, from (0, 0) to (1, 1):
 * one point per distinct score threshold, thinned evenly. */
static int roc_curve(struct audit_model *am, const double *in, size_t ni,
		     const double *out, size_t no)
{
	size_t n = ni + no, tp = 0, fp = 0, step;
	double (*all)[2] = malloc(n * sizeof(*all));

	if (!all)
		return cli_error("out of memory");
	for (size_t i = 0; i < ni; i++)
		all[i][0] = in[i], all[i][1] = 1;
	for (size_t i = 0; i < no; i++)
		all[ni + i][0] = out[i], all[ni + i][1] = 0;
	qsort(all, n, sizeof(*all), by_score_desc);
	step = n / ROC_POINTS + 1;
	am->n_roc = 0;
	am->fpr[am->n_roc] = 0;
	am->tpr[am->n_roc++] = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i][1] > 0)
			tp++;
		else
			fp++;
		/* a threshold lies between distinct scores only */
		if (i + 1 < n && all[i + 1][0] == all[i][0])
			continue;
		if ((i + 1) % step && i + 1 < n)
			continue;
		if (am->n_roc < ROC_POINTS + 2) {
			am->fpr[am->n_roc] = (double)fp / (double)no;
			am->tpr[am->n_roc++] = (double)tp / (double)ni;
		}
	}
	am->fpr[am->n_roc - 1] = 1;
	am->tpr[am->n_roc - 1] = 1;
	free(all);
	return 0;
}

static int audit_scores(const struct cli *c, const lupi_model *m,
			const lupi_dataset *ds, const lupi_dataset *ref,
			double *scores)
{
	lupi_model *proto = NULL;
	struct cli_progress prog;
	int rc;

	if (c->attack == CLI_ATTACK_LOSS) {
		rc = lupi_mia_loss_scores(m, ds, scores);
	} else {
		if (untrained_clone(m, &proto))
			return CLI_EXIT_ERROR;
		/* the bar counts the epochs of all shadow models */
		cli_progress_init(&prog, c, "shadows",
				  lupi_dataset_rows(ref) / 2);
		cli_progress_watch(&prog, proto);
		/* the same seed: the same shadows for members and others */
		rc = lupi_mia_lira_offline(m, proto, ref,
					   (unsigned)c->shadows, cli_seed(c),
					   ds, scores, cli_progress_fn, &prog);
		cli_progress_done(&prog);
		cli_progress_free(&prog);
		lupi_model_free(proto);
	}
	return rc == LUPI_OK ? 0 : cli_fail(rc, "attack");
}

static int audit_one(const struct cli *c, const char *path,
		     struct audit_model *am)
{
	lupi_model *m = NULL;
	lupi_dataset *in = NULL, *out = NULL, *ref = NULL;
	double *a = NULL, *b = NULL, delta, q, sigma;
	uint64_t steps;
	size_t ni, no;
	int rc = CLI_EXIT_ERROR, lrc;

	am->path = path;
	if (cli_load_model(path, &m) ||
	    cli_load_data(c, c->members, m, &in) ||
	    cli_load_data(c, c->nonmembers, m, &out) ||
	    (c->reference && cli_load_data(c, c->reference, m, &ref)))
		goto done;
	ni = lupi_dataset_rows(in);
	no = lupi_dataset_rows(out);
	a = malloc((ni + 1) * sizeof(*a));
	b = malloc((no + 1) * sizeof(*b));
	if (!a || !b) {
		rc = cli_error("out of memory");
		goto done;
	}
	/* 130 after Ctrl-C */
	if ((lrc = audit_scores(c, m, in, ref, a)) != 0 ||
	    (lrc = audit_scores(c, m, out, ref, b)) != 0) {
		rc = lrc;
		goto done;
	}
	lrc = lupi_mia_roc(a, ni, b, no, &am->auc, &am->tpr01, &am->tpr1);
	if (lrc != LUPI_OK) {
		rc = cli_fail(lrc, path);
		goto done;
	}
	if (roc_curve(am, a, ni, b, no))
		goto done;
	am->metric_id = cli_primary_metric(lupi_model_task(m));
	lrc = lupi_model_evaluate(m, out, am->metric_id, &am->metric);
	if (lrc != LUPI_OK) {
		rc = cli_fail(lrc, c->nonmembers);
		goto done;
	}
	if (!privacy_record(m, &am->eps, &delta, &steps, &q, &sigma))
		am->eps = INFINITY; /* no guarantee */
	rc = 0;
done:
	free(a);
	free(b);
	lupi_dataset_free(ref);
	lupi_dataset_free(out);
	lupi_dataset_free(in);
	lupi_model_free(m);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The ROC curves, and where a model has a finite epsilon, the metric and
 * the attack's AUC against epsilon with the others as dashed levels. */
static int audit_plot(const char *path, const struct audit_model *am,
		      size_t n)
{
	struct svg_series roc[CLI_MAX_ARGS + 1], eps[2 + 2 * CLI_MAX_ARGS];
	struct svg_panel p[2];
	static const double diag[2] = {0, 1};
	double ex[CLI_MAX_ARGS], em[CLI_MAX_ARGS], ea[CLI_MAX_ARGS];
	double lo = INFINITY, hi = -INFINITY;
	static double lx[CLI_MAX_ARGS][2], ly[2 * CLI_MAX_ARGS][2];
	char names[3 * CLI_MAX_ARGS][96];
	size_t ne = 0, ns = 2;
	int order[CLI_MAX_ARGS];

	for (size_t i = 0; i < n; i++) {
		if (isfinite(am[i].eps))
			snprintf(names[i], sizeof(names[i]), "%s (eps %.3g)",
				 base_name(am[i].path), am[i].eps);
		else
			snprintf(names[i], sizeof(names[i]), "%s",
				 base_name(am[i].path));
		roc[i] = (struct svg_series){names[i], am[i].fpr, am[i].tpr,
					     am[i].n_roc, 0};
	}
	roc[n] = (struct svg_series){"chance", diag, diag, 2, 1};
	p[0] = (struct svg_panel){"Membership inference ROC",
				  "false positive rate", "true positive rate",
				  roc, n + 1};
	/* the private models by epsilon */
	for (size_t i = 0; i < n; i++) {
		size_t k = ne;

		if (!isfinite(am[i].eps))
			continue;
		while (k > 0 && am[order[k - 1]].eps > am[i].eps) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = (int)i;
		ne++;
		lo = fmin(lo, am[i].eps);
		hi = fmax(hi, am[i].eps);
	}
	if (ne == 0)
		return svg_write(path, p, 1);
	for (size_t k = 0; k < ne; k++) {
		ex[k] = am[order[k]].eps;
		em[k] = am[order[k]].metric;
		ea[k] = am[order[k]].auc;
	}
	eps[0] = (struct svg_series){cli_metric_name(am[0].metric_id), ex, em,
				     ne, 0};
	eps[1] = (struct svg_series){"attack AUC", ex, ea, ne, 0};
	for (size_t i = 0; i < n; i++) {
		if (isfinite(am[i].eps))
			continue;
		lx[i][0] = lo;
		lx[i][1] = hi;
		ly[2 * i][0] = ly[2 * i][1] = am[i].metric;
		ly[2 * i + 1][0] = ly[2 * i + 1][1] = am[i].auc;
		snprintf(names[n + 2 * i], sizeof(names[0]), "%s: %s",
			 base_name(am[i].path), cli_metric_name(
			 am[i].metric_id));
		snprintf(names[n + 2 * i + 1], sizeof(names[0]), "%s: AUC",
			 base_name(am[i].path));
		eps[ns++] = (struct svg_series){names[n + 2 * i], lx[i],
						ly[2 * i], 2, 1};
		eps[ns++] = (struct svg_series){names[n + 2 * i + 1], lx[i],
						ly[2 * i + 1], 2, 1};
	}
	p[1] = (struct svg_panel){"Against epsilon (dashed: not private)",
				  "epsilon", "test metric and attack AUC", eps,
				  ns};
	return svg_write(path, p, 2);
}

int cmd_audit(struct cli *c)
{
	struct audit_model *am;
	struct cli_json json, *j = c->json ? &json : NULL;
	int rc = 0;

	if (!c->members || !c->nonmembers) {
		cli_usage_error("audit: give --members FILE and --nonmembers "
				"FILE");
		return CLI_EXIT_USAGE;
	}
	if ((c->attack == CLI_ATTACK_LIRA) != (c->reference != NULL)) {
		cli_usage_error("audit: --attack lira and --reference FILE go "
				"together");
		return CLI_EXIT_USAGE;
	}
	am = calloc(c->n_args, sizeof(*am));
	if (!am)
		return cli_error("out of memory");
	if (j) {
		json_start(c, j);
		cli_json_str(j, "attack", c->attack == CLI_ATTACK_LIRA ?
			     "lira" : "loss");
		cli_json_array(j, "models");
	} else {
		printf("%-24s %9s %9s %7s %9s %7s\n", "model", "epsilon",
		       "test", "AUC", "TPR@0.1%", "TPR@1%");
	}
	for (size_t i = 0; i < c->n_args && rc == 0; i++) {
		struct audit_model *a = &am[i];

		rc = audit_one(c, c->args[i], a);
		if (rc)
			break;
		if (j) {
			cli_json_object(j, NULL);
			cli_json_str(j, "model", a->path);
			cli_json_num(j, "epsilon", a->eps);
			cli_json_str(j, "metric", cli_metric_name(a->metric_id));
			cli_json_num(j, "test", a->metric);
			cli_json_num(j, "auc", a->auc);
			cli_json_num(j, "tpr_at_0_1pct", a->tpr01);
			cli_json_num(j, "tpr_at_1pct", a->tpr1);
			cli_json_close(j, '}');
		} else {
			printf("%-24s %9.4g %9.4f %7.4f %9.4f %7.4f\n",
			       base_name(a->path), a->eps, a->metric, a->auc,
			       a->tpr01, a->tpr1);
		}
	}
	if (j)
		cli_json_close(j, ']');
	else if (rc == 0 && !c->quiet)
		printf("test: %s on --nonmembers; epsilon inf: no privacy "
		       "record\n", cli_metric_name(am[0].metric_id));
	if (rc == 0 && c->plot)
		rc = audit_plot(c->plot, am, c->n_args);
	free(am);
	return json_finish(j, rc);
}
