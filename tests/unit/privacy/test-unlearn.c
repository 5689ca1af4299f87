/* Unlearning: RETRAIN is a fresh fit on the retain set (bit for bit);
 * SISA deletion retrains only the shard that held the samples; the
 * distillation methods remove a whole class (its accuracy falls to about
 * chance while the others keep theirs); costs are counted; errors. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "privacy/privacy_internal.h"
#include "testutil.h"

#define K 3
#define D 4

#include "blobs.h"

static lupi_model *mlp(unsigned epochs)
{
	lupi_model *m = NULL;
	size_t h = 16;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_CLASSIFICATION, D, &h, 1,
					   K, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 5),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 0.01),
			 LUPI_OK);
	return m;
}

static float *params_of(const lupi_model *m)
{
	size_t np = lupi_model_num_params(m);
	float *p = malloc(np * sizeof *p);
	ck_assert_int_eq(lupi_model_get_params(m, p, np), LUPI_OK);
	return p;
}

START_TEST(retrain_is_a_fresh_fit_on_the_retain_set)
{
	lupi_dataset *train = blobs(300, 1);
	lupi_model *m = mlp(5);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	size_t forget[30], retain[270], nr = 0;
	for (size_t i = 0; i < 30; i++)
		forget[i] = 10 * i + 3;
	for (size_t i = 0; i < 300; i++)
		if (i % 10 != 3)
			retain[nr++] = i;
	lupi_model *u = NULL;
	uint64_t steps = 0;
	double sec = -1;
	ck_assert_int_eq(lupi_unlearn(m, train, forget, 30,
				      LUPI_UNLEARN_RETRAIN, 0, &u, &steps,
				      &sec, NULL, NULL), LUPI_OK);
	/* 5 epochs of ceil(270 / 32) = 9 steps */
	ck_assert_uint_eq(steps, 45);
	ck_assert(sec >= 0);
	lupi_dataset *rs = NULL;
	ck_assert_int_eq(lupi_dataset_subset(train, retain, nr, &rs), LUPI_OK);
	lupi_model *ref = mlp(5);
	ck_assert_int_eq(lupi_model_fit(ref, rs, NULL, NULL, NULL), LUPI_OK);
	float *a = params_of(u), *b = params_of(ref);
	ck_assert_mem_eq(a, b, lupi_model_num_params(u) * sizeof *a);
	free(a);
	free(b);
	lupi_model_free(ref);
	lupi_dataset_free(rs);
	lupi_model_free(u);
	lupi_model_free(m);
	lupi_dataset_free(train);
}
END_TEST

