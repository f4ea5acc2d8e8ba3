"""How big an engine record is: its neighbour lists, and the rows a solution keeps.

A solution holds one row per possible route, each wide enough for every customer; at
n = 30,000 with an unbounded fleet that is n^2 integers, as large as the distance matrix the
coordinate layout avoids. So on large capacitated instances both are bounded by what the
demands need (:func:`route_rows`, :func:`route_width`); small instances are sized as always.
"""

from __future__ import annotations

import math

import numpy as np

from ..instance import RoutingInstance
from ..instance_limits import distance_bound_problem
from .coord_dist import CoordDist, make_coord_dist, neighbours_and_top

__all__ = ["EXTRA_ROUTES", "MIN_WIDTH", "SOLUTION_CELLS", "coordinate_record",
           "matrix_neighbours", "route_rows", "route_width"]

#: Route rows x columns of one solution above which rows and row width are bounded by what
#: the demands need (32 MiB of int64): never reached at n <= 2,000, where solutions keep one
#: row per customer, each ``n + 1`` wide, exactly as before.
SOLUTION_CELLS = 1 << 22
#: Slack rows over twice the demand lower bound, and the least row width, once bounded.
EXTRA_ROUTES = 16
MIN_WIDTH = 128


def matrix_neighbours(instance: RoutingInstance, k: int) -> np.ndarray:
    """Each node's ``k`` nearest customers from the matrix (ties: lower id first)."""
    n = instance.n
    if n > 1:
        sub = instance.dist[1:, 1:].copy()
        np.fill_diagonal(sub, np.inf)
        order = np.argsort(sub, axis=1, kind="stable")[:, :k] + 1
    else:
        order = np.zeros((1, 1), dtype=np.int64) + 1
    neighbors = np.zeros((n + 1, k), dtype=np.int64)
    neighbors[1:] = order
    neighbors[0] = np.argsort(instance.dist[0, 1:], kind="stable")[:k] + 1
    return neighbors


def coordinate_record(instance: RoutingInstance, k: int) -> tuple[CoordDist, np.ndarray]:
    """Distances on demand and the same neighbour lists the matrix would give."""
    dist = make_coord_dist(instance.coords, instance.edge_weight_type, instance.open_routes)
    neighbors, top, finite = neighbours_and_top(dist.x, dist.y, dist.code, k)
    if instance.n == 1:
        neighbors[1, 0] = 1
    problem = distance_bound_problem(top if finite else math.inf, instance.n + 1)
    if problem:
        raise ValueError(f"{instance.name}: {problem}")
    return dist._replace(top=float(top)), neighbors


def route_rows(instance: RoutingInstance) -> int:
    """Rows a solution keeps: the fleet limit, bounded on large capacitated instances.

    The bound ``2 ceil(sum(d) / Q) + 16`` always leaves room for a feasible solution: first
    fit packs any demands into at most ``ceil(2 sum(d) / Q)`` routes.
    """
    rows = int(instance.max_routes)
    if rows * (instance.n + 1) <= SOLUTION_CELLS or not instance.capacitated:
        return rows
    need = math.ceil(float(instance.demand.sum()) / float(instance.capacity))
    return max(1, min(rows, 2 * need + EXTRA_ROUTES))


def route_width(inst) -> int:
    """Customers one route row holds: ``n``, or on large capacitated instances four times the
    most a feasible route can carry (routes may be overloaded during search, at a price).

    Bounded only when every customer has positive demand (otherwise a feasible route may
    visit them all); a move that would overfill a row is refused, never written past it.
    """
    n = int(inst.n)
    rows = int(inst.max_routes)
    cap = float(inst.capacity)
    positive = inst.demand[1:]
    if rows * (n + 1) <= SOLUTION_CELLS or cap >= 1e300 or n == 0 or positive.min() <= 0:
        return n + 1
    return min(n + 1, max(MIN_WIDTH, math.ceil(4.0 * cap / float(positive.min())) + 1))
