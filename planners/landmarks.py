"""Landmarks of a ground task and their orderings, for the landmark-count heuristic.

A landmark is a fact, or a set of facts (a disjunctive landmark), that every plan makes true
at some point. LAMA counts the landmarks a search path has not reached yet (Richter &
Westphal 2010); this module finds them once per task, before the search, in two steps.

* Fact landmarks by the h^1 propagation of Zhu & Givan (2003), the m = 1 case of Keyder,
  Richter & Helmert's h^m landmarks (2010): over the delete relaxation, the landmarks of a
  fact ``f`` are ``f`` itself plus those common to every operator that adds ``f``, and an
  operator's landmarks are the union of its preconditions'. The fixpoint gives, for each
  goal, facts that any relaxed plan, and so any real plan, must reach first.
* Back-chaining from every landmark, as Richter, Helmert & Westphal's (2008) RHW landmarks
  do (Fast Downward's ``lm_rhw``, the landmarks of LAMA): the operators that can make it true
  *first* (those whose preconditions need none of its facts, by the h^1 sets above) must
  all be preceded by their common preconditions, and by one of the facts each has of some
  predicate. When every first achiever has a precondition of predicate ``P`` that is not
  true initially, the union of those preconditions is a disjunctive landmark (kept when it
  has 2 to 4 facts, none of them already a fact landmark). In Childsnack, say, a child is
  served only after one of a few trays has reached its table, which no fact landmark says.

Two orderings come with them:

* natural: ``l`` is an h^1 landmark of ``l2``, so ``l`` is true before ``l2`` first is;
* greedy-necessary: ``l`` holds right before ``l2`` first becomes true (a common or
  disjunctive precondition of its first achievers). A reached ``l`` that is false again is
  needed again while such an ``l2`` is not reached (LAMA's "required again").

and, between fact landmarks, reasonable orderings (:mod:`.reasonable_orders`): ``l`` before
``l2`` when reaching ``l`` after ``l2`` would destroy ``l2``; a reached ``l2`` counts again
while such an ``l`` is not reached.

Conjunctive landmarks and landmark costs (LAMA's other parts) are left out: with unit
counts, fact and disjunctive landmarks carry most of the heuristic's guidance.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .reasonable_orders import mutex_pairs, reasonable_orders

if TYPE_CHECKING:
    from .task import Task

#: Largest disjunctive landmark kept (as Fast Downward's RHW landmarks): bigger ones are
#: reached too easily to guide the search, and there are many of them.
MAX_DISJUNCTION = 4


@dataclass(frozen=True)
class Landmarks:
    """The landmarks of one task, as arrays the compiled heuristic reads.

    Attributes
    ----------
    ptr, facts : int64 / int32 arrays
        CSR lists: landmark ``i`` holds in a state where any of ``facts[ptr[i]:ptr[i + 1]]``
        is true (one fact for a fact landmark, 2 to :data:`MAX_DISJUNCTION` otherwise).
    is_goal : uint8 array
        Per landmark: a goal fact (needed again whenever it is false).
    nec_ptr, nec : int64 / int32 arrays
        CSR lists: the landmarks that landmark ``i`` is greedy-necessarily ordered before.
    natural : list of (int, int)
        Natural orderings ``(l, l2)`` between fact landmarks (for inspection and tests).
    reas_ptr, reas : int64 / int32 arrays
        CSR lists: the landmarks reasonably ordered before landmark ``i`` (none when the
        task was too large for the mutexes they rest on).
    """

    ptr: np.ndarray
    facts: np.ndarray
    is_goal: np.ndarray
    nec_ptr: np.ndarray
    nec: np.ndarray
    natural: list[tuple[int, int]]
    reas_ptr: np.ndarray
    reas: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ptr.shape[0]) - 1

    @property
    def n_words(self) -> int:
        """uint64 words of one reached-landmarks bit-vector (at least 1)."""
        return max(1, (self.n + 63) // 64)

    def facts_of(self, i: int) -> list[int]:
        """The facts of landmark ``i`` (one, or those of a disjunction)."""
        return self.facts[self.ptr[i]:self.ptr[i + 1]].tolist()

    def arrays(self, task: Task) -> tuple:
        """``(ptr, facts, is_goal, nec_ptr, nec, of_ptr, of, reas_ptr, reas, init_reached)``:
        what the kernel takes (``of_ptr, of``: per fact of the task, the landmarks it is a
        fact of)."""
        reached = np.zeros(self.n_words, dtype=np.uint64)
        init = set(task.init.tolist())
        of: list[list[int]] = [[] for _ in range(task.n_facts)]
        for i in range(self.n):
            if init.intersection(self.facts_of(i)):
                reached[i >> 6] |= np.uint64(1) << np.uint64(i & 63)
            for f in self.facts_of(i):
                of[f].append(i)
        of_ptr, of_flat = _csr(of, np.int32)
        return (self.ptr, self.facts, self.is_goal, self.nec_ptr, self.nec, of_ptr, of_flat,
                self.reas_ptr, self.reas, reached)


def no_landmarks() -> tuple:
    """The kernel's landmark tuple for searches without the landmark heuristic (same types)."""
    return (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32),
            np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int64),
            np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.uint64))


