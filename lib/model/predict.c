/* The prediction pass: every model, every batch size, one summation order.
 *
 * A sample's outputs do not depend on the batch it comes in (teachers
 * compare cross-fitted batch outputs with single-row predictions bit for
 * bit; a cache may store either). So no path here uses GEMM, whose
 * summation order changes with the number of rows and the BLAS kernel:
 * each output is one dot product of a weight row with an input row, summed
 * in a fixed order (DOT ORDER below), for one row or a million. Three
 * implementations of that order give the same bits: a portable one (one
 * row at a time, vector clones) and, on CPUs with AVX-512 F and VL (chosen
 * at run time), one that computes a block of up to BLOCK_ROWS rows x
 * BLOCK_OUTS outputs at once and reduces 4 dot products together, and one
 * for groups of 16 rows of narrow models with a row in each vector lane.
 * Large batches are split into row ranges over the library's threads
 * (lupi__parallel); the partition changes no bit. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "model_internal.h"

/* DOT ORDER. For a weight row w and an input row x of length `in`, with
 * body = in rounded down to a multiple of 16:
 *   acc[j] = sum over i = j, j+16, ... < body of w[i] * x[i], in increasing
 *            i, each product rounded, then added (no fused multiply-add);
 *   acc[j] += acc[j + 8] (j < 8); acc[j] += acc[j + 4] (j < 4);
 *   acc[j] += acc[j + 2] (j < 2); s = acc[0] + acc[1];
 *   s += w[i] * x[i] for i = body .. in-1 in order; y = s + b.
 * (-ffp-contract=off keeps the compiler from fusing.) */
#define LANES 16

/* Rows x outputs of a block of the AVX-512 kernel: 24 accumulators of 16
 * floats, 4 weight vectors, an input vector and a product fit the 32
 * vector registers (8 x 3 spilled and ran at half the speed). BLOCK_OUTS
 * is 3 or 4: one reduce4 per row. */
#define BLOCK_ROWS 6
#define BLOCK_OUTS 4
#define STACK_FLOATS 4096

/* Multiply-adds a part of a batch split over the library's threads has at
 * least (about 30 us of work): below that the hand-off costs more than the
 * second core saves. */
#define PART_MACS (2u << 20)
#define MAX_PARTS 64
/* Rows of a part are a multiple of this: whole groups of 16 rows and
 * whole blocks of 6 (below). */
#define SPLIT_ROWS 48
#define PARTS_PER_THREAD 8

/* ---- the portable kernel ------------------------------------------------ */

/* y = W x + b for one row over the row-major out x in W of a layer. */
LUPI__VEC_CLONES static void matvec(const lupi__layer *ly,
				    const float *restrict x, float *restrict y)
{
	size_t in = ly->in, body = in - in % LANES;
	const float *restrict w = ly->w;
	for (size_t o = 0; o < ly->out; o++, w += in) {
		float acc[LANES] = {0};
		for (size_t i = 0; i < body; i += LANES)
			for (size_t j = 0; j < LANES; j++)
				acc[j] += w[i + j] * x[i + j];
		/* a tree of vector additions, not 16 dependent ones; constant
		 * trip counts, so that each level is straight-line code */
		for (size_t j = 0; j < 8; j++)
			acc[j] += acc[j + 8];
		for (size_t j = 0; j < 4; j++)
			acc[j] += acc[j + 4];
		for (size_t j = 0; j < 2; j++)
			acc[j] += acc[j + 2];
		float s = acc[0] + acc[1];
		for (size_t i = body; i < in; i++)
			s += w[i] * x[i];
		y[o] = ly->b ? s + ly->b[o] : s;
	}
}

/* ---- the AVX-512 kernel ------------------------------------------------- */

/* Chosen at run time (__builtin_cpu_supports), not by an ifunc, so the
 * sanitizer builds run it too. */
#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_AVX512 1
#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx512vl")))
#define INLINE __attribute__((always_inline)) inline

/* The DOT ORDER reduction of four accumulators a[0..3] to their four sums
 * (lane k = a[k]'s), without the tail. Additions are commutative in IEEE
 * arithmetic, so pairing lanes of different vectors in one register changes
 * no bit. */
