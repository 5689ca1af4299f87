/* IDX files (the MNIST / Fashion-MNIST format): a big-endian header of a
 * magic (0, 0, type, number of dimensions) and one u32 per dimension, then
 * the bytes. Only unsigned-byte images (3 dimensions) and labels (1) are
 * read. Every size is checked against the data actually read before
 * anything is allocated for it. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"

#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u

struct idx {
	const char *path;
	unsigned char *data;
	size_t len;
	size_t dims[3];
	const unsigned char *body;
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads path and checks its magic and that the header's sizes are exactly
 * the bytes that follow. */
static int idx_open(struct idx *f, const char *path, uint32_t magic)
{
	memset(f, 0, sizeof *f);
	f->path = path;
	LUPI__TRY(lupi__read_file(path, &f->data, &f->len));
	size_t ndims = magic & 0xff;
	size_t header = 4 + 4 * ndims;
	if (f->len < 4 || be32(f->data) != magic)
		return lupi__err(LUPI_EFORMAT, "%s: not an IDX %s file (magic "
				 "0x%08x expected)", path,
				 ndims == 3 ? "ubyte image" : "ubyte label",
				 (unsigned)magic);
	if (f->len < header)
		return lupi__err(LUPI_EFORMAT, "%s: truncated IDX header",
				 path);
	size_t total = 1;
	for (size_t i = 0; i < ndims; i++) {
		f->dims[i] = be32(f->data + 4 + 4 * i);
		if (f->dims[i] == 0)
			return lupi__err(LUPI_EFORMAT, "%s: dimension %zu is 0",
					 path, i + 1);
		if (lupi__mul_overflow(total, f->dims[i], &total))
			total = SIZE_MAX;
	}
	size_t have = f->len - header;
	if (total != have)
		return lupi__err(LUPI_EFORMAT, "%s: %s: the header promises "
				 "%zu bytes of data, the file has %zu", path,
				 total > have ? "truncated" : "trailing bytes",
				 total, have);
	f->body = f->data + header;
	return LUPI_OK;
}

/* X (pooled when p > 1) and X* (the image, when p > 1) of sample i. */
static void image_row(const unsigned char *img, size_t rows, size_t cols,
		      size_t p, float scale, float *x, float *xp)
{
	size_t pix = rows * cols;
	if (p == 1) {
		for (size_t j = 0; j < pix; j++)
			x[j] = (float)(img[j] / (double)scale);
		return;
	}
	for (size_t j = 0; j < pix; j++)
		xp[j] = (float)(img[j] / (double)scale);
	size_t bc = cols / p;
	for (size_t bi = 0; bi < rows / p; bi++) {
		for (size_t bj = 0; bj < bc; bj++) {
			unsigned sum = 0;
			for (size_t u = 0; u < p; u++)
				for (size_t v = 0; v < p; v++)
					sum += img[(bi * p + u) * cols +
						   bj * p + v];
			x[bi * bc + bj] =
				(float)(sum / (double)(p * p) / scale);
		}
	}
}

static int images(const struct idx *f, const lupi_reader *r, size_t n,
		  lupi__table *t)
{
	size_t rows = f->dims[1], cols = f->dims[2], p = (size_t)r->idx_pool;
	if (rows % p != 0 || cols % p != 0)
		return lupi__err(LUPI_ERANGE, "%s: IDX_POOL %zu does not "
				 "divide %zu x %zu images", f->path, p, rows,
				 cols);
	size_t pix = rows * cols; /* <= the file's length */
	t->d = p == 1 ? pix : pix / (p * p);
	t->d_priv = p == 1 ? 0 : pix;
	t->has_priv = p > 1;
	size_t bytes;
	if (lupi__mul_overflow(n, t->d + t->d_priv, &bytes) ||
	    lupi__mul_overflow(bytes, sizeof(float), &bytes) ||
	    bytes > LUPI__MAX_DENSE_BYTES)
		return lupi__err(LUPI_EFORMAT, "%s: %zu images of %zu x %zu "
				 "exceed %zu bytes as floats", f->path, n,
				 rows, cols, LUPI__MAX_DENSE_BYTES);
	float *x = lupi__vec_push(&t->x, n * t->d);
	float *xp = p > 1 ? lupi__vec_push(&t->x_priv, n * pix) : NULL;
	uint8_t *mask = p > 1 ? lupi__vec_push(&t->mask, n) : NULL;
	if (x == NULL || (p > 1 && (xp == NULL || mask == NULL)))
		return lupi__err(LUPI_ENOMEM, "%s: out of memory for %zu "
				 "images", f->path, n);
	float scale = r->idx_scale ? 255.0f : 1.0f;
	for (size_t i = 0; i < n; i++)
		image_row(f->body + i * pix, rows, cols, p, scale,
			  x + i * t->d, xp ? xp + i * pix : NULL);
	if (mask != NULL)
		memset(mask, 1, n);
	t->n = n;
	return LUPI_OK;
}

static int labels(const struct idx *f, size_t n_images, size_t n,
		  lupi__table *t)
{
	if (f->dims[0] != n_images)
		return lupi__err(LUPI_EFORMAT, "%s: %zu labels for %zu images",
				 f->path, f->dims[0], n_images);
	if (t->task == LUPI_TASK_REGRESSION) {
		float *y = lupi__vec_push(&t->targets, n);
		if (y == NULL)
			return lupi__err(LUPI_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			y[i] = f->body[i];
		t->m = 1;
		return LUPI_OK;
	}
	int32_t *y = lupi__vec_push(&t->labels, n);
	if (y == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		int rc = lupi__check_label(t, f->body[i], 0, &y[i]);
		if (rc != LUPI_OK) {
			char where[320];
			snprintf(where, sizeof where, "%s: sample %zu",
				 f->path, i);
			return lupi__err_prefix(rc, where);
		}
		if (y[i] > t->max_label)
			t->max_label = y[i];
	}
	return LUPI_OK;
}

static int load(const char *images_path, const char *labels_path,
		const lupi_reader *r, lupi__table *t, lupi_dataset **out)
{
	struct idx fi, fl = {0};
	int rc = idx_open(&fi, images_path, IDX_IMAGES);
	size_t n = fi.dims[0];
	if (r->max_rows != 0 && r->max_rows < n)
		n = (size_t)r->max_rows;
	if (rc == LUPI_OK && labels_path != NULL)
		rc = idx_open(&fl, labels_path, IDX_LABELS);
	if (rc == LUPI_OK)
		rc = images(&fi, r, n, t);
	if (rc == LUPI_OK && labels_path != NULL && t->task != LUPI_TASK_NONE)
		rc = labels(&fl, fi.dims[0], n, t);
	else
		t->task = LUPI_TASK_NONE;
	if (rc == LUPI_OK)
		rc = lupi__table_finish(t, images_path, out);
	lupi__free(fi.data);
	lupi__free(fl.data);
	return rc;
}

int lupi_dataset_load_idx(const char *images_path, const char *labels_path,
			  const lupi_reader *r, lupi_dataset **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(images_path);
	lupi_reader defaults;
	r = lupi__reader_or_default(r, &defaults);
	lupi__table t;
	lupi__table_init(&t, r);
	int rc = load(images_path, labels_path, r, &t, out);
	lupi__table_free(&t);
	return rc;
}
