/* The options of every handle the option directory lists - model, layer,
 * loss, reader, comparison, DP-SGD, SVM+, TRAM; the handles are found by
 * asking lupi_option_next() about 1..MAX_HANDLE, not listed here - driven
 * by key, with actions in between (training steps, gradients, loss
 * evaluations, student steps, a fit, a comparison, a clone, a load) that
 * run under whatever the options became. Every key of every handle is
 * tried on every handle. Properties:
 * - every LUPI_HANDLE_* of lupi.h has options in the directory;
 * - the option directory is consistent (checked once per process): each
 *   handle's keys ascend within handle * 1000; lupi_option_by_key() and
 *   lupi_option_by_name() find every option by key, short name, full macro
 *   name and lower-case '-' spelling; defaults lie in their ranges; named
 *   values are 0..n-1;
 * - a fresh handle reads back every documented default;
 * - a key the directory does not list for this handle and this type (a key
 *   of another handle, of the other type, or of nothing) gives
 *   LUPI_EUNKNOWN_OPTION from the setter and the getter, and changes
 *   nothing;
 * - a key of the handle reads a value inside its range; a value outside the
 *   described range is refused with LUPI_ERANGE (or LUPI_ESTATE where the
 *   handle has a state) and a message naming the option; an accepted value
 *   reads back bit for bit, a refused one changes nothing;
 * - a progress callback that asks to stop makes the call return
 *   LUPI_ECANCELLED, and only then;
 * - lupi_loss_eval_features() is pure once the learned parameters exist;
 * - every failure is a known LUPI_E* code with a message; nothing crashes.
 *
 * Input: one byte choosing the model's task (bits 3-4) and the loss kind
 * (bits 0-2), then records [op][key][layer, for layer records][value]:
 *   op bits 0-2  object: 0 model, 1 loss, 2 reader, 3 action (key % 16,
 *                then a four-byte argument), 4 comparison, 5 layer (one
 *                more byte: the layer, % 4; the model has 3), 6 and 7 the
 *                option directory (by_key and by_name of the key)
 *   op bit  7    instead, the object is the (bits 0-2 % count)-th handle
 *                of the directory, in handle order (so DP-SGD and SVM+
 *                too; a layer record reads its layer byte as above); a
 *                handle this file cannot create only checks the lookup
 *   op bit  3    0 the int setter, 1 the double setter (handles without
 *                one take the double rounded to an integer)
 *   op bits 4-5  value: 0 eight raw bytes, 1 a one-byte index into a table
 *                of edge values, 2 one signed byte, 3 four bytes (int32;
 *                divided by 16 for doubles)
 *   op bit  6    instead, one byte b choosing a value from the key's
 *                description by b & 7: 0 minimum, 1 maximum, 2 default,
 *                3 just below the minimum, 4 just above the maximum, else
 *                the (b >> 3)-th of 32 steps inside the range
 *   key          b < 128: the (b % count)-th key of the directory (every
 *                handle's keys, handles 1..MAX_HANDLE in order, keys in key
 *                order; for handles 1-5 the order of fuzz_option_keys());
 *                else a key near a handle's range: ((b >> 4) & 7) * 1000 +
 *                (b & 8 ? 100 : 0) + {-1, 0, 1, 2, 11, 15, 16, 999}[b & 7]
 * At most 64 records are run. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define N 6
#define D 3
#define DP 2
#define LAYERS 3 /* two hidden layers and the output layer */
#define MAX_RECORDS 64
#define MAX_KEYS 1024
#define MAX_HANDLE 63 /* handles asked of the directory: 1..MAX_HANDLE */

/* clang-format off */
static const double edge_doubles[] = {
	0.0, -0.0, 1.0, -1.0, 0.5, 1e-12, 1e-300, 5e-324, 1e3, 1000.0000001,
	1e300, DBL_MAX, INFINITY, -INFINITY, NAN, 0.999999, 1e-3, 65536.0,
	65537.0, 1048576.0, 2.0, 4.0, 0.07, -1e-9, 1e9, 0.1, 100.0, 1e-8,
};
static const int64_t edge_ints[] = {
	0, 1, -1, 2, 3, 4, 5, 6, 7, 64, 4096, 65536, 65537, 1048576, 1048577,
	1000000, 1000001, INT32_MAX, (int64_t)INT32_MAX + 1, INT64_MAX,
	INT64_MIN, UINT32_MAX, 128, 129,
};
static const int near_offsets[] = {-1, 0, 1, 2, 11, 15, 16, 999};
/* clang-format on */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct world {
	int task, loss_kind;
	lupi_model *model;
	lupi_loss *loss;
	lupi_reader *reader;
	lupi_compare *compare;
	lupi_dp *dp;
	lupi_svm *svm;
	lupi_tram *tram;
	int64_t compare_epochs; /* EPOCHS of the comparison's prototypes */
	size_t grid;            /* lambdas x temperatures of the comparison */
	fuzz_reader_cfg cfg;
	const lupi_dataset *ds;
} world;

/* ---- fixed data, one dataset per task ---------------------------------- */

static size_t task_outputs(int task)
{
	return task == LUPI_TASK_BINARY ? 1 : 3;
}

static lupi_dataset *make_dataset(int task)
{
	float x[N * D], xp[N * DP], y[N * 3];
	int32_t labels[N];
	static const uint8_t mask[N] = {1, 1, 1, 0, 1, 1};
	for (int i = 0; i < N * D; i++)
		x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
	for (int i = 0; i < N * DP; i++)
		xp[i] = (float)((i * 5) % 7) / 3.0f - 1.0f;
	for (int i = 0; i < N * 3; i++)
		y[i] = (float)(i % 4) - 1.5f;
	for (int i = 0; i < N; i++)
		labels[i] = task == LUPI_TASK_BINARY ? i % 2 : i % 3;
	lupi_dataset *ds = NULL;
	if (lupi_dataset_create(N, D, x, &ds) != LUPI_OK ||
	    lupi_dataset_set_privileged(ds, DP, xp, mask) != LUPI_OK)
		abort();
	int rc = task == LUPI_TASK_REGRESSION
	             ? lupi_dataset_set_targets(ds, 3, y)
	         : task == LUPI_TASK_BINARY
	             ? lupi_dataset_set_binary_labels(ds, labels)
	             : lupi_dataset_set_labels(ds, 3, labels);
	if (rc != LUPI_OK)
		abort();
	return ds;
}

