/* Soak run (not a test; doc/reliability.md): THREADS threads train, save,
 * load and predict in a loop for SECONDS seconds while allocations fail at
 * random (one in ONE_IN, through the test hook lupi__set_alloc_gate) and
 * saves to files fail (lupi__io_set_fail: write, fsync or rename, every
 * fourth save). Every operation must succeed or fail with the injected
 * error (LUPI_ENOMEM, LUPI_EIO) and a message; a model loaded back from a
 * file or from memory must predict bit-identically to the one saved; a
 * failed save must leave the previous file, which still loads and predicts
 * as the model saved before. Prints operation counts, failures injected
 * and handled, anything lost, and the RSS at the start and the end.
 *
 *     ./build/bench/soak [THREADS [SECONDS [ONE_IN]]]      (4 60 200)
 *
 * Links the static layers so that it can reach the hooks in
 * lib/core/core_internal.h, as the reliability tests do. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "lupi.h"

#define N 64
#define D 8
#define DP 4
#define K 3

static atomic_ulong ops, ok_ops, nomem_seen, eio_seen, gate_calls,
    allocs_failed, io_failed, lost, absorbed, multi;
static atomic_int stop;
static unsigned one_in = 200;
static pthread_mutex_t io_lock = PTHREAD_MUTEX_INITIALIZER;

/* Per thread: whether allocations may fail now, and a random state. */
static _Thread_local int injecting;
static _Thread_local unsigned refused; /* in the current call */
static _Thread_local uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int gate(size_t size, void *user)
{
	(void)size, (void)user;
	atomic_fetch_add(&gate_calls, 1);
	if (!injecting || next_random() % one_in != 0)
		return 1;
	atomic_fetch_add(&allocs_failed, 1);
	refused++;
	return 0;
}

static void lose(const char *what, int rc)
{
	atomic_fetch_add(&lost, 1);
	fprintf(stderr, "soak: LOST: %s: %s: %s\n", what, lupi_strerror(rc),
	        lupi_errmsg());
}

/* One operation: OK, or the injected error with a message. Returns rc. */
static int check(const char *what, int rc, int allowed)
{
	atomic_fetch_add(&ops, 1);
	if (rc == LUPI_OK) {
		atomic_fetch_add(&ok_ops, 1);
		return rc;
	}
	if (rc == allowed && lupi_errmsg()[0] != '\0') {
		atomic_fetch_add(rc == LUPI_EIO ? &eio_seen : &nomem_seen, 1);
		return rc;
	}
	lose(what, rc);
	return rc;
}

/* Runs call with injected allocation failures until it succeeds (at most
 * 50 tries, the last without injection). */
#define RETRY(what, call)                                                   \
	do {                                                                \
		int rc_ = LUPI_ENOMEM;                                      \
		for (int try_ = 0; try_ < 50 && rc_ != LUPI_OK; try_++) {   \
			injecting = try_ < 49;                              \
			refused = 0;                                        \
			rc_ = check(what, (call), LUPI_ENOMEM);             \
			injecting = 0;                                      \
			if (refused > 0 && rc_ == LUPI_OK)                  \
				atomic_fetch_add(&absorbed, refused);       \
			if (refused > 1)                                    \
				atomic_fetch_add(&multi, refused - 1);      \
			if (rc_ != LUPI_OK && rc_ != LUPI_ENOMEM)           \
				break;                                      \
		}                                                           \
	} while (0)

static float X[N * D], XP[N * DP];
static int32_t Y[N];

static int same_predictions(const lupi_model *a, const lupi_model *b)
{
	float pa[N * K], pb[N * K];
	if (lupi_model_predict(a, X, N, D, LUPI_PREDICT_OUTPUT, pa) !=
	        LUPI_OK ||
	    lupi_model_predict(b, X, N, D, LUPI_PREDICT_OUTPUT, pb) != LUPI_OK)
		return 0;
	return memcmp(pa, pb, sizeof pa) == 0;
}

