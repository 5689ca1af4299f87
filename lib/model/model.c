/* The public lupi_model_* API: creation, options, parameters, training
 * steps, prediction and evaluation. */
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "model_internal.h"

/* ---- creation ----------------------------------------------------------- */

int lupi_model_create(int task, size_t n_in, const size_t *hidden,
		      size_t n_hidden, size_t n_out, lupi_model **out)
{
	return lupi__model_alloc(task, n_in, hidden, n_hidden, n_out,
				 LUPI_ACT_RELU, NULL, out);
}

static float *dup_floats(const float *src, size_t n)
{
	if (src == NULL)
		return NULL;
	float *d = lupi__malloc_array(n, sizeof *d);
	if (d)
		memcpy(d, src, n * sizeof *d);
	return d;
}

int lupi_model_clone(const lupi_model *m, lupi_model **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(m);
	size_t hidden[LUPI__MAX_LAYERS];
	uint8_t no_bias[LUPI__MAX_LAYERS];
	for (size_t l = 0; l < m->n_layers; l++) {
		hidden[l] = m->layers[l].out;
		no_bias[l] = !m->layers[l].has_bias;
	}
	lupi_model *c;
	LUPI__TRY(lupi__model_alloc(m->task, m->n_in, hidden, m->n_layers - 1,
				    m->n_out, m->opt.activation, no_bias, &c));
	for (size_t l = 0; l < m->n_layers; l++) {
		c->layers[l].act = m->layers[l].act;
		c->layers[l].frozen = m->layers[l].frozen;
	}
	/* The scratch of higher layers (aux) is not copied: a clone starts
	 * without. */
	c->opt_m = dup_floats(m->opt_m, m->n_params);
	c->opt_v = dup_floats(m->opt_v, m->n_params);
	if ((m->opt_m && c->opt_m == NULL) || (m->opt_v && c->opt_v == NULL)) {
		lupi_model_free(c);
		return lupi__err(LUPI_ENOMEM, "cannot allocate a model copy");
	}
	memcpy(c->params, m->params, m->n_params * sizeof *c->params);
	memcpy(c->mean, m->mean, m->n_in * sizeof *c->mean);
	memcpy(c->inv_std, m->inv_std, m->n_in * sizeof *c->inv_std);
	c->has_std = m->has_std;
	c->initialized = m->initialized;
	c->opt = m->opt;
	c->t = m->t;
	c->epoch = m->epoch;
	c->rng = m->rng;
	c->privacy = m->privacy;
	*out = c;
	return LUPI_OK;
}

/* ---- options ------------------------------------------------------------ */

/* Model-file ids are the keys of version 0.1 (1..15, 101..110), so that
 * files written by 0.1 keep their options; new options take new ids. */
#define INT_OPT(N, field, st, lo, hi, def, V, fl, fid, doc)                   \
	LUPI__OPT_INT(MODEL, N, lupi__model_opts, field, st, lo, hi, def, V,  \
		      fl, fid, doc)
#define REAL_OPT(N, field, lo, hi, lo_open, hi_open, def, fid, doc)           \
	LUPI__OPT_REAL(MODEL, N, lupi__model_opts, field, lo, hi, lo_open,    \
		       hi_open, def, 0u, fid, doc)

