/* fmnist_load.h - reads at most n rows of the Fashion-MNIST split `set`
 * ("train" or "t10k") from the gzipped IDX files in dir, with
 * LUPI_READER_OPT_IDX_POOL pool. Returns a lupi status. Shared by
 * fashion_mnist.c, fashion_mnist_lupi.c, subliminal.c and
 * dp_fashion_mnist.c; included by one translation unit each. */
#ifndef LUPI_EXAMPLES_FMNIST_LOAD_H
#define LUPI_EXAMPLES_FMNIST_LOAD_H

#include <stdio.h>

#include <lupi.h>

static int fmnist_load(const char *dir, const char *set, long n, int pool,
		       lupi_dataset **ds)
{
	char images[512], labels[512];
	lupi_reader *r;
	int rc;

	snprintf(images, sizeof(images), "%s/%s-images-idx3-ubyte.gz", dir,
		 set);
	snprintf(labels, sizeof(labels), "%s/%s-labels-idx1-ubyte.gz", dir,
		 set);
	rc = lupi_reader_create(&r);
	if (rc != LUPI_OK)
		return rc;
	rc = lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, pool);
	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, n);
	if (rc == LUPI_OK)
		rc = lupi_dataset_load_idx(images, labels, r, ds);
	lupi_reader_free(r);
	return rc;
}

#endif
