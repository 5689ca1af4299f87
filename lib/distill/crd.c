/*
 * Contrastive representation distillation (Tian, Krishnan & Isola 2020,
 * "Contrastive Representation Distillation"), in its InfoNCE form with a
 * bounded queue of negatives (as MoCo, He et al. 2020) instead of the
 * paper's n x d memory bank:
 *   e_s,i = normalize(Ws f_s,i + bs), e_t,i = normalize(Wt f_t,i + bt)
 *   (embedding size LUPI_LOSS_OPT_EMBED), logits u_ij = e_s,i . e_t,j / tau over
 *   the batch's teacher embeddings j and the queued ones,
 *   L = 1/m sum_i (log sum_j exp u_ij - u_ii)   (tau = CRD_TEMPERATURE).
 * The other samples of the batch are negatives too, so the loss is defined
 * from the first call on. With update set, the heads take one Adam step on
 * L (before BETA) and the batch's teacher embeddings (from before the step)
 * enter the FIFO queue of LUPI_LOSS_OPT_QUEUE entries: memory is queue x embed,
 * whatever n is.
 */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

#define NORM_FLOOR 1e-12

static int crd_init(lupi_loss *l, size_t ds, size_t dt)
{
	lupi__crd *c = &l->crd;
	if (c->par.p) {
		if (c->ds != ds || c->dt != dt)
			return lupi__err(LUPI_ESHAPE, "CRD heads take %zu "
					 "student and %zu teacher features, "
					 "got %zu and %zu", c->ds, c->dt, ds,
					 dt);
		return LUPI_OK;
	}
	size_t e = (size_t)l->embed, a, b;
	if (lupi__mul_overflow(e, ds + dt + 2, &a) || ds + dt + 2 < ds)
		return lupi__err(LUPI_EINVAL, "CRD heads too large");
	c->queue = lupi__malloc_array((size_t)l->queue * e, sizeof(float));
	if (c->queue == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a CRD queue of "
				 "%lld x %zu", (long long)l->queue, e);
	int rc = lupi__adam_alloc(&c->par, a);
	if (rc < 0) {
		lupi__free(c->queue);
		c->queue = NULL;
		return rc;
	}
	c->ds = ds;
	c->dt = dt;
	c->e = e;
	c->cap = (size_t)l->queue;
	c->len = c->head = 0;
	lupi__rng rng;
	lupi__rng_seed(&rng, l->seed);
	b = e * ds + e; /* start of Wt */
	lupi__init_linear(&rng, c->par.p, e, ds);
	lupi__init_linear(&rng, c->par.p + b, e, dt);
	return LUPI_OK;
}

void lupi__loss_crd_queue(const lupi_loss *l, size_t *len, size_t *cap)
{
	*len = l->crd.len;
	*cap = l->crd.cap;
}

/* Normalised embeddings of x (m x d) through head w (e x d), bias b. */
static void embed(const float *x, size_t m, size_t d, const float *w,
		  const float *b, size_t e, float *out, double *nrm)
{
	lupi__gemm(0, 1, m, e, d, 1.0f, x, d, w, d, 0.0f, out, e);
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < e; j++)
			out[i * e + j] += b[j];
		nrm[i] = lupi__normalize_row(out + i * e, e, NORM_FLOOR,
					     out + i * e);
	}
}

/* Softmax rows of u (m x w) turned into dL/du = (P - [j == i]) / m. */
static double info_nce(float *u, size_t m, size_t w)
{
	double v = 0.0;
	for (size_t i = 0; i < m; i++) {
		float *r = u + i * w;
		double lse = lupi__logsumexp(r, w, 1.0);
		v += lse - r[i];
		for (size_t j = 0; j < w; j++)
			r[j] = (float)((exp(r[j] - lse) - (j == i)) /
					 (double)m);
	}
	return v / (double)m;
}

/* dZ from dE through the normalisation (in place), then head gradients
 * dW = dZ^T x, db = sum_i dZ_i. */
