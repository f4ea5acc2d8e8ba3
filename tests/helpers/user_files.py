"""Heuristic files that misbehave, and running the real ``ahd`` command on them in a process.

``ahd solve --heuristic FILE`` and ``ahd plan --heuristic FILE`` must stop soon after their
time limit whatever the file does; the tests run the real CLI in a subprocess (the only way to
see an exit status, a hang or a stray traceback) on each file here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Runs ``ahd`` in a fresh interpreter (the console script may not be on PATH).
AHD = [sys.executable, "-c", "from ahd.cli import app; app()"]
#: Seconds a command may take beyond its time limit and grace: interpreter start, imports and
#: the sandbox worker's start (about 3 s on 2 idle cores), with room for a loaded machine.
STARTUP_MARGIN_S = 15.0

#: A well-behaved routing team (random removal, greedy insertion) like an evolved export.
ROUTING_TEAM = '''
import numpy as np

from ahd.problems.engine.state import best_insertion, insert_customer, remove_customer

PROBLEM = "cvrp"


def random_remove(inst, sol, n_remove, removed):
    k = 0
    tries = 0
    while k < n_remove and tries < 20 * inst.n:
        tries += 1
        c = np.random.randint(1, inst.n + 1)
        if sol.route_of[c] >= 0:
            remove_customer(inst, sol, c)
            removed[k] = c
            k += 1
    return k


def greedy_insert(inst, sol, removed, k, penalty):
    for i in range(k):
        c = removed[i]
        r, p, _ = best_insertion(inst, sol, c, penalty)
        insert_customer(inst, sol, c, r, p)


DESTROY = [random_remove]
REPAIR = [greedy_insert]
'''

#: The team whose destroy operator, compiled by numba, never returns.
ROUTING_NJIT_LOOP = ROUTING_TEAM.replace(
    "    tries = 0\n", "    tries = 0\n    while n_remove >= 0:\n        k += 1\n", 1
)

#: Module-level code put before :data:`ROUTING_TEAM`, per misbehaviour.
_AT_IMPORT = {
    "import_loop": "while True:\n    pass\n",
    "sleep": "import time\ntime.sleep(3600)\n",
    "stdin": "input()\n",
    "socket_wait": (
        "import socket\nserver = socket.socket()\nserver.bind(('127.0.0.1', 0))\n"
        "server.listen()\nserver.accept()\n"
    ),
    "sys_exit": "import sys\nsys.exit(0)\n",
    "os_exit": "import os\nos._exit(3)\n",
    "sigstop": "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n",
    "sigterm": "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
}

#: Routing heuristic files by misbehaviour.
ROUTING_HOSTILE = {kind: code + ROUTING_TEAM for kind, code in _AT_IMPORT.items()}
ROUTING_HOSTILE["njit_loop"] = ROUTING_NJIT_LOOP

#: A well-behaved planning heuristic: goal count.
GOALCOUNT = "def h(state, task):\n    return len(task.goal - state)\n"


def _h(body: str, imports: str = "") -> str:
    """A heuristic file whose ``h`` runs ``body`` (indented lines) and then returns 0."""
    return f"{imports}\n\ndef h(state, task):\n{body}    return 0\n"


#: Planning heuristic files by misbehaviour.
PLANNING_HOSTILE = {
    "h_loop": _h("    while True:\n        pass\n"),
    "init_loop": "def init(task):\n    while True:\n        pass\n\n\n" + GOALCOUNT,
    "import_loop": "while True:\n    pass\n\n\n" + GOALCOUNT,
    "njit_loop": (
        "from numba import njit\n\n\n@njit\ndef spin(n):\n    i = 0\n    while n >= 0:\n"
        "        i += 1\n    return i\n\n\ndef h(state, task):\n    return spin(len(state))\n"
    ),
    "sleep": _h("    time.sleep(3600)\n", "import time"),
    "stdin": _h("    input()\n"),
    "socket_wait": _h("    a, b = socket.socketpair()\n    a.recv(1)\n", "import socket"),
    "sys_exit": _h("    sys.exit(0)\n", "import sys"),
    "os_exit": _h("    os._exit(3)\n", "import os"),
    "sigstop": _h("    os.kill(os.getpid(), signal.SIGSTOP)\n", "import os\nimport signal"),
    "sigterm": _h("    os.kill(os.getpid(), signal.SIGTERM)\n", "import os\nimport signal"),
}


@dataclass
class Run:
    """How one command ended: exit status, output, wall seconds."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr_lines if line.startswith("error:")]


