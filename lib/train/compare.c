/* The standard LUPI experiment (Lopez-Paz et al. 2016, section 4) as a
 * handle: a baseline, the teacher, a hard-label student and distilled
 * students over a grid of (lambda, T), repeated with paired differences. */
#include <math.h>
#include <string.h>

#include "train_internal.h"

/* ---- options -------------------------------------------------------------- */

typedef struct compare_opts {
	int64_t repeats;
	uint64_t seed;
} compare_opts;

/* Comparison options are not saved in model files: file id 0. */
#define COMPARE_INT(N, field, st, lo, hi, def, doc)                           \
	LUPI__OPT_INT(COMPARE, N, compare_opts, field, st, lo, hi, def, NULL, \
		      0, 0, doc)

static const lupi__option compare_rows[] = {
	COMPARE_INT(REPEATS, repeats, LUPI__STORE_I64, 1, 100000, 5,
		    "repetitions, each with its own seed"),
	COMPARE_INT(SEED, seed, LUPI__STORE_U64, INT64_MIN, INT64_MAX, 0,
		    "seed of repetition 0: repetition r sets SEED + r as the "
		    "LUPI_MODEL_OPT_SEED of every model it trains"),
};

const lupi__option_table lupi__compare_options = {
	LUPI_HANDLE_COMPARE, "LUPI_COMPARE_OPT_", compare_rows,
	sizeof compare_rows / sizeof compare_rows[0]};

/* ---- the handle ----------------------------------------------------------- */

/* The result of one run. */
typedef struct table {
	size_t rows;
	unsigned repeats;
	int metric;
	int *kind;       /* rows */
	double *lambda;  /* rows, NaN unless DISTILLED */
	double *temp;    /* rows */
	double *values;  /* rows x repeats */
} table;

struct lupi_compare {
	lupi_model *tproto, *sproto; /* owned clones */
	lupi_loss *loss;             /* prototype: options and columns */
	double *lambdas, *temps;
	size_t nl, nt;
	compare_opts opt;
	unsigned share, shares;      /* lupi_compare_set_share; 0 of 1 */
	table *tab;                  /* the last successful run, or NULL */
};

static void table_free(table *t)
{
	if (t == NULL)
		return;
	lupi__free(t->kind);
	lupi__free(t->lambda);
	lupi__free(t->temp);
	lupi__free(t->values);
	lupi__free(t);
}

void lupi_compare_free(lupi_compare *c)
{
	if (c == NULL)
		return;
	lupi_model_free(c->tproto);
	lupi_model_free(c->sproto);
	lupi_loss_free(c->loss);
	lupi__free(c->lambdas);
	lupi__free(c->temps);
	table_free(c->tab);
	lupi__free(c);
}

static double *dup_doubles(const double *v, size_t n)
{
	double *d = lupi__malloc_array(n, sizeof *d);
	if (d != NULL)
		memcpy(d, v, n * sizeof *d);
	return d;
}

/* Every value of the grid must be a valid LAMBDA or TEMPERATURE: checked
 * against the loss's option table (its ranges and its messages), stored in
 * a scratch struct that is then dropped. */
static int check_values(int key, const double *v, size_t n)
{
	const lupi__option *row;
	lupi_loss probe;
	LUPI__TRY(lupi__option_lookup(&lupi__loss_options, key,
				      LUPI_TYPE_DOUBLE, &row));
	for (size_t i = 0; i < n; i++)
		LUPI__TRY(lupi__option_store_double(&lupi__loss_options, row,
						    &probe, v[i]));
	return LUPI_OK;
}

int lupi_compare_set_grid(lupi_compare *c, const double *lambdas,
			  size_t n_lambdas, const double *temps,
			  size_t n_temps)
{
	LUPI__CHECK_NULL(c);
	if (lambdas == NULL || temps == NULL || n_lambdas == 0 ||
	    n_temps == 0)
		return lupi__err(LUPI_EINVAL,
				 "the lambda and temperature grids must not "
				 "be empty");
	size_t grid;
	if (lupi__mul_overflow(n_lambdas, n_temps, &grid) ||
	    grid > SIZE_MAX / 4 / sizeof(double) / 100000)
		return lupi__err(LUPI_ERANGE, "a grid of %zu x %zu is too "
				 "large", n_lambdas, n_temps);
	LUPI__TRY(check_values(LUPI_LOSS_OPT_LAMBDA, lambdas, n_lambdas));
	LUPI__TRY(check_values(LUPI_LOSS_OPT_TEMPERATURE, temps, n_temps));
	double *l = dup_doubles(lambdas, n_lambdas);
	double *t = dup_doubles(temps, n_temps);
	if (l == NULL || t == NULL) {
		lupi__free(l);
		lupi__free(t);
		return lupi__err(LUPI_ENOMEM, "out of memory (grid)");
	}
	lupi__free(c->lambdas);
	lupi__free(c->temps);
	c->lambdas = l;
	c->temps = t;
	c->nl = n_lambdas;
	c->nt = n_temps;
	return LUPI_OK;
}

