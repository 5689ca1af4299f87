/* The option engine: every handle describes its options in one table (key,
 * name, type, range, default, storage, model-file id), and its setters,
 * getters, the introspection, the model files and the CLI all read that
 * table. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core_internal.h"

static const char *type_name(int type)
{
	return type == LUPI_TYPE_INT ? "integer" : "real";
}

int lupi__option_lookup(const lupi__option_table *t, int key, int type,
			const lupi__option **row)
{
	*row = NULL;
	for (size_t i = 0; i < t->n; i++) {
		const lupi__option *o = &t->rows[i];
		if (o->pub.key != key)
			continue;
		if (o->pub.type != type)
			return lupi__err(LUPI_EUNKNOWN_OPTION,
					 "%s%s is a%s %s option, not a%s %s "
					 "one", t->prefix, o->pub.name,
					 o->pub.type == LUPI_TYPE_INT ? "n" : "",
					 type_name(o->pub.type),
					 type == LUPI_TYPE_INT ? "n" : "",
					 type_name(type));
		*row = o;
		return LUPI_OK;
	}
	static const char *const handles[] = {"", "a model", "a loss",
					      "a reader", "a comparison",
					      "a layer", "a DP configuration",
					      "an SVM+ model"};
	int h = key / 1000;
	if (h > 0 && h < (int)(sizeof handles / sizeof handles[0]) &&
	    h != t->handle)
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "key %d is not a %s key: it is in the range "
				 "of %s", key, t->prefix, handles[h]);
	return lupi__err(LUPI_EUNKNOWN_OPTION, "unknown %s option key %d",
			 t->prefix, key);
}

int lupi__option_store_int(const lupi__option_table *t, const lupi__option *o,
			   void *base, int64_t value)
{
	if (value < o->pub.int_min || value > o->pub.int_max)
		return lupi__err(LUPI_ERANGE,
				 "%s%s must be in [%" PRId64 ", %" PRId64
				 "], got %" PRId64,
				 t->prefix, o->pub.name, o->pub.int_min,
				 o->pub.int_max, value);
	char *f = (char *)base + o->offset;
	switch (o->store) {
	case LUPI__STORE_INT:
		*(int *)(void *)f = (int)value;
		break;
	case LUPI__STORE_I64:
		*(int64_t *)(void *)f = value;
		break;
	default:
		*(uint64_t *)(void *)f = (uint64_t)value;
		break;
	}
	return LUPI_OK;
}

static int in_range(const lupi_option *o, double v)
{
	if (isnan(v))
		return 0;
	if (o->real_min_open ? !(v > o->real_min) : !(v >= o->real_min))
		return 0;
	return o->real_max_open ? v < o->real_max : v <= o->real_max;
}

int lupi__option_store_double(const lupi__option_table *t,
			      const lupi__option *o, void *base, double value)
{
	if (!in_range(&o->pub, value))
		return lupi__err(LUPI_ERANGE, "%s%s must be in %c%g, %g%c, got %g",
				 t->prefix, o->pub.name,
				 o->pub.real_min_open ? '(' : '[',
				 o->pub.real_min, o->pub.real_max,
				 o->pub.real_max_open ? ')' : ']', value);
	*(double *)(void *)((char *)base + o->offset) = value;
	return LUPI_OK;
}

int64_t lupi__option_load_int(const lupi__option *o, const void *base)
{
	const char *f = (const char *)base + o->offset;
	switch (o->store) {
	case LUPI__STORE_INT:
		return *(const int *)(const void *)f;
	case LUPI__STORE_I64:
		return *(const int64_t *)(const void *)f;
	default:
		return (int64_t) * (const uint64_t *)(const void *)f;
	}
}

double lupi__option_load_double(const lupi__option *o, const void *base)
{
	return *(const double *)(const void *)((const char *)base + o->offset);
}

void lupi__option_defaults(const lupi__option_table *t, void *base)
{
	for (size_t i = 0; i < t->n; i++) {
		const lupi__option *o = &t->rows[i];
		char *f = (char *)base + o->offset;
		switch (o->store) {
		case LUPI__STORE_INT:
			*(int *)(void *)f = (int)o->pub.int_default;
			break;
		case LUPI__STORE_I64:
			*(int64_t *)(void *)f = o->pub.int_default;
			break;
		case LUPI__STORE_U64:
			*(uint64_t *)(void *)f = (uint64_t)o->pub.int_default;
			break;
		default:
			*(double *)(void *)f = o->pub.real_default;
			break;
		}
	}
}

int lupi__option_set_int(const lupi__option_table *t, void *base, int key,
			 int64_t value)
{
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_INT, &o));
	return lupi__option_store_int(t, o, base, value);
}

int lupi__option_set_double(const lupi__option_table *t, void *base, int key,
			    double value)
{
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_DOUBLE, &o));
	return lupi__option_store_double(t, o, base, value);
}

int lupi__option_get_int(const lupi__option_table *t, const void *base,
			 int key, int64_t *value)
{
	LUPI__CHECK_NULL(value);
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_INT, &o));
	*value = lupi__option_load_int(o, base);
	return LUPI_OK;
}

int lupi__option_get_double(const lupi__option_table *t, const void *base,
			    int key, double *value)
{
	LUPI__CHECK_NULL(value);
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_DOUBLE, &o));
	*value = lupi__option_load_double(o, base);
	return LUPI_OK;
}

const lupi__option *lupi__option_by_file_id(const lupi__option_table *t,
					    uint32_t file_id)
{
	for (size_t i = 0; file_id != 0 && i < t->n; i++)
		if (t->rows[i].file_id == file_id)
			return &t->rows[i];
	return NULL;
}
