/* TRAM (Collier, Jenatton, Mustafa, Houlsby, Berent & Kokiopoulou 2022,
 * "Transfer and Marginalize: Explaining Away Label Noise with Privileged
 * Information") and its approximate full marginalisation (Ortiz-Jimenez,
 * Collier, Nawalgaria, D'Amour, Berent, Jenatton & Kokiopoulou 2023, "When
 * does Privileged Information Explain Away Label Noise?").
 *
 * A trunk phi(x) feeds two heads: a privileged head g(phi(x), x*) and the
 * head h(phi(x)) that is deployed. Both are trained on the same (noisy)
 * labels; phi learns only from g, which can explain the noise with x*
 * (which annotator, how confident), so phi's features are those of the
 * clean signal; h learns on top of them with a stop-gradient. At test time
 * h alone predicts. Marginalisation instead predicts with g, averaging its
 * predictive distribution over x* drawn from the training set.
 *
 * Here phi and h are a host's lupi_model (phi: every layer but the last;
 * h: the last one), so the deployed model saves, loads and predicts as any
 * other; the lupi_tram handle owns g, a dense network on [phi(x), x*]
 * trained with the model's optimiser options. g's forward pass is the model
 * layer's (lupi__model_layer_forward) on the rows [phi(x), x*]; its backward
 * is here (network.c's has no gradient for the network's input); its
 * prediction is the model's prediction pass on those rows. */
#include <math.h>
#include <string.h>

#include "tram_internal.h"

/* ---- options ------------------------------------------------------------- */

static const lupi__option tram_rows[] = {
	LUPI__OPT_INT(TRAM, HIDDEN, lupi__tram_opts, hidden, LUPI__STORE_I64, 1,
		      LUPI__MAX_WIDTH, 64, NULL, LUPI__OPT_SHAPING, 0,
		      "width of each hidden layer of the privileged head g"),
	LUPI__OPT_INT(TRAM, LAYERS, lupi__tram_opts, layers, LUPI__STORE_I64, 0,
		      LUPI__MAX_LAYERS - 1, 1, NULL, LUPI__OPT_SHAPING, 0,
		      "hidden layers of g (0: g is linear in [phi(x), x*])"),
	LUPI__OPT_INT(TRAM, ACTIVATION, lupi__tram_opts, activation,
		      LUPI__STORE_INT, 0, 4, LUPI_ACT_RELU,
		      "identity,relu,tanh,sigmoid,gelu", LUPI__OPT_SHAPING, 0,
		      "activation of g's hidden layers"),
	LUPI__OPT_INT(TRAM, SEED, lupi__tram_opts, seed, LUPI__STORE_U64,
		      INT64_MIN, INT64_MAX, 0, NULL, LUPI__OPT_SHAPING, 0,
		      "seed of g's initialisation"),
	LUPI__OPT_INT(TRAM, STANDARDIZE, lupi__tram_opts, standardize,
		      LUPI__STORE_INT, 0, 1, 1, NULL, LUPI__OPT_SHAPING, 0,
		      "standardise X* for g (statistics of the first step's "
		      "dataset)"),
};

const lupi__option_table lupi__tram_options = {
	LUPI_HANDLE_TRAM, "LUPI_TRAM_OPT_", tram_rows,
	sizeof tram_rows / sizeof tram_rows[0]};

/* ---- the handle ---------------------------------------------------------- */

