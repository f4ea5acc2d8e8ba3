"""The catalogue of domain features: what :func:`analyse` finds in a planning domain.

The offline proposer (:mod:`ahd.planners.offline_proposer`) evolves heuristics as weighted
sums of *features* read off the domain; this module reads the domain's structure (goal
predicates, static graphs, mobile agents and what carries objects) from example tasks and
lists the features that structure supports. Turning a genome over these features into
heuristic code is :mod:`ahd.planners.feature_render`'s job.

Why these features: they are what domain-specific heuristics for the IPC domains are made
of, found by looking at the domain's structure rather than its name.

``goals`` / ``goal_pred(P)``
    Unsatisfied goal atoms (all, or those of predicate ``P``).
``count(P,+)`` / ``count(P,-)``
    Atoms of fluent predicate ``P`` that are true (``+``) or false (``-``): "counts of
    objects in given relations", e.g. sandwiches not yet made, passengers boarded.
``misplaced(P)``
    True atoms ``(P o x)`` whose goal puts ``o`` elsewhere (``(P o y)``, ``y != x``).
``chain(P)``
    For a binary goal predicate over one type (blocksworld's ``on``): objects that are not
    *well placed*, i.e. they, or something under them, differ from the goal.
``goal_dist(P,G,mode)``
    Sum, over unsatisfied goal atoms ``(P o n)``, of the distance in the static graph ``G``
    from where ``o`` is (directly, or through whatever carries it) to ``n``.
``agent_dist(L,G,mode,agg)``
    Distance in ``G`` from the mobile objects located by ``L`` (a truck, the lift, a robot)
    to the places that pending goals involve: ``min`` (nearest target) or ``sum`` (each
    target's nearest agent).
``relaxed(hff)`` / ``relaxed(hadd)``
    Relaxed-plan length and h_add, computed by the planner's compiled code through
    :func:`~ahd.planners.relaxed_helpers.relaxed_plan_length` /
    :func:`~ahd.planners.relaxed_helpers.relaxed_cost` (about as cheap per state as a
    Python goal count).

Static graphs are the static predicates with two arguments of one type (``road``, ``link``,
``up``/``down``/..., ``adjacent``, ``can_traverse``); distances are breadth-first searches
in ``init``-built adjacency, memoised per source node for the task.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .relaxed_helpers import HADD, HFF

if TYPE_CHECKING:
    from .lifted import LiftedTask

__all__ = ["DomainProfile", "Feature", "Graph", "analyse"]


@dataclass(frozen=True)
class Feature:
    """One feature: a kind and its arguments (see the module docstring for the kinds).

    ``spec`` holds what rendering needs beyond the key (predicate positions, carriers,
    agent types), as sorted tuples so features stay hashable and render deterministically.
    """

    kind: str
    args: tuple[str, ...] = ()
    spec: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    @property
    def key(self) -> str:
        """``kind(arg,...)``: the name used in genomes and generated comments."""
        return f"{self.kind}({','.join(self.args)})" if self.args else self.kind

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.spec).get(name, default)


@dataclass(frozen=True)
class Graph:
    """A static graph: edges from one or more static predicates (positions of its ends)."""

    edges: tuple[tuple[str, int, int], ...]  # (predicate, from-arg index, to-arg index), 0-based
    node_type: str
    symmetric: bool

    @property
    def name(self) -> str:
        def one(p: str, i: int, j: int) -> str:
            return p if (i, j) == (0, 1) else f"{p}@{i}{j}"

        return "|".join(one(*e) for e in self.edges)


@dataclass
class DomainProfile:
    """What :func:`analyse` found in a domain, and the feature catalogue built from it."""

    domain_name: str
    goal_preds: dict[str, int]
    fluent_preds: dict[str, tuple[str, ...]]
    graphs: list[Graph]
    locators: dict[str, str]  # fluent predicate -> node type of its last argument
    agents: dict[str, str | None]  # locator -> mobile type (None: implicit single agent)
    #: locator -> (predicate, carried position, carrier position or None for the implicit
    #: agent): what holds an object that leaves its place (a package ``in`` a truck)
    carriers: dict[str, list[tuple[str, int, int | None]]]
    catalogue: dict[str, Feature] = field(default_factory=dict)

    def describe(self) -> str:
        """A few lines for run logs: which structure was found."""
        graphs = ", ".join(f"{g.name} ({g.node_type}{'' if g.symmetric else ', directed'})"
                           for g in self.graphs) or "none"
        return (f"goal predicates: {', '.join(sorted(self.goal_preds))}; static graphs: "
                f"{graphs}; features: {len(self.catalogue)}")


def _compatible(subtypes: dict[str, set[str]], a: str, b: str) -> bool:
    return a in subtypes.get(b, {b}) or b in subtypes.get(a, {a})


def analyse(tasks: Sequence[LiftedTask], static_facts: Iterable[tuple[str, ...]] = ()
            ) -> DomainProfile:
    """Read a domain's structure from example tasks and build its feature catalogue.

    Parameters
    ----------
    tasks : sequence of LiftedTask
        Parsed tasks of one domain (their goals decide the goal predicates; the first one's
        schemas and types are the domain's).
    static_facts : iterable of atoms
        Static atoms of one ground example task, used only to tell symmetric graphs (where
        direction does not matter) from directed ones.
    """
    if not tasks:
        raise ValueError("analyse needs at least one task")
    first = tasks[0]
    subtypes = first.subtypes()
    preds = dict(first.predicates)
    changed = {lit.predicate for s in first.schemas for lit in (*s.add, *s.delete)}
    fluent = {p: ts for p, ts in preds.items() if p in changed}
    static = {p: ts for p, ts in preds.items() if p not in changed}
    goal_preds: dict[str, int] = {}
    for t in tasks:
        for lit in t.goal:
            if lit.positive and lit.predicate in fluent:
                goal_preds[lit.predicate] = len(lit.args)
    facts = set(static_facts)

    graphs: list[Graph] = []
    by_type: dict[str, list[tuple[str, int, int]]] = {}
    for p, ts in sorted(static.items()):
        pairs = [(i, j) for i in range(len(ts)) for j in range(i + 1, len(ts))
                 if _compatible(subtypes, ts[i], ts[j])]
        if len(pairs) == 1:  # one unambiguous pair of same-typed arguments: an edge relation
            by_type.setdefault(ts[pairs[0][0]], []).append((p, *pairs[0]))
    for node_type, edges in sorted(by_type.items()):
        edges = sorted(edges)
        graphs.append(Graph(tuple(edges), node_type, _symmetric(facts, edges)))
        if len(edges) > 1:  # the union above; a relation alone only if it is symmetric
            for e in edges:  # (rovers' can_traverse, not floortile's up)
                if _symmetric(facts, [e]):
                    graphs.append(Graph((e,), node_type, True))

    node_types = {g.node_type for g in graphs}
    locators = {}
    for p, ts in fluent.items():
        if ts and len(ts) <= 2 and any(_compatible(subtypes, ts[-1], n) for n in node_types):
            locators[p] = ts[-1]
    agents: dict[str, str | None] = {}
    carriers: dict[str, set[tuple[str, int, int | None]]] = {}
    for s in first.schemas:
        types = dict(zip(s.params, (t[0] for t in s.param_types), strict=True))
        for d in s.delete:
            if d.predicate not in locators:
                continue
            if len(d.args) == 1:
                if any(a.predicate == d.predicate for a in s.add):
                    agents[d.predicate] = None
                continue
            obj = d.args[0]
            for a in s.add:
                if a.predicate == d.predicate and a.args[0] == obj and a.args[1] != d.args[1]:
                    agents[d.predicate] = types.get(obj, "object")
                elif a.predicate != d.predicate and obj in a.args and len(a.args) <= 2:
                    pos = a.args.index(obj)
                    other = None if len(a.args) == 1 else 1 - pos
                    carriers.setdefault(d.predicate, set()).add((a.predicate, pos, other))

    held = {p: sorted(cs, key=lambda c: (c[0], c[1], -1 if c[2] is None else c[2]))
            for p, cs in carriers.items()}
    profile = DomainProfile(first.domain_name, goal_preds, fluent, graphs, locators, agents,
                            held)
    profile.catalogue = {f.key: f for f in _catalogue(profile, subtypes)}
    return profile


def _symmetric(facts: set[tuple[str, ...]], edges: Sequence[tuple[str, int, int]]) -> bool:
    pairs = set()
    for p, i, j in edges:
        for a in facts:
            if a[0] == p and len(a) > max(i, j) + 1:
                pairs.add((a[i + 1], a[j + 1]))
    return all((y, x) in pairs for x, y in pairs)


def _catalogue(p: DomainProfile, subtypes: dict[str, set[str]]) -> list[Feature]:
    out = [Feature("goals")]
    if len(p.goal_preds) > 1:
        out += [Feature("goal_pred", (g,)) for g in sorted(p.goal_preds)]
    for g, arity in sorted(p.goal_preds.items()):
        if arity >= 2:
            out.append(Feature("misplaced", (g,)))
        ts = p.fluent_preds[g]
        if arity == 2 and _compatible(subtypes, ts[0], ts[1]):
            out.append(Feature("chain", (g,)))
    for f in sorted(p.fluent_preds):
        out += [Feature("count", (f, "+")), Feature("count", (f, "-"))]
    for graph in p.graphs:
        modes = ("u",) if graph.symmetric else ("u", "d")
        gspec = (("edges", graph.edges),)
        for mode in modes:
            for g, arity in sorted(p.goal_preds.items()):
                if arity == 2 and g in p.locators and _compatible(
                    subtypes, p.locators[g], graph.node_type
                ):
                    spec = (*gspec, ("carriers", tuple(p.carriers.get(g, ()))),
                            ("unary", tuple(sorted(a for a, t in p.agents.items() if t is None))))
                    out.append(Feature("goal_dist", (g, graph.name, mode), spec))
            for loc, mobile in sorted(p.agents.items()):
                if not _compatible(subtypes, p.locators[loc], graph.node_type):
                    continue
                for agg in ("min", "sum"):
                    spec = (*gspec, ("mobile", mobile))
                    out.append(Feature("agent_dist", (loc, graph.name, mode, agg), spec))
    out += [Feature("relaxed", (HFF,)), Feature("relaxed", (HADD,))]
    return out

