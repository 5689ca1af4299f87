/* Internal API of lib/privacy, shared by its files and the tests. Not
 * installed. One section per method family of the folder (doc/privacy.md):
 * differentially private training (dp.c) and its accountant
 * (accountant.c) now; PATE, unlearning and membership inference get their
 * own files and sections below. */
#ifndef LUPI_PRIVACY_INTERNAL_H
#define LUPI_PRIVACY_INTERNAL_H

#include "../train/train_internal.h"

/* ==== Differential privacy: DP-SGD (dp.c) ================================ */

/* Options of a DP configuration, read and written through
 * lupi__dp_options. */
typedef struct lupi__dp_opts {
	uint64_t seed;         /* 0: from the operating system */
	double noise, clip, sample_rate, delta, target_epsilon;
} lupi__dp_opts;

struct lupi_dp {
	lupi__dp_opts opt;
};

extern const lupi__option_table lupi__dp_options;

/* The generator of the noise and of the Poisson sampling: xoshiro256**
 * with all 256 bits of state from getrandom(), or from a seed (tests).
 * rng is the master stream (sampling, lupi__dp_normal); the bulk noise of
 * lupi__dp_add_noise_scaled draws from LUPI__DP_LANES lanes and a slow
 * stream, all jumps of the master (doc/privacy.md, "The noise generator,
 * honestly"). */
#define LUPI__ZIG_LAYERS 256
#define LUPI__DP_LANES 8
typedef struct lupi__dp_rng {
	lupi__rng rng;
	/* The bulk noise's streams, word c of lane j in lane[c][j]: at
	 * lupi__dp_rng_init lane j is the master state advanced by j calls
	 * of xoshiro256's jump (j 2^128 draws). Lane 0 IS rng: its column
	 * here is a copy while bulk noise is drawn (lupi__dp_add_noise_scaled,
	 * lupi__dp_bulk_normals) only. */
	uint64_t lane[4][LUPI__DP_LANES];
	/* The further draws that finish the bulk noise's draws failing the
	 * ziggurat's fast test, in element order: 8 jumps after the master
	 * state. */
	lupi__rng slow;
	/* Ziggurat tables (dp.c): layer edges x[0..256] and f(x) = e^(-x^2/2) */
	double zx[LUPI__ZIG_LAYERS + 1], zf[LUPI__ZIG_LAYERS + 1];
	/* zx[i], zx[i + 1] side by side: one load per layer in the vector
	 * kernels */
	double zpair[LUPI__ZIG_LAYERS][2];
} lupi__dp_rng;

/* Seeds g from the OS when seed is 0 (LUPI_EIO when the OS gives no
 * randomness), else from seed. */
int lupi__dp_rng_init(lupi__dp_rng *g, uint64_t seed);
/* A standard normal: the ziggurat method on 64-bit draws (53 bits for the
 * value, 8 independent bits for the layer). */
double lupi__dp_normal(lupi__dp_rng *g);
/* x[i] = (float)(x[i] + stddev * z_i) * scale for i < n, in one pass.
 * z_i is the ziggurat of lupi__dp_normal (the same tables and tests) on
 * one draw b from lane i % LUPI__DP_LANES: u x_j when b passes the fast
 * test, else finished with further draws from g->slow. Every kernel
 * gives the same bits. */
void lupi__dp_add_noise_scaled(lupi__dp_rng *g, float *x, size_t n,
			       double stddev, float scale);
/* The normals z_0 .. z_(n-1) that lupi__dp_add_noise_scaled would add,
 * into z (tests: every bit of them, not only what a float keeps). */
void lupi__dp_bulk_normals(lupi__dp_rng *g, double *z, size_t n);
/* The kernel of lupi__dp_add_noise_scaled from now on (tests): which, or
 * the best the CPU has when which is -1 or beyond it; returns the one
 * chosen. */
