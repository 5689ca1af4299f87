/* Growing datasets: append (contents, order, masks, weights, errors),
 * capacity and eviction (a ring of rows), amortised growth counted, and
 * uniform sampling. Teacher caches on grown datasets are tested with the
 * train layer in tests/unit/control/test-dagger.c. */
#include <math.h>

#include "data/data_internal.h"
#include "testutil.h"

/* n x d rows with x[i][j] = 10 (first + i) + j. */
static float *rows(size_t first, size_t n, size_t d)
{
	float *x = malloc(n * d * sizeof *x);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			x[i * d + j] = (float)(10 * (first + i) + j);
	return x;
}

/* A dataset of n rows (first row 0), d features, no targets. */
static lupi_dataset *make(size_t n, size_t d)
{
	float *x = rows(0, n, d);
	lupi_dataset *ds = NULL;
	ck_assert_int_eq(lupi_dataset_create(n, d, x, &ds), LUPI_OK);
	free(x);
	return ds;
}

/* Row i of ds's X is the row numbered `number` by rows(). */
static void assert_row(const lupi_dataset *ds, size_t i, size_t number)
{
	size_t d = lupi_dataset_dim(ds, LUPI_VIEW_REGULAR);
	const float *x = lupi_dataset_features(ds, LUPI_VIEW_REGULAR);
	for (size_t j = 0; j < d; j++)
		ck_assert_float_eq(x[i * d + j], (float)(10 * number + j));
}

