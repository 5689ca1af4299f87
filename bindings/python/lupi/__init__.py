"""liblupi for Python: learning using privileged information and knowledge
distillation over numpy arrays.

    import lupi
    ds = lupi.Dataset(X, X_priv=X_star, y=y)
    teacher = lupi.Model("classification", X_star.shape[1], [16], 2,
                         view="privileged").fit(ds)
    student = lupi.Model("classification", X.shape[1], [16], 2)
    student.fit(ds, teacher=lupi.Teacher(teacher),
                loss=lupi.Loss("kd", temperature=2))
    proba = student.predict(X_new)

The library is liblupi.so.0, loaded with ctypes from $LUPI_LIBRARY, else by
its soname, else wherever ctypes.util.find_library("lupi") finds it.
Constants are generated from lupi.h (lupi._constants); option keys, ranges
and defaults come from the library's option introspection (lupi.OPTIONS).
Errors raise lupi.Error subclasses named after their codes (lupi.EINVAL,
lupi.ERANGE, ...); the integer codes are their .code (and
lupi._constants.EINVAL ...), since the class holds the name. The scikit-learn estimators are in lupi.sklearn.
"""
from . import _constants
from ._constants import *  # noqa: F401,F403 - TASK_*, VIEW_*, LOSS_*, ...
from .errors import *  # noqa: F401,F403 - Error, EINVAL (replaces the int)
from .errors import Error, ERROR_CLASSES, error_class
ERROR_CLASSES_BY_NAME = {c.__name__: c for c in ERROR_CLASSES.values()}
from .options import KEYS as _KEYS, OPTIONS, Option
from .core import (Compare, Dataset, Loss, Model, Progress, Row, Teacher,
                   compare, get_num_threads, library_version, load_csv,
                   load_idx, load_libsvm, set_num_threads)


# MODEL_OPT_EPOCHS, LOSS_OPT_TEMPERATURE, ...: from the introspection.
globals().update(_KEYS)

__version__ = "0.2.0"

__all__ = (["Compare", "Dataset", "Error", "ERROR_CLASSES", "Loss", "Model",
            "OPTIONS", "Option", "Progress", "Row", "Teacher", "compare",
            "error_class", "get_num_threads", "library_version", "load_csv",
            "load_idx", "load_libsvm", "set_num_threads"] +
           [n for n in _constants.__all__ if n not in ERROR_CLASSES_BY_NAME] +
           sorted(_KEYS) +
           [c.__name__ for c in ERROR_CLASSES.values()])
