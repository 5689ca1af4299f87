/* The IDX loader on small crafted files (pooling, scaling, every header
 * error) and, when the Debian package dataset-fashion-mnist is installed,
 * on the real Fashion-MNIST test set. */
#include <math.h>
#include <sys/stat.h>
#include <zlib.h>

#include "data/data_internal.h"
#include "testutil.h"

#define ck_assert_msg_has(sub) \
	ck_assert_msg(strstr(lupi_errmsg(), (sub)) != NULL, \
		      "message '%s' lacks '%s'", lupi_errmsg(), (sub))

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static char *dir;

static void setup(void)
{
	dir = lupi_test_tmpdir();
}

static void teardown(void)
{
	lupi_test_rmdir(dir);
}

/* An IDX file: magic, ndims big-endian u32 dims, then `len` bytes; gzip'd
 * when the name ends in .gz. Returns the malloc'd path. */
static char *write_idx(const char *name, uint32_t magic, const uint32_t *dims,
		       const unsigned char *body, size_t len)
{
	size_t ndims = magic & 0xff, hl = 4 + 4 * ndims;
	unsigned char *buf = malloc(hl + len + 1);
	uint32_t words[4] = {magic, dims[0], ndims > 1 ? dims[1] : 0,
			     ndims > 2 ? dims[2] : 0};
	for (size_t w = 0; w <= ndims; w++)
		for (int b = 0; b < 4; b++)
			buf[4 * w + b] =
				(unsigned char)(words[w] >> (24 - 8 * b));
	if (len)
		memcpy(buf + hl, body, len);
	char *path;
	size_t nl = strlen(name);
	if (nl > 3 && strcmp(name + nl - 3, ".gz") == 0) {
		path = malloc(strlen(dir) + nl + 2);
		sprintf(path, "%s/%s", dir, name);
		gzFile f = gzopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(gzwrite(f, buf, (unsigned)(hl + len)),
				 (int)(hl + len));
		ck_assert_int_eq(gzclose(f), Z_OK);
	} else {
		path = lupi_test_write(dir, name, buf, hl + len);
	}
	free(buf);
	return path;
}

/* 3 images of 4 x 4: image i has pixel (r, c) = 16 i + 4 r + c. */
static unsigned char pixels[48];
static const unsigned char three_labels[3] = {2, 0, 1};

static char *write_images(const char *name)
{
	for (int i = 0; i < 48; i++)
		pixels[i] = (unsigned char)i;
	uint32_t dims[3] = {3, 4, 4};
	return write_idx(name, 0x803, dims, pixels, 48);
}

static char *write_labels(const char *name, const unsigned char *y,
			  uint32_t n)
{
	uint32_t dims[1] = {n};
	return write_idx(name, 0x801, dims, y, n);
}

static lupi_reader *reader(int pool, int scale)
{
	lupi_reader *r = NULL;
	ck_assert_int_eq(lupi_reader_create(&r), LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, pool),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_IDX_SCALE, scale),
			 LUPI_OK);
	return r;
}

START_TEST(plain_images_scaled)
{
	char *img = write_images("img"), *lab = write_labels("lab",
							     three_labels, 3);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, NULL, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 16);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	const float *x = lupi_dataset_features(ds, 0);
	for (int i = 0; i < 48; i++)
		ck_assert_float_eq(x[i], (float)(i / 255.0));
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[2], 1);
	lupi_dataset_free(ds);
	/* Without labels: features only. */
	ck_assert_int_eq(lupi_dataset_load_idx(img, NULL, NULL, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_NONE);
	ck_assert_ptr_null(lupi_dataset_labels(ds));
	lupi_dataset_free(ds);
	free(img);
	free(lab);
}
END_TEST

