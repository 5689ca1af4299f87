/*
 * Output losses: lupi_loss_eval.
 *
 * Per sample i with student logits s, teacher logits t, label y:
 *   l_i = a_i CE(y, p(s)) + b_i D_i
 * where a_i = 1 - lambda and b_i = lambda (times p(t)_y with the confidence
 * filter) when the sample has a teacher term, and a_i = 1, b_i = 0 when it
 * has none (has_teacher 0, t NULL, or dropped by LUPI_FILTER_DROP_WRONG:
 * a dropped sample's l_i is that of a sample without a teacher, its label
 * term at full weight). A sample without a teacher output (has_teacher 0)
 * enters the mean with the factor f_i = NO_TEACHER_WEIGHT, every other
 * sample (a filtered one too: it has a teacher output) with f_i = 1;
 * without any teacher (t NULL in a step) and for LUPI_LOSS_HARD every f_i
 * is 1. The value is
 *   NORMALIZE = WEIGHTS: sum w_i f_i l_i / sum w_i f_i, a weighted mean (0,
 *                        with a zero gradient, when the sum is 0, e.g. when
 *                        NO_TEACHER_WEIGHT 0 drops every sample);
 *   NORMALIZE = COUNT:   sum w_i f_i l_i / n, weights not renormalised.
 *
 * Teacher terms D_i (columns C: all, or those of lupi_loss_set_columns):
 * - KD (Hinton, Vinyals & Dean 2015; Lopez-Paz et al. 2016):
 *   c D(q, p), q = softmax_C(t / T), p = softmax_C(s / Ts), c = T^2 or 1.
 *   CE: -sum q log p; KL: sum q (log q - log p) (gradient as CE);
 *   reverse KL: sum p (log p - log q); JS: 1/2 KL(p || m) + 1/2 KL(q || m)
 *   with m = (p + q) / 2. Gradients w.r.t. z = s / Ts, then times c / Ts:
 *   CE, KL: p - q; reverse KL: p_j (log p_j - log q_j - KL(p || q));
 *   JS: 1/2 p_j (log p_j - log m_j - KL(p || m)).
 * - LOGITS (Ba & Caruana 2014): 1/2 sum_C (s_j - t_j)^2.
 * - SEL (Zhao & Zhu 2023): 1/2 (log p_C(s)_y - log p_C(t)_y)^2 at
 *   temperature 1; a sample whose label is not in C has no teacher term.
 * - REGRESSION: (1 - lambda) 1/2 |f - y|^2 + lambda 1/2 sum_C (f_j - t_j)^2.
 * Labels (0.3): a label of -1 (a dataset's label mask) marks a sample
 * without one: no label term, its teacher term as usual (none for SEL;
 * filters do not apply), and f_i = 0 when it has no teacher term either.
 * labels and targets may both be NULL when the loss reads neither
 * (lupi__loss_needs_labels): every sample is then unlabelled. Columns of
 * a HARD loss restrict its label term: softmax cross-entropy over C (the
 * label must be in C), or 1/2 sum_C (f_j - y_j)^2 for targets.
 * The temperature is used by KD only. Binary tasks (k = 1 with labels) use
 * the two-class logits (0, s), so that softmax is (1 - sigmoid, sigmoid):
 * the label term is the binary cross-entropy on logits, KD compares the
 * two-class distributions; columns do not apply there.
 *
 * Everything is computed in double with log-sum-exp, value and gradient
 * together per sample, without allocating (see CACHE_K), so a training step
 * can call this on every batch.
 */
#include <math.h>
#include <string.h>

#include "distill_internal.h"

/* The label of a sample without one (a label of -1, or no labels at all). */
#define NO_LABEL ((size_t)-1)

/* Probabilities are cached on the stack for up to CACHE_K outputs (the
 * student's and the teacher's distributions: 16 KB); above that they are recomputed from the logits,
 * so that no k ever needs an allocation. */
#define CACHE_K 1024

