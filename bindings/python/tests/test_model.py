import copy
import pickle

import numpy as np
import pytest

import lupi


def test_shape_and_options():
    m = lupi.Model("classification", 5, [8, 4], 3, epochs=7, lr=0.05,
                   optimizer="sgd", view=lupi.VIEW_BOTH)
    assert (m.task, m.n_inputs, m.n_outputs, m.n_layers) == (
        "classification", 5, 3, 3)
    assert m.hidden == (8, 4)
    assert m.num_params == 5 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3
    assert m.options["epochs"] == 7 and m.options["lr"] == 0.05
    assert m.options["optimizer"] == "sgd" and m.options["view"] == "both"
    m.options["LUPI_MODEL_OPT_BATCH"] = 16
    m.set_options(weight_decay=1e-4, shuffle=False)
    assert m.options["batch"] == 16 and m.options["shuffle"] == 0
    assert set(m.options.changed()) == {"epochs", "lr", "optimizer", "view",
                                        "batch", "weight_decay", "shuffle"}
    assert len(m.options) == len(lupi.OPTIONS["model"])
    assert "epochs" in dict(m.options)
    assert lupi.Model("binary", 2).n_outputs == 1
    assert lupi.Model("regression", 2, n_outputs=3).n_outputs == 3
    with pytest.raises(TypeError):
        lupi.Model("classification", 2)
    repr(m)


def test_option_errors():
    m = lupi.Model("classification", 2, [3], 2)
    with pytest.raises(lupi.ERANGE) as e:
        m.options["epochs"] = 0
    assert "EPOCHS" in str(e.value) and e.value.code == lupi.ERANGE.code
    with pytest.raises(lupi.ERANGE):
        m.options["optimizer"] = "nonesuch"
    with pytest.raises(lupi.EUNKNOWN_OPTION):
        m.options["temperature"] = 2.0  # a loss option
    with pytest.raises(LookupError):
        m.options["nonesuch"]
    with pytest.raises(TypeError):
        m.options["epochs"] = 2.5
    with pytest.raises(TypeError):
        m.options["lr"] = "fast"
    with pytest.raises(TypeError):
        del m.options["lr"]


def test_layer_options(ds):
    m = lupi.Model("classification", 10, [8, 4], 2)
    assert m.get_layer_option(0, "activation") == "relu"
    m.set_layer_option(1, "activation", "tanh")
    m.set_layer_option(2, "bias", 0)
    assert m.get_layer_option(1, "activation") == "tanh"
    assert m.num_params == 10 * 8 + 8 + 8 * 4 + 4 + 4 * 2
    with pytest.raises(lupi.ERANGE):
        m.set_layer_option(2, "activation", "relu")  # the output layer
    with pytest.raises(lupi.ERANGE):
        m.set_layer_option(9, "frozen", 1)
    m.init()
    m.set_layer_option(0, "frozen", 1)
    before = m.params[:10 * 8 + 8].copy()
    m.step(ds)
    np.testing.assert_array_equal(m.params[:10 * 8 + 8], before)
    with pytest.raises(lupi.ESTATE):
        m.set_layer_option(0, "bias", 0)


def test_fit_predict_evaluate(ds, data):
    X, Xs, y = data
    m = lupi.Model("classification", 10, [16], 2, epochs=10, lr=0.01)
    assert m.fit(ds) is m
    p = m.predict(X)
    assert p.shape == (400, 2) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    logits = m.predict(X, logits=True)
    assert not np.allclose(logits, p)
    cls = m.predict_class(X)
    np.testing.assert_array_equal(cls, p.argmax(axis=1))
    assert m.predict(X[0]).shape == (2,)
    assert m.predict_class(X[0]) == cls[0]
    acc = m.evaluate(ds)
    assert acc == pytest.approx(np.mean(cls == y))
    assert acc > 0.7
    assert m.evaluate(ds, "logloss") > 0
    conf = m.confusion(ds)
    assert conf.shape == (2, 2) and conf.sum() == 400
    assert np.trace(conf) == np.sum(cls == y)
    with pytest.raises(lupi.ENOTSUP):
        m.evaluate(ds, "mse")
    with pytest.raises(lupi.ESHAPE):
        m.predict(np.zeros((3, 4)))
    assert m.predict(np.zeros((0, 10))).shape == (0, 2)