START_TEST(append_contents_and_order)
{
	lupi_dataset *ds = make(2, 3);
	float xp0[4] = {1, 2, 3, 4};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 2, xp0, NULL),
			 LUPI_OK);
	int32_t y0[2] = {0, 2};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, y0), LUPI_OK);
	uint64_t id = ds->id;
	ck_assert_ptr_null(lupi_dataset_mask(ds));

	float *x = rows(2, 3, 3);
	float xp[6] = {5, 6, 7, 8, 9, 10};
	uint8_t mask[3] = {1, 0, 1};
	int32_t y[3] = {1, 1, 2};
	float w[3] = {0.5f, 2.0f, 0.0f};
	ck_assert_int_eq(lupi_dataset_append(ds, 3, x, xp, mask, y, NULL, w),
			 LUPI_OK);
	free(x);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 5);
	for (size_t i = 0; i < 5; i++)
		assert_row(ds, i, i);
	/* X*: the absent row is zeroed, the mask created with the old rows
	 * present. */
	const float *p = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	float want_p[10] = {1, 2, 3, 4, 5, 6, 0, 0, 9, 10};
	for (size_t j = 0; j < 10; j++)
		ck_assert_float_eq(p[j], want_p[j]);
	const uint8_t *m = lupi_dataset_mask(ds);
	ck_assert_ptr_nonnull(m);
	uint8_t want_m[5] = {1, 1, 1, 0, 1};
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(m[i], want_m[i]);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 4);
	const int32_t *lab = lupi_dataset_labels(ds);
	int32_t want_y[5] = {0, 2, 1, 1, 2};
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(lab[i], want_y[i]);
	/* The earlier rows had no weights: they get 1. */
	const float *wt = lupi_dataset_weights(ds);
	float want_w[5] = {1, 1, 0.5f, 2.0f, 0.0f};
	for (size_t i = 0; i < 5; i++)
		ck_assert_float_eq(wt[i], want_w[i]);
	/* No eviction: the identity stays. */
	ck_assert_uint_eq(ds->id, id);
	ck_assert_uint_eq(lupi_dataset_evicted(ds), 0);

	/* Rows without X* (x_priv NULL) and without weights (1). */
	x = rows(5, 1, 3);
	int32_t y5 = 0;
	ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL, &y5, NULL,
					     NULL), LUPI_OK);
	free(x);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 6);
	ck_assert_uint_eq(lupi_dataset_mask(ds)[5], 0);
	ck_assert_float_eq(lupi_dataset_weights(ds)[5], 1.0f);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 4);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(append_regression_targets)
{
	lupi_dataset *ds = make(1, 2);
	float t0[2] = {1, -1};
	ck_assert_int_eq(lupi_dataset_set_targets(ds, 2, t0), LUPI_OK);
	for (size_t i = 1; i < 40; i++) {
		float *x = rows(i, 1, 2);
		float t[2] = {(float)i, -(float)i};
		ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL,
						     NULL, t, NULL), LUPI_OK);
		free(x);
	}
	ck_assert_uint_eq(lupi_dataset_rows(ds), 40);
	const float *t = lupi_dataset_targets(ds);
	for (size_t i = 0; i < 40; i++) {
		assert_row(ds, i, i);
		ck_assert_float_eq(t[2 * i], i ? (float)i : 1.0f);
		ck_assert_float_eq(t[2 * i + 1], i ? -(float)i : -1.0f);
	}
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(append_errors_change_nothing)
{
	lupi_dataset *ds = make(2, 2);
	int32_t y0[2] = {0, 1};
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 2, y0), LUPI_OK);
	float x[4] = {1, 2, 3, 4};
	int32_t y[2] = {1, 0};
	float t[2] = {0, 0};
	ck_assert_int_eq(lupi_dataset_append(NULL, 2, x, NULL, NULL, y, NULL,
					     NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_append(ds, 2, NULL, NULL, NULL, y, NULL,
					     NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_append(ds, 0, x, NULL, NULL, y, NULL,
					     NULL), LUPI_EINVAL);
	/* Classification needs labels, and takes no targets. */
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x, NULL, NULL, NULL, NULL,
					     NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x, NULL, NULL, y, t,
					     NULL), LUPI_EINVAL);
	int32_t bad[2] = {0, 2};
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x, NULL, NULL, bad, NULL,
					     NULL), LUPI_ERANGE);
	ck_assert_msg(strstr(lupi_errmsg(), "row 1") != NULL, "%s",
		      lupi_errmsg());
	float xp[2] = {1, 1};
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x, xp, NULL, y, NULL,
					     NULL), LUPI_ESTATE);
	float nan_x[4] = {1, 2, NAN, 4};
	ck_assert_int_eq(lupi_dataset_append(ds, 2, nan_x, NULL, NULL, y,
					     NULL, NULL), LUPI_ENONFINITE);
	float w[2] = {1, -1};
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x, NULL, NULL, y, NULL, w),
			 LUPI_ERANGE);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 2);
	ck_assert_ptr_null(lupi_dataset_weights(ds));
	assert_row(ds, 0, 0);
	assert_row(ds, 1, 1);

	/* A dataset without targets takes neither. */
	lupi_dataset *plain = make(1, 2);
	ck_assert_int_eq(lupi_dataset_append(plain, 2, x, NULL, NULL, y, NULL,
					     NULL), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_append(plain, 2, x, NULL, NULL, NULL,
					     NULL, NULL), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_rows(plain), 3);
	lupi_dataset_free(plain);
	lupi_dataset_free(ds);
}
END_TEST

/* Refuses every allocation. */
static int refuse(size_t size, void *user)
{
	(void)size;
	(void)user;
	return 0;
}