TGT static INLINE __m128 reduce4(__m512 a0, __m512 a1, __m512 a2, __m512 a3)
{
	/* acc[j] + acc[j+8]: [a0 0-7 | a1 8-15] + [a0 8-15 | a1 0-7] */
	__m512 p = _mm512_add_ps(_mm512_mask_blend_ps(0xFF00, a0, a1),
				 _mm512_shuffle_f32x4(a0, a1, 0x4E));
	__m512 q = _mm512_add_ps(_mm512_mask_blend_ps(0xFF00, a2, a3),
				 _mm512_shuffle_f32x4(a2, a3, 0x4E));
	/* p = [a0' 0-3, a0' 4-7, a1' 0-3, a1' 4-7] in its 128-bit lanes,
	 * likewise q: acc[j] + acc[j+4] adds lanes 0 and 1, 2 and 3 */
	__m512 lo = _mm512_shuffle_f32x4(p, q, 0x88); /* lanes 0,2 | 0,2 */
	__m512 hi = _mm512_shuffle_f32x4(p, q, 0xDD); /* lanes 1,3 | 1,3 */
	__m512 r = _mm512_add_ps(lo, hi); /* one 128-bit lane per vector */
	/* acc[j] + acc[j+2], then acc[0] + acc[1], inside each lane */
	r = _mm512_add_ps(r, _mm512_permute_ps(r, 0x4E));
	r = _mm512_add_ps(r, _mm512_permute_ps(r, 0xB1));
	return _mm512_castps512_ps128(_mm512_permutexvar_ps(
		_mm512_setr_epi32(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				  0),
		r));
}

/* y[r][k] (the k set in keep) of R rows (x, stride ldx; y, stride ldy)
 * for weight rows w[k] (those past the layer's end repeat a valid one and
 * are not stored), plus bias, then ReLU when relu. tail: the weights of
 * columns body.. of these outputs, transposed (tail[t * 4 + k]). */
TGT static INLINE void block(int R, const float *x, size_t ldx,
			     const float *const w[4], size_t in,
			     const float *tail, int has_bias, __m128 bias,
			     __mmask8 keep, int relu, float *y, size_t ldy)
{
	__m512 acc[BLOCK_ROWS][BLOCK_OUTS];
	size_t body = in - in % LANES;
#pragma GCC unroll 8
	for (int r = 0; r < R; r++)
#pragma GCC unroll 4
		for (int k = 0; k < BLOCK_OUTS; k++)
			acc[r][k] = _mm512_setzero_ps();
	for (size_t i = 0; i < body; i += LANES) {
		__m512 wv[BLOCK_OUTS];
#pragma GCC unroll 4
		for (int k = 0; k < BLOCK_OUTS; k++) {
			/* one row streams the weights from the second-level
			 * cache: ask for them 512 bytes ahead (-20 % on the
			 * teacher's single sample; a prefetch past the end of
			 * the weights does not fault) */
			if (R == 1)
				_mm_prefetch((const char *)(w[k] + i + 128),
					     _MM_HINT_T0);
			wv[k] = _mm512_loadu_ps(w[k] + i);
		}
#pragma GCC unroll 8
		for (int r = 0; r < R; r++) {
			__m512 xv = _mm512_loadu_ps(x + (size_t)r * ldx + i);
#pragma GCC unroll 4
			for (int k = 0; k < BLOCK_OUTS; k++)
				acc[r][k] = _mm512_add_ps(
					acc[r][k], _mm512_mul_ps(wv[k], xv));
		}
	}
#pragma GCC unroll 8
	for (int r = 0; r < R; r++) {
		const float *xr = x + (size_t)r * ldx;
		__m128 s = reduce4(acc[r][0], acc[r][1], acc[r][2],
				   acc[r][BLOCK_OUTS - 1]);
		for (size_t i = body; i < in; i++)
			s = _mm_add_ps(s, _mm_mul_ps(
				_mm_loadu_ps(tail + 4 * (i - body)),
				_mm_set1_ps(xr[i])));
		if (has_bias) /* s + 0 would turn a -0 sum into +0 */
			s = _mm_add_ps(s, bias);
		/* ReLU as activate() does it: max(0, s) keeps a NaN and -0 */
		if (relu)
			s = _mm_max_ps(_mm_setzero_ps(), s);
		_mm_mask_storeu_ps(y + (size_t)r * ldy, keep, s);
	}
}

