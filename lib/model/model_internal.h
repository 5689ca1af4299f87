/* Internal API of lib/model, used by lib/train. Not installed. */
#ifndef LUPI_MODEL_INTERNAL_H
#define LUPI_MODEL_INTERNAL_H

#include <limits.h>

#include "../core/core_internal.h"
#include "../data/data_internal.h"
#include "../distill/distill_internal.h"

/* One dense layer: y = act(x W^T + b). W and b point into model->params.
 * act, has_bias and frozen are its options (lupi__layer_options). */
typedef struct lupi__layer {
	size_t in, out;
	int act;      /* LUPI_ACT_*; the output layer is IDENTITY */
	int has_bias; /* 0: no bias, b is NULL and the layout skips it */
	int frozen;   /* 1: gradient reported as 0, updates leave it alone */
	float *w;     /* out x in, row-major (the PyTorch layout) */
	float *b;     /* out, or NULL without a bias */
} lupi__layer;

/* Largest magnitudes as float bit patterns without the sign (ordered like
 * the magnitudes; >= 0x7f800000 is an infinity or NaN) of parameters p,
 * gradients g and moments m, v, and the OR of v's sign bits (optim.c). */
typedef struct lupi__extent {
	uint32_t p, g, m, v, v_sign;
} lupi__extent;

/* Options, with the defaults of lupi.h. */
typedef struct lupi__model_opts {
	int activation, init, optimizer, schedule;
	int64_t epochs, batch, patience, step_size, progress_steps;
	uint64_t seed;
	int shuffle, view, standardize, nesterov, restore_best;
	double lr, momentum, beta1, beta2, epsilon, weight_decay, dropout,
		clip_norm, gamma, min_lr, rms_decay;
	/* LUPI_ACT_TEMPERED_SIGMOID: s * sigmoid(T x) - o (Papernot et al.
	 * 2021); saved in model files only when a layer uses it */
	double ts_scale, ts_temperature, ts_offset;
} lupi__model_opts;

/* The privacy a private fit (lib/privacy) spent on the model, saved in
 * model files. It covers the model only while no other update happened
 * since: the fit records the optimiser step count t_mark, and a model whose
 * t differs (trained further without DP), whose parameters were set by the
 * host, or that was loaded from a record marked so, is "not accounted". */
#define LUPI__PRIVACY_DPSGD 0 /* lupi_model_fit_dp, lupi_student_fit_dp */
#define LUPI__PRIVACY_PATE 1  /* lupi_pate_fit_student */
typedef struct lupi__privacy {
	int has;        /* a private fit recorded what it spent */
	int accounted;  /* 0: trained or set otherwise since */
	double epsilon, delta, q, sigma, clip;
	uint64_t steps;
	uint64_t t_mark; /* m->t when recorded */
	/* kind 1: a PATE student's record (lib/privacy/pate.c): steps =
	 * queries, sigma = the aggregation's noise, q NaN, clip 0 */
	int kind;        /* LUPI__PRIVACY_DPSGD, LUPI__PRIVACY_PATE */
	int mechanism;   /* LUPI_PATE_* */
	double sigma1, threshold;
	uint64_t answered;
} lupi__privacy;

struct lupi_model {
	int task;
	size_t n_in, n_out;
	size_t n_layers;      /* hidden layers + the output layer */
	lupi__layer *layers;  /* n_layers */
	size_t n_params;
	float *params;        /* all weights and biases, layer by layer
	                         (biases only of layers that have them) */
	int initialized;      /* params hold trained or initialised values */
	lupi__model_opts opt;

	/* Input standardisation, applied when rows are gathered. */
	int has_std;
	float *mean, *inv_std; /* n_in each, allocated with the model */

