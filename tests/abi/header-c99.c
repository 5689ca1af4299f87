/* lupi.h must compile as strict C99 with every warning as an error, and
 * its types (option descriptions, progress, callbacks) be usable there. */
#include <lupi.h>
#include <string.h>

static int stop(void *user, const lupi_progress *p)
{
	(void)user;
	return p->size < sizeof *p;
}

int main(void)
{
	const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	lupi_progress_fn fn = stop;
	(void)fn;
	lupi_free(NULL);
	if (o == NULL || o->size != sizeof *o || o->key / 1000 != o->handle ||
	    strcmp(lupi_errname(LUPI_ECANCELLED), "LUPI_ECANCELLED") != 0)
		return 1;
	return lupi_version_number() == LUPI_VERSION_NUMBER ? 0 : 1;
}