typedef struct ctx {
	const lupi_loss *l;
	size_t k;           /* logits per sample (2 for binary) */
	const size_t *cols; /* teacher-term columns or NULL for 0..k-1 */
	size_t nc;
	double inv_t, inv_ts, c;
	double *cache;      /* 2 * CACHE_K doubles, NULL when k > CACHE_K */
} ctx;

/* A softmax of x * scale over n columns, for log p_i and p_i. */
typedef struct dist {
	const float *x;
	const size_t *cols; /* NULL for 0..n-1 */
	size_t n;
	double scale, lse;
	double *p;          /* cached p_i, or NULL */
} dist;

static size_t dcol(const dist *d, size_t i)
{
	return d->cols ? d->cols[i] : i;
}

/* One pass for the log-sum-exp (stable: shifted by the maximum); with a
 * cache, the shifted exponentials become the probabilities. */
static void dist_init(dist *d, const float *x, const size_t *cols, size_t n,
		      double scale, double *cache)
{
	d->x = x;
	d->cols = cols;
	d->n = n;
	d->scale = scale;
	d->p = cache;
	double mx = -INFINITY, sum = 0.0;
	for (size_t i = 0; i < n; i++)
		if (x[dcol(d, i)] * scale > mx)
			mx = x[dcol(d, i)] * scale;
	for (size_t i = 0; i < n; i++) {
		double e = exp(x[dcol(d, i)] * scale - mx);
		if (cache)
			cache[i] = e;
		sum += e;
	}
	d->lse = mx + log(sum);
	if (cache)
		for (size_t i = 0; i < n; i++)
			cache[i] /= sum;
}

static double dist_lp(const dist *d, size_t i)
{
	return d->x[dcol(d, i)] * d->scale - d->lse;
}

static double dist_p(const dist *d, size_t i)
{
	return d->p ? d->p[i] : exp(dist_lp(d, i));
}

static double *cache_slot(const ctx *cx, size_t slot)
{
	return cx->cache ? cx->cache + slot * CACHE_K : NULL;
}

static double log_add_exp(double a, double b)
{
	double mx = a > b ? a : b;
	return mx + log1p(exp(-fabs(a - b)));
}

/* D(q, p) of KD; adds gs * dD/dz_j to g[j] (z = s / Ts). */
static double kd_term(const ctx *cx, const float *s, const float *t,
		      double gs, float *g)
{
	int div = cx->l->divergence;
	dist ps, qt;
	dist_init(&ps, s, cx->cols, cx->nc, cx->inv_ts, cache_slot(cx, 0));
	dist_init(&qt, t, cx->cols, cx->nc, cx->inv_t, cache_slot(cx, 1));
	double v = 0.0, b = 0.0; /* b: KL(p || m) for JS */
	for (size_t i = 0; i < cx->nc; i++) {
		double lp = dist_lp(&ps, i), lq = dist_lp(&qt, i);
		double p = dist_p(&ps, i), q = dist_p(&qt, i), lm;
		switch (div) {
		case LUPI_DIV_CE: v -= q * lp; break;
		case LUPI_DIV_KL: v += q * (lq - lp); break;
		case LUPI_DIV_REVERSE_KL: v += p * (lp - lq); break;
		default:
			lm = log_add_exp(lp, lq) - M_LN2;
			b += p * (lp - lm);
			v += 0.5 * (p * (lp - lm) + q * (lq - lm));
			break;
		}
	}
	if (g == NULL)
		return v;
	for (size_t i = 0; i < cx->nc; i++) {
		double lp = dist_lp(&ps, i), lq = dist_lp(&qt, i);
		double p = dist_p(&ps, i), d;
		switch (div) {
		case LUPI_DIV_CE:
		case LUPI_DIV_KL: d = p - dist_p(&qt, i); break;
		case LUPI_DIV_REVERSE_KL: d = p * (lp - lq - v); break;
		default:
			d = 0.5 * p * (lp - log_add_exp(lp, lq) + M_LN2 - b);
			break;
		}
		g[dcol(&ps, i)] += (float)(gs * d);
	}
	return v;
}

