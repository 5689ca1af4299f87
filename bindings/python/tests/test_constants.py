"""The generated constants, the option introspection and the error classes
agree with include/lupi.h."""
import re
import sys

import lupi
from lupi import _constants

from conftest import HEADER, HERE, need

sys.path.insert(0, str(HERE.parent))
import gen_constants  # noqa: E402


def header_text():
    need(HEADER.is_file(), f"no header at {HEADER} (set LUPI_HEADER)")
    return HEADER.read_text(encoding="utf-8")


def header_defines():
    """Every '#define LUPI_X <integer>' of the header, read independently of
    the generator."""
    out = {}
    for m in re.finditer(r"^#define LUPI_(\w+) \(?(-?\d+)\)?", header_text(),
                         re.M):
        out[m.group(1)] = int(m.group(2))
    return out


def test_generated_module_is_current():
    shipped = (HERE.parent / "lupi" / "_constants.py").read_text("utf-8")
    assert shipped == gen_constants.render(header_text()), (
        "lupi/_constants.py is stale: run gen_constants.py include/lupi.h "
        "bindings/python/lupi/_constants.py")


def test_every_integer_define_is_there():
    for name, value in header_defines().items():
        if "_OPT_" in name:
            continue
        assert getattr(_constants, name) == value, name
        if name in lupi.ERROR_CLASSES_BY_NAME:
            # lupi.EINVAL is the exception class; its code is the integer.
            assert getattr(lupi, name).code == value, name
        else:
            assert getattr(lupi, name) == value, name


def test_option_keys_match_header():
    keys = {k: v for k, v in header_defines().items() if "_OPT_" in k}
    assert keys, "the header has option keys"
    # Every key of the header is described by the library, and nothing else.
    assert {k: v for k, v in lupi.options.KEYS.items()} == keys
    for name, key in keys.items():
        assert getattr(lupi, name) == key


def test_options_introspection():
    epochs = lupi.OPTIONS["model"]["epochs"]
    assert epochs.key == lupi.MODEL_OPT_EPOCHS
    assert epochs.type == "int" and epochs.minimum >= 1
    assert epochs.in_range(epochs.default)
    lr = lupi.OPTIONS["model"]["lr"]
    assert lr.type == "double" and lr.min_open
    assert not lr.in_range(lr.minimum)
    assert lupi.OPTIONS["model"]["optimizer"].values[
        _constants.OPTIM_RMSPROP] == "rmsprop"
    assert lupi.OPTIONS["model"]["view"].values[
        _constants.VIEW_PRIVILEGED] == "privileged"
    for handle, opts in lupi.OPTIONS.items():
        assert opts, handle
        for o in opts.values():
            assert o.key // 1000 == getattr(lupi, "HANDLE_" + handle.upper())
            assert o.in_range(o.default), o
            assert o.doc
            repr(o)


def test_defaults_are_what_a_new_handle_reports():
    m = lupi.Model("classification", 3, [4], 2)
    for name, o in lupi.OPTIONS["model"].items():
        assert m.options[name] == o.display(o.default), name
    loss = lupi.Loss("kd")
    for name, o in lupi.OPTIONS["loss"].items():
        assert loss.options[name] == o.display(o.default), name
    assert m.options.changed() == {} and loss.options.changed() == {}


def test_error_classes_named_by_library():
    codes = {k: v for k, v in header_defines().items()
             if re.fullmatch(r"E[A-Z_]+", k)}
    assert len(codes) >= 14
    for name, code in codes.items():
        cls = getattr(lupi, name)
        assert issubclass(cls, lupi.Error)
        assert cls.code == code
        assert cls.errname == "LUPI_" + name
        assert lupi.error_class(code) is cls
    assert lupi.error_class(-9999) is lupi.Error


def test_version():
    v = lupi.library_version()
    assert v.split(".")[:2] == [str(_constants.VERSION_MAJOR),
                                str(_constants.VERSION_MINOR)]
