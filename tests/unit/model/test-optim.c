/* Optimiser updates against values computed by hand (in double, from the
 * textbook formulas), schedules, clipping and the non-finite guard. */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "testutil.h"

#define NP 3

static const float P0[NP] = {1.0f, -2.0f, 0.5f};
static const float G0[NP] = {0.1f, -0.2f, 0.3f};

/* A linear model with 2 inputs and 1 output: W (2) then b (1). */
static lupi_model *make(int optimizer, double lr)
{
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, NULL, 0, 1,
					   &m), LUPI_OK);
	ck_assert_uint_eq(lupi_model_num_params(m), NP);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER, optimizer),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_LR, lr), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_params(m, P0, NP), LUPI_OK);
	m->grads = lupi__calloc(NP, sizeof *m->grads);
	ck_assert_ptr_nonnull(m->grads);
	memcpy(m->grads, G0, sizeof G0);
	return m;
}

static void expect(const lupi_model *m, const double *want)
{
	for (size_t i = 0; i < NP; i++)
		ck_assert_double_eq_tol(m->params[i], want[i],
					1e-6 * (1 + fabs(want[i])));
}

START_TEST(sgd_plain_and_weight_decay)
{
	lupi_model *m = make(LUPI_OPTIM_SGD, 0.1);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	double want[NP];
	for (size_t i = 0; i < NP; i++)
		want[i] = P0[i] - 0.1 * G0[i];
	expect(m, want);
	ck_assert_uint_eq(m->t, 1);
	ck_assert_ptr_null(m->opt_m); /* no state without momentum */
	lupi_model_free(m);

	/* L2: g + wd p, biases included */
	m = make(LUPI_OPTIM_SGD, 0.1);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY, 0.5),
			 LUPI_OK);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	for (size_t i = 0; i < NP; i++)
		want[i] = P0[i] - 0.1 * (G0[i] + 0.5 * P0[i]);
	expect(m, want);
	lupi_model_free(m);
}
END_TEST

START_TEST(sgd_momentum_and_nesterov)
{
	for (int nesterov = 0; nesterov < 2; nesterov++) {
		lupi_model *m = make(LUPI_OPTIM_SGD, 0.1);
		ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_MOMENTUM,
						       0.9), LUPI_OK);
		ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_NESTEROV,
						    nesterov), LUPI_OK);
		double p[NP], v[NP] = {0};
		for (size_t i = 0; i < NP; i++)
			p[i] = P0[i];
		for (int step = 0; step < 3; step++) {
			ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
			for (size_t i = 0; i < NP; i++) {
				v[i] = 0.9 * v[i] + G0[i];
				p[i] -= 0.1 * (nesterov ? G0[i] + 0.9 * v[i]
							: v[i]);
			}
			expect(m, p);
		}
		lupi_model_free(m);
	}
}
END_TEST

/* Kingma & Ba 2015, Algorithm 1, with L2 (Adam) or decoupled (AdamW)
 * weight decay. */
static void adam_reference(int adamw, double wd, double *p, int steps)
{
	double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
	double mo[NP] = {0}, vo[NP] = {0};
	for (int t = 1; t <= steps; t++)
		for (size_t i = 0; i < NP; i++) {
			double g = G0[i] + (adamw ? 0.0 : wd * p[i]);
			if (adamw)
				p[i] -= lr * wd * p[i];
			mo[i] = b1 * mo[i] + (1 - b1) * g;
			vo[i] = b2 * vo[i] + (1 - b2) * g * g;
			double mh = mo[i] / (1 - pow(b1, t));
			double vh = vo[i] / (1 - pow(b2, t));
			p[i] -= lr * mh / (sqrt(vh) + eps);
		}
}

START_TEST(adam_and_adamw)
{
	/* _i: 0 Adam, 1 Adam + L2, 2 AdamW + decay */
	int adamw = _i == 2;
	double wd = _i == 0 ? 0.0 : 0.1;
	lupi_model *m = make(adamw ? LUPI_OPTIM_ADAMW : LUPI_OPTIM_ADAM, 0.01);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY, wd),
			 LUPI_OK);
	for (int steps = 1; steps <= 4; steps++) {
		ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
		double p[NP];
		for (size_t i = 0; i < NP; i++)
			p[i] = P0[i];
		adam_reference(adamw, wd, p, steps);
		expect(m, p);
	}
	lupi_model_free(m);
}
END_TEST

