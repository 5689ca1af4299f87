/*
 * control_dagger.c - a privileged expert for control, and online imitation.
 *
 * A point robot moves on a grid world with obstacles towards a goal. The
 * expert sees privileged state: the whole obstacle map and the exact goal,
 * and acts with an exact planner (breadth-first distances to the goal). The
 * student sees what a real robot would: 8 range-sensor rays, its odometry,
 * the direction to the goal with noise, and its last move. Compared on the
 * same test worlds for each seed:
 *   expert     the planner itself;
 *   heuristic  no teacher: greedy towards the noisy goal direction among
 *              the moves the rays show free, never undoing the last move;
 *   bc         behaviour cloning: a student trained on the states of the
 *              expert's own rollouts, labelled by the expert;
 *   dagger     DAgger (Ross, Gordon & Bagnell 2011) with the same number of
 *              expert labels and training steps: the student rolls out
 *              (with probability beta the expert's action is executed),
 *              the expert labels every visited state, the rows are
 *              appended to the growing dataset, the student takes steps.
 * Then random network distillation (Burda et al. 2019) in the same kind of
 * world: cells covered by a random walk over the free moves, with and
 * without a novelty bonus from a fixed random network.
 *
 * Only public calls of lupi.h; the DAgger loop is written out here.
 *
 * usage: control_dagger [--seeds N] [--short] [--labels B] [--steps S]
 *                       [--test W] [--rnd-steps T]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lupi.h>

/* ---- a little deterministic randomness (splitmix64) --------------------- */

static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double normal(uint64_t *s)
{
	double u = uniform(s), v = uniform(s);
	return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * 3.141592653589793 * v);
}

static void die(const char *what)
{
	fprintf(stderr, "control_dagger: %s: %s\n", what, lupi_errmsg());
	exit(1);
}

/* ---- the world ---------------------------------------------------------- */

#define MAXW 32
#define NACT 8
#define RAY_MAX 5
#define D_OBS 14 /* 8 rays, goal direction (2), odometry (2), last move (2) */

static const int DX[NACT] = {1, 1, 0, -1, -1, -1, 0, 1};
static const int DY[NACT] = {0, 1, 1, 1, 0, -1, -1, -1};

typedef struct world {
	int w, h;
	unsigned char wall[MAXW][MAXW];
	int dist[MAXW][MAXW]; /* steps to the goal (the expert's map) */
	int sx, sy, gx, gy;
} world;

static int blocked(const world *wd, int x, int y)
{
	return x < 0 || y < 0 || x >= wd->w || y >= wd->h || wd->wall[y][x];
}

/* A move is valid when its target is free and, diagonally, both cells it
 * passes between are free (no cutting corners). */
static int valid_move(const world *wd, int x, int y, int a)
{
	int nx = x + DX[a], ny = y + DY[a];
	if (blocked(wd, nx, ny))
		return 0;
	if (DX[a] != 0 && DY[a] != 0 &&
	    (blocked(wd, nx, y) || blocked(wd, x, ny)))
		return 0;
	return 1;
}

/* Breadth-first distances to (gx, gy) over valid moves; -1 unreachable. */
static void plan(world *wd)
{
	static int qx[MAXW * MAXW], qy[MAXW * MAXW];
	for (int y = 0; y < wd->h; y++)
		for (int x = 0; x < wd->w; x++)
			wd->dist[y][x] = -1;
	int head = 0, tail = 0;
	wd->dist[wd->gy][wd->gx] = 0;
	qx[tail] = wd->gx;
	qy[tail++] = wd->gy;
	while (head < tail) {
		int x = qx[head], y = qy[head++];
		for (int a = 0; a < NACT; a++) {
			/* Moves are symmetric, so distances "from" equal
			 * distances "to". */
			if (!valid_move(wd, x, y, a))
				continue;
			int nx = x + DX[a], ny = y + DY[a];
			if (wd->dist[ny][nx] >= 0)
				continue;
			wd->dist[ny][nx] = wd->dist[y][x] + 1;
			qx[tail] = nx;
			qy[tail++] = ny;
		}
	}
}

