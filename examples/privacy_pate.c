/* PATE, measured: 250 teachers on disjoint shards of a private synthetic
 * set label a public set by Laplace noisy max, GNMax and confident GNMax;
 * a student trained on the answered labels is compared with a
 * non-private model, with epsilon (delta 1e-5) from the data-independent
 * RDP bound (lupi_pate_epsilon) and from the data-dependent one
 * (lupi_pate_epsilon_data_dependent: not itself private, see
 * doc/privacy.md).
 *
 *   privacy_pate [--n N] [--queries Q] [--teachers K] [--epochs E]
 *
 * Uses only lupi.h. The table in doc/privacy.md was made with the
 * defaults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lupi.h"
#include "privacy_common.h"

#define C 10
#define D 32

static float centres[C][D];
static lupi_dataset *blobs(size_t n)
{
	float *x = malloc(n * D * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	for (size_t i = 0; i < n; i++) {
		int c = (int)(uniform() * C);
		for (size_t j = 0; j < D; j++)
			x[i * D + j] = (float)(centres[c][j] + normal());
		y[i] = c;
	}
	lupi_dataset *ds = NULL;
	TRY("dataset", lupi_dataset_create(n, D, x, &ds));
	TRY("labels", lupi_dataset_set_labels(ds, C, y));
	free(x);
	free(y);
	return ds;
}

static lupi_model *model(unsigned epochs)
{
	lupi_model *m = NULL;
	size_t hidden[] = {64};
	TRY("model", lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1,
				       C, &m));
	TRY("epochs", lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs));
	TRY("batch", lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 32));
	TRY("seed", lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 1));
	return m;
}

int main(int argc, char **argv)
{
	size_t n = 25000, q = 1000;
	unsigned k = 250, epochs = 20;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--n"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--queries"))
			q = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--teachers"))
			k = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--epochs"))
			epochs = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	for (size_t c = 0; c < C; c++)
		for (size_t j = 0; j < D; j++)
			centres[c][j] = (float)(0.6 * normal());
	lupi_dataset *priv = blobs(n), *pub = blobs(q), *test = blobs(2000);
	const int32_t *truth = lupi_dataset_labels(pub);

	double acc = 0;
	lupi_model *np = model(epochs);
	TRY("fit", lupi_model_fit(np, priv, NULL, NULL, NULL));
	TRY("eval", lupi_model_evaluate(np, test, LUPI_METRIC_ACCURACY, &acc));
	printf("%zu private samples, %u teachers of %zu, %zu queries; "
	       "non-private model: test accuracy %.3f\n\n",
	       n, k, n / k, q, acc);

	lupi_model *proto = model(epochs);
	lupi_teacher *t = NULL;
	TRY("teachers", lupi_pate_teachers(proto, priv, k, 7, &t, NULL, NULL));
	uint32_t *votes = malloc(q * C * sizeof *votes);
	TRY("votes", lupi_pate_votes(t, pub, votes));

	printf("| aggregation               | answered | label acc | student "
	       "acc | epsilon | eps (data-dep.) |\n");
	printf("|---------------------------|----------|-----------|---------"
	       "----|---------|-----------------|\n");
	static const struct {
		const char *name;
		int mech;
		double noise, sigma1, threshold;
	} runs[] = {
		{"plurality (no noise)", LUPI_PATE_GNMAX, 1e-9, 0, 0},
		{"Laplace b = 20", LUPI_PATE_LAPLACE, 20, 0, 0},
		{"GNMax sigma = 20", LUPI_PATE_GNMAX, 20, 0, 0},
		{"GNMax sigma = 40", LUPI_PATE_GNMAX, 40, 0, 0},
		{"GNMax sigma = 100", LUPI_PATE_GNMAX, 100, 0, 0},
		{"confident 40/150, T = 200", LUPI_PATE_CONFIDENT, 40, 150,
		 200},
		{"confident 20/100, T = 175", LUPI_PATE_CONFIDENT, 20, 100,
		 175},
	};
	int32_t *lab = malloc(q * sizeof *lab);
	for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
		size_t answered = 0, right = 0;
		TRY("aggregate",
		    lupi_pate_aggregate(votes, q, C, runs[r].mech,
					runs[r].noise, runs[r].sigma1,
					runs[r].threshold, 11 + r, lab,
					&answered));
		for (size_t i = 0; i < q; i++)
			right += lab[i] == truth[i];
		lupi_model *st = model(epochs);
		/* the student records what its labels cost (the
		 * data-independent bound, as lupi_pate_epsilon below) */
		TRY("student", lupi_pate_fit_student(st, pub, lab, NULL,
						     runs[r].mech,
						     runs[r].noise,
						     runs[r].sigma1,
						     runs[r].threshold, 1e-5,
						     NULL, NULL));
		TRY("eval", lupi_model_evaluate(st, test, LUPI_METRIC_ACCURACY,
						&acc));
		double eps = INFINITY, dd = INFINITY;
		if (r > 0)
			TRY("epsilon",
			    lupi_pate_epsilon(runs[r].mech, runs[r].noise,
					      runs[r].sigma1, q, answered,
					      1e-5, &eps));
		if (r > 0 && runs[r].mech != LUPI_PATE_LAPLACE)
			TRY("data-dependent epsilon",
			    lupi_pate_epsilon_data_dependent(
				    votes, q, C, lab, runs[r].mech,
				    runs[r].noise, runs[r].sigma1,
				    runs[r].threshold, 1e-5, &dd));
		char dds[32] = "-";
		if (r == 0 || runs[r].mech != LUPI_PATE_LAPLACE)
			snprintf(dds, sizeof dds, "%.2f", dd);
		printf("| %-25s | %8zu | %9.3f | %11.3f | %7.2f | %15s |\n",
		       runs[r].name, answered,
		       answered ? (double)right / (double)answered : 0.0, acc,
		       eps, dds);
		lupi_model_free(st);
	}
	printf("\nlabel acc: answered labels that match the truth; epsilon: "
	       "data-independent RDP bound, delta 1e-5; eps (data-dep.): "
	       "the data-dependent bound of the same queries (it depends on "
	       "the votes: not private to publish).\n");
	free(lab);
	free(votes);
	lupi_teacher_free(t);
	lupi_model_free(proto);
	lupi_model_free(np);
	lupi_dataset_free(priv);
	lupi_dataset_free(pub);
	lupi_dataset_free(test);
	return 0;
}
