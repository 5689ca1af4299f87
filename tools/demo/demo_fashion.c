/*
 * demo_fashion.c - `lupi demo --fashion-mnist`: the Fashion-MNIST images
 * (Xiao, Rasul & Vollgraf 2017) from /usr/share/datasets/fashion-mnist;
 * X* is the 28x28 image, X the 7x7 image of 4x4 block means. Teacher
 * 784-256-10, students 49-256-10, one (lambda, T) fixed in advance.
 */
#include <stdio.h>
#include <unistd.h>

#include "demo.h"

#define DIR "/usr/share/datasets/fashion-mnist/"
#define POOL 4
#define EPOCHS 5
#define HIDDEN 256
#define REPEATS 1 /* without --seeds: a repetition takes minutes */

static int load(const char *images, const char *labels, lupi_dataset **out)
{
	lupi_reader *r = NULL;
	int rc = lupi_reader_create(&r);

	if (rc == LUPI_OK)
		rc = lupi_reader_set_int(r, LUPI_READER_OPT_IDX_POOL, POOL);
	if (rc == LUPI_OK)
		rc = lupi_dataset_load_idx(images, labels, r, out);
	lupi_reader_free(r);
	return rc == LUPI_OK ? 0 : cli_fail(rc, images);
}

/* The recipe of the benchmark: batch 128 and Adam at 1e-3. */
static const struct demo_net NET = {HIDDEN, 10, EPOCHS, 128, 1e-3};

int demo_fashion(const struct cli *c, struct cli_json *j)
{
	lupi_dataset *train = NULL, *test = NULL;
	lupi_compare *cmp = NULL;
	struct cli_progress prog;
	struct demo_result res = {.name = {"teacher, 784-256-10 on X* (28x28)",
				   "student, 49-256-10 on X (7x7), labels only",
				   "student, 49-256-10 on X (7x7), distilled"}};
	double lambda = 0.5, temp = 4;
	int rc = CLI_EXIT_ERROR;

	if (access(DIR "train-images-idx3-ubyte.gz", R_OK) != 0)
		return cli_error("Fashion-MNIST is not installed: "
				 DIR " is missing (Debian package "
				 "dataset-fashion-mnist)");
	if (load(DIR "train-images-idx3-ubyte.gz",
		 DIR "train-labels-idx1-ubyte.gz", &train) ||
	    load(DIR "t10k-images-idx3-ubyte.gz",
		 DIR "t10k-labels-idx1-ubyte.gz", &test))
		goto out;
	if (!j)
		printf("Fashion-MNIST: %zu train, %zu test images; X* = 28x28, "
		       "X = 7x7 block means;\n  lambda %g, T %g fixed in "
		       "advance, %d epochs\n", lupi_dataset_rows(train),
		       lupi_dataset_rows(test), lambda, temp, EPOCHS);
	rc = demo_compare(c, &NET, lupi_dataset_dim(train, LUPI_VIEW_PRIVILEGED),
			  lupi_dataset_dim(train, LUPI_VIEW_REGULAR), NULL,
			  &lambda, 1, &temp, 1, &cmp);
	if (rc == LUPI_OK)
		rc = lupi_compare_set_int(cmp, LUPI_COMPARE_OPT_REPEATS,
					  demo_repeats(c, REPEATS));
	cli_progress_init(&prog, c, "fashion", lupi_dataset_rows(train));
	if (rc == LUPI_OK)
		rc = lupi_compare_run(cmp, train, test, cli_progress_models_fn,
				      &prog);
	cli_progress_done(&prog);
	if (rc != LUPI_OK) {
		rc = cli_fail(rc, "fashion-mnist");
		goto out;
	}
	rc = demo_from_compare(cmp, &res);
	if (rc == 0)
		demo_print(j, "fashion_mnist", &res);
out:
	lupi_compare_free(cmp);
	lupi_dataset_free(test);
	lupi_dataset_free(train);
	return rc;
}
