"""A genome of catalogue features as a compiled heuristic: the tables its kernel reads.

:class:`CompiledGenome` is what ``ahd plan --heuristic FILE``, the sandbox and the evolution
run instead of a rendered module's Python when the file is exactly what
:func:`ahd.planners.feature_render.render` writes for its genome (see
:func:`ahd.planners.feature_render.parse_genome`): the same values (a test compares them
state by state), about the cost of a built-in heuristic, and h_FF's helpful actions for
preferred operators. :func:`genome_tables` reads, per task, what each
feature needs from the Python rendering's point of view (the heuristic task of
:mod:`.api`), so both agree by construction on which atoms count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .api import heuristic_task
from .base import BuiltinHeuristic, HeuristicError, PythonHeuristic
from .builtin import GENOME
from .genome_kernel import AGENT_DIST, CHAIN, GOAL_DIST, HADD, HFF, LINEAR, PLAN, WORK_HEADER
from .relaxed import scratch

if TYPE_CHECKING:
    from ..feature_catalogue import Feature
    from ..task import Task

__all__ = ["CompiledGenome", "GenomeTooLarge", "genome_tables"]

#: Most distance-table entries (int32) a genome may allocate for one task: 256 MiB.
MAX_DIST_ENTRIES = 1 << 26


class GenomeTooLarge(ValueError):
    """The genome's distance tables would not fit the budget on this task."""

    #: How its message starts (``ahd plan`` looks for it in a search's error).
    PREFIX = "the genome's distance tables would pass"


@dataclass(frozen=True)
class CompiledGenome(BuiltinHeuristic):
    """A weighted sum of catalogue features, evaluated inside the search kernel.

    ``terms`` are (feature key, weight) pairs and ``features`` the matching
    :class:`~ahd.planners.feature_catalogue.Feature` objects, in the same order.
    """

    terms: tuple[tuple[str, float], ...] = ()
    features: tuple[Feature, ...] = field(default=(), compare=False)
    source: str = field(default="", compare=False, repr=False)

    @property
    def helpful(self) -> bool:
        """Always: an h_FF term's relaxed plan gives the helpful actions, or one extracted
        for them alone (``scratch(task, helpful=True)``), as Fast Downward's
        ``preferred=[ff()]`` beside another heuristic."""
        return True

    def scratch(self, task: Task, helpful: bool = False) -> tuple:
        """Raises :class:`GenomeTooLarge`, or :class:`HeuristicError` when the features'
        specification does not fit the task (a hand-made tag line)."""
        try:
            tables = genome_tables(self.terms, self.features, task, helpful)
        except GenomeTooLarge:
            raise
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise HeuristicError(f"{self.name}: its features do not fit this task "
                                 f"({type(exc).__name__}: {exc})") from exc
        return scratch(task, genome=tables)

    def as_python(self) -> PythonHeuristic:
        """The rendered module it was read from, run as Python (executes ``source``; raises
        :class:`GenomeTooLarge` when it carries none, as where no code may run)."""
        from . import heuristic_from_source

        if not self.source:
            raise GenomeTooLarge(f"{GenomeTooLarge.PREFIX} {MAX_DIST_ENTRIES} entries, and "
                                 "its Python rendering cannot run here")
        return heuristic_from_source(self.source, self.name, compiled=False)


def compiled_genome(name: str, terms: Any, features: Any, source: str = "") -> CompiledGenome:
    """A :class:`CompiledGenome` over ``terms`` and their ``features`` (same order)."""
    return CompiledGenome(name, GENOME, tuple((k, float(w)) for k, w in terms), tuple(features),
                          source)


