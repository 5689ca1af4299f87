/* Checkpoints of a fit: the model file (lupi_model_save_memory) and what a
 * model file leaves out but a fit needs to continue with the same bits:
 * the optimiser moments and step count, the random generator, the epoch,
 * the epoch's shuffled order and the position in it, the running epoch
 * loss and the RESTORE_BEST copy.
 *
 * Layout (little-endian, doc/scaling.md):
 *   8 bytes magic "\x89LUPICK\n", u32 version (1), u32 CRC32C of the body,
 *   u64 body length, then the body:
 *   u64 model length, the model file;
 *   u64 t, u32 epoch, u32 flags (1 opt_m, 2 opt_v, 4 best, 8 have_best),
 *   u64 rng[4], u64 n_params;
 *   u64 n, u64 off, u64 step, f64 sum, u64 seen, f64 best_metric,
 *   u32 best_epoch, u32 0;
 *   f32 opt_m[n_params] (flag 1), f32 opt_v[n_params] (flag 2),
 *   f32 best[n_params] (flag 4), u64 idx[n]. */
#include <string.h>

#include "train_internal.h"

static const unsigned char ck_magic[8] = {0x89, 'L', 'U', 'P', 'I', 'C', 'K',
					  '\n'};
#define CK_VERSION 1u
#define CK_PREAMBLE 24u
#define CK_FIXED 112u /* the fixed fields after the model file */

enum { F_M = 1, F_V = 2, F_BEST = 4, F_HAVE_BEST = 8 };

/* ---- bytes ----------------------------------------------------------- */

static unsigned char *put_floats(unsigned char *p, const float *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &x[i], sizeof u);
		p = lupi__put_u32(p, u);
	}
	return p;
}

static void get_floats(float *x, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t u = lupi__get_u32(p + 4 * i);
		memcpy(&x[i], &u, sizeof u);
	}
}

/* ---- writing ---------------------------------------------------------- */

static uint32_t flags_of(const lupi_model *m, const lupi__fit_pos *p)
{
	return (m->opt_m ? F_M : 0u) | (m->opt_v ? F_V : 0u) |
	       /* the copy holds something once an epoch was the best */
	       (p->best && p->have_best ? F_BEST : 0u) |
	       (p->have_best ? F_HAVE_BEST : 0u);
}

int lupi__checkpoint_write(const lupi_model *m, const lupi__fit_pos *p)
{
	void *model;
	size_t model_len;
	LUPI__TRY(lupi_model_save_memory(m, &model, &model_len));
	uint32_t fl = flags_of(m, p);
	size_t nf = (size_t)((fl & F_M) != 0) + ((fl & F_V) != 0) +
		    ((fl & F_BEST) != 0);
	/* every term is bounded by memory the model and the fit hold */
	size_t body = 8 + model_len + CK_FIXED + nf * m->n_params * 4 +
		      p->n * 8;
	unsigned char *buf = lupi__malloc(CK_PREAMBLE + body);
	if (buf == NULL) {
		lupi__free(model);
		return lupi__err(LUPI_ENOMEM, "cannot allocate a checkpoint "
				 "of %zu bytes", CK_PREAMBLE + body);
	}
	unsigned char *q = buf + CK_PREAMBLE;
	q = lupi__put_u64(q, model_len);
	memcpy(q, model, model_len);
	q += model_len;
	lupi__free(model);
	q = lupi__put_u64(q, m->t);
	q = lupi__put_u32(q, m->epoch);
	q = lupi__put_u32(q, fl);
	for (int i = 0; i < 4; i++)
		q = lupi__put_u64(q, m->rng.s[i]);
	q = lupi__put_u64(q, m->n_params);
	q = lupi__put_u64(q, p->n);
	q = lupi__put_u64(q, p->off);
	q = lupi__put_u64(q, p->step);
	q = lupi__put_f64(q, p->sum);
	q = lupi__put_u64(q, p->seen);
	q = lupi__put_f64(q, p->best_metric);
	q = lupi__put_u32(q, p->best_epoch);
	q = lupi__put_u32(q, 0);
	if (fl & F_M)
		q = put_floats(q, m->opt_m, m->n_params);
	if (fl & F_V)
		q = put_floats(q, m->opt_v, m->n_params);
	if (fl & F_BEST)
		q = put_floats(q, p->best, m->n_params);
	for (size_t i = 0; i < p->n; i++)
		q = lupi__put_u64(q, p->idx[i]);
	memcpy(buf, ck_magic, sizeof ck_magic);
	lupi__put_u32(buf + 8, CK_VERSION);
	lupi__put_u32(buf + 12, lupi__crc32c(0, buf + CK_PREAMBLE, body));
	lupi__put_u64(buf + 16, body);
	int rc = lupi__write_atomic(m->ckpt_path, buf, CK_PREAMBLE + body);
	lupi__free(buf);
	return rc;
}

