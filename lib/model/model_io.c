/*
 * Model files: a versioned, little-endian container (doc/formats.md, "Model
 * files"). Every field is packed byte by byte, never by fwrite of a struct.
 * The loader checks the whole file - shape, bounds, sizes and checksums -
 * before it allocates anything, so a file cannot make it allocate more than
 * the model it describes, whose tensors the file must itself hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_internal.h"

/* PNG style: a non-ASCII byte catches 7-bit transfers, CR LF catches line
 * ending conversion, ^Z stops a DOS `type`. Eight bytes, so "LUPI" leaves
 * no room for PNG's final LF. */
static const unsigned char magic[8] = {0x89, 'L', 'U', 'P', 'I', '\r', '\n',
				       0x1a};

#define IO_MAJOR 1
#define IO_MINOR 2
/* Files without extension records are written as 1.1, byte for byte as
 * liblupi 0.2 wrote them; 1.2 appends the extension records. */
#define IO_MINOR_PLAIN 1
/* Flag bit 0: some layer has no bias, so the file lacks that tensor; a
 * reader that does not know the bit would misread the tensor list. */
#define FLAG_NO_BIAS 1u
#define KNOWN_FLAGS FLAG_NO_BIAS
#define PREAMBLE 24u       /* magic, major, minor, flags, header length */
#define HEADER_CAP 1048576u /* bound on the header length */
#define KIND_MODEL 1u
#define FIXED_HEADER 32u   /* kind, task, n_in, n_out, n_layers, has_std */
#define LAYER_RECORD 20u   /* in, out, activation */
#define OPTION_RECORD 16u  /* key, type, value */
#define LAYER_FLAGS 4u     /* per layer, after the options (minor >= 1) */
#define LAYER_NO_BIAS 1u   /* layer flag bits */
#define LAYER_FROZEN 2u
#define KNOWN_LAYER_FLAGS (LAYER_NO_BIAS | LAYER_FROZEN)
#define BLOB_OVERHEAD 12u  /* element count and checksum */
#define TYPE_INT 1u        /* value: int64, two's complement */
#define TYPE_REAL 2u       /* value: IEEE 754 binary64 bits */
#define MAX_TENSORS (2 * LUPI__MAX_LAYERS + 2)
/* Extension records (minor >= 2): u32 tag, u32 length, the bytes. */
#define EXT_HEAD 8u
#define EXT_PRIVACY 1u     /* the privacy a private fit spent */
#define EXT_PRIVACY_LEN 52u /* 5 f64, u64 steps, u32 flags */
#define EXT_PRIV_ACCOUNTED 1u
#define EXT_TEMPERED 2u    /* the tempered sigmoid's s, T, o */
#define EXT_TEMPERED_LEN 24u
#define EXT_PATE 3u        /* a PATE student's privacy (kind 1) */
#define EXT_PATE_LEN 64u   /* 5 f64, u64 queries, answered, u32
                              mechanism, flags (EXT_PRIV_ACCOUNTED) */

/* ---- options: the rows of lupi__model_options with a file id ------------- */

static uint32_t option_type(const lupi__option *o)
{
	return o->pub.type == LUPI_TYPE_INT ? TYPE_INT : TYPE_REAL;
}

static size_t n_saved_options(void)
{
	size_t n = 0;
	for (size_t i = 0; i < lupi__model_options.n; i++)
		n += lupi__model_options.rows[i].file_id != 0;
	return n;
}

/* The option's value as the 64 bits the file stores (the seed, a uint64,
 * as its int64 bits). */
static uint64_t option_bits(const lupi_model *m, const lupi__option *o)
{
	uint64_t bits;
	if (o->pub.type == LUPI_TYPE_INT)
		return (uint64_t)lupi__option_load_int(o, &m->opt);
	double d = lupi__option_load_double(o, &m->opt);
	memcpy(&bits, &d, sizeof bits);
	return bits;
}

/* ---- the shape shared by writer and reader ------------------------------ */

enum { T_WEIGHTS, T_BIASES, T_MEAN, T_INV_STD };

typedef struct shape {
	int task;
	size_t n_in, n_out, n_layers;
	size_t in[LUPI__MAX_LAYERS], out[LUPI__MAX_LAYERS];
	int act[LUPI__MAX_LAYERS];
	uint32_t lflags[LUPI__MAX_LAYERS]; /* LAYER_* bits */
	int has_std;
	/* Extension records (minor >= 2) */
	int has_privacy, has_tempered;
	lupi__privacy privacy;
	double ts[3];
	/* The tensors in file order: per layer its weights and, unless
	 * LAYER_NO_BIAS, its biases; then the standardisation mean and
	 * inverse standard deviation when present. */
	size_t nt;
	unsigned char kind[MAX_TENSORS], layer[MAX_TENSORS];
} shape;

