/* The dataset handle: creation, setters and their errors, accessors, subsets,
 * splits, shuffles and standardisation. */
#include <math.h>

#include "data/data_internal.h"
#include "testutil.h"

#define ck_assert_msg_has(sub) \
	ck_assert_msg(strstr(lupi_errmsg(), (sub)) != NULL, \
		      "message '%s' lacks '%s'", lupi_errmsg(), (sub))

/* n x d with x[i][j] = 10 i + j. */
static lupi_dataset *make(size_t n, size_t d)
{
	float *x = malloc(n * d * sizeof *x);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = (float)(10 * i + j);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, d, x, &ds), LUPI_OK);
	free(x);
	return ds;
}

START_TEST(create_copies_and_reports)
{
	float x[6] = {1, 2, 3, 4, 5, 6};
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(3, 2, x, &ds), LUPI_OK);
	x[0] = 99; /* copied, not borrowed */
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_REGULAR), 2);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_BOTH), 0);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_NONE);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 0);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 0);
	const float *f = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	ck_assert_float_eq(f[0], 1);
	ck_assert_float_eq(f[5], 6);
	ck_assert_ptr_null(lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED));
	ck_assert_ptr_null(lupi_dataset_features(ds, LUPI_VIEW_BOTH));
	ck_assert_ptr_null(lupi_dataset_mask(ds));
	ck_assert_ptr_null(lupi_dataset_labels(ds));
	ck_assert_ptr_null(lupi_dataset_targets(ds));
	ck_assert_ptr_null(lupi_dataset_weights(ds));
	lupi_dataset_free(ds);
	lupi_dataset_free(NULL);
}
END_TEST

START_TEST(create_errors)
{
	float x[4] = {1, 2, 3, 4};
	lupi_dataset *ds = (lupi_dataset *)x;
	ck_assert_int_eq(lupi_dataset_create(2, 2, NULL, &ds), LUPI_EINVAL);
	ck_assert_ptr_null(ds);
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_create(0, 2, x, &ds), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_create(2, 0, x, &ds), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_create(SIZE_MAX / 2, 4, x, &ds),
			 LUPI_ENOMEM);
	x[3] = NAN;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, &ds), LUPI_ENONFINITE);
	ck_assert_msg_has("sample 1, feature 1");
	x[3] = 4;
	x[0] = INFINITY;
	ck_assert_int_eq(lupi_dataset_create(2, 2, x, &ds), LUPI_ENONFINITE);
	ck_assert_msg_has("sample 0, feature 0");
	ck_assert_ptr_null(ds);
}
END_TEST

START_TEST(accessors_on_null)
{
	ck_assert_uint_eq(lupi_dataset_rows(NULL), 0);
	ck_assert_uint_eq(lupi_dataset_dim(NULL, LUPI_VIEW_REGULAR), 0);
	ck_assert_int_eq(lupi_dataset_task(NULL), LUPI_TASK_NONE);
	ck_assert_uint_eq(lupi_dataset_outputs(NULL), 0);
	ck_assert_uint_eq(lupi_dataset_privileged_count(NULL), 0);
	ck_assert_ptr_null(lupi_dataset_features(NULL, LUPI_VIEW_REGULAR));
	ck_assert_ptr_null(lupi_dataset_mask(NULL));
	ck_assert_ptr_null(lupi_dataset_labels(NULL));
	ck_assert_ptr_null(lupi_dataset_targets(NULL));
	ck_assert_ptr_null(lupi_dataset_weights(NULL));
}
END_TEST

START_TEST(ids_are_unique)
{
	lupi_dataset *a = make(2, 1), *b = make(2, 1);
	ck_assert_uint_ne(a->id, b->id);
	ck_assert_uint_ne(lupi__dataset_new_id(), lupi__dataset_new_id());
	uint64_t old = a->id;
	ck_assert_int_eq(lupi_dataset_shuffle(a, 1), LUPI_OK);
	ck_assert_uint_ne(a->id, old);
	lupi_dataset_free(a);
	lupi_dataset_free(b);
}
END_TEST