/* A world of size n x n with rectangles of wall covering about `density`
 * of it, a start and a goal at least n/2 steps apart; fixed by seed. */
static void make_world(world *wd, int n, double density, uint64_t seed)
{
	uint64_t s = seed * 0x2545F4914F6CDD1Dull + 1;
	for (;;) {
		memset(wd, 0, sizeof *wd);
		wd->w = wd->h = n;
		int cells = 0;
		while (cells < density * n * n) {
			int rw = 1 + (int)(uniform(&s) * 3);
			int rh = 1 + (int)(uniform(&s) * 3);
			int x0 = (int)(uniform(&s) * (n - rw + 1));
			int y0 = (int)(uniform(&s) * (n - rh + 1));
			for (int y = y0; y < y0 + rh; y++)
				for (int x = x0; x < x0 + rw; x++) {
					cells += !wd->wall[y][x];
					wd->wall[y][x] = 1;
				}
		}
		wd->gx = (int)(uniform(&s) * n);
		wd->gy = (int)(uniform(&s) * n);
		wd->sx = (int)(uniform(&s) * n);
		wd->sy = (int)(uniform(&s) * n);
		if (wd->wall[wd->gy][wd->gx] || wd->wall[wd->sy][wd->sx])
			continue;
		plan(wd);
		if (wd->dist[wd->sy][wd->sx] >= n / 2)
			return;
	}
}

/* ---- the robot ----------------------------------------------------------- */

typedef struct robot {
	int x, y, lastdx, lastdy;
	int steps, collisions;
} robot;

/* The expert: the valid move that lowers the planned distance most
 * (first by action order on ties). */
static int expert_action(const world *wd, int x, int y)
{
	int best = 0, bd = 1 << 30;
	for (int a = 0; a < NACT; a++) {
		if (!valid_move(wd, x, y, a))
			continue;
		int d = wd->dist[y + DY[a]][x + DX[a]];
		if (d >= 0 && d < bd) {
			bd = d;
			best = a;
		}
	}
	return best;
}

/* What the robot's sensors give: ray k = valid steps along direction k
 * (at most RAY_MAX) / RAY_MAX; the goal direction with angle noise of
 * 0.25 rad; odometry from the start / 16; the last move. */
static void observe(const world *wd, const robot *r, uint64_t *noise,
		    float *o)
{
	for (int a = 0; a < NACT; a++) {
		int x = r->x, y = r->y, k = 0;
		while (k < RAY_MAX && valid_move(wd, x, y, a)) {
			x += DX[a];
			y += DY[a];
			k++;
		}
		o[a] = (float)k / RAY_MAX;
	}
	double ang = atan2(wd->gy - r->y, wd->gx - r->x) +
		     0.25 * normal(noise);
	o[8] = (float)cos(ang);
	o[9] = (float)sin(ang);
	o[10] = (float)(r->x - wd->sx) / 16.0f;
	o[11] = (float)(r->y - wd->sy) / 16.0f;
	o[12] = (float)r->lastdx;
	o[13] = (float)r->lastdy;
}

/* Executes action a: an invalid move is a collision and the robot stays. */
static void act(const world *wd, robot *r, int a)
{
	r->steps++;
	if (!valid_move(wd, r->x, r->y, a)) {
		r->collisions++;
		r->lastdx = r->lastdy = 0;
		return;
	}
	r->x += DX[a];
	r->y += DY[a];
	r->lastdx = DX[a];
	r->lastdy = DY[a];
}

/* No teacher: towards the noisy goal direction among the moves the rays
 * show free, never straight back along the last move. */