/* ---- the AVX-512 kernel, rows in the lanes ------------------------------ */

/* Rows of a group: one vector holds one value of each of 16 rows. */
#define GROUP_ROWS 16
/* Outputs of a group computed together: they share each input load, and
 * their tree stacks (4 x 4), sums and the input fit the registers. */
#define GROUP_OUTS 4

/* Widest layer input of a model the group kernel takes: its 16 transposed
 * rows (16 KB) stay in the first-level cache while every output block
 * reads them 16 times; wider inputs (the 784-input teacher: 50 KB) ran
 * at 0.6x the block kernel's speed from the second level
 * (lupi_predict_bench, doc/performance.md Round 4). */
#define GROUP_MAX_IN 256

/* yt[o][r] for outputs o.. o+O-1 of a group of 16 rows r, from xt[i][r]
 * (rows of 16 floats, aligned). The same DOT ORDER with one row per lane:
 * acc[j] of a row is a vector (one per j), so the tree is 15 whole-vector
 * additions per 16 rows instead of shuffles per row (in the 6-row kernel
 * the reduction is, by a count of the vector operations, a third of a
 * 49-input layer). The 16 acc[j] are made in
 * the order that lets each level of the tree be added as soon as both its
 * halves exist (j = 4-bit reversal of k), so at most 4 partial sums per
 * output are live. */
TGT static INLINE void group_block(int O, const float *const w[GROUP_OUTS],
				   size_t in, const float *xt,
				   const float *b, int relu, float *yt)
{
	size_t body = in - in % LANES;
	__m512 stack[5][GROUP_OUTS], a[GROUP_OUTS];
#pragma GCC unroll 16
	for (int k = 0; k < LANES; k++) {
		size_t j = (size_t)((k & 1) << 3 | (k & 2) << 1 | (k & 4) >> 1 |
				    (k & 8) >> 3);
		/* acc[j] starts from the first product, not from 0 + it: the
		 * two differ only when every product is -0 (-0, not +0), and
		 * the + 0 after the tree makes that +0 and changes nothing else
		 * (a zero sum of nonzero terms is already +0) */
		size_t i = j;
		if (i < body) {
			__m512 xv = _mm512_load_ps(xt + i * GROUP_ROWS);
#pragma GCC unroll 4
			for (int o = 0; o < O; o++)
				a[o] = _mm512_mul_ps(_mm512_set1_ps(w[o][i]),
						     xv);
		} else {
#pragma GCC unroll 4
			for (int o = 0; o < O; o++)
				a[o] = _mm512_setzero_ps();
		}
		for (i += LANES; i < body; i += LANES) {
			__m512 xv = _mm512_load_ps(xt + i * GROUP_ROWS);
#pragma GCC unroll 4
			for (int o = 0; o < O; o++)
				a[o] = _mm512_add_ps(a[o], _mm512_mul_ps(
					_mm512_set1_ps(w[o][i]), xv));
		}
		/* a binary counter: leaf k closes the levels of its low 1s */
		int lvl = 0;
#pragma GCC unroll 4
		for (int l = 0; l < 4; l++)
			if (lvl == l && (k >> l & 1)) {
#pragma GCC unroll 4
				for (int o = 0; o < O; o++)
					a[o] = _mm512_add_ps(stack[l][o],
							     a[o]);
				lvl = l + 1;
			}
#pragma GCC unroll 4
		for (int o = 0; o < O; o++)
			stack[lvl][o] = a[o];
	}
#pragma GCC unroll 4
	for (int o = 0; o < O; o++) {
		__m512 s = _mm512_add_ps(stack[4][o], _mm512_setzero_ps());
		for (size_t i = body; i < in; i++)
			s = _mm512_add_ps(s, _mm512_mul_ps(
				_mm512_set1_ps(w[o][i]),
				_mm512_load_ps(xt + i * GROUP_ROWS)));
		if (b) /* s + 0 would turn a -0 sum into +0 */
			s = _mm512_add_ps(s, _mm512_set1_ps(b[o]));
		if (relu) /* as activate(): keeps a NaN and -0 */
			s = _mm512_max_ps(_mm512_setzero_ps(), s);
		_mm512_store_ps(yt + (size_t)o * GROUP_ROWS, s);
	}
}