int lupi_compare_set_loss(lupi_compare *c, const lupi_loss *loss)
{
	LUPI__CHECK_NULL(c);
	LUPI__CHECK_NULL(loss);
	lupi_loss *copy = NULL;
	LUPI__TRY(lupi__loss_copy(loss, &copy));
	lupi_loss_free(c->loss);
	c->loss = copy;
	return LUPI_OK;
}

int lupi_compare_set_int(lupi_compare *c, int key, int64_t value)
{
	LUPI__CHECK_NULL(c);
	return lupi__option_set_int(&lupi__compare_options, &c->opt, key,
				    value);
}

int lupi_compare_get_int(const lupi_compare *c, int key, int64_t *value)
{
	LUPI__CHECK_NULL(c);
	return lupi__option_get_int(&lupi__compare_options, &c->opt, key,
				    value);
}

int lupi_compare_create(const lupi_model *teacher_proto,
			const lupi_model *student_proto, lupi_compare **out)
{
	LUPI__CHECK_NULL(out);
	*out = NULL;
	LUPI__CHECK_NULL(teacher_proto);
	LUPI__CHECK_NULL(student_proto);
	if (teacher_proto->n_out != student_proto->n_out)
		return lupi__err(LUPI_ESHAPE,
				 "student has %zu outputs, teacher %zu",
				 student_proto->n_out, teacher_proto->n_out);
	if (teacher_proto->task != student_proto->task)
		return lupi__err(LUPI_ESHAPE,
				 "teacher and student tasks differ");
	lupi_compare *c = lupi__calloc(1, sizeof *c);
	if (c == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (comparison)");
	lupi__option_defaults(&lupi__compare_options, &c->opt);
	c->shares = 1;
	static const double lambda0 = 0.5, temp0 = 1.0;
	int rc = lupi_model_clone(teacher_proto, &c->tproto);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(student_proto, &c->sproto);
	if (rc == LUPI_OK)
		rc = lupi_loss_create(LUPI_LOSS_KD, &c->loss);
	if (rc == LUPI_OK)
		rc = lupi_compare_set_grid(c, &lambda0, 1, &temp0, 1);
	if (rc < 0) {
		lupi_compare_free(c);
		return rc;
	}
	*out = c;
	return LUPI_OK;
}

/* ---- one run -------------------------------------------------------------- */

/* A run in progress: the table it fills, the pair of the current
 * repetition, and the progress count. */
typedef struct run {
	lupi_compare *c;
	table *tab;
	const lupi_dataset *train, *test;
	lupi_progress_fn progress;
	void *user;
	size_t done, total;  /* models trained, in all */
	size_t lo, hi;       /* the cells of this share: [lo, hi) */
} run;

/* Cell of a trained model: row (1 teacher, 2 hard, 3.. distilled) of
 * repetition rep, numbered in the order a whole run trains them. */
static size_t cell_of(const table *t, unsigned rep, size_t row)
{
	return (size_t)rep * (t->rows - 1) + row - 1;
}

static int owns(const run *r, unsigned rep, size_t row)
{
	size_t cell = cell_of(r->tab, rep, row);
	return cell >= r->lo && cell < r->hi;
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
		return lupi__err(LUPI_ESTATE, "the prototypes have no task");
	}
}

