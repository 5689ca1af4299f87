"""scikit-learn estimators: a teacher on privileged features, a distilled
student on the regular ones.

How X* travels through scikit-learn. Either

* concatenate it: X = [X, X*] with n_privileged = d* (the last d* columns
  are privileged). Splitters slice rows of one array, so cross_val_score,
  GridSearchCV, Pipeline-free scoring all just work. A privileged row that
  holds NaN marks that sample's X* absent (the teacher term is skipped for
  it). predict(), predict_proba() and score() accept either the
  concatenated width (the privileged columns are ignored: they do not
  exist at prediction time) or the regular width alone; or

* pass it as a fit parameter, fit(X, y, X_priv=X_star), with
  n_privileged=0: scikit-learn 1.2 slices fit parameters of length n with
  the training rows, so cross_val_score(est, X, y,
  fit_params={"X_priv": X_star}) and GridSearchCV(...).fit(X, y,
  X_priv=X_star) work too.

Without any X* the estimator is a plain network trained on labels.
Parameters left at None take the library's defaults (read from its option
introspection, never restated here).
"""
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (check_array, check_is_fitted,
                                      column_or_1d)

from .core import Dataset, Loss, Model, Teacher

__all__ = ["LupiClassifier", "LupiRegressor"]


class _LupiBase(BaseEstimator):
    _task = None
    _default_loss = None

    def __init__(self, n_privileged=0, hidden_layer_sizes=(16,),
                 teacher_hidden_layer_sizes=(16,), loss=None,
                 temperature=None, imitation=None, epochs=None,
                 batch_size=None, learning_rate=None, optimizer=None,
                 teacher_view="privileged", random_state=None,
                 model_options=None, teacher_options=None,
                 loss_options=None):
        self.n_privileged = n_privileged
        self.hidden_layer_sizes = hidden_layer_sizes
        self.teacher_hidden_layer_sizes = teacher_hidden_layer_sizes
        self.loss = loss
        self.temperature = temperature
        self.imitation = imitation
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.teacher_view = teacher_view
        self.random_state = random_state
        self.model_options = model_options
        self.teacher_options = teacher_options
        self.loss_options = loss_options

    # helpers ------------------------------------------------------------------
    def _seed(self):
        rs = self.random_state
        if rs is None:
            return 0
        if isinstance(rs, (int, np.integer)):
            return int(rs)
        return int(check_random_state(rs).randint(0, 2**31 - 1))

    def _model_opts(self, extra):
        opts = {}
        for name, value in (("epochs", self.epochs), ("batch",
                            self.batch_size), ("lr", self.learning_rate),
                            ("optimizer", self.optimizer)):
            if value is not None:
                opts[name] = value
        opts["seed"] = self._seed()
        opts.update(extra or {})
        return opts

    def _split_fit(self, X, X_priv):
        X = check_array(X, dtype=np.float32, force_all_finite=False)
        k = int(self.n_privileged or 0)
        if X_priv is not None:
            if k:
                raise ValueError("give X_priv or n_privileged, not both")
            Xr = X
            Xp = check_array(X_priv, dtype=np.float32,
                             force_all_finite=False, ensure_2d=False)
            if Xp.ndim == 1:
                Xp = Xp.reshape(-1, 1)
            if Xp.shape[0] != X.shape[0]:
                raise ValueError(f"X_priv has {Xp.shape[0]} rows, X "
                                 f"{X.shape[0]}")
        elif k:
            if not 0 < k < X.shape[1]:
                raise ValueError(f"n_privileged={k} but X has {X.shape[1]} "
                                 "columns")
            Xr, Xp = X[:, :-k], X[:, -k:]
        else:
            Xr, Xp = X, None
        if not np.all(np.isfinite(Xr)):
            raise ValueError("X contains NaN or infinity")
        return X.shape[1], Xr, Xp

    def _regular(self, X):
        check_is_fitted(self, "student_")
        X = check_array(X, dtype=np.float32, force_all_finite=False)
        d = X.shape[1]
        if d == self.n_features_in_ and d != self.n_regular_:
            X = X[:, :self.n_regular_]
        elif d != self.n_regular_:
            raise ValueError(
                f"X has {d} features; this estimator takes "
                f"{self.n_regular_} (or {self.n_features_in_} with the "
                "privileged columns)")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity")
        return np.ascontiguousarray(X)

    def _dataset(self, Xr, Xp, yk, sample_weight):
        mask = None
        if Xp is not None:
            present = np.all(np.isfinite(Xp), axis=1)
            if not present.any():
                Xp = None
            elif not present.all():
                Xp = np.where(present[:, None], Xp, 0).astype(np.float32)
                mask = present
        kw = self._targets(yk)
        return Dataset(Xr, X_priv=Xp, mask=mask, weights=sample_weight,
                       **kw), Xp is not None

    # fitting --------------------------------------------------------------------
    def fit(self, X, y, X_priv=None, sample_weight=None):
        """Trains a teacher on X* (or [X, X*] with teacher_view="both") and
        a student on X distilled from it; see the module documentation for
        how X* is passed."""
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be "
                             "passed, but the target y is None")
        width, Xr, Xp = self._split_fit(X, X_priv)
        yk, n_out = self._encode(y, Xr.shape[0])
        ds, has_priv = self._dataset(Xr, Xp, yk, sample_weight)
        with ds:
            self.n_features_in_ = width
            self.n_regular_ = Xr.shape[1]
            self.n_privileged_ = Xp.shape[1] if has_priv else 0
            student = Model(self._task, Xr.shape[1],
                            tuple(self.hidden_layer_sizes), n_out,
                            **self._model_opts(self.model_options))
            if not has_priv:
                self.teacher_ = None
                student.fit(ds)
                self.student_ = student
                return self
            view = str(self.teacher_view)
            n_teacher_in = self.n_privileged_ + (
                Xr.shape[1] if view == "both" else 0)
            tm = Model(self._task, n_teacher_in,
                       tuple(self.teacher_hidden_layer_sizes), n_out,
                       view=view, **self._model_opts(self.teacher_options))
            tm.fit(ds)
            loss_opts = dict(self.loss_options or {})
            if self.temperature is not None:
                loss_opts["temperature"] = self.temperature
            if self.imitation is not None:
                loss_opts["lambda"] = self.imitation
            with Teacher(tm) as teacher, Loss(
                    self.loss or self._default_loss, **loss_opts) as loss:
                student.fit(ds, teacher=teacher, loss=loss)
            self.teacher_ = tm
            self.student_ = student
        return self


