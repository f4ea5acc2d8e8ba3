"""Start one planner process under a run's time and memory limits and measure how it ended.

Used wherever a run executes: by the local runner (:mod:`.runner`) in its worker threads, and
by a dask worker (:mod:`.remote`), so a run is limited and measured the same way on every
machine.

Each run is its own process group (``start_new_session``), started through a tiny launcher
(:mod:`._launch`) that sets ``RLIMIT_AS`` and a parent-death signal (so killing the process that
started the run kills the run) and then execs the planner; a ``preexec_fn`` would do the same
but is unsafe with the threads that start runs. A timer kills the whole group at the time limit
plus the grace period; the exit status and resource usage come from ``os.wait4``, whose
``ru_maxrss`` covers the process and every descendant it waited for (Fast Downward's driver
waits for its translator and search), so the peak memory is measured the same way for every
planner.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ._launch import wrap
from .planner_base import Limits

__all__ = ["ActiveRuns", "ProcessResult", "child_env", "kill_group", "spawn"]


@dataclass(frozen=True)
class ProcessResult:
    """A finished planner process as the runner saw it.

    Attributes
    ----------
    returncode : int
        Exit code (negative: killed by that signal).
    wall, cpu : float
        Wall-clock seconds from start to exit; user plus system CPU seconds of the process and
        the descendants it waited for.
    peak_mb : float
        Peak resident memory in MiB (the largest of the process and its waited-for children).
    killed : bool
        Whether the runner killed it at the time limit plus grace.
    """

    returncode: int
    wall: float
    cpu: float
    peak_mb: float
    killed: bool


class ActiveRuns:
    """Process groups in flight, so an interrupted evaluation can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self.stopping = False

    def add(self, pid: int) -> None:
        with self._lock:
            self._pids.add(pid)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._pids.discard(pid)

    def kill_all(self) -> None:
        """Kill every group in flight and mark the evaluation as stopping."""
        with self._lock:
            self.stopping = True
            for pid in self._pids:
                kill_group(pid)


def kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads; a group that is gone already is fine."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """Fixed string hashing (pyperplan's tie-breaking depends on it) and one thread."""
    env = dict(os.environ)
    env.update(PYTHONHASHSEED="0", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    return env


def spawn(argv: Sequence[str], workdir: Path, env: dict[str, str], limits: Limits,
          active: ActiveRuns | None = None) -> ProcessResult:
    """Run ``argv`` in ``workdir`` (its output to ``workdir/log.txt``) under ``limits``.

    Raises
    ------
    OSError
        When the launcher itself cannot be started.
    """
    memory = None if limits.memory_mb is None else int(limits.memory_mb * 1024 * 1024)
    killed = threading.Event()
    with open(workdir / "log.txt", "wb") as log:
        start = time.monotonic()
        proc = subprocess.Popen(
            wrap(list(argv), memory), cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=child_env(env), start_new_session=True,
        )
    if active is not None:
        active.add(proc.pid)

    def kill() -> None:
        killed.set()
        kill_group(proc.pid)

    timer = threading.Timer(limits.time + limits.grace, kill)
    timer.daemon = True
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    kill_group(proc.pid)  # leftovers of the group (a grandchild its parent did not wait for)
    if active is not None:
        active.discard(proc.pid)
    return ProcessResult(proc.returncode, wall, usage.ru_utime + usage.ru_stime,
                         usage.ru_maxrss / 1024.0, killed.is_set())
