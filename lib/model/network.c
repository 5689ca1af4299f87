/* Dense networks: allocation, initialisation, activations, the training
 * forward and backward passes, and the thread-safe prediction pass. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "model_internal.h"

/* ---- options and allocation --------------------------------------------- */

void lupi__model_opts_default(lupi__model_opts *o)
{
	memset(o, 0, sizeof *o);
	lupi__option_defaults(&lupi__model_options, o);
}

int lupi__act_valid(int act)
{
	return act >= LUPI_ACT_IDENTITY && act <= LUPI_ACT_TEMPERED_SIGMOID;
}

static int check_shape(int task, size_t n_in, const size_t *hidden,
		       size_t n_hidden, size_t n_out)
{
	if (task == LUPI_TASK_CLASSIFICATION && n_out < 2)
		return lupi__err(LUPI_EINVAL,
				 "classification needs at least 2 outputs, "
				 "got %zu", n_out);
	if (task == LUPI_TASK_BINARY && n_out != 1)
		return lupi__err(LUPI_EINVAL,
				 "a binary model has 1 output, got %zu", n_out);
	if (task != LUPI_TASK_CLASSIFICATION && task != LUPI_TASK_BINARY &&
	    task != LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_EINVAL, "unknown task %d", task);
	if (n_hidden > 0 && hidden == NULL)
		return lupi__err(LUPI_EINVAL, "hidden is NULL with %zu layers",
				 n_hidden);
	if (n_hidden >= LUPI__MAX_LAYERS)
		return lupi__err(LUPI_ERANGE,
				 "%zu hidden layers, at most %u allowed",
				 n_hidden, LUPI__MAX_LAYERS - 1);
	if (n_in == 0 || n_in > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_ERANGE, "%zu inputs, allowed 1..%u",
				 n_in, LUPI__MAX_WIDTH);
	if (n_out == 0 || n_out > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_ERANGE, "%zu outputs, allowed 1..%u",
				 n_out, LUPI__MAX_WIDTH);
	for (size_t i = 0; i < n_hidden; i++)
		if (hidden[i] == 0 || hidden[i] > LUPI__MAX_WIDTH)
			return lupi__err(LUPI_ERANGE,
					 "hidden layer %zu has size %zu, "
					 "allowed 1..%u",
					 i, hidden[i], LUPI__MAX_WIDTH);
	return LUPI_OK;
}

/* Parameters the layers need, into *n; returns 1 on size overflow. */
static int count_params(const lupi_model *m, size_t *n)
{
	size_t total = 0;
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		size_t nw, nb = ly->has_bias ? ly->out : 0;
		if (lupi__mul_overflow(ly->in, ly->out, &nw) ||
		    nw > SIZE_MAX - nb - total)
			return 1;
		total += nw + nb;
	}
	*n = total;
	return 0;
}

/* Points each layer's weights, then its bias if it has one, into params. */
static void point_layers(lupi_model *m)
{
	float *p = m->params;
	for (size_t l = 0; l < m->n_layers; l++) {
		lupi__layer *ly = &m->layers[l];
		ly->w = p;
		p += ly->in * ly->out;
		ly->b = ly->has_bias ? p : NULL;
		p += ly->has_bias ? ly->out : 0;
	}
}

int lupi__model_relayout(lupi_model *m)
{
	size_t n;
	if (count_params(m, &n))
		return lupi__err(LUPI_ERANGE, "the network is too large");
	float *p = lupi__calloc(n, sizeof *p);
	if (p == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu parameters",
				 n);
	lupi__free(m->params);
	lupi__free(m->grads);
	lupi__free(m->opt_m);
	lupi__free(m->opt_v);
	m->grads = m->opt_m = m->opt_v = NULL;
	lupi__model_touch(m);
	m->params = p;
	m->n_params = n;
	m->batch_n = 0;
	point_layers(m);
	return LUPI_OK;
}

int lupi__model_alloc(int task, size_t n_in, const size_t *hidden,
		      size_t n_hidden, size_t n_out, int hidden_act,
		      const uint8_t *no_bias, lupi_model **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__TRY(check_shape(task, n_in, hidden, n_hidden, n_out));
	if (!lupi__act_valid(hidden_act))
		return lupi__err(LUPI_ERANGE, "unknown activation %d",
				 hidden_act);

	lupi_model *m = lupi__calloc(1, sizeof *m);
	if (m == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a model");
	m->task = task;
	m->n_in = n_in;
	m->n_out = n_out;
	m->n_layers = n_hidden + 1;
	lupi__model_opts_default(&m->opt);
	m->opt.activation = hidden_act;
	lupi__rng_seed(&m->rng, m->opt.seed);

	m->layers = lupi__calloc(m->n_layers, sizeof *m->layers);
	m->acts = lupi__calloc(m->n_layers + 1, sizeof *m->acts);
	m->pre = lupi__calloc(m->n_layers, sizeof *m->pre);
	m->drop = lupi__calloc(m->n_layers, sizeof *m->drop);
	m->mean = lupi__malloc_array(n_in, sizeof *m->mean);
	m->inv_std = lupi__malloc_array(n_in, sizeof *m->inv_std);
	if (m->layers == NULL || m->acts == NULL || m->pre == NULL ||
	    m->drop == NULL || m->mean == NULL || m->inv_std == NULL) {
		lupi_model_free(m);
		return lupi__err(LUPI_ENOMEM, "cannot allocate a model");
	}
	size_t prev = n_in;
	for (size_t l = 0; l < m->n_layers; l++) {
		lupi__layer *ly = &m->layers[l];
		ly->in = prev;
		ly->out = l < n_hidden ? hidden[l] : n_out;
		ly->act = l < n_hidden ? hidden_act : LUPI_ACT_IDENTITY;
		ly->has_bias = no_bias == NULL || !no_bias[l];
		prev = ly->out;
	}
	if (count_params(m, &m->n_params)) {
		lupi_model_free(m);
		return lupi__err(LUPI_ERANGE, "the network is too large");
	}
	size_t n_params = m->n_params;
	m->params = lupi__calloc(n_params, sizeof *m->params);
	if (m->params == NULL) {
		lupi_model_free(m);
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu parameters",
				 n_params);
	}
	point_layers(m);
	*out = m;
	return LUPI_OK;
}

