/* Checkpoints of a fit (lupi_model_set_checkpoint, lupi_model_resume):
 * a fit stopped mid-epoch by its progress callback and resumed from the
 * checkpoint ends with the bits of an uninterrupted fit; damaged and
 * mismatched checkpoints are refused. And the gradient reduction hook
 * (lupi_model_set_reduce): called once per step between backward and
 * update, its output is what the update applies, absent it nothing
 * changes. And shares of every batch (lupi_model_set_share): two workers
 * in two threads train the model of one process, with its generator. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train_internal.h"
#include "testutil.h"

#define NS 100
#define NV 30

/* n samples, 4 regular and 2 privileged features, 3 classes, a label that
 * depends on the features. */
static lupi_dataset *data(size_t n, uint64_t seed)
{
	float x[4 * NS], xs[2 * NS];
	int32_t y[NS];
	ck_assert_uint_le(n, NS);
	lupi__rng r;
	lupi__rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < 4; j++)
			x[i * 4 + j] = (float)lupi__rng_normal(&r);
		xs[i * 2] = x[i * 4] + x[i * 4 + 1];
		xs[i * 2 + 1] = (float)lupi__rng_normal(&r);
		double v = xs[i * 2] + 0.3 * x[i * 4 + 2];
		y[i] = v < -0.5 ? 0 : v < 0.5 ? 1 : 2;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 4, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xs, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	return ds;
}

/* Everything that carries state across steps is on: Adam moments,
 * shuffling, dropout, standardisation, a cosine schedule, RESTORE_BEST. */
static lupi_model *model(uint64_t seed)
{
	lupi_model *m = NULL;
	size_t hidden[1] = {8};
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 4, hidden,
					   1, 3, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED,
					    (int64_t)seed), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 10),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SCHEDULE,
					    LUPI_SCHEDULE_COSINE), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_DROPOUT, 0.2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_PROGRESS_STEPS, 1),
			 LUPI_OK);
	return m;
}

struct stopper {
	uint64_t steps;   /* steps seen */
	uint64_t stop_at; /* cancel after this many (0: never) */
	double losses[64];
	size_t n_losses;
};

static int progress(void *user, const lupi_progress *p)
{
	struct stopper *s = user;
	if (p->epoch_end) {
		if (s->n_losses < 64)
			s->losses[s->n_losses++] = p->loss;
		return 0;
	}
	s->steps++;
	return s->stop_at && s->steps == s->stop_at;
}

static void params_of(const lupi_model *m, float *p)
{
	ck_assert_int_eq(lupi_model_get_params(m, p, lupi_model_num_params(m)),
			 LUPI_OK);
}

static int fit(lupi_model *m, const lupi_teacher *t, const lupi_dataset *tr,
	       const lupi_dataset *va, struct stopper *s)
{
	if (t)
		return lupi_student_fit(m, t, NULL, tr, va, progress, s);
	return lupi_model_fit(m, tr, va, progress, s);
}

/* Uninterrupted; stopped after stop_at steps with a checkpoint every k;
 * resumed into a model of another seed. Same bits, same epoch losses. */