int lupi_model_set_checkpoint(lupi_model *m, const char *path,
			      uint64_t every_k_steps)
{
	LUPI__CHECK_NULL(m);
	if (path != NULL && path[0] == '\0')
		return lupi__err(LUPI_EINVAL, "lupi_model_set_checkpoint: "
				 "empty path");
	char *copy = NULL;
	if (path != NULL && every_k_steps > 0) {
		size_t len = strlen(path);
		copy = lupi__malloc(len + 1);
		if (copy == NULL)
			return lupi__err(LUPI_ENOMEM, "cannot copy a path of "
					 "%zu bytes", len);
		memcpy(copy, path, len + 1);
	}
	lupi__free(m->ckpt_path);
	m->ckpt_path = copy;
	m->ckpt_every = copy ? every_k_steps : 0;
	return LUPI_OK;
}

/* ---- reading ---------------------------------------------------------- */

void lupi__fit_pos_free(lupi__fit_pos *p)
{
	if (p == NULL)
		return;
	lupi__free(p->idx);
	lupi__free(p->best);
	lupi__free(p);
}

static void pos_free(void *p)
{
	lupi__fit_pos_free(p);
}

lupi__fit_pos *lupi__checkpoint_take(lupi_model *m)
{
	lupi__fit_pos *p = m->resume;
	m->resume = NULL;
	m->resume_free = NULL;
	return p;
}

/* The preamble and the body's sizes; *body points at the body. */
static int check_file(const unsigned char *d, size_t size,
		      const unsigned char **body, size_t *body_len)
{
	if (size < CK_PREAMBLE || memcmp(d, ck_magic, sizeof ck_magic) != 0)
		return lupi__err(LUPI_EFORMAT, "not a liblupi checkpoint");
	if (lupi__get_u32(d + 8) != CK_VERSION)
		return lupi__err(LUPI_EVERSION, "checkpoint version %u, this "
				 "library reads %u", lupi__get_u32(d + 8),
				 CK_VERSION);
	uint64_t len = lupi__get_u64(d + 16);
	if (len != size - CK_PREAMBLE)
		return lupi__err(LUPI_EFORMAT, "checkpoint of %zu bytes, its "
				 "header says %llu", size,
				 (unsigned long long)len + CK_PREAMBLE);
	if (lupi__crc32c(0, d + CK_PREAMBLE, (size_t)len) != lupi__get_u32(d + 12))
		return lupi__err(LUPI_ECHECKSUM, "checkpoint checksum does "
				 "not match");
	*body = d + CK_PREAMBLE;
	*body_len = (size_t)len;
	return LUPI_OK;
}

static int same_shape(const lupi_model *a, const lupi_model *b)
{
	if (a->task != b->task || a->n_in != b->n_in || a->n_out != b->n_out ||
	    a->n_layers != b->n_layers || a->n_params != b->n_params)
		return 0;
	for (size_t l = 0; l < a->n_layers; l++)
		if (a->layers[l].out != b->layers[l].out ||
		    a->layers[l].has_bias != b->layers[l].has_bias)
			return 0;
	return 1;
}

/* Everything the checkpoint holds besides the model, parsed and allocated
 * before m is touched. */
typedef struct parsed {
	lupi_model *ld;
	uint64_t t, rng[4];
	uint32_t epoch, flags;
	float *opt_m, *opt_v;
	lupi__fit_pos *pos;
} parsed;

static void parsed_free(parsed *c)
{
	lupi_model_free(c->ld);
	lupi__free(c->opt_m);
	lupi__free(c->opt_v);
	lupi__fit_pos_free(c->pos);
}

static float *read_floats(const unsigned char **q, size_t n)
{
	float *x = lupi__malloc_array(n ? n : 1, sizeof *x);
	if (x)
		get_floats(x, *q, n);
	*q += 4 * n;
	return x;
}

