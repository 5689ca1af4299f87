/* Students: one distillation step (generalized distillation, Lopez-Paz,
 * Bottou, Schoelkopf & Vapnik 2016), its gradient, the loss over a whole
 * dataset, and the fit loop around the step.
 *
 * The teacher is only read. What a step needs besides the student's own
 * arena (teacher outputs and features of the batch, the scratch of
 * combining members, the default loss) lives in the student's aux scratch
 * (lupi__step_scratch), so one teacher can serve several students on
 * several threads at once. */
#include <math.h>
#include <string.h>

#include "train_internal.h"

/* Rows per student forward pass in lupi_student_loss. */
#define LOSS_CHUNK 256u

/* ---- the student's scratch ---------------------------------------------- */

static int grow(void **p, size_t a, size_t b, size_t size)
{
	size_t n, bytes;
	if (lupi__mul_overflow(a, b ? b : 1, &n) ||
	    lupi__mul_overflow(n ? n : 1, size, &bytes))
		return lupi__err(LUPI_ENOMEM, "step scratch of %zu x %zu",
				 a, b);
	void *q = lupi__realloc(*p, bytes);
	if (q == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (%zu bytes of "
				 "step scratch)", bytes);
	*p = q;
	return LUPI_OK;
}

static void scratch_free(void *p)
{
	lupi__step_scratch *sc = p;
	if (sc == NULL)
		return;
	lupi__free(sc->t);
	lupi__free(sc->has);
	lupi__free(sc->ft);
	lupi__free(sc->fgrad);
	lupi__free(sc->trows);
	lupi__combine_free(&sc->comb);
	lupi_loss_free(sc->default_loss);
	lupi__free(sc);
}

lupi__step_scratch *lupi__student_scratch(lupi_model *s, int *rc)
{
	if (s->aux != NULL && s->aux_free == scratch_free)
		return s->aux;
	if (s->aux != NULL) {
		*rc = lupi__err(LUPI_ESTATE, "the student's scratch is in use "
				"by another kind of step");
		return NULL;
	}
	lupi__step_scratch *sc = lupi__calloc(1, sizeof *sc);
	if (sc == NULL) {
		*rc = lupi__err(LUPI_ENOMEM, "out of memory (step scratch)");
		return NULL;
	}
	s->aux = sc;
	s->aux_free = scratch_free;
	return sc;
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

int lupi__step_scratch_reserve(lupi__step_scratch *sc, size_t n, size_t k,
			       size_t dt, size_t ds, size_t din)
{
	if (n <= sc->cap_n && k <= sc->cap_k && dt <= sc->cap_dt &&
	    ds <= sc->cap_ds && din <= sc->cap_din && sc->has != NULL)
		return LUPI_OK;
	n = max_size(n, sc->cap_n);
	k = max_size(k, sc->cap_k);
	dt = max_size(dt, sc->cap_dt);
	ds = max_size(ds, sc->cap_ds);
	din = max_size(din, sc->cap_din);
	LUPI__TRY(grow((void **)&sc->t, n, k, sizeof(float)));
	LUPI__TRY(grow((void **)&sc->has, n, 1, 1));
	LUPI__TRY(grow((void **)&sc->ft, n, dt, sizeof(float)));
	LUPI__TRY(grow((void **)&sc->fgrad, n, ds, sizeof(float)));
	LUPI__TRY(grow((void **)&sc->trows, n, din, sizeof(float)));
	sc->cap_n = n;
	sc->cap_k = k;
	sc->cap_dt = dt;
	sc->cap_ds = ds;
	sc->cap_din = din;
	return LUPI_OK;
}

/* The loss of a step given loss NULL and a teacher: KD with its defaults,
 * or regression distillation for a regression student (a teacher of the
 * other kind is refused by check_teacher). Created once per student and
 * never changed, so the teacher holds no state for it. */
static int default_loss(lupi_model *s, lupi__step_scratch *sc,
			lupi_loss **loss)
{
	if (sc->default_loss == NULL) {
		int kind = s->task == LUPI_TASK_REGRESSION
				   ? LUPI_LOSS_REGRESSION
				   : LUPI_LOSS_KD;
		LUPI__TRY(lupi_loss_create(kind, &sc->default_loss));
	}
	*loss = sc->default_loss;
	return LUPI_OK;
}

/* ---- checks and plans --------------------------------------------------- */

/* Feature-loss layers of one step: widths and indices (valid when on). */
typedef struct feature_plan {
	int on;
	size_t s_layer, t_layer; /* hidden layer indices */
	size_t s_width, t_width;
	size_t t_inputs;         /* the teacher model's inputs */
} feature_plan;

/* A hidden layer option of the loss (LUPI__LAYER_LAST or an index). */
static int loss_layer(int64_t v, const lupi_model *m, const char *who,
		      size_t *layer)
{
	size_t n_hidden = m->n_layers - 1;
	if (n_hidden == 0)
		return lupi__err(LUPI_ERANGE,
				 "feature loss: the %s has no hidden layer",
				 who);
	if (v == LUPI__LAYER_LAST)
		v = (int64_t)n_hidden - 1;
	if (v < 0 || (uint64_t)v >= n_hidden)
		return lupi__err(LUPI_ERANGE,
				 "feature loss: %s layer %lld, the %s has %zu "
				 "hidden layers", who, (long long)v, who,
				 n_hidden);
	*layer = (size_t)v;
	return LUPI_OK;
}

static int plan_features(const lupi_model *s, const lupi_teacher *t,
			 const lupi_loss *loss, feature_plan *fp)
{
	memset(fp, 0, sizeof *fp);
	if (!lupi__loss_needs_features(loss) || t == NULL)
		return LUPI_OK;
	const lupi_model *tm = lupi__teacher_model(t);
	if (tm == NULL)
		return lupi__err(LUPI_ENOTSUP,
				 "feature losses need a teacher that is one "
				 "model, not external outputs or an ensemble");
	LUPI__TRY(loss_layer(loss->student_layer, s, "student", &fp->s_layer));
	LUPI__TRY(loss_layer(loss->teacher_layer, tm, "teacher",
			     &fp->t_layer));
	fp->s_width = s->layers[fp->s_layer].out;
	fp->t_width = tm->layers[fp->t_layer].out;
	fp->t_inputs = tm->n_in;
	fp->on = 1;
	return LUPI_OK;
}

static int check_teacher(const lupi_model *s, const lupi_teacher *t)
{
	if (t == NULL)
		return LUPI_OK;
	if (t->n_members == 0)
		return lupi__err(LUPI_ESTATE, "teacher has no members");
	if (t->k != s->n_out)
		return lupi__err(LUPI_ESHAPE,
				 "student has %zu outputs, teacher %zu",
				 s->n_out, t->k);
	if ((t->task == LUPI_TASK_REGRESSION) !=
	    (s->task == LUPI_TASK_REGRESSION))
		return lupi__err(LUPI_ESHAPE,
				 "student and teacher tasks differ "
				 "(regression and classification)");
	return LUPI_OK;
}

/* Whether a step or loss reads the targets of ds: 1 unless the loss is pure
 * imitation of a teacher (lupi__loss_needs_labels). A dataset without
 * targets (LUPI_TASK_NONE) is then accepted; one that has targets is
 * checked against the student as always. */
static int need_targets(const lupi_model *s, const lupi_teacher *t,
			const lupi_loss *loss, const lupi_dataset *ds)
{
	if (ds->task != LUPI_TASK_NONE)
		return 1;
	if (lupi__loss_needs_labels(loss, t != NULL))
		return lupi__err(LUPI_ESTATE, "the dataset has no targets "
				 "(LUPI_TASK_NONE) and the loss reads them: "
				 "%s", t == NULL ? "no teacher, so every "
				 "sample gets its label term" :
				 lupi__loss_label_use(loss));
	(void)s;
	return 0;
}

/* need_targets, or 2 when a classification loss over columns may train
 * fewer classes than the student has outputs. */
static int need_targets_cols(const lupi_model *s, const lupi_teacher *t,
			     const lupi_loss *loss, const lupi_dataset *ds)
{
	int need = need_targets(s, t, loss, ds);
	if (need == 1 && loss->n_cols > 0 &&
	    s->task == LUPI_TASK_CLASSIFICATION)
		return 2;
	return need;
}

static int step_args(const lupi_model *student, const lupi_dataset *ds,
		     const size_t *idx, size_t n)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "n is 0");
	return lupi__model_check_batch(student, n);
}

