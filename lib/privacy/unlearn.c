/* Machine unlearning: removing a forget set from a trained model.
 *
 * RETRAIN is the reference (a fresh model on the retain set: exact, and as
 * costly as the first training). The distillation methods start from the
 * model and move it towards a teacher that knows nothing of the forget
 * set where it matters: a randomly initialised copy (Zhang et al. 2023, a
 * stochastic teacher; Chundawat et al. 2023, "Can Bad Teaching Induce
 * Forgetting?") or, in SCRUB (Kurmanji et al. 2023, "Towards Unbounded
 * Machine Unlearning"), away from the model itself on the forget set.
 * They are approximate: doc/privacy.md shows what an attack still sees.
 * SISA (Bourtoule et al. 2021) is exact at the cost of an ensemble: only
 * the shards that held a deleted sample are retrained, each from the
 * checkpoint before the slice that held it. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "privacy_internal.h"

double lupi__privacy_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- helpers ------------------------------------------------------------ */

/* Fits m (options as they are) on samples idx[0..n) of ds, with a teacher
 * and loss when teacher is not NULL, reporting to run (and adding m's
 * EPOCHS to run->done). */
static int fit_on(lupi_model *m, const lupi_teacher *teacher, lupi_loss *loss,
		  const lupi_dataset *ds, const size_t *idx, size_t n,
		  lupi__run *run)
{
	lupi_dataset *sub = NULL;
	LUPI__TRY(lupi_dataset_subset(ds, idx, n, &sub));
	int rc = teacher ? lupi_student_fit(m, teacher, loss, sub, NULL,
					    lupi__run_progress, run) :
			   lupi_model_fit(m, sub, NULL, lupi__run_progress,
					  run);
	lupi__run_next(run, m->opt.epochs);
	lupi_dataset_free(sub);
	return rc;
}

/* A randomly initialised copy of m's architecture (seed differs from m's). */
static int random_copy(const lupi_model *m, lupi_model **out)
{
	*out = NULL;
	lupi_model *r = NULL;
	int rc = lupi_model_clone(m, &r);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(r, LUPI_MODEL_OPT_SEED,
					(int64_t)(m->opt.seed ^
						  0x9e3779b97f4a7c15ull));
	if (rc == LUPI_OK)
		rc = lupi_model_init(r);
	/* init clears the standardisation: keep m's, so that the random
	 * teacher reads the inputs as m does */
	if (rc == LUPI_OK && m->has_std) {
		float *mean = lupi__malloc_array(m->n_in, 2 * sizeof *mean);
		rc = mean ? lupi_model_get_standardizer(m, mean,
							mean + m->n_in) :
			    lupi__err(LUPI_ENOMEM, "cannot allocate %zu "
				      "statistics", m->n_in);
		if (rc == LUPI_OK)
			rc = lupi_model_set_standardizer(r, mean,
							 mean + m->n_in);
		lupi__free(mean);
	}
	if (rc < 0) {
		lupi_model_free(r);
		return rc;
	}
	*out = r;
	return LUPI_OK;
}

static int kd_loss(double lambda, lupi_loss **out)
{
	LUPI__TRY(lupi_loss_create(LUPI_LOSS_KD, out));
	int rc = lupi_loss_set_double(*out, LUPI_LOSS_OPT_LAMBDA, lambda);
	if (rc == LUPI_OK)
		rc = lupi_loss_set_double(*out, LUPI_LOSS_OPT_TEMPERATURE, 1.0);
	if (rc < 0) {
		lupi_loss_free(*out);
		*out = NULL;
	}
	return rc;
}

