/*
 * SVM+ files: a versioned little-endian container (doc/families.md, "SVM+
 * files"), packed byte by byte:
 *
 *   magic[8] = 89 'L' 'S' 'V' 'M' '\r' '\n' 1a, u16 major = 1, u16 minor = 0,
 *   u32 flags = 0, u64 body length, body, u32 CRC-32C of all before it.
 *   body: u32 kernel, u32 priv_kernel, f64 C, gamma, width, priv_width,
 *   tolerance, i64 max_iter, cache_bytes, u32 plain, u64 machines (1 for
 *   two classes, else one per class, one-vs-rest), then per machine f64 b,
 *   b*, objective, violation, u64 iterations, the decision and the
 *   correcting expansion, each u64 count, u64 dim, count f64
 *   coefficients, count*dim f32 rows.
 *
 * The loader checks the length, the checksum and every size against the
 * body before it allocates.
 */
#include <math.h>
#include <string.h>

#include "svm_internal.h"

static const unsigned char magic[8] = {0x89, 'L', 'S', 'V', 'M', '\r', '\n',
				       0x1a};
#define IO_MAJOR 1
#define IO_MINOR 0
#define HEAD 24u /* magic, major, minor, flags, body length */
#define FIXED (2 * 4 + 5 * 8 + 2 * 8 + 4 + 8)
#define MACHINE_FIXED (4 * 8 + 8)

static size_t expansion_bytes(const lupi__expansion *e)
{
	return 16 + e->n * 8 + e->n * e->d * 4;
}

static unsigned char *put_expansion(unsigned char *p, const lupi__expansion *e)
{
	p = lupi__put_u64(p, e->n);
	p = lupi__put_u64(p, e->d);
	for (size_t i = 0; i < e->n; i++)
		p = lupi__put_f64(p, e->coef[i]);
	for (size_t i = 0; i < e->n * e->d; i++) {
		uint32_t u;
		memcpy(&u, &e->rows[i], sizeof u);
		p = lupi__put_u32(p, u);
	}
	return p;
}

int lupi__svm_serialize(const lupi_svm *s, unsigned char **buf, size_t *size)
{
	size_t body = FIXED;
	for (size_t c = 0; c < s->k; c++)
		body += MACHINE_FIXED + expansion_bytes(&s->m[c].dec) +
			expansion_bytes(&s->m[c].cor);
	size_t total = HEAD + body + 4;
	unsigned char *b = lupi__malloc(total);
	if (b == NULL)
		return lupi__err(LUPI_ENOMEM, "svm: cannot allocate %zu bytes "
				 "to save", total);
	unsigned char *p = b;
	memcpy(p, magic, 8);
	p += 8;
	p[0] = IO_MAJOR;
	p[1] = 0;
	p[2] = IO_MINOR;
	p[3] = 0;
	p = lupi__put_u32(p + 4, 0);
	p = lupi__put_u64(p, body);
	const lupi__svm_opts *o = &s->opt;
	p = lupi__put_u32(p, (uint32_t)o->kernel);
	p = lupi__put_u32(p, (uint32_t)o->priv_kernel);
	p = lupi__put_f64(p, o->c);
	p = lupi__put_f64(p, o->gamma);
	p = lupi__put_f64(p, o->width);
	p = lupi__put_f64(p, o->priv_width);
	p = lupi__put_f64(p, o->tol);
	p = lupi__put_u64(p, (uint64_t)o->max_iter);
	p = lupi__put_u64(p, (uint64_t)o->cache_bytes);
	p = lupi__put_u32(p, (uint32_t)o->plain);
	p = lupi__put_u64(p, s->k);
	for (size_t c = 0; c < s->k; c++) {
		const lupi__svm_machine *m = &s->m[c];
		p = lupi__put_f64(p, m->b);
		p = lupi__put_f64(p, m->bstar);
		p = lupi__put_f64(p, m->objective);
		p = lupi__put_f64(p, m->violation);
		p = lupi__put_u64(p, m->iterations);
		p = put_expansion(p, &m->dec);
		p = put_expansion(p, &m->cor);
	}
	lupi__put_u32(p, lupi__crc32c(0, b, (size_t)(p - b)));
	*buf = b;
	*size = total;
	return LUPI_OK;
}

/* Reads an expansion at *p with `left` bytes left after it, checking its
 * sizes first. */
