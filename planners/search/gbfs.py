"""Greedy best-first search: the Python driver around the compiled loop.

The driver owns everything numba cannot do: the clock, the memory limit, growing the arrays,
and calling Python heuristics. The compiled loop (:mod:`.kernel`) runs in chunks sized to
take about 50 ms, so time and memory are checked about 20 times a second; with a Python
heuristic it returns once per expansion for the new states' values, and the limits are
checked then.

Statuses: ``"solved"``, ``"unsolvable"`` (open list exhausted; with a heuristic that returns
``inf`` this trusts its dead-end claims), ``"time_limit"``, ``"memory_limit"``,
``"expansion_limit"``, ``"error"`` (the heuristic raised or returned a non-number).
"""

from __future__ import annotations

import math
import os
import resource
import time
from dataclasses import dataclass, field

import numpy as np

from ..heuristics import HeuristicError, load_heuristic
from ..heuristics.base import Heuristic, PythonHeuristic
from ..heuristics.genome import CompiledGenome, GenomeTooLarge
from ..heuristics.relaxed import scratch
from ..landmarks import no_landmarks
from ..state import unpack_rows
from ..task import Task
from . import kernel as K
from .space import SearchSpace

STATUSES = ("solved", "unsolvable", "time_limit", "memory_limit", "expansion_limit", "error")

#: Target wall time of one compiled chunk (seconds).
CHUNK_SECONDS = 0.05

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_mb() -> float:
    """Resident memory of this process now, in MiB (peak RSS if /proc is unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class SearchOutcome:
    """What one search did.

    ``plan`` is a list of operator ids (``task.op_name`` gives their names); ``search_time``
    excludes grounding; ``error`` is the heuristic's failure text for status ``"error"``.
    """

    status: str
    plan: list[int] | None = None
    expanded: int = 0
    generated: int = 0
    evaluated: int = 0
    dead_ends: int = 0
    search_time: float = 0.0
    error: str | None = None
    initial_h: float | None = None
    best_h: float | None = None
    peak_rss_mb: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def seed_state(seed: int) -> int:
    """The successor shuffle's non-zero generator state for ``seed`` (any integer)."""
    return int(np.random.default_rng(seed).integers(1, 2**63 - 1))


