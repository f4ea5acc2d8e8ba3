"""Evolved heuristics compiled: a weighted sum of domain features over the packed state.

The offline proposer's heuristics are weighted sums of catalogue features
(:mod:`ahd.planners.feature_catalogue`), rendered as Python that walks a ``frozenset`` of atom
tuples per state: 4-5x the cost of a compiled goal count. Every feature kind is a fixed
computation over a few integer tables built once per task (:mod:`.genome`), so one compiled
function evaluates any genome inside the search kernel, with no Python per state and no
recompilation per genome: the genome travels as data in the scratch tuple's slots from
:data:`S_G_KIND` on.

Term layouts in ``S[S_G_INT]`` (each term's slice starts at ``S[S_G_PTR][t]``):

``LINEAR``
    ``const, n_minus, minus facts..., plus facts...``: ``const - #true(minus) + #true(plus)``
    (goal count, goals of one predicate, counts of true or false atoms, misplaced objects).
``CHAIN``
    ``n_obj, n_atoms, goal_below[n_obj], (fact, x, y) * n_atoms``: objects not well placed.
``GOAL_DIST``
    ``graph, n_where, n_carry, n_unary, n_goals, (fact, obj, at) * n_where,
    (fact, obj, carrier) * n_carry, (fact, agent) * n_unary, (obj, target) * n_goals``.
``AGENT_DIST``
    ``graph, sum?, n_starts, n_placed, n_goals, (fact, node) * n_starts,
    (fact, obj, node) * n_placed``, then per goal ``fact, n_static, n_dyn, static nodes...,
    objects...``.
``HFF`` / ``HADD``
    Empty: the relaxed heuristics of :mod:`.relaxed`.
``PLAN``
    Empty, weight 0, added for searches with preferred operators when no term is h_FF: h_FF's
    relaxed plan is extracted for its helpful actions, and its value is not used.

A graph's slice (its offset is the term's ``graph`` entry) is ``n_nodes, far, dist_offset,
done_offset, node_of[n_obj], csr_ptr[n_nodes + 1], csr_adj...``; distances fill
``S[S_G_DIST]`` one row per source node on first use (``S[S_G_DONE]`` marks the rows
done), as the Python rendering memoises its breadth-first searches. Values equal the
rendered Python's exactly (a test).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..state import has
from .relaxed import HADD as R_HADD
from .relaxed import HFF as R_HFF
from .relaxed import explore

LINEAR, CHAIN, GOAL_DIST, AGENT_DIST, HFF, HADD, PLAN = range(7)

#: Scratch-tuple slots of a compiled genome (after the relaxed heuristics' 13 slots).
S_G_KIND, S_G_W, S_G_PTR, S_G_INT, S_G_DIST, S_G_DONE, S_G_WORK = range(13, 20)

# S[S_G_WORK]: [stamp, n_obj, width, then 10 regions of ``width`` entries]
(W_BELOW, W_ST, W_SEEN, W_PATH, W_WHERE, W_HELD, W_ACTIVE, W_TMARK, W_QUEUE,
 W_TARGET) = range(10)
WORK_HEADER = 3


@njit(cache=True, _nrt=False, inline="always")
def _region(work: np.ndarray, r: int) -> int:
    return WORK_HEADER + r * work[2]


@njit(cache=True, _nrt=False)
def _dist(S: tuple, g: int, a: int, b: int) -> int:
    """Edge count from node ``a`` to node ``b`` of the graph at ``g`` (``far`` if none)."""
    gi, dist, done, work = S[S_G_INT], S[S_G_DIST], S[S_G_DONE], S[S_G_WORK]
    n_nodes, far, off, d_off = gi[g], gi[g + 1], gi[g + 2], gi[g + 3]
    n_obj = work[1]
    ptr = g + 4 + n_obj
    adj = ptr + n_nodes + 1
    row = off + a * n_nodes
    if done[d_off + a] == 0:  # breadth-first search from a, once
        for j in range(n_nodes):
            dist[row + j] = -1
        q = _region(work, W_QUEUE)
        dist[row + a] = 0
        work[q] = a
        head, tail = 0, 1
        while head < tail:
            x = work[q + head]
            head += 1
            for k in range(gi[ptr + x], gi[ptr + x + 1]):
                y = gi[adj + k]
                if dist[row + y] < 0:
                    dist[row + y] = dist[row + x] + 1
                    work[q + tail] = y
                    tail += 1
        done[d_off + a] = 1
    d = dist[row + b]
    return far if d < 0 else d


@njit(cache=True, _nrt=False)
def _linear(bits: np.ndarray, gi: np.ndarray, lo: int, hi: int) -> float:
    n_minus = gi[lo + 1]
    v = gi[lo]
    for i in range(lo + 2, lo + 2 + n_minus):
        if has(bits, gi[i]):
            v -= 1
    for i in range(lo + 2 + n_minus, hi):
        if has(bits, gi[i]):
            v += 1
    return float(v)


@njit(cache=True, _nrt=False)
def _chain(bits: np.ndarray, S: tuple, lo: int) -> float:
    gi, work = S[S_G_INT], S[S_G_WORK]
    n_obj, n_atoms = gi[lo], gi[lo + 1]
    goal_below = lo + 2
    atoms = goal_below + n_obj
    below, st = _region(work, W_BELOW), _region(work, W_ST)
    seen, path = _region(work, W_SEEN), _region(work, W_PATH)
    work[0] += 1
    stamp = work[0]
    for x in range(n_obj):
        work[below + x] = -1
        work[st + x] = 0  # 0 unknown, 1 well placed, 2 not
    for i in range(n_atoms):
        a = atoms + 3 * i
        if has(bits, gi[a]):
            work[below + gi[a + 1]] = gi[a + 2]
    n = 0
    for x in range(n_obj):
        if work[below + x] < 0 and gi[goal_below + x] < 0:
            continue
        k = 0
        y = x
        while y >= 0 and work[st + y] == 0 and work[seen + y] != stamp:
            work[path + k] = y
            k += 1
            work[seen + y] = stamp
            y = work[below + y]
        good = True if y < 0 else work[st + y] == 1
        for j in range(k - 1, -1, -1):
            z = work[path + j]
            want = gi[goal_below + z]
            good = good and (want < 0 or work[below + z] == want)
            work[st + z] = 1 if good else 2
        if work[st + x] == 2:
            n += 1
    return float(n)


@njit(cache=True, _nrt=False)
def _goal_dist(bits: np.ndarray, S: tuple, lo: int) -> float:
    gi, work = S[S_G_INT], S[S_G_WORK]
    g, n_where, n_carry, n_unary, n_goals = gi[lo], gi[lo + 1], gi[lo + 2], gi[lo + 3], gi[lo + 4]
    n_obj = work[1]
    node_of = g + 4
    where, held = _region(work, W_WHERE), _region(work, W_HELD)
    for x in range(n_obj):
        work[where + x] = -1
        work[held + x] = -2  # -2 not held, -1 held by the (unary) agent, else the carrier
    agent = -1
    p = lo + 5
    for _ in range(n_where):
        if has(bits, gi[p]):
            work[where + gi[p + 1]] = gi[p + 2]
        p += 3
    for _ in range(n_carry):
        if has(bits, gi[p]):
            work[held + gi[p + 1]] = gi[p + 2]
        p += 3
    for _ in range(n_unary):
        if has(bits, gi[p]):
            agent = gi[p + 1]
        p += 2
    total = 0
    for _ in range(n_goals):
        obj, target = gi[p], gi[p + 1]
        p += 2
        node = work[where + obj]
        if node == target:
            continue
        extra = 0
        if node < 0 and work[held + obj] != -2:
            carrier = work[held + obj]
            node = agent if carrier == -1 else work[where + carrier]
            extra = 1
        if node < 0:
            total += 1
            continue
        a, b = gi[node_of + node], gi[node_of + target]
        if a < 0:  # not in the graph: distance 0 to itself, else far
            total += (0 if node == target else gi[g + 1]) + extra
        elif b < 0:
            total += gi[g + 1] + extra
        else:
            total += _dist(S, g, a, b) + extra
    return float(total)


@njit(cache=True, _nrt=False)
def _agent_dist(bits: np.ndarray, S: tuple, lo: int) -> float:
    gi, work = S[S_G_INT], S[S_G_WORK]
    g, use_sum, n_starts, n_placed, n_goals = gi[lo], gi[lo + 1], gi[lo + 2], gi[lo + 3], gi[lo + 4]
    far = gi[g + 1]
    active, tmark, target = (_region(work, W_ACTIVE), _region(work, W_TMARK),
                             _region(work, W_TARGET))
    work[0] += 1
    stamp = work[0]
    starts = lo + 5
    placed = starts + 2 * n_starts
    p = placed + 3 * n_placed
    any_start = False
    for i in range(n_starts):
        if has(bits, gi[starts + 2 * i]):
            any_start = True
    if not any_start:
        return 0.0
    nt = 0
    for _ in range(n_goals):
        fact, n_static, n_dyn = gi[p], gi[p + 1], gi[p + 2]
        p += 3
        if fact < 0 or not has(bits, fact):
            for j in range(p, p + n_static):
                if work[tmark + gi[j]] != stamp:
                    work[tmark + gi[j]] = stamp
                    work[target + nt] = gi[j]
                    nt += 1
            for j in range(p + n_static, p + n_static + n_dyn):
                work[active + gi[j]] = stamp
        p += n_static + n_dyn
    for i in range(n_placed):
        a = placed + 3 * i
        if work[active + gi[a + 1]] == stamp and has(bits, gi[a]):
            x = gi[a + 2]
            if work[tmark + x] != stamp:
                work[tmark + x] = stamp
                work[target + nt] = x
                nt += 1
    if nt == 0:
        return 0.0
    total = 0
    best_all = far + 1
    for t in range(nt):
        x = work[target + t]
        best = far
        for i in range(n_starts):
            s = starts + 2 * i
            if has(bits, gi[s]):
                a = gi[s + 1]
                d = far if a < 0 else _dist(S, g, a, x)
                if d < best:
                    best = d
        total += best
        if best < best_all:
            best_all = best
    return float(total if use_sum else best_all)


@njit(cache=True, _nrt=False)
def genome_value(bits: np.ndarray, T: tuple, S: tuple) -> float:
    """``sum(weight * feature)`` of the genome in ``S``'s genome slots, summed in term order
    (as the Python rendering sums, so the values are equal to the last bit).

    The relaxed heuristics are evaluated first, h_FF after h_add (each exploration resets the
    relaxed plan), so h_FF's plan is the one the search reads helpful actions from; the other
    features do not touch the relaxed scratch.
    """
    kind, w, ptr, gi = S[S_G_KIND], S[S_G_W], S[S_G_PTR], S[S_G_INT]
    k = kind.shape[0]
    hadd = 0.0
    hff = 0.0
    for t in range(k):
        if kind[t] == HADD:
            hadd = explore(bits, T, S, R_HADD)
            break
    for t in range(k):
        if kind[t] == HFF or kind[t] == PLAN:
            hff = explore(bits, T, S, R_HFF)
            break
    total = 0.0
    for t in range(k):
        c = kind[t]
        if c == LINEAR:
            total += w[t] * _linear(bits, gi, ptr[t], ptr[t + 1])
        elif c == CHAIN:
            total += w[t] * _chain(bits, S, ptr[t])
        elif c == GOAL_DIST:
            total += w[t] * _goal_dist(bits, S, ptr[t])
        elif c == AGENT_DIST:
            total += w[t] * _agent_dist(bits, S, ptr[t])
        elif c == HADD:
            total += w[t] * hadd
        elif c == HFF:
            total += w[t] * hff
    return total