static const lupi__option model_rows[] = {
	INT_OPT(ACTIVATION, activation, LUPI__STORE_INT, 0, 5, LUPI_ACT_RELU,
		"identity,relu,tanh,sigmoid,gelu,tempered_sigmoid",
		LUPI__OPT_SHAPING, 1,
		"activation of every hidden layer"),
	INT_OPT(INIT, init, LUPI__STORE_INT, 0, 3, LUPI_INIT_HE,
		"he,xavier,uniform,lecun", LUPI__OPT_SHAPING, 2,
		"weight initialiser"),
	INT_OPT(OPTIMIZER, optimizer, LUPI__STORE_INT, 0, 3, LUPI_OPTIM_ADAM,
		"sgd,adam,adamw,rmsprop", LUPI__OPT_SHAPING, 3, "optimiser"),
	INT_OPT(SCHEDULE, schedule, LUPI__STORE_INT, 0, 2,
		LUPI_SCHEDULE_CONSTANT, "constant,step,cosine", 0u, 4,
		"learning-rate schedule by epoch"),
	INT_OPT(EPOCHS, epochs, LUPI__STORE_I64, 1, 1000000, 10, NULL, 0u, 5,
		"epochs of a fit"),
	INT_OPT(BATCH, batch, LUPI__STORE_I64, 1, 1048576, 128, NULL, 0u, 6,
		"batch size of a fit"),
	INT_OPT(SEED, seed, LUPI__STORE_U64, INT64_MIN, INT64_MAX, 0, NULL, 0u,
		7, "seed of initialisation, shuffling and dropout"),
	INT_OPT(SHUFFLE, shuffle, LUPI__STORE_INT, 0, 1, 1, NULL, 0u, 8,
		"shuffle the training set each epoch"),
	INT_OPT(PATIENCE, patience, LUPI__STORE_I64, 0, 1000000, 0, NULL, 0u, 9,
		"stop after this many epochs without improvement, 0 = never"),
	INT_OPT(VIEW, view, LUPI__STORE_INT, 0, 2, LUPI_VIEW_REGULAR,
		"regular,privileged,both", LUPI__OPT_SHAPING, 10,
		"features the model sees"),
	INT_OPT(STANDARDIZE, standardize, LUPI__STORE_INT, 0, 1, 1, NULL,
		LUPI__OPT_SHAPING, 11,
		"fit, store and apply input standardisation"),
	INT_OPT(NESTEROV, nesterov, LUPI__STORE_INT, 0, 1, 0, NULL, 0u, 12,
		"Nesterov momentum for SGD"),
	INT_OPT(STEP_SIZE, step_size, LUPI__STORE_I64, 1, 1000000, 10, NULL,
		0u, 13, "epochs per decay of the STEP schedule"),
	INT_OPT(RESTORE_BEST, restore_best, LUPI__STORE_INT, 0, 1, 1, NULL, 0u,
		14, "keep the weights of the best validation epoch"),
	INT_OPT(PROGRESS_STEPS, progress_steps, LUPI__STORE_I64, 0, INT64_MAX,
		0, NULL, 0u, 15,
		"also report progress every this many steps, 0 = epoch ends"),
	REAL_OPT(LR, lr, 0.0, 1e3, 1, 0, 1e-3, 101, "learning rate"),
	REAL_OPT(MOMENTUM, momentum, 0.0, 1.0, 0, 1, 0.0, 102, "SGD momentum"),
	REAL_OPT(BETA1, beta1, 0.0, 1.0, 0, 1, 0.9, 103,
		 "Adam first-moment decay"),
	REAL_OPT(BETA2, beta2, 0.0, 1.0, 0, 1, 0.999, 104,
		 "Adam second-moment decay"),
	REAL_OPT(EPSILON, epsilon, 0.0, 1.0, 1, 0, 1e-8, 105,
		 "Adam and RMSprop denominator term"),
	REAL_OPT(WEIGHT_DECAY, weight_decay, 0.0, INFINITY, 0, 1, 0.0, 106,
		 "L2 (SGD, Adam, RMSprop) or decoupled (AdamW) weight decay"),
	REAL_OPT(DROPOUT, dropout, 0.0, 1.0, 0, 1, 0.0, 107,
		 "dropout probability of hidden activations"),
	REAL_OPT(CLIP_NORM, clip_norm, 0.0, INFINITY, 0, 1, 0.0, 108,
		 "clip the gradient's global norm to this, 0 = off"),
	REAL_OPT(GAMMA, gamma, 0.0, 1.0, 1, 0, 0.1, 109,
		 "decay factor of the STEP schedule"),
	REAL_OPT(MIN_LR, min_lr, 0.0, INFINITY, 0, 1, 0.0, 110,
		 "floor of the COSINE schedule"),
	REAL_OPT(RMS_DECAY, rms_decay, 0.0, 1.0, 0, 1, 0.99, 111,
		 "RMSprop smoothing constant"),
	/* file id 0: saved in a header extension, only when a layer uses
	 * the tempered sigmoid (doc/formats.md) */
	LUPI__OPT_REAL(MODEL, TS_SCALE, lupi__model_opts, ts_scale, 0.0, 1e3,
		       1, 0, 2.0, LUPI__OPT_SHAPING, 0,
		       "tempered sigmoid scale s"),
	LUPI__OPT_REAL(MODEL, TS_TEMPERATURE, lupi__model_opts, ts_temperature,
		       0.0, 1e3, 1, 0, 2.0, LUPI__OPT_SHAPING, 0,
		       "tempered sigmoid inverse temperature T"),
	LUPI__OPT_REAL(MODEL, TS_OFFSET, lupi__model_opts, ts_offset, -1e3,
		       1e3, 0, 0, 1.0, LUPI__OPT_SHAPING, 0,
		       "tempered sigmoid offset o"),
};

const lupi__option_table lupi__model_options = {
	LUPI_HANDLE_MODEL, "LUPI_MODEL_OPT_", model_rows,
	sizeof model_rows / sizeof model_rows[0]};

#undef INT_OPT
#undef REAL_OPT

/* Layer options live in lupi__layer; they are not saved as option records
 * (the layer records hold them), so they have no file id. */
static const lupi__option layer_rows[] = {
	LUPI__OPT_INT(LAYER, ACTIVATION, lupi__layer, act, LUPI__STORE_INT, 0,
		      5, LUPI_ACT_RELU,
		      "identity,relu,tanh,sigmoid,gelu,tempered_sigmoid",
		      LUPI__OPT_SHAPING, 0,
		      "activation of a hidden layer (default: the model's)"),
	LUPI__OPT_INT(LAYER, BIAS, lupi__layer, has_bias, LUPI__STORE_INT, 0,
		      1, 1, NULL, LUPI__OPT_SHAPING, 0,
		      "the layer has a bias; set before initialisation"),
	LUPI__OPT_INT(LAYER, FROZEN, lupi__layer, frozen, LUPI__STORE_INT, 0,
		      1, 0, NULL, 0u, 0,
		      "updates leave the layer alone, its gradient is 0"),
};