#define LUPI__DP_NOISE_PORTABLE 0
#define LUPI__DP_NOISE_AVX2 1
#define LUPI__DP_NOISE_AVX512 2
int lupi__dp_noise_kernel(int which);
/* Poisson sampling: each of pool[0..n) independently with probability q
 * (by geometric gaps), in pool order, into out; returns the count. */
size_t lupi__dp_sample(lupi__dp_rng *g, double q, const size_t *pool,
		       size_t n, size_t *out);

/* Buffers of private steps, grown to the largest batch seen. */
typedef struct lupi__dp_work {
	size_t cap;        /* rows */
	size_t *idx;       /* the pool's size (set once) */
	float *dsample;    /* cap x outputs */
	float *scratch;    /* lupi__model_clip_scratch(m, cap) */
	double *norms;     /* cap */
	float *t;          /* cap x outputs: teacher logits of the batch */
	uint8_t *has;      /* cap */
} lupi__dp_work;

void lupi__dp_work_free(lupi__dp_work *w);
int lupi__dp_work_reserve(lupi__dp_work *w, const lupi_model *m, size_t n);

/* What a private step differentiates: the model's label loss (teacher
 * NULL, loss NULL), or a student's output loss with a teacher's outputs
 * (loss normalised by COUNT, so that one row's value is its own loss). */
typedef struct lupi__dp_objective {
	const lupi_teacher *teacher;
	lupi_loss *loss;        /* owned copy, NULL for the label loss */
	const float *t_all;     /* teacher outputs of every training sample
	                           (n x k), or NULL to read the teacher */
	const uint8_t *has_all;
	lupi__combine comb;
} lupi__dp_objective;

/* Forward on rows idx[0..n) of ds, each row's own loss gradient, and the
 * clipped sum into m->grads (lupi__model_backward_clipped); the mean loss
 * of the rows into *loss and each row's gradient norm into w->norms. The
 * model is prepared. n > 0. */
int lupi__dp_clipped_sum(lupi_model *m, lupi__dp_objective *ob,
			 const lupi_dataset *ds, const size_t *idx, size_t n,
			 double clip, lupi__dp_work *w, double *loss);

/* ==== Differential privacy: the RDP accountant (accountant.c) ============ */

/* The orders alpha the accountant minimises over, into orders[0..cap);
 * returns how many there are. */
size_t lupi__dp_orders(double *orders, size_t cap);
/* log(e^a + e^b), -inf standing for log 0. */
double lupi__log_add(double a, double b);
/* log erfc(x), also where erfc(x) underflows (an asymptotic series). */
double lupi__dp_log_erfc(double x);
/* RDP of order alpha of one step of the sampled Gaussian mechanism. */
double lupi__dp_rdp(double q, double sigma, double alpha);
/* lupi_dp_epsilon without the argument checks; *order (may be NULL) gets
 * the alpha of the minimum. */
int lupi__dp_epsilon(double q, double sigma, uint64_t steps, double delta,
		     double *eps, double *order);

/* ==== PATE (pate.c) ======================================================= */

/* The shards of a dataset are lupi__crossfit_folds(ds, LUPI_VIEW_REGULAR,
 * k, seed, shard_of): disjoint, sizes differing by at most one. */
/* The progress of a run of several fits (teachers, SISA stages, shadow
 * models, unlearning passes), given to each fit as its callback with
 * itself as user: each report is forwarded to fn (may be NULL) with
 * epoch = done + the fit's epoch and epochs = total (the run's planned
 * epochs), and the steps of each finished epoch are added to *steps (may
 * be NULL). After each fit (or a pass of steps outside one) the caller
 * adds its planned epochs to done (lupi__run_next). fn's non-zero return
 * is returned, so the fit stops with LUPI_ECANCELLED. */
typedef struct lupi__run {
	lupi_progress_fn fn;
	void *user;
	unsigned done, total;
	uint64_t *steps;
} lupi__run;
int lupi__run_progress(void *user, const lupi_progress *p);
void lupi__run_next(lupi__run *r, int64_t epochs);
/* A report of step `step` of `of` of a pass outside a fit (one epoch of
 * the run; epoch_end when step == of): LUPI_ECANCELLED, with a message,
 * when fn asks to stop. */
