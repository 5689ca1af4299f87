/* Model files: round trips, the documented layout, every rejection rule,
 * truncation and bit flips, allocation bounds, and atomic saves. */
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "model/model_internal.h"
#include "core/core_internal.h"
#include "testutil.h"

/* ---- little-endian access, written here independently of model_io.c ------ */

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void wr32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void wr64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Offsets of doc/formats.md, "Model files". */
#define HDR 24u
#define OFF_KIND 24u
#define OFF_TASK 28u
#define OFF_NIN 32u
#define OFF_NOUT 40u
#define OFF_NLAYERS 48u
#define OFF_HASSTD 52u

static size_t layer_off(size_t l)
{
	return 56 + 20 * l;
}

static size_t hdr_end(const unsigned char *b)
{
	return HDR + (size_t)rd64(b + 16);
}

/* Recomputes the header checksum and every tensor checksum, so that a
 * crafted buffer fails on the rule it breaks, not on a checksum. */
static void fix_crcs(unsigned char *b, size_t size)
{
	size_t hend = hdr_end(b);
	if (hend + 4 > size)
		return;
	wr32(b + hend, lupi__crc32c(0, b, hend));
	size_t pos = hend + 4;
	while (size - pos >= 8) {
		uint64_t count = rd64(b + pos);
		if (count > (size - pos) / 4)
			return;
		size_t bytes = 4 * (size_t)count;
		if (size - pos - 8 < bytes + 4)
			return;
		wr32(b + pos + 8 + bytes, lupi__crc32c(0, b + pos, 8 + bytes));
		pos += 12 + bytes;
	}
}

/* ---- models -------------------------------------------------------------- */

/* Parameters from a fixed LCG, so that every test sees the same model. */
static lupi_model *make(int task, size_t n_in, size_t n_hidden, size_t n_out,
			int with_std, unsigned seed)
{
	static const size_t hidden[2] = {5, 3};
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi__model_alloc(task, n_in, hidden, n_hidden, n_out,
					   LUPI_ACT_TANH, NULL, &m),
			 LUPI_OK);
	uint32_t s = seed * 2654435761u + 1;
	for (size_t i = 0; i < m->n_params; i++) {
		s = s * 1664525u + 1013904223u;
		m->params[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
	}
	if (n_hidden > 1)
		m->layers[1].act = LUPI_ACT_GELU;
	if (with_std) {
		m->has_std = 1;
		for (size_t j = 0; j < n_in; j++) {
			m->mean[j] = 0.1f * (float)j - 0.3f;
			m->inv_std[j] = 1.0f / (0.5f + (float)j);
		}
	}
	m->initialized = 1;
	return m;
}

/* Every option away from its default, within its range. */
static void set_options(lupi_model *m)
{
	lupi__model_opts *o = &m->opt;
	o->init = LUPI_INIT_XAVIER;
	o->optimizer = LUPI_OPTIM_SGD;
	o->schedule = LUPI_SCHEDULE_COSINE;
	o->epochs = 77;
	o->batch = 16;
	o->patience = 3;
	o->step_size = 7;
	o->progress_steps = 11;
	o->seed = 0xfedcba9876543210ull; /* high bit set */
	o->shuffle = 0;
	o->view = LUPI_VIEW_PRIVILEGED;
	o->standardize = 0;
	o->nesterov = 1;
	o->restore_best = 0;
	o->lr = 0.0123;
	o->momentum = 0.9;
	o->beta1 = 0.8;
	o->beta2 = 0.99;
	o->epsilon = 1e-6;
	o->weight_decay = 1e-4;
	o->dropout = 0.25;
	o->clip_norm = 5.0;
	o->gamma = 0.5;
	o->min_lr = 1e-5;
	o->rms_decay = 0.95;
}

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0;
}

static void assert_same_options(const lupi__model_opts *a,
				const lupi__model_opts *b)
{
	ck_assert_int_eq(a->activation, b->activation);
	ck_assert_int_eq(a->init, b->init);
	ck_assert_int_eq(a->optimizer, b->optimizer);
	ck_assert_int_eq(a->schedule, b->schedule);
	ck_assert_int_eq(a->epochs, b->epochs);
	ck_assert_int_eq(a->batch, b->batch);
	ck_assert_int_eq(a->patience, b->patience);
	ck_assert_int_eq(a->step_size, b->step_size);
	ck_assert_int_eq(a->progress_steps, b->progress_steps);
	ck_assert_uint_eq(a->seed, b->seed);
	ck_assert_int_eq(a->shuffle, b->shuffle);
	ck_assert_int_eq(a->view, b->view);
	ck_assert_int_eq(a->standardize, b->standardize);
	ck_assert_int_eq(a->nesterov, b->nesterov);
	ck_assert_int_eq(a->restore_best, b->restore_best);
	ck_assert(same_double(a->lr, b->lr));
	ck_assert(same_double(a->momentum, b->momentum));
	ck_assert(same_double(a->beta1, b->beta1));
	ck_assert(same_double(a->beta2, b->beta2));
	ck_assert(same_double(a->epsilon, b->epsilon));
	ck_assert(same_double(a->weight_decay, b->weight_decay));
	ck_assert(same_double(a->dropout, b->dropout));
	ck_assert(same_double(a->clip_norm, b->clip_norm));
	ck_assert(same_double(a->gamma, b->gamma));
	ck_assert(same_double(a->min_lr, b->min_lr));
	ck_assert(same_double(a->rms_decay, b->rms_decay));
}

static void assert_same_model(const lupi_model *a, const lupi_model *b)
{
	ck_assert_int_eq(a->task, b->task);
	ck_assert_uint_eq(a->n_in, b->n_in);
	ck_assert_uint_eq(a->n_out, b->n_out);
	ck_assert_uint_eq(a->n_layers, b->n_layers);
	for (size_t l = 0; l < a->n_layers; l++) {
		ck_assert_uint_eq(a->layers[l].in, b->layers[l].in);
		ck_assert_uint_eq(a->layers[l].out, b->layers[l].out);
		ck_assert_int_eq(a->layers[l].act, b->layers[l].act);
		ck_assert_int_eq(a->layers[l].has_bias, b->layers[l].has_bias);
		ck_assert_int_eq(a->layers[l].frozen, b->layers[l].frozen);
	}
	ck_assert_uint_eq(a->n_params, b->n_params);
	ck_assert_int_eq(memcmp(a->params, b->params,
				a->n_params * sizeof *a->params),
			 0);
	ck_assert_int_eq(b->initialized, 1);
	ck_assert_int_eq(a->has_std, b->has_std);
	if (a->has_std) {
		ck_assert_int_eq(memcmp(a->mean, b->mean, a->n_in * 4), 0);
		ck_assert_int_eq(memcmp(a->inv_std, b->inv_std, a->n_in * 4),
				 0);
	}
	assert_same_options(&a->opt, &b->opt);

	/* Predictions on the same inputs are bit-identical. */
	enum { N = 7 };
	float x[N * 8], ya[N * 8], yb[N * 8];
	for (size_t i = 0; i < N * a->n_in; i++)
		x[i] = (float)((int)(i * 37 % 23) - 11) / 4.0f;
	ck_assert_int_eq(lupi__model_predict_logits(a, x, N, ya), LUPI_OK);
	ck_assert_int_eq(lupi__model_predict_logits(b, x, N, yb), LUPI_OK);
	ck_assert_int_eq(memcmp(ya, yb, N * a->n_out * sizeof *ya), 0);
}

