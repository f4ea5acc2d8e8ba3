"""Running a user's own heuristic file in a killable sandbox child, under a hard deadline.

``ahd solve --heuristic FILE`` and ``ahd plan --heuristic FILE`` execute code the user wrote.
Run in the command's own process, a file that loops (at import, in ``h``, in a numba-compiled
operator), sleeps, blocks, calls ``sys.exit`` or signals itself takes the command with it: it
never returns, ignores Ctrl-C, or exits 0 with nothing printed. So the part of the work that
runs the file's code goes to a child of a one-worker :class:`~ahd.sandbox.SandboxPool` (the
machinery evolution runs candidates with), killed :data:`GRACE_S` seconds after the deadline,
and every way it can end becomes one line for the user (:func:`failure_message`). Compiling the
file's code with numba may get a budget of its own (:meth:`UserFileRunner.call_uncharged`),
since the time limits never counted first-use compilation.

The file is the user's own, so the pool is a light one: no bounds checks (the code runs as
fast as it does in process, and numba's cache beside the file stays the unchecked one that an
in-process run would load), numba's cache directory beside the file writable by the child, and
only the basic numba warm-up. It is still locked down like any candidate; what the limits are
for here is time, and the parent checks whatever comes back before it prints it.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path
from typing import Any

from ahd.sandbox import SandboxLimits, SandboxPool, SandboxResult
from ahd.sandbox.records import GiB

#: Seconds a file's code gets beyond the time limit (to import it, for the search to notice its
#: own deadline, to hand back the result) before its process is killed.
GRACE_S = 5.0
#: The least wall time a request gets, so a deadline that has just passed still reports.
MIN_WALL_S = 0.05
#: Longest message kept from the child's own error text.
MAX_DETAIL_CHARS = 300

_NO_RESULT = re.compile(r"exited with status (\d+) without a result")


class UserFileFailure(Exception):
    """The file's code misbehaved (ran too long, exited, died); the message is one line."""


