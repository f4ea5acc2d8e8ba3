"""Load (or compile) every compiled kernel before timing matters.

The first search in a process loads numba's cached machine code (about 0.3 s) or, on a fresh
checkout, compiles it (several seconds). A sandbox worker pool should call :func:`warm_up`
once per worker before forking evaluation children, so no candidate pays that cost.
"""

from __future__ import annotations

import functools

from .ground import ground
from .heuristics import HEURISTICS, BuiltinHeuristic, CompiledGenome, PythonHeuristic
from .lifted import LiftedTask, Literal, Schema
from .reasonable_orders import mutex_pairs
from .search import greedy_best_first_search


def tiny_task() -> LiftedTask:
    """Two-step task built in memory (no files): p -> q -> r."""
    step = Schema(
        name="step", params=("?a", "?b"), param_types=(("object",), ("object",)),
        pre=(Literal("at", ("?a",)), Literal("next", ("?a", "?b")),
             Literal("blocked", ("?b",), positive=False)),
        add=(Literal("at", ("?b",)),), delete=(Literal("at", ("?a",), positive=False),),
    )
    return LiftedTask(
        domain_name="warmup", problem_name="warmup", domain_file="<warmup>",
        problem_file="<warmup>", types={"object": None},
        objects={o: ("object",) for o in "pqr"},
        predicates={"at": ("object",), "next": ("object", "object"), "blocked": ("object",)},
        schemas=(step,), init=frozenset({("at", "p"), ("next", "p", "q"), ("next", "q", "r")}),
        goal=(Literal("at", ("r",)),),
    )


def warm_up() -> None:
    """Run every built-in heuristic, eager and lazy, LAMA's search (its landmarks and their
    mutexes included) and a Python heuristic on a tiny task."""
    task = ground(tiny_task())
    for name in HEURISTICS:
        for lazy in (False, True):
            greedy_best_first_search(task, name, lazy=lazy)
    greedy_best_first_search(task, "hff", lazy=True, preferred=True, landmarks=True, seed=1)
    greedy_best_first_search(task, PythonHeuristic(lambda state, t: 0.0))


#: ``(built-in heuristic name or None for Python heuristics, lazy)`` already warmed here.
_WARMED: set[tuple[str | None, bool]] = set()


def warm_search(heuristic: object, lazy: bool = False) -> None:
    """Load (or compile) the kernels one search with ``heuristic`` needs, on a tiny task.

    Called before a search's clock starts, so that a time limit measures the search and not
    numba's one-time work (about 0.3 s from its cache, seconds on a fresh install). Only the
    built-in kernel is run as given; a Python heuristic (the user's code) is not called here:
    a constant one warms the same Python-heuristic search path.
    """
    if isinstance(heuristic, CompiledGenome):  # the same kernel as any built-in
        heuristic = HEURISTICS["goalcount"]()
    builtin = isinstance(heuristic, BuiltinHeuristic)
    key = (heuristic.name if builtin else None, lazy)
    if key in _WARMED:  # once per process: later calls would only repeat the tiny search
        return
    _WARMED.add(key)  # first: the search below calls this function again
    chosen = heuristic if builtin else PythonHeuristic(lambda state, t: 0.0)
    try:
        greedy_best_first_search(ground(tiny_task()), chosen, lazy=lazy)
    except BaseException:
        _WARMED.discard(key)  # interrupted: the next search warms again
        raise


@functools.cache
def warm_landmarks() -> None:
    """Load (or compile) the landmark finder's compiled part (the mutexes of reasonable
    orderings), once per process, before a search's clock starts."""
    mutex_pairs(ground(tiny_task()))
