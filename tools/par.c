/*
 * par.c - the processes of a run of `lupi`: one. lupi-mpi links par_mpi.c
 * instead, where every rank of an mpirun job runs the command (see cli.h
 * and doc/scaling.md); these are the same calls with nothing to share.
 */
#include <stdlib.h>

#include "cli.h"

/* Started by mpirun with several processes (Open MPI, MPICH and Slurm's
 * PMI say so), each would run the whole command and write the same
 * files: refuse, and name the program that shares the work. */
int cli_par_init(int *argc, char ***argv)
{
	static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
				     "PMIX_SIZE"};

	(void)argc;
	(void)argv;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && atoi(v) > 1) {
			fprintf(stderr, "lupi: started as %s processes (%s): "
				"each would run the whole command; run "
				"lupi-mpi under mpirun\n", v, vars[i]);
			return CLI_EXIT_USAGE;
		}
	}
	return 0;
}

int cli_par_command(struct cli *c)
{
	return c->cmd->run(c);
}

int cli_par_finish(int rc)
{
	return rc;
}

int cli_par_rank(void)
{
	return 0;
}

int cli_par_size(void)
{
	return 1;
}

int cli_par_load_data(const struct cli *c, const char *path,
		      const lupi_model *model, lupi_dataset **out)
{
	return cli_load_data(c, path, model, out);
}

int cli_par_read_matrix(const char *path, lupi_dataset **out)
{
	return cli_read_matrix(path, out);
}

int cli_par_load_model(const char *path, lupi_model **out)
{
	return cli_load_model(path, out);
}

int cli_par_fit_setup(lupi_model *m, int resumed)
{
	(void)m;
	(void)resumed;
	return 0;
}

int cli_par_any(int flag)
{
	return flag;
}

int cli_par_fit_done(lupi_model *m, int rc)
{
	(void)m;
	return rc;
}

int cli_par_resume(const struct cli *c, lupi_model *m, const char *path)
{
	int rc;

	if (cli_resume_check(c, path))
		return CLI_EXIT_ERROR;
	rc = lupi_model_resume(m, path);
	return rc == LUPI_OK ? 0 : cli_fail(rc, "--resume");
}

int cli_par_compare_run(const struct cli *c, lupi_compare *cmp,
			const lupi_dataset *train, const lupi_dataset *test,
			lupi_progress_fn progress, void *user)
{
	int rc = lupi_compare_run(cmp, train, test, progress, user);

	return rc == LUPI_OK ? 0 : cli_fail(rc, c->args[0]);
}