typedef struct worker {
	int id;
	char path[256];
	unsigned long cycles;
} worker;

/* Saves m to the worker's file; every fourth save has a system call fail
 * and must leave the file holding `previous` (the model saved before). */
static void save_cycle(worker *w, const lupi_model *m,
                       const lupi_model *previous)
{
	static const int fail[] = {LUPI__IO_FAIL_WRITE, LUPI__IO_FAIL_FSYNC,
	                           LUPI__IO_FAIL_RENAME};
	pthread_mutex_lock(&io_lock);
	int inject = previous != NULL && w->cycles % 4 == 3;
	if (inject) {
		lupi__io_set_fail(fail[w->cycles / 4 % 3]);
		atomic_fetch_add(&io_failed, 1);
	}
	int rc = lupi_model_save(m, w->path);
	if (inject)
		lupi__io_set_fail(LUPI__IO_FAIL_NONE);
	pthread_mutex_unlock(&io_lock);
	check("lupi_model_save", rc, inject ? LUPI_EIO : LUPI_OK);
	if (inject && rc == LUPI_OK)
		lose("a save with an injected I/O failure succeeded", rc);
	lupi_model *back = NULL;
	RETRY("lupi_model_load", lupi_model_load(w->path, &back));
	if (back == NULL)
		return;
	if (!same_predictions(back, rc == LUPI_OK ? m : previous))
		lose(rc == LUPI_OK ? "a loaded model predicts otherwise"
		                   : "a failed save changed the old file",
		     rc);
	lupi_model_free(back);
}

static void cycle(worker *w, lupi_model **previous)
{
	static const size_t hidden[] = {16};
	static const size_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
	lupi_dataset *ds = NULL;
	lupi_model *m = NULL, *copy = NULL, *teacher_m = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *loss = NULL;
	void *buf = NULL;
	size_t size = 0;
	double v;
	RETRY("lupi_dataset_create", lupi_dataset_create(N, D, X, &ds));
	RETRY("lupi_dataset_set_privileged",
	      lupi_dataset_set_privileged(ds, DP, XP, NULL));
	RETRY("lupi_dataset_set_labels", lupi_dataset_set_labels(ds, K, Y));
	RETRY("lupi_model_create",
	      lupi_model_create(LUPI_TASK_CLASSIFICATION, D, hidden, 1, K, &m));
	if (ds == NULL || m == NULL)
		goto out;
	lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 2);
	lupi_model_set_int(m, LUPI_MODEL_OPT_BATCH, 16);
	lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)w->cycles);
	RETRY("lupi_model_fit", lupi_model_fit(m, ds, NULL, NULL, NULL));
	/* A teacher on X* and a few distillation steps. */
	RETRY("lupi_model_clone", lupi_model_clone(m, &teacher_m));
	RETRY("lupi_loss_create", lupi_loss_create(LUPI_LOSS_KD, &loss));
	RETRY("lupi_teacher_create", lupi_teacher_create(&t));
	if (teacher_m != NULL && t != NULL) {
		RETRY("lupi_teacher_add_model",
		      lupi_teacher_add_model(t, teacher_m, 1.0));
		RETRY("lupi_teacher_prepare", lupi_teacher_prepare(t, ds));
		for (int s = 0; s < 4; s++)
			RETRY("lupi_student_step",
			      lupi_student_step(m, t, loss, ds, idx, 8, &v));
	}
	save_cycle(w, m, *previous);
	RETRY("lupi_model_save_memory", lupi_model_save_memory(m, &buf, &size));
	if (buf != NULL) {
		RETRY("lupi_model_load_memory",
		      lupi_model_load_memory(buf, size, &copy));
		if (copy != NULL && !same_predictions(m, copy))
			lose("a model loaded from memory predicts otherwise",
			     0);
	}
	float out[N * K];
	RETRY("lupi_model_predict",
	      lupi_model_predict(m, X, N, D, LUPI_PREDICT_OUTPUT, out));
	lupi_model_free(*previous);
	*previous = m;
	m = NULL;