START_TEST(privileged_with_mask)
{
	lupi_dataset *ds = make(3, 2);
	float xp[9] = {1, 2, 3, NAN, NAN, NAN, 7, 8, 9};
	uint8_t mask[3] = {1, 0, 5};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 3, xp, mask),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 3);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_BOTH), 5);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 2);
	const uint8_t *m = lupi_dataset_mask(ds);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m[0], 1);
	ck_assert_uint_eq(m[1], 0);
	ck_assert_uint_eq(m[2], 1);
	const float *f = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	ck_assert_float_eq(f[6], 7);
	ck_assert_float_eq(f[3], 0); /* absent rows are zeroed */
	ck_assert(lupi__dataset_has_priv(ds, 0));
	ck_assert(!lupi__dataset_has_priv(ds, 1));

	float row[5];
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_BOTH, 2, row), 1);
	ck_assert_float_eq(row[0], 20);
	ck_assert_float_eq(row[1], 21);
	ck_assert_float_eq(row[2], 7);
	ck_assert_float_eq(row[4], 9);
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_BOTH, 1, row), 0);
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_PRIVILEGED, 1, row),
			 0);
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_REGULAR, 1, row), 1);
	ck_assert_float_eq(row[1], 11);
	ck_assert_uint_eq(lupi__dataset_view_dim(ds, 7), 0);

	/* All present: the mask is dropped. Replacing keeps n_priv right. */
	uint8_t all[3] = {1, 1, 1};
	xp[3] = xp[4] = xp[5] = 0;
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 3, xp, all), LUPI_OK);
	ck_assert_ptr_null(lupi_dataset_mask(ds));
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, NULL),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 1);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(privileged_errors)
{
	lupi_dataset *ds = make(2, 1);
	float xp[4] = {1, 2, 3, INFINITY};
	ck_assert_int_eq(lupi_dataset_set_privileged(NULL, 2, xp, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, NULL, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 0, xp, NULL),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xp, NULL),
			 LUPI_ENONFINITE);
	ck_assert_msg_has("sample 1, privileged feature 1");
	/* A NaN in an absent row is ignored. */
	uint8_t mask[2] = {1, 0};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xp, mask),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 1);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(labels_set_and_errors)
{
	lupi_dataset *ds = make(3, 1);
	int32_t y[3] = {0, 2, 1};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	y[1] = 7;
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 2);

	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_ERANGE);
	ck_assert_msg_has("sample 1: label 7");
	y[1] = -1;
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 2); /* unchanged */
	y[1] = 1;
	ck_assert_int_eq(lupi_dataset_set_labels(NULL, 3, y), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 0, y), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 1, y), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, LUPI__MAX_CLASSES + 1,
						 y), LUPI_ERANGE);

	int32_t b[3] = {0, 1, 1};
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, b), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(targets_set_and_errors)
{
	lupi_dataset *ds = make(2, 1);
	int32_t y[2] = {0, 1};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y), LUPI_OK);
	float t[4] = {0.5f, 1, 2, 3};
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, t), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_REGRESSION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	ck_assert_ptr_null(lupi_dataset_labels(ds));
	ck_assert_float_eq(lupi_dataset_targets(ds)[3], 3);
	ck_assert_int_eq(lupi_dataset_set_targets(NULL, 2, t), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 0, t), LUPI_EINVAL);
	t[2] = NAN;
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, t), LUPI_ENONFINITE);
	ck_assert_msg_has("sample 1, target 0");
	/* Labels replace targets. */
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y), LUPI_OK);
	ck_assert_ptr_null(lupi_dataset_targets(ds));
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(weights_set_and_errors)
{
	lupi_dataset *ds = make(3, 1);
	float w[3] = {1, 0, 2.5f};
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	ck_assert_float_eq(lupi_dataset_weights(ds)[2], 2.5f);
	w[1] = -1;
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_ERANGE);
	ck_assert_msg_has("sample 1: weight -1");
	w[1] = NAN;
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_ERANGE);
	w[1] = INFINITY;
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_ERANGE);
	ck_assert_float_eq(lupi_dataset_weights(ds)[1], 0);
	ck_assert_int_eq(lupi_dataset_set_weights(NULL, w), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_weights(ds, NULL), LUPI_OK);
	ck_assert_ptr_null(lupi_dataset_weights(ds));
	lupi_dataset_free(ds);
}
END_TEST

/* A 4-sample dataset with every field set; X* absent for sample 2. */
static lupi_dataset *make_full(void)
{
	lupi_dataset *ds = make(4, 2);
	float xp[4] = {100, 101, 102, 103};
	uint8_t mask[4] = {1, 1, 0, 1};
	int32_t y[4] = {0, 1, 2, 1};
	float w[4] = {1, 2, 3, 4};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, mask),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	return ds;
}

START_TEST(subset_gathers_everything)
{
	lupi_dataset *ds = make_full(), *s = NULL;
	size_t idx[5] = {3, 2, 2, 0, 3};
	ck_assert_int_eq(lupi_dataset_subset(ds, idx, 5, &s), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(s), 5);
	ck_assert_uint_ne(s->id, ds->id);
	const float *x = lupi_dataset_features(s, LUPI_VIEW_REGULAR);
	ck_assert_float_eq(x[0], 30);
	ck_assert_float_eq(x[3], 21);
	ck_assert_float_eq(x[7], 1);
	ck_assert_float_eq(lupi_dataset_features(s, LUPI_VIEW_PRIVILEGED)[4],
			   103);
	ck_assert_int_eq(lupi_dataset_labels(s)[1], 2);
	ck_assert_float_eq(lupi_dataset_weights(s)[3], 1);
	ck_assert_uint_eq(lupi_dataset_privileged_count(s), 3);
	const uint8_t *m = lupi_dataset_mask(s);
	ck_assert(m[0] && !m[1] && !m[2] && m[3] && m[4]);
	ck_assert_uint_eq(lupi_dataset_outputs(s), 3);
	lupi_dataset_free(s);

	/* Only present rows: no mask. */
	size_t some[2] = {0, 1};
	ck_assert_int_eq(lupi_dataset_subset(ds, some, 2, &s), LUPI_OK);
	ck_assert_ptr_null(lupi_dataset_mask(s));
	ck_assert_uint_eq(lupi_dataset_privileged_count(s), 2);
	lupi_dataset_free(s);

	s = ds;
	size_t bad[2] = {0, 4};
	ck_assert_int_eq(lupi_dataset_subset(ds, bad, 2, &s), LUPI_ERANGE);
	ck_assert_ptr_null(s);
	ck_assert_msg_has("idx[1] = 4");
	ck_assert_int_eq(lupi_dataset_subset(ds, idx, 0, &s), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_subset(ds, NULL, 1, &s), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_subset(NULL, idx, 1, &s), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_subset(ds, idx, 1, NULL), LUPI_EINVAL);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(subset_of_regression)
{
	lupi_dataset *ds = make(3, 1), *s = NULL;
	float t[6] = {1, 2, 3, 4, 5, 6};
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, t), LUPI_OK);
	size_t idx[1] = {2};
	ck_assert_int_eq(lupi_dataset_subset(ds, idx, 1, &s), LUPI_OK);
	ck_assert_float_eq(lupi_dataset_targets(s)[0], 5);
	ck_assert_float_eq(lupi_dataset_targets(s)[1], 6);
	ck_assert_int_eq(lupi_dataset_task(s), LUPI_TASK_REGRESSION);
	lupi_dataset_free(s);
	lupi_dataset_free(ds);
}
END_TEST

