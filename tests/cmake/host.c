/* A C99 host linked with liblupi.a: the imported target brings the BLAS,
 * zlib, libm and the threads library. */
#include <lupi.h>
#include <stdio.h>

int main(void)
{
	float x[] = {0.5f, 1.5f};
	lupi_dataset *ds;
	if (lupi_version_number() != LUPI_VERSION_NUMBER ||
	    lupi_dataset_create(2, 1, x, &ds)) {
		fprintf(stderr, "lupi: %s\n", lupi_errmsg());
		return 1;
	}
	printf("liblupi %s, %zu rows\n", lupi_version_string(),
	       lupi_dataset_rows(ds));
	lupi_dataset_free(ds);
	return 0;
}