/* One layer for a group: yt (out rows of 16 floats) from xt (in rows).
 * w: the layer's weights, rows of stride ldw. Returns 1 when it applied
 * the activation (ReLU). */
TGT static int group_layer(const lupi__layer *ly, const float *wl,
			   size_t ldw, const float *xt, float *yt)
{
	size_t in = ly->in, out = ly->out;
	int relu = ly->act == LUPI_ACT_RELU;
	for (size_t o = 0; o < out; o += GROUP_OUTS) {
		const float *w[GROUP_OUTS];
		for (size_t k = 0; k < GROUP_OUTS; k++)
			w[k] = wl + (o + k < out ? o + k : o) * ldw;
		const float *b = ly->b ? ly->b + o : NULL;
		float *y = yt + o * GROUP_ROWS;
		switch (out - o < GROUP_OUTS ? out - o : GROUP_OUTS) {
		case 4: group_block(4, w, in, xt, b, relu, y); break;
		case 3: group_block(3, w, in, xt, b, relu, y); break;
		case 2: group_block(2, w, in, xt, b, relu, y); break;
		default: group_block(1, w, in, xt, b, relu, y); break;
		}
	}
	return relu;
}

/* The weights of the tail columns (in % 16 of them) of a layer,
 * transposed in groups of 4 outputs: tail[(o / 4 * nt + t) * 4 + k] is
 * the weight of output o + k (the last one past the end) at column
 * body + t. */
static void tail_pack(const lupi__layer *ly, float *tail)
{
	size_t in = ly->in, out = ly->out, nt = in % LANES, body = in - nt;
	for (size_t o = 0; o < out; o += BLOCK_OUTS)
		for (size_t k = 0; k < 4; k++) {
			size_t oo = k < BLOCK_OUTS && o + k < out ? o + k : o;
			const float *w = ly->w + oo * in + body;
			for (size_t t = 0; t < nt; t++)
				tail[(o / BLOCK_OUTS * nt + t) * 4 + k] = w[t];
		}
}

/* One layer for `rows` rows (x: stride ldx; y: stride ldy) with its
 * bias, and its activation when that is ReLU (returns 1 then). w: the
 * layer's weights, rows of stride ldw (the model's, or an aligned copy);
 * tail: the layer's tail_pack. */
TGT static int layer_avx512(const lupi__layer *ly, const float *wl,
			    size_t ldw, const float *x, size_t ldx,
			    size_t rows, float *y, size_t ldy,
			    const float *tail)
{
	size_t in = ly->in, out = ly->out, nt = in % LANES;
	int relu = ly->act == LUPI_ACT_RELU;
	for (size_t r = 0; r < rows; r += BLOCK_ROWS) {
		int R = rows - r < BLOCK_ROWS ? (int)(rows - r) : BLOCK_ROWS;
		const float *xr = x + r * ldx;
		float *yr = y + r * ldy;
		for (size_t o = 0; o < out; o += BLOCK_OUTS) {
			size_t nk = out - o < BLOCK_OUTS ? out - o : BLOCK_OUTS;
			__mmask8 keep = (__mmask8)((1u << nk) - 1);
			const float *w[4];
			for (size_t k = 0; k < 4; k++)
				w[k] = wl + (o + (k < nk ? k : 0)) * ldw;
			__m128 bias = ly->b ? _mm_maskz_loadu_ps(keep, ly->b + o)
					    : _mm_setzero_ps();
			const float *tl = tail + o / BLOCK_OUTS * nt * 4;
			float *yo = yr + o;
#define BLOCK(n)                                                              \
	block(n, xr, ldx, w, in, tl, ly->b != NULL, bias, keep, relu, yo, ldy)
			switch (R) {
			case 6: BLOCK(6); break;
			case 5: BLOCK(5); break;
			case 4: BLOCK(4); break;
			case 3: BLOCK(3); break;
			case 2: BLOCK(2); break;
			default: BLOCK(1); break;
			}
#undef BLOCK
		}
	}
	return relu;
}

