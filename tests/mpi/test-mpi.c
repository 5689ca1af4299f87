/* liblupi-mpi under mpirun -np 1 and -np 2 (suite 'mpi'): the reduction,
 * shards, the broadcast initial model, a data-parallel fit against a
 * single-process fit on the same global batches (shards unshuffled, and
 * shares of every batch shuffled), and parallel teacher
 * outputs against serial ones. Uses the installed headers' API only.
 * Every rank checks; the exit status is non-zero when any rank failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lupi_mpi.h"

static int failures;
static int rank_, size_;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "rank %d: %s:%d: ", rank_, __FILE__,  \
				__LINE__);                                    \
			fprintf(stderr, __VA_ARGS__);                         \
			fprintf(stderr, " [%s | %s]\n", lupi_mpi_errmsg(),    \
				lupi_errmsg());                               \
			failures++;                                           \
		}                                                             \
	} while (0)

#define N 96 /* divisible by 1, 2, 3, 4: no sample left out */
#define D 8
#define DP 4
#define K 3

/* A deterministic classification set on every rank: features in [-1, 1]
 * (|x| <= 1 is used by the tolerance below). */
static lupi_dataset *make_data(void)
{
	static float x[N * D], xp[N * DP];
	static int32_t y[N];
	uint64_t s = 12345;
	for (size_t i = 0; i < N; i++) {
		double acc[K] = {0};
		for (size_t j = 0; j < D; j++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			x[i * D + j] = (float)((double)(s >> 11) /
					       9007199254740992.0 * 2.0 - 1.0);
			acc[j % K] += x[i * D + j];
		}
		for (size_t j = 0; j < DP; j++)
			xp[i * DP + j] = x[i * D + j] + 0.5f * x[i * D + D - 1 - j];
		int32_t best = 0;
		for (int c = 1; c < K; c++)
			if (acc[c] > acc[best])
				best = c;
		y[i] = best;
	}
	lupi_dataset *ds = NULL;
	if (lupi_dataset_create(N, D, x, &ds) != LUPI_OK ||
	    lupi_dataset_set_privileged(ds, DP, xp, NULL) != LUPI_OK ||
	    lupi_dataset_set_labels(ds, K, y) != LUPI_OK)
		abort();
	return ds;
}

static lupi_model *make_model(int64_t batch)
{
	lupi_model *m = NULL;
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, D, NULL, 0, K, &m) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER, LUPI_OPTIM_SGD) ||
	    lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, batch) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_SHUFFLE, 0) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 7) ||
	    lupi_model_init(m))
		abort();
	return m;
}

static void test_reduce(lupi_mpi *c)
{
	float buf[5];
	for (int i = 0; i < 5; i++)
		buf[i] = (float)(rank_ + 1) * (float)(i + 1);
	CHECK(lupi_mpi_reduce(c, buf, 5) == LUPI_OK, "reduce");
	/* the mean of (r + 1) (i + 1) over r = 0..size-1: (size + 1) / 2
	 * (i + 1), exact in float for these small integers and halves */
	for (int i = 0; i < 5; i++)
		CHECK(buf[i] == (float)(size_ + 1) / 2.0f * (float)(i + 1),
		      "reduce: entry %d is %g", i, (double)buf[i]);
	CHECK(lupi_mpi_reduce(NULL, buf, 5) == LUPI_EINVAL, "reduce NULL");
	uint64_t calls = 0, floats = 0;
	CHECK(lupi_mpi_stats(c, &calls, &floats, NULL) == LUPI_OK &&
	      calls == 1 && floats == 5, "stats %llu %llu",
	      (unsigned long long)calls, (unsigned long long)floats);
}