void lupi_model_free(lupi_model *m)
{
	if (m == NULL)
		return;
	lupi__free(m->layers);
	lupi__free(m->acts);
	lupi__free(m->pre);
	lupi__free(m->drop);
	lupi__free(m->mean);
	lupi__free(m->inv_std);
	lupi__free(m->params);
	lupi__free(m->grads);
	lupi__free(m->opt_m);
	lupi__free(m->opt_v);
	lupi__arena_free(&m->arena);
	if (m->aux_free != NULL)
		m->aux_free(m->aux);
	lupi__free(m->ckpt_path);
	if (m->resume_free != NULL)
		m->resume_free(m->resume);
	lupi__free(m);
}

/* ---- initialisation ----------------------------------------------------- */

void lupi__model_init_weights(lupi_model *m)
{
	lupi__model_touch(m);
	lupi__rng_seed(&m->rng, m->opt.seed);
	for (size_t l = 0; l < m->n_layers; l++) {
		lupi__layer *ly = &m->layers[l];
		size_t nw = ly->in * ly->out;
		if (m->opt.init == LUPI_INIT_XAVIER) {
			/* Glorot & Bengio 2010: U(-a, a),
			 * a = sqrt(6 / (in + out)). */
			double a = sqrt(6.0 / (double)(ly->in + ly->out));
			for (size_t i = 0; i < nw; i++)
				ly->w[i] = (float)(a * (2.0 *
					lupi__rng_uniform(&m->rng) - 1.0));
		} else if (m->opt.init == LUPI_INIT_UNIFORM) {
			/* PyTorch's nn.Linear: kaiming_uniform(a = sqrt(5))
			 * is U(-a, a) with a = 1 / sqrt(fan_in), for the
			 * biases too. */
			double a = 1.0 / sqrt((double)ly->in);
			for (size_t i = 0; i < nw; i++)
				ly->w[i] = (float)(a * (2.0 *
					lupi__rng_uniform(&m->rng) - 1.0));
			for (size_t i = 0; ly->b && i < ly->out; i++)
				ly->b[i] = (float)(a * (2.0 *
					lupi__rng_uniform(&m->rng) - 1.0));
			continue;
		} else {
			/* He et al. 2015: N(0, 2 / fan_in); LeCun et al.
			 * 1998 ("Efficient BackProp"): N(0, 1 / fan_in). */
			double sd = sqrt((m->opt.init == LUPI_INIT_LECUN
						  ? 1.0
						  : 2.0) /
					 (double)ly->in);
			for (size_t i = 0; i < nw; i++)
				ly->w[i] = (float)(sd *
					lupi__rng_normal(&m->rng));
		}
		if (ly->b)
			memset(ly->b, 0, ly->out * sizeof *ly->b);
	}
	m->initialized = 1;
}

/* ---- activations -------------------------------------------------------- */

#define GELU_C 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_A 0.044715f

static inline float sigmoid_f(float z)
{
	return 1.0f / (1.0f + expf(-z));
}

/* GELU, tanh approximation (Hendrycks & Gimpel 2016):
 * 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))). */
static inline float gelu_f(float z)
{
	return 0.5f * z * (1.0f + tanhf(GELU_C * (z + GELU_A * z * z * z)));
}

static inline float gelu_d(float z)
{
	float t = tanhf(GELU_C * (z + GELU_A * z * z * z));
	return 0.5f * (1.0f + t) +
	       0.5f * z * (1.0f - t * t) * GELU_C *
		       (1.0f + 3.0f * GELU_A * z * z);
}

/* y += b over n rows of k values; nothing for a layer without a bias.
 * `omp simd` here and on the other element-wise loops of this file: they
 * vectorise at -O2 too, not only at -O3 (lib/model/optim.c says why). */
static void add_bias(float *restrict y, const float *restrict b, size_t n,
		     size_t k)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < n; i++, y += k)
#pragma omp simd
		for (size_t j = 0; j < k; j++)
			y[j] += b[j];
}

