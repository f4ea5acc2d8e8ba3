"""The LNS engine: determinism, optimality on tiny instances, limits, contracts, Python mode."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ahd.problems.engine.config import LNSConfig
from ahd.problems.engine.lns import OperatorError, run_lns
from ahd.problems.engine.state import best_insertion, insert_customer, remove_customer
from ahd.problems.generators import uniform_cvrp
from ahd.problems.instance import RoutingInstance
from ahd.problems.problem import problem_names
from ahd.problems.verify import verify


def random_instance(kind, n, seed, capacity=None):
    rng = np.random.default_rng(seed)
    xy = rng.random((n + 1, 2))
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    demand = np.r_[0, rng.integers(1, 10, n)].astype(float)
    cap = capacity if capacity is not None else max(10.0, demand.sum() / 3)
    return RoutingInstance(f"r{n}-{seed}", kind, dist, demand, cap, xy)


def brute_force(inst):
    """Optimal cost by Held-Karp per customer subset, then a set-partition DP."""
    n = inst.n
    d = inst.dist
    full = 1 << n
    # path[mask, j]: cheapest depot -> ... -> j visiting exactly mask (j in mask)
    path = np.full((full, n), np.inf)
    for j in range(n):
        path[1 << j, j] = d[0, j + 1]
    for mask in range(1, full):
        for j in range(n):
            if not mask >> j & 1 or path[mask, j] == np.inf:
                continue
            for k in range(n):
                if mask >> k & 1:
                    continue
                m2 = mask | 1 << k
                c = path[mask, j] + d[j + 1, k + 1]
                if c < path[m2, k]:
                    path[m2, k] = c
    back = 0.0 if inst.open_routes else 1.0
    route = np.full(full, np.inf)
    for mask in range(1, full):
        load = sum(inst.demand[j + 1] for j in range(n) if mask >> j & 1)
        if load <= inst.capacity:
            route[mask] = min(path[mask, j] + back * d[j + 1, 0] for j in range(n) if mask >> j & 1)
    if inst.single_route:
        return route[full - 1]
    best = np.full(full, np.inf)
    best[0] = 0.0
    for mask in range(1, full):
        low = mask & -mask
        rest = mask ^ low
        sub = rest
        while True:
            part = sub | low
            c = route[part] + best[mask ^ part]
            if c < best[mask]:
                best[mask] = c
            if sub == 0:
                break
            sub = (sub - 1) & rest
    return best[full - 1]


@pytest.mark.parametrize("kind", problem_names())
@pytest.mark.parametrize("seed", range(4))
def test_reaches_brute_force_optimum_on_tiny_instances(kind, seed):
    n = 5 + seed
    inst = random_instance(kind, n, seed, capacity=15.0)
    opt = brute_force(inst)
    res = run_lns(inst, LNSConfig(iterations=3000, seed=seed))
    assert res.cost == pytest.approx(verify(inst, res.routes))
    assert res.cost == pytest.approx(opt, rel=1e-9), (res.routes, res.cost, opt)


@pytest.mark.parametrize("kind", problem_names())
def test_deterministic_for_seed_and_iteration_limit(kind):
    inst = random_instance(kind, 60, 7)
    a = run_lns(inst, LNSConfig(iterations=400, seed=3))
    b = run_lns(inst, LNSConfig(iterations=400, seed=3))
    assert a.routes == b.routes and a.cost == b.cost
    assert a.iterations == b.iterations == 400
    assert np.array_equal(a.trace[:, 1:], b.trace[:, 1:])
    for role in ("destroy", "repair"):
        for name, st in a.stats[role].items():
            other = b.stats[role][name]
            assert {k: v for k, v in st.items() if k != "seconds"} == {
                k: v for k, v in other.items() if k != "seconds"
            }


def test_different_seeds_explore_differently():
    inst = random_instance("cvrp", 60, 7)
    runs = {tuple(map(tuple, run_lns(inst, LNSConfig(iterations=50, seed=s)).routes))
            for s in range(4)}
    assert len(runs) > 1


def test_trace_and_statistics_are_consistent():
    inst = random_instance("cvrp", 80, 1)
    res = run_lns(inst, LNSConfig(iterations=500, seed=0))
    costs = res.trace[:, 2]
    assert np.all(np.diff(costs) < 0), "trace records strictly improving best costs"
    assert costs[-1] == pytest.approx(res.cost)
    assert np.all(np.diff(res.trace[:, 0]) >= 0)
    for role in ("destroy", "repair"):
        stats = res.stats[role].values()
        assert sum(s["chosen"] for s in stats) == res.iterations
        assert sum(s["new_best"] for s in stats) == len(costs) - 1
        assert all(s["improved"] <= s["chosen"] and s["accepted"] <= s["chosen"] for s in stats)


def test_time_limit_stops_the_search():
    inst = random_instance("cvrp", 100, 2)
    run_lns(inst, LNSConfig(iterations=5, seed=0))  # compile first
    res = run_lns(inst, LNSConfig(time_limit=1.0, seed=0))
    assert 0.9 <= res.elapsed < 2.0
    assert res.iterations > 10


def test_record_to_record_acceptance_improves_on_start():
    inst = random_instance("cvrp", 80, 3)
    start = run_lns(inst, LNSConfig(iterations=0, seed=0, local_search=False))
    res = run_lns(inst, LNSConfig(iterations=1000, seed=0, acceptance="rrt"))
    assert res.cost < start.cost


def test_starts_from_given_routes_and_never_returns_worse():
    inst = random_instance("cvrp", 50, 4)
    routes = [[c] for c in range(1, 51)]
    res = run_lns(inst, LNSConfig(iterations=1, seed=0), initial_routes=routes)
    assert res.cost <= verify(inst, routes)


def _remove_two(inst, sol, n_remove, removed):
    k = 0
    for c in range(1, inst.n + 1):
        if k < min(2, n_remove) and sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k


def _forget_to_insert(inst, sol, removed, k, penalty):
    for i in range(k - 1):
        c = removed[i]
        r, p, _ = best_insertion(inst, sol, c, penalty)
        insert_customer(inst, sol, c, r, p)


def _insert_all(inst, sol, removed, k, penalty):
    for i in range(k):
        c = removed[i]
        r, p, _ = best_insertion(inst, sol, c, penalty)
        insert_customer(inst, sol, c, r, p)


def _lying_destroy(inst, sol, n_remove, removed):
    return inst.n + 5


def test_repair_that_loses_customers_is_an_operator_error():
    inst = random_instance("cvrp", 20, 0)
    with pytest.raises(OperatorError, match="_forget_to_insert.*unassigned"):
        run_lns(inst, LNSConfig(iterations=10), [_remove_two], [_forget_to_insert])


def test_destroy_with_bad_count_is_an_operator_error():
    inst = random_instance("cvrp", 20, 0)
    with pytest.raises(OperatorError, match="_lying_destroy"):
        run_lns(inst, LNSConfig(iterations=10), [_lying_destroy], [_insert_all])


def _python_only_destroy(inst, sol, n_remove, removed):
    chosen = {int(c) for c in np.random.permutation(inst.n)[:n_remove] + 1}  # noqa: NPY002
    k = 0
    for c in sorted(chosen):
        remove_customer(inst, sol, c)
        removed[k] = c
        k += 1
    return k


def test_operator_numba_cannot_compile_runs_in_python_mode():
    inst = random_instance("cvrp", 30, 5)
    res = run_lns(inst, LNSConfig(iterations=200, seed=1), [_python_only_destroy], [_insert_all])
    assert res.python_mode
    assert "destroy:_python_only_destroy" in res.compile_errors
    assert res.cost == pytest.approx(verify(inst, res.routes))
    compiled = run_lns(inst, LNSConfig(iterations=200, seed=1), [_remove_two], [_insert_all])
    assert not compiled.python_mode and not compiled.compile_errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"time_limit": -1},
        {"iterations": -2},
        {"iterations": 5, "acceptance": "greedy"},
        {"iterations": 5, "min_remove": 0},
        {"iterations": 5, "start_temp": 0.1, "end_temp": 1.0},
        {"iterations": 5, "max_remove_fraction": 1.5},
    ],
)
def test_config_rejects_bad_values(kwargs):
    with pytest.raises(ValueError):
        LNSConfig(**kwargs)


def test_capacity_penalty_search_returns_feasible_solution_on_tight_instance():
    rng = np.random.default_rng(11)
    n = 40
    xy = rng.random((n + 1, 2))
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    demand = np.r_[0, rng.integers(20, 60, n)].astype(float)
    inst = RoutingInstance("tight", "cvrp", dist, demand, 100.0, xy)
    start = run_lns(inst, LNSConfig(iterations=0, seed=0))
    res = run_lns(inst, LNSConfig(iterations=1500, seed=0))
    assert res.cost == pytest.approx(verify(inst, res.routes))
    assert res.cost < start.cost
    assert len(res.routes) >= np.ceil(demand.sum() / 100.0)


_PLAIN_PYTHON_RUN = """
import json
from ahd.problems.engine.lns import LNSConfig, run_lns
from ahd.problems.generators import uniform_cvrp
res = run_lns(uniform_cvrp(25, 2), LNSConfig(iterations=40, seed=3))
print(json.dumps([res.routes, res.python_mode]))
"""


def test_the_whole_engine_runs_as_plain_python_with_the_same_result():
    """``NUMBA_DISABLE_JIT=1`` (debugging, and the Python column of benchmarks/lns_speed.py)
    runs every kernel, local search included, as Python, and takes the same decisions."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    out = subprocess.run([sys.executable, "-c", _PLAIN_PYTHON_RUN], env=env, text=True,
                         capture_output=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    routes, python_mode = json.loads(out.stdout.strip().splitlines()[-1])
    assert python_mode
    compiled = run_lns(uniform_cvrp(25, 2), LNSConfig(iterations=40, seed=3))
    assert not compiled.python_mode and routes == compiled.routes
