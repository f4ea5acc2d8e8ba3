"""Repair (recreate) seed operators.

Each follows the ``repair`` role of :mod:`ahd.problems.engine.signatures`: insert every
customer of ``removed[0:k]``. Costs are *penalised*: travel delta plus ``penalty`` times the
capacity excess created, so repairs may overload a route when that is cheap and the engine's
adaptive penalty steers the search back to feasibility. A new route is opened only when the
fleet limit allows it and it is the cheaper option; a TSP therefore always keeps its single
tour (an emptied tour row is reused as "the new route").

Insertion scans assume symmetric customer-to-customer distances (true for every CVRPLIB,
TSPLIB-symmetric and generated instance); only arcs touching the depot may differ by
direction, as OVRP's free return arcs do.

The destroy step leaves emptied rows in place (the engine compacts later); the helpers here
treat such a row as a free new route, which also lets a fleet that is at its limit refill it.

The module is over 400 lines on purpose: :mod:`ahd.problems.operators.standalone` cuts each
seed out together with the insertion helpers and constants it uses *from this module*, so a
seed and its helpers must stay in one file.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.state import best_insertion, insert_customer
from .registry import register

#: SISR blink rate: each insertion position is skipped with this probability.
BLINK_RATE = 0.01
#: SISR insertion-order weights: random, demand (desc), far from depot, close to depot.
W_RANDOM = 4.0
W_DEMAND = 4.0
W_FAR = 2.0
W_CLOSE = 1.0
#: Regret-k: regret is the sum of the gaps between the best and the next k-1 route options.
REGRET_K = 3
#: Marker for the "new route" option in the regret top lists.
_NEW = -2


# --------------------------------------------------------------------------- shared helpers


@njit(cache=True, inline="always")
def _excess_cost(load, dem, cap, penalty):
    """Penalised capacity excess added by ``dem`` on a route loaded ``load``."""
    before = load - cap if load > cap else 0.0
    after = load + dem - cap
    if after <= before:
        return 0.0
    return penalty * (after - before)


@njit(cache=True)
def _empty_row(sol):
    """First in-use row that a destroy emptied, or -1."""
    for r in range(sol.nroutes[0]):
        if sol.lengths[r] == 0:
            return r
    return -1


@njit(cache=True)
def _new_route_row(inst, sol):
    """Row a new route would use (an emptied row first, so the fleet does not grow), or -1."""
    e = _empty_row(sol)
    if e >= 0:
        return e
    if sol.nroutes[0] < inst.max_routes:
        return sol.nroutes[0]
    return -1


@njit(cache=True)
def _new_route_cost(inst, c, penalty):
    """Penalised cost of serving c alone (its excess only matters for oversized demands)."""
    ex = inst.demand[c] - inst.capacity
    pen = penalty * ex if ex > 0.0 else 0.0
    return inst.dist[0, c] + inst.dist[c, 0] + pen


@njit(cache=True)
def _place(inst, sol, c, penalty):
    """``state.best_insertion`` plus emptied rows as new routes; always returns a usable slot.

    ``best_insertion`` skips empty rows and opens routes only below the fleet limit, so on its
    own it finds nothing for a fully emptied TSP tour, and ignores emptied rows when the fleet
    is full. If even that fails (a non-finite penalty), the unpenalised best is used.
    """
    r, p, best = best_insertion(inst, sol, c, penalty)
    nr = sol.nroutes[0]
    if r >= nr:
        e = _empty_row(sol)
        if e >= 0:
            return e, 0
        return r, p
    if r < 0 or nr >= inst.max_routes:
        e = _empty_row(sol)
        if e >= 0 and (r < 0 or _new_route_cost(inst, c, penalty) < best):
            return e, 0
    if r < 0:
        r, p, best = best_insertion(inst, sol, c, 0.0)
        if r < 0:
            return 0, 0
    return r, p


# --------------------------------------------------------------------------- greedy


@njit(cache=True, inline="always")
def _cheapest(dist, routes, lengths, load, nr, c, dem, cap, penalty):
    """Cheapest penalised slot of c over the non-empty routes: ``(cost, route, position)``.

    Same result as ``state.best_insertion`` without the new-route option, about twice as fast
    on large instances: with symmetric customer distances d(a, c) is the previous position's
    d(c, b), so the scan reads c's row sequentially instead of one matrix row per position.
    """
    d0c = dist[0, c]
    best = np.inf
    br = -1
    bp = -1
    for r in range(nr):
        ln = lengths[r]
        if ln == 0:
            continue
        pen = _excess_cost(load[r], dem, cap, penalty)
        if pen >= best:
            continue
        a = 0
        dac = d0c
        for p in range(ln + 1):
            b = routes[r, p] if p < ln else 0
            dcb = dist[c, b]
            d = dac + dcb - dist[a, b] + pen
            if d < best:
                best = d
                br = r
                bp = p
            a = b
            dac = dcb
    return best, br, bp


@register("repair", "greedy_repair")
def greedy_repair(inst, sol, removed, k, penalty):
    """Cheapest penalised insertion of each customer, in random order.

    The random order is what makes repeated greedy repairs differ; combined with the destroy
    randomisation it is the classic, fast LNS recreate. A new route is taken only when
    strictly cheaper than every existing slot.
    """
    order = removed[:k].copy()
    np.random.shuffle(order)
    dist = inst.dist
    cap = inst.capacity
    for i in range(k):
        c = order[i]
        best, r, p = _cheapest(
            dist, sol.routes, sol.lengths, sol.load, sol.nroutes[0], c, inst.demand[c], cap,
            penalty,
        )
        e = _new_route_row(inst, sol)
        if e >= 0 and _new_route_cost(inst, c, penalty) < best:
            r = e
            p = 0
        if r < 0:
            r, p = _place(inst, sol, c, penalty)
        insert_customer(inst, sol, c, r, p)


# --------------------------------------------------------------------------- SISR blinks


@njit(cache=True)
def _blink_order(inst, removed, k):
    """SISR insertion order: random, demand desc, far from depot first, or close first.

    Shuffling before the stable sort breaks ties (e.g. equal demands) at random.
    """
    order = removed[:k].copy()
    np.random.shuffle(order)
    u = np.random.random() * (W_RANDOM + W_DEMAND + W_FAR + W_CLOSE)
    if u < W_RANDOM:
        return order
    key = np.empty(k)
    for i in range(k):
        c = order[i]
        if u < W_RANDOM + W_DEMAND:
            key[i] = -inst.demand[c]
        elif u < W_RANDOM + W_DEMAND + W_FAR:
            key[i] = -inst.dist[0, c]
        else:
            key[i] = inst.dist[0, c]
    return order[np.argsort(key, kind="mergesort")]


@njit(cache=True)
def _blink_gap(log_keep):
    """Positions evaluated before the next blink: geometric, so one draw per ~1/rate positions
    instead of one per position, with the same distribution."""
    u = 1.0 - np.random.random()
    return int(np.log(u) / log_keep)


@register("repair", "blink_repair")
def blink_repair(inst, sol, removed, k, penalty):
    """SISR recreate (Christiaens & Vanden Berghe 2020): best insertion with blinks.

    Customers are sorted by one of four orders (weights 4:4:2:1) and each is inserted at its
    best penalised position, except that every position is skipped ("blinked") with
    probability ``BLINK_RATE``, which adds just enough noise to escape repeated identical
    repairs. A new route is taken when cheaper than every evaluated position.
    """
    order = _blink_order(inst, removed, k)
    log_keep = np.log(1.0 - BLINK_RATE)
    gap = _blink_gap(log_keep)
    dist = inst.dist
    cap = inst.capacity
    routes = sol.routes
    lengths = sol.lengths
    load = sol.load
    for i in range(k):
        c = order[i]
        dem = inst.demand[c]
        d0c = dist[0, c]
        best = np.inf
        br = -1
        bp = -1
        for r in range(sol.nroutes[0]):
            ln = lengths[r]
            if ln == 0:
                continue
            pen = _excess_cost(load[r], dem, cap, penalty)
            if pen >= best:
                continue
            a = 0
            dac = d0c
            for p in range(ln + 1):
                b = routes[r, p] if p < ln else 0
                dcb = dist[c, b]
                if gap == 0:
                    gap = _blink_gap(log_keep)
                else:
                    gap -= 1
                    d = dac + dcb - dist[a, b] + pen
                    if d < best:
                        best = d
                        br = r
                        bp = p
                a = b
                dac = dcb
        e = _new_route_row(inst, sol)
        if e >= 0 and _new_route_cost(inst, c, penalty) < best:
            br = e
            bp = 0
        if br < 0:
            br, bp = _place(inst, sol, c, penalty)
        insert_customer(inst, sol, c, br, bp)


# --------------------------------------------------------------------------- regret-k
# The helpers below take plain arrays and are inlined: they run O(k) times per insertion, and a
# real call passing the ``inst``/``sol`` records costs more than the work itself.


@njit(cache=True, inline="always")
def _scan_route(dist, routes, ln, r, c):
    """Best travel delta of c in route r and the predecessor node of that slot.

    The predecessor (not the index) stays valid while other insertions shift positions; it is
    stale only when an insertion lands right after it, which the caller detects.
    """
    best = np.inf
    bpred = 0
    a = 0
    dac = dist[0, c]
    for p in range(ln + 1):
        b = routes[r, p] if p < ln else 0
        dcb = dist[c, b]
        d = dac + dcb - dist[a, b]
        if d < best:
            best = d
            bpred = a
        a = b
        dac = dcb
    return best, bpred


@njit(cache=True, inline="always")
def _top_insert(tv, tr, i, val, r):
    """Insert ``(val, r)`` into row i's ascending top-k list (val below its last entry)."""
    j = REGRET_K - 1
    while j > 0 and tv[i, j - 1] > val:
        tv[i, j] = tv[i, j - 1]
        tr[i, j] = tr[i, j - 1]
        j -= 1
    tv[i, j] = val
    tr[i, j] = r


