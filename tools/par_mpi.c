/*
 * par_mpi.c - the processes of a run of lupi-mpi: every rank of an mpirun
 * job runs the command line. Rank 0 reads the files (data, teacher model,
 * teacher outputs, checkpoint) and the others receive them
 * (lupi_mpi_bcast_dataset, model bytes); in train, teacher and distill every
 * rank draws the permutations and batches of one process and steps on
 * its share of each batch (lupi_model_set_share), the gradient averaged
 * every step (liblupi-mpi), so that the model is that of one process up
 * to float summation order; compare shares its table's cells
 * (lupi_mpi_compare_run: the serial table, bit for bit); rank 0 alone
 * prints, writes the model, the plot and the checkpoints. The other
 * commands run on rank 0.
 *
 * Why a second binary and not `lupi` itself: lupi keeps the dependencies
 * it has without -Dmpi (no libmpi in a plain install, as liblupi.so), and
 * needs no guess from launcher variables (OMPI_COMM_WORLD_SIZE, PMI_SIZE,
 * PMIX_RANK, SLURM_PROCID, ...) whether to call MPI_Init; lupi-mpi always
 * calls it, and without mpirun it is one rank (MPI singleton).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "lupi_mpi.h"

static lupi_mpi *ctx;
static int rank_, size_ = 1;
static FILE *err_copy; /* rank > 0: stderr before it was silenced */

int cli_par_init(int *argc, char ***argv)
{
	int fd;

	if (MPI_Init(argc, argv) != MPI_SUCCESS) {
		fputs("lupi: MPI_Init failed\n", stderr);
		return CLI_EXIT_ERROR;
	}
	if (lupi_mpi_create(MPI_COMM_WORLD, &ctx) != LUPI_OK) {
		fprintf(stderr, "lupi: %s\n", lupi_mpi_errmsg());
		MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_ERROR);
	}
	rank_ = lupi_mpi_rank(ctx);
	size_ = lupi_mpi_size(ctx);
	if (rank_ == 0)
		return 0;
	/* the ranks run the same command on the same data, so they would
	   print the same; rank 0 speaks for all */
	fd = dup(STDERR_FILENO);
	if (fd >= 0)
		err_copy = fdopen(fd, "w");
	if (!freopen("/dev/null", "w", stdout) ||
	    !freopen("/dev/null", "w", stderr))
		return CLI_EXIT_ERROR;
	return 0;
}

/* The commands that run on every rank: by handler, so that `train`
 * (cmd_teacher too, with its collective loads) is one of them. */
static int parallel(const struct cli *c)
{
	return c->cmd->run == cmd_teacher || c->cmd->run == cmd_distill ||
	       c->cmd->run == cmd_compare;
}

int cli_par_command(struct cli *c)
{
	if (!parallel(c))
		return rank_ == 0 ? c->cmd->run(c) : CLI_EXIT_OK;
	if (rank_ != 0) {
		c->quiet = 1;
		c->output = NULL;
		c->plot = NULL;
	}
	return c->cmd->run(c);
}

/* Every rank exits with the worst status (rank 0's, for the commands it
 * runs alone). */
int cli_par_finish(int rc)
{
	int worst = rc;

	MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	lupi_mpi_free(ctx);
	MPI_Finalize();
	if (err_copy)
		fclose(err_copy);
	return worst;
}

int cli_par_rank(void)
{
	return rank_;
}

int cli_par_size(void)
{
	return size_;
}

/* A failure of liblupi-mpi: ESTATE means root failed and said why. */
static int mpi_fail(int rc, const char *what)
{
	if (rc == LUPI_ESTATE && rank_ != 0)
		return CLI_EXIT_ERROR;
	return cli_error("%s: %s", what, lupi_mpi_errmsg());
}

static int bcast_from_root(lupi_dataset *mine, int failed, lupi_dataset **out)
{
	int rc = lupi_mpi_bcast_dataset(ctx, failed ? NULL : mine, 0, out);

	lupi_dataset_free(mine);
	if (failed) /* rank 0 said why */
		return CLI_EXIT_ERROR;
	return rc == LUPI_OK ? 0 : mpi_fail(rc, "sending the data");
}

int cli_par_load_data(const struct cli *c, const char *path,
		      const lupi_model *model, lupi_dataset **out)
{
	lupi_dataset *ds = NULL;
	int failed = rank_ == 0 && cli_load_data(c, path, model, &ds);

	return bcast_from_root(ds, failed, out);
}

int cli_par_read_matrix(const char *path, lupi_dataset **out)
{
	lupi_dataset *ds = NULL;
	int failed = rank_ == 0 && cli_read_matrix(path, &ds);

	return bcast_from_root(ds, failed, out);
}

/* Sends root's bytes (len 0: root failed) in pieces MPI counts hold. */
static int bcast_bytes(void **data, unsigned long long *len)
{
	MPI_Bcast(len, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
	if (*len == 0)
		return -1;
	if (rank_ != 0 && !(*data = malloc((size_t)*len)))
		MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_ERROR);
	for (unsigned long long off = 0; off < *len;) {
		unsigned long long part = *len - off < INT_MAX ? *len - off :
								  INT_MAX;

		MPI_Bcast((char *)*data + off, (int)part, MPI_BYTE, 0,
			  MPI_COMM_WORLD);
		off += part;
	}
	return 0;
}

