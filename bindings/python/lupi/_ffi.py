"""Loading liblupi.so.0 and declaring its functions for ctypes.

ctypes releases the GIL around every foreign call and a CFUNCTYPE callback
takes it back before running Python code, so long calls (fits, comparisons)
let other Python threads run.
"""
import ctypes
import ctypes.util
import os

from . import _constants as C

_SONAME = "liblupi.so.0"


def _load():
    path = os.environ.get("LUPI_LIBRARY")
    if path:
        return ctypes.CDLL(path)
    try:
        return ctypes.CDLL(_SONAME)
    except OSError:
        found = ctypes.util.find_library("lupi")
        if found is None:
            raise ImportError(
                "lupi: cannot find liblupi.so.0; install liblupi or set "
                "LUPI_LIBRARY to the path of liblupi.so.0") from None
        return ctypes.CDLL(found)


lib = _load()

c_int, c_uint, c_size_t = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t
c_int64, c_uint64, c_double = ctypes.c_int64, ctypes.c_uint64, ctypes.c_double
c_char_p, c_void_p = ctypes.c_char_p, ctypes.c_void_p
P = ctypes.POINTER


class lupi_option(ctypes.Structure):
    _fields_ = [
        ("size", c_size_t),
        ("handle", c_int),
        ("key", c_int),
        ("type", c_int),
        ("name", c_char_p),
        ("doc", c_char_p),
        ("int_min", c_int64),
        ("int_max", c_int64),
        ("int_default", c_int64),
        ("real_min", c_double),
        ("real_max", c_double),
        ("real_default", c_double),
        ("real_min_open", c_int),
        ("real_max_open", c_int),
        ("values", c_char_p),
    ]


class lupi_progress(ctypes.Structure):
    _fields_ = [
        ("size", c_size_t),
        ("epoch", c_uint),
        ("epochs", c_uint),
        ("step", c_size_t),
        ("steps_per_epoch", c_size_t),
        ("loss", c_double),
        ("valid_metric", c_double),
        ("epoch_end", c_int),
    ]


PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_void_p, P(lupi_progress))
COMPARE_DATA_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_uint, c_uint64,
                                   P(c_void_p), P(c_void_p))

