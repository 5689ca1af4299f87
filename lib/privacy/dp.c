/* Differentially private training: DP-SGD (Abadi et al. 2016, "Deep
 * Learning with Differential Privacy") for models and students.
 *
 * A step samples every eligible training sample independently with
 * probability q (Poisson sampling, the assumption of the accountant),
 * clips each sampled sample's gradient to L2 norm C (per-sample norms by
 * the ghost norm of dense layers, lib/model/persample.c), sums, adds
 * N(0, sigma^2 C^2) to every trainable parameter, and divides by the
 * EXPECTED batch size q n, never by the realised one (which would depend on
 * the data: Opacus issue #819). The optimiser then applies the result; it
 * is post-processing. Which configurations are refused, and why, is in
 * doc/privacy.md. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "privacy_internal.h"

/* ---- the configuration handle ------------------------------------------- */

#define REAL_OPT(N, field, lo, hi, lo_open, hi_open, def, doc)               \
	LUPI__OPT_REAL(DP, N, lupi__dp_opts, field, lo, hi, lo_open, hi_open, \
		       def, 0u, 0, doc)

static const lupi__option dp_rows[] = {
	LUPI__OPT_INT(DP, SEED, lupi__dp_opts, seed, LUPI__STORE_U64,
		      INT64_MIN, INT64_MAX, 0, NULL, 0u, 0,
		      "noise and sampling seed; 0 = from the operating system, "
		      "others reproducible (tests only)"),
	REAL_OPT(NOISE, noise, 0.0, 1e4, 1, 0, 1.0,
		 "noise multiplier sigma: noise stddev sigma * CLIP"),
	REAL_OPT(CLIP, clip, 0.0, 1e6, 1, 0, 1.0,
		 "per-sample gradient L2 clip norm C"),
	REAL_OPT(SAMPLE_RATE, sample_rate, 0.0, 1.0, 0, 0, 0.0,
		 "Poisson sampling rate q; 0 = the model's BATCH / samples"),
	REAL_OPT(DELTA, delta, 0.0, 1.0, 1, 1, 1e-5,
		 "delta of the (epsilon, delta) guarantee"),
	REAL_OPT(TARGET_EPSILON, target_epsilon, 0.0, 1e6, 0, 0, 0.0,
		 "when > 0, NOISE is chosen to reach this epsilon; 0 = off"),
};

#undef REAL_OPT

const lupi__option_table lupi__dp_options = {
	LUPI_HANDLE_DP, "LUPI_DP_OPT_", dp_rows,
	sizeof dp_rows / sizeof dp_rows[0]};

int lupi_dp_create(lupi_dp **out)
{
	LUPI__CHECK_NULL(out);
	*out = lupi__calloc(1, sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a DP "
				 "configuration");
	lupi__option_defaults(&lupi__dp_options, &(*out)->opt);
	return LUPI_OK;
}

void lupi_dp_free(lupi_dp *dp)
{
	lupi__free(dp);
}

int lupi_dp_set_int(lupi_dp *dp, int key, int64_t value)
{
	LUPI__CHECK_NULL(dp);
	return lupi__option_set_int(&lupi__dp_options, &dp->opt, key, value);
}

int lupi_dp_get_int(const lupi_dp *dp, int key, int64_t *value)
{
	LUPI__CHECK_NULL(dp);
	return lupi__option_get_int(&lupi__dp_options, &dp->opt, key, value);
}

int lupi_dp_set_double(lupi_dp *dp, int key, double value)
{
	LUPI__CHECK_NULL(dp);
	return lupi__option_set_double(&lupi__dp_options, &dp->opt, key,
				       value);
}

int lupi_dp_get_double(const lupi_dp *dp, int key, double *value)
{
	LUPI__CHECK_NULL(dp);
	return lupi__option_get_double(&lupi__dp_options, &dp->opt, key,
				       value);
}

/* ---- the generator ------------------------------------------------------- */

static int os_random(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (got == n)
		return LUPI_OK;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		got = 0;
		while (got < n) {
			ssize_t r = read(fd, p + got, n - got);
			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;
			got += r > 0 ? (size_t)r : 0;
		}
		close(fd);
	}
	if (got == n)
		return LUPI_OK;
	return lupi__err(LUPI_EIO, "the operating system gives no random "
			 "bytes (getrandom and /dev/urandom failed)");
}

/* Ziggurat of 256 layers for f(x) = e^(-x^2/2) (Marsaglia & Tsang 2000,
 * with Doornik's 2005 fix: the layer index and the value come from
 * disjoint bits of a draw). R is the start of the tail, V each layer's
 * area. Exact for ideal uniforms: every rejection test is exact, the tail
 * beyond R by Marsaglia's method. */
#define ZIG_R 3.6541528853610088
#define ZIG_V 0.00492867323399

static double zig_f(double x)
{
	return exp(-0.5 * x * x);
}

static void zig_tables(lupi__dp_rng *g)
{
	double *x = g->zx;
	x[0] = ZIG_V / zig_f(ZIG_R);
	x[1] = ZIG_R;
	for (int i = 1; i < LUPI__ZIG_LAYERS - 1; i++)
		x[i + 1] = sqrt(-2.0 * log(ZIG_V / x[i] + zig_f(x[i])));
	x[LUPI__ZIG_LAYERS] = 0.0;
	for (int i = 0; i <= LUPI__ZIG_LAYERS; i++)
		g->zf[i] = zig_f(x[i]);
	for (int i = 0; i < LUPI__ZIG_LAYERS; i++) {
		g->zpair[i][0] = x[i];
		g->zpair[i][1] = x[i + 1];
	}
}

/* The jump function of xoshiro256 (Blackman & Vigna 2018, the reference
 * code's jump()): s becomes the state 2^128 draws ahead. */
