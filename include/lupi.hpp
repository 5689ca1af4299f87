/*
 * lupi.hpp: a header-only C++17 wrapper of lupi.h (liblupi >= 0.2). Each
 * handle has one owner, a std::unique_ptr with its *_free (move-only);
 * get() gives the C handle for what is not wrapped, release() ownership.
 * A failing call throws lupi::error (the LUPI_E* code, lupi_errname(),
 * lupi_errmsg()). Arrays are lupi::span (pointer and size, a small
 * std::span), checked against the shapes before the C call (LUPI_ESHAPE).
 * No exception unwinds through liblupi's C frames: one thrown by a progress
 * callback stops the fit and is rethrown when the C call has returned.
 *
 *   lupi::dataset ds(n, d, x);                  // copies x
 *   lupi::model m(LUPI_TASK_CLASSIFICATION, d, {8}, 2);
 *   m.set_int(LUPI_MODEL_OPT_EPOCHS, 50);
 *   m.fit(ds);
 *   std::vector<float> p = m.predict(row);      // n * outputs() floats
 */
#ifndef LUPI_HPP
#define LUPI_HPP

#include <lupi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace lupi {

/** A failed liblupi call: code() is the LUPI_E* code, name() its macro's
 * name ("LUPI_ESHAPE"), detail() the text of lupi_errmsg(). */
class error : public std::runtime_error {
public:
	error(int code, const char *where, const std::string &detail)
		: std::runtime_error(std::string(where) + ": " + name_of(code) + ": " + detail),
		  code_(code), detail_(detail)
	{
	}
	int code() const noexcept { return code_; }
	const char *name() const noexcept { return name_of(code_); }
	const std::string &detail() const noexcept { return detail_; }

private:
	static const char *name_of(int code) noexcept
	{
		const char *n = lupi_errname(code);
		return n ? n : "LUPI_E?";
	}
	int code_;
	std::string detail_;
};

/** Contiguous elements borrowed for the duration of one call. */
template <class T> class span {
public:
	constexpr span() noexcept = default;
	constexpr span(T *p, std::size_t n) noexcept : p_(p), n_(n) {}
	template <std::size_t N> constexpr span(T (&a)[N]) noexcept : p_(a), n_(N) {}
	template <class C, class = std::enable_if_t<
				   !std::is_same_v<std::decay_t<C>, span> &&
				   std::is_convertible_v<decltype(std::declval<C &>().data()), T *>>>
	constexpr span(C &&c) noexcept : p_(c.data()), n_(c.size())
	{
	}
	constexpr T *data() const noexcept { return p_; }
	constexpr std::size_t size() const noexcept { return n_; }
	constexpr bool empty() const noexcept { return n_ == 0; }
	constexpr T *begin() const noexcept { return p_; }
	constexpr T *end() const noexcept { return p_ + n_; }

private:
	T *p_ = nullptr;
	std::size_t n_ = 0;
};

namespace detail {
inline void check(int rc, const char *where)
{
	if (rc < 0)
		throw error(rc, where, lupi_errmsg());
}
inline void require(bool ok, const char *where, const char *what)
{
	if (!ok)
		throw error(LUPI_ESHAPE, where, what);
}
template <class T, void (*Free)(T *)> class handle {
public:
	T *get() const noexcept { return h_.get(); }
	T *release() noexcept { return h_.release(); }

protected:
	explicit handle(T *h) noexcept : h_(h) {}

private:
	struct deleter {
		void operator()(T *p) const noexcept { Free(p); }
	};
	std::unique_ptr<T, deleter> h_;
};
// Calls a C creator `int f(a..., T **out)`: *out, or throws.
template <class T, class F, class... A> T *create(const char *where, F f, A... a)
{
	T *p = nullptr;
	check(f(a..., &p), where);
	return p;
}
// The C progress callback around a host callable bool(const lupi_progress &)
// (true: stop); an exception it throws is kept for the caller to rethrow.
template <class F> struct progress {
	F &fn;
	std::exception_ptr err;
	static int call(void *user, const lupi_progress *p) noexcept
	{
		auto *self = static_cast<progress *>(user);
		try {
			return self->fn(*p) ? 1 : 0;
		} catch (...) {
			self->err = std::current_exception();
			return 1;
		}
	}
	void finish(int rc, const char *where)
	{
		if (err)
			std::rethrow_exception(err);
		check(rc, where);
	}
};
template <class H> auto raw(const H *h) noexcept { return h ? h->get() : nullptr; }
} // namespace detail

