/* LIBSVM / svmlight text: "label idx:value ..." per line. The first pass
 * parses and checks every line into (index, value) pairs; the dimension is
 * known only at the end, so the second pass scatters them into dense X and
 * X*. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

struct pair {
	uint32_t idx; /* 1-based */
	float val;
};

struct svm {
	const char *path;
	const lupi_reader *r;
	const char *line_start;
	size_t line;
	lupi__vec pairs;   /* struct pair, all rows */
	lupi__vec row_end; /* size_t per row: end of its pairs */
	size_t max_idx;
};

static int is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
	       ch == '\f';
}

/* A token ends at white space, a comment or the end of the line. */
static int token_end(char ch)
{
	return ch == '\0' || ch == '\n' || ch == '#' || is_blank(ch);
}

static size_t column(const struct svm *s, const char *at)
{
	return (size_t)(at - s->line_start) + 1;
}

/* The token at p, for a message. */
static int token_len(const char *p)
{
	int n = 0;
	while (n < 40 && !token_end(p[n]))
		n++;
	return n;
}

static int at_err(const struct svm *s, const char *at, int code,
		  const char *what)
{
	return lupi__err(code, "%s:%zu:%zu: %s '%.*s'", s->path, s->line,
			 column(s, at), what, token_len(at), at);
}

static int parse_label(struct svm *s, const char *p, lupi__table *t)
{
	double v;
	const char *e = NULL;
	if (!lupi__parse_double(p, &e, &v) || !token_end(*e))
		return at_err(s, p, LUPI_EFORMAT, "bad label");
	if (t->task == LUPI_TASK_REGRESSION) {
		float *target = lupi__vec_push(&t->targets, 1);
		if (target == NULL)
			return lupi__err(LUPI_ENOMEM, "out of memory");
		*target = (float)v;
		if (!isfinite(*target))
			return at_err(s, p, LUPI_ENONFINITE,
				      "non-finite label");
		return LUPI_OK;
	}
	if (t->task == LUPI_TASK_NONE)
		return LUPI_OK;
	int32_t *label = lupi__vec_push(&t->labels, 1);
	if (label == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory");
	int rc = lupi__check_label(t, v, 1, label);
	if (rc != LUPI_OK) {
		char where[320];
		snprintf(where, sizeof where, "%s:%zu:%zu", s->path, s->line,
			 column(s, p));
		return lupi__err_prefix(rc, where);
	}
	if (*label > t->max_label)
		t->max_label = *label;
	return LUPI_OK;
}

/* One "idx:value" at p; *next is set past it. */
static int parse_pair(struct svm *s, const char *p, size_t *prev,
		      const char **next)
{
	const char *q = p;
	size_t idx = 0;
	while (*q >= '0' && *q <= '9') {
		if (idx <= LUPI__MAX_INDEX)
			idx = idx * 10 + (size_t)(*q - '0');
		q++;
	}
	if (q == p || *q != ':')
		return at_err(s, p, LUPI_EFORMAT, "malformed pair");
	double v;
	const char *e = NULL;
	if (!lupi__parse_double(q + 1, &e, &v) || !token_end(*e) ||
	    is_blank(q[1]))
		return at_err(s, p, LUPI_EFORMAT, "malformed pair");
	if (idx == 0)
		return at_err(s, p, LUPI_EFORMAT, "feature index 0 in");
	if (idx > LUPI__MAX_INDEX)
		return lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: feature index "
				 "above %zu", s->path, s->line, column(s, p),
				 LUPI__MAX_INDEX);
	if (idx <= *prev)
		return lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: feature index %zu "
				 "after %zu: indices must increase", s->path,
				 s->line, column(s, p), idx, *prev);
	struct pair *pr = lupi__vec_push(&s->pairs, 1);
	if (pr == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory");
	pr->idx = (uint32_t)idx;
	pr->val = (float)v;
	if (!s->r->allow_nonfinite && !isfinite(pr->val))
		return at_err(s, q + 1, LUPI_ENONFINITE, "non-finite value");
	if (idx > s->max_idx)
		s->max_idx = idx;
	*prev = idx;
	*next = e;
	return LUPI_OK;
}