out:
	lupi_free(buf);
	lupi_model_free(copy);
	lupi_model_free(teacher_m);
	lupi_teacher_free(t);
	lupi_loss_free(loss);
	lupi_model_free(m);
	lupi_dataset_free(ds);
}

static void *run(void *arg)
{
	worker *w = arg;
	lupi_model *previous = NULL;
	rng ^= (uint64_t)(w->id + 1) * 0x9e3779b97f4a7c15ull;
	while (!atomic_load(&stop)) {
		cycle(w, &previous);
		w->cycles++;
	}
	lupi_model_free(previous);
	return NULL;
}

static long rss_kib(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 4;
	int seconds = argc > 2 ? atoi(argv[2]) : 60;
	one_in = argc > 3 ? (unsigned)atoi(argv[3]) : 200;
	if (threads < 1 || threads > 64 || seconds < 1 || one_in < 1) {
		fprintf(stderr, "usage: %s [THREADS [SECONDS [ONE_IN]]]\n",
		        argv[0]);
		return 2;
	}
	for (int i = 0; i < N * D; i++)
		X[i] = (float)((i * 7) % 13) / 6.0f - 1.0f;
	for (int i = 0; i < N * DP; i++)
		XP[i] = (float)((i * 5) % 11) / 5.0f - 1.0f;
	for (int i = 0; i < N; i++)
		Y[i] = i % K;
	char dir[] = "/tmp/lupi-soak-XXXXXX";
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	lupi_set_num_threads(1);
	worker *w = calloc((size_t)threads, sizeof *w);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (w == NULL || tid == NULL)
		return 1;
	/* One warm-up cycle so that the start RSS includes BLAS buffers. */
	worker warm = {.id = -1};
	lupi_model *wp = NULL;
	snprintf(warm.path, sizeof warm.path, "%s/warm.lupi", dir);
	cycle(&warm, &wp);
	lupi_model_free(wp);
	remove(warm.path);
	long rss0 = rss_kib();
	lupi__set_alloc_gate(gate, NULL);
	atomic_store(&ops, 0);
	atomic_store(&ok_ops, 0);
	atomic_store(&gate_calls, 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++) {
		w[i].id = i;
		snprintf(w[i].path, sizeof w[i].path, "%s/m%d.lupi", dir, i);
		pthread_create(&tid[i], NULL, run, &w[i]);
	}
	sleep((unsigned)seconds);
	atomic_store(&stop, 1);
	unsigned long cycles = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		cycles += w[i].cycles;
		remove(w[i].path);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	lupi__set_alloc_gate(NULL, NULL);
	long rss1 = rss_kib();
	rmdir(dir);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
	              (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("soak: %d threads, %.1f s, one allocation in %u failing\n",
	       threads, secs, one_in);
	printf("soak: cycles (create, fit, distil, save, load, predict): %lu\n",
	       cycles);
	printf("soak: operations %lu (ok %lu), allocations asked %lu\n",
	       atomic_load(&ops), atomic_load(&ok_ops),
	       atomic_load(&gate_calls));
	printf("soak: injected allocation failures %lu, LUPI_ENOMEM returned "
	       "%lu\n",
	       atomic_load(&allocs_failed), atomic_load(&nomem_seen));
	printf("soak: refused allocations a call survived with LUPI_OK %lu, "
	       "second refusals within one failing call %lu\n",
	       atomic_load(&absorbed), atomic_load(&multi));
	printf("soak: injected I/O failures %lu, LUPI_EIO returned %lu\n",
	       atomic_load(&io_failed), atomic_load(&eio_seen));
	printf("soak: lost (wrong code, wrong result, damaged file): %lu\n",
	       atomic_load(&lost));
	printf("soak: RSS start %ld KiB, end %ld KiB\n", rss0, rss1);
	free(w);
	free(tid);
	return atomic_load(&lost) != 0;
}
