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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y, 0), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_CLASSIFICATION);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 3);
	y[1] = 7;
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 2);

	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y, 0), LUPI_ERANGE);
	ck_assert_msg_has("sample 1: label 7");
	y[1] = -1;
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y, 0), LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_labels(ds)[1], 2); /* unchanged */
	y[1] = 1;
	ck_assert_int_eq(lupi_dataset_set_labels(NULL, 3, y, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, NULL, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 0, y, 0), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y, 1), LUPI_EINVAL);
	ck_assert_msg_has("binary");

	int32_t b[3] = {0, 1, 1};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, b, 1), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_task(ds), LUPI_TASK_BINARY);
	ck_assert_uint_eq(lupi_dataset_outputs(ds), 2);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(targets_set_and_errors)
{
	lupi_dataset *ds = make(2, 1);
	int32_t y[2] = {0, 1};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 0), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y, 1), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y, 0), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_set_labels(ds, k, y, 0), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_split(ds, 0.75, 9, 1, &a, &b), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 3, 1, &a, &b), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 5, 0, &a, &b), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 5, 0, &c, &d), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(a), 6);
	ck_assert_uint_eq(lupi_dataset_rows(b), 14);
	ck_assert_mem_eq(lupi_dataset_features(a, 0),
			 lupi_dataset_features(c, 0), 6 * sizeof(float));
	ck_assert_mem_eq(lupi_dataset_features(b, 0),
			 lupi_dataset_features(d, 0), 14 * sizeof(float));
	lupi_dataset_free(c);
	lupi_dataset_free(d);
	/* Another seed gives another order. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.3, 6, 0, &c, &d), LUPI_OK);
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
	ck_assert_int_eq(lupi_dataset_split(ds, 0.0, 1, 0, &a, &b),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split(ds, 1.0, 1, 0, &a, &b),
			 LUPI_ERANGE);
	ck_assert_int_eq(lupi_dataset_split(ds, NAN, 1, 0, &a, &b),
			 LUPI_ERANGE);
	/* round(0.1 * 4) = 0: an empty part. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.1, 1, 0, &a, &b),
			 LUPI_ERANGE);
	ck_assert_msg_has("empty");
	ck_assert_int_eq(lupi_dataset_split(ds, 0.9, 1, 0, &a, &b),
			 LUPI_ERANGE);
	/* Stratified without labels. */
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, 1, &a, &b),
			 LUPI_EINVAL);
	ck_assert_ptr_null(a);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(lupi_dataset_split(NULL, 0.5, 1, 0, &a, &b),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, 0, NULL, &b),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_split(ds, 0.5, 1, 0, &a, NULL),
			 LUPI_EINVAL);
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

/* Every allocation of subset and split failing in turn: ENOMEM, no leak
 * (valgrind), outputs NULL. */
START_TEST(allocation_failures)
{
	lupi_dataset *ds = make_full();
	for (int k = 0; k < 20; k++) {
		int budget = k;
		lupi_dataset *a = NULL, *b = NULL;
		lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
		int rc = lupi_dataset_split(ds, 0.5, 1, 1, &a, &b);
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
	tcase_add_test(tc, allocation_failures);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