static void test_shard(lupi_mpi *c, const lupi_dataset *ds)
{
	lupi_dataset *sh = NULL;
	CHECK(lupi_mpi_shard(c, ds, &sh) == LUPI_OK, "shard");
	if (sh == NULL)
		return;
	size_t per = N / (size_t)size_;
	CHECK(lupi_dataset_rows(sh) == per, "shard rows %zu",
	      lupi_dataset_rows(sh));
	const float *a = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	const float *b = lupi_dataset_features(sh, LUPI_VIEW_REGULAR);
	for (size_t j = 0; j < per; j++)
		CHECK(memcmp(b + j * D, a + (j * size_ + rank_) * D,
			     D * sizeof *a) == 0, "shard row %zu", j);
	lupi_dataset_free(sh);
}

static void test_bcast(lupi_mpi *c)
{
	lupi_model *m = make_model(8);
	size_t np = lupi_model_num_params(m);
	float *p = malloc(np * sizeof *p), *root = malloc(np * sizeof *p);
	lupi_model_get_params(m, root, np);
	/* every other rank starts somewhere else */
	for (size_t i = 0; i < np; i++)
		p[i] = root[i] + (float)rank_;
	lupi_model_set_params(m, p, np);
	float mean[D], sd[D];
	for (int j = 0; j < D; j++) {
		mean[j] = (float)(rank_ == 0 ? j : -1);
		sd[j] = 2.0f;
	}
	if (rank_ == 0)
		lupi_model_set_standardizer(m, mean, sd);
	CHECK(lupi_mpi_bcast_model(c, m, 0) == LUPI_OK, "bcast");
	lupi_model_get_params(m, p, np);
	CHECK(memcmp(p, root, np * sizeof *p) == 0, "bcast params differ");
	float gm[D], gs[D];
	CHECK(lupi_model_get_standardizer(m, gm, gs) == LUPI_OK &&
	      gm[D - 1] == (float)(D - 1), "bcast standardizer");
	CHECK(lupi_mpi_bcast_model(c, m, size_) == LUPI_EINVAL, "bad root");
	free(p);
	free(root);
	lupi_model_free(m);
}

/* The parallel model m against the single-process ref: the same bits at
 * one rank (the same operations), within tol otherwise; and every rank
 * holds the same bits. unit names a rank's part in messages ("rank",
 * "share"), label the printed line. */
static void check_parallel_fit(const lupi_model *ref, const lupi_model *m,
			       double tol, const char *unit, const char *label)
{
	size_t np = lupi_model_num_params(m);
	float *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b);
	lupi_model_get_params(ref, a, np);
	lupi_model_get_params(m, b, np);
	double worst = 0.0;
	for (size_t i = 0; i < np; i++)
		worst = fmax(worst, fabs((double)a[i] - b[i]));
	if (size_ == 1)
		CHECK(memcmp(a, b, np * sizeof *a) == 0,
		      "one %s differs from a plain fit by %g", unit, worst);
	else
		CHECK(worst <= tol, "%ss differ by %g > tolerance %g", unit,
		      worst, tol);
	if (rank_ == 0)
		printf("%s: max |difference| %g, tolerance %g\n", label,
		       worst, tol);
	float *r0 = malloc(np * sizeof *r0);
	memcpy(r0, b, np * sizeof *b);
	MPI_Bcast(r0, (int)np, MPI_FLOAT, 0, MPI_COMM_WORLD);
	CHECK(memcmp(r0, b, np * sizeof *b) == 0, "ranks hold different "
	      "models");
	free(r0);
	free(a);
	free(b);
}

