"""A pool of warm fork-server workers that run untrusted functions in killable children.

Example::

    with SandboxPool(2, limits=SandboxLimits(wall_time=5)) as pool:
        results = pool.map([("math:factorial", (5,)), (("source", code, "run"), ())])

Threads in this process only wait on the workers' sockets; every candidate runs in a child
forked from a worker (see :mod:`ahd.sandbox.worker`). A worker that dies is started again and
its request reported as ``"crashed"``.
Each worker process is driven through a :class:`~ahd.sandbox.handle.WorkerHandle`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.reduction import ForkingPickler
from typing import Any

from ahd.sandbox.environment import WORKER_ENV, checked_cache_dir, scrubbed_environ
from ahd.sandbox.handle import WorkerHandle
from ahd.sandbox.layers import ALL_LAYERS, default_readable_paths
from ahd.sandbox.prewarm import PREWARM_LEVELS
from ahd.sandbox.probe import active_layers
from ahd.sandbox.records import SandboxLimits, SandboxResult, SandboxUnavailable
from ahd.sandbox.request import run_inline
from ahd.sandbox.safe_pickle import allow_list, plain_loads, safe_loads
from ahd.sandbox.specs import normalize_spec

#: Extra seconds the pool waits past a request's wall limit before it gives up on the worker.
WORKER_GRACE_S = 30.0


def decide_mode(
    probe: dict[str, bool], layers: str | Iterable[str], allow_unsandboxed: bool
) -> tuple[frozenset[str], bool]:
    """Pick the layers to apply and whether to run without forking (``inline``).

    ``layers="auto"`` takes every layer the probe found; a collection names the layers that
    must be there (:class:`SandboxUnavailable` otherwise). Without ``fork`` there is no process
    isolation at all, and that is refused unless ``allow_unsandboxed``.
    """
    if isinstance(layers, str):
        if layers != "auto":
            raise ValueError(f"layers must be 'auto' or a collection of names, not {layers!r}")
        wanted = None
    else:
        wanted = frozenset(layers)
        unknown = wanted - set(ALL_LAYERS)
        if unknown:
            raise ValueError(f"unknown layers {sorted(unknown)}; known: {list(ALL_LAYERS)}")
    if not probe.get("fork"):
        if allow_unsandboxed:
            return frozenset(), True
        raise SandboxUnavailable(
            "fork() is not available here, so candidates cannot run in a "
            "killable child; pass allow_unsandboxed=True to run anyway"
        )
    available = active_layers(probe)
    if wanted is None:
        return available, False
    missing = wanted - available
    if missing and not allow_unsandboxed:
        raise SandboxUnavailable(f"isolation layers not available here: {sorted(missing)}")
    return wanted & available, False


class SandboxPool:
    """``n_workers`` warm workers; each request runs in a child forked from one of them.

    Parameters
    ----------
    n_workers:
        Worker processes, i.e. requests run in parallel.
    warmup:
        ``"module:qualname"`` (or an importable function) called once in every worker before
        any lockdown, e.g. to compile the LNS engine so that children inherit it compiled.
    layers:
        ``"auto"`` (all that :func:`ahd.sandbox.probe.probe_layers` finds) or the names that
        must be available.
    limits:
        Default :class:`SandboxLimits`; each request may pass its own.
    allow_unsandboxed:
        Run even when no process isolation exists (no fork): candidates then run inside the
        worker (the pool still kills it on timeout) or, when not even a worker can be started,
        in this process with no limits at all.
    scrub_env:
        More environment variable names or patterns to keep from the workers, on top of
        :data:`ahd.sandbox.environment.SECRET_PATTERNS`.
    safe_globals:
        ``"module:qualname"`` classes a result may contain besides plain data and numpy.
    boundscheck:
        Set ``NUMBA_BOUNDSCHECK=1`` in the workers: out-of-bounds indexing in a candidate's
        njit code raises ``IndexError`` instead of corrupting memory (at about 1.6x the cost of
        compiled code, the warmup's included).
    readable_paths:
        ``None`` (default): the child may read any file its user can. ``"auto"``, or a list
        of paths (e.g. ``[*default_readable_paths(), "/data/instances"]``): with Landlock, it
        may read only those, its own directory and a ``file:`` candidate's file, so a candidate
        cannot copy secrets from files into its output. Needs the ``landlock`` layer.
    shared_dir:
        A directory every child may write, besides its private one: evaluation keeps numba's
        cache of candidate code there, so a candidate compiles once per run rather than once
        per evaluation. Children can also corrupt what others read from it; that only matters
        to candidates (the parent never loads it) and every result is still verified.
    prewarm_numba:
        What each worker compiles before serving, so that children do not (see
        :func:`ahd.sandbox.prewarm.prewarm_numba`): ``"operators"`` (default; common numpy
        features of LNS operators, 10-20 s per worker before its first request that may
        compile (see :meth:`submit`), saves seconds per candidate),
        ``"basic"`` (only a process's first jit, about 1.5 s) or ``"none"``.
    """

    def __init__(
        self,
        n_workers: int = 1,
        warmup: Any = None,
        layers: str | Iterable[str] = "auto",
        limits: SandboxLimits | None = None,
        allow_unsandboxed: bool = False,
        scrub_env: Sequence[str] = (),
        safe_globals: Sequence[str] = (),
        boundscheck: bool = True,
        prewarm_numba: str = "operators",
        readable_paths: str | Sequence[str] | None = None,
        start_timeout: float = 120.0,
        shared_dir: str | os.PathLike | None = None,
    ):
        if n_workers < 1:
            raise ValueError("n_workers must be at least 1")
        if prewarm_numba not in PREWARM_LEVELS:
            raise ValueError(f"prewarm_numba must be one of {PREWARM_LEVELS}")
        self.n_workers = n_workers
        self.limits = limits or SandboxLimits()
        self.start_timeout = start_timeout
        self.allow_unsandboxed = allow_unsandboxed
        self._allowed = allow_list(safe_globals)
        self._closed = False
        self._ids = itertools.count()
        self.restarts = 0
        if readable_paths == "auto":
            readable_paths = default_readable_paths()
        elif isinstance(readable_paths, str):
            raise ValueError("readable_paths must be None, 'auto' or a list of paths")
        self.readable_paths = None if readable_paths is None else tuple(readable_paths)
        # Absolute: children chdir into their own directory before locking down.
        self.shared_dir = None if shared_dir is None else os.path.abspath(shared_dir)
        if self.shared_dir is not None:
            os.makedirs(self.shared_dir, exist_ok=True)
        config = {
            "readable": self.readable_paths,
            "warmup": None if warmup is None else normalize_spec(warmup),
            "scrub_env": tuple(scrub_env),
            "safe_globals": tuple(safe_globals),
            "sys_path": list(sys.path),
            "prewarm_numba": prewarm_numba,
            "shared_dir": self.shared_dir,
        }
        env = scrubbed_environ(dict(os.environ), tuple(scrub_env))
        env.update(WORKER_ENV)
        if boundscheck:
            # Checked code must never land in the cache trusted processes load (see
            # checked_cache_dir); the worker drops the setting after its warm-up, so candidate
            # code still caches next to its own file in ``shared_dir``.
            env["NUMBA_BOUNDSCHECK"] = "1"
            env["NUMBA_CACHE_DIR"] = checked_cache_dir()
            config["own_cache_dir"] = True
        else:
            env.pop("NUMBA_BOUNDSCHECK", None)
        self._workers = [WorkerHandle(config, env) for _ in range(n_workers)]
        self._local = False  # no worker process at all: run in this process
        try:
            for w in self._workers:
                w.launch()
            for w in self._workers:
                w.wait_ready(start_timeout)
        except (OSError, SandboxUnavailable) as exc:
            for w in self._workers:
                w.kill()
            if not allow_unsandboxed:
                raise SandboxUnavailable(f"cannot start sandbox workers: {exc}") from exc
            self._local, self.probe = True, {"fork": False}
        except BaseException:
            for w in self._workers:
                w.kill()
            raise
        if not self._local:
            self.probe = dict(self._workers[0].info["probe"])
        try:
            self.active_layers, self._inline = decide_mode(self.probe, layers, allow_unsandboxed)
            if (
                self.readable_paths is not None
                and "landlock" not in self.active_layers
                and not allow_unsandboxed
            ):
                raise SandboxUnavailable("readable_paths needs the landlock layer")
        except BaseException:
            self.close()
            raise
        self._layers_tuple = tuple(sorted(self.active_layers))
        self._idle: queue.Queue[WorkerHandle] = queue.Queue()
        for w in self._workers:
            self._idle.put(w)
        self._executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="ahd-sandbox")
        self._lock = threading.Lock()

    # --- public API ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called: the pool takes no more requests."""
        return self._closed

    @property
    def sandboxed(self) -> bool:
        """False when candidates run without a forked child (``allow_unsandboxed`` fallback)."""
        return not (self._local or self._inline)

    def submit(
        self, func: Any, args: Sequence[Any] = (), limits: SandboxLimits | None = None,
        compiles: bool = True,
    ) -> Future[SandboxResult]:
        """Run ``func(*args)`` in the sandbox; a future of its :class:`SandboxResult`.

        ``compiles=False`` says the request runs only code numba has cached (built-in
        operators, say): a worker then defers its ``"operators"`` prewarm to its first request
        that may compile, and a run that never gets there never pays for it.
        """
        if self._closed:
            raise RuntimeError("SandboxPool is closed")
        spec = normalize_spec(func)
        limits = limits or self.limits
        req_id = next(self._ids)
        message = ForkingPickler.dumps(
            ("run", req_id, spec, tuple(args), limits.to_dict(), self._layers_tuple,
             self._inline, bool(compiles))
        )
        return self._executor.submit(self._dispatch, bytes(message), spec, tuple(args), limits)

    def run(
        self, func: Any, args: Sequence[Any] = (), limits: SandboxLimits | None = None
    ) -> SandboxResult:
        return self.submit(func, args, limits).result()

    def map(
        self, requests: Iterable[tuple[Any, Sequence[Any]]], limits: SandboxLimits | None = None
    ) -> list[SandboxResult]:
        """Run ``(func, args)`` requests in parallel; results in the same order."""
        futures = [self.submit(func, args, limits) for func, args in requests]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Stop the workers (killing whatever they run)."""
        self._closed = True
        executor = getattr(self, "_executor", None)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        for w in self._workers:
            w.stop()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # best effort; close() is the way
        with contextlib.suppress(Exception):
            if not self._closed:
                self.close()

    @property
    def worker_pids(self) -> list[int | None]:
        return [w.pid for w in self._workers]

    # --- internals ----------------------------------------------------------------------------

    def _result(self, status: str, **kw) -> SandboxResult:
        return SandboxResult(status=status, layers=self._layers_tuple, **kw)

    def _dispatch(self, message: bytes, spec, args, limits: SandboxLimits) -> SandboxResult:
        if self._local:
            return self._from_record(run_inline(spec, args, limits, self._allowed))
        worker = self._idle.get()
        try:
            return self._on_worker(worker, message, limits)
        finally:
            self._idle.put(worker)

    def _restart(self, worker: WorkerHandle) -> None:
        worker.kill()
        if self._closed:
            return
        self.restarts += 1
        try:
            worker.start(self.start_timeout)
        except Exception:  # noqa: BLE001 - the next request tries again
            worker.kill()

    def _on_worker(
        self, worker: WorkerHandle, message: bytes, limits: SandboxLimits
    ) -> SandboxResult:
        if worker.conn is None:
            if self._closed:
                return self._result("killed", error="SandboxPool closed")
            self._restart(worker)
            if worker.conn is None:
                return self._result("crashed", error="sandbox worker could not be restarted")
        try:
            worker.conn.send_bytes(message)
        except (OSError, ValueError):
            self._restart(worker)  # died while idle; the request was not delivered: retry once
            if worker.conn is None:
                return self._result("crashed", error="sandbox worker could not be restarted")
            worker.conn.send_bytes(message)
        guard = limits.wall_time + (0.0 if self._inline else WORKER_GRACE_S)
        while True:
            try:
                ready = worker.conn.poll(guard)
            except (OSError, ValueError):
                ready = True  # closed under us: recv below says so
            if not ready:
                status = "timeout" if self._inline else "crashed"
                note = (
                    f"wall-clock limit of {limits.wall_time:g} s"
                    if self._inline
                    else f"sandbox worker {worker.pid} stopped answering"
                )
                self._restart(worker)
                return self._result(status, error=note)
            try:
                data = worker.conn.recv_bytes()
            except (EOFError, OSError, ValueError):
                if self._closed:
                    return self._result("killed", error="SandboxPool closed")
                note = worker.death_note()
                self._restart(worker)
                return self._result("crashed", error=note)
            message = plain_loads(data)
            if message[0] != "busy":
                return self._from_record(message[2])
            # The worker compiles its deferred prewarm first: allow what a start is allowed.
            guard += self.start_timeout

    def _from_record(self, record: dict) -> SandboxResult:
        status, value, error = record["status"], None, record["error"]
        if status == "ok":
            try:
                value = safe_loads(record["payload"], self._allowed)
            except Exception as exc:  # noqa: BLE001
                status, error = "bad_result", f"unsafe or broken result: {exc}"
        return self._result(
            status,
            value=value,
            error=error,
            signal=record["signal"],
            wall_time=record["wall_time"],
            cpu_time=record["cpu_time"],
            max_rss=record["max_rss"],
            output_tail=record["output_tail"],
        )
