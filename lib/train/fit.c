/* The epoch loop shared by lupi_model_fit and lupi_student_fit.
 *
 * Cancelling: when the progress callback returns non-zero the loop stops
 * where it is and lupi__fit returns LUPI_ECANCELLED. The model keeps what
 * was trained so far, and RESTORE_BEST applies as it does when the epochs
 * run out or PATIENCE stops training: with a validation set, the weights
 * of the best epoch evaluated so far are restored (a cancel inside the
 * first epoch, before any evaluation, keeps the current weights). A host
 * that cancels because it has seen enough thus gets the same model as
 * early stopping would give it at that point.
 *
 * LUPI_ENONFINITE (a step whose loss or update is not finite, or a
 * validation set whose outputs overflow) ends training the same way: a
 * failed step changes nothing, so the model holds the weights of the last
 * step that succeeded, and RESTORE_BEST with a validation set restores
 * those of the best epoch, which a diverging run has usually left behind.
 * The copy is already there, so this costs nothing.
 *
 * A share (lupi_model_set_share): the fit runs the epochs, permutations
 * and batches of a whole fit, and steps on this worker's part of each
 * batch, its gradient weighted by its part of the batch before the host's
 * hook averages (share_reduce). */
#include <math.h>
#include <string.h>

#include "train_internal.h"

/* The position of the fit (train_internal.h): what a checkpoint saves. */
typedef lupi__fit_pos fit_state;

/* The samples that have the X* the view needs, listed once. */
static int eligible(const lupi_model *m, const lupi_dataset *ds,
		    fit_state *st)
{
	int need = lupi__view_needs_priv(m->opt.view);
	st->idx = lupi__malloc_array(ds->n, sizeof *st->idx);
	if (st->idx == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices",
				 ds->n);
	st->n = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (!need || lupi__dataset_has_priv(ds, i))
			st->idx[st->n++] = i;
	if (st->n == 0)
		return lupi__err(LUPI_ESTATE, "no training sample has the "
				 "privileged features the view needs");
	return LUPI_OK;
}

/* Accuracy (higher is better) or MSE (lower is better). */
static int valid_metric(const lupi_model *m, const lupi_dataset *valid,
			double *value, int *higher)
{
	*higher = m->task != LUPI_TASK_REGRESSION;
	return lupi_model_evaluate(m, valid,
				   *higher ? LUPI_METRIC_ACCURACY :
					     LUPI_METRIC_MSE, value);
}

/* Records the epoch's validation metric; returns 1 when training should
 * stop early (PATIENCE epochs without improvement). */
static int track_best(lupi_model *m, fit_state *st, unsigned epoch,
		      double v, int higher)
{
	int better = !st->have_best ||
		     (higher ? v > st->best_metric : v < st->best_metric);
	if (better) {
		st->have_best = 1;
		st->best_metric = v;
		st->best_epoch = epoch;
		if (st->best)
			memcpy(st->best, m->params,
			       m->n_params * sizeof *st->best);
		return 0;
	}
	return m->opt.patience > 0 &&
	       (int64_t)(epoch - st->best_epoch) >= m->opt.patience;
}

/* ---- a share of every batch -------------------------------------------- */

int lupi__check_share(unsigned index, unsigned count)
{
	if (count == 0 || index >= count)
		return lupi__err(LUPI_ERANGE, "share %u of %u: need count >= 1 "
				 "and index < count", index, count);
	return LUPI_OK;
}

int lupi_model_set_share(lupi_model *m, unsigned index, unsigned count)
{
	LUPI__CHECK_NULL(m);
	LUPI__TRY(lupi__check_share(index, count));
	m->share = index;
	m->shares = count;
	return LUPI_OK;
}

/* The host's hook, called with this worker's gradient times its weight:
 * count x (its samples) / (the batch's), so that the mean over the
 * workers is the gradient of the batch's mean loss. */
typedef struct share_hook {
	lupi_reduce_fn fn;
	void *user;
	float weight;
} share_hook;

static int share_reduce(void *user, float *buf, size_t n)
{
	share_hook *h = user;
	if (h->weight != 1.0f)
		for (size_t i = 0; i < n; i++)
			buf[i] *= h->weight;
	return h->fn(h->user, buf, n);
}

/* The random numbers a training forward pass draws per row: the dropout
 * masks of the hidden layers (lupi__model_forward). */
static uint64_t draws_per_row(const lupi_model *m)
{
	uint64_t d = 0;
	if (m->opt.dropout > 0.0)
		for (size_t l = 0; l + 1 < m->n_layers; l++)
			d += m->layers[l].out;
	return d;
}

