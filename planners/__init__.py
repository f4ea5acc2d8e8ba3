"""Classical planning: PDDL parsing and grounding, greedy best-first search, heuristics.

Public API::

    from ahd.planners import solve
    result = solve("domain.pddl", "problem.pddl", heuristic="hff", time_limit=60)
    result.status, result.plan, result.cost

Layers, each usable alone: :func:`read_task` (PDDL -> lifted task), :func:`ground` (lifted ->
STRIPS :class:`Task`), :func:`greedy_best_first_search`, the heuristics registry
:data:`HEURISTICS` / :func:`load_heuristic` (Python heuristics: see
:mod:`ahd.planners.heuristics.api`), and :func:`simulate` (the trusted plan check).
:func:`warm_up` loads the compiled kernels (call it once per worker before timing matters).
"""

from pathlib import Path

from ahd.numba_cache import clear_stale_caches

from .api import PlanResult, solve
from .errors import InvalidPlan, PlanningInputError
from .ground import ground
from .heuristics import (
    HEURISTICS,
    HeuristicError,
    HeuristicTask,
    PythonHeuristic,
    evaluate_heuristic,
    heuristic_from_source,
    load_heuristic,
)
from .lifted import LiftedTask
from .pddl_io import read_task
from .plan import format_plan, read_plan, simulate, write_plan
from .search import STATUSES, SearchOutcome, greedy_best_first_search
from .task import Task
from .warmup import warm_up

#: The folders whose compiled code calls into each other (the search kernel inlines the
#: heuristics and the state primitives): their numba caches are cleared together when any
#: of their sources changes (loading compiled code happens at a first call, after this).
COMPILED_PACKAGES = (".", "heuristics", "search")

clear_stale_caches(Path(__file__).resolve().parent, COMPILED_PACKAGES)

__all__ = [
    "HEURISTICS", "STATUSES", "HeuristicError", "HeuristicTask", "InvalidPlan", "LiftedTask",
    "PlanResult", "PlanningInputError", "PythonHeuristic", "SearchOutcome", "Task",
    "evaluate_heuristic", "format_plan", "greedy_best_first_search", "ground",
    "heuristic_from_source", "load_heuristic", "read_plan", "read_task", "simulate", "solve",
    "warm_up", "write_plan",
]
