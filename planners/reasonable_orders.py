"""Reasonable orderings between landmarks (Hoffmann, Porteous & Sebastia 2004), for LAMA's count.

``l`` is reasonably ordered before ``l2`` when achieving ``l2`` first would be wasted: reaching
``l`` afterwards must destroy ``l2``, which then has to be achieved again. LAMA's count uses
them so: a reached landmark whose reasonable predecessor has not been reached still counts
(it will have to be made true again). In Blocksworld, say, stacking A on B before B is on C
is wasted, and the count without these orderings cannot tell.

Whether reaching ``l`` destroys ``l2`` ("``l`` interferes with ``l2``") rests on mutexes:
facts no reachable state holds together. Fast Downward takes them from its translator's
invariants; a ground STRIPS task has none, so :func:`mutex_pairs` computes them with the h^2
reachability of Haslum & Geffner (2000), bounded in work (on the largest tasks it gives up,
and the landmarks go without reasonable orderings). Which pairs are ordered follows Fast
Downward's ``lm_reasonable_orders_hps``:

* a goal landmark ``g`` is preceded by every landmark that interferes with it;
* for a landmark ``l`` greedy-necessarily ordered before ``l2``, the other landmarks ordered
  before ``l2`` (and their ancestors) precede ``l`` when they interfere with it.

``a`` interferes with ``b`` when ``a`` and ``b`` are mutex, when every operator adding ``a``
deletes ``b`` or adds a fact mutex with ``b``, or when a greedy-necessary predecessor of
``a`` is mutex with ``b``. Only fact landmarks take part (not disjunctions), and no ordering
is added against a natural or greedy-necessary one in the other direction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from .task import Task

#: Work (fact-pair tests) the h^2 fixpoint may spend before giving up (about half a second
#: on the AMD EPYC); a task whose one sweep over the operators would take over a third of it
#: is not tried (a fixpoint takes several sweeps).
H2_BUDGET = 60_000_000
#: Largest fact count for which the pair table (n^2 bytes) is built.
H2_MAX_FACTS = 8000
#: Landmark pairs :func:`reasonable_orders` tests at most (a few seconds of Python); past it,
#: the orderings found so far are kept (fewer orderings only weaken the guidance).
MAX_PAIR_TESTS = 2_000_000


@njit(cache=True)
def _h2_reachable(n: int, pre_ptr: np.ndarray, pre: np.ndarray, add_ptr: np.ndarray,
                  add: np.ndarray, del_ptr: np.ndarray, dele: np.ndarray, init: np.ndarray,
                  budget: int) -> tuple[np.ndarray, bool]:
    """The h^2-reachable fact pairs (``R[p, q]``; ``R[p, p]``: ``p`` reachable) and whether
    the fixpoint was reached within ``budget`` pair tests."""
    R = np.zeros((n, n), dtype=np.uint8)
    for a in init:
        for b in init:
            R[a, b] = 1
    mark = np.zeros(n, dtype=np.uint8)
    work = 0
    changed = True
    while changed:
        changed = False
        for o in range(pre_ptr.shape[0] - 1):
            p0, p1, a0, a1 = pre_ptr[o], pre_ptr[o + 1], add_ptr[o], add_ptr[o + 1]
            usable = True
            for i in range(p0, p1):
                for j in range(i, p1):
                    if R[pre[i], pre[j]] == 0:
                        usable = False
                        break
                if not usable:
                    break
            if not usable:
                continue
            for i in range(a0, a1):
                for j in range(a0, a1):
                    if R[add[i], add[j]] == 0:
                        R[add[i], add[j]] = 1
                        changed = True
            for i in range(del_ptr[o], del_ptr[o + 1]):
                mark[dele[i]] = 1
            for i in range(a0, a1):
                mark[add[i]] = 1
            for r in range(n):  # facts that may stay true beside what o adds
                if mark[r] or R[r, r] == 0:
                    continue
                together = True
                for i in range(p0, p1):
                    if R[r, pre[i]] == 0:
                        together = False
                        break
                if not together:
                    continue
                for i in range(a0, a1):
                    if R[add[i], r] == 0:
                        R[add[i], r] = 1
                        R[r, add[i]] = 1
                        changed = True
            for i in range(del_ptr[o], del_ptr[o + 1]):
                mark[dele[i]] = 0
            for i in range(a0, a1):
                mark[add[i]] = 0
            work += n * (p1 - p0 + 1)
            if work > budget:
                return R, False
    return R, True


def mutex_pairs(task: Task, budget: int = H2_BUDGET) -> np.ndarray | None:
    """``M[p, q]``: facts ``p`` and ``q`` are both reachable and never true together (by h^2,
    ignoring negative preconditions, which only makes it find fewer); ``None`` when the task
    is too large for the table or the budget."""
    n = task.n_facts
    sweep = n * (int(task.pre_ptr[-1]) + task.n_ops)
    if n > H2_MAX_FACTS or 3 * sweep > budget:
        return None
    R, done = _h2_reachable(n, task.pre_ptr, task.pre, task.add_ptr, task.add, task.del_ptr,
                            task.dele, task.init.astype(np.int64), budget)
    if not done:
        return None
    reach = np.diagonal(R).astype(bool)
    return (R == 0) & reach[:, None] & reach[None, :]


def reasonable_orders(task: Task, facts: list[int | None], parents: list[set[int]],
                      gn_parents: list[set[int]], mutex: np.ndarray,
                      adders: dict[int, list[int]]) -> list[tuple[int, int]]:
    """Reasonable orderings ``(l, l2)`` (``l`` before ``l2``) between the landmarks.

    Parameters
    ----------
    facts
        Per landmark, its fact, or ``None`` for a disjunction (which takes no part).
    parents, gn_parents
        Per landmark, the landmarks ordered before it (natural or greedy-necessary), and the
        greedy-necessary ones among them.
    mutex
        From :func:`mutex_pairs`.
    adders
        Per fact, the operators that add it (those :func:`.landmarks.find_landmarks` uses).
    """
    n = len(facts)
    init = set(task.init.tolist())
    goal = set(task.goal.tolist())

    def shared_effects(f: int) -> tuple[set[int], set[int]]:
        """What every operator adding ``f`` adds, and deletes."""
        ops = adders.get(f, [])
        if not ops:
            return set(), set()
        adds = [set(task.add[task.add_ptr[o]:task.add_ptr[o + 1]].tolist()) for o in ops]
        dels = [set(task.dele[task.del_ptr[o]:task.del_ptr[o + 1]].tolist()) for o in ops]
        return set.intersection(*adds), set.intersection(*dels)

    effects = {f: shared_effects(f) for f in facts if f is not None}

    def interferes(a: int, b: int) -> bool:
        fa, fb = facts[a], facts[b]
        if fa is None or fb is None or fa == fb:
            return False
        if mutex[fa, fb]:
            return True
        adds, dels = effects[fa]
        if fb in dels or any(mutex[e, fb] for e in adds if e not in (fa, fb)):
            return True
        return any(facts[x] is not None and mutex[facts[x], fb] for x in gn_parents[a])

    children: list[set[int]] = [set() for _ in range(n)]
    for j in range(n):
        for i in parents[j]:
            children[i].add(j)

    known: dict[int, set[int]] = {}

    def ancestors(i: int) -> set[int]:
        if i not in known:
            seen, stack = set(), [i]
            while stack:
                for p in parents[stack.pop()]:
                    if p not in seen:
                        seen.add(p)
                        stack.append(p)
            known[i] = seen
        return known[i]

    found: set[tuple[int, int]] = set()
    tests = 0
    for p in range(n):
        fp = facts[p]
        if fp is None or fp in init:
            continue
        if fp in goal:
            candidates = set(range(n))
        else:
            candidates = set()
            for child in children[p]:
                if p not in gn_parents[child]:
                    continue
                for other in parents[child]:
                    if other != p and facts[other] is not None:
                        candidates.add(other)
                        candidates |= ancestors(other)
        tests += len(candidates)
        if tests > MAX_PAIR_TESTS:
            break
        for q in sorted(candidates):
            if q != p and p not in parents[q] and q not in parents[p] and interferes(q, p):
                found.discard((p, q))  # of two opposite orderings the later stays (as FD)
                found.add((q, p))
    return sorted(found)