class LupiClassifier(ClassifierMixin, _LupiBase):
    """A distilled classifier (softmax network on X, teacher on X*).

    n_privileged: the last n_privileged columns of X are X* (or pass
    X_priv to fit); hidden_layer_sizes / teacher_hidden_layer_sizes:
    network shapes; loss: "kd" (default), "logits", "sel", "hard";
    temperature, imitation (lambda): loss options; epochs, batch_size,
    learning_rate, optimizer: model options of both networks;
    teacher_view: "privileged" or "both"; random_state: the seed;
    model_options / teacher_options / loss_options: any other library
    option by name.
    """

    _task = "classification"
    _default_loss = "kd"

    def _encode(self, y, n):
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n:
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        check_classification_targets(y)
        self.classes_, yk = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("y needs at least 2 classes; got "
                             f"{len(self.classes_)} class")
        return yk.astype(np.int32), len(self.classes_)

    def _targets(self, yk):
        return {"y": yk, "n_classes": len(self.classes_)}

    def _more_tags(self):
        return {"_xfail_checks": {
            "check_sample_weights_invariance":
                "a zero weight changes the batches, not only the loss"}}

    def predict_proba(self, X):
        X = self._regular(X)
        return self.student_.predict(X).astype(np.float64)

    def predict_log_proba(self, X):
        return np.log(self.predict_proba(X))

    def predict(self, X):
        X = self._regular(X)
        return self.classes_[self.student_.predict_class(X)]


class LupiRegressor(RegressorMixin, _LupiBase):
    """A distilled regressor; parameters as LupiClassifier, loss
    "regression" (default) or "hard"."""

    _task = "regression"
    _default_loss = "regression"

    def _encode(self, y, n):
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 0 or y.shape[0] != n or y.ndim > 2:
            raise ValueError(f"y must have {n} rows, got shape {y.shape}")
        self._y_1d = y.ndim == 1
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinity")
        y2 = y.reshape(n, -1)
        return y2, y2.shape[1]

    def _targets(self, yk):
        return {"targets": yk}

    def _more_tags(self):
        return {"multioutput": True, "_xfail_checks": {
            "check_sample_weights_invariance":
                "a zero weight changes the batches, not only the loss"}}

    def predict(self, X):
        X = self._regular(X)
        out = self.student_.predict(X).astype(np.float64)
        return out[:, 0] if self._y_1d else out