const lupi__option_table lupi__layer_options = {
	LUPI_HANDLE_LAYER, "LUPI_LAYER_OPT_", layer_rows,
	sizeof layer_rows / sizeof layer_rows[0]};

static int training_started(const lupi_model *m)
{
	return m->t > 0;
}

static int shaping_check(const lupi__option_table *t, const lupi__option *o,
			 const lupi_model *m)
{
	if ((o->flags & LUPI__OPT_SHAPING) && training_started(m))
		return lupi__err(LUPI_ESTATE,
				 "%s%s cannot change after training started",
				 t->prefix, o->pub.name);
	return LUPI_OK;
}

int lupi_model_set_int(lupi_model *m, int key, int64_t value)
{
	LUPI__CHECK_NULL(m);
	const lupi__option_table *t = &lupi__model_options;
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_INT, &o));
	LUPI__TRY(shaping_check(t, o, m));
	LUPI__TRY(lupi__option_store_int(t, o, &m->opt, value));
	lupi__model_touch(m); /* e.g. the optimiser: another rule */
	if (key == LUPI_MODEL_OPT_ACTIVATION)
		for (size_t l = 0; l + 1 < m->n_layers; l++)
			m->layers[l].act = (int)value;
	/* shuffling and dropout follow the seed also for a model whose
	 * parameters were set rather than initialised */
	if (key == LUPI_MODEL_OPT_SEED)
		lupi__rng_seed(&m->rng, m->opt.seed);
	return LUPI_OK;
}

int lupi_model_get_int(const lupi_model *m, int key, int64_t *value)
{
	LUPI__CHECK_NULL(m);
	return lupi__option_get_int(&lupi__model_options, &m->opt, key, value);
}

int lupi_model_set_double(lupi_model *m, int key, double value)
{
	LUPI__CHECK_NULL(m);
	const lupi__option_table *t = &lupi__model_options;
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(t, key, LUPI_TYPE_DOUBLE, &o));
	LUPI__TRY(shaping_check(t, o, m));
	LUPI__TRY(lupi__option_store_double(t, o, &m->opt, value));
	lupi__model_touch(m);
	return LUPI_OK;
}

int lupi_model_get_double(const lupi_model *m, int key, double *value)
{
	LUPI__CHECK_NULL(m);
	return lupi__option_get_double(&lupi__model_options, &m->opt, key,
				       value);
}

/* The row of a layer key, after checking the layer index. */
static int layer_row(const lupi_model *m, size_t layer, int key,
		     const lupi__option **o)
{
	LUPI__TRY(lupi__option_lookup(&lupi__layer_options, key, LUPI_TYPE_INT,
				      o));
	if (layer >= m->n_layers)
		return lupi__err(LUPI_ERANGE,
				 "layer %zu: the model has %zu layers, "
				 "numbered from 0 (the output layer is %zu)",
				 layer, m->n_layers, m->n_layers - 1);
	return LUPI_OK;
}

/* BIAS changes num_params and the parameter layout, so only a model whose
 * parameters mean nothing yet may change it. */
static int set_bias(lupi_model *m, lupi__layer *ly, size_t layer, int on)
{
	if (on == ly->has_bias)
		return LUPI_OK;
	if (m->initialized || training_started(m))
		return lupi__err(LUPI_ESTATE,
				 "LUPI_LAYER_OPT_BIAS of layer %zu changes the "
				 "parameter layout: set it before the model "
				 "is initialised or trained", layer);
	ly->has_bias = on;
	int rc = lupi__model_relayout(m);
	if (rc < 0)
		ly->has_bias = !on;
	return rc;
}

int lupi_model_set_layer_int(lupi_model *m, size_t layer, int key,
			     int64_t value)
{
	LUPI__CHECK_NULL(m);
	const lupi__option *o;
	LUPI__TRY(layer_row(m, layer, key, &o));
	lupi__layer *ly = &m->layers[layer];
	lupi__layer v = *ly; /* range check without changing the layer */
	LUPI__TRY(lupi__option_store_int(&lupi__layer_options, o, &v, value));
	switch (key) {
	case LUPI_LAYER_OPT_BIAS:
		return set_bias(m, ly, layer, v.has_bias);
	case LUPI_LAYER_OPT_ACTIVATION:
		if (layer + 1 == m->n_layers && v.act != LUPI_ACT_IDENTITY)
			return lupi__err(LUPI_ERANGE,
					 "layer %zu is the output layer: its "
					 "activation is always IDENTITY (the "
					 "task's softmax or sigmoid is applied "
					 "by prediction)", layer);
		LUPI__TRY(shaping_check(&lupi__layer_options, o, m));
		ly->act = v.act;
		return LUPI_OK;
	default: /* LUPI_LAYER_OPT_FROZEN: at any time */
		ly->frozen = v.frozen;
		lupi__model_touch(m); /* the trainable runs changed */
		return LUPI_OK;
	}
}