START_TEST(sisa_deletion_retrains_only_its_shard)
{
	lupi_dataset *train = blobs(200, 2);
	lupi_model *proto = mlp(3);
	lupi_sisa *s = NULL;
	ck_assert_int_eq(lupi_sisa_create(proto, train, 4, 9, &s,
					  NULL, NULL), LUPI_OK);
	ck_assert_uint_eq(lupi_sisa_shards(s), 4);
	float *before[4];
	const lupi_model *mb[4];
	for (unsigned i = 0; i < 4; i++) {
		mb[i] = lupi_sisa_model(s, i);
		ck_assert_ptr_nonnull(mb[i]);
		before[i] = params_of(mb[i]);
	}
	/* three samples of sample 0's shard; each shard holds 50 */
	unsigned target = 0, sh = 0;
	ck_assert_int_eq(lupi_sisa_shard_of(s, 0, &target), LUPI_OK);
	size_t del[3], nd = 0, held = 0;
	for (size_t i = 0; i < 200; i++) {
		ck_assert_int_eq(lupi_sisa_shard_of(s, i, &sh), LUPI_OK);
		held += sh == target;
		if (sh == target && nd < 3)
			del[nd++] = i;
	}
	ck_assert_uint_eq(held, 50);
	uint64_t steps = 0;
	ck_assert_int_eq(lupi_sisa_forget(s, del, 3, &steps, NULL,
					  NULL, NULL), LUPI_OK);
	/* one shard of 47 samples, 3 epochs of ceil(47 / 32) = 2 steps */
	ck_assert_uint_eq(steps, 6);
	size_t np = lupi_model_num_params(proto);
	for (unsigned i = 0; i < 4; i++) {
		float *after = params_of(lupi_sisa_model(s, i));
		if (i == target)
			ck_assert(memcmp(after, before[i], np * sizeof *after));
		else
			ck_assert_mem_eq(after, before[i], np * sizeof *after);
		free(after);
		free(before[i]);
	}
	/* forgetting them again retrains nothing */
	steps = 99;
	ck_assert_int_eq(lupi_sisa_forget(s, del, 3, &steps, NULL,
					  NULL, NULL), LUPI_OK);
	ck_assert_uint_eq(steps, 0);
	/* the ensemble still classifies; its probabilities sum to 1 */
	float p[10 * K];
	ck_assert_int_eq(lupi_sisa_predict(s, lupi_dataset_features(train, 0),
					   10, D, p), LUPI_OK);
	for (size_t i = 0; i < 10; i++)
		ck_assert(fabs(p[i * K] + p[i * K + 1] + p[i * K + 2] - 1) <
			  1e-5);
	/* errors */
	size_t bad = 200;
	ck_assert_int_eq(lupi_sisa_forget(s, &bad, 1, NULL, NULL, NULL, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_sisa_shard_of(s, 200, &sh), LUPI_ERANGE);
	ck_assert_ptr_null(lupi_sisa_model(s, 4));
	lupi_sisa *s2 = NULL;
	ck_assert_int_eq(lupi_sisa_create(proto, train, 0, 9, &s2, NULL, NULL),
			 LUPI_ERANGE);
	lupi_sisa_free(s);
	lupi_sisa_free(NULL);
	lupi_model_free(proto);
	lupi_dataset_free(train);
}
END_TEST

/* Trains shard `shard` of a sliced SISA ensemble by hand, as the header
 * describes it: seed + shard, then stage r = 0..R-1 on the shard's samples
 * of slices 0..r, increasing index order, without `skip` (SIZE_MAX: none),
 * for ceil(2 E / (R + 1)) epochs each. */
static float *by_hand(const lupi_sisa *s, const lupi_model *proto,
		      const lupi_dataset *train, unsigned shard, unsigned R,
		      uint64_t seed, size_t skip, int64_t stage_epochs)
{
	size_t n = lupi_dataset_rows(train), *idx = malloc(n * sizeof *idx);
	lupi_model *m = NULL;
	ck_assert_int_eq(lupi_model_clone(proto, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED,
					    (int64_t)(seed + shard)), LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS,
					    stage_epochs), LUPI_OK);
	for (unsigned r = 0; r < R; r++) {
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned sh, sl;
			ck_assert_int_eq(lupi_sisa_shard_of(s, i, &sh),
					 LUPI_OK);
			ck_assert_int_eq(lupi_sisa_slice_of(s, i, &sl),
					 LUPI_OK);
			if (sh == shard && sl <= r && i != skip)
				idx[cnt++] = i;
		}
		lupi_dataset *sub = NULL;
		ck_assert_int_eq(lupi_dataset_subset(train, idx, cnt, &sub),
				 LUPI_OK);
		ck_assert_int_eq(lupi_model_fit(m, sub, NULL, NULL, NULL),
				 LUPI_OK);
		lupi_dataset_free(sub);
	}
	float *p = params_of(m);
	lupi_model_free(m);
	free(idx);
	return p;
}