static int teacher_of(const lupi_model *m, lupi_teacher **out)
{
	LUPI__TRY(lupi_teacher_create(out));
	int rc = lupi_teacher_add_model(*out, m, 1.0);
	if (rc < 0) {
		lupi_teacher_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- the methods -------------------------------------------------------- */

typedef struct unlearn_job {
	const lupi_model *m;
	const lupi_dataset *train;
	const size_t *forget, *retain;
	size_t n_forget, n_retain;
	const uint8_t *is_forget; /* rows */
	unsigned epochs;
	uint64_t steps;
	lupi__run run; /* its steps: &steps */
} unlearn_job;

static int retrain(unlearn_job *j, lupi_model *s)
{
	LUPI__TRY(lupi_model_init(s));
	return fit_on(s, NULL, NULL, j->train, j->retain, j->n_retain,
		      &j->run);
}

static int random_teacher(unlearn_job *j, lupi_model *s)
{
	lupi_model *r = NULL;
	lupi_teacher *tr = NULL, *tm = NULL;
	lupi_loss *kd = NULL;
	int rc = random_copy(j->m, &r);
	if (rc == LUPI_OK)
		rc = teacher_of(r, &tr);
	if (rc == LUPI_OK)
		rc = teacher_of(j->m, &tm);
	if (rc == LUPI_OK)
		rc = kd_loss(1.0, &kd);
	/* erase: imitate the random teacher on the forget set; repair:
	 * imitate the model on the retain set */
	if (rc == LUPI_OK)
		rc = fit_on(s, tr, kd, j->train, j->forget, j->n_forget,
			    &j->run);
	if (rc == LUPI_OK)
		rc = fit_on(s, tm, kd, j->train, j->retain, j->n_retain,
			    &j->run);
	lupi_loss_free(kd);
	lupi_teacher_free(tm);
	lupi_teacher_free(tr);
	lupi_model_free(r);
	return rc;
}

static int bad_teacher(unlearn_job *j, lupi_model *s)
{
	size_t n = lupi_dataset_rows(j->train), k = j->m->n_out;
	lupi_model *r = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *kd = NULL;
	float *tm = lupi__malloc_array(n, k * sizeof *tm);
	float *trnd = lupi__malloc_array(n, k * sizeof *trnd);
	int rc = tm && trnd ? LUPI_OK :
			      lupi__err(LUPI_ENOMEM, "cannot allocate %zu x "
					"%zu teacher outputs", n, k);
	if (rc == LUPI_OK)
		rc = random_copy(j->m, &r);
	if (rc == LUPI_OK)
		rc = lupi__privacy_logits(j->m, j->train, tm);
	if (rc == LUPI_OK)
		rc = lupi__privacy_logits(r, j->train, trnd);
	/* the competent teacher on retain rows, the incompetent one on
	 * forget rows, mixed in the same batches */
	for (size_t i = 0; rc == LUPI_OK && i < n; i++)
		if (j->is_forget[i])
			memcpy(tm + i * k, trnd + i * k, k * sizeof *tm);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	if (rc == LUPI_OK)
		rc = lupi_teacher_add_outputs(t, j->train, tm, k,
					      LUPI_OUTPUTS_LOGITS, 1.0);
	if (rc == LUPI_OK)
		rc = kd_loss(1.0, &kd);
	if (rc == LUPI_OK)
		rc = lupi_student_fit(s, t, kd, j->train, NULL,
				      lupi__run_progress, &j->run);
	lupi_loss_free(kd);
	lupi_teacher_free(t);
	lupi_model_free(r);
	lupi__free(tm);
	lupi__free(trnd);
	return rc;
}

/* SCRUB: per epoch, a pass of gradient ascent on the distillation loss
 * towards the original model over the forget set (max-steps), then a pass
 * of descent on distillation + cross-entropy over the retain set. */
static int scrub(unlearn_job *j, lupi_model *s)
{
	size_t np = s->n_params, b = (size_t)s->opt.batch;
	lupi_teacher *tm = NULL;
	lupi_loss *kd = NULL, *kdce = NULL;
	float *g = lupi__malloc_array(np, sizeof *g);
	int rc = g ? LUPI_OK :
		     lupi__err(LUPI_ENOMEM, "cannot allocate %zu gradients",
			       np);
	if (rc == LUPI_OK)
		rc = teacher_of(j->m, &tm);
	if (rc == LUPI_OK)
		rc = kd_loss(1.0, &kd);
	if (rc == LUPI_OK)
		rc = kd_loss(0.5, &kdce);
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, 1);
	for (unsigned e = 0; rc == LUPI_OK && e < j->epochs; e++) {
		for (size_t a = 0; rc == LUPI_OK && a < j->n_forget; a += b) {
			size_t nb = j->n_forget - a < b ? j->n_forget - a : b;
			double v;
			rc = lupi_student_gradient(s, tm, kd, j->train,
						   j->forget + a, nb, &v, g,
						   np);
			for (size_t i = 0; rc == LUPI_OK && i < np; i++)
				g[i] = -g[i];
			if (rc == LUPI_OK)
				rc = lupi_model_apply_gradient(s, g, np);
			j->steps += rc == LUPI_OK;
			if (rc == LUPI_OK)
				rc = lupi__run_step(&j->run, a / b + 1,
						    (j->n_forget + b - 1) / b,
						    v);
		}
		lupi__run_next(&j->run, 1);
		if (rc == LUPI_OK)
			rc = fit_on(s, tm, kdce, j->train, j->retain,
				    j->n_retain, &j->run);
	}
	lupi_loss_free(kd);
	lupi_loss_free(kdce);
	lupi_teacher_free(tm);
	lupi__free(g);
	return rc;
}

/* ---- lupi_unlearn ------------------------------------------------------- */

static int split_forget(unlearn_job *j, size_t n, uint8_t **is_forget,
			size_t **retain)
{
	*is_forget = lupi__calloc(n, 1);
	*retain = lupi__malloc_array(n, sizeof **retain);
	if (*is_forget == NULL || *retain == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu flags", n);
	for (size_t i = 0; i < j->n_forget; i++) {
		if (j->forget[i] >= n)
			return lupi__err(LUPI_ERANGE, "forget[%zu] = %zu, the "
					 "training set has %zu samples", i,
					 j->forget[i], n);
		(*is_forget)[j->forget[i]] = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!(*is_forget)[i])
			(*retain)[j->n_retain++] = i;
	if (j->n_retain == 0)
		return lupi__err(LUPI_ERANGE, "the forget set holds every "
				 "training sample");
	j->is_forget = *is_forget;
	j->retain = *retain;
	return LUPI_OK;
}

int lupi_unlearn(const lupi_model *m, const lupi_dataset *train,
		 const size_t *forget, size_t n_forget, int method,
		 unsigned epochs, lupi_model **out, uint64_t *steps,
		 double *seconds, lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(train);
	LUPI__CHECK_NULL(forget);
	if (n_forget == 0)
		return lupi__err(LUPI_EINVAL, "the forget set is empty");
	LUPI__TRY(lupi__check_host_array(n_forget, 1, sizeof *forget,
					 "forget"));
	if (method < LUPI_UNLEARN_RETRAIN || method > LUPI_UNLEARN_SCRUB)
		return lupi__err(LUPI_EINVAL, "unknown unlearning method %d",
				 method);
	/* a loaded model has weights but no step count: weights are what
	 * the methods need */
	if (!m->initialized)
		return lupi__err(LUPI_ESTATE, "the model has no weights (never "
				 "trained, initialised or loaded)");
	if (method != LUPI_UNLEARN_RETRAIN && m->task == LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_ENOTSUP, "distillation unlearning of a "
				 "regression model is not supported");
	double t0 = lupi__privacy_seconds();
	unlearn_job j = {.m = m, .train = train, .forget = forget,
			 .n_forget = n_forget, .epochs = epochs ? epochs : 1};
	j.run = (lupi__run){.fn = progress, .user = user, .steps = &j.steps};
	/* the planned epochs: a pass over the forget set and one over the
	 * retain set per epoch for RANDOM_TEACHER and SCRUB */
	j.run.total = method == LUPI_UNLEARN_RETRAIN ? (unsigned)m->opt.epochs :
		      method == LUPI_UNLEARN_BAD_TEACHER ? j.epochs :
							   2 * j.epochs;
	uint8_t *is_forget = NULL;
	size_t *retain = NULL;
	lupi_model *s = NULL;
	int rc = split_forget(&j, lupi_dataset_rows(train), &is_forget,
			      &retain);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(m, &s);
	if (rc == LUPI_OK && method != LUPI_UNLEARN_RETRAIN &&
	    method != LUPI_UNLEARN_SCRUB)
		rc = lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS, j.epochs);
	if (rc == LUPI_OK) {
		switch (method) {
		case LUPI_UNLEARN_RETRAIN: rc = retrain(&j, s); break;
		case LUPI_UNLEARN_RANDOM_TEACHER:
			rc = random_teacher(&j, s);
			break;
		case LUPI_UNLEARN_BAD_TEACHER: rc = bad_teacher(&j, s); break;
		default: rc = scrub(&j, s); break;
		}
	}
	/* the unlearned model trains like the original */
	if (rc == LUPI_OK)
		rc = lupi_model_set_int(s, LUPI_MODEL_OPT_EPOCHS,
					m->opt.epochs);
	lupi__free(is_forget);
	lupi__free(retain);
	if (rc < 0) {
		lupi_model_free(s);
		return rc;
	}
	*out = s;
	if (steps)
		*steps = j.steps;
	if (seconds)
		*seconds = lupi__privacy_seconds() - t0;
	return LUPI_OK;
}

int lupi_unlearn_class_indices(const lupi_dataset *ds, int32_t cls,
			       size_t *idx, size_t *n)
{
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(idx);
	LUPI__CHECK_NULL(n);
	*n = 0;
	const int32_t *y = lupi_dataset_labels(ds);
	int task = lupi_dataset_task(ds);
	if (y == NULL ||
	    (task != LUPI_TASK_CLASSIFICATION && task != LUPI_TASK_BINARY))
		return lupi__err(LUPI_ESTATE, "the dataset has no class labels");
	size_t rows = lupi_dataset_rows(ds);
	for (size_t i = 0; i < rows; i++)
		if (y[i] == cls)
			idx[(*n)++] = i;
	return LUPI_OK;
}

/* ---- SISA --------------------------------------------------------------- */

/* Each shard is cut into R slices (its samples in increasing index order,
 * sample j of m in slice floor(j R / m)) and trained in R stages: stage r
 * continues the model of stage r - 1 on slices 0..r for stage_epochs
 * epochs. ckpt[shard * R + r] is the model before stage r (r = 0: freshly
 * initialised), kept so that deleting a sample of slice r resumes there:
 * the stages before r never saw it. */
struct lupi_sisa {
	lupi_model *proto;   /* untrained clone */
	lupi_dataset *train; /* copy */
	size_t n;
	unsigned k, r;       /* shards, slices */
	uint64_t seed;
	int64_t epochs;       /* proto's EPOCHS, set on the shard models */
	int64_t stage_epochs; /* ceil(2 EPOCHS / (R + 1)) */
	size_t *shard_of;    /* n: the shard that holds or held sample i */
	unsigned *slice_of;  /* n: its slice in that shard */
	uint8_t *deleted;    /* n */
	lupi_model **models; /* k, NULL for an empty shard */
	lupi_model **ckpt;   /* k x R */
	uint64_t *stage_steps; /* k x R: the steps each stage took */
	uint64_t last_steps, last_scratch;
};

void lupi_sisa_free(lupi_sisa *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; s->models && i < s->k; i++)
		lupi_model_free(s->models[i]);
	for (size_t i = 0; s->ckpt && i < (size_t)s->k * s->r; i++)
		lupi_model_free(s->ckpt[i]);
	lupi__free(s->models);
	lupi__free(s->ckpt);
	lupi__free(s->stage_steps);
	lupi__free(s->shard_of);
	lupi__free(s->slice_of);
	lupi__free(s->deleted);
	lupi_dataset_free(s->train);
	lupi_model_free(s->proto);
	lupi__free(s);
}

