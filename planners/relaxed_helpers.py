"""Relaxed-plan heuristics callable from a Python heuristic: h_FF and h_add of a state.

A Python heuristic sees states as sets of atom tuples, while the planner's h_FF and h_add are
compiled kernels over packed bit-vectors of fact ids. This module bridges the two, so an
evolved heuristic (or a human one) can use a relaxed-plan estimate as one of its terms at
about the cost of a Python goal count: the task's arrays and the kernels' scratch space are
built once per task and cached in ``task.data``. Generated heuristics import the helpers as
``from ahd.planners.features import relaxed_plan_length``, which re-exports them.

The one numba kernel here, ``_pack``, is a few lines and stays next to its only caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from .heuristics.api import HeuristicTask

__all__ = ["HADD", "HFF", "relaxed_cost", "relaxed_plan_length", "warm_up_features"]

#: Names of the two relaxed heuristics, as built-in heuristic names and as the argument of
#: the ``relaxed(...)`` feature.
HFF, HADD = "hff", "hadd"

_CACHE_KEY = "_ahd_relaxed"


@njit(cache=True)
def _pack(ids: np.ndarray, n_words: int) -> np.ndarray:
    """Packed bit-vector of fact ids (the search kernels' state format)."""
    bits = np.zeros(n_words, dtype=np.uint64)
    one = np.uint64(1)
    for i in range(ids.shape[0]):
        f = ids[i]
        bits[f >> 6] |= one << np.uint64(f & 63)
    return bits


def _relaxed(state: Iterable[tuple[str, ...]], task: HeuristicTask, which: str) -> float:
    cache = task.data.get(_CACHE_KEY)
    if cache is None:
        from .heuristics.builtin import BUILTIN_IDS
        from .heuristics.relaxed import scratch

        ground = task.ground_task
        cache = (ground.fact_index, ground.n_words, ground.arrays(), scratch(ground),
                 {k: BUILTIN_IDS[k] for k in (HFF, HADD)})
        task.data[_CACHE_KEY] = cache
    index, n_words, arrays, work, hids = cache
    ids = np.array([index[a] for a in state if a in index], dtype=np.int64)
    from .heuristics.builtin import evaluate

    return float(evaluate(hids[which], _pack(ids, n_words), arrays, work))


def relaxed_plan_length(state: Iterable[tuple[str, ...]], task: HeuristicTask) -> float:
    """h_FF of ``state``: the length of a relaxed plan (``inf`` if the goal is unreachable).

    Computed by the planner's compiled code; usable from any Python heuristic
    (``from ahd.planners.features import relaxed_plan_length``). Negative goals are ignored,
    as usual for the delete relaxation.
    """
    return _relaxed(state, task, HFF)


def relaxed_cost(state: Iterable[tuple[str, ...]], task: HeuristicTask) -> float:
    """h_add of ``state``: the sum of the goals' relaxed costs (``inf`` if unreachable)."""
    return _relaxed(state, task, HADD)


def warm_up_features() -> None:
    """Compile (or load) the helpers' machine code, so a forked child does not."""
    from .ground import ground
    from .heuristics.api import heuristic_task
    from .warmup import tiny_task

    view = heuristic_task(ground(tiny_task()))
    relaxed_plan_length(view.init, view)
    relaxed_cost(view.init, view)
