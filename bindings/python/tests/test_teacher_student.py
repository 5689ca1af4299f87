import pickle

import numpy as np
import pytest

import lupi
from conftest import make_data


def test_teacher_members(ds, teacher_model, data):
    X, Xs, y = data
    t = lupi.Teacher(teacher_model)
    assert t.n_outputs == 2
    out, has = t.outputs(ds)
    assert out.shape == (400, 2) and has.all()
    # A single member passes its logits through unchanged.
    np.testing.assert_array_equal(out, teacher_model.predict(Xs,
                                                             logits=True))
    out5, _ = t.outputs(ds, [5, 0])
    np.testing.assert_array_equal(out5, out[[5, 0]])
    t.prepare(ds)
    np.testing.assert_array_equal(t.outputs(ds)[0], out)
    with pytest.raises(lupi.ESTATE):
        lupi.Teacher().add_model(lupi.Model("classification", 2, [3], 2))
    with pytest.raises(lupi.ESHAPE):
        t.add_model(lupi.Model("classification", 2, [3], 3).init())
    with pytest.raises(lupi.ESTATE):
        lupi.Teacher().outputs(ds)
    two = lupi.Teacher([teacher_model, teacher_model], weights=[1, 3])
    np.testing.assert_allclose(np.exp(two.outputs(ds)[0]),
                               teacher_model.predict(Xs), rtol=1e-5)
    repr(two)


def test_teacher_survives_model_close(ds, teacher_model):
    t = lupi.Teacher(teacher_model)
    ref = t.outputs(ds)[0]
    teacher_model.close()  # the teacher holds a copy
    np.testing.assert_array_equal(t.outputs(ds)[0], ref)


def test_external_outputs_and_mismatch(ds):
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([1, 1], size=400).astype(np.float32)
    t = lupi.Teacher().add_outputs(ds, probs, kind="probs")
    out, has = t.outputs(ds)
    np.testing.assert_allclose(np.exp(out), probs, rtol=1e-4, atol=1e-6)
    other = ds.subset(None)
    with pytest.raises(lupi.EMISMATCH):
        t.outputs(other)
    # a row of probabilities that does not sum to 1 is LUPI_EINVAL
    with pytest.raises(lupi.EINVAL, match="sum to"):
        lupi.Teacher().add_outputs(ds, probs * 2, kind="probs")
    with pytest.raises(TypeError):
        pickle.dumps(t)


def test_teacher_pickle(ds, teacher_model):
    t = lupi.Teacher(teacher_model, weights=[2.0])
    t2 = pickle.loads(pickle.dumps(t))
    np.testing.assert_array_equal(t2.outputs(ds)[0], t.outputs(ds)[0])


def test_crossfit(ds):
    proto = lupi.Model("classification", 2, [8], 2, view="privileged",
                       epochs=2)
    t = lupi.Teacher.crossfit(proto, ds, k_folds=3, seed=1)
    out, has = t.outputs(ds)
    assert out.shape == (400, 2) and has.all()
    with pytest.raises(lupi.ERANGE):
        lupi.Teacher.crossfit(proto, ds, k_folds=1)


def test_student_fit_beats_nothing(ds, teacher_model, data):
    X, Xs, y = data
    s = lupi.Model("classification", 10, [16], 2, epochs=10, lr=0.01)
    s.fit(ds, teacher=lupi.Teacher(teacher_model),
          loss=lupi.Loss("kd", temperature=2))
    assert s.evaluate(ds) > 0.7
    # Without a loss object, KD with its defaults; without a teacher, labels.
    a = lupi.Model("classification", 10, [16], 2, epochs=2, seed=5)
    b = lupi.Model("classification", 10, [16], 2, epochs=2, seed=5)
    a.fit(ds, teacher=lupi.Teacher(teacher_model))
    b.fit(ds, teacher=lupi.Teacher(teacher_model), loss=lupi.Loss("kd"))
    np.testing.assert_array_equal(a.params, b.params)


def test_student_step_gradient_loss(ds, teacher_model):
    t = lupi.Teacher(teacher_model).prepare(ds)
    loss = lupi.Loss("kd", temperature=2, lambda_=0.9)
    s = lupi.Model("classification", 10, [8], 2, optimizer="sgd", lr=0.5,
                   standardize=0)
    s.init()
    p0 = s.params
    v, g = s.gradient(ds, np.arange(40), teacher=t, loss=loss)
    np.testing.assert_array_equal(s.params, p0)
    v1 = s.step(ds, np.arange(40), teacher=t, loss=loss)
    assert v1 == pytest.approx(v)
    np.testing.assert_allclose(s.params, p0 - 0.5 * g, rtol=1e-5, atol=1e-6)
    total = s.distillation_loss(ds, t, loss)
    assert np.isfinite(total) and total > 0
    with pytest.raises(lupi.ESHAPE):
        lupi.Model("classification", 10, [8], 3).step(ds, teacher=t)


def test_masked_privileged(data):
    X, Xs, y = data
    mask = np.arange(400) % 3 != 0
    ds = lupi.Dataset(X, X_priv=Xs, mask=mask, y=y)
    tm = lupi.Model("classification", 2, [8], 2, view="privileged",
                    epochs=3).fit(ds)
    out, has = lupi.Teacher(tm).outputs(ds)
    np.testing.assert_array_equal(has, mask)
    s = lupi.Model("classification", 10, [8], 2, epochs=3)
    s.fit(ds, teacher=lupi.Teacher(tm), loss=lupi.Loss("kd"))
    assert s.evaluate(ds) > 0.5


def test_progress_and_early_stop(ds):
    seen = []
    m = lupi.Model("classification", 10, [8], 2, epochs=10)
    m.fit(ds, progress=lambda p: seen.append(p) or p.epoch == 3)
    assert [p.epoch for p in seen] == [1, 2, 3]
    assert all(p.epoch_end and p.epochs == 10 for p in seen)
    assert np.isnan(seen[0].valid_metric)
    seen.clear()
    train, valid = ds.split(0.8, seed=1)
    m = lupi.Model("classification", 10, [8], 2, epochs=2)
    m.fit(train, valid, progress=seen.append)
    assert len(seen) == 2 and 0 <= seen[-1].valid_metric <= 1


class Boom(Exception):
    pass


def test_exception_in_progress_propagates(ds, teacher_model):
    def cb(p):
        if p.epoch == 2:
            raise Boom("stop here")

    m = lupi.Model("classification", 10, [8], 2, epochs=10)
    with pytest.raises(Boom, match="stop here"):
        m.fit(ds, progress=cb)
    with pytest.raises(Boom):
        m.fit(ds, teacher=lupi.Teacher(teacher_model), progress=cb)
    # The model is still usable (weights trained so far are kept).
    assert m.predict(np.zeros((1, 10))).shape == (1, 2)


def test_keyboard_interrupt_in_progress(ds):
    def cb(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lupi.Model("classification", 10, [8], 2).fit(ds, progress=cb)


def test_generalization_on_fresh_data():
    X, Xs, y = make_data(n=1500, seed=4)
    ds = lupi.Dataset(X, X_priv=Xs, y=y)
    tm = lupi.Model("classification", 2, [16], 2, view="privileged",
                    epochs=20, lr=0.01).fit(ds)
    assert tm.evaluate(ds) > 0.95