static int get_expansion(const unsigned char **p, size_t *left,
			 lupi__expansion *e)
{
	if (*left < 16)
		return lupi__err(LUPI_EFORMAT, "svm file: truncated expansion");
	uint64_t n = lupi__get_u64(*p), d = lupi__get_u64(*p + 8);
	*p += 16;
	*left -= 16;
	if ((d == 0 && n > 0) || d > LUPI__MAX_WIDTH || n > *left / 8 ||
	    (n > 0 && d > (*left - n * 8) / 4 / n))
		return lupi__err(LUPI_EFORMAT, "svm file: expansion of %llu "
				 "rows of %llu does not fit the file",
				 (unsigned long long)n, (unsigned long long)d);
	e->n = (size_t)n;
	e->d = (size_t)d;
	e->coef = lupi__malloc_array(n ? n : 1, sizeof *e->coef);
	e->rows = lupi__malloc_array(n ? n * d : 1, sizeof *e->rows);
	if (e->coef == NULL || e->rows == NULL)
		return lupi__err(LUPI_ENOMEM, "svm file: out of memory");
	for (size_t i = 0; i < n; i++) {
		e->coef[i] = lupi__get_f64(*p + 8 * i);
		if (!isfinite(e->coef[i]))
			return lupi__err(LUPI_EFORMAT, "svm file: coefficient "
					 "%zu is not finite", i);
	}
	*p += 8 * n;
	for (size_t i = 0; i < n * d; i++) {
		uint32_t u = lupi__get_u32(*p + 4 * i);
		memcpy(&e->rows[i], &u, sizeof u);
		if (!isfinite(e->rows[i]))
			return lupi__err(LUPI_EFORMAT, "svm file: a support "
					 "row value is not finite");
	}
	*p += 4 * n * d;
	*left -= 8 * n + 4 * n * d;
	return LUPI_OK;
}

/* Sets an option through the table, so that the file obeys the ranges. */
static int load_int(lupi_svm *s, int key, int64_t v)
{
	int rc = lupi__option_set_int(&lupi__svm_options, &s->opt, key, v);
	return rc < 0 ? lupi__err(LUPI_EFORMAT, "svm file: option %d out "
				  "of range", key)
		      : LUPI_OK;
}

static int load_real(lupi_svm *s, int key, double v)
{
	int rc = lupi__option_set_double(&lupi__svm_options, &s->opt, key, v);
	return rc < 0 ? lupi__err(LUPI_EFORMAT, "svm file: option %d out "
				  "of range", key)
		      : LUPI_OK;
}

static int parse_body(const unsigned char *p, size_t left, lupi_svm *s)
{
	if (left < FIXED)
		return lupi__err(LUPI_EFORMAT, "svm file: truncated header");
	LUPI__TRY(load_int(s, LUPI_SVM_OPT_KERNEL, lupi__get_u32(p)));
	LUPI__TRY(load_int(s, LUPI_SVM_OPT_PRIV_KERNEL, lupi__get_u32(p + 4)));
	LUPI__TRY(load_real(s, LUPI_SVM_OPT_C, lupi__get_f64(p + 8)));
	LUPI__TRY(load_real(s, LUPI_SVM_OPT_GAMMA, lupi__get_f64(p + 16)));
	LUPI__TRY(load_real(s, LUPI_SVM_OPT_WIDTH, lupi__get_f64(p + 24)));
	LUPI__TRY(load_real(s, LUPI_SVM_OPT_PRIV_WIDTH, lupi__get_f64(p + 32)));
	LUPI__TRY(load_real(s, LUPI_SVM_OPT_TOLERANCE, lupi__get_f64(p + 40)));
	LUPI__TRY(load_int(s, LUPI_SVM_OPT_MAX_ITER, (int64_t)lupi__get_u64(p + 48)));
	LUPI__TRY(load_int(s, LUPI_SVM_OPT_CACHE_BYTES,
			   (int64_t)lupi__get_u64(p + 56)));
	LUPI__TRY(load_int(s, LUPI_SVM_OPT_PLAIN, lupi__get_u32(p + 64)));
	uint64_t k = lupi__get_u64(p + 68);
	p += FIXED;
	left -= FIXED;
	if (k == 0 || k == 2 || k > LUPI__SVM_MAX_CLASSES ||
	    k > left / MACHINE_FIXED)
		return lupi__err(LUPI_EFORMAT, "svm file: %llu machines",
				 (unsigned long long)k);
	s->m = lupi__calloc((size_t)k, sizeof *s->m);
	if (s->m == NULL)
		return lupi__err(LUPI_ENOMEM, "svm file: out of memory");
	s->k = (size_t)k;
	for (size_t c = 0; c < s->k; c++) {
		lupi__svm_machine *m = &s->m[c];
		if (left < MACHINE_FIXED)
			return lupi__err(LUPI_EFORMAT, "svm file: truncated "
					 "machine %zu", c);
		m->b = lupi__get_f64(p);
		m->bstar = lupi__get_f64(p + 8);
		m->objective = lupi__get_f64(p + 16);
		m->violation = lupi__get_f64(p + 24);
		m->iterations = lupi__get_u64(p + 32);
		if (!isfinite(m->b) || !isfinite(m->bstar))
			return lupi__err(LUPI_EFORMAT, "svm file: b or b* is "
					 "not finite");
		p += MACHINE_FIXED;
		left -= MACHINE_FIXED;
		LUPI__TRY(get_expansion(&p, &left, &m->dec));
		LUPI__TRY(get_expansion(&p, &left, &m->cor));
		/* every machine sees the same spaces */
		if (m->dec.d != s->m[0].dec.d || m->cor.d != s->m[0].cor.d ||
		    m->dec.d == 0 || (m->cor.d == 0) != (s->opt.plain != 0))
			return lupi__err(LUPI_EFORMAT, "svm file: machine %zu "
					 "has other dimensions", c);
	}
	if (left != 0)
		return lupi__err(LUPI_EFORMAT, "svm file: %zu bytes after the "
				 "machines", left);
	s->fitted = 1;
	return LUPI_OK;
}