/* A fit on the shards with a per-rank batch B / size against a single
 * process fit with batch B: the same global batches (lupi_mpi_shard deals
 * round-robin, SHUFFLE 0), so the same model up to float summation order.
 *
 * Tolerance. Softmax regression (no hidden layer), |x| <= 1, SGD, T steps
 * of learning rate lr. A gradient entry is the mean over the B samples of
 * delta_k x_j with |delta_k| <= 1; computed as one float sum of B terms
 * (one process) or two sums of B/2 and their sum (two ranks), each is
 * within (B - 1) u of the exact mean (u = 2^-24, Higham, "Accuracy and
 * Stability", 4.2), so the two differ by at most 2 B u per step; the
 * logits (sums of D + 1 terms of size <= |w|+|b|, which stay below 1 here)
 * add D u. A parameter difference dp feeds back into the next gradient
 * through the Hessian, whose norm is at most |x|^2 / 2 <= (D + 1) / 2 =: L,
 * so after T steps |dp| <= (1 + lr L)^T * T * lr * (2 B + D) u. */
static void test_global_batch(lupi_mpi *c, const lupi_dataset *ds)
{
	const int64_t B = 16;
	lupi_model *ref = make_model(B);
	CHECK(lupi_model_fit(ref, ds, NULL, NULL, NULL) == LUPI_OK, "ref fit");
	lupi_dataset *sh = NULL;
	CHECK(lupi_mpi_shard(c, ds, &sh) == LUPI_OK, "shard");
	lupi_model *m = make_model(B / size_);
	CHECK(lupi_mpi_bcast_model(c, m, 0) == LUPI_OK, "bcast");
	CHECK(lupi_mpi_attach(c, m) == LUPI_OK, "attach");
	uint64_t calls0 = 0, calls1 = 0;
	lupi_mpi_stats(c, &calls0, NULL, NULL);
	CHECK(lupi_model_fit(m, sh, NULL, NULL, NULL) == LUPI_OK, "mpi fit");
	lupi_mpi_stats(c, &calls1, NULL, NULL);
	const double T = 3.0 * N / (double)B, lr = 0.05;
	CHECK(calls1 - calls0 == (uint64_t)T, "%llu reductions for %g steps",
	      (unsigned long long)(calls1 - calls0), T);
	double u = ldexp(1.0, -24), L = (D + 1) / 2.0;
	check_parallel_fit(ref, m,
			   pow(1.0 + lr * L, T) * T * lr * (2.0 * B + D) * u,
			   "rank", "global batch");
	lupi_model_free(m);
	lupi_model_free(ref);
	lupi_dataset_free(sh);
}

/* Shares of every batch (lupi_model_set_share), shuffled: every rank
 * holds the whole set, draws the permutations of one process and steps on
 * its part of each batch of B = 19 (parts of 9 and 10 at two ranks,
 * weighted; the last batch of an epoch, 96 = 5 x 19 + 1, is one sample,
 * and rank 0's part of it is empty). The model of one process within the
 * tolerance of test_global_batch, with 2 u more per step for the weights
 * (the weight and the product rounded): (2 B + 2 + D) u. */
static void test_shares(lupi_mpi *c, const lupi_dataset *ds)
{
	const int64_t B = 19;
	lupi_model *ref = make_model(B), *m = make_model(B);
	CHECK(lupi_model_set_int(ref, LUPI_MODEL_OPT_SHUFFLE, 1) == LUPI_OK &&
	      lupi_model_set_int(m, LUPI_MODEL_OPT_SHUFFLE, 1) == LUPI_OK,
	      "shuffle");
	CHECK(lupi_model_fit(ref, ds, NULL, NULL, NULL) == LUPI_OK, "ref fit");
	CHECK(lupi_mpi_bcast_model(c, m, 0) == LUPI_OK, "bcast");
	CHECK(lupi_model_set_share(m, (unsigned)rank_, (unsigned)size_) ==
	      LUPI_OK, "share");
	CHECK(lupi_mpi_attach(c, m) == LUPI_OK, "attach");
	uint64_t calls0 = 0, calls1 = 0;
	lupi_mpi_stats(c, &calls0, NULL, NULL);
	CHECK(lupi_model_fit(m, ds, NULL, NULL, NULL) == LUPI_OK, "share fit");
	lupi_mpi_stats(c, &calls1, NULL, NULL);
	const double T = 3.0 * 6, lr = 0.05; /* 3 epochs of 6 batches */
	CHECK(calls1 - calls0 == (uint64_t)T, "%llu reductions for %g steps",
	      (unsigned long long)(calls1 - calls0), T);
	double u = ldexp(1.0, -24), L = (D + 1) / 2.0;
	check_parallel_fit(ref, m,
			   pow(1.0 + lr * L, T) * T * lr * (2.0 * B + 2 + D) * u,
			   "share", "shares, shuffled");
	lupi_model_free(m);
	lupi_model_free(ref);
}

