"""A first run's compilation on two cores: operators in a forked child, the engine here.

Why: numba compiles the LNS loop, its local search and every seed operator one function after
another the first time they run, about 32 s for ``ahd solve`` on a 5-customer instance on the
reference machine, almost all of it before the search starts. The operators and the loop are
independent (operators are first-class functions of a fixed signature, see
:mod:`.signatures`), so a forked child can compile the operators into numba's on-disk cache
while this process compiles the loop on a tiny operator pair and then the operators the child
has not reached; this process loads the child's operators from the cache instead of compiling
them (``benchmarks/cold_start.py`` measures the result).

Nothing here changes what a run computes: the child only fills the cache, and a child that
fails or is killed leaves this process to compile what is missing, as before. It is skipped
where it cannot help: operators already cached, one CPU, no ``fork``, numba disabled.
"""

from __future__ import annotations

import inspect
import os
import signal
from pathlib import Path

import numba
import numpy as np

from ..instance import with_distances
from ..problem import get_problem
from .config import LNSConfig


def noop_destroy(inst, sol, n_remove, removed):
    """Removes nothing: the operator pair the loop is compiled with while the real operators
    compile in the child."""
    return 0


def noop_repair(inst, sol, removed, k, penalty):
    """Inserts nothing (:func:`noop_destroy` removed nothing)."""
    return None


def operators_cached() -> bool:
    """Whether the cache numba reads in this process holds compiled operators (then a first
    run is not a cold one). With ``NUMBA_CACHE_DIR`` set numba reads only that folder, so code
    cached beside the sources does not count."""
    from ahd.numba_cache import cache_dirs

    root = Path(__file__).resolve().parents[1]
    return any(cache_dirs(root, "operators")[-1].glob("*.nbi"))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: a batch job's share, not the node's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worth_forking() -> bool:
    """A child helps only when it can run beside this process on a cold cache
    (``AHD_PARALLEL_COMPILE=0`` turns it off)."""
    return (hasattr(os, "fork") and usable_cpus() >= 2
            and os.environ.get("AHD_PARALLEL_COMPILE", "1") != "0"
            and not numba.config.DISABLE_JIT and not operators_cached())


def _source_size(func) -> int:
    try:
        return len(inspect.getsource(func))
    except (OSError, TypeError):
        return 0


def compile_in_parallel(problem: str, pools: dict[str, list],
                        layout: str = "matrix") -> int | None:
    """Compile ``pools`` (role -> :class:`~.lns.Operator` records) in a forked child while
    this process compiles the search loop on a tiny instance of ``problem`` (every instance
    record has the same numba types, so the loop is then compiled for any size).

    The two share the operators from both ends of one list: the child takes them from the
    front from the start, this process from the back once the loop is compiled, so neither
    waits long for the other whatever the operators cost. Returns how many operators the child
    compiled (0 when it failed, or this process took them all), or ``None`` when no child ran.
    Call it before the first search of a process, while no other thread compiles (a fork
    copies only the calling thread). ``layout`` is the distance layout the run will use
    (see :data:`.signatures.LAYOUTS`).
    """
    if not worth_forking():
        return None
    import multiprocessing

    from .lns import compile_pool, run_lns

    # Largest first (source size stands in for compile time): the child starts on the costly
    # ones, and whichever side finishes last is held up by a small operator, not a big one.
    work = sorted(((role, op) for role, ops in pools.items() for op in ops),
                  key=lambda item: -_source_size(item[1].func))
    # claims[0]: the next operator from the front (child), claims[1]: from the back (here)
    claims = multiprocessing.get_context("fork").Array("q", [0, len(work) - 1])

    def claim(front: bool) -> int | None:
        with claims.get_lock():
            if claims[0] > claims[1]:
                return None
            i = claims[0] if front else claims[1]
            claims[0 if front else 1] += 1 if front else -1
            return i

    pid = os.fork()
    if pid == 0:  # the child: fill numba's cache, never return into the caller's code
        code = 1
        try:
            while (i := claim(front=True)) is not None:
                compile_pool([work[i][1]], work[i][0], {}, layout)
            code = 0
        finally:
            os._exit(code)
    try:
        tiny = with_distances(get_problem(problem).generate(5, np.random.default_rng(0)), layout)
        run_lns(tiny, LNSConfig(iterations=1, seed=0),
                destroy=[noop_destroy], repair=[noop_repair])
        while (i := claim(front=False)) is not None:
            compile_pool([work[i][1]], work[i][0], {}, layout)  # memoised for the next run
        _, status = os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C or a failure here: the child must not outlive us
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        raise
    return claims[0] if os.waitstatus_to_exitcode(status) == 0 else 0