START_TEST(sisa_slices_resume_from_their_checkpoint)
{
	enum { N = 240, SH = 2, R = 4 };
	lupi_dataset *train = blobs(N, 2);
	lupi_model *proto = mlp(8); /* stages of ceil(16 / 5) = 4 epochs */
	lupi_sisa *s = NULL, *s2 = NULL;
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, SH, R, 9, &s,
						 NULL, NULL),
			 LUPI_OK);
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, SH, R, 9, &s2,
						 NULL, NULL),
			 LUPI_OK);
	/* the slices follow the documented rule: the j-th of the shard's
	 * m = 120 samples (increasing index) is in slice floor(4 j / m) */
	size_t pos[SH] = {0}, first = SIZE_MAX, last = SIZE_MAX;
	for (size_t i = 0; i < N; i++) {
		unsigned sh, sl;
		ck_assert_int_eq(lupi_sisa_shard_of(s, i, &sh), LUPI_OK);
		ck_assert_int_eq(lupi_sisa_slice_of(s, i, &sl), LUPI_OK);
		ck_assert_uint_eq(sl, pos[sh]++ * R / (N / SH));
		if (sh == 0 && sl == 0 && first == SIZE_MAX)
			first = i;
		if (sh == 0 && sl == R - 1)
			last = i;
	}
	ck_assert_uint_eq(pos[0], N / SH);
	size_t np = lupi_model_num_params(proto);
	float *other = params_of(lupi_sisa_model(s, 1));
	uint64_t st = 0, used = 0, scratch = 0;
	ck_assert_int_eq(lupi_sisa_last_cost(s, &used, &scratch), LUPI_OK);
	ck_assert(used == 0 && scratch == 0);

	/* a sample of the last slice: only the last stage reruns, 4 epochs
	 * of ceil(119 / 32) = 4 steps; from scratch the stages of 30, 60,
	 * 90 and 119 samples take 4 x (1 + 2 + 3 + 4) = 40 */
	ck_assert_int_eq(lupi_sisa_forget(s, &last, 1, &st, NULL,
					  NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_sisa_last_cost(s, &used, &scratch), LUPI_OK);
	ck_assert_uint_eq(st, 16);
	ck_assert_uint_eq(used, 16);
	ck_assert_uint_eq(scratch, 40);
	/* a sample of the first slice: everything reruns (29, 59, 89, 119
	 * samples: 40 steps) */
	uint64_t st2 = 0;
	ck_assert_int_eq(lupi_sisa_forget(s2, &first, 1, &st2, NULL,
					  NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_sisa_last_cost(s2, &used, &scratch), LUPI_OK);
	ck_assert_uint_eq(st2, 40);
	ck_assert_uint_eq(scratch, 40);
	ck_assert_uint_lt(st, st2);

	/* both equal the shard trained from scratch without the sample,
	 * bit for bit; the other shard is untouched */
	float *h1 = by_hand(s, proto, train, 0, R, 9, last, 4);
	float *h2 = by_hand(s2, proto, train, 0, R, 9, first, 4);
	float *p1 = params_of(lupi_sisa_model(s, 0));
	float *p2 = params_of(lupi_sisa_model(s2, 0));
	float *o1 = params_of(lupi_sisa_model(s, 1));
	ck_assert_mem_eq(p1, h1, np * sizeof *p1);
	ck_assert_mem_eq(p2, h2, np * sizeof *p2);
	ck_assert_mem_eq(o1, other, np * sizeof *o1);
	ck_assert(memcmp(p1, p2, np * sizeof *p1));
	/* the deletion is real: with the sample the result differs */
	float *with = by_hand(s, proto, train, 0, R, 9, SIZE_MAX, 4);
	ck_assert(memcmp(p1, with, np * sizeof *p1));

	/* two more of shard 0, in slices 1 and 3: resumes at stage 1 (the
	 * stages of 59, 88 and 117 samples: 4 x (2 + 3 + 4) = 36 steps) */
	size_t two[2] = {SIZE_MAX, SIZE_MAX};
	for (size_t i = 0; i < N; i++) {
		unsigned sh, sl;
		lupi_sisa_shard_of(s, i, &sh);
		lupi_sisa_slice_of(s, i, &sl);
		if (sh == 0 && sl == 1 && two[0] == SIZE_MAX)
			two[0] = i;
		if (sh == 0 && sl == 3 && i != last && two[1] == SIZE_MAX)
			two[1] = i;
	}
	ck_assert_int_eq(lupi_sisa_forget(s, two, 2, &st, NULL,
					  NULL, NULL), LUPI_OK);
	ck_assert_int_eq(lupi_sisa_last_cost(s, &used, &scratch), LUPI_OK);
	ck_assert_uint_eq(st, 36);
	ck_assert_uint_eq(scratch, 40);

	/* errors */
	unsigned sl;
	ck_assert_int_eq(lupi_sisa_slice_of(s, N, &sl), LUPI_ERANGE);
	ck_assert_int_eq(lupi_sisa_slice_of(NULL, 0, &sl), LUPI_EINVAL);
	ck_assert_int_eq(lupi_sisa_last_cost(NULL, &st, NULL), LUPI_EINVAL);
	lupi_sisa *bad = NULL;
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, SH, 0, 9, &bad,
						 NULL, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, SH, N / SH + 1,
						 9, &bad, NULL,
						 NULL), LUPI_ERANGE);
	ck_assert_ptr_null(bad);
	free(h1);
	free(h2);
	free(p1);
	free(p2);
	free(o1);
	free(with);
	free(other);
	lupi_sisa_free(s);
	lupi_sisa_free(s2);
	lupi_model_free(proto);
	lupi_dataset_free(train);
}
END_TEST