/* A small classifier with one hidden layer and standardisation, in a
 * malloc'd copy the tests may grow and change. */
static unsigned char *small_file(size_t *size)
{
	lupi_model *m = make(LUPI_TASK_CLASSIFICATION, 3, 1, 2, 1, 7);
	void *data = NULL;
	ck_assert_int_eq(lupi_model_save_memory(m, &data, size), LUPI_OK);
	lupi_model_free(m);
	unsigned char *copy = malloc(*size + 32);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, data, *size);
	lupi_free(data);
	return copy;
}

/* The small file's bytes, kept for comparisons. */
static const unsigned char *small_file_bytes(void)
{
	static unsigned char *bytes;
	if (bytes == NULL) {
		size_t size;
		bytes = small_file(&size);
	}
	return bytes;
}

static char *join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	ck_assert_ptr_nonnull(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return b;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* ---- round trips --------------------------------------------------------- */

static const struct {
	int task;
	size_t n_out;
} tasks[] = {
	{LUPI_TASK_CLASSIFICATION, 3},
	{LUPI_TASK_BINARY, 1},
	{LUPI_TASK_REGRESSION, 2},
};

/* _i: 3 tasks x 0/1/2 hidden layers x with/without standardisation. */
START_TEST(round_trip_file)
{
	int task = tasks[_i % 3].task;
	size_t n_out = tasks[_i % 3].n_out;
	size_t n_hidden = (size_t)(_i / 3 % 3);
	int with_std = _i / 9;
	lupi_model *m = make(task, 4, n_hidden, n_out, with_std, (unsigned)_i);
	set_options(m);
	char *dir = lupi_test_tmpdir();
	char *path = join(dir, "model.lupi");
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_OK);
	lupi_model *back = NULL;
	ck_assert_int_eq(lupi_model_load(path, &back), LUPI_OK);
	assert_same_model(m, back);

	/* Load then save gives the same bytes. */
	char *path2 = join(dir, "again.lupi");
	ck_assert_int_eq(lupi_model_save(back, path2), LUPI_OK);
	size_t n1, n2;
	unsigned char *b1 = slurp(path, &n1), *b2 = slurp(path2, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_int_eq(memcmp(b1, b2, n1), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
	free(b1);
	free(b2);
	free(path);
	free(path2);
	lupi_test_rmdir(dir);
	lupi_model_free(m);
	lupi_model_free(back);
}
END_TEST

START_TEST(round_trip_memory)
{
	lupi_model *m = make(LUPI_TASK_REGRESSION, 6, 2, 3, 1, 99);
	set_options(m);
	void *d1 = NULL, *d2 = NULL;
	size_t n1 = 0, n2 = 0;
	ck_assert_int_eq(lupi_model_save_memory(m, &d1, &n1), LUPI_OK);
	lupi_model *back = NULL;
	ck_assert_int_eq(lupi_model_load_memory(d1, n1, &back), LUPI_OK);
	assert_same_model(m, back);
	ck_assert_int_eq(lupi_model_save_memory(back, &d2, &n2), LUPI_OK);
	ck_assert_uint_eq(n1, n2);
	ck_assert_int_eq(memcmp(d1, d2, n1), 0);
	lupi_free(d1); /* the library's buffers, as lupi.h says */
	lupi_free(d2);
	lupi_model_free(m);
	lupi_model_free(back);
}
END_TEST

/* Saving twice gives the same bytes (nothing depends on addresses). */
START_TEST(save_is_deterministic)
{
	lupi_model *a = make(LUPI_TASK_BINARY, 5, 1, 1, 1, 3);
	lupi_model *b = make(LUPI_TASK_BINARY, 5, 1, 1, 1, 3);
	void *da, *db;
	size_t na, nb;
	ck_assert_int_eq(lupi_model_save_memory(a, &da, &na), LUPI_OK);
	ck_assert_int_eq(lupi_model_save_memory(b, &db, &nb), LUPI_OK);
	ck_assert_uint_eq(na, nb);
	ck_assert_int_eq(memcmp(da, db, na), 0);
	lupi_free(da);
	lupi_free(db);
	lupi_model_free(a);
	lupi_model_free(b);
}
END_TEST

/* Through the public API only: a model trained for a few epochs predicts
 * the same after a save and a load, and reports the same shape, options,
 * parameters and standardisation. */
START_TEST(public_api_round_trip)
{
	enum { N = 24, D = 4, K = 3 };
	float x[N * D];
	int32_t y[N];
	for (size_t i = 0; i < N; i++) {
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)((i * 7 + j * 3) % 11) - 5.0f;
		y[i] = (int32_t)(i % K);
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(N, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	const size_t hidden[] = {6};
	lupi_model *m = NULL, *back = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden,
					   1, K, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 11), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 8), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0,
						  LUPI_LAYER_OPT_ACTIVATION,
						  LUPI_ACT_GELU),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_OK);

	void *data;
	size_t size;
	ck_assert_int_eq(lupi_model_save_memory(m, &data, &size), LUPI_OK);
	ck_assert_int_eq(lupi_model_load_memory(data, size, &back), LUPI_OK);
	lupi_free(data);

	ck_assert_int_eq(lupi_model_task(back), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_model_inputs(back), D);
	ck_assert_uint_eq(lupi_model_outputs(back), K);
	ck_assert_uint_eq(lupi_model_layers(back), 2);
	ck_assert_uint_eq(lupi_model_layer_size(back, 0), 6);
	int64_t act = -1;
	ck_assert_int_eq(lupi_model_get_layer_int(back, 0,
						  LUPI_LAYER_OPT_ACTIVATION,
						  &act),
			 LUPI_OK);
	ck_assert_int_eq(act, LUPI_ACT_GELU);
	int64_t iv;
	double dv;
	ck_assert_int_eq(lupi_model_get_int(back, LUPI_MODEL_OPT_EPOCHS, &iv),
			 LUPI_OK);
	ck_assert_int_eq(iv, 3);
	ck_assert_int_eq(lupi_model_get_double(back, LUPI_MODEL_OPT_LR, &dv),
			 LUPI_OK);
	ck_assert(same_double(dv, 0.05));

	size_t np = lupi_model_num_params(m);
	ck_assert_uint_eq(lupi_model_num_params(back), np);
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
	ck_assert_ptr_nonnull(pa);
	ck_assert_ptr_nonnull(pb);
	ck_assert_int_eq(lupi_model_get_params(m, pa, np), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_params(back, pb, np), LUPI_OK);
	ck_assert_int_eq(memcmp(pa, pb, np * sizeof *pa), 0);
	free(pa);
	free(pb);

	/* Training fitted a standardisation (STANDARDIZE defaults to 1). */
	float ma[D], sa[D], mb[D], sb[D];
	ck_assert_int_eq(lupi_model_get_standardizer(m, ma, sa), LUPI_OK);
	ck_assert_int_eq(lupi_model_get_standardizer(back, mb, sb), LUPI_OK);
	ck_assert_int_eq(memcmp(ma, mb, sizeof ma), 0);
	ck_assert_int_eq(memcmp(sa, sb, sizeof sa), 0);

	float pa_out[N * K], pb_out[N * K];
	ck_assert_int_eq(lupi_model_predict(m, x, N, D, LUPI_PREDICT_OUTPUT,
					    pa_out),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_predict(back, x, N, D, LUPI_PREDICT_OUTPUT,
					    pb_out),
			 LUPI_OK);
	ck_assert_int_eq(memcmp(pa_out, pb_out, sizeof pa_out), 0);
	lupi_model_free(m);
	lupi_model_free(back);
	lupi_dataset_free(ds);
}
END_TEST

