/* Loader options (lupi_reader) and what the text loaders share: number and
 * label parsing, growable arrays, and turning collected rows into a
 * dataset. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

#define MAX_POOL 64

#define READER_INT(N, field, st, lo, hi, def, V, doc)                        \
	LUPI__OPT_INT(READER, N, lupi_reader, field, st, lo, hi, def, V, 0, 0, \
		      doc)

/* Readers are not saved in model files (file id 0). */
static const lupi__option reader_rows[] = {
	READER_INT(HEADER, header, LUPI__STORE_INT, 0, 1, 1, NULL,
		   "CSV: the first line names the columns (0/1)"),
	READER_INT(DELIMITER, delimiter, LUPI__STORE_INT, 1, 255, ',', NULL,
		   "CSV: the field separator, a byte other than a quote, CR "
		   "or LF"),
	READER_INT(TASK, task, LUPI__STORE_INT, LUPI_TASK_NONE,
		   LUPI_TASK_REGRESSION, LUPI_TASK_CLASSIFICATION,
		   "none,classification,binary,regression",
		   "the task of the targets (LUPI_TASK_*)"),
	READER_INT(CLASSES, classes, LUPI__STORE_INT, 0, LUPI__MAX_CLASSES, 0,
		   NULL, "classes K, not 1; 0 = the largest label + 1"),
	READER_INT(ALLOW_NONFINITE, allow_nonfinite, LUPI__STORE_INT, 0, 1, 0,
		   NULL, "accept nan and inf values (0/1)"),
	READER_INT(IDX_POOL, idx_pool, LUPI__STORE_INT, 1, MAX_POOL, 1, NULL,
		   "IDX: X = means of p x p blocks, X* = the image; 1 = X is "
		   "the image, no X*"),
	READER_INT(IDX_SCALE, idx_scale, LUPI__STORE_INT, 0, 1, 1, NULL,
		   "IDX: divide the bytes by 255 (0/1)"),
	READER_INT(MAX_ROWS, max_rows, LUPI__STORE_U64, 0, INT64_MAX, 0, NULL,
		   "stop after this many samples; 0 = all"),
};

const lupi__option_table lupi__reader_options = {
	LUPI_HANDLE_READER, "LUPI_READER_OPT_", reader_rows,
	sizeof reader_rows / sizeof reader_rows[0]};

/* A reader's options at their defaults, and no roles. */
static void reader_defaults(lupi_reader *r)
{
	memset(r, 0, sizeof *r);
	lupi__option_defaults(&lupi__reader_options, r);
}

const lupi_reader *lupi__reader_or_default(const lupi_reader *r,
					   lupi_reader *scratch)
{
	if (r != NULL)
		return r;
	reader_defaults(scratch);
	return scratch;
}

int lupi_reader_create(lupi_reader **out)
{
	LUPI__CHECK_NULL(out);
	*out = lupi__malloc(sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a reader");
	reader_defaults(*out);
	return LUPI_OK;
}

void lupi_reader_free(lupi_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_roles; i++)
		lupi__free(r->roles[i].name);
	lupi__free(r->roles);
	lupi__free(r);
}

/* The table holds the ranges; these values inside them are refused too. */
static int check_hole(int key, int64_t value)
{
	/* A quote or line break cannot separate RFC 4180 fields. */
	if (key == LUPI_READER_OPT_DELIMITER &&
	    (value == '"' || value == '\n' || value == '\r'))
		return lupi__err(LUPI_ERANGE, "LUPI_READER_OPT_DELIMITER = "
				 "%lld is not a byte in [1, 255] other than "
				 "a quote, CR or LF", (long long)value);
	if (key == LUPI_READER_OPT_CLASSES && value == 1)
		return lupi__err(LUPI_ERANGE, "LUPI_READER_OPT_CLASSES = 1 is "
				 "not 0 or in [2, %u]", LUPI__MAX_CLASSES);
	return LUPI_OK;
}

