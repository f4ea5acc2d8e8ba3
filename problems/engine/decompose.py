"""Route-based decomposition: the LNS on sub-problems of nearby routes, for very large instances.

Why: on tens of thousands of customers one LNS iteration costs tens of milliseconds, nearly
all of it the local search cascading through a solution far from its local optima, so a
minute buys a few hundred iterations. A sub-problem of about a thousand customers runs a
thousand iterations a second. As in the decomposition phases of HGS and of POPMUSIC-style
methods, the search therefore works on one region at a time: a random route and the routes
whose centroids are nearest to it, until about ``sub_customers`` customers, become an
instance of their own (same depot, same distances: a subset of the coordinates with the
instance's rounding, or of its matrix), solved by the ordinary LNS from their current routes
for ``sub_iterations`` (``sub_seconds`` under the ``"limit"`` schedule); its best solution
replaces those routes when it is cheaper. A
sub-problem's best is never worse than its start (the start is feasible), so the cost of the
whole solution never rises.

Everything else is :func:`~.lns.run_lns`: the operator pools, the annealing within each
sub-problem, the trusted verification of the merged routes. The time limit here is wall time
from the first sub-problem (the whole-instance start solution, savings or insertion, is built
before it, like the LNS loop's own start).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..instance import RoutingInstance, with_distances
from ..verify import verify

#: Sub-problems anneal from this fraction of the start temperature: a run of a few seconds
#: re-optimises a region that is already good, and from the full heat it would scramble the
#: region without time to recover (in single trial runs on Flanders1, hot sub-problems ended
#: worse than one LNS on the whole at 20 s).
SUB_HEAT = 0.1


def sub_instance(instance: RoutingInstance, customers: np.ndarray, extra_routes: int
                 ) -> RoutingInstance:
    """The depot and ``customers`` (in that order: node ``i + 1`` is ``customers[i]``), with
    the same distances, a fleet of ``extra_routes`` more than they use now."""
    idx = np.concatenate(([0], customers))
    dist = None if instance.dist is None else instance.dist[np.ix_(idx, idx)]
    coords = None if instance.coords is None else instance.coords[idx]
    sub = RoutingInstance(
        name=f"{instance.name}-part", kind=instance.kind, dist=dist,
        demand=instance.demand[idx], capacity=instance.capacity, coords=coords,
        edge_weight_type=instance.edge_weight_type, max_routes=extra_routes,
    )
    return with_distances(sub) if dist is None else sub


def pick_routes(routes: list[list[int]], centroids: np.ndarray, sub_customers: int,
                rng: np.random.Generator) -> list[int]:
    """Indices of a random route and the routes with the nearest centroids, until they hold
    at least ``sub_customers`` customers (or all routes)."""
    first = int(rng.integers(len(routes)))
    order = np.argsort(np.hypot(*(centroids - centroids[first]).T), kind="stable")
    picked, total = [], 0
    for r in order:
        picked.append(int(r))
        total += len(routes[r])
        if total >= sub_customers:
            break
    return picked


def decomposed_search(instance: RoutingInstance, config, routes: list[list[int]],
                      run, sub_customers: int, sub_seconds: float
                      ) -> tuple[list[list[int]], dict]:
    """Improve ``routes`` part by part for ``config.time_limit`` seconds (see module doc).

    ``run(sub, sub_config, sub_routes)`` solves one sub-problem and returns its
    :class:`~.lns.LNSResult` (``run_lns`` with the caller's operator pools). Returns the
    routes and totals: ``iterations``, ``parts``, ``improved``, ``elapsed``, ``trace`` rows
    ``(seconds, iterations, cost)`` at every improvement.
    """
    rng = np.random.default_rng(config.seed)
    coords = instance.coords
    routes = [list(r) for r in routes if r]
    cost = verify(instance, routes)
    t0 = time.perf_counter()
    totals = {"iterations": 0, "parts": 0, "improved": 0,
              "trace": [(0.0, 0, cost)]}
    while (left := config.time_limit - (time.perf_counter() - t0)) > 0.05:
        centroids = np.array([coords[r].mean(axis=0) for r in routes])
        picked = pick_routes(routes, centroids, sub_customers, rng)
        customers = np.array([c for r in picked for c in routes[r]], dtype=np.int64)
        local = {int(c): i + 1 for i, c in enumerate(customers)}
        sub_routes = [[local[c] for c in routes[r]] for r in picked]
        sub = sub_instance(instance, customers, len(picked) + 5)
        before = verify(sub, sub_routes)
        if config.uses_anytime(instance.n):  # fixed iterations: the same parts, the same
            budget = dict(time_limit=left, iterations=config.sub_iterations,  # results in
                          first_epoch=config.sub_iterations, schedule="anytime")  # longer runs
        else:
            budget = dict(time_limit=min(sub_seconds, left), iterations=None)
        sub_config = replace(config, **budget, seed=int(rng.integers(2**31)), decompose="off",
                             start_temp=max(config.end_temp, SUB_HEAT * config.start_temp))
        result = run(sub, sub_config, sub_routes)
        totals["iterations"] += result.iterations
        totals["parts"] += 1
        if result.cost < before - 1e-9 * max(1.0, abs(before)):
            gone = set(picked)
            keep = [r for i, r in enumerate(routes) if i not in gone]
            routes = keep + [[int(customers[c - 1]) for c in r] for r in result.routes if r]
            cost = cost - before + result.cost
            totals["improved"] += 1
            totals["trace"].append((time.perf_counter() - t0, totals["iterations"], cost))
    totals["elapsed"] = time.perf_counter() - t0
    return routes, totals


def run_decomposed(instance: RoutingInstance, config, pools: tuple, routes: list[list[int]],
                   spent: float, python_mode: bool, errors: dict):
    """``run_lns`` by sub-problems in what is left of ``config.time_limit`` after ``spent``
    seconds of whole-instance descent: an :class:`~.lns.LNSResult` with the operator
    statistics of every sub-problem summed. ``pools`` are the (destroy, repair, improve)
    operator records."""
    from .lns import LNSResult, run_lns

    dops, rops, iops = pools
    # compile the sub-problems' code (their distance layout may differ) outside the clock
    first = routes[0][:10]
    run_lns(sub_instance(instance, np.array(first, dtype=np.int64), 2),
            replace(config, time_limit=None, iterations=1, decompose="off"), dops, rops, iops,
            initial_routes=[list(range(1, len(first) + 1))])
    sums: dict[str, dict] = {"destroy": {}, "repair": {}}

    def run(sub, sub_config, sub_routes):
        res = run_lns(sub, sub_config, dops, rops, iops, initial_routes=sub_routes)
        for role, stats in (("destroy", res.destroy_stats), ("repair", res.repair_stats)):
            for name, row in stats.items():
                acc = sums[role].setdefault(name, dict.fromkeys(row, 0.0))
                for key, value in row.items():
                    acc[key] += value
        return res

    rest = replace(config, time_limit=max(config.time_limit - spent, 1e-3))
    routes, totals = decomposed_search(instance, rest, routes, run, config.sub_customers,
                                       config.sub_seconds)
    trace = np.array(totals["trace"], dtype=float)
    trace[:, 0] += spent
    return LNSResult(
        routes=routes, cost=verify(instance, routes), iterations=int(totals["iterations"]),
        elapsed=spent + float(totals["elapsed"]), trace=trace,
        destroy_stats=sums["destroy"], repair_stats=sums["repair"], python_mode=python_mode,
        compile_errors=errors,
    )
