/* liblupi-mpi: data-parallel training of liblupi models over MPI.
 *
 * An optional helper library, built when MPI is found (meson -Dmpi=auto).
 * liblupi itself never links MPI: a model accepts a gradient reduction
 * (lupi_model_set_reduce), and this library supplies one over an MPI
 * communicator, plus the pieces a data-parallel run needs around it:
 * equal shards of a dataset, the same initial model on every rank, and a
 * teacher's outputs computed in parallel. See doc/scaling.md.
 *
 * Every function is collective over the context's communicator unless it
 * says otherwise: all ranks call it, in the same order. Errors are liblupi
 * codes (LUPI_E*, lupi_strerror; the detail in lupi_mpi_errmsg); an MPI failure is LUPI_EIO
 * with the MPI error string. The communicator must use MPI_ERRORS_RETURN
 * for that to happen; with MPI's default handler a failure aborts the job,
 * as MPI programs usually expect.
 */
#ifndef LUPI_MPI_H
#define LUPI_MPI_H

#include <stddef.h>
#include <stdint.h>

#include <mpi.h>

#include <lupi.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LUPI_MPI_API
#if defined(_WIN32)
#define LUPI_MPI_API
#else
#define LUPI_MPI_API __attribute__((visibility("default")))
#endif
#endif

#define LUPI_MPI_VERSION_MAJOR 0
#define LUPI_MPI_VERSION_MINOR 3
#define LUPI_MPI_VERSION_PATCH 0

/** A context: a duplicate of a communicator and statistics. @since 0.3 */
typedef struct lupi_mpi lupi_mpi;

/**
 * A context over comm (duplicated with MPI_Comm_dup, so the library's
 * messages never mix with the host's). MPI must be initialised. Collective.
 * @return LUPI_OK; LUPI_EINVAL (out NULL); LUPI_ESTATE (MPI not
 *         initialised or already finalised); LUPI_EIO; LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_MPI_API int lupi_mpi_create(MPI_Comm comm, lupi_mpi **out);
/** Frees c (NULL is a no-op); collective (MPI_Comm_free). @since 0.3 */
LUPI_MPI_API void lupi_mpi_free(lupi_mpi *c);
/** This process's rank in c, or -1 for NULL. Local. @since 0.3 */
LUPI_MPI_API int lupi_mpi_rank(const lupi_mpi *c);
/** Number of ranks of c, or 0 for NULL. Local. @since 0.3 */
LUPI_MPI_API int lupi_mpi_size(const lupi_mpi *c);

/**
 * The gradient reduction (a lupi_reduce_fn, user = the lupi_mpi *): one
 * MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM) per call, then
 * buf times 1/size (exact for 1, 2, 4, ... ranks). Buffers above INT_MAX
 * floats go in several calls. Collective.
 * @return LUPI_OK; LUPI_EINVAL (user or buf NULL); LUPI_EIO. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_reduce(void *user, float *buf, size_t n);

/**
 * Installs lupi_mpi_reduce over c on m (lupi_model_set_reduce): every step
 * of m then averages the gradient across the ranks of c. c is borrowed
 * until m is freed or another hook is set. With
 * lupi_model_set_share(m, rank, size) and the whole training set on every
 * rank, a fit then trains the model of one process up to float summation
 * order. Local.
 * @return LUPI_OK; LUPI_EINVAL (NULL). @since 0.3
 */
LUPI_MPI_API int lupi_mpi_attach(lupi_mpi *c, lupi_model *m);

