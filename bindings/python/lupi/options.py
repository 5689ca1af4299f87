"""Options, read from the library's introspection (lupi_option_next).

Nothing here restates a key, a range or a default: OPTIONS is filled at
import time from the loaded library, and the module-level constants
(lupi.MODEL_OPT_EPOCHS, ...) are made from it.
"""
import collections.abc
import ctypes
import math

from . import _constants as C
from ._ffi import lib, lupi_option
from .errors import check, error_class

#: The handle numbers the library's option directory may answer for; a key
#: is handle * 1000 + n, so handles stay well below 1000.
MAX_HANDLE = 63


def _handles():
    """{number: "MODEL", ...}: every handle in 1..MAX_HANDLE that the loaded
    library lists options for (lupi_option_next), named by the generated
    LUPI_HANDLE_* constants. A handle the library has and lupi.h (as
    generated) does not is named "HANDLE<n>", so it is still reachable;
    tests/test_constants.py fails on it until _constants.py is regenerated."""
    names = {v: k[len("HANDLE_"):] for k, v in vars(C).items()
             if k.startswith("HANDLE_")}
    return {h: names.get(h, f"HANDLE{h}") for h in range(1, MAX_HANDLE + 1)
            if lib.lupi_option_next(h, None)}


# "MODEL", "LOSS", ... by handle number, asked of the library.
HANDLES = _handles()


class Option:
    """One option: handle, key, name (lower case), type ("int" or
    "double"), doc, minimum, maximum, default, min_open/max_open (double
    ranges), and values (the names of an integer option's values 0, 1, ...
    or None)."""

    __slots__ = ("handle", "key", "name", "macro", "type", "doc", "minimum",
                 "maximum", "default", "min_open", "max_open", "values")

    def __init__(self, o):
        self.handle = HANDLES.get(o.handle, str(o.handle)).lower()
        self.key = o.key
        self.name = o.name.decode().lower()
        self.macro = f"{HANDLES.get(o.handle, '?')}_OPT_{o.name.decode()}"
        self.doc = (o.doc or b"").decode()
        if o.type == C.TYPE_INT:
            self.type = "int"
            self.minimum, self.maximum = o.int_min, o.int_max
            self.default = o.int_default
            self.min_open = self.max_open = False
        else:
            self.type = "double"
            self.minimum, self.maximum = o.real_min, o.real_max
            self.default = o.real_default
            self.min_open, self.max_open = bool(o.real_min_open), bool(
                o.real_max_open)
        has_values = (o.size >= lupi_option.values.offset +
                      ctypes.sizeof(ctypes.c_char_p) and o.values)
        self.values = (tuple(o.values.decode().split(","))
                       if has_values else None)

    def __repr__(self):
        if self.type == "int":
            rng = f"[{self.minimum}, {self.maximum}]"
        else:
            rng = (("(" if self.min_open else "[") +
                   f"{self.minimum}, {self.maximum}" +
                   (")" if self.max_open else "]"))
        vals = f" values={self.values}" if self.values else ""
        return (f"<Option {self.handle}.{self.name} key={self.key} "
                f"{self.type} {rng} default={self.display(self.default)}"
                f"{vals}>")

    def encode(self, value):
        """The C value of a Python value: names of values, bools, one-byte
        strings for byte options (the CSV delimiter)."""
        if self.type == "double":
            if isinstance(value, str):
                raise TypeError(f"option {self.name}: expected a number, "
                                f"got {value!r}")
            return float(value)
        if isinstance(value, str):
            if self.values:
                want = value.lower().replace("-", "_")
                for i, v in enumerate(self.values):
                    if v == want:
                        return i
                raise error_class(C.ERANGE)(
                    f"option {self.name}: {value!r} is not one of "
                    f"{', '.join(self.values)}", code=C.ERANGE)
            if len(value) == 1:
                return ord(value)
            raise TypeError(f"option {self.name}: expected an integer, "
                            f"got {value!r}")
        if isinstance(value, float):
            if not value.is_integer():
                raise TypeError(f"option {self.name}: expected an integer, "
                                f"got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise TypeError(f"option {self.name}: expected an integer, "
                            f"got {value!r}") from None

    def display(self, value):
        """The Python value of a C value: a name when values are named."""
        if self.values and 0 <= value < len(self.values):
            return self.values[value]
        return value

    def in_range(self, value):
        """Whether value is inside the documented range (for tests and
        parameter checks; the library checks again)."""
        if self.type == "int":
            return self.minimum <= value <= self.maximum
        if math.isnan(value):
            return False
        lo = value > self.minimum if self.min_open else value >= self.minimum
        hi = value < self.maximum if self.max_open else value <= self.maximum
        return lo and hi


