"""Static checks of routing operator source and the strict shape check of a child's result.

Before anything is sandboxed, every candidate source goes through :func:`ahd.static_check`
plus the role-contract check here (:func:`contract_messages`); a source that fails is recorded
as ``"static"`` with the messages and never reaches the sandbox. After the run, the child's
plain-data result goes through :func:`validate_child_output` before the parent believes any
of it: a field that looks like a score makes the whole result ``"invalid"``.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ahd.static_check import (
    DEFAULT_ALLOWED_IMPORTS,
    SAFE_BUILTINS,
    RoleSpec,
    parse_source,
    static_check,
)
from ahd.trust import MAX_ERROR_CHARS, InvalidOutput, is_int, is_real, score_like

from .requests import (
    CHILD_KEYS,
    PREAMBLE_NAMES,
    ROUTING_ROLES,
    STAT_COLUMNS,
    STAT_ROLES,
    STATE_MODULE,
)

#: Parameter names of the routing roles (see :mod:`ahd.problems.engine.signatures`); the names
#: only appear in messages, the arity is what is checked.
ROUTING_PARAMS: dict[str, tuple[str, ...]] = {
    "destroy": ("inst", "sol", "n_remove", "removed"),
    "repair": ("inst", "sol", "removed", "k", "penalty"),
    "improve": ("inst", "sol", "penalty"),
}
#: Modules operator code may import: the core's defaults and the engine's state primitives.
ROUTING_IMPORTS = DEFAULT_ALLOWED_IMPORTS | {STATE_MODULE}


def routing_spec(role: str, entry_point: str = "") -> RoleSpec:
    """The static-check spec of a routing role (``destroy``, ``repair`` or ``improve``)."""
    if role not in ROUTING_PARAMS:
        raise ValueError(f"unknown routing role {role!r}; expected one of {list(ROUTING_PARAMS)}")
    return RoleSpec(role, ROUTING_PARAMS[role], entry_point)


# ------------------------------------------------------------------------------ static checks


def _contract_for(role: str, entry: str, node: ast.FunctionDef) -> list[str]:
    returns: list[ast.Return] = []
    stack: list[ast.AST] = list(node.body)
    while stack:  # the function's own returns, not those of nested functions or lambdas
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(item, ast.Return):
            returns.append(item)
        stack.extend(ast.iter_child_nodes(item))
    returns.sort(key=lambda r: r.lineno)
    signature = f"def {entry}({', '.join(routing_spec(role).params)})"
    out = []
    if role in ("repair", "improve"):
        for ret in returns:
            if ret.value is not None and not (
                isinstance(ret.value, ast.Constant) and ret.value.value is None
            ):
                out.append(
                    f"line {ret.lineno}: '{entry}' returns a value, but the {role} role returns "
                    f"nothing: it changes sol in place ('{signature}' -> None)"
                )
        return out
    valued = [r for r in returns if r.value is not None]
    if not valued:
        out.append(
            f"line {node.lineno}: '{entry}' never returns the number of removed customers; the "
            f"destroy role must return k, an int, after writing them to removed[0:k]"
        )
    for ret in returns:
        value = ret.value
        what = None
        if value is None or (isinstance(value, ast.Constant) and value.value is None):
            what = "nothing"
        elif isinstance(value, ast.Constant) and (
            isinstance(value.value, bool) or not isinstance(value.value, int)
        ):
            what = f"{type(value.value).__name__} {value.value!r}"
        elif isinstance(
            value,
            (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.SetComp, ast.DictComp,
             ast.GeneratorExp, ast.JoinedStr),
        ):
            what = f"a {type(value).__name__.lower().replace('comp', ' comprehension')}"
        if what is not None and valued:
            out.append(
                f"line {ret.lineno}: '{entry}' returns {what}; the destroy role returns k, the "
                f"int count of customers written to removed[0:k]"
            )
    return out


def contract_messages(source: str, role_entries: Mapping[str, str]) -> list[str]:
    """What the entry points break of their role's return contract, found from the source.

    repair and improve must not return a value; destroy must return an int count (a literal
    float, ``None``, a list or a tuple is reported). Numba would otherwise drop or truncate such
    values silently, or make the operator run as plain Python. Assumes the source parses and
    defines the entry points (run :func:`~ahd.static_check.static_check` first).
    """
    tree, _ = parse_source(source)
    if tree is None:
        return []
    top = {
        stmt.name: stmt for stmt in tree.body if isinstance(stmt, ast.FunctionDef)
    }
    out: list[str] = []
    for role, entry in role_entries.items():
        node = top.get(entry)
        if node is not None and role in ROUTING_ROLES:
            out.extend(_contract_for(role, entry, node))
    return out


def default_allowed_names() -> frozenset[str]:
    """Names candidate code may use unbound: safe builtins and what the namespace provides."""
    return SAFE_BUILTINS | frozenset(PREAMBLE_NAMES) | frozenset(state_names())


def state_names() -> list[str]:
    module = importlib.import_module(STATE_MODULE)
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == STATE_MODULE
    )


def check_source(
    source: str,
    role_entries: Mapping[str, str],
    allowed_names: Iterable[str] | None = None,
) -> list[str]:
    """Static problems of one source filling ``role -> entry`` (empty list: it may run)."""
    if not isinstance(source, str) or not source.strip():
        return ["the source is empty: define one top-level function per role"]
    specs = [routing_spec(role, entry) for role, entry in role_entries.items()]
    names = default_allowed_names() if allowed_names is None else frozenset(allowed_names)
    messages = static_check(source, specs, ROUTING_IMPORTS, allowed_names=names)
    if messages:
        return messages
    return contract_messages(source, role_entries)



def validate_child_output(
    value: Any, expected_labels: Mapping[str, Sequence[str]]
) -> tuple[list[list[int]], dict[str, Any]]:
    """Check the child's result strictly; return ``(routes, metrics)`` or raise
    :class:`InvalidOutput` naming the first problem.

    ``expected_labels``: role -> the operator labels the parent sent, which are the only keys
    the statistics may have.
    """
    if type(value) is not dict:
        raise InvalidOutput(f"the result must be a dict, got {type(value).__name__}")
    for key in value:
        if type(key) is not str:
            raise InvalidOutput(f"result keys must be strings, got {type(key).__name__}")
    forged = sorted(k for k in value if score_like(k))
    if forged:
        raise InvalidOutput(
            f"the result carries score field(s) {forged}; the objective is computed by the "
            f"evaluator from the routes only"
        )
    extra = sorted(set(value) - set(CHILD_KEYS))
    missing = [k for k in CHILD_KEYS if k not in value]
    if extra or missing:
        raise InvalidOutput(f"result keys: unexpected {extra}, missing {missing}")
    routes = value["routes"]
    if type(routes) is not list:
        raise InvalidOutput(f"'routes' must be a list, got {type(routes).__name__}")
    for i, route in enumerate(routes):
        if type(route) is not list:
            raise InvalidOutput(f"'routes'[{i}] must be a list, got {type(route).__name__}")
        for j, c in enumerate(route):
            if not is_int(c):
                raise InvalidOutput(
                    f"'routes'[{i}][{j}] must be an int, got {type(c).__name__} {c!r:.40}"
                )
    iterations = value["iterations"]
    if not is_int(iterations) or iterations < 0:
        raise InvalidOutput(f"'iterations' must be an int >= 0, got {iterations!r:.40}")
    if type(value["python_mode"]) is not bool:
        raise InvalidOutput(
            f"'python_mode' must be a bool, got {type(value['python_mode']).__name__}"
        )
    elapsed = value["elapsed"]
    if not is_real(elapsed) or elapsed < 0:
        raise InvalidOutput(f"'elapsed' must be finite seconds >= 0, got {elapsed!r:.40}")
    errors = value["compile_errors"]
    allowed = {f"{role}:{label}" for role, labels in expected_labels.items() for label in labels}
    if type(errors) is not dict:
        raise InvalidOutput(f"'compile_errors' must be a dict, got {type(errors).__name__}")
    for key, text in errors.items():
        if key not in allowed:
            raise InvalidOutput(f"'compile_errors' names an unknown operator {key!r:.80}")
        if type(text) is not str:
            raise InvalidOutput(f"'compile_errors'[{key!r}] must be a string")
    stats = value["stats"]
    if type(stats) is not dict or set(stats) != set(STAT_ROLES):
        raise InvalidOutput(f"'stats' must be a dict with exactly the keys {list(STAT_ROLES)}")
    for role in STAT_ROLES:
        per_op = stats[role]
        labels = set(expected_labels.get(role, ()))
        if type(per_op) is not dict or set(per_op) != labels:
            raise InvalidOutput(f"'stats'[{role!r}] must have exactly the keys {sorted(labels)}")
        for label, cols in per_op.items():
            if type(cols) is not dict or set(cols) != set(STAT_COLUMNS):
                raise InvalidOutput(
                    f"'stats'[{role!r}][{label!r}] must have exactly the keys {list(STAT_COLUMNS)}"
                )
            for col, x in cols.items():
                if not is_real(x) or x < 0:
                    raise InvalidOutput(
                        f"'stats'[{role!r}][{label!r}][{col!r}] must be a finite number >= 0"
                    )
    pairs = value["pairs"]
    shape = (len(stats["destroy"]), len(stats["repair"]), 2)
    try:
        array = np.asarray(pairs, dtype=float)
    except (TypeError, ValueError):
        raise InvalidOutput("'pairs' must be a nested list of numbers") from None
    if array.size == 0 and 0 in shape:
        array = array.reshape(shape)
    if array.shape != shape or not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InvalidOutput(f"'pairs' must be a {shape} array of finite numbers >= 0")
    metrics = {
        "iterations": iterations,
        "python_mode": value["python_mode"],
        "compile_errors": {k: v[:MAX_ERROR_CHARS] for k, v in errors.items()},
        "operator_stats": stats,
        "pair_stats": array.tolist(),
        "search_seconds": float(elapsed),
    }
    return routes, metrics


