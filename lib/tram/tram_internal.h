/* Internal API of lib/tram (TRAM and PI marginalisation), shared by its
 * file and the tests. Not installed.
 *
 * A lupi_tram trains a host's lupi_model m together with a privileged head
 * g that the handle owns: phi = every layer of m but the last (the trunk;
 * the standardised input when m has no hidden layer), h = the last layer
 * of m, g = a dense network on [phi(x), x*] with m's outputs. One step
 * minimises L_g + L_h, both the task's label loss of m (mean over the
 * batch, weighted as lupi_model_step is), where phi gets the gradient of
 * L_g only (the stop-gradient between phi and h), h that of L_h, and g
 * that of L_g. m stays an ordinary model: it predicts with h(phi(x)) and
 * saves without g. */
#ifndef LUPI_TRAM_INTERNAL_H
#define LUPI_TRAM_INTERNAL_H

#include "../train/train_internal.h"

typedef struct lupi__tram_opts {
	int64_t hidden, layers;
	uint64_t seed;
	int activation, standardize;
} lupi__tram_opts;

struct lupi_tram {
	lupi__tram_opts opt;
	/* The privileged head, created by the first step from the shape of
	 * the model and dataset it saw; that shape is then bound. */
	lupi_model *g;
	int task;
	size_t phi;    /* width of phi: m's last hidden layer, or its inputs */
	size_t d_priv; /* X* features */
	size_t k;      /* outputs of m and g */
	/* Standardisation of X* for g (STANDARDIZE): d_priv each, or NULL. */
	float *mean, *inv_std;

	/* Scratch of a step, grown on demand (one allocation). */
	lupi__arena arena;
	size_t cap_n;
	size_t *sel;     /* batch positions whose sample has X* */
	float **acts;    /* g: acts[0] its input rows [phi, x*] (cap_n x
	                    (phi + d_priv)), acts[l + 1] layer l's output */
	float **der;     /* g: act'(pre-activation) of each hidden layer */
	float *delta, *delta2; /* cap_n x widest layer of g (and its input) */
	float *dlog;     /* cap_n x k: g's logit gradient */
	int32_t *lab;    /* cap_n: labels of the rows of sel */
	float *tgt, *wt; /* cap_n x k targets, cap_n weights */
	float *dinput;   /* cap_n x (phi + d_priv): d L_g / d g's input */
	float *dphi;     /* cap_n x phi: d L_g / d phi, 0 for rows without X* */
	float *zero;     /* cap_n x k zeros: the logit gradient that stops h's
	                    loss from reaching phi */
	size_t n_sel;    /* samples with X* in the last gradient's batch */
};

extern const lupi__option_table lupi__tram_options;

/* The gradient of one joint step on samples idx[0..n) of ds without an
 * update: m->grads (phi from L_g, h from L_h) and t->g->grads (from L_g);
 * the two losses into *loss_g (0 when no sample of the batch has X*) and
 * *loss_h. Creates g and prepares m like a step. */
int lupi__tram_gradient(lupi_tram *t, lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, double *loss_g,
			double *loss_h);

#endif
