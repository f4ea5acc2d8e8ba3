"""Fact landmarks of a ground task and their orderings, for the landmark-count heuristic.

A fact landmark is a fact that every plan makes true at some point. LAMA counts the landmarks
a search path has not reached yet (Richter & Westphal 2010); this module finds them once per
task, before the search, with the h^1 propagation of Zhu & Givan (2003), the m = 1 case of
Keyder, Richter & Helmert's h^m landmarks (2010): over the delete relaxation, the landmarks
of a fact ``f`` are ``f`` itself plus those common to every operator that adds ``f``, and an
operator's landmarks are the union of its preconditions'. The fixpoint gives, for each goal,
facts that any relaxed plan, and so any real plan, must reach first.

Two orderings come with them:

* natural: ``l`` is a landmark of ``l2``, so ``l`` is true before ``l2`` first is;
* necessary: ``l`` is a precondition of every operator that adds ``l2`` (``l2`` not initially
  true), so ``l`` must be true right before ``l2`` becomes true. A reached ``l`` that is false
  again is needed again while such an ``l2`` is not reached (LAMA's "required again").

Disjunctive and conjunctive landmarks, reasonable orderings and landmark costs (LAMA's other
parts) are left out: with unit counts, fact landmarks carry most of the heuristic's guidance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .task import Task


@dataclass(frozen=True)
class Landmarks:
    """The landmarks of one task, as arrays the compiled heuristic reads.

    Attributes
    ----------
    facts : int32 array
        Fact id of each landmark (landmark ids are positions in this array, sorted by fact).
    is_goal : uint8 array
        Per landmark: a goal fact (needed again whenever it is false).
    nec_ptr, nec : int64 / int32 arrays
        CSR lists: the landmarks that landmark ``i`` is necessarily ordered before.
    natural : list of (int, int)
        Natural orderings ``(l, l2)`` between landmark ids (for inspection and tests).
    """

    facts: np.ndarray
    is_goal: np.ndarray
    nec_ptr: np.ndarray
    nec: np.ndarray
    natural: list[tuple[int, int]]

    @property
    def n(self) -> int:
        return int(self.facts.shape[0])

    @property
    def n_words(self) -> int:
        """uint64 words of one reached-landmarks bit-vector (at least 1)."""
        return max(1, (self.n + 63) // 64)

    def arrays(self, task: Task) -> tuple:
        """``(facts, is_goal, nec_ptr, nec, init_reached)``: what the kernel takes."""
        reached = np.zeros(self.n_words, dtype=np.uint64)
        init = set(task.init.tolist())
        for i, f in enumerate(self.facts.tolist()):
            if f in init:
                reached[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
        return (self.facts, self.is_goal, self.nec_ptr, self.nec, reached)


def no_landmarks() -> tuple:
    """The kernel's landmark tuple for searches without the landmark heuristic (same types)."""
    return (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8),
            np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
            np.zeros(1, dtype=np.uint64))


def _rows(ptr: np.ndarray, flat: np.ndarray) -> list[list[int]]:
    p, f = ptr.tolist(), flat.tolist()
    return [f[p[i]:p[i + 1]] for i in range(len(p) - 1)]


def fact_landmarks_of(task: Task) -> list[frozenset[int] | None]:
    """Per fact: its h^1 landmarks (itself included), or ``None`` if relaxed-unreachable.

    Worklist fixpoint: an operator is (re)processed when all its preconditions are reached
    and one of their landmark sets shrank since; a fact's set only shrinks after its first.
    Negative preconditions are ignored (the delete relaxation).
    """
    pre, add = _rows(task.pre_ptr, task.pre), _rows(task.add_ptr, task.add)
    users = _rows(*task.precondition_of)
    lm: list[frozenset[int] | None] = [None] * task.n_facts
    unsat = [len(ps) for ps in pre]
    queue: deque[int] = deque(o for o in range(task.n_ops) if unsat[o] == 0)
    queued = [unsat[o] == 0 for o in range(task.n_ops)]

    def changed(f: int, first: bool) -> None:
        for o in users[f]:
            if first:
                unsat[o] -= 1
            if unsat[o] == 0 and not queued[o]:
                queued[o] = True
                queue.append(o)

    for f in task.init.tolist():
        lm[f] = frozenset((f,))
        changed(f, True)
    while queue:
        o = queue.popleft()
        queued[o] = False
        through: frozenset[int] = frozenset().union(*(lm[p] for p in pre[o]))  # type: ignore[misc]
        for g in add[o]:
            old = lm[g]
            new = through | {g} if old is None else old & (through | {g})
            if old is None or len(new) < len(old):
                lm[g] = new
                changed(g, old is None)
    return lm


def find_landmarks(task: Task) -> Landmarks:
    """The goal's h^1 fact landmarks and their natural and necessary orderings.

    Raises ``ValueError`` for a goal no relaxed plan reaches (grounding reports those first,
    as :attr:`Task.unsolvable`).
    """
    lm = fact_landmarks_of(task)
    goals = task.goal.tolist()
    found: set[int] = set()
    for g in goals:
        if lm[g] is None:
            raise ValueError(f"goal {task.atoms[g]} is unreachable in the delete relaxation")
        found |= lm[g]  # type: ignore[operator]
    facts = sorted(found)
    index = {f: i for i, f in enumerate(facts)}
    natural = sorted((index[l1], index[f]) for f in facts for l1 in lm[f]  # type: ignore[union-attr]
                     if l1 != f and l1 in index)
    init = set(task.init.tolist())
    pre = _rows(task.pre_ptr, task.pre)
    achievers: dict[int, list[int]] = {f: [] for f in facts if f not in init}
    for o, gs in enumerate(_rows(task.add_ptr, task.add)):
        if all(lm[p] is not None for p in pre[o]):  # relaxed-reachable achievers only
            for g in gs:
                if g in achievers:
                    achievers[g].append(o)
    before: list[list[int]] = [[] for _ in facts]
    for f, ops in achievers.items():
        if ops:
            common = set(pre[ops[0]]).intersection(*(pre[o] for o in ops[1:]))
            for p in sorted(common & index.keys()):
                if p != f:
                    before[index[p]].append(index[f])
    nec_ptr = np.zeros(len(facts) + 1, dtype=np.int64)
    nec_ptr[1:] = np.cumsum([len(b) for b in before])
    nec = np.array([x for b in before for x in b], dtype=np.int32)
    goal_set = set(goals)
    return Landmarks(
        facts=np.array(facts, dtype=np.int32),
        is_goal=np.array([f in goal_set for f in facts], dtype=np.uint8),
        nec_ptr=nec_ptr,
        nec=nec,
        natural=natural,
    )
