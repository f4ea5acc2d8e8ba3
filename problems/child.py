"""The child side of a routing evaluation: load candidate code, run the LNS, return plain data.

This module runs inside sandbox children (:mod:`ahd.sandbox`). Whatever it returns is checked by
the parent (:mod:`ahd.problems.checks`) as if written by an adversary: it returns routes and
diagnostics only, never a cost, and failures come back as :class:`CandidateError` claims.
"""

from __future__ import annotations

import contextlib
import hashlib
import linecache
import math
import os
import sys
import tempfile
import traceback
import types
from typing import Any

from .checks import state_names
from .engine.config import LNSConfig
from .instance import RoutingInstance
from .requests import (
    MAX_ERROR_CHARS,
    ROUTING_ROLES,
    STAT_ROLES,
    STATE_MODULE,
    CandidateError,
    InstanceSpec,
)
from .verify import InfeasibleSolution

FRAMES_HEADER = "\nTraceback (candidate frames):\n"

# ------------------------------------------------------------------------------ the child side


def _candidate_namespace(module: types.ModuleType) -> None:
    """Pre-provide ``np``, ``numba``, ``njit``, ``math`` and the state helpers."""
    import importlib

    import numba
    import numpy as np

    state = importlib.import_module(STATE_MODULE)
    ns = module.__dict__
    ns.update(np=np, numpy=np, numba=numba, njit=numba.njit, prange=numba.prange, math=math)
    for name in state_names():
        ns[name] = getattr(state, name)