static void rng_jump(uint64_t s[4])
{
	static const uint64_t poly[4] = {
		0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
		0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
	uint64_t t[4] = {0, 0, 0, 0};
	for (int i = 0; i < 4; i++)
		for (int b = 0; b < 64; b++) {
			if (poly[i] & UINT64_C(1) << b)
				for (int c = 0; c < 4; c++)
					t[c] ^= s[c];
			lupi__xoshiro_next(s);
		}
	memcpy(s, t, sizeof t);
}

/* Lane j of the bulk noise starts j jumps after the master state, the
 * slow stream 8 jumps: nine streams 2^128 draws apart, which no fit can
 * exhaust. */
static void init_lanes(lupi__dp_rng *g)
{
	uint64_t s[4];
	memcpy(s, g->rng.s, sizeof s);
	for (int j = 0; j < LUPI__DP_LANES; j++) {
		for (int c = 0; c < 4; c++)
			g->lane[c][j] = s[c];
		rng_jump(s);
	}
	memcpy(g->slow.s, s, sizeof s);
}

int lupi__dp_rng_init(lupi__dp_rng *g, uint64_t seed)
{
	memset(g, 0, sizeof *g);
	zig_tables(g);
	if (seed != 0)
		lupi__rng_seed(&g->rng, seed);
	else
		do
			LUPI__TRY(os_random(g->rng.s, sizeof g->rng.s));
		while ((g->rng.s[0] | g->rng.s[1] | g->rng.s[2] |
			g->rng.s[3]) == 0);
	init_lanes(g);
	return LUPI_OK;
}

/* lupi__rng_uniform, inlined: a uniform in [0, 1). */
static inline double uniform(lupi__rng *r)
{
	return (double)(lupi__xoshiro_next(r->s) >> 11) * 0x1.0p-53;
}

/* A uniform in (0, 1]. */
static inline double open_uniform(lupi__rng *r)
{
	return 1.0 - uniform(r);
}

static double zig_normal(const lupi__dp_rng *g, lupi__rng *r);

/* What zig_normal does after its draw b from r failed the fast test: the
 * tail, or a wedge (one more uniform), and on a wedge rejection the
 * following draws until one is accepted, all from r. Rare (under 2% of
 * draws), so out of line. */
static double zig_after_reject(const lupi__dp_rng *g, lupi__rng *r,
			       uint64_t b)
{
	int i = (int)(b & 0xff);
	double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;
	double x = u * g->zx[i];
	if (i == 0) {
		double a, c;
		do {
			a = -log(open_uniform(r)) / ZIG_R;
			c = -log(open_uniform(r));
		} while (c + c < a * a);
		return u < 0.0 ? -(ZIG_R + a) : ZIG_R + a;
	}
	double y = g->zf[i + 1] + uniform(r) * (g->zf[i] - g->zf[i + 1]);
	if (y < zig_f(x))
		return x;
	return zig_normal(g, r);
}

/* Marsaglia & Tsang's ziggurat with g's tables on the stream r: a draw b
 * passing the fast test is the normal; otherwise zig_after_reject. */
static inline double zig_normal(const lupi__dp_rng *g, lupi__rng *r)
{
	uint64_t b = lupi__xoshiro_next(r->s);
	int i = (int)(b & 0xff);
	/* the top 53 bits: u uniform in [-1, 1) */
	double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;
	double x = u * g->zx[i];
	if (fabs(x) < g->zx[i + 1])
		return x;
	return zig_after_reject(g, r, b);
}

double lupi__dp_normal(lupi__dp_rng *g)
{
	return zig_normal(g, &g->rng);
}

/* ---- the bulk noise: eight lanes and a slow stream ---------------------- */

/* Where element k's normal z goes: x[k] = (float)(x[k] + sd z) * scale,
 * or z[k] = z itself when z is not NULL (lupi__dp_bulk_normals). */
typedef struct noise_dst {
	float *x;
	double *z;
	double sd;
	float scale;
} noise_dst;

static noise_dst dst_at(noise_dst d, size_t k)
{
	if (d.z)
		d.z += k;
	else
		d.x += k;
	return d;
}

static void put(noise_dst d, size_t k, double z)
{
	if (d.z)
		d.z[k] = z;
	else
		d.x[k] = (float)((double)d.x[k] + d.sd * z) * d.scale;
}

/* The definition of the bulk noise, and the kernel of CPUs without a
 * vector one: element k draws b from lane k % 8; when b fails the fast
 * test, the slow path (zig_after_reject) takes its further draws from
 * the slow stream, in element order. Each lane draws exactly once per
 * element, so the vector kernels can leave the rare slow paths (1.5% of
 * the draws) to a scalar pass after their loop. */
static void noise_portable(lupi__dp_rng *g, noise_dst d, size_t n)
{
	/* each lane's state contiguous, in local variables */
	uint64_t ls[LUPI__DP_LANES][4];
	for (int j = 0; j < LUPI__DP_LANES; j++)
		for (int c = 0; c < 4; c++)
			ls[j][c] = g->lane[c][j];
	for (size_t k = 0; k < n; k++) {
		uint64_t b = lupi__xoshiro_next(ls[k % LUPI__DP_LANES]);
		int i = (int)(b & 0xff);
		double u = (double)(b >> 11) * 0x1.0p-52 - 1.0;
		double z = u * g->zx[i];
		if (!(fabs(z) < g->zx[i + 1]))
			z = zig_after_reject(g, &g->slow, b);
		put(d, k, z);
	}
	for (int j = 0; j < LUPI__DP_LANES; j++)
		for (int c = 0; c < 4; c++)
			g->lane[c][j] = ls[j][c];
}

/* The elements off[f] of d whose draws b[f] failed the fast test and
 * that the vector loop left as they were, in element order. */
static void finish_rejects(lupi__dp_rng *g, noise_dst d, const uint64_t *off,
			   const uint64_t *b, size_t nf)
{
	for (size_t f = 0; f < nf; f++)
		put(d, off[f], zig_after_reject(g, &g->slow, b[f]));
}

/* The vector kernels compute the fast path of the eight lanes at once
 * with the same integer operations and the same exactly rounded double
 * operations as noise_portable (no fused multiply-adds:
 * -ffp-contract=off), so they give the same bits. Chosen at run time
 * (__builtin_cpu_supports), as lib/model/predict.c does. */
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_X86_KERNELS 1
#include <immintrin.h>

#define TGT_AVX512 __attribute__((target("avx512f,avx512dq")))
#define TGT_AVX2 __attribute__((target("avx2")))
/* elements per vector pass before its rejects are finished */
#define CHUNK 1024

/* zx[i] and zx[i + 1] of the eight layers i: 16-byte loads of
 * g->zpair, which beat two gathers. */
TGT_AVX512 static inline __attribute__((always_inline)) void
pairs8(const lupi__dp_rng *g, __m512i i, __m512d *xi, __m512d *xi1)
{
	uint64_t at[LUPI__DP_LANES];
	_mm512_storeu_si512(at, i);
	const double(*zp)[2] = g->zpair;
	/* q0 holds the pairs of lanes 0, 2, 4, 6 and q1 those of 1, 3, 5,
	 * 7, so that unpacking each 128-bit lane puts them in order */
	__m512d q0 = _mm512_castpd128_pd512(_mm_loadu_pd(zp[at[0]]));
	__m512d q1 = _mm512_castpd128_pd512(_mm_loadu_pd(zp[at[1]]));
	__m256d h0 = _mm256_insertf128_pd(_mm512_castpd512_pd256(q0),
					  _mm_loadu_pd(zp[at[2]]), 1);
	__m256d h1 = _mm256_insertf128_pd(_mm512_castpd512_pd256(q1),
					  _mm_loadu_pd(zp[at[3]]), 1);
	__m256d t0 = _mm256_insertf128_pd(
		_mm256_castpd128_pd256(_mm_loadu_pd(zp[at[4]])),
		_mm_loadu_pd(zp[at[6]]), 1);
	__m256d t1 = _mm256_insertf128_pd(
		_mm256_castpd128_pd256(_mm_loadu_pd(zp[at[5]])),
		_mm_loadu_pd(zp[at[7]]), 1);
	q0 = _mm512_insertf64x4(_mm512_castpd256_pd512(h0), t0, 1);
	q1 = _mm512_insertf64x4(_mm512_castpd256_pd512(h1), t1, 1);
	*xi = _mm512_unpacklo_pd(q0, q1);
	*xi1 = _mm512_unpackhi_pd(q0, q1);
}

/* raw: d.z gets the normals (a constant: each caller below gets its
 * own copy of the loop). */
TGT_AVX512 static inline __attribute__((always_inline)) void
avx512_body(lupi__dp_rng *g, noise_dst d, size_t blocks, int raw)
{
	float *x = d.x;
	__m512i s0 = _mm512_loadu_si512(g->lane[0]);
	__m512i s1 = _mm512_loadu_si512(g->lane[1]);
	__m512i s2 = _mm512_loadu_si512(g->lane[2]);
	__m512i s3 = _mm512_loadu_si512(g->lane[3]);
	const __m512i low8 = _mm512_set1_epi64(0xff);
	const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);
	const __m512d k52 = _mm512_set1_pd(0x1.0p-52);
	const __m512d one = _mm512_set1_pd(1.0), vsd = _mm512_set1_pd(d.sd);
	const __m256 vscale = _mm256_set1_ps(d.scale);
	/* room for a whole vector store past the last reject */
	uint64_t off[CHUNK + LUPI__DP_LANES], rb[CHUNK + LUPI__DP_LANES];
	for (size_t blk0 = 0; blk0 < blocks; blk0 += CHUNK / LUPI__DP_LANES) {
		size_t end = blocks - blk0 < CHUNK / LUPI__DP_LANES ?
			blocks : blk0 + CHUNK / LUPI__DP_LANES;
		size_t nf = 0;
		for (size_t blk = blk0; blk < end; blk++) {
			/* xoshiro256**: rotl(s1 * 5, 7) * 9, the products as
			 * shifts and adds */
			__m512i m5 = _mm512_add_epi64(_mm512_slli_epi64(s1, 2),
						      s1);
			__m512i r7 = _mm512_rol_epi64(m5, 7);
			__m512i b = _mm512_add_epi64(_mm512_slli_epi64(r7, 3),
						     r7);
			__m512i t = _mm512_slli_epi64(s1, 17);
			s2 = _mm512_xor_si512(s2, s0);
			s3 = _mm512_xor_si512(s3, s1);
			s1 = _mm512_xor_si512(s1, s2);
			s0 = _mm512_xor_si512(s0, s3);
			s2 = _mm512_xor_si512(s2, t);
			s3 = _mm512_rol_epi64(s3, 45);
			/* b >> 11 < 2^53 converts exactly */
			__m512i i = _mm512_and_si512(b, low8);
			__m512d u = _mm512_sub_pd(
				_mm512_mul_pd(_mm512_cvtepu64_pd(
						      _mm512_srli_epi64(b, 11)),
					      k52),
				one);
			__m512d xi, xi1;
			pairs8(g, i, &xi, &xi1);
			__m512d z = _mm512_mul_pd(u, xi);
			__mmask8 ok = _mm512_cmp_pd_mask(_mm512_abs_pd(z), xi1,
							 _CMP_LT_OQ);
			size_t k = (blk - blk0) * LUPI__DP_LANES;
			if (raw) {
				_mm512_storeu_pd(d.z + blk * LUPI__DP_LANES, z);
			} else {
				float *p = x + blk * LUPI__DP_LANES;
				__m256 x0 = _mm256_loadu_ps(p);
				__m512d v = _mm512_cvtps_pd(x0);
				v = _mm512_add_pd(v, _mm512_mul_pd(vsd, z));
				__m256 y = _mm256_mul_ps(_mm512_cvtpd_ps(v),
							 vscale);
				/* a rejected lane keeps its element for
				 * the scalar pass: no branch in the loop */
				__m512 y16 = _mm512_mask_blend_ps(
					ok, _mm512_castps256_ps512(x0),
					_mm512_castps256_ps512(y));
				_mm256_storeu_ps(p,
						 _mm512_castps512_ps256(y16));
			}
			__mmask8 bad = (__mmask8)~ok;
			__m512i at = _mm512_add_epi64(
				iota, _mm512_set1_epi64((long long)k));
			_mm512_storeu_si512(
				off + nf, _mm512_maskz_compress_epi64(bad, at));
			_mm512_storeu_si512(
				rb + nf, _mm512_maskz_compress_epi64(bad, b));
			nf += (size_t)__builtin_popcount(bad);
		}
		finish_rejects(g, dst_at(d, blk0 * LUPI__DP_LANES), off, rb,
			       nf);
	}
	_mm512_storeu_si512(g->lane[0], s0);
	_mm512_storeu_si512(g->lane[1], s1);
	_mm512_storeu_si512(g->lane[2], s2);
	_mm512_storeu_si512(g->lane[3], s3);
}

