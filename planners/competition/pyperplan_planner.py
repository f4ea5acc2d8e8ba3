"""The ``pyperplan:`` planner kind: the pyperplan package, a pure-Python reference planner.

pyperplan is the slow, simple baseline (it has no negative preconditions, among others), and
it writes its plan next to the problem file it is given, so each run gets a link to the
problem inside its own work folder.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from .planner_base import (
    Invocation,
    Limits,
    Outcome,
    Planner,
    PlannerSpecError,
    crash_outcome,
    last_lines,
)
from .suite import Task

__all__ = ["PyperplanPlanner"]

_PYPERPLAN_HEURISTICS = ("hadd", "hff", "hmax", "hsa", "lmcut", "blind", "landmark")
_PYPERPLAN_SEARCHES = ("astar", "wastar", "gbf", "bfs", "ehs", "ids", "sat")


class PyperplanPlanner(Planner):
    """pyperplan, run on a link to the problem inside the work folder (it writes
    ``PROBLEM.soln`` next to the problem file it is given)."""

    kind = "pyperplan"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        heuristic, _, search = config.partition(":")
        self.heuristic, self.search = heuristic or "hff", search or "gbf"
        if self.heuristic not in _PYPERPLAN_HEURISTICS:
            raise PlannerSpecError(f"{spec}: pyperplan heuristics: {_PYPERPLAN_HEURISTICS}")
        if self.search not in _PYPERPLAN_SEARCHES:
            raise PlannerSpecError(f"{spec}: pyperplan searches: {_PYPERPLAN_SEARCHES}")

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("pyperplan") is None:
            return "the pyperplan package is not installed (pip install pyperplan)"
        return None

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        link = workdir / "problem.pddl"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(task.problem_file)
        argv = [sys.executable, "-m", "pyperplan", "-H", self.heuristic, "-s", self.search,
                str(task.domain_file), str(link)]
        return Invocation(argv, workdir / "problem.pddl.soln", {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        m = re.findall(r"(\d+) Nodes expanded", log)
        expanded = int(m[-1]) if m else None
        plan = workdir / "problem.pddl.soln"
        if returncode == 0 and plan.is_file():
            return Outcome("plan", plan, expanded)
        if returncode == 0 and "No solution could be found" in log:
            return Outcome("unsolved", None, expanded)
        if "SemanticError" in log:
            return Outcome("error", None, expanded, "pyperplan cannot read the task (it has no "
                           "negative preconditions, among others): " + last_lines(log, 1))
        return crash_outcome(returncode, log)
