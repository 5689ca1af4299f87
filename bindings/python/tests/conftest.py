"""Shared fixtures. Run by meson (suite 'python') with LUPI_LIBRARY set to
the built liblupi.so.0; by hand:

    LUPI_LIBRARY=build/lib/liblupi.so.0 PYTHONPATH=bindings/python \
        /usr/bin/python3 -m pytest -p no:cacheprovider bindings/python/tests
"""
import os
import pathlib

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve().parent
HEADER = pathlib.Path(os.environ.get(
    "LUPI_HEADER", HERE.parent.parent.parent / "include" / "lupi.h"))


def need(cond, why):
    """Skips when run by hand without what meson provides; under meson
    (LUPI_REQUIRE_ALL=1) a missing piece is a failure, not a skip."""
    if cond:
        return
    if os.environ.get("LUPI_REQUIRE_ALL") == "1":
        pytest.fail(why)
    pytest.skip(why)


def make_data(n=400, seed=0, d=10):
    """The quickstart's problem: X has d features, the first a noisy copy of
    a clean signal; X* holds the 2 clean features that decide y."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.5, 0.5, (n, d)).astype(np.float32)
    Xs = X[:, :2].copy()
    y = (Xs.sum(axis=1) > 0).astype(np.int32)
    X[:, 0] += (0.3 * rng.uniform(-0.5, 0.5, n)).astype(np.float32)
    return X, Xs, y


@pytest.fixture
def data():
    return make_data()


@pytest.fixture
def ds(data):
    import lupi
    X, Xs, y = data
    with lupi.Dataset(X, X_priv=Xs, y=y) as d:
        yield d


@pytest.fixture
def teacher_model(ds):
    import lupi
    return lupi.Model("classification", 2, [16], 2, view="privileged",
                      epochs=5, lr=0.01).fit(ds)