int lupi_tram_create(lupi_tram **out)
{
	LUPI__CHECK_NULL(out);
	*out = lupi__calloc(1, sizeof **out);
	if (*out == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a TRAM handle");
	lupi__option_defaults(&lupi__tram_options, &(*out)->opt);
	return LUPI_OK;
}

void lupi_tram_free(lupi_tram *t)
{
	if (t == NULL)
		return;
	lupi_model_free(t->g);
	lupi__free(t->mean);
	lupi__arena_free(&t->arena);
	lupi__free(t);
}

int lupi_tram_set_int(lupi_tram *t, int key, int64_t value)
{
	LUPI__CHECK_NULL(t);
	const lupi__option_table *tab = &lupi__tram_options;
	const lupi__option *o;
	LUPI__TRY(lupi__option_lookup(tab, key, LUPI_TYPE_INT, &o));
	if ((o->flags & LUPI__OPT_SHAPING) && t->g != NULL)
		return lupi__err(LUPI_ESTATE,
				 "%s%s cannot change once the privileged head "
				 "exists (after the first step)",
				 tab->prefix, o->pub.name);
	return lupi__option_store_int(tab, o, &t->opt, value);
}

int lupi_tram_get_int(const lupi_tram *t, int key, int64_t *value)
{
	LUPI__CHECK_NULL(t);
	return lupi__option_get_int(&lupi__tram_options, &t->opt, key, value);
}

/* ---- shapes -------------------------------------------------------------- */

/* Width of phi: the output of m's last hidden layer, or its inputs. */
static size_t phi_width(const lupi_model *m)
{
	return m->n_layers > 1 ? m->layers[m->n_layers - 2].out : m->n_in;
}

static int check_view(const lupi_model *m)
{
	if (m->opt.view != LUPI_VIEW_REGULAR)
		return lupi__err(LUPI_ENOTSUP,
				 "TRAM: the model's VIEW is %s; the deployed "
				 "model sees X alone (REGULAR)",
				 lupi__view_name(m->opt.view));
	return LUPI_OK;
}

/* m (and d_priv, unless 0) fit the shape g was made for. */
static int check_bound(const lupi_tram *t, const lupi_model *m,
		       size_t d_priv)
{
	LUPI__TRY(check_view(m));
	if (m->task != t->task || m->n_out != t->k || phi_width(m) != t->phi)
		return lupi__err(LUPI_ESHAPE,
				 "TRAM: the privileged head was made for a "
				 "model of task %d with %zu outputs and a "
				 "trunk of width %zu; this one has task %d, "
				 "%zu outputs, width %zu", t->task, t->k,
				 t->phi, m->task, m->n_out, phi_width(m));
	if (d_priv != 0 && d_priv != t->d_priv)
		return lupi__err(LUPI_ESHAPE,
				 "TRAM: the privileged head takes %zu X* "
				 "features, got %zu", t->d_priv, d_priv);
	return LUPI_OK;
}

/* g's optimiser options follow m's at every step (its own: activation,
 * initialiser, seed; no standardisation, no dropout). */
static void sync_opts(lupi_model *g, const lupi_model *m)
{
	lupi__model_opts o = m->opt;
	o.activation = g->opt.activation;
	o.init = g->opt.init;
	o.seed = g->opt.seed;
	o.view = LUPI_VIEW_REGULAR;
	o.standardize = 0;
	o.dropout = 0.0;
	g->opt = o;
	g->epoch = m->epoch;
}

/* Statistics of X* over the samples of ds that have it. */
static int fit_priv_std(lupi_tram *t, const lupi_dataset *ds)
{
	size_t d = ds->d_priv;
	double *acc = lupi__malloc_array(d, 2 * sizeof *acc);
	float *st = lupi__malloc_array(d, 2 * sizeof *st);
	if (acc == NULL || st == NULL) {
		lupi__free(acc);
		lupi__free(st);
		return lupi__err(LUPI_ENOMEM, "cannot allocate statistics");
	}
	if (lupi__view_stats(ds, LUPI_VIEW_PRIVILEGED, acc, acc + d) == 0) {
		lupi__free(acc);
		lupi__free(st);
		return lupi__err(LUPI_ESTATE, "TRAM: no sample of the dataset "
				 "has privileged features");
	}
	for (size_t j = 0; j < d; j++) {
		float inv = (float)(1.0 / acc[d + j]);
		st[j] = (float)acc[j];
		st[d + j] = isfinite(inv) ? inv : 1.0f;
	}
	lupi__free(acc);
	t->mean = st;
	t->inv_std = st + d;
	return LUPI_OK;
}

/* Creates g for m and ds: [phi, x*] -> m's outputs. */
static int create_head(lupi_tram *t, const lupi_model *m,
		       const lupi_dataset *ds)
{
	size_t nh = (size_t)t->opt.layers, phi = phi_width(m);
	size_t hidden[LUPI__MAX_LAYERS];
	for (size_t l = 0; l < nh; l++)
		hidden[l] = (size_t)t->opt.hidden;
	if (ds->d_priv > LUPI__MAX_WIDTH - phi)
		return lupi__err(LUPI_ERANGE, "TRAM: the privileged head would "
				 "take %zu + %zu inputs, at most %u", phi,
				 ds->d_priv, LUPI__MAX_WIDTH);
	lupi_model *g = NULL;
	LUPI__TRY(lupi__model_alloc(m->task, phi + ds->d_priv, hidden, nh,
				    m->n_out, t->opt.activation, NULL, &g));
	g->opt.init = m->opt.init;
	g->opt.seed = t->opt.seed;
	sync_opts(g, m);
	g->grads = lupi__calloc(g->n_params, sizeof *g->grads);
	int rc = g->grads == NULL
			 ? lupi__err(LUPI_ENOMEM, "cannot allocate %zu "
				     "gradients", g->n_params)
			 : lupi__model_optim_state(g);
	if (rc == LUPI_OK && t->opt.standardize)
		rc = fit_priv_std(t, ds);
	if (rc != LUPI_OK) {
		lupi_model_free(g);
		return rc;
	}
	lupi__model_init_weights(g);
	t->g = g;
	t->task = m->task;
	t->phi = phi;
	t->d_priv = ds->d_priv;
	t->k = m->n_out;
	return LUPI_OK;
}

/* ---- step scratch -------------------------------------------------------- */

static void carve(lupi_tram *t, size_t n, lupi__plan *p)
{
	const lupi_model *g = t->g;
	size_t wide = g->n_in;
	for (size_t l = 0; l < g->n_layers; l++)
		if (g->layers[l].out > wide)
			wide = g->layers[l].out;
	t->acts = lupi__plan_take(p, g->n_layers + 1, 1, sizeof *t->acts);
	t->der = lupi__plan_take(p, g->n_layers, 1, sizeof *t->der);
	float *a0 = lupi__plan_take(p, n, g->n_in, sizeof(float));
	float *al[LUPI__MAX_LAYERS], *dl[LUPI__MAX_LAYERS];
	for (size_t l = 0; l < g->n_layers; l++) {
		size_t w = g->layers[l].out;
		al[l] = lupi__plan_take(p, n, w, sizeof(float));
		dl[l] = l + 1 < g->n_layers ?
			lupi__plan_take(p, n, w, sizeof(float)) : NULL;
	}
	t->delta = lupi__plan_take(p, n, wide, sizeof(float));
	t->delta2 = lupi__plan_take(p, n, wide, sizeof(float));
	t->dlog = lupi__plan_take(p, n, t->k, sizeof(float));
	t->lab = lupi__plan_take(p, n, 1, sizeof(int32_t));
	t->tgt = lupi__plan_take(p, n, t->k, sizeof(float));
	t->wt = lupi__plan_take(p, n, 1, sizeof(float));
	t->dinput = lupi__plan_take(p, n, g->n_in, sizeof(float));
	t->dphi = lupi__plan_take(p, n, t->phi, sizeof(float));
	t->zero = lupi__plan_take(p, n, t->k, sizeof(float));
	t->sel = lupi__plan_take(p, n, 1, sizeof(size_t));
	if (p->base == NULL)
		return;
	t->acts[0] = a0;
	for (size_t l = 0; l < g->n_layers; l++) {
		t->acts[l + 1] = al[l];
		t->der[l] = dl[l];
	}
	memset(t->zero, 0, n * t->k * sizeof *t->zero);
}

static int reserve(lupi_tram *t, size_t n)
{
	if (n <= t->cap_n)
		return LUPI_OK;
	lupi__plan p = {NULL, 0, 0};
	carve(t, n, &p);
	if (p.overflow)
		return lupi__err(LUPI_ENOMEM, "TRAM: a batch of %zu rows is too "
				 "large", n);
	LUPI__TRY(lupi__arena_reserve(&t->arena, p.used));
	t->cap_n = n;
	p = (lupi__plan){t->arena.base, 0, 0};
	carve(t, n, &p);
	return LUPI_OK;
}

/* ---- g's training pass --------------------------------------------------- */

/* Forward of g over the n rows of t->acts[0] (the model layer's training
 * pass, keeping act' of each hidden layer); returns its logits. */
static const float *head_forward(lupi_tram *t, size_t n)
{
	const lupi_model *g = t->g;
	for (size_t l = 0; l < g->n_layers; l++)
		lupi__model_layer_forward(&g->layers[l], &g->opt, t->acts[l], n,
					  t->acts[l + 1], t->der[l]);
	return t->acts[g->n_layers];
}

/* Backward of g from t->dlog: g->grads, and d L_g / d input into din
 * (n x g->n_in). */
static void head_backward(lupi_tram *t, size_t n, float *din)
{
	lupi_model *g = t->g;
	const float *cur = t->dlog;
	for (size_t l = g->n_layers; l-- > 0;) {
		const lupi__layer *ly = &g->layers[l];
		float *gw = g->grads + (ly->w - g->params);
		lupi__gemm(1, 0, ly->out, ly->in, n, 1.0f, cur, ly->out,
			   t->acts[l], ly->in, 0.0f, gw, ly->in);
		if (ly->b) {
			float *gb = g->grads + (ly->b - g->params);
			memset(gb, 0, ly->out * sizeof *gb);
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < ly->out; j++)
					gb[j] += cur[i * ly->out + j];
		}
		float *nxt = l == 0 ? din
			     : cur == t->delta ? t->delta2 : t->delta;
		lupi__gemm(0, 0, n, ly->in, ly->out, 1.0f, cur, ly->out, ly->w,
			   ly->in, 0.0f, nxt, ly->in);
		if (l > 0) {
			const float *d = t->der[l - 1];
			for (size_t i = 0; i < n * ly->in; i++)
				nxt[i] *= d[i];
		}
		cur = nxt;
	}
}