int lupi_model_get_layer_int(const lupi_model *m, size_t layer, int key,
			     int64_t *value)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(value);
	const lupi__option *o;
	LUPI__TRY(layer_row(m, layer, key, &o));
	*value = lupi__option_load_int(o, &m->layers[layer]);
	return LUPI_OK;
}

int lupi_model_init(lupi_model *m)
{
	LUPI__CHECK_NULL(m);
	lupi__model_init_weights(m);
	lupi__free(m->opt_m);
	lupi__free(m->opt_v);
	m->opt_m = m->opt_v = NULL;
	m->t = 0;
	m->epoch = 0;
	m->has_std = 0;
	m->batch_n = 0;
	memset(&m->privacy, 0, sizeof m->privacy);
	/* a fit position left by lupi_model_resume belongs to the old
	 * weights */
	if (m->resume_free != NULL)
		m->resume_free(m->resume);
	m->resume = NULL;
	m->resume_free = NULL;
	return LUPI_OK;
}

/* ---- accessors ---------------------------------------------------------- */

int lupi_model_task(const lupi_model *m)
{
	return m ? m->task : 0;
}

size_t lupi_model_inputs(const lupi_model *m)
{
	return m ? m->n_in : 0;
}

size_t lupi_model_outputs(const lupi_model *m)
{
	return m ? m->n_out : 0;
}

size_t lupi_model_layers(const lupi_model *m)
{
	return m ? m->n_layers : 0;
}

size_t lupi_model_layer_size(const lupi_model *m, size_t i)
{
	return m && i < m->n_layers ? m->layers[i].out : 0;
}

size_t lupi_model_num_params(const lupi_model *m)
{
	return m ? m->n_params : 0;
}

static int check_count(const lupi_model *m, size_t n)
{
	if (n != m->n_params)
		return lupi__err(LUPI_ESHAPE,
				 "%zu parameters given, the model has %zu", n,
				 m->n_params);
	return LUPI_OK;
}

int lupi_model_get_params(const lupi_model *m, float *params, size_t n)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(params);
	LUPI__TRY(check_count(m, n));
	memcpy(params, m->params, n * sizeof *params);
	return LUPI_OK;
}

int lupi_model_copy_params(lupi_model *dst, const lupi_model *src)
{
	LUPI__CHECK_NULL(dst);
	LUPI__CHECK_NULL(src);
	if (dst == src)
		return LUPI_OK;
	if (!src->initialized)
		return lupi__err(LUPI_ESTATE, "the source model is not "
				 "initialised");
	if (dst->n_in != src->n_in || dst->n_layers != src->n_layers ||
	    dst->n_params != src->n_params)
		return lupi__err(LUPI_ESHAPE, "models differ in shape (%zu "
				 "inputs, %zu layers, %zu parameters vs %zu, "
				 "%zu, %zu)", dst->n_in, dst->n_layers,
				 dst->n_params, src->n_in, src->n_layers,
				 src->n_params);
	for (size_t l = 0; l < dst->n_layers; l++)
		if (dst->layers[l].in != src->layers[l].in ||
		    dst->layers[l].out != src->layers[l].out ||
		    (dst->layers[l].b == NULL) != (src->layers[l].b == NULL))
			return lupi__err(LUPI_ESHAPE, "layer %zu differs: "
					 "%zu x %zu vs %zu x %zu", l,
					 dst->layers[l].out,
					 dst->layers[l].in,
					 src->layers[l].out,
					 src->layers[l].in);
	return lupi_model_set_params(dst, src->params, src->n_params);
}

/* Not checked for NaN: a host may restore any state it saved. A non-finite
 * parameter makes the next step fail with LUPI_ENONFINITE. */
int lupi_model_set_params(lupi_model *m, const float *params, size_t n)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(params);
	LUPI__TRY(check_count(m, n));
	memcpy(m->params, params, n * sizeof *params);
	lupi__model_touch(m);
	m->initialized = 1;
	/* the privacy record no longer describes these parameters */
	m->privacy.accounted = 0;
	return LUPI_OK;
}

/* std is stored as its float reciprocal, so get returns 1/(1/std), which
 * may differ from a set std in the last bit. */
int lupi_model_get_standardizer(const lupi_model *m, float *mean, float *std)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(mean);
	LUPI__CHECK_NULL(std);
	if (!m->has_std)
		return lupi__err(LUPI_ESTATE,
				 "the model has no standardisation");
	for (size_t j = 0; j < m->n_in; j++) {
		mean[j] = m->mean[j];
		std[j] = (float)(1.0 / (double)m->inv_std[j]);
	}
	return LUPI_OK;
}