static int cpu_has_avx512(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512vl");
}
#else
static int cpu_has_avx512(void)
{
	return 0;
}
#endif

/* -1: not decided yet; 0: portable kernel; 1: AVX-512 kernel. */
static _Atomic int kernel = -1;

static int use_avx512(void)
{
	return lupi__kernel_once(&kernel, cpu_has_avx512);
}

int lupi__predict_kernel(int which)
{
	int was = use_avx512();
	if (which == 0 || which == 1)
		atomic_store(&kernel, which && cpu_has_avx512());
	return was;
}

/* ---- the pass ----------------------------------------------------------- */

/* Widest hidden layer. */
static size_t widest_hidden(const lupi_model *m)
{
	size_t wh = 0;
	for (size_t l = 0; l + 1 < m->n_layers; l++)
		if (m->layers[l].out > wh)
			wh = m->layers[l].out;
	return wh;
}

/* Floats of layer l's tail_pack. */
static size_t tail_floats(const lupi__layer *ly)
{
	return (ly->out + BLOCK_OUTS - 1) / BLOCK_OUTS * 4 * (ly->in % LANES);
}

/* Row stride of the kernel's own buffers: whole 64-byte lines. */
static size_t padded(size_t width)
{
	return (width + LANES - 1) / LANES * LANES;
}

/* Width of the kernels' hidden and output buffers. */
static size_t widest_out(const lupi_model *m)
{
	size_t wh = widest_hidden(m);
	return padded(wh > m->n_out ? wh : m->n_out);
}

/* Floats of scratch of one thread for blocks or groups of `rows` rows:
 * the input rows (standardised, aligned or transposed) and two blocks of
 * hidden or output rows. Bounded: widths are at most 2^20. */
static size_t thread_scratch(const lupi_model *m, size_t rows)
{
	return rows * (padded(m->n_in) + 2 * widest_out(m));
}

/* What the threads of one call share: per layer the weights the kernel
 * reads (the model's, or a copy with aligned rows) and the packed tail
 * (NULL: the portable kernel). */
struct plan {
	const lupi_model *m;
	lupi__rows_fn finish; /* on each block of logits, or NULL */
	void *ctx;
	const float *w[LUPI__MAX_LAYERS];
	size_t ldw[LUPI__MAX_LAYERS];
	const float *tail[LUPI__MAX_LAYERS];
	int groups; /* rows in groups of 16 (predict_group) */
};

#ifdef HAVE_AVX512
/* 16 rows of x into logits through all layers with the rows in the lanes:
 * the input transposed (and standardised) once, each layer's output a
 * row of 16 floats per unit, the logits transposed back. */
TGT static void predict_group(const struct plan *p, const float *x,
			      float *logits, float *scratch)
{
	const lupi_model *m = p->m;
	size_t wo = widest_out(m), in = m->n_in, k = m->n_out;
	float *h[2] = {scratch, scratch + GROUP_ROWS * wo};
	float *xt = h[1] + GROUP_ROWS * wo;
	for (size_t r = 0; r < GROUP_ROWS; r++) {
		const float *xr = x + r * in;
		if (m->has_std) /* lupi__standardize_copy's arithmetic */
			for (size_t i = 0; i < in; i++)
				xt[i * GROUP_ROWS + r] =
					(xr[i] - m->mean[i]) * m->inv_std[i];
		else
			for (size_t i = 0; i < in; i++)
				xt[i * GROUP_ROWS + r] = xr[i];
	}
	const float *cur = xt;
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		float *o = h[l & 1];
		if (!group_layer(ly, p->w[l], p->ldw[l], cur, o))
			lupi__model_activate(m, ly, o, ly->out * GROUP_ROWS);
		cur = o;
	}
	for (size_t r = 0; r < GROUP_ROWS; r++)
		for (size_t j = 0; j < k; j++)
			logits[r * k + j] = cur[j * GROUP_ROWS + r];
	if (p->finish)
		p->finish(p->ctx, logits, GROUP_ROWS);
}
#endif

