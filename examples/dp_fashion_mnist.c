/*
 * dp_fashion_mnist: differentially private training with liblupi.
 *
 * Fashion-MNIST, the 28x28 image as features. Trains a non-private MLP,
 * then the same MLP with DP-SGD at several target epsilons (delta 1e-5),
 * and a student on the 7x7 pooled image distilled privately from a
 * teacher that saw the full image of a disjoint public split (the teacher
 * does not depend on the private split, so the student's guarantee holds).
 * Prints test accuracy against epsilon.
 *
 *   dp_fashion_mnist [--n 10000] [--test-n 2000] [--epochs 5]
 *                    [--eps 0.5,1,2,4,8] [--data DIR]
 *
 * Exit status 77 when the data is not installed.
 */
#include <lupi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmnist_load.h"

static void check(int rc, const char *what)
{
	if (rc != LUPI_OK) {
		fprintf(stderr, "dp_fashion_mnist: %s: %s (%s)\n", what,
			lupi_strerror(rc), lupi_errmsg());
		exit(1);
	}
}

static lupi_dataset *load(const char *dir, const char *split, size_t max)
{
	lupi_dataset *ds;
	int rc = fmnist_load(dir, split, (long)max, 4, &ds);
	if (rc == LUPI_EIO) {
		fprintf(stderr, "dp_fashion_mnist: %s (skipped)\n",
			lupi_errmsg());
		exit(77);
	}
	check(rc, "load");
	return ds;
}

/* An MLP on a view; pixels are already in [0, 1], and standardisation
 * fitted on private data would leak (doc/privacy.md), so it is off. */
static lupi_model *mlp(size_t n_in, int view, int epochs, int act)
{
	size_t hidden = 128;
	lupi_model *m;
	check(lupi_model_create(LUPI_TASK_CLASSIFICATION, n_in, &hidden, 1, 10,
				&m), "model");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_VIEW, view), "view");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0), "std");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_ACTIVATION, act), "act");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, epochs), "epochs");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 256), "batch");
	check(lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, 1), "seed");
	return m;
}

static double accuracy(const lupi_model *m, const lupi_dataset *test)
{
	double a;
	check(lupi_model_evaluate(m, test, LUPI_METRIC_ACCURACY, &a), "evaluate");
	return a;
}

static void report(const char *what, const lupi_model *m,
		   const lupi_dataset *test)
{
	double eps, sigma, q;
	uint64_t steps;
	if (lupi_model_privacy(m, &eps, NULL, &steps, &q, &sigma) == LUPI_OK)
		printf("%-28s %8.2f %8.3f %7llu %9.4f\n", what, eps, sigma,
		       (unsigned long long)steps, accuracy(m, test));
	else
		printf("%-28s %8s %8s %7s %9.4f\n", what, "inf", "-", "-",
		       accuracy(m, test));
}

int main(int argc, char **argv)
{
	size_t n = 10000, test_n = 2000;
	int epochs = 5;
	const char *eps_list = "0.5,1,2,4,8";
	const char *dir = "/usr/share/datasets/fashion-mnist";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--n"))
			n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--test-n"))
			test_n = strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--epochs"))
			epochs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--eps"))
			eps_list = argv[i + 1];
		else if (!strcmp(argv[i], "--data"))
			dir = argv[i + 1];
	}
	/* the first n samples are private, the next n public */
	lupi_dataset *all = load(dir, "train", 2 * n);
	lupi_dataset *test = load(dir, "t10k", test_n);
	size_t *idx = malloc(2 * n * sizeof *idx);
	for (size_t i = 0; i < 2 * n; i++)
		idx[i] = i;
	lupi_dataset *priv, *pub;
	check(lupi_dataset_subset(all, idx, n, &priv), "subset");
	check(lupi_dataset_subset(all, idx + n, n, &pub), "subset");
	free(idx);

	printf("%-28s %8s %8s %7s %9s\n", "model (private n)", "epsilon",
	       "sigma", "steps", "accuracy");
	lupi_model *m = mlp(784, LUPI_VIEW_PRIVILEGED, epochs, LUPI_ACT_RELU);
	check(lupi_model_fit(m, priv, NULL, NULL, NULL), "fit");
	report("non-private, relu", m, test);
	lupi_model_free(m);

	lupi_dp *dp;
	check(lupi_dp_create(&dp), "dp");
	check(lupi_dp_set_double(dp, LUPI_DP_OPT_CLIP, 1.0), "clip");
	char *list = strdup(eps_list), *save = NULL;
	for (char *tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		double target = atof(tok);
		char what[64];
		check(lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON, target),
		      "target");
		m = mlp(784, LUPI_VIEW_PRIVILEGED, epochs,
			LUPI_ACT_TEMPERED_SIGMOID);
		check(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 3e-3), "lr");
		check(lupi_model_fit_dp(m, dp, priv, NULL, NULL, NULL), "fit_dp");
		snprintf(what, sizeof what, "DP-SGD, tanh, eps %g", target);
		report(what, m, test);
		lupi_model_free(m);
	}
	free(list);

	/* A public teacher on the full image, a private student on 7x7. */
	lupi_model *tm = mlp(784, LUPI_VIEW_PRIVILEGED, epochs, LUPI_ACT_RELU);
	check(lupi_model_fit(tm, pub, NULL, NULL, NULL), "teacher");
	lupi_teacher *t;
	check(lupi_teacher_create(&t), "teacher");
	check(lupi_teacher_add_model(t, tm, 1.0), "teacher");
	lupi_loss *loss;
	check(lupi_loss_create(LUPI_LOSS_KD, &loss), "loss");
	check(lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE, 4.0), "T");
	check(lupi_dp_set_double(dp, LUPI_DP_OPT_TARGET_EPSILON, 2.0), "target");
	lupi_model *s = mlp(49, LUPI_VIEW_REGULAR, epochs,
			    LUPI_ACT_TEMPERED_SIGMOID);
	check(lupi_model_set_double(s, LUPI_MODEL_OPT_LR, 3e-3), "lr");
	check(lupi_student_fit_dp(s, t, loss, dp, priv, NULL, NULL, NULL),
	      "student_fit_dp");
	report("public teacher (784)", tm, test);
	report("DP student (49), eps 2", s, test);
	lupi_model *h = mlp(49, LUPI_VIEW_REGULAR, epochs,
			    LUPI_ACT_TEMPERED_SIGMOID);
	check(lupi_model_set_double(h, LUPI_MODEL_OPT_LR, 3e-3), "lr");
	check(lupi_model_fit_dp(h, dp, priv, NULL, NULL, NULL), "fit_dp");
	report("DP labels only (49), eps 2", h, test);

	lupi_model_free(h);
	lupi_model_free(s);
	lupi_loss_free(loss);
	lupi_teacher_free(t);
	lupi_model_free(tm);
	lupi_dp_free(dp);
	lupi_dataset_free(priv);
	lupi_dataset_free(pub);
	lupi_dataset_free(test);
	lupi_dataset_free(all);
	return 0;
}