class Started:
    """``ahd ARGS`` running in ``cwd`` (:func:`start_ahd`): a thread starts it, once one of
    ``slots`` is free when given, collects its output and notes how long it ran, so several
    can run side by side and each is timed on its own."""

    def __init__(self, args: list[str], cwd: Path, timeout: float = 120,
                 slots: threading.Semaphore | None = None) -> None:
        self.args, self.cwd, self.timeout, self.slots = args, cwd, timeout, slots
        self.result: Run | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if self.slots is not None:
            self.slots.acquire()
        try:
            start = time.monotonic()
            proc = subprocess.Popen([*AHD, *self.args], cwd=self.cwd, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = proc.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                return
            self.result = Run(proc.returncode, out, err, time.monotonic() - start)
        finally:
            if self.slots is not None:
                self.slots.release()

    def wait(self) -> Run:
        """How it ended (an ``AssertionError`` if it outlived its timeout)."""
        self.thread.join()
        if self.result is None:
            raise AssertionError(f"ahd {' '.join(self.args)} still running after "
                                 f"{self.timeout} s")
        return self.result


def start_ahd(args: list[str], cwd: Path, timeout: float = 120) -> Started:
    """Start ``ahd ARGS`` in ``cwd``, with a standard input that stays open and empty (a file
    that reads it would wait forever if it could reach it)."""
    return Started(args, cwd, timeout)


def start_each(kinds: list[str], args: list[str], folder: Callable[[str], Path],
               at_once: int = 2) -> dict:
    """``ahd ARGS`` once per kind, each in the folder ``folder(kind)`` prepares, ``at_once``
    at a time: for cases that mostly wait (a time limit and its grace) that saves most of the
    waiting, while start-up (which the time check allows for) stays as on a loaded machine,
    not slower. Each is timed on its own (:class:`Started`)."""
    slots = threading.Semaphore(at_once)
    return {kind: Started(args, folder(kind), slots=slots) for kind in kinds}


def run_ahd(args: list[str], cwd: Path, timeout: float = 120) -> Run:
    """``ahd ARGS`` in ``cwd`` (see :func:`start_ahd`), waited for."""
    return start_ahd(args, cwd, timeout).wait()


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (read from ``/proc``)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not exited (zombies count as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@dataclass
class Interrupted:
    """A command stopped with SIGINT: how it ended, how long it took after the signal, and the
    sandbox processes it had (worker and request child)."""

    run: Run
    after_signal: float
    sandbox_pids: list[int]


def interrupt_while_user_code_runs(args: list[str], cwd: Path, wait: float = 60) -> Interrupted:
    """Start ``ahd ARGS``, wait until a sandbox request child runs (the file's code), send the
    command SIGINT as Ctrl-C would, and wait for it to end."""
    start = time.monotonic()
    proc = subprocess.Popen([*AHD, *args], cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        while time.monotonic() - start < wait and proc.poll() is None:
            workers = children(proc.pid)
            requests = [c for w in workers for c in children(w)]
            if requests:
                pids = workers + requests
                break
            time.sleep(0.05)
        assert pids, f"no sandbox child appeared within {wait} s"
        time.sleep(0.3)  # well inside the file's code
        workers = children(proc.pid)
        pids = sorted({*pids, *workers, *(c for w in workers for c in children(w))})
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        after = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return Interrupted(Run(proc.returncode, out, err, time.monotonic() - start), after, pids)