/* n samples, label = i % k, x = i (to recover the sample). */
static lupi_dataset *make_classes(size_t n, size_t k, const size_t *per)
{
	float *x = malloc(n * sizeof *x);
	int32_t *y = malloc(n * sizeof *y);
	size_t i = 0;
	for (size_t c = 0; c < k; c++)
		for (size_t j = 0; j < per[c]; j++, i++) {
			x[i] = (float)i;
			y[i] = (int32_t)c;
		}
	ck_assert_uint_eq(i, n);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, 1, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, k, y), LUPI_OK);
	free(x);
	free(y);
	return ds;
}

static void count_classes(const lupi_dataset *ds, size_t *count, size_t k)
{
	memset(count, 0, k * sizeof *count);
	for (size_t i = 0; i < lupi_dataset_rows(ds); i++)
		count[lupi_dataset_labels(ds)[i]]++;
}

START_TEST(split_stratified_exact)
{
	size_t per[3] = {40, 20, 40};
	lupi_dataset *ds = make_classes(100, 3, per), *a, *b;
	ck_assert_int_eq(lupi_dataset_split(ds, 0.75, 9, LUPI_SPLIT_STRATIFIED,
						    &a, &b), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), 75);
	ck_assert_uint_eq(lupi_dataset_rows(b), 25);
	size_t ca[3], cb[3];
	count_classes(a, ca, 3);
	count_classes(b, cb, 3);
	ck_assert_uint_eq(ca[0], 30);
	ck_assert_uint_eq(ca[1], 15);
	ck_assert_uint_eq(ca[2], 30);
	ck_assert_uint_eq(cb[0], 10);
	ck_assert_uint_eq(cb[1], 5);
	ck_assert_uint_eq(cb[2], 10);
	/* Every sample is in exactly one part. */
	int seen[100] = {0};
	for (size_t i = 0; i < 75; i++)
		seen[(int)lupi_dataset_features(a, 0)[i]]++;
	for (size_t i = 0; i < 25; i++)
		seen[(int)lupi_dataset_features(b, 0)[i]]++;
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(seen[i], 1);
	lupi_dataset_free(a);
	lupi_dataset_free(b);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(split_stratified_remainders)
{
	/* 0.5 of 3+3+1: quotas 1.5, 1.5, 0.5 -> floors 1,1,0; round(3.5)=4
	 * seats; the remainders tie at 0.5, so the 2 extra seats go by class
	 * index. */
	size_t per[3] = {3, 3, 1};
	lupi_dataset *ds = make_classes(7, 3, per), *a, *b;
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 3, LUPI_SPLIT_STRATIFIED,
						    &a, &b), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), 4);
	size_t ca[3];
	count_classes(a, ca, 3);
	ck_assert_uint_eq(ca[0], 2);
	ck_assert_uint_eq(ca[1], 2);
	ck_assert_uint_eq(ca[2], 0);
	lupi_dataset_free(a);
	lupi_dataset_free(b);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(split_same_seed_same_result)
{
	size_t per[2] = {10, 10};
	lupi_dataset *ds = make_classes(20, 2, per), *a, *b, *c, *d;
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 5, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 5, LUPI_SPLIT_RANDOM,
						    &c, &d), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), 6);
	ck_assert_uint_eq(lupi_dataset_rows(b), 14);
	ck_assert_mem_eq(lupi_dataset_features(a, 0),
			 lupi_dataset_features(c, 0), 6 * sizeof(float));
	ck_assert_mem_eq(lupi_dataset_features(b, 0),
			 lupi_dataset_features(d, 0), 14 * sizeof(float));
	lupi_dataset_free(c);
	lupi_dataset_free(d);
	/* Another seed gives another order. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 6, LUPI_SPLIT_RANDOM,
						    &c, &d), LUPI_OK);
	ck_assert(memcmp(lupi_dataset_features(a, 0),
			 lupi_dataset_features(c, 0), 6 * sizeof(float)) != 0);
	lupi_dataset_free(a);
	lupi_dataset_free(b);
	lupi_dataset_free(c);
	lupi_dataset_free(d);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(split_errors)
{
	lupi_dataset *ds = make(4, 1), *a = NULL, *b = NULL;
	ck_assert_int_eq(lupi_dataset_split(ds, 0.0, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split(ds, 1.0, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split(ds, NAN, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_ERANGE);
	/* round(0.1 * 4) = 0: an empty part. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.1, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_ERANGE);
	ck_assert_msg_has("empty");
	ck_assert_int_eq(lupi_dataset_split(ds, 0.9, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_ERANGE);
	/* Stratified without labels. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, LUPI_SPLIT_STRATIFIED,
						    &a, &b), LUPI_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(lupi_dataset_split(NULL, 0.5, 1, LUPI_SPLIT_RANDOM,
						    &a, &b), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, LUPI_SPLIT_RANDOM,
						    NULL, &b), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, LUPI_SPLIT_RANDOM,
						    &a, NULL), LUPI_EINVAL);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(shuffle_permutes_consistently)
{
	lupi_dataset *ds = make_full(), *ds2 = make_full();
	ck_assert_int_eq(lupi_dataset_shuffle(ds, 11), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_shuffle(ds2, 11), LUPI_OK);
	ck_assert_mem_eq(lupi_dataset_features(ds, 0),
			 lupi_dataset_features(ds2, 0), 8 * sizeof(float));
	/* Each row keeps its own label, weight, X* and mask. */
	static const int32_t y[4] = {0, 1, 2, 1};
	int seen[4] = {0};
	for (size_t i = 0; i < 4; i++) {
		size_t orig = (size_t)lupi_dataset_features(ds, 0)[2 * i] / 10;
		seen[orig]++;
		ck_assert_int_eq(lupi_dataset_labels(ds)[i], y[orig]);
		ck_assert_float_eq(lupi_dataset_weights(ds)[i],
				   (float)(orig + 1));
		ck_assert_int_eq(lupi__dataset_has_priv(ds, i), orig != 2);
		if (orig != 2)
			ck_assert_float_eq(lupi_dataset_features(ds, 1)[i],
					   (float)(100 + orig));
	}
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	ck_assert_int_eq(lupi_dataset_shuffle(NULL, 1), LUPI_EINVAL);
	lupi_dataset_free(ds);
	lupi_dataset_free(ds2);
}
END_TEST