/* A replaced file keeps its permissions. */
START_TEST(save_keeps_permissions)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 0, 1, 0, 1);
	char *dir = lupi_test_tmpdir();
	char *path = join(dir, "m.lupi");
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_OK);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_OK);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	free(path);
	lupi_test_rmdir(dir);
	lupi_model_free(m);
}
END_TEST

/* The exact bytes of a one-weight linear regression, built here from the
 * layout documented in doc/formats.md. */
START_TEST(layout_matches_the_documentation)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi__model_alloc(LUPI_TASK_REGRESSION, 1, NULL, 0, 1,
					   LUPI_ACT_RELU, NULL, &m),
			 LUPI_OK);
	m->layers[0].w[0] = 2.0f;
	m->layers[0].b[0] = 0.5f;
	m->initialized = 1;
	void *data;
	size_t size;
	ck_assert_int_eq(lupi_model_save_memory(m, &data, &size), LUPI_OK);

	static const uint64_t int_opts[][2] = {
		{1, LUPI_ACT_RELU}, {2, LUPI_INIT_HE}, {3, LUPI_OPTIM_ADAM},
		{4, LUPI_SCHEDULE_CONSTANT}, {5, 10}, {6, 128}, {7, 0}, {8, 1},
		{9, 0}, {10, LUPI_VIEW_REGULAR}, {11, 1}, {12, 0}, {13, 10},
		{14, 1}, {15, 0},
	};
	static const struct {
		uint32_t key;
		double v;
	} real_opts[] = {
		{101, 1e-3}, {102, 0}, {103, 0.9}, {104, 0.999}, {105, 1e-8},
		{106, 0}, {107, 0}, {108, 0}, {109, 0.1}, {110, 0},
		{111, 0.99},
	};
	unsigned char want[1024];
	memset(want, 0, sizeof want);
	memcpy(want, "\x89LUPI\r\n\x1a", 8);
	wr16(want + 8, 1);
	wr16(want + 10, 1);
	wr32(want + 12, 0);
	size_t hlen = 32 + 20 + 4 + 16 * 26 + 4;
	wr64(want + 16, hlen);
	unsigned char *p = want + 24;
	wr32(p, 1), p += 4;                       /* kind: model */
	wr32(p, LUPI_TASK_REGRESSION), p += 4;
	wr64(p, 1), p += 8;                       /* inputs */
	wr64(p, 1), p += 8;                       /* outputs */
	wr32(p, 1), p += 4;                       /* layers */
	wr32(p, 0), p += 4;                       /* no standardisation */
	wr64(p, 1), p += 8;                       /* layer 0: in, out, act */
	wr64(p, 1), p += 8;
	wr32(p, LUPI_ACT_IDENTITY), p += 4;
	wr32(p, 26), p += 4;
	for (size_t i = 0; i < 15; i++) {
		wr32(p, (uint32_t)int_opts[i][0]);
		wr32(p + 4, 1);
		wr64(p + 8, int_opts[i][1]);
		p += 16;
	}
	for (size_t i = 0; i < 11; i++) {
		uint64_t bits;
		memcpy(&bits, &real_opts[i].v, 8);
		wr32(p, real_opts[i].key);
		wr32(p + 4, 2);
		wr64(p + 8, bits);
		p += 16;
	}
	wr32(p, 0), p += 4;                       /* layer 0 flags: none */
	ck_assert_uint_eq((size_t)(p - want), 24 + hlen);
	wr32(p, lupi__crc32c(0, want, 24 + hlen)), p += 4;
	/* Two tensors: weights [2.0] and biases [0.5]. */
	static const uint32_t floats[2] = {0x40000000u, 0x3f000000u};
	for (int t = 0; t < 2; t++) {
		wr64(p, 1);
		wr32(p + 8, floats[t]);
		wr32(p + 12, lupi__crc32c(0, p, 12));
		p += 16;
	}
	ck_assert_uint_eq((size_t)(p - want), 536);
	ck_assert_uint_eq(size, 536);
	ck_assert_int_eq(memcmp(data, want, size), 0);
	/* The check value of CRC-32C that the page quotes. */
	ck_assert_uint_eq(lupi__crc32c(0, "123456789", 9), 0xe3069283u);
	lupi_free(data);
	lupi_model_free(m);
}
END_TEST

/* A file saved by format 1.0, checked in: it must keep loading. */
START_TEST(checked_in_file_loads)
{
	const char *root = getenv("LUPI_TEST_DATA");
	ck_assert_ptr_nonnull(root);
	char *path = join(root, "model-io/classifier-v1.0.lupi");
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_load(path, &m), LUPI_OK);
	lupi_model *ref = make(LUPI_TASK_CLASSIFICATION, 3, 2, 4, 1, 42);
	set_options(ref);
	ref->opt.rms_decay = 0.99; /* not in a 1.0 file: the default */
	assert_same_model(ref, m);
	lupi_model_free(ref);
	lupi_model_free(m);
	free(path);
}
END_TEST

