"""The pool's handle on one worker process: start it, talk to it, stop or kill it.

A :class:`WorkerHandle` owns the worker's process and its end of the unix socket pair; it knows
how a worker starts (``python -c`` running :func:`ahd.sandbox.worker.main` in a session of its
own, so Ctrl-C in the terminal does not reach it), how to tell that it is ready, and how to
clean up after it. Which request goes to which worker, and what to do when one dies, is the
pool's business (:class:`ahd.sandbox.pool.SandboxPool`).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler

from ahd.sandbox.records import SandboxUnavailable
from ahd.sandbox.safe_pickle import plain_loads

_WORKER_MAIN = "import sys; from ahd.sandbox.worker import main; sys.exit(main(sys.argv[1:]))"


class WorkerHandle:
    """One worker process and the socket to it."""

    def __init__(self, config: dict, env: dict[str, str]):
        self.config, self.env = config, env
        self.proc: subprocess.Popen | None = None
        self.conn: Connection | None = None
        self.info: dict = {}

    @property
    def pid(self) -> int | None:
        """The worker's process id; ``None`` while no process runs."""
        return self.proc.pid if self.proc else None

    def launch(self) -> None:
        """Start the process and send it its configuration (without waiting for it)."""
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _WORKER_MAIN, str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                env=self.env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # Ctrl-C in the terminal is the pool's business
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(self.config)

    def wait_ready(self, timeout: float) -> None:
        """Wait for the worker's ``ready``; kill it and raise when it fails or takes too long."""
        assert self.conn is not None
        if not self.conn.poll(timeout):
            self.kill()
            raise SandboxUnavailable(f"sandbox worker did not start within {timeout:g} s")
        try:
            kind, info = plain_loads(self.conn.recv_bytes())
        except (EOFError, OSError) as exc:
            code = self.proc.wait() if self.proc else None
            self.kill()
            raise SandboxUnavailable(f"sandbox worker exited during start ({code})") from exc
        if kind != "ready":
            self.kill()
            raise RuntimeError(f"sandbox worker failed to start:\n{info}")
        self.info = info

    def start(self, timeout: float) -> None:
        """:meth:`launch`, then :meth:`wait_ready`."""
        self.launch()
        self.wait_ready(timeout)

    def kill(self) -> None:
        """SIGKILL the process, close the socket and remove the worker's directory."""
        if self.proc is not None:
            with contextlib.suppress(OSError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=10)
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
        if self.info.get("base_dir"):
            shutil.rmtree(self.info["base_dir"], ignore_errors=True)
        self.proc, self.conn, self.info = None, None, {}

    def stop(self, timeout: float = 2.0) -> None:
        """Ask politely, then kill."""
        if self.conn is not None and self.proc is not None:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send_bytes(ForkingPickler.dumps(("exit",)))
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.kill()

    def death_note(self) -> str:
        """A one-line account of a worker that died, with its exit status."""
        code = None
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self.proc.wait(timeout=5)
        return f"sandbox worker {self.pid} died (exit status {code})"
