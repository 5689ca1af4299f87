/* Internal API of lib/train (teachers, students, fit loops, comparisons),
 * shared by its files and the tests. Not installed.
 *
 * A prepared teacher is read-only: everything that takes a const
 * lupi_teacher * keeps its scratch elsewhere (in the student, see
 * lupi__student_scratch, or per call), so one teacher can serve several
 * students on several threads at once. */
#ifndef LUPI_TRAIN_INTERNAL_H
#define LUPI_TRAIN_INTERNAL_H

#include <stdatomic.h>

#include "../model/model_internal.h"

/* The option table of a comparison (compare.c). */
extern const lupi__option_table lupi__compare_options;

/* Probabilities are clamped here before a log, so an averaged probability
 * of 0 gives a large finite logit instead of -inf. */
#define LUPI__TEACHER_PROB_FLOOR 1e-30

/* Scratch for combining the members' outputs over a batch of cap_n
 * samples, k outputs, member inputs up to cap_dim (teacher.c). Whoever
 * calls owns it: a student's scratch, or one lupi_teacher_outputs() call. */
typedef struct lupi__combine {
	size_t cap_n, cap_k, cap_dim;
	double *acc;   /* cap_n x cap_k weighted probabilities */
	double *wsum;  /* cap_n */
	size_t *count; /* cap_n members that saw the sample */
	size_t *sub;   /* cap_n batch positions a member sees */
	float *mout;   /* cap_n x cap_k one member's logits */
	float *rows;   /* cap_n x cap_dim gathered member inputs */
	float *mid;    /* cap_n x cap_dim a transfer member's X-hat* */
	double *prob;  /* cap_k */
} lupi__combine;

void lupi__combine_free(lupi__combine *w);

/* A student's scratch for its steps, kept in lupi_model.aux and grown on
 * demand, so a step allocates nothing once it has seen its batch size.
 * Labels, weights and the logit gradient use the student's own arena. */
typedef struct lupi__step_scratch {
	size_t cap_n;     /* samples the buffers hold */
	size_t cap_k;     /* outputs per sample */
	size_t cap_dt;    /* teacher feature width */
	size_t cap_ds;    /* student feature width */
	size_t cap_din;   /* teacher inputs (rows of a feature loss) */
	float *t;         /* cap_n x cap_k teacher logits */
	uint8_t *has;     /* cap_n: the teacher has an output */
	float *ft;        /* cap_n x cap_dt teacher features */
	float *fgrad;     /* cap_n x cap_ds gradient at the student layer */
	float *trows;     /* cap_n x cap_din teacher inputs */
	lupi__combine comb;
	/* The loss of a step given loss NULL: KD with its defaults, or
	 * regression distillation for a regression student (created on the
	 * first such step; its options are never changed). */
	lupi_loss *default_loss;
} lupi__step_scratch;

/* The student's scratch (created on first use), or NULL with LUPI_ENOMEM
 * in *rc. */
lupi__step_scratch *lupi__student_scratch(lupi_model *s, int *rc);
int lupi__step_scratch_reserve(lupi__step_scratch *sc, size_t n, size_t k,
			       size_t dt, size_t ds, size_t din);

/* One member: a model (owned clone), external logits tied to a dataset,
 * or a transfer member (model NULL, reg and xstar set; transfer.c). */
typedef struct lupi__member {
	double weight;
	lupi_model *model;  /* NULL for external outputs and transfer */
	uint64_t ds_id;     /* external: the dataset the outputs belong to */
	size_t n;           /* external: samples */
	float *logits;      /* external: n x k, probabilities stored as logs */
	uint8_t *present;   /* external: n, NULL when every row is present */
	lupi_model *reg;    /* transfer: the regressor X -> X* (owned clone) */
	lupi_model *xstar;  /* transfer: the model on X* (owned clone) */
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

	/* Member forward passes run so far (tests check the cache). Atomic:
	 * const calls on several threads count too. */
	_Atomic uint64_t n_forward;
};

/* 1 when t's cache holds the outputs of ds. */
int lupi__teacher_cached(const lupi_teacher *t, const lupi_dataset *ds);
/* Fails unless every member can be used with ds (LUPI_ESTATE no member,
 * LUPI_EMISMATCH, LUPI_ESHAPE). */
int lupi__teacher_check(const lupi_teacher *t, const lupi_dataset *ds);
/* lupi_teacher_outputs with the combining scratch w (grown on demand) and
 * indices already checked: reads the cache of ds, else computes. */
int lupi__teacher_batch(const lupi_teacher *t, const lupi_dataset *ds,
			const size_t *idx, size_t n, float *out, uint8_t *has,
			lupi__combine *w);
/* Outputs of every sample of ds (ds->n x k, has ds->n) computed from the
 * members in chunks (not from the cache), after lupi__teacher_check. */
