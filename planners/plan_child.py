"""``ahd plan --heuristic FILE``: the file's ``h`` runs in a sandbox child, under a deadline.

The parent parses and grounds the task (trusted code, as :func:`ahd.planners.api.solve` does);
:func:`search_with_file` loads the file in a child of a :class:`~ahd.user_file.UserFileRunner`
with the same loader and runs the same greedy best-first search against the same deadline,
returning plain data. The parent believes none of it before
:func:`~ahd.planners.evolve_child.check_child_result` has checked its shape, and takes the
plan's cost only from its own simulator (:func:`ahd.planners.plan.simulate`).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ahd.trust import is_int, is_real
from ahd.user_file import UserFileFailure, UserFileRunner, one_line

from .api import PlanResult
from .errors import InvalidPlan, SearchTimeout
from .evolve_child import InvalidResult, check_child_result
from .ground import ground
from .heuristics import HeuristicError, load_heuristic
from .pddl_io import read_task
from .plan import simulate
from .search import run_search

#: Worker warm-up: the search kernels and the relaxed-plan helpers heuristics import.
WARMUP = "ahd.planners.evolve_child:warm_worker"
#: Counters the child reports besides :data:`~ahd.planners.evolve_child.CHILD_KEYS`.
EXTRA_KEYS = ("heuristic", "generated", "dead_ends", "initial_h", "peak_rss_mb")

# ----------------------------------------------------------------------------- the child side


def search_with_file(request: dict) -> dict:
    """Child side: load the heuristic file, search the ground task, return plain data.

    ``request``: ``cwd``, ``path``, ``task`` (ground), ``deadline`` (a ``time.monotonic()``
    value, the parent's), ``lazy``, ``tie_breaking``, ``memory_mb``, ``max_expansions`` and
    optionally ``search`` (``gbfs`` when absent), ``landmarks`` and ``preferred`` (off when
    absent; preferred operators need a compiled heuristic) and ``seed`` (operator order).
    Returns ``{"search": {CHILD_KEYS...}, "extra": {EXTRA_KEYS...}}``; the plan as action
    strings, never a cost.
    """
    os.chdir(request["cwd"])  # relative paths mean what they meant to the user
    task = request["task"]
    try:
        heuristic = load_heuristic(request["path"])
    except HeuristicError as exc:
        return {"search": {"status": "error", "plan": None, "expanded": 0, "evaluated": 0,
                           "search_time": 0.0, "error": str(exc), "probe": None},
                "extra": {"heuristic": None, "generated": 0, "dead_ends": 0,
                          "initial_h": None, "peak_rss_mb": 0.0}}
    preferred = bool(request.get("preferred", False))
    if preferred and heuristic.is_python:
        return {"search": {"status": "error", "plan": None, "expanded": 0, "evaluated": 0,
                           "search_time": 0.0, "probe": None,
                           "error": f"{request['path']} runs as Python: preferred operators "
                                    "need a built-in or a compiled genome (a module as the "
                                    "offline proposer renders it)"},
                "extra": {"heuristic": heuristic.name, "generated": 0, "dead_ends": 0,
                          "initial_h": None, "peak_rss_mb": 0.0}}
    out = run_search(
        task, heuristic, request.get("search", "gbfs"), lazy=request["lazy"],
        tie_breaking=request["tie_breaking"], landmarks=request.get("landmarks", False),
        preferred=preferred, seed=request.get("seed"), deadline=request["deadline"],
        memory_limit_mb=request["memory_mb"], max_expansions=request["max_expansions"],
    )
    plan = None if out.plan is None else [task.op_name(o) for o in out.plan]
    return {
        "search": {"status": out.status, "plan": plan, "expanded": int(out.expanded),
                   "evaluated": int(out.evaluated), "search_time": float(out.search_time),
                   "error": out.error or "", "probe": None},
        "extra": {"heuristic": heuristic.name, "generated": int(out.generated),
                  "dead_ends": int(out.dead_ends),
                  "initial_h": None if out.initial_h is None else float(out.initial_h),
                  "peak_rss_mb": float(out.peak_rss_mb)},
    }


# ----------------------------------------------------------------------------- the parent side


def solve_with_file(
    domain_path: str | Path,
    problem_path: str | Path,
    heuristic: str,
    time_limit: float,
    memory_limit_mb: float | None = None,
    max_expansions: int | None = None,
    lazy: bool = False,
    tie_breaking: str = "fifo",
    notify: Callable[[str], None] | None = None,
    search: str = "gbfs",
    landmarks: bool = False,
    preferred: bool = False,
    seed: int | None = None,
) -> PlanResult:
    """:func:`ahd.planners.api.solve` with the heuristic file's code in a sandbox child.

    Same arguments and result; the time limit covers parsing, grounding and search as there,
    but not the start of the sandbox worker. The child is killed
    :data:`~ahd.user_file.GRACE_S` seconds after the deadline. ``notify`` receives lines for
    the user: a warning where no sandbox child can be had, and what the file printed (the
    last few KB) when its child returned.

    Raises
    ------
    PlanningInputError
        Malformed or unsupported PDDL (before any of the file's code runs).
    UserFileFailure
        The file's code did not return in time, exited, died, or returned a malformed result.
    """
    t0 = time.perf_counter()
    lifted = read_task(domain_path, problem_path)
    parse_s = time.perf_counter() - t0
    name = Path(heuristic).stem  # what load_heuristic names a file's heuristic

    def early(status: str, ground_time: float) -> PlanResult:
        return PlanResult(status, None, None, 0, 0, 0, 0.0, ground_time, name)

    with UserFileRunner(Path(heuristic), WARMUP, time_limit) as runner:
        if notify is not None and runner.warning:
            notify(runner.warning)
        deadline = runner.start_clock(time.monotonic() + time_limit - parse_s)
        t1 = time.perf_counter()
        try:
            task = ground(lifted, deadline=deadline)
        except SearchTimeout:
            return early("time_limit", parse_s + time.perf_counter() - t1)
        ground_time = parse_s + time.perf_counter() - t1
        request = {"cwd": os.getcwd(), "path": heuristic, "task": task, "deadline": deadline,
                   "lazy": lazy, "tie_breaking": tie_breaking, "memory_mb": memory_limit_mb,
                   "max_expansions": max_expansions, "search": search,
                   "landmarks": landmarks, "preferred": preferred, "seed": seed}
        value = runner.call(f"{__name__}:search_with_file", request)
        if notify is not None and runner.output.strip():
            notify(runner.output.rstrip("\n"))
    try:
        search, extra = _checked(value)
    except InvalidResult as exc:
        raise UserFileFailure(
            f"heuristic file {heuristic}: returned an invalid result ({one_line(str(exc))})"
        ) from None
    plan, status, error, cost = search["plan"], search["status"], search["error"] or None, None
    if plan is not None:
        try:
            cost = simulate(lifted, plan)
        except InvalidPlan as exc:  # never report an unchecked plan
            status, error, plan = "error", f"the plan failed the check: {exc}", None
    return PlanResult(
        status=status, plan=plan, cost=cost, expanded=search["expanded"],
        generated=extra["generated"], evaluated=search["evaluated"],
        search_time=float(search["search_time"]), ground_time=ground_time,
        heuristic=extra["heuristic"] or heuristic, error=error, facts=task.n_facts,
        operators=task.n_ops, initial_h=extra["initial_h"], dead_ends=extra["dead_ends"],
        peak_rss_mb=extra["peak_rss_mb"], unit_cost=not lifted.use_costs,
    )


def _checked(value: Any) -> tuple[dict, dict]:
    """The child's ``search`` and ``extra`` parts, strictly checked (it may be hostile)."""
    if type(value) is not dict or set(value) != {"search", "extra"}:
        raise InvalidResult("expected a dict with exactly 'search' and 'extra'")
    search, extra = check_child_result(value["search"]), value["extra"]
    if type(extra) is not dict or set(extra) != set(EXTRA_KEYS):
        raise InvalidResult(f"'extra' must have exactly the keys {list(EXTRA_KEYS)}")
    name = extra["heuristic"]
    if name is not None and (type(name) is not str or len(name) > 200):
        raise InvalidResult("the heuristic's name must be a short text")
    for key in ("generated", "dead_ends"):
        if not is_int(extra[key]) or extra[key] < 0:
            raise InvalidResult(f"{key} must be a non-negative int")
    h0 = extra["initial_h"]
    if h0 is not None and not (type(h0) is float and not math.isnan(h0)):
        raise InvalidResult("initial_h must be a float")
    if not is_real(extra["peak_rss_mb"]) or extra["peak_rss_mb"] < 0:
        raise InvalidResult("peak_rss_mb must be non-negative")
    if len(search["error"]) > 4000:
        search = {**search, "error": search["error"][:4000] + "..."}
    return search, extra
