/* Reader of tests/data/distill/golden.txt (written by make_golden.py from
 * PyTorch): blocks "case NAME", then lines "key v1 v2 ...", then "end". */
#ifndef LUPI_TEST_GOLDEN_H
#define LUPI_TEST_GOLDEN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distill/distill_internal.h"

#define GOLDEN_MAX 32

typedef struct golden_arr {
	char key[16];
	double *v;
	size_t n;
} golden_arr;

typedef struct golden {
	char name[64];
	golden_arr a[GOLDEN_MAX];
	size_t na;
} golden;

static inline FILE *golden_open(void)
{
	const char *dir = getenv("LUPI_TEST_DATA");
	char path[4096];
	snprintf(path, sizeof path, "%s/distill/golden.txt",
		 dir ? dir : "tests/data");
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		abort();
	}
	return f;
}

static inline void golden_clear(golden *g)
{
	for (size_t i = 0; i < g->na; i++)
		free(g->a[i].v);
	memset(g, 0, sizeof *g);
}

static inline void golden_add(golden *g, char *line)
{
	char *save, *tok = strtok_r(line, " \t\n", &save);
	if (tok == NULL || g->na == GOLDEN_MAX)
		abort();
	golden_arr *a = &g->a[g->na++];
	snprintf(a->key, sizeof a->key, "%s", tok);
	size_t cap = 16;
	a->v = malloc(cap * sizeof *a->v);
	while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL) {
		if (a->n == cap)
			a->v = realloc(a->v, (cap *= 2) * sizeof *a->v);
		a->v[a->n++] = strtod(tok, NULL);
	}
}

/* Reads the next case; 1, or 0 at the end of the file. */
static inline int golden_next(FILE *f, golden *g)
{
	static char line[1 << 16];
	golden_clear(g);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (strncmp(line, "case ", 5) == 0) {
			sscanf(line + 5, "%63s", g->name);
			continue;
		}
		if (strncmp(line, "end", 3) == 0)
			return 1;
		golden_add(g, line);
	}
	return 0;
}

static inline const double *golden_get(const golden *g, const char *key,
				       size_t *n)
{
	for (size_t i = 0; i < g->na; i++) {
		if (strcmp(g->a[i].key, key) == 0) {
			if (n)
				*n = g->a[i].n;
			return g->a[i].v;
		}
	}
	return NULL;
}

static inline size_t golden_size(const golden *g, const char *key)
{
	const double *v = golden_get(g, key, NULL);
	return v ? (size_t)v[0] : 0;
}

/* Copies array key as floats (NULL when absent; free the result). */
static inline float *golden_floats(const golden *g, const char *key)
{
	size_t n;
	const double *v = golden_get(g, key, &n);
	if (v == NULL)
		return NULL;
	float *f = malloc((n ? n : 1) * sizeof *f);
	for (size_t i = 0; i < n; i++)
		f[i] = (float)v[i];
	return f;
}

/* Creates the case's loss with its options (kind or feature, int, double,
 * cols). */
static inline lupi_loss *golden_loss(const golden *g)
{
	size_t n;
	const double *kind = golden_get(g, "kind", NULL);
	const double *feat = golden_get(g, "feature", NULL);
	lupi_loss *l = NULL;
	if (lupi_loss_create(kind ? (int)kind[0] : LUPI_LOSS_HARD, &l) != 0)
		abort();
	if (feat && lupi_loss_set_int(l, LUPI_LOSS_OPT_FEATURE, (int)feat[0]))
		abort();
	for (size_t i = 0; i < g->na; i++) {
		const golden_arr *a = &g->a[i];
		int rc = 0;
		if (strcmp(a->key, "int") == 0)
			rc = lupi_loss_set_int(l, (int)a->v[0],
					       (int64_t)a->v[1]);
		else if (strcmp(a->key, "double") == 0)
			rc = lupi_loss_set_double(l, (int)a->v[0], a->v[1]);
		if (rc != 0)
			abort();
	}
	const double *cols = golden_get(g, "cols", &n);
	if (cols) {
		size_t c[64];
		for (size_t i = 0; i < n; i++)
			c[i] = (size_t)cols[i];
		if (lupi_loss_set_columns(l, c, n) != 0)
			abort();
	}
	return l;
}

#endif
