/* Students: one distillation step (generalized distillation, Lopez-Paz,
 * Bottou, Schoelkopf & Vapnik 2016) and the fit loop around it. */
#include <string.h>

#include "train_internal.h"

/* Feature-loss layers of one step: widths and indices (valid when on). */
typedef struct feature_plan {
	int on;
	size_t s_layer, t_layer; /* hidden layer indices */
	size_t s_width, t_width;
} feature_plan;

/* The loss of a step given loss NULL and a teacher: KD with its defaults,
 * or regression distillation for a regression teacher. Kept in the
 * teacher handle, so it is created once. */
static int default_loss(lupi_teacher *t, lupi_loss **loss)
{
	if (t->default_kd == NULL) {
		int kind = t->task == LUPI_TASK_REGRESSION
				   ? LUPI_LOSS_REGRESSION
				   : LUPI_LOSS_KD;
		LUPI__TRY(lupi_loss_create(kind, &t->default_kd));
	}
	*loss = t->default_kd;
	return LUPI_OK;
}

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

/* Adds the feature loss of the batch; its gradient lands in sc->fgrad. */
static int feature_term(lupi_model *s, lupi_teacher *t, lupi_loss *loss,
			const lupi_dataset *ds, const size_t *idx, size_t n,
			const feature_plan *fp, lupi__step_scratch *sc,
			double *value)
{
	/* The one model a feature loss needs has an output exactly for the
	 * samples it sees, so sc->has is rewritten with the same mask. The
	 * teacher's forward is not cached: its hidden layer is needed. */
	LUPI__TRY(lupi__teacher_features(t, ds, idx, n, fp->t_layer, sc->ft,
					 sc->has, sc->sub));
	const float *fs = lupi__model_hidden(s, fp->s_layer);
	double fv = 0.0;
	LUPI__TRY(lupi_loss_eval_features(loss, n, fp->s_width, fs,
					  fp->t_width, sc->ft, sc->has, 1, &fv,
					  sc->fgrad));
	*value += fv;
	return LUPI_OK;
}

/* The forward pass gathered the batch's labels or targets and weights into
 * the student's arena (y_labels, y_targets, y_weights) and left room for the
 * gradient (dlogits); the teacher's share of the step lives in sc. */
static int step_core(lupi_model *s, lupi_teacher *t, lupi_loss *loss,
		     const lupi_dataset *ds, const size_t *idx, size_t n,
		     lupi__step_scratch *sc, double *value)
{
	feature_plan fp;
	LUPI__TRY(lupi__model_prepare(s, ds));
	LUPI__TRY(check_teacher(s, t));
	LUPI__TRY(plan_features(s, t, loss, &fp));
	/* A HARD loss reads no teacher outputs: they are not computed. */
	int use_t = t != NULL && lupi__loss_needs_teacher_outputs(loss);
	if (use_t || fp.on)
		LUPI__TRY(lupi__step_scratch_reserve(sc, n, s->n_out,
						     fp.t_width, fp.s_width));
	const float *logits;
	LUPI__TRY(lupi__model_forward(s, ds, idx, n, 1, &logits));
	if (use_t)
		LUPI__TRY(lupi_teacher_outputs(t, ds, idx, n, sc->t, sc->has));
	double v = 0.0;
	LUPI__TRY(lupi__loss_eval_output(loss, n, s->n_out, logits,
					 use_t ? sc->t : NULL, s->y_labels,
					 s->y_targets, s->y_weights,
					 use_t ? sc->has : NULL, &v,
					 s->dlogits));
	if (fp.on)
		LUPI__TRY(feature_term(s, t, loss, ds, idx, n, &fp, sc, &v));
	LUPI__TRY(lupi__model_backward(s, s->dlogits,
				       fp.on ? sc->fgrad : NULL, fp.s_layer));
	LUPI__TRY(lupi__model_update(s));
	if (value)
		*value = v;
	return LUPI_OK;
}

/* Resolves the loss; *hard is set when the step is a plain label step. */
static int resolve_loss(lupi_teacher *t, lupi_loss **loss, int *hard)
{
	*hard = 0;
	if (*loss != NULL)
		return LUPI_OK;
	if (t == NULL) {
		*hard = 1;
		return LUPI_OK;
	}
	return default_loss(t, loss);
}

static int step_args(const lupi_model *student, const lupi_dataset *ds,
		     const size_t *idx, size_t n)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "n is 0");
	return LUPI_OK;
}

/* The teacher's scratch lives in the teacher handle (lupi_student_fit keeps
 * its own for all its steps); without a teacher a step needs none. */
int lupi_student_step(lupi_model *student, lupi_teacher *teacher,
		      lupi_loss *loss, const lupi_dataset *ds,
		      const size_t *idx, size_t n, double *value)
{
	int hard;
	LUPI__TRY(step_args(student, ds, idx, n));
	LUPI__TRY(resolve_loss(teacher, &loss, &hard));
	if (hard)
		return lupi_model_step(student, ds, idx, n, value);
	lupi__step_scratch none = {0};
	return step_core(student, teacher, loss, ds, idx, n,
			 teacher ? &teacher->step : &none, value);
}

typedef struct fit_ctx {
	lupi_teacher *teacher;
	lupi_loss *loss;
	lupi__step_scratch sc;
} fit_ctx;

static int fit_step(void *ctx, lupi_model *m, const lupi_dataset *ds,
		    const size_t *idx, size_t n, double *loss)
{
	fit_ctx *c = ctx;
	if (c->loss == NULL)
		return lupi_model_step(m, ds, idx, n, loss);
	return step_core(m, c->teacher, c->loss, ds, idx, n, &c->sc, loss);
}

int lupi_student_fit(lupi_model *student, lupi_teacher *teacher,
		     lupi_loss *loss, const lupi_dataset *train,
		     const lupi_dataset *valid, lupi_progress_fn progress,
		     void *user)
{
	int hard;
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(train);
	LUPI__TRY(resolve_loss(teacher, &loss, &hard));
	/* Every epoch then reads the teacher's outputs from its cache. */
	if (teacher != NULL && !hard &&
	    lupi__loss_needs_teacher_outputs(loss))
		LUPI__TRY(lupi_teacher_prepare(teacher, train));
	fit_ctx c = {.teacher = teacher, .loss = hard ? NULL : loss};
	int rc = lupi__fit(student, train, valid, fit_step, &c, progress,
			   user);
	lupi__step_scratch_free(&c.sc);
	return rc;
}