static void kill_and_resume(const lupi_teacher *t, uint64_t k,
			    uint64_t stop_at)
{
	char *dir = lupi_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/fit.ckpt", dir);
	lupi_dataset *tr = data(NS, 1), *va = data(NV, 2);

	lupi_model *a = model(9);
	struct stopper sa = {0};
	ck_assert_int_eq(fit(a, t, tr, va, &sa), LUPI_OK);

	lupi_model *b = model(9);
	ck_assert_int_eq(lupi_model_set_checkpoint(b, path, k), LUPI_OK);
	struct stopper sb = {.stop_at = stop_at};
	ck_assert_int_eq(fit(b, t, tr, va, &sb), LUPI_ECANCELLED);
	lupi_model_free(b);

	lupi_model *c = model(123);
	ck_assert_int_eq(lupi_model_resume(c, path), LUPI_OK);
	int64_t seed;
	ck_assert_int_eq(lupi_model_get_int(c, LUPI_MODEL_OPT_SEED, &seed),
			 LUPI_OK);
	ck_assert_int_eq(seed, 9); /* the options come from the checkpoint */
	struct stopper sc = {0};
	ck_assert_int_eq(fit(c, t, tr, va, &sc), LUPI_OK);

	size_t np = lupi_model_num_params(a);
	float *pa = malloc(np * sizeof *pa), *pc = malloc(np * sizeof *pc);
	params_of(a, pa);
	params_of(c, pc);
	ck_assert_int_eq(memcmp(pa, pc, np * sizeof *pa), 0);
	/* the epochs the resumed fit ran report the same losses: the loss of
	 * the interrupted epoch includes its steps before the checkpoint */
	/* the callback sees 9 of the 10 steps of an epoch (not the last) */
	uint64_t at = stop_at + (stop_at - 1) / 9, saved = at / k * k;
	size_t done = (size_t)(saved / 10); /* epochs whose steps are done */
	ck_assert_uint_eq(sc.n_losses,
			  sa.n_losses - done + (saved % 10 == 0 && done > 0));
	for (size_t i = 0; i < sc.n_losses; i++)
		ck_assert(sc.losses[sc.n_losses - 1 - i] ==
			  sa.losses[sa.n_losses - 1 - i]);
	/* and the optimiser continues identically: one more step each */
	size_t idx[3] = {4, 5, 6};
	ck_assert_int_eq(lupi_model_step(a, tr, idx, 3, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(c, tr, idx, 3, NULL), LUPI_OK);
	params_of(a, pa);
	params_of(c, pc);
	ck_assert_int_eq(memcmp(pa, pc, np * sizeof *pa), 0);
	free(pa);
	free(pc);
	lupi_model_free(a);
	lupi_model_free(c);
	lupi_dataset_free(tr);
	lupi_dataset_free(va);
	lupi_test_rmdir(dir);
}

START_TEST(resume_mid_epoch)
{
	kill_and_resume(NULL, 4, 17); /* saved after step 16: epoch 2, step 6 */
}
END_TEST

START_TEST(resume_at_epoch_end)
{
	kill_and_resume(NULL, 10, 13); /* saved after step 10: epoch 1's
					  steps done, its validation not */
}
END_TEST

START_TEST(resume_student)
{
	lupi_dataset *tr = data(NS, 1);
	lupi_model *tm = NULL;
	size_t hidden[1] = {6};
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 2, hidden,
					   1, 3, &tm), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(tm, LUPI_MODEL_OPT_VIEW,
					    LUPI_VIEW_PRIVILEGED), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(tm, tr, NULL, NULL, NULL), LUPI_OK);
	lupi_teacher *t = NULL;
	ck_assert_int_eq(lupi_teacher_create(&t), LUPI_OK);
	ck_assert_int_eq(lupi_teacher_add_model(t, tm, 1.0), LUPI_OK);
	kill_and_resume(t, 5, 11); /* saved after step 10 */
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_dataset_free(tr);
}
END_TEST

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(*len);
	ck_assert_uint_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

