"""Compile numba's on-disk caches once, before the test processes start.

A fresh clone (CI's) has no compiled code. Without this, every process that reaches the
routing engine or the planner's kernels first compiles them itself: both xdist workers, and
each sandbox worker of every pool started before some process finished writing the cache,
once for the trusted cache and once for the bounds-checked one sandbox workers use
(:func:`ahd.sandbox.environment.checked_cache_dir`). Two processes, one per kind of cache,
compile everything once, side by side, and every later process loads it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

#: What a test session compiles first: the engine with every seed and improvement operator
#: (the sandbox workers' warm-up) and every planner kernel.
_WARM = ("from ahd.problems.child import warm_engine; warm_engine(); "
         "from ahd.planners.warmup import warm_up; warm_up()")


def warm_numba_caches(timeout: float = 1200) -> str:
    """Fill the trusted and the bounds-checked cache; one line saying how long it took (or
    what failed: the tests that need the code then compile it, and report any error)."""
    from ahd.sandbox.environment import WORKER_ENV, checked_cache_dir

    env = {k: v for k, v in os.environ.items() if k != "NUMBA_BOUNDSCHECK"} | WORKER_ENV
    checked = {**env, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": checked_cache_dir()}
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-c", _WARM], env=e, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for e in (env, checked)]
    failed = []
    for proc, kind in zip(procs, ("trusted", "bounds-checked"), strict=True):
        try:
            _, err = proc.communicate(timeout=max(1.0, timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            failed.append(f"{kind}: timed out")
            continue
        if proc.returncode != 0:
            last = (err.strip().splitlines() or [""])[-1]
            failed.append(f"{kind}: exit {proc.returncode}: {last}")
    took = time.monotonic() - start
    if failed:
        return f"numba caches: warming failed after {took:.0f} s ({'; '.join(failed)})"
    return f"numba caches warmed in {took:.0f} s (trusted and bounds-checked, side by side)"