def greedy_best_first_search(
    task: Task,
    heuristic: Heuristic | str = "hff",
    *,
    lazy: bool = False,
    tie_breaking: str = "fifo",
    preferred: bool = False,
    landmarks: bool = False,
    time_limit: float | None = None,
    deadline: float | None = None,
    memory_limit_mb: float | None = None,
    max_expansions: int | None = None,
    initial_capacity: int = 4096,
    seed: int | None = None,
) -> SearchOutcome:
    """Run GBFS on a ground task.

    Parameters
    ----------
    task : Task
        From :func:`ahd.planners.ground.ground`.
    heuristic : str or heuristic object
        A built-in name, a ``.py`` path, or an object from :mod:`ahd.planners.heuristics`
        (e.g. :class:`PythonHeuristic` built inside a sandbox child).
    lazy : bool
        Lazy search evaluates a state when it is taken from the open list (with its parent's
        h as key) instead of when it is generated: fewer evaluations, worse guidance.
    tie_breaking : {"fifo", "lifo"}
        Order among states with equal h: first generated first (FD's default) or last.
    preferred : bool
        Lazy search with ``hff`` only: successors through helpful actions (the relaxed plan's
        operators applicable in the expanded state) also enter a preferred open list, which
        alternates with the regular one and is boosted by 1000 on progress (LAMA's scheme).
    landmarks : bool
        LAMA's landmark count (:mod:`ahd.planners.landmarks`) as a second heuristic, with
        open lists of its own in the alternation (with ``lazy``, ``preferred`` and ``hff``:
        LAMA's first search, ``ahd:lama``; beside a Python heuristic, an evolved one
        alternating with it). With ``preferred``, the operators that make true a landmark the
        count still includes are preferred too, beside h_FF's helpful actions (LAMA 2011's
        ``landmark_sum(..., pref=true)``; Fast Downward's ``lama-first`` alias has
        ``pref=false``). Finding the landmarks (once per task, kept on it) counts in the
        search time.
    time_limit : float, optional
        Seconds from this call, after the compiled search is loaded (or, on a fresh
        install, compiled: once per process); ``deadline`` (a ``time.monotonic()`` value)
        overrides it.
    memory_limit_mb : float, optional
        Stop with ``"memory_limit"`` before this process's resident memory would exceed it.
    max_expansions : int, optional
        Stop with ``"expansion_limit"`` after this many expansions.
    initial_capacity : int
        Nodes and open-list entries allocated up front (arrays double when full).
    seed : int, optional
        Expand each state's successors in an order shuffled by this seed (Fast Downward's
        ``randomize_successors``) instead of operator order. Which of several equal-valued
        states comes first decides many searches; comparing planners over a few seeds shows
        how much of a coverage difference is that luck.
    """
    if tie_breaking not in ("fifo", "lifo"):
        raise ValueError(f"tie_breaking must be 'fifo' or 'lifo', got {tie_breaking!r}")
    heuristic = load_heuristic(heuristic)
    from ..warmup import warm_landmarks, warm_search  # they run this function on a tiny task

    warm_search(heuristic, lazy)  # numba's one-time load or compile: before the clock starts
    if landmarks:
        warm_landmarks()
    t0 = time.perf_counter()
    start = time.monotonic()
    if deadline is None and time_limit is not None:
        deadline = start + time_limit
    if preferred and not (lazy and not heuristic.is_python and heuristic.helpful):
        raise ValueError("preferred operators need lazy search with hff or a compiled "
                         "genome (h_FF's helpful actions)")
    if task.unsolvable is not None:
        return SearchOutcome("unsolvable", extra={"reason_unreachable_goal": 1.0},
                             error=task.unsolvable, search_time=time.perf_counter() - t0)
    lifo = tie_breaking == "lifo"
    T = task.arrays()
    evaluate_state, HS = None, None
    try:
        if isinstance(heuristic, CompiledGenome):
            try:
                HS = heuristic.scratch(task, helpful=preferred)
            except GenomeTooLarge:  # its distance tables: the Python rendering memoises less
                if preferred:
                    raise
                heuristic = heuristic.as_python()
        if isinstance(heuristic, PythonHeuristic):
            HS = scratch(task, empty=True)
            evaluate_state = heuristic.bind(task)
        elif HS is None:
            HS = heuristic.scratch(task)
    except (HeuristicError, GenomeTooLarge) as exc:
        return SearchOutcome("error", error=str(exc), search_time=time.perf_counter() - t0)
    hid = heuristic.hid
    L, lm_words, extra = no_landmarks(), 0, {}
    if landmarks:
        t_lm = time.perf_counter()
        found = task.landmarks
        L, lm_words = found.arrays(task), found.n_words
        extra = {"landmarks": float(found.n),
                 "landmark_seconds": round(time.perf_counter() - t_lm, 4)}
    cap = max(1, int(initial_capacity))
    space = SearchSpace(task.n_words, task.n_ops, node_cap=cap, entry_cap=cap,
                        landmark_words=lm_words)
    space.add_root(task.init_bits)
    if seed is not None:
        space.ctr[K.RNG] = seed_state(seed)
    atoms = task.atoms
    n_facts = task.n_facts

    def evaluate_pending() -> bool:
        """h of the new states, in order; False if the deadline passes first."""
        lo, hi = int(space.ctr[K.PEND_LO]), int(space.ctr[K.N_NODES])
        ptr, facts = unpack_rows(space.states, lo, hi, n_facts)
        ptr_l, facts_l = ptr.tolist(), facts.tolist()
        hval = space.hval
        for i in range(hi - lo):
            if deadline is not None and i and time.monotonic() >= deadline:
                return False
            state = frozenset([atoms[f] for f in facts_l[ptr_l[i]:ptr_l[i + 1]]])
            hval[lo + i] = evaluate_state(state)  # type: ignore[misc]
        return True

    def outcome(status: str, **kw: object) -> SearchOutcome:
        ctr = space.ctr
        best = int(ctr[K.BEST_H])
        return SearchOutcome(
            status=status,
            expanded=int(ctr[K.EXPANDED]),
            generated=int(ctr[K.GENERATED]),
            evaluated=int(ctr[K.EVALUATED]),
            dead_ends=int(ctr[K.DEAD_ENDS]),
            search_time=time.perf_counter() - t0,
            initial_h=float(space.hval[0]) if not np.isnan(space.hval[0]) else None,
            best_h=float(space.hval[best]) if not np.isnan(space.hval[best]) else None,
            peak_rss_mb=peak_rss_mb(),
            extra=dict(extra),
            **kw,  # type: ignore[arg-type]
        )

    budget = 1
    last_mem_check = 0.0
    limit = -1 if max_expansions is None else int(max_expansions)
    while True:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return outcome("time_limit")
        if memory_limit_mb is not None and now - last_mem_check > 0.1:
            last_mem_check = now
            if rss_mb() > memory_limit_mb:
                return outcome("memory_limit")
        if limit >= 0 and space.ctr[K.EXPANDED] >= limit:
            return outcome("expansion_limit")
        if evaluate_state is not None and space.ctr[K.PENDING] and np.isnan(
            space.hval[space.ctr[K.PEND_LO]]
        ):
            try:
                if not evaluate_pending():
                    return outcome("time_limit")
            except HeuristicError as exc:
                return outcome("error", error=str(exc))
        c0 = time.perf_counter()
        status = K.run(T, HS, space.as_tuple(), hid, lazy, lifo, budget, limit, preferred,
                       landmarks, L)
        elapsed = time.perf_counter() - c0
        if status == K.SOLVED:
            return outcome("solved", plan=space.path(int(space.ctr[K.GOAL_NODE])))
        if status == K.EXHAUSTED:
            return outcome("unsolvable")
        if status == K.NEED_GROW:
            need = int(space.ctr[K.NEED])
            if memory_limit_mb is not None:
                if rss_mb() + space.growth_bytes(need) / 2**20 > memory_limit_mb:
                    return outcome("memory_limit")
            try:
                space.grow(need)
            except MemoryError:
                return outcome("memory_limit")
        elif status == K.BUDGET:
            scale = min(max(CHUNK_SECONDS / max(elapsed, 1e-6), 0.25), 4.0)
            budget = int(min(max(math.ceil(budget * scale), 1), 1_000_000))
