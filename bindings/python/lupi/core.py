"""Datasets, models, losses, teachers, student training and comparisons."""
import collections
import ctypes
import os

import numpy as np

from . import _constants as C
from ._ffi import (COMPARE_DATA_FN, NO_PROGRESS, PROGRESS_FN, lib,
                   lupi_progress)
from .errors import check, error_class
from .options import Options, OPTIONS

_byref = ctypes.byref
_SIZE_T = np.uintp  # size_t on every platform numpy and liblupi share


# ---------------------------------------------------------------------------
# Named constants: a family of the generated header constants as
# {lower-case name: value}, so arguments may be "classification" or
# lupi.TASK_CLASSIFICATION alike.
# ---------------------------------------------------------------------------

def _family(prefix):
    return {k[len(prefix):].lower(): v for k, v in vars(C).items()
            if k.startswith(prefix) and k.isupper()}


TASKS = _family("TASK_")
VIEWS = _family("VIEW_")
ROLES = _family("ROLE_")
METRICS = _family("METRIC_")
LOSS_KINDS = _family("LOSS_")
OUTPUT_KINDS = _family("OUTPUTS_")
ROW_KINDS = _family("COMPARE_")
SPLITS = _family("SPLIT_")


def _enum(family, value, what):
    if isinstance(value, str):
        try:
            return family[value.lower().replace("-", "_")]
        except KeyError:
            raise error_class(C.EINVAL)(
                f"unknown {what} {value!r}; expected one of "
                f"{', '.join(family)}", code=C.EINVAL) from None
    return int(value)


def _name(family, value):
    for k, v in family.items():
        if v == value:
            return k
    return value


# ---------------------------------------------------------------------------
# numpy <-> C
# ---------------------------------------------------------------------------

def _floats(a, name, ndim=2):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if ndim == 2 and a.ndim == 1:
        a = a.reshape(-1, 1)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape "
                         f"{a.shape}")
    return a


def _ints(a, name, n=None):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integers")
    elif a.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integers, got {a.dtype}")
    a = np.ascontiguousarray(a, dtype=np.int32).reshape(-1)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} entries, expected {n}")
    return a


def _bytes_mask(a, n, name):
    a = np.ascontiguousarray(np.asarray(a).reshape(-1) != 0, dtype=np.uint8)
    if a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} entries, expected {n}")
    return a


def _indices(idx, n):
    if idx is None:
        return np.arange(n, dtype=_SIZE_T)
    a = np.asarray(idx)
    if a.dtype == bool:
        a = np.flatnonzero(a)
    if a.size and a.min() < 0:
        raise error_class(C.ERANGE)(f"negative sample index {a.min()}",
                                    code=C.ERANGE)
    return np.ascontiguousarray(a, dtype=_SIZE_T).reshape(-1)


def _ptr(a):
    return None if a is None else a.ctypes.data


def _copy_out(address, shape, dtype):
    if not address:
        return None
    count = int(np.prod(shape))
    buf = (ctypes.c_char * (count * np.dtype(dtype).itemsize)).from_address(
        address)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape).copy()


# ---------------------------------------------------------------------------
# Callbacks
# ---------------------------------------------------------------------------

Progress = collections.namedtuple(
    "Progress", "epoch epochs step steps_per_epoch loss valid_metric "
    "epoch_end")
Progress.__doc__ = """What a progress callback receives (lupi_progress).
In a comparison, epoch counts the models trained and epochs all of them."""


class _Progress:
    """Wraps a Python callable as a lupi_progress_fn. The callable gets a
    Progress and returns a true value to stop. An exception inside it stops
    the C call (LUPI_ECANCELLED) and is raised again by finish()."""

    def __init__(self, fn):
        self.fn = fn
        self.exc = None
        self.c = NO_PROGRESS if fn is None else PROGRESS_FN(self._call)

    def _call(self, user, p):
        try:
            q = p.contents
            stop = self.fn(Progress(q.epoch, q.epochs, q.step,
                                    q.steps_per_epoch, q.loss,
                                    q.valid_metric, bool(q.epoch_end)))
            return 1 if stop else 0
        except BaseException as e:  # noqa: B902 - re-raised by finish()
            self.exc = e
            return 1

    def finish(self, rc, cancel_ok):
        if self.exc is not None:
            exc, self.exc = self.exc, None
            raise exc
        if rc == C.ECANCELLED and cancel_ok:
            return rc
        return check(rc)


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------