/* One stage: trains m on the live samples of shard i in slices 0..r
 * (increasing index order) for stage_epochs epochs; *steps gets its steps
 * (0 when no sample is left: m is unchanged). idx: room for n. */
static int sisa_stage(const lupi_sisa *s, unsigned i, unsigned r,
		      lupi_model *m, size_t *idx, uint64_t *steps,
		      lupi__run *run)
{
	*steps = 0;
	size_t cnt = 0;
	for (size_t j = 0; j < s->n; j++)
		if (!s->deleted[j] && s->shard_of[j] == i &&
		    s->slice_of[j] <= r)
			idx[cnt++] = j;
	lupi_dataset *sub = NULL;
	int rc = cnt == 0 ? LUPI_OK :
			    lupi_dataset_subset(s->train, idx, cnt, &sub);
	if (rc == LUPI_OK && cnt > 0)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS,
					s->stage_epochs);
	run->steps = steps;
	if (rc == LUPI_OK && cnt > 0)
		rc = lupi_model_fit(m, sub, NULL, lupi__run_progress, run);
	run->steps = NULL;
	lupi__run_next(run, s->stage_epochs);
	lupi_dataset_free(sub);
	return rc;
}

/* Runs the stages r0..R-1 of shard i from ck[r0] (kept): ck[r] for r > r0
 * get new checkpoints, ss[r] the stages' steps, *out the final model (NULL
 * when the shard has no live sample). On failure the new checkpoints are
 * freed and ck[r > r0] are NULL. */