/* A student step calls the hook too. */
static void test_student(lupi_mpi *c, const lupi_dataset *ds,
			 const lupi_teacher *t)
{
	lupi_model *s = make_model(8);
	CHECK(lupi_mpi_attach(c, s) == LUPI_OK, "attach");
	uint64_t c0 = 0, c1 = 0;
	lupi_mpi_stats(c, &c0, NULL, NULL);
	size_t idx[4] = {0, 1, 2, 3};
	double loss;
	CHECK(lupi_student_step(s, t, NULL, ds, idx, 4, &loss) == LUPI_OK,
	      "student step");
	lupi_mpi_stats(c, &c1, NULL, NULL);
	CHECK(c1 == c0 + 1, "a student step made %llu reductions",
	      (unsigned long long)(c1 - c0));
	lupi_model_free(s);
}

static void test_teacher(lupi_mpi *c, const lupi_dataset *ds)
{
	lupi_model *tm = NULL;
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, (size_t[]){16}, 1,
			      K, &tm) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 2) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_SEED, 3))
		abort();
	CHECK(lupi_model_fit(tm, ds, NULL, NULL, NULL) == LUPI_OK, "teacher");
	lupi_teacher *t = NULL;
	if (lupi_teacher_create(&t) || lupi_teacher_add_model(t, tm, 1.0))
		abort();
	static float serial[N * K], par[N * K];
	static uint8_t hs[N], hp[N];
	size_t idx[N];
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
	CHECK(lupi_teacher_outputs(t, ds, idx, N, serial, hs) == LUPI_OK,
	      "serial outputs");
	memset(par, 0, sizeof par);
	CHECK(lupi_mpi_teacher_outputs(c, t, ds, par, hp) == LUPI_OK,
	      "parallel outputs");
	CHECK(memcmp(serial, par, sizeof par) == 0 &&
	      memcmp(hs, hp, sizeof hs) == 0,
	      "parallel teacher outputs differ from the serial ones");
	test_student(c, ds, t);
	lupi_teacher_free(t);
	lupi_model_free(tm);
}

/* Root's dataset on every rank, the same bits; a root without one fails
 * every rank. */
static void test_bcast_dataset(lupi_mpi *c, const lupi_dataset *ds)
{
	lupi_dataset *got = NULL;
	CHECK(lupi_mpi_bcast_dataset(c, rank_ == 0 ? ds : NULL, 0, &got) ==
	      LUPI_OK, "bcast dataset");
	if (got != NULL) {
		CHECK(lupi_dataset_rows(got) == N &&
		      lupi_dataset_task(got) == LUPI_TASK_CLASSIFICATION &&
		      lupi_dataset_outputs(got) == K, "bcast dataset shape");
		CHECK(memcmp(lupi_dataset_features(got, LUPI_VIEW_PRIVILEGED),
			     lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED),
			     N * DP * sizeof(float)) == 0 &&
		      memcmp(lupi_dataset_labels(got), lupi_dataset_labels(ds),
			     N * sizeof(int32_t)) == 0, "bcast dataset bits");
	}
	lupi_dataset_free(got);
	got = (lupi_dataset *)1;
	CHECK(lupi_mpi_bcast_dataset(c, NULL, 0, &got) == LUPI_ESTATE &&
	      got == NULL, "bcast of no dataset");
}