static int heuristic_action(const float *o)
{
	int best = -1;
	double bs = -1e9;
	for (int a = 0; a < NACT; a++) {
		if (o[a] <= 0.0f)
			continue;
		if (DX[a] == -(int)o[12] && DY[a] == -(int)o[13] &&
		    (o[12] != 0.0f || o[13] != 0.0f))
			continue;
		double len = sqrt((double)(DX[a] * DX[a] + DY[a] * DY[a]));
		double sc = (DX[a] * o[8] + DY[a] * o[9]) / len;
		if (sc > bs) {
			bs = sc;
			best = a;
		}
	}
	return best >= 0 ? best : 0;
}

/* ---- policies and episodes ---------------------------------------------- */

enum { POL_EXPERT, POL_HEURISTIC, POL_STUDENT };

typedef struct episode {
	int success, steps, collisions, optimal;
} episode;

/* Runs one episode of at most 4n steps. With a dataset, every visited
 * state is appended, labelled by the expert (the DAgger data), until
 * *budget labels are spent; beta is the probability of executing the
 * expert's action instead of the policy's. */
static episode run(const world *wd, int policy, const lupi_model *student,
		   double beta, uint64_t *rng, lupi_dataset **ds,
		   size_t *budget)
{
	robot r = {wd->sx, wd->sy, 0, 0, 0, 0};
	episode e = {0, 0, 0, wd->dist[wd->sy][wd->sx]};
	int max_steps = 4 * wd->w;
	float o[D_OBS];
	while (r.steps < max_steps) {
		if (r.x == wd->gx && r.y == wd->gy) {
			e.success = 1;
			break;
		}
		observe(wd, &r, rng, o);
		int expert = expert_action(wd, r.x, r.y), a = expert;
		if (ds != NULL) {
			if (*budget == 0)
				break;
			int32_t label = expert;
			if (*ds == NULL) {
				if (lupi_dataset_create(1, D_OBS, o, ds) ||
				    lupi_dataset_set_labels(*ds, NACT, &label))
					die("dataset");
			} else if (lupi_dataset_append(*ds, 1, o, NULL, NULL,
						       &label, NULL, NULL)) {
				die("append");
			}
			(*budget)--;
		}
		if (policy == POL_HEURISTIC) {
			a = heuristic_action(o);
		} else if (policy == POL_STUDENT && uniform(rng) >= beta) {
			int32_t c;
			if (lupi_model_predict_class(student, o, 1, D_OBS, &c))
				die("predict");
			a = c;
		}
		act(wd, &r, a);
	}
	e.steps = r.steps;
	e.collisions = r.collisions;
	return e;
}

/* ---- training ------------------------------------------------------------- */

static lupi_model *new_student(uint64_t seed)
{
	size_t hidden[2] = {64, 64};
	lupi_model *m;
	if (lupi_model_create(LUPI_TASK_CLASSIFICATION, D_OBS, hidden, 2, NACT,
			      &m) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_SEED, (int64_t)seed) ||
	    lupi_model_set_int(m, LUPI_MODEL_OPT_STANDARDIZE, 0) ||
	    lupi_model_set_double(m, LUPI_MODEL_OPT_LR, 3e-3) ||
	    lupi_model_init(m))
		die("student");
	return m;
}

/* `steps` student steps on batches drawn uniformly from the rows so far:
 * lupi_dataset_sample and lupi_student_step (teacher NULL: the expert's
 * labels are the imitation targets). lupi_dagger_steps() does the same. */
static void train(lupi_model *m, const lupi_dataset *ds, size_t steps,
		  uint64_t *state)
{
	size_t idx[64];
	for (size_t s = 0; s < steps; s++) {
		double loss;
		if (lupi_dataset_sample(ds, 64, state, idx) ||
		    lupi_student_step(m, NULL, NULL, ds, idx, 64, &loss))
			die("step");
	}
}

typedef struct settings {
	int seeds, n, test_worlds, iters, rnd_steps;
	size_t labels, steps;
	double density;
} settings;