static int sisa_run(const lupi_sisa *s, unsigned i, unsigned r0,
		    lupi_model **ck, uint64_t *ss, lupi_model **out,
		    lupi__run *run)
{
	*out = NULL;
	for (unsigned r = r0 + 1; r < s->r; r++)
		ck[r] = NULL;
	size_t *idx = lupi__malloc_array(s->n, sizeof *idx);
	lupi_model *m = NULL;
	int rc = idx ? lupi_model_clone(ck[r0], &m) :
		       lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices",
				 s->n);
	for (unsigned r = r0; rc == LUPI_OK && r < s->r; r++) {
		if (r > r0)
			rc = lupi_model_clone(m, &ck[r]);
		if (rc == LUPI_OK)
			rc = sisa_stage(s, i, r, m, idx, &ss[r], run);
	}
	size_t left = 0;
	for (size_t j = 0; j < s->n; j++)
		left += !s->deleted[j] && s->shard_of[j] == i;
	/* the shard model trains like the prototype */
	if (rc == LUPI_OK && left > 0)
		rc = lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, s->epochs);
	lupi__free(idx);
	if (rc < 0 || left == 0) {
		lupi_model_free(m);
		for (unsigned r = r0 + 1; rc < 0 && r < s->r; r++) {
			lupi_model_free(ck[r]);
			ck[r] = NULL;
		}
		return rc;
	}
	*out = m;
	return LUPI_OK;
}

