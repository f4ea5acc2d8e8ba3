"""Seed operators as self-contained source text, the raw material of evolution.

The registered seeds live in modules that share private helpers and tuning constants, so
``inspect.getsource`` of one seed does not run on its own. Evolution needs each seed as a
candidate would write it: one text holding the entry function, the helpers it calls and the
constants it reads, with the engine's state primitives taken from the evaluation namespace.
This module cuts that text out of the operator modules with the AST, so the seeds stay the
single source of truth.
"""

from __future__ import annotations

import ast
import inspect
from functools import cache

from ahd import syntax

from . import destroy as _destroy
from . import improve as _improve
from . import repair as _repair
from .registry import REGISTRIES

_MODULES = {"destroy": _destroy, "repair": _repair, "improve": _improve}


def _top_level(module) -> tuple[dict[str, ast.stmt], list[str]]:
    with syntax.exclusive():  # the project's own module: thread-safe, but not a candidate,
        tree = ast.parse(inspect.getsource(module))  # so not held to the candidate size cap
    defs: dict[str, ast.stmt] = {}
    order: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = node
            order.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    defs[target.id] = node
                    order.append(target.id)
    return defs, order


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _strip_decorators(node: ast.FunctionDef, entry: bool) -> ast.FunctionDef:
    """Drop ``register`` and ``cache=True``: text compiled from a string cannot be cached."""
    kept = []
    for deco in node.decorator_list:
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "register":
            continue
        if isinstance(deco, ast.Call) and getattr(deco.func, "id", "") == "njit":
            deco = ast.Call(
                deco.func, deco.args, [k for k in deco.keywords if k.arg != "cache"]
            )
            if not deco.args and not deco.keywords:
                deco = deco.func
        kept.append(deco)
    if entry:
        kept = []  # the engine compiles the entry point against its role's signature
    node.decorator_list = kept
    return node


@cache
def standalone_source(role: str, name: str) -> str:
    """The registered operator ``name`` of ``role`` as a self-contained candidate source.

    The entry function is renamed to ``role``; helpers and constants it reaches are included
    in their original order; docstrings are kept because they tell a proposer what the code
    is for.
    """
    if role not in _MODULES:
        raise ValueError(f"unknown role {role!r}")
    func = REGISTRIES[role].get(name)
    if func is None:
        raise KeyError(f"no {role} operator named {name!r}")
    defs, order = _top_level(_MODULES[role])
    target = func.__name__
    needed: set[str] = set()
    stack = [target]
    while stack:
        current = stack.pop()
        if current in needed or current not in defs:
            continue
        needed.add(current)
        stack.extend(_used_names(defs[current]) - needed)
    parts: list[str] = []
    seen: set[int] = set()
    for key in order:
        node = defs[key]
        if key not in needed or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ast.FunctionDef):
            node = _strip_decorators(node, entry=key == target)
            if key == target:
                node.name = role
        parts.append(ast.unparse(node))
    return "\n\n\n".join(parts) + "\n"


def seed_sources(role: str, names: tuple[str, ...]) -> dict[str, str]:
    """``name -> standalone source`` for several seeds of one role."""
    return {name: standalone_source(role, name) for name in names}
