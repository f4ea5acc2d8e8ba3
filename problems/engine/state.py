"""Numba-side instance and solution records, and the primitive moves every operator uses.

Operators (seed or evolved) see exactly two records:

``inst`` (read-only)
    ``dist[i, j]`` travel cost from node i to node j (node 0 is the depot; for OVRP the cost of
    returning to the depot is 0, so closing a route is free), ``demand[i]``, ``capacity``,
    ``neighbors[i, :]`` the other customers sorted by distance from i (never the depot),
    ``max_routes`` the fleet limit (1 for TSP), ``n`` the number of customers. Distances
    between customers are symmetric (readers refuse asymmetric files); only arcs into the
    depot may differ from their reverse, which is how OVRP's free return is encoded.
    ``dist`` is a matrix, or on instances without one a :class:`~.coord_dist.CoordDist` that
    computes the same values (``dist[i, j]``, ``dist[i]``, ``dist.shape``, ``dist.max()``):
    read single distances ``dist[i, j]``; a whole row ``dist[i]`` then costs O(n) each time.

``sol`` (mutable, change it only through the functions below)
    ``routes[r, :lengths[r]]`` the customers of route r in visiting order (rows are ``n + 1``
    wide except on large instances, see :func:`route_width`; the depot is implicit
    at both ends), ``nroutes[0]`` how many routes are in use (rows ``0..nroutes[0]-1``; some may
    be empty until the engine compacts them), ``route_of[c]`` the route of customer c or -1 when
    c is unassigned, ``pos[c]`` its index inside the route, ``load[r]`` and ``cost[r]`` each
    route's total demand and travel cost.

Keeping customers in dense per-route rows (rather than linked lists) makes operator code easy to
write and read, while ``route_of``/``pos`` keep lookups O(1). Copying a solution copies only the
used part of each row, so an LNS iteration costs O(n), not O(n * max_routes).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from ..instance import RoutingInstance
from .sizing import coordinate_record, matrix_neighbours, route_rows, route_width

Inst = namedtuple("Inst", "dist demand capacity neighbors max_routes n")
Sol = namedtuple("Sol", "routes lengths route_of pos load cost nroutes")

#: How many nearest neighbours each customer keeps; enough for granular local search.
NEIGHBOURS = 40


def make_inst(instance: RoutingInstance, n_neighbors: int = NEIGHBOURS) -> Inst:
    """Build the numba record of an instance (open routes: return arcs cost nothing).

    A dense instance gets a writable copy of its matrix (the instance's own arrays are
    read-only, and numba types a read-only array differently from the operators'
    signatures); an instance without one (``instance.dist is None``) gets a
    :class:`~.coord_dist.CoordDist`, which computes distances from coordinates and reads the
    same. Neighbour lists are identical either way.
    """
    n = instance.n
    k = max(1, min(n_neighbors, n - 1)) if n > 1 else 1
    if instance.dist is None:
        dist, neighbors = coordinate_record(instance, k)
    else:
        dist = instance.dist.copy()
        if instance.open_routes:
            dist[1:, 0] = 0.0
        neighbors = matrix_neighbours(instance, k)
    cap = float(instance.capacity) if np.isfinite(instance.capacity) else 1e300
    return Inst(
        dist, instance.demand.astype(np.float64), cap, neighbors,
        np.int64(route_rows(instance)), np.int64(n),
    )


def new_solution(inst: Inst) -> Sol:
    """An empty solution (every customer unassigned) sized for ``inst``."""
    n = int(inst.n)
    r = int(inst.max_routes)
    return Sol(
        np.zeros((r, route_width(inst)), dtype=np.int64),
        np.zeros(r, dtype=np.int64),
        np.full(n + 1, -1, dtype=np.int64),
        np.full(n + 1, -1, dtype=np.int64),
        np.zeros(r, dtype=np.float64),
        np.zeros(r, dtype=np.float64),
        np.zeros(1, dtype=np.int64),
    )


@njit(cache=True)
def prev_node(sol, c):
    """The node visited before customer c (0 for the depot)."""
    p = sol.pos[c]
    return 0 if p == 0 else sol.routes[sol.route_of[c], p - 1]


@njit(cache=True)
def next_node(sol, c):
    """The node visited after customer c (0 for the depot)."""
    r = sol.route_of[c]
    p = sol.pos[c]
    return 0 if p == sol.lengths[r] - 1 else sol.routes[r, p + 1]


@njit(cache=True)
def node_at(sol, r, p):
    """Node at position p of route r, with the depot (0) for p == -1 or p == lengths[r]."""
    if p < 0 or p >= sol.lengths[r]:
        return 0
    return sol.routes[r, p]


@njit(cache=True)
def remove_customer(inst, sol, c):
    """Unassign customer c, updating route cost, load and positions. Returns its old route."""
    r = sol.route_of[c]
    p = sol.pos[c]
    ln = sol.lengths[r]
    a = 0 if p == 0 else sol.routes[r, p - 1]
    b = 0 if p == ln - 1 else sol.routes[r, p + 1]
    sol.cost[r] += inst.dist[a, b] - inst.dist[a, c] - inst.dist[c, b]
    sol.load[r] -= inst.demand[c]
    for i in range(p, ln - 1):
        x = sol.routes[r, i + 1]
        sol.routes[r, i] = x
        sol.pos[x] = i
    sol.lengths[r] = ln - 1
    if ln == 1:
        sol.cost[r] = 0.0
        sol.load[r] = 0.0
    sol.route_of[c] = -1
    sol.pos[c] = -1
    return r


@njit(cache=True)
def insertion_delta(inst, sol, c, r, p):
    """Travel-cost change of inserting customer c at position p of route r.

    ``r == nroutes[0]`` means a new route; ``p`` ranges over ``0..lengths[r]``.
    """
    if r >= sol.nroutes[0]:
        return inst.dist[0, c] + inst.dist[c, 0]
    a = node_at(sol, r, p - 1)
    b = node_at(sol, r, p)
    return inst.dist[a, c] + inst.dist[c, b] - inst.dist[a, b]


@njit(cache=True)
def excess_delta(inst, sol, c, r):
    """Increase of capacity excess if customer c joins route r."""
    load = sol.load[r] if r < sol.nroutes[0] else 0.0
    cap = inst.capacity
    before = load - cap if load > cap else 0.0
    after = load + inst.demand[c] - cap
    if after < 0.0:
        after = 0.0
    return after - before


@njit(cache=True)
def insert_customer(inst, sol, c, r, p):
    """Insert unassigned customer c at position p of route r (r == nroutes[0] opens a route)."""
    if r < 0 or p < 0:
        raise ValueError("insert_customer: negative route or position (no place found?)")
    if r >= sol.nroutes[0]:
        r = sol.nroutes[0]
        sol.nroutes[0] = r + 1
        sol.lengths[r] = 0
        sol.load[r] = 0.0
        sol.cost[r] = 0.0
        p = 0
    ln = sol.lengths[r]
    if ln >= sol.routes.shape[1]:
        raise ValueError("insert_customer: the route's row is full")
    a = node_at(sol, r, p - 1)
    b = node_at(sol, r, p)
    if ln == 0:
        sol.cost[r] = inst.dist[0, c] + inst.dist[c, 0]
    else:
        sol.cost[r] += inst.dist[a, c] + inst.dist[c, b] - inst.dist[a, b]
    sol.load[r] += inst.demand[c]
    for i in range(ln, p, -1):
        x = sol.routes[r, i - 1]
        sol.routes[r, i] = x
        sol.pos[x] = i
    sol.routes[r, p] = c
    sol.pos[c] = p
    sol.route_of[c] = r
    sol.lengths[r] = ln + 1
    return r


@njit(cache=True)
def can_open_route(inst, sol):
    """True when the fleet limit allows one more route."""
    return sol.nroutes[0] < inst.max_routes


@njit(cache=True)
def best_insertion(inst, sol, c, penalty):
    """Cheapest (route, position, penalised cost) to insert customer c, new route included.

    The penalised cost adds ``penalty`` per unit of capacity excess created, which is how the
    engine lets search cross infeasible space. An empty row (left by a destroy) is offered as
    the new route before ``nroutes[0]`` is, so a full fleet or an emptied TSP tour still has a
    place. A route whose row is full (see :func:`route_width`) is not offered. Returns
    ``(-1, -1, inf)`` if nothing is allowed.
    """
    best_r = -1
    best_p = -1
    best = np.inf
    empty = -1
    width = sol.routes.shape[1]
    for r in range(sol.nroutes[0]):
        ln = sol.lengths[r]
        if ln == 0:
            if empty < 0:
                empty = r
            continue
        if ln >= width:
            continue
        exc = excess_delta(inst, sol, c, r)
        pen = penalty * exc if exc > 0.0 else 0.0
        if pen >= best:
            continue
        a = 0
        for p in range(ln + 1):
            b = sol.routes[r, p] if p < ln else 0
            d = inst.dist[a, c] + inst.dist[c, b] - inst.dist[a, b] + pen
            if d < best:
                best = d
                best_r = r
                best_p = p
            a = b
    if empty < 0 and sol.nroutes[0] < inst.max_routes:
        empty = sol.nroutes[0]
    if empty >= 0:
        exc = inst.demand[c] - inst.capacity
        d = inst.dist[0, c] + inst.dist[c, 0] + (penalty * exc if exc > 0.0 else 0.0)
        if d < best:
            best = d
            best_r = empty
            best_p = 0
    return best_r, best_p, best


@njit(cache=True)
def copy_solution(src, dst):
    """Copy src into dst (same instance), touching only the used part of each route row.

    Element loops rather than slice assignment (``dst.pos[:] = src.pos``): numba compiles a
    slice assignment with its shape-mismatch error message, and building that message (int to
    str, string concatenation) cost about 2 s of every cold start; the arrays always match here.
    """
    k = src.nroutes[0]
    for r in range(k):
        ln = src.lengths[r]
        for i in range(ln):
            dst.routes[r, i] = src.routes[r, i]
        dst.lengths[r] = ln
        dst.load[r] = src.load[r]
        dst.cost[r] = src.cost[r]
    for r in range(k, dst.nroutes[0]):
        dst.lengths[r] = 0
        dst.load[r] = 0.0
        dst.cost[r] = 0.0
    dst.nroutes[0] = k
    for c in range(src.route_of.shape[0]):
        dst.route_of[c] = src.route_of[c]
    for c in range(src.pos.shape[0]):
        dst.pos[c] = src.pos[c]


@njit(cache=True)
def compact(sol):
    """Drop empty routes so rows ``0..nroutes[0]-1`` are all non-empty."""
    k = 0
    for r in range(sol.nroutes[0]):
        ln = sol.lengths[r]
        if ln == 0:
            continue
        if k != r:
            for i in range(ln):
                x = sol.routes[r, i]
                sol.routes[k, i] = x
                sol.route_of[x] = k
            sol.lengths[k] = ln
            sol.load[k] = sol.load[r]
            sol.cost[k] = sol.cost[r]
        k += 1
    for r in range(k, sol.nroutes[0]):
        sol.lengths[r] = 0
        sol.load[r] = 0.0
        sol.cost[r] = 0.0
    sol.nroutes[0] = k


@njit(cache=True)
def route_cost(inst, sol, r):
    """Recompute the travel cost of route r from scratch."""
    ln = sol.lengths[r]
    if ln == 0:
        return 0.0
    c = inst.dist[0, sol.routes[r, 0]]
    for i in range(ln - 1):
        c += inst.dist[sol.routes[r, i], sol.routes[r, i + 1]]
    return c + inst.dist[sol.routes[r, ln - 1], 0]


@njit(cache=True)
def refresh_route(inst, sol, r):
    """Recompute cost, load and positions of route r after editing its row directly."""
    ln = sol.lengths[r]
    load = 0.0
    for i in range(ln):
        x = sol.routes[r, i]
        sol.pos[x] = i
        sol.route_of[x] = r
        load += inst.demand[x]
    sol.load[r] = load
    sol.cost[r] = route_cost(inst, sol, r)


@njit(cache=True)
def total_cost(sol):
    """Travel cost of the whole solution."""
    s = 0.0
    for r in range(sol.nroutes[0]):
        s += sol.cost[r]
    return s


@njit(cache=True)
def total_excess(inst, sol):
    """Sum over routes of load above capacity (0 for a capacity-feasible solution)."""
    s = 0.0
    for r in range(sol.nroutes[0]):
        e = sol.load[r] - inst.capacity
        if e > 0.0:
            s += e
    return s


@njit(cache=True)
def unassigned_count(sol):
    """Customers not in any route."""
    k = 0
    for c in range(1, sol.route_of.shape[0]):
        if sol.route_of[c] < 0:
            k += 1
    return k


def to_routes(sol: Sol) -> list[list[int]]:
    """Plain-Python routes (non-empty only), the form the trusted verifier reads."""
    return [
        [int(x) for x in sol.routes[r, : sol.lengths[r]]]
        for r in range(int(sol.nroutes[0]))
        if sol.lengths[r] > 0
    ]


def from_routes(inst: Inst, routes: list[list[int]]) -> Sol:
    """Build a consistent numba solution from plain routes."""
    sol = new_solution(inst)
    for route in routes:
        if not route:
            continue
        r = int(sol.nroutes[0])
        if r >= inst.max_routes:
            raise ValueError(f"more than {inst.max_routes} routes")
        if len(route) > sol.routes.shape[1]:
            raise ValueError(f"a route of {len(route)} customers; rows hold "
                             f"{sol.routes.shape[1]}")
        sol.nroutes[0] = r + 1
        sol.lengths[r] = len(route)
        sol.routes[r, : len(route)] = route
        refresh_route(inst, sol, r)
    return sol