START_TEST(refused)
{
	char *dir = lupi_test_tmpdir();
	char path[512];
	snprintf(path, sizeof path, "%s/fit.ckpt", dir);
	lupi_dataset *tr = data(NS, 1);
	lupi_model *a = model(9);
	ck_assert_int_eq(lupi_model_set_checkpoint(NULL, path, 1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_checkpoint(a, "", 1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_checkpoint(a, path, 7), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(a, tr, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_resume(NULL, path), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_resume(a, NULL), LUPI_EINVAL);

	size_t len;
	unsigned char *good = slurp(path, &len);
	size_t np = lupi_model_num_params(a);
	float *before = malloc(np * sizeof *before),
	      *after = malloc(np * sizeof *after);
	lupi_model *c = model(5);
	ck_assert_int_eq(lupi_model_init(c), LUPI_OK);
	params_of(c, before);
	/* a flipped byte anywhere: the checksum, or the magic */
	good[len / 2] ^= 1;
	char *bad = lupi_test_write(dir, "bad.ckpt", good, len);
	ck_assert_int_eq(lupi_model_resume(c, bad), LUPI_ECHECKSUM);
	good[len / 2] ^= 1;
	free(bad);
	bad = lupi_test_write(dir, "short.ckpt", good, len - 9);
	ck_assert_int_eq(lupi_model_resume(c, bad), LUPI_EFORMAT);
	free(bad);
	bad = lupi_test_write(dir, "model.ckpt", "\x89LUPI\r\n\x1a\n", 9);
	ck_assert_int_eq(lupi_model_resume(c, bad), LUPI_EFORMAT);
	free(bad);
	ck_assert_int_eq(lupi_model_resume(c, "/nonexistent/x.ckpt"),
			 LUPI_EIO);
	params_of(c, after);
	ck_assert_int_eq(memcmp(before, after, np * sizeof *after), 0);

	/* another shape */
	lupi_model *w = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 4, NULL, 0,
					   3, &w), LUPI_OK);
	ck_assert_int_eq(lupi_model_resume(w, path), LUPI_ESHAPE);
	lupi_model_free(w);

	/* another training set: the fit refuses, and may then be retried */
	ck_assert_int_eq(lupi_model_resume(c, path), LUPI_OK);
	lupi_dataset *other = data(NS - 1, 1);
	ck_assert_int_eq(lupi_model_fit(c, other, NULL, NULL, NULL),
			 LUPI_ESHAPE);
	ck_assert_int_eq(lupi_model_fit(c, tr, NULL, NULL, NULL), LUPI_OK);
	lupi_dataset_free(other);

	/* a resume left unused is freed with the model */
	ck_assert_int_eq(lupi_model_resume(c, path), LUPI_OK);
	free(good);
	free(before);
	free(after);
	lupi_model_free(c);
	lupi_model_free(a);
	lupi_dataset_free(tr);
	lupi_test_rmdir(dir);
}
END_TEST

/* ---- the reduction hook ------------------------------------------------ */

struct hook {
	int calls;
	float scale;
	int fail;
	size_t n;
};

static int hook_fn(void *user, float *buf, size_t n)
{
	struct hook *h = user;
	h->calls++;
	h->n = n;
	if (h->fail)
		return LUPI_EIO;
	for (size_t i = 0; i < n; i++)
		buf[i] *= h->scale;
	return 0;
}

static lupi_model *sgd(double lr)
{
	lupi_model *m = NULL;
	size_t hidden[1] = {5};
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, 4, hidden,
					   1, 3, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, lr),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 25),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2),
			 LUPI_OK);
	return m;
}

START_TEST(reduce_hook)
{
	lupi_dataset *tr = data(NS, 1);
	size_t np;
	/* the identity: bit-identical to no hook, one call per step */
	lupi_model *a = sgd(0.1), *b = sgd(0.1);
	struct hook h = {.scale = 1.0f};
	ck_assert_int_eq(lupi_model_set_reduce(NULL, hook_fn, &h), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_reduce(b, hook_fn, &h), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(a, tr, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(b, tr, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(h.calls, 8);
	np = lupi_model_num_params(a);
	ck_assert_uint_eq(h.n, np);
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
	params_of(a, pa);
	params_of(b, pb);
	ck_assert_int_eq(memcmp(pa, pb, np * sizeof *pa), 0);
	lupi_model_free(a);
	lupi_model_free(b);

	/* what the hook returns is what plain SGD applies: halving every
	 * gradient is halving the learning rate (both exact scalings) */
	a = sgd(0.05);
	b = sgd(0.1);
	h = (struct hook){.scale = 0.5f};
	ck_assert_int_eq(lupi_model_set_reduce(b, hook_fn, &h), LUPI_OK);
	size_t idx[4] = {0, 1, 2, 3};
	ck_assert_int_eq(lupi_model_step(a, tr, idx, 4, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(b, tr, idx, 4, NULL), LUPI_OK);
	params_of(a, pa);
	params_of(b, pb);
	for (size_t i = 0; i < np; i++)
		ck_assert_float_eq_tol(pa[i], pb[i], 1e-7f);

	/* gradients without an update do not reduce */
	float *g = malloc(np * sizeof *g);
	ck_assert_int_eq(lupi_model_gradient(b, tr, idx, 4, NULL, g, np),
			 LUPI_OK);
	ck_assert_int_eq(h.calls, 1);

	/* a failing hook fails the step, which changes nothing */
	h.fail = 1;
	params_of(b, pa);
	ck_assert_int_eq(lupi_model_step(b, tr, idx, 4, NULL), LUPI_EIO);
	params_of(b, pb);
	ck_assert_int_eq(memcmp(pa, pb, np * sizeof *pa), 0);
	/* removed: no call */
	ck_assert_int_eq(lupi_model_set_reduce(b, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_step(b, tr, idx, 4, NULL), LUPI_OK);
	ck_assert_int_eq(h.calls, 2);
	free(g);
	free(pa);
	free(pb);
	lupi_model_free(a);
	lupi_model_free(b);
	lupi_dataset_free(tr);
}
END_TEST

/* ---- shares of every batch (lupi_model_set_share) ------------------------ */

/* Two workers in two threads of one process, each with its own model and
 * share, and a hook that averages their gradients as an all-reduce would:
 * both copy theirs in, wait, and compute the same mean. */
typedef struct pool {
	pthread_barrier_t bar;
	float *slot[2];
} pool;

typedef struct worker {
	pool *p;
	unsigned id;
	lupi_model *m;
	const lupi_dataset *ds;
	int rc;
} worker;

static int avg_hook(void *user, float *buf, size_t n)
{
	worker *w = user;
	memcpy(w->p->slot[w->id], buf, n * sizeof *buf);
	pthread_barrier_wait(&w->p->bar);
	for (size_t i = 0; i < n; i++)
		buf[i] = (w->p->slot[0][i] + w->p->slot[1][i]) * 0.5f;
	pthread_barrier_wait(&w->p->bar);
	return 0;
}

static void *work(void *arg)
{
	worker *w = arg;
	w->rc = lupi_model_fit(w->m, w->ds, NULL, NULL, NULL);
	return NULL;
}

#define SD 6 /* features in [-1, 1]: the tolerance below needs |x| <= 1 */
static lupi_dataset *unit_data(void)
{
	float x[SD * NS];
	int32_t y[NS];
	lupi__rng r;
	lupi__rng_seed(&r, 5);
	for (size_t i = 0; i < NS; i++) {
		double v = 0.0;
		for (size_t j = 0; j < SD; j++) {
			x[i * SD + j] = (float)(2.0 * lupi__rng_uniform(&r) - 1);
			v += (j % 2 ? 1.0 : -0.5) * x[i * SD + j];
		}
		y[i] = v < -0.3 ? 0 : v < 0.3 ? 1 : 2;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(NS, SD, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	return ds;
}

/* SGD, shuffled, no standardisation; hidden units with dropout or none. */
static lupi_model *share_model(size_t hidden, int64_t batch)
{
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, SD,
					   &hidden, hidden ? 1 : 0, 3, &m),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    LUPI_OPTIM_SGD), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.05),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, batch),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 3),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 3),
			 LUPI_OK);
	if (hidden)
		ck_assert_int_eq(lupi_model_set_double(m,
				 LUPI_MODEL_OPT_DROPOUT, 0.3), LUPI_OK);
	return m;
}

