"""Stale numba caches: cleared exactly when a source of the group changes, and every
application folder with compiled code belongs to its application's group."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ahd.numba_cache import clear_stale_caches
from ahd.planners import COMPILED_PACKAGES as PLANNER_PACKAGES
from ahd.problems import COMPILED_PACKAGES as ROUTING_PACKAGES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("packages", [("engine", "operators"), (".", "search")])
def test_caches_are_cleared_exactly_when_a_source_changes(tmp_path, packages):
    for pkg in packages:
        (tmp_path / pkg / "__pycache__").mkdir(parents=True, exist_ok=True)
        (tmp_path / pkg / "mod.py").write_text("x = 1\n")
    stale = tmp_path / packages[0] / "__pycache__" / "kernel.run-1.py311.nbi"

    stale.write_text("old")
    assert clear_stale_caches(tmp_path, packages)
    assert not stale.exists()

    stale.write_text("fresh")
    assert not clear_stale_caches(tmp_path, packages)
    assert stale.exists()

    (tmp_path / packages[-1] / "mod.py").write_text("x = 2\n")
    assert clear_stale_caches(tmp_path, packages)
    assert not stale.exists()


@pytest.mark.parametrize(("folder", "packages"), [("problems", ROUTING_PACKAGES),
                                                  ("planners", PLANNER_PACKAGES)])
def test_every_folder_with_compiled_code_is_in_its_group(folder, packages):
    """A kernel in a folder outside the group would keep calling old code after an edit."""
    compiled = {str(path.parent.relative_to(ROOT / folder)) for path in
                (ROOT / folder).rglob("*.py")
                if re.search(r"^\s*@njit", path.read_text(encoding="utf-8"), re.MULTILINE)}
    assert compiled and compiled <= set(packages), compiled - set(packages)
