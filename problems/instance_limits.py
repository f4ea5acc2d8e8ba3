"""What an instance file may ask of this machine and of float64 costs, checked before the work.

A downloaded or hand-edited instance can be well formed and still unusable: a ``DIMENSION``
whose ``n x n`` distance matrix does not fit in memory (numpy would either fail deep inside a
distance function or push the machine into swap for minutes before the kernel kills the
command), or coordinates so large that distances overflow to ``inf`` or past the range where
float64 route costs stay exact integers (the engine would then compare meaningless costs and
report "no feasible solution"). These checks turn each into one line the reader raises as an
:class:`~ahd.problems.format_error.InstanceFormatError`, before anything big is allocated.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = [
    "COORDINATE_BYTES_PER_NODE", "EXACT_COST_LIMIT", "MATRIX_PEAK_FACTOR", "available_memory",
    "coordinate_memory_problem", "distance_bound_problem", "distance_problem",
    "file_size_problem", "format_bytes", "matrix_memory_problem",
]

#: Route costs are sums of up to ``m`` distances in float64: beyond 2**53 integer-valued
#: (rounded TSPLIB) costs are no longer exact and two different tours can compare equal.
EXACT_COST_LIMIT = float(2**53)
#: Distance matrices alive at the same time while one is built and handed to a solver
#: (the pairwise coordinate differences, the rounded copy, the engine's or sandbox's copy).
MATRIX_PEAK_FACTOR = 3
#: Bytes per node an instance solved without a matrix needs at peak (neighbour lists with
#: their distances while they are built, solutions and search arrays), rounded up.
COORDINATE_BYTES_PER_NODE = 4096


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units with three significant digits (``74.5 GiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover - the loop always returns


def _cgroup_headroom() -> int | None:
    """Bytes this process's cgroup (v2) may still use, when it has a limit."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int | None:
    """Bytes of memory a new allocation can get without swapping; ``None`` if unknown.

    ``psutil``'s estimate when it is installed, else ``MemAvailable`` from ``/proc/meminfo``,
    else the free pages ``os.sysconf`` reports; capped by a cgroup limit (containers, CI).
    """
    found: int | None = None
    try:
        import psutil

        found = int(psutil.virtual_memory().available)
    except Exception:  # not installed, or no /proc in a sandbox
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
        except (OSError, ValueError, IndexError):
            pass
        if found is None:
            try:
                found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError, AttributeError):
                found = None
    headroom = _cgroup_headroom()
    if headroom is not None:
        found = headroom if found is None else min(found, headroom)
    return found


def _short_of(need: float, available: int | None) -> int | None:
    """The bytes available when ``need`` exceeds them, else ``None`` (unknown: allowed)."""
    if available is None:
        available = available_memory()
    return None if available is None or need <= available else available


def matrix_memory_problem(m: int, available: int | None = None) -> str | None:
    """Why an ``m x m`` float64 distance matrix cannot be built here, or ``None`` if it can.

    The caller names what asked for ``m`` nodes (a file's ``DIMENSION``, ``--generate``).

    Parameters
    ----------
    m
        Nodes (``DIMENSION``).
    available
        Bytes of free memory; by default :func:`available_memory` (unknown means: allowed).
    """
    matrix = 8.0 * m * m
    peak = MATRIX_PEAK_FACTOR * matrix
    available = _short_of(peak, available)
    if available is None:
        return None
    return (f"the {m} x {m} distance matrix needs {format_bytes(matrix)} (about "
            f"{format_bytes(peak)} while it is built and solved), but only "
            f"{format_bytes(available)} of memory is available")


def file_size_problem(size: int, available: int | None = None) -> str | None:
    """Why a file of ``size`` bytes cannot be read into memory here, or ``None``."""
    available = _short_of(size, available)
    if available is None:
        return None
    return (f"file is {format_bytes(size)}, more than the {format_bytes(available)} of memory "
            "available to read it")


def distance_bound_problem(largest: float, m: int) -> str | None:
    """Why distances up to ``largest`` over ``m`` nodes cannot be solved with float64 costs.

    Non-finite means the coordinates overflowed (``1e200`` squared is ``inf``); a largest
    distance that times ``m`` (edges in a tour) passes :data:`EXACT_COST_LIMIT` means costs
    the solver adds up are no longer exact.
    """
    if not math.isfinite(largest):
        return "coordinates too large: distances overflow to infinity"
    bound = largest * m
    if bound > EXACT_COST_LIMIT:
        return (f"distances too large: the largest is {largest:.3g}, so a route cost could "
                f"reach {bound:.3g}, past 2^53 = {EXACT_COST_LIMIT:.3g} where float64 costs "
                "stop being exact")
    return None


def distance_problem(dist: np.ndarray) -> str | None:
    """Why the matrix ``dist`` cannot be solved with float64 costs, or ``None``."""
    if dist.size == 0:
        return None
    if not np.all(np.isfinite(dist)):
        return distance_bound_problem(math.inf, dist.shape[0])
    return distance_bound_problem(float(dist.max()), dist.shape[0])


def coordinate_memory_problem(m: int, available: int | None = None) -> str | None:
    """Why an ``m``-node instance without a matrix cannot be solved here, or ``None``.

    What grows with ``m`` then: coordinates, demands, the 40 neighbours of each node, and
    the solution and search arrays, about :data:`COORDINATE_BYTES_PER_NODE` bytes a node.
    """
    need = COORDINATE_BYTES_PER_NODE * m
    available = _short_of(need, available)
    if available is None:
        return None
    return (f"{m} nodes need about {format_bytes(need)} even without a distance matrix, but "
            f"only {format_bytes(available)} of memory is available")