static const lupi_dataset *dataset_for(int task)
{
	static lupi_dataset *cache[4];
	if (cache[task] == NULL)
		cache[task] = make_dataset(task);
	return cache[task];
}

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof a) == 0 || a == b;
}

/* ---- the option directory, checked once ---------------------------------
 */

/* The handles that have options, ascending: every h in 1..MAX_HANDLE for
 * which lupi_option_next(h, NULL) is not NULL. */
static size_t directory_handles(const int **out)
{
	static int handles[MAX_HANDLE];
	static size_t n;
	static int done;
	if (!done) {
		done = 1;
		for (int h = 1; h <= MAX_HANDLE; h++)
			if (lupi_option_next(h, NULL) != NULL)
				handles[n++] = h;
	}
	*out = handles;
	return n;
}

/* The LUPI_<PREFIX>_OPT_ of a handle this file knows, else NULL. */
static const char *handle_prefix(int handle)
{
	switch (handle) {
	case LUPI_HANDLE_MODEL:
		return "MODEL";
	case LUPI_HANDLE_LOSS:
		return "LOSS";
	case LUPI_HANDLE_READER:
		return "READER";
	case LUPI_HANDLE_COMPARE:
		return "COMPARE";
	case LUPI_HANDLE_LAYER:
		return "LAYER";
	case LUPI_HANDLE_DP:
		return "DP";
	case LUPI_HANDLE_SVM:
		return "SVM";
	case LUPI_HANDLE_TRAM:
		return "TRAM";
	default:
		return NULL;
	}
}

/* Whether the handle has a double setter (an unknown handle may). */
static int has_double(int handle)
{
	return handle == LUPI_HANDLE_MODEL || handle == LUPI_HANDLE_LOSS ||
	       handle == LUPI_HANDLE_DP || handle == LUPI_HANDLE_SVM ||
	       handle_prefix(handle) == NULL;
}

static int in_int_range(const lupi_option *o, int64_t v)
{
	return v >= o->int_min && v <= o->int_max;
}

static int in_real_range(const lupi_option *o, double v)
{
	if (!(v >= o->real_min && v <= o->real_max) || !isfinite(v))
		return 0;
	return !(o->real_min_open && v == o->real_min) &&
	       !(o->real_max_open && v == o->real_max);
}

/* "sgd,adam": lower-case names, n of them for the values 0..n-1. */
static void check_values(const lupi_option *o)
{
	size_t names = 1, len = 0;
	if (o->type != LUPI_TYPE_INT || o->int_min != 0)
		fuzz_fail("named values on an option not numbered from 0",
		          o->key);
	for (const char *c = o->values; *c != '\0'; c++) {
		if (*c == ',') {
			if (len == 0)
				fuzz_fail("an empty value name", o->key);
			names++;
			len = 0;
		} else if ((*c < 'a' || *c > 'z') && (*c < '0' || *c > '9') &&
		           *c != '_' && *c != '-') {
			fuzz_fail("a value name that is not lower case",
			          o->key);
		} else {
			len++;
		}
	}
	if (len == 0 || (int64_t)names != o->int_max + 1)
		fuzz_fail("value names do not match the range", o->key);
}

/* The full macro name and the lower-case '-' spelling find the option. */
static void check_names(int handle, const lupi_option *o)
{
	char full[128], loose[128];
	size_t n = strlen(o->name);
	if (n == 0 || n >= 64)
		fuzz_fail("an option name is empty or too long", o->key);
	const char *prefix = handle_prefix(handle);
	const int *hs;
	size_t nh = directory_handles(&hs);
	snprintf(full, sizeof full, "LUPI_%s_OPT_%s", prefix ? prefix : "",
	         o->name);
	for (size_t i = 0; i <= n; i++) {
		char c = o->name[i];
		loose[i] = c == '_' ? '-' : c >= 'A' && c <= 'Z' ? c + 32 : c;
	}
	if (lupi_option_by_name(handle, o->name) != o ||
	    (prefix != NULL && lupi_option_by_name(handle, full) != o) ||
	    lupi_option_by_name(handle, loose) != o)
		fuzz_fail("lupi_option_by_name does not find an option",
		          o->key);
	for (size_t j = 0; j < nh; j++) {
		int other = hs[j];
		const lupi_option *x = lupi_option_by_name(other, o->name);
		if (x != NULL && x->handle != other)
			fuzz_fail("lupi_option_by_name crossed handles",
			          o->key);
	}
}

static void check_option(int handle, const lupi_option *o, int prev_key)
{
	if (o->size != sizeof(lupi_option) || o->handle != handle ||
	    o->key / 1000 != handle || o->key <= prev_key)
		fuzz_fail("an option out of its handle's key order", o->key);
	if (lupi_option_by_key(o->key) != o)
		fuzz_fail("lupi_option_by_key does not find an option", o->key);
	if (o->name == NULL || o->doc == NULL || o->doc[0] == '\0')
		fuzz_fail("an option without a name or a doc line", o->key);
	check_names(handle, o);
	if (o->type == LUPI_TYPE_INT) {
		if (!in_int_range(o, o->int_default))
			fuzz_fail("an int default outside its range", o->key);
		if (o->values != NULL)
			check_values(o);
	} else if (o->type == LUPI_TYPE_DOUBLE && has_double(handle)) {
		if (!in_real_range(o, o->real_default) || o->values != NULL)
			fuzz_fail("a double default outside its range",
			          o->key);
	} else {
		fuzz_fail("an option of a type its handle cannot set", o->key);
	}
}