/* ---- one step ------------------------------------------------------------ */

/* Teacher outputs computed once for every sample of a fit's training set,
 * when the teacher has no cache of it (a fit cannot prepare a const
 * teacher). NULL t: read the teacher. */
typedef struct outputs_of {
	const float *t;    /* n x k */
	const uint8_t *has;
} outputs_of;

/* Teacher outputs of the batch into sc->t and sc->has. */
static int batch_outputs(const lupi_teacher *t, const lupi_dataset *ds,
			 const size_t *idx, size_t n, const outputs_of *pre,
			 lupi__step_scratch *sc)
{
	if (pre == NULL || pre->t == NULL)
		return lupi__teacher_batch(t, ds, idx, n, sc->t, sc->has,
					   &sc->comb);
	size_t k = t->k;
	for (size_t p = 0; p < n; p++) {
		memcpy(sc->t + p * k, pre->t + idx[p] * k, k * sizeof *sc->t);
		sc->has[p] = pre->has[idx[p]];
	}
	return LUPI_OK;
}

/* Adds the feature loss of the batch; its gradient lands in sc->fgrad.
 * The one model a feature loss needs has an output exactly for the samples
 * it sees, so sc->has is rewritten with the same mask. update: the loss's
 * own parameters (hint regressor, CRD heads) take their step too. */
