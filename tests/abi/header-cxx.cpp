// lupi.h must compile as C++ and link with C linkage; its types (option
// descriptions, progress, callbacks) must be usable from C++.
#include <lupi.h>
#include <cstring>

static int stop(void *, const lupi_progress *p)
{
	return p->size < sizeof *p;
}

int main()
{
	lupi_dataset *ds = nullptr;
	lupi_dataset_free(ds);
	lupi_free(nullptr);
	lupi_progress_fn fn = stop;
	(void)fn;
	const lupi_option *o = lupi_option_by_name(LUPI_HANDLE_LOSS, "lambda");
	if (o == nullptr || o->key != LUPI_LOSS_OPT_LAMBDA ||
	    o->type != LUPI_TYPE_DOUBLE ||
	    std::strcmp(lupi_errname(LUPI_EINVAL), "LUPI_EINVAL") != 0)
		return 1;
	return lupi_version_number() == LUPI_VERSION_NUMBER ? 0 : 1;
}
