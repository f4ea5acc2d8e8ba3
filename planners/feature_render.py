"""Heuristic source code from a genome: a weighted sum of catalogue features as a module.

A heuristic evolved by the offline proposer is a *genome*, a list of (feature key, weight)
pairs over the catalogue of :mod:`ahd.planners.feature_catalogue`. :func:`render` turns a
genome into an ordinary heuristic module (``init(task)`` for the per-task precomputation,
one small function per feature, ``h(state, task)`` for the weighted sum), so the result is
plain code that the LLM proposer, the sandbox and ``ahd plan --heuristic FILE`` treat like any
other heuristic, and a human can read it. The genome is also written into the module as a
:data:`TERMS_TAG` comment line, so :func:`parse_terms` gets it back from the source alone
(parents reach the proposer as source text). :data:`GOALCOUNT_SOURCE`, the seed of every
planning evolution, carries such a line too.
"""

from __future__ import annotations

import json
import re

from .feature_catalogue import Feature
from .relaxed_helpers import HFF

__all__ = ["FEATURES_TAG", "GOALCOUNT_SOURCE", "TERMS_TAG", "Terms", "parse_genome",
           "parse_terms", "render"]

#: A genome: (feature key, weight) pairs, weights > 0.
Terms = list[tuple[str, float]]

#: The comment line that carries a generated heuristic's genome, so a proposer can read it
#: back from the source alone (parents reach the proposer as source text).
TERMS_TAG = "# ahd-terms: "

#: The comment line that carries the genome's features (kind, arguments and what rendering
#: read off the domain), so the module can be compiled (:func:`parse_genome`) on any task
#: without the catalogue it was evolved with.
FEATURES_TAG = "# ahd-features: "

_DEFAULT_TITLE = "Weighted sum of domain features"
_TITLE = re.compile(r'"""(.*) \(ahd offline planning proposer\)\.\n')

#: Goal count as plain Python source: the seed of every planning evolution (and the baseline
#: an evolved heuristic has to beat). The tag line lets the offline proposer read its genome.
GOALCOUNT_SOURCE = f'''"""Goal count: the number of goal atoms not yet satisfied."""
{TERMS_TAG}[["goals", 1.0]]


def h(state, task):
    return len(task.goal - state) + len(task.goal_negative & state)
'''


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
        fn = "relaxed_plan_length" if args[0] == HFF else "relaxed_cost"
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
        f'"""{title or _DEFAULT_TITLE} (ahd offline planning proposer).',
        "",
        f"h = {formula}",
        '"""',
        TERMS_TAG + json.dumps([[k, w] for k, w in clean]),
        FEATURES_TAG + json.dumps({k: [catalogue[k].kind, list(catalogue[k].args),
                                       [list(kv) for kv in catalogue[k].spec]]
                                   for k, _ in clean}),
        "",
    ]
    helpers = sorted({"relaxed_plan_length" if catalogue[k].args[0] == HFF else "relaxed_cost"
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


def _tuples(value: object) -> object:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def parse_genome(source: str) -> tuple[Terms, list[Feature]] | None:
    """The genome and features of a module that :func:`render` wrote, or ``None``.

    ``None`` unless ``source`` is, character for character, what :func:`render` writes for
    the genome and features in its tag lines (its title aside, after comment lines such as
    the header ``ahd evolve`` exports with): a module that was edited
    after rendering, by hand or by an LLM, runs as the Python it now is. This is what makes
    compiling the genome (:mod:`ahd.planners.heuristics.genome`) safe: same code, same values.
    """
    terms = parse_terms(source)
    start = source.find('"""')
    head = source[:max(start, 0)].splitlines()
    if not all(line.startswith("#") or not line.strip() for line in head):
        return None
    source = source[start:]  # past an export header: comment lines run nothing
    title = _TITLE.match(source)
    if terms is None or title is None:
        return None
    for line in source.splitlines():
        if line.startswith(FEATURES_TAG):
            try:
                raw = json.loads(line[len(FEATURES_TAG):])
                catalogue = {k: Feature(str(v[0]), tuple(str(a) for a in v[1]),
                                        tuple((str(n), _tuples(x)) for n, x in v[2]))
                             for k, v in raw.items()}
                again = render(terms, catalogue, title.group(1))
            except (ValueError, TypeError, KeyError, IndexError, AttributeError):
                return None
            if again != source:
                return None
            return terms, [catalogue[k] for k, _ in terms]
    return None