def one_line(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """``text`` on one line, whitespace collapsed, cut to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def failure_message(result: SandboxResult, timeout: str) -> str:
    """What a failed sandbox request means for the user, in one line without the file's name.

    The sandbox's statuses are worded for what a user did: ``timeout`` (said as ``timeout``,
    e.g. ``"did not finish within 2s + 5s grace (killed)"``) is a file that did not finish, a
    signal is named by number and name, ``SystemExit`` is a ``sys.exit`` call and an exit
    without a result an ``os._exit``.
    """
    status, error = result.status, result.error or ""
    first = one_line(error.splitlines()[0] if error.strip() else "")
    if status == "timeout":
        return timeout
    if status == "cpu_limit":
        return f"used more CPU time than allowed ({first}) (killed)"
    if status == "memory":
        return f"ran out of memory ({first or 'MemoryError'})"
    if result.signal:
        return f"process died with signal {_signal_label(result.signal)}"
    if status in ("crashed", "killed"):
        return f"process died ({first or status})"
    if status == "output_limit":
        return f"wrote too much output ({first})"
    if status == "bad_result":
        return f"returned a malformed result ({first})"
    kind, _, message = first.partition(": ")
    if kind in ("SystemExit", "builtins.SystemExit"):
        return f"called sys.exit({message})"
    if first in ("SystemExit", "builtins.SystemExit"):
        return "called sys.exit()"
    exited = _NO_RESULT.search(first)
    if exited:
        return f"process exited with status {exited.group(1)} before returning a result"
    return f"raised {first or 'an error'}"


def _signal_label(name: str) -> str:
    """``'9 (SIGKILL)'`` for ``'SIGKILL'``; the name alone when it is not a known signal."""
    try:
        return f"{int(signal.Signals[name])} ({name})"
    except KeyError:
        return name


def memory_limit_bytes() -> int:
    """The child's address-space limit: the machine's memory (at least 2 GiB).

    Not a tuning knob: it only stops a runaway allocation before it takes the machine down.
    A file's legitimate run may need as much memory as in process.
    """
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 0
    return max(2 * GiB, int(physical))


def numba_cache_dir(file: Path) -> str | None:
    """The ``__pycache__`` beside ``file``, where numba caches the file's compiled code, if it
    exists or can be made; ``None`` otherwise (the child then compiles without caching).

    The child may write only there (and in its own directory), so a second run loads the
    compiled operators from the cache as an in-process run would.
    """
    folder = file.resolve().parent / "__pycache__"
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return str(folder) if os.access(folder, os.W_OK) else None


class UserFileRunner:
    """One warm sandbox worker for one user file, and the deadline the file's code runs under.

    Use as a context manager (the worker starts on entry and is killed on exit, Ctrl-C
    included). :meth:`start_clock` fixes the deadline; every :meth:`call` after that gets
    what is left of ``limit + grace``. Start-up (a Python process that imports numpy and numba
    and runs ``warmup``, 1-2 s) is not charged to the file.

    Parameters
    ----------
    file
        The user's file (named in messages as given).
    warmup
        ``"module:qualname"`` run in the worker before any request, e.g. loading the engine's
        compiled code so that the child only compiles the file's own.
    limit
        The command's time limit in seconds (named in the timeout message).
    grace
        Seconds beyond ``limit`` before the child is killed.
    """

    def __init__(self, file: Path, warmup: str, limit: float, grace: float = GRACE_S):
        self.file, self.warmup, self.limit, self.grace = file, warmup, limit, grace
        self.deadline: float | None = None
        self.output = ""
        self._pool: SandboxPool | None = None

    def __enter__(self) -> UserFileRunner:
        self._pool = SandboxPool(
            1, warmup=self.warmup, prewarm_numba="basic", boundscheck=False,
            allow_unsandboxed=True, shared_dir=numba_cache_dir(self.file),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.close()

    @property
    def warning(self) -> str | None:
        """A line for the user where no killable child can be had (no ``fork``): the deadline
        is then not enforced and the file runs as it would in process; else ``None``."""
        if self._pool is None or self._pool.sandboxed:
            return None
        return f"warning: no sandbox here; {self.file} runs without its time limit enforced"

    def start_clock(self, deadline: float | None = None) -> float:
        """Fix the deadline (``time.monotonic()`` value; default: ``limit`` from now) before
        which the file's work must end; the child is killed ``grace`` seconds after it."""
        self.deadline = time.monotonic() + self.limit if deadline is None else deadline
        return self.deadline

    def call(self, func: str, *args: Any) -> Any:
        """``func(*args)`` (``"module:qualname"``) in a sandbox child, killed ``grace`` seconds
        after the deadline (fixed now if :meth:`start_clock` was not called); its return value.

        Raises
        ------
        UserFileFailure
            The child did not return: it ran past the deadline and grace, exited, died, or
            returned something that is not plain data. The child's output is kept in
            :attr:`output` either way.
        """
        deadline = self.start_clock() if self.deadline is None else self.deadline
        timeout = f"did not finish within {self.limit:g}s + {self.grace:g}s grace (killed)"
        return self._run(func, args, deadline + self.grace - time.monotonic(), timeout)

    def call_uncharged(self, doing: str, budget: float, func: str, *args: Any) -> Any:
        """:meth:`call` with ``budget`` seconds of its own that the time limit does not count:
        the deadline moves by the time the call took. For numba's compilation of the file's
        code, which the commands never charged to their time limit either. ``doing`` names the
        work in the timeout message (``"compiling its operators"``)."""
        start = time.monotonic()
        try:
            return self._run(func, args, budget,
                             f"did not finish {doing} within {budget:g}s (killed)")
        finally:
            if self.deadline is not None:
                self.deadline += time.monotonic() - start

    def _run(self, func: str, args: tuple, wall: float, timeout: str) -> Any:
        if self._pool is None:
            raise RuntimeError("UserFileRunner is not started; use it in a with block")
        limits = SandboxLimits(wall_time=max(wall, MIN_WALL_S), memory_bytes=memory_limit_bytes())
        result = self._pool.run(func, args, limits)
        self.output = result.output_tail
        if not result.ok:
            raise UserFileFailure(f"heuristic file {self.file}: {failure_message(result, timeout)}")
        return result.value
