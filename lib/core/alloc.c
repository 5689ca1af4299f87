/* Heap allocation behind one gate (for tests), and the scratch arena. */
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

#define ARENA_ALIGN 64

static lupi__alloc_gate_fn gate_fn;
static void *gate_user;

void lupi__set_alloc_gate(lupi__alloc_gate_fn gate, void *user)
{
	gate_fn = gate;
	gate_user = user;
}

static int gate_open(size_t size)
{
	return gate_fn == NULL || gate_fn(size, gate_user);
}

void *lupi__malloc(size_t size)
{
	if (!gate_open(size))
		return NULL;
	return malloc(size ? size : 1);
}

void *lupi__calloc(size_t n, size_t size)
{
	size_t total;
	if (lupi__mul_overflow(n, size, &total) || !gate_open(total))
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *lupi__realloc(void *p, size_t size)
{
	if (!gate_open(size))
		return NULL;
	return realloc(p, size ? size : 1);
}

void lupi__free(void *p)
{
	free(p);
}

void *lupi__malloc_array(size_t n, size_t size)
{
	size_t total;
	if (lupi__mul_overflow(n, size, &total))
		return NULL;
	return lupi__malloc(total);
}

char *lupi__strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = lupi__malloc(len);
	if (d)
		memcpy(d, s, len);
	return d;
}

int lupi__mul_overflow(size_t a, size_t b, size_t *out)
{
	if (b != 0 && a > SIZE_MAX / b)
		return 1;
	*out = a * b;
	return 0;
}

int lupi__check_host_array(size_t n, size_t count, size_t elem,
			   const char *what)
{
	size_t items, bytes;
	if (lupi__mul_overflow(n, count, &items) ||
	    lupi__mul_overflow(items, elem, &bytes) || bytes > PTRDIFF_MAX)
		return lupi__err(LUPI_ERANGE, "%s: %zu x %zu elements of %zu "
				 "bytes exceed any array", what, n, count,
				 elem);
	return LUPI_OK;
}

size_t lupi__arena_size(size_t bytes)
{
	return (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
}

int lupi__arena_reserve(lupi__arena *a, size_t bytes)
{
	a->used = 0;
	if (bytes <= a->cap)
		return LUPI_OK;
	if (bytes > SIZE_MAX - ARENA_ALIGN)
		return lupi__err(LUPI_ENOMEM, "scratch of %zu bytes", bytes);
	/* One allocation, aligned by hand: the raw pointer is kept in the word
	 * just below the aligned base, so that free() can find it. */
	size_t total = bytes + ARENA_ALIGN + sizeof(void *);
	unsigned char *raw = lupi__malloc(total);
	if (raw == NULL)
		return lupi__err(LUPI_ENOMEM, "cannot allocate %zu bytes of scratch",
				 bytes);
	lupi__arena_free(a);
	uintptr_t p = ((uintptr_t)raw + sizeof(void *) + ARENA_ALIGN - 1) &
		      ~(uintptr_t)(ARENA_ALIGN - 1);
	a->base = (unsigned char *)p;
	((void **)a->base)[-1] = raw;
	a->cap = bytes;
	return LUPI_OK;
}

void *lupi__arena_alloc(lupi__arena *a, size_t bytes)
{
	size_t need = lupi__arena_size(bytes);
	if (need > a->cap - a->used)
		return NULL;
	void *p = a->base + a->used;
	a->used += need;
	return p;
}

void lupi__arena_reset(lupi__arena *a)
{
	a->used = 0;
}

void lupi__arena_free(lupi__arena *a)
{
	if (a->base)
		lupi__free(((void **)a->base)[-1]);
	a->base = NULL;
	a->cap = a->used = 0;
}

/* Buffers handed to the host (lupi_model_save_memory) come from
 * lupi__malloc, so they go back through lupi__free. */
void lupi_free(void *p)
{
	lupi__free(p);
}
