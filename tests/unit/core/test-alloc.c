/* The allocation gate, overflow checks and the scratch arena. */
#include <stdint.h>

#include "core/core_internal.h"
#include "testutil.h"

START_TEST(gate_fails_allocations)
{
	int budget = 1;
	lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
	void *a = lupi__malloc(16);
	void *b = lupi__malloc(16);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(budget, 0);
	lupi__free(a);
}
END_TEST

START_TEST(overflow_is_detected)
{
	size_t out = 0;
	ck_assert_int_eq(lupi__mul_overflow(SIZE_MAX / 2 + 1, 2, &out), 1);
	ck_assert_int_eq(lupi__mul_overflow(3, 5, &out), 0);
	ck_assert_uint_eq(out, 15);
	ck_assert_ptr_null(lupi__malloc_array(SIZE_MAX / 4, 8));
	ck_assert_ptr_null(lupi__calloc(SIZE_MAX / 4, 8));
}
END_TEST

START_TEST(arena_allocates_only_on_growth)
{
	lupi__arena a = {0};
	int budget = 1;
	lupi__set_alloc_gate(lupi_test_budget_gate, &budget);
	ck_assert_int_eq(lupi__arena_reserve(&a, 1000), LUPI_OK);
	ck_assert_int_eq(budget, 0);
	/* Smaller or equal reservations reuse the block: no allocation. */
	ck_assert_int_eq(lupi__arena_reserve(&a, 1000), LUPI_OK);
	ck_assert_int_eq(lupi__arena_reserve(&a, 10), LUPI_OK);
	/* A larger one needs memory and fails cleanly with the gate closed. */
	ck_assert_int_eq(lupi__arena_reserve(&a, 5000), LUPI_ENOMEM);
	lupi__set_alloc_gate(NULL, NULL);
	lupi__arena_free(&a);

	ck_assert_int_eq(lupi__arena_reserve(&a, lupi__arena_size(100) + 64),
			 LUPI_OK);
	unsigned char *p = lupi__arena_alloc(&a, 100);
	unsigned char *q = lupi__arena_alloc(&a, 64);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq((uintptr_t)p % 64, 0);
	ck_assert_uint_eq((uintptr_t)q % 64, 0);
	ck_assert(q >= p + 100);
	memset(p, 1, 100);
	memset(q, 2, 64);
	ck_assert_ptr_null(lupi__arena_alloc(&a, 1));
	lupi__arena_reset(&a);
	ck_assert_ptr_eq(lupi__arena_alloc(&a, 1), p);
	lupi__arena_free(&a);
	lupi__arena_free(&a); /* twice is harmless */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("alloc");
	tcase_add_test(tc, gate_fails_allocations);
	tcase_add_test(tc, overflow_is_detected);
	tcase_add_test(tc, arena_allocates_only_on_growth);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
