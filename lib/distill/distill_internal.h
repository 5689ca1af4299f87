/* Internal API of lib/distill, used by lib/model (the label loss) and
 * lib/train (student steps, the comparison runner). Not installed.
 *
 * A lupi_loss is used by one thread at a time: the feature losses keep
 * scratch and learned state (hint regressor, CRD heads and queue) in it.
 * lupi_loss_eval only reads the loss and allocates nothing, so it may be
 * called on a loss nobody modifies from several threads at once.
 *
 * What lib/train calls in a student step:
 *   lupi__loss_eval_output   the output loss (teacher outputs may be absent);
 *   lupi__loss_features      the feature loss, update 1 in lupi_student_step
 *                            and fits (one Adam step of the loss's own
 *                            parameters), update 0 in lupi_student_gradient
 *                            and lupi_student_loss (nothing learned);
 *   lupi_loss_clone          a loss with its learned state (compare, crossfit);
 *   lupi__loss_copy          the options and columns alone. */
#ifndef LUPI_DISTILL_INTERNAL_H
#define LUPI_DISTILL_INTERNAL_H

#include "../core/core_internal.h"

/* LUPI_LOSS_OPT_STUDENT_LAYER / TEACHER_LAYER value meaning "last hidden layer". */
#define LUPI__LAYER_LAST (-1)

/* Parameters trained by Adam inside a feature loss: p, then the two moments,
 * one allocation of 3 * n floats. */
typedef struct lupi__adam {
	float *p, *m, *v;
	size_t n;
	uint64_t t;
} lupi__adam;

/* FitNets regressor f_t ~ W f_s + b: p holds W (dt x ds), then b (dt). */
typedef struct lupi__hint {
	size_t ds, dt;
	lupi__adam par;
} lupi__hint;

/* CRD heads and queue: p holds Ws (e x ds), bs (e), Wt (e x dt), bt (e). */
typedef struct lupi__crd {
	size_t ds, dt, e;
	lupi__adam par;
	float *queue;       /* cap x e, a ring of past teacher embeddings */
	size_t cap, len, head;
} lupi__crd;

/* The option fields are read and written through lupi__loss_options (whose
 * rows hold their offsets in this struct and their defaults). */
struct lupi_loss {
	int kind;           /* LUPI_LOSS_* */
	int divergence;     /* LUPI_DIV_* */
	int scale_t2;       /* c = T^2 when 1 */
	int student_t;      /* Ts = 1 when 1, else Ts = T */
	int filter;         /* LUPI_FILTER_* */
	int feature;        /* LUPI_FEATURE_* */
	int64_t student_layer, teacher_layer; /* LUPI__LAYER_LAST or an index */
	int64_t queue, embed;
	uint64_t seed;
	int normalize;      /* LUPI_NORMALIZE_* */
	double temperature, lambda, beta, crd_temperature, feature_lr;
	double no_teacher_weight; /* factor of a sample without teacher output */
	size_t *cols;       /* teacher-term columns, NULL for all */
	size_t n_cols;

	/* Learned state and scratch of the feature losses. */
	lupi__hint hint;
	lupi__crd crd;
	lupi__arena gather; /* rows of samples with a teacher */
	lupi__arena work;   /* the kernels' own scratch */
};

/* The option table of a loss (loss.c). */
extern const lupi__option_table lupi__loss_options;

/* What a training step needs to know about a loss. */
static inline int lupi__loss_needs_teacher_outputs(const lupi_loss *l)
{
	return l->kind != LUPI_LOSS_HARD;
}

static inline int lupi__loss_needs_features(const lupi_loss *l)
{
	return l->feature != LUPI_FEATURE_NONE;
}

/* 1 when the output loss reads labels or targets: a HARD loss, a
 * lambda below 1, SEL (its teacher term compares the label's
 * log-probability), a teacher filter, or no teacher (with_teacher 0: every
 * sample gets its label term alone). 0 for KD, LOGITS and REGRESSION at
 * lambda 1 with a teacher: pure imitation, possible on unlabelled data
 * (output_loss.c). */
int lupi__loss_needs_labels(const lupi_loss *l, int with_teacher);
/* Why lupi__loss_needs_labels is 1, for messages (static text). */
const char *lupi__loss_label_use(const lupi_loss *l);

/* A new loss with the options and columns of src, but no learned state
 * (lupi_loss_clone copies that too). */
int lupi__loss_copy(const lupi_loss *src, lupi_loss **out);

/* lupi_loss_eval without the argument checks that a training step does not
 * need twice, and with t allowed NULL for every kind: then the step has no
 * teacher and every sample gets its label term alone at factor 1 (a plain
 * label loss; NO_TEACHER_WEIGHT applies to samples of a given t whose
 * has_teacher is 0, and never to LUPI_LOSS_HARD, which has no teacher
 * term). Still checks labels, weights and finiteness. */