static void add_tensor(shape *s, int kind, size_t layer)
{
	s->kind[s->nt] = (unsigned char)kind;
	s->layer[s->nt] = (unsigned char)layer;
	s->nt++;
}

/* Lists the tensors once the layers and has_std are known. */
static void list_tensors(shape *s)
{
	s->nt = 0;
	for (size_t l = 0; l < s->n_layers; l++) {
		add_tensor(s, T_WEIGHTS, l);
		if (!(s->lflags[l] & LAYER_NO_BIAS))
			add_tensor(s, T_BIASES, l);
	}
	if (s->has_std) {
		add_tensor(s, T_MEAN, 0);
		add_tensor(s, T_INV_STD, 0);
	}
}

static void shape_of(const lupi_model *m, shape *s)
{
	s->task = m->task;
	s->n_in = m->n_in;
	s->n_out = m->n_out;
	s->n_layers = m->n_layers;
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		s->in[l] = ly->in;
		s->out[l] = ly->out;
		s->act[l] = ly->act;
		s->lflags[l] = (ly->has_bias ? 0u : LAYER_NO_BIAS) |
			       (ly->frozen ? LAYER_FROZEN : 0u);
	}
	s->has_std = m->has_std != 0;
	s->has_privacy = m->privacy.has;
	s->privacy = m->privacy;
	s->privacy.accounted = lupi__model_privacy_accounted(m);
	s->has_tempered = 0;
	for (size_t l = 0; l < m->n_layers; l++)
		s->has_tempered |= m->layers[l].act == LUPI_ACT_TEMPERED_SIGMOID;
	s->ts[0] = m->opt.ts_scale;
	s->ts[1] = m->opt.ts_temperature;
	s->ts[2] = m->opt.ts_offset;
	list_tensors(s);
}

static int has_extensions(const shape *s)
{
	return s->has_privacy || s->has_tempered;
}

static uint32_t file_flags(const shape *s)
{
	for (size_t l = 0; l < s->n_layers; l++)
		if (s->lflags[l] & LAYER_NO_BIAS)
			return FLAG_NO_BIAS;
	return 0;
}

/* Elements of tensor i; returns 1 when the count overflows a size_t. */
static int tensor_count(const shape *s, size_t i, size_t *count)
{
	size_t l = s->layer[i];
	switch (s->kind[i]) {
	case T_WEIGHTS:
		return lupi__mul_overflow(s->in[l], s->out[l], count);
	case T_BIASES:
		*count = s->out[l];
		return 0;
	default:
		*count = s->n_in;
		return 0;
	}
}

static float *tensor_data(const lupi_model *m, const shape *s, size_t i)
{
	const lupi__layer *ly = &m->layers[s->layer[i]];
	switch (s->kind[i]) {
	case T_WEIGHTS:
		return ly->w;
	case T_BIASES:
		return ly->b;
	case T_MEAN:
		return m->mean;
	default:
		return m->inv_std;
	}
}

static void tensor_name(const shape *s, size_t i, char *buf, size_t n)
{
	if (s->kind[i] <= T_BIASES)
		snprintf(buf, n, "layer %u %s", (unsigned)s->layer[i],
			 s->kind[i] == T_WEIGHTS ? "weights" : "biases");
	else
		snprintf(buf, n, "standardisation %s",
			 s->kind[i] == T_MEAN ? "mean" : "inverse std");
}

/* ---- writing ------------------------------------------------------------- */

static size_t header_len(const shape *s)
{
	size_t ext = 0;
	if (has_extensions(s))
		ext = 4 + (s->has_privacy ? EXT_HEAD +
			   (s->privacy.kind == LUPI__PRIVACY_PATE ?
			    EXT_PATE_LEN : EXT_PRIVACY_LEN) : 0) +
		      (s->has_tempered ? EXT_HEAD + EXT_TEMPERED_LEN : 0);
	return FIXED_HEADER + LAYER_RECORD * s->n_layers + 4 +
	       OPTION_RECORD * n_saved_options() + LAYER_FLAGS * s->n_layers +
	       ext;
}

