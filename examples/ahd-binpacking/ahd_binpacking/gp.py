"""Expression trees over bin features: the genome of the offline GP proposer.

A tree scores one entry of ``bins`` from scalar features, as in the hyper-heuristics work on
evolved packing rules (Burke, Hyde and Kendall, PPSN 2006), with conditionals and protected
operators added:

Terminals
    ``item`` (the item's size), ``r`` (the entry's remaining capacity), ``g = r - item`` (the
    gap the item would leave), ``f = cap - r`` with ``cap = max(bins)`` (how full the bin
    is; 0 for the new-bin entry, whose ``r`` is the capacity), ``pos`` (index in ``bins``,
    0 = oldest bin) and numeric constants.
Operators
    ``add sub mul min max`` and protected ``div`` (``a * 1e9`` when ``|b| <= 1e-9``), unary
    ``neg sq sqrt`` (of ``|a|``), ``log`` (of ``|a|``, -20.7 near 0), ``exp`` (argument
    clipped at 50), and ``lte a b c d`` = ``c if a <= b else d``.

A tree is nested tuples, ``("add", "g", ("mul", 2.5, "item"))``, written as an s-expression
``(add g (mul 2.5 item))``. :func:`render` turns it into numba-compilable source whose
module constant ``GP_TREE`` holds the s-expression; :func:`tree_of_source` recovers the tree
only when re-rendering it gives the same code, so a hand-edited or LLM-written source is
never mistaken for the tree its constant claims.
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np

from ahd import syntax
from ahd.candidate import normalize_code

Tree = str | float | tuple

#: Operator -> arity.
OPS: dict[str, int] = {"add": 2, "sub": 2, "mul": 2, "div": 2, "min": 2, "max": 2,
                       "neg": 1, "sq": 1, "sqrt": 1, "log": 1, "exp": 1, "lte": 4}
TERMINALS = ("item", "r", "g", "f", "pos")
_HELPERS = {
    "div": "def _div(a, b):\n    return a / b if abs(b) > 1e-09 else a * 1e9\n",
    "log": "def _log(a):\n    return math.log(abs(a)) if abs(a) > 1e-09 else -20.7\n",
    "sq": "def _sq(a):\n    return a * a\n",
}
_FEATURES = {"g": "g = r - item", "f": "f = cap - r", "pos": "pos = float(j)"}
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def is_op(node: Tree) -> bool:
    return isinstance(node, tuple)


def constant(value: float) -> float:
    """``value`` rounded to 4 significant digits (short, readable literals)."""
    value = float(f"{float(value):.4g}")
    return 0.0 if value == 0 else value


def size(tree: Tree) -> int:
    return 1 + sum(size(c) for c in tree[1:]) if is_op(tree) else 1


def depth(tree: Tree) -> int:
    return 1 + max(depth(c) for c in tree[1:]) if is_op(tree) else 1


def nodes(tree: Tree, path: tuple[int, ...] = ()) -> list[tuple[tuple[int, ...], Tree]]:
    """Every ``(path, subtree)`` in prefix order; a path lists child positions (1-based)."""
    out = [(path, tree)]
    if is_op(tree):
        for k, child in enumerate(tree[1:], 1):
            out.extend(nodes(child, (*path, k)))
    return out


def replace(tree: Tree, path: tuple[int, ...], new: Tree) -> Tree:
    """``tree`` with the subtree at ``path`` replaced by ``new``."""
    if not path:
        return new
    k = path[0]
    return tree[:k] + (replace(tree[k], path[1:], new),) + tree[k + 1:]


def variables(tree: Tree) -> set[str]:
    return {n for _, n in nodes(tree) if isinstance(n, str) and n in TERMINALS}


# --------------------------------------------------------------------------- text forms


def to_sexpr(tree: Tree) -> str:
    if is_op(tree):
        return "(" + " ".join([tree[0], *(to_sexpr(c) for c in tree[1:])]) + ")"
    return tree if isinstance(tree, str) else repr(constant(tree))


def parse_sexpr(text: str) -> Tree:
    """The tree of an s-expression; ``ValueError`` for anything malformed."""
    tokens = _TOKEN.findall(text)
    if len(tokens) > 2000:
        raise ValueError("expression too long")
    pos = 0

    def node() -> Tree:
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("expression ends early")
        tok = tokens[pos]
        pos += 1
        if tok == "(":
            if pos >= len(tokens) or tokens[pos] not in OPS:
                raise ValueError(f"unknown operator {tokens[pos] if pos < len(tokens) else ''!r}")
            op = tokens[pos]
            pos += 1
            children = tuple(node() for _ in range(OPS[op]))
            if pos >= len(tokens) or tokens[pos] != ")":
                raise ValueError(f"{op} takes {OPS[op]} arguments")
            pos += 1
            return (op, *children)
        if tok in TERMINALS:
            return tok
        try:
            value = float(tok)
        except ValueError:
            raise ValueError(f"unknown terminal {tok!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"constant {tok!r} is not finite")
        return value

    tree = node()
    if pos != len(tokens):
        raise ValueError("trailing tokens after the expression")
    return tree


def _expr(tree: Tree) -> str:
    if not is_op(tree):
        if isinstance(tree, str):
            return tree
        value = constant(tree)
        return f"({value!r})" if value < 0 else repr(value)
    op, args = tree[0], [_expr(c) for c in tree[1:]]
    if op in ("add", "sub", "mul"):
        return f"({args[0]} {dict(add='+', sub='-', mul='*')[op]} {args[1]})"
    if op in ("min", "max"):
        return f"{op}({args[0]}, {args[1]})"
    if op == "neg":
        return f"(-{args[0]})"
    if op == "sqrt":
        return f"math.sqrt(abs({args[0]}))"
    if op == "exp":
        return f"math.exp(min({args[0]}, 50.0))"
    if op == "lte":
        return f"({args[2]} if {args[0]} <= {args[1]} else {args[3]})"
    return f"_{op}({', '.join(args)})"  # div, log, sq


def render(tree: Tree) -> str:
    """Candidate source for ``tree`` (see the module docstring); compiles with numba."""
    used_ops = {n[0] for _, n in nodes(tree) if is_op(n)}
    used = variables(tree)
    if "f" in used:
        used.add("r")
    helpers = [_HELPERS[op] for op in ("div", "log", "sq") if op in used_ops]
    body = ["    scores = np.empty(bins.shape[0])"]
    if "f" in used:
        body.insert(0, "    cap = bins.max()")
    body.append("    for j in range(bins.shape[0]):")
    body.append("        r = bins[j]")
    body += [f"        {_FEATURES[v]}" for v in ("g", "f", "pos") if v in used]
    body.append(f"        v = {_expr(tree)}")
    body.append("        scores[j] = -math.inf if math.isnan(v) else v")
    body.append("    return scores")
    parts = [
        '"""Priority function evolved by the ahd-binpacking GP proposer (tree in GP_TREE)."""',
        "import math\n\nimport numpy as np\n",
        f"GP_TREE = {to_sexpr(tree)!r}\n",
        *helpers,
        "def priority(item, bins):\n" + "\n".join(body) + "\n",
    ]
    return "\n\n".join(p.rstrip("\n") for p in parts) + "\n"


def tree_of_source(source: str) -> Tree | None:
    """The tree a GP source was rendered from, or ``None`` (not GP code, or edited since)."""
    try:
        module = syntax.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    text = None
    for stmt in module.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == "GP_TREE"
                and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
            text = stmt.value.value
    if text is None:
        return None
    try:
        tree = parse_sexpr(text)
        same = normalize_code(render(tree)) == normalize_code(source)
    except (ValueError, SyntaxError, RecursionError):
        return None
    return tree if same else None


# --------------------------------------------------------------------------- random trees


def random_constant(rng: np.random.Generator) -> float:
    """A constant on the scales that matter at capacity 100: gaps, weights, big offsets."""
    u = rng.random()
    if u < 0.5:
        return constant(round(rng.uniform(0.0, 50.0) * 2) / 2)
    if u < 0.8:
        return constant(rng.uniform(-2.0, 2.0))
    return constant(10 ** rng.uniform(0.0, 4.0))


def random_terminal(rng: np.random.Generator, constant_share: float = 0.25) -> Tree:
    if rng.random() < constant_share:
        return random_constant(rng)
    return TERMINALS[int(rng.integers(len(TERMINALS)))]


def random_tree(rng: np.random.Generator, max_depth: int, full: bool = False,
                constant_share: float = 0.25) -> Tree:
    """Koza's *grow* (or *full*) method: a tree no deeper than ``max_depth``."""
    if max_depth <= 1 or (not full and rng.random() < 0.3):
        return random_terminal(rng, constant_share)
    names = list(OPS)
    op = names[int(rng.integers(len(names)))]
    return (op, *(random_tree(rng, max_depth - 1, full, constant_share)
                  for _ in range(OPS[op])))


