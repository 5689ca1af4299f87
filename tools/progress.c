/*
 * progress.c - the one-line progress bar on a terminal (redrawn with \r:
 * epoch, loss, validation metric, samples/s, time left), the record of
 * each epoch for --plot, and Ctrl-C: the progress callbacks ask the library
 * to stop, which then returns LUPI_ECANCELLED.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* SA_RESETHAND: a second Ctrl-C ends the process at once. An ignored
 * SIGINT (a background job of a shell) stays ignored. */
void cli_catch_interrupt(void)
{
	struct sigaction sa, old;

	if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler == SIG_IGN)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

int cli_interrupted(void)
{
	return interrupted != 0;
}

double cli_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A bar only for a person watching: a terminal, and neither --quiet nor
 * --json. */
int cli_show_progress(const struct cli *c)
{
	return !c->quiet && !c->json && isatty(STDERR_FILENO);
}

void cli_progress_init(struct cli_progress *p, const struct cli *c,
		       const char *label, size_t n_train)
{
	p->label = label;
	p->bar = cli_show_progress(c);
	p->n_train = n_train;
	p->t0 = cli_now();
	p->last_draw = 0;
	p->n_epochs = 0;
	p->loss = p->valid = NULL;
	p->cap = 0;
}

static void record(struct cli_progress *p, const lupi_progress *e)
{
	if (p->n_epochs == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		double *l = realloc(p->loss, cap * sizeof(*l));
		double *v;

		if (!l)
			return;
		p->loss = l;
		v = realloc(p->valid, cap * sizeof(*v));
		if (!v)
			return;
		p->valid = v;
		p->cap = cap;
	}
	p->loss[p->n_epochs] = e->loss;
	p->valid[p->n_epochs] = e->valid_metric;
	p->n_epochs++;
}

static void format_time(char *buf, size_t size, double s)
{
	long t = s > 0 && s < 1e7 ? lround(s) : 0;

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

static void draw(const struct cli_progress *p, double done, double total,
		 const char *what, const lupi_progress *e, double rate)
{
	char left[32], bar[21];
	double elapsed = cli_now() - p->t0;
	double frac = total > 0 ? done / total : 0;
	int fill = (int)(frac * 20);

	format_time(left, sizeof(left),
		    frac > 0 ? elapsed * (1 - frac) / frac : 0);
	for (int i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[20] = '\0';
	fprintf(stderr, "\r%-8s %s [%s]", p->label, what, bar);
	if (e && !isnan(e->loss))
		fprintf(stderr, " loss %.4f", e->loss);
	if (e && !isnan(e->valid_metric))
		fprintf(stderr, " valid %.4f", e->valid_metric);
	if (rate > 0)
		fprintf(stderr, " %.0f samples/s", rate);
	fprintf(stderr, " left %s \033[K", left);
	fflush(stderr);
}

int cli_progress_fn(void *user, const lupi_progress *e)
{
	struct cli_progress *p = user;
	char what[48];
	double done, total, elapsed;

	if (e->epoch_end)
		record(p, e);
	/* at most ten redraws a second, and every epoch end */
	if (!p->bar || (!e->epoch_end && cli_now() - p->last_draw < 0.1))
		return cli_interrupted();
	p->last_draw = cli_now();
	done = (double)(e->epoch - 1) + (e->steps_per_epoch ?
		(double)e->step / (double)e->steps_per_epoch : 1.0);
	total = (double)e->epochs;
	elapsed = cli_now() - p->t0;
	snprintf(what, sizeof(what), "epoch %u/%u", e->epoch, e->epochs);
	draw(p, done, total, what, e,
	     elapsed > 0 ? done * (double)p->n_train / elapsed : 0);
	return cli_interrupted();
}

/* lupi_compare_run reports models done out of models in all. */
int cli_progress_models_fn(void *user, const lupi_progress *e)
{
	struct cli_progress *p = user;
	char what[48];

	if (!p->bar)
		return cli_interrupted();
	snprintf(what, sizeof(what), "model %u/%u", e->epoch, e->epochs);
	draw(p, e->epoch, e->epochs, what, NULL, 0);
	return cli_interrupted();
}

/* Asks for calls within epochs too, about 50 per epoch, so that the bar
 * moves and Ctrl-C stops a long epoch early. */
void cli_progress_watch(struct cli_progress *p, lupi_model *m)
{
	int64_t batch;
	size_t steps;

	if (lupi_model_get_int(m, LUPI_MODEL_OPT_BATCH, &batch) != LUPI_OK ||
	    batch < 1)
		return;
	steps = (p->n_train + (size_t)batch - 1) / (size_t)batch;
	lupi_model_set_int(m, LUPI_MODEL_OPT_PROGRESS_STEPS,
			   steps >= 100 ? (int64_t)(steps / 50) : 0);
}

void cli_progress_done(struct cli_progress *p)
{
	if (p->bar)
		fputs("\r\033[K", stderr);
}

void cli_progress_free(struct cli_progress *p)
{
	free(p->loss);
	free(p->valid);
	p->loss = p->valid = NULL;
}
