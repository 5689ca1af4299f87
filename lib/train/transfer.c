/* Knowledge transfer (Vapnik & Izmailov 2015) as a teacher kind: a member
 * made of a regressor X -> X* and a model on X*, whose outputs for a sample
 * are the X*-model applied to the regressor's prediction X-hat*(x); and its
 * cross-fitted form, where the regressor's outputs on the training set come
 * from fold models that did not see the sample. */
#include <string.h>

#include "train_internal.h"

/* The regressor (trained or a prototype): a regression model on a view
 * without X*. */
static int check_regressor(const lupi_model *reg)
{
	if (reg->task != LUPI_TASK_REGRESSION)
		return lupi__err(LUPI_EINVAL,
				 "the regressor's task is not regression: it "
				 "must predict X* (LUPI_TASK_REGRESSION)");
	if (lupi__view_needs_priv(reg->opt.view))
		return lupi__err(LUPI_EINVAL,
				 "the regressor reads X* (view %s): it must "
				 "predict X* from the regular view",
				 lupi__view_name(reg->opt.view));
	return LUPI_OK;
}

/* The X*-model: trained, on the privileged view, reading what the
 * regressor writes. */
static int check_xstar(const lupi_model *reg, const lupi_model *xs)
{
	if (!xs->initialized)
		return lupi__err(LUPI_ESTATE, "the X*-model is not trained nor "
				 "initialised");
	if (xs->opt.view != LUPI_VIEW_PRIVILEGED)
		return lupi__err(LUPI_EINVAL,
				 "the X*-model's view is %s, not privileged",
				 lupi__view_name(xs->opt.view));
	if (reg->n_out != xs->n_in)
		return lupi__err(LUPI_ESHAPE,
				 "the regressor has %zu outputs, the X*-model "
				 "%zu inputs", reg->n_out, xs->n_in);
	return LUPI_OK;
}

int lupi_teacher_add_transfer(lupi_teacher *t, const lupi_model *regressor,
			      const lupi_model *xstar_model, double weight)
{
	LUPI__CHECK_NULL(t);
	LUPI__CHECK_NULL(regressor);
	LUPI__CHECK_NULL(xstar_model);
	LUPI__TRY(lupi__check_member_weight(weight));
	LUPI__TRY(check_regressor(regressor));
	if (!regressor->initialized)
		return lupi__err(LUPI_ESTATE, "the regressor is not trained "
				 "nor initialised");
	LUPI__TRY(check_xstar(regressor, xstar_model));
	lupi__member mb = {.weight = weight};
	int rc = lupi_model_clone(regressor, &mb.reg);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(xstar_model, &mb.xstar);
	if (rc == LUPI_OK)
		rc = lupi__teacher_push(t, &mb, xstar_model->task,
					xstar_model->n_out);
	if (rc < 0)
		lupi__member_free(&mb);
	return rc;
}

int lupi__transfer_check(const lupi__member *mb, const lupi_dataset *ds,
			 size_t j)
{
	const lupi_model *r = mb->reg;
	size_t dim = lupi__dataset_view_dim(ds, r->opt.view);
	if (dim != r->n_in)
		return lupi__err(LUPI_ESHAPE,
				 "teacher member %zu (transfer) has a "
				 "regressor of %zu inputs, the dataset's %s "
				 "view has %zu features", j, r->n_in,
				 lupi__view_name(r->opt.view), dim);
	return LUPI_OK;
}

/* ---- cross-fitting ------------------------------------------------------ */

static int crossfit_check(const lupi_model *proto, const lupi_dataset *ds,
			  unsigned k_folds)
{
	LUPI__TRY(check_regressor(proto));
	LUPI__TRY(lupi__crossfit_check(proto, ds, k_folds));
	size_t dstar = lupi__dataset_view_dim(ds, LUPI_VIEW_PRIVILEGED);
	if (dstar == 0)
		return lupi__err(LUPI_ESTATE, "the dataset has no X* to "
				 "regress on");
	if (dstar != proto->n_out)
		return lupi__err(LUPI_ESHAPE,
				 "the regressor has %zu outputs, the dataset's "
				 "X* %zu features", proto->n_out, dstar);
	return LUPI_OK;
}

/* Trains a clone of proto on the samples with X* outside fold f (in index
 * order: X rows of its view, X* rows as targets) and writes its outputs
 * for the samples of fold f into xhat. */