/* ds with X* absent for every 5th sample: cross-fitting skips them. */
static lupi_dataset *with_mask(const lupi_dataset *ds)
{
	static uint8_t mask[N];
	for (size_t i = 0; i < N; i++)
		mask[i] = i % 5 != 2;
	lupi_dataset *m = NULL;
	if (lupi_dataset_create(N, D, lupi_dataset_features(ds,
			LUPI_VIEW_REGULAR), &m) ||
	    lupi_dataset_set_privileged(m, DP, lupi_dataset_features(ds,
			LUPI_VIEW_PRIVILEGED), mask) ||
	    lupi_dataset_set_labels(m, K, lupi_dataset_labels(ds)))
		abort();
	return m;
}

static lupi_model *small_teacher(void)
{
	lupi_model *tm = NULL;
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, DP, (size_t[]){8}, 1,
			      K, &tm) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_EPOCHS, 2) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_BATCH, 16) ||
	    lupi_model_set_int(tm, LUPI_MODEL_OPT_SEED, 5))
		abort();
	return tm;
}

/* The parallel cross-fitted teacher's outputs are the serial one's, bit
 * for bit, with 3 folds (two ranks: 2 + 1 folds) and with 2. */
static void test_crossfit(lupi_mpi *c, const lupi_dataset *ds0)
{
	lupi_dataset *ds = with_mask(ds0);
	lupi_model *proto = small_teacher();
	static float zs[N * K], zp[N * K];
	static uint8_t hs[N], hp[N];
	size_t idx[N];
	for (size_t i = 0; i < N; i++)
		idx[i] = i;
	for (unsigned folds = 2; folds <= 3; folds++) {
		lupi_teacher *ts = NULL, *tp = NULL;
		CHECK(lupi_teacher_create_crossfit(proto, ds, folds, 9, &ts) ==
		      LUPI_OK, "serial cross-fit");
		CHECK(lupi_mpi_teacher_crossfit(c, proto, ds, folds, 9, &tp) ==
		      LUPI_OK, "parallel cross-fit");
		if (ts == NULL || tp == NULL)
			break;
		memset(zp, 0xff, sizeof zp);
		CHECK(lupi_teacher_outputs(ts, ds, idx, N, zs, hs) == LUPI_OK &&
		      lupi_teacher_outputs(tp, ds, idx, N, zp, hp) == LUPI_OK,
		      "cross-fit outputs");
		CHECK(memcmp(zs, zp, sizeof zs) == 0 &&
		      memcmp(hs, hp, sizeof hs) == 0,
		      "%u folds: the parallel cross-fit differs from the serial "
		      "one", folds);
		size_t absent = 0;
		for (size_t i = 0; i < N; i++)
			absent += !hp[i];
		CHECK(absent == N / 5 + (N % 5 > 2), "%zu samples without a "
		      "cross-fitted output", absent);
		lupi_teacher_free(ts);
		lupi_teacher_free(tp);
	}
	lupi_teacher *t = (lupi_teacher *)1;
	CHECK(lupi_mpi_teacher_crossfit(c, proto, ds, 1, 9, &t) == LUPI_ERANGE &&
	      t == NULL, "1 fold");
	lupi_model_free(proto);
	lupi_dataset_free(ds);
}

static lupi_compare *make_compare(void)
{
	lupi_model *tm = small_teacher(), *sm = NULL;
	lupi_compare *cmp = NULL;
	static const double lambdas[2] = {0.3, 0.7}, temps[2] = {1, 2};
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, D, NULL, 0, K, &sm) ||
	    lupi_model_set_int(sm, LUPI_MODEL_OPT_EPOCHS, 2) ||
	    lupi_model_set_int(sm, LUPI_MODEL_OPT_BATCH, 16) ||
	    lupi_compare_create(tm, sm, &cmp) ||
	    lupi_compare_set_grid(cmp, lambdas, 2, temps, 2) ||
	    lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS, 2) ||
	    lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_SEED, 4))
		abort();
	lupi_model_free(tm);
	lupi_model_free(sm);
	return cmp;
}