# Opaque handles and data pointers are c_void_p; numpy arrays are passed as
# their buffer address (arr.ctypes.data) and kept alive by the caller.
_V, _PP = c_void_p, P(c_void_p)
_SIGNATURES = {
    "lupi_version_number": (c_uint, []),
    "lupi_version_string": (c_char_p, []),
    "lupi_strerror": (c_char_p, [c_int]),
    "lupi_errname": (c_char_p, [c_int]),
    "lupi_errmsg": (c_char_p, []),
    "lupi_free": (None, [_V]),
    "lupi_option_by_key": (P(lupi_option), [c_int]),
    "lupi_option_by_name": (P(lupi_option), [c_int, c_char_p]),
    "lupi_option_next": (P(lupi_option), [c_int, P(lupi_option)]),
    "lupi_set_num_threads": (c_int, [c_int]),
    "lupi_get_num_threads": (c_int, []),
    # datasets
    "lupi_dataset_create": (c_int, [c_size_t, c_size_t, _V, _PP]),
    "lupi_dataset_free": (None, [_V]),
    "lupi_dataset_set_privileged": (c_int, [_V, c_size_t, _V, _V]),
    "lupi_dataset_set_labels": (c_int, [_V, c_size_t, _V]),
    "lupi_dataset_set_binary_labels": (c_int, [_V, _V]),
    "lupi_dataset_set_targets": (c_int, [_V, c_size_t, _V]),
    "lupi_dataset_set_weights": (c_int, [_V, _V]),
    "lupi_dataset_rows": (c_size_t, [_V]),
    "lupi_dataset_dim": (c_size_t, [_V, c_int]),
    "lupi_dataset_task": (c_int, [_V]),
    "lupi_dataset_outputs": (c_size_t, [_V]),
    "lupi_dataset_privileged_count": (c_size_t, [_V]),
    "lupi_dataset_features": (_V, [_V, c_int]),
    "lupi_dataset_mask": (_V, [_V]),
    "lupi_dataset_labels": (_V, [_V]),
    "lupi_dataset_targets": (_V, [_V]),
    "lupi_dataset_weights": (_V, [_V]),
    "lupi_dataset_subset": (c_int, [_V, _V, c_size_t, _PP]),
    "lupi_dataset_split_indices": (c_int, [_V, c_double, c_uint64, c_int,
                                           _V, P(c_size_t)]),
    "lupi_dataset_split": (c_int, [_V, c_double, c_uint64, c_int, _PP, _PP]),
    "lupi_dataset_shuffle": (c_int, [_V, c_uint64]),
    "lupi_dataset_fit_standardizer": (c_int, [_V, c_int, _V, _V]),
    "lupi_dataset_standardize": (c_int, [_V, c_int, _V, _V]),
    # readers and loaders
    "lupi_reader_create": (c_int, [_PP]),
    "lupi_reader_free": (None, [_V]),
    "lupi_reader_set_int": (c_int, [_V, c_int, c_int64]),
    "lupi_reader_get_int": (c_int, [_V, c_int, P(c_int64)]),
    "lupi_reader_set_role": (c_int, [_V, c_size_t, c_size_t, c_int]),
    "lupi_reader_set_role_name": (c_int, [_V, c_char_p, c_int]),
    "lupi_dataset_load_csv": (c_int, [c_char_p, _V, _PP]),
    "lupi_dataset_load_libsvm": (c_int, [c_char_p, _V, _PP]),
    "lupi_dataset_load_idx": (c_int, [c_char_p, c_char_p, _V, _PP]),
    # models
    "lupi_model_create": (c_int, [c_int, c_size_t, _V, c_size_t, c_size_t,
                                  _PP]),
    "lupi_model_free": (None, [_V]),
    "lupi_model_clone": (c_int, [_V, _PP]),
    "lupi_model_set_int": (c_int, [_V, c_int, c_int64]),
    "lupi_model_set_double": (c_int, [_V, c_int, c_double]),
    "lupi_model_get_int": (c_int, [_V, c_int, P(c_int64)]),
    "lupi_model_get_double": (c_int, [_V, c_int, P(c_double)]),
    "lupi_model_set_layer_int": (c_int, [_V, c_size_t, c_int, c_int64]),
    "lupi_model_get_layer_int": (c_int, [_V, c_size_t, c_int, P(c_int64)]),
    "lupi_model_init": (c_int, [_V]),
    "lupi_model_task": (c_int, [_V]),
    "lupi_model_inputs": (c_size_t, [_V]),
    "lupi_model_outputs": (c_size_t, [_V]),
    "lupi_model_layers": (c_size_t, [_V]),
    "lupi_model_layer_size": (c_size_t, [_V, c_size_t]),
    "lupi_model_num_params": (c_size_t, [_V]),
    "lupi_model_get_params": (c_int, [_V, _V, c_size_t]),
    "lupi_model_set_params": (c_int, [_V, _V, c_size_t]),
    "lupi_model_get_standardizer": (c_int, [_V, _V, _V]),
    "lupi_model_set_standardizer": (c_int, [_V, _V, _V]),
    "lupi_model_step": (c_int, [_V, _V, _V, c_size_t, P(c_double)]),
    "lupi_model_gradient": (c_int, [_V, _V, _V, c_size_t, P(c_double), _V,
                                    c_size_t]),
    "lupi_model_apply_gradient": (c_int, [_V, _V, c_size_t]),
    "lupi_model_fit": (c_int, [_V, _V, _V, PROGRESS_FN, _V]),
    "lupi_model_predict": (c_int, [_V, _V, c_size_t, c_size_t, c_int, _V]),
    "lupi_model_predict_class": (c_int, [_V, _V, c_size_t, c_size_t, _V]),
    "lupi_model_evaluate": (c_int, [_V, _V, c_int, P(c_double)]),
    "lupi_model_confusion": (c_int, [_V, _V, _V]),
    "lupi_model_save": (c_int, [_V, c_char_p]),
    "lupi_model_load": (c_int, [c_char_p, _PP]),
    "lupi_model_load_memory": (c_int, [_V, c_size_t, _PP]),
    "lupi_model_save_memory": (c_int, [_V, _PP, P(c_size_t)]),
    # losses
    "lupi_loss_create": (c_int, [c_int, _PP]),
    "lupi_loss_clone": (c_int, [_V, _PP]),
    "lupi_loss_free": (None, [_V]),
    "lupi_loss_kind": (c_int, [_V]),
    "lupi_loss_set_int": (c_int, [_V, c_int, c_int64]),
    "lupi_loss_set_double": (c_int, [_V, c_int, c_double]),
    "lupi_loss_get_int": (c_int, [_V, c_int, P(c_int64)]),
    "lupi_loss_get_double": (c_int, [_V, c_int, P(c_double)]),
    "lupi_loss_set_columns": (c_int, [_V, _V, c_size_t]),
    "lupi_loss_eval": (c_int, [_V, c_size_t, c_size_t, _V, _V, _V, _V, _V,
                               _V, P(c_double), _V]),
    "lupi_loss_eval_features": (c_int, [_V, c_size_t, c_size_t, _V,
                                        c_size_t, _V, _V, P(c_double), _V]),
    "lupi_loss_update_features": (c_int, [_V, c_size_t, c_size_t, _V,
                                          c_size_t, _V, _V, P(c_double),
                                          _V]),
    # teachers
    "lupi_teacher_create": (c_int, [_PP]),
    "lupi_teacher_free": (None, [_V]),
    "lupi_teacher_add_model": (c_int, [_V, _V, c_double]),
    "lupi_teacher_add_outputs": (c_int, [_V, _V, _V, c_size_t, c_int,
                                         c_double]),
    "lupi_teacher_prepare": (c_int, [_V, _V]),
    "lupi_teacher_outputs": (c_int, [_V, _V, _V, c_size_t, _V, _V]),
    "lupi_teacher_num_outputs": (c_size_t, [_V]),
    "lupi_teacher_create_crossfit": (c_int, [_V, _V, c_uint, c_uint64, _PP]),
    # students
    "lupi_student_step": (c_int, [_V, _V, _V, _V, _V, c_size_t,
                                  P(c_double)]),
    "lupi_student_gradient": (c_int, [_V, _V, _V, _V, _V, c_size_t,
                                      P(c_double), _V, c_size_t]),
    "lupi_student_loss": (c_int, [_V, _V, _V, _V, P(c_double)]),
    "lupi_student_fit": (c_int, [_V, _V, _V, _V, _V, PROGRESS_FN, _V]),
    # comparisons
    "lupi_compare_create": (c_int, [_V, _V, _PP]),
    "lupi_compare_free": (None, [_V]),
    "lupi_compare_set_loss": (c_int, [_V, _V]),
    "lupi_compare_set_grid": (c_int, [_V, _V, c_size_t, _V, c_size_t]),
    "lupi_compare_set_int": (c_int, [_V, c_int, c_int64]),
    "lupi_compare_get_int": (c_int, [_V, c_int, P(c_int64)]),
    "lupi_compare_run": (c_int, [_V, _V, _V, PROGRESS_FN, _V]),
    "lupi_compare_run_each": (c_int, [_V, COMPARE_DATA_FN, _V, PROGRESS_FN,
                                      _V]),
    "lupi_compare_rows": (c_size_t, [_V]),
    "lupi_compare_repeats": (c_uint, [_V]),
    "lupi_compare_metric": (c_int, [_V]),
    "lupi_compare_row": (c_int, [_V, c_size_t, P(c_int), P(c_double),
                                 P(c_double), P(c_double), P(c_double),
                                 P(c_double), P(c_double)]),
    "lupi_compare_value": (c_int, [_V, c_size_t, c_uint, P(c_double)]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

# A NULL progress callback.
NO_PROGRESS = ctypes.cast(None, PROGRESS_FN)

_header = (C.VERSION_MAJOR * 10000 + C.VERSION_MINOR * 100 + C.VERSION_PATCH)
_loaded = lib.lupi_version_number()
if _loaded // 10000 != C.VERSION_MAJOR or _loaded < _header:
    raise ImportError(
        f"lupi: the binding was generated from lupi.h {C.VERSION_MAJOR}."
        f"{C.VERSION_MINOR}.{C.VERSION_PATCH} but the loaded library is "
        f"{lib.lupi_version_string().decode()} ({getattr(lib, '_name', '?')})")