/* ---- the joint gradient and the step ------------------------------------ */

/* Checks shared by a step and a fit. */
static int check_train(const lupi_model *m, const lupi_dataset *ds)
{
	LUPI__TRY(check_view(m));
	if (ds->x_priv == NULL)
		return lupi__err(LUPI_ESTATE, "TRAM: the dataset has no "
				 "privileged features for the head g");
	return LUPI_OK;
}

/* g's rows [phi, std(x*)] of the n_sel batch positions t->sel, their
 * targets, and g's forward, loss and backward; d L_g / d phi scattered
 * into t->dphi (rows of the batch, 0 without X*). */
static int head_pass(lupi_tram *t, const lupi_model *m,
		     const lupi_dataset *ds, const size_t *idx, size_t ns,
		     size_t n, double *loss)
{
	const float *phi = m->acts[m->n_layers - 1];
	size_t din = t->g->n_in, k = t->k;
	float *rows = t->acts[0];
	for (size_t j = 0; j < ns; j++) {
		size_t b = t->sel[j];
		memcpy(rows + j * din, phi + b * t->phi,
		       t->phi * sizeof *rows);
		lupi__view_row_std(ds, LUPI_VIEW_PRIVILEGED, idx[b], t->mean,
				   t->inv_std, rows + j * din + t->phi);
		if (m->y_labels)
			t->lab[j] = m->y_labels[b];
		if (m->y_targets)
			memcpy(t->tgt + j * k, m->y_targets + b * k,
			       k * sizeof *t->tgt);
		if (m->y_weights)
			t->wt[j] = m->y_weights[b];
	}
	const float *s = head_forward(t, ns);
	LUPI__TRY(lupi__objective_hard(t->task, ns, k, s,
				       m->y_labels ? t->lab : NULL,
				       m->y_targets ? t->tgt : NULL,
				       m->y_weights ? t->wt : NULL, loss,
				       t->dlog));
	if (!isfinite(*loss))
		return lupi__err(LUPI_ENONFINITE, "TRAM: the privileged head's "
				 "loss is not finite");
	head_backward(t, ns, t->dinput);
	memset(t->dphi, 0, n * t->phi * sizeof *t->dphi);
	for (size_t j = 0; j < ns; j++)
		memcpy(t->dphi + t->sel[j] * t->phi, t->dinput + j * din,
		       t->phi * sizeof *t->dphi);
	return LUPI_OK;
}

