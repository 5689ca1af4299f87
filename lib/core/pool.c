/* The library's own worker threads: a job of `parts` independent parts,
 * part 0 run by the calling thread (what a part writes, a row block's
 * buffers say, stays in one core's caches from call to call), the others
 * by whichever thread (the caller or a worker) is free first. The BLAS
 * runs on one thread inside each part (lib/core/gemm.c splits a large
 * GEMM into parts), so there is one set of threads in the process, ours,
 * and it sleeps when idle: a worker spins for a short while after a job (the
 * next part of a training step comes within microseconds), then waits on
 * a condition variable. OpenBLAS's own workers, which yield in a loop for
 * tens of milliseconds after every threaded call, are never woken.
 *
 * Results never depend on which thread runs a part, nor on whether the
 * pool ran at all: a caller that finds the pool busy (another host thread
 * is using it) runs every part itself, the same parts in the same
 * partition. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "core_internal.h"

#define MAX_WORKERS 63
/* Polls of the job word before a worker sleeps: about 60 us (a pause is
 * ~30 ns on Zen 5). Shorter made `lupi demo --fashion-mnist` spend more in
 * futex calls and take longer; the jobs of a training step come within
 * microseconds of each other. */
#define SPIN 2000

#if defined(__x86_64__) || defined(__i386__)
#define RELAX() __builtin_ia32_pause()
#else
#define RELAX() ((void)0)
#endif

/* Wake-ups steered off the waking CPU (Linux). */
#if defined(__linux__) && defined(CPU_SET)
#define STEER 1
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* The job: the caller writes the fields, then publishes a new generation
 * in the high half of `state` with 1 part claimed in the low half (part
 * 0, which the caller runs). A thread claims part k by a compare-and-swap of (gen, k) to (gen, k + 1),
 * which fails if the job changed since it read the fields. The fields
 * are rewritten only after every claimed part is done. */
static struct {
	_Atomic(uint64_t) state;
	_Atomic(lupi__task_fn) fn;
	_Atomic(void *) ctx;
	atomic_uint parts;
	atomic_uint done;
	atomic_int sleepers;
	atomic_int quit;
	pthread_mutex_t m;
	pthread_cond_t cv;
	pthread_t tid[MAX_WORKERS];
	int workers; /* started; under `owner` */
#ifdef STEER
	atomic_int ktid[MAX_WORKERS];	 /* kernel thread id, 0: not yet */
	atomic_int steered[MAX_WORKERS]; /* kept off a CPU; `mask` to restore */
	cpu_set_t mask[MAX_WORKERS];
#endif
} pool = {.m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Held by the one caller whose job is in the pool. */
static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;

/* Claims and runs parts of the job of generation gen until none is left;
 * returns the number run. */
static unsigned run_parts(uint64_t gen)
{
	unsigned ran = 0;
	for (;;) {
		uint64_t s = atomic_load(&pool.state);
		if (s >> 32 != gen)
			return ran;
		lupi__task_fn fn = atomic_load_explicit(&pool.fn,
							memory_order_relaxed);
		void *ctx = atomic_load_explicit(&pool.ctx,
						 memory_order_relaxed);
		unsigned parts = atomic_load_explicit(&pool.parts,
						      memory_order_relaxed);
		unsigned k = (unsigned)s;
		if (k >= parts)
			return ran;
		if (!atomic_compare_exchange_weak(&pool.state, &s, s + 1))
			continue;
		fn(ctx, k, parts);
		atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
		ran++;
	}
}

#ifdef STEER
/* A worker woken from its sleep was queued by Linux on the waking CPU
 * (probably because in a virtual machine a halted virtual CPU counts as
 * preempted, so the idle one looked busy): it then waited until the
 * caller's whole job was done. bench/idle_batch, a 10,000-row prediction
 * after an idle moment: 3.6 ms on 2 threads, as on 1; 1.8 ms with the
 * worker kept off the caller's CPU (doc/performance.md, Round 4). So
 * before waking the sleepers the caller takes its own CPU out of their
 * affinity, and each worker restores what it had as soon as it runs.
 * Never with a single allowed CPU; a failed call only costs speed. */
static void steer_sleepers(void)
{
	int cpu = sched_getcpu();
	for (int k = 0; cpu >= 0 && k < pool.workers; k++) {
		pid_t t = atomic_load(&pool.ktid[k]);
		cpu_set_t *was = &pool.mask[k];
		if (t <= 0 || atomic_load(&pool.steered[k]) ||
		    sched_getaffinity(t, sizeof *was, was) != 0 ||
		    !CPU_ISSET(cpu, was) || CPU_COUNT(was) < 2)
			continue;
		cpu_set_t off = *was;
		CPU_CLR(cpu, &off);
		if (sched_setaffinity(t, sizeof off, &off) == 0)
			atomic_store(&pool.steered[k], 1);
	}
}

static void unsteer(int k)
{
	if (atomic_load_explicit(&pool.steered[k], memory_order_acquire)) {
		sched_setaffinity(0, sizeof pool.mask[k], &pool.mask[k]);
		atomic_store(&pool.steered[k], 0);
	}
}
#else
static void steer_sleepers(void)
{
}

static void unsteer(int k)
{
	(void)k;
}
#endif

static void *worker(void *arg)
{
	int k = (int)(intptr_t)arg;
#ifdef STEER
	atomic_store(&pool.ktid[k], (int)syscall(SYS_gettid));
#endif
	uint64_t seen = atomic_load(&pool.state) >> 32;
	while (!atomic_load(&pool.quit)) {
		uint64_t gen = atomic_load(&pool.state) >> 32;
		for (int i = 0; gen == seen && i < SPIN; i++) {
			RELAX();
			gen = atomic_load_explicit(&pool.state,
						   memory_order_relaxed) >> 32;
		}
		if (gen == seen) {
			pthread_mutex_lock(&pool.m);
			atomic_fetch_add(&pool.sleepers, 1);
			while ((gen = atomic_load(&pool.state) >> 32) == seen &&
			       !atomic_load(&pool.quit))
				pthread_cond_wait(&pool.cv, &pool.m);
			atomic_fetch_sub(&pool.sleepers, 1);
			pthread_mutex_unlock(&pool.m);
		}
		seen = gen;
		unsteer(k);
		run_parts(gen);
	}
	return NULL;
}

/* A child of fork() has none of the workers: it starts its own when it
 * needs them (a worker may have held pool.m at the fork). */
static void forget_workers(void)
{
	pool.workers = 0;
	atomic_store(&pool.sleepers, 0);
	pthread_mutex_init(&pool.m, NULL);
	pthread_cond_init(&pool.cv, NULL);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_workers);
}

