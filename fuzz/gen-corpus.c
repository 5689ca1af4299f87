/* Writes the seed corpus of the fuzz targets: small valid inputs (and a few
 * near misses) for each, in DIR/<target>/<name>. Usage: gen-corpus DIR.
 * The input layouts are described in fuzz/fuzz-*.c and fuzz/fuzz.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz.h"

#define PREFIX 16

static const char *outdir;

static void die(const char *what)
{
	fprintf(stderr, "gen-corpus: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static void put(const char *target, const char *name, const void *a, size_t na,
                const void *b, size_t nb)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(a, 1, na, f) != na ||
	    (nb && fwrite(b, 1, nb, f) != nb) || fclose(f) != 0)
		die(path);
}

/* The reader prefix of fuzz_reader(): flags, delimiter, task, classes,
 * max rows, IDX pool, then up to three (first, last, role) ranges. */
static void prefix(uint8_t *p, int flags, char delim, int task, int classes,
                   int max_rows, int pool, const uint8_t roles[9])
{
	memset(p, 0, PREFIX);
	p[0] = (uint8_t)flags;
	p[1] = (uint8_t)delim;
	p[2] = (uint8_t)task;
	p[3] = (uint8_t)classes;
	p[4] = (uint8_t)max_rows;
	p[5] = (uint8_t)pool;
	if (roles)
		memcpy(p + 6, roles, 9);
}

/* gzip'd copy of a buffer (windowBits 31 = gzip wrapper). */
static size_t gzip(const void *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2");
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("deflate");
	size_t len = z.total_out;
	deflateEnd(&z);
	return len;
}

/* ---- text loaders ----------------------------------------------------------
 */

enum {
	F_HEADER = 1,
	F_NONFINITE = 2,
	F_SCALE = 4,
	F_NAME_P = 8,
	F_NAME_Y = 16,
	F_DELIM = 32,
	F_NO_LABELS = 64,
	F_NAME_W = 128
};

static void text_seed(const char *target, const char *name, const uint8_t *p,
                      const char *text)
{
	put(target, name, p, PREFIX, text, strlen(text));
}

static void csv_seeds(void)
{
	uint8_t p[PREFIX];
	prefix(p, F_HEADER, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, NULL);
	text_seed("csv", "plain", p, "a,b,y\n1,2,0\n3,4,1\n-5e-1,6,2\n");
	text_seed("csv", "quoted", p,
	          "\"a\",\"b,c\",y\r\n\"1\",\"2.5\",0\r\n\"3\"\"\",4,1\r\n");
	prefix(p, F_HEADER | F_NAME_P | F_NAME_Y, 0, LUPI_TASK_CLASSIFICATION,
	       3, 0, 1, NULL);
	text_seed("csv", "named-roles", p,
	          "x1,p,x2,y\n0.5,1,2,0\n1.5,,3,2\n2.5,3,4,1\n");
	static const uint8_t priv_range[9] = {3, 4, LUPI_ROLE_PRIVILEGED,
	                                      5, 5, LUPI_ROLE_TARGET,
	                                      6, 6, LUPI_ROLE_WEIGHT};
	prefix(p, F_HEADER, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, priv_range);
	text_seed("csv", "privileged-weights", p,
	          "a,b,p1,p2,y,w\n1,2,3,4,0,1\n5,6,,,1,0.5\n7,8,9,10,1,2\n");
	prefix(p, 0, 0, LUPI_TASK_REGRESSION, 0, 2, 1, NULL);
	text_seed("csv", "regression-noheader-maxrows", p,
	          "1,2,3.5\n4,5,6.25\n7,8,9\n");
	prefix(p, F_HEADER | F_DELIM | F_NONFINITE, ';', LUPI_TASK_BINARY, 2, 0,
	       1, NULL);
	text_seed("csv", "semicolon-nan-binary", p,
	          "a;b;y\nnan;inf;1\n1;2;0\n");
	prefix(p, F_HEADER, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, NULL);
	text_seed("csv", "bad-number", p, "a,y\nabc,0\n");
	text_seed("csv", "ragged", p, "a,b,y\n1,2\n");
	const char *gz_text = "a,b,y\n1,2,0\n3,4,1\n";
	uint8_t gz[256];
	size_t n = gzip(gz_text, strlen(gz_text), gz, sizeof gz);
	put("csv", "gzip", p, PREFIX, gz, n);
}

