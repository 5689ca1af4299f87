"""Threads: long calls release the GIL, callbacks take it back, a model
predicts from several threads at once, and training in threads gives the
same bits as training one after the other."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import lupi
from conftest import make_data


def big_fit_args():
    X, Xs, y = make_data(n=20000, seed=9, d=40)
    ds = lupi.Dataset(X, X_priv=Xs, y=y)
    m = lupi.Model("classification", 40, [128, 64], 2, epochs=4, batch=32)
    return ds, m


def test_fit_releases_the_gil():
    ds, m = big_fit_args()
    done = threading.Event()
    ticks = []

    def train():
        m.fit(ds)
        done.set()

    th = threading.Thread(target=train)
    t0 = time.perf_counter()
    th.start()
    # While the fit runs in C, this thread keeps running Python.
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    th.join()
    elapsed = time.perf_counter() - t0
    assert elapsed > 0.05, "the fit was too short to tell"
    # With the GIL held for the whole call, this loop would have stalled
    # (a handful of ticks); released, it ticks about once a millisecond.
    assert len(ticks) > 10
    gaps = np.diff(ticks)
    assert gaps.max() < max(0.5 * elapsed, 0.05)


def test_callbacks_from_concurrent_fits():
    X, _, y = make_data(n=2000, seed=1)
    ds = lupi.Dataset(X, y=y)
    counts = [0] * 4

    def train(i):
        def cb(p):
            counts[i] += 1
        lupi.Model("classification", 10, [16], 2, epochs=5, seed=i,
                   progress_steps=3).fit(ds, progress=cb)

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(train, range(4)))
    assert all(c >= 5 for c in counts) and len(set(counts)) == 1


def test_concurrent_predict_on_one_model():
    X, Xs, y = make_data(n=3000, seed=2)
    ds = lupi.Dataset(X, y=y)
    m = lupi.Model("classification", 10, [32], 2, epochs=2).fit(ds)
    ref = m.predict(X)
    chunks = np.array_split(np.arange(3000), 16)
    with ThreadPoolExecutor(8) as ex:
        parts = list(ex.map(lambda idx: m.predict(X[idx]), chunks * 4))
    for idx, p in zip(chunks * 4, parts):
        np.testing.assert_array_equal(p, ref[idx])


def test_parallel_distillation_is_deterministic():
    X, Xs, y = make_data(n=1500, seed=3)
    ds = lupi.Dataset(X, X_priv=Xs, y=y)
    tm = lupi.Model("classification", 2, [16], 2, view="privileged",
                    epochs=3).fit(ds)
    teacher = lupi.Teacher(tm).prepare(ds)  # read-only from here

    def student(seed):
        # One dataset per thread would also do; the dataset and the
        # teacher are only read by student fits.
        s = lupi.Model("classification", 10, [16], 2, epochs=3, seed=seed)
        with lupi.Loss("kd", temperature=2) as loss:
            s.fit(ds, teacher=teacher, loss=loss)
        return s.to_bytes()

    seq = [student(s) for s in range(4)]
    with ThreadPoolExecutor(4) as ex:
        par = list(ex.map(student, range(4)))
    assert par == seq
    assert len(set(seq)) == 4