class _Tables:
    """Objects, graphs and the flat integer table of one genome on one task."""

    def __init__(self, task: Task) -> None:
        self.view = heuristic_task(task)
        self.fid = task.fact_index
        objs = set(self.view.objects)
        for a in (*self.view.facts, *self.view.static_facts, *self.view.goal):
            objs.update(a[1:])
        self.obj = {o: i for i, o in enumerate(sorted(objs))}
        self.ints: list[int] = []
        self.graphs: dict[tuple, tuple[int, dict]] = {}
        self.dist_size = 0
        self.done_size = 0
        self.width = len(self.obj)

    def facts_of(self, pred: str) -> list[tuple]:
        return sorted((a for a in self.view.facts if a[0] == pred), key=self.fid.__getitem__)

    def graph(self, feature: Feature) -> tuple[int, dict]:
        """(offset of the graph's slice, adjacency dict as the Python rendering builds it)."""
        mode = feature.args[2]
        edges = tuple(tuple(e) for e in feature.get("edges"))
        key = (edges, mode)
        if key in self.graphs:
            return self.graphs[key]
        preds = {e[0] for e in edges}
        adj: dict[str, set[str]] = {}
        for a in self.view.static_facts:
            if a[0] in preds:
                for p, i, j in edges:
                    if a[0] == p and len(a) > max(i, j) + 1:
                        adj.setdefault(a[i + 1], set()).add(a[j + 1])
                        if mode == "u":
                            adj.setdefault(a[j + 1], set()).add(a[i + 1])
        nodes = sorted(set(adj) | {y for ys in adj.values() for y in ys})
        local = {x: i for i, x in enumerate(nodes)}
        n = len(nodes)
        self.dist_size += n * n
        if self.dist_size > MAX_DIST_ENTRIES:
            raise GenomeTooLarge(f"{GenomeTooLarge.PREFIX} {MAX_DIST_ENTRIES} entries")
        node_of = [-1] * len(self.obj)
        for x, i in local.items():
            node_of[self.obj[x]] = i
        ptr, out = [0], []
        for x in nodes:
            out += sorted(local[y] for y in adj.get(x, ()))
            ptr.append(len(out))
        at = len(self.ints)
        self.ints += [n, len(adj) + 1, self.dist_size - n * n, self.done_size, *node_of, *ptr,
                      *out]
        self.done_size += n
        self.width = max(self.width, n)
        self.graphs[key] = (at, adj)
        return at, adj

    def term(self, f: Feature) -> int:
        """Append one feature's slice; return its kernel kind."""
        view, fid, obj, kind, args = self.view, self.fid, self.obj, f.kind, f.args
        if kind in ("goals", "goal_pred", "count", "misplaced"):
            const, minus, plus = 0, [], []
            if kind == "goals":
                const, minus = len(view.goal), [g for g in view.goal if g in fid]
                plus = list(view.goal_negative)
            elif kind == "goal_pred":
                goals = [g for g in view.goal if g[0] == args[0]]
                const, minus = len(goals), [g for g in goals if g in fid]
            elif kind == "count":
                atoms = self.facts_of(args[0])
                if args[1] == "+":
                    plus = atoms
                else:
                    const, minus = len(atoms), atoms
            else:
                goal_of = {g[1]: g for g in view.goal if g[0] == args[0]}
                plus = [a for a in self.facts_of(args[0])
                        if goal_of.get(a[1]) is not None and goal_of[a[1]] != a]
            self.ints += [const, len(minus), *(fid[a] for a in minus), *(fid[a] for a in plus)]
            return LINEAR
        if kind == "chain":
            goal_below = {g[1]: g[2] for g in view.goal if g[0] == args[0]}
            atoms = [a for a in self.facts_of(args[0]) if len(a) >= 3]
            below = [-1] * len(obj)
            for x, y in goal_below.items():
                below[obj[x]] = obj[y]
            self.ints += [len(obj), len(atoms), *below]
            for a in atoms:
                self.ints += [fid[a], obj[a[1]], obj[a[2]]]
            return CHAIN
        if kind == "goal_dist":
            return self._goal_dist(f)
        if kind == "agent_dist":
            return self._agent_dist(f)
        if kind == "relaxed":
            return HFF if args[0] == "hff" else HADD
        raise ValueError(f"unknown feature kind {kind!r}")

    def _goal_dist(self, f: Feature) -> int:
        pred = f.args[0]
        g, _ = self.graph(f)
        carriers = [tuple(c) for c in f.get("carriers", ())]
        unary = list(f.get("unary", ()))
        where, carry, agents = [], [], []
        for a in sorted(self.view.facts, key=self.fid.__getitem__):
            if a[0] == pred and len(a) == 3:
                where += [self.fid[a], self.obj[a[1]], self.obj[a[2]]]
                continue
            for q, pos, other in carriers:
                if a[0] == q and len(a) == (2 if other is None else 3):
                    carrier = -1 if other is None else self.obj[a[other + 1]]
                    carry += [self.fid[a], self.obj[a[pos + 1]], carrier]
                    break
            else:
                if any(a[0] == u and len(a) == 2 for u in unary):
                    agents += [self.fid[a], self.obj[a[1]]]
        goals = [(g_[1], g_[2]) for g_ in self.view.goal if g_[0] == pred]
        self.ints += [g, len(where) // 3, len(carry) // 3, len(agents) // 2, len(goals),
                      *where, *carry, *agents]
        for o, target in goals:
            self.ints += [self.obj[o], self.obj[target]]
        return GOAL_DIST

    def _agent_dist(self, f: Feature) -> int:
        loc, _, _, agg = f.args
        mobile = f.get("mobile")
        g, adj = self.graph(f)
        graph_nodes = self.ints[g]
        node_of = self.ints[g + 4: g + 4 + len(self.obj)]
        nodes = set(adj)
        static_at: dict[str, set[str]] = {}
        for a in self.view.static_facts:
            if len(a) == 3 and a[2] in nodes:
                static_at.setdefault(a[1], set()).add(a[2])
        objs = {x for goal in self.view.goal for x in goal[1:]} - nodes
        agents = None if mobile is None else set(self.view.objects_of(mobile))
        starts, placed = [], []
        for a in sorted(self.view.facts, key=self.fid.__getitem__):
            if agents is None and a[0] == loc and len(a) == 2:
                starts += [self.fid[a], node_of[self.obj[a[1]]]]
            elif agents is not None and a[0] == loc and len(a) == 3 and a[1] in agents:
                starts += [self.fid[a], node_of[self.obj[a[2]]]]
            elif len(a) == 3 and a[1] in objs and a[2] in nodes:
                placed += [self.fid[a], self.obj[a[1]], node_of[self.obj[a[2]]]]
        goals: list[int] = []
        n_goals = 0
        for goal in self.view.goal:
            static = [node_of[self.obj[x]] for x in goal[1:] if x in nodes]
            dyn = [x for x in goal[1:] if x not in nodes]
            for x in dyn:
                static += [node_of[self.obj[y]] for y in sorted(static_at.get(x, ()))]
            goals += [self.fid.get(goal, -1), len(static), len(dyn), *static,
                      *(self.obj[x] for x in dyn)]
            n_goals += 1
        assert all(0 <= x < graph_nodes for x in placed[2::3])
        self.ints += [g, int(agg == "sum"), len(starts) // 2, len(placed) // 3, n_goals,
                      *starts, *placed, *goals]
        return AGENT_DIST


