import numpy as np
import pytest

import lupi
from conftest import make_data


def protos():
    return (lupi.Model("classification", 2, [8], 2, view="privileged",
                       epochs=3),
            lupi.Model("classification", 10, [8], 2, epochs=3))


def test_compare_table(ds):
    t, s = protos()
    train, test = ds.split(0.7, seed=1)
    c = lupi.compare(t, s, train, test, loss=lupi.Loss("kd"),
                     lambdas=[0.2, 0.8], temperatures=[1, 4], repeats=2,
                     seed=3)
    assert c.metric == "accuracy" and c.repeats == 2 and len(c) == 7
    rows = c.rows
    assert [r.kind for r in rows] == ["baseline", "teacher", "hard"] + [
        "distilled"] * 4
    assert [(r.lambda_, r.temperature) for r in rows[3:]] == [
        (0.2, 1), (0.2, 4), (0.8, 1), (0.8, 4)]
    assert np.isnan(rows[0].lambda_)
    v = c.values()
    assert v.shape == (7, 2)
    np.testing.assert_allclose(v.mean(axis=1), [r.mean for r in rows])
    assert rows[2].diff_mean == 0
    assert c.options["repeats"] == 2 and c.options["seed"] == 3
    with pytest.raises(lupi.ERANGE):
        c.row(7)
    repr(c)


def test_compare_errors_and_cancel(ds):
    t, s = protos()
    c = lupi.Compare(t, s, repeats=1)
    assert c.rows == []  # no table before a run
    with pytest.raises(lupi.ESTATE):
        c.metric
    with pytest.raises(lupi.ERANGE):
        c.options["repeats"] = 0
    with pytest.raises(lupi.ERANGE):
        lupi.Compare(t, s, lambdas=[2.0])
    with pytest.raises(lupi.ESHAPE):
        lupi.Compare(t, lupi.Model("classification", 10, [8], 3))
    train, test = ds.split(0.7)
    seen = []
    with pytest.raises(lupi.ECANCELLED):
        c.run(train, test, progress=lambda p: seen.append(p) or True)
    assert len(seen) == 1 and seen[0].epoch == 1 and seen[0].epochs == 3

    class Boom(Exception):
        pass

    def boom(p):
        raise Boom

    with pytest.raises(Boom):
        c.run(train, test, progress=boom)
    c.run(train, test)
    assert len(c) == 4


def test_run_each(ds):
    t, s = protos()
    calls = []

    def data(repeat, seed):
        calls.append((repeat, seed))
        X, Xs, y = make_data(n=200, seed=seed)
        return lupi.Dataset(X, Xs, y=y).split(0.5, seed=seed)

    c = lupi.Compare(t, s, repeats=3, seed=10).run_each(data)
    assert calls == [(0, 10), (1, 11), (2, 12)]
    assert c.values().shape == (4, 3)

    def bad(repeat, seed):
        if repeat == 1:
            raise KeyError("no data for repeat 1")
        return data(repeat, seed)

    with pytest.raises(KeyError, match="repeat 1"):
        c.run_each(bad)
    with pytest.raises(TypeError):
        c.run_each(lambda r, s: (1, 2))