/* y = act(y) over count values. */
static void activate(float *restrict y, size_t count, int act)
{
	switch (act) {
	case LUPI_ACT_RELU:
#pragma omp simd
		for (size_t i = 0; i < count; i++)
			y[i] = y[i] < 0.0f ? 0.0f : y[i]; /* NaN stays NaN */
		break;
	case LUPI_ACT_TANH:
		for (size_t i = 0; i < count; i++)
			y[i] = tanhf(y[i]);
		break;
	case LUPI_ACT_SIGMOID:
		for (size_t i = 0; i < count; i++)
			y[i] = sigmoid_f(y[i]);
		break;
	case LUPI_ACT_GELU:
		for (size_t i = 0; i < count; i++)
			y[i] = gelu_f(y[i]);
		break;
	default:
		break;
	}
}

/* As activate, and d = act'(pre-activation) for backward. */
static void activate_train(float *restrict y, float *restrict d,
			   size_t count, int act)
{
	switch (act) {
	case LUPI_ACT_RELU:
#pragma omp simd
		for (size_t i = 0; i < count; i++) {
			float z = y[i];
			y[i] = z < 0.0f ? 0.0f : z; /* NaN stays NaN */
			d[i] = z > 0.0f ? 1.0f : 0.0f;
		}
		break;
	case LUPI_ACT_TANH:
		for (size_t i = 0; i < count; i++) {
			float t = tanhf(y[i]);
			y[i] = t;
			d[i] = 1.0f - t * t;
		}
		break;
	case LUPI_ACT_SIGMOID:
		for (size_t i = 0; i < count; i++) {
			float s = sigmoid_f(y[i]);
			y[i] = s;
			d[i] = s * (1.0f - s);
		}
		break;
	case LUPI_ACT_GELU:
		for (size_t i = 0; i < count; i++) {
			float z = y[i];
			y[i] = gelu_f(z);
			d[i] = gelu_d(z);
		}
		break;
	default:
#pragma omp simd
		for (size_t i = 0; i < count; i++)
			d[i] = 1.0f;
		break;
	}
}

/* Tempered sigmoid s sigmoid(T z) - o (Papernot et al. 2021, "Tempered
 * Sigmoid Activations for Deep Learning with Differential Privacy"): its
 * bounded outputs keep DP-SGD's clipped gradients informative. d, when not
 * NULL, gets the derivative s T sigmoid (1 - sigmoid). */
static void tempered_sigmoid(float *restrict y, float *restrict d,
			     size_t count, const lupi__model_opts *o)
{
	float s = (float)o->ts_scale, t = (float)o->ts_temperature;
	float off = (float)o->ts_offset;
	for (size_t i = 0; i < count; i++) {
		float g = sigmoid_f(t * y[i]);
		y[i] = s * g - off;
		if (d)
			d[i] = s * t * g * (1.0f - g);
	}
}

/* Inverted dropout (Srivastava et al. 2014): a kept unit is scaled by
 * 1/(1-p) so that prediction needs no rescaling. The mask goes into the
 * activation and into its derivative. */
static void dropout(lupi__rng *rng, float *restrict y, float *restrict d,
		    size_t count, double p)
{
	/* keep when a 53-bit uniform integer is >= p * 2^53 */
	uint64_t thresh = (uint64_t)(p * 9007199254740992.0);
	float scale = (float)(1.0 / (1.0 - p));
	for (size_t i = 0; i < count; i++) {
		float s = (lupi__rng_next(rng) >> 11) >= thresh ? scale : 0.0f;
		y[i] *= s;
		d[i] *= s;
	}
}

/* ---- standardisation and gathering -------------------------------------- */

/* The view itself (lupi__view_needs_priv, lupi__view_row, the row copies
 * and the statistics) lives in lib/data/view.c. */

void lupi__model_gather_row(const lupi_model *m, const lupi_dataset *ds,
			    size_t i, float *dst)
{
	lupi__view_row_std(ds, m->opt.view, i, m->has_std ? m->mean : NULL,
			   m->inv_std, dst);
}

/* Per-input mean and population std over the samples of ds that have the
 * model's view (lupi__view_stats); a constant feature, or one whose 1/std
 * is not finite in float, gets inv_std 1. */