TGT_AVX512 static void noise_avx512(lupi__dp_rng *g, noise_dst d,
				    size_t blocks)
{
	if (d.z)
		avx512_body(g, d, blocks, 1);
	else
		avx512_body(g, d, blocks, 0);
}

#define ROTL256(x, k) \
	_mm256_or_si256(_mm256_slli_epi64(x, k), _mm256_srli_epi64(x, 64 - (k)))

/* Four lanes (of s[0..3]) one draw ahead: the draw into *b, the fast
 * path's value into *z; returns the lanes that passed, one bit each. */
TGT_AVX2 static inline __attribute__((always_inline)) unsigned
fast4(__m256i s[4], const lupi__dp_rng *g, __m256i *b, __m256d *z)
{
	__m256i m5 = _mm256_add_epi64(_mm256_slli_epi64(s[1], 2), s[1]);
	__m256i r7 = ROTL256(m5, 7);
	__m256i d = _mm256_add_epi64(_mm256_slli_epi64(r7, 3), r7);
	__m256i t = _mm256_slli_epi64(s[1], 17);
	s[2] = _mm256_xor_si256(s[2], s[0]);
	s[3] = _mm256_xor_si256(s[3], s[1]);
	s[1] = _mm256_xor_si256(s[1], s[2]);
	s[0] = _mm256_xor_si256(s[0], s[3]);
	s[2] = _mm256_xor_si256(s[2], t);
	s[3] = ROTL256(s[3], 45);
	/* (b >> 11) 2^-52 - 1 = (2 w - 3) + bit11 2^-52 with w = 1 + (b >>
	 * 12) 2^-52 made from its bits (no u64 -> double before AVX-512):
	 * every step is exact */
	const __m256i bit11 = _mm256_set1_epi64x(1 << 11);
	__m256d w = _mm256_castsi256_pd(_mm256_or_si256(
		_mm256_srli_epi64(d, 12),
		_mm256_set1_epi64x(0x3ff0000000000000LL)));
	__m256d lo = _mm256_and_pd(
		_mm256_castsi256_pd(_mm256_cmpeq_epi64(
			_mm256_and_si256(d, bit11), bit11)),
		_mm256_set1_pd(0x1.0p-52));
	__m256d u = _mm256_add_pd(
		_mm256_sub_pd(_mm256_add_pd(w, w), _mm256_set1_pd(3.0)), lo);
	const double(*zp)[2] = g->zpair;
	uint64_t at[4];
	_mm256_storeu_si256((__m256i *)at,
			    _mm256_and_si256(d, _mm256_set1_epi64x(0xff)));
	/* pairs of lanes 0, 2 and 1, 3: unpacking puts them in order */
	__m256d q0 = _mm256_insertf128_pd(
		_mm256_castpd128_pd256(_mm_loadu_pd(zp[at[0]])),
		_mm_loadu_pd(zp[at[2]]), 1);
	__m256d q1 = _mm256_insertf128_pd(
		_mm256_castpd128_pd256(_mm_loadu_pd(zp[at[1]])),
		_mm_loadu_pd(zp[at[3]]), 1);
	__m256d xi = _mm256_unpacklo_pd(q0, q1);
	__m256d xi1 = _mm256_unpackhi_pd(q0, q1);
	*z = _mm256_mul_pd(u, xi);
	*b = d;
	__m256d az = _mm256_andnot_pd(_mm256_set1_pd(-0.0), *z);
	return (unsigned)_mm256_movemask_pd(
		_mm256_cmp_pd(az, xi1, _CMP_LT_OQ));
}

