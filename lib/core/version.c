/* Version queries and the process-wide thread count. */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "core_internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

/* 0 = not set: all cores. Read by every GEMM, possibly in several threads. */
static atomic_int num_threads;
static int cores;
static pthread_once_t cores_once = PTHREAD_ONCE_INIT;

unsigned lupi_version_number(void)
{
	return LUPI_VERSION_NUMBER;
}

const char *lupi_version_string(void)
{
	return STR(LUPI_VERSION_MAJOR) "." STR(LUPI_VERSION_MINOR) "." STR(
		LUPI_VERSION_PATCH);
}

static void count_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	cores = n < 1 ? 1 : n > 1024 ? 1024 : (int)n;
}

/* Counted once: sysconf reads /sys, and lupi__gemm asks on every call. */
static int all_cores(void)
{
	pthread_once(&cores_once, count_cores);
	return cores;
}

int lupi_set_num_threads(int n)
{
	if (n < 0 || n > 1024)
		return lupi__err(LUPI_ERANGE,
				 "thread count %d is outside [0, 1024]", n);
	atomic_store(&num_threads, n);
	lupi__blas_set_threads(n ? n : all_cores());
	return LUPI_OK;
}

int lupi_get_num_threads(void)
{
	int n = atomic_load_explicit(&num_threads, memory_order_relaxed);
	return n ? n : all_cores();
}
