/* liblupi-mpi: the gradient reduction, shards, the initial model and
 * parallel teacher outputs over MPI, on liblupi's public API only. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lupi_mpi.h"

struct lupi_mpi {
	MPI_Comm comm;
	int rank, size;
	uint64_t calls, floats;
	double seconds;
};

static _Thread_local char errmsg[512];

const char *lupi_mpi_errmsg(void)
{
	return errmsg;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof errmsg, fmt, ap);
	va_end(ap);
	return code;
}

/* A liblupi call failed: keep its message. */
static int fail_lupi(int code, const char *where)
{
	return fail(code, "%s: %s", where, lupi_errmsg());
}

static int fail_mpi(int err, const char *where)
{
	char s[MPI_MAX_ERROR_STRING];
	int len = 0;
	if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
		snprintf(s, sizeof s, "MPI error %d", err);
	return fail(LUPI_EIO, "%s: %s", where, s);
}

#define TRY_MPI(call, where)                                                  \
	do {                                                                  \
		int err_ = (call);                                            \
		if (err_ != MPI_SUCCESS)                                      \
			return fail_mpi(err_, where);                         \
	} while (0)

int lupi_mpi_create(MPI_Comm comm, lupi_mpi **out)
{
	errmsg[0] = '\0';
	if (out == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_create: out is NULL");
	*out = NULL;
	int init = 0, fin = 0;
	MPI_Initialized(&init);
	MPI_Finalized(&fin);
	if (!init || fin)
		return fail(LUPI_ESTATE, "lupi_mpi_create: MPI is not "
			    "initialised (or already finalised)");
	lupi_mpi *c = calloc(1, sizeof *c);
	if (c == NULL)
		return fail(LUPI_ENOMEM, "lupi_mpi_create: out of memory");
	int err = MPI_Comm_dup(comm, &c->comm);
	if (err != MPI_SUCCESS) {
		free(c);
		return fail_mpi(err, "lupi_mpi_create: MPI_Comm_dup");
	}
	MPI_Comm_rank(c->comm, &c->rank);
	MPI_Comm_size(c->comm, &c->size);
	*out = c;
	return LUPI_OK;
}

void lupi_mpi_free(lupi_mpi *c)
{
	if (c == NULL)
		return;
	MPI_Comm_free(&c->comm);
	free(c);
}

int lupi_mpi_rank(const lupi_mpi *c)
{
	return c ? c->rank : -1;
}

int lupi_mpi_size(const lupi_mpi *c)
{
	return c ? c->size : 0;
}

int lupi_mpi_stats(const lupi_mpi *c, uint64_t *calls, uint64_t *floats,
		   double *seconds)
{
	if (c == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_stats: c is NULL");
	if (calls)
		*calls = c->calls;
	if (floats)
		*floats = c->floats;
	if (seconds)
		*seconds = c->seconds;
	return LUPI_OK;
}

/* ---- the gradient reduction ------------------------------------------- */

int lupi_mpi_reduce(void *user, float *buf, size_t n)
{
	lupi_mpi *c = user;
	if (c == NULL || (buf == NULL && n > 0))
		return fail(LUPI_EINVAL, "lupi_mpi_reduce: %s is NULL",
			    c == NULL ? "the context (user)" : "buf");
	double t0 = MPI_Wtime();
	for (size_t off = 0; off < n;) {
		size_t part = n - off < (size_t)INT_MAX ? n - off :
							   (size_t)INT_MAX;
		TRY_MPI(MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)part,
				      MPI_FLOAT, MPI_SUM, c->comm),
			"lupi_mpi_reduce: MPI_Allreduce");
		off += part;
	}
	c->seconds += MPI_Wtime() - t0;
	c->calls++;
	c->floats += n;
	/* The mean: one rounding of the sum, and for a power-of-two number
	 * of ranks a multiplication that is exact. */
	if (c->size > 1) {
		float inv = 1.0f / (float)c->size;
		for (size_t i = 0; i < n; i++)
			buf[i] *= inv;
	}
	return LUPI_OK;
}

int lupi_mpi_attach(lupi_mpi *c, lupi_model *m)
{
	if (c == NULL || m == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_attach: %s is NULL",
			    c == NULL ? "c" : "m");
	int rc = lupi_model_set_reduce(m, lupi_mpi_reduce, c);
	return rc < 0 ? fail_lupi(rc, "lupi_mpi_attach") : LUPI_OK;
}

