/* The public option introspection: a directory of every handle's table.
 * It is the one file that knows them all, so it sits above every layer. */
#include <ctype.h>
#include <string.h>

#include "../privacy/privacy_internal.h"
#include "../svm/svm_internal.h"
#include "../train/train_internal.h"
#include "../tram/tram_internal.h"

static const lupi__option_table *table_of(int handle)
{
	switch (handle) {
	case LUPI_HANDLE_MODEL:
		return &lupi__model_options;
	case LUPI_HANDLE_LOSS:
		return &lupi__loss_options;
	case LUPI_HANDLE_READER:
		return &lupi__reader_options;
	case LUPI_HANDLE_COMPARE:
		return &lupi__compare_options;
	case LUPI_HANDLE_LAYER:
		return &lupi__layer_options;
	case LUPI_HANDLE_DP:
		return &lupi__dp_options;
	case LUPI_HANDLE_SVM:
		return &lupi__svm_options;
	case LUPI_HANDLE_TRAM:
		return &lupi__tram_options;
	default:
		return NULL;
	}
}

const lupi_option *lupi_option_by_key(int key)
{
	const lupi__option_table *t = table_of(key / 1000);
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (t->rows[i].pub.key == key)
			return &t->rows[i].pub;
	return NULL;
}

/* name equals want, ignoring case and taking '-' for '_'. */
static int same_name(const char *name, const char *want)
{
	for (; *name && *want; name++, want++) {
		int c = *want == '-' ? '_' : toupper((unsigned char)*want);
		if (c != *name)
			return 0;
	}
	return *name == *want;
}

const lupi_option *lupi_option_by_name(int handle, const char *name)
{
	const lupi__option_table *t = table_of(handle);
	if (t == NULL || name == NULL)
		return NULL;
	size_t plen = strlen(t->prefix);
	/* The full macro name: the prefix, in any case, then the name. */
	if (strlen(name) > plen) {
		size_t j = 0;
		while (j < plen && toupper((unsigned char)name[j]) == t->prefix[j])
			j++;
		if (j == plen)
			name += plen;
	}
	for (size_t i = 0; i < t->n; i++)
		if (same_name(t->rows[i].pub.name, name))
			return &t->rows[i].pub;
	return NULL;
}

const lupi_option *lupi_option_next(int handle, const lupi_option *prev)
{
	const lupi__option_table *t = table_of(handle);
	if (t == NULL || t->n == 0)
		return NULL;
	if (prev == NULL)
		return &t->rows[0].pub;
	for (size_t i = 0; i + 1 < t->n; i++)
		if (&t->rows[i].pub == prev)
			return &t->rows[i + 1].pub;
	return NULL;
}
