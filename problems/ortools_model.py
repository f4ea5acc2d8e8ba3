"""OR-Tools ``RoutingModel`` of a :class:`RoutingInstance`, and solutions in both directions.

The model has the distances of the instance, so a route plan means the same thing on both
sides and the pipelines of :mod:`ahd.problems.pipelines` can pass solutions back and forth:

* Arc costs. OR-Tools needs integer arc costs. An integer-valued matrix (CVRPLIB X, TSPLIB) is
  used exactly as it is (``scale == 1``), so the model's objective *is* the verified cost. A
  float matrix (unit-square instances) is multiplied by ``scale = 10**k`` and rounded, with
  ``k`` chosen from the instance so that its longest arc keeps :data:`COST_DIGITS` significant
  digits (``k = COST_DIGITS - ceil(log10(max arc))``, clipped to ``0..MAX_SCALE_EXP``; a
  unit-square instance gets ``10**5``). OR-Tools then optimises the rounded objective: two
  plans whose float costs differ by less than about ``n / scale`` may be ranked the other way
  round, which is why every caller compares verified float costs, never model objectives.
* OVRP: arcs into the depot cost 0 in the model (a free return), the same encoding the engine
  uses (``state.make_inst``), so closed OR-Tools routes optimise the open-route objective.
* Fleet: TSP has one vehicle. CVRP and OVRP get :func:`fleet_size` vehicles (a bin-packing
  lower bound plus slack) with a capacity dimension; an unused vehicle costs nothing.
  A warm start needs at least as many vehicles as the start has routes, so
  :func:`build_model` takes a minimum.
* Routes: ours are lists of customer ids ``1..n`` (depot implicit). OR-Tools talks about
  variable *indices* (the manager maps nodes to indices; each vehicle has its own start and
  end index). :meth:`OrToolsModel.to_index_routes` and :meth:`OrToolsModel.routes_of` convert.

:class:`DestroyRepairOperator` runs a destroy/repair pair of the engine as a local-search
operator inside OR-Tools' own search (see its docstring for what that can and cannot do).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .instance import RoutingInstance
from .verify import verify

#: Significant digits the longest arc keeps when a float matrix is scaled to integers.
COST_DIGITS = 6
#: Largest power of ten a float matrix is scaled by (tiny distances would otherwise overflow).
MAX_SCALE_EXP = 12
#: Arc costs above this cannot be summed over a route plan safely in int64 (OR-Tools adds
#: guided-local-search penalties on top of the objective), so larger matrices are refused.
MAX_ARC = 2**40
#: Least search time OR-Tools is given however little of a budget is left.
MIN_SEARCH_S = 0.1
#: Demands/capacity that are not integers are scaled by at most 10**this to become integers.
MAX_LOAD_EXP = 6

FIRST_SOLUTION = {
    name.lower(): value
    for name, value in routing_enums_pb2.FirstSolutionStrategy.Value.items()
    if name != "UNSET"
}
METAHEURISTIC = {
    name.lower(): value
    for name, value in routing_enums_pb2.LocalSearchMetaheuristic.Value.items()
    if name != "UNSET"
}


# --------------------------------------------------------------------------- integer data


def cost_scale(instance: RoutingInstance) -> float:
    """The factor arc costs are multiplied by before rounding; 1 for integer matrices.

    Choosing the power of ten from the longest arc keeps the relative precision the same for
    unit-square and kilometre-scale float instances (see the module docstring).
    """
    d = instance.dist
    if np.array_equal(d, np.round(d)):
        return 1.0
    top = float(np.max(np.abs(d)))
    exp = COST_DIGITS - math.ceil(math.log10(top)) if top > 0 else COST_DIGITS
    return float(10 ** min(max(exp, 0), MAX_SCALE_EXP))


def integer_costs(instance: RoutingInstance) -> tuple[np.ndarray, float]:
    """The integer arc-cost matrix of the model and its :func:`cost_scale`.

    For OVRP the arcs into the depot cost 0. Raises ``ValueError`` for costs OR-Tools cannot
    represent (negative, not finite, or too large to sum safely).
    """
    d = instance.dist
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        raise ValueError(f"{instance.name}: OR-Tools needs finite non-negative distances")
    scale = cost_scale(instance)
    mat = np.rint(d * scale)
    if mat.max() > MAX_ARC:
        raise ValueError(f"{instance.name}: arc costs up to {mat.max():g} are too large")
    mat = mat.astype(np.int64)
    if instance.open_routes:
        mat[:, 0] = 0
    return mat, scale


def integer_loads(instance: RoutingInstance) -> tuple[list[int], int]:
    """Integer demands and capacity (scaled by the smallest power of ten that makes them so).

    Scaling both by the same factor leaves every capacity constraint unchanged. Raises
    ``ValueError`` when no factor up to ``10**MAX_LOAD_EXP`` makes them integral.
    """
    values = np.append(instance.demand, instance.capacity)
    for exp in range(MAX_LOAD_EXP + 1):
        scaled = values * 10**exp
        if np.allclose(scaled, np.round(scaled), rtol=0, atol=1e-9 * 10**exp):
            ints = [int(round(x)) for x in scaled]
            return ints[:-1], ints[-1]
    raise ValueError(f"{instance.name}: demands/capacity have more than {MAX_LOAD_EXP} decimals")


def fleet_size(instance: RoutingInstance, minimum: int = 0) -> int:
    """Vehicles offered to a fixed-fleet solver.

    The bin-packing bound ``lb = ceil(sum(demand) / capacity)`` plus ``max(6, ceil(0.1 lb))``
    slack vehicles, at least ``minimum`` (the route count of a warm start), capped by
    ``instance.max_routes`` and ``n``. CVRPLIB X best-known solutions use up to k + 6 routes
    (k, from the name, is at least ``lb``); unused vehicles cost nothing, and too tight a
    fleet makes OR-Tools' first-solution heuristic fail on instances whose demand nearly fills
    the fleet (X-n1001: 98.6%). TSP: one vehicle.
    """
    if instance.kind == "tsp":
        return 1
    lb = math.ceil(float(instance.demand.sum()) / instance.capacity - 1e-9)
    k = max(lb + max(6, math.ceil(0.1 * lb)), minimum)
    return max(1, min(k, instance.max_routes, instance.n))


# --------------------------------------------------------------------------- the model


@dataclass(eq=False)
class OrToolsModel:
    """A built (not yet closed) OR-Tools routing model of ``instance``.

    Attributes
    ----------
    instance
        The instance the model was built from.
    manager, routing
        OR-Tools' index manager and routing model.
    matrix
        The integer arc costs the model optimises (``scale`` times the distances, rounded;
        OVRP return arcs 0).
    scale
        See :func:`cost_scale`; model objective / scale approximates the float cost.
    vehicles
        Fleet size of the model.
    closed
        Whether the model has been closed (its search parameters fixed).
    operators
        Python local-search operators added to the model, kept alive here because OR-Tools
        holds only pointers to them.
    """

    instance: RoutingInstance
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    matrix: np.ndarray
    scale: float
    vehicles: int
    closed: bool = False
    operators: list = field(default_factory=list)

    def close(self, params) -> None:
        """Close the model with ``params`` (once); later solves must use compatible params.

        ``ReadAssignmentFromRoutes`` closes the model with *default* parameters when it is
        still open, so a warm start closes it with the real ones first.
        """
        if not self.closed:
            self.routing.CloseModelWithParameters(params)
            self.closed = True

    def to_index_routes(self, routes: Sequence[Sequence[int]]) -> list[list[int]]:
        """Our routes as OR-Tools index lists, one per vehicle (empty ones padded)."""
        plain = [list(r) for r in routes if len(r)]
        if len(plain) > self.vehicles:
            raise ValueError(f"{len(plain)} routes but the model has {self.vehicles} vehicles")
        out = [[self.manager.NodeToIndex(int(c)) for c in r] for r in plain]
        return out + [[] for _ in range(self.vehicles - len(out))]

    def assignment_of(self, routes: Sequence[Sequence[int]], params=None):
        """An OR-Tools assignment holding ``routes`` (closes the model if still open).

        Raises ``ValueError`` when OR-Tools rejects the routes (e.g. over capacity).
        """
        self.close(params or default_parameters())
        assignment = self.routing.ReadAssignmentFromRoutes(self.to_index_routes(routes), True)
        if assignment is None:
            raise ValueError(f"{self.instance.name}: OR-Tools rejected the routes")
        return assignment

    def routes_of(self, assignment) -> list[list[int]]:
        """Our routes (non-empty vehicles, customer ids) from an OR-Tools assignment."""
        routes = []
        for v in range(self.vehicles):
            idx = self.routing.Start(v)
            route = []
            while not self.routing.IsEnd(idx):
                node = self.manager.IndexToNode(idx)
                if node != 0:
                    route.append(int(node))
                idx = assignment.Value(self.routing.NextVar(idx))
            if route:
                routes.append(route)
        return routes

    def model_cost(self, routes: Sequence[Sequence[int]]) -> int:
        """The model's objective of ``routes``: the sum of their integer arc costs."""
        total = 0
        for r in routes:
            if len(r):
                nodes = np.array([0, *r, 0], dtype=np.int64)
                total += int(self.matrix[nodes[:-1], nodes[1:]].sum())
        return total