static int table_alloc(const lupi_compare *c, unsigned repeats, table **out)
{
	size_t rows = 3 + c->nl * c->nt; /* bounded by set_grid */
	table *t = lupi__calloc(1, sizeof *t);
	if (t == NULL)
		return lupi__err(LUPI_ENOMEM, "out of memory (comparison)");
	t->rows = rows;
	t->repeats = repeats;
	t->kind = lupi__malloc_array(rows, sizeof *t->kind);
	t->lambda = lupi__malloc_array(rows, sizeof *t->lambda);
	t->temp = lupi__malloc_array(rows, sizeof *t->temp);
	t->values = lupi__malloc_array(rows, repeats * sizeof *t->values);
	int rc = metric_of(c->sproto->task, &t->metric);
	if (rc == LUPI_OK && (!t->kind || !t->lambda || !t->temp ||
			      !t->values))
		rc = lupi__err(LUPI_ENOMEM, "out of memory (comparison)");
	if (rc < 0) {
		table_free(t);
		return rc;
	}
	static const int fixed[3] = {LUPI_COMPARE_BASELINE,
				     LUPI_COMPARE_TEACHER, LUPI_COMPARE_HARD};
	for (size_t row = 0; row < rows; row++) {
		t->kind[row] = row < 3 ? fixed[row] : LUPI_COMPARE_DISTILLED;
		t->lambda[row] = row < 3 ? NAN : c->lambdas[(row - 3) / c->nt];
		t->temp[row] = row < 3 ? NAN : c->temps[(row - 3) % c->nt];
	}
	*out = t;
	return LUPI_OK;
}

/* train and test fit both prototypes (views, task, outputs). */
static int check_pair(const lupi_compare *c, const lupi_dataset *train,
		      const lupi_dataset *test)
{
	LUPI__CHECK_NULL(train);
	LUPI__CHECK_NULL(test);
	int rc = lupi__model_check_dataset(c->tproto, train, 1);
	if (rc == LUPI_OK)
		rc = lupi__model_check_dataset(c->sproto, train, 1);
	if (rc < 0)
		return lupi__err_prefix(rc, "training set");
	rc = lupi__model_check_dataset(c->tproto, test, 1);
	if (rc == LUPI_OK)
		rc = lupi__model_check_dataset(c->sproto, test, 1);
	if (rc < 0)
		return lupi__err_prefix(rc, "test set");
	if (test->n == 0 || train->n == 0)
		return lupi__err(LUPI_EINVAL, "a dataset has no samples");
	return LUPI_OK;
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
		.size = sizeof(lupi_progress),
		.epoch = (unsigned)r->done,
		.epochs = (unsigned)r->total,
		.step = 0,
		.steps_per_epoch = 0,
		.loss = NAN,
		.valid_metric = NAN,
		.epoch_end = 1,
	};
	if (r->progress(r->user, &p) != 0)
		return lupi__err(LUPI_ECANCELLED,
				 "comparison cancelled by the progress "
				 "callback after %zu of %zu models", r->done,
				 r->total);
	return LUPI_OK;
}

/* A clone of proto with LUPI_MODEL_OPT_SEED = seed, initialised from it. */
static int fresh_clone(const lupi_model *proto, uint64_t seed,
		       lupi_model **out)
{
	LUPI__TRY(lupi_model_clone(proto, out));
	int rc = lupi_model_set_int(*out, LUPI_MODEL_OPT_SEED, (int64_t)seed);
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
static int fit_score(lupi_model *m, const lupi_teacher *t, lupi_loss *loss,
		     run *r, double *value)
{
	int rc = loss ? lupi_student_fit(m, t, loss, r->train, NULL, NULL, NULL)
		      : lupi_model_fit(m, r->train, NULL, NULL, NULL);
	if (value == NULL) /* a teacher another share scores */
		return rc;
	if (rc == LUPI_OK)
		rc = lupi_model_evaluate(m, r->test, r->tab->metric, value);
	if (rc == LUPI_OK)
		rc = tick(r);
	return rc;
}

/* One distilled row's student: a copy of the hard student's initial
 * weights, trained with a fresh copy of the loss prototype (so a learned
 * hint regressor or CRD queue never carries over between students). */
static int distill_row(run *r, size_t row, unsigned rep,
		       const lupi_model *init, const lupi_teacher *t)
{
	table *tab = r->tab;
	lupi_model *m = NULL;
	lupi_loss *loss = NULL;
	int rc = lupi_model_clone(init, &m);
	if (rc == LUPI_OK)
		rc = lupi__loss_copy(r->c->loss, &loss);
	if (rc == LUPI_OK)
		rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA,
					  tab->lambda[row]);
	if (rc == LUPI_OK)
		rc = lupi_loss_set_double(loss, LUPI_LOSS_OPT_TEMPERATURE,
					  tab->temp[row]);
	if (rc == LUPI_OK)
		rc = fit_score(m, t, loss, r,
			       &tab->values[row * tab->repeats + rep]);
	lupi_loss_free(loss);
	lupi_model_free(m);
	return rc;
}