static int fit_standardizer(lupi_model *m, const lupi_dataset *ds)
{
	size_t d = m->n_in;
	double *acc = lupi__malloc_array(d, 2 * sizeof *acc);
	if (acc == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate statistics");
	double *mu = acc, *sd = acc + d;
	if (lupi__view_stats(ds, m->opt.view, mu, sd) == 0) {
		lupi__free(acc);
		return lupi__err(LUPI_ESTATE,
				 "no sample of the dataset has privileged "
				 "features");
	}
	for (size_t j = 0; j < d; j++) {
		float inv = (float)(1.0 / sd[j]);
		m->mean[j] = (float)mu[j];
		m->inv_std[j] = isfinite(inv) ? inv : 1.0f;
	}
	m->has_std = 1;
	lupi__free(acc);
	return LUPI_OK;
}

/* ---- dataset checks and preparation ------------------------------------- */

int lupi__model_check_dataset(const lupi_model *m, const lupi_dataset *ds,
			      int need_targets)
{
	int view = m->opt.view;
	if (lupi__view_needs_priv(view) && ds->x_priv == NULL)
		return lupi__err(LUPI_ESHAPE,
				 "the model's view needs privileged features "
				 "and the dataset has none");
	size_t dim = lupi__dataset_view_dim(ds, view);
	if (dim != m->n_in)
		return lupi__err(LUPI_ESHAPE,
				 "the dataset's %s view has %zu features, "
				 "model has %zu inputs", lupi__view_name(view),
				 dim, m->n_in);
	if (!need_targets)
		return LUPI_OK;
	if (ds->task != m->task)
		return lupi__err(LUPI_ESTATE,
				 "dataset has no targets of the model's task "
				 "(dataset task %d, model task %d)",
				 ds->task, m->task);
	size_t k = m->task == LUPI_TASK_BINARY ? 2 : m->n_out;
	/* 2: a loss over columns may train K classes on more outputs */
	int fewer = need_targets == 2 && m->task == LUPI_TASK_CLASSIFICATION &&
		    ds->k >= 2 && ds->k <= k;
	if (ds->k != k && !fewer)
		return lupi__err(LUPI_ESHAPE,
				 "dataset has %zu %s, model has %zu outputs",
				 ds->k, m->task == LUPI_TASK_REGRESSION ?
				 "targets" : "classes", m->n_out);
	return LUPI_OK;
}

int lupi__model_prepare(lupi_model *m, const lupi_dataset *ds)
{
	return lupi__model_prepare_targets(m, ds, 1);
}

int lupi__model_prepare_targets(lupi_model *m, const lupi_dataset *ds,
				int need_targets)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__TRY(lupi__model_check_dataset(m, ds, need_targets));
	if (m->grads == NULL) {
		m->grads = lupi__calloc(m->n_params, sizeof *m->grads);
		if (m->grads == NULL)
			return lupi__err(LUPI_ENOMEM,
					 "cannot allocate %zu gradients",
					 m->n_params);
	}
	/* Every allocation of a step happens before anything changes, also in
	 * a student step whose feature loss updates its own regressor. */
	LUPI__TRY(lupi__model_optim_state(m));
	if (m->opt.standardize && !m->has_std)
		LUPI__TRY(fit_standardizer(m, ds));
	if (!m->initialized)
		lupi__model_init_weights(m);
	return LUPI_OK;
}

/* ---- training forward and backward -------------------------------------- */

void *lupi__plan_take(lupi__plan *p, size_t rows, size_t cols, size_t elt)
{
	size_t cells, bytes;
	if (lupi__mul_overflow(rows, cols, &cells) ||
	    lupi__mul_overflow(cells, elt, &bytes) ||
	    bytes > SIZE_MAX / 2 - p->used) {
		p->overflow = 1;
		return NULL;
	}
	void *r = p->base ? p->base + p->used : NULL;
	p->used += lupi__arena_size(bytes);
	return r;
}

static size_t widest(const lupi_model *m)
{
	size_t w = 0;
	for (size_t l = 0; l < m->n_layers; l++)
		if (m->layers[l].out > w)
			w = m->layers[l].out;
	return w;
}

/* A row-block array: n rows of k floats and `gap` floats after each of
 * the `parts` blocks (lupi__plan_take checks the products). */
static float *take_blocks(lupi__plan *p, size_t n, size_t k, unsigned parts,
			  size_t gap)
{
	float *a = lupi__plan_take(p, n, k, sizeof(float));
	if (gap > 0)
		lupi__plan_take(p, parts, gap, sizeof(float));
	return a;
}

/* Carves the arena for n rows in `parts` row blocks, `gap` floats after
 * each block of the arrays the blocks write; with base NULL only
 * measures. */
static void carve(lupi_model *m, size_t n, unsigned parts, size_t gap,
		  lupi__plan *p)
{
	size_t w = widest(m);
	m->acts[0] = take_blocks(p, n, m->n_in, parts, gap);
	for (size_t l = 0; l < m->n_layers; l++) {
		size_t k = m->layers[l].out;
		int hidden = l + 1 < m->n_layers;
		m->acts[l + 1] = hidden ? take_blocks(p, n, k, parts, gap) :
				 lupi__plan_take(p, n, k, sizeof(float));
		m->pre[l] = hidden ? take_blocks(p, n, k, parts, gap) : NULL;
	}
	m->delta = take_blocks(p, n, w, parts, gap);
	m->delta2 = take_blocks(p, n, w, parts, gap);
	m->dlogits = lupi__plan_take(p, n, m->n_out, sizeof(float));
	m->y_labels = lupi__plan_take(p, n, 1, sizeof(int32_t));
	m->y_targets = lupi__plan_take(p, n, m->n_out, sizeof(float));
	m->y_weights = lupi__plan_take(p, n, 1, sizeof(float));
	m->part_grads = parts > 1 ?
		lupi__plan_take(p, parts - 1, m->n_params, sizeof(float)) :
		NULL;
}

/* Floats (64 KB) kept free after each row block in the arrays the blocks
 * write: a core's hardware prefetcher runs tens of KB past the end of its
 * block into the next one and takes the other core's lines away while it
 * writes them (the bias-and-ReLU pass of a 49-256-10 student's 64-row
 * block ran several times slower on 2 threads than on 1; a 16 KB gap
 * helped by half, 64 KB fully). */