START_TEST(first_adam_step_is_lr_times_sign)
{
	lupi_model *m = make(LUPI_OPTIM_ADAM, 0.01);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	double want[NP] = {1.0 - 0.01, -2.0 + 0.01, 0.5 - 0.01};
	expect(m, want);
	lupi_model_free(m);
}
END_TEST

/* torch.optim.RMSprop with its defaults (centered=False, momentum=0):
 * g += wd p; v = a v + (1 - a) g^2; p -= lr g / (sqrt(v) + eps). */
static void rmsprop_reference(double a, double wd, double *p, int steps)
{
	double lr = 0.01, eps = 1e-8, v[NP] = {0};
	for (int t = 1; t <= steps; t++)
		for (size_t i = 0; i < NP; i++) {
			double g = G0[i] + wd * p[i];
			v[i] = a * v[i] + (1 - a) * g * g;
			p[i] -= lr * g / (sqrt(v[i]) + eps);
		}
}

/* _i: 0 default decay 0.99, 1 decay 0.9, 2 decay 0.9 with L2 0.1 */
START_TEST(rmsprop_matches_the_reference)
{
	double a = _i == 0 ? 0.99 : 0.9, wd = _i == 2 ? 0.1 : 0.0;
	lupi_model *m = make(LUPI_OPTIM_RMSPROP, 0.01);
	if (_i > 0)
		ck_assert_int_eq(lupi_model_set_double(
					 m, LUPI_MODEL_OPT_RMS_DECAY, a),
				 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY,
					       wd), LUPI_OK);
	for (int steps = 1; steps <= 4; steps++) {
		ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
		double p[NP];
		for (size_t i = 0; i < NP; i++)
			p[i] = P0[i];
		rmsprop_reference(a, wd, p, steps);
		expect(m, p);
	}
	ck_assert_ptr_null(m->opt_m); /* RMSprop keeps only v */
	ck_assert_ptr_nonnull(m->opt_v);
	lupi_model_free(m);
}
END_TEST

/* By hand: from v = 0 the first step is lr g / (sqrt(1 - a) |g| + eps),
 * that is lr / 0.1 = 0.1 against the sign of g for a = 0.99, lr = 0.01
 * (eps changes it by less than 1e-6); v = 0.01 g^2. */
START_TEST(first_rmsprop_step_by_hand)
{
	lupi_model *m = make(LUPI_OPTIM_RMSPROP, 0.01);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	double want[NP] = {1.0 - 0.1, -2.0 + 0.1, 0.5 - 0.1};
	expect(m, want);
	for (size_t i = 0; i < NP; i++)
		ck_assert_double_eq_tol(m->opt_v[i], 0.01 * G0[i] * G0[i],
					1e-9);
	lupi_model_free(m);
}
END_TEST

/* A frozen layer keeps its parameters and optimiser moments through
 * updates, even handed a non-zero gradient; the other layer moves. */