/* (float)(x + sd z) * scale of four elements where ok, x elsewhere; or
 * z into zout. */
TGT_AVX2 static inline __attribute__((always_inline)) void
apply4(float *p, double *zout, __m256d z, unsigned ok, __m256d vsd,
       __m128 vscale)
{
	if (zout) {
		_mm256_storeu_pd(zout, z);
		return;
	}
	__m128 x0 = _mm_loadu_ps(p);
	__m256d v = _mm256_add_pd(_mm256_cvtps_pd(x0), _mm256_mul_pd(vsd, z));
	__m128 y = _mm_mul_ps(_mm256_cvtpd_ps(v), vscale);
	if (ok != 0xfu) {
		__m128i keep = _mm_cmpeq_epi32(
			_mm_and_si128(_mm_set1_epi32((int)ok),
				      _mm_setr_epi32(1, 2, 4, 8)),
			_mm_setzero_si128());
		y = _mm_blendv_ps(y, x0, _mm_castsi128_ps(keep));
	}
	_mm_storeu_ps(p, y);
}

TGT_AVX2 static inline __attribute__((always_inline)) void
avx2_body(lupi__dp_rng *g, noise_dst d, size_t blocks, int raw)
{
	__m256i a[4], c[4];
	for (int w = 0; w < 4; w++) {
		a[w] = _mm256_loadu_si256((const __m256i *)g->lane[w]);
		c[w] = _mm256_loadu_si256((const __m256i *)(g->lane[w] + 4));
	}
	const __m256d vsd = _mm256_set1_pd(d.sd);
	const __m128 vscale = _mm_set1_ps(d.scale);
	uint64_t off[CHUNK], rb[CHUNK];
	for (size_t blk0 = 0; blk0 < blocks; blk0 += CHUNK / LUPI__DP_LANES) {
		size_t end = blocks - blk0 < CHUNK / LUPI__DP_LANES ?
			blocks : blk0 + CHUNK / LUPI__DP_LANES;
		size_t nf = 0;
		for (size_t blk = blk0; blk < end; blk++) {
			size_t k = (blk - blk0) * LUPI__DP_LANES;
			size_t e = blk * LUPI__DP_LANES;
			float *p = raw ? NULL : d.x + e;
			double *zo = raw ? d.z + e : NULL;
			__m256i ba, bc;
			__m256d za, zc;
			unsigned oka = fast4(a, g, &ba, &za);
			unsigned okc = fast4(c, g, &bc, &zc);
			apply4(p, zo, za, oka, vsd, vscale);
			apply4(p ? p + 4 : NULL, zo ? zo + 4 : NULL, zc, okc,
			       vsd, vscale);
			unsigned ok = oka | okc << 4;
			if (ok == 0xffu)
				continue;
			uint64_t bb[LUPI__DP_LANES];
			_mm256_storeu_si256((__m256i *)bb, ba);
			_mm256_storeu_si256((__m256i *)(bb + 4), bc);
			for (unsigned bad = ~ok & 0xffu; bad; bad &= bad - 1) {
				int j = __builtin_ctz(bad);
				off[nf] = (uint64_t)k + (uint64_t)j;
				rb[nf++] = bb[j];
			}
		}
		finish_rejects(g, dst_at(d, blk0 * LUPI__DP_LANES), off, rb,
			       nf);
	}
	for (int w = 0; w < 4; w++) {
		_mm256_storeu_si256((__m256i *)g->lane[w], a[w]);
		_mm256_storeu_si256((__m256i *)(g->lane[w] + 4), c[w]);
	}
}

