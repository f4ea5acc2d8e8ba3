"""One call for a whole evaluation: discover tasks, run what is missing, write the report.

This is what ``ahd plan-eval`` and ``benchmarks/ipc2023.sh`` call. The evaluation folder
holds the results store, the runs' plans and logs, and the report; calling :func:`evaluate`
again on the same folder resumes (see :mod:`.results`). A lock file keeps two evaluators from
working on one folder at the same time. With ``scheduler`` the runs execute on a dask cluster
(:mod:`.cluster_runner`); the store, the pending list and the report are the same, so one
folder may be continued either way.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .cluster_runner import ClusterEvaluation
from .planners_registry import Limits, Planner, parse_planner
from .report import Report
from .results import ResultsError, ResultsStore, RunRecord
from .runner import Evaluation
from .suite import Task, discover, reference_costs

__all__ = ["EvaluationResult", "default_out_dir", "evaluate", "report_from_store"]


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate` did and wrote."""

    report: Report
    files: dict[str, Path]
    ran: int
    tasks: list[Task]
    planners: list[Planner]
    out_dir: Path


def default_out_dir(suite: str | os.PathLike[str]) -> Path:
    """``SUITE/../plan-eval``: next to the suite, not inside it (a suite is input data)."""
    return Path(suite).resolve().parent / "plan-eval"


@contextmanager
def _locked(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ResultsError(f"{out_dir}: another evaluation is running there") from None
        yield


def _settings(suite: Path, limits: Limits) -> dict[str, object]:
    return {"suite": str(suite.resolve()), "time_limit_s": limits.time,
            "memory_limit_mb": limits.memory_mb, "grace_s": limits.grace}


def _notes(planners: Sequence[Planner], tasks: Sequence[Task],
           records: Sequence[RunRecord], on_cluster: bool) -> list[str]:
    """Planners that could not run (here, or on the cluster's workers, where it is theirs to
    say) and domains a planner has no configuration for."""
    notes = []
    for p in planners:
        if on_cluster:
            why = next((r.error for r in records
                        if r.planner == p.label and r.status == "unavailable"), None)
            where = "on the dask workers"
        else:
            why, where = p.unavailable(), "here"
        if why:
            notes.append(f"`{p.label}` is unavailable {where}: {why}")
        skipped = sorted({t.domain for t in tasks if not p.applies_to(t)})
        if skipped:
            notes.append(f"`{p.label}` has no configuration for {', '.join(skipped)} "
                         "(not run there)")
    return notes


def evaluate(
    suite: str | os.PathLike[str],
    planners: Sequence[str | Planner],
    limits: Limits,
    out_dir: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    splits: Iterable[str] | None = ("testing",),
    domains: Iterable[str] | None = None,
    tasks: Iterable[str] | None = None,
    invalid_zeroes_domain: bool = False,
    on_result: Callable[[RunRecord, int, int], None] | None = None,
    scheduler: str | None = None,
) -> EvaluationResult:
    """Run every planner on every selected task (what the store lacks) and write the report.

    Parameters
    ----------
    suite : path
        Suite folder, domain folder or pair list (see :func:`.suite.discover`).
    planners : sequence of str or Planner
        Specs such as ``ahd:hff``, ``fd:lama-first`` (see :mod:`.planners_registry`).
    limits : Limits
        Time, memory and grace per run.
    out_dir : path, optional
        The evaluation folder; default :func:`default_out_dir`.
    jobs : int
        Runs at the same time; with ``scheduler``, plans validated at the same time here.
    splits, domains, tasks
        Filters (see :func:`.suite.discover`).
    invalid_zeroes_domain : bool
        Score with the IPC rule for invalid plans.
    on_result : callable, optional
        Progress callback ``(record, done, total)``.
    scheduler : str, optional
        Run on a dask cluster: ``tcp://HOST:PORT`` or ``local:N`` (see
        :class:`.cluster_runner.ClusterEvaluation`).

    Raises
    ------
    SuiteError, PlannerSpecError, ResultsError
        Bad input, or a folder holding an evaluation with other settings.
    ahd.sandbox.ClusterError, ahd.sandbox.ClusterLost
        The scheduler cannot be reached or went away (rerunning resumes).
    """
    suite_path = Path(suite)
    out = (Path(out_dir) if out_dir is not None else default_out_dir(suite_path)).resolve()
    selected = discover(suite_path, splits=splits, domains=domains, tasks=tasks)
    objs = [p if isinstance(p, Planner) else parse_planner(p) for p in planners]
    labels = [p.label for p in objs]
    if len(set(labels)) != len(labels):
        raise ResultsError("two planners share a label; name them with LABEL=KIND:CONFIG")
    with _locked(out), ResultsStore.in_dir(out) as store:
        store.check_settings(_settings(suite_path, limits))
        store.register_planners({p.label: p.spec for p in objs})
        if scheduler is None:
            runner = Evaluation(objs, selected, limits, out, store, jobs=jobs)
        else:
            runner = ClusterEvaluation(objs, selected, limits, out, store, scheduler, jobs=jobs)
        ran = runner.run(on_result)
        keys = {t.key for t in selected}
        records = [r for r in store.records() if r.planner in labels and r.task in keys]
    report = Report(
        records, {p.label: p.spec for p in objs}, limits.time, tasks=selected,
        reference=reference_costs(suite_path),
        settings={"suite": suite_path.resolve(), "time": f"{limits.time:g} s",
                  "memory": "none" if limits.memory_mb is None else f"{limits.memory_mb:g} MiB",
                  "grace": f"{limits.grace:g} s", "jobs": jobs,
                  **({} if scheduler is None else {"scheduler": scheduler})},
        invalid_zeroes_domain=invalid_zeroes_domain,
        notes=_notes(objs, selected, records, on_cluster=scheduler is not None),
    )
    return EvaluationResult(report, report.write(out), ran, selected, objs, out)


def report_from_store(out_dir: str | os.PathLike[str],
                      invalid_zeroes_domain: bool = False) -> tuple[Report, dict[str, Path]]:
    """Rewrite the report of an evaluation folder from its store alone (all its rows)."""
    out = Path(out_dir)
    with ResultsStore.in_dir(out, readonly=True) as store:
        settings = store.settings()
        records = store.records()
        planners = store.planners()
    if not settings:
        raise ResultsError(f"{out}: the evaluation has not started a run yet")
    suite = Path(str(settings["suite"]))
    report = Report(
        records, planners, float(settings["time_limit_s"]),
        reference=reference_costs(suite) if suite.exists() else {},
        settings={k: v for k, v in settings.items()},
        invalid_zeroes_domain=invalid_zeroes_domain,
    )
    return report, report.write(out)