START_TEST(standardizer_fits_and_applies)
{
	/* Columns: 1,2,3,4 (mean 2.5, population std sqrt(1.25)) and a
	 * constant 7 (std 1). */
	float x[8] = {1, 7, 2, 7, 3, 7, 4, 7};
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(4, 2, x, &ds), LUPI_OK);
	float mean[2], sd[2];
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, LUPI_VIEW_REGULAR,
						       mean, sd), LUPI_OK);
	ck_assert_float_eq_tol(mean[0], 2.5f, 1e-6f);
	ck_assert_float_eq_tol(sd[0], (float)sqrt(1.25), 1e-6f);
	ck_assert_float_eq(mean[1], 7);
	ck_assert_float_eq(sd[1], 1);
	ck_assert_int_eq(lupi_dataset_standardize(ds, LUPI_VIEW_REGULAR, mean,
						  sd), LUPI_OK);
	float m2[2], s2[2];
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, LUPI_VIEW_REGULAR,
						       m2, s2), LUPI_OK);
	ck_assert_float_eq_tol(m2[0], 0, 1e-6f);
	ck_assert_float_eq_tol(s2[0], 1, 1e-6f);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[1], 0);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(standardizer_privileged_skips_absent)
{
	lupi_dataset *ds = make(3, 1);
	float xp[3] = {2, 1000, 4};
	uint8_t mask[3] = {1, 0, 1};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, mask),
			 LUPI_OK);
	float mean[2], sd[2];
	ck_assert_int_eq(lupi_dataset_fit_standardizer(
				 ds, LUPI_VIEW_PRIVILEGED, mean, sd), LUPI_OK);
	ck_assert_float_eq(mean[0], 3);
	ck_assert_float_eq(sd[0], 1);
	/* BOTH: X over all 3 rows (0, 10, 20), X* over present rows. */
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, LUPI_VIEW_BOTH,
						       mean, sd), LUPI_OK);
	ck_assert_float_eq(mean[0], 10);
	ck_assert_float_eq(mean[1], 3);
	ck_assert_int_eq(lupi_dataset_standardize(ds, LUPI_VIEW_PRIVILEGED,
						  mean + 1, sd + 1), LUPI_OK);
	const float *f = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	ck_assert_float_eq(f[0], -1);
	ck_assert_float_eq(f[1], 0); /* absent: untouched */
	ck_assert_float_eq(f[2], 1);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(standardizer_errors)
{
	lupi_dataset *ds = make(2, 1);
	float mean[1] = {0}, sd[1] = {1};
	ck_assert_int_eq(lupi_dataset_fit_standardizer(
				 ds, LUPI_VIEW_PRIVILEGED, mean, sd),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, 9, mean, sd),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_fit_standardizer(NULL, 0, mean, sd),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, 0, NULL, sd),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, 0, mean, NULL),
			 LUPI_EINVAL);
	sd[0] = 0;
	ck_assert_int_eq(lupi_dataset_standardize(ds, 0, mean, sd),
			 LUPI_ERANGE);
	ck_assert_msg_has("std[0]");
	sd[0] = INFINITY;
	ck_assert_int_eq(lupi_dataset_standardize(ds, 0, mean, sd),
			 LUPI_ERANGE);
	sd[0] = 1e-40f;
	ck_assert_int_eq(lupi_dataset_standardize(ds, 0, mean, sd),
			 LUPI_ENONFINITE);
	ck_assert_float_eq(lupi_dataset_features(ds, 0)[1], 10); /* kept */
	sd[0] = 1;
	mean[0] = NAN;
	ck_assert_int_eq(lupi_dataset_standardize(ds, 0, mean, sd),
			 LUPI_ERANGE);
	/* All X* absent: nothing to fit. */
	float xp[2] = {1, 2};
	uint8_t none[2] = {0, 0};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, none),
			 LUPI_OK);
	ck_assert_int_eq(lupi_dataset_fit_standardizer(
				 ds, LUPI_VIEW_PRIVILEGED, mean, sd),
			 LUPI_EINVAL);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(binary_labels_set_and_errors)
{
	lupi_dataset *ds = make(3, 1);
	int32_t b[3] = {1, 0, 1};
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, b), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	ck_assert_int_eq(lupi_dataset_labels(ds)[0], 1);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 0);
	b[1] = 2;
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, b), LUPI_ERANGE);
	ck_assert_msg_has("sample 1");
	ck_assert_msg_has("label 2 is not 0 or 1");
	b[1] = -1;
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, b), LUPI_ERANGE);
	ck_assert_msg_has("sample 1");
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 0); /* unchanged */
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_int_eq(lupi_dataset_set_binary_labels(NULL, b), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, NULL),
			 LUPI_EINVAL);
	/* Classification labels with k = 2 are not binary. */
	b[1] = 0;
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, b), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_CLASSIFICATION);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(privileged_width_overflow)
{
	/* n * d_priv overflows size_t: refused before x_priv is read (the
	 * 2 floats below would be overrun by a scan). */
	lupi_dataset *ds = make(32, 1);
	float xp[2] = {1, 2};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, SIZE_MAX, xp, NULL),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, SIZE_MAX / 16 + 1,
						     xp, NULL), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, LUPI__MAX_WIDTH + 1,
						     xp, NULL), LUPI_ERANGE);
	ck_assert_msg_has("at most 1048576");
	ck_assert_ptr_null(lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED));
	ck_assert_uint_eq(lupi_dataset_dim(ds, LUPI_VIEW_PRIVILEGED), 0);
	lupi_dataset_free(ds);
}
END_TEST