static unsigned char *put_extensions(unsigned char *p, const shape *s)
{
	if (!has_extensions(s))
		return p;
	p = lupi__put_u32(p, (uint32_t)(s->has_privacy + s->has_tempered));
	if (s->has_privacy && s->privacy.kind == LUPI__PRIVACY_PATE) {
		const lupi__privacy *v = &s->privacy;
		p = lupi__put_u32(p, EXT_PATE);
		p = lupi__put_u32(p, EXT_PATE_LEN);
		p = lupi__put_f64(p, v->epsilon);
		p = lupi__put_f64(p, v->delta);
		p = lupi__put_f64(p, v->sigma);
		p = lupi__put_f64(p, v->sigma1);
		p = lupi__put_f64(p, v->threshold);
		p = lupi__put_u64(p, v->steps);
		p = lupi__put_u64(p, v->answered);
		p = lupi__put_u32(p, (uint32_t)v->mechanism);
		p = lupi__put_u32(p, v->accounted ? EXT_PRIV_ACCOUNTED : 0u);
	} else if (s->has_privacy) {
		const lupi__privacy *v = &s->privacy;
		p = lupi__put_u32(p, EXT_PRIVACY);
		p = lupi__put_u32(p, EXT_PRIVACY_LEN);
		p = lupi__put_f64(p, v->epsilon);
		p = lupi__put_f64(p, v->delta);
		p = lupi__put_f64(p, v->q);
		p = lupi__put_f64(p, v->sigma);
		p = lupi__put_f64(p, v->clip);
		p = lupi__put_u64(p, v->steps);
		p = lupi__put_u32(p, v->accounted ? EXT_PRIV_ACCOUNTED : 0u);
	}
	if (s->has_tempered) {
		p = lupi__put_u32(p, EXT_TEMPERED);
		p = lupi__put_u32(p, EXT_TEMPERED_LEN);
		for (int i = 0; i < 3; i++)
			p = lupi__put_f64(p, s->ts[i]);
	}
	return p;
}

static unsigned char *put_header(unsigned char *p, const lupi_model *m,
				 const shape *s)
{
	p = lupi__put_u32(p, KIND_MODEL);
	p = lupi__put_u32(p, (uint32_t)s->task);
	p = lupi__put_u64(p, s->n_in);
	p = lupi__put_u64(p, s->n_out);
	p = lupi__put_u32(p, (uint32_t)s->n_layers);
	p = lupi__put_u32(p, (uint32_t)s->has_std);
	for (size_t l = 0; l < s->n_layers; l++) {
		p = lupi__put_u64(p, s->in[l]);
		p = lupi__put_u64(p, s->out[l]);
		p = lupi__put_u32(p, (uint32_t)s->act[l]);
	}
	p = lupi__put_u32(p, (uint32_t)n_saved_options());
	for (size_t i = 0; i < lupi__model_options.n; i++) {
		const lupi__option *o = &lupi__model_options.rows[i];
		if (o->file_id == 0)
			continue;
		p = lupi__put_u32(p, o->file_id);
		p = lupi__put_u32(p, option_type(o));
		p = lupi__put_u64(p, option_bits(m, o));
	}
	for (size_t l = 0; l < s->n_layers; l++)
		p = lupi__put_u32(p, s->lflags[l]);
	return put_extensions(p, s);
}

/* One tensor: element count, float32 values, CRC32C of both. */
static unsigned char *put_blob(unsigned char *p, const float *x, size_t n)
{
	unsigned char *start = p;
	p = lupi__put_u64(p, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t bits;
		memcpy(&bits, &x[i], sizeof bits);
		p = lupi__put_u32(p, bits);
	}
	return lupi__put_u32(p, lupi__crc32c(0, start, (size_t)(p - start)));
}

static int serialise(const lupi_model *m, unsigned char **data, size_t *size)
{
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model has no weights yet: "
				 "train it or call lupi_model_init() first");
	shape s;
	shape_of(m, &s);
	size_t hlen = header_len(&s);
	/* The tensors are in memory already, so these sums cannot overflow. */
	size_t total = PREAMBLE + hlen + 4;
	for (size_t i = 0; i < s.nt; i++) {
		size_t count;
		tensor_count(&s, i, &count);
		total += BLOB_OVERHEAD + 4 * count;
	}
	unsigned char *buf = lupi__malloc(total);
	if (buf == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu bytes for "
				 "the model file", total);
	unsigned char *p = buf;
	memcpy(p, magic, sizeof magic);
	p = lupi__put_u16(p + sizeof magic, IO_MAJOR);
	p = lupi__put_u16(p, has_extensions(&s) ? IO_MINOR : IO_MINOR_PLAIN);
	p = lupi__put_u32(p, file_flags(&s));
	p = lupi__put_u64(p, hlen);
	p = put_header(p, m, &s);
	/* The header checksum starts at byte 0, so that a flipped minor
	 * version or header length cannot pass unnoticed. */
	p = lupi__put_u32(p, lupi__crc32c(0, buf, (size_t)(p - buf)));
	for (size_t i = 0; i < s.nt; i++) {
		size_t count;
		tensor_count(&s, i, &count);
		p = put_blob(p, tensor_data(m, &s, i), count);
	}
	*data = buf;
	*size = total;
	return LUPI_OK;
}

