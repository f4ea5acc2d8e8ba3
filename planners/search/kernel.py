"""The compiled greedy best-first search loop (eager and lazy), resumable in chunks.

Numba code cannot read the clock, check memory, grow arrays or call a Python heuristic, so the
loop runs in chunks and returns a status code telling the Python driver what it needs:

* ``BUDGET`` - ``budget`` units of work done; the driver checks time/memory limits;
* ``NEED_EVAL`` - nodes ``ctr[PEND_LO]..ctr[N_NODES]-1`` need heuristic values (Python
  heuristic, ``hid < 0``); the driver writes them into ``hval`` and calls again;
* ``NEED_GROW`` - the next step needs more room (``ctr[NEED]`` more nodes/entries); the
  driver enlarges the arrays and calls again (the step resumes where it stopped);
* ``SOLVED`` (goal node in ``ctr[GOAL_NODE]``) or ``EXHAUSTED`` (open list empty).

All search state lives in the arrays of the tuple ``SP`` (see ``space.py``), so a call can stop
and resume anywhere. Open-list entries are ``(key, node, op)`` triples numbered in creation
order; the binary heap orders them by ``(key, entry number)`` (FIFO) or ``(key, -entry
number)`` (LIFO), which makes tie-breaking independent of hashing. Eager search stores one
entry per evaluated node (``op = -1``); lazy search stores one entry per generated successor
(``node`` = parent, ``op`` = operator, ``key`` = parent's h) and evaluates on removal.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..heuristics.builtin import evaluate
from ..heuristics.relaxed import S_MARK, clear_helpful, mark_helpful
from ..state import applicable_ops, apply_op, is_goal, state_hash

# status codes
BUDGET, NEED_EVAL, NEED_GROW, SOLVED, EXHAUSTED = range(5)

# ctr slots (PHEAP_SIZE, PRIO, PPRIO: the preferred open list and the alternation priorities)
(N_NODES, N_ENTRIES, HEAP_SIZE, EXPANDED, GENERATED, EVALUATED, DEAD_ENDS, GOAL_NODE,
 PEND_LO, PENDING, RESUME, NEED, BEST_H, PHEAP_SIZE, PRIO, PPRIO) = range(16)
N_CTR = 16

# SP slots
(SP_STATES, SP_PARENT, SP_OP, SP_HVAL, SP_HASH, SP_TABLE, SP_EKEY, SP_ENODE, SP_EOP, SP_HEAP,
 SP_CTR, SP_APP, SP_BUF, SP_PHEAP) = range(14)

#: Priority bonus of the preferred open list on progress (a new best h), as in LAMA.
BOOST = 1000


@njit(cache=True, inline="always")
def _before(ekey: np.ndarray, a: int, b: int, lifo: bool) -> bool:
    if ekey[a] != ekey[b]:
        return ekey[a] < ekey[b]
    return a > b if lifo else a < b


@njit(cache=True)
def heap_push(heap: np.ndarray, ekey: np.ndarray, n: int, e: int, lifo: bool) -> int:
    i = n
    heap[i] = e
    while i > 0:
        p = (i - 1) >> 1
        if not _before(ekey, heap[i], heap[p], lifo):
            break
        heap[p], heap[i] = heap[i], heap[p]
        i = p
    return n + 1


@njit(cache=True)
def heap_pop(heap: np.ndarray, ekey: np.ndarray, n: int, lifo: bool) -> int:
    """Remove the first entry; it is left at ``heap[n - 1]``."""
    n -= 1
    heap[0], heap[n] = heap[n], heap[0]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _before(ekey, heap[c + 1], heap[c], lifo):
            c += 1
        if not _before(ekey, heap[c], heap[i], lifo):
            break
        heap[c], heap[i] = heap[i], heap[c]
        i = c
    return heap[n]


@njit(cache=True)
def lookup(SP: tuple, bits: np.ndarray, h: np.uint64) -> tuple[int, int]:
    """``(node, slot)``: the node holding ``bits`` (or -1) and the table slot probed last."""
    table, states, shash = SP[SP_TABLE], SP[SP_STATES], SP[SP_HASH]
    mask = table.shape[0] - 1
    slot = np.int64(h & np.uint64(mask))
    W = bits.shape[0]
    while True:
        m = table[slot]
        if m < 0:
            return -1, slot
        if shash[m] == h:
            same = True
            for w in range(W):
                if states[m, w] != bits[w]:
                    same = False
                    break
            if same:
                return m, slot
        slot = (slot + 1) & mask


@njit(cache=True)
def rebuild_table(table: np.ndarray, shash: np.ndarray, n_nodes: int) -> None:
    """Re-insert nodes ``0..n_nodes-1`` into an empty (all -1) table of a new size."""
    mask = table.shape[0] - 1
    for m in range(n_nodes):
        slot = np.int64(shash[m] & np.uint64(mask))
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = m


@njit(cache=True)
def insert_node(SP: tuple, bits: np.ndarray, h: np.uint64, slot: int, parent: int, op: int) -> int:
    ctr = SP[SP_CTR]
    m = ctr[N_NODES]
    states = SP[SP_STATES]
    for w in range(bits.shape[0]):
        states[m, w] = bits[w]
    SP[SP_PARENT][m] = parent
    SP[SP_OP][m] = op
    SP[SP_HVAL][m] = np.nan
    SP[SP_HASH][m] = h
    SP[SP_TABLE][slot] = m
    ctr[N_NODES] = m + 1
    return m


@njit(cache=True)
def _push_entry(SP: tuple, key: float, node: int, op: int, lifo: bool) -> None:
    ctr = SP[SP_CTR]
    e = ctr[N_ENTRIES]
    SP[SP_EKEY][e] = key
    SP[SP_ENODE][e] = node
    SP[SP_EOP][e] = op
    ctr[N_ENTRIES] = e + 1
    ctr[HEAP_SIZE] = heap_push(SP[SP_HEAP], SP[SP_EKEY], ctr[HEAP_SIZE], e, lifo)


@njit(cache=True)
def run(
    T: tuple, HS: tuple, SP: tuple, hid: int, lazy: bool, lifo: bool, budget: int, limit: int,
    preferred: bool = False,
) -> int:
    """Continue the search; return a status code.

    Returns ``BUDGET`` after about ``budget`` units of work (a heuristic evaluation or an
    expansion; one compiled evaluation can be slow on big tasks, so a chunk may stop in the
    middle of evaluating a node's successors and resume there), or when ``limit`` expansions
    (``-1``: no limit) are reached.

    ``preferred`` (lazy search with h_FF): successors through helpful actions also enter a
    second open list; the two alternate by priority (each removal adds one to its list's
    priority; progress, a new best h, takes :data:`BOOST` off the preferred list's), as in
    LAMA and Fast Downward's ``lazy_greedy(..., preferred=...)``.
    """
    states, hval, ctr, app, buf = SP[SP_STATES], SP[SP_HVAL], SP[SP_CTR], SP[SP_APP], SP[SP_BUF]
    ekey, enode, eop = SP[SP_EKEY], SP[SP_ENODE], SP[SP_EOP]
    cap = states.shape[0]
    ecap = ekey.shape[0]
    tcap = SP[SP_TABLE].shape[0]
    work = 0  # evaluations + expansions in this call
    pops = 0
    while True:
        if ctr[PENDING]:
            lo = ctr[PEND_LO]
            hi = ctr[N_NODES]
            if hid >= 0:
                for m in range(lo, hi):
                    if np.isnan(hval[m]):
                        if work >= budget:
                            return BUDGET  # resumes evaluating the rest of this batch
                        hval[m] = evaluate(hid, states[m], T, HS)
                        work += 1
            if not lazy:
                for m in range(lo, hi):
                    ctr[EVALUATED] += 1
                    if hval[m] == np.inf:
                        ctr[DEAD_ENDS] += 1
                    else:
                        if hval[m] < hval[ctr[BEST_H]]:
                            ctr[BEST_H] = m
                        _push_entry(SP, hval[m], m, -1, lifo)
                ctr[PENDING] = 0
            else:
                m = lo
                if hval[m] == np.inf:
                    ctr[EVALUATED] += 1
                    ctr[DEAD_ENDS] += 1
                    ctr[PENDING] = 0
                elif is_goal(states[m], T):
                    ctr[EVALUATED] += 1
                    ctr[PENDING] = 0
                    ctr[GOAL_NODE] = m
                    return SOLVED
                else:
                    k = applicable_ops(states[m], T, app)
                    if ctr[N_ENTRIES] + k > ecap:
                        ctr[NEED] = k
                        return NEED_GROW
                    ctr[EVALUATED] += 1
                    ctr[EXPANDED] += 1
                    ctr[GENERATED] += k
                    if hval[m] < hval[ctr[BEST_H]]:
                        ctr[BEST_H] = m
                        if preferred:
                            ctr[PPRIO] -= BOOST
                    if preferred:
                        mark_helpful(states[m], T, HS)
                    mark = HS[S_MARK]
                    pheap = SP[SP_PHEAP]
                    for i in range(k):
                        _push_entry(SP, hval[m], m, app[i], lifo)
                        if preferred and mark[app[i]]:
                            ctr[PHEAP_SIZE] = heap_push(pheap, ekey, ctr[PHEAP_SIZE],
                                                        ctr[N_ENTRIES] - 1, lifo)
                    if preferred:
                        clear_helpful(HS)
                    ctr[PENDING] = 0
                    work += 1
        if work >= budget or pops >= 8 * budget or (limit >= 0 and ctr[EXPANDED] >= limit):
            return BUDGET
        pops += 1
        if ctr[RESUME] >= 0:
            e = ctr[RESUME]
            ctr[RESUME] = -1
        elif ctr[PHEAP_SIZE] > 0 and (ctr[HEAP_SIZE] == 0 or ctr[PPRIO] < ctr[PRIO]):
            e = heap_pop(SP[SP_PHEAP], ekey, ctr[PHEAP_SIZE], lifo)
            ctr[PHEAP_SIZE] -= 1
            ctr[PPRIO] += 1
        else:
            if ctr[HEAP_SIZE] == 0:
                return EXHAUSTED
            e = heap_pop(SP[SP_HEAP], ekey, ctr[HEAP_SIZE], lifo)
            ctr[HEAP_SIZE] -= 1
            ctr[PRIO] += 1
        if not lazy:
            n = enode[e]
            if is_goal(states[n], T):
                ctr[GOAL_NODE] = n
                return SOLVED
            k = applicable_ops(states[n], T, app)
            nn = ctr[N_NODES]
            if nn + k > cap or ctr[N_ENTRIES] + k > ecap or 2 * (nn + k) > tcap:
                ctr[RESUME] = e
                ctr[NEED] = k
                return NEED_GROW
            ctr[EXPANDED] += 1
            work += 1
            ctr[PEND_LO] = nn
            for i in range(k):
                o = app[i]
                apply_op(states[n], T, o, buf)
                ctr[GENERATED] += 1
                h = state_hash(buf)
                found, slot = lookup(SP, buf, h)
                if found < 0:
                    insert_node(SP, buf, h, slot, n, o)
            ctr[PENDING] = 1
            if hid < 0 and ctr[N_NODES] > nn:
                return NEED_EVAL
        else:
            p = enode[e]
            o = eop[e]
            nn = ctr[N_NODES]
            if nn + 1 > cap or 2 * (nn + 1) > tcap:
                ctr[RESUME] = e
                ctr[NEED] = 1
                return NEED_GROW
            apply_op(states[p], T, o, buf)
            h = state_hash(buf)
            found, slot = lookup(SP, buf, h)
            if found >= 0:
                continue
            insert_node(SP, buf, h, slot, p, o)
            ctr[PEND_LO] = nn
            ctr[PENDING] = 1
            if hid < 0:
                return NEED_EVAL