/* Starts workers up to n (under `owner`); fewer when the system refuses
 * threads, which only costs speed. */
static void grow(int n)
{
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	if (pool.workers < n)
		pthread_once(&atfork_once, register_atfork);
	while (pool.workers < n) {
		pthread_attr_t a;
		if (pthread_attr_init(&a) != 0)
			return;
		pthread_attr_setstacksize(&a, 1u << 20);
#ifdef STEER
		atomic_store(&pool.ktid[pool.workers], 0);
		atomic_store(&pool.steered[pool.workers], 0);
#endif
		int rc = pthread_create(&pool.tid[pool.workers], &a, worker,
					(void *)(intptr_t)pool.workers);
		pthread_attr_destroy(&a);
		if (rc != 0)
			return;
		pool.workers++;
	}
}

#if defined(__GNUC__)
/* Workers must not outlive the library (a binding may unload it). */
__attribute__((destructor)) static void stop_workers(void)
{
	if (pthread_mutex_trylock(&owner) != 0)
		return; /* a job is running: leave the process to exit */
	pthread_mutex_lock(&pool.m);
	atomic_store(&pool.quit, 1);
	pthread_cond_broadcast(&pool.cv);
	pthread_mutex_unlock(&pool.m);
	for (int i = 0; i < pool.workers; i++)
		pthread_join(pool.tid[i], NULL);
	pool.workers = 0;
	pthread_mutex_unlock(&owner);
}
#endif

static void run_serial(lupi__task_fn fn, void *ctx, unsigned parts)
{
	for (unsigned k = 0; k < parts; k++)
		fn(ctx, k, parts);
}

void lupi__parallel(lupi__task_fn fn, void *ctx, unsigned parts)
{
	if (parts <= 1) {
		fn(ctx, 0, 1);
		return;
	}
	if (pthread_mutex_trylock(&owner) != 0) {
		run_serial(fn, ctx, parts);
		return;
	}
	grow(lupi_get_num_threads() - 1);
	if (pool.workers == 0 || atomic_load(&pool.quit)) {
		pthread_mutex_unlock(&owner);
		run_serial(fn, ctx, parts);
		return;
	}
	atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
	atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
	atomic_store_explicit(&pool.parts, parts, memory_order_relaxed);
	atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
	uint64_t gen = (atomic_load(&pool.state) >> 32) + 1;
	/* publishes the fields, part 0 taken: it is always this thread's */
	atomic_store(&pool.state, gen << 32 | 1);
	if (atomic_load(&pool.sleepers) > 0) {
		steer_sleepers();
		pthread_mutex_lock(&pool.m);
		pthread_cond_broadcast(&pool.cv);
		pthread_mutex_unlock(&pool.m);
	}
	fn(ctx, 0, parts);
	atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
	run_parts(gen);
	/* a worker is finishing its part; one that was preempted gets the
	 * core back sooner when this thread yields */
	for (long i = 0;
	     atomic_load_explicit(&pool.done, memory_order_acquire) < parts; i++)
		if (i < SPIN * 4)
			RELAX();
		else
			sched_yield();
	pthread_mutex_unlock(&owner);
}

unsigned lupi__parallel_parts(double work, double min_work)
{
	int n = lupi_get_num_threads();
	if (n <= 1 || !(work >= min_work))
		return 1;
	/* at least min_work per part */
	double most = work / min_work;
	return most < (double)n ? (unsigned)most : (unsigned)n;
}

void lupi__split(size_t n, unsigned part, unsigned parts, size_t align,
		 size_t *begin, size_t *end)
{
	size_t blocks = (n + align - 1) / align;
	size_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
	*begin = b0 * align < n ? b0 * align : n;
	*end = b1 * align < n ? b1 * align : n;
}