int lupi_model_save_memory(const lupi_model *m, void **data, size_t *size)
{
	if (data)
		*data = NULL;
	if (size)
		*size = 0;
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(data);
	LUPI__CHECK_NULL(size);
	unsigned char *buf;
	LUPI__TRY(serialise(m, &buf, size));
	*data = buf;
	return LUPI_OK;
}

/* ---- reading: checks, all before any allocation -------------------------- */

typedef struct reader {
	const unsigned char *d;
	size_t pos, end;
} reader;

static int need(const reader *r, uint64_t n, const char *what)
{
	if ((uint64_t)(r->end - r->pos) < n)
		return lupi__err(LUPI_EFORMAT, "byte %zu: the header ends "
				 "inside %s", r->pos, what);
	return LUPI_OK;
}

static uint32_t rd_u32(reader *r)
{
	uint32_t v = lupi__get_u32(r->d + r->pos);
	r->pos += 4;
	return v;
}

static uint64_t rd_u64(reader *r)
{
	uint64_t v = lupi__get_u64(r->d + r->pos);
	r->pos += 8;
	return v;
}

/* A width read at byte pos: 1..LUPI__MAX_WIDTH. */
static int check_width(size_t pos, uint64_t v, const char *what, size_t *out)
{
	if (v == 0)
		return lupi__err(LUPI_EFORMAT, "byte %zu: %s has width 0", pos,
				 what);
	if (v > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_EFORMAT, "byte %zu: %s has width %" PRIu64
				 ", more than %u", pos, what, v,
				 LUPI__MAX_WIDTH);
	*out = (size_t)v;
	return LUPI_OK;
}

static int check_task(size_t pos, uint32_t task, size_t n_out)
{
	switch (task) {
	case LUPI_TASK_CLASSIFICATION:
		if (n_out < 2)
			return lupi__err(LUPI_EFORMAT, "byte %zu: a classifier "
					 "needs at least 2 outputs, not %zu",
					 pos, n_out);
		return LUPI_OK;
	case LUPI_TASK_BINARY:
		if (n_out != 1)
			return lupi__err(LUPI_EFORMAT, "byte %zu: a binary "
					 "model has 1 output, not %zu", pos,
					 n_out);
		return LUPI_OK;
	case LUPI_TASK_REGRESSION:
		return LUPI_OK;
	default:
		return lupi__err(LUPI_EFORMAT, "byte %u: unknown task %" PRIu32,
				 PREAMBLE + 4, task);
	}
}

/* One layer record at r->pos; chains with the previous layer. */
static int parse_layer(reader *r, shape *s, size_t l)
{
	char in[32], out[32];
	size_t at = r->pos;
	snprintf(in, sizeof in, "the input of layer %zu", l);
	snprintf(out, sizeof out, "layer %zu", l);
	LUPI__TRY(check_width(at, rd_u64(r), in, &s->in[l]));
	LUPI__TRY(check_width(at + 8, rd_u64(r), out, &s->out[l]));
	uint32_t act = rd_u32(r);
	size_t want = l == 0 ? s->n_in : s->out[l - 1];
	if (s->in[l] != want)
		return lupi__err(LUPI_EFORMAT, "byte %zu: layer %zu has %zu "
				 "inputs, but %s %zu", at, l, s->in[l],
				 l == 0 ? "the model has" : "the layer before "
				 "gives", want);
	if (act > INT_MAX || !lupi__act_valid((int)act))
		return lupi__err(LUPI_EFORMAT, "byte %zu: layer %zu has "
				 "unknown activation id %" PRIu32, at + 16, l,
				 act);
	if (l + 1 == s->n_layers && act != LUPI_ACT_IDENTITY)
		return lupi__err(LUPI_EFORMAT, "byte %zu: the output layer has "
				 "activation %" PRIu32 ", not 0 (identity)",
				 at + 16, act);
	s->act[l] = (int)act;
	return LUPI_OK;
}