static void check_directory(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	const int *hs;
	size_t nh = directory_handles(&hs);
	/* Every handle of lupi.h is in the directory. */
	static const int known[] = {LUPI_HANDLE_MODEL,   LUPI_HANDLE_LOSS,
	                            LUPI_HANDLE_READER,  LUPI_HANDLE_COMPARE,
	                            LUPI_HANDLE_LAYER,   LUPI_HANDLE_DP,
	                            LUPI_HANDLE_SVM,     LUPI_HANDLE_TRAM};
	for (size_t i = 0; i < COUNT(known); i++) {
		size_t j = 0;
		while (j < nh && hs[j] != known[i])
			j++;
		if (j == nh)
			fuzz_fail("a handle of lupi.h has no options", known[i]);
	}
	for (size_t i = 0; i < nh; i++) {
		int h = hs[i], prev = 0;
		for (const lupi_option *o = lupi_option_next(h, NULL); o != NULL;
		     o = lupi_option_next(h, o)) {
			check_option(h, o, prev);
			prev = o->key;
		}
		if (prev == 0)
			fuzz_fail("a handle without options", h);
		if (lupi_option_by_name(h, "") != NULL ||
		    lupi_option_by_name(h, "no-such-option") != NULL ||
		    lupi_option_by_key(h * 1000) != NULL)
			fuzz_fail("the directory found an option that is not",
			          h);
	}
	if (lupi_option_next(0, NULL) != NULL ||
	    lupi_option_next(MAX_HANDLE + 1, NULL) != NULL ||
	    lupi_option_next(999, NULL) != NULL || /* no such handle */
	    lupi_option_next(-1, NULL) != NULL ||
	    lupi_option_by_name(0, "EPOCHS") != NULL)
		fuzz_fail("an unknown handle has options", 0);
}

/* ---- handles, accessed by key -------------------------------------------
 */

/* One handle with options; a layer is a model and a layer index. */
typedef struct target {
	int handle; /* LUPI_HANDLE_* */
	void *obj;
	size_t layer;
} target;

static int set_int(const target *t, int key, int64_t v)
{
	switch (t->handle) {
	case LUPI_HANDLE_MODEL:
		return lupi_model_set_int(t->obj, key, v);
	case LUPI_HANDLE_LOSS:
		return lupi_loss_set_int(t->obj, key, v);
	case LUPI_HANDLE_READER:
		return lupi_reader_set_int(t->obj, key, v);
	case LUPI_HANDLE_COMPARE:
		return lupi_compare_set_int(t->obj, key, v);
	case LUPI_HANDLE_DP:
		return lupi_dp_set_int(t->obj, key, v);
	case LUPI_HANDLE_SVM:
		return lupi_svm_set_int(t->obj, key, v);
	case LUPI_HANDLE_TRAM:
		return lupi_tram_set_int(t->obj, key, v);
	default:
		return lupi_model_set_layer_int(t->obj, t->layer, key, v);
	}
}

static int get_int(const target *t, int key, int64_t *v)
{
	switch (t->handle) {
	case LUPI_HANDLE_MODEL:
		return lupi_model_get_int(t->obj, key, v);
	case LUPI_HANDLE_LOSS:
		return lupi_loss_get_int(t->obj, key, v);
	case LUPI_HANDLE_READER:
		return lupi_reader_get_int(t->obj, key, v);
	case LUPI_HANDLE_COMPARE:
		return lupi_compare_get_int(t->obj, key, v);
	case LUPI_HANDLE_DP:
		return lupi_dp_get_int(t->obj, key, v);
	case LUPI_HANDLE_SVM:
		return lupi_svm_get_int(t->obj, key, v);
	case LUPI_HANDLE_TRAM:
		return lupi_tram_get_int(t->obj, key, v);
	default:
		return lupi_model_get_layer_int(t->obj, t->layer, key, v);
	}
}

static int set_double(const target *t, int key, double v)
{
	switch (t->handle) {
	case LUPI_HANDLE_MODEL:
		return lupi_model_set_double(t->obj, key, v);
	case LUPI_HANDLE_DP:
		return lupi_dp_set_double(t->obj, key, v);
	case LUPI_HANDLE_SVM:
		return lupi_svm_set_double(t->obj, key, v);
	default:
		return lupi_loss_set_double(t->obj, key, v);
	}
}

static int get_double(const target *t, int key, double *v)
{
	switch (t->handle) {
	case LUPI_HANDLE_MODEL:
		return lupi_model_get_double(t->obj, key, v);
	case LUPI_HANDLE_DP:
		return lupi_dp_get_double(t->obj, key, v);
	case LUPI_HANDLE_SVM:
		return lupi_svm_get_double(t->obj, key, v);
	default:
		return lupi_loss_get_double(t->obj, key, v);
	}
}

/* The option of this handle and type with this key, or NULL. */
static const lupi_option *own_option(const target *t, int key, int type)
{
	const lupi_option *o = lupi_option_by_key(key);
	return o != NULL && o->handle == t->handle && o->type == type ? o
	                                                              : NULL;
}

/* The output layer's activation is always IDENTITY. */
static int output_activation(const target *t, int key)
{
	return t->handle == LUPI_HANDLE_LAYER && t->layer == LAYERS - 1 &&
	       key == LUPI_LAYER_OPT_ACTIVATION;
}

/* A fresh handle holds every documented default. */
static void check_defaults(const target *t)
{
	for (const lupi_option *o = lupi_option_next(t->handle, NULL);
	     o != NULL; o = lupi_option_next(t->handle, o)) {
		int64_t iv = -1;
		double dv = -1;
		if (o->type == LUPI_TYPE_INT) {
			int64_t want = output_activation(t, o->key)
			                   ? LUPI_ACT_IDENTITY
			                   : o->int_default;
			if (get_int(t, o->key, &iv) != LUPI_OK || iv != want)
				fuzz_fail("a fresh handle does not hold an int "
				          "default",
				          o->key);
		} else if (get_double(t, o->key, &dv) != LUPI_OK ||
		           !same_double(dv, o->real_default)) {
			fuzz_fail("a fresh handle does not hold a double "
			          "default",
			          o->key);
		}
	}
}

static const int unknown_codes[] = {LUPI_EUNKNOWN_OPTION};
static const int bad_layer_codes[] = {LUPI_ERANGE, LUPI_EUNKNOWN_OPTION};

/* The codes a setter may give for a known key, value in range or not. A
 * range may have holes the description cannot show (a reader's CLASSES 1,
 * a DELIMITER that is a quote), so a value inside may be refused too. */
static void setter_codes(const target *t, int key, int in_range,
                         int *codes, size_t *n)
{
	int stateful = t->handle == LUPI_HANDLE_MODEL ||
	               t->handle == LUPI_HANDLE_LAYER ||
	               t->handle == LUPI_HANDLE_COMPARE;
	*n = 0;
	codes[(*n)++] = LUPI_ERANGE;
	if (in_range)
		codes[(*n)++] = LUPI_OK;
	if (stateful)
		codes[(*n)++] = LUPI_ESTATE;
	if (output_activation(t, key))
		codes[(*n)++] = LUPI_EINVAL;
}

