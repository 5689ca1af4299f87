/* blobs.h - the labelled data set shared by test-pate.c and
 * test-unlearn.c. The includer defines K (classes) and D (dimensions)
 * and includes privacy/privacy_internal.h and testutil.h first. */
#ifndef LUPI_TEST_PRIVACY_BLOBS_H
#define LUPI_TEST_PRIVACY_BLOBS_H

/* n samples of K Gaussian blobs (centres 3 e_c, unit noise) in D dims. */
static lupi_dataset *blobs(size_t n, uint64_t seed)
{
	float *x = malloc(n * D * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		y[i] = (int32_t)(i % K);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)(lupi__rng_normal(&r) +
					       (j == (size_t)y[i] ? 3.0 : 0.0));
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, D, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, K, y), LUPI_OK);
	free(x);
	free(y);
	return ds;
}

#endif