/* Checks that idx[0..n) is a permutation of 0..n-1. */
static void assert_permutation(const size_t *idx, size_t n)
{
	char *seen = calloc(n, 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_lt(idx[i], n);
		ck_assert_int_eq(seen[idx[i]], 0);
		seen[idx[i]] = 1;
	}
	free(seen);
}

START_TEST(split_indices_random)
{
	size_t per[2] = {13, 24};
	lupi_dataset *ds = make_classes(37, 2, per), *a, *b;
	size_t idx[37], again[37], n1 = 0, n2 = 0;
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.3, 8,
						    LUPI_SPLIT_RANDOM, idx,
						    &n1), LUPI_OK);
	assert_permutation(idx, 37);
	ck_assert_uint_eq(n1, 11); /* round(0.3 * 37) = round(11.1) */
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.3, 8,
						    LUPI_SPLIT_RANDOM, again,
						    &n2), LUPI_OK);
	ck_assert_uint_eq(n2, n1);
	ck_assert_mem_eq(idx, again, sizeof idx);
	/* split() gives the samples of the indices, in their order. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 8, LUPI_SPLIT_RANDOM,
					    &a, &b), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), n1);
	ck_assert_uint_eq(lupi_dataset_rows(b), 37 - n1);
	for (size_t i = 0; i < 37; i++) {
		const lupi_dataset *part = i < n1 ? a : b;
		size_t at = i < n1 ? i : i - n1;
		ck_assert_float_eq(lupi_dataset_features(part, 0)[at],
				   (float)idx[i]);
	}
	lupi_dataset_free(a);
	lupi_dataset_free(b);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(split_indices_stratified)
{
	/* 0.25 of 40 + 20 + 12 (= 72): floors 10, 5, 3 = 18 = round(18.0)
	 * seats, each class in its exact proportion. */
	size_t per[3] = {40, 20, 12};
	lupi_dataset *ds = make_classes(72, 3, per), *a, *b;
	size_t idx[72], n1 = 0, first[3] = {0}, second[3] = {0};
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.25, 3,
						    LUPI_SPLIT_STRATIFIED,
						    idx, &n1), LUPI_OK);
	assert_permutation(idx, 72);
	ck_assert_uint_eq(n1, 18);
	const int32_t *y = lupi_dataset_labels(ds);
	for (size_t i = 0; i < 72; i++)
		(i < n1 ? first : second)[y[idx[i]]]++;
	for (size_t c = 0; c < 3; c++) {
		ck_assert_uint_eq(first[c], per[c] / 4);
		ck_assert_uint_eq(second[c], per[c] - per[c] / 4);
	}
	ck_assert_int_eq(lupi_dataset_split(ds, 0.25, 3,
					    LUPI_SPLIT_STRATIFIED, &a, &b),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), n1);
	for (size_t i = 0; i < 72; i++) {
		const lupi_dataset *part = i < n1 ? a : b;
		size_t at = i < n1 ? i : i - n1;
		ck_assert_float_eq(lupi_dataset_features(part, 0)[at],
				   (float)idx[i]);
		ck_assert_int_eq(lupi_dataset_labels(part)[at], y[idx[i]]);
	}
	lupi_dataset_free(a);
	lupi_dataset_free(b);

	/* Binary labels stratify too. */
	int32_t yb[72];
	for (size_t i = 0; i < 72; i++)
		yb[i] = i < 60;
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, yb), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 4,
						    LUPI_SPLIT_STRATIFIED,
						    idx, &n1), LUPI_OK);
	size_t ones = 0;
	for (size_t i = 0; i < n1; i++)
		ones += (size_t)yb[idx[i]];
	ck_assert_uint_eq(n1, 36);
	ck_assert_uint_eq(ones, 30);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(split_indices_errors)
{
	lupi_dataset *ds = make(4, 1);
	size_t idx[4], n1 = 7;
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1, 2, idx, &n1),
			 LUPI_EINVAL);
	ck_assert_msg_has("mode 2");
	ck_assert_uint_eq(n1, 0);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1, -1, idx,
						    &n1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1,
						    LUPI_SPLIT_STRATIFIED,
						    idx, &n1), LUPI_EINVAL);
	ck_assert_msg_has("labels");
	float t[4] = {1, 2, 3, 4};
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 1, t), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1,
						    LUPI_SPLIT_STRATIFIED,
						    idx, &n1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 1.5, 1,
						    LUPI_SPLIT_RANDOM, idx,
						    &n1), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.05, 1,
						    LUPI_SPLIT_RANDOM, idx,
						    &n1), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split_indices(NULL, 0.5, 1,
						    LUPI_SPLIT_RANDOM, idx,
						    &n1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1,
						    LUPI_SPLIT_RANDOM, NULL,
						    &n1), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split_indices(ds, 0.5, 1,
						    LUPI_SPLIT_RANDOM, idx,
						    NULL), LUPI_EINVAL);
	lupi_dataset *a = NULL, *b = NULL;
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, 5, &a, &b),
			 LUPI_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_null(b);
	lupi_dataset_free(ds);
}
END_TEST