START_TEST(pooling_exact)
{
	char *img = write_images("img"), *lab = write_labels("lab",
							     three_labels, 3);
	lupi_reader *r = reader(2, 0);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 4);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 16);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	ck_assert_ptr_null(lupi_dataset_mask(ds));
	/* Block (a, b) of image i: mean of 16i + 4(2a+u) + 2b+v over u, v in
	 * {0, 1} = 16i + 8a + 2b + 2.5. */
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	for (int i = 0; i < 3; i++)
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 2; b++)
				ck_assert_float_eq(
					x[i * 4 + a * 2 + b],
					16 * i + 8 * a + 2 * b + 2.5f);
	const float *xp = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	for (int i = 0; i < 48; i++)
		ck_assert_float_eq(xp[i], (float)i);
	lupi_dataset_free(ds);
	lupi_reader_free(r);

	/* Pool 4 with scaling: one block, mean 16i + 7.5, over 255. */
	r = reader(4, 1);
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 1);
	for (int i = 0; i < 3; i++)
		ck_assert_float_eq_tol(lupi_dataset_features(ds, 0)[i],
				       (16 * i + 7.5) / 255.0, 1e-7);
	lupi_dataset_free(ds);
	lupi_reader_free(r);

	r = reader(3, 1);
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("IDX_POOL 3 does not divide 4 x 4 images");
	lupi_reader_free(r);
	free(img);
	free(lab);
}
END_TEST

START_TEST(gzipped_and_max_rows)
{
	char *img = write_images("img.gz");
	char *lab = write_labels("lab.gz", three_labels, 3);
	lupi_reader *r = reader(1, 0);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, 2),
			 LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[31], 31);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 0);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
	free(img);
	free(lab);
}
END_TEST

START_TEST(label_tasks)
{
	char *img = write_images("img");
	static const unsigned char bin[3] = {1, 0, 3};
	char *lab = write_labels("lab", bin, 3);
	lupi_reader *r = reader(1, 1);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_BINARY), LUPI_OK);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("lab: sample 2: label 3 is not 0 or 1");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_CLASSIFICATION),
			 LUPI_OK);
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, 3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_ERANGE);
	ck_assert_msg_has("label 3 is out of range [0, 3)");
	ck_assert_int_eq(lupi_reader_set_int(r, LUPI_READER_OPT_TASK,
					     LUPI_TASK_REGRESSION), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab, r, &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 1);
	ck_assert_float_eq(lupi_dataset_targets(ds)[2], 3);
	lupi_dataset_free(ds);
	lupi_reader_free(r);
	free(img);
	free(lab);
}
END_TEST

