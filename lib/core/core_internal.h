/* Internal API of lib/core, shared by all of liblupi's modules. Not installed. */
#ifndef LUPI_CORE_INTERNAL_H
#define LUPI_CORE_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lupi.h"

#if defined(__GNUC__)
#define LUPI__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LUPI__PRINTF(a, b)
#endif

/* Bounds shared by every layer: any layer width, and the number of layers
 * of a network (a loss names layers by index too). */
#define LUPI__MAX_WIDTH 1048576u
#define LUPI__MAX_LAYERS 64u

/* ---- errors (error.c) ---------------------------------------------------- */

/* Sets the thread's message from a printf format and returns code, so an
 * error path is one line: return lupi__err(LUPI_EINVAL, "x is NULL"); */
int lupi__err(int code, const char *fmt, ...) LUPI__PRINTF(2, 3);
/* Prefixes the thread's current message with "prefix: " (keeps the code). */
int lupi__err_prefix(int code, const char *prefix);

/* Hot loops get one clone per vector width, picked once at load time (GNU
 * ifunc), because the library is built for baseline x86-64. The clones give
 * identical results (ISO C mode contracts no FMA). Sanitizer runtimes
 * cannot run ifunc resolvers that early, so sanitized builds go without. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LUPI__NO_CLONES 1
#endif
#endif
#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__) &&      \
	!defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) &&  \
	!defined(LUPI__NO_CLONES)
#define LUPI__VEC_CLONES                                                      \
	__attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LUPI__VEC_CLONES
#endif

#define LUPI__CHECK_NULL(p)                                                   \
	do {                                                                  \
		if ((p) == NULL)                                              \
			return lupi__err(LUPI_EINVAL, "%s: %s is NULL",       \
					 __func__, #p);                       \
	} while (0)

#define LUPI__TRY(expr)                                                       \
	do {                                                                  \
		int lupi__rc = (expr);                                        \
		if (lupi__rc < 0)                                             \
			return lupi__rc;                                      \
	} while (0)

/* ---- allocation (alloc.c) ------------------------------------------------ */

/* All heap memory of the library goes through these, so that tests can count
 * allocations and make the k-th one fail. They do not set a message. */
void *lupi__malloc(size_t size);
void *lupi__calloc(size_t n, size_t size);
void *lupi__realloc(void *p, size_t size);
void lupi__free(void *p);
/* malloc of n*size bytes with overflow check; NULL on overflow. */
void *lupi__malloc_array(size_t n, size_t size);
char *lupi__strdup(const char *s);

/* Test hook: the gate is asked before every allocation; returning 0 makes it
 * fail. NULL restores plain malloc. Process-wide, not thread-safe: tests only. */
typedef int (*lupi__alloc_gate_fn)(size_t size, void *user);
void lupi__set_alloc_gate(lupi__alloc_gate_fn gate, void *user);

/* a*b into *out; returns 1 on overflow. */
int lupi__mul_overflow(size_t a, size_t b, size_t *out);
/* LUPI_ERANGE naming `what` unless a host array of n * count elements of
 * elem bytes can exist (the byte count fits in ptrdiff_t): checked before
 * the library reads or writes such an array. */
int lupi__check_host_array(size_t n, size_t count, size_t elem,
			   const char *what);

/* A scratch arena: reserve() is the only call that may allocate; after a
 * reserve of at least the same size, allocations are pointer bumps. Blocks
 * are 64-byte aligned. */
typedef struct lupi__arena {
	unsigned char *base;
	size_t cap;
	size_t used;
} lupi__arena;

int lupi__arena_reserve(lupi__arena *a, size_t bytes); /* resets used */
void *lupi__arena_alloc(lupi__arena *a, size_t bytes);  /* NULL if full */
void lupi__arena_reset(lupi__arena *a);
void lupi__arena_free(lupi__arena *a);
/* Bytes an arena needs for a block of `bytes` (rounded up to alignment). */
size_t lupi__arena_size(size_t bytes);

