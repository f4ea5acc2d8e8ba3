"""Run (planner, task) pairs, one process each, under time and memory limits; resumable.

Each run is its own process group (``start_new_session``), started through a tiny launcher
(:mod:`._launch`) that sets ``RLIMIT_AS`` and a parent-death signal (so killing the evaluator
kills its runs) and then execs the planner; a ``preexec_fn`` would do the same but is unsafe
with the worker threads that start runs.
A timer kills the whole group at the time limit plus the grace period; the exit status and
resource usage come from ``os.wait4``, whose ``ru_maxrss`` covers the process and every
descendant it waited for (Fast Downward's driver waits for its translator and search), so the
peak memory is measured the same way for every planner. Every plan is then checked by
unified-planning in a separate validator process (:mod:`.validator`) before the run counts as
solved, and the row is committed at once (:mod:`.results`).

Runs are ordered task by task (every planner on task 1, then task 2, ...), so an interrupted
evaluation has comparable partial results for all planners, and the validator meets the same
task several times in a row (it caches parsed tasks).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ._launch import wrap
from .planners_registry import Limits, Planner
from .results import ResultsStore, RunRecord, now
from .suite import Task
from .validator import ValidatorProcess

__all__ = ["Evaluation", "parse_memory", "run_once", "work_dir"]

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
_UNIT_MB = {"": 1.0, "k": 1 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 ** 2}


def parse_memory(text: str | float | int) -> float:
    """MiB in ``8G``, ``512M``, ``1.5GiB``, ``2048`` (a bare number is MiB, as ``ahd plan``).

    Raises
    ------
    ValueError
        With the accepted forms.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        m = _MEMORY.match(str(text))
        if m is None:
            raise ValueError(f"invalid memory size {text!r}: use e.g. 8G, 512M or MiB as a number")
        value = float(m.group(1)) * _UNIT_MB[m.group(2).lower()]
    if not value > 0 or value == float("inf"):
        raise ValueError(f"memory size must be positive, got {text!r}")
    return value


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    """Fixed string hashing (pyperplan's tie-breaking depends on it) and one thread."""
    env = dict(os.environ)
    env.update(PYTHONHASHSEED="0", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    return env


def work_dir(out_dir: Path, planner: Planner, task: Task) -> Path:
    """``OUT/runs/<planner slug>/<task key without .pddl>``: the run's plan and log."""
    slug = re.sub(r"[^\w.+-]+", "_", planner.label).strip("_")[:60]
    tag = hashlib.sha1(planner.label.encode()).hexdigest()[:6]
    key = task.key[:-5] if task.key.endswith(".pddl") else task.key
    return out_dir / "runs" / f"{slug}-{tag}" / key.lstrip("/")


@dataclass
class _Process:
    """A finished planner process as the runner saw it."""

    returncode: int
    wall: float
    cpu: float
    peak_mb: float
    killed: bool


class _Active:
    """Process groups in flight, so an interrupted evaluation can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pids: set[int] = set()
        self.stopping = False

    def add(self, pid: int) -> None:
        with self._lock:
            self._pids.add(pid)

    def discard(self, pid: int) -> None:
        with self._lock:
            self._pids.discard(pid)

    def kill_all(self) -> None:
        with self._lock:
            self.stopping = True
            for pid in self._pids:
                _killpg(pid)


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _spawn(argv: Sequence[str], workdir: Path, env: dict[str, str], limits: Limits,
           active: _Active | None) -> _Process:
    """Run ``argv`` in ``workdir`` (log to ``workdir/log.txt``) under the limits."""
    memory = None if limits.memory_mb is None else int(limits.memory_mb * 1024 * 1024)
    killed = threading.Event()
    with open(workdir / "log.txt", "wb") as log:
        start = time.monotonic()
        proc = subprocess.Popen(
            wrap(list(argv), memory), cwd=workdir, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, env=_child_env(env), start_new_session=True,
        )
    if active is not None:
        active.add(proc.pid)

    def kill() -> None:
        killed.set()
        _killpg(proc.pid)

    timer = threading.Timer(limits.time + limits.grace, kill)
    timer.daemon = True
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait again
    _killpg(proc.pid)  # leftovers of the group (a grandchild its parent did not wait for)
    if active is not None:
        active.discard(proc.pid)
    return _Process(proc.returncode, wall, usage.ru_utime + usage.ru_stime,
                    usage.ru_maxrss / 1024.0, killed.is_set())


def run_once(planner: Planner, task: Task, limits: Limits, workdir: Path,
             validator: ValidatorProcess, active: _Active | None = None) -> RunRecord:
    """Run one planner on one task, validate its plan, and return the record (not stored).

    Parameters
    ----------
    planner, task, limits
        What to run and under which limits.
    workdir : Path
        The run's folder; emptied first so no plan of an earlier attempt is mistaken for
        this one's.
    validator : ValidatorProcess
        Checks the plan.
    active : optional
        Registry of running process groups (for interruption).
    """
    started = now()
    base = dict(planner=planner.label, task=task.key, domain=task.domain, split=task.split,
                fingerprint=planner.fingerprint(task), started=started)
    missing = planner.unavailable()
    if missing is not None:
        return RunRecord(status="unavailable", time=0.0, finished=now(), error=missing, **base)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    inv = planner.invocation(task, workdir, limits, time.time() + limits.time)
    try:
        proc = _spawn(inv.argv, workdir, inv.env, limits, active)
    except OSError as exc:  # the program itself could not be started
        return RunRecord(status="error", time=0.0, finished=now(),
                         error=f"cannot start {inv.argv[0]}: {exc}", **base)
    stats = dict(time=proc.wall, cpu_time=proc.cpu, peak_mb=proc.peak_mb,
                 returncode=proc.returncode)
    log = (workdir / "log.txt").read_text(errors="replace")
    if proc.killed:
        return RunRecord(status="timeout", finished=now(), error=(
            f"killed after {limits.time:g} s + {limits.grace:g} s grace"), **stats, **base)
    out = planner.interpret(proc.returncode, log, workdir)
    if out.status == "error" and limits.memory_mb and proc.peak_mb >= 0.95 * limits.memory_mb:
        out = type(out)("memory", None, out.expanded, out.error)
    if out.status != "plan" or out.plan_file is None:
        return RunRecord(status=out.status, finished=now(), expanded=out.expanded,
                         error=out.error, **stats, **base)
    verdict = validator.validate(str(task.domain_file), str(task.problem_file),
                                 str(out.plan_file), timeout=max(120.0, limits.time))
    status = {True: "solved", False: "invalid", None: "unvalidated"}[verdict.valid]
    return RunRecord(
        status=status, finished=now(), cost=verdict.cost if verdict.valid else None,
        expanded=out.expanded, error=None if verdict.valid else verdict.reason,
        plan_file=str(out.plan_file), **stats, **base,
    )


class Evaluation:
    """Every (planner, task) pair without a current result, run ``jobs`` at a time.

    Parameters
    ----------
    planners : sequence of Planner
    tasks : sequence of Task
    limits : Limits
    out_dir : Path
        Holds the results store and the runs' folders.
    store : ResultsStore
    jobs : int
        Runs at the same time (each with its own validator process).
    """

    def __init__(self, planners: Sequence[Planner], tasks: Sequence[Task], limits: Limits,
                 out_dir: Path, store: ResultsStore, jobs: int = 1) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.planners, self.tasks, self.limits = list(planners), list(tasks), limits
        self.out_dir, self.store, self.jobs = Path(out_dir), store, jobs
        self._local = threading.local()
        self._validators: list[ValidatorProcess] = []
        self._active = _Active()

    def pending(self) -> list[tuple[Planner, Task]]:
        """Pairs to run, task by task: no row yet, a row made with another setup (e.g. an
        edited heuristic file), or a planner that was unavailable then."""
        done = self.store.finished()
        todo = []
        for task in self.tasks:
            for planner in self.planners:
                if not planner.applies_to(task):
                    continue
                row = done.get((planner.label, task.key))
                if (row is None or row[0] == "unavailable"
                        or row[1] != planner.fingerprint(task)):
                    todo.append((planner, task))
        return todo

    def _validator(self) -> ValidatorProcess:
        v = getattr(self._local, "validator", None)
        if v is None:
            v = self._local.validator = ValidatorProcess()
            self._validators.append(v)
        return v

    def _one(self, planner: Planner, task: Task) -> RunRecord | None:
        if self._active.stopping:
            return None
        self.store.start_attempt(planner.label, task.key, planner.fingerprint(task))
        rec = run_once(planner, task, self.limits, work_dir(self.out_dir, planner, task),
                       self._validator(), self._active)
        if self._active.stopping:  # killed by the interruption, not by its limits
            return None
        self.store.record(rec)
        return rec

    def run(self, on_result: Callable[[RunRecord, int, int], None] | None = None) -> int:
        """Run what :meth:`pending` lists; returns how many runs were recorded.

        ``on_result(record, done, total)`` is called in the worker thread after each commit.
        On KeyboardInterrupt the running process groups are killed, nothing more is recorded,
        and the exception propagates; rerunning resumes.
        """
        todo = self.pending()
        total, done = len(todo), 0
        lock = threading.Lock()

        def work(planner: Planner, task: Task) -> None:
            nonlocal done
            rec = self._one(planner, task)
            if rec is None:
                return
            with lock:
                done += 1
                count = done
            if on_result is not None:
                on_result(rec, count, total)

        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="plan-eval")
        try:
            futures = [pool.submit(work, p, t) for p, t in todo]
            wait(futures)
            for f in futures:
                f.result()  # re-raise a bug in the runner itself
        except BaseException:
            self._active.kill_all()
            for v in self._validators:
                v.close()  # a worker waiting on a validation gets its answer (none) now
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            for v in self._validators:
                v.close()
        return done