/* ---- the same model everywhere ---------------------------------------- */

/* Every rank agrees on a flag: the minimum over ranks. */
static int all_ok(lupi_mpi *c, int ok, int *all)
{
	TRY_MPI(MPI_Allreduce(&ok, all, 1, MPI_INT, MPI_MIN, c->comm),
		"MPI_Allreduce");
	return LUPI_OK;
}

/* Broadcasts size bytes in pieces MPI counts can hold. */
static int bcast_bytes(lupi_mpi *c, void *x, size_t size, int root)
{
	for (size_t off = 0; off < size;) {
		size_t part = size - off < (size_t)INT_MAX ? size - off :
							     (size_t)INT_MAX;
		TRY_MPI(MPI_Bcast((char *)x + off, (int)part, MPI_BYTE, root,
				  c->comm), "MPI_Bcast");
		off += part;
	}
	return LUPI_OK;
}

int lupi_mpi_bcast_model(lupi_mpi *c, lupi_model *m, int root)
{
	errmsg[0] = '\0';
	if (c == NULL || m == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_bcast_model: %s is NULL",
			    c == NULL ? "c" : "m");
	if (root < 0 || root >= c->size)
		return fail(LUPI_EINVAL, "lupi_mpi_bcast_model: root %d, the "
			    "communicator has ranks 0..%d", root, c->size - 1);
	/* Every rank agrees on the shapes before the large messages. Root's
	 * model is initialised when lupi_model_save_memory accepts it. */
	size_t np = lupi_model_num_params(m), nin = lupi_model_inputs(m);
	float *mean = malloc((nin ? nin : 1) * 2 * sizeof *mean);
	float *params = malloc((np ? np : 1) * sizeof *params);
	int ok = mean != NULL && params != NULL;
	int has_std = 0, init_ok = 1;
	if (ok && c->rank == root) {
		void *probe = NULL;
		size_t len = 0;
		init_ok = lupi_model_save_memory(m, &probe, &len) == LUPI_OK;
		lupi_free(probe);
		if (init_ok)
			lupi_model_get_params(m, params, np);
		has_std = lupi_model_get_standardizer(m, mean, mean + nin) ==
			  LUPI_OK;
	}
	unsigned long long mine[2] = {np, nin}, lo[2], hi[2];
	int rc = all_ok(c, ok, &ok);
	if (rc == LUPI_OK)
		rc = (MPI_Allreduce(mine, lo, 2, MPI_UNSIGNED_LONG_LONG,
				    MPI_MIN, c->comm) == MPI_SUCCESS &&
		      MPI_Allreduce(mine, hi, 2, MPI_UNSIGNED_LONG_LONG,
				    MPI_MAX, c->comm) == MPI_SUCCESS) ?
			     LUPI_OK :
			     fail(LUPI_EIO, "lupi_mpi_bcast_model: "
				  "MPI_Allreduce failed");
	int flags[2] = {init_ok, has_std};
	if (rc == LUPI_OK)
		rc = MPI_Bcast(flags, 2, MPI_INT, root, c->comm) ==
				     MPI_SUCCESS ?
			     LUPI_OK :
			     fail(LUPI_EIO, "lupi_mpi_bcast_model: "
				  "MPI_Bcast failed");
	if (rc == LUPI_OK && !ok)
		rc = fail(LUPI_ENOMEM, "lupi_mpi_bcast_model: out of memory "
			  "on a rank");
	if (rc == LUPI_OK && (lo[0] != hi[0] || lo[1] != hi[1]))
		rc = fail(LUPI_ESHAPE, "lupi_mpi_bcast_model: the ranks' "
			  "models have %llu..%llu parameters and %llu..%llu "
			  "inputs", lo[0], hi[0], lo[1], hi[1]);
	if (rc == LUPI_OK && !flags[0])
		rc = fail(LUPI_ESTATE, "lupi_mpi_bcast_model: the model of "
			  "root %d is not initialised", root);
	if (rc == LUPI_OK)
		rc = bcast_bytes(c, params, np * sizeof *params, root);
	if (rc == LUPI_OK && flags[1])
		rc = bcast_bytes(c, mean, 2 * nin * sizeof *mean, root);
	if (rc == LUPI_OK && c->rank != root) {
		int r = lupi_model_set_params(m, params, np);
		if (r == LUPI_OK && flags[1])
			r = lupi_model_set_standardizer(m, mean, mean + nin);
		if (r < 0)
			rc = fail_lupi(r, "lupi_mpi_bcast_model");
	}
	free(mean);
	free(params);
	return rc;
}