static double logits_term(const ctx *cx, const float *s, const float *t,
			  double gs, float *g)
{
	double v = 0.0;
	for (size_t i = 0; i < cx->nc; i++) {
		size_t j = cx->cols ? cx->cols[i] : i;
		double d = (double)s[j] - t[j];
		v += 0.5 * d * d;
		if (g)
			g[j] += (float)(gs * d);
	}
	return v;
}

/* yi: the position of the label among the columns. */
static double sel_term(const ctx *cx, const float *s, const float *t,
		       size_t yi, double gs, float *g)
{
	dist ps, pt;
	dist_init(&ps, s, cx->cols, cx->nc, 1.0, cache_slot(cx, 0));
	dist_init(&pt, t, cx->cols, cx->nc, 1.0, NULL);
	double d = dist_lp(&ps, yi) - dist_lp(&pt, yi);
	if (g)
		for (size_t i = 0; i < cx->nc; i++)
			g[dcol(&ps, i)] += (float)(gs * d *
						   ((i == yi) - dist_p(&ps, i)));
	return 0.5 * d * d;
}

/* Position of y among the teacher-term columns, or nc when absent. */
static size_t col_index(const ctx *cx, size_t y)
{
	if (cx->cols == NULL)
		return y;
	for (size_t i = 0; i < cx->nc; i++)
		if (cx->cols[i] == y)
			return i;
	return cx->nc;
}

/* Whether sample's teacher term applies after the filters, and its extra
 * weight (the teacher's probability of y for LUPI_FILTER_CONFIDENCE). */
static int teacher_applies(const ctx *cx, const float *t, size_t y,
			   double *conf)
{
	const lupi_loss *l = cx->l;
	*conf = 1.0;
	if (l->kind == LUPI_LOSS_SEL &&
	    (y == NO_LABEL || col_index(cx, y) == cx->nc))
		return 0;
	if (y == NO_LABEL)
		return 1; /* filters judge by the label: none to judge by */
	if (l->filter == LUPI_FILTER_DROP_WRONG)
		return lupi__argmax(t, cx->k) == y;
	if (l->filter == LUPI_FILTER_CONFIDENCE)
		*conf = exp(t[y] - lupi__logsumexp(t, cx->k, 1.0));
	return 1;
}

/* The label loss of one sample is the model's own objective (one copy of
 * the code, so a HARD loss and lupi_model_step agree): its value, and its
 * gradient times gs into g when g is not NULL. The labels were checked. */
static double label_term(int task, const float *s, size_t k, int32_t y,
			 const float *target, double gs, float *g)
{
	double v = 0.0;
	lupi__objective_hard(task, 1, k, s, &y, target, NULL, &v, g);
	if (g)
		for (size_t j = 0; j < k; j++)
			g[j] = (float)(gs * g[j]);
	return v;
}

/* Cross-entropy of label y over the columns of a HARD loss: softmax over
 * those columns only (the label is one of them: checked); the gradient,
 * times gs, is 0 outside them. */
static double column_label_term(const ctx *cx, const float *s, size_t y,
				double gs, float *g)
{
	dist ps;
	size_t yi = col_index(cx, y);
	dist_init(&ps, s, cx->cols, cx->nc, 1.0, cache_slot(cx, 0));
	if (g) {
		memset(g, 0, cx->k * sizeof *g);
		for (size_t i = 0; i < cx->nc; i++)
			g[dcol(&ps, i)] = (float)(gs * (dist_p(&ps, i) -
							(i == yi)));
	}
	return -dist_lp(&ps, yi);
}

/* One classification sample; w is its share of the mean (w_i / sum w).
 * y NO_LABEL: no label term (its gradient is 0). */