int lupi__run_step(lupi__run *r, size_t step, size_t of, double loss);
/* Trains a clone of proto (untrained; its options apply, SEED set to seed)
 * on the samples of ds whose shard_of is shard into *out, reporting to
 * run (may be NULL) and adding its planned epochs to run->done. */
int lupi__privacy_train_shard(const lupi_model *proto, const lupi_dataset *ds,
			      const size_t *shard_of, size_t shard,
			      uint64_t seed, lupi_model **out, lupi__run *run);
/* Refuses a regression prototype (LUPI_ENOTSUP), a trained one or a
 * dataset without its task's labels (LUPI_ESTATE). */
int lupi__privacy_check_proto(const lupi_model *proto, const lupi_dataset *ds);
/* The rows of ds that a model with the given view reads (n x dim): a
 * borrowed pointer, or a malloc'd concatenation in *owned (freed by the
 * caller) for LUPI_VIEW_BOTH. LUPI_ESHAPE unless the view has n_in
 * columns; LUPI_ESTATE when a sample lacks X*. */
int lupi__privacy_rows(const lupi_dataset *ds, int view, size_t n_in,
		       const float **rows, float **owned);
/* Logits of m on every sample of ds into out (rows x outputs), through
 * lupi__privacy_rows (and its checks). */
int lupi__privacy_logits(const lupi_model *m, const lupi_dataset *ds,
			 float *out);
/* RDP of order alpha of one data-independent PATE query (mechanism
 * LUPI_PATE_*): GNMax alpha / sigma^2 (a Gaussian mechanism of L2
 * sensitivity sqrt 2, lupi__dp_rdp at q = 1 and sigma / sqrt 2); the
 * confident check alpha / (2 sigma1^2); Laplace noisy max with scale b,
 * 2/b-DP, min(2/b, alpha (2/b)^2 / 2). */
double lupi__pate_rdp(int mechanism, double noise, double alpha);
double lupi__pate_check_rdp(double sigma1, double alpha);
/* The data-dependent analysis of GNMax (Papernot et al. 2018, Sec. 4 and
 * App. A; pate.c). lupi__pate_logq: log of the union bound of Prop. 7 on
 * the probability that GNMax with sigma does not return the plurality of
 * the k counts v (the first largest), sum over c != i* of P(N(0, 2
 * sigma^2) > v[i*] - v[c]), capped at log(1 - 1/k). lupi__pate_rdp_dd:
 * Theorem 6 for a Gaussian noisy max of data-independent RDP alpha /
 * sigma^2 given log q~ (an upper bound on the probability of any outcome
 * but the likely one): the data-dependent RDP of order alpha, or the
 * data-independent alpha / sigma^2 where the theorem's conditions (mu1 >
 * alpha, mu2 > 1, q~ in the increasing range) fail; never above it.
 * lupi__pate_check_rdp_dd: the confident check (the threshold mechanism,
 * sensitivity 1) with its exact log q = log min(P(answer), P(no answer)),
 * the top count being top. */
double lupi__pate_logq(const uint32_t *v, size_t k, double sigma);
double lupi__pate_rdp_dd(double logq, double sigma, double alpha);
double lupi__pate_check_rdp_dd(double top, double threshold, double sigma1,
			       double alpha);
/* A Laplace(0, b) variate from the privacy generator. */
double lupi__dp_laplace(lupi__dp_rng *g, double b);


/* ==== Unlearning (unlearn.c) ============================================== */

/* Seconds of a monotonic clock (costs reported by unlearning). */
double lupi__privacy_seconds(void);


/* ==== Membership inference (audit.c) ====================================== */

/* Each sample's loss under m into loss[0..n) (classification: -log p(y);
 * binary: the logistic loss; regression: 1/2 |f - y|^2). */
int lupi__sample_losses(const lupi_model *m, const lupi_dataset *ds,
			double *loss);


#endif