static void head_grad(const float *x, size_t m, size_t d, const float *emb,
		      const double *nrm, float *de, size_t e, float *gw,
		      float *gb, float *tmp)
{
	for (size_t i = 0; i < m; i++) {
		lupi__normalize_row_backward(emb + i * e, nrm[i], NORM_FLOOR,
					     de + i * e, e, tmp);
		memcpy(de + i * e, tmp, e * sizeof *tmp);
	}
	if (gw == NULL)
		return;
	lupi__gemm(1, 0, e, d, m, 1.0f, de, e, x, d, 0.0f, gw, d);
	for (size_t j = 0; j < e; j++) {
		double s = 0.0;
		for (size_t i = 0; i < m; i++)
			s += de[i * e + j];
		gb[j] = (float)s;
	}
}

static void enqueue(lupi__crd *c, const float *et, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		memcpy(c->queue + c->head * c->e, et + i * c->e,
		       c->e * sizeof(float));
		c->head = (c->head + 1) % c->cap;
		if (c->len < c->cap)
			c->len++;
	}
}

int lupi__feature_crd(lupi_loss *l, size_t m, size_t ds, const float *fs,
		      size_t dt, const float *ft, int update, double *value,
		      float *grad)
{
	LUPI__TRY(crd_init(l, ds, dt));
	lupi__crd *c = &l->crd;
	size_t e = c->e, w = m + c->len;
	float *ws = c->par.p, *bs = ws + e * ds;
	float *wt = bs + e, *bt = wt + e * dt;
	size_t me = lupi__arena_size(m * e * sizeof(float));
	size_t need = 4 * me + lupi__arena_size(m * w * sizeof(float)) +
		      lupi__arena_size(c->par.n * sizeof(float)) +
		      2 * lupi__arena_size(m * sizeof(double)) +
		      lupi__arena_size(e * sizeof(float));
	LUPI__TRY(lupi__arena_reserve(&l->work, need));
	float *es = lupi__arena_alloc(&l->work, m * e * sizeof(float));
	float *et = lupi__arena_alloc(&l->work, m * e * sizeof(float));
	float *des = lupi__arena_alloc(&l->work, m * e * sizeof(float));
	float *det = lupi__arena_alloc(&l->work, m * e * sizeof(float));
	float *u = lupi__arena_alloc(&l->work, m * w * sizeof(float));
	float *gp = lupi__arena_alloc(&l->work, c->par.n * sizeof(float));
	double *ns = lupi__arena_alloc(&l->work, m * sizeof(double));
	double *nt = lupi__arena_alloc(&l->work, m * sizeof(double));
	float *tmp = lupi__arena_alloc(&l->work, e * sizeof(float));
	float inv_tau = (float)(1.0 / l->crd_temperature);

	embed(fs, m, ds, ws, bs, e, es, ns);
	embed(ft, m, dt, wt, bt, e, et, nt);
	lupi__gemm(0, 1, m, m, e, inv_tau, es, e, et, e, 0.0f, u, w);
	lupi__gemm(0, 1, m, c->len, e, inv_tau, es, e, c->queue, e, 0.0f,
		   u + m, w);
	*value = info_nce(u, m, w);
	/* dL/de_s = (dU_batch E_t + dU_queue Q) / tau */
	lupi__gemm(0, 0, m, e, m, inv_tau, u, w, et, e, 0.0f, des, e);
	if (c->len > 0)
		lupi__gemm(0, 0, m, e, c->len, inv_tau, u + m, w, c->queue, e,
			   1.0f, des, e);
	int learn = update && isfinite(*value);
	/* dL/de_t = dU_batch^T E_s / tau */
	if (learn)
		lupi__gemm(1, 0, m, e, m, inv_tau, u, w, es, e, 0.0f, det, e);
	head_grad(fs, m, ds, es, ns, des, e, learn ? gp : NULL,
		  gp + e * ds, tmp);
	lupi__gemm(0, 0, m, ds, e, 1.0f, des, e, ws, ds, 0.0f, grad, ds);
	if (!learn)
		return LUPI_OK;
	head_grad(ft, m, dt, et, nt, det, e, gp + e * ds + e,
		  gp + e * ds + e + e * dt, tmp);
	lupi__adam_step(&c->par, gp, l->feature_lr);
	enqueue(c, et, m);
	return LUPI_OK;
}