START_TEST(frozen_layer_is_left_alone)
{
	static const int optimizers[] = {LUPI_OPTIM_SGD, LUPI_OPTIM_ADAM,
					 LUPI_OPTIM_ADAMW, LUPI_OPTIM_RMSPROP};
	const size_t hidden[] = {2};
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, hidden, 1,
					   1, &m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_OPTIMIZER,
					    optimizers[_i]), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_MOMENTUM, 0.9),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_WEIGHT_DECAY,
					       0.1), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_CLIP_NORM, 1),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_init(m), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_FROZEN,
						  1), LUPI_OK);
	size_t np = m->n_params, n0 = 2 * 2 + 2; /* layer 0: W0, b0 */
	ck_assert_uint_eq(np, n0 + 2 + 1);
	float *p0 = malloc(np * sizeof *p0);
	memcpy(p0, m->params, np * sizeof *p0);
	m->grads = lupi__calloc(np, sizeof *m->grads);
	ck_assert_ptr_nonnull(m->grads);
	for (size_t i = 0; i < np; i++)
		m->grads[i] = 0.1f * (float)(i + 1) * (i % 2 ? -1.0f : 1.0f);
	for (int step = 0; step < 3; step++)
		ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	ck_assert_mem_eq(m->params, p0, n0 * sizeof *p0);
	for (size_t i = 0; i < n0; i++) {
		if (m->opt_m)
			ck_assert_float_eq(m->opt_m[i], 0.0f);
		if (m->opt_v)
			ck_assert_float_eq(m->opt_v[i], 0.0f);
	}
	for (size_t i = n0; i < np; i++)
		ck_assert_float_ne(m->params[i], p0[i]);
	/* thawed, it moves too */
	ck_assert_int_eq(lupi_model_set_layer_int(m, 0, LUPI_LAYER_OPT_FROZEN,
						  0), LUPI_OK);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	for (size_t i = 0; i < n0; i++)
		ck_assert_float_ne(m->params[i], p0[i]);
	free(p0);
	lupi_model_free(m);
}
END_TEST

START_TEST(clipping_by_global_norm)
{
	double norm = sqrt(0.01 + 0.04 + 0.09);
	/* clip below the norm: the gradient is scaled to norm 0.1 */
	lupi_model *m = make(LUPI_OPTIM_SGD, 1.0);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_CLIP_NORM, 0.1),
			 LUPI_OK);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	double want[NP];
	for (size_t i = 0; i < NP; i++)
		want[i] = P0[i] - G0[i] * 0.1 / norm;
	expect(m, want);
	lupi_model_free(m);
	/* clip above the norm: unchanged gradient */
	m = make(LUPI_OPTIM_SGD, 1.0);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_CLIP_NORM, 1.0),
			 LUPI_OK);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	for (size_t i = 0; i < NP; i++)
		want[i] = P0[i] - G0[i];
	expect(m, want);
	lupi_model_free(m);
}
END_TEST

START_TEST(schedules)
{
	lupi_model *m = make(LUPI_OPTIM_SGD, 0.1);
	/* constant */
	m->epoch = 7;
	ck_assert_double_eq_tol(lupi__model_lr(m), 0.1, 1e-15);
	/* step: 0.1 * 0.5^floor(e / 2) */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SCHEDULE,
					    LUPI_SCHEDULE_STEP), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_STEP_SIZE, 2),
			 LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_GAMMA, 0.5),
			 LUPI_OK);
	const double step_want[] = {0.1, 0.1, 0.05, 0.05, 0.025};
	for (unsigned e = 0; e < 5; e++) {
		m->epoch = e;
		ck_assert_double_eq_tol(lupi__model_lr(m), step_want[e],
					1e-15);
	}
	/* cosine over 10 epochs from 0.1 to 0.01 */
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_SCHEDULE,
					    LUPI_SCHEDULE_COSINE), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_int(m, LUPI_MODEL_OPT_EPOCHS, 10), LUPI_OK);
	ck_assert_int_eq(lupi_model_set_double(m, LUPI_MODEL_OPT_MIN_LR, 0.01),
			 LUPI_OK);
	m->epoch = 0;
	ck_assert_double_eq_tol(lupi__model_lr(m), 0.1, 1e-15);
	m->epoch = 5;
	ck_assert_double_eq_tol(lupi__model_lr(m), 0.055, 1e-15);
	m->epoch = 10;
	ck_assert_double_eq_tol(lupi__model_lr(m), 0.01, 1e-15);
	m->epoch = 20; /* past the end: stays at the floor */
	ck_assert_double_eq_tol(lupi__model_lr(m), 0.01, 1e-15);
	m->epoch = 2;
	double lr2 = 0.01 + 0.09 * (1 + cos(M_PI * 0.2)) / 2;
	ck_assert_double_eq_tol(lupi__model_lr(m), lr2, 1e-15);
	/* the update uses the scheduled rate */
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	double want[NP];
	for (size_t i = 0; i < NP; i++)
		want[i] = P0[i] - (float)lr2 * G0[i];
	expect(m, want);
	lupi_model_free(m);
}
END_TEST