/* Fits `ref` alone and two share models in two threads; returns the
 * largest parameter difference between ref and share 0, and checks that
 * both shares hold the same bits and the generator of ref. */
static double fit_shares(lupi_model *ref, lupi_model *m0, lupi_model *m1,
			 const lupi_dataset *ds)
{
	ck_assert_int_eq(lupi_model_fit(ref, ds, NULL, NULL, NULL), LUPI_OK);
	size_t np = lupi_model_num_params(ref);
	pool p;
	p.slot[0] = calloc(np, sizeof(float));
	p.slot[1] = calloc(np, sizeof(float));
	ck_assert_ptr_nonnull(p.slot[0]);
	ck_assert_ptr_nonnull(p.slot[1]);
	ck_assert_int_eq(pthread_barrier_init(&p.bar, NULL, 2), 0);
	worker w[2] = {{&p, 0, m0, ds, -1}, {&p, 1, m1, ds, -1}};
	pthread_t th[2];
	for (unsigned i = 0; i < 2; i++) {
		ck_assert_int_eq(lupi_model_set_share(w[i].m, i, 2), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_reduce(w[i].m, avg_hook, &w[i]),
				 LUPI_OK);
		ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].rc, LUPI_OK);
	}
	pthread_barrier_destroy(&p.bar);
	float *a = p.slot[0], *b = p.slot[1];
	params_of(m0, a);
	params_of(m1, b);
	ck_assert_mem_eq(a, b, np * sizeof *a);
	/* the permutations of one process: its generator, on both */
	ck_assert_mem_eq(&m0->rng, &ref->rng, sizeof ref->rng);
	ck_assert_mem_eq(&m1->rng, &ref->rng, sizeof ref->rng);
	params_of(ref, b);
	double worst = 0.0;
	for (size_t i = 0; i < np; i++)
		worst = fmax(worst, fabs((double)a[i] - b[i]));
	free(a);
	free(b);
	return worst;
}