/* ---- views -------------------------------------------------------------- */

/* 9 samples, X of 3 columns (one constant, one far from the origin), X* of
 * 2 columns, absent for samples 2, 5 and 6. */
#define VN 9
#define VD 3
#define VDP 2
static lupi_dataset *make_view_data(void)
{
	float x[VN * VD], xp[VN * VDP];
	uint8_t mask[VN];
	for (size_t i = 0; i < VN; i++) {
		x[i * VD + 0] = (float)(i * i) * 0.37f - 1.0f;
		x[i * VD + 1] = 4.0f;
		x[i * VD + 2] = 1.0e4f + (float)((i * 7) % 5) * 0.25f;
		xp[i * VDP + 0] = (float)i * -2.5f + 3.0f;
		xp[i * VDP + 1] = (float)((i * 3) % 4) + 0.5f;
		mask[i] = i != 2 && i != 5 && i != 6;
	}
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(VN, VD, x, &ds), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, VDP, xp, mask),
			 LUPI_OK);
	return ds;
}

/* The reference: the standardiser of lib/data/dataset.c before 0.2,
 * column by column over the values that exist (X of every sample, X* of
 * the samples that have it). */
static void old_dataset_fit(const lupi_dataset *ds, int view, float *mean,
			    float *std)
{
	size_t d = ds->d, dp = ds->d_priv;
	size_t dim = view == LUPI_VIEW_REGULAR ? d :
		     view == LUPI_VIEW_PRIVILEGED ? dp : d + dp;
	for (size_t j = 0; j < dim; j++) {
		int priv = view == LUPI_VIEW_PRIVILEGED ||
			   (view == LUPI_VIEW_BOTH && j >= d);
		size_t jj = view == LUPI_VIEW_BOTH && j >= d ? j - d : j;
		double sum = 0.0, ss = 0.0;
		size_t rows = 0;
		for (size_t i = 0; i < ds->n; i++) {
			if (priv && !lupi__dataset_has_priv(ds, i))
				continue;
			sum += priv ? ds->x_priv[i * dp + jj] :
				      ds->x[i * d + jj];
			rows++;
		}
		double mu = sum / (double)rows;
		for (size_t i = 0; i < ds->n; i++) {
			if (priv && !lupi__dataset_has_priv(ds, i))
				continue;
			double dev = (priv ? ds->x_priv[i * dp + jj] :
					     ds->x[i * d + jj]) - mu;
			ss += dev * dev;
		}
		float sd = (float)sqrt(ss / (double)rows);
		mean[j] = (float)mu;
		std[j] = sd > 0.0f && isfinite(sd) ? sd : 1.0f;
	}
}

/* The reference for BOTH in a model: lib/model/network.c before 0.2, over
 * the samples with X* only (those a model with that view trains on). */
static void old_network_fit_both(const lupi_dataset *ds, double *mean,
				 double *std)
{
	size_t d = ds->d, dp = ds->d_priv, cnt = 0;
	double acc[VD + VDP] = {0}, ss[VD + VDP] = {0};
	for (size_t i = 0; i < ds->n; i++) {
		if (!lupi__dataset_has_priv(ds, i))
			continue;
		for (size_t j = 0; j < d + dp; j++)
			acc[j] += j < d ? ds->x[i * d + j] :
					  ds->x_priv[i * dp + j - d];
		cnt++;
	}
	for (size_t j = 0; j < d + dp; j++)
		mean[j] = acc[j] / (double)cnt;
	for (size_t i = 0; i < ds->n; i++) {
		if (!lupi__dataset_has_priv(ds, i))
			continue;
		for (size_t j = 0; j < d + dp; j++) {
			double e = (j < d ? ds->x[i * d + j] :
					    ds->x_priv[i * dp + j - d]) -
				   mean[j];
			ss[j] += e * e;
		}
	}
	for (size_t j = 0; j < d + dp; j++) {
		double sd = sqrt(ss[j] / (double)cnt);
		std[j] = sd > 0.0 ? sd : 1.0;
	}
}