/* Deals the slices of every shard (sizes checked by the caller). */
static int sisa_slices(lupi_sisa *s)
{
	size_t *size = lupi__calloc(s->k, sizeof *size);
	size_t *pos = lupi__calloc(s->k, sizeof *pos);
	int rc = size && pos ? LUPI_OK :
			       lupi__err(LUPI_ENOMEM, "cannot allocate %u "
					 "shard sizes", s->k);
	for (size_t j = 0; rc == LUPI_OK && j < s->n; j++)
		size[s->shard_of[j]]++;
	for (unsigned i = 0; rc == LUPI_OK && i < s->k; i++)
		if (size[i] < s->r)
			rc = lupi__err(LUPI_ERANGE, "shard %u holds %zu "
				       "samples, fewer than %u slices", i,
				       size[i], s->r);
	for (size_t j = 0; rc == LUPI_OK && j < s->n; j++) {
		size_t i = s->shard_of[j];
		s->slice_of[j] = (unsigned)(pos[i]++ * s->r / size[i]);
	}
	lupi__free(size);
	lupi__free(pos);
	return rc;
}

int lupi_sisa_create_sliced(const lupi_model *proto, const lupi_dataset *train,
			    unsigned shards, unsigned slices, uint64_t seed,
			    lupi_sisa **out, lupi_progress_fn progress,
			    void *user)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(proto);
	LUPI__CHECK_NULL(train);
	size_t n = lupi_dataset_rows(train);
	if (shards < 1 || shards > n)
		return lupi__err(LUPI_ERANGE, "%u shards for %zu samples: it "
				 "must be in [1, %zu]", shards, n, n);
	if (slices < 1 || slices > n / shards)
		return lupi__err(LUPI_ERANGE, "%u slices of shards of at least "
				 "%zu samples: it must be in [1, %zu]", slices,
				 n / shards, n / shards);
	LUPI__TRY(lupi__privacy_check_proto(proto, train));
	lupi_sisa *s = lupi__calloc(1, sizeof *s);
	if (s == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate a SISA ensemble");
	s->n = n;
	s->k = shards;
	s->r = slices;
	s->seed = seed;
	s->epochs = proto->opt.epochs;
	s->stage_epochs = (2 * s->epochs + slices) / (slices + 1);
	s->shard_of = lupi__malloc_array(n, sizeof *s->shard_of);
	s->slice_of = lupi__malloc_array(n, sizeof *s->slice_of);
	s->deleted = lupi__calloc(n, 1);
	s->models = lupi__calloc(shards, sizeof *s->models);
	s->ckpt = lupi__calloc((size_t)shards * slices, sizeof *s->ckpt);
	s->stage_steps = lupi__calloc((size_t)shards * slices,
				      sizeof *s->stage_steps);
	int rc = s->shard_of && s->slice_of && s->deleted && s->models &&
				 s->ckpt && s->stage_steps ?
			 LUPI_OK :
			 lupi__err(LUPI_ENOMEM, "cannot allocate %u shards of "
				   "%u slices", shards, slices);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(proto, &s->proto);
	if (rc == LUPI_OK) {
		size_t *all = lupi__malloc_array(n, sizeof *all);
		rc = all ? LUPI_OK :
			   lupi__err(LUPI_ENOMEM, "cannot allocate indices");
		for (size_t i = 0; rc == LUPI_OK && i < n; i++)
			all[i] = i;
		if (rc == LUPI_OK)
			rc = lupi_dataset_subset(train, all, n, &s->train);
		lupi__free(all);
	}
	if (rc == LUPI_OK)
		rc = lupi__crossfit_folds(train, LUPI_VIEW_REGULAR, shards,
					  seed, s->shard_of);
	if (rc == LUPI_OK)
		rc = sisa_slices(s);
	lupi__run run = {.fn = progress, .user = user,
			 .total = shards * slices * (unsigned)s->stage_epochs};
	for (unsigned i = 0; rc == LUPI_OK && i < shards; i++) {
		lupi_model **ck = s->ckpt + (size_t)i * slices;
		rc = lupi_model_clone(s->proto, &ck[0]);
		if (rc == LUPI_OK)
			rc = lupi_model_set_int(ck[0], LUPI_MODEL_OPT_SEED,
						(int64_t)(seed + i));
		if (rc == LUPI_OK)
			rc = lupi_model_init(ck[0]);
		if (rc == LUPI_OK)
			rc = sisa_run(s, i, 0, ck,
				      s->stage_steps + (size_t)i * slices,
				      &s->models[i], &run);
	}
	if (rc < 0) {
		lupi_sisa_free(s);
		return rc;
	}
	*out = s;
	return LUPI_OK;
}

