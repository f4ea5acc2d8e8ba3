"""One run in two steps: *execute* the planner (anywhere) and *judge* its plan (in the parent).

The steps are apart because they may run on different machines: with ``--scheduler`` a dask
worker executes (:mod:`.remote`) and the evaluating process judges, so the worker's word is
never taken for a plan's validity or cost; locally (:mod:`.runner`) one thread does both.

:func:`execute` starts the planner under the limits (:mod:`.process`) and reads its end with
the planner's own :meth:`~.planner_base.Planner.interpret`; :func:`judge` validates a plan with
unified-planning in a validator process (:mod:`.validator`) and builds the stored record.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .planner_base import Limits, Planner
from .process import ActiveRuns, spawn
from .results import RunRecord, now
from .suite import Task
from .validator import ValidatorProcess

__all__ = ["Execution", "execute", "judge"]


@dataclass(frozen=True)
class Execution:
    """A finished planner run before its plan is validated.

    Attributes
    ----------
    status : str
        ``plan`` (a plan to validate), ``unsolvable``, ``unsolved``, ``timeout``, ``memory``,
        ``error`` or ``unavailable``.
    time, cpu_time, peak_mb, returncode
        As measured by :func:`.process.spawn` (``time`` 0 and the others None when no process
        ran).
    expanded : int or None
        Expansions, when the planner reports them.
    error : str or None
        Why it failed.
    plan_file : Path or None
        The plan of a ``plan`` run, where the executing machine wrote it.
    """

    status: str
    time: float = 0.0
    cpu_time: float | None = None
    peak_mb: float | None = None
    returncode: int | None = None
    expanded: int | None = None
    error: str | None = None
    plan_file: Path | None = None


def execute(planner: Planner, task: Task, limits: Limits, workdir: Path,
            active: ActiveRuns | None = None) -> Execution:
    """Run ``planner`` on ``task`` in ``workdir`` under ``limits``; nothing is validated.

    ``workdir`` is emptied first, so no plan of an earlier attempt is mistaken for this one's;
    the planner's output is left in ``workdir/log.txt``. ``active`` registers the process group
    for an interruption.
    """
    missing = planner.unavailable()
    if missing is not None:
        return Execution("unavailable", error=missing)
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    inv = planner.invocation(task, workdir, limits, time.time() + limits.time)
    try:
        proc = spawn(inv.argv, workdir, inv.env, limits, active)
    except OSError as exc:  # the program itself could not be started
        return Execution("error", error=f"cannot start {inv.argv[0]}: {exc}")
    stats = dict(time=proc.wall, cpu_time=proc.cpu, peak_mb=proc.peak_mb,
                 returncode=proc.returncode)
    if proc.killed:
        return Execution("timeout", error=(
            f"killed after {limits.time:g} s + {limits.grace:g} s grace"), **stats)
    log = (workdir / "log.txt").read_text(errors="replace")
    out = planner.interpret(proc.returncode, log, workdir)
    status, error = out.status, out.error
    if status == "error" and limits.memory_mb and proc.peak_mb >= 0.95 * limits.memory_mb:
        status = "memory"
    if status == "plan" and (out.plan_file is None or not out.plan_file.is_file()):
        status, error = "error", "the planner reported a plan but wrote no plan file"
    return Execution(status, expanded=out.expanded, error=error,
                     plan_file=out.plan_file if status == "plan" else None, **stats)


def judge(planner: Planner, task: Task, limits: Limits, run: Execution, plan_file: Path | None,
          validator: ValidatorProcess, started: str, fingerprint: str | None = None
          ) -> RunRecord:
    """The record of an executed run, its plan checked against this machine's task files.

    Parameters
    ----------
    planner, task, limits
        What ran under which limits.
    run : Execution
        What the planner did (here or on a worker).
    plan_file : Path or None
        The plan, as a file on this machine (a worker's plan is written here first).
    validator : ValidatorProcess
        Checks the plan: ``solved`` only for a plan it accepts, with its cost.
    started : str
        When the run started (a :func:`.results.now` timestamp).
    fingerprint : str, optional
        The planner setup the run used (default: ``planner.fingerprint(task)`` now).
    """
    base = dict(planner=planner.label, task=task.key, domain=task.domain, split=task.split,
                fingerprint=fingerprint or planner.fingerprint(task), started=started,
                time=run.time, cpu_time=run.cpu_time, peak_mb=run.peak_mb,
                returncode=run.returncode, expanded=run.expanded)
    if run.status != "plan" or plan_file is None:
        status = run.status if run.status != "plan" else "error"
        return RunRecord(status=status, finished=now(), error=run.error or (
            "no plan came back" if run.status == "plan" else None), **base)
    verdict = validator.validate(str(task.domain_file), str(task.problem_file), str(plan_file),
                                 timeout=max(120.0, limits.time))
    status = {True: "solved", False: "invalid", None: "unvalidated"}[verdict.valid]
    return RunRecord(status=status, finished=now(), cost=verdict.cost if verdict.valid else None,
                     error=None if verdict.valid else verdict.reason, plan_file=str(plan_file),
                     **base)