def test_untrained_predict_is_estate():
    with pytest.raises(lupi.ESTATE):
        lupi.Model("classification", 2, [3], 2).predict(np.zeros((1, 2)))


def test_params_standardizer_gradient(ds):
    m = lupi.Model("classification", 10, [4], 2, optimizer="sgd", lr=0.1,
                   standardize=0)
    m.init()
    p = m.params
    assert p.shape == (m.num_params,)
    m.params = np.zeros_like(p)
    assert not m.params.any()
    m.params = p
    value, g = m.gradient(ds, np.arange(50))
    np.testing.assert_array_equal(m.params, p)  # no update
    m2 = m.copy()
    m.apply_gradient(g)
    np.testing.assert_allclose(m.params, p - 0.1 * g, rtol=1e-6, atol=1e-7)
    v2 = m2.step(ds, np.arange(50))
    assert v2 == pytest.approx(value)
    np.testing.assert_array_equal(m2.params, m.params)
    with pytest.raises(lupi.ESHAPE):
        m.params = np.zeros(3)
    with pytest.raises(lupi.ESHAPE):
        m.apply_gradient(np.zeros(3))
    s = lupi.Model("classification", 10, [4], 2)
    s.standardizer = (np.zeros(10), np.full(10, 2.0))
    mean, std = s.standardizer
    np.testing.assert_array_equal(std, 2.0)
    with pytest.raises(lupi.ERANGE):
        s.standardizer = (np.zeros(10), np.zeros(10))


def test_regression_model():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    t = X @ np.array([1.0, -2.0, 0.5], np.float32)
    ds = lupi.Dataset(X, targets=t)
    m = lupi.Model("regression", 3, [], epochs=200, lr=0.05).fit(ds)
    assert m.evaluate(ds, "mse") < 0.01
    with pytest.raises(lupi.ENOTSUP):
        m.predict_class(X)


def test_save_load_bytes_pickle(ds, data, tmp_path):
    X = data[0]
    m = lupi.Model("classification", 10, [8], 2, epochs=2).fit(ds)
    path = tmp_path / "m.lupi"
    m.save(path)
    m2 = lupi.Model.load(path)
    b = m.to_bytes()
    assert path.read_bytes() == b == m2.to_bytes()
    m3 = lupi.Model.from_bytes(b)
    m4 = pickle.loads(pickle.dumps(m))
    m5 = copy.deepcopy(m)
    for other in (m2, m3, m4, m5, copy.copy(m)):
        np.testing.assert_array_equal(other.predict(X), m.predict(X))
        assert other.options["epochs"] == 2
    with pytest.raises(lupi.ECHECKSUM):
        bad = bytearray(b)
        bad[-1] ^= 0xFF
        lupi.Model.from_bytes(bytes(bad))
    with pytest.raises(lupi.EFORMAT):
        lupi.Model.from_bytes(b"not a model")
    with pytest.raises(lupi.EIO):
        lupi.Model.load(tmp_path / "missing")
    with pytest.raises(OSError):
        lupi.Model.load(tmp_path / "missing")


def test_pickle_untrained_keeps_options():
    m = lupi.Model("classification", 4, [6, 3], 2, lr=0.2, optimizer="adamw",
                   seed=42)
    m.set_layer_option(1, "activation", "gelu")
    m.set_layer_option(2, "bias", 0)
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.options.changed() == m.options.changed()
    assert m2.get_layer_option(1, "activation") == "gelu"
    assert m2.get_layer_option(2, "bias") == 0
    assert m2.hidden == (6, 3) and m2.num_params == m.num_params
    m.init()
    m2.init()
    np.testing.assert_array_equal(m.params, m2.params)


def test_finalizer_frees(data):
    # Handles dropped without close() are freed by the finalizer; this
    # only checks that dropping many does not crash or leak handles.
    for _ in range(200):
        lupi.Model("classification", 10, [8], 2)
        lupi.Dataset(data[0])
