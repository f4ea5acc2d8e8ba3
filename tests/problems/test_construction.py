"""Start solutions: savings on the neighbour lists, its fallbacks, and routes kept within rows."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.problems.engine.config import SAVINGS_MIN_CUSTOMERS, LNSConfig
from ahd.problems.engine.construction import insertion_solution, savings_solution
from ahd.problems.engine.lns import run_lns, seed_numba_rng
from ahd.problems.engine.local_search import local_search
from ahd.problems.engine.sizing import route_width
from ahd.problems.engine.state import make_inst, new_solution, to_routes, total_excess
from ahd.problems.generators import make_instance, ovrp_from, uniform_tsp, x_cvrp
from ahd.problems.verify import verify


def _savings(instance):
    inst = make_inst(instance)
    sol = new_solution(inst)
    ok = savings_solution(inst, sol, int(sol.routes.shape[1]))
    return inst, sol, ok


def _insertion_cost(instance) -> float:
    inst = make_inst(instance)
    sol = new_solution(inst)
    seed_numba_rng(0)
    insertion_solution(inst, sol, 1e9 * float(inst.dist.max()))
    return verify(instance, to_routes(sol))


@pytest.mark.parametrize("make", [lambda: x_cvrp(300, 3), lambda: ovrp_from(x_cvrp(300, 4))])
def test_savings_is_feasible_and_beats_random_insertion(make):
    instance = make()
    inst, sol, ok = _savings(instance)
    assert ok
    routes = to_routes(sol)
    assert sorted(c for r in routes for c in r) == list(range(1, instance.n + 1))
    assert total_excess(inst, sol) == 0.0
    assert verify(instance, routes) < 0.8 * _insertion_cost(instance)


def test_savings_joins_a_tsp_into_one_tour():
    instance = uniform_tsp(200, np.random.default_rng(5))
    inst, sol, ok = _savings(instance)
    assert ok and int(sol.nroutes[0]) == 1
    assert verify(instance, to_routes(sol)) == pytest.approx(float(sol.cost[0]))


def test_savings_reports_a_fleet_limit_it_cannot_meet():
    instance = x_cvrp(100, 2)
    inst = make_inst(instance)._replace(max_routes=np.int64(1))  # far below the demand
    sol = new_solution(inst)
    assert not savings_solution(inst, sol, int(sol.routes.shape[1]))
    assert int(sol.nroutes[0]) == 0


def test_auto_takes_savings_only_on_large_capacitated_instances():
    config = LNSConfig(iterations=1)
    assert not config.uses_savings(SAVINGS_MIN_CUSTOMERS - 1, 100)
    assert config.uses_savings(SAVINGS_MIN_CUSTOMERS, 100)
    assert not config.uses_savings(10**4, 1)  # the TSP keeps insertion
    assert LNSConfig(iterations=1, construction="savings").uses_savings(10, 1)
    with pytest.raises(ValueError, match="construction"):
        LNSConfig(iterations=1, construction="sweep")


def test_a_run_from_savings_starts_at_the_savings_cost():
    instance = x_cvrp(SAVINGS_MIN_CUSTOMERS, 7)
    _, sol, _ = _savings(instance)
    result = run_lns(instance, LNSConfig(iterations=0, seed=0))
    assert result.cost == verify(instance, to_routes(sol))


def test_local_search_never_grows_a_route_past_its_row():
    """With a near-zero capacity penalty, merging routes is almost free: the search must stop
    at the row width of a large instance instead of failing (it used to raise mid-run)."""
    rng = np.random.default_rng(2)
    n = 4000  # 1,616 rows of n + 1 would pass sizing.SOLUTION_CELLS: rows are bounded
    coords = rng.integers(0, 1000, (n + 1, 2)).astype(float)
    demand = np.r_[0.0, rng.integers(1, 4, n)].astype(float)
    instance = make_instance("rows", "cvrp", coords, demand, 10.0, "EUC_2D")
    inst, sol, ok = _savings(instance)
    width = route_width(inst)
    assert ok and width < n + 1
    local_search(inst, sol, 1e-9, np.zeros(1, dtype=np.int64), 0, 1 << 40)
    routes = to_routes(sol)
    assert max(len(r) for r in routes) <= width
    assert max(len(r) for r in routes) > 4 * 10  # overloaded: the penalty really was low
    assert sorted(c for r in routes for c in r) == list(range(1, n + 1))
