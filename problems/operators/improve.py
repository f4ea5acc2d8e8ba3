"""Improve seed operators.

Each follows the ``improve`` role of :mod:`ahd.problems.engine.signatures`: change the
solution in place, never lose a customer, never increase its cost.

Reversal costs assume symmetric customer-to-customer distances (every CVRPLIB, symmetric
TSPLIB and generated instance); arcs touching the depot are priced in travel direction, so
OVRP's free return arcs are handled exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .registry import register

#: Minimum gain for a move to count, so float noise cannot make the search cycle.
EPS = 1e-9
#: Routes up to this length get exhaustive 2-opt (len^2 / 2 cheap evaluations per pass);
#: longer ones the neighbour-list search, whose cost per node is ~ the neighbour-list length
#: because the long depot arcs and other routes' customers defeat its pruning in a VRP.
FULL_SCAN_MAX = 48


@njit(cache=True, inline="always")
def _at(routes, r, ln, p):
    """Node at position p of route r, the depot outside ``0..ln-1``."""
    return routes[r, p] if 0 <= p < ln else 0


@njit(cache=True, inline="always")
def _reversal_delta(dist, routes, r, ln, i, j):
    """Cost change of reversing positions ``i..j`` of route r.

    Only the two boundary arcs change (customer-to-customer distances are symmetric); they are
    taken in travel direction, so OVRP's free return arc is priced correctly.
    """
    p = _at(routes, r, ln, i - 1)
    q = _at(routes, r, ln, j + 1)
    xi = routes[r, i]
    xj = routes[r, j]
    return dist[p, xj] + dist[xi, q] - dist[p, xi] - dist[xj, q]


@njit(cache=True, inline="always")
def _reverse(routes, pos, r, i, j):
    """Reverse positions ``i..j`` of route r, keeping ``pos`` in step."""
    while i < j:
        x = routes[r, i]
        y = routes[r, j]
        routes[r, i] = y
        routes[r, j] = x
        pos[y] = i
        pos[x] = j
        i += 1
        j -= 1


@njit(cache=True, inline="always")
def _push(queue, inq, tail, cap, x):
    """Append customer x to the circular work queue unless it is queued or is the depot."""
    if x == 0 or inq[x]:
        return tail, 0
    queue[tail] = x
    inq[x] = True
    return (tail + 1) % cap, 1


@njit(cache=True, inline="always")
def _improve_node(dist, neighbors, routes, route_of, pos, r, ln, a):
    """First improving 2-opt move that gives node a a new, nearer neighbour.

    For each near neighbour c of a (in the same route) both ways of making a-c an arc are
    tried: replacing a's successor arc, or its predecessor arc. Neighbours are sorted by
    distance, so the scan stops once c is no nearer than both of a's current neighbours, the
    standard necessary condition for a gain. Returns the reversed span and its cost change,
    or ``(-1, -1, 0.0)``.
    """
    pa = pos[a]
    d_succ = dist[a, _at(routes, r, ln, pa + 1)]
    d_prev = dist[_at(routes, r, ln, pa - 1), a]
    lim = max(d_succ, d_prev)
    for jn in range(neighbors.shape[1]):
        c = neighbors[a, jn]
        dac = dist[a, c]
        if dac >= lim:
            break
        if c == a or route_of[c] != r:
            continue
        pc = pos[c]
        if dac < d_succ:
            if pc > pa:
                i, j = pa + 1, pc
            else:
                i, j = pc + 1, pa
            if i < j:
                delta = _reversal_delta(dist, routes, r, ln, i, j)
                if delta < -EPS:
                    return i, j, delta
        if dac < d_prev:
            if pc > pa:
                i, j = pa, pc - 1
            else:
                i, j = pc, pa - 1
            if i < j:
                delta = _reversal_delta(dist, routes, r, ln, i, j)
                if delta < -EPS:
                    return i, j, delta
    return -1, -1, 0.0


@njit(cache=True, inline="always")
def _two_opt_full(dist, routes, pos, r, ln, seq):
    """Exhaustive first-improvement 2-opt of a short route; returns the cost change.

    Works on a copy of the route framed by the depot (``seq``) so the inner loop reads one
    array; the row and positions are written back only when something improved.
    """
    seq[0] = 0
    for t in range(ln):
        seq[t + 1] = routes[r, t]
    seq[ln + 1] = 0
    total = 0.0
    improved = True
    while improved:
        improved = False
        for i in range(1, ln):
            p = seq[i - 1]
            xi = seq[i]
            d_pi = dist[p, xi]
            for j in range(i + 1, ln + 1):
                xj = seq[j]
                q = seq[j + 1]
                delta = dist[p, xj] + dist[xi, q] - d_pi - dist[xj, q]
                if delta < -EPS:
                    lo = i
                    hi = j
                    while lo < hi:
                        t = seq[lo]
                        seq[lo] = seq[hi]
                        seq[hi] = t
                        lo += 1
                        hi -= 1
                    total += delta
                    improved = True
                    xi = seq[i]
                    d_pi = dist[p, xi]
    if total < 0.0:
        for t in range(ln):
            x = seq[t + 1]
            routes[r, t] = x
            pos[x] = t
    return total


@register("improve", "two_opt")
def two_opt(inst, sol, penalty):
    """Intra-route 2-opt: exhaustive on short routes, neighbour lists on long ones (TSP).

    Long routes are searched over the ``inst.neighbors`` candidate arcs with a work queue
    ("don't-look bits"): after a move only the nodes whose arcs changed are re-queued, so a
    call after an LNS repair costs about O(n * few) rather than O(n^2); the result is a
    neighbour-list 2-opt optimum up to the usual don't-look-bit approximation. Loads are
    untouched, so ``penalty`` plays no role.
    """
    n = inst.n
    dist = inst.dist
    neighbors = inst.neighbors
    routes = sol.routes
    route_of = sol.route_of
    pos = sol.pos
    cap = n + 1
    queue = np.empty(cap, np.int64)
    inq = np.zeros(n + 1, np.bool_)
    seq = np.empty(FULL_SCAN_MAX + 2, np.int64)
    for r in range(sol.nroutes[0]):
        ln = sol.lengths[r]
        if ln < 2:
            continue
        if ln <= FULL_SCAN_MAX:
            sol.cost[r] += _two_opt_full(dist, routes, pos, r, ln, seq)
            continue
        head = 0
        tail = 0
        size = 0
        for t in range(ln):
            tail, added = _push(queue, inq, tail, cap, routes[r, t])
            size += added
        while size > 0:
            a = queue[head]
            head = (head + 1) % cap
            size -= 1
            inq[a] = False
            i, j, delta = _improve_node(dist, neighbors, routes, route_of, pos, r, ln, a)
            if i < 0:
                continue
            _reverse(routes, pos, r, i, j)
            sol.cost[r] += delta
            tail, added = _push(queue, inq, tail, cap, a)
            size += added
            tail, added = _push(queue, inq, tail, cap, _at(routes, r, ln, i - 1))
            size += added
            tail, added = _push(queue, inq, tail, cap, routes[r, i])
            size += added
            tail, added = _push(queue, inq, tail, cap, routes[r, j])
            size += added
            tail, added = _push(queue, inq, tail, cap, _at(routes, r, ln, j + 1))
            size += added
