"""Granular local search: monotone, consistent, locally optimal (brute force on tiny cases)."""

from __future__ import annotations

import numpy as np
import pytest

from ahd.problems.engine import state as S
from ahd.problems.engine.local_search import improve_all, local_search
from ahd.problems.instance import RoutingInstance
from ahd.problems.problem import get_problem, problem_names

NO_SEEDS = np.zeros(1, dtype=np.int64)
#: The variants whose routes carry loads: capacity and penalties matter.
CAPACITATED = [name for name in problem_names() if get_problem(name).capacitated]
BIG = 200_000  # far above what these sizes need; a wrong delta would cycle forever


def random_instance(n, kind="cvrp", seed=0, capacity=50.0, asymmetric=False):
    rng = np.random.default_rng(seed)
    xy = rng.random((n + 1, 2)) * 100.0
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    if asymmetric:  # not a kind we ship, but every delta must stay exact in travel direction
        dist = dist + rng.random(dist.shape) * 30.0
        np.fill_diagonal(dist, 0.0)
    demand = np.r_[0.0, rng.integers(1, 10, n)].astype(np.float64)
    if not get_problem(kind).capacitated:
        demand[:] = 0.0
    return S.make_inst(RoutingInstance(f"rand{n}", kind, dist, demand, capacity))