START_TEST(append_out_of_memory_changes_nothing)
{
	lupi_dataset *ds = make(3, 2);
	int32_t y0[3] = {0, 1, 0};
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y0), LUPI_OK);
	float x[4] = {1, 2, 3, 4};
	int32_t y[2] = {1, 1};
	float w[2] = {2, 3};
	lupi__set_alloc_gate(refuse, NULL);
	int rc = lupi_dataset_append(ds, 2, x, NULL, NULL, y, NULL, w);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_ENOMEM);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 3);
	ck_assert_ptr_null(lupi_dataset_weights(ds));
	/* Each allocation refused in turn: never a half-done append. */
	for (int budget = 0; budget < 8; budget++) {
		lupi_dataset *d2 = make(3, 2);
		ck_assert_int_eq(lupi_dataset_set_binary_labels(d2, y0),
				 LUPI_OK);
		int b = budget;
		lupi__set_alloc_gate(lupi_test_budget_gate, &b);
		rc = lupi_dataset_append(d2, 2, x, NULL, NULL, y, NULL, w);
		lupi__set_alloc_gate(NULL, NULL);
		size_t n = lupi_dataset_rows(d2);
		if (rc == LUPI_OK) {
			ck_assert_uint_eq(n, 5);
			ck_assert_float_eq(lupi_dataset_weights(d2)[4], 3.0f);
		} else {
			ck_assert_int_eq(rc, LUPI_ENOMEM);
			ck_assert_uint_eq(n, 3);
			ck_assert_ptr_null(lupi_dataset_weights(d2));
		}
		for (size_t i = 0; i < 3; i++)
			assert_row(d2, i, i);
		lupi_dataset_free(d2);
	}
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(capacity_evicts_oldest)
{
	lupi_dataset *ds = make(1, 2);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 5), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_capacity(ds), 5);
	uint64_t id = ds->id;
	for (size_t i = 1; i < 5; i++) {
		float *x = rows(i, 1, 2);
		ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL,
						     NULL, NULL, NULL),
				 LUPI_OK);
		free(x);
	}
	ck_assert_uint_eq(ds->id, id); /* full, nothing evicted yet */
	for (size_t i = 5; i < 12; i++) {
		float *x = rows(i, 1, 2);
		ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL,
						     NULL, NULL, NULL),
				 LUPI_OK);
		free(x);
		ck_assert_uint_eq(lupi_dataset_rows(ds), 5);
		ck_assert_uint_eq(lupi_dataset_evicted(ds), i - 4);
		/* Row generation: the row at index j is number evicted + j. */
		for (size_t j = 0; j < 5; j++)
			assert_row(ds, j, lupi_dataset_evicted(ds) + j);
	}
	ck_assert_uint_ne(ds->id, id); /* rows shifted: a new identity */
	/* More new rows than the capacity: the last 5 are kept. */
	float *x = rows(12, 8, 2);
	ck_assert_int_eq(lupi_dataset_append(ds, 8, x, NULL, NULL, NULL, NULL,
					     NULL), LUPI_OK);
	free(x);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 5);
	for (size_t j = 0; j < 5; j++)
		assert_row(ds, j, 15 + j);
	ck_assert_uint_eq(lupi_dataset_evicted(ds), 15);
	/* Unbounded again: rows accumulate. */
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 0), LUPI_OK);
	x = rows(20, 10, 2);
	ck_assert_int_eq(lupi_dataset_append(ds, 10, x, NULL, NULL, NULL, NULL,
					     NULL), LUPI_OK);
	free(x);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 15);
	for (size_t j = 0; j < 15; j++)
		assert_row(ds, j, 15 + j);
	ck_assert_int_eq(lupi_dataset_set_capacity(NULL, 3), LUPI_EINVAL);
	ck_assert_uint_eq(lupi_dataset_capacity(NULL), 0);
	ck_assert_uint_eq(lupi_dataset_evicted(NULL), 0);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(smaller_capacity_evicts_now_and_settles_mask)
{
	lupi_dataset *ds = make(6, 1);
	float xp[6] = {1, 2, 3, 4, 5, 6};
	uint8_t mask[6] = {0, 1, 0, 1, 1, 1};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, mask),
			 LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 4);
	size_t before = ds->n_grow;
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 4), LUPI_OK);
	ck_assert_uint_eq(ds->n_grow, before);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 4);
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	ck_assert_uint_eq(lupi_dataset_mask(ds)[0], 0);
	for (size_t j = 0; j < 4; j++)
		assert_row(ds, j, 2 + j);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 3), LUPI_OK);
	/* Every remaining X* present: "mask NULL" again. */
	ck_assert_ptr_null(lupi_dataset_mask(ds));
	ck_assert_uint_eq(lupi_dataset_privileged_count(ds), 3);
	const float *p = lupi_dataset_features(ds, LUPI_VIEW_PRIVILEGED);
	ck_assert_float_eq(p[0], 4);
	ck_assert_float_eq(p[2], 6);
	lupi_dataset_free(ds);
}
END_TEST

