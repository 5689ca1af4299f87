/* CSV (RFC 4180) with column roles. The file is read whole; fields are
 * unquoted and NUL-terminated in place, one record at a time. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

#define ROLE_UNSET (-1)

struct csv {
	const char *path;
	const lupi_reader *r;
	char *p, *end;   /* cursor; *end is a NUL */
	char delim;
	size_t line;     /* line of the cursor */
	size_t rec_line; /* line where the current record starts */
	char **fields;   /* the current record */
	size_t n_fields, cap_fields;
};

static int push_field(struct csv *c, char *field)
{
	if (c->n_fields == c->cap_fields) {
		size_t cap = c->cap_fields ? 2 * c->cap_fields : 16, bytes;
		if (lupi__mul_overflow(cap, sizeof *c->fields, &bytes))
			return lupi__err(LUPI_ENOMEM, "too many fields");
		char **f = lupi__realloc(c->fields, bytes);
		if (f == NULL)
			return lupi__err(LUPI_ENOMEM, "%s:%zu: out of memory "
					 "for %zu fields", c->path, c->rec_line,
					 cap);
		c->fields = f;
		c->cap_fields = cap;
	}
	c->fields[c->n_fields++] = field;
	return LUPI_OK;
}

/* Past one line break at p (LF, CR LF, or CR alone as old Mac OS wrote);
 * 0 when there is none. */
static size_t newline_len(const char *p, const char *end)
{
	if (p >= end || (*p != '\n' && *p != '\r'))
		return 0;
	return p + 1 < end && p[0] == '\r' && p[1] == '\n' ? 2 : 1;
}

/* A NUL byte would end a field early when it is read as a C string
 * ("5\0junk" as 5), so it is refused where it stands. */
static int nul_error(const struct csv *c)
{
	return lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: embedded NUL byte",
			 c->path, c->rec_line, c->n_fields + 1);
}

/* Skips lines holding nothing but spaces and tabs. */
static void skip_blank_lines(struct csv *c)
{
	char delim = c->delim;
	while (c->p < c->end) {
		char *q = c->p;
		while (q < c->end && (*q == ' ' || *q == '\t') && *q != delim)
			q++;
		size_t nl = newline_len(q, c->end);
		if (nl == 0 && q < c->end)
			return;
		c->p = q + nl;
		c->line += nl != 0;
	}
}

/* A quoted field starting at c->p: unquotes it in place ("" is a quote)
 * and returns its start, or NULL with the error set. */
static char *quoted_field(struct csv *c, int *code)
{
	char *start = c->p, *w = c->p, *p = c->p + 1;
	for (;;) {
		if (p >= c->end) {
			*code = lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: "
					  "unterminated quoted field", c->path,
					  c->rec_line, c->n_fields + 1);
			return NULL;
		}
		if (*p == '\0') {
			*code = nul_error(c);
			return NULL;
		}
		if (*p == '"') {
			if (p + 1 < c->end && p[1] == '"') {
				*w++ = '"';
				p += 2;
				continue;
			}
			p++;
			break;
		}
		c->line += *p == '\n' || (*p == '\r' && p[1] != '\n');
		*w++ = *p++;
	}
	if (p < c->end && *p != c->delim &&
	    newline_len(p, c->end) == 0) {
		*code = lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: text after a "
				  "closing quote", c->path, c->line,
				  c->n_fields + 1);
		return NULL;
	}
	c->p = p;
	*w = '\0'; /* w < p: the quotes took at least two bytes */
	return start;
}

/* Reads the next non-blank record into c->fields. Returns 1, 0 at the end
 * of the file, or an error code. */
static int read_record(struct csv *c)
{
	skip_blank_lines(c);
	if (c->p >= c->end)
		return 0;
	c->rec_line = c->line;
	c->n_fields = 0;
	for (;;) {
		char *field;
		if (*c->p == '"') {
			int code = LUPI_OK;
			field = quoted_field(c, &code);
			if (field == NULL)
				return code;
		} else {
			field = c->p;
			while (c->p < c->end && *c->p != c->delim &&
			       *c->p != '\n' && *c->p != '\r' && *c->p != '\0')
				c->p++;
			if (c->p < c->end && *c->p == '\0')
				return nul_error(c);
		}
		LUPI__TRY(push_field(c, field));
		/* c->p is at a delimiter, a line break or the end. */
		if (c->p < c->end && *c->p == c->delim) {
			*c->p++ = '\0';
			continue;
		}
		/* A line break or the end (where *end is already a NUL). */
		size_t nl = newline_len(c->p, c->end);
		memset(c->p, 0, nl);
		c->p += nl;
		c->line += nl != 0;
		return 1;
	}
}

/* ---- roles -------------------------------------------------------------- */

