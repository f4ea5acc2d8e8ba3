"""Operator sources for the soak (``soak.py``): good ones and hostile ones, and the proposer.

A soak is only worth running if the candidates are as bad as real proposals get: code that
never returns, asks for gigabytes, crashes, tries to leave the process, floods its output or
takes longer to compile than to run. :class:`SoakProposer` cycles through those kinds and good
operators (the project's own GP proposer, and two hand-written operators), so an hour of it
shows whether any of them leaks memory, processes, descriptors or temporary files in the loop
or the sandbox. Every source carries a serial number, so no two are the same candidate (a
duplicate would be skipped before the sandbox and test nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from ahd.candidate import Origin
from ahd.proposers.base import Proposal, ProposalRequest

HEADER = """import numpy as np
from ahd.problems.engine.state import best_insertion, insert_customer, remove_customer
"""

GOOD_DESTROY = """
def destroy(inst, sol, n_remove, removed):
    # soak {n}
    k = 0
    for _ in range({tries} * n_remove):
        if k >= n_remove:
            break
        c = 1 + np.random.randint(inst.n)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k
"""

GOOD_REPAIR = """
def repair(inst, sol, removed, k, penalty):
    # soak {n}
    order = np.random.permutation(k)
    for i in range(k):
        c = removed[order[i]]
        r, p, delta = best_insertion(inst, sol, c, penalty * {scale})
        if r < 0:
            r = sol.nroutes[0]
            p = 0
        insert_customer(inst, sol, c, r, p)
"""

#: Hostile destroy bodies by kind; ``{n}`` makes each one a new candidate.
HOSTILE: dict[str, str] = {
    # A loop that never ends (compiled: no signal can interrupt it, only a kill).
    "infinite_loop": """
{sig}:
    i = {n}
    while i >= 0:
        i = (i + {m}) % 1000003
    {ret}
""",
    # 8 GB at once: RLIMIT_AS refuses it (MemoryError) or the child dies.
    "huge_allocation": """
{sig}:
    big = np.ones(8 * 10**9 + {n}, dtype=np.uint8)
    removed[0] = big[0]
    {ret}
""",
    # An exception from compiled code.
    "crash": """
{sig}:
    if {m} >= 0:
        raise ValueError("soak crash {n}")
    {ret}
""",
    # An out-of-bounds write (bounds checking turns it into an IndexError).
    "out_of_bounds": """
{sig}:
    removed[10**9 + {n}] = 1
    {ret}
""",
    # Leaving the process: refused by the static check before any sandbox.
    "sys_exit": """
import sys


{sig}:
    sys.exit({n})
    {ret}
""",
    # 100 MB and more of output: RLIMIT_FSIZE stops it.
    "output_flood": """
{sig}:
    for i in range(10**7):
        print("flood flood flood flood flood flood flood flood flood flood", i, {n})
    {ret}
""",
}


def slow_compile(sig: str, m: str, ret: str, n: int, lines: int = 1500) -> str:
    """An operator of ``lines`` straight-line statements: numba takes tens of seconds to
    compile it (past a short sandbox wall time)."""
    body = "\n".join(f"    x = x * 1.0000{i % 7 + 1} + {i + n}.0 - {m}" for i in range(lines))
    return f"\n{sig}:\n    x = 0.0\n{body}\n    if x > 0.0:\n        removed[0] = 0\n    {ret}\n"


#: Per role: the signature, an integer parameter, and how the function returns.
SIGNATURES = {
    "destroy": ("def destroy(inst, sol, n_remove, removed)", "n_remove", "return 0"),
    "repair": ("def repair(inst, sol, removed, k, penalty)", "k", "return"),
}


#: The cycle of kinds: good ones between hostile ones, so the loop always has work to score.
KINDS = ("gp", "infinite_loop", "good", "huge_allocation", "gp", "crash", "good", "sys_exit",
         "gp", "output_flood", "good", "out_of_bounds", "gp", "slow_compile")


class SoakProposer:
    """A proposer (``proposer(requests, rng)``, ``fix``, ``name``) cycling through :data:`KINDS`.

    ``gp`` delegates to ``gp`` (the task's offline GP proposer); the others are sources from
    this module. Thread-safe: the serial number is taken under a lock.
    """

    name = "soak"

    def __init__(self, gp: Callable[[list[ProposalRequest], np.random.Generator], list[Proposal]],
                 kinds: tuple[str, ...] = KINDS):
        self.gp, self.kinds = gp, kinds
        self.counts: dict[str, int] = {}
        self._n = 0
        self._lock = threading.Lock()

    def __call__(self, requests: list[ProposalRequest], rng: np.random.Generator
                 ) -> list[Proposal]:
        return [self._one(req, rng) for req in requests]

    def fix(self, proposal: Proposal, error: str) -> Proposal | None:
        return None

    def _one(self, req: ProposalRequest, rng: np.random.Generator) -> Proposal:
        with self._lock:
            n = self._n
            self._n += 1
            kind = self.kinds[n % len(self.kinds)]
            self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "gp":
            return self.gp([req], rng)[0]
        parts = [HEADER]
        for i, role in enumerate(req.roles):
            if i == 0 and kind != "good":  # the first role is hostile, the others good
                sig, m, ret = SIGNATURES[role]
                parts.append(slow_compile(sig, m, ret, n) if kind == "slow_compile"
                             else HOSTILE[kind].format(sig=sig, m=m, ret=ret, n=n))
            elif role == "destroy":
                parts.append(GOOD_DESTROY.format(n=n, tries=2 + n % 5))
            else:
                parts.append(GOOD_REPAIR.format(n=n, scale=1 + (n % 3)))
        return Proposal(req, "\n".join(parts), Origin("soak", strategy=kind))
