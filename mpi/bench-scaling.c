/* Scaling of data-parallel training over liblupi-mpi (doc/scaling.md).
 * Not a test: it times things. Run as
 *   mpirun --allow-run-as-root --oversubscribe -np N \
 *       build/mpi/bench-scaling [global_batch] [steps]
 * Part 1: a fit of a 784-256-256-10 MLP on synthetic data with a fixed
 * global batch split over the ranks: steps/s and the share of the step
 * spent in MPI_Allreduce (lupi_mpi_stats). Part 2: MPI_Allreduce alone of
 * 1 KiB .. 16 MiB, for the latency and bandwidth terms of the projection.
 * One BLAS thread per rank. */
#include <stdio.h>
#include <stdlib.h>

#include "lupi_mpi.h"

#define D 784
#define K 10

static lupi_dataset *synthetic(size_t n)
{
	float *x = malloc(n * D * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	uint64_t s = 42;
	for (size_t i = 0; i < n * D; i++) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		x[i] = (float)((s >> 40) & 0xffff) / 65536.0f;
	}
	for (size_t i = 0; i < n; i++)
		y[i] = (int32_t)(i % K);
	lupi_dataset *ds = NULL;
	if (lupi_dataset_create(n, D, x, &ds) ||
	    lupi_dataset_set_labels(ds, K, y))
		abort();
	free(x);
	free(y);
	return ds;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank, size;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	long gb = argc > 1 ? atol(argv[1]) : 256;
	long steps = argc > 2 ? atol(argv[2]) : 40;
	/* one BLAS thread per rank, the usual layout of an MPI job */
	lupi_set_num_threads(1);
	lupi_mpi *c = NULL;
	if (lupi_mpi_create(MPI_COMM_WORLD, &c))
		abort();
	/* one epoch is `steps` global batches */
	lupi_dataset *all = synthetic((size_t)(gb * steps)), *sh = NULL;
	if (lupi_mpi_shard(c, all, &sh))
		abort();
	lupi_model *m = NULL;
	size_t hidden[2] = {256, 256};
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 2, K, &m) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, gb / size) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 1) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0) ||
	    lupi_model_init(m) || lupi_mpi_bcast_model(c, m, 0) ||
	    lupi_mpi_attach(c, m))
		abort();
	/* warm-up step: allocations and the first touch of the buffers */
	size_t idx[1] = {0};
	if (lupi_model_step(m, sh, idx, 1, NULL))
		abort();
	uint64_t c0;
	double s0;
	lupi_mpi_stats(c, &c0, NULL, &s0);
	MPI_Barrier(MPI_COMM_WORLD);
	double t0 = MPI_Wtime();
	if (lupi_model_fit(m, sh, NULL, NULL, NULL))
		abort();
	double wall = MPI_Wtime() - t0;
	uint64_t c1;
	double s1;
	lupi_mpi_stats(c, &c1, NULL, &s1);
	double comm = s1 - s0, wmax, cmax;
	MPI_Reduce(&wall, &wmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
	MPI_Reduce(&comm, &cmax, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
	size_t np = lupi_model_num_params(m);
	if (rank == 0)
		printf("ranks %d params %zu bytes/step %zu global_batch %ld "
		       "steps %llu steps/s %.2f comm_share %.3f "
		       "allreduce_ms %.3f\n", size, np, np * 4, gb,
		       (unsigned long long)(c1 - c0),
		       (double)(c1 - c0) / wmax, cmax / wmax,
		       1e3 * cmax / (double)(c1 - c0));
	/* MPI_Allreduce alone */
	for (size_t bytes = 1024; bytes <= ((size_t)16 << 20); bytes *= 4) {
		size_t n = bytes / 4;
		float *buf = calloc(n, sizeof *buf);
		int reps = bytes < (1u << 20) ? 200 : 20;
		MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM,
			      MPI_COMM_WORLD);
		MPI_Barrier(MPI_COMM_WORLD);
		/* mean of back-to-back calls, and the fastest single call
		 * after a barrier: on a loaded machine the mean holds the
		 * waits for a descheduled rank, the minimum hardly any */
		double a = MPI_Wtime();
		for (int r = 0; r < reps; r++)
			MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT,
				      MPI_SUM, MPI_COMM_WORLD);
		double per = (MPI_Wtime() - a) / reps, pmax, best = 1e30, bmax;
		for (int r = 0; r < reps; r++) {
			MPI_Barrier(MPI_COMM_WORLD);
			double b = MPI_Wtime();
			MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT,
				      MPI_SUM, MPI_COMM_WORLD);
			b = MPI_Wtime() - b;
			best = b < best ? b : best;
		}
		MPI_Reduce(&per, &pmax, 1, MPI_DOUBLE, MPI_MAX, 0,
			   MPI_COMM_WORLD);
		MPI_Reduce(&best, &bmax, 1, MPI_DOUBLE, MPI_MAX, 0,
			   MPI_COMM_WORLD);
		if (rank == 0)
			printf("allreduce ranks %d bytes %zu mean_us %.1f "
			       "min_us %.1f\n", size, bytes, 1e6 * pmax,
			       1e6 * bmax);
		free(buf);
	}
	lupi_model_free(m);
	lupi_dataset_free(sh);
	lupi_dataset_free(all);
	lupi_mpi_free(c);
	MPI_Finalize();
	return 0;
}
