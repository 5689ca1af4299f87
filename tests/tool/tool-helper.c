/*
 * tool-helper.c - what test-tool.sh cannot do in sh:
 *
 *   tool-helper option HANDLE NAME
 *     prints the library's description of an option (HANDLE: model, loss,
 *     reader, compare) as "range=R default=D values=V", R as the tool
 *     should print it ("[1, 1000000]", "(0, 1000]", ">= 0"), so the test
 *     compares the tool's help and messages with the library itself;
 *   tool-helper dp-epsilon Q SIGMA STEPS DELTA
 *     prints lupi_dp_epsilon() as the tool's JSON prints numbers (%.10g);
 *     Q may be a fraction "BATCH/N", computed as the library computes it;
 *   tool-helper dp-sigma Q STEPS DELTA EPSILON
 *     prints "sigma=S epsilon=E": lupi_dp_sigma() and the epsilon of S;
 *   tool-helper pate-epsilon MECHANISM NOISE SIGMA1 QUERIES ANSWERED DELTA
 *     prints lupi_pate_epsilon() (MECHANISM: laplace, gnmax, confident);
 *   tool-helper interrupt SECONDS PROGRAM ARGS...
 *     runs PROGRAM with SIGINT at its default (a background job of sh
 *     ignores it), sends it SIGINT after SECONDS, and exits with its exit
 *     status (128 + the signal when a signal ended it).
 */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lupi.h"

static int handle_of(const char *name)
{
	static const char *names[] = {"model", "loss", "reader", "compare",
				      "layer", "dp"};

	for (int i = 0; i < 6; i++)
		if (strcasecmp(names[i], name) == 0)
			return i + 1;
	return 0;
}

static int option(const char *handle, const char *name)
{
	const lupi_option *o = lupi_option_by_name(handle_of(handle), name);

	if (!o) {
		fprintf(stderr, "tool-helper: no option %s of %s\n", name,
			handle);
		return 1;
	}
	if (o->type == LUPI_TYPE_INT && o->int_max == INT64_MAX)
		printf("range=>= %lld", (long long)o->int_min);
	else if (o->type == LUPI_TYPE_INT)
		printf("range=[%lld, %lld]", (long long)o->int_min,
		       (long long)o->int_max);
	else if (isinf(o->real_max))
		printf("range=%s %g", o->real_min_open ? ">" : ">=",
		       o->real_min);
	else
		printf("range=%c%g, %g%c", o->real_min_open ? '(' : '[',
		       o->real_min, o->real_max, o->real_max_open ? ')' : ']');
	if (o->type == LUPI_TYPE_INT)
		printf(" default=%lld", (long long)o->int_default);
	else
		printf(" default=%g", o->real_default);
	printf(" values=%s\n", o->values ? o->values : "");
	return 0;
}

/* "a/b" as (double)a / (double)b, as the library's BATCH / n; or a number */
static double rate(const char *s)
{
	const char *slash = strchr(s, '/');

	if (slash)
		return (double)strtoull(s, NULL, 10) /
		       (double)strtoull(slash + 1, NULL, 10);
	return strtod(s, NULL);
}

static int report(int rc, double v)
{
	if (rc != LUPI_OK) {
		fprintf(stderr, "tool-helper: %s\n", lupi_errmsg());
		return 1;
	}
	printf("%.10g\n", v);
	return 0;
}

static int privacy(int argc, char **argv)
{
	double eps = 0, sigma = 0;
	int rc;

	if (argc == 6 && strcmp(argv[1], "dp-epsilon") == 0) {
		rc = lupi_dp_epsilon(rate(argv[2]), atof(argv[3]),
				     strtoull(argv[4], NULL, 10),
				     atof(argv[5]), &eps);
		return report(rc, eps);
	}
	if (argc == 6 && strcmp(argv[1], "dp-sigma") == 0) {
		double q = rate(argv[2]);
		uint64_t steps = strtoull(argv[3], NULL, 10);

		rc = lupi_dp_sigma(q, steps, atof(argv[4]), atof(argv[5]),
				   &sigma);
		if (rc == LUPI_OK)
			rc = lupi_dp_epsilon(q, sigma, steps, atof(argv[4]),
					     &eps);
		if (rc != LUPI_OK)
			return report(rc, 0);
		printf("sigma=%.10g epsilon=%.10g\n", sigma, eps);
		return 0;
	}
	if (argc == 8 && strcmp(argv[1], "pate-epsilon") == 0) {
		int mech = strcmp(argv[2], "laplace") == 0 ? LUPI_PATE_LAPLACE :
			   strcmp(argv[2], "gnmax") == 0 ? LUPI_PATE_GNMAX :
			   LUPI_PATE_CONFIDENT;

		rc = lupi_pate_epsilon(mech, atof(argv[3]), atof(argv[4]),
				       strtoull(argv[5], NULL, 10),
				       strtoull(argv[6], NULL, 10),
				       atof(argv[7]), &eps);
		return report(rc, eps);
	}
	return -1;
}

static int interrupt(double seconds, char **argv)
{
	struct timespec ts = {(time_t)seconds,
			      (long)((seconds - floor(seconds)) * 1e9)};
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	nanosleep(&ts, NULL);
	kill(pid, SIGINT);
	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "option") == 0)
		return option(argv[2], argv[3]);
	if (argc >= 4 && strcmp(argv[1], "interrupt") == 0)
		return interrupt(atof(argv[2]), argv + 3);
	if (argc >= 2) {
		int rc = privacy(argc, argv);

		if (rc >= 0)
			return rc;
	}
	fputs("usage: tool-helper option HANDLE NAME | "
	      "dp-epsilon Q SIGMA STEPS DELTA | dp-sigma Q STEPS DELTA EPS | "
	      "pate-epsilon MECHANISM NOISE SIGMA1 QUERIES ANSWERED DELTA | "
	      "interrupt SECONDS PROGRAM ARGS...\n", stderr);
	return 2;
}