/* ---- a dataset from root --------------------------------------------- */

/* What every rank learns before the arrays: root's shapes, or ok 0. */
enum { H_OK, H_N, H_D, H_DP, H_TASK, H_K, H_MASK, H_WEIGHTS, H_COUNT };

static void *alloc_n(size_t n, size_t size)
{
	return n != 0 && n <= SIZE_MAX / size ? malloc(n * size) : NULL;
}

int lupi_mpi_bcast_dataset(lupi_mpi *c, const lupi_dataset *ds, int root,
			   lupi_dataset **out)
{
	errmsg[0] = '\0';
	if (out)
		*out = NULL;
	if (c == NULL || out == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_bcast_dataset: %s is NULL",
			    c == NULL ? "c" : "out");
	if (root < 0 || root >= c->size)
		return fail(LUPI_EINVAL, "lupi_mpi_bcast_dataset: root %d, the "
			    "communicator has ranks 0..%d", root, c->size - 1);
	unsigned long long h[H_COUNT] = {0};
	if (c->rank == root && ds != NULL) {
		h[H_OK] = 1;
		h[H_N] = lupi_dataset_rows(ds);
		h[H_D] = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR);
		h[H_DP] = lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED);
		h[H_TASK] = (unsigned long long)lupi_dataset_task(ds);
		h[H_K] = lupi_dataset_outputs(ds);
		h[H_MASK] = lupi_dataset_mask(ds) != NULL;
		h[H_WEIGHTS] = lupi_dataset_weights(ds) != NULL;
	}
	TRY_MPI(MPI_Bcast(h, H_COUNT, MPI_UNSIGNED_LONG_LONG, root, c->comm),
		"lupi_mpi_bcast_dataset: MPI_Bcast");
	if (!h[H_OK])
		return fail(LUPI_ESTATE, "lupi_mpi_bcast_dataset: root %d has "
			    "no dataset", root);
	size_t n = (size_t)h[H_N], d = (size_t)h[H_D], dp = (size_t)h[H_DP];
	size_t k = (size_t)h[H_K];
	int task = (int)h[H_TASK];
	size_t ny = task == LUPI_TASK_REGRESSION ? n * k :
		    task == LUPI_TASK_NONE ? 0 : n;
	/* root sends its own arrays; the others receive into their own */
	int own = c->rank != root;
	float *x = own ? alloc_n(n * d, sizeof *x) :
			 (float *)lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	float *xp = !dp ? NULL : own ? alloc_n(n * dp, sizeof *xp) :
		(float *)lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	uint8_t *mask = !h[H_MASK] ? NULL : own ? alloc_n(n, 1) :
			(uint8_t *)lupi_dataset_mask(ds);
	void *y = !ny ? NULL : own ? alloc_n(ny, 4) :
		  task == LUPI_TASK_REGRESSION ?
		  (void *)lupi_dataset_targets(ds) :
		  (void *)lupi_dataset_labels(ds);
	float *w = !h[H_WEIGHTS] ? NULL : own ? alloc_n(n, sizeof *w) :
		   (float *)lupi_dataset_weights(ds);
	int ok = x && (xp || !dp) && (mask || !h[H_MASK]) && (y || !ny) &&
		 (w || !h[H_WEIGHTS]);
	int rc = all_ok(c, ok, &ok);
	if (rc == LUPI_OK && !ok)
		rc = fail(LUPI_ENOMEM, "lupi_mpi_bcast_dataset: out of memory "
			  "on a rank for %zu samples", n);
	if (rc == LUPI_OK)
		rc = bcast_bytes(c, x, n * d * sizeof *x, root);
	if (rc == LUPI_OK && dp)
		rc = bcast_bytes(c, xp, n * dp * sizeof *xp, root);
	if (rc == LUPI_OK && mask)
		rc = bcast_bytes(c, mask, n, root);
	if (rc == LUPI_OK && ny)
		rc = bcast_bytes(c, y, ny * 4, root);
	if (rc == LUPI_OK && w)
		rc = bcast_bytes(c, w, n * sizeof *w, root);
	lupi_dataset *nd = NULL;
	int r = LUPI_OK;
	if (rc == LUPI_OK && own) {
		r = lupi_dataset_create(n, d, x, &nd);
		if (r == LUPI_OK && dp)
			r = lupi_dataset_set_privileged(nd, dp, xp, mask);
		if (r == LUPI_OK && task == LUPI_TASK_CLASSIFICATION)
			r = lupi_dataset_set_labels(nd, k, y);
		else if (r == LUPI_OK && task == LUPI_TASK_BINARY)
			r = lupi_dataset_set_binary_labels(nd, y);
		else if (r == LUPI_OK && task == LUPI_TASK_REGRESSION)
			r = lupi_dataset_set_targets(nd, k, y);
		if (r == LUPI_OK && w)
			r = lupi_dataset_set_weights(nd, w);
	} else if (rc == LUPI_OK) {
		/* root: a copy of its own, all samples in order */
		size_t *idx = alloc_n(n, sizeof *idx);
		for (size_t i = 0; idx && i < n; i++)
			idx[i] = i;
		if (idx == NULL)
			rc = fail(LUPI_ENOMEM, "lupi_mpi_bcast_dataset: out of "
				  "memory");
		else
			r = lupi_dataset_subset(ds, idx, n, &nd);
		free(idx);
	}
	if (own) {
		free(x);
		free(xp);
		free(mask);
		free(y);
		free(w);
	}
	if (rc == LUPI_OK && r < 0) {
		lupi_dataset_free(nd);
		nd = NULL;
		rc = fail_lupi(r, "lupi_mpi_bcast_dataset");
	}
	*out = nd;
	return rc;
}