START_TEST(nonfinite_gradient_changes_nothing)
{
	for (int which = 0; which < 2; which++) {
		lupi_model *m = make(LUPI_OPTIM_ADAM, 0.01);
		ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
		float p[NP], mo[NP], vo[NP];
		memcpy(p, m->params, sizeof p);
		memcpy(mo, m->opt_m, sizeof mo);
		memcpy(vo, m->opt_v, sizeof vo);
		m->grads[which ? 2 : 1] = which ? INFINITY : NAN;
		ck_assert_int_eq(lupi__model_update(m), LUPI_ENONFINITE);
		ck_assert_str_eq(lupi_errmsg(),
				 which ? "gradient of layer 0 biases is not "
					 "finite"
				       : "gradient of layer 0 weights is not "
					 "finite");
		ck_assert_mem_eq(p, m->params, sizeof p);
		ck_assert_mem_eq(mo, m->opt_m, sizeof mo);
		ck_assert_mem_eq(vo, m->opt_v, sizeof vo);
		ck_assert_uint_eq(m->t, 1);
		lupi_model_free(m);
	}
}
END_TEST

/* The update proves finiteness from bounds on the magnitudes when it can
 * and falls back to the exact check when a bound is too large: a huge but
 * finite state still updates, and an update that overflows from finite
 * inputs fails and changes nothing, for every optimiser. */
START_TEST(overflow_from_finite_inputs_changes_nothing)
{
	static const int opt[] = {LUPI_OPTIM_SGD, LUPI_OPTIM_SGD,
				  LUPI_OPTIM_ADAM, LUPI_OPTIM_ADAMW,
				  LUPI_OPTIM_RMSPROP};
	for (size_t o = 0; o < sizeof opt / sizeof *opt; o++) {
		/* huge weight, small gradient: succeeds */
		lupi_model *m = make(opt[o], 0.01);
		if (o == 1)
			ck_assert_int_eq(lupi_model_set_double(
				m, LUPI_MODEL_OPT_MOMENTUM, 0.9), LUPI_OK);
		m->params[0] = 3e38f;
		ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
		ck_assert(isfinite(m->params[0]) && m->params[0] > 2.9e38f);
		ck_assert_uint_eq(m->t, 1);
		/* a finite step that carries the weight past FLT_MAX: fails */
		m->params[0] = 3.4e38f;
		lupi__model_touch(m); /* a write outside an update */
		m->grads[0] = -3e38f;
		float p[NP];
		memcpy(p, m->params, sizeof p);
		/* (Adam and RMSprop: g^2 overflows the second moment) */
		ck_assert_int_eq(lupi__model_update(m), LUPI_ENONFINITE);
		ck_assert_mem_eq(p, m->params, sizeof p);
		ck_assert_uint_eq(m->t, 1);
		lupi_model_free(m);
	}
}
END_TEST

/* The bound's magnitudes of p and the moments come from the previous
 * update's commit pass when nothing touched them since: the same updates,
 * bit for bit, as reading them afresh every time, and an overflow after a
 * cached step is still refused. */
START_TEST(cached_extents_give_the_same_updates)
{
	static const int opt[] = {LUPI_OPTIM_SGD, LUPI_OPTIM_SGD,
				  LUPI_OPTIM_ADAM, LUPI_OPTIM_ADAMW,
				  LUPI_OPTIM_RMSPROP};
	for (size_t o = 0; o < sizeof opt / sizeof *opt; o++) {
		lupi_model *a = make(opt[o], 0.05), *b = make(opt[o], 0.05);
		if (o == 1)
			for (int k = 0; k < 2; k++)
				ck_assert_int_eq(lupi_model_set_double(
					k ? b : a, LUPI_MODEL_OPT_MOMENTUM,
					0.9), LUPI_OK);
		for (int step = 0; step < 6; step++) {
			for (size_t i = 0; i < NP; i++)
				a->grads[i] = b->grads[i] =
					G0[i] * (float)(step - 2);
			lupi__model_touch(b); /* b reads afresh */
			ck_assert_int_eq(lupi__model_update(a), LUPI_OK);
			ck_assert_int_eq(lupi__model_update(b), LUPI_OK);
			ck_assert_uint_eq(a->ext_t, a->t); /* a cached */
		}
		ck_assert_mem_eq(a->params, b->params, sizeof P0);
		if (a->opt_m)
			ck_assert_mem_eq(a->opt_m, b->opt_m, sizeof P0);
		if (a->opt_v)
			ck_assert_mem_eq(a->opt_v, b->opt_v, sizeof P0);
		/* the public setter touches: a weight at FLT_MAX and a
		 * gradient that carries it past are refused */
		float p[NP];
		memcpy(p, a->params, sizeof p);
		p[0] = 3.4e38f;
		ck_assert_int_eq(lupi_model_set_params(a, p, NP), LUPI_OK);
		ck_assert_uint_eq(a->ext_t, 0);
		a->grads[0] = -3e38f;
		uint64_t t = a->t;
		ck_assert_int_eq(lupi__model_update(a), LUPI_ENONFINITE);
		ck_assert_mem_eq(p, a->params, sizeof p);
		ck_assert_uint_eq(a->t, t);
		lupi_model_free(a);
		lupi_model_free(b);
	}
}
END_TEST

