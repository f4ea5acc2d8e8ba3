"""Built-in heuristics, compiled into the search loop and selected by an integer id.

Numba cannot call a Python function from compiled code cheaply, and passing compiled functions
as arguments would recompile the search loop for each one; an integer switch compiles every
built-in once, into one cached kernel. Adding a built-in = a numba function, an id here, a
branch in :func:`evaluate`, and an entry in ``HEURISTICS``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..state import GOAL, GOAL_NEG, has, is_goal
from .genome_kernel import genome_value
from .relaxed import HADD, HFF, HMAX, S_MINCOST, explore

BLIND, GOALCOUNT, H_MAX, H_ADD, H_FF = range(5)
#: A compiled genome (:mod:`.genome`): not selectable by name, its terms travel in the scratch.
GENOME = 5

#: name -> id, in registry order
BUILTIN_IDS = {"blind": BLIND, "goalcount": GOALCOUNT, "hmax": H_MAX, "hadd": H_ADD, "hff": H_FF}

#: one-line descriptions (shown by the CLI and in docs)
DESCRIPTIONS = {
    "blind": "0 in goal states, else the cheapest operator cost (uninformed search)",
    "goalcount": "number of goal atoms not yet satisfied",
    "hmax": "h_max: most expensive goal in the delete relaxation (admissible)",
    "hadd": "h_add: sum of the relaxed costs of the goals",
    "hff": "h_FF: cost of a relaxed plan extracted from h_add's best supporters",
}


@njit(cache=True, _nrt=False)
def blind(bits: np.ndarray, T: tuple, S: tuple) -> float:
    if is_goal(bits, T):
        return 0.0
    return float(S[S_MINCOST][0])


@njit(cache=True, _nrt=False)
def goalcount(bits: np.ndarray, T: tuple) -> float:
    goal, goal_neg = T[GOAL], T[GOAL_NEG]
    n = 0
    for i in range(goal.shape[0]):
        if not has(bits, goal[i]):
            n += 1
    for i in range(goal_neg.shape[0]):
        if has(bits, goal_neg[i]):
            n += 1
    return float(n)


@njit(cache=True, _nrt=False)
def evaluate(hid: int, bits: np.ndarray, T: tuple, S: tuple) -> float:
    """Value of built-in heuristic ``hid`` on the packed state ``bits``."""
    if hid == BLIND:
        return blind(bits, T, S)
    if hid == GOALCOUNT:
        return goalcount(bits, T)
    if hid == H_MAX:
        return explore(bits, T, S, HMAX)
    if hid == H_ADD:
        return explore(bits, T, S, HADD)
    if hid == GENOME:
        return genome_value(bits, T, S)
    return explore(bits, T, S, HFF)