static double class_accuracy(const lupi_model *m, const lupi_dataset *ds,
			     int32_t cls, int want)
{
	size_t n = lupi_dataset_rows(ds), hit = 0, tot = 0;
	int32_t *pc = malloc(n * sizeof *pc);
	ck_assert_int_eq(lupi_model_predict_class(m,
						  lupi_dataset_features(ds, 0),
						  n, D, pc), LUPI_OK);
	const int32_t *y = lupi_dataset_labels(ds);
	for (size_t i = 0; i < n; i++) {
		if ((y[i] == cls) != want)
			continue;
		tot++;
		hit += pc[i] == y[i];
	}
	free(pc);
	return (double)hit / (double)tot;
}

START_TEST(distillation_forgets_a_class)
{
	lupi_dataset *train = blobs(600, 3), *test = blobs(300, 4);
	lupi_model *m = mlp(10);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	ck_assert(class_accuracy(m, test, 0, 1) > 0.9);
	size_t forget[600], nf = 0;
	ck_assert_int_eq(lupi_unlearn_class_indices(train, 0, forget, &nf),
			 LUPI_OK);
	ck_assert_uint_eq(nf, 200);
	static const int methods[] = {LUPI_UNLEARN_RETRAIN,
				      LUPI_UNLEARN_RANDOM_TEACHER,
				      LUPI_UNLEARN_BAD_TEACHER,
				      LUPI_UNLEARN_SCRUB};
	/* 5 epochs: SCRUB's ascent needs more than 2 to erase a class */
	for (size_t i = 0; i < 4; i++) {
		lupi_model *u = NULL;
		uint64_t steps = 0;
		ck_assert_int_eq(lupi_unlearn(m, train, forget, nf, methods[i],
					      5, &u, &steps, NULL, NULL,
					      NULL), LUPI_OK);
		ck_assert_uint_gt(steps, 0);
		double f = class_accuracy(u, test, 0, 1);
		double r = class_accuracy(u, test, 0, 0);
		/* a forgotten class is mostly predicted as another one: a
		 * retrained model never predicts it */
		ck_assert_msg(f < 0.35, "method %d: forgotten class accuracy "
			      "%g", methods[i], f);
		ck_assert_msg(r > 0.85, "method %d: retain accuracy %g",
			      methods[i], r);
		lupi_model_free(u);
	}
	/* the original is unchanged */
	ck_assert(class_accuracy(m, test, 0, 1) > 0.9);
	/* errors */
	lupi_model *u = NULL;
	ck_assert_int_eq(lupi_unlearn(m, train, forget, 0,
				      LUPI_UNLEARN_RETRAIN, 0, &u, NULL, NULL,
				      NULL, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_unlearn(m, train, forget, nf, 9, 0, &u, NULL,
				      NULL, NULL, NULL), LUPI_EINVAL);
	size_t bad = 600;
	ck_assert_int_eq(lupi_unlearn(m, train, &bad, 1, LUPI_UNLEARN_RETRAIN,
				      0, &u, NULL, NULL, NULL, NULL),
			 LUPI_ERANGE);
	lupi_model *fresh = mlp(1);
	ck_assert_int_eq(lupi_unlearn(fresh, train, forget, nf,
				      LUPI_UNLEARN_RETRAIN, 0, &u, NULL, NULL,
				      NULL, NULL), LUPI_ESTATE);
	ck_assert_ptr_null(u);
	/* a model loaded from its file has weights but no step count (nor
	 * optimiser state): it is accepted, and the method runs */
	void *buf = NULL;
	size_t size = 0;
	uint64_t st = 0;
	lupi_model *loaded = NULL;
	ck_assert_int_eq(lupi_model_save_memory(m, &buf, &size), LUPI_OK);
	ck_assert_int_eq(lupi_model_load_memory(buf, size, &loaded), LUPI_OK);
	ck_assert_int_eq(lupi_unlearn(loaded, train, forget, nf,
				      LUPI_UNLEARN_RANDOM_TEACHER, 1, &u, &st,
				      NULL, NULL, NULL), LUPI_OK);
	ck_assert_uint_gt(st, 0);
	float *pu = params_of(u), *pl = params_of(loaded);
	ck_assert(memcmp(pu, pl, lupi_model_num_params(m) * sizeof *pu));
	free(pu);
	free(pl);
	lupi_model_free(u);
	lupi_model_free(loaded);
	lupi_free(buf);
	lupi_model_free(fresh);
	lupi_model_free(m);
	lupi_dataset_free(train);
	lupi_dataset_free(test);
}
END_TEST

/* ---- progress and cancel of the runs of several fits -------------------- */

/* Checks every report of a run (epochs over the whole run, constant;
 * epoch ends numbered 1, 2, ... when strict) and stops at call stop_at. */
typedef struct rec {
	unsigned calls, ends, epochs, stop_at;
	int strict;
	uint64_t steps;
} rec;

static int record(void *user, const lupi_progress *p)
{
	rec *r = user;
	r->calls++;
	ck_assert_uint_eq(p->size, sizeof *p);
	if (r->epochs == 0)
		r->epochs = p->epochs;
	ck_assert_uint_eq(p->epochs, r->epochs);
	ck_assert_uint_ge(p->epoch, 1);
	ck_assert_uint_le(p->epoch, p->epochs);
	if (p->epoch_end) {
		if (r->strict)
			ck_assert_uint_eq(p->epoch, r->ends + 1);
		r->ends++;
		r->steps += p->steps_per_epoch;
	}
	return r->stop_at && r->calls >= r->stop_at;
}

START_TEST(pate_teachers_report_and_cancel)
{
	lupi_dataset *priv = blobs(120, 11);
	lupi_model *proto = mlp(3);
	lupi_teacher *t = NULL;
	rec r = {.strict = 1};
	ck_assert_int_eq(lupi_pate_teachers(proto, priv, 4, 7, &t, record, &r),
			 LUPI_OK);
	/* 4 teachers x 3 epochs of one step (30 samples, batch 32) */
	ck_assert_uint_eq(r.epochs, 12);
	ck_assert_uint_eq(r.ends, 12);
	ck_assert_uint_eq(r.calls, 12);
	ck_assert_uint_eq(r.steps, 12);
	lupi_teacher_free(t);
	/* stopped in the second teacher: nothing returned */
	t = (lupi_teacher *)&r;
	r = (rec){.stop_at = 5};
	ck_assert_int_eq(lupi_pate_teachers(proto, priv, 4, 7, &t, record, &r),
			 LUPI_ECANCELLED);
	ck_assert_ptr_null(t);
	ck_assert_uint_eq(r.calls, 5);
	ck_assert_str_ne(lupi_errmsg(), "");
	lupi_model_free(proto);
	lupi_dataset_free(priv);
}
END_TEST

START_TEST(unlearn_reports_and_cancels)
{
	lupi_dataset *train = blobs(150, 12);
	lupi_model *m = mlp(3);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	size_t forget[15];
	for (size_t i = 0; i < 15; i++)
		forget[i] = 10 * i;
	const int methods[4] = {LUPI_UNLEARN_RETRAIN,
				LUPI_UNLEARN_RANDOM_TEACHER,
				LUPI_UNLEARN_BAD_TEACHER, LUPI_UNLEARN_SCRUB};
	/* RETRAIN: m's 3 epochs; the others 2 epochs, RANDOM_TEACHER and
	 * SCRUB with a forget pass and a retain pass in each */
	const unsigned total[4] = {3, 4, 2, 4};
	for (int i = 0; i < 4; i++) {
		lupi_model *u = NULL;
		uint64_t steps = 0;
		rec r = {.strict = 1};
		ck_assert_int_eq(lupi_unlearn(m, train, forget, 15, methods[i],
					      2, &u, &steps, NULL, record, &r),
				 LUPI_OK);
		ck_assert_ptr_nonnull(u);
		ck_assert_uint_eq(r.epochs, total[i]);
		ck_assert_uint_eq(r.ends, total[i]);
		ck_assert_uint_eq(r.steps, steps);
		if (methods[i] == LUPI_UNLEARN_RETRAIN)
			ck_assert_uint_eq(steps, 15); /* 3 x ceil(135/32) */
		lupi_model_free(u);
		/* stopped at the second report: no model, no cost */
		u = m;
		steps = 777;
		double sec = -7;
		r = (rec){.stop_at = 2};
		ck_assert_int_eq(lupi_unlearn(m, train, forget, 15, methods[i],
					      2, &u, &steps, &sec, record, &r),
				 LUPI_ECANCELLED);
		ck_assert_ptr_null(u);
		ck_assert_uint_eq(steps, 777);
		ck_assert(sec == -7);
		ck_assert_uint_eq(r.calls, 2);
	}
	lupi_model_free(m);
	lupi_dataset_free(train);
}
END_TEST

START_TEST(sisa_reports_and_cancels)
{
	lupi_dataset *train = blobs(150, 13);
	lupi_model *proto = mlp(3);
	lupi_sisa *s = NULL;
	/* 3 shards x 2 slices x ceil(2 x 3 / 3) = 2 epochs per stage */
	rec r = {.strict = 1};
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, 3, 2, 9, &s,
						 record, &r), LUPI_OK);
	ck_assert_uint_eq(r.epochs, 12);
	ck_assert_uint_eq(r.ends, 12);
	/* stage 0 reads 25 samples (1 step), stage 1 50 (2 steps) */
	ck_assert_uint_eq(r.steps, 3 * (2 * 1 + 2 * 2));
	lupi_sisa *bad = s;
	r = (rec){.stop_at = 3};
	ck_assert_int_eq(lupi_sisa_create_sliced(proto, train, 3, 2, 9, &bad,
						 record, &r), LUPI_ECANCELLED);
	ck_assert_ptr_null(bad);
	ck_assert_uint_eq(r.calls, 3);
	r = (rec){.stop_at = 1};
	ck_assert_int_eq(lupi_sisa_create(proto, train, 3, 9, &bad, record,
					  &r), LUPI_ECANCELLED);
	ck_assert_ptr_null(bad);

	/* a sample in slice 1: its shard reruns one stage of 2 epochs */
	size_t del = 0;
	unsigned sl = 0, sh = 0;
	for (;; del++) {
		ck_assert_int_eq(lupi_sisa_slice_of(s, del, &sl), LUPI_OK);
		if (sl == 1)
			break;
	}
	ck_assert_int_eq(lupi_sisa_shard_of(s, del, &sh), LUPI_OK);
	const lupi_model *before = lupi_sisa_model(s, sh);
	float *p0 = params_of(before);
	uint64_t st = 777;
	r = (rec){.stop_at = 1};
	ck_assert_int_eq(lupi_sisa_forget(s, &del, 1, &st, NULL, record, &r),
			 LUPI_ECANCELLED);
	/* cancelled: the ensemble is as before, nothing deleted */
	ck_assert_uint_eq(st, 777);
	ck_assert_ptr_eq(lupi_sisa_model(s, sh), before);
	float *p1 = params_of(lupi_sisa_model(s, sh));
	ck_assert_mem_eq(p0, p1, lupi_model_num_params(before) * sizeof *p0);
	free(p1);
	r = (rec){.strict = 1};
	ck_assert_int_eq(lupi_sisa_forget(s, &del, 1, &st, NULL, record, &r),
			 LUPI_OK);
	ck_assert_uint_eq(r.epochs, 2);
	ck_assert_uint_eq(r.ends, 2);
	ck_assert_uint_eq(r.steps, st);
	ck_assert_uint_eq(st, 4); /* 49 samples: 2 steps x 2 epochs */
	free(p0);
	lupi_sisa_free(s);
	lupi_model_free(proto);
	lupi_dataset_free(train);
}
END_TEST