/* Whether the message names the option (case ignored), as an ERANGE must. */
static void check_names_option(const lupi_option *o, int rc)
{
	const char *msg = lupi_errmsg();
	size_t n = strlen(o->name);
	if (rc != LUPI_ERANGE)
		return;
	for (; *msg != '\0'; msg++) {
		size_t i = 0;
		while (i < n && msg[i] != '\0' &&
		       (msg[i] | 0x20) == (o->name[i] | 0x20))
			i++;
		if (i == n)
			return;
	}
	fuzz_fail("LUPI_ERANGE without the option's name in the message",
	          o->key);
}

static void check_int(const target *t, int key, int64_t v)
{
	const lupi_option *o = own_option(t, key, LUPI_TYPE_INT);
	int bad_layer = t->handle == LUPI_HANDLE_LAYER && t->layer >= LAYERS;
	int64_t before = 0, after = 0;
	int codes[4];
	size_t n;
	int gb = get_int(t, key, &before);
	int rc = set_int(t, key, v);
	int ga = get_int(t, key, &after);
	if (bad_layer) {
		fuzz_expect("lupi_model_get_layer_int", gb, bad_layer_codes, 2);
		fuzz_expect("lupi_model_set_layer_int", rc, bad_layer_codes, 2);
	} else if (o == NULL) {
		fuzz_expect("get_int of a key of another handle or type", gb,
		            unknown_codes, 1);
		fuzz_expect("set_int of a key of another handle or type", rc,
		            unknown_codes, 1);
	} else {
		if (gb != LUPI_OK || !in_int_range(o, before))
			fuzz_fail("get_int of an option failed or read a value "
			          "outside its range",
			          key);
		setter_codes(t, key, in_int_range(o, v), codes, &n);
		fuzz_expect("set_int", rc, codes, n);
		check_names_option(o, rc);
	}
	if (ga != gb)
		fuzz_fail("getter answer changed with a set", ga);
	if (rc == LUPI_OK && after != v)
		fuzz_fail("int option does not read back what was set", key);
	if (rc != LUPI_OK && ga == LUPI_OK && after != before)
		fuzz_fail("a refused int option changed the value", rc);
}

static void check_double(const target *t, int key, double v)
{
	const lupi_option *o = own_option(t, key, LUPI_TYPE_DOUBLE);
	double before = 0, after = 0;
	int codes[4];
	size_t n;
	int gb = get_double(t, key, &before);
	int rc = set_double(t, key, v);
	int ga = get_double(t, key, &after);
	if (o == NULL) {
		fuzz_expect("get_double of a key of another handle or type", gb,
		            unknown_codes, 1);
		fuzz_expect("set_double of a key of another handle or type", rc,
		            unknown_codes, 1);
	} else {
		if (gb != LUPI_OK || !in_real_range(o, before))
			fuzz_fail("get_double of an option failed or read a "
			          "value outside its range",
			          key);
		setter_codes(t, key, in_real_range(o, v), codes, &n);
		fuzz_expect("set_double", rc, codes, n);
		check_names_option(o, rc);
	}
	if (ga != gb)
		fuzz_fail("getter answer changed with a set", ga);
	if (rc == LUPI_OK && !isfinite(v))
		fuzz_fail("a non-finite double option was accepted", rc);
	if (rc == LUPI_OK && !same_double(after, v))
		fuzz_fail("double option does not read back what was set", key);
	if (rc != LUPI_OK && ga == LUPI_OK && !same_double(after, before))
		fuzz_fail("a refused double option changed the value", rc);
}

/* ---- keys and values -------------------------------------------------------
 */

static int decode_key(uint8_t b)
{
	static int keys[MAX_KEYS];
	static size_t n;
	if (n == 0) {
		const int *hs;
		size_t nh = directory_handles(&hs);
		for (size_t i = 0; i < nh; i++)
			for (const lupi_option *o = lupi_option_next(hs[i], NULL);
			     o != NULL && n < MAX_KEYS;
			     o = lupi_option_next(hs[i], o))
				keys[n++] = o->key;
	}
	if (b < 128)
		return n ? keys[b % n] : 0;
	return (b >> 4 & 7) * 1000 + (b & 8 ? 100 : 0) +
	       near_offsets[b & 7];
}

static void read_value(fuzz_in *in, int enc, int64_t *iv, double *dv)
{
	uint8_t b;
	uint64_t raw;
	switch (enc) {
	case 0:
		raw = fuzz_u64(in);
		memcpy(dv, &raw, sizeof *dv);
		*iv = (int64_t)raw;
		return;
	case 1:
		b = fuzz_u8(in);
		*dv = edge_doubles[b % COUNT(edge_doubles)];
		*iv = edge_ints[b % COUNT(edge_ints)];
		return;
	case 2:
		*iv = (int8_t)fuzz_u8(in);
		*dv = (double)*iv;
		return;
	default:
		*iv = (int32_t)fuzz_u32(in);
		*dv = (double)*iv / 16.0;
		return;
	}
}

/* A value at or next to the edges of the key's description. */
static void described_value(const lupi_option *o, uint8_t b, int64_t *iv,
                            double *dv)
{
	int64_t lo = o->int_min, hi = o->int_max;
	double rlo = o->real_min, rhi = o->real_max;
	uint64_t span = (uint64_t)hi - (uint64_t)lo;
	switch (b & 7) {
	case 0:
		*iv = lo;
		*dv = rlo;
		return;
	case 1:
		*iv = hi;
		*dv = rhi;
		return;
	case 2:
		*iv = o->int_default;
		*dv = o->real_default;
		return;
	case 3:
		*iv = lo == INT64_MIN ? lo : lo - 1;
		*dv = nextafter(rlo, -INFINITY);
		return;
	case 4:
		*iv = hi == INT64_MAX ? hi : hi + 1;
		*dv = nextafter(rhi, INFINITY);
		return;
	default:
		*iv = span == UINT64_MAX
		          ? (int64_t)(b >> 3)
		          : (int64_t)((uint64_t)lo + (b >> 3) % (span + 1));
		*dv = isfinite(rhi - rlo) ? rlo + (rhi - rlo) * (b >> 3) / 31.0
		                          : rlo + (b >> 3);
		return;
	}
}

