"""Exceptions of the planning package.

Two kinds of failure matter to callers: input the planner cannot (or will not) handle, which
must name the file and the construct so a user can fix it, and a plan that does not solve its
task, which must name the step so a bad heuristic or a grounding bug can be traced.
"""

from __future__ import annotations


class PlanningInputError(ValueError):
    """A PDDL file that is malformed or uses a construct this planner does not support.

    The message always starts with the offending file's path (and ``:line:column`` when the
    parser knows it), so a one-line CLI error is enough to find the problem.
    """


class InvalidPlan(ValueError):
    """A plan that is not executable or does not reach the goal.

    Attributes
    ----------
    step : int or None
        1-based index of the first failing action; ``None`` when every step applied but the
        goal does not hold at the end.
    """

    def __init__(self, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.step = step


class SearchTimeout(Exception):
    """Raised inside grounding when the overall deadline passes (becomes status "time_limit")."""