START_TEST(lira_reports_and_cancels)
{
	lupi_dataset *train = blobs(90, 14), *ref = blobs(60, 15);
	lupi_model *m = mlp(2), *proto = mlp(2);
	ck_assert_int_eq(lupi_model_fit(m, train, NULL, NULL, NULL), LUPI_OK);
	double sc[90];
	rec r = {.strict = 1};
	ck_assert_int_eq(lupi_mia_lira_offline(m, proto, ref, 3, 1, train, sc,
					       record, &r), LUPI_OK);
	/* 3 shadows x 2 epochs of one step (30 samples) */
	ck_assert_uint_eq(r.epochs, 6);
	ck_assert_uint_eq(r.ends, 6);
	ck_assert_uint_eq(r.steps, 6);
	for (size_t i = 0; i < 90; i++)
		sc[i] = -7;
	r = (rec){.stop_at = 3};
	ck_assert_int_eq(lupi_mia_lira_offline(m, proto, ref, 3, 1, train, sc,
					       record, &r), LUPI_ECANCELLED);
	ck_assert_uint_eq(r.calls, 3);
	for (size_t i = 0; i < 90; i++)
		ck_assert(sc[i] == -7);
	lupi_model_free(m);
	lupi_model_free(proto);
	lupi_dataset_free(ref);
	lupi_dataset_free(train);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unlearn");
	TCase *tc = tcase_create("unlearn");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, retrain_is_a_fresh_fit_on_the_retain_set);
	tcase_add_test(tc, sisa_deletion_retrains_only_its_shard);
	tcase_add_test(tc, sisa_slices_resume_from_their_checkpoint);
	tcase_add_test(tc, distillation_forgets_a_class);
	suite_add_tcase(s, tc);
	TCase *tp = tcase_create("progress");
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, pate_teachers_report_and_cancel);
	tcase_add_test(tp, unlearn_reports_and_cancels);
	tcase_add_test(tp, sisa_reports_and_cancels);
	tcase_add_test(tp, lira_reports_and_cancels);
	suite_add_tcase(s, tp);
	return lupi_test_run(s);
}