static int apply_roles(struct csv *c, char **names, size_t ncols, int *role)
{
	const lupi_reader *r = c->r;
	for (size_t j = 0; j < ncols; j++)
		role[j] = ROLE_UNSET;
	for (size_t i = 0; i < r->n_roles; i++) {
		const struct lupi__role *ro = &r->roles[i];
		if (ro->name == NULL) {
			if (ro->first > ncols)
				return lupi__err(LUPI_EINVAL, "%s: columns "
						 "%zu..%zu: the file has %zu "
						 "columns", c->path, ro->first,
						 ro->last, ncols);
			size_t last = ro->last < ncols ? ro->last : ncols;
			for (size_t j = ro->first - 1; j < last; j++)
				role[j] = ro->role;
			continue;
		}
		if (names == NULL)
			return lupi__err(LUPI_EINVAL, "%s: column '%s' named, "
					 "but HEADER is 0", c->path, ro->name);
		int found = 0;
		for (size_t j = 0; j < ncols; j++) {
			if (strcmp(names[j], ro->name) == 0) {
				role[j] = ro->role;
				found = 1;
			}
		}
		if (!found)
			return lupi__err(LUPI_EINVAL, "%s: no column named "
					 "'%s'", c->path, ro->name);
	}
	return LUPI_OK;
}

/* Fills in the defaults (REGULAR; the last unassigned column is the target
 * when none is) and counts the columns of each role. */
static int settle_roles(struct csv *c, size_t ncols, int *role,
			lupi__table *t)
{
	size_t count[LUPI_ROLE_IGNORE + 1] = {0};
	for (size_t j = 0; j < ncols; j++)
		if (role[j] != ROLE_UNSET)
			count[role[j]]++;
	if (count[LUPI_ROLE_TARGET] == 0 && t->task != LUPI_TASK_NONE) {
		size_t j = ncols;
		while (j > 0 && role[j - 1] != ROLE_UNSET)
			j--;
		if (j == 0)
			return lupi__err(LUPI_EINVAL, "%s: no TARGET column",
					 c->path);
		role[j - 1] = LUPI_ROLE_TARGET;
		count[LUPI_ROLE_TARGET] = 1;
	}
	for (size_t j = 0; j < ncols; j++) {
		if (role[j] == ROLE_UNSET) {
			role[j] = LUPI_ROLE_REGULAR;
			count[LUPI_ROLE_REGULAR]++;
		}
	}
	size_t nt = count[LUPI_ROLE_TARGET];
	if (t->task == LUPI_TASK_NONE && nt > 0)
		return lupi__err(LUPI_EINVAL, "%s: TASK NONE takes no TARGET "
				 "column", c->path);
	if ((t->task == LUPI_TASK_CLASSIFICATION ||
	     t->task == LUPI_TASK_BINARY) && nt != 1)
		return lupi__err(LUPI_EINVAL, "%s: a classification task takes "
				 "one TARGET column, not %zu", c->path, nt);
	if (nt > LUPI__MAX_CLASSES)
		return lupi__err(LUPI_EINVAL, "%s: %zu TARGET columns",
				 c->path, nt);
	if (count[LUPI_ROLE_WEIGHT] > 1)
		return lupi__err(LUPI_EINVAL, "%s: %zu WEIGHT columns, at most "
				 "one", c->path, count[LUPI_ROLE_WEIGHT]);
	if (count[LUPI_ROLE_REGULAR] == 0)
		return lupi__err(LUPI_EINVAL, "%s: no REGULAR column",
				 c->path);
	t->d = count[LUPI_ROLE_REGULAR];
	t->d_priv = count[LUPI_ROLE_PRIVILEGED];
	t->has_priv = t->d_priv > 0;
	t->has_weights = count[LUPI_ROLE_WEIGHT] > 0;
	t->m = t->task == LUPI_TASK_REGRESSION ? nt : 0;
	return LUPI_OK;
}

/* ---- values ------------------------------------------------------------- */

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	return s;
}

static int is_empty(const char *s)
{
	return *skip_space(s) == '\0';
}

/* The number in field j of the current record. */
static int number(struct csv *c, size_t j, double *v)
{
	const char *s = c->fields[j], *e = NULL;
	if (lupi__parse_double(s, &e, v) && *skip_space(e) == '\0')
		return LUPI_OK;
	return lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: '%.40s' is not a number",
			 c->path, c->rec_line, j + 1, s);
}

/* A feature value: finite unless ALLOW_NONFINITE. */
static int feature(struct csv *c, size_t j, int allow, float *out)
{
	double v;
	LUPI__TRY(number(c, j, &v));
	*out = (float)v;
	if (!allow && !isfinite(*out))
		return lupi__err(LUPI_ENONFINITE, "%s:%zu:%zu: '%.40s' is not "
				 "finite", c->path, c->rec_line, j + 1,
				 c->fields[j]);
	return LUPI_OK;
}

static int prefix_location(struct csv *c, size_t j, int code)
{
	char where[320];
	snprintf(where, sizeof where, "%s:%zu:%zu", c->path, c->rec_line,
		 j + 1);
	return lupi__err_prefix(code, where);
}

static int label(struct csv *c, size_t j, lupi__table *t, int32_t *out)
{
	double v;
	LUPI__TRY(number(c, j, &v));
	int rc = lupi__check_label(t, v, 0, out);
	if (rc != LUPI_OK)
		return prefix_location(c, j, rc);
	if (*out > t->max_label)
		t->max_label = *out;
	return LUPI_OK;
}