int lupi_reader_set_int(lupi_reader *r, int key, int64_t value)
{
	LUPI__CHECK_NULL(r);
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(&lupi__reader_options, key,
				      LUPI_TYPE_INT, &o));
	LUPI__TRY(check_hole(key, value));
	return lupi__option_store_int(&lupi__reader_options, o, r, value);
}

int lupi_reader_get_int(const lupi_reader *r, int key, int64_t *value)
{
	LUPI__CHECK_NULL(r);
	return lupi__option_get_int(&lupi__reader_options, r, key, value);
}

static int add_role(lupi_reader *r, struct lupi__role role)
{
	if (role.role < LUPI_ROLE_REGULAR || role.role > LUPI_ROLE_IGNORE)
		return lupi__err(LUPI_EINVAL, "unknown role %d", role.role);
	if (r->n_roles == r->cap_roles) {
		size_t cap = r->cap_roles ? 2 * r->cap_roles : 8;
		size_t bytes;
		if (lupi__mul_overflow(cap, sizeof *r->roles, &bytes))
			return lupi__err(LUPI_ENOMEM, "too many roles");
		struct lupi__role *p = lupi__realloc(r->roles, bytes);
		if (p == NULL)
			return lupi__err(LUPI_ENOMEM, "out of memory for a "
					 "role");
		r->roles = p;
		r->cap_roles = cap;
	}
	r->roles[r->n_roles++] = role;
	return LUPI_OK;
}

int lupi_reader_set_role(lupi_reader *r, size_t first, size_t last, int role)
{
	LUPI__CHECK_NULL(r);
	if (first == 0 || first > last)
		return lupi__err(LUPI_EINVAL, "columns %zu..%zu: need "
				 "1 <= first <= last", first, last);
	struct lupi__role ro = {first, last, NULL, role};
	return add_role(r, ro);
}

int lupi_reader_set_role_name(lupi_reader *r, const char *name, int role)
{
	LUPI__CHECK_NULL(r);
	LUPI__CHECK_NULL(name);
	if (role < LUPI_ROLE_REGULAR || role > LUPI_ROLE_IGNORE)
		return lupi__err(LUPI_EINVAL, "unknown role %d", role);
	struct lupi__role ro = {0, 0, lupi__strdup(name), role};
	if (ro.name == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a name");
	int rc = add_role(r, ro);
	if (rc != LUPI_OK)
		lupi__free(ro.name);
	return rc;
}

/* ---- growable arrays ---------------------------------------------------- */

void *lupi__vec_push(lupi__vec *v, size_t count)
{
	if (count > SIZE_MAX - v->len)
		return NULL;
	size_t need = v->len + count;
	if (need > v->cap) {
		size_t cap = v->cap > SIZE_MAX / 2 ? need : 2 * v->cap;
		if (cap < need)
			cap = need;
		if (cap < 16)
			cap = 16;
		size_t bytes;
		if (lupi__mul_overflow(cap, v->elem, &bytes))
			return NULL;
		unsigned char *p = lupi__realloc(v->p, bytes);
		if (p == NULL)
			return NULL;
		v->p = p;
		v->cap = cap;
	}
	void *at = v->p + v->len * v->elem;
	v->len = need;
	return at;
}

/* ---- parsing ------------------------------------------------------------ */

void lupi__c_numeric_enter(lupi__c_numeric *s)
{
	s->old = NULL;
	s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (s->c != NULL)
		s->old = uselocale((locale_t)s->c);
}

void lupi__c_numeric_leave(lupi__c_numeric *s)
{
	if (s->c == NULL)
		return;
	uselocale((locale_t)s->old);
	freelocale((locale_t)s->c);
	s->c = NULL;
}

int lupi__parse_double(const char *s, const char **end, double *v)
{
	char *e;
	/* strtod skips leading white space; a field of spaces is no number. */
	while (*s == ' ' || *s == '\t')
		s++;
	/* Other white space would let strtod read on past a line break. */
	if (*s == '\0' || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	*v = strtod(s, &e);
	if (e == s)
		return 0;
	*end = e;
	return 1;
}

/* A label as the file had it, for a message: %g would print 1048576 as
 * 1.04858e+06 and 1.0000001 as 1. Integers print as integers (up to
 * 1e21, beyond which %.0f would print hundreds of digits), anything else
 * with the 17 digits that identify a double. */
static const char *label_text(double v, char *buf, size_t size)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e21)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.17g", v);
	return buf;
}

