/* Helpers shared by the fuzz targets: input cursor, files for the path-based
 * loaders, the reader prefix, and the consistency checks of a dataset. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

uint8_t fuzz_u8(fuzz_in *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

uint32_t fuzz_u32(fuzz_in *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)fuzz_u8(in) << (8 * i);
	return v;
}

uint64_t fuzz_u64(fuzz_in *in)
{
	uint64_t v = fuzz_u32(in);
	return v | (uint64_t)fuzz_u32(in) << 32;
}

void fuzz_fail(const char *what, int code)
{
	const char *name = lupi_errname(code);
	fprintf(stderr,
	        "fuzz: property broken: %s (code %d %s, %s; errmsg \"%s\")\n",
	        what, code, name ? name : "not a LUPI_E* code",
	        lupi_strerror(code), lupi_errmsg());
	abort();
}

void fuzz_trace(const char *call, int code)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FUZZ_TRACE") != NULL;
	if (on)
		fprintf(stderr, "fuzz: %s -> %s %s\n", call,
			lupi_errname(code) ? lupi_errname(code) : "?",
			code < 0 ? lupi_errmsg() : "");
}

void fuzz_expect(const char *call, int code, const int *ok, size_t n)
{
	char what[160];
	fuzz_trace(call, code);
	for (size_t i = 0; i < n; i++) {
		if (code != ok[i])
			continue;
		if (code < 0 && lupi_errmsg()[0] == '\0') {
			snprintf(what, sizeof what,
			         "%s failed without a message", call);
			fuzz_fail(what, code);
		}
		return;
	}
	snprintf(what, sizeof what, "%s returned an undocumented code", call);
	fuzz_fail(what, code);
}

/* ---- files ----------------------------------------------------------------
 */

static struct {
	int fd;
	char path[64];
} slots[2] = {{-1, ""}, {-1, ""}};

static void remove_temp_files(void)
{
	for (int i = 0; i < 2; i++)
		if (slots[i].fd >= 0 &&
		    strncmp(slots[i].path, "/proc/", 6) != 0)
			unlink(slots[i].path);
}

static int open_slot(int slot)
{
	int fd = memfd_create("lupi-fuzz", 0);
	if (fd >= 0) {
		snprintf(slots[slot].path, sizeof slots[slot].path,
		         "/proc/self/fd/%d", fd);
		return fd;
	}
	const char *dir = getenv("TMPDIR");
	snprintf(slots[slot].path, sizeof slots[slot].path,
	         "%s/lupi-fuzz-XXXXXX", dir && strlen(dir) < 40 ? dir : "/tmp");
	fd = mkstemp(slots[slot].path);
	if (fd >= 0)
		atexit(remove_temp_files);
	return fd;
}

const char *fuzz_file(int slot, const uint8_t *data, size_t size)
{
	if (slots[slot].fd < 0 && (slots[slot].fd = open_slot(slot)) < 0) {
		perror("fuzz: cannot create a file");
		abort();
	}
	int fd = slots[slot].fd;
	if (ftruncate(fd, 0) != 0) {
		perror("fuzz: ftruncate");
		abort();
	}
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(fd, data + done, size - done, (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			perror("fuzz: pwrite");
			abort();
		}
		done += (size_t)w;
	}
	return slots[slot].path;
}

/* ---- the reader prefix -----------------------------------------------------
 */

lupi_reader *fuzz_reader(fuzz_in *in, fuzz_reader_cfg *cfg)
{
	uint8_t b[FUZZ_READER_PREFIX];
	for (size_t i = 0; i < sizeof b; i++)
		b[i] = fuzz_u8(in);
	lupi_reader *r = NULL;
	if (lupi_reader_create(&r) != LUPI_OK)
		return NULL;
	/* The setters may refuse a value (ERANGE); the default then stays. */
	lupi_reader_set_int(r, LUPI_READER_OPT_HEADER, b[0] & 1);
	lupi_reader_set_int(r, LUPI_READER_OPT_ALLOW_NONFINITE, b[0] >> 1 & 1);
	lupi_reader_set_int(r, LUPI_READER_OPT_IDX_SCALE, b[0] >> 2 & 1);
	if (b[0] & 0x08)
		lupi_reader_set_role_name(r, "p", LUPI_ROLE_PRIVILEGED);
	if (b[0] & 0x10)
		lupi_reader_set_role_name(r, "y", LUPI_ROLE_TARGET);
	if (b[0] & 0x20)
		lupi_reader_set_int(r, LUPI_READER_OPT_DELIMITER, b[1]);
	if (b[0] & 0x80)
		lupi_reader_set_role_name(r, "w", LUPI_ROLE_WEIGHT);
	lupi_reader_set_int(r, LUPI_READER_OPT_TASK, b[2] % 5);
	lupi_reader_set_int(r, LUPI_READER_OPT_CLASSES, b[3]);
	lupi_reader_set_int(r, LUPI_READER_OPT_MAX_ROWS, b[4]);
	lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, b[5]);
	for (int i = 0; i < 3; i++) {
		const uint8_t *rr = b + 6 + 3 * i;
		if (rr[0] != 0)
			lupi_reader_set_role(r, rr[0], rr[1], rr[2]);
	}
	/* What the checks need, as the reader holds it. */
	int64_t v = 0;
	cfg->max_rows = 0;
	if (lupi_reader_get_int(r, LUPI_READER_OPT_ALLOW_NONFINITE, &v) !=
	        LUPI_OK ||
	    lupi_reader_get_int(r, LUPI_READER_OPT_MAX_ROWS, &cfg->max_rows) !=
	        LUPI_OK)
		fuzz_fail("a reader getter failed", 0);
	cfg->allow_nonfinite = v != 0;
	return r;
}

