/* The standard LUPI experiment (Lopez-Paz et al. 2016, section 4): a
 * baseline, the teacher, a hard-label student and distilled students over a
 * grid of (lambda, T), repeated over seeds with paired differences. */
#include <math.h>

#include "train_internal.h"

struct lupi_compare {
	size_t rows;
	unsigned seeds;
	int metric;
	int *kind;       /* rows */
	double *lambda;  /* rows, NaN unless DISTILLED */
	double *temp;    /* rows */
	double *values;  /* rows x seeds */
};

/* The arguments of one lupi_compare_run() and its progress. */
typedef struct run {
	const lupi_model *tproto, *sproto;
	const lupi_dataset *train, *test;
	const double *lambdas, *temps;
	size_t nl, nt;
	const lupi_loss *loss_proto; /* NULL for KD */
	lupi_progress_fn progress;
	void *user;
	size_t done, total;          /* models trained, in all */
	lupi_compare *c;
} run;

void lupi_compare_free(lupi_compare *c)
{
	if (c == NULL)
		return;
	lupi__free(c->kind);
	lupi__free(c->lambda);
	lupi__free(c->temp);
	lupi__free(c->values);
	lupi__free(c);
}

/* A fresh loss with proto's kind, options and columns but no learned
 * state (a clean hint regressor or CRD queue); KD when proto is NULL. */
static int loss_copy(const lupi_loss *proto, lupi_loss **out)
{
	if (proto == NULL)
		return lupi_loss_create(LUPI_LOSS_KD, out);
	return lupi__loss_copy(proto, out);
}

static int metric_of(int task, int *metric)
{
	switch (task) {
	case LUPI_TASK_CLASSIFICATION:
	case LUPI_TASK_BINARY:
		*metric = LUPI_METRIC_ACCURACY;
		return LUPI_OK;
	case LUPI_TASK_REGRESSION:
		*metric = LUPI_METRIC_MSE;
		return LUPI_OK;
	default:
		return lupi__err(LUPI_ESTATE, "training set has no targets");
	}
}

static int check_grid(lupi_loss *loss, const double *lambdas, size_t nl,
		      const double *temps, size_t nt)
{
	if (lambdas == NULL || temps == NULL || nl == 0 || nt == 0)
		return lupi__err(LUPI_EINVAL,
				 "the lambda and temperature grids must not "
				 "be empty");
	for (size_t i = 0; i < nl; i++)
		LUPI__TRY(lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA,
					       lambdas[i]));
	for (size_t j = 0; j < nt; j++)
		LUPI__TRY(lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE,
					       temps[j]));
	return LUPI_OK;
}

static int check_shapes(const lupi_model *tp, const lupi_model *sp,
			const lupi_dataset *train, const lupi_dataset *test)
{
	if (tp->n_out != sp->n_out)
		return lupi__err(LUPI_ESHAPE,
				 "student has %zu outputs, teacher %zu",
				 sp->n_out, tp->n_out);
	if (tp->task != sp->task || sp->task != train->task ||
	    test->task != train->task)
		return lupi__err(LUPI_ESHAPE,
				 "teacher, student, train and test tasks "
				 "differ");
	if (test->k != train->k || test->d != train->d ||
	    test->d_priv != train->d_priv)
		return lupi__err(LUPI_ESHAPE,
				 "train and test have different shapes");
	return LUPI_OK;
}