static int feature_term(lupi_model *s, const lupi_teacher *t,
			lupi_loss *loss, const lupi_dataset *ds,
			const size_t *idx, size_t n, const feature_plan *fp,
			lupi__step_scratch *sc, int update, double *value)
{
	LUPI__TRY(lupi__teacher_features(t, ds, idx, n, fp->t_layer, sc->ft,
					 sc->has, sc->trows));
	const float *fs = lupi__model_hidden(s, fp->s_layer);
	double fv = 0.0;
	LUPI__TRY(lupi__loss_features(loss, n, fp->s_width, fs, fp->t_width,
				      sc->ft, sc->has, update, &fv,
				      sc->fgrad));
	*value += fv;
	return LUPI_OK;
}

/* Forward, loss and backward of one batch: the loss into *value and its
 * gradient into s->grads. The forward pass gathered the batch's labels or
 * targets and weights into the student's arena (y_labels, y_targets,
 * y_weights) and left room for the gradient (dlogits). */
static int forward_backward(lupi_model *s, const lupi_teacher *t,
			    lupi_loss *loss, const lupi_dataset *ds,
			    const size_t *idx, size_t n,
			    const outputs_of *pre, int update_features,
			    double *value)
{
	int rc = LUPI_OK;
	feature_plan fp;
	int need = need_targets_cols(s, t, loss, ds);
	if (need < 0)
		return need;
	LUPI__TRY(lupi__model_prepare_targets(s, ds, need));
	LUPI__TRY(check_teacher(s, t));
	LUPI__TRY(plan_features(s, t, loss, &fp));
	lupi__step_scratch *sc = lupi__student_scratch(s, &rc);
	if (sc == NULL)
		return rc;
	/* A HARD loss reads no teacher outputs: they are not computed. */
	int use_t = t != NULL && lupi__loss_needs_teacher_outputs(loss);
	if (use_t || fp.on)
		LUPI__TRY(lupi__step_scratch_reserve(sc, n, s->n_out,
						     fp.t_width, fp.s_width,
						     fp.t_inputs));
	const float *logits;
	/* feature terms read the hidden rows as one array */
	LUPI__TRY(lupi__model_forward(s, ds, idx, n,
				      LUPI__FWD_TRAIN |
					      (fp.on ? LUPI__FWD_WHOLE : 0),
				      &logits));
	if (use_t)
		LUPI__TRY(batch_outputs(t, ds, idx, n, pre, sc));
	double v = 0.0;
	LUPI__TRY(lupi__loss_eval_output(loss, n, s->n_out, logits,
					 use_t ? sc->t : NULL, s->y_labels,
					 s->y_targets, s->y_weights,
					 use_t ? sc->has : NULL, &v,
					 s->dlogits));
	if (fp.on)
		LUPI__TRY(feature_term(s, t, loss, ds, idx, n, &fp, sc,
				       update_features, &v));
	if (!isfinite(v))
		return lupi__err(LUPI_ENONFINITE, "the loss is not finite");
	LUPI__TRY(lupi__model_backward(s, s->dlogits,
				       fp.on ? sc->fgrad : NULL, fp.s_layer));
	*value = v;
	return LUPI_OK;
}