/* ---- shards ----------------------------------------------------------- */

int lupi_mpi_shard(const lupi_mpi *c, const lupi_dataset *ds,
		   lupi_dataset **out)
{
	errmsg[0] = '\0';
	if (out)
		*out = NULL;
	if (c == NULL || ds == NULL || out == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_shard: an argument is NULL");
	size_t n = lupi_dataset_rows(ds), p = (size_t)c->size;
	size_t per = n / p;
	if (per == 0)
		return fail(LUPI_ERANGE, "lupi_mpi_shard: %zu samples for %zu "
			    "ranks", n, p);
	size_t *idx = malloc(per * sizeof *idx);
	if (idx == NULL)
		return fail(LUPI_ENOMEM, "lupi_mpi_shard: out of memory");
	for (size_t j = 0; j < per; j++)
		idx[j] = j * p + (size_t)c->rank;
	int rc = lupi_dataset_subset(ds, idx, per, out);
	free(idx);
	return rc < 0 ? fail_lupi(rc, "lupi_mpi_shard") : LUPI_OK;
}

/* ---- teacher outputs in parallel -------------------------------------- */

/* Rows [first, first + count) of rank r: n split in contiguous blocks. */
static void block(size_t n, int size, int r, size_t *first, size_t *count)
{
	size_t p = (size_t)size, q = n / p, extra = n % p, rr = (size_t)r;
	*first = rr * q + (rr < extra ? rr : extra);
	*count = q + (rr < extra);
}

int lupi_mpi_teacher_outputs(lupi_mpi *c, const lupi_teacher *t,
			     const lupi_dataset *ds, float *out,
			     uint8_t *has_output)
{
	errmsg[0] = '\0';
	if (c == NULL || t == NULL || ds == NULL || out == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_teacher_outputs: an "
			    "argument is NULL");
	size_t n = lupi_dataset_rows(ds), k = lupi_teacher_num_outputs(t);
	if (k == 0 || n * k / k != n || n * k > (size_t)INT_MAX)
		return fail(k == 0 ? LUPI_ESTATE : LUPI_ERANGE,
			    "lupi_mpi_teacher_outputs: %zu rows of %zu "
			    "outputs", n, k);
	size_t first, count;
	block(n, c->size, c->rank, &first, &count);
	size_t *idx = malloc((count ? count : 1) * sizeof *idx);
	uint8_t *has = malloc(n ? n : 1);
	int *cnt = malloc((size_t)c->size * 4 * sizeof *cnt);
	int rc = idx && has && cnt ? LUPI_OK :
		fail(LUPI_ENOMEM, "lupi_mpi_teacher_outputs: out of memory");
	if (rc == LUPI_OK && count > 0) {
		for (size_t i = 0; i < count; i++)
			idx[i] = first + i;
		int r = lupi_teacher_outputs(t, ds, idx, count,
					     out + first * k, has + first);
		if (r < 0)
			rc = fail_lupi(r, "lupi_mpi_teacher_outputs");
	}
	/* every rank learns whether every rank succeeded */
	int ok = rc == LUPI_OK, all = 0;
	int arc = all_ok(c, ok, &all);
	if (rc == LUPI_OK && arc < 0)
		rc = arc;
	if (rc == LUPI_OK && !all)
		rc = fail(LUPI_EIO, "lupi_mpi_teacher_outputs: another rank "
			  "failed");
	if (rc == LUPI_OK) {
		int *fc = cnt, *fd = cnt + c->size, *bc = cnt + 2 * c->size,
		    *bd = cnt + 3 * c->size;
		for (int r = 0; r < c->size; r++) {
			size_t f, nr;
			block(n, c->size, r, &f, &nr);
			fc[r] = (int)(nr * k);
			fd[r] = (int)(f * k);
			bc[r] = (int)nr;
			bd[r] = (int)f;
		}
		if (MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, out, fc,
				   fd, MPI_FLOAT, c->comm) != MPI_SUCCESS ||
		    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, has, bc,
				   bd, MPI_UINT8_T, c->comm) != MPI_SUCCESS)
			rc = fail(LUPI_EIO, "lupi_mpi_teacher_outputs: "
				  "MPI_Allgatherv failed");
	}
	if (rc == LUPI_OK && has_output)
		memcpy(has_output, has, n);
	free(idx);
	free(has);
	free(cnt);
	return rc;
}

