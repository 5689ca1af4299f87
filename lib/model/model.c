/* The public lupi_model_* API: creation, options, parameters, training
 * steps, prediction and evaluation. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "model_internal.h"

/* ---- creation ----------------------------------------------------------- */

int lupi_model_create(int task, size_t n_in, const size_t *hidden,
		      size_t n_hidden, size_t n_out, lupi_model **out)
{
	return lupi__model_alloc(task, n_in, hidden, n_hidden, n_out,
				 LUPI_ACT_RELU, out);
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
	for (size_t l = 0; l + 1 < m->n_layers; l++)
		hidden[l] = m->layers[l].out;
	lupi_model *c;
	LUPI__TRY(lupi__model_alloc(m->task, m->n_in, hidden, m->n_layers - 1,
				    m->n_out, m->opt.activation, &c));
	c->opt_m = dup_floats(m->opt_m, m->n_params);
	c->opt_v = dup_floats(m->opt_v, m->n_params);
	if ((m->opt_m && c->opt_m == NULL) || (m->opt_v && c->opt_v == NULL)) {
		lupi_model_free(c);
		return lupi__err(LUPI_ENOMEM, "cannot allocate a model copy");
	}
	for (size_t l = 0; l < m->n_layers; l++)
		c->layers[l].act = m->layers[l].act;
	memcpy(c->params, m->params, m->n_params * sizeof *c->params);
	memcpy(c->mean, m->mean, m->n_in * sizeof *c->mean);
	memcpy(c->inv_std, m->inv_std, m->n_in * sizeof *c->inv_std);
	c->has_std = m->has_std;
	c->initialized = m->initialized;
	c->opt = m->opt;
	c->t = m->t;
	c->epoch = m->epoch;
	c->rng = m->rng;
	*out = c;
	return LUPI_OK;
}

/* ---- options ------------------------------------------------------------ */

enum { F_INT, F_I64, F_U64 };

struct int_opt {
	int key;
	const char *name;
	int64_t lo, hi;
	int shapes; /* refused after training started */
	int type;
	size_t off;
};

#define O(f) offsetof(lupi__model_opts, f)
static const struct int_opt int_opts[] = {
	{LUPI_MODEL_OPT_ACTIVATION, "ACTIVATION", 0, 4, 1, F_INT, O(activation)},
	{LUPI_MODEL_OPT_INIT, "INIT", 0, 2, 1, F_INT, O(init)},
	{LUPI_MODEL_OPT_OPTIMIZER, "OPTIMIZER", 0, 2, 1, F_INT, O(optimizer)},
	{LUPI_MODEL_OPT_SCHEDULE, "SCHEDULE", 0, 2, 0, F_INT, O(schedule)},
	{LUPI_MODEL_OPT_EPOCHS, "EPOCHS", 1, 1000000, 0, F_I64, O(epochs)},
	{LUPI_MODEL_OPT_BATCH, "BATCH", 1, 1048576, 0, F_I64, O(batch)},
	{LUPI_MODEL_OPT_SEED, "SEED", INT64_MIN, INT64_MAX, 0, F_U64, O(seed)},
	{LUPI_MODEL_OPT_SHUFFLE, "SHUFFLE", 0, 1, 0, F_INT, O(shuffle)},
	{LUPI_MODEL_OPT_PATIENCE, "PATIENCE", 0, 1000000, 0, F_I64, O(patience)},
	{LUPI_MODEL_OPT_VIEW, "VIEW", 0, 2, 1, F_INT, O(view)},
	{LUPI_MODEL_OPT_STANDARDIZE, "STANDARDIZE", 0, 1, 1, F_INT, O(standardize)},
	{LUPI_MODEL_OPT_NESTEROV, "NESTEROV", 0, 1, 0, F_INT, O(nesterov)},
	{LUPI_MODEL_OPT_STEP_SIZE, "STEP_SIZE", 1, 1000000, 0, F_I64, O(step_size)},
	{LUPI_MODEL_OPT_RESTORE_BEST, "RESTORE_BEST", 0, 1, 0, F_INT,
	 O(restore_best)},
	{LUPI_MODEL_OPT_PROGRESS_STEPS, "PROGRESS_STEPS", 0, INT64_MAX, 0, F_I64,
	 O(progress_steps)},
};