/* ---- checks on a loaded dataset -------------------------------------------
 */

const int fuzz_loader_codes[] = {LUPI_OK,      LUPI_EINVAL, LUPI_EIO,
                                 LUPI_EFORMAT, LUPI_ERANGE, LUPI_ENONFINITE,
                                 LUPI_ENOMEM};
const size_t fuzz_loader_ncodes =
    sizeof fuzz_loader_codes / sizeof fuzz_loader_codes[0];

static void check_finite(const float *v, size_t n, int allow, const char *what)
{
	for (size_t i = 0; i < n && !allow; i++)
		if (!isfinite(v[i]))
			fuzz_fail(what, 0);
}

static void check_privileged(const lupi_dataset *ds, size_t n,
                             const fuzz_reader_cfg *cfg)
{
	size_t dp = lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
	size_t count = lupi_dataset_privileged_count(ds);
	const float *xp = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	const uint8_t *mask = lupi_dataset_mask(ds);
	if (dp == 0) {
		if (count != 0 || xp != NULL)
			fuzz_fail("X* data without an X* dimension", 0);
		return;
	}
	if (xp == NULL)
		fuzz_fail("X* dimension without X* data", 0);
	size_t present = 0;
	for (size_t i = 0; i < n; i++) {
		if (mask != NULL && mask[i] == 0)
			continue;
		present++;
		check_finite(xp + i * dp, dp, cfg->allow_nonfinite,
		             "non-finite X* value accepted");
	}
	if (present != count)
		fuzz_fail("privileged count disagrees with the mask", 0);
}

static void check_targets(const lupi_dataset *ds, size_t n,
                          const fuzz_reader_cfg *cfg)
{
	int task = lupi_dataset_task(ds);
	size_t k = lupi_dataset_outputs(ds);
	const int32_t *labels = lupi_dataset_labels(ds);
	switch (task) {
	case LUPI_TASK_NONE:
		return;
	case LUPI_TASK_BINARY:
		if (k != 2)
			fuzz_fail("binary dataset without 2 outputs", 0);
		/* fall through */
	case LUPI_TASK_CLASSIFICATION:
		if (labels == NULL || k == 0)
			fuzz_fail("classification dataset without labels", 0);
		for (size_t i = 0; i < n; i++)
			if (labels[i] < 0 || (size_t)labels[i] >= k)
				fuzz_fail("label out of [0, K) accepted", 0);
		return;
	case LUPI_TASK_REGRESSION:
		if (lupi_dataset_targets(ds) == NULL || k == 0)
			fuzz_fail("regression dataset without targets", 0);
		check_finite(lupi_dataset_targets(ds), n * k,
		             cfg->allow_nonfinite,
		             "non-finite target accepted");
		return;
	default:
		fuzz_fail("unknown task", task);
	}
}

void fuzz_check_dataset(const lupi_dataset *ds, const fuzz_reader_cfg *cfg)
{
	size_t n = lupi_dataset_rows(ds);
	size_t d = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR);
	size_t dp = lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
	if (n == 0)
		fuzz_fail("a loaded dataset has no rows", 0);
	if (cfg->max_rows > 0 && n > (size_t)cfg->max_rows)
		fuzz_fail("more rows than LUPI_READER_OPT_MAX_ROWS", 0);
	/* Without X* the BOTH view does not exist (dimension 0). */
	if (lupi_dataset_dim(ds, LUPI_VIEW_BOTH) != (dp ? d + dp : 0))
		fuzz_fail("dim(BOTH) != dim(REGULAR) + dim(PRIVILEGED)", 0);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	if (d > 0 && x == NULL)
		fuzz_fail("regular dimension without data", 0);
	if (d > 0)
		check_finite(x, n * d, cfg->allow_nonfinite,
		             "non-finite feature accepted");
	check_privileged(ds, n, cfg);
	check_targets(ds, n, cfg);
	const float *w = lupi_dataset_weights(ds);
	for (size_t i = 0; w != NULL && i < n; i++)
		if (!(w[i] >= 0) || !isfinite(w[i]))
			fuzz_fail("negative or non-finite weight accepted", 0);
}

void fuzz_loaded(const char *call, int rc, lupi_dataset *ds,
                 const fuzz_reader_cfg *cfg)
{
	fuzz_expect(call, rc, fuzz_loader_codes, fuzz_loader_ncodes);
	if (rc != LUPI_OK) {
		if (ds != NULL)
			fuzz_fail("a failed load left *out set", rc);
		return;
	}
	if (ds == NULL)
		fuzz_fail("a successful load left *out NULL", rc);
	fuzz_check_dataset(ds, cfg);
	lupi_dataset_free(ds);
}