/* n rows of x into logits, one block of rows at a time through all layers
 * (the hidden rows stay in the first-level cache). */
static void predict_blocks(const struct plan *p, const float *x, size_t n,
			   float *logits, float *scratch)
{
	const lupi_model *m = p->m;
	size_t wh = padded(widest_hidden(m));
	size_t rows = n < BLOCK_ROWS ? n : BLOCK_ROWS;
	float *h[2] = {scratch, scratch + rows * wh};
	float *xs = h[1] + rows * wh;
	/* the input rows are copied when standardised, or when the kernel
	 * would read them across cache lines */
	size_t ldxs = padded(m->n_in);
	int copy = m->has_std ||
		   (p->tail[0] && n >= BLOCK_ROWS &&
		    ((uintptr_t)x % 64 || m->n_in % LANES));
	for (size_t r = 0; r < n; r += BLOCK_ROWS) {
		size_t nr = n - r < BLOCK_ROWS ? n - r : BLOCK_ROWS;
		const float *in = x + r * m->n_in;
		size_t ldx = m->n_in;
		if (copy) {
			for (size_t i = 0; i < nr; i++)
				if (m->has_std)
					lupi__standardize_copy(
						xs + i * ldxs, in + i * m->n_in,
						m->mean, m->inv_std, m->n_in);
				else
					memcpy(xs + i * ldxs, in + i * m->n_in,
					       m->n_in * sizeof *xs);
			in = xs;
			ldx = ldxs;
		}
		for (size_t l = 0; l < m->n_layers; l++) {
			const lupi__layer *ly = &m->layers[l];
			int last = l + 1 == m->n_layers;
			float *o = last ? logits + r * m->n_out : h[l & 1];
			size_t ldo = last ? m->n_out : wh;
			int done = 0; /* activation applied */
#ifdef HAVE_AVX512
			if (p->tail[l])
				done = layer_avx512(ly, p->w[l], p->ldw[l], in,
						    ldx, nr, o, ldo,
						    p->tail[l]);
			else
#endif
				for (size_t i = 0; i < nr; i++)
					matvec(ly, in + i * ldx, o + i * ldo);
			for (size_t i = 0; i < nr && !done; i++)
				lupi__model_activate(m, ly, o + i * ldo,
						     ly->out);
			in = o;
			ldx = ldo;
		}
		if (p->finish)
			p->finish(p->ctx, logits + r * m->n_out, nr);
	}
}

/* n rows of x into logits: groups of 16 rows with the AVX-512 kernel, the
 * rest in blocks (the same bits either way). */
static void predict_range(const struct plan *p, const float *x, size_t n,
			  float *logits, float *scratch)
{
	size_t r = 0;
#ifdef HAVE_AVX512
	if (p->groups)
		for (; n - r >= GROUP_ROWS; r += GROUP_ROWS)
			predict_group(p, x + r * p->m->n_in,
				      logits + r * p->m->n_out, scratch);
#endif
	if (r < n)
		predict_blocks(p, x + r * p->m->n_in, n - r,
			       logits + r * p->m->n_out, scratch);
}

struct job {
	const struct plan *plan;
	const float *x;
	size_t n;
	float *logits, *scratch;
	size_t per; /* floats of scratch per part */
};

/* Part `part` of the rows, whole blocks (lupi__parallel). */
static void run_part(void *ctx, unsigned part, unsigned parts)
{
	const struct job *j = ctx;
	const lupi_model *m = j->plan->m;
	size_t r0, r1;
	lupi__split(j->n, part, parts, SPLIT_ROWS, &r0, &r1);
	if (r1 > r0)
		predict_range(j->plan, j->x + r0 * m->n_in, r1 - r0,
			      j->logits + r0 * m->n_out,
			      j->scratch + j->per * part);
}

/* Batches of at least this many rows read the weights from a copy with
 * rows aligned to cache lines (when the model's are not): the copy costs
 * about one row's work. */
#define ALIGN_ROWS 64

int lupi__model_predict_logits(const lupi_model *m, const float *x, size_t n,
			       float *logits)
{
	return lupi__model_predict_apply(m, x, n, logits, NULL, NULL);
}

