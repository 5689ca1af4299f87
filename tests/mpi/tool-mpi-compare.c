/*
 * tool-mpi-compare A.lupi B.lupi DATA.csv FIRST LAST STEPS
 *
 * For tests/mpi/test-tool-mpi.sh: compares the parameters of two softmax
 * regressions (no hidden layer) trained by `lupi-mpi` with plain SGD on
 * the same global batches (shuffled or not), A at one rank and B at
 * several, against the float summation tolerance of tests/mpi/test-mpi.c,
 * with the inputs bounded by what the models see: columns FIRST..LAST
 * (0-based) of the CSV DATA (a header line, numbers only in those
 * columns), standardised with A's stored standardisation, |x_j| <= X.
 *
 * A gradient entry is the mean over the B samples of a global batch of
 * delta_k x_j with |delta_k| <= 1 (softmax or KD with lambda <= 1 and
 * T = 1): one float sum of B terms (one rank) and partial sums added
 * (several) are each within (B - 1) u X of the exact mean (u = 2^-24;
 * Higham, Accuracy and Stability, 4.2), so they differ by at most 2 B u X;
 * the logits, sums of D + 1 terms of size at most Z = X sum |p|, add
 * D u Z X; a rank whose part of a batch is not b / ranks samples
 * (lupi_model_set_share) multiplies its mean by its weight, rounded, and
 * the product is rounded: 2 u X more. A parameter difference feeds back
 * through the Hessian, of norm at most |x|^2 / 2 <= (D X^2 + 1) / 2 = L,
 * so after T steps of rate lr
 * |dp| <= (1 + lr L)^T T lr (2 B + 2 + D Z) u X.
 * Prints both numbers; exit 0 when within, 1 otherwise, 2 on misuse.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lupi.h"

static lupi_model *load(const char *path)
{
	lupi_model *m = NULL;

	if (lupi_model_load(path, &m) != LUPI_OK) {
		fprintf(stderr, "tool-mpi-compare: %s: %s\n", path,
			lupi_errmsg());
		exit(2);
	}
	return m;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fputs("usage: tool-mpi-compare A B DATA.csv FIRST LAST "
		      "STEPS\n", stderr);
		return 2;
	}
	lupi_model *a = load(argv[1]), *b = load(argv[2]);
	size_t np = lupi_model_num_params(a), d = lupi_model_inputs(a);
	int first = atoi(argv[4]), last = atoi(argv[5]);
	double T = atof(argv[6]), lr = 0;
	int64_t batch = 0;
	if (np != lupi_model_num_params(b) || (size_t)(last - first + 1) != d ||
	    lupi_model_get_double(a, LUPI_MODEL_OPT_LR, &lr) != LUPI_OK ||
	    lupi_model_get_int(a, LUPI_MODEL_OPT_BATCH, &batch) != LUPI_OK) {
		fputs("tool-mpi-compare: models of other shapes\n", stderr);
		return 2;
	}
	float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
	float *mean = malloc(d * sizeof *mean), *sd = malloc(d * sizeof *sd);
	if (!pa || !pb || !mean || !sd ||
	    lupi_model_get_params(a, pa, np) != LUPI_OK ||
	    lupi_model_get_params(b, pb, np) != LUPI_OK ||
	    lupi_model_get_standardizer(a, mean, sd) != LUPI_OK)
		return 2;
	/* X: the largest standardised input */
	FILE *f = fopen(argv[3], "r");
	char line[4096];
	double X = 0;
	if (!f || !fgets(line, sizeof line, f))
		return 2;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		for (int col = 0; col <= last && p; col++) {
			if (col >= first) {
				double v = strtod(p, NULL);
				X = fmax(X, fabs((v - mean[col - first]) /
						 sd[col - first]));
			}
			p = strchr(p, ',');
			if (p)
				p++;
		}
	}
	fclose(f);
	X = fmax(X, 1.0);
	double sum = 0, worst = 0;
	for (size_t i = 0; i < np; i++) {
		sum += fabs(pa[i]);
		worst = fmax(worst, fabs((double)pa[i] - pb[i]));
	}
	double u = ldexp(1.0, -24), D = (double)d, B = (double)batch;
	double Z = fmax(1.0, X * sum), L = (D * X * X + 1) / 2;
	double tol = pow(1 + lr * L, T) * T * lr * (2 * B + 2 + D * Z) * u * X;
	printf("max |difference| %g, tolerance %g (X %g, T %g, B %g)\n", worst,
	       tol, X, T, B);
	return worst <= tol ? 0 : 1;
}
