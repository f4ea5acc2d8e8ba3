"""OR-Tools ``RoutingModel`` of a :class:`RoutingInstance`, and solutions in both directions.

The model has the distances of the instance, so a route plan means the same thing on both
sides and the pipelines of :mod:`ahd.problems.pipelines` can pass solutions back and forth:

* Integer data. OR-Tools needs integer arc costs, demands and capacities; how an instance
  becomes integers (exactly for integer matrices, scaled by :func:`cost_scale` otherwise, OVRP
  returns free) is :mod:`ahd.problems.ortools_costs`'s job. Every caller compares verified
  float costs, never model objectives, because a scaled objective is rounded.
* The variant (:class:`~ahd.problems.problem.RoutingProblem`) decides the rest: a
  single-route variant (TSP) has one vehicle, the others :func:`fleet_size` vehicles (a
  bin-packing lower bound plus slack; an unused vehicle costs nothing); a capacitated variant
  gets a load dimension; open routes are free return arcs; and the variant's
  ``ortools_constraints`` add whatever else it needs. A warm start needs at least as many
  vehicles as the start has routes, so :func:`build_model` takes a minimum.
* Routes: ours are lists of customer ids ``1..n`` (depot implicit). OR-Tools talks about
  variable *indices* (the manager maps nodes to indices; each vehicle has its own start and
  end index). :meth:`OrToolsModel.to_index_routes` and :meth:`OrToolsModel.routes_of` convert.

:class:`DestroyRepairOperator` (:mod:`ahd.problems.ortools_operator`) runs a destroy/repair
pair of the engine as a local-search operator inside OR-Tools' own search (see its docstring
for what that can and cannot do). The integer-data functions and the operator stay
importable from this module.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .instance import RoutingInstance
from .ortools_costs import (
    COST_DIGITS,
    MAX_ARC,
    MAX_LOAD_EXP,
    MAX_SCALE_EXP,
    cost_scale,
    fleet_size,
    integer_costs,
    integer_loads,
)
from .ortools_operator import DestroyRepairOperator, add_destroy_repair_operator
from .verify import verify

__all__ = [
    "COST_DIGITS", "FIRST_SOLUTION", "MAX_ARC", "MAX_LOAD_EXP", "MAX_SCALE_EXP", "METAHEURISTIC",
    "MIN_SEARCH_S", "DestroyRepairOperator", "OrToolsModel", "OrToolsResult",
    "add_destroy_repair_operator", "build_model", "cost_scale", "default_parameters",
    "fleet_size", "integer_costs", "integer_loads", "search_parameters", "solve",
    "solve_instance",
]

#: Least search time OR-Tools is given however little of a budget is left.
MIN_SEARCH_S = 0.1

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
        return arcs 0 with open routes).
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
    variant = instance.variant
    if variant.capacitated:
        dem, cap = integer_loads(instance)
        demand_cb = routing.RegisterUnaryTransitVector(dem)
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [cap] * n_veh, True, "load")
    model = OrToolsModel(instance, manager, routing, mat, scale, n_veh)
    for add_constraints in variant.ortools_constraints:
        add_constraints(model)
    return model


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