int lupi__model_predict_apply(const lupi_model *m, const float *x, size_t n,
			      float *logits, lupi__rows_fn finish, void *ctx)
{
	size_t macs = 0;
	for (size_t l = 0; l < m->n_layers; l++)
		macs += m->layers[l].in * m->layers[l].out;
	/* parts of whole groups and blocks; the partition changes no bit */
	size_t blocks = (n + SPLIT_ROWS - 1) / SPLIT_ROWS;
	double work = (double)macs * (double)n;
	unsigned nt = lupi__parallel_parts(work, (double)PART_MACS);
	/* a few parts per thread: a worker that wakes late (a batch after
	 * an idle moment took about 0.1 ms longer here) still finds parts
	 * left, where with one part each the caller would run both */
	if (nt > 1) {
		double most = work / (double)PART_MACS;
		nt = (double)nt * PARTS_PER_THREAD < most ?
		     nt * PARTS_PER_THREAD : (unsigned)most;
	}
	nt = nt > MAX_PARTS ? MAX_PARTS : nt;
	nt = nt > blocks ? (unsigned)blocks : nt;
	int fast = use_avx512(), groups = fast && n >= GROUP_ROWS;
	for (size_t l = 0; l < m->n_layers; l++)
		groups = groups && m->layers[l].in <= GROUP_MAX_IN;
	size_t per = thread_scratch(m, groups ? GROUP_ROWS :
				    n < BLOCK_ROWS ? n : BLOCK_ROWS);
	/* the group kernel reads the weights one at a time: no copy */
	int align = fast && n >= ALIGN_ROWS && !groups;
	/* bounded: 64 parts * 6 * 3 * 2^20, 64 layers * 2^20 * 16,
	 * 64 * 2^40 (but n_params fits in memory) */
	size_t need = per * (size_t)nt + LANES;
	for (size_t l = 0; fast && l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		need += tail_floats(ly);
		if (align) /* and the start of the copy on a line */
			need += ly->out * padded(ly->in) + LANES;
	}
	_Alignas(64) float stack[STACK_FLOATS];
	float *raw = stack;
	if (need > STACK_FLOATS) {
		raw = lupi__malloc_array(need, sizeof *raw);
		if (raw == NULL)
			return lupi__err(LUPI_ENOMEM,
					 "cannot allocate %zu floats of "
					 "scratch", need);
	}
	float *scratch = raw + ((64 - (uintptr_t)raw % 64) % 64) / sizeof *raw;
	struct plan plan;
	plan.m = m;
	plan.finish = finish;
	plan.ctx = ctx;
	plan.groups = groups;
	float *next = scratch + per * (size_t)nt;
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		plan.w[l] = ly->w;
		plan.ldw[l] = ly->in;
		plan.tail[l] = NULL;
#ifdef HAVE_AVX512
		if (!fast)
			continue;
		tail_pack(ly, next);
		plan.tail[l] = next;
		next += tail_floats(ly);
		if (align && ((uintptr_t)ly->w % 64 || ly->in % LANES)) {
			/* whole lines, so that the start stays aligned */
			next += ((64 - (uintptr_t)next % 64) % 64) / sizeof *next;
			size_t ld = padded(ly->in);
			for (size_t o = 0; o < ly->out; o++)
				memcpy(next + o * ld, ly->w + o * ly->in,
				       ly->in * sizeof *next);
			plan.w[l] = next;
			plan.ldw[l] = ld;
			next += ly->out * ld;
		}
#endif
	}
	struct job job = {&plan, x, n, logits, scratch, per};
	lupi__parallel(run_part, &job, nt);
	if (raw != stack)
		lupi__free(raw);
	return LUPI_OK;
}

/* The network cut after `layer` is the same network with fewer layers, so
 * the prediction pass serves it unchanged: a shallow copy of the model
 * whose last layer is `layer` (its own activation applies). */
int lupi__model_predict_hidden(const lupi_model *m, size_t layer,
			       const float *x, size_t n, float *hidden)
{
	lupi_model cut = *m;
	cut.n_layers = layer + 1;
	cut.n_out = m->layers[layer].out;
	return lupi__model_predict_logits(&cut, x, n, hidden);
}
