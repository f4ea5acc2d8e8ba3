"""Operator sources (destroy/repair functions as strings) that tests in several folders share.

A test that needs its own variant keeps it next to the test; what is here is used as-is.
"""

from __future__ import annotations

#: A numba-compiled random removal with imports and a helper: valid, importable operator code.
RANDOM_DESTROY = '''
import numpy as np
from numba import njit

from ahd.problems.engine.state import remove_customer


@njit
def _pick(sol, total):
    """A uniformly random assigned customer."""
    t = np.random.randint(0, total)
    for r in range(sol.nroutes[0]):
        if t < sol.lengths[r]:
            return sol.routes[r, t]
        t -= sol.lengths[r]
    return -1


def destroy(inst, sol, n_remove, removed):
    """Random removal."""
    k = 0
    while k < n_remove:
        total = 0
        for r in range(sol.nroutes[0]):
            total += sol.lengths[r]
        if total == 0:
            break
        c = _pick(sol, total)
        remove_customer(inst, sol, c)
        removed[k] = c
        k += 1
    return k
'''

#: Greedy insertion under the entry point ``greedy``, with no imports of its own: it relies on
#: the evaluation preamble's names, which the exporter must add.
PREAMBLE_REPAIR = '''
def greedy(inst, sol, removed, k, penalty):
    for i in range(k):
        c = removed[i]
        r, p, _ = best_insertion(inst, sol, c, penalty)
        if r < 0:
            r = 0
            p = 0
        insert_customer(inst, sol, c, r, p)
'''


def constant_destroy(value: int) -> str:
    """A minimal destroy operator returning ``value``: distinct code (and code hash) per value."""
    return f"def destroy(inst, sol, n_remove, removed):\n    return {value}\n"


#: An LLM reply holding a good destroy/repair pair in a fenced block, with prose around it.
LLM_REPLY_PAIR = '''Here is my improved operator pair.

```python
def destroy(inst, sol, n_remove, removed):
    k = 0
    for _ in range(4 * n_remove):
        if k >= n_remove:
            break
        c = 1 + np.random.randint(inst.n)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k


def repair(inst, sol, removed, k, penalty):
    order = np.random.permutation(k)
    for i in range(k):
        c = removed[order[i]]
        r, p, delta = best_insertion(inst, sol, c, penalty)
        if r < 0:
            r = sol.nroutes[0]
            p = 0
        insert_customer(inst, sol, c, r, p)
```
'''