def genome_tables(terms: Any, features: Any, task: Task, helpful: bool = False) -> tuple:
    """The seven genome slots of the scratch tuple for ``terms`` on ``task``; with
    ``helpful``, an h_FF relaxed plan is extracted on every evaluation (for preferred
    operators) even when no term is h_FF.

    Raises :class:`GenomeTooLarge` when the distance tables would exceed
    :data:`MAX_DIST_ENTRIES` (the caller runs the Python rendering instead).
    """
    tables = _Tables(task)
    for f in features:  # graphs first: the terms' slices must be contiguous
        if f.kind in ("goal_dist", "agent_dist"):
            tables.graph(f)
    kinds, weights, ptr = [], [], []
    for (_, w), f in zip(terms, features, strict=True):
        ptr.append(len(tables.ints))
        kinds.append(tables.term(f))
        weights.append(float(w))
    if helpful and HFF not in kinds:
        ptr.append(len(tables.ints))
        kinds.append(PLAN)
        weights.append(0.0)
    ptr.append(len(tables.ints))
    width = max(tables.width, 1) + 1
    work = np.zeros(WORK_HEADER + 10 * width, dtype=np.int64)
    work[1], work[2] = len(tables.obj), width
    return (
        np.array(kinds, dtype=np.int64),
        np.array(weights, dtype=np.float64),
        np.array(ptr, dtype=np.int64),
        np.array(tables.ints or [0], dtype=np.int64),
        np.empty(max(tables.dist_size, 1), dtype=np.int32),
        np.zeros(max(tables.done_size, 1), dtype=np.uint8),
        work,
    )
