/* Shared by the libFuzzer targets of liblupi and by the replay driver. */
#ifndef LUPI_FUZZ_H
#define LUPI_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "lupi.h"

/* Every target defines this (libFuzzer's entry point). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cursor over the fuzzer's input; reads past the end give zeros. */
typedef struct fuzz_in {
	const uint8_t *p;
	size_t n;
} fuzz_in;

uint8_t fuzz_u8(fuzz_in *in);
uint32_t fuzz_u32(fuzz_in *in);
uint64_t fuzz_u64(fuzz_in *in);

/* Stops the process with a message: a property of the library is broken.
 * libFuzzer and the replay driver both report the input that did it. */
void fuzz_fail(const char *what, int code) __attribute__((noreturn));

/* With FUZZ_TRACE set in the environment, prints each checked call and
 * its code to stderr (to see what a corpus file does). */
void fuzz_trace(const char *call, int code);

/* Aborts unless code is one of the n codes in ok[]; a failing code must
 * also leave a message in lupi_errmsg(). */
void fuzz_expect(const char *call, int code, const int *ok, size_t n);

/* Path of a file holding exactly data[0..size) (slot 0 or 1: two files may
 * be alive at once). The file is a memfd reached through /proc/self/fd, or
 * a temporary file; it is rewritten by the next call for the same slot. */
const char *fuzz_file(int slot, const uint8_t *data, size_t size);

/* Every option key of every handle, asked of the library's option
 * directory (lupi_option_next), handles in LUPI_HANDLE_* order and keys in
 * key order; writes at most cap keys and returns how many it wrote. The
 * options target and gen-corpus number keys by their place in this list. */
static inline size_t fuzz_option_keys(int *keys, size_t cap)
{
	size_t n = 0;
	for (int h = LUPI_HANDLE_MODEL; h <= LUPI_HANDLE_LAYER; h++)
		for (const lupi_option *o = lupi_option_next(h, NULL);
		     o != NULL && n < cap; o = lupi_option_next(h, o))
			keys[n++] = o->key;
	return n;
}

/* Size of the reader prefix consumed by fuzz_reader(). */
#define FUZZ_READER_PREFIX 16

/* What the reader was told, for the checks on a loaded dataset. */
typedef struct fuzz_reader_cfg {
	int allow_nonfinite; /* LUPI_READER_OPT_ALLOW_NONFINITE took 1 */
	int64_t max_rows;    /* LUPI_READER_OPT_MAX_ROWS in effect (0 = all) */
} fuzz_reader_cfg;

/* Builds a reader from the first FUZZ_READER_PREFIX bytes of in (layout in
 * doc/reliability.md); a setter refusing a value is fine and leaves the
 * default. Returns NULL only when lupi_reader_create fails. */
lupi_reader *fuzz_reader(fuzz_in *in, fuzz_reader_cfg *cfg);

/* The codes every file loader may return. */
extern const int fuzz_loader_codes[];
extern const size_t fuzz_loader_ncodes;

/* Checks that a loaded dataset is consistent: sizes, label ranges, finite
 * values, the privileged count agreeing with the mask. */
void fuzz_check_dataset(const lupi_dataset *ds, const fuzz_reader_cfg *cfg);

/* Runs one loader's result through the checks: code among the loader
 * codes, out NULL on failure, dataset consistent on success; frees it. */
void fuzz_loaded(const char *call, int rc, lupi_dataset *ds,
                 const fuzz_reader_cfg *cfg);

#endif
