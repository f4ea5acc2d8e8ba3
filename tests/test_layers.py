"""The package's shape, checked from the source: layers point one way, private names stay home.

The core (``ahd/``) must not import the applications (``ahd.problems``, ``ahd.planners``):
they plug in through registries. And no module may use another module's private names
(``from m import _x``, or ``m._x`` on an imported module), so a module's underscore names can
change without breaking anything else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Source folder -> the package it is installed as.
PACKAGES = {"ahd": "ahd", "problems": "ahd.problems", "planners": "ahd.planners"}
APPLICATIONS = ("ahd.problems", "ahd.planners")


def modules() -> dict[str, Path]:
    out = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """``(imported module, imported names, line)`` of every import in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names)
    return found


def is_application(module: str) -> bool:
    return any(module == app or module.startswith(app + ".") for app in APPLICATIONS)


MODULES = modules()
CORE = sorted(m for m in MODULES if not is_application(m))


def test_the_tree_is_found():
    assert "ahd.evolve.loop" in CORE and "ahd.problems.task" in MODULES
    assert len(CORE) > 30


@pytest.mark.parametrize("module", CORE)
def test_core_imports_no_application(module):
    bad = [f"line {line}: {target}" for target, names, line in imports(module, MODULES[module])
           if is_application(target)
           or any(is_application(f"{target}.{n}") for n in names)]
    assert not bad, f"{module} imports an application: {bad}"


def private_uses(module: str, path: Path) -> list[str]:
    """Private names of other modules that ``module`` imports or reads as attributes."""
    out = []
    aliases: dict[str, str] = {}
    for target, names, line in imports(module, path):
        for n in names:
            if n.startswith("_") and not n.startswith("__") and target != module:
                out.append(f"line {line}: from {target} import {n}")
            if f"{target}.{n}" in MODULES:
                aliases[n] = f"{target}.{n}"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in MODULES:
                    aliases[a.asname or a.name.split(".")[0]] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            out.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return out


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_of_another_module(module):
    assert not private_uses(module, MODULES[module])


def test_the_checks_can_fail(tmp_path):
    """The two checks above see a violation when there is one."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ahd.problems.engine import lns\nfrom ahd.store import _x\n"
                   "import ahd.problems.engine.lns as L\nprint(lns._compiled_cache, L._y)\n")
    found = imports("ahd.bad", bad)
    assert any(is_application(t) for t, _, _ in found)
    uses = private_uses("ahd.bad", bad)
    assert len(uses) == 3, uses
