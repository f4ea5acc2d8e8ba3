"""Genetic programming on operator source: AST edits that keep code compilable most of the time.

Every function takes source text and an explicit ``numpy.random.Generator`` and returns new
source text (or ``None`` when the edit does not apply). None of them guarantees a working
operator; the caller filters with the static check and a sandboxed smoke run, which is cheap
next to the value of the occasional improvement.
"""

from __future__ import annotations

import ast
import copy
import math

import numpy as np

from ahd import syntax

#: Multiplicative steps for numeric constants (log-symmetric, so a step and its undo are equally
#: likely).
FACTORS = (0.5, 0.67, 0.8, 1.25, 1.5, 2.0)
_FLIP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_INVERT = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def _parse(source: str) -> ast.Module | None:
    try:
        return syntax.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    return {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _tunable(tree: ast.AST) -> list[ast.Constant]:
    """Numeric literals worth perturbing: not booleans, not 0/1, not subscript indices."""
    parents = _parents(tree)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        if not isinstance(node.value, (int, float)) or node.value in (0, 1, -1):
            continue
        parent = parents.get(id(node))
        while isinstance(parent, (ast.UnaryOp, ast.Tuple)):  # x[-2], x[i, 2], x[i, -2]
            parent = parents.get(id(parent))
        if isinstance(parent, (ast.Subscript, ast.Slice)):
            continue
        out.append(node)
    return out


def _step(value: float | int, rng: np.random.Generator) -> float | int:
    factor = FACTORS[int(rng.integers(len(FACTORS)))]
    if isinstance(value, int):
        new = int(round(value * factor))
        if value > 0:
            new = max(2, new)
        if new == value:  # small integers: at least one step, and 2 can only grow
            new = value + (1 if factor > 1 or value == 2 else -1)
        return new
    new = value * factor
    if 0 < value < 1 and new >= 1:  # probabilities stay probabilities
        new = 1 - (1 - value) / 2
    return float(f"{new:.4g}")


#: Share of parameter mutations aimed at module-level UPPER_CASE constants when a source has them.
NAMED_SHARE = 0.6


def _named(tree: ast.Module, nodes: list[ast.Constant]) -> list[ast.Constant]:
    ids = {id(n) for n in nodes}
    out = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.isupper() and not t.id.startswith("_")
            for t in stmt.targets
        ):
            out.extend(n for n in ast.walk(stmt.value) if id(n) in ids)
    return out


def perturb_constants(source: str, rng: np.random.Generator, count: int = 0) -> str | None:
    """Scale ``count`` (default 1-2) numeric literals by a random factor (parameter calibration)."""
    tree = _parse(source)
    if tree is None:
        return None
    nodes = _tunable(tree)
    if not nodes:
        return None
    count = count or int(rng.integers(1, 3))
    named = _named(tree, nodes)
    if len(named) >= count and rng.random() < NAMED_SHARE:
        nodes = named  # the designed tuning knobs, rather than tolerances and loop bounds
    for i in rng.choice(len(nodes), size=min(count, len(nodes)), replace=False):
        nodes[int(i)].value = _step(nodes[int(i)].value, rng)
    return ast.unparse(tree) + "\n"


def flip_comparison(source: str, rng: np.random.Generator) -> str | None:
    """Turn one ``<`` into ``<=`` (or the reverse), rarely into ``>`` (a logic change)."""
    tree = _parse(source)
    if tree is None:
        return None
    sites = [
        (node, i) for node in ast.walk(tree) if isinstance(node, ast.Compare)
        for i, op in enumerate(node.ops) if type(op) in _FLIP
    ]
    if not sites:
        return None
    node, i = sites[int(rng.integers(len(sites)))]
    table = _INVERT if rng.random() < 0.25 else _FLIP
    node.ops[i] = table[type(node.ops[i])]()
    return ast.unparse(tree) + "\n"


def crossover_constants(a: str, b: str, rng: np.random.Generator) -> str | None:
    """Uniform crossover of the numeric literals of two variants of the same code shape."""
    ta, tb = _parse(a), _parse(b)
    if ta is None or tb is None:
        return None
    ca, cb = _tunable(ta), _tunable(tb)
    if len(ca) != len(cb) or not ca or _shape(ta) != _shape(tb):
        return None
    changed = False
    for x, y in zip(ca, cb, strict=True):
        if x.value != y.value and rng.random() < 0.5:
            x.value, changed = y.value, True
    return ast.unparse(ta) + "\n" if changed else None


def _shape(tree: ast.AST) -> str:
    blank = copy.deepcopy(tree)
    for node in ast.walk(blank):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            node.value = 0
    return ast.dump(blank)