class reader : public detail::handle<lupi_reader, lupi_reader_free> {
public:
	reader() : handle(detail::create<lupi_reader>("lupi_reader_create", lupi_reader_create)) {}
	explicit reader(lupi_reader *r) noexcept : handle(r) {}
	void set_int(int key, std::int64_t v)
	{
		detail::check(lupi_reader_set_int(get(), key, v), "lupi_reader_set_int");
	}
	void set_role(std::size_t first, std::size_t last, int role)
	{
		detail::check(lupi_reader_set_role(get(), first, last, role), "lupi_reader_set_role");
	}
};

class dataset : public detail::handle<lupi_dataset, lupi_dataset_free> {
public:
	/** n rows of d floats of X, copied. */
	dataset(std::size_t n, std::size_t d, span<const float> x) : handle(make(n, d, x)) {}
	explicit dataset(lupi_dataset *ds) noexcept : handle(ds) {}
	static dataset load_csv(const std::string &path, const reader *r = nullptr)
	{
		return dataset(detail::create<lupi_dataset>("lupi_dataset_load_csv", lupi_dataset_load_csv,
							    path.c_str(), detail::raw(r)));
	}
	/** X*: rows() rows of d floats, copied; mask: rows() bytes, 1 where X*
	 * is present, or empty when it is present everywhere. */
	void set_privileged(std::size_t d, span<const float> xp, span<const std::uint8_t> mask = {})
	{
		const char *f = "lupi_dataset_set_privileged";
		detail::require(xp.size() == rows() * d, f, "X* does not have rows() * d floats");
		detail::require(mask.empty() || mask.size() == rows(), f, "mask is not rows() bytes");
		detail::check(lupi_dataset_set_privileged(get(), d, xp.data(),
							  mask.empty() ? nullptr : mask.data()), f);
	}
	void set_labels(std::size_t k, span<const std::int32_t> y)
	{
		const char *f = "lupi_dataset_set_labels";
		detail::require(y.size() == rows(), f, "labels are not rows() values");
		detail::check(lupi_dataset_set_labels(get(), k, y.data()), f);
	}
	void set_targets(std::size_t m, span<const float> t)
	{
		const char *f = "lupi_dataset_set_targets";
		detail::require(t.size() == rows() * m, f, "targets are not rows() * m floats");
		detail::check(lupi_dataset_set_targets(get(), m, t.data()), f);
	}
	std::size_t rows() const noexcept { return lupi_dataset_rows(get()); }
	std::size_t dim(int view = LUPI_VIEW_REGULAR) const noexcept
	{
		return lupi_dataset_dim(get(), view);
	}

private:
	static lupi_dataset *make(std::size_t n, std::size_t d, span<const float> x)
	{
		detail::require(x.size() == n * d, "lupi_dataset_create", "x is not n * d floats");
		return detail::create<lupi_dataset>("lupi_dataset_create", lupi_dataset_create, n, d,
						    x.data());
	}
};

class loss : public detail::handle<lupi_loss, lupi_loss_free> {
public:
	explicit loss(int kind)
		: handle(detail::create<lupi_loss>("lupi_loss_create", lupi_loss_create, kind))
	{
	}
	explicit loss(lupi_loss *l) noexcept : handle(l) {}
	void set_int(int key, std::int64_t v)
	{
		detail::check(lupi_loss_set_int(get(), key, v), "lupi_loss_set_int");
	}
	void set_double(int key, double v)
	{
		detail::check(lupi_loss_set_double(get(), key, v), "lupi_loss_set_double");
	}
};

