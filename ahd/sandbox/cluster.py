"""Sandboxed evaluation on a dask.distributed cluster, behind the same interface as a local pool.

:class:`ClusterPool` has :class:`~ahd.sandbox.SandboxPool`'s ``submit``/``run``/``map``/
``close`` and returns :class:`concurrent.futures.Future` objects, so a task written for the
local pool (routing teams, planning heuristics, any plugin) runs on a cluster unchanged.

Why it is built this way:

- **Same isolation everywhere.** Each dask worker process keeps one warm
  :class:`~ahd.sandbox.SandboxPool` (a worker plugin, :class:`SandboxPlugin`), with as many
  sandbox workers as the dask worker has threads; a candidate runs in a forked, locked-down
  child there exactly as it does locally, and the dask worker survives whatever it does. A
  worker whose host cannot sandbox refuses untrusted code unless ``allow_unsandboxed`` was given.
- **Plain data only.** A request is a function spec (``"module:qualname"`` or the candidate's
  source) and its arguments; nothing relies on a shared file system. A ``shared_dir`` is a path
  each host creates for itself (numba's cache of candidate code), never a place data is passed.
- **The parent stays the judge.** Workers return :class:`SandboxResult` values; the caller
  verifies them and is the only writer of the store.
- **Faults.** A dask worker that dies mid-request has its requests rescheduled by dask itself;
  one that keeps dying (``distributed.scheduler.allowed-failures``) gives a ``"crashed"``
  result. A lost scheduler fails every pending future with :class:`ClusterLost`, which the
  run path turns into a one-line stop that ``--resume`` continues.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, get_worker

from ahd.sandbox.pool import SandboxPool
from ahd.sandbox.records import ClusterError, ClusterLost, SandboxLimits, SandboxResult
from ahd.sandbox.specs import normalize_spec

#: ``--scheduler local:N``: a LocalCluster of N single-threaded worker processes on 127.0.0.1.
LOCAL_PREFIX = "local:"

#: dask settings for the clusters ahd starts itself (README: the same for hand-started ones).
#: A worker's only job is to wait on its sandbox, so what dask does besides costs the
#: evaluations CPU: the statistical profiler samples every thread 100 times a second, and the
#: memory monitor reads the process's size 10 times a second (the sandbox enforces memory
#: itself). With a saturation of 1.0 a worker holds one request per thread and takes the next
#: from the scheduler, as a local pool does, instead of a second one queued behind a long run
#: while another worker idles.
LEAN_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.scheduler.worker-saturation": 1.0,
}


def parse_scheduler(text: str) -> int | str:
    """``"local:N"`` -> ``N`` (workers of a local cluster); anything else is an address.

    Raises ``ValueError`` with a one-line message for ``local:`` without a positive count.
    """
    text = text.strip()
    if text.startswith(LOCAL_PREFIX):
        count = text[len(LOCAL_PREFIX):]
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"--scheduler {text!r}: expected local:N with N >= 1 workers")
        return int(count)
    if not text:
        raise ValueError("--scheduler needs an address (tcp://HOST:PORT) or local:N")
    return text


def quiet_dask_logs() -> None:
    """Keep dask's own log lines (tracebacks of lost connections) from a command's output: the
    command reports a lost cluster itself, in one line."""
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]
    # asyncio reports dask's own cancelled gathers ("Task exception was never retrieved").
    for name in ["distributed", "asyncio", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def connect(scheduler: str, timeout: float = 20.0) -> tuple[Any, Any]:
    """A ``distributed.Client`` for ``scheduler`` and the LocalCluster it owns (or ``None``).

    ``local:N`` starts N worker processes with one thread each on 127.0.0.1 (the scheduler's
    HTTP endpoint on a free port, so two runs on one machine do not collide on 8787).
    An unreachable address raises :class:`ClusterError` after ``timeout`` seconds.
    """
    target = parse_scheduler(scheduler)
    if isinstance(target, int):
        with dask.config.set(LEAN_CONFIG):  # workers take the config they are started with
            cluster = LocalCluster(
                n_workers=target, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=":0", silence_logs=logging.ERROR, memory_limit=0,
            )
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    refused = _refused(target)
    if refused is not None:
        raise ClusterError(f"cannot reach the dask scheduler at {target}: {refused}")
    try:
        return Client(target, timeout=timeout), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the dask scheduler at {target}: {exc}") from None


def _refused(address: str) -> str | None:
    """Why a ``tcp://HOST:PORT`` scheduler cannot be reached at all (nothing listens, no such
    host), found in one plain connection attempt; ``None`` when it answers or the address is of
    another kind. dask's client retries a refused connection until its timeout: a mistyped
    port would cost the user 20 s for the same one-line answer."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        if scheme != "tcp":
            return None
        host, port = parse_host_port(location)
        with socket.create_connection((host, port), timeout=5):
            return None
    except (ConnectionRefusedError, socket.gaierror) as exc:
        return exc.strerror or str(exc)
    except (OSError, ValueError, TypeError):  # slow or odd: let dask try, with its timeout
        return None


