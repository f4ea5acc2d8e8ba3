"""What a run report shows, as plain records: built by :mod:`ahd.report.data`, drawn by
:mod:`ahd.report.html` and :mod:`ahd.report.plots`.

Keeping the numbers in records of their own (rather than querying while rendering) lets the
HTML page and the PNG files show exactly the same data, and lets tests compare the records with
the store without parsing HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ahd.store import LineageNode


class ReportError(Exception):
    """A run directory that cannot be reported on; the message is one line for the user."""


@dataclass(frozen=True)
class RunStatus:
    """Whether the run is going on.

    Parameters
    ----------
    state
        ``finished``, ``running``, ``killed``, ``interrupted``, ``failed`` or ``unknown``.
    detail
        One sentence saying how that was decided (the store's status, the process holding the
        store open, a missing summary).
    """

    state: str
    detail: str


@dataclass(frozen=True)
class RoundPoint:
    """One scored team (a snapshot): where the search stood after a round.

    ``evaluations``, ``calls``, ``tokens`` and ``cost`` are cumulative up to the moment the
    round's team was scored, so they can serve as the x axis of convergence plots.
    """

    round: int
    fitness: float
    best: float
    validation: float | None
    evaluations: int
    calls: int
    tokens: int
    cost: float
    members: dict[str, list[int]]


@dataclass(frozen=True)
class Team:
    """The team whose routes, lineage and membership the report highlights.

    ``label`` says which it is: the validated winner of a finished run or, while no winner
    exists yet, the best team on the training instances so far.
    """

    label: str
    round: int
    members: dict[str, list[int]]
    train: float
    validation: float | None
    exported: str | None = None

    @property
    def ids(self) -> set[int]:
        """Every member's candidate id."""
        return {cid for ids in self.members.values() for cid in ids}


@dataclass(frozen=True)
class Operator:
    """A candidate as the report lists it: leaderboard numbers, credit and code."""

    id: int
    roles: tuple[str, ...]
    generation: int
    proposer: str
    strategy: str
    model: str
    parents: tuple[int, ...]
    source: str
    rank: int | None = None
    mean_objective: float | None = None
    n_instances: int = 0
    n_evaluations: int = 0
    status_counts: dict[str, int] = field(default_factory=dict)
    credit: float | None = None
    uses: float | None = None
    in_team: bool = False
    in_population: bool = False


@dataclass(frozen=True)
class Membership:
    """The training rounds in which a candidate was a member of the scored team, per role."""

    candidate_id: int
    role: str
    rounds: tuple[int, ...]


@dataclass(frozen=True)
class LLMCallPoint:
    """One recorded LLM request, timed in seconds since the run was created.

    Tokens and cost are what this request spent: zero for an answer from the cache, whose
    cost was spent when it was first made (as :meth:`ahd.store.Store.llm_totals` counts).
    """

    seconds: float
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    latency: float | None
    cached: bool
    status: str


@dataclass(frozen=True)
class FailureExample:
    """One failed evaluation with its (clipped) error message."""

    candidate_id: int
    stage: str
    status: str
    error: str


@dataclass(frozen=True)
class Failures:
    """Failures by kind (the loop's counters) and by evaluation status (the store's records).

    ``statuses`` maps stage (``smoke``, ``team``, ``validation``) to status to the number of
    runs; a team run counts once, however many members it had.
    """

    kinds: dict[str, int]
    statuses: dict[str, dict[str, int]]
    examples: list[FailureExample]

    @property
    def total(self) -> int:
        """Failed proposals and runs, all kinds together (``ok`` runs excluded)."""
        runs = sum(n for by in self.statuses.values() for s, n in by.items() if s != "ok")
        return sum(self.kinds.values()) + runs


@dataclass(frozen=True)
class Routes:
    """The team's solution of one validation instance, with the coordinates to draw it."""

    instance: str
    kind: str
    team: str
    coords: list[tuple[float, float]] = field(default_factory=list)
    routes: list[list[int]] = field(default_factory=list)
    cost: float | None = None
    stored: float | None = None
    error: str | None = None
    #: Routes end at their last customer (no arc back to the depot is drawn).
    open_routes: bool = False


@dataclass(frozen=True)
class Coverage:
    """Planning: how many evaluations on one task found a plan."""

    split: str
    instance: str
    solved: int
    total: int


@dataclass
class RunReport:
    """Everything the report shows about one run directory (see :func:`collect_run`)."""

    run_dir: Path
    status: RunStatus
    run_id: int
    problem: str
    created: str
    config: dict[str, Any]
    versions: dict[str, str]
    round: int
    spent: dict[str, Any]
    stop: str | None
    seed_train: float | None
    seed_validation: float | None
    team: Team | None
    rounds: list[RoundPoint]
    rounds_source: str
    operators: list[Operator]
    lineage: list[LineageNode]
    membership: list[Membership]
    llm_calls: list[LLMCallPoint]
    llm_totals: dict[str, float]
    failures: Failures
    routes: Routes | None
    coverage: list[Coverage] | None
    notes: list[str] = field(default_factory=list)
    #: The winner's paired gain over the seed team on validation and its standard error (%).
    validation_gain: tuple[float, float] | None = None
    #: Whether the problem's plugin draws a team's solution (routing draws routes).
    draws_solutions: bool = True

    @property
    def leaderboard(self) -> list[Operator]:
        """The ranked operators, best first."""
        return sorted((op for op in self.operators if op.rank is not None),
                      key=lambda op: op.rank)

    def operator(self, candidate_id: int) -> Operator | None:
        """The listed operator with this id, if any."""
        return next((op for op in self.operators if op.id == candidate_id), None)