/**
 * Makes every rank's m equal to root's: parameters and, when root's model
 * has one, its standardisation (the other ranks' are replaced). Initialise
 * (lupi_model_init) on every rank first; with STANDARDIZE on, set the
 * standardisation fitted on the whole training set on root (e.g.
 * lupi_dataset_fit_standardizer + lupi_model_set_standardizer), since each
 * rank would otherwise fit its own on its shard. Collective.
 * @return LUPI_OK; LUPI_EINVAL (NULL, root out of range); LUPI_ESHAPE (the
 *         ranks' models have different numbers of parameters or inputs);
 *         LUPI_ESTATE (root's model is not initialised); LUPI_EIO;
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_bcast_model(lupi_mpi *c, lupi_model *m, int root);

/**
 * Root's dataset on every rank, so that one process reads the files:
 * root passes its ds (NULL when it has none, e.g. its read failed), the
 * others anything (ignored); every rank gets in *out a new dataset (free
 * it) with root's samples, features, X* and mask, labels or targets, task
 * and weights, the same bits (root's is a copy). Collective.
 * @return LUPI_OK; LUPI_EINVAL (c or out NULL, root out of range);
 *         LUPI_ESTATE (root passed NULL: every rank gets it, so a failed
 *         read on root ends every rank's run); LUPI_EIO; LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_MPI_API int lupi_mpi_bcast_dataset(lupi_mpi *c, const lupi_dataset *ds,
					int root, lupi_dataset **out);

/**
 * This rank's shard of ds: samples i with i mod size == rank, for i below
 * size * floor(n / size), so that every rank holds the same number of
 * samples and runs the same number of steps (the n mod size last samples,
 * fewer than size, are left out). Dealt round-robin so that with
 * SHUFFLE 0 and a per-rank BATCH of B, the ranks' batch j together are the
 * samples of batch j of a single-process fit with BATCH size * B (with
 * SHUFFLE on each rank shuffles its shard: other batches). For the batches
 * of one process with shuffling, give every rank the whole ds and
 * lupi_model_set_share(m, rank, size) instead. Every rank passes the same
 * ds. Local. A new dataset (free it).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (fewer samples than
 *         ranks); LUPI_ENOMEM. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_shard(const lupi_mpi *c, const lupi_dataset *ds,
		   lupi_dataset **out);

/**
 * A teacher's outputs on every sample of ds, computed in parallel: each
 * rank computes a contiguous block of rows (lupi_teacher_outputs), then
 * MPI_Allgatherv gives every rank all n * k logits in out and n flags in
 * has_output (may be NULL). They equal a serial lupi_teacher_outputs() on
 * all rows bit for bit (each row's outputs do not depend on the other rows
 * of the call). A host caches them in a teacher with
 * lupi_teacher_add_outputs(t2, ds, out, k, LUPI_OUTPUTS_LOGITS, 1.0).
 * Collective; every rank passes the same teacher and dataset.
 * @return LUPI_OK; LUPI_EINVAL; errors of lupi_teacher_outputs();
 *         LUPI_ERANGE (more rows than MPI counts reach); LUPI_EIO;
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_teacher_outputs(lupi_mpi *c, const lupi_teacher *t,
			     const lupi_dataset *ds, float *out,
			     uint8_t *has_output);

/**
 * lupi_teacher_create_crossfit() with the folds trained in parallel: rank
 * r trains folds r, r + size, ... (lupi_teacher_crossfit_fold), the ranks
 * exchange the held-out logits, and every rank gets in *out a teacher whose
 * outputs equal those of the serial cross-fitted teacher bit for bit (its
 * one member holds the logits as masked external outputs tied to ds:
 * lupi_teacher_add_outputs_masked). Collective; every rank passes the
 * same proto, ds, k_folds and seed.
 * @return LUPI_OK; LUPI_EINVAL (NULL); errors of
 *         lupi_teacher_crossfit_fold() (on every rank: LUPI_EIO "another
 *         rank failed" where a rank's own call succeeded); LUPI_EIO;
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_teacher_crossfit(lupi_mpi *c,
					   const lupi_model *proto,
					   const lupi_dataset *ds,
					   unsigned k_folds, uint64_t seed,
					   lupi_teacher **out);

/**
 * lupi_compare_run() with the table's cells (trained models) shared by the
 * ranks: rank r runs share r of size (lupi_compare_set_share: a
 * contiguous block of cells in the order of a serial run, so a rank trains
 * the teacher of a repetition once for all its distilled cells), then the
 * ranks exchange their values (lupi_compare_set_value), and every rank's
 * cmp holds the table of a serial run, bit for bit. progress is called on
 * each rank for its own models. cmp's share is 0 of 1 afterwards.
 * Collective; every rank passes the same comparison and data.
 * @return LUPI_OK; LUPI_EINVAL (NULL); errors of lupi_compare_run() (on
 *         every rank: LUPI_EIO "another rank failed" where the rank's own
 *         run succeeded); LUPI_EIO; LUPI_ENOMEM. @since 0.3
 */
LUPI_MPI_API int lupi_mpi_compare_run(lupi_mpi *c, lupi_compare *cmp,
				      const lupi_dataset *train,
				      const lupi_dataset *test,
				      lupi_progress_fn progress, void *user);

/**
 * Detail of the calling thread's last failure of a lupi_mpi_* function
 * (its own text, or lupi_errmsg() of the liblupi call that failed inside
 * it); "" when none. Static thread-local storage, valid until the next
 * lupi_mpi_* call on this thread. Local. @since 0.3
 */
LUPI_MPI_API const char *lupi_mpi_errmsg(void);

/**
 * What the reductions of c cost so far: calls, floats reduced, and wall
 * seconds inside MPI_Allreduce (MPI_Wtime), on this rank. Any pointer may
 * be NULL. Local. @return LUPI_OK; LUPI_EINVAL (c NULL). @since 0.3
 */
LUPI_MPI_API int lupi_mpi_stats(const lupi_mpi *c, uint64_t *calls, uint64_t *floats,
		   double *seconds);

#ifdef __cplusplus
}
#endif
#endif /* LUPI_MPI_H */