static void libsvm_seeds(void)
{
	uint8_t p[PREFIX];
	prefix(p, 0, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, NULL);
	text_seed("libsvm", "plain", p,
	          "0 1:0.5 3:1\n1 2:-1 3:2e-1\n2 1:1 # comment\n");
	static const uint8_t priv[9] = {3, 4, LUPI_ROLE_PRIVILEGED};
	prefix(p, 0, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, priv);
	text_seed("libsvm", "privileged", p,
	          "0 1:1 2:2 3:3 4:4\n1 1:0.5 2:1\n# x\n1 2:1 4:1\n");
	prefix(p, 0, 0, LUPI_TASK_REGRESSION, 0, 0, 1, NULL);
	text_seed("libsvm", "regression", p, "1.5 1:1 2:2\n-0.25 2:3\n");
	prefix(p, 0, 0, LUPI_TASK_BINARY, 2, 1, 1, NULL);
	text_seed("libsvm", "binary-maxrows", p, "1 1:1\n0 1:2\n");
	prefix(p, 0, 0, LUPI_TASK_CLASSIFICATION, 0, 0, 1, NULL);
	text_seed("libsvm", "non-increasing", p, "0 2:1 1:1\n");
	text_seed("libsvm", "zero-index", p, "0 0:1\n");
	const char *gz_text = "0 1:1 2:2\n1 3:1\n";
	uint8_t gz[256];
	size_t n = gzip(gz_text, strlen(gz_text), gz, sizeof gz);
	put("libsvm", "gzip", p, PREFIX, gz, n);
}

/* ---- IDX -------------------------------------------------------------------
 */

static size_t be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* prefix | u32 LE image length | image file | label file */
static void idx_seed(const char *name, int flags, int pool, uint32_t n,
                     uint32_t rows, uint32_t cols, int with_labels)
{
	uint8_t buf[4096], *q = buf;
	prefix(q, flags | (with_labels ? 0 : F_NO_LABELS), 0,
	       LUPI_TASK_CLASSIFICATION, 0, 0, pool, NULL);
	q += PREFIX;
	uint8_t *len = q;
	q += 4;
	uint8_t *img = q;
	q += be32(q, 0x00000803);
	q += be32(q, n);
	q += be32(q, rows);
	q += be32(q, cols);
	for (uint32_t i = 0; i < n * rows * cols; i++)
		*q++ = (uint8_t)(i * 37);
	uint32_t img_len = (uint32_t)(q - img);
	for (int i = 0; i < 4; i++)
		len[i] = (uint8_t)(img_len >> (8 * i));
	if (with_labels) {
		q += be32(q, 0x00000801);
		q += be32(q, n);
		for (uint32_t i = 0; i < n; i++)
			*q++ = (uint8_t)(i % 10);
	}
	put("idx", name, buf, (size_t)(q - buf), NULL, 0);
}

static void idx_seeds(void)
{
	idx_seed("images-labels", F_SCALE, 1, 3, 4, 4, 1);
	idx_seed("pool2", F_SCALE, 2, 2, 4, 4, 1);
	idx_seed("no-labels-raw", 0, 1, 2, 2, 3, 0);
	idx_seed("pool-not-dividing", F_SCALE, 3, 2, 4, 4, 1);
}

/* ---- model files -----------------------------------------------------------
 */

static void model_seed(const char *name, lupi_model *m)
{
	void *buf = NULL;
	size_t n = 0;
	if (lupi_model_save_memory(m, &buf, &n) != LUPI_OK)
		die("lupi_model_save_memory");
	put("model-load", name, buf, n, NULL, 0);
	put("roundtrip", name, buf, n, NULL, 0);
	if (strcmp(name, "classifier") == 0) {
		/* Near misses: truncated, one flipped byte. */
		put("model-load", "truncated", buf, n / 2, NULL, 0);
		((uint8_t *)buf)[n - 1] ^= 0x40;
		put("model-load", "bad-crc", buf, n, NULL, 0);
	}
	lupi_free(buf);
	lupi_model_free(m);
}

