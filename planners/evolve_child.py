"""The child side of scoring a planning heuristic, and the strict check of what it returns.

:func:`run_heuristic` runs inside a sandbox child with the candidate's code; the parent believes
nothing it returns before :func:`check_child_result` has checked its structure, and counts a
task solved only once its own simulator accepts the plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .features import GOALCOUNT_SOURCE, warm_up_features

#: Keys of the child's result, exactly. ``probe``: the heuristic's values on the states the
#: parent sent for the directness check (:func:`ahd.planners.directness.probe_values`), or None.
CHILD_KEYS = ("status", "plan", "expanded", "evaluated", "search_time", "error", "probe")
#: Search statuses the child may report (those of ``greedy_best_first_search``, which
#: enforced hill-climbing shares).
SEARCH_STATUSES = ("solved", "unsolvable", "time_limit", "memory_limit", "expansion_limit",
                   "error")
#: Longest plan accepted from a child (longer is treated as a malformed result).
MAX_PLAN_STEPS = 100_000
MAX_ACTION_CHARS = 2_000
#: Most states a probe may score (the parent sends fewer).
MAX_PROBE_STATES = 1_000


# --------------------------------------------------------------------------- the child side


def warm_worker() -> None:
    """Sandbox worker warm-up: load the search kernels and helpers before any child forks.

    Without it every child would load numba's cached machine code again (about 0.3 s) or,
    on a fresh checkout, compile it.
    """
    from .heuristics import heuristic_from_source
    from .warmup import warm_up

    warm_up()
    warm_up_features()
    heuristic_from_source(GOALCOUNT_SOURCE)


def run_heuristic(request: dict) -> dict:
    """Child side: search one ground task with the candidate's heuristic.

    Returns plain data only (:data:`CHILD_KEYS`): the plan as action strings, never a score.
    With ``request["probe"] = (states, dead_ends, seconds)`` it then evaluates the heuristic
    on those states and their successors for at most ``seconds`` (the parent judges
    directness from the numbers).
    """
    import time

    from .directness import probe_values
    from .heuristics import HeuristicError, heuristic_from_source, state_function
    from .search import run_search

    task = request["task"]
    try:
        heuristic = heuristic_from_source(request["source"], name="candidate",
                                          filename="heuristic.py")
    except HeuristicError as exc:
        return {"status": "error", "plan": None, "expanded": 0, "evaluated": 0,
                "search_time": 0.0, "error": str(exc), "probe": None}
    lazy = bool(request.get("lazy", False))
    # Python heuristics leave no relaxed plan: they are scored by lazy GBFS alone
    preferred = bool(request.get("preferred", False)) and not heuristic.is_python
    out = run_search(
        task, heuristic, request.get("search", "gbfs"), time_limit=request["time_limit"],
        max_expansions=request["max_expansions"], memory_limit_mb=request["memory_mb"],
        landmarks=request.get("landmarks", False), lazy=lazy, preferred=preferred,
    )
    plan = None if out.plan is None else [task.op_name(o) for o in out.plan]
    probe = None
    if request.get("probe") is not None and out.status != "error":
        states, dead, seconds = request["probe"]
        try:
            h = state_function(heuristic, task)
        except Exception:  # noqa: BLE001 - init failing now is the candidate's problem
            h = None
        probe = [] if h is None else probe_values(h, task, states, dead,
                                                  time.perf_counter() + seconds)
    return {"status": out.status, "plan": plan, "expanded": int(out.expanded),
            "evaluated": int(out.evaluated), "search_time": float(out.search_time),
            "error": out.error or "", "probe": probe}


# --------------------------------------------------------------------------- the parent side


@dataclass
class PlanningRecord:
    """One task's verified outcome, in the shape the loop stores.

    ``status``: ``ok`` (a plan the parent verified; ``objective`` is
    ``log1p(expansions) / 100``), ``timeout`` (a search limit was reached, or the sandbox
    killed the child), ``error`` (the heuristic raised or returned a non-number), ``invalid``
    (a malformed result, or a plan that fails the check), ``infeasible`` (the search space ran
    out: the heuristic pruned every path with ``inf``), ``memory``, ``crashed``.
    ``solved`` and ``limit`` say how the task counts; ``metrics`` keeps the counters.
    """

    instance: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    solved: bool = False
    limit: bool = False
    expanded: int = 0
    cost: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        """The heuristic misbehaved (as opposed to solving, or running into a limit)."""
        return not (self.solved or self.limit)


class InvalidResult(ValueError):
    """A child's result that is not exactly what :func:`run_heuristic` returns."""


def check_child_result(value: Any) -> dict:
    """Validate the structure of a child's result strictly (it may come from hostile code)."""
    if type(value) is not dict:
        raise InvalidResult(f"expected a dict, got {type(value).__name__}")
    if set(value) != set(CHILD_KEYS):
        raise InvalidResult(f"expected keys {sorted(CHILD_KEYS)}, got {sorted(map(str, value))}")
    status, plan, error = value["status"], value["plan"], value["error"]
    if type(status) is not str or status not in SEARCH_STATUSES:
        raise InvalidResult(f"unknown status {status!r:.60}")
    for key in ("expanded", "evaluated"):
        if type(value[key]) is not int or value[key] < 0:
            raise InvalidResult(f"{key} must be a non-negative int")
    if type(value["search_time"]) not in (int, float) or not value["search_time"] >= 0:
        raise InvalidResult("search_time must be a non-negative number")
    if type(error) is not str:
        raise InvalidResult("error must be a string")
    if plan is not None:
        if type(plan) is not list or len(plan) > MAX_PLAN_STEPS:
            raise InvalidResult(f"plan must be a list of at most {MAX_PLAN_STEPS} strings")
        if any(type(a) is not str or len(a) > MAX_ACTION_CHARS for a in plan):
            raise InvalidResult("plan steps must be short strings")
    if (status == "solved") != (plan is not None):
        raise InvalidResult("a plan must come with status 'solved', and only then")
    probe = value["probe"]
    if probe is not None:
        if type(probe) is not list or len(probe) > MAX_PROBE_STATES:
            raise InvalidResult(f"probe must be a list of at most {MAX_PROBE_STATES} lists")
        for row in probe:
            if type(row) is not list or len(row) > MAX_PLAN_STEPS or any(
                    type(v) is not float for v in row):
                raise InvalidResult("probe rows must be lists of floats")
    return value

