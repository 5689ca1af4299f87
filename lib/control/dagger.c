/* The training half of DAgger (Ross, Gordon & Bagnell 2011): after the host
 * appended the states its policy visited, labelled by the expert, the
 * student takes steps on batches drawn uniformly from the aggregate. The
 * rollouts stay in the host, which owns the simulator. */
#include "control_internal.h"

int lupi_dagger_steps(lupi_model *student, const lupi_teacher *teacher,
		      lupi_loss *loss, const lupi_dataset *ds, size_t steps,
		      size_t batch, uint64_t *state, double *mean_loss)
{
	LUPI__CHECK_NULL(student);
	LUPI__CHECK_NULL(ds);
	LUPI__CHECK_NULL(state);
	if (steps == 0 || batch == 0)
		return lupi__err(LUPI_EINVAL, "dagger: %zu steps of batch %zu: "
				 "both must be positive", steps, batch);
	if (batch > LUPI__MAX_WIDTH)
		return lupi__err(LUPI_ERANGE, "dagger: batch %zu is above %u",
				 batch, LUPI__MAX_WIDTH);
	size_t *idx = lupi__malloc_array(batch, sizeof *idx);
	if (idx == NULL)
		return lupi__err(LUPI_ENOMEM, "dagger: out of memory");
	double sum = 0.0;
	int rc = LUPI_OK;
	for (size_t s = 0; rc == LUPI_OK && s < steps; s++) {
		double v = 0.0;
		rc = lupi_dataset_sample(ds, batch, state, idx);
		if (rc == LUPI_OK)
			rc = lupi_student_step(student, teacher, loss, ds, idx,
					       batch, &v);
		sum += v;
	}
	lupi__free(idx);
	if (rc == LUPI_OK && mean_loss != NULL)
		*mean_loss = sum / (double)steps;
	return rc;
}
