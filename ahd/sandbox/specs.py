"""Function specs: how a request names the function a sandboxed child calls.

A spec is one of

- ``"package.module:qualname"``: an importable function;
- ``"file:/path/to/candidate.py:run"``: a module file, loaded in the child;
- ``("source", code, "function_name")``: source text compiled in the child.

:func:`normalize_spec` turns any of them (or an importable function) into a picklable
``(kind, where, name)`` triple in the parent; :func:`resolve_spec` loads the function in the
child; :func:`format_error` reports a failure with the candidate's own frames only.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import linecache
import os
import sys
import traceback
import types
from typing import Any

_SANDBOX_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_MESSAGE = 4000
_MAX_FRAMES = 10


def normalize_spec(func: Any) -> tuple[str, str, str]:
    """Turn any accepted function spec into ``(kind, where, name)``; see the module docstring."""
    if isinstance(func, tuple):
        if len(func) == 3 and func[0] == "source":
            _, code, name = func
            if not isinstance(code, str) or not isinstance(name, str):
                raise TypeError("('source', code, name) needs two strings")
            return ("source", code, name)
        if len(func) == 3 and func[0] in ("module", "file"):
            return tuple(func)  # already normalised
        raise ValueError(f"bad function spec tuple: {func[:1]!r}...")
    if isinstance(func, str):
        if func.startswith("file:"):
            path, sep, name = func[len("file:") :].rpartition(":")
            if not sep or not path or not name:
                raise ValueError(f"expected 'file:/path/to/x.py:function', got {func!r}")
            return ("file", os.path.abspath(path), name)
        module, sep, name = func.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"expected 'module:qualname', got {func!r}")
        return ("module", module, name)
    if callable(func):
        module, qual = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
        if not module or not qual or "<" in qual or module == "__main__":
            raise ValueError(f"{func!r} is not importable by name; pass 'module:qualname'")
        return ("module", module, qual)
    raise TypeError(f"not a function spec: {func!r}")


def resolve_spec(spec: tuple[str, str, str]) -> tuple[Any, str | None]:
    """Load the function a spec names; also return the file its frames come from."""
    kind, where, name = spec
    if kind == "module":
        obj: Any = importlib.import_module(where)
        filename = getattr(obj, "__file__", None)
    elif kind == "file":
        mod_name = "ahd_candidate_" + hashlib.sha1(where.encode()).hexdigest()[:12]
        file_spec = importlib.util.spec_from_file_location(mod_name, where)
        if file_spec is None or file_spec.loader is None:
            raise ImportError(f"cannot load {where}")
        if mod_name in sys.modules:  # loaded by the worker's warmup: keep what it prepared
            obj = sys.modules[mod_name]
        else:
            obj = importlib.util.module_from_spec(file_spec)
            sys.modules[mod_name] = obj
            file_spec.loader.exec_module(obj)
        filename = where
    elif kind == "source":
        digest = hashlib.sha1(where.encode()).hexdigest()[:12]
        filename = f"<candidate-{digest}>"
        lines = where.splitlines(keepends=True)
        linecache.cache[filename] = (len(where), None, lines, filename)
        obj = types.ModuleType(f"ahd_candidate_{digest}")
        obj.__file__ = filename
        sys.modules[obj.__name__] = obj
        exec(compile(where, filename, "exec"), obj.__dict__)  # noqa: S102 - sandboxed child
    else:
        raise ValueError(f"unknown spec kind {kind!r}")
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{name} is not callable")
    return obj, filename


def format_error(exc: BaseException, candidate_file: str | None) -> str:
    """``Type: message`` plus the frames of the candidate's own file (or, failing that, all but
    the sandbox's)."""
    kind = type(exc).__qualname__
    if type(exc).__module__ not in ("builtins", "__main__"):
        kind = f"{type(exc).__module__}.{kind}"
    message = str(exc)
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + f"... [{len(message) - _MAX_MESSAGE} chars cut]"
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [f for f in frames if candidate_file and f.filename == candidate_file]
    if not mine:
        mine = [f for f in frames if not f.filename.startswith(_SANDBOX_DIR)]
    text = f"{kind}: {message}"
    if mine:
        if len(mine) > _MAX_FRAMES:
            text += f"\n({len(mine) - _MAX_FRAMES} earlier frames cut)"
            mine = mine[-_MAX_FRAMES:]
        text += "\nTraceback (candidate frames):\n" + "".join(traceback.format_list(mine))
    return text.rstrip()