/* Counts allocations (and lets them all through). */
static int count_gate(size_t size, void *user)
{
	(void)size;
	(*(size_t *)user)++;
	return 1;
}

START_TEST(growth_is_amortised)
{
	/* Unbounded: 100000 single-row appends reallocate O(log n) times. */
	const size_t total = 100000;
	lupi_dataset *ds = make(1, 2);
	int32_t y0 = 0;
	ck_assert_int_eq(lupi_dataset_set_labels(ds, 3, &y0), LUPI_OK);
	float w0 = 1;
	ck_assert_int_eq(lupi_dataset_set_weights(ds, &w0), LUPI_OK);
	size_t allocs = 0;
	lupi__set_alloc_gate(count_gate, &allocs);
	for (size_t i = 1; i < total; i++) {
		float x[2] = {(float)(10 * i), (float)(10 * i + 1)};
		int32_t y = (int32_t)(i % 3);
		float w = 2.0f;
		ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL, &y,
						     NULL, &w), LUPI_OK);
	}
	lupi__set_alloc_gate(NULL, NULL);
	/* 16, 32, ... 2^17 rows: 14 doublings, 3 arrays each. */
	ck_assert_uint_le(ds->n_grow, 14);
	ck_assert_uint_eq(allocs, 3 * ds->n_grow);
	ck_assert_uint_eq(ds->n_moved, 0);
	ck_assert_uint_eq(lupi_dataset_rows(ds), total);
	assert_row(ds, total - 1, total - 1);
	ck_assert_int_eq(lupi_dataset_labels(ds)[total - 1],
			 (int32_t)((total - 1) % 3));
	lupi_dataset_free(ds);

	/* A ring of 1000 rows: after the room reached 2000 rows nothing is
	 * allocated, and each row is moved at most once. */
	ds = make(1, 2);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 1000), LUPI_OK);
	allocs = 0;
	lupi__set_alloc_gate(count_gate, &allocs);
	for (size_t i = 1; i < total; i++) {
		float x[2] = {(float)(10 * i), (float)(10 * i + 1)};
		ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL,
						     NULL, NULL, NULL),
				 LUPI_OK);
	}
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_uint_le(ds->n_grow, 8); /* 16 .. 2000 */
	ck_assert_uint_eq(allocs, ds->n_grow);
	ck_assert_uint_eq(ds->cap_rows, 2000);
	/* A move of 999 rows per 1001 appends once full. */
	ck_assert_uint_le(ds->n_moved, total + total / 10);
	ck_assert_uint_ge(ds->n_moved, total / 2);
	ck_assert_uint_eq(lupi_dataset_rows(ds), 1000);
	ck_assert_uint_eq(lupi_dataset_evicted(ds), total - 1000);
	for (size_t j = 0; j < 1000; j++)
		assert_row(ds, j, total - 1000 + j);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(grown_dataset_works_everywhere)
{
	lupi_dataset *ds = make(3, 2);
	ck_assert_int_eq(lupi_dataset_set_capacity(ds, 4), LUPI_OK);
	float *x = rows(3, 3, 2);
	ck_assert_int_eq(lupi_dataset_append(ds, 1, x, NULL, NULL, NULL, NULL,
					     NULL), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_append(ds, 2, x + 2, NULL, NULL, NULL,
					     NULL, NULL), LUPI_OK);
	free(x);
	ck_assert_uint_gt(ds->head, 0); /* evicted rows still in front */
	/* Replacing an array compacts the rows first. */
	int32_t y[4] = {0, 1, 1, 0};
	ck_assert_int_eq(lupi_dataset_set_binary_labels(ds, y), LUPI_OK);
	ck_assert_uint_eq(ds->head, 0);
	for (size_t j = 0; j < 4; j++)
		assert_row(ds, j, 2 + j);
	float xp[4] = {1, 2, 3, 4};
	ck_assert_int_eq(lupi_dataset_set_privileged(ds, 1, xp, NULL),
			 LUPI_OK);
	float t = 0;
	x = rows(6, 1, 2);
	int32_t y6 = 1;
	ck_assert_int_eq(lupi_dataset_append(ds, 1, x, &t, NULL, &y6, NULL,
					     NULL), LUPI_OK);
	free(x);
	for (size_t j = 0; j < 4; j++)
		assert_row(ds, j, 3 + j);
	/* Shuffling keeps the capacity; a subset has none. */
	ck_assert_int_eq(lupi_dataset_shuffle(ds, 7), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_capacity(ds), 4);
	size_t idx[2] = {0, 3};
	lupi_dataset *sub = NULL;
	ck_assert_int_eq(lupi_dataset_subset(ds, idx, 2, &sub), LUPI_OK);
	ck_assert_uint_eq(lupi_dataset_capacity(sub), 0);
	lupi_dataset_free(sub);
	float w[4] = {1, 2, 3, 4};
	ck_assert_int_eq(lupi_dataset_set_weights(ds, w), LUPI_OK);
	ck_assert_int_eq(lupi_dataset_set_weights(ds, NULL), LUPI_OK);
	lupi_dataset_free(ds);
}
END_TEST

