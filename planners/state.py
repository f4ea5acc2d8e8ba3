"""Compiled operations on packed states (``uint64`` bit-vectors, one bit per fact).

These are the primitives the search kernel and the heuristics share: bit tests, goal test,
applicable operators, successor, hash. They take the task's array tuple ``T`` (see
:meth:`ahd.planners.task.Task.arrays`), so they never touch Python objects.

Applicable operators come from the successor index: every operator is listed under one of its
preconditions (its *key*), so a state only looks at operators keyed by its true facts and tests
their remaining preconditions bit by bit; operators without positive preconditions are tested
on every state. The output order (by key fact, then operator id) is fixed, which keeps
tie-breaking reproducible.

These functions, the heuristics' and the search loop's compile with ``_nrt=False``: without
numba's reference counting. They never allocate or return an array, and every array they
touch is held by the Python driver for the whole call, so the counts only cost: numba's own
pass that drops them skips functions taking tuples, and every array taken out of ``T`` (four
per operator test) or passed on inside a tuple was an atomic increment and decrement. On a
Rovers task the applicable-operator scan is 5x faster without them (6.9 against 1.3
microseconds a state, side by side); see ``benchmarks/planning_speed.py`` for whole searches.
A function that allocates fails to compile with the option, so none slips in by mistake.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Indices into the task array tuple (Task.arrays()).
PRE_PTR, PRE, NEG_PTR, NEG, ADD_PTR, ADD, DEL_PTR, DEL, COST = range(9)
KEY_PTR, KEY_OPS, FREE_OPS, GOAL, GOAL_NEG, FPRE_PTR, FPRE_OPS = range(9, 16)

_ONE = np.uint64(1)
_M63 = 63


@njit(cache=True, _nrt=False, inline="always")
def has(bits: np.ndarray, f: int) -> bool:
    """Whether fact ``f`` is true in ``bits``."""
    return (bits[f >> 6] >> np.uint64(f & _M63)) & _ONE != 0


@njit(cache=True, _nrt=False, inline="always")
def set_fact(bits: np.ndarray, f: int) -> None:
    bits[f >> 6] |= _ONE << np.uint64(f & _M63)


@njit(cache=True, _nrt=False, inline="always")
def clear_fact(bits: np.ndarray, f: int) -> None:
    bits[f >> 6] &= ~(_ONE << np.uint64(f & _M63))


@njit(cache=True, _nrt=False)
def is_goal(bits: np.ndarray, T: tuple) -> bool:
    """All positive goal facts true and all negative goal facts false."""
    goal = T[GOAL]
    for i in range(goal.shape[0]):
        if not has(bits, goal[i]):
            return False
    goal_neg = T[GOAL_NEG]
    for i in range(goal_neg.shape[0]):
        if has(bits, goal_neg[i]):
            return False
    return True


@njit(cache=True, _nrt=False, inline="always")
def op_applicable(bits: np.ndarray, T: tuple, o: int) -> bool:
    pre_ptr, pre = T[PRE_PTR], T[PRE]
    for k in range(pre_ptr[o], pre_ptr[o + 1]):
        if not has(bits, pre[k]):
            return False
    neg_ptr, neg = T[NEG_PTR], T[NEG]
    for k in range(neg_ptr[o], neg_ptr[o + 1]):
        if has(bits, neg[k]):
            return False
    return True


@njit(cache=True, _nrt=False)
def applicable_ops(bits: np.ndarray, T: tuple, out: np.ndarray) -> int:
    """Write the applicable operators of ``bits`` into ``out``; return how many."""
    key_ptr, key_ops, free_ops = T[KEY_PTR], T[KEY_OPS], T[FREE_OPS]
    n_facts = key_ptr.shape[0] - 1
    n = 0
    for w in range(bits.shape[0]):
        x = bits[w]
        f = w * 64
        while x != 0 and f < n_facts:
            if x & _ONE:
                for k in range(key_ptr[f], key_ptr[f + 1]):
                    o = key_ops[k]
                    if op_applicable(bits, T, o):
                        out[n] = o
                        n += 1
            x >>= _ONE
            f += 1
    for i in range(free_ops.shape[0]):
        o = free_ops[i]
        if op_applicable(bits, T, o):
            out[n] = o
            n += 1
    return n


@njit(cache=True, _nrt=False)
def apply_op(bits: np.ndarray, T: tuple, o: int, out: np.ndarray) -> None:
    """``out`` = successor of ``bits`` under operator ``o`` (deletes first, then adds)."""
    for w in range(bits.shape[0]):
        out[w] = bits[w]
    del_ptr, dele = T[DEL_PTR], T[DEL]
    for k in range(del_ptr[o], del_ptr[o + 1]):
        clear_fact(out, dele[k])
    add_ptr, add = T[ADD_PTR], T[ADD]
    for k in range(add_ptr[o], add_ptr[o + 1]):
        set_fact(out, add[k])


@njit(cache=True, _nrt=False)
def state_hash(bits: np.ndarray) -> np.uint64:
    """64-bit hash of a packed state (FNV-style word mixing with a splitmix64 finish)."""
    h = np.uint64(0xCBF29CE484222325)
    for w in range(bits.shape[0]):
        h ^= bits[w]
        h *= np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return h


@njit(cache=True)
def unpack_rows(
    states: np.ndarray, lo: int, hi: int, n_facts: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(ptr, facts)`` of the true facts of rows ``lo..hi-1`` (for Python heuristics)."""
    count = 0
    for r in range(lo, hi):
        for w in range(states.shape[1]):
            x = states[r, w]
            while x != 0:
                x &= x - _ONE
                count += 1
    ptr = np.zeros(hi - lo + 1, dtype=np.int64)
    facts = np.empty(count, dtype=np.int64)
    n = 0
    for r in range(lo, hi):
        for w in range(states.shape[1]):
            x = states[r, w]
            f = w * 64
            while x != 0 and f < n_facts:
                if x & _ONE:
                    facts[n] = f
                    n += 1
                x >>= _ONE
                f += 1
        ptr[r - lo + 1] = n
    return ptr, facts