TGT_AVX2 static void noise_avx2(lupi__dp_rng *g, noise_dst d, size_t blocks)
{
	if (d.z)
		avx2_body(g, d, blocks, 1);
	else
		avx2_body(g, d, blocks, 0);
}

static int best_kernel(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("avx512dq"))
		return LUPI__DP_NOISE_AVX512;
	if (__builtin_cpu_supports("avx2"))
		return LUPI__DP_NOISE_AVX2;
	return LUPI__DP_NOISE_PORTABLE;
}
#else
static int best_kernel(void)
{
	return LUPI__DP_NOISE_PORTABLE;
}
#endif

/* -1: not decided yet. */
static _Atomic int noise_kernel = -1;

int lupi__dp_noise_kernel(int which)
{
	int best = best_kernel();
	int k = which < 0 || which > best ? best : which;
	atomic_store_explicit(&noise_kernel, k, memory_order_relaxed);
	return k;
}

static int use_kernel(void)
{
	return lupi__kernel_once(&noise_kernel, best_kernel);
}

static void bulk(lupi__dp_rng *g, noise_dst d, size_t n)
{
	/* lane 0 is the master stream */
	for (int c = 0; c < 4; c++)
		g->lane[c][0] = g->rng.s[c];
	size_t body = 0;
#ifdef HAVE_X86_KERNELS
	int k = use_kernel();
	if (k != LUPI__DP_NOISE_PORTABLE)
		body = n - n % LUPI__DP_LANES;
	if (k == LUPI__DP_NOISE_AVX512)
		noise_avx512(g, d, body / LUPI__DP_LANES);
	else if (k == LUPI__DP_NOISE_AVX2)
		noise_avx2(g, d, body / LUPI__DP_LANES);
#else
	(void)use_kernel;
#endif
	/* the tail: element body + k is element k of the lane pattern, as
	 * body is a multiple of 8 */
	noise_portable(g, dst_at(d, body), n - body);
	for (int c = 0; c < 4; c++)
		g->rng.s[c] = g->lane[c][0];
}

void lupi__dp_add_noise_scaled(lupi__dp_rng *g, float *x, size_t n,
			       double stddev, float scale)
{
	bulk(g, (noise_dst){.x = x, .sd = stddev, .scale = scale}, n);
}

void lupi__dp_bulk_normals(lupi__dp_rng *g, double *z, size_t n)
{
	bulk(g, (noise_dst){.z = z}, n);
}

size_t lupi__dp_sample(lupi__dp_rng *g, double q, const size_t *pool,
		       size_t n, size_t *out)
{
	if (q >= 1.0) {
		memcpy(out, pool, n * sizeof *out);
		return n;
	}
	/* The gap before the next sampled sample is geometric:
	 * P(gap >= k) = (1 - q)^k = P(log U / log(1 - q) >= k). */
	double l1q = log1p(-q);
	size_t count = 0;
	double pos = -1.0;
	for (;;) {
		double u = 1.0 - lupi__rng_uniform(&g->rng);
		pos += 1.0 + floor(log(u) / l1q);
		if (!(pos < (double)n))
			break;
		out[count++] = pool[(size_t)pos];
	}
	return count;
}

/* ---- private steps ------------------------------------------------------- */

void lupi__dp_work_free(lupi__dp_work *w)
{
	lupi__free(w->idx);
	lupi__free(w->dsample);
	lupi__free(w->scratch);
	lupi__free(w->norms);
	lupi__free(w->t);
	lupi__free(w->has);
	memset(w, 0, sizeof *w);
}

