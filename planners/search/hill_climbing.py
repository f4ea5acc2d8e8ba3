"""Enforced hill-climbing (Hoffmann & Nebel's FF), with greedy best-first search as fallback.

Why: a *direct* heuristic (from every non-goal state some successor has a strictly lower
value; see :mod:`ahd.planners.directness`) needs no open list. From the current state, a
breadth-first search looks for the nearest state with a strictly lower value and commits to
it; with a direct heuristic that search ends one step deep, so the run is plain hill-climbing
and expands about one state per plan step. Where the heuristic has a plateau or a local
minimum, the breadth-first search walks across it; where it finds nothing (a dead end the
heuristic did not recognise), FF's answer applies: start again with greedy best-first search
for the time that is left (``fallback=True``). States with an infinite value are pruned.

Returns the :class:`~.gbfs.SearchOutcome` of GBFS with the same statuses; ``extra`` holds
``ehc_steps`` (improvements committed), ``ehc_failed`` (1.0 when it fell back) and, after a
fallback, the expansions of both phases are summed. Action costs are ignored while climbing
(as in FF): the plan is checked and costed by the caller as any other.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np

from ..heuristics import HeuristicError, load_heuristic, state_function
from ..heuristics.base import Heuristic
from ..state import applicable_ops, apply_op, is_goal
from ..task import Task
from .gbfs import SearchOutcome, greedy_best_first_search, peak_rss_mb, rss_mb


def enforced_hill_climbing(
    task: Task,
    heuristic: Heuristic | str = "hff",
    *,
    time_limit: float | None = None,
    deadline: float | None = None,
    memory_limit_mb: float | None = None,
    max_expansions: int | None = None,
    fallback: bool = True,
) -> SearchOutcome:
    """Enforced hill-climbing on a ground task (see the module docstring).

    Parameters are those of :func:`~.gbfs.greedy_best_first_search`; ``fallback=False``
    reports a failed climb as ``"unsolvable"`` with ``extra["ehc_failed"] = 1.0`` (EHC is
    incomplete: that is no proof) instead of running GBFS.
    """
    t0 = time.perf_counter()
    start = time.monotonic()
    if deadline is None and time_limit is not None:
        deadline = start + time_limit
    heuristic = load_heuristic(heuristic)
    if task.unsolvable is not None:
        return SearchOutcome("unsolvable", error=task.unsolvable,
                             search_time=time.perf_counter() - t0)
    try:
        h = state_function(heuristic, task)
    except HeuristicError as exc:
        return SearchOutcome("error", error=str(exc), search_time=time.perf_counter() - t0)
    arrays = task.arrays()
    buf = np.empty(max(task.n_ops, 1), dtype=np.int32)
    limit = math.inf if max_expansions is None else int(max_expansions)
    counts = {"expanded": 0, "generated": 0, "evaluated": 0, "dead_ends": 0}
    steps = 0
    last_mem = 0.0

    def done(status: str, plan: list[int] | None = None, error: str | None = None,
             best: float | None = None, **extra: float) -> SearchOutcome:
        return SearchOutcome(status, plan, search_time=time.perf_counter() - t0, error=error,
                             initial_h=h0, best_h=best, peak_rss_mb=peak_rss_mb(),
                             extra={"ehc_steps": float(steps), **extra}, **counts)

    state = task.init_bits
    try:
        value = h(state)
    except HeuristicError as exc:
        h0 = None
        return done("error", error=str(exc))
    counts["evaluated"] += 1
    h0 = value
    plan: list[int] = []
    while not is_goal(state, arrays):
        if math.isinf(value):
            return done("unsolvable", best=value)
        # breadth-first search from `state` for a strictly lower value
        parent: dict[bytes, tuple[bytes, int]] = {state.tobytes(): (b"", -1)}
        queue = deque([state])
        found = None
        while queue and found is None:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return done("time_limit", best=value)
            if counts["expanded"] >= limit:
                return done("expansion_limit", best=value)
            if memory_limit_mb is not None and now - last_mem > 0.1:
                last_mem = now
                if rss_mb() > memory_limit_mb:
                    return done("memory_limit", best=value)
            x = queue.popleft()
            key = x.tobytes()
            counts["expanded"] += 1
            for o in buf[:applicable_ops(x, arrays, buf)].tolist():
                y = np.empty_like(x)
                apply_op(x, arrays, o, y)
                counts["generated"] += 1
                ky = y.tobytes()
                if ky in parent:
                    continue
                parent[ky] = (key, o)
                try:
                    hy = h(y)
                except HeuristicError as exc:
                    return done("error", error=str(exc), best=value)
                counts["evaluated"] += 1
                if math.isinf(hy):
                    counts["dead_ends"] += 1
                    continue
                if hy < value or is_goal(y, arrays):
                    found = (y, ky, hy)
                    break
                queue.append(y)
        if found is None:
            if not fallback:
                return done("unsolvable", best=value, ehc_failed=1.0)
            rest = None if deadline is None else deadline - time.monotonic()
            if rest is not None and rest <= 0:
                return done("time_limit", best=value)
            left = None if max_expansions is None else max(0, limit - counts["expanded"])
            out = greedy_best_first_search(task, heuristic, time_limit=rest,
                                           memory_limit_mb=memory_limit_mb,
                                           max_expansions=left)
            for name in counts:
                setattr(out, name, getattr(out, name) + counts[name])
            out.search_time = time.perf_counter() - t0
            out.initial_h = h0
            out.extra.update(ehc_steps=float(steps), ehc_failed=1.0)
            return out
        y, ky, value = found
        segment: list[int] = []
        while ky != state.tobytes():
            ky, o = parent[ky]
            segment.append(o)
        plan.extend(reversed(segment))
        state = y
        steps += 1
    return done("solved", plan=plan, best=value)
