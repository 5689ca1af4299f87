/* lupi.h must compile as strict C99 with every warning as an error. */
#include <lupi.h>

int main(void)
{
	return lupi_version_number() == LUPI_VERSION_NUMBER ? 0 : 1;
}