static int fit_fold(const lupi_model *proto, const lupi_dataset *ds,
		    const size_t *fold, unsigned f, float *rows, float *tgt,
		    size_t *idx, float *out, float *xhat)
{
	size_t din = proto->n_in, dout = proto->n_out, ntr = 0, nte = 0;
	for (size_t i = 0; i < ds->n; i++)
		if (fold[i] != f && lupi__dataset_has_priv(ds, i)) {
			lupi__dataset_row(ds, proto->opt.view, i,
					  rows + ntr * din);
			lupi__dataset_row(ds, LUPI_VIEW_PRIVILEGED, i,
					  tgt + ntr * dout);
			ntr++;
		}
	if (ntr == 0)
		return lupi__err(LUPI_ERANGE,
				 "fold %u: no sample with X* outside it to "
				 "train the regressor on", f);
	lupi_dataset *sub = NULL;
	lupi_model *m = NULL;
	int rc = lupi_dataset_create(ntr, din, rows, &sub);
	if (rc == LUPI_OK)
		rc = lupi_dataset_set_targets(sub, dout, tgt);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(proto, &m);
	if (rc == LUPI_OK)
		rc = lupi_model_fit(m, sub, NULL, NULL, NULL);
	for (size_t i = 0; rc == LUPI_OK && i < ds->n; i++)
		if (fold[i] == f) {
			lupi__dataset_row(ds, proto->opt.view, i,
					  rows + nte * din);
			idx[nte++] = i;
		}
	if (rc == LUPI_OK && nte > 0)
		rc = lupi__model_predict_logits(m, rows, nte, out);
	for (size_t q = 0; rc == LUPI_OK && q < nte; q++)
		memcpy(xhat + idx[q] * dout, out + q * dout,
		       dout * sizeof *xhat);
	lupi_model_free(m);
	lupi_dataset_free(sub);
	return rc;
}

static int crossfit_xhat(const lupi_model *proto, const lupi_dataset *ds,
			 unsigned k_folds, uint64_t seed, float *xhat)
{
	size_t n = ds->n;
	size_t *fold = lupi__malloc_array(n, sizeof *fold);
	size_t *idx = lupi__malloc_array(n, sizeof *idx);
	float *rows = lupi__malloc_array(n, proto->n_in * sizeof(float));
	float *tgt = lupi__malloc_array(n, proto->n_out * sizeof(float));
	float *out = lupi__malloc_array(n, proto->n_out * sizeof(float));
	int rc = LUPI_OK;
	if (!fold || !idx || !rows || !tgt || !out)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (cross-fitting)");
	/* Every sample has the regressor's (regular) view: all are dealt. */
	if (rc == LUPI_OK)
		rc = lupi__crossfit_folds(ds, proto->opt.view, k_folds, seed,
					  fold);
	for (unsigned f = 0; rc == LUPI_OK && f < k_folds; f++)
		rc = fit_fold(proto, ds, fold, f, rows, tgt, idx, out, xhat);
	size_t where;
	if (rc == LUPI_OK && !lupi__all_finite(xhat, n * proto->n_out, &where))
		rc = lupi__err(LUPI_ENONFINITE, "regressor output %zu of "
			       "sample %zu is not finite",
			       where % proto->n_out, where / proto->n_out);
	lupi__free(fold);
	lupi__free(idx);
	lupi__free(rows);
	lupi__free(tgt);
	lupi__free(out);
	return rc;
}

int lupi_transfer_crossfit(const lupi_model *regressor_proto,
			   const lupi_dataset *ds, unsigned k_folds,
			   uint64_t seed, float *xhat)
{
	LUPI__CHECK_NULL(regressor_proto);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(xhat);
	LUPI__TRY(crossfit_check(regressor_proto, ds, k_folds));
	return crossfit_xhat(regressor_proto, ds, k_folds, seed, xhat);
}

int lupi_teacher_create_crossfit_transfer(const lupi_model *regressor_proto,
					  const lupi_model *xstar_model,
					  const lupi_dataset *ds,
					  unsigned k_folds, uint64_t seed,
					  lupi_teacher **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(regressor_proto);
	LUPI__CHECK_NULL(xstar_model);
	LUPI__CHECK_NULL(ds);
	LUPI__TRY(crossfit_check(regressor_proto, ds, k_folds));
	LUPI__TRY(check_xstar(regressor_proto, xstar_model));
	size_t n = ds->n, k = xstar_model->n_out;
	lupi__member mb = {.weight = 1.0, .ds_id = ds->id, .n = n};
	float *xhat = lupi__malloc_array(n, regressor_proto->n_out *
						    sizeof(float));
	mb.logits = lupi__malloc_array(n, k * sizeof(float));
	lupi_teacher *t = NULL;
	int rc = LUPI_OK;
	if (xhat == NULL || mb.logits == NULL)
		rc = lupi__err(LUPI_ENOMEM, "out of memory (cross-fitting)");
	if (rc == LUPI_OK)
		rc = crossfit_xhat(regressor_proto, ds, k_folds, seed, xhat);
	if (rc == LUPI_OK)
		rc = lupi__model_predict_logits(xstar_model, xhat, n,
						mb.logits);
	size_t where;
	if (rc == LUPI_OK && !lupi__all_finite(mb.logits, n * k, &where))
		rc = lupi__err(LUPI_ENONFINITE, "X*-model output %zu of "
			       "sample %zu is not finite", where % k,
			       where / k);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	if (rc == LUPI_OK)
		rc = lupi__teacher_push(t, &mb, xstar_model->task, k);
	lupi__free(xhat);
	if (rc < 0) {
		lupi__member_free(&mb);
		lupi_teacher_free(t);
		return rc;
	}
	*out = t;
	return LUPI_OK;
}