static int grow(void **p, size_t n, size_t size)
{
	size_t bytes;
	if (lupi__mul_overflow(n ? n : 1, size ? size : 1, &bytes))
		return lupi__err(LUPI_ENOMEM, "private step buffers of %zu "
				 "rows", n);
	void *q = lupi__realloc(*p, bytes);
	if (q == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (%zu bytes of "
				 "private step buffers)", bytes);
	*p = q;
	return LUPI_OK;
}

int lupi__dp_work_reserve(lupi__dp_work *w, const lupi_model *m, size_t n)
{
	if (n <= w->cap && w->norms != NULL)
		return LUPI_OK;
	/* some headroom: Poisson batches vary around their mean */
	size_t cap = n + n / 4 + 8, floats;
	LUPI__TRY(lupi__model_clip_scratch(m, cap, &floats));
	LUPI__TRY(grow((void **)&w->scratch, floats, sizeof(float)));
	LUPI__TRY(grow((void **)&w->dsample, cap * m->n_out, sizeof(float)));
	LUPI__TRY(grow((void **)&w->t, cap * m->n_out, sizeof(float)));
	LUPI__TRY(grow((void **)&w->has, cap, 1));
	LUPI__TRY(grow((void **)&w->norms, cap, sizeof(double)));
	w->cap = cap;
	return LUPI_OK;
}

/* Teacher outputs of the rows into w->t and w->has. */
static int batch_teacher(lupi__dp_objective *ob, const lupi_dataset *ds,
			 const size_t *idx, size_t n, size_t k,
			 lupi__dp_work *w)
{
	if (ob->t_all == NULL)
		return lupi__teacher_batch(ob->teacher, ds, idx, n, w->t,
					   w->has, &ob->comb);
	for (size_t i = 0; i < n; i++) {
		memcpy(w->t + i * k, ob->t_all + idx[i] * k, k * sizeof *w->t);
		w->has[i] = ob->has_all[idx[i]];
	}
	return LUPI_OK;
}

int lupi__dp_clipped_sum(lupi_model *m, lupi__dp_objective *ob,
			 const lupi_dataset *ds, const size_t *idx, size_t n,
			 double clip, lupi__dp_work *w, double *loss)
{
	size_t k = m->n_out;
	LUPI__TRY(lupi__dp_work_reserve(w, m, n));
	const float *s;
	/* per-sample gradients read the activations as whole arrays */
	LUPI__TRY(lupi__model_forward(m, ds, idx, n,
				      LUPI__FWD_TRAIN | LUPI__FWD_WHOLE, &s));
	int use_t = ob->loss != NULL && ob->teacher != NULL &&
		    lupi__loss_needs_teacher_outputs(ob->loss);
	if (use_t)
		LUPI__TRY(batch_teacher(ob, ds, idx, n, k, w));
	/* Row by row: each row's gradient is that of its own loss alone,
	 * exactly what a batch of one gives. */
	double sum = 0.0;
	for (size_t i = 0; i < n; i++) {
		const int32_t *y = m->y_labels ? m->y_labels + i : NULL;
		const float *yt = m->y_targets ? m->y_targets + i * k : NULL;
		double v = 0.0;
		if (ob->loss == NULL)
			LUPI__TRY(lupi__objective_hard(m->task, 1, k, s + i * k,
						       y, yt, NULL, &v,
						       w->dsample + i * k));
		else
			LUPI__TRY(lupi__loss_eval_output(
				ob->loss, 1, k, s + i * k,
				use_t ? w->t + i * k : NULL, y, yt, NULL,
				use_t ? w->has + i : NULL, &v,
				w->dsample + i * k));
		if (!isfinite(v))
			return lupi__err(LUPI_ENONFINITE, "sample %zu: the loss "
					 "is not finite", idx[i]);
		sum += v;
	}
	LUPI__TRY(lupi__model_backward_clipped(m, w->dsample, clip, w->scratch,
					       w->norms));
	*loss = sum / (double)n;
	return LUPI_OK;
}

/* ---- the fit ------------------------------------------------------------- */

typedef struct dp_run {
	lupi_model *m;
	const lupi_dataset *train, *valid;
	lupi__dp_objective ob;
	lupi__dp_work w;
	lupi__dp_rng g;
	size_t *pool;  /* samples the model's view sees */
	size_t n_pool;
	double q, sigma, clip, delta;
	uint64_t steps_per_epoch, steps_done, prior_steps;
	float *best;   /* RESTORE_BEST with valid */
	int have_best;
	double best_metric;
	unsigned best_epoch;
} dp_run;

/* What the accountant cannot account for is refused before anything
 * changes. */
static int refuse_unaccountable(const lupi_model *m, const lupi_dataset *ds)
{
	if (ds->weights != NULL)
		return lupi__err(LUPI_ENOTSUP, "the dataset has per-sample "
				 "weights: DP-SGD's accounting assumes every "
				 "sample's clipped gradient counts once; "
				 "remove them (lupi_dataset_set_weights(ds, "
				 "NULL))");
	if (m->opt.standardize && !m->has_std)
		return lupi__err(LUPI_ENOTSUP, "STANDARDIZE would fit the "
				 "input statistics on the private data "
				 "outside the accountant: set "
				 "LUPI_MODEL_OPT_STANDARDIZE 0, or set "
				 "statistics from public data with "
				 "lupi_model_set_standardizer()");
	return LUPI_OK;
}

static int list_pool(dp_run *r)
{
	const lupi_dataset *ds = r->train;
	int need = lupi__view_needs_priv(r->m->opt.view);
	r->pool = lupi__malloc_array(ds->n, sizeof *r->pool);
	r->w.idx = lupi__malloc_array(ds->n, sizeof *r->w.idx);
	if (r->pool == NULL || r->w.idx == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices",
				 ds->n);
	for (size_t i = 0; i < ds->n; i++)
		if (!need || lupi__dataset_has_priv(ds, i))
			r->pool[r->n_pool++] = i;
	if (r->n_pool == 0)
		return lupi__err(LUPI_ESTATE, "no training sample has the "
				 "privileged features the view needs");
	return LUPI_OK;
}

/* q, sigma, the step count, and the model's earlier privacy record. */
static int plan(dp_run *r, const lupi__dp_opts *o)
{
	const lupi_model *m = r->m;
	r->q = o->sample_rate > 0.0 ? o->sample_rate :
		(double)m->opt.batch / (double)r->n_pool;
	if (r->q > 1.0)
		r->q = 1.0;
	r->clip = o->clip;
	r->delta = o->delta;
	double spe = ceil(1.0 / r->q - 1e-9);
	r->steps_per_epoch = spe < 1.0 ? 1 : (uint64_t)spe;
	uint64_t total = (uint64_t)m->opt.epochs * r->steps_per_epoch;
	const lupi__privacy *p = &m->privacy;
	if (p->has && p->kind == LUPI__PRIVACY_PATE)
		return lupi__err(LUPI_ESTATE, "the model holds a PATE "
				 "student's privacy record, which DP-SGD cannot "
				 "continue; lupi_model_init() starts over");
	if (p->has && !lupi__model_privacy_accounted(m))
		return lupi__err(LUPI_ESTATE, "the model was trained or set "
				 "without DP after its private fit: its privacy "
				 "is not accounted; lupi_model_init() starts "
				 "over");
	if (p->has && o->target_epsilon > 0.0)
		return lupi__err(LUPI_ENOTSUP, "the model already holds "
				 "privacy spent: continue at its noise "
				 "multiplier %g with TARGET_EPSILON 0",
				 p->sigma);
	r->prior_steps = p->has ? p->steps : 0;
	if (o->target_epsilon > 0.0)
		LUPI__TRY(lupi_dp_sigma(r->q, total, r->delta,
					o->target_epsilon, &r->sigma));
	else
		r->sigma = o->noise;
	if (p->has && (p->q != r->q || p->sigma != r->sigma ||
		       p->delta != r->delta))
		return lupi__err(LUPI_ESTATE, "the model holds privacy spent "
				 "at q = %g, sigma = %g, delta = %g; a "
				 "further private fit must use the same "
				 "(it asks q = %g, sigma = %g, delta = %g)",
				 p->q, p->sigma, p->delta, r->q, r->sigma,
				 r->delta);
	return LUPI_OK;
}

/* grads = (clipped sum + N(0, sigma^2 C^2)) / (q n) on trainable layers;
 * a layer's bias follows its weights in the parameter layout. */
static void noise_and_scale(dp_run *r)
{
	lupi_model *m = r->m;
	double sd = r->sigma * r->clip;
	float inv = (float)(1.0 / (r->q * (double)r->n_pool));
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		if (ly->frozen)
			continue;
		float *g = m->grads + (ly->w - m->params);
		size_t cnt = ly->in * ly->out + (ly->b ? ly->out : 0);
		/* one pass: (float)(g + sd z) * inv, as adding the noise and
		 * then scaling gave */
		lupi__dp_add_noise_scaled(&r->g, g, cnt, sd, inv);
	}
}