int lupi_model_set_standardizer(lupi_model *m, const float *mean,
				const float *std)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(mean);
	LUPI__CHECK_NULL(std);
	for (size_t j = 0; j < m->n_in; j++) {
		if (!isfinite(mean[j]))
			return lupi__err(LUPI_ERANGE,
					 "mean of input %zu is not finite", j);
		if (!isfinite(std[j]) || !(std[j] > 0.0f) ||
		    !isfinite(1.0f / std[j]))
			return lupi__err(LUPI_ERANGE,
					 "std of input %zu is %g, it must be "
					 "finite and > 0", j, (double)std[j]);
	}
	for (size_t j = 0; j < m->n_in; j++) {
		m->mean[j] = mean[j];
		m->inv_std[j] = (float)(1.0 / (double)std[j]);
	}
	m->has_std = 1;
	return LUPI_OK;
}

/* ---- training ----------------------------------------------------------- */

int lupi__model_check_batch(const lupi_model *m, size_t n)
{
	size_t wide = m->n_in > m->n_out ? m->n_in : m->n_out, bytes;
	for (size_t l = 0; l < m->n_layers; l++)
		if (m->layers[l].out > wide)
			wide = m->layers[l].out;
	if (n > LUPI__MAX_BATCH ||
	    lupi__mul_overflow(n, wide, &bytes) ||
	    lupi__mul_overflow(bytes, sizeof(float), &bytes))
		return lupi__err(LUPI_ERANGE, "a batch of n = %zu samples: at "
				 "most %zu", n, (size_t)LUPI__MAX_BATCH);
	return LUPI_OK;
}

/* Forward, label loss and backward on samples idx[0..n) of ds: the mean
 * loss into *value, its gradient into m->grads. A step is this and an
 * update, so that a step equals a gradient and its application. */
static int label_gradient(lupi_model *m, const lupi_dataset *ds,
			  const size_t *idx, size_t n, double *value)
{
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "empty batch");
	LUPI__TRY(lupi__model_check_batch(m, n));
	LUPI__TRY(lupi__model_prepare(m, ds));
	const float *s;
	LUPI__TRY(lupi__model_forward(m, ds, idx, n, LUPI__FWD_TRAIN, &s));
	LUPI__TRY(lupi__objective_hard(m->task, n, m->n_out, s, m->y_labels,
				       m->y_targets, m->y_weights, value,
				       m->dlogits));
	if (!isfinite(*value))
		return lupi__err(LUPI_ENONFINITE, "loss is not finite");
	return lupi__model_backward(m, m->dlogits, NULL, 0);
}

int lupi_model_step(lupi_model *m, const lupi_dataset *ds, const size_t *idx,
		    size_t n, double *loss)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	double value;
	LUPI__TRY(label_gradient(m, ds, idx, n, &value));
	LUPI__TRY(lupi__model_reduce(m));
	LUPI__TRY(lupi__model_update(m));
	if (loss)
		*loss = value;
	return LUPI_OK;
}

/* ---- gradient reduction (data-parallel training) ------------------------ */

int lupi_model_set_reduce(lupi_model *m, lupi_reduce_fn fn, void *user)
{
	LUPI__CHECK_NULL(m);
	m->reduce = fn;
	m->reduce_user = fn ? user : NULL;
	return LUPI_OK;
}

int lupi__model_reduce(lupi_model *m)
{
	if (m->reduce == NULL)
		return LUPI_OK;
	lupi__err(LUPI_OK, "%s", "");
	int rc = m->reduce(m->reduce_user, m->grads, m->n_params);
	if (rc >= 0)
		return LUPI_OK;
	if (lupi_errmsg()[0] == '\0')
		return lupi__err(rc, "the gradient reduction hook failed "
				 "(%d)", rc);
	return rc;
}

static int check_grad_count(const lupi_model *m, size_t n_grad)
{
	if (n_grad != m->n_params)
		return lupi__err(LUPI_ESHAPE,
				 "a gradient of %zu floats, the model has %zu "
				 "parameters", n_grad, m->n_params);
	return LUPI_OK;
}

int lupi_model_gradient(lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, double *loss, float *grad,
			size_t n_grad)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	LUPI__CHECK_NULL(grad);
	LUPI__TRY(check_grad_count(m, n_grad));
	double value;
	LUPI__TRY(label_gradient(m, ds, idx, n, &value));
	LUPI__TRY(lupi__model_check_grads(m));
	memcpy(grad, m->grads, n_grad * sizeof *grad);
	if (loss)
		*loss = value;
	return LUPI_OK;
}

int lupi_model_apply_gradient(lupi_model *m, const float *grad,
			      size_t n_grad)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(grad);
	LUPI__TRY(check_grad_count(m, n_grad));
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model is not initialised: "
				 "call lupi_model_init() or set its "
				 "parameters first");
	if (m->grads == NULL) {
		m->grads = lupi__calloc(m->n_params, sizeof *m->grads);
		if (m->grads == NULL)
			return lupi__err(LUPI_ENOMEM,
					 "cannot allocate %zu gradients",
					 m->n_params);
	}
	/* m->grads is scratch: overwriting it changes nothing a caller sees
	 * when the update then fails */
	memcpy(m->grads, grad, n_grad * sizeof *grad);
	lupi__model_zero_frozen(m, m->grads);
	return lupi__model_update(m);
}