/* ---- rejection rules, one crafted buffer each ---------------------------- */

/* The small file (3 inputs, 5 hidden, 2 outputs): layers at 56 and 76, 26
 * options from 100, layer flags at 516 and 520, header to 524, tensors
 * from 528: W0 (15 elements), b0 (5), W1 (10), b1 (2), mean (3), inverse
 * std (3 elements, at 728). */
#define SMALL_LFLAGS 516u
#define SMALL_HEND 524u
#define SMALL_W0 528u
#define SMALL_B0 600u
#define SMALL_SIZE 752u

static size_t opt_off(size_t i)
{
	return 100 + 16 * i;
}

typedef struct bad_case {
	const char *name;
	int code;
	const char *msg; /* a substring of lupi_errmsg() */
	int fix;         /* recompute checksums after the change */
	size_t (*mutate)(unsigned char *b, size_t size); /* new size */
} bad_case;

static size_t bad_magic(unsigned char *b, size_t n)
{
	b[1] = 'X';
	return n;
}

static size_t unknown_major(unsigned char *b, size_t n)
{
	wr16(b + 8, 2);
	return n;
}

static size_t unknown_flags(unsigned char *b, size_t n)
{
	wr32(b + 12, 0x10);
	return n;
}

static size_t header_over_cap(unsigned char *b, size_t n)
{
	wr64(b + 16, (1u << 20) + 1);
	return n;
}

static size_t zero_width(unsigned char *b, size_t n)
{
	wr64(b + layer_off(0) + 8, 0);
	return n;
}

static size_t huge_width(unsigned char *b, size_t n)
{
	wr64(b + OFF_NIN, 1048577);
	return n;
}

static size_t too_many_layers(unsigned char *b, size_t n)
{
	wr32(b + OFF_NLAYERS, 65);
	return n;
}

static size_t zero_layers(unsigned char *b, size_t n)
{
	wr32(b + OFF_NLAYERS, 0);
	return n;
}

/* A 2^20 x 2^20 first layer: 2^40 weights, 4 TiB, in a 728-byte file. */
static size_t huge_product(unsigned char *b, size_t n)
{
	wr64(b + OFF_NIN, 1048576);
	wr64(b + layer_off(0), 1048576);
	wr64(b + layer_off(0) + 8, 1048576);
	wr64(b + layer_off(1), 1048576);
	wr64(b + SMALL_W0, (uint64_t)1 << 40);
	return n;
}

static size_t count_mismatch(unsigned char *b, size_t n)
{
	wr64(b + SMALL_B0, 6);
	return n;
}

static size_t blob_past_end(unsigned char *b, size_t n)
{
	(void)b;
	return n - 2;
}

static size_t unknown_activation(unsigned char *b, size_t n)
{
	wr32(b + layer_off(0) + 16, 9);
	return n;
}

static size_t output_activation(unsigned char *b, size_t n)
{
	wr32(b + layer_off(1) + 16, LUPI_ACT_RELU);
	return n;
}

static size_t header_crc(unsigned char *b, size_t n)
{
	b[SMALL_HEND] ^= 0x01;
	return n;
}

static size_t blob_crc(unsigned char *b, size_t n)
{
	b[SMALL_W0 + 8 + 5] ^= 0x40;
	return n;
}

static size_t trailing(unsigned char *b, size_t n)
{
	b[n] = 0;
	return n + 1;
}

static size_t unknown_type(unsigned char *b, size_t n)
{
	wr32(b + opt_off(4) + 4, 3);
	return n;
}

static size_t wrong_type(unsigned char *b, size_t n)
{
	wr32(b + opt_off(4) + 4, 2); /* EPOCHS stored as a real */
	return n;
}

static size_t option_out_of_range(unsigned char *b, size_t n)
{
	wr64(b + opt_off(4) + 8, 0); /* EPOCHS 0 */
	return n;
}

static size_t wrong_kind(unsigned char *b, size_t n)
{
	wr32(b + OFF_KIND, 2);
	return n;
}

static size_t unknown_task(unsigned char *b, size_t n)
{
	wr32(b + OFF_TASK, 7);
	return n;
}

static size_t task_outputs(unsigned char *b, size_t n)
{
	wr32(b + OFF_TASK, LUPI_TASK_BINARY);
	return n;
}

static size_t broken_chain(unsigned char *b, size_t n)
{
	wr64(b + layer_off(1), 3);
	return n;
}

static size_t bad_std_flag(unsigned char *b, size_t n)
{
	wr32(b + OFF_HASSTD, 2);
	return n;
}

static size_t extra_header(unsigned char *b, size_t n)
{
	/* Eight more header bytes, in a file that claims minor version 0. */
	memmove(b + SMALL_HEND + 8, b + SMALL_HEND, n - SMALL_HEND);
	memset(b + SMALL_HEND, 0, 8);
	wr64(b + 16, rd64(b + 16) + 8);
	return n + 8;
}

static size_t short_header(unsigned char *b, size_t n)
{
	/* A header length that stops inside the option records. */
	wr64(b + 16, rd64(b + 16) - 16);
	memmove(b + SMALL_HEND - 16, b + SMALL_HEND, n - SMALL_HEND);
	return n - 16;
}

static size_t short_layer_flags(unsigned char *b, size_t n)
{
	/* A header length that stops inside the layer flags. */
	wr64(b + 16, rd64(b + 16) - 4);
	memmove(b + SMALL_HEND - 4, b + SMALL_HEND, n - SMALL_HEND);
	return n - 4;
}

static size_t unknown_layer_flag(unsigned char *b, size_t n)
{
	wr32(b + SMALL_LFLAGS + 4, 4);
	return n;
}

static size_t flag_without_layer(unsigned char *b, size_t n)
{
	wr32(b + 12, 1); /* "a layer has no bias", but all have one */
	return n;
}

static size_t layer_without_flag(unsigned char *b, size_t n)
{
	/* layer 1 without bias, its tensor gone, but the flag bit clear */
	wr32(b + SMALL_LFLAGS + 4, 1);
	size_t b1 = SMALL_W0 + 12 + 60 + 12 + 20 + 12 + 40;
	memmove(b + b1, b + b1 + 20, n - b1 - 20);
	return n - 20;
}