int lupi__tram_gradient(lupi_tram *t, lupi_model *m, const lupi_dataset *ds,
			const size_t *idx, size_t n, double *loss_g,
			double *loss_h)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "TRAM: empty batch");
	LUPI__TRY(check_train(m, ds));
	LUPI__TRY(lupi__model_check_batch(m, n));
	if (t->g != NULL)
		LUPI__TRY(check_bound(t, m, ds->d_priv));
	LUPI__TRY(lupi__model_prepare(m, ds));
	/* the forward pass checks the indices before the head is made */
	const float *s;
	LUPI__TRY(lupi__model_forward(m, ds, idx, n,
				      LUPI__FWD_TRAIN | LUPI__FWD_WHOLE, &s));
	if (t->g == NULL)
		LUPI__TRY(create_head(t, m, ds));
	sync_opts(t->g, m);
	LUPI__TRY(lupi__model_optim_state(t->g));
	LUPI__TRY(reserve(t, n));
	double lh, lg = 0.0;
	LUPI__TRY(lupi__objective_hard(m->task, n, m->n_out, s, m->y_labels,
				       m->y_targets, m->y_weights, &lh,
				       m->dlogits));
	if (!isfinite(lh))
		return lupi__err(LUPI_ENONFINITE, "TRAM: the model's loss is "
				 "not finite");
	size_t ns = 0;
	for (size_t i = 0; i < n; i++)
		if (lupi__dataset_has_priv(ds, idx[i]))
			t->sel[ns++] = i;
	if (ns > 0) {
		LUPI__TRY(head_pass(t, m, ds, idx, ns, n, &lg));
	} else {
		memset(t->g->grads, 0, t->g->n_params * sizeof *t->g->grads);
		memset(t->dphi, 0, n * t->phi * sizeof *t->dphi);
	}
	/* phi: the gradient of L_g alone. A zero logit gradient keeps h's
	 * loss out of phi; the output layer's weight gradient it leaves is
	 * replaced below. */
	if (m->n_layers > 1)
		LUPI__TRY(lupi__model_backward(m, t->zero, t->dphi,
					       m->n_layers - 2));
	/* h: the gradient of L_h, on phi as the forward pass left it */
	const lupi__layer *h = &m->layers[m->n_layers - 1];
	const float *phi = m->acts[m->n_layers - 1];
	float *gw = m->grads + (h->w - m->params);
	float *gb = h->b ? m->grads + (h->b - m->params) : NULL;
	if (h->frozen) {
		memset(gw, 0, h->in * h->out * sizeof *gw);
	} else {
		lupi__gemm(1, 0, h->out, h->in, n, 1.0f, m->dlogits, h->out,
			   phi, h->in, 0.0f, gw, h->in);
	}
	if (gb) {
		memset(gb, 0, h->out * sizeof *gb);
		for (size_t i = 0; i < n && !h->frozen; i++)
			for (size_t j = 0; j < h->out; j++)
				gb[j] += m->dlogits[i * h->out + j];
	}
	t->n_sel = ns;
	if (loss_g)
		*loss_g = lg;
	if (loss_h)
		*loss_h = lh;
	return LUPI_OK;
}