#define BLOCK_GAP 16384

/* Makes the arena hold n rows in `parts` row blocks (with BLOCK_GAP after
 * each unless whole), allocating only when n or parts exceeds every
 * earlier batch, and points the buffers into it. */
static int reserve_batch(lupi_model *m, size_t n, unsigned parts, int whole)
{
	if (n > m->batch_cap || parts > m->parts_cap ||
	    m->arena.base == NULL) {
		size_t rows = n > m->batch_cap ? n : m->batch_cap;
		unsigned most = parts > m->parts_cap ? parts : m->parts_cap;
		lupi__plan p = {NULL, 0, 0};
		carve(m, rows, most, most > 1 ? BLOCK_GAP : 0, &p);
		if (p.overflow)
			return lupi__err(LUPI_ENOMEM,
					 "a batch of %zu rows is too large", n);
		LUPI__TRY(lupi__arena_reserve(&m->arena, p.used));
		m->batch_cap = rows;
		m->parts_cap = most;
	}
	m->block_gap = parts > 1 && !whole ? BLOCK_GAP : 0;
	lupi__plan p = {m->arena.base, 0, 0};
	carve(m, n, parts, m->block_gap, &p);
	return LUPI_OK;
}

/* Row 0 of row block `part` of a blocked array (rows keep their batch
 * index: row r of the block is at the result + r * width). */
static float *block_base(const lupi_model *m, float *buf, unsigned part)
{
	return buf + part * m->block_gap;
}

static int check_batch(const lupi_model *m, const lupi_dataset *ds,
		       const size_t *idx, size_t n)
{
	int need = lupi__view_needs_priv(m->opt.view);
	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= ds->n)
			return lupi__err(LUPI_ERANGE,
					 "index %zu is %zu, the dataset has "
					 "%zu samples", i, idx[i], ds->n);
		if (need && !lupi__dataset_has_priv(ds, idx[i]))
			return lupi__err(LUPI_ESTATE,
					 "sample %zu has no privileged "
					 "features and the model's view "
					 "needs them", idx[i]);
	}
	return LUPI_OK;
}

static void gather_targets(lupi_model *m, const lupi_dataset *ds,
			   const size_t *idx, size_t n)
{
	int32_t *yl = m->y_labels;
	float *yt = m->y_targets, *yw = m->y_weights;
	m->y_labels = NULL;
	m->y_targets = NULL;
	m->y_weights = NULL;
	if (ds->labels && ds->task == m->task) {
		for (size_t i = 0; i < n; i++)
			yl[i] = lupi__dataset_label(ds, idx[i]);
		m->y_labels = yl;
	}
	if (ds->targets && ds->task == m->task && ds->k == m->n_out) {
		for (size_t i = 0; i < n; i++)
			memcpy(yt + i * m->n_out, ds->targets + idx[i] * ds->k,
			       m->n_out * sizeof *yt);
		m->y_targets = yt;
	}
	if (ds->weights) {
		for (size_t i = 0; i < n; i++)
			yw[i] = ds->weights[idx[i]];
		m->y_weights = yw;
	}
}