static int weight(struct csv *c, size_t j, float *out)
{
	double v;
	LUPI__TRY(number(c, j, &v));
	*out = (float)v;
	if (!isfinite(*out) || *out < 0.0f)
		return lupi__err(LUPI_ERANGE, "%s:%zu:%zu: weight '%.40s' is "
				 "not finite and >= 0", c->path, c->rec_line,
				 j + 1, c->fields[j]);
	return LUPI_OK;
}

/* Room for one more row in every array the table uses. */
struct row {
	float *x, *xp, *target, *w;
	uint8_t *mask;
	int32_t *label;
};

static int push_row(struct csv *c, lupi__table *t, struct row *row)
{
	memset(row, 0, sizeof *row);
	int ok = (row->x = lupi__vec_push(&t->x, t->d)) != NULL;
	if (ok && t->has_priv)
		ok = (row->xp = lupi__vec_push(&t->x_priv, t->d_priv)) &&
		     (row->mask = lupi__vec_push(&t->mask, 1));
	if (ok && t->task == LUPI_TASK_REGRESSION)
		ok = (row->target = lupi__vec_push(&t->targets, t->m)) != NULL;
	else if (ok && t->task != LUPI_TASK_NONE)
		ok = (row->label = lupi__vec_push(&t->labels, 1)) != NULL;
	if (ok && t->has_weights)
		ok = (row->w = lupi__vec_push(&t->weights, 1)) != NULL;
	if (!ok)
		return lupi__err(LUPI_ENOMEM, "%s:%zu: out of memory",
				 c->path, c->rec_line);
	return LUPI_OK;
}

static int parse_row(struct csv *c, const int *role, size_t ncols,
		     lupi__table *t)
{
	if (c->n_fields != ncols)
		return lupi__err(LUPI_EFORMAT, "%s:%zu: row has %zu fields, "
				 "expected %zu", c->path, c->rec_line,
				 c->n_fields, ncols);
	struct row row;
	LUPI__TRY(push_row(c, t, &row));
	int allow = c->r->allow_nonfinite;
	if (row.mask != NULL)
		*row.mask = 1;
	for (size_t j = 0; j < ncols; j++) {
		switch (role[j]) {
		case LUPI_ROLE_REGULAR:
			LUPI__TRY(feature(c, j, allow, row.x++));
			break;
		case LUPI_ROLE_PRIVILEGED:
			if (is_empty(c->fields[j])) {
				*row.mask = 0;
				*row.xp++ = 0.0f;
				break;
			}
			LUPI__TRY(feature(c, j, allow, row.xp++));
			break;
		case LUPI_ROLE_TARGET:
			if (row.label != NULL)
				LUPI__TRY(label(c, j, t, row.label));
			else
				LUPI__TRY(feature(c, j, 0, row.target++));
			break;
		case LUPI_ROLE_WEIGHT:
			LUPI__TRY(weight(c, j, row.w));
			break;
		default:
			break;
		}
	}
	t->n++;
	return LUPI_OK;
}

static int load(struct csv *c, lupi__table *t, lupi_dataset **out)
{
	int rc = read_record(c);
	if (rc <= 0)
		return rc < 0 ? rc : lupi__err(LUPI_EFORMAT, "%s: no samples",
					       c->path);
	size_t ncols = c->n_fields;
	int *role = lupi__malloc_array(ncols, sizeof *role);
	if (role == NULL)
		return lupi__err(LUPI_ENOMEM, "%s: out of memory for %zu "
				 "columns", c->path, ncols);
	rc = apply_roles(c, c->r->header ? c->fields : NULL, ncols, role);
	if (rc == LUPI_OK)
		rc = settle_roles(c, ncols, role, t);
	if (rc == LUPI_OK && !c->r->header)
		rc = parse_row(c, role, ncols, t);
	uint64_t max = c->r->max_rows;
	while (rc == LUPI_OK && (max == 0 || t->n < max)) {
		rc = read_record(c);
		if (rc == 1)
			rc = parse_row(c, role, ncols, t);
		else if (rc == 0)
			break;
	}
	lupi__free(role);
	if (rc == LUPI_OK)
		rc = lupi__table_finish(t, c->path, out);
	return rc;
}

int lupi_dataset_load_csv(const char *path, const lupi_reader *r,
			  lupi_dataset **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(path);
	lupi_reader defaults;
	r = lupi__reader_or_default(r, &defaults);
	unsigned char *data;
	size_t len;
	LUPI__TRY(lupi__read_file(path, &data, &len));
	struct csv c = {0};
	c.path = path;
	c.r = r;
	c.delim = (char)r->delimiter;
	c.p = (char *)data;
	c.end = c.p + len;
	/* Excel's "CSV UTF-8" starts with a byte-order mark, which is no
	 * part of the first column's name. */
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3;
	c.line = 1;
	lupi__table t;
	lupi__table_init(&t, r);
	lupi__c_numeric loc;
	lupi__c_numeric_enter(&loc);
	int rc = load(&c, &t, out);
	lupi__c_numeric_leave(&loc);
	lupi__table_free(&t);
	lupi__free(c.fields);
	lupi__free(data);
	return rc;
}
