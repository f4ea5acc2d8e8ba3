"""Unpickling of data that untrusted code produced.

A candidate's return value comes back as a pickle the candidate controls byte for byte. A plain
``pickle.loads`` would call any global it names (``os.system`` included) in the trusted process,
so results are read with an unpickler that resolves only an allow-list of plain data types:
builtins containers, a few stdlib value types and numpy arrays, dtypes and scalars. Callers add
their own record classes (``"module:qualname"``) through ``safe_globals``.
"""

from __future__ import annotations

import importlib
import io
import pickle
from collections.abc import Iterable

#: Globals a result may name. numpy pickles arrays through ``_frombuffer`` (contiguous,
#: non-object) or ``_reconstruct`` + ``ndarray.__setstate__``; both refuse to build object arrays
#: from raw memory, and the objects inside object arrays pass through this same unpickler.
DEFAULT_SAFE_GLOBALS = frozenset(
    {
        ("builtins", "complex"),
        ("builtins", "range"),
        ("builtins", "slice"),
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "tuple"),
        ("builtins", "int"),
        ("builtins", "float"),
        ("builtins", "str"),
        ("builtins", "bytes"),
        ("builtins", "bool"),
        ("collections", "OrderedDict"),
        ("collections", "Counter"),
        ("collections", "deque"),
        ("collections", "defaultdict"),
        ("fractions", "Fraction"),
        ("decimal", "Decimal"),
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy.core.numeric", "_frombuffer"),
    }
)


class UnsafePickleError(pickle.UnpicklingError):
    """The data names a global that is not on the allow-list."""


def parse_global(spec: str) -> tuple[str, str]:
    """``"pkg.mod:Name"`` (or ``"pkg.mod.Name"``) -> ``("pkg.mod", "Name")``."""
    if ":" in spec:
        module, _, name = spec.partition(":")
    else:
        module, _, name = spec.rpartition(".")
    if not module or not name:
        raise ValueError(f"not a 'module:qualname' global: {spec!r}")
    return module, name


def allow_list(extra: Iterable[str] = ()) -> frozenset[tuple[str, str]]:
    return DEFAULT_SAFE_GLOBALS | {parse_global(s) for s in extra}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, allowed: frozenset[tuple[str, str]]):
        super().__init__(file)
        self._allowed = allowed

    def find_class(self, module: str, name: str):  # noqa: D102
        if (module, name) not in self._allowed:
            raise UnsafePickleError(f"refusing to load global {module}.{name}")
        obj = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj

    def persistent_load(self, pid):  # noqa: D102
        raise UnsafePickleError("persistent ids are not allowed")


def safe_loads(data: bytes, allowed: frozenset[tuple[str, str]] | None = None):
    """Unpickle ``data`` resolving only globals in ``allowed`` (default: the built-in list)."""
    return _RestrictedUnpickler(
        io.BytesIO(data), DEFAULT_SAFE_GLOBALS if allowed is None else allowed
    ).load()


def plain_loads(data: bytes):
    """Unpickle data that may hold builtin containers and scalars only (no globals at all)."""
    return _RestrictedUnpickler(io.BytesIO(data), frozenset()).load()