int lupi_tram_step(lupi_tram *t, lupi_model *m, const lupi_dataset *ds,
		   const size_t *idx, size_t n, double *loss)
{
	double lg, lh;
	LUPI__TRY(lupi__tram_gradient(t, m, ds, idx, n, &lg, &lh));
	LUPI__TRY(lupi__model_check_grads(m));
	LUPI__TRY(lupi__model_check_grads(t->g));
	LUPI__TRY(lupi__model_update(m));
	/* a batch without X* gives g no gradient, and no step */
	if (t->n_sel > 0)
		LUPI__TRY(lupi__model_update(t->g));
	if (loss)
		*loss = lg + lh;
	return LUPI_OK;
}

static int fit_step(void *ctx, lupi_model *m, const lupi_dataset *ds,
		    const size_t *idx, size_t n, double *loss)
{
	return lupi_tram_step(ctx, m, ds, idx, n, loss);
}

int lupi_tram_fit(lupi_tram *t, lupi_model *m, const lupi_dataset *train,
		  const lupi_dataset *valid, lupi_progress_fn progress,
		  void *user)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(train);
	LUPI__TRY(check_train(m, train));
	if (t->g != NULL)
		LUPI__TRY(check_bound(t, m, train->d_priv));
	/* its steps update g too, which no hook reduces */
	if (m->shares > 1)
		return lupi__err(LUPI_ESTATE, "a TRAM fit does not take a share "
				 "of the batches (lupi_model_set_share)");
	return lupi__fit(m, train, valid, fit_step, t, progress, user);
}

/* ---- marginalised prediction --------------------------------------------- */

#define MARGINAL_ROWS 64 /* rows of x whose phi is computed at once */

/* phi of rows x (nr x m->n_in) into out (nr x phi). */
static int predict_phi(const lupi_model *m, const float *x, size_t nr,
		       float *out)
{
	if (m->n_layers > 1)
		return lupi__model_predict_hidden(m, m->n_layers - 2, x, nr,
						  out);
	for (size_t i = 0; i < nr; i++)
		lupi__standardize_copy(out + i * m->n_in, x + i * m->n_in,
				       m->has_std ? m->mean : NULL, m->inv_std,
				       m->n_in);
	return LUPI_OK;
}

/* The mean over the n_s rows of g's logits s of g's predictive
 * distribution (probabilities, P(y = 1), or values) into out (k). */