/* Repetition rep with seed: baseline, teacher, hard student, then the
 * distilled students. The hard student is trained with the HARD loss of
 * lib/distill, the code the distilled students' label term runs, so that
 * lambda = 0 reproduces it exactly. The teacher is prepared on train once,
 * so every student reads its cache. */
static int run_repeat(run *r, unsigned rep, uint64_t seed)
{
	table *tab = r->tab;
	size_t R = tab->repeats;
	lupi_model *tm = NULL, *hard = NULL, *init = NULL;
	lupi_teacher *t = NULL;
	lupi_loss *hl = NULL;
	tab->values[0 * R + rep] = baseline(r->train, r->test);
	/* the cells of other shares stay NaN; a share trains the teacher and
	   the hard student's initial weights its distilled cells need (a
	   repetition without a cell of this share: run_all skips it) */
	int distilled = 0;
	for (size_t row = 1; row < tab->rows; row++) {
		if (!owns(r, rep, row))
			tab->values[row * R + rep] = NAN;
		else if (row >= 3)
			distilled = 1;
	}
	int rc = fresh_clone(r->c->tproto, seed, &tm);
	if (rc == LUPI_OK && (distilled || owns(r, rep, 1)))
		rc = fit_score(tm, NULL, NULL, r, owns(r, rep, 1) ?
			       &tab->values[1 * R + rep] : NULL);
	if (rc == LUPI_OK)
		rc = lupi_teacher_create(&t);
	if (rc == LUPI_OK)
		rc = lupi_teacher_add_model(t, tm, 1.0);
	if (rc == LUPI_OK)
		rc = lupi_teacher_prepare(t, r->train);
	if (rc == LUPI_OK)
		rc = fresh_clone(r->c->sproto, seed, &hard);
	if (rc == LUPI_OK)
		rc = lupi_model_clone(hard, &init);
	if (rc == LUPI_OK)
		rc = lupi_loss_create(LUPI_LOSS_HARD, &hl);
	if (rc == LUPI_OK && owns(r, rep, 2))
		rc = fit_score(hard, NULL, hl, r, &tab->values[2 * R + rep]);
	for (size_t row = 3; rc == LUPI_OK && row < tab->rows; row++)
		if (owns(r, rep, row))
			rc = distill_row(r, row, rep, init, t);
	lupi_model_free(tm);
	lupi_model_free(hard);
	lupi_model_free(init);
	lupi_teacher_free(t);
	lupi_loss_free(hl);
	return rc;
}

/* The pair of repetition rep from the callback. */
static int next_pair(run *r, lupi_compare_data_fn data, void *data_user,
		     unsigned rep, uint64_t seed)
{
	const lupi_dataset *train = NULL, *test = NULL;
	int rc = data(data_user, rep, seed, &train, &test);
	if (rc < 0)
		return lupi__err(rc, "the data callback returned %d (%s) for "
				 "repetition %u", rc, lupi_strerror(rc), rep);
	if (rc > 0)
		return lupi__err(LUPI_EINVAL, "the data callback returned %d "
				 "for repetition %u: not LUPI_OK nor an error "
				 "code", rc, rep);
	if (train == NULL || test == NULL)
		return lupi__err(LUPI_EINVAL, "the data callback gave no "
				 "%s set for repetition %u",
				 train == NULL ? "training" : "test", rep);
	LUPI__TRY(check_pair(r->c, train, test));
	r->train = train;
	r->test = test;
	return LUPI_OK;
}

/* Runs every repetition on the fixed pair (data NULL) or on the pairs of
 * the callback. The old table is dropped first, so a run that fails leaves
 * none: a host never reads an earlier run's table as this one's. */
