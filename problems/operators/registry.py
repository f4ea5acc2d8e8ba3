"""Name-indexed registries of the seed operators, and their memoised numba compilation.

The search loop and the evolution driver both refer to operators by ``(role, name)``; keeping
the Python functions here (rather than compiled objects) lets the engine fall back to plain
Python, and lets evolved operators be registered beside the seeds under the same rules.
"""

from __future__ import annotations

from collections.abc import Callable

from ..engine.signatures import ROLES, compile_operator
from ..problem import problems

DESTROY: dict[str, Callable] = {}
REPAIR: dict[str, Callable] = {}
IMPROVE: dict[str, Callable] = {}

REGISTRIES: dict[str, dict[str, Callable]] = {
    "destroy": DESTROY,
    "repair": REPAIR,
    "improve": IMPROVE,
}

#: Each variant's default seed pools, ``{problem: {role: names}}``; the variants own them
#: (:attr:`ahd.problems.problem.RoutingProblem.pools`), this is the table view other code reads.
DEFAULT_POOLS: dict[str, dict[str, tuple[str, ...]]] = {
    problem.name: problem.pools.as_dict() for problem in problems()
}

_COMPILED: dict[tuple[str, str], Callable] = {}


def _registry(role: str) -> dict[str, Callable]:
    if role not in REGISTRIES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    return REGISTRIES[role]


def register(role: str, name: str) -> Callable[[Callable], Callable]:
    """Decorator adding a Python operator function to the registry of ``role``.

    The function is returned unchanged so it stays callable (and compilable) as plain Python;
    a duplicate name raises because silently replacing a seed would change benchmarks.
    """
    registry = _registry(role)

    def deco(func: Callable) -> Callable:
        if name in registry and registry[name] is not func:
            raise ValueError(f"{role} operator {name!r} is already registered")
        registry[name] = func
        return func

    return deco


def compiled(role: str, name: str) -> Callable:
    """The registered operator compiled against its role's signature (memoised, disk-cached).

    Raises
    ------
    KeyError
        If no operator of that role has that name.
    RuntimeError
        If numba cannot compile it; seeds must always compile, so this is a bug, not a
        reason to fall back to Python.
    """
    key = (role, name)
    if key not in _COMPILED:
        func = _registry(role)[name]
        fn, err = compile_operator(func, role, cache=True)
        if err is not None:
            raise RuntimeError(f"seed {role} operator {name!r} failed to compile: {err}")
        _COMPILED[key] = fn
    return _COMPILED[key]
