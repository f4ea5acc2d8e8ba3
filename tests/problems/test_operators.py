"""Every registered seed operator, compiled, keeps the solution state consistent.

The test is parametrised over the registries, so a newly registered operator is covered
without touching this file. Instances are small random Euclidean CVRP/OVRP/TSP ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from ahd.problems.engine import state
from ahd.problems.instance import RoutingInstance
from ahd.problems.operators import DEFAULT_POOLS, REGISTRIES, compiled

KINDS = ("cvrp", "ovrp", "tsp")
SIZES = (10, 50, 200, 500)
ALL_OPERATORS = [(role, name) for role, reg in REGISTRIES.items() for name in sorted(reg)]


@njit(cache=True)
def _seed_numba(seed):
    np.random.seed(seed)  # noqa: NPY002 (numba seeds its own RNG this way)


def _instance(kind: str, n: int, seed: int, capacity: float = 50.0) -> RoutingInstance:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 1000.0, size=(n + 1, 2))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    demand = rng.integers(1, 10, size=n + 1).astype(np.float64)
    demand[0] = 0.0
    if kind == "tsp":
        demand[:] = 0.0
    return RoutingInstance(f"{kind}-{n}", kind, dist, demand, capacity, coords=xy)


def _initial(inst: state.Inst) -> state.Sol:
    """Feasible start: cheapest insertion of customers 1..n with a prohibitive penalty."""
    sol = state.new_solution(inst)
    for c in range(1, int(inst.n) + 1):
        r, p, _ = state.best_insertion(inst, sol, c, 1e9)
        state.insert_customer(inst, sol, c, r, p)
    return sol


def _clone(inst: state.Inst, sol: state.Sol) -> state.Sol:
    out = state.new_solution(inst)
    state.copy_solution(sol, out)
    return out


def check_consistency(inst: state.Inst, sol: state.Sol) -> set[int]:
    """Recompute every derived field of ``sol`` from its rows; return the assigned customers."""
    n = int(inst.n)
    nr = int(sol.nroutes[0])
    assert 0 <= nr <= inst.max_routes
    seen = np.zeros(n + 1, dtype=np.int64)
    for r in range(nr):
        ln = int(sol.lengths[r])
        row = sol.routes[r, :ln]
        assert np.all((row >= 1) & (row <= n)), f"route {r} holds a non-customer"
        np.add.at(seen, row, 1)
        assert np.all(sol.route_of[row] == r)
        assert np.all(sol.pos[row] == np.arange(ln))
        if ln:
            path = np.concatenate(([0], row, [0]))
            cost = inst.dist[path[:-1], path[1:]].sum()
        else:
            cost = 0.0
        assert sol.cost[r] == pytest.approx(cost, rel=1e-9, abs=1e-6), f"route {r} cost"
        assert sol.load[r] == pytest.approx(inst.demand[row].sum(), abs=1e-9), f"route {r} load"
    assert np.all(sol.lengths[nr:] == 0)
    assert seen.max(initial=0) <= 1, "customer in two places"
    assigned = np.flatnonzero(seen[1:]) + 1
    unassigned = np.flatnonzero(seen[1:] == 0) + 1
    assert np.all(sol.route_of[unassigned] == -1)
    return {int(c) for c in assigned}


@pytest.fixture(scope="session")
def cases():
    """(kind, inst, initial solution) for every kind and size, built once."""
    out = []
    for i, kind in enumerate(KINDS):
        for j, n in enumerate(SIZES):
            inst = state.make_inst(_instance(kind, n, 100 * i + j))
            sol = _initial(inst)
            check_consistency(inst, sol)
            out.append((kind, inst, sol))
    # long open routes: the neighbour-list paths must price OVRP's free return arc correctly
    inst = state.make_inst(_instance("ovrp", 200, 999, capacity=400.0))
    out.append(("ovrp", inst, _initial(inst)))
    return out


def _destroy_random(inst: state.Inst, sol: state.Sol, rng: np.random.Generator) -> np.ndarray:
    """Independent destroy for repair tests; sometimes everything (empties a TSP tour)."""
    n = int(inst.n)
    q = n if rng.random() < 0.2 else int(rng.integers(1, max(2, n // 3)))
    out = rng.choice(np.arange(1, n + 1), size=q, replace=False).astype(np.int64)
    for c in out:
        state.remove_customer(inst, sol, int(c))
    return out


def _run_destroy(op, cases, rng):
    for kind, inst, init in cases:
        n = int(inst.n)
        removed = np.zeros(n + 1, dtype=np.int64)
        for trial in range(4):
            sol = _clone(inst, init)
            before = check_consistency(inst, sol)
            n_remove = n + 5 if trial == 0 and n <= 10 else int(rng.integers(1, max(2, n // 2)))
            k = int(op(inst, sol, np.int64(n_remove), removed))
            assert 1 <= k <= min(n_remove, n), (kind, n, k, n_remove)
            out = removed[:k]
            assert len(set(out.tolist())) == k, "duplicate removal"
            after = check_consistency(inst, sol)
            assert before - after == set(out.tolist())
            assert len(after) == n - k
            if after:  # again, on a solution with holes and possibly emptied routes
                k2 = int(op(inst, sol, np.int64(rng.integers(1, n + 1)), removed))
                assert 1 <= k2 <= len(after)
                assert after - check_consistency(inst, sol) == set(removed[:k2].tolist())


def _run_repair(op, cases, rng):
    for kind, inst, init in cases:
        n = int(inst.n)
        sol = _clone(inst, init)
        op(inst, sol, np.zeros(n + 1, dtype=np.int64), np.int64(0), 10.0)  # nothing to do
        assert state.to_routes(sol) == state.to_routes(init)
        for penalty in (0.0, 10.0, 1e4):
            sol = _clone(inst, init)
            out = _destroy_random(inst, sol, rng)
            removed = np.zeros(n + 1, dtype=np.int64)
            removed[: len(out)] = out
            op(inst, sol, removed, np.int64(len(out)), float(penalty))
            assert check_consistency(inst, sol) == set(range(1, n + 1))
            if kind == "tsp":
                assert int(sol.nroutes[0]) == 1 and int(sol.lengths[0]) == n


def _run_improve(op, cases, rng):
    for _kind, inst, init in cases:
        n = int(inst.n)
        sol = _clone(inst, init)
        for _ in range(2):
            before = state.total_cost(sol)
            op(inst, sol, 100.0)
            assert state.total_cost(sol) <= before + 1e-7
            assert check_consistency(inst, sol) == set(range(1, n + 1))
            # perturb so the second call has work to do
            for r in range(int(sol.nroutes[0])):
                ln = int(sol.lengths[r])
                if ln > 3:
                    i = int(rng.integers(0, ln - 2))
                    sol.routes[r, i : i + 3] = sol.routes[r, i : i + 3][::-1].copy()
                    state.refresh_route(inst, sol, r)


RUNNERS = {"destroy": _run_destroy, "repair": _run_repair, "improve": _run_improve}


@pytest.mark.parametrize(("role", "name"), ALL_OPERATORS)
def test_operator(role, name, cases):
    _seed_numba(12345)
    RUNNERS[role](compiled(role, name), cases, np.random.default_rng(7))


@pytest.mark.parametrize(("role", "name"), ALL_OPERATORS)
def test_operator_as_python(role, name, cases):
    """The engine's fallback runs operators as plain Python; they must behave the same."""
    np.random.seed(12345)  # noqa: NPY002 (plain-Python operators draw from numpy's global RNG)
    small = [case for case in cases if int(case[1].n) <= 50]
    RUNNERS[role](REGISTRIES[role][name], small, np.random.default_rng(7))


def test_default_pools_name_registered_seeds():
    for kind, pools in DEFAULT_POOLS.items():
        assert kind in KINDS
        assert pools["destroy"] and pools["repair"], kind
        for role, names in pools.items():
            assert set(names) <= set(REGISTRIES[role]), (kind, role)
