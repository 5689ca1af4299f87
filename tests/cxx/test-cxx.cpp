/*
 * lupi.hpp: a teacher on X* and a distilled student on X through the C++
 * wrapper, its errors as exceptions (code, name, detail), the progress
 * callback stopping and throwing, the owners, a save/load round trip in a
 * temporary directory. Built with -std=c++17 -Wall -Wextra -pedantic
 * -Werror.
 *
 * Data (a LUPI problem of Lopez-Paz et al. 2016, 4.1, made small): x* has 2
 * features that decide the class, x is x* plus noise (sd 0.6) and 2 noise
 * features. So the teacher on x* is near perfect, a student on x cannot
 * be, and the accuracies below are bounds with a wide margin over what the
 * reference run gave (teacher 1.00, students ~0.8 on test).
 */
#include <lupi.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			failures++;                                            \
		}                                                              \
	} while (0)

struct problem {
	std::vector<float> x, xp;
	std::vector<std::int32_t> y;
};

static problem make(std::size_t n, unsigned seed)
{
	std::mt19937 g(seed);
	std::normal_distribution<float> z(0.0f, 1.0f);
	problem p;
	for (std::size_t i = 0; i < n; i++) {
		float a = z(g), b = z(g);
		p.xp.insert(p.xp.end(), {a, b});
		p.x.insert(p.x.end(), {a + 0.6f * z(g), b + 0.6f * z(g), z(g), z(g)});
		p.y.push_back(a + b > 0.0f ? 1 : 0);
	}
	return p;
}

static lupi::dataset to_dataset(const problem &p)
{
	lupi::dataset ds(p.y.size(), 4, p.x);
	ds.set_privileged(2, p.xp);
	ds.set_labels(2, p.y);
	return ds;
}

template <class F> static int code_of(F &&f)
{
	try {
		f();
	} catch (const lupi::error &e) {
		CHECK(std::string(e.what()).find(e.name()) != std::string::npos);
		return e.code();
	}
	return 0;
}

static void test_errors(const lupi::dataset &ds)
{
	std::vector<float> short_x(7);
	// checked in the wrapper, before the C call
	CHECK(code_of([&] { lupi::dataset bad(2, 4, short_x); }) == LUPI_ESHAPE);
	lupi::dataset d2(1, 7, short_x);
	CHECK(code_of([&] { d2.set_labels(2, std::vector<std::int32_t>{0, 1}); }) == LUPI_ESHAPE);
	// reported by the library: code, name and lupi_errmsg()'s detail
	try {
		lupi::model m(LUPI_TASK_CLASSIFICATION, 4, {}, 2);
		m.set_int(LUPI_MODEL_OPT_EPOCHS, -3);
		CHECK(false);
	} catch (const lupi::error &e) {
		CHECK(e.code() == LUPI_ERANGE);
		CHECK(std::string(e.name()) == "LUPI_ERANGE");
		CHECK(!e.detail().empty());
	}
	lupi::model wrong(LUPI_TASK_CLASSIFICATION, 3, {4}, 2); // X has 4 features
	CHECK(code_of([&] { wrong.fit(ds); }) == LUPI_ESHAPE);
	CHECK(code_of([&] { lupi::loss l(12345); }) == LUPI_EINVAL);
	CHECK(code_of([] { lupi::model::load("/nonexistent/student.lupi"); }) == LUPI_EIO);
}

static void test_progress(const lupi::dataset &ds)
{
	lupi::model m(LUPI_TASK_CLASSIFICATION, 4, {4}, 2);
	m.set_int(LUPI_MODEL_OPT_EPOCHS, 5);
	unsigned calls = 0;
	// stop at the first report: LUPI_ECANCELLED as an exception
	CHECK(code_of([&] { m.fit(ds, nullptr, [&](const lupi_progress &) { return ++calls > 0; }); }) ==
	      LUPI_ECANCELLED);
	CHECK(calls == 1);
	// a host exception crosses the C frames only as a return code
	bool caught = false;
	try {
		m.fit(ds, nullptr, [](const lupi_progress &p) -> bool {
			if (p.epoch_end)
				throw std::runtime_error("host stop");
			return false;
		});
	} catch (const std::runtime_error &e) {
		caught = std::string(e.what()) == "host stop";
	}
	CHECK(caught);
}

static double accuracy(const lupi::model &m, const problem &p, bool privileged)
{
	std::vector<float> out = m.predict(privileged ? p.xp : p.x);
	std::size_t right = 0;
	for (std::size_t i = 0; i < p.y.size(); i++) {
		CHECK(std::isfinite(out[2 * i]) && std::fabs(out[2 * i] + out[2 * i + 1] - 1.0f) < 1e-5f);
		right += (out[2 * i + 1] > out[2 * i]) == (p.y[i] == 1);
	}
	return (double)right / (double)p.y.size();
}

int main()
{
	problem train_p = make(400, 1), test_p = make(400, 2);
	lupi::dataset train = to_dataset(train_p), test = to_dataset(test_p);
	CHECK(train.rows() == 400 && train.dim(LUPI_VIEW_PRIVILEGED) == 2);

	lupi::model t(LUPI_TASK_CLASSIFICATION, 2, {8}, 2);
	t.set_int(LUPI_MODEL_OPT_VIEW, LUPI_VIEW_PRIVILEGED);
	t.set_int(LUPI_MODEL_OPT_EPOCHS, 60);
	t.set_double(LUPI_MODEL_OPT_LR, 0.01);
	t.fit(train);
	double acc_t = t.evaluate(test, LUPI_METRIC_ACCURACY);
	CHECK(acc_t > 0.95);
	CHECK(std::fabs(accuracy(t, test_p, true) - acc_t) < 1e-12);

	lupi::teacher teach;
	teach.add_model(t);
	{
		lupi::model gone = std::move(t); // the teacher holds a copy
	}
	CHECK(t.get() == nullptr);
	lupi::loss kd(LUPI_LOSS_KD);
	kd.set_double(LUPI_LOSS_OPT_TEMPERATURE, 2.0);
	kd.set_double(LUPI_LOSS_OPT_LAMBDA, 0.5);
	lupi::model s(LUPI_TASK_CLASSIFICATION, 4, {8}, 2);
	s.set_int(LUPI_MODEL_OPT_EPOCHS, 60);
	s.set_double(LUPI_MODEL_OPT_LR, 0.01);
	lupi::student_fit(s, teach, kd, train);
	double acc_s = s.evaluate(test, LUPI_METRIC_ACCURACY);
	CHECK(acc_s > 0.7 && acc_s < acc_t);
	CHECK(std::fabs(accuracy(s, test_p, false) - acc_s) < 1e-12);

	// save and load in a directory of our own: the same outputs, bit for bit
	char dir[] = "/tmp/lupi-cxx-XXXXXX";
	CHECK(mkdtemp(dir) != nullptr);
	std::string path = std::string(dir) + "/student.lupi";
	s.save(path);
	lupi::model back = lupi::model::load(path);
	CHECK(back.predict(test_p.x) == s.predict(test_p.x));
	CHECK(std::remove(path.c_str()) == 0 && rmdir(dir) == 0);

	lupi_model *raw = back.release(); // ownership back to C
	CHECK(back.get() == nullptr && raw != nullptr);
	lupi_model_free(raw);

	test_errors(train);
	test_progress(train);
	std::printf("teacher %.4f, distilled student %.4f, %d failures\n", acc_t, acc_s, failures);
	return failures ? 1 : 0;
}