struct dbl_opt {
	int key;
	const char *name;
	double lo, hi;
	int lo_open, hi_open;
	size_t off;
};

static const struct dbl_opt dbl_opts[] = {
	{LUPI_MODEL_OPT_LR, "LR", 0.0, 1e3, 1, 0, O(lr)},
	{LUPI_MODEL_OPT_MOMENTUM, "MOMENTUM", 0.0, 1.0, 0, 1, O(momentum)},
	{LUPI_MODEL_OPT_BETA1, "BETA1", 0.0, 1.0, 0, 1, O(beta1)},
	{LUPI_MODEL_OPT_BETA2, "BETA2", 0.0, 1.0, 0, 1, O(beta2)},
	{LUPI_MODEL_OPT_EPSILON, "EPSILON", 0.0, 1.0, 1, 0, O(epsilon)},
	{LUPI_MODEL_OPT_WEIGHT_DECAY, "WEIGHT_DECAY", 0.0, INFINITY, 0, 1,
	 O(weight_decay)},
	{LUPI_MODEL_OPT_DROPOUT, "DROPOUT", 0.0, 1.0, 0, 1, O(dropout)},
	{LUPI_MODEL_OPT_CLIP_NORM, "CLIP_NORM", 0.0, INFINITY, 0, 1, O(clip_norm)},
	{LUPI_MODEL_OPT_GAMMA, "GAMMA", 0.0, 1.0, 1, 0, O(gamma)},
	{LUPI_MODEL_OPT_MIN_LR, "MIN_LR", 0.0, INFINITY, 0, 1, O(min_lr)},
};
#undef O

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct int_opt *find_int(int key)
{
	for (size_t i = 0; i < COUNT(int_opts); i++)
		if (int_opts[i].key == key)
			return &int_opts[i];
	return NULL;
}

static const struct dbl_opt *find_dbl(int key)
{
	for (size_t i = 0; i < COUNT(dbl_opts); i++)
		if (dbl_opts[i].key == key)
			return &dbl_opts[i];
	return NULL;
}

static int training_started(const lupi_model *m)
{
	return m->t > 0;
}

int lupi_model_set_int(lupi_model *m, int key, int64_t value)
{
	LUPI__CHECK_NULL(m);
	const struct int_opt *o = find_int(key);
	if (o == NULL)
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown integer model option %d", key);
	if (value < o->lo || value > o->hi)
		return lupi__err(LUPI_ERANGE,
				 "LUPI_OPT_%s must be in [%lld, %lld], "
				 "got %lld",
				 o->name, (long long)o->lo, (long long)o->hi,
				 (long long)value);
	if (o->shapes && training_started(m))
		return lupi__err(LUPI_ESTATE,
				 "LUPI_OPT_%s cannot change after training "
				 "started", o->name);
	char *f = (char *)&m->opt + o->off;
	if (o->type == F_INT)
		*(int *)f = (int)value;
	else if (o->type == F_I64)
		*(int64_t *)f = value;
	else
		*(uint64_t *)f = (uint64_t)value;
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
	LUPI__CHECK_NULL(value);
	const struct int_opt *o = find_int(key);
	if (o == NULL)
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown integer model option %d", key);
	const char *f = (const char *)&m->opt + o->off;
	if (o->type == F_INT)
		*value = *(const int *)f;
	else if (o->type == F_I64)
		*value = *(const int64_t *)f;
	else
		*value = (int64_t)*(const uint64_t *)f;
	return LUPI_OK;
}

int lupi_model_set_double(lupi_model *m, int key, double value)
{
	LUPI__CHECK_NULL(m);
	const struct dbl_opt *o = find_dbl(key);
	if (o == NULL)
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown real model option %d", key);
	int below = o->lo_open ? !(value > o->lo) : !(value >= o->lo);
	int above = o->hi_open ? !(value < o->hi) : !(value <= o->hi);
	if (below || above || !isfinite(value))
		return lupi__err(LUPI_ERANGE,
				 "LUPI_OPT_%s must be in %c%g, %g%c, got %g",
				 o->name, o->lo_open ? '(' : '[', o->lo, o->hi,
				 o->hi_open ? ')' : ']', value);
	*(double *)((char *)&m->opt + o->off) = value;
	return LUPI_OK;
}