def random_routes(inst, rng, route_len=None):
    n = int(inst.n)
    perm = [int(x) for x in rng.permutation(np.arange(1, n + 1))]
    if int(inst.max_routes) == 1:
        return [perm]
    if route_len is None:
        route_len = int(rng.integers(1, max(2, n // 2) + 1))
    return [perm[i : i + route_len] for i in range(0, n, route_len)]


def objective(inst, sol, penalty):
    return S.total_cost(sol) + penalty * S.total_excess(inst, sol)


def routes_objective(inst, routes, penalty):
    d = inst.dist
    total = 0.0
    for route in routes:
        if not route:
            continue
        path = [0, *route, 0]
        total += sum(d[a, b] for a, b in zip(path[:-1], path[1:], strict=True))
        total += penalty * max(0.0, sum(inst.demand[c] for c in route) - inst.capacity)
    return total


def check_consistent(inst, sol):
    n = int(inst.n)
    seen = np.zeros(n + 1, dtype=np.int64)
    k = int(sol.nroutes[0])
    assert k <= inst.max_routes
    for r in range(k):
        ln = int(sol.lengths[r])
        route = sol.routes[r, :ln]
        load = 0.0
        for i, c in enumerate(route):
            assert 1 <= c <= n
            seen[c] += 1
            assert sol.route_of[c] == r and sol.pos[c] == i
            load += inst.demand[c]
        assert sol.load[r] == pytest.approx(load, abs=1e-9)
        assert sol.cost[r] == pytest.approx(S.route_cost(inst, sol, r), rel=1e-12, abs=1e-9)
    assert np.all(seen[1:] == 1), "every customer exactly once"


def run_checked(inst, sol, penalty, seeds=NO_SEEDS, n_seeds=0):
    """Run move by move: every applied move must strictly lower the penalised objective."""
    before = objective(inst, sol, penalty)
    total = 0
    while True:
        m = local_search(inst, sol, penalty, seeds, n_seeds, 1)
        after = objective(inst, sol, penalty)
        check_consistent(inst, sol)
        if m == 0:
            assert after == before
            return total
        assert after < before - 1e-12, "an applied move must improve"
        before = after
        total += m


@pytest.mark.parametrize("kind", problem_names())
@pytest.mark.parametrize("n", [10, 37, 120, 300])
def test_descent_consistent_and_locally_optimal(kind, n):
    inst = random_instance(n, kind, seed=n)
    rng = np.random.default_rng(n + 1)
    for penalty in (0.0, 7.5, 1e6):
        sol = S.from_routes(inst, random_routes(inst, rng, route_len=6))
        before = objective(inst, sol, penalty)
        moves = local_search(inst, sol, penalty, NO_SEEDS, 0, BIG)
        after = objective(inst, sol, penalty)
        assert moves > 0 and after < before
        check_consistent(inst, sol)
        assert after == pytest.approx(routes_objective(inst, S.to_routes(sol), penalty))
        if get_problem(kind).single_route:
            assert len(S.to_routes(sol)) == 1
        assert local_search(inst, sol, penalty, NO_SEEDS, 0, BIG) == 0, "not a local optimum"


@pytest.mark.parametrize("asym", [False, True])
@pytest.mark.parametrize("kind", problem_names())
def test_every_move_improves(kind, asym):
    for seed in range(3):
        inst = random_instance(25, kind, seed=100 + seed, asymmetric=asym)
        rng = np.random.default_rng(seed)
        sol = S.from_routes(inst, random_routes(inst, rng))
        assert run_checked(inst, sol, 3.0) > 0


@pytest.mark.parametrize("kind", CAPACITATED)
def test_huge_penalty_keeps_feasible(kind):
    inst = random_instance(150, kind, seed=7)
    rng = np.random.default_rng(7)
    # feasible start: random routes of at most 5 customers (demand <= 9, capacity 50)
    sol = S.from_routes(inst, random_routes(inst, rng, route_len=5))
    assert S.total_excess(inst, sol) == 0.0
    local_search(inst, sol, 1e9, NO_SEEDS, 0, BIG)
    assert S.total_excess(inst, sol) == 0.0
    check_consistent(inst, sol)


def test_fleet_limit_and_empty_routes():
    inst = random_instance(60, "cvrp", seed=3)
    inst = inst._replace(max_routes=np.int64(12))
    rng = np.random.default_rng(3)
    routes = random_routes(inst, rng, route_len=6)
    sol = S.from_routes(inst, routes)
    local_search(inst, sol, 50.0, NO_SEEDS, 0, BIG)
    check_consistent(inst, sol)
    assert sol.nroutes[0] <= 12
    for r in range(int(sol.nroutes[0])):  # emptied rows are left for the engine to compact
        if sol.lengths[r] == 0:
            assert sol.load[r] == 0.0 and sol.cost[r] == 0.0


def test_seeds_repair_then_search():
    inst = random_instance(200, "cvrp", seed=11)
    rng = np.random.default_rng(11)
    sol = S.from_routes(inst, random_routes(inst, rng, route_len=5))
    local_search(inst, sol, 100.0, NO_SEEDS, 0, BIG)
    removed = rng.choice(np.arange(1, 201), size=20, replace=False).astype(np.int64)
    for c in removed:
        S.remove_customer(inst, sol, int(c))
    for c in removed:
        r, p, _ = S.best_insertion(inst, sol, int(c), 100.0)
        S.insert_customer(inst, sol, int(c), r, p)
    before = objective(inst, sol, 100.0)
    seeds = np.zeros(50, dtype=np.int64)
    seeds[:20] = removed
    local_search(inst, sol, 100.0, seeds, 20, BIG)
    assert objective(inst, sol, 100.0) <= before
    check_consistent(inst, sol)
    # seeded search is cheaper but a full pass may still find a little more; then it is done
    local_search(inst, sol, 100.0, NO_SEEDS, 0, BIG)
    assert local_search(inst, sol, 100.0, NO_SEEDS, 0, BIG) == 0
    improve_all(inst, sol, 100.0)
    check_consistent(inst, sol)


def test_max_moves_and_granularity():
    inst = random_instance(80, "cvrp", seed=5)
    rng = np.random.default_rng(5)
    sol = S.from_routes(inst, random_routes(inst, rng, route_len=8))
    assert local_search(inst, sol, 10.0, NO_SEEDS, 0, 3) == 3
    assert local_search(inst, sol, 10.0, NO_SEEDS, 0, 0) == 0
    m = local_search(inst, sol, 10.0, NO_SEEDS, 0, BIG, 5)
    assert m > 0
    check_consistent(inst, sol)
    assert local_search(inst, sol, 10.0, NO_SEEDS, 0, BIG, 5) == 0


# ---------------------------------------------------------------------------------------------
# brute force on tiny instances (n <= 9, where the neighbour lists hold every customer):
# after the search no relocate / swap / 2-opt move improves
# ---------------------------------------------------------------------------------------------


def neighbours_by_brute_force(routes, n, max_routes):
    """All solutions one relocate, swap or 2-opt (intra-route reversal) away."""
    routes = [list(r) for r in routes if r]
    where = {c: (ri, i) for ri, r in enumerate(routes) for i, c in enumerate(r)}
    out = []
    for c in range(1, n + 1):  # relocate c anywhere, a new route included
        ri, i = where[c]
        base = [list(r) for r in routes]
        del base[ri][i]
        for rj in range(len(base)):
            for p in range(len(base[rj]) + 1):
                new = [list(r) for r in base]
                new[rj].insert(p, c)
                out.append(new)
        if sum(1 for r in base if r) < max_routes:
            out.append([*base, [c]])
    for a in range(1, n + 1):  # swap
        for b in range(a + 1, n + 1):
            new = [list(r) for r in routes]
            (ra, ia), (rb, ib) = where[a], where[b]
            new[ra][ia], new[rb][ib] = b, a
            out.append(new)
    for ri, r in enumerate(routes):  # 2-opt inside a route
        for s in range(len(r)):
            for e in range(s + 1, len(r)):
                new = [list(x) for x in routes]
                new[ri][s : e + 1] = r[s : e + 1][::-1]
                out.append(new)
    return out


@pytest.mark.parametrize("asym", [False, True])
@pytest.mark.parametrize("kind", problem_names())
def test_brute_force_local_optimum_tiny(kind, asym):
    rng = np.random.default_rng(42)
    for trial in range(80):
        n = int(rng.integers(2, 10))
        cap = float(rng.integers(9, 25))
        inst = random_instance(n, kind, seed=1000 + trial, capacity=cap, asymmetric=asym)
        penalty = float(rng.choice([0.0, 2.0, 50.0]))
        sol = S.from_routes(inst, random_routes(inst, rng))
        start = objective(inst, sol, penalty)
        local_search(inst, sol, penalty, NO_SEEDS, 0, BIG)
        check_consistent(inst, sol)
        routes = S.to_routes(sol)
        value = routes_objective(inst, routes, penalty)
        assert value <= start + 1e-9
        for cand in neighbours_by_brute_force(routes, n, int(inst.max_routes)):
            assert routes_objective(inst, cand, penalty) >= value - 1e-7, (kind, trial, cand)
