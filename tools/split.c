/*
 * split.c - random splits of sample indices, stratified by class for
 * labelled data, so that the tool can subset external teacher outputs the
 * same way it subsets the dataset.
 */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

/* splitmix64: a small, well-mixed generator; the tool needs nothing more. */
uint64_t cli_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15u);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
	return z ^ (z >> 31);
}

static void shuffle(size_t *a, size_t n, uint64_t *s)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(cli_rand(s) % i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

static int class_of(const int32_t *labels, size_t i)
{
	return labels ? labels[i] : 0;
}

int cli_split(const lupi_dataset *ds, double second_fraction, uint64_t seed,
	      size_t **first, size_t *n_first, size_t **second,
	      size_t *n_second)
{
	size_t n = lupi_dataset_rows(ds), k = 1, n1 = 0, n2 = 0;
	int task = lupi_dataset_task(ds);
	const int32_t *labels = NULL;
	size_t *order = malloc(n * sizeof(*order));
	size_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
	uint64_t s = seed * 0x2545F4914F6CDD1Du + 1;

	if (!order || !a || !b) {
		free(order);
		free(a);
		free(b);
		return cli_error("out of memory");
	}
	if (task == LUPI_TASK_CLASSIFICATION || task == LUPI_TASK_BINARY) {
		labels = lupi_dataset_labels(ds);
		k = lupi_dataset_outputs(ds);
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n, &s);
	/* each class, in shuffled order, gives round(f * count) to second */
	for (size_t cls = 0; cls < k; cls++) {
		size_t count = 0, taken = 0, want;

		for (size_t i = 0; i < n; i++)
			count += (size_t)class_of(labels, order[i]) == cls;
		want = (size_t)llround(second_fraction * (double)count);
		for (size_t i = 0; i < n; i++) {
			if ((size_t)class_of(labels, order[i]) != cls)
				continue;
			if (taken++ < want)
				b[n2++] = order[i];
			else
				a[n1++] = order[i];
		}
	}
	free(order);
	if (n1 == 0 || n2 == 0) {
		free(a);
		free(b);
		return cli_error("%zu samples are too few to hold out %g of "
				 "them", n, second_fraction);
	}
	shuffle(a, n1, &s);
	shuffle(b, n2, &s);
	*first = a;
	*n_first = n1;
	*second = b;
	*n_second = n2;
	return 0;
}

int cli_split_dataset(const lupi_dataset *ds, double second_fraction,
		      uint64_t seed, lupi_dataset **first,
		      lupi_dataset **second)
{
	size_t *a, *b, na, nb;
	int rc;

	*first = *second = NULL;
	if (cli_split(ds, second_fraction, seed, &a, &na, &b, &nb))
		return CLI_EXIT_ERROR;
	rc = lupi_dataset_subset(ds, a, na, first);
	if (rc == LUPI_OK)
		rc = lupi_dataset_subset(ds, b, nb, second);
	free(a);
	free(b);
	if (rc != LUPI_OK) {
		lupi_dataset_free(*first);
		*first = NULL;
		return cli_fail(rc, NULL);
	}
	return 0;
}

/* A standard normal draw (Box-Muller; one of the pair is discarded). */
double cli_rand_normal(uint64_t *s)
{
	double u = ((double)(cli_rand(s) >> 11) + 0.5) * 0x1p-53;
	double v = (double)(cli_rand(s) >> 11) * 0x1p-53;

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