class _Handle:
    _free_fn = None

    def __init__(self):
        self._h = None

    @classmethod
    def _wrap(cls, h):
        obj = cls.__new__(cls)
        _Handle.__init__(obj)
        obj._h = h
        obj._after_wrap()
        return obj

    def _after_wrap(self):
        pass

    def _ptr(self):
        if self._h is None:
            raise ValueError(f"this {type(self).__name__} is closed")
        return self._h

    def close(self):
        """Frees the C object now; the Python object becomes unusable."""
        h, self._h = getattr(self, "_h", None), None
        if h is not None:
            getattr(lib, self._free_fn)(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone
            pass

    @property
    def closed(self):
        return self._h is None


def _new(fn, *args):
    out = ctypes.c_void_p()
    check(fn(*args, _byref(out)))
    return out.value


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------

class Dataset(_Handle):
    """Samples with regular features X, optional privileged features X*,
    labels or regression targets, and weights; the arrays are copied.

    X: (n, d); X_priv: (n, d*); mask: n booleans, False where a sample has
    no X* (its row of X_priv is ignored); y: class labels 0..K-1 (K =
    n_classes, default max(y) + 1; task="binary" for one sigmoid output);
    targets: (n,) or (n, m) real targets (regression); weights: n values.
    """

    _free_fn = "lupi_dataset_free"

    def __init__(self, X, X_priv=None, mask=None, y=None, targets=None,
                 weights=None, *, n_classes=None, task=None):
        super().__init__()
        X = _floats(X, "X")
        n, d = X.shape
        self._h = _new(lib.lupi_dataset_create, n, d, _ptr(X))
        if X_priv is not None:
            self.set_privileged(X_priv, mask)
        elif mask is not None:
            raise ValueError("mask needs X_priv")
        if y is not None and targets is not None:
            raise ValueError("give y (labels) or targets, not both")
        if y is not None:
            self.set_labels(y, n_classes=n_classes, binary=(
                task is not None and _enum(TASKS, task, "task") ==
                C.TASK_BINARY))
        elif targets is not None:
            self.set_targets(targets)
        if weights is not None:
            self.set_weights(weights)

    # setters -------------------------------------------------------------
    def set_privileged(self, X_priv, mask=None):
        """Adds (replaces) privileged features; detaches teacher caches."""
        Xp = _floats(X_priv, "X_priv")
        n = len(self)
        if Xp.shape[0] != n:
            raise error_class(C.ESHAPE)(
                f"X_priv has {Xp.shape[0]} rows, X has {n}", code=C.ESHAPE)
        m = None if mask is None else _bytes_mask(mask, n, "mask")
        check(lib.lupi_dataset_set_privileged(self._ptr(), Xp.shape[1],
                                              _ptr(Xp), _ptr(m)))
        return self

    def set_labels(self, y, n_classes=None, binary=False):
        y = _ints(y, "y", len(self))
        if binary:
            check(lib.lupi_dataset_set_binary_labels(self._ptr(), _ptr(y)))
            return self
        if n_classes is None:
            n_classes = max(int(y.max()) + 1 if y.size else 0, 2)
        check(lib.lupi_dataset_set_labels(self._ptr(), n_classes, _ptr(y)))
        return self

    def set_targets(self, targets):
        t = _floats(targets, "targets")
        if t.shape[0] != len(self):
            raise error_class(C.ESHAPE)(
                f"targets has {t.shape[0]} rows, X has {len(self)}",
                code=C.ESHAPE)
        check(lib.lupi_dataset_set_targets(self._ptr(), t.shape[1], _ptr(t)))
        return self

    def set_weights(self, weights):
        """Per-sample weights (None removes them)."""
        w = None
        if weights is not None:
            w = np.ascontiguousarray(weights, dtype=np.float32).reshape(-1)
            if w.shape[0] != len(self):
                raise error_class(C.ESHAPE)(
                    f"weights has {w.shape[0]} entries, expected "
                    f"{len(self)}", code=C.ESHAPE)
        check(lib.lupi_dataset_set_weights(self._ptr(), _ptr(w)))
        return self

    # shape ---------------------------------------------------------------
    def __len__(self):
        return lib.lupi_dataset_rows(self._ptr())

    n_samples = property(__len__)

    @property
    def n_features(self):
        """d, the width of X."""
        return lib.lupi_dataset_dim(self._ptr(), C.VIEW_REGULAR)

    @property
    def n_privileged(self):
        """d*, the width of X* (0 without privileged features)."""
        return lib.lupi_dataset_dim(self._ptr(), C.VIEW_PRIVILEGED)

    @property
    def task(self):
        """"none", "classification", "binary" or "regression"."""
        return _name(TASKS, lib.lupi_dataset_task(self._ptr()))

    @property
    def n_outputs(self):
        """K for classification (2 for binary), m for regression."""
        return lib.lupi_dataset_outputs(self._ptr())

    @property
    def privileged_count(self):
        """Number of samples whose X* is present."""
        return lib.lupi_dataset_privileged_count(self._ptr())

    def __repr__(self):
        if self.closed:
            return "<lupi.Dataset (closed)>"
        return (f"<lupi.Dataset n={len(self)} d={self.n_features} "
                f"d*={self.n_privileged} task={self.task} "
                f"outputs={self.n_outputs}>")

    # contents (copies) ------------------------------------------------------
    @property
    def X(self):
        return _copy_out(lib.lupi_dataset_features(self._ptr(),
                                                   C.VIEW_REGULAR),
                         (len(self), self.n_features), np.float32)

    @property
    def X_priv(self):
        d = self.n_privileged
        if d == 0:
            return None
        return _copy_out(lib.lupi_dataset_features(self._ptr(),
                                                   C.VIEW_PRIVILEGED),
                         (len(self), d), np.float32)

    @property
    def mask(self):
        """Booleans, True where X* is present; None without X*."""
        if self.n_privileged == 0:
            return None
        m = _copy_out(lib.lupi_dataset_mask(self._ptr()), (len(self),),
                      np.uint8)
        return np.ones(len(self), bool) if m is None else m != 0

    @property
    def labels(self):
        if self.task not in ("classification", "binary"):
            return None
        return _copy_out(lib.lupi_dataset_labels(self._ptr()), (len(self),),
                         np.int32)

    @property
    def targets(self):
        if self.task != "regression":
            return None
        return _copy_out(lib.lupi_dataset_targets(self._ptr()),
                         (len(self), self.n_outputs), np.float32)

    @property
    def weights(self):
        return _copy_out(lib.lupi_dataset_weights(self._ptr()), (len(self),),
                         np.float32)

    # new datasets -------------------------------------------------------------
    def subset(self, idx):
        """A new dataset of samples idx (in that order; may repeat)."""
        i = _indices(idx, len(self))
        return Dataset._wrap(_new(lib.lupi_dataset_subset, self._ptr(),
                                  _ptr(i), i.shape[0]))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            idx = np.arange(len(self))[idx]
        return self.subset(idx)

    def split_indices(self, fraction, seed=0, stratified=False):
        """(first, second) index arrays of lupi_dataset_split_indices()."""
        n = len(self)
        idx = np.empty(n, dtype=_SIZE_T)
        n_first = ctypes.c_size_t()
        check(lib.lupi_dataset_split_indices(
            self._ptr(), fraction, seed, C.SPLIT_STRATIFIED if stratified
            else C.SPLIT_RANDOM, _ptr(idx), _byref(n_first)))
        k = n_first.value
        return idx[:k].astype(np.intp), idx[k:].astype(np.intp)

    def split(self, fraction, seed=0, stratified=False):
        """Two new datasets: about fraction * n samples, and the rest."""
        a, b = ctypes.c_void_p(), ctypes.c_void_p()
        check(lib.lupi_dataset_split(
            self._ptr(), fraction, seed, C.SPLIT_STRATIFIED if stratified
            else C.SPLIT_RANDOM, _byref(a), _byref(b)))
        return Dataset._wrap(a.value), Dataset._wrap(b.value)

    def shuffle(self, seed=0):
        """Permutes the samples in place (detaches teacher caches)."""
        check(lib.lupi_dataset_shuffle(self._ptr(), seed))
        return self

    def fit_standardizer(self, view="regular"):
        """(mean, std) per feature of a view."""
        v = _enum(VIEWS, view, "view")
        d = lib.lupi_dataset_dim(self._ptr(), v)
        mean, std = np.empty(max(d, 1), np.float32), np.empty(max(d, 1),
                                                              np.float32)
        check(lib.lupi_dataset_fit_standardizer(self._ptr(), v, _ptr(mean),
                                                _ptr(std)))
        return mean[:d], std[:d]

    def standardize(self, view="regular", mean=None, std=None):
        """(v - mean) / std in place; fitted on this dataset when mean and
        std are None. Returns (mean, std)."""
        v = _enum(VIEWS, view, "view")
        if mean is None or std is None:
            mean, std = self.fit_standardizer(view)
        d = lib.lupi_dataset_dim(self._ptr(), v)
        mean = np.ascontiguousarray(mean, np.float32).reshape(-1)
        std = np.ascontiguousarray(std, np.float32).reshape(-1)
        if mean.shape[0] != d or std.shape[0] != d:
            raise error_class(C.ESHAPE)(
                f"mean/std have {mean.shape[0]}/{std.shape[0]} entries, "
                f"the view {d}", code=C.ESHAPE)
        check(lib.lupi_dataset_standardize(self._ptr(), v, _ptr(mean),
                                           _ptr(std)))
        return mean, std

    # pickling: the arrays ------------------------------------------------------
    def __reduce__(self):
        state = {"X": self.X, "X_priv": self.X_priv, "weights": self.weights}
        if state["X_priv"] is not None:
            state["mask"] = self.mask
        task = self.task
        if task in ("classification", "binary"):
            state.update(y=self.labels, task=task, n_classes=self.n_outputs)
        elif task == "regression":
            state["targets"] = self.targets
        return (_dataset_from_state, (state,))


def _dataset_from_state(state):
    return Dataset(**state)


# ---------------------------------------------------------------------------
# Loading files
# ---------------------------------------------------------------------------

def _reader(roles, options):
    if not roles and not options:
        return None
    r = _Reader._wrap(_new(lib.lupi_reader_create))
    try:
        r.options.update(options)
        for col, role in (roles or {}).items():
            rv = _enum(ROLES, role, "role")
            if isinstance(col, str):
                check(lib.lupi_reader_set_role_name(r._ptr(), col.encode(),
                                                    rv))
            else:
                first, last = (col, col) if isinstance(col, int) else col
                check(lib.lupi_reader_set_role(r._ptr(), first, last, rv))
    except BaseException:
        r.close()
        raise
    return r


class _Reader(_Handle):
    _free_fn = "lupi_reader_free"

    @property
    def options(self):
        return Options(self, "reader",
                       (lib.lupi_reader_set_int, None),
                       (lib.lupi_reader_get_int, None))


def _load(fn, paths, roles, options):
    r = _reader(roles, options)
    try:
        args = [None if p is None else os.fsencode(p) for p in paths]
        return Dataset._wrap(_new(fn, *args, None if r is None else r._h))
    finally:
        if r is not None:
            r.close()


def load_csv(path, roles=None, **options):
    """A dataset from a CSV file. roles: {column: role}, a column being a
    1-based number, an inclusive (first, last) pair or a header name, a
    role "regular", "privileged", "target", "weight" or "ignore"; options:
    reader options (header, delimiter, task, classes, ...)."""
    return _load(lib.lupi_dataset_load_csv, [path], roles, options)


def load_libsvm(path, roles=None, **options):
    """A dataset from a LIBSVM/svmlight file; roles as in load_csv()
    (feature indices)."""
    return _load(lib.lupi_dataset_load_libsvm, [path], roles, options)


def load_idx(images, labels=None, **options):
    """A dataset from IDX image and label files (MNIST); options idx_pool,
    idx_scale, max_rows, ..."""
    return _load(lib.lupi_dataset_load_idx, [images, labels], None, options)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

class Model(_Handle):
    """A dense network: teacher, student or plain model.

    Model(task, n_inputs, hidden=(16,), n_outputs=K, **options), task
    "classification" (n_outputs = K), "binary" (one output) or
    "regression" (n_outputs = m, default 1). Options are the library's
    model options by name (epochs=20, lr=0.01, view="privileged", ...);
    see lupi.OPTIONS["model"] or model.options.
    """

    _free_fn = "lupi_model_free"

    def __init__(self, task, n_inputs, hidden=(), n_outputs=None, **options):
        super().__init__()
        t = _enum(TASKS, task, "task")
        if n_outputs is None:
            if t == C.TASK_CLASSIFICATION:
                raise TypeError("a classification model needs n_outputs "
                                "(the number of classes)")
            n_outputs = 1
        hid = np.ascontiguousarray(list(hidden), dtype=_SIZE_T)
        self._h = _new(lib.lupi_model_create, t, n_inputs,
                       _ptr(hid) if hid.size else None, hid.size, n_outputs)
        if options:
            self.options.update(options)

    @property
    def options(self):
        """The model's options as a live mapping (model.options["lr"])."""
        return Options(self, "model",
                       (lib.lupi_model_set_int, lib.lupi_model_set_double),
                       (lib.lupi_model_get_int, lib.lupi_model_get_double))

    def set_options(self, **options):
        self.options.update(options)
        return self

    def set_layer_option(self, layer, name, value):
        """A layer option (activation, bias, frozen) of layer i."""
        o = _layer_option(name)
        check(lib.lupi_model_set_layer_int(self._ptr(), layer, o.key,
                                           o.encode(value)))
        return self

    def get_layer_option(self, layer, name):
        o = _layer_option(name)
        v = ctypes.c_int64()
        check(lib.lupi_model_get_layer_int(self._ptr(), layer, o.key,
                                           _byref(v)))
        return o.display(v.value)

    # shape ---------------------------------------------------------------
    @property
    def task(self):
        return _name(TASKS, lib.lupi_model_task(self._ptr()))

    @property
    def n_inputs(self):
        return lib.lupi_model_inputs(self._ptr())

    @property
    def n_outputs(self):
        return lib.lupi_model_outputs(self._ptr())

    @property
    def n_layers(self):
        """Layers, the output layer included."""
        return lib.lupi_model_layers(self._ptr())

    @property
    def hidden(self):
        """Sizes of the hidden layers."""
        h = self._ptr()
        return tuple(lib.lupi_model_layer_size(h, i)
                     for i in range(lib.lupi_model_layers(h) - 1))

    @property
    def num_params(self):
        return lib.lupi_model_num_params(self._ptr())

    def __repr__(self):
        if self.closed:
            return "<lupi.Model (closed)>"
        return (f"<lupi.Model {self.task} {self.n_inputs}->"
                f"{'->'.join(map(str, self.hidden + (self.n_outputs,)))} "
                f"view={self.options['view']}>")

    # parameters -----------------------------------------------------------
    def init(self):
        """(Re)initialises the weights from the SEED option."""
        check(lib.lupi_model_init(self._ptr()))
        return self

    @property
    def params(self):
        """All parameters as one float32 array (layout of
        lupi_model_get_params); assigning sets them."""
        n = self.num_params
        p = np.empty(n, np.float32)
        check(lib.lupi_model_get_params(self._ptr(), _ptr(p), n))
        return p

    @params.setter
    def params(self, value):
        p = np.ascontiguousarray(value, np.float32).reshape(-1)
        check(lib.lupi_model_set_params(self._ptr(), _ptr(p), p.shape[0]))

    @property
    def standardizer(self):
        """(mean, std) of the stored input standardisation."""
        d = self.n_inputs
        mean, std = np.empty(d, np.float32), np.empty(d, np.float32)
        check(lib.lupi_model_get_standardizer(self._ptr(), _ptr(mean),
                                              _ptr(std)))
        return mean, std

    @standardizer.setter
    def standardizer(self, value):
        d = self.n_inputs
        mean = np.ascontiguousarray(value[0], np.float32).reshape(-1)
        std = np.ascontiguousarray(value[1], np.float32).reshape(-1)
        if mean.shape[0] != d or std.shape[0] != d:
            raise error_class(C.ESHAPE)(
                f"mean/std need {d} entries", code=C.ESHAPE)
        check(lib.lupi_model_set_standardizer(self._ptr(), _ptr(mean),
                                              _ptr(std)))

    # training ----------------------------------------------------------------
    def fit(self, train, valid=None, *, teacher=None, loss=None,
            progress=None):
        """Trains on a Dataset for the EPOCHS option's epochs. With a
        teacher or a loss this is student training (lupi_student_fit):
        the model learns from the labels and from the teacher.

        progress(p: Progress) is called at each epoch end (and every
        PROGRESS_STEPS steps); a true return value stops training early
        (the weights so far are kept, fit returns normally); an exception
        raised in it stops training and propagates. Returns self."""
        cb = _Progress(progress)
        if teacher is None and loss is None:
            rc = lib.lupi_model_fit(self._ptr(), train._ptr(),
                                    None if valid is None else valid._ptr(),
                                    cb.c, None)
        else:
            rc = lib.lupi_student_fit(
                self._ptr(), _opt(teacher), _opt(loss), train._ptr(),
                None if valid is None else valid._ptr(), cb.c, None)
        cb.finish(rc, cancel_ok=True)
        return self

    def step(self, ds, idx=None, *, teacher=None, loss=None):
        """One optimisation step on samples idx (all when None) of ds;
        a student step with a teacher or loss. Returns the batch loss."""
        i = _indices(idx, len(ds))
        v = ctypes.c_double()
        if teacher is None and loss is None:
            check(lib.lupi_model_step(self._ptr(), ds._ptr(), _ptr(i),
                                      i.shape[0], _byref(v)))
        else:
            check(lib.lupi_student_step(self._ptr(), _opt(teacher),
                                        _opt(loss), ds._ptr(), _ptr(i),
                                        i.shape[0], _byref(v)))
        return v.value

    def gradient(self, ds, idx=None, *, teacher=None, loss=None):
        """(loss, gradient) of step() without an update."""
        i = _indices(idx, len(ds))
        v = ctypes.c_double()
        n = self.num_params
        g = np.empty(n, np.float32)
        if teacher is None and loss is None:
            check(lib.lupi_model_gradient(self._ptr(), ds._ptr(), _ptr(i),
                                          i.shape[0], _byref(v), _ptr(g), n))
        else:
            check(lib.lupi_student_gradient(
                self._ptr(), _opt(teacher), _opt(loss), ds._ptr(), _ptr(i),
                i.shape[0], _byref(v), _ptr(g), n))
        return v.value, g

    def apply_gradient(self, grad):
        """One optimiser update with a gradient computed elsewhere."""
        g = np.ascontiguousarray(grad, np.float32).reshape(-1)
        check(lib.lupi_model_apply_gradient(self._ptr(), _ptr(g),
                                            g.shape[0]))
        return self

    def distillation_loss(self, ds, teacher=None, loss=None):
        """The value of a distillation loss over ds, without training
        (lupi_student_loss)."""
        v = ctypes.c_double()
        check(lib.lupi_student_loss(self._ptr(), _opt(teacher), _opt(loss),
                                    ds._ptr(), _byref(v)))
        return v.value

    # prediction ---------------------------------------------------------------
    def _x(self, X):
        X = np.ascontiguousarray(X, dtype=np.float32)
        single = X.ndim == 1
        if single:
            X = X.reshape(1, -1)
        if X.ndim != 2:
            raise ValueError(f"X must be 1-D or 2-D, got shape {X.shape}")
        return X, single

    def predict(self, X, logits=False):
        """Outputs for rows of raw features X (n, d): probabilities
        (classification; P(y=1) for binary) or values (regression), or the
        logits. A 1-D X is one sample."""
        X, single = self._x(X)
        n, d = X.shape
        out = np.empty((n, self.n_outputs), np.float32)
        if n:
            check(lib.lupi_model_predict(
                self._ptr(), _ptr(X), n, d,
                C.PREDICT_LOGITS if logits else C.PREDICT_OUTPUT, _ptr(out)))
        return out[0] if single else out

    def predict_class(self, X):
        """The most probable class of each row (classification, binary)."""
        X, single = self._x(X)
        n, d = X.shape
        out = np.empty(n, np.int32)
        if n:
            check(lib.lupi_model_predict_class(self._ptr(), _ptr(X), n, d,
                                               _ptr(out)))
        return out[0] if single else out

    def evaluate(self, ds, metric="accuracy"):
        """A metric on ds through the model's view: "accuracy", "logloss",
        "mse" or "mae"."""
        v = ctypes.c_double()
        check(lib.lupi_model_evaluate(self._ptr(), ds._ptr(),
                                      _enum(METRICS, metric, "metric"),
                                      _byref(v)))
        return v.value

    def confusion(self, ds):
        """Confusion matrix counts[true, predicted] (K x K)."""
        k = max(self.n_outputs, 2)
        out = np.zeros((k, k), np.uint64)
        check(lib.lupi_model_confusion(self._ptr(), ds._ptr(), _ptr(out)))
        return out

    # files, copies, pickling --------------------------------------------------
    def save(self, path):
        """Writes the model file atomically."""
        check(lib.lupi_model_save(self._ptr(), os.fsencode(path)))

    @classmethod
    def load(cls, path):
        return cls._wrap(_new(lib.lupi_model_load, os.fsencode(path)))

    def to_bytes(self):
        """The model file as bytes (lupi_model_save_memory)."""
        data, size = ctypes.c_void_p(), ctypes.c_size_t()
        check(lib.lupi_model_save_memory(self._ptr(), _byref(data),
                                         _byref(size)))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            lib.lupi_free(data)

    @classmethod
    def from_bytes(cls, data):
        data = bytes(data)
        return cls._wrap(_new(lib.lupi_model_load_memory, data, len(data)))

    def copy(self):
        """A deep copy (weights, options, optimiser state)."""
        return Model._wrap(_new(lib.lupi_model_clone, self._ptr()))

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        # A trained model pickles as its model file; an untrained one (that
        # has no file yet) as its shape and options.
        try:
            return (_model_from_bytes, (self.to_bytes(),))
        except error_class(C.ESTATE):
            pass
        h = self._ptr()
        opts = self.options
        model_opts = {k: opts[k] for k in opts}
        layer_opts = [{k: self.get_layer_option(i, k)
                       for k in OPTIONS["layer"]}
                      for i in range(self.n_layers)]
        return (_model_from_spec, (self.task, self.n_inputs, self.hidden,
                                   lib.lupi_model_outputs(h), model_opts,
                                   layer_opts))


def _layer_option(name):
    from .options import find
    return find("layer", name)


def _model_from_bytes(data):
    return Model.from_bytes(data)


def _model_from_spec(task, n_in, hidden, n_out, model_opts, layer_opts):
    m = Model(task, n_in, hidden, n_out, **model_opts)
    for i, lo in enumerate(layer_opts):
        for k, v in lo.items():
            if m.get_layer_option(i, k) != v:
                m.set_layer_option(i, k, v)
    return m


def _opt(obj):
    return None if obj is None else obj._ptr()


# ---------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------

class Loss(_Handle):
    """A distillation loss: Loss("kd", temperature=4, lambda_=0.7).
    Kinds: "hard", "kd", "logits", "sel", "regression"; options are the
    library's loss options by name (a trailing '_' is dropped, for
    lambda_)."""

    _free_fn = "lupi_loss_free"

    def __init__(self, kind="kd", **options):
        super().__init__()
        self._h = _new(lib.lupi_loss_create, _enum(LOSS_KINDS, kind,
                                                   "loss kind"))
        self._columns = None
        if options:
            self.options.update(options)

    def _after_wrap(self):
        self._columns = None

    @property
    def options(self):
        return Options(self, "loss",
                       (lib.lupi_loss_set_int, lib.lupi_loss_set_double),
                       (lib.lupi_loss_get_int, lib.lupi_loss_get_double))

    def set_options(self, **options):
        self.options.update(options)
        return self

    @property
    def kind(self):
        return _name(LOSS_KINDS, check(lib.lupi_loss_kind(self._ptr())))

    def __repr__(self):
        if self.closed:
            return "<lupi.Loss (closed)>"
        return f"<lupi.Loss {self.kind} {self.options.changed()}>"

    def set_columns(self, columns=None):
        """Restricts the teacher term to these output columns (None: all)."""
        if columns is None or len(columns) == 0:
            check(lib.lupi_loss_set_columns(self._ptr(), None, 0))
            self._columns = None
            return self
        c = np.ascontiguousarray(columns, dtype=_SIZE_T).reshape(-1)
        check(lib.lupi_loss_set_columns(self._ptr(), _ptr(c), c.shape[0]))
        self._columns = c.astype(np.int64)
        return self

    @property
    def columns(self):
        return None if self._columns is None else self._columns.copy()

    def eval(self, s, t=None, labels=None, targets=None, weights=None,
             has_teacher=None, grad=True):
        """(value, d value / d s) of the output loss on host arrays: s
        student outputs (n, k), t teacher logits (n, k), labels (n) or
        targets (n, k), weights (n), has_teacher (n booleans). The gradient
        is None with grad=False."""
        s = _floats(s, "s")
        n, k = s.shape
        t = None if t is None else _shaped(t, (n, k), "t")
        lab = None if labels is None else _ints(labels, "labels", n)
        tg = None if targets is None else _shaped(targets, (n, k), "targets")
        w = None if weights is None else _shaped(weights, (n,), "weights")
        ht = None if has_teacher is None else _bytes_mask(has_teacher, n,
                                                          "has_teacher")
        g = np.empty((n, k), np.float32) if grad else None
        v = ctypes.c_double()
        check(lib.lupi_loss_eval(self._ptr(), n, k, _ptr(s), _ptr(t),
                                 _ptr(lab), _ptr(tg), _ptr(w), _ptr(ht),
                                 _byref(v), _ptr(g)))
        return v.value, g

    def _features(self, fn, fs, ft, has_teacher, grad):
        fs, ft = _floats(fs, "fs"), _floats(ft, "ft")
        n = fs.shape[0]
        if ft.shape[0] != n:
            raise error_class(C.ESHAPE)("fs and ft have different row counts",
                                        code=C.ESHAPE)
        ht = None if has_teacher is None else _bytes_mask(has_teacher, n,
                                                          "has_teacher")
        g = np.empty(fs.shape, np.float32) if grad else None
        v = ctypes.c_double()
        check(fn(self._ptr(), n, fs.shape[1], _ptr(fs), ft.shape[1], _ptr(ft),
                 _ptr(ht), _byref(v), _ptr(g)))
        return v.value, g

    def eval_features(self, fs, ft, has_teacher=None, grad=True):
        """(value, d value / d fs) of the feature loss."""
        return self._features(lib.lupi_loss_eval_features, fs, ft,
                              has_teacher, grad)

    def update_features(self, fs, ft, has_teacher=None):
        """As eval_features(), then one step of the loss's own parameters
        (HINT regressor, CRD heads)."""
        return self._features(lib.lupi_loss_update_features, fs, ft,
                              has_teacher, True)

    def copy(self):
        """A copy, learned HINT/CRD state included."""
        c = Loss._wrap(_new(lib.lupi_loss_clone, self._ptr()))
        c._columns = self._columns
        return c

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __reduce__(self):
        # The library has no loss file: kind, options and columns pickle;
        # learned HINT/CRD state does not (it is re-created on first use).
        opts = self.options
        return (_loss_from_state, (self.kind, {k: opts[k] for k in opts},
                                   self.columns))


def _loss_from_state(kind, options, columns):
    return Loss(kind, **options).set_columns(columns)


def _shaped(a, shape, name):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if a.size != int(np.prod(shape)):
        raise error_class(C.ESHAPE)(
            f"{name} has shape {a.shape}, expected {shape}", code=C.ESHAPE)
    return a.reshape(shape)


# ---------------------------------------------------------------------------
# Teachers
# ---------------------------------------------------------------------------

class Teacher(_Handle):
    """Trained models (each on its own view) and external outputs,
    combined. Teacher(model) or Teacher([m1, m2], weights=[1, 2]); the
    models are copied, so they may be changed or freed afterwards."""

    _free_fn = "lupi_teacher_free"

    def __init__(self, models=(), weights=None):
        super().__init__()
        self._h = _new(lib.lupi_teacher_create)
        self._members = []   # (model file bytes, weight) for pickling
        self._external = False
        self._tied = []      # datasets the library tied this teacher to
        if isinstance(models, Model):
            models = [models]
        weights = [1.0] * len(models) if weights is None else weights
        if len(weights) != len(models):
            raise ValueError("one weight per model")
        for m, w in zip(models, weights):
            self.add_model(m, w)

    def _after_wrap(self):
        self._members, self._external, self._tied = [], True, []

    def add_model(self, model, weight=1.0):
        """Adds a trained model (copied) with a positive weight."""
        check(lib.lupi_teacher_add_model(self._ptr(), model._ptr(), weight))
        self._members.append((model.to_bytes(), float(weight)))
        return self

    def add_outputs(self, ds, outputs, kind="logits", weight=1.0):
        """Adds outputs computed elsewhere for the samples of ds: (n, k)
        logits or probabilities (kind "logits" or "probs")."""
        o = _floats(outputs, "outputs")
        if o.shape[0] != len(ds):
            raise error_class(C.ESHAPE)(
                f"outputs has {o.shape[0]} rows, the dataset {len(ds)}",
                code=C.ESHAPE)
        check(lib.lupi_teacher_add_outputs(
            self._ptr(), ds._ptr(), _ptr(o), o.shape[1],
            _enum(OUTPUT_KINDS, kind, "outputs kind"), weight))
        self._external = True
        self._tied.append(ds)
        return self

    def prepare(self, ds):
        """Computes and caches the members' outputs on ds."""
        check(lib.lupi_teacher_prepare(self._ptr(), ds._ptr()))
        self._tied.append(ds)
        return self

    @property
    def n_outputs(self):
        return lib.lupi_teacher_num_outputs(self._ptr())

    def outputs(self, ds, idx=None):
        """(logits (n, k), has_output (n booleans)) for samples idx."""
        i = _indices(idx, len(ds))
        n = i.shape[0]
        out = np.empty((n, self.n_outputs), np.float32)
        has = np.empty(n, np.uint8)
        if n:
            check(lib.lupi_teacher_outputs(self._ptr(), ds._ptr(), _ptr(i), n,
                                           _ptr(out), _ptr(has)))
        return out, has != 0

    @classmethod
    def crossfit(cls, proto, ds, k_folds=5, seed=0):
        """A cross-fitted teacher: k_folds clones of the untrained proto,
        each sample's outputs from the clone that did not see it."""
        t = cls._wrap(_new(lib.lupi_teacher_create_crossfit, proto._ptr(),
                           ds._ptr(), k_folds, seed))
        t._tied.append(ds)
        return t

    def __repr__(self):
        if self.closed:
            return "<lupi.Teacher (closed)>"
        return (f"<lupi.Teacher outputs={self.n_outputs} "
                f"models={len(self._members)}"
                f"{' +external' if self._external else ''}>")

    def __reduce__(self):
        if self._external:
            raise TypeError("a teacher with external or cross-fitted outputs "
                            "is tied to its dataset and cannot be pickled")
        return (_teacher_from_members, (list(self._members),))


def _teacher_from_members(members):
    t = Teacher()
    for data, w in members:
        m = Model.from_bytes(data)
        t.add_model(m, w)
        m.close()
    return t


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------

Row = collections.namedtuple(
    "Row", "kind lambda_ temperature mean std diff_mean diff_std")
Row.__doc__ = """One row of a comparison table: kind ("baseline",
"teacher", "hard", "distilled"), lambda_ and temperature (NaN unless
distilled), the metric's mean and std over repetitions, and the mean and
std of the paired difference to the hard-label student."""


class Compare(_Handle):
    """The standard LUPI experiment: a teacher, a hard-label student and
    distilled students for each (lambda, temperature) of a grid, each
    repeated with seeds SEED, SEED+1, ... Options: repeats, seed."""

    _free_fn = "lupi_compare_free"

    def __init__(self, teacher, student, loss=None, lambdas=None,
                 temperatures=None, **options):
        super().__init__()
        self._h = _new(lib.lupi_compare_create, teacher._ptr(),
                       student._ptr())
        if loss is not None:
            check(lib.lupi_compare_set_loss(self._h, loss._ptr()))
        if lambdas is not None or temperatures is not None:
            lam = np.ascontiguousarray(
                [OPTIONS["loss"]["lambda"].default] if lambdas is None
                else lambdas, np.float64).reshape(-1)
            tem = np.ascontiguousarray(
                [OPTIONS["loss"]["temperature"].default]
                if temperatures is None else temperatures,
                np.float64).reshape(-1)
            check(lib.lupi_compare_set_grid(self._h, _ptr(lam), lam.shape[0],
                                            _ptr(tem), tem.shape[0]))
        if options:
            self.options.update(options)

    @property
    def options(self):
        return Options(self, "compare", (lib.lupi_compare_set_int, None),
                       (lib.lupi_compare_get_int, None))

    def run(self, train, test, progress=None):
        """Runs on one train/test pair. A progress callback that returns
        true stops the run: it raises lupi.ECANCELLED (there is no
        table); one that raises stops it and its exception propagates."""
        cb = _Progress(progress)
        rc = lib.lupi_compare_run(self._ptr(), train._ptr(), test._ptr(),
                                  cb.c, None)
        cb.finish(rc, cancel_ok=False)
        return self

    def run_each(self, data, progress=None):
        """Runs with a fresh pair per repetition: data(repeat, seed) returns
        (train, test) Datasets."""
        keep = []
        saved = []

        def call(user, repeat, seed, train_out, test_out):
            try:
                train, test = data(repeat, seed)
                if not (isinstance(train, Dataset)
                        and isinstance(test, Dataset)):
                    raise TypeError("the data callback must return two "
                                    "lupi.Dataset objects")
                keep[:] = [train, test]
                train_out[0] = train._ptr()
                test_out[0] = test._ptr()
                return C.OK
            except BaseException as e:  # noqa: B902 - re-raised below
                saved.append(e)
                return C.ECANCELLED

        cdata = COMPARE_DATA_FN(call)
        cb = _Progress(progress)
        rc = lib.lupi_compare_run_each(self._ptr(), cdata, None, cb.c, None)
        keep.clear()
        if saved:
            raise saved[0]
        cb.finish(rc, cancel_ok=False)
        return self

    @property
    def metric(self):
        """"accuracy" or "mse"."""
        return _name(METRICS, check(lib.lupi_compare_metric(self._ptr())))

    @property
    def repeats(self):
        return lib.lupi_compare_repeats(self._ptr())

    def __len__(self):
        return lib.lupi_compare_rows(self._ptr())

    def row(self, i):
        kind = ctypes.c_int()
        d = [ctypes.c_double() for _ in range(6)]
        check(lib.lupi_compare_row(self._ptr(), i, _byref(kind),
                                   *[_byref(x) for x in d]))
        return Row(_name(ROW_KINDS, kind.value), *[x.value for x in d])

    @property
    def rows(self):
        """The table, as a list of Row."""
        return [self.row(i) for i in range(len(self))]

    def value(self, row, repeat):
        v = ctypes.c_double()
        check(lib.lupi_compare_value(self._ptr(), row, repeat, _byref(v)))
        return v.value

    def values(self):
        """The metric of every row in every repetition, (rows, repeats)."""
        return np.array([[self.value(r, k) for k in range(self.repeats)]
                         for r in range(len(self))], dtype=np.float64)

    def __repr__(self):
        if self.closed:
            return "<lupi.Compare (closed)>"
        return f"<lupi.Compare rows={len(self)} repeats={self.repeats}>"


def compare(teacher, student, train, test, loss=None, lambdas=None,
            temperatures=None, progress=None, **options):
    """Runs a Compare on train/test and returns it (read .rows)."""
    c = Compare(teacher, student, loss, lambdas, temperatures, **options)
    return c.run(train, test, progress)


# ---------------------------------------------------------------------------
# Library-wide
# ---------------------------------------------------------------------------

def set_num_threads(n):
    """Threads of the BLAS and the library's loops, process-wide (0: all
    cores)."""
    check(lib.lupi_set_num_threads(n))


def get_num_threads():
    return lib.lupi_get_num_threads()


def library_version():
    """"MAJOR.MINOR.PATCH" of the loaded liblupi."""
    return lib.lupi_version_string().decode()
