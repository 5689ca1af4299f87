/*
 * lupi.c - the `lupi` command-line tool: parses the command line and runs
 * one subcommand. See `lupi --help`.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_fail(int code, const char *context)
{
	const char *msg = lupi_errmsg();

	if (!msg || !*msg)
		msg = lupi_strerror(code);
	if (context && !strstr(msg, context))
		fprintf(stderr, "lupi: %s: %s\n", context, msg);
	else
		fprintf(stderr, "lupi: %s\n", msg);
	return CLI_EXIT_ERROR;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("lupi: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_ERROR;
}

struct runner {
	const char *name;
	int (*run)(struct cli *c);
};

static const struct runner runners[] = {
	{"demo", cmd_demo},       {"teacher", cmd_teacher},
	{"distill", cmd_distill}, {"compare", cmd_compare},
	{"eval", cmd_eval},       {"predict", cmd_predict},
	{"info", cmd_info},
};

int main(int argc, char **argv)
{
	struct cli c;
	int rc = cli_parse(&c, argc, argv);

	if (rc > 0)
		return CLI_EXIT_OK;
	if (rc < 0)
		return CLI_EXIT_USAGE;
	if (c.threads && lupi_set_num_threads(c.threads) != LUPI_OK)
		return cli_fail(LUPI_ERANGE, "--threads");
	for (size_t i = 0; i < sizeof(runners) / sizeof(runners[0]); i++)
		if (strcmp(runners[i].name, c.command) == 0)
			return runners[i].run(&c);
	return CLI_EXIT_USAGE;
}