static int step_core(lupi_model *s, const lupi_teacher *t, lupi_loss *loss,
		     const lupi_dataset *ds, const size_t *idx, size_t n,
		     const outputs_of *pre, double *value)
{
	double v;
	LUPI__TRY(forward_backward(s, t, loss, ds, idx, n, pre, 1, &v));
	LUPI__TRY(lupi__model_reduce(s));
	LUPI__TRY(lupi__model_update(s));
	if (value)
		*value = v;
	return LUPI_OK;
}

/* Resolves loss NULL: *hard is set when the step is a plain label step (no
 * teacher either), else the default loss is taken. */
static int resolve_loss(lupi_model *s, const lupi_teacher *t,
			lupi_loss **loss, int *hard)
{
	*hard = 0;
	if (*loss != NULL)
		return LUPI_OK;
	if (t == NULL) {
		*hard = 1;
		return LUPI_OK;
	}
	int rc = LUPI_OK;
	lupi__step_scratch *sc = lupi__student_scratch(s, &rc);
	if (sc == NULL)
		return rc;
	return default_loss(s, sc, loss);
}

int lupi_student_step(lupi_model *student, const lupi_teacher *teacher,
		      lupi_loss *loss, const lupi_dataset *ds,
		      const size_t *idx, size_t n, double *value)
{
	int hard;
	LUPI__TRY(step_args(student, ds, idx, n));
	LUPI__TRY(resolve_loss(student, teacher, &loss, &hard));
	if (hard)
		return lupi_model_step(student, ds, idx, n, value);
	return step_core(student, teacher, loss, ds, idx, n, NULL, value);
}

int lupi_student_gradient(lupi_model *student, const lupi_teacher *teacher,
			  lupi_loss *loss, const lupi_dataset *ds,
			  const size_t *idx, size_t n, double *value,
			  float *grad, size_t n_grad)
{
	int hard;
	LUPI__TRY(step_args(student, ds, idx, n));
	LUPI__CHECK_NULL(grad);
	if (n_grad != student->n_params)
		return lupi__err(LUPI_ESHAPE,
				 "gradient of %zu floats, the student has "
				 "%zu parameters", n_grad, student->n_params);
	LUPI__TRY(resolve_loss(student, teacher, &loss, &hard));
	if (hard)
		return lupi_model_gradient(student, ds, idx, n, value, grad,
					   n_grad);
	double v;
	LUPI__TRY(forward_backward(student, teacher, loss, ds, idx, n, NULL, 0,
				   &v));
	LUPI__TRY(lupi__model_check_grads(student));
	memcpy(grad, student->grads, n_grad * sizeof *grad);
	if (value)
		*value = v;
	return LUPI_OK;
}

/* ---- the loss over a whole dataset ------------------------------------- */

/* Everything lupi_student_loss gathers for the nv samples the student's
 * view sees, evaluated as one batch. */
typedef struct whole {
	size_t nv;
	size_t *idx;        /* nv */
	float *s;           /* nv x k student logits */
	int32_t *labels;    /* nv, or NULL */
	float *targets;     /* nv x k, or NULL */
	float *weights;     /* nv, or NULL */
	float *t;           /* nv x k teacher outputs, or NULL */
	uint8_t *has;       /* nv */
	float *fs, *ft;     /* nv x widths: features, or NULL */
	uint8_t *fhas;      /* nv */
	float *trows;       /* LOSS_CHUNK x teacher inputs */
	lupi__combine comb;
} whole;

static void whole_free(whole *w)
{
	lupi__free(w->idx);
	lupi__free(w->s);
	lupi__free(w->labels);
	lupi__free(w->targets);
	lupi__free(w->weights);
	lupi__free(w->t);
	lupi__free(w->has);
	lupi__free(w->fs);
	lupi__free(w->ft);
	lupi__free(w->fhas);
	lupi__free(w->trows);
	lupi__combine_free(&w->comb);
}

static void *take(int *rc, size_t a, size_t b)
{
	if (*rc < 0)
		return NULL;
	void *p = lupi__malloc_array(a ? a : 1, b ? b : 1);
	if (p == NULL)
		*rc = lupi__err(LUPI_ENOMEM, "out of memory (%zu x %zu bytes "
				"for the loss over a dataset)", a, b);
	return p;
}

