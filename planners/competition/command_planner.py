"""The ``cmd:`` planner kind: any program, run from a command template.

For planners without a runner here, and for tests that need a planner with a known outcome
(a wrong plan, a memory hog): ``{domain}``, ``{problem}``, ``{plan}``, ``{time}`` and
``{memory_mb}`` are replaced in each word of the template.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from .planner_base import Invocation, Limits, Outcome, Planner, PlannerSpecError, crash_outcome
from .suite import Task

__all__ = ["CommandPlanner"]


class CommandPlanner(Planner):
    """An arbitrary program, for planners without a runner here (and for tests)."""

    kind = "cmd"

    def __init__(self, label: str, spec: str, config: str) -> None:
        super().__init__(label, spec, config)
        try:
            self.words = shlex.split(config)
        except ValueError as exc:
            raise PlannerSpecError(f"{spec}: {exc}") from exc
        if not self.words:
            raise PlannerSpecError(f"{spec}: empty command")
        if not any("{plan}" in w for w in self.words):
            self.words += ["{domain}", "{problem}", "{plan}"]

    def invocation(self, task: Task, workdir: Path, limits: Limits,
                   deadline: float) -> Invocation:
        plan = workdir / "plan"
        values = {"domain": str(task.domain_file), "problem": str(task.problem_file),
                  "plan": str(plan), "time": f"{limits.time:g}",
                  "memory_mb": "" if limits.memory_mb is None else f"{limits.memory_mb:g}"}
        argv = [w.format_map(values) if "{" in w else w for w in self.words]
        return Invocation(argv, plan, {})

    def interpret(self, returncode: int, log: str, workdir: Path) -> Outcome:
        plan = workdir / "plan"
        if returncode == 0 and plan.is_file():
            return Outcome("plan", plan)
        if returncode == 0:
            return Outcome("unsolved")
        return crash_outcome(returncode, log)