/* ---- cross-fitting and comparisons in parallel ------------------------- */

/* Every rank's status: a failure anywhere fails every rank, with the
 * failing rank's own message there and "another rank failed" elsewhere. */
static int agree(lupi_mpi *c, int rc, const char *where)
{
	int ok = rc == LUPI_OK, all = 0;
	int arc = all_ok(c, ok, &all);
	if (rc != LUPI_OK)
		return rc;
	if (arc != LUPI_OK)
		return arc;
	return all ? LUPI_OK :
		fail(LUPI_EIO, "%s: another rank failed", where);
}

/* OR of the bits of every rank's buffer: each element is non-zero on one
 * rank at most, so every rank gets it exactly (a sum would turn -0.0 into
 * +0.0). */
static int bor_all(lupi_mpi *c, void *buf, size_t n, MPI_Datatype type,
		   size_t size, const char *where)
{
	for (size_t off = 0; off < n;) {
		size_t part = n - off < (size_t)INT_MAX ? n - off :
							   (size_t)INT_MAX;
		TRY_MPI(MPI_Allreduce(MPI_IN_PLACE, (char *)buf + off * size,
				      (int)part, type, MPI_BOR, c->comm),
			where);
		off += part;
	}
	return LUPI_OK;
}

int lupi_mpi_teacher_crossfit(lupi_mpi *c, const lupi_model *proto,
			      const lupi_dataset *ds, unsigned k_folds,
			      uint64_t seed, lupi_teacher **out)
{
	errmsg[0] = '\0';
	if (out)
		*out = NULL;
	if (c == NULL || proto == NULL || ds == NULL || out == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_teacher_crossfit: an "
			    "argument is NULL");
	size_t n = lupi_dataset_rows(ds), k = lupi_model_outputs(proto);
	float *z = n && k && n <= SIZE_MAX / k / sizeof *z ?
		   calloc(n * k, sizeof *z) : NULL;
	uint8_t *in = n ? calloc(n, 1) : NULL;
	int rc = z && in ? LUPI_OK :
		fail(LUPI_ENOMEM, "lupi_mpi_teacher_crossfit: %zu rows of %zu "
		     "outputs", n, k);
	/* ranks without a fold check it too; rank 0 (fold 0) checks the rest */
	if (rc == LUPI_OK && (k_folds < 2 || k_folds > n))
		rc = fail(LUPI_ERANGE, "lupi_mpi_teacher_crossfit: k_folds %u: "
			  "must be in [2, %zu]", k_folds, n);
	/* fold f on rank f mod size */
	for (unsigned f = (unsigned)c->rank; rc == LUPI_OK && f < k_folds;
	     f += (unsigned)c->size) {
		int r = lupi_teacher_crossfit_fold(proto, ds, k_folds, seed, f,
						   z, in);
		if (r < 0)
			rc = fail_lupi(r, "lupi_mpi_teacher_crossfit");
	}
	rc = agree(c, rc, "lupi_mpi_teacher_crossfit");
	if (rc == LUPI_OK)
		rc = bor_all(c, z, n * k, MPI_UINT32_T, sizeof *z,
			     "lupi_mpi_teacher_crossfit: MPI_Allreduce");
	if (rc == LUPI_OK)
		rc = bor_all(c, in, n, MPI_UINT8_T, 1,
			     "lupi_mpi_teacher_crossfit: MPI_Allreduce");
	lupi_teacher *t = NULL;
	if (rc == LUPI_OK) {
		int r = lupi_teacher_create(&t);
		if (r == LUPI_OK)
			r = lupi_teacher_add_outputs_masked(t, ds, z, in, k,
							    1.0);
		if (r < 0) {
			lupi_teacher_free(t);
			t = NULL;
			rc = fail_lupi(r, "lupi_mpi_teacher_crossfit");
		}
	}
	free(z);
	free(in);
	*out = t;
	return rc;
}