/* 1 when LUPI_CHECK_INVARIANTS=1 in the environment (read once): internal
 * consistency checks too costly for every run, which abort with a message
 * when they fail. The test suite sets it. */
int lupi__check_invariants(void);

/* A kernel chosen at run time, once: *slot holds -1 until the first call,
 * which stores probe()'s choice (threads racing there compute the same);
 * tests may store another. Prediction and the DP noise use it. */
static inline int lupi__kernel_once(_Atomic int *slot, int (*probe)(void))
{
	int k = atomic_load_explicit(slot, memory_order_relaxed);
	if (k < 0) {
		k = probe();
		atomic_store_explicit(slot, k, memory_order_relaxed);
	}
	return k;
}

/* ---- random numbers (rng.c): xoshiro256** seeded by splitmix64 ---------- */

typedef struct lupi__rng {
	uint64_t s[4];
} lupi__rng;

/* One step of xoshiro256** on the state s, returning its output: inline
 * so that a loop keeps the state in registers (lupi__rng_next, the DP
 * noise's lanes in lib/privacy/dp.c). */
static inline uint64_t lupi__xoshiro_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t lupi__xoshiro_next(uint64_t s[4])
{
	uint64_t result = lupi__xoshiro_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = lupi__xoshiro_rotl(s[3], 45);
	return result;
}

void lupi__rng_seed(lupi__rng *r, uint64_t seed);
uint64_t lupi__rng_next(lupi__rng *r);
double lupi__rng_uniform(lupi__rng *r);          /* [0, 1) */
double lupi__rng_normal(lupi__rng *r);           /* N(0, 1) */
uint64_t lupi__rng_below(lupi__rng *r, uint64_t n); /* [0, n), unbiased */
void lupi__rng_shuffle(lupi__rng *r, size_t *v, size_t n);

/* ---- dense float32 linear algebra (gemm.c: the only caller of BLAS) ------ */

/* Row-major C = alpha * op(A) op(B) + beta * C, op = transpose when ta/tb.
 * op(A) is m x k, op(B) is k x n. The BLAS runs on one thread; a large
 * GEMM is split into blocks of C, one per thread of lupi__parallel. */
void lupi__gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha,
		const float *a, size_t lda, const float *b, size_t ldb,
		float beta, float *c, size_t ldc);
/* The same, split by rows of C whatever the shapes: for a weight gradient
 * (a row of C is an output unit's weights, contiguous in the parameters),
 * so that a part writes whole rows, about the parameters that the
 * optimiser's part of the same index updates; split by columns, every
 * row's cache lines went back and forth between the cores each step (a
 * 784-256-10 teacher epoch on 2 threads took about 10 % longer:
 * doc/performance.md, "Weight gradients split by rows"). */
void lupi__gemm_rows(int ta, int tb, size_t m, size_t n, size_t k,
		     float alpha, const float *a, size_t lda, const float *b,
		     size_t ldb, float beta, float *c, size_t ldc);
/* The same on the calling thread alone, unsplit: for a part of a job that
 * already runs on the library's threads. */
void lupi__gemm_serial(int ta, int tb, size_t m, size_t n, size_t k,
		       float alpha, const float *a, size_t lda, const float *b,
		       size_t ldb, float beta, float *c, size_t ldc);

/* ---- the library's threads (pool.c) ------------------------------------- */

/* One part of a job: the parts of a job touch disjoint outputs, so that
 * the result does not depend on which thread runs which part. */
typedef void (*lupi__task_fn)(void *ctx, unsigned part, unsigned parts);
/* Runs fn(ctx, k, parts) for every k < parts, on the calling thread and
 * the library's workers (lupi_get_num_threads() threads in all), and
 * returns when all are done. parts <= 1 runs fn(ctx, 0, 1) here. */
void lupi__parallel(lupi__task_fn fn, void *ctx, unsigned parts);
/* Parts worth making of `work` units when each part should have at least
 * min_work: 1 .. lupi_get_num_threads(). The partition must depend on
 * nothing else (not on the load), so that results are reproducible. */
