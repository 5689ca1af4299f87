/*
 * cmd_train.c - `lupi teacher` and `lupi distill`: load the data, hold out
 * a validation part, train with a progress bar (and checkpoints), report,
 * save, plot. Under lupi-mpi every rank trains on its share of every
 * batch of the training part (par_mpi.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

struct run {
	lupi_dataset *all, *train, *valid;
	size_t *idx, *idx_train, n_train; /* idx_train: within idx */
	struct cli_json json, *j;
	struct cli_progress prog;
	double seconds;
};

static void run_free(struct run *r)
{
	if (r->train != r->all)
		lupi_dataset_free(r->train);
	lupi_dataset_free(r->valid);
	lupi_dataset_free(r->all);
	free(r->idx);
	cli_progress_free(&r->prog);
}

/* Loads DATA (for the teacher model tm, when not NULL) and splits off
 * --valid; idx_train maps train rows to DATA's. */
static int load_split(const struct cli *c, struct run *r,
		      const lupi_model *tm)
{
	size_t n, nv;
	int rc;

	if (cli_par_load_data(c, c->args[0], tm, &r->all))
		return CLI_EXIT_ERROR;
	if (lupi_dataset_task(r->all) == LUPI_TASK_NONE)
		return cli_error("%s: no labels or targets", c->args[0]);
	if (c->valid <= 0) {
		r->train = r->all;
		return 0;
	}
	n = lupi_dataset_rows(r->all);
	r->idx = malloc(n * sizeof(*r->idx));
	if (!r->idx)
		return cli_error("out of memory");
	/* the first nv indices are held out */
	if (cli_split(r->all, c->valid, cli_seed(c), r->idx, &nv))
		return CLI_EXIT_ERROR;
	r->idx_train = r->idx + nv;
	r->n_train = n - nv;
	rc = lupi_dataset_subset(r->all, r->idx_train, r->n_train, &r->train);
	if (rc == LUPI_OK)
		rc = lupi_dataset_subset(r->all, r->idx, nv, &r->valid);
	return rc == LUPI_OK ? 0 : cli_fail(rc, NULL);
}

/* --checkpoint DIR: the file of this command's model in DIR. */
static int checkpoint_path(const struct cli *c, const char *name, char *buf,
			   size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s.ckpt", c->checkpoint, name) >=
	    size)
		return cli_error("--checkpoint: the path '%s' is too long",
				 c->checkpoint);
	return 0;
}