/* The step of a share on the batch idx[0..nb): on its part of it, or with
 * no sample a zero gradient, still reduced and applied, as every worker's
 * step is. The generator then stands where a step on the whole batch
 * leaves it, so that every worker draws the same next permutation.
 * *part: the samples the step was on. */
static int share_step(lupi_model *m, const lupi_dataset *train,
		      const size_t *idx, size_t nb, lupi__step_fn step,
		      void *ctx, share_hook *h, double *loss, size_t *part)
{
	size_t lo = nb * m->share / m->shares;
	size_t hi = nb * (m->share + 1) / m->shares;
	lupi__rng r0 = m->rng;
	*part = hi - lo;
	*loss = 0.0;
	h->weight = (float)((double)(hi - lo) * m->shares / (double)nb);
	if (hi > lo) {
		LUPI__TRY(step(ctx, m, train, idx + lo, hi - lo, loss));
	} else {
		memset(m->grads, 0, m->n_params * sizeof *m->grads);
		LUPI__TRY(lupi__model_reduce(m));
		LUPI__TRY(lupi__model_update(m));
	}
	uint64_t draws = draws_per_row(m) * (uint64_t)nb;
	m->rng = r0;
	for (uint64_t i = 0; i < draws; i++)
		(void)lupi__rng_next(&m->rng);
	return LUPI_OK;
}

/* One epoch; sets *stop to 1 when training should stop early (PATIENCE)
 * and to 2 when the callback asked to stop. */
static int run_epoch(lupi_model *m, const lupi_dataset *train,
		     const lupi_dataset *valid, fit_state *st,
		     lupi__step_fn step, void *ctx, share_hook *share,
		     lupi_progress_fn progress, void *user, int *stop)
{
	const lupi__model_opts *o = &m->opt;
	size_t batch = (size_t)o->batch < st->n ? (size_t)o->batch : st->n;
	lupi_progress p = {.size = sizeof(lupi_progress)};
	p.epoch = m->epoch + 1;
	p.epochs = (unsigned)o->epochs;
	p.steps_per_epoch = (st->n + batch - 1) / batch;
	p.valid_metric = NAN;
	/* A resumed epoch continues where its checkpoint was written: its
	 * order is the saved one, already shuffled. */
	if (!st->resumed) {
		if (o->shuffle)
			lupi__rng_shuffle(&m->rng, st->idx, st->n);
		st->off = 0;
		st->step = 0;
		st->sum = 0.0;
		st->seen = 0;
	}
	st->resumed = 0;
	p.step = st->step;
	if (st->seen > 0)
		p.loss = st->sum / (double)st->seen;
	while (st->off < st->n) {
		size_t off = st->off;
		size_t nb = st->n - off < batch ? st->n - off : batch;
		double l = 0.0;
		size_t part = nb; /* the samples of this worker's step */
		if (share)
			LUPI__TRY(share_step(m, train, st->idx + off, nb, step,
					     ctx, share, &l, &part));
		else
			LUPI__TRY(step(ctx, m, train, st->idx + off, nb, &l));
		st->sum += l * (double)part;
		st->seen += part;
		st->off = off + nb;
		st->step = ++p.step;
		p.loss = st->seen ? st->sum / (double)st->seen : 0.0;
		if (m->ckpt_path && m->ckpt_every > 0 &&
		    m->t % m->ckpt_every == 0)
			LUPI__TRY(lupi__checkpoint_write(m, st));
		int last = off + nb >= st->n;
		if (progress && o->progress_steps > 0 && !last &&
		    p.step % (uint64_t)o->progress_steps == 0 &&
		    progress(user, &p)) {
			*stop = 2;
			return LUPI_OK;
		}
	}
	p.epoch_end = 1;
	if (valid) {
		int higher;
		LUPI__TRY(valid_metric(m, valid, &p.valid_metric, &higher));
		*stop = track_best(m, st, m->epoch, p.valid_metric, higher);
	}
	if (progress && progress(user, &p))
		*stop = 2;
	return LUPI_OK;
}

/* Continues at the position a lupi_model_resume left in m: its order of
 * the same eligible samples, its place in its epoch and its best copy. */