static int parse_options(reader *r, size_t *opt_pos, uint32_t *n_opts)
{
	LUPI__TRY(need(r, 4, "the option count"));
	*n_opts = rd_u32(r);
	LUPI__TRY(need(r, (uint64_t)OPTION_RECORD * *n_opts,
		       "the option records"));
	*opt_pos = r->pos;
	for (uint32_t i = 0; i < *n_opts; i++) {
		size_t at = r->pos;
		uint32_t key = rd_u32(r), type = rd_u32(r);
		r->pos += 8;
		/* Unknown keys are skipped (a newer library wrote them), but
		 * a value of unknown type has no meaning here. */
		if (type != TYPE_INT && type != TYPE_REAL)
			return lupi__err(LUPI_EFORMAT, "byte %zu: option %"
					 PRIu32 " has unknown type %" PRIu32,
					 at + 4, key, type);
		const lupi__option *o =
			lupi__option_by_file_id(&lupi__model_options, key);
		if (o != NULL && option_type(o) != type)
			return lupi__err(LUPI_EFORMAT, "byte %zu: option %"
					 PRIu32 " must have type %" PRIu32
					 ", not %" PRIu32, at + 4, key,
					 option_type(o), type);
	}
	return LUPI_OK;
}

/* The layer flags (minor >= 1; a 1.0 file has none: every layer has a
 * bias and none is frozen), and the file flag that must agree with them. */
static int parse_layer_flags(reader *r, shape *s, unsigned minor,
			     uint32_t flags)
{
	if (minor >= 1) {
		LUPI__TRY(need(r, (uint64_t)LAYER_FLAGS * s->n_layers,
			       "the layer flags"));
		for (size_t l = 0; l < s->n_layers; l++) {
			size_t at = r->pos;
			uint32_t f = rd_u32(r);
			/* a newer minor version may define bits that are
			 * safe to ignore */
			if ((f & ~KNOWN_LAYER_FLAGS) && minor <= IO_MINOR)
				return lupi__err(LUPI_EFORMAT, "byte %zu: "
						 "layer %zu has unknown flag "
						 "bits 0x%08" PRIx32, at, l,
						 f & ~KNOWN_LAYER_FLAGS);
			s->lflags[l] = f & KNOWN_LAYER_FLAGS;
		}
	}
	if ((file_flags(s) != 0) != ((flags & FLAG_NO_BIAS) != 0))
		return lupi__err(LUPI_EFORMAT, "byte 12: flag bit 0 (a layer "
				 "without bias) is %s, but %s",
				 flags & FLAG_NO_BIAS ? "set" : "clear",
				 flags & FLAG_NO_BIAS ? "every layer has a bias"
						      : "a layer has none");
	return LUPI_OK;
}