/* Shuffled, batch 33 of 100 samples: parts of 16 and 17 (weights 32/33
 * and 34/33), and a last batch of 1 sample, whose share 0 is empty. The
 * same model as one process up to float summation order. Tolerance as in
 * tests/mpi/test-mpi.c: softmax regression, |x| <= 1, SGD, T steps of
 * lr; a gradient entry is a mean of B terms |delta x| <= 1, one float sum
 * (one process) or two partial means, weighted (two rounding more) and
 * averaged, each within (B + 1) u of the exact one, so they differ by at
 * most (2 B + 2) u per step, plus D u from the logits (|logit| < 1 here);
 * the Hessian norm is at most (D + 1) / 2 = L, so after T steps
 * |dp| <= (1 + lr L)^T T lr (2 B + 2 + D) u. */
START_TEST(shares_train_the_model_of_one_process)
{
	lupi_dataset *ds = unit_data();
	lupi_model *ref = share_model(0, 33), *m0 = share_model(0, 33),
		   *m1 = share_model(0, 33);
	double worst = fit_shares(ref, m0, m1, ds);
	double u = ldexp(1.0, -24), B = 33, T = 3 * 4, lr = 0.05;
	double L = (SD + 1) / 2.0;
	double tol = pow(1 + lr * L, T) * T * lr * (2 * B + 2 + SD) * u;
	printf("shares: max |difference| %g, tolerance %g\n", worst, tol);
	ck_assert_double_le(worst, tol);
	/* and it can tell other batches apart: unshuffled, the model is
	 * another one */
	lupi_model *ns = share_model(0, 33);
	ck_assert_int_eq(lupi_model_set_int(ns, LUPI_MODEL_OPT_SHUFFLE, 0),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(ns, ds, NULL, NULL, NULL), LUPI_OK);
	size_t np = lupi_model_num_params(ref);
	float *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	params_of(ref, a);
	params_of(ns, b);
	double other = 0.0;
	for (size_t i = 0; i < np; i++)
		other = fmax(other, fabs((double)a[i] - b[i]));
	ck_assert_double_gt(other, tol);
	free(a);
	free(b);
	lupi_model_free(ns);
	lupi_model_free(ref);
	lupi_model_free(m0);
	lupi_model_free(m1);
	lupi_dataset_free(ds);
}
END_TEST

/* With dropout the shares draw the masks of 16 and 17 rows; afterwards
 * the generator stands where one process's does (checked in fit_shares),
 * so the next epochs' permutations are the same. */
START_TEST(shares_keep_the_generator_of_one_process)
{
	lupi_dataset *ds = unit_data();
	lupi_model *ref = share_model(5, 33), *m0 = share_model(5, 33),
		   *m1 = share_model(5, 33);
	(void)fit_shares(ref, m0, m1, ds);
	lupi_model_free(ref);
	lupi_model_free(m0);
	lupi_model_free(m1);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(share_arguments)
{
	lupi_dataset *ds = unit_data();
	lupi_model *m = share_model(0, 10), *ref = share_model(0, 10);
	ck_assert_int_eq(lupi_model_set_share(NULL, 0, 1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_model_set_share(m, 0, 0), LUPI_ERANGE);
	ck_assert_int_eq(lupi_model_set_share(m, 2, 2), LUPI_ERANGE);
	/* a share without a hook: the other shares would be missing */
	ck_assert_int_eq(lupi_model_set_share(m, 1, 2), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_ESTATE);
	ck_assert_ptr_nonnull(strstr(lupi_errmsg(), "share 1 of 2"));
	/* share 0 of 1 is a plain fit, bit for bit */
	ck_assert_int_eq(lupi_model_set_share(m, 0, 1), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(m, ds, NULL, NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_model_fit(ref, ds, NULL, NULL, NULL), LUPI_OK);
	size_t np = lupi_model_num_params(m);
	float *a = malloc(np * sizeof *a), *b = malloc(np * sizeof *b);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	params_of(m, a);
	params_of(ref, b);
	ck_assert_mem_eq(a, b, np * sizeof *a);
	free(a);
	free(b);
	lupi_model_free(m);
	lupi_model_free(ref);
	lupi_dataset_free(ds);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, resume_mid_epoch);
	tcase_add_test(tc, resume_at_epoch_end);
	tcase_add_test(tc, resume_student);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, reduce_hook);
	tcase_add_test(tc, shares_train_the_model_of_one_process);
	tcase_add_test(tc, shares_keep_the_generator_of_one_process);
	tcase_add_test(tc, share_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lupi_test_run(suite());
}