def top_level_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def prefix_names(source: str, prefix: str, rename_entries: dict[str, str] | None = None) -> str:
    """Rename every top-level name of ``source`` to ``prefix + name`` (entries per the map).

    Renaming an identifier everywhere it appears keeps the meaning (a local variable that
    shares the name is renamed consistently too), so two sources can live in one module.
    """
    tree = syntax.parse(source)
    mapping = {name: prefix + name for name in top_level_names(tree)}
    mapping.update(rename_entries or {})

    class Renamer(ast.NodeTransformer):
        #: Parameters of the enclosing functions: locals, whatever the top level defines.
        params: frozenset[str] = frozenset()

        def visit_Name(self, node: ast.Name) -> ast.Name:
            if node.id not in self.params:
                node.id = mapping.get(node.id, node.id)
            return node

        def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
            node.name = mapping.get(node.name, node.name)
            args = node.args
            # decorators and defaults are evaluated in the enclosing scope
            node.decorator_list = [self.visit(d) for d in node.decorator_list]
            args.defaults = [self.visit(d) for d in args.defaults]
            args.kw_defaults = [d if d is None else self.visit(d) for d in args.kw_defaults]
            outer = self.params
            names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
            names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
            self.params = outer | frozenset(names)
            node.body = [self.visit(stmt) for stmt in node.body]
            self.params = outer
            return node

    return ast.unparse(Renamer().visit(tree)) + "\n"


_COMPOSE = {
    "destroy": (
        "def destroy(inst, sol, n_remove, removed):\n"
        "    if n_remove >= 2 and np.random.random() < {split}:\n"
        "        half = n_remove // 2\n"
        "        k = _a_destroy(inst, sol, half, removed)\n"
        "        k2 = _b_destroy(inst, sol, n_remove - k, removed[k:])\n"
        "        return k + k2\n"
        "    if np.random.random() < {p}:\n"
        "        return _a_destroy(inst, sol, n_remove, removed)\n"
        "    return _b_destroy(inst, sol, n_remove, removed)\n"
    ),
    "repair": (
        "def repair(inst, sol, removed, k, penalty):\n"
        "    if np.random.random() < {p}:\n"
        "        _a_repair(inst, sol, removed, k, penalty)\n"
        "    else:\n"
        "        _b_repair(inst, sol, removed, k, penalty)\n"
    ),
}


def compose(a: str, b: str, role: str, rng: np.random.Generator) -> str | None:
    """One operator that runs ``a`` or ``b`` at random (destroy: sometimes half each).

    Recombines whole functions, which unlike sub-tree exchange always keeps both halves
    working; the mixing probabilities are literals that later mutations calibrate.
    """
    if role not in _COMPOSE or _parse(a) is None or _parse(b) is None:
        return None
    parts = [_jit_entry(prefix_names(a, "_a_"), f"_a_{role}"),
             _jit_entry(prefix_names(b, "_b_"), f"_b_{role}")]
    p = float(f"{rng.uniform(0.3, 0.7):.2f}")
    split = float(f"{rng.uniform(0.0, 0.4):.2f}")
    parts.append(_COMPOSE[role].format(p=p, split=split))
    return "\n\n".join(parts)


def _jit_entry(source: str, name: str) -> str:
    """Decorate the function ``name`` with ``@njit``: a called entry point is no longer compiled
    by the engine itself, and an undecorated callee would push the caller into Python mode."""
    tree = syntax.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name and not node.decorator_list:
            node.decorator_list = [ast.Name("njit", ast.Load())]
    return ast.unparse(tree) + "\n"


def _statements(func: ast.FunctionDef) -> list[tuple[list, int]]:
    """Every (body list, index) inside ``func`` holding a simple statement."""
    out = []
    for node in ast.walk(func):
        for name in ("body", "orelse"):
            body = getattr(node, name, None)
            if not isinstance(body, list):
                continue
            for i, stmt in enumerate(body):
                if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.If)):
                    out.append((body, i))
    return out


def exchange_statement(a: str, b: str, entry: str, rng: np.random.Generator,
                       tries: int = 20) -> str | None:
    """Replace one statement of ``a``'s entry function by a same-kind statement of ``b``'s.

    Only exchanges whose names all exist in ``a`` (its locals, parameters and top-level names)
    are made, so the result usually compiles; it is a logic change, often a harmful one, and
    the smoke run and team credit decide.
    """
    ta, tb = _parse(a), _parse(b)
    if ta is None or tb is None:
        return None
    fa = next((n for n in ta.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    fb = next((n for n in tb.body if isinstance(n, ast.FunctionDef) and n.name == entry), None)
    if fa is None or fb is None:
        return None
    known = _known_names(ta, fa)
    sites_a, sites_b = _statements(fa), _statements(fb)
    if not sites_a or not sites_b:
        return None
    for _ in range(tries):
        body_a, i = sites_a[int(rng.integers(len(sites_a)))]
        body_b, j = sites_b[int(rng.integers(len(sites_b)))]
        new, old = body_b[j], body_a[i]
        if type(new) is not type(old) or ast.dump(new) == ast.dump(old):
            continue
        used = {n.id for n in ast.walk(new) if isinstance(n, ast.Name)}
        if not used <= known:
            continue
        body_a[i] = copy.deepcopy(new)
        lost = known - _known_names(ta, fa)  # names only the replaced statement bound
        if lost & {n.id for n in ast.walk(fa) if isinstance(n, ast.Name)}:
            body_a[i] = old
            continue
        return ast.unparse(ta) + "\n"
    return None


def _known_names(tree: ast.Module, func: ast.FunctionDef) -> set[str]:
    """Names ``func`` can read: top-level names, its parameters and locals, a few builtins."""
    return top_level_names(tree) | {arg.arg for arg in func.args.args} | {
        n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    } | {"np", "numpy", "math", "min", "max", "abs", "int", "float", "range", "len"}


def finite(value: float) -> bool:
    return math.isfinite(value)