static double rd_f64(reader *r)
{
	uint64_t bits = rd_u64(r);
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

/* The privacy record: values a private fit can have written. */
static int parse_privacy(reader *r, shape *s)
{
	size_t at = r->pos;
	lupi__privacy *v = &s->privacy;
	v->epsilon = rd_f64(r);
	v->delta = rd_f64(r);
	v->q = rd_f64(r);
	v->sigma = rd_f64(r);
	v->clip = rd_f64(r);
	v->steps = rd_u64(r);
	v->accounted = (rd_u32(r) & EXT_PRIV_ACCOUNTED) != 0;
	if (!(v->epsilon >= 0.0) || !(v->delta > 0.0 && v->delta < 1.0) ||
	    !(v->q > 0.0 && v->q <= 1.0) || !(v->sigma > 0.0) ||
	    !(v->clip > 0.0))
		return lupi__err(LUPI_EFORMAT, "byte %zu: the privacy record "
				 "holds impossible values", at);
	s->has_privacy = 1;
	return LUPI_OK;
}

/* A PATE student's record (tag 3): values lupi_pate_fit_student can have
 * written. */
static int parse_pate(reader *r, shape *s)
{
	size_t at = r->pos;
	lupi__privacy *v = &s->privacy;
	v->kind = LUPI__PRIVACY_PATE;
	v->epsilon = rd_f64(r);
	v->delta = rd_f64(r);
	v->sigma = rd_f64(r);
	v->sigma1 = rd_f64(r);
	v->threshold = rd_f64(r);
	v->steps = rd_u64(r);
	v->answered = rd_u64(r);
	uint32_t mech = rd_u32(r);
	v->accounted = (rd_u32(r) & EXT_PRIV_ACCOUNTED) != 0;
	v->q = NAN;
	v->clip = 0.0;
	v->mechanism = (int)(mech <= LUPI_PATE_CONFIDENT ? mech : 0);
	if (!(v->epsilon >= 0.0) || !(v->delta > 0.0 && v->delta < 1.0) ||
	    mech > LUPI_PATE_CONFIDENT || !(v->sigma > 0.0) ||
	    !isfinite(v->sigma) || v->answered > v->steps ||
	    (mech == LUPI_PATE_CONFIDENT &&
	     (!(v->sigma1 > 0.0) || !isfinite(v->sigma1) ||
	      !isfinite(v->threshold))))
		return lupi__err(LUPI_EFORMAT, "byte %zu: the PATE privacy "
				 "record holds impossible values", at);
	s->has_privacy = 1;
	return LUPI_OK;
}

/* Extension records (minor >= 2): known tags are read, others skipped. */
static int parse_extensions(reader *r, shape *s)
{
	LUPI__TRY(need(r, 4, "the extension count"));
	uint32_t n = rd_u32(r);
	for (uint32_t i = 0; i < n; i++) {
		LUPI__TRY(need(r, EXT_HEAD, "an extension record"));
		size_t at = r->pos;
		uint32_t tag = rd_u32(r), len = rd_u32(r);
		LUPI__TRY(need(r, len, "an extension record"));
		size_t next = r->pos + len;
		uint32_t want = tag == EXT_PRIVACY ? EXT_PRIVACY_LEN :
			tag == EXT_TEMPERED ? EXT_TEMPERED_LEN :
			tag == EXT_PATE ? EXT_PATE_LEN : 0;
		if (want != 0 && len < want)
			return lupi__err(LUPI_EFORMAT, "byte %zu: extension %"
					 PRIu32 " has %" PRIu32 " bytes, at "
					 "least %" PRIu32 " expected", at, tag,
					 len, want);
		if ((tag == EXT_PRIVACY || tag == EXT_PATE) &&
		    s->has_privacy)
			return lupi__err(LUPI_EFORMAT, "byte %zu: a second "
					 "privacy record", at);
		if (tag == EXT_PRIVACY)
			LUPI__TRY(parse_privacy(r, s));
		if (tag == EXT_PATE)
			LUPI__TRY(parse_pate(r, s));
		if (tag == EXT_TEMPERED) {
			for (int k = 0; k < 3; k++)
				s->ts[k] = rd_f64(r);
			s->has_tempered = 1;
		}
		r->pos = next; /* a longer record of a newer library */
	}
	return LUPI_OK;
}

static int parse_header(const unsigned char *d, size_t hend, unsigned minor,
			shape *s, size_t *opt_pos, uint32_t *n_opts)
{
	reader r = {d, PREAMBLE, hend};
	LUPI__TRY(need(&r, FIXED_HEADER, "the model description"));
	uint32_t kind = rd_u32(&r);
	if (kind != KIND_MODEL)
		return lupi__err(LUPI_EFORMAT, "byte %u: kind %" PRIu32 " is "
				 "not a model (1)", PREAMBLE, kind);
	uint32_t task = rd_u32(&r);
	LUPI__TRY(check_width(PREAMBLE + 8, rd_u64(&r), "the model input",
			      &s->n_in));
	LUPI__TRY(check_width(PREAMBLE + 16, rd_u64(&r), "the model output",
			      &s->n_out));
	LUPI__TRY(check_task(PREAMBLE + 16, task, s->n_out));
	s->task = (int)task;
	uint32_t n_layers = rd_u32(&r);
	if (n_layers == 0 || n_layers > LUPI__MAX_LAYERS)
		return lupi__err(LUPI_EFORMAT, "byte %zu: %" PRIu32 " layers, "
				 "allowed 1..%u", r.pos - 4, n_layers,
				 LUPI__MAX_LAYERS);
	s->n_layers = n_layers;
	uint32_t has_std = rd_u32(&r);
	if (has_std > 1)
		return lupi__err(LUPI_EFORMAT, "byte %zu: standardisation flag "
				 "%" PRIu32 " is neither 0 nor 1", r.pos - 4,
				 has_std);
	s->has_std = (int)has_std;
	LUPI__TRY(need(&r, (uint64_t)LAYER_RECORD * n_layers,
		       "the layer table"));
	for (size_t l = 0; l < n_layers; l++)
		LUPI__TRY(parse_layer(&r, s, l));
	if (s->out[n_layers - 1] != s->n_out)
		return lupi__err(LUPI_EFORMAT, "byte %zu: the output layer has "
				 "width %zu, the model %zu outputs",
				 r.pos - LAYER_RECORD + 8,
				 s->out[n_layers - 1], s->n_out);
	LUPI__TRY(parse_options(&r, opt_pos, n_opts));
	LUPI__TRY(parse_layer_flags(&r, s, minor, lupi__get_u32(d + 12)));
	if (minor >= 2)
		LUPI__TRY(parse_extensions(&r, s));
	list_tensors(s);
	/* A newer minor version may append fields to the header. */
	if (r.pos != hend && minor <= IO_MINOR)
		return lupi__err(LUPI_EFORMAT, "byte %zu: %zu unexpected bytes "
				 "at the end of the header", r.pos,
				 hend - r.pos);
	return LUPI_OK;
}

/* Walks the tensors after the header: counts, bounds and checksums. */
static int check_blobs(const unsigned char *d, size_t size, size_t pos,
		       const shape *s, size_t *blob_pos)
{
	for (size_t i = 0; i < s->nt; i++) {
		char name[48];
		size_t want, bytes;
		tensor_name(s, i, name, sizeof name);
		if (tensor_count(s, i, &want) ||
		    lupi__mul_overflow(want, 4, &bytes))
			return lupi__err(LUPI_EFORMAT, "byte %zu: %s is too "
					 "large for this machine", pos, name);
		if (size - pos < 8)
			return lupi__err(LUPI_EFORMAT, "byte %zu: the file "
					 "ends before %s", pos, name);
		uint64_t count = lupi__get_u64(d + pos);
		if (count != want)
			return lupi__err(LUPI_EFORMAT, "byte %zu: %s has %"
					 PRIu64 " elements, the header says "
					 "%zu", pos, name, count, want);
		if (size - pos - 8 < bytes || size - pos - 8 - bytes < 4)
			return lupi__err(LUPI_EFORMAT, "byte %zu: %s (%zu "
					 "bytes) runs past the end of the file",
					 pos, name, bytes + BLOB_OVERHEAD);
		uint32_t crc = lupi__crc32c(0, d + pos, 8 + bytes);
		uint32_t stored = lupi__get_u32(d + pos + 8 + bytes);
		if (crc != stored)
			return lupi__err(LUPI_ECHECKSUM, "byte %zu: %s has "
					 "checksum 0x%08" PRIx32 ", the file "
					 "says 0x%08" PRIx32, pos, name, crc,
					 stored);
		blob_pos[i] = pos + 8;
		pos += BLOB_OVERHEAD + bytes;
	}
	if (pos != size)
		return lupi__err(LUPI_EFORMAT, "byte %zu: %zu trailing bytes "
				 "after the last tensor", pos, size - pos);
	return LUPI_OK;
}

/* Magic, version, flags and header length; *hend = end of the header. */
static int check_preamble(const unsigned char *d, size_t size, size_t *hend)
{
	size_t n = size < sizeof magic ? size : sizeof magic;
	if (memcmp(d, magic, n) != 0)
		return lupi__err(LUPI_EFORMAT, "byte 0: not a liblupi model "
				 "file (bad magic)");
	if (size < PREAMBLE)
		return lupi__err(LUPI_EFORMAT, "byte %zu: the file ends inside "
				 "the %u-byte preamble", size, PREAMBLE);
	unsigned major = lupi__get_u16(d + 8);
	if (major != IO_MAJOR)
		return lupi__err(LUPI_EVERSION, "byte 8: format version %u.%u, "
				 "this library reads %u.x", major,
				 (unsigned)lupi__get_u16(d + 10), IO_MAJOR);
	uint32_t flags = lupi__get_u32(d + 12);
	if (flags & ~KNOWN_FLAGS)
		return lupi__err(LUPI_EVERSION, "byte 12: unknown flag bits "
				 "0x%08" PRIx32, flags & ~KNOWN_FLAGS);
	uint64_t hlen = lupi__get_u64(d + 16);
	if (hlen > HEADER_CAP)
		return lupi__err(LUPI_EFORMAT, "byte 16: header length %" PRIu64
				 " exceeds %u", hlen, HEADER_CAP);
	if (size - PREAMBLE < hlen + 4)
		return lupi__err(LUPI_EFORMAT, "byte %u: the file ends inside "
				 "the %" PRIu64 "-byte header", PREAMBLE, hlen);
	*hend = PREAMBLE + (size_t)hlen;
	uint32_t crc = lupi__crc32c(0, d, *hend);
	uint32_t stored = lupi__get_u32(d + *hend);
	if (crc != stored)
		return lupi__err(LUPI_ECHECKSUM, "byte %zu: header checksum "
				 "0x%08" PRIx32 ", the file says 0x%08" PRIx32,
				 *hend, crc, stored);
	return LUPI_OK;
}

/* ---- reading: building the model ----------------------------------------- */

static int apply_options(lupi_model *m, const unsigned char *d, size_t pos,
			 uint32_t n)
{
	for (uint32_t i = 0; i < n; i++, pos += OPTION_RECORD) {
		uint32_t key = lupi__get_u32(d + pos);
		uint64_t bits = lupi__get_u64(d + pos + 8);
		const lupi__option *o =
			lupi__option_by_file_id(&lupi__model_options, key);
		if (o == NULL)
			continue;
		/* Through the public setters, so that a file can only set
		 * what a caller could. */
		int rc;
		if (o->pub.type == LUPI_TYPE_DOUBLE) {
			double v;
			memcpy(&v, &bits, sizeof v);
			rc = lupi_model_set_double(m, o->pub.key, v);
		} else {
			rc = lupi_model_set_int(m, o->pub.key, (int64_t)bits);
		}
		if (rc < 0) {
			char where[48];
			snprintf(where, sizeof where,
				 "byte %zu: option %" PRIu32, pos + 8, key);
			return lupi__err_prefix(LUPI_EFORMAT, where);
		}
	}
	return LUPI_OK;
}

static void read_floats(float *x, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t bits = lupi__get_u32(p + 4 * i);
		memcpy(&x[i], &bits, sizeof bits);
	}
}

