import pickle

import numpy as np
import pytest

import lupi


def test_create_and_read_back(data):
    X, Xs, y = data
    w = np.linspace(0.5, 1.5, len(y)).astype(np.float32)
    ds = lupi.Dataset(X, X_priv=Xs, y=y, weights=w)
    assert len(ds) == ds.n_samples == 400
    assert (ds.n_features, ds.n_privileged) == (10, 2)
    assert ds.task == "classification" and ds.n_outputs == 2
    assert ds.privileged_count == 400
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.X_priv, Xs)
    np.testing.assert_array_equal(ds.labels, y)
    np.testing.assert_array_equal(ds.weights, w)
    assert ds.mask.all() and ds.targets is None
    assert "n=400" in repr(ds)


def test_copies_input(data):
    X, Xs, y = data
    ds = lupi.Dataset(X, y=y)
    X[0, 0] = 99.0
    assert ds.X[0, 0] != 99.0


def test_float64_and_noncontiguous_inputs(data):
    X, Xs, y = data
    Xf = np.asfortranarray(X.astype(np.float64))
    ds = lupi.Dataset(Xf, X_priv=Xs[:, ::-1], y=y.astype(np.int64))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.X_priv, Xs[:, ::-1])


def test_mask_binary_regression():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    Xs = np.ones((4, 2), np.float32)
    Xs[1] = np.nan  # ignored: masked out
    ds = lupi.Dataset(X, X_priv=Xs, mask=[1, 0, 1, 1], y=[0, 1, 1, 0],
                      task="binary")
    assert ds.task == "binary" and ds.privileged_count == 3
    np.testing.assert_array_equal(ds.mask, [True, False, True, True])
    r = lupi.Dataset(X, targets=np.ones((4, 2)))
    assert r.task == "regression" and r.n_outputs == 2
    assert r.targets.shape == (4, 2) and r.labels is None
    assert lupi.Dataset(X).task == "none"


def test_n_classes():
    ds = lupi.Dataset(np.zeros((3, 1)), y=[0, 1, 1], n_classes=5)
    assert ds.n_outputs == 5


def test_errors():
    with pytest.raises(lupi.ENONFINITE) as e:
        lupi.Dataset(np.array([[1.0, np.nan]]))
    assert "sample" in str(e.value) or e.value.message
    with pytest.raises(ValueError):  # ENONFINITE is a ValueError too
        lupi.Dataset(np.array([[np.inf]]))
    with pytest.raises(lupi.ERANGE):
        lupi.Dataset(np.zeros((2, 1)), y=[0, 3], n_classes=2)
    with pytest.raises(lupi.ERANGE):
        lupi.Dataset(np.zeros((2, 1)), y=[0, 1], weights=[1, -1])
    with pytest.raises(lupi.ESHAPE):
        lupi.Dataset(np.zeros((2, 1)), X_priv=np.zeros((3, 1)))
    with pytest.raises(lupi.EINVAL):
        lupi.Dataset(np.zeros((0, 1)))
    with pytest.raises(ValueError):
        lupi.Dataset(np.zeros((2, 1)), y=[0.5, 1])


def test_subset_split_shuffle(ds, data):
    X, Xs, y = data
    sub = ds.subset([3, 1, 3])
    np.testing.assert_array_equal(sub.X, X[[3, 1, 3]])
    np.testing.assert_array_equal(ds[10:20].labels, y[10:20])
    with pytest.raises(lupi.ERANGE):
        ds.subset([400])
    a, b = ds.split_indices(0.75, seed=3, stratified=True)
    assert len(a) + len(b) == 400 and abs(len(a) - 300) <= 1
    assert sorted(np.concatenate([a, b])) == list(range(400))
    tr, te = ds.split(0.75, seed=3, stratified=True)
    np.testing.assert_array_equal(tr.X, X[a])
    np.testing.assert_array_equal(te.labels, y[b])
    c = ds.subset(None)
    c.shuffle(seed=1)
    assert not np.array_equal(c.X, X)
    assert sorted(map(tuple, c.X)) == sorted(map(tuple, X))
    with pytest.raises(lupi.ERANGE):
        ds.split(1.5)


def test_standardize(ds):
    mean, std = ds.fit_standardizer("regular")
    assert mean.shape == (10,) and np.all(std > 0)
    m2, s2 = ds.standardize("privileged")
    np.testing.assert_allclose(ds.X_priv.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.X_priv.std(axis=0), 1, atol=1e-4)
    with pytest.raises(lupi.ESHAPE):
        ds.standardize("regular", np.zeros(3), np.ones(3))
    with pytest.raises(lupi.EINVAL):
        ds.standardize("nonsense")


def test_pickle(data):
    X, Xs, y = data
    ds = lupi.Dataset(X, X_priv=Xs, mask=y > 0, y=y, weights=np.ones(400))
    ds2 = pickle.loads(pickle.dumps(ds))
    for attr in ("X", "X_priv", "mask", "labels", "weights"):
        np.testing.assert_array_equal(getattr(ds2, attr), getattr(ds, attr))
    r = lupi.Dataset(X, targets=Xs)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(r)).targets, Xs)


def test_close_and_context_manager(data):
    X, Xs, y = data
    with lupi.Dataset(X, y=y) as ds:
        assert not ds.closed
    assert ds.closed
    with pytest.raises(ValueError, match="closed"):
        len(ds)
    ds.close()  # twice is fine
    assert "closed" in repr(ds)


def test_load_csv_and_libsvm(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,star,label\n1,2,3,0\n4,5,,1\n7,8,9,1\n")
    ds = lupi.load_csv(p, roles={"star": "privileged"})
    assert (len(ds), ds.n_features, ds.n_privileged) == (3, 2, 1)
    np.testing.assert_array_equal(ds.mask, [True, False, True])
    np.testing.assert_array_equal(ds.labels, [0, 1, 1])
    q = tmp_path / "d.tsv"
    q.write_text("1;2;0\n3;4;1\n")
    ds = lupi.load_csv(q, roles={(1, 1): "privileged"}, header=0,
                       delimiter=";")
    assert (ds.n_features, ds.n_privileged) == (1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,label\nxyz,1\n")
    with pytest.raises(lupi.EFORMAT) as e:
        lupi.load_csv(bad)
    assert "bad.csv" in str(e.value)
    with pytest.raises(lupi.EIO):
        lupi.load_csv(tmp_path / "missing.csv")
    with pytest.raises(lupi.ERANGE):
        lupi.load_csv(p, header=7)
    s = tmp_path / "d.svm"
    s.write_text("0 1:0.5 3:1\n1 2:1 3:2\n")
    ds = lupi.load_libsvm(s, roles={3: "privileged"})
    assert (ds.n_features, ds.n_privileged) == (2, 1)
