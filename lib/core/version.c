/* Version queries. */

#include "core_internal.h"

#define STR2(x) #x
#define STR(x) STR2(x)

unsigned lupi_version_number(void)
{
	return LUPI_VERSION_NUMBER;
}

const char *lupi_version_string(void)
{
	return STR(LUPI_VERSION_MAJOR) "." STR(LUPI_VERSION_MINOR) "." STR(
		LUPI_VERSION_PATCH);
}