/* ---- prediction --------------------------------------------------------- */

#define CHUNK 256         /* rows per prediction chunk */
#define STACK_FLOATS 1024 /* scratch kept on the stack */

/* Calls fn on the logits of every row: rows of x (n x n_in) when ds is NULL,
 * else the samples of ds that have the view (raw features). Scratch is per
 * call, so a const model can be used by several threads at once. */
typedef void (*row_fn)(void *ctx, size_t i, const float *logits);

/* Finite weights can still overflow in the forward pass (or an input be
 * NaN): an output that is not finite is an error, not a result. One scan
 * of the outputs, cheap next to the forward pass that made them. */
static int finite_row(const float *s, size_t k, size_t sample)
{
	size_t where;
	if (lupi__all_finite(s, k, &where))
		return LUPI_OK;
	return lupi__err(LUPI_ENONFINITE, "sample %zu: output %zu is not "
			 "finite", sample, where);
}

static int each_logits(const lupi_model *m, const lupi_dataset *ds,
		       const float *x, size_t n, row_fn fn, void *ctx)
{
	size_t rows = n < CHUNK ? n : CHUNK;
	size_t per = m->n_out + (ds ? m->n_in : 0);
	size_t need = rows * per; /* bounded by CHUNK * 2^21 */
	float stack[STACK_FLOATS];
	float *buf = need <= STACK_FLOATS ? stack :
		lupi__malloc_array(need, sizeof *buf);
	if (buf == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu floats of "
				 "scratch", need);
	float *lg = buf, *xb = buf + rows * m->n_out;
	int need_priv = ds && lupi__view_needs_priv(m->opt.view);
	size_t idx[CHUNK];
	int rc = LUPI_OK;
	for (size_t i = 0; i < n && rc == LUPI_OK;) {
		size_t nr = 0;
		const float *in = ds ? xb : x + i * m->n_in;
		if (ds) {
			for (; i < n && nr < rows; i++) {
				if (need_priv && !lupi__dataset_has_priv(ds, i))
					continue;
				lupi__view_row(ds, m->opt.view, i,
					       xb + nr * m->n_in);
				idx[nr++] = i;
			}
		} else {
			nr = n - i < rows ? n - i : rows;
			for (size_t r = 0; r < nr; r++)
				idx[r] = i + r;
			i += nr;
		}
		if (nr == 0)
			break;
		rc = lupi__model_predict_logits(m, in, nr, lg);
		for (size_t r = 0; r < nr && rc == LUPI_OK; r++)
			rc = finite_row(lg + r * m->n_out, m->n_out, idx[r]);
		for (size_t r = 0; r < nr && rc == LUPI_OK; r++)
			fn(ctx, idx[r], lg + r * m->n_out);
	}
	if (buf != stack)
		lupi__free(buf);
	return rc;
}

/* n rows of `width` 4-byte values must fit in memory (what x and out
 * hold), so that no index computation wraps around. */
static int check_rows(size_t n, size_t width, const char *what)
{
	size_t count;
	if (lupi__mul_overflow(n, width, &count) ||
	    lupi__mul_overflow(count, sizeof(float), &count))
		return lupi__err(LUPI_ERANGE, "%zu samples of %zu %s: more "
				 "bytes than memory can hold", n, width, what);
	return LUPI_OK;
}

/* out_width: values written per sample. */
static int check_predict(const lupi_model *m, const float *x, size_t n,
			 size_t d, const void *out, size_t out_width)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(out);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "no samples to predict");
	if (d != m->n_in)
		return lupi__err(LUPI_ESHAPE,
				 "rows of %zu features given, the model has "
				 "%zu inputs", d, m->n_in);
	LUPI__TRY(check_rows(n, d, "inputs"));
	LUPI__TRY(check_rows(n, out_width, "outputs"));
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model is not initialised");
	return LUPI_OK;
}

/* Probabilities from logits in place: softmax (sums in double) or a
 * sigmoid that never overflows; regression outputs stay. */
static void to_output(int task, float *s, size_t k)
{
	if (task == LUPI_TASK_CLASSIFICATION) {
		/* one exponential per output, shifted by the maximum; a NaN
		 * logit makes the sum and so every output NaN */
		float mx = s[0];
		for (size_t j = 1; j < k; j++)
			mx = s[j] > mx ? s[j] : mx;
		double sum = 0.0;
		for (size_t j = 0; j < k; j++) {
			double e = exp((double)s[j] - mx);
			s[j] = (float)e;
			sum += e;
		}
		double inv = 1.0 / sum;
		for (size_t j = 0; j < k; j++)
			s[j] = (float)(s[j] * inv);
	} else if (task == LUPI_TASK_BINARY) {
		double e = exp(-fabs((double)s[0]));
		s[0] = (float)(s[0] >= 0.0f ? 1.0 / (1.0 + e) : e / (1.0 + e));
	}
}