/* The share (lupi_compare_set_share) that owns cell `cell` of C. */
static int owner(size_t cell, size_t cells, int size)
{
	/* share i holds [floor(i C / p), floor((i + 1) C / p)) */
	int i = (int)((uint64_t)cell * (uint64_t)size / cells);
	while (i + 1 < size &&
	       (uint64_t)cells * (uint64_t)(i + 1) / (uint64_t)size <= cell)
		i++;
	while (i > 0 && (uint64_t)cells * (uint64_t)i / (uint64_t)size > cell)
		i--;
	return i;
}

int lupi_mpi_compare_run(lupi_mpi *c, lupi_compare *cmp,
			 const lupi_dataset *train, const lupi_dataset *test,
			 lupi_progress_fn progress, void *user)
{
	errmsg[0] = '\0';
	if (c == NULL || cmp == NULL)
		return fail(LUPI_EINVAL, "lupi_mpi_compare_run: %s is NULL",
			    c == NULL ? "c" : "cmp");
	int rc = lupi_compare_set_share(cmp, (unsigned)c->rank,
					(unsigned)c->size);
	if (rc == LUPI_OK)
		rc = lupi_compare_run(cmp, train, test, progress, user);
	lupi_compare_set_share(cmp, 0, 1);
	if (rc < 0)
		rc = fail_lupi(rc, "lupi_mpi_compare_run");
	rc = agree(c, rc, "lupi_mpi_compare_run");
	if (rc != LUPI_OK)
		return rc;
	size_t rows = lupi_compare_rows(cmp);
	unsigned reps = lupi_compare_repeats(cmp);
	size_t cells = (size_t)reps * (rows - 1);
	double *v = calloc(rows * reps, sizeof *v);
	rc = v ? LUPI_OK : fail(LUPI_ENOMEM, "lupi_mpi_compare_run: out of "
				"memory");
	rc = agree(c, rc, "lupi_mpi_compare_run");
	/* each value from the rank that computed it; the baseline of a
	   repetition from the owner of its teacher's cell */
	for (size_t row = 0; rc == LUPI_OK && row < rows; row++)
		for (unsigned r = 0; r < reps; r++) {
			size_t cell = (size_t)r * (rows - 1) +
				      (row ? row - 1 : 0);
			if (owner(cell, cells, c->size) == c->rank)
				lupi_compare_value(cmp, row, r,
						   &v[row * reps + r]);
		}
	if (rc == LUPI_OK)
		rc = bor_all(c, v, rows * reps, MPI_UINT64_T, sizeof *v,
			     "lupi_mpi_compare_run: MPI_Allreduce");
	for (size_t row = 0; rc == LUPI_OK && row < rows; row++)
		for (unsigned r = 0; r < reps; r++)
			lupi_compare_set_value(cmp, row, r, v[row * reps + r]);
	free(v);
	return rc;
}