static const bad_case bad_cases[] = {
	{"bad magic", LUPI_EFORMAT, "byte 0: not a liblupi model file", 0,
	 bad_magic},
	{"unknown major", LUPI_EVERSION, "byte 8: format version 2.1", 0,
	 unknown_major},
	{"unknown flags", LUPI_EVERSION,
	 "byte 12: unknown flag bits 0x00000010", 0, unknown_flags},
	{"header over cap", LUPI_EFORMAT, "byte 16: header length 1048577", 0,
	 header_over_cap},
	{"zero width", LUPI_EFORMAT, "byte 64: layer 0 has width 0", 1,
	 zero_width},
	{"huge width", LUPI_EFORMAT, "byte 32: the model input has width "
	 "1048577, more than 1048576", 1, huge_width},
	{"too many layers", LUPI_EFORMAT, "byte 48: 65 layers, allowed 1..64",
	 1, too_many_layers},
	{"zero layers", LUPI_EFORMAT, "byte 48: 0 layers", 1, zero_layers},
	{"huge product", LUPI_EFORMAT, "byte 528: layer 0 weights "
	 "(4398046511116 bytes) runs past the end", 1, huge_product},
	{"count mismatch", LUPI_EFORMAT, "byte 600: layer 0 biases has 6 "
	 "elements, the header says 5", 1, count_mismatch},
	{"blob past end", LUPI_EFORMAT, "byte 728: standardisation inverse std "
	 "(24 bytes) runs past the end", 0, blob_past_end},
	{"unknown activation", LUPI_EFORMAT, "byte 72: layer 0 has unknown "
	 "activation id 9", 1, unknown_activation},
	{"output activation", LUPI_EFORMAT, "byte 92: the output layer has "
	 "activation 1", 1, output_activation},
	{"header checksum", LUPI_ECHECKSUM, "byte 524: header checksum", 0,
	 header_crc},
	{"blob checksum", LUPI_ECHECKSUM, "byte 528: layer 0 weights has "
	 "checksum", 0, blob_crc},
	{"trailing bytes", LUPI_EFORMAT, "byte 752: 1 trailing bytes", 1,
	 trailing},
	{"unknown option type", LUPI_EFORMAT, "byte 168: option 5 has unknown "
	 "type 3", 1, unknown_type},
	{"wrong option type", LUPI_EFORMAT,
	 "byte 168: option 5 must have type 1", 1, wrong_type},
	{"option out of range", LUPI_EFORMAT,
	 "byte 172: option 5: LUPI_MODEL_OPT_EPOCHS", 1, option_out_of_range},
	{"wrong kind", LUPI_EFORMAT, "byte 24: kind 2 is not a model", 1,
	 wrong_kind},
	{"unknown task", LUPI_EFORMAT, "byte 28: unknown task 7", 1,
	 unknown_task},
	{"task and outputs", LUPI_EFORMAT, "byte 40: a binary model has 1 "
	 "output, not 2", 1, task_outputs},
	{"broken chain", LUPI_EFORMAT, "byte 76: layer 1 has 3 inputs, but the "
	 "layer before gives 5", 1, broken_chain},
	{"standardisation flag", LUPI_EFORMAT,
	 "byte 52: standardisation flag 2", 1, bad_std_flag},
	{"extra header bytes", LUPI_EFORMAT, "byte 524: 8 unexpected bytes", 1,
	 extra_header},
	{"short header", LUPI_EFORMAT, "byte 100: the header ends inside the "
	 "option records", 1, short_header},
	{"short layer flags", LUPI_EFORMAT, "byte 516: the header ends inside "
	 "the layer flags", 1, short_layer_flags},
	{"unknown layer flag", LUPI_EFORMAT, "byte 520: layer 1 has unknown "
	 "flag bits 0x00000004", 1, unknown_layer_flag},
	{"no-bias flag, every bias", LUPI_EFORMAT, "byte 12: flag bit 0 (a "
	 "layer without bias) is set, but every layer has a bias", 1,
	 flag_without_layer},
	{"no bias, no flag", LUPI_EFORMAT, "byte 12: flag bit 0 (a layer "
	 "without bias) is clear, but a layer has none", 1,
	 layer_without_flag},
};

#define N_BAD (sizeof bad_cases / sizeof bad_cases[0])

START_TEST(bad_file_is_rejected)
{
	const bad_case *c = &bad_cases[_i];
	size_t size;
	unsigned char *good = small_file(&size);
	ck_assert_uint_eq(size, SMALL_SIZE);
	unsigned char *b = malloc(size + 16);
	ck_assert_ptr_nonnull(b);
	memcpy(b, good, size);
	size_t n = c->mutate(b, size);
	if (c->fix)
		fix_crcs(b, n);
	lupi_model *m = (lupi_model *)1;
	int rc = lupi_model_load_memory(b, n, &m);
	if (rc != c->code || strstr(lupi_errmsg(), c->msg) == NULL)
		ck_abort_msg("%s: got %d '%s', want %d '%s'", c->name, rc,
			     lupi_errmsg(), c->code, c->msg);
	ck_assert_ptr_null(m);
	free(b);
	free(good);
}
END_TEST

START_TEST(bad_file_message_names_the_path)
{
	size_t size;
	unsigned char *b = small_file(&size);
	wr32(b + layer_off(0) + 16, 9);
	fix_crcs(b, size);
	char *dir = lupi_test_tmpdir();
	char *path = lupi_test_write(dir, "model.lupi", b, size);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_load(path, &m), LUPI_EFORMAT);
	char want[600];
	snprintf(want, sizeof want, "%s: byte 72: layer 0 has unknown "
		 "activation id 9", path);
	ck_assert_str_eq(lupi_errmsg(), want);
	ck_assert_ptr_null(m);
	free(path);
	free(b);
	lupi_test_rmdir(dir);
}
END_TEST

/* Unknown option keys (from a newer library) are skipped. */
START_TEST(unknown_option_key_is_ignored)
{
	size_t size;
	unsigned char *b = small_file(&size);
	wr32(b + opt_off(4), 9999); /* was EPOCHS; the default stays */
	fix_crcs(b, size);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_load_memory(b, size, &m), LUPI_OK);
	ck_assert_int_eq(m->opt.epochs, 10);
	lupi_model_free(m);
	free(b);
}
END_TEST