int lupi_sisa_create(const lupi_model *proto, const lupi_dataset *train,
		     unsigned shards, uint64_t seed, lupi_sisa **out,
		     lupi_progress_fn progress, void *user)
{
	return lupi_sisa_create_sliced(proto, train, shards, 1, seed, out,
				       progress, user);
}

int lupi_sisa_forget(lupi_sisa *s, const size_t *idx, size_t n,
		     uint64_t *steps, double *seconds,
		     lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(s);
	LUPI__CHECK_NULL(idx);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "nothing to forget (n = 0)");
	LUPI__TRY(lupi__check_host_array(n, 1, sizeof *idx, "idx"));
	for (size_t i = 0; i < n; i++)
		if (idx[i] >= s->n)
			return lupi__err(LUPI_ERANGE, "idx[%zu] = %zu, the "
					 "training set has %zu samples", i,
					 idx[i], s->n);
	double t0 = lupi__privacy_seconds();
	size_t kr = (size_t)s->k * s->r;
	uint8_t *was = lupi__malloc(s->n);
	/* from[i]: the first stage shard i reruns; r = none */
	unsigned *from = lupi__malloc_array(s->k, sizeof *from);
	lupi_model **fresh = lupi__calloc(s->k, sizeof *fresh);
	lupi_model **nck = lupi__calloc(kr, sizeof *nck);
	uint64_t *nss = lupi__malloc_array(kr, sizeof *nss);
	int rc = was && from && fresh && nck && nss ?
			 LUPI_OK :
			 lupi__err(LUPI_ENOMEM, "cannot allocate %zu flags",
				   s->n);
	if (rc == LUPI_OK) {
		memcpy(was, s->deleted, s->n);
		memcpy(nss, s->stage_steps, kr * sizeof *nss);
		for (unsigned i = 0; i < s->k; i++)
			from[i] = s->r;
		for (size_t i = 0; i < n; i++) {
			size_t j = idx[i], sh = s->shard_of[j];
			if (!s->deleted[j] && s->slice_of[j] < from[sh])
				from[sh] = s->slice_of[j];
			s->deleted[j] = 1;
		}
		size_t left = 0;
		for (size_t i = 0; i < s->n; i++)
			left += !s->deleted[i];
		if (left == 0)
			rc = lupi__err(LUPI_ESTATE, "forgetting these would "
				       "delete every training sample");
	}
	uint64_t st = 0, scratch = 0;
	lupi__run run = {.fn = progress, .user = user};
	for (unsigned i = 0; rc == LUPI_OK && i < s->k; i++)
		run.total += (s->r - from[i]) * (unsigned)s->stage_epochs;
	for (unsigned i = 0; rc == LUPI_OK && i < s->k; i++) {
		if (from[i] == s->r)
			continue;
		size_t b = (size_t)i * s->r;
		nck[b + from[i]] = s->ckpt[b + from[i]];
		rc = sisa_run(s, i, from[i], nck + b, nss + b, &fresh[i],
			      &run);
		nck[b + from[i]] = NULL; /* kept, not new */
		for (unsigned r = 0; rc == LUPI_OK && r < s->r; r++) {
			st += r >= from[i] ? nss[b + r] : 0;
			scratch += nss[b + r];
		}
	}
	/* commit, or drop what was made */
	for (unsigned i = 0; from && fresh && nck && i < s->k; i++) {
		if (from[i] == s->r)
			continue;
		size_t b = (size_t)i * s->r;
		for (unsigned r = from[i] + 1; r < s->r; r++) {
			lupi_model *old = rc == LUPI_OK ? s->ckpt[b + r] :
							  nck[b + r];
			if (rc == LUPI_OK)
				s->ckpt[b + r] = nck[b + r];
			lupi_model_free(old);
		}
		lupi_model *old = rc == LUPI_OK ? s->models[i] : fresh[i];
		if (rc == LUPI_OK)
			s->models[i] = fresh[i];
		lupi_model_free(old);
	}
	if (rc == LUPI_OK) {
		memcpy(s->stage_steps, nss, kr * sizeof *nss);
		s->last_steps = st;
		s->last_scratch = scratch;
	} else if (was) {
		memcpy(s->deleted, was, s->n);
	}
	lupi__free(was);
	lupi__free(from);
	lupi__free(fresh);
	lupi__free(nck);
	lupi__free(nss);
	if (rc == LUPI_OK) {
		if (steps)
			*steps = st;
		if (seconds)
			*seconds = lupi__privacy_seconds() - t0;
	}
	return rc;
}