static int private_step(dp_run *r, double *loss)
{
	lupi_model *m = r->m;
	size_t nb = lupi__dp_sample(&r->g, r->q, r->pool, r->n_pool, r->w.idx);
	*loss = NAN;
	if (nb > 0)
		LUPI__TRY(lupi__dp_clipped_sum(m, &r->ob, r->train, r->w.idx,
					       nb, r->clip, &r->w, loss));
	else
		memset(m->grads, 0, m->n_params * sizeof *m->grads);
	noise_and_scale(r);
	/* counted before the update: a failed update is a release too */
	r->steps_done++;
	return lupi__model_update(m);
}

static void record(dp_run *r)
{
	if (r->steps_done == 0)
		return;
	lupi_model *m = r->m;
	lupi__privacy *p = &m->privacy;
	uint64_t steps = r->prior_steps + r->steps_done;
	double eps;
	lupi__dp_epsilon(r->q, r->sigma, steps, r->delta, &eps, NULL);
	*p = (lupi__privacy){.has = 1, .accounted = 1, .epsilon = eps,
			     .delta = r->delta, .q = r->q, .sigma = r->sigma,
			     .clip = r->clip, .steps = steps, .t_mark = m->t,
			     .kind = LUPI__PRIVACY_DPSGD};
}

/* Validation, PATIENCE and RESTORE_BEST as lupi_model_fit has them;
 * returns 1 when training should stop early. */
static int epoch_valid(dp_run *r, unsigned epoch, double *metric)
{
	lupi_model *m = r->m;
	int higher = m->task != LUPI_TASK_REGRESSION;
	int rc = lupi_model_evaluate(m, r->valid, higher ? LUPI_METRIC_ACCURACY
							 : LUPI_METRIC_MSE,
				     metric);
	if (rc < 0)
		return rc;
	double v = *metric;
	if (!r->have_best || (higher ? v > r->best_metric : v < r->best_metric)) {
		r->have_best = 1;
		r->best_metric = v;
		r->best_epoch = epoch;
		if (r->best)
			memcpy(r->best, m->params, m->n_params * sizeof *r->best);
		return 0;
	}
	return m->opt.patience > 0 &&
	       (int64_t)(epoch - r->best_epoch) >= m->opt.patience;
}

static int run_epochs(dp_run *r, lupi_progress_fn progress, void *user)
{
	lupi_model *m = r->m;
	for (int64_t e = 0; e < m->opt.epochs; e++) {
		m->epoch = (unsigned)e;
		/* The training loss is computed on the private data and is
		 * not covered by the guarantee: progress reports NaN. */
		lupi_progress p = {.size = sizeof(lupi_progress)};
		p.epoch = (unsigned)e + 1;
		p.epochs = (unsigned)m->opt.epochs;
		p.steps_per_epoch = (size_t)r->steps_per_epoch;
		p.loss = NAN;
		p.valid_metric = NAN;
		for (uint64_t s = 0; s < r->steps_per_epoch; s++) {
			double l;
			LUPI__TRY(private_step(r, &l));
			p.step++;
			if (progress && m->opt.progress_steps > 0 &&
			    s + 1 < r->steps_per_epoch &&
			    p.step % (uint64_t)m->opt.progress_steps == 0 &&
			    progress(user, &p))
				return lupi__err(LUPI_ECANCELLED, "training "
						 "cancelled by the progress "
						 "callback in epoch %u",
						 p.epoch);
		}
		p.epoch_end = 1;
		int stop = 0;
		if (r->valid) {
			stop = epoch_valid(r, (unsigned)e, &p.valid_metric);
			if (stop < 0)
				return stop;
		}
		if (progress && progress(user, &p))
			return lupi__err(LUPI_ECANCELLED, "training cancelled "
					 "by the progress callback in epoch "
					 "%u", p.epoch);
		if (stop)
			break;
	}
	return LUPI_OK;
}

static int fit_checks(lupi_model *m, const lupi_dp *dp,
		      const lupi_dataset *train, const lupi_dataset *valid)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(dp);
	LUPI__CHECK_NULL(train);
	LUPI__TRY(lupi__model_check_dataset(m, train, 1));
	if (valid)
		LUPI__TRY(lupi__model_check_dataset(m, valid, 1));
	return refuse_unaccountable(m, train);
}