static double sample_class(const ctx *cx, const float *s, const float *t,
			   size_t y, double w, float *g)
{
	const lupi_loss *l = cx->l;
	double conf = 1.0;
	double lam = t && l->kind != LUPI_LOSS_HARD &&
				     teacher_applies(cx, t, y, &conf)
			     ? l->lambda
			     : 0.0;
	double v = 0.0;
	if (y == NO_LABEL) {
		if (g)
			memset(g, 0, cx->k * sizeof *g);
	} else if (l->kind == LUPI_LOSS_HARD && cx->cols) {
		v = column_label_term(cx, s, y, w, g);
	} else {
		v = (1.0 - lam) * label_term(LUPI_TASK_CLASSIFICATION, s,
					     cx->k, (int32_t)y, NULL,
					     w * (1.0 - lam), g);
	}
	double b = lam * conf;
	if (b == 0.0)
		return v;
	switch (l->kind) {
	case LUPI_LOSS_KD:
		return v + b * cx->c *
				   kd_term(cx, s, t, w * b * cx->c * cx->inv_ts,
					   g);
	case LUPI_LOSS_LOGITS:
		return v + b * logits_term(cx, s, t, w * b, g);
	default:
		return v + b * sel_term(cx, s, t, col_index(cx, y), w * b, g);
	}
}

/* Binary (k = 1): the two-class logits (0, s). */
static double sample_binary(const ctx *cx, const float *s, const float *t,
			    size_t y, double w, float *g)
{
	float s2[2] = {0.0f, s[0]}, t2[2] = {0.0f, t ? t[0] : 0.0f};
	float g2[2];
	double v = sample_class(cx, s2, t ? t2 : NULL, y, w, g ? g2 : NULL);
	if (g)
		g[0] = g2[1];
	return v;
}

static double sample_regression(const ctx *cx, const float *f, const float *t,
				const float *y, double w, float *g)
{
	double lam = t && cx->l->kind == LUPI_LOSS_REGRESSION ? cx->l->lambda
							      : 0.0;
	double v = 0.0;
	if (y != NULL && cx->l->kind == LUPI_LOSS_HARD && cx->cols) {
		/* a HARD loss over columns: 1/2 sum_C (f_j - y_j)^2 */
		if (g)
			memset(g, 0, cx->k * sizeof *g);
		v = logits_term(cx, f, y, w, g);
	} else if (y != NULL) {
		v = (1.0 - lam) * label_term(LUPI_TASK_REGRESSION, f, cx->k,
					     0, y, w * (1.0 - lam), g);
	} else if (g) {
		memset(g, 0, cx->k * sizeof *g);
	}
	if (lam > 0.0)
		v += lam * logits_term(cx, f, t, w * lam, g);
	return v;
}

/* ---- argument checks ---------------------------------------------------- */

int lupi__loss_needs_labels(const lupi_loss *l, int with_teacher)
{
	return l->kind == LUPI_LOSS_HARD || !with_teacher || l->lambda < 1.0 ||
	       l->kind == LUPI_LOSS_SEL || l->filter != LUPI_FILTER_NONE;
}

const char *lupi__loss_label_use(const lupi_loss *l)
{
	if (l->kind == LUPI_LOSS_HARD)
		return "LUPI_LOSS_HARD is the label loss";
	if (l->kind == LUPI_LOSS_SEL)
		return "the SEL term compares the label's log-probability";
	if (l->filter != LUPI_FILTER_NONE)
		return "teacher filters judge the teacher by the label";
	if (l->lambda < 1.0)
		return "LAMBDA below 1 weights a label term; 1 is pure "
		       "imitation";
	return "without a teacher every sample gets its label term";
}