def code_file(shared_dir: str, code: str) -> str:
    """Write ``code`` to ``shared_dir/code/c_<sha>.py`` once (parent side); return the path.

    Numba caches compiled code only for functions that live in a real file; a file named by
    its content never changes, so a candidate compiles once per run and every later sandbox
    child loads the machine code from ``__pycache__`` next to it.
    """
    digest = hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    folder = os.path.join(shared_dir, "code")
    path = os.path.join(folder, f"c_{digest}.py")
    if not os.path.isfile(path):
        os.makedirs(folder, exist_ok=True)
        # Unique per writer: threads of one process (smoke runs staged concurrently) may write
        # the same code at once, and each must replace from a file of its own.
        handle, tmp = tempfile.mkstemp(prefix=os.path.basename(path), suffix=".tmp", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(code)
        os.replace(tmp, path)
    return path


def may_compile(payload: dict[str, Any]) -> bool:
    """Whether a child running ``payload`` may have to compile (parent side): some operator
    is candidate code with no numba cache beside its :func:`code_file` yet. Built-in operators
    load from the engine's cache. A cache made for other argument types still compiles; this
    only decides whether the worker compiles its prewarm first
    (:meth:`ahd.sandbox.pool.SandboxPool.submit`).
    """
    for ops in payload["operators"].values():
        for op in ops:
            if "source" not in op:
                continue
            path = op.get("path")
            if path is None:
                return True
            folder, name = os.path.split(path)
            stem = os.path.splitext(name)[0] + "."
            with contextlib.suppress(OSError):
                if any(f.startswith(stem) and f.endswith(".nbi")
                       for f in os.listdir(os.path.join(folder, "__pycache__"))):
                    continue
            return True
    return False


def _load_file(code: str, path: str) -> tuple[types.ModuleType, str] | None:
    """Load candidate code from its content-named file, or None when the file does not hold
    exactly ``code`` (then the caller compiles from the string, uncached).

    A missing file is written first: on a cluster worker's host the parent's file does not
    exist, but the same host-local ``shared_dir`` path does, so the cache still works there.
    """
    import importlib.util

    if not os.path.isfile(path):
        with contextlib.suppress(OSError):
            code_file(os.path.dirname(os.path.dirname(path)), code)
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() != code:
                return None
    except OSError:
        return None
    name = "ahd_candidate_" + os.path.basename(path)[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    _candidate_namespace(module)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, path


#: Candidate modules this child has loaded, by source. A team child runs the same operators on
#: many instances; executing the source again per instance would create new function objects,
#: so the engine would compile (or load from numba's cache) every operator per instance, about
#: a second each for a large one, and keep every copy alive until the child ran out of memory.
_LOADED: dict[tuple[str, str | None], tuple[types.ModuleType, str]] = {}


def _loaded(code: str, path: str | None = None) -> tuple[types.ModuleType, str]:
    key = (code, path)
    if key not in _LOADED:
        _LOADED[key] = load_source(code, path)
    return _LOADED[key]


def load_source(code: str, path: str | None = None) -> tuple[types.ModuleType, str]:
    if path:
        loaded = _load_file(code, path)
        if loaded is not None:
            return loaded
    digest = hashlib.sha1(code.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    filename = f"<candidate-{digest}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    module = types.ModuleType(f"ahd_candidate_{digest}")
    module.__file__ = filename
    _candidate_namespace(module)
    sys.modules[module.__name__] = module
    exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102 - sandboxed child
    return module, filename


def _child_instance(data: Any) -> RoutingInstance:
    if isinstance(data, RoutingInstance):
        return data
    return InstanceSpec(data["problem"], data["n"], data["seed"]).build()


def _failure(exc: BaseException, filenames: set[str], notes: list[str]) -> CandidateError:
    kind = "infeasible" if isinstance(exc, InfeasibleSolution) else "error"
    message = str(exc)
    limit = MAX_ERROR_CHARS // 2  # leaves room for frames and notes in the sandbox's cap
    if len(message) > limit:
        message = message[:limit] + f"... [{len(message) - limit} chars cut]"
    text = f"{type(exc).__name__}: {message}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in filenames]
    if frames:
        text += FRAMES_HEADER + "".join(traceback.format_list(frames[-10:]))
    for note in notes:
        text = text.rstrip() + "\n" + note
    return CandidateError(f"{kind}|{text.rstrip()}")


def _compile_notes(sourced: list[tuple[str, Any, str]]) -> list[str]:
    """Why candidate operators ran as plain Python, read from the engine's compile cache."""
    from .engine.lns import compile_error

    notes = []
    for role, func, label in sourced:
        err = compile_error(role, func)
        if err:
            notes.append(
                f"note: {role} operator {label!r} could not be compiled by numba and ran as "
                f"plain Python: {err}"
            )
    return notes


def _pack_result(result: Any) -> dict[str, Any]:
    """The plain-data result of a run: routes and diagnostics, never a cost."""
    return {
        "routes": [[int(c) for c in route] for route in result.routes],
        "iterations": int(result.iterations),
        "python_mode": bool(result.python_mode),
        "compile_errors": {str(k): str(v) for k, v in result.compile_errors.items()},
        "stats": {
            role: {
                str(name): {str(col): float(v) for col, v in cols.items()}
                for name, cols in result.stats[role].items()
            }
            for role in STAT_ROLES
        },
        "pairs": [[[float(v) for v in cell] for cell in row] for row in result.pair_stats],
        "elapsed": float(result.elapsed),
    }


def run_candidate_lns(request: dict) -> dict:
    """Child side (runs in the sandbox): load the sources, run the LNS, return plain data.

    ``request`` (built by the parent): ``instance`` (a RoutingInstance or an InstanceSpec as a
    dict), ``config`` (LNSConfig fields), ``operators`` (role -> list of
    ``{"registry": name}`` or ``{"source": code, "entry": name, "name": label}``).
    Returns ``{"routes", "iterations", "python_mode", "compile_errors", "stats", "elapsed"}``;
    failures raise :class:`CandidateError`.
    """
    from ahd.problems.engine.lns import Operator, run_lns

    instance = _child_instance(request["instance"])
    config = LNSConfig(**{**request["config"], "scores": tuple(request["config"]["scores"])})
    filenames: set[str] = set()
    sourced: list[tuple[str, Any, str]] = []
    try:
        pools: dict[str, list[Any]] = {}
        for role in ROUTING_ROLES:
            pool: list[Any] = []
            for op in request["operators"][role]:
                if "registry" in op:
                    pool.append(op["registry"])
                    continue
                code, entry, label = op["source"], op["entry"], op["name"]
                module, filename = _loaded(code, op.get("path"))
                filenames.add(filename)
                func = module.__dict__.get(entry)
                if not callable(func):
                    raise TypeError(f"the {role} entry point {entry!r} is not a function")
                func = getattr(func, "py_func", func)  # an @njit the candidate applied itself
                sourced.append((role, func, label))
                pool.append(Operator(label, func))
            pools[role] = pool
        result = run_lns(
            instance, config, destroy=pools["destroy"], repair=pools["repair"],
            improve=pools["improve"],
        )
    except MemoryError:
        raise  # the sandbox reports it as "memory"
    except Exception as exc:  # noqa: BLE001 - every failure goes back as a CandidateError
        raise _failure(exc, filenames, _compile_notes(sourced)) from None
    return _pack_result(result)


def warm_engine() -> None:
    """Worker warmup: compile the LNS loop and every seed operator once, before any lockdown,
    so that children only compile the candidate's own code."""
    from ahd.problems.engine.lns import run_lns
    from ahd.problems.generators import uniform_cvrp
    from ahd.problems.operators.registry import IMPROVE

    instance = uniform_cvrp(12, 0)
    config = LNSConfig(iterations=3, seed=0, min_remove=1, max_remove=3)
    run_lns(instance, config, improve=sorted(IMPROVE))
    state_names()


