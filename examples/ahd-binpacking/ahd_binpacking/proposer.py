"""The offline proposer: genetic programming on expression trees (:mod:`ahd_binpacking.gp`).

It implements :class:`ahd.proposers.base.Proposer` for the loop's strategies:

``init``           a random tree (ramped half-and-half), or a textbook rule from the library
                   (first fit, best fit, worst fit) with perturbed constants
``mutate_logic``   a guard (``lte v c K x``: one region of a feature gets a fixed, very high or
                   very low score, the rest keeps ``x``), subtree replacement, point mutation
                   (operator or terminal), wrapping a node in a random conditional, hoisting
``mutate_params``  Gaussian steps on the constants (a constant is inserted if there is none)
``crossover``      subtree exchange between two parents
``joint``          (two roles only; treated as crossover)

A parent whose source is not a GP tree (a seed, an LLM proposal, a hand edit) cannot be
edited as a tree: the library tree that stands in for it (``how`` says ``library``) is edited
instead. Every offspring is folded, kept within :class:`GPConfig`'s depth and size limits,
and differs from its parents; all randomness comes from the ``rng`` the loop passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ahd.candidate import Origin
from ahd.proposers.base import Proposal, ProposalRequest

from . import gp
from .gp import Tree

#: Textbook online rules as trees. Worst fit must tell the new-bin entry (``f == 0``) apart,
#: or it would always open a new bin.
LIBRARY: dict[str, Tree] = {
    "first_fit": ("neg", "pos"),
    "best_fit": ("neg", "g"),
    "worst_fit": ("lte", "f", 0.0, -1000.0, "g"),
}


#: Features a guard tests, how often, and the range its threshold is drawn from (capacity 100
#: scale; ``g`` and ``f`` also get threshold 0 a third of the time).
GUARD_VARIABLES = ("g", "f", "item", "r")
GUARD_WEIGHTS = (0.5, 0.3, 0.1, 0.1)
GUARD_RANGES = {"g": (1.0, 40.0), "f": (1.0, 99.0), "item": (5.0, 80.0), "r": (5.0, 99.0)}
#: Scores a guarded region gets: far above or below anything the rest of a tree returns.
GUARD_SCORES = (-10000.0, -1000.0, 1000.0, 10000.0)


@dataclass(frozen=True)
class GPConfig:
    """Shape limits and rates of the GP.

    Parameters
    ----------
    max_depth, max_nodes : int
        Limits every offspring must respect (bloat control).
    init_depth : int
        Deepest random tree of ``init`` (depths 2..init_depth, half grown, half full).
    library_share : float
        Share of ``init`` proposals taken from :data:`LIBRARY` rather than drawn at random.
    constant_share : float
        Share of random terminals that are constants.
    guard_share : float
        Share of ``mutate_logic`` edits that add a guard (:meth:`GPProposer.guard`).
    guard_root : float
        Share of guards placed at the root (the rest at a random node).
    tries : int
        Attempts at an offspring that is new and within the limits before giving up.
    """

    max_depth: int = 8
    max_nodes: int = 40
    init_depth: int = 4
    library_share: float = 0.3
    constant_share: float = 0.25
    guard_share: float = 0.5
    guard_root: float = 0.4
    tries: int = 20

    def __post_init__(self) -> None:
        if not 2 <= self.max_depth <= 20:
            raise ValueError(f"max_depth must be between 2 and 20, got {self.max_depth}")
        if not 3 <= self.max_nodes <= 500:
            raise ValueError(f"max_nodes must be between 3 and 500, got {self.max_nodes}")
        if not 2 <= self.init_depth <= self.max_depth:
            raise ValueError(f"init_depth must be between 2 and max_depth, got {self.init_depth}")
        for name in ("library_share", "constant_share", "guard_share", "guard_root"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.tries < 1:
            raise ValueError("tries must be at least 1")


class GPProposer:
    """GP on expression trees (see the module docstring); stateless between calls."""

    name = "gp"

    def __init__(self, config: GPConfig | None = None):
        self.config = config or GPConfig()

    def __call__(self, requests: list[ProposalRequest],
                 rng: np.random.Generator) -> list[Proposal]:
        return [self._one(req, rng) for req in requests]

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        return None  # a blind edit has nothing to learn from an error message

    # --- one proposal ---------------------------------------------------------------------

    def _one(self, req: ProposalRequest, rng: np.random.Generator) -> Proposal:
        parents: list[tuple[Tree, str]] = []
        for p in req.parents:
            tree = gp.tree_of_source(p.candidate.source)
            parents.append((tree, "tree") if tree is not None else (self._library(rng), "library"))
        strategy = "crossover" if req.strategy == "joint" else req.strategy
        old = {gp.to_sexpr(t) for t, _ in parents}
        for _ in range(self.config.tries):
            tree, how = self._vary(strategy, parents, rng)
            tree = gp.fold(tree)
            if self._fits(tree) and gp.to_sexpr(tree) not in old and gp.variables(tree):
                origin = Origin("gp", strategy=f"{req.strategy}:{how}")
                return Proposal(req, gp.render(tree), origin)
        return Proposal(req, None, Origin("gp", strategy=req.strategy),
                        error=f"no new tree within the limits after {self.config.tries} tries")

    def _fits(self, tree: Tree) -> bool:
        return gp.depth(tree) <= self.config.max_depth and gp.size(tree) <= self.config.max_nodes

    def _library(self, rng: np.random.Generator) -> Tree:
        names = sorted(LIBRARY)
        return LIBRARY[names[int(rng.integers(len(names)))]]

    def _vary(self, strategy: str, parents: list[tuple[Tree, str]],
              rng: np.random.Generator) -> tuple[Tree, str]:
        kinds = "+".join(k for _, k in parents)
        if strategy == "init" or not parents:
            if rng.random() < self.config.library_share:
                return self.perturb_constants(self._library(rng), rng), "library"
            depth = int(rng.integers(2, self.config.init_depth + 1))
            full = bool(rng.random() < 0.5)
            return gp.random_tree(rng, depth, full, self.config.constant_share), "random"
        first = parents[0][0]
        if strategy == "mutate_params":
            return self.perturb_constants(first, rng), f"constants({kinds})"
        if strategy == "mutate_logic":
            tree, how = self.mutate_logic(first, rng)
            return tree, f"{how}({kinds})"
        other = parents[1][0] if len(parents) > 1 else self._library(rng)
        return self.crossover(first, other, rng), f"subtree_crossover({kinds})"

    # --- operators ------------------------------------------------------------------------

    def perturb_constants(self, tree: Tree, rng: np.random.Generator) -> Tree:
        """Gaussian steps on some constants (relative and absolute); insert one if none."""
        sites = [(p, n) for p, n in gp.nodes(tree) if isinstance(n, float)]
        if not sites:
            path, node = self._pick(tree, rng, terminals=True)
            c = gp.random_constant(rng)
            wrapper = ("mul", c, node) if rng.random() < 0.5 else ("add", node, c)
            return gp.replace(tree, path, wrapper)
        rate = 1.0 / len(sites)
        picked = [s for s in sites if rng.random() < rate] or [sites[int(rng.integers(len(sites)))]]
        for path, value in picked:
            if rng.random() < 0.5:
                new = value * float(np.exp(rng.normal(0.0, 0.3)))
            else:
                new = value + float(rng.normal(0.0, 1.0 + 0.1 * abs(value)))
            tree = gp.replace(tree, path, gp.constant(new))
        return tree

    def guard(self, tree: Tree, rng: np.random.Generator) -> Tree:
        """``x`` -> ``lte(v, c, K, x)`` or ``lte(v, c, x, K)`` at the root or a random node.

        Online packing rules are lexicographic (a perfect fit first, never a tiny gap, a new
        bin only when nothing else is good), which random subtrees almost never produce; a
        guard adds one such tier in one step. ``v`` is mostly the gap ``g`` or the fill ``f``,
        ``c`` often 0 (``g <= 0``: a perfect fit; ``f <= 0``: the new bin) and ``K`` a large
        score of either sign.
        """
        if rng.random() < self.config.guard_root:
            path, node = (), tree
        else:
            all_nodes = gp.nodes(tree)
            path, node = all_nodes[int(rng.integers(len(all_nodes)))]
        var = GUARD_VARIABLES[int(rng.choice(len(GUARD_VARIABLES), p=GUARD_WEIGHTS))]
        if var in ("g", "f") and rng.random() < 0.35:
            threshold = 0.0
        else:
            low, high = GUARD_RANGES[var]
            threshold = gp.constant(round(rng.uniform(low, high) * 2) / 2)
        big = GUARD_SCORES[int(rng.integers(len(GUARD_SCORES)))]
        branches = (big, node) if rng.random() < 0.5 else (node, big)
        return gp.replace(tree, path, ("lte", var, threshold, *branches))

    def mutate_logic(self, tree: Tree, rng: np.random.Generator) -> tuple[Tree, str]:
        """One structural edit, chosen at random."""
        if rng.random() < self.config.guard_share:
            return self.guard(tree, rng), "guard"
        u = rng.random()
        path, node = self._pick(tree, rng)
        if u < 0.4:
            new = gp.random_tree(rng, int(rng.integers(1, 4)), False, self.config.constant_share)
            return gp.replace(tree, path, new), "subtree"
        if u < 0.7:
            if gp.is_op(node):
                same = [op for op, k in gp.OPS.items() if k == gp.OPS[node[0]] and op != node[0]]
                if same:
                    op = same[int(rng.integers(len(same)))]
                    return gp.replace(tree, path, (op, *node[1:])), "point_op"
            return gp.replace(tree, path, gp.random_terminal(rng, 0.3)), "point_terminal"
        if u < 0.9:
            test = gp.random_tree(rng, 2, False, 0.5)
            other = gp.random_tree(rng, 2, False, self.config.constant_share)
            wrapped = ("lte", test, gp.random_constant(rng), *(
                (node, other) if rng.random() < 0.5 else (other, node)))
            return gp.replace(tree, path, wrapped), "wrap_lte"
        inner = [(p, n) for p, n in gp.nodes(node)[1:]]
        if inner:
            _, sub = inner[int(rng.integers(len(inner)))]
            return gp.replace(tree, path, sub), "hoist"
        return gp.replace(tree, path, gp.random_terminal(rng)), "point_terminal"

    def crossover(self, a: Tree, b: Tree, rng: np.random.Generator) -> Tree:
        """A random subtree of ``a`` replaced by a random subtree of ``b``."""
        path, _ = self._pick(a, rng)
        _, donor = self._pick(b, rng)
        return gp.replace(a, path, donor)

    def _pick(self, tree: Tree, rng: np.random.Generator,
              terminals: bool = False) -> tuple[tuple[int, ...], Tree]:
        """A random node; operators are preferred 90% of the time (Koza's rule)."""
        all_nodes = gp.nodes(tree)
        ops = [x for x in all_nodes if gp.is_op(x[1])]
        leaves = [x for x in all_nodes if not gp.is_op(x[1])]
        pool = leaves if terminals or not ops or rng.random() >= 0.9 else ops
        return pool[int(rng.integers(len(pool)))]


__all__ = ["GPConfig", "GPProposer", "LIBRARY"]
