"""lupi.Error and one subclass per LUPI_E* code.

Class names come from the library: lupi_errname(code) without its "LUPI_"
prefix, so LUPI_EINVAL raises lupi.EINVAL. Each exception carries the code,
the library's static text (lupi_strerror) and the calling thread's detail
(lupi_errmsg), read right after the failing call.

Some classes also derive from the matching built-in exception, so code that
does not know lupi still catches them sensibly (a bad argument is a
ValueError, an allocation failure a MemoryError, a file error an OSError).
"""
from . import _constants as C
from ._ffi import lib


class Error(Exception):
    """A liblupi call failed. code: the LUPI_E* value; errname: its macro
    name; strerror: the generic text; message: the detail of the failure."""

    code = None
    errname = None

    def __init__(self, message="", code=None):
        if code is not None:
            self.code = code
        self.strerror = (lib.lupi_strerror(self.code).decode()
                         if self.code is not None else "")
        self.message = message or self.strerror
        super().__init__(self.message)


# Built-in bases by code name; a code not listed derives from Error alone.
_BUILTIN_BASES = {
    "EINVAL": (ValueError,),
    "ENOMEM": (MemoryError,),
    "EIO": (OSError,),
    "EFORMAT": (ValueError,),
    "EVERSION": (ValueError,),
    "ECHECKSUM": (ValueError,),
    "ERANGE": (ValueError,),
    "EUNKNOWN_OPTION": (LookupError,),
    "ESHAPE": (ValueError,),
    "ENONFINITE": (ValueError,),
    "ESTATE": (RuntimeError,),
    "ENOTSUP": (NotImplementedError,),
    "EMISMATCH": (ValueError,),
}

_by_code = {}


def _make(code, errname):
    short = errname[len("LUPI_"):] if errname.startswith("LUPI_") else errname
    bases = (Error,) + _BUILTIN_BASES.get(short, ())
    cls = type(short, bases, {
        "code": code,
        "errname": errname,
        "__doc__": lib.lupi_strerror(code).decode(),
        "__module__": "lupi",
        # OSError's constructor would reinterpret the arguments.
        "__init__": Error.__init__,
        "__str__": lambda self: self.message,
        "__reduce__": lambda self: (_rebuild, (self.code, self.message)),
    })
    _by_code[code] = cls
    return cls


def _rebuild(code, message):
    return error_class(code)(message)


def _codes():
    """Every code the library names: the header's, then any newer ones."""
    codes = [v for k, v in vars(C).items()
             if k.startswith("E") and k.isupper() and isinstance(v, int)]
    # A newer library may know codes this header did not; they are never
    # reused, so probing below the last known one finds them.
    lowest = min(codes)
    for code in range(lowest - 1, lowest - 64, -1):
        if lib.lupi_errname(code) is not None:
            codes.append(code)
    return sorted(set(codes), reverse=True)


for _code in _codes():
    _name = lib.lupi_errname(_code)
    if _name is None:
        continue
    globals()[_name.decode()[len("LUPI_"):]] = _make(_code, _name.decode())

ERROR_CLASSES = dict(_by_code)


def error_class(code):
    """The exception class of a code (Error itself for an unknown code)."""
    return _by_code.get(code, Error)


def last_error(code):
    """The exception for a code just returned by a call in this thread."""
    msg = lib.lupi_errmsg().decode("utf-8", "replace")
    return error_class(code)(msg, code=code)


def check(code):
    if code < 0:
        raise last_error(code)
    return code


__all__ = ["Error", "error_class", "ERROR_CLASSES"] + sorted(
    cls.__name__ for cls in _by_code.values())