/* The samples the student's view sees, and room for what is gathered. */
static int whole_alloc(const lupi_model *s, const lupi_dataset *ds, int use_t,
		       const feature_plan *fp, whole *w)
{
	int need = lupi__view_needs_priv(s->opt.view), rc = LUPI_OK;
	size_t k = s->n_out;
	w->idx = take(&rc, ds->n, sizeof *w->idx);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ds->n; i++)
		if (!need || lupi__dataset_has_priv(ds, i))
			w->idx[w->nv++] = i;
	if (w->nv == 0)
		return lupi__err(LUPI_ESTATE, "no sample has the privileged "
				 "features the student's view needs");
	size_t nv = w->nv;
	w->s = take(&rc, nv, k * sizeof(float));
	if (ds->task == LUPI_TASK_REGRESSION)
		w->targets = take(&rc, nv, k * sizeof(float));
	else if (ds->task != LUPI_TASK_NONE)
		w->labels = take(&rc, nv, sizeof(int32_t));
	if (ds->weights)
		w->weights = take(&rc, nv, sizeof(float));
	if (use_t) {
		w->t = take(&rc, nv, k * sizeof(float));
		w->has = take(&rc, nv, 1);
	}
	if (fp->on) {
		w->fs = take(&rc, nv, fp->s_width * sizeof(float));
		w->ft = take(&rc, nv, fp->t_width * sizeof(float));
		w->fhas = take(&rc, nv, 1);
		w->trows = take(&rc, LOSS_CHUNK, fp->t_inputs * sizeof(float));
	}
	return rc;
}

/* Targets and weights of the listed samples, straight from the dataset. */
static void gather_targets(const lupi_dataset *ds, size_t k, whole *w)
{
	for (size_t q = 0; q < w->nv; q++) {
		size_t i = w->idx[q];
		if (w->labels)
			w->labels[q] = lupi__dataset_label(ds, i);
		if (w->targets)
			memcpy(w->targets + q * k, ds->targets + i * k,
			       k * sizeof *w->targets);
		if (w->weights)
			w->weights[q] = ds->weights[i];
	}
}

/* Student logits (and features) and teacher outputs (and features) of the
 * samples in chunks, the student in evaluation mode (no dropout). */
static int whole_forward(lupi_model *s, const lupi_teacher *t,
			 const lupi_dataset *ds, const feature_plan *fp,
			 whole *w)
{
	size_t k = s->n_out;
	for (size_t off = 0; off < w->nv; off += LOSS_CHUNK) {
		size_t m = w->nv - off < LOSS_CHUNK ? w->nv - off : LOSS_CHUNK;
		const size_t *idx = w->idx + off;
		const float *logits;
		LUPI__TRY(lupi__model_forward(
			s, ds, idx, m, fp->on ? LUPI__FWD_WHOLE : 0, &logits));
		memcpy(w->s + off * k, logits, m * k * sizeof *w->s);
		if (fp->on)
			memcpy(w->fs + off * fp->s_width,
			       lupi__model_hidden(s, fp->s_layer),
			       m * fp->s_width * sizeof *w->fs);
		if (w->t)
			LUPI__TRY(lupi__teacher_batch(t, ds, idx, m,
						      w->t + off * k,
						      w->has + off, &w->comb));
		if (fp->on)
			LUPI__TRY(lupi__teacher_features(
				t, ds, idx, m, fp->t_layer,
				w->ft + off * fp->t_width, w->fhas + off,
				w->trows));
	}
	return LUPI_OK;
}

static int whole_value(lupi_model *s, const lupi_teacher *t, lupi_loss *loss,
		       const lupi_dataset *ds, double *value)
{
	feature_plan fp;
	LUPI__TRY(plan_features(s, t, loss, &fp));
	int use_t = t != NULL && lupi__loss_needs_teacher_outputs(loss);
	whole w = {0};
	int rc = whole_alloc(s, ds, use_t, &fp, &w);
	if (rc == LUPI_OK) {
		gather_targets(ds, s->n_out, &w);
		rc = whole_forward(s, t, ds, &fp, &w);
	}
	double v = 0.0, fv = 0.0;
	if (rc == LUPI_OK)
		rc = lupi__loss_eval_output(loss, w.nv, s->n_out, w.s, w.t,
					    w.labels, w.targets, w.weights,
					    w.has, &v, NULL);
	if (rc == LUPI_OK && fp.on)
		rc = lupi__loss_features(loss, w.nv, fp.s_width, w.fs,
					 fp.t_width, w.ft, w.fhas, 0, &fv,
					 NULL);
	whole_free(&w);
	if (rc < 0)
		return rc;
	v += fv;
	if (!isfinite(v))
		return lupi__err(LUPI_ENONFINITE, "the loss is not finite");
	*value = v;
	return LUPI_OK;
}