static lupi_model *make_model(int task, size_t in, const size_t *hidden,
                              size_t nh, size_t out)
{
	lupi_model *m = NULL;
	if (lupi_model_create(task, in, hidden, nh, out, &m) != LUPI_OK ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 7) != LUPI_OK)
		die("lupi_model_create");
	return m;
}

static void model_seeds(void)
{
	static const size_t h4[] = {4}, h32[] = {3, 2};
	lupi_model *m = make_model(LUPI_TASK_CLASSIFICATION, 3, h4, 1, 3);
	if (lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION, LUPI_ACT_TANH) ||
	    lupi_model_init(m))
		die("classifier");
	model_seed("classifier", m);

	m = make_model(LUPI_TASK_BINARY, 2, NULL, 0, 1);
	if (lupi_model_init(m))
		die("binary");
	model_seed("logistic", m);

	m = make_model(LUPI_TASK_REGRESSION, 4, h32, 2, 2);
	static const float mean[4] = {1, -2, 0.5f, 3}, sd[4] = {2, 1, 0.25f, 4};
	if (lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_BIAS, 0) ||
	    lupi_model_init(m) ||
	    lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_ACTIVATION,
	                             LUPI_ACT_GELU) ||
	    lupi_model_set_layer_int(m, 1, LUPI_LAYER_OPT_ACTIVATION,
	                             LUPI_ACT_SIGMOID) ||
	    lupi_model_set_layer_int(m, 2, LUPI_LAYER_OPT_FROZEN, 1) ||
	    lupi_model_set_standardizer(m, mean, sd))
		die("regression");
	model_seed("regression-standardized", m);

	m = make_model(LUPI_TASK_CLASSIFICATION, 5, h4, 1, 2);
	if (lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_BOTH) ||
	    lupi_model_init(m))
		die("view both");
	model_seed("view-both", m);
}

/* ---- option records --------------------------------------------------------
 */

/* Objects (op bits 0-2) and value encodings (op bits 4-5) of
 * fuzz/fuzz-options.c. */
enum { O_MODEL, O_LOSS, O_READER, O_ACTION, O_COMPARE, O_LAYER, O_LOOKUP };
enum { V_TABLE = 1, V_BYTE = 2 }; /* value encodings with one byte */
/* Places in the value tables of fuzz-options.c. */
enum { T_HALF = 4, T_1E3 = 8, T_INF = 12, T_NEAR_1 = 15, T_1E_3 = 16 };
/* Choices of a value from an option's description. */
enum { D_MIN, D_MAX, D_DEFAULT, D_BELOW, D_ABOVE, D_INSIDE };

/* The key byte of an option: its place in fuzz_option_keys(). */
static uint8_t key(int k)
{
	static int keys[256];
	static size_t n;
	if (n == 0)
		n = fuzz_option_keys(keys, 256);
	for (size_t i = 0; i < n && i < 128; i++)
		if (keys[i] == k)
			return (uint8_t)i;
	fprintf(stderr, "gen-corpus: key %d is not in the option directory\n",
	        k);
	exit(1);
}

/* The key byte of handle * 1000 + (real ? 100 : 0) + {-1, 0, 1, 2, 11, 15,
 * 16, 999}[off]: keys next to and between the real ones. */
static uint8_t near_key(int handle, int real, int off)
{
	return (uint8_t)(0x80 | handle << 4 | real << 3 | off);
}

/* A setter record with a one-byte value: op (object | double << 3 |
 * encoding << 4), the key byte, the value. */
static uint8_t *set(uint8_t *q, int obj, int dbl, int enc, uint8_t kb, int v)
{
	*q++ = (uint8_t)(obj | dbl << 3 | enc << 4);
	*q++ = kb;
	*q++ = (uint8_t)v;
	return q;
}

/* A layer option, one signed byte. */
static uint8_t *set_layer(uint8_t *q, int layer, uint8_t kb, int v)
{
	*q++ = (uint8_t)(O_LAYER | V_BYTE << 4);
	*q++ = kb;
	*q++ = (uint8_t)layer;
	*q++ = (uint8_t)v;
	return q;
}

/* A value chosen from the key's description (D_*); layer < 0 for the
 * handles other than a layer. */
