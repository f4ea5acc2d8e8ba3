"""Competition scores: coverage, IPC quality and IPC agile, per run and per group.

Definitions (IPC 2023, learning track, with the evaluation's own time limit ``L``):

- coverage: 1 for a solved task (a valid plan within the limits), else 0;
- quality: ``C* / C`` for a solved task with plan cost ``C``, where ``C*`` is the best known
  cost: the smaller of the suite's reference cost (``upper_bounds.json``) and the best cost any
  planner found in this evaluation (so a plan better than the reference scores 1, not more);
  a zero-cost plan scores 1;
- agile: 1 for a solved task with ``T <= 1`` s, ``1 - log T / log L`` up to ``L``, 0 beyond.

An invalid plan scores 0 on its task. The IPC rule that an invalid plan zeroes the planner's
whole domain is available as ``invalid_zeroes_domain``: it is how the competition punished
unsound planners, but it hides how a heuristic did on the rest of the domain, so it is not the
default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .results import RunRecord

__all__ = [
    "GroupScore",
    "TaskScore",
    "agile_score",
    "best_known_costs",
    "quality_score",
    "score_runs",
    "summarize",
]


def agile_score(seconds: float, time_limit: float) -> float:
    """IPC agile score of a task solved in ``seconds`` under ``time_limit``."""
    if seconds <= 1.0:
        return 1.0
    if time_limit <= 1.0 or seconds >= time_limit:
        return 0.0
    return 1.0 - math.log(seconds) / math.log(time_limit)


def quality_score(cost: float, best: float) -> float:
    """IPC quality score ``best / cost`` (1 when both are zero; capped at 1)."""
    if cost <= 0:
        return 1.0
    return min(1.0, max(0.0, best) / cost)


def best_known_costs(records: Iterable[RunRecord],
                     reference: Mapping[str, float] | None = None) -> dict[str, float]:
    """``task -> C*``: the reference cost, lowered by any better plan found here."""
    best = dict(reference or {})
    for rec in records:
        if rec.solved and rec.cost is not None:
            best[rec.task] = min(best.get(rec.task, math.inf), rec.cost)
    return best


@dataclass(frozen=True)
class TaskScore:
    """Scores of one run."""

    planner: str
    task: str
    domain: str
    split: str
    solved: bool
    quality: float
    agile: float


def score_runs(records: Sequence[RunRecord], time_limit: float,
               reference: Mapping[str, float] | None = None,
               invalid_zeroes_domain: bool = False) -> list[TaskScore]:
    """One :class:`TaskScore` per record (see the module documentation).

    Parameters
    ----------
    records : sequence of RunRecord
        Every run of the evaluation (the best known costs come from all of them).
    time_limit : float
        The evaluation's time limit ``L`` in seconds.
    reference : mapping of str to float, optional
        Reference costs by task key.
    invalid_zeroes_domain : bool
        Apply the IPC rule: any invalid plan scores the planner 0 on its whole domain.
    """
    best = best_known_costs(records, reference)
    cheated = {(r.planner, r.domain) for r in records if r.status == "invalid"}
    out = []
    for rec in records:
        ok = rec.solved and rec.cost is not None
        if invalid_zeroes_domain and (rec.planner, rec.domain) in cheated:
            ok = False
        out.append(TaskScore(
            rec.planner, rec.task, rec.domain, rec.split, ok,
            quality_score(rec.cost, best[rec.task]) if ok else 0.0,
            agile_score(rec.time, time_limit) if ok else 0.0,
        ))
    return out


@dataclass(frozen=True)
class GroupScore:
    """Sums over the runs of one planner in one group (a domain and split, or a total)."""

    planner: str
    domain: str
    split: str
    runs: int
    solved: int
    quality: float
    agile: float


def summarize(scores: Iterable[TaskScore], by_split: bool = True) -> list[GroupScore]:
    """Sums per (planner, domain, split), or per (planner, domain) with ``by_split=False``;
    ``domain == "total"`` rows add each planner's grand totals."""
    groups: dict[tuple[str, str, str], list[TaskScore]] = {}
    for s in scores:
        key = (s.planner, s.domain, s.split if by_split else "all")
        groups.setdefault(key, []).append(s)
        groups.setdefault((s.planner, "total", "all"), []).append(s)
    return [
        GroupScore(p, d, sp, len(items), sum(i.solved for i in items),
                   sum(i.quality for i in items), sum(i.agile for i in items))
        for (p, d, sp), items in groups.items()
    ]
