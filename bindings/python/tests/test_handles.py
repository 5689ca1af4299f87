"""Every handle of the option directory is in lupi.OPTIONS, and the 0.3
handles the binding does not wrap (DP-SGD, SVM+) hold the defaults the
introspection describes, set through their own C setters."""
import ctypes

import pytest

import lupi
from lupi import _constants as C
from lupi._ffi import lib


def test_options_cover_every_handle_of_the_directory():
    listed = {h for h in range(1, 1000) if lib.lupi_option_next(h, None)}
    assert listed == set(lupi.options.HANDLES)
    assert {C.HANDLE_DP, C.HANDLE_SVM} <= listed
    for number, name in lupi.options.HANDLES.items():
        assert getattr(C, "HANDLE_" + name) == number
        keys = [o.key for o in lupi.OPTIONS[name.lower()].values()]
        assert keys and all(k // 1000 == number for k in keys)
    assert lupi.DP_OPT_NOISE == 6101 and lupi.SVM_OPT_C == 7101
    assert lupi.OPTIONS["dp"]["noise"].type == "double"


def _handle(prefix):
    fns = {}
    p = ctypes.c_void_p
    for op, ctype in (("int", ctypes.c_int64), ("double", ctypes.c_double)):
        s = getattr(lib, f"lupi_{prefix}_set_{op}")
        s.argtypes, s.restype = [p, ctypes.c_int, ctype], ctypes.c_int
        g = getattr(lib, f"lupi_{prefix}_get_{op}")
        g.argtypes = [p, ctypes.c_int, ctypes.POINTER(ctype)]
        g.restype = ctypes.c_int
        fns[op] = (s, g, ctype)
    create = getattr(lib, f"lupi_{prefix}_create")
    create.argtypes, create.restype = [ctypes.POINTER(p)], ctypes.c_int
    free = getattr(lib, f"lupi_{prefix}_free")
    free.argtypes, free.restype = [p], None
    h = p()
    assert create(ctypes.byref(h)) == C.OK
    return h, fns, free


@pytest.mark.parametrize("name", ["dp", "svm"])
def test_unwrapped_handles_hold_the_described_defaults(name):
    h, fns, free = _handle(name)
    try:
        for o in lupi.OPTIONS[name].values():
            s, g, ctype = fns[o.type]
            v = ctype()
            assert g(h, o.key, ctypes.byref(v)) == C.OK, o
            assert v.value == o.default, o
            # the other type's accessor does not know the key
            other = fns["double" if o.type == "int" else "int"]
            assert other[1](h, o.key, ctypes.byref(other[2]())) == \
                C.EUNKNOWN_OPTION
            # a value past the maximum is refused and changes nothing
            if o.type == "int" and o.maximum < 2**63 - 1:
                assert s(h, o.key, o.maximum + 1) == C.ERANGE, o
            elif o.type == "double" and o.maximum < 1e300:
                assert s(h, o.key, o.maximum * 2 + 1) == C.ERANGE, o
            assert g(h, o.key, ctypes.byref(v)) == C.OK
            assert v.value == o.default, o
        # a key of another handle is unknown here
        s, g, _ = fns["int"]
        assert s(h, lupi.MODEL_OPT_EPOCHS, 3) == C.EUNKNOWN_OPTION
    finally:
        free(h)
