"""The binding gives the C library's bits: distill_ref.c (built by meson)
and this file train the same teacher, distilled student, step-by-step
student and comparison from the same arrays; the model files, predictions
and comparison values must be identical, byte for byte."""
import os
import struct
import subprocess

import numpy as np
import pytest

import lupi
from conftest import make_data, need

THREADS = 2


def reference(tmp_path, X, Xs, mask, y, k):
    exe = os.environ.get("LUPI_DISTILL_REF")
    need(exe and os.path.exists(exe),
         "LUPI_DISTILL_REF (the built distill_ref program) is not set")
    inp = tmp_path / "input.bin"
    with open(inp, "wb") as f:
        f.write(struct.pack("<4Q", X.shape[0], X.shape[1], Xs.shape[1], k))
        f.write(np.ascontiguousarray(X, "<f4").tobytes())
        f.write(np.ascontiguousarray(Xs, "<f4").tobytes())
        f.write(np.ascontiguousarray(mask, np.uint8).tobytes())
        f.write(np.ascontiguousarray(y, "<i4").tobytes())
    out = tmp_path / "c"
    out.mkdir()
    subprocess.run([exe, str(inp), str(out), str(THREADS)], check=True,
                   timeout=600)
    return {p.name: p.read_bytes() for p in out.iterdir()}


def model(n_in, k, view, seed):
    # The settings of make() in distill_ref.c.
    return lupi.Model("classification", n_in, [16], k, view=view, epochs=8,
                      batch=64, seed=seed, lr=0.01)


@pytest.fixture
def threads():
    before = lupi.get_num_threads()
    lupi.set_num_threads(THREADS)
    yield
    lupi.set_num_threads(before)


def test_same_bits_as_c(tmp_path, threads):
    X, Xs, y = make_data(n=600, seed=21)
    Xs[5] = np.nan  # masked out below: the value must not matter
    mask = np.ones(600, bool)
    mask[[5, 17, 300]] = False
    k = 2
    ref = reference(tmp_path, X, Xs, mask, y, k)

    ds = lupi.Dataset(X, X_priv=Xs, mask=mask, y=y, n_classes=k)
    tm = model(2, k, "privileged", 11).fit(ds)
    teacher = lupi.Teacher(tm)
    kd = lupi.Loss("kd", temperature=3.0, lambda_=0.7)
    sm = model(10, k, "regular", 12).fit(ds, teacher=teacher, loss=kd)
    assert tm.to_bytes() == ref["teacher.bin"]
    assert sm.to_bytes() == ref["student.bin"]
    pred = sm.predict(X)
    assert pred.tobytes() == ref["pred.bin"]

    st = model(10, k, "regular", 13)
    teacher.prepare(ds)
    for _ in range(3):
        for i in range(0, 600, 50):
            st.step(ds, np.arange(i, min(i + 50, 600)), teacher=teacher,
                    loss=kd)
    assert st.to_bytes() == ref["steps.bin"]

    train, test = ds.split(0.7, seed=5, stratified=True)
    c = lupi.compare(model(2, k, "privileged", 0), model(10, k, "regular", 0),
                     train, test, lambdas=[0.3, 0.9], temperatures=[2.0],
                     repeats=2, seed=7)
    mine = np.concatenate([c.values().reshape(-1),
                           np.array([[r.mean, r.std] for r in c.rows])
                           .reshape(-1)])
    assert mine.astype("<f8").tobytes() == ref["compare.bin"]
    # And the student learned something from the teacher's view.
    assert sm.evaluate(ds) > 0.7