static int check_kind_targets(const lupi_loss *l, size_t k,
			      const int32_t *labels, const float *targets)
{
	if (labels && targets)
		return lupi__err(LUPI_EINVAL, "give either labels or targets, "
				 "not both");
	if (labels == NULL && targets == NULL &&
	    lupi__loss_needs_labels(l, 1))
		return lupi__err(LUPI_EINVAL,
				 "no labels or targets, and the loss uses "
				 "them (%s)", lupi__loss_label_use(l));
	if (targets && l->kind != LUPI_LOSS_HARD &&
	    l->kind != LUPI_LOSS_REGRESSION)
		return lupi__err(LUPI_EINVAL, "loss kind %d needs class "
				 "labels, not targets", l->kind);
	if (labels && l->kind == LUPI_LOSS_REGRESSION)
		return lupi__err(LUPI_EINVAL, "LUPI_LOSS_REGRESSION needs "
				 "targets, not labels");
	if (targets && l->filter != LUPI_FILTER_NONE &&
	    l->kind == LUPI_LOSS_REGRESSION)
		return lupi__err(LUPI_EINVAL, "teacher filters need class "
				 "labels");
	/* Columns select teacher-term outputs, and those of a HARD loss's
	 * label term; a binary task has one output and no columns. */
	if (l->kind == LUPI_LOSS_HARD && l->n_cols > 0 && labels && k == 1)
		return lupi__err(LUPI_EINVAL, "columns restrict a HARD loss's "
				 "label term; a binary task (k = 1) has "
				 "none");
	if (labels && k == 1)
		return LUPI_OK;
	for (size_t i = 0; i < l->n_cols; i++)
		if (l->cols[i] >= k)
			return lupi__err(LUPI_ESHAPE, "column %zu is outside "
					 "the %zu outputs", l->cols[i], k);
	return LUPI_OK;
}

static int check_rows(const char *what, const float *x, size_t n, size_t k,
		      const uint8_t *mask)
{
	size_t where;
	for (size_t i = 0; i < n; i++) {
		if (mask && !mask[i])
			continue;
		if (!lupi__all_finite(x + i * k, k, &where))
			return lupi__err(LUPI_ENONFINITE, "%s: sample %zu, "
					 "column %zu is not finite", what, i,
					 where);
	}
	return LUPI_OK;
}

/* Labels in [0, classes), or -1 (no label); with the columns of a HARD
 * loss, among the columns. */
static int check_labels(const lupi_loss *l, const int32_t *labels, size_t n,
			size_t k)
{
	size_t classes = k == 1 ? 2 : k;
	int by_cols = l->kind == LUPI_LOSS_HARD && l->n_cols > 0;
	for (size_t i = 0; i < n; i++) {
		if (labels[i] == -1)
			continue;
		if (labels[i] < 0 || (size_t)labels[i] >= classes)
			return lupi__err(LUPI_ERANGE, "sample %zu: label %d "
					 "is outside [0, %zu)", i,
					 (int)labels[i], classes);
		size_t c = 0;
		while (by_cols && c < l->n_cols &&
		       l->cols[c] != (size_t)labels[i])
			c++;
		if (by_cols && c == l->n_cols)
			return lupi__err(LUPI_ERANGE, "sample %zu: label %d "
					 "is not among the loss's %zu "
					 "columns", i, (int)labels[i],
					 l->n_cols);
	}
	return LUPI_OK;
}

static int check_weights(const float *w, size_t n)
{
	for (size_t i = 0; w != NULL && i < n; i++)
		if (!(w[i] >= 0.0f) || !isfinite(w[i]))
			return lupi__err(LUPI_ERANGE, "sample %zu: weight %g "
					 "is not a finite value >= 0", i,
					 (double)w[i]);
	return LUPI_OK;
}

static int check_args(const lupi_loss *l, size_t n, size_t k,
		      const float *s, const float *t, const int32_t *labels,
		      const float *targets, const float *weights,
		      const uint8_t *has_teacher)
{
	size_t nk;
	if (n == 0 || k == 0)
		return lupi__err(LUPI_EINVAL, "n = %zu, k = %zu (neither may "
				 "be 0)", n, k);
	if (lupi__mul_overflow(n, k, &nk) ||
	    lupi__mul_overflow(nk, sizeof(float), &nk))
		return lupi__err(LUPI_EINVAL, "%zu x %zu outputs overflow",
				 n, k);
	LUPI__TRY(check_kind_targets(l, k, labels, targets));
	if (labels)
		LUPI__TRY(check_labels(l, labels, n, k));
	LUPI__TRY(check_weights(weights, n));
	LUPI__TRY(check_rows("student outputs", s, n, k, NULL));
	if (targets)
		LUPI__TRY(check_rows("targets", targets, n, k, NULL));
	if (t && l->kind != LUPI_LOSS_HARD)
		LUPI__TRY(check_rows("teacher outputs", t, n, k,
				     has_teacher));
	return LUPI_OK;
}