START_TEST(header_errors)
{
	char *img = write_images("img");
	char *lab5 = write_labels("lab5", (const unsigned char *)"\0\1\2\0\1",
				  5);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(img, lab5, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("lab5: 5 labels for 3 images");
	/* Labels given as images and the other way round. */
	ck_assert_int_eq(lupi_dataset_load_idx(lab5, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("lab5: not an IDX ubyte image file");
	ck_assert_int_eq(lupi_dataset_load_idx(img, img, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("img: not an IDX ubyte label file");

	uint32_t dims[3] = {3, 4, 4};
	char *p = write_idx("short", 0x803, dims, pixels, 47);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("short: truncated: the header promises 48 bytes "
			  "of data, the file has 47");
	free(p);
	unsigned char more[49] = {0};
	p = write_idx("long", 0x803, dims, more, 49);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("trailing bytes");
	free(p);
	/* A header promising 2^32 - 1 huge images, 10 bytes of data: refused
	 * before allocating anything. */
	uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
	p = write_idx("huge", 0x803, huge, more, 10);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("truncated");
	free(p);
	uint32_t zero[3] = {3, 0, 4};
	p = write_idx("zero", 0x803, zero, more, 0);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("zero: dimension 2 is 0");
	free(p);
	p = lupi_test_write(dir, "tiny", "\0\0\x08", 3);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	free(p);
	p = lupi_test_write(dir, "hdr", "\0\0\x08\x03\0\0\0\1", 8);
	ck_assert_int_eq(lupi_dataset_load_idx(p, NULL, NULL, &ds),
			 LUPI_EFORMAT);
	ck_assert_msg_has("hdr: truncated IDX header");
	free(p);
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(lupi_dataset_load_idx(NULL, NULL, NULL, &ds),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_load_idx(img, NULL, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_load_idx("/nonexistent/img", NULL, NULL,
					       &ds), LUPI_EIO);
	ck_assert_msg_has("/nonexistent/img: No such file or directory");
	free(img);
	free(lab5);
}
END_TEST

/* Every prefix of a gzip'd image file fails cleanly (truncated gzip or
 * truncated IDX) or, for the whole file, loads. */
START_TEST(truncated_gzip_prefixes)
{
	char *img = write_images("img.gz");
	FILE *f = fopen(img, "rb");
	unsigned char buf[512];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	ck_assert_uint_lt(len, sizeof buf);
	for (size_t cut = 0; cut <= len; cut++) {
		char *p = lupi_test_write(dir, "cut.gz", buf, cut);
		lupi_dataset *ds = NULL;
		int rc = lupi_dataset_load_idx(p, NULL, NULL, &ds);
		if (cut == len)
			ck_assert_int_eq(rc, LUPI_OK);
		else
			ck_assert_int_eq(rc, LUPI_EFORMAT);
		lupi_dataset_free(ds);
		free(p);
	}
	free(img);
}
END_TEST

START_TEST(allocation_failures)
{
	char *img = write_images("img.gz"), *lab = write_labels("lab",
								three_labels,
								3);
	lupi_reader *r = reader(2, 1);
	int ok = 0;
	for (int k = 0; k < 30; k++) {
		int budget = k;
		lupi_dataset *ds = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_dataset_load_idx(img, lab, r, &ds);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
		ok += rc == LUPI_OK;
		lupi_dataset_free(ds);
	}
	ck_assert_int_gt(ok, 0);
	lupi_reader_free(r);
	free(img);
	free(lab);
}
END_TEST

/* The Fashion-MNIST test set: 10000 28 x 28 images, 1000 per class. */
START_TEST(fashion_mnist_test_set)
{
	lupi_reader *r = reader(4, 1);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_load_idx(
				 FASHION_DIR "/t10k-images-idx3-ubyte.gz",
				 FASHION_DIR "/t10k-labels-idx1-ubyte.gz", r,
				 &ds), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 10000);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 49);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 784);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 10);
	size_t count[10] = {0};
	for (size_t i = 0; i < 10000; i++)
		count[lupi_dataset_labels(ds)[i]]++;
	for (int c = 0; c < 10; c++)
		ck_assert_uint_eq(count[c], 1000);
	/* Pixels are in [0, 1]; each pooled value is its block's mean. */
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *xp = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	for (size_t i = 0; i < 10000; i += 997) {
		for (size_t j = 0; j < 784; j++)
			ck_assert(xp[i * 784 + j] >= 0 &&
				  xp[i * 784 + j] <= 1);
		double s = 0;
		for (int u = 0; u < 4; u++)
			for (int v = 0; v < 4; v++)
				s += xp[i * 784 + (4 + u) * 28 + 8 + v];
		ck_assert_float_eq_tol(x[i * 49 + 7 + 2], s / 16, 1e-6);
	}
	lupi_dataset_free(ds);
	lupi_reader_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("idx");
	TCase *tc = tcase_create("idx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, plain_images_scaled);
	tcase_add_test(tc, pooling_exact);
	tcase_add_test(tc, gzipped_and_max_rows);
	tcase_add_test(tc, label_tasks);
	tcase_add_test(tc, header_errors);
	tcase_add_test(tc, truncated_gzip_prefixes);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	/* The real data set only where the package is installed: the test
	 * is not registered (rather than passing vacuously) without it. */
	struct stat st;
	if (stat(FASHION_DIR "/t10k-images-idx3-ubyte.gz", &st) == 0 &&
	    stat(FASHION_DIR "/t10k-labels-idx1-ubyte.gz", &st) == 0) {
		TCase *real = tcase_create("fashion-mnist");
		tcase_add_test(real, fashion_mnist_test_set);
		suite_add_tcase(s, real);
	}
	return lupi_test_run(s);
}
