/* Random network distillation (Burda, Edwards, Storkey & Klimov 2019): a
 * fixed, randomly initialised teacher; a regression student trained to
 * predict it; the student's error as the novelty of a state, and the
 * running normalisation the paper uses for observations and rewards. */
#include <math.h>
#include <string.h>

#include "control_internal.h"

/* Observations are clipped to this many standard deviations (the paper's
 * Atari code: ((x - mean) / std).clip(-5, 5)). */
#define OBS_CLIP 5.0
/* Floor of a standard deviation, so that a constant feature divides by a
 * finite number. */
#define STD_FLOOR 1e-8

/* ---- running statistics -------------------------------------------------- */

void lupi__rms_merge(lupi__rms *s, const double *bm, const double *bv,
		     double bc)
{
	double tot = s->count + bc;
	for (size_t j = 0; j < s->dim; j++) {
		double delta = bm[j] - s->mean[j];
		double m2 = s->var[j] * s->count + bv[j] * bc +
			    delta * delta * s->count * bc / tot;
		s->mean[j] += delta * bc / tot;
		s->var[j] = m2 / tot;
	}
	s->count = tot;
}

static void rms_start(lupi__rms *s)
{
	s->count = LUPI__RMS_PRIOR_COUNT;
	for (size_t j = 0; j < s->dim; j++) {
		s->mean[j] = 0.0;
		s->var[j] = 1.0;
	}
}

static double std_of(double var)
{
	double sd = sqrt(var);
	return sd > STD_FLOOR ? sd : STD_FLOOR;
}

/* ---- the normaliser ----------------------------------------------------- */

int lupi_rnd_create(size_t d, double gamma, lupi_rnd **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	if (d == 0 || d > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_ERANGE, "rnd: %zu observation features: "
				 "must be in [1, %u]", d, LUPI__MAX_WIDTH);
	if (!(gamma >= 0.0 && gamma < 1.0))
		return lupi__err(LUPI_ERANGE, "rnd: gamma %g is not in [0, 1)",
				 gamma);
	lupi_rnd *r = lupi__calloc(1, sizeof *r);
	double *buf = r != NULL ? lupi__malloc_array(d, 2 * sizeof *buf)
				: NULL;
	if (buf == NULL) {
		lupi__free(r);
		return lupi__err(LUPI_ENOMEM, "rnd: out of memory");
	}
	r->d = d;
	r->gamma = gamma;
	r->obs = (lupi__rms){.mean = buf, .var = buf + d, .dim = d};
	r->ret = (lupi__rms){.mean = &r->ret_mean, .var = &r->ret_var,
			     .dim = 1};
	rms_start(&r->obs);
	rms_start(&r->ret);
	*out = r;
	return LUPI_OK;
}

void lupi_rnd_free(lupi_rnd *r)
{
	if (r == NULL)
		return;
	lupi__free(r->obs.mean);
	lupi__free(r);
}

static int check_rows(const lupi_rnd *r, const float *x, size_t n, size_t d)
{
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "rnd: n is 0");
	if (d != r->d)
		return lupi__err(LUPI_ESHAPE, "rnd: rows of %zu features, the "
				 "normaliser has %zu", d, r->d);
	size_t where, count, bytes;
	if (lupi__mul_overflow(n, d, &count) ||
	    lupi__mul_overflow(count, sizeof *x, &bytes))
		return lupi__err(LUPI_ERANGE, "rnd: n = %zu rows of %zu floats "
				 "overflow the address space", n, d);
	if (!lupi__all_finite(x, count, &where))
		return lupi__err(LUPI_ENONFINITE, "rnd: row %zu, feature %zu "
				 "is not finite", where / d, where % d);
	return LUPI_OK;
}

int lupi_rnd_observe(lupi_rnd *r, const float *x, size_t n, size_t d)
{
	LUPI__CHECK_NULL(r);
	LUPI__CHECK_NULL(x);
	LUPI__TRY(check_rows(r, x, n, d));
	double *bm = lupi__calloc(d, 2 * sizeof *bm);
	if (bm == NULL)
		return lupi__err(LUPI_ENOMEM, "rnd: out of memory");
	double *bv = bm + d;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			bm[j] += x[i * d + j];
	for (size_t j = 0; j < d; j++)
		bm[j] /= (double)n;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++) {
			double e = x[i * d + j] - bm[j];
			bv[j] += e * e;
		}
	for (size_t j = 0; j < d; j++)
		bv[j] /= (double)n;
	lupi__rms_merge(&r->obs, bm, bv, (double)n);
	lupi__free(bm);
	return LUPI_OK;
}

int lupi_rnd_normalize(const lupi_rnd *r, const float *x, size_t n, size_t d,
		       float *out)
{
	LUPI__CHECK_NULL(r);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(out);
	LUPI__TRY(check_rows(r, x, n, d));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++) {
			double v = (x[i * d + j] - r->obs.mean[j]) /
				   std_of(r->obs.var[j]);
			v = v < -OBS_CLIP ? -OBS_CLIP
					  : v > OBS_CLIP ? OBS_CLIP : v;
			out[i * d + j] = (float)v;
		}
	return LUPI_OK;
}