def _read():
    table = {}
    for handle, hname in sorted(HANDLES.items()):
        opts = {}
        p = lib.lupi_option_next(handle, None)
        while p:
            o = Option(p.contents)
            opts[o.name] = o
            p = lib.lupi_option_next(handle, p)
        table[hname.lower()] = opts
    return table


#: {"model": {"epochs": Option, ...}, "loss": {...}, "reader": ...,
#:  "compare": ..., "layer": ..., "dp": ..., "svm": ...}: every handle the
#: library's option directory lists.
OPTIONS = _read()

#: MODEL_OPT_EPOCHS = 1005 and so on, from the introspection.
KEYS = {o.macro: o.key for opts in OPTIONS.values() for o in opts.values()}


_HANDLE_NUMBERS = {v.lower(): k for k, v in HANDLES.items()}


def find(handle, name):
    """The Option of a handle ("model", ...) by name, resolved by the
    library's lupi_option_by_name (case ignored, '-' for '_', the full macro
    name accepted); a trailing '_' lets Python keywords through
    (Loss(lambda_=0.7))."""
    opts = OPTIONS[handle]
    p = lib.lupi_option_by_name(_HANDLE_NUMBERS[handle],
                                name.rstrip("_").encode())
    if p:
        for o in opts.values():
            if o.key == p.contents.key:
                return o
    raise error_class(C.EUNKNOWN_OPTION)(
        f"{handle} has no option {name!r}; it has {', '.join(opts)}",
        code=C.EUNKNOWN_OPTION)


class Options(collections.abc.MutableMapping):
    """A live view of a handle's options: reading asks the library,
    assigning sets through the typed setter (ranges checked there)."""

    def __init__(self, owner, handle, setters, getters):
        self._owner = owner
        self._handle = handle
        self._set_int, self._set_double = setters
        self._get_int, self._get_double = getters

    def option(self, name):
        return find(self._handle, name)

    def __getitem__(self, name):
        o = self.option(name)
        h = self._owner._ptr()
        if o.type == "int":
            v = ctypes.c_int64()
            check(self._get_int(h, o.key, ctypes.byref(v)))
            return o.display(v.value)
        v = ctypes.c_double()
        check(self._get_double(h, o.key, ctypes.byref(v)))
        return v.value

    def __setitem__(self, name, value):
        o = self.option(name)
        h = self._owner._ptr()
        if o.type == "int":
            check(self._set_int(h, o.key, o.encode(value)))
        else:
            check(self._set_double(h, o.key, o.encode(value)))

    def __delitem__(self, name):
        raise TypeError("options cannot be deleted; set the default instead")

    def __iter__(self):
        return iter(OPTIONS[self._handle])

    def __len__(self):
        return len(OPTIONS[self._handle])

    def __repr__(self):
        return f"Options({dict(self.items())!r})"

    def update(self, *args, **kwargs):  # noqa: D102 - MutableMapping's
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def changed(self):
        """{name: value} of the options that differ from their defaults."""
        out = {}
        for name, o in OPTIONS[self._handle].items():
            v = self[name]
            if v != o.display(o.default):
                out[name] = v
        return out