static void init_ctx(ctx *cx, const lupi_loss *l, size_t k, int binary)
{
	cx->l = l;
	cx->k = binary ? 2 : k;
	cx->cols = binary ? NULL : l->cols;
	cx->nc = cx->cols ? l->n_cols : cx->k;
	cx->inv_t = 1.0 / l->temperature;
	cx->inv_ts = l->student_t ? 1.0 : cx->inv_t;
	cx->c = l->scale_t2 ? l->temperature * l->temperature : 1.0;
}

/* What a sample has to be scored on. */
typedef struct sample_in {
	const float *t;             /* teacher outputs of the call or NULL */
	const uint8_t *has_teacher;
	const int32_t *labels;      /* NULL: no labels (or targets) */
	const float *targets;
	size_t n;                   /* samples */
} sample_in;

/* Sample i's factor in the mean (see the top of the file): 0 for a sample
 * with neither a label nor a teacher term. */
static double sample_factor(const lupi_loss *l, const sample_in *in,
			    size_t i)
{
	int labelled = in->targets != NULL ||
		       (in->labels != NULL && in->labels[i] != -1);
	int teacher = l->kind != LUPI_LOSS_HARD && in->t != NULL &&
		      (in->has_teacher == NULL || in->has_teacher[i]) &&
		      (l->kind != LUPI_LOSS_SEL || labelled);
	if (!labelled && !teacher)
		return 0.0;
	if (l->kind == LUPI_LOSS_HARD || in->t == NULL ||
	    in->has_teacher == NULL || in->has_teacher[i])
		return 1.0;
	return l->no_teacher_weight;
}

/* The denominator of the mean. */
static double mean_total(const lupi_loss *l, size_t n, const sample_in *in,
			 const float *weights)
{
	if (l->normalize == LUPI_NORMALIZE_COUNT)
		return (double)n;
	double total = 0.0;
	for (size_t i = 0; i < n; i++)
		total += (weights ? weights[i] : 1.0) *
			 sample_factor(l, in, i);
	return total;
}

/* One evaluation, shared by the parts that split its rows. */
typedef struct eval {
	const lupi_loss *l;
	size_t k;
	const float *s, *weights;
	sample_in in; /* teacher outputs, labels, targets, rows */
	double total;
	int binary;
	float *grad;
	double *terms; /* w * loss of each row, when split */
} eval;

/* Sample i's weight w, its gradient (scaled by w / total) into grad and
 * w times its loss into *term; 0 when the sample has no share. */
static int eval_row(const eval *e, const ctx *cx, size_t i, double *term)
{
	size_t k = e->k;
	const sample_in *in = &e->in;
	double w = (e->weights ? e->weights[i] : 1.0) *
		   sample_factor(e->l, in, i);
	const float *ti = in->t && (!in->has_teacher || in->has_teacher[i])
				  ? in->t + i * k
				  : NULL;
	float *g = e->grad ? e->grad + i * k : NULL;
	if (w == 0.0) {
		/* no share in the mean, and no work */
		if (g)
			memset(g, 0, k * sizeof *g);
		return 0;
	}
	double li;
	size_t y = in->labels && in->labels[i] != -1 ? (size_t)in->labels[i]
						     : NO_LABEL;
	if (in->targets || (!in->labels && e->l->kind == LUPI_LOSS_REGRESSION))
		li = sample_regression(cx, e->s + i * k, ti,
				       in->targets ? in->targets + i * k : NULL,
				       w / e->total, g);
	else if (e->binary)
		li = sample_binary(cx, e->s + i, ti, y, w / e->total, g);
	else
		li = sample_class(cx, e->s + i * k, ti, y, w / e->total, g);
	*term = w * li;
	return 1;
}