int lupi__svm_parse(const unsigned char *buf, size_t size, lupi_svm **out)
{
	if (size < HEAD + 4 || memcmp(buf, magic, 8) != 0)
		return lupi__err(LUPI_EFORMAT, "not an SVM+ file (bad magic "
				 "or too short)");
	unsigned major = buf[8] | buf[9] << 8;
	if (major != IO_MAJOR || lupi__get_u32(buf + 12) != 0)
		return lupi__err(LUPI_EVERSION, "SVM+ file version %u (flags "
				 "%#x); this library reads %u",
				 major, (unsigned)lupi__get_u32(buf + 12), IO_MAJOR);
	uint64_t body = lupi__get_u64(buf + 16);
	if (body != size - HEAD - 4)
		return lupi__err(LUPI_EFORMAT, "svm file: body of %llu bytes "
				 "in a file of %zu",
				 (unsigned long long)body, size);
	if (lupi__crc32c(0, buf, size - 4) != lupi__get_u32(buf + size - 4))
		return lupi__err(LUPI_ECHECKSUM, "svm file: checksum mismatch");
	lupi_svm *s = NULL;
	LUPI__TRY(lupi_svm_create(&s));
	int rc = parse_body(buf + HEAD, (size_t)body, s);
	if (rc < 0) {
		lupi_svm_free(s);
		return rc;
	}
	*out = s;
	return LUPI_OK;
}

int lupi_svm_save_memory(const lupi_svm *svm, void **data, size_t *size)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(data);
	LUPI__CHECK_NULL(size);
	if (!svm->fitted)
		return lupi__err(LUPI_ESTATE, "lupi_svm_save_memory: the SVM+ "
				 "is not fitted");
	unsigned char *b;
	LUPI__TRY(lupi__svm_serialize(svm, &b, size));
	*data = b;
	return LUPI_OK;
}

int lupi_svm_save(const lupi_svm *svm, const char *path)
{
	LUPI__CHECK_NULL(svm);
	LUPI__CHECK_NULL(path);
	if (!svm->fitted)
		return lupi__err(LUPI_ESTATE, "lupi_svm_save: the SVM+ is not "
				 "fitted");
	unsigned char *b;
	size_t n;
	LUPI__TRY(lupi__svm_serialize(svm, &b, &n));
	int rc = lupi__write_atomic(path, b, n);
	lupi__free(b);
	return rc;
}

int lupi_svm_load_memory(const void *data, size_t size, lupi_svm **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(data);
	return lupi__svm_parse(data, size, out);
}

int lupi_svm_load(const char *path, lupi_svm **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(path);
	unsigned char *b;
	size_t n;
	LUPI__TRY(lupi__read_whole(path, &b, &n));
	int rc = lupi__svm_parse(b, n, out);
	lupi__free(b);
	return rc;
}