static int build(const unsigned char *d, const shape *s, size_t opt_pos,
		 uint32_t n_opts, const size_t *blob_pos, lupi_model **out)
{
	size_t hidden[LUPI__MAX_LAYERS];
	uint8_t no_bias[LUPI__MAX_LAYERS];
	for (size_t l = 0; l < s->n_layers; l++) {
		hidden[l] = s->out[l];
		no_bias[l] = (s->lflags[l] & LAYER_NO_BIAS) != 0;
	}
	int hidden_act = s->n_layers > 1 ? s->act[0] : LUPI_ACT_RELU;
	lupi_model *m;
	LUPI__TRY(lupi__model_alloc(s->task, s->n_in, hidden, s->n_layers - 1,
				    s->n_out, hidden_act, no_bias, &m));
	int rc = apply_options(m, d, opt_pos, n_opts);
	if (rc < 0) {
		lupi_model_free(m);
		return rc;
	}
	for (size_t l = 0; l < s->n_layers; l++) {
		m->layers[l].act = s->act[l];
		m->layers[l].frozen = (s->lflags[l] & LAYER_FROZEN) != 0;
	}
	static const int ts_keys[3] = {LUPI_MODEL_OPT_TS_SCALE,
				       LUPI_MODEL_OPT_TS_TEMPERATURE,
				       LUPI_MODEL_OPT_TS_OFFSET};
	for (int k = 0; s->has_tempered && k < 3; k++)
		if ((rc = lupi_model_set_double(m, ts_keys[k], s->ts[k])) < 0) {
			lupi_model_free(m);
			return lupi__err_prefix(LUPI_EFORMAT, "the tempered "
						"sigmoid record");
		}
	if (s->has_privacy) {
		m->privacy = s->privacy;
		m->privacy.has = 1;
		m->privacy.t_mark = 0; /* a loaded model has t = 0 */
	}
	for (size_t i = 0; i < s->nt; i++) {
		size_t count;
		tensor_count(s, i, &count);
		read_floats(tensor_data(m, s, i), d + blob_pos[i], count);
	}
	m->has_std = s->has_std;
	m->initialized = 1;
	*out = m;
	return LUPI_OK;
}