class SandboxPlugin(WorkerPlugin):
    """Worker plugin: one warm :class:`SandboxPool` per dask worker process, started on first
    use (a sandbox start takes seconds, too long for the worker's event loop)."""

    idempotent = True

    def __init__(self, name: str, options: dict[str, Any]):
        self.name = name
        self.options = options
        self._pool: SandboxPool | None = None
        self._threads = 1
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["options"])

    def setup(self, worker: Any) -> None:
        self._threads = max(1, int(worker.state.nthreads))

    def teardown(self, worker: Any) -> None:
        if self._pool is not None:
            self._pool.close()

    def pool(self) -> SandboxPool:
        with self._lock:
            if self._pool is None or self._pool.closed:
                self._pool = SandboxPool(self._threads, **self.options)
            return self._pool


def _on_worker(name: str, spec: Any, args: tuple, limits: SandboxLimits | None,
               compiles: bool = True) -> SandboxResult:
    """Task body on a dask worker: run one request in that worker's own sandbox pool."""
    return get_worker().plugins[name].pool().submit(spec, args, limits, compiles).result()


def _layers_on_worker(name: str) -> tuple[list[str], bool]:
    pool = get_worker().plugins[name].pool()
    return sorted(pool.active_layers), pool.sandboxed


class ClusterPool:
    """A :class:`~ahd.sandbox.SandboxPool` look-alike whose requests run on a dask cluster.

    Parameters
    ----------
    scheduler:
        An address (``tcp://HOST:PORT``), ``local:N``, or a ``distributed.Client``.
    limits:
        Default :class:`SandboxLimits` (each request may pass its own).
    shared_dir:
        Kept as the attribute callers read (a host-local path every worker creates for
        itself); default: one under the system temp directory named by the options.
    pool_options:
        :class:`SandboxPool` keyword arguments for every worker's pool (``warmup``,
        ``prewarm_numba``, ``layers``, ``allow_unsandboxed``, ...); plain data only.
    """

    def __init__(self, scheduler: Any, limits: SandboxLimits | None = None,
                 shared_dir: str | os.PathLike | None = None, **pool_options: Any):
        if pool_options.get("warmup") is not None:
            pool_options["warmup"] = normalize_spec(pool_options["warmup"])
        self.limits = limits or SandboxLimits()
        digest = hashlib.sha256(
            json.dumps(pool_options, sort_keys=True, default=repr).encode()
        ).hexdigest()[:12]
        host_local = isinstance(scheduler, str) and isinstance(parse_scheduler(scheduler), int)
        # The caller's directory only where workers share this host; elsewhere a path every
        # host can create for itself.
        self.shared_dir = str(shared_dir) if shared_dir is not None and host_local else (
            os.path.join(tempfile.gettempdir(), f"ahd-cluster-{digest}"))
        os.makedirs(self.shared_dir, exist_ok=True)
        # One plugin per pool: closing it tears its sandboxes down on every worker without
        # touching another run's on the same cluster.
        self._name = f"ahd-sandbox-{digest}-{uuid.uuid4().hex[:8]}"
        if isinstance(scheduler, Client):
            self.client, self._cluster, self._own = scheduler, None, False
        else:
            self.client, self._cluster = connect(str(scheduler))
            self._own = True
        self._closed = False
        try:
            self.client.register_plugin(
                SandboxPlugin(self._name, {**pool_options, "shared_dir": self.shared_dir}),
                name=self._name,
            )
            self.active_layers, self._sandboxed = self._warm()
        except BaseException:
            self.close()
            raise

    @property
    def n_workers(self) -> int:
        """Sandbox workers across the cluster now (the sum of the dask workers' threads)."""
        return sum(self.client.nthreads().values()) or 1

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def sandboxed(self) -> bool:
        return self._sandboxed

    def _warm(self) -> tuple[frozenset[str], bool]:
        """Start every worker's pool now (so the first evaluations are not charged for it) and
        take the layers all of them have."""
        workers = list(self.client.nthreads())
        if not workers:
            raise ClusterError("the dask cluster has no workers")
        futures = [self.client.submit(_layers_on_worker, self._name, workers=[w], pure=False)
                   for w in workers]
        try:
            found = self.client.gather(futures)
        except Exception as exc:  # noqa: BLE001 - a worker that cannot sandbox, or a lost one
            raise ClusterError(f"dask workers could not start their sandbox: {exc}") from None
        layers = frozenset.intersection(*(frozenset(names) for names, _ in found))
        return layers, all(ok for _, ok in found)

    def submit(self, func: Any, args: Sequence[Any] = (), limits: SandboxLimits | None = None,
               compiles: bool = True) -> cf.Future[SandboxResult]:
        """Run ``func(*args)`` in a worker's sandbox; a future of its :class:`SandboxResult`
        (``compiles`` as in :meth:`ahd.sandbox.pool.SandboxPool.submit`)."""
        if self._closed:
            raise RuntimeError("ClusterPool is closed")
        out: cf.Future[SandboxResult] = cf.Future()
        out.set_running_or_notify_cancel()
        dask_future = self.client.submit(
            _on_worker, self._name, normalize_spec(func), tuple(args), limits or self.limits,
            compiles, pure=False,
        )
        dask_future.add_done_callback(lambda f: _settle(f, out))
        return out

    def run(self, func: Any, args: Sequence[Any] = (), limits: SandboxLimits | None = None
            ) -> SandboxResult:
        return self.submit(func, args, limits).result()

    def map(self, requests: Iterable[tuple[Any, Sequence[Any]]],
            limits: SandboxLimits | None = None) -> list[SandboxResult]:
        futures = [self.submit(func, args, limits) for func, args in requests]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Drop the worker plugin (its sandboxes stop) and, for a cluster this pool started,
        the cluster itself."""
        if self._closed:
            return
        self._closed = True
        if self._cluster is None and self.client.status == "running":
            # Someone else's cluster lives on: stop this pool's sandboxes on its workers.
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(self._name)
        if self._own:  # bounded: a Ctrl-C must not wait for a graceful shutdown
            try:
                self.client.close(timeout=2)
            finally:
                if self._cluster is not None:
                    self._cluster.close(timeout=5)

    def __enter__(self) -> ClusterPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _settle(dask_future: Any, out: cf.Future) -> None:
    """Copy a dask future's outcome into ``out``: a result, a ``"crashed"`` result for a request
    that killed its workers, or :class:`ClusterLost` when the cluster went away."""
    try:
        status = dask_future.status
        if status == "finished":
            out.set_result(dask_future.result())
            return
        if status == "error":
            exc = dask_future.exception()
            if isinstance(exc, KilledWorker):
                out.set_result(SandboxResult(
                    status="crashed",
                    error="the dask workers running this request died, again and again",
                ))
            else:
                out.set_exception(exc)
            return
        out.set_exception(ClusterLost(f"dask request {status}: the scheduler or its workers "
                                      "went away"))
    except Exception as exc:  # noqa: BLE001 - whatever dask raises, the waiter must wake
        if not out.done():
            out.set_exception(ClusterLost(f"dask request failed: {exc}"))