int lupi__loss_eval_output(const lupi_loss *loss, size_t n, size_t k,
			   const float *s, const float *t,
			   const int32_t *labels, const float *targets,
			   const float *weights, const uint8_t *has_teacher,
			   double *value, float *grad);

/* lupi_loss_eval_features (update 0) and lupi_loss_update_features (update
 * 1) without the grad check: with update set, HINT and CRD take one Adam
 * step on their parameters and CRD queues the batch's teacher embeddings;
 * grad may be NULL either way. */
int lupi__loss_features(lupi_loss *loss, size_t n, size_t ds, const float *fs,
			size_t dt, const float *ft, const uint8_t *has_teacher,
			int update, double *value, float *grad);

/* ---- feature losses: kernels on m rows that all have a teacher ---------- */

/* Each writes the loss before BETA to *value and d value / d fs to grad
 * (m x ds, always given). HINT and CRD update their parameters when update
 * is non-zero. They may use loss->work. */
typedef int (*lupi__feature_fn)(lupi_loss *loss, size_t m, size_t ds,
				const float *fs, size_t dt, const float *ft,
				int update, double *value, float *grad);
int lupi__feature_hint(lupi_loss *loss, size_t m, size_t ds, const float *fs,
		       size_t dt, const float *ft, int update, double *value,
		       float *grad);
int lupi__feature_rkd_dist(lupi_loss *loss, size_t m, size_t ds,
			   const float *fs, size_t dt, const float *ft,
			   int update, double *value, float *grad);
int lupi__feature_rkd_angle(lupi_loss *loss, size_t m, size_t ds,
			    const float *fs, size_t dt, const float *ft,
			    int update, double *value, float *grad);
int lupi__feature_pkt(lupi_loss *loss, size_t m, size_t ds, const float *fs,
		      size_t dt, const float *ft, int update, double *value,
		      float *grad);
int lupi__feature_sp(lupi_loss *loss, size_t m, size_t ds, const float *fs,
		     size_t dt, const float *ft, int update, double *value,
		     float *grad);
int lupi__feature_crd(lupi_loss *loss, size_t m, size_t ds, const float *fs,
		      size_t dt, const float *ft, int update, double *value,
		      float *grad);

/* Frees the learned state of HINT and CRD (it is re-initialised from
 * LUPI_LOSS_OPT_SEED on the next evaluation). */
void lupi__loss_reset_state(lupi_loss *loss);

/* Adam parameters: allocates n parameters with zero moments. */
int lupi__adam_alloc(lupi__adam *a, size_t n);
void lupi__adam_free(lupi__adam *a);
/* One Adam step (beta1 0.9, beta2 0.999, eps 1e-8) with gradient g. */
void lupi__adam_step(lupi__adam *a, const float *g, double lr);
/* Fills rows x cols weights with U(-1/sqrt(cols), 1/sqrt(cols)), the
 * PyTorch nn.Linear default, from rng. */
void lupi__init_linear(lupi__rng *rng, float *w, size_t rows, size_t cols);

/* Test hooks. Sets the hint regressor to W (dt x ds) and b (dt), copied. */
int lupi__loss_hint_set(lupi_loss *loss, size_t ds, size_t dt,
			const float *w, const float *b);
/* CRD queue: entries held and capacity (0, 0 before the first update). */
void lupi__loss_crd_queue(const lupi_loss *loss, size_t *len, size_t *cap);

/* Row-normalisation helpers shared by the relational losses, in double:
 * y = x / max(|x|, floor) and its backward dx = (dy - y (y . dy)) / |x|
 * (0 when |x| <= floor). */
double lupi__normalize_row(const float *x, size_t d, double floor, float *y);
void lupi__normalize_row_backward(const float *y, double norm, double floor,
				  const float *dy, size_t d, float *dx);

/* Smooth L1 (Huber with delta 1), the RKD loss: value and derivative. */
static inline double lupi__huber(double x, double *dx)
{
	if (x < -1.0 || x > 1.0) {
		*dx = x > 0 ? 1.0 : -1.0;
		return (x > 0 ? x : -x) - 0.5;
	}
	*dx = x;
	return 0.5 * x * x;
}

/* Label loss of a task on logits s (n x k): weighted mean into
 * *value, d value / d s into grad (n x k) when grad is not NULL. weights may
 * be NULL (all 1; all zero gives 0). Classification: softmax CE; binary:
 * sigmoid BCE (k = 1); regression: 1/2 |s - y|^2 summed over outputs.
 * Checks labels (LUPI_ERANGE); a non-finite s gives a non-finite *value and
 * LUPI_OK: the caller decides (lupi_model_step returns LUPI_ENONFINITE). */
int lupi__objective_hard(int task, size_t n, size_t k, const float *s,
			 const int32_t *labels, const float *targets,
			 const float *weights, double *value, float *grad);

#endif