/* C = op(A) op(B), the only form the network needs. */
static void gemm(int ta, int tb, size_t m, size_t n, size_t k,
		 const float *a, size_t lda, const float *b, size_t ldb,
		 float *c, size_t ldc)
{
	lupi__gemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

/* Rows prefetched ahead of the one being gathered. */
#define GATHER_AHEAD 2

/* Element-wise passes run on the library's threads in parts of at least
 * this many elements (a few microseconds of work; a hand-off to a
 * spinning worker costs well under one). */
#define PART_ELEMS 16384

/* Rows [r0, r1) of y (n x out): bias and activation in one pass, row by
 * row (a row stays in L1 between the two loops); d gets the derivative
 * when not NULL. */
static void finish_rows(const lupi__layer *ly, const lupi__model_opts *o,
			float *y, float *d, size_t r0, size_t r1)
{
	size_t k = ly->out;
	for (size_t r = r0; r < r1; r++) {
		float *yr = y + r * k, *dr = d ? d + r * k : NULL;
		add_bias(yr, ly->b, 1, k);
		if (ly->act == LUPI_ACT_TEMPERED_SIGMOID)
			tempered_sigmoid(yr, dr, k, o);
		else if (dr)
			activate_train(yr, dr, k, ly->act);
		else
			activate(yr, k, ly->act);
	}
}

struct finish_job {
	const lupi__layer *ly;
	const lupi__model_opts *o;
	float *y, *d;
	size_t n;
};

static void finish_part(void *ctx, unsigned part, unsigned parts)
{
	const struct finish_job *j = ctx;
	size_t r0, r1;
	lupi__split(j->n, part, parts, 1, &r0, &r1);
	finish_rows(j->ly, j->o, j->y, j->d, r0, r1);
}

/* y (n x out) = act(x W^T + b); d gets the derivative when not NULL. o:
 * the model's options, for the tempered sigmoid's parameters. */
void lupi__model_layer_forward(const lupi__layer *ly,
			       const lupi__model_opts *o, const float *x,
			       size_t n, float *y, float *d)
{
	gemm(0, 1, n, ly->out, ly->in, x, ly->in, ly->w, ly->in, y, ly->out);
	unsigned parts = lupi__parallel_parts((double)n * (double)ly->out,
					      PART_ELEMS);
	if (parts > n)
		parts = (unsigned)n;
	struct finish_job j = {ly, o, y, d, n};
	lupi__parallel(finish_part, &j, parts);
}

struct gather_job {
	const lupi_model *m;
	const lupi_dataset *ds;
	const size_t *idx;
	size_t n;
};

/* Rows [r0, r1) of the batch into dst (row i at dst + i * n_in).
 * Shuffled rows come from memory one by one: each is prefetched a few rows
 * ahead of its copy, so that several loads are in flight. */
static void gather_rows(const struct gather_job *j, size_t r0, size_t r1,
			float *dst)
{
	const lupi_model *m = j->m;
	for (size_t i = r0; i < r1 && i < r0 + GATHER_AHEAD; i++)
		lupi__view_prefetch(j->ds, m->opt.view, j->idx[i]);
	for (size_t i = r0; i < r1; i++) {
		if (i + GATHER_AHEAD < r1)
			lupi__view_prefetch(j->ds, m->opt.view,
					    j->idx[i + GATHER_AHEAD]);
		lupi__model_gather_row(m, j->ds, j->idx[i],
				       dst + i * m->n_in);
	}
}

static void gather_part(void *ctx, unsigned part, unsigned parts)
{
	const struct gather_job *j = ctx;
	size_t r0, r1;
	lupi__split(j->n, part, parts, 1, &r0, &r1);
	gather_rows(j, r0, r1, j->m->acts[0]);
}

/* A small model on several threads: splitting each GEMM and each
 * element-wise pass of a step costs more than it saves, because every
 * pass moves the half of the batch the other core wrote last through the
 * caches (a 49-256-10 student ran 0.7 x as fast on 2 threads as on one).
 * So the batch is cut once into row blocks, each taken by one part through
 * the gather, every layer and back, and the blocks' weight gradients are
 * summed at the end: one hand-off per pass, not five. Worth it when the
 * sum is cheap against the work: at most ROW_PARAMS parameters, at least
 * ROW_MACS multiply-adds of forward pass per block. The partition depends
 * on the thread count and the shapes alone, as every split does. */
#define ROW_PARAMS 65536
#define ROW_MACS (1u << 17)
#define ROW_ALIGN 16

static unsigned row_parts(const lupi_model *m, size_t n, int dropout)
{
	if (dropout || m->n_params > ROW_PARAMS)
		return 1;
	double macs = 0.0;
	for (size_t l = 0; l < m->n_layers; l++)
		macs += (double)m->layers[l].in * (double)m->layers[l].out;
	unsigned parts = lupi__parallel_parts(macs * (double)n, ROW_MACS);
	size_t blocks = n / ROW_ALIGN;
	return blocks < parts ? (blocks > 1 ? (unsigned)blocks : 1) : parts;
}

static void forward_rows_part(void *ctx, unsigned part, unsigned parts)
{
	const struct gather_job *j = ctx;
	const lupi_model *m = j->m;
	size_t r0, r1;
	lupi__split(j->n, part, parts, ROW_ALIGN, &r0, &r1);
	if (r0 == r1)
		return;
	float *in = block_base(m, m->acts[0], part);
	gather_rows(j, r0, r1, in);
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		int hidden = l + 1 < m->n_layers; /* the logits have no gaps */
		float *out = hidden ? block_base(m, m->acts[l + 1], part) :
				      m->acts[l + 1];
		float *d = hidden ? block_base(m, m->pre[l], part) : NULL;
		lupi__gemm_serial(0, 1, r1 - r0, ly->out, ly->in, 1.0f,
				  in + r0 * ly->in, ly->in, ly->w, ly->in, 0.0f,
				  out + r0 * ly->out, ly->out);
		finish_rows(ly, &m->opt, out, d, r0, r1);
		in = out;
	}
}

/* The whole batch, pass by pass, each pass split over the threads; dropout
 * with probability p after each hidden layer. */
static void forward_whole(lupi_model *m, struct gather_job *gj,
			  double p)
{
	size_t n = gj->n;
	unsigned parts = lupi__parallel_parts((double)n * (double)m->n_in,
					      PART_ELEMS);
	lupi__parallel(gather_part, gj, parts > n ? (unsigned)n : parts);
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		lupi__model_layer_forward(ly, &m->opt, m->acts[l], n,
					  m->acts[l + 1], m->pre[l]);
		if (m->pre[l] && p > 0.0)
			dropout(&m->rng, m->acts[l + 1], m->pre[l],
				n * ly->out, p);
	}
}

