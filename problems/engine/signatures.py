"""The one numba signature of each operator role, and eager compilation against it.

Declaring the signature up front is what lets the search loop compile once for every operator
pool: operators arrive as first-class functions of a fixed type, so a new candidate costs only
its own compilation (about 0.3 s) and never a recompilation of the loop.

Roles
-----
destroy(inst, sol, n_remove, removed) -> int
    Unassign up to ``n_remove`` customers with ``remove_customer(inst, sol, c)`` and write them
    to ``removed[0:k]``; return k.
repair(inst, sol, removed, k, penalty) -> None
    Insert every customer of ``removed[0:k]`` with ``insert_customer(inst, sol, c, r, p)``.
    ``penalty`` is the current price of one unit of capacity excess: the engine lets repairs
    overload routes at that price and adapts it so that search keeps finding feasible solutions.
improve(inst, sol, penalty) -> None
    Optional improvement applied after repair; it must keep every customer assigned.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba import typeof as nb_typeof

from ..instance import RoutingInstance
from ..problem import DEFAULT_PROBLEM
from .state import make_inst, new_solution

ROLES = ("destroy", "repair", "improve")


def _example_records():
    # Every variant's record has the same types, so any variant's instance will do.
    dist = np.zeros((3, 3))
    example = RoutingInstance("sig", DEFAULT_PROBLEM, dist, np.array([0.0, 1.0, 1.0]), 10.0)
    inst = make_inst(example)
    return inst, new_solution(inst)


_inst, _sol = _example_records()
INST_TYPE = nb_typeof(_inst)
SOL_TYPE = nb_typeof(_sol)
INT_ARRAY = types.Array(types.int64, 1, "C")

SIGNATURES = {
    "destroy": types.int64(INST_TYPE, SOL_TYPE, types.int64, INT_ARRAY),
    "repair": types.void(INST_TYPE, SOL_TYPE, INT_ARRAY, types.int64, types.float64),
    "improve": types.void(INST_TYPE, SOL_TYPE, types.float64),
}
FUNCTION_TYPES = {role: types.FunctionType(sig) for role, sig in SIGNATURES.items()}


def compile_operator(func, role: str, cache: bool = False):
    """Compile ``func`` eagerly with the role's signature.

    Returns ``(callable, error)``: the compiled dispatcher and ``None``, or the plain Python
    function and the compiler's message when numba cannot compile it. The caller then runs the
    search in Python mode, which is slower but behaves the same.
    """
    if role not in SIGNATURES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    try:
        try:
            return njit(SIGNATURES[role], cache=cache)(func), None
        except ImportError:
            if not cache:
                raise
            # A stale on-disk cache: code cached by a process in which the function's module
            # had another name cannot find its callees. Compiling afresh must not be refused.
            return njit(SIGNATURES[role], cache=False)(func), None
    except Exception as exc:  # numba raises many error types; all mean "cannot compile"
        first = str(exc).strip().splitlines()
        return func, f"{type(exc).__name__}: {first[0] if first else ''}"