int lupi_model_get_double(const lupi_model *m, int key, double *value)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(value);
	const struct dbl_opt *o = find_dbl(key);
	if (o == NULL)
		return lupi__err(LUPI_EUNKNOWN_OPTION,
				 "unknown real model option %d", key);
	*value = *(const double *)((const char *)&m->opt + o->off);
	return LUPI_OK;
}

int lupi_model_set_layer_activation(lupi_model *m, size_t layer, int act)
{
	LUPI__CHECK_NULL(m);
	if (layer + 1 >= m->n_layers)
		return lupi__err(LUPI_ERANGE,
				 "layer %zu is not a hidden layer (the model "
				 "has %zu)", layer, m->n_layers - 1);
	if (!lupi__act_valid(act))
		return lupi__err(LUPI_ERANGE, "unknown activation %d", act);
	if (training_started(m))
		return lupi__err(LUPI_ESTATE,
				 "activations cannot change after training "
				 "started");
	m->layers[layer].act = act;
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

int lupi_model_layer_activation(const lupi_model *m, size_t i)
{
	return m && i < m->n_layers ? m->layers[i].act : 0;
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

/* Not checked for NaN: a host may restore any state it saved. A non-finite
 * parameter makes the next step fail with LUPI_ENONFINITE. */
int lupi_model_set_params(lupi_model *m, const float *params, size_t n)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(params);
	LUPI__TRY(check_count(m, n));
	memcpy(m->params, params, n * sizeof *params);
	m->initialized = 1;
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

int lupi_model_step(lupi_model *m, const lupi_dataset *ds, const size_t *idx,
		    size_t n, double *loss)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "empty batch");
	LUPI__TRY(lupi__model_prepare(m, ds));
	const float *s;
	LUPI__TRY(lupi__model_forward(m, ds, idx, n, 1, &s));
	double value;
	LUPI__TRY(lupi__objective_hard(m->task, n, m->n_out, s, m->y_labels,
				       m->y_targets, m->y_weights, &value,
				       m->dlogits));
	if (!isfinite(value))
		return lupi__err(LUPI_ENONFINITE, "loss is not finite");
	LUPI__TRY(lupi__model_backward(m, m->dlogits, NULL, 0));
	LUPI__TRY(lupi__model_update(m));
	if (loss)
		*loss = value;
	return LUPI_OK;
}

/* ---- prediction --------------------------------------------------------- */

#define CHUNK 256         /* rows per prediction chunk */
#define STACK_FLOATS 1024 /* scratch kept on the stack */

/* Calls fn on the logits of every row: rows of x (n x n_in) when ds is NULL,
 * else the samples of ds that have the view (raw features). Scratch is per
 * call, so a const model can be used by several threads at once. */
typedef void (*row_fn)(void *ctx, size_t i, const float *logits);

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
			fn(ctx, idx[r], lg + r * m->n_out);
	}
	if (buf != stack)
		lupi__free(buf);
	return rc;
}

static int check_predict(const lupi_model *m, const float *x, size_t n,
			 const void *out)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(out);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "no samples to predict");
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

int lupi_model_predict(const lupi_model *m, const float *x, size_t n,
		       int what, float *out)
{
	LUPI__TRY(check_predict(m, x, n, out));
	if (what != LUPI_PREDICT_OUTPUT && what != LUPI_PREDICT_LOGITS)
		return lupi__err(LUPI_EINVAL, "unknown prediction kind %d",
				 what);
	LUPI__TRY(lupi__model_predict_logits(m, x, n, out));
	if (what == LUPI_PREDICT_OUTPUT)
		for (size_t i = 0; i < n; i++)
			to_output(m->task, out + i * m->n_out, m->n_out);
	return LUPI_OK;
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
			     int32_t *classes)
{
	LUPI__TRY(check_predict(m, x, n, classes));
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