/* Rows of one part, with the part's own probability cache. */
static void eval_part(void *ctx_, unsigned part, unsigned parts)
{
	eval *e = ctx_;
	double cache[2 * CACHE_K];
	ctx cx;
	init_ctx(&cx, e->l, e->k, e->binary);
	cx.cache = cx.k <= CACHE_K ? cache : NULL;
	size_t lo, hi;
	lupi__split(e->in.n, part, parts, 1, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (!eval_row(e, &cx, i, &e->terms[i]))
			e->terms[i] = 0.0;
}

/* Rows split over the library's threads when there are at least this
 * many logits per part (a KD row of 10 classes, three softmaxes in
 * double, takes about half a microsecond). */
#define PART_LOGITS 512
/* Rows whose terms fit on the stack; larger batches run on one thread. */
#define MAX_SPLIT_ROWS 2048

int lupi__loss_eval_output(const lupi_loss *l, size_t n, size_t k,
			   const float *s, const float *t,
			   const int32_t *labels, const float *targets,
			   const float *weights, const uint8_t *has_teacher,
			   double *value, float *grad)
{
	LUPI__CHECK_NULL(l);
	LUPI__CHECK_NULL(s);
	LUPI__CHECK_NULL(value);
	LUPI__TRY(check_args(l, n, k, s, t, labels, targets, weights,
			     has_teacher));
	*value = 0.0;
	sample_in in = {t, has_teacher, labels, targets, n};
	double total = mean_total(l, n, &in, weights);
	if (total == 0.0) {
		if (grad)
			memset(grad, 0, n * k * sizeof *grad);
		return LUPI_OK;
	}
	/* Without labels, k = 1 is a binary task unless the loss is the
	 * regression one. */
	int binary = k == 1 && (labels != NULL ||
				(targets == NULL &&
				 l->kind != LUPI_LOSS_REGRESSION));
	eval e = {l, k, s, weights, in, total, binary, grad, NULL};
	double sum = 0.0;
	unsigned parts = n <= MAX_SPLIT_ROWS ?
		lupi__parallel_parts((double)n * (double)k, PART_LOGITS) : 1;
	if (parts > 1) {
		/* the terms are summed here in row order: the same bits as
		 * the one-thread loop below, for any split (a row without a
		 * term holds +0.0, which leaves a sum that starts at +0.0
		 * unchanged) */
		double terms[MAX_SPLIT_ROWS];
		e.terms = terms;
		lupi__parallel(eval_part, &e, parts);
		for (size_t i = 0; i < n; i++)
			sum += terms[i];
	} else {
		double cache[2 * CACHE_K];
		ctx cx;
		init_ctx(&cx, l, k, binary);
		cx.cache = cx.k <= CACHE_K ? cache : NULL;
		for (size_t i = 0; i < n; i++) {
			double term;
			if (eval_row(&e, &cx, i, &term))
				sum += term;
		}
	}
	size_t where;
	if (!isfinite(sum))
		return lupi__err(LUPI_ENONFINITE, "the loss is not finite");
	if (grad && !lupi__all_finite(grad, n * k, &where))
		return lupi__err(LUPI_ENONFINITE, "loss gradient: sample %zu, "
				 "column %zu is not finite", where / k,
				 where % k);
	*value = sum / total;
	return LUPI_OK;
}

int lupi_loss_eval(const lupi_loss *l, size_t n, size_t k, const float *s,
		   const float *t, const int32_t *labels,
		   const float *targets, const float *weights,
		   const uint8_t *has_teacher, double *value, float *grad)
{
	LUPI__CHECK_NULL(l);
	if (t == NULL && l->kind != LUPI_LOSS_HARD)
		return lupi__err(LUPI_EINVAL, "t (teacher outputs) is NULL; "
				 "loss kind %d needs it", l->kind);
	return lupi__loss_eval_output(l, n, k, s, t, labels, targets, weights,
				      has_teacher, value, grad);
}
