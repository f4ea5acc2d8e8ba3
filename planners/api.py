"""``solve``: PDDL files in, a checked plan out.

Parse (``pddl``), ground (relaxed reachability), search (greedy best-first), then re-check the
plan with the lifted simulator; the reported cost is the simulator's, never the search's.
The time limit covers all of it (grounding stops at the deadline too).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import InvalidPlan, SearchTimeout
from .ground import ground
from .heuristics import HeuristicError, load_heuristic
from .heuristics.base import Heuristic
from .pddl_io import read_task
from .plan import simulate
from .search import SEARCHES, run_search
from .warmup import warm_search


@dataclass
class PlanResult:
    """Outcome of :func:`solve`.

    Attributes
    ----------
    status : str
        ``"solved"``, ``"unsolvable"``, ``"time_limit"``, ``"memory_limit"``,
        ``"expansion_limit"`` or ``"error"``.
    plan : list of str or None
        IPC-style actions ``'(name arg ...)'`` when solved.
    cost : float or None
        Plan cost as recomputed by :func:`ahd.planners.plan.simulate`.
    expanded, generated, evaluated : int
        Search statistics.
    search_time, ground_time : float
        Seconds; ``ground_time`` includes parsing.
    heuristic : str
        Name of the heuristic used.
    error : str or None
        For ``"error"``: what the heuristic (or the plan check) did wrong; for
        ``"unsolvable"`` found at grounding: which goal is unreachable.
    unit_cost : bool
        False when the problem minimises total-cost (costs then come from the PDDL).
    """

    status: str
    plan: list[str] | None
    cost: float | None
    expanded: int
    generated: int
    evaluated: int
    search_time: float
    ground_time: float
    heuristic: str
    error: str | None = None
    facts: int = 0
    operators: int = 0
    initial_h: float | None = None
    dead_ends: int = 0
    peak_rss_mb: float = 0.0
    unit_cost: bool = True
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.status == "solved"

    def to_dict(self) -> dict:
        return asdict(self)


def solve(
    domain_path: str | Path,
    problem_path: str | Path,
    heuristic: str | Heuristic = "hff",
    time_limit: float | None = 60,
    memory_limit_mb: float | None = None,
    max_expansions: int | None = None,
    lazy: bool = False,
    tie_breaking: str = "fifo",
    search: str = "gbfs",
    preferred: bool = False,
    landmarks: bool = False,
    seed: int | None = None,
) -> PlanResult:
    """Solve a PDDL task with greedy best-first search (or enforced hill-climbing).

    Parameters
    ----------
    domain_path, problem_path : path
        PDDL files (STRIPS, typing, negative preconditions, equality, constants, action costs).
    heuristic : str or heuristic object
        ``'blind'``, ``'goalcount'``, ``'hmax'``, ``'hadd'``, ``'hff'``, a path to a ``.py``
        file defining ``h(state, task)``, or a :class:`~ahd.planners.heuristics.PythonHeuristic`.
    time_limit : float or None
        Seconds for parsing, grounding and search together. Loading (or, on a fresh
        install, compiling) the search's machine code is not counted: it happens once per
        process, before the clock starts.
    memory_limit_mb : float or None
        Resident-memory limit for the search.
    max_expansions : int or None
        Expansion limit.
    lazy : bool
        Lazy instead of eager GBFS.
    tie_breaking : {"fifo", "lifo"}
        Among equal h values.
    search : {"gbfs", "ehc"}
        ``"ehc"``: enforced hill-climbing, falling back to GBFS where it gets stuck
        (:mod:`ahd.planners.search.hill_climbing`); for direct heuristics.
    preferred : bool
        With ``lazy`` and ``hff``: helpful actions in a boosted second open list (LAMA's
        preferred operators).
    landmarks : bool
        With GBFS: LAMA's landmark count as a second heuristic, in alternation
        (:mod:`ahd.planners.landmarks`). ``lazy``, ``preferred`` and ``hff`` with it are
        LAMA's first search (``ahd:lama`` in ``ahd plan-eval``).
    seed : int or None
        With GBFS: expand successors in an order shuffled by this seed instead of operator
        order (Fast Downward's ``randomize_successors``; ``ahd:lama@SEED`` in ``plan-eval``).

    Raises
    ------
    PlanningInputError
        Malformed or unsupported PDDL (the message names the file and the construct).
    """
    if search not in SEARCHES:
        raise ValueError(f"search must be one of {', '.join(SEARCHES)}, got {search!r}")
    if preferred and (search != "gbfs" or not lazy):
        raise ValueError("preferred operators need lazy GBFS (lazy=True, search='gbfs')")
    if landmarks and search != "gbfs":
        raise ValueError("the landmark count needs GBFS (search='gbfs')")
    t0 = time.perf_counter()
    lifted = read_task(domain_path, problem_path)
    parse_s = time.perf_counter() - t0
    name = heuristic if isinstance(heuristic, str) else getattr(heuristic, "name", "python")

    def early(status: str, ground_time: float, error: str | None = None) -> PlanResult:
        return PlanResult(status, None, None, 0, 0, 0, 0.0, ground_time, str(name), error)

    try:
        h = load_heuristic(heuristic)
    except HeuristicError as exc:
        return early("error", parse_s, str(exc))
    name = h.name
    if preferred and (h.is_python or not h.helpful):
        raise ValueError("preferred operators come from h_FF's relaxed plan: the built-in "
                         f"hff or a compiled genome, not {h.name}")
    warm_search(h, lazy)  # numba's one-time load or compile: not the task's time
    deadline = None if time_limit is None else time.monotonic() + time_limit - parse_s
    t0 = time.perf_counter() - parse_s
    try:
        task = ground(lifted, deadline=deadline)
    except SearchTimeout:
        return early("time_limit", time.perf_counter() - t0)
    ground_time = time.perf_counter() - t0
    out = run_search(
        task, h, search, lazy=lazy, tie_breaking=tie_breaking, preferred=preferred,
        landmarks=landmarks, seed=seed,
        deadline=deadline,
        memory_limit_mb=memory_limit_mb, max_expansions=max_expansions,
    )
    plan = None if out.plan is None else [task.op_name(o) for o in out.plan]
    status, error, cost = out.status, out.error, None
    if plan is not None:
        try:
            cost = simulate(lifted, plan)
        except InvalidPlan as exc:  # a planner bug: never report an unchecked plan
            status, error, plan = "error", f"internal error, plan failed the check: {exc}", None
    return PlanResult(
        status=status,
        plan=plan,
        cost=cost,
        expanded=out.expanded,
        generated=out.generated,
        evaluated=out.evaluated,
        search_time=out.search_time,
        ground_time=ground_time,
        heuristic=str(name),
        error=error,
        facts=task.n_facts,
        operators=task.n_ops,
        initial_h=out.initial_h,
        dead_ends=out.dead_ends,
        peak_rss_mb=out.peak_rss_mb,
        unit_cost=not lifted.use_costs,
    )