unsigned lupi__parallel_parts(double work, double min_work);
/* Part `part` of [0, n) in multiples of align: [*begin, *end). */
void lupi__split(size_t n, unsigned part, unsigned parts, size_t align,
		 size_t *begin, size_t *end);

/* ---- numerics (tensor.c) ------------------------------------------------ */

/* log(sum_i exp(x_i * scale)) over k values, stable, in double. */
double lupi__logsumexp(const float *x, size_t k, double scale);
/* p_i = softmax(x * scale)_i in double; returns the log-sum-exp. */
double lupi__softmax(const float *x, size_t k, double scale, double *p);
/* Index of the largest value (first on ties). */
size_t lupi__argmax(const float *x, size_t k);
/* 1 when all n values are finite; else 0 and *where = first bad index. */
int lupi__all_finite(const float *x, size_t n, size_t *where);
/* Sum of squares in double. */
double lupi__sumsq(const float *x, size_t n);
/* The same in eight interleaved partial sums (vectorised; a different
 * order of additions from lupi__sumsq, the same on every CPU). */
double lupi__sumsq_lanes(const float *x, size_t n);

/* ---- checksums (crc32c.c) ----------------------------------------------- */

/* CRC-32C (Castagnoli), as in iSCSI; start with crc = 0. */
uint32_t lupi__crc32c(uint32_t crc, const void *buf, size_t n);

/* ---- options (option.c): the one table-driven engine of every handle ---- */

/* C type of the field an option is stored in. */
#define LUPI__STORE_INT 0    /* int */
#define LUPI__STORE_I64 1    /* int64_t */
#define LUPI__STORE_U64 2    /* uint64_t, set and read as its int64 bits */
#define LUPI__STORE_DOUBLE 3 /* double */

/* Flags of a row. */
#define LUPI__OPT_SHAPING 1u /* refused once training started (the handle
                                checks; the engine only records it) */

/* One option: what introspection shows, and where the value lives. */
typedef struct lupi__option {
	lupi_option pub;  /* key, name, type, range, default, values, doc */
	size_t offset;    /* of the field in the handle's options struct */
	int store;        /* LUPI__STORE_* */
	unsigned flags;   /* LUPI__OPT_* */
	uint32_t file_id; /* frozen id in model files; 0 = not saved */
} lupi__option;

/* A handle's options, rows in key order. */
typedef struct lupi__option_table {
	int handle;         /* LUPI_HANDLE_* */
	const char *prefix; /* "LUPI_MODEL_OPT_", for messages */
	const lupi__option *rows;
	size_t n;
} lupi__option_table;

/* Row initialisers, e.g. LUPI__OPT_INT(MODEL, EPOCHS, ...) for the key
 * LUPI_MODEL_OPT_EPOCHS named "EPOCHS": F is the options struct type and
 * field its member, st a LUPI__STORE_*, V the named values or NULL, fl the
 * LUPI__OPT_* flags, fid the model-file id (0: not saved). */
#define LUPI__OPT_INT(H, N, F, field, st, lo, hi, def, V, fl, fid, doc)      \
	{{sizeof(lupi_option), LUPI_HANDLE_##H, LUPI_##H##_OPT_##N,           \
	  LUPI_TYPE_INT, #N, doc, lo, hi, def, 0.0, 0.0, 0.0, 0, 0, V},        \
	 offsetof(F, field), st, fl, fid}
#define LUPI__OPT_REAL(H, N, F, field, lo, hi, lo_open, hi_open, def, fl,    \
		       fid, doc)                                               \
	{{sizeof(lupi_option), LUPI_HANDLE_##H, LUPI_##H##_OPT_##N,           \
	  LUPI_TYPE_DOUBLE, #N, doc, 0, 0, 0, lo, hi, def, lo_open, hi_open,   \
	  NULL},                                                               \
	 offsetof(F, field), LUPI__STORE_DOUBLE, fl, fid}

/* The row of key with the given type (LUPI_TYPE_*) in t into *row, or
 * LUPI_EUNKNOWN_OPTION with a message naming the handle, or the right
 * setter when the key has the other type. */