/* ---- actions ------------------------------------------------------------- */

/* Compound calls may fail in many documented ways; any LUPI_E* code with a
 * name and a message is fine, anything else is not. */
static void expect_any_code(const char *call, int rc)
{
	fuzz_trace(call, rc);
	if (rc > 0 || rc < LUPI_ECANCELLED ||
	    (rc < 0 && lupi_errname(rc) == NULL))
		fuzz_fail(call, rc);
	if (rc < 0 && lupi_errmsg()[0] == '\0')
		fuzz_fail(call, rc);
}

static const size_t all_rows[N] = {0, 1, 2, 3, 4, 5};

static void act_step(world *w)
{
	double v;
	expect_any_code("lupi_model_step",
	                lupi_model_step(w->model, w->ds, all_rows, N, &v));
}

/* A gradient without an update (the wrong length must fail), then
 * possibly applied. A gradient that is returned is finite. */
static void act_gradient(world *w, uint32_t arg)
{
	size_t np = lupi_model_num_params(w->model);
	size_t n_grad = np + (arg & 1);
	float *g = calloc(np + 1, sizeof *g);
	double v = 0;
	if (g == NULL)
		abort();
	int rc = lupi_model_gradient(w->model, w->ds, all_rows, N, &v, g,
	                             n_grad);
	expect_any_code("lupi_model_gradient", rc);
	if (rc == LUPI_OK && n_grad != np)
		fuzz_fail("a gradient of the wrong length was accepted", 0);
	for (size_t i = 0; rc == LUPI_OK && i < np; i++)
		if (!isfinite(g[i]) || !isfinite(v))
			fuzz_fail("a non-finite gradient was returned", rc);
	if (arg & 2)
		expect_any_code("lupi_model_apply_gradient",
		                lupi_model_apply_gradient(w->model, g, n_grad));
	free(g);
}

static void act_loss_eval(world *w, uint32_t arg)
{
	size_t k = 3;
	float s[4 * 3], t[4 * 3], g[4 * 3], y[4 * 3];
	int32_t labels[4] = {0, 1, 2, (int32_t)((arg + 1) % 5) - 1};
	uint8_t has[4] = {1, (uint8_t)(arg >> 8 & 1), 1, 0};
	for (int i = 0; i < 12; i++) {
		s[i] = (float)((i * 3 + (int)(arg >> 16 & 7)) % 5) - 2.0f;
		t[i] = (float)((i * 7) % 5) - 2.0f;
		y[i] = (float)(i % 3);
	}
	int reg = w->loss_kind == LUPI_LOSS_REGRESSION;
	double v;
	expect_any_code("lupi_loss_eval",
	                lupi_loss_eval(w->loss, 4, k, s, t, reg ? NULL : labels,
	                               reg ? y : NULL, NULL,
	                               arg >> 9 & 1 ? has : NULL, &v, g));
}

/* The feature loss: an update step, or two evaluations that must agree
 * (evaluation is pure once HINT's or CRD's parameters exist). */
static void act_features(world *w, uint32_t arg)
{
	float fs[4 * 4], ft[4 * 3], g1[4 * 4], g2[4 * 4];
	static const uint8_t has[4] = {1, 0, 1, 1};
	const uint8_t *hp = arg & 4 ? has : NULL;
	float *gp = arg & 2 ? NULL : g1;
	for (int i = 0; i < 16; i++)
		fs[i] = (float)((i * 5) % 9) / 4.0f - 1.0f;
	for (int i = 0; i < 12; i++)
		ft[i] = (float)((i * 2) % 7) / 3.0f - 1.0f;
	double v1 = 0, v2 = 0;
	if (arg & 1) {
		int rc = lupi_loss_update_features(w->loss, 4, 4, fs, 3, ft, hp,
		                                   &v1, gp);
		expect_any_code("lupi_loss_update_features", rc);
		if (rc == LUPI_OK && gp == NULL)
			fuzz_fail("update_features accepted a NULL gradient",
			          rc);
		return;
	}
	int r1 = lupi_loss_eval_features(w->loss, 4, 4, fs, 3, ft, hp, &v1, gp);
	int r2 = lupi_loss_eval_features(w->loss, 4, 4, fs, 3, ft, hp, &v2,
	                                 gp ? g2 : NULL);
	expect_any_code("lupi_loss_eval_features", r1);
	expect_any_code("lupi_loss_eval_features", r2);
	if (r1 == LUPI_ENOMEM || r2 == LUPI_ENOMEM)
		return;
	if (r1 != r2)
		fuzz_fail("eval_features answered twice differently", r2);
	if (r1 == LUPI_OK &&
	    (!same_double(v1, v2) ||
	     (gp != NULL && memcmp(g1, g2, sizeof g1) != 0)))
		fuzz_fail("eval_features is not a pure function", 0);
}

/* A student step, gradient or loss with an external teacher or none. */
static void act_student(world *w, uint32_t arg)
{
	static const size_t idx[N] = {5, 4, 3, 2, 1, 0};
	lupi_teacher *t = NULL;
	if (lupi_teacher_create(&t) != LUPI_OK)
		return;
	size_t k = task_outputs(w->task);
	float out[N * 3];
	for (size_t i = 0; i < N * k; i++)
		out[i] = (float)(i % 5) - 2.0f;
	if (arg & 1)
		expect_any_code("lupi_teacher_add_outputs",
		                lupi_teacher_add_outputs(t, w->ds, out, k,
		                                         LUPI_OUTPUTS_LOGITS,
		                                         1.0));
	const lupi_teacher *teacher = arg & 2 ? NULL : t;
	double v;
	if (arg & 4) {
		size_t np = lupi_model_num_params(w->model);
		float *g = calloc(np + 1, sizeof *g);
		if (g == NULL)
			abort();
		expect_any_code("lupi_student_gradient",
		                lupi_student_gradient(w->model, teacher,
		                                      w->loss, w->ds, idx, N,
		                                      &v, g, np));
		free(g);
	} else if (arg & 8) {
		expect_any_code("lupi_student_loss",
		                lupi_student_loss(w->model, teacher, w->loss,
		                                  w->ds, &v));
	} else {
		expect_any_code("lupi_student_step",
		                lupi_student_step(w->model, teacher, w->loss,
		                                  w->ds, idx, N, &v));
	}
	lupi_teacher_free(t);
}