	/* Training state (not saved in model files). */
	float *grads;          /* n_params */
	float *opt_m, *opt_v;  /* optimiser moments, n_params each, lazily:
	                          m for Adam(W) and SGD momentum, v for
	                          Adam(W) and RMSprop */
	uint64_t t;            /* optimiser steps taken; > 0 means "training
	                          started" for the shaping options */
	/* The largest magnitudes of the trainable layers' parameters and
	 * moments as the last update stored them (optim.c), for the next
	 * update's safety bound: valid while ext_t == t != 0. */
	lupi__extent ext;
	uint64_t ext_t;
	unsigned epoch;        /* current epoch for the schedule (0-based) */
	lupi__rng rng;         /* dropout and shuffling */
	lupi__arena arena;     /* activations of the last forward pass */
	size_t batch_cap;      /* rows the arena was reserved for */
	size_t batch_n;        /* rows of the last forward pass */
	float **acts;          /* n_layers+1 pointers into arena: acts[0] the
	                          gathered input, acts[l+1] the output of
	                          layer l (hidden outputs after dropout) */
	float **pre;           /* per hidden layer: d act / d pre-activation,
	                          times the dropout mask and 1/(1-p), so that
	                          backward is one multiplication (NULL for the
	                          output layer) */
	uint8_t **drop;        /* unused: masks are folded into pre */
	float *delta, *delta2; /* backward scratch, batch_cap x widest */
	/* Row blocks of the last forward pass, each through every layer on
	 * its own thread (a small model; network.c), 1 otherwise; and the
	 * gradients of blocks 1.. before they are summed into grads,
	 * (batch_parts - 1) x n_params in the arena, room for parts_cap. */
	unsigned batch_parts, parts_cap;
	float *part_grads;
	/* Floats between the row blocks of acts[0..n_layers-1], pre, delta and
	 * delta2 after each block (0: the arrays are whole-batch, n x width):
	 * block p's row r is at buf + p * block_gap + r * width. */
	size_t block_gap;
	/* Targets of the rows of the last forward pass, gathered from the
	 * dataset when it has them (else NULL), and the loss gradient buffer
	 * (batch_n x n_out), all in the arena. */
	int32_t *y_labels;
	float *y_targets, *y_weights, *dlogits;

	/* Scratch of a higher layer's steps on this model (lib/train: teacher
	 * outputs and features of a student step), so that a const teacher
	 * can serve several students. Owned: freed with the model through
	 * aux_free; a clone starts without. */
	void *aux;
	void (*aux_free)(void *aux);

	lupi__privacy privacy; /* zero: no private fit */

	/* Data-parallel training (lupi_model_set_reduce): called by
	 * lupi__model_reduce between backward and update; not cloned, not
	 * saved. */
	lupi_reduce_fn reduce;
	void *reduce_user;
	/* The share of every batch a fit trains (lupi_model_set_share, in
	 * lib/train/fit.c): share of shares; shares 0 or 1: all of it. Not
	 * cloned, not saved. */
	unsigned share, shares;
	/* Checkpoints of a fit (lib/train/checkpoint.c): path (owned) and
	 * period in steps, and the fit position a lupi_model_resume left for
	 * the next fit (owned, freed through resume_free). Not cloned. */
	char *ckpt_path;
	uint64_t ckpt_every;
	void *resume;
	void (*resume_free)(void *resume);
};

/* Parameters, moments or frozen flags changed outside an update: the
 * extents the last update cached no longer hold (optim.c). */
static inline void lupi__model_touch(lupi_model *m)
{
	m->ext_t = 0;
}

/* The option tables of a model and of its layers (model.c). */
extern const lupi__option_table lupi__model_options;
extern const lupi__option_table lupi__layer_options;

/* Allocates a model with zeroed parameters (not initialised), the layer
 * table, default options (ACTIVATION = hidden_act) and room for the
 * standardisation; shared by create, clone and load. The training state
 * (gradients, optimiser moments, arena) is allocated by the first step.
 * hidden_act applies to all hidden layers. no_bias (n_hidden + 1 bytes, or
 * NULL for none) marks the layers without a bias. Errors as
 * lupi_model_create. */
int lupi__model_alloc(int task, size_t n_in, const size_t *hidden,
		      size_t n_hidden, size_t n_out, int hidden_act,
		      const uint8_t *no_bias, lupi_model **out);

/* Default options, from lupi__model_options. */
void lupi__model_opts_default(lupi__model_opts *o);
/* Lays the parameters out again after a layer's has_bias changed: a new
 * zeroed m->params of the new size, layers pointed into it, training
 * state (gradients, optimiser moments) dropped. Only for a model that is
 * not initialised. LUPI_ENOMEM leaves the model as it was. */
int lupi__model_relayout(lupi_model *m);
/* 1 when act is a LUPI_ACT_* id. */
int lupi__act_valid(int act);
/* ds matches the model: view width (LUPI_ESHAPE) and, with need_targets,
 * task (LUPI_ESTATE) and outputs (LUPI_ESHAPE); need_targets 2 also lets a
 * classification dataset have fewer classes than the model has outputs
 * (a loss over output columns). */
