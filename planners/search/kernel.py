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
from ..heuristics.landmark_count import LM_INIT, landmark_count, mark_landmark_preferred
from ..heuristics.relaxed import S_MARK, mark_helpful
from ..state import applicable_ops, apply_op, is_goal, state_hash

# status codes
BUDGET, NEED_EVAL, NEED_GROW, SOLVED, EXHAUSTED = range(5)

# ctr slots (PHEAP_SIZE, PRIO, PPRIO: the preferred open list and the alternation priorities;
# the *2 slots: the open lists ordered by the landmark count, and its best node; RNG: the
# state of the successor shuffle, 0 for operator order)
(N_NODES, N_ENTRIES, HEAP_SIZE, EXPANDED, GENERATED, EVALUATED, DEAD_ENDS, GOAL_NODE,
 PEND_LO, PENDING, RESUME, NEED, BEST_H, PHEAP_SIZE, PRIO, PPRIO,
 HEAP2_SIZE, PHEAP2_SIZE, PRIO2, PPRIO2, BEST_H2, RNG) = range(22)
N_CTR = 22
#: The open lists in alternation order: their size and priority slots in ``ctr``.
QUEUE_SIZE = (HEAP_SIZE, PHEAP_SIZE, HEAP2_SIZE, PHEAP2_SIZE)
QUEUE_PRIO = (PRIO, PPRIO, PRIO2, PPRIO2)

# SP slots (EKEY2, HEAP2, PHEAP2, HVAL2, LMR: the landmark count's keys, open lists and values,
# and each node's reached landmarks; one-element placeholders in searches without landmarks)
(SP_STATES, SP_PARENT, SP_OP, SP_HVAL, SP_HASH, SP_TABLE, SP_EKEY, SP_ENODE, SP_EOP, SP_HEAP,
 SP_CTR, SP_APP, SP_BUF, SP_PHEAP, SP_EKEY2, SP_HEAP2, SP_PHEAP2, SP_HVAL2, SP_LMR) = range(19)

#: Priority bonus of the preferred open list on progress (a new best h), as in LAMA.
BOOST = 1000


@njit(cache=True, _nrt=False, inline="always")
def _before(ekey: np.ndarray, a: int, b: int, lifo: bool) -> bool:
    if ekey[a] != ekey[b]:
        return ekey[a] < ekey[b]
    return a > b if lifo else a < b


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def shuffle_ops(app: np.ndarray, k: int, ctr: np.ndarray) -> None:
    """Shuffle ``app[:k]`` (Fisher-Yates) with the xorshift64 generator in ``ctr[RNG]``, when
    it is non-zero: successors in a seeded random order, as Fast Downward's
    ``randomize_successors``, so that ties among equal keys are not decided by how the
    operators happen to be numbered."""
    x = np.uint64(ctr[RNG])
    if x == 0:
        return
    for i in range(k - 1, 0, -1):
        x ^= x << np.uint64(13)
        x ^= x >> np.uint64(7)
        x ^= x << np.uint64(17)
        j = np.int64(x % np.uint64(i + 1))
        app[i], app[j] = app[j], app[i]
    ctr[RNG] = np.int64(x)


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def rebuild_table(table: np.ndarray, shash: np.ndarray, n_nodes: int) -> None:
    """Re-insert nodes ``0..n_nodes-1`` into an empty (all -1) table of a new size."""
    mask = table.shape[0] - 1
    for m in range(n_nodes):
        slot = np.int64(shash[m] & np.uint64(mask))
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = m


@njit(cache=True, _nrt=False)
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


@njit(cache=True, _nrt=False)
def _push_entry(SP: tuple, node: int, op: int, lifo: bool, landmarks: bool,
                preferred: bool) -> None:
    """One open-list entry keyed by ``node``'s values: into the regular list (and the one by
    landmark count), and into the preferred ones too when ``preferred``."""
    ctr = SP[SP_CTR]
    e = ctr[N_ENTRIES]
    ekey = SP[SP_EKEY]
    ekey[e] = SP[SP_HVAL][node]
    SP[SP_ENODE][e] = node
    SP[SP_EOP][e] = op
    ctr[N_ENTRIES] = e + 1
    ctr[HEAP_SIZE] = heap_push(SP[SP_HEAP], ekey, ctr[HEAP_SIZE], e, lifo)
    if preferred:
        ctr[PHEAP_SIZE] = heap_push(SP[SP_PHEAP], ekey, ctr[PHEAP_SIZE], e, lifo)
    if landmarks:
        ekey2 = SP[SP_EKEY2]
        ekey2[e] = SP[SP_HVAL2][node]
        ctr[HEAP2_SIZE] = heap_push(SP[SP_HEAP2], ekey2, ctr[HEAP2_SIZE], e, lifo)
        if preferred:
            ctr[PHEAP2_SIZE] = heap_push(SP[SP_PHEAP2], ekey2, ctr[PHEAP2_SIZE], e, lifo)


@njit(cache=True, _nrt=False)
def _count_landmarks(SP: tuple, m: int, L: tuple) -> None:
    """``hval2[m]``: the landmark count, which also records the node's reached landmarks
    from its parent's (the same every time it is computed)."""
    lmr = SP[SP_LMR]
    p = SP[SP_PARENT][m]
    parent = L[LM_INIT] if p < 0 else lmr[p]
    SP[SP_HVAL2][m] = landmark_count(SP[SP_STATES][m], parent, lmr[m], L)


