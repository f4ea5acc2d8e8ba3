"""Run (planner, task) pairs on this machine, ``jobs`` at a time, one process each; resumable.

Each run is started, limited and measured by :mod:`.process` and its plan validated by
unified-planning in a separate validator process before the run counts as solved
(:mod:`.execution`); the row is committed at once (:mod:`.results`). With ``--scheduler`` the
runs execute on dask workers instead (:mod:`.cluster_runner`), with the same pending list,
validation and store.

Runs are ordered task by task (every planner on task 1, then task 2, ...), so an interrupted
evaluation has comparable partial results for all planners, and the validator meets the same
task several times in a row (it caches parsed tasks).
"""

from __future__ import annotations

import hashlib
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

from .execution import execute, judge
from .planners_registry import Limits, Planner
from .process import ActiveRuns
from .results import ResultsStore, RunRecord, now
from .suite import Task
from .validator import ValidatorProcess, ValidatorSlots

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


def work_dir(out_dir: Path, planner: Planner, task: Task) -> Path:
    """``OUT/runs/<planner slug>/<task key without .pddl>``: the run's plan and log."""
    slug = re.sub(r"[^\w.+-]+", "_", planner.label).strip("_")[:60]
    tag = hashlib.sha1(planner.label.encode()).hexdigest()[:6]
    key = task.key[:-5] if task.key.endswith(".pddl") else task.key
    return out_dir / "runs" / f"{slug}-{tag}" / key.lstrip("/")


def run_once(planner: Planner, task: Task, limits: Limits, workdir: Path,
             validator: ValidatorProcess, active: ActiveRuns | None = None) -> RunRecord:
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
    run = execute(planner, task, limits, workdir, active)
    return judge(planner, task, limits, run, run.plan_file, validator, started)


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
        self.validators = ValidatorSlots()
        self._active = ActiveRuns()

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

    def _one(self, planner: Planner, task: Task) -> RunRecord | None:
        if self._active.stopping:
            return None
        self.store.start_attempt(planner.label, task.key, planner.fingerprint(task))
        rec = run_once(planner, task, self.limits, work_dir(self.out_dir, planner, task),
                       self.validators.get(), self._active)
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
        for planner in dict.fromkeys(p for p, _ in todo):  # each once, in order
            warning = planner.prepare()
            if warning is not None:
                print(f"warning: {planner.label}: {warning}", file=sys.stderr, flush=True)
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
            self.validators.close()  # a worker waiting on a validation gets its answer now
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            self.validators.close()
        return done
