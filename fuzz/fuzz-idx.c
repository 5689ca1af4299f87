/* lupi_dataset_load_idx on an arbitrary image file and label file. Input:
 * FUZZ_READER_PREFIX bytes configuring the reader (flag bit 6 of the first
 * byte: no label file), a little-endian u32 length L of the image file, L
 * bytes of image file (fewer if the input ends), the rest is the label
 * file. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_in in = {data, size};
	int no_labels = size > 0 && (data[0] & 0x40);
	fuzz_reader_cfg cfg;
	lupi_reader *r = fuzz_reader(&in, &cfg);
	if (r == NULL)
		return 0;
	size_t len = fuzz_u32(&in);
	if (len > in.n)
		len = in.n;
	const char *images = fuzz_file(0, in.p, len);
	const char *labels =
	    no_labels ? NULL : fuzz_file(1, in.p + len, in.n - len);
	lupi_dataset *ds = (lupi_dataset *)1;
	int rc = lupi_dataset_load_idx(images, labels, r, &ds);
	fuzz_loaded("lupi_dataset_load_idx", rc, ds, &cfg);
	lupi_reader_free(r);
	return 0;
}