/* Whether every rank succeeded. */
static int all_ok(int ok)
{
	int all = 0;

	MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	return all;
}

int cli_par_load_model(const char *path, lupi_model **out)
{
	void *data = NULL;
	size_t size = 0;
	unsigned long long len = 0;
	int rc = LUPI_OK;

	*out = NULL;
	if (rank_ == 0) {
		rc = lupi_model_load(path, out);
		if (rc == LUPI_OK)
			rc = lupi_model_save_memory(*out, &data, &size);
		if (rc != LUPI_OK)
			cli_fail(rc, path);
		len = rc == LUPI_OK ? size : 0;
	}
	if (bcast_bytes(&data, &len))
		return CLI_EXIT_ERROR;
	if (rank_ != 0)
		rc = lupi_model_load_memory(data, (size_t)len, out);
	if (rank_ == 0)
		lupi_free(data);
	else
		free(data);
	if (!all_ok(rc == LUPI_OK)) {
		lupi_model_free(*out);
		*out = NULL;
		return rc == LUPI_OK ? CLI_EXIT_ERROR : cli_fail(rc, path);
	}
	return 0;
}

/* Every rank trains on the whole training part, as one process would
 * (the same standardisation, fitted by the fit itself, the same
 * permutations and batches), and steps on its share of every batch. */
int cli_par_fit_setup(lupi_model *m, int resumed)
{
	int rc = LUPI_OK;

	if (!resumed) {
		/* the same seed gives every rank the same weights; rank 0's
		   are sent anyway, so that they cannot differ */
		rc = lupi_model_init(m);
		if (rc == LUPI_OK) {
			rc = lupi_mpi_bcast_model(ctx, m, 0);
			if (rc != LUPI_OK)
				return mpi_fail(rc, "the initial model");
		}
	}
	if (rc == LUPI_OK)
		rc = lupi_model_set_share(m, (unsigned)rank_, (unsigned)size_);
	if (rc == LUPI_OK)
		rc = lupi_mpi_attach(ctx, m);
	return rc == LUPI_OK ? 0 : cli_fail(rc, NULL);
}

int cli_par_any(int flag)
{
	int any = flag != 0;

	MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
	return any;
}

int cli_par_fit_done(lupi_model *m, int rc)
{
	uint64_t calls = 0;
	double seconds = 0;

	/* A stop is agreed (cli_par_any); any other failure may be this
	   rank's alone while the others wait in a reduction: end the job. */
	if (rc != LUPI_OK && rc != LUPI_ECANCELLED && size_ > 1) {
		FILE *f = rank_ == 0 ? stderr : err_copy;

		if (f)
			fprintf(f, "lupi: rank %d: %s\n", rank_,
				*lupi_errmsg() ? lupi_errmsg() :
				lupi_strerror(rc));
		MPI_Abort(MPI_COMM_WORLD, CLI_EXIT_ERROR);
	}
	lupi_model_set_reduce(m, NULL, NULL);
	lupi_model_set_share(m, 0, 1);
	if (getenv("LUPI_MPI_STATS") && rank_ == 0 &&
	    lupi_mpi_stats(ctx, &calls, NULL, &seconds) == LUPI_OK)
		fprintf(stderr, "lupi-mpi: %d ranks, %llu reductions, %.3f s "
			"in MPI_Allreduce\n", size_,
			(unsigned long long)calls, seconds);
	return rc;
}

int cli_par_resume(const struct cli *c, lupi_model *m, const char *path)
{
	void *data = NULL;
	unsigned long long len = 0;
	char tmp[] = "/tmp/lupi-resume.XXXXXX";
	const char *from = path;
	int rc = LUPI_OK, fd;

	if (rank_ == 0 && !cli_resume_check(c, path)) {
		FILE *f = fopen(path, "rb");
		long n = -1;

		if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
		    fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n)) &&
		    fread(data, 1, (size_t)n, f) == (size_t)n)
			len = (unsigned long long)n;
		else
			cli_error("--resume: cannot read %s", path);
		if (f)
			fclose(f);
	}
	if (bcast_bytes(&data, &len)) {
		free(data);
		return CLI_EXIT_ERROR;
	}
	/* the other ranks resume from a private copy of rank 0's file */
	if (rank_ != 0) {
		fd = mkstemp(tmp);
		rc = fd >= 0 && write(fd, data, (size_t)len) == (ssize_t)len ?
			LUPI_OK : LUPI_EIO;
		if (fd >= 0)
			close(fd);
		from = tmp;
	}
	free(data);
	if (rc == LUPI_OK)
		rc = lupi_model_resume(m, from);
	if (rank_ != 0)
		unlink(tmp);
	if (!all_ok(rc == LUPI_OK))
		return rc == LUPI_OK ? CLI_EXIT_ERROR : cli_fail(rc, "--resume");
	return 0;
}

int cli_par_compare_run(const struct cli *c, lupi_compare *cmp,
			const lupi_dataset *train, const lupi_dataset *test,
			lupi_progress_fn progress, void *user)
{
	int rc = lupi_mpi_compare_run(ctx, cmp, train, test, progress, user);

	if (rc == LUPI_ECANCELLED)
		return cli_fail(rc, NULL);
	return rc == LUPI_OK ? 0 : cli_error("%s: %s", c->args[0],
					     lupi_mpi_errmsg());
}
