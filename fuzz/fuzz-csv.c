/* lupi_dataset_load_csv on arbitrary text. Input: FUZZ_READER_PREFIX bytes
 * configuring the reader, then the file's bytes. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	fuzz_reader_cfg cfg;
	lupi_reader *r = fuzz_reader(&in, &cfg);
	if (r == NULL)
		return 0;
	lupi_dataset *ds = (lupi_dataset *)1;
	int rc = lupi_dataset_load_csv(fuzz_file(0, in.p, in.n), r, &ds);
	fuzz_loaded("lupi_dataset_load_csv", rc, ds, &cfg);
	lupi_reader_free(r);
	return 0;
}