static int take_resume(lupi_model *m, fit_state *st, int has_valid,
		       int64_t *first)
{
	const lupi__fit_pos *r = m->resume;
	if (r->n != st->n)
		return lupi__err(LUPI_ESHAPE, "the checkpoint was written by a "
				 "fit on %zu eligible samples, this training "
				 "set has %zu", r->n, st->n);
	/* the saved order must be a permutation of the eligible samples */
	uint8_t *mark = lupi__calloc(st->n ? st->n : 1, 1);
	if (mark == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu indices",
				 st->n);
	int ok = 1;
	/* st->idx lists the eligible samples in increasing order */
	for (size_t i = 0; i < st->n && ok; i++) {
		size_t lo = 0, hi = st->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (st->idx[mid] < r->idx[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		ok = lo < st->n && st->idx[lo] == r->idx[i] && !mark[lo];
		if (ok)
			mark[lo] = 1;
	}
	lupi__free(mark);
	if (!ok)
		return lupi__err(LUPI_ESHAPE, "the checkpoint's sample order "
				 "does not match this training set");
	lupi__fit_pos *t = lupi__checkpoint_take(m);
	memcpy(st->idx, t->idx, st->n * sizeof *st->idx);
	st->off = t->off;
	st->step = t->step;
	st->sum = t->sum;
	st->seen = t->seen;
	st->have_best = t->have_best;
	st->best_metric = t->best_metric;
	st->best_epoch = t->best_epoch;
	if (has_valid && m->opt.restore_best && t->best) {
		st->best = t->best;
		t->best = NULL;
	}
	st->resumed = 1;
	*first = (int64_t)m->epoch;
	lupi__fit_pos_free(t);
	return LUPI_OK;
}

int lupi__fit(lupi_model *m, const lupi_dataset *train,
	      const lupi_dataset *valid, lupi__step_fn step, void *ctx,
	      lupi_progress_fn progress, void *user)
{
	LUPI__CHECK_NULL(m);
	LUPI__CHECK_NULL(train);
	LUPI__CHECK_NULL(step);
	/* a share steps on part of each batch: the hook must add the rest */
	share_hook share = {m->reduce, m->reduce_user, 1.0f};
	int shared = m->shares > 1;
	if (shared && m->reduce == NULL)
		return lupi__err(LUPI_ESTATE, "a fit of share %u of %u needs a "
				 "gradient reduction (lupi_model_set_reduce) "
				 "that adds the other shares", m->share,
				 m->shares);
	/* A distillation step may train on a dataset without targets, or
	 * with fewer classes than outputs (a loss over columns): the callers
	 * check what their loss reads before (lupi_model_fit: everything). */
	LUPI__TRY(lupi__model_prepare_targets(m, train,
					      train->task != LUPI_TASK_NONE
						      ? 2
						      : 0));
	if (valid)
		LUPI__TRY(lupi__model_check_dataset(m, valid, 1));
	fit_state st = {0};
	int rc = eligible(m, train, &st);
	if (shared) {
		m->reduce = share_reduce;
		m->reduce_user = &share;
	}
	int64_t first = 0;
	if (rc == LUPI_OK && m->resume)
		rc = take_resume(m, &st, valid != NULL, &first);
	if (rc == LUPI_OK && valid && m->opt.restore_best && !st.best) {
		st.best = lupi__malloc_array(m->n_params, sizeof *st.best);
		if (st.best == NULL)
			rc = lupi__err(LUPI_ENOMEM, "cannot allocate a copy of "
				       "%zu parameters", m->n_params);
	}
	int stop = 0;
	for (int64_t e = first; rc == LUPI_OK && !stop && e < m->opt.epochs;
	     e++) {
		m->epoch = (unsigned)e;
		rc = run_epoch(m, train, valid, &st, step, ctx,
			       shared ? &share : NULL, progress, user, &stop);
	}
	if (shared) {
		m->reduce = share.fn;
		m->reduce_user = share.user;
	}
	if ((rc == LUPI_OK || rc == LUPI_ENONFINITE) && st.best &&
	    st.have_best) {
		memcpy(m->params, st.best, m->n_params * sizeof *m->params);
		lupi__model_touch(m);
	}
	lupi__free(st.best);
	lupi__free(st.idx);
	if (rc == LUPI_OK && stop == 2)
		return lupi__err(LUPI_ECANCELLED, "training cancelled by the "
				 "progress callback in epoch %u", m->epoch + 1);
	return rc;
}

static int model_step(void *ctx, lupi_model *m, const lupi_dataset *ds,
		      const size_t *idx, size_t n, double *loss)
{
	(void)ctx;
	return lupi_model_step(m, ds, idx, n, loss);
}

int lupi_model_fit(lupi_model *m, const lupi_dataset *train,
		   const lupi_dataset *valid, lupi_progress_fn progress,
		   void *user)
{
	/* label steps need the targets: refused before anything changes */
	if (m != NULL && train != NULL)
		LUPI__TRY(lupi__model_check_dataset(m, train, 1));
	return lupi__fit(m, train, valid, model_step, NULL, progress, user);
}
