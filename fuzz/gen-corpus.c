/* Writes the seed corpus of the fuzz targets: small valid inputs (and a few
 * near misses) for each, in DIR/<target>/<name>. Usage: gen-corpus DIR.
 * The input layouts are described in fuzz/fuzz-*.c and fuzz/fuzz.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lupi.h"

#define PREFIX 16

static const char *outdir;

static void die(const char *what)
{
	fprintf(stderr, "gen-corpus: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

static void put(const char *target, const char *name, const void *a,
		size_t na, const void *b, size_t nb)
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

/* ---- text loaders ---------------------------------------------------------- */

enum { F_HEADER = 1, F_NONFINITE = 2, F_SCALE = 4, F_NAME_P = 8,
       F_NAME_Y = 16, F_DELIM = 32, F_NO_LABELS = 64, F_NAME_W = 128 };

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
	text_seed("csv", "semicolon-nan-binary", p, "a;b;y\nnan;inf;1\n1;2;0\n");
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

/* ---- IDX ------------------------------------------------------------------- */

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

/* ---- model files ----------------------------------------------------------- */

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
	free(buf);
	lupi_model_free(m);
}

static lupi_model *make_model(int task, size_t in, const size_t *hidden,
			      size_t nh, size_t out)
{
	lupi_model *m = NULL;
	if (lupi_model_create(task, in, hidden, nh, out, &m) != LUPI_OK ||
	    lupi_model_set_int(m, LUPI_OPT_SEED, 7) != LUPI_OK)
		die("lupi_model_create");
	return m;
}

static void model_seeds(void)
{
	static const size_t h4[] = {4}, h32[] = {3, 2};
	lupi_model *m = make_model(LUPI_TASK_CLASSIFICATION, 3, h4, 1, 3);
	if (lupi_model_set_int(m, LUPI_OPT_ACTIVATION, LUPI_ACT_TANH) ||
	    lupi_model_init(m))
		die("classifier");
	model_seed("classifier", m);

	m = make_model(LUPI_TASK_BINARY, 2, NULL, 0, 1);
	if (lupi_model_init(m))
		die("binary");
	model_seed("logistic", m);

	m = make_model(LUPI_TASK_REGRESSION, 4, h32, 2, 2);
	static const float mean[4] = {1, -2, 0.5f, 3}, sd[4] = {2, 1, 0.25f, 4};
	if (lupi_model_init(m) ||
	    lupi_model_set_layer_activation(m, 0, LUPI_ACT_GELU) ||
	    lupi_model_set_layer_activation(m, 1, LUPI_ACT_SIGMOID) ||
	    lupi_model_set_standardizer(m, mean, sd))
		die("regression");
	model_seed("regression-standardized", m);

	m = make_model(LUPI_TASK_CLASSIFICATION, 5, h4, 1, 2);
	if (lupi_model_set_int(m, LUPI_OPT_VIEW, LUPI_VIEW_BOTH) ||
	    lupi_model_init(m))
		die("view both");
	model_seed("view-both", m);
}

/* ---- option records -------------------------------------------------------- */

/* op: object | double << 2 | encoding << 3; key: k + 8 (k < 120) or k + 36 */
static uint8_t key_byte(int k)
{
	return (uint8_t)(k < 92 ? k + 8 : k + 36);
}