/* Behaviour cloning: the expert's own rollouts, B labels, S steps. */
static lupi_model *train_bc(const settings *st, uint64_t seed)
{
	lupi_dataset *ds = NULL;
	size_t budget = st->labels;
	uint64_t rng = seed ^ 0xB0B0;
	for (uint64_t w = 0; budget > 0; w++) {
		world wd;
		make_world(&wd, st->n, st->density, seed * 1000003 + w);
		run(&wd, POL_EXPERT, NULL, 1.0, &rng, &ds, &budget);
	}
	lupi_model *m = new_student(seed);
	uint64_t state = seed;
	train(m, ds, st->steps, &state);
	lupi_dataset_free(ds);
	return m;
}

/* DAgger: iteration i rolls out with beta = 0.5^i (i = 0: the expert
 * alone), spends B / iters labels on the visited states, appends them and
 * takes S / iters steps on the aggregate. */
static lupi_model *train_dagger(const settings *st, uint64_t seed)
{
	lupi_dataset *ds = NULL;
	lupi_model *m = new_student(seed);
	uint64_t rng = seed ^ 0xDA66E5, state = seed;
	uint64_t w = 0;
	for (int i = 0; i < st->iters; i++) {
		double beta = pow(0.5, i);
		size_t budget = st->labels / (size_t)st->iters;
		while (budget > 0) {
			world wd;
			make_world(&wd, st->n, st->density,
				   seed * 1000003 + w++);
			run(&wd, i == 0 ? POL_EXPERT : POL_STUDENT, m, beta,
			    &rng, &ds, &budget);
		}
		train(m, ds, st->steps / (size_t)st->iters, &state);
	}
	lupi_dataset_free(ds);
	return m;
}

/* ---- evaluation ------------------------------------------------------------ */

enum { M_EXPERT, M_HEURISTIC, M_BC, M_DAGGER, N_METHODS };
static const char *method_name[N_METHODS] = {"expert", "heuristic (no teacher)",
					     "behaviour cloning", "DAgger"};

typedef struct score {
	double success, ratio, collisions; /* ratio: steps / optimal, successes */
} score;

static score evaluate(const settings *st, uint64_t seed, int policy,
		      const lupi_model *m)
{
	score sc = {0, 0, 0};
	int ok = 0;
	for (int j = 0; j < st->test_worlds; j++) {
		world wd;
		/* Test worlds: another range of world seeds. */
		make_world(&wd, st->n, st->density,
			   (seed + 7777) * 1000003 + 500000 + (uint64_t)j);
		uint64_t rng = seed * 31 + (uint64_t)j;
		episode e = run(&wd, policy, m, 0.0, &rng, NULL, NULL);
		sc.success += e.success;
		sc.collisions += e.collisions;
		if (e.success) {
			sc.ratio += (double)e.steps / e.optimal;
			ok++;
		}
	}
	sc.success /= st->test_worlds;
	sc.collisions /= st->test_worlds;
	sc.ratio = ok ? sc.ratio / ok : NAN;
	return sc;
}

static void mean_sd(const double *v, int n, double *mean, double *sd)
{
	double s = 0, q = 0;
	int k = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i])) {
			s += v[i];
			k++;
		}
	*mean = k ? s / k : NAN;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]))
			q += (v[i] - *mean) * (v[i] - *mean);
	*sd = k > 1 ? sqrt(q / (k - 1)) : 0.0;
}

/* ---- random network distillation ------------------------------------------- */

#define RND_OUT 16
#define D_RND 10

/* The RND observation of a position (dx, dy) from the start: the odometry
 * and sines and cosines of it at two frequencies, so that a random network
 * of it varies from cell to cell (a random network of two coordinates
 * alone is nearly linear, and a predictor extrapolates it everywhere). */
