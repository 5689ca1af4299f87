/* Version queries and the process-wide thread count. */
#include <unistd.h>

#include "core_internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static int num_threads; /* 0 = not set: all cores */

unsigned lupi_version_number(void)
{
	return LUPI_VERSION_NUMBER;
}

const char *lupi_version_string(void)
{
	return STR(LUPI_VERSION_MAJOR) "." STR(LUPI_VERSION_MINOR) "." STR(
		LUPI_VERSION_PATCH);
}

static int all_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

int lupi_set_num_threads(int n)
{
	if (n < 0 || n > 1024)
		return lupi__err(LUPI_ERANGE,
				 "thread count %d is outside [0, 1024]", n);
	num_threads = n;
	lupi__blas_set_threads(n ? n : all_cores());
	return LUPI_OK;
}

int lupi_get_num_threads(void)
{
	return num_threads ? num_threads : all_cores();
}
