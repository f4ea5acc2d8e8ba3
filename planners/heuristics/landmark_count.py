"""LAMA's landmark-count heuristic, compiled: landmarks not yet reached, plus those needed again.

The value depends on the search path, not only on the state: a landmark is *reached* once a
state on the path from the initial state makes it true. Each search node keeps its reached
set as a bit-vector (one bit per landmark of :mod:`ahd.planners.landmarks`), computed from
its parent's when the node is evaluated. A landmark holds in a state where one of its facts
is true (its one fact, or one of a disjunction's). The count is, per landmark:

* not reached: 1 (it has yet to be achieved);
* reached, but a landmark reasonably ordered before it is not: 1 (reaching that one will
  destroy it, so it must be achieved again);
* reached, false now, and a goal: 1 (it must be achieved again);
* reached, false now, and greedy-necessarily ordered before a landmark not reached yet: 1 (that
  landmark's achiever needs it again);
* otherwise 0.

Every plan reaches every landmark, so a goal state's count is 0 (Richter & Westphal's
LM-count with unit costs; Fast Downward's ``landmark_sum`` without action costs).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..state import ADD, ADD_PTR, has, set_fact

# indices into the landmark tuple (Landmarks.arrays(), or no_landmarks())
(LM_PTR, LM_FACTS, LM_GOAL, LM_NEC_PTR, LM_NEC, LM_OF_PTR, LM_OF, LM_REAS_PTR, LM_REAS,
 LM_INIT) = range(10)


@njit(cache=True, _nrt=False, inline="always")
def _holds(bits: np.ndarray, ptr: np.ndarray, facts: np.ndarray, i: int) -> bool:
    """Landmark ``i`` is true in ``bits``: one of its facts is (a disjunction's, or its one)."""
    for k in range(ptr[i], ptr[i + 1]):
        if has(bits, facts[k]):
            return True
    return False


@njit(cache=True, _nrt=False, inline="always")
def _future(bits: np.ndarray, reached: np.ndarray, L: tuple, i: int) -> bool:
    """Landmark ``i`` counts in the state's value (see the module docstring)."""
    if not has(reached, i):
        return True
    reas_ptr, reas = L[LM_REAS_PTR], L[LM_REAS]
    for j in range(reas_ptr[i], reas_ptr[i + 1]):
        if not has(reached, reas[j]):
            return True
    ptr, facts = L[LM_PTR], L[LM_FACTS]
    if _holds(bits, ptr, facts, i):
        return False
    if L[LM_GOAL][i]:
        return True
    nec_ptr, nec = L[LM_NEC_PTR], L[LM_NEC]
    for j in range(nec_ptr[i], nec_ptr[i + 1]):
        if not has(reached, nec[j]):
            return True
    return False


@njit(cache=True, _nrt=False)
def landmark_count(bits: np.ndarray, parent_reached: np.ndarray, reached: np.ndarray,
                   L: tuple) -> float:
    """Write the reached set of state ``bits`` (its parent's, plus the landmarks true in it)
    into ``reached`` and return the count of landmarks still to achieve."""
    ptr, facts = L[LM_PTR], L[LM_FACTS]
    for w in range(reached.shape[0]):
        reached[w] = parent_reached[w]
    n = ptr.shape[0] - 1
    for i in range(n):
        if _holds(bits, ptr, facts, i):
            set_fact(reached, i)
    h = 0
    for i in range(n):
        if _future(bits, reached, L, i):
            h += 1
    return float(h)


@njit(cache=True, _nrt=False)
def mark_landmark_preferred(bits: np.ndarray, reached: np.ndarray, T: tuple, L: tuple,
                            app: np.ndarray, k: int, mark: np.ndarray) -> int:
    """Set ``mark[o] = 1`` for the operators among ``app[:k]`` (applicable in ``bits``) that
    make true a fact of a landmark still counted there (``reached``: the state's reached
    set), as LAMA 2011's landmark heuristic prefers them (Fast Downward's
    ``landmark_sum(..., pref=true)`` in ``seq-sat-lama-2011``; its ``lama-first`` alias
    leaves them out). Operators already marked stay marked; returns how many this marked."""
    add_ptr, add = T[ADD_PTR], T[ADD]
    of_ptr, of = L[LM_OF_PTR], L[LM_OF]
    n = 0
    for i in range(k):
        o = app[i]
        if mark[o]:
            continue
        found = False
        for a in range(add_ptr[o], add_ptr[o + 1]):
            f = add[a]
            for j in range(of_ptr[f], of_ptr[f + 1]):
                if _future(bits, reached, L, of[j]):
                    found = True
                    break
            if found:
                break
        if found:
            mark[o] = 1
            n += 1
    return n