int lupi__model_forward(lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, int flags,
			const float **logits)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	LUPI__CHECK_NULL(logits);
	*logits = NULL;
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "empty batch");
	if (n > LUPI__MAX_BATCH) /* BLAS takes int dimensions */
		return lupi__err(LUPI_ERANGE, "a batch of %zu rows, at most %zu",
				 n, LUPI__MAX_BATCH);
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model is not initialised");
	LUPI__TRY(check_batch(m, ds, idx, n));
	m->batch_n = 0;
	double p = flags & LUPI__FWD_TRAIN ? m->opt.dropout : 0.0;
	unsigned rows = row_parts(m, n, p > 0.0);
	LUPI__TRY(reserve_batch(m, n, rows, flags & LUPI__FWD_WHOLE));
	m->batch_parts = rows;
	struct gather_job gj = {m, ds, idx, n};
	gather_targets(m, ds, idx, n);
	if (rows > 1)
		lupi__parallel(forward_rows_part, &gj, rows);
	else
		forward_whole(m, &gj, p);
	m->batch_n = n;
	*logits = m->acts[m->n_layers];
	return LUPI_OK;
}

const float *lupi__model_hidden(const lupi_model *m, size_t layer)
{
	if (m == NULL || layer + 1 >= m->n_layers || m->batch_n == 0 ||
	    m->block_gap > 0)
		return NULL;
	return m->acts[layer + 1];
}

/* Bias gradient: column sums of delta (n x k), columns [j0, j1); each
 * column summed over the rows in order, whatever the split. */
static void column_sums(const float *restrict delta, size_t n, size_t k,
			float *restrict gb, size_t j0, size_t j1)
{
	memset(gb + j0, 0, (j1 - j0) * sizeof *gb);
	for (size_t i = 0; i < n; i++, delta += k)
#pragma omp simd
		for (size_t j = j0; j < j1; j++)
			gb[j] += delta[j];
}

/* nxt[lo, hi) = (nxt + dh) * d, or nxt * d without dh: the input gradient
 * of a layer times the derivative of the layer below, plus an extra
 * gradient at that layer's output. */
static void times_derivative(float *restrict nxt, const float *restrict d,
			     const float *restrict dh, size_t lo, size_t hi)
{
	if (dh)
#pragma omp simd
		for (size_t i = lo; i < hi; i++)
			nxt[i] = (nxt[i] + dh[i]) * d[i];
	else
#pragma omp simd
		for (size_t i = lo; i < hi; i++)
			nxt[i] *= d[i];
}

/* The backward pass's element-wise work after the input-gradient GEMM of
 * layer l: the bias gradient of layer l (cur, n x out), and nxt (n x in)
 * times the derivative of layer l - 1, plus dhidden when given. */
struct back_job {
	const float *cur, *d, *dhidden;
	float *gb, *nxt;
	size_t n, out, in;
};

static void back_part(void *ctx, unsigned part, unsigned parts)
{
	const struct back_job *j = ctx;
	size_t lo, hi;
	if (j->gb) {
		lupi__split(j->out, part, parts, 16, &lo, &hi);
		if (hi > lo)
			column_sums(j->cur, j->n, j->out, j->gb, lo, hi);
	}
	if (j->nxt == NULL)
		return;
	lupi__split(j->n * j->in, part, parts, 16, &lo, &hi);
	times_derivative(j->nxt, j->d, j->dhidden, lo, hi);
}

static void back_elementwise(struct back_job *j)
{
	double work = (double)j->n * (double)(j->out + (j->nxt ? j->in : 0));
	lupi__parallel(back_part, j, lupi__parallel_parts(work, PART_ELEMS));
}

struct back_rows_job {
	lupi_model *m;
	const float *dlogits, *dhidden;
	size_t layer;
};

/* Block `part` of the rows of the last forward pass, back through every
 * layer: the input gradients of its rows, and the weight and bias
 * gradients of its rows alone, into grads (block 0) or part_grads. */
static void backward_rows_part(void *ctx, unsigned part, unsigned parts)
{
	const struct back_rows_job *j = ctx;
	lupi_model *m = j->m;
	size_t r0, r1;
	lupi__split(m->batch_n, part, parts, ROW_ALIGN, &r0, &r1);
	float *g = part == 0 ? m->grads :
		   m->part_grads + (size_t)(part - 1) * m->n_params;
	size_t nr = r1 - r0;
	const float *cur = j->dlogits + r0 * m->n_out;
	for (size_t l = m->n_layers; l-- > 0;) {
		const lupi__layer *ly = &m->layers[l];
		float *gw = g + (ly->w - m->params);
		float *gb = ly->b ? g + (ly->b - m->params) : NULL;
		if (!ly->frozen && nr == 0) {
			memset(gw, 0, ly->in * ly->out * sizeof *gw);
			if (gb)
				memset(gb, 0, ly->out * sizeof *gb);
		} else if (!ly->frozen) {
			lupi__gemm_serial(1, 0, ly->out, ly->in, nr, 1.0f, cur,
					  ly->out,
					  block_base(m, m->acts[l], part) +
						  r0 * ly->in,
					  ly->in, 0.0f, gw, ly->in);
			if (gb)
				column_sums(cur, nr, ly->out, gb, 0, ly->out);
		}
		if (l == 0 || nr == 0)
			break;
		/* the same buffers as the whole-batch pass, this block's rows */
		float *nxt = block_base(m, (m->n_layers - 1 - l) % 2 ?
					       m->delta2 : m->delta, part) +
			     r0 * ly->in;
		lupi__gemm_serial(0, 0, nr, ly->in, ly->out, 1.0f, cur, ly->out,
				  ly->w, ly->in, 0.0f, nxt, ly->in);
		const float *d = block_base(m, m->pre[l - 1], part) +
				 r0 * ly->in;
		const float *dh = j->dhidden && j->layer == l - 1 ?
				  j->dhidden + r0 * ly->in : NULL;
		times_derivative(nxt, d, dh, 0, nr * ly->in);
		cur = nxt;
	}
}