def fold(tree: Tree) -> Tree:
    """Constant folding: an operator whose arguments are all constants becomes a constant."""
    if not is_op(tree):
        return tree
    args = [fold(c) for c in tree[1:]]
    folded: Tree = (tree[0], *args)
    if all(isinstance(a, float) for a in args):
        value = evaluate(folded, 0.0, 0.0, 0.0)
        if math.isfinite(value) and abs(value) < 1e12:
            return constant(value)
    return folded


def evaluate(tree: Tree, item: float, r: float, cap: float, pos: float = 0.0) -> float:
    """The tree's value for one entry, in Python (tests compare it with compiled code)."""
    if not is_op(tree):
        if isinstance(tree, float):
            return tree
        return {"item": item, "r": r, "g": r - item, "f": cap - r, "pos": pos}[tree]
    op = tree[0]
    if op == "lte":
        a, b = (evaluate(c, item, r, cap, pos) for c in tree[1:3])
        return evaluate(tree[3] if a <= b else tree[4], item, r, cap, pos)
    a = [evaluate(c, item, r, cap, pos) for c in tree[1:]]
    with np.errstate(all="ignore"):
        if op == "add":
            return a[0] + a[1]
        if op == "sub":
            return a[0] - a[1]
        if op == "mul":
            return float(np.float64(a[0]) * a[1])
        if op == "div":
            return a[0] / a[1] if abs(a[1]) > 1e-9 else a[0] * 1e9
        if op == "min":
            return min(a[0], a[1])
        if op == "max":
            return max(a[0], a[1])
        if op == "neg":
            return -a[0]
        if op == "sq":
            return float(np.float64(a[0]) * a[0])
        if op == "sqrt":
            return math.sqrt(abs(a[0]))
        if op == "log":
            return math.log(abs(a[0])) if abs(a[0]) > 1e-9 else -20.7
        return math.exp(min(a[0], 50.0))


__all__ = [
    "OPS", "TERMINALS", "Tree", "constant", "depth", "evaluate", "fold", "nodes",
    "parse_sexpr", "random_constant", "random_terminal", "random_tree", "render", "replace",
    "size", "to_sexpr", "tree_of_source", "variables",
]
