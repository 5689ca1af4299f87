import pickle

import numpy as np
import pytest

import lupi


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_kinds_and_options():
    for kind in ("hard", "kd", "logits", "sel", "regression"):
        assert lupi.Loss(kind).kind == kind
    assert lupi.Loss(lupi.LOSS_SEL).kind == "sel"
    loss = lupi.Loss("kd", temperature=4, lambda_=0.25, divergence="kl")
    assert loss.options["temperature"] == 4.0
    assert loss.options["lambda"] == 0.25
    assert loss.options["divergence"] == "kl"
    assert loss.set_options(filter="drop_wrong") is loss
    with pytest.raises(lupi.ERANGE):
        loss.options["lambda"] = 1.5
    with pytest.raises(lupi.EUNKNOWN_OPTION):
        loss.options["epochs"] = 3
    with pytest.raises(lupi.EINVAL):
        lupi.Loss("nonesuch")
    repr(loss)


def test_eval_matches_closed_form():
    # Hard loss: mean cross-entropy; gradient (p - onehot) / n.
    rng = np.random.default_rng(0)
    s = rng.normal(size=(5, 3)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    v, g = lupi.Loss("hard").eval(s, labels=y)
    p = softmax(s.astype(np.float64))
    assert v == pytest.approx(-np.mean(np.log(p[np.arange(5), y])), rel=1e-6)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(g, (p - onehot) / 5, rtol=1e-5, atol=1e-7)
    # KD with lambda 1, T 1, CE: -sum q log p averaged.
    t = rng.normal(size=(5, 3)).astype(np.float32)
    v, g = lupi.Loss("kd", lambda_=1.0).eval(s, t, labels=y)
    q = softmax(t.astype(np.float64))
    assert v == pytest.approx(-np.mean(np.sum(q * np.log(p), axis=1)),
                              rel=1e-6)
    v2, none = lupi.Loss("kd", lambda_=1.0).eval(s, t, labels=y, grad=False)
    assert v2 == v and none is None
    # has_teacher: a sample without teacher output keeps its label term.
    v3, _ = lupi.Loss("kd", lambda_=1.0).eval(s, t, labels=y,
                                               has_teacher=[0, 0, 0, 0, 0])
    assert v3 == 0.0 or np.isfinite(v3)


def test_eval_errors():
    s = np.zeros((2, 3), np.float32)
    with pytest.raises(lupi.ERANGE):
        lupi.Loss("hard").eval(s, labels=[0, 5])
    with pytest.raises(lupi.ESHAPE):
        lupi.Loss("kd").eval(s, np.zeros((2, 2)), labels=[0, 1])
    with pytest.raises(lupi.ENONFINITE):
        lupi.Loss("hard").eval(np.full((2, 3), np.nan), labels=[0, 1])


def test_columns_copy_pickle():
    loss = lupi.Loss("kd", temperature=3).set_columns([0, 2])
    np.testing.assert_array_equal(loss.columns, [0, 2])
    with pytest.raises(lupi.EINVAL):
        lupi.Loss("kd").set_columns([1, 1])
    c = loss.copy()
    p = pickle.loads(pickle.dumps(loss))
    rng = np.random.default_rng(2)
    s = rng.normal(size=(4, 3)).astype(np.float32)
    t = rng.normal(size=(4, 3)).astype(np.float32)
    y = [0, 1, 2, 0]
    ref = loss.eval(s, t, labels=y)
    for other in (c, p):
        assert other.options["temperature"] == 3.0
        v, g = other.eval(s, t, labels=y)
        assert v == ref[0]
        np.testing.assert_array_equal(g, ref[1])
    assert loss.set_columns(None).columns is None


def test_feature_losses():
    rng = np.random.default_rng(3)
    fs = rng.normal(size=(8, 4)).astype(np.float32)
    ft = rng.normal(size=(8, 6)).astype(np.float32)
    with pytest.raises(lupi.ESTATE):
        lupi.Loss("kd").eval_features(fs, ft)
    for feature in ("hint", "rkd_dist", "rkd_angle", "pkt", "sp"):
        loss = lupi.Loss("kd", feature=feature)
        v, g = loss.eval_features(fs, ft)
        assert np.isfinite(v) and g.shape == fs.shape
    hint = lupi.Loss("kd", feature="hint", feature_lr=0.1)
    v0, _ = hint.eval_features(fs, ft)
    for _ in range(20):
        hint.update_features(fs, ft)
    v1, _ = hint.eval_features(fs, ft)
    assert v1 < v0