static int run(dp_run *r, const lupi_dp *dp, lupi_progress_fn progress,
	       void *user)
{
	lupi_model *m = r->m;
	LUPI__TRY(list_pool(r));
	LUPI__TRY(plan(r, &dp->opt));
	LUPI__TRY(lupi__model_prepare(m, r->train));
	LUPI__TRY(lupi__dp_rng_init(&r->g, dp->opt.seed));
	if (r->valid && m->opt.restore_best) {
		r->best = lupi__malloc_array(m->n_params, sizeof *r->best);
		if (r->best == NULL)
			return lupi__err(LUPI_ENOMEM, "cannot allocate a copy "
					 "of %zu parameters", m->n_params);
	}
	int rc = run_epochs(r, progress, user);
	if ((rc == LUPI_OK || rc == LUPI_ECANCELLED ||
	     rc == LUPI_ENONFINITE) && r->have_best) {
		memcpy(m->params, r->best, m->n_params * sizeof *m->params);
		lupi__model_touch(m);
	}
	/* whatever stopped the run, the steps taken are spent */
	record(r);
	return rc;
}

static void run_free(dp_run *r)
{
	lupi__free(r->pool);
	lupi__free(r->best);
	lupi__dp_work_free(&r->w);
	lupi__combine_free(&r->ob.comb);
	lupi_loss_free(r->ob.loss);
	/* the generator's state must not outlive the fit */
	memset(&r->g, 0, sizeof r->g);
}

int lupi_model_fit_dp(lupi_model *m, const lupi_dp *dp,
		      const lupi_dataset *train, const lupi_dataset *valid,
		      lupi_progress_fn progress, void *user)
{
	LUPI__TRY(fit_checks(m, dp, train, valid));
	dp_run r = {.m = m, .train = train, .valid = valid};
	int rc = run(&r, dp, progress, user);
	run_free(&r);
	return rc;
}

/* ---- students ------------------------------------------------------------ */

static int student_objective(const lupi_model *s, const lupi_teacher *t,
			     const lupi_loss *loss, const lupi_dataset *train,
			     lupi__dp_objective *ob, float **own_t,
			     uint8_t **own_has)
{
	ob->teacher = t;
	if (t == NULL && loss == NULL)
		return LUPI_OK; /* the label loss */
	if (loss != NULL && lupi__loss_needs_features(loss))
		return lupi__err(LUPI_ENOTSUP, "feature losses couple the "
				 "samples of a batch (or learn parameters "
				 "without DP): a private fit takes output "
				 "losses only");
	if (loss != NULL)
		LUPI__TRY(lupi__loss_copy(loss, &ob->loss));
	else
		LUPI__TRY(lupi_loss_create(s->task == LUPI_TASK_REGRESSION ?
					   LUPI_LOSS_REGRESSION : LUPI_LOSS_KD,
					   &ob->loss));
	/* one row's value is its own loss, whatever the batch */
	ob->loss->normalize = LUPI_NORMALIZE_COUNT;
	if (t == NULL || !lupi__loss_needs_teacher_outputs(ob->loss))
		return LUPI_OK;
	if (t->n_members == 0)
		return lupi__err(LUPI_ESTATE, "teacher has no members");
	if (t->k != s->n_out)
		return lupi__err(LUPI_ESHAPE, "student has %zu outputs, teacher "
				 "%zu", s->n_out, t->k);
	if ((t->task == LUPI_TASK_REGRESSION) !=
	    (s->task == LUPI_TASK_REGRESSION))
		return lupi__err(LUPI_ESHAPE, "student and teacher tasks differ "
				 "(regression and classification)");
	LUPI__TRY(lupi__teacher_check(t, train));
	if (lupi__teacher_cached(t, train))
		return LUPI_OK;
	*own_t = lupi__malloc_array(train->n, t->k * sizeof(float));
	*own_has = lupi__malloc(train->n);
	if (*own_t == NULL || *own_has == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (teacher outputs "
				 "of %zu samples)", train->n);
	LUPI__TRY(lupi__teacher_all(t, train, *own_t, *own_has));
	ob->t_all = *own_t;
	ob->has_all = *own_has;
	return LUPI_OK;
}

int lupi_student_fit_dp(lupi_model *student, const lupi_teacher *teacher,
			const lupi_loss *loss, const lupi_dp *dp,
			const lupi_dataset *train, const lupi_dataset *valid,
			lupi_progress_fn progress, void *user)
{
	LUPI__TRY(fit_checks(student, dp, train, valid));
	dp_run r = {.m = student, .train = train, .valid = valid};
	float *own_t = NULL;
	uint8_t *own_has = NULL;
	int rc = student_objective(student, teacher, loss, train, &r.ob,
				   &own_t, &own_has);
	if (rc == LUPI_OK)
		rc = run(&r, dp, progress, user);
	run_free(&r);
	lupi__free(own_t);
	lupi__free(own_has);
	return rc;
}

/* ---- the record ---------------------------------------------------------- */

int lupi_model_privacy(const lupi_model *m, double *epsilon, double *delta,
		       uint64_t *steps, double *q, double *sigma)
{
	LUPI__CHECK_NULL(m);
	const lupi__privacy *p = &m->privacy;
	if (!p->has)
		return lupi__err(LUPI_ESTATE, "the model holds no privacy "
				 "record: no private fit trained it");
	if (delta)
		*delta = p->delta;
	if (steps)
		*steps = p->steps;
	if (q)
		*q = p->q;
	if (sigma)
		*sigma = p->sigma;
	int ok = lupi__model_privacy_accounted(m);
	if (epsilon)
		*epsilon = ok ? p->epsilon : INFINITY;
	if (!ok)
		return lupi__err(LUPI_ESTATE, "the model was trained or its "
				 "parameters set without DP after its private "
				 "fit: epsilon %g does not cover it (reported "
				 "as infinity)", p->epsilon);
	return LUPI_OK;
}