static void rnd_obs(double dx, double dy, float *o)
{
	static const double freq[2] = {0.8, 2.1};
	o[0] = (float)(dx / 8);
	o[1] = (float)(dy / 8);
	for (int f = 0; f < 2; f++) {
		o[2 + 4 * f] = (float)sin(freq[f] * dx);
		o[3 + 4 * f] = (float)cos(freq[f] * dx);
		o[4 + 4 * f] = (float)sin(freq[f] * dy);
		o[5 + 4 * f] = (float)cos(freq[f] * dy);
	}
}

/* Cells visited by a walk of T steps over the free moves: uniform, or with
 * the novelty bonus (epsilon-greedy on the novelty of the next position).
 * The RND observation is the odometry (the position from the start),
 * normalised by running statistics; the fixed random network and the
 * predictor both see it. Returns the fraction of reachable cells covered. */
static double rnd_walk(const settings *st, uint64_t seed, int novelty)
{
	world wd;
	make_world(&wd, 2 * st->n, st->density, seed * 7919 + 13);
	int visited[2 * MAXW][2 * MAXW] = {{0}}, reachable = 0, covered = 0;
	for (int y = 0; y < wd.h; y++)
		for (int x = 0; x < wd.w; x++)
			reachable += wd.dist[y][x] >= 0;
	/* The start must lie in the goal's component: make_world ensures it. */
	robot r = {wd.sx, wd.sy, 0, 0, 0, 0};
	uint64_t rng = seed * 104729 + 1;

	size_t hidden[1] = {64};
	lupi_model *target = NULL, *pred = NULL;
	lupi_teacher *teacher = NULL;
	lupi_loss *loss = NULL;
	lupi_rnd *norm = NULL;
	lupi_dataset *buf = NULL;
	if (lupi_model_create(LUPI_TASK_REGRESSION, D_RND, hidden, 1, RND_OUT,
			      &target) ||
	    lupi_model_set_int(target, LUPI_MODEL_OPT_SEED, (int64_t)seed) ||
	    lupi_model_set_int(target, LUPI_MODEL_OPT_STANDARDIZE, 0) ||
	    lupi_model_init(target) || lupi_model_clone(target, &pred) ||
	    lupi_model_set_int(pred, LUPI_MODEL_OPT_SEED, (int64_t)seed + 1) ||
	    lupi_model_set_double(pred, LUPI_MODEL_OPT_LR, 1e-2) ||
	    lupi_model_init(pred) || lupi_teacher_create(&teacher) ||
	    lupi_teacher_add_model(teacher, target, 1.0) ||
	    lupi_loss_create(LUPI_LOSS_REGRESSION, &loss) ||
	    lupi_loss_set_double(loss, LUPI_LOSS_OPT_LAMBDA, 1.0) ||
	    lupi_rnd_create(D_RND, 0.99, &norm))
		die("rnd setup");

	float pos[D_RND], cand[NACT * D_RND], scores[NACT];
	float recent[D_RND * 4];
	int n_recent = 0;
	uint64_t state = seed;
	for (int t = 0; t < st->rnd_steps; t++) {
		if (!visited[r.y][r.x]) {
			visited[r.y][r.x] = 1;
			covered++;
		}
		rnd_obs(r.x - wd.sx, r.y - wd.sy, pos);
		/* Observation statistics from every visited state. */
		if (lupi_rnd_observe(norm, pos, 1, D_RND))
			die("observe");
		int valid[NACT], nv = 0;
		for (int a = 0; a < NACT; a++)
			if (valid_move(&wd, r.x, r.y, a))
				valid[nv++] = a;
		int a = valid[(int)(uniform(&rng) * nv)];
		/* The first 50 steps are the random walk in both runs, to
		 * start the observation statistics as the paper does. */
		if (novelty && t >= 50 && uniform(&rng) >= 0.1) {
			for (int k = 0; k < nv; k++)
				rnd_obs(r.x - wd.sx + DX[valid[k]],
					r.y - wd.sy + DY[valid[k]],
					cand + D_RND * k);
			if (lupi_rnd_normalize(norm, cand, (size_t)nv, D_RND,
					       cand) ||
			    lupi_student_novelty(pred, teacher, cand,
						 (size_t)nv, D_RND, scores))
				die("novelty");
			int best = 0;
			for (int k = 1; k < nv; k++)
				if (scores[k] > scores[best])
					best = k;
			a = valid[best];
		}
		if (novelty) {
			/* The predictor learns the visited states: a replay
			 * buffer of the last 2000, 8 steps per 4 states. */
			if (lupi_rnd_normalize(norm, pos, 1, D_RND,
					       recent + D_RND * n_recent))
				die("normalize");
			if (++n_recent == 4) { /* 4 states, 8 steps */
				float z[4 * RND_OUT] = {0};
				if (buf == NULL) {
					if (lupi_dataset_create(4, D_RND, recent,
								&buf) ||
					    lupi_dataset_set_targets(
						    buf, RND_OUT, z) ||
					    lupi_dataset_set_capacity(buf,
								      2000))
						die("buffer");
				} else if (lupi_dataset_append(buf, 4, recent,
							       NULL, NULL,
							       NULL, z,
							       NULL)) {
					die("append");
				}
				n_recent = 0;
				if (lupi_dagger_steps(pred, teacher, loss, buf,
						      8, 32, &state, NULL))
					die("rnd steps");
			}
		}
		act(&wd, &r, a);
	}
	lupi_dataset_free(buf);
	lupi_rnd_free(norm);
	lupi_loss_free(loss);
	lupi_teacher_free(teacher);
	lupi_model_free(pred);
	lupi_model_free(target);
	return (double)covered / reachable;
}

