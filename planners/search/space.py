"""The search's memory: packed states, parents, heuristic values, hash table and open list.

Plain numpy arrays, grown by doubling from Python when the compiled loop asks for room (numba
code should not allocate inside the hot loop, and Python can check the memory limit before a
growth instead of being killed by it). ``as_tuple()`` is what the kernel receives.
"""

from __future__ import annotations

import numpy as np

from .kernel import (
    BEST_H,
    GOAL_NODE,
    N_CTR,
    N_ENTRIES,
    N_NODES,
    PEND_LO,
    PENDING,
    RESUME,
    lookup,
    rebuild_table,
)


def _pow2_at_least(n: int) -> int:
    return 1 << max(4, int(n - 1).bit_length())


class SearchSpace:
    """Node store and open list of one search.

    Parameters
    ----------
    n_words, n_ops : int
        Words per packed state; number of operators (sizes the applicable-operator buffer).
    node_cap, entry_cap : int
        Initial capacities (grown on demand).
    landmark_words : int
        Words of a reached-landmarks bit-vector, for searches with the landmark count (its
        values, open lists and per-node reached sets); 0 leaves those one-element placeholders.
    """

    def __init__(self, n_words: int, n_ops: int, node_cap: int = 4096, entry_cap: int = 4096,
                 landmark_words: int = 0):
        self.n_words = n_words
        self.landmark_words = landmark_words
        self.states = np.zeros((node_cap, n_words), dtype=np.uint64)
        self.parent = np.full(node_cap, -1, dtype=np.int64)
        self.op = np.full(node_cap, -1, dtype=np.int32)
        self.hval = np.full(node_cap, np.nan, dtype=np.float64)
        self.shash = np.zeros(node_cap, dtype=np.uint64)
        self.table = np.full(_pow2_at_least(4 * node_cap), -1, dtype=np.int64)
        self.ekey = np.zeros(entry_cap, dtype=np.float64)
        self.enode = np.zeros(entry_cap, dtype=np.int64)
        self.eop = np.zeros(entry_cap, dtype=np.int32)
        self.heap = np.zeros(entry_cap, dtype=np.int64)
        self.pheap = np.zeros(entry_cap, dtype=np.int64)  # preferred successors (lazy search)
        self.ctr = np.zeros(N_CTR, dtype=np.int64)
        self.ctr[RESUME] = -1
        self.ctr[GOAL_NODE] = -1
        self.app = np.zeros(max(1, n_ops), dtype=np.int32)
        self.buf = np.zeros(n_words, dtype=np.uint64)
        lm_nodes, lm_entries = (node_cap, entry_cap) if landmark_words else (1, 1)
        self.ekey2 = np.zeros(lm_entries, dtype=np.float64)
        self.heap2 = np.zeros(lm_entries, dtype=np.int64)
        self.pheap2 = np.zeros(lm_entries, dtype=np.int64)
        self.hval2 = np.full(lm_nodes, np.nan, dtype=np.float64)
        self.lmr = np.zeros((lm_nodes, max(1, landmark_words)), dtype=np.uint64)

    def as_tuple(self) -> tuple:
        return (
            self.states, self.parent, self.op, self.hval, self.shash, self.table,
            self.ekey, self.enode, self.eop, self.heap, self.ctr, self.app, self.buf,
            self.pheap, self.ekey2, self.heap2, self.pheap2, self.hval2, self.lmr,
        )

    @property
    def n_nodes(self) -> int:
        return int(self.ctr[N_NODES])

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.as_tuple())

    def add_root(self, bits: np.ndarray) -> None:
        """Insert the initial state as node 0, pending evaluation."""
        from .kernel import insert_node, state_hash

        h = np.uint64(state_hash(bits))
        _, slot = lookup(self.as_tuple(), bits, h)
        insert_node(self.as_tuple(), bits, h, slot, -1, -1)
        self.ctr[PEND_LO] = 0
        self.ctr[PENDING] = 1
        self.ctr[BEST_H] = 0

    def growth_bytes(self, need: int) -> int:
        """Extra bytes :meth:`grow` would allocate (old and new arrays coexist briefly)."""
        node_cap, entry_cap, table_cap = self._new_caps(need)
        per_node = self.n_words * 8 + 8 + 4 + 8 + 8
        per_entry = 8 + 8 + 4 + 8 + 8
        if self.landmark_words:
            per_node += 8 + self.landmark_words * 8
            per_entry += 8 + 8 + 8
        return (
            (node_cap - self.states.shape[0]) * per_node
            + (entry_cap - self.ekey.shape[0]) * per_entry
            + (table_cap - self.table.shape[0]) * 8
            + self.nbytes()
        )

    def _new_caps(self, need: int) -> tuple[int, int, int]:
        nodes, entries = int(self.ctr[N_NODES]), int(self.ctr[N_ENTRIES])
        node_cap = self.states.shape[0]
        if nodes + need > node_cap:
            node_cap = max(2 * node_cap, nodes + need + 1)
        entry_cap = self.ekey.shape[0]
        if entries + need > entry_cap:
            entry_cap = max(2 * entry_cap, entries + need + 1)
        table_cap = self.table.shape[0]
        if 2 * (nodes + need) > table_cap:
            table_cap = _pow2_at_least(4 * (nodes + need))
        return node_cap, entry_cap, table_cap

    def grow(self, need: int) -> None:
        """Make room for ``need`` more nodes and open-list entries."""
        node_cap, entry_cap, table_cap = self._new_caps(need)
        if node_cap > self.states.shape[0]:
            old = self.states.shape[0]
            self.states = np.concatenate(
                [self.states, np.zeros((node_cap - old, self.n_words), dtype=np.uint64)]
            )
            self.parent = np.resize(self.parent, node_cap)
            self.op = np.resize(self.op, node_cap)
            self.hval = np.resize(self.hval, node_cap)
            self.shash = np.resize(self.shash, node_cap)
            if self.landmark_words:
                self.hval2 = np.resize(self.hval2, node_cap)
                self.lmr = np.concatenate([self.lmr, np.zeros(
                    (node_cap - old, self.landmark_words), dtype=np.uint64)])
        if entry_cap > self.ekey.shape[0]:
            self.ekey = np.resize(self.ekey, entry_cap)
            self.enode = np.resize(self.enode, entry_cap)
            self.eop = np.resize(self.eop, entry_cap)
            self.heap = np.resize(self.heap, entry_cap)
            self.pheap = np.resize(self.pheap, entry_cap)
            if self.landmark_words:
                self.ekey2 = np.resize(self.ekey2, entry_cap)
                self.heap2 = np.resize(self.heap2, entry_cap)
                self.pheap2 = np.resize(self.pheap2, entry_cap)
        if table_cap > self.table.shape[0]:
            self.table = np.full(table_cap, -1, dtype=np.int64)
            rebuild_table(self.table, self.shash, int(self.ctr[N_NODES]))

    def path(self, node: int) -> list[int]:
        """Operator ids from the root to ``node``."""
        ops = []
        while node > 0:
            ops.append(int(self.op[node]))
            node = int(self.parent[node])
        return ops[::-1]
