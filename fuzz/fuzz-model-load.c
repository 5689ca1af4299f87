/* lupi_model_load_memory on arbitrary bytes: every outcome is a documented
 * code, the loader's allocations stay proportional to the input (DESIGN.md:
 * "a file can never make the loader allocate more than its own size";
 * checked here as: no single allocation above size + 64 KiB, all of them
 * together at most 4 * size + 64 KiB, which leaves room for the layer table
 * and the standardisation arrays), and a loaded model answers its
 * accessors, holds every model and layer option inside the range the
 * option directory describes, and predicts. Each input is loaded twice: as it is, and with
 * its checksums recomputed where the layout of doc/formats.md puts them,
 * so that mutations get past the CRC32C checks into the header and tensor
 * validation. */
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "fuzz.h"

#define SLACK 65536u

typedef struct alloc_count {
	size_t largest, total;
} alloc_count;

static int count_gate(size_t size, void *user)
{
	alloc_count *c = user;
	if (size > c->largest)
		c->largest = size;
	c->total += size;
	return 1;
}

static void use_model(const lupi_model *m)
{
	size_t in = lupi_model_inputs(m), out = lupi_model_outputs(m);
	size_t layers = lupi_model_layers(m);
	if (in == 0 || out == 0 || layers == 0)
		fuzz_fail("a loaded model has an empty shape", 0);
	if (lupi_model_layer_size(m, layers - 1) != out)
		fuzz_fail("last layer width differs from the outputs", 0);
	/* Every option of the model and its layers reads a value inside
	 * the range the option directory describes. */
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o)) {
		int64_t iv = 0;
		double dv = 0;
		int ok = o->type == LUPI_TYPE_INT
		             ? lupi_model_get_int(m, o->key, &iv) == LUPI_OK &&
		                   iv >= o->int_min && iv <= o->int_max
		             : lupi_model_get_double(m, o->key, &dv) ==
		                       LUPI_OK &&
		                   dv >= o->real_min && dv <= o->real_max &&
		                   !(o->real_min_open && dv == o->real_min) &&
		                   !(o->real_max_open && dv == o->real_max);
		if (!ok)
			fuzz_fail("a loaded model has an option out of range",
			          o->key);
	}
	for (size_t i = 0; i < layers; i++)
		for (const lupi_option *o =
		         lupi_option_next(LUPI_HANDLE_LAYER, NULL);
		     o != NULL; o = lupi_option_next(LUPI_HANDLE_LAYER, o)) {
			int64_t v = -1;
			if (lupi_model_get_layer_int(m, i, o->key, &v) !=
			        LUPI_OK ||
			    v < o->int_min || v > o->int_max)
				fuzz_fail("a loaded layer has an option out of "
				          "range",
				          o->key);
			if (i == layers - 1 &&
			    o->key == LUPI_LAYER_OPT_ACTIVATION &&
			    v != LUPI_ACT_IDENTITY)
				fuzz_fail("a loaded output layer is not linear",
				          (int)v);
		}
	float *x = calloc(2 * in, sizeof *x);
	float *y = calloc(2 * out, sizeof *y);
	int32_t cls[2];
	if (x == NULL || y == NULL)
		abort();
	/* a file may hold NaN or huge weights: its outputs are then refused */
	static const int ok[] = {LUPI_OK, LUPI_ENOMEM, LUPI_ENONFINITE};
	fuzz_expect("lupi_model_predict",
	            lupi_model_predict(m, x, 2, in, LUPI_PREDICT_OUTPUT, y), ok,
	            3);
	int task = lupi_model_task(m);
	if (task == LUPI_TASK_CLASSIFICATION || task == LUPI_TASK_BINARY) {
		int rc = lupi_model_predict_class(m, x, 2, in, cls);
		fuzz_expect("lupi_model_predict_class", rc, ok, 3);
		for (int i = 0; rc == LUPI_OK && i < 2; i++) {
			size_t k = task == LUPI_TASK_BINARY ? 2 : out;
			if (cls[i] < 0 || (size_t)cls[i] >= k)
				fuzz_fail("predicted class out of range", 0);
		}
	}
	free(x);
	free(y);
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Model file layout: a 24-byte preamble ending with the u64 header length
 * h, the header, a CRC32C of bytes [0, 24 + h); then tensors, each a u64
 * element count c, 4c bytes and a CRC32C of the count and the bytes.
 * Rewrites every checksum that fits inside the input. */
static void fix_checksums(uint8_t *d, size_t size)
{
	if (size < 24)
		return;
	uint64_t h = le(d + 16, 8);
	if (h > size - 24 || size - 24 - h < 4)
		return;
	size_t pos = 24 + (size_t)h;
	put_le32(d + pos, lupi__crc32c(0, d, pos));
	pos += 4;
	while (size - pos >= 12) {
		uint64_t c = le(d + pos, 8);
		if (c > (size - pos - 12) / 4)
			return;
		size_t len = 8 + 4 * (size_t)c;
		put_le32(d + pos + len, lupi__crc32c(0, d + pos, len));
		pos += len + 4;
	}
}

static void load_one(const uint8_t *data, size_t size)
{
	static const int codes[] = {LUPI_OK,       LUPI_EINVAL,    LUPI_EFORMAT,
	                            LUPI_EVERSION, LUPI_ECHECKSUM, LUPI_ENOMEM};
	alloc_count c = {0, 0};
	lupi_model *m = (lupi_model *)1;
	lupi__set_alloc_gate(count_gate, &c);
	int rc = lupi_model_load_memory(data, size, &m);
	lupi__set_alloc_gate(NULL, NULL);
	fuzz_expect("lupi_model_load_memory", rc, codes, 6);
	if (c.largest > size + SLACK)
		fuzz_fail("the loader made an allocation larger than its input",
		          rc);
	if (c.total / 4 > size + SLACK / 4)
		fuzz_fail("the loader allocated more than 4 x its input", rc);
	if (rc != LUPI_OK) {
		if (m != NULL)
			fuzz_fail("a failed load left *out set", rc);
		return;
	}
	use_model(m);
	lupi_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_one(data, size);
	uint8_t *fixed = malloc(size ? size : 1);
	if (fixed == NULL)
		abort();
	memcpy(fixed, data, size);
	fix_checksums(fixed, size);
	if (memcmp(fixed, data, size) != 0)
		load_one(fixed, size);
	free(fixed);
	return 0;
}