int cli_resume_check(const struct cli *c, const char *path)
{
	struct stat st;

	if (stat(c->checkpoint, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_error("--resume: %s: no such directory (nothing to "
				 "resume)", c->checkpoint);
	if (stat(path, &st) != 0)
		return cli_error("--resume: %s: no checkpoint to resume from "
				 "(%s)", path, strerror(errno));
	return 0;
}

/*
 * With --resume, m continues from DIR/NAME.ckpt (its options, weights and
 * position: the fit then ends as the run that wrote it would have); with
 * --checkpoint, the fit writes it every --checkpoint-every steps (rank 0
 * only). *resumed tells whether m was restored.
 */
static int setup_checkpoint(const struct cli *c, lupi_model *m,
			    const char *name, int *resumed)
{
	char path[4096];
	struct stat st;
	int rc;

	*resumed = 0;
	if (!c->checkpoint)
		return 0;
	if (checkpoint_path(c, name, path, sizeof(path)))
		return CLI_EXIT_ERROR;
	if (c->resume) {
		if (cli_par_resume(c, m, path))
			return CLI_EXIT_ERROR;
		*resumed = 1;
	}
	/* rank 0 alone writes it */
	if (cli_par_rank() != 0)
		return 0;
	if (!c->resume && mkdir(c->checkpoint, 0777) != 0 && errno != EEXIST)
		return cli_error("--checkpoint: cannot create %s: %s",
				 c->checkpoint, strerror(errno));
	if (!c->resume && stat(path, &st) == 0 && !c->quiet)
		fprintf(stderr, "lupi: %s exists: starting over (--resume "
			"continues it)\n", path);
	rc = lupi_model_set_checkpoint(m, path,
				       (uint64_t)c->checkpoint_every);
	return rc == LUPI_OK ? 0 : cli_fail(rc, "--checkpoint");
}

/* The progress of a fit, and LUPI_STOP_AFTER_STEPS=N (for tests of
 * --resume): stop as an interrupt would, after N optimiser steps. */
struct fit_progress {
	struct cli_progress *p;
	uint64_t stop_after;
};

static int fit_progress_fn(void *user, const lupi_progress *e)
{
	struct fit_progress *f = user;
	uint64_t step = (uint64_t)(e->epoch - 1) * e->steps_per_epoch +
			e->step;
	int stop = cli_progress_fn(f->p, e);

	/* every rank stops at the same step, or the others would wait */
	return cli_par_any(stop || (f->stop_after && step >= f->stop_after));
}

/* The checkpoint, the data-parallel set-up and the progress of a fit of m
 * on r->train named `name` ("teacher", "student"). */
static int fit_begin(const struct cli *c, struct run *r, lupi_model *m,
		     const char *name, struct fit_progress *f)
{
	const char *stop = getenv("LUPI_STOP_AFTER_STEPS");
	int resumed;

	/* rank 0 may fail alone (creating DIR): the ranks agree first */
	if (cli_par_any(setup_checkpoint(c, m, name, &resumed) != 0))
		return CLI_EXIT_ERROR;
	if (cli_par_fit_setup(m, resumed))
		return CLI_EXIT_ERROR;
	cli_progress_init(&r->prog, c, name, cli_samples_used(m, r->train));
	cli_progress_watch(&r->prog, m);
	f->p = &r->prog;
	f->stop_after = stop ? strtoull(stop, NULL, 10) : 0;
	if (f->stop_after)
		lupi_model_set_int(m, LUPI_MODEL_OPT_PROGRESS_STEPS, 1);
	return 0;
}

/* The samples counted are those m trains on (for a teacher on X*: those
 * with X*), and the others are said to be skipped. */
static void describe(const struct cli *c, const struct run *r,
		     const char *role, const lupi_model *m, int view)
{
	size_t k = lupi_model_outputs(m);
	size_t used = cli_samples_used(m, r->train);
	size_t skipped = lupi_dataset_rows(r->train) - used;
	int task = lupi_model_task(m);
	char name[32];

	if (r->j) {
		cli_json_str(r->j, "command", c->command);
		cli_json_str(r->j, "task",
			     cli_task_name(task, name, sizeof(name)));
		cli_json_str(r->j, "view", cli_view_name(view));
		cli_json_int(r->j, "inputs", (int64_t)lupi_model_inputs(m));
		cli_json_int(r->j, "outputs", (int64_t)k);
		cli_json_int(r->j, "train_samples", (int64_t)used);
		cli_json_int(r->j, "train_skipped", (int64_t)skipped);
		return;
	}
	if (c->quiet)
		return;
	printf("%s on %s features (%zu) -> %s", role, cli_view_name(view),
	       lupi_model_inputs(m), cli_task_name(task, name, sizeof(name)));
	if (task == LUPI_TASK_CLASSIFICATION)
		printf(", %zu classes", k);
	printf("; %zu training samples", used);
	if (skipped)
		printf(" (%zu skipped without X*)", skipped);
	if (r->valid)
		printf(", %zu validation", cli_samples_used(m, r->valid));
	putchar('\n');
}

static int finish(const struct cli *c, struct run *r, const lupi_model *m,
		  const char *default_label)
{
	if (r->j) {
		/* trained bits depend on the BLAS kernels: say which ran */
		char blas[160];
		cli_json_num(r->j, "seconds", r->seconds);
		if (lupi_blas_info(blas, sizeof blas) != LUPI_EINVAL)
			cli_json_str(r->j, "blas", blas);
	} else if (!c->quiet)
		printf("trained %u epochs in %.2f s\n", r->prog.n_epochs,
		       r->seconds);
	if (cli_dp_given(c))
		cli_print_privacy(c, r->j, m, "privacy: ");
	if (cli_print_metrics(r->j, "train", m, r->train))
		return CLI_EXIT_ERROR;
	if (r->valid && cli_print_metrics(r->j, "valid", m, r->valid))
		return CLI_EXIT_ERROR;
	if (c->output) {
		int e = cli_save_model(c, r->j, m, c->output);
		if (e)
			return e;
	} else if (!r->j && !c->quiet) {
		printf("%s not saved (no -o FILE)\n", default_label);
	}
	if (c->plot &&
	    cli_plot_curves(c->plot, &r->prog, 1,
			    cli_primary_metric(lupi_model_task(m))))
		return CLI_EXIT_ERROR;
	return 0;
}

static int train_teacher(const struct cli *c, struct run *r)
{
	/* `lupi train` runs this too: its model is no teacher */
	const char *role = strcmp(c->command, "train") ? "teacher" : "model";
	int view = (int)cli_int(c, CLI_O_VIEW);
	lupi_model *m = NULL;
	struct fit_progress f;
	double t0;
	int rc;

	if (load_split(c, r, NULL))
		return CLI_EXIT_ERROR;
	if (cli_make_model(c, r->train, view, 1, &m))
		return CLI_EXIT_ERROR;
	describe(c, r, role, m, view);
	if (fit_begin(c, r, m, role, &f)) {
		lupi_model_free(m);
		return CLI_EXIT_ERROR;
	}
	t0 = cli_now();
	/* private: cmd_privacy.c (the data-parallel set-up is refused) */
	rc = cli_dp_given(c) ?
		cli_fit_dp(c, m, NULL, NULL, r->train, r->valid, &r->prog) :
		lupi_model_fit(m, r->train, r->valid, fit_progress_fn, &f);
	cli_progress_done(&r->prog);
	r->seconds = cli_now() - t0;
	rc = cli_par_fit_done(m, rc);
	if (rc != LUPI_OK)
		rc = cli_fail(rc, c->args[0]);
	else
		rc = finish(c, r, m, role);
	lupi_model_free(m);
	return rc;
}

static void begin(const struct cli *c, struct run *r)
{
	r->j = NULL;
	if (c->json) {
		r->j = &r->json;
		cli_json_begin(r->j, stdout);
	}
}

static int end(struct run *r, int rc)
{
	if (r->j) {
		cli_json_int(r->j, "exit", rc);
		cli_json_end(r->j);
	}
	run_free(r);
	return rc;
}

/* --resume without --checkpoint is a usage error */
static int usage_ok(const struct cli *c)
{
	if (c->resume && !c->checkpoint) {
		cli_usage_error("%s: --resume needs --checkpoint DIR",
				c->command);
		return 0;
	}
	return 1;
}

int cmd_teacher(struct cli *c)
{
	struct run r = {0};

	if (!usage_ok(c) || cli_dp_check(c))
		return CLI_EXIT_USAGE;
	begin(c, &r);
	return end(&r, train_teacher(c, &r));
}

/* Teacher outputs from a CSV file: one row per sample of DATA. */
static int add_external(const struct cli *c, struct run *r, lupi_teacher *t)
{
	lupi_dataset *file = NULL, *part = NULL;
	size_t n_all = lupi_dataset_rows(r->all), n, k;
	int rc;

	if (cli_par_read_matrix(c->teacher_outputs, &file))
		return CLI_EXIT_ERROR;
	n = lupi_dataset_rows(file);
	k = lupi_dataset_dim(file, LUPI_VIEW_REGULAR);
	if (n != n_all) {
		lupi_dataset_free(file);
		return cli_error("%s: %zu rows, but %s has %zu samples",
				 c->teacher_outputs, n, c->args[0], n_all);
	}
	/* the rows of the training part, as the dataset was split */
	rc = r->idx_train ? lupi_dataset_subset(file, r->idx_train,
						r->n_train, &part) : LUPI_OK;
	if (rc == LUPI_OK)
		rc = lupi_teacher_add_outputs(t, r->train,
			lupi_dataset_features(part ? part : file,
					      LUPI_VIEW_REGULAR),
			k, c->outputs_kind, 1.0);
	rc = rc == LUPI_OK ? 0 : cli_fail(rc, c->teacher_outputs);
	lupi_dataset_free(part);
	lupi_dataset_free(file);
	return rc;
}

/* The teacher model, loaded before DATA so that DATA is read for it. */
static int load_teacher_model(const struct cli *c, lupi_model **tm)
{
	if (!c->teacher)
		return 0;
	return cli_par_load_model(c->teacher, tm);
}

static int make_teacher(const struct cli *c, struct run *r,
			lupi_teacher **t, lupi_model *tm)
{
	int rc = lupi_teacher_create(t);

	if (rc != LUPI_OK)
		return cli_fail(rc, NULL);
	if (c->teacher_outputs)
		return add_external(c, r, *t);
	/* every rank the outputs of the whole training part: a rank's
	   shares of the batches cover all of it in an epoch */
	rc = lupi_teacher_add_model(*t, tm, 1.0);
	if (rc == LUPI_OK)
		rc = lupi_teacher_prepare(*t, r->train);
	return rc == LUPI_OK ? 0 : cli_fail(rc, c->teacher);
}

static int train_student(const struct cli *c, struct run *r)
{
	lupi_teacher *t = NULL;
	lupi_model *tm = NULL, *m = NULL;
	lupi_loss *loss = NULL;
	struct fit_progress f;
	double t0;
	int rc = CLI_EXIT_ERROR;

	if (load_teacher_model(c, &tm) || load_split(c, r, tm) ||
	    make_teacher(c, r, &t, tm) ||
	    cli_make_model(c, r->train, LUPI_VIEW_REGULAR, 0, &m) ||
	    cli_make_loss(c, lupi_dataset_task(r->train), &loss))
		goto out;
	describe(c, r, "student", m, LUPI_VIEW_REGULAR);
	if (tm && r->valid &&
	    cli_print_metrics(r->j, "teacher_valid", tm, r->valid))
		goto out;
	if (fit_begin(c, r, m, "student", &f)) {
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	t0 = cli_now();
	rc = cli_dp_given(c) ?
		cli_fit_dp(c, m, t, loss, r->train, r->valid, &r->prog) :
		lupi_student_fit(m, t, loss, r->train, r->valid,
				 fit_progress_fn, &f);
	cli_progress_done(&r->prog);
	r->seconds = cli_now() - t0;
	rc = cli_par_fit_done(m, rc);
	if (rc != LUPI_OK)
		rc = cli_fail(rc, c->args[0]);
	else
		rc = finish(c, r, m, "student");
out:
	lupi_loss_free(loss);
	lupi_model_free(m);
	lupi_model_free(tm);
	lupi_teacher_free(t);
	return rc;
}

int cmd_distill(struct cli *c)
{
	struct run r = {0};

	if (!c->teacher == !c->teacher_outputs) {
		cli_usage_error("distill: give --teacher FILE or "
				"--teacher-outputs FILE (one of them)");
		return CLI_EXIT_USAGE;
	}
	if (!usage_ok(c) || cli_dp_check(c))
		return CLI_EXIT_USAGE;
	begin(c, &r);
	return end(&r, train_student(c, &r));
}