/* Parses one line (p at its start); returns 1 for a sample, 0 for a blank
 * or comment line, or an error. */
static int parse_line(struct svm *s, const char *p, lupi__table *t)
{
	s->line_start = p;
	while (is_blank(*p))
		p++;
	if (*p == '\0' || *p == '\n' || *p == '#')
		return 0;
	LUPI__TRY(parse_label(s, p, t));
	while (!token_end(*p))
		p++;
	size_t prev = 0;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0' || *p == '\n' || *p == '#')
			break;
		if (strncmp(p, "qid:", 4) == 0) { /* svmlight ranking ids */
			while (!token_end(*p))
				p++;
			continue;
		}
		const char *next = p;
		LUPI__TRY(parse_pair(s, p, &prev, &next));
		p = next;
	}
	size_t *end = lupi__vec_push(&s->row_end, 1);
	if (end == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory");
	*end = s->pairs.len;
	return 1;
}

/* The end of the line at p (its LF, CR or stop). The parser reads a line
 * as a C string, so a NUL byte inside would end it early and drop what
 * follows ("1 1:2\0 5:3" would lose feature 5): it is an error. */
static int line_end(struct svm *s, char *p, char *stop, char **eol)
{
	char *q = p;
	while (q < stop && *q != '\n' && *q != '\r' && *q != '\0')
		q++;
	if (q < stop && *q == '\0') {
		s->line_start = p;
		return lupi__err(LUPI_EFORMAT, "%s:%zu:%zu: embedded NUL byte",
				 s->path, s->line, column(s, q));
	}
	*eol = q;
	return LUPI_OK;
}

/* Lines end at LF, CR LF or a CR alone (old Mac OS). Each line is cut
 * into a C string in place. */
static int parse_all(struct svm *s, char *text, char *stop, lupi__table *t)
{
	char *p = text;
	uint64_t max = s->r->max_rows;
	for (s->line = 1; p < stop && (max == 0 || t->n < max); s->line++) {
		char *eol = stop;
		LUPI__TRY(line_end(s, p, stop, &eol));
		char brk = eol < stop ? *eol : '\0';
		*eol = '\0'; /* at stop, already a NUL */
		int rc = parse_line(s, p, t);
		if (rc < 0)
			return rc;
		t->n += (size_t)rc;
		if (eol == stop)
			break;
		p = eol + 1 + (brk == '\r' && eol + 1 < stop && eol[1] == '\n');
	}
	return LUPI_OK;
}

/* The role of each index 1..d (role[0] unused): REGULAR unless a range
 * says otherwise. Counts the regular and privileged ones. */
static int index_roles(struct svm *s, size_t d, uint8_t *role, lupi__table *t)
{
	const lupi_reader *r = s->r;
	memset(role, LUPI_ROLE_REGULAR, d + 1);
	for (size_t i = 0; i < r->n_roles; i++) {
		const struct lupi__role *ro = &r->roles[i];
		if (ro->name != NULL)
			return lupi__err(LUPI_EINVAL, "%s: LIBSVM features "
					 "have no names ('%s')", s->path,
					 ro->name);
		if (ro->role != LUPI_ROLE_REGULAR &&
		    ro->role != LUPI_ROLE_PRIVILEGED &&
		    ro->role != LUPI_ROLE_IGNORE)
			return lupi__err(LUPI_EINVAL, "%s: only REGULAR, "
					 "PRIVILEGED and IGNORE apply to "
					 "LIBSVM features", s->path);
		if (ro->role == LUPI_ROLE_PRIVILEGED)
			t->has_priv = 1;
		for (size_t j = ro->first; j <= ro->last && j <= d; j++)
			role[j] = (uint8_t)ro->role;
	}
	t->d = t->d_priv = 0;
	for (size_t j = 1; j <= d; j++) {
		t->d += role[j] == LUPI_ROLE_REGULAR;
		t->d_priv += role[j] == LUPI_ROLE_PRIVILEGED;
	}
	t->has_priv = t->has_priv && t->d_priv > 0;
	return LUPI_OK;
}