int lupi__teacher_all(const lupi_teacher *t, const lupi_dataset *ds,
		      float *out, uint8_t *has);

/* Teacher hidden features of batch idx[0..n) of ds at hidden layer `layer`
 * into ft (n x width, zero rows where the teacher cannot see the sample)
 * and has (n). Needs exactly one member, a model: LUPI_ENOTSUP otherwise.
 * rows is scratch of n x the model's inputs. Reads the teacher only. */
int lupi__teacher_features(const lupi_teacher *t, const lupi_dataset *ds,
			   const size_t *idx, size_t n, size_t layer,
			   float *ft, uint8_t *has, float *rows);

/* Frees a member's models and buffers (not the member itself). */
void lupi__member_free(lupi__member *mb);
/* Checks a new member's task and outputs k against the earlier members
 * (LUPI_ESHAPE), then appends it, taking its buffers and models, and drops
 * the cache. On failure the member is left to the caller. */
int lupi__teacher_push(lupi_teacher *t, const lupi__member *mb, int task,
		       size_t k);

/* A member's weight: finite and > 0 (LUPI_EINVAL). */
int lupi__check_member_weight(double weight);

/* Transfer members (transfer.c). Fails unless ds's view of member j's
 * regressor has its inputs (LUPI_ESHAPE). Their logits are computed with
 * the model members' (teacher.c, add_model_member). */
int lupi__transfer_check(const lupi__member *mb, const lupi_dataset *ds,
			 size_t j);

/* The model of a single-model teacher, or NULL. */
const lupi_model *lupi__teacher_model(const lupi_teacher *t);

/* k_folds in [2, n] and proto's inputs match ds's view: the checks every
 * cross-fit makes before it trains anything. */
int lupi__crossfit_check(const lupi_model *proto, const lupi_dataset *ds,
			 unsigned k_folds);
/* The fold of each sample for cross-fitting (fold[i] in [0, k), or SIZE_MAX
 * when `view` cannot see sample i): the visible samples are shuffled with
 * seed and dealt round-robin. LUPI_ERANGE when fewer than k are visible. */
int lupi__crossfit_folds(const lupi_dataset *ds, int view, unsigned k,
			 uint64_t seed, size_t *fold);

/* A share `index` of `count` (of a fit or a comparison): count >= 1 and
 * index < count (LUPI_ERANGE; fit.c). */
int lupi__check_share(unsigned index, unsigned count);

/* The training loop shared by lupi_model_fit and lupi_student_fit: prepares
 * m on train, lists the samples that have the X* the view needs once, and
 * for each epoch e sets m->epoch = e, shuffles them with m->rng (SHUFFLE),
 * calls step on batches of BATCH (the last one smaller), evaluates valid
 * with lupi_model_evaluate (accuracy or MSE), and applies PATIENCE,
 * RESTORE_BEST and the progress callback; see lupi_model_fit. The epoch
 * loss is the mean of the batch losses weighted by batch size. A non-zero
 * return of progress stops it with LUPI_ECANCELLED. */
/* Where a fit is (fit.c), and what a checkpoint saves besides the model
 * (checkpoint.c). The fit owns idx and best; a restored position is owned
 * by the model (m->resume) until the next fit takes it. */
typedef struct lupi__fit_pos {
	size_t *idx;        /* eligible samples of train, in this epoch's order */
	size_t n;
	size_t off;         /* the next batch starts here (n: steps all done) */
	uint64_t step;      /* steps of this epoch done */
	double sum;         /* the epoch's loss so far, times samples */
	size_t seen;        /* samples of the epoch so far */
	float *best;        /* best parameters (RESTORE_BEST with valid) or NULL */
	int have_best;
	double best_metric;
	unsigned best_epoch;
	int resumed;        /* this epoch continues a checkpoint: no shuffle */
} lupi__fit_pos;

/* Writes m's checkpoint at position p of epoch m->epoch to m->ckpt_path
 * (atomically). */
int lupi__checkpoint_write(const lupi_model *m, const lupi__fit_pos *p);
/* The position m->resume holds, taken over by the fit (m->resume becomes
 * NULL; the caller frees it with lupi__fit_pos_free), or NULL. */
lupi__fit_pos *lupi__checkpoint_take(lupi_model *m);
void lupi__fit_pos_free(lupi__fit_pos *p);

typedef int (*lupi__step_fn)(void *ctx, lupi_model *m, const lupi_dataset *ds,
			     const size_t *idx, size_t n, double *loss);
int lupi__fit(lupi_model *m, const lupi_dataset *train,
	      const lupi_dataset *valid, lupi__step_fn step, void *ctx,
	      lupi_progress_fn progress, void *user);

#endif