int lupi_sisa_last_cost(const lupi_sisa *s, uint64_t *steps,
			uint64_t *scratch_steps)
{
	LUPI__CHECK_NULL(s);
	if (steps)
		*steps = s->last_steps;
	if (scratch_steps)
		*scratch_steps = s->last_scratch;
	return LUPI_OK;
}

int lupi_sisa_slice_of(const lupi_sisa *s, size_t i, unsigned *slice)
{
	LUPI__CHECK_NULL(s);
	LUPI__CHECK_NULL(slice);
	if (i >= s->n)
		return lupi__err(LUPI_ERANGE, "sample %zu of %zu", i, s->n);
	*slice = s->slice_of[i];
	return LUPI_OK;
}

unsigned lupi_sisa_shards(const lupi_sisa *s)
{
	return s ? s->k : 0;
}

int lupi_sisa_shard_of(const lupi_sisa *s, size_t i, unsigned *shard)
{
	LUPI__CHECK_NULL(s);
	LUPI__CHECK_NULL(shard);
	if (i >= s->n)
		return lupi__err(LUPI_ERANGE, "sample %zu of %zu", i, s->n);
	*shard = (unsigned)s->shard_of[i];
	return LUPI_OK;
}

const lupi_model *lupi_sisa_model(const lupi_sisa *s, unsigned shard)
{
	return s && shard < s->k ? s->models[shard] : NULL;
}