def build_model(instance: RoutingInstance, min_vehicles: int = 0) -> OrToolsModel:
    """Build the routing model of ``instance`` (see the module docstring for the encoding).

    Parameters
    ----------
    min_vehicles
        At least this many vehicles (the route count of a solution to start from).
    """
    mat, scale = integer_costs(instance)
    n_veh = fleet_size(instance, min_vehicles)
    if n_veh < min_vehicles:
        raise ValueError(f"{instance.name}: {min_vehicles} routes exceed the fleet of {n_veh}")
    manager = pywrapcp.RoutingIndexManager(instance.n + 1, n_veh, 0)
    routing = pywrapcp.RoutingModel(manager)
    transit = routing.RegisterTransitMatrix(mat.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(transit)
    if instance.kind != "tsp":
        dem, cap = integer_loads(instance)
        demand_cb = routing.RegisterUnaryTransitVector(dem)
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [cap] * n_veh, True, "load")
    return OrToolsModel(instance, manager, routing, mat, scale, n_veh)


# --------------------------------------------------------------------------- search


def default_parameters():
    """OR-Tools' default routing search parameters (AUTOMATIC strategies, no time limit)."""
    return pywrapcp.DefaultRoutingSearchParameters()


def search_parameters(
    time_limit: float | None,
    first_solution: str = "path_cheapest_arc",
    metaheuristic: str = "guided_local_search",
    solution_limit: int | None = None,
):
    """Routing search parameters by name (``FIRST_SOLUTION`` / ``METAHEURISTIC`` keys).

    The defaults are the classic OR-Tools CVRP recipe: PATH_CHEAPEST_ARC, then guided local
    search until ``time_limit`` seconds. Raises ``ValueError`` for an unknown name.
    """
    params = default_parameters()
    for value, table, what in (
        (first_solution, FIRST_SOLUTION, "first solution strategy"),
        (metaheuristic, METAHEURISTIC, "metaheuristic"),
    ):
        if value.lower() not in table:
            raise ValueError(f"unknown {what} {value!r}; choose one of {sorted(table)}")
    params.first_solution_strategy = FIRST_SOLUTION[first_solution.lower()]
    params.local_search_metaheuristic = METAHEURISTIC[metaheuristic.lower()]
    if time_limit is not None:
        params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    if solution_limit is not None:
        params.solution_limit = int(solution_limit)
    return params


