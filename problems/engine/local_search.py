"""Granular local search: the compiled improvement step the LNS engine runs after every repair.

Entry point
-----------
``local_search(inst, sol, penalty, seeds, n_seeds, max_moves, granularity=GRANULARITY)``
    Improves ``sol`` in place under the penalised objective

        sum_r cost[r] + penalty * sum_r max(0, load[r] - capacity)

    by first-improvement descent and returns the number of moves applied. ``seeds[:n_seeds]``
    are the customers the caller just changed (the engine passes the customers it reinserted);
    ``n_seeds == 0`` treats every customer as changed. ``max_moves`` caps the work. Every
    customer must be assigned (unassigned ones are skipped, never moved).

``descend(inst, sol, penalty, seeds, n_seeds, max_moves, K, rptr, ridx)``
    The same with the reverse neighbour lists (:func:`reverse_neighbours`) built once by the
    caller: the LNS loop, which searches after every repair.

``improve_all(inst, sol, penalty)``
    The same from every customer, with the ``improve`` role's signature.

Neighbourhood
-------------
For a customer ``u`` and each ``v`` among its ``granularity`` nearest customers, every move
below creates an arc between ``u`` and ``v`` or puts ``u`` next to the depot:

* relocate / or-opt: the segment of 1-3 consecutive customers that starts or ends at ``u``
  goes right after or right before ``v`` (the orientation that makes ``u`` and ``v``
  adjacent; same or another route); ``u`` alone goes to the start or the end of ``v``'s route;
  the segment goes alone into an empty route when the fleet allows one;
* swap and (2,1)/(1,2)/(2,2) exchanges between ``u`` (+ successor) and ``v`` (+ successor);
* 2-opt inside a route (the two reversals that make ``u`` and ``v`` adjacent), and reversing a
  whole route (only when depot arcs are asymmetric, i.e. OVRP);
* 2-opt* between routes: the two tail exchanges keeping directions (arc ``u->v`` or
  ``v->u``), the reversing variants (both orientations only for asymmetric depot arcs), and
  the split of ``u``'s route into a new route before or after ``u``.

Costs are always evaluated in travel direction: per-customer prefix sums of forward and
backward arc costs make every reversal O(1) and exact even when ``dist`` is asymmetric (OVRP's
free returns), and prefix loads make every capacity check O(1).

Bookkeeping
-----------
A move is applied by rewriting the rows of the routes it changes and recomputing them with the
same arithmetic as ``state.refresh_route`` (so ``pos``, ``route_of``, ``load`` and ``cost`` stay
exactly consistent; routes the search never touches are left as they are). Routes emptied by a
move stay as empty rows; ``nroutes[0]`` only grows when a move opens a route. Every route
carries the time of its last change and every customer the time its neighbourhood was last
found without an improving move; a pair ``(u, v)`` is re-examined only if one of the two
routes (or, at the start, one of the two customers: a seed or a seed's route neighbour)
changed since. The search therefore stops exactly at a local optimum of the neighbourhood,
while a call after a small repair only examines what the repair touched. Each change also
marks the customers it may concern (those of the changed routes and everyone with one of
them among their neighbours, through reverse neighbour lists), so a pass skips the others in
O(1) rather than checking their K neighbours: the same decisions, about 16% less time at
20,000 customers.

Compile cost
------------
numba compiles this module on a process's first search unless its on-disk cache holds it (a
fresh install: about a quarter of ``ahd solve``'s cold start). Two habits keep that down
without changing the machine code that runs. The private kernels are compiled without the
CPython and first-class-function wrappers numba adds to every function by default: only
compiled code calls them, and a wrapper that unboxes the ``inst``/``sol``/``Work`` records
costs 0.1-0.3 s of compilation per kernel. ``_add`` and ``_emit`` have one explicit
signature: called with constants (``SEG``, ``0``, ``False``), or with a variable that numba
first types as the constant it starts from, they would otherwise be compiled once per
combination of literal arguments (twelve copies of ``_add``, six of ``_emit``, two of
``_write``), and all but one of those copies are never run. (``_write`` has no fixed signature:
it is compiled once per kind of ``inst.dist``, matrix or coordinates.)

Over 400 lines: numba kernels (the move evaluations, the granular neighbour scan and the
descent that calls them) that are read and tuned together; not split yet.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

#: Default number of nearest neighbours examined per customer.
GRANULARITY = 20

#: A move must improve the penalised objective by more than this fraction of the travel cost
#: (plus an absolute 1e-9), so float noise can never make the search cycle.
EPS_REL = 1e-9

#: Scratch state of one call: prefix costs and loads per customer, two route buffers, the time
#: of each route's last change, the time each customer was marked as changed (seeds), the time
#: each customer was last examined without success, a per-route stamp, ``meta = [clock, empty
#: row or -1, time an empty row appeared, stamp, 1 if depot arcs are symmetric]`` and the
#: candidate moves of the current scan, then a mark per customer that may need a scan (a
#: superset of those that do) and the reverse neighbour lists that keep it (CSR: the customers
#: having c among their first K neighbours are ``ridx[rptr[c]:rptr[c + 1]]``).
Work = namedtuple("Work", "fw bw cl buf1 buf2 route_mod cust_mod tested seen meta cand mark"
                          " rptr ridx")


def _private(*signature):
    """``njit`` with the on-disk cache for a kernel that only compiled code calls: without the
    CPython wrapper and the first-class-function wrapper (see "Compile cost" above). Calling
    such a kernel from Python crashes the interpreter, hence private names only."""
    return njit(*signature, cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True)


_INT1 = types.Array(types.int64, 1, "C")
_INT2 = types.Array(types.int64, 2, "C")
_FLOAT1 = types.Array(types.float64, 1, "C")
#: The one signature of each kernel called with constants (see "Compile cost" above).
_ADD_SIGNATURE = types.int64(_INT2, *([types.int64] * 8))
_EMIT_SIGNATURE = types.int64(
    _INT2, types.int64, types.int64, types.int64, types.boolean, _INT1, types.int64
)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


@_private()
def _pen(load, cap, penalty):
    """Penalty of a route load (0 when within capacity, never ``0 * inf``)."""
    e = load - cap
    if e > 0.0:
        return penalty * e
    return 0.0


@_private()
def _prefix(inst, sol, w, r):
    """Fill the prefix arrays of route r without touching ``sol``."""
    ln = sol.lengths[r]
    if ln == 0:
        return
    d = inst.dist
    dem = inst.demand
    prev = sol.routes[r, 0]
    f = 0.0
    b = 0.0
    load = 0.0 + dem[prev]
    w.fw[prev] = 0.0
    w.bw[prev] = 0.0
    w.cl[prev] = load
    for i in range(1, ln):
        x = sol.routes[r, i]
        f += d[prev, x]
        b += d[x, prev]
        load += dem[x]
        w.fw[x] = f
        w.bw[x] = b
        w.cl[x] = load
        prev = x


@_private()
def _mark(w, c):
    """c changed: c and every customer with c among its neighbours may need a scan."""
    w.mark[c] = True
    for t in range(w.rptr[c], w.rptr[c + 1]):
        w.mark[w.ridx[t]] = True


@_private()
def _commit(inst, sol, w, r):
    """Recompute route r after its row changed (as ``refresh_route`` does) and its prefixes,
    and mark its customers and their reverse neighbours (see :func:`_needs_scan`)."""
    ln = sol.lengths[r]
    w.route_mod[r] = w.meta[0]
    for i in range(ln):
        _mark(w, sol.routes[r, i])
    if ln == 0:
        sol.load[r] = 0.0
        sol.cost[r] = 0.0
        return
    d = inst.dist
    dem = inst.demand
    prev = sol.routes[r, 0]
    c = d[0, prev]
    f = 0.0
    b = 0.0
    load = 0.0 + dem[prev]
    sol.pos[prev] = 0
    sol.route_of[prev] = r
    w.fw[prev] = 0.0
    w.bw[prev] = 0.0
    w.cl[prev] = load
    for i in range(1, ln):
        x = sol.routes[r, i]
        c += d[prev, x]
        f += d[prev, x]
        b += d[x, prev]
        load += dem[x]
        sol.pos[x] = i
        sol.route_of[x] = r
        w.fw[x] = f
        w.bw[x] = b
        w.cl[x] = load
        prev = x
    sol.cost[r] = c + d[prev, 0]
    sol.load[r] = load


@_private()
def _find_empty(inst, sol):
    """A row a new route can use (an empty used row, else ``nroutes[0]``), or -1."""
    k = sol.nroutes[0]
    for r in range(k):
        if sol.lengths[r] == 0:
            return r
    if k < inst.max_routes:
        sol.lengths[k] = 0
        sol.load[k] = 0.0
        sol.cost[k] = 0.0
        return k
    return -1


@_private()
def _depot_symmetric(inst):
    """True when arcs to and from the depot cost the same (not OVRP). Used only to skip
    candidates that then duplicate others, never to evaluate a move."""
    d = inst.dist
    for i in range(1, inst.n + 1):
        if d[0, i] != d[i, 0]:
            return False
    return True


@_private()
def _begin(sol, w, r):
    """Start a move: advance the clock and open row r if it is beyond the used rows."""
    w.meta[0] += 1
    if r >= sol.nroutes[0]:
        sol.nroutes[0] = r + 1
        sol.lengths[r] = 0
        sol.load[r] = 0.0
        sol.cost[r] = 0.0


@_private()
def _end(inst, sol, w):
    """Finish a move: track whether an empty route became available."""
    er = _find_empty(inst, sol)
    if er >= 0 and w.meta[1] < 0:
        w.meta[2] = w.meta[0]
    w.meta[1] = er


def _write(inst, sol, w, r, buf, m):
    """Replace the row of route r by ``buf[:m]`` and recompute it (refused, never written past
    the row, when a bounded row cannot hold ``m``: see ``sizing.route_width``).

    Compiled through :func:`_write_overload`, once per distance layout of ``inst`` (an explicit
    signature would fix one layout; a plain dispatcher would also compile a copy specialised
    on a literal ``m`` that never runs); under ``NUMBA_DISABLE_JIT`` this body runs as Python.
    """
    if m > sol.routes.shape[1]:
        raise ValueError("local search: a move would overfill a route's row")
    for t in range(m):
        sol.routes[r, t] = buf[t]
    sol.lengths[r] = m
    _commit(inst, sol, w, r)


@overload(_write, jit_options={"cache": True, "no_cpython_wrapper": True,
                               "no_cfunc_wrapper": True})
def _write_overload(inst, sol, w, r, buf, m):
    return _write


@_private(_EMIT_SIGNATURE)
def _emit(rt, r, i, j, rev, buf, m):
    """Append positions i..j of route r (reversed if ``rev``) to ``buf[m:]``."""
    if rev:
        for t in range(j, i - 1, -1):
            buf[m] = rt[r, t]
            m += 1
    else:
        for t in range(i, j + 1):
            buf[m] = rt[r, t]
            m += 1
    return m


# --------------------------------------------------------------------------------------------
# segment move (relocate / or-opt): positions i..j of route ru go before position k of rv
# --------------------------------------------------------------------------------------------


@_private()
def _seg_apply(inst, sol, w, ru, i, j, rv, k, rev):
    _begin(sol, w, rv)
    rt = sol.routes
    buf = w.buf1
    lnv = sol.lengths[rv]
    m = 0
    if ru == rv:
        for t in range(lnv + 1):
            if t == k:
                m = _emit(rt, ru, i, j, rev, buf, m)
            if t < lnv and (t < i or t > j):
                buf[m] = rt[ru, t]
                m += 1
        _write(inst, sol, w, ru, buf, m)
    else:
        for t in range(lnv + 1):
            if t == k:
                m = _emit(rt, ru, i, j, rev, buf, m)
            if t < lnv:
                buf[m] = rt[rv, t]
                m += 1
        seg = j - i + 1
        lnu = sol.lengths[ru]
        for t in range(j + 1, lnu):
            rt[ru, t - seg] = rt[ru, t]
        sol.lengths[ru] = lnu - seg
        _commit(inst, sol, w, ru)
        _write(inst, sol, w, rv, buf, m)
    _end(inst, sol, w)


# --------------------------------------------------------------------------------------------
# exchange: positions i1..j1 of ru <-> positions i2..j2 of rv (same route: single, non-adjacent)
# --------------------------------------------------------------------------------------------


@_private()
def _swap_apply(inst, sol, w, ru, i1, j1, rv, i2, j2):
    _begin(sol, w, rv)
    rt = sol.routes
    if ru == rv:
        x = rt[ru, i1]
        rt[ru, i1] = rt[ru, i2]
        rt[ru, i2] = x
        _commit(inst, sol, w, ru)
    else:
        b1 = w.buf1
        b2 = w.buf2
        m1 = _emit(rt, ru, 0, i1 - 1, False, b1, 0)
        m1 = _emit(rt, rv, i2, j2, False, b1, m1)
        m1 = _emit(rt, ru, j1 + 1, sol.lengths[ru] - 1, False, b1, m1)
        m2 = _emit(rt, rv, 0, i2 - 1, False, b2, 0)
        m2 = _emit(rt, ru, i1, j1, False, b2, m2)
        m2 = _emit(rt, rv, j2 + 1, sol.lengths[rv] - 1, False, b2, m2)
        _write(inst, sol, w, ru, b1, m1)
        _write(inst, sol, w, rv, b2, m2)
    _end(inst, sol, w)


# --------------------------------------------------------------------------------------------
# 2-opt inside a route: reverse positions s..e of route r
# --------------------------------------------------------------------------------------------


@_private()
def _rev_apply(inst, sol, w, r, s, e):
    _begin(sol, w, r)
    rt = sol.routes
    while s < e:
        x = rt[r, s]
        rt[r, s] = rt[r, e]
        rt[r, e] = x
        s += 1
        e -= 1
    _commit(inst, sol, w, r)
    _end(inst, sol, w)


# --------------------------------------------------------------------------------------------
# 2-opt*: cut route ra after position ia and route rb after position ib (-1: before the first)
#   kind 0: A[..ia] + B[ib+1..]        and  B[..ib] + A[ia+1..]
#   kind 1: A[..ia] + rev(B[..ib])     and  rev(A[ia+1..]) + B[ib+1..]
#   kind 2: B[..ib] + rev(A[..ia])     and  rev(B[ib+1..]) + A[ia+1..]
# --------------------------------------------------------------------------------------------


@_private()
def _star_apply(inst, sol, w, ra, ia, rb, ib, kind):
    _begin(sol, w, rb)
    rt = sol.routes
    b1 = w.buf1
    b2 = w.buf2
    la = sol.lengths[ra]
    lb = sol.lengths[rb]
    if kind == 0:
        m1 = _emit(rt, ra, 0, ia, False, b1, 0)
        m1 = _emit(rt, rb, ib + 1, lb - 1, False, b1, m1)
        m2 = _emit(rt, rb, 0, ib, False, b2, 0)
        m2 = _emit(rt, ra, ia + 1, la - 1, False, b2, m2)
    elif kind == 1:
        m1 = _emit(rt, ra, 0, ia, False, b1, 0)
        m1 = _emit(rt, rb, 0, ib, True, b1, m1)
        m2 = _emit(rt, ra, ia + 1, la - 1, True, b2, 0)
        m2 = _emit(rt, rb, ib + 1, lb - 1, False, b2, m2)
    else:
        m1 = _emit(rt, rb, 0, ib, False, b1, 0)
        m1 = _emit(rt, ra, 0, ia, True, b1, m1)
        m2 = _emit(rt, rb, ib + 1, lb - 1, True, b2, 0)
        m2 = _emit(rt, ra, ia + 1, la - 1, False, b2, m2)
    _write(inst, sol, w, ra, b1, m1)
    _write(inst, sol, w, rb, b2, m2)
    _end(inst, sol, w)


# --------------------------------------------------------------------------------------------
# move search
#
# Everything a scan of one customer evaluates lives in ``_scan``, with no call that takes an
# array: numba cannot prune the atomic reference counting of array arguments of a function
# with branches, and that overhead (about 5 ns per array per call) used to dominate the search.
# Candidate moves are written to ``w.cand`` rows ``(type, a1..a6)`` and evaluated in one loop:
#   SEG  (ru, i, j, rv, k, rev)     positions i..j of ru go before position k of rv
#   SWAP (ru, i1, j1, rv, i2, j2)   exchange the two segments
#   REV  (r, s, e)                  reverse positions s..e of r
#   STAR (ra, ia, rb, ib, kind)     2-opt* as described above
# --------------------------------------------------------------------------------------------

SEG = 0
SWAP = 1
REV = 2
STAR = 3
MAX_CANDIDATES = 64


@_private(_ADD_SIGNATURE)
def _add(cand, nc, t, a1, a2, a3, a4, a5, a6):
    cand[nc, 0] = t
    cand[nc, 1] = a1
    cand[nc, 2] = a2
    cand[nc, 3] = a3
    cand[nc, 4] = a4
    cand[nc, 5] = a5
    cand[nc, 6] = a6
    return nc + 1


@_private()
def _add_segments_at(cand, nc, ru, pu, lu, rv, k, lv):
    """SEG candidates: the segments of 1-3 customers with u (at position pu of ru) at one end,
    both orientations, before position k of another route rv of length lv."""
    for seg in range(1, 4):
        for side in range(2):
            if side == 0:
                i = pu
                j = pu + seg - 1
                ok = j < lu
            else:
                i = pu - seg + 1
                j = pu
                ok = seg > 1 and i >= 0
            if ok and not (lv == 0 and i == 0 and j == lu - 1):
                nc = _add(cand, nc, SEG, ru, i, j, rv, k, 0)
                if seg > 1:
                    nc = _add(cand, nc, SEG, ru, i, j, rv, k, 1)
    return nc


@_private()
def _fits(cand, c, lens, width):
    """Whether candidate c leaves every route it changes within a row of ``width`` (bounded
    rows on large instances, see ``sizing.route_width``; a low capacity penalty could
    otherwise grow a route past its row). Checked only for improving candidates."""
    typ = cand[c, 0]
    if typ == SEG:
        return cand[c, 1] == cand[c, 4] or lens[cand[c, 4]] + cand[c, 3] - cand[c, 2] + 1 <= width
    if typ == SWAP:
        if cand[c, 1] == cand[c, 4]:
            return True
        grow = (cand[c, 6] - cand[c, 5]) - (cand[c, 3] - cand[c, 2])
        return lens[cand[c, 1]] + grow <= width and lens[cand[c, 4]] - grow <= width
    if typ == REV:
        return True
    la = lens[cand[c, 1]]
    lb = lens[cand[c, 3]]
    ia = cand[c, 2]
    ib = cand[c, 4]
    if cand[c, 5] == 0:
        return ia + lb - ib <= width and ib + la - ia <= width
    return ia + ib + 2 <= width and la + lb - ia - ib - 2 <= width


@_private()
def _scan(inst, sol, w, penalty, thr, u, K):
    """Index in ``w.cand`` of the first improving move around u, or -1."""
    d = inst.dist
    dem = inst.demand
    cap = inst.capacity
    nb = inst.neighbors
    rt = sol.routes
    lens = sol.lengths
    ro = sol.route_of
    ps = sol.pos
    load = sol.load
    cost = sol.cost
    fw = w.fw
    bw = w.bw
    cl = w.cl
    cand = w.cand
    route_mod = w.route_mod
    seen = w.seen
    meta = w.meta

    ru = ro[u]
    pu = ps[u]
    lu = lens[ru]
    tu = w.tested[u]
    cust_mod = w.cust_mod
    ru_dirty = route_mod[ru] > tu or cust_mod[u] > tu
    meta[3] += 1
    stamp = meta[3]

    for step in range(K + 1):
        nc = 0
        if step < K:
            v = nb[u, step]
            if v == u:
                continue
            rv = ro[v]
            if rv < 0:
                continue
            if not ru_dirty and route_mod[rv] <= tu and cust_mod[v] <= tu:
                continue
            pv = ps[v]
            lv = lens[rv]
            same = ru == rv
            # relocate / or-opt: a segment with u at one end goes after v (u first) or
            # before v (u last)
            for seg in range(1, 4):
                for side in range(2):
                    if side == 0:  # u .. e
                        i = pu
                        j = pu + seg - 1
                        if j >= lu:
                            continue
                    else:  # s .. u
                        if seg == 1:
                            continue
                        i = pu - seg + 1
                        j = pu
                        if i < 0:
                            continue
                    if same and i <= pv and pv <= j:
                        continue
                    k = pv + 1
                    if not same or k < i or k > j + 1:
                        nc = _add(cand, nc, SEG, ru, i, j, rv, k, side)
                    k = pv
                    flip = 1 if (side == 0 and seg > 1) else 0
                    if not same or k < i or k > j + 1:
                        nc = _add(cand, nc, SEG, ru, i, j, rv, k, flip)
            # swap and (2,1), (1,2), (2,2) exchanges
            if not same or abs(pu - pv) > 1:
                nc = _add(cand, nc, SWAP, ru, pu, pu, rv, pv, pv)
            if not same:
                if pu + 1 < lu:
                    nc = _add(cand, nc, SWAP, ru, pu, pu + 1, rv, pv, pv)
                if pv + 1 < lv:
                    nc = _add(cand, nc, SWAP, ru, pu, pu, rv, pv, pv + 1)
                if pu + 1 < lu and pv + 1 < lv:
                    nc = _add(cand, nc, SWAP, ru, pu, pu + 1, rv, pv, pv + 1)
            if same:
                # 2-opt: the two reversals that make u and v adjacent
                a = min(pu, pv)
                b = max(pu, pv)
                if b - a >= 2:
                    nc = _add(cand, nc, REV, ru, a + 1, b, 0, 0, 0)
                    nc = _add(cand, nc, REV, ru, a, b - 1, 0, 0, 0)
            else:
                # 2-opt*: arc u->v or v->u keeping directions, and the reversing variants
                nc = _add(cand, nc, STAR, ru, pu, rv, pv - 1, 0, 0)
                nc = _add(cand, nc, STAR, ru, pu - 1, rv, pv, 0, 0)
                # (kind 2 reverses both routes of kind 1: same cost when arcs are symmetric)
                for kind in range(1, 3 - meta[4]):
                    nc = _add(cand, nc, STAR, ru, pu, rv, pv, kind, 0)
                    nc = _add(cand, nc, STAR, ru, pu - 1, rv, pv - 1, kind, 0)
                if seen[rv] != stamp:
                    # u alone right after the depot at the start of rv, or last in rv
                    seen[rv] = stamp
                    nc = _add(cand, nc, SEG, ru, pu, pu, rv, 0, 0)
                    nc = _add(cand, nc, SEG, ru, pu, pu, rv, lv, 0)
        else:
            if lu >= 2 and ru_dirty and meta[4] == 0:
                # reverse the whole route (changes the cost only for asymmetric arcs, e.g. OVRP)
                nc = _add(cand, nc, REV, ru, 0, lu - 1, 0, 0, 0)
            er = meta[1]
            if er >= 0 and lu >= 2 and (ru_dirty or meta[2] > tu):
                # u's segments alone in a new route; split u's route after or before u
                nc = _add_segments_at(cand, nc, ru, pu, lu, er, 0, 0)
                nc = _add(cand, nc, STAR, ru, pu, er, -1, 0, 0)
                nc = _add(cand, nc, STAR, ru, pu - 1, er, -1, 0, 0)

        for c in range(nc):
            typ = cand[c, 0]
            if typ == SEG:
                ra = cand[c, 1]
                i = cand[c, 2]
                j = cand[c, 3]
                rb = cand[c, 4]
                k = cand[c, 5]
                rev = cand[c, 6] == 1
                la = lens[ra]
                f = rt[ra, i]
                l = rt[ra, j]
                p = rt[ra, i - 1] if i > 0 else 0
                q = rt[ra, j + 1] if j + 1 < la else 0
                fi = fw[l] - fw[f]
                bi = bw[l] - bw[f]
                lb = lens[rb]
                a = rt[rb, k - 1] if k > 0 else 0
                b = rt[rb, k] if k < lb else 0
                if ra == rb:
                    delta = d[p, q] - d[p, f] - d[l, q] - d[a, b]
                    if rev:
                        delta += d[a, l] + d[f, b] + bi - fi
                    else:
                        delta += d[a, f] + d[l, b]
                else:
                    if p == 0 and q == 0:
                        delta = -cost[ra]
                    else:
                        delta = d[p, q] - d[p, f] - d[l, q] - fi
                    if lb == 0:
                        if rev:
                            delta += d[0, l] + bi + d[f, 0]
                        else:
                            delta += d[0, f] + fi + d[l, 0]
                    elif rev:
                        delta += d[a, l] + bi + d[f, b] - d[a, b]
                    else:
                        delta += d[a, f] + fi + d[l, b] - d[a, b]
                    sl = cl[l] - cl[f] + dem[f]
                    delta += (
                        _pen(load[ra] - sl, cap, penalty)
                        + _pen(load[rb] + sl, cap, penalty)
                        - _pen(load[ra], cap, penalty)
                        - _pen(load[rb], cap, penalty)
                    )
            elif typ == SWAP:
                ra = cand[c, 1]
                i1 = cand[c, 2]
                j1 = cand[c, 3]
                rb = cand[c, 4]
                i2 = cand[c, 5]
                j2 = cand[c, 6]
                f1 = rt[ra, i1]
                l1 = rt[ra, j1]
                f2 = rt[rb, i2]
                l2 = rt[rb, j2]
                p1 = rt[ra, i1 - 1] if i1 > 0 else 0
                q1 = rt[ra, j1 + 1] if j1 + 1 < lens[ra] else 0
                p2 = rt[rb, i2 - 1] if i2 > 0 else 0
                q2 = rt[rb, j2 + 1] if j2 + 1 < lens[rb] else 0
                delta = (
                    d[p1, f2] + d[l2, q1] - d[p1, f1] - d[l1, q1]
                    + d[p2, f1] + d[l1, q2] - d[p2, f2] - d[l2, q2]
                )
                if ra != rb:
                    s1 = cl[l1] - cl[f1] + dem[f1]
                    s2 = cl[l2] - cl[f2] + dem[f2]
                    delta += (
                        _pen(load[ra] - s1 + s2, cap, penalty)
                        + _pen(load[rb] - s2 + s1, cap, penalty)
                        - _pen(load[ra], cap, penalty)
                        - _pen(load[rb], cap, penalty)
                    )
            elif typ == REV:
                ra = cand[c, 1]
                i = cand[c, 2]
                j = cand[c, 3]
                f = rt[ra, i]
                l = rt[ra, j]
                p = rt[ra, i - 1] if i > 0 else 0
                q = rt[ra, j + 1] if j + 1 < lens[ra] else 0
                delta = (
                    d[p, l] + d[f, q] - d[p, f] - d[l, q]
                    + (bw[l] - bw[f]) - (fw[l] - fw[f])
                )
            else:
                ra = cand[c, 1]
                ia = cand[c, 2]
                rb = cand[c, 3]
                ib = cand[c, 4]
                kind = cand[c, 5]
                la = lens[ra]
                lb = lens[rb]
                a_i = rt[ra, ia] if ia >= 0 else 0
                a_n = rt[ra, ia + 1] if ia + 1 < la else 0
                b_i = rt[rb, ib] if ib >= 0 else 0
                b_n = rt[rb, ib + 1] if ib + 1 < lb else 0
                a0 = rt[ra, 0]
                a_l = rt[ra, la - 1]
                b0 = rt[rb, 0] if lb > 0 else 0
                b_l = rt[rb, lb - 1] if lb > 0 else 0
                # pieces: depot -> ..x (pre), x.. -> depot (suf), reversed ones (rpre, rsuf)
                pre_a = d[0, a0] + fw[a_i] if a_i != 0 else 0.0
                pre_b = d[0, b0] + fw[b_i] if b_i != 0 else 0.0
                suf_a = fw[a_l] - fw[a_n] + d[a_l, 0] if a_n != 0 else 0.0
                suf_b = fw[b_l] - fw[b_n] + d[b_l, 0] if b_n != 0 else 0.0
                pla = cl[a_i] if a_i != 0 else 0.0
                plb = cl[b_i] if b_i != 0 else 0.0
                if kind == 0:
                    c1 = pre_a + d[a_i, b_n] + suf_b if (a_i != 0 or b_n != 0) else 0.0
                    c2 = pre_b + d[b_i, a_n] + suf_a if (b_i != 0 or a_n != 0) else 0.0
                    l1 = pla + (load[rb] - plb)
                    l2 = plb + (load[ra] - pla)
                elif kind == 1:
                    rpre_b = bw[b_i] + d[b0, 0] if b_i != 0 else 0.0
                    rsuf_a = d[0, a_l] + bw[a_l] - bw[a_n] if a_n != 0 else 0.0
                    c1 = pre_a + d[a_i, b_i] + rpre_b if (a_i != 0 or b_i != 0) else 0.0
                    c2 = rsuf_a + d[a_n, b_n] + suf_b if (a_n != 0 or b_n != 0) else 0.0
                    l1 = pla + plb
                    l2 = (load[ra] - pla) + (load[rb] - plb)
                else:
                    rpre_a = bw[a_i] + d[a0, 0] if a_i != 0 else 0.0
                    rsuf_b = d[0, b_l] + bw[b_l] - bw[b_n] if b_n != 0 else 0.0
                    c1 = pre_b + d[b_i, a_i] + rpre_a if (b_i != 0 or a_i != 0) else 0.0
                    c2 = rsuf_b + d[b_n, a_n] + suf_a if (b_n != 0 or a_n != 0) else 0.0
                    l1 = pla + plb
                    l2 = (load[ra] - pla) + (load[rb] - plb)
                delta = (
                    c1 + c2 - cost[ra] - cost[rb]
                    + _pen(l1, cap, penalty)
                    + _pen(l2, cap, penalty)
                    - _pen(load[ra], cap, penalty)
                    - _pen(load[rb], cap, penalty)
                )
            if delta < thr and _fits(cand, c, lens, rt.shape[1]):
                return c
    return -1


@_private()
def _apply(inst, sol, w, c):
    """Apply candidate row c of ``w.cand``."""
    cd = w.cand
    typ = cd[c, 0]
    if typ == SEG:
        _seg_apply(inst, sol, w, cd[c, 1], cd[c, 2], cd[c, 3], cd[c, 4], cd[c, 5], cd[c, 6] == 1)
    elif typ == SWAP:
        _swap_apply(inst, sol, w, cd[c, 1], cd[c, 2], cd[c, 3], cd[c, 4], cd[c, 5], cd[c, 6])
    elif typ == REV:
        _rev_apply(inst, sol, w, cd[c, 1], cd[c, 2], cd[c, 3])
    else:
        _star_apply(inst, sol, w, cd[c, 1], cd[c, 2], cd[c, 3], cd[c, 4], cd[c, 5])


@njit(cache=True)
def reverse_neighbours(inst, K):
    """``(rptr, ridx)``: for each customer c, those having c among their first K neighbours
    (CSR). Built once per LNS run; O(n K)."""
    n = inst.n
    count = np.zeros(n + 2, dtype=np.int64)
    for u in range(1, n + 1):
        for kk in range(K):
            count[inst.neighbors[u, kk] + 1] += 1
    rptr = np.cumsum(count)
    fill = rptr.copy()
    ridx = np.empty(rptr[n + 1], dtype=np.int64)
    for u in range(1, n + 1):
        for kk in range(K):
            v = inst.neighbors[u, kk]
            ridx[fill[v]] = u
            fill[v] += 1
    return rptr, ridx


@_private()
def _needs_scan(inst, sol, w, u, K):
    """False when nothing around u changed since u was last found without a move.

    Only customers marked since their last test (``w.mark``, kept by :func:`_commit` and the
    seeds) or all, after an empty route appeared, can need one: the others are skipped in
    O(1), so a pass costs O(n), not O(n K), and the answer is the same."""
    if not w.mark[u] and not (w.meta[1] >= 0 and w.meta[2] > w.tested[u]):
        return False
    ru = sol.route_of[u]
    if ru < 0:
        return False
    tu = w.tested[u]
    if w.route_mod[ru] > tu or w.cust_mod[u] > tu or (w.meta[1] >= 0 and w.meta[2] > tu):
        return True
    for kk in range(K):
        v = inst.neighbors[u, kk]
        rv = sol.route_of[v]
        if rv >= 0 and (w.route_mod[rv] > tu or w.cust_mod[v] > tu):
            return True
    return False


@njit(cache=True)
def local_search(inst, sol, penalty, seeds, n_seeds, max_moves, granularity=GRANULARITY):
    """Granular first-improvement local search on the penalised objective; see the module doc.

    Returns the number of improving moves applied (at most ``max_moves``). Builds the
    reverse neighbour lists each call; a caller that searches often passes them to
    :func:`descend` instead.
    """
    K = min(granularity, inst.neighbors.shape[1])
    rptr, ridx = reverse_neighbours(inst, K)
    return descend(inst, sol, penalty, seeds, n_seeds, max_moves, K, rptr, ridx)


@njit(cache=True)
def descend(inst, sol, penalty, seeds, n_seeds, max_moves, K, rptr, ridx):
    """:func:`local_search` with K neighbours and their reverse lists
    (:func:`reverse_neighbours` of the same K) given."""
    n = inst.n
    if max_moves <= 0 or n < 2:
        return 0
    nrmax = inst.max_routes
    K = min(K, inst.neighbors.shape[1])
    w = Work(
        np.zeros(n + 1),
        np.zeros(n + 1),
        np.zeros(n + 1),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros(nrmax, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros(n + 1, dtype=np.int64),
        np.zeros(nrmax, dtype=np.int64),
        np.zeros(5, dtype=np.int64),
        np.zeros((MAX_CANDIDATES, 7), dtype=np.int64),
        np.zeros(n + 1, dtype=np.bool_),
        rptr,
        ridx,
    )
    total = 0.0
    for r in range(sol.nroutes[0]):
        _prefix(inst, sol, w, r)
        total += abs(sol.cost[r])
    thr = -(EPS_REL * total + 1e-9)
    w.meta[0] = 1
    w.meta[1] = _find_empty(inst, sol)
    w.meta[4] = 1 if _depot_symmetric(inst) else 0

    # visiting order: the seeds first; the seeds and the customers next to them count as
    # changed, everything else is assumed to be a local optimum already (as after the previous
    # call). Every move then marks the routes it changes.
    order = np.empty(n, dtype=np.int64)
    m = 0
    if n_seeds > 0:
        mark = np.zeros(n + 1, dtype=np.bool_)
        for t in range(n_seeds):
            c = seeds[t]
            if c < 1 or c > n or mark[c]:
                continue
            mark[c] = True
            order[m] = c
            m += 1
            r = sol.route_of[c]
            if r >= 0:
                w.cust_mod[c] = 1
                _mark(w, c)
                p = sol.pos[c]
                if p > 0:
                    w.cust_mod[sol.routes[r, p - 1]] = 1
                    _mark(w, sol.routes[r, p - 1])
                if p + 1 < sol.lengths[r]:
                    w.cust_mod[sol.routes[r, p + 1]] = 1
                    _mark(w, sol.routes[r, p + 1])
        for c in range(1, n + 1):
            if not mark[c]:
                order[m] = c
                m += 1
    else:
        for c in range(1, n + 1):
            order[m] = c
            m += 1
        for r in range(sol.nroutes[0]):
            w.route_mod[r] = 1
        for c in range(n + 1):
            w.mark[c] = True

    moves = 0
    improved = True
    while improved:
        improved = False
        for t in range(m):
            u = order[t]
            if not _needs_scan(inst, sol, w, u, K):
                continue
            while True:
                c = _scan(inst, sol, w, penalty, thr, u, K)
                if c < 0:
                    w.tested[u] = w.meta[0]
                    w.mark[u] = False
                    break
                _apply(inst, sol, w, c)
                moves += 1
                improved = True
                if moves >= max_moves:
                    return moves
    return moves


@njit(cache=True)
def improve_all(inst, sol, penalty):
    """Local search from every customer (the ``improve`` role's signature)."""
    seeds = np.zeros(1, dtype=np.int64)
    local_search(inst, sol, penalty, seeds, 0, 1 << 40)
