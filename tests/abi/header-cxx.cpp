// lupi.h must compile as C++ and link with C linkage.
#include <lupi.h>

int main()
{
	lupi_dataset *ds = nullptr;
	lupi_dataset_free(ds);
	return lupi_version_number() == LUPI_VERSION_NUMBER ? 0 : 1;
}