static void options_seeds(void)
{
	uint8_t b[256], *q;
	memset(b, 0, sizeof b);
	/* Classification, KD: lr, temperature, lambda, epochs, then a step,
	 * a loss evaluation, a student step and a clone. */
	q = b;
	*q++ = LUPI_LOSS_KD;
	*q++ = 0 | 1 << 2 | 1 << 3; *q++ = key_byte(LUPI_OPT_LR); *q++ = 16;
	*q++ = 1 | 1 << 2 | 2 << 3; *q++ = key_byte(LUPI_LOSS_TEMPERATURE);
	*q++ = 4;
	*q++ = 1 | 1 << 2 | 1 << 3; *q++ = key_byte(LUPI_LOSS_LAMBDA); *q++ = 4;
	*q++ = 0 | 2 << 3; *q++ = key_byte(LUPI_OPT_EPOCHS); *q++ = 3;
	*q++ = 3; *q++ = 0; q += 4;
	*q++ = 3; *q++ = 1; q += 4;
	*q++ = 3; *q++ = 4; *q++ = 1; q += 3;
	*q++ = 3; *q++ = 8; q += 4;
	put("options", "kd-step", b, (size_t)(q - b), NULL, 0);

	/* Regression, out-of-range values and a step with a huge rate. */
	memset(b, 0, sizeof b);
	q = b;
	*q++ = LUPI_LOSS_REGRESSION | 2 << 3;
	*q++ = 0 | 1 << 2 | 1 << 3; *q++ = key_byte(LUPI_OPT_LR); *q++ = 12;
	*q++ = 0 | 1 << 2 | 1 << 3; *q++ = key_byte(LUPI_OPT_DROPOUT);
	*q++ = 2;
	*q++ = 0 | 2 << 3; *q++ = key_byte(LUPI_OPT_OPTIMIZER); *q++ = 0;
	*q++ = 0 | 1 << 2 | 1 << 3; *q++ = key_byte(LUPI_OPT_MOMENTUM);
	*q++ = 15;
	*q++ = 3; *q++ = 0; q += 4;
	*q++ = 3; *q++ = 0; q += 4;
	*q++ = 3; *q++ = 9; q += 4;
	put("options", "regression-large-lr", b, (size_t)(q - b), NULL, 0);

	/* Binary, feature loss with a hint and the feature evaluation. */
	memset(b, 0, sizeof b);
	q = b;
	*q++ = LUPI_LOSS_KD | 1 << 3;
	*q++ = 1 | 2 << 3; *q++ = key_byte(LUPI_LOSS_FEATURE);
	*q++ = LUPI_FEATURE_HINT;
	*q++ = 3; *q++ = 2; *q++ = 1; q += 3;
	*q++ = 1 | 2 << 3; *q++ = key_byte(LUPI_LOSS_FEATURE);
	*q++ = LUPI_FEATURE_CRD;
	*q++ = 1 | 2 << 3; *q++ = key_byte(LUPI_LOSS_QUEUE); *q++ = 8;
	*q++ = 3; *q++ = 2; *q++ = 1; q += 3;
	*q++ = 3; *q++ = 6; *q++ = 0; *q++ = LUPI_ACT_SIGMOID; q += 2;
	*q++ = 3; *q++ = 4; *q++ = 1; q += 3;
	put("options", "binary-features", b, (size_t)(q - b), NULL, 0);

	/* Reader options, then loading the fixed CSV. */
	memset(b, 0, sizeof b);
	q = b;
	*q++ = LUPI_LOSS_SEL;
	*q++ = 2 | 2 << 3; *q++ = key_byte(LUPI_READER_HEADER); *q++ = 1;
	*q++ = 2 | 2 << 3; *q++ = key_byte(LUPI_READER_ALLOW_NONFINITE);
	*q++ = 1;
	*q++ = 3; *q++ = 5; *q++ = 2; *q++ = 2; *q++ = LUPI_ROLE_PRIVILEGED;
	*q++ = 0;
	*q++ = 3; *q++ = 10; q += 4;
	*q++ = 2 | 2 << 3; *q++ = key_byte(LUPI_READER_MAX_ROWS); *q++ = 2;
	*q++ = 3; *q++ = 10; q += 4;
	*q++ = 3; *q++ = 7; *q++ = 2; *q++ = 0x10; q += 2;
	*q++ = 3; *q++ = 1; q += 4;
	put("options", "reader-load", b, (size_t)(q - b), NULL, 0);
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