int lupi_sisa_predict(const lupi_sisa *s, const float *x, size_t n, size_t d,
		      float *out)
{
	LUPI__CHECK_NULL(s);
	LUPI__CHECK_NULL(x);
	LUPI__CHECK_NULL(out);
	if (n == 0)
		return lupi__err(LUPI_EINVAL, "n = 0 samples");
	int binary = s->proto->task == LUPI_TASK_BINARY;
	size_t k = binary ? 2 : s->proto->n_out, no = s->proto->n_out;
	if (n > SIZE_MAX / (k * sizeof(double)))
		return lupi__err(LUPI_ERANGE, "%zu samples do not fit", n);
	double *acc = lupi__calloc(n * k, sizeof *acc);
	float *p = lupi__malloc_array(n, no * sizeof *p);
	int rc = acc && p ? LUPI_OK :
			    lupi__err(LUPI_ENOMEM, "cannot allocate %zu "
				      "outputs", n * k);
	unsigned used = 0;
	for (unsigned i = 0; rc == LUPI_OK && i < s->k; i++) {
		if (s->models[i] == NULL)
			continue;
		rc = lupi_model_predict(s->models[i], x, n, d,
					LUPI_PREDICT_OUTPUT, p);
		for (size_t r = 0; rc == LUPI_OK && r < n; r++) {
			if (binary) {
				acc[r * 2] += 1.0 - p[r];
				acc[r * 2 + 1] += p[r];
			} else {
				for (size_t c = 0; c < k; c++)
					acc[r * k + c] += p[r * k + c];
			}
		}
		used++;
	}
	for (size_t i = 0; rc == LUPI_OK && i < n * k; i++)
		out[i] = (float)(acc[i] / used);
	lupi__free(acc);
	lupi__free(p);
	return rc;
}