static uint8_t *set_desc(uint8_t *q, int obj, int dbl, uint8_t kb, int layer,
                         int choice)
{
	*q++ = (uint8_t)(obj | dbl << 3 | 0x40);
	*q++ = kb;
	if (layer >= 0)
		*q++ = (uint8_t)layer;
	*q++ = (uint8_t)choice;
	return q;
}

/* An action record: op 3, the action, a little-endian u32 argument. */
static uint8_t *act(uint8_t *q, int what, uint32_t arg)
{
	*q++ = O_ACTION;
	*q++ = (uint8_t)what;
	for (int i = 0; i < 4; i++)
		*q++ = (uint8_t)(arg >> (8 * i));
	return q;
}

static uint8_t *lookup(uint8_t *q, uint8_t kb)
{
	*q++ = O_LOOKUP;
	*q++ = kb;
	return q;
}

enum {
	A_STEP,
	A_LOSS,
	A_FEATURES,
	A_INIT,
	A_STUDENT,
	A_ROLE,
	A_GRID,
	A_COLUMNS,
	A_CLONE,
	A_PREDICT,
	A_LOAD_CSV,
	A_FIT,
	A_EVALUATE,
	A_COMPARE_NEW,
	A_COMPARE_RUN,
	A_GRADIENT
};

static void options_put(const char *name, const uint8_t *b, const uint8_t *q)
{
	put("options", name, b, (size_t)(q - b), NULL, 0);
}

