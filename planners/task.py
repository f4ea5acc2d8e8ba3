"""The ground STRIPS task: numbered facts and operators in flat integer arrays.

Everything the compiled search and heuristics touch is a numpy array, so it crosses into numba
without conversion: facts are numbered ``0..F-1`` (fluent atoms only; atoms that never change
are folded away at grounding and kept in :attr:`Task.static_atoms`), operators ``0..O-1``, and
each operator's preconditions, negative preconditions, add and delete lists are CSR slices
``pre[pre_ptr[o]:pre_ptr[o + 1]]`` and so on. A state is a packed bit-vector of ``W = ceil(F /
64)`` ``uint64`` words (bit ``f % 64`` of word ``f // 64``).

The structures that only some consumers need (the successor index, the relaxed-exploration
index) are built on first use and cached on the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .lifted import Atom, LiftedTask

if TYPE_CHECKING:
    from .landmarks import Landmarks


@dataclass(eq=False)
class Task:
    """A ground STRIPS task with negative preconditions and integer action costs.

    Attributes
    ----------
    lifted : LiftedTask
        The parsed PDDL the task was ground from (plan checking works on it, not on this).
    atoms : list of Atom
        Fact id -> atom, e.g. ``atoms[3] == ('on', 'a', 'b')``.
    op_schema, op_args :
        Operator id -> schema index in ``lifted.schemas`` and its object arguments.
    pre_ptr, pre, neg_ptr, neg, add_ptr, add, del_ptr, dele : numpy arrays
        CSR operator lists (fact ids, sorted, no duplicates; ``dele`` excludes ``add``).
    cost : numpy int64 array
        Operator costs (1 each unless the problem minimises total-cost).
    init : numpy int32 array
        Fact ids true initially.
    goal, goal_neg : numpy int32 arrays
        Fact ids that must be true / false in a goal state.
    static_atoms : frozenset of Atom
        Atoms true in every state (initial atoms of predicates no action changes).
    unsolvable : str or None
        Why the task is unsolvable, when grounding already proves it (a goal is unreachable).
    """

    lifted: LiftedTask
    atoms: list[Atom]
    op_schema: np.ndarray
    op_args: list[tuple[str, ...]]
    pre_ptr: np.ndarray
    pre: np.ndarray
    neg_ptr: np.ndarray
    neg: np.ndarray
    add_ptr: np.ndarray
    add: np.ndarray
    del_ptr: np.ndarray
    dele: np.ndarray
    cost: np.ndarray
    init: np.ndarray
    goal: np.ndarray
    goal_neg: np.ndarray
    static_atoms: frozenset[Atom]
    unsolvable: str | None = None
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def n_facts(self) -> int:
        return len(self.atoms)

    @property
    def n_ops(self) -> int:
        return len(self.op_args)

    @property
    def n_words(self) -> int:
        """uint64 words per packed state (at least 1, so empty tasks still work)."""
        return max(1, (self.n_facts + 63) // 64)

    @cached_property
    def fact_index(self) -> dict[Atom, int]:
        """Atom -> fact id."""
        return {a: i for i, a in enumerate(self.atoms)}

    @property
    def unit_cost(self) -> bool:
        return bool(self.n_ops == 0 or (self.cost == 1).all())

    def op_name(self, op: int) -> str:
        """IPC-style name of an operator, e.g. ``'(unstack a b)'``."""
        schema = self.lifted.schemas[int(self.op_schema[op])].name
        return "(" + " ".join((schema, *self.op_args[op])) + ")"

    def op_facts(self, op: int) -> dict[str, list[int]]:
        """The four fact lists of one operator (for tests and debugging)."""
        def row(ptr: np.ndarray, flat: np.ndarray) -> list[int]:
            return flat[ptr[op]:ptr[op + 1]].tolist()

        return {
            "pre": row(self.pre_ptr, self.pre),
            "neg": row(self.neg_ptr, self.neg),
            "add": row(self.add_ptr, self.add),
            "del": row(self.del_ptr, self.dele),
        }

    def pack(self, facts: list[int] | np.ndarray) -> np.ndarray:
        """Packed bit-vector of a set of fact ids."""
        bits = np.zeros(self.n_words, dtype=np.uint64)
        for f in facts:
            bits[f >> 6] |= np.uint64(1) << np.uint64(f & 63)
        return bits

    def unpack(self, bits: np.ndarray) -> list[int]:
        """Fact ids set in a packed state, ascending."""
        flat = np.unpackbits(bits.view(np.uint8), bitorder="little")
        return np.flatnonzero(flat[: self.n_facts]).tolist()

    def state_atoms(self, bits: np.ndarray) -> frozenset[Atom]:
        """The atoms of a packed state (fluents only)."""
        return frozenset(self.atoms[f] for f in self.unpack(bits))

    def pack_atoms(self, atoms: frozenset[Atom] | set[Atom]) -> np.ndarray:
        """Packed state from atoms; static atoms are ignored, unknown atoms are an error."""
        index = self.fact_index
        facts = []
        for a in atoms:
            if a in index:
                facts.append(index[a])
            elif a not in self.static_atoms:
                raise KeyError(f"atom {a} is not a fact of this task")
        return self.pack(facts)

    @cached_property
    def landmarks(self) -> Landmarks:
        """The goal's landmarks and orderings (:mod:`ahd.planners.landmarks`), found on
        first use; kept with the task, so a task sent to a sandbox child carries them."""
        from .landmarks import find_landmarks

        return find_landmarks(self)

    @cached_property
    def init_bits(self) -> np.ndarray:
        return self.pack(self.init)

    @cached_property
    def successor_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(key_ptr, key_ops, free_ops)``: each operator listed under one precondition fact.

        A state's applicable operators are found by scanning only the operators keyed by its
        true facts (plus ``free_ops``, those without positive preconditions) and testing the
        rest of their preconditions bit by bit. The key is the precondition whose predicate is
        least often true in the initial state (an estimate of how rarely it holds), so that
        e.g. Sokoban's moves are keyed by ``at-robot`` (one true fact) rather than ``clear``.
        """
        n_facts, n_ops = self.n_facts, self.n_ops
        pred_of = {}
        fact_pred = np.array([pred_of.setdefault(a[0], len(pred_of)) for a in self.atoms],
                             dtype=np.int64)
        total = np.bincount(fact_pred, minlength=len(pred_of))
        true = np.bincount(fact_pred[self.init], minlength=len(pred_of))
        ratio = (true / np.maximum(total, 1))[fact_pred] if n_facts else np.zeros(0)
        users = np.bincount(self.pre, minlength=n_facts)
        rank = np.empty(n_facts, dtype=np.int64)
        rank[np.lexsort((np.arange(n_facts), -users, ratio))] = np.arange(n_facts)
        sizes = np.diff(self.pre_ptr)
        seg = np.repeat(np.arange(n_ops), sizes)
        order = np.lexsort((rank[self.pre], seg))
        has_pre = sizes > 0
        key = np.full(n_ops, -1, dtype=np.int64)
        key[has_pre] = self.pre[order[self.pre_ptr[:-1][has_pre]]]
        keyed = np.flatnonzero(has_pre)
        by_key = keyed[np.argsort(key[keyed], kind="stable")]
        key_ptr = np.zeros(n_facts + 1, dtype=np.int64)
        key_ptr[1:] = np.cumsum(np.bincount(key[keyed], minlength=n_facts))
        free = np.flatnonzero(~has_pre)
        return key_ptr, by_key.astype(np.int32), free.astype(np.int32)

    @cached_property
    def precondition_of(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ptr, ops)``: fact -> operators having it as a positive precondition."""
        seg = np.repeat(np.arange(self.n_ops), np.diff(self.pre_ptr))
        order = np.argsort(self.pre, kind="stable")
        ptr = np.zeros(self.n_facts + 1, dtype=np.int64)
        ptr[1:] = np.cumsum(np.bincount(self.pre, minlength=self.n_facts))
        return ptr, seg[order].astype(np.int32)

    def arrays(self) -> tuple:
        """The tuple of arrays the compiled kernels take (see ``search.kernel``)."""
        key_ptr, key_ops, free_ops = self.successor_index
        fpre_ptr, fpre_ops = self.precondition_of
        return (
            self.pre_ptr, self.pre, self.neg_ptr, self.neg,
            self.add_ptr, self.add, self.del_ptr, self.dele, self.cost,
            key_ptr, key_ops, free_ops, self.goal, self.goal_neg,
            fpre_ptr, fpre_ops,
        )