/* The clone holds the same value of every model and layer option. */
static void act_clone(world *w)
{
	lupi_model *c = NULL;
	int rc = lupi_model_clone(w->model, &c);
	expect_any_code("lupi_model_clone", rc);
	if (rc != LUPI_OK)
		return;
	for (const lupi_option *o = lupi_option_next(LUPI_HANDLE_MODEL, NULL);
	     o != NULL; o = lupi_option_next(LUPI_HANDLE_MODEL, o)) {
		int64_t a = 0, b = 0;
		double x = 0, y = 0;
		if (o->type == LUPI_TYPE_INT &&
		    (lupi_model_get_int(w->model, o->key, &a) !=
		         lupi_model_get_int(c, o->key, &b) ||
		     a != b))
			fuzz_fail("a clone has another int option", o->key);
		if (o->type == LUPI_TYPE_DOUBLE &&
		    (lupi_model_get_double(w->model, o->key, &x) !=
		         lupi_model_get_double(c, o->key, &y) ||
		     !same_double(x, y)))
			fuzz_fail("a clone has another double option", o->key);
	}
	for (size_t layer = 0; layer < LAYERS; layer++)
		for (const lupi_option *o =
		         lupi_option_next(LUPI_HANDLE_LAYER, NULL);
		     o != NULL; o = lupi_option_next(LUPI_HANDLE_LAYER, o)) {
			int64_t a = 0, b = 0;
			if (lupi_model_get_layer_int(w->model, layer, o->key,
			                             &a) !=
			        lupi_model_get_layer_int(c, layer, o->key, &b) ||
			    a != b)
				fuzz_fail("a clone has another layer option",
				          o->key);
		}
	lupi_model_free(c);
}

/* Probabilities and classes of two rows; a row width other than the
 * model's inputs must be refused. */
static void act_predict(world *w, uint32_t arg)
{
	const float *x = lupi_dataset_features(w->ds, LUPI_VIEW_REGULAR);
	size_t d = arg & 2 ? D - 1 : D;
	float out[2 * 3];
	int32_t cls[2];
	int rc = lupi_model_predict(w->model, x, 2, d, (int)(arg & 1), out);
	expect_any_code("lupi_model_predict", rc);
	if (rc == LUPI_OK && d != lupi_model_inputs(w->model))
		fuzz_fail("predict accepted rows of the wrong width", 0);
	rc = lupi_model_predict_class(w->model, x, 2, d, cls);
	expect_any_code("lupi_model_predict_class", rc);
	if (rc == LUPI_OK && d != lupi_model_inputs(w->model))
		fuzz_fail("predict_class accepted rows of the wrong width", 0);
}

static void act_load_csv(world *w)
{
	static const char csv[] = "a,p,y\n"
	                          "1,2,0\n"
	                          "\"3\",,1\n"
	                          "5,6e0,2\n"
	                          "nan,8,1\n";
	lupi_dataset *ds = (lupi_dataset *)1;
	int rc = lupi_dataset_load_csv(
	    fuzz_file(0, (const uint8_t *)csv, sizeof csv - 1), w->reader, &ds);
	fuzz_loaded("lupi_dataset_load_csv", rc, ds, &w->cfg);
}

/* Asks to stop after `left` calls when left is not 0. */
typedef struct stopper {
	uint32_t left;
	int stopped;
} stopper;

static int progress(void *user, const lupi_progress *p)
{
	stopper *s = user;
	if (p->size != sizeof *p)
		fuzz_fail("progress: size is not sizeof(lupi_progress)",
		          (int)p->size);
	if (p->epoch == 0 || p->epoch > p->epochs)
		fuzz_fail("progress: epoch out of [1, epochs]", (int)p->epoch);
	if (s->stopped)
		fuzz_fail("progress called again after it asked to stop", 0);
	if (s->left != 0 && --s->left == 0)
		s->stopped = 1;
	return s->stopped;
}

/* A callback that asked to stop makes the call return LUPI_ECANCELLED. */
static void check_cancel(const char *call, int rc, const stopper *s)
{
	expect_any_code(call, rc);
	if (s->stopped != (rc == LUPI_ECANCELLED))
		fuzz_fail(s->stopped ? "a stopped call did not return "
		                       "LUPI_ECANCELLED"
		                     : "LUPI_ECANCELLED without a stop",
		          rc);
}

/* lupi_model_fit under the fuzzed options (schedules, patience, restoring
 * the best weights, progress steps...), kept short: at most 4 epochs. */
static void act_fit(world *w, uint32_t arg)
{
	int64_t epochs = 0;
	lupi_model_get_int(w->model, LUPI_MODEL_OPT_EPOCHS, &epochs);
	if (epochs > 4)
		return;
	stopper s = {arg & 7, 0};
	check_cancel("lupi_model_fit",
	             lupi_model_fit(w->model, w->ds, arg & 8 ? w->ds : NULL,
	                            arg & 16 ? progress : NULL, &s),
	             &s);
}

/* Metrics and the confusion matrix of whatever the model is now. */
static void act_evaluate(world *w)
{
	uint64_t counts[9];
	for (int metric = -1; metric <= LUPI_METRIC_MAE + 1; metric++) {
		double v;
		expect_any_code(
		    "lupi_model_evaluate",
		    lupi_model_evaluate(w->model, w->ds, metric, &v));
	}
	if (w->task == LUPI_TASK_BINARY || w->task == LUPI_TASK_CLASSIFICATION)
		expect_any_code("lupi_model_confusion",
		                lupi_model_confusion(w->model, w->ds, counts));
}

/* A new comparison of the model as it is now (teacher and student); its
 * options start at their defaults. */
static void act_compare_new(world *w)
{
	static const int ok[] = {LUPI_OK, LUPI_ENOMEM};
	lupi_compare_free(w->compare);
	w->compare = NULL;
	int rc = lupi_compare_create(w->model, w->model, &w->compare);
	fuzz_expect("lupi_compare_create", rc, ok, COUNT(ok));
	if (rc != LUPI_OK)
		return;
	target t = {LUPI_HANDLE_COMPARE, w->compare, 0};
	check_defaults(&t);
	w->compare_epochs = 0;
	lupi_model_get_int(w->model, LUPI_MODEL_OPT_EPOCHS, &w->compare_epochs);
	w->grid = 1;
}

