/*
 * lupi.c - the `lupi` command-line tool: parses the command line and runs
 * the handler of its command (opts.c's command table). See `lupi --help`.
 */
#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_fail(int code, const char *context)
{
	const char *msg = lupi_errmsg();

	if (code == LUPI_ECANCELLED) {
		fputs("lupi: interrupted\n", stderr);
		return CLI_EXIT_INTERRUPTED;
	}
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

int main(int argc, char **argv)
{
	struct cli c;
	int rc = cli_par_init(&argc, &argv);

	if (rc)
		return rc;
	rc = cli_parse(&c, argc, argv);
	if (rc > 0)
		return cli_par_finish(CLI_EXIT_OK);
	if (rc == -2)
		return cli_par_finish(CLI_EXIT_ERROR);
	if (rc < 0)
		return cli_par_finish(CLI_EXIT_USAGE);
	cli_catch_interrupt();
	return cli_par_finish(cli_par_command(&c));
}
