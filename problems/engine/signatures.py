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

import functools

import numpy as np
from numba import njit, types
from numba import typeof as nb_typeof

from ..instance import RoutingInstance
from ..problem import DEFAULT_PROBLEM
from .coord_dist import CoordDist
from .state import Inst, make_inst, new_solution

ROLES = ("destroy", "repair", "improve")
#: How ``inst.dist`` is held: a dense matrix, or coordinates read through
#: :class:`~.coord_dist.CoordDist`. Each layout is its own record type, so an operator is
#: compiled once per layout it meets (the coordinate layout only for instances without a
#: matrix).
LAYOUTS = ("matrix", "coords")


def _example_records():
    # Every variant's record has the same types, so any variant's instance will do.
    coords = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    demand = np.array([0.0, 1.0, 1.0])
    dense = RoutingInstance("sig", DEFAULT_PROBLEM, np.zeros((3, 3)), demand, 10.0)
    lazy = RoutingInstance("sig", DEFAULT_PROBLEM, None, demand, 10.0, coords=coords,
                           edge_weight_type="EUC_2D")
    inst = make_inst(dense)
    return {"matrix": nb_typeof(inst), "coords": nb_typeof(make_inst(lazy))}, new_solution(inst)


INST_TYPES, _sol = _example_records()
INST_TYPE = INST_TYPES["matrix"]
SOL_TYPE = nb_typeof(_sol)
INT_ARRAY = types.Array(types.int64, 1, "C")


def layout_of(inst: Inst) -> str:
    """The layout of an engine record (``"coords"`` when it has no distance matrix)."""
    return "coords" if isinstance(inst.dist, CoordDist) else "matrix"


@functools.cache
def signature(role: str, layout: str = "matrix"):
    """The numba signature of ``role`` for records of ``layout``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    inst_type = INST_TYPES[layout]
    return {
        "destroy": types.int64(inst_type, SOL_TYPE, types.int64, INT_ARRAY),
        "repair": types.void(inst_type, SOL_TYPE, INT_ARRAY, types.int64, types.float64),
        "improve": types.void(inst_type, SOL_TYPE, types.float64),
    }[role]


@functools.cache
def function_type(role: str, layout: str = "matrix"):
    """The first-class function type the search loop holds ``role`` operators as."""
    return types.FunctionType(signature(role, layout))


SIGNATURES = {role: signature(role) for role in ROLES}
FUNCTION_TYPES = {role: function_type(role) for role in ROLES}


def compile_operator(func, role: str, cache: bool = False, layout: str = "matrix"):
    """Compile ``func`` eagerly with the role's signature for ``layout``.

    Returns ``(callable, error)``: the compiled dispatcher and ``None``, or the plain Python
    function and the compiler's message when numba cannot compile it. The caller then runs the
    search in Python mode, which is slower but behaves the same.
    """
    sig = signature(role, layout)
    try:
        try:
            return njit(sig, cache=cache)(func), None
        except ImportError:
            if not cache:
                raise
            # A stale on-disk cache: code cached by a process in which the function's module
            # had another name cannot find its callees. Compiling afresh must not be refused.
            return njit(sig, cache=False)(func), None
    except Exception as exc:  # numba raises many error types; all mean "cannot compile"
        first = str(exc).strip().splitlines()
        return func, f"{type(exc).__name__}: {first[0] if first else ''}"