/* The grid and the loss prototype. arg: bits 0-2 and 3-5 pick lambdas,
 * 6-8 and 9-11 temperatures (in range or not), bit 12 two lambdas, 13 two
 * temperatures, 14 no lambda at all, 15 also set the loss prototype. */
static void act_compare_grid(world *w, uint32_t arg)
{
	static const double lambdas[] = {0.5, 1.0, 0.0, -0.1, 1.5, NAN};
	static const double temps[] = {1.0, 4.0, 1000.0, 0.0, 1e4, INFINITY};
	static const int ok[] = {LUPI_OK, LUPI_EINVAL, LUPI_ERANGE,
	                         LUPI_ENOMEM};
	if (w->compare == NULL)
		return;
	double l[2] = {lambdas[(arg & 7) % 6], lambdas[(arg >> 3 & 7) % 6]};
	double t[2] = {temps[(arg >> 6 & 7) % 6], temps[(arg >> 9 & 7) % 6]};
	size_t nl = arg & 0x4000 ? 0 : 1 + (arg >> 12 & 1);
	size_t nt = 1 + (arg >> 13 & 1);
	int rc = lupi_compare_set_grid(w->compare, l, nl, t, nt);
	fuzz_expect("lupi_compare_set_grid", rc, ok, COUNT(ok));
	int valid = nl > 0;
	for (size_t i = 0; i < nl; i++)
		valid &= l[i] >= 0 && l[i] <= 1;
	for (size_t i = 0; i < nt; i++)
		valid &= t[i] > 0 && t[i] <= 1000;
	if (valid != (rc == LUPI_OK) && rc != LUPI_ENOMEM)
		fuzz_fail(valid ? "a grid in range was refused"
		                : "a grid out of range was accepted",
		          rc);
	if (rc == LUPI_OK)
		w->grid = nl * nt;
	if (arg & 0x8000)
		fuzz_expect("lupi_compare_set_loss",
		            lupi_compare_set_loss(w->compare, w->loss), ok,
		            COUNT(ok));
}

/* A short run on the fixed dataset, then the table. */
static void act_compare_run(world *w, uint32_t arg)
{
	int64_t repeats = 0;
	if (w->compare == NULL ||
	    lupi_compare_get_int(w->compare, LUPI_COMPARE_OPT_REPEATS,
	                         &repeats) != LUPI_OK)
		return;
	if (w->compare_epochs > 4 || repeats > 2 || w->grid > 2)
		return;
	stopper s = {arg & 15, 0};
	int rc = lupi_compare_run(w->compare, w->ds, w->ds,
	                          arg & 16 ? progress : NULL, &s);
	check_cancel("lupi_compare_run", rc, &s);
	if (rc != LUPI_OK)
		return;
	size_t rows = lupi_compare_rows(w->compare);
	int metric = lupi_compare_metric(w->compare);
	if (rows != 3 + w->grid ||
	    lupi_compare_repeats(w->compare) != (unsigned)repeats)
		fuzz_fail("the comparison table has another shape", (int)rows);
	if (metric != (w->task == LUPI_TASK_REGRESSION ? LUPI_METRIC_MSE
	                                                : LUPI_METRIC_ACCURACY))
		fuzz_fail("the comparison has another metric", metric);
	for (size_t row = 0; row < rows; row++) {
		int kind = -1;
		double value;
		rc = lupi_compare_row(w->compare, row, &kind, NULL, NULL, NULL,
		                      NULL, NULL, NULL);
		if (rc != LUPI_OK || kind != (row < 3 ? (int)row : 3))
			fuzz_fail("a comparison row has another kind", rc);
		rc = lupi_compare_value(w->compare, row, (unsigned)repeats,
		                        &value);
		if (rc != LUPI_ERANGE)
			fuzz_fail("a repetition past the end was read", rc);
	}
	if (lupi_compare_row(w->compare, rows, NULL, NULL, NULL, NULL, NULL,
	                     NULL, NULL) != LUPI_ERANGE)
		fuzz_fail("a row past the end was read", 0);
}

static void act(world *w, int what, uint32_t arg)
{
	static const int role_codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_ENOMEM};
	static const int col_codes[] = {LUPI_OK, LUPI_EINVAL, LUPI_ERANGE,
	                                LUPI_ENOMEM};
	size_t cols[3] = {arg >> 8 & 7, arg >> 12 & 7, arg >> 16 & 7};
	switch (what) {
	case 0:
		act_step(w);
		break;
	case 1:
		act_loss_eval(w, arg);
		break;
	case 2:
		act_features(w, arg);
		break;
	case 3:
		expect_any_code("lupi_model_init", lupi_model_init(w->model));
		break;
	case 4:
		act_student(w, arg);
		break;
	case 5:
		fuzz_expect("lupi_reader_set_role",
		            lupi_reader_set_role(w->reader, arg & 0xff,
		                                 arg >> 8 & 0xff,
		                                 (int8_t)(arg >> 16)),
		            role_codes, COUNT(role_codes));
		break;
	case 6:
		act_compare_grid(w, arg);
		break;
	case 7:
		fuzz_expect("lupi_loss_set_columns",
		            lupi_loss_set_columns(
		                w->loss, arg & 4 ? NULL : cols, arg & 3),
		            col_codes, COUNT(col_codes));
		break;
	case 8:
		act_clone(w);
		break;
	case 9:
		act_predict(w, arg);
		break;
	case 10:
		act_load_csv(w);
		break;
	case 11:
		act_fit(w, arg);
		break;
	case 12:
		act_evaluate(w);
		break;
	case 13:
		act_compare_new(w);
		break;
	case 14:
		act_compare_run(w, arg);
		break;
	default:
		act_gradient(w, arg);
		break;
	}
}

/* ---- driver ---------------------------------------------------------------
 */

