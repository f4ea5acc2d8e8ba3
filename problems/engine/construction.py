"""Start solutions for the LNS: cheapest insertion, and Clarke-Wright savings on neighbour lists.

Why savings: on large instances the search cannot repair a poor start in the time users give
it. Cheapest insertion in random order leaves Flanders1 (20,000 customers) at about 5.7 times
its best-known cost, and the local search then spends its first 7-10 s descending from there;
savings starts within a few percent of a local optimum. Only the pairs on each customer's
neighbour list are considered (``inst.neighbors``), so it takes O(n k log(n k)) time and
O(n k) memory whatever the distance layout, and never reads a whole distance row.

Routes are merged end to end in order of decreasing saving ``d[i, 0] + d[0, j] - d[i, j]``
while the merged load fits the capacity and the merged route fits a solution row. When depot
arcs are symmetric a route may be joined at either end (orientation is free); otherwise (OVRP)
only tail ``i`` to head ``j``. Should more routes remain than the fleet allows (one, for the
TSP), the remaining route ends are joined by the same rule over all pairs of ends, positive
saving or not. If that cannot meet the fleet limit, :func:`savings_solution` returns False and
the caller falls back to insertion.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .state import best_insertion, compact, insert_customer, refresh_route

#: Round two (joining leftover routes over all pairs of their ends) gives up beyond this many
#: route ends: it holds every pair's saving at once.
MAX_LEFTOVER_ENDS = 2000


@njit(cache=True)
def insertion_solution(inst, sol, penalty):
    """Cheapest insertion of all customers in random order; opens routes as needed."""
    n = inst.n
    order = np.random.permutation(n) + 1
    for c in order:
        r, p, _ = best_insertion(inst, sol, c, penalty)
        if r < 0:
            r = 0
            p = 0
        insert_customer(inst, sol, c, r, p)
    compact(sol)


@njit(cache=True)
def _find(parent, x):
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:
        up = parent[x]
        parent[x] = root
        x = up
    return root


@njit(cache=True)
def _try_merge(inst, i, j, sym, parent, load, length, nxt, prv, width):
    """Join the route ending at i to the route starting at j (either end of either route when
    ``sym``); returns True when merged. ``nxt``/``prv`` hold the two link slots of a customer
    in the symmetric case (0: free)."""
    ri = _find(parent, i)
    rj = _find(parent, j)
    if ri == rj:
        return False
    if load[ri] + load[rj] > inst.capacity or length[ri] + length[rj] > width:
        return False
    if sym:
        if prv[i] != 0 or prv[j] != 0:  # the second slot is taken: i or j is inside a route
            return False
        if nxt[i] == 0:
            nxt[i] = j
        else:
            prv[i] = j
        if nxt[j] == 0:
            nxt[j] = i
        else:
            prv[j] = i
    else:
        if nxt[i] != 0 or prv[j] != 0:
            return False
        nxt[i] = j
        prv[j] = i
    parent[rj] = ri
    load[ri] += load[rj]
    length[ri] += length[rj]
    return True


@njit(cache=True)
def _merge_sorted(inst, a, b, s, sym, parent, load, length, nxt, prv, width, routes, limit,
                  positive):
    """Merge the pairs ``(a[t], b[t])`` in order of decreasing ``s`` until ``limit`` routes."""
    order = np.argsort(-s, kind="mergesort")
    for t in order:
        if routes <= limit:
            break
        if positive and s[t] <= 0.0:
            break
        if _try_merge(inst, a[t], b[t], sym, parent, load, length, nxt, prv, width):
            routes -= 1
    return routes


@njit(cache=True)
def savings_solution(inst, sol, width):
    """Fill the empty ``sol`` with a savings solution; False when the fleet limit cannot be met
    (``sol`` is then left empty)."""
    n = inst.n
    d = inst.dist
    sym = True
    for c in range(1, n + 1):
        if d[0, c] != d[c, 0]:
            sym = False
            break
    parent = np.arange(n + 1)
    load = inst.demand.copy()
    length = np.ones(n + 1, dtype=np.int64)
    nxt = np.zeros(n + 1, dtype=np.int64)
    prv = np.zeros(n + 1, dtype=np.int64)
    k = inst.neighbors.shape[1]
    per = k if sym else 2 * k
    a = np.empty(n * per, dtype=np.int64)
    b = np.empty(n * per, dtype=np.int64)
    s = np.empty(n * per)
    m = 0
    for i in range(1, n + 1):
        for t in range(k):
            j = inst.neighbors[i, t]
            a[m] = i
            b[m] = j
            s[m] = d[i, 0] + d[0, j] - d[i, j]
            m += 1
            if not sym:
                a[m] = j
                b[m] = i
                s[m] = d[j, 0] + d[0, i] - d[j, i]
                m += 1
    routes = _merge_sorted(inst, a[:m], b[:m], s[:m], sym, parent, load, length, nxt, prv,
                           width, n, 0, True)
    if routes > inst.max_routes:
        # round two: join the ends of the remaining routes (the TSP's fragments), any saving
        tails = np.empty(n, dtype=np.int64)
        heads = np.empty(n, dtype=np.int64)
        nt = 0
        nh = 0
        for c in range(1, n + 1):
            if sym:
                if prv[c] == 0:
                    tails[nt] = c
                    nt += 1
            else:
                if nxt[c] == 0:
                    tails[nt] = c
                    nt += 1
                if prv[c] == 0:
                    heads[nh] = c
                    nh += 1
        if sym:
            heads = tails
            nh = nt
        if nt > MAX_LEFTOVER_ENDS or nh > MAX_LEFTOVER_ENDS:
            return False
        a = np.empty(nt * nh, dtype=np.int64)
        b = np.empty(nt * nh, dtype=np.int64)
        s = np.empty(nt * nh)
        m = 0
        for x in range(nt):
            for y in range(nh):
                i = tails[x]
                j = heads[y]
                a[m] = i
                b[m] = j
                s[m] = d[i, 0] + d[0, j] - d[i, j]
                m += 1
        routes = _merge_sorted(inst, a[:m], b[:m], s[:m], sym, parent, load, length, nxt, prv,
                               width, routes, inst.max_routes, False)
        if routes > inst.max_routes:
            return False
    # write the routes: walk each from a free end
    seen = np.zeros(n + 1, dtype=np.bool_)
    r = 0
    for c in range(1, n + 1):
        if seen[c] or prv[c] != 0:  # start at a free end (a head when directed)
            continue
        ln = 0
        x = c
        back = 0
        while x != 0:
            seen[x] = True
            sol.routes[r, ln] = x
            ln += 1
            if sym:
                y = nxt[x] if nxt[x] != back else prv[x]
            else:
                y = nxt[x]
            back = x
            x = y
        sol.lengths[r] = ln
        r += 1
    sol.nroutes[0] = r
    for q in range(r):
        refresh_route(inst, sol, q)
    return True