static void options_seeds(void)
{
	uint8_t b[512], *q;
	/* Classification, KD: options, then a step, a loss evaluation, a
	 * student step, gradient and loss, a clone, a model gradient. */
	q = b;
	*q++ = LUPI_LOSS_KD;
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_MODEL_OPT_LR), T_1E_3);
	q = set(q, O_LOSS, 1, V_BYTE, key(LUPI_LOSS_OPT_TEMPERATURE), 4);
	q = set(q, O_LOSS, 1, V_TABLE, key(LUPI_LOSS_OPT_LAMBDA), T_HALF);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_EPOCHS), 3);
	q = act(q, A_STEP, 0);
	q = act(q, A_LOSS, 0);
	q = act(q, A_STUDENT, 1);
	q = act(q, A_STUDENT, 1 | 4);
	q = act(q, A_STUDENT, 1 | 8);
	q = act(q, A_CLONE, 0);
	q = act(q, A_GRADIENT, 2);
	q = act(q, A_GRADIENT, 1);
	options_put("kd-step", b, q);

	/* Regression, SGD with momentum at the largest rate (infinity
	 * refused, 1e3 accepted), dropout 0.5, steps, predictions with the
	 * right and a wrong row width. */
	q = b;
	*q++ = LUPI_LOSS_REGRESSION | 2 << 3;
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_MODEL_OPT_LR), T_INF);
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_MODEL_OPT_LR), T_1E3);
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_MODEL_OPT_DROPOUT), T_HALF);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_OPTIMIZER),
	        LUPI_OPTIM_SGD);
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_MODEL_OPT_MOMENTUM), T_NEAR_1);
	q = act(q, A_STEP, 0);
	q = act(q, A_STEP, 0);
	q = act(q, A_PREDICT, 0);
	q = act(q, A_PREDICT, 2);
	options_put("regression-large-lr", b, q);

	/* Binary, feature losses (hint, then CRD with a small queue): an
	 * update, two pure evaluations; layer options; a student step. */
	q = b;
	*q++ = LUPI_LOSS_KD | 1 << 3;
	q = set(q, O_LOSS, 0, V_BYTE, key(LUPI_LOSS_OPT_FEATURE),
	        LUPI_FEATURE_HINT);
	q = act(q, A_FEATURES, 1);
	q = act(q, A_FEATURES, 0);
	q = set(q, O_LOSS, 0, V_BYTE, key(LUPI_LOSS_OPT_FEATURE),
	        LUPI_FEATURE_CRD);
	q = set(q, O_LOSS, 0, V_BYTE, key(LUPI_LOSS_OPT_QUEUE), 8);
	q = act(q, A_FEATURES, 1 | 4);
	q = act(q, A_FEATURES, 4);
	q = set_layer(q, 0, key(LUPI_LAYER_OPT_ACTIVATION), LUPI_ACT_SIGMOID);
	q = set_layer(q, 2, key(LUPI_LAYER_OPT_ACTIVATION), LUPI_ACT_TANH);
	q = set_layer(q, 1, key(LUPI_LAYER_OPT_BIAS), 0);
	q = set_layer(q, 0, key(LUPI_LAYER_OPT_FROZEN), 1);
	q = act(q, A_STUDENT, 1);
	q = set_layer(q, 1, key(LUPI_LAYER_OPT_BIAS), 1);
	q = act(q, A_CLONE, 0);
	options_put("binary-features", b, q);

	/* SEL loss; reader options, a role, the fixed CSV loaded twice;
	 * restricted columns and a loss evaluation. */
	q = b;
	*q++ = LUPI_LOSS_SEL;
	q = set(q, O_READER, 0, V_BYTE, key(LUPI_READER_OPT_HEADER), 1);
	q = set(q, O_READER, 0, V_BYTE, key(LUPI_READER_OPT_ALLOW_NONFINITE),
	        1);
	q = act(q, A_ROLE, 2 | 2 << 8 | LUPI_ROLE_PRIVILEGED << 16);
	q = act(q, A_LOAD_CSV, 0);
	q = set(q, O_READER, 0, V_BYTE, key(LUPI_READER_OPT_MAX_ROWS), 2);
	q = act(q, A_LOAD_CSV, 0);
	q = act(q, A_COLUMNS, 2 | 2 << 12);
	q = act(q, A_LOSS, 0);
	options_put("reader-load", b, q);

	/* Classification, cosine schedule, 3 epochs with patience 1, a
	 * validation set and progress every step stopping after 2 calls
	 * (LUPI_ECANCELLED); then the metrics. */
	q = b;
	*q++ = LUPI_LOSS_HARD;
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_EPOCHS), 3);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_BATCH), 4);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_SCHEDULE),
	        LUPI_SCHEDULE_COSINE);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_PATIENCE), 1);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_PROGRESS_STEPS), 1);
	q = act(q, A_FIT, 2 | 8 | 16);
	q = act(q, A_FIT, 8 | 16);
	q = act(q, A_EVALUATE, 0);
	options_put("fit-evaluate", b, q);

	/* Every handle given keys of the others, keys of the wrong type,
	 * the 0.1 numbers (1..15, 101..111) and keys next to each range. */
	q = b;
	*q++ = LUPI_LOSS_KD;
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_LOSS_OPT_QUEUE), 8);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_LAYER_OPT_BIAS), 0);
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_COMPARE_OPT_REPEATS), 1);
	q = set(q, O_MODEL, 1, V_TABLE, key(LUPI_LOSS_OPT_LAMBDA), T_HALF);
	q = set(q, O_MODEL, 1, V_BYTE, key(LUPI_MODEL_OPT_EPOCHS), 3);
	q = set(q, O_MODEL, 0, V_TABLE, key(LUPI_MODEL_OPT_LR), T_HALF);
	q = set(q, O_LOSS, 1, V_TABLE, key(LUPI_MODEL_OPT_LR), T_1E_3);
	q = set(q, O_LOSS, 0, V_BYTE, key(LUPI_READER_OPT_HEADER), 0);
	q = set(q, O_READER, 0, V_BYTE, key(LUPI_COMPARE_OPT_SEED), 1);
	q = set(q, O_READER, 0, V_BYTE, key(LUPI_MODEL_OPT_EPOCHS), 1);
	q = set(q, O_COMPARE, 0, V_BYTE, key(LUPI_READER_OPT_MAX_ROWS), 1);
	q = set(q, O_COMPARE, 0, V_BYTE, key(LUPI_LOSS_OPT_SEED), 1);
	q = set_layer(q, 0, key(LUPI_MODEL_OPT_ACTIVATION), LUPI_ACT_TANH);
	q = set_layer(q, 1, key(LUPI_LOSS_OPT_FEATURE), 1);
	q = set(q, O_MODEL, 0, V_BYTE, near_key(0, 0, 4), 3);   /* 11 */
	q = set(q, O_MODEL, 1, V_TABLE, near_key(0, 1, 2), 16); /* 101 */
	q = set(q, O_LOSS, 1, V_TABLE, near_key(0, 1, 3), 4);   /* 102 */
	q = set(q, O_READER, 0, V_BYTE, near_key(0, 0, 2), 1);  /* 1 */
	q = set(q, O_MODEL, 0, V_BYTE, near_key(1, 0, 1), 1);   /* 1000 */
	q = set(q, O_MODEL, 0, V_BYTE, near_key(1, 0, 6), 1);   /* 1016 */
	q = set(q, O_MODEL, 1, V_BYTE, near_key(1, 1, 1), 1);   /* 1100 */
	q = set(q, O_LOSS, 0, V_BYTE, near_key(2, 0, 4), 1);    /* 2011 */
	q = set(q, O_COMPARE, 0, V_BYTE, near_key(4, 0, 7), 1); /* 4999 */
	q = set_layer(q, 0, near_key(5, 0, 0), 1);              /* 4999 */
	q = set_layer(q, 3, key(LUPI_LAYER_OPT_BIAS), 1);       /* no layer 3 */
	q = set(q, O_MODEL, 0, V_BYTE, near_key(7, 0, 2), 1);   /* 7001 */
	q = lookup(q, near_key(0, 1, 2));
	q = lookup(q, near_key(5, 0, 2));
	q = lookup(q, key(LUPI_COMPARE_OPT_SEED));
	options_put("foreign-keys", b, q);

	/* Values at the edges of each handle's descriptions. */
	q = b;
	*q++ = LUPI_LOSS_KD;
	for (int c = D_MIN; c <= D_INSIDE; c++) {
		q = set_desc(q, O_MODEL, 1, key(LUPI_MODEL_OPT_LR), -1, c);
		q = set_desc(q, O_MODEL, 0, key(LUPI_MODEL_OPT_BATCH), -1, c);
		q = set_desc(q, O_LOSS, 1, key(LUPI_LOSS_OPT_TEMPERATURE), -1,
		             c);
		q = set_desc(q, O_LOSS, 0, key(LUPI_LOSS_OPT_STUDENT_LAYER), -1,
		             c);
		q = set_desc(q, O_READER, 0, key(LUPI_READER_OPT_DELIMITER), -1,
		             c);
		q = set_desc(q, O_COMPARE, 0, key(LUPI_COMPARE_OPT_REPEATS), -1,
		             c);
		q = set_desc(q, O_LAYER, 0, key(LUPI_LAYER_OPT_ACTIVATION), 1,
		             c);
	}
	q = set_desc(q, O_MODEL, 1, key(LUPI_MODEL_OPT_MIN_LR), -1,
	             D_INSIDE | 15 << 3);
	options_put("described-values", b, q);

	/* A comparison of 2-epoch models, 2 repetitions, 2 lambdas (1, 0.5)
	 * and T 4 with a loss prototype; run, then run again stopped by its
	 * progress callback. */
	q = b;
	*q++ = LUPI_LOSS_KD;
	q = set(q, O_MODEL, 0, V_BYTE, key(LUPI_MODEL_OPT_EPOCHS), 2);
	q = set(q, O_LOSS, 0, V_BYTE, key(LUPI_LOSS_OPT_STUDENT_T), 1);
	q = act(q, A_COMPARE_NEW, 0);
	q = set(q, O_COMPARE, 0, V_BYTE, key(LUPI_COMPARE_OPT_REPEATS), 2);
	q = set(q, O_COMPARE, 0, V_BYTE, key(LUPI_COMPARE_OPT_SEED), 3);
	q = act(q, A_GRID, 1 | 0 << 3 | 1 << 6 | 1u << 12 | 1u << 15);
	q = act(q, A_COMPARE_RUN, 16);
	q = act(q, A_COMPARE_RUN, 16 | 3);
	q = act(q, A_GRID, 3 | 1u << 14);
	q = act(q, A_GRID, 2 | 3 << 6);
	options_put("compare-run", b, q);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-corpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	lupi_set_num_threads(1);
	csv_seeds();
	libsvm_seeds();
	idx_seeds();
	model_seeds();
	options_seeds();
	return 0;
}
