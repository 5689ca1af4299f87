/* Internal API of lib/train (teachers, students, fit loops, comparisons),
 * shared by its files and the tests. Not installed. */
#ifndef LUPI_TRAIN_INTERNAL_H
#define LUPI_TRAIN_INTERNAL_H

#include "../model/model_internal.h"

/* The option table of a comparison (compare.c). */
extern const lupi__option_table lupi__compare_options;

/* Probabilities are clamped here before a log, so an averaged probability
 * of 0 gives a large finite logit instead of -inf. */
#define LUPI__TEACHER_PROB_FLOOR 1e-30

/* The teacher's scratch in one student step, grown on demand and reused,
 * so a step allocates nothing once it has seen its batch size. It lives in
 * the teacher handle (lupi_student_step), or in the context of one
 * lupi_student_fit() call. Labels, weights and the logit gradient use the
 * student's own arena. */
typedef struct lupi__step_scratch {
	size_t cap_n;     /* samples the buffers hold */
	size_t cap_k;     /* outputs per sample */
	size_t cap_dt;    /* teacher feature width */
	size_t cap_ds;    /* student feature width */
	float *t;         /* cap_n x cap_k teacher logits */
	uint8_t *has;     /* cap_n: the teacher has an output */
	size_t *sub;      /* cap_n: batch positions the teacher model sees */
	float *ft;        /* cap_n x cap_dt teacher features */
	float *fgrad;     /* cap_n x cap_ds gradient at the student layer */
} lupi__step_scratch;

int lupi__step_scratch_reserve(lupi__step_scratch *sc, size_t n, size_t k,
			       size_t dt, size_t ds);
void lupi__step_scratch_free(lupi__step_scratch *sc);

/* One member: a model (owned clone) or external logits tied to a dataset. */
typedef struct lupi__member {
	double weight;
	lupi_model *model;  /* NULL for external outputs */
	uint64_t ds_id;     /* external: the dataset the outputs belong to */
	size_t n;           /* external: samples */
	float *logits;      /* external: n x k, probabilities stored as logs */
	uint8_t *present;   /* external: n, NULL when every row is present */
} lupi__member;

struct lupi_teacher {
	int task;              /* LUPI_TASK_* of the members, NONE when empty */
	size_t k;              /* outputs of every member */
	lupi__member *members;
	size_t n_members, cap_members;

	/* The one cache of combined outputs (lupi_teacher_prepare). */
	int cached;
	uint64_t cache_id;
	size_t cache_n;
	float *cache;          /* cache_n x k */
	uint8_t *cache_has;    /* cache_n */

	/* Scratch for combining members' outputs over a batch. */
	size_t work_n, work_dim;
	double *acc;           /* work_n x k weighted probabilities */
	double *wsum;          /* work_n */
	size_t *count;         /* work_n members that saw the sample */
	size_t *sub;           /* work_n */
	float *mout;           /* work_n x k one member's logits */
	float *rows;           /* work_n x work_dim gathered features */
	double *prob;          /* k */

	lupi__step_scratch step; /* used by lupi_student_step */
	lupi_loss *default_kd;   /* the loss of a step given loss NULL */

	/* Member forward passes run so far (tests check the cache). */
	uint64_t n_forward;
};

/* Teacher hidden features of batch idx[0..n) of ds at hidden layer `layer`
 * into ft (n x width, zero rows where the teacher cannot see the sample)
 * and has (n). Needs exactly one member, a model: LUPI_ENOTSUP otherwise.
 * sub is n indices of scratch. */
int lupi__teacher_features(lupi_teacher *t, const lupi_dataset *ds,
			   const size_t *idx, size_t n, size_t layer,
			   float *ft, uint8_t *has, size_t *sub);

/* The model of a single-model teacher, or NULL. */
lupi_model *lupi__teacher_model(const lupi_teacher *t);

/* The fold of each sample for cross-fitting (fold[i] in [0, k), or SIZE_MAX
 * when `view` cannot see sample i): the visible samples are shuffled with
 * seed and dealt round-robin. LUPI_ERANGE when fewer than k are visible. */
int lupi__crossfit_folds(const lupi_dataset *ds, int view, unsigned k,
			 uint64_t seed, size_t *fold);

/* The training loop shared by lupi_model_fit and lupi_student_fit: prepares
 * m on train, lists the samples that have the X* the view needs once, and
 * for each epoch e sets m->epoch = e, shuffles them with m->rng (SHUFFLE),
 * calls step on batches of BATCH (the last one smaller), evaluates valid
 * with lupi_model_evaluate (accuracy or MSE), and applies PATIENCE,
 * RESTORE_BEST and the progress callback; see lupi_model_fit. The epoch
 * loss is the mean of the batch losses weighted by batch size. */
typedef int (*lupi__step_fn)(void *ctx, lupi_model *m, const lupi_dataset *ds,
			     const size_t *idx, size_t n, double *loss);
int lupi__fit(lupi_model *m, const lupi_dataset *train,
	      const lupi_dataset *valid, lupi__step_fn step, void *ctx,
	      lupi_progress_fn progress, void *user);

#endif
