"""Trusted verification: the only place a routing objective is computed for scoring.

It reads plain Python routes and the original instance (never the numba records an operator
could have touched), so a candidate that corrupts its state or lies about its cost is caught.
"""

from __future__ import annotations

import math

import numpy as np

from .instance import RoutingInstance


class InfeasibleSolution(ValueError):
    """A solution breaks a constraint; the message says which and where."""


def route_cost(instance: RoutingInstance, route: list[int]) -> float:
    """Travel cost of one route from the depot, closing back to it unless routes are open."""
    if not route:
        return 0.0
    nodes = np.array([0, *route] if instance.open_routes else [0, *route, 0], dtype=np.int64)
    # Added left to right, as the arcs are travelled (np.sum's pairwise order could differ in
    # the last bit on unrounded instances).
    return float(sum(instance.arc_costs(nodes[:-1], nodes[1:]).tolist()))


def verify(instance: RoutingInstance, routes) -> float:
    """Check ``routes`` against ``instance`` and return the recomputed cost.

    Raises
    ------
    InfeasibleSolution
        On a wrong type, a customer id out of range, the depot inside a route, a customer
        missing or visited twice, a route over capacity, or more routes than the fleet allows.
    """
    n = instance.n
    try:
        plain = [list(r) for r in routes]
    except TypeError:
        raise InfeasibleSolution("routes must be a list of lists of customer ids") from None
    for route in plain:
        for c in route:
            if isinstance(c, bool) or not isinstance(c, int | np.integer):
                raise InfeasibleSolution(
                    f"routes must hold integer customer ids, found {type(c).__name__} {c!r}"
                )
    plain = [[int(c) for c in r] for r in plain]
    plain = [r for r in plain if r]
    if len(plain) > instance.max_routes:
        raise InfeasibleSolution(
            f"{len(plain)} routes but the fleet allows {instance.max_routes}"
        )
    capacitated = instance.capacitated
    seen = np.zeros(n + 1, dtype=np.int64)
    for i, route in enumerate(plain):
        for c in route:
            if c == 0:
                raise InfeasibleSolution(f"route {i} visits the depot (0) in its middle")
            if not 1 <= c <= n:
                raise InfeasibleSolution(f"route {i} has customer {c} outside 1..{n}")
            seen[c] += 1
        if capacitated:
            load = float(instance.demand[route].sum())
            if load > instance.capacity + 1e-9 * max(1.0, abs(instance.capacity)):
                raise InfeasibleSolution(
                    f"route {i} carries {load:g} > capacity {instance.capacity:g}"
                )
    twice = np.flatnonzero(seen[1:] > 1) + 1
    if twice.size:
        raise InfeasibleSolution(f"customer {int(twice[0])} visited {int(seen[twice[0]])} times")
    missing = np.flatnonzero(seen[1:] == 0) + 1
    if missing.size:
        raise InfeasibleSolution(
            f"{missing.size} customer(s) not visited, first {int(missing[0])}"
        )
    cost = sum(route_cost(instance, r) for r in plain)
    if not math.isfinite(cost):
        raise InfeasibleSolution("cost is not finite")
    return cost
