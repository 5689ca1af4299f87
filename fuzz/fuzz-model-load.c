/* lupi_model_load_memory on arbitrary bytes: every outcome is a documented
 * code, the loader's allocations stay proportional to the input (DESIGN.md:
 * "a file can never make the loader allocate more than its own size";
 * checked here as: no single allocation above size + 64 KiB, all of them
 * together at most 4 * size + 64 KiB, which leaves room for the layer table
 * and the standardisation arrays), and a loaded model answers its
 * accessors and predicts. */
#include <stdlib.h>

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
	for (size_t i = 0; i < layers; i++) {
		int act = lupi_model_layer_activation(m, i);
		if (act < LUPI_ACT_IDENTITY || act > LUPI_ACT_GELU)
			fuzz_fail("a loaded model has an unknown activation",
				  act);
	}
	float *x = calloc(2 * in, sizeof *x);
	float *y = calloc(2 * out, sizeof *y);
	int32_t cls[2];
	if (x == NULL || y == NULL)
		abort();
	static const int ok[] = {LUPI_OK, LUPI_ENOMEM};
	fuzz_expect("lupi_model_predict",
		    lupi_model_predict(m, x, 2, LUPI_PREDICT_OUTPUT, y), ok, 2);
	int task = lupi_model_task(m);
	if (task == LUPI_TASK_CLASSIFICATION || task == LUPI_TASK_BINARY) {
		int rc = lupi_model_predict_class(m, x, 2, cls);
		fuzz_expect("lupi_model_predict_class", rc, ok, 2);
		for (int i = 0; rc == LUPI_OK && i < 2; i++) {
			size_t k = task == LUPI_TASK_BINARY ? 2 : out;
			if (cls[i] < 0 || (size_t)cls[i] >= k)
				fuzz_fail("predicted class out of range", 0);
		}
	}
	free(x);
	free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_EFORMAT,
				    LUPI_EVERSION, LUPI_ECHECKSUM,
				    LUPI_ENOMEM};
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
		return 0;
	}
	use_model(m);
	lupi_model_free(m);
	return 0;
}