/* The rows of a lupi_model_predict, checked in the threads of the
 * prediction pass: to_output on each row whose logits are all finite when
 * `output`; the first row that is not is kept in `bad` (n when none) for
 * the error, and stays as it is. */
struct predict_check {
	const lupi_model *m;
	const float *out;
	int output;
	_Atomic size_t bad;
};

static void check_rows_out(void *ctx, float *s, size_t nr)
{
	struct predict_check *c = ctx;
	size_t k = c->m->n_out, where;
	for (size_t i = 0; i < nr; i++, s += k) {
		if (lupi__all_finite(s, k, &where)) {
			if (c->output)
				to_output(c->m->task, s, k);
			continue;
		}
		/* the lowest bad row over all threads */
		size_t row = (size_t)(s - c->out) / k;
		size_t seen = atomic_load(&c->bad);
		while (row < seen &&
		       !atomic_compare_exchange_weak(&c->bad, &seen, row))
			;
		return;
	}
}

int lupi_model_predict(const lupi_model *m, const float *x, size_t n,
		       size_t d, int what, float *out)
{
	LUPI__CHECK_NULL(m);
	LUPI__TRY(check_predict(m, x, n, d, out, m->n_out));
	if (what != LUPI_PREDICT_OUTPUT && what != LUPI_PREDICT_LOGITS)
		return lupi__err(LUPI_EINVAL, "unknown prediction kind %d",
				 what);
	struct predict_check c = {m, out, what == LUPI_PREDICT_OUTPUT, n};
	LUPI__TRY(lupi__model_predict_apply(m, x, n, out, check_rows_out, &c));
	size_t bad = atomic_load(&c.bad);
	return bad < n ? finite_row(out + bad * m->n_out, m->n_out, bad)
		       : LUPI_OK;
}

static int32_t class_of(const lupi_model *m, const float *s)
{
	if (m->task == LUPI_TASK_BINARY)
		return s[0] > 0.0f;
	return (int32_t)lupi__argmax(s, m->n_out);
}

struct class_ctx {
	const lupi_model *m;
	int32_t *classes;
};

static void class_row(void *ctx, size_t i, const float *s)
{
	struct class_ctx *c = ctx;
	c->classes[i] = class_of(c->m, s);
}

int lupi_model_predict_class(const lupi_model *m, const float *x, size_t n,
			     size_t d, int32_t *classes)
{
	LUPI__CHECK_NULL(m);
	LUPI__TRY(check_predict(m, x, n, d, classes, 1));
	if (m->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "a regression model has no "
				 "classes");
	struct class_ctx c = {m, classes};
	return each_logits(m, NULL, x, n, class_row, &c);
}

/* ---- evaluation --------------------------------------------------------- */

struct eval_ctx {
	const lupi_model *m;
	const lupi_dataset *ds;
	int metric;
	double sum;
	size_t count;    /* samples */
	uint64_t *conf;  /* confusion counts or NULL */
};

static void eval_row(void *ctx, size_t i, const float *s)
{
	struct eval_ctx *e = ctx;
	const lupi_model *m = e->m;
	const lupi_dataset *ds = e->ds;
	size_t k = m->n_out;
	if (m->task != LUPI_TASK_REGRESSION && lupi__dataset_label(ds, i) < 0)
		return; /* no label (the dataset's label mask) */
	e->count++;
	if (e->conf) {
		size_t kk = m->task == LUPI_TASK_BINARY ? 2 : k;
		e->conf[(size_t)ds->labels[i] * kk + (size_t)class_of(m, s)]++;
		return;
	}
	if (e->metric == LUPI_METRIC_ACCURACY) {
		e->sum += class_of(m, s) == ds->labels[i];
	} else if (e->metric == LUPI_METRIC_LOGLOSS) {
		double l = 0.0;
		lupi__objective_hard(m->task, 1, k, s, ds->labels + i, NULL,
				     NULL, &l, NULL);
		e->sum += l;
	} else {
		const float *y = ds->targets + i * ds->k;
		for (size_t j = 0; j < k; j++) {
			double d = (double)s[j] - y[j];
			e->sum += e->metric == LUPI_METRIC_MSE ? d * d
							       : fabs(d);
		}
	}
}

static int check_metric(const lupi_model *m, int metric)
{
	int reg = m->task == LUPI_TASK_REGRESSION;
	switch (metric) {
	case LUPI_METRIC_ACCURACY:
	case LUPI_METRIC_LOGLOSS:
		if (reg)
			return lupi__err(LUPI_ENOTSUP, "metric %d needs a "
					 "classification model", metric);
		return LUPI_OK;
	case LUPI_METRIC_MSE:
	case LUPI_METRIC_MAE:
		if (!reg)
			return lupi__err(LUPI_ENOTSUP, "metric %d needs a "
					 "regression model", metric);
		return LUPI_OK;
	default:
		return lupi__err(LUPI_EINVAL, "unknown metric %d", metric);
	}
}