static int run_all(lupi_compare *c, const lupi_dataset *train,
		   const lupi_dataset *test, lupi_compare_data_fn data,
		   void *data_user, lupi_progress_fn progress, void *user)
{
	table_free(c->tab);
	c->tab = NULL;
	if (data == NULL)
		LUPI__TRY(check_pair(c, train, test));
	unsigned repeats = (unsigned)c->opt.repeats;
	run r = {.c = c, .train = train, .test = test, .progress = progress,
		 .user = user};
	size_t cells = (size_t)repeats * (2 + c->nl * c->nt);
	/* share i of n: cells [i C / n, (i + 1) C / n), C < 2^64 / 2^32 */
	r.lo = (size_t)((uint64_t)cells * c->share / c->shares);
	r.hi = (size_t)((uint64_t)cells * (c->share + 1) / c->shares);
	r.total = r.hi - r.lo;
	LUPI__TRY(table_alloc(c, repeats, &r.tab));
	int rc = LUPI_OK;
	for (unsigned rep = 0; rc == LUPI_OK && rep < repeats; rep++) {
		uint64_t seed = c->opt.seed + rep;
		size_t first = cell_of(r.tab, rep, 1), last = first + cells /
							     repeats;
		if (c->shares > 1 && (last <= r.lo || first >= r.hi)) {
			/* no cell of this share: no data either */
			for (size_t row = 0; row < r.tab->rows; row++)
				r.tab->values[row * repeats + rep] = NAN;
			continue;
		}
		if (data)
			rc = next_pair(&r, data, data_user, rep, seed);
		if (rc == LUPI_OK)
			rc = run_repeat(&r, rep, seed);
	}
	if (rc < 0) {
		table_free(r.tab);
		return rc;
	}
	c->tab = r.tab;
	return LUPI_OK;
}

int lupi_compare_set_share(lupi_compare *c, unsigned index, unsigned count)
{
	LUPI__CHECK_NULL(c);
	LUPI__TRY(lupi__check_share(index, count));
	c->share = index;
	c->shares = count;
	return LUPI_OK;
}

int lupi_compare_run(lupi_compare *c, const lupi_dataset *train,
		     const lupi_dataset *test, lupi_progress_fn progress,
		     void *user)
{
	LUPI__CHECK_NULL(c);
	return run_all(c, train, test, NULL, NULL, progress, user);
}

int lupi_compare_run_each(lupi_compare *c, lupi_compare_data_fn data,
			  void *data_user, lupi_progress_fn progress,
			  void *user)
{
	LUPI__CHECK_NULL(c);
	LUPI__CHECK_NULL(data);
	return run_all(c, NULL, NULL, data, data_user, progress, user);
}

/* ---- the table ------------------------------------------------------------ */

size_t lupi_compare_rows(const lupi_compare *c)
{
	return c && c->tab ? c->tab->rows : 0;
}

unsigned lupi_compare_repeats(const lupi_compare *c)
{
	return c && c->tab ? c->tab->repeats : 0;
}

static int have_table(const lupi_compare *c)
{
	LUPI__CHECK_NULL(c);
	if (c->tab == NULL)
		return lupi__err(LUPI_ESTATE, "the comparison has no table: "
				 "no run has succeeded");
	return LUPI_OK;
}

int lupi_compare_metric(const lupi_compare *c)
{
	LUPI__TRY(have_table(c));
	return c->tab->metric;
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
	LUPI__TRY(have_table(c));
	const table *t = c->tab;
	if (row >= t->rows)
		return lupi__err(LUPI_ERANGE, "row %zu: the table has %zu rows",
				 row, t->rows);
	if (kind)
		*kind = t->kind[row];
	if (lambda)
		*lambda = t->lambda[row];
	if (temperature)
		*temperature = t->temp[row];
	const double *v = t->values + row * t->repeats;
	mean_std(v, NULL, t->repeats, mean, std);
	mean_std(v, t->values + 2 * t->repeats, t->repeats, diff_mean,
		 diff_std);
	return LUPI_OK;
}

/* The cell of (row, repeat) in the last run's table, range-checked. */
static int cell_at(const lupi_compare *c, size_t row, unsigned repeat,
		   double **cell)
{
	LUPI__TRY(have_table(c));
	table *t = c->tab;
	if (row >= t->rows)
		return lupi__err(LUPI_ERANGE, "row %zu: the table has %zu rows",
				 row, t->rows);
	if (repeat >= t->repeats)
		return lupi__err(LUPI_ERANGE,
				 "repetition %u: the table has %u", repeat,
				 t->repeats);
	*cell = &t->values[row * t->repeats + repeat];
	return LUPI_OK;
}

int lupi_compare_value(const lupi_compare *c, size_t row, unsigned repeat,
		       double *value)
{
	double *cell = NULL;
	LUPI__TRY(have_table(c));
	LUPI__CHECK_NULL(value);
	LUPI__TRY(cell_at(c, row, repeat, &cell));
	*value = *cell;
	return LUPI_OK;
}

int lupi_compare_set_value(lupi_compare *c, size_t row, unsigned repeat,
			   double value)
{
	double *cell = NULL;
	LUPI__TRY(cell_at(c, row, repeat, &cell));
	*cell = value;
	return LUPI_OK;
}
