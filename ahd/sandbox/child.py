"""The forked child's side of a request: lock down, call the function, report, park.

:func:`run_child` is the body of a child the worker forks for each request (see
:mod:`ahd.sandbox.worker` for the steps). It only makes system calls and runs code imported
before the fork: the child reports ``(status, pickled value, error)`` down a pipe as one
length-prefixed frame (:func:`unframe` reads it back in the worker) and never returns.
:func:`call_spec` is the part that calls the function; :func:`ahd.sandbox.request.run_inline`
uses it without a fork.
"""

from __future__ import annotations

import errno
import faulthandler
import os
import pickle
import signal
import struct
import sys
import tempfile

from ahd.sandbox import layers as L
from ahd.sandbox.records import SandboxLimits
from ahd.sandbox.specs import format_error, resolve_spec


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


_HEADER = struct.Struct("<Q")


def _frame(message: tuple) -> bytes:
    body = pickle.dumps(message, protocol=5)
    return _HEADER.pack(len(body)) + body


def unframe(data: bytes) -> bytes | None:
    """The message body when ``data`` is exactly one whole frame, else None."""
    if len(data) < _HEADER.size:
        return None
    (n,) = _HEADER.unpack_from(data)
    return data[_HEADER.size :] if len(data) == _HEADER.size + n else None


def flush_std() -> None:
    """Flush Python's stdout and stderr, ignoring a full or closed output file."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - EFBIG at the output cap, or a closed stream
            pass


def call_spec(spec: tuple[str, str, str], args: tuple, result_bytes: int) -> tuple[str, bytes, str]:
    """Call the function ``spec`` names; ``(status, pickled value, error)``, never raises."""
    candidate_file = None
    try:
        func, candidate_file = resolve_spec(spec)
        value = func(*args)
    except MemoryError as exc:
        return "memory", b"", format_error(exc, candidate_file) or "MemoryError"
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
        status = "error"
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            status = "output_limit"
        return status, b"", format_error(exc, candidate_file)
    try:
        payload = pickle.dumps(value, protocol=5)
    except BaseException as exc:  # noqa: BLE001
        return "bad_result", b"", f"return value cannot be pickled: {type(exc).__name__}: {exc}"
    if len(payload) > result_bytes:
        return "bad_result", b"", f"pickled result is {len(payload)} bytes, over {result_bytes}"
    return "ok", payload, ""


def _tolerate_cache_writes() -> None:
    """Let numba compile without saving to its on-disk cache when the sandbox forbids it.

    A child may need a specialisation the worker's warm-up did not cover; numba then tries to
    write the cache file next to the (read-only, after Landlock) source and raises
    ``PermissionError``, failing a perfectly good evaluation. The compiled code is only lost
    to later children, who compile it again.
    """
    caching = sys.modules.get("numba.core.caching")
    if caching is None or getattr(caching.Cache.save_overload, "_ahd_tolerant", False):
        return
    original = caching.Cache.save_overload

    def save_overload(self, sig, data):
        try:
            original(self, sig, data)
        except OSError:
            pass

    save_overload._ahd_tolerant = True
    caching.Cache.save_overload = save_overload


def run_child(
    spec,
    args,
    limits: SandboxLimits,
    active: frozenset[str],
    workdir: str,
    out_fd: int,
    res_w: int,
    worker_pid: int,
    readable: tuple[str, ...] | None,
    shared_dir: str | None = None,
) -> None:
    """Body of the forked child. Never returns."""
    try:
        try:
            os.setsid()
            L.prctl(L.PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != worker_pid:  # the worker died between fork and prctl
                os._exit(0)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            os.closerange(3, res_w)
            os.closerange(res_w + 1, 1 << 20)
            faulthandler.enable(file=sys.stderr)
            child_limits = L.ChildLimits(
                memory_bytes=limits.memory_bytes,
                cpu_seconds=limits.cpu_seconds,
                file_bytes=limits.output_bytes,
                processes=0,
            )
            L.lock_down(
                active, workdir, child_limits, limits.tmpfs_bytes, readable, shared_dir
            )
            os.environ.update(HOME=workdir, TMPDIR=workdir)
            tempfile.tempdir = workdir
            _tolerate_cache_writes()
            sys.dont_write_bytecode = True
        except BaseException as exc:  # noqa: BLE001
            _write_all(res_w, _frame(("setup_error", b"", f"sandbox setup failed: {exc!r}")))
            os._exit(70)
        status, payload, info = call_spec(spec, args, limits.result_bytes)
        flush_std()
        _write_all(res_w, _frame((status, payload, info)))
        # Park instead of exiting: the worker reads our CPU time and peak memory from /proc,
        # answers the pool, and only then SIGKILLs us, so tearing down this process's copy
        # of the worker's memory is not on the request's critical path.
        os.close(res_w)
        while True:
            signal.pause()
    except BaseException:  # noqa: BLE001 - e.g. EPIPE when the worker stopped reading
        os._exit(71)