START_TEST(sample_is_uniform_and_repeatable)
{
	lupi_dataset *ds = make(10, 1);
	enum { N = 100000 };
	size_t *idx = malloc(N * sizeof *idx);
	uint64_t state = 42, again = 42;
	ck_assert_int_eq(lupi_dataset_sample(ds, N, &state, idx), LUPI_OK);
	ck_assert_uint_ne(state, 42);
	size_t count[10] = {0};
	for (size_t i = 0; i < N; i++) {
		ck_assert_uint_lt(idx[i], 10);
		count[idx[i]]++;
	}
	/* Each count is Binomial(1e5, 0.1): sd 95, so +-600 is 6 sd. */
	for (size_t c = 0; c < 10; c++)
		ck_assert_msg(count[c] > 9400 && count[c] < 10600,
			      "row %zu drawn %zu times", c, count[c]);
	size_t first[4], second[4], other[4];
	/* The same start gives the same draws. */
	ck_assert_int_eq(lupi_dataset_sample(ds, 4, &again, first), LUPI_OK);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(first[i], idx[i]);
	ck_assert_int_eq(lupi_dataset_sample(ds, 4, &again, second), LUPI_OK);
	uint64_t s2 = 43;
	ck_assert_int_eq(lupi_dataset_sample(ds, 4, &s2, other), LUPI_OK);
	int same = 1;
	for (size_t i = 0; i < 4; i++)
		same &= first[i] == other[i];
	ck_assert_int_eq(same, 0);
	ck_assert_int_eq(lupi_dataset_sample(NULL, 4, &s2, other),
			 LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_sample(ds, 0, &s2, other), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_sample(ds, 4, NULL, other), LUPI_EINVAL);
	ck_assert_int_eq(lupi_dataset_sample(ds, 4, &s2, NULL), LUPI_EINVAL);
	free(idx);
	lupi_dataset_free(ds);
}
END_TEST

static Suite *grow_suite(void)
{
	Suite *s = suite_create("grow");
	TCase *tc = tcase_create("grow");
	tcase_add_test(tc, append_contents_and_order);
	tcase_add_test(tc, append_regression_targets);
	tcase_add_test(tc, append_errors_change_nothing);
	tcase_add_test(tc, append_out_of_memory_changes_nothing);
	tcase_add_test(tc, capacity_evicts_oldest);
	tcase_add_test(tc, smaller_capacity_evicts_now_and_settles_mask);
	tcase_add_test(tc, growth_is_amortised);
	tcase_add_test(tc, grown_dataset_works_everywhere);
	tcase_add_test(tc, sample_is_uniform_and_repeatable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return lupi_test_run(grow_suite());
}