struct sum_job {
	lupi_model *m;
	unsigned blocks;
};

/* grads[lo, hi) += the other blocks' gradients, block by block, on the
 * trainable layers; frozen layers' entries 0. The same order of additions
 * for any split; split as the optimiser's update is (lib/model/optim.c),
 * so that each thread sums the range it then updates. */
static void sum_part(void *ctx, unsigned part, unsigned parts)
{
	const struct sum_job *j = ctx;
	lupi_model *m = j->m;
	size_t lo, hi;
	lupi__split(m->n_params, part, parts, 16, &lo, &hi);
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		size_t at = (size_t)(ly->w - m->params);
		size_t end = at + ly->in * ly->out + (ly->b ? ly->out : 0);
		at = at > lo ? at : lo;
		end = end < hi ? end : hi;
		if (end <= at)
			continue;
		size_t cnt = end - at;
		float *restrict g = m->grads + at;
		if (ly->frozen) {
			memset(g, 0, cnt * sizeof *g);
			continue;
		}
		for (unsigned p = 1; p < j->blocks; p++) {
			const float *restrict q =
				m->part_grads + (size_t)(p - 1) * m->n_params +
				at;
#pragma omp simd
			for (size_t i = 0; i < cnt; i++)
				g[i] += q[i];
		}
	}
}

static void sum_row_blocks(lupi_model *m, unsigned blocks)
{
	struct sum_job j = {m, blocks};
	lupi__parallel(sum_part, &j,
		       lupi__parallel_parts((double)m->n_params,
					    LUPI__PARAMS_PER_PART));
}

int lupi__model_backward(lupi_model *m, const float *dlogits,
			 const float *dhidden, size_t layer)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(dlogits);
	if (m->batch_n == 0 || m->grads == NULL)
		return lupi__err(LUPI_ESTATE,
				 "backward without a forward pass");
	if (dhidden && layer + 1 >= m->n_layers)
		return lupi__err(LUPI_ERANGE,
				 "hidden layer %zu, the model has %zu", layer,
				 m->n_layers - 1);
	if (m->batch_parts > 1) {
		struct back_rows_job j = {m, dlogits, dhidden, layer};
		lupi__parallel(backward_rows_part, &j, m->batch_parts);
		sum_row_blocks(m, m->batch_parts);
		return LUPI_OK;
	}
	size_t n = m->batch_n;
	const float *cur = dlogits; /* d loss / d pre-activation of layer l */
	for (size_t l = m->n_layers; l-- > 0;) {
		const lupi__layer *ly = &m->layers[l];
		float *gw = m->grads + (ly->w - m->params);
		float *gb = ly->b ? m->grads + (ly->b - m->params) : NULL;
		if (ly->frozen) {
			memset(gw, 0, ly->in * ly->out * sizeof *gw);
			if (gb)
				memset(gb, 0, ly->out * sizeof *gb);
			gb = NULL;
		} else {
			lupi__gemm_rows(1, 0, ly->out, ly->in, n, 1.0f, cur,
					ly->out, m->acts[l], ly->in, 0.0f, gw,
					ly->in);
		}
		struct back_job j = {cur, NULL, NULL, gb, NULL, n, ly->out,
				     ly->in};
		if (l == 0) { /* no gradient for the network's input */
			back_elementwise(&j);
			break;
		}
		float *nxt = cur == m->delta ? m->delta2 : m->delta;
		gemm(0, 0, n, ly->in, ly->out, cur, ly->out, ly->w, ly->in, nxt,
		     ly->in);
		j.nxt = nxt;
		j.d = m->pre[l - 1];
		j.dhidden = dhidden && layer == l - 1 ? dhidden : NULL;
		back_elementwise(&j);
		cur = nxt;
	}
	return LUPI_OK;
}

void lupi__model_zero_frozen(const lupi_model *m, float *g)
{
	for (size_t l = 0; l < m->n_layers; l++) {
		const lupi__layer *ly = &m->layers[l];
		if (!ly->frozen)
			continue;
		size_t nw = ly->in * ly->out;
		memset(g + (ly->w - m->params), 0,
		       (nw + (ly->b ? ly->out : 0)) * sizeof *g);
	}
}

/* ---- prediction ---------------------------------------------------------- */

/* The prediction pass is lib/model/predict.c; it applies the activations of
 * this file. */
void lupi__model_activate(const lupi_model *m, const lupi__layer *ly,
			  float *y, size_t count)
{
	if (ly->act == LUPI_ACT_TEMPERED_SIGMOID)
		tempered_sigmoid(y, NULL, count, &m->opt);
	else
		activate(y, count, ly->act);
}