static int table_alloc(size_t rows, unsigned seeds, int metric,
		       lupi_compare **out)
{
	lupi_compare *c = lupi__calloc(1, sizeof *c);
	if (c == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (comparison)");
	c->rows = rows;
	c->seeds = seeds;
	c->metric = metric;
	c->kind = lupi__malloc_array(rows, sizeof *c->kind);
	c->lambda = lupi__malloc_array(rows, sizeof *c->lambda);
	c->temp = lupi__malloc_array(rows, sizeof *c->temp);
	c->values = lupi__malloc_array(rows, seeds * sizeof *c->values);
	if (!c->kind || !c->lambda || !c->temp || !c->values) {
		lupi_compare_free(c);
		return lupi__err(LUPI_ENOMEM, "out of memory (comparison)");
	}
	*out = c;
	return LUPI_OK;
}

static void table_labels(run *r)
{
	lupi_compare *c = r->c;
	int fixed[3] = {LUPI_COMPARE_BASELINE, LUPI_COMPARE_TEACHER,
			LUPI_COMPARE_HARD};
	for (size_t row = 0; row < c->rows; row++) {
		c->kind[row] = row < 3 ? fixed[row] : LUPI_COMPARE_DISTILLED;
		c->lambda[row] = NAN;
		c->temp[row] = NAN;
		if (row < 3)
			continue;
		c->lambda[row] = r->lambdas[(row - 3) / r->nt];
		c->temp[row] = r->temps[(row - 3) % r->nt];
	}
}

/* Majority-class accuracy or training-mean MSE on test. */
static double baseline(const lupi_dataset *train, const lupi_dataset *test)
{
	if (train->task == LUPI_TASK_REGRESSION) {
		size_t m = train->k;
		double se = 0.0;
		for (size_t j = 0; j < m; j++) {
			double mean = 0.0;
			for (size_t i = 0; i < train->n; i++)
				mean += train->targets[i * m + j];
			mean /= (double)train->n;
			for (size_t i = 0; i < test->n; i++) {
				double e = test->targets[i * m + j] - mean;
				se += e * e;
			}
		}
		return se / ((double)test->n * (double)m);
	}
	size_t best = 0, best_count = 0;
	for (size_t c = 0; c < train->k; c++) {
		size_t cnt = 0;
		for (size_t i = 0; i < train->n; i++)
			cnt += train->labels[i] == (int32_t)c;
		if (cnt > best_count) {
			best = c;
			best_count = cnt;
		}
	}
	size_t hit = 0;
	for (size_t i = 0; i < test->n; i++)
		hit += test->labels[i] == (int32_t)best;
	return (double)hit / (double)test->n;
}

/* Counts one trained model and asks the callback whether to go on. */
static int tick(run *r)
{
	r->done++;
	if (r->progress == NULL)
		return LUPI_OK;
	lupi_progress p = {
		.epoch = (unsigned)r->done,
		.epochs = (unsigned)r->total,
		.step = 0,
		.steps_per_epoch = 0,
		.loss = NAN,
		.valid_metric = NAN,
		.epoch_end = 1,
	};
	if (r->progress(r->user, &p) != 0)
		return lupi__err(LUPI_ESTATE, "cancelled");
	return LUPI_OK;
}

/* A clone of proto initialised from its seed + offset. */
static int fresh_clone(const lupi_model *proto, uint64_t offset,
		       lupi_model **out)
{
	LUPI__TRY(lupi_model_clone(proto, out));
	int rc = lupi_model_set_int(*out, LUPI_MODEL_OPT_SEED,
				    (int64_t)(proto->opt.seed + offset));
	if (rc == LUPI_OK)
		rc = lupi_model_init(*out);
	if (rc < 0) {
		lupi_model_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Trains m (with a loss: as a student of t, which may be NULL) and scores
 * it on test. */
static int fit_score(lupi_model *m, lupi_teacher *t, lupi_loss *loss,
		     run *r, double *value)
{
	int rc = loss ? lupi_student_fit(m, t, loss, r->train, NULL, NULL, NULL)
		      : lupi_model_fit(m, r->train, NULL, NULL, NULL);
	if (rc == LUPI_OK)
		rc = lupi_model_evaluate(m, r->test, r->c->metric, value);
	if (rc == LUPI_OK)
		rc = tick(r);
	return rc;
}

/* One distilled row's student: a copy of the hard student's initial
 * weights, trained with a fresh copy of loss_proto (so a learned hint
 * regressor or CRD queue never carries over between students). */
static int distill_row(run *r, size_t row, unsigned s,
		       const lupi_model *init, lupi_teacher *t)
{
	lupi_compare *c = r->c;
	lupi_model *m = NULL;
	lupi_loss *loss = NULL;
	int rc = lupi_model_clone(init, &m);
	if (rc == LUPI_OK)
		rc = loss_copy(r->loss_proto, &loss);
	if (rc == LUPI_OK)
		rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA,
					  c->lambda[row]);
	if (rc == LUPI_OK)
		rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE,
					  c->temp[row]);
	if (rc == LUPI_OK)
		rc = fit_score(m, t, loss, r, &c->values[row * c->seeds + s]);
	lupi_loss_free(loss);
	lupi_model_free(m);
	return rc;
}

/* Seed s: baseline, teacher, hard student, then the distilled students.
 * The hard student is trained with the HARD loss of lib/distill, the code
 * the distilled students' label term runs, so that lambda = 0 reproduces
 * it exactly. */
static int run_seed(run *r, unsigned s)
{
	lupi_compare *c = r->c;
	lupi_model *tm = NULL, *hard = NULL, *init = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *hl = NULL;
	c->values[0 * c->seeds + s] = baseline(r->train, r->test);
	int rc = fresh_clone(r->tproto, s, &tm);
	if (rc == LUPI_OK)
		rc = fit_score(tm, NULL, NULL, r, &c->values[1 * c->seeds + s]);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	if (rc == LUPI_OK)
		rc = lupi_teacher_add_model(t, tm, 1.0);
	if (rc == LUPI_OK)
		rc = fresh_clone(r->sproto, s, &hard);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(hard, &init);
	if (rc == LUPI_OK)
		rc = lupi_loss_create(LUPI_LOSS_HARD, &hl);
	if (rc == LUPI_OK)
		rc = fit_score(hard, NULL, hl, r, &c->values[2 * c->seeds + s]);
	for (size_t row = 3; rc == LUPI_OK && row < c->rows; row++)
		rc = distill_row(r, row, s, init, t);
	lupi_model_free(tm);
	lupi_model_free(hard);
	lupi_model_free(init);
	lupi_teacher_free(t);
	lupi_loss_free(hl);
	return rc;
}

static int compare_args(const lupi_model *tp, const lupi_model *sp,
			const lupi_dataset *train, const lupi_dataset *test,
			unsigned n_seeds)
{
	LUPI__CHECK_NULL(tp);
	LUPI__CHECK_NULL(sp);
	LUPI__CHECK_NULL(train);
	LUPI__CHECK_NULL(test);
	if (n_seeds == 0)
		return lupi__err(LUPI_EINVAL, "n_seeds is 0");
	return check_shapes(tp, sp, train, test);
}

int lupi_compare_run(const lupi_model *teacher_proto,
		     const lupi_model *student_proto,
		     const lupi_loss *loss_proto, const lupi_dataset *train,
		     const lupi_dataset *test, const double *lambdas,
		     size_t n_lambdas, const double *temps, size_t n_temps,
		     unsigned n_seeds, lupi_progress_fn progress, void *user,
		     lupi_compare **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__TRY(compare_args(teacher_proto, student_proto, train, test,
			       n_seeds));
	run r = {.tproto = teacher_proto, .sproto = student_proto,
		 .train = train, .test = test, .lambdas = lambdas,
		 .temps = temps, .nl = n_lambdas, .nt = n_temps,
		 .loss_proto = loss_proto, .progress = progress,
		 .user = user};
	int metric = LUPI_METRIC_ACCURACY;
	LUPI__TRY(metric_of(train->task, &metric));
	/* The grid is checked on a scratch copy before anything is trained. */
	lupi_loss *probe = NULL;
	LUPI__TRY(loss_copy(loss_proto, &probe));
	int rc = check_grid(probe, lambdas, n_lambdas, temps, n_temps);
	lupi_loss_free(probe);
	size_t grid = 0;
	if (rc == LUPI_OK && (lupi__mul_overflow(n_lambdas, n_temps, &grid) ||
			      grid > SIZE_MAX / 2 / n_seeds))
		rc = lupi__err(LUPI_ERANGE, "the grid is too large");
	if (rc == LUPI_OK)
		rc = table_alloc(3 + grid, n_seeds, metric, &r.c);
	if (rc == LUPI_OK) {
		r.total = (size_t)n_seeds * (2 + grid);
		table_labels(&r);
	}
	for (unsigned s = 0; rc == LUPI_OK && s < n_seeds; s++)
		rc = run_seed(&r, s);
	if (rc < 0) {
		lupi_compare_free(r.c);
		return rc;
	}
	*out = r.c;
	return LUPI_OK;
}

size_t lupi_compare_rows(const lupi_compare *c)
{
	return c ? c->rows : 0;
}

unsigned lupi_compare_repeats(const lupi_compare *c)
{
	return c ? c->seeds : 0;
}

int lupi_compare_metric(const lupi_compare *c)
{
	return c ? c->metric : LUPI_EINVAL;
}

/* Mean and sample standard deviation (n - 1; 0 for one value) of v[i] -
 * base[i] (base NULL for 0). */
static void mean_std(const double *v, const double *base, unsigned n,
		     double *mean, double *std)
{
	double m = 0.0;
	for (unsigned i = 0; i < n; i++)
		m += v[i] - (base ? base[i] : 0.0);
	m /= n;
	double ss = 0.0;
	for (unsigned i = 0; i < n; i++) {
		double e = v[i] - (base ? base[i] : 0.0) - m;
		ss += e * e;
	}
	if (mean)
		*mean = m;
	if (std)
		*std = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

int lupi_compare_row(const lupi_compare *c, size_t row, int *kind,
		     double *lambda, double *temperature, double *mean,
		     double *std, double *diff_mean, double *diff_std)
{
	LUPI__CHECK_NULL(c);
	if (row >= c->rows)
		return lupi__err(LUPI_ERANGE, "row %zu: the table has %zu rows",
				 row, c->rows);
	if (kind)
		*kind = c->kind[row];
	if (lambda)
		*lambda = c->lambda[row];
	if (temperature)
		*temperature = c->temp[row];
	const double *v = c->values + row * c->seeds;
	mean_std(v, NULL, c->seeds, mean, std);
	mean_std(v, c->values + 2 * c->seeds, c->seeds, diff_mean, diff_std);
	return LUPI_OK;
}

int lupi_compare_value(const lupi_compare *c, size_t row, unsigned seed,
		       double *value)
{
	LUPI__CHECK_NULL(c);
	LUPI__CHECK_NULL(value);
	if (row >= c->rows)
		return lupi__err(LUPI_ERANGE, "row %zu: the table has %zu rows",
				 row, c->rows);
	if (seed >= c->seeds)
		return lupi__err(LUPI_ERANGE,
				 "seed %u: the table has %u seeds", seed,
				 c->seeds);
	*value = c->values[row * c->seeds + seed];
	return LUPI_OK;
}