/* A newer minor version may append header fields: they are skipped. */
START_TEST(newer_minor_version_loads)
{
	size_t size;
	unsigned char *good = small_file(&size);
	unsigned char *b = malloc(size + 8);
	ck_assert_ptr_nonnull(b);
	memcpy(b, good, size);
	size_t n = extra_header(b, size);
	wr16(b + 10, 3);
	fix_crcs(b, n);
	lupi_model *m = NULL, *ref = NULL;
	ck_assert_int_eq(lupi_model_load_memory(b, n, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_load_memory(good, size, &ref), LUPI_OK);
	assert_same_model(ref, m);
	lupi_model_free(m);
	lupi_model_free(ref);
	free(b);
	free(good);
}
END_TEST

/* The small file as version 1.0 wrote it: minor 0, no layer flags and no
 * RMS_DECAY record (the last option). Loads with every bias, nothing
 * frozen, and RMS_DECAY at its default. */
START_TEST(minor_zero_file_loads)
{
	size_t size;
	unsigned char *b = small_file(&size);
	/* drop RMS_DECAY (16 bytes at 500) and the layer flags (8 at 516) */
	memmove(b + 500, b + SMALL_HEND, size - SMALL_HEND);
	size_t n = size - 24;
	wr16(b + 10, 0);
	wr32(b + 100 - 4, 25);
	wr64(b + 16, rd64(b + 16) - 24);
	fix_crcs(b, n);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_load_memory(b, n, &m), LUPI_OK);
	lupi_model *ref = make(LUPI_TASK_CLASSIFICATION, 3, 1, 2, 1, 7);
	assert_same_model(ref, m);
	for (size_t l = 0; l < 2; l++) {
		ck_assert_int_eq(m->layers[l].has_bias, 1);
		ck_assert_int_eq(m->layers[l].frozen, 0);
	}
	/* saved again, it is a file of the current version */
	void *again;
	size_t n2;
	ck_assert_int_eq(lupi_model_save_memory(m, &again, &n2), LUPI_OK);
	ck_assert_uint_eq(n2, size);
	ck_assert_int_eq(memcmp(again, small_file_bytes(), size), 0);
	lupi_free(again);
	lupi_model_free(ref);
	lupi_model_free(m);
	free(b);
}
END_TEST

/* Layers without a bias and frozen layers survive a round trip; the file
 * leaves out the missing biases and announces it with flag bit 0. _i: 0
 * memory, 1 file. */
START_TEST(round_trip_bias_and_frozen_layers)
{
	lupi_model *m = make(LUPI_TASK_REGRESSION, 4, 2, 2, 1, 17);
	lupi_model *c = NULL;
	set_options(m);
	m->initialized = 0; /* the layout may change until it is initialised */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_BIAS, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 2, LUPI_LAYER_OPT_BIAS, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
	ck_assert_uint_eq(m->n_params, 4 * 5 + 5 * 3 + 3 + 3 * 2);
	for (size_t i = 0; i < m->n_params; i++)
		m->params[i] = (float)i / 8.0f - 2.0f;
	m->initialized = 1;
	void *data = NULL;
	size_t size = 0;
	lupi_model *back = NULL;
	if (_i == 0) {
		ck_assert_int_eq(lupi_model_save_memory(m, &data, &size),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_load_memory(data, size, &back),
				 LUPI_OK);
	} else {
		char *dir = lupi_test_tmpdir();
		char *path = join(dir, "nb.lupi");
		ck_assert_int_eq(lupi_model_save(m, path), LUPI_OK);
		ck_assert_int_eq(lupi_model_load(path, &back), LUPI_OK);
		data = slurp(path, &size);
		free(path);
		lupi_test_rmdir(dir);
	}
	unsigned char *d = data;
	ck_assert_uint_eq(d[12], 1); /* flag bit 0 */
	ck_assert_uint_eq(d[10], 1); /* minor 1 */
	/* header: 32 + 3 layers + 26 options + 3 layer flags */
	size_t hlen = 32 + 20 * 3 + 4 + 16 * 26 + 12;
	ck_assert_uint_eq(rd64(d + 16), hlen);
	const unsigned char *lf = d + 24 + hlen - 12;
	ck_assert_uint_eq(lf[0], 1);  /* no bias */
	ck_assert_uint_eq(lf[4], 2);  /* frozen */
	ck_assert_uint_eq(lf[8], 1);  /* no bias */
	/* four tensors (W0, W1, b1, W2) and the standardisation */
	ck_assert_uint_eq(size, 24 + hlen + 4 + 12 * 6 +
				4 * (m->n_params + 2 * 4));
	assert_same_model(m, back);
	int64_t v;
	ck_assert_int_eq(lupi_model_get_layer_int(back, 0, LUPI_LAYER_OPT_BIAS,
						  &v), LUPI_OK);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(lupi_model_get_layer_int(back, 1,
						  LUPI_LAYER_OPT_FROZEN, &v),
			 LUPI_OK);
	ck_assert_int_eq(v, 1);
	/* a clone saves to the same bytes */
	ck_assert_int_eq(lupi_model_clone(back, &c), LUPI_OK);
	void *d2;
	size_t n2;
	ck_assert_int_eq(lupi_model_save_memory(c, &d2, &n2), LUPI_OK);
	ck_assert_uint_eq(n2, size);
	ck_assert_int_eq(memcmp(d2, data, size), 0);
	lupi_free(d2);
	if (_i == 0)
		lupi_free(data);
	else
		free(data);
	lupi_model_free(c);
	lupi_model_free(back);
	lupi_model_free(m);
}
END_TEST

START_TEST(every_truncation_fails)
{
	size_t size;
	unsigned char *good = small_file(&size);
	for (size_t n = 0; n < size; n++) {
		/* An exact-size copy: valgrind sees any read past the end. */
		unsigned char *b = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(b);
		memcpy(b, good, n);
		lupi_model *m = (lupi_model *)1;
		int rc = lupi_model_load_memory(b, n, &m);
		if (rc != LUPI_EFORMAT)
			ck_abort_msg("%zu bytes: %d '%s'", n, rc,
				     lupi_errmsg());
		ck_assert_ptr_null(m);
		free(b);
	}
	free(good);
}
END_TEST

