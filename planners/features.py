"""Domain features for planning heuristics, and heuristic code composed from them.

The offline proposer (:mod:`ahd.proposers.planning_offline`) evolves heuristics without a
network, so it needs material a blind edit can recombine into something better than goal
count. That material is a *catalogue of features* read off the domain: each feature is a
small, self-contained Python function of ``(state, task)`` written against the heuristic API
(:mod:`ahd.planners.heuristics.api`), with its per-task precomputation in ``init(task)``.
A heuristic is a weighted sum of feature terms (a *genome*); :func:`render` turns a genome
into an ordinary heuristic module, so the result is plain code that the LLM proposer, the
sandbox and ``ahd plan --heuristic FILE`` treat like any other heuristic, and a human can
read it.

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
    :func:`relaxed_plan_length` / :func:`relaxed_cost` (about as cheap per state as a
    Python goal count).

Static graphs are the static predicates with two arguments of one type (``road``, ``link``,
``up``/``down``/..., ``adjacent``, ``can_traverse``); distances are breadth-first searches
in ``init``-built adjacency, memoised per source node for the task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from .heuristics.api import HeuristicTask
    from .lifted import LiftedTask

__all__ = [
    "Feature", "DomainProfile", "GOALCOUNT_SOURCE", "Terms", "analyse", "parse_terms",
    "relaxed_cost", "relaxed_plan_length", "render", "warm_up_features",
]

#: A genome: (feature key, weight) pairs, weights > 0.
Terms = list[tuple[str, float]]

#: The comment line that carries a generated heuristic's genome, so a proposer can read it
#: back from the source alone (parents reach the proposer as source text).
TERMS_TAG = "# ahd-terms: "

_CACHE_KEY = "_ahd_relaxed"
_HFF, _HADD = "hff", "hadd"


# --------------------------------------------------------------------------- relaxed helpers


@njit(cache=True)
def _pack(ids: np.ndarray, n_words: int) -> np.ndarray:
    """Packed bit-vector of fact ids (the search kernels' state format)."""
    bits = np.zeros(n_words, dtype=np.uint64)
    one = np.uint64(1)
    for i in range(ids.shape[0]):
        f = ids[i]
        bits[f >> 6] |= one << np.uint64(f & 63)
    return bits


def _relaxed(state: Iterable[tuple[str, ...]], task: HeuristicTask, which: str) -> float:
    cache = task.data.get(_CACHE_KEY)
    if cache is None:
        from .heuristics.builtin import BUILTIN_IDS
        from .heuristics.relaxed import scratch

        ground = task._task
        cache = (ground.fact_index, ground.n_words, ground.arrays(), scratch(ground),
                 {k: BUILTIN_IDS[k] for k in (_HFF, _HADD)})
        task.data[_CACHE_KEY] = cache
    index, n_words, arrays, work, hids = cache
    ids = np.array([index[a] for a in state if a in index], dtype=np.int64)
    from .heuristics.builtin import evaluate

    return float(evaluate(hids[which], _pack(ids, n_words), arrays, work))


def relaxed_plan_length(state: Iterable[tuple[str, ...]], task: HeuristicTask) -> float:
    """h_FF of ``state``: the length of a relaxed plan (``inf`` if the goal is unreachable).

    Computed by the planner's compiled code; usable from any Python heuristic
    (``from ahd.planners.features import relaxed_plan_length``). Negative goals are ignored,
    as usual for the delete relaxation.
    """
    return _relaxed(state, task, _HFF)


def relaxed_cost(state: Iterable[tuple[str, ...]], task: HeuristicTask) -> float:
    """h_add of ``state``: the sum of the goals' relaxed costs (``inf`` if unreachable)."""
    return _relaxed(state, task, _HADD)


def warm_up_features() -> None:
    """Compile (or load) the helpers' machine code, so a forked child does not."""
    from .ground import ground
    from .heuristics.api import heuristic_task
    from .warmup import tiny_task

    view = heuristic_task(ground(tiny_task()))
    relaxed_plan_length(view.init, view)
    relaxed_cost(view.init, view)


# --------------------------------------------------------------------------- the seed

#: Goal count as plain Python source: the seed of every planning evolution (and the baseline
#: an evolved heuristic has to beat). The tag line lets the offline proposer read its genome.
GOALCOUNT_SOURCE = f'''"""Goal count: the number of goal atoms not yet satisfied."""
{TERMS_TAG}[["goals", 1.0]]


def h(state, task):
    return len(task.goal - state) + len(task.goal_negative & state)
'''


# --------------------------------------------------------------------------- features


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
    out += [Feature("relaxed", (_HFF,)), Feature("relaxed", (_HADD,))]
    return out


# --------------------------------------------------------------------------- rendering


def _ident(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_").lower() or "f"


_BFS = '''

def _distances(adj, memo, source):
    """Shortest edge counts from ``source`` in ``adj`` (breadth-first, memoised per task)."""
    dist = memo.get(source)
    if dist is None:
        dist = {source: 0}
        frontier = [source]
        while frontier:
            following = []
            for x in frontier:
                for y in adj.get(x, ()):
                    if y not in dist:
                        dist[y] = dist[x] + 1
                        following.append(y)
            frontier = following
        memo[source] = dist
    return dist
'''


def _graph_init(name: str, feature: Feature, mode: str) -> list[str]:
    edges = feature.get("edges")
    preds = tuple(sorted({e[0] for e in edges}))
    lines = [
        "adj = {}",
        "for a in task.static_facts:",
        f"    if a[0] in {preds!r}:",
    ]
    for p, i, j in edges:
        lines += [
            f"        if a[0] == {p!r} and len(a) > {max(i, j) + 1}:",
            f"            adj.setdefault(a[{i + 1}], set()).add(a[{j + 1}])",
        ]
        if mode == "u":
            lines.append(f"            adj.setdefault(a[{j + 1}], set()).add(a[{i + 1}])")
    lines += [
        f'data["{name}_adj"] = adj',
        f'data["{name}_memo"] = {{}}',
        f'data["{name}_far"] = len(adj) + 1',
    ]
    return lines


def _render_feature(feature: Feature, name: str) -> tuple[list[str], str]:
    """``(init lines, function source)`` of one feature; the function is called ``name``."""
    kind, args = feature.kind, feature.args
    doc = f'    """{feature.key}"""\n'
    head = f"def {name}(state, task):\n{doc}"
    if kind == "goals":
        return [], head + "    return len(task.goal - state) + len(task.goal_negative & state)\n"
    if kind == "goal_pred":
        init = [f'data["{name}"] = [g for g in task.goal if g[0] == {args[0]!r}]']
        return init, head + f'    return sum(1 for g in task.data["{name}"] if g not in state)\n'
    if kind == "count":
        pred, sign = args
        body = f"sum(1 for a in state if a[0] == {pred!r})"
        if sign == "+":
            return [], head + f"    return {body}\n"
        init = [f'data["{name}"] = sum(1 for a in task.facts if a[0] == {pred!r})']
        return init, head + f'    return task.data["{name}"] - {body}\n'
    if kind == "misplaced":
        pred = args[0]
        init = [f'data["{name}"] = {{g[1]: g for g in task.goal if g[0] == {pred!r}}}']
        return init, head + (
            f'    goal_of = task.data["{name}"]\n'
            "    n = 0\n"
            "    for a in state:\n"
            f"        if a[0] == {pred!r}:\n"
            "            g = goal_of.get(a[1])\n"
            "            if g is not None and g != a:\n"
            "                n += 1\n"
            "    return n\n"
        )
    if kind == "chain":
        pred = args[0]
        init = [f'data["{name}"] = {{g[1]: g[2] for g in task.goal if g[0] == {pred!r}}}']
        return init, head + (
            f'    goal_below = task.data["{name}"]\n'
            "    below = {}\n"
            "    for a in state:\n"
            f"        if a[0] == {pred!r}:\n"
            "            below[a[1]] = a[2]\n"
            "    ok = {}\n"
            "    n = 0\n"
            "    for x in set(below) | set(goal_below):\n"
            "        path, seen, y = [], set(), x\n"
            "        while y is not None and y not in ok and y not in seen:\n"
            "            path.append(y)\n"
            "            seen.add(y)\n"
            "            y = below.get(y)\n"
            "        good = ok.get(y, y is None)\n"
            "        for z in reversed(path):\n"
            "            want = goal_below.get(z)\n"
            "            good = good and (want is None or below.get(z) == want)\n"
            "            ok[z] = good\n"
            "        n += not ok[x]\n"
            "    return n\n"
        )
    if kind == "goal_dist":
        pred, _, mode = args
        carriers = feature.get("carriers", ())
        unary = feature.get("unary", ())
        init = _graph_init(name, feature, mode) + [
            f'data["{name}_goals"] = [(g[1], g[2]) for g in task.goal if g[0] == {pred!r}]',
        ]
        lines = [
            '    data = task.data',
            f'    adj, memo, far = data["{name}_adj"], data["{name}_memo"], data["{name}_far"]',
            "    where, held, agent_at = {}, {}, None",
            "    for a in state:",
            f"        if a[0] == {pred!r} and len(a) == 3:",
            "            where[a[1]] = a[2]",
        ]
        for q, pos, other in carriers:
            carrier = "None" if other is None else f"a[{other + 1}]"
            lines += [f"        elif a[0] == {q!r} and len(a) == {2 if other is None else 3}:",
                      f"            held[a[{pos + 1}]] = {carrier}"]
        for u in unary:
            lines += [f"        elif a[0] == {u!r} and len(a) == 2:",
                      "            agent_at = a[1]"]
        lines += [
            "    total = 0",
            f'    for obj, target in data["{name}_goals"]:',
            "        node = where.get(obj)",
            "        if node == target:",
            "            continue",
            "        extra = 0",
            "        if node is None and obj in held:",
            "            carrier = held[obj]",
            "            node = agent_at if carrier is None else where.get(carrier)",
            "            extra = 1",
            "        if node is None:",
            "            total += 1",
            "            continue",
            "        total += _distances(adj, memo, node).get(target, far) + extra",
            "    return total",
        ]
        return init, head + "\n".join(lines) + "\n"
    if kind == "agent_dist":
        loc, _, mode, agg = args
        mobile = feature.get("mobile")
        init = _graph_init(name, feature, mode)
        init += [
            f'nodes = set(data["{name}_adj"])',
            f'data["{name}_nodes"] = nodes',
            "static_at = {}",
            "for a in task.static_facts:",
            "    if len(a) == 3 and a[2] in nodes:",
            "        static_at.setdefault(a[1], set()).add(a[2])",
            f'data["{name}_static"] = static_at',
            f'data["{name}_objs"] = {{x for g in task.goal for x in g[1:]}} - nodes',
        ]
        if mobile is not None:
            init.append(f'data["{name}_agents"] = set(task.objects_of({mobile!r}))')
        lines = [
            "    data = task.data",
            f'    adj, memo, far = data["{name}_adj"], data["{name}_memo"], data["{name}_far"]',
            f'    nodes, objs = data["{name}_nodes"], data["{name}_objs"]',
        ]
        if mobile is not None:
            lines.append(f'    agents = data["{name}_agents"]')
        lines += [
            "    starts, placed = [], {}",
            "    for a in state:",
        ]
        if mobile is None:
            lines += [f"        if a[0] == {loc!r} and len(a) == 2:",
                      "            starts.append(a[1])"]
        else:
            lines += [f"        if a[0] == {loc!r} and len(a) == 3 and a[1] in agents:",
                      "            starts.append(a[2])"]
        lines += [
            "        elif len(a) == 3 and a[1] in objs and a[2] in nodes:",
            "            placed.setdefault(a[1], []).append(a[2])",
            "    if not starts:",
            "        return 0",
            "    targets = set()",
            "    for g in task.goal:",
            "        if g in state:",
            "            continue",
            "        for x in g[1:]:",
            "            if x in nodes:",
            "                targets.add(x)",
            "            else:",
            "                targets.update(placed.get(x, ()))",
            f'                targets.update(data["{name}_static"].get(x, ()))',
            "    if not targets:",
            "        return 0",
            "    tables = [_distances(adj, memo, s) for s in starts]",
            "    best = [min(t.get(x, far) for t in tables) for x in targets]",
            f"    return {'min(best)' if agg == 'min' else 'sum(best)'}",
        ]
        return init, head + "\n".join(lines) + "\n"
    if kind == "relaxed":
        fn = "relaxed_plan_length" if args[0] == _HFF else "relaxed_cost"
        return [], head + f"    return {fn}(state, task)\n"
    raise ValueError(f"unknown feature kind {kind!r}")


def render(terms: Terms, catalogue: dict[str, Feature], title: str = "") -> str:
    """A heuristic module computing ``h = sum(weight * feature)`` for a genome.

    Parameters
    ----------
    terms : list of (str, float)
        Feature keys (from ``catalogue``) and positive weights; weights are written with
        three significant digits, and the genome in the :data:`TERMS_TAG` line is the rounded
        one, so parsing the source gives back exactly what the code computes.
    catalogue : dict
        Key -> :class:`Feature`, from :func:`analyse`.
    title : str
        First line of the module docstring.

    Raises
    ------
    KeyError
        A key that is not in the catalogue.
    ValueError
        An empty genome or a weight that is not positive.
    """
    if not terms:
        raise ValueError("a heuristic needs at least one term")
    clean: Terms = []
    for key, weight in terms:
        w = float(f"{float(weight):.3g}")
        if not w > 0:
            raise ValueError(f"weights must be positive, got {weight!r} for {key}")
        catalogue[key]  # noqa: B018 - KeyError for unknown features
        clean.append((key, w))
    names: dict[str, str] = {}
    for key, _ in clean:
        base = "f_" + _ident(key)
        name, k = base, 2
        while name in names.values():
            name, k = f"{base}_{k}", k + 1
        names[key] = name
    inits: list[str] = []
    funcs: list[str] = []
    for key, _ in clean:
        init, func = _render_feature(catalogue[key], names[key])
        inits += init
        funcs.append(func)
    kinds = {catalogue[k].kind for k, _ in clean}
    formula = " + ".join(f"{w:g} * {k}" for k, w in clean)
    lines = [
        f'"""{title or "Weighted sum of domain features"} (ahd offline planning proposer).',
        "",
        f"h = {formula}",
        '"""',
        TERMS_TAG + json.dumps([[k, w] for k, w in clean]),
        "",
    ]
    helpers = sorted({"relaxed_plan_length" if catalogue[k].args[0] == _HFF else "relaxed_cost"
                      for k, _ in clean if catalogue[k].kind == "relaxed"})
    if helpers:
        lines += [f"from ahd.planners.features import {', '.join(helpers)}", ""]
    weights = []
    for key, w in clean:
        const = "W_" + names[key][2:].upper()
        weights.append((const, names[key]))
        lines.append(f"{const} = {w!r}")
    body = "\n".join(lines) + "\n"
    if kinds & {"goal_dist", "agent_dist"}:
        body += _BFS
    if inits:
        body += "\n\ndef init(task):\n    data = task.data\n"
        body += "".join(f"    {line}\n" for line in inits)
    for func in funcs:
        body += "\n\n" + func
    total = " + ".join(f"{c} * {f}(state, task)" for c, f in weights)
    body += f"\n\ndef h(state, task):\n    return {total}\n"
    compile(body, "<rendered heuristic>", "exec")
    return body


def parse_terms(source: str) -> Terms | None:
    """The genome recorded in a generated heuristic's :data:`TERMS_TAG` line, or ``None``."""
    for line in source.splitlines():
        if line.startswith(TERMS_TAG):
            try:
                raw = json.loads(line[len(TERMS_TAG):])
                terms = [(str(k), float(w)) for k, w in raw]
            except (ValueError, TypeError):
                return None
            return terms if terms and all(w > 0 for _, w in terms) else None
    return None
