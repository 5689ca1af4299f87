/* Internal API of lib/svm (SVM+), shared by its files and the tests. Not
 * installed. */
#ifndef LUPI_SVM_INTERNAL_H
#define LUPI_SVM_INTERNAL_H

#include "../train/train_internal.h"

/* ---- kernels and the row cache (cache.c) --------------------------------- */

/* A kernel over the rows of one n x d float matrix (borrowed), with an LRU
 * cache of whole rows (double) bounded by a byte budget. At least two rows
 * are always held, so a budget below that is raised to it. */
typedef struct lupi__kcache {
	const float *x;
	size_t n, d;
	int kind;       /* LUPI_SVM_KERNEL_* */
	double width;   /* RBF: exp(-width * |x - x'|^2) */
	double *sqnorm; /* n squared norms (RBF) */
	size_t slots;   /* rows that fit the budget */
	double *rows;   /* slots * n */
	size_t *owner;  /* slot -> row, or SIZE_MAX */
	size_t *where;  /* row -> slot, or SIZE_MAX */
	uint64_t *used; /* slot -> last use */
	uint64_t clock;
	uint64_t hits, misses;
} lupi__kcache;

int lupi__kcache_init(lupi__kcache *c, const float *x, size_t n, size_t d,
		      int kind, double width, size_t budget_bytes);
void lupi__kcache_free(lupi__kcache *c);
/* Row i (n values), valid until the next call that fetches a row: callers
 * that need two rows at once take them with lupi__kcache_rows. */
const double *lupi__kcache_row(lupi__kcache *c, size_t i);
/* Up to 3 rows held together: rows[m] of idx[m] (the least recently used
 * slots of the others are not evicted while they are fetched). */
void lupi__kcache_rows(lupi__kcache *c, const size_t *idx, size_t k,
		       const double **rows);
/* The kernel of two vectors of dimension d, in double. */
double lupi__kernel(int kind, double width, const float *a, const float *b,
		    size_t d);

/* ---- the model (svmplus.c) ----------------------------------------------- */

typedef struct lupi__svm_opts {
	double c, gamma, width, priv_width, tol;
	int kernel, priv_kernel, plain;
	int64_t max_iter, cache_bytes;
} lupi__svm_opts;

/* A kernel expansion sum_i coef_i K(row_i, x) (+ offset by the caller). */
typedef struct lupi__expansion {
	size_t n, d;
	double *coef; /* n */
	float *rows;  /* n * d */
} lupi__expansion;

/* One binary machine: the SVM+ of one class against the rest (or of
 * class 1 against class 0 for two classes). */
typedef struct lupi__svm_machine {
	/* decision function: sum a_i y_i K(x_i, x) + b over the support
	 * vectors; correcting function: (1/gamma) sum (a_i + b_i - C)
	 * K*(x*_i, x*) + bstar */
	lupi__expansion dec, cor;
	double b, bstar;
	double objective; /* dual objective, maximised */
	double violation; /* largest KKT violation at the end */
	uint64_t iterations;
	/* The last fit's dual variables over its training rows (n each);
	 * NULL after a load. */
	double *alpha, *beta;
} lupi__svm_machine;

#define LUPI__SVM_MAX_CLASSES 65536u

struct lupi_svm {
	lupi__svm_opts opt;
	int fitted;
	size_t k;            /* machines: 1 for two classes, else K */
	lupi__svm_machine *m;
	size_t n_train;
};

extern const lupi__option_table lupi__svm_options;

/* The SVM+ dual solver on raw arrays: y in {-1, +1}. Fills alpha, beta
 * (n each), b, bstar, the objective and the record in s. */
int lupi__svmplus_solve(const lupi__svm_opts *o, const float *x, size_t d,
			const float *xs, size_t ds, const double *y, size_t n,
			double *alpha, double *beta, double *b, double *bstar,
			double *objective, double *violation,
			uint64_t *iterations);

/* The plain C-SVM (PLAIN = 1) by SMO, for the baseline. */
int lupi__csvm_solve(const lupi__svm_opts *o, const float *x, size_t d,
		     const double *y, size_t n, double *alpha, double *b,
		     double *objective, double *violation,
		     uint64_t *iterations);

double lupi__expansion_eval(const lupi__expansion *e, int kind, double width,
			    const float *x);
void lupi__expansion_clear(lupi__expansion *e);

/* ---- files (svm_io.c) ---------------------------------------------------- */

int lupi__svm_serialize(const lupi_svm *s, unsigned char **buf, size_t *size);
void lupi__svm_machine_clear(lupi__svm_machine *m);
int lupi__svm_parse(const unsigned char *buf, size_t size, lupi_svm **out);

#endif