START_TEST(every_bit_flip_is_detected)
{
	size_t size;
	unsigned char *b = small_file(&size);
	for (size_t i = 0; i < size; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			lupi_model *m = NULL;
			int rc = lupi_model_load_memory(b, size, &m);
			if (rc == LUPI_OK)
				ck_abort_msg("flip of byte %zu bit %d loads", i,
					     bit);
			ck_assert_ptr_null(m);
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
	free(b);
}
END_TEST

/* ---- allocation ---------------------------------------------------------- */

typedef struct tally {
	size_t calls, bytes;
	size_t fail_at; /* the call that fails; SIZE_MAX for none */
} tally;

static int tally_gate(size_t size, void *user)
{
	tally *t = user;
	if (t->calls++ == t->fail_at)
		return 0;
	t->bytes += size;
	return 1;
}

/* Loading allocates the model it reads: at most the file's size plus a
 * small constant (the model struct and the layer table). */
START_TEST(load_allocates_at_most_the_file_size)
{
	size_t size;
	unsigned char *b = small_file(&size);
	tally t = {0, 0, SIZE_MAX};
	lupi_model *m = NULL;
	lupi__set_alloc_gate(tally_gate, &t);
	int rc = lupi_model_load_memory(b, size, &m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_uint_le(t.bytes, size + 256);
	lupi_model_free(m);

	/* Without standardisation the model still has room for it: 8 bytes
	 * per input that the file does not hold. */
	lupi_model *src = make(LUPI_TASK_REGRESSION, 40, 0, 1, 0, 3);
	void *d2;
	size_t n2;
	ck_assert_int_eq(lupi_model_save_memory(src, &d2, &n2), LUPI_OK);
	t = (tally){0, 0, SIZE_MAX};
	lupi__set_alloc_gate(tally_gate, &t);
	rc = lupi_model_load_memory(d2, n2, &m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_uint_le(t.bytes, n2 + 8 * 40 + 256);
	lupi_model_free(m);
	lupi_model_free(src);
	free(d2);

	/* Through a file: the file's bytes once more. */
	char *dir = lupi_test_tmpdir();
	char *path = lupi_test_write(dir, "m.lupi", b, size);
	t = (tally){0, 0, SIZE_MAX};
	lupi__set_alloc_gate(tally_gate, &t);
	rc = lupi_model_load(path, &m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_uint_le(t.bytes, 2 * size + 1024);
	lupi_model_free(m);
	free(path);
	lupi_test_rmdir(dir);
	free(b);
}
END_TEST

/* A file describing a 4 TiB model is rejected before any allocation. */
START_TEST(huge_claims_allocate_nothing)
{
	size_t size;
	unsigned char *b = small_file(&size);
	huge_product(b, size);
	fix_crcs(b, size);
	tally t = {0, 0, SIZE_MAX};
	lupi_model *m = NULL;
	lupi__set_alloc_gate(tally_gate, &t);
	int rc = lupi_model_load_memory(b, size, &m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_EFORMAT);
	ck_assert_uint_eq(t.calls, 0);
	free(b);
}
END_TEST

/* Every allocation of a load, save and save_memory may fail: ENOMEM, and no
 * leak (valgrind). */
START_TEST(allocation_failures)
{
	size_t size;
	unsigned char *b = small_file(&size);
	lupi_model *src = make(LUPI_TASK_REGRESSION, 3, 1, 2, 1, 5);
	char *dir = lupi_test_tmpdir();
	char *path = join(dir, "m.lupi");
	for (size_t k = 0;; k++) {
		tally t = {0, 0, k};
		lupi_model *m = NULL;
		void *data = NULL;
		size_t n;
		lupi__set_alloc_gate(tally_gate, &t);
		int r1 = lupi_model_load_memory(b, size, &m);
		lupi_model_free(m);
		t.calls = 0;
		int r2 = lupi_model_save_memory(src, &data, &n);
		free(data);
		t.calls = 0;
		int r3 = lupi_model_save(src, path);
		t.calls = 0;
		int r4 = lupi_model_load(path, &m);
		lupi__set_alloc_gate(NULL, NULL);
		lupi_model_free(m);
		ck_assert(r1 == LUPI_OK || r1 == LUPI_ENOMEM);
		ck_assert(r2 == LUPI_OK || r2 == LUPI_ENOMEM);
		ck_assert(r3 == LUPI_OK || r3 == LUPI_ENOMEM);
		ck_assert(r4 == LUPI_OK || r4 == LUPI_ENOMEM || r4 == LUPI_EIO);
		if (r1 == LUPI_OK && r2 == LUPI_OK && r3 == LUPI_OK &&
		    r4 == LUPI_OK)
			break;
		ck_assert_uint_lt(k, 100);
	}
	lupi_model_free(src);
	free(path);
	lupi_test_rmdir(dir);
	free(b);
}
END_TEST

/* ---- arguments and state ------------------------------------------------- */

START_TEST(null_arguments)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 0, 1, 0, 1);
	lupi_model *out = (lupi_model *)1;
	void *data = (void *)1;
	size_t size = 1;
	unsigned char byte = 0;
	ck_assert_int_eq(lupi_model_save(NULL, "x"), LUPI_EINVAL);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "m is NULL"));
	ck_assert_int_eq(lupi_model_save(m, NULL), LUPI_EINVAL);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "path is NULL"));
	ck_assert_int_eq(lupi_model_save(m, ""), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_load(NULL, &out), LUPI_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(lupi_model_load("x", NULL), LUPI_EINVAL);
	out = (lupi_model *)1;
	ck_assert_int_eq(lupi_model_load_memory(NULL, 10, &out), LUPI_EINVAL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(lupi_model_load_memory(&byte, 1, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_save_memory(NULL, &data, &size),
			 LUPI_EINVAL);
	ck_assert_ptr_null(data);
	ck_assert_uint_eq(size, 0);
	ck_assert_int_eq(lupi_model_save_memory(m, NULL, &size), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_save_memory(m, &data, NULL), LUPI_EINVAL);
	lupi_model_free(m);
}
END_TEST

START_TEST(save_uninitialised_model)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 1, 1, 0, 1);
	m->initialized = 0;
	char *dir = lupi_test_tmpdir();
	char *path = join(dir, "m.lupi");
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_ESTATE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "no weights"));
	ck_assert_uint_eq(count_entries(dir), 0);
	void *data = (void *)1;
	size_t size = 1;
	ck_assert_int_eq(lupi_model_save_memory(m, &data, &size), LUPI_ESTATE);
	ck_assert_ptr_null(data);
	free(path);
	lupi_test_rmdir(dir);
	lupi_model_free(m);
}
END_TEST

START_TEST(save_to_missing_directory)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 0, 1, 0, 1);
	const char *path = "/nonexistent-lupi-dir/sub/m.lupi";
	ck_assert_int_eq(lupi_model_save(m, path), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), path));
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "No such file"));

	/* Over a directory: refused before a temporary file is made. */
	char *dir = lupi_test_tmpdir();
	char *sub = join(dir, "sub");
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(lupi_model_save(m, sub), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "not a regular file"));
	ck_assert_uint_eq(count_entries(dir), 1);
	free(sub);
	lupi_test_rmdir(dir);
	lupi_model_free(m);
}
END_TEST