int lupi__model_check_dataset(const lupi_model *m, const lupi_dataset *ds,
			      int need_targets);
/* Sample i of ds in the model's view, standardised, into dst (n_in). The
 * caller checks that the sample has the X* the view needs. */
void lupi__model_gather_row(const lupi_model *m, const lupi_dataset *ds,
			    size_t i, float *dst);

/* Seeds m->rng from opt.seed, draws the weights from it (He or Xavier by
 * opt.init), zeroes the biases and marks the model initialised. Leaves the
 * optimiser state and standardisation alone (lupi_model_init clears them). */
void lupi__model_init_weights(lupi_model *m);

/* Training building blocks, used by lupi_model_step and lupi_student_step.
 * prepare: check ds matches the model (view width, task, outputs, as
 * lupi__model_check_dataset with targets), allocate m->grads, fit the
 * standardisation on ds (STANDARDIZE on and none stored yet) and initialise
 * the weights if needed. Cheap after the first call. */
int lupi__model_prepare(lupi_model *m, const lupi_dataset *ds);
/* The largest batch a step or gradient takes (LUPI_ERANGE above it, or
 * when n times the widest layer in bytes overflows size_t), so that a wild
 * n fails before its index array is read or its arena is asked for. BLAS
 * takes int dimensions, so lupi__model_forward has the same bound. */
#define LUPI__MAX_BATCH ((size_t)INT_MAX)
int lupi__model_check_batch(const lupi_model *m, size_t n);
/* As lupi__model_prepare, checking the task and outputs of ds only with
 * need_targets (a distillation step whose loss reads no labels). */
int lupi__model_prepare_targets(lupi_model *m, const lupi_dataset *ds,
				int need_targets);
/* Flags of lupi__model_forward: dropout (a training pass); and the caller
 * reads the hidden activations or backward's buffers as whole-batch arrays
 * afterwards (lupi__model_hidden, per-sample gradients), so row blocks
 * must not be kept apart. */
#define LUPI__FWD_TRAIN 1
#define LUPI__FWD_WHOLE 2
/* Parameters per part of a pass over the parameters on the library's
 * threads (the optimiser's update, the sum of row blocks' gradients): a
 * few microseconds of work, against a hand-off to a spinning worker of
 * well under one (a 15,370-parameter student's update is split in two:
 * its steps come back to back, so the worker spins). One value for both,
 * so that each thread sums the range it then updates. */
#define LUPI__PARAMS_PER_PART 4096
/* Gathers rows idx[0..n) of ds (standardised) and runs the forward pass,
 * with dropout when flags has LUPI__FWD_TRAIN. Returns the logits
 * (n x n_out) in *logits.
 * Checks the indices (LUPI_ERANGE) and that their X* is present when the
 * view needs it (LUPI_ESTATE). Also gathers the rows' labels, targets and
 * weights into m->y_* when ds has them. Allocates only when n is larger
 * than any earlier batch. Without LUPI__FWD_TRAIN there is no dropout,
 * and backward still works. */
int lupi__model_forward(lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, int flags,
			const float **logits);
/* Output of hidden layer `layer` of the last forward pass (n x width);
 * NULL unless that pass had LUPI__FWD_WHOLE or ran as one block. */
const float *lupi__model_hidden(const lupi_model *m, size_t layer);
/* Backward pass of the last forward: dlogits (n x n_out), and optionally an
 * extra gradient dhidden (n x width) added at the output of hidden layer
 * `layer` (NULL for none). Writes m->grads (overwrites); the entries of
 * frozen layers are 0 (the pass still goes through them). Gradients are of
 * whatever dlogits is the gradient of: for a mean loss, dlogits carries the
 * 1/n. dlogits may be m->dlogits. */
int lupi__model_backward(lupi_model *m, const float *dlogits,
			 const float *dhidden, size_t layer);
/* Allocates the moments the optimiser needs (zeroed) if missing; called
 * by prepare, so that a step fails for memory before it changes anything. */
int lupi__model_optim_state(lupi_model *m);
/* Checks gradients are finite (LUPI_ENONFINITE naming the tensor, nothing
 * changed), clips, and applies one optimiser update to the layers that are
 * not frozen (their parameters and moments; frozen layers keep both); an
 * update that would make a weight or moment non-finite fails and changes
 * nothing. */
/* The finiteness check of an update alone: LUPI_ENONFINITE naming the
 * tensor when m->grads holds a NaN or infinity; for gradients handed to
 * the host without an update. */
