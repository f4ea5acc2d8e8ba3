"""What the store holds, as Python values: runs, evaluations, scores, lineage, LLM calls.

The store's rows come back as (and, for :class:`Evaluation` and :class:`LLMCall`, go in as)
these frozen dataclasses, which check their values on construction so that nothing invalid
reaches the database. The module also holds the vocabularies the schema relies on (splits,
evaluation and run statuses), the errors every store operation may raise, and
:func:`evaluation_context`, which builds the part of an evaluation's key that says how the
candidate was evaluated. It imports nothing from the rest of the store, so every other store
module may depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SPLITS = ("train", "validation", "test")
#: Evaluation outcomes. ``invalid``: rejected before running (static check, compilation);
#: ``memory``: exceeded its memory limit; ``crashed``: the process died.
STATUSES = ("ok", "error", "timeout", "crashed", "infeasible", "invalid", "memory")
RUN_STATUSES = ("running", "finished", "failed", "interrupted")


class StoreError(Exception):
    """A store that cannot be opened or used as asked; the message is meant for the user."""


class SchemaVersionError(StoreError):
    """The store was written by a newer (or unknown) version of ahd."""


class ReadOnlyStoreError(StoreError):
    """A write was attempted through a store opened read-only (as the viewers open it)."""


class NotFoundError(StoreError, KeyError):
    """No run or candidate with the given id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def evaluation_context(partners: Mapping[str, int | str] | None = None, **extra: Any) -> str:
    """The evaluation-key string that says *how* a candidate was evaluated.

    An evaluation is unique per ``(candidate, instance, split, context)``. The empty context
    means "the candidate in its usual setting" (alone in its role, run config defaults).
    Cooperative evaluations name the partner candidates filling the other roles, so the same
    destroy operator evaluated with two different repairs gets two records; ``extra`` adds
    anything else that changes the result (a seed, a time budget).

    Examples
    --------
    >>> evaluation_context({"repair": 12}, seed=3)
    'partners=repair:12;seed=3'
    """
    parts = []
    if partners:
        for role in partners:
            if not str(role).isidentifier():
                raise ValueError(f"partner role must be an identifier, got {role!r}")
        pairs = ",".join(f"{role}:{partners[role]}" for role in sorted(partners))
        parts.append(f"partners={pairs}")
    for key in sorted(extra):
        value = str(extra[key])
        if any(ch in value for ch in ";="):
            raise ValueError(f"context value of {key!r} must not contain ';' or '=': {value!r}")
        parts.append(f"{key}={value}")
    return ";".join(parts)


@dataclass(frozen=True)
class Run:
    """One search run: what was searched, with which configuration and software."""

    id: int
    created: str
    problem: str
    config: dict[str, Any]
    seed: int | None
    versions: dict[str, str]
    sandbox: list[Any]
    status: str


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one candidate on one instance.

    Parameters
    ----------
    candidate_id
        Store id of the candidate.
    instance
        Instance name.
    split
        ``train``, ``validation`` or ``test``.
    status
        One of :data:`STATUSES`; ``ok`` requires a finite objective.
    objective
        Lower is better (cost or gap); ``None`` when there is no valid solution.
    time
        Seconds the evaluation took.
    error
        Message of a failed evaluation (shown to the proposer).
    metrics
        Anything else worth keeping (iterations, gap to BKS ...), stored as JSON.
    context
        Evaluation key beyond candidate, instance and split; see :func:`evaluation_context`.
    id, created
        Set by the store.
    """

    candidate_id: int
    instance: str
    split: str
    status: str
    objective: float | None = None
    time: float | None = None
    error: str | None = None
    metrics: Mapping[str, Any] = field(default_factory=dict, hash=False)
    context: str = ""
    id: int | None = None
    created: str | None = None

    def __post_init__(self) -> None:
        if not self.instance:
            raise ValueError("Evaluation.instance must not be empty")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.objective is not None:
            object.__setattr__(self, "objective", float(self.objective))
            if not math.isfinite(self.objective):
                raise ValueError(f"objective must be finite or None, got {self.objective}")
        if self.status == "ok" and self.objective is None:
            raise ValueError("an 'ok' evaluation needs an objective")
        if self.time is not None and not (self.time >= 0.0):
            raise ValueError(f"time must be >= 0, got {self.time}")
        if not isinstance(self.context, str):
            raise TypeError("Evaluation.context must be a string")
        object.__setattr__(self, "metrics", dict(self.metrics))  # a copy; dicts pickle

    @property
    def key(self) -> tuple[int, str, str, str]:
        """The unique key: nothing is evaluated twice under it."""
        return (self.candidate_id, self.instance, self.split, self.context)


@dataclass(frozen=True)
class SplitScore:
    """How a candidate did on one split."""

    split: str
    mean_objective: float | None
    n_instances: int
    n_evaluations: int
    status_counts: dict[str, int]

    @property
    def all_ok(self) -> bool:
        """True when every evaluation of the split succeeded."""
        return self.status_counts.get("ok", 0) == self.n_evaluations


@dataclass(frozen=True)
class LeaderboardRow:
    """One line of the leaderboard; ``mean_objective`` averages the ``ok`` evaluations."""

    rank: int
    candidate_id: int
    roles: tuple[str, ...]
    generation: int
    proposer: str
    mean_objective: float | None
    n_instances: int
    n_evaluations: int
    status_counts: dict[str, int]


@dataclass(frozen=True)
class LineageNode:
    """One ancestor (or the candidate itself, at depth 0) in a lineage graph."""

    id: int
    parents: tuple[int, ...]
    generation: int
    roles: tuple[str, ...]
    proposer: str
    depth: int


@dataclass(frozen=True)
class LLMCall:
    """One request to a language model, for cost accounting and cache auditing."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency: float | None = None
    cached: bool = False
    status: str = "ok"
    error: str | None = None
    request_hash: str | None = None

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("LLMCall.model must not be empty")
        if self.prompt_tokens < 0 or self.completion_tokens < 0:
            raise ValueError("token counts must be >= 0")
        if not math.isfinite(self.cost) or self.cost < 0:
            raise ValueError(f"cost must be finite and >= 0, got {self.cost}")
        if self.latency is not None and not (self.latency >= 0.0):
            raise ValueError(f"latency must be >= 0, got {self.latency}")
        if not self.status:
            raise ValueError("LLMCall.status must not be empty")
