"""Load an exported heuristic (a Python file of LNS operators) by its path.

Two layouts are understood, so both a whole evolved team and one exported candidate
(:mod:`ahd.export`) can be dropped into ``ahd solve --heuristic FILE`` or a script:

* a team: module-level lists ``DESTROY = [f1, f2, ...]``, ``REPAIR = [g1, ...]`` and
  optionally ``IMPROVE = [...]`` and ``PROBLEM = "cvrp"``;
* a single candidate: functions named ``destroy``, ``repair`` and/or ``improve`` (the entry
  points an export defines or aliases).

Functions follow the engine's role signatures (:mod:`ahd.problems.engine.signatures`). A role
the file does not define is ``None`` in :class:`HeuristicPools`, which ``run_lns`` and the
pipelines read as "the problem's seed pool", so a destroy-only export runs with the seed
repairs. The file is imported under a fresh module name, so two files (or two versions of one
file) never shadow each other. Importing runs the file's code: load only files you trust,
e.g. exports of your own runs (candidates are checked and sandboxed before they are stored;
this loader adds no sandbox). ``ahd solve --heuristic`` calls it only inside a sandbox child
with a deadline (:mod:`ahd.problems.solve_child`), so a file that loops or exits cannot take
the command with it.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

#: Team-file list names and single-candidate function names, per routing role.
TEAM_NAMES = {"destroy": "DESTROY", "repair": "REPAIR", "improve": "IMPROVE"}


class HeuristicFileError(ValueError):
    """A heuristic file cannot be used; the one-line message names the file and the reason."""


@dataclass(frozen=True)
class HeuristicPools:
    """The operators a heuristic file provides.

    Attributes
    ----------
    destroy, repair, improve
        Lists of operator functions, or ``None`` where the file does not define the role
        (pass them straight to ``run_lns``: ``None`` selects the problem's seed pool).
    problem
        The file's ``PROBLEM`` (a variant name, see :func:`~ahd.problems.problem.problem_names`),
        or ``None``.
    path
        The file the operators came from.
    """

    destroy: list[Callable] | None
    repair: list[Callable] | None
    problem: str | None
    path: Path
    improve: list[Callable] | None = None

    def lns_kwargs(self) -> dict[str, list[Callable] | None]:
        """``destroy``/``repair``/``improve`` keywords for ``run_lns`` and the pipelines."""
        return {"destroy": self.destroy, "repair": self.repair, "improve": self.improve}

    def describe(self) -> str:
        """One line: how many operators of each role, and which roles fall back to seeds."""
        parts = []
        for role in TEAM_NAMES:
            ops = getattr(self, role)
            if ops is not None:
                names = ", ".join(getattr(f, "__name__", "?") for f in ops)
                parts.append(f"{role} [{names}]")
            elif role != "improve":
                parts.append(f"{role} (seed pool)")
        return f"{self.path.name}: " + "; ".join(parts)


def load_heuristic_file(path: str | os.PathLike) -> HeuristicPools:
    """Import the heuristic file at ``path`` and collect its operator pools.

    Raises
    ------
    HeuristicFileError
        If the file is missing, does not import (syntax error, failing import, exception at
        module level), defines neither a team nor a ``destroy``/``repair`` function, or
        defines something of the wrong type under one of those names.
    """
    file = Path(path)
    if not file.is_file():
        raise HeuristicFileError(f"{file}: no such heuristic file")
    module = _import(file)
    problem = _problem(module, file)
    if any(hasattr(module, name) for name in TEAM_NAMES.values()):
        pools = {role: _team_list(module, name, file) for role, name in TEAM_NAMES.items()}
    else:
        pools = {role: _single(module, role, file) for role in TEAM_NAMES}
    if pools["destroy"] is None and pools["repair"] is None:
        raise HeuristicFileError(
            f"{file}: defines neither DESTROY/REPAIR lists nor destroy/repair functions"
        )
    return HeuristicPools(
        destroy=pools["destroy"], repair=pools["repair"], improve=pools["improve"],
        problem=problem, path=file,
    )


def _module_name(file: Path) -> str:
    """The module name of this file as it is now: stem and a hash of absolute path and content.

    The name must be the same in every process that loads the same file: numba caches the
    compiled operators next to the file, and cached code finds the functions it calls by their
    module's name. A name that varied per load (it once carried a load counter) made a cache
    written after two loads unusable by a process that loaded the file once.
    """
    digest = hashlib.sha256(str(file.resolve()).encode() + b"\0" + file.read_bytes())
    stem = "".join(c if c.isalnum() else "_" for c in file.stem)
    return f"ahd_heuristic_{stem}_{digest.hexdigest()[:16]}"


def _import(file: Path) -> ModuleType:
    """Execute ``file`` as a module (any suffix; registered in ``sys.modules``), once per
    process for the same path and content.

    Registration lets numba, pickle and ``inspect`` find the module of the functions, as
    they would for an ordinary import. Loading an unchanged file again returns the same
    module, so its operators are not compiled again; an edited file is a new module.
    """
    name = _module_name(file)
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.SourceFileLoader(name, str(file))
    spec = importlib.util.spec_from_file_location(name, str(file), loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        if not isinstance(exc, Exception):
            raise
        message = " ".join(str(exc).split()) or "no message"
        raise HeuristicFileError(
            f"{file}: cannot import: {type(exc).__name__}: {message}"
        ) from exc
    return module


def _problem(module: ModuleType, file: Path) -> str | None:
    problem = getattr(module, "PROBLEM", None)
    if problem is None:
        return None
    if not isinstance(problem, str) or not problem:
        raise HeuristicFileError(f"{file}: PROBLEM must be a problem name such as 'cvrp'")
    return problem


def _team_list(module: ModuleType, name: str, file: Path) -> list[Callable] | None:
    """The list ``name`` of a team file (``None`` if absent); every entry must be callable."""
    if not hasattr(module, name):
        return None
    value = getattr(module, name)
    if not isinstance(value, list | tuple) or not value:
        raise HeuristicFileError(f"{file}: {name} must be a non-empty list of functions")
    for i, op in enumerate(value):
        if not callable(op):
            raise HeuristicFileError(
                f"{file}: {name}[{i}] is {type(op).__name__}, not a function"
            )
    return list(value)


def _single(module: ModuleType, role: str, file: Path) -> list[Callable] | None:
    """The single-candidate entry point ``role`` as a one-element pool (``None`` if absent)."""
    func = getattr(module, role, None)
    if func is None:
        return None
    if not callable(func):
        raise HeuristicFileError(f"{file}: {role} is {type(func).__name__}, not a function")
    return [func]
