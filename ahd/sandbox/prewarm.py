"""Compiling numba code in the worker once, so that forked children find it compiled.

A child starts from its worker's memory every time, so whatever the worker compiled before
forking costs the child nothing; see :func:`prewarm_numba` for what is worth compiling and
what it saves, and :func:`at_start` for what a worker compiles before it says it is ready.
"""

from __future__ import annotations

PREWARM_LEVELS = ("none", "basic", "operators")
_done: list[str] = []


def compiled_levels() -> tuple[str, ...]:
    """The levels this process (and so a child forked from it) has compiled, in order."""
    return tuple(_done)


def _prewarm_operators(np, numba, math):  # noqa: ANN001 - modules passed in, imported lazily
    """Typical LNS-operator features, compiled once so every child finds them compiled."""

    @numba.njit(cache=False)
    def _operators(n, seed):
        np.random.seed(seed)
        a = np.empty(n, dtype=np.int64)
        for i in range(n):
            a[i] = np.random.randint(0, n)
        b = np.zeros(n, dtype=np.float64)
        b[0] = np.random.random() + np.random.rand()
        keep = np.ones(n, dtype=np.bool_)
        keep[0] = False
        kept = a[keep]
        picked = b[kept]
        b[1:] = b[:-1]
        a[:2] = kept[:2]
        order = np.argsort(b)
        s = b.copy()
        s.sort()
        perm = np.random.permutation(n)
        np.random.shuffle(perm)
        full = np.full(n, np.inf)
        both = np.concatenate((kept, perm))
        d = np.zeros((n, n))
        d[0, 1] = math.sqrt(abs(b[0]))
        lst = [0]
        lst.append(int(np.argmin(b)) + int(np.argmax(b)))
        return (
            picked.sum()
            + order[0]
            + s[0]
            + full.min()
            + both.max()
            + d[0, 1]
            + len(lst)
            + a.sum()
            + b.max()
        )

    _operators(8, 1)


def at_start(level: str) -> str:
    """The part of ``level`` a worker compiles before it is ready.

    ``"operators"`` waits for the first request that may compile candidate code (see
    :meth:`ahd.sandbox.pool.SandboxPool.submit`): its 10-20 s buy nothing for a run that
    only scores built-in code, resumes on candidates already in numba's disk cache, or stops
    at its first LLM call (a wrong key or model is then reported 10-20 s sooner).
    """
    return "basic" if level == "operators" else level


def prewarm_numba(level: str = "basic") -> None:
    """Compile throwaway functions so that children forked afterwards do not pay for it.

    A process's first jit costs 1.5-3 s (``"basic"`` pays it). Beyond that, numba compiles its
    own implementation of a numpy feature the first time a process uses it: measured on 2 cores,
    slice assignment cost 8 s the first time and 1 s after, ``argsort`` 4 s / 0.6 s, boolean
    masks 1.8 s / 0.4 s. A forked child starts from the worker's state every time, so
    ``"operators"`` compiles those common features once in the worker (10-20 s at start) and a
    45-line destroy/repair candidate then compiles in about 2 s instead of 8 s.
    """
    if level not in PREWARM_LEVELS:
        raise ValueError(f"prewarm level must be one of {PREWARM_LEVELS}, not {level!r}")
    if level == "none":
        return
    try:
        import math

        import numba
        import numpy as np
    except ImportError:
        return

    @numba.njit(cache=False)
    def _sum(a):
        s = 0.0
        for x in a:
            s += x
        return s

    _sum(np.arange(3.0))
    if level == "operators":
        _prewarm_operators(np, numba, math)
    _done.append(level)
