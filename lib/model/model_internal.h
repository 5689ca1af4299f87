/* Internal API of lib/model, used by lib/distill too. Not installed. */
#ifndef LUPI_MODEL_INTERNAL_H
#define LUPI_MODEL_INTERNAL_H

#include "../core/core_internal.h"
#include "../data/data_internal.h"

#define LUPI__MAX_WIDTH 1048576u /* bound on any layer width */
#define LUPI__MAX_LAYERS 64u     /* bound on the number of layers */

/* One dense layer: y = act(x W^T + b). W and b point into model->params. */
typedef struct lupi__layer {
	size_t in, out;
	int act;  /* LUPI_ACT_*; the output layer is IDENTITY */
	float *w; /* out x in, row-major (the PyTorch layout) */
	float *b; /* out */
} lupi__layer;

/* Options, with the defaults of lupi.h. */
typedef struct lupi__model_opts {
	int activation, init, optimizer, schedule;
	int64_t epochs, batch, patience, step_size, progress_steps;
	uint64_t seed;
	int shuffle, view, standardize, nesterov, restore_best;
	double lr, momentum, beta1, beta2, epsilon, weight_decay, dropout,
		clip_norm, gamma, min_lr;
} lupi__model_opts;

struct lupi_model {
	int task;
	size_t n_in, n_out;
	size_t n_layers;      /* hidden layers + the output layer */
	lupi__layer *layers;  /* n_layers */
	size_t n_params;
	float *params;        /* all weights and biases, layer by layer */
	int initialized;      /* params hold trained or initialised values */
	lupi__model_opts opt;

	/* Input standardisation, applied when rows are gathered. */
	int has_std;
	float *mean, *inv_std; /* n_in each, allocated with the model */

	/* Training state (not saved in model files). */
	float *grads;          /* n_params */
	float *opt_m, *opt_v;  /* optimiser moments, n_params each, lazily */
	uint64_t t;            /* optimiser steps taken */
	unsigned epoch;        /* current epoch for the schedule (0-based) */
	lupi__rng rng;         /* dropout and shuffling */
	lupi__arena arena;     /* activations of the last forward pass */
	size_t batch_cap;      /* rows the arena was reserved for */
	size_t batch_n;        /* rows of the last forward pass */
	float **acts;          /* n_layers+1 pointers into arena: acts[0] the
	                          gathered input, acts[l+1] the output of layer l */
	float **pre;           /* pre-activations per layer (for backward) */
	uint8_t **drop;        /* dropout masks per hidden layer or NULL */
	float *delta, *delta2; /* backward scratch, batch_cap x widest */
};

/* Bytes of an allocation holding all parameter and option data, and the
 * layer table; shared by create, clone and load. Allocates everything but
 * the training state. hidden_act applies to all hidden layers. */
int lupi__model_alloc(int task, size_t n_in, const size_t *hidden,
		      size_t n_hidden, size_t n_out, int hidden_act,
		      lupi_model **out);

/* Default options. */
void lupi__model_opts_default(lupi__model_opts *o);

/* Initialises weights from opt.seed (He or Xavier). */
void lupi__model_init_weights(lupi_model *m);

/* Training building blocks, used by lupi_model_step and lupi_student_step.
 * prepare: initialise if needed, fit standardisation on ds (first time),
 * check ds matches the model (view width, task, outputs). */
int lupi__model_prepare(lupi_model *m, const lupi_dataset *ds);
/* Gathers rows idx[0..n) of ds (standardised) and runs the forward pass with
 * dropout when train is set. Returns the logits (n x n_out) in *logits. */
int lupi__model_forward(lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, int train,
			const float **logits);
/* Output of hidden layer `layer` of the last forward pass (n x width). */
const float *lupi__model_hidden(const lupi_model *m, size_t layer);
/* Backward pass of the last forward: dlogits (n x n_out), and optionally an
 * extra gradient dhidden added at hidden layer `layer` (NULL for none).
 * Writes m->grads (overwrites). */
int lupi__model_backward(lupi_model *m, const float *dlogits,
			 const float *dhidden, size_t layer);
/* Checks gradients are finite (LUPI_ENONFINITE naming the tensor, nothing
 * changed), clips, and applies one optimiser update. */
int lupi__model_update(lupi_model *m);

/* Label loss of the model's task on logits s (n x k): weighted mean into
 * *value, d value / d s into grad (n x k) when grad is not NULL. weights may
 * be NULL. Classification: softmax CE; binary: sigmoid BCE (k = 1);
 * regression: 1/2 |s - y|^2 summed over outputs. */
int lupi__objective_hard(int task, size_t n, size_t k, const float *s,
			 const int32_t *labels, const float *targets,
			 const float *weights, double *value, float *grad);

/* The training loop shared by lupi_model_fit and lupi_student_fit: step is
 * called with each batch; see lupi_model_fit for the rest. */
typedef int (*lupi__step_fn)(void *ctx, lupi_model *m, const lupi_dataset *ds,
			     const size_t *idx, size_t n, double *loss);
int lupi__fit(lupi_model *m, const lupi_dataset *train,
	      const lupi_dataset *valid, lupi__step_fn step, void *ctx,
	      lupi_progress_fn progress, void *user);

/* Forward pass for prediction on raw rows x (n x n_in) with caller scratch;
 * used by predict and by teachers. Thread-safe on a const model. */
int lupi__model_predict_logits(const lupi_model *m, const float *x, size_t n,
			       float *logits);

#endif