/* ---- main ------------------------------------------------------------------ */

static void print_row(const char *name, const double *v, int n, int pct)
{
	double m, s;
	mean_sd(v, n, &m, &s);
	if (pct)
		printf(" %s %5.1f ± %4.1f |", name, 100 * m, 100 * s);
	else
		printf(" %s %5.2f ± %4.2f |", name, m, s);
}

int main(int argc, char **argv)
{
	settings st = {.seeds = 10, .n = 16, .test_worlds = 100, .iters = 8,
		       .rnd_steps = 1500, .labels = 4000, .steps = 4000,
		       .density = 0.2};
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : "0";
		if (strcmp(argv[i], "--short") == 0) {
			st.seeds = 2;
			st.test_worlds = 20;
			st.iters = 4;
			st.labels = 800;
			st.steps = 600;
			st.rnd_steps = 400;
			continue;
		}
		if (strcmp(argv[i], "--seeds") == 0)
			st.seeds = atoi(v);
		else if (strcmp(argv[i], "--labels") == 0)
			st.labels = (size_t)atol(v);
		else if (strcmp(argv[i], "--steps") == 0)
			st.steps = (size_t)atol(v);
		else if (strcmp(argv[i], "--test") == 0)
			st.test_worlds = atoi(v);
		else if (strcmp(argv[i], "--rnd-steps") == 0)
			st.rnd_steps = atoi(v);
		else {
			fprintf(stderr, "usage: control_dagger [--short] "
				"[--seeds N] [--labels B] [--steps S] "
				"[--test W] [--rnd-steps T]\n");
			return 2;
		}
		i++;
	}
	if (st.seeds < 1 || st.seeds > 1000 || st.test_worlds < 1 ||
	    st.labels < (size_t)st.iters || st.steps < (size_t)st.iters ||
	    st.rnd_steps < 60) {
		fprintf(stderr, "control_dagger: settings out of range\n");
		return 2;
	}
	lupi_set_num_threads(1);

	int ns = st.seeds;
	double *succ = calloc((size_t)(N_METHODS * ns), sizeof *succ);
	double *ratio = calloc((size_t)(N_METHODS * ns), sizeof *ratio);
	double *coll = calloc((size_t)(N_METHODS * ns), sizeof *coll);
	double *cov = calloc((size_t)(2 * ns), sizeof *cov);
	if (!succ || !ratio || !coll || !cov)
		return 1;
	for (int s = 0; s < ns; s++) {
		uint64_t seed = (uint64_t)s + 1;
		lupi_model *bc = train_bc(&st, seed);
		lupi_model *dg = train_dagger(&st, seed);
		score sc[N_METHODS] = {
			evaluate(&st, seed, POL_EXPERT, NULL),
			evaluate(&st, seed, POL_HEURISTIC, NULL),
			evaluate(&st, seed, POL_STUDENT, bc),
			evaluate(&st, seed, POL_STUDENT, dg)};
		for (int k = 0; k < N_METHODS; k++) {
			succ[k * ns + s] = sc[k].success;
			ratio[k * ns + s] = sc[k].ratio;
			coll[k * ns + s] = sc[k].collisions;
		}
		cov[s] = rnd_walk(&st, seed, 0);
		cov[ns + s] = rnd_walk(&st, seed, 1);
		lupi_model_free(bc);
		lupi_model_free(dg);
	}

	printf("Imitation: %d seeds x %d test worlds (%dx%d, %.0f%% walls); "
	       "%zu expert labels and %zu steps of 64 per student; DAgger "
	       "in %d iterations\n\n", ns, st.test_worlds, st.n, st.n,
	       100 * st.density, st.labels, st.steps, st.iters);
	printf("| method | success %% | path / optimal | collisions / "
	       "episode |\n|---|---|---|---|\n");
	for (int k = 0; k < N_METHODS; k++) {
		printf("| %s |", method_name[k]);
		print_row("", succ + k * ns, ns, 1);
		print_row("", ratio + k * ns, ns, 0);
		print_row("", coll + k * ns, ns, 0);
		printf("\n");
	}
	/* Paired differences: per seed, on the same test worlds. */
	static const int pairs[3][2] = {{M_DAGGER, M_BC},
					{M_DAGGER, M_HEURISTIC},
					{M_BC, M_HEURISTIC}};
	printf("\nPaired differences over seeds (mean ± sd; wins = seeds "
	       "where the first has the higher success)\n\n");
	printf("| pair | success %% | path / optimal | collisions / episode "
	       "| wins |\n|---|---|---|---|---|\n");
	for (int p = 0; p < 3; p++) {
		int a = pairs[p][0], b = pairs[p][1], wins = 0;
		double ds[1000], dr[1000], dc[1000];
		for (int s = 0; s < ns; s++) {
			ds[s] = succ[a * ns + s] - succ[b * ns + s];
			dr[s] = ratio[a * ns + s] - ratio[b * ns + s];
			dc[s] = coll[a * ns + s] - coll[b * ns + s];
			wins += ds[s] > 0;
		}
		printf("| %s - %s |", method_name[a], method_name[b]);
		print_row("", ds, ns, 1);
		print_row("", dr, ns, 0);
		print_row("", dc, ns, 0);
		printf(" %d / %d |\n", wins, ns);
	}
	double dcov[1000];
	int wins = 0;
	for (int s = 0; s < ns; s++) {
		dcov[s] = cov[ns + s] - cov[s];
		wins += dcov[s] > 0;
	}
	printf("\nRND: cells covered by %d steps of a walk over the free moves "
	       "(%dx%d worlds)\n\n| walk | coverage %% |\n|---|---|\n",
	       st.rnd_steps, 2 * st.n, 2 * st.n);
	printf("| uniform random |");
	print_row("", cov, ns, 1);
	printf("\n| novelty bonus (RND) |");
	print_row("", cov + ns, ns, 1);
	printf("\n| paired difference |");
	print_row("", dcov, ns, 1);
	printf(" wins %d / %d\n", wins, ns);
	free(succ);
	free(ratio);
	free(coll);
	free(cov);
	return 0;
}