/* A host call: its buffers are its own (allocated per call); the student's
 * arena holds one chunk of the forward pass. */
int lupi_student_loss(lupi_model *student, const lupi_teacher *teacher,
		      lupi_loss *loss, const lupi_dataset *ds, double *value)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(value);
	if (!student->initialized)
		return lupi__err(LUPI_ESTATE, "the student is not initialised");
	LUPI__TRY(lupi__model_check_dataset(student, ds, 0));
	LUPI__TRY(check_teacher(student, teacher));
	if (teacher != NULL)
		LUPI__TRY(lupi__teacher_check(teacher, ds));
	if (loss == NULL) {
		/* Without a teacher, the default loss is its label term: the
		 * model's own loss. */
		int rc = LUPI_OK;
		lupi__step_scratch *sc = lupi__student_scratch(student, &rc);
		if (sc == NULL)
			return rc;
		LUPI__TRY(default_loss(student, sc, &loss));
	}
	int need = need_targets_cols(student, teacher, loss, ds);
	if (need < 0)
		return need;
	LUPI__TRY(lupi__model_check_dataset(student, ds, need));
	return whole_value(student, teacher, loss, ds, value);
}

/* ---- fit ----------------------------------------------------------------- */

typedef struct fit_ctx {
	const lupi_teacher *teacher;
	lupi_loss *loss;   /* NULL: plain label steps */
	outputs_of pre;    /* teacher outputs of train, when not cached */
	float *own_t;      /* owned buffers behind pre */
	uint8_t *own_has;
} fit_ctx;

static int fit_step(void *ctx, lupi_model *m, const lupi_dataset *ds,
		    const size_t *idx, size_t n, double *loss)
{
	fit_ctx *c = ctx;
	if (c->loss == NULL)
		return lupi_model_step(m, ds, idx, n, loss);
	return step_core(m, c->teacher, c->loss, ds, idx, n, &c->pre, loss);
}

/* Every epoch reads the same teacher outputs: from the teacher's cache of
 * train, else computed here once (the teacher is const, so the fit keeps
 * them). */
static int fit_outputs(const lupi_model *s, const lupi_dataset *train,
		       fit_ctx *c)
{
	const lupi_teacher *t = c->teacher;
	if (t == NULL || !lupi__loss_needs_teacher_outputs(c->loss) ||
	    lupi__teacher_cached(t, train))
		return LUPI_OK;
	LUPI__TRY(check_teacher(s, t));
	LUPI__TRY(lupi__teacher_check(t, train));
	c->own_t = lupi__malloc_array(train->n, t->k * sizeof(float));
	c->own_has = lupi__malloc(train->n);
	if (c->own_t == NULL || c->own_has == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (teacher outputs "
				 "of %zu samples)", train->n);
	LUPI__TRY(lupi__teacher_all(t, train, c->own_t, c->own_has));
	c->pre.t = c->own_t;
	c->pre.has = c->own_has;
	return LUPI_OK;
}

int lupi_student_fit(lupi_model *student, const lupi_teacher *teacher,
		     lupi_loss *loss, const lupi_dataset *train,
		     const lupi_dataset *valid, lupi_progress_fn progress,
		     void *user)
{
	int hard;
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(train);
	LUPI__TRY(resolve_loss(student, teacher, &loss, &hard));
	/* refused before anything changes */
	if (hard)
		LUPI__TRY(lupi__model_check_dataset(student, train, 1));
	else {
		int need = need_targets_cols(student, teacher, loss, train);
		if (need < 0)
			return need;
		LUPI__TRY(lupi__model_check_dataset(student, train, need));
	}
	fit_ctx c = {.teacher = teacher, .loss = hard ? NULL : loss};
	int rc = LUPI_OK;
	if (!hard)
		rc = fit_outputs(student, train, &c);
	if (rc == LUPI_OK)
		rc = lupi__fit(student, train, valid, fit_step, &c, progress,
			       user);
	lupi__free(c.own_t);
	lupi__free(c.own_has);
	return rc;
}