int lupi_model_load_memory(const void *data, size_t size, lupi_model **out)
{
	if (out)
		*out = NULL;
	LUPI__CHECK_NULL(data);
	LUPI__CHECK_NULL(out);
	const unsigned char *d = data;
	/* Initialised for the compiler's sake: each check sets what the
	 * next one reads, or returns. */
	size_t hend = 0, opt_pos = 0, blob_pos[MAX_TENSORS];
	uint32_t n_opts = 0;
	shape s = {0};
	LUPI__TRY(check_preamble(d, size, &hend));
	LUPI__TRY(parse_header(d, hend, lupi__get_u16(d + 10), &s, &opt_pos,
			       &n_opts));
	LUPI__TRY(check_blobs(d, size, hend + 4, &s, blob_pos));
	return build(d, &s, opt_pos, n_opts, blob_pos, out);
}

/* ---- files --------------------------------------------------------------- */

int lupi_model_save(const lupi_model *m, const char *path)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(path);
	if (path[0] == '\0')
		return lupi__err(LUPI_EINVAL, "lupi_model_save: empty path");
	unsigned char *buf;
	size_t size;
	LUPI__TRY(serialise(m, &buf, &size));
	int rc = lupi__write_atomic(path, buf, size);
	lupi__free(buf);
	return rc;
}

int lupi_model_load(const char *path, lupi_model **out)
{
	if (out)
		*out = NULL;
	LUPI__CHECK_NULL(path);
	LUPI__CHECK_NULL(out);
	unsigned char *buf = NULL;
	size_t size = 0;
	LUPI__TRY(lupi__read_whole(path, &buf, &size));
	int rc = lupi_model_load_memory(buf, size, out);
	lupi__free(buf);
	return rc < 0 ? lupi__err_prefix(rc, path) : rc;
}
