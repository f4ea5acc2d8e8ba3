"""ClusterPool on a real dask LocalCluster: separate worker processes over TCP on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
import time

import distributed
import pytest

from ahd.sandbox import ClusterError, ClusterLost, SandboxLimits
from ahd.sandbox.cluster import ClusterPool, connect, parse_scheduler

SLEEP = ("source", "import time\ndef f(s):\n    time.sleep(s)\n    return s\n", "f")
LOOP = ("source", "def f():\n    while True:\n        pass\n", "f")
NJIT = ("source", "import numba\n@numba.njit\ndef g(x):\n    return x * 2.0\n"
        "def f(x):\n    return g(x)\n", "f")
SHORT = SandboxLimits(wall_time=3, memory_bytes=2 << 30)

pytestmark = pytest.mark.slow


def _cluster() -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0",
    )


@pytest.fixture(scope="module")
def cluster_pool():
    cluster = _cluster()
    client = distributed.Client(cluster)
    pool = ClusterPool(client, prewarm_numba="basic")
    yield pool, client
    pool.close()
    client.close()
    cluster.close()


def test_requests_run_sandboxed_on_workers(cluster_pool):
    pool, client = cluster_pool
    assert pool.n_workers == 2
    assert "rlimits" in pool.active_layers or not pool.sandboxed
    futures = {pool.submit(spec, args, SHORT): i for i, (spec, args) in enumerate(
        [("math:factorial", (5,)), (LOOP, ()), (NJIT, (4.0,))])}
    results = [None] * 3
    for future in cf.as_completed(futures, timeout=120):  # plain concurrent futures
        results[futures[future]] = future.result()
    assert [r.status for r in results] == ["ok", "timeout", "ok"]
    assert results[0].value == 120 and results[2].value == 8.0
    assert len(client.nthreads()) == 2  # the looping candidate did not take a worker down


def test_worker_killed_mid_request_is_rescheduled(cluster_pool):
    pool, client = cluster_pool
    future = pool.submit(SLEEP, (4,))
    deadline = time.monotonic() + 30
    busy = []
    while not busy and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        time.sleep(0.2)
    assert busy, "the request never started"
    time.sleep(1.0)
    os.kill(client.run(os.getpid)[busy[0]], signal.SIGKILL)
    result = future.result(timeout=90)
    assert result.status == "ok" and result.value == 4


def test_lost_scheduler_fails_pending_requests():
    cluster = _cluster()
    client = distributed.Client(cluster)
    pool = ClusterPool(client, prewarm_numba="none")
    try:
        future = pool.submit(SLEEP, (30,))
        time.sleep(1.0)
        start = time.monotonic()
        cluster.close()
        with pytest.raises(ClusterLost):
            future.result(timeout=60)
        assert time.monotonic() - start < 30
    finally:
        pool.close()
        client.close()


def test_unreachable_scheduler_is_one_clear_error():
    start = time.monotonic()
    with pytest.raises(ClusterError, match="cannot reach the dask scheduler at tcp://127.0.0.1:1"):
        connect("tcp://127.0.0.1:1", timeout=2)
    assert time.monotonic() - start < 15


@pytest.mark.parametrize("text", ["local:", "local:0", "local:x", "  "])
def test_bad_scheduler_option(text):
    with pytest.raises(ValueError, match="scheduler"):
        parse_scheduler(text)


def test_scheduler_option_forms():
    assert parse_scheduler("local:3") == 3
    assert parse_scheduler("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"


def _children() -> int:
    import psutil

    return len(psutil.Process(os.getpid()).children(recursive=True))


def test_closing_a_pool_stops_its_sandboxes_on_a_shared_cluster():
    """A cluster outlives the run that used it: the run's sandbox workers must not."""
    cluster = _cluster()
    client = distributed.Client(cluster)
    try:
        assert set(client.run(_children).values()) == {0}
        pool = ClusterPool(client, prewarm_numba="none")
        assert set(client.run(_children).values()) == {1}  # one sandbox worker per dask worker
        pool.close()
        deadline = time.monotonic() + 20
        while set(client.run(_children).values()) != {0} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(client.run(_children).values()) == {0}
    finally:
        client.close()
        cluster.close()
