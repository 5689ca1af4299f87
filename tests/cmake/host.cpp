/* The smallest C++ host: trains a logistic regression on 4 points through
 * lupi.hpp and checks the version and a prediction. */
#include <lupi.hpp>

#include <cstdio>

int main()
{
	if (lupi_version_number() != LUPI_VERSION_NUMBER) {
		std::fprintf(stderr, "header %d, library %u\n", LUPI_VERSION_NUMBER,
			     lupi_version_number());
		return 1;
	}
	try {
		float x[] = {-2.0f, -1.0f, 1.0f, 2.0f};
		std::int32_t y[] = {0, 0, 1, 1};
		lupi::dataset ds(4, 1, x);
		ds.set_labels(2, y);
		lupi::model m(LUPI_TASK_CLASSIFICATION, 1, {}, 2);
		m.set_int(LUPI_MODEL_OPT_EPOCHS, 200);
		m.set_double(LUPI_MODEL_OPT_LR, 0.1);
		m.fit(ds);
		float q[] = {1.5f};
		std::vector<float> p = m.predict(q);
		std::printf("P(y=1 | x=1.5) = %.3f\n", p[1]);
		return p[1] > 0.5f ? 0 : 1;
	} catch (const lupi::error &e) {
		std::fprintf(stderr, "%s\n", e.what());
		return 1;
	}
}
