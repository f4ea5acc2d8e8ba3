"""The engine's destroy/repair operators as a local-search operator inside OR-Tools' search.

This is what lets the ``ortools_operator`` pipeline of :mod:`ahd.problems.pipelines` hand an
evolved destroy/repair pair to OR-Tools: :class:`DestroyRepairOperator` is a SWIG director subclass
that OR-Tools calls back from its C++ local search, and :func:`add_destroy_repair_operator`
adds one to a model (see :mod:`ahd.problems.ortools_model`) before it is closed. The numba
side, converting OR-Tools' next-variables to the engine's solution record and back, lives in
the private kernel class next to it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from ortools.constraint_solver import pywrapcp

from .instance import RoutingInstance

if TYPE_CHECKING:
    from .ortools_model import OrToolsModel

__all__ = ["DestroyRepairOperator", "add_destroy_repair_operator"]


class DestroyRepairOperator(pywrapcp.IntVarLocalSearchOperator):
    """The engine's destroy/repair operators as a local-search operator of OR-Tools.

    OR-Tools' Python wrapper exposes ``IntVarLocalSearchOperator`` as a SWIG director class:
    a Python subclass overriding ``OnStart`` and ``OneNeighbor`` is called back from the C++
    search, and ``RoutingModel.AddLocalSearchOperator`` adds it to the operators the routing
    local search (and its metaheuristic) cycles through. Each ``OneNeighbor`` call reads the
    current solution from the next-variables, converts it to the engine's solution record,
    applies one destroy and one repair drawn uniformly from the pools (then, optionally, the
    engine's granular local search), and writes back only the next-variables that changed.
    OR-Tools' filters and its acceptance test (the guided-local-search objective) then decide
    whether the neighbour is taken, so a move that breaks capacity is simply rejected.

    Only the next-variables are in the operator's scope, so the model must have homogeneous
    vehicle costs (it does: one arc-cost matrix for all vehicles). Each start solution gets
    ``neighbors_per_start`` neighbours, after which the operator reports its neighbourhood
    exhausted so the search can reach a local optimum and move on. An operator that raises
    or breaks the engine's contract is switched off for the rest of the search (``error``
    says why); the counters ``proposed`` and ``unchanged`` say how often it produced a
    different and the same solution. Every neighbour costs a
    Python callback and O(n) calls through SWIG, so the operator is far slower per move than
    OR-Tools' own operators and than the same pair inside the engine's loop.

    Parameters
    ----------
    model
        The model, before it is closed.
    destroy, repair
        Operator pools as ``run_lns`` takes them (``None``: the problem's seed pool).
    config
        Engine settings the operator shares with the LNS: the destroy size range
        (``min_remove``, ``max_remove``, ``max_remove_fraction``), ``local_search`` (run the
        engine's granular local search on each repaired solution) and ``seed`` (numba's RNG,
        which the operators draw from). Default: ``LNSConfig`` defaults.
    neighbors_per_start
        Neighbours proposed per start solution.
    """

    def __init__(
        self,
        model: OrToolsModel,
        destroy=None,
        repair=None,
        config=None,
        neighbors_per_start: int = 1,
    ) -> None:
        nexts = [model.routing.NextVar(i) for i in range(model.routing.Size())]
        super().__init__(nexts)
        self._model = model
        self._kernel = _DestroyRepairKernel(model, destroy, repair, config)
        self._per_start = max(1, int(neighbors_per_start))
        self._left = 0
        self.proposed = 0
        self.unchanged = 0
        self.error: str | None = None

    def OnStart(self) -> None:  # OR-Tools calls it by this name
        """Called by OR-Tools with a new current solution: reset the neighbour budget."""
        self._left = self._per_start

    def OneNeighbor(self) -> bool:  # OR-Tools calls it by this name
        """Write one destroy/repair neighbour into the next-variables; False when exhausted.

        An exception must not cross into OR-Tools: it unwinds the C++ search half-way and the
        solver aborts the process later. So a failing operator is switched off instead, its
        message kept in ``error``, and the search goes on with OR-Tools' own operators.
        """
        while self._left > 0 and self.error is None:
            self._left -= 1
            current = self._current_nexts()
            try:
                new = self._kernel.neighbour(current)
            except Exception as exc:  # evolved code fails in many ways; none may escape
                self.error = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
                return False
            changed = np.flatnonzero(new != current)
            if changed.size == 0:
                self.unchanged += 1
                continue
            for i in changed:
                self.SetValue(int(i), int(new[i]))
            self.proposed += 1
            return True
        return False

    def _current_nexts(self) -> np.ndarray:
        return np.fromiter(
            (self.Value(i) for i in range(self.Size())), dtype=np.int64, count=self.Size()
        )


class _DestroyRepairKernel:
    """Next-array in, next-array out: one destroy, one repair (and local search) in numba."""

    def __init__(self, model: OrToolsModel, destroy, repair, config):
        from .engine.config import LNSConfig
        from .engine.lns import as_operators, compile_pool, seed_numba_rng

        config = config if config is not None else LNSConfig(time_limit=1.0)
        inst = model.instance
        errors: dict[str, str] = {}
        self._destroy = compile_pool(as_operators(destroy, "destroy", inst.kind), "destroy",
                                      errors)
        self._repair = compile_pool(as_operators(repair, "repair", inst.kind), "repair", errors)
        if not self._destroy or not self._repair:
            raise ValueError("need at least one destroy and one repair operator")
        self._inst = _engine_inst(inst, model.vehicles)
        self._routing = model.routing
        self._manager = model.manager
        self._vehicles = model.vehicles
        self._starts = [self._routing.Start(v) for v in range(self._vehicles)]
        self._ends = [self._routing.End(v) for v in range(self._vehicles)]
        self._is_end = np.zeros(self._routing.Size() + self._vehicles, dtype=bool)
        self._is_end[self._ends] = True
        self._node = np.array(
            [self._manager.IndexToNode(i) for i in range(self._routing.Size() + self._vehicles)],
            dtype=np.int64,
        )
        self._index = np.array(
            [self._manager.NodeToIndex(c) if c > 0 else -1 for c in range(inst.n + 1)],
            dtype=np.int64,
        )
        self._local_search = config.local_search
        self._removed = np.zeros(inst.n + 1, dtype=np.int64)
        # OR-Tools treats capacity as hard; a price far above any detour makes the repairs
        # open a route (the fleet has slack) rather than overload one.
        self._penalty = 1e6 * (float(self._inst.dist.max()) + 1.0)
        self._rng = np.random.default_rng(config.seed)
        self._size = self._routing.Size()
        n = inst.n
        self._k_hi = max(1, min(n, config.max_remove, math.ceil(config.max_remove_fraction * n)))
        self._k_lo = max(1, min(config.min_remove, self._k_hi))
        _warm_up(inst.kind)
        seed_numba_rng(config.seed)

    def neighbour(self, nexts: np.ndarray) -> np.ndarray:
        """The next-array after one destroy/repair of the solution ``nexts`` describes."""
        from .engine.lns import MAX_LS_MOVES, OperatorError
        from .engine.local_search import local_search
        from .engine.state import from_routes

        routes, used = self._routes(nexts)
        sol = from_routes(self._inst, routes)
        k_max = int(self._rng.integers(self._k_lo, self._k_hi + 1))
        destroy = self._destroy[int(self._rng.integers(len(self._destroy)))]
        repair = self._repair[int(self._rng.integers(len(self._repair)))]
        k = int(destroy(self._inst, sol, k_max, self._removed))
        if not 0 <= k <= self._inst.n:
            raise OperatorError(f"destroy operator returned {k}, outside 0..n")
        repair(self._inst, sol, self._removed, k, self._penalty)
        if np.any(sol.route_of[1:] < 0):
            raise OperatorError("repair operator left customers unassigned")
        if self._local_search:
            local_search(self._inst, sol, self._penalty, self._removed, k, MAX_LS_MOVES)
        return self._nexts(sol, used)

    def _routes(self, nexts: np.ndarray) -> tuple[list[list[int]], list[int]]:
        """The non-empty routes of a next-array, and the vehicle of each."""
        routes, used = [], []
        for v in range(self._vehicles):
            idx = nexts[self._starts[v]]
            route = []
            while not self._is_end[idx]:
                route.append(int(self._node[idx]))
                idx = nexts[idx]
            if route:
                routes.append(route)
                used.append(v)
        return routes, used

    def _nexts(self, sol, used: list[int]) -> np.ndarray:
        """The next-array of ``sol``: row r keeps vehicle ``used[r]``, new rows take free ones.

        Keeping each surviving route on its vehicle keeps the delta (the next-variables that
        change) as small as the move itself, which is what OR-Tools' incremental filters
        expect.
        """
        taken = set(used)
        vehicle_of = used + [v for v in range(self._vehicles) if v not in taken]
        new = np.empty(self._size, dtype=np.int64)
        for v in range(self._vehicles):
            new[self._starts[v]] = self._ends[v]
        for r in range(int(sol.nroutes[0])):
            v = vehicle_of[r]
            prev = self._starts[v]
            for c in sol.routes[r, : int(sol.lengths[r])]:
                idx = int(self._index[c])
                new[prev] = idx
                prev = idx
            new[prev] = self._ends[v]
        return new


def _warm_up(kind: str) -> None:
    """Compile the engine's lazily compiled helpers on a 3-customer instance.

    Otherwise numba compiles them inside the first ``OneNeighbor`` call, on OR-Tools' clock.
    The operators themselves were compiled eagerly against their role signatures.
    """
    from .engine.lns import MAX_LS_MOVES
    from .engine.local_search import local_search
    from .engine.state import from_routes

    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    tiny = RoutingInstance("warm-up", kind, dist, np.array([0.0, 1.0, 1.0, 1.0]), 10.0)
    inst = _engine_inst(tiny, tiny.max_routes)  # 1 for a single-route variant, else 3
    sol = from_routes(inst, [[1, 3, 2]])
    local_search(inst, sol, 1e6, np.zeros(4, dtype=np.int64), 0, MAX_LS_MOVES)


def _engine_inst(instance: RoutingInstance, vehicles: int):
    """The engine's instance record with the fleet capped at the model's vehicles."""
    from .engine.state import make_inst

    capped = replace(instance, max_routes=vehicles)
    return make_inst(capped)


def add_destroy_repair_operator(
    model: OrToolsModel,
    destroy=None,
    repair=None,
    config=None,
    neighbors_per_start: int = 1,
) -> DestroyRepairOperator:
    """Add a :class:`DestroyRepairOperator` to ``model``'s local search (before closing it).

    Keep the returned object alive while OR-Tools searches: the C++ side only holds a
    pointer to it.
    """
    if model.closed:
        raise ValueError("add the operator before the model is closed (before any solve)")
    op = DestroyRepairOperator(model, destroy, repair, config, neighbors_per_start)
    model.routing.AddLocalSearchOperator(op)
    model.operators.append(op)
    return op