/* by_key and by_name of a key agree, whatever the key. */
static void check_lookup(int key)
{
	const lupi_option *o = lupi_option_by_key(key);
	if (o != NULL && (o->key != key ||
	                  lupi_option_by_name(o->handle, o->name) != o))
		fuzz_fail("by_key and by_name disagree", key);
	if (o == NULL && key / 1000 >= 1 && key / 1000 <= MAX_HANDLE) {
		for (const lupi_option *x = lupi_option_next(key / 1000, NULL);
		     x != NULL; x = lupi_option_next(key / 1000, x))
			if (x->key == key)
				fuzz_fail("next lists a key by_key does not",
				          key);
	}
}

static void record(world *w, fuzz_in *in)
{
	static const int handles[] = {LUPI_HANDLE_MODEL,  LUPI_HANDLE_LOSS,
	                              LUPI_HANDLE_READER, 0,
	                              LUPI_HANDLE_COMPARE, LUPI_HANDLE_LAYER};
	uint8_t op = fuzz_u8(in), kb = fuzz_u8(in);
	int obj = op & 7, is_double = op >> 3 & 1, enc = op >> 4 & 3;
	int key = decode_key(kb);
	target t = {0, NULL, 0};
	if (op & 0x80) {
		const int *hs;
		size_t nh = directory_handles(&hs);
		t.handle = nh ? hs[obj % nh] : 0;
		if (handle_prefix(t.handle) == NULL) {
			check_lookup(key); /* a handle this file cannot make */
			return;
		}
	} else if (obj == 3) {
		act(w, kb % 16, fuzz_u32(in));
		return;
	} else if (obj >= 6) {
		check_lookup(key);
		return;
	} else {
		t.handle = handles[obj];
	}
	switch (t.handle) {
	case LUPI_HANDLE_MODEL:
	case LUPI_HANDLE_LAYER:
		t.obj = w->model;
		break;
	case LUPI_HANDLE_LOSS:
		t.obj = w->loss;
		break;
	case LUPI_HANDLE_READER:
		t.obj = w->reader;
		break;
	case LUPI_HANDLE_DP:
		t.obj = w->dp;
		break;
	case LUPI_HANDLE_SVM:
		t.obj = w->svm;
		break;
	case LUPI_HANDLE_TRAM:
		t.obj = w->tram;
		break;
	default:
		t.obj = w->compare;
		break;
	}
	if (t.handle == LUPI_HANDLE_LAYER)
		t.layer = fuzz_u8(in) % (LAYERS + 1);
	int64_t iv;
	double dv;
	const lupi_option *desc = lupi_option_by_key(key);
	if (op & 0x40 && desc != NULL)
		described_value(desc, fuzz_u8(in), &iv, &dv);
	else
		read_value(in, enc, &iv, &dv);
	if (t.obj == NULL)
		return; /* the comparison could not be created */
	if (is_double && !has_double(t.handle))
		iv = (int64_t)(isfinite(dv) && fabs(dv) < 1e18 ? dv : 0);
	if (is_double && has_double(t.handle)) {
		check_double(&t, key, dv);
		return;
	}
	check_int(&t, key, iv);
	if (t.handle == LUPI_HANDLE_READER) {
		int64_t v = 0;
		lupi_reader_get_int(w->reader, LUPI_READER_OPT_ALLOW_NONFINITE,
		                    &v);
		w->cfg.allow_nonfinite = v != 0;
		lupi_reader_get_int(w->reader, LUPI_READER_OPT_MAX_ROWS,
		                    &w->cfg.max_rows);
	}
}

static void fresh_defaults(world *w)
{
	target t = {LUPI_HANDLE_MODEL, w->model, 0};
	check_defaults(&t);
	t.handle = LUPI_HANDLE_LAYER;
	for (t.layer = 0; t.layer < LAYERS; t.layer++)
		check_defaults(&t);
	t = (target){LUPI_HANDLE_LOSS, w->loss, 0};
	check_defaults(&t);
	t = (target){LUPI_HANDLE_READER, w->reader, 0};
	check_defaults(&t);
	t = (target){LUPI_HANDLE_COMPARE, w->compare, 0};
	check_defaults(&t);
	t = (target){LUPI_HANDLE_DP, w->dp, 0};
	check_defaults(&t);
	t = (target){LUPI_HANDLE_SVM, w->svm, 0};
	check_defaults(&t);
	t = (target){LUPI_HANDLE_TRAM, w->tram, 0};
	check_defaults(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int tasks[] = {LUPI_TASK_CLASSIFICATION, LUPI_TASK_BINARY,
	                            LUPI_TASK_REGRESSION,
	                            LUPI_TASK_CLASSIFICATION};
	static const size_t hidden[LAYERS - 1] = {4, 3};
	fuzz_in in = {data, size};
	uint8_t first = fuzz_u8(&in);
	world w = {0};
	check_directory();
	w.task = tasks[first >> 3 & 3];
	w.loss_kind = first & 7;
	w.ds = dataset_for(w.task);
	if (lupi_model_create(w.task, D, hidden, LAYERS - 1,
	                      task_outputs(w.task), &w.model) != LUPI_OK)
		abort();
	if (lupi_loss_create(w.loss_kind, &w.loss) != LUPI_OK) {
		if (w.loss_kind <= LUPI_LOSS_REGRESSION)
			fuzz_fail("lupi_loss_create refused a kind",
			          w.loss_kind);
		w.loss_kind = LUPI_LOSS_KD;
		if (lupi_loss_create(w.loss_kind, &w.loss) != LUPI_OK)
			abort();
	}
	if (lupi_reader_create(&w.reader) != LUPI_OK ||
	    lupi_compare_create(w.model, w.model, &w.compare) != LUPI_OK ||
	    lupi_dp_create(&w.dp) != LUPI_OK ||
	    lupi_svm_create(&w.svm) != LUPI_OK ||
	    lupi_tram_create(&w.tram) != LUPI_OK)
		abort();
	lupi_model_get_int(w.model, LUPI_MODEL_OPT_EPOCHS, &w.compare_epochs);
	w.grid = 1;
	fresh_defaults(&w);
	for (int i = 0; i < MAX_RECORDS && in.n > 0; i++)
		record(&w, &in);
	lupi_tram_free(w.tram);
	lupi_svm_free(w.svm);
	lupi_dp_free(w.dp);
	lupi_compare_free(w.compare);
	lupi_reader_free(w.reader);
	lupi_loss_free(w.loss);
	lupi_model_free(w.model);
	return 0;
}