@njit(cache=True, _nrt=False)
def _progress(SP: tuple, m: int, landmarks: bool) -> bool:
    """Record ``m`` as the best node so far by either value; whether it is."""
    ctr, hval = SP[SP_CTR], SP[SP_HVAL]
    better = False
    if hval[m] < hval[ctr[BEST_H]]:
        ctr[BEST_H] = m
        better = True
    if landmarks:
        hval2 = SP[SP_HVAL2]
        if hval2[m] < hval2[ctr[BEST_H2]]:
            ctr[BEST_H2] = m
            better = True
    return better


@njit(cache=True, _nrt=False)
def _pop(SP: tuple, lifo: bool) -> int:
    """The next entry from the open list of least priority (ties: the earlier list), or -1
    when all are empty; that list's priority goes up by one."""
    ctr = SP[SP_CTR]
    heaps = (SP[SP_HEAP], SP[SP_PHEAP], SP[SP_HEAP2], SP[SP_PHEAP2])
    keys = (SP[SP_EKEY], SP[SP_EKEY], SP[SP_EKEY2], SP[SP_EKEY2])
    q = -1
    for j in range(4):
        if ctr[QUEUE_SIZE[j]] > 0 and (q < 0 or ctr[QUEUE_PRIO[j]] < ctr[QUEUE_PRIO[q]]):
            q = j
    if q < 0:
        return -1
    e = heap_pop(heaps[q], keys[q], ctr[QUEUE_SIZE[q]], lifo)
    ctr[QUEUE_SIZE[q]] -= 1
    ctr[QUEUE_PRIO[q]] += 1
    return e


@njit(cache=True, _nrt=False)
def run(
    T: tuple, HS: tuple, SP: tuple, hid: int, lazy: bool, lifo: bool, budget: int, limit: int,
    preferred: bool, landmarks: bool, L: tuple,
) -> int:
    """Continue the search; return a status code.

    Returns ``BUDGET`` after about ``budget`` units of work (a heuristic evaluation or an
    expansion; one compiled evaluation can be slow on big tasks, so a chunk may stop in the
    middle of evaluating a node's successors and resume there), or when ``limit`` expansions
    (``-1``: no limit) are reached.

    ``preferred`` (lazy search with h_FF): successors through helpful actions also enter a
    second open list; the lists alternate by priority (each removal adds one to its list's
    priority; progress, a new best h, takes :data:`BOOST` off the preferred lists'), as in
    LAMA and Fast Downward's ``lazy_greedy(..., preferred=...)``. ``landmarks``: every node
    also gets the landmark count of ``L`` (LAMA's second heuristic), and entries also enter
    open lists ordered by it, which join the alternation; with ``preferred`` too, the operators
    achieving a landmark it still counts are preferred beside h_FF's helpful actions.
    """
    states, hval, ctr, app = SP[SP_STATES], SP[SP_HVAL], SP[SP_CTR], SP[SP_APP]
    buf, enode, eop = SP[SP_BUF], SP[SP_ENODE], SP[SP_EOP]
    cap = states.shape[0]
    ecap = SP[SP_EKEY].shape[0]
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
                        if landmarks:
                            _count_landmarks(SP, m, L)
                        work += 1
            elif landmarks:  # the driver wrote the Python heuristic's values
                for m in range(lo, hi):
                    _count_landmarks(SP, m, L)
            if not lazy:
                for m in range(lo, hi):
                    ctr[EVALUATED] += 1
                    if hval[m] == np.inf:
                        ctr[DEAD_ENDS] += 1
                    else:
                        _progress(SP, m, landmarks)
                        _push_entry(SP, m, -1, lifo, landmarks, False)
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
                    shuffle_ops(app, k, ctr)
                    ctr[EVALUATED] += 1
                    ctr[EXPANDED] += 1
                    ctr[GENERATED] += k
                    if _progress(SP, m, landmarks) and preferred:
                        ctr[PPRIO] -= BOOST
                        ctr[PPRIO2] -= BOOST
                    mark = HS[S_MARK]
                    if preferred:
                        mark_helpful(states[m], T, HS)
                        if landmarks:
                            mark_landmark_preferred(states[m], SP[SP_LMR][m], T, L, app, k,
                                                    mark)
                    for i in range(k):
                        o = app[i]
                        if preferred:  # (without it the scratch may be a placeholder)
                            _push_entry(SP, m, o, lifo, landmarks, mark[o] != 0)
                            mark[o] = 0  # both kinds mark applicable operators only
                        else:
                            _push_entry(SP, m, o, lifo, landmarks, False)
                    ctr[PENDING] = 0
                    work += 1
        if work >= budget or pops >= 8 * budget or (limit >= 0 and ctr[EXPANDED] >= limit):
            return BUDGET
        pops += 1
        if ctr[RESUME] >= 0:
            e = ctr[RESUME]
            ctr[RESUME] = -1
        else:
            e = _pop(SP, lifo)
            if e < 0:
                return EXHAUSTED
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
            shuffle_ops(app, k, ctr)
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
