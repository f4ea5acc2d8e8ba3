"""Fan sandboxed evaluations out: over this machine's workers, or over a dask cluster.

``evaluate_many(requests)`` takes ``(func, args)`` pairs (``func`` any spec that
:func:`ahd.sandbox.specs.normalize_spec` accepts) and returns one :class:`SandboxResult` each,
in order.

- ``backend="local"`` runs them on a :class:`SandboxPool` of ``n_jobs`` warm workers: the one
  passed as ``pool=``, or one kept per process and per configuration (:func:`shared_pool`), so an
  evolution loop pays the workers' start-up (numba import, first jit, ``warmup``) once, not per
  generation. A joblib/loky layer on top would add a second tier of processes and pickling and
  could still not kill a running task; the candidate already runs in a forked, killable child.
- ``backend="dask"`` submits every request to a ``dask.distributed`` cluster; on each dask worker
  process the request runs through that process's own shared :class:`SandboxPool` (as many
  sandbox workers as the dask worker has threads), so the candidate still runs in a forked,
  locked-down child there and the dask worker survives whatever it does.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from ahd.sandbox.pool import SandboxPool
from ahd.sandbox.records import SandboxLimits, SandboxResult
from ahd.sandbox.specs import normalize_spec

_POOLS: dict[tuple, SandboxPool] = {}
_POOLS_LOCK = threading.Lock()


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_freeze(v) for v in value]
        return tuple(sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items)
    return value


def shared_pool(n_workers: int | None = None, **options: Any) -> SandboxPool:
    """This process's pool for ``(n_workers, options)``, started on first use.

    ``options`` are :class:`SandboxPool` keyword arguments; ``warmup`` given as a function is
    keyed by its ``module:qualname``.
    """
    n = n_workers or os.cpu_count() or 1
    if options.get("warmup") is not None:
        options["warmup"] = normalize_spec(options["warmup"])
    key = (n, _freeze(options))
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or pool.closed:
            pool = _POOLS[key] = SandboxPool(n, **options)
        return pool


def shutdown_pools() -> None:
    """Close every pool :func:`shared_pool` started in this process."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.close()


atexit.register(shutdown_pools)


def _dask_nthreads() -> int:
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except Exception:  # noqa: BLE001 - not on a dask worker, or an older API
        return 1


def _run_on_dask_worker(
    spec: tuple, args: tuple, limits: SandboxLimits | None, options: dict
) -> SandboxResult:
    """Task body on a dask worker: run one request through that process's shared pool."""
    return shared_pool(_dask_nthreads(), **options).run(spec, args, limits)


def evaluate_many(
    requests: Iterable[tuple[Any, Sequence[Any]]],
    backend: str = "local",
    scheduler: Any = None,
    n_jobs: int | None = None,
    limits: SandboxLimits | None = None,
    pool: SandboxPool | None = None,
    **pool_options: Any,
) -> list[SandboxResult]:
    """Run ``(func, args)`` requests sandboxed; one result per request, in order.

    ``scheduler`` (dask only): a scheduler address, a ``distributed.Client``, or ``None`` for the
    client already current in this process. ``n_jobs`` (local only): workers of the shared pool
    (default: CPU count). ``limits`` apply to every request (default: the pool's).
    ``pool_options`` go to :class:`SandboxPool` (``warmup``, ``layers``, ``safe_globals``, ...);
    they must be picklable for dask.
    """
    reqs = [(normalize_spec(func), tuple(args)) for func, args in requests]
    if backend == "local":
        if pool is None:
            pool = shared_pool(n_jobs, **pool_options)
        return pool.map(reqs, limits)
    if backend == "dask":
        if pool is not None:
            raise ValueError("pool= is for the local backend; dask workers keep their own")
        return _evaluate_dask(reqs, scheduler, limits, pool_options)
    raise ValueError(f"backend must be 'local' or 'dask', not {backend!r}")


def _evaluate_dask(
    reqs: list, scheduler: Any, limits: SandboxLimits | None, options: dict
) -> list[SandboxResult]:
    try:
        from distributed import Client, get_client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("backend='dask' needs the 'dask' extra: pip install 'ahd[dask]'") from exc
    own = False
    if scheduler is None:
        client = get_client()
    elif isinstance(scheduler, Client):
        client = scheduler
    else:
        client, own = Client(scheduler), True
    if options.get("warmup") is not None:
        options = {**options, "warmup": normalize_spec(options["warmup"])}
    try:
        futures = [
            client.submit(_run_on_dask_worker, spec, args, limits, options, pure=False)
            for spec, args in reqs
        ]
        return client.gather(futures)
    finally:
        if own:
            client.close()
