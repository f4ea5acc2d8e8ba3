"""The OR-Tools model of a routing instance: integer costs, conversions both ways, operator."""

import numpy as np
import pytest

from ahd.problems import ortools_model as om
from ahd.problems.generators import (
    make_instance,
    ovrp_from,
    uniform_cvrp,
    uniform_ovrp,
    uniform_tsp,
    x_cvrp,
)
from ahd.problems.instance import RoutingInstance
from ahd.problems.verify import verify


def fill_routes(inst: RoutingInstance, seed: int) -> list[list[int]]:
    """A feasible plan without the engine: customers in random order, a new route when full."""
    order = np.random.default_rng(seed).permutation(np.arange(1, inst.n + 1))
    routes, route, load = [], [], 0.0
    for c in order:
        if route and load + inst.demand[c] > inst.capacity:
            routes.append(route)
            route, load = [], 0.0
        route.append(int(c))
        load += inst.demand[c]
    return [*routes, route]


INSTANCES = {
    "x-cvrp": lambda: x_cvrp(40, np.random.default_rng(0)),
    "uniform-cvrp": lambda: uniform_cvrp(30, 1),
    "tsp": lambda: uniform_tsp(25, 2),
    "ovrp": lambda: uniform_ovrp(30, 3),
    "x-ovrp": lambda: ovrp_from(x_cvrp(30, np.random.default_rng(4))),
}


@pytest.mark.parametrize("kind", sorted(INSTANCES))
def test_routes_round_trip_through_an_assignment(kind):
    inst = INSTANCES[kind]()
    routes = fill_routes(inst, 0)
    model = om.build_model(inst, min_vehicles=len(routes))
    assignment = model.assignment_of(routes)
    back = model.routes_of(assignment)
    assert back == routes
    assert verify(inst, back) == pytest.approx(verify(inst, routes), abs=0)
    assert assignment.ObjectiveValue() == model.model_cost(routes)


@pytest.mark.parametrize("kind", ["x-cvrp", "x-ovrp"])
def test_integer_instances_keep_exact_costs(kind):
    inst = INSTANCES[kind]()
    routes = fill_routes(inst, 1)
    model = om.build_model(inst, min_vehicles=len(routes))
    assert model.scale == 1.0
    assert model.model_cost(routes) == verify(inst, routes)  # open routes: free return
    assert model.assignment_of(routes).ObjectiveValue() == verify(inst, routes)


@pytest.mark.parametrize("kind", ["uniform-cvrp", "tsp", "ovrp"])
def test_float_instances_are_scaled_with_bounded_rounding(kind):
    inst = INSTANCES[kind]()
    routes = fill_routes(inst, 2)
    model = om.build_model(inst, min_vehicles=len(routes))
    assert model.scale == 1e5  # unit square: longest arc < 10, six significant digits
    objective = model.assignment_of(routes).ObjectiveValue()
    arcs = inst.n + len(routes)
    assert abs(objective / model.scale - verify(inst, routes)) <= arcs * 0.5 / model.scale


def test_cost_scale_follows_the_magnitude_of_the_arcs():
    base = uniform_cvrp(10, 5)
    big = RoutingInstance("big", "cvrp", base.dist * 1000, base.demand, base.capacity)
    assert om.cost_scale(base) == 1e5
    assert om.cost_scale(big) == 1e2
    assert om.cost_scale(x_cvrp(10, np.random.default_rng(0))) == 1.0


def test_fractional_demands_are_scaled_with_the_capacity():
    inst = RoutingInstance(
        "frac", "cvrp", np.ones((3, 3)) - np.eye(3), np.array([0.0, 0.25, 1.5]), 2.0
    )
    assert om.integer_loads(inst) == ([0, 25, 150], 200)


def test_fleet_covers_the_bin_packing_bound_and_a_warm_start():
    inst = x_cvrp(40, np.random.default_rng(0))
    lb = int(np.ceil(inst.demand.sum() / inst.capacity))
    assert om.fleet_size(inst) >= lb + 6
    assert om.fleet_size(inst, minimum=lb + 20) == min(lb + 20, inst.n)
    assert om.fleet_size(uniform_tsp(10, 0)) == 1


def test_fleet_size_covers_large_demands_the_volume_bound_misses():
    """Demands of 0.6 Q fit one to a vehicle: 80 customers need 80 vehicles, while the volume
    bound is 48 (X-n524-k153's case, where the old fleet left PyVRP without a feasible run)."""
    rng = np.random.default_rng(0)
    coords = rng.uniform(0, 1, (81, 2))
    demand = np.r_[0.0, np.full(80, 6.0)]
    inst = make_instance("big-items", "cvrp", coords, demand, 10.0)
    assert om.fleet_size(inst) == 80


def test_routes_over_capacity_are_rejected():
    inst = INSTANCES["x-cvrp"]()
    model = om.build_model(inst)
    with pytest.raises(ValueError, match="rejected"):
        model.assignment_of([list(range(1, inst.n + 1))])


def test_solve_from_a_start_returns_a_verified_solution_no_worse_in_the_model():
    inst = INSTANCES["uniform-cvrp"]()
    start = fill_routes(inst, 3)
    model = om.build_model(inst, min_vehicles=len(start))
    res = om.solve(model, om.search_parameters(0.5), start=start)
    assert res.cost == verify(inst, res.routes)
    assert res.objective <= model.model_cost(start)
    assert res.objective == model.model_cost(res.routes)


def test_unknown_strategy_names_are_errors():
    with pytest.raises(ValueError, match="first solution strategy"):
        om.search_parameters(1.0, first_solution="cleverest")


@pytest.mark.slow
def test_destroy_repair_operator_runs_inside_the_ortools_search():
    inst = x_cvrp(50, np.random.default_rng(6))
    model = om.build_model(inst)
    op = om.add_destroy_repair_operator(model, ["random_removal"], ["greedy_repair"])
    res = om.solve(model, om.search_parameters(1.0))
    assert op.proposed > 0
    assert res.cost == verify(inst, res.routes)
    with pytest.raises(ValueError, match="before the model is closed"):
        om.add_destroy_repair_operator(model)