@dataclass
class OrToolsResult:
    """A solution found by OR-Tools: routes, verified float cost, model objective, seconds."""

    routes: list[list[int]]
    cost: float
    objective: int
    seconds: float


def solve(
    model: OrToolsModel, params, start: Sequence[Sequence[int]] | None = None
) -> OrToolsResult | None:
    """Solve ``model``, from the routes ``start`` when given; ``None`` if nothing was found.

    With a start, OR-Tools begins its local search from that solution
    (``ReadAssignmentFromRoutes`` + ``SolveFromAssignmentWithParameters``) instead of building
    a first solution. The returned cost is recomputed by the trusted verifier.
    """
    t0 = time.perf_counter()
    model.close(params)
    if start is not None:
        assignment = model.assignment_of(start)
        solution = model.routing.SolveFromAssignmentWithParameters(assignment, params)
    else:
        solution = model.routing.SolveWithParameters(params)
    if solution is None:
        return None
    routes = model.routes_of(solution)
    return OrToolsResult(
        routes=routes,
        cost=verify(model.instance, routes),
        objective=int(solution.ObjectiveValue()),
        seconds=time.perf_counter() - t0,
    )


def solve_instance(
    instance: RoutingInstance,
    time_limit: float,
    first_solution: str = "path_cheapest_arc",
    metaheuristic: str = "guided_local_search",
) -> OrToolsResult:
    """OR-Tools alone on ``instance`` for ``time_limit`` wall seconds, model building included.

    Raises ``RuntimeError`` when no solution is found within the limit.
    """
    t0 = time.perf_counter()
    model = build_model(instance)
    remaining = max(MIN_SEARCH_S, time_limit - (time.perf_counter() - t0))
    result = solve(model, search_parameters(remaining, first_solution, metaheuristic))
    if result is None:
        raise RuntimeError(
            f"OR-Tools found no solution for {instance.name} ({model.vehicles} vehicles)"
        )
    result.seconds = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- LNS operator


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
    inst = _engine_inst(tiny, 1 if kind == "tsp" else 3)
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