/* Same arithmetic in the same order: the results are bit-identical. */
START_TEST(view_stats_match_old_standardisers)
{
	lupi_dataset *ds = make_view_data();
	static const int views[3] = {LUPI_VIEW_REGULAR, LUPI_VIEW_PRIVILEGED,
				     LUPI_VIEW_BOTH};
	for (int v = 0; v < 3; v++) {
		int view = views[v];
		size_t dim = lupi__dataset_view_dim(ds, view);
		float ref_mean[VD + VDP], ref_std[VD + VDP];
		float mean[VD + VDP], std[VD + VDP];
		old_dataset_fit(ds, view, ref_mean, ref_std);
		ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, view, mean,
							       std), LUPI_OK);
		for (size_t j = 0; j < dim; j++) {
			ck_assert_float_eq(mean[j], ref_mean[j]);
			ck_assert_float_eq(std[j], ref_std[j]);
		}
		double vm[VD + VDP], vs[VD + VDP];
		size_t cnt = lupi__view_stats(ds, view, vm, vs);
		ck_assert_uint_eq(cnt, view == LUPI_VIEW_REGULAR ? VN : VN - 3);
		if (view == LUPI_VIEW_BOTH)
			continue;
		for (size_t j = 0; j < dim; j++) {
			ck_assert_float_eq((float)vm[j], ref_mean[j]);
			ck_assert_float_eq((float)vs[j], ref_std[j]);
		}
	}
	/* BOTH is a model's view: every column over the samples with X*. */
	double ref_mean[VD + VDP], ref_std[VD + VDP];
	double vm[VD + VDP], vs[VD + VDP];
	old_network_fit_both(ds, ref_mean, ref_std);
	ck_assert_uint_eq(lupi__view_stats(ds, LUPI_VIEW_BOTH, vm, vs),
			  VN - 3);
	for (size_t j = 0; j < VD + VDP; j++) {
		ck_assert_double_eq(vm[j], ref_mean[j]);
		ck_assert_double_eq(vs[j], ref_std[j]);
	}
	ck_assert_double_eq(vs[1], 1.0); /* the constant column */
	/* Its X columns differ from the dataset's, fitted over all rows. */
	float all_mean[VD + VDP], all_std[VD + VDP];
	old_dataset_fit(ds, LUPI_VIEW_BOTH, all_mean, all_std);
	ck_assert_float_ne((float)vm[0], all_mean[0]);
	ck_assert_float_eq((float)vm[VD], all_mean[VD]);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(view_stats_without_samples)
{
	lupi_dataset *ds = make(3, 2);
	double m[3] = {7, 7, 7}, s[3] = {7, 7, 7};
	ck_assert_uint_eq(lupi__view_stats(ds, LUPI_VIEW_PRIVILEGED, m, s), 0);
	ck_assert_uint_eq(lupi__view_stats(ds, 9, m, s), 0);
	float xp[3] = {1, 2, 3};
	uint8_t none[3] = {0, 0, 0};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, none),
			 LUPI_OK);
	ck_assert_uint_eq(lupi__view_stats(ds, LUPI_VIEW_BOTH, m, s), 0);
	ck_assert_double_eq(m[0], 7); /* untouched */
	ck_assert_uint_eq(lupi__view_stats(ds, LUPI_VIEW_REGULAR, m, s), 3);
	ck_assert_double_eq(m[0], 10);
	ck_assert_double_eq(m[1], 11);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(view_rows_raw_and_standardised)
{
	lupi_dataset *ds = make_view_data();
	ck_assert(lupi__view_valid(LUPI_VIEW_BOTH));
	ck_assert(!lupi__view_valid(3));
	ck_assert(!lupi__view_needs_priv(LUPI_VIEW_REGULAR));
	ck_assert(lupi__view_needs_priv(LUPI_VIEW_PRIVILEGED));
	ck_assert(lupi__view_needs_priv(LUPI_VIEW_BOTH));
	ck_assert(lupi__view_has(ds, LUPI_VIEW_REGULAR, 2));
	ck_assert(!lupi__view_has(ds, LUPI_VIEW_PRIVILEGED, 2));
	ck_assert(!lupi__view_has(ds, LUPI_VIEW_BOTH, 5));
	ck_assert(lupi__view_has(ds, LUPI_VIEW_BOTH, 4));

	float row[VD + VDP];
	lupi__view_row(ds, LUPI_VIEW_BOTH, 4, row);
	ck_assert_float_eq(row[0], ds->x[4 * VD]);
	ck_assert_float_eq(row[2], ds->x[4 * VD + 2]);
	ck_assert_float_eq(row[3], ds->x_priv[4 * VDP]);
	ck_assert_float_eq(row[4], ds->x_priv[4 * VDP + 1]);
	lupi__view_row(ds, LUPI_VIEW_PRIVILEGED, 4, row);
	ck_assert_float_eq(row[1], ds->x_priv[4 * VDP + 1]);

	const float mean[VD + VDP] = {1, 2, 3, 4, 5};
	const float inv[VD + VDP] = {0.5f, 2, -1, 0.25f, 3};
	lupi__view_row_std(ds, LUPI_VIEW_BOTH, 7, mean, inv, row);
	for (size_t j = 0; j < VD + VDP; j++) {
		float v = j < VD ? ds->x[7 * VD + j] :
				   ds->x_priv[7 * VDP + j - VD];
		ck_assert_float_eq(row[j], (v - mean[j]) * inv[j]);
	}
	lupi__view_row_std(ds, LUPI_VIEW_PRIVILEGED, 7, mean, inv, row);
	ck_assert_float_eq(row[1], (ds->x_priv[7 * VDP + 1] - 2) * 2);
	lupi__view_row_std(ds, LUPI_VIEW_REGULAR, 7, NULL, NULL, row);
	ck_assert_float_eq(row[2], ds->x[7 * VD + 2]);

	/* The checked copy refuses samples without the view. */
	row[0] = -7;
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_BOTH, 6, row), 0);
	ck_assert_int_eq(lupi__dataset_row(ds, 5, 0, row), 0);
	ck_assert_float_eq(row[0], -7);
	ck_assert_int_eq(lupi__dataset_row(ds, LUPI_VIEW_REGULAR, 6, row), 1);
	ck_assert_float_eq(row[0], ds->x[6 * VD]);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(standardize_both_views)
{
	/* BOTH standardises X of every sample and X* of the present ones,
	 * and fitting after standardising gives mean 0, std 1. */
	lupi_dataset *ds = make_view_data();
	float mean[VD + VDP], std[VD + VDP];
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, LUPI_VIEW_BOTH,
						       mean, std), LUPI_OK);
	float x2 = ds->x[2 * VD];
	ck_assert_int_eq(lupi_dataset_standardize(ds, LUPI_VIEW_BOTH, mean,
						  std), LUPI_OK);
	ck_assert_float_eq(ds->x[2 * VD], (x2 - mean[0]) / std[0]);
	ck_assert_float_eq(ds->x_priv[2 * VDP], 0); /* absent: untouched */
	float m2[VD + VDP], s2[VD + VDP];
	ck_assert_int_eq(lupi_dataset_fit_standardizer(ds, LUPI_VIEW_BOTH, m2,
						       s2), LUPI_OK);
	/* Column 2 sits at 1e4: its float mean is off by half an ulp
	 * (5e-4), a few thousandths of its std of 0.35. */
	for (size_t j = 0; j < VD + VDP; j++) {
		ck_assert_float_eq_tol(m2[j], 0, j == 2 ? 5e-3f : 1e-5f);
		if (j != 1) /* the constant column stays constant */
			ck_assert_float_eq_tol(s2[j], 1, 1e-4f);
	}
	/* An overflow in the X* part names its column in the view. */
	float big[VD + VDP] = {0, 0, 0, 0, 0}, tiny[VD + VDP];
	for (size_t j = 0; j < VD + VDP; j++)
		tiny[j] = j == VD + 1 ? 1e-40f : 1.0f;
	ck_assert_int_eq(lupi_dataset_standardize(ds, LUPI_VIEW_BOTH, big,
						  tiny), LUPI_ENONFINITE);
	ck_assert_msg_has("feature 4");
	lupi_dataset_free(ds);
}
END_TEST