/* Dense n x w floats, zeroed, at the end of v; NULL on failure. */
static float *dense(lupi__vec *v, size_t n, size_t w)
{
	size_t count;
	if (lupi__mul_overflow(n, w, &count))
		return NULL;
	float *p = lupi__vec_push(v, count);
	if (p != NULL)
		memset(p, 0, count * sizeof *p);
	return p;
}

/* Fills dense X, X* and the mask from the pairs, given index roles. */
static int scatter(struct svm *s, const uint8_t *role, lupi__table *t)
{
	size_t d = s->max_idx, total, bytes;
	if (lupi__mul_overflow(t->n, t->d + t->d_priv, &total) ||
	    lupi__mul_overflow(total, sizeof(float), &bytes) ||
	    bytes > LUPI__MAX_DENSE_BYTES)
		return lupi__err(LUPI_EFORMAT, "%s: %zu samples x %zu features "
				 "exceed %zu bytes as dense floats", s->path,
				 t->n, t->d + t->d_priv,
				 LUPI__MAX_DENSE_BYTES);
	uint32_t *col = lupi__malloc_array(d + 1, sizeof *col);
	float *x = dense(&t->x, t->n, t->d);
	float *xp = t->has_priv ? dense(&t->x_priv, t->n, t->d_priv) : NULL;
	uint8_t *mask = t->has_priv ? lupi__vec_push(&t->mask, t->n) : NULL;
	if (col == NULL || x == NULL ||
	    (t->has_priv && (xp == NULL || mask == NULL))) {
		lupi__free(col);
		return lupi__err(LUPI_ENOMEM, "%s: out of memory for %zu x %zu "
				 "features", s->path, t->n, t->d + t->d_priv);
	}
	/* Column of each index within its view, in index order. */
	uint32_t nr = 0, np = 0;
	for (size_t j = 1; j <= d; j++)
		col[j] = role[j] == LUPI_ROLE_REGULAR      ? nr++
			 : role[j] == LUPI_ROLE_PRIVILEGED ? np++
							   : 0;
	const struct pair *pr = (const struct pair *)s->pairs.p;
	const size_t *end = (const size_t *)s->row_end.p;
	for (size_t i = 0, k = 0; i < t->n; i++) {
		if (mask != NULL)
			mask[i] = 0;
		for (; k < end[i]; k++) {
			uint32_t j = pr[k].idx;
			if (role[j] == LUPI_ROLE_REGULAR) {
				x[i * t->d + col[j]] = pr[k].val;
			} else if (role[j] == LUPI_ROLE_PRIVILEGED && mask) {
				xp[i * t->d_priv + col[j]] = pr[k].val;
				mask[i] = 1;
			}
		}
	}
	lupi__free(col);
	return LUPI_OK;
}

static int load(struct svm *s, char *text, size_t len, lupi__table *t,
		lupi_dataset **out)
{
	/* A UTF-8 byte-order mark, as some editors write, is no label. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	LUPI__TRY(parse_all(s, text, text + len, t));
	if (t->n == 0)
		return lupi__err(LUPI_EFORMAT, "%s: no samples", s->path);
	uint8_t *role = lupi__malloc(s->max_idx + 1);
	if (role == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory");
	int rc = index_roles(s, s->max_idx, role, t);
	if (rc == LUPI_OK && t->d == 0)
		rc = lupi__err(LUPI_EFORMAT, "%s: no regular features",
			       s->path);
	if (rc == LUPI_OK)
		rc = scatter(s, role, t);
	lupi__free(role);
	if (rc == LUPI_OK)
		rc = lupi__table_finish(t, s->path, out);
	return rc;
}

int lupi_dataset_load_libsvm(const char *path, const lupi_reader *r,
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
	struct svm s = {0};
	s.path = path;
	s.r = r;
	s.pairs.elem = sizeof(struct pair);
	s.row_end.elem = sizeof(size_t);
	lupi__table t;
	lupi__table_init(&t, r);
	t.m = r->task == LUPI_TASK_REGRESSION; /* the label is the target */
	lupi__c_numeric loc;
	lupi__c_numeric_enter(&loc);
	int rc = load(&s, (char *)data, len, &t, out);
	lupi__c_numeric_leave(&loc);
	lupi__table_free(&t);
	lupi__free(s.pairs.p);
	lupi__free(s.row_end.p);
	lupi__free(data);
	return rc;
}
