"""Run (planner, task) pairs on a dask.distributed cluster: ``ahd plan-eval --scheduler``.

The same evaluation as :class:`.runner.Evaluation` (the same pending list, so resuming works
the same and a folder may be continued locally or on a cluster), with the runs executed by
dask workers:

- **Plain data out, plain data back.** Each run is a :class:`.remote.RunRequest` carrying the
  PDDL text and the planner's files; a worker runs it under the limits in a temporary folder of
  its own and returns the plan text and statistics (:func:`.remote.run_remote`). No file
  system is shared; the plan and log this process keeps are written under the out folder.
- **The parent judges and writes.** Every plan is validated here, against this machine's task
  files, by validator processes of this process (``jobs`` of them, on as many threads), and
  this process is the only writer of the results store: a row is committed as each run's
  validation ends.
- **Faults.** A worker that dies mid-run has its run rescheduled by dask; a run that keeps
  killing workers (dask's ``allowed-failures``) is recorded as an ``error``. Each future is
  read once, so no run is recorded twice. A lost scheduler stops the evaluation with
  :class:`~ahd.sandbox.ClusterLost` after the runs already back are recorded; rerunning the
  command resumes. A worker-side exception (a bug, or a worker without ``ahd`` installed)
  stops it with :class:`~ahd.sandbox.ClusterError` rather than being stored as a planner's
  failure.

A run's start is logged in ``attempts`` when it is submitted (when a worker picks it up is not
known here), so a resumed evaluation can still be checked for re-running nothing finished.
At most twice as many runs as the cluster has threads are submitted at a time, so a large
suite's PDDL text does not all sit in the scheduler's memory at once.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from pathlib import Path
from typing import Any

from ahd.sandbox import ClusterError, ClusterLost

from .execution import Execution, judge
from .planner_base import Limits, Planner
from .remote import RunReply, request_for, run_remote
from .results import ResultsStore, RunRecord, now
from .runner import Evaluation, work_dir
from .suite import Task

__all__ = ["ClusterEvaluation"]

#: Seconds given to closing the client of a lost scheduler.
LOST_CLOSE_TIMEOUT_S = 2.0
#: Seconds between refreshes of the cluster's thread count (which sizes the submission window).
WINDOW_REFRESH_S = 5.0


class ClusterEvaluation(Evaluation):
    """Every pending (planner, task) pair, run on the dask cluster at ``scheduler``.

    Parameters
    ----------
    planners, tasks, limits, out_dir, store
        As for :class:`.runner.Evaluation`.
    scheduler : str
        ``tcp://HOST:PORT`` of a running scheduler, or ``local:N`` for a cluster of N
        single-threaded worker processes on this machine (see :mod:`ahd.sandbox.cluster`).
    jobs : int
        Plans validated at the same time in this process.
    connect_timeout : float
        Seconds to wait for an unreachable scheduler before giving up.
    """

    def __init__(self, planners: Sequence[Planner], tasks: Sequence[Task], limits: Limits,
                 out_dir: Path, store: ResultsStore, scheduler: str, jobs: int = 1,
                 connect_timeout: float = 20.0) -> None:
        super().__init__(planners, tasks, limits, out_dir, store, jobs=jobs)
        self.scheduler = scheduler
        self.connect_timeout = connect_timeout
        self._stopping = False
        self._lock = threading.Lock()
        self._done = 0

    def run(self, on_result: Callable[[RunRecord, int, int], None] | None = None) -> int:
        """Run what :meth:`pending` lists on the cluster; returns how many runs were recorded.

        Nothing pending: returns 0 without connecting (a finished evaluation reports without a
        cluster). ``on_result(record, done, total)`` is called from a validation thread after
        each commit.

        Raises
        ------
        ClusterError
            The scheduler cannot be reached, or a worker failed to run a request.
        ClusterLost
            The scheduler went away; what came back before is recorded.
        KeyboardInterrupt
            Nothing more is recorded; queued runs are cancelled (runs already on remote workers
            end at their time limit).
        """
        todo = self.pending()
        if not todo:
            return 0
        from ahd.sandbox.cluster import connect

        client, cluster = connect(self.scheduler, timeout=self.connect_timeout)
        lost = False
        try:
            return self._drive(client, todo, on_result)
        except ClusterLost:
            lost = True
            raise
        finally:
            _close(client, cluster, lost)

    def _drive(self, client: Any, todo: list[tuple[Planner, Task]],
               on_result: Callable[[RunRecord, int, int], None] | None) -> int:
        from distributed import as_completed

        queue = deque(todo)
        total = len(todo)
        inflight: dict[Any, tuple[Planner, Task, str]] = {}
        domains: dict[Path, bytes] = {}
        results = as_completed()
        checks = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="plan-eval-check")
        checking: list[Future] = []
        window = _Window(client)

        def refill() -> None:
            while queue and len(inflight) < window.size():
                planner, task = queue.popleft()
                fingerprint = planner.fingerprint(task)
                request = request_for(planner, task, self.limits, domains)
                self.store.start_attempt(planner.label, task.key, fingerprint)
                try:
                    future = client.submit(run_remote, request, pure=False)
                except Exception as exc:  # noqa: BLE001 - a closed or disconnected client
                    raise self._lost(exc) from None
                inflight[future] = (planner, task, fingerprint)
                results.add(future)

        try:
            refill()
            for future in results:
                planner, task, fingerprint = inflight.pop(future)
                reply = self._reply(future, planner, task)
                checking.append(checks.submit(self._finish, planner, task, fingerprint, reply,
                                              total, on_result))
                refill()
            wait_all(checking)
            for check in checking:
                check.result()  # re-raise a bug in the judging itself
        except ClusterError:
            _cancel(client, inflight)
            wait_all(checking)  # plans already back are judged and recorded
            raise
        except BaseException:
            self._stopping = True
            _cancel(client, inflight)
            self.validators.close()  # a thread waiting on a validation gets its answer now
            checks.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            checks.shutdown(wait=True)
            self.validators.close()
        return self._done

    def _lost(self, exc: BaseException | None = None) -> ClusterLost:
        why = f" ({' '.join(str(exc).split())[:200]})" if exc is not None and str(exc) else ""
        return ClusterLost(f"lost the dask scheduler at {self.scheduler}{why}")

    def _reply(self, future: Any, planner: Planner, task: Task) -> RunReply:
        """The worker's reply; a run that killed its workers again and again as an error.

        A result whose worker died after the run ended is computed again by dask, so a
        future is waited for even when it is no longer ``finished``; only a cancelled one (the
        client lost its scheduler) means the cluster is gone.
        """
        from distributed import KilledWorker

        if future.status == "cancelled":
            raise self._lost()
        try:
            return future.result()
        except KilledWorker:
            return RunReply(Execution("error", error=(
                "the dask workers running it died, again and again (dask's allowed-failures)"
            )), None, "", now(), "")
        except CancelledError:
            raise self._lost() from None
        except Exception as exc:  # noqa: BLE001 - raised on the worker, or by a lost cluster
            if future.status != "error":
                raise self._lost(exc) from None
            raise ClusterError(
                f"a dask worker failed to run {planner.label} on {task.key}: "
                + " ".join(f"{type(exc).__name__}: {exc}".split())[:300]) from None

    def _finish(self, planner: Planner, task: Task, fingerprint: str, reply: RunReply,
                total: int, on_result: Callable[[RunRecord, int, int], None] | None) -> None:
        """Keep the plan and log under the out folder, validate, record, report progress."""
        if self._stopping:
            return
        folder = work_dir(self.out_dir, planner, task)
        shutil.rmtree(folder, ignore_errors=True)
        plan_file = None
        if reply.plan is not None or reply.log:
            folder.mkdir(parents=True)
            (folder / "log.txt").write_text(reply.log)
        if reply.plan is not None:
            plan_file = folder / "plan"
            plan_file.write_bytes(reply.plan)
        rec = judge(planner, task, self.limits, reply.run, plan_file, self.validators.get(),
                    reply.started, fingerprint)
        if self._stopping:  # the validation was cut short by the interruption
            return
        self.store.record(rec)
        with self._lock:
            self._done += 1
            count = self._done
        if on_result is not None:
            on_result(rec, count, total)


class _Window:
    """How many runs may be submitted and not yet back: twice the cluster's threads (at least
    two), refreshed every :data:`WINDOW_REFRESH_S` seconds as workers come and go."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._size = 2
        self._checked = -float("inf")

    def size(self) -> int:
        if time.monotonic() - self._checked >= WINDOW_REFRESH_S:
            self._checked = time.monotonic()
            try:
                threads = sum(self._client.nthreads().values())
            except Exception:  # noqa: BLE001 - a lost scheduler shows up on the futures
                threads = 0
            self._size = max(2, 2 * threads)
        return self._size


def _close(client: Any, cluster: Any, lost: bool) -> None:
    """Close the client, then the cluster this process started. The client of a lost scheduler
    is closed at once and quietly: left alone it would retry for ``connect_timeout`` and then
    log an error, and its retries, cut short, log a traceback; the one-line message that the
    scheduler was lost says all of it."""
    if not lost:
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()
        return
    names = {"distributed", "distributed.client", *(
        n for n in logging.root.manager.loggerDict if n.startswith("distributed."))}
    loggers = [logging.getLogger(n) for n in sorted(names)]
    levels = [log.level for log in loggers]
    for log in loggers:  # dask's logging configuration gives some of them their own levels
        log.setLevel(logging.CRITICAL + 1)
    try:
        client.close(timeout=LOST_CLOSE_TIMEOUT_S)
    except Exception:  # noqa: BLE001 - nothing to tell a scheduler that is gone
        pass
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
        if cluster is not None:
            cluster.close()


def _cancel(client: Any, futures: dict[Any, object]) -> None:
    """Cancel what was submitted and is not back (queued runs never start)."""
    try:
        client.cancel(list(futures))
    except Exception:  # noqa: BLE001 - a lost scheduler cannot be told anything
        pass