int lupi__model_check_grads(const lupi_model *m);
int lupi__model_update(lupi_model *m);
/* Per-sample clipping for DP-SGD (persample.c), after a forward pass of n
 * rows. dsample (n x n_out) holds each row's gradient of its own loss with
 * respect to its logits (not divided by n). Writes the norm of each row's
 * parameter gradient (frozen layers excluded) into norms[n] when not NULL,
 * and into m->grads the sum over rows of g_i * min(1, clip / ||g_i||)
 * (clip 0: no clipping, the plain sum), computed with the ghost norm of
 * dense layers, never a per-sample gradient. Frozen layers get 0. scratch
 * holds lupi__model_clip_scratch(m, n) floats. */
int lupi__model_clip_scratch(const lupi_model *m, size_t n, size_t *floats);
int lupi__model_backward_clipped(lupi_model *m, const float *dsample,
				 double clip, float *scratch, double *norms);
/* 1 when the model's privacy record covers it (lupi__privacy). */
static inline int lupi__model_privacy_accounted(const lupi_model *m)
{
	return m->privacy.has && m->privacy.accounted &&
	       m->t == m->privacy.t_mark;
}

/* Calls the model's gradient reduction on m->grads (n_params) when it has
 * one; LUPI_OK otherwise. A hook's negative return is returned as it is
 * (with a message when the hook left none). */
int lupi__model_reduce(lupi_model *m);

/* Sets the gradient entries of frozen layers in g (n_params) to 0. */
void lupi__model_zero_frozen(const lupi_model *m, float *g);
/* Learning rate of the schedule at m->epoch. */
double lupi__model_lr(const lupi_model *m);


/* A scratch layout in one arena: carved once with base NULL to measure
 * (used: the bytes to reserve; overflow set when they do not fit size_t),
 * then again from the reserved base. lupi__plan_take returns the next
 * 64-byte aligned block of rows x cols elements of elt bytes (NULL while
 * measuring). */
typedef struct lupi__plan {
	unsigned char *base;
	size_t used;
	int overflow;
} lupi__plan;
void *lupi__plan_take(lupi__plan *p, size_t rows, size_t cols, size_t elt);
/* One layer of the training forward pass on rows x (n x ly->in): y (n x
 * ly->out) = act(x W^T + b), d = act'(pre-activation) when not NULL (an
 * output layer: NULL); o gives the tempered sigmoid's parameters. For a
 * network whose input is not a dataset's rows (TRAM's privileged head). */
void lupi__model_layer_forward(const lupi__layer *ly,
			       const lupi__model_opts *o, const float *x,
			       size_t n, float *y, float *d);
/* y = act(y) over count values of layer ly's outputs (its activation,
 * the tempered sigmoid with m's parameters). */
void lupi__model_activate(const lupi_model *m, const lupi__layer *ly,
			  float *y, size_t count);
/* Tests: which kernel prediction uses from now on, 1 the AVX-512 one (when
 * the CPU has it), 0 the portable one, another value none changed; returns
 * the one in use before. Both give the same bits. */
int lupi__predict_kernel(int which);
/* Forward pass for prediction on raw rows x (n x n_in; standardised here
 * when the model stores statistics) into logits (n x n_out); used by
 * predict and by teachers (lib/model/predict.c). A row's logits are the
 * same bits for any n, kernel and thread count. Scratch is per call (stack
 * when small, else lupi__malloc: LUPI_ENOMEM), so it is thread-safe on a
 * const model. The caller checks m->initialized and n > 0. */
int lupi__model_predict_logits(const lupi_model *m, const float *x, size_t n,
			       float *logits);
/* Called on each block of nr rows of logits (nr * n_out floats) as soon
 * as they are computed, possibly in several threads at once for disjoint
 * blocks. */
typedef void (*lupi__rows_fn)(void *ctx, float *rows, size_t nr);
/* As lupi__model_predict_logits, then fn(ctx, ...) over the logits, in
 * the same threads (fn NULL: nothing). */
int lupi__model_predict_apply(const lupi_model *m, const float *x, size_t n,
			      float *logits, lupi__rows_fn fn, void *ctx);
/* As lupi__model_predict_logits, but the output of hidden layer `layer`
 * (after its activation, n x its width), e.g. a teacher's features for a
 * feature loss; const like predict. The caller checks layer is hidden. */
int lupi__model_predict_hidden(const lupi_model *m, size_t layer,
			       const float *x, size_t n, float *hidden);

#endif