static int parse_state(const unsigned char *q, size_t left, parsed *c)
{
	if (left < CK_FIXED)
		return lupi__err(LUPI_EFORMAT, "checkpoint truncated");
	c->t = lupi__get_u64(q);
	c->epoch = lupi__get_u32(q + 8);
	c->flags = lupi__get_u32(q + 12);
	for (int i = 0; i < 4; i++)
		c->rng[i] = lupi__get_u64(q + 16 + 8 * i);
	uint64_t np = lupi__get_u64(q + 48), n = lupi__get_u64(q + 56);
	if (np != c->ld->n_params)
		return lupi__err(LUPI_EFORMAT, "checkpoint state of %llu "
				 "parameters for a model of %zu",
				 (unsigned long long)np, c->ld->n_params);
	uint32_t fl = c->flags;
	uint64_t nf = (uint64_t)((fl & F_M) != 0) + ((fl & F_V) != 0) +
		      ((fl & F_BEST) != 0);
	/* np is bounded by the model file, n by the bytes that are left */
	if (fl > 15u || n > left / 8 ||
	    nf * np * 4 + n * 8 != left - CK_FIXED)
		return lupi__err(LUPI_EFORMAT, "checkpoint state has %zu bytes, "
				 "its sizes say otherwise", left);
	c->pos = lupi__calloc(1, sizeof *c->pos);
	if (c->pos == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a fit position");
	lupi__fit_pos *p = c->pos;
	p->n = (size_t)n;
	p->off = (size_t)lupi__get_u64(q + 64);
	p->step = lupi__get_u64(q + 72);
	p->sum = lupi__get_f64(q + 80);
	p->seen = (size_t)lupi__get_u64(q + 88);
	p->best_metric = lupi__get_f64(q + 96);
	p->best_epoch = lupi__get_u32(q + 104);
	p->have_best = (fl & F_HAVE_BEST) != 0;
	if (p->off > p->n || p->seen > p->n)
		return lupi__err(LUPI_EFORMAT, "checkpoint position %zu of %zu "
				 "samples", p->off, p->n);
	q += CK_FIXED;
	int oom = 0;
	if (fl & F_M)
		oom |= (c->opt_m = read_floats(&q, (size_t)np)) == NULL;
	if (fl & F_V)
		oom |= (c->opt_v = read_floats(&q, (size_t)np)) == NULL;
	if (fl & F_BEST)
		oom |= (p->best = read_floats(&q, (size_t)np)) == NULL;
	p->idx = lupi__malloc_array(p->n ? p->n : 1, sizeof *p->idx);
	if (oom || p->idx == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate the state of a "
				 "checkpoint");
	for (size_t i = 0; i < p->n; i++)
		p->idx[i] = (size_t)lupi__get_u64(q + 8 * i);
	return LUPI_OK;
}

static int parse(const unsigned char *body, size_t len, parsed *c)
{
	if (len < 8 || lupi__get_u64(body) > len - 8)
		return lupi__err(LUPI_EFORMAT, "checkpoint truncated");
	size_t model_len = (size_t)lupi__get_u64(body);
	LUPI__TRY(lupi_model_load_memory(body + 8, model_len, &c->ld));
	return parse_state(body + 8 + model_len, len - 8 - model_len, c);
}

/* Moves the parsed state into m; cannot fail. */
static void commit(lupi_model *m, parsed *c)
{
	lupi_model *ld = c->ld;
	memcpy(m->params, ld->params, m->n_params * sizeof *m->params);
	memcpy(m->mean, ld->mean, m->n_in * sizeof *m->mean);
	memcpy(m->inv_std, ld->inv_std, m->n_in * sizeof *m->inv_std);
	m->has_std = ld->has_std;
	for (size_t l = 0; l < m->n_layers; l++) {
		m->layers[l].act = ld->layers[l].act;
		m->layers[l].frozen = ld->layers[l].frozen;
	}
	m->opt = ld->opt;
	m->initialized = 1;
	m->privacy = ld->privacy;
	m->t = c->t;
	lupi__model_touch(m);
	m->epoch = c->epoch;
	for (int i = 0; i < 4; i++)
		m->rng.s[i] = c->rng[i];
	lupi__free(m->opt_m);
	lupi__free(m->opt_v);
	m->opt_m = c->opt_m;
	m->opt_v = c->opt_v;
	c->opt_m = c->opt_v = NULL;
	if (m->resume_free)
		m->resume_free(m->resume);
	m->resume = c->pos;
	m->resume_free = pos_free;
	c->pos = NULL;
	m->batch_n = 0;
}

int lupi_model_resume(lupi_model *m, const char *path)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(path);
	unsigned char *buf = NULL;
	size_t size = 0;
	LUPI__TRY(lupi__read_whole(path, &buf, &size));
	const unsigned char *body = NULL;
	size_t len = 0;
	parsed c = {0};
	int rc = check_file(buf, size, &body, &len);
	if (rc == LUPI_OK)
		rc = parse(body, len, &c);
	if (rc == LUPI_OK && !same_shape(m, c.ld))
		rc = lupi__err(LUPI_ESHAPE, "the checkpoint holds a model of "
			       "another shape (%zu inputs, %zu layers, %zu "
			       "outputs, %zu parameters)", c.ld->n_in,
			       c.ld->n_layers, c.ld->n_out, c.ld->n_params);
	if (rc == LUPI_OK)
		commit(m, &c);
	parsed_free(&c);
	lupi__free(buf);
	return rc < 0 ? lupi__err_prefix(rc, path) : rc;
}