class model : public detail::handle<lupi_model, lupi_model_free> {
public:
	model(int task, std::size_t n_in, span<const std::size_t> hidden, std::size_t n_out)
		: handle(detail::create<lupi_model>("lupi_model_create", lupi_model_create, task,
						    n_in, hidden.data(), hidden.size(), n_out))
	{
	}
	model(int task, std::size_t n_in, std::initializer_list<std::size_t> hidden,
	      std::size_t n_out)
		: model(task, n_in, span<const std::size_t>(hidden.begin(), hidden.size()), n_out)
	{
	}
	explicit model(lupi_model *m) noexcept : handle(m) {}
	static model load(const std::string &path)
	{
		return model(detail::create<lupi_model>("lupi_model_load", lupi_model_load,
							path.c_str()));
	}
	void set_int(int key, std::int64_t v)
	{
		detail::check(lupi_model_set_int(get(), key, v), "lupi_model_set_int");
	}
	void set_double(int key, double v)
	{
		detail::check(lupi_model_set_double(get(), key, v), "lupi_model_set_double");
	}
	std::size_t inputs() const noexcept { return lupi_model_inputs(get()); }
	std::size_t outputs() const noexcept { return lupi_model_outputs(get()); }
	void fit(const dataset &train, const dataset *valid = nullptr)
	{
		detail::check(lupi_model_fit(get(), train.get(), detail::raw(valid), nullptr, nullptr),
			      "lupi_model_fit");
	}
	/** As fit; progress(const lupi_progress &) returns true to stop. */
	template <class F> void fit(const dataset &train, const dataset *valid, F &&progress)
	{
		detail::progress<F> p{progress, nullptr};
		p.finish(lupi_model_fit(get(), train.get(), detail::raw(valid),
					detail::progress<F>::call, &p),
			 "lupi_model_fit");
	}
	/** Rows of inputs() floats; n * outputs() floats back. */
	std::vector<float> predict(span<const float> x, int what = LUPI_PREDICT_OUTPUT) const
	{
		std::size_t d = inputs(), n = d ? x.size() / d : 0;
		detail::require(n > 0 && n * d == x.size(), "lupi_model_predict",
				"x is not a whole number (> 0) of rows of inputs() floats");
		std::vector<float> out(n * outputs());
		detail::check(lupi_model_predict(get(), x.data(), n, d, what, out.data()),
			      "lupi_model_predict");
		return out;
	}
	double evaluate(const dataset &ds, int metric) const
	{
		double v = 0.0;
		detail::check(lupi_model_evaluate(get(), ds.get(), metric, &v), "lupi_model_evaluate");
		return v;
	}
	void save(const std::string &path) const
	{
		detail::check(lupi_model_save(get(), path.c_str()), "lupi_model_save");
	}
};

class teacher : public detail::handle<lupi_teacher, lupi_teacher_free> {
public:
	teacher() : handle(detail::create<lupi_teacher>("lupi_teacher_create", lupi_teacher_create)) {}
	explicit teacher(lupi_teacher *t) noexcept : handle(t) {}
	/** Copies m: it may be freed afterwards. */
	void add_model(const model &m, double weight = 1.0)
	{
		detail::check(lupi_teacher_add_model(get(), m.get(), weight), "lupi_teacher_add_model");
	}
};

/** Trains a student on the labels and the teacher (lupi_student_fit). */
inline void student_fit(model &student, const teacher &t, loss &l, const dataset &train,
			const dataset *valid = nullptr)
{
	detail::check(lupi_student_fit(student.get(), t.get(), l.get(), train.get(),
				       detail::raw(valid), nullptr, nullptr),
		      "lupi_student_fit");
}

/** One row of a comparison (lupi_compare_row). */
struct compare_row {
	int kind;
	double lambda, temperature, mean, std_dev, diff_mean, diff_std;
};

class compare : public detail::handle<lupi_compare, lupi_compare_free> {
public:
	compare(const model &teacher_proto, const model &student_proto)
		: handle(detail::create<lupi_compare>("lupi_compare_create", lupi_compare_create,
						      teacher_proto.get(), student_proto.get()))
	{
	}
	explicit compare(lupi_compare *c) noexcept : handle(c) {}
	void set_int(int key, std::int64_t v)
	{
		detail::check(lupi_compare_set_int(get(), key, v), "lupi_compare_set_int");
	}
	void set_grid(span<const double> lambdas, span<const double> temps)
	{
		detail::check(lupi_compare_set_grid(get(), lambdas.data(), lambdas.size(),
						    temps.data(), temps.size()),
			      "lupi_compare_set_grid");
	}
	void run(const dataset &train, const dataset &test)
	{
		detail::check(lupi_compare_run(get(), train.get(), test.get(), nullptr, nullptr),
			      "lupi_compare_run");
	}
	std::vector<compare_row> rows() const
	{
		std::vector<compare_row> v(lupi_compare_rows(get()));
		for (std::size_t i = 0; i < v.size(); i++) {
			compare_row &r = v[i];
			detail::check(lupi_compare_row(get(), i, &r.kind, &r.lambda, &r.temperature,
						       &r.mean, &r.std_dev, &r.diff_mean,
						       &r.diff_std),
				      "lupi_compare_row");
		}
		return v;
	}
};

} // namespace lupi

#endif /* LUPI_HPP */