def _rows(ptr: np.ndarray, flat: np.ndarray) -> list[list[int]]:
    p, f = ptr.tolist(), flat.tolist()
    return [f[p[i]:p[i + 1]] for i in range(len(p) - 1)]


def _csr(rows: list[list[int]], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    return ptr, np.array([x for r in rows for x in r], dtype=dtype)


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


class _Graph:
    """Landmarks found so far (fact sets), their greedy-necessary orderings and a queue of
    those not back-chained from yet."""

    def __init__(self) -> None:
        self.nodes: list[frozenset[int]] = []
        self.index: dict[frozenset[int], int] = {}
        self.in_disjunction: set[int] = set()
        self.before: set[tuple[int, int]] = set()
        self.queue: deque[int] = deque()

    def add(self, facts: frozenset[int]) -> int:
        i = self.index.get(facts)
        if i is None:
            i = self.index[facts] = len(self.nodes)
            self.nodes.append(facts)
            if len(facts) > 1:
                self.in_disjunction |= facts
            self.queue.append(i)
        return i

    def usable_disjunction(self, facts: frozenset[int]) -> bool:
        """A new disjunction is kept unless it is implied by a fact landmark or overlaps
        another disjunction (which would make "reached" ambiguous between the two)."""
        if facts in self.index:
            return True
        return not any(frozenset((f,)) in self.index or f in self.in_disjunction
                       for f in facts)


def find_landmarks(task: Task) -> Landmarks:
    """The goal's fact and disjunctive landmarks, with natural and greedy-necessary orderings.

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
    init = set(task.init.tolist())
    pre = _rows(task.pre_ptr, task.pre)
    reachable = [all(lm[p] is not None for p in ps) for ps in pre]
    adders: dict[int, list[int]] = {}
    for o, gs in enumerate(_rows(task.add_ptr, task.add)):
        if reachable[o]:
            for g in gs:
                adders.setdefault(g, []).append(o)
    needs: dict[int, frozenset[int]] = {}

    def needed(o: int) -> frozenset[int]:
        """Facts every relaxed plan reaches before ``o`` can apply."""
        if o not in needs:
            needs[o] = frozenset().union(*(lm[p] for p in pre[o]))  # type: ignore[misc]
        return needs[o]

    graph = _Graph()
    for f in sorted(found):
        graph.add(frozenset((f,)))
    while graph.queue:
        j = graph.queue.popleft()
        target = graph.nodes[j]
        if target & init:
            continue  # reached before any operator applies: nothing is ordered before it
        first = sorted({o for f in target for o in adders.get(f, ())
                        if not target & needed(o)})
        if not first:
            continue
        shared = set(pre[first[0]]).intersection(*(pre[o] for o in first[1:])) - target
        for p in sorted(shared):
            graph.before.add((graph.add(frozenset((p,))), j))
        by_predicate: dict[str, dict[int, list[int]]] = {}
        for o in first:
            for p in pre[o]:
                if p not in init and p not in shared:
                    by_predicate.setdefault(task.atoms[p][0], {}).setdefault(o, []).append(p)
        for predicate in sorted(by_predicate):
            per_op = by_predicate[predicate]
            union = frozenset(p for ps in per_op.values() for p in ps)
            if (len(per_op) == len(first) and 1 < len(union) <= MAX_DISJUNCTION
                    and graph.usable_disjunction(union)):
                graph.before.add((graph.add(union), j))
    nodes = graph.nodes
    fact_id = {next(iter(s)): i for i, s in enumerate(nodes) if len(s) == 1}
    natural = sorted((fact_id[l1], fact_id[f]) for f in sorted(found)
                     for l1 in lm[f] if l1 != f and l1 in fact_id)  # type: ignore[union-attr]
    before: list[list[int]] = [[] for _ in nodes]
    gn_parents: list[set[int]] = [set() for _ in nodes]
    for i, j in sorted(graph.before):
        before[i].append(j)
        gn_parents[j].add(i)
    parents = [set(ps) for ps in gn_parents]
    for i, j in natural:
        parents[j].add(i)
    reasonable: list[list[int]] = [[] for _ in nodes]
    mutex = mutex_pairs(task)
    if mutex is not None:
        singles = [next(iter(s)) if len(s) == 1 else None for s in nodes]
        for i, j in reasonable_orders(task, singles, parents, gn_parents, mutex, adders):
            reasonable[j].append(i)
    ptr, facts = _csr([sorted(s) for s in nodes], np.int32)
    nec_ptr, nec = _csr(before, np.int32)
    reas_ptr, reas = _csr(reasonable, np.int32)
    goal_set = set(goals)
    return Landmarks(
        ptr=ptr,
        facts=facts,
        is_goal=np.array([len(s) == 1 and not s.isdisjoint(goal_set) for s in nodes],
                         dtype=np.uint8),
        nec_ptr=nec_ptr,
        nec=nec,
        natural=natural,
        reas_ptr=reas_ptr,
        reas=reas,
    )