/* With LUPI_CHECK_INVARIANTS=1 (set by main) every update checks the
 * cache: a write that forgets lupi__model_touch() stops the program
 * there. */
START_TEST(untouched_write_is_caught)
{
	lupi_model *m = make(LUPI_OPTIM_ADAM, 0.01);
	ck_assert_int_eq(lupi__model_update(m), LUPI_OK);
	m->params[1] = 1e30f;
	lupi__model_update(m);
}
END_TEST

static int fail_all(size_t size, void *user)
{
	(void)size;
	(void)user;
	return 0;
}

START_TEST(state_allocation_failure_changes_nothing)
{
	lupi_model *m = make(LUPI_OPTIM_ADAM, 0.01);
	lupi__set_alloc_gate(fail_all, NULL);
	int rc = lupi__model_update(m);
	lupi__set_alloc_gate(NULL, NULL);
	ck_assert_int_eq(rc, LUPI_ENOMEM);
	ck_assert_mem_eq(P0, m->params, sizeof P0);
	ck_assert_uint_eq(m->t, 0);
	lupi_model_free(m);
}
END_TEST

START_TEST(update_needs_gradients)
{
	lupi_model *m;
	ck_assert_int_eq(lupi_model_create(LUPI_TASK_REGRESSION, 2, NULL, 0, 1,
					   &m), LUPI_OK);
	ck_assert_int_eq(lupi__model_update(m), LUPI_ESTATE);
	ck_assert_int_eq(lupi__model_update(NULL), LUPI_EINVAL);
	lupi_model_free(m);
}
END_TEST

int main(void)
{
	setenv("LUPI_CHECK_INVARIANTS", "1", 1);
	Suite *s = suite_create("optim");
	TCase *tc = tcase_create("optim");
	tcase_add_test(tc, sgd_plain_and_weight_decay);
	tcase_add_test(tc, sgd_momentum_and_nesterov);
	tcase_add_loop_test(tc, adam_and_adamw, 0, 3);
	tcase_add_test(tc, first_adam_step_is_lr_times_sign);
	tcase_add_loop_test(tc, rmsprop_matches_the_reference, 0, 3);
	tcase_add_test(tc, first_rmsprop_step_by_hand);
	tcase_add_loop_test(tc, frozen_layer_is_left_alone, 0, 4);
	tcase_add_test(tc, clipping_by_global_norm);
	tcase_add_test(tc, schedules);
	tcase_add_test(tc, nonfinite_gradient_changes_nothing);
	tcase_add_test(tc, overflow_from_finite_inputs_changes_nothing);
	tcase_add_test(tc, cached_extents_give_the_same_updates);
	/* the abort needs a test process of its own */
	const char *fork = getenv("CK_FORK");
	if (fork == NULL || strcmp(fork, "no") != 0)
		tcase_add_test_raise_signal(tc, untouched_write_is_caught,
					    SIGABRT);
	tcase_add_test(tc, state_allocation_failure_changes_nothing);
	tcase_add_test(tc, update_needs_gradients);
	suite_add_tcase(s, tc);
	return lupi_test_run(s);
}