static int run_eval(struct eval_ctx *e)
{
	const lupi_model *m = e->m;
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model is not initialised");
	LUPI__TRY(lupi__model_check_dataset(m, e->ds, 1));
	LUPI__TRY(each_logits(m, e->ds, NULL, e->ds->n, eval_row, e));
	if (e->count == 0)
		return lupi__err(LUPI_ESTATE, "no sample of the dataset has "
				 "the privileged features the view needs");
	return LUPI_OK;
}

int lupi_model_evaluate(const lupi_model *m, const lupi_dataset *ds,
			int metric, double *value)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(value);
	LUPI__TRY(check_metric(m, metric));
	struct eval_ctx e = {m, ds, metric, 0.0, 0, NULL};
	LUPI__TRY(run_eval(&e));
	double den = (double)e.count;
	if (metric == LUPI_METRIC_MSE || metric == LUPI_METRIC_MAE)
		den *= (double)m->n_out;
	*value = e.sum / den;
	return LUPI_OK;
}

int lupi_model_confusion(const lupi_model *m, const lupi_dataset *ds,
			 uint64_t *counts)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(counts);
	if (m->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "a regression model has no "
				 "confusion matrix");
	size_t kk = m->task == LUPI_TASK_BINARY ? 2 : m->n_out;
	memset(counts, 0, kk * kk * sizeof *counts);
	struct eval_ctx e = {m, ds, LUPI_METRIC_ACCURACY, 0.0, 0, counts};
	return run_eval(&e);
}

/* ---- evaluation over a column subset ----------------------------------- */

struct cols_ctx {
	const lupi_dataset *ds;
	int metric;
	const size_t *cols;
	size_t nc;
	double sum;
	size_t count;
};

/* Class y of the task is output cols[y]; softmax over the columns. */
static void cols_row(void *ctx, size_t i, const float *s)
{
	struct cols_ctx *c = ctx;
	int32_t y = lupi__dataset_label(c->ds, i);
	if (y < 0)
		return;
	c->count++;
	size_t best = 0;
	double mx = s[c->cols[0]];
	for (size_t j = 1; j < c->nc; j++)
		if (s[c->cols[j]] > mx) {
			mx = s[c->cols[j]];
			best = j;
		}
	if (c->metric == LUPI_METRIC_ACCURACY) {
		c->sum += best == (size_t)y;
		return;
	}
	double sum = 0.0;
	for (size_t j = 0; j < c->nc; j++)
		sum += exp((double)s[c->cols[j]] - mx);
	c->sum += mx + log(sum) - s[c->cols[y]];
}

static int check_cols(const lupi_model *m, const lupi_dataset *ds,
		      const size_t *cols, size_t n_cols)
{
	if (m->task != LUPI_TASK_CLASSIFICATION ||
	    ds->task != LUPI_TASK_CLASSIFICATION)
		return lupi__err(LUPI_ENOTSUP, "evaluation over columns needs "
				 "a classification model and dataset (tasks "
				 "%d and %d)", m->task, ds->task);
	if (n_cols < 2 || n_cols > m->n_out)
		return lupi__err(LUPI_EINVAL, "%zu columns: between 2 and the "
				 "model's %zu outputs", n_cols, m->n_out);
	if (ds->k != n_cols)
		return lupi__err(LUPI_ESHAPE, "dataset has %zu classes, %zu "
				 "columns given", ds->k, n_cols);
	for (size_t j = 0; j < n_cols; j++) {
		if (cols[j] >= m->n_out)
			return lupi__err(LUPI_ERANGE, "column %zu is %zu, the "
					 "model has %zu outputs", j, cols[j],
					 m->n_out);
		for (size_t q = 0; q < j; q++)
			if (cols[q] == cols[j])
				return lupi__err(LUPI_EINVAL, "column %zu is "
						 "listed twice", cols[j]);
	}
	return LUPI_OK;
}

int lupi_model_evaluate_columns(const lupi_model *m, const lupi_dataset *ds,
				int metric, const size_t *cols, size_t n_cols,
				double *value)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(cols);
	LUPI__CHECK_NULL(value);
	if (metric != LUPI_METRIC_ACCURACY && metric != LUPI_METRIC_LOGLOSS)
		return lupi__err(metric == LUPI_METRIC_MSE ||
						 metric == LUPI_METRIC_MAE
					 ? LUPI_ENOTSUP
					 : LUPI_EINVAL,
				 "metric %d over columns: accuracy or "
				 "log-loss only", metric);
	LUPI__TRY(check_cols(m, ds, cols, n_cols));
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model is not initialised");
	LUPI__TRY(lupi__model_check_dataset(m, ds, 0));
	struct cols_ctx c = {ds, metric, cols, n_cols, 0.0, 0};
	LUPI__TRY(each_logits(m, ds, NULL, ds->n, cols_row, &c));
	if (c.count == 0)
		return lupi__err(LUPI_ESTATE, "no sample of the dataset is "
				 "labelled and has the features the view "
				 "needs");
	*value = c.sum / (double)c.count;
	return LUPI_OK;
}