/* Every allocation of subset and split failing in turn: ENOMEM, no leak
 * (valgrind), outputs NULL. */
START_TEST(allocation_failures)
{
	lupi_dataset *ds = make_full();
	for (int k = 0; k < 20; k++) {
		int budget = k;
		lupi_dataset *a = NULL, *b = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_dataset_split(ds, 0.5, 1, LUPI_SPLIT_STRATIFIED,
					    &a, &b);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
		if (rc == LUPI_ENOMEM) {
			ck_assert_ptr_null(a);
			ck_assert_ptr_null(b);
		}
		lupi_dataset_free(a);
		lupi_dataset_free(b);
		budget = k;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		rc = lupi_dataset_shuffle(ds, 2);
		lupi__set_alloc_gate(NULL, NULL);
		ck_assert(rc == LUPI_OK || rc == LUPI_ENOMEM);
	}
	ck_assert_uint_eq(lupi_dataset_rows(ds), 4);
	lupi_dataset_free(ds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dataset");
	TCase *tc = tcase_create("dataset");
	tcase_add_test(tc, create_copies_and_reports);
	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, accessors_on_null);
	tcase_add_test(tc, ids_are_unique);
	tcase_add_test(tc, privileged_with_mask);
	tcase_add_test(tc, privileged_errors);
	tcase_add_test(tc, labels_set_and_errors);
	tcase_add_test(tc, targets_set_and_errors);
	tcase_add_test(tc, weights_set_and_errors);
	tcase_add_test(tc, subset_gathers_everything);
	tcase_add_test(tc, subset_of_regression);
	tcase_add_test(tc, split_stratified_exact);
	tcase_add_test(tc, split_stratified_remainders);
	tcase_add_test(tc, split_same_seed_same_result);
	tcase_add_test(tc, split_errors);
	tcase_add_test(tc, shuffle_permutes_consistently);
	tcase_add_test(tc, standardizer_fits_and_applies);
	tcase_add_test(tc, standardizer_privileged_skips_absent);
	tcase_add_test(tc, standardizer_errors);
	tcase_add_test(tc, binary_labels_set_and_errors);
	tcase_add_test(tc, privileged_width_overflow);
	tcase_add_test(tc, split_indices_random);
	tcase_add_test(tc, split_indices_stratified);
	tcase_add_test(tc, split_indices_errors);
	tcase_add_test(tc, view_stats_match_old_standardisers);
	tcase_add_test(tc, view_stats_without_samples);
	tcase_add_test(tc, view_rows_raw_and_standardised);
	tcase_add_test(tc, standardize_both_views);
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
