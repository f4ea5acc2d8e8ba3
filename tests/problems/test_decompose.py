"""Route-based decomposition: exact sub-instances, nearby routes, and a run that only improves."""

from __future__ import annotations

import numpy as np
import pytest
from large_instances import belgium_like

from ahd.problems.engine.config import DECOMPOSE_MIN_CUSTOMERS, LNSConfig
from ahd.problems.engine.decompose import pick_routes, sub_instance
from ahd.problems.engine.lns import run_lns
from ahd.problems.generators import ovrp_from, uniform_tsp, x_cvrp
from ahd.problems.verify import verify


@pytest.mark.parametrize("distances", ["matrix", "coords"])
def test_a_sub_instance_keeps_the_distances_of_its_customers(distances):
    inst = belgium_like(300, 1, distances=distances)
    customers = np.array([17, 3, 250, 99], dtype=np.int64)
    sub = sub_instance(inst, customers, 4)
    full = np.r_[0, customers]
    a, b = np.meshgrid(np.arange(5), np.arange(5))
    assert np.array_equal(sub.arc_costs(a.ravel(), b.ravel()),
                          inst.arc_costs(full[a.ravel()], full[b.ravel()]))
    assert np.array_equal(sub.demand, inst.demand[full]) and sub.max_routes == 4


def test_pick_routes_takes_the_nearest_routes_until_the_size():
    centroids = np.array([[0.0, 0.0], [10.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    routes = [[1, 2], [3, 4], [5, 6, 7], [8]]
    picked = pick_routes(routes, centroids, 5, np.random.default_rng(0))
    assert sum(len(routes[r]) for r in picked) >= 5
    first = picked[0]
    rest = sorted(set(range(4)) - {first},
                  key=lambda r: np.hypot(*(centroids[r] - centroids[first])))
    assert picked[1:] == rest[:len(picked) - 1]


@pytest.mark.parametrize("make", [lambda: belgium_like(1200, 2), lambda: ovrp_from(x_cvrp(600, 3))])
def test_a_decomposed_run_only_improves_and_stays_feasible(make):
    inst = make()
    config = LNSConfig(time_limit=2, seed=1, decompose="on", sub_customers=250,
                       sub_seconds=0.4, sub_iterations=300)  # whichever its schedule uses
    result = run_lns(inst, config)
    assert sorted(c for r in result.routes for c in r) == list(range(1, inst.n + 1))
    assert result.cost == verify(inst, result.routes)
    costs = result.trace[:, 2]
    assert np.all(np.diff(costs) < 0) and result.cost == costs[-1]
    assert result.iterations > 0 and 1.5 < result.elapsed < 3.5
    assert sum(s["chosen"] for s in result.destroy_stats.values()) == result.iterations


def test_decomposition_applies_to_large_timed_runs_with_coordinates():
    auto = LNSConfig(time_limit=10)
    assert auto.uses_decomposition(DECOMPOSE_MIN_CUSTOMERS, True)
    assert not auto.uses_decomposition(DECOMPOSE_MIN_CUSTOMERS - 1, True)
    assert not auto.uses_decomposition(10**5, False)  # no coordinates to find neighbours by
    assert not LNSConfig(iterations=10).uses_decomposition(10**5, True)  # no time to divide
    assert LNSConfig(time_limit=1, decompose="on").uses_decomposition(10, True)
    with pytest.raises(ValueError, match="decompose"):
        LNSConfig(time_limit=1, decompose="always")
    with pytest.raises(ValueError, match="sub_customers"):
        LNSConfig(time_limit=1, sub_customers=1)


def test_a_tsp_tour_is_never_cut_into_sub_problems():
    inst = uniform_tsp(60, np.random.default_rng(4))
    result = run_lns(inst, LNSConfig(time_limit=0.5, seed=0, decompose="on"))
    assert result.pair_stats is not None  # the whole-instance loop ran, not the sub-problems
    assert len(result.routes) == 1 and result.cost == verify(inst, result.routes)