static int average_outputs(int task, const float *s, size_t n_s, size_t k,
			   double *acc, double *p, float *out, size_t sample)
{
	memset(acc, 0, k * sizeof *acc);
	for (size_t r = 0; r < n_s; r++, s += k) {
		size_t bad;
		if (!lupi__all_finite(s, k, &bad))
			return lupi__err(LUPI_ENONFINITE, "TRAM: sample %zu: "
					 "the privileged head's output for "
					 "X* row %zu is not finite", sample,
					 r);
		if (task == LUPI_TASK_CLASSIFICATION) {
			lupi__softmax(s, k, 1.0, p);
			for (size_t j = 0; j < k; j++)
				acc[j] += p[j];
		} else if (task == LUPI_TASK_BINARY) {
			acc[0] += 1.0 / (1.0 + exp(-(double)s[0]));
		} else {
			for (size_t j = 0; j < k; j++)
				acc[j] += s[j];
		}
	}
	for (size_t j = 0; j < k; j++)
		out[j] = (float)(acc[j] / (double)n_s);
	return LUPI_OK;
}

int lupi_tram_predict_marginal(const lupi_tram *t, const lupi_model *m,
			       const float *x, size_t n, size_t d,
			       const float *xs, size_t n_s, size_t d_priv,
			       float *out)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(xs);
	LUPI__CHECK_NULL(out);
	if (n == 0 || n_s == 0)
		return lupi__err(LUPI_EINVAL, "TRAM: n = %zu samples and n_s = "
				 "%zu X* rows, both must be > 0", n, n_s);
	if (t->g == NULL)
		return lupi__err(LUPI_ESTATE, "TRAM: not trained (no "
				 "privileged head yet)");
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "TRAM: the model is not "
				 "initialised");
	LUPI__TRY(check_bound(t, m, 0));
	if (d != m->n_in)
		return lupi__err(LUPI_ESHAPE, "TRAM: x has %zu features, the "
				 "model %zu inputs", d, m->n_in);
	if (d_priv != t->d_priv)
		return lupi__err(LUPI_ESHAPE, "TRAM: xs has %zu features, the "
				 "privileged head takes %zu", d_priv,
				 t->d_priv);
	LUPI__TRY(lupi__check_host_array(n, d, sizeof(float), "x"));
	LUPI__TRY(lupi__check_host_array(n, t->k, sizeof(float), "out"));
	LUPI__TRY(lupi__check_host_array(n_s, d_priv, sizeof(float), "xs"));
	size_t bad;
	if (!lupi__all_finite(xs, n_s * d_priv, &bad))
		return lupi__err(LUPI_ENONFINITE, "TRAM: xs row %zu, feature "
				 "%zu is not finite", bad / d_priv,
				 bad % d_priv);
	size_t din = t->g->n_in, k = t->k, ph = t->phi;
	float *rows = lupi__malloc_array(n_s, din * sizeof *rows);
	float *logits = lupi__malloc_array(n_s, k * sizeof *logits);
	float *phis = lupi__malloc_array(MARGINAL_ROWS, ph * sizeof *phis);
	double *acc = lupi__malloc_array(k, 2 * sizeof *acc);
	int rc = LUPI_OK;
	if (rows == NULL || logits == NULL || phis == NULL || acc == NULL) {
		rc = lupi__err(LUPI_ENOMEM, "TRAM: cannot allocate %zu rows of "
			       "the privileged head", n_s);
		goto done;
	}
	for (size_t r = 0; r < n_s; r++)
		lupi__standardize_copy(rows + r * din + ph, xs + r * d_priv,
				       t->mean, t->inv_std, d_priv);
	for (size_t c = 0; c < n && rc == LUPI_OK; c += MARGINAL_ROWS) {
		size_t nr = n - c < MARGINAL_ROWS ? n - c : MARGINAL_ROWS;
		rc = predict_phi(m, x + c * d, nr, phis);
		for (size_t i = 0; i < nr && rc == LUPI_OK; i++) {
			if (!lupi__all_finite(phis + i * ph, ph, &bad)) {
				rc = lupi__err(LUPI_ENONFINITE, "TRAM: sample "
					       "%zu: the trunk's output is "
					       "not finite", c + i);
				break;
			}
			for (size_t r = 0; r < n_s; r++)
				memcpy(rows + r * din, phis + i * ph,
				       ph * sizeof *rows);
			rc = lupi__model_predict_logits(t->g, rows, n_s,
							logits);
			if (rc == LUPI_OK)
				rc = average_outputs(t->task, logits, n_s, k,
						     acc, acc + k,
						     out + (c + i) * k, c + i);
		}
	}
done:
	lupi__free(rows);
	lupi__free(logits);
	lupi__free(phis);
	lupi__free(acc);
	return rc;
}