/* Every value of a table against the serial one's, bit for bit. */
static void same_table(const lupi_compare *a, const lupi_compare *b,
		       const char *what)
{
	size_t rows = lupi_compare_rows(a);
	CHECK(rows == 7 && lupi_compare_rows(b) == rows &&
	      lupi_compare_repeats(b) == 2, "%s: table shape", what);
	for (size_t row = 0; row < rows; row++)
		for (unsigned r = 0; r < 2; r++) {
			double va = 0, vb = 1;
			CHECK(lupi_compare_value(a, row, r, &va) == LUPI_OK &&
			      lupi_compare_value(b, row, r, &vb) == LUPI_OK &&
			      memcmp(&va, &vb, sizeof va) == 0,
			      "%s: row %zu, repetition %u: %.17g, serial %.17g",
			      what, row, r, vb, va);
		}
}

/* Comparison cells shared by ranks (and, on each rank, by 3 shares run
 * one after the other) give the serial table. */
static void test_compare(lupi_mpi *c, const lupi_dataset *ds)
{
	lupi_compare *serial = make_compare(), *par = make_compare();
	CHECK(lupi_compare_run(serial, ds, ds, NULL, NULL) == LUPI_OK,
	      "serial comparison");
	CHECK(lupi_mpi_compare_run(c, par, ds, ds, NULL, NULL) == LUPI_OK,
	      "parallel comparison");
	same_table(serial, par, "ranks");
	/* 12 cells in 3 shares of 4: share 1 has the distilled cells of
	   repetition 0 and none of its teacher and hard student */
	lupi_compare *merged = make_compare(), *part = make_compare();
	for (unsigned i = 0; i < 3; i++) {
		CHECK(lupi_compare_set_share(part, i, 3) == LUPI_OK, "share");
		CHECK(lupi_compare_run(part, ds, ds, NULL, NULL) == LUPI_OK,
		      "share %u", i);
		if (i == 0)
			lupi_compare_run(merged, ds, ds, NULL, NULL);
		for (size_t row = 1; row < 7; row++)
			for (unsigned r = 0; r < 2; r++) {
				size_t cell = r * 6 + row - 1;
				double v = 0;
				lupi_compare_value(part, row, r, &v);
				if (cell / 4 == i)
					lupi_compare_set_value(merged, row, r,
							       v);
				else
					CHECK(isnan(v), "share %u, cell %zu "
					      "is %g, not NaN", i, cell, v);
			}
	}
	same_table(serial, merged, "shares");
	CHECK(lupi_compare_set_share(part, 3, 3) == LUPI_ERANGE, "share 3/3");
	lupi_compare_free(merged);
	lupi_compare_free(part);
	lupi_compare_free(serial);
	lupi_compare_free(par);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
	MPI_Comm_size(MPI_COMM_WORLD, &size_);
	lupi_mpi *c = NULL;
	CHECK(lupi_mpi_create(MPI_COMM_WORLD, &c) == LUPI_OK, "create");
	CHECK(lupi_mpi_rank(c) == rank_ && lupi_mpi_size(c) == size_, "rank");
	lupi_dataset *ds = make_data();
	test_reduce(c);
	test_shard(c, ds);
	test_bcast(c);
	test_global_batch(c, ds);
	test_shares(c, ds);
	test_teacher(c, ds);
	test_bcast_dataset(c, ds);
	test_crossfit(c, ds);
	test_compare(c, ds);
	lupi_dataset_free(ds);
	lupi_mpi_free(c);
	int total = 0;
	MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
	if (rank_ == 0)
		printf("%d ranks: %s\n", size_, total ? "FAILED" : "ok");
	MPI_Finalize();
	return total != 0;
}