START_TEST(load_missing_or_odd_files)
{
	lupi_model *m = (lupi_model *)1;
	ck_assert_int_eq(lupi_model_load("/nonexistent-lupi/m.lupi", &m),
			 LUPI_EIO);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(
		strstr(lupi_errmsg(), "/nonexistent-lupi/m.lupi"));
	char *dir = lupi_test_tmpdir();
	ck_assert_int_eq(lupi_model_load(dir, &m), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "not a regular file"));
	char *empty = lupi_test_write(dir, "empty", "", 0);
	ck_assert_int_eq(lupi_model_load(empty, &m), LUPI_EFORMAT);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), empty));
	char *text = lupi_test_write(dir, "text", "label,x\n1,2\n", (size_t)-1);
	ck_assert_int_eq(lupi_model_load(text, &m), LUPI_EFORMAT);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "bad magic"));
	free(empty);
	free(text);
	lupi_test_rmdir(dir);
}
END_TEST

/* Saving never replaces what is not a regular file: a FIFO is refused and
 * stays; a symlink is written through and stays a link; a read-only file
 * is refused and keeps its bytes (lib/core/file.c has the details). */
START_TEST(save_respects_what_the_path_is)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 0, 1, 0, 1);
	char *dir = lupi_test_tmpdir();
	char *fifo = join(dir, "fifo");
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_int_eq(lupi_model_save(m, fifo), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "fifo: not a regular file"));
	struct stat st;
	ck_assert_int_eq(lstat(fifo, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));

	char *real = join(dir, "real.lupi"), *link = join(dir, "link.lupi");
	ck_assert_int_eq(lupi_model_save(m, real), LUPI_OK);
	ck_assert_int_eq(symlink("real.lupi", link), 0);
	ck_assert_int_eq(lupi_model_save(m, link), LUPI_OK);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	lupi_model *back = NULL;
	ck_assert_int_eq(lupi_model_load(real, &back), LUPI_OK);
	assert_same_model(m, back);
	lupi_model_free(back);

	ck_assert_int_eq(chmod(real, 0444), 0);
	size_t n0, n1;
	unsigned char *before = slurp(real, &n0);
	lupi_model *other = make(LUPI_TASK_REGRESSION, 3, 1, 1, 0, 1);
	ck_assert_int_eq(lupi_model_save(other, real), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(),
				     "real.lupi: permission denied"));
	unsigned char *after = slurp(real, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(before, after, n0), 0);
	ck_assert_uint_eq(count_entries(dir), 3);
	free(before);
	free(after);
	free(real);
	free(link);
	free(fifo);
	lupi_test_rmdir(dir);
	lupi_model_free(other);
	lupi_model_free(m);
}
END_TEST

/* _i: the system call that fails. The old file survives byte for byte, and
 * no temporary file is left behind. */
START_TEST(failed_save_keeps_the_old_file)
{
	static const int which[] = {LUPI__IO_FAIL_WRITE, LUPI__IO_FAIL_FSYNC,
				    LUPI__IO_FAIL_RENAME};
	static const char *const reason[] = {"cannot write", "cannot sync",
					     "cannot replace"};
	lupi_model *old = make(LUPI_TASK_REGRESSION, 3, 1, 1, 0, 1);
	lupi_model *new = make(LUPI_TASK_REGRESSION, 3, 2, 2, 1, 2);
	char *dir = lupi_test_tmpdir();
	char *path = join(dir, "m.lupi");
	ck_assert_int_eq(lupi_model_save(old, path), LUPI_OK);
	size_t n0, n1;
	unsigned char *before = slurp(path, &n0);

	lupi__io_set_fail(which[_i]);
	ck_assert_int_eq(lupi_model_save(new, path), LUPI_EIO);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), path));
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), reason[_i]));
	unsigned char *after = slurp(path, &n1);
	ck_assert_uint_eq(n0, n1);
	ck_assert_int_eq(memcmp(before, after, n0), 0);
	ck_assert_uint_eq(count_entries(dir), 1);
	free(after);

	/* The hook fired once: the next save replaces the file. */
	ck_assert_int_eq(lupi_model_save(new, path), LUPI_OK);
	lupi_model *back = NULL;
	ck_assert_int_eq(lupi_model_load(path, &back), LUPI_OK);
	assert_same_model(new, back);
	ck_assert_uint_eq(count_entries(dir), 1);
	lupi_model_free(back);
	free(before);
	free(path);
	lupi_test_rmdir(dir);
	lupi_model_free(old);
	lupi_model_free(new);
}
END_TEST

/* A relative path (no directory part) saves in the working directory. */
START_TEST(save_relative_path)
{
	lupi_model *m = make(LUPI_TASK_BINARY, 2, 0, 1, 0, 1);
	char *dir = lupi_test_tmpdir();
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(chdir(dir), 0);
	int rc = lupi_model_save(m, "rel.lupi");
	lupi_model *back = NULL;
	int rc2 = lupi_model_load("rel.lupi", &back);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(rc, LUPI_OK);
	ck_assert_int_eq(rc2, LUPI_OK);
	assert_same_model(m, back);
	lupi_model_free(back);
	lupi_model_free(m);
	lupi_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("model-io");
	TCase *tc = tcase_create("round trip");
	tcase_add_loop_test(tc, round_trip_file, 0, 18);
	tcase_add_test(tc, round_trip_memory);
	tcase_add_test(tc, save_is_deterministic);
	tcase_add_test(tc, public_api_round_trip);
	tcase_add_test(tc, layout_matches_the_documentation);
	tcase_add_test(tc, checked_in_file_loads);
	tcase_add_loop_test(tc, round_trip_bias_and_frozen_layers, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad files");
	tcase_add_loop_test(tc, bad_file_is_rejected, 0, (int)N_BAD);
	tcase_add_test(tc, bad_file_message_names_the_path);
	tcase_add_test(tc, unknown_option_key_is_ignored);
	tcase_add_test(tc, newer_minor_version_loads);
	tcase_add_test(tc, minor_zero_file_loads);
	tcase_add_test(tc, every_truncation_fails);
	tcase_add_test(tc, every_bit_flip_is_detected);
	suite_add_tcase(s, tc);

	tc = tcase_create("allocation");
	tcase_add_test(tc, load_allocates_at_most_the_file_size);
	tcase_add_test(tc, huge_claims_allocate_nothing);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, null_arguments);
	tcase_add_test(tc, save_uninitialised_model);
	tcase_add_test(tc, save_to_missing_directory);
	tcase_add_test(tc, save_respects_what_the_path_is);
	tcase_add_test(tc, load_missing_or_odd_files);
	tcase_add_loop_test(tc, failed_save_keeps_the_old_file, 0, 3);
	tcase_add_test(tc, save_relative_path);
	tcase_add_test(tc, save_keeps_permissions);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