@njit(cache=True, inline="always")
def _top_rescan(i, nr, lengths, load, dem, cap, penalty, dpart, newc, can_new, tv, tr):
    """Rebuild row i's top-k route options from the cached per-route deltas (O(routes))."""
    last = REGRET_K - 1
    for j in range(REGRET_K):
        tv[i, j] = np.inf
        tr[i, j] = -1
    for r in range(nr):
        if lengths[r] == 0:
            continue
        v = dpart[i, r] + _excess_cost(load[r], dem, cap, penalty)
        if v < tv[i, last]:
            _top_insert(tv, tr, i, v, r)
    if can_new and newc[i] < tv[i, last]:
        _top_insert(tv, tr, i, newc[i], _NEW)


@njit(cache=True, inline="always")
def _pick_regret(tv, m):
    """Pending index with the largest regret; ties (always, with one route) go to the
    customer whose best insertion is most expensive, i.e. farthest insertion."""
    bi = 0
    breg = -1.0
    bv = -np.inf
    for i in range(m):
        v1 = tv[i, 0]
        reg = 0.0
        for j in range(1, REGRET_K):
            if tv[i, j] < np.inf:
                reg += tv[i, j] - v1
        if reg > breg or (reg == breg and v1 > bv):
            bi = i
            breg = reg
            bv = v1
    return bi