/* The paper's reward normalisation (its ppo_agent.py): the scores of one
 * rollout pass through the discounted-return filter ret = gamma ret + r,
 * the running variance is updated with that rollout's returns, and every
 * score of the rollout is divided by the updated running std. */
int lupi_rnd_rewards(lupi_rnd *r, const float *scores, size_t n, float *out)
{
	LUPI__CHECK_NULL(r);
	LUPI__CHECK_NULL(scores);
	LUPI__CHECK_NULL(out);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "rnd: n is 0");
	size_t where;
	LUPI__TRY(lupi__check_host_array(n, 1, sizeof *scores, "rnd: scores"));
	if (!lupi__all_finite(scores, n, &where))
		return lupi__err(LUPI_ENONFINITE, "rnd: score %zu is not "
				 "finite", where);
	double acc = r->ret_acc, sum = 0.0, sq = 0.0;
	int started = r->ret_started;
	/* Two passes over the returns in double: mean, then variance. */
	for (size_t i = 0; i < n; i++) {
		acc = started ? acc * r->gamma + scores[i] : scores[i];
		started = 1;
		sum += acc;
	}
	double bm = sum / (double)n;
	acc = r->ret_acc;
	started = r->ret_started;
	for (size_t i = 0; i < n; i++) {
		acc = started ? acc * r->gamma + scores[i] : scores[i];
		started = 1;
		sq += (acc - bm) * (acc - bm);
	}
	double bv = sq / (double)n;
	lupi__rms_merge(&r->ret, &bm, &bv, (double)n);
	r->ret_acc = acc;
	r->ret_started = 1;
	double sd = std_of(r->ret_var);
	for (size_t i = 0; i < n; i++)
		out[i] = (float)(scores[i] / sd);
	return LUPI_OK;
}

int lupi_rnd_stats(const lupi_rnd *r, double *obs_mean, double *obs_std,
		   double *reward_std)
{
	LUPI__CHECK_NULL(r);
	for (size_t j = 0; j < r->d; j++) {
		if (obs_mean != NULL)
			obs_mean[j] = r->obs.mean[j];
		if (obs_std != NULL)
			obs_std[j] = sqrt(r->obs.var[j]);
	}
	if (reward_std != NULL)
		*reward_std = sqrt(r->ret_var);
	return LUPI_OK;
}

/* ---- the novelty score -------------------------------------------------- */

static int novelty_check(const lupi_model *student, const lupi_teacher *teacher,
			 size_t d)
{
	if (student->task != LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "novelty: the student must be "
				 "a regression model");
	if (!student->initialized)
		return lupi__err(LUPI_ESTATE, "novelty: the student is not "
				 "initialised");
	if (d != student->n_in)
		return lupi__err(LUPI_ESHAPE, "novelty: rows of %zu features, "
				 "the student has %zu inputs", d,
				 student->n_in);
	if (teacher->n_members == 0)
		return lupi__err(LUPI_ESTATE, "novelty: the teacher has no "
				 "members");
	if (teacher->task != LUPI_TASK_REGRESSION ||
	    teacher->k != student->n_out)
		return lupi__err(LUPI_ESHAPE, "novelty: the teacher has %zu "
				 "regression outputs, the student %zu",
				 teacher->task == LUPI_TASK_REGRESSION
					 ? teacher->k : 0,
				 student->n_out);
	return LUPI_OK;
}

/* The rows become a temporary dataset so that the teacher's own combining
 * (several members, weights) applies unchanged. */
int lupi_student_novelty(const lupi_model *student,
			 const lupi_teacher *teacher, const float *x,
			 size_t n, size_t d, float *scores)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(teacher);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(scores);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "novelty: n is 0");
	LUPI__TRY(novelty_check(student, teacher, d));
	size_t k = student->n_out;
	lupi_dataset *ds = NULL;
	LUPI__TRY(lupi_dataset_create(n, d, x, &ds));
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	float *t = lupi__malloc_array(n, 2 * k * sizeof *t);
	uint8_t *has = lupi__malloc(n);
	int rc = LUPI_OK;
	if (idx == NULL || t == NULL || has == NULL)
		rc = lupi__err(LUPI_ENOMEM, "novelty: out of memory");
	for (size_t i = 0; rc == LUPI_OK && i < n; i++)
		idx[i] = i;
	if (rc == LUPI_OK)
		rc = lupi_teacher_outputs(teacher, ds, idx, n, t, has);
	if (rc == LUPI_OK)
		rc = lupi_model_predict(student, x, n, d, LUPI_PREDICT_OUTPUT,
					t + n * k);
	for (size_t i = 0; rc == LUPI_OK && i < n; i++) {
		if (!has[i]) {
			rc = lupi__err(LUPI_ENOTSUP, "novelty: no teacher "
				       "member sees row %zu (members must "
				       "use LUPI_VIEW_REGULAR)", i);
			break;
		}
		double e = 0.0;
		for (size_t c = 0; c < k; c++) {
			double diff = (double)t[n * k + i * k + c] -
				      t[i * k + c];
			e += diff * diff;
		}
		scores[i] = (float)(e / (double)k);
	}
	lupi__free(idx);
	lupi__free(t);
	lupi__free(has);
	lupi_dataset_free(ds);
	return rc;
}
