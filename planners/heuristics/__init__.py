"""Heuristics for greedy best-first search: the registry, the loader and evaluation helpers.

``HEURISTICS`` maps each built-in name to a factory; tests parametrise over it, so a new
built-in is tested automatically. ``load_heuristic`` turns a CLI/config string into a heuristic:
a built-in name or the path of a ``.py`` file defining ``h(state, task)`` (see :mod:`.api`).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .api import ActionSchema, HeuristicTask, Operator, heuristic_task
from .base import (
    BuiltinHeuristic,
    Heuristic,
    HeuristicError,
    PythonHeuristic,
    check_value,
    describe_exception,
)
from .builtin import BUILTIN_IDS, DESCRIPTIONS
from .genome import CompiledGenome, compiled_genome

if TYPE_CHECKING:
    from ..task import Task

__all__ = [
    "HEURISTICS", "DESCRIPTIONS", "ActionSchema", "BuiltinHeuristic", "CompiledGenome",
    "Heuristic",
    "HeuristicError", "HeuristicTask", "Operator", "PythonHeuristic", "check_value",
    "compiled_file", "describe_exception", "evaluate_heuristic",
    "heuristic_from_source", "heuristic_task", "load_heuristic", "state_function",
]

_LOADED = itertools.count()

#: built-in name -> factory (no arguments)
HEURISTICS: dict[str, Callable[[], BuiltinHeuristic]] = {
    name: partial(BuiltinHeuristic, name, hid) for name, hid in BUILTIN_IDS.items()
}


def compiled_from_source(source: str, name: str) -> CompiledGenome | None:
    """The compiled form of a module the offline proposer rendered, else ``None``.

    Only a module that is exactly :func:`~ahd.planners.feature_render.render`'s output for
    the genome in its tag lines qualifies (see
    :func:`~ahd.planners.feature_render.parse_genome`); its code is never executed.
    """
    from ..feature_render import parse_genome

    genome = parse_genome(source)
    return None if genome is None else compiled_genome(name, *genome, source=source)


def compiled_file(path: str | Path) -> CompiledGenome | None:
    """:func:`compiled_from_source` of a ``.py`` file, ``None`` for anything else (a file
    that cannot be read included: importing it reports why). Reading is all it does, so
    callers that must not run a user's code (``ahd plan``) may call it outside a sandbox."""
    path = Path(path)
    if path.suffix != ".py" or not path.is_file():
        return None
    try:
        return compiled_from_source(path.read_text(encoding="utf-8"), path.stem)
    except (OSError, UnicodeDecodeError):
        return None


def heuristic_from_source(source: str, name: str = "python", filename: str = "<heuristic>",
                          compiled: bool = True) -> PythonHeuristic | CompiledGenome:
    """Execute heuristic code (a module defining ``h``, optionally ``init``) and wrap it.

    This runs the code in the calling process: call it only inside a sandbox for untrusted
    code. Raises :class:`HeuristicError` when the code fails to run or defines no ``h``.
    With ``compiled``, a module rendered from a genome by the offline proposer comes back
    as a :class:`CompiledGenome` instead, which computes the same values in the search
    kernel (about the cost of a built-in heuristic) without running the module.
    """
    if compiled:
        genome = compiled_from_source(source, name)
        if genome is not None:
            return genome
    namespace: dict[str, Any] = {"__name__": f"ahd_heuristic_{name}", "__file__": filename}
    try:
        code = compile(source, filename, "exec")
        exec(code, namespace)  # noqa: S102 - the point of this function
    except Exception as exc:
        raise HeuristicError(
            "loading the heuristic failed: " + describe_exception(exc, filename)
        ) from exc
    return _wrap(namespace, name, filename)


def _wrap(namespace: dict[str, Any], name: str, filename: str) -> PythonHeuristic:
    h = namespace.get("h")
    if not callable(h):
        raise HeuristicError(f"{filename}: defines no function h(state, task)")
    init = namespace.get("init")
    if init is not None and not callable(init):
        raise HeuristicError(f"{filename}: init is not a function")
    return PythonHeuristic(h, init, name=name, source=filename)


def load_heuristic(spec: str | Heuristic, compiled: bool = True) -> Heuristic:
    """A heuristic from a built-in name (``'hff'``) or a path to a ``.py`` file.

    With ``compiled``, a file the offline proposer rendered from a genome (``generated/``)
    runs as a :class:`CompiledGenome` (see :func:`heuristic_from_source`).

    Raises
    ------
    HeuristicError
        Unknown name, missing file, or a file that fails to import or defines no ``h``.
    """
    if isinstance(spec, BuiltinHeuristic | PythonHeuristic):
        return spec
    if spec in HEURISTICS:
        return HEURISTICS[spec]()
    path = Path(spec)
    if path.suffix != ".py":
        raise HeuristicError(
            f"unknown heuristic {spec!r}: use one of {', '.join(HEURISTICS)} or a .py file"
        )
    if not path.is_file():
        raise HeuristicError(f"{spec}: no such heuristic file")
    genome = compiled_file(path) if compiled else None
    if genome is not None:
        return genome
    module_name = f"ahd_heuristic_{path.stem}_{next(_LOADED)}"
    mspec = importlib.util.spec_from_file_location(module_name, path)
    if mspec is None or mspec.loader is None:
        raise HeuristicError(f"{spec}: cannot be imported")
    module = importlib.util.module_from_spec(mspec)
    sys.modules[module_name] = module
    try:
        mspec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise HeuristicError(
            f"{spec}: importing failed: " + describe_exception(exc, str(path))
        ) from exc
    return _wrap(vars(module), path.stem, str(path))


def state_function(heuristic: Heuristic | str, task: Task) -> Callable[[Any], float]:
    """``packed state -> value`` of a built-in or Python heuristic on ``task``, bound once
    (``init`` runs here; a Python heuristic's errors raise :class:`HeuristicError`). What the
    searches outside the compiled kernel and the directness check evaluate with."""
    import numpy as np

    heuristic = load_heuristic(heuristic)
    if isinstance(heuristic, PythonHeuristic):
        bound = heuristic.bind(task)
        return lambda bits: float(bound(task.state_atoms(bits)))
    from .builtin import evaluate

    arrays, work = task.arrays(), heuristic.scratch(task)
    return lambda bits: float(evaluate(heuristic.hid, np.ascontiguousarray(bits), arrays, work))


def evaluate_heuristic(heuristic: Heuristic | str, task: Task, state: Any = None) -> float:
    """h of one state (``None`` = initial state; else a set of atoms) on a ground task.

    Convenient for tests and for comparing heuristics outside a search.
    """
    bits = task.init_bits if state is None else task.pack_atoms(state)
    return state_function(heuristic, task)(bits)