@njit(cache=True)
def _drop_pending(i, m, pend, newc, dpart, pred, tv, tr):
    """Move pending entry m (the last) into slot i, dropping entry i."""
    pend[i] = pend[m]
    newc[i] = newc[m]
    for r in range(dpart.shape[1]):
        dpart[i, r] = dpart[m, r]
        pred[i, r] = pred[m, r]
    for j in range(REGRET_K):
        tv[i, j] = tv[m, j]
        tr[i, j] = tr[m, j]


@register("repair", "regret_repair")
def regret_repair(inst, sol, removed, k, penalty):
    """Regret-3 insertion (Ropke & Pisinger 2006): insert first the customer that would lose
    most by waiting, i.e. whose best route option is far better than its next two.

    Per (customer, route) the best travel delta and its slot are cached, and per customer the
    three best penalised route options. Inserting into route r only invalidates column r, and
    only the two new arcs need checking unless the customer's cached slot was the arc just
    split, so a step costs O(k) plus occasional O(route) rescans instead of O(k n). With a
    single route (TSP) every regret is zero and the rule becomes farthest insertion.
    """
    if k <= 0:
        return
    dist = inst.dist
    demand = inst.demand
    cap = inst.capacity
    routes = sol.routes
    lengths = sol.lengths
    load = sol.load
    last = REGRET_K - 1
    nr0 = sol.nroutes[0]
    cols = max(nr0, min(nr0 + k, inst.max_routes), 1)
    pend = removed[:k].copy()
    np.random.shuffle(pend)
    dpart = np.full((k, cols), np.inf)
    pred = np.zeros((k, cols), np.int64)
    tv = np.full((k, REGRET_K), np.inf)
    tr = np.full((k, REGRET_K), -1, np.int64)
    newc = np.empty(k)
    can_new = _new_route_row(inst, sol) >= 0
    for i in range(k):
        c = pend[i]
        newc[i] = _new_route_cost(inst, c, penalty)
        for r in range(nr0):
            if lengths[r] > 0:
                dpart[i, r], pred[i, r] = _scan_route(dist, routes, lengths[r], r, c)
        _top_rescan(i, nr0, lengths, load, demand[c], cap, penalty, dpart, newc, can_new, tv, tr)
    m = k
    while m > 0:
        bi = _pick_regret(tv, m)
        c = pend[bi]
        r = tr[bi, 0]
        p = 0
        if r == _NEW:
            r = _new_route_row(inst, sol)
        elif r >= 0:
            a0 = pred[bi, r]
            p = 0 if a0 == 0 else sol.pos[a0] + 1
        else:
            r, p = _place(inst, sol, c, penalty)
        was_empty = r >= sol.nroutes[0] or lengths[r] == 0
        r = insert_customer(inst, sol, c, r, p)
        p = sol.pos[c]
        ln = lengths[r]
        a = routes[r, p - 1] if p > 0 else 0
        b = routes[r, p + 1] if p + 1 < ln else 0
        m -= 1
        if bi != m:
            _drop_pending(bi, m, pend, newc, dpart, pred, tv, tr)
        now_new = _new_route_row(inst, sol) >= 0
        lost_new = can_new and not now_new
        can_new = now_new
        nr = sol.nroutes[0]
        dac = dist[a, c]
        dcb = dist[c, b]
        load_r = load[r]
        for i in range(m):
            x = pend[i]
            if was_empty or pred[i, r] == a:
                dpart[i, r], pred[i, r] = _scan_route(dist, routes, ln, r, x)
            else:
                d1 = dist[a, x] + dist[x, c] - dac
                if d1 < dpart[i, r]:
                    dpart[i, r] = d1
                    pred[i, r] = a
                d2 = dist[c, x] + dist[x, b] - dcb
                if d2 < dpart[i, r]:
                    dpart[i, r] = d2
                    pred[i, r] = c
            dem = demand[x]
            if lost_new:
                _top_rescan(i, nr, lengths, load, dem, cap, penalty, dpart, newc, can_new, tv, tr)
                continue
            # refresh row i's top list for route r; rescan only if r may have dropped out
            v = dpart[i, r] + _excess_cost(load_r, dem, cap, penalty)
            idx = -1
            for j in range(REGRET_K):
                if tr[i, j] == r:
                    idx = j
            if idx < 0:
                if v < tv[i, last]:
                    _top_insert(tv, tr, i, v, r)
            elif v <= tv[i, idx] or tr[i, last] == -1 or (idx < last and v <= tv[i, last]):
                for j in range(idx, last):
                    tv[i, j] = tv[i, j + 1]
                    tr[i, j] = tr[i, j + 1]
                tv[i, last] = np.inf
                tr[i, last] = -1
                _top_insert(tv, tr, i, v, r)
            else:
                _top_rescan(i, nr, lengths, load, dem, cap, penalty, dpart, newc, can_new, tv, tr)