int lupi__check_label(const lupi__table *t, double v, int pm1, int32_t *label)
{
	char text[40];
	if (t->task == LUPI_TASK_BINARY) {
		if (v == 0.0 || v == 1.0 || (pm1 && (v == -1.0))) {
			*label = v == 1.0;
			return LUPI_OK;
		}
		return lupi__err(LUPI_ERANGE, "label %s is not %s",
				 label_text(v, text, sizeof text),
				 pm1 ? "0/1 or -1/+1" : "0 or 1");
	}
	if (v != floor(v) || !isfinite(v))
		return lupi__err(LUPI_EFORMAT, "label %s is not an integer",
				 label_text(v, text, sizeof text));
	size_t k = t->k ? t->k : LUPI__MAX_CLASSES;
	if (v < 0.0 || v >= (double)k)
		return lupi__err(LUPI_ERANGE, "label %s is out of range "
				 "[0, %zu)", label_text(v, text, sizeof text),
				 k);
	*label = (int32_t)v;
	return LUPI_OK;
}

/* ---- tables ------------------------------------------------------------- */

void lupi__table_init(lupi__table *t, const lupi_reader *r)
{
	memset(t, 0, sizeof *t);
	t->task = r->task;
	t->k = r->task == LUPI_TASK_BINARY ? 2 : (size_t)r->classes;
	t->max_label = -1;
	t->x.elem = t->x_priv.elem = sizeof(float);
	t->targets.elem = t->weights.elem = sizeof(float);
	t->labels.elem = sizeof(int32_t);
	t->mask.elem = 1;
}

void lupi__table_free(lupi__table *t)
{
	lupi__free(t->x.p);
	lupi__free(t->x_priv.p);
	lupi__free(t->mask.p);
	lupi__free(t->labels.p);
	lupi__free(t->targets.p);
	lupi__free(t->weights.p);
	memset(&t->x, 0, sizeof t->x);
	t->x_priv = t->mask = t->labels = t->targets = t->weights = t->x;
}

/* Takes a vector's array, or NULL when it was not used. */
static void *take(lupi__vec *v)
{
	void *p = v->p;
	v->p = NULL;
	v->len = v->cap = 0;
	return p;
}

int lupi__table_finish(lupi__table *t, const char *path, lupi_dataset **out)
{
	if (t->n == 0)
		return lupi__err(LUPI_EFORMAT, "%s: no samples", path);
	if (t->d == 0)
		return lupi__err(LUPI_EFORMAT, "%s: no regular features",
				 path);
	lupi_dataset *ds = lupi__dataset_alloc();
	if (ds == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory for a dataset");
	ds->n = t->n;
	ds->d = t->d;
	ds->task = t->task;
	ds->x = take(&t->x);
	if (t->task == LUPI_TASK_REGRESSION) {
		ds->k = t->m;
		ds->targets = take(&t->targets);
	} else if (t->task != LUPI_TASK_NONE) {
		ds->k = t->k ? t->k : (size_t)t->max_label + 1;
		if (ds->k < 2)
			ds->k = 2;
		ds->labels = take(&t->labels);
	}
	if (t->has_weights)
		ds->weights = take(&t->weights);
	if (t->has_priv && t->d_priv > 0) {
		ds->d_priv = t->d_priv;
		ds->x_priv = take(&t->x_priv);
		lupi__dataset_settle_mask(ds, take(&t->mask));
	}
	lupi__table_free(t);
	*out = ds;
	return LUPI_OK;
}
