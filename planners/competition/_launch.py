"""Set a run's process limits, then exec the planner: ``python -I -S _launch.py AS PPID -- CMD``.

The evaluator starts runs from worker threads, where a ``preexec_fn`` is unsafe (the forked
child may deadlock on a lock another thread held). This tiny script does the same work after
a clean exec instead: it sets ``RLIMIT_AS`` (``AS`` bytes; 0 for none) and no core dumps, asks
for SIGKILL when its parent dies (``PR_SET_PDEATHSIG`` survives exec, so killing the evaluator
kills its runs), and checks that the parent ``PPID`` is still alive (it could have died before
the request). It imports only the standard library and is run as a file, not as a module of
the package, so it costs a bare interpreter start (tens of milliseconds), not numba's import.
"""

import ctypes
import os
import resource
import signal
import sys


def wrap(command: list[str], memory_bytes: int | None = None) -> list[str]:
    """``command`` prefixed with this launcher, for a child of the calling process."""
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), str(memory_bytes or 0),
            str(os.getpid()), "--", *command]


def main(argv: list[str]) -> None:
    """Apply the limits and replace this process with the command after ``--``."""
    limit, parent, sep, *command = argv
    if sep != "--" or not command:
        sys.exit("usage: _launch.py AS_BYTES PARENT_PID -- COMMAND ...")
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != int(parent):
        sys.exit(1)  # the evaluator is gone already
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if int(limit) > 0:
        resource.setrlimit(resource.RLIMIT_AS, (int(limit), int(limit)))
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.exit(f"cannot start {command[0]}: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