int lupi__option_lookup(const lupi__option_table *t, int key, int type,
			const lupi__option **row);
/* Checks value against the row's range (LUPI_ERANGE naming the option and
 * its range) and stores it in the options struct at base. */
int lupi__option_store_int(const lupi__option_table *t, const lupi__option *o,
			   void *base, int64_t value);
int lupi__option_store_double(const lupi__option_table *t,
			      const lupi__option *o, void *base, double value);
/* The stored value. */
int64_t lupi__option_load_int(const lupi__option *o, const void *base);
double lupi__option_load_double(const lupi__option *o, const void *base);
/* Writes every row's default into the options struct at base. */
void lupi__option_defaults(const lupi__option_table *t, void *base);
/* Get / set through a table in one call, for handles without side effects
 * (NULL checks included). */
int lupi__option_set_int(const lupi__option_table *t, void *base, int key,
			 int64_t value);
int lupi__option_set_double(const lupi__option_table *t, void *base, int key,
			    double value);
int lupi__option_get_int(const lupi__option_table *t, const void *base,
			 int key, int64_t *value);
int lupi__option_get_double(const lupi__option_table *t, const void *base,
			    int key, double *value);
/* The row with this model-file id, or NULL. */
const lupi__option *lupi__option_by_file_id(const lupi__option_table *t,
					    uint32_t file_id);

/* ---- little-endian packing of files (model, checkpoint and SVM files) --- */

static inline unsigned char *lupi__put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static inline unsigned char *lupi__put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static inline unsigned char *lupi__put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

static inline unsigned char *lupi__put_f64(unsigned char *p, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	return lupi__put_u64(p, bits);
}

static inline uint16_t lupi__get_u16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t lupi__get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t lupi__get_u64(const unsigned char *p)
{
	return (uint64_t)lupi__get_u32(p) | (uint64_t)lupi__get_u32(p + 4) << 32;
}

static inline double lupi__get_f64(const unsigned char *p)
{
	uint64_t bits = lupi__get_u64(p);
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

/* ---- files (file.c) ------------------------------------------------------ */

/* Bound on a data file's (uncompressed) size: loaders hold it in memory. */
#define LUPI__MAX_FILE_BYTES ((size_t)1 << 31)

/* Reads a whole file (gunzipping it when it is gzip'd) into a malloc'd
 * buffer with a NUL after the last byte. Errors (EIO with strerror, EFORMAT
 * for corrupt gzip or a file above LUPI__MAX_FILE_BYTES) name the path. */
int lupi__read_file(const char *path, unsigned char **data, size_t *len);
/* Reads a regular file as it is (no gunzip, no NUL) into a buffer of its
 * own size. Errors name the path. */
int lupi__read_whole(const char *path, unsigned char **buf, size_t *size);
/* Writes buf to path atomically: a temporary file in the same directory,
 * written, fsynced and renamed over path, then the directory synced; a
 * failure leaves any old file intact. The new file keeps an old regular
 * file's permissions, else 0644. A symbolic link to a regular file is
 * written through (the file it resolves to is replaced, the link stays);
 * LUPI_EIO "<path>: not a regular file" for anything else that exists (a
 * device, a FIFO, a directory, a link to one), "<path>: permission denied"
 * for a file the caller may not write or that has no write bit at all. */
int lupi__write_atomic(const char *path, const unsigned char *buf,
		       size_t size);

/* Test hook: which system call of the next lupi__write_atomic fails (once),
 * as if the system had refused it; then the hook resets itself to NONE.
 * Process-wide, not thread-safe: tests only. */
#define LUPI__IO_FAIL_NONE 0
#define LUPI__IO_FAIL_WRITE 1  /* write() of the temporary file: ENOSPC */
#define LUPI__IO_FAIL_FSYNC 2  /* fsync() of the temporary file: EIO */
#define LUPI__IO_FAIL_RENAME 3 /* rename() over the target: EACCES */
void lupi__io_set_fail(int which);

#endif
