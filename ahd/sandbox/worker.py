"""The warm fork-server worker: one process per pool slot, one forked child per request.

Started by :class:`ahd.sandbox.pool.SandboxPool` as ``python -c '...worker.main(...)' FD``, FD
being its end of a unix socket pair. At start it scrubs secrets from its environment, imports numpy
and numba, compiles a throwaway function (the first jit of a process is the slow one), runs the
caller's ``warmup`` and probes the isolation layers, all before anything untrusted runs. Then,
for every request, it forks a child that

1. becomes the leader of a new session (so the whole group can be killed at once),
2. points stdin at /dev/null and stdout/stderr at a capped file, closes every other inherited
   descriptor (the socket to the pool included) but the result pipe,
3. applies the isolation layers (:func:`ahd.sandbox.layers.lock_down`) and moves into a fresh
   private directory,
4. resolves the function spec, calls it, and writes ``(status, pickled value, error)`` down
   the result pipe.

The worker waits with a wall-clock deadline, reads at most ``result_bytes``, SIGKILLs the
child's process group on timeout, and classifies how the child ended. It stays single-threaded,
so forking it is safe.

This module is the worker's main loop; the steps live beside it: :mod:`ahd.sandbox.environment`
(secrets out of the environment), :mod:`ahd.sandbox.specs` (function specs, error reports),
:mod:`ahd.sandbox.prewarm` (numba compiled before forking), :mod:`ahd.sandbox.request` (fork,
wait, classify) and :mod:`ahd.sandbox.child` (the child's body). The names callers used to
import from here still can be.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import shutil
import sys
import tempfile
import traceback
from multiprocessing.connection import Connection

from ahd.sandbox.environment import (
    SECRET_PATTERNS,
    WORKER_ENV,
    is_secret,
    scrub_environ,
    scrubbed_environ,
)
from ahd.sandbox.prewarm import PREWARM_LEVELS, at_start, prewarm_numba
from ahd.sandbox.probe import probe_layers
from ahd.sandbox.records import SandboxLimits
from ahd.sandbox.request import PoolGone, reap_parked, run_inline, run_request
from ahd.sandbox.safe_pickle import allow_list
from ahd.sandbox.seccomp import prepare_seccomp
from ahd.sandbox.specs import format_error, normalize_spec, resolve_spec

__all__ = [
    "PREWARM_LEVELS",
    "SECRET_PATTERNS",
    "WORKER_ENV",
    "PoolGone",
    "format_error",
    "is_secret",
    "main",
    "normalize_spec",
    "prewarm_numba",
    "reap_parked",
    "resolve_spec",
    "run_inline",
    "run_request",
    "scrub_environ",
    "scrubbed_environ",
    "serve",
]


def _send(conn: Connection, msg: tuple) -> bool:
    """Send ``msg`` to the pool; ``False`` when the pool is gone (it was closed or killed,
    which is no error of the worker's: it then exits quietly)."""
    try:
        conn.send_bytes(pickle.dumps(msg, protocol=5))
    except OSError:
        return False
    return True


def serve(conn: Connection) -> int:
    """Answer the pool's requests on ``conn`` until it says exit or goes; the exit status."""
    config = conn.recv()  # from the pool, trusted
    scrub_environ(tuple(config.get("scrub_env", ())))
    for path in config.get("sys_path", ()):
        if path not in sys.path:
            sys.path.append(path)
    level = config.get("prewarm_numba", "basic")
    try:
        prewarm_numba(at_start(level))
        warmup = config.get("warmup")
        if warmup is not None:
            func, _ = resolve_spec(normalize_spec(warmup))
            func()
        if config.get("own_cache_dir") and "numba" in sys.modules:
            # What the warm-up compiled keeps its checked cache; functions defined from now on
            # (candidate code) cache next to their own file, as without NUMBA_CACHE_DIR.
            sys.modules["numba"].config.CACHE_DIR = ""
        probe = probe_layers()
        prepare_seccomp()
        base_dir = tempfile.mkdtemp(prefix="ahd-sandbox-")
        gc.collect()
        gc.freeze()  # children then do not copy-on-write the worker's objects when they collect
    except BaseException:  # noqa: BLE001
        _send(conn, ("failed", traceback.format_exc()))
        return 1
    allowed = allow_list(config.get("safe_globals", ()))
    readable = config.get("readable")
    readable = None if readable is None else tuple(readable)
    shared_dir = config.get("shared_dir")
    _send(conn, ("ready", {"pid": os.getpid(), "probe": probe, "base_dir": base_dir}))
    deferred = level if at_start(level) != level else None
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                return 0
            if msg[0] == "exit":
                return 0
            _, req_id, spec, args, limits_dict, active, inline, compiles = msg
            if compiles and deferred is not None:
                # The pool allows for this when it reads "busy" (see SandboxPool._on_worker).
                if not _send(conn, ("busy", req_id)):
                    return 0
                _prewarm_late(deferred)
                deferred = None
            limits = SandboxLimits(**limits_dict)
            if inline:
                record = run_inline(spec, args, limits, allowed)
            else:
                try:
                    record = run_request(
                        spec,
                        args,
                        limits,
                        frozenset(active),
                        base_dir,
                        allowed,
                        control_fd=conn.fileno(),
                        readable=readable,
                        shared_dir=shared_dir,
                    )
                except PoolGone:
                    return 0
            if not _send(conn, ("result", req_id, record)):
                return 0
    finally:
        reap_parked(block=True)
        shutil.rmtree(base_dir, ignore_errors=True)


def _prewarm_late(level: str) -> None:
    """:func:`prewarm_numba` between requests; a failure only costs children the time."""
    with contextlib.suppress(Exception):  # an optimisation: the request runs all the same
        prewarm_numba(level)
    gc.collect()
    gc.freeze()


def main(argv: list[str] | None = None) -> int:
    """A worker process's entry point: ``argv[0]`` is its end of the socket to the pool."""
    scrub_environ()  # before anything else runs in this process
    os.environ.update(WORKER_ENV)
    argv = sys.argv[1:] if argv is None else argv
    conn = Connection(int(argv[0]))
    try:
        return serve(conn)
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
