import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import (GridSearchCV, StratifiedKFold,
                                     cross_val_score)

import lupi
from lupi.sklearn import LupiClassifier, LupiRegressor
from conftest import make_data


@pytest.fixture
def xy():
    X, Xs, y = make_data(n=600, seed=5)
    return X, Xs, y, np.hstack([X, Xs])


def test_fit_predict_score(xy):
    X, Xs, y, XX = xy
    labels = np.where(y == 1, "yes", "no")
    clf = LupiClassifier(n_privileged=2, epochs=20, learning_rate=0.01,
                         random_state=0).fit(XX, labels)
    assert list(clf.classes_) == ["no", "yes"]
    assert clf.n_features_in_ == 12 and clf.n_regular_ == 10
    assert isinstance(clf.teacher_, lupi.Model)
    assert clf.teacher_.options["view"] == "privileged"
    p = clf.predict_proba(XX)
    assert p.shape == (600, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-5)
    # The privileged columns are not used at prediction time.
    np.testing.assert_array_equal(clf.predict_proba(X), p)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, labels) > 0.75
    with pytest.raises(ValueError):
        clf.predict(X[:, :5])


def test_x_priv_fit_param_is_the_same(xy):
    X, Xs, y, XX = xy
    a = LupiClassifier(n_privileged=2, epochs=5, random_state=1).fit(XX, y)
    b = LupiClassifier(epochs=5, random_state=1).fit(X, y, X_priv=Xs)
    assert a.student_.to_bytes() == b.student_.to_bytes()
    with pytest.raises(ValueError):
        LupiClassifier(n_privileged=2).fit(XX, y, X_priv=Xs)


def test_params_reach_the_library(xy):
    X, Xs, y, XX = xy
    clf = LupiClassifier(n_privileged=2, epochs=3, batch_size=32,
                         optimizer="sgd", temperature=4, imitation=0.9,
                         teacher_view="both", model_options={"momentum": 0.5},
                         teacher_options={"epochs": 2}).fit(XX, y)
    s, t = clf.student_.options, clf.teacher_.options
    assert (s["epochs"], s["batch"], s["optimizer"], s["momentum"]) == (
        3, 32, "sgd", 0.5)
    assert t["epochs"] == 2 and t["view"] == "both"
    assert clf.teacher_.n_inputs == 12
    with pytest.raises(lupi.ERANGE):
        LupiClassifier(n_privileged=2, temperature=-1).fit(XX, y)
    with pytest.raises(lupi.EUNKNOWN_OPTION):
        LupiClassifier(model_options={"nonesuch": 1}).fit(X, y)


def test_defaults_come_from_the_library(xy):
    X, Xs, y, XX = xy
    clf = LupiClassifier(n_privileged=2).fit(XX, y)
    o = lupi.OPTIONS["model"]
    assert clf.student_.options["epochs"] == o["epochs"].default
    assert clf.student_.options["lr"] == o["lr"].default


def test_cross_val_score_and_grid_search(xy):
    X, Xs, y, XX = xy
    est = LupiClassifier(n_privileged=2, epochs=10, learning_rate=0.01)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    s1 = cross_val_score(est, XX, y, cv=cv)
    s2 = cross_val_score(LupiClassifier(epochs=10, learning_rate=0.01), X, y,
                         cv=cv, fit_params={"X_priv": Xs})
    np.testing.assert_array_equal(s1, s2)
    assert s1.mean() > 0.7
    grid = GridSearchCV(est, {"temperature": [1.0, 4.0],
                              "imitation": [0.2, 0.8]}, cv=cv).fit(XX, y)
    assert set(grid.best_params_) == {"temperature", "imitation"}
    assert grid.best_estimator_.predict(X).shape == (600,)
    grid2 = GridSearchCV(LupiClassifier(epochs=10, learning_rate=0.01),
                         {"temperature": [1.0, 4.0],
                          "imitation": [0.2, 0.8]}, cv=cv).fit(X, y,
                                                              X_priv=Xs)
    np.testing.assert_array_equal(grid.cv_results_["mean_test_score"],
                                  grid2.cv_results_["mean_test_score"])


def test_missing_privileged_rows_are_masked(xy):
    X, Xs, y, XX = xy
    XX = XX.copy()
    XX[::4, 10:] = np.nan
    clf = LupiClassifier(n_privileged=2, epochs=5).fit(XX, y)
    out, has = lupi.Teacher(clf.teacher_).outputs(
        lupi.Dataset(X, X_priv=np.nan_to_num(XX[:, 10:]),
                     mask=~np.isnan(XX[:, 10])))
    assert (~has).sum() == 150
    with pytest.raises(ValueError):
        bad = XX.copy()
        bad[0, 0] = np.nan
        LupiClassifier(n_privileged=2).fit(bad, y)


def test_without_privileged_features(xy):
    X, Xs, y, XX = xy
    clf = LupiClassifier(epochs=10, learning_rate=0.01).fit(X, y)
    assert clf.teacher_ is None and clf.score(X, y) > 0.7


def test_clone_get_set_params_pickle(xy):
    X, Xs, y, XX = xy
    est = LupiClassifier(n_privileged=2, epochs=4, temperature=2.0)
    params = est.get_params()
    assert params["temperature"] == 2.0 and params["n_privileged"] == 2
    est.set_params(imitation=0.3)
    c = clone(est)
    assert c.get_params() == est.get_params()
    est.fit(XX, y)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.predict_proba(X), est.predict_proba(X))
    assert est2.teacher_.to_bytes() == est.teacher_.to_bytes()


def test_regressor(xy):
    X, Xs, y, XX = xy
    target = Xs.sum(axis=1) * 3
    reg = LupiRegressor(n_privileged=2, epochs=60, learning_rate=0.01,
                        random_state=0).fit(XX, target)
    assert reg.predict(X).shape == (600,)
    assert reg.score(X, target) > 0.5
    scores = cross_val_score(LupiRegressor(n_privileged=2, epochs=10), XX,
                             target, cv=3)
    assert scores.shape == (3,)
    two = LupiRegressor(epochs=5).fit(X, np.stack([target, -target], 1),
                                      X_priv=Xs)
    assert two.predict(X).shape == (600, 2)


# scikit-learn's own estimator checks. With the library's defaults (10
# epochs, lr 1e-3) a network does not reach the accuracy the *_train and
# *_classes checks demand on their tiny data sets; pandas is not a
# dependency. Every other check must pass.
KNOWN = {"check_classifiers_train", "check_classifiers_classes",
         "check_regressors_train", "check_sample_weights_pandas_series",
         "check_classifier_data_not_an_array",
         "check_regressor_data_not_an_array"}


@pytest.mark.parametrize("est", [LupiClassifier(), LupiRegressor()],
                         ids=["classifier", "regressor"])
def test_sklearn_estimator_checks(est):
    import unittest
    import warnings

    from sklearn.exceptions import SkipTestWarning
    from sklearn.utils.estimator_checks import check_estimator
    failed = []
    for e, check in check_estimator(est, generate_only=True):
        name = getattr(check, "func", check).__name__
        if name in KNOWN:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(e)
        except (SkipTestWarning, unittest.SkipTest):  # tagged xfail
            pass
        except Exception as x:  # noqa: B902 - collected and reported
            failed.append(f"{name}: {x}")
    assert not failed, "\n".join(failed)
